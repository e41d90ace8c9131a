/* plot.c — figures of a run (receptive-field grids, IPR and test-error curves,
 * input montages) drawn with PLplot's cairo drivers; see include/hoclab/plot.h.
 *
 * Each public function validates its arguments, prepares everything the figure
 * needs (ranges, log times, means, work buffers), then hands one draw function to
 * render(), which writes BASE.png and BASE.svg through the page machinery shared
 * with plot_stats.c (plot_impl.h, plot_page.c).
 *
 * Not thread-safe: PLplot keeps its streams, the current-stream index and its
 * driver table in process-wide globals. Calls must be made one at a time (any
 * thread, but never concurrently). */
#define _POSIX_C_SOURCE 200809L
#include "hoclab/plot.h"

#include "hoclab/error.h"
#include "plot_impl.h"

#include <plplot/plplot.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_PANELS 64    /* RF grid: more panels than this are unreadable (8 x 8) */
#define MAX_ROWS 8       /* grid rows, RF grid and montage alike */
#define MAX_MONTAGE_COLS 16
#define MAX_SERIES 16    /* one legend entry and colour each */
#define MAX_L_IMAGE 256  /* dim 2: every pixel is one filled cell */
#define MAX_L_CURVE (1 << 20)

/* cmap0 after the page's background, ink, grey and grid (plot_impl.h): the series
 * colours (Okabe-Ito, distinguishable with colour-blindness), then the same colours
 * translucent, for the thin per-neuron curves under a series' mean. */
enum { C_BG = HL_PLOT_BG, C_INK = HL_PLOT_INK, C_GREY = HL_PLOT_GREY, C_GRID = HL_PLOT_GRID,
       C_SERIES = HL_PLOT_N_FIXED, N_HUES = 8, C_FAINT = C_SERIES + N_HUES };
static const hl_plot_colour hue[N_HUES] = {
    {230, 159, 0, 1.0}, {0, 114, 178, 1.0}, {0, 158, 115, 1.0}, {213, 94, 0, 1.0},
    {204, 121, 167, 1.0}, {86, 180, 233, 1.0}, {120, 120, 120, 1.0}, {170, 140, 20, 1.0}};

/* BASE.png and BASE.svg of a page in this file's colours. */
static int render(const char *base, int width, int height, hl_plot_draw_fn draw, void *ctx)
{
    hl_plot_colour col[2 * N_HUES];
    for (int i = 0; i < 2 * N_HUES; i++)
        col[i] = hue[i % N_HUES], col[i].alpha = i < N_HUES ? 1.0 : 0.35;
    hl_plot_page page = {width, height, col, 2 * N_HUES, draw, ctx};
    return hl_plot_render(base, &page);
}

/* --------------------------------------------------------------- helpers -- */

/* Title centred at the top of the page, in page coordinates. */
static void page_title(const char *title, double y)
{
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, 1.0, 0.0, 1.0);
    plcol0(C_INK);
    plschr(0.0, 1.3);
    plptex(0.5, y, 1.0, 0.0, 0.5, title);
    plschr(0.0, 1.0);
}

/* ---------------------------------------------------------------- panels -- */

/* A grid of panels, one row of X per panel: the RF grid (one shared diverging
 * scale) and the montage (one grey scale per row). */
typedef struct {
    const float *X;
    int D, L, dim;
    int nrow, ncol, stride;   /* panel (r, c) shows X row r*stride + c */
    int n_panels;             /* panels drawn, row-major (last row may be short) */
    double lo[MAX_ROWS], hi[MAX_ROWS];   /* value range per grid row */
    int montage;              /* per-row scales and row labels, no panel captions */
    const char *const *row_labels;
    const char *vlabel;       /* quantity shown: "w#di#u" / "x#di#u" */
    char title[320];
    double W, H, ml, mr, mt, mb, cw, ch;   /* layout in pixels */
    PLFLT *xs, *ys;           /* dim 1: site index and one curve */
} panels;

