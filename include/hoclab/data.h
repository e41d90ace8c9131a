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

/* Negative eigenvalues of the circulant covariance a model draws its Gaussian field
 * with (NLGP and its clone, NORTA, elliptical, the lattice models' clones; with open
 * boundaries, the embedding torus's), clipped to zero at allocation: how many, and
 * their mass relative to sum |lambda|. 0 and 0 for models without such a field. */
void hl_sampler_clipping(const hl_sampler *s, int *n_clipped, double *clipped_fraction);
void hl_sampler_free(hl_sampler *s);

/* ---- NLGP and its Gaussian clone ------------------------------------------------ */

/* Which scaling of the gain g:
 *  HL_GAIN_SEEDS   x = erf(g z) / Z(g),        Z^2 = (2/pi) asin(2g^2 / (1 + 2g^2))
 *  HL_GAIN_AUTHORS x = erf(g z / sqrt 2) / Z,  Z^2 = (2/pi) asin(g^2 / (1 + g^2))
 * The second is the first with g scaled by 1/sqrt 2 (the authors' public code). */
typedef enum { HL_GAIN_SEEDS = 0, HL_GAIN_AUTHORS = 1 } hl_gain_convention;

/* The pointwise non-linearity x = f(z) / Z, Z such that <x^2> = 1. a is the slope
 * hl_nlgp_slope(gain, convention); a = 0 is the Gaussian limit x = z.
 *  HL_NONLIN_ERF   f = erf(a z)
 *  HL_NONLIN_SIGN  f = sign(z): the large-gain limit, x = +-1 (gain is not used)
 *  HL_NONLIN_TANH  f = tanh(a z), a <= HL_NLGP_TANH_MAX_SLOPE
 *  HL_NONLIN_POLY  f = c1 z + c3 z^3 + c5 z^5 + ... (gain is not used) */
typedef enum {
    HL_NONLIN_ERF = 0,
    HL_NONLIN_SIGN = 1,
    HL_NONLIN_TANH = 2,
    HL_NONLIN_POLY = 3
} hl_nlgp_nonlin;

/* Periodic: a ring / torus of L sites per side, kernel of the periodic distance.
 * Open: an L (x L) window of the infinite lattice, kernel of the plain distance, drawn
 * exactly by circulant embedding in a torus of M >= 2L sites per side. */
typedef enum { HL_BOUNDARY_PERIODIC = 0, HL_BOUNDARY_OPEN = 1 } hl_nlgp_boundary;

enum {
    HL_NLGP_MAX_COEFFS = 8,        /* c1 .. c15 */
    HL_NLGP_TANH_MAX_SLOPE = 100   /* beyond it, the clone's covariance map is not exact */
};

/* Build positionally {dim, L, xi, p, gain, convention, clone}; the fields after
 * `clone` are zero by default, which is the erf NLGP on a ring / torus. */
typedef struct hl_nlgp_params {
    int dim;                 /* 1 (ring) or 2 (torus) */
    int L;                   /* sites per side, >= 2 */
    double xi;               /* correlation length in pixels, > 0 */
    int p;                   /* kernel exponent: exp(-(d/xi)^p), p in {1, 2} */
    double gain;             /* g >= 0; g = 0 is the Gaussian limit */
    hl_gain_convention convention;
    int clone;               /* 0: NLGP; 1: the Gaussian clone with the same covariance */
    hl_nlgp_nonlin nonlin;   /* 0: erf */
    hl_nlgp_boundary boundary; /* 0: periodic */
    int n_coeffs;            /* HL_NONLIN_POLY: 1..HL_NLGP_MAX_COEFFS; 0 otherwise */
    double coeffs[HL_NLGP_MAX_COEFFS]; /* c1, c3, c5, ...: odd powers of z */
} hl_nlgp_params;

/* Check the parameters; on failure the message names the field and its range. */
int hl_nlgp_validate(const hl_nlgp_params *p);

/* Allocate a sampler (NLGP or its clone). NULL on failure, with a message. */
hl_sampler *hl_nlgp_alloc(const hl_nlgp_params *p);

/* Sites per side of the torus the sampler draws on: L for periodic boundaries, the
 * embedding's M >= 2L for open ones; 0 if s is not an NLGP sampler. */
int hl_nlgp_torus_size(const hl_sampler *s);

/* Latent kernel exp(-(d/xi)^p) of the distance d. */
double hl_nlgp_kernel(double d, double xi, int p);

