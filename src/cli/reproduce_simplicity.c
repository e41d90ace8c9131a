/* reproduce_simplicity.c — `hoclab reproduce simplicity-bias`: the distributional
 * simplicity bias (Refinetti, Ingrosso & Goldt, ICML 2023) on Fashion-MNIST, two
 * classes (7 sneaker against 9 ankle boot).
 *
 * A two-layer network (K hidden erf units, --K) and a linear model (one linear unit,
 * phi = w.x / sqrt(D) + b) are trained by online SGD on draws with replacement from
 * the 12,000 training images of the pair (t = steps / D; t = 100 is about 6.5 passes)
 * and measured at log-spaced times on three test sets: the real test split, the
 * class-wise Gaussian-mixture clone (each class N(m_c, C_c) fitted to its training
 * images) and the isotropic clone (N(m_c, v_c I)). The reverse run trains on fresh
 * draws of the Gaussian-mixture clone and is measured on the same three sets. All
 * inputs are normalised by one global pixel mean and sd of the pair's training images.
 *
 * Defaults: K = 16, t = 100 (--full 1000), 3 seeds; --L is ignored (D = 784 is the
 * image size). Each run (model, training data, seed) is one point, written to
 * DIR/points/ as soon as it finishes and read back when the command runs again.
 * Runs go in parallel over --threads, each thread with its own samplers. */
#include "commands.h"
#include "reproduce.h"

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/net.h"
#include "hoclab/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "reproduce simplicity-bias"

enum {
    CLASS_A = 7, CLASS_B = 9,   /* sneaker, ankle boot: clones and data differ clearly */
    N_SETS = 3,                 /* real test split, Gaussian-mixture clone, isotropic clone */
    N_MEAS = 30, N_TEST = 4000,
    MODEL_NET = 0, MODEL_LINEAR = 1,
    TRAIN_REAL = 0, TRAIN_GM = 1
};
#define LR 0.01   /* batch-1 SGD at 0.05 fluctuates by +-0.1 in test error on these inputs */

static const char *model_key[] = {"net", "linear"};
static const char *train_key[] = {"real", "gm"};

/* The four tasks a run needs; one set per thread (tasks keep draw buffers). */
typedef struct {
    hl_task *real_train, *real_test, *gm, *iso;
} tasks;

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
    memset(t, 0, sizeof *t);
}

