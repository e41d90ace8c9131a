/* train.c — the online-SGD experiment: sampler -> network -> measures.
 *
 * Everything a run needs (samplers, network, batch and test buffers, evaluator,
 * result arrays) is allocated before the first step; the loop itself only samples,
 * steps and, at the planned times, measures. */
#include "hoclab/train.h"
#include "hoclab/error.h"
#include "hoclab/measure.h"
#include "hoclab/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* BLOCK: samples per substream (see "Where the samples come from" below). */
enum { BLOCK = 256, PROGRESS_EVERY = 1 << 14 };

/* A batch loss above this counts as divergence. */
static const double LOSS_LIMIT = 1e12;

static const char *const input_names[] = {"nlgp", "gp"};

const char *hl_input_name(hl_input in) { return input_names[in]; }

int hl_input_parse(const char *s)
{
    for (int i = 0; s && i < 2; i++)
        if (strcmp(s, input_names[i]) == 0)
            return i;
    return -1;
}

hl_train_config hl_train_defaults(void)
{
    hl_train_config c = {
        .input = HL_INPUT_NLGP,
        .dim = 1, .L = 100, .p = 2,
        .xi_plus = 2, .xi_minus = 6,
        .gain = 10, .convention = HL_GAIN_SEEDS,
        .net = {.K = 8, .mode = HL_MODE_2LAYER, .act = HL_ACT_ERF,
                .bias = HL_BIAS_TRAINABLE, .bias_value = 1, .lr = 0.05,
                .std0w = 0.1, .std0v = 1},
        .batch = 1, .time = 10000, .seed = 1,
        .n_test = 20000, .n_meas = 50, .n_snap = -1, .max_weight = 1e6,
    };
    return c;
}

static int model_task(const hl_train_config *c)
{
    return c->plus_model[0] || c->minus_model[0];
}

const char *hl_train_run_name(const hl_train_config *c)
{
    return model_task(c) ? "task" : hl_input_name(c->input);
}

size_t hl_train_D(const hl_train_config *c)
{
    size_t D;
    if (model_task(c))
        return hl_model_dim(c->plus_model, &D) ? 0 : D;
    return c->dim == 1 ? (size_t)c->L : (size_t)c->L * c->L;
}

long long hl_train_steps(const hl_train_config *c)
{
    return llround(c->time * (double)hl_train_D(c));
}

static hl_nlgp_params class_params(const hl_train_config *c, double xi)
{
    hl_nlgp_params p = {c->dim, c->L, xi, c->p, c->gain, c->convention,
                        c->input == HL_INPUT_GP};
    return p;
}

int hl_train_validate(const hl_train_config *c)
{
    int rc;
    if (model_task(c)) {
        size_t Dp, Dm;
        if (!c->plus_model[0] || !c->minus_model[0])
            return hl_error_set(HL_EINVAL, "a model task needs both classes: plus model '%s', "
                                "minus model '%s'", c->plus_model, c->minus_model);
        if ((rc = hl_model_dim(c->plus_model, &Dp)) || (rc = hl_model_dim(c->minus_model, &Dm)))
            return rc;
        if (Dp != Dm)
            return hl_error_set(HL_EINVAL, "the classes differ in dimension: %s has D = %zu, "
                                "%s has D = %zu", c->plus_model, Dp, c->minus_model, Dm);
        size_t shape = c->dim == 1 ? (size_t)c->L : (size_t)c->L * c->L;
        if ((c->dim != 1 && c->dim != 2) || shape != Dp)
            return hl_error_set(HL_EINVAL, "image shape dim = %d, L = %d does not hold D = %zu "
                                "(L or L x L must equal D)", c->dim, c->L, Dp);
    } else {
        if ((unsigned)c->input > HL_INPUT_GP)
            return hl_error_set(HL_EINVAL, "unknown input model %d", (int)c->input);
        hl_nlgp_params pp = class_params(c, c->xi_plus), pm = class_params(c, c->xi_minus);
        if ((rc = hl_nlgp_validate(&pp)) || (rc = hl_nlgp_validate(&pm)))
            return rc;
    }
    if (c->batch < 1 || c->batch > 65536)
        return hl_error_set(HL_EINVAL, "batch size %d: accepted range is 1..65536", c->batch);
    if (!(c->time > 0) || !isfinite(c->time))
        return hl_error_set(HL_EINVAL, "time = %g: accepted range is time > 0", c->time);
    if ((double)hl_train_steps(c) * c->batch / BLOCK >= 4294967296.0)
        return hl_error_set(HL_EINVAL, "time = %g at batch %d needs more than 2^40 samples: "
                            "accepted is steps x batch < 2^40", c->time, c->batch);
    if (hl_train_steps(c) < 1)
        return hl_error_set(HL_EINVAL, "time = %g gives no SGD step at D = %zu: need "
                            "time >= %g", c->time, hl_train_D(c), 0.5 / hl_train_D(c));
    if (c->n_test < 1 || c->n_test > 100000000)
        return hl_error_set(HL_EINVAL, "test samples %zu: accepted range is 1..1e8",
                            c->n_test);
    if (c->n_meas < 2 || c->n_meas > 100000)
        return hl_error_set(HL_EINVAL, "measurement times %d: accepted range is 2..100000",
                            c->n_meas);
    if (c->n_snap < -1)
        return hl_error_set(HL_EINVAL, "snapshots %d: use -1 (all), 0 (none) or N >= 1",
                            c->n_snap);
    if (!(c->max_weight > 0))
        return hl_error_set(HL_EINVAL, "max weight %g: must be > 0", c->max_weight);
    hl_net_config n = c->net;
    n.D = (int)hl_train_D(c);
    n.max_batch = c->batch;
    return hl_net_validate(&n);
}

