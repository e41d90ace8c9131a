/* test_net.c — analytic gradients of the two-layer network against central finite
 * differences of its loss, for every activation, mode and bias kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/error.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { K = 4, D = 10, BS = 3 };

/* Central difference of the batch loss with respect to *p. */
static double numeric(hl_net *n, float *p, const float *X, const float *y, float eps)
{
    float old = *p;
    *p = old + eps;
    double up = hl_net_grad(n, X, y, BS, NULL, NULL, NULL);
    *p = old - eps;
    double down = hl_net_grad(n, X, y, BS, NULL, NULL, NULL);
    *p = old;
    return (up - down) / (2.0 * eps);
}

/* Compare analytic and numeric gradients entry by entry; the tolerance is relative to
 * the largest gradient, since float32 round-off is relative to the loss. */
static void compare(const float *analytic, const double *num, int m)
{
    double scale = 0;
    for (int i = 0; i < m; i++)
        scale = fmax(scale, fabs(num[i]));
    for (int i = 0; i < m; i++)
        assert_true(fabs(analytic[i] - num[i]) <= 2e-3 * scale + 1e-5);
}

static void check(hl_mode mode, hl_act act, hl_bias bias)
{
    hl_net_config c = {K, D, BS, mode, act, bias, 0.7, 0.05, 1.0, 1.0};
    hl_net *n = hl_net_alloc(&c);
    assert_non_null(n);
    gsl_rng *r = hl_rng_alloc(5, 1);
    float X[BS * D], y[BS];
    /* Redraw until no preactivation sits near relu's kink (a finite difference across
     * it measures the kink, not the gradient). */
    for (int attempt = 0;; attempt++) {
        assert_true(attempt < 100);
        hl_net_init(n, r);
        for (int i = 0; i < BS * D; i++)
            X[i] = (float)hl_rng_gaussian(r, 1);
        for (int s = 0; s < BS; s++)
            y[s] = s % 2 ? -1.0f : 1.0f;
        hl_net_grad(n, X, y, BS, NULL, NULL, NULL);
        float hmin = INFINITY;
        for (int i = 0; i < BS * K; i++)
            hmin = fminf(hmin, fabsf(n->H[i]));
        if (hmin > 0.05f)
            break;
    }
    float dW[K * D], dv[K], db[K];
    hl_net_grad(n, X, y, BS, dW, dv, db);
    double num[K * D];
    const float eps = 1e-2f;
    for (int i = 0; i < K * D; i++)
        num[i] = numeric(n, &n->W[i], X, y, eps);
    compare(dW, num, K * D);
    for (int k = 0; k < K; k++)
        num[k] = numeric(n, &n->v[k], X, y, eps);
    compare(dv, num, K);
    for (int k = 0; k < K; k++)
        num[k] = numeric(n, &n->b[k], X, y, eps);
    compare(db, num, K);

    /* The step moves W along -lr_w dW, v along -lr_v dv, b along -lr_w db if trained. */
    float W0[K * D], v0[K], b0[K];
    memcpy(W0, n->W, sizeof W0);
    memcpy(v0, n->v, sizeof v0);
    memcpy(b0, n->b, sizeof b0);
    hl_net_step(n, X, y, BS);
    for (int i = 0; i < K * D; i++)
        assert_true(fabsf(n->W[i] - (W0[i] - n->lr_w * dW[i])) < 1e-5f);
    for (int k = 0; k < K; k++) {
        float v_expect = mode == HL_MODE_2LAYER ? v0[k] - c.lr / D * dv[k] : v0[k];
        float b_expect = bias == HL_BIAS_TRAINABLE ? b0[k] - n->lr_w * db[k] : b0[k];
        assert_true(fabsf(n->v[k] - v_expect) < 1e-6f);
        assert_true(fabsf(n->b[k] - b_expect) < 1e-6f);
    }
    hl_rng_free(r);
    hl_net_free(n);
}

static void test_gradients(void **state)
{
    for (int m = HL_MODE_2LAYER; m <= HL_MODE_LAZY; m++)
        for (int a = HL_ACT_ERF; a <= HL_ACT_CUBIC; a++)
            for (int b = HL_BIAS_NONE; b <= HL_BIAS_FIXED; b++)
                check((hl_mode)m, (hl_act)a, (hl_bias)b);
}