static int tasks_make(tasks *t)
{
    memset(t, 0, sizeof *t);
    if (!(t->real_train = pair("split=train")) || !(t->real_test = pair("split=test")) ||
        !(t->gm = pair("split=train,clone=1")) || !(t->iso = pair("split=train,clone=2"))) {
        tasks_free(t);
        return HL_EIO;   /* the data files, mostly; the message says */
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

/* ---- points: one run's curves in DIR/points/, read back on a second call ---------- */

typedef struct {
    int model, train, seed;
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
    double n = attr_num(f, "n_meas");
    if (attr_num(f, "K") != (p->model == MODEL_NET ? o->K : 1) ||
        attr_num(f, "time") != o->time || attr_num(f, "n_test") != N_TEST ||
        attr_num(f, "class_a") != CLASS_A || attr_num(f, "class_b") != CLASS_B ||
        attr_num(f, "lr") != LR || !(n >= 1 && n <= N_MEAS + 1)) {
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

static int point_write(const point *p, const hl_simp_config *c, const char *cmdline)
{
    const hl_simp_result *r = &p->r;
    size_t n = (size_t)r->n_meas;
    hl_h5_attr attrs[] = {
        {"experiment", "simplicity-bias"}, {"model", model_key[p->model]},
        {"trained_on", train_key[p->train]}, {"K", NULL, c->net.K}, {"time", NULL, c->time},
        {"n_meas", NULL, (double)n}, {"n_test", NULL, (double)c->n_test},
        {"class_a", NULL, CLASS_A}, {"class_b", NULL, CLASS_B}, {"lr", NULL, c->net.lr},
        {"seed", NULL, (double)c->seed}, {"diverged", NULL, r->status == HL_EDIVERGED},
        {"test_sets", "real test split, Gaussian-mixture clone, isotropic clone"}};
    hl_h5_array arrays[] = {{"t", 1, {n}, r->t},
                            {"error", 2, {N_SETS, n}, r->error},
                            {"loss", 2, {N_SETS, n}, r->loss}};
    return hl_h5_write_arrays(p->path, "simplicity-point", cmdline, attrs,
                              sizeof attrs / sizeof *attrs, arrays, 3);
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

int reproduce_simplicity(const reproduce_opts *o, const char *cmdline)
{
    const int S = o->seeds, n_runs = 4 * S;
    point *pts = calloc((size_t)n_runs, sizeof *pts);
    double *cols = NULL;
    int rc = 0, todo = 0;
    if (!pts)
        return report_error(CMD, hl_error_set(HL_ENOMEM, "out of memory"));
    /* order: model, training data, seed (seeds innermost) */
    for (int i = 0; i < n_runs; i++) {
        point *p = &pts[i];
        p->model = i / (2 * S), p->train = (i / S) % 2, p->seed = i % S + 1;
        snprintf(p->path, sizeof p->path, "%s/points/simp_%s_on_%s_c%d-%d_s%d.h5", o->dir,
                 model_key[p->model], train_key[p->train], CLASS_A, CLASS_B, p->seed);
        int got = point_read(p, o);
        if (got < 0) {
            rc = report_error(CMD, got);
            goto done;
        }
        p->have = got;
        todo += !got;
    }
    if (todo < n_runs)
        printf("(%d of %d points read back from %s/points: a resumed run)\n", n_runs - todo,
               n_runs, o->dir);
    double shift = 0, sd = 1;
    int cls[2] = {CLASS_A, CLASS_B};
    if (todo && (rc = hl_simp_pixel_moments(NULL, cls, 2, &shift, &sd))) {
        rc = report_error(CMD, rc);
        goto done;
    }
    if (todo) {
        int threads = o->threads < todo ? o->threads : todo, failed = 0;
        char fail_msg[512] = "";
#pragma omp parallel num_threads(threads)
        {
            tasks tk;
            int ok;
#pragma omp critical(simp_load)
            ok = tasks_make(&tk) == HL_OK;
            if (!ok) {
#pragma omp critical(simp_fail)
                if (!failed) {
                    failed = HL_EIO;
                    snprintf(fail_msg, sizeof fail_msg, "%s", hl_error_message());
                }
            }
#pragma omp for schedule(dynamic)
            for (int i = 0; i < n_runs; i++) {
                point *p = &pts[i];
                if (p->have || !ok)
                    continue;
                hl_simp_config c = run_config(o, p->model, p->seed, shift, 1 / sd);
                hl_task *tests[N_SETS] = {tk.real_test, tk.gm, tk.iso};
                p->rc = hl_simp_run(&c, p->train == TRAIN_GM ? tk.gm : tk.real_train, tests,
                                    N_SETS, &p->r);
                if (p->rc == HL_OK || p->rc == HL_EDIVERGED)
                    p->rc = point_write(p, &c, cmdline);
                if (p->rc)
                    snprintf(p->msg, sizeof p->msg, "%s", hl_error_message());
                p->have = p->rc == HL_OK;
                if (!o->quiet && isatty(STDERR_FILENO))
#pragma omp critical(simp_progress)
                    fprintf(stderr, "\rrun %s on %s, seed %d done   ", model_key[p->model],
                            train_key[p->train], p->seed);
            }
            if (ok)
                tasks_free(&tk);
        }
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

    /* every run has the same measurement plan unless it diverged: take the first
     * complete one's times */
    const double *t = NULL;
    int n = 0;
    for (int i = 0; i < n_runs && !t; i++)
        if (pts[i].r.status == HL_OK)
            t = pts[i].r.t, n = pts[i].r.n_meas;
    if (!t) {
        fprintf(stderr, "hoclab " CMD ": every run diverged; nothing to summarise\n");
        rc = 1;
        goto done;
    }
    /* cols: per (model, train) mean and se, each N_SETS x n */
    size_t blk = (size_t)N_SETS * n;
    if (!(cols = malloc(sizeof(double) * blk * 8 + sizeof(double) * 4 * n))) {
        rc = report_error(CMD, hl_error_set(HL_ENOMEM, "out of memory"));
        goto done;
    }
    for (int g = 0; g < 4; g++)
        average(pts + g * S, S, n, cols + 2 * g * blk, cols + (2 * g + 1) * blk);
    double *mean[4], *se[4];
    for (int g = 0; g < 4; g++)
        mean[g] = cols + 2 * g * blk, se[g] = cols + (2 * g + 1) * blk;

    printf("\nsimplicity-bias: Fashion-MNIST %d against %d, D = 784, network K = %d (erf, "
           "2layer) and a linear model, online SGD lr %g, t = %g, %d seeds, %d test samples "
           "per set; test error, mean over seeds\n", CLASS_A, CLASS_B, o->K, LR, o->time, S,
           N_TEST);
    printf("  %-9s | %-27s | %-27s | %-9s | %-18s\n", "", "network trained on real",
           "linear trained on real", "net on GM", "linear on GM");
    printf("  %-9s | %8s %8s %8s | %8s %8s %8s | %9s | %8s %9s\n", "t", "real", "GM clone",
           "iso", "real", "GM clone", "iso", "real", "real", "GM clone");
    for (int i = 0; i < n; i++) {
        if (t[i] > 0 && t[i] < 0.01)
            continue; /* a handful of steps: nothing learnt yet, not worth a row */
        printf("  %-9.3g | %8.4f %8.4f %8.4f | %8.4f %8.4f %8.4f | %9.4f | %8.4f %9.4f\n", t[i],
               mean[0][i], mean[0][n + i], mean[0][2 * n + i], mean[2][i], mean[2][n + i],
               mean[2][2 * n + i], mean[1][i], mean[3][i], mean[3][n + i]);
    }

    /* Windows. Early: one decade of time from the first measurement at which the
     * network trained on real data has an error on the real test split within 3 times
     * its final one (past the initial transient, whose timing differs from run to run);
     * late: the last three measurements (the last half decade). Gaps are paired over
     * seeds and averaged over the window: forward = error on a clone - error on the
     * real data (network trained on real data); reverse = error on the real data of
     * the network trained on the GM clone - that of the network trained on real data. */
    int i0 = n - 2, i1, l0;
    for (int i = 1; i < n - 1; i++)
        if (mean[0][i] <= 3 * mean[0][n - 1]) {
            i0 = i;
            break;
        }
    for (i1 = i0; i1 + 1 < n - 1 && t[i1 + 1] <= 10 * t[i0]; i1++)
        ;
    l0 = n - 3 > i1 + 1 ? n - 3 : i1 + 1;
    double fe, fe_se, fl, fl_se, re, re_se, rl, rl_se, ie_gap, ie_se, il, il_se, lr_, lr_se;
    paired_gap(pts, 1, pts, 0, S, n, i0, i1, &fe, &fe_se);
    paired_gap(pts, 1, pts, 0, S, n, l0, n - 1, &fl, &fl_se);
    paired_gap(pts, 2, pts, 0, S, n, i0, i1, &ie_gap, &ie_se);
    paired_gap(pts, 2, pts, 0, S, n, l0, n - 1, &il, &il_se);
    paired_gap(pts + S, 0, pts, 0, S, n, i0, i1, &re, &re_se);
    paired_gap(pts + S, 0, pts, 0, S, n, l0, n - 1, &rl, &rl_se);
    paired_gap(pts + 3 * S, 0, pts + 2 * S, 0, S, n, l0, n - 1, &lr_, &lr_se);
    /* parting time: the first time from which the network trained on real data stays
     * ahead of the clone-trained one by more than 2 SE (and 0.2 percentage points) */
    double t_part = NAN;
    for (int i = n - 1; i >= i0; i--) {
        double g, gs;
        paired_gap(pts + S, 0, pts, 0, S, n, i, i, &g, &gs);
        if (!(g > 2 * or0(gs) && g > 0.002))
            break;
        t_part = t[i];
    }
    printf("Early window t = %.3g..%.3g: error(GM clone) - error(real) = %+.4f ± %.4f, "
           "error(iso clone) - error(real) = %+.4f ± %.4f; reverse gap (GM-clone-trained minus "
           "real-trained network, on real data) %+.4f ± %.4f\n", t[i0], t[i1], fe, fe_se,
           ie_gap, ie_se, re, re_se);
    printf("Late  window t = %.3g..%.3g: error(GM clone) - error(real) = %+.4f ± %.4f, "
           "error(iso clone) - error(real) = %+.4f ± %.4f; reverse gap %+.4f ± %.4f (linear "
           "model: %+.4f ± %.4f); reverse gap above 2 SE from t = %.3g on\n", t[l0], t[n - 1],
           fl, fl_se, il, il_se, rl, rl_se, lr_, lr_se, t_part);
    int agree = fabs(re) <= fmax(0.01, 2 * or0(re_se)) && rl > 2 * or0(rl_se) &&
                rl - re > 2 * sqrt(or0(re_se) * or0(re_se) + or0(rl_se) * or0(rl_se));
    printf("Verdict: the network trained on the Gaussian-mixture clone matches the one trained "
           "on real data early (reverse gap %+.4f ± %.4f at t = %.3g..%.3g) and falls behind "
           "late (%+.4f ± %.4f at t = %.3g..%g, parting from t = %.3g; linear model %+.4f); "
           "on the GM clone itself the real-trained network's error is offset from its real "
           "error by %+.4f early and %+.4f late. Literature (Refinetti, Ingrosso & Goldt "
           "2023): networks first use means and covariances, so clone and real data give the "
           "same accuracy early, and part later as higher-order statistics are learnt. %s\n",
           re, re_se, t[i0], t[i1], rl, rl_se, t[l0], t[n - 1], t_part, lr_, fe, fl,
           agree ? "Agrees." : "Does NOT agree at this size.");

    /* summary file */
    double *gapcurve = cols + 8 * blk, *gapse = gapcurve + n, *fwd = gapse + n, *fwdse = fwd + n;
    for (int i = 0; i < n; i++) {
        paired_gap(pts + S, 0, pts, 0, S, n, i, i, &gapcurve[i], &gapse[i]);
        paired_gap(pts, 1, pts, 0, S, n, i, i, &fwd[i], &fwdse[i]);
    }
    size_t ns = (size_t)n;
    hl_h5_attr attrs[] = {
        {"experiment", "simplicity-bias"}, {"class_a", NULL, CLASS_A},
        {"class_b", NULL, CLASS_B}, {"K", NULL, o->K}, {"time", NULL, o->time},
        {"seeds", NULL, S}, {"lr", NULL, LR}, {"n_test", NULL, N_TEST},
        {"test_sets", "rows of every error array: real test split, Gaussian-mixture clone, "
                      "isotropic clone"},
        {"t_early_from", NULL, t[i0]}, {"t_early_to", NULL, t[i1]},
        {"t_late_from", NULL, t[l0]}, {"forward_gap_early", NULL, fe},
        {"forward_gap_late", NULL, fl}, {"reverse_gap_early", NULL, re},
        {"reverse_gap_early_se", NULL, re_se}, {"reverse_gap_late", NULL, rl},
        {"reverse_gap_late_se", NULL, rl_se}, {"linear_reverse_gap_late", NULL, lr_},
        {"iso_gap_early", NULL, ie_gap}, {"iso_gap_late", NULL, il},
        {"t_part", NULL, t_part}, {"agrees", NULL, agree}};
    hl_h5_array arrays[] = {
        {"t", 1, {ns}, t},
        {"net/trained_on_real/error", 2, {N_SETS, ns}, mean[0]},
        {"net/trained_on_real/error_se", 2, {N_SETS, ns}, se[0]},
        {"net/trained_on_gm/error", 2, {N_SETS, ns}, mean[1]},
        {"net/trained_on_gm/error_se", 2, {N_SETS, ns}, se[1]},
        {"linear/trained_on_real/error", 2, {N_SETS, ns}, mean[2]},
        {"linear/trained_on_real/error_se", 2, {N_SETS, ns}, se[2]},
        {"linear/trained_on_gm/error", 2, {N_SETS, ns}, mean[3]},
        {"linear/trained_on_gm/error_se", 2, {N_SETS, ns}, se[3]},
        {"net/reverse_gap", 1, {ns}, gapcurve},
        {"net/reverse_gap_se", 1, {ns}, gapse},
        {"net/forward_gap", 1, {ns}, fwd},
        {"net/forward_gap_se", 1, {ns}, fwdse},
    };
    char path[4200];
    snprintf(path, sizeof path, "%s/simplicity_bias.h5", o->dir);
    if ((rc = hl_h5_write_arrays(path, CMD, cmdline, attrs, sizeof attrs / sizeof *attrs,
                                 arrays, sizeof arrays / sizeof *arrays))) {
        rc = report_error(CMD, rc);
        goto done;
    }

    /* figures: per model, the three test sets of the real-trained run and the reverse
     * run's real-data curve */
    for (int m = 0; m < 2 && !rc; m++) {
        const double *mr = mean[2 * m], *mg = mean[2 * m + 1];
        hl_plot_series s[4] = {
            /* "training data -> test data" */
            {"real -> real", n, t, 1, mr},
            {"real -> GM clone", n, t, 1, mr + n},
            {"real -> iso clone", n, t, 1, mr + 2 * n},
            {"GM clone -> real", n, t, 1, mg},
        };
        char title[160];
        snprintf(title, sizeof title, "%s, FMNIST %d vs %d, %d seeds",
                 m ? "linear model" : "network", CLASS_A, CLASS_B, S);
        snprintf(path, sizeof path, "%s/simplicity_bias_%s", o->dir, model_key[m]);
        rc = hl_plot_timeseries(path, s, 4, "test error", title);
    }
    if (!rc) {
        hl_plot_series g[2] = {{"reverse (GM->real)", n, t, 1, gapcurve},
                               {"forward (real->GM)", n, t, 1, fwd}};
        snprintf(path, sizeof path, "%s/simplicity_bias_gaps", o->dir);
        rc = hl_plot_timeseries(path, g, 2, "test error difference",
                                "network: clone minus real data");
    }
    if (rc)
        rc = report_error(CMD, rc);
    else
        printf("Wrote %s/simplicity_bias.h5 and simplicity_bias_net, simplicity_bias_linear, "
               "simplicity_bias_gaps (.png, .svg)\n", o->dir);
done:
    for (int i = 0; i < n_runs; i++)
        hl_simp_result_free(&pts[i].r);
    free(pts);
    free(cols);
    return rc;
}
