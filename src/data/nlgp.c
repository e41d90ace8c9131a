/* nlgp.c — the non-linear Gaussian process (NLGP) and its Gaussian clone.
 *
 * Both are translation invariant on a ring or torus, so both are drawn by the FFT
 * engine of field.c: the NLGP draws its latent field and passes it through
 * erf(a z) / Z (vectorised); the clone draws a Gaussian field with the NLGP's exact
 * covariance. */
#include "sampler_impl.h"
#include "hoclab/error.h"

#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_erf.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
    hl_sampler base;
    hl_nlgp_params p;
    float a, inv_Z;         /* x = erf(a z) * inv_Z (NLGP only) */
    hl_field field;         /* the latent field (NLGP) or the clone's field */
} nlgp;

double hl_nlgp_kernel(double d, double xi, int p)
{
    return exp(-pow(d / xi, p));
}

double hl_nlgp_slope(double gain, hl_gain_convention c)
{
    return c == HL_GAIN_AUTHORS ? gain / M_SQRT2 : gain;
}

double hl_nlgp_Z(double gain, hl_gain_convention c)
{
    double a = hl_nlgp_slope(gain, c), a2 = 2 * a * a;
    return sqrt(M_2_PI * asin(a2 / (1 + a2)));
}

int hl_nlgp_validate(const hl_nlgp_params *p)
{
    if (p->dim != 1 && p->dim != 2)
        return hl_error_set(HL_EINVAL, "dim = %d: accepted values are 1 and 2", p->dim);
    if (p->L < 2 || p->L > (p->dim == 1 ? 1 << 20 : 4096))
        return hl_error_set(HL_EINVAL, "L = %d: accepted range is 2..%d for dim %d", p->L,
                            p->dim == 1 ? 1 << 20 : 4096, p->dim);
    if (!(p->xi > 0) || !isfinite(p->xi))
        return hl_error_set(HL_EINVAL, "xi = %g: accepted range is xi > 0 (pixels)", p->xi);
    if (p->p != 1 && p->p != 2)
        return hl_error_set(HL_EINVAL, "kernel exponent p = %d: accepted values are 1 and 2",
                            p->p);
    if (!(p->gain >= 0) || !isfinite(p->gain))
        return hl_error_set(HL_EINVAL, "gain = %g: accepted range is gain >= 0", p->gain);
    if (p->convention != HL_GAIN_SEEDS && p->convention != HL_GAIN_AUTHORS)
        return hl_error_set(HL_EINVAL, "unknown gain convention %d", (int)p->convention);
    return HL_OK;
}

/* Periodic distance on a ring of L sites. */
static double ring_distance(int i, int L)
{
    int d = abs(i) % L;
    return d < L - d ? d : L - d;
}

/* Latent covariance C_0j (kernel of the periodic distance, separable in 2D). */
static void latent_row(const hl_nlgp_params *p, double *row)
{
    int L = p->L;
    if (p->dim == 1) {
        for (int j = 0; j < L; j++)
            row[j] = hl_nlgp_kernel(ring_distance(j, L), p->xi, p->p);
        return;
    }
    for (int r = 0; r < L; r++)
        for (int c = 0; c < L; c++)
            row[r * L + c] = hl_nlgp_kernel(ring_distance(r, L), p->xi, p->p) *
                             hl_nlgp_kernel(ring_distance(c, L), p->xi, p->p);
}

int hl_nlgp_covariance_row(const hl_nlgp_params *p, double *row)
{
    int rc = hl_nlgp_validate(p);
    if (rc)
        return rc;
    latent_row(p, row);
    double a = hl_nlgp_slope(p->gain, p->convention);
    if (a == 0)
        return HL_OK; /* the Gaussian limit: x = z */
    double a2 = 2 * a * a, Z = hl_nlgp_Z(p->gain, p->convention);
    size_t D = p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L;
    for (size_t j = 0; j < D; j++)
        row[j] = M_2_PI / (Z * Z) * asin(a2 * row[j] / (1 + a2));
    return HL_OK;
}

