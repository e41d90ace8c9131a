/* theory.h — the theory behind localisation: fourth-order cumulants of the inputs,
 * their symmetric CP decomposition, the single-neuron gradient flow driven by the
 * covariance and the fourth cumulant, and the Gaussian-equivalent ODEs of online SGD.
 * See ../shared/REFERENCE.md (section 1, Theory) for the formulas. */
#ifndef HOCLAB_THEORY_H
#define HOCLAB_THEORY_H

#include "hoclab/data.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Cumulants ------------------------------------------------------------------- *
 *
 * Second and fourth moments of zero-mean inputs and their fourth cumulant
 *     C_ij = <x_i x_j>,  T_ijkl = <x_i x_j x_k x_l>,
 *     dT_ijkl = T_ijkl - (C_ij C_kl + C_ik C_jl + C_il C_jk),
 * zero for every Gaussian. The estimators assume a known zero mean (the NLGP, its
 * clone and every odd-symmetric model): centre other data first.
 *
 * Translation-invariant tensors on a ring of L sites are stored as L^3 arrays,
 *     t[(a L + b) L + c] = T(0, a, b, c),   T_ijkl = t(j - i, k - i, l - i mod L),
 * and the covariance as its first row c2[d] = C(0, d). */

enum {
    HL_CUMULANT4_MAX_L = 128,       /* ring sites: L^3 doubles per array */
    HL_CUMULANT4_MAX_DENSE_D = 32   /* dense estimator: D^4 doubles */
};

typedef struct hl_cumulant4 {
    int L;
    double *c2;     /* L:   C(0, d) */
    double *m4;     /* L^3: T(0, a, b, c) */
    double *k4;     /* L^3: dT(0, a, b, c) */
    double *k4_se;  /* L^3: standard error of each k4 estimate (0 for exact values) */
} hl_cumulant4;

/* All arrays zeroed. NULL with a message naming L outside 2..HL_CUMULANT4_MAX_L. */
hl_cumulant4 *hl_cumulant4_alloc(int L);
void hl_cumulant4_free(hl_cumulant4 *c);

/* Entries by site indices (any integers; taken mod L). */
double hl_cumulant4_c2(const hl_cumulant4 *c, int i, int j);
double hl_cumulant4_m4(const hl_cumulant4 *c, int i, int j, int k, int l);
double hl_cumulant4_k4(const hl_cumulant4 *c, int i, int j, int k, int l);
double hl_cumulant4_se(const hl_cumulant4 *c, int i, int j, int k, int l);

/* Estimate c2, m4, k4 and k4_se of a ring (D = c->L) from n >= 2 independent samples
 * X (n x L, row-major), averaging every product over the origin site. Each of the
 * ~L^3/24 distinct entries (translations and permutations of the four sites) costs
 * one L-term sum per sample: O(n L^4 / 24) time (L = 64: 0.7 M multiply-adds, ~0.4 ms
 * per sample on one core; L = 16: ~5 us), O(L^3) memory. The standard errors are those of the mean over samples of
 * each estimate's linearisation (its influence function: the sample's own product
 * minus the first-order change of the Gaussian part), so correlations between sites
 * are accounted for; the samples must be independent. */
int hl_cumulant4_estimate(const float *X, size_t n, hl_cumulant4 *c);

/* The same for any D <= HL_CUMULANT4_MAX_DENSE_D sites without translation
 * invariance: C (D x D), k4 (D^4, index ((i D + j) D + k) D + l) and, if k4_se is
 * not NULL, its standard errors (D^4). C may be NULL. O(n D^4 / 24) time. */
int hl_cumulant4_dense(const float *X, size_t n, int D, double *C, double *k4,
                       double *k4_se);

/* The ring tensor as a dense D^4 array (L^4 doubles; out[((i L + j) L + k) L + l]). */
void hl_cumulant4_expand(int L, const double *t, double *out);

