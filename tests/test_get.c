/* test_get.c — the Gaussian-equivalent ODEs of online SGD: the linear network against
 * its closed-form flow (ring and torus), the quasi-Monte-Carlo expectations against GSL
 * quadrature, the ODE against simulations of the Gaussian-clone task at three sizes,
 * and the error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"
#include "hoclab/train.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void random_vector(uint64_t seed, size_t n, double scale, double *v)
{
    gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER + 77);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++)
        v[i] = hl_rng_gaussian(r, scale);
    hl_rng_free(r);
}

/* The dense circulant C_ij = row[j - i] of a ring or torus (D x D). */
static void dense_circulant(int dim, int L, const double *row, double *C)
{
    int D = dim == 1 ? L : L * L;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            int d;
            if (dim == 1) {
                d = ((j - i) % L + L) % L;
            } else {
                int dr = ((j / L - i / L) % L + L) % L, dc = ((j % L - i % L) % L + L) % L;
                d = dr * L + dc;
            }
            C[i * D + j] = row[d];
        }
}

/* x^T C y / D */
static double form(int D, const double *C, const double *x, const double *y)
{
    double s = 0;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            s += x[i] * C[i * D + j] * y[j];
    return s / D;
}

/* ---- (1) Linear units, v fixed, no noise: dW/dt = -(lr_w / norm^2) Cbar sigma 1^T ------
 *
 * With g(h) = h and v = 1, A^a = 1 1^T / norm^2 for both classes, so every unit moves
 * along the same direction: with sigma = sum_m w_m,
 *   dw_k/dt = -(lr_w / norm^2) Cbar sigma,  Cbar = (C_+ + C_-) / 2,
 *   sigma(t) = exp(-(K lr_w / norm^2) Cbar t) sigma(0),
 *   w_k(t) = w_k(0) + (sigma(t) - sigma(0)) / K,
 * solved here by a dense eigendecomposition of Cbar (no Fourier transform). The test
 * loss and error follow from phi ~ N(mu, 1^T Q^a 1 / norm^2), mu = sum_k b_k / norm. */
