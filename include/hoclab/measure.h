/* measure.h — what is measured on a network during learning.
 *
 *   IPR(w)      = sum_i w_i^4 / (sum_i w_i^2)^2   (about 3/D for a random Gaussian w,
 *                 1 for a single-pixel receptive field)
 *   kurtosis_k  = E[l^4] / E[l^2]^2 - 3 of the preactivation l = w_k . x / sqrt(D)
 *                 over the test set (excess kurtosis, 0 for Gaussian l)
 *   test error  = fraction of test samples with sign(phi) != y
 *   test loss   = mean (phi - y)^2 / 2 */
#ifndef HOCLAB_MEASURE_H
#define HOCLAB_MEASURE_H

#include "hoclab/net.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

double hl_ipr(const float *w, size_t D);

/* Workspace for evaluating a network on a test set, built once per run. */
typedef struct hl_eval hl_eval;

hl_eval *hl_eval_alloc(int K);
void hl_eval_free(hl_eval *e);

/* Evaluate `net` on X (n x D), y (n): test error and loss, and for every unit its
 * IPR (ipr[K]) and preactivation excess kurtosis (kurtosis[K]). Any output pointer
 * may be NULL. Allocates nothing. */
int hl_eval_run(hl_eval *e, const hl_net *net, const float *X, const float *y, size_t n,
                double *test_error, double *test_loss, double *ipr, double *kurtosis);

/* ---- Statistics of a data model: what is Gaussian about it and what is not ----------
 *
 * From n samples X (n x D, row-major float) of a model, accumulated in double:
 *  - per site: mean and variance (unbiased);
 *  - the marginal: grand mean, variance (the average per-site variance), skewness and
 *    excess kurtosis of the standardised values z, the kurtosis's standard error, and
 *    a histogram of z on [-z_max, z_max] with the standard normal's probability per
 *    bin beside it. Translation-invariant data are standardised with the pooled mean
 *    and variance (every site has the same law); other data site by site, and sites
 *    that never change are left out of the marginal (n_constant counts them);
 *  - the covariance: translation invariant (a ring, dim 1, D = L; or a torus, dim 2,
 *    D = L*L): the translation-averaged row C(d) = <y_i y_{i+d}> (y = x - mean) and the
 *    circulant eigenvalues, its DFT, both from one FFT pair per sample (FFTW, double):
 *    O(n D log D) for every D, no O(n D^2) loop. Otherwise: the full D x D covariance
 *    (O(n D^2), BLAS) and its eigenvalues (GSL gsl_eigen_symm, O(D^3)), for D up to
 *    HL_STATS_MAX_FULL_D; above it only row `origin` of the covariance is computed;
 *  - a slice of the fourth cumulant, zero for every Gaussian:
 *        kappa4(o, o, j, j) = E[y_o^2 y_j^2] - E[y_o^2] E[y_j^2] - 2 E[y_o y_j]^2,
 *    averaged over the origin o when translation invariant (j is then the lag d), else
 *    at the origin site `origin`.
 * The n samples must be independent (a Markov chain's correlated draws make every
 * standard error too small); sites may be correlated in any way.
 * Standard errors are those of the mean over independent samples of each estimator's
 * linearisation (its influence function), computed site-averaged per sample, so that
 * correlations between sites are accounted for. They neglect the uncertainty of the
 * mean in the covariance and kappa4 (exact for a known zero mean, a third-moment
 * correction otherwise) and are unreliable where the eighth moment does not exist
 * (heavy tails). Covariances and moments are normalised by n (the bias is O(1/n)). */

enum {
    HL_STATS_MAX_FULL_D = 2048,   /* largest D for the full covariance and its eigenvalues */
    HL_STATS_DEFAULT_BINS = 96
};
#define HL_STATS_DEFAULT_Z_MAX 6.0
#define HL_STATS_DEFAULT_ALPHA 0.01   /* false-alarm probability of the Gaussian verdict */

typedef struct hl_stats_config {
    int translation_invariant;   /* 1: X lives on a ring (dim 1) or torus (dim 2) of side L */
    int dim, L;                  /* translation invariant only; D must be L^dim */
    size_t origin;               /* not translation invariant: site o of the kappa4 slice
                                    and of the covariance row (0 by default) */
    int n_bins;                  /* histogram bins; 0: HL_STATS_DEFAULT_BINS */
    double z_max;                /* histogram range [-z_max, z_max]; 0: the default */
} hl_stats_config;

