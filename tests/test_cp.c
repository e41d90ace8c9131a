/* test_cp.c — symmetric CP decomposition: planted low-rank tensors are recovered
 * (orthonormal and non-orthogonal factors, both signs of gamma), small symmetric
 * noise degrades the recovery gracefully, localised factors have a high IPR and a
 * narrow ring width, results are reproducible, and bad inputs give clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/error.h"
#include "hoclab/rng.h"
#include "hoclab/theory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Planted tensors ---------------------------------------------------------------- */

/* r unit vectors in R^D from (seed): orthonormal (Gram-Schmidt) or just normalised. */
static double *random_factors(size_t D, int r, int orthonormal, uint64_t seed)
{
    gsl_rng *g = hl_rng_alloc(seed, 11);
    double *U = malloc(sizeof(double) * D * r);
    for (int k = 0; k < r; k++) {
        double *u = U + (size_t)k * D;
        for (size_t i = 0; i < D; i++)
            u[i] = hl_rng_gaussian(g, 1.0);
        for (int a = 0; orthonormal && a < k; a++) {
            double c = 0;
            for (size_t i = 0; i < D; i++)
                c += u[i] * U[(size_t)a * D + i];
            for (size_t i = 0; i < D; i++)
                u[i] -= c * U[(size_t)a * D + i];
        }
        double n = 0;
        for (size_t i = 0; i < D; i++)
            n += u[i] * u[i];
        for (size_t i = 0; i < D; i++)
            u[i] /= sqrt(n);
    }
    hl_rng_free(g);
    return U;
}

/* T = sum_k gamma_k u_k^4 as a dense D^4 array. */
static double *planted_tensor(size_t D, int r, const double *gamma, const double *U)
{
    double *T = calloc(D * D * D * D, sizeof(double));
    for (int k = 0; k < r; k++) {
        const double *u = U + (size_t)k * D;
        for (size_t i = 0; i < D; i++)
            for (size_t j = 0; j < D; j++)
                for (size_t l = 0; l < D; l++)
                    for (size_t m = 0; m < D; m++)
                        T[((i * D + j) * D + l) * D + m] += gamma[k] * u[i] * u[j] * u[l] * u[m];
    }
    return T;
}

