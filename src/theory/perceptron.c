/* perceptron.c — the perceptron view of the distributional simplicity bias: dataset
 * statistics (means, second moments, third and fourth cumulant contractions along a
 * direction), the expansion w(0) -> w(1) -> w(3) of the square-loss minimiser of the
 * cubic perceptron, its exact stationary point by Newton's method, and online SGD of
 * the same perceptron to compare with.
 *
 * The formulas are derived in theory.h, section "The perceptron view". This file uses
 * GSL's BLAS wrappers (which call OpenBLAS) and GSL's Cholesky: it includes
 * gsl_linalg.h, whose gsl_cblas.h would clash with OpenBLAS's cblas.h. */
#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    BLOCK = 256,   /* rows converted to double per BLAS call */
    STREAM_INIT = HL_STREAM_USER + 601,
    STREAM_SHUFFLE = HL_STREAM_USER + 602,
    STREAM_FRESH = HL_STREAM_USER + 603
};

static double dot(size_t n, const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double dotf(size_t n, const double *a, const float *x)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * x[i];
    return s;
}

static int class_of(float y) { return y > 0 ? 0 : 1; }

/* ---- Statistics -------------------------------------------------------------------- */

void hl_perc_stats_free(hl_perc_stats *s)
{
    if (!s)
        return;
    free(s->mean);
    free(s->m);
    free(s->cov);
    free(s->S);
    free(s->Sw);
    free(s);
}

static void symmetrise_lower(size_t D, double *A)
{
    for (size_t i = 0; i < D; i++)
        for (size_t j = i + 1; j < D; j++)
            A[i * D + j] = A[j * D + i];
}

int hl_perc_stats_compute(const float *X, const float *y, size_t n, size_t D,
                          hl_perc_stats **out)
{
    if (!out)
        return hl_error_set(HL_EINVAL, "perceptron stats: out is NULL");
    *out = NULL;
    if (!X || !y)
        return hl_error_set(HL_EINVAL, "perceptron stats: X and y must not be NULL");
    if (D < 1)
        return hl_error_set(HL_EINVAL, "perceptron stats: D = 0: accepted range is D >= 1");
    size_t count[2] = {0, 0};
    for (size_t k = 0; k < n; k++) {
        if (y[k] != 1.0f && y[k] != -1.0f)
            return hl_error_set(HL_EINVAL, "perceptron stats: y[%zu] = %g: labels must be "
                                "exactly +1 or -1", k, (double)y[k]);
        count[class_of(y[k])]++;
    }
    if (count[0] < 2 || count[1] < 2)
        return hl_error_set(HL_EINVAL, "perceptron stats: n = %zu samples with %zu of "
                            "class +1 and %zu of class -1 (y): each class needs >= 2",
                            n, count[0], count[1]);
    for (size_t k = 0; k < n * D; k++)
        if (!isfinite(X[k]))
            return hl_error_set(HL_EINVAL, "perceptron stats: X[%zu] (sample %zu, site "
                                "%zu) = %g is not finite", k, k / D, k % D, (double)X[k]);

    hl_perc_stats *s = calloc(1, sizeof *s);
    double *blk = malloc(sizeof(double) * BLOCK * D);
    if (!s || !blk)
        goto nomem;
    *s = (hl_perc_stats){.n = n, .D = D, .X = X, .y = y, .count = {count[0], count[1]}};
    s->mean = calloc(2 * D, sizeof(double));
    s->m = calloc(D, sizeof(double));
    s->cov = calloc(2 * D * D, sizeof(double));
    s->S = calloc(D * D, sizeof(double));
    s->Sw = calloc(D * D, sizeof(double));
    if (!s->mean || !s->m || !s->cov || !s->S || !s->Sw)
        goto nomem;
    for (int c = 0; c < 2; c++)
        s->p[c] = (double)count[c] / (double)n;
    for (size_t k = 0; k < n; k++) {
        double *mu = s->mean + class_of(y[k]) * D;
        for (size_t i = 0; i < D; i++)
            mu[i] += X[k * D + i];
    }
    for (int c = 0; c < 2; c++)
        for (size_t i = 0; i < D; i++)
            s->mean[c * D + i] /= (double)count[c];
    /* centred second pass: C_c = Z^T Z / n_c, Z the class's centred rows, in blocks */
    for (int c = 0; c < 2; c++) {
        const double *mu = s->mean + c * D;
        gsl_matrix_view C = gsl_matrix_view_array(s->cov + c * D * D, D, D);
        size_t b = 0;
        for (size_t k = 0; k <= n; k++) {
            if (k < n && class_of(y[k]) == c) {
                for (size_t i = 0; i < D; i++)
                    blk[b * D + i] = X[k * D + i] - mu[i];
                b++;
            }
            if (b == BLOCK || (k == n && b > 0)) {
                gsl_matrix_view Z = gsl_matrix_view_array(blk, b, D);
                gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0 / (double)count[c], &Z.matrix,
                               1.0, &C.matrix);
                b = 0;
            }
        }
        symmetrise_lower(D, s->cov + c * D * D);
    }
    for (size_t i = 0; i < D; i++)
        s->m[i] = s->p[0] * s->mean[i] - s->p[1] * s->mean[D + i];
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            double sw = 0, b2 = 0;
            for (int c = 0; c < 2; c++) {
                sw += s->p[c] * s->cov[(c * D + i) * D + j];
                b2 += s->p[c] * s->mean[c * D + i] * s->mean[c * D + j];
            }
            s->Sw[i * D + j] = sw;
            s->S[i * D + j] = sw + b2;
        }
    free(blk);
    *out = s;
    return HL_OK;
