/* measure.c — IPR, preactivation kurtosis and test error/loss of a network.
 *
 * The test set is pushed through the network in chunks, so memory stays bounded
 * whatever its size and the work is one SGEMM per chunk. Moments are accumulated in
 * double: the kurtosis is a difference of large numbers. */
#include "hoclab/measure.h"
#include "hoclab/error.h"

#include <math.h>
#include <stdlib.h>

enum { CHUNK = 1024 };

struct hl_eval {
    int K;
    float *H, *A, *phi;   /* CHUNK x K, CHUNK x K, CHUNK */
    double *m2, *m4;      /* K */
};

double hl_ipr(const float *w, size_t D)
{
    double s2 = 0, s4 = 0;
    for (size_t i = 0; i < D; i++) {
        double w2 = (double)w[i] * w[i];
        s2 += w2;
        s4 += w2 * w2;
    }
    return s2 > 0 ? s4 / (s2 * s2) : NAN;
}

hl_eval *hl_eval_alloc(int K)
{
    hl_eval *e = calloc(1, sizeof *e);
    if (e) {
        e->K = K;
        e->H = malloc(sizeof(float) * CHUNK * K);
        e->A = malloc(sizeof(float) * CHUNK * K);
        e->phi = malloc(sizeof(float) * CHUNK);
        e->m2 = malloc(sizeof(double) * K);
        e->m4 = malloc(sizeof(double) * K);
    }
    if (!e || !e->H || !e->A || !e->phi || !e->m2 || !e->m4) {
        hl_eval_free(e);
        hl_error_set(HL_ENOMEM, "cannot allocate the test-set workspace (K = %d)", K);
        return NULL;
    }
    return e;
}

void hl_eval_free(hl_eval *e)
{
    if (!e)
        return;
    free(e->H);
    free(e->A);
    free(e->phi);
    free(e->m2);
    free(e->m4);
    free(e);
}

int hl_eval_run(hl_eval *e, const hl_net *net, const float *X, const float *y, size_t n,
                double *test_error, double *test_loss, double *ipr, double *kurtosis)
{
    const int K = net->cfg.K, D = net->cfg.D;
    if (K != e->K)
        return hl_error_set(HL_EINVAL, "evaluator built for K = %d, network has K = %d", e->K,
                            K);
    if (n == 0)
        return hl_error_set(HL_EINVAL, "empty test set");
    size_t wrong = 0;
    double loss = 0;
    for (int k = 0; k < K; k++)
        e->m2[k] = e->m4[k] = 0;
    for (size_t start = 0; start < n; start += CHUNK) {
        int m = (int)(n - start < CHUNK ? n - start : CHUNK);
        hl_net_forward(net, X + start * D, m, e->H, e->A, e->phi);
        for (int s = 0; s < m; s++) {
            float target = y[start + s], out = e->phi[s];
            wrong += (out > 0) != (target > 0);
            loss += 0.5 * (double)(out - target) * (out - target);
            const float *h = e->H + (size_t)s * K;
            for (int k = 0; k < K; k++) {
                double l = (double)h[k] - net->b[k], l2 = l * l; /* preactivation w.x/sqrt D */
                e->m2[k] += l2;
                e->m4[k] += l2 * l2;
            }
        }
    }
    if (test_error)
        *test_error = (double)wrong / n;
    if (test_loss)
        *test_loss = loss / n;
    for (int k = 0; k < K; k++) {
        if (ipr)
            ipr[k] = hl_ipr(net->W + (size_t)k * D, D);
        if (kurtosis) {
            double m2 = e->m2[k] / n, m4 = e->m4[k] / n;
            kurtosis[k] = m2 > 0 ? m4 / (m2 * m2) - 3 : NAN;
        }
    }
    return HL_OK;
}
