/* get_expect.c — the Gaussian expectations the Gaussian-equivalent ODEs need: test
 * error, test loss and the drift and noise coefficients of one class, over the K
 * preactivations lambda ~ N(0, Q).
 *
 * The linear activation has them in closed form (the error e is Gaussian). The others
 * use one fixed set of quasi-Monte-Carlo points, so that the ODE's right-hand side is a
 * smooth deterministic function of the state (an adaptive stepper needs that; fresh
 * random points would make its error control chase noise): n/2 Sobol points (GSL's,
 * up to 40 dimensions: K <= 40) through the normal quantile, and their mirror images
 * -z, which make every odd moment exact. lambda = L z, L the Cholesky factor
 * of Q, smooth in Q wherever Q is positive definite. */
#include "get_impl.h"
#include "hoclab/error.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_qrng.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* GSL's Sobol points are multiples of 2^-30. */
static const double BITS_SCALE = 1073741824.0;

/* A fixed 30-bit word per dimension (splitmix64 of the index). */
static uint32_t shift_word(int k)
{
    uint64_t z = 0x9E3779B97F4A7C15ULL * (uint64_t)(k + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (uint32_t)(z >> 34);
}

int get_points_init(get_points *pts, const get_model *m, size_t n_points)
{
    const int K = m->K;
    memset(pts, 0, sizeof *pts);
    pts->K = K;
    pts->work = malloc(sizeof(double) * (10 * (size_t)K + 3 * (size_t)K * K));
    pts->perm = malloc(sizeof(int) * K);
    if (!pts->work || !pts->perm) {
        get_points_free(pts);
        return hl_error_set(HL_ENOMEM, "GET: cannot allocate work space for K = %d", K);
    }
    if (m->act == HL_ACT_LINEAR)
        return HL_OK;
    size_t half = n_points / 2;
    pts->N = 2 * half;
    pts->z = malloc(sizeof(double) * pts->N * K);
    gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)K); /* K <= 40: validated */
    double *u = malloc(sizeof(double) * K);
    if (!pts->z || !q || !u) {
        if (q)
            gsl_qrng_free(q);
        free(u);
        get_points_free(pts);
        return hl_error_set(HL_ENOMEM, "GET: cannot allocate %zu quasi-Monte-Carlo points "
                            "of dimension %d", n_points, K);
    }
    /* The Sobol net is completed with its origin (GSL's sequence starts after it) and
     * digitally shifted: each coordinate's 30 bits XOR a fixed pseudo-random word per
     * dimension, taken at the centre of its cell. A shift keeps the net's equal
     * distribution and moves every point off the faces of the cube, where the normal
     * quantile is infinite. */
    for (size_t i = 0; i < half; i++) {
        if (i > 0)
            gsl_qrng_get(q, u);
        else
            memset(u, 0, sizeof(double) * K);
        for (int k = 0; k < K; k++) {
            uint32_t bits = (uint32_t)(u[k] * BITS_SCALE) ^ shift_word(k);
            double z = gsl_cdf_ugaussian_Pinv((bits + 0.5) / BITS_SCALE);
            pts->z[i * K + k] = z;
            pts->z[(half + i) * K + k] = -z;
        }
    }
    gsl_qrng_free(q);
    free(u);
    return HL_OK;
}

void get_points_free(get_points *pts)
{
    free(pts->z);
    free(pts->work);
    free(pts->perm);
    pts->z = pts->work = NULL;
    pts->perm = NULL;
}

/* Lower Cholesky factor of a positive semi-definite Q: a pivot that has fallen to
 * round-off (units with linearly dependent weights) gives a zero column instead of a
 * failure, which is the factor of the nearby semi-definite matrix. */
static void cholesky(int K, const double *Q, double *L)
{
    memset(L, 0, sizeof(double) * K * K);
    for (int j = 0; j < K; j++) {
        double s = Q[j * K + j];
        for (int k = 0; k < j; k++)
            s -= L[j * K + k] * L[j * K + k];
        if (!(s > 1e-14 * fabs(Q[j * K + j])) || !(s > 0))
            continue;
        double d = sqrt(s);
        L[j * K + j] = d;
        for (int i = j + 1; i < K; i++) {
            double r = Q[i * K + j];
            for (int k = 0; k < j; k++)
                r -= L[i * K + k] * L[j * K + k];
            L[i * K + j] = r / d;
        }
    }
}

