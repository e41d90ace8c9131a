/* test_conv.c — the convolutional student on a ring and on a torus: analytic gradients
 * against central finite differences (every activation used, each bias kind, fixed and
 * trained readout, dim 1 and 2), periodic padding (a circular shift of the input, 1D
 * or 2D, leaves phi unchanged), that online
 * SGD learns the NLGP task, error paths naming the parameter, and the RF measures
 * (alignment, best cosine over shifts, tiling; on the ring and the torus) on cases with
 * known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { K = 3, L = 13, KS = 5, D2 = L * L, T2 = KS * KS };

static double numeric(hl_conv *n, float *p, const float *x, float y, float eps)
{
    float old = *p;
    *p = old + eps;
    double up = hl_conv_grad(n, x, y, NULL, NULL, NULL);
    *p = old - eps;
    double down = hl_conv_grad(n, x, y, NULL, NULL, NULL);
    *p = old;
    return (up - down) / (2.0 * eps);
}

/* Tolerance relative to the largest gradient: float32 round-off is relative to the
 * loss. */
static void compare(const float *analytic, const double *num, int m)
{
    double scale = 0;
    for (int i = 0; i < m; i++)
        scale = fmax(scale, fabs(num[i]));
    assert_true(scale > 1e-4);   /* a vanishing gradient would pass anything */
    for (int i = 0; i < m; i++)
        assert_true(fabs(analytic[i] - num[i]) <= 3e-3 * scale + 1e-5);
}

static void check_grad(hl_act act, hl_bias bias, int train_readout, int dim)
{
    hl_conv_config c = hl_conv_defaults(L);
    c.dim = dim;
    c.K = K, c.k = KS, c.act = act, c.bias = bias, c.bias_value = 0.4;
    const int D = (int)hl_conv_sites(&c), T = (int)hl_conv_taps(&c);
    c.train_readout = train_readout, c.std0w = 1.0, c.std0v = 1.0;
    hl_conv *n = hl_conv_alloc(&c);
    assert_non_null(n);
    gsl_rng *r = hl_rng_alloc(11, 1);
    hl_conv_init(n, r);
    float x[D2], y = -1.0f;
    for (int i = 0; i < D; i++)
        x[i] = (float)hl_rng_gaussian(r, 1.0);
    if (act == HL_ACT_RELU) {
        /* move biases until no preactivation sits near the kink, where a finite
         * difference measures the kink and not the gradient */
        for (int tries = 0; tries < 100; tries++) {
            hl_conv_forward(n, x);
            float mn = 1e9f;
            for (int i = 0; i < K * D; i++)
                mn = fminf(mn, fabsf(n->H[i]));
            if (mn > 0.02f)
                break;
            for (int ch = 0; ch < K; ch++)
                n->b[ch] += 0.013f;
        }
    }
    float dF[K * T2], dv[K], db[K];
    double l0 = hl_conv_grad(n, x, y, dF, dv, db);
    assert_true(isfinite(l0) && l0 > 0);
    double num[K * T2];
    const float eps = 1e-2f;
    for (int i = 0; i < K * T; i++)
        num[i] = numeric(n, &n->F[i], x, y, eps);
    compare(dF, num, K * T);
    for (int i = 0; i < K; i++)
        num[i] = numeric(n, &n->v[i], x, y, eps);
    compare(dv, num, K);
    if (bias != HL_BIAS_NONE) {
        for (int i = 0; i < K; i++)
            num[i] = numeric(n, &n->b[i], x, y, eps);
        compare(db, num, K);
    }
    /* a step moves only what is trained, and lowers this sample's loss */
    float v0[K], b0[K];
    memcpy(v0, n->v, sizeof v0), memcpy(b0, n->b, sizeof b0);
    n->cfg.lr = 1e-3, n->cfg.lr_readout = 1e-3;
    hl_conv_step(n, x, y);
    assert_true(hl_conv_grad(n, x, y, NULL, NULL, NULL) < l0);
    assert_int_equal(memcmp(v0, n->v, sizeof v0) == 0, !train_readout);
    assert_int_equal(memcmp(b0, n->b, sizeof b0) == 0, bias != HL_BIAS_TRAINABLE);
    hl_rng_free(r);
    hl_conv_free(n);
}

