/* test_nlgp.c — the NLGP's non-linearities (erf, sign, tanh, odd polynomial) and its
 * open boundaries, against exact statistics and independent references.
 *
 * References are computed here, independently of src/data/nlgp.c: closed forms for the
 * polynomial (Gaussian moments) and sign (arcsine law), and plain trapezoid rules for
 * tanh (spectrally accurate for analytic, Gaussian-decaying integrands). Statistical
 * checks use fixed seeds and tolerances of a few standard errors estimated from
 * per-sample averages (samples are independent, sites are not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "moments.h"

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static hl_sampler *create(const char *model, const char *spec)
{
    hl_sampler *s = hl_model_create(model, spec);
    if (!s)
        print_message("%s %s: %s\n", model, spec, hl_error_message());
    assert_non_null(s);
    return s;
}

static float *draw(hl_sampler *s, size_t n, uint64_t seed)
{
    size_t D = hl_sampler_dim(s);
    float *x = malloc(sizeof(float) * n * D);
    gsl_rng *r = hl_rng_alloc(seed, 7);
    assert_int_equal(hl_sampler_sample(s, n, x, r), HL_OK);
    hl_rng_free(r);
    return x;
}

/* Mean over samples of the per-sample average of x_a x_b over the given pairs, and
 * its standard error. */

static stat pair_average(const float *x, size_t n, size_t D, const size_t *a,
                         const size_t *b, size_t npairs)
{
    double s1 = 0, s2 = 0;
    for (size_t m = 0; m < n; m++) {
        const float *v = x + m * D;
        double s = 0;
        for (size_t k = 0; k < npairs; k++)
            s += (double)v[a[k]] * v[b[k]];
        s /= npairs;
        s1 += s;
        s2 += s * s;
    }
    stat r = {s1 / n, 0};
    r.se = sqrt(fmax(s2 / n - r.mean * r.mean, 0) / (n - 1));
    return r;
}

static double zscore(stat s, double exact) { return fabs(s.mean - exact) / fmax(s.se, 1e-12); }


/* ---- Independent references ------------------------------------------------------- */

static double std_normal(double z) { return exp(-0.5 * z * z) / sqrt(2 * M_PI); }

/* <tanh(a z)^k>, trapezoid on [-10, 10]. */
static double tanh_moment(double a, int k)
{
    double h = 1e-3, s = 0;
    for (double z = -10; z <= 10; z += h)
        s += pow(tanh(a * z), k) * std_normal(z);
    return s * h;
}

/* <tanh(a z1) tanh(a z2)> / Z^2 at correlation rho: product trapezoid in (u, v),
 * z1 = u, z2 = rho u + sqrt(1 - rho^2) v. */
static double tanh_cov_reference(double a, double rho)
{
    double h = fmin(0.05, 0.2 / a), s = 0, c = sqrt(1 - rho * rho);
    int n = (int)(9 / h);
    for (int i = -n; i <= n; i++) {
        double u = i * h, tu = tanh(a * u) * std_normal(u), inner = 0;
        for (int j = -n; j <= n; j++) {
            double v = j * h;
            inner += tanh(a * (rho * u + c * v)) * std_normal(v);
        }
        s += tu * inner;
    }
    return s * h * h / tanh_moment(a, 2);
}

/* z + c z^3: <P^2> and <P^4> from the Gaussian moments <z^2k> = (2k - 1)!!. */
static double cubic_m2(double c) { return 1 + 6 * c + 15 * c * c; }
static double cubic_m4(double c)
{
    return 3 + 4 * c * 15 + 6 * c * c * 105 + 4 * c * c * c * 945 + c * c * c * c * 10395;
}

/* ---- The variants tested: each by registry spec and by struct -------------------- */

typedef struct {
    const char *spec;      /* appended to "L=..,xi=..,p=.." */
    hl_nlgp_params p;      /* the same model as a struct (dim, L, xi, p set by the test) */
} variant;