/* Viewport and window of panel (r, c); 0 past the last panel. */
static int panel_view(const panels *g, int r, int c)
{
    if (r * g->ncol + c >= g->n_panels) return 0;
    const double pad_x = 8.0, pad_top = 26.0, pad_bot = 6.0;
    double x0 = (g->ml + c * g->cw + pad_x) / g->W;
    double x1 = (g->ml + (c + 1) * g->cw - pad_x) / g->W;
    double y1 = 1.0 - (g->mt + r * g->ch + pad_top) / g->H;
    double y0 = 1.0 - (g->mt + (r + 1) * g->ch - pad_bot) / g->H;
    if (g->dim == 2) {
        plvpas(x0, x1, y0, y1, 1.0);
        plwind(0.0, g->L, g->L, 0.0);   /* row 0 at the top, as images are read */
    } else {
        plvpor(x0, x1, y0, y1);
        plwind(0.0, g->L - 1, g->lo[r], g->hi[r]);
    }
    return 1;
}

static const float *panel_data(const panels *g, int r, int c)
{
    return g->X + ((size_t)r * (size_t)g->stride + (size_t)c) * (size_t)g->D;
}

/* The pixels of every image, as cmap1 cells. plimagefr() would do the same fills,
 * but the cairo driver gives each call its own page-sized offscreen raster, which
 * svgcairo embeds as one full-page PNG per panel (seconds per figure, megabytes);
 * one rasterize block around all panels makes that a single raster. */
static void draw_images(const panels *g)
{
    int L = g->L;
    pl_cmd(PLESC_START_RASTERIZE, NULL);
    for (int r = 0; r < g->nrow; r++)
        for (int c = 0; c < g->ncol && panel_view(g, r, c); c++) {
            const float *v = panel_data(g, r, c);
            double lo = g->lo[r], span = g->hi[r] - g->lo[r];
            for (int row = 0; row < L; row++)
                for (int col = 0; col < L; col++) {
                    PLFLT xs[4] = {col, col + 1, col + 1, col};
                    PLFLT ys[4] = {row, row, row + 1, row + 1};
                    double f = (v[row * L + col] - lo) / span;
                    plcol1(f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f);
                    plfill(4, xs, ys);
                }
        }
    pl_cmd(PLESC_END_RASTERIZE, NULL);
}

static void draw_panels(void *p)
{
    panels *g = p;
    hl_plot_set_cmap1(!g->montage);
    if (g->dim == 2) draw_images(g);
    for (int r = 0; r < g->nrow; r++) {
        for (int c = 0; c < g->ncol && panel_view(g, r, c); c++) {
            int idx = r * g->ncol + c;
            int bottom = idx + g->ncol >= g->n_panels, left = c == 0;
            double lo = g->lo[r], hi = g->hi[r];
            plschr(0.0, 0.85);
            plcol0(C_INK);
            plwidth(1.0);
            if (g->dim == 2) {
                double tick = hl_plot_nice_step(g->L / 3.0);
                plsmaj(0.0, 0.5);   /* short ticks hide few pixels */
                plbox(bottom ? "bcnt" : "bct", tick, 0, left ? "bcntv" : "bct", tick, 0);
                plsmaj(0.0, 1.0);
                if (left) plmtex("l", 3.4, 0.5, 0.5, "row");
                if (bottom) plmtex("b", 3.0, 0.5, 0.5, "column");
            } else {
                const float *v = panel_data(g, r, c);
                for (int i = 0; i < g->L; i++) g->ys[i] = v[i];
                PLFLT zx[2] = {0.0, g->L - 1}, zy[2] = {0.0, 0.0};
                plcol0(C_GREY);
                plwidth(0.5);
                plline(2, zx, zy);
                plcol0(C_SERIES + 1);
                plwidth(1.3);
                hl_plot_line_finite(g->L, g->xs, g->ys);
                plcol0(C_INK);
                plwidth(1.0);
                plbox(bottom ? "bcnt" : "bct", 0.0, 0, left ? "bcntv" : "bct",
                      hl_plot_nice_step((hi - lo) / 4.0), 0);   /* PLplot's own choice crowds */
                if (left) plmtex("l", 4.2, 0.5, 0.5, g->vlabel);
                if (bottom) plmtex("b", 3.0, 0.5, 0.5, "site i");
            }
            if (g->montage && left) {
                char buf[64];
                const char *lab = g->row_labels ? g->row_labels[r] : NULL;
                if (!lab) snprintf(buf, sizeof buf, "row %d", r), lab = buf;
                plschr(0.0, 1.05);
                plmtex("l", g->dim == 2 ? 4.4 : 5.2, 0.5, 0.5, lab);
            } else if (!g->montage) {
                char buf[32];
                snprintf(buf, sizeof buf, "k = %d", idx);
                plschr(0.0, 0.8);
                plmtex("t", 0.7, 0.5, 0.5, buf);
            }
            /* Montage: one colour bar per row, at the end of the row. */
            if (g->dim == 2 && g->montage && c == g->ncol - 1)
                hl_plot_colour_bar(lo, hi, "value", 0.035, 0.7, 3.0);
        }
    }
    if (g->dim == 2 && !g->montage) {   /* one bar for the one shared scale */
        plvpor(g->ml / g->W, (g->W - g->mr) / g->W, g->mb / g->H, 1.0 - g->mt / g->H);
        plschr(0.0, 0.85);
        hl_plot_colour_bar(g->lo[0], g->hi[0], "w", 0.035, g->nrow > 1 ? 0.6 : 0.9, 4.0);
    }
    page_title(g->title, 1.0 - 0.45 * g->mt / g->H);
}