static void test_gradients(void **state)
{
    (void)state;
    for (int dim = 1; dim <= 2; dim++) {
        check_grad(HL_ACT_ERF, HL_BIAS_TRAINABLE, 0, dim);
        check_grad(HL_ACT_ERF, HL_BIAS_NONE, 1, dim);
        /* on the torus 3 x 169 preactivations leave no bias shift with all of them away
         * from ReLU's kink, so there a smooth activation takes the fixed-bias case (the
         * activation code is the same for both geometries) */
        check_grad(dim == 1 ? HL_ACT_RELU : HL_ACT_ERF, HL_BIAS_FIXED, 1, dim);
        check_grad(HL_ACT_TANH, HL_BIAS_TRAINABLE, 1, dim);
        check_grad(HL_ACT_CUBIC, HL_BIAS_FIXED, 0, dim);
    }
}

/* Periodic padding and global pooling: phi is invariant under circular shifts of x,
 * and filter tap j reads site i - k/2 + j (checked against a direct sum). */
static void test_periodic(void **state)
{
    (void)state;
    hl_conv_config c = hl_conv_defaults(L);
    c.K = K, c.k = KS, c.act = HL_ACT_RELU, c.bias = HL_BIAS_NONE, c.std0w = 1.0;
    hl_conv *n = hl_conv_alloc(&c);
    assert_non_null(n);
    gsl_rng *r = hl_rng_alloc(3, 1);
    hl_conv_init(n, r);
    float x[L], xs[L];
    for (int i = 0; i < L; i++)
        x[i] = (float)hl_rng_gaussian(r, 1.0);
    double phi = hl_conv_forward(n, x);
    /* direct h for channel 1 at site 0: taps on sites -2..2 mod L */
    double h = 0;
    for (int j = 0; j < KS; j++)
        h += n->F[KS + j] * x[(j - KS / 2 + L) % L];
    assert_float_equal(n->H[L], h / sqrt(KS), 1e-5);
    for (int s = 1; s < L; s += 4) {
        for (int i = 0; i < L; i++)
            xs[i] = x[(i + s) % L];
        assert_float_equal(hl_conv_forward(n, xs), phi, 1e-5 * (1 + fabs(phi)));
    }
    hl_rng_free(r);
    hl_conv_free(n);
}

/* Online SGD on the NLGP task (xi = 2 against 6, gain 10, L = 32): the test error on
 * 2000 samples falls from chance (0.5; an initial network is within +-0.1 of it with
 * overwhelming probability: SE 0.011) to below 0.15. The trained CNN of the
 * experiment reaches ~0.01 at L = 100. */
static void test_learns(void **state)
{
    (void)state;
    const int Lr = 32;
    hl_nlgp_params pp = {1, Lr, 2, 2, 10, 0, 0}, pm = {1, Lr, 6, 2, 10, 0, 0};
    hl_task *t = hl_task_alloc(hl_nlgp_alloc(&pp), hl_nlgp_alloc(&pm));
    assert_non_null(t);
    hl_conv_config c = hl_conv_defaults(Lr);
    hl_conv *n = hl_conv_alloc(&c);
    assert_non_null(n);
    double e0, e1;
    assert_int_equal(hl_conv_run(n, t, 0, 1, 2000, &e0), HL_OK);
    assert_true(fabs(e0 - 0.5) < 0.1);
    assert_int_equal(hl_conv_run(n, t, 60000, 1, 2000, &e1), HL_OK);
    assert_true(e1 < 0.15);
    /* the same seed gives the same network */
    float F1[8 * 11];
    memcpy(F1, n->F, sizeof F1);
    double e2;
    assert_int_equal(hl_conv_run(n, t, 60000, 1, 2000, &e2), HL_OK);
    assert_memory_equal(F1, n->F, sizeof F1);
    assert_true(e2 == e1);
    /* an unbounded activation at a huge learning rate diverges, with the step in the
     * message */
    n->cfg.act = HL_ACT_LINEAR, n->cfg.lr = 1e3;
    assert_int_equal(hl_conv_run(n, t, 60000, 1, 10, &e2), HL_EDIVERGED);
    assert_non_null(strstr(hl_error_message(), "step"));
    hl_conv_free(n);
    hl_task_free(t);
}

/* The same on the torus: tap (a, b) of a filter reads site (i - k/2 + a, j - k/2 + b),
 * and phi is invariant under every 2D circular shift of the image (shifts along rows,
 * columns and both). A non-invariant padding (zero, or one axis only) fails here. */
