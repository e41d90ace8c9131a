/* test_cumulant.c — fourth moments and cumulants: estimators against the exact NLGP
 * cumulant, the exact cumulant against independent quadratures, the contractions
 * against naive dense sums, and the error paths.
 *
 * Statistical checks use fixed seeds and tolerances of a few standard errors computed
 * from the same samples (per-sample influence values, see theory.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"
#include "hoclab/theory.h"

#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_erf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* |a - b| <= tol in double precision (cmocka's float comparison has only 24 bits). */
#define assert_close(a, b, tol) close_check((a), (b), (tol), #a, __FILE__, __LINE__)
static void close_check(double a, double b, double tol, const char *what, const char *file,
                        int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("%s:%d: %s = %.15g, expected %.15g (tolerance %.3g)", file, line, what, a, b,
                 tol);
}

static float *draw(const char *model, const char *spec, size_t n, uint64_t seed)
{
    hl_sampler *s = hl_model_create(model, spec);
    assert_non_null(s);
    size_t D = hl_sampler_dim(s);
    float *x = malloc(sizeof(float) * n * D);
    assert_non_null(x);
    gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER + 41);
    assert_int_equal(hl_sampler_sample(s, n, x, r), HL_OK);
    hl_rng_free(r);
    hl_sampler_free(s);
    return x;
}

static hl_nlgp_params ring(int L, double xi, double gain)
{
    return (hl_nlgp_params){1, L, xi, 2, gain, HL_GAIN_SEEDS, 0};
}

static size_t cube(int L)
{
    return (size_t)L * L * L;
}

/* Largest |k4 - ref| / se over all entries (ref NULL: zero). */
static double max_z(const hl_cumulant4 *c, const double *ref)
{
    double z = 0;
    for (size_t q = 0; q < cube(c->L); q++) {
        double diff = fabs(c->k4[q] - (ref ? ref[q] : 0));
        if (c->k4_se[q] == 0) { /* a constant product, e.g. x^4 = 1 for the sign NLGP */
            assert_true(diff < 1e-12);
            continue;
        }
        double e = diff / c->k4_se[q];
        if (e > z)
            z = e;
    }
    return z;
}

/* (1) The Gaussian clone has no fourth cumulant: sampled, within sampling error
 * (while the NLGP, with the same n, is far from zero); exactly, by the formula. */
static void test_gaussian_zero(void **state)
{
    (void)state;
    const int L = 12;
    const size_t n = 100000;
    hl_cumulant4 *c = hl_cumulant4_alloc(L);
    assert_non_null(c);
    float *x = draw("gp", "L=12,xi=2,gain=10", n, 11);
    assert_int_equal(hl_cumulant4_estimate(x, n, c), HL_OK);
    double z_gp = max_z(c, NULL);
    free(x);
    x = draw("nlgp", "L=12,xi=2,gain=10", n, 11);
    assert_int_equal(hl_cumulant4_estimate(x, n, c), HL_OK);
    double z_nlgp = max_z(c, NULL);
    free(x);
    print_message("max |dT| / SE: gp %.2f, nlgp %.1f\n", z_gp, z_nlgp);
    assert_true(z_gp < 5);
    assert_true(z_nlgp > 50);

    /* The clone and the gain -> 0 limit: k4 exactly zero, m4 the Wick sum. */
    hl_nlgp_params p = ring(L, 2, 10);
    p.clone = 1;
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_OK);
    double C1 = hl_cumulant4_c2(c, 0, 1), C2 = hl_cumulant4_c2(c, 0, 2);
    for (size_t q = 0; q < cube(L); q++)
        assert_true(c->k4[q] == 0);
    assert_close(hl_cumulant4_m4(c, 0, 0, 0, 0), 3, 1e-14);
    assert_close(hl_cumulant4_m4(c, 0, 1, 1, 2), 2 * C1 * C1 + C2, 1e-14);
    p = ring(L, 2, 0);
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_OK);
    for (size_t q = 0; q < cube(L); q++)
        assert_true(c->k4[q] == 0);
    /* Small gain: dT = O(a^2) from the z^3 term of erf, so halving a divides it by 4. */
    double mx[2];
    for (int r = 0; r < 2; r++) {
        p = ring(L, 2, r ? 0.005 : 0.01);
        assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_OK);
        mx[r] = 0;
        for (size_t q = 0; q < cube(L); q++)
            mx[r] = fmax(mx[r], fabs(c->k4[q]));
    }
    print_message("max |dT| at gain 0.01: %.3e, 0.005: %.3e\n", mx[0], mx[1]);
    assert_true(mx[0] > 0 && mx[0] < 1e-2);
    assert_close(mx[0] / mx[1], 4, 0.02);
    hl_cumulant4_free(c);
}

