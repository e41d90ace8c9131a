/* neuron_moments.c — ready-made class moments for the single-neuron flow: C w of a
 * stationary covariance (ring / torus, periodic or open window), of a dense matrix, and
 * dT w^3 of a dense fourth-order tensor or of a CP form. Each is a callback
 * (ctx, w, out) so that any cumulant estimate can plug into hl_neuron_flow. */
#include "hoclab/theory.h"
#include "hoclab/error.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

struct hl_neuron_stationary {
    int dim, L, periodic;
    double *row;   /* D values, row-major in 2D */
};

hl_neuron_stationary *hl_neuron_stationary_alloc(int dim, int L, int periodic,
                                                 const double *row)
{
    if (dim != 1 && dim != 2) {
        hl_error_set(HL_EINVAL, "neuron stationary covariance: dim = %d: accepted values "
                     "are 1 and 2", dim);
        return NULL;
    }
    if (L < 1 || L > (dim == 1 ? 1 << 16 : 256)) {
        hl_error_set(HL_EINVAL, "neuron stationary covariance: L = %d: accepted range is "
                     "1..%d for dim %d (direct O(D^2) products)", L, dim == 1 ? 1 << 16 : 256,
                     dim);
        return NULL;
    }
    if (!row) {
        hl_error_set(HL_EINVAL, "neuron stationary covariance: row is NULL");
        return NULL;
    }
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    hl_neuron_stationary *s = malloc(sizeof *s);
    double *copy = malloc(sizeof(double) * D);
    if (!s || !copy) {
        free(s);
        free(copy);
        hl_error_set(HL_ENOMEM, "neuron stationary covariance: cannot allocate %zu values", D);
        return NULL;
    }
    memcpy(copy, row, sizeof(double) * D);
    *s = (hl_neuron_stationary){dim, L, periodic != 0, copy};
    return s;
}

hl_neuron_stationary *hl_neuron_nlgp_cov_alloc(const hl_nlgp_params *p)
{
    if (!p) {
        hl_error_set(HL_EINVAL, "neuron NLGP covariance: params is NULL");
        return NULL;
    }
    if (hl_nlgp_validate(p))
        return NULL;
    size_t D = p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L;
    double *row = malloc(sizeof(double) * D);
    if (!row) {
        hl_error_set(HL_ENOMEM, "neuron NLGP covariance: cannot allocate %zu values", D);
        return NULL;
    }
    hl_neuron_stationary *s = NULL;
    if (hl_nlgp_covariance_row(p, row) == HL_OK)
        s = hl_neuron_stationary_alloc(p->dim, p->L, p->boundary == HL_BOUNDARY_PERIODIC, row);
    free(row);
    return s;
}

void hl_neuron_stationary_free(hl_neuron_stationary *s)
{
    if (!s)
        return;
    free(s->row);
    free(s);
}

/* sum_j r[d(i, j)] w[j] along one axis of length L, d the periodic or open offset. */
static inline size_t offset(int periodic, int L, int i, int j)
{
    int d = j - i;
    if (periodic)
        return (size_t)(d < 0 ? d + L : d);
    return (size_t)(d < 0 ? -d : d);
}

void hl_neuron_stationary_apply(void *ctx, const double *w, double *Cw)
{
    const hl_neuron_stationary *s = ctx;
    int L = s->L;
    if (s->dim == 1) {
        for (int i = 0; i < L; i++) {
            double acc = 0;
            /* split at j = i so that the inner loops carry no modulo */
            for (int j = 0; j < i; j++)
                acc += s->row[s->periodic ? j - i + L : i - j] * w[j];
            for (int j = i; j < L; j++)
                acc += s->row[j - i] * w[j];
            Cw[i] = acc;
        }
        return;
    }
    for (int ri = 0; ri < L; ri++)
        for (int ci = 0; ci < L; ci++) {
            double acc = 0;
            for (int rj = 0; rj < L; rj++) {
                const double *r = s->row + offset(s->periodic, L, ri, rj) * (size_t)L;
                const double *wr = w + (size_t)rj * L;
                for (int cj = 0; cj < L; cj++)
                    acc += r[offset(s->periodic, L, ci, cj)] * wr[cj];
            }
            Cw[(size_t)ri * L + ci] = acc;
        }
}

void hl_neuron_matrix_apply(void *ctx, const double *w, double *Cw)
{
    const hl_neuron_matrix *m = ctx;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m->D, (int)m->D, 1.0, m->a, (int)m->D, w, 1,
                0.0, Cw, 1);
}

hl_neuron_tensor *hl_neuron_tensor_alloc(size_t D)
{
    if (D < 1 || D > 128) {
        hl_error_set(HL_EINVAL, "neuron tensor: D = %zu: accepted range is 1..128 (D^4 "
                     "doubles)", D);
        return NULL;
    }
    hl_neuron_tensor *t = malloc(sizeof *t);
    double *a = calloc(D * D * D * D, sizeof(double)), *work = malloc(sizeof(double) * D * D);
    if (!t || !a || !work) {
        free(t);
        free(a);
        free(work);
        hl_error_set(HL_ENOMEM, "neuron tensor: cannot allocate %zu^4 doubles", D);
        return NULL;
    }
    *t = (hl_neuron_tensor){D, a, work};
    return t;
}

void hl_neuron_tensor_free(hl_neuron_tensor *t)
{
    if (!t)
        return;
    free(t->t);
    free(t->work);
    free(t);
}

void hl_neuron_tensor_add_rank1(hl_neuron_tensor *t, double gamma, const double *u)
{
    size_t D = t->D;
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            for (size_t k = 0; k < D; k++) {
                double c = gamma * u[i] * u[j] * u[k];
                double *row = t->t + ((i * D + j) * D + k) * D;
                for (size_t l = 0; l < D; l++)
                    row[l] += c * u[l];
            }
}

/* out_i = sum_jkl t_ijkl w_j w_k w_l: first M_ij = sum_kl t_ijkl w_k w_l (each row
 * (i, j) of the tensor as a D x D matrix contracted twice with w), then M w. */
void hl_neuron_tensor_apply(void *ctx, const double *w, double *out)
{
    hl_neuron_tensor *t = ctx;
    int D = (int)t->D, D2 = D * D;
    for (int ij = 0; ij < D2; ij++) {
        const double *a = t->t + (size_t)ij * D2;
        double acc = 0;
        for (int k = 0; k < D; k++) {
            double s = 0;
            for (int l = 0; l < D; l++)
                s += a[k * D + l] * w[l];
            acc += s * w[k];
        }
        t->work[ij] = acc;
    }
    cblas_dgemv(CblasRowMajor, CblasNoTrans, D, D, 1.0, t->work, D, w, 1, 0.0, out, 1);
}

void hl_neuron_cp_apply(void *ctx, const double *w, double *out)
{
    const hl_neuron_cp *c = ctx;
    size_t D = c->D;
    memset(out, 0, sizeof(double) * D);
    for (size_t r = 0; r < c->rank; r++) {
        const double *u = c->U + r * D;
        double s = 0;
        for (size_t i = 0; i < D; i++)
            s += u[i] * w[i];
        double g = c->gamma[r] * s * s * s;
        for (size_t i = 0; i < D; i++)
            out[i] += g * u[i];
    }
}

void hl_neuron_ring_apply(void *ctx, const double *w, double *out)
{
    const hl_neuron_ring *r = ctx;
    hl_cumulant4_apply3(r->L, r->t, w, out);
}
