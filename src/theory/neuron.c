/* neuron.c — the single-neuron gradient flow driven by the class covariances and
 * fourth cumulants, integrated with GSL's adaptive Runge-Kutta driver, and the online
 * SGD of the same neuron that the flow is the small-learning-rate limit of.
 *
 * The right-hand side and the approximation behind it (labels drop out for symmetric
 * classes; the sixth moment dropped or closed at fourth order) are derived in
 * theory.h, section "Single neuron". */
#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "hoclab/net.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void hl_neuron_flow_defaults(hl_neuron_flow_params *p)
{
    *p = (hl_neuron_flow_params){.alpha = HL_CUBIC_ALPHA,
                                 .beta = HL_CUBIC_BETA,
                                 .sixth = HL_NEURON_SIXTH_CLOSED,
                                 .stepper = HL_NEURON_RK8PD,
                                 .abs_tol = 1e-10,
                                 .rel_tol = 1e-10,
                                 .h0 = 1e-3,
                                 .max_norm = 1e6,
                                 .max_steps = 10000000UL};
}

static int positive(double x) { return x > 0 && isfinite(x); }

int hl_neuron_flow_validate(const hl_neuron_flow_params *p)
{
    if (!p)
        return hl_error_set(HL_EINVAL, "neuron flow: params is NULL");
    if (p->D < 1)
        return hl_error_set(HL_EINVAL, "neuron flow: D = %zu: accepted range is D >= 1", p->D);
    if (p->n_classes < 1 || p->n_classes > HL_NEURON_MAX_CLASSES)
        return hl_error_set(HL_EINVAL, "neuron flow: n_classes = %d: accepted range is 1..%d",
                            p->n_classes, HL_NEURON_MAX_CLASSES);
    if (!p->classes)
        return hl_error_set(HL_EINVAL, "neuron flow: classes is NULL (n_classes = %d)",
                            p->n_classes);
    for (int m = 0; m < p->n_classes; m++)
        if (!p->classes[m].cov)
            return hl_error_set(HL_EINVAL, "neuron flow: classes[%d].cov is NULL (every "
                                "class needs its covariance)", m);
    if (!isfinite(p->alpha) || !isfinite(p->beta))
        return hl_error_set(HL_EINVAL, "neuron flow: alpha = %g, beta = %g: both must be "
                            "finite", p->alpha, p->beta);
    if (!isfinite(p->bias))
        return hl_error_set(HL_EINVAL, "neuron flow: bias = %g must be finite", p->bias);
    if (!p->labels && p->n_classes > 2)
        return hl_error_set(HL_EINVAL, "neuron flow: labels is NULL with n_classes = %d: "
                            "only 1 or 2 classes take the default labels +1, -1",
                            p->n_classes);
    for (int m = 0; p->labels && m < p->n_classes; m++)
        if (!isfinite(p->labels[m]))
            return hl_error_set(HL_EINVAL, "neuron flow: labels[%d] = %g must be finite", m,
                                p->labels[m]);
    if ((unsigned)p->sixth > HL_NEURON_SIXTH_NONE)
        return hl_error_set(HL_EINVAL, "neuron flow: sixth = %d: accepted values are 0 "
                            "(closed) and 1 (none)", (int)p->sixth);
    if ((unsigned)p->stepper > HL_NEURON_RKF45)
        return hl_error_set(HL_EINVAL, "neuron flow: stepper = %d: accepted values are 0 "
                            "(rk8pd) and 1 (rkf45)", (int)p->stepper);
    if (!positive(p->abs_tol) || !positive(p->rel_tol))
        return hl_error_set(HL_EINVAL, "neuron flow: abs_tol = %g, rel_tol = %g: both must "
                            "be > 0", p->abs_tol, p->rel_tol);
    if (!positive(p->h0))
        return hl_error_set(HL_EINVAL, "neuron flow: h0 = %g: accepted range is h0 > 0",
                            p->h0);
    if (!positive(p->max_norm))
        return hl_error_set(HL_EINVAL, "neuron flow: max_norm = %g: accepted range is "
                            "max_norm > 0", p->max_norm);
    if (p->max_steps < 1)
        return hl_error_set(HL_EINVAL, "neuron flow: max_steps = 0: accepted range is >= 1");
    return HL_OK;
}

