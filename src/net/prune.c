/* prune.c — iterative magnitude pruning (IMP) with weight rewinding, and the cavity
 * measurement of what one weight contributes to its unit's non-Gaussianity.
 *
 * The question (Redman, Wang, Ingrosso, Goldt): does pruning a fully connected network
 * by magnitude find the same localised receptive fields that non-Gaussian inputs
 * produce, and does it raise the preactivations' kurtosis? Training is the project's
 * own step (hl_net_step, batch 1, a fresh sample from hl_task_sample every step),
 * followed by W *= M so that pruned weights stay exactly zero. */
#include "hoclab/net.h"
#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/measure.h"
#include "hoclab/rng.h"
#include "hoclab/theory.h"
#include "../io/h5_util.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    STREAM_INIT = HL_STREAM_USER + 800,
    STREAM_TEST = HL_STREAM_USER + 801,
    STREAM_TRAIN = HL_STREAM_USER + 802,
    CHUNK = 512 /* training samples drawn at a time */
};

/* A batch loss above this (or NaN) ends the run as diverged. */
static const double LOSS_LIMIT = 1e12;

hl_prune_config hl_prune_defaults(void)
{
    hl_prune_config c = {
        .plus_model = "nlgp:L=100,xi=2,gain=10",
        .minus_model = "nlgp:L=100,xi=6,gain=10",
        .net = {.K = 8, .mode = HL_MODE_2LAYER, .act = HL_ACT_ERF,
                .bias = HL_BIAS_TRAINABLE, .bias_value = 1, .lr = 0.05,
                .std0w = 0.1, .std0v = 1},
        .time = 3000, .seed = 1, .n_test = 10000,
        .rounds = 6, .fraction = 0.2, .rewind_time = 30, .per_unit = 1,
    };
    return c;
}

static long long steps_of(double t, size_t D) { return llround(t * (double)D); }

int hl_prune_validate(const hl_prune_config *c)
{
    if (!c)
        return hl_error_set(HL_EINVAL, "prune: configuration is NULL");
    size_t Dp, Dm;
    int rc;
    if (!c->plus_model[0] || !c->minus_model[0])
        return hl_error_set(HL_EINVAL, "prune: plus_model '%s' and minus_model '%s' must "
                            "both name a model", c->plus_model, c->minus_model);
    if ((rc = hl_model_dim(c->plus_model, &Dp)) || (rc = hl_model_dim(c->minus_model, &Dm)))
        return rc;
    if (Dp != Dm)
        return hl_error_set(HL_EINVAL, "prune: the classes differ in dimension: plus_model "
                            "has D = %zu, minus_model D = %zu", Dp, Dm);
    hl_net_config n = c->net;
    n.D = (int)Dp, n.max_batch = 1;
    if ((rc = hl_net_validate(&n)))
        return rc;
    if (!(c->time > 0) || !isfinite(c->time) || steps_of(c->time, Dp) < 1 ||
        c->time * (double)Dp > 1e12)
        return hl_error_set(HL_EINVAL, "prune: time = %g: accepted is at least one step "
                            "(time >= %g) and time x D <= 1e12", c->time, 0.5 / (double)Dp);
    if (c->n_test < 16 || c->n_test > 100000000)
        return hl_error_set(HL_EINVAL, "prune: n_test = %zu: accepted range is 16..1e8",
                            c->n_test);
    if (c->rounds < 0 || c->rounds > HL_PRUNE_MAX_ROUNDS)
        return hl_error_set(HL_EINVAL, "prune: rounds = %d: accepted range is 0..%d",
                            c->rounds, HL_PRUNE_MAX_ROUNDS);
    if (!(c->fraction > 0 && c->fraction < 1))
        return hl_error_set(HL_EINVAL, "prune: fraction = %g: accepted range is (0, 1)",
                            c->fraction);
    if (!(c->rewind_time >= 0) || steps_of(c->rewind_time, Dp) >= steps_of(c->time, Dp))
        return hl_error_set(HL_EINVAL, "prune: rewind_time = %g: accepted range is "
                            "0 <= rewind_time < time = %g", c->rewind_time, c->time);
    if (c->per_unit != 0 && c->per_unit != 1)
        return hl_error_set(HL_EINVAL, "prune: per_unit = %d: accepted is 0 or 1",
                            c->per_unit);
    return HL_OK;
}

