/* multiclass.c — the C-class student of the ten-class simplicity-bias experiment: a
 * two-layer network (or a linear model) with a softmax readout and cross-entropy,
 * trained by online SGD on labelled draws and measured at log-spaced times on several
 * labelled test sets (the real images and their Gaussian clones).
 *
 * Why a network of its own: hl_net has one output and a square loss on labels +-1;
 * ten classes need C outputs. Softmax with cross-entropy rather than C square-loss
 * outputs because it is the readout the literature trains on Fashion-MNIST with, and
 * its gradient p - onehot is bounded, so one learning rate serves both the network and
 * the linear model without tuning per class count.
 *
 * Labelled sources: the binary hl_task gives labels +-1 from two samplers; here a
 * source draws labels 0..C-1 with the images: from a loaded dataset (uniformly over
 * its images, so with its class frequencies) or from a fitted class-wise mixture (the
 * clones, classes with the fitted frequencies). Every input passes the same scalar
 * affine map as in simplicity.c, x -> (x - shift) * scale, one map for every class. */
#include "hoclab/net.h"
#include "simplicity_impl.h"

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    STREAM_INIT = HL_STREAM_USER + 1010,   /* network initialisation */
    STREAM_TRAIN = HL_STREAM_USER + 1011,  /* training draws */
    STREAM_TEST = HL_STREAM_USER + 1012,   /* test sets: substream j for set j */
    BLOCK = 1024,                          /* training samples drawn at once */
    CHUNK = 256                            /* test rows per matrix product */
};

/* Beyond this loss the run has diverged (a sane cross-entropy is O(log C)). */
#define LOSS_LIMIT 1e8

/* ---- the network ------------------------------------------------------------------ */

void hl_mc_net_free(hl_mc_net *n)
{
    if (!n)
        return;
    free(n->W);
    free(n->b);
    free(n->V);
    free(n->c);
    free(n->h);
    free(n->a);
    free(n->z);
    free(n->dz);
    free(n->dh);
    free(n);
}

hl_mc_net *hl_mc_net_alloc(int D, int K, int C, double lr)
{
    if (D < 1 || D > 1 << 24) {
        hl_error_set(HL_EINVAL, "multiclass: D %d: accepted range is 1..2^24", D);
        return NULL;
    }
    if (K < 0 || K > 1 << 16) {
        hl_error_set(HL_EINVAL, "multiclass: K %d: accepted range is 0 (linear)..65536", K);
        return NULL;
    }
    if (C < 2 || C > 1024) {
        hl_error_set(HL_EINVAL, "multiclass: C %d: accepted range is 2..1024", C);
        return NULL;
    }
    if (!(lr > 0) || !isfinite(lr)) {
        hl_error_set(HL_EINVAL, "multiclass: lr %g: must be finite and > 0", lr);
        return NULL;
    }
    hl_mc_net *n = calloc(1, sizeof *n);
    if (!n) {
        hl_error_set(HL_ENOMEM, "multiclass: cannot allocate the network");
        return NULL;
    }
    n->D = D, n->K = K, n->C = C;
    n->lr = (float)lr;
    n->inv_sqrt_D = (float)(1 / sqrt((double)D));
    int rows = K ? K : C; /* first layer: K hidden units, or the C outputs directly */
    int ok = (n->W = calloc((size_t)rows * D, sizeof(float))) &&
             (n->b = calloc((size_t)rows, sizeof(float))) &&
             (n->z = calloc((size_t)C, sizeof(float))) &&
             (n->dz = calloc((size_t)C, sizeof(float)));
    if (ok && K)
        ok = (n->V = calloc((size_t)C * K, sizeof(float))) &&
             (n->c = calloc((size_t)C, sizeof(float))) &&
             (n->h = calloc((size_t)K, sizeof(float))) &&
             (n->a = calloc((size_t)K, sizeof(float))) &&
             (n->dh = calloc((size_t)K, sizeof(float)));
    if (!ok) {
        hl_mc_net_free(n);
        hl_error_set(HL_ENOMEM, "multiclass: cannot allocate a network of %d x %d", rows, D);
        return NULL;
    }
    return n;
}

