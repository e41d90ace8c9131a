/* sample.c — `hoclab sample`: draw examples of any data model (and its Gaussian
 * clone), or of the NLGP task's classes, write them to HDF5 and draw a montage. */
#include "commands.h"

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/plot.h"
#include "hoclab/rng.h"
#include "hoclab/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SETS = 4 };

typedef struct {
    char name[64], description[256], label[48];
    hl_param_values params;
    int dim, L;
    float *x;
} sample_set;

/* Parse, create and draw one set; the stream is (seed, HL_STREAM_USER + index). */
static int draw_set(sample_set *s, const hl_model *m, const char *spec, int n, uint64_t seed,
                    int index)
{
    int rc = hl_model_parse(m, spec, &s->params);
    if (rc)
        return rc;
    hl_sampler *smp = m->create(&s->params);
    if (!smp)
        return HL_EINVAL;
    size_t D = hl_sampler_dim(smp);
    hl_model_image_shape(&s->params, D, &s->dim, &s->L);
    gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER + index);
    s->x = malloc(sizeof(float) * n * D);
    rc = !r || !s->x ? hl_error_set(HL_ENOMEM, "cannot hold %d samples of D = %zu", n, D)
                     : hl_sampler_sample(smp, (size_t)n, s->x, r);
    hl_rng_free(r);
    hl_sampler_free(smp);
    return rc;
}