#define P(...) ((hl_nlgp_params){.dim = 1, .p = 2, __VA_ARGS__})
#define P2(...) ((hl_nlgp_params){.dim = 2, .p = 2, __VA_ARGS__})
static const variant variants[] = {
    {"nonlin=erf,gain=3", P(.gain = 3)},
    {"nonlin=sign", P(.gain = 10, .nonlin = HL_NONLIN_SIGN)},
    {"nonlin=tanh,gain=2", P(.gain = 2, .nonlin = HL_NONLIN_TANH)},
    {"nonlin=tanh,gain=20,convention=authors",
     P(.gain = 20, .convention = HL_GAIN_AUTHORS, .nonlin = HL_NONLIN_TANH)},
    {"nonlin=poly,coeffs=1:0.1", P(.gain = 10, .nonlin = HL_NONLIN_POLY, .n_coeffs = 2,
                                   .coeffs = {1, 0.1})},
    {"nonlin=poly,coeffs=1:-0.1", P(.gain = 10, .nonlin = HL_NONLIN_POLY, .n_coeffs = 2,
                                    .coeffs = {1, -0.1})},
    {"nonlin=poly,coeffs=1:-0.1:0.003", P(.gain = 10, .nonlin = HL_NONLIN_POLY, .n_coeffs = 3,
                                          .coeffs = {1, -0.1, 0.003})},
};
enum { N_VARIANTS = sizeof variants / sizeof *variants };

/* The variant's sampler through the registry; it must draw the same numbers as the
 * struct-built one (so the spec maps onto the struct). */
static hl_sampler *variant_sampler(const variant *v, hl_nlgp_params *p, int dim, int L,
                                   double xi, int kp, int clone, const char *extra)
{
    char spec[256];
    snprintf(spec, sizeof spec, "dim=%d,L=%d,xi=%g,p=%d,%s%s", dim, L, xi, kp, v->spec,
             extra);
    *p = v->p;
    p->dim = dim;
    p->L = L;
    p->xi = xi;
    p->p = kp;
    p->clone = clone;
    if (strstr(extra, "boundary=open"))
        p->boundary = HL_BOUNDARY_OPEN;
    hl_sampler *s = create(clone ? "gp" : "nlgp", spec), *t = hl_nlgp_alloc(p);
    assert_non_null(t);
    float *a = draw(s, 3, 5), *b = draw(t, 3, 5);
    assert_memory_equal(a, b, sizeof(float) * 3 * hl_sampler_dim(s));
    free(a);
    free(b);
    hl_sampler_free(t);
    return s;
}

/* ---- Marginals -------------------------------------------------------------------- */

static void test_marginals(void **state)
{
    enum { N = 4000, L = 100 };
    for (int k = 0; k < N_VARIANTS; k++)
        for (int clone = 0; clone < 2; clone++) {
            hl_nlgp_params p;
            hl_sampler *s = variant_sampler(&variants[k], &p, 1, L, 4, 2, clone, "");
            float *x = draw(s, N, 21 + k);
            stat var, kurt;
            marginal_moments(x, N, L, &var, &kurt);
            double exact;
            assert_int_equal(hl_nlgp_marginal_kurtosis_of(&p, &exact), HL_OK);
            print_message("%-40s clone %d: var %.4f (se %.4f) kurt %+.4f (se %.4f) exact "
                          "%+.4f\n", variants[k].spec, clone, var.mean, var.se, kurt.mean,
                          kurt.se, exact);
            assert_true(zscore(var, 1) < 5);
            assert_true(zscore(kurt, exact) < 5);
            if (clone)
                assert_true(exact == 0);
            free(x);
            hl_sampler_free(s);
        }
}

