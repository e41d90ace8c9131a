/* norta.c — NORTA fields with AlgQDF marginals: tunable kurtosis at a fixed covariance.
 *
 * Lufkin, Saxe & Grant (NeurIPS 2024) vary the marginal excess kurtosis of
 * translation-invariant inputs and watch localisation appear or vanish. NORTA
 * ("normal to anything") builds such inputs: x_i = F^{-1}(Phi(z_i)) with z a
 * Gaussian field, so every x_i has the marginal F; the latent correlation of z is
 * chosen lag by lag so that x has the TARGET covariance exp(-(d/xi)^p) (the NLGP's
 * latent kernel, separable in 2D) whatever the marginal. Changing the kurtosis then
 * changes only the higher-order statistics.
 *
 * The marginal: the AlgQDF family of the authors' code, whose CDF is an algebraic
 * sigmoid. With shape k > 4 and y the unstandardised variable,
 *     F_k(y) = (1 + y / (1 + |y|^k)^(1/k)) / 2,
 *     Q_k(u) = t / (1 - |t|^k)^(1/k),   t = 2u - 1 in (-1, 1),
 * and x = Q_k(Phi(z)) / sigma_k = t / (1 - |t|^k)^(1/k) / sigma_k with t = erf(z/sqrt 2).
 * Its tails are power laws, P(|y| > s) ~ s^-k / k, so moments of order < k exist:
 * with s = |t|^k, E y^m = (1/k) B((m+1)/k, 1 - m/k) (m even), hence
 *     sigma_k^2 = (1/k) B(3/k, 1 - 2/k),
 *     excess kurtosis = k B(5/k, 1 - 4/k) / B(3/k, 1 - 2/k)^2 - 3,
 * which falls from +inf (k -> 4) through 0 (k ~ 5.89) to -6/5 (k -> inf: uniform).
 * k = 5 gives +1.29, k = 10 gives -0.93. The shape may also be given as a target
 * excess kurtosis, solved for k by Brent's method.
 *
 * The latent correlation: with f = Q_k(Phi(.)) / sigma_k odd and a_n = E[f(z) h_n(z)]
 * its coefficients on the normalised Hermite polynomials (only odd n), Mehler's
 * formula gives corr(x_i, x_j) = rho(r) = sum_n a_n^2 r^n for corr(z_i, z_j) = r.
 * rho is odd, increasing, rho(1) = sum a_n^2 = E f^2 = 1. The a_n come from a
 * trapezoid rule (h = 1/128; the integrand decays like a Gaussian and is smooth but
 * for a |z|^(k+1) term at 0, so the error is ~h^(k+1) < 1e-10); the < 2e-11 of
 * sum a_n^2 beyond the last term kept is put on the next power, so that rho(1) = 1. Each target is inverted by a safeguarded Newton iteration.
 * The latent matrix need not be positive semi-definite (NORTA's known failure; here
 * for smooth targets, p = 2, whose spectrum reaches round-off): its negative circulant
 * eigenvalues are clipped and reported (hl_sampler_clipping), and the row is scaled so
 * that the latent variance stays 1 (the marginal is exact, the covariance is off by
 * about the clipped fraction, ~1e-3 for p = 2, 0 for p = 1). */
#include "sampler_impl.h"
#include "hoclab/error.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>

/* The shapes accepted by the model: the fourth moment needs k > 4, and beyond 1e4
 * the marginal is the uniform one to 3e-7 in kurtosis. */
#define NORTA_K_MIN 4.1
#define NORTA_K_MAX 1e4

/* Odd Hermite terms kept, n <= 2 N_TERMS - 1 = 119. a_n^2 decays only algebraically
 * (|t|^k is not smooth at z = 0), but what is left beyond n = 119 is below 2e-11 for
 * every accepted k (measured), and it goes on r^121, so rho is off by less than that. */
enum { N_TERMS = 60 };

typedef struct {
    hl_sampler base;
    hl_norta_params p;
    float k, inv_sigma;    /* x = Q_k(Phi(z)) / sigma_k (NORTA only) */
    hl_field field;        /* the latent field (NORTA) or the clone's field */
} norta;

/* ---- The AlgQDF marginal ----------------------------------------------------------- */

