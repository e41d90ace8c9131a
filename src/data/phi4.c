/* phi4.c — the lattice phi^4 field theory on a ring or torus, by Markov chain, and its
 * Gaussian clone.
 *
 * A real field phi on a ring of L sites (dim 1) or an L x L torus (dim 2), periodic,
 * with weight exp(-S),
 *     S = sum_x [ -beta sum_mu phi_x phi_{x+mu} + phi_x^2 + lambda (phi_x^2 - 1)^2 ],
 * mu over the dim forward directions: the standard lattice form with hopping beta
 * (beta = 2 kappa in Lüscher and Weisz's notation) and quartic coupling lambda. At
 * beta = 0 the sites are independent with density ∝ exp(-phi^2 - lambda (phi^2-1)^2)
 * (hl_phi4_site_moments gives its moments); lambda = 0 is the Gaussian with precision
 * 2 - 2 beta sum_mu cos k_mu, stable for beta < 1/dim (hl_phi4_free_covariance_row).
 *
 * The chain (the sampler keeps the field: not stateless). One sweep is
 *   1. a Metropolis sweep over the sites in order, proposal phi + step * U(-1, 1);
 *   2. embedded Wolff clusters (Brower and Tamayo): the signs s = sign(phi) form an
 *      Ising model with couplings beta |phi_x| |phi_y|; clusters of equal signs are
 *      grown with probability 1 - exp(-2 beta |phi_x phi_y|) per bond and flipped;
 *      as many clusters as make L^dim sites on average (the mean size is measured in
 *      the second half of the burn-in, then the count is fixed). This moves the field
 *      between the wells of the double well (at beta = 0 a cluster is one site,
 *      flipped: exact, since the density is even), which Metropolis alone does slowly.
 * The chain starts from phi uniform in (-1, 1), drawn from the generator of the first
 * draw, and runs `burnin` sweeps; during the first half of them the step is tuned
 * towards a Metropolis acceptance of 1/2 (x or / 1.05 per sweep, from 2/sqrt(2 + 8
 * lambda), the width of the site potential's well), then frozen, so that the chain
 * that is sampled has a fixed kernel. `sweeps` sweeps separate samples. Default 10,
 * measured on this code at lambda = 1 (lag-one autocorrelation of the nearest-neighbour
 * correlation between consecutive samples): at most 0.04 for dim 1 (L = 100, beta =
 * 0.3) and dim 2 (L = 32, beta = 0.3, 0.5), i.e. effectively independent; 0.17 at
 * beta = 0.7 in dim 2, in the ordered phase just past the transition (raise sweeps).
 *
 * clone = 1: a Gaussian with the model's covariance (zero mean, by phi -> -phi). For
 * lambda = 0 the exact row; otherwise estimated when the sampler is created from
 * `clone_n` samples of the chain on its own stream (seed, HL_STREAM_USER + 102),
 * averaged over translations and the x <-> y symmetry (hl_lattice_moment_row).
 * clone_n = 0 picks enough samples for 2^20 site values (at least 100). */
#include "sampler_impl.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <gsl/gsl_integration.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

enum { PHI4_MAX_L2 = 512, PHI4_CLONE_STREAM = HL_STREAM_USER + 102 };

typedef struct {
    hl_sampler base;
    int dim, L, clone, sweeps, burnin;
    double beta, lambda;
    double *phi;
    uint32_t *stack;
    double step;             /* Metropolis step, tuned during burn-in */
    size_t clusters;         /* Wolff clusters per sweep, fixed at the end of burn-in */
    int started;
    hl_field field;          /* clone only */
} phi4;

/* ---- Exact statistics -------------------------------------------------------------- */

int hl_phi4_free_covariance_row(int dim, int L, double beta, double *row)
{
    if (dim != 1 && dim != 2)
        return hl_error_set(HL_EINVAL, "phi4: dim = %d: accepted values are 1 and 2", dim);
    if (L < 2)
        return hl_error_set(HL_EINVAL, "phi4: L = %d: accepted range is L >= 2", L);
    if (!(beta >= 0) || !(beta * dim < 1))
        return hl_error_set(HL_EINVAL, "phi4: beta = %g with lambda = 0: accepted range is "
                            "0 <= beta < 1/dim = %g", beta, 1.0 / dim);
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    double *inv = malloc(sizeof(double) * D);
    if (!inv)
        return hl_error_set(HL_ENOMEM, "phi4: cannot allocate for D = %zu", D);
    /* The precision 2 - beta * adjacency is diagonal in Fourier space. */
    for (size_t k = 0; k < D; k++) {
        double c = cos(2 * M_PI * (double)(k % L) / L);
        if (dim == 2)
            c += cos(2 * M_PI * (double)(k / L) / L);
        inv[k] = 1 / (2 - 2 * beta * c);
    }
    int rc = hl_circulant_spectrum(dim, L, inv, row);
    for (size_t j = 0; !rc && j < D; j++)
        row[j] /= D;
    free(inv);
    return rc;
}

