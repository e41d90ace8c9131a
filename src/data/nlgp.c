/* nlgp.c — the non-linear Gaussian process (NLGP) and its Gaussian clone.
 *
 * The latent z is a Gaussian field with kernel exp(-(d/xi)^p); the NLGP is x = f(z)/Z
 * pointwise (erf, sign, tanh or an odd polynomial), Z making <x^2> = 1. Periodic
 * boundaries draw z on the ring / torus with the FFT engine of field.c. Open
 * boundaries draw it on a larger torus of M >= 2L sites per side and cut out an L (x L)
 * window: when M - (L - 1) >= L - 1 the periodic distance on the big torus equals the
 * plain distance inside the window, so the window's covariance is exactly the open
 * kernel (circulant embedding), provided the big circulant is positive semi-definite;
 * M is grown until it is, up to a limit.
 *
 * The clone is a Gaussian with the NLGP's covariance F(C), F the map from latent
 * correlation to output covariance (Price / Mehler: F(rho) = sum_n b_n rho^n with
 * b_n >= 0). Since b_n >= 0, F applied entrywise to a PSD circulant is PSD (Schur), so
 * the clone embeds in the same torus as the latent. */
#include "sampler_impl.h"
#include "hoclab/error.h"

#include <gsl/gsl_chebyshev.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_erf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    POLY_MAX_DEGREE = 2 * HL_NLGP_MAX_COEFFS - 1,
    /* Open boundaries: the embedding torus grows up to this many times L per side and
     * this many sites in all (memory: 8 bytes per site and transform). */
    OPEN_MAX_FACTOR = 32,
    OPEN_MAX_SITES = 1 << 25
};

/* Embedding accepted when its negative eigenvalues are round-off: their total below
 * this fraction of sum |lambda| (double-precision FFTs leave ~1e-16). */
static const double OPEN_NEG_TOL = 1e-12;

typedef struct {
    hl_sampler base;
    hl_nlgp_params p;
    float a, inv_Z;                     /* x = f(a z) * inv_Z (erf, tanh) */
    float poly[HL_NLGP_MAX_COEFFS];     /* c_k / Z (poly) */
    int M;                              /* torus sites per side */
    hl_field field;                     /* the latent field (NLGP) or the clone's */
    float *chunk;                       /* open: whole-torus draws before the cut */
    size_t chunk_n;                     /* samples per chunk */
} nlgp;

double hl_nlgp_kernel(double d, double xi, int p)
{
    return exp(-pow(d / xi, p));
}

double hl_nlgp_slope(double gain, hl_gain_convention c)
{
    return c == HL_GAIN_AUTHORS ? gain / M_SQRT2 : gain;
}

double hl_nlgp_Z(double gain, hl_gain_convention c)
{
    double a = hl_nlgp_slope(gain, c), a2 = 2 * a * a;
    return sqrt(M_2_PI * asin(a2 / (1 + a2)));
}

static const char *const nonlin_names[] = {"erf", "sign", "tanh", "poly"};