/* E y^m of the unstandardised AlgQDF variable (m even, m < k). */
static double algqdf_moment(double k, int m)
{
    return exp(gsl_sf_lnbeta((m + 1) / k, 1 - m / k)) / k;
}

static double kurtosis_of(double k)
{
    double v = algqdf_moment(k, 2);
    return algqdf_moment(k, 4) / (v * v) - 3;
}

int hl_norta_kurtosis(double k, double *kurtosis)
{
    if (!(k > 4) || !isfinite(k))
        return hl_error_set(HL_EINVAL, "k = %g: the AlgQDF kurtosis is finite only for k > 4",
                            k);
    *kurtosis = kurtosis_of(k);
    return HL_OK;
}

static double kurtosis_gap(double k, void *target)
{
    return kurtosis_of(k) - *(const double *)target;
}

int hl_norta_shape(double kurtosis, double *k)
{
    double lo = kurtosis_of(NORTA_K_MAX), hi = kurtosis_of(NORTA_K_MIN);
    if (!(kurtosis >= lo && kurtosis <= hi))
        return hl_error_set(HL_EINVAL, "kurtosis = %g: accepted range is %.7f..%.2f (AlgQDF "
                            "shapes k = %g..%g)", kurtosis, lo, hi, NORTA_K_MIN, NORTA_K_MAX);
    if (kurtosis == lo || kurtosis == hi) {
        *k = kurtosis == lo ? NORTA_K_MAX : NORTA_K_MIN;
        return HL_OK;
    }
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!s)
        return hl_error_set(HL_ENOMEM, "cannot allocate a root finder");
    gsl_function f = {kurtosis_gap, &kurtosis};
    gsl_root_fsolver_set(s, &f, NORTA_K_MIN, NORTA_K_MAX);
    int st = GSL_CONTINUE;
    for (int it = 0; it < 200 && st == GSL_CONTINUE; it++) {
        gsl_root_fsolver_iterate(s);
        st = gsl_root_test_interval(gsl_root_fsolver_x_lower(s), gsl_root_fsolver_x_upper(s),
                                    0, 1e-13);
    }
    *k = gsl_root_fsolver_root(s);
    gsl_root_fsolver_free(s);
    if (st != GSL_SUCCESS)
        return hl_error_set(HL_ENUMERIC, "kurtosis = %g: the shape k did not converge",
                            kurtosis);
    return HL_OK;
}

/* Q_k(Phi(z)) before standardisation, computed from log t and log(1 - t^k) so that
 * the tails keep full precision: 1 - t = erfc(|z|/sqrt 2) through its logarithm, and
 * once that is below e^-50, 1 - t^k = k (1 - t) to double precision. */
static double algqdf_raw(double z, double k)
{
    double a = fabs(z), lt, lq; /* log t, log(1 - t^k) */
    if (a == 0)
        return 0;
    if (a < 1) {
        lt = log(erf(a * M_SQRT1_2));
        lq = log(-expm1(k * lt));
    } else {
        double le = gsl_sf_log_erfc(a * M_SQRT1_2); /* log(1 - t) */
        if (le > -50) {
            lt = log1p(-exp(le));
            lq = log(-expm1(k * lt));
        } else {
            lt = -exp(le);
            lq = log(k) + le;
        }
    }
    return copysign(exp(lt - lq / k), z);
}

double hl_norta_marginal(double z, double k)
{
    return algqdf_raw(z, k) / sqrt(algqdf_moment(k, 2));
}

/* The same map in single precision, vectorised with libmvec, for the samples. The
 * FLT_MIN added to 1 - t^k changes nothing representable except for |z| > 14, where
 * erfcf underflows and x would otherwise be infinite. */
#pragma omp declare simd notinbranch
float erfcf(float);
#pragma omp declare simd notinbranch
float log1pf(float);
#pragma omp declare simd notinbranch
float expm1f(float);
#pragma omp declare simd notinbranch
float logf(float);
#pragma omp declare simd notinbranch
float expf(float);

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
algqdf_map(float *restrict x, size_t n, float k, float inv_sigma)
{
    float inv_k = 1.0f / k;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float z = x[i];
        float e = erfcf(fabsf(z) * (float)M_SQRT1_2);     /* 1 - t */
        float lt = log1pf(-e);                            /* log t */
        float q = -expm1f(k * lt) + 0x1p-126f;            /* 1 - t^k */
        x[i] = copysignf(expf(lt - logf(q) * inv_k) * inv_sigma, z);
    }
}