static void check_linear_closed_form(int dim, int L, hl_mode mode, int K, hl_bias bias,
                                     double bias_value)
{
    const int D = dim == 1 ? L : L * L;
    double *rp = malloc(sizeof(double) * D), *rm = malloc(sizeof(double) * D);
    double *Cp = malloc(sizeof(double) * D * D), *Cm = malloc(sizeof(double) * D * D);
    double *W0 = malloc(sizeof(double) * K * D), *W = malloc(sizeof(double) * K * D);
    double *sig0 = malloc(sizeof(double) * D), *sig = malloc(sizeof(double) * D);
    double *c = malloc(sizeof(double) * D);
    /* exp(-d / xi) on a ring (and its product on a torus) is positive definite: no
     * eigenvalue is clipped, so the dense matrices are the ODE's covariances */
    assert_int_equal(hl_kernel_row(dim, L, 1.0, 1, rp), HL_OK);
    assert_int_equal(hl_kernel_row(dim, L, 2.5, 1, rm), HL_OK);
    dense_circulant(dim, L, rp, Cp);
    dense_circulant(dim, L, rm, Cm);
    random_vector(10 + dim, (size_t)K * D, 0.5, W0);

    hl_get_params p;
    hl_get_defaults(&p);
    p.dim = dim;
    p.L = L;
    p.row_plus = rp;
    p.row_minus = rm;
    p.net = (hl_net_config){.K = K, .mode = mode, .act = HL_ACT_LINEAR, .bias = bias,
                            .bias_value = bias_value, .lr = 0.05};
    p.W0 = W0;
    p.noise = 0;
    p.abs_tol = 1e-12;
    p.rel_tol = 1e-11;
    const double times[] = {0, 0.5, 3, 10, 30};
    const size_t nt = 5;
    hl_get_traj *tr = NULL;
    if (hl_get_run(&p, times, nt, &tr))
        fail_msg("hl_get_run: %s", hl_error_message());
    assert_non_null(tr);
    assert_int_equal(tr->n_done, nt);
    assert_int_equal(tr->D, D);
    assert_int_equal(tr->n_clipped[0] + tr->n_clipped[1], 0);

    const double norm = mode == HL_MODE_MF ? K : mode == HL_MODE_LAZY ? sqrt(K) : 1;
    const double lr_w = mode == HL_MODE_MF ? 0.05 * K : mode == HL_MODE_LAZY ? 0.05 * sqrt(K)
                                                                           : 0.05;
    gsl_matrix *Cbar = gsl_matrix_alloc(D, D), *V = gsl_matrix_alloc(D, D);
    gsl_vector *lam = gsl_vector_alloc(D);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(D);
    for (int i = 0; i < D * D; i++)
        Cbar->data[i] = 0.5 * (Cp[i] + Cm[i]);
    assert_int_equal(gsl_eigen_symmv(Cbar, lam, V, ws), 0);
    for (int i = 0; i < D; i++) {
        sig0[i] = 0;
        for (int k = 0; k < K; k++)
            sig0[i] += W0[k * D + i];
    }
    /* biases as hl_net_init sets them; trainable ones follow
     * db_k/dt = -lr_w D sum_a p_a E[psi_k] = -(lr_w D / norm^2) sum_m b_m (sum_a p_a y_a
     * = 0), so their sum decays at the rate lr_w D K / norm^2 and each moves by 1/K of it */
    double b0[K], bsum0 = 0;
    for (int k = 0; k < K; k++) {
        double mag = bias == HL_BIAS_FIXED ? bias_value : bias == HL_BIAS_TRAINABLE ? 1 : 0;
        b0[k] = (k % 2 ? -1 : 1) * mag;
        bsum0 += b0[k];
    }
    const double b_rate = bias == HL_BIAS_TRAINABLE ? lr_w * D * K / (norm * norm) : 0;

    double wmax = 0;
    for (int i = 0; i < K * D; i++)
        wmax = fmax(wmax, fabs(W0[i]));
    for (size_t j = 0; j < nt; j++) {
        for (int m = 0; m < D; m++) {
            c[m] = 0;
            for (int i = 0; i < D; i++)
                c[m] += gsl_matrix_get(V, i, m) * sig0[i];
            c[m] *= exp(-K * lr_w / (norm * norm) * gsl_vector_get(lam, m) * times[j]);
        }
        for (int i = 0; i < D; i++) {
            sig[i] = 0;
            for (int m = 0; m < D; m++)
                sig[i] += gsl_matrix_get(V, i, m) * c[m];
        }
        for (int k = 0; k < K; k++)
            for (int i = 0; i < D; i++)
                W[k * D + i] = W0[k * D + i] + (sig[i] - sig0[i]) / K;
        /* mean weights (no noise: the weights themselves) */
        double err = 0;
        for (int i = 0; i < K * D; i++)
            err = fmax(err, fabs(tr->W_mean[j * K * D + i] - W[i]));
        if (err > 1e-6 * wmax)
            fail_msg("t = %g: mean weights off by %g (scale %g)", times[j], err, wmax);
        /* order parameters and overlaps, from Omega */
        double s1p = 0, s1m = 0;
        for (int k = 0; k < K; k++)
            for (int l = 0; l < K; l++) {
                const double *wk = W + k * D, *wl = W + l * D;
                double qp = form(D, Cp, wk, wl), qm = form(D, Cm, wk, wl), r = 0;
                for (int i = 0; i < D; i++)
                    r += wk[i] * wl[i] / D;
                size_t at = j * K * K + k * K + l;
                if (fabs(tr->Q_plus[at] - qp) > 1e-6 * fabs(qp) + 1e-12 ||
                    fabs(tr->Q_minus[at] - qm) > 1e-6 * fabs(qm) + 1e-12 ||
                    fabs(tr->overlap[at] - r) > 1e-6 * fabs(r) + 1e-12)
                    fail_msg("t = %g, (%d, %d): Q+ %.10g vs %.10g, Q- %.10g vs %.10g, R %.10g "
                             "vs %.10g", times[j], k, l, tr->Q_plus[at], qp, tr->Q_minus[at],
                             qm, tr->overlap[at], r);
                s1p += qp;
                s1m += qm;
            }
        /* the power spectrum of each unit sums to |w_k|^2 */
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (size_t g = 0; g < tr->n_groups; g++)
                s += tr->power[(j * K + k) * tr->n_groups + g];
            assert_true(fabs(s - D * tr->overlap[j * K * K + k * K + k]) < 1e-9 * s);
        }
        double bsum = bsum0 * exp(-b_rate * times[j]), mu = bsum / norm;
        /* phi ~ N(mu, s2_a) per class, labels +1 / -1 */
        double s2p = s1p / (norm * norm), s2m = s1m / (norm * norm);
        double loss = 0.25 * (s2p + (mu - 1) * (mu - 1)) + 0.25 * (s2m + (mu + 1) * (mu + 1));
        double error = 0.5 * gsl_cdf_ugaussian_P(-mu / sqrt(s2p)) +
                       0.5 * (1 - gsl_cdf_ugaussian_P(-mu / sqrt(s2m)));
        if (fabs(tr->test_loss[j] - loss) > 1e-6 * loss ||
            fabs(tr->test_error[j] - error) > 1e-6)
            fail_msg("t = %g: loss %.10g vs %.10g, error %.10g vs %.10g", times[j],
                     tr->test_loss[j], loss, tr->test_error[j], error);
        for (int k = 0; k < K; k++) {
            assert_true(tr->v[j * K + k] == 1);
            double bk = b0[k] + (bsum - bsum0) / K;
            if (fabs(tr->b[j * K + k] - bk) > 1e-7)
                fail_msg("t = %g: b_%d = %.10g, exact %.10g", times[j], k, tr->b[j * K + k], bk);
        }
    }
    /* the network did learn something: the variance of phi decays */
    double first = 0, last = 0;
    for (int i = 0; i < K * K; i++) {
        first += tr->Q_plus[i];
        last += tr->Q_plus[(nt - 1) * K * K + i];
    }
    assert_true(last < 0.5 * first);
    gsl_eigen_symmv_free(ws);
    gsl_matrix_free(Cbar);
    gsl_matrix_free(V);
    gsl_vector_free(lam);
    hl_get_traj_free(tr);
    free(rp);
    free(rm);
    free(Cp);
    free(Cm);
    free(W0);
    free(W);
    free(sig0);
    free(sig);
    free(c);
}

