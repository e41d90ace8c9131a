/* reproduce.c — `hoclab reproduce NAME`: the research line's experiments by name, at a
 * size that finishes on a 2-core machine (`--full`: the published scale). Each is a
 * sweep of trainer runs (hl_sweep_run: every point saved as it finishes, resumable),
 * summarised over seeds (hl_sweep_average) into NAME.h5 and figures in the output
 * folder, with a verdict next to what the literature reports.
 *
 *   gain-sweep      final IPR and test error against the gain g, NLGP vs its clone
 *   kurtosis-sweep  final IPR against the inputs' marginal excess kurtosis (NORTA) */
#include "commands.h"
#include "reproduce.h"

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/plot.h"
#include "hoclab/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_SEEDS = 100 };

typedef reproduce_opts common;

static void progress(void *user, int done, int total)
{
    (void)user;
    fprintf(stderr, "\r%d of %d runs done   ", done, total);
    if (done == total)
        fprintf(stderr, "\n");
}

/* The output folder (and its parents) and its points/ subfolder, created if missing. */
static int make_dirs(const char *cmd, const char *dir)
{
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/points", dir) >= sizeof path) {
        fprintf(stderr, "hoclab reproduce %s --output-dir: the path is too long\n", cmd);
        return 2;
    }
    for (char *q = path + 1; ; q++) {
        if (*q != '/' && *q != 0)
            continue;
        char c = *q;
        *q = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "hoclab reproduce %s --output-dir: cannot create '%s': %s\n", cmd,
                    path, strerror(errno));
            return 2;
        }
        *q = c;
        if (!c)
            return 0;
    }
}

/* Train every point (resuming), then average over seeds; paths are made here. */
int reproduce_run_points(const char *cmd, const common *o, hl_train_config *cfg,
                         char (*names)[128], int n, const char *cmdline, hl_sweep_point *pts)
{
    char (*paths)[4096] = malloc(sizeof *paths * n);
    const char **pp = malloc(sizeof *pp * n);
    if (!paths || !pp) {
        free(paths), free(pp);
        return report_error(cmd, hl_error_set(HL_ENOMEM, "out of memory"));
    }
    for (int i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/points/%s.h5", o->dir, names[i]);
        pp[i] = paths[i];
    }
    int show = !o->quiet && isatty(STDERR_FILENO);
    int rc = hl_sweep_run(cfg, pp, n, o->threads, cmdline, pts, show ? progress : NULL, NULL);
    free(paths), free(pp);
    if (rc)
        return report_error(cmd, rc);
    int resumed = 0;
    for (int i = 0; i < n; i++)
        resumed += pts[i].resumed;
    if (resumed)
        printf("(%d of %d points read back from %s/points: a resumed sweep)\n", resumed, n,
               o->dir);
    return 0;
}

/* ---- gain-sweep ---------------------------------------------------------------------- */

