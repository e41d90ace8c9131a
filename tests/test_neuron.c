/* test_neuron.c — the single-neuron gradient flow against an analytic solution (the
 * linear neuron), against its own loss (finite differences), against online SGD on
 * sampled Gaussian classes, and on a planted fourth cumulant (the localisation
 * mechanism); plus the error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { L = 16 };

static hl_nlgp_params ring(double xi)
{
    /* the clone of the erf NLGP at gain 1 on a ring of L sites, kernel exp(-(d/xi)^2) */
    return (hl_nlgp_params){.dim = 1, .L = L, .xi = xi, .p = 2, .gain = 1, .clone = 1};
}

/* The dense matrix C_ij = row[(j - i) mod L] of a ring. */
static void ring_matrix(const hl_nlgp_params *p, double *C)
{
    double row[L];
    assert_int_equal(hl_nlgp_covariance_row(p, row), HL_OK);
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++)
            C[i * L + j] = row[((j - i) % L + L) % L];
}

static void random_vector(uint64_t seed, size_t n, double scale, double *v)
{
    gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER + 41);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++)
        v[i] = hl_rng_gaussian(r, scale);
    hl_rng_free(r);
}

static double max_abs_diff(size_t n, const double *a, const double *b)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

/* ---- (1) beta = 0: dw/dt = -alpha^2 Cbar w, solved by eigendecomposition ------------- */

static void test_linear_flow_matches_exponential(void **state)
{
    (void)state;
    hl_nlgp_params pa = ring(1), pb = ring(3);
    hl_neuron_stationary *ca = hl_neuron_nlgp_cov_alloc(&pa);
    assert_non_null(ca);
    double Cb[L * L], Cbar[L * L];
    ring_matrix(&pb, Cb);
    ring_matrix(&pa, Cbar);
    for (int i = 0; i < L * L; i++)
        Cbar[i] = 0.5 * (Cbar[i] + Cb[i]);
    hl_neuron_matrix mb = {L, Cb};
    /* one class through the stationary callback, one through the dense matrix */
    hl_neuron_class cl[2] = {{hl_neuron_stationary_apply, ca, NULL, NULL},
                             {hl_neuron_matrix_apply, &mb, NULL, NULL}};
    hl_neuron_flow_params p;
    hl_neuron_flow_defaults(&p);
    p.D = L;
    p.n_classes = 2;
    p.classes = cl;
    p.beta = 0;
    double w0[L], times[6];
    random_vector(1, L, 0.5, w0);
    assert_int_equal(hl_neuron_log_times(0.1, 50, 5, times + 1), HL_OK);
    times[0] = 0;

    /* exact: w(t) = V exp(-alpha^2 Lambda t) V^T w0 (zero means: no constant term) */
    gsl_matrix_view A = gsl_matrix_view_array(Cbar, L, L);
    gsl_matrix *V = gsl_matrix_alloc(L, L);
    gsl_vector *lam = gsl_vector_alloc(L);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(L);
    gsl_matrix *Acopy = gsl_matrix_alloc(L, L);
    gsl_matrix_memcpy(Acopy, &A.matrix);
    assert_int_equal(gsl_eigen_symmv(Acopy, lam, V, ws), 0);
    double a2 = HL_CUBIC_ALPHA * HL_CUBIC_ALPHA;

    for (int stepper = HL_NEURON_RK8PD; stepper <= HL_NEURON_RKF45; stepper++) {
        p.stepper = stepper;
        hl_neuron_traj *tr = NULL;
        assert_int_equal(hl_neuron_flow(&p, w0, times, 6, NULL, 0, &tr), HL_OK);
        assert_non_null(tr);
        assert_null(tr->overlap);
        for (size_t j = 0; j < 6; j++) {
            double exact[L] = {0}, c[L];
            for (int k = 0; k < L; k++) {
                c[k] = 0;
                for (int i = 0; i < L; i++)
                    c[k] += gsl_matrix_get(V, i, k) * w0[i];
                c[k] *= exp(-a2 * gsl_vector_get(lam, k) * times[j]);
            }
            for (int i = 0; i < L; i++)
                for (int k = 0; k < L; k++)
                    exact[i] += gsl_matrix_get(V, i, k) * c[k];
            double err = max_abs_diff(L, tr->w + j * L, exact);
            assert_true(err < 1e-6);
            /* the linear neuron's loss is 1/2 + alpha^2 <q> / 2 */
            double qbar = 0.5 * (tr->q[2 * j] + tr->q[2 * j + 1]);
            assert_true(fabs(tr->loss_gauss[j] - (0.5 + 0.5 * a2 * qbar)) < 1e-12);
            assert_true(fabs(tr->loss[j] - tr->loss_gauss[j]) < 1e-15);
        }
        /* it decays: the smallest eigenvalue of Cbar is positive */
        assert_true(tr->q[2 * 5] < tr->q[0]);
        hl_neuron_traj_free(tr);
    }
    gsl_eigen_symmv_free(ws);
    gsl_matrix_free(V);
    gsl_matrix_free(Acopy);
    gsl_vector_free(lam);
    hl_neuron_stationary_free(ca);
}