static void test_periodic_2d(void **state)
{
    (void)state;
    hl_conv_config c = hl_conv_defaults(L);
    c.dim = 2, c.K = K, c.k = KS, c.act = HL_ACT_RELU, c.bias = HL_BIAS_NONE, c.std0w = 1.0;
    hl_conv *n = hl_conv_alloc(&c);
    assert_non_null(n);
    gsl_rng *r = hl_rng_alloc(5, 1);
    hl_conv_init(n, r);
    float x[D2], xs[D2];
    for (int i = 0; i < D2; i++)
        x[i] = (float)hl_rng_gaussian(r, 1.0);
    double phi = hl_conv_forward(n, x);
    /* direct h of channel 2 at site (1, 12): taps on rows -1..3, columns 10..14 mod L */
    double h = 0;
    for (int a = 0; a < KS; a++)
        for (int b = 0; b < KS; b++)
            h += n->F[2 * T2 + a * KS + b] *
                 x[((1 + a - KS / 2 + L) % L) * L + (12 + b - KS / 2 + L) % L];
    assert_float_equal(n->H[2 * D2 + 1 * L + 12], h / KS, 1e-5);
    const int shifts[4][2] = {{0, 3}, {5, 0}, {7, 11}, {12, 1}};
    for (int q = 0; q < 4; q++) {
        for (int i = 0; i < L; i++)
            for (int j = 0; j < L; j++)
                xs[i * L + j] = x[((i + shifts[q][0]) % L) * L + (j + shifts[q][1]) % L];
        assert_float_equal(hl_conv_forward(n, xs), phi, 1e-5 * (1 + fabs(phi)));
    }
    /* a transposed image is not a shift: phi changes, by ~1e-3 (pooling over 169
     * sites averages most of it away), far above the tolerance above */
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++)
            xs[i * L + j] = x[j * L + i];
    assert_true(fabs(hl_conv_forward(n, xs) - phi) > 2e-4 * (1 + fabs(phi)));
    hl_rng_free(r);
    hl_conv_free(n);
}

static void expect_einval(hl_conv_config c, const char *word)
{
    assert_null(hl_conv_alloc(&c));
    assert_non_null(strstr(hl_error_message(), word));
}

static void test_errors(void **state)
{
    (void)state;
    hl_conv_config c = hl_conv_defaults(L);
    hl_conv_config b = c;
    b.K = 0, expect_einval(b, "K = 0");
    b = c, b.L = 1, expect_einval(b, "L = 1");
    b = c, b.k = L + 1, expect_einval(b, "kernel size");
    b = c, b.lr = 0, expect_einval(b, "lr");
    b = c, b.std0w = -1, expect_einval(b, "std0w");
    b = c, b.train_readout = 1, b.lr_readout = -1, expect_einval(b, "lr_readout");
    b = c, b.dim = 3, expect_einval(b, "dim = 3");
    b = c, b.dim = 2, b.L = 5000, expect_einval(b, "L = 5000");
    float u[L] = {0}, F[KS] = {1};
    assert_int_equal(hl_conv_match(u, L, F, 1, KS, NULL, NULL, NULL, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "u is zero"));
    u[0] = 1;
    assert_int_equal(hl_conv_match(u, L, F, 1, L + 1, NULL, NULL, NULL, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "kernel size"));
    double centre = L, width = 1;
    assert_int_equal(hl_rf_tiling(&centre, &width, 1, L, NULL, NULL, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "centre[0]"));
    assert_int_equal(hl_rf_align(u, L, NAN, u), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "centre"));
    /* the torus versions */
    float u2[D2] = {0};
    assert_int_equal(hl_conv_match_2d(u2, L, F, 1, 1, NULL, NULL, NULL, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "u is zero"));
    u2[0] = 1;
    assert_int_equal(hl_conv_match_2d(u2, L, F, 1, L + 1, NULL, NULL, NULL, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "kernel size"));
    double c2[2] = {1, L}, c2ok[2] = {1, 1};
    hl_rf_tiling2 t;
    assert_int_equal(hl_rf_tiling_2d(c2, &width, 1, L, 0, NULL, &t), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "centre[0]"));
    assert_int_equal(hl_rf_tiling_2d(c2ok, &width, 1, L, 3, NULL, &t), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "reps"));
    c2[1] = NAN;
    assert_int_equal(hl_rf_align_2d(u2, L, c2, u2), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "centre"));
    /* a 2D task on a 1D network: the sizes are named */
    hl_nlgp_params pp = {2, L, 2, 2, 10, 0, 0}, pm = {2, L, 6, 2, 10, 0, 0};
    hl_task *task = hl_task_alloc(hl_nlgp_alloc(&pp), hl_nlgp_alloc(&pm));
    assert_non_null(task);
    hl_conv *n = hl_conv_alloc(&c);
    gsl_rng *r = hl_rng_alloc(1, 1);
    assert_int_equal(hl_conv_train(n, task, 10, 1e6, r, NULL, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "D = 169"));
    hl_rng_free(r);
    hl_conv_free(n);
    hl_task_free(task);
}

