/* stats.c — what is Gaussian about a model's samples and what is not: marginal
 * moments and histogram, the covariance and its spectrum, and a slice of the fourth
 * cumulant, with standard errors (see include/hoclab/measure.h).
 *
 * The samples are read in a few passes (site means; central moments and the
 * covariance; the standard errors and the histogram, which need the finished means),
 * each O(n D) but the full covariance, O(n D^2). Translation-invariant data never
 * take an O(n D^2) loop: the translation-averaged covariance row of a sample is the
 * inverse DFT of its power spectrum (Wiener-Khinchin), and the E[y_o^2 y_j^2] term of
 * kappa4 is the same for the squared field, so each sample costs four real FFTs of
 * size D per pass, whatever D. Everything is accumulated in double. */
#include "hoclab/measure.h"
#include "hoclab/error.h"

#include <fftw3.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 256 };   /* samples per BLAS update of the full covariance */

/* Central moments of the samples, filled by site_moments(). */
typedef struct {
    double *c2, *c3, *c4;   /* per site, about the site mean, summed over samples */
    double mu;              /* grand mean: the centre of translation-invariant data */
    double p2, p3, p4;      /* pooled central moments about mu (normalised) */
} moments;

hl_stats_config hl_stats_defaults(void)
{
    return (hl_stats_config){.translation_invariant = 0, .dim = 1, .L = 0, .origin = 0,
                             .n_bins = HL_STATS_DEFAULT_BINS,
                             .z_max = HL_STATS_DEFAULT_Z_MAX};
}

void hl_stats_free(hl_stats *s)
{
    if (!s)
        return;
    double **arrays[] = {&s->site_mean, &s->site_var, &s->hist_z, &s->hist_density,
                         &s->hist_normal, &s->cov_row, &s->cov_row_se, &s->cov,
                         &s->spectrum, &s->spectrum_se, &s->eigenvalues, &s->kappa4,
                         &s->kappa4_se};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        free(*arrays[i]);
    free(s);
}

