/* theory.c — `hoclab theory cumulant|cp|neuron|ode|perceptron`: the theory behind
 * localisation, each computation written to HDF5 with its figures next to it.
 *
 *   cumulant    the ring covariance and fourth cumulant of a model (exact or sampled)
 *   cp          the CP factors of that cumulant, optionally along a parameter sweep
 *   neuron      the single-neuron gradient flow on two classes, with and without
 *               their fourth cumulants, against the CP factors
 *   ode, perceptron: see theory_dyn.c
 *
 * Models are given as "name:key=value,..." like `train --plus`; the library computes,
 * this file parses, arranges the arrays for the file and reports. */
#include "commands.h"
#include "theory_cli.h"

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/plot.h"
#include "hoclab/theory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int theory_parse_model(const char *cmd, const char *flag, const char *text,
                       hl_param_values *v)
{
    char name[64];
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), text);
    const hl_model *m = hl_model_find(name);
    if (!m) {
        hl_sampler_free(hl_model_create(name, "")); /* its message lists the models */
        fprintf(stderr, "hoclab theory %s --%s: %s\n", cmd, flag, hl_error_message());
        return 2;
    }
    if (hl_model_parse(m, colon ? colon + 1 : "", v)) {
        fprintf(stderr, "hoclab theory %s --%s: %s\n", cmd, flag, hl_error_message());
        return 2;
    }
    return 0;
}

int theory_fail(const char *cmd, int rc)
{
    char what[64];
    snprintf(what, sizeof what, "theory %s", cmd);
    return report_error(what, rc);
}

int theory_usage(const char *cmd, int rc, const char *usage, const opt_spec *specs, int ns)
{
    char what[64];
    snprintf(what, sizeof what, "theory %s", cmd);
    if (rc == 1)
        opt_help(what, usage, specs, ns);
    return rc == 1 ? 0 : rc;
}

/* u rolled so that its centre (hl_cp_ring_width) sits at site L / 2, for drawing
 * translated factors on top of each other. */
static void centred(const double *u, int L, double *out)
{
    double c = 0;
    if (hl_cp_ring_width(u, (size_t)L, &c, NULL) || !isfinite(c))
        c = 0;
    int shift = L / 2 - (int)lround(c);
    for (int i = 0; i < L; i++)
        out[((i + shift) % L + L) % L] = u[i];
}

/* ---- cumulant ---------------------------------------------------------------------- */