/* The standard errors are the spread of the estimate: over 300 independent replicas,
 * the standard deviation of each k4 entry against the mean of its reported SE (the
 * ratio's own sampling error is ~4%). */
static void test_standard_errors(void **state)
{
    (void)state;
    const int L = 8, R = 300;
    const size_t n = 500, L3 = cube(L);
    hl_sampler *s = hl_model_create("nlgp", "L=8,xi=1.5,gain=5");
    assert_non_null(s);
    gsl_rng *r = hl_rng_alloc(41, HL_STREAM_USER + 42);
    float *x = malloc(sizeof(float) * n * L);
    hl_cumulant4 *c = hl_cumulant4_alloc(L);
    double *s1 = calloc(L3, sizeof(double)), *s2 = calloc(L3, sizeof(double)),
           *se = calloc(L3, sizeof(double));
    for (int k = 0; k < R; k++) {
        assert_int_equal(hl_sampler_sample(s, n, x, r), HL_OK);
        assert_int_equal(hl_cumulant4_estimate(x, n, c), HL_OK);
        for (size_t q = 0; q < L3; q++) {
            s1[q] += c->k4[q];
            s2[q] += c->k4[q] * c->k4[q];
            se[q] += c->k4_se[q];
        }
    }
    const int E[][3] = {{0, 0, 0}, {0, 0, 1}, {0, 1, 1}, {1, 1, 2}, {0, 2, 5}, {3, 3, 4}};
    for (int t = 0; t < 6; t++) {
        size_t q = ((size_t)E[t][0] * L + E[t][1]) * L + E[t][2];
        double mean = s1[q] / R, sd = sqrt((s2[q] - mean * s1[q]) / (R - 1));
        print_message("dT(0,%d,%d,%d): replica sd %.5f, mean SE %.5f\n", E[t][0], E[t][1],
                      E[t][2], sd, se[q] / R);
        assert_close(sd / (se[q] / R), 1, 0.15);
    }
    free(s1);
    free(s2);
    free(se);
    free(x);
    hl_cumulant4_free(c);
    hl_rng_free(r);
    hl_sampler_free(s);
}

/* (2) The exact NLGP cumulant equals the sampled one within a few SE everywhere. */
static void exact_vs_sampled(const char *spec, int L, double xi, double gain,
                             hl_nlgp_nonlin nonlin, size_t n, uint64_t seed)
{
    hl_cumulant4 *est = hl_cumulant4_alloc(L), *ex = hl_cumulant4_alloc(L);
    assert_non_null(est);
    assert_non_null(ex);
    hl_nlgp_params p = ring(L, xi, gain);
    p.nonlin = nonlin;
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, ex), HL_OK);
    float *x = draw("nlgp", spec, n, seed);
    assert_int_equal(hl_cumulant4_estimate(x, n, est), HL_OK);
    free(x);
    double z = max_z(est, ex->k4), kmax = 0;
    for (size_t q = 0; q < cube(L); q++)
        kmax = fmax(kmax, fabs(ex->k4[q]));
    print_message("%s: max |dT| %.3f, max |error| / SE %.2f\n", spec, kmax, z);
    assert_true(kmax > 0.1); /* a real signal to compare */
    assert_true(z < 5);
    /* The covariance too (its own SE is not kept; 1e-2 is ~5 SE at this n). */
    for (int d = 0; d < L; d++)
        assert_close(est->c2[d], ex->c2[d], 1e-2);
    hl_cumulant4_free(est);
    hl_cumulant4_free(ex);
}

