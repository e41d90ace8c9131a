/* plot_heatmap.c — a value per cell of a small grid of labelled conditions (a sweep's
 * phase diagram, e.g. gain x correlation-length pair), drawn as coloured cells with the
 * value written in each, on a sequential colour map from the page's shared machinery. */
#include "hoclab/plot.h"
#include "hoclab/error.h"
#include "plot_impl.h"

#include <math.h>
#include <plplot.h>
#include <stdio.h>

typedef struct {
    const double *z;
    int nx, ny;
    const char *const *xl, *const *yl;
    const char *xt, *yt, *bar, *title;
    double lo, hi;
} heat;

static void draw_heat(void *ctx)
{
    heat *h = ctx;
    plschr(0.0, 1.05);
    plvpor(0.16, 0.80, 0.15, 0.86);
    plwind(0, h->nx, 0, h->ny);
    hl_plot_set_cmap1(0);
    /* one filled rectangle per cell, coloured by its value on cmap1 */
    for (int x = 0; x < h->nx; x++)
        for (int y = 0; y < h->ny; y++) {
            double v = h->z[(size_t)y * h->nx + x];
            PLFLT cx[4] = {x, x + 1, x + 1, x}, cy[4] = {y, y, y + 1, y + 1};
            if (isfinite(v)) {
                plcol1((v - h->lo) / (h->hi - h->lo));
                plfill(4, cx, cy);
            }
        }
    plcol0(HL_PLOT_INK);
    plbox("bc", 0, 0, "bc", 0, 0);
    char buf[64];
    for (int x = 0; x < h->nx; x++) {
        plcol0(HL_PLOT_INK);
        plmtex("b", 1.3, (x + 0.5) / h->nx, 0.5, h->xl[x]);
        for (int y = 0; y < h->ny; y++) {
            double v = h->z[(size_t)y * h->nx + x];
            snprintf(buf, sizeof buf, "%.3g", v);
            /* dark ink on light cells, white on dark ones */
            int light = (v - h->lo) > 0.5 * (h->hi - h->lo);
            plcol0(light ? HL_PLOT_INK : HL_PLOT_BG);
            plptex(x + 0.5, y + 0.5, 1, 0, 0.5, buf);
        }
    }
    plcol0(HL_PLOT_INK);
    for (int y = 0; y < h->ny; y++)
        plmtex("lv", 0.8, (y + 0.5) / h->ny, 1.0, h->yl[y]);
    plmtex("b", 3.4, 0.5, 0.5, h->xt ? h->xt : "");
    plmtex("l", 6.5, 0.5, 0.5, h->yt ? h->yt : "");
    plschr(0.0, 1.2);
    plmtex("t", 1.5, 0.5, 0.5, h->title ? h->title : "");
    plschr(0.0, 0.85);
    hl_plot_colour_bar(h->lo, h->hi, h->bar ? h->bar : "", 0.04, 0.9, 4.0);
}

int hl_plot_heatmap(const char *base, const double *z, int nx, int ny,
                    const char *const *xlabels, const char *const *ylabels, const char *xtitle,
                    const char *ytitle, const char *bar, const char *title)
{
    if (!z || !xlabels || !ylabels || nx < 1 || ny < 1 || nx > 200 || ny > 200)
        return hl_error_set(HL_EINVAL, "heat map: values and labels are needed, nx = %d and "
                            "ny = %d must be 1..200", nx, ny);
    heat h = {z, nx, ny, xlabels, ylabels, xtitle, ytitle, bar, title, INFINITY, -INFINITY};
    for (int i = 0; i < nx * ny; i++)
        if (isfinite(z[i]))
            h.lo = fmin(h.lo, z[i]), h.hi = fmax(h.hi, z[i]);
    if (!(h.lo <= h.hi))
        h.lo = 0, h.hi = 1;
    if (h.hi - h.lo < 1e-12 * fmax(1, fabs(h.hi)))
        h.lo -= 0.5, h.hi += 0.5;
    hl_plot_page page = {900, 120 + 70 * (ny < 3 ? 3 : ny) + 200, NULL, 0, draw_heat, &h};
    return hl_plot_render(base, &page);
}