/* Standard error of a mean from the sum and sum of squares of n values. */
static double mean_se(double sum, double sum2, size_t n)
{
    double m = sum / n, var = (sum2 / n - m * m) * n / (n - 1.0);
    return var > 0 ? sqrt(var / n) : 0.0;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int check_args(const float *X, size_t n, size_t D, const hl_stats_config *c,
                      hl_stats **out)
{
    if (!out)
        return hl_error_set(HL_EINVAL, "out is NULL");
    *out = NULL;
    if (!X)
        return hl_error_set(HL_EINVAL, "X is NULL; expected n x D samples");
    if (!c)
        return hl_error_set(HL_EINVAL, "cfg is NULL (use hl_stats_defaults())");
    if (n < 2)
        return hl_error_set(HL_EINVAL, "n = %zu samples; at least 2 are needed", n);
    if (D < 1)
        return hl_error_set(HL_EINVAL, "D = 0; every sample needs at least one value");
    if (c->n_bins < 0 || c->n_bins > 100000)
        return hl_error_set(HL_EINVAL, "n_bins = %d; accepted 1..100000 (0: default %d)",
                            c->n_bins, HL_STATS_DEFAULT_BINS);
    if (!(c->z_max >= 0) || !isfinite(c->z_max))
        return hl_error_set(HL_EINVAL, "z_max = %g; accepted a finite value > 0 (0: default "
                            "%g)", c->z_max, HL_STATS_DEFAULT_Z_MAX);
    if (c->translation_invariant) {
        if (c->dim != 1 && c->dim != 2)
            return hl_error_set(HL_EINVAL, "dim = %d; a translation-invariant model lives on a "
                                "ring (dim 1) or a torus (dim 2)", c->dim);
        size_t sites = c->L < 1 ? 0 : c->dim == 1 ? (size_t)c->L : (size_t)c->L * c->L;
        if (c->L < 1 || sites != D)
            return hl_error_set(HL_EINVAL, "L = %d with dim = %d gives %zu sites, but D = %zu",
                                c->L, c->dim, sites, D);
    } else if (c->origin >= D) {
        return hl_error_set(HL_EINVAL, "origin = %zu; accepted 0..%zu (a site)", c->origin,
                            D - 1);
    }
    return HL_OK;
}

static hl_stats *stats_alloc(size_t n, size_t D, const hl_stats_config *c)
{
    hl_stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->n = n, s->D = D;
    s->translation_invariant = c->translation_invariant != 0;
    s->dim = s->translation_invariant ? c->dim : 1;
    s->L = s->translation_invariant ? c->L : (int)D;
    s->origin = s->translation_invariant ? 0 : c->origin;
    s->n_bins = c->n_bins ? c->n_bins : HL_STATS_DEFAULT_BINS;
    s->z_max = c->z_max > 0 ? c->z_max : HL_STATS_DEFAULT_Z_MAX;
    size_t b = (size_t)s->n_bins;
    int ok = (s->site_mean = calloc(D, sizeof(double))) && (s->site_var = calloc(D, sizeof(double))) &&
             (s->hist_z = calloc(b, sizeof(double))) && (s->hist_density = calloc(b, sizeof(double))) &&
             (s->hist_normal = calloc(b, sizeof(double))) &&
             (s->cov_row = calloc(D, sizeof(double))) && (s->cov_row_se = calloc(D, sizeof(double))) &&
             (s->kappa4 = calloc(D, sizeof(double))) && (s->kappa4_se = calloc(D, sizeof(double)));
    if (ok && s->translation_invariant)
        ok = (s->spectrum = calloc(D, sizeof(double))) &&
             (s->spectrum_se = calloc(D, sizeof(double))) &&
             (s->eigenvalues = calloc(D, sizeof(double)));
    if (!ok) {
        hl_stats_free(s);
        return NULL;
    }
    return s;
}

/* ---- pass 1 and 2: site means, central moments ----------------------------------- */

static int site_moments(const float *X, hl_stats *s, moments *m)
{
    const size_t n = s->n, D = s->D;
    for (size_t k = 0; k < n; k++) {
        const float *x = X + k * D;
        for (size_t i = 0; i < D; i++) {
            if (!isfinite(x[i]))
                return hl_error_set(HL_EINVAL, "X[%zu] = %g (sample %zu, site %zu) is not "
                                    "finite", k * D + i, (double)x[i], k, i);
            s->site_mean[i] += x[i];
        }
    }
    double grand = 0;
    for (size_t i = 0; i < D; i++) {
        s->site_mean[i] /= n;
        grand += s->site_mean[i];
    }
    m->mu = s->mean = grand / D;
    double p2 = 0, p3 = 0, p4 = 0;
    for (size_t k = 0; k < n; k++) {
        const float *x = X + k * D;
        for (size_t i = 0; i < D; i++) {
            double a = x[i] - s->site_mean[i], a2 = a * a;
            m->c2[i] += a2, m->c3[i] += a2 * a, m->c4[i] += a2 * a2;
            double b = x[i] - m->mu, b2 = b * b;
            p2 += b2, p3 += b2 * b, p4 += b2 * b2;
        }
    }
    m->p2 = p2 / ((double)n * D), m->p3 = p3 / ((double)n * D), m->p4 = p4 / ((double)n * D);
    double var = 0;
    for (size_t i = 0; i < D; i++)
        var += s->site_var[i] = m->c2[i] / (n - 1.0);
    s->variance = var / D;
    return HL_OK;
}

/* A site whose values never change has no marginal shape: rounding leaves a spread
 * of about 1e-16 |mean| there, so "constant" is relative to the mean. */
static int is_constant(double c2, size_t n, double mean)
{
    double sd = sqrt(c2 / n);
    return sd == 0 || sd <= 1e-9 * fabs(mean);
}

/* ---- pass 3: the marginal's kurtosis, its standard error, the histogram ----------- */

static int marginal(const float *X, hl_stats *s, const moments *m)
{
    const size_t n = s->n, D = s->D;
    const int ti = s->translation_invariant;
    double *centre = malloc(sizeof(double) * D), *scale = malloc(sizeof(double) * D);
    double *skew = malloc(sizeof(double) * D), *kurt = malloc(sizeof(double) * D);
    size_t *count = calloc((size_t)s->n_bins, sizeof(size_t));
    int rc = HL_OK;
    if (!centre || !scale || !skew || !kurt || !count) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the marginal's work arrays (D = %zu)", D);
        goto out;
    }
    /* Standardisation: pooled for a translation-invariant model (all sites share one
     * law), site by site otherwise; scale 0 marks a site left out. */
    size_t used = 0;
    double sum_skew = 0, sum_kurt = 0;
    for (size_t i = 0; i < D; i++) {
        double v2, v3, v4;
        if (ti)
            centre[i] = m->mu, v2 = m->p2, v3 = m->p3, v4 = m->p4;
        else
            centre[i] = s->site_mean[i], v2 = m->c2[i] / n, v3 = m->c3[i] / n,
            v4 = m->c4[i] / n;
        if (ti ? !(v2 > 0) : is_constant(m->c2[i], n, s->site_mean[i])) {
            scale[i] = skew[i] = kurt[i] = 0;
            continue;
        }
        scale[i] = 1 / sqrt(v2);
        skew[i] = v3 / (v2 * sqrt(v2));
        kurt[i] = v4 / (v2 * v2);
        sum_skew += skew[i], sum_kurt += kurt[i];
        used++;
    }
    s->n_constant = D - used;
    if (used == 0) {
        s->skewness = s->excess_kurtosis = s->kurtosis_se = NAN;
        goto out;
    }
    s->skewness = sum_skew / used;
    s->excess_kurtosis = sum_kurt / used - 3;

    /* Per sample, the site average of the kurtosis's influence function
     * z^4 - 4 s3 z - 2 K z^2 (+ a constant): its spread over the independent samples
     * is the estimate's, whatever the correlations between sites. */
    const double w = 2 * s->z_max / s->n_bins;
    double su = 0, su2 = 0;
    for (size_t k = 0; k < n; k++) {
        const float *x = X + k * D;
        double u = 0;
        for (size_t i = 0; i < D; i++) {
            if (scale[i] == 0)
                continue;
            double z = (x[i] - centre[i]) * scale[i], z2 = z * z;
            u += z2 * z2 - 4 * skew[i] * z - 2 * kurt[i] * z2;
            double f = floor((z + s->z_max) / w);
            if (f < 0)
                s->n_below++;
            else if (f >= s->n_bins)
                s->n_above++;
            else
                count[(size_t)f]++;
        }
        u /= used;
        su += u, su2 += u * u;
    }
    s->kurtosis_se = mean_se(su, su2, n);
    const double total = (double)n * used;
    for (int b = 0; b < s->n_bins; b++) {
        double lo = -s->z_max + b * w, hi = lo + w;
        s->hist_z[b] = lo + 0.5 * w;
        s->hist_density[b] = count[b] / (total * w);
        s->hist_normal[b] = (gsl_cdf_ugaussian_P(hi) - gsl_cdf_ugaussian_P(lo)) / w;
    }
out:
    free(centre), free(scale), free(skew), free(kurt), free(count);
    return rc;
}