nomem:
    free(blk);
    hl_perc_stats_free(s);
    return hl_error_set(HL_ENOMEM, "perceptron stats: cannot allocate (D = %zu)", D);
}

/* z = x - mu and its projection u = w.z, for both passes over a class's samples. */
static double centred(size_t D, const float *x, const double *mu, const double *w, double *z)
{
    double u = 0;
    for (size_t i = 0; i < D; i++) {
        z[i] = x[i] - mu[i];
        u += w[i] * z[i];
    }
    return u;
}

/* The contractions of class c at w: k3w = <z u^2>, k4w = <z u^3> - 3 q C w, u = w.z, and
 * optionally the influence function psi's standard errors (k4w_se) and covariance
 * (psi_cov, D x D, += Cov(psi) / n_c * weight). Cw (D) is work space. */
static int class_cumulants(const hl_perc_stats *s, int c, const double *w, double *k4w,
                           double *k4w_se, double *k3w, double *psi_cov, double weight)
{
    size_t D = s->D, n = s->n, nc = s->count[c];
    const double *mu = s->mean + c * D, *C = s->cov + c * D * D;
    double *Cw = malloc(sizeof(double) * D), *z = malloc(sizeof(double) * D);
    double *m4 = calloc(D, sizeof(double)), *t3 = calloc(D, sizeof(double));
    double *var = calloc(D, sizeof(double)), *blk = NULL;
    if (psi_cov)
        blk = malloc(sizeof(double) * BLOCK * D);
    if (!Cw || !z || !m4 || !t3 || !var || (psi_cov && !blk)) {
        free(Cw), free(z), free(m4), free(t3), free(var), free(blk);
        return hl_error_set(HL_ENOMEM, "perceptron cumulants: cannot allocate (D = %zu)", D);
    }
    gsl_matrix_const_view Cm = gsl_matrix_const_view_array(C, D, D);
    gsl_vector_const_view wv = gsl_vector_const_view_array(w, D);
    gsl_vector_view Cwv = gsl_vector_view_array(Cw, D);
    gsl_blas_dgemv(CblasNoTrans, 1.0, &Cm.matrix, &wv.vector, 0.0, &Cwv.vector);
    double q = dot(D, w, Cw), k3 = 0;
    /* pass 1: <z u^2>, <z u^3>, <u^3> */
    for (size_t k = 0; k < n; k++) {
        if (class_of(s->y[k]) != c)
            continue;
        double u = centred(D, s->X + k * D, mu, w, z);
        double u2 = u * u, u3 = u2 * u;
        k3 += u3;
        for (size_t i = 0; i < D; i++) {
            t3[i] += z[i] * u2;
            m4[i] += z[i] * u3;
        }
    }
    k3 /= (double)nc;
    for (size_t i = 0; i < D; i++) {
        t3[i] /= (double)nc;
        m4[i] = m4[i] / (double)nc - 3 * q * Cw[i];   /* now K */
    }
    /* pass 2: the influence function psi (mean K) of each sample */
    if (k4w_se || psi_cov) {
        size_t b = 0;
        for (size_t k = 0; k <= n; k++) {
            if (k < n && class_of(s->y[k]) == c) {
                double u = centred(D, s->X + k * D, mu, w, z);
                double u2 = u * u, u3 = u2 * u;
                for (size_t i = 0; i < D; i++) {
                    double psi = z[i] * u3 - 3 * (u2 - q) * Cw[i] - 3 * q * u * z[i] -
                                 k3 * z[i] - 3 * u * t3[i] - m4[i];
                    var[i] += psi * psi;
                    if (blk)
                        blk[b * D + i] = psi;
                }
                b++;
            }
            if (blk && (b == BLOCK || (k == n && b > 0))) {
                gsl_matrix_view P = gsl_matrix_view_array(blk, b, D);
                gsl_matrix_view V = gsl_matrix_view_array(psi_cov, D, D);
                gsl_blas_dsyrk(CblasLower, CblasTrans,
                               weight / ((double)nc * (double)(nc - 1)), &P.matrix, 1.0,
                               &V.matrix);
                b = 0;
            }
        }
        if (k4w_se)
            for (size_t i = 0; i < D; i++)
                k4w_se[i] = sqrt(var[i] / ((double)nc * (double)(nc - 1)));
    }
    if (k4w)
        memcpy(k4w, m4, sizeof(double) * D);
    if (k3w)
        memcpy(k3w, t3, sizeof(double) * D);
    free(Cw), free(z), free(m4), free(t3), free(var), free(blk);
    return HL_OK;
}

static int label_index(const char *who, int label, int *c)
{
    if (label != 1 && label != -1)
        return hl_error_set(HL_EINVAL, "%s: label = %d: accepted values are +1 and -1", who,
                            label);
    *c = label > 0 ? 0 : 1;
    return HL_OK;
}

int hl_perc_cumulants(const hl_perc_stats *s, int label, const double *w, double *k4w,
                      double *k4w_se, double *k3w)
{
    int c = 0, rc;
    if (!s || !w)
        return hl_error_set(HL_EINVAL, "perceptron cumulants: s and w must not be NULL");
    if ((rc = label_index("perceptron cumulants", label, &c)))
        return rc;
    for (size_t i = 0; i < s->D; i++)
        if (!isfinite(w[i]))
            return hl_error_set(HL_EINVAL, "perceptron cumulants: w[%zu] = %g is not finite",
                                i, w[i]);
    return class_cumulants(s, c, w, k4w, k4w_se, k3w, NULL, 0);
}