/* RF measures on cases with known answers. */
static void test_rf_measures(void **state)
{
    (void)state;
    enum { N = 40 };
    float w[N] = {0}, a[N];
    /* a bump at sites 37, 38, 39, 0, 1 (centre 39) aligns onto 18..22 */
    const float bump[5] = {0.2f, 0.6f, 1.0f, 0.6f, 0.2f};
    for (int j = 0; j < 5; j++)
        w[(37 + j) % N] = bump[j];
    assert_int_equal(hl_rf_align(w, N, 39.2, a), HL_OK);
    for (int j = 0; j < 5; j++)
        assert_float_equal(a[18 + j], bump[j], 0);
    /* the same bump, negated, as one of two filters: |cosine| 1 at shift 18, sign -1 */
    float F[2 * 5] = {1, -1, 1, -1, 1};
    for (int j = 0; j < 5; j++)
        F[5 + j] = -bump[j];
    double best;
    int f, s, sg;
    assert_int_equal(hl_conv_match(a, N, F, 2, 5, &best, &f, &s, &sg), HL_OK);
    assert_float_equal(best, 1.0, 1e-6);
    assert_int_equal(f, 1), assert_int_equal(s, 18), assert_int_equal(sg, -1);
    /* an orthogonal-ish filter alone: the best over shifts of (1,-1,1,-1,1) against the
     * bump is |0.2-0.6+1-0.6+0.2| / (|bump| sqrt 5) at the aligned shift or larger
     * partial overlaps; it must stay well below 1 */
    assert_int_equal(hl_conv_match(a, N, F, 1, 5, &best, NULL, NULL, NULL), HL_OK);
    assert_true(best < 0.6);
    /* tiling: centres 0, 10, 20, 30 on 40 sites, width 2: gaps 10, 4 x 5 sites covered */
    double c4[4] = {30, 0, 20, 10}, w4[4] = {2, 2, 2, 2}, gap, cov, rg;
    assert_int_equal(hl_rf_tiling(c4, w4, 4, N, &gap, &cov, &rg), HL_OK);
    assert_float_equal(gap, 10, 1e-12);
    assert_float_equal(cov, 20.0 / N, 1e-12);
    assert_float_equal(rg, 10 * (1 + 0.5 + 1.0 / 3 + 0.25), 1e-12);
    /* clustered centres leave a wide gap across site 0 */
    double c2[2] = {18.5, 21.5};
    assert_int_equal(hl_rf_tiling(c2, w4, 2, N, &gap, &cov, NULL), HL_OK);
    assert_float_equal(gap, 37, 1e-12);
    assert_float_equal(cov, 7.0 / N, 1e-12);   /* sites 17..23 */
}

