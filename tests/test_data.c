/* test_data.c — the NLGP and its Gaussian clone against their exact statistics.
 *
 * Every statistical check uses a fixed seed and a tolerance of a few standard errors
 * estimated from the same samples. Samples are independent across draws but not
 * across sites, so each standard error is computed from per-sample averages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "moments.h"

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"
#include "../src/data/sampler_impl.h" /* hl_vec_philox, hl_field */

#include <Random123/philox.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *draw(const hl_nlgp_params *p, size_t n, uint64_t seed)
{
    hl_sampler *s = hl_nlgp_alloc(p);
    assert_non_null(s);
    size_t D = hl_sampler_dim(s);
    float *x = malloc(sizeof(float) * n * D);
    gsl_rng *r = hl_rng_alloc(seed, 7);
    assert_int_equal(hl_sampler_sample(s, n, x, r), HL_OK);
    hl_rng_free(r);
    hl_sampler_free(s);
    return x;
}

/* Empirical <x_0 x_j> using translation invariance: the average over sites i of
 * x_i x_{i+j}, per sample, then its mean and standard error over samples. Returns
 * the largest |error| / standard error and the RMS error relative to the RMS of C. */
static void covariance_check(const hl_nlgp_params *p, size_t n, uint64_t seed,
                             double *max_z, double *rel_rms)
{
    size_t L = p->L, D = p->dim == 1 ? L : L * L;
    float *x = draw(p, n, seed);
    double *exact = malloc(sizeof(double) * D);
    assert_int_equal(hl_nlgp_covariance_row(p, exact), HL_OK);
    double err2 = 0, ref2 = 0;
    *max_z = 0;
    for (size_t j = 0; j < D; j++) {
        size_t jr = j / L, jc = j % L;
        double sum = 0, sum2 = 0;
        for (size_t m = 0; m < n; m++) {
            const float *v = x + m * D;
            double s = 0;
            for (size_t i = 0; i < D; i++) {
                size_t k = p->dim == 1 ? (i + j) % L
                                       : ((i / L + jr) % L) * L + (i % L + jc) % L;
                s += (double)v[i] * v[k];
            }
            s /= D;
            sum += s;
            sum2 += s * s;
        }
        double mean = sum / n, se = sqrt((sum2 / n - mean * mean) / (n - 1));
        double z = fabs(mean - exact[j]) / fmax(se, 1e-12);
        *max_z = fmax(*max_z, z);
        err2 += (mean - exact[j]) * (mean - exact[j]);
        ref2 += exact[j] * exact[j];
    }
    *rel_rms = sqrt(err2 / ref2);
    free(exact);
    free(x);
}

static void check_covariance(hl_nlgp_params p)
{
    double z1, e1, z2, e2;
    covariance_check(&p, 500, 11, &z1, &e1);
    covariance_check(&p, 8000, 12, &z2, &e2);
    /* Within 5 standard errors at every lag (D lags: a false alarm is < 1e-4). */
    assert_true(z1 < 5);
    assert_true(z2 < 5);
    /* 16x the samples: the error shrinks like 1/sqrt(n), i.e. by about 4. It must shrink
     * by at least 2 (a biased sampler would stall at its bias). */
    assert_true(e2 < e1 / 2);
}

static void test_covariance_nlgp_1d(void **state)
{
    check_covariance((hl_nlgp_params){1, 64, 3, 2, 3, HL_GAIN_SEEDS, 0});
}

static void test_covariance_clone_1d(void **state)
{
    check_covariance((hl_nlgp_params){1, 64, 3, 2, 3, HL_GAIN_SEEDS, 1});
}

static void test_covariance_nlgp_2d_p1_authors(void **state)
{
    check_covariance((hl_nlgp_params){2, 8, 1.5, 1, 2, HL_GAIN_AUTHORS, 0});
}

static void test_covariance_clone_2d(void **state)
{
    check_covariance((hl_nlgp_params){2, 8, 2, 2, 10, HL_GAIN_SEEDS, 1});
}