/* ---- The moment callbacks against dense references ---------------------------------- */

static void test_callbacks_match_dense(void **state)
{
    (void)state;
    /* stationary: periodic and open, 1D and 2D, against the explicit matrix */
    enum { S = 5, SD = S * S };
    double row[SD], w[SD], got[SD], want[SD];
    random_vector(2, SD, 1, row);
    random_vector(3, SD, 1, w);
    for (int dim = 1; dim <= 2; dim++)
        for (int periodic = 0; periodic <= 1; periodic++) {
            hl_neuron_stationary *s = hl_neuron_stationary_alloc(dim, S, periodic, row);
            assert_non_null(s);
            int D = dim == 1 ? S : SD;
            for (int i = 0; i < D; i++) {
                want[i] = 0;
                for (int j = 0; j < D; j++) {
                    int ri = dim == 1 ? 0 : i / S, ci = i % S, rj = dim == 1 ? 0 : j / S,
                        cj = j % S;
                    int dr = periodic ? ((rj - ri) % S + S) % S : abs(rj - ri);
                    int dc = periodic ? ((cj - ci) % S + S) % S : abs(cj - ci);
                    want[i] += row[dr * S + dc] * w[j];
                }
            }
            hl_neuron_stationary_apply(s, w, got);
            assert_true(max_abs_diff(D, got, want) < 1e-12);
            hl_neuron_stationary_free(s);
        }
    /* the NLGP covariance: C e_0 is the exact covariance column (= row, symmetric) */
    hl_nlgp_params pa = ring(2);
    hl_neuron_stationary *c = hl_neuron_nlgp_cov_alloc(&pa);
    double e0[L] = {1}, col[L], exact[L];
    hl_neuron_stationary_apply(c, e0, col);
    assert_int_equal(hl_nlgp_covariance_row(&pa, exact), HL_OK);
    assert_true(max_abs_diff(L, col, exact) < 1e-14);
    hl_neuron_stationary_free(c);

    /* dense tensor of two rank-one terms against the CP form and a direct sum */
    enum { D = 6 };
    double U[2 * D], gamma[2] = {-0.7, 1.3}, v[D], t1[D], t2[D], t3[D] = {0};
    random_vector(4, 2 * D, 1, U);
    random_vector(5, D, 1, v);
    hl_neuron_tensor *T = hl_neuron_tensor_alloc(D);
    assert_non_null(T);
    hl_neuron_tensor_add_rank1(T, gamma[0], U);
    hl_neuron_tensor_add_rank1(T, gamma[1], U + D);
    hl_neuron_cp cp = {D, 2, gamma, U};
    hl_neuron_tensor_apply(T, v, t1);
    hl_neuron_cp_apply(&cp, v, t2);
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            for (int k = 0; k < D; k++)
                for (int l = 0; l < D; l++)
                    t3[i] += T->t[((i * D + j) * D + k) * D + l] * v[j] * v[k] * v[l];
    assert_true(max_abs_diff(D, t1, t2) < 1e-12);
    assert_true(max_abs_diff(D, t1, t3) < 1e-12);
    assert_true(fabs(t1[0]) > 1e-3); /* not trivially zero */
    hl_neuron_tensor_free(T);
}

/* ---- The flow is minus the gradient of its loss; the paper-form coefficients -------- */

