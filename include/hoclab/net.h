/* net.h — the fully connected two-layer student and its online-SGD step.
 *
 *   h_k   = w_k . x / sqrt(D) + b_k
 *   phi(x) = sum_k v_k act(h_k) / norm
 *   loss  = (phi - y)^2 / 2, averaged over the batch, labels y = +-1.
 *
 * Modes follow the authors' code:
 *   2layer  norm = 1,       v trained with lr / D,  w and b with lr
 *   mf      norm = K,       v fixed at 1,           w and b with lr * K
 *   lazy    norm = sqrt(K), v fixed at 1,           w and b with lr * sqrt(K)
 * Weights are float32; the matrix products go through OpenBLAS. The step allocates
 * nothing: its work buffers are sized for max_batch at allocation. */
#ifndef HOCLAB_NET_H
#define HOCLAB_NET_H

#include <gsl/gsl_rng.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { HL_MODE_2LAYER = 0, HL_MODE_MF, HL_MODE_LAZY } hl_mode;
typedef enum { HL_ACT_ERF = 0, HL_ACT_RELU, HL_ACT_TANH, HL_ACT_LINEAR, HL_ACT_CUBIC } hl_act;
typedef enum { HL_BIAS_NONE = 0, HL_BIAS_TRAINABLE, HL_BIAS_FIXED } hl_bias;

/* erf is erf(h / sqrt 2); cubic is its third-order expansion alpha h - beta h^3 / 3,
 * alpha = sqrt(2/pi), beta = alpha / 2. */
#define HL_CUBIC_ALPHA 0.79788456080286535588
#define HL_CUBIC_BETA 0.39894228040143267794

typedef struct hl_net_config {
    int K;              /* hidden units, >= 1 */
    int D;              /* input dimension, >= 2 */
    int max_batch;      /* largest batch passed to hl_net_step, >= 1 */
    hl_mode mode;
    hl_act act;
    hl_bias bias;       /* none: b = 0; trainable: b_k = +-1 alternating, trained;
                           fixed: b_k = +-bias_value alternating, frozen */
    double bias_value;  /* magnitude for HL_BIAS_FIXED */
    double lr;          /* base learning rate, > 0 */
    double std0w;       /* initial w ~ N(0, std0w^2), >= 0 */
    double std0v;       /* initial v ~ N(0, std0v^2) in mode 2layer, >= 0 */
} hl_net_config;

typedef struct hl_net {
    hl_net_config cfg;
    float *W;           /* K x D, row-major: W[k*D + i] */
    float *v;           /* K */
    float *b;           /* K */
    float norm, lr_w, lr_v, inv_sqrt_D;
    float *H, *A, *dH;      /* work buffers, max_batch x K */
    float *phi, *gK;        /* work buffers, max_batch and K */
} hl_net;

int hl_net_validate(const hl_net_config *c);
hl_net *hl_net_alloc(const hl_net_config *c);
void hl_net_free(hl_net *n);

/* Draw the initial weights from `rng` (w, then v) and set the biases. */
void hl_net_init(hl_net *n, gsl_rng *rng);

/* act(h) and act'(h). */
float hl_act_value(hl_act a, float h);
float hl_act_deriv(hl_act a, float h);

/* Outputs phi (bs) for inputs X (bs x D), with the preactivations h (bias included)
 * in H (bs x K) and the activations in A (bs x K). Any bs >= 1:
 * the buffers are the caller's, so evaluation can run on large test chunks. */
void hl_net_forward(const hl_net *n, const float *X, int bs, float *H, float *A, float *phi);

/* Batch loss and its gradients (dW: K x D, dv, db: K), without updating. Any of the
 * gradient pointers may be NULL. For tests and diagnostics. */
double hl_net_grad(hl_net *n, const float *X, const float *y, int bs, float *dW, float *dv,
                   float *db);

/* One SGD step on a batch; returns the batch loss before the step. */
double hl_net_step(hl_net *n, const float *X, const float *y, int bs);