void hl_mc_net_init(hl_mc_net *n, double std0w, double std0v, gsl_rng *rng)
{
    size_t rows = (size_t)(n->K ? n->K : n->C);
    for (size_t i = 0; i < rows * n->D; i++)
        n->W[i] = (float)hl_rng_gaussian(rng, std0w);
    memset(n->b, 0, sizeof(float) * rows);
    if (n->K) {
        double sv = std0v / sqrt((double)n->K);
        for (size_t i = 0; i < (size_t)n->C * n->K; i++)
            n->V[i] = (float)hl_rng_gaussian(rng, sv);
        memset(n->c, 0, sizeof(float) * n->C);
    }
}

/* erf(h / sqrt 2) and its derivative sqrt(2/pi) exp(-h^2 / 2), as hl_net's erf. */
static inline float act(float h)
{
    return erff(h * (float)M_SQRT1_2);
}

static inline float act_deriv(float h)
{
    return (float)(M_2_SQRTPI * M_SQRT1_2) * expf(-0.5f * h * h);
}

/* Cross-entropy -log softmax(z)_y of C logits, computed stably; with p non-NULL the
 * softmax probabilities minus the one-hot label go there (dLoss / dz). */
static double xent(const float *z, int C, int y, float *dz)
{
    float zmax = z[0];
    for (int j = 1; j < C; j++)
        if (z[j] > zmax)
            zmax = z[j];
    double s = 0;
    for (int j = 0; j < C; j++)
        s += exp((double)(z[j] - zmax));
    double lse = zmax + log(s);
    if (dz) {
        for (int j = 0; j < C; j++)
            dz[j] = (float)(exp((double)z[j] - lse));
        dz[y] -= 1;
    }
    return lse - z[y];
}

/* Forward pass of one sample into n->h, a, z, and the backward pass into n->dz and
 * n->dh (the gradient with respect to the hidden preactivations). Returns the loss. */
static double forward_backward(hl_mc_net *n, const float *x, int y)
{
    const int D = n->D, K = n->K, C = n->C;
    if (!K) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, C, D, n->inv_sqrt_D, n->W, D, x, 1, 0, n->z,
                    1);
        for (int j = 0; j < C; j++)
            n->z[j] += n->b[j];
        return xent(n->z, C, y, n->dz);
    }
    cblas_sgemv(CblasRowMajor, CblasNoTrans, K, D, n->inv_sqrt_D, n->W, D, x, 1, 0, n->h, 1);
    for (int k = 0; k < K; k++) {
        n->h[k] += n->b[k];
        n->a[k] = act(n->h[k]);
    }
    memcpy(n->z, n->c, sizeof(float) * C);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, C, K, 1, n->V, K, n->a, 1, 1, n->z, 1);
    double loss = xent(n->z, C, y, n->dz);
    /* dh = (V^T dz) * act'(h), before V moves */
    cblas_sgemv(CblasRowMajor, CblasTrans, C, K, 1, n->V, K, n->dz, 1, 0, n->dh, 1);
    for (int k = 0; k < K; k++)
        n->dh[k] *= act_deriv(n->h[k]);
    return loss;
}

double hl_mc_net_grad(hl_mc_net *n, const float *x, int y, float *dW, float *db, float *dV,
                      float *dc)
{
    double loss = forward_backward(n, x, y);
    const int D = n->D, rows = n->K ? n->K : n->C;
    const float *g = n->K ? n->dh : n->dz; /* gradient of the first layer's outputs */
    if (dW)
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < D; i++)
                dW[(size_t)r * D + i] = g[r] * x[i] * n->inv_sqrt_D;
    if (db)
        memcpy(db, g, sizeof(float) * rows);
    if (n->K && dV)
        for (int j = 0; j < n->C; j++)
            for (int k = 0; k < n->K; k++)
                dV[(size_t)j * n->K + k] = n->dz[j] * n->a[k];
    if (n->K && dc)
        memcpy(dc, n->dz, sizeof(float) * n->C);
    return loss;
}

