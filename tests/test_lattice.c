/* test_lattice.c — the Ising and phi^4 models and their clones against independent
 * references.
 *
 * References: enumeration of every configuration of a small ring and a 4 x 4 torus
 * (Ising), Onsager's exact energy of the infinite square lattice (Ising 2D, at L and T
 * where finite-size effects are far below the tolerance), sums over a grid (phi^4 at
 * beta = 0, and a 3-site ring at beta > 0) and a dense matrix inverse (phi^4 at
 * lambda = 0). Every tolerance is a
 * few standard errors from the samples themselves: the Markov chains' samples are
 * correlated in time, so errors come from batch means (a jackknife over batches for
 * ratios such as the kurtosis). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sf_ellint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCHES = 20, MAX_STATS = 16 };

/* n samples of a model; *D receives the dimension. */
static float *draw(const char *model, const char *spec, size_t n, uint64_t seed, size_t *D)
{
    hl_sampler *s = hl_model_create(model, spec);
    if (!s)
        fprintf(stderr, "%s %s: %s\n", model, spec, hl_error_message());
    assert_non_null(s);
    *D = hl_sampler_dim(s);
    float *x = malloc(sizeof(float) * n * *D);
    assert_non_null(x);
    gsl_rng *r = hl_rng_alloc(seed, 7);
    assert_int_equal(hl_sampler_sample(s, n, x, r), HL_OK);
    hl_rng_free(r);
    hl_sampler_free(s);
    return x;
}

/* ---- Batch means and the jackknife ------------------------------------------------ */

/* y holds n rows of k per-sample statistics. f maps k means to an estimate. The
 * estimate uses all samples; its standard error is the jackknife over BATCHES
 * consecutive batches, which absorbs the chain's autocorrelation as long as a batch is
 * much longer than the autocorrelation time. */
typedef double (*estimator)(const double *means, const void *ctx);

static void jackknife(const double *y, size_t n, int k, estimator f, const void *ctx,
                      double *est, double *se)
{
    double bsum[BATCHES][MAX_STATS] = {{0}}, total[MAX_STATS] = {0}, theta[BATCHES];
    size_t bn[BATCHES] = {0};
    assert_true(k <= MAX_STATS && n >= BATCHES);
    for (size_t m = 0; m < n; m++) {
        int b = (int)(m * BATCHES / n);
        bn[b]++;
        for (int c = 0; c < k; c++) {
            bsum[b][c] += y[m * k + c];
            total[c] += y[m * k + c];
        }
    }
    double mean[MAX_STATS];
    for (int c = 0; c < k; c++)
        mean[c] = total[c] / n;
    *est = f(mean, ctx);
    double tbar = 0;
    for (int b = 0; b < BATCHES; b++) {
        for (int c = 0; c < k; c++)
            mean[c] = (total[c] - bsum[b][c]) / (double)(n - bn[b]);
        theta[b] = f(mean, ctx);
        tbar += theta[b] / BATCHES;
    }
    double v = 0;
    for (int b = 0; b < BATCHES; b++)
        v += (theta[b] - tbar) * (theta[b] - tbar);
    *se = sqrt(v * (BATCHES - 1) / BATCHES);
}

static double column(const double *means, const void *ctx)
{
    return means[*(const int *)ctx];
}

/* Mean and standard error of column c. */
static void mean_se(const double *y, size_t n, int k, int c, double *est, double *se)
{
    jackknife(y, n, k, column, &c, est, se);
}

/* Columns 0, 1, 2: site averages of x, x^2, x^4. Excess kurtosis of the marginal about
 * zero, the mean of every model here (by the symmetry x -> -x; tests check it). */
static double kurtosis_of(const double *m, const void *ctx)
{
    return m[2] / (m[1] * m[1]) - 3;
}

/* Per-sample site averages of x, x^2, x^4 (3 columns). */
static double *marginal_stats(const float *x, size_t n, size_t D)
{
    double *y = calloc(3 * n, sizeof(double));
    for (size_t m = 0; m < n; m++)
        for (size_t i = 0; i < D; i++) {
            double v = x[m * D + i];
            y[3 * m] += v / D;
            y[3 * m + 1] += v * v / D;
            y[3 * m + 2] += v * v * v * v / D;
        }
    return y;
}

/* Per-sample translation averages (1/D) sum_i x_i x_{i+lag}, for `nlag` lags given as
 * (dr, dc) offsets (dr ignored in 1D). */
