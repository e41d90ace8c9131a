/* test_prune.c — iterative magnitude pruning: the mask (how many weights go, nested
 * rounds, pruned weights exactly zero), the cavity measurement against an independent
 * recomputation through hl_eval_run, the within-class kurtosis of Gaussian and NLGP
 * inputs, saving/loading/resuming, and the error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/error.h"
#include "hoclab/measure.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A small run: L = 40, 3 rounds of 50 % per unit, short training. */
static hl_prune_config small(const char *model)
{
    hl_prune_config c = hl_prune_defaults();
    snprintf(c.plus_model, sizeof c.plus_model, "%s:L=40,xi=2,gain=10", model);
    snprintf(c.minus_model, sizeof c.minus_model, "%s:L=40,xi=6,gain=10", model);
    c.time = 100;
    c.rewind_time = 2;
    c.rounds = 3;
    c.fraction = 0.5;
    c.n_test = 4000;
    return c;
}

static int nonzero(const float *w, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        m += w[i] != 0;
    return m;
}

/* Per unit: 40 -> 20 -> 10 -> 5 weights, each round's survivors a subset of the last
 * round's, and the same numbers again from the same seed. */
static void test_mask_per_unit(void **state)
{
    (void)state;
    hl_prune_config c = small("nlgp");
    hl_prune_result r, r2;
    assert_int_equal(hl_prune_run(&c, &r), HL_OK);
    assert_int_equal(r.n_rounds, 4);
    assert_int_equal(r.D, 40);
    const int K = r.K, D = r.D;
    const double left[4] = {1, 0.5, 0.25, 0.125};
    for (int round = 0; round < 4; round++) {
        assert_true(fabs(r.remaining[round] - left[round]) < 1e-12);
        for (int k = 0; k < K; k++) {
            const float *w = r.W + ((size_t)round * K + k) * D;
            assert_int_equal(nonzero(w, D), (int)(D * left[round]));
            if (round > 0) {
                const float *prev = w - (size_t)K * D;
                for (int i = 0; i < D; i++)
                    if (prev[i] == 0)
                        assert_true(w[i] == 0);
            }
        }
        assert_true(r.test_error[round] >= 0 && r.test_error[round] <= 1);
    }
    /* The cavity is measured exactly at the surviving weights. */
    for (int k = 0; k < K; k++)
        for (int i = 0; i < D; i++) {
            int alive = r.W[((size_t)3 * K + k) * D + i] != 0;
            assert_int_equal(!isnan(r.cavity_delta[k * D + i]), alive);
            assert_int_equal(!isnan(r.cavity_magnitude[k * D + i]), alive);
            if (alive)
                assert_true(r.cavity_distance[k * D + i] >= 0 &&
                            r.cavity_distance[k * D + i] <= D / 2.0);
        }
    assert_int_equal(hl_prune_run(&c, &r2), HL_OK);
    assert_memory_equal(r.W, r2.W, sizeof(float) * 4 * K * D);
    hl_prune_result_free(&r);
    hl_prune_result_free(&r2);
}

/* Global ranking: the layer as a whole loses round(fraction x survivors) each round,
 * and no longer every unit the same number. */
static void test_mask_global(void **state)
{
    (void)state;
    hl_prune_config c = small("nlgp");
    c.per_unit = 0;
    c.rounds = 2;
    c.fraction = 0.3;
    hl_prune_result r;
    assert_int_equal(hl_prune_run(&c, &r), HL_OK);
    const int KD = r.K * r.D;
    int n1 = KD - (int)lround(0.3 * KD), n2 = n1 - (int)lround(0.3 * n1);
    assert_int_equal(nonzero(r.W + (size_t)KD, KD), n1);
    assert_int_equal(nonzero(r.W + (size_t)2 * KD, KD), n2);
    hl_prune_result_free(&r);
}

/* The cavity change against removing the weight for real and measuring the kurtosis
 * again with hl_eval_run (a different code path: BLAS float forward pass). */
