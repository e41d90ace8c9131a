/* get.c — the Gaussian-equivalent ODEs of online SGD on a mixture of two translation-
 * invariant Gaussian classes: Fourier groups, state, right-hand side, GSL odeiv2
 * driver and the trajectory (the set-up from a trainer configuration is in
 * get_train.c).
 *
 * The equations and their derivation are in theory.h, section "Gaussian-equivalent
 * dynamics"; the Gaussian expectations are in get_expect.c. */
#include "hoclab/theory.h"
#include "hoclab/error.h"

#include "get_impl.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_odeiv2.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Negative eigenvalues are clipped to 0, as the samplers do (hl_sampler_clipping):
 * the clipped spectrum is the covariance the samples actually have. A row whose
 * negative eigenvalues carry more than MAX_CLIPPED of sum |lambda| is no covariance. */
static const double MAX_CLIPPED = 0.05;

void hl_get_defaults(hl_get_params *p)
{
    *p = (hl_get_params){.batch = 1,
                         .noise = 1,
                         .n_points = HL_GET_DEFAULT_POINTS,
                         .stepper = HL_GET_RKCK,
                         .abs_tol = 1e-9,
                         .rel_tol = 1e-7,
                         .h0 = 1e-3,
                         .h_max = HUGE_VAL,
                         .max_steps = 10000000UL,
                         .max_q = 1e8};
}

static int positive(double x) { return x > 0 && isfinite(x); }

static size_t dim_D(const hl_get_params *p)
{
    return p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L;
}

/* The index of -d (or -q) for flat index i of a ring / torus. */
static size_t mirror(int dim, int L, size_t i)
{
    if (dim == 1)
        return (L - i) % L;
    size_t r = i / L, c = i % L;
    return ((L - r) % L) * L + (L - c) % L;
}

static int check_row(const hl_get_params *p, const double *row, const char *name)
{
    if (!row)
        return hl_error_set(HL_EINVAL, "GET: %s is NULL (the class covariance's first row, "
                            "D values)", name);
    size_t D = dim_D(p);
    double m = 0;
    for (size_t i = 0; i < D; i++) {
        if (!isfinite(row[i]))
            return hl_error_set(HL_EINVAL, "GET: %s[%zu] = %g is not finite", name, i, row[i]);
        m = fmax(m, fabs(row[i]));
    }
    if (!(row[0] > 0))
        return hl_error_set(HL_EINVAL, "GET: %s[0] = %g: the variance must be > 0", name,
                            row[0]);
    for (size_t i = 0; i < D; i++) {
        size_t j = mirror(p->dim, p->L, i);
        if (fabs(row[i] - row[j]) > 1e-12 * m)
            return hl_error_set(HL_EINVAL, "GET: %s is not symmetric: %s[%zu] = %.17g but "
                                "%s[%zu] = %.17g (a covariance row has row[d] = row[-d])",
                                name, name, i, row[i], name, j, row[j]);
    }
    return HL_OK;
}

static int check_vector(const double *x, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return hl_error_set(HL_EINVAL, "GET: %s[%zu] = %g is not finite", name, i, x[i]);
    return HL_OK;
}

/* The fields hl_get_expect reads. */
static int check_net(const hl_get_params *p)
{
    const hl_net_config *n = &p->net;
    if (n->K < 1 || n->K > HL_GET_MAX_K)
        return hl_error_set(HL_EINVAL, "GET: net.K = %d: accepted range is 1..%d", n->K,
                            HL_GET_MAX_K);
    if ((unsigned)n->mode > HL_MODE_LAZY)
        return hl_error_set(HL_EINVAL, "GET: net.mode = %d: accepted values are 0 (2layer), "
                            "1 (mf), 2 (lazy)", (int)n->mode);
    if (n->act != HL_ACT_ERF && n->act != HL_ACT_TANH && n->act != HL_ACT_LINEAR &&
        n->act != HL_ACT_CUBIC)
        return hl_error_set(HL_EINVAL, "GET: net.act = %d (%s): accepted are erf, tanh, "
                            "linear and cubic (Stein's lemma needs g'')", (int)n->act,
                            (unsigned)n->act <= HL_ACT_CUBIC ? hl_act_name(n->act) : "?");
    if ((unsigned)n->bias > HL_BIAS_FIXED)
        return hl_error_set(HL_EINVAL, "GET: net.bias = %d: accepted values are 0 (none), "
                            "1 (trainable), 2 (fixed)", (int)n->bias);
    if (!positive(n->lr))
        return hl_error_set(HL_EINVAL, "GET: net.lr = %g: accepted range is lr > 0", n->lr);
    if (n->bias == HL_BIAS_FIXED && !isfinite(n->bias_value))
        return hl_error_set(HL_EINVAL, "GET: net.bias_value = %g must be finite",
                            n->bias_value);
    if (p->n_points < 2 || p->n_points > (1u << 24) || p->n_points % 2)
        return hl_error_set(HL_EINVAL, "GET: n_points = %zu: accepted are even numbers in "
                            "2..%u", p->n_points, 1u << 24);
    return HL_OK;
}

