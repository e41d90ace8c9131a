/* spiked.c — the spiked cumulant model and the spiked Wishart model.
 *
 * Szekely, Bardone, Gerace & Goldt hide a direction in the fourth cumulant:
 *     x = S (sqrt(beta/d) g u + w),   w ~ N(0, I_d),   |u|^2 = d,
 * with one unit-variance latent g per sample. Before S the covariance is
 * I + beta uh uh^T (uh = u / |u|): the spike carries beta of variance. S whitens it,
 *     S = (I + beta uh uh^T)^(-1/2) = I - c uh uh^T,   c = 1 - 1/sqrt(1 + beta),
 * so Cov(x) = I exactly and only the fourth cumulant sees uh: along it,
 * uh.x = (sqrt(beta) g + uh.w) / sqrt(1 + beta), of excess kurtosis
 * beta^2 kappa4(g) / (1 + beta)^2; along any direction orthogonal to uh x is N(0, 1).
 * The spiked Wishart model keeps g Gaussian and skips S: a Gaussian whose spike is in
 * the covariance. S is a rank-one update, applied in O(d) per sample; no matrix is
 * formed. Latents: Rademacher (kappa4 = -2), Laplace of unit variance (kappa4 = +3),
 * Gaussian (the clones). The scale sqrt(beta/d) g u uses |u|^2 = d: sign spikes
 * u_i = +-1 exactly, Gaussian spikes rescaled to that norm.
 *
 * The spike is drawn once, at allocation, from stream (seed, HL_STREAM_USER + 301), so
 * that "spiked" and "wishart" with the same seed share it. Draws per batch: n d
 * normals (w), then n latents. */
#include "sampler_impl.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

/* The stream of the spike: one above the user base, kept fixed for reproducibility. */
enum { SPIKE_STREAM = HL_STREAM_USER + 301 };

typedef struct {
    hl_sampler base;
    hl_spiked_params p;
    float *u;           /* the spike, |u|^2 = d */
    double inv_norm;    /* 1 / |u| of the stored floats */
    double sqrt_beta, c;
} spiked;

double hl_spiked_kurtosis(hl_spiked_latent latent, double beta)
{
    double k4 = latent == HL_LATENT_RADEMACHER ? -2 : latent == HL_LATENT_LAPLACE ? 3 : 0;
    return beta * beta * k4 / ((1 + beta) * (1 + beta));
}

static double latent_draw(hl_spiked_latent latent, gsl_rng *rng)
{
    switch (latent) {
    case HL_LATENT_RADEMACHER:
        return gsl_rng_uniform(rng) < 0.5 ? -1.0 : 1.0;
    case HL_LATENT_LAPLACE:
        return gsl_ran_laplace(rng, M_SQRT1_2); /* variance 2 a^2 = 1 */
    default:
        return gsl_ran_gaussian_ziggurat(rng, 1.0);
    }
}

static int spiked_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    spiked *s = (spiked *)base;
    size_t d = base->D;
    const float *u = s->u;
    hl_rng_normals(rng, n * d, out);
    for (size_t m = 0; m < n; m++) {
        float *x = out + m * d;
        double a = s->sqrt_beta * latent_draw(s->p.latent, rng); /* spike amplitude */
        if (s->p.whiten) {
            double uw = 0; /* uh.w */
            for (size_t i = 0; i < d; i++)
                uw += (double)u[i] * x[i];
            uw *= s->inv_norm;
            a -= s->c * (a + uw); /* x = w + uh (a - c uh.(a uh + w)) */
        }
        float coef = (float)(a * s->inv_norm);
        for (size_t i = 0; i < d; i++)
            x[i] += coef * u[i];
    }
    return HL_OK;
}

static void spiked_destroy(hl_sampler *base)
{
    free(((spiked *)base)->u);
    free(base);
}

/* Two names for one sampler, so that hl_sampler_name() tells the models apart. */
static const hl_sampler_ops spiked_ops = {"spiked", spiked_sample, spiked_destroy, 1};
static const hl_sampler_ops wishart_ops = {"wishart", spiked_sample, spiked_destroy, 1};