/* ---- translation invariant: FFT per sample ---------------------------------------- */

typedef struct {
    int dim, L;
    size_t D, nk;           /* sites; complex coefficients of a real DFT */
    double *in, *out;       /* D */
    fftw_complex *F, *G;    /* nk */
    fftw_plan fwd, inv;     /* in -> F, G -> out */
} ti_fft;

static void ti_fft_free(ti_fft *t)
{
    if (t->fwd) fftw_destroy_plan(t->fwd);
    if (t->inv) fftw_destroy_plan(t->inv);
    fftw_free(t->in), fftw_free(t->out), fftw_free(t->F), fftw_free(t->G);
}

static int ti_fft_alloc(ti_fft *t, int dim, int L)
{
    memset(t, 0, sizeof *t);
    t->dim = dim, t->L = L;
    t->D = dim == 1 ? (size_t)L : (size_t)L * L;
    t->nk = (dim == 1 ? 1 : (size_t)L) * (size_t)(L / 2 + 1);
    t->in = fftw_malloc(sizeof(double) * t->D);
    t->out = fftw_malloc(sizeof(double) * t->D);
    t->F = fftw_malloc(sizeof(fftw_complex) * t->nk);
    t->G = fftw_malloc(sizeof(fftw_complex) * t->nk);
    if (!t->in || !t->out || !t->F || !t->G) {
        ti_fft_free(t);
        return hl_error_set(HL_ENOMEM, "cannot allocate FFT buffers (D = %zu)", t->D);
    }
    if (dim == 1) {
        t->fwd = fftw_plan_dft_r2c_1d(L, t->in, t->F, FFTW_ESTIMATE);
        t->inv = fftw_plan_dft_c2r_1d(L, t->G, t->out, FFTW_ESTIMATE);
    } else {
        t->fwd = fftw_plan_dft_r2c_2d(L, L, t->in, t->F, FFTW_ESTIMATE);
        t->inv = fftw_plan_dft_c2r_2d(L, L, t->G, t->out, FFTW_ESTIMATE);
    }
    if (!t->fwd || !t->inv) {
        ti_fft_free(t);
        return hl_error_set(HL_ENUMERIC, "FFTW could not plan a transform of %d^%d points", L,
                            dim);
    }
    return HL_OK;
}