/* Range over the panels of one grid row (or all of them), rejecting non-finite
 * values, which would draw as garbage colours. */
static int value_range(const float *X, size_t first, size_t count, const char *name,
                       double *lo, double *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (size_t i = first; i < first + count; i++) {
        if (!isfinite(X[i]))
            return hl_error_set(HL_EINVAL, "%s[%zu] = %g is not finite", name, i, (double)X[i]);
        if (X[i] < *lo) *lo = X[i];
        if (X[i] > *hi) *hi = X[i];
    }
    return HL_OK;
}

static int check_shape(int L, int dim)
{
    if (dim != 1 && dim != 2)
        return hl_error_set(HL_EINVAL, "dim = %d, must be 1 (curves) or 2 (L x L images)", dim);
    int max = dim == 2 ? MAX_L_IMAGE : MAX_L_CURVE;
    if (L < 2 || L > max)
        return hl_error_set(HL_EINVAL, "L = %d, must be 2..%d for dim %d", L, max, dim);
    return HL_OK;
}

/* Pixel layout of the page; images get square cells, curves wide ones. */
static void layout(panels *g, double cell, double ml, double mr)
{
    g->cw = cell;
    g->ch = g->dim == 2 ? cell : 0.62 * cell;
    g->ml = ml, g->mr = mr, g->mt = 70.0, g->mb = 58.0;
    g->W = g->ml + g->ncol * g->cw + g->mr;
    g->H = g->mt + g->nrow * g->ch + g->mb;
}

static int render_panels(const char *base, panels *g)
{
    g->xs = malloc((size_t)g->L * sizeof *g->xs);
    g->ys = malloc((size_t)g->L * sizeof *g->ys);
    int rc;
    if (!g->xs || !g->ys) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate work buffers for figure %s", base);
    } else {
        for (int i = 0; i < g->L; i++) g->xs[i] = i;
        rc = render(base, (int)lround(g->W), (int)lround(g->H), draw_panels, g);
    }
    free(g->xs), free(g->ys);
    return rc;
}

int hl_plot_rf_grid(const char *base, const float *W, int K, int L, int dim,
                    const char *title)
{
    if (!W) return hl_error_set(HL_EINVAL, "W is NULL; expected K x D weights");
    if (K < 1) return hl_error_set(HL_EINVAL, "K = %d, must be >= 1", K);
    int rc = check_shape(L, dim);
    if (rc) return rc;

    panels g = {.X = W, .L = L, .dim = dim, .vlabel = "w#di#u"};
    g.D = dim == 2 ? L * L : L;
    g.n_panels = K < MAX_PANELS ? K : MAX_PANELS;
    g.ncol = (int)ceil(sqrt((double)g.n_panels));
    g.nrow = (g.n_panels + g.ncol - 1) / g.ncol;
    g.stride = g.ncol;
    double lo, hi;
    rc = value_range(W, 0, (size_t)g.n_panels * (size_t)g.D, "W", &lo, &hi);
    if (rc) return rc;
    if (dim == 2) {   /* symmetric, so that white is exactly zero */
        double a = fmax(fabs(lo), fabs(hi));
        lo = a > 0 ? -a : -1.0, hi = a > 0 ? a : 1.0;
    } else {          /* zero always on the axis, for the zero line */
        lo = fmin(lo, 0.0), hi = fmax(hi, 0.0);
        hl_plot_pad_range(&lo, &hi, 0.06);
    }
    for (int r = 0; r < g.nrow; r++) g.lo[r] = lo, g.hi[r] = hi;
    if (K > g.n_panels)
        snprintf(g.title, sizeof g.title, "%s (showing %d of %d)", title ? title : "",
                 g.n_panels, K);
    else
        snprintf(g.title, sizeof g.title, "%s", title ? title : "");
    double cell = dim == 2 ? fmin(230.0, fmax(120.0, 900.0 / g.ncol))
                           : fmin(320.0, fmax(190.0, 1400.0 / g.ncol));
    layout(&g, cell, dim == 2 ? 70.0 : 85.0, dim == 2 ? 120.0 : 30.0);
    return render_panels(base, &g);
}

