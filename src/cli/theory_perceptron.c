/* theory_perceptron.c — `hoclab theory perceptron`: the perceptron view of the
 * distributional simplicity bias. Draws a dataset of two classes from any two models,
 * has the library expand the perceptron's fixed point — the mean direction w(0), the
 * linear / Fisher solution w(1), the first non-Gaussian correction w(3) and what the
 * Gaussian clone would give — and trains the perceptron by SGD on that dataset, and
 * records the trained weight's overlap with each prediction over time. */
#include "commands.h"
#include "theory_cli.h"

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/net.h"
#include "hoclab/plot.h"
#include "hoclab/rng.h"
#include "hoclab/theory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* n labelled samples of the task "plus against minus" from stream (seed, stream). */
static int draw(const char *plus, const char *minus, size_t n, uint64_t seed, int stream,
                size_t *D, float **X, float **y)
{
    hl_task *task = hl_task_alloc(hl_model_new(plus), hl_model_new(minus));
    if (!task)
        return HL_EINVAL;
    *D = hl_task_dim(task);
    *X = malloc(sizeof(float) * n * *D);
    *y = malloc(sizeof(float) * n);
    gsl_rng *r = hl_rng_alloc(seed, stream);
    int rc = !*X || !*y || !r ? hl_error_set(HL_ENOMEM, "cannot hold %zu samples of D = %zu",
                                             n, *D)
                              : hl_task_sample(task, n, *X, *y, r);
    hl_rng_free(r);
    hl_task_free(task);
    return rc;
}

