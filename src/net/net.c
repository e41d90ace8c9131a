/* net.c — forward pass, backward pass and SGD step of the two-layer student.
 *
 * The forward and backward passes sit side by side: the backward pass reuses the
 * activations and derivatives the forward pass left in the work buffers. Batch size
 * 1 (the online-SGD default) uses BLAS-2 (sgemv, sger); larger batches BLAS-3. */
#include "hoclab/net.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include "../data/vecmath.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {"2layer", "mf", "lazy"};
static const char *const act_names[] = {"erf", "relu", "tanh", "linear", "cubic"};
static const char *const bias_names[] = {"none", "trainable", "fixed"};

static int parse_name(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *hl_mode_name(hl_mode m) { return mode_names[m]; }
const char *hl_act_name(hl_act a) { return act_names[a]; }
const char *hl_bias_name(hl_bias b) { return bias_names[b]; }
int hl_mode_parse(const char *s) { return parse_name(s, mode_names, 3); }
int hl_act_parse(const char *s) { return parse_name(s, act_names, 5); }
int hl_bias_parse(const char *s) { return parse_name(s, bias_names, 3); }

float hl_act_value(hl_act a, float h)
{
    switch (a) {
    case HL_ACT_ERF: return erff(h * (float)M_SQRT1_2);
    case HL_ACT_RELU: return h > 0 ? h : 0;
    case HL_ACT_TANH: return tanhf(h);
    case HL_ACT_LINEAR: return h;
    case HL_ACT_CUBIC: return (float)HL_CUBIC_ALPHA * h - (float)HL_CUBIC_BETA * h * h * h / 3;
    }
    return 0;
}

float hl_act_deriv(hl_act a, float h)
{
    switch (a) {
    case HL_ACT_ERF: return (float)HL_CUBIC_ALPHA * expf(-0.5f * h * h); /* sqrt(2/pi) e^{-h^2/2} */
    case HL_ACT_RELU: return h > 0 ? 1.0f : 0.0f;
    case HL_ACT_TANH: {
        float t = tanhf(h);
        return 1 - t * t;
    }
    case HL_ACT_LINEAR: return 1;
    case HL_ACT_CUBIC: return (float)HL_CUBIC_ALPHA - (float)HL_CUBIC_BETA * h * h;
    }
    return 0;
}

int hl_net_validate(const hl_net_config *c)
{
    if (c->K < 1 || c->K > 100000)
        return hl_error_set(HL_EINVAL, "K = %d: accepted range is 1..100000", c->K);
    if (c->D < 2)
        return hl_error_set(HL_EINVAL, "input dimension D = %d: must be >= 2", c->D);
    if (c->max_batch < 1)
        return hl_error_set(HL_EINVAL, "batch size %d: must be >= 1", c->max_batch);
    if ((unsigned)c->mode > HL_MODE_LAZY)
        return hl_error_set(HL_EINVAL, "unknown mode %d", (int)c->mode);
    if ((unsigned)c->act > HL_ACT_CUBIC)
        return hl_error_set(HL_EINVAL, "unknown activation %d", (int)c->act);
    if ((unsigned)c->bias > HL_BIAS_FIXED)
        return hl_error_set(HL_EINVAL, "unknown bias kind %d", (int)c->bias);
    if (!(c->lr > 0) || !isfinite(c->lr))
        return hl_error_set(HL_EINVAL, "lr = %g: accepted range is lr > 0", c->lr);
    if (!(c->std0w >= 0) || !(c->std0v >= 0) || !isfinite(c->std0w) || !isfinite(c->std0v))
        return hl_error_set(HL_EINVAL, "initial weight scales must be finite and >= 0");
    if (!isfinite(c->bias_value))
        return hl_error_set(HL_EINVAL, "bias value must be finite");
    return HL_OK;
}

hl_net *hl_net_alloc(const hl_net_config *c)
{
    if (hl_net_validate(c))
        return NULL;
    hl_net *n = calloc(1, sizeof *n);
    if (!n)
        goto nomem;
    n->cfg = *c;
    size_t K = c->K, D = c->D, B = c->max_batch;
    n->W = malloc(sizeof(float) * K * D);
    n->v = malloc(sizeof(float) * K);
    n->b = calloc(K, sizeof(float));
    n->H = malloc(sizeof(float) * B * K);
    n->A = malloc(sizeof(float) * B * K);
    n->dH = malloc(sizeof(float) * B * K);
    n->phi = malloc(sizeof(float) * B);
    n->gK = malloc(sizeof(float) * K);
    if (!n->W || !n->v || !n->b || !n->H || !n->A || !n->dH || !n->phi || !n->gK)
        goto nomem;
    n->inv_sqrt_D = (float)(1 / sqrt((double)D));
    switch (c->mode) {
    case HL_MODE_2LAYER:
        n->norm = 1;
        n->lr_w = (float)c->lr;
        n->lr_v = (float)(c->lr / D);
        break;
    case HL_MODE_MF:
        n->norm = (float)K;
        n->lr_w = (float)(c->lr * K);
        n->lr_v = 0;
        break;
    case HL_MODE_LAZY:
        n->norm = (float)sqrt((double)K);
        n->lr_w = (float)(c->lr * sqrt((double)K));
        n->lr_v = 0;
        break;
    }
    return n;
nomem:
    hl_net_free(n);
    hl_error_set(HL_ENOMEM, "cannot allocate a network with K = %d, D = %d", c->K, c->D);
    return NULL;
}

void hl_net_free(hl_net *n)
{
    if (!n)
        return;
    free(n->W);
    free(n->v);
    free(n->b);
    free(n->H);
    free(n->A);
    free(n->dH);
    free(n->phi);
    free(n->gK);
    free(n);
}

void hl_net_init(hl_net *n, gsl_rng *rng)
{
    const hl_net_config *c = &n->cfg;
    size_t KD = (size_t)c->K * c->D;
    for (size_t i = 0; i < KD; i++)
        n->W[i] = (float)hl_rng_gaussian(rng, c->std0w);
    for (int k = 0; k < c->K; k++) {
        n->v[k] = c->mode == HL_MODE_2LAYER ? (float)hl_rng_gaussian(rng, c->std0v)
                                            : 1.0f;
        /* Alternating signs break the symmetry between units (the authors' +-1 init). */
        float sign = k % 2 ? -1.0f : 1.0f;
        n->b[k] = c->bias == HL_BIAS_TRAINABLE ? sign
                : c->bias == HL_BIAS_FIXED     ? sign * (float)c->bias_value
                                               : 0.0f;
    }
}

/* Activations A and, if G is not NULL, derivatives G of m preactivations H: erf and
 * tanh through the vector kernels (libmvec), the polynomial ones inline. */
static void activate(hl_act act, const float *H, size_t m, float *A, float *G)
{
    switch (act) {
    case HL_ACT_ERF:
        if (G) {
            hl_vec_erf_act(H, m, A, G);
        } else {
            memcpy(A, H, sizeof(float) * m);
            hl_vec_erf(A, m, (float)M_SQRT1_2, 1.0f);
        }
        return;
    case HL_ACT_TANH:
        if (G) {
            hl_vec_tanh_act(H, m, A, G);
        } else {
            memcpy(A, H, sizeof(float) * m);
            hl_vec_tanh(A, m, 1.0f, 1.0f);
        }
        return;
    default:
        for (size_t i = 0; i < m; i++) {
            A[i] = hl_act_value(act, H[i]);
            if (G)
                G[i] = hl_act_deriv(act, H[i]);
        }
    }
}

/* H += b, activations (and derivatives), and the outputs phi, for bs samples. */
static void output(const hl_net *n, int bs, float *H, float *A, float *G, float *phi)
{
    const int K = n->cfg.K;
    for (int s = 0; s < bs; s++)
        for (int k = 0; k < K; k++)
            H[(size_t)s * K + k] += n->b[k];
    activate(n->cfg.act, H, (size_t)bs * K, A, G);
    const float inv_norm = 1 / n->norm;
    for (int s = 0; s < bs; s++) {
        const float *a = A + (size_t)s * K;
        float out = 0;
        for (int k = 0; k < K; k++)
            out += n->v[k] * a[k];
        phi[s] = out * inv_norm;
    }
}

static void preactivations(const hl_net *n, const float *X, int bs, float *H)
{
    const int K = n->cfg.K, D = n->cfg.D;
    if (bs == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, K, D, n->inv_sqrt_D, n->W, D, X, 1, 0.0f, H,
                    1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bs, K, D, n->inv_sqrt_D, X, D,
                    n->W, D, 0.0f, H, K);
}

void hl_net_forward(const hl_net *n, const float *X, int bs, float *H, float *A, float *phi)
{
    preactivations(n, X, bs, H);
    output(n, bs, H, A, NULL, phi);
}

/* dH = d loss / d h from the output errors, with the derivatives already in dH. */
static double errors_to_dH(hl_net *n, const float *y, int bs)
{
    const int K = n->cfg.K;
    const float scale = 1 / (n->norm * bs);
    double loss = 0;
    for (int s = 0; s < bs; s++) {
        float e = n->phi[s] - y[s];
        loss += 0.5 * (double)e * e;
        float *dh = n->dH + (size_t)s * K;
        for (int k = 0; k < K; k++)
            dh[k] *= e * scale * n->v[k];
    }
    return loss / bs;
}

/* Forward, then dH = d loss / d h into n->dH; returns the batch loss. */
static double backward(hl_net *n, const float *X, const float *y, int bs)
{
    preactivations(n, X, bs, n->H);
    output(n, bs, n->H, n->A, n->dH, n->phi);
    return errors_to_dH(n, y, bs);
}

/* d loss / d v_k = sum_s e_s a_sk / (norm bs), e_s the output error of sample s. */
static void grad_v(const hl_net *n, const float *y, int bs, float *dv)
{
    const int K = n->cfg.K;
    const float scale = 1 / (n->norm * bs);
    memset(dv, 0, sizeof(float) * K);
    for (int s = 0; s < bs; s++) {
        float e = (n->phi[s] - y[s]) * scale;
        for (int k = 0; k < K; k++)
            dv[k] += e * n->A[(size_t)s * K + k];
    }
}

static void grad_b(const hl_net *n, int bs, float *db)
{
    const int K = n->cfg.K;
    memset(db, 0, sizeof(float) * K);
    for (int s = 0; s < bs; s++)
        for (int k = 0; k < K; k++)
            db[k] += n->dH[(size_t)s * K + k];
}

double hl_net_grad(hl_net *n, const float *X, const float *y, int bs, float *dW, float *dv,
                   float *db)
{
    const int K = n->cfg.K, D = n->cfg.D;
    double loss = backward(n, X, y, bs);
    if (dW)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, D, bs, n->inv_sqrt_D, n->dH, K,
                    X, D, 0.0f, dW, D);
    if (dv)
        grad_v(n, y, bs, dv);
    if (db)
        grad_b(n, bs, db);
    return loss;
}