static void sort4(size_t *a)
{
    for (int i = 1; i < 4; i++)
        for (int j = i; j > 0 && a[j] < a[j - 1]; j--) {
            size_t t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
}

/* Add exactly symmetric Gaussian noise of standard deviation sigma per entry: one draw
 * per sorted index tuple, copied to all its permutations. Returns ||N||_F. */
static double add_symmetric_noise(double *T, size_t D, double sigma, uint64_t seed)
{
    size_t D4 = D * D * D * D;
    double *N = calloc(D4, sizeof(double));
    gsl_rng *g = hl_rng_alloc(seed, 12);
    for (size_t n = 0; n < D4; n++) {
        size_t idx[4] = {n / (D * D * D), n / (D * D) % D, n / D % D, n % D};
        size_t s[4] = {idx[0], idx[1], idx[2], idx[3]};
        sort4(s);
        if (memcmp(s, idx, sizeof s) == 0)
            N[n] = hl_rng_gaussian(g, sigma);
    }
    double n2 = 0;
    for (size_t n = 0; n < D4; n++) {
        size_t s[4] = {n / (D * D * D), n / (D * D) % D, n / D % D, n % D};
        sort4(s);
        double v = N[((s[0] * D + s[1]) * D + s[2]) * D + s[3]];
        T[n] += v;
        n2 += v * v;
    }
    hl_rng_free(g);
    free(N);
    return sqrt(n2);
}

static double frob(const double *T, size_t D)
{
    double s = 0;
    for (size_t n = 0; n < D * D * D * D; n++)
        s += T[n] * T[n];
    return sqrt(s);
}

/* For each planted factor, the found factor of largest |overlap|: the smallest such
 * overlap over the planted factors, and the largest relative gamma error. */
static void match(const hl_cp_result *res, int r, const double *gamma, const double *U,
                  double *min_overlap, double *max_gamma_err)
{
    size_t D = res->D;
    *min_overlap = 1;
    *max_gamma_err = 0;
    for (int k = 0; k < r; k++) {
        double best = -1;
        int ib = -1;
        for (int a = 0; a < res->rank; a++) {
            double c = 0;
            for (size_t i = 0; i < D; i++)
                c += U[(size_t)k * D + i] * res->u[(size_t)a * D + i];
            if (fabs(c) > best) {
                best = fabs(c);
                ib = a;
            }
        }
        if (best < *min_overlap)
            *min_overlap = best;
        double ge = fabs(res->gamma[ib] - gamma[k]) / fabs(gamma[k]);
        if (ge > *max_gamma_err)
            *max_gamma_err = ge;
    }
}

/* Decompose a dense T with the given options; returns the result. */
static hl_cp_result *decompose_dense(const double *T, size_t D, const hl_cp_options *o)
{
    hl_cp_dense *d = hl_cp_dense_alloc(T, D);
    assert_non_null(d);
    hl_cp_result *res = hl_cp_result_alloc(D, o->rank);
    assert_non_null(res);
    assert_int_equal(hl_cp_decompose(D, hl_cp_dense_contract3, d, o, res), HL_OK);
    hl_cp_dense_free(d);
    return res;
}

/* ---- (1) Planted tensors are recovered ---------------------------------------------- */

static void check_planted(size_t D, int r, int orthonormal, uint64_t seed)
{
    /* Both signs, distinct magnitudes; the negative one first and largest. */
    const double gammas[3] = {-3.0, 2.0, 1.2};
    double *U = random_factors(D, r, orthonormal, seed);
    double *T = planted_tensor(D, r, gammas, U);
    hl_cp_options o;
    hl_cp_options_default(&o, r);
    hl_cp_result *res = decompose_dense(T, D, &o);
    double ov, ge, err;
    match(res, r, gammas, U, &ov, &ge);
    assert_int_equal(hl_cp_reconstruction_error(T, res, &err), HL_OK);
    if (!(ov > 0.999 && ge < 1e-6 && err < 1e-8))
        fail_msg("D=%zu r=%d orth=%d: overlap %.12f gamma err %.3g recon err %.3g", D, r,
                 orthonormal, ov, ge, err);
    for (int k = 0; k < r; k++) {
        assert_true(res->converged[k]);
        assert_true(res->change[k] < o.tol);
        assert_true(res->iterations[k] >= 1 && res->iterations[k] <= o.max_iter);
        if (k > 0) /* sorted by |gamma| */
            assert_true(fabs(res->gamma[k]) <= fabs(res->gamma[k - 1]));
    }
    hl_cp_result_free(res);
    free(T);
    free(U);
}

static void test_planted_orthonormal(void **state)
{
    check_planted(10, 1, 1, 1);
    check_planted(14, 2, 1, 2);
    check_planted(20, 3, 1, 3);
}

static void test_planted_nonorthogonal(void **state)
{
    check_planted(10, 2, 0, 4);
    check_planted(12, 3, 0, 5);
    check_planted(20, 3, 0, 6);
}

/* A fixed shift (Kolda & Mayo's original method) also recovers the factors, more
 * slowly than the automatic one, which starts unshifted. */
static void test_fixed_shift(void **state)
{
    const double gammas[2] = {-1.0, 0.6};
    size_t D = 10;
    double *U = random_factors(D, 2, 1, 15);
    double *T = planted_tensor(D, 2, gammas, U);
    hl_cp_options o;
    hl_cp_options_default(&o, 2);
    o.refine_sweeps = 0; /* orthogonal factors need none; iterations are the greedy's */
    hl_cp_result *a = decompose_dense(T, D, &o);
    o.shift = 5;
    hl_cp_result *b = decompose_dense(T, D, &o);
    double ov, ge, err;
    match(b, 2, gammas, U, &ov, &ge);
    assert_int_equal(hl_cp_reconstruction_error(T, b, &err), HL_OK);
    if (!(ov > 0.999 && ge < 1e-6 && err < 1e-8))
        fail_msg("overlap %.12f gamma err %.3g recon err %.3g", ov, ge, err);
    assert_true(b->converged[0] && b->converged[1]);
    if (!(b->iterations[0] > 2 * a->iterations[0]))
        fail_msg("iterations: fixed shift %d, automatic %d", b->iterations[0],
                 a->iterations[0]);
    hl_cp_result_free(a);
    hl_cp_result_free(b);
    free(T);
    free(U);
}

/* The error measure itself: exact factors give 0, a gamma off by d gives d / |gamma|
 * for rank 1 (||u^4||_F = 1). */
static void test_reconstruction_error(void **state)
{
    size_t D = 6;
    double *U = random_factors(D, 1, 1, 16), gamma = -0.7, err;
    double *T = planted_tensor(D, 1, &gamma, U);
    hl_cp_result *res = hl_cp_result_alloc(D, 1);
    memcpy(res->u, U, sizeof(double) * D);
    res->gamma[0] = gamma;
    assert_int_equal(hl_cp_reconstruction_error(T, res, &err), HL_OK);
    assert_true(err < 1e-15);
    res->gamma[0] = gamma + 0.07;
    assert_int_equal(hl_cp_reconstruction_error(T, res, &err), HL_OK);
    assert_float_equal(err, 0.1, 1e-12);
    memset(T, 0, sizeof(double) * D * D * D * D); /* zero T: the model's own norm */
    assert_int_equal(hl_cp_reconstruction_error(T, res, &err), HL_OK);
    assert_float_equal(err, 0.63, 1e-12);
    hl_cp_result_free(res);
    free(T);
    free(U);
}

/* Greedy deflation alone is biased when the factors overlap; refinement removes it. */
static void test_refinement(void **state)
{
    const double gammas[3] = {-3.0, 2.0, 1.2};
    size_t D = 12;
    double *U = random_factors(D, 3, 0, 5);
    double *T = planted_tensor(D, 3, gammas, U);
    hl_cp_options o;
    hl_cp_options_default(&o, 3);
    o.refine_sweeps = 0;
    hl_cp_result *greedy = decompose_dense(T, D, &o);
    o.refine_sweeps = 50;
    hl_cp_result *refined = decompose_dense(T, D, &o);
    double eg, er;
    assert_int_equal(hl_cp_reconstruction_error(T, greedy, &eg), HL_OK);
    assert_int_equal(hl_cp_reconstruction_error(T, refined, &er), HL_OK);
    assert_int_equal(greedy->sweeps, 0);
    assert_true(refined->sweeps >= 1 && refined->sweeps <= 50);
    assert_true(refined->sweep_change < o.refine_tol);
    if (!(eg > 1e-4 && er < 1e-8))
        fail_msg("greedy error %.3g, refined %.3g", eg, er);
    hl_cp_result_free(greedy);
    hl_cp_result_free(refined);
    free(T);
    free(U);
}

/* Asking for more factors than planted: the extra gammas vanish. */
static void test_rank_too_high(void **state)
{
    const double gammas[2] = {1.5, -1.0};
    size_t D = 10;
    double *U = random_factors(D, 2, 1, 7);
    double *T = planted_tensor(D, 2, gammas, U);
    hl_cp_options o;
    hl_cp_options_default(&o, 3);
    hl_cp_result *res = decompose_dense(T, D, &o);
    double ov, ge, err;
    match(res, 2, gammas, U, &ov, &ge);
    assert_int_equal(hl_cp_reconstruction_error(T, res, &err), HL_OK);
    if (!(ov > 0.999 && ge < 1e-6 && err < 1e-8 && fabs(res->gamma[2]) < 1e-10))
        fail_msg("overlap %.12f gamma err %.3g recon %.3g extra gamma %.3g", ov, ge, err,
                 res->gamma[2]);
    hl_cp_result_free(res);
    free(T);
    free(U);
}

/* The callback API on a tensor never formed: sum_k gamma_k u_k^4 with D = 200. */
typedef struct {
    size_t D;
    int r;
    const double *gamma, *U;
} implicit_ctx;

static void implicit_contract3(void *ctx, const double *w, double *out)
{
    implicit_ctx *c = ctx;
    memset(out, 0, sizeof(double) * c->D);
    for (int k = 0; k < c->r; k++) {
        const double *u = c->U + (size_t)k * c->D;
        double s = 0;
        for (size_t i = 0; i < c->D; i++)
            s += u[i] * w[i];
        for (size_t i = 0; i < c->D; i++)
            out[i] += c->gamma[k] * s * s * s * u[i];
    }
}

static void test_callback_implicit(void **state)
{
    const double gammas[3] = {0.7, -2.5, 1.1};
    size_t D = 200;
    double *U = random_factors(D, 3, 0, 8);
    implicit_ctx c = {D, 3, gammas, U};
    hl_cp_options o;
    hl_cp_options_default(&o, 3);
    hl_cp_result *res = hl_cp_result_alloc(D, 3);
    assert_int_equal(hl_cp_decompose(D, implicit_contract3, &c, &o, res), HL_OK);
    double ov, ge;
    match(res, 3, gammas, U, &ov, &ge);
    if (!(ov > 0.999 && ge < 1e-6))
        fail_msg("overlap %.12f gamma err %.3g", ov, ge);
    assert_true(res->gamma[0] < 0); /* the largest |gamma| first: -2.5 */
    hl_cp_result_free(res);
    free(U);
}

/* ---- (2) Noise ---------------------------------------------------------------------- */

static void noisy(double sigma, double *overlap, double *gamma_err, double *err,
                  double *noise_rel)
{
    const double gammas[3] = {2.0, -1.5, 1.0};
    size_t D = 12;
    double *U = random_factors(D, 3, 1, 9);
    double *T = planted_tensor(D, 3, gammas, U);
    double nn = add_symmetric_noise(T, D, sigma, 10);
    *noise_rel = nn / frob(T, D);
    hl_cp_options o;
    hl_cp_options_default(&o, 3);
    hl_cp_result *res = decompose_dense(T, D, &o);
    match(res, 3, gammas, U, overlap, gamma_err);
    assert_int_equal(hl_cp_reconstruction_error(T, res, err), HL_OK);
    hl_cp_result_free(res);
    free(T);
    free(U);
}

static void test_noise(void **state)
{
    double ov3, ge3, e3, n3, ov5, ge5, e5, n5;
    noisy(1e-3, &ov3, &ge3, &e3, &n3);
    noisy(1e-5, &ov5, &ge5, &e5, &n5);
    /* Recovery survives, and its defects shrink with the noise (about linearly in
     * sigma for the overlap's distance to 1 squared, and gamma). The fit cannot beat
     * the noise (the planted tensor already leaves ||N||) and should not be much
     * worse than it. */
    if (!(ov3 > 0.99 && ov5 > 0.9999 && 1 - ov5 < 1 - ov3 && ge5 < ge3 && ge3 < 0.05))
        fail_msg("overlaps %.9f %.9f gamma errors %.3g %.3g", ov3, ov5, ge3, ge5);
    if (!(e3 <= 1.01 * n3 && e3 > 0.5 * n3 && e5 <= 1.01 * n5 && e5 > 0.5 * n5))
        fail_msg("errors %.3g %.3g against noise %.3g %.3g", e3, e5, n3, n5);
}

/* ---- (3) Localisation: IPR and ring width ------------------------------------------- */

static void test_ipr_width_functions(void **state)
{
    double e[8] = {0, 0, 0, -2, 0, 0, 0, 0}, flat[8], z[8] = {0};
    for (int i = 0; i < 8; i++)
        flat[i] = 0.3;
    assert_float_equal(hl_cp_ipr(e, 8), 1.0, 1e-15);
    assert_float_equal(hl_cp_ipr(flat, 8), 1.0 / 8, 1e-15);
    assert_true(isnan(hl_cp_ipr(z, 8)));
    double c, w;
    assert_int_equal(hl_cp_ring_width(e, 8, &c, &w), HL_OK);
    assert_float_equal(c, 3.0, 1e-12);
    assert_float_equal(w, 0.0, 1e-12);
    assert_int_equal(hl_cp_ring_width(flat, 8, &c, &w), HL_OK);
    assert_true(isinf(w));
    /* Two equal sites 0 and L-1 on the ring: centre between them, across the seam. */
    double two[8] = {1, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(hl_cp_ring_width(two, 8, &c, NULL), HL_OK);
    assert_float_equal(c, 7.5, 1e-12);
    assert_int_equal(hl_cp_ring_width(z, 8, &c, &w), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "zero"));
    assert_int_equal(hl_cp_ring_width(e, 0, &c, &w), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "L = 0"));
    assert_int_equal(hl_cp_ring_width(NULL, 8, &c, &w), HL_EINVAL);
}