void hl_prune_result_free(hl_prune_result *r)
{
    if (!r)
        return;
    free(r->remaining), free(r->test_error), free(r->ipr), free(r->kurtosis);
    free(r->kurtosis_class), free(r->width), free(r->centre), free(r->W);
    free(r->cavity_delta), free(r->cavity_delta_mix), free(r->cavity_magnitude);
    free(r->cavity_distance);
    memset(r, 0, sizeof *r);
}

static int result_alloc(hl_prune_result *r, int n_rounds, int K, int D)
{
    memset(r, 0, sizeof *r);
    size_t R = (size_t)n_rounds, KD = (size_t)K * D;
    r->n_rounds = n_rounds, r->K = K, r->D = D;
    r->remaining = malloc(sizeof(double) * R);
    r->test_error = malloc(sizeof(double) * R);
    r->ipr = malloc(sizeof(double) * R * K);
    r->kurtosis = malloc(sizeof(double) * R * K);
    r->kurtosis_class = malloc(sizeof(double) * R * K);
    r->width = malloc(sizeof(double) * R * K);
    r->centre = malloc(sizeof(double) * R * K);
    r->W = malloc(sizeof(float) * R * KD);
    r->cavity_delta = malloc(sizeof(double) * KD);
    r->cavity_delta_mix = malloc(sizeof(double) * KD);
    r->cavity_magnitude = malloc(sizeof(double) * KD);
    r->cavity_distance = malloc(sizeof(double) * KD);
    if (!r->remaining || !r->test_error || !r->ipr || !r->kurtosis || !r->kurtosis_class ||
        !r->width || !r->centre || !r->W || !r->cavity_delta || !r->cavity_delta_mix ||
        !r->cavity_magnitude || !r->cavity_distance) {
        hl_prune_result_free(r);
        return hl_error_set(HL_ENOMEM, "prune: cannot allocate the result (%d rounds of "
                            "K = %d x D = %d)", n_rounds, K, D);
    }
    for (size_t i = 0; i < KD; i++)
        r->cavity_delta[i] = r->cavity_delta_mix[i] = r->cavity_magnitude[i] =
            r->cavity_distance[i] = NAN;
    return HL_OK;
}

/* ---- pruning: which weights go ------------------------------------------------------ */

typedef struct {
    float mag;
    int idx;
} ranked;

/* Smallest magnitude first; ties by index, so the choice never depends on qsort. */
static int by_magnitude(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->mag != y->mag)
        return x->mag < y->mag ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Zero in M the round(fraction x survivors) smallest |W| among the survivors of
 * [start, start + len); at least one weight survives. */
static void prune_range(const float *W, float *M, int start, int len, double fraction,
                        ranked *buf)
{
    int n = 0;
    for (int i = start; i < start + len; i++)
        if (M[i] != 0)
            buf[n++] = (ranked){fabsf(W[i]), i};
    int cut = (int)lround(fraction * n);
    if (cut > n - 1)
        cut = n - 1;
    if (cut <= 0)
        return;
    qsort(buf, (size_t)n, sizeof *buf, by_magnitude);
    for (int j = 0; j < cut; j++)
        M[buf[j].idx] = 0;
}

/* ---- the cavity measurement --------------------------------------------------------- */

int hl_prune_cavity(const hl_net *net, int k, const float *X, size_t n, double *kurtosis,
                    double *delta)
{
    if (!net || !X || !delta)
        return hl_error_set(HL_EINVAL, "prune cavity: net, X and delta must be given");
    const int K = net->cfg.K, D = net->cfg.D;
    if (k < 0 || k >= K)
        return hl_error_set(HL_EINVAL, "prune cavity: unit k = %d: accepted range is "
                            "0..%d", k, K - 1);
    if (n < 2)
        return hl_error_set(HL_EINVAL, "prune cavity: n = %zu samples: need at least 2", n);
    double *l = malloc(sizeof(double) * n);
    if (!l)
        return hl_error_set(HL_ENOMEM, "prune cavity: out of memory (n = %zu)", n);
    const float *w = net->W + (size_t)k * D;
    const double s = 1 / sqrt((double)D);
    double m2 = 0, m4 = 0;
    for (size_t a = 0; a < n; a++) {
        const float *x = X + a * D;
        double h = 0;
        for (int i = 0; i < D; i++)
            h += (double)w[i] * x[i];
        h *= s;
        l[a] = h;
        m2 += h * h, m4 += h * h * h * h;
    }
    double k0 = m2 > 0 ? (m4 / n) / ((m2 / n) * (m2 / n)) - 3 : NAN;
    if (kurtosis)
        *kurtosis = k0;
    /* Removing w_i changes every preactivation by -w_i x_i / sqrt(D): one pass over the
     * samples per surviving weight. */
    for (int i = 0; i < D; i++) {
        if (w[i] == 0) {
            delta[i] = NAN;
            continue;
        }
        double c = w[i] * s, q2 = 0, q4 = 0;
        for (size_t a = 0; a < n; a++) {
            double h = l[a] - c * X[a * D + i], h2 = h * h;
            q2 += h2, q4 += h2 * h2;
        }
        delta[i] = q2 > 0 ? (q4 / n) / ((q2 / n) * (q2 / n)) - 3 - k0 : NAN;
    }
    free(l);
    return HL_OK;
}

