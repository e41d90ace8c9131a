/* cumulant_exact.c — exact fourth moments and cumulant of the erf and sign NLGP on a
 * ring, by one smooth 1D integral per entry instead of a 4D quadrature.
 *
 * Why not 4D Gauss-Hermite: at the gains that matter (g ~ 10) erf(g z) is almost a
 * step, and Gauss-Hermite converges slowly on steps. Instead erf(a z) = 2 Phi(sqrt2 a z)
 * - 1 = E_e sign(z + e) with e ~ N(0, s2), s2 = 1/(2 a^2), independent of z and drawn
 * afresh for each factor. So <erf(a z_i) erf(a z_j) erf(a z_k) erf(a z_l)> is the
 * orthant-sign moment E[s1 s2 s3 s4] of y = z + e, a Gaussian with covariance K + s2 I:
 * positive definite even when sites repeat (the noises differ), so coincident indices
 * need no special case. Price's theorem (dE/dR_ij = E[d_i d_j prod sign] = 4 p_ij(0, 0)
 * E[s_k s_l | y_i = y_j = 0]) along the path R(t) = (1 - t) I + t R, where E = 0 at
 * t = 0, gives
 *     E[s1 s2 s3 s4] = (4 / pi^2) int_0^1 sum_{i<j} R_ij asin(rho_kl|ij(t))
 *                                               / sqrt(1 - t^2 R_ij^2) dt,
 * {k, l} the other two factors: a smooth integrand, integrated adaptively by GSL. For
 * small R it reduces to (4/pi^2)(R12 R34 + R13 R24 + R14 R23), the Gaussian's. */
#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "cumulant_impl.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { WS_LIMIT = 200 };

/* Largest accepted error estimate of a moment (the integral divided by Z^4). */
static const double HL_NLGP_MOMENT4_TOL = 1e-9;

/* What kind of entries a parameter set has. */
typedef enum { KIND_GAUSS, KIND_ERF, KIND_SIGN } kind_t;

typedef struct {
    kind_t kind;
    const hl_nlgp_params *p;
    double s2;        /* erf: noise variance 1/(2 a^2) */
    double Z4;        /* Z^4 of x = f / Z */
    double *cov;      /* Gauss: the covariance row (L) */
    gsl_integration_workspace *ws;
} ctx_t;

static int site_dist(const hl_nlgp_params *p, int i, int j)
{
    int d = abs(i - j);
    return p->boundary == HL_BOUNDARY_PERIODIC && p->L - d < d ? p->L - d : d;
}

/* The correlation matrix R of the four factors, and W = 1 - R entrywise computed
 * without cancellation (from expm1 of the kernel and the noise variance): near-singular
 * R (repeated sites at large gain, close neighbours of a long-range kernel) makes
 * every conditional quantity a small difference of O(1) numbers unless it is written
 * in terms of W. */
typedef struct {
    double R[4][4], W[4][4];
} corr4;

/* det(J - Delta) for Delta = [[p, q, r], [v, 0, z], [w, z, 0]], J all ones: the
 * (unnormalised) conditional covariance of y_k, y_l given y_i, y_j times det of the
 * (i, j) block, with p = d_kl, q = d_ki, r = d_kj, v = d_li, w = d_lj, z = d_ij and
 * d = 1 - correlation. Matrix determinant lemma: det(-Delta) + 1' adj(-Delta) 1; every
 * term is a product of two or three d's, so nothing cancels when all d's are small
 * (nearly coincident factors). When some d's are small and others near 1, O(1) terms
 * do cancel: long double keeps 3 more digits there (relative error ~1e-19 / min d). */
static long double cond_num(long double p, long double q, long double r, long double v,
                            long double w, long double z)
{
    return -z * z + z * (q + r + v + w) - 2 * p * z - r * w - q * v + q * w + r * v +
           p * z * z - q * z * w - r * v * z;
}

static double integrand(double u, void *par)
{
    static const int PAIRS[6][4] = {{0, 1, 2, 3}, {2, 3, 0, 1}, {0, 2, 1, 3},
                                    {1, 3, 0, 2}, {0, 3, 1, 2}, {1, 2, 0, 3}};
    const corr4 *c = par;
    const long double uu = (long double)u * u, t = 1 - uu;
    long double d[4][4]; /* 1 - t R_ab = u^2 + t (1 - R_ab) */
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            d[a][b] = a == b ? 0 : uu + t * c->W[a][b];
    long double sum = 0;
    for (int q = 0; q < 6; q++) {
        int i = PAIRS[q][0], j = PAIRS[q][1], k = PAIRS[q][2], l = PAIRS[q][3];
        long double z = d[i][j], det2 = z * (2 - z); /* 1 - (t R_ij)^2 */
        long double nkk = cond_num(0, d[k][i], d[k][j], d[k][i], d[k][j], z);
        long double nll = cond_num(0, d[l][i], d[l][j], d[l][i], d[l][j], z);
        long double nkl = cond_num(d[k][l], d[k][i], d[k][j], d[l][i], d[l][j], z);
        long double rho = nkl / sqrtl(nkk * nll);
        rho = rho > 1 ? 1 : rho < -1 ? -1 : rho;
        sum += c->R[i][j] * asinl(rho) / sqrtl(det2);
    }
    /* dt = 2 u du: with t = 1 - u^2 the factors 1 / sqrt(1 - t^2 R_ij^2), which peak at
     * t = 1 like 1 / sqrt(2 (1 - t) + 1 - R_ij^2) when R_ij is near 1, stay bounded. */
    return (double)(2 * u * sum * 4 / (M_PI * M_PI));
}

