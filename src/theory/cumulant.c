/* cumulant.c — second and fourth moments and the fourth cumulant of zero-mean inputs:
 * the ring storage (L^3 instead of L^4), estimators from samples (translation-averaged
 * on a ring, dense for a few sites), and contractions with w⊗w⊗w that never form the
 * L^4 tensor.
 *
 * A translation-invariant T_ijkl depends only on the offsets (j-i, k-i, l-i) mod L and
 * is symmetric in its four indices, so its L^3 entries fall into ~L^3/24 classes (the
 * four sites up to translation and permutation). The estimator computes one entry per
 * class and copies it to the others; averaging over the origin makes every member of
 * a class equal exactly, sample by sample, so nothing is lost. */
#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "cumulant_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline int wrap(int i, int L)
{
    i %= L;
    return i < 0 ? i + L : i;
}

static inline size_t tidx(int L, int a, int b, int c)
{
    return ((size_t)a * L + b) * L + c;
}

static void sort3(int *o)
{
    int t;
    if (o[0] > o[1]) t = o[0], o[0] = o[1], o[1] = t;
    if (o[1] > o[2]) t = o[1], o[1] = o[2], o[2] = t;
    if (o[0] > o[1]) t = o[0], o[0] = o[1], o[1] = t;
}

size_t hl_cumulant4_classes(int L, int reflect, int *map)
{
    size_t n_classes = 0;
    for (int a = 0; a < L; a++)
        for (int b = 0; b < L; b++)
            for (int c = 0; c < L; c++) {
                const int P[4] = {0, a, b, c};
                size_t best = (size_t)-1;
                for (int s = 0; s < (reflect ? 2 : 1); s++)
                    for (int r = 0; r < 4; r++) {
                        int o[3], m = 0;
                        for (int q = 0; q < 4; q++)
                            if (q != r)
                                o[m++] = wrap(s ? P[r] - P[q] : P[q] - P[r], L);
                        sort3(o);
                        size_t k = tidx(L, o[0], o[1], o[2]);
                        if (k < best)
                            best = k;
                    }
                size_t idx = tidx(L, a, b, c);
                map[idx] = (int)best;
                n_classes += best == idx;
            }
    return n_classes;
}

/* ---- Storage and accessors ----------------------------------------------------------- */

hl_cumulant4 *hl_cumulant4_alloc(int L)
{
    if (L < 2 || L > HL_CUMULANT4_MAX_L) {
        hl_error_set(HL_EINVAL, "cumulant4: L = %d: accepted range is 2..%d (ring sites; "
                     "memory grows as L^3)", L, HL_CUMULANT4_MAX_L);
        return NULL;
    }
    size_t L3 = (size_t)L * L * L;
    hl_cumulant4 *c = calloc(1, sizeof *c);
    if (c) {
        c->L = L;
        c->c2 = calloc(L, sizeof(double));
        c->m4 = calloc(L3, sizeof(double));
        c->k4 = calloc(L3, sizeof(double));
        c->k4_se = calloc(L3, sizeof(double));
    }
    if (!c || !c->c2 || !c->m4 || !c->k4 || !c->k4_se) {
        hl_cumulant4_free(c);
        hl_error_set(HL_ENOMEM, "cumulant4: out of memory for L = %d (4 L^3 doubles)", L);
        return NULL;
    }
    return c;
}

void hl_cumulant4_free(hl_cumulant4 *c)
{
    if (!c)
        return;
    free(c->c2);
    free(c->m4);
    free(c->k4);
    free(c->k4_se);
    free(c);
}

static double entry(const hl_cumulant4 *c, const double *t, int i, int j, int k, int l)
{
    int L = c->L;
    return t[tidx(L, wrap(j - i, L), wrap(k - i, L), wrap(l - i, L))];
}

double hl_cumulant4_c2(const hl_cumulant4 *c, int i, int j)
{
    return c->c2[wrap(j - i, c->L)];
}

double hl_cumulant4_m4(const hl_cumulant4 *c, int i, int j, int k, int l)
{
    return entry(c, c->m4, i, j, k, l);
}

double hl_cumulant4_k4(const hl_cumulant4 *c, int i, int j, int k, int l)
{
    return entry(c, c->k4, i, j, k, l);
}

double hl_cumulant4_se(const hl_cumulant4 *c, int i, int j, int k, int l)
{
    return entry(c, c->k4_se, i, j, k, l);
}

/* ---- Estimators ------------------------------------------------------------------------ */

