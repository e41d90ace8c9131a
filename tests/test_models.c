/* test_models.c — NORTA, elliptical and spiked models against their exact statistics.
 *
 * Fixed seeds; every tolerance is a few standard errors estimated from the same
 * samples (per-sample averages over sites, since sites of one sample are dependent).
 * Each check is paired with evidence that it can fail: the quantity it would miss
 * (an unadjusted NORTA latent, an unwhitened spike) lies many standard errors away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <gsl/gsl_integration.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* n samples of a model created by name. */
static float *draw_named(const char *model, const char *spec, size_t n, uint64_t seed,
                         size_t *D)
{
    hl_sampler *s = hl_model_create(model, spec);
    if (!s)
        fail_msg("%s '%s': %s", model, spec, hl_error_message());
    *D = hl_sampler_dim(s);
    float *x = malloc(sizeof(float) * n * *D);
    gsl_rng *r = hl_rng_alloc(seed, 7);
    assert_int_equal(hl_sampler_sample(s, n, x, r), HL_OK);
    hl_rng_free(r);
    hl_sampler_free(s);
    return x;
}

/* Mean and standard error of n per-sample values. */
static void mean_se(const double *v, size_t n, double *mean, double *se)
{
    double s = 0, s2 = 0;
    for (size_t m = 0; m < n; m++) {
        s += v[m];
        s2 += v[m] * v[m];
    }
    *mean = s / n;
    *se = sqrt(fmax(s2 / n - *mean * *mean, 0) / (n - 1));
}

/* Marginal moments from per-sample site averages: mean, <x^2>, <x^4> - 3 (the exact
 * variance is 1 for every model here, so the last is the excess kurtosis). */
typedef struct {
    double mean, mean_se, var, var_se, kurt, kurt_se;
} moments;

static moments marginal_moments(const float *x, size_t n, size_t D)
{
    double *a1 = malloc(sizeof(double) * n), *a2 = malloc(sizeof(double) * n),
           *a4 = malloc(sizeof(double) * n);
    for (size_t m = 0; m < n; m++) {
        double s1 = 0, s2 = 0, s4 = 0;
        for (size_t i = 0; i < D; i++) {
            double v = x[m * D + i];
            s1 += v;
            s2 += v * v;
            s4 += v * v * v * v;
        }
        a1[m] = s1 / D;
        a2[m] = s2 / D;
        a4[m] = s4 / D;
    }
    moments r;
    mean_se(a1, n, &r.mean, &r.mean_se);
    mean_se(a2, n, &r.var, &r.var_se);
    mean_se(a4, n, &r.kurt, &r.kurt_se);
    r.kurt -= 3;
    free(a1);
    free(a2);
    free(a4);
    return r;
}

/* Empirical <x_0 x_j> on a ring (dim 1) or torus (dim 2), averaged over translations,
 * with its standard error, for every j (D values). */
static void lattice_covariance(const float *x, size_t n, int dim, int L, double *cov,
                               double *se)
{
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    double *v = malloc(sizeof(double) * n);
    for (size_t j = 0; j < D; j++) {
        size_t jr = j / L, jc = j % L;
        for (size_t m = 0; m < n; m++) {
            const float *y = x + m * D;
            double s = 0;
            for (size_t i = 0; i < D; i++) {
                size_t k = dim == 1 ? (i + j) % L : ((i / L + jr) % L) * L + (i % L + jc) % L;
                s += (double)y[i] * y[k];
            }
            v[m] = s / D;
        }
        mean_se(v, n, &cov[j], &se[j]);
    }
    free(v);
}

/* Largest |cov - exact| / se over the first `lags` entries (all if lags == 0). */
static double max_z(const double *cov, const double *se, const double *exact, size_t lags)
{
    double z = 0;
    for (size_t j = 0; j < lags; j++)
        z = fmax(z, fabs(cov[j] - exact[j]) / fmax(se[j], 1e-12));
    return z;
}

/* Lags 0..lags-1 of <x_i x_{i+j}> on a ring of L sites from n samples of a model drawn
 * in blocks (bounded memory), with standard errors over samples. */
