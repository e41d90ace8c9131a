/* reproduce_simplicity.c — `hoclab reproduce simplicity-bias`: the distributional
 * simplicity bias (Refinetti, Ingrosso & Goldt, ICML 2023) on Fashion-MNIST, with two
 * classes (7 sneaker against 9 ankle boot) and with all ten.
 *
 * Two classes: a two-layer network (K hidden erf units, --K) and a linear model (one
 * linear unit, phi = w.x / sqrt(D) + b) are trained by online SGD on draws with
 * replacement from the 12,000 training images of the pair (t = steps / D; t = 100 is
 * about 6.5 passes) and measured at log-spaced times on three test sets: the real test
 * split, the class-wise Gaussian-mixture clone (each class N(m_c, C_c) fitted to its
 * training images) and the isotropic clone (N(m_c, v_c I)). The reverse run trains on
 * fresh draws of the Gaussian-mixture clone and is measured on the same three sets.
 * All inputs are normalised by one global pixel mean and sd of the pair's training
 * images.
 *
 * Ten classes: the same design with a C = 10 student (multiclass.c: K erf units and a
 * softmax readout with cross-entropy, or the linear softmax model), trained on draws
 * of all 60,000 training images or of the ten-class clones (fitted once, shared by the
 * threads), normalised by the global pixel mean and sd of all ten classes. Ten classes
 * separate later than two, so these runs go ten times longer: t = 10 x --time (t =
 * 1000, about 13 passes, by default).
 *
 * Defaults: K = 16, t = 100 (--full 1000), 3 seeds; --L is ignored (D = 784 is the
 * image size). Each run (task, model, training data, seed) is one point, written to
 * DIR/points/ as soon as it finishes and read back when the command runs again.
 * Runs go in parallel over --threads, each thread with its own samplers. */
#include "commands.h"
#include "reproduce.h"

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/net.h"
#include "hoclab/plot.h"

#include <cblas.h>   /* openblas_set_num_threads only */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "reproduce simplicity-bias"

enum {
    CLASS_A = 7, CLASS_B = 9,   /* sneaker, ankle boot: clones and data differ clearly */
    TEN_C = 10,                 /* the ten-class task: every Fashion-MNIST class */
    TEN_FACTOR = 10,            /* ten-class runs go to t = TEN_FACTOR x --time */
    N_SETS = 3,                 /* real test split, Gaussian-mixture clone, isotropic clone */
    N_MEAS = 30, N_TEST = 4000,
    MODEL_NET = 0, MODEL_LINEAR = 1,
    TRAIN_REAL = 0, TRAIN_GM = 1
};
#define LR 0.01   /* batch-1 SGD at 0.05 fluctuates by +-0.1 in test error on these inputs */
/* Ten classes, softmax: 0.01 has not finished the early phase by t = 100; 0.05 fluctuates
 * by +-0.02 late at batch 1. */
#define LR10 0.02

static const char *model_key[] = {"net", "linear"};
static const char *train_key[] = {"real", "gm"};

/* The four binary tasks a run needs and the four ten-class sources; one set per
 * thread (tasks and sources keep draw buffers). */
typedef struct {
    hl_task *real_train, *real_test, *gm, *iso;
    hl_mc_source *t_train, *t_test, *t_gm, *t_iso;
} tasks;

/* What the ten-class sources are drawn from: loaded and fitted once, shared. */
typedef struct {
    hl_dataset *train, *test;
    hl_mixture *gm, *iso;
} ten_data;

static hl_task *pair(const char *extra)
{
    char a[128], b[128];
    snprintf(a, sizeof a, "fmnist:classes=%d,%s", CLASS_A, extra);
    snprintf(b, sizeof b, "fmnist:classes=%d,%s", CLASS_B, extra);
    hl_sampler *p = hl_model_new(a);
    hl_sampler *m = p ? hl_model_new(b) : NULL;
    if (!m) {
        hl_sampler_free(p);
        return NULL;
    }
    return hl_task_alloc(p, m);
}

static void tasks_free(tasks *t)
{
    hl_task_free(t->real_train);
    hl_task_free(t->real_test);
    hl_task_free(t->gm);
    hl_task_free(t->iso);
    hl_mc_source_free(t->t_train);
    hl_mc_source_free(t->t_test);
    hl_mc_source_free(t->t_gm);
    hl_mc_source_free(t->t_iso);
    memset(t, 0, sizeof *t);
}

