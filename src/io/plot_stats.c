/* plot_stats.c — one page of figures of a data model's statistics (hoclab stats):
 * the marginal against N(0, 1), the covariance, its spectrum, and the kappa4 slice;
 * see hl_plot_stats in include/hoclab/plot.h.
 *
 * The page is written by the machinery plot.c uses too (plot_impl.h, plot_page.c):
 * PLplot's cairo drivers, a private stream per page, BASE.png and BASE.svg each
 * written to a temporary name and renamed, white background, and the blue-white-red
 * map centred on zero for signed images; Okabe-Ito line colours.
 * Not thread-safe, like every PLplot caller (process-wide streams). */
#include "hoclab/plot.h"

#include "hoclab/error.h"
#include "hoclab/measure.h"
#include "plot_impl.h"

#include <plplot/plplot.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_W 1500
#define PAGE_H 1100
#define MAX_IMAGE 512   /* image cells per side; larger arrays are subsampled */

enum { C_BG = HL_PLOT_BG, C_INK = HL_PLOT_INK, C_GREY = HL_PLOT_GREY, C_GRID = HL_PLOT_GRID,
       C_BLUE = HL_PLOT_N_FIXED, C_ORANGE, C_GREEN, C_VERMILION, C_BAND, N_COL0 };

/* The colours from C_BLUE on; C_BAND is a translucent blue for the 2 SE bands. */
static const hl_plot_colour colours[N_COL0 - C_BLUE] = {
    {0, 114, 178, 1.0}, {230, 159, 0, 1.0}, {0, 158, 115, 1.0}, {213, 94, 0, 1.0},
    {0, 114, 178, 0.25}};

/* --------------------------------------------------------------- helpers -- */

/* A panel's title, and under it a smaller second line (may be NULL). */
static void panel_title(const char *text, const char *sub)
{
    plcol0(C_INK);
    plschr(0.0, 0.95);
    plmtex("t", sub ? 2.4 : 1.2, 0.5, 0.5, text);
    if (sub) {
        plschr(0.0, 0.8);
        plcol0(C_GREY);
        plmtex("t", 1.0, 0.5, 0.5, sub);
        plcol0(C_INK);
    }
    plschr(0.0, 1.0);
}

/* ------------------------------------------------------------------ page -- */

typedef struct {
    const hl_stats *s;
    const char *title;
    double threshold;
    int gaussian;
    double *x, *y, *y2, *bx, *by;   /* work: max(D, n_bins) values; bx, by: 2x, 3x */
} page;

/* Panel boxes in page fractions: 0 top left, 1 top right, 2 bottom left, 3 bottom right. */
static void panel_box(int k, double *x0, double *x1, double *y0, double *y1)
{
    *x0 = k % 2 ? 0.585 : 0.085, *x1 = k % 2 ? 0.93 : 0.43;
    *y0 = k / 2 ? 0.08 : 0.545, *y1 = k / 2 ? 0.405 : 0.87;
}

/* An image of n x n cells (value of cell (r, c) from get(ctx, r, c)), row 0 on top,
 * spanning extent_lo..extent_hi both ways, on a symmetric diverging scale; at most
 * MAX_IMAGE cells per side (subsampled). No PLESC_START_RASTERIZE around it: with
 * plimagefr the cairo driver aborts in cairo_destroy. */
static void draw_image(int k, int n, double (*get)(const void *, int, int), const void *ctx,
                       double extent_lo, double extent_hi, const char *xlabel,
                       const char *ylabel, const char *bar)
{
    int stride = (n + MAX_IMAGE - 1) / MAX_IMAGE, m = (n + stride - 1) / stride;
    double a = 0;
    PLFLT **z = NULL;
    plAlloc2dGrid(&z, m, m);
    for (int c = 0; c < m; c++)
        for (int r = 0; r < m; r++) {
            double v = get(ctx, r * stride, c * stride);
            z[c][r] = isfinite(v) ? v : 0.0;
            a = fmax(a, fabs(z[c][r]));
        }
    if (a == 0) a = 1;
    double x0, x1, y0, y1;
    panel_box(k, &x0, &x1, &y0, &y1);
    plvpas(x0, x1 - 0.06, y0, y1, 1.0);
    plwind(extent_lo, extent_hi, extent_hi, extent_lo);
    hl_plot_set_cmap1(1);
    /* plimagefr, not plimage: plimage stretches the colours over the data's own
     * range, which would move zero off white. */
    plimagefr((PLFLT_MATRIX)z, m, m, extent_lo, extent_hi, extent_lo, extent_hi, -a, a, -a, a,
              NULL, NULL);
    plFree2dGrid(z, m, m);
    plcol0(C_INK);
    plwidth(1.0);
    double tick = hl_plot_nice_step((extent_hi - extent_lo) / 4.0);
    plbox("bcnst", tick, 0, "bcnstv", tick, 0);
    plmtex("b", 3.0, 0.5, 0.5, xlabel);
    plmtex("l", 4.0, 0.5, 0.5, ylabel);
    plschr(0.0, 0.8);
    hl_plot_colour_bar(-a, a, bar, 0.05, 0.85, 4.0);
    plschr(0.0, 1.0);
}