int hl_nlgp_validate(const hl_nlgp_params *p)
{
    if (p->dim != 1 && p->dim != 2)
        return hl_error_set(HL_EINVAL, "dim = %d: accepted values are 1 and 2", p->dim);
    if (p->L < 2 || p->L > (p->dim == 1 ? 1 << 20 : 4096))
        return hl_error_set(HL_EINVAL, "L = %d: accepted range is 2..%d for dim %d", p->L,
                            p->dim == 1 ? 1 << 20 : 4096, p->dim);
    if (!(p->xi > 0) || !isfinite(p->xi))
        return hl_error_set(HL_EINVAL, "xi = %g: accepted range is xi > 0 (pixels)", p->xi);
    if (p->p != 1 && p->p != 2)
        return hl_error_set(HL_EINVAL, "kernel exponent p = %d: accepted values are 1 and 2",
                            p->p);
    if (!(p->gain >= 0) || !isfinite(p->gain))
        return hl_error_set(HL_EINVAL, "gain = %g: accepted range is gain >= 0", p->gain);
    if (p->convention != HL_GAIN_SEEDS && p->convention != HL_GAIN_AUTHORS)
        return hl_error_set(HL_EINVAL, "unknown gain convention %d", (int)p->convention);
    if ((unsigned)p->nonlin > HL_NONLIN_POLY)
        return hl_error_set(HL_EINVAL, "nonlin = %d: accepted values are 0 (erf), 1 (sign), "
                            "2 (tanh) and 3 (poly)", (int)p->nonlin);
    if ((unsigned)p->boundary > HL_BOUNDARY_OPEN)
        return hl_error_set(HL_EINVAL, "boundary = %d: accepted values are 0 (periodic) and "
                            "1 (open)", (int)p->boundary);
    if (p->nonlin == HL_NONLIN_TANH &&
        hl_nlgp_slope(p->gain, p->convention) > HL_NLGP_TANH_MAX_SLOPE)
        return hl_error_set(HL_EINVAL, "gain = %g: accepted range with nonlin = tanh is "
                            "0..%g (nonlin = sign is its large-gain limit)", p->gain,
                            p->convention == HL_GAIN_AUTHORS ? HL_NLGP_TANH_MAX_SLOPE * M_SQRT2
                                                             : HL_NLGP_TANH_MAX_SLOPE);
    if (p->nonlin != HL_NONLIN_POLY) {
        if (p->n_coeffs != 0)
            return hl_error_set(HL_EINVAL, "coeffs: %d coefficients given, but coeffs are "
                                "only used by nonlin = poly (nonlin = %s)", p->n_coeffs,
                                nonlin_names[p->nonlin]);
        return HL_OK;
    }
    if (p->n_coeffs < 1 || p->n_coeffs > HL_NLGP_MAX_COEFFS)
        return hl_error_set(HL_EINVAL, "coeffs: nonlin = poly needs 1..%d odd-power "
                            "coefficients c1, c3, ... (n_coeffs = %d)", HL_NLGP_MAX_COEFFS,
                            p->n_coeffs);
    int nonzero = 0;
    for (int k = 0; k < p->n_coeffs; k++) {
        if (!isfinite(p->coeffs[k]))
            return hl_error_set(HL_EINVAL, "coeffs: c%d = %g is not finite", 2 * k + 1,
                                p->coeffs[k]);
        nonzero |= p->coeffs[k] != 0;
    }
    if (!nonzero)
        return hl_error_set(HL_EINVAL, "coeffs: all %d coefficients are zero; nonlin = poly "
                            "needs a non-zero polynomial", p->n_coeffs);
    return HL_OK;
}

/* ---- Marginal statistics of the non-linearity -------------------------------------- */

/* Hermite coefficients d_n of the polynomial, f = sum_n d_n He_n (probabilists'):
 * z^m = sum_j m! / (2^j j! (m - 2j)!) He_{m-2j}. Returns the degree. */
static int poly_hermite(const hl_nlgp_params *p, double d[POLY_MAX_DEGREE + 1])
{
    double fact[POLY_MAX_DEGREE + 1] = {1};
    for (int i = 1; i <= POLY_MAX_DEGREE; i++)
        fact[i] = fact[i - 1] * i; /* 15! < 2^53: exact */
    memset(d, 0, sizeof(double) * (POLY_MAX_DEGREE + 1));
    int deg = 1;
    for (int k = 0; k < p->n_coeffs; k++) {
        int m = 2 * k + 1;
        if (p->coeffs[k] != 0)
            deg = m;
        for (int j = 0; 2 * j <= m; j++)
            d[m - 2 * j] += p->coeffs[k] * fact[m] / (ldexp(fact[j], j) * fact[m - 2 * j]);
    }
    return deg;
}

/* The poly's covariance series b_n = n! d_n^2 (unnormalised), and sum_n b_n = <f^2>. */
static double poly_series(const hl_nlgp_params *p, double b[POLY_MAX_DEGREE + 1])
{
    double d[POLY_MAX_DEGREE + 1], fact = 1, sum = 0;
    poly_hermite(p, d);
    for (int n = 0; n <= POLY_MAX_DEGREE; n++) {
        fact *= n > 0 ? n : 1;
        b[n] = fact * d[n] * d[n];
        sum += b[n];
    }
    return sum;
}

static double poly_eval(const hl_nlgp_params *p, double z)
{
    double z2 = z * z, s = 0;
    for (int k = p->n_coeffs - 1; k >= 0; k--)
        s = s * z2 + p->coeffs[k];
    return s * z;
}

/* <g(z)> for z ~ N(0, 1), g even, by adaptive quadrature on [0, inf). */
typedef struct {
    double (*g)(double z, const void *ctx);
    const void *ctx;
} moment_ctx;