/* binary: make the pair's tasks; ten (non-NULL): make the ten-class sources. */
static int tasks_make(tasks *t, int binary, const ten_data *ten)
{
    memset(t, 0, sizeof *t);
    if (binary &&
        (!(t->real_train = pair("split=train")) || !(t->real_test = pair("split=test")) ||
         !(t->gm = pair("split=train,clone=1")) || !(t->iso = pair("split=train,clone=2")))) {
        tasks_free(t);
        return HL_EIO;   /* the data files, mostly; the message says */
    }
    if (ten && (!(t->t_train = hl_mc_source_dataset(ten->train)) ||
                !(t->t_test = hl_mc_source_dataset(ten->test)) ||
                !(t->t_gm = hl_mc_source_mixture(ten->gm)) ||
                !(t->t_iso = hl_mc_source_mixture(ten->iso)))) {
        tasks_free(t);
        return HL_ENOMEM;
    }
    return HL_OK;
}

static hl_simp_config run_config(const reproduce_opts *o, int model, int seed, double shift,
                                 double scale)
{
    hl_simp_config c = hl_simp_defaults();
    c.net.K = o->K;
    c.net.lr = LR;
    if (model == MODEL_LINEAR) {
        /* mean-field mode with K = 1: v fixed at 1, norm 1, so phi = w.x/sqrt(D) + b */
        c.net.K = 1;
        c.net.mode = HL_MODE_MF;
        c.net.act = HL_ACT_LINEAR;
    }
    c.time = o->time;
    c.n_meas = N_MEAS;
    c.n_test = N_TEST;
    c.seed = (unsigned long long)seed;
    c.shift = shift;
    c.scale = scale;
    return c;
}

static hl_mc_config ten_config(const reproduce_opts *o, int model, int seed, double shift,
                               double scale)
{
    hl_mc_config c = hl_mc_defaults();
    c.K = model == MODEL_LINEAR ? 0 : o->K;
    c.lr = LR10;
    c.time = TEN_FACTOR * o->time;
    c.n_meas = N_MEAS;
    c.n_test = N_TEST;
    c.seed = (unsigned long long)seed;
    c.shift = shift;
    c.scale = scale;
    return c;
}

/* ---- points: one run's curves in DIR/points/, read back on a second call ---------- */

typedef struct {
    int ten, model, train, seed;   /* ten: the ten-class task */
    char path[4200];
    hl_simp_result r;
    int have, rc;
    char msg[512];   /* a worker thread's error message (messages are per thread) */
} point;

static double attr_num(hl_h5_reader *f, const char *name)
{
    double v;
    return hl_h5_reader_attr(f, name, &v) ? NAN : v;
}

/* The settings a point records, for writing and for checking on reading back. */
static void point_settings(const point *p, const reproduce_opts *o, double *K, double *time,
                           double *lr)
{
    if (p->ten) {
        *K = p->model == MODEL_NET ? o->K : 0;
        *time = TEN_FACTOR * o->time;
        *lr = LR10;
    } else {
        *K = p->model == MODEL_NET ? o->K : 1;
        *time = o->time;
        *lr = LR;
    }
}

/* 1: read back; 0: no file; HL_EINVAL: a file made with other settings or unreadable. */
static int point_read(point *p, const reproduce_opts *o)
{
    if (access(p->path, F_OK) != 0)
        return 0;
    hl_h5_reader *f = hl_h5_reader_open(p->path);
    if (!f)
        return hl_error_set(HL_EINVAL, "%s: not an HDF5 file; delete it to rerun the point",
                            p->path);
    int rc = HL_OK;
    double n = attr_num(f, "n_meas"), K, time, lr;
    point_settings(p, o, &K, &time, &lr);
    int classes_ok = p->ten ? attr_num(f, "classes") == TEN_C
                            : attr_num(f, "class_a") == CLASS_A &&
                                  attr_num(f, "class_b") == CLASS_B;
    if (attr_num(f, "K") != K || attr_num(f, "time") != time ||
        attr_num(f, "n_test") != N_TEST || !classes_ok || attr_num(f, "lr") != lr ||
        !(n >= 1 && n <= N_MEAS + 1)) {
        rc = hl_error_set(HL_EINVAL, "%s was made with other settings (K, time, classes, "
                          "lr, test size); delete it or use another --output-dir", p->path);
        goto out;
    }
    hl_simp_result *r = &p->r;
    r->n_meas = (int)n;
    r->n_sets = N_SETS;
    r->status = attr_num(f, "diverged") == 1 ? HL_EDIVERGED : HL_OK;
    r->steps = calloc((size_t)n, sizeof *r->steps);
    r->t = malloc(sizeof(double) * (size_t)n);
    r->error = malloc(sizeof(double) * (size_t)n * N_SETS);
    r->loss = malloc(sizeof(double) * (size_t)n * N_SETS);
    if (!r->steps || !r->t || !r->error || !r->loss)
        rc = hl_error_set(HL_ENOMEM, "out of memory");
    else if (hl_h5_reader_array(f, "t", r->t, (size_t)n) ||
             hl_h5_reader_array(f, "error", r->error, n * N_SETS) ||
             hl_h5_reader_array(f, "loss", r->loss, n * N_SETS))
        rc = hl_error_set(HL_EINVAL, "%s: arrays t, error, loss missing or of the wrong size; "
                          "delete it to rerun the point", p->path);
    if (rc)
        hl_simp_result_free(r);
out:
    hl_h5_reader_close(f);
    return rc ? rc : 1;
}