/* The effective pre-factor a of the latent (x = erf(a z) / Z) and Z itself (erf). */
double hl_nlgp_slope(double gain, hl_gain_convention c);
double hl_nlgp_Z(double gain, hl_gain_convention c);

/* Exact covariance <x_0 x_j> for every site j (D values, row-major for dim 2); the
 * clone's is the same. It is F(C_0j), C the latent kernel and F the map of the
 * non-linearity from latent correlation to output covariance: erf
 * (2 / (pi Z^2)) asin(2 a^2 C / (1 + 2 a^2)); sign (2/pi) asin(C); poly its exact
 * Hermite series sum_n n! d_n^2 C^n / Z^2; tanh 2D quadrature, interpolated (error
 * below 1e-9). With open boundaries the covariance is Toeplitz, not circulant:
 * <x_i x_j> = row[|i - j|] in 1D, row[|r_i - r_j| L + |c_i - c_j|] in 2D. */
int hl_nlgp_covariance_row(const hl_nlgp_params *p, double *row);

/* Marginal excess kurtosis <x^4> - 3 of the erf NLGP (unit variance), by GSL
 * quadrature of erf(a z)^4 against the standard normal density. */
int hl_nlgp_marginal_kurtosis(double gain, hl_gain_convention c, double *kurtosis);

/* The same for any non-linearity: erf and tanh by quadrature, sign -2, poly exact
 * (Gauss-Hermite). 0 for the clone. */
int hl_nlgp_marginal_kurtosis_of(const hl_nlgp_params *p, double *kurtosis);

/* ---- Real data: Fashion-MNIST, natural-image patches, dataset clones --------------
 *
 * Images come from Debian packages: Fashion-MNIST from dataset-fashion-mnist (IDX
 * files, gzip-compressed or not) and photographs from python3-skimage's data folder
 * (PNG files, read with libpng). Pixel values are scaled to [0, 1] (byte / 255). */

#define HL_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
#define HL_SKIMAGE_DATA_DIR "/usr/lib/python3/dist-packages/skimage/data"

/* A labelled image set as stored: n images of rows x cols bytes, labels 0..n_classes-1. */
typedef struct hl_dataset {
    size_t n;                /* images */
    int rows, cols;          /* pixels per side; D = rows * cols */
    unsigned char *pixels;   /* n x rows x cols, row-major, 0..255 */
    int *labels;             /* n */
    int n_classes;           /* 1 + the largest label */
} hl_dataset;

/* Read an IDX image file (unsigned bytes, n x rows x cols) and its IDX label file
 * (unsigned bytes, n), each gzip-compressed or plain. HL_EIO if a file cannot be
 * opened (the message names it and the system's reason); HL_EFORMAT for a wrong
 * magic number, an unsupported element type or rank, a truncated file, trailing
 * data, or image and label counts that differ (the message names file and problem). */
int hl_idx_load(const char *images, const char *labels, hl_dataset **out);

/* Fashion-MNIST's "train" (60000) or "test" (10000) split from folder `dir` (NULL:
 * HL_FMNIST_DIR), files {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. */
int hl_fmnist_load(const char *dir, const char *split, hl_dataset **out);
void hl_dataset_free(hl_dataset *d);
/* All images as floats in [0, 1] (byte / 255) into out (n x D). */
void hl_dataset_floats(const hl_dataset *d, float *out);

/* How colour becomes grey: luminance 0.2125 R + 0.7154 G + 0.0721 B (ITU-R BT.709,
 * as skimage's rgb2gray), or the plain average (R + G + B) / 3, of the 8-bit sRGB
 * values. Grey images are unchanged either way. */
typedef enum { HL_GREY_LUMINANCE = 0, HL_GREY_AVERAGE = 1 } hl_grey;

/* A PNG image as grey levels in [0, 1], row-major (height x width, owned by the
 * caller: free()). An alpha channel is composited onto black. */
int hl_png_load_grey(const char *path, hl_grey grey, float **pixels, int *width,
                     int *height);

/* Parse a class list "0:2:4" (parameter `param`, for messages) of distinct classes in
 * 0..n_classes-1 into classes[] (room for n_classes); "" selects every class. */
int hl_classes_parse(const char *text, const char *param, int n_classes, int *classes,
                     int *count);