int cmd_sample(int argc, char **argv)
{
    data_flags d = data_flags_defaults();
    const char *output = "hoclab_samples.h5", *model = NULL, *params = "";
    int n = 8, no_plot = 0, no_clone = 0;
    opt_spec specs[DATA_SPECS + 6];
    int ns = data_specs(&d, specs);
    specs[ns++] = (opt_spec){"model", OPT_STRING, &model,
                             .help = "a data model by name (hoclab stats --list shows them); "
                                     "without it, the NLGP task's classes"};
    specs[ns++] = (opt_spec){"params", OPT_STRING, &params,
                             .help = "the model's parameters, \"key=value,key=value\""};
    specs[ns++] = (opt_spec){"no-clone", OPT_FLAG, &no_clone,
                             .help = "with --model: do not also draw its Gaussian clone"};
    specs[ns++] = (opt_spec){"n", OPT_INT, &n, 1, 10000000, .help = "samples per set"};
    specs[ns++] = (opt_spec){"output", OPT_STRING, &output,
                             .help = "sample file (.h5); the montage goes next to it"};
    specs[ns++] = (opt_spec){"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the montage"};
    const char *pos[1];
    int n_pos, rc = opt_parse("sample", specs, ns, argc, argv, 2, pos, 0, &n_pos);
    if (rc == 1) {
        opt_help("sample", "[--model NAME --params SPEC] [--flags]", specs, ns);
        return 0;
    }
    if (rc || (rc = data_flags_finish("sample", &d)))
        return rc;
    if ((rc = hl_io_check_writable(output)))
        return report_error("sample --output", HL_EINVAL);

    sample_set sets[MAX_SETS];
    memset(sets, 0, sizeof sets);
    int n_sets = 0;
    if (model) {
        /* The model, and its Gaussian clone beside it when it has one. */
        const hl_model *m = hl_model_find(model);
        if (!m) {
            hl_sampler_free(hl_model_create(model, "")); /* sets the message listing models */
            fprintf(stderr, "hoclab sample --model: %s\n", hl_error_message());
            return 2;
        }
        /* The NLGP's clone is the model "gp" with the same parameters. */
        const hl_model *mc = strcmp(m->name, "nlgp") == 0 ? hl_model_find("gp") : m;
        int clone = (mc != m || hl_model_param_index(m, "clone") >= 0) && !no_clone && !strstr(params, "clone=");
        for (int c = 0; c <= clone && !rc; c++) {
            sample_set *s = &sets[n_sets];
            char spec[2048];
            int flag = c && mc == m;
            snprintf(spec, sizeof spec, "%s%s%s", params, flag && params[0] ? "," : "",
                     flag ? "clone=1" : "");
            if ((rc = draw_set(s, c ? mc : m, spec, n, d.seed, n_sets))) {
                if (rc == HL_EINVAL)
                    fprintf(stderr, "hoclab sample --params: %s\n", hl_error_message());
                break;
            }
            snprintf(s->name, sizeof s->name, "%s%s", m->name, c ? "_clone" : "");
            snprintf(s->label, sizeof s->label, "%s", c ? "clone" : m->name);
            hl_model_spec(&s->params, s->description, sizeof s->description);
            n_sets++;
        }
    } else {
        /* The NLGP task: each input model (nlgp, gp) at the two correlation lengths. */
        for (int in = 0; in < 2 && !rc; in++) {
            if (!(d.inputs_mask & (1 << in)))
                continue;
            for (int cls = 0; cls < 2 && !rc; cls++) {
                sample_set *s = &sets[n_sets];
                char spec[512];
                snprintf(spec, sizeof spec, "dim=%d,L=%d,xi=%.17g,p=%d,gain=%.17g,convention=%s",
                         d.dim, d.L, d.xis[cls], d.p, d.gain,
                         d.convention == HL_GAIN_AUTHORS ? "authors" : "seeds");
                if ((rc = draw_set(s, hl_model_find(hl_input_name(in)), spec, n, d.seed,
                                   n_sets)))
                    break;
                snprintf(s->name, sizeof s->name, "%s_%s_xi%g", hl_input_name(in),
                         cls ? "minus" : "plus", d.xis[cls]);
                snprintf(s->description, sizeof s->description,
                         "%s, class %c, xi = %g px, gain %g", in ? "GP clone" : "NLGP",
                         cls ? '-' : '+', d.xis[cls], d.gain);
                snprintf(s->label, sizeof s->label, "%s xi=%g", in ? "GP" : "NLGP",
                         d.xis[cls]);
                n_sets++;
            }
        }
    }
    if (!rc) {
        hl_h5_sample_set h5[MAX_SETS];
        for (int i = 0; i < n_sets; i++)
            h5[i] = (hl_h5_sample_set){sets[i].name, sets[i].description, &sets[i].params,
                                       (size_t)n, sets[i].dim, sets[i].L, sets[i].x};
        char cmdline[4096], base[4096];
        opt_command_line(argc, argv, cmdline, sizeof cmdline);
        rc = hl_h5_write_samples(output, h5, n_sets, cmdline);
        if (!rc && !no_plot) {
            figure_base(output, base, sizeof base);
            /* The first (at most 8) samples of every set, a row each; rows of one
             * montage share the image shape of the first set. */
            int per_row = n < 8 ? n : 8;
            size_t D = sets[0].dim == 1 ? (size_t)sets[0].L : (size_t)sets[0].L * sets[0].L;
            float *m = malloc(sizeof(float) * n_sets * per_row * D);
            const char *labels[MAX_SETS];
            if (!m)
                rc = hl_error_set(HL_ENOMEM, "cannot allocate the montage");
            for (int i = 0; m && i < n_sets; i++) {
                memcpy(m + (size_t)i * per_row * D, sets[i].x, sizeof(float) * per_row * D);
                labels[i] = sets[i].label;
            }
            char title[160];
            if (model)
                snprintf(title, sizeof title, "Samples of %s and its Gaussian clone", model);
            else
                snprintf(title, sizeof title, "Example inputs (gain %g)", d.gain);
            if (m)
                rc = hl_plot_montage(base, m, n_sets, per_row, sets[0].L, sets[0].dim, labels,
                                     title);
            free(m);
        }
    }
    for (int i = 0; i < MAX_SETS; i++) {
        free(sets[i].x);
        if (sets[i].params.model)
            hl_param_values_clear(&sets[i].params);
    }
    if (rc == HL_EINVAL && model)
        return 2;
    if (rc)
        return report_error("sample", rc);
    printf("Wrote %d x %d samples to %s%s\n", n_sets, n, output,
           no_plot ? "" : " and a montage next to it");
    return 0;
}
