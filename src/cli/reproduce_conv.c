/* reproduce_conv.c — `hoclab reproduce conv`: do the localised receptive fields of the
 * fully connected network tile the ring and look like the filters of a convolutional
 * network trained on the same task (Ingrosso & Goldt 2022)?
 *
 * Per seed: the default fully connected run (hl_train_run through the resumable
 * sweep; NLGP and its Gaussian clone) and a CNN (hl_conv_run) on the same NLGP task,
 * for the same time t = steps / L. The CNN: K channels (--K), kernel size --kernel
 * (default 11: about twice the width of a localised RF at xi = (2, 6), so a filter can
 * hold one whole), periodic padding, erf, trainable biases starting at +-1 (as the fully
 * connected network's), global average pooling and a fixed +-1 readout.
 * Then, from the saved weights: each unit's IPR, centre and width (hl_rf_ring_widths);
 * the units with IPR > 2 x 3/D are "localised"; their centres' largest gap and coverage
 * (hl_rf_tiling); each localised RF aligned to its centre and matched against the
 * CNN filters of the same seed (best |cosine| over filters and shifts, hl_conv_match);
 * the clone's units (all of them: they do not localise) for contrast.
 * Resumes: the fully connected runs through hl_sweep_run, each CNN from
 * DIR/points/cnn_sN.h5 (its filters, biases, readout and test error).
 *
 * --dim 2: the same on an L x L torus (the NLGP images of the trainer's dim 2): k x k
 * filters with circular padding; centres (row, column) and widths from
 * hl_rf_torus_widths, matching over all L^2 shifts (hl_conv_match_2d), tiling by the
 * coverage and the largest empty disc against random centres (hl_rf_tiling_2d).
 * The ring's defaults (L 100, t 1e4, kernel 11) give way to L = 20, t = 3000 (the
 * localised units of the fully connected network have formed by then), kernel 5
 * and a CNN trained for CNN_TIME_2D (its k^2 taps at every site cost ~50 times the
 * fully connected network's step; it has learnt the task long before). */
#include "commands.h"
#include "reproduce.h"

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/net.h"
#include "hoclab/plot.h"
#include "hoclab/rng.h"
#include "hoclab/theory.h"
#include "hoclab/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { KERNEL = 11, KERNEL_2D = 5, L_2D = 20, N_TEST = 10000, MAX_SHOW = 8, TILE_REPS = 200 };
static const double TIME_2D = 3000, CNN_TIME_2D = 300;

static const char *const CMD = "reproduce conv";

/* ---- the CNN's point files ------------------------------------------------------------ */

/* 1: read back into n, 0: no file, < 0: an error (message set). */
static int cnn_resume(const char *path, hl_conv *n, double time, int seed, double *err)
{
    if (access(path, F_OK) != 0)
        return 0;
    hl_h5_reader *f = hl_h5_reader_open(path);
    double K, k, L, t, s, dim = 1;
    int rc = 0;
    if (!f || hl_h5_reader_attr(f, "K", &K) || hl_h5_reader_attr(f, "k", &k) ||
        hl_h5_reader_attr(f, "L", &L) || hl_h5_reader_attr(f, "time", &t) ||
        hl_h5_reader_attr(f, "seed", &s) || hl_h5_reader_attr(f, "test_error", err)) {
        rc = hl_error_set(HL_EFORMAT, "'%s' exists but cannot be read as a CNN point: "
                          "remove it to train that point again", path);
    } else if ((hl_h5_reader_attr(f, "dim", &dim), 0) || K != n->cfg.K || k != n->cfg.k ||
               L != n->cfg.L || t != time || s != seed || dim != n->cfg.dim) {
        rc = hl_error_set(HL_EINVAL, "'%s' holds another experiment (a different "
                          "configuration): remove it or choose another output folder", path);
    } else if (hl_h5_reader_array_float(f, "filters", n->F,
                                        (size_t)n->cfg.K * hl_conv_taps(&n->cfg)) ||
               hl_h5_reader_array_float(f, "bias", n->b, (size_t)n->cfg.K) ||
               hl_h5_reader_array_float(f, "readout", n->v, (size_t)n->cfg.K)) {
        rc = hl_error_set(HL_EFORMAT, "'%s': filters, bias or readout missing: remove it to "
                          "train that point again", path);
    } else {
        rc = 1;
    }
    hl_h5_reader_close(f);
    return rc;
}

