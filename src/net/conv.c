/* conv.c — the convolutional student (one convolutional layer on a ring or an L x L
 * torus, global average pooling, linear readout) and the measures that compare a fully
 * connected network's receptive fields with its filters: circular alignment, best
 * cosine over filters and shifts, and how RF centres tile the ring or the torus.
 *
 * Periodic padding is done once per sample by copying the input into a buffer of
 * L + k - 1 sites (xe; (L + k - 1)^2 on a torus), so that every convolution is a plain
 * contiguous axpy over the output sites of a row, which the compiler vectorises; the
 * forward and backward passes reuse the preactivations and derivatives left in the
 * work buffers. The ring is the torus with one row and one filter row: the same loops
 * serve both, so the ring's arithmetic (and its results, bit for bit) is unchanged. */
#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"

#include "../data/vecmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hl_conv_config hl_conv_defaults(int L)
{
    hl_conv_config c = {.K = 8, .L = L, .k = 11, .act = HL_ACT_ERF,
                        .bias = HL_BIAS_TRAINABLE, .bias_value = 1.0, .train_readout = 0,
                        .lr = 0.05, .lr_readout = 0.05, .std0w = 0.1, .std0v = 0.1, .dim = 1};
    return c;
}

int hl_conv_validate(const hl_conv_config *c)
{
    if (!c)
        return hl_error_set(HL_EINVAL, "conv: config is NULL");
    if (c->K < 1 || c->K > 100000)
        return hl_error_set(HL_EINVAL, "conv: K = %d channels: accepted range is 1..100000",
                            c->K);
    if (c->dim != 1 && c->dim != 2)
        return hl_error_set(HL_EINVAL, "conv: dim = %d: accepted values are 1 (ring) and 2 "
                            "(torus)", c->dim);
    if (c->L < 2 || c->L > (c->dim == 2 ? 4096 : (1 << 20)))
        return hl_error_set(HL_EINVAL, "conv: L = %d sites: accepted range is 2..%d", c->L,
                            c->dim == 2 ? 4096 : 1 << 20);
    if (c->k < 1 || c->k > c->L)
        return hl_error_set(HL_EINVAL, "conv: kernel size k = %d: accepted range is 1..L = %d",
                            c->k, c->L);
    if ((unsigned)c->act > HL_ACT_CUBIC)
        return hl_error_set(HL_EINVAL, "conv: unknown activation %d", (int)c->act);
    if ((unsigned)c->bias > HL_BIAS_FIXED)
        return hl_error_set(HL_EINVAL, "conv: unknown bias kind %d", (int)c->bias);
    if (c->bias == HL_BIAS_FIXED && !isfinite(c->bias_value))
        return hl_error_set(HL_EINVAL, "conv: bias_value = %g must be finite", c->bias_value);
    if (!(c->lr > 0) || !isfinite(c->lr))
        return hl_error_set(HL_EINVAL, "conv: learning rate lr = %g must be > 0", c->lr);
    if (c->train_readout && (!(c->lr_readout > 0) || !isfinite(c->lr_readout)))
        return hl_error_set(HL_EINVAL, "conv: lr_readout = %g must be > 0", c->lr_readout);
    if (!(c->std0w >= 0) || !isfinite(c->std0w))
        return hl_error_set(HL_EINVAL, "conv: std0w = %g must be >= 0", c->std0w);
    if (c->train_readout && (!(c->std0v >= 0) || !isfinite(c->std0v)))
        return hl_error_set(HL_EINVAL, "conv: std0v = %g must be >= 0", c->std0v);
    return HL_OK;
}

void hl_conv_free(hl_conv *n)
{
    if (!n)
        return;
    free(n->F), free(n->v), free(n->b), free(n->xe), free(n->H), free(n->A), free(n->G);
    free(n->a), free(n->dF), free(n->dv), free(n->db);
    free(n);
}

