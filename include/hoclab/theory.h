/* theory.h — the theory behind localisation: fourth-order cumulants of the inputs,
 * their symmetric CP decomposition, the single-neuron gradient flow driven by the
 * covariance and the fourth cumulant, and the Gaussian-equivalent ODEs of online SGD.
 * See ../shared/REFERENCE.md (section 1, Theory) for the formulas. */
#ifndef HOCLAB_THEORY_H
#define HOCLAB_THEORY_H

#include "hoclab/data.h"
#include <stddef.h>
#include <stdint.h>

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

/* The ring cumulant of a parsed data model (hl_model_parse): exact (n_samples = 0;
 * the periodic erf or sign nlgp, and gp, whose k4 is zero) or estimated from
 * n_samples >= 2 draws of stream (seed, HL_STREAM_USER + 7) for any model with
 * dim = 1, L = D and a periodic boundary. *exact says which; free *out with
 * hl_cumulant4_free. HL_EINVAL names what does not fit. */
int hl_cumulant4_model(const hl_param_values *v, size_t n_samples, uint64_t seed,
                       hl_cumulant4 **out, int *exact);

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

/* IPR, centre and width (hl_cp_ring_width) of each of K receptive fields on a ring
 * (W: K x L floats, a network's first layer): what the CP factors' widths are compared
 * with. A zero field gets NaN for all three. */
int hl_rf_ring_widths(const float *W, size_t K, size_t L, double *ipr, double *centre,
                      double *width);

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