static void test_cavity_matches_eval(void **state)
{
    (void)state;
    enum { K = 3, D = 16, N = 3000 };
    hl_net_config nc = {.K = K, .D = D, .max_batch = 1, .mode = HL_MODE_2LAYER,
                        .act = HL_ACT_ERF, .bias = HL_BIAS_TRAINABLE, .lr = 0.05,
                        .std0w = 1, .std0v = 1};
    hl_net *net = hl_net_alloc(&nc);
    assert_non_null(net);
    gsl_rng *rng = hl_rng_alloc(7, HL_STREAM_USER + 850);
    hl_net_init(net, rng);
    net->W[1 * D + 5] = 0; /* a pruned weight */
    float *X = malloc(sizeof(float) * N * D), *y = malloc(sizeof(float) * N);
    /* Non-Gaussian inputs (cubes of normals) so that kurtosis changes are large. */
    hl_rng_normals(rng, (size_t)N * D, X);
    for (int i = 0; i < N * D; i++)
        X[i] = X[i] * X[i] * X[i];
    for (int a = 0; a < N; a++)
        y[a] = a % 2 ? 1.0f : -1.0f;
    hl_eval *ev = hl_eval_alloc(K);
    double kurt[K], kurt2[K], delta[D], k0;
    assert_int_equal(hl_eval_run(ev, net, X, y, N, NULL, NULL, NULL, kurt), HL_OK);
    for (int k = 0; k < K; k++) {
        assert_int_equal(hl_prune_cavity(net, k, X, N, &k0, delta), HL_OK);
        assert_true(fabs(k0 - kurt[k]) < 1e-3 * fmax(1, fabs(kurt[k])));
        double maxabs = 0;
        for (int i = 0; i < D; i++) {
            float keep = net->W[k * D + i];
            if (keep == 0) {
                assert_true(isnan(delta[i]));
                continue;
            }
            net->W[k * D + i] = 0;
            assert_int_equal(hl_eval_run(ev, net, X, y, N, NULL, NULL, NULL, kurt2), HL_OK);
            net->W[k * D + i] = keep;
            double want = kurt2[k] - kurt[k];
            assert_true(fabs(delta[i] - want) < 1e-3 * fmax(1, fabs(kurt[k])));
            maxabs = fmax(maxabs, fabs(want));
        }
        assert_true(maxabs > 0.05); /* the test can tell a wrong delta from zero */
    }
    assert_int_equal(hl_prune_cavity(net, K, X, N, &k0, delta), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "unit k"));
    assert_int_equal(hl_prune_cavity(net, 0, X, 1, &k0, delta), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "n = 1"));
    hl_eval_free(ev);
    free(X), free(y);
    hl_rng_free(rng);
    hl_net_free(net);
}

/* Within a class the clone's preactivations are exactly Gaussian for any weights: the
 * within-class kurtosis is 0 up to noise (4000 test samples, 2000 a class: SE of one
 * unit's kurtosis about sqrt(24/2000) = 0.11, of the mean over two classes 0.08; units
 * are correlated, so the bound is 4 SE on the unit mean). NLGP inputs at gain 10 are
 * nearly sign fields (marginal excess kurtosis close to -2): their preactivations are
 * platykurtic, far below that noise. */
static void test_within_class_kurtosis(void **state)
{
    (void)state;
    hl_prune_config c = small("gp");
    c.rounds = 1;
    hl_prune_result g, nl;
    assert_int_equal(hl_prune_run(&c, &g), HL_OK);
    c = small("nlgp");
    c.rounds = 1;
    assert_int_equal(hl_prune_run(&c, &nl), HL_OK);
    for (int round = 0; round < 2; round++) {
        double mg = 0, mn = 0;
        for (int k = 0; k < g.K; k++) {
            mg += g.kurtosis_class[round * g.K + k] / g.K;
            mn += nl.kurtosis_class[round * nl.K + k] / nl.K;
        }
        print_message("round %d: within-class kurtosis GP %.3f, NLGP %.3f\n", round, mg, mn);
        assert_true(fabs(mg) < 0.32);
        assert_true(mn < -0.25);
    }
    hl_prune_result_free(&g);
    hl_prune_result_free(&nl);
}

