/* mixture.c — the Gaussian clones of a labelled dataset: fit once, save, sample fast.
 *
 * A class-wise Gaussian mixture keeps what a network can learn from the first two
 * moments of each class and nothing beyond: training on data and testing on its
 * clone (or the reverse) measures how much the higher-order statistics matter. The
 * full clone keeps each class's mean and covariance, the isotropic clone its mean
 * and average variance only.
 *
 * Everything expensive happens in hl_mixture_fit(): the covariances (double, BLAS
 * rank-k updates on centred blocks of rows) and their Cholesky factors (GSL, once).
 * Sampling is one block of normals and one triangular multiply per class. This file
 * uses GSL's BLAS wrappers, which call OpenBLAS's cblas: it includes gsl_linalg.h,
 * whose gsl_cblas.h would clash with OpenBLAS's cblas.h. */
#include "sampler_impl.h"
#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/rng.h"
#include "../io/h5_util.h"

#include <errno.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <hdf5.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hl_mixture {
    size_t D;
    int K;
    int isotropic;
    atomic_int refs;   /* the owner's reference plus one per sampler */
    int64_t *counts;   /* K: fitted samples per class */
    double *means;     /* K x D */
    double *variance;  /* K: tr(C_c) / D */
    double *jitter;    /* K: added to the diagonal before factorising */
    double *cov;       /* K x D x D (full clone only) */
    float *chol;       /* K x D x D lower triangular (full clone only) */
    float *fmeans;     /* K x D: the means in the samplers' precision */
};

/* Relative jitters tried in turn when a covariance is not positive definite. */
static const double jitter_start = 1e-10, jitter_max = 1e-3;

static hl_mixture *mixture_alloc(size_t D, int K, int isotropic)
{
    hl_mixture *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->D = D;
    m->K = K;
    m->isotropic = isotropic;
    atomic_init(&m->refs, 1);
    size_t KD = (size_t)K * D, KDD = KD * D;
    m->counts = calloc((size_t)K, sizeof *m->counts);
    m->means = calloc(KD, sizeof *m->means);
    m->variance = calloc((size_t)K, sizeof *m->variance);
    m->jitter = calloc((size_t)K, sizeof *m->jitter);
    m->fmeans = calloc(KD, sizeof *m->fmeans);
    int ok = m->counts && m->means && m->variance && m->jitter && m->fmeans;
    if (ok && !isotropic) {
        m->cov = calloc(KDD, sizeof *m->cov);
        m->chol = calloc(KDD, sizeof *m->chol);
        ok = m->cov && m->chol;
    }
    if (!ok) {
        atomic_store(&m->refs, 1);
        hl_mixture_free(m);
        return NULL;
    }
    return m;
}

void hl_mixture_free(hl_mixture *m)
{
    if (!m || atomic_fetch_sub(&m->refs, 1) > 1)
        return;
    free(m->counts);
    free(m->means);
    free(m->variance);
    free(m->jitter);
    free(m->cov);
    free(m->chol);
    free(m->fmeans);
    free(m);
}

size_t hl_mixture_dim(const hl_mixture *m) { return m->D; }
int hl_mixture_n_classes(const hl_mixture *m) { return m->K; }
int hl_mixture_is_isotropic(const hl_mixture *m) { return m->isotropic; }

static int class_ok(const hl_mixture *m, int c) { return c >= 0 && c < m->K; }

size_t hl_mixture_count(const hl_mixture *m, int c)
{
    return class_ok(m, c) ? (size_t)m->counts[c] : 0;
}

const double *hl_mixture_mean(const hl_mixture *m, int c)
{
    return class_ok(m, c) ? m->means + (size_t)c * m->D : NULL;
}

const double *hl_mixture_covariance(const hl_mixture *m, int c)
{
    return class_ok(m, c) && m->cov ? m->cov + (size_t)c * m->D * m->D : NULL;
}

const float *hl_mixture_factor(const hl_mixture *m, int c)
{
    return class_ok(m, c) && m->chol ? m->chol + (size_t)c * m->D * m->D : NULL;
}