/* `steps` online SGD steps (batch size 1) on the rows of X (steps x D) and labels y:
 * the same arithmetic as hl_net_step(..., 1) each time, but each step's weight update
 * is fused with the next sample's forward pass (one pass over W per step), so the sums
 * are taken in another order. Stops early at a loss that is not <= loss_limit (NaN
 * included). Returns the steps done; *loss gets the last step's loss. */
int hl_net_online(hl_net *n, const float *X, const float *y, int steps, double loss_limit,
                  double *loss);

/* Names <-> enums; parse returns -1 for an unknown name. */
const char *hl_mode_name(hl_mode m);
const char *hl_act_name(hl_act a);
const char *hl_bias_name(hl_bias b);
int hl_mode_parse(const char *s);
int hl_act_parse(const char *s);
int hl_bias_parse(const char *s);

/* ---- convolutional student (conv.c) ----------------------------------------------- */

/* A one-layer convolutional student on a ring of L sites (dim 1) or an L x L torus
 * (dim 2: inputs are row-major L x L images, filters k x k), K channels of kernel size k
 * (the comparison network of Ingrosso & Goldt 2022); on the ring:
 *   h_ci  = F_c . x[i - k/2 .. i - k/2 + k - 1] / sqrt(k) + b_c   (sites mod L: periodic
 *           padding, so every output site i sees a window centred on i)
 *   a_c   = (1/L) sum_i act(h_ci)                                  (global average pooling)
 *   phi   = sum_c v_c a_c,     loss = (phi - y)^2 / 2,  labels y = +-1.
 * The readout is fixed at v_c = +-1 alternating (the paper's "fixed +-1 readout") or
 * trained (v ~ N(0, std0v^2), learning rate lr_readout). Biases follow hl_bias: none,
 * trainable (b_c = +-1 alternating at the start, as for the fully connected network:
 * an odd activation of a symmetric input cannot tell the classes apart without one),
 * or fixed at +-bias_value. Float32 weights; a step allocates nothing.
 * On the torus the same with h_c(i,j) = sum_ab F_c[a][b] x[i - k/2 + a][j - k/2 + b] / k
 * (indices mod L) and a_c the mean over the L^2 sites. */
typedef struct hl_conv_config {
    int K;               /* channels, >= 1 */
    int L;               /* ring sites, >= 2 */
    int k;               /* kernel size, 1..L */
    hl_act act;
    hl_bias bias;
    double bias_value;   /* magnitude for HL_BIAS_FIXED */
    int train_readout;   /* 0: v = +-1 alternating, frozen; 1: trained */
    double lr;           /* filters and biases, > 0 */
    double lr_readout;   /* readout (train_readout only), > 0 */
    double std0w;        /* initial F ~ N(0, std0w^2), >= 0 */
    double std0v;        /* initial v ~ N(0, std0v^2) (train_readout only), >= 0 */
    int dim;             /* 1: ring of L sites; 2: L x L torus (L <= 4096) */
} hl_conv_config;

typedef struct hl_conv {
    hl_conv_config cfg;
    float *F;            /* K x k filters, row-major: F[c*k + j] (torus: K x k x k,
                            F[(c*k + a)*k + b]) */
    float *v, *b;        /* K readout weights, K biases */
    float *xe;           /* work: the input wrapped to L + k - 1 sites (a side) */
    float *H, *A, *G;    /* work: K x D preactivations, activations, act'(h) */
    float *a;            /* work: K pooled activations */
    float *dF, *dv, *db; /* work: gradients for hl_conv_step */
} hl_conv;

/* Defaults for a ring of L sites: K = 8, k = 11, erf, trainable biases, fixed
 * readout, lr 0.05, lr_readout 0.05, std0w 0.1, std0v 0.1, dim 1. */
