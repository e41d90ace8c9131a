/* fixed_data.c — training on a FIXED dataset (epochs over the same n samples) for the
 * two-layer network and for random features, with a held-out test error.
 *
 * The online trainer (train.c) draws a fresh sample every step, so it measures what a
 * network learns from unlimited data. Sample complexity — how many samples a method
 * needs — asks the opposite question: n samples are drawn once and reused for many
 * epochs, and the test error on fresh samples says whether the network learnt the
 * task or memorised the training set. Pieces: hl_net_alloc/init/step (the arithmetic),
 * hl_task_sample (the data), hl_eval_run (the errors). Nothing of train.c is copied.
 *
 * Three variants of the same network, chosen by flags of the configuration:
 *  - random features (freeze_first): the first layer is frozen at its initialisation
 *    by giving W (and the biases, which step with W's rate) a learning rate of 0;
 *    only the readout v learns: a linear model on K fixed random features.
 *  - the output scale alpha (Chizat, Oyallon & Bach 2019): phi -> alpha phi with every
 *    learning rate divided by alpha^2. Large alpha keeps the weights near their
 *    initialisation (lazy, kernel regime); alpha ~ 1 lets the features move. Through
 *    the network's own output norm: norm = 1 / alpha.
 *  - symmetric initialisation: units in pairs (k, k + K/2) with the same w and b and
 *    opposite v, so that phi = 0 at initialisation for every alpha. Without it a large
 *    alpha would start from a huge random output, not from the kernel regime.
 *
 * Random streams (seed, HL_STREAM_USER + 900..903): the training set, the test set,
 * the initialisation and the epoch shuffles, each its own, so that a network and its
 * random-features twin with the same seed see the same data and start from the same
 * weights. */
#include "hoclab/net.h"
#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/measure.h"
#include "hoclab/rng.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    STREAM_TRAIN = HL_STREAM_USER + 900,
    STREAM_TEST = HL_STREAM_USER + 901,
    STREAM_INIT = HL_STREAM_USER + 902,
    STREAM_SHUFFLE = HL_STREAM_USER + 903
};

hl_fixed_config hl_fixed_defaults(void)
{
    hl_fixed_config c;
    memset(&c, 0, sizeof c);
    c.net.K = 16;
    c.net.D = 0; /* taken from the models */
    c.net.max_batch = 1;
    c.net.mode = HL_MODE_2LAYER;
    c.net.act = HL_ACT_RELU;
    c.net.bias = HL_BIAS_NONE;
    c.net.lr = 0.05;
    c.net.std0w = 1;
    c.net.std0v = 1;
    c.n_train = 1000;
    c.n_test = 4000;
    c.epochs = 100;
    c.batch = 1;
    c.alpha = 1;
    c.seed = 1;
    return c;
}

int hl_fixed_validate(const hl_fixed_config *c)
{
    if (c->n_train < 1)
        return hl_error_set(HL_EINVAL, "n_train = %d: must be >= 1", c->n_train);
    if (c->n_test < 1)
        return hl_error_set(HL_EINVAL, "n_test = %d: must be >= 1", c->n_test);
    if (c->epochs < 1)
        return hl_error_set(HL_EINVAL, "epochs = %d: must be >= 1", c->epochs);
    if (c->batch < 1 || c->batch > c->n_train)
        return hl_error_set(HL_EINVAL, "batch = %d: accepted range is 1..n_train (%d)",
                            c->batch, c->n_train);
    if (!(c->alpha > 0) || !isfinite(c->alpha))
        return hl_error_set(HL_EINVAL, "alpha = %g: accepted range is alpha > 0", c->alpha);
    if (!(c->lr_v >= 0) || !isfinite(c->lr_v))
        return hl_error_set(HL_EINVAL, "lr_v = %g: accepted range is lr_v >= 0 (0: the mode's)",
                            c->lr_v);
    if (c->symmetric_init && c->net.K % 2)
        return hl_error_set(HL_EINVAL, "symmetric_init needs an even K (K = %d)", c->net.K);
    if (c->freeze_first && c->net.mode != HL_MODE_2LAYER)
        return hl_error_set(HL_EINVAL, "freeze_first: random features need mode 2layer (a "
                            "trained readout v); mode is %s", hl_mode_name(c->net.mode));
    return HL_OK;
}

/* Units k and k + K/2 become twins with opposite readouts: phi(init) = 0. */
static void symmetrise(hl_net *n)
{
    const int K = n->cfg.K, D = n->cfg.D, h = K / 2;
    memcpy(n->W + (size_t)h * D, n->W, sizeof(float) * (size_t)h * D);
    for (int k = 0; k < h; k++) {
        n->v[h + k] = -n->v[k];
        n->b[h + k] = n->b[k];
    }
}

/* Step sizes: the mode's, the readout's override, the output scale, the freeze. */
static void set_rates(hl_net *n, const hl_fixed_config *c)
{
    const double a2 = c->alpha * c->alpha;
    n->norm = (float)(n->norm / c->alpha);
    if (c->lr_v > 0 && c->net.mode == HL_MODE_2LAYER)
        n->lr_v = (float)c->lr_v;
    n->lr_v = (float)(n->lr_v / a2);
    n->lr_w = c->freeze_first ? 0.0f : (float)(n->lr_w / a2);
}