int hl_plot_montage(const char *base, const float *X, int n_rows, int n_per_row,
                    int L, int dim, const char *const *row_labels, const char *title)
{
    if (!X) return hl_error_set(HL_EINVAL, "X is NULL; expected (n_rows*n_per_row) x D inputs");
    if (n_rows < 1) return hl_error_set(HL_EINVAL, "n_rows = %d, must be >= 1", n_rows);
    if (n_per_row < 1) return hl_error_set(HL_EINVAL, "n_per_row = %d, must be >= 1", n_per_row);
    int rc = check_shape(L, dim);
    if (rc) return rc;

    panels g = {.X = X, .L = L, .dim = dim, .montage = 1, .row_labels = row_labels,
                .vlabel = "x#di#u", .stride = n_per_row};
    g.D = dim == 2 ? L * L : L;
    g.nrow = n_rows < MAX_ROWS ? n_rows : MAX_ROWS;
    g.ncol = n_per_row < MAX_MONTAGE_COLS ? n_per_row : MAX_MONTAGE_COLS;
    g.n_panels = g.nrow * g.ncol;
    for (int r = 0; r < g.nrow; r++) {   /* one scale per row: rows may differ a lot */
        size_t first = (size_t)r * (size_t)n_per_row * (size_t)g.D;
        rc = value_range(X, first, (size_t)g.ncol * (size_t)g.D, "X", &g.lo[r], &g.hi[r]);
        if (rc) return rc;
        hl_plot_pad_range(&g.lo[r], &g.hi[r], dim == 2 ? 0.0 : 0.06);
    }
    if (g.nrow < n_rows || g.ncol < n_per_row)
        snprintf(g.title, sizeof g.title, "%s (showing %d of %d rows, %d of %d per row)",
                 title ? title : "", g.nrow, n_rows, g.ncol, n_per_row);
    else
        snprintf(g.title, sizeof g.title, "%s", title ? title : "");
    double cell = dim == 2 ? fmin(200.0, fmax(100.0, 1000.0 / g.ncol))
                           : fmin(300.0, fmax(170.0, 1400.0 / g.ncol));
    layout(&g, cell, dim == 2 ? 95.0 : 110.0, dim == 2 ? 110.0 : 30.0);
    return render_panels(base, &g);
}

/* ---------------------------------------------------------------- curves -- */

/* Curves against log10(t): IPR (thin curves + thick mean) and scalar series. */
typedef struct {
    const hl_plot_series *s;
    int ns, thin;
    double ref;
    const char *xlabel, *ylabel, *title;
    int linear_x;             /* x as given instead of log10 t */
    double *x, *mean, *col;   /* x and mean: every series' n values, concatenated */
    double xmin, xmax, ymin, ymax;
} curves;