/* ---- Gaussian-equivalent dynamics (get.c) -------------------------------------- *
 *
 * Deterministic equations for online SGD (batch B, time t = steps / D) of the
 * two-layer network of net.h on two equiprobable zero-mean Gaussian classes
 * x ~ N(0, C_a), labels y_a = +-1, C_a translation invariant on a ring (dim 1,
 * D = L) or torus (dim 2, D = L^2) and given by its first row. The GP clone of the
 * NLGP task is exactly such a mixture; for the NLGP itself the equations are GET's
 * prediction (Refinetti et al. 2021, Goldt et al. 2021), blind to its higher cumulants.
 *
 * Derivation. lambda_k = w_k.x / sqrt(D), h_k = lambda_k + b_k, e = phi - y,
 * psi_k = (v_k / norm) e g'(h_k); a step is w_k -= lr_w psi_k x / sqrt(D),
 * b_k -= lr_w psi_k, v_k -= lr_v e g(h_k) / norm (net.h: norm, lr_w, lr_v by mode).
 * The real orthonormal Fourier vectors u_rho diagonalise both C_a: x_rho = u_rho.x
 * are independent N(0, lambda^a_rho) (eigenvalues = DFT of the row) and, with
 * s_k,rho = u_rho.w_k, lambda | a ~ N(0, Q^a), Q^a_kl = (1/D) sum_rho lambda^a_rho
 * s_k,rho s_l,rho. Stein's lemma E[x_rho F] = sum_m Cov(x_rho, lambda_m) E[d_m F],
 * Cov(x_rho, lambda_m) = lambda^a_rho s_m,rho / sqrt(D), gives the mean step of s:
 *   E[ds_k,rho] = -(lr_w / D) sum_m M_km,rho s_m,rho,   M_rho = sum_a p_a lambda^a_rho A^a,
 *   A^a_km = E_a[d psi_k / d lambda_m]
 *          = (v_k v_m / norm^2) E_a[g'_k g'_m] + delta_km (v_k / norm) E_a[e g''_k].
 * The square of a step adds (lr_w^2 / D) psi_k psi_l x_rho^2 to s_k,rho s_l,rho, of
 * mean (lr_w^2 / D) lambda^a_rho E_a[psi_k psi_l] up to O(1/D^2) (x_rho is nearly
 * independent of lambda); over the D steps of a unit of time it is O(1): the SGD
 * noise. With Omega_rho = s_rho s_rho^T (K x K) and S_rho its mean vector:
 *   dS_rho/dt     = -lr_w M_rho S_rho                            (mean weights)
 *   dOmega_rho/dt = -lr_w (M_rho Omega_rho + Omega_rho M_rho^T)
 *                   + (lr_w^2 / B) sum_a p_a lambda^a_rho B^a,   B^a_kl = E_a[psi_k psi_l]
 *   dv_k/dt = -lr_v D sum_a p_a E_a[e g(h_k)] / norm          (2layer: lr_v D = lr)
 *   db_k/dt = -lr_w D sum_a p_a E_a[psi_k]                     (trainable biases)
 * They close: every expectation depends on Omega only through Q^a. Without the noise
 * term (noise = 0, the gradient-flow limit) Omega_rho = S_rho S_rho^T at all times;
 * with it Omega - S S^T is the spread of the weights about their mean. Dropped, as
 * o(1) for large D: the fluctuations of v (O(lr^2 / D)) and of trainable biases, which
 * move D times faster than w and, at a fixed lr, keep fluctuations of variance O(lr):
 * for them the equations give the mean motion only. The fast biases make the system
 * stiff (rates ~ lr D); the explicit adaptive steppers resolve them (their step stays
 * ~ 1 / (lr D)), at a cost proportional to lr D t.
 * The modes +q and -q (cos and sin) share eigenvalues and equations: Omega is kept
 * summed over each group g = {q, -q} (m_g = 1 or 2 real modes; the noise term gets
 * m_g), S as the complex DFT coefficient w^_k(q) of the group's representative q,
 * Omega_g = (m_g / D) Re(w^_k(q) conj w^_l(q)) at t = 0; the mean weight vectors are
 * the inverse DFT of S. Test error (P(sign phi != y), phi = 0 counting as negative, as
 * hl_eval_run does) and test loss E[e^2] / 2 average the classes.
 *
 * Expectations over lambda ~ N(0, Q^a), h = lambda + b: in closed form for the linear
 * activation (e is Gaussian); for erf (g = erf(h / sqrt 2)), tanh and cubic by fixed
 * quasi-Monte-Carlo points: n_points / 2 Sobol points (GSL's: K <= 40) through
 * gsl_cdf_ugaussian_Pinv and their mirror images -z (odd moments exact), lambda = L z
 * with L the Cholesky factor of Q^a (Sobol: the net completed with its origin and
 * digitally shifted by fixed words, so that no point sits on a face of the cube). The
 * right-hand side is then a smooth deterministic function of the state. The test error
 * conditions on all units but the one of largest |v_u| sqrt(Q_uu): given the others it
 * is a normal probability (g monotone), a smooth integrand too (cubic: indicator).
 * Accuracy at HL_GET_DEFAULT_POINTS (test_get, against GSL adaptive quadrature, K = 1
 * and 2, erf and tanh, Q_kk 0.3..2, |b| <= 1): A Q, B, E psi, E e g and the loss within
 * 1.1e-4 max(1, |x|), the error within 5e-6; the error of such QMC falls ~ 1 / N and
 * grows with K: E[g'_k g'_m] of independent units (0.424) is off by 8e-5 at K = 8,
 * 3e-4 at K = 20, 1.5e-3 at K = 40 (Halton points beyond GSL's 40 Sobol dimensions
 * were worse, 1.6e-2 at K = 48, hence the limit).
 * Cost: 2 n_points K^2 per evaluation, plus n_groups K^3; the test error costs one more
 * pass at each output time. Measured (one core): the GP task of test_get (K = 4,
 * L = 100, fixed biases, t = 200, 2048 points) ~800 evaluations, 0.25 s; the default
 * experiment (K = 8, L = 100, trainable biases, t = 3000, 2048 points, rkf45) 15 000 -
 * 29 000 evaluations, 14 - 23 s.
 *
 * The ODE works in double; hl_get_initial_network converts the trainer's float initial
 * weights exactly, so an ODE and a simulation start from the same network. */

#include "hoclab/train.h"

/* The default points (accuracy above) and the largest K (GSL's Sobol dimensions). */
enum { HL_GET_DEFAULT_POINTS = 8192, HL_GET_MAX_K = 40 };

/* Explicit adaptive Runge-Kutta steppers (gsl_odeiv2). Trainable biases make the
 * system stiff and favour low orders: for the default experiment to t = 1000, rk8pd
 * needed 8200 evaluations, rkf45 5400, rkck 4900; without them all are alike. */