static double dot(size_t n, const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* The label of class m: labels[m], or +1, -1 alternating (hl_task's order). */
static double class_label(const hl_neuron_flow_params *p, int m)
{
    return p->labels ? p->labels[m] : (m % 2 ? -1.0 : 1.0);
}

/* Coefficients of C w (g) and of dT w^3 (t) in class m's term; see theory.h. The
 * product P(h) = (y - sigma(h + b)) sigma'(h + b) = sum_n p_n h^n is formed from the
 * Taylor coefficients a_n of sigma around b; only odd n survive the class average:
 *   <h x> = C w,  <h^3 x> = 3 q C w + dT w^3,  <h^5 x> = 15 q^2 C w + 10 q dT w^3 + 5 k C w. */
static void class_coeffs(const hl_neuron_flow_params *p, int m, double q, double k,
                         double *g, double *t)
{
    double al = p->alpha, be = p->beta, b = p->bias, y = class_label(p, m);
    double a[4] = {al * b - be * b * b * b / 3, al - be * b * b, -be * b, -be / 3};
    double d[3] = {a[1], 2 * a[2], 3 * a[3]}; /* sigma'(h + b) = d0 + d1 h + d2 h^2 */
    double pn[6] = {0};
    for (int i = 0; i < 3; i++)
        pn[i] += y * d[i];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            pn[i + j] -= a[i] * d[j];
    *g = pn[1] + 3 * q * pn[3];
    *t = pn[3];
    if (p->sixth == HL_NEURON_SIXTH_CLOSED) {
        *g += pn[5] * (15 * q * q + 5 * k);
        *t += 10 * q * pn[5];
    }
}

void hl_neuron_coeffs(const hl_neuron_flow_params *p, int m, double q, double k,
                      double *c2, double *c4)
{
    double g, t;
    class_coeffs(p, m, q, k, &g, &t);
    *c4 = t;
    *c2 = g - 3 * t * q; /* T w^3 = dT w^3 + 3 q C w */
}

/* Half the mean square error of class m at q, k: 1/2 <(y - sigma)^2> with <sigma> =
 * a0 + a2 q and <sigma^2> from <h^2> = q, <h^4> = 3 q^2 + k, <h^6> = 15 q^3 + 15 k q
 * (k = 0: the Gaussian value). */
static double class_loss(const hl_neuron_flow_params *p, int m, double q, double k)
{
    double al = p->alpha, be = p->beta, b = p->bias, y = class_label(p, m);
    double a0 = al * b - be * b * b * b / 3, a1 = al - be * b * b, a2 = -be * b, a3 = -be / 3;
    double h4 = 3 * q * q + k, h6 = 15 * q * q * q + 15 * k * q;
    double s2 = a0 * a0 + (a1 * a1 + 2 * a0 * a2) * q + (a2 * a2 + 2 * a1 * a3) * h4 +
                a3 * a3 * h6;
    return 0.5 * (y * y - 2 * y * (a0 + a2 * q) + s2);
}

/* Work space of one flow: C w and dT w^3 of the current class, and q, k per class. */
typedef struct {
    const hl_neuron_flow_params *p;
    double *Cw, *Tw;
    double q[HL_NEURON_MAX_CLASSES], k[HL_NEURON_MAX_CLASSES];
} flow_ws;

/* dw/dt at w; also leaves q_mu and k_mu of w in ws. */
static void rhs(flow_ws *ws, const double *w, double *dw)
{
    const hl_neuron_flow_params *p = ws->p;
    size_t D = p->D;
    memset(dw, 0, sizeof(double) * D);
    for (int m = 0; m < p->n_classes; m++) {
        const hl_neuron_class *c = &p->classes[m];
        c->cov(c->cov_ctx, w, ws->Cw);
        double q = dot(D, w, ws->Cw), k = 0, g, t;
        if (c->cum3) {
            c->cum3(c->cum_ctx, w, ws->Tw);
            k = dot(D, w, ws->Tw);
        }
        class_coeffs(p, m, q, k, &g, &t);
        g /= p->n_classes;
        t /= p->n_classes;
        for (size_t i = 0; i < D; i++)
            dw[i] += g * ws->Cw[i];
        if (c->cum3)
            for (size_t i = 0; i < D; i++)
                dw[i] += t * ws->Tw[i];
        ws->q[m] = q;
        ws->k[m] = k;
    }
}

static int ws_init(flow_ws *ws, const hl_neuron_flow_params *p)
{
    ws->p = p;
    ws->Cw = malloc(sizeof(double) * p->D);
    ws->Tw = malloc(sizeof(double) * p->D);
    if (!ws->Cw || !ws->Tw) {
        free(ws->Cw);
        free(ws->Tw);
        return hl_error_set(HL_ENOMEM, "neuron flow: cannot allocate work space (D = %zu)",
                            p->D);
    }
    return HL_OK;
}

static void ws_free(flow_ws *ws)
{
    free(ws->Cw);
    free(ws->Tw);
}

int hl_neuron_gradient(const hl_neuron_flow_params *p, const double *w, double *dw)
{
    int rc = hl_neuron_flow_validate(p);
    if (rc)
        return rc;
    if (!w || !dw)
        return hl_error_set(HL_EINVAL, "neuron gradient: w and dw must not be NULL");
    flow_ws ws;
    if ((rc = ws_init(&ws, p)))
        return rc;
    rhs(&ws, w, dw);
    ws_free(&ws);
    return HL_OK;
}

static int ode_rhs(double t, const double y[], double f[], void *params)
{
    (void)t;
    flow_ws *ws = params;
    /* past max_norm the flow is taken as diverged: stop before q^2 overflows */
    if (!(dot(ws->p->D, y, y) <= ws->p->max_norm * ws->p->max_norm))
        return GSL_EBADFUNC;
    rhs(ws, y, f);
    for (size_t i = 0; i < ws->p->D; i++)
        if (!isfinite(f[i]))
            return GSL_EBADFUNC;
    return GSL_SUCCESS;
}

void hl_neuron_traj_free(hl_neuron_traj *tr)
{
    if (!tr)
        return;
    free(tr->t);
    free(tr->w);
    free(tr->ipr);
    free(tr->q);
    free(tr->k);
    free(tr->loss_gauss);
    free(tr->loss);
    free(tr->overlap);
    free(tr);
}

static hl_neuron_traj *traj_alloc(size_t n, size_t D, int M, size_t n_refs)
{
    hl_neuron_traj *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    *tr = (hl_neuron_traj){.n_times = n, .D = D, .n_refs = n_refs, .n_classes = M};
    tr->t = malloc(sizeof(double) * n);
    tr->w = malloc(sizeof(double) * n * D);
    tr->ipr = malloc(sizeof(double) * n);
    tr->q = malloc(sizeof(double) * n * M);
    tr->k = malloc(sizeof(double) * n * M);
    tr->loss_gauss = malloc(sizeof(double) * n);
    tr->loss = malloc(sizeof(double) * n);
    if (n_refs)
        tr->overlap = malloc(sizeof(double) * n * n_refs);
    if (!tr->t || !tr->w || !tr->ipr || !tr->q || !tr->k || !tr->loss_gauss || !tr->loss ||
        (n_refs && !tr->overlap)) {
        hl_neuron_traj_free(tr);
        return NULL;
    }
    return tr;
}

/* hl_cp_ipr, with 0 for a zero vector (a trajectory can start there). */
static double ipr_of(size_t D, const double *w)
{
    double v = hl_cp_ipr(w, D);
    return isnan(v) ? 0 : v;
}

/* Record row j of the trajectory at w: evaluates the moments once more for q, k. */
static void record(flow_ws *ws, hl_neuron_traj *tr, size_t j, double t, const double *w,
                   const double *refs, double *scratch)
{
    const hl_neuron_flow_params *p = ws->p;
    size_t D = p->D;
    int M = p->n_classes;
    rhs(ws, w, scratch);
    tr->t[j] = t;
    memcpy(tr->w + j * D, w, sizeof(double) * D);
    tr->ipr[j] = ipr_of(D, w);
    double lg = 0, l = 0;
    for (int m = 0; m < M; m++) {
        double q = ws->q[m], k = ws->k[m];
        tr->q[j * M + m] = q;
        tr->k[j * M + m] = k;
        lg += class_loss(p, m, q, 0);
        l += class_loss(p, m, q, k);
    }
    tr->loss_gauss[j] = lg / M;
    tr->loss[j] = l / M;
    double nw = sqrt(dot(D, w, w));
    for (size_t r = 0; r < tr->n_refs; r++) {
        const double *u = refs + r * D;
        double nu = sqrt(dot(D, u, u));
        tr->overlap[j * tr->n_refs + r] = nw > 0 && nu > 0 ? fabs(dot(D, w, u)) / (nw * nu) : 0;
    }
}

static int check_times(const char *who, const double *times, size_t n)
{
    if (!times || n < 1)
        return hl_error_set(HL_EINVAL, "%s: times: at least one output time is needed", who);
    for (size_t j = 0; j < n; j++) {
        if (!(times[j] >= 0) || !isfinite(times[j]))
            return hl_error_set(HL_EINVAL, "%s: times[%zu] = %g: accepted range is t >= 0",
                                who, j, times[j]);
        if (j > 0 && times[j] < times[j - 1])
            return hl_error_set(HL_EINVAL, "%s: times must be non-decreasing (times[%zu] = "
                                "%g < times[%zu] = %g)", who, j, times[j], j - 1, times[j - 1]);
    }
    return HL_OK;
}

int hl_neuron_flow(const hl_neuron_flow_params *p, const double *w0, const double *times,
                   size_t n_times, const double *refs, size_t n_refs, hl_neuron_traj **out)
{
    if (out)
        *out = NULL;
    int rc = hl_neuron_flow_validate(p);
    if (rc)
        return rc;
    if (!w0 || !out)
        return hl_error_set(HL_EINVAL, "neuron flow: w0 and out must not be NULL");
    if ((rc = check_times("neuron flow", times, n_times)))
        return rc;
    if (n_refs && !refs)
        return hl_error_set(HL_EINVAL, "neuron flow: refs is NULL but n_refs = %zu", n_refs);
    size_t D = p->D;
    for (size_t i = 0; i < D; i++)
        if (!isfinite(w0[i]))
            return hl_error_set(HL_EINVAL, "neuron flow: w0[%zu] = %g is not finite", i, w0[i]);

    flow_ws ws;
    if ((rc = ws_init(&ws, p)))
        return rc;
    hl_neuron_traj *tr = traj_alloc(n_times, D, p->n_classes, n_refs);
    double *y = malloc(sizeof(double) * D), *scratch = malloc(sizeof(double) * D);
    gsl_odeiv2_system sys = {ode_rhs, NULL, D, &ws};
    const gsl_odeiv2_step_type *type =
        p->stepper == HL_NEURON_RKF45 ? gsl_odeiv2_step_rkf45 : gsl_odeiv2_step_rk8pd;
    gsl_odeiv2_driver *drv = NULL;
    if (!tr || !y || !scratch ||
        !(drv = gsl_odeiv2_driver_alloc_y_new(&sys, type, p->h0, p->abs_tol, p->rel_tol))) {
        rc = hl_error_set(HL_ENOMEM, "neuron flow: cannot allocate the trajectory or the "
                          "ODE driver (D = %zu, %zu times)", D, n_times);
        goto done;
    }
    gsl_odeiv2_driver_set_nmax(drv, p->max_steps);
    memcpy(y, w0, sizeof(double) * D);
    double t = 0;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    for (size_t j = 0; j < n_times && !rc; j++) {
        if (times[j] > t) {
            int st = gsl_odeiv2_driver_apply(drv, &t, times[j], y);
            double nw = sqrt(dot(D, y, y));
            if (st == GSL_EBADFUNC || !isfinite(nw) || nw > p->max_norm)
                rc = hl_error_set(HL_EDIVERGED, "neuron flow: |w| diverged (past max_norm = "
                                  "%g or not finite) near t = %g", p->max_norm, t);
            else if (st == GSL_FAILURE)
                /* the driver's step shrank to nothing: a finite-time blow-up, which the
                 * cubic neuron has once q grows (see theory.h) */
                rc = hl_error_set(HL_EDIVERGED, "neuron flow: finite-time blow-up near "
                                  "t = %g (|w| = %g, the step size vanished)", t, nw);
            else if (st)
                rc = hl_error_set(HL_ENUMERIC, "neuron flow: the ODE driver failed at t = %g "
                                  "on the way to t = %g: %s (max_steps = %lu)", t, times[j],
                                  gsl_strerror(st), p->max_steps);
        }
        if (!rc) {
            record(&ws, tr, j, times[j], y, refs, scratch);
            tr->n_done = j + 1;
        }
    }
    gsl_set_error_handler(old);
done:
    if (drv)
        gsl_odeiv2_driver_free(drv);
    free(y);
    free(scratch);
    ws_free(&ws);
    /* a blow-up keeps the times recorded before it */
    if (rc == HL_EDIVERGED && tr && tr->n_done > 0)
        *out = tr;
    else if (rc)
        hl_neuron_traj_free(tr);
    else
        *out = tr;
    return rc;
}

int hl_neuron_log_times(double t_min, double t_max, size_t n, double *times)
{
    if (!(t_min > 0) || !(t_max >= t_min) || !isfinite(t_max))
        return hl_error_set(HL_EINVAL, "neuron log times: t_min = %g, t_max = %g: accepted "
                            "range is 0 < t_min <= t_max", t_min, t_max);
    if (n < 1 || !times)
        return hl_error_set(HL_EINVAL, "neuron log times: n = %zu: at least 1 time (and a "
                            "non-NULL array)", n);
    for (size_t j = 0; j < n; j++)
        times[j] = n == 1 ? t_max : t_min * pow(t_max / t_min, (double)j / (double)(n - 1));
    times[n - 1] = t_max;
    return HL_OK;
}

/* ---- Online SGD ------------------------------------------------------------------ */

enum { SGD_BLOCK = 256 };

int hl_neuron_sgd(hl_task *task, double alpha, double beta, double bias, const double *w0,
                  double eta, const double *times, size_t n_times, gsl_rng *rng, double *W)
{
    if (!task || !w0 || !rng || !W)
        return hl_error_set(HL_EINVAL, "neuron sgd: task, w0, rng and W must not be NULL");
    if (!positive(eta))
        return hl_error_set(HL_EINVAL, "neuron sgd: eta = %g: accepted range is eta > 0", eta);
    if (!isfinite(alpha) || !isfinite(beta) || !isfinite(bias))
        return hl_error_set(HL_EINVAL, "neuron sgd: alpha = %g, beta = %g, bias = %g: all "
                            "must be finite", alpha, beta, bias);
    int rc = check_times("neuron sgd", times, n_times);
    if (rc)
        return rc;
    if (times[n_times - 1] / eta > 1e15)
        return hl_error_set(HL_EINVAL, "neuron sgd: times[%zu] / eta = %g steps is too many",
                            n_times - 1, times[n_times - 1] / eta);
    size_t D = hl_task_dim(task);
    double *w = malloc(sizeof(double) * D);
    float *X = malloc(sizeof(float) * SGD_BLOCK * D), *y = malloc(sizeof(float) * SGD_BLOCK);
    if (!w || !X || !y) {
        rc = hl_error_set(HL_ENOMEM, "neuron sgd: cannot allocate buffers (D = %zu)", D);
        goto done;
    }
    memcpy(w, w0, sizeof(double) * D);
    unsigned long long step = 0;
    size_t used = SGD_BLOCK; /* samples of the current block already used */
    for (size_t j = 0; j < n_times && !rc; j++) {
        unsigned long long target = (unsigned long long)llround(times[j] / eta);
        for (; step < target; step++) {
            if (used == SGD_BLOCK) {
                if ((rc = hl_task_sample(task, SGD_BLOCK, X, y, rng)))
                    goto done;
                used = 0;
            }
            const float *x = X + used * D;
            double h = 0;
            for (size_t i = 0; i < D; i++)
                h += w[i] * x[i];
            if (!isfinite(h) || fabs(h) > 1e150) {
                rc = hl_error_set(HL_EDIVERGED, "neuron sgd: the preactivation h = %g "
                                  "diverged at step %llu (t = %g)", h, step, step * eta);
                goto done;
            }
            double z = h + bias;
            double s = (alpha - beta * z * z / 3) * z, ds = alpha - beta * z * z;
            double g = eta * (y[used] - s) * ds;
            for (size_t i = 0; i < D; i++)
                w[i] += g * x[i];
            used++;
        }
        memcpy(W + j * D, w, sizeof(double) * D);
    }
done:
    free(w);
    free(X);
    free(y);
    return rc;
}