static double moment_integrand(double z, void *params)
{
    const moment_ctx *m = params;
    return 2 * m->g(z, m->ctx) * exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

static int gauss_moment(double (*g)(double, const void *), const void *ctx, const char *what,
                        double *value)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    if (!w)
        return hl_error_set(HL_ENOMEM, "cannot allocate a quadrature workspace");
    moment_ctx m = {g, ctx};
    gsl_function f = {moment_integrand, &m};
    double err;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_integration_qagiu(&f, 0, 0, 1e-12, 1000, w, value, &err);
    gsl_set_error_handler(old);
    gsl_integration_workspace_free(w);
    if (st)
        return hl_error_set(HL_ENUMERIC, "quadrature of %s failed: %s", what, gsl_strerror(st));
    return HL_OK;
}

static double erf4(double z, const void *ctx)
{
    double e = gsl_sf_erf(*(const double *)ctx * z);
    return e * e * e * e;
}

static double tanh2(double z, const void *ctx)
{
    double t = tanh(*(const double *)ctx * z);
    return t * t;
}

static double tanh4(double z, const void *ctx) { return tanh2(z, ctx) * tanh2(z, ctx); }

/* Z (so that <x^2> = 1) of the non-linearity of valid params; 1 in the Gaussian limit. */
static int nonlin_Z(const hl_nlgp_params *p, double *Z)
{
    double a = hl_nlgp_slope(p->gain, p->convention), b[POLY_MAX_DEGREE + 1], m2 = 1;
    int rc = HL_OK;
    switch (p->nonlin) {
    case HL_NONLIN_ERF:
        if (a > 0)
            m2 = pow(hl_nlgp_Z(p->gain, p->convention), 2);
        break;
    case HL_NONLIN_SIGN:
        break;
    case HL_NONLIN_TANH:
        if (a > 0)
            rc = gauss_moment(tanh2, &a, "<tanh(a z)^2>", &m2);
        break;
    case HL_NONLIN_POLY:
        m2 = poly_series(p, b);
        break;
    }
    *Z = sqrt(m2);
    return rc;
}

static double poly_fixed_integrand(double z, void *params)
{
    return pow(poly_eval(params, z), 4);
}

/* <P(z)^4> exactly: Gauss-Hermite with enough nodes for degree 4 deg (positive weights,
 * so no cancellation between the large Gaussian moments of the expanded power). */
static int poly_m4(const hl_nlgp_params *p, double *m4)
{
    double d[POLY_MAX_DEGREE + 1];
    int deg = poly_hermite(p, d);
    size_t n = (size_t)(2 * deg + 1); /* exact up to degree 2n - 1 >= 4 deg */
    gsl_integration_fixed_workspace *w =
        gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, n, 0, 0.5, 0, 0);
    if (!w)
        return hl_error_set(HL_ENOMEM, "cannot allocate a Gauss-Hermite rule of %zu nodes", n);
    gsl_function f = {poly_fixed_integrand, (void *)p};
    gsl_integration_fixed(&f, m4, w);
    gsl_integration_fixed_free(w);
    *m4 /= sqrt(2 * M_PI); /* the rule's weight is exp(-z^2 / 2) */
    return HL_OK;
}

int hl_nlgp_marginal_kurtosis(double gain, hl_gain_convention c, double *kurtosis)
{
    double a = hl_nlgp_slope(gain, c), m4;
    if (!(a >= 0) || !isfinite(a))
        return hl_error_set(HL_EINVAL, "gain = %g: accepted range is gain >= 0", gain);
    if (a == 0) {
        *kurtosis = 0;
        return HL_OK;
    }
    int rc = gauss_moment(erf4, &a, "<erf(a z)^4>", &m4);
    if (rc)
        return rc;
    double Z = hl_nlgp_Z(gain, c);
    *kurtosis = m4 / (Z * Z * Z * Z) - 3;
    return HL_OK;
}

int hl_nlgp_marginal_kurtosis_of(const hl_nlgp_params *p, double *kurtosis)
{
    int rc = hl_nlgp_validate(p);
    if (rc)
        return rc;
    double a = hl_nlgp_slope(p->gain, p->convention), Z, m4 = 3;
    *kurtosis = 0;
    if (p->clone)
        return HL_OK;
    switch (p->nonlin) {
    case HL_NONLIN_ERF:
        return hl_nlgp_marginal_kurtosis(p->gain, p->convention, kurtosis);
    case HL_NONLIN_SIGN:
        *kurtosis = -2; /* x = +-1: <x^4> = 1 */
        return HL_OK;
    case HL_NONLIN_TANH:
        if (a == 0)
            return HL_OK;
        if ((rc = nonlin_Z(p, &Z)) || (rc = gauss_moment(tanh4, &a, "<tanh(a z)^4>", &m4)))
            return rc;
        break;
    case HL_NONLIN_POLY:
        if ((rc = nonlin_Z(p, &Z)) || (rc = poly_m4(p, &m4)))
            return rc;
        break;
    }
    *kurtosis = m4 / (Z * Z * Z * Z) - 3;
    return HL_OK;
}