static void test_kurtosis_references(void **state)
{
    double k;
    /* Polynomial z + c z^3: exact from Gaussian moments. */
    for (double c = -0.3; c <= 0.5; c += 0.2) {
        hl_nlgp_params p = P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY, .n_coeffs = 2,
                             .coeffs = {1, c});
        assert_int_equal(hl_nlgp_marginal_kurtosis_of(&p, &k), HL_OK);
        double m2 = cubic_m2(c);
        assert_true(fabs(k - (cubic_m4(c) / (m2 * m2) - 3)) < 1e-10);
    }
    /* x = z (c1 only) is Gaussian; x = z^3 alone: <z^12> / <z^6>^2 - 3 = 10395 / 225 - 3. */
    hl_nlgp_params lin = P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY, .n_coeffs = 1,
                           .coeffs = {2.5});
    assert_int_equal(hl_nlgp_marginal_kurtosis_of(&lin, &k), HL_OK);
    assert_true(fabs(k) < 1e-12);
    hl_nlgp_params cube = P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY, .n_coeffs = 2,
                            .coeffs = {0, 1});
    assert_int_equal(hl_nlgp_marginal_kurtosis_of(&cube, &k), HL_OK);
    assert_true(fabs(k - (10395.0 / 225 - 3)) < 1e-9);
    /* Degree 5 against the trapezoid rule. */
    hl_nlgp_params q5 = P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY, .n_coeffs = 3,
                          .coeffs = {1, -0.1, 0.003});
    double m2 = 0, m4 = 0, h = 1e-3;
    for (double z = -12; z <= 12; z += h) {
        double v = z - 0.1 * z * z * z + 0.003 * pow(z, 5), w = std_normal(z) * h;
        m2 += v * v * w;
        m4 += v * v * v * v * w;
    }
    assert_int_equal(hl_nlgp_marginal_kurtosis_of(&q5, &k), HL_OK);
    assert_true(fabs(k - (m4 / (m2 * m2) - 3)) < 1e-8);
    /* tanh against the trapezoid rule. */
    const double gains[] = {0.5, 2, 10, 100};
    for (int g = 0; g < 4; g++) {
        hl_nlgp_params p = P(.L = 16, .xi = 2, .gain = gains[g], .nonlin = HL_NONLIN_TANH);
        assert_int_equal(hl_nlgp_marginal_kurtosis_of(&p, &k), HL_OK);
        double m2 = tanh_moment(gains[g], 2), ref = tanh_moment(gains[g], 4) / (m2 * m2) - 3;
        assert_true(fabs(k - ref) < 1e-7);
    }
    /* erf agrees with the erf-only function; sign is -2; the Gaussian limits are 0. */
    hl_nlgp_params e = P(.L = 16, .xi = 2, .gain = 3, .convention = HL_GAIN_AUTHORS);
    double k2;
    assert_int_equal(hl_nlgp_marginal_kurtosis_of(&e, &k), HL_OK);
    assert_int_equal(hl_nlgp_marginal_kurtosis(3, HL_GAIN_AUTHORS, &k2), HL_OK);
    assert_true(k == k2 && k < -0.5);
    e.nonlin = HL_NONLIN_SIGN;
    assert_int_equal(hl_nlgp_marginal_kurtosis_of(&e, &k), HL_OK);
    assert_true(k == -2);
    e.nonlin = HL_NONLIN_TANH;
    e.gain = 0;
    assert_int_equal(hl_nlgp_marginal_kurtosis_of(&e, &k), HL_OK);
    assert_true(k == 0);
}