static void test_linear_ring_mf(void **state)
{
    (void)state;
    /* K odd with fixed biases: mu != 0, so the error is not 1/2 */
    check_linear_closed_form(1, 16, HL_MODE_MF, 3, HL_BIAS_FIXED, 0.7);
}

static void test_linear_torus_lazy(void **state)
{
    (void)state;
    /* trainable biases +-1 with K odd: their sum decays (rate lr_w D K / norm^2 ~ 3) */
    check_linear_closed_form(2, 6, HL_MODE_LAZY, 3, HL_BIAS_TRAINABLE, 0);
}

/* ---- (2) Expectations against GSL quadrature ---------------------------------------- *
 *
 * K = 1 and K = 2 with lambda_2 | lambda_1 Gaussian: nested adaptive quadrature over
 * infinite ranges (qagi) of each integrand. A is checked through Stein's identity
 * E[psi_k lambda_n] = sum_m A_km Q_mn, which is what the drift uses. The error: the
 * outer integral of the conditional probability of the wrong sign, in closed form
 * for monotone g (erf(h / sqrt 2) = 2 Phi(h) - 1, tanh). */

typedef struct {
    int K;
    hl_act act;
    double Q[4], v[2], b[2], y, norm;
    int which, k, l;
    double l1;
    gsl_integration_workspace *wi, *wo;
} quad;

static double act_g(hl_act a, double h)
{
    return a == HL_ACT_ERF ? erf(h * M_SQRT1_2) : a == HL_ACT_TANH ? tanh(h) : h;
}

static double act_d(hl_act a, double h)
{
    if (a == HL_ACT_ERF)
        return sqrt(2 / M_PI) * exp(-h * h / 2);
    if (a == HL_ACT_LINEAR)
        return 1;
    double t = tanh(h);
    return 1 - t * t;
}

/* The integrand at lambda = (l1, l2). */
static double integrand(const quad *c, double l1, double l2)
{
    double lam[2] = {l1, l2}, G[2] = {0, 0}, G1[2] = {0, 0}, phi = 0;
    for (int k = 0; k < c->K; k++) {
        G[k] = act_g(c->act, lam[k] + c->b[k]);
        G1[k] = act_d(c->act, lam[k] + c->b[k]);
        phi += c->v[k] * G[k] / c->norm;
    }
    double e = phi - c->y;
    switch (c->which) {
    case 0: return 0.5 * e * e;
    case 1: return c->v[c->k] / c->norm * e * G1[c->k] * lam[c->l];
    case 2: return c->v[c->k] * c->v[c->l] / (c->norm * c->norm) * e * e * G1[c->k] * G1[c->l];
    case 3: return c->v[c->k] / c->norm * e * G1[c->k];
    default: return e * G[c->k];
    }
}

static double normal_pdf(double x, double var) { return exp(-x * x / (2 * var)) / sqrt(2 * M_PI * var); }

static double inner(double l2, void *vp)
{
    quad *c = vp;
    double m = c->Q[1] / c->Q[0] * c->l1, s2 = c->Q[3] - c->Q[1] * c->Q[1] / c->Q[0];
    return integrand(c, c->l1, l2) * normal_pdf(l2 - m, s2);
}

static double outer(double l1, void *vp)
{
    quad *c = vp;
    double r = 0, err;
    if (c->K == 1) {
        r = integrand(c, l1, 0);
    } else {
        c->l1 = l1;
        gsl_function F = {inner, c};
        assert_int_equal(gsl_integration_qagi(&F, 1e-13, 1e-11, 1000, c->wi, &r, &err), 0);
    }
    return r * normal_pdf(l1, c->Q[0]);
}