static double ring_distance(double i, double c, int L)
{
    double d = fabs(i - c);
    d = fmod(d, (double)L);
    return d < L - d ? d : L - d;
}

/* ---- one run ---------------------------------------------------------------------- */

/* Reorder the test set so that class +1 comes first (each class in its drawn order):
 * each class's statistics are then one contiguous block. Returns the count of class
 * +1, or (size_t)-1 without memory. */
static size_t sort_classes(float *X, float *y, size_t n, int D)
{
    float *tmp = malloc(sizeof(float) * n * D);
    if (!tmp)
        return (size_t)-1;
    memcpy(tmp, X, sizeof(float) * n * D);
    size_t at = 0, n_plus = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t a = 0; a < n; a++)
            if ((y[a] > 0) == (pass == 0)) {
                memcpy(X + at * D, tmp + a * D, sizeof(float) * D);
                at++;
            }
    for (size_t a = 0; a < n; a++)
        n_plus += y[a] > 0;
    for (size_t a = 0; a < n; a++)
        y[a] = a < n_plus ? 1.0f : -1.0f;
    free(tmp);
    return n_plus;
}

/* End of a round: the measures, the RF geometry and the weights into row r. */
static int record_round(hl_prune_result *r, int round, const hl_net *net, hl_eval *ev,
                        const float *Xt, const float *yt, size_t nt, size_t n_plus,
                        const float *M)
{
    const int K = r->K, D = r->D;
    size_t KD = (size_t)K * D, left = 0;
    double *row = r->ipr + (size_t)round * K;
    int rc = hl_eval_run(ev, net, Xt, yt, nt, &r->test_error[round], NULL, row,
                         r->kurtosis + (size_t)round * K);
    if (rc)
        return rc;
    double *ipr2 = malloc(sizeof(double) * 2 * K), *kc = ipr2 + K;
    if (!ipr2)
        return hl_error_set(HL_ENOMEM, "prune: out of memory");
    /* Within each class (the test set holds class +1 first). */
    double *krow = r->kurtosis_class + (size_t)round * K;
    for (int k = 0; k < K; k++)
        krow[k] = 0;
    for (int cl = 0; cl < 2 && !rc; cl++) {
        size_t from = cl ? n_plus : 0, m = cl ? nt - n_plus : n_plus;
        if (m < 2) {
            for (int k = 0; k < K; k++)
                krow[k] = NAN;
            continue;
        }
        rc = hl_eval_run(ev, net, Xt + from * r->D, yt + from, m, NULL, NULL, NULL, kc);
        for (int k = 0; k < K && !rc; k++)
            krow[k] += kc[k] / 2;
    }
    if (rc) {
        free(ipr2);
        return rc;
    }
    rc = hl_rf_ring_widths(net->W, (size_t)K, (size_t)D, ipr2, r->centre + (size_t)round * K,
                           r->width + (size_t)round * K);
    free(ipr2);
    if (rc)
        return rc;
    for (size_t i = 0; i < KD; i++)
        left += M[i] != 0;
    r->remaining[round] = (double)left / (double)KD;
    memcpy(r->W + (size_t)round * KD, net->W, sizeof(float) * KD);
    return HL_OK;
}