/* ---- The correlation map rho(r) and its inverse ------------------------------------ */

typedef struct {
    double c[N_TERMS + 1]; /* rho(r) = r sum_m c[m] r^(2m): c[m] = a_(2m+1)^2, c[N] = rest */
} corr_map;

/* Hermite coefficients by the trapezoid rule on z in [0, Z_MAX] (f h_n phi is even):
 * |f h_n phi| <= |f| sqrt(phi) up to a constant (Cramer's bound), which is below
 * exp(-z^2 (1/4 - 1/(2k))) ~ 1e-30 at Z_MAX for every k >= 4.1. */
static void corr_map_init(corr_map *m, double k)
{
    const double h = 1.0 / 128, Z_MAX = 26;
    const int M = (int)(Z_MAX / h);
    double a[2 * N_TERMS] = {0};
    double inv_sigma = 1 / sqrt(algqdf_moment(k, 2));
    for (int i = 1; i <= M; i++) {
        double z = i * h, w = (i == M ? 0.5 : 1.0) * h;
        double fphi = algqdf_raw(z, k) * inv_sigma * exp(-0.5 * z * z) / sqrt(2 * M_PI);
        /* normalised Hermite polynomials h_n = He_n / sqrt(n!) by their recurrence */
        double hm = 1, hn = z;
        for (int n = 1; n < 2 * N_TERMS; n++) {
            if (n % 2)
                a[n] += 2 * w * fphi * hn;
            double next = (z * hn - sqrt((double)n) * hm) / sqrt(n + 1.0);
            hm = hn;
            hn = next;
        }
    }
    double sum = 0;
    for (int j = 0; j < N_TERMS; j++) {
        m->c[j] = a[2 * j + 1] * a[2 * j + 1];
        sum += m->c[j];
    }
    m->c[N_TERMS] = fmax(1 - sum, 0);
}

/* rho(r) and rho'(r) for r in [0, 1]. */
static double corr_map_eval(const corr_map *m, double r, double *deriv)
{
    double r2 = r * r, p = 0, dp = 0;
    for (int j = N_TERMS; j >= 0; j--) {
        dp = dp * r2 + (2 * j + 1) * m->c[j];
        p = p * r2 + m->c[j];
    }
    *deriv = dp;
    return r * p;
}

/* The latent r with rho(r) = t, for t in [-1, 1] (rho is odd). */
static double corr_map_inverse(const corr_map *m, double t)
{
    if (t < 0)
        return -corr_map_inverse(m, -t);
    if (t == 0 || t >= 1)
        return t >= 1 ? 1 : 0;
    double lo = t, hi = 1, r = t / m->c[0] < 1 ? t / m->c[0] : 0.5 * (1 + t); /* rho(r) <= r */
    for (int it = 0; it < 100; it++) {
        double d, g = corr_map_eval(m, r, &d) - t;
        if (g > 0)
            hi = r;
        else
            lo = r;
        double next = r - g / d;
        if (!(next > lo && next < hi))
            next = 0.5 * (lo + hi); /* Newton left the bracket: bisect */
        if (fabs(next - r) <= 1e-15 * r)
            return next;
        r = next;
    }
    return r;
}

/* ---- Parameters, covariance rows ------------------------------------------------- */

static int ring_distance(int i, int L)
{
    int d = abs(i) % L;
    return d < L - d ? d : L - d;
}

static int kernel_validate(int dim, int L, double xi, int p)
{
    if (dim != 1 && dim != 2)
        return hl_error_set(HL_EINVAL, "dim = %d: accepted values are 1 and 2", dim);
    if (L < 2 || L > (dim == 1 ? 1 << 20 : 4096))
        return hl_error_set(HL_EINVAL, "L = %d: accepted range is 2..%d for dim %d", L,
                            dim == 1 ? 1 << 20 : 4096, dim);
    if (!(xi > 0) || !isfinite(xi))
        return hl_error_set(HL_EINVAL, "xi = %g: accepted range is xi > 0 (pixels)", xi);
    if (p != 1 && p != 2)
        return hl_error_set(HL_EINVAL, "kernel exponent p = %d: accepted values are 1 and 2",
                            p);
    return HL_OK;
}