/* A curve y(x) with a translucent band lo..hi (NULL: none) and a zero line. */
static void draw_curve(page *p, int k, int n, const double *x, const double *y,
                       const double *lo, const double *hi, const char *xlabel,
                       const char *ylabel)
{
    double xmin = x[0], xmax = x[n - 1], ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < n; i++) {
        double a = lo ? lo[i] : y[i], b = hi ? hi[i] : y[i];
        if (isfinite(a)) ymin = fmin(ymin, a);
        if (isfinite(b)) ymax = fmax(ymax, b);
    }
    ymin = fmin(ymin, 0), ymax = fmax(ymax, 0);
    hl_plot_pad_range(&ymin, &ymax, 0.06);
    if (xmax <= xmin) xmax = xmin + 1;
    double x0, x1, y0, y1;
    panel_box(k, &x0, &x1, &y0, &y1);
    plvpor(x0, x1, y0, y1);
    plwind(xmin, xmax, ymin, ymax);
    if (lo && hi) {
        for (int i = 0; i < n; i++) {
            p->bx[i] = x[i], p->by[i] = hi[i];
            p->bx[2 * n - 1 - i] = x[i], p->by[2 * n - 1 - i] = lo[i];
        }
        plcol0(C_BAND);
        plfill(2 * n, p->bx, p->by);
    }
    PLFLT zx[2] = {xmin, xmax}, zy[2] = {0, 0};
    plcol0(C_GREY);
    plwidth(0.8);
    plline(2, zx, zy);
    plcol0(C_BLUE);
    plwidth(1.8);
    if (n <= 64)
        plstring(n, x, y, "\xe2\x80\xa2");
    hl_plot_line_finite(n, x, y);
    plcol0(C_INK);
    plwidth(1.0);
    plsyax(6, 0);
    plbox("bcnst", 0.0, 0, "bcnstv", hl_plot_nice_step((ymax - ymin) / 5.0), 0);
    plmtex("b", 3.0, 0.5, 0.5, xlabel);
    plmtex("l", 5.2, 0.5, 0.5, ylabel);
}

/* Panel 0: the standardised marginal against N(0, 1), log density. */
static void draw_marginal(page *p)
{
    const hl_stats *s = p->s;
    int nb = s->n_bins;
    double lo = INFINITY, hi = -INFINITY;
    for (int b = 0; b < nb; b++) {
        double d = s->hist_density[b];
        p->x[b] = s->hist_z[b];
        p->y[b] = d > 0 ? log10(d) : NAN;
        p->y2[b] = s->hist_normal[b] > 0 ? log10(s->hist_normal[b]) : NAN;
        if (d > 0) lo = fmin(lo, p->y[b]), hi = fmax(hi, p->y[b]);
        if (isfinite(p->y2[b])) hi = fmax(hi, p->y2[b]);
    }
    if (!(lo <= hi)) lo = -4, hi = 0;
    lo = fmin(floor(lo - 0.2), -3.0), hi = hi + 0.3;   /* N(0, 1) visible to 1e-3 */
    double x0, x1, y0, y1;
    panel_box(0, &x0, &x1, &y0, &y1);
    plvpor(x0, x1, y0, y1);
    plwind(-s->z_max, s->z_max, lo, hi);
    plcol0(C_GRID);
    plwidth(0.6);
    plbox("g", 0.0, 0, "g", 1.0, 0);
    plcol0(C_INK);
    plwidth(2.0);
    pllsty(2);
    hl_plot_line_finite(nb, p->x, p->y2);
    pllsty(1);
    plcol0(C_VERMILION);
    plwidth(2.2);
    hl_plot_line_finite(nb, p->x, p->y);
    plcol0(C_INK);
    plwidth(1.0);
    plbox("bcnst", 0.0, 0, "bcnstlv", 1.0, 0);
    plmtex("b", 3.0, 0.5, 0.5, "standardised value z");
    plmtex("l", 4.2, 0.5, 0.5, "density");
    char buf[160], sub[160];
    if (isfinite(s->excess_kurtosis))
        snprintf(buf, sizeof buf, "Marginal: excess kurtosis %.4g \xc2\xb1 %.2g",
                 s->excess_kurtosis, s->kurtosis_se);
    else
        snprintf(buf, sizeof buf, "Marginal: every site is constant");
    snprintf(sub, sizeof sub, "mean %.3g, variance %.3g, skewness %.2g%s", s->mean,
             s->variance, s->skewness,
             s->translation_invariant ? ", pooled over sites" : ", standardised per site");
    panel_title(buf, sub);

    PLINT opt[2] = {PL_LEGEND_LINE, PL_LEGEND_LINE}, tcol[2] = {C_INK, C_INK};
    PLINT lcol[2] = {C_VERMILION, C_INK}, lsty[2] = {1, 2};
    PLFLT lwid[2] = {2.2, 2.0}, lw, lh;
    const char *text[2] = {"samples", "N(0, 1)"};
    plschr(0.0, 0.8);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_VIEWPORT | PL_POSITION_BOTTOM | PL_POSITION_INSIDE,
             0.0, 0.03, 0.08, C_BG, C_INK, 1, 0, 0, 2, opt, 1.0, 1.0, 2.0, 0.0, tcol, text,
             NULL, NULL, NULL, NULL, lcol, lsty, lwid, NULL, NULL, NULL, NULL);
    plschr(0.0, 1.0);
}