int hl_prune_run(const hl_prune_config *c, hl_prune_result *res)
{
    if (!res)
        return hl_error_set(HL_EINVAL, "prune: result pointer is NULL");
    memset(res, 0, sizeof *res);
    int rc = hl_prune_validate(c);
    if (rc)
        return rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t Dz;
    hl_model_dim(c->plus_model, &Dz);
    const int D = (int)Dz, K = c->net.K, R = c->rounds + 1;
    const size_t KD = (size_t)K * D;
    const long long S = steps_of(c->time, Dz), S_rw = steps_of(c->rewind_time, Dz);
    hl_net_config nc = c->net;
    nc.D = D, nc.max_batch = 1;

    hl_task *task = NULL;
    hl_sampler *sp = hl_model_new(c->plus_model), *sm = sp ? hl_model_new(c->minus_model) : NULL;
    if (sp && sm)
        task = hl_task_alloc(sp, sm);
    else
        hl_sampler_free(sp);
    hl_net *net = hl_net_alloc(&nc);
    hl_eval *ev = hl_eval_alloc(K);
    gsl_rng *r_init = hl_rng_alloc(c->seed, STREAM_INIT);
    gsl_rng *r_test = hl_rng_alloc(c->seed, STREAM_TEST);
    gsl_rng *r_train = hl_rng_alloc(c->seed, STREAM_TRAIN);
    size_t n_plus = 0;
    float *Xt = malloc(sizeof(float) * c->n_test * D), *yt = malloc(sizeof(float) * c->n_test);
    float *X = malloc(sizeof(float) * CHUNK * D), *y = malloc(sizeof(float) * CHUNK);
    float *M = malloc(sizeof(float) * KD), *W0 = malloc(sizeof(float) * KD);
    float *v0 = malloc(sizeof(float) * K), *b0 = malloc(sizeof(float) * K);
    ranked *buf = malloc(sizeof(ranked) * KD);
    if (!task) {
        rc = hl_error_set(HL_EINVAL, "prune: cannot create the task: %s", hl_error_message());
        goto done;
    }
    if (!net || !ev || !r_init || !r_test || !r_train) {
        rc = hl_error_set(HL_ENOMEM, "prune: cannot allocate the network, evaluator or "
                          "random streams");
        goto done;
    }
    if (!Xt || !yt || !X || !y || !M || !W0 || !v0 || !b0 || !buf) {
        rc = hl_error_set(HL_ENOMEM, "prune: cannot allocate the buffers (%zu test samples "
                          "of D = %d)", c->n_test, D);
        goto done;
    }
    if ((rc = result_alloc(res, R, K, D)))
        goto done;
    if ((rc = hl_task_sample(task, c->n_test, Xt, yt, r_test)))
        goto done;
    if ((n_plus = sort_classes(Xt, yt, c->n_test, D)) == (size_t)-1) {
        rc = hl_error_set(HL_ENOMEM, "prune: out of memory sorting the test set");
        goto done;
    }
    hl_net_init(net, r_init);
    for (size_t i = 0; i < KD; i++)
        M[i] = 1;

    int done_rounds = 0;
    for (int round = 0; round < R && !rc; round++) {
        long long step = 0;
        if (round > 0) {
            /* Prune by the magnitudes this round's training ended with, then rewind. */
            if (c->per_unit)
                for (int k = 0; k < K; k++)
                    prune_range(net->W, M, k * D, D, c->fraction, buf);
            else
                prune_range(net->W, M, 0, (int)KD, c->fraction, buf);
            for (size_t i = 0; i < KD; i++)
                net->W[i] = W0[i] * M[i];
            memcpy(net->v, v0, sizeof(float) * K);
            memcpy(net->b, b0, sizeof(float) * K);
            step = S_rw;
        }
        /* Fresh samples every round: substream `round` of the training stream. */
        hl_rng_substream(r_train, (uint32_t)round);
        while (step < S && !rc) {
            if (round == 0 && step == S_rw) {
                memcpy(W0, net->W, sizeof(float) * KD);
                memcpy(v0, net->v, sizeof(float) * K);
                memcpy(b0, net->b, sizeof(float) * K);
            }
            int m = S - step < CHUNK ? (int)(S - step) : CHUNK;
            if (round == 0 && step < S_rw && S_rw - step < m)
                m = (int)(S_rw - step); /* stop at the rewind point to copy it */
            if ((rc = hl_task_sample(task, (size_t)m, X, y, r_train)))
                break;
            for (int s = 0; s < m; s++) {
                double loss = hl_net_step(net, X + (size_t)s * D, y + s, 1);
                if (!(loss <= LOSS_LIMIT)) {
                    rc = hl_error_set(HL_EDIVERGED, "prune: round %d diverged at step %lld "
                                      "(loss %g)", round, step + s, loss);
                    break;
                }
                if (round > 0)
                    for (size_t i = 0; i < KD; i++)
                        net->W[i] *= M[i];
            }
            step += m;
        }
        if (!rc && !(rc = record_round(res, round, net, ev, Xt, yt, c->n_test, n_plus, M)))
            done_rounds = round + 1;
    }
    if (rc == HL_EDIVERGED) {
        res->n_rounds = done_rounds;
        res->status = HL_EDIVERGED;
    } else if (!rc) {
        /* Cavity after the last round, distances from that round's RF centres. */
        const double *centre = res->centre + (size_t)(R - 1) * K;
        double *tmp = malloc(sizeof(double) * D);
        if (!tmp)
            rc = hl_error_set(HL_ENOMEM, "prune: out of memory");
        for (int k = 0; k < K && !rc; k++) {
            double *dk = res->cavity_delta + (size_t)k * D;
            for (int i = 0; i < D; i++)
                dk[i] = 0;
            for (int cl = 0; cl < 2 && !rc; cl++) {
                size_t from = cl ? n_plus : 0, m = cl ? c->n_test - n_plus : n_plus;
                if (m < 2)
                    rc = hl_error_set(HL_EINVAL, "prune: the test set holds %zu samples of "
                                      "class %s: raise n_test = %zu", m, cl ? "-1" : "+1",
                                      c->n_test);
                else if (!(rc = hl_prune_cavity(net, k, Xt + from * D, m, NULL, tmp)))
                    for (int i = 0; i < D; i++)
                        dk[i] += tmp[i] / 2;
            }
            if (rc || (rc = hl_prune_cavity(net, k, Xt, c->n_test, NULL,
                                            res->cavity_delta_mix + (size_t)k * D)))
                break;
            for (int i = 0; i < D; i++) {
                if (isnan(dk[i]))
                    continue;
                res->cavity_magnitude[(size_t)k * D + i] = fabsf(net->W[(size_t)k * D + i]);
                res->cavity_distance[(size_t)k * D + i] =
                    isnan(centre[k]) ? NAN : ring_distance(i, centre[k], D);
            }
        }
        free(tmp);
    }
done:
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc && rc != HL_EDIVERGED)
        hl_prune_result_free(res);
    else
        res->wall_seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    hl_task_free(task);
    hl_net_free(net);
    hl_eval_free(ev);
    hl_rng_free(r_init), hl_rng_free(r_test), hl_rng_free(r_train);
    free(Xt), free(yt), free(X), free(y), free(M), free(W0), free(v0), free(b0), free(buf);
    return rc;
}