int hl_get_validate(const hl_get_params *p)
{
    int rc;
    if (!p)
        return hl_error_set(HL_EINVAL, "GET: params is NULL");
    if (p->dim != 1 && p->dim != 2)
        return hl_error_set(HL_EINVAL, "GET: dim = %d: accepted values are 1 (ring) and 2 "
                            "(torus)", p->dim);
    int maxL = p->dim == 1 ? 1 << 20 : 1 << 10;
    if (p->L < 2 || p->L > maxL)
        return hl_error_set(HL_EINVAL, "GET: L = %d: accepted range is 2..%d for dim %d",
                            p->L, maxL, p->dim);
    if ((rc = check_net(p)))
        return rc;
    if ((rc = check_row(p, p->row_plus, "row_plus")) ||
        (rc = check_row(p, p->row_minus, "row_minus")))
        return rc;
    const size_t K = p->net.K, D = dim_D(p);
    if (p->batch < 1)
        return hl_error_set(HL_EINVAL, "GET: batch = %d: accepted range is batch >= 1",
                            p->batch);
    if (!p->W0)
        return hl_error_set(HL_EINVAL, "GET: W0 is NULL (the initial weights, K x D)");
    if ((rc = check_vector(p->W0, K * D, "W0")) ||
        (p->v0 && (rc = check_vector(p->v0, K, "v0"))) ||
        (p->b0 && (rc = check_vector(p->b0, K, "b0"))))
        return rc;
    if (p->noise != 0 && p->noise != 1)
        return hl_error_set(HL_EINVAL, "GET: noise = %d: accepted values are 0 (gradient "
                            "flow) and 1 (SGD noise term)", p->noise);
    if ((unsigned)p->stepper > HL_GET_RKCK)
        return hl_error_set(HL_EINVAL, "GET: stepper = %d: accepted values are 0 (rk8pd), "
                            "1 (rkf45), 2 (rkck)", (int)p->stepper);
    if (!positive(p->abs_tol) || !positive(p->rel_tol))
        return hl_error_set(HL_EINVAL, "GET: abs_tol = %g, rel_tol = %g: both must be > 0",
                            p->abs_tol, p->rel_tol);
    if (!positive(p->h0))
        return hl_error_set(HL_EINVAL, "GET: h0 = %g: accepted range is h0 > 0", p->h0);
    if (!(p->h_max > 0))
        return hl_error_set(HL_EINVAL, "GET: h_max = %g: accepted range is h_max > 0 "
                            "(HUGE_VAL: no limit)", p->h_max);
    if (p->max_steps < 1)
        return hl_error_set(HL_EINVAL, "GET: max_steps = 0: accepted range is >= 1");
    if (!positive(p->max_q))
        return hl_error_set(HL_EINVAL, "GET: max_q = %g: accepted range is max_q > 0",
                            p->max_q);
    return HL_OK;
}

static get_model model_of(const hl_net_config *n)
{
    double K = n->K;
    get_model m = {n->K, n->act,
                   n->mode == HL_MODE_MF ? K : n->mode == HL_MODE_LAZY ? sqrt(K) : 1.0};
    return m;
}