/* A rank-1 tensor gamma u^4 of u given on a ring of L sites: the recovered factor. */
static void rank1_factor(const double *u, size_t L, double gamma, double *out)
{
    double *T = planted_tensor(L, 1, &gamma, u);
    hl_cp_options o;
    hl_cp_options_default(&o, 1);
    hl_cp_result *res = decompose_dense(T, L, &o);
    assert_float_equal(res->gamma[0], gamma, 1e-9 * fabs(gamma));
    memcpy(out, res->u, sizeof(double) * L);
    hl_cp_result_free(res);
    free(T);
}

static void test_localised_factor(void **state)
{
    enum { L = 32 };
    const double s = 1.5, x0 = 10.0;
    double u[L], f[L];
    /* Bump whose weight u^2 is a Gaussian of standard deviation s sites; the NLGP
     * cumulant's sign along localised directions (negative). */
    double n2 = 0;
    for (int i = 0; i < L; i++) {
        double d = fabs(i - x0);
        d = fmin(d, L - d);
        u[i] = exp(-d * d / (4 * s * s));
        n2 += u[i] * u[i];
    }
    for (int i = 0; i < L; i++)
        u[i] /= sqrt(n2);
    rank1_factor(u, L, -1.7, f);
    double ov = 0;
    for (int i = 0; i < L; i++)
        ov += u[i] * f[i];
    assert_true(ov > 1 - 1e-12); /* sign fixed: largest entry positive */
    /* Continuum values (exact here to ~exp(-2 pi^2 s^2)): IPR = 1/(2 sqrt(pi) s),
     * circular width s, centre x0. */
    double ipr = hl_cp_ipr(f, L), c, w;
    assert_float_equal(ipr, 1 / (2 * sqrt(M_PI) * s), 1e-9);
    assert_true(ipr > 4 * 3.0 / (2 * L)); /* 4 times the cosine's below */
    assert_int_equal(hl_cp_ring_width(f, L, &c, &w), HL_OK);
    assert_float_equal(w, s, 1e-8);
    assert_float_equal(c, x0, 1e-8);

    /* Delocalised: a cosine, IPR 3/(2L), no centre. */
    for (int i = 0; i < L; i++)
        u[i] = cos(2 * M_PI * 3 * i / L + 0.4) * sqrt(2.0 / L);
    rank1_factor(u, L, 0.8, f);
    ov = 0;
    for (int i = 0; i < L; i++)
        ov += u[i] * f[i];
    assert_true(fabs(ov) > 1 - 1e-12);
    assert_float_equal(hl_cp_ipr(f, L), 3.0 / (2 * L), 1e-12);
    assert_int_equal(hl_cp_ring_width(f, L, &c, &w), HL_OK);
    assert_true(isinf(w));
}