/* g, g' and g'' of the activations at h (K values each). */
static void activations(hl_act act, int K, const double *h, double *g0, double *g1,
                        double *g2)
{
    switch (act) {
    case HL_ACT_ERF:
        for (int k = 0; k < K; k++) {
            double d = M_2_SQRTPI * M_SQRT1_2 * exp(-0.5 * h[k] * h[k]); /* sqrt(2/pi) */
            g0[k] = erf(h[k] * M_SQRT1_2);
            g1[k] = d;
            g2[k] = -h[k] * d;
        }
        return;
    case HL_ACT_TANH:
        for (int k = 0; k < K; k++) {
            double t = tanh(h[k]), s = 1 - t * t;
            g0[k] = t;
            g1[k] = s;
            g2[k] = -2 * t * s;
        }
        return;
    case HL_ACT_CUBIC:
        for (int k = 0; k < K; k++) {
            double x = h[k];
            g0[k] = HL_CUBIC_ALPHA * x - HL_CUBIC_BETA * x * x * x / 3;
            g1[k] = HL_CUBIC_ALPHA - HL_CUBIC_BETA * x * x;
            g2[k] = -2 * HL_CUBIC_BETA * x;
        }
        return;
    default: /* linear (closed form elsewhere); relu is rejected by validation */
        for (int k = 0; k < K; k++) {
            g0[k] = h[k];
            g1[k] = 1;
            g2[k] = 0;
        }
    }
}

/* Linear units: phi = v.(lambda + b) / norm is Gaussian, mean mu, variance s2. */
static void expect_linear(const get_model *m, const double *Q, const double *v,
                          const double *b, double y, double *Qv, get_moments *o)
{
    const int K = m->K;
    const double n = m->norm;
    double mu = 0, s2 = 0;
    for (int k = 0; k < K; k++) {
        double r = 0;
        for (int l = 0; l < K; l++)
            r += Q[k * K + l] * v[l];
        Qv[k] = r;
        mu += v[k] * b[k];
        s2 += v[k] * r;
    }
    mu /= n;
    s2 /= n * n;
    double d = mu - y, e2 = s2 + d * d, sd = sqrt(fmax(s2, 0));
    /* P(phi <= 0) for y > 0, P(phi > 0) for y < 0 */
    double p_neg = sd > 0 ? gsl_cdf_ugaussian_P(-mu / sd) : (mu <= 0 ? 1.0 : 0.0);
    o->error = y > 0 ? p_neg : 1 - p_neg;
    o->loss = e2 / 2;
    for (int k = 0; k < K; k++) {
        for (int l = 0; l < K; l++) {
            double vv = v[k] * v[l] / (n * n);
            if (o->A)
                o->A[k * K + l] = vv;
            if (o->B)
                o->B[k * K + l] = vv * e2;
        }
        if (o->psi)
            o->psi[k] = v[k] * d / n;
        if (o->eg)
            o->eg[k] = Qv[k] / n + b[k] * d;
    }
}

/* g^-1 on (-1, 1) for the monotone activations with that range: erf(h / sqrt 2) =
 * 2 Phi(h) - 1 and tanh. */
static double inverse(hl_act act, double c)
{
    return act == HL_ACT_ERF ? gsl_cdf_ugaussian_Pinv(0.5 * (c + 1)) : atanh(c);
}

/* h_k = b_k + (L z)_k for the first n of K units (L lower triangular, K x K): the
 * preactivations at one quadrature point. */
static void preactivations(int n, int K, const double *b, const double *L, const double *z,
                           double *h)
{
    for (int k = 0; k < n; k++) {
        double a = b[k];
        for (int j = 0; j <= k; j++)
            a += L[k * K + j] * z[j];
        h[k] = a;
    }
}

/* P((phi > 0) != (y > 0)) by conditioning on all units but one, u: given the others,
 * v_u g(h_u) <= -R (R the others' share of phi) is an interval of lambda_u, a Gaussian
 * of known mean and variance, so each point contributes a smooth Phi(.) instead of a
 * 0 or 1, which leaves only the quasi-Monte-Carlo error of a smooth integrand. u is
 * the unit of largest |v_u| sqrt(Q_uu), put last in the Cholesky factor. Cubic units
 * (not monotone) and degenerate cases count the indicator directly. */