static void test_sign_is_plus_minus_one(void **state)
{
    enum { N = 2000, L = 64 };
    hl_sampler *s = create("nlgp", "nonlin=sign,L=64,xi=3");
    float *x = draw(s, N, 3);
    double s1 = 0, s2 = 0;
    for (size_t m = 0; m < N; m++) {
        double mean = 0;
        for (size_t i = 0; i < L; i++) {
            float v = x[m * L + i];
            assert_true(v == 1.0f || v == -1.0f);
            mean += v / L;
        }
        s1 += mean;
        s2 += mean * mean;
    }
    /* Symmetric: <x> = 0 within 5 standard errors. */
    stat mean = {s1 / N, sqrt((s2 / N - s1 * s1 / N / N) / (N - 1))};
    assert_true(zscore(mean, 0) < 5);
    stat var, kurt;
    marginal_moments(x, N, L, &var, &kurt);
    assert_true(var.mean == 1 && kurt.mean == -2); /* exactly, not statistically */
    free(x);
    hl_sampler_free(s);
}

/* ---- The pointwise map on the same latent draws ------------------------------------ */

static void check_pointwise(const char *spec, const char *extra, double (*f)(double), double Z)
{
    char s1[256], s2[256];
    snprintf(s1, sizeof s1, "L=40,xi=3,%s%s", spec, extra);
    snprintf(s2, sizeof s2, "L=40,xi=3,gain=0%s", extra); /* erf at gain 0: x = z */
    hl_sampler *s = create("nlgp", s1), *g = create("nlgp", s2);
    size_t n = 50, D = hl_sampler_dim(s);
    float *x = draw(s, n, 9), *z = draw(g, n, 9);
    double worst = 0;
    for (size_t i = 0; i < n * D; i++)
        worst = fmax(worst, fabs(x[i] - f(z[i]) / Z) / (1 + fabs(x[i])));
    assert_true(worst < 1e-5);
    free(x);
    free(z);
    hl_sampler_free(s);
    hl_sampler_free(g);
}

static double tanh2z(double z) { return tanh(2 * z); }
static double signz(double z) { return z > 0 ? 1 : -1; }
static double poly135(double z) { return 0.5 * z - 0.2 * z * z * z + 0.01 * pow(z, 5); }

static void test_pointwise_maps(void **state)
{
    const char *extras[] = {"", ",boundary=open"};
    for (int b = 0; b < 2; b++) {
        check_pointwise("nonlin=tanh,gain=2", extras[b], tanh2z, sqrt(tanh_moment(2, 2)));
        check_pointwise("nonlin=sign", extras[b], signz, 1);
        /* Z^2 = <P^2> = sum_n n! d_n^2 with P = 0.5 z - 0.2 z^3 + 0.01 z^5:
         * d1 = 0.5 - 0.6 + 0.15, d3 = -0.2 + 0.1, d5 = 0.01. */
        double d1 = 0.05, d3 = -0.1, d5 = 0.01;
        check_pointwise("nonlin=poly,coeffs=0.5:-0.2:0.01", extras[b], poly135,
                        sqrt(d1 * d1 + 6 * d3 * d3 + 120 * d5 * d5));
    }
}

/* ---- Covariance: the exact map, and the samples ----------------------------------- */

static void test_covariance_map_references(void **state)
{
    enum { L = 32 };
    double row[L], lat[L];
    hl_nlgp_params g = P(.L = L, .xi = 3, .gain = 0);
    assert_int_equal(hl_nlgp_covariance_row(&g, lat), HL_OK); /* the latent kernel */
    /* tanh against the 2D trapezoid rule (independent of the Chebyshev map). */
    const double gains[] = {2, 20};
    for (int k = 0; k < 2; k++) {
        hl_nlgp_params p = P(.L = L, .xi = 3, .gain = gains[k], .nonlin = HL_NONLIN_TANH);
        assert_int_equal(hl_nlgp_covariance_row(&p, row), HL_OK);
        assert_true(row[0] == 1);
        for (int j = 1; j <= 6; j++) {
            double ref = tanh_cov_reference(gains[k], lat[j]);
            assert_true(fabs(row[j] - ref) < 1e-8);
        }
    }
    /* z^3 alone: <z1^3 z2^3> = 9 rho + 6 rho^3, <z^6> = 15. */
    hl_nlgp_params c = P(.L = L, .xi = 3, .nonlin = HL_NONLIN_POLY, .n_coeffs = 2,
                         .coeffs = {0, -2});
    assert_int_equal(hl_nlgp_covariance_row(&c, row), HL_OK);
    for (int j = 0; j < L; j++)
        assert_true(fabs(row[j] - (9 * lat[j] + 6 * pow(lat[j], 3)) / 15) < 1e-14);
    /* sign: the arcsine law. */
    hl_nlgp_params s = P(.L = L, .xi = 3, .nonlin = HL_NONLIN_SIGN);
    assert_int_equal(hl_nlgp_covariance_row(&s, row), HL_OK);
    for (int j = 0; j < L; j++)
        assert_true(fabs(row[j] - M_2_PI * asin(lat[j])) < 1e-14);
}