static void test_exact_vs_sampled(void **state)
{
    (void)state;
    exact_vs_sampled("L=12,xi=2,gain=10", 12, 2, 10, HL_NONLIN_ERF, 200000, 21);
    exact_vs_sampled("L=16,xi=3,gain=3", 16, 3, 3, HL_NONLIN_ERF, 100000, 22);
    exact_vs_sampled("L=8,xi=1.5,nonlin=sign", 8, 1.5, 10, HL_NONLIN_SIGN, 100000, 23);
}

/* ---- Independent references for the exact moments ---------------------------------- */

/* <prod_i erf(a z_{s_i})> / Z^4 by n-point Gauss-Hermite in as many dimensions as there
 * are distinct sites (their latent covariance factorised by Cholesky): the repeated
 * sites make the 4 x 4 covariance singular, so the integral runs over the distinct
 * sites only, with powers of erf. */
static double gh_moment(const hl_nlgp_params *p, const int s[4], size_t n)
{
    int site[4], mult[4], d = 0;
    for (int i = 0; i < 4; i++) {
        int j = 0;
        while (j < d && site[j] != s[i])
            j++;
        if (j == d)
            site[d] = s[i], mult[d++] = 0;
        mult[j]++;
    }
    double K[4][4], Lc[4][4] = {{0}};
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            int dist = abs(site[i] - site[j]);
            dist = dist < p->L - dist ? dist : p->L - dist;
            K[i][j] = hl_nlgp_kernel(dist, p->xi, p->p);
        }
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            double v = K[i][j];
            for (int k = 0; k < j; k++)
                v -= Lc[i][k] * Lc[j][k];
            Lc[i][j] = i == j ? sqrt(v) : v / Lc[j][j];
        }
    gsl_integration_fixed_workspace *w =
        gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, n, 0, 0.5, 0, 0);
    const double *x = gsl_integration_fixed_nodes(w), *wt = gsl_integration_fixed_weights(w);
    double a = hl_nlgp_slope(p->gain, p->convention), Z = hl_nlgp_Z(p->gain, p->convention);
    double total = 0;
    size_t count = 1;
    for (int i = 0; i < d; i++)
        count *= n;
    for (size_t q = 0; q < count; q++) {
        size_t r = q, id[4];
        double weight = 1, val = 1;
        for (int i = 0; i < d; i++, r /= n)
            id[i] = r % n, weight *= wt[id[i]] / sqrt(2 * M_PI);
        for (int i = 0; i < d; i++) {
            double z = 0;
            for (int k = 0; k <= i; k++)
                z += Lc[i][k] * x[id[k]];
            val *= pow(gsl_sf_erf(a * z) / Z, mult[i]);
        }
        total += weight * val;
    }
    gsl_integration_fixed_free(w);
    return total;
}

