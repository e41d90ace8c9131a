/* data.h — input models behind one sampler interface, and the binary task.
 *
 * A sampler draws n inputs of dimension D into a row-major float array from a GSL
 * generator (see rng.h). This issue provides the non-linear Gaussian process (NLGP)
 * and its Gaussian clone on a ring (dim 1, D = L) or a torus (dim 2, D = L*L). Both
 * are translation invariant, so their covariance is circulant and sampling costs one
 * FFT per two samples (FFTW plans built once, at allocation). */
#ifndef HOCLAB_DATA_H
#define HOCLAB_DATA_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hl_sampler hl_sampler;

/* Draw n samples into out (n x D, row-major). Returns HL_OK or an hl_status. */
int hl_sampler_sample(hl_sampler *s, size_t n, float *out, gsl_rng *rng);
size_t hl_sampler_dim(const hl_sampler *s);
void hl_sampler_free(hl_sampler *s);

/* ---- NLGP and its Gaussian clone ------------------------------------------------ */

/* Which scaling of the gain g:
 *  HL_GAIN_SEEDS   x = erf(g z) / Z(g),        Z^2 = (2/pi) asin(2g^2 / (1 + 2g^2))
 *  HL_GAIN_AUTHORS x = erf(g z / sqrt 2) / Z,  Z^2 = (2/pi) asin(g^2 / (1 + g^2))
 * The second is the first with g scaled by 1/sqrt 2 (the authors' public code). */
typedef enum { HL_GAIN_SEEDS = 0, HL_GAIN_AUTHORS = 1 } hl_gain_convention;

typedef struct hl_nlgp_params {
    int dim;                 /* 1 (ring) or 2 (torus) */
    int L;                   /* sites per side, >= 2 */
    double xi;               /* correlation length in pixels, > 0 */
    int p;                   /* kernel exponent: exp(-(d/xi)^p), p in {1, 2} */
    double gain;             /* g >= 0; g = 0 is the Gaussian limit */
    hl_gain_convention convention;
    int clone;               /* 0: NLGP; 1: the Gaussian clone with the same covariance */
} hl_nlgp_params;

/* Check the parameters; on failure the message names the field and its range. */
int hl_nlgp_validate(const hl_nlgp_params *p);

/* Allocate a sampler (NLGP or its clone). NULL on failure, with a message. */
hl_sampler *hl_nlgp_alloc(const hl_nlgp_params *p);

/* Clipping of negative circulant eigenvalues, done at allocation: how many were
 * negative and their total magnitude relative to the sum of |eigenvalues|. */
void hl_nlgp_clipping(const hl_sampler *s, int *n_clipped, double *clipped_fraction);

/* Latent kernel exp(-(d/xi)^p) of the periodic distance d. */
double hl_nlgp_kernel(double d, double xi, int p);

/* The effective pre-factor a of the latent (x = erf(a z) / Z) and Z itself. */
double hl_nlgp_slope(double gain, hl_gain_convention c);
double hl_nlgp_Z(double gain, hl_gain_convention c);

/* Exact covariance <x_0 x_j> of the NLGP for every site j (D values, row-major for
 * dim 2): (2 / (pi Z^2)) asin(2 a^2 C_0j / (1 + 2 a^2)); the clone's is the same. */
int hl_nlgp_covariance_row(const hl_nlgp_params *p, double *row);

/* Marginal excess kurtosis <x^4> - 3 of the NLGP (unit variance), by GSL quadrature
 * of erf(a z)^4 against the standard normal density. 0 for the clone. */
int hl_nlgp_marginal_kurtosis(double gain, hl_gain_convention c, double *kurtosis);

/* ---- Models by name ----------------------------------------------------------------
 *
 * Every data model registers a description: its name, a one-line summary, and its
 * parameters with their defaults and accepted ranges. A model is created from a text
 * spec "key=value,key=value" (keys not given take their defaults); the registry checks
 * every value against its range, so each model's create() only checks what involves
 * several parameters at once. */

enum { HL_MODEL_MAX_PARAMS = 24 };