int hl_kernel_row(int dim, int L, double xi, int p, double *row)
{
    int rc = kernel_validate(dim, L, xi, p);
    if (rc || !row)
        return rc;
    for (int r = 0; r < (dim == 1 ? 1 : L); r++) {
        double cr = dim == 1 ? 1 : hl_nlgp_kernel(ring_distance(r, L), xi, p);
        for (int c = 0; c < L; c++)
            row[(size_t)r * L + c] = cr * hl_nlgp_kernel(ring_distance(c, L), xi, p);
    }
    return HL_OK;
}

int hl_norta_validate(const hl_norta_params *p)
{
    int rc = kernel_validate(p->dim, p->L, p->xi, p->p);
    if (rc)
        return rc;
    if (!(p->k >= NORTA_K_MIN && p->k <= NORTA_K_MAX))
        return hl_error_set(HL_EINVAL, "k = %g: accepted range is %g..%g (the fourth moment "
                            "is finite only for k > 4)", p->k, NORTA_K_MIN, NORTA_K_MAX);
    if (p->clone != 0 && p->clone != 1)
        return hl_error_set(HL_EINVAL, "clone = %d: accepted values are 0 and 1", p->clone);
    return HL_OK;
}

int hl_norta_covariance_row(const hl_norta_params *p, double *row)
{
    int rc = hl_norta_validate(p);
    return rc ? rc : hl_kernel_row(p->dim, p->L, p->xi, p->p, row);
}

int hl_norta_latent_row(const hl_norta_params *p, double *row)
{
    int rc = hl_norta_validate(p);
    if (rc)
        return rc;
    corr_map m;
    corr_map_init(&m, p->k);
    int L = p->L, H = L / 2 + 1; /* distinct ring distances 0..L/2 */
    double *c1 = malloc(sizeof(double) * H);
    if (!c1)
        return hl_error_set(HL_ENOMEM, "cannot allocate the NORTA latent row (L = %d)", L);
    for (int d = 0; d < H; d++)
        c1[d] = hl_nlgp_kernel(d, p->xi, p->p);
    if (p->dim == 1) {
        for (int d = 0; d < H; d++)
            c1[d] = corr_map_inverse(&m, c1[d]);
        for (int j = 0; j < L; j++)
            row[j] = c1[ring_distance(j, L)];
        free(c1);
        return HL_OK;
    }
    /* 2D: the target C1(a) C1(b) depends on the pair of ring distances only; solve
     * each unordered pair once. */
    double *t = malloc(sizeof(double) * H * H);
    if (!t) {
        free(c1);
        return hl_error_set(HL_ENOMEM, "cannot allocate the NORTA latent row (L = %d)", L);
    }
    for (int a = 0; a < H; a++)
        for (int b = a; b < H; b++)
            t[a * H + b] = t[b * H + a] = corr_map_inverse(&m, c1[a] * c1[b]);
    for (int r = 0; r < L; r++)
        for (int c = 0; c < L; c++)
            row[(size_t)r * L + c] = t[ring_distance(r, L) * H + ring_distance(c, L)];
    free(t);
    free(c1);
    return HL_OK;
}

/* ---- The sampler ------------------------------------------------------------------- */

static int norta_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    norta *s = (norta *)base;
    hl_field_draw(&s->field, n, out, rng);
    if (!s->p.clone)
        algqdf_map(out, n * base->D, s->k, s->inv_sigma);
    return HL_OK;
}

static void norta_destroy(hl_sampler *base)
{
    hl_field_free(&((norta *)base)->field);
    free(base);
}

/* Clipping the negative eigenvalues of the latent circulant raises its diagonal by
 * their mass / D. Scaling the row down by as much first keeps var z = 1, so that the
 * marginal stays exactly AlgQDF; the covariance absorbs the (reported) error. */
