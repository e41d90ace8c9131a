/* elliptical.c — translation-invariant elliptical fields: a Gaussian field times a
 * random scale.
 *
 * x = s z, z the Gaussian field with kernel exp(-(d/xi)^p) (the NLGP's latent), s > 0
 * one scale per sample, independent of z, with E s^2 = 1. The covariance is z's, and
 * the fourth cumulant is
 *     kappa_ijkl = Var(s^2) (C_ij C_kl + C_ik C_jl + C_il C_jk),
 * built from the covariance alone: it has no local structure of its own, which is why
 * elliptical data are the control that does not localise in Lufkin, Saxe & Grant
 * (2024). The marginal excess kurtosis is 3 Var(s^2) / (E s^2)^2. Two mixing laws:
 *   gamma     s^2 = chi2_nu / nu          Var(s^2) = 2 / nu         (any nu > 0)
 *   invgamma  s^2 = (nu - 2) / chi2_nu    Var(s^2) = 2 / (nu - 4)   (nu > 4; x is the
 *                                         multivariate t with nu degrees of freedom)
 * Draws: the n fields first (one batch of the FFT engine), then n scales. */
#include "sampler_impl.h"
#include "hoclab/error.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
    hl_sampler base;
    hl_elliptical_params p;
    hl_field field;
} elliptical;

int hl_elliptical_kurtosis(hl_mixing mixing, double nu, double *kurtosis)
{
    if (mixing == HL_MIX_GAMMA && nu > 0 && isfinite(nu)) {
        *kurtosis = 6 / nu;
        return HL_OK;
    }
    if (mixing == HL_MIX_INVGAMMA && nu > 4 && isfinite(nu)) {
        *kurtosis = 6 / (nu - 4);
        return HL_OK;
    }
    if (mixing != HL_MIX_GAMMA && mixing != HL_MIX_INVGAMMA)
        return hl_error_set(HL_EINVAL, "unknown mixing law %d", (int)mixing);
    return hl_error_set(HL_EINVAL, "nu = %g: accepted range is nu > %d for mixing %s", nu,
                        mixing == HL_MIX_GAMMA ? 0 : 4,
                        mixing == HL_MIX_GAMMA ? "gamma" : "invgamma (finite kurtosis)");
}

int hl_elliptical_validate(const hl_elliptical_params *p)
{
    int rc = hl_kernel_row(p->dim, p->L, p->xi, p->p, NULL); /* checks only, with NULL */
    double k;
    if (!rc)
        rc = hl_elliptical_kurtosis(p->mixing, p->nu, &k);
    if (!rc && p->clone != 0 && p->clone != 1)
        rc = hl_error_set(HL_EINVAL, "clone = %d: accepted values are 0 and 1", p->clone);
    return rc;
}

static int elliptical_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    elliptical *s = (elliptical *)base;
    size_t D = base->D;
    hl_field_draw(&s->field, n, out, rng);
    if (s->p.clone)
        return HL_OK;
    double nu = s->p.nu;
    for (size_t m = 0; m < n; m++) {
        double chi2 = gsl_ran_chisq(rng, nu);
        float scale = (float)sqrt(s->p.mixing == HL_MIX_GAMMA ? chi2 / nu : (nu - 2) / chi2);
        float *x = out + m * D;
        for (size_t i = 0; i < D; i++)
            x[i] *= scale;
    }
    return HL_OK;
}

static void elliptical_destroy(hl_sampler *base)
{
    hl_field_free(&((elliptical *)base)->field);
    free(base);
}

static const hl_sampler_ops elliptical_ops = {"elliptical", elliptical_sample,
                                              elliptical_destroy, 1};

hl_sampler *hl_elliptical_alloc(const hl_elliptical_params *p)
{
    if (hl_elliptical_validate(p))
        return NULL;
    size_t D = p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L;
    elliptical *s = calloc(1, sizeof *s);
    double *row = malloc(sizeof(double) * D);
    if (!s || !row) {
        free(s);
        free(row);
        hl_error_set(HL_ENOMEM, "cannot allocate an elliptical sampler with D = %zu", D);
        return NULL;
    }
    s->base.ops = &elliptical_ops;
    s->base.D = D;
    s->base.field = &s->field;
    s->p = *p;
    int rc = hl_kernel_row(p->dim, p->L, p->xi, p->p, row);
    if (!rc)
        rc = hl_field_init(&s->field, p->dim, p->L, row);
    free(row);
    if (rc) {
        free(s);
        return NULL;
    }
    return &s->base;
}

/* ---- Registry entry "elliptical" --------------------------------------------------- */

static const hl_param_spec elliptical_params[] = {
    {"dim", HL_PARAM_INT, "1", 1, 2, NULL, "1: ring of L sites; 2: L x L torus"},
    {"L", HL_PARAM_INT, "100", 2, 1 << 20, NULL, "sites per side (dim 2: at most 4096)"},
    {"xi", HL_PARAM_REAL, "2", 1e-6, 1e9, NULL, "correlation length of the field, pixels"},
    {"p", HL_PARAM_INT, "2", 1, 2, NULL, "covariance exp(-(d/xi)^p)"},
    {"mixing", HL_PARAM_CHOICE, "gamma", 0, 0, "gamma|invgamma",
     "law of s^2: chi2_nu/nu (kurtosis 6/nu) or (nu-2)/chi2_nu (6/(nu-4))"},
    {"nu", HL_PARAM_REAL, "6", 1e-3, 1e9, NULL,
     "degrees of freedom of the scale (invgamma: nu > 4)"},
    {"clone", HL_PARAM_INT, "0", 0, 1, NULL, "1: the Gaussian field with the same covariance"},
};

static hl_sampler *elliptical_create(const hl_param_values *v)
{
    hl_elliptical_params p = {hl_param_int(v, "dim"),  hl_param_int(v, "L"),
                              hl_param_num(v, "xi"),   hl_param_int(v, "p"),
                              (hl_mixing)hl_param_int(v, "mixing"),
                              hl_param_num(v, "nu"),   hl_param_int(v, "clone")};
    return hl_elliptical_alloc(&p);
}

const hl_model hl_model_elliptical = {
    "elliptical", "elliptical field s z: Gaussian field times a random scale per sample",
    elliptical_params, sizeof elliptical_params / sizeof *elliptical_params,
    elliptical_create};