/* ---- The covariance map F: latent correlation -> output covariance --------------- */

typedef enum { MAP_IDENTITY, MAP_ERF, MAP_ASIN, MAP_SERIES, MAP_CHEB } map_kind;

typedef struct {
    map_kind kind;
    double c, k;                        /* erf: F = k asin(c rho) */
    double b[POLY_MAX_DEGREE + 1];      /* series: F = sum_n b_n rho^n, sum_n b_n = 1 */
    gsl_cheb_series *cheb;              /* tanh: F(sin theta), theta in [0, pi/2] */
} covmap;

/* tanh: F(rho) = <t(u) t(rho u + s v)> / Z^2 with t = tanh(a .), s = sqrt(1 - rho^2),
 * u, v independent standard normals, by nested adaptive quadrature. The integrand is
 * odd in u for the pair, so twice the integral over u > 0; the inner integral is split
 * where tanh changes sign, which is where it is steep. */
enum { TANH_WS = 1000 };
static const double TANH_R = 9; /* |z| > 9 has probability 2e-19 and |tanh| <= 1 */

typedef struct {
    double a, rho, s, u, Z2;
    gsl_integration_workspace *wi, *wo;
    int status;
} tanh_ctx;

static double std_normal(double x) { return exp(-0.5 * x * x) / sqrt(2 * M_PI); }

static double tanh_inner_f(double v, void *params)
{
    const tanh_ctx *c = params;
    return std_normal(v) * tanh(c->a * (c->rho * c->u + c->s * v));
}

static double tanh_piece(tanh_ctx *c, double lo, double hi)
{
    gsl_function f = {tanh_inner_f, c};
    double r = 0, err;
    int st = gsl_integration_qag(&f, lo, hi, 1e-14, 1e-12, TANH_WS, GSL_INTEG_GAUSS31, c->wi,
                                 &r, &err);
    if (st && st != GSL_EROUND)
        c->status = st;
    return r;
}

static double tanh_outer_f(double u, void *params)
{
    tanh_ctx *c = params;
    c->u = u;
    double v0 = -c->rho * u / c->s, inner;
    if (v0 > -TANH_R && v0 < TANH_R)
        inner = tanh_piece(c, -TANH_R, v0) + tanh_piece(c, v0, TANH_R);
    else
        inner = tanh_piece(c, -TANH_R, TANH_R);
    return 2 * std_normal(u) * tanh(c->a * u) * inner;
}

/* F(sin theta), what the Chebyshev series approximates. */
static double tanh_map_theta(double theta, void *params)
{
    tanh_ctx *c = params;
    c->rho = sin(theta);
    if (c->rho >= 1)
        return 1;
    if (c->rho <= 0)
        return 0;
    c->s = sqrt((1 - c->rho) * (1 + c->rho));
    gsl_function f = {tanh_outer_f, c};
    double r = 0, err;
    int st = gsl_integration_qag(&f, 0, TANH_R, 1e-13 * c->Z2, 1e-12, TANH_WS,
                                 GSL_INTEG_GAUSS31, c->wo, &r, &err);
    if (st && st != GSL_EROUND)
        c->status = st;
    return r / c->Z2;
}

/* The tanh map as a Chebyshev series in theta = asin(rho): in theta the sign-like
 * square-root behaviour at rho -> 1 becomes smooth (the sign map (2/pi) asin(rho) is
 * linear in theta). The order doubles until the last coefficients are below 1e-10;
 * orders 32..128 suffice for a <= 100 (measured: error 1e-12 at a = 100, order 128). */