hl_conv *hl_conv_alloc(const hl_conv_config *c)
{
    if (hl_conv_validate(c))
        return NULL;
    hl_conv *n = calloc(1, sizeof *n);
    if (!n) {
        hl_error_set(HL_ENOMEM, "conv: out of memory");
        return NULL;
    }
    n->cfg = *c;
    size_t K = (size_t)c->K, L = (size_t)c->L;
    size_t k = hl_conv_taps(c), D = hl_conv_sites(c);
    size_t rows = c->dim == 2 ? L + (size_t)c->k : 1;   /* padded rows (one spare) */
    n->F = calloc(K * k, sizeof(float));
    n->v = calloc(K, sizeof(float));
    n->b = calloc(K, sizeof(float));
    n->xe = calloc(rows * (L + (size_t)c->k), sizeof(float));
    n->H = calloc(K * D, sizeof(float));
    n->A = calloc(K * D, sizeof(float));
    n->G = calloc(K * D, sizeof(float));
    n->a = calloc(K, sizeof(float));
    n->dF = calloc(K * k, sizeof(float));
    n->dv = calloc(K, sizeof(float));
    n->db = calloc(K, sizeof(float));
    if (!n->F || !n->v || !n->b || !n->xe || !n->H || !n->A || !n->G || !n->a || !n->dF ||
        !n->dv || !n->db) {
        hl_conv_free(n);
        hl_error_set(HL_ENOMEM, "conv: out of memory (K = %zu, L = %zu)", K, L);
        return NULL;
    }
    return n;
}

size_t hl_conv_taps(const hl_conv_config *c)
{
    return c->dim == 2 ? (size_t)c->k * (size_t)c->k : (size_t)c->k;
}

size_t hl_conv_sites(const hl_conv_config *c)
{
    return c->dim == 2 ? (size_t)c->L * (size_t)c->L : (size_t)c->L;
}

void hl_conv_init(hl_conv *n, gsl_rng *rng)
{
    const hl_conv_config *c = &n->cfg;
    for (int i = 0; i < c->K * (int)hl_conv_taps(c); i++)
        n->F[i] = (float)hl_rng_gaussian(rng, c->std0w);
    for (int ch = 0; ch < c->K; ch++) {
        /* alternating signs: half the channels push phi up, half down, as in the
         * fully connected network's +-1 biases */
        float sgn = ch % 2 ? -1.0f : 1.0f;
        n->v[ch] = c->train_readout ? (float)hl_rng_gaussian(rng, c->std0v) : sgn;
        n->b[ch] = c->bias == HL_BIAS_NONE        ? 0.0f
                   : c->bias == HL_BIAS_TRAINABLE ? sgn
                                                   : sgn * (float)c->bias_value;
    }
}

static void activate(hl_act act, const float *H, size_t m, float *A, float *G)
{
    if (act == HL_ACT_ERF) {
        hl_vec_erf_act(H, m, A, G);
    } else if (act == HL_ACT_TANH) {
        hl_vec_tanh_act(H, m, A, G);
    } else {
        for (size_t i = 0; i < m; i++) {
            A[i] = hl_act_value(act, H[i]);
            G[i] = hl_act_deriv(act, H[i]);
        }
    }
}

/* The geometry shared by the forward and backward passes: R output rows of L sites,
 * filters of kr rows of k taps, padded rows of Le = L + k - 1 sites. A ring is one row
 * (R = kr = 1). */
typedef struct {
    int K, L, k, R, kr, Le, D, T;
} geom;

static geom geom_of(const hl_conv_config *c)
{
    geom g = {c->K, c->L, c->k, c->dim == 2 ? c->L : 1, c->dim == 2 ? c->k : 1,
              c->L + c->k - 1, (int)hl_conv_sites(c), (int)hl_conv_taps(c)};
    return g;
}