static int theory_cumulant(int argc, char **argv)
{
    const char *model = "nlgp:L=32,xi=3,gain=3", *output = "cumulant.h5";
    int samples = 0, no_plot = 0;
    uint64_t seed = 1;
    opt_spec specs[] = {
        {"model", OPT_STRING, &model, .help = "data model on a ring, \"name:key=value,...\""},
        {"samples", OPT_INT, &samples, 0, 100000000,
         .help = "0: exact (periodic erf/sign nlgp, gp); n >= 2: estimate from n samples"},
        {"seed", OPT_U64, &seed, .help = "seed of the samples"},
        {"output", OPT_STRING, &output, .help = "result file (.h5); figure next to it"},
        {"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the figure"},
    };
    const int ns = sizeof specs / sizeof *specs;
    int n_pos, rc = opt_parse("theory cumulant", specs, ns, argc, argv, 3, NULL, 0, &n_pos);
    if (rc)
        return theory_usage("cumulant", rc, "[--model NAME:SPEC] [--samples N]", specs, ns);
    if (samples == 1) {
        fprintf(stderr, "hoclab theory cumulant: --samples 1: accepted is 0 (exact) or 2..1e8\n");
        return 2;
    }
    if (hl_io_check_writable(output))
        return theory_fail("cumulant --output", HL_EINVAL);
    hl_param_values v;
    if ((rc = theory_parse_model("cumulant", "model", model, &v)))
        return rc;
    hl_cumulant4 *c = NULL;
    int exact;
    if ((rc = hl_cumulant4_model(&v, (size_t)samples, seed, &c, &exact))) {
        hl_param_values_clear(&v);
        return theory_fail("cumulant", rc);
    }
    const int L = c->L;
    size_t L3 = (size_t)L * L * L;
    char spec[4096], cmdline[4096], base[4096];
    hl_model_spec(&v, spec, sizeof spec);
    opt_command_line(argc, argv, cmdline, sizeof cmdline);
    /* the three slices a reader looks at first: dT(0,0,j,j), dT(0,0,0,j), dT(0,j,j,j) */
    double *slices = malloc(sizeof(double) * 3 * L), *lag = malloc(sizeof(double) * L);
    if (!slices || !lag) {
        rc = theory_fail("cumulant", hl_error_set(HL_ENOMEM, "out of memory (L = %d)", L));
        goto out;
    }
    for (int j = 0; j < L; j++) {
        lag[j] = j;
        slices[j] = c->k4[((size_t)0 * L + j) * L + j];
        slices[L + j] = c->k4[j];
        slices[2 * L + j] = c->k4[((size_t)j * L + j) * L + j];
    }
    double k0 = c->k4[0], kurt = k0 / (c->c2[0] * c->c2[0]);
    hl_h5_attr attrs[] = {{"model", v.model->name}, {"spec", spec},
                          {"method", exact ? "exact" : "sampled"},
                          {"n_samples", NULL, samples}, {"seed", NULL, (double)seed},
                          {"L", NULL, L}, {"marginal_excess_kurtosis", NULL, kurt}};
    hl_h5_array arrays[] = {
        {"c2", 1, {(size_t)L}, c->c2},
        {"m4", 3, {(size_t)L, (size_t)L, (size_t)L}, c->m4},
        {"k4", 3, {(size_t)L, (size_t)L, (size_t)L}, c->k4},
        {"k4_se", 3, {(size_t)L, (size_t)L, (size_t)L}, c->k4_se},
        {"slices/lag", 1, {(size_t)L}, lag},
        {"slices/k4_00jj", 1, {(size_t)L}, slices},
        {"slices/k4_000j", 1, {(size_t)L}, slices + L},
        {"slices/k4_0jjj", 1, {(size_t)L}, slices + 2 * L},
    };
    (void)L3;
    if ((rc = hl_h5_write_arrays(output, "theory cumulant", cmdline, attrs,
                                 sizeof attrs / sizeof *attrs, arrays,
                                 sizeof arrays / sizeof *arrays))) {
        rc = theory_fail("cumulant", rc);
        goto out;
    }
    printf("%s (%s): %s cumulant on a ring of L = %d%s\n", v.model->name, spec,
           exact ? "exact" : "sampled", L, exact ? "" : " (standard errors in k4_se)");
    printf("  C(0) = %.6g, dT(0,0,0,0) = %.6g: marginal excess kurtosis %.4g\n", c->c2[0], k0,
           kurt);
    if (!no_plot) {
        figure_base(output, base, sizeof base);
        hl_plot_series s[3] = {{"dT(0,0,j,j)", L, lag, 1, slices},
                               {"dT(0,0,0,j)", L, lag, 1, slices + L},
                               {"dT(0,j,j,j)", L, lag, 1, slices + 2 * L}};
        char title[512];
        snprintf(title, sizeof title, "fourth cumulant of %s (%s)", v.model->name,
                 exact ? "exact" : "sampled");
        if ((rc = hl_plot_curves(base, s, 3, "lag j (sites)", 0, "cumulant", title))) {
            rc = theory_fail("cumulant", rc);
            goto out;
        }
        printf("Wrote %s and %s.png, %s.svg\n", output, base, base);
    } else {
        printf("Wrote %s\n", output);
    }
out:
    free(slices);
    free(lag);
    hl_cumulant4_free(c);
    hl_param_values_clear(&v);
    return rc;
}

/* ---- cp ---------------------------------------------------------------------------- */

enum { MAX_SWEEP = 32 };