/* ---- summaries ------------------------------------------------------------------- */

int hl_prune_cavity_bins(const hl_prune_result *res, int n, int by, int n_bins, double *x,
                         double *mean, double *se, int *count)
{
    if (!res || n < 1 || (by != 0 && by != 1) || n_bins < 1 || !x || !mean || !se || !count)
        return hl_error_set(HL_EINVAL, "prune cavity bins: need n >= 1 results, by = 0 "
                            "(distance) or 1 (magnitude), n_bins >= 1 (got n = %d, by = %d, "
                            "n_bins = %d) and every output", n, by, n_bins);
    double *s1 = calloc((size_t)n_bins, sizeof(double)), *s2 = calloc((size_t)n_bins,
                                                                      sizeof(double));
    if (!s1 || !s2) {
        free(s1), free(s2);
        return hl_error_set(HL_ENOMEM, "prune cavity bins: out of memory");
    }
    const double top = by == 0 ? res[0].D / 2.0 : 1.0;
    for (int j = 0; j < n_bins; j++)
        x[j] = top * (j + 0.5) / n_bins, count[j] = 0;
    for (int r = 0; r < n; r++) {
        const int K = res[r].K, D = res[r].D;
        if (res[r].status != HL_OK || !res[r].cavity_delta)
            continue; /* a diverged run has no cavity measurement */
        for (int k = 0; k < K; k++) {
            const double *dl = res[r].cavity_delta + (size_t)k * D;
            const double *mg = res[r].cavity_magnitude + (size_t)k * D;
            const double *ds = res[r].cavity_distance + (size_t)k * D;
            double mmax = 0;
            for (int i = 0; i < D; i++)
                if (!isnan(mg[i]) && mg[i] > mmax)
                    mmax = mg[i];
            for (int i = 0; i < D; i++) {
                double v = by == 0 ? ds[i] : mg[i] / mmax;
                if (isnan(dl[i]) || isnan(v))
                    continue;
                int j = (int)(v / top * n_bins);
                j = j < 0 ? 0 : j >= n_bins ? n_bins - 1 : j;
                s1[j] += dl[i], s2[j] += dl[i] * dl[i], count[j]++;
            }
        }
    }
    for (int j = 0; j < n_bins; j++) {
        int m = count[j];
        mean[j] = m ? s1[j] / m : NAN;
        double var = m > 1 ? (s2[j] - s1[j] * s1[j] / m) / (m - 1) : NAN;
        se[j] = m > 1 ? sqrt(var > 0 ? var / m : 0) : NAN;
    }
    free(s1), free(s2);
    return HL_OK;
}