static void ring_covariance(const char *model, const char *spec, size_t n, uint64_t seed,
                            int lags, double *cov, double *se)
{
    enum { BLOCK = 2000 };
    hl_sampler *s = hl_model_create(model, spec);
    if (!s)
        fail_msg("%s '%s': %s", model, spec, hl_error_message());
    size_t L = hl_sampler_dim(s);
    float *x = malloc(sizeof(float) * BLOCK * L);
    double *s1 = calloc(lags, sizeof(double)), *s2 = calloc(lags, sizeof(double));
    gsl_rng *r = hl_rng_alloc(seed, 7);
    for (size_t done = 0; done < n; done += BLOCK) {
        size_t b = n - done < BLOCK ? n - done : BLOCK;
        assert_int_equal(hl_sampler_sample(s, b, x, r), HL_OK);
        for (size_t m = 0; m < b; m++)
            for (int j = 0; j < lags; j++) {
                const float *y = x + m * L;
                double a = 0;
                for (size_t i = 0; i < L; i++)
                    a += (double)y[i] * y[(i + j) % L];
                a /= L;
                s1[j] += a;
                s2[j] += a * a;
            }
    }
    for (int j = 0; j < lags; j++) {
        cov[j] = s1[j] / n;
        se[j] = sqrt(fmax(s2[j] / n - cov[j] * cov[j], 0) / (n - 1));
    }
    hl_rng_free(r);
    free(s1);
    free(s2);
    free(x);
    hl_sampler_free(s);
}

/* ---- NORTA ------------------------------------------------------------------------- */

/* sigma_k^2 = B(3/k, 1 - 2/k) / k, from lgamma: independent of the library's Beta. */
static double algqdf_sigma(double k)
{
    double a = 3 / k, b = 1 - 2 / k;
    return sqrt(exp(lgamma(a) + lgamma(b) - lgamma(a + b)) / k);
}

/* The standardised AlgQDF CDF: F(x) = (1 + y / (1 + |y|^k)^(1/k)) / 2, y = sigma_k x. */
static double algqdf_cdf(double x, double k)
{
    double y = algqdf_sigma(k) * x;
    return 0.5 * (1 + y / pow(1 + pow(fabs(y), k), 1 / k));
}

typedef struct {
    double k;
    int power;
} moment_arg;

static double marginal_power_density(double z, void *p)
{
    const moment_arg *a = p;
    if (fabs(z) > 40) /* below exp(-z^2 (1/2 - 2/k)) < 1e-35 */
        return 0;
    return pow(hl_norta_marginal(z, a->k), a->power) * exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

static double quadrature_moment(double k, int power)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(2000);
    moment_arg a = {k, power};
    gsl_function f = {marginal_power_density, &a};
    double v, err;
    assert_int_equal(gsl_integration_qagi(&f, 1e-13, 1e-11, 2000, w, &v, &err), 0);
    gsl_integration_workspace_free(w);
    return v;
}

static void test_norta_kurtosis_formula(void **state)
{
    /* The closed form against quadrature of the map z -> x itself: unit variance, and
     * <x^4> - 3 equal to the formula, over the whole range of shapes. */
    const double ks[] = {4.5, 5, 5.89, 7, 10, 40, 1000};
    for (int i = 0; i < 7; i++) {
        double kurt;
        assert_int_equal(hl_norta_kurtosis(ks[i], &kurt), HL_OK);
        assert_true(fabs(quadrature_moment(ks[i], 2) - 1) < 1e-8);
        assert_true(fabs(quadrature_moment(ks[i], 4) - 3 - kurt) < 1e-6 * (3 + kurt));
        /* The inverse: the shape of that kurtosis is k again. */
        double k;
        assert_int_equal(hl_norta_shape(kurt, &k), HL_OK);
        assert_true(fabs(k - ks[i]) < 1e-8 * ks[i]);
    }
    /* Both signs, and the uniform limit -6/5. */
    double k5, k10, kbig;
    hl_norta_kurtosis(5, &k5);
    hl_norta_kurtosis(10, &k10);
    hl_norta_kurtosis(1e4, &kbig);
    assert_true(fabs(k5 - 1.2853) < 1e-3);
    assert_true(fabs(k10 + 0.9299) < 1e-3);
    assert_true(fabs(kbig + 1.2) < 1e-6);
    /* The map is odd and increasing. */
    assert_true(hl_norta_marginal(0, 5) == 0);
    assert_true(fabs(hl_norta_marginal(-1.3, 7) + hl_norta_marginal(1.3, 7)) < 1e-15);
    assert_true(hl_norta_marginal(6, 5) > hl_norta_marginal(5.9, 5));
    /* Out of range. */
    double k;
    assert_int_equal(hl_norta_kurtosis(4, &k), HL_EINVAL);
    assert_int_equal(hl_norta_shape(-1.3, &k), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "kurtosis"));
    assert_int_equal(hl_norta_shape(100, &k), HL_EINVAL);
}