void hl_train_result_free(hl_train_result *r)
{
    if (!r)
        return;
    free(r->steps);
    free(r->t);
    free(r->test_error);
    free(r->test_loss);
    free(r->ipr);
    free(r->kurtosis);
    free(r->snap_index);
    free(r->snapshots);
    free(r->W);
    free(r->v);
    free(r->b);
    memset(r, 0, sizeof *r);
}

/* Step 0, then steps log-spaced between 1 and S, rounded and deduplicated. */
static int plan_times(long long S, int n, long long *steps)
{
    int m = 0;
    steps[m++] = 0;
    for (int i = 0; i < n - 1; i++) {
        double f = n > 2 ? (double)i / (n - 2) : 1.0;
        long long s = llround(pow((double)S, f));
        if (s > steps[m - 1])
            steps[m++] = s;
    }
    if (steps[m - 1] != S)
        steps[m++] = S; /* unreachable with llround(S^1) = S, kept as a guard */
    return m;
}

/* Which measurements get a weight snapshot: all, none, or n spread evenly. */
static int plan_snapshots(int n_snap, int n_meas, int *index)
{
    if (n_snap < 0 || n_snap >= n_meas) {
        for (int i = 0; i < n_meas; i++)
            index[i] = i;
        return n_meas;
    }
    int m = 0;
    for (int j = 0; j < n_snap; j++) {
        int i = n_snap == 1 ? n_meas - 1 : (int)lround((double)j * (n_meas - 1) / (n_snap - 1));
        if (m == 0 || i > index[m - 1])
            index[m++] = i;
    }
    return m;
}

static int alloc_result(hl_train_result *r, const hl_train_config *c, size_t K, size_t D,
                        int *n_snap_planned)
{
    size_t n = (size_t)c->n_meas + 1;
    r->steps = malloc(sizeof(long long) * n);
    r->t = malloc(sizeof(double) * n);
    r->test_error = malloc(sizeof(double) * n);
    r->test_loss = malloc(sizeof(double) * n);
    r->ipr = malloc(sizeof(double) * n * K);
    r->kurtosis = malloc(sizeof(double) * n * K);
    r->snap_index = malloc(sizeof(int) * n);
    r->W = malloc(sizeof(float) * K * D);
    r->v = malloc(sizeof(float) * K);
    r->b = malloc(sizeof(float) * K);
    if (!r->steps || !r->t || !r->test_error || !r->test_loss || !r->ipr || !r->kurtosis ||
        !r->snap_index || !r->W || !r->v || !r->b)
        return hl_error_set(HL_ENOMEM, "cannot allocate the result arrays");
    r->n_planned = plan_times(hl_train_steps(c), c->n_meas, r->steps);
    for (int i = 0; i < r->n_planned; i++)
        r->t[i] = (double)r->steps[i] / D;
    int n_snap = *n_snap_planned = plan_snapshots(c->n_snap, r->n_planned, r->snap_index);
    if (n_snap > 0) {
        r->snapshots = malloc(sizeof(float) * n_snap * K * D);
        if (!r->snapshots)
            return hl_error_set(HL_ENOMEM, "cannot allocate %d weight snapshots (%zu MB)",
                                n_snap, n_snap * K * D * sizeof(float) >> 20);
    }
    return HL_OK;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static float max_abs(const float *x, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (!(a <= m)) /* also catches NaN */
            m = isnan(a) ? INFINITY : a;
    }
    return m;
}