static double *lag_stats(const float *x, size_t n, int dim, int L, int nlag,
                         const int (*lag)[2])
{
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    double *y = calloc((size_t)nlag * n, sizeof(double));
    for (size_t m = 0; m < n; m++) {
        const float *v = x + m * D;
        for (int l = 0; l < nlag; l++) {
            double s = 0;
            for (size_t i = 0; i < D; i++) {
                size_t j = dim == 1 ? (i + lag[l][1]) % L
                                    : ((i / L + lag[l][0]) % L) * L + (i % L + lag[l][1]) % L;
                s += (double)v[i] * v[j];
            }
            y[m * nlag + l] = s / D;
        }
    }
    return y;
}

/* Nearest-neighbour correlation per sample: the average over all 2D or 1D bonds. */
static double *nn_stats(const float *x, size_t n, int dim, int L)
{
    static const int lags[2][2] = {{0, 1}, {1, 0}};
    double *y = lag_stats(x, n, dim, L, dim, lags);
    if (dim == 2)
        for (size_t m = 0; m < n; m++)
            y[m] = 0.5 * (y[2 * m] + y[2 * m + 1]);
    return y;
}

/* ---- Ising 1D ---------------------------------------------------------------------- */

/* <s_0 s_d> of the periodic ring by enumerating all 2^L configurations. */
static void ring_enumeration(int L, double T, double *row)
{
    double Z = 0;
    for (int d = 0; d < L; d++)
        row[d] = 0;
    for (unsigned c = 0; c < 1u << L; c++) {
        int e = 0;
        for (int i = 0; i < L; i++)
            e += ((c >> i & 1) == (c >> ((i + 1) % L) & 1)) ? 1 : -1;
        double w = exp(e / T);
        Z += w;
        for (int d = 0; d < L; d++)
            row[d] += w * (((c & 1) == (c >> d & 1)) ? 1 : -1);
    }
    for (int d = 0; d < L; d++)
        row[d] /= Z;
}

static void test_ising_1d_ring(void **state)
{
    enum { L = 12 };
    const double T = 1;
    double exact[L], enumerated[L];
    assert_int_equal(hl_ising_covariance_row_1d(L, T, exact), HL_OK);
    ring_enumeration(L, T, enumerated);
    for (int d = 0; d < L; d++)
        assert_true(fabs(exact[d] - enumerated[d]) < 1e-12);

    size_t n = 20000, D;
    float *x = draw("ising", "dim=1,L=12,T=1", n, 3, &D);
    assert_int_equal(D, L);
    int lags[L / 2 + 1][2];
    for (int d = 0; d <= L / 2; d++)
        lags[d][0] = 0, lags[d][1] = d;
    double *y = lag_stats(x, n, 1, L, L / 2 + 1, (const int(*)[2])lags);
    for (int d = 0; d <= L / 2; d++) {
        double c, se;
        mean_se(y, n, L / 2 + 1, d, &c, &se);
        if (d == 0)
            assert_true(fabs(c - 1) < 1e-12); /* spins are ±1 */
        else
            assert_true(fabs(c - enumerated[d]) < 5 * se);
        /* The infinite chain's t^d (what an open chain gives between bulk sites) is
         * rejected: the sampler is the ring's, not the chain's. */
        if (d == 1 || d == L / 2)
            assert_true(fabs(c - pow(tanh(1 / T), d)) > 5 * se);
    }
    free(y);
    free(x);
}

/* Columns: site-averaged c_d, d = 1..6. Returns the xi of a least-squares fit of log c_d
 * against d. */
static double xi_fit(const double *m, const void *ctx)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int k = *(const int *)ctx;
    for (int d = 1; d <= k; d++) {
        double ly = log(m[d - 1]);
        sx += d, sy += ly, sxx += d * d, sxy += d * ly;
    }
    double slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
    return -1 / slope;
}

static void test_ising_1d_correlation_length(void **state)
{
    enum { L = 256, K = 6 };
    size_t n = 2000, D;
    float *x = draw("ising", "dim=1,L=256,T=1", n, 4, &D);
    int lags[K][2];
    for (int d = 0; d < K; d++)
        lags[d][0] = 0, lags[d][1] = d + 1;
    double *y = lag_stats(x, n, 1, L, K, (const int(*)[2])lags);
    int k = K;
    double xi, se;
    jackknife(y, n, K, xi_fit, &k, &xi, &se);
    assert_true(se < 0.1 * xi); /* the test has power */
    assert_true(fabs(xi - hl_ising_xi(1)) < 5 * se);
    /* xi = -1 / log tanh(1/T): 1/T = atanh(exp(-1/xi)). */
    for (double T = 0.5; T < 20; T *= 1.7)
        assert_true(fabs(atanh(exp(-1 / hl_ising_xi(T))) - 1 / T) < 1e-9);
    free(y);
    free(x);
}