hl_conv_config hl_conv_defaults(int L);
int hl_conv_validate(const hl_conv_config *c);   /* the message names the field */
hl_conv *hl_conv_alloc(const hl_conv_config *c);
/* Taps of one filter (k or k^2) and input sites D (L or L^2) of a configuration. */
size_t hl_conv_taps(const hl_conv_config *c);
size_t hl_conv_sites(const hl_conv_config *c);
void hl_conv_free(hl_conv *n);
/* Draw F (then v, if trained) from rng and set v and b as configured. */
void hl_conv_init(hl_conv *n, gsl_rng *rng);

/* Output phi for one input x (D values); leaves h, act'(h) and a_c in the work buffers. */
double hl_conv_forward(hl_conv *n, const float *x);
/* Loss (phi - y)^2 / 2 of one sample and its gradients (dF: K x k, dv, db: K; any may
 * be NULL; dF: K x taps), without updating. dv is the gradient even when the readout is frozen. */
double hl_conv_grad(hl_conv *n, const float *x, float y, float *dF, float *dv, float *db);
/* One SGD step on one sample; returns the loss before the step. */
double hl_conv_step(hl_conv *n, const float *x, float y);

/* `steps` online SGD steps on fresh samples of `task` (drawn from rng in blocks).
 * HL_EDIVERGED (message gives the step) at a loss that is not finite or exceeds
 * loss_limit; *done (may be NULL) gets the steps done, *loss (may be NULL) the mean
 * loss of the last block. */
struct hl_task;
int hl_conv_train(hl_conv *n, struct hl_task *task, long long steps, double loss_limit,
                  gsl_rng *rng, long long *done, double *loss);
/* Test error (fraction with sign(phi) != y) and mean loss on X (n x D), y (n). */
int hl_conv_eval(hl_conv *n, const float *X, const float *y, size_t ns, double *error,
                 double *loss);
/* One run: hl_conv_init from stream (seed, HL_STREAM_USER + 701), `steps` online steps
 * on samples of stream (seed, HL_STREAM_USER + 700) (loss limit 1e6), then the test
 * error on n_test >= 1 samples of stream (seed, HL_STREAM_USER + 702). */
int hl_conv_run(hl_conv *n, struct hl_task *task, long long steps, unsigned long long seed,
                size_t n_test, double *test_error);

/* ---- receptive fields against filters ---- */

/* w (L values, a ring) shifted circularly so that site round(centre) lands on L/2. */
int hl_rf_align(const float *w, size_t L, double centre, float *out);

/* Best |cosine| between u (L values, a ring) and any of the K filters F (K x k, k <= L)
 * zero-padded to L and shifted circularly over all L positions; which filter, the
 * shift s (filter tap j on site (s + j) mod L) and the sign of the best cosine (any
 * output pointer may be NULL). HL_EINVAL for a zero u or k > L. */
int hl_conv_match(const float *u, size_t L, const float *F, int K, int k, double *best,
                  int *filter, int *shift, int *sign);

/* Tiling of a ring of L sites by n RF centres (sites, any real in [0, L)) of the given
 * widths: the largest circular gap between consecutive centres (L for one centre, NaN
 * for none), the fraction of the L sites within one width (circular distance) of some
 * centre, and the expected largest gap of n centres drawn uniformly at random,
 * (L/n) sum_{j=1..n} 1/j (any output may be NULL). */
int hl_rf_tiling(const double *centre, const double *width, size_t n, size_t L,
                 double *max_gap, double *coverage, double *random_gap);

/* ---- the same on an L x L torus (row-major images, D = L^2) ---- */

/* IPR, centre and width of each of K receptive fields on a torus (W: K x L^2 floats):
 * the centre is (row, column), each the circular mean (hl_cp_ring_width's measure) of
 * w^2 summed over the other axis, in [0, L); the width is the root mean square of the
 * two axes' circular standard deviations (s for an isotropic Gaussian bump of w^2 of
 * standard deviation s sites). centre is K x 2. A zero field gets NaN. */