/* Measure at measurement index i; returns HL_EDIVERGED if the weights blew up. */
static int measure(hl_train_result *r, const hl_train_config *c, hl_net *net, hl_eval *ev,
                   const float *Xt, const float *yt, int i)
{
    const int K = net->cfg.K, D = net->cfg.D;
    float wmax = max_abs(net->W, (size_t)K * D);
    if (!(wmax <= c->max_weight))
        return hl_error_set(HL_EDIVERGED, "weights diverged (max |w| = %g > %g) before step %lld",
                            wmax, c->max_weight, r->steps[i]);
    hl_eval_run(ev, net, Xt, yt, c->n_test, &r->test_error[i], &r->test_loss[i],
                r->ipr + (size_t)i * K, r->kurtosis + (size_t)i * K);
    if (!isfinite(r->test_loss[i]))
        return hl_error_set(HL_EDIVERGED, "test loss is not finite at step %lld", r->steps[i]);
    r->n_meas = i + 1;
    if (r->n_snap < r->n_planned && r->snapshots && r->snap_index[r->n_snap] == i) {
        memcpy(r->snapshots + (size_t)r->n_snap * K * D, net->W, sizeof(float) * K * D);
        r->n_snap++;
    }
    return HL_OK;
}

static double mean_of(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s / n;
}

/* ---- Where the samples come from --------------------------------------------------
 *
 * The training samples form one sequence, cut into blocks of BLOCK samples; block j
 * is drawn from substream j of the run's training stream. A step of batch size B
 * takes the next B samples of the sequence. Blocks are therefore independent of each
 * other, of the batch size's relation to BLOCK and of which thread draws them: with
 * stateless samplers several threads draw blocks at once, and the next chunk of
 * blocks is drawn while the network trains on the current one. Samplers that keep
 * state (Markov chains) draw their blocks in order, on one thread at a time. */

typedef struct {
    hl_task *task[HL_TRAIN_MAX_THREADS];  /* one per sampling thread */
    gsl_rng *rng[HL_TRAIN_MAX_THREADS];
    int n;                                /* sampling threads (1 if not stateless) */
    int stateless;
    size_t D;
    char message[256];                    /* the first drawing error (set on any thread) */
} source;

static void source_free(source *s)
{
    for (int i = 0; i < HL_TRAIN_MAX_THREADS; i++) {
        hl_task_free(s->task[i]);
        hl_rng_free(s->rng[i]);
    }
}

static int source_init(source *s, const hl_train_config *c, uint64_t stream, int threads)
{
    memset(s, 0, sizeof *s);
    hl_nlgp_params pp = class_params(c, c->xi_plus), pm = class_params(c, c->xi_minus);
    s->D = hl_train_D(c);
    s->n = threads;
    for (int i = 0; i < s->n; i++) {
        s->task[i] = model_task(c)
                         ? hl_task_alloc(hl_model_new(c->plus_model), hl_model_new(c->minus_model))
                         : hl_task_alloc(hl_nlgp_alloc(&pp), hl_nlgp_alloc(&pm));
        s->rng[i] = hl_rng_alloc(c->seed, stream);
        if (!s->task[i] || !s->rng[i])
            return HL_ENOMEM; /* the allocator that failed has set the message */
        if (i == 0) {
            s->stateless = hl_sampler_is_stateless(hl_task_class(s->task[0], 1)) &&
                           hl_sampler_is_stateless(hl_task_class(s->task[0], -1));
            if (!s->stateless)
                s->n = 1;
        }
    }
    return HL_OK;
}

/* Block j of the sequence into X (BLOCK x D) and y, on sampling thread `t`. */
static int draw_block(source *s, int t, long long j, float *X, float *y)
{
    hl_rng_substream(s->rng[t], (uint32_t)j);
    return hl_task_sample(s->task[t], BLOCK, X, y, s->rng[t]);
}