/* Periodic, translation invariant: <x_i x_{i+j}> averaged over i, for every lag j. */
static void check_periodic_covariance(const hl_nlgp_params *p, hl_sampler *s, size_t n,
                                      uint64_t seed)
{
    size_t L = (size_t)p->L, D = hl_sampler_dim(s);
    double *exact = malloc(sizeof(double) * D);
    size_t *a = malloc(sizeof(size_t) * D), *b = malloc(sizeof(size_t) * D);
    assert_int_equal(hl_nlgp_covariance_row(p, exact), HL_OK);
    float *x = draw(s, n, seed);
    double worst = 0;
    for (size_t j = 0; j < D; j++) {
        size_t jr = j / L, jc = j % L;
        for (size_t i = 0; i < D; i++) {
            a[i] = i;
            b[i] = p->dim == 1 ? (i + j) % L : ((i / L + jr) % L) * L + (i % L + jc) % L;
        }
        worst = fmax(worst, zscore(pair_average(x, n, D, a, b, D), exact[j]));
    }
    assert_true(worst < 5);
    free(x);
    free(exact);
    free(a);
    free(b);
}

static void test_covariance_samples(void **state)
{
    for (int k = 0; k < N_VARIANTS; k++)
        for (int clone = 0; clone < 2; clone++) {
            hl_nlgp_params p;
            hl_sampler *s = variant_sampler(&variants[k], &p, 1, 64, 3, 2, clone, "");
            check_periodic_covariance(&p, s, 4000, 31 + k);
            hl_sampler_free(s);
        }
    /* 2D, p = 1, tanh. */
    for (int clone = 0; clone < 2; clone++) {
        hl_nlgp_params p;
        hl_sampler *s = variant_sampler(&variants[2], &p, 2, 8, 1.5, 1, clone, "");
        check_periodic_covariance(&p, s, 4000, 41);
        hl_sampler_free(s);
    }
}

/* The check has power: sign's covariance is far from the latent kernel's. */
static void test_covariance_check_has_power(void **state)
{
    enum { N = 4000, L = 64 };
    hl_nlgp_params p = P(.L = L, .xi = 3, .nonlin = HL_NONLIN_SIGN), g = P(.L = L, .xi = 3);
    double exact[L], lat[L];
    assert_int_equal(hl_nlgp_covariance_row(&p, exact), HL_OK);
    assert_int_equal(hl_nlgp_covariance_row(&g, lat), HL_OK);
    hl_sampler *s = hl_nlgp_alloc(&p);
    float *x = draw(s, N, 51);
    size_t a[L], b[L];
    for (size_t i = 0; i < L; i++)
        a[i] = i, b[i] = (i + 2) % L;
    stat c = pair_average(x, N, L, a, b, L);
    assert_true(zscore(c, exact[2]) < 5);
    assert_true(zscore(c, lat[2]) > 20);
    free(x);
    hl_sampler_free(s);
}

/* ---- Open boundaries -------------------------------------------------------------- */

