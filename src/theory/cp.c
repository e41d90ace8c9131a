/* cp.c — symmetric CP decomposition of a 4th-order symmetric tensor.
 *
 * T ~ sum_k gamma_k u_k^4 by greedy deflation with the shifted symmetric higher-order
 * power method (SS-HOPM, Kolda & Mayo, SIAM J. Matrix Anal. Appl. 32, 2011), then
 * optional cyclic refinement. The tensor is only ever touched through its contraction
 * w -> T w^3 (a callback), so deflation is a chain: the deflated tensor's contraction
 * is the callback's minus sum_a gamma_a (u_a . w)^3 u_a.
 *
 * Shift. SS-HOPM u <- normalise(s T u^3 + alpha u) increases s T u^4 at every step
 * once alpha exceeds beta = 3 max_{|x|=1} rho(T x^2) (the shifted objective is then
 * convex on R^D). Since |T(x, x, y, y)| <= sigma = max |T x^4| for unit x, y (Banach:
 * for symmetric tensors the spectral norm is attained on the diagonal), alpha = 3 sigma
 * suffices; we do not know sigma, but |T x^3| <= sigma for unit x, so the running
 * maximum sigma' of |T x^3| is a lower estimate that grows as the runs climb. The
 * automatic shift starts at 0 (plain S-HOPM); a step that fails to increase s T u^4
 * is retried with the shift raised to sigma'/4, then doubled at each further failure,
 * which passes the Kolda-Mayo bound after finitely many failures and restores their
 * guarantee. Small shifts converge faster (the linear rate at an eigenvector is about
 * (3 rho_perp + alpha) / (lambda + alpha)): that is why we do not start from an upper
 * bound.
 *
 * Sign. Odd maps and even objectives: u and -u are the same factor, so each accepted
 * step is flipped to point the way of the previous one; otherwise a negative
 * eigenvalue with a small shift would make the iterate alternate and never converge. */
#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The Philox stream of the restarts; factor k uses its substream k, so the start
 * vectors of a factor do not depend on how many numbers earlier factors drew. */
#define CP_STREAM ((uint64_t)HL_STREAM_USER + 40)

/* Restarts are only compared, so they also stop when T u^4 stalls (relative change
 * per step below this): near-symmetric tensors (translation invariance on a lattice)
 * have eigenvectors that slide along an almost flat valley for thousands of steps
 * while T u^4 no longer moves. */
#define SCREEN_FTOL 1e-12

/* ---- Dense tensors ---------------------------------------------------------------- */

struct hl_cp_dense {
    size_t D;
    const double *T;
    double *a; /* D^3: T w over the last index */
    double *b; /* D^2: then over the third */
};

hl_cp_dense *hl_cp_dense_alloc(const double *T, size_t D)
{
    if (D < 1) {
        hl_error_set(HL_EINVAL, "cp dense tensor: D = %zu, must be >= 1", D);
        return NULL;
    }
    /* cblas takes int dimensions: D^3 rows must fit. */
    if (D > 1290) {
        hl_error_set(HL_EINVAL, "cp dense tensor: D = %zu, must be <= 1290", D);
        return NULL;
    }
    if (!T) {
        hl_error_set(HL_EINVAL, "cp dense tensor: T is NULL");
        return NULL;
    }
    size_t D2 = D * D, D3 = D2 * D, D4 = D3 * D;
    double amax = 0;
    for (size_t n = 0; n < D4; n++)
        if (fabs(T[n]) > amax || isnan(T[n]))
            amax = isnan(T[n]) ? NAN : fabs(T[n]);
    if (!isfinite(amax)) {
        hl_error_set(HL_EINVAL, "cp dense tensor: T has a NaN or Inf entry");
        return NULL;
    }
    /* The three adjacent transpositions generate all 24 permutations. */
    double tol = 1e-10 * amax;
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            for (size_t k = 0; k < D; k++)
                for (size_t l = 0; l < D; l++) {
                    double t = T[i * D3 + j * D2 + k * D + l];
                    if (fabs(t - T[j * D3 + i * D2 + k * D + l]) > tol ||
                        fabs(t - T[i * D3 + k * D2 + j * D + l]) > tol ||
                        fabs(t - T[i * D3 + j * D2 + l * D + k]) > tol) {
                        hl_error_set(HL_EINVAL,
                                     "cp dense tensor: T is not symmetric at entry "
                                     "(%zu, %zu, %zu, %zu)", i, j, k, l);
                        return NULL;
                    }
                }
    hl_cp_dense *d = calloc(1, sizeof *d);
    if (d) {
        d->a = malloc(sizeof(double) * D3);
        d->b = malloc(sizeof(double) * D2);
    }
    if (!d || !d->a || !d->b) {
        hl_cp_dense_free(d);
        hl_error_set(HL_ENOMEM, "cp dense tensor: out of memory for D = %zu", D);
        return NULL;
    }
    d->D = D;
    d->T = T;
    return d;
}

