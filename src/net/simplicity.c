/* simplicity.c — the distributional-simplicity-bias experiment's training loop: a
 * network trained by SGD on one task and evaluated, at log-spaced times, on several
 * test sets drawn from other tasks (the real data and its Gaussian clones).
 *
 * The trainer (train.c) measures a run on the task it trains on; the simplicity-bias
 * test needs the same network measured on the data AND on its clones at the same
 * times, and the reverse (trained on a clone, measured on the data). This file is
 * that loop, built from the project's pieces: hl_task_sample for the draws,
 * hl_net_online / hl_net_step for SGD, hl_eval_run for the measures.
 *
 * Every drawn input passes through one scalar affine map x -> (x - shift) * scale.
 * Why here and not in the sampler: a dataset sampler restricted to one class
 * normalises with that class's own statistics, which would give the two classes
 * different scales; one map for both classes, applied after drawing, is the global
 * normalisation of the pair, and since a Gaussian clone is affine-equivariant it is
 * also exactly the clone of the normalised data. */
#include "hoclab/net.h"
#include "simplicity_impl.h"

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/measure.h"
#include "hoclab/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    STREAM_INIT = HL_STREAM_USER + 1000,   /* network initialisation */
    STREAM_TRAIN = HL_STREAM_USER + 1001,  /* training draws */
    STREAM_TEST = HL_STREAM_USER + 1002,   /* test sets: substream j for set j */
    BLOCK = 1024                           /* training samples drawn at once */
};

/* Beyond this batch loss the run has diverged (labels are +-1: a sane loss is O(1)). */
#define LOSS_LIMIT 1e8

hl_simp_config hl_simp_defaults(void)
{
    hl_simp_config c = {
        .net = {.K = 16, .mode = HL_MODE_2LAYER, .act = HL_ACT_ERF,
                .bias = HL_BIAS_TRAINABLE, .bias_value = 1, .lr = 0.05,
                .std0w = 0.1, .std0v = 1},
        .batch = 1, .time = 100, .n_meas = 25, .n_test = 4000, .seed = 1,
        .shift = 0, .scale = 1,
    };
    return c;
}

int hl_simp_validate(const hl_simp_config *c)
{
    if (!c)
        return hl_error_set(HL_EINVAL, "simplicity: config is NULL");
    if (c->batch < 1 || c->batch > 1 << 20)
        return hl_error_set(HL_EINVAL, "simplicity: batch %d: accepted range is 1..2^20",
                            c->batch);
    return hl_simp_check_plan("simplicity", c->time, c->n_meas, c->n_test, c->shift,
                              c->scale);
}

int hl_simp_check_plan(const char *who, double time, int n_meas, size_t n_test,
                       double shift, double scale)
{
    if (!(time > 0) || !isfinite(time))
        return hl_error_set(HL_EINVAL, "%s: time %g: must be finite and > 0", who, time);
    if (n_meas < 2 || n_meas > 10000)
        return hl_error_set(HL_EINVAL, "%s: n_meas %d: accepted range is 2..10000", who,
                            n_meas);
    if (n_test < 1)
        return hl_error_set(HL_EINVAL, "%s: n_test %zu: must be >= 1", who, n_test);
    if (!isfinite(shift) || !isfinite(scale) || !(scale != 0))
        return hl_error_set(HL_EINVAL, "%s: shift %g, scale %g: must be finite, scale "
                            "nonzero", who, shift, scale);
    return HL_OK;
}

/* Step 0, then log-spaced steps from 1 to S, rounded, repeats dropped. */
int hl_simp_log_steps(long long S, int n, long long *steps)
{
    int m = 1;
    steps[0] = 0;
    for (int i = 1; i < n; i++) {
        long long s = n > 2 ? llround(pow((double)S, (double)(i - 1) / (n - 2))) : S;
        if (s > steps[m - 1])
            steps[m++] = s;
    }
    if (steps[m - 1] < S)
        steps[m++] = S;
    return m;
}

void hl_simp_affine(float *X, size_t n, float shift, float scale)
{
    if (shift == 0 && scale == 1)
        return;
    for (size_t i = 0; i < n; i++)
        X[i] = (X[i] - shift) * scale;
}