double hl_mixture_variance(const hl_mixture *m, int c)
{
    return class_ok(m, c) ? m->variance[c] : NAN;
}

double hl_mixture_jitter(const hl_mixture *m, int c)
{
    return class_ok(m, c) ? m->jitter[c] : NAN;
}

/* ---- fitting ------------------------------------------------------------------------ */

/* Rows per rank-k update: large enough for BLAS to run at speed, small enough that
 * the centred double block stays a few megabytes. */
enum { FIT_BLOCK = 512 };

static int label_of(const int *labels, size_t i) { return labels ? labels[i] : 0; }

/* Cholesky factor of cov (D x D, double) into chol (float, lower, zeros above),
 * adding the smallest jitter from the documented ladder that makes it work. */
static int factorise(const double *cov, size_t D, double var, float *chol, double *jitter,
                     int c)
{
    gsl_matrix *A = gsl_matrix_alloc(D, D);
    if (!A)
        return hl_error_set(HL_ENOMEM, "cannot allocate a %zu x %zu factor", D, D);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = GSL_EDOM;
    double j = 0;
    for (;;) {
        memcpy(A->data, cov, sizeof(double) * D * D);
        for (size_t i = 0; i < D; i++)
            A->data[i * D + i] += j;
        if ((st = gsl_linalg_cholesky_decomp1(A)) == GSL_SUCCESS)
            break;
        j = j == 0 ? jitter_start * var : j * 10;
        if (!(var > 0) || j > jitter_max * var * (1 + 1e-9))
            break;
    }
    gsl_set_error_handler(old);
    if (st == GSL_SUCCESS) {
        for (size_t r = 0; r < D; r++)
            for (size_t k = 0; k < D; k++)
                chol[r * D + k] = k <= r ? (float)A->data[r * D + k] : 0.0f;
        *jitter = j;
    }
    gsl_matrix_free(A);
    if (st != GSL_SUCCESS)
        return hl_error_set(HL_ENUMERIC, "the covariance of class %d is not positive "
                            "definite even with a jitter of %g x its average variance %g",
                            c, jitter_max, var);
    return HL_OK;
}

/* Mean, covariance (full) or average variance (isotropic) of class c: two passes
 * over its rows, the second centred exactly, in blocks of FIT_BLOCK rows. */
static int fit_class(hl_mixture *m, const float *X, const int *labels, size_t n, int c,
                     double *block)
{
    size_t D = m->D, nc = (size_t)m->counts[c];
    double *mean = m->means + (size_t)c * D;
    for (size_t i = 0; i < n; i++)
        if (label_of(labels, i) == c)
            for (size_t k = 0; k < D; k++)
                mean[k] += X[i * D + k];
    for (size_t k = 0; k < D; k++) {
        mean[k] /= (double)nc;
        m->fmeans[(size_t)c * D + k] = (float)mean[k];
    }
    double ss = 0;
    double *cov = m->cov ? m->cov + (size_t)c * D * D : NULL;
    size_t rows = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && label_of(labels, i) == c) {
            double *b = block + rows * D;
            for (size_t k = 0; k < D; k++) {
                b[k] = X[i * D + k] - mean[k];
                ss += b[k] * b[k];
            }
            rows++;
        }
        if (rows && cov && (rows == FIT_BLOCK || i == n)) {
            gsl_matrix_view B = gsl_matrix_view_array(block, rows, D);
            gsl_matrix_view C = gsl_matrix_view_array(cov, D, D);
            gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0, &B.matrix, 1.0, &C.matrix);
        }
        if (rows == FIT_BLOCK || i == n)
            rows = 0;
    }
    m->variance[c] = ss / (double)(nc - 1) / (double)D;
    if (!cov)
        return HL_OK;
    for (size_t r = 0; r < D; r++)
        for (size_t k = 0; k <= r; k++)
            cov[k * D + r] = cov[r * D + k] /= (double)(nc - 1);
    return factorise(cov, D, m->variance[c], m->chol + (size_t)c * D * D, &m->jitter[c], c);
}