/* <x_a x_b> over every pair of the window at offset (jr, jc) (jr = 0 in 1D). */
static stat open_lag(const float *x, size_t n, int dim, int L, int jr, int jc)
{
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L, np = 0;
    size_t *a = malloc(sizeof(size_t) * D), *b = malloc(sizeof(size_t) * D);
    for (int r = 0; r + jr < (dim == 1 ? 1 : L); r++)
        for (int c = 0; c + jc < L; c++) {
            a[np] = (size_t)r * L + c;
            b[np++] = (size_t)(r + jr) * L + c + jc;
        }
    stat s = pair_average(x, n, D, a, b, np);
    free(a);
    free(b);
    return s;
}

static stat one_pair(const float *x, size_t n, size_t D, size_t i, size_t j)
{
    return pair_average(x, n, D, &i, &j, 1);
}

static void test_open_1d(void **state)
{
    enum { N = 4000, L = 64 };
    const char *specs[] = {"gain=3", "nonlin=tanh,gain=2"};
    for (int k = 0; k < 2; k++)
        for (int clone = 0; clone < 2; clone++) {
            char spec[128];
            snprintf(spec, sizeof spec, "L=64,xi=3,%s,boundary=open", specs[k]);
            hl_sampler *s = create(clone ? "gp" : "nlgp", spec);
            assert_int_equal(hl_sampler_dim(s), L);
            assert_true(hl_nlgp_torus_size(s) >= 2 * L);
            int nc;
            double frac;
            hl_sampler_clipping(s, &nc, &frac);
            assert_true(frac < 1e-12);
            hl_nlgp_params p = P(.L = L, .xi = 3, .gain = k ? 2 : 3, .clone = clone,
                                 .nonlin = k ? HL_NONLIN_TANH : HL_NONLIN_ERF,
                                 .boundary = HL_BOUNDARY_OPEN);
            double row[L], per[L], kurt;
            assert_int_equal(hl_nlgp_covariance_row(&p, row), HL_OK);
            p.boundary = HL_BOUNDARY_PERIODIC;
            assert_int_equal(hl_nlgp_covariance_row(&p, per), HL_OK);
            /* Open: the kernel of the plain distance; periodic: of the ring's. */
            assert_true(fabs(row[L - 1]) < 1e-12 && per[L - 1] > 0.5 && row[1] == per[1]);
            float *x = draw(s, N, 61 + 2 * k + clone);
            /* Every lag, averaged over the window's pairs. */
            for (int j = 0; j < L; j++)
                assert_true(zscore(open_lag(x, N, 1, L, 0, j), row[j]) < 5);
            /* No edge effects: neighbours at the edges and in the middle alike. */
            assert_true(zscore(one_pair(x, N, L, 0, 1), row[1]) < 5);
            assert_true(zscore(one_pair(x, N, L, L / 2, L / 2 + 1), row[1]) < 5);
            assert_true(zscore(one_pair(x, N, L, L - 2, L - 1), row[1]) < 5);
            /* The ends are far apart, not neighbours. */
            stat ends = one_pair(x, N, L, 0, L - 1);
            assert_true(zscore(ends, 0) < 5 && zscore(ends, per[L - 1]) > 20);
            stat var, ku;
            marginal_moments(x, N, L, &var, &ku);
            p.boundary = HL_BOUNDARY_OPEN;
            assert_int_equal(hl_nlgp_marginal_kurtosis_of(&p, &kurt), HL_OK);
            assert_true(zscore(var, 1) < 5 && zscore(ku, kurt) < 5);
            free(x);
            hl_sampler_free(s);
        }
}

