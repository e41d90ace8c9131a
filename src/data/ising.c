/* ising.c — the Ising model on a ring (exact) or a torus (Wolff clusters), and its
 * Gaussian clone.
 *
 * Spins s = ±1 on a ring of L sites (dim 1) or an L x L torus (dim 2), periodic
 * boundaries, coupling J = 1 between nearest neighbours, no field: the weight of a
 * configuration is exp(K sum_<ij> s_i s_j), K = 1/T. Samples are the spins as floats.
 *
 * dim 1, exact and stateless. A ring has an even number of domain walls, so an open
 * chain (s_0 uniform, each of the L-1 bonds a wall with probability q = (1 - tanh K)/2)
 * is not a sample of the ring. We draw the chain and then accept or reject the closing
 * bond s_{L-1} s_0: the target weight differs from the chain's by that bond's factor,
 * (1 - q) if it is not a wall and q if it is, so the chain is accepted with probability
 * 1 or q / (1 - q) = exp(-2K). At least half of the proposals are accepted. Exact
 * statistics: <s_0 s_d> = (t^d + t^(L-d)) / (1 + t^L), t = tanh K, and the correlation
 * length of the infinite chain xi = -1 / log t.
 *
 * dim 2, Wolff's single-cluster algorithm (a Markov chain: the sampler keeps the
 * lattice, so it is not stateless). The chain starts from random spins drawn from the
 * generator of the first draw, then runs `burnin` cluster sweeps; between samples it
 * runs `sweeps` cluster sweeps. A cluster sweep is L*L flipped spins, the usual unit in
 * which Wolff's autocorrelation is measured: between samples the chain grows a fixed
 * number of clusters, sweeps * L^2 / (mean cluster size), the mean measured over the
 * second half of the burn-in (a count that stopped at a total size would bias the
 * samples, see burn_in). Default sweeps = 4, chosen by measuring this code's lag-one
 * autocorrelation of the energy between consecutive samples: at most 0.02, the noise
 * level of the measurement, away from the critical point (L = 128 at T = 1.5, 2.0 and
 * 2.6), i.e. effectively independent samples. At T_c = 2.269, where Wolff's
 * autocorrelation time grows slowly with L, it is 0.09 at L = 32 and about 0.25 at
 * L = 128 and 512; sweeps = 10 brings L = 32 to 0.01 and L = 128 to 0.07.
 *
 * clone = 1: a Gaussian with the model's covariance (and its zero mean). In 1D the
 * exact row above; in 2D no finite-lattice formula is known, so the row is estimated
 * when the sampler is created: `clone_n` samples of the Wolff chain, drawn from the
 * sampler's own stream (seed, HL_STREAM_USER + 101), averaged over all translations
 * (the periodogram, see hl_lattice_moment_row) and over the lattice's x <-> y
 * symmetry. clone_n = 0 picks enough samples for 2^22 site values (at least 100). */
#include "sampler_impl.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

enum { ISING_MAX_L2 = 512, ISING_CLONE_STREAM = HL_STREAM_USER + 101 };

typedef struct {
    hl_sampler base;
    int dim, L, clone;
    double T;
    double close_accept;     /* exp(-2K): acceptance of a chain whose closing bond is a wall */
    /* dim 2: the Wolff chain */
    int8_t *spin;
    uint32_t *stack;
    double burnin, sweeps;
    size_t clusters;         /* Wolff clusters per sample, fixed at the end of burn-in */
    int started;
    /* clone */
    hl_field field;
} ising;

double hl_ising_xi(double T)
{
    return -1 / log(tanh(1 / T));
}

int hl_ising_covariance_row_1d(int L, double T, double *row)
{
    if (L < 2)
        return hl_error_set(HL_EINVAL, "ising: L = %d: accepted range is L >= 2", L);
    if (!(T > 0) || !isfinite(T))
        return hl_error_set(HL_EINVAL, "ising: T = %g: accepted range is T > 0", T);
    double t = tanh(1 / T), tL = pow(t, L);
    for (int d = 0; d < L; d++)
        row[d] = (pow(t, d) + pow(t, L - d)) / (1 + tL);
    return HL_OK;
}

/* The threshold on gsl_rng_get() - min that makes an event of probability p. */
static uint64_t threshold(const gsl_rng *r, double p)
{
    double range = (double)(gsl_rng_max(r) - gsl_rng_min(r)) + 1;
    return p >= 1 ? (uint64_t)range : (uint64_t)(p * range);
}