static void test_gradient_of_loss(void **state)
{
    (void)state;
    hl_nlgp_params pa = ring(1), pb = ring(3);
    hl_neuron_stationary *ca = hl_neuron_nlgp_cov_alloc(&pa), *cb = hl_neuron_nlgp_cov_alloc(&pb);
    double U[2 * L], gamma[2] = {2.0, -0.5};
    random_vector(6, 2 * L, 0.3, U);
    hl_neuron_cp cp = {L, 2, gamma, U};
    hl_neuron_class cl[2] = {{hl_neuron_stationary_apply, ca, hl_neuron_cp_apply, &cp},
                             {hl_neuron_stationary_apply, cb, NULL, NULL}};
    hl_neuron_flow_params p;
    hl_neuron_flow_defaults(&p);
    p.D = L;
    p.n_classes = 2;
    p.classes = cl;
    double w[L], g[L], t0 = 0;
    random_vector(7, L, 0.3, w);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
    /* with a bias and labels other than +-1 too: every term of P(h) is exercised */
    double labels[2] = {0.8, -1.3};
    p.bias = with_bias ? 0.7 : 0;
    p.labels = with_bias ? labels : NULL;
    assert_int_equal(hl_neuron_gradient(&p, w, g), HL_OK);

    /* central differences of the recorded (closed) loss, a trajectory of one point */
    double h = 1e-5, worst = 0, scale = 0;
    for (int i = 0; i < L; i++) {
        double wp[L], lp, lm;
        hl_neuron_traj *tr;
        memcpy(wp, w, sizeof wp);
        wp[i] += h;
        assert_int_equal(hl_neuron_flow(&p, wp, &t0, 1, NULL, 0, &tr), HL_OK);
        lp = tr->loss[0];
        hl_neuron_traj_free(tr);
        wp[i] -= 2 * h;
        assert_int_equal(hl_neuron_flow(&p, wp, &t0, 1, NULL, 0, &tr), HL_OK);
        lm = tr->loss[0];
        hl_neuron_traj_free(tr);
        worst = fmax(worst, fabs(-(lp - lm) / (2 * h) - g[i]));
        scale = fmax(scale, fabs(g[i]));
    }
    assert_true(scale > 1e-2);
    assert_true(worst < 1e-7 * fmax(1, scale));
    }
    p.bias = 0;
    p.labels = NULL;

    /* one class: dw/dt = c2 C w + c4 (dT w^3 + 3 q C w) with hl_neuron_coeffs, for both
     * treatments of the sixth moment */
    for (int sixth = HL_NEURON_SIXTH_CLOSED; sixth <= HL_NEURON_SIXTH_NONE; sixth++) {
        p.sixth = sixth;
        p.n_classes = 1;
        double Cw[L], Tw[L], q = 0, k = 0, c2, c4, want[L];
        hl_neuron_stationary_apply(ca, w, Cw);
        hl_neuron_cp_apply(&cp, w, Tw);
        for (int i = 0; i < L; i++) {
            q += w[i] * Cw[i];
            k += w[i] * Tw[i];
        }
        hl_neuron_coeffs(&p, 0, q, k, &c2, &c4);
        for (int i = 0; i < L; i++)
            want[i] = c2 * Cw[i] + c4 * (Tw[i] + 3 * q * Cw[i]);
        assert_int_equal(hl_neuron_gradient(&p, w, g), HL_OK);
        assert_true(max_abs_diff(L, g, want) < 1e-13);
        if (sixth == HL_NEURON_SIXTH_NONE) {
            assert_true(fabs(c2 + HL_CUBIC_ALPHA * HL_CUBIC_ALPHA) < 1e-15);
            assert_true(fabs(c4 - 4 * HL_CUBIC_ALPHA * HL_CUBIC_BETA / 3) < 1e-15);
        }
    }
    /* the labels enter c2 alone, through the bias: c2(+) - c2(-) = 2 sigma''(b) = -4 beta b,
     * and c4 at q = 0 changes sign at b^2 = 4/5 (beta = alpha / 2) */
    p.n_classes = 2;
    p.sixth = HL_NEURON_SIXTH_CLOSED;
    for (double b = 0; b < 1.5; b += 0.25) {
        double c2p, c4p, c2m, c4m;
        p.bias = b;
        hl_neuron_coeffs(&p, 0, 0.3, -0.05, &c2p, &c4p);
        hl_neuron_coeffs(&p, 1, 0.3, -0.05, &c2m, &c4m);
        assert_true(fabs(c2p - c2m + 4 * HL_CUBIC_BETA * b) < 1e-14);
        assert_true(c4p == c4m);
    }
    double c2, c4_below, c4_above;
    p.bias = 0.85;
    hl_neuron_coeffs(&p, 0, 0, 0, &c2, &c4_below);
    p.bias = 0.95;
    hl_neuron_coeffs(&p, 0, 0, 0, &c2, &c4_above);
    assert_true(c4_below > 0 && c4_above < 0);
    hl_neuron_stationary_free(ca);
    hl_neuron_stationary_free(cb);
}