/* The translation average (1/D) sum_i v_i v_{i+d} of t->in at every lag d into t->out,
 * as the inverse DFT of |V_k|^2 (unnormalised FFTW transforms: a factor D^2). */
static void autocorrelation(ti_fft *t)
{
    fftw_execute(t->fwd);
    for (size_t k = 0; k < t->nk; k++) {
        t->G[k][0] = t->F[k][0] * t->F[k][0] + t->F[k][1] * t->F[k][1];
        t->G[k][1] = 0;
    }
    /* The power |V_k|^2 / D, the sample's circulant eigenvalues, stays in F[k][0]. */
    for (size_t k = 0; k < t->nk; k++)
        t->F[k][0] = t->G[k][0] / t->D;
    fftw_execute(t->inv);   /* destroys G */
    const double norm = 1.0 / ((double)t->D * t->D);
    for (size_t d = 0; d < t->D; d++)
        t->out[d] *= norm;
}

/* Index into the r2c half spectrum of the full DFT index k (Hermitian symmetry). */
static size_t half_index(int dim, int L, size_t k)
{
    size_t h = (size_t)L / 2 + 1;
    if (dim == 1)
        return k < h ? k : (size_t)L - k;
    size_t k1 = k / (size_t)L, k2 = k % (size_t)L;
    if (k2 < h)
        return k1 * h + k2;
    return (((size_t)L - k1) % (size_t)L) * h + ((size_t)L - k2);
}

/* Sample k centred (y = x - mu) into t->in, or squared (y^2). */
static void load(ti_fft *t, const float *x, double mu, int squared)
{
    for (size_t i = 0; i < t->D; i++) {
        double y = x[i] - mu;
        t->in[i] = squared ? y * y : y;
    }
}

static int ti_covariance(const float *X, hl_stats *s, const moments *m)
{
    const size_t n = s->n, D = s->D;
    ti_fft t;
    int rc = ti_fft_alloc(&t, s->dim, s->L);
    if (rc)
        return rc;
    size_t nk = t.nk;
    double *c_sum = calloc(D, sizeof(double)), *c_sq = calloc(D, sizeof(double));
    double *sq_sum = calloc(D, sizeof(double)), *cm = malloc(sizeof(double) * D);
    double *p_sum = calloc(nk, sizeof(double)), *p_sq = calloc(nk, sizeof(double));
    double *u_sum = calloc(D, sizeof(double)), *u_sq = calloc(D, sizeof(double));
    if (!c_sum || !c_sq || !sq_sum || !cm || !p_sum || !p_sq || !u_sum || !u_sq) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the covariance accumulators (D = %zu)", D);
        goto out;
    }
    /* Pass A: C_k(d) and the power spectrum of every sample, and the translation
     * average S_k(d) of y_i^2 y_{i+d}^2. */
    for (size_t k = 0; k < n; k++) {
        const float *x = X + k * D;
        load(&t, x, m->mu, 0);
        autocorrelation(&t);
        for (size_t q = 0; q < nk; q++)
            p_sum[q] += t.F[q][0], p_sq[q] += t.F[q][0] * t.F[q][0];
        for (size_t d = 0; d < D; d++)
            c_sum[d] += t.out[d], c_sq[d] += t.out[d] * t.out[d];
        load(&t, x, m->mu, 1);
        autocorrelation(&t);
        for (size_t d = 0; d < D; d++)
            sq_sum[d] += t.out[d];
    }
    for (size_t d = 0; d < D; d++) {
        s->cov_row[d] = c_sum[d] / n;
        s->cov_row_se[d] = mean_se(c_sum[d], c_sq[d], n);
    }
    const double V = s->cov_row[0];
    for (size_t d = 0; d < D; d++)
        s->kappa4[d] = sq_sum[d] / n - V * V - 2 * s->cov_row[d] * s->cov_row[d];
    for (size_t q = 0; q < D; q++) {
        size_t h = half_index(s->dim, s->L, q);
        s->spectrum[q] = s->eigenvalues[q] = p_sum[h] / n;
        s->spectrum_se[q] = mean_se(p_sum[h], p_sq[h], n);
    }
    qsort(s->eigenvalues, D, sizeof(double), cmp_desc);
    s->n_eigen = D;

    /* Pass B: the spread of kappa4's influence S_k(d) - 2 V V_k - 4 C(d) C_k(d). */
    for (size_t k = 0; k < n; k++) {
        const float *x = X + k * D;
        load(&t, x, m->mu, 0);
        autocorrelation(&t);
        memcpy(cm, t.out, sizeof(double) * D);
        load(&t, x, m->mu, 1);
        autocorrelation(&t);
        for (size_t d = 0; d < D; d++) {
            double u = t.out[d] - 2 * V * cm[0] - 4 * s->cov_row[d] * cm[d];
            u_sum[d] += u, u_sq[d] += u * u;
        }
    }
    for (size_t d = 0; d < D; d++)
        s->kappa4_se[d] = mean_se(u_sum[d], u_sq[d], n);