int hl_rf_torus_widths(const float *W, size_t K, size_t L, double *ipr, double *centre,
                       double *width);

/* w (L x L) shifted circularly so that site round(centre) lands on (L/2, L/2). */
int hl_rf_align_2d(const float *w, size_t L, const double centre[2], float *out);

/* Best |cosine| between u (L x L) and any of the K filters F (K x k x k, k <= L)
 * zero-padded to L x L and shifted circularly over all L^2 positions; the filter, the
 * shift (tap (a, b) on site ((shift[0] + a) mod L, (shift[1] + b) mod L)) and the sign
 * (any output may be NULL). HL_EINVAL for a zero u or k > L. */
int hl_conv_match_2d(const float *u, size_t L, const float *F, int K, int k, double *best,
                     int *filter, int shift[2], int *sign);

/* Tiling of an L x L torus by n RF centres (n x 2, reals in [0, L)) of the given
 * widths (torus distance):
 *   coverage          fraction of the L^2 sites within one width of some centre;
 *   max_empty         the largest empty disc: the largest distance from a site to its
 *                     nearest centre;
 *   nn_mean           mean distance from a centre to its nearest other centre (n >= 2);
 *   random_*          the same two for n centres drawn uniformly on the torus, averaged
 *                     over reps draws from rng (NaN for reps = 0).
 * NaN where undefined (no centre: all but coverage). */
typedef struct hl_rf_tiling2 {
    double coverage, max_empty, nn_mean, random_max_empty, random_nn_mean;
} hl_rf_tiling2;
int hl_rf_tiling_2d(const double *centre, const double *width, size_t n, size_t L, int reps,
                    gsl_rng *rng, hl_rf_tiling2 *out);

/* ---- pruning (prune.c) ------------------------------------------------------------- */

/* Iterative magnitude pruning (IMP) with weight rewinding of the first layer, on the
 * binary task of two data models (Redman, Wang, Ingrosso, Goldt): round 0 trains
 * the dense network online for t = time, remembering every parameter at t = rewind_time;
 * each later round prunes `fraction` of the surviving first-layer weights with the
 * smallest magnitude (per unit, or ranked over the whole layer), rewinds the survivors,
 * v and b to their remembered values and retrains for time - rewind_time with the mask
 * applied after every step (W *= M). Batch size 1, a fresh sample every step. At the end
 * of every round: test error, IPR, preactivation kurtosis and RF width of every unit;
 * after the last round the cavity measurement (hl_prune_cavity) of every surviving
 * weight. n_test must be at least 16 (both classes need samples). Streams (seed, HL_STREAM_USER + 800 + j): j = 0 initialisation, 1 test set,
 * 2 training samples (substream = round). */
enum { HL_PRUNE_SPEC_MAX = 512, HL_PRUNE_MAX_ROUNDS = 64 };

typedef struct hl_prune_config {
    /* Class +1 and class -1 as "name:key=value,..." (hl_model_new), e.g.
     * "nlgp:L=100,xi=2,gain=10" against "nlgp:L=100,xi=6,gain=10" (or "gp:...", the
     * clone). Inputs live on a ring of L = D sites (RF centres and distances). */
    char plus_model[HL_PRUNE_SPEC_MAX], minus_model[HL_PRUNE_SPEC_MAX];
    hl_net_config net;       /* K, mode, act, bias, lr, init; D and max_batch are set
                                by the run */
    double time;             /* training time per round, t = steps / D, > 0 */
    unsigned long long seed;
    size_t n_test;           /* held-out samples for every measurement, >= 1 */
    int rounds;              /* pruning rounds after the dense one, 0..64 */
    double fraction;         /* of the surviving weights pruned per round, (0, 1) */
    double rewind_time;      /* where survivors are rewound to, 0 <= t < time */
    int per_unit;            /* 1: each unit loses `fraction` of its own weights;
                                0: one global ranking over the K x D layer */
} hl_prune_config;

