/* get_impl.h — the Gaussian expectations behind the Gaussian-equivalent ODEs (private
 * to get.c and get_expect.c). See theory.h, section "Gaussian-equivalent dynamics". */
#ifndef HOCLAB_GET_IMPL_H
#define HOCLAB_GET_IMPL_H

#include "hoclab/net.h"
#include <stddef.h>

/* The fixed standard-normal points: N = 2 n rows of K, the second half the first
 * negated, each of weight 1/N. NULL z for the linear activation (closed forms). */
typedef struct {
    int K;
    size_t N;
    double *z;       /* N x K */
    double *work;    /* 10 K + 3 K^2 doubles for get_expect */
    int *perm;       /* K: the order of the units in the error's factor */
} get_points;

/* What the expectations depend on besides Q, v, b and y. */
typedef struct {
    int K;
    hl_act act;
    double norm;     /* phi = sum_k v_k g(h_k) / norm */
} get_model;

/* One class's expectations (arrays of the caller: K x K, K x K, K, K). */
typedef struct {
    double error;    /* P((phi > 0) != (y > 0)) */
    double loss;     /* E[e^2] / 2 */
    double *A;       /* E[d psi_k / d lambda_m] */
    double *B;       /* E[psi_k psi_l] */
    double *psi;     /* E[psi_k] */
    double *eg;      /* E[e g(h_k)] */
} get_moments;

/* Points for K units (n_points even; ignored for the linear activation). */
int get_points_init(get_points *pts, const get_model *m, size_t n_points);
void get_points_free(get_points *pts);

/* The expectations over lambda ~ N(0, Q) (Q: K x K, symmetric positive semi-definite),
 * h = lambda + b, label y; the error only if want_error (NaN otherwise: it costs a
 * second pass over the points and the ODE's right-hand side does not need it). */
void get_expect(const get_model *m, get_points *pts, const double *Q, const double *v,
                const double *b, double y, int want_error, get_moments *out);

#endif
