/* figures.c — the standard figures of a training run, from its configuration and
 * results (fresh from the trainer or read back from HDF5). */
#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/plot.h"

#include <stdio.h>
#include <stdlib.h>

static const char *pretty_input(hl_input in)
{
    return in == HL_INPUT_NLGP ? "NLGP" : "GP clone";
}

int hl_figures_train(const char *base, const hl_train_config *cfg,
                     const hl_train_result *res, int n)
{
    char path[4096], title[256];
    if (n < 1)
        return hl_error_set(HL_EINVAL, "no runs to draw");
    int rc = HL_OK;
    for (int i = 0; i < n && !rc; i++) {
        const hl_train_config *c = &cfg[i];
        const hl_train_result *r = &res[i];
        snprintf(path, sizeof path, "%s_rfs_%s", base, hl_train_run_name(c));
        snprintf(title, sizeof title, "%s receptive fields, t = %g, g = %g, xi = (%g, %g)%s",
                 pretty_input(c->input), (double)r->stop_step / hl_train_D(c), c->gain,
                 c->xi_plus, c->xi_minus, r->status ? " [diverged]" : "");
        rc = hl_plot_rf_grid(path, r->W, c->net.K, c->L, c->dim, title);
    }
    if (rc)
        return rc;
    hl_plot_series *ipr = calloc((size_t)n, sizeof *ipr),
                   *err = calloc((size_t)n, sizeof *err);
    if (!ipr || !err) {
        free(ipr);
        free(err);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    /* Series in the order of the input models, so NLGP and the clone keep their
     * colours whatever the order of the runs (HDF5 lists groups alphabetically). */
    int m = 0;
    for (int in = HL_INPUT_NLGP; in <= HL_INPUT_GP; in++)
        for (int i = 0; i < n; i++) {
            if ((int)cfg[i].input != in || res[i].n_meas < 1) /* nothing measured */
                continue;
            const char *label = pretty_input(cfg[i].input);
            ipr[m] = (hl_plot_series){label, res[i].n_meas, res[i].t, cfg[i].net.K, res[i].ipr};
            err[m++] = (hl_plot_series){label, res[i].n_meas, res[i].t, 1, res[i].test_error};
        }
    if (m == 0) { /* every run stopped before its first measurement */
        free(ipr);
        free(err);
        return HL_OK;
    }
    double D = (double)hl_train_D(&cfg[0]);
    snprintf(title, sizeof title, "IPR of the receptive fields (K = %d, D = %g)", cfg[0].net.K, D);
    snprintf(path, sizeof path, "%s_ipr", base);
    rc = hl_plot_ipr(path, ipr, m, 3 / D, title);
    if (!rc) {
        snprintf(path, sizeof path, "%s_error", base);
        rc = hl_plot_timeseries(path, err, m, "test error", "Test classification error");
    }
    free(ipr);
    free(err);
    return rc;
}