void hl_cp_dense_free(hl_cp_dense *d)
{
    if (!d)
        return;
    free(d->a);
    free(d->b);
    free(d);
}

void hl_cp_dense_contract3(void *ctx, const double *w, double *out)
{
    hl_cp_dense *d = ctx;
    int D = (int)d->D;
    /* Three matrix-vector products; only the first costs D^4. */
    cblas_dgemv(CblasRowMajor, CblasNoTrans, D * D * D, D, 1.0, d->T, D, w, 1, 0.0,
                d->a, 1);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, D * D, D, 1.0, d->a, D, w, 1, 0.0, d->b, 1);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, D, D, 1.0, d->b, D, w, 1, 0.0, out, 1);
}

/* ---- Options and results ------------------------------------------------------------ */

void hl_cp_options_default(hl_cp_options *o, int rank)
{
    o->rank = rank;
    o->restarts = 8;
    o->max_iter = 1000;
    o->probe_iter = 20;
    o->tol = 1e-12;
    o->screen_tol = 1e-6;
    o->screen_iter = 100;
    o->ftol = 0;
    o->shift = 0;
    o->refine_sweeps = 50;
    o->refine_tol = 1e-11;
    o->refine_iter = 100;
    o->seed = 1;
}

hl_cp_result *hl_cp_result_alloc(size_t D, int rank)
{
    if (D < 1) {
        hl_error_set(HL_EINVAL, "cp result: D = %zu, must be >= 1", D);
        return NULL;
    }
    if (rank < 1) {
        hl_error_set(HL_EINVAL, "cp result: rank = %d, must be >= 1", rank);
        return NULL;
    }
    hl_cp_result *r = calloc(1, sizeof *r);
    if (r) {
        r->gamma = calloc((size_t)rank, sizeof(double));
        r->u = calloc((size_t)rank * D, sizeof(double));
        r->iterations = calloc((size_t)rank, sizeof(int));
        r->converged = calloc((size_t)rank, sizeof(int));
        r->change = calloc((size_t)rank, sizeof(double));
    }
    if (!r || !r->gamma || !r->u || !r->iterations || !r->converged || !r->change) {
        hl_cp_result_free(r);
        hl_error_set(HL_ENOMEM, "cp result: out of memory for D = %zu, rank = %d", D, rank);
        return NULL;
    }
    r->D = D;
    r->rank = rank;
    return r;
}

void hl_cp_result_free(hl_cp_result *r)
{
    if (!r)
        return;
    free(r->gamma);
    free(r->u);
    free(r->iterations);
    free(r->converged);
    free(r->change);
    free(r);
}

/* ---- The deflated contraction ------------------------------------------------------- */

typedef struct {
    size_t D;
    hl_cp_contract3_fn f;
    void *ctx;
    int n;               /* factors 0..n-1 of (gamma, u) are subtracted ... */
    int skip;            /* ... except this one (-1: none) */
    const double *gamma, *u;
} cp_op;

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double norm(const double *v, size_t n) { return sqrt(dot(v, v, n)); }

/* out = deflated T w^3 for a unit w. Returns the size of the terms that were summed,
 * |T w^3| + sum |gamma_a (u_a . w)^3|: the scale of its rounding error, which does not
 * shrink with the deflated result (a residual that cancels to zero is noise of that
 * scale times the machine epsilon). */
static double op_apply(const cp_op *p, const double *w, double *out)
{
    p->f(p->ctx, w, out);
    double scale = norm(out, p->D);
    for (int a = 0; a < p->n; a++) {
        if (a == p->skip)
            continue;
        const double *ua = p->u + (size_t)a * p->D;
        double c = dot(ua, w, p->D);
        double g = p->gamma[a] * c * c * c;
        scale += fabs(g);
        for (size_t i = 0; i < p->D; i++)
            out[i] -= g * ua[i];
    }
    return scale;
}

