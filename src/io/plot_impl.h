/* plot_impl.h — the page machinery that every figure file of src/io shares (private):
 * writing BASE.png and BASE.svg atomically from one draw function, the colours every
 * page starts with, the colour maps, and small axis helpers. Implemented in plot_page.c;
 * used by plot.c (run figures) and plot_stats.c (hoclab stats).
 *
 * Not thread-safe: PLplot keeps its streams, the current-stream index and its driver
 * table in process-wide globals, so figures are drawn one at a time. */
#ifndef HOCLAB_PLOT_IMPL_H
#define HOCLAB_PLOT_IMPL_H

/* cmap0 of every page starts with these; a figure's own colours follow them. */
enum { HL_PLOT_BG, HL_PLOT_INK, HL_PLOT_GREY, HL_PLOT_GRID, HL_PLOT_N_FIXED };
enum { HL_PLOT_MAX_COLOURS = 60 };   /* a figure's own colours, at most */

typedef struct hl_plot_colour {
    unsigned char r, g, b;
    double alpha;   /* 1 opaque, 0 invisible */
} hl_plot_colour;

typedef void (*hl_plot_draw_fn)(void *ctx);

/* One page: its size in pixels (at 96 dpi), its own colours (cmap0 index
 * HL_PLOT_N_FIXED + i is colours[i]) and what draws it. The draw function starts
 * on the page after pladv(0), with a base character height and tick lengths that
 * do not grow with the page. */
typedef struct hl_plot_page {
    int width, height;
    const hl_plot_colour *colours;
    int n_colours;
    hl_plot_draw_fn draw;
    void *ctx;
} hl_plot_page;

/* HL_OK if BASE.png can be written: BASE is a file path without extension in a
 * writable folder, and PLplot has the cairo drivers. Checked before PLplot sees the
 * path: it would exit() on an unwritable file or ask on stdin for a missing driver. */
int hl_plot_check_output(const char *base);

/* Check the output, then draw the page into BASE.png and BASE.svg, each written to a
 * temporary name in the same folder and renamed. HL_EINVAL, HL_EIO with a message. */
int hl_plot_render(const char *base, const hl_plot_page *page);

/* cmap1: blue (negative) - white (zero) - red (positive) if diverging, so that zero
 * sits at the middle of a symmetric range [-a, a]; else black to white. */
void hl_plot_set_cmap1(int diverging);

/* A colour bar right of the current viewport for cmap1 over [lo, hi], labelled on
 * top; width and height as fractions of the viewport; at least three tick labels,
 * about (hi - lo) / nticks apart. */
void hl_plot_colour_bar(double lo, double hi, const char *label, double width, double height,
                        double nticks);

/* [lo, hi] widened by frac of its span each side; a flat or empty range (no finite
 * data: lo > hi) becomes a usable axis. */
void hl_plot_pad_range(double *lo, double *hi, double frac);

/* A round tick spacing of at least x: 1, 2 or 5 times a power of ten. */
double hl_plot_nice_step(double x);

/* Polyline through the finite points only, broken where a value is missing; a lone
 * finite point is drawn as a bullet. */
void hl_plot_line_finite(int n, const double *x, const double *y);

#endif