/* ---- Small helpers ---------------------------------------------------------------- */

double hl_perc_cosine(size_t D, const double *a, const double *b)
{
    double na = sqrt(dot(D, a, a)), nb = sqrt(dot(D, b, b));
    if (!(na > 0) || !(nb > 0) || !isfinite(na) || !isfinite(nb))
        return NAN;
    return dot(D, a, b) / (na * nb);
}

static double sigma(double a, double b, double h) { return (a - b * h * h / 3) * h; }

double hl_perc_loss(size_t D, const double *w, const float *X, const float *y, size_t n,
                    double alpha, double beta, double lambda)
{
    if (!w || !X || !y || n == 0)
        return NAN;
    double l = 0;
    for (size_t k = 0; k < n; k++) {
        double r = y[k] - sigma(alpha, beta, dotf(D, w, X + k * D));
        l += r * r;
    }
    return 0.5 * l / (double)n + 0.5 * lambda * dot(D, w, w);
}

double hl_perc_test_error(size_t D, const double *w, const float *X, const float *y,
                          size_t n)
{
    if (!w || !X || !y || n == 0)
        return NAN;
    size_t wrong = 0;
    for (size_t k = 0; k < n; k++)
        wrong += y[k] * dotf(D, w, X + k * D) <= 0;
    return (double)wrong / (double)n;
}

/* ---- Expansion -------------------------------------------------------------------- */

void hl_perc_options_default(hl_perc_options *o)
{
    *o = (hl_perc_options){.alpha = HL_CUBIC_ALPHA,
                           .beta = HL_CUBIC_BETA,
                           .ridge = 0,
                           .full_se = 0,
                           .newton_iter = 100,
                           .newton_tol = 1e-12};
}

static int options_validate(const hl_perc_options *o)
{
    if (!o)
        return hl_error_set(HL_EINVAL, "perceptron expand: options is NULL");
    if (!isfinite(o->alpha) || o->alpha == 0)
        return hl_error_set(HL_EINVAL, "perceptron expand: alpha = %g: must be finite and "
                            "non-zero", o->alpha);
    if (!isfinite(o->beta))
        return hl_error_set(HL_EINVAL, "perceptron expand: beta = %g: must be finite",
                            o->beta);
    if (!(o->ridge >= 0) || !isfinite(o->ridge))
        return hl_error_set(HL_EINVAL, "perceptron expand: ridge = %g: accepted range is "
                            "ridge >= 0", o->ridge);
    if (o->full_se != 0 && o->full_se != 1)
        return hl_error_set(HL_EINVAL, "perceptron expand: full_se = %d: accepted values "
                            "are 0 and 1", o->full_se);
    if (o->newton_iter < 0)
        return hl_error_set(HL_EINVAL, "perceptron expand: newton_iter = %d: accepted range "
                            "is >= 0", o->newton_iter);
    if (!(o->newton_tol > 0) || !isfinite(o->newton_tol))
        return hl_error_set(HL_EINVAL, "perceptron expand: newton_tol = %g: accepted range "
                            "is > 0", o->newton_tol);
    return HL_OK;
}

void hl_perc_expansion_free(hl_perc_expansion *e)
{
    if (!e)
        return;
    free(e->w0);
    free(e->w1);
    free(e->fisher);
    free(e->d_gauss);
    free(e->d_skew);
    free(e->d_kurt);
    free(e->w3);
    free(e->w3_clone);
    free(e->w_star);
    free(e->k4w);
    free(e->k4w_se);
    free(e->k3w);
    free(e->d_kurt_se);
    free(e);
}

static hl_perc_expansion *expansion_alloc(size_t D)
{
    hl_perc_expansion *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->D = D;
    double **vec[] = {&e->w0, &e->w1, &e->fisher, &e->d_gauss, &e->d_skew, &e->d_kurt,
                      &e->w3, &e->w3_clone, &e->w_star, &e->d_kurt_se};
    for (size_t k = 0; k < sizeof vec / sizeof *vec; k++)
        if (!(*vec[k] = calloc(D, sizeof(double))))
            goto fail;
    double **pair[] = {&e->k4w, &e->k4w_se, &e->k3w};   /* 2 x D: one row per class */
    for (size_t k = 0; k < sizeof pair / sizeof *pair; k++)
        if (!(*pair[k] = calloc(2 * D, sizeof(double))))
            goto fail;
    return e;
fail:
    hl_perc_expansion_free(e);
    return NULL;
}

/* Cholesky factor of a2 M + lambda I (D x D copy in L); GSL_EDOM if not positive
 * definite. */
static int factor(size_t D, const double *M, double a2, double lambda, gsl_matrix *L)
{
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            gsl_matrix_set(L, i, j, a2 * M[i * D + j] + (i == j ? lambda : 0));
    return gsl_linalg_cholesky_decomp1(L);
}

static void chol_solve(const gsl_matrix *L, const double *b, double *x)
{
    gsl_vector_const_view bv = gsl_vector_const_view_array(b, L->size1);
    gsl_vector_view xv = gsl_vector_view_array(x, L->size1);
    gsl_linalg_cholesky_solve(L, &bv.vector, &xv.vector);
}

/* One pass over the data at w: loss (weight decay included), gradient of L and, if H is
 * not NULL, its Hessian (D x D). blk: BLOCK x D doubles, c: BLOCK doubles. */