/* Errors of the network on (X, y), sign and loss; NaN-safe. */
static int evaluate(hl_eval *e, const hl_net *n, const float *X, const float *y, size_t m,
                    double *err, double *loss)
{
    return hl_eval_run(e, n, X, y, m, err, loss, NULL, NULL);
}

int hl_fixed_run(const hl_fixed_config *cfg, hl_fixed_result *out)
{
    memset(out, 0, sizeof *out);
    hl_fixed_config c = *cfg;
    int rc = hl_fixed_validate(&c);
    if (rc)
        return rc;
    hl_task *task = hl_task_alloc(hl_model_new(c.plus_model), hl_model_new(c.minus_model));
    if (!task) {
        return hl_error_set(HL_EINVAL, "fixed-data models '%s' and '%s': %s", c.plus_model,
                            c.minus_model, hl_error_message());
    }
    const size_t D = hl_task_dim(task), N = (size_t)c.n_train, T = (size_t)c.n_test;
    if (c.net.D != 0 && (size_t)c.net.D != D) {
        hl_task_free(task);
        return hl_error_set(HL_EINVAL, "net.D = %d differs from the models' dimension %zu",
                            c.net.D, D);
    }
    c.net.D = (int)D;
    c.net.max_batch = c.batch;
    hl_net *net = hl_net_alloc(&c.net);
    hl_eval *ev = hl_eval_alloc(c.net.K);
    float *X = malloc(sizeof(float) * N * D), *y = malloc(sizeof(float) * N);
    float *Xt = malloc(sizeof(float) * T * D), *yt = malloc(sizeof(float) * T);
    float *Xb = malloc(sizeof(float) * (size_t)c.batch * D);
    float *yb = malloc(sizeof(float) * (size_t)c.batch);
    size_t *idx = malloc(sizeof(size_t) * N);
    gsl_rng *r_train = hl_rng_alloc(c.seed, STREAM_TRAIN), *r_test = hl_rng_alloc(c.seed, STREAM_TEST);
    gsl_rng *r_init = hl_rng_alloc(c.seed, STREAM_INIT), *r_shuf = hl_rng_alloc(c.seed, STREAM_SHUFFLE);
    if (!net) {
        rc = hl_error_set(HL_EINVAL, "fixed-data network: %s", hl_error_message());
        goto out;
    }
    if (!ev || !X || !y || !Xt || !yt || !Xb || !yb || !idx || !r_train || !r_test ||
        !r_init || !r_shuf) {
        rc = hl_error_set(HL_ENOMEM, "fixed-data training: out of memory (n_train = %d, "
                          "n_test = %d, D = %zu)", c.n_train, c.n_test, D);
        goto out;
    }
    if ((rc = hl_task_sample(task, N, X, y, r_train)) || (rc = hl_task_sample(task, T, Xt, yt, r_test)))
        goto out;
    hl_net_init(net, r_init);
    if (c.symmetric_init)
        symmetrise(net);
    set_rates(net, &c);
    if ((rc = evaluate(ev, net, Xt, yt, T, &out->initial_test_error, NULL)))
        goto out;

    for (size_t i = 0; i < N; i++)
        idx[i] = i;
    /* Whole batches only: the last N mod batch samples of an epoch's shuffle wait for
     * the next epoch's, so that every step has the same size and noise. */
    const size_t per_epoch = N / (size_t)c.batch;
    for (int e = 0; e < c.epochs && !out->diverged; e++) {
        gsl_ran_shuffle(r_shuf, idx, N, sizeof *idx);
        for (size_t s = 0; s < per_epoch; s++) {
            for (int j = 0; j < c.batch; j++) {
                size_t m = idx[s * (size_t)c.batch + (size_t)j];
                memcpy(Xb + (size_t)j * D, X + m * D, sizeof(float) * D);
                yb[j] = y[m];
            }
            double l = hl_net_step(net, Xb, yb, c.batch);
            if (!isfinite(l)) {
                out->diverged = 1;
                break;
            }
        }
        out->epochs_done = e + 1;
    }
    if ((rc = evaluate(ev, net, X, y, N, &out->train_error, &out->train_loss)) ||
        (rc = evaluate(ev, net, Xt, yt, T, &out->test_error, &out->test_loss)))
        goto out;
    /* A diverged network's errors are meaningless: chance, and say so. */
    if (out->diverged || !isfinite(out->test_loss)) {
        out->diverged = 1;
        out->test_error = 0.5;
        rc = hl_error_set(HL_EDIVERGED, "fixed-data training diverged after %d epochs "
                          "(alpha = %g, lr = %g)", out->epochs_done, c.alpha, c.net.lr);
    }
    out->test_error_se = sqrt(out->test_error * (1 - out->test_error) / (double)T);
out:
    hl_rng_free(r_train), hl_rng_free(r_test), hl_rng_free(r_init), hl_rng_free(r_shuf);
    free(X), free(y), free(Xt), free(yt), free(Xb), free(yb), free(idx);
    hl_eval_free(ev);
    hl_net_free(net);
    hl_task_free(task);
    return rc;
}