/* A class-wise Gaussian mixture fitted to labelled data: the "clones" of a dataset.
 * Full clone: each class c is N(m_c, C_c) with the empirical mean m_c and covariance
 * C_c (unbiased, divided by n_c - 1). Isotropic clone: N(m_c, v_c I) with v_c =
 * tr(C_c) / D, the class's average per-pixel variance. Classes are drawn with the
 * frequencies of the fitted data. Fitting computes the Cholesky factor of every C_c
 * once (in double, GSL); if C_c is not numerically positive definite (a pixel that
 * never changes, fewer samples than D), a jitter j I is added before factorising,
 * j = v_c * 1e-10, 1e-9, ..., 1e-3 until the factorisation succeeds; the stored
 * covariance is the empirical one, the jitter is reported. Sampling draws a batch of
 * normals Z and multiplies each class's block by L_c^T (one BLAS triangular multiply
 * per class): no factorisation after the fit. */
typedef struct hl_mixture hl_mixture;

/* Fit n samples X (n x D) with labels in 0..n_classes-1 (labels NULL: one class).
 * Every class needs at least 2 samples. */
int hl_mixture_fit(const float *X, const int *labels, size_t n, size_t D, int n_classes,
                   int isotropic, hl_mixture **out);
/* Write to / read from an HDF5 file (written atomically: temporary file, then
 * rename). Layout: root attributes kind = "mixture", D, n_classes, isotropic;
 * datasets counts (K), means (K x D), variances (K), jitter (K) and, for the full
 * clone, covariances (K x D x D, double) and cholesky (K x D x D, float, lower). */
int hl_mixture_save(const hl_mixture *m, const char *path);
int hl_mixture_load(const char *path, hl_mixture **out);
/* Samplers hold a reference: a mixture may be freed while its samplers live. */
void hl_mixture_free(hl_mixture *m);

size_t hl_mixture_dim(const hl_mixture *m);
int hl_mixture_n_classes(const hl_mixture *m);
int hl_mixture_is_isotropic(const hl_mixture *m);
size_t hl_mixture_count(const hl_mixture *m, int c);          /* fitted samples */
const double *hl_mixture_mean(const hl_mixture *m, int c);     /* D */
const double *hl_mixture_covariance(const hl_mixture *m, int c); /* D x D; NULL if iso */
const float *hl_mixture_factor(const hl_mixture *m, int c);    /* D x D lower; NULL if iso */
double hl_mixture_variance(const hl_mixture *m, int c);        /* tr(C_c) / D */
double hl_mixture_jitter(const hl_mixture *m, int c);

/* A sampler of the classes `classes` (n_classes of them; NULL: all), each drawn with
 * its fitted frequency among them. Stateless. */
hl_sampler *hl_mixture_sampler(hl_mixture *m, const int *classes, int n_classes);

/* ---- Tunable higher-order statistics: NORTA, elliptical, spiked cumulant -----------
 *
 * Models "norta", "elliptical" (translation invariant, ring or torus, with the NLGP's
 * kernel exp(-(d/xi)^p)), "spiked" and "wishart" (D = d, not translation invariant).
 * Each has a `clone` parameter: 1 gives the Gaussian with the same covariance. */

/* The kernel row exp(-(d/xi)^p) of the periodic distance d on a ring (dim 1, L values)
 * or torus (dim 2, L*L values, separable): the covariance of NORTA and of the
 * elliptical field. Checks dim (1, 2), L (2..2^20; 2..4096 in 2D), xi > 0, p (1, 2),
 * the message naming the parameter; row NULL: only check. */
int hl_kernel_row(int dim, int L, double xi, int p, double *row);

/* NORTA with AlgQDF marginals (Lufkin, Saxe & Grant 2024): x_i = Q_k(Phi(z_i)) /
 * sigma_k, Q_k(u) = t / (1 - |t|^k)^(1/k), t = 2u - 1, with the latent correlation
 * of z solved lag by lag so that Cov(x) is exactly the target exp(-(d/xi)^p) for
 * every shape k. Excess kurtosis k B(5/k, 1 - 4/k) / B(3/k, 1 - 2/k)^2 - 3: from +inf
 * (k -> 4) through 0 (k ~ 5.89) to -1.2 (k -> inf, uniform); k = 5: +1.29, k = 10:
 * -0.93. Model "norta" takes k (default 5) or kurtosis (solved for k), not both. */
typedef struct hl_norta_params {
    int dim;       /* 1 (ring) or 2 (torus) */
    int L;         /* sites per side */
    double xi;     /* target correlation length, pixels */
    int p;         /* target kernel exp(-(d/xi)^p), p in {1, 2} */
    double k;      /* AlgQDF shape, 4.1..1e4 */
    int clone;     /* 1: the Gaussian field with the target covariance */
} hl_norta_params;