int hl_mixture_fit(const float *X, const int *labels, size_t n, size_t D, int n_classes,
                   int isotropic, hl_mixture **out)
{
    *out = NULL;
    if (!X || D == 0 || n_classes < 1 || (!labels && n_classes != 1))
        return hl_error_set(HL_EINVAL, "mixture fit: need data (D >= 1) and n_classes >= 1 "
                            "(exactly 1 without labels); got D = %zu, n_classes = %d", D,
                            n_classes);
    if (D > 1u << 16)
        return hl_error_set(HL_EINVAL, "mixture fit: D = %zu: accepted range is 1..65536", D);
    hl_mixture *m = mixture_alloc(D, n_classes, isotropic != 0);
    double *block = malloc(sizeof(double) * FIT_BLOCK * D);
    if (!m || !block) {
        hl_mixture_free(m);
        free(block);
        return hl_error_set(HL_ENOMEM, "cannot allocate a %d-class mixture with D = %zu",
                            n_classes, D);
    }
    int rc = HL_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        int c = label_of(labels, i);
        if (c < 0 || c >= n_classes)
            rc = hl_error_set(HL_EINVAL, "mixture fit: label %d of sample %zu is outside "
                              "0..%d", c, i, n_classes - 1);
        else
            m->counts[c]++;
    }
    for (int c = 0; c < n_classes && !rc; c++)
        if (m->counts[c] < 2)
            rc = hl_error_set(HL_EINVAL, "mixture fit: class %d has %lld samples: every "
                              "class needs at least 2", c, (long long)m->counts[c]);
    for (int c = 0; c < n_classes && !rc; c++)
        rc = fit_class(m, X, labels, n, c, block);
    free(block);
    if (rc) {
        hl_mixture_free(m);
        return rc;
    }
    *out = m;
    return HL_OK;
}

/* ---- class lists --------------------------------------------------------------------- */

int hl_classes_parse(const char *text, const char *param, int n_classes, int *classes,
                     int *count)
{
    *count = 0;
    if (!text || !*text) {
        for (int c = 0; c < n_classes; c++)
            classes[c] = c;
        *count = n_classes;
        return HL_OK;
    }
    for (const char *s = text; *s;) {
        char *end;
        errno = 0;
        long c = strtol(s, &end, 10);
        if (end == s || errno || (*end && *end != ':'))
            return hl_error_set(HL_EINVAL, "%s = '%s': expected class numbers separated by "
                                "':' (e.g. 0:2:4)", param, text);
        if (c < 0 || c >= n_classes)
            return hl_error_set(HL_EINVAL, "%s = '%s': class %ld is outside 0..%d", param,
                                text, c, n_classes - 1);
        for (int i = 0; i < *count; i++)
            if (classes[i] == c)
                return hl_error_set(HL_EINVAL, "%s = '%s': class %ld is listed twice", param,
                                    text, c);
        classes[(*count)++] = (int)c;
        s = *end ? end + 1 : end;
        if (*end && !*s)
            return hl_error_set(HL_EINVAL, "%s = '%s' ends with ':'", param, text);
    }
    return HL_OK;
}

/* ---- the sampler ------------------------------------------------------------------------ */

typedef struct {
    hl_sampler base;
    hl_mixture *m;       /* a shared reference */
    int k;               /* selected classes */
    int *cls;            /* k class ids */
    double *cum;         /* k cumulative probabilities (the last is 1) */
    size_t cap;          /* capacity of the work buffers, in samples */
    float *z;            /* cap x D normals, grouped by class (full clone only) */
    int *pick;           /* cap: which selected class each sample is */
    size_t *next;        /* k: next free row of each class's block in z */
} mix_sampler;

static int mix_reserve(mix_sampler *s, size_t n)
{
    if (n <= s->cap)
        return HL_OK;
    size_t D = s->base.D;
    int *pick = realloc(s->pick, sizeof(int) * n);
    if (pick)
        s->pick = pick;
    float *z = s->m->isotropic ? s->z : realloc(s->z, sizeof(float) * n * D);
    if (z)
        s->z = z;
    if (!pick || (!z && !s->m->isotropic))
        return hl_error_set(HL_ENOMEM, "cannot allocate %zu mixture samples (D = %zu)", n, D);
    s->cap = n;
    return HL_OK;
}

