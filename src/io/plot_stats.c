/* plot_stats.c — one page of figures of a data model's statistics (hoclab stats):
 * the marginal against N(0, 1), the covariance, its spectrum, and the kappa4 slice;
 * see hl_plot_stats in include/hoclab/plot.h.
 *
 * The output conventions are plot.c's: PLplot's cairo drivers, a private stream per
 * page, BASE.png and BASE.svg each written to a temporary name and renamed, white
 * background, Okabe-Ito line colours, a blue-white-red map centred on zero for
 * signed images. plot.c keeps its page machinery private, so the few functions that
 * open a page are repeated here (render, check_output); they must stay in step.
 * Not thread-safe, like every PLplot caller (process-wide streams). */
#define _POSIX_C_SOURCE 200809L
#include "hoclab/plot.h"

#include "hoclab/error.h"
#include "hoclab/measure.h"

#include <plplot/plplot.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE_W 1500
#define PAGE_H 1100
#define PAGE_DPI 96.0
#define TEXT_MM 6.5
#define TICK_MM 2.5
#define MAX_IMAGE 512   /* image cells per side; larger arrays are subsampled */

enum { C_BG, C_INK, C_GREY, C_GRID, C_BLUE, C_ORANGE, C_GREEN, C_VERMILION, C_BAND, N_COL0 };

typedef void (*draw_fn)(void *ctx);

/* ---------------------------------------------------------------- output -- */

static void set_palette(void)
{
    static const int c[N_COL0][4] = {
        {255, 255, 255, 100}, {0, 0, 0, 100},     {110, 110, 110, 100}, {225, 225, 225, 100},
        {0, 114, 178, 100},   {230, 159, 0, 100}, {0, 158, 115, 100},   {213, 94, 0, 100},
        {0, 114, 178, 25}};
    PLINT r[N_COL0], g[N_COL0], b[N_COL0];
    PLFLT a[N_COL0];
    for (int i = 0; i < N_COL0; i++)
        r[i] = c[i][0], g[i] = c[i][1], b[i] = c[i][2], a[i] = c[i][3] / 100.0;
    plscmap0a(r, g, b, a, N_COL0);
}

/* Blue (negative) - white (zero) - red (positive), as plot.c's signed weights. */
static void set_cmap1_diverging(void)
{
    static const PLFLT pos[] = {0.0, 0.25, 0.5, 0.75, 1.0};
    static const PLFLT r[] = {0.020, 0.573, 0.969, 0.957, 0.698};
    static const PLFLT g[] = {0.188, 0.773, 0.969, 0.647, 0.094};
    static const PLFLT b[] = {0.380, 0.871, 0.969, 0.510, 0.169};
    plscmap1n(256);
    plscmap1l(1, 5, pos, r, g, b, NULL);
}

/* PLplot asks on stdin for an unknown device and exit()s: look the drivers up first. */
static int check_output(const char *base)
{
    if (!base || !*base || base[strlen(base) - 1] == '/')
        return hl_error_set(HL_EINVAL, "base is %s; expected a file path without extension",
                            base ? (*base ? "a folder" : "empty") : "NULL");
    char dir[PATH_MAX];
    const char *slash = strrchr(base, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == base)
        strcpy(dir, "/");
    else if ((size_t)(slash - base) >= sizeof dir)
        return hl_error_set(HL_EINVAL, "base path is too long (%zu characters)", strlen(base));
    else
        memcpy(dir, base, (size_t)(slash - base)), dir[slash - base] = '\0';
    if (access(dir, W_OK | X_OK) != 0)
        return hl_error_set(HL_EIO, "cannot write figure %s.png: folder %s: %s", base, dir,
                            strerror(errno));
    static const char *const need[] = {"pngcairo", "svgcairo"};
    const char *menu_buf[128], *dev_buf[128];
    const char **menu = menu_buf, **devs = dev_buf;
    int n = 128;
    plgFileDevs(&menu, &devs, &n);
    for (int k = 0; k < 2; k++) {
        int found = 0;
        for (int i = 0; i < n && !found; i++) found = strcmp(devs[i], need[k]) == 0;
        if (!found)
            return hl_error_set(HL_EIO, "PLplot device %s is not available "
                                "(install the PLplot cairo driver)", need[k]);
    }
    return HL_OK;
}