static int tanh_map_init(covmap *m, double a, double Z)
{
    tanh_ctx c = {a, 0, 1, 0, Z * Z, gsl_integration_workspace_alloc(TANH_WS),
                  gsl_integration_workspace_alloc(TANH_WS), 0};
    int rc = HL_OK;
    if (!c.wi || !c.wo) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate quadrature workspaces");
        goto done;
    }
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    for (size_t order = a < 5 ? 32 : 64;; order *= 2) {
        gsl_cheb_series *cs = gsl_cheb_alloc(order);
        if (!cs) {
            rc = hl_error_set(HL_ENOMEM, "cannot allocate a Chebyshev series");
            break;
        }
        gsl_function f = {tanh_map_theta, &c};
        gsl_cheb_init(cs, &f, 0, M_PI_2);
        const double *coef = gsl_cheb_coeffs(cs);
        double tail = 0;
        for (size_t k = order - 7; k <= order; k++)
            tail = fmax(tail, fabs(coef[k]));
        if (c.status) {
            gsl_cheb_free(cs);
            rc = hl_error_set(HL_ENUMERIC, "tanh covariance map: quadrature failed at a = %g "
                              "(%s)", a, gsl_strerror(c.status));
            break;
        }
        if (tail < 1e-10) {
            m->cheb = cs;
            break;
        }
        gsl_cheb_free(cs);
        if (order >= 512) {
            rc = hl_error_set(HL_ENUMERIC, "tanh covariance map did not converge at a = %g "
                              "(last Chebyshev coefficients %g)", a, tail);
            break;
        }
    }
    gsl_set_error_handler(old);
done:
    gsl_integration_workspace_free(c.wi);
    gsl_integration_workspace_free(c.wo);
    return rc;
}

static int covmap_init(covmap *m, const hl_nlgp_params *p)
{
    memset(m, 0, sizeof *m);
    double a = hl_nlgp_slope(p->gain, p->convention), Z, a2 = 2 * a * a;
    int rc = nonlin_Z(p, &Z);
    if (rc)
        return rc;
    switch (p->nonlin) {
    case HL_NONLIN_ERF:
        if (a == 0)
            return HL_OK; /* the Gaussian limit: x = z */
        m->kind = MAP_ERF;
        m->c = a2 / (1 + a2);
        m->k = M_2_PI / (Z * Z);
        return HL_OK;
    case HL_NONLIN_SIGN:
        m->kind = MAP_ASIN;
        return HL_OK;
    case HL_NONLIN_TANH:
        if (a == 0)
            return HL_OK;
        m->kind = MAP_CHEB;
        return tanh_map_init(m, a, Z);
    case HL_NONLIN_POLY:
        m->kind = MAP_SERIES;
        poly_series(p, m->b);
        for (int n = 0; n <= POLY_MAX_DEGREE; n++)
            m->b[n] /= Z * Z;
        return HL_OK;
    }
    return HL_OK;
}

static double covmap_eval(const covmap *m, double rho)
{
    if (rho < 0)
        return -covmap_eval(m, -rho); /* every f is odd */
    rho = fmin(rho, 1);
    double s = 0;
    switch (m->kind) {
    case MAP_IDENTITY:
        return rho;
    case MAP_ERF:
        return m->k * asin(m->c * rho);
    case MAP_ASIN:
        return M_2_PI * asin(rho);
    case MAP_SERIES:
        for (int n = POLY_MAX_DEGREE; n >= 0; n--)
            s = s * rho + m->b[n];
        return s;
    case MAP_CHEB:
        return rho == 0 ? 0 : rho == 1 ? 1 : gsl_cheb_eval(m->cheb, asin(rho));
    }
    return rho;
}

static void covmap_free(covmap *m)
{
    if (m->cheb)
        gsl_cheb_free(m->cheb);
    m->cheb = NULL;
}

/* ---- Latent rows ------------------------------------------------------------------ */

/* First row of the latent covariance over offsets 0..n-1 per axis (n^dim values): the
 * kernel of the periodic distance on a ring of n sites, or of the plain distance.
 * 2D is separable: row[r n + c] = k(r) k(c). */
static void latent_row(const hl_nlgp_params *p, int n, int periodic, double *row)
{
    for (int d = 0; d < n; d++)
        row[d] = hl_nlgp_kernel(periodic && n - d < d ? n - d : d, p->xi, p->p);
    if (p->dim == 1)
        return;
    /* Rows from the last down: row r >= 1 only reads the 1D table in row[0..n). */
    for (int r = n - 1; r >= 1; r--)
        for (int c = 0; c < n; c++)
            row[(size_t)r * n + c] = row[r] * row[c];
}

static size_t sites(int dim, int n) { return dim == 1 ? (size_t)n : (size_t)n * n; }

int hl_nlgp_covariance_row(const hl_nlgp_params *p, double *row)
{
    int rc = hl_nlgp_validate(p);
    if (rc)
        return rc;
    covmap m;
    if ((rc = covmap_init(&m, p)))
        return rc;
    latent_row(p, p->L, p->boundary == HL_BOUNDARY_PERIODIC, row);
    size_t D = sites(p->dim, p->L);
    for (size_t j = 0; j < D; j++)
        row[j] = covmap_eval(&m, row[j]);
    covmap_free(&m);
    return HL_OK;
}

