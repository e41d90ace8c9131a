/* test_multiclass.c — the C-class softmax student (multiclass.c): its gradients
 * against finite differences (network and linear model), that a step applies them and
 * the batched logits equal the one-sample ones, the labelled sources (labels match
 * the inputs, class frequencies), learning a synthetic C-class Gaussian mixture,
 * reproducibility and the measurement plan, divergence, and the error paths. No
 * dataset file is needed: the sources are built from in-memory data. */
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GD = 12, GK = 5, GC = 4 };  /* the gradient check's sizes */

static void fill_gauss(float *x, size_t n, double sd, gsl_rng *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)hl_rng_gaussian(r, sd);
}

/* Central differences of the loss in every parameter against hl_mc_net_grad. Weights
 * of order 1 (so erf is curved), nonzero biases. eps = 1e-2 in float: the truncation
 * error is O(eps^2) ~ 1e-4 and the rounding error ~ 1e-7 / eps ~ 1e-5, so 2e-3 is a
 * safe bound; a wrong factor (1/sqrt D = 0.29 here, or a missing act') fails it. */
static void check_fd(int K)
{
    gsl_rng *r = hl_rng_alloc(11, HL_STREAM_USER + 1090);
    hl_mc_net *n = hl_mc_net_alloc(GD, K, GC, 0.1);
    assert_non_null(n);
    hl_mc_net_init(n, 1.0, 2.0, r);
    int rows = K ? K : GC;
    fill_gauss(n->b, (size_t)rows, 0.5, r);
    if (K)
        fill_gauss(n->c, GC, 0.5, r);
    float x[GD];
    fill_gauss(x, GD, 1.0, r);
    const int y = 2;
    float dW[GK * GD > GC * GD ? GK * GD : GC * GD], db[GK > GC ? GK : GC], dV[GC * GK], dc[GC];
    hl_mc_net_grad(n, x, y, dW, db, dV, dc);
    struct {
        float *p, *g;
        int m;
    } blocks[4] = {{n->W, dW, rows * GD}, {n->b, db, rows}, {n->V, dV, K ? GC * K : 0},
                   {n->c, dc, K ? GC : 0}};
    const float eps = 1e-2f;
    double worst = 0, gmax = 0;
    for (int b = 0; b < 4; b++)
        for (int i = 0; i < blocks[b].m; i++) {
            float keep = blocks[b].p[i];
            blocks[b].p[i] = keep + eps;
            double lp = hl_mc_net_grad(n, x, y, NULL, NULL, NULL, NULL);
            blocks[b].p[i] = keep - eps;
            double lm = hl_mc_net_grad(n, x, y, NULL, NULL, NULL, NULL);
            blocks[b].p[i] = keep;
            double fd = (lp - lm) / (2 * eps), g = blocks[b].g[i];
            worst = fmax(worst, fabs(fd - g));
            gmax = fmax(gmax, fabs(g));
        }
    assert_true(worst < 2e-3);
    assert_true(gmax > 0.05); /* the check is not vacuous: the gradients are not ~0 */
    hl_mc_net_free(n);
    hl_rng_free(r);
}

static void test_grad_network(void **state)
{
    (void)state;
    check_fd(GK);
}

static void test_grad_linear(void **state)
{
    (void)state;
    check_fd(0);
}

/* A step moves every parameter by -lr times hl_mc_net_grad's gradient, and the batched
 * logits equal the one-sample forward pass. */