static double loss_grad_hess(const hl_perc_stats *s, const hl_perc_options *o,
                             const double *w, double *grad, gsl_matrix *H, double *blk,
                             double *cw)
{
    size_t D = s->D, n = s->n;
    double a = o->alpha, b = o->beta, l = 0;
    if (grad)
        memset(grad, 0, sizeof(double) * D);
    if (H)
        gsl_matrix_set_zero(H);
    for (size_t k0 = 0; k0 < n; k0 += BLOCK) {
        size_t nb = n - k0 < BLOCK ? n - k0 : BLOCK;
        for (size_t r = 0; r < nb; r++) {
            const float *x = s->X + (k0 + r) * D;
            double h = dotf(D, w, x), sg = sigma(a, b, h), ds = a - b * h * h;
            double res = s->y[k0 + r] - sg;
            l += res * res;
            if (grad)
                for (size_t i = 0; i < D; i++)
                    grad[i] -= res * ds * x[i];
            /* d2/dw2 of (y - sigma)^2 / 2 = (sigma'^2 - (y - sigma) sigma'') x x^T,
             * sigma'' = -2 beta h */
            cw[r] = ds * ds + 2 * b * h * res;
            for (size_t i = 0; i < D; i++)
                blk[r * D + i] = x[i];
        }
        if (H) {
            /* H += X_b^T diag(c) X_b: the weights may be negative, so no syrk */
            double *scaled = blk + (size_t)BLOCK * D;
            for (size_t r = 0; r < nb; r++)
                for (size_t i = 0; i < D; i++)
                    scaled[r * D + i] = cw[r] * blk[r * D + i];
            gsl_matrix_view Xb = gsl_matrix_view_array(blk, nb, D);
            gsl_matrix_view Yb = gsl_matrix_view_array(scaled, nb, D);
            gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0 / (double)n, &Xb.matrix, &Yb.matrix,
                           1.0, H);
        }
    }
    if (grad)
        for (size_t i = 0; i < D; i++)
            grad[i] = grad[i] / (double)n + o->ridge * w[i];
    if (H)
        for (size_t i = 0; i < D; i++) {
            gsl_matrix_set(H, i, i, gsl_matrix_get(H, i, i) + o->ridge);
            for (size_t j = 0; j < i; j++) {
                double v = 0.5 * (gsl_matrix_get(H, i, j) + gsl_matrix_get(H, j, i));
                gsl_matrix_set(H, i, j, v);
                gsl_matrix_set(H, j, i, v);
            }
        }
    return 0.5 * l / (double)n + 0.5 * o->ridge * dot(D, w, w);
}

/* Damped Newton from e->w3 to the nearest minimum of L: Levenberg-Marquardt shifts when
 * the Hessian is not positive definite, step halving when the loss would rise. */
static int newton(const hl_perc_stats *s, const hl_perc_options *o, hl_perc_expansion *e)
{
    size_t D = s->D;
    double *blk = malloc(sizeof(double) * 2 * BLOCK * D);
    double *cw = malloc(sizeof(double) * BLOCK);
    double *w = malloc(sizeof(double) * D), *g = malloc(sizeof(double) * D);
    double *step = malloc(sizeof(double) * D), *trial = malloc(sizeof(double) * D);
    gsl_matrix *H = gsl_matrix_alloc(D, D), *L = gsl_matrix_alloc(D, D);
    int rc = HL_OK;
    if (!blk || !cw || !w || !g || !step || !trial || !H || !L) {
        rc = hl_error_set(HL_ENOMEM, "perceptron expand: cannot allocate Newton work space "
                          "(D = %zu)", D);
        goto done;
    }
    memcpy(w, e->w3, sizeof(double) * D);
    double loss = loss_grad_hess(s, o, w, g, H, blk, cw);
    e->star_iter = 0;
    e->star_converged = 0;
    for (int it = 0; it < o->newton_iter && isfinite(loss); it++) {
        double shift = 0, scale = 0;
        for (size_t i = 0; i < D; i++)
            scale = fmax(scale, fabs(gsl_matrix_get(H, i, i)));
        for (;;) {
            gsl_matrix_memcpy(L, H);
            for (size_t i = 0; i < D; i++)
                gsl_matrix_set(L, i, i, gsl_matrix_get(L, i, i) + shift);
            if (gsl_linalg_cholesky_decomp1(L) == GSL_SUCCESS)
                break;
            shift = shift > 0 ? 4 * shift : 1e-8 * (scale > 0 ? scale : 1);
            if (!isfinite(shift))
                goto done;
        }
        for (size_t i = 0; i < D; i++)
            g[i] = -g[i];
        chol_solve(L, g, step);
        double t = 1, trial_loss = INFINITY;
        for (int half = 0; half < 40; half++, t *= 0.5) {
            for (size_t i = 0; i < D; i++)
                trial[i] = w[i] + t * step[i];
            trial_loss = loss_grad_hess(s, o, trial, NULL, NULL, blk, cw);
            if (trial_loss <= loss)
                break;
        }
        if (!(trial_loss <= loss))
            break;   /* no descent left: at the minimum to rounding */
        memcpy(w, trial, sizeof(double) * D);
        e->star_iter = it + 1;
        double move = t * sqrt(dot(D, step, step)), nw = sqrt(dot(D, w, w));
        loss = loss_grad_hess(s, o, w, g, H, blk, cw);
        if (move <= o->newton_tol * nw) {
            e->star_converged = 1;
            break;
        }
    }
    e->star_grad = sqrt(dot(D, g, g));
    e->loss_star = loss;
    memcpy(e->w_star, w, sizeof(double) * D);
done:
    free(blk), free(cw), free(w), free(g), free(step), free(trial);
    if (H)
        gsl_matrix_free(H);
    if (L)
        gsl_matrix_free(L);
    return rc;
}