static int gain_sweep(const common *o, const char *cmdline)
{
    static const double gains_small[] = {0.3, 1, 3, 10, 30};
    static const double gains_full[] = {0.1, 0.3, 1, 3, 10, 30, 100};
    static const double xis_small[][2] = {{2, 6}, {1, 3}};
    static const double xis_full[][2] = {{2, 6}, {1, 3}, {4, 12}};
    const double *gains = o->full ? gains_full : gains_small;
    const double(*xis)[2] = o->full ? xis_full : xis_small;
    int ng = o->full ? 7 : 5, nx = o->full ? 3 : 2, S = o->seeds;
    int n = 2 * nx * ng * S; /* input, xi pair, gain, seed: the seeds innermost */
    hl_train_config *cfg = malloc(sizeof *cfg * n);
    char(*names)[128] = malloc(sizeof *names * n);
    hl_sweep_point *pts = malloc(sizeof *pts * n);
    hl_sweep_stats *st = malloc(sizeof *st * (n / S));
    double *cols = malloc(sizeof(double) * 6 * (n / S));
    int rc = 0;
    if (!cfg || !names || !pts || !st || !cols) {
        rc = report_error("reproduce gain-sweep", HL_ENOMEM);
        goto out;
    }
    for (int in = 0, i = 0; in < 2; in++)
        for (int x = 0; x < nx; x++)
            for (int g = 0; g < ng; g++)
                for (int s = 0; s < S; s++, i++) {
                    hl_train_config c = hl_train_defaults();
                    c.input = in ? HL_INPUT_GP : HL_INPUT_NLGP;
                    c.L = o->L;
                    c.net.K = o->K;
                    c.time = o->time;
                    c.xi_plus = xis[x][0];
                    c.xi_minus = xis[x][1];
                    c.gain = gains[g];
                    c.seed = (uint64_t)s + 1;
                    c.n_snap = 0;
                    c.n_meas = 20;
                    cfg[i] = c;
                    snprintf(names[i], sizeof names[i], "%s_xi%g-%g_g%g_s%d", in ? "gp" : "nlgp",
                             xis[x][0], xis[x][1], gains[g], s + 1);
                }
    if ((rc = reproduce_run_points("reproduce gain-sweep", o, cfg, names, n, cmdline, pts)))
        goto out;
    hl_sweep_average(pts, n / S, S, st);

    const int G = nx * ng; /* grid points per input */
    printf("\ngain-sweep: L = %d, K = %d, t = %g, %d seeds; final mean IPR (3/D = %.4f) and "
           "test error, mean ± SE over seeds\n", o->L, o->K, o->time, S, 3.0 / o->L);
    printf("  %-8s %-6s %18s %18s %8s %16s %16s\n", "xi", "gain", "IPR NLGP", "IPR GP", "ratio",
           "error NLGP", "error GP");
    for (int x = 0; x < nx; x++)
        for (int g = 0; g < ng; g++) {
            const hl_sweep_stats *a = &st[x * ng + g], *b = &st[G + x * ng + g];
            char xi[32];
            snprintf(xi, sizeof xi, "%g,%g", xis[x][0], xis[x][1]);
            printf("  %-8s %-6g %9.4f ± %6.4f %9.4f ± %6.4f %8.2f %8.4f ± %5.4f %8.4f ± %5.4f\n",
                   xi, gains[g], a->mean_ipr, a->mean_ipr_se, b->mean_ipr, b->mean_ipr_se,
                   a->mean_ipr / b->mean_ipr, a->test_error, a->test_error_se, b->test_error,
                   b->test_error_se);
        }
    /* verdict: the NLGP/GP ratio at the largest gain against the smallest, first xi pair */
    double r_lo = st[0].mean_ipr / st[G].mean_ipr;
    double r_hi = st[ng - 1].mean_ipr / st[G + ng - 1].mean_ipr;
    printf("Verdict: NLGP/GP IPR ratio %.2f at g = %g and %.2f at g = %g (xi = %g, %g). "
           "Literature (Ingrosso & Goldt 2022): localised RFs emerge for NLGP inputs as the "
           "gain grows, never for the clone (IPR ~ 3/D). %s\n",
           r_lo, gains[0], r_hi, gains[ng - 1], xis[0][0], xis[0][1],
           r_hi > 2 && r_hi > r_lo ? "Agrees." : "Does NOT agree at this size.");

    /* summary file and figures */
    size_t Gs = (size_t)G;
    for (int i = 0; i < G; i++) {
        cols[i] = st[i].mean_ipr, cols[Gs + i] = st[i].mean_ipr_se;
        cols[2 * Gs + i] = st[G + i].mean_ipr, cols[3 * Gs + i] = st[G + i].mean_ipr_se;
        cols[4 * Gs + i] = st[i].test_error, cols[5 * Gs + i] = st[G + i].test_error;
    }
    double gv[16], xv[8];
    for (int g = 0; g < ng; g++)
        gv[g] = gains[g];
    for (int x = 0; x < nx; x++)
        xv[2 * x] = xis[x][0], xv[2 * x + 1] = xis[x][1];
    size_t dims[2] = {(size_t)nx, (size_t)ng};
    hl_h5_attr attrs[] = {{"experiment", "gain-sweep"}, {"L", NULL, o->L}, {"K", NULL, o->K},
                          {"time", NULL, o->time}, {"seeds", NULL, S},
                          {"ratio_low_gain", NULL, r_lo}, {"ratio_high_gain", NULL, r_hi}};
    hl_h5_array arrays[] = {
        {"gain", 1, {(size_t)ng}, gv},
        {"xi_pairs", 2, {(size_t)nx, 2}, xv},
        {"nlgp/mean_ipr", 2, {dims[0], dims[1]}, cols},
        {"nlgp/mean_ipr_se", 2, {dims[0], dims[1]}, cols + Gs},
        {"gp/mean_ipr", 2, {dims[0], dims[1]}, cols + 2 * Gs},
        {"gp/mean_ipr_se", 2, {dims[0], dims[1]}, cols + 3 * Gs},
        {"nlgp/test_error", 2, {dims[0], dims[1]}, cols + 4 * Gs},
        {"gp/test_error", 2, {dims[0], dims[1]}, cols + 5 * Gs},
    };
    char path[4200];
    snprintf(path, sizeof path, "%s/gain_sweep.h5", o->dir);
    if ((rc = hl_h5_write_arrays(path, "reproduce gain-sweep", cmdline, attrs,
                                 sizeof attrs / sizeof *attrs, arrays,
                                 sizeof arrays / sizeof *arrays))) {
        rc = report_error("reproduce gain-sweep", rc);
        goto out;
    }
    hl_plot_series is[6], es[6];
    char labels[6][48];
    for (int x = 0; x < nx && x < 3; x++)
        for (int in = 0; in < 2; in++) {
            int k = 2 * x + in;
            snprintf(labels[k], sizeof labels[k], "%s, xi %g,%g", in ? "GP" : "NLGP", xis[x][0],
                     xis[x][1]);
            is[k] = (hl_plot_series){labels[k], ng, gv, 1, cols + (in ? 2 * Gs : 0) + x * ng};
            es[k] = (hl_plot_series){labels[k], ng, gv, 1, cols + (in ? 5 : 4) * Gs + x * ng};
        }
    snprintf(path, sizeof path, "%s/gain_sweep_ipr", o->dir);
    rc = hl_plot_curves(path, is, 2 * nx, "gain g", 1, "final mean IPR",
                        "gain sweep: localisation, mean over seeds");
    snprintf(path, sizeof path, "%s/gain_sweep_error", o->dir);
    if (!rc)
        rc = hl_plot_curves(path, es, 2 * nx, "gain g", 1, "final test error",
                            "gain sweep: test error, mean over seeds");
    /* the phase diagram: NLGP / GP IPR ratio over gain x xi pair */
    double ratio[64];
    char gl[16][32], xl[8][48];
    const char *glp[16], *xlp[8];
    for (int g = 0; g < ng; g++)
        snprintf(gl[g], sizeof gl[g], "%g", gains[g]), glp[g] = gl[g];
    for (int x = 0; x < nx; x++) {
        snprintf(xl[x], sizeof xl[x], "%g, %g", xis[x][0], xis[x][1]), xlp[x] = xl[x];
        for (int g = 0; g < ng; g++)
            ratio[x * ng + g] = st[x * ng + g].mean_ipr / st[G + x * ng + g].mean_ipr;
    }
    snprintf(path, sizeof path, "%s/gain_sweep_heatmap", o->dir);
    if (!rc)
        rc = hl_plot_heatmap(path, ratio, ng, nx, glp, xlp, "gain g", "xi+, xi-",
                             "IPR ratio", "NLGP / GP mean IPR (localisation), mean over seeds");
    if (rc)
        rc = report_error("reproduce gain-sweep", rc);
    else
        printf("Wrote %s/gain_sweep.h5 and gain_sweep_ipr, gain_sweep_error, "
               "gain_sweep_heatmap (.png, .svg)\n", o->dir);
out:
    free(cfg), free(names), free(pts), free(st), free(cols);
    return rc;
}