typedef enum { HL_GET_RK8PD = 0, HL_GET_RKF45 = 1, HL_GET_RKCK = 2 } hl_get_stepper;

typedef struct hl_get_params {
    int dim, L;                  /* ring (1) or torus (2); D = L or L^2 */
    const double *row_plus;      /* D: first row of C_+ (class y = +1), row-major in 2D */
    const double *row_minus;     /* D: first row of C_- (class y = -1) */
    hl_net_config net;           /* K, mode, act (erf, tanh, linear, cubic), bias, lr;
                                    D, max_batch, std0w, std0v, bias_value unused */
    int batch;                   /* SGD batch size B >= 1 (divides the noise term) */
    const double *W0;            /* K x D initial weights (row k = unit k) */
    const double *v0;            /* K; NULL: all 1 (as mf and lazy have it) */
    const double *b0;            /* K; NULL: as hl_net_init sets them (none: 0,
                                    trainable: +-1, fixed: +-bias_value alternating) */
    int noise;                   /* 1: the O(lr^2) SGD noise term; 0: gradient flow */
    size_t n_points;             /* quasi-Monte-Carlo points, even, 2 .. 2^24 */
    hl_get_stepper stepper;
    double abs_tol, rel_tol;     /* of the adaptive step (gsl_odeiv2), > 0 */
    double h0;                   /* first step, > 0 */
    double h_max;                /* largest step, > 0 (HUGE_VAL: none) */
    unsigned long max_steps;     /* per output interval, >= 1 */
    double max_q;                /* a diagonal Q^a beyond it: HL_EDIVERGED, > 0 */
} hl_get_params;

/* Defaults: batch 1, noise on, HL_GET_DEFAULT_POINTS, rkck, abs 1e-9, rel 1e-7,
 * h0 1e-3, h_max none, max_steps 1e7, max_q 1e8; geometry, rows, net and W0 are
 * left to set (net zeroed). */
void hl_get_defaults(hl_get_params *p);

/* Check every field (the message names it and its range): rows finite and symmetric
 * (row[d] = row[-d]), W0 / v0 / b0 finite. hl_get_run clips negative eigenvalues of
 * the rows to 0, as the samplers do (the clipped spectrum is the samples' covariance),
 * and reports them in the trajectory; negative ones carrying more than 5 % of
 * sum |lambda| are HL_EINVAL naming the row. */
int hl_get_validate(const hl_get_params *p);

/* One class's expectations at Q (K x K), v, b (K each), label y, with p's activation,
 * mode and n_points (only p->net and n_points are read): error P(sign phi != y), loss
 * E[e^2] / 2, A (K x K, A_km = E[d psi_k / d lambda_m]), B (K x K, E[psi_k psi_l]),
 * psi (K, E[psi_k]), eg (K, E[e g(h_k)]). Any output may be NULL. HL_EINVAL for y not
 * +-1, a non-finite entry or a non-symmetric Q (Q must also be positive semi-definite).
 * For checks and diagnostics: hl_get_run evaluates the same code on fixed points. */
int hl_get_expect(const hl_get_params *p, const double *Q, const double *v, const double *b,
                  double y, double *error, double *loss, double *A, double *B, double *psi,
                  double *eg);

/* A trajectory at the requested times (row-major arrays; n_done rows filled). */
typedef struct hl_get_traj {
    size_t n_times, n_done;      /* requested; recorded (fewer after a divergence) */
    int K, dim, L;
    size_t D, n_groups;
    double *t;                   /* n_times */
    double *test_error;          /* n_times */
    double *test_loss;           /* n_times */
    double *Q_plus, *Q_minus;    /* n_times x K x K: covariances of lambda per class */
    double *overlap;             /* n_times x K x K: w_k.w_l / D (from Omega) */
    double *v, *b;               /* n_times x K */
    double *W_mean;              /* n_times x K x D: the mean weights (inverse DFT of S) */
    double *ipr;                 /* n_times x K: IPR of each mean weight vector (0 if 0) */
    double *power;               /* n_times x K x n_groups: Omega_g,kk, the share of
                                    |w_k|^2 in each group of modes (sum_g = |w_k|^2) */
    double *lambda_plus;         /* n_groups: eigenvalue of C_+ in each group */
    double *lambda_minus;        /* n_groups */
    int *mult;                   /* n_groups: real modes in the group (1 or 2) */
    int *freq;                   /* n_groups x dim: wave numbers of the representative,
                                    each in (-L/2, L/2] */
    int n_clipped[2];            /* negative eigenvalues clipped to 0 (class +, -) */
    double clipped_fraction[2];  /* their share of sum |lambda| */
    long n_evals;                /* right-hand-side evaluations */
} hl_get_traj;