/* ---- Open boundaries: the embedding torus ------------------------------------------ */

/* The next n' >= n with no prime factor above 7 (FFTW is fastest on those). */
static long fft_friendly(long n)
{
    for (;; n++) {
        long m = n;
        for (int f = 2; f <= 7; f++)
            while (m % f == 0)
                m /= f;
        if (m == 1)
            return n;
    }
}

/* Sites per side M of the torus for an open L (x L) window: the first FFT-friendly
 * M >= 2L, grown by ~25% while the embedded kernel's spectrum has more negative mass
 * than round-off, up to OPEN_MAX_FACTOR L per side and OPEN_MAX_SITES in all (beyond,
 * the negatives are clipped by the field and reported by hl_sampler_clipping). The 2D
 * kernel is separable, its eigenvalues the products of the 1D ones, so the 1D spectrum
 * decides. */
static int open_torus_size(const hl_nlgp_params *p, int *M_out)
{
    long M = fft_friendly(2L * p->L), cap = (long)OPEN_MAX_FACTOR * p->L;
    double *row = NULL, *lambda = NULL;
    int rc = HL_OK;
    for (;;) {
        double *r2 = realloc(row, sizeof(double) * M), *l2 = realloc(lambda, sizeof(double) * M);
        row = r2 ? r2 : row;
        lambda = l2 ? l2 : lambda;
        if (!r2 || !l2) {
            rc = hl_error_set(HL_ENOMEM, "cannot allocate the embedding of an open window "
                              "(M = %ld)", M);
            break;
        }
        hl_nlgp_params q = *p;
        q.dim = 1;
        latent_row(&q, (int)M, 1, row);
        if ((rc = hl_circulant_spectrum(1, (int)M, row, lambda)))
            break;
        double neg = 0, total = 0;
        for (long k = 0; k < M; k++) {
            total += fabs(lambda[k]);
            neg += lambda[k] < 0 ? -lambda[k] : 0;
        }
        long next = fft_friendly(M + M / 4 + 1);
        double next_sites = p->dim == 1 ? (double)next : (double)next * next;
        if (neg <= OPEN_NEG_TOL * total || next > cap || next_sites > OPEN_MAX_SITES)
            break;
        M = next;
    }
    free(row);
    free(lambda);
    *M_out = (int)M;
    return rc;
}

/* ---- The sampler ------------------------------------------------------------------- */

static void apply_nonlin(const nlgp *s, float *x, size_t n)
{
    switch (s->p.nonlin) {
    case HL_NONLIN_ERF:
        if (s->a > 0)
            hl_vec_erf(x, n, s->a, s->inv_Z);
        return;
    case HL_NONLIN_TANH:
        if (s->a > 0)
            hl_vec_tanh(x, n, s->a, s->inv_Z);
        return;
    case HL_NONLIN_SIGN:
        hl_vec_sign(x, n, 1.0f);
        return;
    case HL_NONLIN_POLY: {
        const float *c = s->poly;
        int K = s->p.n_coeffs;
        /* Horner in z^2; the coefficients already carry 1/Z. */
        for (size_t i = 0; i < n; i++) {
            float z = x[i], z2 = z * z, acc = c[K - 1];
            for (int k = K - 2; k >= 0; k--)
                acc = acc * z2 + c[k];
            x[i] = acc * z;
        }
        return;
    }
    }
}

/* Open boundaries: draw whole tori a chunk at a time and keep the L (x L) corner. */
static void draw_window(nlgp *s, size_t n, float *out, gsl_rng *rng)
{
    size_t L = (size_t)s->p.L, M = (size_t)s->M, Dbig = s->field.D, D = s->base.D;
    for (size_t done = 0; done < n;) {
        size_t m = n - done < s->chunk_n ? n - done : s->chunk_n;
        hl_field_draw(&s->field, m, s->chunk, rng);
        for (size_t k = 0; k < m; k++) {
            const float *src = s->chunk + k * Dbig;
            float *dst = out + (done + k) * D;
            if (s->p.dim == 1)
                memcpy(dst, src, sizeof(float) * L);
            else
                for (size_t r = 0; r < L; r++)
                    memcpy(dst + r * L, src + r * M, sizeof(float) * L);
        }
        done += m;
    }
}