static int point_write(const point *p, const reproduce_opts *o, const char *cmdline)
{
    const hl_simp_result *r = &p->r;
    size_t n = (size_t)r->n_meas;
    double K, time, lr;
    point_settings(p, o, &K, &time, &lr);
    hl_h5_attr attrs[] = {
        {"experiment", "simplicity-bias"}, {"model", model_key[p->model]},
        {"trained_on", train_key[p->train]}, {"K", NULL, K}, {"time", NULL, time},
        {"n_meas", NULL, (double)n}, {"n_test", NULL, N_TEST}, {"lr", NULL, lr},
        {"seed", NULL, p->seed}, {"diverged", NULL, r->status == HL_EDIVERGED},
        {"test_sets", "real test split, Gaussian-mixture clone, isotropic clone"},
        {"loss", p->ten ? "cross-entropy of the softmax readout" : "(phi - y)^2 / 2"},
        /* the class attributes last: two for the pair, one for the ten classes */
        {p->ten ? "classes" : "class_a", NULL, p->ten ? TEN_C : CLASS_A},
        {"class_b", NULL, CLASS_B}};
    int n_attrs = sizeof attrs / sizeof *attrs - (p->ten ? 1 : 0);
    hl_h5_array arrays[] = {{"t", 1, {n}, r->t},
                            {"error", 2, {N_SETS, n}, r->error},
                            {"loss", 2, {N_SETS, n}, r->loss}};
    return hl_h5_write_arrays(p->path, "simplicity-point", cmdline, attrs, n_attrs, arrays, 3);
}

/* ---- summary --------------------------------------------------------------------- */

/* Mean and standard error over the seeds that finished, per set and time, of the
 * runs (model, train); NaN where none did. */
static void average(const point *pts, int S, int n, double *mean, double *se)
{
    for (int j = 0; j < N_SETS; j++)
        for (int i = 0; i < n; i++) {
            double s1 = 0, s2 = 0;
            int m = 0;
            for (int s = 0; s < S; s++) {
                const hl_simp_result *r = &pts[s].r;
                if (r->status != HL_OK || r->n_meas != n)
                    continue;
                double e = r->error[(size_t)j * n + i];
                s1 += e, s2 += e * e, m++;
            }
            double mu = m ? s1 / m : NAN;
            mean[j * n + i] = mu;
            se[j * n + i] = m > 1 ? sqrt(fmax(s2 / m - mu * mu, 0) / (m - 1)) : NAN;
        }
}

/* Mean over seeds of the gap a - b averaged over measurements i0..i1 (the same
 * seed's runs paired), and its standard error over seeds. */
static void paired_gap(const point *pa, int ja, const point *pb, int jb, int S, int n, int i0,
                       int i1, double *gap, double *se)
{
    double s1 = 0, s2 = 0;
    int m = 0;
    for (int s = 0; s < S; s++) {
        if (pa[s].r.status || pb[s].r.status || pa[s].r.n_meas != n || pb[s].r.n_meas != n)
            continue;
        double d = 0;
        for (int i = i0; i <= i1; i++)
            d += pa[s].r.error[(size_t)ja * n + i] - pb[s].r.error[(size_t)jb * n + i];
        d /= i1 - i0 + 1;
        s1 += d, s2 += d * d, m++;
    }
    *gap = m ? s1 / m : NAN;
    *se = m > 1 ? sqrt(fmax(s2 / m - *gap * *gap, 0) / (m - 1)) : NAN;
}

static double or0(double x)
{
    return isfinite(x) ? x : 0;
}

/* One task's (pair or ten classes) 4S runs summarised: g[0..S) network trained on
 * real data, g[S..2S) network on the GM clone, g[2S..3S) linear on real, g[3S..4S)
 * linear on the GM clone. */