/* P(wrong | lambda_1) times the density of lambda_1. */
static double outer_error(double l1, void *vp)
{
    quad *c = vp;
    double p_neg;
    double g1 = act_g(c->act, l1 + c->b[0]);
    if (c->K == 1) {
        p_neg = c->v[0] * g1 <= 0; /* the integrand jumps at g1 = 0 */
    } else {
        /* phi <= 0 iff v2 g(h2) <= -v1 g(h1) */
        double cc = -c->v[0] * g1 / c->v[1], below;
        double m = c->Q[1] / c->Q[0] * l1, s = sqrt(c->Q[3] - c->Q[1] * c->Q[1] / c->Q[0]);
        if (c->act == HL_ACT_LINEAR)
            below = gsl_cdf_ugaussian_P((cc - c->b[1] - m) / s);
        else if (cc >= 1)
            below = 1;
        else if (cc <= -1)
            below = 0;
        else {
            double thr = c->act == HL_ACT_ERF ? gsl_cdf_ugaussian_Pinv((cc + 1) / 2) : atanh(cc);
            below = gsl_cdf_ugaussian_P((thr - c->b[1] - m) / s);
        }
        p_neg = c->v[1] > 0 ? below : 1 - below;
    }
    double p = c->y > 0 ? p_neg : 1 - p_neg;
    return p * normal_pdf(l1, c->Q[0]);
}

static double integrate(quad *c, double (*f)(double, void *))
{
    gsl_function F = {f, c};
    double r, err;
    assert_int_equal(gsl_integration_qagi(&F, 1e-12, 1e-10, 1000, c->wo, &r, &err), 0);
    return r;
}

/* The documented accuracy of HL_GET_DEFAULT_POINTS (theory.h): smooth expectations
 * within SMOOTH_TOL max(1, |x|), the error within ERROR_TOL. */
static const double SMOOTH_TOL = 3e-4, ERROR_TOL = 2e-5;

static void check_expect(quad *c, hl_mode mode, double *worst_smooth, double *worst_error)
{
    /* the linear activation's closed forms are exact: quadrature's accuracy */
    const double SMOOTH = c->act == HL_ACT_LINEAR ? 1e-8 : SMOOTH_TOL;
    const double ERROR = c->act == HL_ACT_LINEAR ? 1e-8 : ERROR_TOL;
    hl_get_params p;
    hl_get_defaults(&p);
    p.net = (hl_net_config){.K = c->K, .mode = mode, .act = c->act, .lr = 0.05};
    c->norm = mode == HL_MODE_MF ? c->K : mode == HL_MODE_LAZY ? sqrt(c->K) : 1;
    const int K = c->K;
    double Q[4], err, loss, A[4], B[4], psi[2], eg[2];
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++)
            Q[i * K + j] = c->Q[i * 2 + j];
    assert_int_equal(hl_get_expect(&p, Q, c->v, c->b, c->y, &err, &loss, A, B, psi, eg), HL_OK);
#define CHECK(got, want, tol, what)                                                          \
    do {                                                                                     \
        double d_ = fabs((got) - (want)), s_ = fmax(1, fabs(want));                          \
        if (d_ > (tol) * s_)                                                                 \
            fail_msg("K = %d, y = %g: %s = %.8g, quadrature %.8g", K, c->y, what, got, want); \
    } while (0)
    c->which = 0;
    double ql = integrate(c, outer);
    CHECK(loss, ql, SMOOTH, "loss");
    *worst_smooth = fmax(*worst_smooth, fabs(loss - ql) / fmax(1, ql));
    double qe = integrate(c, outer_error);
    CHECK(err, qe, ERROR, "error");
    *worst_error = fmax(*worst_error, fabs(err - qe));
    for (int k = 0; k < K; k++) {
        for (int n = 0; n < K; n++) {
            c->which = 1;
            c->k = k;
            c->l = n;
            double want = integrate(c, outer), got = 0;
            for (int m = 0; m < K; m++)
                got += A[k * K + m] * Q[m * K + n];
            CHECK(got, want, SMOOTH, "(A Q)_kn");
            *worst_smooth = fmax(*worst_smooth, fabs(got - want) / fmax(1, fabs(want)));
            c->which = 2;
            want = integrate(c, outer);
            CHECK(B[k * K + n], want, SMOOTH, "B_kn");
            *worst_smooth = fmax(*worst_smooth, fabs(B[k * K + n] - want) / fmax(1, fabs(want)));
        }
        c->which = 3;
        c->k = k;
        double want = integrate(c, outer);
        CHECK(psi[k], want, SMOOTH, "psi_k");
        *worst_smooth = fmax(*worst_smooth, fabs(psi[k] - want) / fmax(1, fabs(want)));
        c->which = 4;
        want = integrate(c, outer);
        CHECK(eg[k], want, SMOOTH, "eg_k");
        *worst_smooth = fmax(*worst_smooth, fabs(eg[k] - want) / fmax(1, fabs(want)));
    }
#undef CHECK
}