/* Keep the first failure and its message: error messages are per thread, and the
 * block may have been drawn on another thread than the one that reports it. */
static void draw_failed(source *s, int e, int *rc)
{
#pragma omp critical(hl_train_draw_error)
    if (!*rc) {
        snprintf(s->message, sizeof s->message, "%s", hl_error_message());
        *rc = e;
    }
}

/* The consumer's view of a drawing failure: the code, with its message re-set here. */
static int draw_error(const source *s, int rc)
{
    return rc ? hl_error_set(rc, "%s", s->message) : HL_OK;
}

/* Blocks j0 .. j0+nb-1 into X and y, as OpenMP tasks when inside a parallel region
 * (stateless samplers: one task per block; otherwise one task for all, in order).
 * The caller waits for them (taskwait); *rc collects the first failure. The tasks
 * outlive this call, so they take copies of its arguments (the default for a task's
 * variables here): rc is a pointer to the caller's variable, copied, never shared. */
static void draw_blocks(source *s, long long j0, int nb, float *X, float *y, int *rc)
{
    const size_t D = s->D;
    if (s->stateless) {
        for (int b = 0; b < nb; b++) {
#pragma omp task firstprivate(b)
            {
                int t = 0;
#ifdef _OPENMP
                t = omp_get_thread_num() % s->n;
#endif
                int e = draw_block(s, t, j0 + b, X + (size_t)b * BLOCK * D,
                                   y + (size_t)b * BLOCK);
                if (e)
                    draw_failed(s, e, rc);
            }
        }
    } else {
#pragma omp task
        for (int b = 0; b < nb; b++) {
            int e = draw_block(s, 0, j0 + b, X + (size_t)b * BLOCK * D, y + (size_t)b * BLOCK);
            if (e) {
                draw_failed(s, e, rc);
                break;
            }
        }
    }
}

/* The current chunk (buffer *cur, first block *block) is used up: wait for the next,
 * which has been drawn meanwhile, make it current, and start drawing the one after it
 * into the buffer just freed. */
static int next_chunk(source *train, int *draw_rc, int nb, long long *block, int *cur,
                      float **buf, float **lab)
{
#pragma omp taskwait
    if (*draw_rc)
        return draw_error(train, *draw_rc);
    *block += nb;
    draw_blocks(train, *block + nb, nb, buf[*cur], lab[*cur], draw_rc);
    *cur = !*cur;
    return HL_OK;
}

/* Blocks of the test set (its own stream), drawn in parallel, the last one cut. */
static int draw_test_set(source *s, size_t n, float *X, float *y, float *Xb, float *yb)
{
    int rc = HL_OK;
    const size_t D = s->D, nb = (n + BLOCK - 1) / BLOCK, full = n / BLOCK;
#pragma omp parallel num_threads(s->n) if (s->n > 1)
#pragma omp single
    {
        if (full)
            draw_blocks(s, 0, (int)full, X, y, &rc);
#pragma omp taskwait
        rc = draw_error(s, rc);
        if (!rc && nb > full) {
            rc = draw_block(s, 0, (long long)full, Xb, yb);
            memcpy(X + full * BLOCK * D, Xb, sizeof(float) * (n - full * BLOCK) * D);
            memcpy(y + full * BLOCK, yb, sizeof(float) * (n - full * BLOCK));
        }
    }
    return rc;
}

/* Blocks per chunk: at least one batch plus a block, at least two per sampling thread
 * (so that threads share the work), and up to about 4 MB per chunk. */
static int chunk_blocks(int B, int threads, size_t D)
{
    long long nb = (B + BLOCK - 1) / BLOCK + (B % BLOCK != 0);
    if (nb < 2 * threads)
        nb = 2 * threads;
    while (nb * BLOCK * D * sizeof(float) < (4u << 20) && nb < 64)
        nb *= 2;
    return (int)nb;
}

/* ---- Resuming ------------------------------------------------------------------------
 *
 * A saved state is checked against the run's own plan before anything is copied: the
 * measurements it holds must be the first ones planned, its step must lie between the
 * last of them and the next, its snapshots must be those planned by then. */