typedef struct {
    double lambda, vmin;
    int power;
} site_density;

static double site_potential(double x, double lambda)
{
    double q = x * x - 1;
    return x * x + lambda * q * q;
}

/* x^power exp(-(V(x) - V_min)): shifted so that nothing underflows at the peak. */
static double site_integrand(double x, void *params)
{
    const site_density *d = params;
    return pow(x, d->power) * exp(-(site_potential(x, d->lambda) - d->vmin));
}

int hl_phi4_site_moments(double lambda, double *variance, double *excess_kurtosis)
{
    if (!(lambda >= 0) || !isfinite(lambda))
        return hl_error_set(HL_EINVAL, "phi4: lambda = %g: accepted range is lambda >= 0",
                            lambda);
    /* The density is even; on x >= 0 its peak is at x*^2 = 1 - 1/(2 lambda) (or 0). A
     * narrow peak (large lambda) is found reliably when it is an interval's end. */
    double peak = lambda > 0.5 ? sqrt(1 - 0.5 / lambda) : 0;
    site_density d = {lambda, site_potential(peak, lambda), 0};
    gsl_function f = {site_integrand, &d};
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    if (!w)
        return hl_error_set(HL_ENOMEM, "cannot allocate a quadrature workspace");
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    double m[3], part, err;
    int st = 0;
    for (int k = 0; k < 3 && !st; k++) {
        d.power = 2 * k;
        m[k] = 0;
        if (peak > 0) {
            st = gsl_integration_qags(&f, 0, peak, 0, 1e-11, 1000, w, &part, &err);
            m[k] += part;
        }
        if (!st) {
            st = gsl_integration_qagiu(&f, peak, 0, 1e-11, 1000, w, &part, &err);
            m[k] += part;
        }
    }
    gsl_set_error_handler(old);
    gsl_integration_workspace_free(w);
    if (st)
        return hl_error_set(HL_ENUMERIC, "phi4: quadrature of the site density failed: %s",
                            gsl_strerror(st));
    double m2 = m[1] / m[0], m4 = m[2] / m[0];
    *variance = m2;
    *excess_kurtosis = m4 / (m2 * m2) - 3;
    return HL_OK;
}

/* ---- The chain --------------------------------------------------------------------- */

static int neighbours(const phi4 *s, uint32_t i, uint32_t nb[4])
{
    uint32_t L = (uint32_t)s->L;
    if (s->dim == 1) {
        nb[0] = i ? i - 1 : L - 1;
        nb[1] = i + 1 < L ? i + 1 : 0;
        return 2;
    }
    uint32_t D = L * L, r = i / L, c = i % L;
    nb[0] = r ? i - L : i + D - L;
    nb[1] = r + 1 < L ? i + L : i + L - D;
    nb[2] = c ? i - 1 : i + L - 1;
    nb[3] = c + 1 < L ? i + 1 : i + 1 - L;
    return 4;
}

/* One Metropolis sweep; returns the acceptance rate. */
static double metropolis_sweep(phi4 *s, gsl_rng *rng)
{
    size_t D = s->base.D, accepted = 0;
    double *phi = s->phi, beta = s->beta, lambda = s->lambda, step = s->step;
    uint32_t nb[4];
    for (uint32_t i = 0; i < D; i++) {
        int k = neighbours(s, i, nb);
        double h = 0;
        for (int j = 0; j < k; j++)
            h += phi[nb[j]];
        double o = phi[i], x = o + step * (2 * gsl_rng_uniform(rng) - 1);
        double o2 = o * o - 1, x2 = x * x - 1;
        double dS = (x * x - o * o) + lambda * (x2 * x2 - o2 * o2) - beta * h * (x - o);
        if (dS <= 0 || gsl_rng_uniform(rng) < exp(-dS)) {
            phi[i] = x;
            accepted++;
        }
    }
    return (double)accepted / D;
}