/* d_kurt_se and kurt_chi2 from Cov(Kbar) (D x D, lower triangle filled). */
static int kurt_errors(size_t D, const gsl_matrix *LA, double scale, double *cov,
                       const double *kbar, hl_perc_expansion *e)
{
    symmetrise_lower(D, cov);
    gsl_matrix *P = gsl_matrix_alloc(D, D), *Lc = gsl_matrix_alloc(D, D);
    double *col = malloc(sizeof(double) * D), *sol = malloc(sizeof(double) * D);
    if (!P || !Lc || !col || !sol) {
        if (P)
            gsl_matrix_free(P);
        if (Lc)
            gsl_matrix_free(Lc);
        free(col), free(sol);
        return hl_error_set(HL_ENOMEM, "perceptron expand: cannot allocate (D = %zu)", D);
    }
    /* Cov(d_kurt) = scale^2 A^-1 Cov(Kbar) A^-1: P = A^-1 Cov column by column, then
     * diag(A^-1 P^T) = diag(A^-1 Cov A^-1) (Cov symmetric) */
    for (size_t j = 0; j < D; j++) {
        for (size_t i = 0; i < D; i++)
            col[i] = cov[i * D + j];
        chol_solve(LA, col, sol);
        for (size_t i = 0; i < D; i++)
            gsl_matrix_set(P, i, j, sol[i]);   /* P = A^-1 Cov */
    }
    for (size_t i = 0; i < D; i++) {
        gsl_vector_view row = gsl_matrix_row(P, i);   /* (A^-1 Cov)_i. = (Cov A^-1)_.i */
        chol_solve(LA, row.vector.data, sol);          /* A^-1 (Cov A^-1)_.i */
        e->d_kurt_se[i] = fabs(scale) * sqrt(fmax(sol[i], 0));
    }
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            gsl_matrix_set(Lc, i, j, cov[i * D + j]);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    if (gsl_linalg_cholesky_decomp1(Lc) == GSL_SUCCESS) {
        chol_solve(Lc, kbar, sol);
        e->kurt_chi2 = dot(D, kbar, sol);
    }
    gsl_set_error_handler(old);
    gsl_matrix_free(P);
    gsl_matrix_free(Lc);
    free(col), free(sol);
    return HL_OK;
}

int hl_perc_expand(const hl_perc_stats *s, const hl_perc_options *o,
                   hl_perc_expansion **out)
{
    if (!out)
        return hl_error_set(HL_EINVAL, "perceptron expand: out is NULL");
    *out = NULL;
    if (!s)
        return hl_error_set(HL_EINVAL, "perceptron expand: stats is NULL");
    int rc = options_validate(o);
    if (rc)
        return rc;
    size_t D = s->D;
    double a = o->alpha, b = o->beta, lam = o->ridge;
    hl_perc_expansion *e = expansion_alloc(D);
    gsl_matrix *LA = gsl_matrix_alloc(D, D);
    double *Cw = malloc(sizeof(double) * D), *rg = calloc(D, sizeof(double));
    double *r3 = calloc(D, sizeof(double)), *r4 = calloc(D, sizeof(double));
    double *dmu = malloc(sizeof(double) * D), *cov = NULL;
    if (o->full_se)
        cov = calloc(D * D, sizeof(double));
    if (!e || !LA || !Cw || !rg || !r3 || !r4 || !dmu || (o->full_se && !cov)) {
        rc = hl_error_set(HL_ENOMEM, "perceptron expand: cannot allocate (D = %zu)", D);
        goto done;
    }
    e->opt = *o;
    e->kurt_chi2 = e->loss_star = NAN;
    gsl_error_handler_t *old = gsl_set_error_handler_off();

    /* w(0), w(1) and Fisher's discriminant */
    memcpy(e->w0, s->m, sizeof(double) * D);
    if (factor(D, s->Sw, 1, lam / (a * a), LA) != GSL_SUCCESS) {
        rc = hl_error_set(HL_ENUMERIC, "perceptron expand: the within-class covariance "
                          "Sw + ridge/alpha^2 is not positive definite (n = %zu, D = %zu): "
                          "set ridge > 0", s->n, D);
        goto restore;
    }
    for (size_t i = 0; i < D; i++)
        dmu[i] = s->mean[i] - s->mean[D + i];
    chol_solve(LA, dmu, e->fisher);
    if (factor(D, s->S, a * a, lam, LA) != GSL_SUCCESS) {
        rc = hl_error_set(HL_ENUMERIC, "perceptron expand: the second moment alpha^2 S + "
                          "ridge is not positive definite (n = %zu, D = %zu): set ridge > 0",
                          s->n, D);
        goto restore;
    }
    chol_solve(LA, s->m, e->w1);
    for (size_t i = 0; i < D; i++)
        e->w1[i] *= a;

    /* w(3): the right-hand sides of A d = ..., class by class (see theory.h) */
    const double *w1 = e->w1;
    for (int c = 0; c < 2; c++) {
        const double *mu = s->mean + c * D, *C = s->cov + c * D * D;
        double *k4 = e->k4w + c * D, *k3v = e->k3w + c * D;
        double p = s->p[c], yc = c == 0 ? 1 : -1;
        if ((rc = class_cumulants(s, c, w1, k4, e->k4w_se + c * D, k3v, cov,
                                  p * p)))
            goto restore;
        for (size_t i = 0; i < D; i++)
            Cw[i] = dot(D, C + i * D, w1);
        double am = dot(D, w1, mu), q = dot(D, w1, Cw), k3 = dot(D, w1, k3v);
        for (size_t i = 0; i < D; i++) {
            rg[i] += p * ((4 * a / 3) * (mu[i] * (am * am * am + 3 * am * q) +
                                         3 * (am * am + q) * Cw[i]) -
                          yc * (mu[i] * (am * am + q) + 2 * am * Cw[i]));
            r3[i] += p * ((4 * a / 3) * (mu[i] * k3 + 3 * am * k3v[i]) - yc * k3v[i]);
            r4[i] += p * (4 * a / 3) * k4[i];
        }
    }
    chol_solve(LA, rg, e->d_gauss);
    chol_solve(LA, r3, e->d_skew);
    chol_solve(LA, r4, e->d_kurt);
    for (size_t i = 0; i < D; i++) {
        e->d_gauss[i] *= b;
        e->d_skew[i] *= b;
        e->d_kurt[i] *= b;
        e->w3_clone[i] = w1[i] + e->d_gauss[i];
        e->w3[i] = e->w3_clone[i] + e->d_skew[i] + e->d_kurt[i];
        e->d_kurt_se[i] = NAN;
    }
    if (o->full_se) {
        /* Kbar = r4 / (4 alpha / 3); d_kurt = (4 alpha beta / 3) A^-1 Kbar */
        for (size_t i = 0; i < D; i++)
            r4[i] /= 4 * a / 3;
        if ((rc = kurt_errors(D, LA, 4 * a * b / 3, cov, r4, e)))
            goto restore;
    }
    e->loss_w1 = hl_perc_loss(D, e->w1, s->X, s->y, s->n, a, b, lam);
    e->loss_w3 = hl_perc_loss(D, e->w3, s->X, s->y, s->n, a, b, lam);
    if (o->newton_iter > 0)
        rc = newton(s, o, e);
    else
        for (size_t i = 0; i < D; i++)
            e->w_star[i] = NAN;
restore:
    gsl_set_error_handler(old);
done:
    if (LA)
        gsl_matrix_free(LA);
    free(Cw), free(rg), free(r3), free(r4), free(dmu), free(cov);
    if (rc)
        hl_perc_expansion_free(e);
    else
        *out = e;
    return rc;
}

