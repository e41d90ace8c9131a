/* train.c — `hoclab train`: parse flags, run the trainer for each input model,
 * write the HDF5 file and the figures, print a summary.
 *
 * Long runs save a checkpoint every --checkpoint-every seconds and when SIGINT or
 * SIGTERM asks them to stop (exit 128 + the signal's number: 130, 143); `--resume`
 * continues from it, bit for bit, and a finished run removes it (see docs/resume.md). */
#include "commands.h"

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/train.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Progress on a terminal: one line, rewritten at most ten times a second, with the
 * steps per second and the ETA of this session (a resumed run counts from where it
 * resumed), and each run's latest test error and mean IPR. The same state carries
 * the checkpoint the runs save into. */
typedef struct {
    pthread_mutex_t lock;
    int n;
    long long step[2], total[2], resumed; /* resumed: steps done before this session */
    double error[2], ipr[2];
    const char *names[2];
    double start, last;
    hl_checkpoint *ck;
    int ck_failed;                        /* a checkpoint could not be written */
} progress_state;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void progress(void *user, int run, long long step, long long total, double error,
                     double ipr)
{
    progress_state *p = user;
    pthread_mutex_lock(&p->lock);
    p->step[run] = step;
    p->total[run] = total;
    p->error[run] = error;
    p->ipr[run] = ipr;
    double t = now();
    /* The first half second has too few steps for a meaningful rate or ETA. */
    if ((t - p->last > 0.1 || step == total) && t - p->start > 0.5) {
        p->last = t;
        long long done = 0, all = 0;
        for (int i = 0; i < p->n; i++) {
            done += p->step[i];
            all += p->total[i];
        }
        double rate = (done - p->resumed) / fmax(t - p->start, 1e-9);
        double eta = (all - done) / fmax(rate, 1e-9);
        fprintf(stderr, "\r%5.1f%%  %.3g steps/s  ETA %.0fs ", 100.0 * done / all, rate, eta);
        for (int i = 0; i < p->n; i++)
            fprintf(stderr, " | %s err %.3f IPR %.4f", p->names[i], p->error[i], p->ipr[i]);
        fprintf(stderr, "   ");
        fflush(stderr);
    }
    pthread_mutex_unlock(&p->lock);
}

/* ---- checkpoints, signals, resuming ---------------------------------------------- */

/* The trainer's checkpoint hook: a failed write is reported once and training goes on
 * (the next checkpoint may succeed; stopping would lose the run). */
static int save_checkpoint(void *user, int run, const hl_train_config *c,
                           const hl_train_result *partial)
{
    progress_state *p = user;
    if (hl_checkpoint_save(p->ck, run, c, partial)) {
        pthread_mutex_lock(&p->lock);
        if (!p->ck_failed++)
            fprintf(stderr, "\nhoclab train: warning: %s; training goes on\n",
                    hl_error_message());
        pthread_mutex_unlock(&p->lock);
    }
    return 0;
}

/* Runs stopped by a signal: save every run's state (finished runs as they are), say
 * how to go on, exit 128 + signal. */
static int save_interrupted(const hl_train_config *cfg, const hl_train_result *res, int n,
                            hl_checkpoint *ck, const char *ck_path, const char *cmdline)
{
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = hl_checkpoint_keep(ck, i, &res[i]);
    if (rc || (rc = hl_checkpoint_write(ck))) {
        fprintf(stderr, "hoclab train: interrupted, and the checkpoint could not be saved: "
                        "%s\n", hl_error_message());
        return 1;
    }
    fprintf(stderr, "hoclab train: interrupted by %s at", stop_signal == SIGTERM ? "SIGTERM"
                                                                                 : "SIGINT");
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s %s step %lld of %lld%s", i ? "," : "", hl_train_run_name(&cfg[i]),
                res[i].stop_step, hl_train_steps(&cfg[i]),
                res[i].status == HL_EINTERRUPTED ? "" : " (finished)");
    fprintf(stderr, "; state saved in %s\nhoclab train: continue with: %s%s\n", ck_path,
            cmdline, strstr(cmdline, " --resume") ? "" : " --resume");
    return 128 + (stop_signal ? stop_signal : SIGINT);
}