/* erf(a z)^4 phi(z): the integrand of <erf(a z)^4>. */
static double erf4_density(double z, void *params)
{
    double a = *(const double *)params, e = gsl_sf_erf(a * z);
    return e * e * e * e * exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

int hl_nlgp_marginal_kurtosis(double gain, hl_gain_convention c, double *kurtosis)
{
    double a = hl_nlgp_slope(gain, c);
    if (!(a >= 0) || !isfinite(a))
        return hl_error_set(HL_EINVAL, "gain = %g: accepted range is gain >= 0", gain);
    if (a == 0) {
        *kurtosis = 0;
        return HL_OK;
    }
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    if (!w)
        return hl_error_set(HL_ENOMEM, "cannot allocate a quadrature workspace");
    gsl_function f = {erf4_density, &a};
    double m4, err;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_integration_qagi(&f, 0, 1e-12, 1000, w, &m4, &err);
    gsl_set_error_handler(old);
    gsl_integration_workspace_free(w);
    if (st)
        return hl_error_set(HL_ENUMERIC, "quadrature of <erf(a z)^4> failed: %s",
                            gsl_strerror(st));
    double Z = hl_nlgp_Z(gain, c);
    *kurtosis = m4 / (Z * Z * Z * Z) - 3;
    return HL_OK;
}

static int nlgp_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    nlgp *s = (nlgp *)base;
    hl_field_draw(&s->field, n, out, rng);
    if (!s->p.clone && s->a > 0)
        hl_vec_erf(out, n * base->D, s->a, s->inv_Z);
    return HL_OK;
}

static void nlgp_destroy(hl_sampler *base)
{
    hl_field_free(&((nlgp *)base)->field);
    free(base);
}

static const hl_sampler_ops nlgp_ops = {"nlgp", nlgp_sample, nlgp_destroy, 1};

hl_sampler *hl_nlgp_alloc(const hl_nlgp_params *p)
{
    if (hl_nlgp_validate(p))
        return NULL;
    size_t D = p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L;
    nlgp *s = calloc(1, sizeof *s);
    double *row = malloc(sizeof(double) * D);
    if (!s || !row) {
        free(s);
        free(row);
        hl_error_set(HL_ENOMEM, "cannot allocate an NLGP sampler with D = %zu", D);
        return NULL;
    }
    s->base.ops = &nlgp_ops;
    s->base.D = D;
    s->p = *p;
    s->a = (float)hl_nlgp_slope(p->gain, p->convention);
    s->inv_Z = s->a > 0 ? (float)(1 / hl_nlgp_Z(p->gain, p->convention)) : 1.0f;
    /* The NLGP draws its latent field; the clone draws with the NLGP covariance. */
    if (p->clone)
        hl_nlgp_covariance_row(p, row);
    else
        latent_row(p, row);
    int rc = hl_field_init(&s->field, p->dim, p->L, row);
    free(row);
    if (rc) {
        free(s);
        return NULL;
    }
    return &s->base;
}

void hl_nlgp_clipping(const hl_sampler *base, int *n_clipped, double *clipped_fraction)
{
    const nlgp *s = (const nlgp *)base;
    if (base->ops != &nlgp_ops) {
        hl_circulant_clipping(base, n_clipped, clipped_fraction);
        return;
    }
    *n_clipped = s->field.n_clipped;
    *clipped_fraction = s->field.clipped_fraction;
}

/* ---- Registry entries: "nlgp" and its clone "gp" ----------------------------------- */

static const hl_param_spec nlgp_params[] = {
    {"dim", HL_PARAM_INT, "1", 1, 2, NULL, "1: ring of L sites; 2: L x L torus"},
    {"L", HL_PARAM_INT, "100", 2, 1 << 20, NULL, "sites per side (dim 2: at most 4096)"},
    {"xi", HL_PARAM_REAL, "2", 1e-6, 1e9, NULL, "correlation length of the latent, pixels"},
    {"p", HL_PARAM_INT, "2", 1, 2, NULL, "kernel exp(-(d/xi)^p)"},
    {"gain", HL_PARAM_REAL, "10", 0, 1e6, NULL, "g: 0 is Gaussian, large g a sign field"},
    {"convention", HL_PARAM_CHOICE, "seeds", 0, 0, "seeds|authors",
     "erf(g z) (seeds) or erf(g z / sqrt 2) (the authors' code)"},
};

static hl_nlgp_params nlgp_from(const hl_param_values *v, int clone)
{
    hl_nlgp_params p = {hl_param_int(v, "dim"), hl_param_int(v, "L"), hl_param_num(v, "xi"),
                        hl_param_int(v, "p"), hl_param_num(v, "gain"),
                        (hl_gain_convention)hl_param_int(v, "convention"), clone};
    return p;
}

static hl_sampler *nlgp_create(const hl_param_values *v)
{
    hl_nlgp_params p = nlgp_from(v, 0);
    return hl_nlgp_alloc(&p);
}

static hl_sampler *gp_create(const hl_param_values *v)
{
    hl_nlgp_params p = nlgp_from(v, 1);
    return hl_nlgp_alloc(&p);
}

const hl_model hl_model_nlgp = {
    "nlgp", "non-linear Gaussian process erf(g z)/Z of a translation-invariant latent z",
    nlgp_params, sizeof nlgp_params / sizeof *nlgp_params, nlgp_create};

const hl_model hl_model_gp = {
    "gp", "Gaussian clone of the NLGP: a Gaussian field with the NLGP's covariance",
    nlgp_params, sizeof nlgp_params / sizeof *nlgp_params, gp_create};