hl_sampler *hl_spiked_alloc(const hl_spiked_params *p)
{
    if (p->d < 2 || p->d > (1 << 24)) {
        hl_error_set(HL_EINVAL, "d = %d: accepted range is 2..%d", p->d, 1 << 24);
        return NULL;
    }
    if (!(p->beta >= 0) || !isfinite(p->beta)) {
        hl_error_set(HL_EINVAL, "beta = %g: accepted range is beta >= 0", p->beta);
        return NULL;
    }
    if (p->latent < HL_LATENT_RADEMACHER || p->latent > HL_LATENT_GAUSSIAN ||
        (p->spike != HL_SPIKE_SIGN && p->spike != HL_SPIKE_GAUSSIAN)) {
        hl_error_set(HL_EINVAL, "unknown latent %d or spike prior %d", (int)p->latent,
                     (int)p->spike);
        return NULL;
    }
    spiked *s = calloc(1, sizeof *s);
    float *u = malloc(sizeof(float) * (size_t)p->d);
    gsl_rng *r = hl_rng_alloc(p->seed, SPIKE_STREAM);
    if (!s || !u || !r) {
        free(s);
        free(u);
        hl_rng_free(r);
        hl_error_set(HL_ENOMEM, "cannot allocate a spiked sampler with d = %d", p->d);
        return NULL;
    }
    double norm2 = 0;
    for (int i = 0; i < p->d; i++) {
        double v = p->spike == HL_SPIKE_SIGN ? (gsl_rng_uniform(r) < 0.5 ? -1.0 : 1.0)
                                             : gsl_ran_gaussian_ziggurat(r, 1.0);
        u[i] = (float)v;
        norm2 += v * v;
    }
    hl_rng_free(r);
    double to_d = sqrt(p->d / norm2); /* 1 for sign spikes */
    norm2 = 0;
    for (int i = 0; i < p->d; i++) {
        u[i] = (float)(u[i] * to_d);
        norm2 += (double)u[i] * u[i];
    }
    s->base.ops = p->whiten ? &spiked_ops : &wishart_ops;
    s->base.D = (size_t)p->d;
    s->p = *p;
    s->u = u;
    s->inv_norm = 1 / sqrt(norm2);
    s->sqrt_beta = sqrt(p->beta);
    s->c = 1 - 1 / sqrt(1 + p->beta);
    return &s->base;
}

const float *hl_spiked_spike(const hl_sampler *base)
{
    return base && (base->ops == &spiked_ops || base->ops == &wishart_ops)
               ? ((const spiked *)base)->u
               : NULL;
}

/* ---- Registry entries "spiked" and "wishart" --------------------------------------- */

static const hl_param_spec spiked_params[] = {
    {"d", HL_PARAM_INT, "100", 2, 1 << 24, NULL, "input dimension D"},
    {"beta", HL_PARAM_REAL, "5", 0, 1e6, NULL, "signal-to-noise ratio of the spike"},
    {"latent", HL_PARAM_CHOICE, "rademacher", 0, 0, "rademacher|laplace",
     "latent g: Rademacher (kurtosis -2) or unit-variance Laplace (+3)"},
    {"spike", HL_PARAM_CHOICE, "sign", 0, 0, "sign|gaussian",
     "spike u: +-1 entries, or Gaussian rescaled to |u|^2 = d"},
    {"seed", HL_PARAM_INT, "0", 0, 4294967295.0, NULL, "seed of the spike's stream"},
    {"clone", HL_PARAM_INT, "0", 0, 1, NULL, "1: Gaussian latent, i.e. N(0, I)"},
};

static const hl_param_spec wishart_params[] = {
    {"d", HL_PARAM_INT, "100", 2, 1 << 24, NULL, "input dimension D"},
    {"beta", HL_PARAM_REAL, "5", 0, 1e6, NULL, "signal-to-noise ratio of the spike"},
    {"spike", HL_PARAM_CHOICE, "sign", 0, 0, "sign|gaussian",
     "spike u: +-1 entries, or Gaussian rescaled to |u|^2 = d"},
    {"seed", HL_PARAM_INT, "0", 0, 4294967295.0, NULL, "seed of the spike's stream"},
    {"clone", HL_PARAM_INT, "0", 0, 1, NULL,
     "accepted for uniformity: the model is already Gaussian (the clone is itself)"},
};

static hl_sampler *spiked_create(const hl_param_values *v)
{
    hl_spiked_params p = {hl_param_int(v, "d"), hl_param_num(v, "beta"),
                          (hl_spiked_latent)hl_param_int(v, "latent"),
                          (hl_spike_prior)hl_param_int(v, "spike"),
                          (unsigned long long)hl_param_num(v, "seed"), 1};
    if (hl_param_int(v, "clone"))
        p.latent = HL_LATENT_GAUSSIAN; /* whitened Gaussian: exactly N(0, I) */
    return hl_spiked_alloc(&p);
}

static hl_sampler *wishart_create(const hl_param_values *v)
{
    hl_spiked_params p = {hl_param_int(v, "d"), hl_param_num(v, "beta"), HL_LATENT_GAUSSIAN,
                          (hl_spike_prior)hl_param_int(v, "spike"),
                          (unsigned long long)hl_param_num(v, "seed"), 0};
    return hl_spiked_alloc(&p);
}

const hl_model hl_model_spiked = {
    "spiked", "spiked cumulant model: a whitened spike visible only in the 4th cumulant",
    spiked_params, sizeof spiked_params / sizeof *spiked_params, spiked_create};

const hl_model hl_model_wishart = {
    "wishart", "spiked Wishart model: Gaussian with covariance I + beta u u^T / d",
    wishart_params, sizeof wishart_params / sizeof *wishart_params, wishart_create};