int hl_get_expect(const hl_get_params *p, const double *Q, const double *v, const double *b,
                  double y, double *error, double *loss, double *A, double *B, double *psi,
                  double *eg)
{
    int rc;
    if (!p)
        return hl_error_set(HL_EINVAL, "GET expect: params is NULL");
    if ((rc = check_net(p)))
        return rc;
    if (!Q || !v || !b)
        return hl_error_set(HL_EINVAL, "GET expect: Q, v and b must not be NULL");
    if (y != 1 && y != -1)
        return hl_error_set(HL_EINVAL, "GET expect: y = %g: accepted values are +1 and -1", y);
    const size_t K = p->net.K;
    if ((rc = check_vector(Q, K * K, "Q")) || (rc = check_vector(v, K, "v")) ||
        (rc = check_vector(b, K, "b")))
        return rc;
    for (size_t k = 0; k < K; k++)
        for (size_t l = 0; l < k; l++)
            if (Q[k * K + l] != Q[l * K + k])
                return hl_error_set(HL_EINVAL, "GET expect: Q is not symmetric (Q[%zu][%zu] = "
                                    "%g, Q[%zu][%zu] = %g)", k, l, Q[k * K + l], l, k,
                                    Q[l * K + k]);
    get_model m = model_of(&p->net);
    get_points pts;
    if ((rc = get_points_init(&pts, &m, p->n_points)))
        return rc;
    get_moments o = {0, 0, A, B, psi, eg};
    get_expect(&m, &pts, Q, v, b, y, error != NULL, &o);
    get_points_free(&pts);
    if (error)
        *error = o.error;
    if (loss)
        *loss = o.loss;
    return HL_OK;
}

/* ---- Fourier groups -------------------------------------------------------------- */

/* Forward (sign -1) or backward (+1, unnormalised) DFT of n_vec complex vectors of D
 * sites, in place: 1D one transform, 2D rows then columns. */
typedef struct {
    int dim, L;
    gsl_fft_complex_wavetable *wt;
    gsl_fft_complex_workspace *ws;
} dft;

static int dft_init(dft *f, int dim, int L)
{
    f->dim = dim;
    f->L = L;
    f->wt = gsl_fft_complex_wavetable_alloc(L);
    f->ws = gsl_fft_complex_workspace_alloc(L);
    return f->wt && f->ws ? HL_OK : HL_ENOMEM;
}

static void dft_free(dft *f)
{
    if (f->wt)
        gsl_fft_complex_wavetable_free(f->wt);
    if (f->ws)
        gsl_fft_complex_workspace_free(f->ws);
}

static void dft_apply(dft *f, double *z, int sign)
{
    const size_t L = f->L;
    gsl_fft_direction dir = sign < 0 ? gsl_fft_forward : gsl_fft_backward;
    if (f->dim == 1) {
        gsl_fft_complex_transform(z, 1, L, f->wt, f->ws, dir);
        return;
    }
    for (size_t r = 0; r < L; r++)
        gsl_fft_complex_transform(z + 2 * r * L, 1, L, f->wt, f->ws, dir);
    for (size_t c = 0; c < L; c++)
        gsl_fft_complex_transform(z + 2 * c, L, L, f->wt, f->ws, dir);
}

/* Everything fixed during a run. */
typedef struct {
    const hl_get_params *p;
    get_model m;
    int K, P;                  /* units, K(K+1)/2 */
    size_t D, G;               /* sites, groups */
    size_t *rep;               /* G: flat frequency index of each group's representative */
    int *mult;                 /* G */
    double *lp, *lm;           /* G: eigenvalues of C_+, C_- */
    double lr_w, lr_v, noise;  /* noise: lr_w^2 / batch, or 0 */
    int train_v, train_b;
    size_t off_S, off_v, off_b, n_state;
    get_points pts;
    dft f;
    /* work */
    double *Qp, *Qm, *Ap, *Am, *Bp, *Bm, *psip, *psim, *egp, *egm, *M, *Om, *MO;
    double *zbuf;              /* 2 D: one complex vector */
    double err_p, err_m, loss_p, loss_m;
    long n_evals;
    int n_clipped[2];
    double clipped_fraction[2];
} get_ws;

static int pidx(int K, int k, int l)
{
    if (k > l) {
        int t = k;
        k = l;
        l = t;
    }
    return k * K - k * (k - 1) / 2 + (l - k);
}