/* x = m_c + L_c z for the full clone, m_c + sqrt(v_c) z for the isotropic one. The
 * classes come first (one uniform per sample, none for a single class), then all
 * n x D normals in one call, then one triangular multiply per class block. */
static int mix_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    mix_sampler *s = (mix_sampler *)base;
    const hl_mixture *m = s->m;
    size_t D = base->D;
    int rc = mix_reserve(s, n);
    if (rc)
        return rc;
    for (int j = 0; j < s->k; j++)
        s->next[j] = 0;
    for (size_t i = 0; i < n; i++) {
        int j = 0;
        if (s->k > 1) {
            double u = gsl_rng_uniform(rng);
            while (j < s->k - 1 && u >= s->cum[j])
                j++;
        }
        s->pick[i] = j;
        s->next[j]++;
    }
    if (m->isotropic) {
        hl_rng_normals(rng, n * D, out);
        for (size_t i = 0; i < n; i++) {
            int c = s->cls[s->pick[i]];
            float sd = (float)sqrt(m->variance[c]);
            const float *mu = m->fmeans + (size_t)c * D;
            float *x = out + i * D;
            for (size_t k = 0; k < D; k++)
                x[k] = mu[k] + sd * x[k];
        }
        return HL_OK;
    }
    hl_rng_normals(rng, n * D, s->z);
    size_t start = 0;
    for (int j = 0; j < s->k; j++) {
        size_t nj = s->next[j];
        if (nj) {
            int c = s->cls[j];
            gsl_matrix_float_view Z = gsl_matrix_float_view_array(s->z + start * D, nj, D);
            gsl_matrix_float_const_view L =
                gsl_matrix_float_const_view_array(m->chol + (size_t)c * D * D, D, D);
            /* Rows z^T L^T = (L z)^T: the block times L^T, in place. */
            gsl_blas_strmm(CblasRight, CblasLower, CblasTrans, CblasNonUnit, 1.0f,
                           &L.matrix, &Z.matrix);
        }
        s->next[j] = start;
        start += nj;
    }
    for (size_t i = 0; i < n; i++) {
        int j = s->pick[i];
        const float *z = s->z + (s->next[j]++) * D, *mu = m->fmeans + (size_t)s->cls[j] * D;
        float *x = out + i * D;
        for (size_t k = 0; k < D; k++)
            x[k] = mu[k] + z[k];
    }
    return HL_OK;
}

static void mix_destroy(hl_sampler *base)
{
    mix_sampler *s = (mix_sampler *)base;
    hl_mixture_free(s->m);
    free(s->cls);
    free(s->cum);
    free(s->z);
    free(s->pick);
    free(s->next);
    free(s);
}

static const hl_sampler_ops mix_ops = {"mixture", mix_sample, mix_destroy, 1};

hl_sampler *hl_mixture_sampler(hl_mixture *m, const int *classes, int n_classes)
{
    if (!m) {
        hl_error_set(HL_EINVAL, "mixture sampler: no mixture");
        return NULL;
    }
    int k = classes ? n_classes : m->K;
    if (k < 1 || k > m->K) {
        hl_error_set(HL_EINVAL, "mixture sampler: %d classes selected: accepted 1..%d", k,
                     m->K);
        return NULL;
    }
    mix_sampler *s = calloc(1, sizeof *s);
    if (!s || !(s->cls = malloc(sizeof(int) * k)) || !(s->cum = malloc(sizeof(double) * k)) ||
        !(s->next = malloc(sizeof(size_t) * k))) {
        if (s) {
            free(s->cls);
            free(s->cum);
        }
        free(s);
        hl_error_set(HL_ENOMEM, "cannot allocate a mixture sampler");
        return NULL;
    }
    double total = 0;
    for (int j = 0; j < k; j++) {
        int c = classes ? classes[j] : j;
        if (c < 0 || c >= m->K) {
            hl_error_set(HL_EINVAL, "mixture sampler: class %d is outside 0..%d", c, m->K - 1);
            free(s->cls);
            free(s->cum);
            free(s->next);
            free(s);
            return NULL;
        }
        s->cls[j] = c;
        total += (double)m->counts[c];
    }
    double acc = 0;
    for (int j = 0; j < k; j++) {
        acc += (double)m->counts[s->cls[j]];
        s->cum[j] = j == k - 1 ? 1.0 : acc / total;
    }
    s->base.ops = &mix_ops;
    s->base.D = m->D;
    s->k = k;
    atomic_fetch_add(&m->refs, 1);
    s->m = m;
    return &s->base;
}