static void test_step_and_logits(void **state)
{
    (void)state;
    for (int K = 0; K <= GK; K += GK) {
        gsl_rng *r = hl_rng_alloc(12, HL_STREAM_USER + 1090);
        const double lr = 0.3;
        hl_mc_net *n = hl_mc_net_alloc(GD, K, GC, lr);
        assert_non_null(n);
        hl_mc_net_init(n, 1.0, 1.0, r);
        int rows = K ? K : GC;
        float X[3 * GD], Z[3 * GC], H[3 * GK];
        fill_gauss(X, 3 * GD, 1.0, r);
        hl_mc_net_logits(n, X, 3, K ? H : NULL, Z);
        for (int s = 0; s < 3; s++) {
            hl_mc_net_grad(n, X + s * GD, 0, NULL, NULL, NULL, NULL);
            for (int j = 0; j < GC; j++)
                assert_true(fabsf(n->z[j] - Z[s * GC + j]) < 1e-5f);
        }
        float W0[GK * GD > GC * GD ? GK * GD : GC * GD], V0[GC * GK];
        float dW[GK * GD > GC * GD ? GK * GD : GC * GD], dV[GC * GK], db[GC > GK ? GC : GK];
        memcpy(W0, n->W, sizeof(float) * rows * GD);
        if (K)
            memcpy(V0, n->V, sizeof(float) * GC * K);
        double lg = hl_mc_net_grad(n, X, 3, dW, db, K ? dV : NULL, NULL);
        double ls = hl_mc_net_step(n, X, 3);
        assert_true(fabs(lg - ls) < 1e-12);
        for (int i = 0; i < rows * GD; i++)
            assert_true(fabsf(n->W[i] - (W0[i] - (float)lr * dW[i])) < 1e-6f);
        for (int i = 0; K && i < GC * K; i++)
            assert_true(fabsf(n->V[i] - (V0[i] - (float)lr * dV[i])) < 1e-6f);
        for (int i = 0; i < rows; i++)
            assert_true(fabsf(n->b[i] - (-(float)lr * db[i])) < 1e-6f); /* b started at 0 */
        hl_mc_net_free(n);
        hl_rng_free(r);
    }
}

/* ---- sources ---------------------------------------------------------------------- */

enum { MD = 20, MC = 4, PER = 300 };
#define SEP 2.5 /* class c's mean: SEP on coordinate c */

/* A C-class Gaussian mixture fitted to PER samples per class: mean SEP e_c, unit
 * noise; full (isotropic 0) or isotropic clone. */
static hl_mixture *synthetic_mixture(int isotropic)
{
    gsl_rng *r = hl_rng_alloc(5, HL_STREAM_USER + 1091);
    float *X = malloc(sizeof(float) * MC * PER * MD);
    int *lab = malloc(sizeof(int) * MC * PER);
    assert_non_null(X);
    assert_non_null(lab);
    fill_gauss(X, (size_t)MC * PER * MD, 1.0, r);
    for (int i = 0; i < MC * PER; i++) {
        lab[i] = i % MC;
        X[(size_t)i * MD + lab[i]] += (float)SEP;
    }
    hl_mixture *m = NULL;
    assert_int_equal(hl_mixture_fit(X, lab, MC * PER, MD, MC, isotropic, &m), HL_OK);
    free(X);
    free(lab);
    hl_rng_free(r);
    return m;
}

/* Labels come with their own class's inputs (the mean of coordinate c over draws of
 * label c is SEP, of the others ~0, 5 standard errors) and each class has frequency
 * 1/4 (3.5 standard errors of 20000 draws: 0.011). */
static void test_mixture_source(void **state)
{
    (void)state;
    hl_mixture *m = synthetic_mixture(0);
    hl_mc_source *s = hl_mc_source_mixture(m);
    hl_mixture_free(m); /* the source keeps its own references */
    assert_non_null(s);
    assert_int_equal(hl_mc_source_classes(s), MC);
    assert_int_equal(hl_mc_source_dim(s), MD);
    const size_t n = 20000;
    float *X = malloc(sizeof(float) * n * MD);
    int *y = malloc(sizeof(int) * n);
    gsl_rng *r = hl_rng_alloc(6, HL_STREAM_USER + 1091);
    assert_int_equal(hl_mc_source_sample(s, n, X, y, r), HL_OK);
    double cnt[MC] = {0}, mean[MC][MC] = {{0}};
    for (size_t i = 0; i < n; i++) {
        assert_true(y[i] >= 0 && y[i] < MC);
        cnt[y[i]]++;
        for (int j = 0; j < MC; j++)
            mean[y[i]][j] += X[i * MD + j];
    }
    for (int c = 0; c < MC; c++) {
        assert_true(fabs(cnt[c] / n - 0.25) < 0.011);
        for (int j = 0; j < MC; j++) {
            double mu = mean[c][j] / cnt[c], want = j == c ? SEP : 0;
            assert_true(fabs(mu - want) < 5 / sqrt(cnt[c]) + 5 / sqrt(PER));
        }
    }
    free(X);
    free(y);
    hl_rng_free(r);
    hl_mc_source_free(s);
}