static void test_exact_references(void **state)
{
    (void)state;
    /* All four sites equal: 3 + the marginal kurtosis (GSL quadrature in data.h). */
    const double gains[] = {0.5, 3, 10, 50, 1000};
    for (int g = 0; g < 5; g++)
        for (int conv = 0; conv < 2; conv++) {
            hl_nlgp_params p = ring(8, 2, gains[g]);
            p.convention = (hl_gain_convention)conv;
            double m4, kurt;
            assert_int_equal(hl_nlgp_moment4(&p, 3, 3, 3, 3, &m4), HL_OK);
            assert_int_equal(hl_nlgp_marginal_kurtosis(gains[g], p.convention, &kurt), HL_OK);
            assert_close(m4 - 3, kurt, 1e-9);
        }
    /* Moderate gain, where Gauss-Hermite converges (slowly where erf^2 or erf^3 of one
     * site appears): the Price integral agrees with order 32 to its convergence. */
    hl_nlgp_params p = ring(10, 2, 0.7);
    const int S[][4] = {{0, 1, 2, 3}, {0, 0, 1, 2}, {0, 0, 2, 2}, {0, 0, 0, 1}, {0, 2, 5, 9}};
    for (size_t t = 0; t < sizeof S / sizeof *S; t++) {
        double m4, g16 = gh_moment(&p, S[t], 16), g24 = gh_moment(&p, S[t], 24),
                   g32 = gh_moment(&p, S[t], 32);
        assert_int_equal(hl_nlgp_moment4(&p, S[t][0], S[t][1], S[t][2], S[t][3], &m4),
                         HL_OK);
        print_message("<x%d x%d x%d x%d>: Price %.12f, GH16 %+.1e, GH24 %+.1e, GH32 %+.1e\n",
                      S[t][0], S[t][1], S[t][2], S[t][3], m4, g16 - m4, g24 - m4, g32 - m4);
        /* Gauss-Hermite converges geometrically to the Price value. */
        assert_close(m4, g32, 2 * fabs(g32 - g24) + 1e-13);
        assert_true(fabs(g32 - m4) < 0.1 * fabs(g16 - m4));
    }
    /* Far-apart sites factorise: <x0^2 x8^2> = 1, <x0^3 x8> = 0 (K(8) = e^-256), also at
     * a large gain, where the correlations are a mix of ~1 (repeats) and ~0. */
    double m4;
    for (int g = 0; g < 2; g++) {
        p = ring(16, 0.5, g ? 1000 : 10);
        assert_int_equal(hl_nlgp_moment4(&p, 0, 0, 8, 8, &m4), HL_OK);
        assert_close(m4, 1, 1e-10);
        assert_int_equal(hl_nlgp_moment4(&p, 0, 0, 0, 8, &m4), HL_OK);
        assert_close(m4, 0, 1e-10);
    }
    /* The large-gain erf tends to the sign NLGP (whose moments use the sign formula). */
    const int T[][4] = {{0, 1, 2, 3}, {0, 0, 1, 2}, {0, 1, 1, 3}};
    for (int t = 0; t < 3; t++) {
        hl_nlgp_params pe = ring(10, 2, 3000), ps = ring(10, 2, 0);
        ps.nonlin = HL_NONLIN_SIGN;
        double me, ms;
        assert_int_equal(hl_nlgp_moment4(&pe, T[t][0], T[t][1], T[t][2], T[t][3], &me), HL_OK);
        assert_int_equal(hl_nlgp_moment4(&ps, T[t][0], T[t][1], T[t][2], T[t][3], &ms), HL_OK);
        assert_close(me, ms, 2e-3);
        assert_true(fabs(me - ms) > 0); /* not the same code path */
    }
    /* The whole ring table equals entry-by-entry calls (symmetry classes are right). */
    p = ring(9, 1.7, 5);
    hl_cumulant4 *c = hl_cumulant4_alloc(9);
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_OK);
    const int U[][4] = {{2, 5, 7, 8}, {8, 1, 1, 4}, {3, 3, 6, 6}, {0, 4, 8, 2}, {6, 6, 6, 0}};
    for (int t = 0; t < 5; t++) {
        assert_int_equal(hl_nlgp_moment4(&p, U[t][0], U[t][1], U[t][2], U[t][3], &m4), HL_OK);
        assert_close(hl_cumulant4_m4(c, U[t][0], U[t][1], U[t][2], U[t][3]), m4, 1e-13);
    }
    hl_cumulant4_free(c);
}

/* ---- (3) Contractions against naive dense sums; (4) the T w^3 identity -------------- */