static int restore(hl_train_result *r, const hl_train_result *f, int n_snap_planned,
                   long long S, size_t K, size_t D, int *finished)
{
    const int m = f->n_meas;
    if (m < 1 || m > r->n_planned)
        return hl_error_set(HL_EINVAL, "resume: the saved state has %d measurements; this "
                            "run plans 1..%d", m, r->n_planned);
    if (!f->test_error || !f->test_loss || !f->ipr || !f->kurtosis || !f->W || !f->v || !f->b)
        return hl_error_set(HL_EINVAL, "resume: the saved state lacks measurements or weights");
    if (f->status != HL_OK && f->status != HL_EDIVERGED && f->status != HL_EINTERRUPTED)
        return hl_error_set(HL_EINVAL, "resume: the saved state has status %d (%s)", f->status,
                            hl_status_name(f->status));
    for (int i = 0; f->steps && i < m; i++)
        if (f->steps[i] != r->steps[i])
            return hl_error_set(HL_EINVAL, "resume: saved measurement %d is at step %lld; this "
                                "run plans it at step %lld", i, f->steps[i], r->steps[i]);
    *finished = f->status == HL_EDIVERGED || m == r->n_planned;
    long long lo = r->steps[m - 1], hi = *finished ? S + 1 : r->steps[m];
    if (f->stop_step < lo || f->stop_step >= hi)
        return hl_error_set(HL_EINVAL, "resume: the saved state stopped at step %lld, outside "
                            "steps %lld..%lld (from measurement %d to the next)", f->stop_step,
                            lo, hi - 1, m - 1);
    int ns = 0;
    while (ns < n_snap_planned && r->snap_index[ns] < m)
        ns++;
    if (f->n_snap != ns || (ns > 0 && !f->snapshots))
        return hl_error_set(HL_EINVAL, "resume: the saved state has %d weight snapshots; %d are "
                            "planned by measurement %d", f->n_snap, ns, m - 1);
    memcpy(r->test_error, f->test_error, sizeof(double) * m);
    memcpy(r->test_loss, f->test_loss, sizeof(double) * m);
    memcpy(r->ipr, f->ipr, sizeof(double) * m * K);
    memcpy(r->kurtosis, f->kurtosis, sizeof(double) * m * K);
    if (ns > 0)
        memcpy(r->snapshots, f->snapshots, sizeof(float) * ns * K * D);
    memcpy(r->W, f->W, sizeof(float) * K * D);
    memcpy(r->v, f->v, sizeof(float) * K);
    memcpy(r->b, f->b, sizeof(float) * K);
    r->n_meas = m;
    r->n_snap = ns;
    r->stop_step = f->stop_step;
    if (*finished) {
        r->status = f->status == HL_EDIVERGED ? HL_EDIVERGED : HL_OK;
        snprintf(r->message, sizeof r->message, "%s", f->message);
    }
    return HL_OK;
}

/* ---- The training loop ----------------------------------------------------------- */

/* Samples trained on between looks at the clock (for checkpoints): a clock read per
 * online step would cost more than the step at small D. */
enum { CLOCK_EVERY = 1 << 14 };

typedef struct {
    const hl_train_config *c;
    hl_train_result *r;
    const hl_train_hooks *h;
    int run_index, nb, B, K;
    size_t D, chunk;
    long long S;
    hl_net *net;
    hl_eval *ev;
    source *train;
    float *buf[2], *lab[2], *X, *y, *Xt, *yt;
    double t0, wall0;       /* this session's start; wall seconds of earlier sessions */
} trainer;

static void progress_report(const trainer *t, long long step, int i)
{
    if (t->h->progress)
        t->h->progress(t->h->user, t->run_index, step, t->S, t->r->test_error[i],
                       mean_of(t->r->ipr + (size_t)i * t->K, t->K));
}

/* The partial result at this step boundary: weights, step and time so far. */
static void snapshot_state(const trainer *t, long long step)
{
    hl_train_result *r = t->r;
    memcpy(r->W, t->net->W, sizeof(float) * t->K * t->D);
    memcpy(r->v, t->net->v, sizeof(float) * t->K);
    memcpy(r->b, t->net->b, sizeof(float) * t->K);
    r->stop_step = step;
    r->wall_seconds = t->wall0 + seconds_now() - t->t0;
}