typedef struct hl_prune_result {
    int n_rounds;            /* rounds + 1 rows below (row 0: the dense network) */
    int K, D;                /* D = L, the ring size */
    double *remaining;       /* n_rounds: fraction of first-layer weights left */
    double *test_error;      /* n_rounds */
    double *ipr, *kurtosis;  /* n_rounds x K: per unit, at the end of each round;
                                kurtosis on the whole test set (hl_eval_run) */
    double *kurtosis_class;  /* n_rounds x K: the mean over the two classes of the
                                kurtosis within each class: 0 for Gaussian inputs
                                whatever the weights, unlike the whole set's, which a
                                mixture of two variances makes positive */
    double *width, *centre;  /* n_rounds x K: hl_cp_ring_width of each RF (dim 1) */
    float *W;                /* n_rounds x K x D: first layer at the end of each round */
    /* The cavity measurement after the last round, K x D each, NaN at pruned weights:
     * change of the unit's preactivation excess kurtosis when that one weight is set
     * to zero (within-class kurtosis as kurtosis_class; and on the whole test set),
     * the weight's magnitude, and its ring distance from the unit's RF centre. */
    double *cavity_delta, *cavity_delta_mix, *cavity_magnitude, *cavity_distance;
    int status;              /* HL_OK, or HL_EDIVERGED (rounds up to then are kept) */
    double wall_seconds;
} hl_prune_result;

/* The project's default experiment (L = 100, xi = (2, 6), gain 10, K = 8, 2layer, erf,
 * trainable biases, lr 0.05; see hl_train_defaults) with t = 3000 per round, 6 rounds
 * of 20 %, per unit, rewound to t = 30, 10000 test samples. */
hl_prune_config hl_prune_defaults(void);

/* Check every field; the message names it and its accepted range. */
int hl_prune_validate(const hl_prune_config *c);

/* One IMP run into res (allocated here; free with hl_prune_result_free). Returns HL_OK,
 * HL_EDIVERGED (res holds the rounds finished before) or an error with res empty. */
int hl_prune_run(const hl_prune_config *c, hl_prune_result *res);
void hl_prune_result_free(hl_prune_result *res);

/* Cavity measurement for unit k of `net` on X (n x D): its preactivation
 * l = w_k . x / sqrt(D) has excess kurtosis *kurtosis = E l^4 / (E l^2)^2 - 3 (as
 * hl_eval_run); delta[i] is the excess kurtosis of l - W[k,i] x_i / sqrt(D) minus
 * *kurtosis, NaN where W[k,i] == 0. O(n x nonzero weights). */
int hl_prune_cavity(const hl_net *net, int k, const float *X, size_t n, double *kurtosis,
                    double *delta);

/* Runs res[0..n) pooled: the mean cavity change (and its standard error over the
 * weights; NaN with fewer than 2) in n_bins bins of the distance from the RF centre
 * (by = 0; equal bins over [0, L/2]) or of the relative magnitude |w| / max_i |w_k,i|
 * (by = 1; equal bins over [0, 1]); x gets the bin centres, count the weights. */
int hl_prune_cavity_bins(const hl_prune_result *res, int n, int by, int n_bins, double *x,
                         double *mean, double *se, int *count);

/* Per round, mean over runs (and standard error over runs, NaN for one run) of the
 * unit-averaged IPR, kurtosis, within-class kurtosis and width (width capped at L / 2: a RF without a centre
 * counts as L / 2), of the test error and of the weights left. Each output has
 * res[0].n_rounds values; runs with fewer rounds (diverged) are left out of the later
 * rounds. */
typedef struct hl_prune_summary {   /* pointers to the caller's arrays */
    double *ipr, *ipr_se, *kurtosis, *kurtosis_se, *kurtosis_class, *kurtosis_class_se;
    double *width, *width_se, *test_error, *test_error_se, *remaining;
} hl_prune_summary;
int hl_prune_average(const hl_prune_result *res, int n, hl_prune_summary *out);