/* Eigenvalues of the circulant with first row `row` into lam (D), clipped at 0; the
 * number clipped and their share of sum |lambda| into *n_clipped, *fraction. */
static int spectrum(get_ws *w, const double *row, const char *name, double *lam,
                    int *n_clipped, double *fraction)
{
    const size_t D = w->D;
    double *z = w->zbuf, neg = 0, all = 0;
    for (size_t i = 0; i < D; i++) {
        z[2 * i] = row[i];
        z[2 * i + 1] = 0;
    }
    dft_apply(&w->f, z, -1);
    *n_clipped = 0;
    for (size_t i = 0; i < D; i++) {
        double l = z[2 * i];
        all += fabs(l);
        if (l < 0) {
            neg -= l;
            ++*n_clipped;
        }
        lam[i] = fmax(l, 0);
    }
    *fraction = all > 0 ? neg / all : 0;
    if (*fraction > MAX_CLIPPED)
        return hl_error_set(HL_EINVAL, "GET: %s is not positive semi-definite: its negative "
                            "eigenvalues carry %.3g of sum |lambda| (accepted: up to %g, "
                            "clipped to 0)", name, *fraction, MAX_CLIPPED);
    return HL_OK;
}

static void ws_free(get_ws *w)
{
    free(w->rep);
    free(w->mult);
    free(w->lp);
    free(w->lm);
    free(w->Qp);
    free(w->zbuf);
    get_points_free(&w->pts);
    dft_free(&w->f);
}

static int ws_init(get_ws *w, const hl_get_params *p)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->m = model_of(&p->net);
    const int K = p->net.K;
    const size_t D = dim_D(p), KK = (size_t)K * K;
    w->K = K;
    w->P = K * (K + 1) / 2;
    w->D = D;
    switch (p->net.mode) {
    case HL_MODE_2LAYER:
        w->lr_w = p->net.lr;
        w->lr_v = p->net.lr / D;
        break;
    case HL_MODE_MF:
        w->lr_w = p->net.lr * K;
        break;
    case HL_MODE_LAZY:
        w->lr_w = p->net.lr * sqrt((double)K);
        break;
    }
    w->train_v = w->lr_v > 0;
    w->train_b = p->net.bias == HL_BIAS_TRAINABLE;
    w->noise = p->noise ? w->lr_w * w->lr_w / p->batch : 0;
    int rc = get_points_init(&w->pts, &w->m, p->n_points);
    if (rc)
        return rc;
    w->rep = malloc(sizeof(size_t) * D);
    w->mult = malloc(sizeof(int) * D);
    w->lp = malloc(sizeof(double) * D);
    w->lm = malloc(sizeof(double) * D);
    w->zbuf = malloc(sizeof(double) * 2 * D);
    w->Qp = malloc(sizeof(double) * (9 * KK + 4 * K));
    if (!w->rep || !w->mult || !w->lp || !w->lm || !w->zbuf || !w->Qp ||
        dft_init(&w->f, p->dim, p->L)) {
        ws_free(w);
        return hl_error_set(HL_ENOMEM, "GET: cannot allocate work space (K = %d, D = %zu)",
                            K, D);
    }
    w->Qm = w->Qp + KK;
    w->Ap = w->Qm + KK;
    w->Am = w->Ap + KK;
    w->Bp = w->Am + KK;
    w->Bm = w->Bp + KK;
    w->M = w->Bm + KK;
    w->Om = w->M + KK;
    w->MO = w->Om + KK;
    w->psip = w->MO + KK;
    w->psim = w->psip + K;
    w->egp = w->psim + K;
    w->egm = w->egp + K;

    /* Full spectra into lp / lm first, then compacted onto the groups' representatives
     * (indices only grow: rep[g] >= g, so in-place compaction is safe). */
    if ((rc = spectrum(w, p->row_plus, "row_plus", w->lp, &w->n_clipped[0],
                       &w->clipped_fraction[0])) ||
        (rc = spectrum(w, p->row_minus, "row_minus", w->lm, &w->n_clipped[1],
                       &w->clipped_fraction[1]))) {
        ws_free(w);
        return rc;
    }
    size_t G = 0;
    for (size_t i = 0; i < D; i++) {
        size_t j = mirror(p->dim, p->L, i);
        if (i > j)
            continue;
        w->rep[G] = i;
        w->mult[G] = i == j ? 1 : 2;
        /* the two halves of a group have the same eigenvalue up to round-off */
        w->lp[G] = 0.5 * (w->lp[i] + w->lp[j]);
        w->lm[G] = 0.5 * (w->lm[i] + w->lm[j]);
        G++;
    }
    w->G = G;
    w->off_S = G * w->P;
    w->off_v = w->off_S + G * 2 * K;
    w->off_b = w->off_v + K;
    w->n_state = w->off_b + K;
    return HL_OK;
}