/* Stop or checkpoint at this step boundary, if asked: HL_EINTERRUPTED to stop. */
static int boundary(const trainer *t, long long step, long long *since, double *last)
{
    const hl_train_hooks *h = t->h;
    if (h->stop && *h->stop) {
        snapshot_state(t, step);
        return hl_error_set(HL_EINTERRUPTED, "interrupted at step %lld of %lld", step, t->S);
    }
    if (!h->checkpoint || !(h->checkpoint_every > 0) || *since < CLOCK_EVERY)
        return HL_OK;
    *since = 0;
    double now = seconds_now();
    if (now - *last < h->checkpoint_every)
        return HL_OK;
    *last = now;
    snapshot_state(t, step);
    int rc = h->checkpoint(h->user, t->run_index, t->c, t->r);
    return rc ? hl_error_set(rc, "checkpoint at step %lld: %s", step, hl_error_message()) : HL_OK;
}

/* Start drawing at step `step`: the current chunk and the one after it, a Markov chain
 * first replayed through the blocks before them. */
static int start_drawing(trainer *t, long long step, long long *block, size_t *pos,
                         int *draw_rc)
{
    const long long s = step * t->B; /* samples used so far */
    *block = (long long)(s / t->chunk) * t->nb;
    *pos = s % t->chunk;
    for (long long j = 0; !t->train->stateless && j < *block; j++) {
        int rc = draw_block(t->train, 0, j, t->buf[0], t->lab[0]);
        if (rc)
            return rc;
    }
    draw_blocks(t->train, *block, t->nb, t->buf[0], t->lab[0], draw_rc);
#pragma omp taskwait
    if (*draw_rc)
        return draw_error(t->train, *draw_rc);
    draw_blocks(t->train, *block + t->nb, t->nb, t->buf[1], t->lab[1], draw_rc);
    return HL_OK;
}

/* Train from step r->stop_step (0 or a resumed state, measurements up to r->n_meas
 * done) to the end. Inside an OpenMP single region: the drawing runs as tasks. */
static int train_loop(trainer *t)
{
    hl_train_result *r = t->r;
    const size_t D = t->D, chunk = t->chunk;
    const int B = t->B;
    int cur = 0, next = r->n_meas, draw_rc = HL_OK, rc;
    long long step = r->stop_step, block, since = 0; /* first block of the current chunk */
    size_t pos;                                       /* next sample in the current chunk */
    double last = seconds_now();
    if ((rc = start_drawing(t, step, &block, &pos, &draw_rc)))
        goto out;
    while (!rc) {
        if (step == r->steps[next]) {
            if ((rc = measure(r, t->c, t->net, t->ev, t->Xt, t->yt, next)))
                break;
            progress_report(t, step, next);
            if (++next == r->n_planned)
                break;
        }
        if ((rc = boundary(t, step, &since, &last)))
            break;
        /* Steps up to the next event: a measurement, a progress report, the end of the
         * block (online), or one batch. Online runs are cut at every block boundary,
         * whatever the chunk size, thread count or progress setting: where the fused
         * online loop is cut changes its rounding, and so a run cuts at the same
         * steps however it is run or resumed. */
        long long until = r->steps[next] - step;
        if (t->h->progress && PROGRESS_EVERY - step % PROGRESS_EVERY < until)
            until = PROGRESS_EVERY - step % PROGRESS_EVERY;
        double loss = 0;
        int done;
        if (B == 1) {
            int room = (int)(BLOCK - pos % BLOCK < (size_t)until ? BLOCK - pos % BLOCK
                                                                 : (size_t)until);
            done = hl_net_online(t->net, t->buf[cur] + pos * D, t->lab[cur] + pos, room,
                                 LOSS_LIMIT, &loss);
            pos += done;
            if (done < room)
                loss = NAN; /* stopped early: diverged */
        } else if (pos + B > chunk) {
            /* The batch straddles two chunks: its head from this one, its tail
             * from the next. */
            size_t head = chunk - pos;
            memcpy(t->X, t->buf[cur] + pos * D, sizeof(float) * head * D);
            memcpy(t->y, t->lab[cur] + pos, sizeof(float) * head);
            if ((rc = next_chunk(t->train, &draw_rc, t->nb, &block, &cur, t->buf, t->lab)))
                break;
            memcpy(t->X + head * D, t->buf[cur], sizeof(float) * (B - head) * D);
            memcpy(t->y + head, t->lab[cur], sizeof(float) * (B - head));
            pos = B - head;
            loss = hl_net_step(t->net, t->X, t->y, B);
            done = 1;
        } else {
            loss = hl_net_step(t->net, t->buf[cur] + pos * D, t->lab[cur] + pos, B);
            pos += B;
            done = 1;
        }
        step += done;
        since += (long long)done * B;
        if (!(loss <= LOSS_LIMIT)) {
            rc = hl_error_set(HL_EDIVERGED, "loss %g at step %lld: training diverged", loss,
                              step);
            break;
        }
        if (pos == chunk) {
            if ((rc = next_chunk(t->train, &draw_rc, t->nb, &block, &cur, t->buf, t->lab)))
                break;
            pos = 0;
        }
        if (t->h->progress && step % PROGRESS_EVERY == 0 && step != r->steps[next])
            progress_report(t, step, next - 1);
    }
out:; /* wait for the drawing still under way: it writes into the buffers */
#pragma omp taskwait
    r->stop_step = step;
    return rc;
}