static void test_contractions(void **state)
{
    (void)state;
    const int L = 7;
    hl_nlgp_params p = ring(L, 1.5, 4);
    hl_cumulant4 *c = hl_cumulant4_alloc(L);
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_OK);
    double w[7] = {0.3, -1.2, 0.5, 2.0, -0.7, 0.1, 0.9};
    double out[7], out_dense[7], naive[7], naive4 = 0;
    for (int i = 0; i < L; i++) {
        naive[i] = 0;
        for (int j = 0; j < L; j++)
            for (int k = 0; k < L; k++)
                for (int l = 0; l < L; l++)
                    naive[i] += hl_cumulant4_k4(c, i, j, k, l) * w[j] * w[k] * w[l];
        naive4 += naive[i] * w[i];
    }
    double *dense = malloc(sizeof(double) * L * L * L * L);
    hl_cumulant4_expand(L, c->k4, dense);
    assert_close(dense[((3 * L + 1) * L + 6) * L + 2], hl_cumulant4_k4(c, 3, 1, 6, 2),
                        0);
    hl_cumulant4_apply3(L, c->k4, w, out);
    hl_tensor4_apply3(L, dense, w, out_dense);
    double scale = 0;
    for (int i = 0; i < L; i++)
        scale = fmax(scale, fabs(naive[i]));
    assert_true(scale > 0.1);
    for (int i = 0; i < L; i++) {
        assert_close(out[i], naive[i], 1e-12 * scale);
        assert_close(out_dense[i], naive[i], 1e-12 * scale);
    }
    assert_close(hl_cumulant4_apply4(L, c->k4, w), naive4, 1e-12 * fabs(naive4));
    assert_close(hl_tensor4_apply4(L, dense, w), naive4, 1e-12 * fabs(naive4));

    /* T w^3 = dT w^3 + 3 (w.Cw) C w, against the contraction of m4 itself. */
    double tw[7], tw_direct[7];
    hl_cumulant4_moment_apply3(c, w, tw);
    hl_cumulant4_apply3(L, c->m4, w, tw_direct);
    double wCw = 0;
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++)
            wCw += w[i] * hl_cumulant4_c2(c, i, j) * w[j];
    assert_true(wCw > 0.1);
    for (int i = 0; i < L; i++) {
        assert_close(tw[i], tw_direct[i], 1e-12 * (fabs(tw_direct[i]) + scale));
        assert_true(fabs(tw[i] - out[i]) > 1e-6); /* the Gaussian part is not zero */
    }
    free(dense);
    hl_cumulant4_free(c);
}

/* ---- (5) The dense estimator against the ring's ------------------------------------ */

static void test_dense_vs_ring(void **state)
{
    (void)state;
    const int L = 8;
    const size_t n = 40000, L4 = (size_t)L * L * L * L;
    float *x = draw("nlgp", "L=8,xi=1.5,gain=5", n, 31);
    hl_cumulant4 *c = hl_cumulant4_alloc(L), *ex = hl_cumulant4_alloc(L);
    assert_int_equal(hl_cumulant4_estimate(x, n, c), HL_OK);
    hl_nlgp_params p = ring(L, 1.5, 5);
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, ex), HL_OK);
    double *C = malloc(sizeof(double) * L * L), *k4 = malloc(sizeof(double) * L4),
           *se = malloc(sizeof(double) * L4);
    assert_int_equal(hl_cumulant4_dense(x, n, L, C, k4, se), HL_OK);
    free(x);
    /* Averaged over translations, the dense moments are the ring's (the ring estimator
     * averages the same products over the origin): exact up to round-off. */
    for (int d = 0; d < L; d++) {
        double s = 0;
        for (int i = 0; i < L; i++)
            s += C[i * L + (i + d) % L];
        assert_close(s / L, c->c2[d], 1e-12);
    }