static int render_file(const char *base, const char *dev, const char *ext, draw_fn draw,
                       void *ctx)
{
    char path[PATH_MAX], tmp[PATH_MAX + 48], msg[1024] = "";
    if ((size_t)snprintf(path, sizeof path, "%s%s", base, ext) >= sizeof path)
        return hl_error_set(HL_EINVAL, "base path is too long (%zu characters)", strlen(base));
    int fd = -1;
    for (unsigned k = 0; fd < 0 && k < 100; k++) {
        snprintf(tmp, sizeof tmp, "%s.tmp%ld_%u", path, (long)getpid(), k);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0)
        return hl_error_set(HL_EIO, "cannot write figure %s: %s", path, strerror(errno));
    close(fd);

    PLINT failed = 0, prev, strm;
    plgstrm(&prev);
    plmkstrm(&strm);
    if (strm < 0) {
        unlink(tmp);
        return hl_error_set(HL_EIO, "cannot write figure %s: no free PLplot stream", path);
    }
    plsError(&failed, msg);
    plsdev(dev);
    plsfnam(tmp);
    plspage(PAGE_DPI, PAGE_DPI, PAGE_W, PAGE_H, 0, 0);
    set_palette();
    plinit();
    plschr(TEXT_MM, 1.0);
    plsmaj(TICK_MM, 1.0);
    plsmin(0.5 * TICK_MM, 1.0);
    pladv(0);
    draw(ctx);
    plend1();
    plsstrm(prev);

    struct stat st;
    if (failed || stat(tmp, &st) != 0 || st.st_size == 0) {
        unlink(tmp);
        msg[strcspn(msg, "\n")] = '\0';
        return hl_error_set(HL_EIO, "cannot write figure %s: PLplot %s", path,
                            failed ? msg : "wrote nothing");
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return hl_error_set(HL_EIO, "cannot write figure %s: rename: %s", path, strerror(e));
    }
    return HL_OK;
}

/* --------------------------------------------------------------- helpers -- */

static void pad_range(double *lo, double *hi, double frac)
{
    if (!(*lo <= *hi)) *lo = 0.0, *hi = 1.0;
    double span = *hi - *lo;
    if (span <= 1e-12 * (fabs(*lo) + fabs(*hi))) {
        span = *hi != 0.0 ? fabs(*hi) : 1.0;
        *lo -= 0.5 * span, *hi += 0.5 * span;
    } else {
        *lo -= frac * span, *hi += frac * span;
    }
}

static double nice_step(double x)
{
    double e = pow(10.0, floor(log10(x))), f = x / e;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * e;
}

/* Polyline through the finite points only, broken where a value is missing. */
static void line_finite(int n, const double *x, const double *y)
{
    for (int i = 0; i < n;) {
        while (i < n && !(isfinite(x[i]) && isfinite(y[i]))) i++;
        int j = i;
        while (j < n && isfinite(x[j]) && isfinite(y[j])) j++;
        if (j - i == 1) plstring(1, &x[i], &y[i], "\xe2\x80\xa2");
        else if (j - i > 1) plline(j - i, &x[i], &y[i]);
        i = j;
    }
}

static void colour_bar(double lo, double hi, const char *label)
{
    double step = nice_step((hi - lo) / 4.0);
    for (int i = 0; i < 8 && floor(hi / step) - ceil(lo / step) < 2.0; i++)
        step = nice_step(0.39 * step);
    PLFLT vals[2] = {lo, hi}, w, h, ticks[1] = {step};
    const PLFLT *values[1] = {vals};
    PLINT n_values[1] = {2}, sub[1] = {0}, label_opt[1] = {PL_COLORBAR_LABEL_TOP};
    const char *axis[1] = {"bcvtm"}, *labels[1] = {label};
    plschr(0.0, 0.8);
    plcolorbar(&w, &h, PL_COLORBAR_GRADIENT,
               PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
               0.03, 0.0, 0.05, 0.85, C_BG, C_INK, 1, 0.0, 0.0, C_INK, 1.0,
               1, label_opt, labels, 1, axis, ticks, sub, n_values, values);
    plschr(0.0, 1.0);
}

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
    set_cmap1_diverging();
    /* plimagefr, not plimage: plimage stretches the colours over the data's own
     * range, which would move zero off white. */
    plimagefr((PLFLT_MATRIX)z, m, m, extent_lo, extent_hi, extent_lo, extent_hi, -a, a, -a, a,
              NULL, NULL);
    plFree2dGrid(z, m, m);
    plcol0(C_INK);
    plwidth(1.0);
    double tick = nice_step((extent_hi - extent_lo) / 4.0);
    plbox("bcnst", tick, 0, "bcnstv", tick, 0);
    plmtex("b", 3.0, 0.5, 0.5, xlabel);
    plmtex("l", 4.0, 0.5, 0.5, ylabel);
    colour_bar(-a, a, bar);
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
    pad_range(&ymin, &ymax, 0.06);
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
    line_finite(n, x, y);
    plcol0(C_INK);
    plwidth(1.0);
    plsyax(6, 0);
    plbox("bcnst", 0.0, 0, "bcnstv", nice_step((ymax - ymin) / 5.0), 0);
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
    line_finite(nb, p->x, p->y2);
    pllsty(1);
    plcol0(C_VERMILION);
    plwidth(2.2);
    line_finite(nb, p->x, p->y);
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
    line_finite((int)n, p->x, p->y);
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
    int rc = check_output(base);
    if (rc)
        return rc;
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
    if (!rc) rc = render_file(base, "pngcairo", ".png", draw_page, &p);
    if (!rc) rc = render_file(base, "svgcairo", ".svg", draw_page, &p);
    free(p.x), free(p.y), free(p.y2), free(p.bx), free(p.by);
    return rc;
}