static void test_expectations_match_quadrature(void **state)
{
    (void)state;
    quad c = {0};
    c.wi = gsl_integration_workspace_alloc(1000);
    c.wo = gsl_integration_workspace_alloc(1000);
    double worst_smooth = 0, worst_error = 0;
    /* K = 2: three (Q, v, b), both labels, erf; modes 2layer and mf (norm 2) */
    const double Qs[3][4] = {{0.3, 0.1, 0.1, 0.5}, {1.0, -0.4, -0.4, 0.8}, {2.0, 0.9, 0.9, 1.5}};
    const double vs[3][2] = {{1.2, -0.7}, {0.5, 0.9}, {-1.1, 0.6}};
    const double bs[3][2] = {{1, -1}, {0.3, -0.5}, {-1, 1}};
    for (int s = 0; s < 3; s++)
        for (int y = 0; y < 2; y++) {
            c.K = 2;
            c.act = HL_ACT_ERF;
            memcpy(c.Q, Qs[s], sizeof c.Q);
            memcpy(c.v, vs[s], sizeof c.v);
            memcpy(c.b, bs[s], sizeof c.b);
            c.y = y ? -1 : 1;
            check_expect(&c, s == 1 ? HL_MODE_MF : HL_MODE_2LAYER, &worst_smooth, &worst_error);
        }
    /* tanh, K = 2 and K = 1 */
    c.act = HL_ACT_TANH;
    c.y = 1;
    check_expect(&c, HL_MODE_2LAYER, &worst_smooth, &worst_error);
    c.K = 1;
    c.Q[0] = 0.7;
    c.v[0] = -0.8;
    c.b[0] = 0.4;
    check_expect(&c, HL_MODE_2LAYER, &worst_smooth, &worst_error);
    c.act = HL_ACT_ERF;
    c.y = -1;
    check_expect(&c, HL_MODE_2LAYER, &worst_smooth, &worst_error);
    print_message("GET expectations (%d points): worst smooth %.1e, worst error %.1e\n",
                  HL_GET_DEFAULT_POINTS, worst_smooth, worst_error);
    /* linear units (closed forms), K = 2 in mode lazy and K = 1 */
    double ws = 0, we = 0;
    c.act = HL_ACT_LINEAR;
    c.K = 2;
    memcpy(c.Q, Qs[1], sizeof c.Q);
    memcpy(c.v, vs[1], sizeof c.v);
    memcpy(c.b, bs[1], sizeof c.b);
    for (int y = 0; y < 2; y++) {
        c.y = y ? -1 : 1;
        check_expect(&c, HL_MODE_LAZY, &ws, &we);
    }
    c.K = 1;
    check_expect(&c, HL_MODE_2LAYER, &ws, &we);
    gsl_integration_workspace_free(c.wi);
    gsl_integration_workspace_free(c.wo);

    /* many units: independent ones (Q = q I, b = 0) have E[g'_k g'_m] = E[g']^2 =
     * (2/pi) / (1 + q) off the diagonal, so A_km = v_k v_m (2/pi) / (1 + q); the
     * documented accuracy is 8e-5 at K = 8 and 1.5e-3 at K = 40 */
    const int Ks[2] = {8, 40};
    const double tols[2] = {2e-4, 3e-3};
    for (int i = 0; i < 2; i++) {
        const int K = Ks[i];
        double *Q = calloc(K * K, sizeof(double)), *A = malloc(sizeof(double) * K * K);
        double *v = malloc(sizeof(double) * K), *b = calloc(K, sizeof(double));
        for (int k = 0; k < K; k++) {
            Q[k * K + k] = 0.5;
            v[k] = k % 3 ? 1 : -0.5;
        }
        hl_get_params p;
        hl_get_defaults(&p);
        p.net = (hl_net_config){.K = K, .mode = HL_MODE_2LAYER, .act = HL_ACT_ERF, .lr = 0.05};
        assert_int_equal(hl_get_expect(&p, Q, v, b, 1, NULL, NULL, A, NULL, NULL, NULL), HL_OK);
        double worst = 0;
        for (int k = 0; k < K; k++)
            for (int m = 0; m < K; m++)
                if (k != m)
                    worst = fmax(worst, fabs(A[k * K + m] / (v[k] * v[m]) - M_2_PI / 1.5));
        if (worst > tols[i])
            fail_msg("K = %d: E[g'_k g'_m] off by %g (tolerance %g)", K, worst, tols[i]);
        free(Q);
        free(A);
        free(v);
        free(b);
    }
}