static void test_norta_latent_uniform_limit(void **state)
{
    /* An exact reference for the correlation map: for uniform marginals (k -> inf)
     * corr(x) = (6/pi) asin(r/2), so the latent of target c is 2 sin(pi c / 6). k = 1e4
     * is uniform but for a tail beyond 1 - t ~ 1e-4. */
    hl_norta_params p = {1, 32, 4, 1, 1e4, 0};
    double target[32], latent[32], worst = 0;
    assert_int_equal(hl_norta_covariance_row(&p, target), HL_OK);
    assert_int_equal(hl_norta_latent_row(&p, latent), HL_OK);
    for (int j = 0; j < 32; j++)
        worst = fmax(worst, fabs(latent[j] - 2 * sin(M_PI * target[j] / 6)));
    assert_true(worst < 1e-6);
    assert_true(latent[0] == 1);
    /* Heavier tails need a larger latent correlation for the same target (rho(r) < r
     * for any non-linear odd map), the map is increasing, and symmetric on the ring. */
    p.k = 5;
    assert_int_equal(hl_norta_latent_row(&p, latent), HL_OK);
    for (int j = 1; j < 16; j++) {
        assert_true(latent[j] > target[j] && latent[j] < latent[j - 1]);
        assert_true(latent[j] == latent[32 - j]);
    }
}

static void test_norta_marginal_light_tails(void **state)
{
    /* Negative excess kurtosis (k >= 8: the eighth moment is finite, so the standard
     * error of <x^4> is too). */
    const char *specs[] = {"L=64,xi=3,k=10", "L=64,xi=3,kurtosis=-1.1", "dim=2,L=8,xi=1,k=20"};
    double exact[3] = {0, -1.1, 0};
    hl_norta_kurtosis(10, &exact[0]);
    hl_norta_kurtosis(20, &exact[2]);
    for (int i = 0; i < 3; i++) {
        size_t n = 4000, D;
        float *x = draw_named("norta", specs[i], n, 31 + i, &D);
        moments r = marginal_moments(x, n, D);
        assert_true(fabs(r.mean) < 5 * r.mean_se);
        assert_true(fabs(r.var - 1) < 5 * r.var_se);
        assert_true(fabs(r.kurt - exact[i]) < 5 * r.kurt_se);
        assert_true(r.kurt_se < 0.02); /* the check is sharp: a Gaussian (0) would fail */
        free(x);
    }
}

static void test_norta_marginal_heavy_tails(void **state)
{
    /* Positive excess kurtosis needs k < 5.89, where the eighth moment is infinite and
     * a sample kurtosis has no standard error: check the whole marginal instead, the
     * fraction of values below q against F(q), and the variance (finite fourth moment). */
    const double k = 5, q[] = {-5, -2.5, -1, -0.3, 0, 0.7, 1.5, 3, 6};
    size_t n = 6000, D;
    float *x = draw_named("norta", "L=64,xi=3,k=5", n, 41, &D);
    moments r = marginal_moments(x, n, D);
    assert_true(fabs(r.var - 1) < 5 * r.var_se);
    double *v = malloc(sizeof(double) * n);
    for (int j = 0; j < 9; j++) {
        for (size_t m = 0; m < n; m++) {
            size_t below = 0;
            for (size_t i = 0; i < D; i++)
                below += x[m * D + i] <= q[j];
            v[m] = (double)below / D;
        }
        double p, se, F = algqdf_cdf(q[j], k);
        mean_se(v, n, &p, &se);
        assert_true(fabs(p - F) < 5 * se + 1e-9);
    }
    /* The tails are heavier than the Gaussian's, by many standard errors. */
    for (size_t m = 0; m < n; m++) {
        size_t out = 0;
        for (size_t i = 0; i < D; i++)
            out += fabsf(x[m * D + i]) > 3;
        v[m] = (double)out / D;
    }
    double p, se;
    mean_se(v, n, &p, &se);
    assert_true(fabs(p - 2 * (1 - algqdf_cdf(3, k))) < 5 * se);
    assert_true(p - erfc(3 / M_SQRT2) > 10 * se);
    free(v);
    free(x);
}