out:
    free(c_sum), free(c_sq), free(sq_sum), free(cm), free(p_sum), free(p_sq);
    free(u_sum), free(u_sq);
    ti_fft_free(&t);
    return rc;
}

/* ---- not translation invariant: the full covariance -------------------------------- */

static int full_matrix(const float *X, hl_stats *s)
{
    const size_t n = s->n, D = s->D;
    s->cov = calloc(D * D, sizeof(double));
    s->eigenvalues = malloc(sizeof(double) * D);
    double *block = malloc(sizeof(double) * BLOCK * D);
    gsl_matrix *A = NULL;
    gsl_vector *eval = NULL;
    gsl_eigen_symm_workspace *ws = NULL;
    int rc = HL_OK;
    if (!s->cov || !s->eigenvalues || !block) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the %zu x %zu covariance", D, D);
        goto out;
    }
    /* C += Y_b^T Y_b over blocks of centred samples: one BLAS rank-k update each. */
    gsl_matrix_view C = gsl_matrix_view_array(s->cov, D, D);
    for (size_t k0 = 0; k0 < n; k0 += BLOCK) {
        size_t b = n - k0 < BLOCK ? n - k0 : BLOCK;
        for (size_t r = 0; r < b; r++)
            for (size_t i = 0; i < D; i++)
                block[r * D + i] = X[(k0 + r) * D + i] - s->site_mean[i];
        gsl_matrix_view Y = gsl_matrix_view_array(block, b, D);
        gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0, &Y.matrix, 1.0, &C.matrix);
    }
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j <= i; j++)
            s->cov[i * D + j] = s->cov[j * D + i] = s->cov[i * D + j] / n;

    gsl_error_handler_t *old = gsl_set_error_handler_off();
    A = gsl_matrix_alloc(D, D);
    eval = gsl_vector_alloc(D);
    ws = gsl_eigen_symm_alloc(D);
    if (!A || !eval || !ws) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the eigensolver (D = %zu)", D);
    } else {
        memcpy(A->data, s->cov, sizeof(double) * D * D);   /* A is D x D, tda = D */
        int st = gsl_eigen_symm(A, eval, ws);
        if (st)
            rc = hl_error_set(HL_ENUMERIC, "the eigensolver failed on the %zu x %zu covariance: "
                              "%s", D, D, gsl_strerror(st));
        for (size_t i = 0; i < D; i++)
            s->eigenvalues[i] = gsl_vector_get(eval, i);
        qsort(s->eigenvalues, D, sizeof(double), cmp_desc);
        s->n_eigen = D;
    }
    gsl_set_error_handler(old);
out:
    if (ws) gsl_eigen_symm_free(ws);
    if (eval) gsl_vector_free(eval);
    if (A) gsl_matrix_free(A);
    free(block);
    return rc;
}