/* ---- Training ---------------------------------------------------------------------- */

const char *hl_perc_ref_name(int ref)
{
    static const char *names[HL_PERC_N_REFS] = {"mean", "linear", "fisher", "w3", "clone",
                                                "star"};
    return ref >= 0 && ref < HL_PERC_N_REFS ? names[ref] : NULL;
}

void hl_perc_train_defaults(hl_perc_train_params *p)
{
    *p = (hl_perc_train_params){.alpha = HL_CUBIC_ALPHA,
                                .beta = HL_CUBIC_BETA,
                                .ridge = 0,
                                .eta = 0.01,
                                .std0 = 0,
                                .average_from = 0.5,
                                .seed = 1};
}

static int train_validate(const hl_perc_train_params *p)
{
    if (!p)
        return hl_error_set(HL_EINVAL, "perceptron train: params is NULL");
    if (!isfinite(p->alpha) || !isfinite(p->beta))
        return hl_error_set(HL_EINVAL, "perceptron train: alpha = %g, beta = %g: both must "
                            "be finite", p->alpha, p->beta);
    if (!(p->ridge >= 0) || !isfinite(p->ridge))
        return hl_error_set(HL_EINVAL, "perceptron train: ridge = %g: accepted range is "
                            "ridge >= 0", p->ridge);
    if (!(p->eta > 0) || !isfinite(p->eta))
        return hl_error_set(HL_EINVAL, "perceptron train: eta = %g: accepted range is "
                            "eta > 0", p->eta);
    if (!(p->std0 >= 0) || !isfinite(p->std0))
        return hl_error_set(HL_EINVAL, "perceptron train: std0 = %g: accepted range is "
                            "std0 >= 0", p->std0);
    if (!(p->average_from >= 0 && p->average_from < 1))
        return hl_error_set(HL_EINVAL, "perceptron train: average_from = %g: accepted "
                            "range is [0, 1)", p->average_from);
    if (!p->times || p->n_times < 1)
        return hl_error_set(HL_EINVAL, "perceptron train: times: at least one record time "
                            "is needed (n_times = %zu)", p->n_times);
    for (size_t j = 0; j < p->n_times; j++) {
        if (!(p->times[j] >= 0) || !isfinite(p->times[j]))
            return hl_error_set(HL_EINVAL, "perceptron train: times[%zu] = %g: accepted "
                                "range is t >= 0", j, p->times[j]);
        if (j > 0 && p->times[j] < p->times[j - 1])
            return hl_error_set(HL_EINVAL, "perceptron train: times must be non-decreasing "
                                "(times[%zu] = %g < times[%zu] = %g)", j, p->times[j], j - 1,
                                p->times[j - 1]);
    }
    if (p->times[p->n_times - 1] / p->eta > 1e15)
        return hl_error_set(HL_EINVAL, "perceptron train: times[%zu] / eta = %g steps is "
                            "too many", p->n_times - 1, p->times[p->n_times - 1] / p->eta);
    return HL_OK;
}