/* ---- One SS-HOPM run ---------------------------------------------------------------- */

typedef struct {
    double *x, *g;   /* current unit vector and T x^3 */
    double *xn, *gn; /* the trial step */
    double lam;      /* T x^4 */
    int s;           /* +1: climb T x^4, -1: climb -T x^4 */
    double boost;    /* shift multiplier: 1 for a given shift, else 0 at first;
                      * raised after each failed step */
    int iter, converged;
    double change;
} cp_run;

static int check_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return hl_error_set(HL_ENUMERIC, "cp: the contraction callback returned "
                                "NaN or Inf (entry %zu)", i);
    return HL_OK;
}

/* Start at x0 / |x0| (x0 may alias nothing in r). sigma: running max |T x^3|. */
static int run_start(cp_run *r, const cp_op *p, const hl_cp_options *o, const double *x0,
                     int s, double *sigma)
{
    size_t D = p->D;
    double nx = norm(x0, D);
    for (size_t i = 0; i < D; i++)
        r->x[i] = nx > 0 ? x0[i] / nx : (i == 0);
    op_apply(p, r->x, r->g);
    int rc = check_finite(r->g, D);
    if (rc)
        return rc;
    r->lam = dot(r->x, r->g, D);
    double ng = norm(r->g, D);
    if (ng > *sigma)
        *sigma = ng;
    r->s = s;
    r->boost = o->shift > 0 ? 1 : 0;
    r->iter = 0;
    r->converged = 0;
    r->change = INFINITY;
    return HL_OK;
}

/* Up to n_steps more iterations (fewer if converged or max_iter is reached). */
static int run_steps(cp_run *r, const cp_op *p, const hl_cp_options *o, double *sigma,
                     int n_steps, double tol, double ftol)
{
    size_t D = p->D;
    for (int t = 0; t < n_steps && !r->converged && r->iter < o->max_iter; t++) {
        r->iter++;
        double alpha = (o->shift > 0 ? o->shift : *sigma) * r->boost;
        for (size_t i = 0; i < D; i++)
            r->xn[i] = r->s * r->g[i] + alpha * r->x[i];
        double nn = norm(r->xn, D);
        if (nn == 0) { /* T x^3 = 0 and no shift: x is a fixed point */
            r->converged = 1;
            r->change = 0;
            break;
        }
        double flip = dot(r->xn, r->x, D) < 0 ? -1 : 1;
        for (size_t i = 0; i < D; i++)
            r->xn[i] *= flip / nn;
        double ch2 = 0;
        for (size_t i = 0; i < D; i++) {
            double d = r->xn[i] - r->x[i];
            ch2 += d * d;
        }
        double change = sqrt(ch2);
        double scale = op_apply(p, r->xn, r->gn);
        int rc = check_finite(r->gn, D);
        if (rc)
            return rc;
        double lamn = dot(r->xn, r->gn, D);
        /* A step that lowers the objective by more than rounding means the shift is
         * too small: double it and retry from x. A step below tol that fails is at the
         * rounding floor of the objective: x has converged. */
        double slack = 1e-12 * fmax(fmax(fabs(r->lam), *sigma), scale);
        if (r->s * lamn < r->s * r->lam - slack) {
            if (change < tol) {
                r->converged = 1;
                r->change = change;
                break;
            }
            r->boost = r->boost > 0 ? 2 * r->boost : 0.25;
            continue;
        }
        r->change = change;
        double *tx = r->x, *tg = r->g;
        r->x = r->xn;
        r->g = r->gn;
        r->xn = tx;
        r->gn = tg;
        double dlam = fabs(lamn - r->lam);
        r->lam = lamn;
        double ng = norm(r->g, D);
        if (ng > *sigma)
            *sigma = ng;
        if (r->change < tol || (ftol > 0 && dlam <= ftol * fabs(lamn)))
            r->converged = 1;
    }
    return HL_OK;
}

static void run_store(const cp_run *r, hl_cp_result *res, int k)
{
    memcpy(res->u + (size_t)k * res->D, r->x, sizeof(double) * res->D);
    res->gamma[k] = r->lam;
    res->iterations[k] = r->iter;
    res->converged[k] = r->converged;
    res->change[k] = r->change;
}

/* ---- Decomposition ------------------------------------------------------------------ */