/* --resume: each run's state from the checkpoint, kept in ck for the next saves, and
 * the progress line's starting point. Exit code 2 with a message if it cannot be used. */
static int load_resume(const char *ck_path, const hl_train_config *cfg, int n,
                       hl_train_result *resume, progress_state *ps)
{
    if (hl_h5_read_checkpoint(ck_path, cfg, n, resume)) {
        fprintf(stderr, "hoclab train --resume: %s\n", hl_error_message());
        return 2;
    }
    for (int i = 0; i < n; i++) {
        const hl_train_result *r = &resume[i];
        if (hl_checkpoint_keep(ps->ck, i, r)) {
            fprintf(stderr, "hoclab train --resume: %s\n", hl_error_message());
            return 2;
        }
        if (r->n_meas > 0) {
            int last = r->n_meas - 1, K = cfg[i].net.K;
            ps->step[i] = r->stop_step;
            ps->resumed += r->stop_step;
            ps->error[i] = r->test_error[last];
            ps->ipr[i] = 0;
            for (int k = 0; k < K; k++)
                ps->ipr[i] += r->ipr[(size_t)last * K + k] / K;
        }
    }
    return 0;
}

static void summary(const hl_train_config *c, const hl_train_result *r, int n, const char *out)
{
    const int K = c[0].net.K;
    const double D = (double)hl_train_D(&c[0]);
    if (c[0].plus_model[0])
        printf("\nSummary: two-layer network, class +1 %s against class -1 %s, D = %.0f, "
               "K = %d, %s, %s activation, t = %g.\n", c[0].plus_model, c[0].minus_model, D,
               K, hl_mode_name(c[0].net.mode), hl_act_name(c[0].net.act), c[0].time);
    else
        printf("\nSummary: two-layer networks on %s of D = %.0f pixels (xi = %g, %g; "
               "gain %g), K = %d, %s, %s activation, t = %g.\n",
               c[0].dim == 1 ? "a ring" : "a torus", D, c[0].xi_plus, c[0].xi_minus,
               c[0].gain, K, hl_mode_name(c[0].net.mode), hl_act_name(c[0].net.act),
               c[0].time);
    double mean_ipr[2] = {0};
    for (int i = 0; i < n; i++) {
        int last = r[i].n_meas - 1;
        double mean = 0, max = 0;
        for (int k = 0; k < K && last >= 0; k++) {
            double v = r[i].ipr[(size_t)last * K + k];
            mean += v / K;
            max = fmax(max, v);
        }
        mean_ipr[i] = mean;
        printf("  %-4s final test error %.4f, mean IPR %.4f, max IPR %.4f (3/D = %.4f), "
               "%.1f s%s%s\n",
               hl_train_run_name(&c[i]), last >= 0 ? r[i].test_error[last] : NAN, mean, max,
               3 / D, r[i].wall_seconds, r[i].status ? ", DIVERGED: " : "",
               r[i].status ? r[i].message : "");
        for (int s = 0; s < 2; s++)
            if (r[i].n_clipped[s] && r[i].clipped_fraction[s] > 1e-12) /* beyond round-off */
                printf("       clipped %d negative circulant eigenvalues of class %c "
                       "(%.2g of the spectrum's weight)\n",
                       r[i].n_clipped[s], s ? '-' : '+', r[i].clipped_fraction[s]);
    }
    if (n == 2 && c[0].input != c[1].input) {
        int g = c[0].input == HL_INPUT_GP ? 0 : 1;
        printf("  NLGP / GP mean IPR ratio: %.2f. Localised receptive fields %s for the "
               "non-Gaussian inputs.\n",
               mean_ipr[1 - g] / mean_ipr[g],
               mean_ipr[1 - g] > 2 * mean_ipr[g] ? "emerged" : "did not clearly emerge");
    }
    printf("Results: %s\n", out);
}