/* Torus arrays are drawn with lag (0, 0) at the centre. */
static double torus_at(const void *ctx, int r, int c)
{
    const page *p = ctx;
    const hl_stats *s = p->s;
    int L = s->L, rr = (r + L / 2) % L, cc = (c + L / 2) % L;
    return p->y[(size_t)rr * L + cc];
}

static double matrix_at(const void *ctx, int r, int c)
{
    const hl_stats *s = ((const page *)ctx)->s;
    return s->cov[(size_t)r * s->D + c];
}

/* A row over the sites (cov_row or kappa4) with its 2 SE band. */
static void draw_row(page *p, int k, const double *v, const double *se, const char *xlabel,
                     const char *ylabel)
{
    const hl_stats *s = p->s;
    /* A ring's row is symmetric, C(d) = C(L - d): the lags up to L/2 say it all. */
    int n = s->translation_invariant ? s->L / 2 + 1 : (int)s->D;
    for (int i = 0; i < n; i++) {
        p->x[i] = i;
        p->y[i] = v[i];
        p->y2[i] = v[i] - 2 * se[i];
    }
    double *hi = p->by + 2 * s->D;   /* spare room after the band polygon */
    for (int i = 0; i < n; i++) hi[i] = v[i] + 2 * se[i];
    draw_curve(p, k, n, p->x, p->y, p->y2, hi, xlabel, ylabel);
}

static void draw_covariance(page *p)
{
    const hl_stats *s = p->s;
    char buf[160];
    if (s->translation_invariant && s->dim == 2) {
        memcpy(p->y, s->cov_row, sizeof(double) * s->D);
        draw_image(1, s->L, torus_at, p, -s->L / 2 - 0.5, s->L - s->L / 2 - 0.5, "lag d#dx#u",
                   "lag d#dy#u", "C(d)");
        panel_title("Covariance C(d)", "averaged over translations, lag 0 at the centre");
    } else if (s->translation_invariant) {
        draw_row(p, 1, s->cov_row, s->cov_row_se, "lag d", "C(d)");
        panel_title("Covariance C(d) \xc2\xb1 2 SE", "averaged over translations");
    } else if (s->cov) {
        draw_image(1, (int)s->D, matrix_at, p, -0.5, s->D - 0.5, "site j", "site i", "C#dij#u");
        panel_title("Covariance matrix C#dij#u", NULL);
    } else {
        draw_row(p, 1, s->cov_row, s->cov_row_se, "site j", "C(o, j)");
        snprintf(buf, sizeof buf, "origin o = %zu (D too large for the matrix)", s->origin);
        panel_title("Covariance C(o, j) \xc2\xb1 2 SE", buf);
    }
}