void hl_simp_result_free(hl_simp_result *r)
{
    if (!r)
        return;
    free(r->steps);
    free(r->t);
    free(r->error);
    free(r->loss);
    memset(r, 0, sizeof *r);
}

/* A test set of n draws of task t from its own substream. */
static int draw_test(hl_task *t, const hl_simp_config *c, uint32_t sub, float *X, float *y)
{
    gsl_rng *r = hl_rng_alloc(c->seed, STREAM_TEST);
    if (!r)
        return HL_ENOMEM;
    hl_rng_substream(r, sub);
    int rc = hl_task_sample(t, c->n_test, X, y, r);
    hl_rng_free(r);
    if (!rc)
        hl_simp_affine(X, c->n_test * hl_task_dim(t), (float)c->shift, (float)c->scale);
    return rc;
}

int hl_simp_run(const hl_simp_config *c, hl_task *train, hl_task *const *tests, int n_sets,
                hl_simp_result *res)
{
    int rc;
    if (!res)
        return hl_error_set(HL_EINVAL, "simplicity: result is NULL");
    memset(res, 0, sizeof *res);
    if ((rc = hl_simp_validate(c)))
        return rc;
    if (!train)
        return hl_error_set(HL_EINVAL, "simplicity: train task is NULL");
    if (n_sets < 1 || n_sets > 64 || !tests)
        return hl_error_set(HL_EINVAL, "simplicity: n_sets %d: accepted range is 1..64",
                            n_sets);
    size_t D = hl_task_dim(train);
    for (int j = 0; j < n_sets; j++) {
        if (!tests[j])
            return hl_error_set(HL_EINVAL, "simplicity: test task %d is NULL", j);
        if (hl_task_dim(tests[j]) != D)
            return hl_error_set(HL_EINVAL, "simplicity: test task %d has D = %zu, the train "
                                "task D = %zu", j, hl_task_dim(tests[j]), D);
    }
    hl_net_config nc = c->net;
    nc.D = (int)D;
    nc.max_batch = c->batch;
    if ((rc = hl_net_validate(&nc)))
        return rc;

    long long S = llround(c->time * (double)D);
    if (S < 1)
        S = 1;
    int nm = c->n_meas + 1;
    res->n_sets = n_sets;
    res->steps = malloc(sizeof *res->steps * nm);
    res->t = malloc(sizeof *res->t * nm);
    res->error = malloc(sizeof *res->error * nm * n_sets);
    res->loss = malloc(sizeof *res->loss * nm * n_sets);
    size_t blk = (size_t)BLOCK * c->batch;
    float *Xt = malloc(sizeof(float) * c->n_test * D * n_sets);
    float *yt = malloc(sizeof(float) * c->n_test * n_sets);
    float *Xb = malloc(sizeof(float) * blk * D), *yb = malloc(sizeof(float) * blk);
    hl_net *net = NULL;
    hl_eval *ev = hl_eval_alloc(nc.K);
    gsl_rng *ri = hl_rng_alloc(c->seed, STREAM_INIT), *rt = hl_rng_alloc(c->seed, STREAM_TRAIN);
    if (!res->steps || !res->t || !res->error || !res->loss || !Xt || !yt || !Xb || !yb || !ev ||
        !ri || !rt) {
        rc = hl_error_set(HL_ENOMEM, "simplicity: cannot allocate %d test sets of %zu x %zu",
                          n_sets, c->n_test, D);
        goto out;
    }
    if (!(net = hl_net_alloc(&nc))) {
        rc = HL_ENOMEM;
        goto out;
    }
    /* Test sets first, so that the reverse experiment may train on a task it also
     * tests on (tasks reuse their internal buffers between draws). */
    for (int j = 0; j < n_sets; j++)
        if ((rc = draw_test(tests[j], c, (uint32_t)j, Xt + (size_t)j * c->n_test * D,
                            yt + (size_t)j * c->n_test)))
            goto out;
    hl_net_init(net, ri);
    nm = hl_simp_log_steps(S, c->n_meas, res->steps);

    long long step = 0;
    for (int i = 0; i < nm; i++) {
        while (step < res->steps[i]) {
            long long todo = res->steps[i] - step;
            int nb = todo < BLOCK ? (int)todo : BLOCK;
            size_t ns = (size_t)nb * c->batch;
            if ((rc = hl_task_sample(train, ns, Xb, yb, rt)))
                goto out;
            hl_simp_affine(Xb, ns * D, (float)c->shift, (float)c->scale);
            double loss = 0;
            int done;
            if (c->batch == 1) {
                done = hl_net_online(net, Xb, yb, nb, LOSS_LIMIT, &loss);
            } else {
                for (done = 0; done < nb; done++) {
                    loss = hl_net_step(net, Xb + (size_t)done * c->batch * D,
                                       yb + (size_t)done * c->batch, c->batch);
                    if (!(loss <= LOSS_LIMIT))
                        break;
                }
            }
            step += done;
            if (done < nb || !(loss <= LOSS_LIMIT)) {
                res->status = HL_EDIVERGED;
                rc = hl_error_set(HL_EDIVERGED, "simplicity: diverged at step %lld (loss %g); "
                                  "lower the learning rate", step, loss);
                goto out;
            }
        }
        for (int j = 0; j < n_sets; j++)
            if ((rc = hl_eval_run(ev, net, Xt + (size_t)j * c->n_test * D,
                                  yt + (size_t)j * c->n_test, c->n_test,
                                  &res->error[(size_t)j * (c->n_meas + 1) + i],
                                  &res->loss[(size_t)j * (c->n_meas + 1) + i], NULL, NULL)))
                goto out;
        res->t[i] = (double)res->steps[i] / (double)D;
        res->n_meas = i + 1;
    }
out:
    /* Compact the rows: error and loss are n_sets x n_meas with the measurements made. */
    if (res->error && res->loss)
        for (int j = 1; j < n_sets; j++) {
            memmove(res->error + (size_t)j * res->n_meas,
                    res->error + (size_t)j * (c->n_meas + 1), sizeof(double) * res->n_meas);
            memmove(res->loss + (size_t)j * res->n_meas,
                    res->loss + (size_t)j * (c->n_meas + 1), sizeof(double) * res->n_meas);
        }
    if (rc && rc != HL_EDIVERGED) {
        hl_simp_result_free(res);
    } else if (rc == HL_EDIVERGED) {
        res->status = HL_EDIVERGED;
    }
    hl_net_free(net);
    hl_eval_free(ev);
    hl_rng_free(ri);
    hl_rng_free(rt);
    free(Xt);
    free(yt);
    free(Xb);
    free(yb);
    return rc;
}