/* ---- Ising 2D ---------------------------------------------------------------------- */

/* Onsager: the nearest-neighbour correlation of the infinite square lattice is -u/2,
 * u the energy per site. */
static double onsager_nn(double T)
{
    double K = 1 / T, c2 = cosh(2 * K), t2 = tanh(2 * K);
    double k = 2 * sinh(2 * K) / (c2 * c2);
    double K1 = gsl_sf_ellint_Kcomp(k, GSL_PREC_DOUBLE);
    double u = -(1 / t2) * (1 + M_2_PI * (2 * t2 * t2 - 1) * K1);
    return -u / 2;
}

static void test_ising_2d_onsager(void **state)
{
    /* High T, T_c < T < 2 T_c and low T; xi <= 2.5 at all three, so L = 32 puts the
     * finite-size effect (~exp(-L/xi)) far below the tolerance. */
    const double temps[] = {5, 3, 1.8};
    for (int t = 0; t < 3; t++) {
        char spec[128];
        snprintf(spec, sizeof spec, "dim=2,L=32,T=%g", temps[t]);
        size_t n = 2000, D;
        float *x = draw("ising", spec, n, 10 + t, &D);
        assert_int_equal(D, 32 * 32);
        double *y = nn_stats(x, n, 2, 32), nn, se;
        mean_se(y, n, 1, 0, &nn, &se);
        if (fabs(nn - onsager_nn(temps[t])) >= 5 * se)
            fprintf(stderr, "T = %g: nn %.5f +- %.5f, Onsager %.5f\n", temps[t], nn, se,
                    onsager_nn(temps[t]));
        assert_true(se < 0.003);
        assert_true(fabs(nn - onsager_nn(temps[t])) < 5 * se);
        free(y);
        free(x);
    }
}

/* The nearest-neighbour correlation of the 4 x 4 torus by enumerating its 2^16
 * configurations: a check that holds at any T, with no finite-size question. */
static double torus4_enumeration(double T)
{
    enum { L = 4, D = 16 };
    double Z = 0, E = 0;
    for (unsigned c = 0; c < 1u << D; c++) {
        int e = 0;
        for (int i = 0; i < D; i++) {
            int s = (c >> i & 1) ? 1 : -1, r = i / L, k = i % L;
            e += s * ((c >> (((r + 1) % L) * L + k) & 1) ? 1 : -1);
            e += s * ((c >> (r * L + (k + 1) % L) & 1) ? 1 : -1);
        }
        double w = exp(e / T);
        Z += w;
        E += w * e;
    }
    return E / Z / (2 * D);
}

static void test_ising_2d_small_torus(void **state)
{
    /* sweeps = 1 and 4: few clusters per sample, where a biased cluster count shows. */
    const char *specs[] = {"dim=2,L=4,T=3,sweeps=1", "dim=2,L=4,T=1.5,sweeps=4"};
    const double temps[] = {3, 1.5};
    for (int t = 0; t < 2; t++) {
        size_t n = 20000, D;
        float *x = draw("ising", specs[t], n, 15 + t, &D);
        double *y = nn_stats(x, n, 2, 4), nn, se, exact = torus4_enumeration(temps[t]);
        mean_se(y, n, 1, 0, &nn, &se);
        assert_true(se < 0.003);
        assert_true(fabs(nn - exact) < 5 * se);
        free(y);
        free(x);
    }
}

static void test_ising_statefulness(void **state)
{
    hl_sampler *ring = hl_model_create("ising", "dim=1,L=10");
    hl_sampler *torus = hl_model_create("ising", "dim=2,L=10");
    hl_sampler *clone = hl_model_create("ising", "dim=2,L=10,clone=1,clone_n=100");
    assert_non_null(ring);
    assert_non_null(torus);
    assert_non_null(clone);
    assert_int_equal(hl_sampler_is_stateless(ring), 1);
    assert_int_equal(hl_sampler_is_stateless(torus), 0);
    assert_int_equal(hl_sampler_is_stateless(clone), 1);
    assert_string_equal(hl_sampler_name(torus), "ising");
    hl_sampler_free(ring);
    hl_sampler_free(torus);
    hl_sampler_free(clone);
}