static int check_samples(const float *X, size_t n, const char *who)
{
    if (!X)
        return hl_error_set(HL_EINVAL, "%s: samples X is NULL", who);
    if (n < 2)
        return hl_error_set(HL_EINVAL, "%s: n = %zu samples: at least 2 are needed (the "
                            "standard errors use the spread between samples)", who, n);
    return HL_OK;
}

/* Gaussian part C_0a C_bc + C_0b C_ac + C_0c C_ab of a ring entry, C given by row g. */
static double wick_ring(int L, const double *g, int a, int b, int c)
{
    return g[a] * g[wrap(c - b, L)] + g[b] * g[wrap(c - a, L)] + g[c] * g[wrap(b - a, L)];
}

/* Its first-order change when the row g becomes g + dg. */
static double wick_ring_lin(int L, const double *g, const double *dg, int a, int b, int c)
{
    int cb = wrap(c - b, L), ca = wrap(c - a, L), ba = wrap(b - a, L);
    return dg[a] * g[cb] + g[a] * dg[cb] + dg[b] * g[ca] + g[b] * dg[ca] + dg[c] * g[ba] +
           g[c] * dg[ba];
}

/* One sample's circular autocorrelation sum_o x_o x_{o+d} for every lag d (xx: work of
 * 2L doubles, the sample written twice so that o + d needs no wrap). */
static void autocorrelation(const float *x, int L, double *xx, double *out)
{
    for (int i = 0; i < L; i++)
        xx[i] = xx[i + L] = x[i];
    for (int d = 0; d < L; d++) {
        double s = 0;
        for (int o = 0; o < L; o++)
            s += xx[o] * xx[o + d];
        out[d] = s;
    }
}

int hl_cumulant4_estimate(const float *X, size_t n, hl_cumulant4 *c)
{
    if (!c)
        return hl_error_set(HL_EINVAL, "cumulant4_estimate: the output c is NULL");
    int rc = check_samples(X, n, "cumulant4_estimate");
    if (rc)
        return rc;
    const int L = c->L;
    const size_t L3 = (size_t)L * L * L;
    int *map = malloc(sizeof(int) * L3);
    double *xx = malloc(sizeof(double) * 2 * L); /* the sample twice: no index wrapping */
    double *g = malloc(sizeof(double) * L), *u = malloc(sizeof(double) * L);
    size_t *rep = NULL;
    if (!map || !xx || !g || !u) {
        rc = hl_error_set(HL_ENOMEM, "cumulant4_estimate: out of memory (L = %d)", L);
        goto done;
    }
    size_t n_classes = hl_cumulant4_classes(L, 0, map);
    rep = malloc(sizeof(size_t) * n_classes);
    if (!rep) {
        rc = hl_error_set(HL_ENOMEM, "cumulant4_estimate: out of memory (L = %d)", L);
        goto done;
    }
    for (size_t idx = 0, q = 0; idx < L3; idx++)
        if ((size_t)map[idx] == idx)
            rep[q++] = idx; /* ascending: runs of equal (a, b) */

    /* Pass 1: the covariance row, needed by every sample's influence in pass 2. */
    memset(c->c2, 0, sizeof(double) * L);
    for (size_t m = 0; m < n; m++) {
        autocorrelation(X + m * L, L, xx, g);
        for (int d = 0; d < L; d++)
            c->c2[d] += g[d];
    }
    for (int d = 0; d < L; d++)
        c->c2[d] /= (double)n * L;

    /* Pass 2: per sample, the origin-averaged product m of each class and its
     * influence psi = m - (first-order change of the Gaussian part), whose spread over
     * samples gives the standard error. Sums go to m4 (m), k4 (psi), k4_se (psi^2). */
    double *sm = c->m4, *s1 = c->k4, *s2 = c->k4_se;
    memset(sm, 0, sizeof(double) * L3);
    memset(s1, 0, sizeof(double) * L3);
    memset(s2, 0, sizeof(double) * L3);
    for (size_t m = 0; m < n; m++) {
        const float *x = X + m * L;
        autocorrelation(x, L, xx, g);
        for (int d = 0; d < L; d++)
            g[d] = g[d] / L - c->c2[d];
        int pa = -1, pb = -1;
        for (size_t q = 0; q < n_classes; q++) {
            size_t idx = rep[q];
            int a = (int)(idx / ((size_t)L * L)), b = (int)(idx / L % L), cc = (int)(idx % L);
            if (a != pa || b != pb) {
                for (int o = 0; o < L; o++)
                    u[o] = xx[o] * xx[o + a] * xx[o + b];
                pa = a, pb = b;
            }
            double s = 0;
            for (int o = 0; o < L; o++)
                s += u[o] * xx[o + cc];
            s /= L;
            double psi = s - wick_ring_lin(L, c->c2, g, a, b, cc);
            sm[idx] += s;
            s1[idx] += psi;
            s2[idx] += psi * psi;
        }
    }
    for (size_t q = 0; q < n_classes; q++) {
        size_t idx = rep[q];
        int a = (int)(idx / ((size_t)L * L)), b = (int)(idx / L % L), cc = (int)(idx % L);
        double mean = s1[idx] / n, var = (s2[idx] - mean * s1[idx]) / (n - 1);
        sm[idx] /= n;
        s1[idx] = sm[idx] - wick_ring(L, c->c2, a, b, cc);
        s2[idx] = sqrt(var > 0 ? var / n : 0);
    }
    /* map[idx] <= idx: every representative is final before it is copied. */
    for (size_t idx = 0; idx < L3; idx++) {
        size_t r = map[idx];
        sm[idx] = sm[r];
        s1[idx] = s1[r];
        s2[idx] = s2[r];
    }
done:
    free(map);
    free(xx);
    free(g);
    free(u);
    free(rep);
    return rc;
}