double hl_mc_net_step(hl_mc_net *n, const float *x, int y)
{
    double loss = forward_backward(n, x, y);
    const int D = n->D, K = n->K, C = n->C, rows = K ? K : C;
    const float lr = n->lr, *g = K ? n->dh : n->dz;
    if (K) {
        cblas_sger(CblasRowMajor, C, K, -lr, n->dz, 1, n->a, 1, n->V, K);
        for (int j = 0; j < C; j++)
            n->c[j] -= lr * n->dz[j];
    }
    cblas_sger(CblasRowMajor, rows, D, -lr * n->inv_sqrt_D, g, 1, x, 1, n->W, D);
    for (int r = 0; r < rows; r++)
        n->b[r] -= lr * g[r];
    return loss;
}

void hl_mc_net_logits(const hl_mc_net *n, const float *X, int bs, float *H, float *Z)
{
    const int D = n->D, K = n->K, C = n->C;
    if (!K) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bs, C, D, n->inv_sqrt_D, X, D,
                    n->W, D, 0, Z, C);
        for (int s = 0; s < bs; s++)
            for (int j = 0; j < C; j++)
                Z[(size_t)s * C + j] += n->b[j];
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bs, K, D, n->inv_sqrt_D, X, D, n->W,
                D, 0, H, K);
    for (int s = 0; s < bs; s++) {
        float *hs = H + (size_t)s * K;
        for (int k = 0; k < K; k++)
            hs[k] = act(hs[k] + n->b[k]);
        memcpy(Z + (size_t)s * C, n->c, sizeof(float) * C);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, bs, C, K, 1, H, K, n->V, K, 1, Z, C);
}

int hl_mc_net_eval(const hl_mc_net *n, const float *X, const int *y, size_t m, double *error,
                   double *loss)
{
    if (!n || !X || !y || m < 1)
        return hl_error_set(HL_EINVAL, "multiclass eval: network, inputs and labels needed, "
                            "m %zu >= 1", m);
    const int C = n->C, K = n->K;
    float *Z = malloc(sizeof(float) * CHUNK * C);
    float *H = K ? malloc(sizeof(float) * CHUNK * K) : NULL;
    if (!Z || (K && !H)) {
        free(Z);
        free(H);
        return hl_error_set(HL_ENOMEM, "multiclass eval: cannot allocate work buffers");
    }
    size_t wrong = 0;
    double sum = 0;
    for (size_t s0 = 0; s0 < m; s0 += CHUNK) {
        int bs = m - s0 < CHUNK ? (int)(m - s0) : CHUNK;
        hl_mc_net_logits(n, X + s0 * n->D, bs, H, Z);
        for (int s = 0; s < bs; s++) {
            const float *z = Z + (size_t)s * C;
            int best = 0, label = y[s0 + s];
            for (int j = 1; j < C; j++)
                if (z[j] > z[best])
                    best = j;
            wrong += best != label;
            sum += label >= 0 && label < C ? xent(z, C, label, NULL) : INFINITY;
        }
    }
    free(Z);
    free(H);
    if (error)
        *error = (double)wrong / (double)m;
    if (loss)
        *loss = sum / (double)m;
    return HL_OK;
}

/* ---- labelled sources ------------------------------------------------------------- */

struct hl_mc_source {
    size_t D;
    int C;
    const hl_dataset *data;  /* dataset source (borrowed), or NULL */
    hl_sampler **cls;        /* mixture source: one sampler per class */
    double *cum;             /* cumulative class frequencies, C */
    size_t *count;           /* draws per class in the current call, C */
    float *buf;              /* one class's draws before they are scattered */
    size_t cap;              /* rows buf holds */
};

void hl_mc_source_free(hl_mc_source *s)
{
    if (!s)
        return;
    if (s->cls)
        for (int c = 0; c < s->C; c++)
            hl_sampler_free(s->cls[c]);
    free(s->cls);
    free(s->cum);
    free(s->count);
    free(s->buf);
    free(s);
}