/* Q^a = (1/D) sum_g lambda^a_g Omega_g, full K x K. */
static void order_params(const get_ws *w, const double *y, double *Qp, double *Qm)
{
    const int K = w->K, P = w->P;
    memset(Qp, 0, sizeof(double) * K * K);
    memset(Qm, 0, sizeof(double) * K * K);
    for (size_t g = 0; g < w->G; g++) {
        const double *O = y + g * P;
        double lp = w->lp[g], lm = w->lm[g];
        for (int k = 0; k < K; k++)
            for (int l = k; l < K; l++) {
                double o = O[pidx(K, k, l)];
                Qp[k * K + l] += lp * o;
                Qm[k * K + l] += lm * o;
            }
    }
    for (int k = 0; k < K; k++)
        for (int l = k; l < K; l++) {
            Qp[k * K + l] /= w->D;
            Qm[k * K + l] /= w->D;
            Qp[l * K + k] = Qp[k * K + l];
            Qm[l * K + k] = Qm[k * K + l];
        }
}

/* Both classes' expectations at state y (v, b read from it). */
static void moments(get_ws *w, const double *y, int want_error)
{
    order_params(w, y, w->Qp, w->Qm);
    const double *v = y + w->off_v, *b = y + w->off_b;
    get_moments op = {0, 0, w->Ap, w->Bp, w->psip, w->egp};
    get_moments om = {0, 0, w->Am, w->Bm, w->psim, w->egm};
    get_expect(&w->m, &w->pts, w->Qp, v, b, 1.0, want_error, &op);
    get_expect(&w->m, &w->pts, w->Qm, v, b, -1.0, want_error, &om);
    w->err_p = op.error;
    w->err_m = om.error;
    w->loss_p = op.loss;
    w->loss_m = om.loss;
}

static void rhs(get_ws *w, const double *y, double *f)
{
    const int K = w->K, P = w->P;
    const size_t KK = (size_t)K * K;
    moments(w, y, 0);
    w->n_evals++;
    /* the classes are equiprobable: p_a = 1/2 */
    for (size_t g = 0; g < w->G; g++) {
        const double cp = 0.5 * w->lp[g], cm = 0.5 * w->lm[g];
        double *M = w->M, *Om = w->Om, *MO = w->MO;
        for (size_t i = 0; i < KK; i++)
            M[i] = cp * w->Ap[i] + cm * w->Am[i];
        const double *O = y + g * P;
        for (int k = 0; k < K; k++)
            for (int l = 0; l < K; l++)
                Om[k * K + l] = O[pidx(K, k, l)];
        for (int k = 0; k < K; k++)
            for (int l = 0; l < K; l++) {
                double s = 0;
                for (int j = 0; j < K; j++)
                    s += M[k * K + j] * Om[j * K + l];
                MO[k * K + l] = s;
            }
        /* dOmega = -lr_w (M Omega + (M Omega)^T) + noise m_g sum_a p_a lambda^a B^a */
        const double nz = w->noise * w->mult[g];
        double *dO = f + g * P;
        for (int k = 0; k < K; k++)
            for (int l = k; l < K; l++)
                dO[pidx(K, k, l)] = -w->lr_w * (MO[k * K + l] + MO[l * K + k]) +
                                    nz * (cp * w->Bp[k * K + l] + cm * w->Bm[k * K + l]);
        /* dS = -lr_w M S, real and imaginary parts alike */
        const double *S = y + w->off_S + g * 2 * K;
        double *dS = f + w->off_S + g * 2 * K;
        for (int k = 0; k < K; k++) {
            double re = 0, im = 0;
            for (int j = 0; j < K; j++) {
                re += M[k * K + j] * S[2 * j];
                im += M[k * K + j] * S[2 * j + 1];
            }
            dS[2 * k] = -w->lr_w * re;
            dS[2 * k + 1] = -w->lr_w * im;
        }
    }
    const double D = w->D;
    for (int k = 0; k < K; k++) {
        f[w->off_v + k] = w->train_v
                              ? -w->lr_v * D * 0.5 * (w->egp[k] + w->egm[k]) / w->m.norm
                              : 0;
        f[w->off_b + k] = w->train_b ? -w->lr_w * D * 0.5 * (w->psip[k] + w->psim[k]) : 0;
    }
}