static int cnn_save(const char *path, const hl_conv *n, double time, int seed, double err,
                    const char *cmdline)
{
    size_t K = (size_t)n->cfg.K, k = hl_conv_taps(&n->cfg), ks = (size_t)n->cfg.k;
    double *buf = malloc(sizeof(double) * (K * k + 2 * K));
    if (!buf)
        return hl_error_set(HL_ENOMEM, "out of memory");
    for (size_t i = 0; i < K * k; i++)
        buf[i] = n->F[i];
    for (size_t c = 0; c < K; c++)
        buf[K * k + c] = n->b[c], buf[K * k + K + c] = n->v[c];
    hl_h5_attr attrs[] = {{"experiment", "conv-cnn-point"}, {"K", NULL, (double)K},
                          {"k", NULL, (double)ks}, {"L", NULL, n->cfg.L}, {"time", NULL, time},
                          {"dim", NULL, n->cfg.dim},
                          {"seed", NULL, seed}, {"test_error", NULL, err},
                          {"activation", hl_act_name(n->cfg.act)}};
    hl_h5_array arrays[] = {{"filters", n->cfg.dim == 2 ? 3 : 2,
                             {K, n->cfg.dim == 2 ? ks : k, ks}, buf},
                            {"bias", 1, {K}, buf + K * k},
                            {"readout", 1, {K}, buf + K * k + K}};
    int rc = hl_h5_write_arrays(path, "reproduce conv (CNN point)", cmdline, attrs,
                                sizeof attrs / sizeof *attrs, arrays, 3);
    free(buf);
    return rc;
}

/* Train (or read back) the CNN of every seed, seeds in parallel: each owns its task,
 * network and streams. nets[s] keeps the filters; err[s] the test error. */
static int cnn_runs(const reproduce_opts *o, const hl_train_config *fc, double time,
                    hl_conv **nets, double *err, int *resumed, const char *cmdline)
{
    const int S = o->seeds;
    int *status = calloc((size_t)S, sizeof *status);
    char(*msg)[512] = calloc((size_t)S, sizeof *msg);
    if (!status || !msg) {
        free(status), free(msg);
        return report_error(CMD, hl_error_set(HL_ENOMEM, "out of memory"));
    }
    const long long steps = llround(time * (double)hl_conv_sites(&nets[0]->cfg));
    int n_resumed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(o->threads) reduction(+ : n_resumed)
    for (int s = 0; s < S; s++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/points/cnn_s%d.h5", o->dir, s + 1);
        int rc = cnn_resume(path, nets[s], time, s + 1, &err[s]);
        if (rc == 1) {
            n_resumed++;
            rc = 0;
        } else if (rc == 0) {
            hl_nlgp_params pp = {fc->dim, fc->L, fc->xi_plus, fc->p, fc->gain,
                                 fc->convention, 0};
            hl_nlgp_params pm = {fc->dim, fc->L, fc->xi_minus, fc->p, fc->gain,
                                 fc->convention, 0};
            hl_task *task = hl_task_alloc(hl_nlgp_alloc(&pp), hl_nlgp_alloc(&pm));
            rc = task ? hl_conv_run(nets[s], task, steps, (unsigned long long)s + 1, N_TEST,
                                    &err[s])
                      : HL_ENOMEM;
            hl_task_free(task);
            if (!rc)
                rc = cnn_save(path, nets[s], time, s + 1, err[s], cmdline);
        }
        status[s] = rc;
        if (rc)
            snprintf(msg[s], sizeof msg[s], "%s", hl_error_message());
    }
    *resumed = n_resumed;
    int rc = 0;
    for (int s = 0; s < S && !rc; s++)
        if (status[s]) {
            fprintf(stderr, "hoclab %s: CNN seed %d: %s\n", CMD, s + 1, msg[s]);
            rc = status[s] == HL_EINVAL ? 2 : 1;
        }
    free(status), free(msg);
    return rc;
}