hl_mc_source *hl_mc_source_dataset(const hl_dataset *d)
{
    if (!d || !d->n || !d->pixels || !d->labels || d->rows < 1 || d->cols < 1 ||
        d->n_classes < 2) {
        hl_error_set(HL_EINVAL, "multiclass source: the dataset is empty or has fewer than 2 "
                     "classes");
        return NULL;
    }
    hl_mc_source *s = calloc(1, sizeof *s);
    if (!s) {
        hl_error_set(HL_ENOMEM, "multiclass source: out of memory");
        return NULL;
    }
    s->D = (size_t)d->rows * d->cols;
    s->C = d->n_classes;
    s->data = d;
    return s;
}

hl_mc_source *hl_mc_source_mixture(hl_mixture *m)
{
    int C = m ? hl_mixture_n_classes(m) : 0;
    if (C < 2) {
        hl_error_set(HL_EINVAL, "multiclass source: the mixture is NULL or has %d classes; "
                     "needs at least 2", C);
        return NULL;
    }
    hl_mc_source *s = calloc(1, sizeof *s);
    if (!s || !(s->cls = calloc((size_t)C, sizeof *s->cls)) ||
        !(s->cum = malloc(sizeof(double) * C)) || !(s->count = malloc(sizeof(size_t) * C))) {
        hl_mc_source_free(s);
        hl_error_set(HL_ENOMEM, "multiclass source: out of memory");
        return NULL;
    }
    s->D = hl_mixture_dim(m);
    s->C = C;
    double total = 0, run = 0;
    for (int c = 0; c < C; c++)
        total += (double)hl_mixture_count(m, c);
    for (int c = 0; c < C; c++) {
        run += (double)hl_mixture_count(m, c);
        s->cum[c] = run / total;
        if (!(s->cls[c] = hl_mixture_sampler(m, &c, 1))) {
            hl_mc_source_free(s);
            return NULL;
        }
    }
    return s;
}

size_t hl_mc_source_dim(const hl_mc_source *s)
{
    return s ? s->D : 0;
}

int hl_mc_source_classes(const hl_mc_source *s)
{
    return s ? s->C : 0;
}

int hl_mc_source_sample(hl_mc_source *s, size_t n, float *X, int *y, gsl_rng *rng)
{
    if (!s || !X || !y || !rng)
        return hl_error_set(HL_EINVAL, "multiclass source: source, X, y and rng needed");
    const size_t D = s->D;
    if (s->data) {
        const hl_dataset *d = s->data;
        for (size_t i = 0; i < n; i++) {
            size_t r = gsl_rng_uniform_int(rng, d->n);
            const unsigned char *p = d->pixels + r * D;
            float *x = X + i * D;
            for (size_t q = 0; q < D; q++)
                x[q] = p[q] * (1.0f / 255);
            y[i] = d->labels[r];
        }
        return HL_OK;
    }
    /* Labels first (one uniform each), then each class's draws in one batch (one
     * triangular multiply for the full clone), scattered back to its rows. */
    memset(s->count, 0, sizeof(size_t) * s->C);
    for (size_t i = 0; i < n; i++) {
        double u = gsl_rng_uniform(rng);
        int c = 0;
        while (c < s->C - 1 && u >= s->cum[c])
            c++;
        y[i] = c;
        s->count[c]++;
    }
    for (int c = 0; c < s->C; c++) {
        size_t nc = s->count[c];
        if (!nc)
            continue;
        if (nc > s->cap) {
            float *b = realloc(s->buf, sizeof(float) * nc * D);
            if (!b)
                return hl_error_set(HL_ENOMEM, "multiclass source: cannot allocate %zu draws",
                                    nc);
            s->buf = b, s->cap = nc;
        }
        int rc = hl_sampler_sample(s->cls[c], nc, s->buf, rng);
        if (rc)
            return rc;
        for (size_t i = 0, r = 0; i < n; i++)
            if (y[i] == c)
                memcpy(X + i * D, s->buf + D * r++, sizeof(float) * D);
    }
    return HL_OK;
}