static inline size_t didx(int D, int i, int j, int k, int l)
{
    return (((size_t)i * D + j) * D + k) * D + l;
}

static void sort4(int *o)
{
    for (int i = 1; i < 4; i++)
        for (int j = i; j > 0 && o[j - 1] > o[j]; j--) {
            int t = o[j];
            o[j] = o[j - 1];
            o[j - 1] = t;
        }
}

int hl_cumulant4_dense(const float *X, size_t n, int D, double *C, double *k4,
                       double *k4_se)
{
    if (D < 1 || D > HL_CUMULANT4_MAX_DENSE_D)
        return hl_error_set(HL_EINVAL, "cumulant4_dense: D = %d: accepted range is 1..%d "
                            "(the dense estimator stores D^4 doubles; use "
                            "hl_cumulant4_estimate for translation-invariant rings)", D,
                            HL_CUMULANT4_MAX_DENSE_D);
    if (!k4)
        return hl_error_set(HL_EINVAL, "cumulant4_dense: the output k4 is NULL");
    int rc = check_samples(X, n, "cumulant4_dense");
    if (rc)
        return rc;
    const size_t D2 = (size_t)D * D, D4 = D2 * D2;
    double *cov = calloc(D2, sizeof(double)), *g = malloc(sizeof(double) * D2);
    double *s1 = k4_se ? calloc(D4, sizeof(double)) : NULL;
    if (!cov || !g || (k4_se && !s1)) {
        rc = hl_error_set(HL_ENOMEM, "cumulant4_dense: out of memory (D = %d)", D);
        goto done;
    }
    for (size_t m = 0; m < n; m++) {
        const float *x = X + m * D;
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                cov[i * D + j] += (double)x[i] * x[j];
    }
    for (size_t q = 0; q < D2; q++)
        cov[q] /= n;
    memset(k4, 0, sizeof(double) * D4);
    if (k4_se)
        memset(k4_se, 0, sizeof(double) * D4);
    /* Sorted tuples i <= j <= k <= l only; sums of the products in k4, of the
     * influences in s1, of their squares in k4_se. */
    for (size_t m = 0; m < n; m++) {
        const float *x = X + m * D;
        if (k4_se)
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++)
                    g[i * D + j] = (double)x[i] * x[j] - cov[i * D + j];
        for (int i = 0; i < D; i++)
            for (int j = i; j < D; j++) {
                double xij = (double)x[i] * x[j];
                for (int k = j; k < D; k++) {
                    double xijk = xij * x[k];
                    for (int l = k; l < D; l++) {
                        size_t idx = didx(D, i, j, k, l);
                        double s = xijk * x[l];
                        k4[idx] += s;
                        if (k4_se) {
#define CV(p, q) cov[(p) * D + (q)]
#define GV(p, q) g[(p) * D + (q)]
                            double psi = s - (GV(i, j) * CV(k, l) + CV(i, j) * GV(k, l) +
                                              GV(i, k) * CV(j, l) + CV(i, k) * GV(j, l) +
                                              GV(i, l) * CV(j, k) + CV(i, l) * GV(j, k));
                            s1[idx] += psi;
                            k4_se[idx] += psi * psi;
                        }
                    }
                }
            }
    }
    for (int i = 0; i < D; i++)
        for (int j = i; j < D; j++)
            for (int k = j; k < D; k++)
                for (int l = k; l < D; l++) {
                    size_t idx = didx(D, i, j, k, l);
                    k4[idx] = k4[idx] / n -
                              (CV(i, j) * CV(k, l) + CV(i, k) * CV(j, l) + CV(i, l) * CV(j, k));
                    if (k4_se) {
                        double mean = s1[idx] / n;
                        double var = (k4_se[idx] - mean * s1[idx]) / (n - 1);
                        k4_se[idx] = sqrt(var > 0 ? var / n : 0);
                    }
                }