typedef struct hl_stats {
    size_t n, D;
    int translation_invariant, dim, L;
    size_t origin;

    double *site_mean, *site_var;          /* D each */
    double mean, variance, skewness;       /* the marginal */
    double excess_kurtosis, kurtosis_se;
    size_t n_constant;                     /* sites of zero variance, left out */
    int n_bins;
    double z_max;
    double *hist_z;        /* n_bins bin centres */
    double *hist_density;  /* n_bins: fraction of the z values per bin / bin width */
    double *hist_normal;   /* n_bins: (Phi(b) - Phi(a)) / width, the same for N(0, 1) */
    size_t n_below, n_above;               /* z values outside the range */

    /* Covariance row (D, row-major L x L for dim 2) and its standard error:
     * translation invariant C(d), lag d; else C(origin, j). */
    double *cov_row, *cov_row_se;
    double *cov;           /* D x D, not translation invariant and D <= max; else NULL */
    double *spectrum, *spectrum_se;        /* translation invariant: DFT of C(d), DFT
                                              order (k1 * L + k2 in 2D); else NULL */
    double *eigenvalues;   /* n_eigen, descending: the spectrum sorted, or cov's */
    size_t n_eigen;

    double *kappa4, *kappa4_se;            /* D: the slice kappa4(o, o, j, j) */
    double kappa4_max_z;                   /* max_j |kappa4_j| / SE_j */
    size_t kappa4_argmax;
} hl_stats;

/* A configuration with every field at its default (not translation invariant). */
hl_stats_config hl_stats_defaults(void);

/* Compute the statistics of X (n >= 2 samples of D >= 1 values) into *out (free with
 * hl_stats_free). HL_EINVAL names the bad argument (n, D, dim, L, origin, n_bins,
 * z_max, non-finite values of X); HL_ENOMEM; HL_ENUMERIC if an FFT plan or the
 * eigensolver fails. */
int hl_stats_compute(const float *X, size_t n, size_t D, const hl_stats_config *cfg,
                     hl_stats **out);
void hl_stats_free(hl_stats *s);

/* The verdict: 1 if the data are Gaussian within noise, i.e. neither the excess
 * kurtosis nor any element of the kappa4 slice is further from zero than the
 * Bonferroni threshold Phi^-1(1 - alpha / (2 m)) standard errors (m = D + 1 tests, so
 * that a Gaussian model is called non-Gaussian with probability <= alpha); 0 if not.
 * *threshold (may be NULL) receives that threshold. */
int hl_stats_gaussian(const hl_stats *s, double alpha, double *threshold);

/* |excess kurtosis| / its standard error (0 when no site varies, +inf when the
 * fourth moment is deterministic, as a sign field's). */
double hl_stats_kurtosis_z(const hl_stats *s);

/* Write the statistics to an HDF5 file, atomically (a temporary file renamed into
 * place). `params` (may be NULL) names the model and its resolved spec; seed and
 * command_line are recorded. Layout (arrays of D values are L x L for a torus):
 *   /            attributes kind = "stats", hoclab_version, created, command_line,
 *                model, spec, seed, n, D, translation_invariant, dim, L
 *   /marginal    attributes mean, variance, skewness, excess_kurtosis,
 *                excess_kurtosis_se, n_constant_sites, z_max, n_below, n_above;
 *                datasets site_mean, site_variance (D), hist_z, hist_density,
 *                hist_normal (n_bins)
 *   /covariance  attribute kind = "translation-averaged row" | "full" | "row";
 *                datasets row, row_se (D), eigenvalues (descending), and
 *                spectrum, spectrum_se (D, DFT order; translation invariant) or
 *                matrix (D x D; full)
 *   /kappa4      attributes origin, max_z, argmax, kurtosis_z, threshold, alpha,
 *                gaussian_within_noise (0/1); datasets slice, slice_se (D) */
struct hl_param_values;
int hl_stats_save(const hl_stats *s, const char *path, const struct hl_param_values *params,
                  unsigned long long seed, const char *command_line);

#ifdef __cplusplus
}
#endif
#endif