int hl_norta_validate(const hl_norta_params *p);
hl_sampler *hl_norta_alloc(const hl_norta_params *p);
/* Marginal excess kurtosis of shape k (closed form; k > 4), and its inverse on
 * k = 4.1..1e4 (Brent's method; HL_EINVAL naming `kurtosis` outside that range). */
int hl_norta_kurtosis(double k, double *kurtosis);
int hl_norta_shape(double kurtosis, double *k);
/* The unit-variance marginal map z -> Q_k(Phi(z)) / sigma_k (double precision). */
double hl_norta_marginal(double z, double k);
/* The target covariance row (D values), and the latent correlation row that gives it. */
int hl_norta_covariance_row(const hl_norta_params *p, double *row);
int hl_norta_latent_row(const hl_norta_params *p, double *row);
/* NORTA's latent circulant is clipped at allocation (hl_sampler_clipping): smooth
 * targets (p = 2) clip ~1e-3, p = 1 nothing. The latent row is scaled by
 * 1 / (1 + clipped mass / D) first, so that var z = 1 and the marginal stays exact. */

/* Elliptical field: x = s z, z the Gaussian field with kernel exp(-(d/xi)^p), s > 0
 * one random scale per sample with E s^2 = 1, so Cov(x) = Cov(z) while the fourth
 * cumulant is 3 Var(s^2) (C_ij C_kl + C_ik C_jl + C_il C_jk): spread over the whole
 * field, not local. Mixing laws: gamma, s^2 = chi2_nu / nu (excess kurtosis 6 / nu);
 * invgamma, s^2 = (nu - 2) / chi2_nu (multivariate t, 6 / (nu - 4), nu > 4). */
typedef enum { HL_MIX_GAMMA = 0, HL_MIX_INVGAMMA = 1 } hl_mixing;

typedef struct hl_elliptical_params {
    int dim, L;
    double xi;
    int p;
    hl_mixing mixing;
    double nu;     /* degrees of freedom: > 0 (gamma), > 4 (invgamma) */
    int clone;     /* 1: the Gaussian field z */
} hl_elliptical_params;

int hl_elliptical_validate(const hl_elliptical_params *p);
hl_sampler *hl_elliptical_alloc(const hl_elliptical_params *p);
/* Marginal excess kurtosis 3 Var(s^2) / (E s^2)^2 of the mixing law. */
int hl_elliptical_kurtosis(hl_mixing mixing, double nu, double *kurtosis);

/* Spiked cumulant model (Szekely, Bardone, Gerace, Goldt) and spiked Wishart:
 *     x = S (sqrt(beta/d) g u + w),  w ~ N(0, I_d),  |u|^2 = d,
 * g a unit-variance latent per sample. "spiked": g Rademacher or Laplace and
 * S = (I + beta u u^T / d)^(-1/2) = I - c u u^T / d, c = 1 - 1/sqrt(1 + beta), so
 * Cov(x) = I and the spike hides in the fourth cumulant. "wishart": g Gaussian, no
 * whitening, Cov(x) = I + beta u u^T / d (already Gaussian). The clone replaces g by
 * a standard Gaussian: N(0, I) for "spiked", the model itself for "wishart". The
 * spike u is drawn once from stream (seed, HL_STREAM_USER + 301), shared by both. */
typedef enum {
    HL_LATENT_RADEMACHER = 0,
    HL_LATENT_LAPLACE = 1,
    HL_LATENT_GAUSSIAN = 2
} hl_spiked_latent;
typedef enum { HL_SPIKE_SIGN = 0, HL_SPIKE_GAUSSIAN = 1 } hl_spike_prior;

typedef struct hl_spiked_params {
    int d;                      /* dimension, >= 2 */
    double beta;                /* signal-to-noise ratio, >= 0 */
    hl_spiked_latent latent;
    hl_spike_prior spike;       /* u_i = +-1, or Gaussian rescaled to |u|^2 = d */
    unsigned long long seed;    /* of the spike */
    int whiten;                 /* 1: multiply by S (spiked cumulant); 0: Wishart */
} hl_spiked_params;

hl_sampler *hl_spiked_alloc(const hl_spiked_params *p);
/* The spike u (d values, |u|^2 = d), or NULL if s is not a spiked/wishart sampler. */
const float *hl_spiked_spike(const hl_sampler *s);
/* Excess kurtosis of the projection u.x/|u| (whitened or not):
 * beta^2 kappa4(g) / (1 + beta)^2, kappa4 = -2 (Rademacher), 3 (Laplace), 0 (Gaussian). */