/* The NLGP's exact fourth cumulant through the ring contraction of the cumulant
 * module: its CP factors are localised, negative and translates of one another; the
 * Gaussian clone's cumulant is zero. */
typedef struct {
    int L;
    const double *t;
} ring_ctx;

static void ring_contract3(void *ctx, const double *w, double *out)
{
    ring_ctx *c = ctx;
    hl_cumulant4_apply3(c->L, c->t, w, out);
}

static void nlgp_factors(int clone, hl_cp_result *res)
{
    hl_nlgp_params p;
    memset(&p, 0, sizeof p);
    p.dim = 1;
    p.L = (int)res->D;
    p.xi = 2;
    p.p = 2;
    p.gain = 3;
    p.clone = clone;
    hl_cumulant4 *c = hl_cumulant4_alloc(p.L);
    assert_non_null(c);
    assert_int_equal(hl_nlgp_cumulant4_exact(&p, c), HL_OK);
    ring_ctx rc = {p.L, c->k4};
    hl_cp_options o;
    hl_cp_options_default(&o, res->rank);
    o.ftol = 1e-10; /* the factors slide along the lattice: see theory.h */
    assert_int_equal(hl_cp_decompose(res->D, ring_contract3, &rc, &o, res), HL_OK);
    hl_cumulant4_free(c);
}