void hl_perc_run_free(hl_perc_run *r)
{
    if (!r)
        return;
    free(r->t);
    free(r->steps);
    free(r->w);
    free(r->norm);
    free(r->overlap);
    free(r->test_error);
    free(r->test_loss);
    free(r->w_avg);
    free(r);
}

static hl_perc_run *run_alloc(size_t n, size_t D)
{
    hl_perc_run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->n_times = n;
    r->D = D;
    r->t = malloc(sizeof(double) * n);
    r->steps = malloc(sizeof(unsigned long long) * n);
    r->w = malloc(sizeof(double) * n * D);
    r->norm = malloc(sizeof(double) * n);
    r->overlap = malloc(sizeof(double) * n * HL_PERC_N_REFS);
    r->test_error = malloc(sizeof(double) * n);
    r->test_loss = malloc(sizeof(double) * n);
    r->w_avg = calloc(D, sizeof(double));
    if (!r->t || !r->steps || !r->w || !r->norm || !r->overlap || !r->test_error ||
        !r->test_loss || !r->w_avg) {
        hl_perc_run_free(r);
        return NULL;
    }
    return r;
}

/* Where the samples come from: a task (fresh blocks) or an array (shuffled epochs). */
typedef struct {
    hl_task *task;
    const float *X, *y;
    size_t n, D, used, fill;
    float *bx, *by;       /* task block */
    size_t *perm;         /* array order of the current epoch */
    gsl_rng *rng;
    unsigned long long epochs;
} source;

static void shuffle(source *s)
{
    for (size_t i = s->n - 1; i > 0; i--) {
        size_t j = gsl_rng_uniform_int(s->rng, i + 1), t = s->perm[i];
        s->perm[i] = s->perm[j];
        s->perm[j] = t;
    }
}

static int next_sample(source *s, const float **x, float *y)
{
    if (s->task) {
        if (s->used == s->fill) {
            int rc = hl_task_sample(s->task, BLOCK, s->bx, s->by, s->rng);
            if (rc)
                return rc;
            s->used = 0;
            s->fill = BLOCK;
        }
        *x = s->bx + s->used * s->D;
        *y = s->by[s->used++];
        return HL_OK;
    }
    if (s->used == s->n) {
        shuffle(s);
        s->used = 0;
        s->epochs++;
    }
    size_t k = s->perm[s->used++];
    *x = s->X + k * s->D;
    *y = s->y[k];
    return HL_OK;
}

/* The expansion's vectors in HL_PERC_REF_ order (all NULL without an expansion). */
static void ref_list(const hl_perc_expansion *ex, const double *refs[HL_PERC_N_REFS])
{
    for (int r = 0; r < HL_PERC_N_REFS; r++)
        refs[r] = NULL;
    if (ex) {
        refs[HL_PERC_REF_MEAN] = ex->w0;
        refs[HL_PERC_REF_LINEAR] = ex->w1;
        refs[HL_PERC_REF_FISHER] = ex->fisher;
        refs[HL_PERC_REF_W3] = ex->w3;
        refs[HL_PERC_REF_CLONE] = ex->w3_clone;
        refs[HL_PERC_REF_STAR] = ex->w_star;
    }
}

static void overlaps(size_t D, const double *w, const hl_perc_expansion *ex, double *ov)
{
    const double *refs[HL_PERC_N_REFS];
    ref_list(ex, refs);
    for (int r = 0; r < HL_PERC_N_REFS; r++)
        ov[r] = refs[r] ? hl_perc_cosine(D, w, refs[r]) : NAN;
}

static int train(const hl_perc_train_params *p, source *src, const hl_perc_expansion *ex,
                 const float *Xt, const float *yt, size_t nt, hl_perc_run **out)
{
    size_t D = src->D;
    double a = p->alpha, b = p->beta;
    hl_perc_run *r = run_alloc(p->n_times, D);
    double *w = malloc(sizeof(double) * D);
    gsl_rng *init = hl_rng_alloc(p->seed, STREAM_INIT);
    int rc = HL_OK;
    if (!r || !w || !init) {
        rc = hl_error_set(HL_ENOMEM, "perceptron train: cannot allocate (D = %zu, %zu "
                          "times)", D, p->n_times);
        goto done;
    }
    for (size_t i = 0; i < D; i++)
        w[i] = p->std0 > 0 ? hl_rng_gaussian(init, p->std0) : 0;
    unsigned long long total = (unsigned long long)llround(p->times[p->n_times - 1] / p->eta);
    unsigned long long avg_start = (unsigned long long)ceil(p->average_from * (double)total);
    unsigned long long step = 0, n_avg = 0;
    /* weight decay as a factor: w <- (1 - eta lambda) w + eta g x */
    double decay = 1 - p->eta * p->ridge;
    for (size_t j = 0; j < p->n_times; j++) {
        unsigned long long target = (unsigned long long)llround(p->times[j] / p->eta);
        for (; step < target; step++) {
            const float *x;
            float y;
            if ((rc = next_sample(src, &x, &y)))
                goto done;
            double h = dotf(D, w, x);
            if (!isfinite(h) || fabs(h) > 1e150) {
                rc = hl_error_set(HL_EDIVERGED, "perceptron train: the preactivation h = %g "
                                  "diverged at step %llu (t = %g): lower eta", h, step,
                                  (double)step * p->eta);
                goto done;
            }
            double g = p->eta * (y - sigma(a, b, h)) * (a - b * h * h);
            for (size_t i = 0; i < D; i++)
                w[i] = decay * w[i] + g * x[i];
            if (step + 1 > avg_start) {
                /* running mean over the iterates after steps avg_start + 1 .. total */
                n_avg++;
                double f = 1.0 / (double)n_avg;
                for (size_t i = 0; i < D; i++)
                    r->w_avg[i] += f * (w[i] - r->w_avg[i]);
            }
        }
        r->t[j] = p->times[j];
        r->steps[j] = step;
        memcpy(r->w + j * D, w, sizeof(double) * D);
        r->norm[j] = sqrt(dot(D, w, w));
        overlaps(D, w, ex, r->overlap + j * HL_PERC_N_REFS);
        r->test_error[j] = hl_perc_test_error(D, w, Xt, yt, nt);
        r->test_loss[j] = hl_perc_loss(D, w, Xt, yt, nt, a, b, 0);
    }
    if (n_avg == 0)   /* no step taken: the average is the initial weight */
        memcpy(r->w_avg, w, sizeof(double) * D);
    overlaps(D, r->w_avg, ex, r->avg_overlap);
    r->avg_test_error = hl_perc_test_error(D, r->w_avg, Xt, yt, nt);
    r->avg_test_loss = hl_perc_loss(D, r->w_avg, Xt, yt, nt, a, b, 0);
    {
        const double *refs[HL_PERC_N_REFS];
        ref_list(ex, refs);
        for (int k = 0; k < HL_PERC_N_REFS; k++)
            r->ref_test_error[k] = refs[k] && isfinite(refs[k][0])
                                       ? hl_perc_test_error(D, refs[k], Xt, yt, nt)
                                       : NAN;
    }
    r->epochs = src->epochs;
done:
    free(w);
    hl_rng_free(init);
    if (rc)
        hl_perc_run_free(r);
    else
        *out = r;
    return rc;
}