double hl_spiked_kurtosis(hl_spiked_latent latent, double beta);

/* ---- Lattice spin and field models: Ising and phi^4 (models "ising", "phi4") -------
 *
 * Periodic, zero mean, translation invariant; their parameters are the registry's
 * (see hl_model_find("ising")->params). Exact statistics for tests and users: */

/* Correlation length of the infinite 1D Ising chain (J = 1): -1 / log tanh(1/T). */
double hl_ising_xi(double T);

/* Exact <s_0 s_d> of the periodic 1D Ising ring of L spins, d = 0..L-1:
 * (t^d + t^(L-d)) / (1 + t^L), t = tanh(1/T). */
int hl_ising_covariance_row_1d(int L, double T, double *row);

/* Variance and excess kurtosis of one phi^4 site at beta = 0, density
 * ∝ exp(-phi^2 - lambda (phi^2 - 1)^2), by GSL quadrature (lambda = 0: 1/2 and 0). */
int hl_phi4_site_moments(double lambda, double *variance, double *excess_kurtosis);

/* Exact covariance row of the phi^4 field at lambda = 0 (a Gaussian with precision
 * 2 - 2 beta sum_mu cos k_mu), for 0 <= beta < 1/dim. */
int hl_phi4_free_covariance_row(int dim, int L, double beta, double *row);

/* Empirical <x_0 x_j> of a translation-invariant sampler on a ring or torus, from n of
 * its samples drawn with rng, averaged over all translations (by FFT); with isotropic
 * (dim 2) also over x <-> y. For a zero-mean model this is its covariance row. */
int hl_lattice_moment_row(hl_sampler *s, int dim, int L, size_t n, int isotropic,
                          gsl_rng *rng, double *row);

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
    /* Optional: the input dimension D without building the sampler (for models whose
     * parameters do not say it, e.g. a dataset of fixed image size). See
     * hl_model_dim for the rule when this is NULL. */
    size_t (*dimension)(const hl_param_values *v);
} hl_model;

/* The registered models, in a fixed order; NULL past the end. */
const hl_model *hl_model_at(int i);
const hl_model *hl_model_find(const char *name);

/* Parse and check a spec against a model's parameters. On failure the message names
 * the key and its accepted range (or the accepted keys). Free with
 * hl_param_values_clear(). */
int hl_model_parse(const hl_model *m, const char *spec, hl_param_values *v);
void hl_param_values_clear(hl_param_values *v);

/* The index of a parameter in the model's table, or -1 if it has none of that name. */
int hl_model_param_index(const hl_model *m, const char *name);

/* Index of `word` among '|'-separated choices ("erf|relu|tanh"), or -1: how every
 * named choice is read (model parameters, flags, experiment files). */
int hl_choice_index(const char *choices, const char *word);

/* A value by parameter name (the name must be one of the model's; asserts otherwise
 * are programming errors, so these return 0 / NULL for unknown names). */
double hl_param_num(const hl_param_values *v, const char *name);
int hl_param_int(const hl_param_values *v, const char *name);
const char *hl_param_text(const hl_param_values *v, const char *name);

/* Value i as text (the choice word for CHOICE); the whole resolved spec, every
 * parameter included, as "key=value,..." (for records: it recreates the sampler). */
int hl_param_format(const hl_param_values *v, int i, char *buf, size_t size);
int hl_model_spec(const hl_param_values *v, char *buf, size_t size);

/* A model from one text, "name" or "name:key=value,key=value" (what `--plus` and
 * `--minus` of hoclab train take), and its input dimension D without drawing. */
hl_sampler *hl_model_new(const char *text);
int hl_model_dim(const char *text, size_t *D);

/* How a model's samples are drawn as pictures: its own dim (and L = D or sqrt D) if it
 * has a `dim` parameter, else a square image if D is a square (Fashion-MNIST,
 * patches), else a line of D pixels. hl_model_shape does it from the model's text. */
void hl_model_image_shape(const hl_param_values *v, size_t D, int *dim, int *L);
int hl_model_shape(const char *text, int *dim, int *L);

/* The NLGP parameters of parsed "nlgp" or "gp" values (gp: clone = 1); HL_EINVAL for
 * another model or inconsistent coefficients. */
int hl_nlgp_params_from(const hl_param_values *v, hl_nlgp_params *p);

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
 * are clipped to zero and reported by hl_sampler_clipping(). */
hl_sampler *hl_circulant_alloc(int dim, int L, const double *row);

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