static void test_nlgp_cumulant(void **state)
{
    enum { L = 16 };
    hl_cp_result *res = hl_cp_result_alloc(L, 2);
    nlgp_factors(0, res);
    double g0 = res->gamma[0], g1 = res->gamma[1];
    double i0 = hl_cp_ipr(res->u, L), i1 = hl_cp_ipr(res->u + L, L), c0, c1;
    assert_int_equal(hl_cp_ring_width(res->u, L, &c0, NULL), HL_OK);
    assert_int_equal(hl_cp_ring_width(res->u + L, L, &c1, NULL), HL_OK);
    /* Translate factor 1 onto factor 0 by the nearest whole number of sites. */
    int shift = (int)lround(c1 - c0);
    double ov = 0;
    for (int i = 0; i < L; i++)
        ov += res->u[i] * res->u[L + ((i + shift) % L + L) % L];
    if (!(g0 < 0 && g1 < 0 && fabs(g0 - g1) < 1e-4 * fabs(g0) && i0 > 2 * 3.0 / (2 * L) &&
          fabs(i0 - i1) < 1e-3 * i0 && ov > 0.99))
        fail_msg("gammas %g %g, IPRs %g %g, centres %g %g, translate overlap %g", g0, g1,
                 i0, i1, c0, c1, ov);
    nlgp_factors(1, res);
    assert_true(fabs(res->gamma[0]) < 1e-10);
    hl_cp_result_free(res);
}