static void draw_curves(void *p)
{
    curves *c = p;
    plschr(0.0, 1.05);
    plvpor(0.10, 0.65, 0.12, 0.90);   /* the right third holds the legend */
    plwind(c->xmin, c->xmax, c->ymin, c->ymax);
    plcol0(C_GRID);
    plwidth(0.6);
    plbox(c->linear_x ? "g" : "gl", 0.0, 0, "g", 0.0, 0);
    plcol0(C_INK);
    plwidth(1.0);
    plsyax(6, 0);   /* allow 0.02-style labels instead of a separate (x10^-2) */
    plbox(c->linear_x ? "bcnst" : "bcnstl", 0.0, 0, "bcnstv", 0.0, 0);
    plmtex("b", 3.2, 0.5, 0.5, c->xlabel ? c->xlabel : "t = steps / D");
    plmtex("l", 5.0, 0.5, 0.5, c->ylabel);
    plschr(0.0, 1.25);
    plmtex("t", 1.6, 0.5, 0.5, c->title ? c->title : "");
    plschr(0.0, 1.05);

    if (c->ref > 0) {
        PLFLT rx[2] = {c->xmin, c->xmax}, ry[2] = {c->ref, c->ref};
        plcol0(C_GREY);
        pllsty(2);
        plwidth(1.5);
        plline(2, rx, ry);
        pllsty(1);
    }
    /* Thin curves first, so that every mean is drawn on top of all of them. */
    size_t off = 0;
    for (int k = 0; c->thin && k < c->ns; off += (size_t)c->s[k].n, k++) {
        const hl_plot_series *s = &c->s[k];
        plcol0(C_FAINT + k % N_HUES);
        plwidth(0.6);
        for (int j = 0; j < s->m; j++) {
            for (int i = 0; i < s->n; i++) c->col[i] = s->y[(size_t)i * s->m + j];
            hl_plot_line_finite(s->n, c->x + off, c->col);
        }
    }
    off = 0;
    for (int k = 0; k < c->ns; off += (size_t)c->s[k].n, k++) {
        plcol0(C_SERIES + k % N_HUES);
        plwidth(c->thin ? 2.5 : 2.0);
        hl_plot_line_finite(c->s[k].n, c->x + off, c->mean + off);
    }

    /* Legend outside the axes, to the right: it can never hide data. */
    int n = 0;
    PLINT opt[MAX_SERIES + 2], tcol[MAX_SERIES + 2], lcol[MAX_SERIES + 2], lsty[MAX_SERIES + 2];
    PLFLT lwid[MAX_SERIES + 2];
    const char *text[MAX_SERIES + 2];
    char names[MAX_SERIES][64];
    int any_family = 0;
    for (int k = 0; k < c->ns; k++, n++) {
        char dflt[24];
        any_family |= c->thin && c->s[k].m > 1;
        const char *lab = c->s[k].label;
        if (!lab) snprintf(dflt, sizeof dflt, "series %d", k), lab = dflt;
        snprintf(names[k], sizeof names[k], "%s%s", lab,
                 c->thin && c->s[k].m > 1 ? " (mean)" : "");
        text[n] = names[k], lcol[n] = C_SERIES + k % N_HUES, lsty[n] = 1;
        lwid[n] = c->thin ? 2.5 : 2.0;
    }
    if (any_family) {
        text[n] = "single neurons", lcol[n] = C_GREY, lsty[n] = 1, lwid[n] = 0.6;
        n++;
    }
    if (c->ref > 0) {
        text[n] = "random vector", lcol[n] = C_GREY, lsty[n] = 2, lwid[n] = 1.5;
        n++;
    }
    for (int i = 0; i < n; i++) opt[i] = PL_LEGEND_LINE, tcol[i] = C_INK;
    PLFLT lw, lh;
    plschr(0.0, 0.95);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_SUBPAGE | PL_POSITION_LEFT | PL_POSITION_TOP | PL_POSITION_INSIDE,
             0.67, 0.10, 0.06,
             C_BG, C_INK, 1, 0, 0, n, opt, 1.0, 1.0, 2.0, 0.0, tcol, text, NULL, NULL, NULL,
             NULL, lcol, lsty, lwid, NULL, NULL, NULL, NULL);
}