#define CD(i, j) C[(i) * L + (j)]
    double zmax = 0;
    for (int a = 0; a < L; a++)
        for (int b = 0; b < L; b++)
            for (int cc = 0; cc < L; cc++) {
                double m = 0;
                for (int i = 0; i < L; i++) {
                    int j = (i + a) % L, k = (i + b) % L, l = (i + cc) % L;
                    size_t q = (((size_t)i * L + j) * L + k) * L + l;
                    m += k4[q] + CD(i, j) * CD(k, l) + CD(i, k) * CD(j, l) + CD(i, l) * CD(j, k);
                    zmax = fmax(zmax, fabs(k4[q] - hl_cumulant4_k4(ex, i, j, k, l)) / se[q]);
                }
                assert_close(m / L, hl_cumulant4_m4(c, 0, a, b, cc), 1e-11);
            }
#undef CD
    /* Entry by entry, the dense estimate is within a few of its SE of the exact value. */
    print_message("dense: max |k4 - exact| / SE = %.2f\n", zmax);
    assert_true(zmax < 5.5);
    /* Permutation symmetry of the dense output. */
    assert_close(k4[((1 * L + 5) * L + 2) * L + 7], k4[((7 * L + 2) * L + 1) * L + 5], 0);
    assert_close(se[((1 * L + 5) * L + 2) * L + 7], se[((2 * L + 7) * L + 5) * L + 1], 0);
    free(C);
    free(k4);
    free(se);
    hl_cumulant4_free(c);
    hl_cumulant4_free(ex);
}

/* ---- (6) Errors -------------------------------------------------------------------- */

static void assert_message(const char *word)
{
    if (!strstr(hl_error_message(), word))
        fail_msg("message '%s' does not name '%s'", hl_error_message(), word);
}

static void test_errors(void **state)
{
    (void)state;
    float x[64] = {0};
    double C[64], k4[4096];
    assert_null(hl_cumulant4_alloc(1));
    assert_message("L = 1");
    assert_null(hl_cumulant4_alloc(HL_CUMULANT4_MAX_L + 1));
    assert_message("L = ");
    assert_int_equal(hl_cumulant4_dense(x, 2, HL_CUMULANT4_MAX_DENSE_D + 1, C, k4, NULL),
                     HL_EINVAL);
    assert_message("D = 33");
    assert_int_equal(hl_cumulant4_dense(x, 1, 8, C, k4, NULL), HL_EINVAL);
    assert_message("n = 1");
    hl_cumulant4 *c = hl_cumulant4_alloc(8);
    assert_int_equal(hl_cumulant4_estimate(x, 1, c), HL_EINVAL);
    assert_message("n = 1");
    assert_int_equal(hl_cumulant4_estimate(NULL, 10, c), HL_EINVAL);
    assert_message("X");

    hl_nlgp_params p = ring(8, 2, 3);
    p.dim = 2;
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_EINVAL);
    assert_message("dim");
    p = ring(8, 2, 3);
    p.nonlin = HL_NONLIN_TANH;
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_EINVAL);
    assert_message("nonlin = tanh");
    p.clone = 1; /* the clone of any non-linearity is Gaussian: allowed */
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_OK);
    p = ring(10, 2, 3);
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_EINVAL);
    assert_message("L = 10");
    p = ring(8, 2, 3);
    p.boundary = HL_BOUNDARY_OPEN;
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_EINVAL);
    assert_message("boundary");
    double m4;
    assert_int_equal(hl_nlgp_moment4(&p, 0, 1, 2, 7, &m4), HL_OK); /* open: entries fine */
    assert_int_equal(hl_nlgp_moment4(&p, 0, 1, 2, 8, &m4), HL_EINVAL);
    assert_message("site 8");
    p = ring(8, 2, -1);
    assert_int_equal(hl_nlgp_moment4(&p, 0, 1, 2, 3, &m4), HL_EINVAL);
    assert_message("gain");
    hl_cumulant4_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gaussian_zero),    cmocka_unit_test(test_standard_errors),
        cmocka_unit_test(test_exact_vs_sampled),
        cmocka_unit_test(test_exact_references), cmocka_unit_test(test_contractions),
        cmocka_unit_test(test_dense_vs_ring),    cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