void hl_get_traj_free(hl_get_traj *tr);

/* Integrate from the network (W0, v0, b0) at t = 0 and record at times[] (non-
 * decreasing, >= 0; t = 0 records the start). Errors: HL_EINVAL (the message names the
 * field), HL_ENOMEM, HL_EDIVERGED (Q past max_q or not finite: *out keeps the rows
 * recorded before, if any, and the message gives the time), HL_ENUMERIC (the driver
 * failed, e.g. max_steps). */
int hl_get_run(const hl_get_params *p, const double *times, size_t n_times,
               hl_get_traj **out);

/* From a trainer configuration (NLGP task: dim, L, p, xi_plus, xi_minus, gain,
 * convention, input): the class covariance rows (D = hl_train_D(c) each), exact
 * (hl_nlgp_covariance_row; the same for input nlgp and gp). HL_EINVAL for a task of
 * two named models (plus_model / minus_model). */
int hl_get_covariance_rows(const hl_train_config *c, double *row_plus, double *row_minus);

/* The initial network hl_train_run(c, ...) starts from: the same config, stream
 * (seed, HL_STREAM_INIT) and hl_net_init draws, W0 (K x D), v0 (K), b0 (K), converted
 * from the trainer's float. */
int hl_get_initial_network(const hl_train_config *c, double *W0, double *v0, double *b0);

/* Everything for one run set up from a trainer configuration: params (defaults, the
 * geometry, net = c->net with D and max_batch set, batch) pointing at the rows and
 * the initial network owned by the object. */
typedef struct hl_get_setup {
    hl_get_params params;
    double *row_plus, *row_minus;  /* D each */
    double *W0, *v0, *b0;          /* K x D, K, K */
} hl_get_setup;

int hl_get_setup_from_train(const hl_train_config *c, hl_get_setup **out);
void hl_get_setup_free(hl_get_setup *s);

/* ---- The perceptron view of the simplicity bias (perceptron.c) ------------------- */