/* Panel 2: the eigenvalues in descending order on a log axis. */
static void draw_spectrum(page *p)
{
    const hl_stats *s = p->s;
    double x0, x1, y0, y1, lo = INFINITY, hi = -INFINITY;
    panel_box(2, &x0, &x1, &y0, &y1);
    plvpor(x0, x1, y0, y1);
    size_t pos = 0, n = s->n_eigen;
    for (size_t i = 0; i < n; i++) {
        double e = s->eigenvalues[i];
        p->x[i] = (double)(i + 1);
        p->y[i] = e > 0 ? log10(e) : NAN;
        if (e > 0) pos++, lo = fmin(lo, p->y[i]), hi = fmax(hi, p->y[i]);
    }
    char buf[200];
    if (pos == 0) {
        plwind(0, 1, 0, 1);
        plcol0(C_INK);
        plbox("bc", 0, 0, "bc", 0, 0);
        plptex(0.5, 0.5, 1, 0, 0.5, n ? "no positive eigenvalue" : "not computed (D too large)");
        panel_title("Covariance spectrum", NULL);
        return;
    }
    /* A floor: eigenvalues below 1e-12 of the largest are rounding, not structure. */
    lo = fmax(lo, hi - 12);
    lo = floor(lo - 0.1), hi = ceil(hi + 0.05);
    if (hi - lo < 1) hi = lo + 1;
    plwind(0.5, n + 0.5, lo, hi);
    plcol0(C_GRID);
    plwidth(0.6);
    plbox("g", 0.0, 0, "g", 1.0, 0);
    plcol0(C_GREEN);
    plwidth(2.0);
    hl_plot_line_finite((int)n, p->x, p->y);
    if (n <= 64) plstring((int)n, p->x, p->y, "\xe2\x80\xa2");
    plcol0(C_INK);
    plwidth(1.0);
    plbox("bcnst", 0.0, 0, "bcnstlv", 1.0, 0);
    plmtex("b", 3.0, 0.5, 0.5, "rank");
    plmtex("l", 4.2, 0.5, 0.5, "eigenvalue");
    snprintf(buf, sizeof buf, "%s in descending order%s", s->translation_invariant
             ? "circulant eigenvalues (DFT of C)" : "eigenvalues", pos < n ? "; " : "");
    if (pos < n)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%zu of %zu > 0 shown", pos, n);
    panel_title("Covariance spectrum", buf);
}

static void draw_kappa4(page *p)
{
    const hl_stats *s = p->s;
    char buf[240];
    const char *what = s->translation_invariant ? "#gk#d4#u(0,0,d,d)" : "#gk#d4#u(o,o,j,j)";
    if (s->translation_invariant && s->dim == 2) {
        memcpy(p->y, s->kappa4, sizeof(double) * s->D);
        draw_image(3, s->L, torus_at, p, -s->L / 2 - 0.5, s->L - s->L / 2 - 0.5, "lag d#dx#u",
                   "lag d#dy#u", "#gk#d4#u");
    } else {
        draw_row(p, 3, s->kappa4, s->kappa4_se, s->translation_invariant ? "lag d" : "site j",
                 what);
    }
    char title[80];
    snprintf(title, sizeof title, "Fourth cumulant %s%s", what,
             s->translation_invariant && s->dim == 2 ? "" : " \xc2\xb1 2 SE");
    snprintf(buf, sizeof buf, "max |#gk4|/SE = %.3g (Gaussian: below %.2g)",
             s->kappa4_max_z, p->threshold);
    if (!s->translation_invariant)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", origin o = %zu", s->origin);
    panel_title(title, buf);
}

static void draw_page(void *ctx)
{
    page *p = ctx;
    plschr(0.0, 1.0);
    draw_marginal(p);
    draw_covariance(p);
    draw_spectrum(p);
    draw_kappa4(p);
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, 1.0, 0.0, 1.0);
    plcol0(C_INK);
    plschr(0.0, 1.25);
    char buf[400];
    snprintf(buf, sizeof buf, "%s \xe2\x80\x94 %s", p->title && *p->title ? p->title : "Statistics",
             p->gaussian ? "Gaussian within noise" : "non-Gaussian");
    plptex(0.5, 0.955, 1.0, 0.0, 0.5, buf);
    plschr(0.0, 1.0);
}

int hl_plot_stats(const char *base, const struct hl_stats *s, const char *title)
{
    if (!s)
        return hl_error_set(HL_EINVAL, "stats is NULL");
    if (s->translation_invariant && s->dim == 2 && s->L > 4096)
        return hl_error_set(HL_EINVAL, "L = %d; the figure draws tori up to 4096", s->L);
    int rc = HL_OK;
    size_t m = s->D > (size_t)s->n_bins ? s->D : (size_t)s->n_bins;
    page p = {.s = s, .title = title};
    p.gaussian = hl_stats_gaussian(s, HL_STATS_DEFAULT_ALPHA, &p.threshold);
    p.x = malloc(sizeof(double) * m);
    p.y = malloc(sizeof(double) * m);
    p.y2 = malloc(sizeof(double) * m);
    p.bx = malloc(sizeof(double) * 2 * m);
    p.by = malloc(sizeof(double) * 3 * m);   /* band polygon, then the upper edge */
    if (!p.x || !p.y || !p.y2 || !p.bx || !p.by)
        rc = hl_error_set(HL_ENOMEM, "cannot allocate work buffers for figure %s", base);
    hl_plot_page out = {PAGE_W, PAGE_H, colours, N_COL0 - C_BLUE, draw_page, &p};
    if (!rc) rc = hl_plot_render(base, &out);
    free(p.x), free(p.y), free(p.y2), free(p.bx), free(p.by);
    return rc;
}