/* ---- kurtosis-sweep ------------------------------------------------------------------ */

static int kurtosis_sweep(const common *o, const char *cmdline)
{
    static const double kurt_small[] = {-1.1, -0.8, -0.4, 0, 1, 3, 10};
    static const double kurt_full[] = {-1.15, -1, -0.8, -0.6, -0.4, -0.2, 0,
                                       0.5,   1,  2,    3,    6,    10,   20};
    const double *ks = o->full ? kurt_full : kurt_small;
    /* a single neuron (K = 1, with its trainable bias) and the network of width K */
    const int widths[2] = {1, o->K}, nw = o->K == 1 ? 1 : 2;
    int nk = o->full ? 14 : 7, S = o->seeds, G = nw * nk, n = G * S;
    hl_train_config *cfg = malloc(sizeof *cfg * n);
    char(*names)[128] = malloc(sizeof *names * n);
    hl_sweep_point *pts = malloc(sizeof *pts * n);
    hl_sweep_stats *st = malloc(sizeof *st * G);
    double *cols = malloc(sizeof(double) * (4 * G + nk));
    int rc = 0;
    if (!cfg || !names || !pts || !st || !cols) {
        rc = report_error("reproduce kurtosis-sweep", HL_ENOMEM);
        goto out;
    }
    for (int w = 0, i = 0; w < nw; w++)
        for (int k = 0; k < nk; k++)
            for (int s = 0; s < S; s++, i++) {
                hl_train_config c = hl_train_defaults();
                c.L = o->L;
                c.net.K = widths[w];
                c.time = o->time;
                c.seed = (uint64_t)s + 1;
                c.n_snap = 0;
                c.n_meas = 20;
                snprintf(c.plus_model, sizeof c.plus_model, "norta:L=%d,xi=2,kurtosis=%g",
                         o->L, ks[k]);
                snprintf(c.minus_model, sizeof c.minus_model, "norta:L=%d,xi=6,kurtosis=%g",
                         o->L, ks[k]);
                cfg[i] = c;
                snprintf(names[i], sizeof names[i], "norta_K%d_k%g_s%d", widths[w], ks[k], s + 1);
            }
    if ((rc = reproduce_run_points("reproduce kurtosis-sweep", o, cfg, names, n, cmdline, pts)))
        goto out;
    hl_sweep_average(pts, G, S, st);
    printf("\nkurtosis-sweep: NORTA(xi = 2) against NORTA(xi = 6) at a fixed covariance, L = %d, "
           "t = %g, %d seeds (3/D = %.4f)\n", o->L, o->time, S, 3.0 / o->L);
    printf("  %-4s %-16s %18s %16s %20s\n", "K", "excess kurtosis", "final mean IPR",
           "test error", "preact. kurtosis");
    for (int g = 0; g < G; g++)
        printf("  %-4d %-16g %9.4f ± %6.4f %8.4f ± %5.4f %11.3f ± %6.3f%s\n", widths[g / nk],
               ks[g % nk], st[g].mean_ipr, st[g].mean_ipr_se, st[g].test_error,
               st[g].test_error_se, st[g].mean_kurtosis, st[g].mean_kurtosis_se,
               st[g].n_diverged ? "  (diverged runs left out)" : "");
    int agree = 1;
    printf("Verdict: mean IPR");
    for (int w = 0; w < nw; w++) {
        const hl_sweep_stats *lo = &st[w * nk], *hi = &st[w * nk + nk - 1];
        printf("%s K = %d: %.4f at excess kurtosis %g, %.4f at %g", w ? ";" : "", widths[w],
               lo->mean_ipr, ks[0], hi->mean_ipr, ks[nk - 1]);
        agree &= lo->mean_ipr > 2 * hi->mean_ipr;
    }
    printf(". Literature (Lufkin, Saxe, Grant 2024): negative excess kurtosis promotes "
           "localisation, large positive kurtosis suppresses it. %s\n",
           agree ? "Agrees." : "Does NOT agree at this size.");
    for (int g = 0; g < G; g++) {
        cols[g] = st[g].mean_ipr, cols[G + g] = st[g].mean_ipr_se;
        cols[2 * G + g] = st[g].test_error, cols[3 * G + g] = st[g].mean_kurtosis;
    }
    for (int k = 0; k < nk; k++)
        cols[4 * G + k] = ks[k];
    hl_h5_attr attrs[] = {{"experiment", "kurtosis-sweep"}, {"L", NULL, o->L},
                          {"K", NULL, o->K}, {"time", NULL, o->time}, {"seeds", NULL, S}};
    size_t dims[2] = {(size_t)nw, (size_t)nk};
    double wd[2] = {widths[0], widths[1]};
    hl_h5_array arrays[] = {
        {"excess_kurtosis", 1, {(size_t)nk}, cols + 4 * G},
        {"widths", 1, {(size_t)nw}, wd},
        {"mean_ipr", 2, {dims[0], dims[1]}, cols},
        {"mean_ipr_se", 2, {dims[0], dims[1]}, cols + G},
        {"test_error", 2, {dims[0], dims[1]}, cols + 2 * G},
        {"preactivation_kurtosis", 2, {dims[0], dims[1]}, cols + 3 * G},
    };
    char path[4200];
    snprintf(path, sizeof path, "%s/kurtosis_sweep.h5", o->dir);
    if ((rc = hl_h5_write_arrays(path, "reproduce kurtosis-sweep", cmdline, attrs,
                                 sizeof attrs / sizeof *attrs, arrays,
                                 sizeof arrays / sizeof *arrays))) {
        rc = report_error("reproduce kurtosis-sweep", rc);
        goto out;
    }
    char labels[2][32];
    hl_plot_series is[2];
    for (int w = 0; w < nw; w++) {
        snprintf(labels[w], sizeof labels[w], widths[w] == 1 ? "single neuron" : "K = %d",
                 widths[w]);
        is[w] = (hl_plot_series){labels[w], nk, cols + 4 * G, 1, cols + w * nk};
    }
    snprintf(path, sizeof path, "%s/kurtosis_sweep_ipr", o->dir);
    if ((rc = hl_plot_curves(path, is, nw, "marginal excess kurtosis of the inputs", 0,
                             "final mean IPR", "localisation against marginal kurtosis (NORTA)")))
        rc = report_error("reproduce kurtosis-sweep", rc);
    else
        printf("Wrote %s/kurtosis_sweep.h5 and kurtosis_sweep_ipr (.png, .svg)\n", o->dir);
out:
    free(cfg), free(names), free(pts), free(st), free(cols);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    int (*run)(const common *, const char *);
    const char *what;
    int L, K;
    double time, full_time;
    int full_L;
} experiments[] = {
    {"gain-sweep", gain_sweep, "final IPR and test error against the gain, NLGP vs clone",
     100, 8, 10000, 30000, 400},
    {"kurtosis-sweep", kurtosis_sweep, "final IPR against the marginal kurtosis (NORTA)",
     100, 8, 10000, 30000, 400},
    REPRODUCE_MORE
};