/* Marginal moments from per-sample site averages: <x^2> and <x^4> - 3. */
static void marginal(const hl_nlgp_params *p, size_t n, double *var, double *var_se,
                     double *kurt, double *kurt_se)
{
    float *x = draw(p, n, 21);
    stat v, k;
    marginal_moments(x, n, p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L, &v, &k);
    *var = v.mean, *var_se = v.se, *kurt = k.mean, *kurt_se = k.se;
    free(x);
}

static void test_unit_variance_and_kurtosis(void **state)
{
    const double gains[] = {0.3, 1, 3, 10};
    for (int c = 0; c < 2; c++)
        for (int g = 0; g < 4; g++) {
            hl_nlgp_params p = {1, 100, 4, 2, gains[g], c ? HL_GAIN_AUTHORS : HL_GAIN_SEEDS, 0};
            double var, vse, kurt, kse, exact;
            marginal(&p, 4000, &var, &vse, &kurt, &kse);
            assert_true(fabs(var - 1) < 5 * vse);
            assert_int_equal(hl_nlgp_marginal_kurtosis(p.gain, p.convention, &exact), HL_OK);
            assert_true(fabs(kurt - exact) < 5 * kse);
            /* The clone has the same variance and no excess kurtosis. */
            p.clone = 1;
            marginal(&p, 4000, &var, &vse, &kurt, &kse);
            assert_true(fabs(var - 1) < 5 * vse);
            assert_true(fabs(kurt) < 5 * kse);
        }
}

static void test_kurtosis_limits(void **state)
{
    double k;
    /* g -> 0: Gaussian; g -> infinity: x = sign(z), <x^4> = 1, excess -2. */
    assert_int_equal(hl_nlgp_marginal_kurtosis(1e-3, HL_GAIN_SEEDS, &k), HL_OK);
    assert_true(fabs(k) < 1e-4);
    assert_int_equal(hl_nlgp_marginal_kurtosis(1e4, HL_GAIN_SEEDS, &k), HL_OK);
    assert_true(fabs(k + 2) < 1e-3);
    assert_int_equal(hl_nlgp_marginal_kurtosis(0, HL_GAIN_SEEDS, &k), HL_OK);
    assert_true(k == 0);
    assert_int_equal(hl_nlgp_marginal_kurtosis(-1, HL_GAIN_SEEDS, &k), HL_EINVAL);
}

static void test_gain_conventions(void **state)
{
    for (double g = 0.1; g < 50; g *= 2.3) {
        assert_true(fabs(hl_nlgp_Z(g, HL_GAIN_AUTHORS) - hl_nlgp_Z(g / M_SQRT2, HL_GAIN_SEEDS)) <
                    1e-14);
        double z2 = M_2_PI * asin(g * g / (1 + g * g)); /* the authors' Z^2 */
        assert_true(fabs(hl_nlgp_Z(g, HL_GAIN_AUTHORS) - sqrt(z2)) < 1e-14);
    }
}

static void test_reproducible_streams(void **state)
{
    hl_nlgp_params p = {1, 32, 2, 2, 5, HL_GAIN_SEEDS, 0};
    float *a = draw(&p, 5, 1), *b = draw(&p, 5, 1), *c = draw(&p, 5, 2);
    assert_memory_equal(a, b, sizeof(float) * 5 * 32);
    assert_memory_not_equal(a, c, sizeof(float) * 5 * 32);
    free(a);
    free(b);
    free(c);
}

static void expect_invalid(hl_nlgp_params p, const char *word)
{
    assert_null(hl_nlgp_alloc(&p));
    assert_int_equal(hl_nlgp_validate(&p), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), word));
}

static void test_invalid_parameters(void **state)
{
    expect_invalid((hl_nlgp_params){1, 64, 0, 2, 3, HL_GAIN_SEEDS, 0}, "xi");
    expect_invalid((hl_nlgp_params){1, 64, -2, 2, 3, HL_GAIN_SEEDS, 0}, "xi");
    expect_invalid((hl_nlgp_params){1, 1, 2, 2, 3, HL_GAIN_SEEDS, 0}, "L");
    expect_invalid((hl_nlgp_params){3, 8, 2, 2, 3, HL_GAIN_SEEDS, 0}, "dim");
    expect_invalid((hl_nlgp_params){1, 64, 2, 3, 3, HL_GAIN_SEEDS, 0}, "p");
    expect_invalid((hl_nlgp_params){1, 64, 2, 2, -1, HL_GAIN_SEEDS, 0}, "gain");
    expect_invalid((hl_nlgp_params){1, 64, 2, 2, NAN, HL_GAIN_SEEDS, 0}, "gain");
}