static int check_series(const hl_plot_series *s, int n_series, int scalar)
{
    if (!s) return hl_error_set(HL_EINVAL, "series is NULL");
    if (n_series < 1 || n_series > MAX_SERIES)
        return hl_error_set(HL_EINVAL, "n_series = %d, must be 1..%d", n_series, MAX_SERIES);
    for (int k = 0; k < n_series; k++) {
        if (s[k].n < 1)
            return hl_error_set(HL_EINVAL, "series[%d].n = %d, must be >= 1", k, s[k].n);
        if (scalar ? s[k].m != 1 : s[k].m < 1)
            return hl_error_set(HL_EINVAL, "series[%d].m = %d, must be %s", k, s[k].m,
                                scalar ? "1" : ">= 1");
        if (!s[k].t || !s[k].y)
            return hl_error_set(HL_EINVAL, "series[%d].%s is NULL", k, s[k].t ? "y" : "t");
    }
    return HL_OK;
}

/* Log times, per-time means over the m curves, and the axis ranges; points with
 * t <= 0 or non-finite values are left out (and break the line). */
static int render_curves(const char *base, curves *c)
{
    size_t total = 0;
    int nmax = 0;
    for (int k = 0; k < c->ns; k++) {
        total += (size_t)c->s[k].n;
        if (c->s[k].n > nmax) nmax = c->s[k].n;
    }
    c->x = malloc(total * sizeof *c->x);
    c->mean = malloc(total * sizeof *c->mean);
    c->col = malloc((size_t)nmax * sizeof *c->col);
    int rc;
    if (!c->x || !c->mean || !c->col) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate work buffers for figure %s", base);
        goto out;
    }
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    size_t off = 0;
    for (int k = 0; k < c->ns; k++) {
        const hl_plot_series *s = &c->s[k];
        for (int i = 0; i < s->n; i++, off++) {
            double t = s->t[i], sum = 0.0;
            int cnt = 0;
            c->x[off] = !isfinite(t) ? NAN : c->linear_x ? t : t > 0 ? log10(t) : NAN;
            for (int j = 0; j < s->m; j++) {
                double y = s->y[(size_t)i * s->m + j];
                if (!isfinite(y) || !isfinite(c->x[off])) continue;
                sum += y, cnt++;
                ylo = fmin(ylo, y), yhi = fmax(yhi, y);
            }
            c->mean[off] = cnt ? sum / cnt : NAN;
            if (cnt) xlo = fmin(xlo, c->x[off]), xhi = fmax(xhi, c->x[off]);
        }
    }
    if (c->ref > 0) ylo = fmin(ylo, c->ref), yhi = fmax(yhi, c->ref);
    int from_zero = c->thin && ylo >= 0;   /* IPR is positive: show it from zero */
    if (from_zero) ylo = 0.0;
    hl_plot_pad_range(&ylo, &yhi, 0.05);
    if (from_zero) ylo = 0.0;
    if (!(xlo <= xhi)) xlo = 0.0, xhi = 1.0;
    if (xhi - xlo < 1e-9) xlo -= 0.5, xhi += 0.5;
    double xpad = 0.02 * (xhi - xlo);   /* points at the ends stay whole */
    xlo -= xpad, xhi += xpad;
    c->xmin = xlo, c->xmax = xhi, c->ymin = ylo, c->ymax = yhi;
    rc = render(base, 1100, 700, draw_curves, c);
out:
    free(c->x), free(c->mean), free(c->col);
    return rc;
}

int hl_plot_ipr(const char *base, const hl_plot_series *series, int n_series,
                double ref, const char *title)
{
    int rc = check_series(series, n_series, 0);
    if (rc) return rc;
    curves c = {.s = series, .ns = n_series, .thin = 1, .ref = ref, .ylabel = "IPR",
                .title = title};
    return render_curves(base, &c);
}

int hl_plot_timeseries(const char *base, const hl_plot_series *series, int n_series,
                       const char *ylabel, const char *title)
{
    int rc = check_series(series, n_series, 1);
    if (rc) return rc;
    curves c = {.s = series, .ns = n_series, .ylabel = ylabel ? ylabel : "value",
                .title = title};
    return render_curves(base, &c);
}

int hl_plot_curves(const char *base, const hl_plot_series *series, int n_series,
                   const char *xlabel, int log_x, const char *ylabel, const char *title)
{
    int rc = check_series(series, n_series, 1);
    if (rc) return rc;
    curves c = {.s = series, .ns = n_series, .xlabel = xlabel ? xlabel : "x",
                .ylabel = ylabel ? ylabel : "value", .title = title, .linear_x = !log_x};
    return render_curves(base, &c);
}