/* ---- (2) Online SGD on two Gaussian classes converges to the flow ----------------- */

enum { RUNS = 64, NT = 5 };

static void sgd_mean(double bias, const double *w0, double eta, const double *times,
                     double *mean, double *se)
{
    double sum[NT * L] = {0}, sum2[NT * L] = {0}, W[NT * L];
    for (int run = 0; run < RUNS; run++) {
        hl_task *task = hl_task_alloc(hl_model_create("gp", "L=16,xi=1,gain=1"),
                                      hl_model_create("gp", "L=16,xi=3,gain=1"));
        assert_non_null(task);
        gsl_rng *r = hl_rng_alloc(100 + run, HL_STREAM_TRAIN);
        assert_int_equal(hl_neuron_sgd(task, HL_CUBIC_ALPHA, HL_CUBIC_BETA, bias, w0, eta, times,
                                       NT, r, W),
                         HL_OK);
        for (int i = 0; i < NT * L; i++) {
            sum[i] += W[i];
            sum2[i] += W[i] * W[i];
        }
        hl_rng_free(r);
        hl_task_free(task);
    }
    for (int i = 0; i < NT * L; i++) {
        mean[i] = sum[i] / RUNS;
        se[i] = sqrt(fmax(sum2[i] / RUNS - mean[i] * mean[i], 0) / (RUNS - 1));
    }
}

/* Largest |SGD mean - flow| / standard error over components and times. */
static double max_z(const hl_neuron_flow_params *p, const double *w0, const double *times,
                    const double *mean, const double *se)
{
    hl_neuron_traj *tr = NULL;
    int rc = hl_neuron_flow(p, w0, times, NT, NULL, 0, &tr);
    if (rc == HL_EDIVERGED) {
        hl_neuron_traj_free(tr);
        return INFINITY;
    }
    assert_int_equal(rc, HL_OK);
    double z = 0;
    for (int i = 0; i < NT * L; i++)
        z = fmax(z, fabs(mean[i] - tr->w[i]) / fmax(se[i], 1e-12));
    hl_neuron_traj_free(tr);
    return z;
}

static void test_sgd_matches_flow(void **state)
{
    (void)state;
    /* the samplers' covariance is the exact one (no eigenvalue was clipped) */
    hl_sampler *s = hl_model_create("gp", "L=16,xi=3,gain=1");
    int n_clipped;
    double frac;
    hl_sampler_clipping(s, &n_clipped, &frac);
    assert_true(frac < 1e-9);
    hl_sampler_free(s);

    hl_nlgp_params pa = ring(1), pb = ring(3);
    hl_neuron_stationary *ca = hl_neuron_nlgp_cov_alloc(&pa), *cb = hl_neuron_nlgp_cov_alloc(&pb);
    hl_neuron_class cl[2] = {{hl_neuron_stationary_apply, ca, NULL, NULL},
                             {hl_neuron_stationary_apply, cb, NULL, NULL}};
    hl_neuron_flow_params p;
    hl_neuron_flow_defaults(&p);
    p.D = L;
    p.n_classes = 2;
    p.classes = cl;
    double w0[L], times[NT] = {0.25, 0.5, 1, 2, 4}, mean[NT * L], se[NT * L];
    random_vector(8, L, 0.2, w0);
    /* eta = 0.002: the O(eta) bias of SGD is ~ sqrt(eta RUNS) = 0.36 standard errors */
    sgd_mean(0, w0, 0.002, times, mean, se);
    double z = max_z(&p, w0, times, mean, se);
    print_message("SGD vs flow: max |z| = %.2f over %d components x times\n", z, NT * L);
    assert_true(z < 5);
    /* the check has power: the flow without the sixth moment, or the linear neuron, is
     * many standard errors away from the same SGD runs */
    p.sixth = HL_NEURON_SIXTH_NONE;
    double z_none = max_z(&p, w0, times, mean, se);
    p.sixth = HL_NEURON_SIXTH_CLOSED;
    p.beta = 0;
    double z_lin = max_z(&p, w0, times, mean, se);
    print_message("without the sixth moment: %.1f; linear neuron: %.1f\n", z_none, z_lin);
    assert_true(z_none > 8);
    assert_true(z_lin > 10);

    /* with a bias the labels enter: SGD of sigma(w.x + 1) against the biased flow, and
     * the same runs against the flow that forgets the bias */
    p.beta = HL_CUBIC_BETA;
    p.bias = 1;
    /* shorter times: the variance direction of the class labelled -1 grows fast */
    double tb[NT] = {0.05, 0.1, 0.2, 0.4, 0.8};
    sgd_mean(1, w0, 0.002, tb, mean, se);
    double z_bias = max_z(&p, w0, tb, mean, se);
    p.bias = 0;
    double z_nobias = max_z(&p, w0, tb, mean, se);
    print_message("bias 1: max |z| = %.2f; against the unbiased flow: %.1f\n", z_bias,
                  z_nobias);
    assert_true(z_bias < 5);
    assert_true(z_nobias > 10);
    hl_neuron_stationary_free(ca);
    hl_neuron_stationary_free(cb);
}