/* Contractions of a ring tensor t (c->k4 or c->m4) with w (L values), without forming
 * the L^4 tensor: out_i = sum_jkl T_ijkl w_j w_k w_l (O(L^4) time, O(L) extra memory)
 * and the scalar sum_ijkl T_ijkl w_i w_j w_k w_l. */
void hl_cumulant4_apply3(int L, const double *t, const double *w, double *out);
double hl_cumulant4_apply4(int L, const double *t, const double *w);

/* T w⊗w⊗w from the cumulant: the Gaussian part of T contributes
 * sum_jkl (C_ij C_kl + C_ik C_jl + C_il C_jk) w_j w_k w_l = 3 (w.Cw) (Cw)_i, so
 *     T w⊗w⊗w = dT w⊗w⊗w + 3 (w.Cw) C w,
 * the split of the single-neuron gradient flow into its Gaussian and non-Gaussian
 * drives. */
void hl_cumulant4_moment_apply3(const hl_cumulant4 *c, const double *w, double *out);

/* The same contractions of a dense D^4 tensor. */
void hl_tensor4_apply3(int D, const double *t, const double *w, double *out);
double hl_tensor4_apply4(int D, const double *t, const double *w);

/* Exact <x_i x_j x_k x_l> of the erf or sign NLGP (any dim-1 boundary; sites 0..L-1,
 * repeats allowed). With x = erf(a z)/Z, erf(a z) = E_e sign(z + e), e ~ N(0, 1/(2a^2))
 * independent per factor, so the moment is an orthant-sign moment E[s1 s2 s3 s4] of a
 * 4-variate Gaussian y = z + e with correlation R = (K + I/(2a^2)) / (1 + 1/(2a^2)),
 * K the latent kernel of the four sites: positive definite even for repeated sites.
 * Price's theorem along R(t) = (1 - t) I + t R turns it into one smooth integral,
 *     E[s1 s2 s3 s4] = (4/pi^2) int_0^1 sum_{i<j} R_ij (1 - t^2 R_ij^2)^(-1/2)
 *                      asin(rho_kl|ij(t)) dt,
 * the sum over the 6 pairs of factors, {k, l} the other two, rho_kl|ij(t) the
 * correlation of y_k, y_l given y_i = y_j = 0 under R(t), written in 1 - R so that
 * nearly coincident factors lose no digits. GSL's adaptive Gauss-Kronrod integrates it
 * to ~1e-13 (an error estimate above 1e-9 is HL_ENUMERIC; this happens only beyond gain
 * ~1e5, where nonlin = sign, the limit, is the model to use). Checked in the tests
 * against the marginal kurtosis quadrature (1e-9), 4D Gauss-Hermite at gain 0.7 (orders
 * 16, 24, 32 converge geometrically onto it: errors 1e-4 .. 1e-7, 4e-6 .. 4e-11,
 * 5e-8 .. 1e-14) and sampled NLGPs. Sign: repeated sites cancel (x^2 = 1). The clone,
 * and gain = 0, give the Gaussian (Wick) value. HL_EINVAL (naming the field) for
 * dim 2, nonlin tanh / poly or a site outside 0..L-1; HL_ENUMERIC if the four sites'
 * latent kernel is not positive definite. */
int hl_nlgp_moment4(const hl_nlgp_params *p, int i, int j, int k, int l, double *m4);

/* Exact c2, m4 and k4 (k4_se zeroed) of the periodic erf or sign NLGP on a ring,
 * c->L == p->L: one integral per class of entries equal under translation,
 * permutation and reflection (~L^3/48 classes): L = 32 takes ~0.05 s, L = 64 ~0.5 s. */
int hl_nlgp_cumulant4_exact(const hl_nlgp_params *p, hl_cumulant4 *c);