/* A result as a file (hl_h5_write_arrays layout: the configuration as root attributes,
 * one dataset per array) and back. Loading checks that the stored configuration is c:
 * HL_EINVAL naming the first field that differs; HL_EIO / HL_EFORMAT if unreadable. */
int hl_prune_save(const char *path, const hl_prune_config *c, const hl_prune_result *res,
                  const char *command_line);
int hl_prune_load(const char *path, const hl_prune_config *c, hl_prune_result *res);

/* Run cfg[0..n) on up to `threads` threads (one run each), each saved to paths[i] as it
 * finishes; a point whose file exists is loaded instead (resumed[i] = 1). status[i]
 * gets each run's code. Returns HL_OK if every run gave HL_OK or HL_EDIVERGED. */
int hl_prune_sweep(const hl_prune_config *cfg, const char *const *paths, int n, int threads,
                   const char *command_line, hl_prune_result *res, int *status,
                   int *resumed);

/* ---- finite-dataset training and random features (fixed_data.c) -------------------- */

/* Training on a FIXED dataset: n_train labelled samples of the task plus_model (+1)
 * against minus_model (-1) (hl_model_new texts) are drawn once and reused for `epochs`
 * passes of mini-batch SGD (hl_net_step), reshuffled every epoch; the test error is
 * measured on n_test fresh samples. Streams (seed, HL_STREAM_USER + 900..903): training
 * set, test set, initialisation, shuffles — a network and its random-features twin with
 * the same seed share data and initial weights.
 *  freeze_first    random features: W and b get learning rate 0 (frozen at their
 *                  initialisation), only v learns; needs mode 2layer.
 *  lr_v            readout rate (2layer; 0: the mode's lr / D).
 *  alpha           output scale (Chizat, Oyallon & Bach): phi -> alpha phi, every rate
 *                  divided by alpha^2; large alpha is the lazy (kernel) regime.
 *  symmetric_init  units k and k + K/2 share w, b and have opposite v: phi = 0 at init
 *                  (K even). */
typedef struct hl_fixed_config {
    hl_net_config net;       /* net.D: 0 (from the models) or the models' dimension;
                                net.max_batch is set to `batch` */
    char plus_model[256], minus_model[256];
    int n_train, n_test;     /* >= 1 each */
    int epochs;              /* >= 1 */
    int batch;               /* 1..n_train; each epoch runs n_train / batch whole batches */
    int freeze_first;
    double lr_v;             /* >= 0 */
    double alpha;            /* > 0 */
    int symmetric_init;
    unsigned long long seed;
} hl_fixed_config;

typedef struct hl_fixed_result {
    double initial_test_error;
    double train_error, train_loss;
    double test_error, test_loss;
    double test_error_se;    /* sqrt(e (1 - e) / n_test) */
    int epochs_done;
    int diverged;            /* 1: a non-finite loss; test_error is then set to 0.5 */
} hl_fixed_result;

/* ReLU, 2layer, no biases, K = 16, w and v ~ N(0, 1), lr 0.05, batch 1, 100 epochs,
 * n_train 1000, n_test 4000, alpha 1, seed 1; the models are left empty. */
hl_fixed_config hl_fixed_defaults(void);
/* HL_EINVAL naming the parameter and its range. */
int hl_fixed_validate(const hl_fixed_config *c);
/* Train and evaluate; HL_EINVAL (bad configuration or models), HL_ENOMEM, or
 * HL_EDIVERGED (results filled in, the network's loss became non-finite). */
int hl_fixed_run(const hl_fixed_config *c, hl_fixed_result *out);

/* ---- simplicity bias: evaluation on several test sets (simplicity.c) --------------- */