double hl_conv_forward(hl_conv *n, const float *x)
{
    const geom g = geom_of(&n->cfg);
    const int K = g.K, L = g.L, k = g.k, c0 = k / 2, Le = g.Le, D = g.D;
    const float inv_sqrt_k = 1.0f / sqrtf((float)g.T), inv_L = 1.0f / (float)D;
    /* xe[r][m] = x[(r - c0) mod L][(m - c0) mod L] (a ring: xe[m] = x[(m - c0) mod L]):
     * output site (i, j) sees rows i .. i + kr - 1, columns j .. j + k - 1 of xe */
    for (int r = 0; r < g.R + g.kr - 1; r++) {
        const float *xr = x + (g.R > 1 ? (size_t)(((r - c0) % L + L) % L) * L : 0);
        float *er = n->xe + (size_t)r * Le;
        for (int m = 0; m < Le; m++)
            er[m] = xr[((m - c0) % L + L) % L];
    }
    for (int ch = 0; ch < K; ch++) {
        float *h = n->H + (size_t)ch * D;
        const float *f = n->F + (size_t)ch * g.T;
        for (int i = 0; i < D; i++)
            h[i] = 0.0f;
        for (int a = 0; a < g.kr; a++)
            for (int j = 0; j < k; j++) {
                const float fj = f[a * k + j] * inv_sqrt_k;
                for (int r = 0; r < g.R; r++) {
                    const float *xj = n->xe + (size_t)(r + a) * Le + j;
                    float *hr = h + (size_t)r * L;
                    for (int i = 0; i < L; i++)
                        hr[i] += fj * xj[i];
                }
            }
        for (int i = 0; i < D; i++)
            h[i] += n->b[ch];
    }
    activate(n->cfg.act, n->H, (size_t)K * D, n->A, n->G);
    double phi = 0.0;
    for (int ch = 0; ch < K; ch++) {
        const float *a = n->A + (size_t)ch * D;
        float s = 0.0f;
        for (int i = 0; i < D; i++)
            s += a[i];
        n->a[ch] = s * inv_L;
        phi += (double)n->v[ch] * n->a[ch];
    }
    return phi;
}

double hl_conv_grad(hl_conv *n, const float *x, float y, float *dF, float *dv, float *db)
{
    const geom gm = geom_of(&n->cfg);
    const int K = gm.K, L = gm.L, k = gm.k, Le = gm.Le, D = gm.D;
    const float inv_sqrt_k = 1.0f / sqrtf((float)gm.T), inv_L = 1.0f / (float)D;
    double phi = hl_conv_forward(n, x), err = phi - y;
    for (int ch = 0; ch < K; ch++) {
        if (dv)
            dv[ch] = (float)(err * n->a[ch]);
        /* dloss/dh_ci = err v_c act'(h_ci) / D, kept in G */
        float *g = n->G + (size_t)ch * D;
        const float s = (float)err * n->v[ch] * inv_L;
        float sb = 0.0f;
        for (int i = 0; i < D; i++) {
            g[i] *= s;
            sb += g[i];
        }
        if (db)
            db[ch] = sb;
        for (int a = 0; dF && a < gm.kr; a++)
            for (int j = 0; j < k; j++) {
                float d = 0.0f;
                for (int r = 0; r < gm.R; r++) {
                    const float *xj = n->xe + (size_t)(r + a) * Le + j, *gr = g + (size_t)r * L;
                    for (int i = 0; i < L; i++)
                        d += gr[i] * xj[i];
                }
                dF[(size_t)ch * gm.T + a * k + j] = d * inv_sqrt_k;
            }
    }
    return 0.5 * err * err;
}

double hl_conv_step(hl_conv *n, const float *x, float y)
{
    const hl_conv_config *c = &n->cfg;
    double loss = hl_conv_grad(n, x, y, n->dF, n->dv, n->db);
    const float lr = (float)c->lr, lrv = (float)c->lr_readout;
    for (int i = 0; i < c->K * (int)hl_conv_taps(c); i++)
        n->F[i] -= lr * n->dF[i];
    for (int ch = 0; ch < c->K; ch++) {
        if (c->bias == HL_BIAS_TRAINABLE)
            n->b[ch] -= lr * n->db[ch];
        if (c->train_readout)
            n->v[ch] -= lrv * n->dv[ch];
    }
    return loss;
}

enum { BLOCK = 256 };