/* ---- CP decomposition ------------------------------------------------------------ *
 *
 * Symmetric CP decomposition of a symmetric 4th-order tensor T of dimension D,
 *     T ~ sum_{k<r} gamma_k u_k⊗u_k⊗u_k⊗u_k,   |u_k| = 1,
 * by greedy deflation: each factor is the best of several seeded random restarts of
 * the shifted symmetric higher-order power method (SS-HOPM, Kolda & Mayo 2011),
 *     u <- normalise(s T u^3 + alpha u),
 * which climbs s T u^4 on the sphere; s = +1 finds positive gamma, s = -1 negative
 * ones (the NLGP cumulant is negative along localised directions). Each restart runs
 * both signs for a few probe iterations and continues the one that climbed higher;
 * the restart with the largest |gamma| is kept, and gamma u^4 is subtracted before
 * the next factor. Optional refinement sweeps then re-fit every factor in turn to
 * T minus all the others (block-coordinate descent on ||T - sum gamma u^4||_F, which
 * greedy deflation alone does not minimise when the u_k are not orthogonal).
 *
 * The tensor is seen only through its contraction (the callback), so ring cumulants
 * and other structured tensors need never be expanded to D^4 (wrap e.g.
 * hl_cumulant4_apply3(L, c->k4, w, out) in a function of this signature). Cost: at
 * most rank (restarts screen_iter + max_iter) + refine_sweeps rank refine_iter
 * contractions, far fewer when runs converge. */

#include <stdint.h> /* uint64_t seeds */

/* out_i = sum_jkl T_ijkl w_j w_k w_l for a symmetric T; T w^4 = w . out. */
typedef void (*hl_cp_contract3_fn)(void *ctx, const double *w, double *out);

/* A dense D^4 symmetric tensor (row-major, T[((i D + j) D + k) D + l]) as a callback
 * context. The tensor is not copied and must outlive the object. The contraction
 * uses a work buffer of D^3 + D^2 doubles inside the object, so one object serves one
 * thread at a time. NULL with a message if D < 1, T is NULL, T is not symmetric
 * (to 1e-10 of its largest entry; the message names the first offending entry) or
 * memory runs out. */
typedef struct hl_cp_dense hl_cp_dense;
hl_cp_dense *hl_cp_dense_alloc(const double *T, size_t D);
void hl_cp_dense_free(hl_cp_dense *d);
/* The callback for a dense tensor: ctx is an hl_cp_dense *. */
void hl_cp_dense_contract3(void *ctx, const double *w, double *out);

typedef struct hl_cp_options {
    int rank;            /* r >= 1 factors to extract */
    int restarts;        /* random starting vectors per factor, >= 1 (8) */
    int max_iter;        /* SS-HOPM iterations per factor, >= 1 (1000) */
    int probe_iter;      /* iterations run with both signs before choosing, >= 1 (20) */
    double tol;          /* a run converges when |u_t - u_{t-1}| < tol, > 0 (1e-12) */
    double screen_tol;   /* restarts stop at screen_tol (>= tol) (1e-6), after
                          * screen_iter iterations, or when T u^4 changes by < 1e-12
                          * relative in a step; only the best restart is taken on to
                          * tol, within the same max_iter */
    int screen_iter;     /* probe_iter..max_iter (100) */
    double ftol;         /* also converged when T u^4 changes by <= ftol |T u^4| in a
                          * step, >= 0 (0: off). Set ~1e-10 for translation-invariant
                          * tensors: their factors slide along an almost flat valley
                          * (translation, a continuous symmetry broken only by the
                          * lattice) by ~1e-7 per step and never meet tol, while
                          * gamma and the factor's shape have long converged. */
    double shift;        /* alpha >= 0 (0 = automatic): a given shift is doubled
                          * whenever a step fails to increase s T u^4; the automatic
                          * one starts at 0 and rises on failures towards the
                          * Kolda-Mayo bound 3 max |T u^4| (see cp.c) */
    int refine_sweeps;   /* refinement sweeps after deflation, >= 0 (50) */
    int refine_iter;     /* SS-HOPM iterations per factor and sweep, >= 1 (100) */
    double refine_tol;   /* stop refining when no factor moves by refine_tol (1e-11) */
    uint64_t seed;       /* Philox seed of the restarts (1) */
} hl_cp_options;