static void test_open_2d(void **state)
{
    enum { N = 3000, L = 10, D = L * L };
    for (int clone = 0; clone < 2; clone++) {
        hl_sampler *s = create(clone ? "gp" : "nlgp", "dim=2,L=10,xi=2,nonlin=sign,"
                                                      "boundary=open");
        assert_int_equal(hl_sampler_dim(s), D);
        assert_true(hl_nlgp_torus_size(s) >= 2 * L);
        hl_nlgp_params p = P2(.L = L, .xi = 2, .gain = 10, .clone = clone,
                             .nonlin = HL_NONLIN_SIGN, .boundary = HL_BOUNDARY_OPEN);
        double row[D];
        assert_int_equal(hl_nlgp_covariance_row(&p, row), HL_OK);
        float *x = draw(s, N, 71 + clone);
        const int lags[][2] = {{0, 1}, {1, 0}, {1, 1}, {2, 3}, {0, L - 1}, {L - 1, L - 1}};
        for (int k = 0; k < 6; k++) {
            stat c = open_lag(x, N, 2, L, lags[k][0], lags[k][1]);
            assert_true(zscore(c, row[lags[k][0] * L + lags[k][1]]) < 5);
        }
        /* Corners of a row and opposite corners: uncorrelated (periodic: neighbours). */
        assert_true(zscore(one_pair(x, N, D, 0, L - 1), 0) < 5);
        assert_true(zscore(one_pair(x, N, D, 0, D - 1), 0) < 5);
        assert_true(one_pair(x, N, D, 0, 1).mean > 0.4); /* exact: 0.57 */
        free(x);
        hl_sampler_free(s);
    }
}

static void test_open_embedding_size(void **state)
{
    /* p = 1: the minimal embedding is positive definite at once (M = 2L = 100). */
    hl_sampler *s = create("nlgp", "L=50,xi=100,p=1,boundary=open");
    int nc;
    double frac;
    assert_int_equal(hl_nlgp_torus_size(s), 100);
    hl_sampler_clipping(s, &nc, &frac);
    assert_true(frac < 1e-12);
    hl_sampler_free(s);
    /* p = 2 with xi ~ L: the torus must grow past 2L; the result is exact. */
    s = create("gp", "L=32,xi=20,boundary=open,gain=3");
    assert_true(hl_nlgp_torus_size(s) > 64 && hl_nlgp_torus_size(s) <= 32 * 32);
    hl_sampler_clipping(s, &nc, &frac);
    assert_true(frac < 1e-12);
    hl_nlgp_params p = P(.L = 32, .xi = 20, .gain = 3, .clone = 1,
                         .boundary = HL_BOUNDARY_OPEN);
    double row[32];
    assert_int_equal(hl_nlgp_covariance_row(&p, row), HL_OK);
    float *x = draw(s, 4000, 81);
    for (int j = 0; j < 32; j += 3)
        assert_true(zscore(open_lag(x, 4000, 1, 32, 0, j), row[j]) < 5);
    free(x);
    hl_sampler_free(s);
    /* xi >> L: the growth limit (32 L) is reached and the clipping is reported. */
    s = create("nlgp", "L=16,xi=400,boundary=open");
    assert_true(hl_nlgp_torus_size(s) <= 32 * 16);
    hl_sampler_clipping(s, &nc, &frac);
    assert_true(nc > 0 && frac > 1e-12);
    hl_sampler_free(s);
    /* Periodic samplers draw on their own ring. */
    s = create("nlgp", "L=50,xi=3");
    assert_int_equal(hl_nlgp_torus_size(s), 50);
    hl_sampler_free(s);
}

/* ---- Validation ------------------------------------------------------------------- */

static void expect_spec_error(const char *model, const char *spec, const char *word)
{
    assert_null(hl_model_create(model, spec));
    if (!strstr(hl_error_message(), word))
        print_message("'%s': message '%s' lacks '%s'\n", spec, hl_error_message(), word);
    assert_non_null(strstr(hl_error_message(), word));
}

static void expect_invalid(hl_nlgp_params p, const char *word)
{
    double k, row[16 * 16];
    assert_null(hl_nlgp_alloc(&p));
    assert_non_null(strstr(hl_error_message(), word));
    assert_int_equal(hl_nlgp_validate(&p), HL_EINVAL);
    assert_int_equal(hl_nlgp_marginal_kurtosis_of(&p, &k), HL_EINVAL);
    assert_int_equal(hl_nlgp_covariance_row(&p, row), HL_EINVAL);
}

