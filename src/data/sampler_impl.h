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
    /* The Gaussian field the model draws through, if any (set at creation; the
     * structs are zeroed, so models without one leave it NULL): its clipping of
     * negative eigenvalues is the sampler's (hl_sampler_clipping). */
    const struct hl_field *field;
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

#include "vecmath.h"

#endif