/* The defaults above, with the given rank. */
void hl_cp_options_default(hl_cp_options *o, int rank);

/* Factors sorted by decreasing |gamma|; the sign of each u_k is fixed so that its
 * largest-magnitude entry is positive. iterations/converged/change describe the last
 * SS-HOPM run that produced the factor (a refinement run if refinement was done). */
typedef struct hl_cp_result {
    size_t D;
    int rank;
    double *gamma;     /* rank */
    double *u;         /* rank x D, factor k at u + k D, unit norm */
    int *iterations;   /* rank */
    int *converged;    /* rank: 1 if tol (or ftol) was met */
    double *change;    /* rank: the last |u_t - u_{t-1}| */
    int sweeps;        /* refinement sweeps done */
    double sweep_change; /* largest factor move in the last sweep (0 if none) */
} hl_cp_result;

/* NULL with a message naming D or rank if either is < 1, or on allocation failure. */
hl_cp_result *hl_cp_result_alloc(size_t D, int rank);
void hl_cp_result_free(hl_cp_result *r);

/* Decompose the tensor given by contract3(ctx, .) of dimension D into res (allocated
 * for D and o->rank). HL_EINVAL with a message naming the bad argument or option;
 * HL_ENUMERIC if the callback returns NaN or Inf. Converged is a per-factor report,
 * not an error. Deterministic: the same seed and tensor give the same result. */
int hl_cp_decompose(size_t D, hl_cp_contract3_fn contract3, void *ctx,
                    const hl_cp_options *o, hl_cp_result *res);

/* ||T - sum gamma_k u_k^4||_F / ||T||_F for a dense T (D^4, D = res->D); the
 * absolute norm of the model if T is zero. O(rank D^4). */
int hl_cp_reconstruction_error(const double *T, const hl_cp_result *res, double *err);

/* How spread a factor is. IPR = sum u^4 / (sum u^2)^2: 1 on a single site, 1/n when
 * flat, 3/(2n) for a cosine (wave number not a multiple of n/4), about 3/n for a
 * random Gaussian vector; 1/IPR is the
 * participation width in sites. NaN for a zero vector. */
double hl_cp_ipr(const double *u, size_t n);

/* Centre and width of the weight u_i^2 on a ring of L sites (site i at angle
 * 2 pi i / L): centre = L/(2 pi) arg(sum p_i e^{i theta_i}), in [0, L), and width =
 * L/(2 pi) sqrt(-2 ln R), R = |sum p_i e^{i theta_i}|, p = u^2 / |u|^2: the circular
 * standard deviation in sites (s for u^2 a Gaussian bump of standard deviation s
 * sites, up to sampling and wrap-around errors). A weight without a centre (R < 1e-12, e.g. a cosine) has width +Inf
 * and centre 0. Either output may be NULL. HL_EINVAL for L < 1, NULL u or a zero u. */
int hl_cp_ring_width(const double *u, size_t L, double *centre, double *width);

