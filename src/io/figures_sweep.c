/* figures_sweep.c — a sweep's two figures: mean IPR and test error (mean over seeds,
 * at the end of training) against one axis of the grid, one curve per combination of
 * the other axes. */
#include "hoclab/error.h"
#include "hoclab/experiment.h"
#include "hoclab/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The x axis: the last numeric axis with two values or more, else the last axis
 * (drawn at its value's index). -1 if the grid has no axis. */
static int x_axis(const hl_experiment *e, int *numeric)
{
    *numeric = 0;
    for (int a = e->n_axes - 1; a >= 0; a--)
        if (e->axes[a].n > 1 && !e->axes[a].values[0].str && strcmp(e->axes[a].key, "xis")) {
            *numeric = 1;
            return a;
        }
    return e->n_axes - 1;
}

/* "gp, xis=2:6" (words alone, numbers with their key) for the other axes' values of grid point g. */
static void label_of(const hl_experiment *e, long g, int skip, char *buf, size_t size)
{
    int coord[HL_EXP_MAX_AXES];
    for (int a = e->n_axes - 1; a >= 0; a--) {
        coord[a] = (int)(g % e->axes[a].n);
        g /= e->axes[a].n;
    }
    size_t used = 0;
    buf[0] = 0;
    for (int a = 0; a < e->n_axes && used < size; a++) {
        if (a == skip)
            continue;
        const hl_exp_axis *ax = &e->axes[a];
        const hl_exp_value *v = &ax->values[coord[a]];
        const char *sep = used ? ", " : "";
        if (v->str)
            used += snprintf(buf + used, size - used, "%s%.40s", sep, v->str);
        else if (strcmp(ax->key, "xis") == 0)
            used += snprintf(buf + used, size - used, "%sxis=%g:%g", sep, v->num[0], v->num[1]);
        else
            used += snprintf(buf + used, size - used, "%s%s=%g", sep, ax->key, v->num[0]);
    }
    if (!buf[0])
        snprintf(buf, size, "%s", e->name);
}

int hl_figures_sweep(const char *base, const hl_experiment *e, const hl_sweep_point *pts)
{
    int numeric, xa = x_axis(e, &numeric);
    long groups = hl_experiment_n_points(e) / e->n_seeds;
    if (xa < 0 || groups < 2)
        return HL_OK; /* one grid point: nothing to draw against */
    const hl_exp_axis *ax = &e->axes[xa];
    long stride = 1; /* grid points between neighbours along the x axis */
    for (int a = xa + 1; a < e->n_axes; a++)
        stride *= e->axes[a].n;
    int n_series = (int)(groups / ax->n), nx = ax->n;
    hl_sweep_stats *st = malloc(sizeof *st * groups);
    double *x = malloc(sizeof(double) * nx), *y = malloc(sizeof(double) * 2 * groups);
    hl_plot_series *series = malloc(sizeof *series * n_series);
    char (*labels)[160] = malloc(sizeof *labels * n_series);
    int rc = st && x && y && series && labels ? HL_OK : hl_error_set(HL_ENOMEM, "out of memory");
    if (!rc)
        rc = hl_sweep_average(pts, (int)groups, e->n_seeds, st);
    int log_x = numeric;
    for (int j = 0; j < nx && !rc; j++) {
        x[j] = numeric ? ax->values[j].num[0] : j + 1;
        log_x = log_x && x[j] > 0;
    }
    if (!rc && log_x && x[nx - 1] / x[0] < 10 && x[0] / x[nx - 1] < 10)
        log_x = 0;
    char xlabel[80], path[4096], title[256];
    snprintf(xlabel, sizeof xlabel, numeric ? "%s" : "%s (value number)", ax->key);
    for (int m = 0; m < 2 && !rc; m++) {
        double *ym = y + (size_t)m * groups;
        for (int s = 0; s < n_series; s++) {
            /* series s: the grid points whose other coordinates are those of s */
            long first = (s / stride) * stride * nx + s % stride;
            for (int j = 0; j < nx; j++) {
                const hl_sweep_stats *p = &st[first + (long)j * stride];
                ym[(size_t)s * nx + j] = m ? p->test_error : p->mean_ipr;
            }
            label_of(e, first, xa, labels[s], sizeof labels[s]);
            series[s] = (hl_plot_series){labels[s], nx, x, 1, ym + (size_t)s * nx};
        }
        snprintf(path, sizeof path, "%s_%s", base, m ? "error" : "ipr");
        snprintf(title, sizeof title, "%s: final %s, %d seed%s", e->name,
                 m ? "test error" : "mean IPR", e->n_seeds, e->n_seeds > 1 ? "s" : "");
        rc = hl_plot_curves(path, series, n_series, xlabel, log_x, m ? "test error" : "mean IPR",
                            title);
    }
    free(st), free(x), free(y), free(series), free(labels);
    return rc;
}