/* ---- (4) Reproducibility ------------------------------------------------------------- */

static void test_same_seed(void **state)
{
    const double gammas[3] = {1.0, -0.9, 0.5};
    size_t D = 12;
    double *U = random_factors(D, 3, 0, 13);
    double *T = planted_tensor(D, 3, gammas, U);
    add_symmetric_noise(T, D, 1e-3, 14);
    hl_cp_options o;
    hl_cp_options_default(&o, 3);
    o.seed = 77;
    hl_cp_result *a = decompose_dense(T, D, &o), *b = decompose_dense(T, D, &o);
    assert_memory_equal(a->u, b->u, sizeof(double) * D * 3);
    assert_memory_equal(a->gamma, b->gamma, sizeof(double) * 3);
    assert_memory_equal(a->iterations, b->iterations, sizeof(int) * 3);
    assert_int_equal(a->sweeps, b->sweeps);
    hl_cp_result_free(a);
    hl_cp_result_free(b);
    free(T);
    free(U);
}

/* ---- (5) Errors ---------------------------------------------------------------------- */

static void nan_contract3(void *ctx, const double *w, double *out)
{
    size_t D = *(size_t *)ctx;
    for (size_t i = 0; i < D; i++)
        out[i] = NAN;
}

#define EXPECT_EINVAL(call, word)                                                        \
    do {                                                                                 \
        assert_int_equal((call), HL_EINVAL);                                             \
        if (!strstr(hl_error_message(), word))                                           \
            fail_msg("message '%s' does not name '%s'", hl_error_message(), word);       \
    } while (0)