static double error_of(const get_model *m, get_points *pts, const double *Q, const double *v,
                       const double *b, double y)
{
    const int K = m->K;
    double *L = pts->work, *Qp = L + K * K, *h = Qp + K * K, *g0 = h + K;
    double *g1 = g0 + K, *g2 = g1 + K, *vp = g2 + K, *bp = vp + K;
    int u = 0;
    for (int k = 1; k < K; k++)
        if (fabs(v[k]) * sqrt(fmax(Q[k * K + k], 0)) > fabs(v[u]) * sqrt(fmax(Q[u * K + u], 0)))
            u = k;
    /* the order: every unit but u, then u */
    int *perm = pts->perm;
    for (int k = 0, i = 0; k < K; k++)
        if (k != u)
            perm[i++] = k;
    perm[K - 1] = u;
    for (int i = 0; i < K; i++) {
        vp[i] = v[perm[i]];
        bp[i] = b[perm[i]];
        for (int j = 0; j < K; j++)
            Qp[i * K + j] = Q[perm[i] * K + perm[j]];
    }
    cholesky(K, Qp, L);
    const double s = L[(K - 1) * K + K - 1], vu = vp[K - 1], n = m->norm;
    const int smooth = m->act != HL_ACT_CUBIC && s > 0 && vu != 0;
    double wrong = 0;
    for (size_t i = 0; i < pts->N; i++) {
        const double *z = pts->z + i * K;
        int last = smooth ? K - 1 : K; /* units summed into R */
        preactivations(last, K, bp, L, z, h);
        activations(m->act, last, h, g0, g1, g2);
        double R = 0;
        for (int k = 0; k < last; k++)
            R += vp[k] * g0[k];
        if (!smooth) {
            double phi = R / n;
            wrong += (phi > 0) != (y > 0);
            continue;
        }
        /* P(phi <= 0) = P(v_u g(h_u) <= -R), h_u = bp_u + mu + s z_u */
        double mu = 0;
        for (int j = 0; j < K - 1; j++)
            mu += L[(K - 1) * K + j] * z[j];
        double c = -R / vu, below; /* below = P(g(h_u) <= c) */
        if (c >= 1)
            below = 1;
        else if (c <= -1)
            below = 0;
        else
            below = gsl_cdf_ugaussian_P((inverse(m->act, c) - bp[K - 1] - mu) / s);
        double p_neg = vu > 0 ? below : 1 - below;
        wrong += y > 0 ? p_neg : 1 - p_neg;
    }
    return wrong / pts->N;
}

void get_expect(const get_model *m, get_points *pts, const double *Q, const double *v,
                const double *b, double y, int want_error, get_moments *o)
{
    const int K = m->K;
    const double n = m->norm;
    double *L = pts->work, *GG = L + K * K, *EB = GG + K * K;
    double *h = EB + K * K, *g0 = h + K, *g1 = g0 + K, *g2 = g1 + K;
    double *s_eg2 = g2 + K, *s_eg1 = s_eg2 + K, *s_eg0 = s_eg1 + K;
    if (m->act == HL_ACT_LINEAR) {
        expect_linear(m, Q, v, b, y, h, o);
        return;
    }
    cholesky(K, Q, L);
    memset(GG, 0, sizeof(double) * 2 * K * K);
    memset(s_eg2, 0, sizeof(double) * 3 * K);
    double e2sum = 0;
    for (size_t i = 0; i < pts->N; i++) {
        const double *z = pts->z + i * K;
        preactivations(K, K, b, L, z, h);
        activations(m->act, K, h, g0, g1, g2);
        double phi = 0;
        for (int k = 0; k < K; k++)
            phi += v[k] * g0[k];
        phi /= n;
        double e = phi - y, e2 = e * e;
        e2sum += e2;
        for (int k = 0; k < K; k++) {
            s_eg2[k] += e * g2[k];
            s_eg1[k] += e * g1[k];
            s_eg0[k] += e * g0[k];
            for (int l = k; l < K; l++) {
                double t = g1[k] * g1[l];
                GG[k * K + l] += t;
                EB[k * K + l] += e2 * t;
            }
        }
    }
    const double w = 1.0 / pts->N;
    o->loss = 0.5 * e2sum * w;
    for (int k = 0; k < K; k++) {
        for (int l = 0; l < K; l++) {
            int kl = k <= l ? k * K + l : l * K + k;
            double vv = v[k] * v[l] / (n * n);
            if (o->A)
                o->A[k * K + l] = vv * GG[kl] * w + (k == l ? v[k] / n * s_eg2[k] * w : 0);
            if (o->B)
                o->B[k * K + l] = vv * EB[kl] * w;
        }
        if (o->psi)
            o->psi[k] = v[k] / n * s_eg1[k] * w;
        if (o->eg)
            o->eg[k] = s_eg0[k] * w;
    }
    /* last: it reuses the work space */
    o->error = want_error ? error_of(m, pts, Q, v, b, y) : NAN;
}