int hl_conv_train(hl_conv *n, struct hl_task *task, long long steps, double loss_limit,
                  gsl_rng *rng, long long *done, double *loss)
{
    if (done)
        *done = 0;
    if (!n || !task || !rng)
        return hl_error_set(HL_EINVAL, "conv train: network, task and rng must be given");
    if (steps < 0)
        return hl_error_set(HL_EINVAL, "conv train: steps = %lld must be >= 0", steps);
    if (hl_task_dim(task) != hl_conv_sites(&n->cfg))
        return hl_error_set(HL_EINVAL, "conv train: the task's D = %zu is not %s = %zu",
                            hl_task_dim(task), n->cfg.dim == 2 ? "L^2" : "L",
                            hl_conv_sites(&n->cfg));
    const size_t L = hl_conv_sites(&n->cfg);
    float *X = malloc(sizeof(float) * BLOCK * L), *y = malloc(sizeof(float) * BLOCK);
    if (!X || !y) {
        free(X), free(y);
        return hl_error_set(HL_ENOMEM, "conv train: out of memory");
    }
    int rc = HL_OK;
    double block_loss = NAN;
    long long t = 0;
    while (t < steps && rc == HL_OK) {
        int nb = steps - t < BLOCK ? (int)(steps - t) : BLOCK;
        if ((rc = hl_task_sample(task, (size_t)nb, X, y, rng)))
            break;
        double sum = 0.0;
        for (int s = 0; s < nb; s++, t++) {
            double l = hl_conv_step(n, X + (size_t)s * L, y[s]);
            if (!(l <= loss_limit)) {   /* NaN included */
                rc = hl_error_set(HL_EDIVERGED, "conv train: loss %g at step %lld", l, t);
                break;
            }
            sum += l;
        }
        block_loss = sum / nb;
    }
    free(X), free(y);
    if (done)
        *done = t;
    if (loss)
        *loss = block_loss;
    return rc;
}

int hl_conv_eval(hl_conv *n, const float *X, const float *y, size_t ns, double *error,
                 double *loss)
{
    if (!n || !X || !y || ns < 1)
        return hl_error_set(HL_EINVAL, "conv eval: network, X, y and ns >= 1 must be given");
    size_t wrong = 0;
    double sum = 0.0;
    for (size_t s = 0; s < ns; s++) {
        double phi = hl_conv_forward(n, X + s * hl_conv_sites(&n->cfg));
        wrong += (phi > 0 ? 1.0f : -1.0f) != y[s];
        sum += 0.5 * (phi - y[s]) * (phi - y[s]);
    }
    if (error)
        *error = (double)wrong / (double)ns;
    if (loss)
        *loss = sum / (double)ns;
    return HL_OK;
}

int hl_conv_run(hl_conv *n, struct hl_task *task, long long steps, unsigned long long seed,
                size_t n_test, double *test_error)
{
    if (!n || !task || n_test < 1)
        return hl_error_set(HL_EINVAL, "conv run: network, task and n_test >= 1 must be given");
    const size_t L = hl_conv_sites(&n->cfg);
    gsl_rng *ri = hl_rng_alloc(seed, HL_STREAM_USER + 701);
    gsl_rng *rt = hl_rng_alloc(seed, HL_STREAM_USER + 700);
    gsl_rng *re = hl_rng_alloc(seed, HL_STREAM_USER + 702);
    float *X = malloc(sizeof(float) * n_test * L), *y = malloc(sizeof(float) * n_test);
    int rc;
    if (!ri || !rt || !re || !X || !y) {
        rc = hl_error_set(HL_ENOMEM, "conv run: out of memory (n_test = %zu)", n_test);
        goto out;
    }
    hl_conv_init(n, ri);
    if ((rc = hl_conv_train(n, task, steps, 1e6, rt, NULL, NULL)))
        goto out;
    if ((rc = hl_task_sample(task, n_test, X, y, re)))
        goto out;
    rc = hl_conv_eval(n, X, y, n_test, test_error, NULL);
out:
    hl_rng_free(ri), hl_rng_free(rt), hl_rng_free(re);
    free(X), free(y);
    return rc;
}

/* ---- receptive fields against filters ------------------------------------------------ */

int hl_rf_align(const float *w, size_t L, double centre, float *out)
{
    if (!w || !out || L < 1)
        return hl_error_set(HL_EINVAL, "rf align: w, out and L >= 1 must be given");
    if (!isfinite(centre))
        return hl_error_set(HL_EINVAL, "rf align: centre = %g must be finite", centre);
    long r = lround(centre), half = (long)(L / 2), Ll = (long)L;
    for (long i = 0; i < Ll; i++)
        out[i] = w[(((i + r - half) % Ll) + Ll) % Ll];
    return HL_OK;
}