typedef struct {
    const double *t;    /* the measurement times (of the first complete run) */
    int n;
    double *cols;       /* owns the arrays below */
    double *mean[4], *se[4];          /* per group, N_SETS x n */
    double *gap, *gap_se, *fwd, *fwd_se; /* reverse and forward gap curves, n each */
    int i0, i1, l0;     /* early window i0..i1, late window l0..n-1 */
    double fe, fe_se, fl, fl_se, ie, ie_se, il, il_se, re, re_se, rl, rl_se, lr_, lr_se;
    double t_part;
    int agree;
} summary;

/* HL_OK; HL_ENOMEM; 1 if every run diverged (nothing to summarise). */
static int summarise(const point *g, int S, summary *m)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < 4 * S && !m->t; i++)
        if (g[i].r.status == HL_OK)
            m->t = g[i].r.t, m->n = g[i].r.n_meas;
    if (!m->t)
        return 1;
    const int n = m->n;
    const double *t = m->t;
    size_t blk = (size_t)N_SETS * n;
    if (!(m->cols = malloc(sizeof(double) * (blk * 8 + 4 * (size_t)n))))
        return hl_error_set(HL_ENOMEM, "out of memory");
    for (int k = 0; k < 4; k++) {
        m->mean[k] = m->cols + 2 * k * blk, m->se[k] = m->cols + (2 * k + 1) * blk;
        average(g + k * S, S, n, m->mean[k], m->se[k]);
    }
    m->gap = m->cols + 8 * blk, m->gap_se = m->gap + n, m->fwd = m->gap_se + n;
    m->fwd_se = m->fwd + n;
    for (int i = 0; i < n; i++) {
        paired_gap(g + S, 0, g, 0, S, n, i, i, &m->gap[i], &m->gap_se[i]);
        paired_gap(g, 1, g, 0, S, n, i, i, &m->fwd[i], &m->fwd_se[i]);
    }

    /* Windows. Early: one decade of time from the first measurement at which the
     * network trained on real data has an error on the real test split within 3 times
     * its final one (past the initial transient, whose timing differs from run to run);
     * late: the last three measurements (the last half decade). Gaps are paired over
     * seeds and averaged over the window: forward = error on a clone - error on the
     * real data (network trained on real data); reverse = error on the real data of
     * the network trained on the GM clone - that of the network trained on real data. */
    const double *mr = m->mean[0];
    m->i0 = n - 2;
    for (int i = 1; i < n - 1; i++)
        if (mr[i] <= 3 * mr[n - 1]) {
            m->i0 = i;
            break;
        }
    for (m->i1 = m->i0; m->i1 + 1 < n - 1 && t[m->i1 + 1] <= 10 * t[m->i0]; m->i1++)
        ;
    m->l0 = n - 3 > m->i1 + 1 ? n - 3 : m->i1 + 1;
    int i0 = m->i0, i1 = m->i1, l0 = m->l0;
    paired_gap(g, 1, g, 0, S, n, i0, i1, &m->fe, &m->fe_se);
    paired_gap(g, 1, g, 0, S, n, l0, n - 1, &m->fl, &m->fl_se);
    paired_gap(g, 2, g, 0, S, n, i0, i1, &m->ie, &m->ie_se);
    paired_gap(g, 2, g, 0, S, n, l0, n - 1, &m->il, &m->il_se);
    paired_gap(g + S, 0, g, 0, S, n, i0, i1, &m->re, &m->re_se);
    paired_gap(g + S, 0, g, 0, S, n, l0, n - 1, &m->rl, &m->rl_se);
    paired_gap(g + 3 * S, 0, g + 2 * S, 0, S, n, l0, n - 1, &m->lr_, &m->lr_se);
    /* parting time: the first time from which the network trained on real data stays
     * ahead of the clone-trained one by more than 2 SE (and 0.2 percentage points) */
    m->t_part = NAN;
    for (int i = n - 1; i >= i0; i--) {
        if (!(m->gap[i] > 2 * or0(m->gap_se[i]) && m->gap[i] > 0.002))
            break;
        m->t_part = t[i];
    }
    m->agree = fabs(m->re) <= fmax(0.01, 2 * or0(m->re_se)) && m->rl > 2 * or0(m->rl_se) &&
               m->rl - m->re > 2 * sqrt(or0(m->re_se) * or0(m->re_se) +
                                        or0(m->rl_se) * or0(m->rl_se));
    return HL_OK;
}

