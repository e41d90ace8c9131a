/* field.c — translation-invariant Gaussian fields on a ring or torus, by FFT.
 *
 * The covariance of a translation-invariant field is circulant: the DFT diagonalises
 * it, and its eigenvalues lambda_k are the DFT of its first row. A complex white
 * vector e scaled by sqrt(lambda_k / D) and transformed by one complex FFT gives a
 * vector whose real and imaginary parts are two independent samples with that
 * covariance. Transforms are batched (`pairs` at once, one FFTW plan_many) so that
 * the planner's per-call overhead and the normals' set-up are paid once per batch. */
#include "sampler_impl.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* FFTW's planner is not thread safe; samplers may be built from several threads. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

/* Batch size in transforms: about 256 KB of buffer, between 1 and 32 transforms. */
static size_t batch_pairs(size_t D)
{
    size_t p = (256u << 10) / (sizeof(fftwf_complex) * D);
    return p < 1 ? 1 : p > 32 ? 32 : p;
}

int hl_circulant_spectrum(int dim, int L, const double *row, double *lambda)
{
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    fftw_complex *x = fftw_malloc(sizeof(fftw_complex) * D);
    if (!x)
        return hl_error_set(HL_ENOMEM, "cannot allocate the spectrum buffer (D = %zu)", D);
    pthread_mutex_lock(&planner_lock);
    fftw_plan plan = dim == 1 ? fftw_plan_dft_1d(L, x, x, FFTW_FORWARD, FFTW_ESTIMATE)
                              : fftw_plan_dft_2d(L, L, x, x, FFTW_FORWARD, FFTW_ESTIMATE);
    pthread_mutex_unlock(&planner_lock);
    if (!plan) {
        fftw_free(x);
        return hl_error_set(HL_ENUMERIC, "FFTW could not plan a transform of size %zu", D);
    }
    for (size_t j = 0; j < D; j++) {
        x[j][0] = row[j];
        x[j][1] = 0;
    }
    fftw_execute(plan);
    for (size_t k = 0; k < D; k++)
        lambda[k] = x[k][0]; /* a symmetric row has a real spectrum */
    pthread_mutex_lock(&planner_lock);
    fftw_destroy_plan(plan);
    pthread_mutex_unlock(&planner_lock);
    fftw_free(x);
    return HL_OK;
}

static fftwf_plan plan_many(int dim, int L, size_t howmany, fftwf_complex *buf)
{
    int n[2] = {L, L};
    int D = dim == 1 ? L : L * L;
    /* FFTW_ESTIMATE: the plan, and so every rounding, is the same on every run. */
    return fftwf_plan_many_dft(dim, n, (int)howmany, buf, NULL, 1, D, buf, NULL, 1, D,
                               FFTW_FORWARD, FFTW_ESTIMATE);
}

int hl_field_init(hl_field *f, int dim, int L, const double *row)
{
    memset(f, 0, sizeof *f);
    f->dim = dim;
    f->L = L;
    f->D = dim == 1 ? (size_t)L : (size_t)L * L;
    f->pairs = batch_pairs(f->D);
    size_t D = f->D;
    double *lambda = malloc(sizeof(double) * D);
    f->scale = malloc(sizeof(float) * D);
    f->buf = fftwf_malloc(sizeof(fftwf_complex) * D * f->pairs);
    if (!lambda || !f->scale || !f->buf) {
        free(lambda);
        hl_field_free(f);
        return hl_error_set(HL_ENOMEM, "cannot allocate a Gaussian field with D = %zu", D);
    }
    int rc = hl_circulant_spectrum(dim, L, row, lambda);
    if (rc) {
        free(lambda);
        hl_field_free(f);
        return rc;
    }
    double neg = 0, total = 0;
    for (size_t k = 0; k < D; k++) {
        total += fabs(lambda[k]);
        if (lambda[k] < 0) {
            /* Round-off, or a kernel that is not positive definite on the lattice: clip,
             * and report how much was clipped. */
            neg += -lambda[k];
            f->n_clipped++;
        }
        f->scale[k] = (float)sqrt(fmax(lambda[k], 0) / (double)D);
    }
    f->clipped_fraction = total > 0 ? neg / total : 0;
    free(lambda);
    pthread_mutex_lock(&planner_lock);
    f->plan_batch = plan_many(dim, L, f->pairs, f->buf);
    f->plan_one = plan_many(dim, L, 1, f->buf);
    pthread_mutex_unlock(&planner_lock);
    if (!f->plan_batch || !f->plan_one) {
        hl_field_free(f);
        return hl_error_set(HL_ENUMERIC, "FFTW could not plan a transform of size %zu", D);
    }
    return HL_OK;
}