int hl_conv_match(const float *u, size_t L, const float *F, int K, int k, double *best,
                  int *filter, int *shift, int *sign)
{
    if (!u || !F || L < 1 || K < 1)
        return hl_error_set(HL_EINVAL, "conv match: u, F, L >= 1 and K >= 1 must be given");
    if (k < 1 || (size_t)k > L)
        return hl_error_set(HL_EINVAL, "conv match: kernel size k = %d: accepted range is "
                            "1..L = %zu", k, L);
    double uu = 0.0;
    for (size_t i = 0; i < L; i++)
        uu += (double)u[i] * u[i];
    if (!(uu > 0) || !isfinite(uu))
        return hl_error_set(HL_EINVAL, "conv match: u is zero or not finite");
    double b = 0.0;
    int bf = -1, bs = 0, bsg = 1;
    for (int c = 0; c < K; c++) {
        const float *f = F + (size_t)c * k;
        double ff = 0.0;
        for (int j = 0; j < k; j++)
            ff += (double)f[j] * f[j];
        if (!(ff > 0))
            continue;   /* a zero filter matches nothing */
        double norm = sqrt(ff * uu);
        for (size_t s = 0; s < L; s++) {
            double d = 0.0;
            for (int j = 0; j < k; j++)
                d += (double)f[j] * u[(s + (size_t)j) % L];
            double cs = d / norm;
            if (fabs(cs) > b)
                b = fabs(cs), bf = c, bs = (int)s, bsg = cs < 0 ? -1 : 1;
        }
    }
    if (best)
        *best = b;
    if (filter)
        *filter = bf;
    if (shift)
        *shift = bs;
    if (sign)
        *sign = bsg;
    return HL_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int hl_rf_tiling(const double *centre, const double *width, size_t n, size_t L,
                 double *max_gap, double *coverage, double *random_gap)
{
    if (L < 1 || (n > 0 && (!centre || !width)))
        return hl_error_set(HL_EINVAL, "rf tiling: L >= 1, centres and widths must be given");
    for (size_t m = 0; m < n; m++)
        if (!(centre[m] >= 0 && centre[m] < (double)L) || !(width[m] >= 0))
            return hl_error_set(HL_EINVAL, "rf tiling: centre[%zu] = %g must be in [0, L = %zu) "
                                "and width[%zu] = %g >= 0", m, centre[m], L, m, width[m]);
    double *c = malloc(sizeof(double) * (n ? n : 1));
    if (!c)
        return hl_error_set(HL_ENOMEM, "rf tiling: out of memory");
    memcpy(c, centre, sizeof(double) * n);
    qsort(c, n, sizeof *c, cmp_double);
    double gap = n ? c[0] + (double)L - c[n - 1] : NAN;   /* the gap across site 0 */
    for (size_t m = 1; m < n; m++)
        gap = fmax(gap, c[m] - c[m - 1]);
    free(c);
    size_t covered = 0;
    for (size_t i = 0; i < L; i++)
        for (size_t m = 0; m < n; m++) {
            double d = fabs((double)i - centre[m]);
            d = fmin(d, (double)L - d);
            if (d <= width[m]) {
                covered++;
                break;
            }
        }
    double h = 0.0;
    for (size_t j = 1; j <= n; j++)
        h += 1.0 / (double)j;
    if (max_gap)
        *max_gap = gap;
    if (coverage)
        *coverage = (double)covered / (double)L;
    if (random_gap)
        *random_gap = n ? (double)L / (double)n * h : NAN;
    return HL_OK;
}

/* ---- the same on a torus (dim 2) -------------------------------------------------------- */

/* Circular mean and circular standard deviation (in sites) of the weights p[0..L) on a
 * ring: the 1D measure of hl_cp_ring_width, applied to one axis's marginal. */
static void ring_moments(const double *p, size_t L, double *centre, double *width)
{
    double c = 0.0, s = 0.0, tot = 0.0;
    for (size_t i = 0; i < L; i++) {
        double th = 2.0 * M_PI * (double)i / (double)L;
        c += p[i] * cos(th), s += p[i] * sin(th), tot += p[i];
    }
    double R = hypot(c, s) / tot, m = atan2(s, c) * (double)L / (2.0 * M_PI);
    if (m < 0)
        m += (double)L;
    if (m >= (double)L)
        m -= (double)L;
    *centre = R < 1e-12 ? 0.0 : m;
    *width = R < 1e-12 ? INFINITY : (double)L / (2.0 * M_PI) * sqrt(-2.0 * log(fmin(R, 1.0)));
}

int hl_rf_torus_widths(const float *W, size_t K, size_t L, double *ipr, double *centre,
                       double *width)
{
    if (!W || L < 1 || K < 1)
        return hl_error_set(HL_EINVAL, "rf torus widths: W, K >= 1 and L >= 1 must be given");
    double *mr = malloc(sizeof(double) * 2 * L);
    if (!mr)
        return hl_error_set(HL_ENOMEM, "rf torus widths: out of memory");
    double *mc = mr + L;
    for (size_t u = 0; u < K; u++) {
        const float *w = W + u * L * L;
        double s2 = 0.0, s4 = 0.0;
        for (size_t i = 0; i < L; i++)
            mr[i] = mc[i] = 0.0;
        for (size_t i = 0; i < L; i++)
            for (size_t j = 0; j < L; j++) {
                double q = (double)w[i * L + j] * w[i * L + j];
                s2 += q, s4 += q * q, mr[i] += q, mc[j] += q;
            }
        double cr = NAN, cc = NAN, wr = NAN, wc = NAN, pr = NAN;
        if (s2 > 0 && isfinite(s2)) {
            pr = s4 / (s2 * s2);
            ring_moments(mr, L, &cr, &wr);
            ring_moments(mc, L, &cc, &wc);
        }
        if (ipr)
            ipr[u] = pr;
        if (centre)
            centre[2 * u] = cr, centre[2 * u + 1] = cc;
        if (width)
            width[u] = sqrt(0.5 * (wr * wr + wc * wc));
    }
    free(mr);
    return HL_OK;
}

int hl_rf_align_2d(const float *w, size_t L, const double centre[2], float *out)
{
    if (!w || !out || !centre || L < 1)
        return hl_error_set(HL_EINVAL, "rf align 2d: w, centre, out and L >= 1 must be given");
    if (!isfinite(centre[0]) || !isfinite(centre[1]))
        return hl_error_set(HL_EINVAL, "rf align 2d: centre = (%g, %g) must be finite",
                            centre[0], centre[1]);
    long r0 = lround(centre[0]), r1 = lround(centre[1]), half = (long)(L / 2), Ll = (long)L;
    for (long i = 0; i < Ll; i++) {
        long si = (((i + r0 - half) % Ll) + Ll) % Ll;
        for (long j = 0; j < Ll; j++)
            out[i * Ll + j] = w[si * Ll + (((j + r1 - half) % Ll) + Ll) % Ll];
    }
    return HL_OK;
}

int hl_conv_match_2d(const float *u, size_t L, const float *F, int K, int k, double *best,
                     int *filter, int shift[2], int *sign)
{
    if (!u || !F || L < 1 || K < 1)
        return hl_error_set(HL_EINVAL, "conv match 2d: u, F, L >= 1 and K >= 1 must be given");
    if (k < 1 || (size_t)k > L)
        return hl_error_set(HL_EINVAL, "conv match 2d: kernel size k = %d: accepted range is "
                            "1..L = %zu", k, L);
    double uu = 0.0;
    for (size_t i = 0; i < L * L; i++)
        uu += (double)u[i] * u[i];
    if (!(uu > 0) || !isfinite(uu))
        return hl_error_set(HL_EINVAL, "conv match 2d: u is zero or not finite");
    double b = 0.0;
    int bf = -1, bs0 = 0, bs1 = 0, bsg = 1;
    const size_t T = (size_t)k * k;
    for (int c = 0; c < K; c++) {
        const float *f = F + (size_t)c * T;
        double ff = 0.0;
        for (size_t j = 0; j < T; j++)
            ff += (double)f[j] * f[j];
        if (!(ff > 0))
            continue;
        double norm = sqrt(ff * uu);
        for (size_t s0 = 0; s0 < L; s0++)
            for (size_t s1 = 0; s1 < L; s1++) {
                double d = 0.0;
                for (int a = 0; a < k; a++) {
                    const float *ur = u + ((s0 + (size_t)a) % L) * L;
                    for (int j = 0; j < k; j++)
                        d += (double)f[a * k + j] * ur[(s1 + (size_t)j) % L];
                }
                double cs = d / norm;
                if (fabs(cs) > b)
                    b = fabs(cs), bf = c, bs0 = (int)s0, bs1 = (int)s1, bsg = cs < 0 ? -1 : 1;
            }
    }
    if (best)
        *best = b;
    if (filter)
        *filter = bf;
    if (shift)
        shift[0] = bs0, shift[1] = bs1;
    if (sign)
        *sign = bsg;
    return HL_OK;
}

static double torus_dist(double a0, double a1, double b0, double b1, double L)
{
    double d0 = fabs(a0 - b0), d1 = fabs(a1 - b1);
    d0 = fmin(d0, L - d0), d1 = fmin(d1, L - d1);
    return hypot(d0, d1);
}

/* Largest empty disc (over the sites: the largest distance from a site to its nearest
 * centre) and mean nearest-neighbour distance of n >= 1 centres c (n x 2). */
static void torus_spread(const double *c, size_t n, size_t L, double *empty, double *nn)
{
    double e = 0.0, s = 0.0;
    for (size_t i = 0; i < L; i++)
        for (size_t j = 0; j < L; j++) {
            double m = INFINITY;
            for (size_t q = 0; q < n; q++)
                m = fmin(m, torus_dist((double)i, (double)j, c[2 * q], c[2 * q + 1], (double)L));
            e = fmax(e, m);
        }
    for (size_t p = 0; p < n; p++) {
        double m = INFINITY;
        for (size_t q = 0; q < n; q++)
            if (q != p)
                m = fmin(m, torus_dist(c[2 * p], c[2 * p + 1], c[2 * q], c[2 * q + 1],
                                       (double)L));
        s += m;
    }
    *empty = e;
    *nn = n >= 2 ? s / (double)n : NAN;
}

int hl_rf_tiling_2d(const double *centre, const double *width, size_t n, size_t L, int reps,
                    gsl_rng *rng, hl_rf_tiling2 *out)
{
    if (!out || L < 1 || (n > 0 && (!centre || !width)))
        return hl_error_set(HL_EINVAL, "rf tiling 2d: out, L >= 1, centres and widths must be "
                            "given");
    if (reps < 0 || (reps > 0 && !rng))
        return hl_error_set(HL_EINVAL, "rf tiling 2d: reps = %d must be >= 0 (and an rng "
                            "given when > 0)", reps);
    for (size_t m = 0; m < n; m++)
        if (!(centre[2 * m] >= 0 && centre[2 * m] < (double)L && centre[2 * m + 1] >= 0 &&
              centre[2 * m + 1] < (double)L) || !(width[m] >= 0))
            return hl_error_set(HL_EINVAL, "rf tiling 2d: centre[%zu] = (%g, %g) must be in "
                                "[0, L = %zu)^2 and width[%zu] = %g >= 0", m, centre[2 * m],
                                centre[2 * m + 1], L, m, width[m]);
    hl_rf_tiling2 t = {NAN, NAN, NAN, NAN, NAN};
    size_t covered = 0;
    for (size_t i = 0; i < L; i++)
        for (size_t j = 0; j < L; j++)
            for (size_t m = 0; m < n; m++)
                if (torus_dist((double)i, (double)j, centre[2 * m], centre[2 * m + 1],
                               (double)L) <= width[m]) {
                    covered++;
                    break;
                }
    t.coverage = (double)covered / ((double)L * L);
    if (n > 0) {
        torus_spread(centre, n, L, &t.max_empty, &t.nn_mean);
        double *rc = malloc(sizeof(double) * 2 * n);
        if (!rc)
            return hl_error_set(HL_ENOMEM, "rf tiling 2d: out of memory");
        double se = 0.0, sn = 0.0;
        for (int r = 0; r < reps; r++) {
            for (size_t q = 0; q < 2 * n; q++)
                rc[q] = gsl_rng_uniform(rng) * (double)L;
            double e, nn;
            torus_spread(rc, n, L, &e, &nn);
            se += e, sn += nn;
        }
        free(rc);
        if (reps > 0)
            t.random_max_empty = se / reps, t.random_nn_mean = n >= 2 ? sn / reps : NAN;
    }
    *out = t;
    return HL_OK;
}