int theory_perceptron(int argc, char **argv)
{
    const char *plus = "fmnist:classes=0,normalise=global";
    const char *minus = "fmnist:classes=6,normalise=global";
    const char *test_plus = NULL, *test_minus = NULL, *output = "perceptron.h5";
    double beta = HL_CUBIC_BETA, ridge = 5, eta = 2e-5, time = 30, t_min = 1e-4;
    int n = 12000, n_test = 4000, n_times = 40, no_plot = 0;
    uint64_t seed = 1;
    opt_spec specs[] = {
        {"plus", OPT_STRING, &plus, .help = "class with label +1, \"name:key=value,...\""},
        {"minus", OPT_STRING, &minus, .help = "class with label -1"},
        {"test-plus", OPT_STRING, &test_plus,
         .help = "test class +1 (default: fresh draws of --plus)"},
        {"test-minus", OPT_STRING, &test_minus, .help = "test class -1 (default: --minus)"},
        {"n", OPT_INT, &n, 4, 10000000, .help = "training samples (both classes)"},
        {"test-samples", OPT_INT, &n_test, 1, 10000000, .help = "test samples"},
        {"beta", OPT_DOUBLE, &beta, -10, 10,
         .help = "sigma(h) = alpha h - beta h^3 / 3 (alpha = sqrt(2/pi); 0: linear)"},
        {"ridge", OPT_DOUBLE, &ridge, 0, 1e9, .help = "weight decay lambda of the loss"},
        {"eta", OPT_DOUBLE, &eta, 0, 10, .open_min = 1,
         .help = "SGD learning rate (h = w.x: stable for eta |x|^2 alpha^2 < 2)"},
        {"time", OPT_DOUBLE, &time, 0, 1e12, .open_min = 1, .help = "last time t = eta steps"},
        {"t-min", OPT_DOUBLE, &t_min, 0, 1e12, .open_min = 1,
         .help = "first (log-spaced) record time after t = 0"},
        {"n-times", OPT_INT, &n_times, 2, 100000, .help = "record times (t = 0 included)"},
        {"seed", OPT_U64, &seed, .help = "seed of the data, the shuffling and w0"},
        {"output", OPT_STRING, &output, .help = "result file (.h5); figures next to it"},
        {"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the figures"},
    };
    const int ns = sizeof specs / sizeof *specs;
    int n_pos, rc = opt_parse("theory perceptron", specs, ns, argc, argv, 3, NULL, 0, &n_pos);
    if (rc)
        return theory_usage("perceptron", rc, "[--plus M:SPEC] [--minus M:SPEC] [--n N]",
                            specs, ns);
    if (t_min >= time) {
        fprintf(stderr, "hoclab theory perceptron: --t-min %g: must be below --time %g\n",
                t_min, time);
        return 2;
    }
    if (hl_io_check_writable(output))
        return theory_fail("perceptron --output", HL_EINVAL);
    float *X = NULL, *y = NULL, *Xt = NULL, *yt = NULL;
    hl_perc_stats *st = NULL;
    hl_perc_expansion *ex = NULL;
    hl_perc_run *run = NULL;
    double *times = malloc(sizeof(double) * n_times);
    size_t D, Dt;
    if (!times) {
        rc = theory_fail("perceptron", HL_ENOMEM);
        goto out;
    }
    if ((rc = draw(plus, minus, (size_t)n, seed, HL_STREAM_USER + 21, &D, &X, &y)) ||
        (rc = draw(test_plus ? test_plus : plus, test_minus ? test_minus : minus,
                   (size_t)n_test, seed, HL_STREAM_USER + 22, &Dt, &Xt, &yt))) {
        rc = theory_fail("perceptron", rc);
        goto out;
    }
    if (Dt != D) {
        fprintf(stderr, "hoclab theory perceptron: the test classes have D = %zu, the training "
                        "classes D = %zu\n", Dt, D);
        rc = 2;
        goto out;
    }
    hl_perc_options o;
    hl_perc_options_default(&o);
    o.beta = beta;
    o.ridge = ridge;
    if ((rc = hl_perc_stats_compute(X, y, (size_t)n, D, &st)) ||
        (rc = hl_perc_expand(st, &o, &ex))) {
        rc = theory_fail("perceptron", rc);
        goto out;
    }
    times[0] = 0;
    hl_neuron_log_times(t_min, time, (size_t)n_times - 1, times + 1);
    hl_perc_train_params tp;
    hl_perc_train_defaults(&tp);
    tp.beta = beta;
    tp.ridge = ridge;
    tp.eta = eta;
    tp.times = times;
    tp.n_times = (size_t)n_times;
    tp.seed = seed;
    if ((rc = hl_perc_train_array(&tp, X, y, (size_t)n, D, ex, Xt, yt, (size_t)n_test, &run))) {
        rc = theory_fail("perceptron", rc);
        goto out;
    }

    printf("perceptron on %s against %s: D = %zu, n = %d (%llu epochs)\n", plus, minus, D, n,
           run->epochs);
    printf("  %-10s %12s %14s\n", "reference", "test error", "cos(trained)");
    for (int r = 0; r < HL_PERC_N_REFS; r++)
        printf("  %-10s %12.4f %14.4f\n", hl_perc_ref_name(r), run->ref_test_error[r],
               run->overlap[(size_t)(n_times - 1) * HL_PERC_N_REFS + r]);
    printf("  trained: test error %.4f at t = %g\n", run->test_error[n_times - 1], time);

    char cmdline[4096], base[4096], path[4200];
    opt_command_line(argc, argv, cmdline, sizeof cmdline);
    size_t nt = (size_t)n_times, nr = HL_PERC_N_REFS;
    double ref_err[HL_PERC_N_REFS], *steps = malloc(sizeof(double) * nt);
    if (!steps) {
        rc = theory_fail("perceptron", HL_ENOMEM);
        goto out;
    }
    for (size_t j = 0; j < nt; j++)
        steps[j] = (double)run->steps[j];
    for (int r = 0; r < HL_PERC_N_REFS; r++)
        ref_err[r] = run->ref_test_error[r];
    hl_h5_attr attrs[] = {
        {"plus", plus}, {"minus", minus},
        {"test_plus", test_plus ? test_plus : plus}, {"test_minus", test_minus ? test_minus : minus},
        {"refs", "mean,linear,fisher,w3,clone,star"},
        {"alpha", NULL, HL_CUBIC_ALPHA}, {"beta", NULL, beta}, {"ridge", NULL, ridge},
        {"eta", NULL, eta}, {"n", NULL, n}, {"n_test", NULL, n_test},
        {"seed", NULL, (double)seed}, {"epochs", NULL, (double)run->epochs},
        {"expansion/loss_w1", NULL, ex->loss_w1}, {"expansion/loss_w3", NULL, ex->loss_w3},
        {"expansion/loss_star", NULL, ex->loss_star},
        {"expansion/star_converged", NULL, ex->star_converged},
    };
    hl_h5_array arrays[] = {
        {"expansion/w0", 1, {D}, ex->w0},
        {"expansion/w1", 1, {D}, ex->w1},
        {"expansion/fisher", 1, {D}, ex->fisher},
        {"expansion/w3", 1, {D}, ex->w3},
        {"expansion/w3_clone", 1, {D}, ex->w3_clone},
        {"expansion/w_star", 1, {D}, ex->w_star},
        {"expansion/d_gauss", 1, {D}, ex->d_gauss},
        {"expansion/d_skew", 1, {D}, ex->d_skew},
        {"expansion/d_kurt", 1, {D}, ex->d_kurt},
        {"expansion/k4w", 2, {2, D}, ex->k4w},
        {"expansion/k4w_se", 2, {2, D}, ex->k4w_se},
        {"expansion/ref_test_error", 1, {nr}, ref_err},
        {"run/t", 1, {nt}, run->t},
        {"run/steps", 1, {nt}, steps},
        {"run/w", 2, {nt, D}, run->w},
        {"run/overlap", 2, {nt, nr}, run->overlap},
        {"run/test_error", 1, {nt}, run->test_error},
        {"run/test_loss", 1, {nt}, run->test_loss},
        {"run/w_avg", 1, {D}, run->w_avg},
    };
    rc = hl_h5_write_arrays(output, "theory perceptron", cmdline, attrs,
                            sizeof attrs / sizeof *attrs, arrays,
                            sizeof arrays / sizeof *arrays);
    free(steps);
    if (rc) {
        rc = theory_fail("perceptron", rc);
        goto out;
    }
    if (no_plot) {
        printf("Wrote %s\n", output);
        goto out;
    }
    figure_base(output, base, sizeof base);
    /* overlaps with the mean, Fisher, w(3) and clone predictions against time */
    static const int shown[4] = {HL_PERC_REF_MEAN, HL_PERC_REF_FISHER, HL_PERC_REF_W3,
                                 HL_PERC_REF_CLONE};
    double *cols = malloc(sizeof(double) * 4 * nt);
    if (!cols) {
        rc = theory_fail("perceptron", HL_ENOMEM);
        goto out;
    }
    hl_plot_series os[4];
    for (int k = 0; k < 4; k++) {
        for (size_t j = 0; j < nt; j++)
            cols[k * nt + j] = run->overlap[j * nr + shown[k]];
        os[k] = (hl_plot_series){hl_perc_ref_name(shown[k]), n_times - 1, times + 1, 1,
                                 cols + k * nt + 1};
    }
    snprintf(path, sizeof path, "%s_overlap", base);
    rc = hl_plot_curves(path, os, 4, "t = eta steps", 1, "cos(w, prediction)",
                        "perceptron: cos(w, each prediction)");
    free(cols);
    hl_plot_series es = {"trained perceptron", n_times - 1, times + 1, 1, run->test_error + 1};
    snprintf(path, sizeof path, "%s_error", base);
    if (!rc)
        rc = hl_plot_curves(path, &es, 1, "t = eta steps", 1, "test error",
                            "perceptron: test error");
    if (rc) {
        rc = theory_fail("perceptron", rc);
        goto out;
    }
    printf("Wrote %s and %s_overlap, %s_error (.png, .svg)\n", output, base, base);
out:
    hl_perc_run_free(run);
    hl_perc_expansion_free(ex);
    hl_perc_stats_free(st);
    free(X), free(y), free(Xt), free(yt), free(times);
    return rc;
}