int hl_mc_fmnist_fit(const char *dir, hl_dataset **train, hl_dataset **test, hl_mixture **gm,
                     hl_mixture **iso)
{
    if (!train || !test || !gm || !iso)
        return hl_error_set(HL_EINVAL, "multiclass: train, test, gm and iso must not be NULL");
    *train = *test = NULL;
    *gm = *iso = NULL;
    int rc = hl_fmnist_load(dir, "train", train);
    if (!rc)
        rc = hl_fmnist_load(dir, "test", test);
    float *X = NULL;
    if (!rc) {
        size_t D = (size_t)(*train)->rows * (*train)->cols;
        if (!(X = malloc(sizeof(float) * (*train)->n * D)))
            rc = hl_error_set(HL_ENOMEM, "multiclass: cannot allocate %zu training images",
                              (*train)->n);
        else {
            hl_dataset_floats(*train, X);
            rc = hl_mixture_fit(X, (*train)->labels, (*train)->n, D, (*train)->n_classes, 0,
                                gm);
            if (!rc)
                rc = hl_mixture_fit(X, (*train)->labels, (*train)->n, D,
                                    (*train)->n_classes, 1, iso);
        }
    }
    free(X);
    if (rc) {
        hl_dataset_free(*train);
        hl_dataset_free(*test);
        hl_mixture_free(*gm);
        hl_mixture_free(*iso);
        *train = *test = NULL;
        *gm = *iso = NULL;
    }
    return rc;
}

/* ---- the run ---------------------------------------------------------------------- */

hl_mc_config hl_mc_defaults(void)
{
    hl_mc_config c = {.K = 16, .lr = 0.01, .std0w = 0.1, .std0v = 1, .time = 100,
                      .n_meas = 25, .n_test = 4000, .seed = 1, .shift = 0, .scale = 1};
    return c;
}

int hl_mc_validate(const hl_mc_config *c)
{
    if (!c)
        return hl_error_set(HL_EINVAL, "multiclass: config is NULL");
    if (c->K < 0 || c->K > 1 << 16)
        return hl_error_set(HL_EINVAL, "multiclass: K %d: accepted range is 0 (linear)..65536",
                            c->K);
    if (!(c->lr > 0) || !isfinite(c->lr))
        return hl_error_set(HL_EINVAL, "multiclass: lr %g: must be finite and > 0", c->lr);
    if (!(c->std0w >= 0) || !(c->std0v >= 0) || !isfinite(c->std0w) || !isfinite(c->std0v))
        return hl_error_set(HL_EINVAL, "multiclass: std0w %g, std0v %g: must be finite and "
                            ">= 0", c->std0w, c->std0v);
    return hl_simp_check_plan("multiclass", c->time, c->n_meas, c->n_test, c->shift,
                              c->scale);
}

static int check_sources(hl_mc_source *train, hl_mc_source *const *tests, int n_sets)
{
    if (!train)
        return hl_error_set(HL_EINVAL, "multiclass: train source is NULL");
    if (n_sets < 1 || n_sets > 64 || !tests)
        return hl_error_set(HL_EINVAL, "multiclass: n_sets %d: accepted range is 1..64",
                            n_sets);
    for (int j = 0; j < n_sets; j++) {
        if (!tests[j])
            return hl_error_set(HL_EINVAL, "multiclass: test source %d is NULL", j);
        if (tests[j]->D != train->D)
            return hl_error_set(HL_EINVAL, "multiclass: test source %d has D = %zu, the train "
                                "source D = %zu", j, tests[j]->D, train->D);
        if (tests[j]->C != train->C)
            return hl_error_set(HL_EINVAL, "multiclass: test source %d has %d classes, the "
                                "train source %d", j, tests[j]->C, train->C);
    }
    return HL_OK;
}