static void update_v_b(hl_net *n, const float *y, int bs);

double hl_net_step(hl_net *n, const float *X, const float *y, int bs)
{
    const int K = n->cfg.K, D = n->cfg.D;
    double loss = backward(n, X, y, bs);
    /* Every gradient is taken at the old weights: v and b first, then W in place. */
    update_v_b(n, y, bs);
    const float alpha = -n->lr_w * n->inv_sqrt_D;
    if (bs == 1)
        cblas_sger(CblasRowMajor, K, D, alpha, n->dH, 1, X, 1, n->W, D);
    else
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, D, bs, alpha, n->dH, K, X, D,
                    1.0f, n->W, D);
    return loss;
}

/* v and b updates of a step (their gradients read A and dH, not W). */
static void update_v_b(hl_net *n, const float *y, int bs)
{
    const int K = n->cfg.K;
    if (n->lr_v > 0) {
        grad_v(n, y, bs, n->gK);
        cblas_saxpy(K, -n->lr_v, n->gK, 1, n->v, 1);
    }
    if (n->cfg.bias == HL_BIAS_TRAINABLE) {
        grad_b(n, bs, n->gK);
        cblas_saxpy(K, -n->lr_w, n->gK, 1, n->b, 1);
    }
}

int hl_net_online(hl_net *n, const float *X, const float *y, int steps, double loss_limit,
                  double *loss)
{
    const int K = n->cfg.K, D = n->cfg.D;
    const float alpha = -n->lr_w * n->inv_sqrt_D;
    if (steps < 1)
        return 0;
    /* The first sample's preactivations the usual way; after that each W row is
     * updated and immediately dotted with the next sample, one pass over W per step
     * instead of two (the update and the next forward). */
    preactivations(n, X, 1, n->H);
    for (int t = 0; t < steps; t++) {
        const float *x = X + (size_t)t * D, *xn = x + D;
        output(n, 1, n->H, n->A, n->dH, n->phi);
        double l = errors_to_dH(n, y + t, 1);
        *loss = l;
        if (!(l <= loss_limit))
            return t + 1;
        update_v_b(n, y + t, 1);
        if (t + 1 < steps) {
            for (int k = 0; k < K; k++)
                n->H[k] = hl_vec_axpy_dot(n->W + (size_t)k * D, alpha * n->dH[k], x, xn,
                                          (size_t)D) * n->inv_sqrt_D;
        } else {
            cblas_sger(CblasRowMajor, K, D, alpha, n->dH, 1, x, 1, n->W, D);
        }
    }
    return steps;
}