/* Save, load, resume; a file made with another configuration is refused by name. */
static void test_save_load_sweep(void **state)
{
    (void)state;
    hl_prune_config c = small("nlgp");
    c.rounds = 1;
    c.time = 20;
    char path[64];
    snprintf(path, sizeof path, "/tmp/hl_test_prune_%d.h5", (int)getpid());
    unlink(path);
    const char *paths[1] = {path};
    hl_prune_result r, back;
    int status, resumed;
    assert_int_equal(hl_prune_sweep(&c, paths, 1, 1, "test", &r, &status, &resumed), HL_OK);
    assert_int_equal(resumed, 0);
    assert_int_equal(status, HL_OK);
    assert_int_equal(hl_prune_sweep(&c, paths, 1, 1, "test", &back, &status, &resumed), HL_OK);
    assert_int_equal(resumed, 1);
    assert_int_equal(back.n_rounds, r.n_rounds);
    assert_memory_equal(back.W, r.W, sizeof(float) * 2 * r.K * r.D);
    assert_memory_equal(back.ipr, r.ipr, sizeof(double) * 2 * r.K);
    assert_memory_equal(back.kurtosis_class, r.kurtosis_class, sizeof(double) * 2 * r.K);
    for (int i = 0; i < r.K * r.D; i++)
        assert_true(isnan(r.cavity_delta[i]) ? isnan(back.cavity_delta[i])
                                             : back.cavity_delta[i] == r.cavity_delta[i]);
    hl_prune_result_free(&back);
    hl_prune_config other = c;
    other.seed = 2;
    assert_int_equal(hl_prune_load(path, &other, &back), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "seed"));
    snprintf(other.plus_model, sizeof other.plus_model, "gp:L=40,xi=2,gain=10");
    other.seed = c.seed;
    assert_int_equal(hl_prune_load(path, &other, &back), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "plus_model"));
    assert_int_equal(hl_prune_load("/nonexistent/x.h5", &c, &back), HL_EIO);

    /* Averages of two copies of one run: that run's unit means, SE 0. */
    hl_prune_result two[2] = {r, r};
    double a[11][2];
    hl_prune_summary s = {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]};
    assert_int_equal(hl_prune_average(two, 2, &s), HL_OK);
    double m = 0;
    for (int k = 0; k < r.K; k++)
        m += r.ipr[r.K + k] / r.K;
    assert_true(fabs(s.ipr[1] - m) < 1e-12 && s.ipr_se[1] == 0);
    assert_true(s.remaining[1] == r.remaining[1]);
    double x[4], mean[4], se[4];
    int count[4], total = 0;
    assert_int_equal(hl_prune_cavity_bins(&r, 1, 0, 4, x, mean, se, count), HL_OK);
    for (int j = 0; j < 4; j++)
        total += count[j];
    assert_int_equal(total, nonzero(r.W + (size_t)r.K * r.D, r.K * r.D));
    assert_int_equal(hl_prune_cavity_bins(&r, 1, 2, 4, x, mean, se, count), HL_EINVAL);
    hl_prune_result_free(&r);
    unlink(path);
}

static void expect_invalid(const hl_prune_config *c, const char *word)
{
    hl_prune_result r;
    assert_int_equal(hl_prune_run(c, &r), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), word));
}

static void test_invalid(void **state)
{
    (void)state;
    hl_prune_config c = small("nlgp");
    c.fraction = 1;
    expect_invalid(&c, "fraction");
    c = small("nlgp");
    c.rounds = -1;
    expect_invalid(&c, "rounds");
    c = small("nlgp");
    c.rewind_time = c.time;
    expect_invalid(&c, "rewind_time");
    c = small("nlgp");
    c.n_test = 5;
    expect_invalid(&c, "n_test");
    c = small("nlgp");
    c.time = 0;
    expect_invalid(&c, "time");
    c = small("nlgp");
    c.per_unit = 2;
    expect_invalid(&c, "per_unit");
    c = small("nlgp");
    snprintf(c.minus_model, sizeof c.minus_model, "nlgp:L=30");
    expect_invalid(&c, "dimension");
    c = small("nlgp");
    c.net.K = 0;
    hl_prune_result r;
    assert_int_equal(hl_prune_run(&c, &r), HL_EINVAL);
    assert_int_equal(hl_prune_run(NULL, &r), HL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_per_unit),
        cmocka_unit_test(test_mask_global),
        cmocka_unit_test(test_cavity_matches_eval),
        cmocka_unit_test(test_within_class_kurtosis),
        cmocka_unit_test(test_save_load_sweep),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