/* ---- Single neuron ----------------------------------------------------------------- *
 *
 * One neuron y = sigma(h + b), h = w.x (no 1/sqrt(D): the paper's convention; a network
 * neuron with h = w'.x / sqrt(D) trained at learning rate eta is this one with
 * w = w' / sqrt(D) and learning rate eta / D), sigma(z) = alpha z - (beta/3) z^3
 * (HL_CUBIC_ALPHA, HL_CUBIC_BETA: the cubic expansion of erf(z / sqrt 2)), a fixed bias
 * b, square loss L = 1/2 <(y - sigma)^2> on a mixture of M equiprobable classes mu with
 * labels y_mu, <x x>_mu = C^mu, <x x x x>_mu = T^mu = 3 sym(C^mu C^mu) + dT^mu.
 *
 * Derivation. dw/dt = -grad L = <P(h) x>, P(h) = (y - sigma(h + b)) sigma'(h + b)
 * = sum_{n=0..5} p_n h^n, with sigma(h + b) = a0 + a1 h + a2 h^2 + a3 h^3,
 *   a0 = alpha b - beta b^3 / 3,  a1 = alpha - beta b^2,  a2 = -beta b,  a3 = -beta / 3,
 *   sigma'(h + b) = a1 + 2 a2 h + 3 a3 h^2,  p_n = y d_n - sum_{i+j=n} a_i d_j  (d = a1,
 *   2 a2, 3 a3).
 * The classes are taken zero-mean and symmetric under x -> -x (the NLGP, its clone and
 * every field here), so only odd n survive:
 *   <h x> = C w,  <h^3 x> = 3 q C w + dT w^3,  <h^5 x> (see below),  q = w.C w.
 * The label enters through p1 = 2 a2 y - (a1^2 + 2 a0 a2) alone: c2 differs between
 * the classes only through the bias (y sigma''(b) <h^2>: the neuron tells the classes
 * apart by their variance). WITHOUT A BIAS THE LABELS DROP OUT: an odd neuron cannot
 * tell symmetric classes apart and its flow is the gradient of 1/2 <sigma^2>.
 * The sixth moment is either dropped (HL_NEURON_SIXTH_NONE: the literal form of the
 * paper; it blows up in finite time once q grows) or closed at fourth order
 * (HL_NEURON_SIXTH_CLOSED, default: the sixth cumulant set to zero, exact for Gaussian
 * classes): <h^5 x> = 15 q^2 C w + 10 q dT w^3 + 5 k C w, k_mu = w.dT^mu w^3. Then
 *   dw/dt = (1/M) sum_mu [ g_mu C^mu w + t_mu dT^mu w^3 ],
 *   g_mu = p1 + 3 q p3 + p5 (15 q^2 + 5 k),   t_mu = p3 + 10 q p5,
 * and in the paper's form (1/M) sum_mu (c2^mu C^mu w + c4^mu T^mu w^3): c4 = t,
 * c2 = g - 3 q t. At b = 0: c2 = -alpha^2 + 5 beta^2 q^2 - (5/3) beta^2 k,
 * c4 = 4 alpha beta / 3 - (10/3) beta^2 q.
 * Which cumulant directions the flow seeks: the loss holds (a2^2 + 2 a1 a3) <h^4> / 2,
 * so it lowers the loss to grow k when a2^2 + 2 a1 a3 < 0 and to shrink it (negative
 * k: the NLGP's localised CP factors have gamma < 0) when a2^2 + 2 a1 a3 > 0, i.e. for
 * beta = alpha / 2 when b^2 > 4/5. The network's default biases b = +-1 are on the
 * localising side; b = 0 is not.
 * The closure is meaningful for realisable moments: the excess kurtosis k / q^2 of
 * w.x is at least -2 (and <h^6> = 15 q^3 + 15 k q >= 0 needs k >= -q^2); a planted
 * cumulant far below that makes the closed flow blow up.
 *
 * Class moments come through callbacks (contexts cov_ctx, cum_ctx); cum3 NULL is a
 * Gaussian class. A callback may use its context as work space: one flow at a time per
 * context. */
typedef void (*hl_neuron_apply_fn)(void *ctx, const double *w, double *out);

typedef struct hl_neuron_class {
    hl_neuron_apply_fn cov;   /* out = C w */
    void *cov_ctx;
    hl_neuron_apply_fn cum3;  /* out = dT w^3, i.e. sum_jkl dT_ijkl w_j w_k w_l; NULL */
    void *cum_ctx;
} hl_neuron_class;