static void test_init(void **state)
{
    hl_net_config c = {K, D, 1, HL_MODE_MF, HL_ACT_ERF, HL_BIAS_TRAINABLE, 1, 0.05, 0.1, 1};
    hl_net *n = hl_net_alloc(&c);
    gsl_rng *r = hl_rng_alloc(1, 1);
    hl_net_init(n, r);
    for (int k = 0; k < K; k++) {
        assert_true(n->v[k] == 1.0f);                      /* mean field: v fixed at 1 */
        assert_true(n->b[k] == (k % 2 ? -1.0f : 1.0f));   /* +-1 alternating */
    }
    assert_true(n->norm == (float)K);
    hl_rng_free(r);
    hl_net_free(n);
}

static void test_activation_values(void **state)
{
    /* erf(h/sqrt 2) and its cubic expansion agree to O(h^5) near 0. */
    for (float h = -0.2f; h <= 0.2f; h += 0.05f)
        assert_true(fabsf(hl_act_value(HL_ACT_ERF, h) - hl_act_value(HL_ACT_CUBIC, h)) < 1e-4f);
    assert_true(fabsf(hl_act_value(HL_ACT_ERF, 1.0f) - 0.6826895f) < 1e-6f);
    assert_true(hl_act_value(HL_ACT_RELU, -1.0f) == 0.0f);
}

/* hl_net_online (update fused with the next forward) against hl_net_step at batch
 * size 1, for every mode, activation and bias kind: 200 steps on D = 60, K = 5, equal
 * to float round-off (the sums are taken in another order), and the early stop at a
 * loss limit. */
static void test_online_matches_step(void **state)
{
    enum { S = 200, DD = 60, KK = 5 };
    float *X = malloc(sizeof(float) * S * DD), y[S];
    gsl_rng *r = hl_rng_alloc(5, 77);
    hl_rng_normals(r, (size_t)S * DD, X);
    for (int t = 0; t < S; t++)
        y[t] = t % 3 ? 1.0f : -1.0f;
    for (int mode = 0; mode < 3; mode++)
        for (int act = 0; act < 5; act++)
            for (int bias = 0; bias < 3; bias++) {
                hl_net_config c = {KK, DD, 1, mode, act, bias, 0.5, 0.05, 0.3, 1};
                hl_net *a = hl_net_alloc(&c), *b = hl_net_alloc(&c);
                gsl_rng *ra = hl_rng_alloc(1, 1), *rb = hl_rng_alloc(1, 1);
                hl_net_init(a, ra);
                hl_net_init(b, rb);
                double la = 0, lb = 0;
                for (int t = 0; t < S; t++)
                    la = hl_net_step(a, X + (size_t)t * DD, y + t, 1);
                assert_int_equal(hl_net_online(b, X, y, S, 1e12, &lb), S);
                assert_true(fabs(la - lb) <= 1e-4 * fmax(1, fabs(la)));
                for (int i = 0; i < KK * DD; i++)
                    assert_true(fabsf(a->W[i] - b->W[i]) <= 1e-4f * (1 + fabsf(a->W[i])));
                for (int k = 0; k < KK; k++) {
                    assert_true(fabsf(a->v[k] - b->v[k]) <= 1e-4f * (1 + fabsf(a->v[k])));
                    assert_true(fabsf(a->b[k] - b->b[k]) <= 1e-4f * (1 + fabsf(a->b[k])));
                }
                /* a limit below every loss stops after the first step */
                assert_int_equal(hl_net_online(b, X, y, S, -1, &lb), 1);
                hl_net_free(a);
                hl_net_free(b);
                hl_rng_free(ra);
                hl_rng_free(rb);
            }
    hl_rng_free(r);
    free(X);
}

static void test_invalid(void **state)
{
    hl_net_config c = {0, D, 1, HL_MODE_2LAYER, HL_ACT_ERF, HL_BIAS_NONE, 0, 0.05, 0.1, 1};
    assert_null(hl_net_alloc(&c));
    assert_non_null(strstr(hl_error_message(), "K = 0"));
    c.K = 2;
    c.lr = 0;
    assert_int_equal(hl_net_validate(&c), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "lr"));
    c.lr = 0.1;
    c.max_batch = 0;
    assert_int_equal(hl_net_validate(&c), HL_EINVAL);
    assert_int_equal(hl_mode_parse("nope"), -1);
    assert_int_equal(hl_act_parse("cubic"), HL_ACT_CUBIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_activation_values),
        cmocka_unit_test(test_online_matches_step),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