/* Refinetti, Ingrosso & Goldt (ICML 2023): a perceptron trained by SGD on a binary
 * task first aligns with the class-mean difference, then with the Fisher discriminant,
 * and only later picks up the non-Gaussian structure. Here for phi(x) = sigma(h),
 * h = w.x (no 1/sqrt(D), as for the single neuron above), sigma(h) = alpha h -
 * (beta/3) h^3 (beta = 0: the linear perceptron), square loss with labels y = +-1 and
 * an optional weight decay lambda ("ridge"):
 *     L(w) = 1/2 <(y - sigma(h))^2> + (lambda/2) |w|^2,
 * <.> the average over a dataset X (n x D floats), y (n floats, exactly +-1).
 *
 * Statistics. Class c in {+, -} (index 0: y = +1, index 1: y = -1) has fraction p_c,
 * mean mu_c, centred moments C_c = <z z^T>_c, z = x - mu_c (normalised by n_c), and
 *     m   = <y x> = p+ mu+ - p- mu-,
 *     S   = <x x^T> = Sw + B,  Sw = sum_c p_c C_c (within class),
 *           B = sum_c p_c mu_c mu_c^T (between class),
 *     T3_c w^2 = <z (w.z)^2>_c                       (third cumulant),
 *     K_c(w) = dT_c w^3 = <z (w.z)^3>_c - 3 (w.C_c w) C_c w   (fourth cumulant),
 * the contractions in one O(n_c D) pass, never forming D^4. Their standard errors
 * come from the influence function of the estimate at fixed w (centring and C_c
 * estimated from the same samples included): with u = w.z,
 *     psi(z) = z u^3 - 3 (u^2 - q) C w - 3 q u z - k3 z - 3 u T3 w^2,
 *     q = w.C w, k3 = <u^3>,  se_i = sd(psi_i) / sqrt(n_c).
 *
 * Expansion. The gradient flow dw/dt = -grad L is
 *     dw/dt = alpha m - alpha^2 S w - lambda w
 *             + beta [(4 alpha/3) <h^3 x> - <y h^2 x>] - (beta^2/3) <h^5 x>.
 *  w(0): from w ~ 0, dw/dt = alpha m: the weight first grows along the mean m.
 *  w(1): the linear perceptron's minimiser w1 = alpha A^-1 m, A = alpha^2 S + lambda I,
 *     reached on the time scales 1 / eig(A). The matrix of the square loss is the
 *     SECOND MOMENT S, not the within-class covariance; but when the data have zero
 *     global mean (p+ mu+ + p- mu- = 0: symmetric classes, x = y mu + noise) the
 *     between-class part is rank one along m, B = m m^T / (4 p+ p-), and
 *     Sherman-Morrison gives A^-1 m = A_w^-1 m / (1 + m.A_w^-1 m / (4 p+ p- / alpha^2)),
 *     A_w = alpha^2 Sw + lambda: the direction of Fisher's discriminant
 *     F = (Sw + lambda/alpha^2)^-1 (mu+ - mu-) (m is parallel to mu+ - mu- then). With a
 *     non-zero global mean (a perceptron has no bias) the two differ; both are given.
 *  w(3): the stationary condition to first order in beta (third order in h) around w1:
 *     w3 = w1 + d,  A d = beta [(4 alpha/3) <h1^3 x> - <y h1^2 x>],  h1 = w1.x,
 *     and with x = mu_c + z in each class, a_c = w1.mu_c, q_c = w1.C_c w1,
 *     k3_c = w1.T3_c w1^2,
 *       <h1^3 x>_c = mu_c (a^3 + 3 a q + k3) + 3 (a^2 + q) C_c w1 + 3 a T3_c w1^2 + K_c(w1),
 *       <y h1^2 x>_c = y_c [mu_c (a^2 + q) + 2 a C_c w1 + T3_c w1^2],
 *     split into d = d_gauss + d_skew + d_kurt:
 *       A d_gauss = beta sum_c p_c [(4 alpha/3) (mu_c (a^3 + 3 a q) + 3 (a^2 + q) C_c w1)
 *                                  - y_c (mu_c (a^2 + q) + 2 a C_c w1)],
 *       A d_skew  = beta sum_c p_c [(4 alpha/3) (mu_c k3 + 3 a T3_c w1^2) - y_c T3_c w1^2],
 *       A d_kurt  = (4 alpha beta/3) sum_c p_c K_c(w1).
 *     The Gaussian clone (same means and covariances, no higher cumulants) predicts
 *     w3_clone = w1 + d_gauss; d_kurt is the fourth cumulant's contribution alone.
 *     For symmetric classes x = y mu + z with a shared covariance C (and lambda = 0)
 *     the clone keeps w1's DIRECTION: the right-hand side of d_gauss lies in
 *     span(mu, C w1), and A^-1 maps both onto w1 (C w1 = S w1 - mu (mu.w1), S w1 ∝
 *     mu), so every O(beta) turn of the weight comes from the cumulants. The
 *     neglected terms are O(beta^2), relative size ~ (beta <h1^2> / alpha)^2: the
 *     expansion is accurate when the linear fit is weak, <(alpha h1)^2> = alpha m.w1 < 1
 *     (lambda = 0).
 *  w_star: the exact stationary point near w3 of the cubic perceptron's loss on the
 *     dataset (damped Newton from w3, O(n D^2) per iteration): what training converges
 *     to, without SGD noise. w_star - w3 = O(beta^2).
 *
 * Training. Online SGD, w += eta [(y - sigma(h)) sigma'(h) x - lambda w], one sample a
 * step, fresh from an hl_task or from an array in epochs reshuffled from a fixed seed;
 * time t = eta * steps (the flow above is eta -> 0). Test error of any weight: the
 * fraction of test samples with y (w.x) <= 0 (for the trained weight at |h| <
 * sqrt(3 alpha / beta) this is the error of sign(sigma(h))). */