int cmd_reproduce(int argc, char **argv)
{
    const int ne = sizeof experiments / sizeof *experiments;
    int e = -1;
    for (int i = 0; argc >= 3 && i < ne; i++)
        if (strcmp(argv[2], experiments[i].name) == 0)
            e = i;
    if (e < 0) {
        int help = argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
        FILE *out = help ? stdout : stderr;
        if (argc >= 3 && !help)
            fprintf(stderr, "hoclab reproduce: unknown experiment '%s'\n", argv[2]);
        fprintf(out, "usage: hoclab reproduce EXPERIMENT [--flags]\n");
        for (int i = 0; i < ne; i++)
            fprintf(out, "  %-15s %s\n", experiments[i].name, experiments[i].what);
        return help ? 0 : 2;
    }
    common o = {.seeds = 3, .threads = 0, .L = 0, .K = experiments[e].K, .time = 0, .dim = 1};
    char dir[4096];
    snprintf(dir, sizeof dir, "results/reproduce/%s", experiments[e].name);
    const char *dirp = NULL;
    opt_spec specs[] = {
        {"full", OPT_FLAG, &o.full, .help = "the published scale (larger L, longer, more points)"},
        {"seeds", OPT_INT, &o.seeds, 1, MAX_SEEDS, .help = "seeds per grid point"},
        {"L", OPT_INT, &o.L, 8, 4096, .help = "ring size (default: 100, --full 400)"},
        {"K", OPT_INT, &o.K, 1, 4096, .help = "hidden units"},
        {"time", OPT_DOUBLE, &o.time, 0, 1e9, .open_min = 1,
         .help = "training time t = steps / D (default: 1e4, --full 3e4)"},
        {"kernel", OPT_INT, &o.kernel, 0, 4096,
         .help = "conv: the CNN's kernel size (0: 11; at most L)"},
        {"dim", OPT_INT, &o.dim, 1, 2,
         .help = "conv: 1: ring of L sites; 2: L x L torus (default L 20, t 3000, kernel 5)"},
        {"threads", OPT_INT, &o.threads, 0, 1024, .help = "runs trained at once (0: all cores)"},
        {"output-dir", OPT_STRING, &dirp,
         .help = "folder of the results (points/ inside: an existing point is resumed)"},
        {"quiet", OPT_FLAG, &o.quiet, .help = "no progress line"},
    };
    const int ns = sizeof specs / sizeof *specs;
    char what[64];
    snprintf(what, sizeof what, "reproduce %s", experiments[e].name);
    int n_pos, rc = opt_parse(what, specs, ns, argc, argv, 3, NULL, 0, &n_pos);
    if (rc == 1) {
        opt_help(what, "[--full] [--seeds N] [--output-dir DIR]", specs, ns);
        return 0;
    }
    if (rc)
        return rc;
    if (!o.L)
        o.L = o.full ? experiments[e].full_L : experiments[e].L;
    if (!(o.time > 0))
        o.time = o.full ? experiments[e].full_time : experiments[e].time;
    if (o.threads == 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = nc > 0 ? (int)nc : 1;
    }
    o.dir = dirp ? dirp : dir;
    if ((rc = make_dirs(experiments[e].name, o.dir)))
        return rc;
    char cmdline[4096];
    opt_command_line(argc, argv, cmdline, sizeof cmdline);
    return experiments[e].run(&o, cmdline);
}