/* ---- One run ------------------------------------------------------------------------ */

static int run(const hl_train_config *c, hl_train_result *r, int run_index, int threads,
               const hl_train_hooks *h, const hl_train_result *resume)
{
    int rc = hl_train_validate(c);
    if (rc)
        return rc;
    memset(r, 0, sizeof *r);
    const size_t D = hl_train_D(c);
    const int K = c->net.K, B = c->batch;
    hl_net_config nc = c->net;
    nc.D = (int)D;
    nc.max_batch = B;
    if (threads < 1)
        threads = 1;
    if (threads > HL_TRAIN_MAX_THREADS)
        threads = HL_TRAIN_MAX_THREADS;

    source train, test;
    const int nb = chunk_blocks(B, threads, D);
    const size_t chunk = (size_t)nb * BLOCK; /* samples per chunk */
    trainer t = {.c = c, .r = r, .h = h, .run_index = run_index, .nb = nb, .B = B, .K = K,
                 .D = D, .chunk = chunk, .S = hl_train_steps(c), .train = &train,
                 .t0 = seconds_now()};
    t.net = hl_net_alloc(&nc);
    t.ev = hl_eval_alloc(K);
    gsl_rng *r_init = hl_rng_alloc(c->seed, HL_STREAM_INIT);
    for (int i = 0; i < 2; i++) {
        t.buf[i] = malloc(sizeof(float) * chunk * D);
        t.lab[i] = malloc(sizeof(float) * chunk);
    }
    t.X = malloc(sizeof(float) * B * D);
    t.y = malloc(sizeof(float) * B);
    t.Xt = malloc(sizeof(float) * c->n_test * D);
    t.yt = malloc(sizeof(float) * c->n_test);
    int n_snap_planned = 0, finished = 0;
    if ((rc = source_init(&train, c, HL_STREAM_TRAIN, threads)) ||
        (rc = source_init(&test, c, HL_STREAM_TEST, threads)))
        goto done;
    if (!t.net || !t.ev || !r_init) {
        rc = HL_ENOMEM;
        goto done;
    }
    if (!t.buf[0] || !t.buf[1] || !t.lab[0] || !t.lab[1] || !t.X || !t.y || !t.Xt || !t.yt) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the sample buffers (%zu + %zu samples "
                          "of D = %zu)", 2 * chunk, c->n_test, D);
        goto done;
    }
    if ((rc = alloc_result(r, c, K, D, &n_snap_planned)))
        goto done;
    hl_sampler_clipping(hl_task_class(train.task[0], 1), &r->n_clipped[0], &r->clipped_fraction[0]);
    hl_sampler_clipping(hl_task_class(train.task[0], -1), &r->n_clipped[1],
                     &r->clipped_fraction[1]);
    r->marginal_kurtosis = model_task(c) ? NAN : 0; /* not known for any model pair */
    if (!model_task(c) && c->input == HL_INPUT_NLGP &&
        (rc = hl_nlgp_marginal_kurtosis(c->gain, c->convention, &r->marginal_kurtosis)))
        goto done;
    if (resume && resume->n_meas > 0) {
        if ((rc = restore(r, resume, n_snap_planned, t.S, K, D, &finished)))
            goto done;
        t.wall0 = resume->wall_seconds;
        if (finished) {
            rc = r->status;
            goto done;
        }
    }
    if ((rc = draw_test_set(&test, c->n_test, t.Xt, t.yt, t.buf[0], t.lab[0])))
        goto done;
    hl_net_init(t.net, r_init);
    if (r->n_meas > 0) { /* resumed: the saved weights replace the initial ones */
        memcpy(t.net->W, r->W, sizeof(float) * K * D);
        memcpy(t.net->v, r->v, sizeof(float) * K);
        memcpy(t.net->b, r->b, sizeof(float) * K);
    }