static int nlgp_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    nlgp *s = (nlgp *)base;
    if (s->p.boundary == HL_BOUNDARY_OPEN)
        draw_window(s, n, out, rng);
    else
        hl_field_draw(&s->field, n, out, rng);
    if (!s->p.clone)
        apply_nonlin(s, out, n * base->D);
    return HL_OK;
}

static void nlgp_destroy(hl_sampler *base)
{
    nlgp *s = (nlgp *)base;
    hl_field_free(&s->field);
    free(s->chunk);
    free(s);
}

static const hl_sampler_ops nlgp_ops = {"nlgp", nlgp_sample, nlgp_destroy, 1};

/* The torus row the field draws with: the latent kernel (NLGP) or F of it (clone). */
static int torus_row(const hl_nlgp_params *p, int M, double *row)
{
    latent_row(p, M, 1, row);
    if (!p->clone)
        return HL_OK;
    covmap m;
    int rc = covmap_init(&m, p);
    if (rc)
        return rc;
    size_t D = sites(p->dim, M);
    for (size_t j = 0; j < D; j++)
        row[j] = covmap_eval(&m, row[j]);
    covmap_free(&m);
    return HL_OK;
}

hl_sampler *hl_nlgp_alloc(const hl_nlgp_params *p)
{
    if (hl_nlgp_validate(p))
        return NULL;
    nlgp *s = calloc(1, sizeof *s);
    if (!s) {
        hl_error_set(HL_ENOMEM, "cannot allocate an NLGP sampler");
        return NULL;
    }
    s->base.ops = &nlgp_ops;
    s->base.D = sites(p->dim, p->L);
    s->base.field = &s->field;
    s->p = *p;
    s->M = p->L;
    double a = hl_nlgp_slope(p->gain, p->convention), Z = 1;
    double *row = NULL;
    int rc;
    if ((rc = nonlin_Z(p, &Z)))
        goto fail;
    s->a = (float)a;
    s->inv_Z = (float)(1 / Z);
    for (int k = 0; k < p->n_coeffs && p->nonlin == HL_NONLIN_POLY; k++)
        s->poly[k] = (float)(p->coeffs[k] / Z);
    if (p->boundary == HL_BOUNDARY_OPEN && (rc = open_torus_size(p, &s->M)))
        goto fail;
    size_t Dbig = sites(p->dim, s->M);
    if (!(row = malloc(sizeof(double) * Dbig))) {
        hl_error_set(HL_ENOMEM, "cannot allocate an NLGP sampler with %zu torus sites", Dbig);
        goto fail;
    }
    if ((rc = torus_row(p, s->M, row)) || (rc = hl_field_init(&s->field, p->dim, s->M, row)))
        goto fail;
    free(row);
    row = NULL;
    if (p->boundary == HL_BOUNDARY_OPEN) {
        s->chunk_n = 2 * s->field.pairs; /* one batch of transforms */
        if (!(s->chunk = malloc(sizeof(float) * s->chunk_n * Dbig))) {
            hl_error_set(HL_ENOMEM, "cannot allocate the torus buffer (%zu sites)", Dbig);
            goto fail;
        }
    }
    return &s->base;
fail:
    free(row);
    hl_field_free(&s->field); /* safe on a zeroed or half-built field */
    free(s->chunk);
    free(s);
    return NULL;
}

int hl_nlgp_torus_size(const hl_sampler *base)
{
    return base && base->ops == &nlgp_ops ? ((const nlgp *)base)->M : 0;
}

/* ---- Registry entries: "nlgp" and its clone "gp" ----------------------------------- */

static const hl_param_spec nlgp_params[] = {
    {"dim", HL_PARAM_INT, "1", 1, 2, NULL, "1: ring of L sites; 2: L x L torus"},
    {"L", HL_PARAM_INT, "100", 2, 1 << 20, NULL, "sites per side (dim 2: at most 4096)"},
    {"xi", HL_PARAM_REAL, "2", 1e-6, 1e9, NULL, "correlation length of the latent, pixels"},
    {"p", HL_PARAM_INT, "2", 1, 2, NULL, "kernel exp(-(d/xi)^p)"},
    {"gain", HL_PARAM_REAL, "10", 0, 1e6, NULL,
     "g: 0 is Gaussian, large g a sign field (erf, tanh; tanh: at most 100)"},
    {"convention", HL_PARAM_CHOICE, "seeds", 0, 0, "seeds|authors",
     "erf(g z) (seeds) or erf(g z / sqrt 2) (the authors' code)"},
    {"nonlin", HL_PARAM_CHOICE, "erf", 0, 0, "erf|sign|tanh|poly",
     "x = f(z)/Z: erf(a z), sign(z), tanh(a z) or the odd polynomial of coeffs"},
    {"coeffs", HL_PARAM_TEXT, "", 0, 0, NULL,
     "nonlin=poly: odd-power coefficients c1:c3:c5... (1 to 8 numbers)"},
    {"boundary", HL_PARAM_CHOICE, "periodic", 0, 0, "periodic|open",
     "periodic ring/torus, or an open window (exact circulant embedding)"},
};