static int check_common(const hl_perc_train_params *p, size_t D,
                        const hl_perc_expansion *ex, const float *Xt, const float *yt,
                        size_t nt)
{
    int rc = train_validate(p);
    if (rc)
        return rc;
    if (ex && ex->D != D)
        return hl_error_set(HL_EINVAL, "perceptron train: the expansion (ex) has D = %zu, "
                            "the data D = %zu", ex->D, D);
    if (nt > 0 && (!Xt || !yt))
        return hl_error_set(HL_EINVAL, "perceptron train: Xtest and ytest must not be NULL "
                            "when n_test = %zu", nt);
    for (size_t k = 0; k < nt; k++)
        if (yt[k] != 1.0f && yt[k] != -1.0f)
            return hl_error_set(HL_EINVAL, "perceptron train: ytest[%zu] = %g: labels must "
                                "be exactly +1 or -1", k, (double)yt[k]);
    return HL_OK;
}

int hl_perc_train_task(const hl_perc_train_params *p, hl_task *task,
                       const hl_perc_expansion *ex, const float *Xtest,
                       const float *ytest, size_t n_test, hl_perc_run **out)
{
    if (!out)
        return hl_error_set(HL_EINVAL, "perceptron train: out is NULL");
    *out = NULL;
    if (!task)
        return hl_error_set(HL_EINVAL, "perceptron train: task is NULL");
    size_t D = hl_task_dim(task);
    int rc = check_common(p, D, ex, Xtest, ytest, n_test);
    if (rc)
        return rc;
    source src = {.task = task, .D = D};
    src.bx = malloc(sizeof(float) * BLOCK * D);
    src.by = malloc(sizeof(float) * BLOCK);
    src.rng = hl_rng_alloc(p->seed, STREAM_FRESH);
    if (!src.bx || !src.by || !src.rng)
        rc = hl_error_set(HL_ENOMEM, "perceptron train: cannot allocate (D = %zu)", D);
    else
        rc = train(p, &src, ex, Xtest, ytest, n_test, out);
    free(src.bx);
    free(src.by);
    hl_rng_free(src.rng);
    return rc;
}

int hl_perc_train_array(const hl_perc_train_params *p, const float *X, const float *y,
                        size_t n, size_t D, const hl_perc_expansion *ex,
                        const float *Xtest, const float *ytest, size_t n_test,
                        hl_perc_run **out)
{
    if (!out)
        return hl_error_set(HL_EINVAL, "perceptron train: out is NULL");
    *out = NULL;
    if (!X || !y || n < 1)
        return hl_error_set(HL_EINVAL, "perceptron train: X and y must not be NULL and n "
                            "= %zu must be >= 1", n);
    if (D < 1)
        return hl_error_set(HL_EINVAL, "perceptron train: D = 0: accepted range is D >= 1");
    for (size_t k = 0; k < n; k++)
        if (y[k] != 1.0f && y[k] != -1.0f)
            return hl_error_set(HL_EINVAL, "perceptron train: y[%zu] = %g: labels must be "
                                "exactly +1 or -1", k, (double)y[k]);
    int rc = check_common(p, D, ex, Xtest, ytest, n_test);
    if (rc)
        return rc;
    source src = {.X = X, .y = y, .n = n, .D = D};
    src.perm = malloc(sizeof(size_t) * n);
    src.rng = hl_rng_alloc(p->seed, STREAM_SHUFFLE);
    if (!src.perm || !src.rng) {
        rc = hl_error_set(HL_ENOMEM, "perceptron train: cannot allocate (n = %zu)", n);
    } else {
        for (size_t k = 0; k < n; k++)
            src.perm[k] = k;
        src.used = n;   /* the first sample shuffles and starts epoch 1 */
        rc = train(p, &src, ex, Xtest, ytest, n_test, out);
    }
    free(src.perm);
    hl_rng_free(src.rng);
    return rc;
}