/* `pairs` transforms of white noise with the field's spectrum, in f->buf. */
static void transform(hl_field *f, size_t pairs, gsl_rng *rng)
{
    size_t D = f->D;
    float *b = (float *)f->buf;
    hl_rng_normals(rng, 2 * D * pairs, b);
    for (size_t p = 0; p < pairs; p++)
        hl_vec_scale_complex(b + 2 * D * p, f->scale, D);
    if (pairs == f->pairs)
        fftwf_execute(f->plan_batch);
    else
        for (size_t p = 0; p < pairs; p++)
            fftwf_execute_dft(f->plan_one, f->buf + D * p, f->buf + D * p);
}

void hl_field_draw(hl_field *f, size_t n, float *out, gsl_rng *rng)
{
    size_t D = f->D;
    for (size_t done = 0; done < n;) {
        size_t want = (n - done + 1) / 2, pairs = want < f->pairs ? want : f->pairs;
        transform(f, pairs, rng);
        for (size_t p = 0; p < pairs; p++, done += 2) {
            const float *c = (const float *)(f->buf + D * p);
            float *x0 = out + done * D, *x1 = x0 + D;
            if (done + 1 < n) { /* both halves in one pass */
                for (size_t j = 0; j < D; j++) {
                    x0[j] = c[2 * j];
                    x1[j] = c[2 * j + 1];
                }
            } else {
                for (size_t j = 0; j < D; j++)
                    x0[j] = c[2 * j];
            }
        }
    }
}

void hl_field_free(hl_field *f)
{
    pthread_mutex_lock(&planner_lock);
    if (f->plan_batch)
        fftwf_destroy_plan(f->plan_batch);
    if (f->plan_one)
        fftwf_destroy_plan(f->plan_one);
    pthread_mutex_unlock(&planner_lock);
    fftwf_free(f->buf);
    free(f->scale);
    memset(f, 0, sizeof *f);
}

/* ---- The circulant Gaussian as a sampler ----------------------------------------- */

typedef struct {
    hl_sampler base;
    hl_field field;
} circulant;

static int circulant_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    hl_field_draw(&((circulant *)base)->field, n, out, rng);
    return HL_OK;
}

static void circulant_destroy(hl_sampler *base)
{
    hl_field_free(&((circulant *)base)->field);
    free(base);
}

static const hl_sampler_ops circulant_ops = {"circulant", circulant_sample,
                                             circulant_destroy, 1};

hl_sampler *hl_circulant_alloc(int dim, int L, const double *row)
{
    if ((dim != 1 && dim != 2) || L < 2) {
        hl_error_set(HL_EINVAL, "circulant field: dim = %d, L = %d: accepted are dim 1 or 2, "
                     "L >= 2", dim, L);
        return NULL;
    }
    circulant *s = calloc(1, sizeof *s);
    if (!s) {
        hl_error_set(HL_ENOMEM, "cannot allocate a circulant Gaussian sampler");
        return NULL;
    }
    if (hl_field_init(&s->field, dim, L, row)) {
        free(s);
        return NULL;
    }
    s->base.ops = &circulant_ops;
    s->base.D = s->field.D;
    s->base.field = &s->field;
    return &s->base;
}