/* ---- (3) A planted localised fourth cumulant makes the flow localise --------------- */

enum { PL = 24 };

static void planted_run(double eps, const double *u, const double *w0, double *ipr0,
                        double *ipr1, double *ov0, double *ov1)
{
    hl_nlgp_params pa = ring(1), pb = ring(3);
    pa.L = pb.L = PL;
    hl_neuron_stationary *ca = hl_neuron_nlgp_cov_alloc(&pa), *cb = hl_neuron_nlgp_cov_alloc(&pb);
    hl_neuron_tensor *T = hl_neuron_tensor_alloc(PL);
    assert_non_null(T);
    hl_neuron_tensor_add_rank1(T, eps, u);
    hl_neuron_class cl[2] = {{hl_neuron_stationary_apply, ca, hl_neuron_tensor_apply, T},
                             {hl_neuron_stationary_apply, cb, hl_neuron_tensor_apply, T}};
    hl_neuron_flow_params p;
    hl_neuron_flow_defaults(&p);
    p.D = PL;
    p.n_classes = 2;
    p.classes = cl;
    /* relative accuracy only: w decays by many orders of magnitude without cumulant */
    p.abs_tol = 1e-200;
    p.rel_tol = 1e-8;
    double times[2] = {0, 300};
    hl_neuron_traj *tr = NULL;
    int rc = hl_neuron_flow(&p, w0, times, 2, u, 1, &tr);
    if (rc)
        fail_msg("flow with eps = %g: %s", eps, hl_error_message());
    *ipr0 = tr->ipr[0];
    *ipr1 = tr->ipr[1];
    *ov0 = tr->overlap[0];
    *ov1 = tr->overlap[1];
    /* the closure stays physical: <sigma^2> >= 0 */
    assert_true(tr->loss[1] >= 0.5);
    hl_neuron_traj_free(tr);
    hl_neuron_tensor_free(T);
    hl_neuron_stationary_free(ca);
    hl_neuron_stationary_free(cb);
}

