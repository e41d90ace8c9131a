/* sampler.c — the generic sampler calls and the binary-mixture task. */
#include "sampler_impl.h"
#include "hoclab/error.h"

#include <stdlib.h>
#include <string.h>

int hl_sampler_sample(hl_sampler *s, size_t n, float *out, gsl_rng *rng)
{
    return s->ops->sample(s, n, out, rng);
}

size_t hl_sampler_dim(const hl_sampler *s) { return s->D; }

const char *hl_sampler_name(const hl_sampler *s) { return s->ops->name; }

int hl_sampler_is_stateless(const hl_sampler *s) { return s->ops->stateless; }

void hl_sampler_clipping(const hl_sampler *s, int *n_clipped, double *clipped_fraction)
{
    *n_clipped = s->field ? s->field->n_clipped : 0;
    *clipped_fraction = s->field ? s->field->clipped_fraction : 0;
}

void hl_sampler_free(hl_sampler *s)
{
    if (s)
        s->ops->destroy(s);
}

struct hl_task {
    hl_sampler *plus, *minus;
    float *work;          /* class-sorted samples before they are put in label order */
    size_t work_n;        /* capacity of work, in samples */
};

hl_task *hl_task_alloc(hl_sampler *plus, hl_sampler *minus)
{
    if (!plus || !minus) {
        hl_sampler_free(plus);
        hl_sampler_free(minus);
        return NULL; /* the failed allocation has set the message */
    }
    if (plus->D != minus->D) {
        hl_error_set(HL_EINVAL, "the task's classes differ in dimension (%zu vs %zu)",
                     plus->D, minus->D);
        hl_sampler_free(plus);
        hl_sampler_free(minus);
        return NULL;
    }
    hl_task *t = calloc(1, sizeof *t);
    if (!t) {
        hl_error_set(HL_ENOMEM, "cannot allocate a task");
        hl_sampler_free(plus);
        hl_sampler_free(minus);
        return NULL;
    }
    t->plus = plus;
    t->minus = minus;
    return t;
}

void hl_task_free(hl_task *t)
{
    if (!t)
        return;
    hl_sampler_free(t->plus);
    hl_sampler_free(t->minus);
    free(t->work);
    free(t);
}

size_t hl_task_dim(const hl_task *t) { return t->plus->D; }

hl_sampler *hl_task_class(const hl_task *t, int label)
{
    return label > 0 ? t->plus : t->minus;
}

int hl_task_sample(hl_task *t, size_t n, float *X, float *y, gsl_rng *rng)
{
    size_t D = t->plus->D, n_plus = 0;
    /* Labels first, one uniform each, then each class in one call: the samplers work
     * on whole batches, and the label stream does not depend on the models. */
    for (size_t i = 0; i < n; i++) {
        int plus = gsl_rng_uniform(rng) < 0.5;
        y[i] = plus ? 1.0f : -1.0f;
        n_plus += plus;
    }
    if (n > t->work_n) {
        float *w = realloc(t->work, sizeof(float) * n * D);
        if (!w)
            return hl_error_set(HL_ENOMEM, "cannot allocate %zu task samples", n);
        t->work = w;
        t->work_n = n;
    }
    int rc;
    if ((n_plus && (rc = hl_sampler_sample(t->plus, n_plus, t->work, rng))) ||
        (n - n_plus &&
         (rc = hl_sampler_sample(t->minus, n - n_plus, t->work + n_plus * D, rng))))
        return rc;
    const float *p = t->work, *m = t->work + n_plus * D;
    for (size_t i = 0; i < n; i++) {
        const float **src = y[i] > 0 ? &p : &m;
        memcpy(X + i * D, *src, sizeof(float) * D);
        *src += D;
    }
    return HL_OK;
}
