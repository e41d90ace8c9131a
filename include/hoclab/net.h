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

#ifdef __cplusplus
}
#endif
#endif