/* Train a network by SGD on fresh draws of one task and measure it, at log-spaced
 * times (step 0, then steps log-spaced from 1 to round(time * D)), on several test
 * sets drawn from other tasks: the real data and its Gaussian clones (Refinetti,
 * Ingrosso & Goldt 2023). Every input, trained on or tested on, is mapped
 * x -> (x - shift) * scale first: one global normalisation for both classes.
 * Streams: (seed, HL_STREAM_USER + 1000) initialisation, + 1001 training draws,
 * + 1002 test sets (substream j for set j, drawn before training starts). */
struct hl_task;

typedef struct hl_simp_config {
    hl_net_config net;   /* K, mode, act, bias, lr, std0w, std0v; D and max_batch are
                            set from the task and `batch` */
    int batch;           /* samples per SGD step, 1..2^20 */
    double time;         /* horizon t = steps / D, > 0 */
    int n_meas;          /* measurement times, 2..10000 (repeats after rounding dropped) */
    size_t n_test;       /* samples per test set, >= 1 */
    unsigned long long seed;
    double shift, scale; /* the input map; scale != 0 */
} hl_simp_config;

typedef struct hl_simp_result {
    int n_meas, n_sets;  /* measurements made; test sets */
    long long *steps;    /* n_meas */
    double *t;           /* n_meas: steps / D */
    double *error;       /* n_sets x n_meas, row-major: test error of set j at time i */
    double *loss;        /* n_sets x n_meas: test loss (phi - y)^2 / 2 */
    int status;          /* HL_OK or HL_EDIVERGED */
} hl_simp_result;

/* K = 16, 2layer, erf, trainable biases, lr 0.05, batch 1, t = 100, 25 times,
 * 4000 test samples per set, seed 1, identity input map. */
hl_simp_config hl_simp_defaults(void);
/* Check the fields this file owns (the network's are checked by hl_net_validate);
 * the message names the field and its accepted range. */
int hl_simp_validate(const hl_simp_config *c);

/* Run into *res (free with hl_simp_result_free). The tasks are used one at a time
 * and may be the same object (train on a clone, test on it too). HL_EINVAL naming
 * the bad argument; HL_EDIVERGED with the measurements made so far in res. */
int hl_simp_run(const hl_simp_config *c, struct hl_task *train, struct hl_task *const *tests,
                int n_sets, hl_simp_result *res);
void hl_simp_result_free(hl_simp_result *r);

/* Global pixel mean and standard deviation (pixels byte / 255) of the Fashion-MNIST
 * training images of the given classes, from folder dir (NULL: the default): the
 * shift and scale = 1 / sd that normalise a class pair with one map. */
int hl_simp_pixel_moments(const char *dir, const int *classes, int n_classes, double *mean,
                          double *sd);

/* ---- ten-class student with a softmax readout (multiclass.c) ---------------------- */

/* The C-class student of the ten-class simplicity-bias experiment:
 *   network (K >= 1):  h = W x / sqrt(D) + b (K),  a = erf(h / sqrt 2),  z = V a + c (C)
 *   linear  (K = 0):   z = W x / sqrt(D) + b (C)
 * softmax readout, loss = cross-entropy -log softmax(z)_y, labels y in 0..C-1, the
 * predicted class argmax z. Online SGD (one sample a step), every parameter with the
 * same learning rate lr. Init: W ~ N(0, std0w^2), V ~ N(0, std0v^2 / K), b = c = 0.
 * Float32 weights, OpenBLAS products; a step allocates nothing. */
struct hl_dataset;
struct hl_mixture;

typedef struct hl_mc_net {
    int D, K, C;         /* K = 0: the linear model */
    float *W;            /* K x D (network) or C x D (linear), row-major */
    float *b;            /* K (network) or C (linear) */
    float *V, *c;        /* C x K and C (network only; NULL for the linear model) */
    float lr, inv_sqrt_D;
    float *h, *a, *z, *dz, *dh;   /* one sample's work buffers */
} hl_mc_net;