static void test_planted_cumulant_localises(void **state)
{
    (void)state;
    /* u: a unit bump of width 1.5 sites at site 8; w0 half u, half a random direction */
    double u[PL], v[PL], w0[PL], nu = 0, nv = 0, ipr_u = 0;
    random_vector(9, PL, 1, v);
    for (int i = 0; i < PL; i++) {
        u[i] = exp(-0.5 * (i - 8) * (i - 8) / (1.5 * 1.5));
        nu += u[i] * u[i];
        nv += v[i] * v[i];
    }
    for (int i = 0; i < PL; i++) {
        u[i] /= sqrt(nu);
        v[i] /= sqrt(nv);
        w0[i] = 0.5 * u[i] + 0.5 * v[i];
        ipr_u += pow(u[i], 4);
    }
    double i0, i1, o0, o1, i1_planted;
    /* positive cumulant along u (beta > 0 favours it): w concentrates on the bump */
    planted_run(50, u, w0, &i0, &i1, &o0, &o1);
    print_message("dT = +50 u^4: IPR %.3f -> %.3f, overlap %.3f -> %.3f (IPR(u) %.3f)\n", i0,
                  i1, o0, o1, ipr_u);
    assert_true(i1 > 1.5 * i0);
    assert_true(i1 > ipr_u);
    assert_true(o1 > 0.85);
    i1_planted = i1;
    /* no cumulant: w decays to zero along the flattest, delocalised modes */
    planted_run(0, u, w0, &i0, &i1, &o0, &o1);
    print_message("dT = 0:       IPR %.3f -> %.3f, overlap %.3f -> %.3f\n", i0, i1, o0, o1);
    assert_true(i1 < 0.8 * i0);
    assert_true(i1 < 2.0 / PL);
    assert_true(i1_planted > 3 * i1);
    assert_true(o1 < 0.1);
    /* negative cumulant along u, as large as a distribution allows (the excess kurtosis
     * of u.x, eps / (u.C u)^2, is at least -2; the class with the smaller u.C u sets
     * the bound): pushed off the bump */
    hl_nlgp_params pa = ring(1);
    pa.L = PL;
    hl_neuron_stationary *ca = hl_neuron_nlgp_cov_alloc(&pa);
    double Cu[PL], lam = 0;
    hl_neuron_stationary_apply(ca, u, Cu);
    for (int i = 0; i < PL; i++)
        lam += u[i] * Cu[i];
    hl_neuron_stationary_free(ca);
    double eps = -1.5 * lam * lam;
    planted_run(eps, u, w0, &i0, &i1, &o0, &o1);
    print_message("dT = %.2f u^4: IPR %.3f -> %.3f, overlap %.3f -> %.3f\n", eps, i0, i1, o0,
                  o1);
    assert_true(i1 < 0.8 * i0);
    assert_true(o1 < 0.1);
}

/* ---- (4) Error paths ---------------------------------------------------------------- */

static void expect_einval(int rc, const char *word)
{
    assert_int_equal(rc, HL_EINVAL);
    if (!strstr(hl_error_message(), word))
        fail_msg("message '%s' does not name '%s'", hl_error_message(), word);
}