/* Torus RF measures on cases with known answers. */
static void test_rf_measures_2d(void **state)
{
    (void)state;
    enum { N = 24, M = N * N };
    float w[2 * M] = {0}, a[M];
    /* unit 0: a separable bump 0.5,1,0.5 x 0.5,1,0.5 centred on (23, 4) (across the
     * row edge); unit 1: a bump of w^2 with standard deviation 2 sites on (10, 15) */
    const float b3[3] = {0.5f, 1.0f, 0.5f};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            w[((22 + i) % N) * N + 3 + j] = b3[i] * b3[j];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double di = fmin(fabs(i - 10.0), N - fabs(i - 10.0)),
                   dj = fmin(fabs(j - 15.0), N - fabs(j - 15.0));
            w[M + i * N + j] = (float)exp(-(di * di + dj * dj) / 16.0);
        }
    double ipr[2], centre[4], width[2];
    assert_int_equal(hl_rf_torus_widths(w, 2, N, ipr, centre, width), HL_OK);
    assert_float_equal(centre[0], 23, 1e-6), assert_float_equal(centre[1], 4, 1e-6);
    assert_float_equal(centre[2], 10, 1e-6), assert_float_equal(centre[3], 15, 1e-6);
    /* w^2 = exp(-d^2 / 8): standard deviation 2 (lattice sums: within 2%) */
    assert_float_equal(width[1], 2.0, 0.04);
    /* IPR = sum w^4 / (sum w^2)^2 of the separable 3 x 3 bump */
    double s4 = 0.0625 * 2 + 1, s2 = 0.25 * 2 + 1;
    assert_float_equal(ipr[0], (s4 * s4) / (s2 * s2 * s2 * s2), 1e-6);
    assert_true(width[0] < 1);
    /* align unit 0 onto (12, 12): the bump occupies rows and columns 11..13 */
    assert_int_equal(hl_rf_align_2d(w, N, centre, a), HL_OK);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            assert_float_equal(a[(11 + i) * N + 11 + j], b3[i] * b3[j], 0);
    /* the negated bump as the second of two 3 x 3 filters: |cosine| 1 at shift (11, 11) */
    float F[2 * 9];
    for (int q = 0; q < 9; q++)
        F[q] = q % 2 ? 1.0f : -1.0f, F[9 + q] = -b3[q / 3] * b3[q % 3];
    double best;
    int f, sh[2], sg;
    assert_int_equal(hl_conv_match_2d(a, N, F, 2, 3, &best, &f, sh, &sg), HL_OK);
    assert_float_equal(best, 1.0, 1e-6);
    assert_int_equal(f, 1), assert_int_equal(sh[0], 11), assert_int_equal(sh[1], 11);
    assert_int_equal(sg, -1);
    assert_int_equal(hl_conv_match_2d(a, N, F, 1, 3, &best, NULL, NULL, NULL), HL_OK);
    assert_true(best < 0.6);
    /* tiling: a 2 x 2 grid of centres 12 apart on the 24-torus, width 1.5: each covers
     * the 9 sites within distance 1.5 (the centre, 4 at 1, 4 at sqrt 2); the farthest
     * site from every centre is (6, 6) from (0, 0): distance 6 sqrt 2; nearest
     * neighbours 12 apart */
    double cg[8] = {0, 0, 0, 12, 12, 0, 12, 12}, wg[4] = {1.5, 1.5, 1.5, 1.5};
    hl_rf_tiling2 t;
    gsl_rng *r = hl_rng_alloc(7, 1);
    assert_int_equal(hl_rf_tiling_2d(cg, wg, 4, N, 200, r, &t), HL_OK);
    assert_float_equal(t.coverage, 36.0 / M, 1e-12);
    assert_float_equal(t.max_empty, 6 * sqrt(2.0), 1e-12);
    assert_float_equal(t.nn_mean, 12, 1e-12);
    /* random centres clump: their largest empty disc is larger and their nearest
     * neighbours closer than the grid's (4 uniform points on a 24-torus: mean
     * nearest-neighbour distance about 0.5 x 24 / sqrt 3 ~ 7; 200 draws, SE < 0.3) */
    assert_true(t.random_max_empty > t.max_empty);
    assert_true(t.random_nn_mean > 4.5 && t.random_nn_mean < 9.5);
    /* all four centres in one corner: the largest empty disc grows to the distance
     * from (2, 2) to (13, 13) */
    double cc[8] = {0, 0, 0, 2, 2, 0, 2, 2};
    assert_int_equal(hl_rf_tiling_2d(cc, wg, 4, N, 0, NULL, &t), HL_OK);
    assert_float_equal(t.max_empty, hypot(11, 11), 1e-12);
    assert_float_equal(t.nn_mean, 2, 1e-12);
    assert_true(isnan(t.random_max_empty));
    hl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients), cmocka_unit_test(test_periodic),
        cmocka_unit_test(test_learns),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_rf_measures),
        cmocka_unit_test(test_periodic_2d), cmocka_unit_test(test_rf_measures_2d),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