static int check_options(size_t D, hl_cp_contract3_fn f, const hl_cp_options *o,
                         const hl_cp_result *res)
{
    if (D < 1)
        return hl_error_set(HL_EINVAL, "cp: D = %zu, must be >= 1", D);
    if (!f)
        return hl_error_set(HL_EINVAL, "cp: contract3 callback is NULL");
    if (!o)
        return hl_error_set(HL_EINVAL, "cp: options are NULL");
    if (o->rank < 1)
        return hl_error_set(HL_EINVAL, "cp: rank = %d, must be >= 1", o->rank);
    if (o->restarts < 1)
        return hl_error_set(HL_EINVAL, "cp: restarts = %d, must be >= 1", o->restarts);
    if (o->max_iter < 1)
        return hl_error_set(HL_EINVAL, "cp: max_iter = %d, must be >= 1", o->max_iter);
    if (o->probe_iter < 1)
        return hl_error_set(HL_EINVAL, "cp: probe_iter = %d, must be >= 1",
                            o->probe_iter);
    if (!(o->tol > 0))
        return hl_error_set(HL_EINVAL, "cp: tol = %g, must be > 0", o->tol);
    if (o->screen_iter < o->probe_iter || o->screen_iter > o->max_iter)
        return hl_error_set(HL_EINVAL, "cp: screen_iter = %d, must be in probe_iter = %d "
                            "to max_iter = %d", o->screen_iter, o->probe_iter, o->max_iter);
    if (!(o->ftol >= 0) || !isfinite(o->ftol))
        return hl_error_set(HL_EINVAL, "cp: ftol = %g, must be finite and >= 0", o->ftol);
    if (!(o->screen_tol >= o->tol))
        return hl_error_set(HL_EINVAL, "cp: screen_tol = %g, must be >= tol = %g",
                            o->screen_tol, o->tol);
    if (!(o->shift >= 0) || !isfinite(o->shift))
        return hl_error_set(HL_EINVAL, "cp: shift = %g, must be finite and >= 0",
                            o->shift);
    if (o->refine_sweeps < 0)
        return hl_error_set(HL_EINVAL, "cp: refine_sweeps = %d, must be >= 0",
                            o->refine_sweeps);
    if (o->refine_iter < 1)
        return hl_error_set(HL_EINVAL, "cp: refine_iter = %d, must be >= 1",
                            o->refine_iter);
    if (!(o->refine_tol > 0))
        return hl_error_set(HL_EINVAL, "cp: refine_tol = %g, must be > 0", o->refine_tol);
    if (!res)
        return hl_error_set(HL_EINVAL, "cp: result is NULL");
    if (res->D != D || res->rank != o->rank)
        return hl_error_set(HL_EINVAL, "cp: result was allocated for D = %zu, rank = %d, "
                            "not D = %zu, rank = %d", res->D, res->rank, D, o->rank);
    return HL_OK;
}

/* Factors by decreasing |gamma| (insertion sort: stable, rank is small), each with its
 * largest-magnitude entry positive. */
static void canonical_order(hl_cp_result *res, double *tmp)
{
    size_t D = res->D;
    for (int k = 0; k < res->rank; k++) {
        double *u = res->u + (size_t)k * D;
        size_t imax = 0;
        for (size_t i = 1; i < D; i++)
            if (fabs(u[i]) > fabs(u[imax]))
                imax = i;
        if (u[imax] < 0)
            for (size_t i = 0; i < D; i++)
                u[i] = -u[i];
    }
    for (int k = 1; k < res->rank; k++) {
        int j = k;
        while (j > 0 && fabs(res->gamma[j]) > fabs(res->gamma[j - 1])) {
            double *a = res->u + (size_t)(j - 1) * D, *b = a + D;
            memcpy(tmp, a, sizeof(double) * D);
            memcpy(a, b, sizeof(double) * D);
            memcpy(b, tmp, sizeof(double) * D);
            double g = res->gamma[j];
            res->gamma[j] = res->gamma[j - 1];
            res->gamma[j - 1] = g;
            int it = res->iterations[j];
            res->iterations[j] = res->iterations[j - 1];
            res->iterations[j - 1] = it;
            int cv = res->converged[j];
            res->converged[j] = res->converged[j - 1];
            res->converged[j - 1] = cv;
            double ch = res->change[j];
            res->change[j] = res->change[j - 1];
            res->change[j - 1] = ch;
            j--;
        }
    }
}

