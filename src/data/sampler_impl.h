/* sampler_impl.h — what a data model implements to be a hl_sampler (private). */
#ifndef HOCLAB_SAMPLER_IMPL_H
#define HOCLAB_SAMPLER_IMPL_H

#include "hoclab/data.h"

typedef struct hl_sampler_ops {
    const char *name;
    /* Draw n samples (n x D floats, row-major) from rng. Must not allocate when called
     * repeatedly with the same or smaller n (the trainer's hot loop calls it). */
    int (*sample)(hl_sampler *s, size_t n, float *out, gsl_rng *rng);
    void (*destroy)(hl_sampler *s);
    /* 1 if the draws depend only on rng (see hl_sampler_is_stateless). */
    int stateless;
} hl_sampler_ops;

/* Every model's struct starts with this header. */
struct hl_sampler {
    const hl_sampler_ops *ops;
    size_t D;
};

/* ---- An FFT engine for translation-invariant Gaussian fields (field.c) ------------- */

#include <fftw3.h>

typedef struct hl_field {
    int dim, L;
    size_t D;
    float *scale;            /* sqrt(max(lambda_k, 0) / D) */
    fftwf_complex *buf;      /* batch of `pairs` transforms, in place */
    fftwf_plan plan_batch;   /* `pairs` transforms at once */
    fftwf_plan plan_one;     /* one transform (remainders) */
    size_t pairs;
    int n_clipped;
    double clipped_fraction;
} hl_field;

/* Set up a field with covariance first row `row` (D doubles). */
int hl_field_init(hl_field *f, int dim, int L, const double *row);
/* n independent samples into out (n x D). Uses ceil(n/2) complex transforms; the
 * numbers depend only on rng and n. */
void hl_field_draw(hl_field *f, size_t n, float *out, gsl_rng *rng);
void hl_field_free(hl_field *f);
/* The eigenvalues of the circulant with first row `row` (FFTW, double precision). */
int hl_circulant_spectrum(int dim, int L, const double *row, double *lambda);

/* ---- Vector kernels (vecmath.c): libmvec through OpenMP simd ---------------------- */

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
/* y <- x * s (complex interleaved x, real per-mode scale s of n modes). */
void hl_vec_scale_complex(float *x, const float *s, size_t n);

#endif