/* A dataset source draws images with their own labels, pixels byte / 255. */
static void test_dataset_source(void **state)
{
    (void)state;
    unsigned char pix[6 * 4];
    int lab[6] = {0, 1, 2, 2, 1, 0};
    for (int i = 0; i < 6; i++)
        for (int q = 0; q < 4; q++)
            pix[i * 4 + q] = (unsigned char)(40 * lab[i] + q);
    hl_dataset d = {.n = 6, .rows = 2, .cols = 2, .pixels = pix, .labels = lab, .n_classes = 3};
    hl_mc_source *s = hl_mc_source_dataset(&d);
    assert_non_null(s);
    assert_int_equal(hl_mc_source_dim(s), 4);
    assert_int_equal(hl_mc_source_classes(s), 3);
    enum { N = 3000 };
    float X[N * 4];
    int y[N], cnt[3] = {0};
    gsl_rng *r = hl_rng_alloc(7, HL_STREAM_USER + 1091);
    assert_int_equal(hl_mc_source_sample(s, N, X, y, r), HL_OK);
    for (int i = 0; i < N; i++) {
        assert_true(y[i] >= 0 && y[i] < 3);
        cnt[y[i]]++;
        for (int q = 0; q < 4; q++)
            assert_true(fabsf(X[i * 4 + q] * 255 - (float)(40 * y[i] + q)) < 1e-3f);
    }
    for (int c = 0; c < 3; c++) /* 1/3, 4 standard errors of N draws: 0.035 */
        assert_true(fabs(cnt[c] / (double)N - 1.0 / 3) < 0.035);
    hl_rng_free(r);
    hl_mc_source_free(s);
}

/* ---- runs ------------------------------------------------------------------------- */

static hl_mc_config small(int K)
{
    hl_mc_config c = hl_mc_defaults();
    c.K = K;
    c.lr = 0.05;
    c.time = 100; /* 2000 steps */
    c.n_meas = 10;
    c.n_test = 2000;
    c.seed = 4;
    return c;
}

/* Both students learn the mixture: from chance (0.75; above 0.5 with 2000 test
 * samples) to near the Bayes error (pairs of means sqrt 2 SEP apart: each wrong pair
 * Phi(-1.77) = 0.04, at most 3 of them: < 0.12; bound 0.16, 5 standard errors above).
 * Test sets: the full and the isotropic clone (here both Gaussian, so the errors
 * agree). Same seed: identical results. Plan: step 0 first, round(time * D) last. */
static void test_learns_and_reproducible(void **state)
{
    (void)state;
    hl_mixture *full = synthetic_mixture(0), *iso = synthetic_mixture(1);
    hl_mc_source *tr = hl_mc_source_mixture(full), *te = hl_mc_source_mixture(full);
    hl_mc_source *ti = hl_mc_source_mixture(iso);
    hl_mixture_free(full);
    hl_mixture_free(iso);
    hl_mc_source *tests[2] = {te, ti};
    for (int K = 0; K <= 8; K += 8) {
        hl_mc_config c = small(K);
        hl_simp_result a, b;
        assert_int_equal(hl_mc_run(&c, tr, tests, 2, &a), HL_OK);
        assert_int_equal(a.status, HL_OK);
        assert_int_equal(a.n_sets, 2);
        int n = a.n_meas;
        assert_true(n >= 3 && n <= c.n_meas + 1);
        assert_int_equal(a.steps[0], 0);
        assert_int_equal(a.steps[n - 1], 100 * MD);
        for (int i = 1; i < n; i++)
            assert_true(a.steps[i] > a.steps[i - 1]);
        assert_true(a.error[0] > 0.5);
        assert_true(a.error[n - 1] < 0.16);
        assert_true(a.error[n + n - 1] < 0.16);
        assert_true(a.loss[n - 1] < a.loss[0]);
        assert_true(fabs(a.loss[0] - log(MC)) < 0.5); /* small logits at the start */
        assert_int_equal(hl_mc_run(&c, tr, tests, 2, &b), HL_OK);
        assert_int_equal(b.n_meas, n);
        assert_memory_equal(a.error, b.error, sizeof(double) * 2 * n);
        assert_memory_equal(a.loss, b.loss, sizeof(double) * 2 * n);
        hl_simp_result_free(&a);
        hl_simp_result_free(&b);
    }
    hl_mc_source_free(tr);
    hl_mc_source_free(te);
    hl_mc_source_free(ti);
}

/* A huge learning rate blows the logits up: HL_EDIVERGED with the measurements made
 * so far (step 0 at least) and a message saying so. */
