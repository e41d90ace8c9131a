/* theory_neuron.c — `hoclab theory neuron`: the single-neuron gradient flow on two
 * classes, run twice from the same start — with the classes' fourth cumulants
 * ("nlgp") and without them (their Gaussian clones, "gp") — and compared with the CP
 * factors of the mean cumulant. Shows what the higher-order statistics add to what the
 * covariances alone would teach the neuron. */
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

enum { MAX_RANK = 16 };

typedef struct neuron_run {
    hl_neuron_traj *tr;
    int status;
    char message[256];
    double *best;    /* n_times: largest overlap with any CP factor */
} neuron_run;

int theory_neuron(int argc, char **argv)
{
    const char *plus = "nlgp:L=32,xi=2,gain=3", *minus = "nlgp:L=32,xi=6,gain=3";
    const char *output = "neuron.h5";
    double bias = 1, time = 1, w0_scale = 0.1, t_min = 1e-3;
    int n_times = 40, rank = 4, samples = 0, sixth = 0, no_plot = 0;
    uint64_t seed = 1;
    opt_spec specs[] = {
        {"plus", OPT_STRING, &plus, .help = "class with label +1, \"name:key=value,...\""},
        {"minus", OPT_STRING, &minus, .help = "class with label -1"},
        {"bias", OPT_DOUBLE, &bias, -10, 10, .help = "fixed bias b of sigma(w.x + b)"},
        {"time", OPT_DOUBLE, &time, 0, 1e9, .open_min = 1, .help = "last time of the flow"},
        {"t-min", OPT_DOUBLE, &t_min, 0, 1e9, .open_min = 1,
         .help = "first (log-spaced) output time after t = 0"},
        {"n-times", OPT_INT, &n_times, 2, 100000, .help = "output times (t = 0 included)"},
        {"w0-scale", OPT_DOUBLE, &w0_scale, 0, 1e3, .open_min = 1,
         .help = "initial w_i ~ N(0, scale^2 / L)"},
        {"rank", OPT_INT, &rank, 1, MAX_RANK, .help = "CP factors of the mean cumulant"},
        {"sixth", OPT_CHOICE, &sixth, .choices = "closed|none",
         .help = "sixth moment closed at fourth order, or dropped (the paper's form)"},
        {"samples", OPT_INT, &samples, 0, 100000000,
         .help = "0: exact cumulants (periodic erf/sign nlgp); n >= 2: sampled"},
        {"seed", OPT_U64, &seed, .help = "seed of w0, the samples and the CP restarts"},
        {"output", OPT_STRING, &output, .help = "result file (.h5); figures next to it"},
        {"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the figures"},
    };
    const int ns = sizeof specs / sizeof *specs;
    int n_pos, rc = opt_parse("theory neuron", specs, ns, argc, argv, 3, NULL, 0, &n_pos);
    if (rc)
        return theory_usage("neuron", rc, "[--plus M:SPEC] [--minus M:SPEC] [--bias B]", specs,
                            ns);
    if (samples == 1 || t_min >= time) {
        fprintf(stderr, "hoclab theory neuron: %s\n",
                samples == 1 ? "--samples 1: accepted is 0 (exact) or 2..1e8"
                             : "--t-min must be below --time");
        return 2;
    }
    if (hl_io_check_writable(output))
        return theory_fail("neuron --output", HL_EINVAL);

    hl_param_values v[2];
    hl_cumulant4 *c[2] = {NULL, NULL};
    hl_neuron_stationary *cov[2] = {NULL, NULL};
    int n_parsed = 0, exact = 1;
    const char *text[2] = {plus, minus}, *flag[2] = {"plus", "minus"};
    for (int m = 0; m < 2; m++, n_parsed++)
        if ((rc = theory_parse_model("neuron", flag[m], text[m], &v[m])))
            goto out_models;
    for (int m = 0; m < 2; m++) {
        int ex;
        if ((rc = hl_cumulant4_model(&v[m], (size_t)samples, seed + m, &c[m], &ex))) {
            rc = theory_fail("neuron", rc);
            goto out_models;
        }
        exact &= ex;
        if (m == 1 && c[1]->L != c[0]->L) {
            fprintf(stderr, "hoclab theory neuron: --plus has L = %d, --minus L = %d: the "
                            "classes must live on the same ring\n", c[0]->L, c[1]->L);
            rc = 2;
            goto out_models;
        }
        if (!(cov[m] = hl_neuron_stationary_alloc(1, c[m]->L, 1, c[m]->c2))) {
            rc = theory_fail("neuron", HL_ENOMEM);
            goto out_models;
        }
    }
    const int L = c[0]->L;
    if (rank > L)
        rank = L;

    /* CP factors of the mean cumulant: the directions the flow is compared with */
    double *kmean = malloc(sizeof(double) * L * L * L), *w0 = malloc(sizeof(double) * L);
    double *times = malloc(sizeof(double) * n_times), *site = malloc(sizeof(double) * L);
    hl_cp_result *cp = hl_cp_result_alloc((size_t)L, rank);
    neuron_run run[2] = {{0}};
    if (!kmean || !w0 || !times || !site || !cp) {
        rc = theory_fail("neuron", hl_error_set(HL_ENOMEM, "out of memory (L = %d)", L));
        goto out;
    }
    for (size_t i = 0; i < (size_t)L * L * L; i++)
        kmean[i] = 0.5 * (c[0]->k4[i] + c[1]->k4[i]);
    hl_neuron_ring mean_ring = {L, kmean};
    hl_cp_options o;
    hl_cp_options_default(&o, rank);
    o.seed = seed;
    o.ftol = 1e-10;
    if ((rc = hl_cp_decompose((size_t)L, hl_neuron_ring_apply, &mean_ring, &o, cp))) {
        rc = theory_fail("neuron", rc);
        goto out;
    }

    gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER + 11);
    if (!r) {
        rc = theory_fail("neuron", HL_ENOMEM);
        goto out;
    }
    for (int i = 0; i < L; i++) {
        w0[i] = hl_rng_gaussian(r, w0_scale / sqrt(L));
        site[i] = i;
    }
    hl_rng_free(r);
    times[0] = 0;
    hl_neuron_log_times(t_min, time, (size_t)n_times - 1, times + 1);

    hl_neuron_ring ring[2] = {{L, c[0]->k4}, {L, c[1]->k4}};
    const char *run_name[2] = {"nlgp", "gp"};
    for (int g = 0; g < 2; g++) {
        hl_neuron_class cl[2];
        for (int m = 0; m < 2; m++)
            cl[m] = (hl_neuron_class){hl_neuron_stationary_apply, cov[m],
                                      g ? NULL : hl_neuron_ring_apply, g ? NULL : &ring[m]};
        hl_neuron_flow_params p;
        hl_neuron_flow_defaults(&p);
        p.D = (size_t)L;
        p.n_classes = 2;
        p.classes = cl;
        p.bias = bias;
        p.sixth = sixth ? HL_NEURON_SIXTH_NONE : HL_NEURON_SIXTH_CLOSED;
        p.rel_tol = 1e-8;
        p.abs_tol = 1e-12;
        run[g].status = hl_neuron_flow(&p, w0, times, (size_t)n_times, cp->u, (size_t)rank,
                                       &run[g].tr);
        snprintf(run[g].message, sizeof run[g].message, "%s",
                 run[g].status ? hl_error_message() : "ok");
        if (run[g].status && run[g].status != HL_EDIVERGED) {
            rc = theory_fail("neuron", run[g].status);
            goto out;
        }
        if (!run[g].tr) { /* blew up before the first output time */
            fprintf(stderr, "hoclab theory neuron (%s): %s\n", run_name[g], run[g].message);
            rc = 1;
            goto out;
        }
        hl_neuron_traj *tr = run[g].tr;
        run[g].best = malloc(sizeof(double) * n_times);
        if (!run[g].best) {
            rc = theory_fail("neuron", HL_ENOMEM);
            goto out;
        }
        for (int j = 0; j < n_times; j++) {
            double b = NAN;
            for (int k = 0; j < (int)tr->n_done && k < rank; k++)
                b = k ? fmax(b, tr->overlap[(size_t)j * rank + k]) : tr->overlap[(size_t)j * rank];
            run[g].best[j] = b;
        }
        size_t last = tr->n_done - 1;
        printf("%s: t = %.4g: IPR %.4f (start %.4f), q+ = %.4g, best CP overlap %.3f%s%s\n",
               g ? "gp (no cumulant)" : "nlgp (with cumulant)", tr->t[last], tr->ipr[last],
               tr->ipr[0], tr->q[last * 2], run[g].best[last],
               run[g].status ? " — stopped: " : "", run[g].status ? run[g].message : "");
    }

    /* rows past a blow-up are NaN in the file */
    for (int g = 0; g < 2; g++) {
        hl_neuron_traj *tr = run[g].tr;
        for (size_t j = tr->n_done; j < tr->n_times; j++) {
            tr->ipr[j] = tr->loss[j] = tr->loss_gauss[j] = NAN;
            for (int i = 0; i < L; i++)
                tr->w[j * L + i] = NAN;
            for (int m = 0; m < 2; m++)
                tr->q[j * 2 + m] = tr->k[j * 2 + m] = NAN;
            for (int k = 0; k < rank; k++)
                tr->overlap[j * rank + k] = NAN;
        }
    }
    char spec[2][4096], cmdline[4096], base[4096], path[4200];
    for (int m = 0; m < 2; m++)
        hl_model_spec(&v[m], spec[m], sizeof spec[m]);
    opt_command_line(argc, argv, cmdline, sizeof cmdline);
    size_t nt = (size_t)n_times, Ls = (size_t)L, rk = (size_t)rank;
    hl_h5_attr attrs[] = {
        {"plus_model", v[0].model->name}, {"plus_spec", spec[0]},
        {"minus_model", v[1].model->name}, {"minus_spec", spec[1]},
        {"method", exact ? "exact" : "sampled"}, {"n_samples", NULL, samples},
        {"bias", NULL, bias}, {"alpha", NULL, HL_CUBIC_ALPHA}, {"beta", NULL, HL_CUBIC_BETA},
        {"sixth", sixth ? "none" : "closed"}, {"seed", NULL, (double)seed}, {"L", NULL, L},
        {"nlgp/status", run[0].message}, {"nlgp/n_done", NULL, (double)run[0].tr->n_done},
        {"gp/status", run[1].message}, {"gp/n_done", NULL, (double)run[1].tr->n_done},
    };
    hl_h5_array arrays[] = {
        {"t", 1, {nt}, times},
        {"w0", 1, {Ls}, w0},
        {"cp/gamma", 1, {rk}, cp->gamma},
        {"cp/u", 2, {rk, Ls}, cp->u},
        {"nlgp/w", 2, {nt, Ls}, run[0].tr->w},
        {"nlgp/ipr", 1, {nt}, run[0].tr->ipr},
        {"nlgp/q", 2, {nt, 2}, run[0].tr->q},
        {"nlgp/k", 2, {nt, 2}, run[0].tr->k},
        {"nlgp/loss", 1, {nt}, run[0].tr->loss},
        {"nlgp/overlap", 2, {nt, rk}, run[0].tr->overlap},
        {"gp/w", 2, {nt, Ls}, run[1].tr->w},
        {"gp/ipr", 1, {nt}, run[1].tr->ipr},
        {"gp/q", 2, {nt, 2}, run[1].tr->q},
        {"gp/loss", 1, {nt}, run[1].tr->loss},
        {"gp/overlap", 2, {nt, rk}, run[1].tr->overlap},
    };
    if ((rc = hl_h5_write_arrays(output, "theory neuron", cmdline, attrs,
                                 sizeof attrs / sizeof *attrs, arrays,
                                 sizeof arrays / sizeof *arrays))) {
        rc = theory_fail("neuron", rc);
        goto out;
    }
    if (no_plot) {
        printf("Wrote %s\n", output);
        goto out;
    }
    figure_base(output, base, sizeof base);
    /* weights at the last recorded time, normalised, against the leading CP factor */
    double *shown = malloc(sizeof(double) * 3 * L);
    if (!shown) {
        rc = theory_fail("neuron", HL_ENOMEM);
        goto out;
    }
    for (int g = 0; g < 2; g++) {
        const double *w = run[g].tr->w + (run[g].tr->n_done - 1) * L;
        double n2 = 0;
        for (int i = 0; i < L; i++)
            n2 += w[i] * w[i];
        for (int i = 0; i < L; i++)
            shown[g * L + i] = n2 > 0 ? w[i] / sqrt(n2) : 0;
    }
    /* the factor (a translate of the others) nearest to the NLGP neuron, signed alike */
    const hl_neuron_traj *t0 = run[0].tr;
    const double *ov = t0->overlap + (t0->n_done - 1) * rank;
    int kb = 0;
    for (int k = 1; k < rank; k++)
        if (ov[k] > ov[kb])
            kb = k;
    double sgn = 0;
    for (int i = 0; i < L; i++)
        sgn += shown[i] * cp->u[(size_t)kb * L + i];
    for (int i = 0; i < L; i++)
        shown[2 * L + i] = (sgn < 0 ? -1 : 1) * cp->u[(size_t)kb * L + i];
    char cp_label[32];
    snprintf(cp_label, sizeof cp_label, "CP factor %d", kb + 1);
    hl_plot_series ws[3] = {{"NLGP", L, site, 1, shown},
                            {"GP clone", L, site, 1, shown + L},
                            {cp_label, L, site, 1, shown + 2 * L}};
    char title[256];
    snprintf(path, sizeof path, "%s_weights", base);
    snprintf(title, sizeof title, "single neuron (b = %g): w / |w| at the last time", bias);
    rc = hl_plot_curves(path, ws, 3, "site", 0, "weight", title);
    free(shown);
    hl_plot_series is[2] = {{"NLGP", n_times - 1, times + 1, 1, run[0].tr->ipr + 1},
                            {"GP clone", n_times - 1, times + 1, 1, run[1].tr->ipr + 1}};
    hl_plot_series os[2] = {{"NLGP", n_times - 1, times + 1, 1, run[0].best + 1},
                            {"GP clone", n_times - 1, times + 1, 1, run[1].best + 1}};
    snprintf(path, sizeof path, "%s_ipr", base);
    if (!rc)
        rc = hl_plot_curves(path, is, 2, "t", 1, "IPR of w", "single neuron: IPR of w");
    snprintf(path, sizeof path, "%s_overlap", base);
    if (!rc)
        rc = hl_plot_curves(path, os, 2, "t", 1, "max_k |w.u_k| / |w|",
                            "single neuron: overlap with the CP factors of dT");
    if (rc) {
        rc = theory_fail("neuron", rc);
        goto out;
    }
    printf("Wrote %s and %s_weights, %s_ipr, %s_overlap (.png, .svg)\n", output, base, base,
           base);
    /* a blow-up is a result, not a failure: it is recorded in the file */
out:
    for (int g = 0; g < 2; g++) {
        hl_neuron_traj_free(run[g].tr);
        free(run[g].best);
    }
    hl_cp_result_free(cp);
    free(kmean), free(w0), free(times), free(site);
out_models:
    for (int m = 0; m < 2; m++) {
        hl_cumulant4_free(c[m]);
        hl_neuron_stationary_free(cov[m]);
    }
    for (int m = 0; m < n_parsed; m++)
        hl_param_values_clear(&v[m]);
    return rc;
}