int hl_prune_average(const hl_prune_result *res, int n, hl_prune_summary *o)
{
    if (!res || n < 1 || !o || !o->ipr || !o->ipr_se || !o->kurtosis || !o->kurtosis_se ||
        !o->kurtosis_class || !o->kurtosis_class_se || !o->width || !o->width_se ||
        !o->test_error || !o->test_error_se || !o->remaining)
        return hl_error_set(HL_EINVAL, "prune average: need n >= 1 results (got %d) and "
                            "every output array", n);
    const int R = res[0].n_rounds;
    for (int r = 0; r < n; r++)
        if (res[r].K != res[0].K || res[r].D != res[0].D || res[r].n_rounds > R)
            return hl_error_set(HL_EINVAL, "prune average: result %d has another shape "
                                "(K, D or rounds) than result 0", r);
    enum { Q = 5, Q_WIDTH = 2, Q_ERROR = 4 };
    double *out[Q] = {o->ipr, o->kurtosis, o->width, o->kurtosis_class, o->test_error};
    double *out_se[Q] = {o->ipr_se, o->kurtosis_se, o->width_se, o->kurtosis_class_se,
                         o->test_error_se};
    for (int round = 0; round < R; round++) {
        o->remaining[round] = res[0].remaining[round];
        for (int q = 0; q < Q; q++) {
            double s1 = 0, s2 = 0;
            int m = 0;
            for (int r = 0; r < n; r++) {
                const hl_prune_result *p = &res[r];
                if (round >= p->n_rounds)
                    continue;
                double v = 0;
                if (q == Q_ERROR) {
                    v = p->test_error[round];
                } else {
                    const double *src[] = {p->ipr, p->kurtosis, p->width, p->kurtosis_class};
                    for (int k = 0; k < p->K; k++) {
                        double u = src[q][(size_t)round * p->K + k];
                        if (q == Q_WIDTH && !(u <= p->D / 2.0))
                            u = p->D / 2.0; /* no centre (Inf, NaN) or wider than the ring */
                        v += u / p->K;
                    }
                }
                s1 += v, s2 += v * v, m++;
            }
            out[q][round] = m ? s1 / m : NAN;
            double var = m > 1 ? (s2 - s1 * s1 / m) / (m - 1) : NAN;
            out_se[q][round] = m > 1 ? sqrt(var > 0 ? var / m : 0) : NAN;
        }
    }
    return HL_OK;
}

/* ---- files -------------------------------------------------------------------------- */

/* The configuration as numbers, in one order for writing and checking. */
typedef struct {
    const char *name;
    double value;
} field;

static int config_fields(const hl_prune_config *c, field *f)
{
    int n = 0;
    f[n++] = (field){"K", c->net.K};
    f[n++] = (field){"mode", c->net.mode};
    f[n++] = (field){"act", c->net.act};
    f[n++] = (field){"bias", c->net.bias};
    f[n++] = (field){"bias_value", c->net.bias_value};
    f[n++] = (field){"lr", c->net.lr};
    f[n++] = (field){"std0w", c->net.std0w};
    f[n++] = (field){"std0v", c->net.std0v};
    f[n++] = (field){"time", c->time};
    f[n++] = (field){"seed", (double)c->seed};
    f[n++] = (field){"n_test", (double)c->n_test};
    f[n++] = (field){"rounds", c->rounds};
    f[n++] = (field){"fraction", c->fraction};
    f[n++] = (field){"rewind_time", c->rewind_time};
    f[n++] = (field){"per_unit", c->per_unit};
    return n;
}

enum { N_FIELDS = 15 };