/* Past max_q (or not finite) the run has diverged. */
static int diverged(const get_ws *w)
{
    for (int k = 0; k < w->K; k++) {
        double a = w->Qp[k * w->K + k], b = w->Qm[k * w->K + k];
        if (!(a <= w->p->max_q) || !(b <= w->p->max_q))
            return 1;
    }
    return 0;
}

static int ode_rhs(double t, const double y[], double f[], void *params)
{
    (void)t;
    get_ws *w = params;
    rhs(w, y, f);
    if (diverged(w))
        return GSL_EBADFUNC;
    for (size_t i = 0; i < w->n_state; i++)
        if (!isfinite(f[i]))
            return GSL_EBADFUNC;
    return GSL_SUCCESS;
}

/* The state at t = 0 from W0, v0, b0. */
static void initial_state(get_ws *w, double *y)
{
    const hl_get_params *p = w->p;
    const int K = w->K, P = w->P;
    const size_t D = w->D, G = w->G;
    double *z = w->zbuf;
    memset(y, 0, sizeof(double) * w->n_state);
    /* S first (the DFT of each unit), then Omega from S */
    for (int k = 0; k < K; k++) {
        for (size_t i = 0; i < D; i++) {
            z[2 * i] = p->W0[k * D + i];
            z[2 * i + 1] = 0;
        }
        dft_apply(&w->f, z, -1);
        for (size_t g = 0; g < G; g++) {
            y[w->off_S + g * 2 * K + 2 * k] = z[2 * w->rep[g]];
            y[w->off_S + g * 2 * K + 2 * k + 1] = z[2 * w->rep[g] + 1];
        }
    }
    for (size_t g = 0; g < G; g++) {
        const double *S = y + w->off_S + g * 2 * K;
        for (int k = 0; k < K; k++)
            for (int l = k; l < K; l++)
                y[g * P + pidx(K, k, l)] = w->mult[g] / (double)D *
                                           (S[2 * k] * S[2 * l] + S[2 * k + 1] * S[2 * l + 1]);
    }
    for (int k = 0; k < K; k++) {
        double sign = k % 2 ? -1 : 1;
        y[w->off_v + k] = p->v0 ? p->v0[k] : 1;
        y[w->off_b + k] = p->b0                              ? p->b0[k]
                          : p->net.bias == HL_BIAS_TRAINABLE ? sign
                          : p->net.bias == HL_BIAS_FIXED     ? sign * p->net.bias_value
                                                             : 0;
    }
}

void hl_get_traj_free(hl_get_traj *tr)
{
    if (!tr)
        return;
    free(tr->t);
    free(tr->test_error);
    free(tr->test_loss);
    free(tr->Q_plus);
    free(tr->Q_minus);
    free(tr->overlap);
    free(tr->v);
    free(tr->b);
    free(tr->W_mean);
    free(tr->ipr);
    free(tr->power);
    free(tr->lambda_plus);
    free(tr->lambda_minus);
    free(tr->mult);
    free(tr->freq);
    free(tr);
}