/* "c1:c3:c5" into p->coeffs; the message names the model and `coeffs`. */
static int parse_coeffs(const char *model, const char *text, hl_nlgp_params *p)
{
    p->n_coeffs = 0;
    if (!text || !*text)
        return HL_OK;
    for (const char *s = text;;) {
        char *end;
        if (p->n_coeffs == HL_NLGP_MAX_COEFFS)
            return hl_error_set(HL_EINVAL, "%s: coeffs = '%s': at most %d odd-power "
                                "coefficients c1:c3:...:c%d", model, text, HL_NLGP_MAX_COEFFS,
                                POLY_MAX_DEGREE);
        double c = strtod(s, &end);
        if (end == s || (*end && *end != ':') || !isfinite(c))
            return hl_error_set(HL_EINVAL, "%s: coeffs = '%s': expected numbers separated "
                                "by ':' (c1:c3:c5...)", model, text);
        p->coeffs[p->n_coeffs++] = c;
        if (!*end)
            return HL_OK;
        s = end + 1;
    }
}

static int nlgp_from(const hl_param_values *v, int clone, hl_nlgp_params *p)
{
    *p = (hl_nlgp_params){.dim = hl_param_int(v, "dim"), .L = hl_param_int(v, "L"),
                          .xi = hl_param_num(v, "xi"), .p = hl_param_int(v, "p"),
                          .gain = hl_param_num(v, "gain"),
                          .convention = (hl_gain_convention)hl_param_int(v, "convention"),
                          .clone = clone,
                          .nonlin = (hl_nlgp_nonlin)hl_param_int(v, "nonlin"),
                          .boundary = (hl_nlgp_boundary)hl_param_int(v, "boundary")};
    const char *name = v->model->name, *text = hl_param_text(v, "coeffs");
    int rc = parse_coeffs(name, text, p);
    if (rc)
        return rc;
    if (p->nonlin == HL_NONLIN_POLY && p->n_coeffs == 0)
        return hl_error_set(HL_EINVAL, "%s: nonlin = poly needs coeffs = c1:c3:c5... (the "
                            "odd-power coefficients of the polynomial)", name);
    if (p->nonlin != HL_NONLIN_POLY && p->n_coeffs > 0)
        return hl_error_set(HL_EINVAL, "%s: coeffs = '%s' is only used with nonlin = poly "
                            "(nonlin = %s)", name, text, nonlin_names[p->nonlin]);
    return HL_OK;
}

int hl_nlgp_params_from(const hl_param_values *v, hl_nlgp_params *p)
{
    const char *name = v && v->model ? v->model->name : "(none)";
    if (strcmp(name, "nlgp") != 0 && strcmp(name, "gp") != 0)
        return hl_error_set(HL_EINVAL, "NLGP parameters: the model is '%s', not nlgp or gp",
                            name);
    return nlgp_from(v, strcmp(name, "gp") == 0, p);
}

static hl_sampler *nlgp_create(const hl_param_values *v)
{
    hl_nlgp_params p;
    return nlgp_from(v, 0, &p) ? NULL : hl_nlgp_alloc(&p);
}

static hl_sampler *gp_create(const hl_param_values *v)
{
    hl_nlgp_params p;
    return nlgp_from(v, 1, &p) ? NULL : hl_nlgp_alloc(&p);
}

const hl_model hl_model_nlgp = {
    "nlgp", "non-linear Gaussian process f(g z)/Z (erf, sign, tanh, odd polynomial) of a "
    "Gaussian latent z, periodic or open",
    nlgp_params, sizeof nlgp_params / sizeof *nlgp_params, nlgp_create};

const hl_model hl_model_gp = {
    "gp", "Gaussian clone of the NLGP: a Gaussian field with the NLGP's covariance",
    nlgp_params, sizeof nlgp_params / sizeof *nlgp_params, gp_create};
