/* theory_ode.c — `hoclab theory ode`: the Gaussian-equivalent ODEs of online SGD
 * (GET) against simulation. Trains the network of `hoclab train` on the NLGP task and
 * on its Gaussian clone, integrates the GET equations from the same initial network
 * (the two tasks share their covariances, so GET gives one prediction for both), and
 * puts test error and IPR of all three on one figure each: GET follows the clone, and
 * the NLGP at early times, but its weights never localise. */
#include "commands.h"
#include "theory_cli.h"

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/plot.h"
#include "hoclab/theory.h"
#include "hoclab/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int theory_ode(int argc, char **argv)
{
    hl_train_config c = hl_train_defaults();
    data_flags d = data_flags_defaults();
    const char *output = "ode.h5";
    int mode = c.net.mode, act = c.net.act, bias = c.net.bias, n_test = (int)c.n_test;
    int points = 2048, no_noise = 0, threads = 0, no_plot = 0;
    c.time = 1000;
    c.n_meas = 30;
    opt_spec specs[DATA_SPECS + 18];
    int n = data_specs(&d, specs);
    const opt_spec more[] = {
        {"K", OPT_INT, &c.net.K, 1, HL_GET_MAX_K, .help = "hidden units"},
        {"model", OPT_CHOICE, &mode, .choices = "2layer|mf|lazy",
         .help = "2layer: v trained (lr/D); mf: v = 1, norm K; lazy: v = 1, norm sqrt K"},
        {"activation", OPT_CHOICE, &act, .choices = "erf|relu|tanh|linear|cubic",
         .help = "erf, tanh, linear or cubic (relu has no GET here: g'' is singular)"},
        {"bias", OPT_CHOICE, &bias, .choices = "none|trainable|fixed",
         .help = "none: b = 0; trainable: init +-1; fixed: +-bias-value, frozen"},
        {"bias-value", OPT_DOUBLE, &c.net.bias_value, 0, 1e6, .help = "b for --bias fixed"},
        {"lr", OPT_DOUBLE, &c.net.lr, 0, 1e6, .open_min = 1, .help = "learning rate"},
        {"bs", OPT_INT, &c.batch, 1, 65536, .help = "batch size"},
        {"time", OPT_DOUBLE, &c.time, 0, 1e9, .open_min = 1, .help = "horizon t = steps / D"},
        {"std0w", OPT_DOUBLE, &c.net.std0w, 0, 1e3, .help = "initial first-layer weight std"},
        {"std0v", OPT_DOUBLE, &c.net.std0v, 0, 1e3, .help = "initial readout std (2layer)"},
        {"test-samples", OPT_INT, &n_test, 1, 10000000, .help = "simulation's test samples"},
        {"n-meas", OPT_INT, &c.n_meas, 2, 100000, .help = "measurement times (log-spaced)"},
        {"points", OPT_INT, &points, 2, 1 << 24,
         .help = "quasi-Monte-Carlo points of the GET expectations (even)"},
        {"no-noise", OPT_FLAG, &no_noise, .help = "drop GET's O(lr^2) SGD-noise term"},
        {"threads", OPT_INT, &threads, 0, 1024, .help = "threads of the simulations (0: all)"},
        {"output", OPT_STRING, &output, .help = "result file (.h5); figures next to it"},
        {"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the figures"},
    };
    memcpy(specs + n, more, sizeof more);
    n += sizeof more / sizeof *more;
    int n_pos, rc = opt_parse("theory ode", specs, n, argc, argv, 3, NULL, 0, &n_pos);
    if (rc)
        return theory_usage("ode", rc, "[train's task and network flags]", specs, n);
    if ((rc = data_flags_finish("theory ode", &d)))
        return rc;
    if (points % 2 || act == HL_ACT_RELU) {
        fprintf(stderr, "hoclab theory ode: %s\n",
                act == HL_ACT_RELU ? "--activation relu: accepted are erf, tanh, linear, cubic"
                                   : "--points: must be even (points are used in +-z pairs)");
        return 2;
    }
    c.n_test = (size_t)n_test;
    c.net.mode = mode;
    c.net.act = act;
    c.net.bias = bias;
    data_flags_apply(&d, &c);
    c.n_snap = 0;
    hl_train_config cfg[2] = {c, c};
    cfg[0].input = HL_INPUT_NLGP;
    cfg[1].input = HL_INPUT_GP;
    if ((rc = hl_train_validate(&cfg[0])))
        return theory_fail("ode", rc);
    if (hl_io_check_writable(output))
        return theory_fail("ode --output", HL_EINVAL);

    hl_get_setup *s = NULL;
    hl_get_traj *tr = NULL;
    hl_train_result res[2];
    int status[2], have_res = 0, get_status;
    double *sim[2][2] = {{NULL, NULL}, {NULL, NULL}}; /* [run][error, ipr]: NaN past a stop */
    if ((rc = hl_get_setup_from_train(&cfg[0], &s)))
        return theory_fail("ode", rc);
    s->params.n_points = (size_t)points;
    s->params.noise = !no_noise;
    if ((rc = hl_get_validate(&s->params))) {
        rc = theory_fail("ode", rc);
        goto out;
    }
    if ((rc = hl_train_runs(cfg, 2, threads, res, status, NULL, NULL))) {
        rc = theory_fail("ode", rc);
        goto out;
    }
    have_res = 1;
    const int K = c.net.K, nm = res[0].n_planned;
    get_status = hl_get_run(&s->params, res[0].t, (size_t)nm, &tr);
    char get_msg[256];
    snprintf(get_msg, sizeof get_msg, "%s", get_status ? hl_error_message() : "ok");
    if (get_status && !(get_status == HL_EDIVERGED && tr)) {
        rc = theory_fail("ode", get_status);
        goto out;
    }
    /* rows past a stop are NaN in the file and the figures */
    for (size_t j = tr->n_done; j < (size_t)nm; j++) {
        tr->test_error[j] = tr->test_loss[j] = NAN;
        for (int k = 0; k < K; k++)
            tr->ipr[j * K + k] = NAN;
    }
    for (int i = 0; i < 2; i++) {
        sim[i][0] = malloc(sizeof(double) * nm);
        sim[i][1] = malloc(sizeof(double) * nm * K);
        if (!sim[i][0] || !sim[i][1]) {
            rc = theory_fail("ode", HL_ENOMEM);
            goto free_sim;
        }
        for (int j = 0; j < nm; j++) {
            sim[i][0][j] = j < res[i].n_meas ? res[i].test_error[j] : NAN;
            for (int k = 0; k < K; k++)
                sim[i][1][j * K + k] = j < res[i].n_meas ? res[i].ipr[j * K + k] : NAN;
        }
    }
    int last = (int)tr->n_done - 1;
    double ipr_get = 0, ipr_sim[2] = {0};
    for (int k = 0; k < K; k++) {
        ipr_get += tr->ipr[(size_t)last * K + k] / K;
        for (int i = 0; i < 2; i++)
            ipr_sim[i] += res[i].ipr[(size_t)(res[i].n_meas - 1) * K + k] / K;
    }
    printf("GET against simulation, L = %d, xi = (%g, %g), gain %g, K = %d, t = %g:\n", c.L,
           c.xi_plus, c.xi_minus, c.gain, K, c.time);
    printf("  %-18s %11s %9s\n", "", "test error", "mean IPR");
    printf("  %-18s %11.4f %9.4f\n", "simulation, NLGP", res[0].test_error[res[0].n_meas - 1],
           ipr_sim[0]);
    printf("  %-18s %11.4f %9.4f\n", "simulation, GP", res[1].test_error[res[1].n_meas - 1],
           ipr_sim[1]);
    printf("  %-18s %11.4f %9.4f   (%ld evaluations%s%s)\n", "GET", tr->test_error[last],
           ipr_get, tr->n_evals, get_status ? "; stopped: " : "", get_status ? get_msg : "");

    char cmdline[4096], base[4096], path[4200];
    opt_command_line(argc, argv, cmdline, sizeof cmdline);
    size_t nt = (size_t)nm, Ks = (size_t)K, D = tr->D;
    hl_h5_attr attrs[] = {
        {"dim", NULL, c.dim}, {"L", NULL, c.L}, {"xi_plus", NULL, c.xi_plus},
        {"xi_minus", NULL, c.xi_minus}, {"gain", NULL, c.gain}, {"K", NULL, K},
        {"model", hl_mode_name(c.net.mode)}, {"activation", hl_act_name(c.net.act)},
        {"bias", hl_bias_name(c.net.bias)}, {"lr", NULL, c.net.lr}, {"batch", NULL, c.batch},
        {"seed", NULL, (double)c.seed}, {"get/points", NULL, points},
        {"get/noise", NULL, !no_noise}, {"get/status", get_msg},
        {"get/n_evals", NULL, (double)tr->n_evals},
        {"sim_nlgp/status", res[0].status ? res[0].message : "ok"},
        {"sim_gp/status", res[1].status ? res[1].message : "ok"},
    };
    hl_h5_array arrays[] = {
        {"t", 1, {nt}, res[0].t},
        {"get/test_error", 1, {nt}, tr->test_error},
        {"get/test_loss", 1, {nt}, tr->test_loss},
        {"get/ipr", 2, {nt, Ks}, tr->ipr},
        {"get/Q_plus", 3, {nt, Ks, Ks}, tr->Q_plus},
        {"get/Q_minus", 3, {nt, Ks, Ks}, tr->Q_minus},
        {"get/v", 2, {nt, Ks}, tr->v},
        {"get/b", 2, {nt, Ks}, tr->b},
        {"get/W_mean_final", 2, {Ks, D}, tr->W_mean + (size_t)last * Ks * D},
        {"sim_nlgp/test_error", 1, {nt}, sim[0][0]},
        {"sim_nlgp/ipr", 2, {nt, Ks}, sim[0][1]},
        {"sim_gp/test_error", 1, {nt}, sim[1][0]},
        {"sim_gp/ipr", 2, {nt, Ks}, sim[1][1]},
    };
    if ((rc = hl_h5_write_arrays(output, "theory ode", cmdline, attrs,
                                 sizeof attrs / sizeof *attrs, arrays,
                                 sizeof arrays / sizeof *arrays))) {
        rc = theory_fail("ode", rc);
        goto free_sim;
    }
    if (no_plot) {
        printf("Wrote %s\n", output);
        goto free_sim;
    }
    figure_base(output, base, sizeof base);
    hl_plot_series es[3] = {{"NLGP", nm, res[0].t, 1, sim[0][0]},
                            {"GP clone", nm, res[0].t, 1, sim[1][0]},
                            {"GET", nm, res[0].t, 1, tr->test_error}};
    hl_plot_series is[3] = {{"NLGP", nm, res[0].t, K, sim[0][1]},
                            {"GP clone", nm, res[0].t, K, sim[1][1]},
                            {"GET", nm, res[0].t, K, tr->ipr}};
    snprintf(path, sizeof path, "%s_error", base);
    rc = hl_plot_timeseries(path, es, 3, "test error", "test error: simulation (NLGP, clone) and GET");
    snprintf(path, sizeof path, "%s_ipr", base);
    if (!rc)
        rc = hl_plot_ipr(path, is, 3, 3.0 / (double)D, "IPR: simulation (NLGP, clone) and GET mean weights");
    if (rc)
        rc = theory_fail("ode", rc);
    else
        printf("Wrote %s and %s_error, %s_ipr (.png, .svg)\n", output, base, base);
free_sim:
    for (int i = 0; i < 2; i++)
        free(sim[i][0]), free(sim[i][1]);
out:
    if (have_res)
        for (int i = 0; i < 2; i++)
            hl_train_result_free(&res[i]);
    hl_get_traj_free(tr);
    hl_get_setup_free(s);
    return rc;
}