/* ---- HDF5 files ------------------------------------------------------------------------ */
/* Written through the shared helpers of src/io/h5_util.h (temporary file, then rename). */

/* Read dataset `name` of exactly `count` elements into `data`; HL_EFORMAT otherwise. */
static int dset_read(hid_t f, const char *path, const char *name, hid_t type, size_t count,
                     void *data)
{
    hid_t d = H5Lexists(f, name, H5P_DEFAULT) > 0 ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
    if (d < 0)
        return hl_error_set(HL_EFORMAT, "'%s': dataset '%s' is missing", path, name);
    hid_t space = H5Dget_space(d);
    hssize_t npts = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    herr_t st = npts == (hssize_t)count ? H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data)
                                        : -1;
    H5Dclose(d);
    if (npts != (hssize_t)count)
        return hl_error_set(HL_EFORMAT, "'%s': dataset '%s' has %lld values, expected %zu",
                            path, name, (long long)npts, count);
    return st < 0 ? hl_error_set(HL_EFORMAT, "'%s': dataset '%s' cannot be read", path, name)
                  : HL_OK;
}

static int write_body(hid_t f, const void *ctx)
{
    const hl_mixture *m = ctx;
    hsize_t K = (hsize_t)m->K, D = m->D;
    hsize_t d1[1] = {K}, d2[2] = {K, D}, d3[3] = {K, D, D};
    int rc = hl_h5u_write_header(f, "mixture", NULL) |
             hl_h5u_attr_write_ll(f, "D", (long long)m->D) |
             hl_h5u_attr_write_ll(f, "n_classes", m->K) |
             hl_h5u_attr_write_ll(f, "isotropic", m->isotropic) |
             hl_h5u_dset_write(f, "counts", H5T_NATIVE_INT64, 1, d1, m->counts) |
             hl_h5u_dset_write(f, "means", H5T_NATIVE_DOUBLE, 2, d2, m->means) |
             hl_h5u_dset_write(f, "variances", H5T_NATIVE_DOUBLE, 1, d1, m->variance) |
             hl_h5u_dset_write(f, "jitter", H5T_NATIVE_DOUBLE, 1, d1, m->jitter);
    if (!m->isotropic)
        rc |= hl_h5u_dset_write(f, "covariances", H5T_NATIVE_DOUBLE, 3, d3, m->cov) |
              hl_h5u_dset_write(f, "cholesky", H5T_NATIVE_FLOAT, 3, d3, m->chol);
    return rc;
}

int hl_mixture_save(const hl_mixture *m, const char *path)
{
    return hl_h5u_write_atomically(path, "mixture", write_body, m);
}