static hl_get_traj *traj_alloc(const get_ws *w, size_t n)
{
    hl_get_traj *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    const size_t K = w->K, D = w->D, G = w->G;
    tr->n_times = n;
    tr->K = w->K;
    tr->dim = w->p->dim;
    tr->L = w->p->L;
    tr->D = D;
    tr->n_groups = G;
    tr->t = calloc(n, sizeof(double));
    tr->test_error = calloc(n, sizeof(double));
    tr->test_loss = calloc(n, sizeof(double));
    tr->Q_plus = calloc(n * K * K, sizeof(double));
    tr->Q_minus = calloc(n * K * K, sizeof(double));
    tr->overlap = calloc(n * K * K, sizeof(double));
    tr->v = calloc(n * K, sizeof(double));
    tr->b = calloc(n * K, sizeof(double));
    tr->W_mean = calloc(n * K * D, sizeof(double));
    tr->ipr = calloc(n * K, sizeof(double));
    tr->power = calloc(n * K * G, sizeof(double));
    tr->lambda_plus = malloc(sizeof(double) * G);
    tr->lambda_minus = malloc(sizeof(double) * G);
    tr->mult = malloc(sizeof(int) * G);
    tr->freq = malloc(sizeof(int) * G * w->p->dim);
    if (!tr->t || !tr->test_error || !tr->test_loss || !tr->Q_plus || !tr->Q_minus ||
        !tr->overlap || !tr->v || !tr->b || !tr->W_mean || !tr->ipr || !tr->power ||
        !tr->lambda_plus || !tr->lambda_minus || !tr->mult || !tr->freq) {
        hl_get_traj_free(tr);
        return NULL;
    }
    const int L = w->p->L;
    for (int a = 0; a < 2; a++) {
        tr->n_clipped[a] = w->n_clipped[a];
        tr->clipped_fraction[a] = w->clipped_fraction[a];
    }
    for (size_t g = 0; g < G; g++) {
        tr->lambda_plus[g] = w->lp[g];
        tr->lambda_minus[g] = w->lm[g];
        tr->mult[g] = w->mult[g];
        size_t r = w->rep[g];
        int q[2] = {(int)(r % L), (int)(r / L)};
        if (w->p->dim == 1) {
            tr->freq[g] = q[0] > L / 2 ? q[0] - L : q[0];
        } else {
            tr->freq[2 * g] = q[1] > L / 2 ? q[1] - L : q[1];       /* row axis */
            tr->freq[2 * g + 1] = q[0] > L / 2 ? q[0] - L : q[0];   /* column axis */
        }
    }
    return tr;
}

/* hl_cp_ipr, with 0 for a zero vector (a trajectory can start there). */
static double ipr_of(size_t D, const double *x)
{
    double v = hl_cp_ipr(x, D);
    return isnan(v) ? 0 : v;
}

/* Row j of the trajectory at state y. */
static void record(get_ws *w, hl_get_traj *tr, size_t j, double t, const double *y)
{
    const int K = w->K, P = w->P;
    const size_t D = w->D, G = w->G, KK = (size_t)K * K;
    moments(w, y, 1);
    tr->t[j] = t;
    tr->test_error[j] = 0.5 * (w->err_p + w->err_m);
    tr->test_loss[j] = 0.5 * (w->loss_p + w->loss_m);
    memcpy(tr->Q_plus + j * KK, w->Qp, sizeof(double) * KK);
    memcpy(tr->Q_minus + j * KK, w->Qm, sizeof(double) * KK);
    memcpy(tr->v + j * K, y + w->off_v, sizeof(double) * K);
    memcpy(tr->b + j * K, y + w->off_b, sizeof(double) * K);
    double *R = tr->overlap + j * KK;
    for (size_t g = 0; g < G; g++)
        for (int k = 0; k < K; k++) {
            tr->power[(j * K + k) * G + g] = y[g * P + pidx(K, k, k)];
            for (int l = 0; l < K; l++)
                R[k * K + l] += y[g * P + pidx(K, k, l)] / D;
        }
    /* mean weights: the full spectrum from the representatives (w^(-q) = conj w^(q)),
     * then the inverse DFT */
    double *z = w->zbuf;
    for (int k = 0; k < K; k++) {
        memset(z, 0, sizeof(double) * 2 * D);
        for (size_t g = 0; g < G; g++) {
            const double *S = y + w->off_S + g * 2 * K + 2 * k;
            size_t q = w->rep[g], mq = mirror(w->p->dim, w->p->L, q);
            z[2 * q] = S[0];
            z[2 * q + 1] = S[1];
            z[2 * mq] = S[0];
            z[2 * mq + 1] = q == mq ? S[1] : -S[1];
        }
        dft_apply(&w->f, z, +1);
        double *wk = tr->W_mean + (j * K + k) * D;
        for (size_t i = 0; i < D; i++)
            wk[i] = z[2 * i] / D;
        tr->ipr[j * K + k] = ipr_of(D, wk);
    }
}