static void test_clipping_reported(void **state)
{
    /* p = 1 with a long xi is positive definite: nothing beyond round-off is clipped. */
    hl_nlgp_params p = {1, 64, 20, 1, 3, HL_GAIN_SEEDS, 0};
    hl_sampler *s = hl_nlgp_alloc(&p);
    int n;
    double f;
    hl_sampler_clipping(s, &n, &f);
    assert_true(f < 1e-12);
    hl_sampler_free(s);
}

/* The vectorised Philox blocks are Random123's philox4x32, bit for bit. */
static void test_vector_philox_is_random123(void **state)
{
    const uint32_t ctr[4] = {7, 0, 3, 0}, key[2] = {0x12345678u, 99};
    enum { NB = 37 }; /* not a multiple of any vector width */
    uint32_t w[4 * NB];
    hl_vec_philox(ctr, key, 1000, NB, w);
    philox4x32_key_t k = {{key[0], key[1]}};
    for (int b = 0; b < NB; b++) {
        philox4x32_ctr_t c = {{ctr[0], ctr[1], ctr[2], ctr[3] | (1000u + b)}};
        philox4x32_ctr_t x = philox4x32(c, k);
        for (int j = 0; j < 4; j++)
            assert_int_equal(w[j * NB + b], x.v[j]);
    }
}

/* hl_rng_normals: mean 0, variance 1, excess kurtosis 0 and the 3-sigma tail mass,
 * each within 5 standard errors of n = 2^21 draws (odd count: the tail path too). */
static void test_normals_moments(void **state)
{
    const size_t n = (1u << 21) + 1;
    float *z = malloc(sizeof(float) * n);
    gsl_rng *r = hl_rng_alloc(3, 11);
    hl_rng_normals(r, n, z);
    double m1 = 0, m2 = 0, m4 = 0, tail = 0, zmax = 0;
    for (size_t i = 0; i < n; i++) {
        double x = z[i];
        assert_true(isfinite(x));
        m1 += x;
        m2 += x * x;
        m4 += x * x * x * x;
        tail += fabs(x) > 3;
        zmax = fmax(zmax, fabs(x));
    }
    m1 /= n, m2 /= n, m4 /= n, tail /= n;
    double p3 = erfc(3 / M_SQRT2); /* P(|z| > 3) */
    assert_true(fabs(m1) < 5 / sqrt(n));
    assert_true(fabs(m2 - 1) < 5 * sqrt(2.0 / n));
    assert_true(fabs(m4 - 3) < 5 * sqrt(96.0 / n));
    assert_true(fabs(tail - p3) < 5 * sqrt(p3 * (1 - p3) / n));
    assert_true(zmax > 4.5 && zmax < 6.7); /* 2^21 draws reach about 5 sigma */
    /* the same stream again gives the same numbers; another stream does not */
    float *z2 = malloc(sizeof(float) * 1000);
    hl_rng_substream(r, 0);
    hl_rng_normals(r, 1000, z2);
    assert_memory_equal(z, z2, sizeof(float) * 1000);
    gsl_rng *o = hl_rng_alloc(3, 12);
    hl_rng_normals(o, 1000, z2);
    assert_memory_not_equal(z, z2, sizeof(float) * 1000);
    hl_rng_free(o);
    hl_rng_free(r);
    free(z);
    free(z2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_covariance_nlgp_1d),
        cmocka_unit_test(test_covariance_clone_1d),
        cmocka_unit_test(test_covariance_nlgp_2d_p1_authors),
        cmocka_unit_test(test_covariance_clone_2d),
        cmocka_unit_test(test_unit_variance_and_kurtosis),
        cmocka_unit_test(test_kurtosis_limits),
        cmocka_unit_test(test_gain_conventions),
        cmocka_unit_test(test_reproducible_streams),
        cmocka_unit_test(test_invalid_parameters),
        cmocka_unit_test(test_clipping_reported),
        cmocka_unit_test(test_vector_philox_is_random123),
        cmocka_unit_test(test_normals_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