int cmd_train(int argc, char **argv)
{
    hl_train_config base = hl_train_defaults();
    data_flags d = data_flags_defaults();
    const char *output = "hoclab_train.h5", *plus = NULL, *minus = NULL;
    const char *ck_flag = NULL;
    double ck_every = 60;
    int threads = 0, no_plot = 0, quiet = 0, resume = 0, n_test = (int)base.n_test;
    int mode = base.net.mode, act = base.net.act, bias = base.net.bias;
    opt_spec specs[DATA_SPECS + 26];
    int n = data_specs(&d, specs);
    const opt_spec more[] = {
        {"plus", OPT_STRING, &plus,
         .help = "class +1 from any data model, \"name:key=value,...\" (with --minus; "
                 "replaces the NLGP task)"},
        {"minus", OPT_STRING, &minus, .help = "class -1 from any data model (with --plus)"},
        {"K", OPT_INT, &base.net.K, 1, 100000, .help = "hidden units"},
        {"model", OPT_CHOICE, &mode, .choices = "2layer|mf|lazy",
         .help = "2layer: v trained (lr/D); mf: v = 1, norm K; lazy: v = 1, norm sqrt K"},
        {"activation", OPT_CHOICE, &act, .choices = "erf|relu|tanh|linear|cubic",
         .help = "erf(h/sqrt 2), relu, tanh, linear, or the cubic expansion of erf"},
        {"bias", OPT_CHOICE, &bias, .choices = "none|trainable|fixed",
         .help = "none: b = 0; trainable: init +-1; fixed: +-bias-value, frozen"},
        {"bias-value", OPT_DOUBLE, &base.net.bias_value, 0, 1e6, .help = "b for --bias fixed"},
        {"lr", OPT_DOUBLE, &base.net.lr, 0, 1e6, .open_min = 1, .help = "learning rate"},
        {"bs", OPT_INT, &base.batch, 1, 65536, .help = "batch size (samples per SGD step)"},
        {"time", OPT_DOUBLE, &base.time, 0, 1e9, .open_min = 1,
         .help = "training time t = steps / D"},
        {"std0w", OPT_DOUBLE, &base.net.std0w, 0, 1e3, .help = "initial first-layer weight std"},
        {"std0v", OPT_DOUBLE, &base.net.std0v, 0, 1e3, .help = "initial readout std (2layer)"},
        {"test-samples", OPT_INT, &n_test, 1, 10000000, .help = "held-out test samples"},
        {"n-meas", OPT_INT, &base.n_meas, 2, 100000, .help = "measurement times (log-spaced)"},
        {"snapshots", OPT_INT, &base.n_snap, -1, 100000,
         .help = "weight snapshots: -1 at every measurement, 0 none, N at N times"},
        {"threads", OPT_INT, &threads, 0, 1024, .help = "threads over runs (0: all cores)"},
        {"output", OPT_STRING, &output, .help = "result file (.h5); figures go next to it"},
        {"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the figures"},
        {"quiet", OPT_FLAG, &quiet, .help = "no progress line and no summary"},
        {"checkpoint", OPT_STRING, &ck_flag,
         .help = "checkpoint file (default: OUTPUT without .h5, then .ckpt.h5)"},
        {"checkpoint-every", OPT_DOUBLE, &ck_every, 0, 1e6,
         .help = "seconds between checkpoints (0: only when SIGINT/SIGTERM stops the run)"},
        {"resume", OPT_FLAG, &resume,
         .help = "continue from the checkpoint (give the interrupted run's flags)"},
    };
    memcpy(specs + n, more, sizeof more);
    n += sizeof more / sizeof more[0];

    const char *pos[1];
    int n_pos;
    int rc = opt_parse("train", specs, n, argc, argv, 2, pos, 0, &n_pos);
    if (rc == 1) {
        opt_help("train", "[--flags]", specs, n);
        return 0;
    }
    if (rc || (rc = data_flags_finish("train", &d)))
        return rc;
    base.n_test = (size_t)n_test;
    base.net.mode = mode;
    base.net.act = act;
    base.net.bias = bias;
    data_flags_apply(&d, &base);

    hl_train_config cfg[2];
    int runs = 0;
    if (plus || minus) {
        /* One run on a task of two data models; the RF images take the shape of the
         * plus model's samples (hl_model_shape). */
        if (!plus || !minus) {
            fprintf(stderr, "hoclab train: --%s is missing: a model task needs --plus and "
                            "--minus\n", plus ? "minus" : "plus");
            return 2;
        }
        snprintf(base.plus_model, sizeof base.plus_model, "%s", plus);
        snprintf(base.minus_model, sizeof base.minus_model, "%s", minus);
        if (hl_model_shape(plus, &base.dim, &base.L)) {
            fprintf(stderr, "hoclab train --plus: %s\n", hl_error_message());
            return 2;
        }
        cfg[runs++] = base;
    } else {
        for (int in = 0; in < 2; in++)
            if (d.inputs_mask & (1 << in)) {
                cfg[runs] = base;
                cfg[runs++].input = in;
            }
    }
    if ((rc = hl_train_validate(&cfg[0])))
        return report_error("train", rc);
    char ck_path[4096], cmdline[4096], fig[4096];
    if (ck_flag)
        snprintf(ck_path, sizeof ck_path, "%s", ck_flag);
    else
        hl_checkpoint_path(output, ck_path, sizeof ck_path);
    if ((rc = hl_io_check_writable(output)))
        return report_error("train --output", HL_EINVAL);
    if ((rc = hl_io_check_writable(ck_path)))
        return report_error("train --checkpoint", HL_EINVAL);
    opt_command_line(argc, argv, cmdline, sizeof cmdline);

    progress_state ps = {.lock = PTHREAD_MUTEX_INITIALIZER, .n = runs, .start = now()};
    for (int i = 0; i < runs; i++) {
        ps.names[i] = hl_train_run_name(&cfg[i]);
        ps.total[i] = hl_train_steps(&cfg[i]);
        ps.error[i] = ps.ipr[i] = NAN; /* not measured yet */
    }
    if (!(ps.ck = hl_checkpoint_new(ck_path, cfg, runs, cmdline)))
        return report_error("train", HL_ENOMEM);
    hl_train_result res[2], saved[2] = {{0}};
    if (resume && (rc = load_resume(ck_path, cfg, runs, saved, &ps))) {
        hl_checkpoint_free(ps.ck);
        return rc;
    }
    if (!resume && access(ck_path, F_OK) == 0)
        fprintf(stderr, "hoclab train: note: %s holds the checkpoint of an earlier run; it "
                        "will be replaced (--resume continues that run instead)\n", ck_path);
    int show = !quiet && isatty(STDERR_FILENO);
    int status[2];
    hl_train_hooks hooks = {.progress = show ? progress : NULL, .user = &ps,
                            .checkpoint = save_checkpoint, .checkpoint_every = ck_every,
                            .stop = &stop_signal, .resume = resume ? saved : NULL};
    struct sigaction old[2];
    stop_signal = 0;
    catch_stop_signals(old);
    rc = hl_train_runs_hooked(cfg, runs, threads, res, status, &hooks);
    restore_signals(old);
    if (show)
        fprintf(stderr, "\n");
    for (int i = 0; i < runs; i++)
        hl_train_result_free(&saved[i]);
    if (rc == HL_EINTERRUPTED) {
        int code = save_interrupted(cfg, res, runs, ps.ck, ck_path, cmdline);
        for (int i = 0; i < runs; i++)
            hl_train_result_free(&res[i]);
        hl_checkpoint_free(ps.ck);
        return code;
    }
    hl_checkpoint_free(ps.ck);
    if (rc)
        return report_error("train", rc);

    int exit_code = 0;
    if ((rc = hl_h5_write_train(output, cfg, res, runs, cmdline)))
        exit_code = report_error("train", rc);
    else if (unlink(ck_path) != 0 && errno != ENOENT) /* the result replaces it */
        fprintf(stderr, "hoclab train: warning: cannot remove the checkpoint %s: %s\n",
                ck_path, strerror(errno));
    if (!exit_code && !no_plot) {
        figure_base(output, fig, sizeof fig);
        if ((rc = hl_figures_train(fig, cfg, res, runs)))
            exit_code = report_error("train (figures)", rc);
    }
    for (int i = 0; i < runs; i++)
        if (status[i] == HL_EDIVERGED) {
            fprintf(stderr, "hoclab train: %s run stopped: %s; what was measured until then is "
                            "in %s\n", hl_train_run_name(&cfg[i]), res[i].message, output);
            exit_code = 1;
        }
    if (!quiet && !rc)
        summary(cfg, res, runs, output);
    for (int i = 0; i < runs; i++)
        hl_train_result_free(&res[i]);
    return exit_code;
}