/* One embedded Wolff cluster, flipped as it grows; returns its size. */
static size_t wolff_cluster(phi4 *s, gsl_rng *rng)
{
    double *phi = s->phi, beta = s->beta;
    uint32_t *stack = s->stack, top = 0, nb[4];
    uint32_t seed = (uint32_t)gsl_rng_uniform_int(rng, s->base.D);
    int positive = phi[seed] > 0;
    phi[seed] = -phi[seed];
    stack[top++] = seed;
    size_t size = 1;
    while (top && beta > 0) {
        uint32_t i = stack[--top];
        double a = fabs(phi[i]);
        int k = neighbours(s, i, nb);
        for (int j = 0; j < k; j++) {
            double y = phi[nb[j]];
            /* Only unflipped sites of the cluster's old sign can join. */
            if ((positive ? y > 0 : y < 0) &&
                gsl_rng_uniform(rng) < -expm1(-2 * beta * a * fabs(y))) {
                phi[nb[j]] = -y;
                stack[top++] = nb[j];
                size++;
            }
        }
    }
    return size;
}

/* One sweep: Metropolis, then `clusters` embedded Wolff clusters. */
static double sweep(phi4 *s, gsl_rng *rng)
{
    double acc = metropolis_sweep(s, rng);
    for (size_t k = 0; k < s->clusters; k++)
        wolff_cluster(s, rng);
    return acc;
}

/* Burn-in sweeps grow clusters until their sizes add up to L^dim; the second half's
 * clusters give the mean size and so the fixed count per sweep used afterwards. The
 * count must not depend on the clusters of the sampled chain: stopping at a total size
 * stops preferentially just after a large cluster, and biases the samples. */
static void burn_in(phi4 *s, gsl_rng *rng)
{
    size_t D = s->base.D, clusters = 0;
    double counted = 0;
    for (int b = 0; b < s->burnin; b++) {
        double acc = metropolis_sweep(s, rng);
        for (size_t done = 0; done < D;) {
            size_t size = wolff_cluster(s, rng);
            done += size;
            if (2 * b >= s->burnin - 1) {
                counted += (double)size;
                clusters++;
            }
        }
        if (2 * b < s->burnin) /* tune in the first half, then keep the kernel fixed */
            s->step = fmin(fmax(acc > 0.5 ? s->step * 1.05 : s->step / 1.05, 1e-4), 1e2);
    }
    s->clusters = clusters ? (size_t)fmax(1, ceil(D * clusters / counted)) : D;
}

static void chain_draw(phi4 *s, size_t n, float *out, gsl_rng *rng)
{
    size_t D = s->base.D;
    if (!s->started) {
        for (size_t i = 0; i < D; i++)
            s->phi[i] = 2 * gsl_rng_uniform(rng) - 1;
        burn_in(s, rng);
        s->started = 1;
    }
    for (size_t m = 0; m < n; m++) {
        for (int k = 0; k < s->sweeps; k++)
            sweep(s, rng);
        float *x = out + m * D;
        for (size_t i = 0; i < D; i++)
            x[i] = (float)s->phi[i];
    }
}

static int phi4_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    phi4 *s = (phi4 *)base;
    if (s->clone)
        hl_field_draw(&s->field, n, out, rng);
    else
        chain_draw(s, n, out, rng);
    return HL_OK;
}

static void phi4_destroy(hl_sampler *base)
{
    phi4 *s = (phi4 *)base;
    hl_field_free(&s->field);
    free(s->phi);
    free(s->stack);
    free(s);
}

static const hl_sampler_ops phi4_chain_ops = {"phi4", phi4_sample, phi4_destroy, 0};
static const hl_sampler_ops phi4_clone_ops = {"phi4", phi4_sample, phi4_destroy, 1};

/* ---- Allocation and the registry entry --------------------------------------------- */

typedef struct {
    int dim, L, clone, sweeps, burnin;
    double beta, lambda;
    uint64_t seed;
    size_t clone_n;
} phi4_params;

static phi4 *phi4_new(const phi4_params *p)
{
    size_t D = p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L;
    phi4 *s = calloc(1, sizeof *s);
    if (!s) {
        hl_error_set(HL_ENOMEM, "cannot allocate a phi4 sampler");
        return NULL;
    }
    s->base.ops = p->clone ? &phi4_clone_ops : &phi4_chain_ops;
    s->base.D = D;
    s->base.field = &s->field;
    s->dim = p->dim;
    s->L = p->L;
    s->clone = p->clone;
    s->sweeps = p->sweeps;
    s->burnin = p->burnin;
    s->beta = p->beta;
    s->lambda = p->lambda;
    s->step = 2 / sqrt(2 + 8 * p->lambda);
    if (!p->clone) {
        s->phi = malloc(sizeof(double) * D);
        s->stack = malloc(sizeof(uint32_t) * D);
        if (!s->phi || !s->stack) {
            phi4_destroy(&s->base);
            hl_error_set(HL_ENOMEM, "cannot allocate a phi4 field of %zu sites", D);
            return NULL;
        }
    }
    return s;
}