/* The covariance row and the kappa4 slice of the origin site o, O(n D). */
static int full_slice(const float *X, hl_stats *s, const moments *m)
{
    const size_t n = s->n, D = s->D, o = s->origin;
    const double *mean = s->site_mean;
    /* s_sum: sum of (y_o y_j)^2, both E[y_o^2 y_j^2] and the spread of y_o y_j. */
    double *s_sum = calloc(D, sizeof(double)), *c_sum = calloc(D, sizeof(double));
    double *u_sum = calloc(D, sizeof(double)), *u_sq = calloc(D, sizeof(double));
    int rc = HL_OK;
    if (!s_sum || !c_sum || !u_sum || !u_sq) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the kappa4 accumulators (D = %zu)", D);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        const float *x = X + k * D;
        double yo = x[o] - mean[o];
        for (size_t j = 0; j < D; j++) {
            double p = yo * (x[j] - mean[j]);
            c_sum[j] += p, s_sum[j] += p * p;
        }
    }
    const double Vo = m->c2[o] / n;
    for (size_t j = 0; j < D; j++) {
        double C = c_sum[j] / n;
        s->cov_row[j] = C;
        s->cov_row_se[j] = mean_se(c_sum[j], s_sum[j], n);
        s->kappa4[j] = s_sum[j] / n - Vo * m->c2[j] / n - 2 * C * C;
    }
    /* The influence of kappa4(o, o, j, j):
     * y_o^2 y_j^2 - V_j y_o^2 - V_o y_j^2 - 4 C_oj y_o y_j (+ a constant). */
    for (size_t k = 0; k < n; k++) {
        const float *x = X + k * D;
        double yo = x[o] - mean[o], yo2 = yo * yo;
        for (size_t j = 0; j < D; j++) {
            double yj = x[j] - mean[j], yj2 = yj * yj;
            double u = yo2 * yj2 - m->c2[j] / n * yo2 - Vo * yj2 - 4 * s->cov_row[j] * yo * yj;
            u_sum[j] += u, u_sq[j] += u * u;
        }
    }
    for (size_t j = 0; j < D; j++)
        s->kappa4_se[j] = mean_se(u_sum[j], u_sq[j], n);
out:
    free(s_sum), free(c_sum), free(u_sum), free(u_sq);
    return rc;
}

/* ---- the whole computation --------------------------------------------------------- */

int hl_stats_compute(const float *X, size_t n, size_t D, const hl_stats_config *cfg,
                     hl_stats **out)
{
    int rc = check_args(X, n, D, cfg, out);
    if (rc)
        return rc;
    hl_stats *s = stats_alloc(n, D, cfg);
    moments m = {.c2 = calloc(D, sizeof(double)), .c3 = calloc(D, sizeof(double)),
                 .c4 = calloc(D, sizeof(double))};
    if (!s || !m.c2 || !m.c3 || !m.c4) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the statistics of D = %zu sites", D);
        goto out;
    }
    if ((rc = site_moments(X, s, &m)))
        goto out;
    if (s->translation_invariant)
        rc = ti_covariance(X, s, &m);
    else if (!(rc = full_slice(X, s, &m)) && D <= HL_STATS_MAX_FULL_D)
        rc = full_matrix(X, s);
    if (rc || (rc = marginal(X, s, &m)))
        goto out;
    s->kappa4_max_z = 0;
    for (size_t j = 0; j < D; j++) {
        double a = fabs(s->kappa4[j]), se = s->kappa4_se[j];
        /* se = 0: a deterministic slice (a sign field's kappa4(0,0,0,0) = -2). */
        double z = se > 0 ? a / se : a > 1e-12 ? INFINITY : 0;
        if (z > s->kappa4_max_z)
            s->kappa4_max_z = z, s->kappa4_argmax = j;
    }
out:
    free(m.c2), free(m.c3), free(m.c4);
    if (rc) {
        hl_stats_free(s);
        return rc;
    }
    *out = s;
    return HL_OK;
}

double hl_stats_kurtosis_z(const hl_stats *s)
{
    double k = fabs(s->excess_kurtosis), se = s->kurtosis_se;
    if (!isfinite(k))
        return 0;   /* no marginal: every site is constant */
    /* se = 0: a deterministic fourth moment, as a sign field's (excess -2). */
    return se > 0 ? k / se : k > 1e-12 ? INFINITY : 0;
}

int hl_stats_gaussian(const hl_stats *s, double alpha, double *threshold)
{
    if (!(alpha > 0 && alpha < 1))
        alpha = HL_STATS_DEFAULT_ALPHA;
    double t = gsl_cdf_ugaussian_Qinv(alpha / (2.0 * (s->D + 1.0)));
    if (threshold)
        *threshold = t;
    return hl_stats_kurtosis_z(s) <= t && s->kappa4_max_z <= t;
}