/* ---- (3) ODE against online SGD on the Gaussian-clone task ------------------------- *
 *
 * hl_train_run on the GP task (erf, K = 4, 2layer, fixed biases +-1, lr 0.05 as in the
 * defaults; xi = (1, 8) px so that the error falls from 0.5 to ~0.3 by t = 200) against
 * hl_get_run from the same initial network, per seed, at L = 50, 100 (6 seeds) and 200
 * (10 seeds). Per seed s and measurement j, d_sj = error_sim - error_ode. Checked:
 *  - the start: the ODE's mean weights at t = 0 are the trainer's initial weights;
 *  - at L = 200, the mean over seeds of d_j is within 4 standard errors at every time
 *    (SE from the seeds' spread of d_j, at least the binomial SE of the test set);
 *  - the typical per-run discrepancy rms_sj(d_sj) shrinks from L = 50 to L = 200 and
 *    at L = 200 is within 2.5 binomial SEs of the test set (the run's own noise);
 *  - the order parameters Q^a_kk = w_k C_a w_k / D of the simulation's weight
 *    snapshots (no test-set noise) against the ODE's, over the last 4 times (t >= 7):
 *    the median relative |difference| (finite-size fluctuations, ~ 1/sqrt(D)) shrinks
 *    from L = 50 to 200, and the mean signed relative difference at L = 200 (the bias)
 *    is below 5 %. The SGD noise term matters here: without it the ODE's Q is 20-35 %
 *    low and the per-run error discrepancy ~2.5 times larger. */

enum { N_MEAS = 8, N_SIZES = 3, MAX_SEEDS = 10, Q_TIMES = 4 };

typedef struct {
    int L, seeds;
    double rms_error;      /* rms over seeds and times of d_sj */
    double max_z;          /* max over times of |mean_s d_sj| / SE_j */
    double max_mean;       /* max over times of |mean_s d_sj| */
    double floor;          /* binomial SE of one test set at the ODE's mean error */
    double q_median;       /* median |relative difference| of Q^a_kk */
    double q_bias;         /* mean signed relative difference of Q^a_kk */
} size_result;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void compare_at(int L, int seeds, size_result *out)
{
    const int K = 4;
    const size_t n_test = 20000;
    hl_train_config c = hl_train_defaults();
    c.input = HL_INPUT_GP;
    c.L = L;
    c.xi_plus = 1;
    c.xi_minus = 8;
    c.net.K = K;
    c.net.bias = HL_BIAS_FIXED;
    c.net.bias_value = 1;
    c.time = 200;
    c.n_test = n_test;
    c.n_meas = N_MEAS;
    c.n_snap = -1;
    double d[MAX_SEEDS][N_MEAS], ode_err[N_MEAS] = {0};
    double rel[MAX_SEEDS * Q_TIMES * 4 * 2], bias = 0;
    int n_rel = 0;
    double *Cp = malloc(sizeof(double) * L * L), *Cm = malloc(sizeof(double) * L * L);
    double *w = malloc(sizeof(double) * L);
    assert_non_null(Cp);
    for (int s = 0; s < seeds; s++) {
        c.seed = 1 + s;
        hl_train_result r;
        assert_int_equal(hl_train_run(&c, &r, 0, NULL, NULL), HL_OK);
        assert_int_equal(r.n_meas, N_MEAS);
        hl_get_setup *su = NULL;
        assert_int_equal(hl_get_setup_from_train(&c, &su), HL_OK);
        if (s == 0) {
            dense_circulant(1, L, su->row_plus, Cp);
            dense_circulant(1, L, su->row_minus, Cm);
        }
        su->params.n_points = 2048; /* QMC error ~2e-4, far below the simulation's */
        hl_get_traj *tr = NULL;
        assert_int_equal(hl_get_run(&su->params, r.t, N_MEAS, &tr), HL_OK);
        /* the same start */
        assert_int_equal(r.snap_index[0], 0);
        for (int i = 0; i < K * L; i++)
            if (fabs(tr->W_mean[i] - (double)r.snapshots[i]) > 1e-12)
                fail_msg("L = %d, seed %d: initial weight %d: ODE %.17g, trainer %.9g", L, s, i,
                         tr->W_mean[i], (double)r.snapshots[i]);
        for (int j = 0; j < N_MEAS; j++) {
            d[s][j] = r.test_error[j] - tr->test_error[j];
            ode_err[j] += tr->test_error[j] / seeds;
            if (j < N_MEAS - Q_TIMES)
                continue;
            for (int k = 0; k < K; k++) {
                for (int i = 0; i < L; i++)
                    w[i] = r.snapshots[((size_t)j * K + k) * L + i];
                double q[2] = {form(L, Cp, w, w), form(L, Cm, w, w)};
                double o[2] = {tr->Q_plus[(j * K + k) * K + k],
                               tr->Q_minus[(j * K + k) * K + k]};
                for (int a = 0; a < 2; a++) {
                    double x = (q[a] - o[a]) / o[a];
                    bias += x;
                    rel[n_rel++] = fabs(x);
                }
            }
        }
        hl_get_traj_free(tr);
        hl_get_setup_free(su);
        hl_train_result_free(&r);
    }
    double all = 0, pbar = 0;
    out->max_z = out->max_mean = 0;
    for (int j = 0; j < N_MEAS; j++) {
        double m = 0, v = 0;
        for (int s = 0; s < seeds; s++)
            m += d[s][j] / seeds;
        for (int s = 0; s < seeds; s++) {
            v += (d[s][j] - m) * (d[s][j] - m) / (seeds - 1);
            all += d[s][j] * d[s][j];
        }
        double p = ode_err[j];
        double se = fmax(sqrt(v / seeds), sqrt(p * (1 - p) / ((double)n_test * seeds)));
        out->max_z = fmax(out->max_z, fabs(m) / se);
        out->max_mean = fmax(out->max_mean, fabs(m));
        pbar += p / N_MEAS;
    }
    qsort(rel, n_rel, sizeof *rel, cmp_double);
    out->L = L;
    out->seeds = seeds;
    out->rms_error = sqrt(all / (seeds * N_MEAS));
    out->floor = sqrt(pbar * (1 - pbar) / n_test);
    out->q_median = rel[n_rel / 2];
    out->q_bias = bias / n_rel;
    free(Cp);
    free(Cm);
    free(w);
}