static inline int bernoulli(gsl_rng *r, uint64_t thresh)
{
    return (uint64_t)(gsl_rng_get(r) - gsl_rng_min(r)) < thresh;
}

/* ---- dim 1: the ring, exactly ------------------------------------------------------ */

static void ring_draw(ising *s, float *x, uint64_t wall, gsl_rng *rng)
{
    int L = s->L;
    for (;;) {
        float v = gsl_rng_uniform(rng) < 0.5 ? 1.0f : -1.0f;
        int parity = 0;
        x[0] = v;
        for (int i = 1; i < L; i++) {
            if (bernoulli(rng, wall)) {
                v = -v;
                parity ^= 1;
            }
            x[i] = v;
        }
        /* An odd number of walls along the chain makes the closing bond a wall. */
        if (!parity || gsl_rng_uniform(rng) < s->close_accept)
            return;
    }
}

/* ---- dim 2: Wolff clusters --------------------------------------------------------- */

/* Grow one cluster from a random site, flipping as it grows; returns its size. */
static size_t wolff_cluster(ising *s, uint64_t add, gsl_rng *rng)
{
    uint32_t L = (uint32_t)s->L, D = L * L;
    int8_t *spin = s->spin;
    uint32_t *stack = s->stack, top = 0;
    uint32_t seed = (uint32_t)gsl_rng_uniform_int(rng, D);
    int8_t old = spin[seed];
    spin[seed] = (int8_t)-old;
    stack[top++] = seed;
    size_t size = 1;
    while (top) {
        uint32_t i = stack[--top], r = i / L, c = i % L;
        uint32_t nb[4] = {r ? i - L : i + D - L, r + 1 < L ? i + L : i + L - D,
                          c ? i - 1 : i + L - 1, c + 1 < L ? i + 1 : i + 1 - L};
        for (int k = 0; k < 4; k++) {
            uint32_t j = nb[k];
            /* A site joins at most once: it is flipped when it joins. */
            if (spin[j] == old && bernoulli(rng, add)) {
                spin[j] = (int8_t)-old;
                stack[top++] = j;
                size++;
            }
        }
    }
    return size;
}

/* Burn-in: clusters until their sizes add up to burnin * L^2 spins. The clusters of
 * its second half give the mean cluster size, and so the fixed number of clusters per
 * sample. The count must not depend on the clusters drawn after burn-in: stopping when
 * the sizes reach a total stops preferentially just after a large cluster, and the
 * state there is not a sample of the Boltzmann weight (on a 4 x 4 torus at T = 3 the
 * nearest-neighbour correlation came out 0.62 instead of 0.51). */
static void burn_in(ising *s, uint64_t add, gsl_rng *rng)
{
    double target = s->burnin * s->base.D, done = 0, counted = 0;
    size_t clusters = 0;
    while (done < target) {
        size_t size = wolff_cluster(s, add, rng);
        done += (double)size;
        if (done > target / 2) {
            counted += (double)size;
            clusters++;
        }
    }
    double mean = clusters ? counted / clusters : 1;
    s->clusters = (size_t)fmax(1, ceil(s->sweeps * s->base.D / mean));
}

static void torus_draw(ising *s, size_t n, float *out, gsl_rng *rng)
{
    size_t D = s->base.D;
    uint64_t add = threshold(rng, -expm1(-2 / s->T));
    if (!s->started) {
        for (size_t i = 0; i < D; i++)
            s->spin[i] = gsl_rng_uniform(rng) < 0.5 ? 1 : -1;
        burn_in(s, add, rng);
        s->started = 1;
    }
    for (size_t m = 0; m < n; m++) {
        for (size_t k = 0; k < s->clusters; k++)
            wolff_cluster(s, add, rng);
        float *x = out + m * D;
        for (size_t i = 0; i < D; i++)
            x[i] = s->spin[i];
    }
}

static int ising_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    ising *s = (ising *)base;
    if (s->clone)
        hl_field_draw(&s->field, n, out, rng);
    else if (s->dim == 1) {
        uint64_t wall = threshold(rng, 0.5 * (1 - tanh(1 / s->T))); /* q = (1 - t) / 2 */
        for (size_t m = 0; m < n; m++)
            ring_draw(s, out + m * base->D, wall, rng);
    }
    else
        torus_draw(s, n, out, rng);
    return HL_OK;
}