/* Whether a 4 x 4 symmetric matrix is positive definite (Cholesky). */
static int is_pd(const double R[4][4])
{
    long double Lc[4][4] = {{0}};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j <= i; j++) {
            long double s = R[i][j];
            for (int k = 0; k < j; k++)
                s -= Lc[i][k] * Lc[j][k];
            if (i == j) {
                if (!(s > 0))
                    return 0;
                Lc[i][i] = sqrtl(s);
            } else {
                Lc[i][j] = s / Lc[j][j];
            }
        }
    return 1;
}

/* E[s1 s2 s3 s4] of a zero-mean Gaussian with correlation matrix c->R (unit diagonal);
 * its absolute accuracy is ~1e-13 scale, at worst HL_NLGP_MOMENT4_TOL scale. */
static int orthant4(const corr4 *c, double scale, gsl_integration_workspace *ws, double *val)
{
    if (!is_pd(c->R))
        return hl_error_set(HL_ENUMERIC, "nlgp_moment4: the four sites' latent correlation "
                            "matrix is not positive definite (a kernel that is not positive "
                            "definite on this ring, e.g. xi large against L)");
    gsl_function f = {integrand, (void *)c};
    double err;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_integration_qag(&f, 0, 1, 1e-13 * scale, 1e-11, WS_LIMIT, GSL_INTEG_GAUSS21, ws, val,
                                 &err);
    gsl_set_error_handler(old);
    /* Round-off or the subdivision limit near the requested accuracy is fine (very large
     * gains: see cond_num); an error estimate beyond HL_NLGP_MOMENT4_TOL is not. */
    if (st && !(err <= HL_NLGP_MOMENT4_TOL * scale))
        return hl_error_set(HL_ENUMERIC, "nlgp_moment4: the orthant integral failed (%s, "
                            "error estimate %g; at gains above ~1e4 use nonlin = sign, the "
                            "limit)", gsl_strerror(st), err / scale);
    return HL_OK;
}

static int ctx_init(ctx_t *c, const hl_nlgp_params *p, const char *who)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    int rc = hl_nlgp_validate(p);
    if (rc)
        return rc;
    if (p->dim != 1)
        return hl_error_set(HL_EINVAL, "%s: dim = %d: only rings (dim = 1) are supported",
                            who, p->dim);
    double a = hl_nlgp_slope(p->gain, p->convention);
    if (p->clone || (p->nonlin == HL_NONLIN_ERF && a == 0) ||
        (p->nonlin == HL_NONLIN_TANH && a == 0)) {
        c->kind = KIND_GAUSS;
        c->cov = malloc(sizeof(double) * p->L);
        if (!c->cov)
            return hl_error_set(HL_ENOMEM, "%s: out of memory (L = %d)", who, p->L);
        return hl_nlgp_covariance_row(p, c->cov);
    }
    if (p->nonlin == HL_NONLIN_ERF) {
        c->kind = KIND_ERF;
        c->s2 = 1 / (2 * a * a);
        double Z = hl_nlgp_Z(p->gain, p->convention);
        c->Z4 = Z * Z * Z * Z;
    } else if (p->nonlin == HL_NONLIN_SIGN) {
        c->kind = KIND_SIGN;
        c->Z4 = 1;
    } else {
        return hl_error_set(HL_EINVAL, "%s: nonlin = %s: exact fourth moments are available "
                            "for nonlin = erf and sign (and every clone)", who,
                            p->nonlin == HL_NONLIN_TANH ? "tanh" : "poly");
    }
    c->ws = gsl_integration_workspace_alloc(WS_LIMIT);
    if (!c->ws)
        return hl_error_set(HL_ENOMEM, "%s: out of memory (integration workspace)", who);
    return HL_OK;
}

static void ctx_free(ctx_t *c)
{
    free(c->cov);
    if (c->ws)
        gsl_integration_workspace_free(c->ws);
}

static double cov_at(const ctx_t *c, int i, int j)
{
    return c->cov[site_dist(c->p, i, j)];
}