int hl_cp_decompose(size_t D, hl_cp_contract3_fn contract3, void *ctx,
                    const hl_cp_options *o, hl_cp_result *res)
{
    int rc = check_options(D, contract3, o, res);
    if (rc)
        return rc;
    int r = o->rank;
    double *work = malloc(sizeof(double) * 9 * D);
    float *fx = malloc(sizeof(float) * D);
    int *keep_s = malloc(sizeof(int) * r);
    gsl_rng *rng = hl_rng_alloc(o->seed, CP_STREAM);
    if (!work || !fx || !keep_s || !rng) {
        free(work);
        free(fx);
        free(keep_s);
        hl_rng_free(rng);
        return hl_error_set(HL_ENOMEM, "cp: out of memory for D = %zu", D);
    }
    double *x0 = work;
    cp_run run[2];
    for (int m = 0; m < 2; m++) {
        run[m].x = work + D * (1 + 4 * m);
        run[m].g = run[m].x + D;
        run[m].xn = run[m].g + D;
        run[m].gn = run[m].xn + D;
    }
    memset(res->gamma, 0, sizeof(double) * r);
    memset(res->u, 0, sizeof(double) * r * D);
    res->sweeps = 0;
    res->sweep_change = 0;
    cp_op p = {D, contract3, ctx, 0, -1, res->gamma, res->u};

    /* Greedy deflation: factor k is the best restart on T - sum_{a<k} gamma_a u_a^4. */
    for (int k = 0; k < r && !rc; k++) {
        p.n = k;
        hl_rng_substream(rng, (uint32_t)k);
        double sigma = 0, best = -1;
        for (int t = 0; t < o->restarts && !rc; t++) {
            hl_rng_normals(rng, D, fx);
            for (size_t i = 0; i < D; i++)
                x0[i] = fx[i];
            /* Both signs from the same start for a few steps; continue the one that
             * climbed higher, i.e. that is heading for the larger |gamma|. */
            for (int m = 0; m < 2 && !rc; m++) {
                rc = run_start(&run[m], &p, o, x0, m ? -1 : 1, &sigma);
                if (!rc)
                    rc = run_steps(&run[m], &p, o, &sigma, o->probe_iter, o->screen_tol,
                                   SCREEN_FTOL);
            }
            if (rc)
                break;
            cp_run *c = -run[1].lam > run[0].lam ? &run[1] : &run[0];
            rc = run_steps(c, &p, o, &sigma, o->screen_iter - c->iter, o->screen_tol,
                           SCREEN_FTOL);
            if (!rc && fabs(c->lam) > best) {
                best = fabs(c->lam);
                run_store(c, res, k);
                keep_s[k] = c->s;
            }
        }
        /* Only the winner is taken on to the full tolerance. */
        if (!rc) {
            rc = run_start(&run[0], &p, o, res->u + (size_t)k * D, keep_s[k], &sigma);
            run[0].iter = res->iterations[k]; /* one budget of max_iter for both */
            if (!rc)
                rc = run_steps(&run[0], &p, o, &sigma, o->max_iter, o->tol, o->ftol);
            if (!rc)
                run_store(&run[0], res, k);
        }
    }

    /* Refinement: re-fit each factor to T minus all the others, warm-started, with
     * the sign of its gamma. Each re-fit cannot increase ||T - model||_F, since for
     * fixed u the best gamma is R u^4 and the squared error is then
     * ||R||^2 - (R u^4)^2. */
    if (r > 1) {
        p.n = r;
        for (int sw = 0; sw < o->refine_sweeps && !rc; sw++) {
            double moved = 0;
            for (int k = 0; k < r && !rc; k++) {
                double *u = res->u + (size_t)k * D, sigma = 0;
                p.skip = k;
                rc = run_start(&run[0], &p, o, u, res->gamma[k] < 0 ? -1 : 1, &sigma);
                if (!rc)
                    rc = run_steps(&run[0], &p, o, &sigma, o->refine_iter, o->tol, o->ftol);
                if (rc)
                    break;
                double d2 = 0;
                for (size_t i = 0; i < D; i++)
                    d2 += (run[0].x[i] - u[i]) * (run[0].x[i] - u[i]);
                if (sqrt(d2) > moved)
                    moved = sqrt(d2);
                run_store(&run[0], res, k);
            }
            if (rc)
                break;
            res->sweeps = sw + 1;
            res->sweep_change = moved;
            if (moved < o->refine_tol)
                break;
        }
    }
    if (!rc)
        canonical_order(res, x0);
    free(work);
    free(fx);
    free(keep_s);
    hl_rng_free(rng);
    return rc;
}