int hl_prune_save(const char *path, const hl_prune_config *c, const hl_prune_result *r,
                  const char *command_line)
{
    if (!path || !c || !r || !r->remaining)
        return hl_error_set(HL_EINVAL, "prune save: path, configuration and result must "
                            "be given");
    const size_t R = (size_t)r->n_rounds, K = (size_t)r->K, D = (size_t)r->D;
    double *W = malloc(sizeof(double) * (R ? R : 1) * K * D);
    if (!W)
        return hl_error_set(HL_ENOMEM, "prune save: out of memory");
    for (size_t i = 0; i < R * K * D; i++)
        W[i] = r->W[i];
    field f[N_FIELDS];
    config_fields(c, f);
    hl_h5_attr attrs[N_FIELDS + 7];
    int na = 0;
    for (int i = 0; i < N_FIELDS; i++)
        attrs[na++] = (hl_h5_attr){f[i].name, NULL, f[i].value};
    attrs[na++] = (hl_h5_attr){"plus_model", c->plus_model, 0};
    attrs[na++] = (hl_h5_attr){"minus_model", c->minus_model, 0};
    attrs[na++] = (hl_h5_attr){"n_rounds", NULL, (double)R};
    attrs[na++] = (hl_h5_attr){"D", NULL, (double)D};
    attrs[na++] = (hl_h5_attr){"status", NULL, r->status};
    attrs[na++] = (hl_h5_attr){"wall_seconds", NULL, r->wall_seconds};
    hl_h5_array arr[] = {
        {"remaining", 1, {R}, r->remaining},
        {"test_error", 1, {R}, r->test_error},
        {"ipr", 2, {R, K}, r->ipr},
        {"kurtosis", 2, {R, K}, r->kurtosis},
        {"kurtosis_class", 2, {R, K}, r->kurtosis_class},
        {"width", 2, {R, K}, r->width},
        {"centre", 2, {R, K}, r->centre},
        {"W", 3, {R, K, D}, W},
        {"cavity/delta_kurtosis", 2, {K, D}, r->cavity_delta},
        {"cavity/delta_kurtosis_mixture", 2, {K, D}, r->cavity_delta_mix},
        {"cavity/magnitude", 2, {K, D}, r->cavity_magnitude},
        {"cavity/distance", 2, {K, D}, r->cavity_distance},
    };
    int narr = sizeof arr / sizeof *arr;
    if (R == 0)
        narr = 0; /* a run that diverged in round 0: only its configuration */
    int rc = hl_h5_write_arrays(path, "prune", command_line, attrs, na, arr, narr);
    free(W);
    return rc;
}

static int read_doubles(hid_t f, const char *name, double *out, size_t count)
{
    return hl_h5u_dset_read(f, name, H5T_NATIVE_DOUBLE, out, count);
}

int hl_prune_load(const char *path, const hl_prune_config *c, hl_prune_result *res)
{
    if (!path || !c || !res)
        return hl_error_set(HL_EINVAL, "prune load: path, configuration and result must "
                            "be given");
    memset(res, 0, sizeof *res);
    if (access(path, R_OK) != 0)
        return hl_error_set(HL_EIO, "prune load: cannot read '%s'", path);
    if (H5Fis_hdf5(path) <= 0)
        return hl_error_set(HL_EFORMAT, "prune load: '%s' is not an HDF5 file", path);
    hid_t f;
    H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); }
    H5E_END_TRY;
    if (f < 0)
        return hl_error_set(HL_EFORMAT, "prune load: cannot open '%s'", path);
    int rc = HL_OK;
    char kind[64] = "", text[HL_PRUNE_SPEC_MAX];
    field want[N_FIELDS];
    config_fields(c, want);
    double nr = -1, Dd = -1, status = 0, wall = 0;
    H5E_BEGIN_TRY
    {
        if (hl_h5u_attr_read_str(f, "kind", kind, sizeof kind) || strcmp(kind, "prune") != 0)
            rc = hl_error_set(HL_EFORMAT, "prune load: '%s' is not a pruning result", path);
        for (int i = 0; i < N_FIELDS && !rc; i++) {
            double v;
            if (hl_h5u_attr_read(f, want[i].name, H5T_NATIVE_DOUBLE, &v))
                rc = hl_error_set(HL_EFORMAT, "prune load: '%s' lacks attribute '%s'", path,
                                  want[i].name);
            else if (v != want[i].value)
                rc = hl_error_set(HL_EINVAL, "prune load: '%s' was made with %s = %g, not "
                                  "%g", path, want[i].name, v, want[i].value);
        }
        const char *names[2] = {"plus_model", "minus_model"};
        const char *vals[2] = {c->plus_model, c->minus_model};
        for (int i = 0; i < 2 && !rc; i++)
            if (hl_h5u_attr_read_str(f, names[i], text, sizeof text) || strcmp(text, vals[i]))
                rc = hl_error_set(HL_EINVAL, "prune load: '%s' was made with another %s "
                                  "than '%s'", path, names[i], vals[i]);
        if (!rc && (hl_h5u_attr_read(f, "n_rounds", H5T_NATIVE_DOUBLE, &nr) ||
                    hl_h5u_attr_read(f, "D", H5T_NATIVE_DOUBLE, &Dd) ||
                    hl_h5u_attr_read(f, "status", H5T_NATIVE_DOUBLE, &status) ||
                    hl_h5u_attr_read(f, "wall_seconds", H5T_NATIVE_DOUBLE, &wall) ||
                    !(nr >= 0 && nr <= c->rounds + 1 && nr == floor(nr)) ||
                    !(Dd >= 2 && Dd <= 1 << 26 && Dd == floor(Dd))))
            rc = hl_error_set(HL_EFORMAT, "prune load: '%s': n_rounds, D or status missing "
                              "or out of range", path);
        if (!rc && (rc = result_alloc(res, (int)nr, c->net.K, (int)Dd)) == HL_OK) {
            size_t R = (size_t)nr, K = (size_t)c->net.K, D = (size_t)Dd;
            double *W = malloc(sizeof(double) * (R ? R : 1) * K * D);
            int bad = !W;
            if (R && !bad)
                bad = read_doubles(f, "remaining", res->remaining, R) ||
                      read_doubles(f, "test_error", res->test_error, R) ||
                      read_doubles(f, "ipr", res->ipr, R * K) ||
                      read_doubles(f, "kurtosis", res->kurtosis, R * K) ||
                      read_doubles(f, "kurtosis_class", res->kurtosis_class, R * K) ||
                      read_doubles(f, "width", res->width, R * K) ||
                      read_doubles(f, "centre", res->centre, R * K) ||
                      read_doubles(f, "W", W, R * K * D) ||
                      read_doubles(f, "cavity/delta_kurtosis", res->cavity_delta, K * D) ||
                      read_doubles(f, "cavity/delta_kurtosis_mixture", res->cavity_delta_mix,
                                   K * D) ||
                      read_doubles(f, "cavity/magnitude", res->cavity_magnitude, K * D) ||
                      read_doubles(f, "cavity/distance", res->cavity_distance, K * D);
            for (size_t i = 0; !bad && i < R * K * D; i++)
                res->W[i] = (float)W[i];
            free(W);
            if (bad) {
                hl_prune_result_free(res);
                rc = hl_error_set(HL_EFORMAT, "prune load: '%s': a dataset is missing or has "
                                  "the wrong size", path);
            } else {
                res->status = (int)status;
                res->wall_seconds = wall;
            }
        }
    }
    H5E_END_TRY;
    H5Fclose(f);
    return rc;
}