int hl_simp_pixel_moments(const char *dir, const int *classes, int n_classes, double *mean,
                          double *sd)
{
    if (!classes || n_classes < 1)
        return hl_error_set(HL_EINVAL, "simplicity: n_classes %d: need at least one class",
                            n_classes);
    if (!mean || !sd)
        return hl_error_set(HL_EINVAL, "simplicity: mean and sd must not be NULL");
    hl_dataset *d = NULL;
    int rc = hl_fmnist_load(dir, "train", &d);
    if (rc)
        return rc;
    for (int j = 0; j < n_classes; j++)
        if (classes[j] < 0 || classes[j] >= d->n_classes) {
            int bad = classes[j], nc = d->n_classes;
            hl_dataset_free(d);
            return hl_error_set(HL_EINVAL, "simplicity: class %d: accepted range is 0..%d", bad,
                                nc - 1);
        }
    size_t D = (size_t)d->rows * d->cols, m = 0;
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < d->n; i++) {
        int keep = 0;
        for (int j = 0; j < n_classes; j++)
            keep |= d->labels[i] == classes[j];
        if (!keep)
            continue;
        const unsigned char *p = d->pixels + i * D;
        for (size_t q = 0; q < D; q++) {
            double x = p[q] / 255.0;
            s1 += x;
            s2 += x * x;
        }
        m += D;
    }
    hl_dataset_free(d);
    if (m == 0)
        return hl_error_set(HL_EINVAL, "simplicity: the classes select no training image");
    *mean = s1 / m;
    *sd = sqrt(fmax(s2 / m - *mean * *mean, 0));
    return HL_OK;
}