static void test_norta_covariance_fixed(void **state)
{
    /* The point of NORTA: the covariance is the target for every shape, one with
     * negative and one with positive excess kurtosis, and for the clone. */
    const char *specs[] = {"L=128,xi=3,k=10", "L=128,xi=3,k=5", "L=128,xi=3,k=5,clone=1"};
    const double ks[] = {10, 5, 5};
    const size_t ns[] = {60000, 20000, 20000};
    for (int s = 0; s < 3; s++) {
        double cov[12], se[12], target[128], latent[128];
        hl_norta_params p = {1, 128, 3, 2, ks[s], s == 2};
        assert_int_equal(hl_norta_covariance_row(&p, target), HL_OK);
        assert_int_equal(hl_norta_latent_row(&p, latent), HL_OK);
        ring_covariance("norta", specs[s], ns[s], 51 + s, 12, cov, se);
        assert_true(max_z(cov, se, target, 12) < 5); /* lags 0..11 */
        assert_true(fabs(target[1] - exp(-1.0 / 9)) < 1e-15);
        if (s == 0) {
            /* Without the latent adjustment (z with the target correlation) some lag
             * would be off by many standard errors: this test can tell. */
            double z = 0;
            for (int j = 1; j < 12; j++)
                z = fmax(z, fabs(latent[j] - target[j]) / se[j]);
            assert_true(z > 8);
        }
    }
}

static void test_norta_covariance_2d(void **state)
{
    size_t n = 3000, D;
    float *x = draw_named("norta", "dim=2,L=8,xi=1.5,p=1,k=6", n, 61, &D);
    assert_int_equal(D, 64);
    double cov[64], se[64], target[64];
    hl_norta_params p = {2, 8, 1.5, 1, 6, 0};
    assert_int_equal(hl_norta_covariance_row(&p, target), HL_OK);
    lattice_covariance(x, n, 2, 8, cov, se);
    assert_true(max_z(cov, se, target, 64) < 5);
    free(x);
}

static void test_norta_clone(void **state)
{
    size_t n = 4000, D;
    float *x = draw_named("norta", "L=64,xi=3,k=5,clone=1", n, 71, &D);
    moments r = marginal_moments(x, n, D);
    assert_true(fabs(r.var - 1) < 5 * r.var_se);
    assert_true(fabs(r.kurt) < 5 * r.kurt_se);
    free(x);
}

static void test_norta_clipping(void **state)
{
    /* The exponential kernel (p = 1) has a spectrum bounded away from zero: the latent
     * correlation stays positive definite. */
    hl_norta_params p = {1, 64, 3, 1, 4.2, 0};
    hl_sampler *s = hl_norta_alloc(&p);
    assert_non_null(s);
    int n_clipped;
    double fraction;
    hl_sampler_clipping(s, &n_clipped, &fraction);
    assert_true(n_clipped == 0 && fraction == 0);
    hl_sampler_free(s);
    /* The Gaussian kernel (p = 2) has eigenvalues down to round-off; the latent
     * correlation, a non-linear function of it, overshoots them: clipped, reported. */
    hl_norta_params q = {1, 64, 3, 2, 4.2, 0};
    s = hl_norta_alloc(&q);
    assert_non_null(s);
    hl_sampler_clipping(s, &n_clipped, &fraction);
    assert_true(n_clipped > 0 && fraction > 0);
    hl_sampler_free(s);
    /* A model without a Gaussian field: nothing. */
    s = hl_model_create("spiked", "d=4");
    hl_sampler_clipping(s, &n_clipped, &fraction);
    assert_int_equal(n_clipped, 0);
    hl_sampler_free(s);
}

/* ---- Elliptical -------------------------------------------------------------------- */