static void ising_destroy(hl_sampler *base)
{
    ising *s = (ising *)base;
    if (s->clone)
        hl_field_free(&s->field);
    free(s->spin);
    free(s->stack);
    free(s);
}

/* The ring and the clones depend on the generator only; the Wolff chain does not. */
static const hl_sampler_ops ising_exact_ops = {"ising", ising_sample, ising_destroy, 1};
static const hl_sampler_ops ising_chain_ops = {"ising", ising_sample, ising_destroy, 0};

/* ---- Empirical second moments of a translation-invariant sampler -------------------
 *
 * For one sample x, the average over translations (1/D) sum_i x_i x_{i+j} has the DFT
 * |X_k|^2 / D (Wiener–Khinchin). Two real samples share one complex transform
 * (x + i y): |Z_k|^2 + |Z_-k|^2 = 2 (|X_k|^2 + |Y_k|^2), so the power, symmetrised in
 * k, is the sum of the two samples' powers. The transform is the float plan of an
 * hl_field (planned under field.c's lock); the sums are in double. */
int hl_lattice_moment_row(hl_sampler *s, int dim, int L, size_t n, int isotropic,
                          gsl_rng *rng, double *row)
{
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    if ((dim != 1 && dim != 2) || L < 2 || s->D != D || n < 1)
        return hl_error_set(HL_EINVAL, "moment row: dim = %d, L = %d, n = %zu do not fit a "
                            "sampler of dimension %zu (n >= 1)", dim, L, n, s->D);
    hl_field f;
    double *acc = calloc(D, sizeof(double));
    float *x = malloc(sizeof(float) * 2 * D);
    if (!acc || !x) {
        free(acc);
        free(x);
        return hl_error_set(HL_ENOMEM, "moment row: cannot allocate for D = %zu", D);
    }
    acc[0] = 1; /* a delta row: any row gives the field its plans */
    int rc = hl_field_init(&f, dim, L, acc);
    acc[0] = 0;
    for (size_t m = 0; !rc && m < n; m += 2) {
        size_t k = n - m < 2 ? 1 : 2;
        if ((rc = hl_sampler_sample(s, k, x, rng)))
            break;
        float *b = (float *)f.buf;
        for (size_t j = 0; j < D; j++) {
            b[2 * j] = x[j];
            b[2 * j + 1] = k == 2 ? x[D + j] : 0;
        }
        fftwf_execute(f.plan_one);
        for (size_t j = 0; j < D; j++)
            acc[j] += (double)b[2 * j] * b[2 * j] + (double)b[2 * j + 1] * b[2 * j + 1];
    }
    if (!rc) {
        /* Symmetrise k <-> -k and normalise: P_k = <|X_k|^2> / D, real and even, so its
         * DFT is real and row = DFT(P) / D. */
        double *P = malloc(sizeof(double) * D);
        if (!P)
            rc = hl_error_set(HL_ENOMEM, "moment row: cannot allocate for D = %zu", D);
        for (size_t j = 0; P && j < D; j++) {
            size_t r = j / L, c = j % L;
            size_t mj = dim == 1 ? (L - j) % L : ((L - r) % L) * L + (L - c) % L;
            P[j] = 0.5 * (acc[j] + acc[mj]) / ((double)n * D);
        }
        if (P && !(rc = hl_circulant_spectrum(dim, L, P, row)))
            for (size_t j = 0; j < D; j++)
                row[j] /= D;
        free(P);
    }
    if (!rc && dim == 2 && isotropic)
        for (int r = 0; r < L; r++)
            for (int c = r + 1; c < L; c++) {
                double a = 0.5 * (row[r * L + c] + row[c * L + r]);
                row[r * L + c] = row[c * L + r] = a;
            }
    hl_field_free(&f);
    free(acc);
    free(x);
    return rc;
}

/* ---- Allocation and the registry entry --------------------------------------------- */

typedef struct {
    int dim, L, clone;
    double T, burnin, sweeps;
    uint64_t seed;
    size_t clone_n;
} ising_params;