typedef enum {
    HL_PARAM_INT,     /* an integer in [min, max] */
    HL_PARAM_REAL,    /* a finite real in [min, max] */
    HL_PARAM_CHOICE,  /* one word of `choices` ("erf|sign|tanh"); stored as its index */
    HL_PARAM_TEXT     /* free text (a file path, a list "1:0.5:-0.1") */
} hl_param_type;

typedef struct hl_param_spec {
    const char *name;
    hl_param_type type;
    const char *def;        /* default, as text ("" for an optional text) */
    double min, max;        /* numeric range, inclusive (INT, REAL) */
    const char *choices;    /* CHOICE only: words separated by '|' */
    const char *help;
} hl_param_spec;

/* Parsed values, one per spec in the model's order. */
typedef struct hl_param_values {
    const struct hl_model *model;
    double num[HL_MODEL_MAX_PARAMS];      /* INT, REAL, CHOICE (index) */
    char *text[HL_MODEL_MAX_PARAMS];      /* TEXT (owned), NULL otherwise */
} hl_param_values;

typedef struct hl_model {
    const char *name;
    const char *summary;
    const hl_param_spec *params;
    int n_params;
    /* Build a sampler; NULL with a message on failure. */
    hl_sampler *(*create)(const hl_param_values *v);
} hl_model;

/* The registered models, in a fixed order; NULL past the end. */
const hl_model *hl_model_at(int i);
const hl_model *hl_model_find(const char *name);

/* Parse and check a spec against a model's parameters. On failure the message names
 * the key and its accepted range (or the accepted keys). Free with
 * hl_param_values_clear(). */
int hl_model_parse(const hl_model *m, const char *spec, hl_param_values *v);
void hl_param_values_clear(hl_param_values *v);

/* A value by parameter name (the name must be one of the model's; asserts otherwise
 * are programming errors, so these return 0 / NULL for unknown names). */
double hl_param_num(const hl_param_values *v, const char *name);
int hl_param_int(const hl_param_values *v, const char *name);
const char *hl_param_text(const hl_param_values *v, const char *name);

/* Parse `spec` for the model called `name` and create the sampler. */
hl_sampler *hl_model_create(const char *name, const char *spec);

/* The model's name ("nlgp", "ising", ...) of a sampler. */
const char *hl_sampler_name(const hl_sampler *s);

/* Whether a sampler's draws depend only on the generator it is given (1), or also on
 * its own state, as a Markov chain's do (0). Only the first kind may be drawn in
 * independent blocks on several threads. */
int hl_sampler_is_stateless(const hl_sampler *s);

/* ---- Circulant Gaussian fields ------------------------------------------------------
 *
 * A translation-invariant Gaussian on a ring (dim 1) or torus (dim 2) with covariance
 * first row `row` (D values, row-major in 2D). The Gaussian clone of any translation-
 * invariant model is one of these, with the model's covariance. Negative eigenvalues
 * are clipped to zero and reported by hl_circulant_clipping(). */
hl_sampler *hl_circulant_alloc(int dim, int L, const double *row);
void hl_circulant_clipping(const hl_sampler *s, int *n_clipped, double *clipped_fraction);

/* ---- The binary task ------------------------------------------------------------- */

/* Class +1 is drawn from `plus`, class -1 from `minus`, with probability 1/2 each.
 * The task owns its two samplers (and frees them, also when allocation fails). */
typedef struct hl_task hl_task;

hl_task *hl_task_alloc(hl_sampler *plus, hl_sampler *minus);
void hl_task_free(hl_task *t);
size_t hl_task_dim(const hl_task *t);
/* The sampler of class label (+1 or -1). */
hl_sampler *hl_task_class(const hl_task *t, int label);

/* Draw n labelled samples: X (n x D), y in {+1, -1}. The labels come first (one
 * uniform each), then the samples of each class in one batch. Allocates only when n
 * exceeds every earlier n. */
int hl_task_sample(hl_task *t, size_t n, float *X, float *y, gsl_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