static void print_table(const summary *m)
{
    const int n = m->n;
    double *const *mean = m->mean;
    printf("  %-9s | %-27s | %-27s | %-9s | %-18s\n", "", "network trained on real",
           "linear trained on real", "net on GM", "linear on GM");
    printf("  %-9s | %8s %8s %8s | %8s %8s %8s | %9s | %8s %9s\n", "t", "real", "GM clone",
           "iso", "real", "GM clone", "iso", "real", "real", "GM clone");
    for (int i = 0; i < n; i++) {
        if (m->t[i] > 0 && m->t[i] < 0.01)
            continue; /* a handful of steps: nothing learnt yet, not worth a row */
        printf("  %-9.3g | %8.4f %8.4f %8.4f | %8.4f %8.4f %8.4f | %9.4f | %8.4f %9.4f\n",
               m->t[i], mean[0][i], mean[0][n + i], mean[0][2 * n + i], mean[2][i],
               mean[2][n + i], mean[2][2 * n + i], mean[1][i], mean[3][i], mean[3][n + i]);
    }
}

static void print_windows(const summary *m)
{
    const double *t = m->t;
    printf("Early window t = %.3g..%.3g: error(GM clone) - error(real) = %+.4f ± %.4f, "
           "error(iso clone) - error(real) = %+.4f ± %.4f; reverse gap (GM-clone-trained minus "
           "real-trained network, on real data) %+.4f ± %.4f\n", t[m->i0], t[m->i1], m->fe,
           m->fe_se, m->ie, m->ie_se, m->re, m->re_se);
    printf("Late  window t = %.3g..%.3g: error(GM clone) - error(real) = %+.4f ± %.4f, "
           "error(iso clone) - error(real) = %+.4f ± %.4f; reverse gap %+.4f ± %.4f (linear "
           "model: %+.4f ± %.4f); reverse gap above 2 SE from t = %.3g on\n", t[m->l0],
           t[m->n - 1], m->fl, m->fl_se, m->il, m->il_se, m->rl, m->rl_se, m->lr_, m->lr_se,
           m->t_part);
}

static void print_verdict(const summary *m, const char *which)
{
    const double *t = m->t;
    printf("Verdict%s: the network trained on the Gaussian-mixture clone matches the one "
           "trained on real data early (reverse gap %+.4f ± %.4f at t = %.3g..%.3g) and falls "
           "behind late (%+.4f ± %.4f at t = %.3g..%g, parting from t = %.3g; linear model "
           "%+.4f); on the GM clone itself the real-trained network's error is offset from "
           "its real error by %+.4f early and %+.4f late. Literature (Refinetti, Ingrosso & "
           "Goldt 2023): networks first use means and covariances, so clone and real data "
           "give the same accuracy early, and part later as higher-order statistics are "
           "learnt. %s\n", which, m->re, m->re_se, t[m->i0], t[m->i1], m->rl, m->rl_se,
           t[m->l0], t[m->n - 1], m->t_part, m->lr_, m->fe, m->fl,
           m->agree ? "Agrees." : "Does NOT agree at this size.");
}

/* Per model, the three test sets of the real-trained run and the reverse run's
 * real-data curve (binary: one figure per model). */
static int figures(const reproduce_opts *o, const summary *b, const summary *ten, int S)
{
    char path[4200], title[160];
    int rc = HL_OK;
    const double *t = b->t;
    const int n = b->n;
    for (int m = 0; m < 2 && !rc; m++) {
        const double *mr = b->mean[2 * m], *mg = b->mean[2 * m + 1];
        hl_plot_series s[4] = {
            /* "training data -> test data" */
            {"real -> real", n, t, 1, mr},
            {"real -> GM clone", n, t, 1, mr + n},
            {"real -> iso clone", n, t, 1, mr + 2 * n},
            {"GM clone -> real", n, t, 1, mg},
        };
        snprintf(title, sizeof title, "%s, FMNIST %d vs %d, %d seeds",
                 m ? "linear model" : "network", CLASS_A, CLASS_B, S);
        snprintf(path, sizeof path, "%s/simplicity_bias_%s", o->dir, model_key[m]);
        rc = hl_plot_timeseries(path, s, 4, "test error", title);
    }
    if (!rc) {
        hl_plot_series g[2] = {{"reverse (GM->real)", n, t, 1, b->gap},
                               {"forward (real->GM)", n, t, 1, b->fwd}};
        snprintf(path, sizeof path, "%s/simplicity_bias_gaps", o->dir);
        rc = hl_plot_timeseries(path, g, 2, "test error difference",
                                "network: clone minus real data");
    }
    if (!rc) {
        const int n10 = ten->n;
        const double *t10 = ten->t, *nr = ten->mean[0], *ng = ten->mean[1];
        const double *lr = ten->mean[2], *lg = ten->mean[3];
        hl_plot_series s[6] = {
            {"net: real -> real", n10, t10, 1, nr},
            {"net: real -> GM", n10, t10, 1, nr + n10},
            {"net: real -> iso", n10, t10, 1, nr + 2 * n10},
            {"net: GM -> real", n10, t10, 1, ng},
            {"lin: real -> real", n10, t10, 1, lr},
            {"lin: GM -> real", n10, t10, 1, lg},
        };
        /* short: the plot does not wrap titles or legend entries ("lin": linear) */
        snprintf(title, sizeof title, "FMNIST 10 classes, K = %d, %d seeds", o->K, S);
        snprintf(path, sizeof path, "%s/simplicity_bias_ten", o->dir);
        rc = hl_plot_timeseries(path, s, 6, "test error", title);
    }
    return rc;
}