/* ---- the experiment -------------------------------------------------------------------- */

typedef struct {
    double *ipr, *centre, *width; /* S x K each (centre S x K x dim) */
    double *cos;                  /* S x K: best |cosine| with the CNN filters */
    float *W;                     /* S x K x L final weights */
    double *error;                /* S: final test error */
} fc_set;

static int fc_set_alloc(fc_set *f, int S, int K, int L)
{
    size_t n = (size_t)S * K;
    f->ipr = malloc(sizeof(double) * n), f->centre = malloc(sizeof(double) * 2 * n);
    f->width = malloc(sizeof(double) * n), f->cos = malloc(sizeof(double) * n);
    f->W = malloc(sizeof(float) * n * L), f->error = malloc(sizeof(double) * S);
    return f->ipr && f->centre && f->width && f->cos && f->W && f->error ? 0 : -1;
}

static void fc_set_free(fc_set *f)
{
    free(f->ipr), free(f->centre), free(f->width), free(f->cos), free(f->W), free(f->error);
}

/* Final weights of every seed's point file, then per unit IPR, centre, width. */
static int fc_load(const reproduce_opts *o, int L, char (*names)[128], int first, fc_set *f)
{
    const int S = o->seeds, K = o->K, side = o->dim == 2 ? (int)sqrt((double)L) : L;
    for (int s = 0; s < S; s++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/points/%s.h5", o->dir, names[first + s]);
        hl_train_config *cfg;
        hl_train_result *res;
        int n, rc = hl_h5_read_train(path, &cfg, &res, &n);
        if (rc)
            return rc;
        memcpy(f->W + (size_t)s * K * L, res[0].W, sizeof(float) * (size_t)K * L);
        f->error[s] = res[0].n_meas > 0 ? res[0].test_error[res[0].n_meas - 1] : NAN;
        hl_h5_train_free(cfg, res, n);
        size_t o_ = (size_t)s * K;
        if (o->dim == 2)
            rc = hl_rf_torus_widths(f->W + o_ * L, (size_t)K, (size_t)side, f->ipr + o_,
                                    f->centre + 2 * o_, f->width + o_);
        else
            rc = hl_rf_ring_widths(f->W + o_ * L, (size_t)K, (size_t)L, f->ipr + o_,
                                   f->centre + o_, f->width + o_);
        if (rc)
            return rc;
    }
    return 0;
}

/* Aligned RF of a unit against the CNN filters; aligned (D) gets the aligned RF.
 * centre: 1 value (ring) or 2 (torus); shift: 1 or 2. */
static int match_unit(const float *w, const double *centre, const hl_conv *cnn, float *aligned,
                      double *best, int *filter, int *shift, int *sign)
{
    const int L = cnn->cfg.L;
    if (cnn->cfg.dim == 2) {
        double c[2] = {isfinite(centre[0]) ? centre[0] : 0.0,
                       isfinite(centre[1]) ? centre[1] : 0.0};
        int rc = hl_rf_align_2d(w, (size_t)L, c, aligned);
        return rc ? rc : hl_conv_match_2d(aligned, (size_t)L, cnn->F, cnn->cfg.K, cnn->cfg.k,
                                          best, filter, shift, sign);
    }
    int rc = hl_rf_align(w, (size_t)L, isfinite(centre[0]) ? centre[0] : 0.0, aligned);
    if (!rc)
        rc = hl_conv_match(aligned, (size_t)L, cnn->F, cnn->cfg.K, cnn->cfg.k, best, filter,
                           shift, sign);
    return rc;
}

