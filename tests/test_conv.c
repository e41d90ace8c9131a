/* test_conv.c — the convolutional student: analytic gradients against central finite
 * differences (every activation used, each bias kind, fixed and trained readout),
 * periodic padding (a circular shift of the input leaves phi unchanged), that online
 * SGD learns the NLGP task, error paths naming the parameter, and the RF measures
 * (alignment, best cosine over shifts, tiling) on cases with known answers. */
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

enum { K = 3, L = 13, KS = 5 };

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

static void check_grad(hl_act act, hl_bias bias, int train_readout)
{
    hl_conv_config c = hl_conv_defaults(L);
    c.K = K, c.k = KS, c.act = act, c.bias = bias, c.bias_value = 0.4;
    c.train_readout = train_readout, c.std0w = 1.0, c.std0v = 1.0;
    hl_conv *n = hl_conv_alloc(&c);
    assert_non_null(n);
    gsl_rng *r = hl_rng_alloc(11, 1);
    hl_conv_init(n, r);
    float x[L], y = -1.0f;
    for (int i = 0; i < L; i++)
        x[i] = (float)hl_rng_gaussian(r, 1.0);
    if (act == HL_ACT_RELU) {
        /* move biases until no preactivation sits near the kink, where a finite
         * difference measures the kink and not the gradient */
        for (int tries = 0; tries < 100; tries++) {
            hl_conv_forward(n, x);
            float mn = 1e9f;
            for (int i = 0; i < K * L; i++)
                mn = fminf(mn, fabsf(n->H[i]));
            if (mn > 0.02f)
                break;
            for (int ch = 0; ch < K; ch++)
                n->b[ch] += 0.013f;
        }
    }
    float dF[K * KS], dv[K], db[K];
    double l0 = hl_conv_grad(n, x, y, dF, dv, db);
    assert_true(isfinite(l0) && l0 > 0);
    double num[K * KS];
    const float eps = 1e-2f;
    for (int i = 0; i < K * KS; i++)
        num[i] = numeric(n, &n->F[i], x, y, eps);
    compare(dF, num, K * KS);
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
    check_grad(HL_ACT_ERF, HL_BIAS_TRAINABLE, 0);
    check_grad(HL_ACT_ERF, HL_BIAS_NONE, 1);
    check_grad(HL_ACT_RELU, HL_BIAS_FIXED, 1);
    check_grad(HL_ACT_TANH, HL_BIAS_TRAINABLE, 1);
    check_grad(HL_ACT_CUBIC, HL_BIAS_FIXED, 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients), cmocka_unit_test(test_periodic),
        cmocka_unit_test(test_learns),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_rf_measures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