static void ten_data_free(ten_data *d)
{
    hl_dataset_free(d->train);
    hl_dataset_free(d->test);
    hl_mixture_free(d->gm);
    hl_mixture_free(d->iso);
    memset(d, 0, sizeof *d);
}

int reproduce_simplicity(const reproduce_opts *o, const char *cmdline)
{
    const int S = o->seeds, n_bin = 4 * S, n_runs = 8 * S;
    point *pts = calloc((size_t)n_runs, sizeof *pts);
    summary sb = {0}, st = {0};
    ten_data td = {0};
    int rc = 0, todo_bin = 0, todo_ten = 0;
    if (!pts)
        return report_error(CMD, hl_error_set(HL_ENOMEM, "out of memory"));
    /* order: task (pair, ten classes), model, training data, seed (seeds innermost) */
    for (int i = 0; i < n_runs; i++) {
        point *p = &pts[i];
        int k = i % n_bin;
        p->ten = i >= n_bin;
        p->model = k / (2 * S), p->train = (k / S) % 2, p->seed = k % S + 1;
        if (p->ten)
            snprintf(p->path, sizeof p->path, "%s/points/simp10_%s_on_%s_s%d.h5", o->dir,
                     model_key[p->model], train_key[p->train], p->seed);
        else
            snprintf(p->path, sizeof p->path, "%s/points/simp_%s_on_%s_c%d-%d_s%d.h5", o->dir,
                     model_key[p->model], train_key[p->train], CLASS_A, CLASS_B, p->seed);
        int got = point_read(p, o);
        if (got < 0) {
            rc = report_error(CMD, got);
            goto done;
        }
        p->have = got;
        if (!got)
            *(p->ten ? &todo_ten : &todo_bin) += 1;
    }
    const int todo = todo_bin + todo_ten;
    if (todo < n_runs)
        printf("(%d of %d points read back from %s/points: a resumed run)\n", n_runs - todo,
               n_runs, o->dir);
    double shift = 0, sd = 1, shift10 = 0, sd10 = 1;
    int cls[TEN_C] = {CLASS_A, CLASS_B};
    if (todo_bin && (rc = hl_simp_pixel_moments(NULL, cls, 2, &shift, &sd))) {
        rc = report_error(CMD, rc);
        goto done;
    }
    for (int c = 0; c < TEN_C; c++)
        cls[c] = c;
    /* the ten-class data: both splits loaded and the two clones fitted once, here */
    if (todo_ten && ((rc = hl_simp_pixel_moments(NULL, cls, TEN_C, &shift10, &sd10)) ||
                     (rc = hl_mc_fmnist_fit(NULL, &td.train, &td.test, &td.gm, &td.iso)))) {
        rc = report_error(CMD, rc);
        goto done;
    }
    if (todo) {
        int threads = o->threads < todo ? o->threads : todo, failed = 0;
        char fail_msg[512] = "";
        /* Parallel over runs: BLAS on one thread inside each (as hl_train_runs does);
         * its own threads would oversubscribe the cores, the clones' draws most. */
        int blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
        {
            tasks tk;
            int ok, err;
#pragma omp critical(simp_load)
            err = tasks_make(&tk, todo_bin > 0, todo_ten ? &td : NULL);
            ok = err == HL_OK;
            if (!ok) {
#pragma omp critical(simp_fail)
                if (!failed) {
                    failed = err;
                    snprintf(fail_msg, sizeof fail_msg, "%s", hl_error_message());
                }
            }
            /* the longest runs first (ten classes, trained on the clone) */
#pragma omp for schedule(dynamic)
            for (int k = 0; k < n_runs; k++) {
                point *p = &pts[n_runs - 1 - k];
                if (p->have || !ok)
                    continue;
                if (p->ten) {
                    hl_mc_config c = ten_config(o, p->model, p->seed, shift10, 1 / sd10);
                    hl_mc_source *tests[N_SETS] = {tk.t_test, tk.t_gm, tk.t_iso};
                    p->rc = hl_mc_run(&c, p->train == TRAIN_GM ? tk.t_gm : tk.t_train, tests,
                                      N_SETS, &p->r);
                } else {
                    hl_simp_config c = run_config(o, p->model, p->seed, shift, 1 / sd);
                    hl_task *tests[N_SETS] = {tk.real_test, tk.gm, tk.iso};
                    p->rc = hl_simp_run(&c, p->train == TRAIN_GM ? tk.gm : tk.real_train,
                                        tests, N_SETS, &p->r);
                }
                if (p->rc == HL_OK || p->rc == HL_EDIVERGED)
                    p->rc = point_write(p, o, cmdline);
                if (p->rc)
                    snprintf(p->msg, sizeof p->msg, "%s", hl_error_message());
                p->have = p->rc == HL_OK;
                if (!o->quiet && isatty(STDERR_FILENO))
#pragma omp critical(simp_progress)
                    fprintf(stderr, "\rrun %s%s on %s, seed %d done   ", p->ten ? "10-class " : "",
                            model_key[p->model], train_key[p->train], p->seed);
            }
            /* samplers of the shared mixtures drop their references here */
#pragma omp critical(simp_load)
            tasks_free(&tk);
        }
        openblas_set_num_threads(blas_threads);
        if (!o->quiet && isatty(STDERR_FILENO))
            fprintf(stderr, "\n");
        if (failed) {
            rc = report_error(CMD, hl_error_set(failed, "%s", fail_msg));
            goto done;
        }
        for (int i = 0; i < n_runs; i++)
            if (pts[i].rc) {
                rc = report_error(CMD, hl_error_set(pts[i].rc, "%s", pts[i].msg));
                goto done;
            }
    }
    ten_data_free(&td);

    for (int task = 0; task < 2; task++) {
        summary *m = task ? &st : &sb;
        int got = summarise(pts + task * n_bin, S, m);
        if (got == 1) {
            fprintf(stderr, "hoclab " CMD ": every %s run diverged; nothing to summarise\n",
                    task ? "ten-class" : "two-class");
            rc = 1;
            goto done;
        }
        if (got) {
            rc = report_error(CMD, got);
            goto done;
        }
    }

    printf("\nsimplicity-bias: Fashion-MNIST %d against %d, D = 784, network K = %d (erf, "
           "2layer) and a linear model, online SGD lr %g, t = %g, %d seeds, %d test samples "
           "per set; test error, mean over seeds\n", CLASS_A, CLASS_B, o->K, LR, o->time, S,
           N_TEST);
    print_table(&sb);
    print_windows(&sb);
    print_verdict(&sb, "");

    printf("\nsimplicity-bias, ten classes: Fashion-MNIST 0..9, D = 784, network K = %d (erf, "
           "softmax readout, cross-entropy) and a linear softmax model, online SGD lr %g, "
           "t = %g, %d seeds, %d test samples per set; test error, mean over seeds\n", o->K,
           LR10, TEN_FACTOR * o->time, S, N_TEST);
    print_table(&st);
    print_windows(&st);
    print_verdict(&st, " (10 classes)");

    /* summary file: the pair at the root, the ten classes under ten/ */
    size_t ns = (size_t)sb.n, nt = (size_t)st.n;
    const double *t = sb.t;
    hl_h5_attr attrs[] = {
        {"experiment", "simplicity-bias"}, {"class_a", NULL, CLASS_A},
        {"class_b", NULL, CLASS_B}, {"K", NULL, o->K}, {"time", NULL, o->time},
        {"seeds", NULL, S}, {"lr", NULL, LR}, {"n_test", NULL, N_TEST},
        {"test_sets", "rows of every error array: real test split, Gaussian-mixture clone, "
                      "isotropic clone"},
        {"t_early_from", NULL, t[sb.i0]}, {"t_early_to", NULL, t[sb.i1]},
        {"t_late_from", NULL, t[sb.l0]}, {"forward_gap_early", NULL, sb.fe},
        {"forward_gap_late", NULL, sb.fl}, {"reverse_gap_early", NULL, sb.re},
        {"reverse_gap_early_se", NULL, sb.re_se}, {"reverse_gap_late", NULL, sb.rl},
        {"reverse_gap_late_se", NULL, sb.rl_se}, {"linear_reverse_gap_late", NULL, sb.lr_},
        {"iso_gap_early", NULL, sb.ie}, {"iso_gap_late", NULL, sb.il},
        {"t_part", NULL, sb.t_part}, {"agrees", NULL, sb.agree},
        {"ten_classes", NULL, TEN_C}, {"ten_time", NULL, TEN_FACTOR * o->time},
        {"ten_lr", NULL, LR10},
        {"ten_model", "K erf units and a softmax readout (linear: softmax of W x / sqrt D + b), "
                      "cross-entropy, online SGD"},
        {"ten_t_early_from", NULL, st.t[st.i0]}, {"ten_t_early_to", NULL, st.t[st.i1]},
        {"ten_t_late_from", NULL, st.t[st.l0]}, {"ten_forward_gap_early", NULL, st.fe},
        {"ten_forward_gap_late", NULL, st.fl}, {"ten_reverse_gap_early", NULL, st.re},
        {"ten_reverse_gap_early_se", NULL, st.re_se}, {"ten_reverse_gap_late", NULL, st.rl},
        {"ten_reverse_gap_late_se", NULL, st.rl_se},
        {"ten_linear_reverse_gap_late", NULL, st.lr_}, {"ten_iso_gap_early", NULL, st.ie},
        {"ten_iso_gap_late", NULL, st.il}, {"ten_t_part", NULL, st.t_part},
        {"ten_agrees", NULL, st.agree}};
    hl_h5_array arrays[] = {
        {"t", 1, {ns}, t},
        {"net/trained_on_real/error", 2, {N_SETS, ns}, sb.mean[0]},
        {"net/trained_on_real/error_se", 2, {N_SETS, ns}, sb.se[0]},
        {"net/trained_on_gm/error", 2, {N_SETS, ns}, sb.mean[1]},
        {"net/trained_on_gm/error_se", 2, {N_SETS, ns}, sb.se[1]},
        {"linear/trained_on_real/error", 2, {N_SETS, ns}, sb.mean[2]},
        {"linear/trained_on_real/error_se", 2, {N_SETS, ns}, sb.se[2]},
        {"linear/trained_on_gm/error", 2, {N_SETS, ns}, sb.mean[3]},
        {"linear/trained_on_gm/error_se", 2, {N_SETS, ns}, sb.se[3]},
        {"net/reverse_gap", 1, {ns}, sb.gap},
        {"net/reverse_gap_se", 1, {ns}, sb.gap_se},
        {"net/forward_gap", 1, {ns}, sb.fwd},
        {"net/forward_gap_se", 1, {ns}, sb.fwd_se},
        {"ten/t", 1, {nt}, st.t},
        {"ten/net/trained_on_real/error", 2, {N_SETS, nt}, st.mean[0]},
        {"ten/net/trained_on_real/error_se", 2, {N_SETS, nt}, st.se[0]},
        {"ten/net/trained_on_gm/error", 2, {N_SETS, nt}, st.mean[1]},
        {"ten/net/trained_on_gm/error_se", 2, {N_SETS, nt}, st.se[1]},
        {"ten/linear/trained_on_real/error", 2, {N_SETS, nt}, st.mean[2]},
        {"ten/linear/trained_on_real/error_se", 2, {N_SETS, nt}, st.se[2]},
        {"ten/linear/trained_on_gm/error", 2, {N_SETS, nt}, st.mean[3]},
        {"ten/linear/trained_on_gm/error_se", 2, {N_SETS, nt}, st.se[3]},
        {"ten/net/reverse_gap", 1, {nt}, st.gap},
        {"ten/net/reverse_gap_se", 1, {nt}, st.gap_se},
        {"ten/net/forward_gap", 1, {nt}, st.fwd},
        {"ten/net/forward_gap_se", 1, {nt}, st.fwd_se},
    };
    char path[4200];
    snprintf(path, sizeof path, "%s/simplicity_bias.h5", o->dir);
    if ((rc = hl_h5_write_arrays(path, CMD, cmdline, attrs, sizeof attrs / sizeof *attrs,
                                 arrays, sizeof arrays / sizeof *arrays))) {
        rc = report_error(CMD, rc);
        goto done;
    }
    if ((rc = figures(o, &sb, &st, S)))
        rc = report_error(CMD, rc);
    else
        printf("Wrote %s/simplicity_bias.h5 and simplicity_bias_net, simplicity_bias_linear, "
               "simplicity_bias_gaps, simplicity_bias_ten (.png, .svg)\n", o->dir);
done:
    ten_data_free(&td);
    for (int i = 0; i < n_runs; i++)
        hl_simp_result_free(&pts[i].r);
    free(pts);
    free(sb.cols);
    free(st.cols);
    return rc;
}