/* The clone's covariance row: exact at lambda = 0, estimated from the chain otherwise. */
static int clone_row(const phi4_params *p, double *row)
{
    if (p->lambda == 0)
        return hl_phi4_free_covariance_row(p->dim, p->L, p->beta, row);
    phi4_params q = *p;
    q.clone = 0;
    phi4 *chain = phi4_new(&q);
    gsl_rng *rng = hl_rng_alloc(p->seed, PHI4_CLONE_STREAM);
    size_t D = chain ? chain->base.D : 1;
    size_t n = p->clone_n ? p->clone_n : ((size_t)1 << 20) / D;
    int rc = chain && rng ? hl_lattice_moment_row(&chain->base, p->dim, p->L,
                                                  n < 100 ? 100 : n, 1, rng, row)
                          : HL_ENOMEM;
    hl_rng_free(rng);
    if (chain)
        phi4_destroy(&chain->base);
    return rc;
}

static hl_sampler *phi4_create(const hl_param_values *v)
{
    phi4_params p = {hl_param_int(v, "dim"),    hl_param_int(v, "L"),
                     hl_param_int(v, "clone"),  hl_param_int(v, "sweeps"),
                     hl_param_int(v, "burnin"), hl_param_num(v, "beta"),
                     hl_param_num(v, "lambda"), (uint64_t)hl_param_num(v, "seed"),
                     (size_t)hl_param_num(v, "clone_n")};
    if (p.dim == 2 && p.L > PHI4_MAX_L2) {
        hl_error_set(HL_EINVAL, "phi4: L = %d: accepted range is 2..%d for dim 2", p.L,
                     PHI4_MAX_L2);
        return NULL;
    }
    if (p.lambda == 0 && p.beta * p.dim >= 1) {
        hl_error_set(HL_EINVAL, "phi4: beta = %g with lambda = 0: accepted range is "
                     "beta < 1/dim = %g (larger beta has no stable Gaussian)", p.beta,
                     1.0 / p.dim);
        return NULL;
    }
    phi4 *s = phi4_new(&p);
    if (!s || !p.clone)
        return s ? &s->base : NULL;
    double *row = malloc(sizeof(double) * s->base.D);
    int rc = row ? clone_row(&p, row) : hl_error_set(HL_ENOMEM, "phi4: cannot allocate");
    if (!rc)
        rc = hl_field_init(&s->field, p.dim, p.L, row);
    free(row);
    if (rc) {
        phi4_destroy(&s->base);
        return NULL;
    }
    return &s->base;
}

static const hl_param_spec phi4_params_spec[] = {
    {"dim", HL_PARAM_INT, "1", 1, 2, NULL, "1: ring of L sites; 2: L x L torus"},
    {"L", HL_PARAM_INT, "100", 2, 1 << 20, NULL, "sites per side (dim 2: at most 512)"},
    {"beta", HL_PARAM_REAL, "0.3", 0, 100, NULL,
     "hopping: S has -beta phi_x phi_{x+mu} per bond (lambda = 0: beta < 1/dim)"},
    {"lambda", HL_PARAM_REAL, "1", 0, 1e4, NULL,
     "quartic coupling: S has phi^2 + lambda (phi^2 - 1)^2 per site"},
    {"sweeps", HL_PARAM_INT, "10", 1, 1e6, NULL,
     "sweeps (Metropolis + Wolff clusters over L^dim sites) between samples"},
    {"burnin", HL_PARAM_INT, "200", 1, 1e8, NULL,
     "sweeps before the first sample (the first half tunes the Metropolis step, the "
     "second measures the cluster size)"},
    {"clone", HL_PARAM_INT, "0", 0, 1, NULL, "1: the Gaussian clone (same covariance)"},
    {"seed", HL_PARAM_INT, "1", 0, 9007199254740991.0, NULL,
     "clone, lambda > 0: seed of the chain that estimates the covariance"},
    {"clone_n", HL_PARAM_INT, "0", 0, 1e9, NULL,
     "clone, lambda > 0: samples in the covariance estimate (0: 2^20 / L^dim, >= 100)"},
};

const hl_model hl_model_phi4 = {
    "phi4", "lattice phi^4 field (periodic), Metropolis + embedded Wolff; or its clone",
    phi4_params_spec, sizeof phi4_params_spec / sizeof *phi4_params_spec, phi4_create};