int hl_prune_sweep(const hl_prune_config *cfg, const char *const *paths, int n, int threads,
                   const char *command_line, hl_prune_result *res, int *status, int *resumed)
{
    if (!cfg || !paths || n < 1 || !res || !status || !resumed)
        return hl_error_set(HL_EINVAL, "prune sweep: need n >= 1 (got %d) configurations, "
                            "paths, results, status and resumed", n);
    if (threads < 1)
        threads = 1;
    for (int i = 0; i < n; i++) {
        int rc = hl_prune_validate(&cfg[i]);
        if (rc)
            return hl_error_set(rc, "prune sweep: point %d: %s", i, hl_error_message());
        memset(&res[i], 0, sizeof res[i]);
        resumed[i] = 0;
        status[i] = HL_OK;
    }
    /* Existing points first (an interrupted sweep resumes); a file made with another
     * configuration is an error rather than silently replaced. */
    for (int i = 0; i < n; i++) {
        if (access(paths[i], F_OK) != 0)
            continue;
        int rc = hl_prune_load(paths[i], &cfg[i], &res[i]);
        if (rc) {
            for (int j = 0; j < i; j++)
                hl_prune_result_free(&res[j]);
            return rc;
        }
        resumed[i] = 1;
        status[i] = res[i].status;
    }
    char(*msg)[320] = calloc((size_t)n, sizeof *msg);
    if (!msg)
        return hl_error_set(HL_ENOMEM, "prune sweep: out of memory");
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (int i = 0; i < n; i++) {
        if (resumed[i])
            continue;
        int rc = hl_prune_run(&cfg[i], &res[i]);
        if (rc == HL_OK || rc == HL_EDIVERGED) {
            int wr = hl_prune_save(paths[i], &cfg[i], &res[i], command_line);
            if (wr)
                rc = wr;
        }
        status[i] = rc;
        if (rc && rc != HL_EDIVERGED)
            snprintf(msg[i], sizeof msg[i], "%s", hl_error_message());
    }
    int rc = HL_OK;
    for (int i = 0; i < n && !rc; i++)
        if (status[i] && status[i] != HL_EDIVERGED)
            rc = hl_error_set(status[i], "prune sweep: point %d (%s): %s", i, paths[i], msg[i]);
    free(msg);
    return rc;
}
