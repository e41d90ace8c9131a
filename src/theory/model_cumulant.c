/* model_cumulant.c — the covariance and fourth cumulant of any data model on a ring:
 * exact where hoclab knows them in closed form (the periodic erf / sign NLGP and its
 * Gaussian clone), estimated from samples otherwise. One entry point, so that the
 * theory commands treat every model alike and say which of the two they used. */
#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <stdlib.h>
#include <string.h>

/* A periodic ring of L sites: the model has dim = 1, L = D and no open boundary. */
static int ring_of(const hl_param_values *v, size_t D, int *L)
{
    const hl_model *m = v->model;
    if (hl_model_param_index(m, "dim") < 0 || hl_model_param_index(m, "L") < 0)
        return hl_error_set(HL_EINVAL, "cumulant of %s: the model has no ring geometry (it "
                            "needs parameters dim = 1 and L)", m->name);
    *L = hl_param_int(v, "L");
    if (hl_param_int(v, "dim") != 1 || (size_t)*L != D)
        return hl_error_set(HL_EINVAL, "cumulant of %s: dim = %d: accepted is dim = 1 (a "
                            "ring of L sites; tori are not supported)", m->name,
                            hl_param_int(v, "dim"));
    int b = hl_model_param_index(m, "boundary");
    if (b >= 0) {
        char word[32];
        hl_param_format(v, b, word, sizeof word);
        if (strcmp(word, "periodic") != 0)
            return hl_error_set(HL_EINVAL, "cumulant of %s: boundary = %s: accepted is "
                                "boundary = periodic (translation invariance on the ring)",
                                m->name, word);
    }
    if (*L < 2 || *L > HL_CUMULANT4_MAX_L)
        return hl_error_set(HL_EINVAL, "cumulant of %s: L = %d: accepted range is 2..%d",
                            m->name, *L, HL_CUMULANT4_MAX_L);
    return HL_OK;
}

int hl_cumulant4_model(const hl_param_values *v, size_t n_samples, uint64_t seed,
                       hl_cumulant4 **out, int *exact)
{
    if (out)
        *out = NULL;
    if (!v || !v->model || !out || !exact)
        return hl_error_set(HL_EINVAL, "cumulant of a model: v, out and exact must be given");
    int rc, L = 0;
    hl_nlgp_params np;
    const char *name = v->model->name;
    int is_nlgp = strcmp(name, "nlgp") == 0 || strcmp(name, "gp") == 0;
    if (is_nlgp && (rc = hl_nlgp_params_from(v, &np)))
        return rc;
    *exact = n_samples == 0;
    if (*exact && !(is_nlgp && np.dim == 1 && np.boundary == HL_BOUNDARY_PERIODIC &&
                    (np.nonlin == HL_NONLIN_ERF || np.nonlin == HL_NONLIN_SIGN)))
        return hl_error_set(HL_EINVAL, "cumulant of %s: no exact cumulant for this model "
                            "(only the periodic erf or sign nlgp / gp on a ring): give a "
                            "number of samples >= 2 to estimate it", name);
    if (!*exact && n_samples < 2)
        return hl_error_set(HL_EINVAL, "cumulant of %s: n_samples = %zu: accepted is 0 "
                            "(exact) or >= 2", name, n_samples);
    hl_sampler *s = v->model->create(v);
    if (!s)
        return HL_EINVAL;
    size_t D = hl_sampler_dim(s);
    if ((rc = ring_of(v, D, &L))) {
        hl_sampler_free(s);
        return rc;
    }
    hl_cumulant4 *c = hl_cumulant4_alloc(L);
    if (!c) {
        hl_sampler_free(s);
        return HL_ENOMEM;
    }
    if (*exact) {
        rc = hl_nlgp_cumulant4_exact(&np, c);
    } else {
        float *X = malloc(sizeof(float) * n_samples * (size_t)L);
        gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER + 7);
        if (!X || !r)
            rc = hl_error_set(HL_ENOMEM, "cumulant of %s: cannot hold %zu samples of L = %d",
                              name, n_samples, L);
        else if (!(rc = hl_sampler_sample(s, n_samples, X, r)))
            rc = hl_cumulant4_estimate(X, n_samples, c);
        free(X);
        hl_rng_free(r);
    }
    hl_sampler_free(s);
    if (rc)
        hl_cumulant4_free(c);
    else
        *out = c;
    return rc;
}