static double mean_of(const double *x, int n, int *count)
{
    double s = 0.0;
    int c = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]))
            s += x[i], c++;
    if (count)
        *count = c;
    return c ? s / c : NAN;
}

/* The RF figures of --dim 2: every seed's localised NLGP centres as crosses with a circle
 * of one width around each (what the coverage counts), inside the torus's outline. */
static int plot_centres_2d(const char *path, const fc_set *f, int n, int L, double thr)
{
    enum { ARC = 24, PER = 2 * 3 + ARC + 2 };
    double *x = malloc(sizeof(double) * ((size_t)n * PER + 6)),
           *y = malloc(sizeof(double) * ((size_t)n * PER + 6));
    if (!x || !y) {
        free(x), free(y);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!(f->ipr[i] > thr) || !isfinite(f->centre[2 * i]))
            continue;
        double r = f->centre[2 * i], c = f->centre[2 * i + 1], w = f->width[i];
        /* a cross: two strokes, each closed by a NaN */
        double cx[6] = {c - 0.5, c + 0.5, NAN, c, c, NAN},
               cy[6] = {r, r, NAN, r - 0.5, r + 0.5, NAN};
        for (int q = 0; q < 6; q++)
            x[m] = cx[q], y[m] = cy[q], m++;
        for (int q = 0; q <= ARC; q++) {
            double th = 2.0 * M_PI * q / ARC;
            x[m] = c + w * cos(th), y[m] = r + w * sin(th), m++;
        }
        x[m] = y[m] = NAN, m++;
    }
    double bx[5] = {0, L, L, 0, 0}, by[5] = {0, 0, L, L, 0};
    memcpy(x + m, bx, sizeof bx), memcpy(y + m, by, sizeof by);
    hl_plot_series cs[2] = {{"localised units", m, x, 1, y},
                            {"the torus", 5, x + m, 1, y + m}};
    int rc = hl_plot_curves(path, cs, m ? 2 : 1, "column", 0, "row",
                            "NLGP RF centres, radius one width");
    if (!m)   /* no localised unit: the outline alone */
        rc = hl_plot_curves(path, cs + 1, 1, "column", 0, "row",
                            "RF centres on the torus: no localised unit");
    free(x), free(y);
    return rc;
}