typedef enum { HL_NEURON_SIXTH_CLOSED = 0, HL_NEURON_SIXTH_NONE = 1 } hl_neuron_sixth;
typedef enum { HL_NEURON_RK8PD = 0, HL_NEURON_RKF45 = 1 } hl_neuron_stepper;

typedef struct hl_neuron_flow_params {
    size_t D;                       /* input dimension, >= 1 */
    int n_classes;                  /* M, 1..HL_NEURON_MAX_CLASSES, equiprobable */
    const hl_neuron_class *classes; /* n_classes */
    double alpha, beta;             /* sigma(z) = alpha z - (beta/3) z^3 */
    double bias;                    /* b in sigma(w.x + b); 0 by default */
    const double *labels;           /* y_mu (n_classes); NULL: +1, -1 (hl_task's order,
                                       n_classes <= 2) */
    hl_neuron_sixth sixth;
    hl_neuron_stepper stepper;
    double abs_tol, rel_tol;        /* of the adaptive step (gsl_odeiv2), > 0 */
    double h0;                      /* first step, > 0 */
    double max_norm;                /* |w| beyond it: HL_EDIVERGED */
    unsigned long max_steps;        /* per output interval, >= 1 */
} hl_neuron_flow_params;

enum { HL_NEURON_MAX_CLASSES = 64 };

/* Defaults: HL_CUBIC_ALPHA / BETA, bias 0, labels NULL, closed sixth moment, rk8pd, abs 1e-10, rel 1e-10,
 * h0 1e-3, max_norm 1e6, max_steps 1e7; D, n_classes and classes are left to set. */
void hl_neuron_flow_defaults(hl_neuron_flow_params *p);

/* Check p (every field; the message names it). */
int hl_neuron_flow_validate(const hl_neuron_flow_params *p);

/* The right-hand side dw/dt at w (D values into dw). */
int hl_neuron_gradient(const hl_neuron_flow_params *p, const double *w, double *dw);

/* The paper-form coefficients c2, c4 of class m at q = w.Cw, k = w.dT w^3. */
void hl_neuron_coeffs(const hl_neuron_flow_params *p, int m, double q, double k,
                      double *c2, double *c4);

/* A trajectory at the requested times (row-major arrays). */
typedef struct hl_neuron_traj {
    size_t n_times, D, n_refs;
    size_t n_done;      /* rows recorded: n_times, or fewer after a blow-up */
    int n_classes;
    double *t;          /* n_times */
    double *w;          /* n_times x D */
    double *ipr;        /* n_times: sum w^4 / (sum w^2)^2 (0 for w = 0) */
    double *q;          /* n_times x n_classes: w.C^mu w */
    double *k;          /* n_times x n_classes: w.dT^mu w^3 (0 for Gaussian classes) */
    double *loss_gauss; /* n_times: (1/M) sum_mu 1/2 <(y_mu - sigma)^2> for Gaussian classes */
    double *loss;       /* n_times: the same with <h^4> = 3q^2 + k, <h^6> = 15q^3 + 15kq */
    double *overlap;    /* n_times x n_refs: |w.u_r| / (|w| |u_r|); NULL if no refs */
} hl_neuron_traj;

void hl_neuron_traj_free(hl_neuron_traj *tr);

/* Integrate from w0 at t = 0 and record at times[] (non-decreasing, >= 0; t = 0 records
 * w0). refs: n_refs reference vectors (n_refs x D, e.g. CP factors) or NULL. Errors:
 * HL_EINVAL (message names the field), HL_EDIVERGED (|w| past max_norm or not finite,
 * or a finite-time blow-up: the message gives the time; *out then holds the n_done
 * times recorded before it, if any), HL_ENUMERIC (the driver failed, e.g. max_steps). */
int hl_neuron_flow(const hl_neuron_flow_params *p, const double *w0, const double *times,
                   size_t n_times, const double *refs, size_t n_refs,
                   hl_neuron_traj **out);