static void test_errors(void **state)
{
    size_t D = 4;
    double gamma = 1, u[4] = {0.5, 0.5, 0.5, 0.5};
    double *T = planted_tensor(D, 1, &gamma, u);
    hl_cp_dense *d = hl_cp_dense_alloc(T, D);
    assert_non_null(d);
    hl_cp_result *res = hl_cp_result_alloc(D, 2);
    assert_non_null(res);
    hl_cp_options o;
    hl_cp_options_default(&o, 2);
    assert_int_equal(hl_cp_decompose(D, hl_cp_dense_contract3, d, &o, res), HL_OK);

    EXPECT_EINVAL(hl_cp_decompose(0, hl_cp_dense_contract3, d, &o, res), "D = 0");
    EXPECT_EINVAL(hl_cp_decompose(D, NULL, d, &o, res), "contract3");
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, NULL, res), "options");
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &o, NULL), "result");
    hl_cp_options b = o;
    b.rank = 0;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "rank = 0");
    b = o;
    b.rank = 3;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "allocated");
    EXPECT_EINVAL(hl_cp_decompose(5, hl_cp_dense_contract3, d, &o, res), "allocated");
    b = o;
    b.restarts = 0;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "restarts");
    b = o;
    b.max_iter = 0;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "max_iter");
    b = o;
    b.probe_iter = 0;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "probe_iter");
    b = o;
    b.tol = 0;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "tol");
    b = o;
    b.shift = -1;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "shift");
    b = o;
    b.refine_sweeps = -1;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "refine_sweeps");
    b = o;
    b.refine_tol = NAN;
    EXPECT_EINVAL(hl_cp_decompose(D, hl_cp_dense_contract3, d, &b, res), "refine_tol");

    assert_null(hl_cp_result_alloc(0, 2));
    assert_non_null(strstr(hl_error_message(), "D = 0"));
    assert_null(hl_cp_result_alloc(D, 0));
    assert_non_null(strstr(hl_error_message(), "rank = 0"));

    assert_null(hl_cp_dense_alloc(T, 0));
    assert_non_null(strstr(hl_error_message(), "D = 0"));
    assert_null(hl_cp_dense_alloc(NULL, D));
    assert_non_null(strstr(hl_error_message(), "T is NULL"));
    T[((0 * D + 1) * D + 2) * D + 3] += 1e-3; /* breaks the symmetry of one entry */
    assert_null(hl_cp_dense_alloc(T, D));
    assert_non_null(strstr(hl_error_message(), "not symmetric"));
    T[0] = NAN;
    assert_null(hl_cp_dense_alloc(T, D));
    assert_non_null(strstr(hl_error_message(), "NaN"));

    assert_int_equal(hl_cp_decompose(D, nan_contract3, &D, &o, res), HL_ENUMERIC);
    assert_non_null(strstr(hl_error_message(), "NaN"));

    double err;
    EXPECT_EINVAL(hl_cp_reconstruction_error(NULL, res, &err), "T is NULL");
    EXPECT_EINVAL(hl_cp_reconstruction_error(T, NULL, &err), "result is NULL");

    hl_cp_result_free(res);
    hl_cp_dense_free(d);
    hl_cp_result_free(NULL);
    hl_cp_dense_free(NULL);
    free(T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_orthonormal),
        cmocka_unit_test(test_planted_nonorthogonal),
        cmocka_unit_test(test_fixed_shift),
        cmocka_unit_test(test_reconstruction_error),
        cmocka_unit_test(test_refinement),
        cmocka_unit_test(test_rank_too_high),
        cmocka_unit_test(test_callback_implicit),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_ipr_width_functions),
        cmocka_unit_test(test_localised_factor),
        cmocka_unit_test(test_nlgp_cumulant),
        cmocka_unit_test(test_same_seed),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