#pragma omp parallel num_threads(threads) if (threads > 1)
#pragma omp single
    rc = train_loop(&t);
    if (rc != HL_EINTERRUPTED) /* an interrupted run's state was taken at the boundary */
        snapshot_state(&t, r->stop_step);
done:
    if (rc && rc != HL_EDIVERGED && rc != HL_EINTERRUPTED)
        hl_train_result_free(r);
    else /* earlier sessions' time, and this one's if it trained */
        r->wall_seconds = t.wall0 + (finished ? 0 : seconds_now() - t.t0);
    /* The message also travels in the result: the error text is per thread. */
    r->status = rc;
    if (rc && !finished)
        snprintf(r->message, sizeof r->message, "%s", hl_error_message());
    else if (rc)
        hl_error_set(rc, "%s", r->message);
    source_free(&train);
    source_free(&test);
    hl_net_free(t.net);
    hl_eval_free(t.ev);
    hl_rng_free(r_init);
    for (int i = 0; i < 2; i++) {
        free(t.buf[i]);
        free(t.lab[i]);
    }
    free(t.X);
    free(t.y);
    free(t.Xt);
    free(t.yt);
    return rc;
}

int hl_train_run(const hl_train_config *c, hl_train_result *r, int run_index,
                 hl_progress_fn progress, void *user)
{
    /* BLAS on one thread, as in hl_train_runs: a threaded BLAS sums in another order
     * at large D, and the run would not give the numbers hl_train_runs gives. */
    hl_train_hooks h = {.progress = progress, .user = user};
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    int rc = run(c, r, run_index, 1, &h, NULL);
    openblas_set_num_threads(blas_threads);
    return rc;
}

int hl_train_runs(const hl_train_config *c, int n, int threads, hl_train_result *res,
                  int *status, hl_progress_fn progress, void *user)
{
    hl_train_hooks h = {.progress = progress, .user = user};
    return hl_train_runs_hooked(c, n, threads, res, status, &h);
}

int hl_train_runs_hooked(const hl_train_config *c, int n, int threads, hl_train_result *res,
                         int *status, const hl_train_hooks *hooks)
{
    const hl_train_hooks none = {0}, *h = hooks ? hooks : &none;
    /* Parallelism is over whole runs first; threads left over (fewer runs than
     * threads) draw samples for the runs. Inside a run BLAS stays on one thread, so
     * a run's arithmetic is the same whatever the thread count. */
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#ifdef _OPENMP
    if (threads <= 0)
        threads = omp_get_num_procs();
    int outer = n < threads ? n : threads, inner = n < threads ? threads / n : 1;
    int levels = omp_get_max_active_levels();
    omp_set_max_active_levels(2);
#pragma omp parallel for schedule(dynamic, 1) num_threads(outer)
    for (int i = 0; i < n; i++)
        status[i] = run(&c[i], &res[i], i, inner, h, h->resume ? &h->resume[i] : NULL);
    omp_set_max_active_levels(levels);
#else
    for (int i = 0; i < n; i++)
        status[i] = run(&c[i], &res[i], i, 1, h, h->resume ? &h->resume[i] : NULL);
#endif
    openblas_set_num_threads(blas_threads); /* leave the caller's BLAS as it was */
    int interrupted = 0;
    for (int i = 0; i < n; i++) {
        if (status[i] == HL_EINTERRUPTED)
            interrupted = 1;
        else if (status[i] && status[i] != HL_EDIVERGED)
            return hl_error_set(status[i], "run %d: %s", i, res[i].message);
    }
    return interrupted ? hl_error_set(HL_EINTERRUPTED, "interrupted: the runs' states are in "
                                      "their results")
                       : HL_OK;
}