int hl_mc_run(const hl_mc_config *c, hl_mc_source *train, hl_mc_source *const *tests,
              int n_sets, hl_simp_result *res)
{
    int rc;
    if (!res)
        return hl_error_set(HL_EINVAL, "multiclass: result is NULL");
    memset(res, 0, sizeof *res);
    if ((rc = hl_mc_validate(c)) || (rc = check_sources(train, tests, n_sets)))
        return rc;
    const size_t D = train->D, nt = c->n_test;
    long long S = llround(c->time * (double)D);
    if (S < 1)
        S = 1;
    const int stride = c->n_meas + 1; /* rows of error/loss until compacted */
    res->n_sets = n_sets;
    res->steps = malloc(sizeof *res->steps * stride);
    res->t = malloc(sizeof *res->t * stride);
    res->error = malloc(sizeof *res->error * stride * n_sets);
    res->loss = malloc(sizeof *res->loss * stride * n_sets);
    float *Xt = malloc(sizeof(float) * nt * D * n_sets);
    int *yt = malloc(sizeof(int) * nt * n_sets);
    float *Xb = malloc(sizeof(float) * BLOCK * D);
    int *yb = malloc(sizeof(int) * BLOCK);
    hl_mc_net *net = NULL;
    gsl_rng *ri = hl_rng_alloc(c->seed, STREAM_INIT), *rt = hl_rng_alloc(c->seed, STREAM_TRAIN);
    if (!res->steps || !res->t || !res->error || !res->loss || !Xt || !yt || !Xb || !yb ||
        !ri || !rt) {
        rc = hl_error_set(HL_ENOMEM, "multiclass: cannot allocate %d test sets of %zu x %zu",
                          n_sets, nt, D);
        goto out;
    }
    if (!(net = hl_mc_net_alloc((int)D, c->K, train->C, c->lr))) {
        rc = HL_ENOMEM;
        goto out;
    }
    /* Test sets first, so that a run may train on a source it also tests on. */
    for (int j = 0; j < n_sets; j++) {
        gsl_rng *r = hl_rng_alloc(c->seed, STREAM_TEST);
        if (!r) {
            rc = hl_error_set(HL_ENOMEM, "multiclass: cannot allocate a generator");
            goto out;
        }
        hl_rng_substream(r, (uint32_t)j);
        rc = hl_mc_source_sample(tests[j], nt, Xt + (size_t)j * nt * D, yt + (size_t)j * nt, r);
        hl_rng_free(r);
        if (rc)
            goto out;
        hl_simp_affine(Xt + (size_t)j * nt * D, nt * D, (float)c->shift, (float)c->scale);
    }
    hl_mc_net_init(net, c->std0w, c->std0v, ri);
    int nm = hl_simp_log_steps(S, c->n_meas, res->steps);

    long long step = 0;
    for (int i = 0; i < nm; i++) {
        while (step < res->steps[i]) {
            long long todo = res->steps[i] - step;
            int nb = todo < BLOCK ? (int)todo : BLOCK;
            if ((rc = hl_mc_source_sample(train, (size_t)nb, Xb, yb, rt)))
                goto out;
            hl_simp_affine(Xb, (size_t)nb * D, (float)c->shift, (float)c->scale);
            for (int s = 0; s < nb; s++, step++) {
                double loss = hl_mc_net_step(net, Xb + (size_t)s * D, yb[s]);
                if (!(loss <= LOSS_LIMIT)) {
                    res->status = HL_EDIVERGED;
                    rc = hl_error_set(HL_EDIVERGED, "multiclass: diverged at step %lld (loss "
                                      "%g); lower the learning rate", step, loss);
                    goto out;
                }
            }
        }
        for (int j = 0; j < n_sets; j++)
            if ((rc = hl_mc_net_eval(net, Xt + (size_t)j * nt * D, yt + (size_t)j * nt, nt,
                                     &res->error[(size_t)j * stride + i],
                                     &res->loss[(size_t)j * stride + i])))
                goto out;
        res->t[i] = (double)res->steps[i] / (double)D;
        res->n_meas = i + 1;
    }
out:
    /* Compact the rows: error and loss are n_sets x n_meas with the measurements made. */
    if (res->error && res->loss)
        for (int j = 1; j < n_sets; j++) {
            memmove(res->error + (size_t)j * res->n_meas, res->error + (size_t)j * stride,
                    sizeof(double) * res->n_meas);
            memmove(res->loss + (size_t)j * res->n_meas, res->loss + (size_t)j * stride,
                    sizeof(double) * res->n_meas);
        }
    if (rc && rc != HL_EDIVERGED)
        hl_simp_result_free(res);
    hl_mc_net_free(net);
    hl_rng_free(ri);
    hl_rng_free(rt);
    free(Xt);
    free(yt);
    free(Xb);
    free(yb);
    return rc;
}