typedef struct hl_perc_stats {
    size_t n, D;
    const float *X, *y;   /* the dataset: not copied, must outlive the object */
    size_t count[2];      /* samples of class + (y = +1) and class - (y = -1) */
    double p[2];          /* count / n */
    double *mean;         /* 2 x D: mu_+, mu_- */
    double *m;            /* D: <y x> */
    double *cov;          /* 2 x D x D: C_+, C_- (row-major) */
    double *S;            /* D x D: <x x^T> */
    double *Sw;           /* D x D: p+ C_+ + p- C_- */
} hl_perc_stats;

/* Means and second moments in two passes (O(n D^2), BLAS rank-k updates in double).
 * HL_EINVAL naming the argument for NULL arrays, D < 1, a label that is not exactly
 * +1 or -1 (the message gives its index), a non-finite X entry, or fewer than 2
 * samples in a class. */
int hl_perc_stats_compute(const float *X, const float *y, size_t n, size_t D,
                          hl_perc_stats **out);
void hl_perc_stats_free(hl_perc_stats *s);

/* Class `label` (+1 or -1): k4w = K_c(w) = dT_c w^3, its standard errors k4w_se and
 * k3w = T3_c w^2 (D values each; any output may be NULL). Two O(n D) passes. */
int hl_perc_cumulants(const hl_perc_stats *s, int label, const double *w, double *k4w,
                      double *k4w_se, double *k3w);

typedef struct hl_perc_options {
    double alpha, beta;  /* sigma; HL_CUBIC_ALPHA, HL_CUBIC_BETA */
    double ridge;        /* lambda >= 0, weight decay of the loss (0) */
    int full_se;         /* 1: d_kurt_se and kurt_chi2 from the covariance of the
                          * contraction's influence function, O(n D^2 + D^3) (0) */
    int newton_iter;     /* Newton iterations for w_star, >= 0 (0: not computed) (100) */
    double newton_tol;   /* stop when |step| <= tol |w|, > 0 (1e-12) */
} hl_perc_options;

void hl_perc_options_default(hl_perc_options *o);

/* Everything a figure of the expansion needs; vectors of D doubles. */
typedef struct hl_perc_expansion {
    size_t D;
    hl_perc_options opt;
    double *w0;           /* m: the direction of w(0) */
    double *w1;           /* alpha A^-1 m: the linear perceptron's minimiser */
    double *fisher;       /* (Sw + lambda/alpha^2)^-1 (mu+ - mu-) */
    double *d_gauss, *d_skew, *d_kurt;  /* the parts of w3 - w1 (beta included) */
    double *w3;           /* w1 + d_gauss + d_skew + d_kurt */
    double *w3_clone;     /* w1 + d_gauss: the Gaussian clone's prediction */
    double *w_star;       /* exact stationary point (NaN if newton_iter = 0 or failed) */
    double *k4w, *k4w_se, *k3w;  /* 2 x D: K_c(w1), its SE, T3_c w1^2 per class */
    double *d_kurt_se;    /* D: SE of d_kurt at fixed w1 (NaN unless full_se) */
    double kurt_chi2;     /* Kbar.Cov(Kbar)^-1 Kbar, Kbar = sum_c p_c K_c(w1): ~ chi2 with
                           * D degrees of freedom when dT = 0 (NaN unless full_se, or
                           * if Cov(Kbar) is singular) */
    double loss_w1, loss_w3, loss_star; /* L(w) on the dataset (NaN: not computed) */
    int star_iter;        /* Newton iterations done */
    int star_converged;   /* 1 if newton_tol was met */
    double star_grad;     /* |grad L(w_star)| */
} hl_perc_expansion;

/* HL_EINVAL (naming the option) for bad options; HL_ENUMERIC if alpha^2 S + lambda or
 * Sw + lambda/alpha^2 is not positive definite (n <= D or constant pixels: set
 * ridge). A Newton run that does not converge is reported in star_converged, not as an
 * error. */
int hl_perc_expand(const hl_perc_stats *s, const hl_perc_options *o,
                   hl_perc_expansion **out);
void hl_perc_expansion_free(hl_perc_expansion *e);