static void test_errors(void **state)
{
    (void)state;
    hl_nlgp_params pa = ring(1);
    hl_neuron_stationary *ca = hl_neuron_nlgp_cov_alloc(&pa);
    hl_neuron_class cl[1] = {{hl_neuron_stationary_apply, ca, NULL, NULL}};
    hl_neuron_flow_params good, p;
    hl_neuron_flow_defaults(&good);
    good.D = L;
    good.n_classes = 1;
    good.classes = cl;
    assert_int_equal(hl_neuron_flow_validate(&good), HL_OK);
    double w[L], dw[L], t1 = 1;
    random_vector(10, L, 0.3, w);
    hl_neuron_traj *tr = (hl_neuron_traj *)&good; /* must be reset to NULL on failure */

#define BAD(field, value, word)                                   \
    do {                                                          \
        p = good;                                                 \
        p.field = value;                                          \
        expect_einval(hl_neuron_gradient(&p, w, dw), word);       \
    } while (0)
    BAD(D, 0, "D");
    BAD(n_classes, 0, "n_classes");
    BAD(n_classes, HL_NEURON_MAX_CLASSES + 1, "n_classes");
    BAD(classes, NULL, "classes");
    BAD(alpha, NAN, "alpha");
    BAD(beta, INFINITY, "beta");
    BAD(sixth, (hl_neuron_sixth)7, "sixth");
    BAD(stepper, (hl_neuron_stepper)7, "stepper");
    BAD(abs_tol, 0, "abs_tol");
    BAD(rel_tol, -1, "rel_tol");
    BAD(h0, 0, "h0");
    BAD(max_norm, NAN, "max_norm");
    BAD(max_steps, 0, "max_steps");
#undef BAD
    hl_neuron_class nocov[1] = {{NULL, NULL, NULL, NULL}};
    p = good;
    p.classes = nocov;
    expect_einval(hl_neuron_gradient(&p, w, dw), "cov");
    expect_einval(hl_neuron_flow(NULL, w, &t1, 1, NULL, 0, &tr), "params");
    assert_null(tr);

    double back[2] = {2, 1}, neg = -1, wnan[L];
    expect_einval(hl_neuron_flow(&good, w, back, 2, NULL, 0, &tr), "non-decreasing");
    expect_einval(hl_neuron_flow(&good, w, &neg, 1, NULL, 0, &tr), "times[0]");
    expect_einval(hl_neuron_flow(&good, w, &t1, 0, NULL, 0, &tr), "times");
    expect_einval(hl_neuron_flow(&good, w, &t1, 1, NULL, 2, &tr), "refs");
    memcpy(wnan, w, sizeof w);
    wnan[3] = NAN;
    expect_einval(hl_neuron_flow(&good, wnan, &t1, 1, NULL, 0, &tr), "w0[3]");

    /* the literal fourth-order flow blows up in finite time from a large w */
    double big[L], far = 10;
    for (int i = 0; i < L; i++)
        big[i] = 3 * w[i];
    p = good;
    p.sixth = HL_NEURON_SIXTH_NONE;
    assert_int_equal(hl_neuron_flow(&p, big, &far, 1, NULL, 0, &tr), HL_EDIVERGED);
    assert_non_null(strstr(hl_error_message(), "diverged"));
    assert_null(tr);
    /* what was recorded before the blow-up is kept */
    double before[2] = {0, 10};
    assert_int_equal(hl_neuron_flow(&p, big, before, 2, NULL, 0, &tr), HL_EDIVERGED);
    assert_non_null(tr);
    assert_int_equal(tr->n_done, 1);
    assert_true(tr->w[0] == big[0]);
    hl_neuron_traj_free(tr);
    tr = NULL;
    /* too few steps allowed */
    p = good;
    p.max_steps = 1;
    assert_int_equal(hl_neuron_flow(&p, w, &far, 1, NULL, 0, &tr), HL_ENUMERIC);
    assert_non_null(strstr(hl_error_message(), "max_steps"));

    double times[3];
    expect_einval(hl_neuron_log_times(0, 1, 3, times), "t_min");
    expect_einval(hl_neuron_log_times(2, 1, 3, times), "t_max");
    expect_einval(hl_neuron_log_times(1, 2, 0, times), "n");
    assert_int_equal(hl_neuron_log_times(1, 100, 3, times), HL_OK);
    assert_true(fabs(times[1] - 10) < 1e-12 && times[2] == 100);

    /* callbacks' constructors */
    double row[4] = {1, 0.5, 0.2, 0.5};
    assert_null(hl_neuron_stationary_alloc(3, 4, 1, row));
    assert_non_null(strstr(hl_error_message(), "dim"));
    assert_null(hl_neuron_stationary_alloc(1, 0, 1, row));
    assert_non_null(strstr(hl_error_message(), "L"));
    assert_null(hl_neuron_stationary_alloc(1, 4, 1, NULL));
    assert_non_null(strstr(hl_error_message(), "row"));
    assert_null(hl_neuron_tensor_alloc(0));
    assert_non_null(strstr(hl_error_message(), "D"));
    hl_nlgp_params badp = ring(1);
    badp.xi = -1;
    assert_null(hl_neuron_nlgp_cov_alloc(&badp));
    assert_non_null(strstr(hl_error_message(), "xi"));
    assert_null(hl_neuron_nlgp_cov_alloc(NULL));

    /* SGD */
    hl_task *task = hl_task_alloc(hl_model_create("gp", "L=16,xi=1,gain=1"),
                                  hl_model_create("gp", "L=16,xi=3,gain=1"));
    gsl_rng *r = hl_rng_alloc(1, HL_STREAM_TRAIN);
    double W[2 * L], tt[2] = {0.5, 1};
    expect_einval(hl_neuron_sgd(task, 1, 0.5, 0, w, 0, tt, 2, r, W), "eta");
    expect_einval(hl_neuron_sgd(task, NAN, 0.5, 0, w, 0.1, tt, 2, r, W), "alpha");
    expect_einval(hl_neuron_sgd(task, 1, 0.5, 0, w, 0.1, back, 2, r, W), "non-decreasing");
    expect_einval(hl_neuron_sgd(NULL, 1, 0.5, 0, w, 0.1, tt, 2, r, W), "task");
    /* a huge w0 and a large step: the preactivation explodes */
    for (int i = 0; i < L; i++)
        big[i] = 100;
    tt[1] = 10; /* 20 steps */
    assert_int_equal(hl_neuron_sgd(task, 1, 0.5, 0, big, 0.5, tt, 2, r, W), HL_EDIVERGED);
    assert_non_null(strstr(hl_error_message(), "diverged"));
    hl_rng_free(r);
    hl_task_free(task);
    hl_neuron_stationary_free(ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_flow_matches_exponential),
        cmocka_unit_test(test_callbacks_match_dense),
        cmocka_unit_test(test_gradient_of_loss),
        cmocka_unit_test(test_sgd_matches_flow),
        cmocka_unit_test(test_planted_cumulant_localises),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