/* ---- phi^4 ------------------------------------------------------------------------- */

/* Moments of the beta = 0 site density by a trapezoid sum (independent of GSL's
 * quadrature). */
static void site_moments_sum(double lambda, double *var, double *kurt)
{
    double m0 = 0, m2 = 0, m4 = 0, h = 1e-4;
    for (double x = -6; x <= 6; x += h) {
        double q = x * x - 1, w = exp(-x * x - lambda * q * q);
        m0 += w, m2 += x * x * w, m4 += x * x * x * x * w;
    }
    *var = m2 / m0;
    *kurt = m4 / m0 / (*var * *var) - 3;
}

static void test_phi4_site_moments(void **state)
{
    const double lambdas[] = {0, 0.5, 2, 20};
    for (int l = 0; l < 4; l++) {
        double var, kurt, v, k;
        assert_int_equal(hl_phi4_site_moments(lambdas[l], &var, &kurt), HL_OK);
        site_moments_sum(lambdas[l], &v, &k);
        assert_true(fabs(var - v) < 1e-8);
        assert_true(fabs(kurt - k) < 1e-7);
    }
    double var, kurt;
    assert_int_equal(hl_phi4_site_moments(0, &var, &kurt), HL_OK);
    assert_true(fabs(var - 0.5) < 1e-10 && fabs(kurt) < 1e-9);
    /* A deep double well is a sign: variance -> 1, excess kurtosis -> -2. */
    assert_int_equal(hl_phi4_site_moments(1e4, &var, &kurt), HL_OK);
    assert_true(fabs(var - 1) < 1e-3 && fabs(kurt + 2) < 1e-3);
}

static void test_phi4_beta0_marginal(void **state)
{
    const double lambdas[] = {0, 0.5, 2, 20};
    for (int l = 0; l < 4; l++) {
        char spec[128];
        snprintf(spec, sizeof spec, "dim=1,L=64,beta=0,lambda=%g,sweeps=2,burnin=60",
                 lambdas[l]);
        size_t n = 1000, D;
        float *x = draw("phi4", spec, n, 20 + l, &D);
        double *y = marginal_stats(x, n, D), mean, mse, var, vse, kurt, kse, v, k;
        mean_se(y, n, 3, 0, &mean, &mse);
        mean_se(y, n, 3, 1, &var, &vse);
        jackknife(y, n, 3, kurtosis_of, NULL, &kurt, &kse);
        assert_int_equal(hl_phi4_site_moments(lambdas[l], &v, &k), HL_OK);
        assert_true(fabs(mean) < 5 * mse);
        assert_true(fabs(var - v) < 5 * vse);
        assert_true(fabs(kurt - k) < 5 * kse);
        assert_true(kse < 0.1); /* power: the kurtoses differ by ~0.5 across lambdas */
        free(y);
        free(x);
    }
}

/* The lambda = 0 covariance by inverting the precision 2 - beta * adjacency. */
static void free_row_dense(int dim, int L, double beta, double *row)
{
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    gsl_matrix *M = gsl_matrix_calloc(D, D), *inv = gsl_matrix_alloc(D, D);
    gsl_permutation *p = gsl_permutation_alloc(D);
    for (size_t i = 0; i < D; i++) {
        *gsl_matrix_ptr(M, i, i) += 2;
        size_t r = i / L, c = i % L;
        size_t nb[4] = {r * L + (c + 1) % L, r * L + (c + L - 1) % L,
                        ((r + 1) % L) * L + c, ((r + L - 1) % L) * L + c};
        if (dim == 1)
            nb[0] = (i + 1) % L, nb[1] = (i + L - 1) % L;
        for (int k = 0; k < 2 * dim; k++)
            *gsl_matrix_ptr(M, i, nb[k]) -= beta;
    }
    int sgn;
    gsl_linalg_LU_decomp(M, p, &sgn);
    gsl_linalg_LU_invert(M, p, inv);
    for (size_t j = 0; j < D; j++)
        row[j] = gsl_matrix_get(inv, 0, j);
    gsl_matrix_free(M);
    gsl_matrix_free(inv);
    gsl_permutation_free(p);
}

