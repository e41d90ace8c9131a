/* stats.c — `hoclab stats`: what is Gaussian about a data model and what is not.
 *
 * Draws n samples of a registered model, has the library compute their moments,
 * covariance spectrum and a fourth-cumulant slice (hl_stats_compute), prints a short
 * summary with a verdict, and writes the numbers to HDF5 and a figure next to it.
 * `--list` describes every registered model and its parameters.
 *
 * Translation invariance is decided from the model's parameters: a model with `dim`
 * and `L` lives on a ring (dim 1) or torus (dim 2) of side L — unless it has a
 * `boundary` parameter set to `open` (an open window of an infinite lattice is not
 * periodic). Such models get the translation-averaged covariance and kappa4 slice;
 * every other model the full covariance and the slice at site --origin. */
#include "commands.h"

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/measure.h"
#include "hoclab/plot.h"
#include "hoclab/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most sample values held at once (floats): 4 GiB. */
#define MAX_VALUES (1ULL << 30)

static void list_models(void)
{
    const hl_model *m;
    for (int i = 0; (m = hl_model_at(i)); i++) {
        printf("%s — %s\n", m->name, m->summary);
        for (int k = 0; k < m->n_params; k++) {
            const hl_param_spec *p = &m->params[k];
            char range[160];
            switch (p->type) {
            case HL_PARAM_INT: snprintf(range, sizeof range, "%.0f..%.0f", p->min, p->max); break;
            case HL_PARAM_REAL: snprintf(range, sizeof range, "%g..%g", p->min, p->max); break;
            case HL_PARAM_CHOICE: snprintf(range, sizeof range, "%s", p->choices); break;
            case HL_PARAM_TEXT: snprintf(range, sizeof range, "text"); break;
            }
            printf("    %-12s %s\n    %-12s default %s; accepted %s\n", p->name, p->help, "",
                   p->def[0] ? p->def : "(none)", range);
        }
        printf("\n");
    }
}

/* Ring or torus of side L, from the model's dim and L unless boundary=open. */
static int translation_invariant(const hl_param_values *v, size_t D, int *dim, int *L)
{
    const hl_model *m = v->model;
    int b = hl_model_param_index(m, "boundary");
    if (hl_model_param_index(m, "dim") < 0 || hl_model_param_index(m, "L") < 0)
        return 0;
    if (b >= 0) {
        char word[32];
        hl_param_format(v, b, word, sizeof word);
        if (strcmp(word, "open") == 0)
            return 0;
    }
    *dim = hl_param_int(v, "dim");
    *L = hl_param_int(v, "L");
    size_t sites = *dim == 1 ? (size_t)*L : *dim == 2 ? (size_t)*L * *L : 0;
    return sites == D;
}

/* Site j of a torus as "(row, column)", of a ring or anything else as "j". */
static void site_name(const hl_stats *s, size_t j, char *buf, size_t size)
{
    if (s->translation_invariant && s->dim == 2)
        snprintf(buf, size, "(%zu, %zu)", j / (size_t)s->L, j % (size_t)s->L);
    else
        snprintf(buf, size, "%zu", j);
}

static void summary(const hl_stats *s, const char *model, const char *spec, uint64_t seed)
{
    double t;
    int gauss = hl_stats_gaussian(s, HL_STATS_DEFAULT_ALPHA, &t);
    char where[64];
    printf("Model %s (%s)\n", model, spec);
    if (s->translation_invariant)
        printf("  D = %zu: %s of L = %d (translation invariant), n = %zu samples, seed %llu\n",
               s->D, s->dim == 1 ? "ring" : "torus", s->L, s->n, (unsigned long long)seed);
    else
        printf("  D = %zu (not translation invariant), n = %zu samples, seed %llu\n", s->D,
               s->n, (unsigned long long)seed);
    printf("  marginal: mean %.4g, variance %.4g, skewness %.3g\n", s->mean, s->variance,
           s->skewness);
    if (s->n_constant)
        printf("  %zu of %zu sites never change (left out of the marginal)\n", s->n_constant,
               s->D);
    printf("  excess kurtosis %.4g ± %.2g (%.3g SE)\n", s->excess_kurtosis, s->kurtosis_se,
           hl_stats_kurtosis_z(s));
    site_name(s, s->kappa4_argmax, where, sizeof where);
    printf("  kappa4(%s): max |kappa4| / SE = %.3g at %s = %s (threshold %.3g at alpha %g)\n",
           s->translation_invariant ? "0,0,d,d" : "o,o,j,j", s->kappa4_max_z,
           s->translation_invariant ? "d" : "j", where, t, HL_STATS_DEFAULT_ALPHA);
    if (!s->translation_invariant)
        printf("  (origin o = %zu)\n", s->origin);
    printf("  verdict: %s\n", gauss ? "Gaussian within noise" : "non-Gaussian");
    if (s->n_eigen) {
        printf("  top covariance eigenvalues:");
        for (size_t i = 0; i < s->n_eigen && i < 8; i++)
            printf(" %.4g", s->eigenvalues[i]);
        printf("%s\n", s->n_eigen > 8 ? " ..." : "");
    } else {
        printf("  covariance eigenvalues: not computed (D > %d; only row %zu)\n",
               HL_STATS_MAX_FULL_D, s->origin);
    }
}