static void test_elliptical(void **state)
{
    const char *specs[] = {"L=64,xi=3,nu=4", "L=64,xi=3,mixing=invgamma,nu=12",
                           "L=64,xi=3,nu=4,clone=1"};
    const double exact_kurt[] = {1.5, 0.75, 0};
    for (int s = 0; s < 3; s++) {
        size_t n = 8000, D;
        float *x = draw_named("elliptical", specs[s], n, 81 + s, &D);
        moments r = marginal_moments(x, n, D);
        assert_true(fabs(r.var - 1) < 5 * r.var_se);
        assert_true(fabs(r.kurt - exact_kurt[s]) < 5 * r.kurt_se);
        assert_true(r.kurt_se < exact_kurt[1] / 5); /* sharp enough to see 0.75 */
        double cov[64], se[64], kernel[64];
        assert_int_equal(hl_kernel_row(1, 64, 3, 2, kernel), HL_OK);
        lattice_covariance(x, n, 1, 64, cov, se);
        assert_true(max_z(cov, se, kernel, 12) < 5);
        free(x);
    }
    double k;
    assert_int_equal(hl_elliptical_kurtosis(HL_MIX_GAMMA, 4, &k), HL_OK);
    assert_true(k == 1.5);
    assert_int_equal(hl_elliptical_kurtosis(HL_MIX_INVGAMMA, 12, &k), HL_OK);
    assert_true(k == 0.75);
    assert_int_equal(hl_elliptical_kurtosis(HL_MIX_INVGAMMA, 4, &k), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "nu"));
}

/* ---- Spiked cumulant and spiked Wishart ------------------------------------------ */

/* Empirical covariance entries (i <= j) against exact[i][j], largest |error| / SE. */
static double covariance_z(const float *x, size_t n, size_t d, const double *exact)
{
    double *v = malloc(sizeof(double) * n), z = 0;
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            for (size_t m = 0; m < n; m++)
                v[m] = (double)x[m * d + i] * x[m * d + j];
            double c, se;
            mean_se(v, n, &c, &se);
            z = fmax(z, fabs(c - exact[i * d + j]) / se);
        }
    free(v);
    return z;
}

/* Excess kurtosis of the projection on the unit vector e, <(e.x)^4> / <(e.x)^2>^2 - 3
 * (delta method for its standard error: the moments are estimated jointly). */
static void projected_kurtosis(const float *x, size_t n, size_t d, const double *e,
                               double *kurt, double *se, double *var, double *var_se)
{
    double s2 = 0, s4 = 0, s22 = 0, s44 = 0, s24 = 0;
    for (size_t m = 0; m < n; m++) {
        double y = 0;
        for (size_t i = 0; i < d; i++)
            y += e[i] * x[m * d + i];
        double y2 = y * y, y4 = y2 * y2;
        s2 += y2;
        s4 += y4;
        s22 += y2 * y2;
        s44 += y4 * y4;
        s24 += y2 * y4;
    }
    double m2 = s2 / n, m4 = s4 / n;
    double v22 = s22 / n - m2 * m2, v44 = s44 / n - m4 * m4, v24 = s24 / n - m2 * m4;
    /* gradient of m4 / m2^2 */
    double g4 = 1 / (m2 * m2), g2 = -2 * m4 / (m2 * m2 * m2);
    *var = m2;
    *var_se = sqrt(fmax(v22, 0) / n);
    *kurt = m4 / (m2 * m2) - 3;
    *se = sqrt(fmax(g4 * g4 * v44 + g2 * g2 * v22 + 2 * g2 * g4 * v24, 0) / n);
}

static void unit_spike(hl_sampler *s, size_t d, double *e)
{
    const float *u = hl_spiked_spike(s);
    assert_non_null(u);
    double norm2 = 0;
    for (size_t i = 0; i < d; i++)
        norm2 += (double)u[i] * u[i];
    assert_true(fabs(norm2 - d) < 1e-4 * d); /* |u|^2 = d */
    for (size_t i = 0; i < d; i++)
        e[i] = u[i] / sqrt(norm2);
}