static void check_free_field(int dim, int L, double beta, const char *spec, int clone)
{
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L, n = clone ? 4000 : 2000;
    double *exact = malloc(sizeof(double) * D), *dense = malloc(sizeof(double) * D);
    assert_int_equal(hl_phi4_free_covariance_row(dim, L, beta, exact), HL_OK);
    free_row_dense(dim, L, beta, dense);
    for (size_t j = 0; j < D; j++)
        assert_true(fabs(exact[j] - dense[j]) < 1e-10);
    size_t got;
    float *x = draw("phi4", spec, n, 30 + clone, &got);
    assert_int_equal(got, D);
    static const int lags[4][2] = {{0, 0}, {0, 1}, {1, 1}, {0, 2}};
    double *y = lag_stats(x, n, dim, L, 4, lags);
    for (int l = 0; l < 4; l++) {
        double c, se;
        mean_se(y, n, 4, l, &c, &se);
        size_t j = (size_t)(dim == 1 ? lags[l][1] : lags[l][0] * L + lags[l][1]);
        assert_true(fabs(c - exact[j]) < 5 * se);
    }
    free(y);
    free(x);
    free(exact);
    free(dense);
}

static void test_phi4_free_field(void **state)
{
    /* At lambda = 0 the chain must reproduce the exact Gaussian covariance at beta > 0. */
    check_free_field(1, 32, 0.4, "dim=1,L=32,beta=0.4,lambda=0,sweeps=2,burnin=60", 0);
    check_free_field(2, 8, 0.2, "dim=2,L=8,beta=0.2,lambda=0,sweeps=2,burnin=60", 0);
    /* Its clone is the exact Gaussian. */
    check_free_field(1, 32, 0.4, "dim=1,L=32,beta=0.4,lambda=0,clone=1", 1);
}

/* A ring of 3 sites at beta > 0, lambda > 0: <phi_0^2> and <phi_0 phi_1> by a sum
 * over a grid (the integrand is smooth and decays fast, so the sum converges fast). */
static void triangle_moments(double beta, double lambda, double *var, double *nn)
{
    enum { N = 141 };
    double h = 0.05, w[N], v[N], Z = 0, s2 = 0, s11 = 0;
    for (int i = 0; i < N; i++) {
        v[i] = -3.5 + h * i;
        double q = v[i] * v[i] - 1;
        w[i] = exp(-v[i] * v[i] - lambda * q * q);
    }
    for (int a = 0; a < N; a++)
        for (int b = 0; b < N; b++)
            for (int c = 0; c < N; c++) {
                double p = w[a] * w[b] * w[c] *
                           exp(beta * (v[a] * v[b] + v[b] * v[c] + v[c] * v[a]));
                Z += p;
                s2 += p * v[a] * v[a];
                s11 += p * v[a] * v[b];
            }
    *var = s2 / Z;
    *nn = s11 / Z;
}

static void test_phi4_small_ring(void **state)
{
    double var, nn, v, vse, c, cse;
    triangle_moments(1, 1, &var, &nn);
    size_t n = 20000, D;
    float *x = draw("phi4", "dim=1,L=3,beta=1,lambda=1,sweeps=1,burnin=100", n, 25, &D);
    double *m = marginal_stats(x, n, D), *y = nn_stats(x, n, 1, 3);
    mean_se(m, n, 3, 1, &v, &vse);
    mean_se(y, n, 1, 0, &c, &cse);
    assert_true(fabs(v - var) < 5 * vse);
    assert_true(fabs(c - nn) < 5 * cse);
    assert_true(nn > 0.3 && cse < 0.01); /* strongly coupled, and the test has power */
    free(m);
    free(y);
    free(x);
}

static void test_phi4_hopping(void **state)
{
    const double betas[] = {0, 0.3, 0.6};
    double nn[3], se[3];
    for (int b = 0; b < 3; b++) {
        char spec[128];
        snprintf(spec, sizeof spec, "dim=1,L=64,beta=%g,lambda=1,sweeps=2,burnin=60",
                 betas[b]);
        size_t n = 1000, D;
        float *x = draw("phi4", spec, n, 40 + b, &D);
        double *y = nn_stats(x, n, 1, 64), *m = marginal_stats(x, n, D), mean, mse;
        mean_se(y, n, 1, 0, &nn[b], &se[b]);
        mean_se(m, n, 3, 0, &mean, &mse);
        assert_true(fabs(mean) < 5 * mse);
        free(m);
        free(y);
        free(x);
    }
    assert_true(fabs(nn[0]) < 5 * se[0]);   /* independent sites */
    assert_true(nn[1] > 5 * se[1]);
    assert_true(nn[2] - nn[1] > 5 * hypot(se[1], se[2]));
}