static int read_body(hid_t f, const char *path, hl_mixture **out)
{
    char kind[64];
    long long D, K, iso;
    if (hl_h5u_attr_read_str(f, "kind", kind, sizeof kind) || strcmp(kind, "mixture") != 0)
        return hl_error_set(HL_EFORMAT, "'%s' is not a mixture file (attribute kind is not "
                            "\"mixture\")", path);
    if (hl_h5u_attr_read(f, "D", H5T_NATIVE_LLONG, &D) ||
        hl_h5u_attr_read(f, "n_classes", H5T_NATIVE_LLONG, &K) ||
        hl_h5u_attr_read(f, "isotropic", H5T_NATIVE_LLONG, &iso) || D < 1 || D > 1 << 16 ||
        K < 1 || K > 1 << 20 || (iso != 0 && iso != 1))
        return hl_error_set(HL_EFORMAT, "'%s': attributes D, n_classes or isotropic are "
                            "missing or out of range", path);
    hl_mixture *m = mixture_alloc((size_t)D, (int)K, (int)iso);
    if (!m)
        return hl_error_set(HL_ENOMEM, "cannot allocate a %lld-class mixture with D = %lld",
                            K, D);
    size_t KD = (size_t)K * (size_t)D;
    int rc = dset_read(f, path, "counts", H5T_NATIVE_INT64, (size_t)K, m->counts);
    if (!rc)
        rc = dset_read(f, path, "means", H5T_NATIVE_DOUBLE, KD, m->means);
    if (!rc)
        rc = dset_read(f, path, "variances", H5T_NATIVE_DOUBLE, (size_t)K, m->variance);
    if (!rc)
        rc = dset_read(f, path, "jitter", H5T_NATIVE_DOUBLE, (size_t)K, m->jitter);
    if (!rc && !iso)
        rc = dset_read(f, path, "covariances", H5T_NATIVE_DOUBLE, KD * (size_t)D, m->cov);
    if (!rc && !iso)
        rc = dset_read(f, path, "cholesky", H5T_NATIVE_FLOAT, KD * (size_t)D, m->chol);
    for (long long c = 0; c < K && !rc; c++)
        if (m->counts[c] < 2 || !(m->variance[c] >= 0) || !isfinite(m->variance[c]))
            rc = hl_error_set(HL_EFORMAT, "'%s': class %lld has %lld samples and variance %g",
                              path, c, (long long)m->counts[c], m->variance[c]);
    for (size_t i = 0; i < KD && !rc; i++)
        m->fmeans[i] = (float)m->means[i];
    if (rc) {
        hl_mixture_free(m);
        return rc;
    }
    *out = m;
    return HL_OK;
}

int hl_mixture_load(const char *path, hl_mixture **out)
{
    *out = NULL;
    FILE *probe = path ? fopen(path, "rb") : NULL;
    if (!probe)
        return hl_error_set(HL_EIO, "cannot open mixture file '%s': %s", path ? path : "",
                            path ? strerror(errno) : "no path");
    fclose(probe);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return hl_error_set(HL_EFORMAT, "'%s' is not an HDF5 file", path);
    int rc = read_body(f, path, out);
    H5Fclose(f);
    return rc;
}

/* ---- Registry entry: "mixture" ---------------------------------------------------------- */

static const hl_param_spec mixture_params[] = {
    {"path", HL_PARAM_TEXT, "", 0, 0, NULL, "HDF5 file written by hl_mixture_save (required)"},
    {"classes", HL_PARAM_TEXT, "", 0, 0, NULL, "classes to draw, e.g. 0:2:4 (default: all)"},
};

static hl_sampler *mixture_create(const hl_param_values *v)
{
    const char *path = hl_param_text(v, "path");
    if (!path || !*path) {
        hl_error_set(HL_EINVAL, "mixture: path is required (an HDF5 file written by "
                     "hl_mixture_save)");
        return NULL;
    }
    hl_mixture *m;
    if (hl_mixture_load(path, &m))
        return NULL;
    int *cls = malloc(sizeof(int) * (size_t)m->K), k;
    hl_sampler *s = NULL;
    if (!cls)
        hl_error_set(HL_ENOMEM, "cannot allocate a class list");
    else if (!hl_classes_parse(hl_param_text(v, "classes"), "mixture: classes", m->K, cls, &k))
        s = hl_mixture_sampler(m, cls, k);
    free(cls);
    hl_mixture_free(m);
    return s;
}

const hl_model hl_model_mixture = {
    "mixture", "class-wise Gaussian mixture (full or isotropic clone) loaded from HDF5",
    mixture_params, sizeof mixture_params / sizeof *mixture_params, mixture_create};