/* <x_s0 x_s1 x_s2 x_s3>, sites already checked. */
static int moment(ctx_t *c, const int s[4], double *m4)
{
    const hl_nlgp_params *p = c->p;
    corr4 R;
    switch (c->kind) {
    case KIND_GAUSS:
        *m4 = cov_at(c, s[0], s[1]) * cov_at(c, s[2], s[3]) +
              cov_at(c, s[0], s[2]) * cov_at(c, s[1], s[3]) +
              cov_at(c, s[0], s[3]) * cov_at(c, s[1], s[2]);
        return HL_OK;
    case KIND_ERF:
    case KIND_SIGN:
        break;
    }
    if (c->kind == KIND_SIGN) {
        /* sign^2 = 1: sites repeated an even number of times drop out. */
        int odd[4], n_odd = 0;
        for (int i = 0; i < 4; i++) {
            int count = 0, first = 1;
            for (int j = 0; j < 4; j++) {
                count += s[j] == s[i];
                if (j < i && s[j] == s[i])
                    first = 0;
            }
            if (first && count % 2)
                odd[n_odd++] = s[i];
        }
        if (n_odd == 0) {
            *m4 = 1;
            return HL_OK;
        }
        if (n_odd == 2) {
            *m4 = M_2_PI * asin(hl_nlgp_kernel(site_dist(p, odd[0], odd[1]), p->xi, p->p));
            return HL_OK;
        }
    }
    /* Sign: R = K. Erf: R = (K + s2 I) / (1 + s2) off the diagonal, where repeated
     * sites have K = 1 but independent noises. */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double x = pow(site_dist(p, s[i], s[j]) / p->xi, p->p);
            R.R[i][j] = i == j ? 1 : exp(-x) / (1 + c->s2);
            R.W[i][j] = i == j ? 0 : (-expm1(-x) + c->s2) / (1 + c->s2);
        }
    double e;
    int rc = orthant4(&R, c->Z4, c->ws, &e);
    if (rc)
        return rc;
    *m4 = e / c->Z4;
    return HL_OK;
}

int hl_nlgp_moment4(const hl_nlgp_params *p, int i, int j, int k, int l, double *m4)
{
    if (!p || !m4)
        return hl_error_set(HL_EINVAL, "nlgp_moment4: params or output is NULL");
    ctx_t c;
    int rc = ctx_init(&c, p, "nlgp_moment4");
    const int s[4] = {i, j, k, l};
    for (int q = 0; q < 4 && !rc; q++)
        if (s[q] < 0 || s[q] >= p->L)
            rc = hl_error_set(HL_EINVAL, "nlgp_moment4: site %d: accepted range is 0..%d "
                              "(L = %d)", s[q], p->L - 1, p->L);
    if (!rc)
        rc = moment(&c, s, m4);
    ctx_free(&c);
    return rc;
}

int hl_nlgp_cumulant4_exact(const hl_nlgp_params *p, hl_cumulant4 *out)
{
    if (!p || !out)
        return hl_error_set(HL_EINVAL, "nlgp_cumulant4_exact: params or output is NULL");
    if (p->L != out->L)
        return hl_error_set(HL_EINVAL, "nlgp_cumulant4_exact: L = %d of the parameters differs "
                            "from the output's L = %d", p->L, out->L);
    if (p->boundary != HL_BOUNDARY_PERIODIC)
        return hl_error_set(HL_EINVAL, "nlgp_cumulant4_exact: boundary = open: the ring "
                            "storage needs periodic boundaries (use hl_nlgp_moment4)");
    ctx_t c;
    int rc = ctx_init(&c, p, "nlgp_cumulant4_exact");
    const int L = p->L;
    const size_t L3 = (size_t)L * L * L;
    int *map = rc ? NULL : malloc(sizeof(int) * L3);
    if (!rc && !map)
        rc = hl_error_set(HL_ENOMEM, "nlgp_cumulant4_exact: out of memory (L = %d)", L);
    if (!rc)
        rc = hl_nlgp_covariance_row(p, out->c2);
    if (rc)
        goto done;
    /* Translation, permutation and reflection: one integral per class. */
    hl_cumulant4_classes(L, 1, map);
    for (size_t idx = 0; idx < L3 && !rc; idx++) {
        size_t r = map[idx];
        if (r != idx) {
            out->m4[idx] = out->m4[r]; /* r < idx: already done */
            continue;
        }
        const int s[4] = {0, (int)(idx / ((size_t)L * L)), (int)(idx / L % L), (int)(idx % L)};
        rc = moment(&c, s, &out->m4[idx]);
    }
    if (rc)
        goto done;
    const double *g = out->c2;
    for (int a = 0; a < L; a++)
        for (int b = 0; b < L; b++)
            for (int cc = 0; cc < L; cc++) {
                size_t idx = ((size_t)a * L + b) * L + cc;
                double wick = g[a] * g[(cc - b + L) % L] + g[b] * g[(cc - a + L) % L] +
                              g[cc] * g[(b - a + L) % L];
                /* The Gaussian's k4 is zero by definition, not by cancellation. */
                out->k4[idx] = c.kind == KIND_GAUSS ? 0 : out->m4[idx] - wick;
                if (c.kind == KIND_GAUSS)
                    out->m4[idx] = wick;
            }
    memset(out->k4_se, 0, sizeof(double) * L3);
done:
    free(map);
    ctx_free(&c);
    return rc;
}