static void test_ode_matches_sgd_on_gp(void **state)
{
    (void)state;
    const int sizes[N_SIZES] = {50, 100, 200}, seeds[N_SIZES] = {6, 6, 10};
    size_result res[N_SIZES];
    for (int i = 0; i < N_SIZES; i++) {
        memset(&res[i], 0, sizeof res[i]);
        compare_at(sizes[i], seeds[i], &res[i]);
        print_message("GET vs SGD, L = %3d (%2d seeds): test error |mean diff| max %.4f "
                      "(max %.2f SE), per-run rms %.4f (test-set SE %.4f); Q: median "
                      "|rel diff| %.3f, mean rel diff %+.3f\n",
                      res[i].L, res[i].seeds, res[i].max_mean, res[i].max_z, res[i].rms_error,
                      res[i].floor, res[i].q_median, res[i].q_bias);
    }
    const size_result *big = &res[N_SIZES - 1], *small = &res[0];
    assert_true(big->max_z < 4);
    assert_true(big->rms_error < 2.5 * big->floor);
    assert_true(small->rms_error > big->rms_error);
    assert_true(small->q_median > big->q_median);
    assert_true(fabs(big->q_bias) < 0.05);
}

/* ---- (4) Error paths --------------------------------------------------------------- */

static void expect_einval(int rc, const char *word)
{
    assert_int_equal(rc, HL_EINVAL);
    if (!strstr(hl_error_message(), word))
        fail_msg("message '%s' does not name '%s'", hl_error_message(), word);
}

enum { VL = 8 };

static void good_params(hl_get_params *p, double *rp, double *rm, double *W0)
{
    assert_int_equal(hl_kernel_row(1, VL, 1.0, 2, rp), HL_OK);
    assert_int_equal(hl_kernel_row(1, VL, 2.0, 2, rm), HL_OK);
    random_vector(5, 2 * VL, 0.3, W0);
    hl_get_defaults(p);
    p->dim = 1;
    p->L = VL;
    p->row_plus = rp;
    p->row_minus = rm;
    p->net = (hl_net_config){.K = 2, .mode = HL_MODE_2LAYER, .act = HL_ACT_ERF,
                             .bias = HL_BIAS_FIXED, .bias_value = 1, .lr = 0.05};
    p->W0 = W0;
    p->n_points = 256;
}