/* NULL with a message naming D (1..2^24), K (0..65536), C (2..1024) or lr (> 0). */
hl_mc_net *hl_mc_net_alloc(int D, int K, int C, double lr);
void hl_mc_net_free(hl_mc_net *n);
/* Draw W, then V, from rng; zero the biases. */
void hl_mc_net_init(hl_mc_net *n, double std0w, double std0v, gsl_rng *rng);
/* Logits Z (bs x C) of inputs X (bs x D); H (bs x K) is work space (NULL if K = 0). */
void hl_mc_net_logits(const hl_mc_net *n, const float *X, int bs, float *H, float *Z);
/* One sample's loss and its gradients (shapes of W, b, V, c; any may be NULL),
 * without updating. For tests. */
double hl_mc_net_grad(hl_mc_net *n, const float *x, int y, float *dW, float *db, float *dV,
                      float *dc);
/* One SGD step on one sample; returns its loss before the step. */
double hl_mc_net_step(hl_mc_net *n, const float *x, int y);
/* Classification error and mean cross-entropy on m samples (allocates work space). */
int hl_mc_net_eval(const hl_mc_net *n, const float *X, const int *y, size_t m,
                   double *error, double *loss);

/* A labelled source of C classes: draws inputs with their labels 0..C-1. */
typedef struct hl_mc_source hl_mc_source;
/* Images of a dataset drawn uniformly with replacement (so with its class
 * frequencies), pixels byte / 255, labels from the dataset. Borrows d: keep it alive. */
hl_mc_source *hl_mc_source_dataset(const struct hl_dataset *d);
/* The classes of a fitted mixture (a clone), each drawn with its fitted frequency;
 * holds a reference to m. Draws labels first, then each class in one batch. */
hl_mc_source *hl_mc_source_mixture(struct hl_mixture *m);
void hl_mc_source_free(hl_mc_source *s);
size_t hl_mc_source_dim(const hl_mc_source *s);
int hl_mc_source_classes(const hl_mc_source *s);
/* n draws: X (n x D), y (n). A source keeps buffers: one per thread. */
int hl_mc_source_sample(hl_mc_source *s, size_t n, float *X, int *y, gsl_rng *rng);

/* Fashion-MNIST's two splits from folder dir (NULL: the default) and the class-wise
 * Gaussian-mixture clone (gm) and isotropic clone (iso) of all ten classes fitted to
 * the training images (pixels byte / 255). Free with hl_dataset_free /
 * hl_mixture_free; all four NULL on failure. */
int hl_mc_fmnist_fit(const char *dir, struct hl_dataset **train, struct hl_dataset **test,
                     struct hl_mixture **gm, struct hl_mixture **iso);

typedef struct hl_mc_config {
    int K;               /* hidden units; 0: the linear model */
    double lr;           /* > 0 */
    double std0w, std0v; /* initial weight scales, >= 0 */
    double time;         /* horizon t = steps / D, > 0 */
    int n_meas;          /* measurement times, 2..10000 (repeats after rounding dropped) */
    size_t n_test;       /* samples per test set, >= 1 */
    unsigned long long seed;
    double shift, scale; /* the input map x -> (x - shift) * scale; scale != 0 */
} hl_mc_config;

/* K = 16, lr 0.01, std0w 0.1, std0v 1, t = 100, 25 times, 4000 test samples, seed 1,
 * identity map. */
hl_mc_config hl_mc_defaults(void);
int hl_mc_validate(const hl_mc_config *c);
/* As hl_simp_run, with labelled sources of equal D and C: measurements at step 0 and
 * log-spaced steps up to round(time * D); res->error is the classification error and
 * res->loss the cross-entropy (free with hl_simp_result_free). Streams: (seed,
 * HL_STREAM_USER + 1010) init, + 1011 training draws, + 1012 test sets (substream j).
 * HL_EDIVERGED with the measurements made so far. */
int hl_mc_run(const hl_mc_config *c, hl_mc_source *train, hl_mc_source *const *tests,
              int n_sets, hl_simp_result *res);

#ifdef __cplusplus
}
#endif
#endif
