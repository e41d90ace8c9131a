/* vecmath.h — vectorised elementwise kernels shared by the samplers and the network
 * (private; see vecmath.c for how they are built and why every element takes the
 * vector path). */
#ifndef HOCLAB_VECMATH_H
#define HOCLAB_VECMATH_H

#include <stddef.h>
#include <stdint.h>

/* Philox4x32 (Random123) of the nb counters ctr with word 3 ORed with n0, n0 + 1, ...:
 * word j of block b goes to w[j * nb + b] (4 nb words). */
void hl_vec_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t n0, size_t nb,
                   uint32_t *w);
/* Box–Muller on nb Philox blocks laid out as hl_vec_philox leaves them: 4 nb standard
 * normals, four per block b, (words 0, 1) and (words 2, 3) making one pair each. */
void hl_vec_boxmuller(const uint32_t *w, size_t nb, float *out);
/* x <- erf(a x) * s, elementwise. */
void hl_vec_erf(float *x, size_t n, float a, float s);
/* x <- tanh(a x) * s, elementwise. */
void hl_vec_tanh(float *x, size_t n, float a, float s);
/* x <- sign(x) * s (sign(0) = 0), elementwise. */
void hl_vec_sign(float *x, size_t n, float s);
/* Network kernels: activation a and derivative d of erf(h / sqrt 2) or tanh(h). */
void hl_vec_erf_act(const float *h, size_t n, float *a, float *d);
void hl_vec_tanh_act(const float *h, size_t n, float *a, float *d);
/* w <- w + a x, returning (new w) . xn: an SGD update fused with the next forward. */
float hl_vec_axpy_dot(float *w, float a, const float *x, const float *xn, size_t n);
/* y <- x * s (complex interleaved x, real per-mode scale s of n modes). */
void hl_vec_scale_complex(float *x, const float *s, size_t n);

#endif
