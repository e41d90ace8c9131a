/* test_simplicity.c — the simplicity-bias loop (simplicity.c): its measurement plan,
 * that each test set is measured exactly as hl_eval_run measures it (streams, the
 * input map), that it learns, reproducibility, divergence and the error paths. The
 * task is the project's NLGP pair on a small ring, so no dataset is needed; the
 * Fashion-MNIST helper is tested where the dataset is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/measure.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { L = 40 };

static hl_task *ring_task(int L_, double xi_plus, double xi_minus)
{
    char a[128], b[128];
    snprintf(a, sizeof a, "nlgp:L=%d,xi=%g,gain=10", L_, xi_plus);
    snprintf(b, sizeof b, "nlgp:L=%d,xi=%g,gain=10", L_, xi_minus);
    hl_task *t = hl_task_alloc(hl_model_new(a), hl_model_new(b));
    assert_non_null(t);
    return t;
}

static hl_simp_config small(void)
{
    hl_simp_config c = hl_simp_defaults();
    c.net.K = 8;
    c.net.lr = 0.05;
    c.time = 40;
    c.n_meas = 12;
    c.n_test = 2000;
    c.seed = 3;
    return c;
}

/* Times: step 0, increasing, ending at round(time * D), no more than planned. */
static void test_plan(void **state)
{
    (void)state;
    hl_task *t = ring_task(L, 2, 6);
    hl_simp_config c = small();
    c.time = 5;
    hl_simp_result r;
    assert_int_equal(hl_simp_run(&c, t, &t, 1, &r), HL_OK);
    assert_int_equal(r.status, HL_OK);
    assert_int_equal(r.n_sets, 1);
    assert_true(r.n_meas >= 2 && r.n_meas <= c.n_meas + 1);
    assert_int_equal(r.steps[0], 0);
    assert_int_equal(r.steps[r.n_meas - 1], 5 * L);
    assert_int_equal(r.steps[1], 1);
    for (int i = 1; i < r.n_meas; i++) {
        assert_true(r.steps[i] > r.steps[i - 1]);
        assert_true(fabs(r.t[i] - (double)r.steps[i] / L) < 1e-12);
    }
    hl_simp_result_free(&r);
    hl_task_free(t);
}

/* At step 0 the network is hl_net_init's from stream (seed, USER + 1000) and test set j
 * is substream j of (seed, USER + 1002) mapped by (x - shift) * scale: recomputing both
 * by hand and calling hl_eval_run must give the same numbers exactly. */
static void test_initial_measure_matches_eval(void **state)
{
    (void)state;
    hl_task *train = ring_task(L, 2, 6), *other = ring_task(L, 1, 4);
    hl_task *tests[2] = {train, other};
    hl_simp_config c = small();
    c.time = 1;
    c.shift = 0.3;
    c.scale = 0.5;
    hl_simp_result r;
    assert_int_equal(hl_simp_run(&c, train, tests, 2, &r), HL_OK);

    hl_net_config nc = c.net;
    nc.D = L;
    nc.max_batch = 1;
    hl_net *net = hl_net_alloc(&nc);
    gsl_rng *ri = hl_rng_alloc(c.seed, HL_STREAM_USER + 1000);
    hl_net_init(net, ri);
    hl_eval *ev = hl_eval_alloc(nc.K);
    float *X = malloc(sizeof(float) * c.n_test * L), *y = malloc(sizeof(float) * c.n_test);
    for (int j = 0; j < 2; j++) {
        gsl_rng *rt = hl_rng_alloc(c.seed, HL_STREAM_USER + 1002);
        hl_rng_substream(rt, (uint32_t)j);
        assert_int_equal(hl_task_sample(tests[j], c.n_test, X, y, rt), HL_OK);
        hl_rng_free(rt);
        for (size_t i = 0; i < c.n_test * L; i++)
            X[i] = (X[i] - 0.3f) * 0.5f;
        double err, loss;
        assert_int_equal(hl_eval_run(ev, net, X, y, c.n_test, &err, &loss, NULL, NULL), HL_OK);
        assert_true(err == r.error[(size_t)j * r.n_meas]);
        assert_true(loss == r.loss[(size_t)j * r.n_meas]);
    }
    /* the two sets are different draws: their initial losses differ */
    assert_true(r.loss[0] != r.loss[r.n_meas]);
    free(X), free(y);
    hl_eval_free(ev);
    hl_rng_free(ri);
    hl_net_free(net);
    hl_simp_result_free(&r);
    hl_task_free(train);
    hl_task_free(other);
}

/* It learns the NLGP task (test error well below chance at the end: 2000 test
 * samples, SE <= 0.011), and a test set with the classes swapped is measured
 * separately: its error is the complement within sampling noise (SE of the sum
 * <= 0.016; 0.06 is over 3.5 SE). Same seed, same numbers. */