/* n times log-spaced from t_min to t_max (0 < t_min <= t_max; n = 1: t_max). */
int hl_neuron_log_times(double t_min, double t_max, size_t n, double *times);

/* Online SGD of the same neuron, one fresh labelled sample per step from task:
 * w += eta (y - sigma(h + b)) sigma'(h + b) x; time t = eta * steps (the flow is eta -> 0).
 * Records w at times[] (non-decreasing, >= 0; the step count is round(t / eta)) into
 * W (n_times x D). Samples are drawn in blocks of 256 from rng. */
int hl_neuron_sgd(hl_task *task, double alpha, double beta, double bias, const double *w0,
                  double eta, const double *times, size_t n_times, gsl_rng *rng, double *W);

/* Ready callbacks.
 * Stationary covariance C_ij = row[i - j] of a ring / torus (periodic: index modulo L)
 * or an open window (Toeplitz: row[|i - j|], per axis in 2D), applied directly in
 * O(D^2) with O(D) memory; L at most 65536 (dim 1) or 256 (dim 2). */
typedef struct hl_neuron_stationary hl_neuron_stationary;
hl_neuron_stationary *hl_neuron_stationary_alloc(int dim, int L, int periodic,
                                                 const double *row);
/* The exact NLGP / clone covariance (hl_nlgp_covariance_row), its boundary's form. */
hl_neuron_stationary *hl_neuron_nlgp_cov_alloc(const hl_nlgp_params *p);
void hl_neuron_stationary_free(hl_neuron_stationary *s);
void hl_neuron_stationary_apply(void *ctx, const double *w, double *Cw);

/* A dense symmetric matrix (D x D, caller-owned) as a cov callback. */
typedef struct hl_neuron_matrix {
    size_t D;
    const double *a;
} hl_neuron_matrix;
void hl_neuron_matrix_apply(void *ctx, const double *w, double *Cw);

/* A dense fourth-order tensor (D^4 doubles, zeroed at allocation; small D), filled by
 * the caller or by rank-one terms gamma u⊗u⊗u⊗u, as a cum3 callback. */
typedef struct hl_neuron_tensor {
    size_t D;
    double *t;      /* D^4, index ((i D + j) D + k) D + l */
    double *work;   /* D^2 */
} hl_neuron_tensor;
hl_neuron_tensor *hl_neuron_tensor_alloc(size_t D);
void hl_neuron_tensor_free(hl_neuron_tensor *t);
void hl_neuron_tensor_add_rank1(hl_neuron_tensor *t, double gamma, const double *u);
void hl_neuron_tensor_apply(void *ctx, const double *w, double *out);

/* A translation-invariant cumulant on a ring in the L^3 storage of hl_cumulant4 (e.g.
 * k4 of hl_nlgp_cumulant4_exact or of hl_cumulant4_estimate; caller-owned) as a cum3
 * callback, through hl_cumulant4_apply3: O(L^4) time, no L^4 memory. */
typedef struct hl_neuron_ring {
    int L;
    const double *t;
} hl_neuron_ring;
void hl_neuron_ring_apply(void *ctx, const double *w, double *out);

/* A CP form dT = sum_r gamma_r u_r⊗u_r⊗u_r⊗u_r (caller-owned arrays, U is rank x D) as
 * a cum3 callback: dT w^3 = sum_r gamma_r (u_r.w)^3 u_r, O(rank D). */
typedef struct hl_neuron_cp {
    size_t D, rank;
    const double *gamma;
    const double *U;
} hl_neuron_cp;
void hl_neuron_cp_apply(void *ctx, const double *w, double *out);

/* ---- Gaussian-equivalent dynamics (get.c) -------------------------------------- */

/* ---- The perceptron view of the simplicity bias (perceptron.c) ------------------- */

#ifdef __cplusplus
}
#endif
#endif