/* Cosine a.b / (|a| |b|) (NaN if either is zero or not finite), the loss L(w) with
 * weight decay lambda on a dataset, and the test error of w: the fraction of rows
 * with y (w.x) <= 0. */
double hl_perc_cosine(size_t D, const double *a, const double *b);
double hl_perc_loss(size_t D, const double *w, const float *X, const float *y, size_t n,
                    double alpha, double beta, double lambda);
double hl_perc_test_error(size_t D, const double *w, const float *X, const float *y,
                          size_t n);

/* The references every trained weight is compared with (hl_perc_run.overlap columns). */
enum {
    HL_PERC_REF_MEAN = 0,  /* w0 = m */
    HL_PERC_REF_LINEAR,    /* w1 */
    HL_PERC_REF_FISHER,
    HL_PERC_REF_W3,
    HL_PERC_REF_CLONE,     /* w3_clone */
    HL_PERC_REF_STAR,      /* w_star */
    HL_PERC_N_REFS
};
/* "mean", "linear", "fisher", "w3", "clone", "star"; NULL out of range. */
const char *hl_perc_ref_name(int ref);

typedef struct hl_perc_train_params {
    double alpha, beta;    /* HL_CUBIC_ALPHA, HL_CUBIC_BETA */
    double ridge;          /* weight decay lambda >= 0 (0) */
    double eta;            /* learning rate > 0; stable for eta |x|^2 alpha^2 < 2 (0.01) */
    const double *times;   /* n_times record times t = eta * steps, non-decreasing,
                            * >= 0 (e.g. 0 and hl_neuron_log_times) */
    size_t n_times;
    double std0;           /* initial w ~ N(0, std0^2) per component, >= 0 (0) */
    double average_from;   /* Polyak average of w over t in [average_from * t_end,
                            * t_end], t_end the last time; in [0, 1) (0.5) */
    uint64_t seed;         /* initial weight, shuffling, fresh samples (1) */
} hl_perc_train_params;

void hl_perc_train_defaults(hl_perc_train_params *p);

/* A training run: per record time and for the averaged weight. Overlaps are signed
 * cosines with the references of the expansion given (NaN without one, or for a
 * reference that is zero or NaN); test errors and losses are NaN without a test set. */
typedef struct hl_perc_run {
    size_t n_times, D;
    double *t;                 /* n_times */
    unsigned long long *steps; /* n_times: round(t / eta) */
    double *w;                 /* n_times x D */
    double *norm;              /* n_times: |w| */
    double *overlap;           /* n_times x HL_PERC_N_REFS */
    double *test_error;        /* n_times */
    double *test_loss;         /* n_times: L(w) on the test set, without weight decay */
    double *w_avg;             /* D: the Polyak average */
    double avg_overlap[HL_PERC_N_REFS];
    double avg_test_error, avg_test_loss;
    double ref_test_error[HL_PERC_N_REFS]; /* each reference as a classifier */
    unsigned long long epochs; /* passes over the array (0 for fresh samples) */
} hl_perc_run;

/* Train on fresh samples of task (blocks of 256 from stream (seed, HL_STREAM_USER +
 * 603)), or on the array X, y (n x D) in epochs, each a fresh permutation (stream
 * (seed, HL_STREAM_USER + 602)); the initial weight comes from (seed, HL_STREAM_USER
 * + 601). ex (same D) and the test set (Xtest, ytest, n_test; NULL, NULL, 0 for none)
 * are optional. HL_EINVAL naming the parameter; HL_EDIVERGED when h is not finite or
 * |h| > 1e150 (the message gives the step). */
int hl_perc_train_task(const hl_perc_train_params *p, hl_task *task,
                       const hl_perc_expansion *ex, const float *Xtest,
                       const float *ytest, size_t n_test, hl_perc_run **out);
int hl_perc_train_array(const hl_perc_train_params *p, const float *X, const float *y,
                        size_t n, size_t D, const hl_perc_expansion *ex,
                        const float *Xtest, const float *ytest, size_t n_test,
                        hl_perc_run **out);
void hl_perc_run_free(hl_perc_run *r);

#ifdef __cplusplus
}
#endif
#endif