static void test_learns_and_reproducible(void **state)
{
    (void)state;
    hl_task *train = ring_task(L, 2, 6), *swapped = ring_task(L, 6, 2);
    hl_task *tests[2] = {train, swapped};
    hl_simp_config c = small();
    c.time = 1500; /* the NLGP task needs t ~ 10^3 (test_train's runs) */
    hl_simp_result a, b;
    assert_int_equal(hl_simp_run(&c, train, tests, 2, &a), HL_OK);
    assert_int_equal(hl_simp_run(&c, train, tests, 2, &b), HL_OK);
    int n = a.n_meas;
    double e = a.error[n - 1], es = a.error[2 * n - 1];
    assert_true(fabs(a.error[0] - 0.5) < 0.1);
    print_message("final test error %.4f, classes swapped %.4f\n", e, es);
    assert_true(e < 0.3);
    assert_true(fabs(e + es - 1) < 0.06);
    assert_int_equal(b.n_meas, n);
    assert_memory_equal(a.error, b.error, sizeof(double) * 2 * n);
    assert_memory_equal(a.loss, b.loss, sizeof(double) * 2 * n);
    hl_simp_result_free(&a);
    c.seed = 4;
    assert_int_equal(hl_simp_run(&c, train, tests, 2, &a), HL_OK);
    assert_memory_not_equal(a.error, b.error, sizeof(double) * 2 * n);
    hl_simp_result_free(&a);
    hl_simp_result_free(&b);
    hl_task_free(train);
    hl_task_free(swapped);
}

/* A learning rate far too large diverges: HL_EDIVERGED, the measurements made so far
 * kept (at least step 0), a message that says so. Batches > 1 take the same path. */
static void test_divergence(void **state)
{
    (void)state;
    hl_task *t = ring_task(L, 2, 6);
    for (int bs = 1; bs <= 4; bs += 3) {
        hl_simp_config c = small();
        c.net.lr = 1e7;
        c.batch = bs;
        hl_simp_result r;
        assert_int_equal(hl_simp_run(&c, t, &t, 1, &r), HL_EDIVERGED);
        assert_int_equal(r.status, HL_EDIVERGED);
        assert_true(r.n_meas >= 1 && r.n_meas < c.n_meas + 1);
        assert_int_equal(r.steps[0], 0);
        assert_non_null(strstr(hl_error_message(), "diverged"));
        hl_simp_result_free(&r);
    }
    hl_task_free(t);
}

static void expect_einval(const hl_simp_config *c, hl_task *train, hl_task *const *tests, int n,
                          const char *word)
{
    hl_simp_result r;
    assert_int_equal(hl_simp_run(c, train, tests, n, &r), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), word));
    assert_null(r.error);
}

static void test_errors(void **state)
{
    (void)state;
    hl_task *t = ring_task(L, 2, 6), *wide = ring_task(2 * L, 2, 6);
    hl_task *tests[2] = {t, wide};
    hl_simp_config c = small();
    c.time = 0;
    expect_einval(&c, t, &t, 1, "time");
    c = small(), c.n_meas = 1;
    expect_einval(&c, t, &t, 1, "n_meas");
    c = small(), c.n_test = 0;
    expect_einval(&c, t, &t, 1, "n_test");
    c = small(), c.scale = 0;
    expect_einval(&c, t, &t, 1, "scale");
    c = small(), c.batch = 0;
    expect_einval(&c, t, &t, 1, "batch");
    c = small();
    expect_einval(&c, NULL, &t, 1, "train");
    expect_einval(&c, t, &t, 0, "n_sets");
    expect_einval(&c, t, tests, 2, "test task 1");
    c.net.K = 0;
    hl_simp_result r;
    assert_int_equal(hl_simp_run(&c, t, &t, 1, &r), HL_EINVAL);
    assert_int_equal(hl_simp_run(&c, t, &t, 1, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "result"));
    assert_int_equal(hl_simp_validate(NULL), HL_EINVAL);
    hl_task_free(t);
    hl_task_free(wide);
}

/* Pixel moments of a class pair: bytes / 255 lie in [0, 1], so 0 < mean < 1 and
 * 0 < sd <= 1/2; the pair's mean lies between its classes' means (a weighted average
 * with 6000 images each: exactly their average). */
static void test_pixel_moments(void **state)
{
    (void)state;
    int cls[2] = {7, 9}, bad = 10;
    double m, s, m7, s7, m9, s9;
    assert_int_equal(hl_simp_pixel_moments(NULL, cls, 0, &m, &s), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "n_classes"));
    if (access(HL_FMNIST_DIR "/train-labels-idx1-ubyte.gz", R_OK) != 0 &&
        access(HL_FMNIST_DIR "/train-labels-idx1-ubyte", R_OK) != 0) {
        skip();
    }
    assert_int_equal(hl_simp_pixel_moments(NULL, &bad, 1, &m, &s), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "class 10"));
    assert_int_equal(hl_simp_pixel_moments(NULL, cls, 2, &m, &s), HL_OK);
    assert_int_equal(hl_simp_pixel_moments(NULL, cls, 1, &m7, &s7), HL_OK);
    assert_int_equal(hl_simp_pixel_moments(NULL, cls + 1, 1, &m9, &s9), HL_OK);
    assert_true(m > 0 && m < 1 && s > 0 && s <= 0.5);
    assert_true(fabs(m - 0.5 * (m7 + m9)) < 1e-9);
    assert_true(m7 != m9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_initial_measure_matches_eval),
        cmocka_unit_test(test_learns_and_reproducible),
        cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_pixel_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