int reproduce_conv(const reproduce_opts *o, const char *cmdline)
{
    const int S = o->seeds, K = o->K, dim = o->dim == 2 ? 2 : 1;
    /* the ring's defaults (L 100 or 400, t 1e4 or 3e4) give way to the torus's */
    int L = o->L;
    double time = o->time, cnn_time = o->time;
    if (dim == 2) {
        if (L == 100 || L == 400)
            L = o->full ? 2 * L_2D : L_2D;
        if (time == 10000 || time == 30000)
            time = o->full ? 3 * TIME_2D : TIME_2D;
        cnn_time = fmin(time, o->full ? 3 * CNN_TIME_2D : CNN_TIME_2D);
    }
    const int D = dim == 2 ? L * L : L, kdef = dim == 2 ? KERNEL_2D : KERNEL;
    const int k = o->kernel ? (o->kernel < L ? o->kernel : L) : (kdef < L ? kdef : L);
    const int T = dim == 2 ? k * k : k;
    const double thr = 2.0 * 3.0 / D;
    int n = 2 * S, rc = 0, cnn_resumed = 0;
    hl_train_config *cfg = malloc(sizeof *cfg * n);
    char(*names)[128] = malloc(sizeof *names * n);
    hl_sweep_point *pts = malloc(sizeof *pts * n);
    hl_conv **nets = calloc((size_t)S, sizeof *nets);
    double *cnn_err = malloc(sizeof(double) * S), *tiles = malloc(sizeof(double) * 6 * S);
    float *aligned = malloc(sizeof(float) * D), *show = malloc(sizeof(float) * 2 * MAX_SHOW * D);
    double *fbuf = malloc(sizeof(double) * (size_t)S * K * T);
    gsl_rng *trng = hl_rng_alloc(1, HL_STREAM_USER + 703);
    fc_set nl = {0}, gp = {0};
    if (!cfg || !names || !pts || !nets || !cnn_err || !tiles || !aligned || !show || !fbuf ||
        !trng || fc_set_alloc(&nl, S, K, D) || fc_set_alloc(&gp, S, K, D)) {
        rc = report_error(CMD, hl_error_set(HL_ENOMEM, "out of memory"));
        goto out;
    }

    /* 1. the fully connected runs: NLGP seeds first, then the clone's */
    for (int in = 0, i = 0; in < 2; in++)
        for (int s = 0; s < S; s++, i++) {
            hl_train_config c = hl_train_defaults();
            c.input = in ? HL_INPUT_GP : HL_INPUT_NLGP;
            c.dim = dim;
            c.L = L;
            c.net.K = K;
            c.time = time;
            c.seed = (uint64_t)s + 1;
            c.n_snap = 0;
            c.n_meas = 12;
            cfg[i] = c;
            snprintf(names[i], sizeof names[i], "fc_%s_s%d", in ? "gp" : "nlgp", s + 1);
        }
    if ((rc = reproduce_run_points(CMD, o, cfg, names, n, cmdline, pts)))
        goto out;

    /* 2. the CNNs */
    hl_conv_config cc = hl_conv_defaults(L);
    cc.K = K;
    cc.k = k;
    cc.dim = dim;
    for (int s = 0; s < S; s++)
        if (!(nets[s] = hl_conv_alloc(&cc))) {
            rc = report_error(CMD, HL_EINVAL);
            goto out;
        }
    if ((rc = cnn_runs(o, &cfg[0], cnn_time, nets, cnn_err, &cnn_resumed, cmdline)))
        goto out;
    if (cnn_resumed)
        printf("(%d of %d CNN points read back from %s/points)\n", cnn_resumed, S, o->dir);

    /* 3. RF measures, tiling and matching */
    if ((rc = fc_load(o, D, names, 0, &nl)) || (rc = fc_load(o, D, names, S, &gp))) {
        rc = report_error(CMD, rc);
        goto out;
    }
    int n_loc = 0, n_show = 0;
    double *lc = malloc(sizeof(double) * 2 * K), *lw = malloc(sizeof(double) * K);
    if (!lc || !lw) {
        free(lc), free(lw);
        rc = report_error(CMD, hl_error_set(HL_ENOMEM, "out of memory"));
        goto out;
    }
    for (int s = 0; s < S; s++) {
        int m = 0;
        for (int u = 0; u < K; u++) {
            size_t iu = (size_t)s * K + u;
            const float *w = nl.W + iu * D;
            const double *cen = nl.centre + (size_t)dim * iu;
            nl.cos[iu] = gp.cos[iu] = NAN;
            int f, sh[2], sg;
            if (nl.ipr[iu] > thr && isfinite(cen[0])) {
                for (int a = 0; a < dim; a++)
                    lc[dim * m + a] = cen[a];
                lw[m] = nl.width[iu], m++;
                if ((rc = match_unit(w, cen, nets[s], aligned, &nl.cos[iu], &f, sh, &sg)))
                    break;
                if (s == 0 && n_show < MAX_SHOW && f >= 0) {
                    /* the pair for the figure, each scaled to unit norm; the filter at
                     * its best shift on an otherwise zero ring or torus */
                    float *r = show + (size_t)n_show * D,
                          *c = show + (size_t)(MAX_SHOW + n_show) * D;
                    const float *F = nets[s]->F + (size_t)f * T;
                    double nr = 0, nf = 0;
                    for (int i = 0; i < D; i++)
                        nr += (double)aligned[i] * aligned[i], c[i] = 0;
                    for (int j = 0; j < T; j++)
                        nf += (double)F[j] * F[j];
                    for (int i = 0; i < D; i++)
                        r[i] = (float)(aligned[i] / sqrt(nr));
                    for (int j = 0; j < T; j++) {
                        int site = dim == 2 ? ((sh[0] + j / k) % L) * L + (sh[1] + j % k) % L
                                            : (sh[0] + j) % L;
                        c[site] = (float)(sg * F[j] / sqrt(nf));
                    }
                    n_show++;
                }
            }
            const double *gcen = gp.centre + (size_t)dim * iu;
            if (!rc && isfinite(gcen[0]))
                rc = match_unit(gp.W + iu * D, gcen, nets[s], aligned, &gp.cos[iu], NULL,
                                NULL, NULL);
            if (rc)
                break;
        }
        n_loc += m;
        double *t = tiles + 6 * s;
        if (!rc && dim == 2) {
            hl_rf_tiling2 t2;
            rc = hl_rf_tiling_2d(lc, lw, (size_t)m, (size_t)L, TILE_REPS, trng, &t2);
            t[0] = t2.max_empty, t[1] = t2.coverage, t[2] = t2.random_max_empty;
            t[4] = t2.nn_mean, t[5] = t2.random_nn_mean;
        } else if (!rc) {
            rc = hl_rf_tiling(lc, lw, (size_t)m, (size_t)L, &t[0], &t[1], &t[2]);
            t[4] = t[5] = NAN;
        }
        t[3] = m;
        if (rc)
            break;
    }
    free(lc), free(lw);
    if (rc) {
        rc = report_error(CMD, rc);
        goto out;
    }

    /* 4. report */
    int n_cos_nl, n_cos_gp, n_gp_loc = 0;
    double cos_nl = mean_of(nl.cos, S * K, &n_cos_nl), cos_gp = mean_of(gp.cos, S * K, &n_cos_gp);
    for (int i = 0; i < S * K; i++)
        n_gp_loc += gp.ipr[i] > thr;
    double gap = 0, rgap = 0, cover = 0, nn = 0, rnn = 0;
    int n_tile = 0;
    for (int s = 0; s < S; s++)
        if (tiles[6 * s + 3] >= 2) {   /* one centre has no gap to speak of */
            const double *t = tiles + 6 * s;
            gap += t[0], rgap += t[2], cover += t[1], nn += t[4], rnn += t[5], n_tile++;
        }
    if (n_tile)
        gap /= n_tile, rgap /= n_tile, cover /= n_tile, nn /= n_tile, rnn /= n_tile;
    else
        gap = rgap = cover = nn = rnn = NAN;   /* no seed with two localised units */
    const char *gapname = dim == 2 ? "largest empty disc" : "largest gap";
    if (dim == 2)
        printf("\nconv: %d x %d torus, t = %g (CNN t = %g), %d seeds; fully connected K = %d "
               "(default trainer); CNN K = %d channels, kernel %d x %d, erf, +-1 readout\n", L,
               L, time, cnn_time, S, K, K, k, k);
    else
        printf("\nconv: L = %d, t = %g, %d seeds; fully connected K = %d (default trainer); "
               "CNN K = %d channels, kernel %d, erf, +-1 readout\n", L, time, S, K, K, k);
    printf("  %-5s %12s %12s %12s %10s %12s %12s %14s\n", "seed", "err FC NLGP", "err FC GP",
           "err CNN", "localised", dim == 2 ? "empty disc" : "largest gap",
           dim == 2 ? "random disc" : "random gap", "coverage (1w)");
    for (int s = 0; s < S; s++)
        printf("  %-5d %12.4f %12.4f %12.4f %7.0f/%-2d %12.1f %12.1f %14.2f\n", s + 1,
               nl.error[s], gp.error[s], cnn_err[s], tiles[6 * s + 3], K, tiles[6 * s],
               tiles[6 * s + 2], tiles[6 * s + 1]);
    printf("  localised units (IPR > 2 x 3/D = %.3f): NLGP %d of %d, GP clone %d of %d\n", thr,
           n_loc, S * K, n_gp_loc, S * K);
    if (dim == 2)
        printf("  nearest-neighbour distance between localised centres %.2f sites (%.2f for "
               "random centres)\n", nn, rnn);
    printf("  best |cosine| with a CNN filter (aligned RF, all shifts): NLGP localised units "
           "%.3f (n = %d), GP clone units %.3f (n = %d)\n", cos_nl, n_cos_nl, cos_gp, n_cos_gp);
    int loc_ok = 2 * n_loc >= S * K, tile_ok = n_tile > 0 && gap <= 1.25 * rgap,
        match_ok = cos_nl > cos_gp + 0.1;
    printf("Verdict: %d of %d NLGP units localised; their centres' %s %.1f sites "
           "(%.1f expected for random centres), coverage %.2f; mean best cosine with a CNN "
           "filter %.3f for NLGP RFs against %.3f for the clone's. Literature (Ingrosso & "
           "Goldt 2022): localised RFs tile the input space and resemble the CNN's filters. "
           "%s\n", n_loc, S * K, gapname, gap, rgap, cover, cos_nl, cos_gp,
           loc_ok && tile_ok && match_ok ? "Agrees." : "Does NOT agree at this size.");
    if (!(loc_ok && tile_ok && match_ok))
        printf("  (criteria: half the units localised %s; %s <= 1.25 x random %s; "
               "NLGP cosine > clone's + 0.1 %s)\n", loc_ok ? "yes" : "no", gapname,
               tile_ok ? "yes" : "no", match_ok ? "yes" : "no");

    /* 5. summary file (the ring's layout unchanged; the torus adds a centre axis, k x k
     * filters and the nearest-neighbour columns of the tiling) */
    for (int s = 0; s < S; s++)
        for (int i = 0; i < K * T; i++)
            fbuf[(size_t)s * K * T + i] = nets[s]->F[i];
    double *tout = tiles;
    if (dim == 1) {   /* the ring's 4 columns: largest gap, coverage, random gap, count */
        for (int s = 0; s < S; s++)
            for (int j = 0; j < 4; j++)
                tiles[4 * s + j] = tiles[6 * s + j];
    }
    size_t SK[2] = {(size_t)S, (size_t)K}, sk = (size_t)k;
    hl_h5_attr attrs[] = {{"experiment", "conv"}, {"L", NULL, L}, {"K", NULL, K},
                          {"kernel", NULL, k}, {"time", NULL, time}, {"seeds", NULL, S},
                          {"ipr_threshold", NULL, thr}, {"n_localised", NULL, n_loc},
                          {"mean_best_cosine_nlgp", NULL, cos_nl},
                          {"mean_best_cosine_gp", NULL, cos_gp},
                          {"mean_largest_gap", NULL, gap}, {"mean_random_gap", NULL, rgap},
                          {"mean_coverage", NULL, cover}, {"dim", NULL, dim},
                          {"cnn_time", NULL, cnn_time}, {"mean_nn_distance", NULL, nn},
                          {"mean_random_nn_distance", NULL, rnn}};
    const int na = dim == 2 ? (int)(sizeof attrs / sizeof *attrs) : 13;
    hl_h5_array arrays[] = {
        {"nlgp/ipr", 2, {SK[0], SK[1]}, nl.ipr},
        {"nlgp/centre", dim + 1, {SK[0], SK[1], 2}, nl.centre},
        {"nlgp/width", 2, {SK[0], SK[1]}, nl.width},
        {"nlgp/best_cosine", 2, {SK[0], SK[1]}, nl.cos},
        {"nlgp/test_error", 1, {SK[0]}, nl.error},
        {"gp/ipr", 2, {SK[0], SK[1]}, gp.ipr},
        {"gp/centre", dim + 1, {SK[0], SK[1], 2}, gp.centre},
        {"gp/width", 2, {SK[0], SK[1]}, gp.width},
        {"gp/best_cosine", 2, {SK[0], SK[1]}, gp.cos},
        {"gp/test_error", 1, {SK[0]}, gp.error},
        {"cnn/filters", dim + 2, {SK[0], SK[1], sk, sk}, fbuf},
        {"cnn/test_error", 1, {SK[0]}, cnn_err},
        /* ring: largest gap, coverage, random gap, count; torus: largest empty disc,
         * coverage, random empty disc, count, nearest-neighbour distance, random's */
        {"tiling", 2, {SK[0], dim == 2 ? 6 : 4}, tout},
    };
    char path[4200];
    snprintf(path, sizeof path, "%s/conv.h5", o->dir);
    if ((rc = hl_h5_write_arrays(path, CMD, cmdline, attrs, na, arrays,
                                 sizeof arrays / sizeof *arrays))) {
        rc = report_error(CMD, rc);
        goto out;
    }

    /* 6. figures: ring: IPR against centre as sticks (NaN breaks the line between units);
     * torus: the localised centres and their widths on the torus */
    if (dim == 2) {
        snprintf(path, sizeof path, "%s/conv_rf_centres", o->dir);
        rc = plot_centres_2d(path, &nl, S * K, L, thr);
    } else {
        size_t np = (size_t)3 * S * K;
        double *sx = malloc(sizeof(double) * (2 * np + 4)),
               *sy = malloc(sizeof(double) * (2 * np + 4));
        if (!sx || !sy) {
            free(sx), free(sy);
            rc = report_error(CMD, hl_error_set(HL_ENOMEM, "out of memory"));
            goto out;
        }
        for (int in = 0; in < 2; in++) {
            const fc_set *f = in ? &gp : &nl;
            for (int i = 0; i < S * K; i++) {
                size_t b = (size_t)in * np + 3 * (size_t)i;
                sx[b] = sx[b + 1] = f->centre[i], sx[b + 2] = NAN;
                sy[b] = 0, sy[b + 1] = f->ipr[i], sy[b + 2] = NAN;
            }
        }
        sx[2 * np] = 0, sx[2 * np + 1] = L, sy[2 * np] = sy[2 * np + 1] = thr;
        hl_plot_series cs[3] = {{"NLGP units", (int)np, sx, 1, sy},
                                {"GP clone", (int)np, sx + np, 1, sy + np},
                                {"2 x 3/D", 2, sx + 2 * np, 1, sy + 2 * np}};
        snprintf(path, sizeof path, "%s/conv_rf_centres", o->dir);
        rc = hl_plot_curves(path, cs, 3, "RF centre (site on the ring)", 0, "IPR",
                            "RF centres on the ring: one stick per unit, all seeds");
        free(sx), free(sy);
    }
    if (!rc && n_show > 0) {
        /* two rows: aligned RFs, and under each its best-matching CNN filter */
        memmove(show + (size_t)n_show * D, show + (size_t)MAX_SHOW * D,
                sizeof(float) * (size_t)n_show * D);
        const char *rows[2] = {"FC RF", "CNN filter"};
        snprintf(path, sizeof path, "%s/conv_filters", o->dir);
        rc = hl_plot_montage(path, show, 2, n_show, L, dim, rows,
                             dim == 2 ? "seed 1: RFs over best CNN filters"
                                      : "seed 1: localised RFs (centred on L/2) above their "
                                        "best-matching CNN filters");
    }
    if (rc)
        rc = report_error(CMD, rc);
    else
        printf("Wrote %s/conv.h5 and conv_rf_centres%s (.png, .svg)\n", o->dir,
               n_show ? ", conv_filters" : "");
out:
    for (int s = 0; nets && s < S; s++)
        hl_conv_free(nets[s]);
    fc_set_free(&nl), fc_set_free(&gp);
    free(cfg), free(names), free(pts), free(nets), free(cnn_err), free(tiles), free(aligned);
    free(show), free(fbuf);
    hl_rng_free(trng);
    return rc;
}