static int keep_unit_variance(const hl_norta_params *p, double *row, size_t D)
{
    double *lambda = malloc(sizeof(double) * D);
    if (!lambda)
        return hl_error_set(HL_ENOMEM, "cannot allocate the NORTA spectrum (D = %zu)", D);
    int rc = hl_circulant_spectrum(p->dim, p->L, row, lambda);
    double neg = 0;
    for (size_t j = 0; j < D && !rc; j++)
        neg += lambda[j] < 0 ? -lambda[j] : 0;
    free(lambda);
    for (size_t j = 0; j < D && !rc; j++)
        row[j] /= 1 + neg / (double)D;
    return rc;
}

static const hl_sampler_ops norta_ops = {"norta", norta_sample, norta_destroy, 1};

hl_sampler *hl_norta_alloc(const hl_norta_params *p)
{
    if (hl_norta_validate(p))
        return NULL;
    size_t D = p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L;
    norta *s = calloc(1, sizeof *s);
    double *row = malloc(sizeof(double) * D);
    if (!s || !row) {
        free(s);
        free(row);
        hl_error_set(HL_ENOMEM, "cannot allocate a NORTA sampler with D = %zu", D);
        return NULL;
    }
    s->base.ops = &norta_ops;
    s->base.D = D;
    s->base.field = &s->field;
    s->p = *p;
    s->k = (float)p->k;
    s->inv_sigma = (float)(1 / sqrt(algqdf_moment(p->k, 2)));
    /* NORTA draws the adjusted latent field; the clone the target covariance itself. */
    int rc = p->clone ? hl_norta_covariance_row(p, row) : hl_norta_latent_row(p, row);
    if (!rc && !p->clone)
        rc = keep_unit_variance(p, row, D);
    if (!rc)
        rc = hl_field_init(&s->field, p->dim, p->L, row);
    free(row);
    if (rc) {
        free(s);
        return NULL;
    }
    return &s->base;
}

/* ---- Registry entry "norta" -------------------------------------------------------- */

static const hl_param_spec norta_params[] = {
    {"dim", HL_PARAM_INT, "1", 1, 2, NULL, "1: ring of L sites; 2: L x L torus"},
    {"L", HL_PARAM_INT, "100", 2, 1 << 20, NULL, "sites per side (dim 2: at most 4096)"},
    {"xi", HL_PARAM_REAL, "2", 1e-6, 1e9, NULL, "correlation length of the target, pixels"},
    {"p", HL_PARAM_INT, "2", 1, 2, NULL, "target covariance exp(-(d/xi)^p)"},
    {"k", HL_PARAM_REAL, "", NORTA_K_MIN, NORTA_K_MAX, NULL,
     "AlgQDF shape (tails ~ |x|^-k); default 5 unless kurtosis is given"},
    {"kurtosis", HL_PARAM_TEXT, "", 0, 0, NULL,
     "target marginal excess kurtosis, -1.1999997..26.33, instead of k"},
    {"clone", HL_PARAM_INT, "0", 0, 1, NULL, "1: the Gaussian with the target covariance"},
};

static hl_sampler *norta_create(const hl_param_values *v)
{
    hl_norta_params p = {hl_param_int(v, "dim"), hl_param_int(v, "L"), hl_param_num(v, "xi"),
                         hl_param_int(v, "p"), hl_param_num(v, "k"), hl_param_int(v, "clone")};
    const char *kurt = hl_param_text(v, "kurtosis");
    if (kurt && kurt[0]) {
        if (p.k != 0) {
            hl_error_set(HL_EINVAL, "norta: give either k or kurtosis, not both");
            return NULL;
        }
        char *end;
        double target = strtod(kurt, &end);
        if (end == kurt || *end || !isfinite(target)) {
            hl_error_set(HL_EINVAL, "norta: kurtosis = '%s' is not a number", kurt);
            return NULL;
        }
        if (hl_norta_shape(target, &p.k))
            return NULL;
    } else if (p.k == 0) {
        p.k = 5; /* unset (the registry checks a given k against its range) */
    }
    return hl_norta_alloc(&p);
}

const hl_model hl_model_norta = {
    "norta", "NORTA field with AlgQDF marginals: tunable kurtosis at a fixed covariance",
    norta_params, sizeof norta_params / sizeof *norta_params, norta_create};