#undef CV
#undef GV
    /* The sorted tuple of an entry precedes it: copy in ascending order. */
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            for (int k = 0; k < D; k++)
                for (int l = 0; l < D; l++) {
                    int o[4] = {i, j, k, l};
                    sort4(o);
                    size_t idx = didx(D, i, j, k, l), r = didx(D, o[0], o[1], o[2], o[3]);
                    k4[idx] = k4[r];
                    if (k4_se)
                        k4_se[idx] = k4_se[r];
                }
    if (C)
        memcpy(C, cov, sizeof(double) * D2);
done:
    free(cov);
    free(g);
    free(s1);
    return rc;
}

/* ---- Contractions --------------------------------------------------------------------- */

void hl_cumulant4_expand(int L, const double *t, double *out)
{
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++)
            for (int k = 0; k < L; k++)
                for (int l = 0; l < L; l++)
                    out[didx(L, i, j, k, l)] =
                        t[tidx(L, wrap(j - i, L), wrap(k - i, L), wrap(l - i, L))];
}

/* sum_c row[c] w[(i + c) mod L], in two unwrapped pieces. */
static double dot_shift(int L, const double *row, const double *w, int i)
{
    double s = 0;
    for (int c = 0; c < L - i; c++)
        s += row[c] * w[i + c];
    for (int c = L - i; c < L; c++)
        s += row[c] * w[i + c - L];
    return s;
}

/* (T w⊗w⊗w)_i = sum_abc t(a, b, c) w_{i+a} w_{i+b} w_{i+c}. */
static double apply3_site(int L, const double *t, const double *w, int i)
{
    double s = 0;
    for (int a = 0; a < L; a++) {
        double wa = w[(i + a) % L];
        if (wa == 0)
            continue;
        for (int b = 0; b < L; b++) {
            double wab = wa * w[(i + b) % L];
            if (wab != 0)
                s += wab * dot_shift(L, t + tidx(L, a, b, 0), w, i);
        }
    }
    return s;
}

void hl_cumulant4_apply3(int L, const double *t, const double *w, double *out)
{
    for (int i = 0; i < L; i++)
        out[i] = apply3_site(L, t, w, i);
}

double hl_cumulant4_apply4(int L, const double *t, const double *w)
{
    double s = 0;
    for (int i = 0; i < L; i++)
        if (w[i] != 0)
            s += w[i] * apply3_site(L, t, w, i);
    return s;
}

void hl_cumulant4_moment_apply3(const hl_cumulant4 *c, const double *w, double *out)
{
    const int L = c->L;
    hl_cumulant4_apply3(L, c->k4, w, out);
    double q = 0; /* w.Cw, with (Cw)_i = sum_d C(0, d) w_{i+d} */
    for (int i = 0; i < L; i++)
        q += w[i] * dot_shift(L, c->c2, w, i);
    for (int i = 0; i < L; i++)
        out[i] += 3 * q * dot_shift(L, c->c2, w, i);
}

void hl_tensor4_apply3(int D, const double *t, const double *w, double *out)
{
    for (int i = 0; i < D; i++) {
        double s = 0;
        for (int j = 0; j < D; j++)
            for (int k = 0; k < D; k++) {
                double wjk = w[j] * w[k];
                const double *row = t + didx(D, i, j, k, 0);
                double r = 0;
                for (int l = 0; l < D; l++)
                    r += row[l] * w[l];
                s += wjk * r;
            }
        out[i] = s;
    }
}

double hl_tensor4_apply4(int D, const double *t, const double *w)
{
    double s = 0;
    for (int i = 0; i < D; i++) {
        double r = 0;
        for (int j = 0; j < D; j++)
            for (int k = 0; k < D; k++) {
                const double *row = t + didx(D, i, j, k, 0);
                double q = 0;
                for (int l = 0; l < D; l++)
                    q += row[l] * w[l];
                r += w[j] * w[k] * q;
            }
        s += w[i] * r;
    }
    return s;
}