/* "key=v1,v2,..." into key and values. */
static int parse_sweep(const char *text, char *key, size_t size, double *vals, int *n)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text || (size_t)(eq - text) >= size)
        return -1;
    snprintf(key, size, "%.*s", (int)(eq - text), text);
    *n = 0;
    const char *s = eq + 1;
    while (*s) {
        char *end;
        double x = strtod(s, &end);
        if (end == s || !isfinite(x) || *n == MAX_SWEEP || (*end && *end != ','))
            return -1;
        vals[(*n)++] = x;
        s = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

static int theory_cp(int argc, char **argv)
{
    const char *model = "nlgp:L=32,xi=3,gain=3", *output = "cp.h5", *sweep = NULL, *rf = NULL;
    int samples = 0, rank = 4, restarts = 8, no_plot = 0;
    uint64_t seed = 1;
    opt_spec specs[] = {
        {"model", OPT_STRING, &model, .help = "data model on a ring, \"name:key=value,...\""},
        {"rank", OPT_INT, &rank, 1, 64, .help = "CP factors to extract"},
        {"restarts", OPT_INT, &restarts, 1, 1000, .help = "random starts per factor"},
        {"sweep", OPT_STRING, &sweep,
         .help = "decompose along a parameter of the model, \"key=v1,v2,...\" (<= 32)"},
        {"samples", OPT_INT, &samples, 0, 100000000,
         .help = "0: exact cumulant (periodic erf/sign nlgp); n >= 2: sampled"},
        {"seed", OPT_U64, &seed, .help = "seed of the samples and of the restarts"},
        {"rf", OPT_STRING, &rf,
         .help = "a `hoclab train` result on the same ring: its receptive fields' widths too"},
        {"output", OPT_STRING, &output, .help = "result file (.h5); figures next to it"},
        {"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the figures"},
    };
    const int ns = sizeof specs / sizeof *specs;
    int n_pos, rc = opt_parse("theory cp", specs, ns, argc, argv, 3, NULL, 0, &n_pos);
    if (rc)
        return theory_usage("cp", rc, "[--model NAME:SPEC] [--rank R] [--sweep KEY=V1,V2]",
                            specs, ns);
    char key[64] = "", spec0[4096];
    double vals[MAX_SWEEP];
    int nv = 1;
    if (sweep && parse_sweep(sweep, key, sizeof key, vals, &nv)) {
        fprintf(stderr, "hoclab theory cp --sweep '%s': expected KEY=V1,V2,... (1..%d numbers)\n",
                sweep, MAX_SWEEP);
        return 2;
    }
    if (samples == 1) {
        fprintf(stderr, "hoclab theory cp: --samples 1: accepted is 0 (exact) or 2..1e8\n");
        return 2;
    }
    if (hl_io_check_writable(output))
        return theory_fail("cp --output", HL_EINVAL);
    hl_param_values v0;
    if ((rc = theory_parse_model("cp", "model", model, &v0)))
        return rc;
    if (sweep && hl_model_param_index(v0.model, key) < 0) {
        fprintf(stderr, "hoclab theory cp --sweep: %s has no parameter '%s'\n",
                v0.model->name, key);
        hl_param_values_clear(&v0);
        return 2;
    }
    hl_model_spec(&v0, spec0, sizeof spec0);
    const char *mname = v0.model->name;
    hl_train_config *rcfg = NULL;
    hl_train_result *rres = NULL;
    int n_rf = 0;
    double *rf_stats = NULL; /* per run: K ipr, K centre, K width */
    if (rf && (rc = hl_h5_read_train(rf, &rcfg, &rres, &n_rf))) {
        fprintf(stderr, "hoclab theory cp --rf: %s\n", hl_error_message());
        hl_param_values_clear(&v0);
        return 2;
    }
    int L = 0;
    double *gamma = NULL, *U = NULL, *ipr = NULL, *width = NULL, *centre = NULL, *conv = NULL,
           *kurt = NULL, *err = NULL, *shown = NULL, *site = NULL;
    for (int s = 0; s < nv; s++) {
        hl_param_values v;
        char spec[4200];
        if (sweep)
            snprintf(spec, sizeof spec, "%s,%s=%.17g", spec0, key, vals[s]);
        else
            snprintf(spec, sizeof spec, "%s", spec0);
        if (hl_model_parse(v0.model, spec, &v)) {
            fprintf(stderr, "hoclab theory cp --sweep: %s\n", hl_error_message());
            rc = 2;
            goto out;
        }
        hl_cumulant4 *c = NULL;
        int exact;
        rc = hl_cumulant4_model(&v, (size_t)samples, seed, &c, &exact);
        hl_param_values_clear(&v);
        if (rc) {
            rc = theory_fail("cp", rc);
            goto out;
        }
        if (s == 0) {
            L = c->L;
            if (rank > L) {
                fprintf(stderr, "hoclab theory cp --rank %d: accepted range is 1..L = %d\n",
                        rank, L);
                hl_cumulant4_free(c);
                rc = 2;
                goto out;
            }
            size_t nr = (size_t)nv * rank;
            gamma = calloc(nr, sizeof *gamma), U = calloc(nr * L, sizeof *U);
            ipr = calloc(nr, sizeof *ipr), width = calloc(nr, sizeof *width);
            centre = calloc(nr, sizeof *centre), conv = calloc(nr, sizeof *conv);
            kurt = calloc(nv, sizeof *kurt), err = calloc(nv, sizeof *err);
            shown = calloc((size_t)nv * L, sizeof *shown), site = calloc(L, sizeof *site);
            if (!gamma || !U || !ipr || !width || !centre || !conv || !kurt || !err || !shown ||
                !site) {
                hl_cumulant4_free(c);
                rc = theory_fail("cp", hl_error_set(HL_ENOMEM, "out of memory"));
                goto out;
            }
        }
        hl_cp_options o;
        hl_cp_options_default(&o, rank);
        o.restarts = restarts;
        o.seed = seed;
        o.ftol = 1e-10; /* translation-invariant tensor: see hl_cp_options */
        hl_cp_result *res = hl_cp_result_alloc((size_t)L, rank);
        hl_neuron_ring ring = {L, c->k4};
        rc = res ? hl_cp_decompose((size_t)L, hl_neuron_ring_apply, &ring, &o, res) : HL_ENOMEM;
        kurt[s] = c->k4[0] / (c->c2[0] * c->c2[0]);
        err[s] = NAN;
        if (!rc && L <= 40) { /* the dense tensor for the reconstruction error */
            double *T = malloc(sizeof(double) * (size_t)L * L * L * L);
            if (T) {
                hl_cumulant4_expand(L, c->k4, T);
                hl_cp_reconstruction_error(T, res, &err[s]);
                free(T);
            }
        }
        hl_cumulant4_free(c);
        if (rc) {
            hl_cp_result_free(res);
            rc = theory_fail("cp", rc);
            goto out;
        }
        for (int k = 0; k < rank; k++) {
            size_t j = (size_t)s * rank + k;
            gamma[j] = res->gamma[k];
            memcpy(U + j * L, res->u + (size_t)k * L, sizeof(double) * L);
            ipr[j] = hl_cp_ipr(res->u + (size_t)k * L, (size_t)L);
            if (hl_cp_ring_width(res->u + (size_t)k * L, (size_t)L, &centre[j], &width[j]))
                centre[j] = width[j] = NAN;
            conv[j] = res->converged[k];
        }
        centred(res->u, L, shown + (size_t)s * L);
        char at[96] = "";
        if (sweep)
            snprintf(at, sizeof at, " %s = %g", key, vals[s]);
        printf("%s%s: gamma_1 = %.4g, IPR %.3f, width %.3g sites, rel. error %.3g%s\n", mname,
               at, gamma[(size_t)s * rank], ipr[(size_t)s * rank], width[(size_t)s * rank],
               err[s], res->converged[0] ? "" : " (factor 1 not converged)");
        hl_cp_result_free(res);
    }
    for (int i = 0; i < L; i++)
        site[i] = i;
    int Krf = n_rf ? rcfg[0].net.K : 0;
    for (int i = 0; i < n_rf; i++)
        if (rcfg[i].dim != 1 || hl_train_D(&rcfg[i]) != (size_t)L || rres[i].W == NULL) {
            fprintf(stderr, "hoclab theory cp --rf %s: run %d is not a ring of L = %d (dim %d, "
                            "D = %zu)\n", rf, i, L, rcfg[i].dim, hl_train_D(&rcfg[i]));
            rc = 2;
            goto out;
        }
    if (n_rf && !(rf_stats = malloc(sizeof(double) * 3 * Krf * n_rf))) {
        rc = theory_fail("cp", HL_ENOMEM);
        goto out;
    }
    for (int i = 0; i < n_rf; i++) {
        double *st = rf_stats + (size_t)3 * Krf * i, med[64];
        hl_rf_ring_widths(rres[i].W, (size_t)Krf, (size_t)L, st, st + Krf, st + 2 * Krf);
        /* the localised units: IPR above twice a random vector's 3/L */
        int nl = 0;
        for (int k = 0; k < Krf && nl < 64; k++)
            if (st[k] > 6.0 / L)
                med[nl++] = st[2 * Krf + k];
        for (int a = 1; a < nl; a++) /* insertion sort, a handful of units */
            for (int b = a; b > 0 && med[b] < med[b - 1]; b--) {
                double x = med[b];
                med[b] = med[b - 1], med[b - 1] = x;
            }
        printf("trained RFs (%s, %s): %d of %d units localised (IPR > 6/L)%s", rf,
               hl_train_run_name(&rcfg[i]), nl, Krf, nl ? ", median width " : "\n");
        if (nl)
            printf("%.3g sites\n", nl % 2 ? med[nl / 2] : 0.5 * (med[nl / 2 - 1] + med[nl / 2]));
    }
    char cmdline[4096], base[4096], path[4200];
    opt_command_line(argc, argv, cmdline, sizeof cmdline);
    if (!sweep)
        vals[0] = NAN;
    size_t nvs = (size_t)nv, rk = (size_t)rank, Ls = (size_t)L;
    hl_h5_attr attrs[] = {{"model", mname}, {"spec", spec0}, {"sweep_key", key},
                          {"method", samples ? "sampled" : "exact"},
                          {"n_samples", NULL, samples}, {"rank", NULL, rank},
                          {"restarts", NULL, restarts}, {"seed", NULL, (double)seed},
                          {"L", NULL, L}};
    hl_h5_array arrays[] = {
        {"sweep_values", 1, {nvs}, vals},
        {"gamma", 2, {nvs, rk}, gamma},
        {"u", 3, {nvs, rk, Ls}, U},
        {"ipr", 2, {nvs, rk}, ipr},
        {"width", 2, {nvs, rk}, width},
        {"centre", 2, {nvs, rk}, centre},
        {"converged", 2, {nvs, rk}, conv},
        {"marginal_excess_kurtosis", 1, {nvs}, kurt},
        {"relative_error", 1, {nvs}, err},
        {"u1_centred", 2, {nvs, Ls}, shown},
    };
    enum { N_CP_ARRAYS = sizeof arrays / sizeof *arrays };
    hl_h5_array all[N_CP_ARRAYS + 3 * 2];
    char rf_names[2][3][64];
    int na = N_CP_ARRAYS;
    memcpy(all, arrays, sizeof arrays);
    for (int i = 0; i < n_rf && i < 2; i++)
        for (int q = 0; q < 3; q++) {
            static const char *what[3] = {"ipr", "centre", "width"};
            snprintf(rf_names[i][q], sizeof rf_names[i][q], "rf/%s/%s",
                     hl_train_run_name(&rcfg[i]), what[q]);
            all[na++] = (hl_h5_array){rf_names[i][q], 1, {(size_t)Krf},
                                      rf_stats + (size_t)3 * Krf * i + (size_t)q * Krf};
        }
    if ((rc = hl_h5_write_arrays(output, "theory cp", cmdline, attrs,
                                 sizeof attrs / sizeof *attrs, all, na))) {
        rc = theory_fail("cp", rc);
        goto out;
    }
    if (no_plot) {
        printf("Wrote %s\n", output);
        goto out;
    }
    figure_base(output, base, sizeof base);
    hl_plot_series fs[MAX_SWEEP];
    char labels[MAX_SWEEP][128], title[512];
    int nf = nv < 16 ? nv : 16;
    for (int s = 0; s < nf; s++) {
        if (sweep)
            snprintf(labels[s], sizeof labels[s], "%s = %g", key, vals[s]);
        else
            snprintf(labels[s], sizeof labels[s], "factor 1");
        fs[s] = (hl_plot_series){labels[s], L, site, 1, shown + (size_t)s * L};
    }
    snprintf(path, sizeof path, "%s_factors", base);
    snprintf(title, sizeof title, "leading CP factor of dT, centred (%s)", mname);
    if ((rc = hl_plot_curves(path, fs, nf, "site", 0, "u_1", title))) {
        rc = theory_fail("cp", rc);
        goto out;
    }
    printf("Wrote %s and %s.png, .svg", output, path);
    if (sweep && nv > 1) {
        /* IPR and width of the leading factors along the sweep */
        double *col = malloc(sizeof(double) * 2 * nvs * rk);
        if (!col) {
            rc = theory_fail("cp", hl_error_set(HL_ENOMEM, "out of memory"));
            goto out;
        }
        int nk = rank < 4 ? rank : 4, logx = vals[0] > 0;
        for (int s = 1; s < nv; s++)
            logx &= vals[s] > 0;
        hl_plot_series is[4], ws[4];
        char kl[4][32];
        for (int k = 0; k < nk; k++) {
            snprintf(kl[k], sizeof kl[k], "factor %d", k + 1);
            for (int s = 0; s < nv; s++) {
                col[k * nvs + s] = ipr[(size_t)s * rank + k];
                col[(nk + k) * nvs + s] = width[(size_t)s * rank + k];
            }
            is[k] = (hl_plot_series){kl[k], nv, vals, 1, col + k * nvs};
            ws[k] = (hl_plot_series){kl[k], nv, vals, 1, col + (nk + k) * nvs};
        }
        snprintf(path, sizeof path, "%s_ipr", base);
        snprintf(title, sizeof title, "CP factors' IPR along %s (%s)", key, mname);
        rc = hl_plot_curves(path, is, nk, key, logx, "IPR", title);
        snprintf(path, sizeof path, "%s_width", base);
        snprintf(title, sizeof title, "CP factors' width along %s (%s)", key, mname);
        if (!rc)
            rc = hl_plot_curves(path, ws, nk, key, logx, "width (sites)", title);
        free(col);
        if (rc) {
            rc = theory_fail("cp", rc);
            goto out;
        }
        printf(", %s_ipr and %s_width", base, base);
    }
    printf("\n");
out:
    free(gamma), free(U), free(ipr), free(width), free(centre), free(conv);
    free(kurt), free(err), free(shown), free(site), free(rf_stats);
    if (n_rf)
        hl_h5_train_free(rcfg, rres, n_rf);
    hl_param_values_clear(&v0);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *what;
} subs[] = {
    {"cumulant", theory_cumulant, "covariance and fourth cumulant of a model on a ring"},
    {"cp", theory_cp, "CP factors of the fourth cumulant (along a parameter sweep)"},
    {"neuron", theory_neuron, "single-neuron gradient flow with and without the cumulant"},
    {"ode", theory_ode, "Gaussian-equivalent ODEs of online SGD against simulation"},
    {"perceptron", theory_perceptron, "perceptron expansion of the simplicity bias"},
};

int cmd_theory(int argc, char **argv)
{
    const int n = sizeof subs / sizeof *subs;
    if (argc >= 3)
        for (int i = 0; i < n; i++)
            if (strcmp(argv[2], subs[i].name) == 0)
                return subs[i].run(argc, argv);
    int help = argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
    FILE *out = help ? stdout : stderr;
    if (argc >= 3 && !help)
        fprintf(stderr, "hoclab theory: unknown computation '%s'\n", argv[2]);
    fprintf(out, "usage: hoclab theory COMPUTATION [--flags]\n");
    for (int i = 0; i < n; i++)
        fprintf(out, "  %-11s %s\n", subs[i].name, subs[i].what);
    return help ? 0 : 2;
}