static ising *ising_new(const ising_params *p)
{
    size_t D = p->dim == 1 ? (size_t)p->L : (size_t)p->L * p->L;
    ising *s = calloc(1, sizeof *s);
    if (!s) {
        hl_error_set(HL_ENOMEM, "cannot allocate an Ising sampler");
        return NULL;
    }
    s->base.ops = p->dim == 1 || p->clone ? &ising_exact_ops : &ising_chain_ops;
    s->base.D = D;
    s->base.field = &s->field;
    s->dim = p->dim;
    s->L = p->L;
    s->T = p->T;
    s->clone = p->clone;
    s->close_accept = exp(-2 / p->T);
    s->burnin = p->burnin;
    s->sweeps = p->sweeps;
    if (p->dim == 2 && !p->clone) {
        s->spin = malloc(D);
        s->stack = malloc(sizeof(uint32_t) * D);
        if (!s->spin || !s->stack) {
            ising_destroy(&s->base);
            hl_error_set(HL_ENOMEM, "cannot allocate an Ising lattice of %zu sites", D);
            return NULL;
        }
    }
    return s;
}

/* The clone's covariance row: exact in 1D, estimated from the chain in 2D. */
static int clone_row(const ising_params *p, double *row)
{
    if (p->dim == 1)
        return hl_ising_covariance_row_1d(p->L, p->T, row);
    ising_params q = *p;
    q.clone = 0;
    ising *chain = ising_new(&q);
    gsl_rng *rng = hl_rng_alloc(p->seed, ISING_CLONE_STREAM);
    size_t D = (size_t)p->L * p->L;
    size_t n = p->clone_n ? p->clone_n : ((size_t)1 << 22) / D;
    int rc = chain && rng ? hl_lattice_moment_row(&chain->base, 2, p->L, n < 100 ? 100 : n,
                                                  1, rng, row)
                          : HL_ENOMEM;
    hl_rng_free(rng);
    if (chain)
        ising_destroy(&chain->base);
    row[0] = 1; /* s^2 = 1 exactly; the estimate differs only by rounding */
    return rc;
}

static hl_sampler *ising_create(const hl_param_values *v)
{
    ising_params p = {hl_param_int(v, "dim"),      hl_param_int(v, "L"),
                      hl_param_int(v, "clone"),    hl_param_num(v, "T"),
                      hl_param_num(v, "burnin"),   hl_param_num(v, "sweeps"),
                      (uint64_t)hl_param_num(v, "seed"), (size_t)hl_param_num(v, "clone_n")};
    if (p.dim == 2 && p.L > ISING_MAX_L2) {
        hl_error_set(HL_EINVAL, "ising: L = %d: accepted range is 2..%d for dim 2", p.L,
                     ISING_MAX_L2);
        return NULL;
    }
    ising *s = ising_new(&p);
    if (!s || !p.clone)
        return s ? &s->base : NULL;
    double *row = malloc(sizeof(double) * s->base.D);
    int rc = row ? clone_row(&p, row) : hl_error_set(HL_ENOMEM, "ising: cannot allocate");
    if (!rc)
        rc = hl_field_init(&s->field, p.dim, p.L, row);
    free(row);
    if (rc) {
        ising_destroy(&s->base);
        return NULL;
    }
    return &s->base;
}

static const hl_param_spec ising_params_spec[] = {
    {"dim", HL_PARAM_INT, "1", 1, 2, NULL, "1: ring of L spins (exact); 2: L x L torus (Wolff)"},
    {"L", HL_PARAM_INT, "100", 2, 1 << 20, NULL, "sites per side (dim 2: at most 512)"},
    {"T", HL_PARAM_REAL, "2", 1e-6, 1e6, NULL,
     "temperature (J = 1; 2D critical at 2.269); 1D xi = -1/log tanh(1/T)"},
    {"clone", HL_PARAM_INT, "0", 0, 1, NULL, "1: the Gaussian clone (same covariance)"},
    {"burnin", HL_PARAM_REAL, "100", 1, 1e7, NULL,
     "dim 2: cluster sweeps (L*L flipped spins) before the first sample"},
    {"sweeps", HL_PARAM_REAL, "4", 0.01, 1e6, NULL,
     "dim 2: cluster sweeps between samples (4: independent away from T_c; see ising.c)"},
    {"seed", HL_PARAM_INT, "1", 0, 9007199254740991.0, NULL,
     "dim 2 clone: seed of the chain that estimates the covariance"},
    {"clone_n", HL_PARAM_INT, "0", 0, 1e9, NULL,
     "dim 2 clone: samples in the covariance estimate (0: 2^22 / L^2, at least 100)"},
};

const hl_model hl_model_ising = {
    "ising", "Ising spins (J = 1, periodic): exact 1D ring, Wolff 2D torus, or their clone",
    ising_params_spec, sizeof ising_params_spec / sizeof *ising_params_spec, ising_create};