static void test_divergence(void **state)
{
    (void)state;
    hl_mixture *m = synthetic_mixture(0);
    hl_mc_source *s = hl_mc_source_mixture(m);
    hl_mixture_free(m);
    hl_mc_config c = small(0);
    c.lr = 1e12;
    hl_simp_result r;
    assert_int_equal(hl_mc_run(&c, s, &s, 1, &r), HL_EDIVERGED);
    assert_int_equal(r.status, HL_EDIVERGED);
    assert_true(r.n_meas >= 1);
    assert_non_null(strstr(hl_error_message(), "diverged"));
    hl_simp_result_free(&r);
    hl_mc_source_free(s);
}

static void expect_bad_config(hl_mc_config c, const char *word)
{
    assert_int_equal(hl_mc_validate(&c), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), word));
}

static void test_errors(void **state)
{
    (void)state;
    assert_null(hl_mc_net_alloc(0, 4, 10, 0.1));
    assert_non_null(strstr(hl_error_message(), "D 0"));
    assert_null(hl_mc_net_alloc(10, -1, 10, 0.1));
    assert_non_null(strstr(hl_error_message(), "K -1"));
    assert_null(hl_mc_net_alloc(10, 4, 1, 0.1));
    assert_non_null(strstr(hl_error_message(), "C 1"));
    assert_null(hl_mc_net_alloc(10, 4, 10, 0));
    assert_non_null(strstr(hl_error_message(), "lr"));

    hl_mc_config c = small(4);
    assert_int_equal(hl_mc_validate(&c), HL_OK);
    c.K = -2;
    expect_bad_config(c, "K -2");
    c = small(4), c.lr = NAN;
    expect_bad_config(c, "lr");
    c = small(4), c.std0w = -1;
    expect_bad_config(c, "std0w");
    c = small(4), c.time = 0;
    expect_bad_config(c, "time");
    c = small(4), c.n_meas = 1;
    expect_bad_config(c, "n_meas");
    c = small(4), c.n_test = 0;
    expect_bad_config(c, "n_test");
    c = small(4), c.scale = 0;
    expect_bad_config(c, "scale");
    assert_int_equal(hl_mc_validate(NULL), HL_EINVAL);

    assert_null(hl_mc_source_dataset(NULL));
    assert_non_null(strstr(hl_error_message(), "dataset"));
    assert_null(hl_mc_source_mixture(NULL));
    assert_non_null(strstr(hl_error_message(), "mixture"));

    /* sources that do not fit together */
    hl_mixture *m = synthetic_mixture(1);
    hl_mc_source *s = hl_mc_source_mixture(m);
    hl_mixture_free(m);
    unsigned char pix[4 * 9] = {0};
    int lab[4] = {0, 1, 0, 1};
    hl_dataset d9 = {.n = 4, .rows = 3, .cols = 3, .pixels = pix, .labels = lab, .n_classes = 2};
    hl_dataset d5 = {.n = 4, .rows = 4, .cols = 5, .pixels = NULL, .labels = lab,
                     .n_classes = 2};
    hl_mc_source *other_d = hl_mc_source_dataset(&d9);
    assert_non_null(other_d);
    assert_null(hl_mc_source_dataset(&d5)); /* no pixels */
    hl_simp_result r;
    c = small(4);
    assert_int_equal(hl_mc_run(&c, s, &other_d, 1, &r), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "D = "));
    assert_int_equal(hl_mc_run(&c, NULL, &s, 1, &r), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "train"));
    assert_int_equal(hl_mc_run(&c, s, &s, 0, &r), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "n_sets"));
    assert_int_equal(hl_mc_run(&c, s, &s, 1, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "result"));
    c.time = -1;
    assert_int_equal(hl_mc_run(&c, s, &s, 1, &r), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "time"));

    /* a 2-class source of the right D against the 4-class one */
    unsigned char pix20[4 * MD] = {0};
    hl_dataset d20 = {.n = 4, .rows = 4, .cols = 5, .pixels = pix20, .labels = lab,
                      .n_classes = 2};
    hl_mc_source *two = hl_mc_source_dataset(&d20);
    assert_non_null(two);
    c = small(4);
    assert_int_equal(hl_mc_run(&c, s, &two, 1, &r), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "classes"));
    hl_mc_source_free(two);
    hl_mc_source_free(other_d);
    hl_mc_source_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_network),
        cmocka_unit_test(test_grad_linear),
        cmocka_unit_test(test_step_and_logits),
        cmocka_unit_test(test_mixture_source),
        cmocka_unit_test(test_dataset_source),
        cmocka_unit_test(test_learns_and_reproducible),
        cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