/* A unit vector orthogonal to e, from a fixed stream. */
static void orthogonal_direction(const double *e, size_t d, double *v)
{
    gsl_rng *r = hl_rng_alloc(99, 1);
    double dot = 0, norm = 0;
    for (size_t i = 0; i < d; i++) {
        v[i] = hl_rng_gaussian(r, 1);
        dot += v[i] * e[i];
    }
    for (size_t i = 0; i < d; i++) {
        v[i] -= dot * e[i];
        norm += v[i] * v[i];
    }
    for (size_t i = 0; i < d; i++)
        v[i] /= sqrt(norm);
    hl_rng_free(r);
}

static void check_spiked(const char *model, const char *spec, int whitened, double beta,
                         hl_spiked_latent latent)
{
    enum { d = 24 };
    size_t n = 60000, D;
    hl_sampler *s = hl_model_create(model, spec);
    assert_non_null(s);
    double e[d], v[d], exact[d * d], spiked_cov[d * d];
    unit_spike(s, d, e);
    hl_sampler_free(s);
    float *x = draw_named(model, spec, n, 91, &D);
    assert_int_equal(D, d);
    /* Covariance: I when whitened, I + beta e e^T otherwise. */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            spiked_cov[i * d + j] = (i == j) + beta * e[i] * e[j];
            exact[i * d + j] = whitened ? (i == j) : spiked_cov[i * d + j];
        }
    assert_true(covariance_z(x, n, d, exact) < 5);
    if (whitened) /* the unwhitened covariance is rejected by far */
        assert_true(covariance_z(x, n, d, spiked_cov) > 20);
    /* Fourth cumulant along the spike; none along an orthogonal direction. */
    double k, se, var, var_se;
    projected_kurtosis(x, n, d, e, &k, &se, &var, &var_se);
    /* Along the spike the whitening is checked to a few 1e-3 (entrywise, d^2 entries
     * would each see only 1/d of an error in it). */
    assert_true(fabs(var - (whitened ? 1 : 1 + beta)) < 5 * var_se);
    assert_true(var_se < 0.01 * (whitened ? 1 : 1 + beta));
    double expected = hl_spiked_kurtosis(latent, beta);
    assert_true(fabs(k - expected) < 5 * se);
    if (latent == HL_LATENT_RADEMACHER)
        assert_true(k < -10 * se);
    if (latent == HL_LATENT_LAPLACE)
        assert_true(k > 10 * se);
    orthogonal_direction(e, d, v);
    projected_kurtosis(x, n, d, v, &k, &se, &var, &var_se);
    assert_true(fabs(k) < 5 * se);
    assert_true(fabs(var - 1) < 5 * var_se);
    free(x);
}

static void test_spiked_rademacher(void **state)
{
    check_spiked("spiked", "d=24,beta=5", 1, 5, HL_LATENT_RADEMACHER);
}

static void test_spiked_laplace_gaussian_spike(void **state)
{
    check_spiked("spiked", "d=24,beta=3,latent=laplace,spike=gaussian,seed=4", 1, 3,
                 HL_LATENT_LAPLACE);
}

static void test_spiked_clone(void **state)
{
    check_spiked("spiked", "d=24,beta=5,clone=1", 1, 5, HL_LATENT_GAUSSIAN);
}

static void test_wishart(void **state)
{
    check_spiked("wishart", "d=24,beta=2", 0, 2, HL_LATENT_GAUSSIAN);
}

static void test_spike_vector(void **state)
{
    hl_sampler *a = hl_model_create("spiked", "d=50,seed=3");
    hl_sampler *b = hl_model_create("wishart", "d=50,seed=3");
    hl_sampler *c = hl_model_create("spiked", "d=50,seed=4");
    const float *ua = hl_spiked_spike(a), *ub = hl_spiked_spike(b), *uc = hl_spiked_spike(c);
    assert_string_equal(hl_sampler_name(a), "spiked");
    assert_string_equal(hl_sampler_name(b), "wishart");
    assert_memory_equal(ua, ub, 50 * sizeof(float)); /* one spike per seed */
    assert_memory_not_equal(ua, uc, 50 * sizeof(float));
    for (int i = 0; i < 50; i++)
        assert_true(ua[i] == 1 || ua[i] == -1);
    assert_null(hl_spiked_spike(NULL));
    hl_sampler *g = hl_model_create("elliptical", "L=16");
    assert_null(hl_spiked_spike(g));
    hl_sampler_free(g);
    hl_sampler_free(a);
    hl_sampler_free(b);
    hl_sampler_free(c);
    assert_true(fabs(hl_spiked_kurtosis(HL_LATENT_RADEMACHER, 5) + 2 * 25.0 / 36) < 1e-15);
    assert_true(hl_spiked_kurtosis(HL_LATENT_GAUSSIAN, 5) == 0);
}