/* ---- Clones ------------------------------------------------------------------------ */

/* Nearest-neighbour correlation, variance and excess kurtosis of n samples. */
static void summary(const char *model, const char *spec, int dim, int L, size_t n,
                    uint64_t seed, double v[3], double se[3])
{
    size_t D;
    float *x = draw(model, spec, n, seed, &D);
    double *y = nn_stats(x, n, dim, L), *m = marginal_stats(x, n, D);
    mean_se(y, n, 1, 0, &v[0], &se[0]);
    mean_se(m, n, 3, 1, &v[1], &se[1]);
    jackknife(m, n, 3, kurtosis_of, NULL, &v[2], &se[2]);
    free(m);
    free(y);
    free(x);
}

static void test_clones(void **state)
{
    double c[3], cse[3], o[3], ose[3];
    /* Ising ring: the exact row. */
    summary("ising", "dim=1,L=12,T=1,clone=1", 1, 12, 4000, 50, c, cse);
    double exact[12];
    hl_ising_covariance_row_1d(12, 1, exact);
    assert_true(fabs(c[0] - exact[1]) < 5 * cse[0]);
    assert_true(fabs(c[1] - 1) < 5 * cse[1]);
    assert_true(fabs(c[2]) < 5 * cse[2]); /* the spins' excess kurtosis is -2 */

    /* Ising torus, estimated row (clone_n chain samples), against the chain itself: the
     * difference has the errors of the clone's samples, the chain's samples and the
     * estimate (as large as the chain's, for as many samples). */
    summary("ising", "dim=2,L=16,T=3,clone=1,clone_n=2000,seed=5", 2, 16, 2000, 51, c, cse);
    summary("ising", "dim=2,L=16,T=3", 2, 16, 2000, 52, o, ose);
    assert_true(fabs(o[2] + 2) < 1e-6); /* the chain's own marginal is ±1 */
    assert_true(fabs(c[0] - o[0]) < 5 * sqrt(cse[0] * cse[0] + 2 * ose[0] * ose[0]));
    assert_true(fabs(c[1] - 1) < 5 * cse[1]);
    assert_true(fabs(c[2]) < 5 * cse[2]);

    /* phi^4 at beta > 0, lambda > 0: estimated row. */
    const char *model = "dim=1,L=32,beta=0.4,lambda=1,sweeps=2,burnin=60";
    char spec[160];
    snprintf(spec, sizeof spec, "%s,clone=1,clone_n=2000,seed=3", model);
    summary("phi4", spec, 1, 32, 2000, 53, c, cse);
    summary("phi4", model, 1, 32, 2000, 54, o, ose);
    assert_true(o[2] < -5 * ose[2]); /* the field itself is platykurtic here */
    for (int k = 0; k < 2; k++)
        assert_true(fabs(c[k] - o[k]) < 5 * sqrt(cse[k] * cse[k] + 2 * ose[k] * ose[k]));
    assert_true(fabs(c[2]) < 5 * cse[2]);
}

/* hl_lattice_moment_row is the translation average computed directly. */
static void test_moment_row(void **state)
{
    const char *specs[] = {"dim=1,L=12,T=1", "dim=2,L=6,T=2.5"};
    for (int t = 0; t < 2; t++) {
        int dim = t + 1, L = dim == 1 ? 12 : 6;
        size_t n = 101, D;
        float *x = draw("ising", specs[t], n, 60, &D);
        int lags[36][2];
        for (size_t j = 0; j < D; j++)
            lags[j][0] = (int)(j / L), lags[j][1] = (int)(j % L);
        double *y = lag_stats(x, n, dim, L, (int)D, (const int(*)[2])lags);
        double row[36], iso[36];
        for (int isotropic = 0; isotropic < 2; isotropic++) {
            hl_sampler *s = hl_model_create("ising", specs[t]);
            gsl_rng *r = hl_rng_alloc(60, 7);
            assert_int_equal(hl_lattice_moment_row(s, dim, L, n, isotropic, r,
                                                   isotropic ? iso : row), HL_OK);
            hl_rng_free(r);
            hl_sampler_free(s);
        }
        for (size_t j = 0; j < D; j++) {
            double direct = 0;
            for (size_t m = 0; m < n; m++)
                direct += y[m * D + j] / n;
            assert_true(fabs(row[j] - direct) < 1e-5);
            size_t tj = (j % L) * L + j / L;
            if (dim == 2)
                assert_true(fabs(iso[j] - 0.5 * (row[j] + row[tj])) < 1e-12);
        }
        free(y);
        free(x);
    }
}