int hl_cp_reconstruction_error(const double *T, const hl_cp_result *res, double *err)
{
    if (!T || !res || !err)
        return hl_error_set(HL_EINVAL, "cp reconstruction error: %s is NULL",
                            !T ? "T" : !res ? "result" : "err");
    size_t D = res->D, D2 = D * D, D3 = D2 * D;
    int r = res->rank;
    double *coef = malloc(sizeof(double) * r);
    if (!coef)
        return hl_error_set(HL_ENOMEM, "cp reconstruction error: out of memory");
    double e2 = 0, t2 = 0, m2 = 0;
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            for (size_t k = 0; k < D; k++) {
                for (int a = 0; a < r; a++) {
                    const double *u = res->u + (size_t)a * D;
                    coef[a] = res->gamma[a] * u[i] * u[j] * u[k];
                }
                const double *t = T + i * D3 + j * D2 + k * D;
                for (size_t l = 0; l < D; l++) {
                    double m = 0;
                    for (int a = 0; a < r; a++)
                        m += coef[a] * res->u[(size_t)a * D + l];
                    e2 += (t[l] - m) * (t[l] - m);
                    t2 += t[l] * t[l];
                    m2 += m * m;
                }
            }
    free(coef);
    *err = t2 > 0 ? sqrt(e2 / t2) : sqrt(m2);
    return HL_OK;
}

/* ---- Localisation of a factor ------------------------------------------------------- */

double hl_cp_ipr(const double *u, size_t n)
{
    double s2 = 0, s4 = 0;
    for (size_t i = 0; i < n; i++) {
        double u2 = u[i] * u[i];
        s2 += u2;
        s4 += u2 * u2;
    }
    return s2 > 0 ? s4 / (s2 * s2) : NAN;
}

int hl_cp_ring_width(const double *u, size_t L, double *centre, double *width)
{
    if (L < 1)
        return hl_error_set(HL_EINVAL, "cp ring width: L = %zu, must be >= 1", L);
    if (!u)
        return hl_error_set(HL_EINVAL, "cp ring width: u is NULL");
    double s2 = 0, c = 0, s = 0;
    for (size_t i = 0; i < L; i++) {
        double u2 = u[i] * u[i], th = 2 * M_PI * (double)i / (double)L;
        s2 += u2;
        c += u2 * cos(th);
        s += u2 * sin(th);
    }
    if (!(s2 > 0))
        return hl_error_set(HL_EINVAL, "cp ring width: u is zero (or not finite)");
    double R = hypot(c, s) / s2, scale = (double)L / (2 * M_PI);
    /* Below 1e-12 the resultant is rounding noise: no centre. */
    if (R < 1e-12) {
        if (centre)
            *centre = 0;
        if (width)
            *width = INFINITY;
        return HL_OK;
    }
    double ctr = atan2(s, c) * scale;
    if (ctr < 0)
        ctr += (double)L;
    if (ctr >= (double)L)
        ctr -= (double)L;
    if (centre)
        *centre = ctr;
    if (width)
        *width = R >= 1 ? 0 : sqrt(-2 * log(R)) * scale;
    return HL_OK;
}

int hl_rf_ring_widths(const float *W, size_t K, size_t L, double *ipr, double *centre,
                      double *width)
{
    if (!W || K < 1 || L < 1 || !ipr || !centre || !width)
        return hl_error_set(HL_EINVAL, "rf ring widths: W (K = %zu x L = %zu) and the three "
                            "outputs must be given", K, L);
    double *u = malloc(sizeof(double) * L);
    if (!u)
        return hl_error_set(HL_ENOMEM, "rf ring widths: out of memory (L = %zu)", L);
    for (size_t k = 0; k < K; k++) {
        for (size_t i = 0; i < L; i++)
            u[i] = W[k * L + i];
        ipr[k] = hl_cp_ipr(u, L);
        if (hl_cp_ring_width(u, L, &centre[k], &width[k]))
            centre[k] = width[k] = NAN; /* a zero field */
    }
    free(u);
    return HL_OK;
}
