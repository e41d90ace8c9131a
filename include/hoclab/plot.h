/* plot.h — figures of a run, drawn with PLplot's cairo drivers.
 *
 * Every function writes BASE.png and BASE.svg (BASE is a path without extension),
 * each first to a temporary name in the same folder and then renamed, so a reader
 * never sees a half-written figure. White background, labelled axes, a diverging
 * colour map centred on zero for signed weights, one shared colour scale per grid.
 * Returns HL_OK or a negative hl_status with hl_error_message() set. */
#ifndef HOCLAB_PLOT_H
#define HOCLAB_PLOT_H

#ifdef __cplusplus
extern "C" {
#endif

/* One labelled family of curves sampled at common times. */
typedef struct hl_plot_series {
    const char *label;   /* legend entry, e.g. "NLGP" or "GP clone" */
    int n;               /* number of time points */
    const double *t;     /* times, length n (t > 0 is drawn on a log axis; t <= 0 skipped) */
    int m;               /* curves in the family: K neurons for IPR, 1 for test error */
    const double *y;     /* values, n x m, row-major: y[i*m + j] is curve j at time t[i] */
} hl_plot_series;

/* Receptive fields as a grid of panels, one per neuron (at most 64 are drawn).
 * W is K x D row-major float, D = L (dim 1) or L*L (dim 2, row-major image).
 * dim 1: each panel shows w_i against site i as a curve, common y range.
 * dim 2: each panel shows the L x L image with one symmetric diverging colour scale
 *        [-max|W|, +max|W|] shared by all panels, and a colour bar.
 * `title` heads the page (e.g. "NLGP, t = 1000"). */
int hl_plot_rf_grid(const char *base, const float *W, int K, int L, int dim,
                    const char *title);

/* IPR against time on a log time axis: for every series, its m curves thin and
 * their mean thick, in one colour per series, with a legend. If ref > 0 a dashed
 * horizontal line marks it (3/D, the IPR of a random Gaussian vector). */
int hl_plot_ipr(const char *base, const hl_plot_series *series, int n_series,
                double ref, const char *title);

/* A scalar (m = 1) against time on a log time axis, one curve per series, legend.
 * Used for test error (ylabel "test error") and test loss. */
int hl_plot_timeseries(const char *base, const hl_plot_series *series, int n_series,
                       const char *ylabel, const char *title);

/* Curves y(x), one per series (m = 1), with a legend: x on a log axis (log_x; x <= 0
 * skipped) or a linear one. Used for CP factors and weights against the site, and
 * for the theory commands' time series. */
int hl_plot_curves(const char *base, const hl_plot_series *series, int n_series,
                   const char *xlabel, int log_x, const char *ylabel, const char *title);

/* A heat map: z (ny x nx, row-major: row y, column x) as coloured cells on a
 * sequential map over the data's range, each cell's value written in it, columns
 * labelled by xlabels[nx], rows by ylabels[ny], a colour bar labelled `bar`. */
int hl_plot_heatmap(const char *base, const double *z, int nx, int ny,
                    const char *const *xlabels, const char *const *ylabels, const char *xtitle,
                    const char *ytitle, const char *bar, const char *title);

/* A montage of example inputs: n_rows rows (one per class/model, labelled by
 * row_labels[r]) of n_per_row samples each. X is (n_rows*n_per_row) x D row-major,
 * row r's samples first. dim 1: each sample as a curve in its own panel; dim 2: each
 * sample as an L x L image with a grey or diverging map, shared scale per row. */
int hl_plot_montage(const char *base, const float *X, int n_rows, int n_per_row,
                    int L, int dim, const char *const *row_labels, const char *title);

/* ---- statistics of a data model (hoclab stats) -------------------------------------
 *
 * One page of four panels from hl_stats_compute's result (include/hoclab/measure.h):
 * the standardised marginal's histogram against N(0, 1) on a log density axis; the
 * covariance (translation-averaged row C(d) with a 2 SE band on a ring, the row as
 * an image centred on lag 0 on a torus, the matrix as an image otherwise); the
 * covariance eigenvalues in descending order on a log axis; the kappa4 slice with a
 * 2 SE band (an image on a torus). The title carries the verdict of
 * hl_stats_gaussian at HL_STATS_DEFAULT_ALPHA. Images over 512 cells a side are
 * subsampled. */
struct hl_stats;
int hl_plot_stats(const char *base, const struct hl_stats *s, const char *title);

#ifdef __cplusplus
}
#endif
#endif