/* ---- Common: reproducibility, bad parameters -------------------------------------- */

static void test_reproducible(void **state)
{
    const char *models[] = {"norta", "elliptical", "spiked", "wishart"};
    const char *specs[] = {"L=32,k=6", "L=32,mixing=invgamma,nu=8", "d=32,latent=laplace",
                           "d=32"};
    for (int i = 0; i < 4; i++) {
        size_t D;
        float *a = draw_named(models[i], specs[i], 5, 1, &D);
        float *b = draw_named(models[i], specs[i], 5, 1, &D);
        float *c = draw_named(models[i], specs[i], 5, 2, &D);
        assert_int_equal(D, 32);
        assert_memory_equal(a, b, sizeof(float) * 5 * D);
        assert_memory_not_equal(a, c, sizeof(float) * 5 * D);
        for (size_t j = 0; j < 5 * D; j++)
            assert_true(isfinite(a[j]));
        free(a);
        free(b);
        free(c);
    }
    hl_sampler *s = hl_model_create("norta", "L=16,k=5");
    assert_true(hl_sampler_is_stateless(s));
    hl_sampler_free(s);
}

static void expect_bad(const char *model, const char *spec, const char *word)
{
    hl_sampler *s = hl_model_create(model, spec);
    if (s)
        fail_msg("%s '%s' was accepted", model, spec);
    if (!strstr(hl_error_message(), word))
        fail_msg("%s '%s': '%s' does not name %s", model, spec, hl_error_message(), word);
}

static void test_bad_parameters(void **state)
{
    expect_bad("norta", "k=3", "k");
    expect_bad("norta", "k=20000", "k");
    expect_bad("norta", "kurtosis=30", "kurtosis");
    expect_bad("norta", "kurtosis=-1.3", "kurtosis");
    expect_bad("norta", "kurtosis=abc", "kurtosis");
    expect_bad("norta", "k=6,kurtosis=0", "kurtosis");
    expect_bad("norta", "xi=0", "xi");
    expect_bad("norta", "dim=2,L=5000", "L");
    expect_bad("norta", "clone=2", "clone");
    expect_bad("elliptical", "mixing=invgamma,nu=4", "nu");
    expect_bad("elliptical", "nu=0", "nu");
    expect_bad("elliptical", "mixing=cauchy", "mixing");
    expect_bad("elliptical", "p=3", "p");
    expect_bad("spiked", "d=1", "d");
    expect_bad("spiked", "beta=-1", "beta");
    expect_bad("spiked", "latent=gaussian", "latent");
    expect_bad("spiked", "spike=uniform", "spike");
    expect_bad("spiked", "seed=-1", "seed");
    expect_bad("wishart", "latent=laplace", "latent");
    hl_norta_params p = {1, 64, 3, 2, 4, 0};
    assert_null(hl_norta_alloc(&p));
    assert_non_null(strstr(hl_error_message(), "k"));
    hl_spiked_params q = {10, NAN, HL_LATENT_RADEMACHER, HL_SPIKE_SIGN, 0, 1};
    assert_null(hl_spiked_alloc(&q));
    assert_non_null(strstr(hl_error_message(), "beta"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_norta_kurtosis_formula),
        cmocka_unit_test(test_norta_latent_uniform_limit),
        cmocka_unit_test(test_norta_marginal_light_tails),
        cmocka_unit_test(test_norta_marginal_heavy_tails),
        cmocka_unit_test(test_norta_covariance_fixed),
        cmocka_unit_test(test_norta_covariance_2d),
        cmocka_unit_test(test_norta_clone),
        cmocka_unit_test(test_norta_clipping),
        cmocka_unit_test(test_elliptical),
        cmocka_unit_test(test_spiked_rademacher),
        cmocka_unit_test(test_spiked_laplace_gaussian_spike),
        cmocka_unit_test(test_spiked_clone),
        cmocka_unit_test(test_wishart),
        cmocka_unit_test(test_spike_vector),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_bad_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