/* ---- Errors and reproducibility ---------------------------------------------------- */

static void expect_invalid(const char *model, const char *spec, const char *word)
{
    assert_null(hl_model_create(model, spec));
    if (!strstr(hl_error_message(), word))
        fprintf(stderr, "'%s' does not name %s\n", hl_error_message(), word);
    assert_non_null(strstr(hl_error_message(), word));
}

static void test_invalid_parameters(void **state)
{
    expect_invalid("ising", "T=0", "T");
    expect_invalid("ising", "T=-1", "T");
    expect_invalid("ising", "dim=2,L=600", "L");
    expect_invalid("ising", "dim=3", "dim");
    expect_invalid("ising", "foo=1", "foo");
    expect_invalid("ising", "clone=2", "clone");
    expect_invalid("phi4", "lambda=-1", "lambda");
    expect_invalid("phi4", "dim=2,L=513", "L");
    expect_invalid("phi4", "dim=1,lambda=0,beta=1", "beta");
    expect_invalid("phi4", "dim=2,lambda=0,beta=0.5", "beta");
    expect_invalid("phi4", "sweeps=0", "sweeps");
    expect_invalid("phi4", "bar=2", "bar");
    double row[8], v, k;
    assert_int_equal(hl_ising_covariance_row_1d(8, 0, row), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "T"));
    assert_int_equal(hl_ising_covariance_row_1d(1, 1, row), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "L"));
    assert_int_equal(hl_phi4_site_moments(-1, &v, &k), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "lambda"));
    assert_int_equal(hl_phi4_free_covariance_row(1, 8, 1, row), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "beta"));
    hl_sampler *s = hl_model_create("ising", "dim=1,L=8");
    gsl_rng *r = hl_rng_alloc(1, 1);
    assert_int_equal(hl_lattice_moment_row(s, 1, 9, 10, 0, r, row), HL_EINVAL);
    hl_rng_free(r);
    hl_sampler_free(s);
}

static void test_reproducible(void **state)
{
    const char *models[] = {"ising", "ising", "phi4", "ising", "phi4"};
    const char *specs[] = {"dim=1,L=20", "dim=2,L=8", "dim=2,L=8,burnin=10",
                           "dim=2,L=8,clone=1,clone_n=100", "dim=1,L=20,clone=1,clone_n=100"};
    for (int t = 0; t < 5; t++) {
        size_t D;
        float *a = draw(models[t], specs[t], 6, 1, &D), *b = draw(models[t], specs[t], 6, 1, &D),
              *c = draw(models[t], specs[t], 6, 2, &D);
        assert_memory_equal(a, b, sizeof(float) * 6 * D);
        assert_memory_not_equal(a, c, sizeof(float) * 6 * D);
        free(a);
        free(b);
        free(c);
    }
    /* The clone's own seed changes its estimated covariance, hence its samples. */
    size_t D;
    float *a = draw("ising", "dim=2,L=8,clone=1,clone_n=100,seed=1", 2, 1, &D);
    float *b = draw("ising", "dim=2,L=8,clone=1,clone_n=100,seed=2", 2, 1, &D);
    assert_memory_not_equal(a, b, sizeof(float) * 2 * D);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ising_1d_ring),
        cmocka_unit_test(test_ising_1d_correlation_length),
        cmocka_unit_test(test_ising_2d_onsager),
        cmocka_unit_test(test_ising_2d_small_torus),
        cmocka_unit_test(test_ising_statefulness),
        cmocka_unit_test(test_phi4_site_moments),
        cmocka_unit_test(test_phi4_beta0_marginal),
        cmocka_unit_test(test_phi4_free_field),
        cmocka_unit_test(test_phi4_small_ring),
        cmocka_unit_test(test_phi4_hopping),
        cmocka_unit_test(test_clones),
        cmocka_unit_test(test_moment_row),
        cmocka_unit_test(test_invalid_parameters),
        cmocka_unit_test(test_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