static int check_times(const double *times, size_t n)
{
    if (!times || n < 1)
        return hl_error_set(HL_EINVAL, "GET: times: at least one output time is needed");
    for (size_t j = 0; j < n; j++) {
        if (!(times[j] >= 0) || !isfinite(times[j]))
            return hl_error_set(HL_EINVAL, "GET: times[%zu] = %g: accepted range is t >= 0", j,
                                times[j]);
        if (j > 0 && times[j] < times[j - 1])
            return hl_error_set(HL_EINVAL, "GET: times must be non-decreasing (times[%zu] = "
                                "%g < times[%zu] = %g)", j, times[j], j - 1, times[j - 1]);
    }
    return HL_OK;
}

static const gsl_odeiv2_step_type *step_type(hl_get_stepper s)
{
    switch (s) {
    case HL_GET_RKF45: return gsl_odeiv2_step_rkf45;
    case HL_GET_RKCK: return gsl_odeiv2_step_rkck;
    default: return gsl_odeiv2_step_rk8pd;
    }
}

int hl_get_run(const hl_get_params *p, const double *times, size_t n_times,
               hl_get_traj **out)
{
    if (out)
        *out = NULL;
    int rc = hl_get_validate(p);
    if (rc)
        return rc;
    if (!out)
        return hl_error_set(HL_EINVAL, "GET: out is NULL");
    if ((rc = check_times(times, n_times)))
        return rc;
    get_ws w;
    if ((rc = ws_init(&w, p)))
        return rc;
    hl_get_traj *tr = traj_alloc(&w, n_times);
    double *y = malloc(sizeof(double) * w.n_state);
    gsl_odeiv2_system sys = {ode_rhs, NULL, w.n_state, &w};
    gsl_odeiv2_driver *drv = NULL;
    if (!tr || !y ||
        !(drv = gsl_odeiv2_driver_alloc_y_new(&sys, step_type(p->stepper), p->h0, p->abs_tol,
                                              p->rel_tol))) {
        rc = hl_error_set(HL_ENOMEM, "GET: cannot allocate the trajectory or the ODE driver "
                          "(%zu state variables, %zu times)", w.n_state, n_times);
        goto done;
    }
    gsl_odeiv2_driver_set_nmax(drv, p->max_steps);
    if (isfinite(p->h_max))
        gsl_odeiv2_driver_set_hmax(drv, p->h_max);
    initial_state(&w, y);
    double t = 0;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    for (size_t j = 0; j < n_times && !rc; j++) {
        if (times[j] > t) {
            int st = gsl_odeiv2_driver_apply(drv, &t, times[j], y);
            if (st == GSL_EBADFUNC || st == GSL_FAILURE)
                rc = hl_error_set(HL_EDIVERGED, "GET: diverged near t = %g (a diagonal Q past "
                                  "max_q = %g, a value not finite, or the step size "
                                  "vanished)", t, p->max_q);
            else if (st)
                rc = hl_error_set(HL_ENUMERIC, "GET: the ODE driver failed at t = %g on the "
                                  "way to t = %g: %s (max_steps = %lu)", t, times[j],
                                  gsl_strerror(st), p->max_steps);
        }
        if (!rc) {
            record(&w, tr, j, times[j], y);
            tr->n_done = j + 1;
        }
    }
    gsl_set_error_handler(old);
    tr->n_evals = w.n_evals;
done:
    if (drv)
        gsl_odeiv2_driver_free(drv);
    free(y);
    ws_free(&w);
    if (rc == HL_EDIVERGED && tr && tr->n_done > 0)
        *out = tr;
    else if (rc)
        hl_get_traj_free(tr);
    else
        *out = tr;
    return rc;
}