int cmd_stats(int argc, char **argv)
{
    const char *model = NULL, *params = "", *output = "stats.h5";
    int n = 20000, origin = 0, no_plot = 0, list = 0;
    uint64_t seed = 1;
    opt_spec specs[] = {
        {"model", OPT_STRING, &model, .help = "the data model by name (see --list)"},
        {"params", OPT_STRING, &params, .help = "its parameters, \"key=value,key=value\""},
        {"n", OPT_INT, &n, 2, 100000000, .help = "samples to draw"},
        {"seed", OPT_U64, &seed, .help = "seed of the sample stream"},
        {"origin", OPT_INT, &origin, 0, 1 << 30,
         .help = "models that are not translation invariant: site of the kappa4 slice"},
        {"output", OPT_STRING, &output,
         .help = "statistics file (.h5); the figure goes next to it (.png, .svg)"},
        {"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the figure"},
        {"list", OPT_FLAG, &list, .help = "list every model with its parameters, and exit"},
    };
    const int ns = sizeof specs / sizeof specs[0];
    const char *pos[1];
    int n_pos, rc = opt_parse("stats", specs, ns, argc, argv, 2, pos, 0, &n_pos);
    if (rc == 1) {
        opt_help("stats", "--model NAME [--params SPEC] [--flags] | --list", specs, ns);
        return 0;
    }
    if (rc)
        return rc;
    if (list) {
        list_models();
        return 0;
    }
    if (!model) {
        char names[512];
        size_t used = 0;
        names[0] = 0;
        for (int i = 0; hl_model_at(i) && used < sizeof names; i++)
            used += snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                             hl_model_at(i)->name);
        fprintf(stderr, "hoclab stats: --model is required; accepted: %s (or --list)\n", names);
        return 2;
    }
    const hl_model *m = hl_model_find(model);
    if (!m) {
        hl_sampler_free(hl_model_create(model, "")); /* its message lists the models */
        fprintf(stderr, "hoclab stats --model: %s\n", hl_error_message());
        return 2;
    }
    if (hl_io_check_writable(output))
        return report_error("stats --output", HL_EINVAL);

    hl_param_values v;
    if (hl_model_parse(m, params, &v)) {
        fprintf(stderr, "hoclab stats --params: %s\n", hl_error_message());
        return 2;
    }
    hl_sampler *smp = m->create(&v);
    float *X = NULL;
    gsl_rng *r = NULL;
    hl_stats *s = NULL;
    rc = 0;
    if (!smp) {
        fprintf(stderr, "hoclab stats --params: %s\n", hl_error_message());
        rc = 2;
        goto out;
    }
    const size_t D = hl_sampler_dim(smp);
    hl_stats_config cfg = hl_stats_defaults();
    cfg.translation_invariant = translation_invariant(&v, D, &cfg.dim, &cfg.L);
    cfg.origin = (size_t)origin;
    if (!cfg.translation_invariant && (size_t)origin >= D) {
        fprintf(stderr, "hoclab stats: --origin %d: out of range; accepted: 0..%zu (a site of "
                        "D = %zu)\n", origin, D - 1, D);
        rc = 2;
        goto out;
    }
    if ((unsigned long long)n * D > MAX_VALUES) {
        fprintf(stderr, "hoclab stats: --n %d: n x D = %d x %zu values exceed %llu; accepted: "
                        "2..%llu for this model\n", n, n, D, (unsigned long long)MAX_VALUES,
                (unsigned long long)(MAX_VALUES / D));
        rc = 2;
        goto out;
    }
    r = hl_rng_alloc(seed, HL_STREAM_USER);
    X = malloc(sizeof(float) * (size_t)n * D);
    if (!r || !X) {
        rc = report_error("stats", hl_error_set(HL_ENOMEM, "cannot hold %d samples of D = %zu",
                                                n, D));
        goto out;
    }
    if ((rc = hl_sampler_sample(smp, (size_t)n, X, r)) ||
        (rc = hl_stats_compute(X, (size_t)n, D, &cfg, &s))) {
        rc = report_error("stats", rc);
        goto out;
    }
    free(X), X = NULL;
    if (!hl_sampler_is_stateless(smp))
        printf("Note: %s is a Markov chain; the standard errors assume independent samples "
               "and are too small if its samples are correlated.\n", m->name);

    char spec[4096], cmdline[4096], base[4096], title[512];
    hl_model_spec(&v, spec, sizeof spec);
    summary(s, m->name, spec, seed);
    opt_command_line(argc, argv, cmdline, sizeof cmdline);
    if ((rc = hl_stats_save(s, output, &v, (unsigned long long)seed, cmdline))) {
        rc = report_error("stats", rc);
        goto out;
    }
    if (!no_plot) {
        figure_base(output, base, sizeof base);
        snprintf(title, sizeof title, "%s%s%s, n = %d", m->name, params[0] ? " " : "", params,
                 n);
        if ((rc = hl_plot_stats(base, s, title))) {
            rc = report_error("stats", rc);
            goto out;
        }
        printf("Wrote %s and %s.png, %s.svg\n", output, base, base);
    } else {
        printf("Wrote %s\n", output);
    }
out:
    hl_stats_free(s);
    free(X);
    hl_rng_free(r);
    hl_sampler_free(smp);
    hl_param_values_clear(&v);
    return rc;
}