static void test_invalid(void **state)
{
    expect_spec_error("nlgp", "nonlin=cubic", "nonlin");
    expect_spec_error("nlgp", "nonlin=poly", "coeffs");
    expect_spec_error("gp", "nonlin=poly,coeffs=", "coeffs");
    expect_spec_error("nlgp", "nonlin=poly,coeffs=1:x", "coeffs");
    expect_spec_error("nlgp", "nonlin=poly,coeffs=1::3", "coeffs");
    expect_spec_error("nlgp", "nonlin=poly,coeffs=1:", "coeffs");
    expect_spec_error("nlgp", "nonlin=poly,coeffs=:1", "coeffs");
    expect_spec_error("nlgp", "nonlin=poly,coeffs=1 3", "coeffs");
    expect_spec_error("nlgp", "nonlin=poly,coeffs=1:inf", "coeffs");
    expect_spec_error("nlgp", "nonlin=poly,coeffs=1:2:3:4:5:6:7:8:9", "coeffs");
    expect_spec_error("nlgp", "nonlin=poly,coeffs=0:0", "coeffs");
    expect_spec_error("nlgp", "nonlin=tanh,coeffs=1:0.5", "coeffs");
    expect_spec_error("nlgp", "coeffs=1", "coeffs");
    expect_spec_error("nlgp", "boundary=closed", "boundary");
    expect_spec_error("gp", "nonlin=tanh,gain=150", "gain");
    /* Eight coefficients (degree 15) are accepted. */
    hl_sampler *s = create("nlgp", "nonlin=poly,coeffs=1:0:0:0:0:0:0:1e-9,L=16");
    hl_sampler_free(s);

    expect_invalid(P(.L = 16, .xi = 2, .nonlin = (hl_nlgp_nonlin)4), "nonlin");
    expect_invalid(P(.L = 16, .xi = 2, .boundary = (hl_nlgp_boundary)2), "boundary");
    expect_invalid(P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY), "coeffs");
    expect_invalid(P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY, .n_coeffs = 9), "coeffs");
    expect_invalid(P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY, .n_coeffs = -1), "coeffs");
    expect_invalid(P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY, .n_coeffs = 2,
                     .coeffs = {1, NAN}), "coeffs");
    expect_invalid(P(.L = 16, .xi = 2, .nonlin = HL_NONLIN_POLY, .n_coeffs = 3), "coeffs");
    expect_invalid(P(.L = 16, .xi = 2, .n_coeffs = 1, .coeffs = {1}), "coeffs");
    expect_invalid(P(.L = 16, .xi = 2, .gain = 101, .nonlin = HL_NONLIN_TANH), "gain");
    expect_invalid(P(.L = 16, .xi = 2, .gain = 142, .convention = HL_GAIN_AUTHORS,
                     .nonlin = HL_NONLIN_TANH), "gain");
    /* ... but the authors' scaling allows gain 100 sqrt 2 = slope 100. */
    hl_nlgp_params ok = P(.L = 16, .xi = 2, .gain = 141, .convention = HL_GAIN_AUTHORS,
                          .nonlin = HL_NONLIN_TANH);
    assert_int_equal(hl_nlgp_validate(&ok), HL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marginals),
        cmocka_unit_test(test_kurtosis_references),
        cmocka_unit_test(test_sign_is_plus_minus_one),
        cmocka_unit_test(test_pointwise_maps),
        cmocka_unit_test(test_covariance_map_references),
        cmocka_unit_test(test_covariance_samples),
        cmocka_unit_test(test_covariance_check_has_power),
        cmocka_unit_test(test_open_1d),
        cmocka_unit_test(test_open_2d),
        cmocka_unit_test(test_open_embedding_size),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