static void test_validation(void **state)
{
    (void)state;
    double rp[VL], rm[VL], W0[2 * VL], bad_row[VL], nanW[2 * VL];
    hl_get_params good, p;
    good_params(&good, rp, rm, W0);
    assert_int_equal(hl_get_validate(&good), HL_OK);
    expect_einval(hl_get_validate(NULL), "params");

#define BAD(field, value, word)                                                              \
    do {                                                                                     \
        p = good;                                                                            \
        p.field = value;                                                                     \
        expect_einval(hl_get_validate(&p), word);                                            \
    } while (0)
    BAD(dim, 3, "dim");
    BAD(L, 1, "L");
    BAD(net.K, 0, "net.K");
    BAD(net.K, HL_GET_MAX_K + 1, "net.K");
    BAD(net.mode, (hl_mode)7, "net.mode");
    BAD(net.act, HL_ACT_RELU, "net.act");
    BAD(net.bias, (hl_bias)5, "net.bias");
    BAD(net.lr, 0, "net.lr");
    BAD(net.lr, NAN, "net.lr");
    BAD(n_points, 255, "n_points");
    BAD(n_points, 0, "n_points");
    BAD(row_plus, NULL, "row_plus");
    BAD(row_minus, NULL, "row_minus");
    BAD(W0, NULL, "W0");
    BAD(batch, 0, "batch");
    BAD(noise, 2, "noise");
    BAD(stepper, (hl_get_stepper)9, "stepper");
    BAD(abs_tol, 0, "abs_tol");
    BAD(rel_tol, -1, "rel_tol");
    BAD(h0, 0, "h0");
    BAD(h_max, 0, "h_max");
    BAD(max_steps, 0, "max_steps");
    BAD(max_q, 0, "max_q");
    memcpy(bad_row, rp, sizeof bad_row);
    bad_row[1] += 0.1; /* row[1] != row[-1] */
    BAD(row_plus, bad_row, "row_plus");
    memcpy(nanW, W0, sizeof nanW);
    nanW[3] = NAN;
    BAD(W0, nanW, "W0[3]");
    double v_nan[2] = {1, INFINITY};
    BAD(v0, v_nan, "v0[1]");
#undef BAD

    /* a row that is symmetric but not positive semi-definite: hl_get_run says so */
    double times[3] = {0, 1, 2}, back[2] = {1, 0.5}, neg = -1;
    hl_get_traj *tr = (hl_get_traj *)&p; /* must be reset to NULL on failure */
    for (int i = 0; i < VL; i++)
        bad_row[i] = i == 0 ? 1 : (i == 1 || i == VL - 1) ? 0.9 : 0;
    p = good;
    p.row_minus = bad_row;
    expect_einval(hl_get_run(&p, times, 3, &tr), "row_minus");
    assert_null(tr);
    expect_einval(hl_get_run(&good, back, 2, &tr), "non-decreasing");
    expect_einval(hl_get_run(&good, &neg, 1, &tr), "times[0]");
    expect_einval(hl_get_run(&good, times, 0, &tr), "times");
    expect_einval(hl_get_run(&good, times, 3, NULL), "out");

    /* expectations: y must be a label */
    double Q[4] = {1, 0, 0, 1}, v[2] = {1, 1}, b[2] = {0, 0}, e;
    expect_einval(hl_get_expect(&good, Q, v, b, 0.5, &e, NULL, NULL, NULL, NULL, NULL), "y");
    Q[1] = 0.5;
    expect_einval(hl_get_expect(&good, Q, v, b, 1, &e, NULL, NULL, NULL, NULL, NULL), "Q");
    Q[1] = 0;
    b[1] = NAN;
    expect_einval(hl_get_expect(&good, Q, v, b, 1, &e, NULL, NULL, NULL, NULL, NULL), "b[1]");
    b[1] = 0;
    p = good;
    p.net.act = HL_ACT_RELU;
    expect_einval(hl_get_expect(&p, Q, v, b, 1, &e, NULL, NULL, NULL, NULL, NULL), "net.act");

    /* max_steps too small: a driver failure, HL_ENUMERIC naming max_steps */
    p = good;
    p.max_steps = 1;
    assert_int_equal(hl_get_run(&p, times, 3, &tr), HL_ENUMERIC);
    assert_non_null(strstr(hl_error_message(), "max_steps"));
    assert_null(tr);

    /* a linear network (v fixed) at a huge learning rate blows up through the noise
     * term: HL_EDIVERGED, with the rows recorded before kept */
    p = good;
    p.net.act = HL_ACT_LINEAR;
    p.net.mode = HL_MODE_MF;
    p.net.lr = 50;
    p.max_q = 1e6;
    double far[3] = {0, 1e-3, 1e3};
    assert_int_equal(hl_get_run(&p, far, 3, &tr), HL_EDIVERGED);
    assert_non_null(strstr(hl_error_message(), "diverged"));
    assert_non_null(tr);
    assert_true(tr->n_done >= 1 && tr->n_done < 3);
    hl_get_traj_free(tr);

    /* set-up from a trainer configuration: only the NLGP task */
    hl_train_config c = hl_train_defaults();
    c.L = 16;
    snprintf(c.plus_model, sizeof c.plus_model, "gp:L=16,xi=2");
    snprintf(c.minus_model, sizeof c.minus_model, "gp:L=16,xi=6");
    hl_get_setup *su = (hl_get_setup *)&p;
    double r16[16];
    int rc = hl_get_setup_from_train(&c, &su);
    assert_int_equal(rc, HL_EINVAL);
    assert_null(su);
    assert_non_null(strstr(hl_error_message(), "model"));
    expect_einval(hl_get_covariance_rows(&c, r16, r16), "plus_model");
    c = hl_train_defaults();
    c.net.K = 0;
    expect_einval(hl_get_setup_from_train(&c, &su), "K");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_ring_mf),
        cmocka_unit_test(test_linear_torus_lazy),
        cmocka_unit_test(test_expectations_match_quadrature),
        cmocka_unit_test(test_ode_matches_sgd_on_gp),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
