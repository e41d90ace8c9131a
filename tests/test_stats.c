/* test_stats.c — hl_stats_compute against exact statistics and direct computations.
 *
 * White noise pins down every standard error in closed form; the Gaussian clone must
 * be called Gaussian; the NLGP's kurtosis, covariance row and circulant spectrum
 * must match their exact values (hl_nlgp_marginal_kurtosis, hl_nlgp_covariance_row,
 * and a DFT of the exact row done here by cosine sums, not FFTW) within a few
 * standard errors; the full-covariance path must agree with a direct double loop
 * and a Jacobi eigensolver written here. Then the HDF5 file, the figure and the
 * error paths. Fixed seeds throughout; the whole program takes about a second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/measure.h"
#include "hoclab/plot.h"
#include "hoclab/rng.h"

#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/hoclab_test_stats_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static float *white_noise(size_t n, size_t D, uint64_t seed)
{
    float *x = malloc(sizeof(float) * n * D);
    assert_non_null(x);
    gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER + 50);
    hl_rng_normals(r, n * D, x);
    hl_rng_free(r);
    return x;
}

static float *draw_model(const char *name, const char *spec, size_t n, uint64_t seed,
                         size_t *D)
{
    hl_sampler *s = hl_model_create(name, spec);
    assert_non_null(s);
    *D = hl_sampler_dim(s);
    float *x = malloc(sizeof(float) * n * *D);
    assert_non_null(x);
    gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER);
    assert_int_equal(hl_sampler_sample(s, n, x, r), HL_OK);
    hl_rng_free(r);
    hl_sampler_free(s);
    return x;
}

static hl_stats_config ring(int dim, int L)
{
    hl_stats_config c = hl_stats_defaults();
    c.translation_invariant = 1;
    c.dim = dim;
    c.L = L;
    return c;
}

/* max_j |est_j - exact_j| / se_j */
static double max_z(const double *est, const double *exact, const double *se, size_t D)
{
    double z = 0;
    for (size_t j = 0; j < D; j++) {
        assert_true(se[j] > 0);
        z = fmax(z, fabs(est[j] - exact[j]) / se[j]);
    }
    return z;
}

/* ---- white noise: every standard error in closed form ------------------------------- */

static void test_white_noise(void **state)
{
    (void)state;
    const size_t n = 4000, D = 64;
    float *x = white_noise(n, D, 1);
    hl_stats_config c = ring(1, (int)D);
    hl_stats *s;
    assert_int_equal(hl_stats_compute(x, n, D, &c, &s), HL_OK);
    const double N = (double)n * D;

    /* Kurtosis: SE sqrt(24 / (n D)) for iid normals; the estimate within 4 SE of 0. */
    assert_true(fabs(s->kurtosis_se / sqrt(24 / N) - 1) < 0.1);
    assert_true(fabs(s->excess_kurtosis) < 4 * s->kurtosis_se);
    assert_true(fabs(s->mean) < 4 / sqrt(N));
    assert_true(fabs(s->variance - 1) < 4 * sqrt(2 / N));

    /* kappa4 slice: SE sqrt(24/(nD)) at lag 0, 2/sqrt(nD) at other lags but D/2
     * (where the pairs (i, i+d) repeat: sqrt 2 more). */
    for (size_t d = 0; d < D; d++) {
        double se = d == 0 ? sqrt(24 / N) : d == D / 2 ? sqrt(8 / N) : 2 / sqrt(N);
        assert_true(fabs(s->kappa4_se[d] / se - 1) < 0.12);
    }
    double t;
    assert_int_equal(hl_stats_gaussian(s, 0.01, &t), 1);
    assert_true(t > 3 && t < 4.5);
    assert_true(s->kappa4_max_z < t);

    /* Covariance row: 1 at lag 0, else 0, SE 1/sqrt(nD) (sqrt 2 more at D/2). */
    double exact[64] = {1}, ones[64];
    assert_true(max_z(s->cov_row, exact, s->cov_row_se, D) < 5);
    for (size_t d = 1; d < D; d++)
        assert_true(fabs(s->cov_row_se[d] * sqrt(N) / (d == D / 2 ? sqrt(2) : 1) - 1) < 0.1);
    /* Spectrum: flat at 1; |Y_k|^2 / D is exponential with SE 1/sqrt(n) (k != 0, D/2). */
    for (size_t k = 0; k < D; k++)
        ones[k] = 1;
    assert_true(max_z(s->spectrum, ones, s->spectrum_se, D) < 5);
    assert_true(fabs(s->spectrum_se[3] * sqrt((double)n) - 1) < 0.1);
    assert_int_equal(s->n_eigen, D);
    for (size_t k = 1; k < D; k++)
        assert_true(s->eigenvalues[k] <= s->eigenvalues[k - 1]);

    /* Histogram: all mass accounted for, and the normal density bin by bin. */
    double w = 2 * s->z_max / s->n_bins, mass = (s->n_below + s->n_above) / N;
    for (int b = 0; b < s->n_bins; b++) {
        mass += s->hist_density[b] * w;
        double p = s->hist_normal[b] * w, se = sqrt(p * (1 - p) / N) / w;
        if (p > 1e-4)
            assert_true(fabs(s->hist_density[b] - s->hist_normal[b]) < 5 * se);
    }
    assert_true(fabs(mass - 1) < 1e-9);
    assert_true(fabs(s->hist_z[s->n_bins / 2] - 0.5 * w) < 1e-12);
    hl_stats_free(s);
    free(x);
}

/* A Rademacher field: fourth moment fixed, kurtosis exactly -2 with no spread. */
static void test_sign_field(void **state)
{
    (void)state;
    const size_t n = 200, D = 16;
    float *x = white_noise(n, D, 2);
    for (size_t i = 0; i < n * D; i++)
        x[i] = x[i] < 0 ? -1.0f : 1.0f;
    hl_stats_config c = ring(1, (int)D);
    hl_stats *s;
    assert_int_equal(hl_stats_compute(x, n, D, &c, &s), HL_OK);
    /* Standardised by the pooled mean (not exactly 0): close to, not at, -2. */
    assert_true(fabs(s->excess_kurtosis + 2) < 1e-3);
    assert_true(hl_stats_kurtosis_z(s) > 100);
    assert_int_equal(hl_stats_gaussian(s, 0.01, NULL), 0);
    hl_stats_free(s);
    free(x);
}

/* ---- the Gaussian clone and the NLGP ----------------------------------------------- */

static void test_gp_is_gaussian(void **state)
{
    (void)state;
    size_t n = 20000, D;
    float *x = draw_model("gp", "L=64,xi=3", n, 3, &D);
    assert_int_equal(D, 64);
    hl_stats_config c = ring(1, 64);
    hl_stats *s;
    assert_int_equal(hl_stats_compute(x, n, D, &c, &s), HL_OK);
    assert_true(fabs(s->excess_kurtosis) < 4 * s->kurtosis_se);
    assert_int_equal(hl_stats_gaussian(s, 0.01, NULL), 1);
    hl_nlgp_params p = {1, 64, 3, 2, 10, HL_GAIN_SEEDS, 1};
    double exact[64];
    assert_int_equal(hl_nlgp_covariance_row(&p, exact), HL_OK);
    assert_true(max_z(s->cov_row, exact, s->cov_row_se, D) < 5);
    hl_stats_free(s);
    free(x);
}

/* The exact circulant eigenvalues: a DFT of the exact row by cosine sums. */
static void exact_spectrum(int dim, int L, const double *row, double *lambda)
{
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    for (size_t k = 0; k < D; k++) {
        double sum = 0;
        int k1 = dim == 1 ? 0 : (int)(k / L), k2 = (int)(k % L);
        for (size_t d = 0; d < D; d++) {
            int d1 = dim == 1 ? 0 : (int)(d / L), d2 = (int)(d % L);
            sum += row[d] * cos(2 * M_PI * ((double)k1 * d1 + (double)k2 * d2) / L);
        }
        lambda[k] = sum;
    }
}

static void test_nlgp_exact(void **state)
{
    (void)state;
    size_t n = 20000, D;
    float *x = draw_model("nlgp", "L=64,xi=3,gain=10", n, 4, &D);
    hl_stats_config c = ring(1, 64);
    hl_stats *s;
    assert_int_equal(hl_stats_compute(x, n, D, &c, &s), HL_OK);

    double k4;
    assert_int_equal(hl_nlgp_marginal_kurtosis(10, HL_GAIN_SEEDS, &k4), HL_OK);
    assert_true(fabs(s->excess_kurtosis - k4) < 4 * s->kurtosis_se);
    assert_true(s->kurtosis_se < 1e-3);
    /* kappa4(0,0,0,0) is the marginal's fourth cumulant: the same number. */
    assert_true(fabs(s->kappa4[0] - k4) < 4 * s->kappa4_se[0]);

    hl_nlgp_params p = {1, 64, 3, 2, 10, HL_GAIN_SEEDS, 0};
    double row[64], lambda[64];
    assert_int_equal(hl_nlgp_covariance_row(&p, row), HL_OK);
    assert_true(max_z(s->cov_row, row, s->cov_row_se, D) < 5);
    exact_spectrum(1, 64, row, lambda);
    assert_true(max_z(s->spectrum, lambda, s->spectrum_se, D) < 5);
    /* and not trivially: the spectrum spans decades */
    assert_true(s->eigenvalues[0] > 10 * s->eigenvalues[D - 1]);

    assert_int_equal(hl_stats_gaussian(s, 0.01, NULL), 0);
    assert_int_equal(s->kappa4_argmax, 0);
    assert_true(s->kappa4_max_z > 100);
    hl_stats_free(s);
    free(x);
}

static void test_nlgp_torus(void **state)
{
    (void)state;
    size_t n = 4000, D;
    float *x = draw_model("nlgp", "dim=2,L=12,xi=2,gain=2", n, 5, &D);
    assert_int_equal(D, 144);
    hl_stats_config c = ring(2, 12);
    hl_stats *s;
    assert_int_equal(hl_stats_compute(x, n, D, &c, &s), HL_OK);
    hl_nlgp_params p = {2, 12, 2, 2, 2, HL_GAIN_SEEDS, 0};
    double row[144], lambda[144];
    assert_int_equal(hl_nlgp_covariance_row(&p, row), HL_OK);
    assert_true(max_z(s->cov_row, row, s->cov_row_se, D) < 5);
    exact_spectrum(2, 12, row, lambda);
    assert_true(max_z(s->spectrum, lambda, s->spectrum_se, D) < 5);
    /* the slice is symmetric under d -> -d on the torus */
    for (int r = 0; r < 12; r++)
        for (int q = 0; q < 12; q++)
            assert_true(fabs(s->kappa4[r * 12 + q] - s->kappa4[((12 - r) % 12) * 12 + (12 - q) % 12]) <
                        1e-9);
    assert_int_equal(hl_stats_gaussian(s, 0.01, NULL), 0);
    hl_stats_free(s);
    free(x);
}

/* ---- the full covariance ----------------------------------------------------------- */

/* Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (destroys a). */
static void jacobi(double *a, int n, double *eig)
{
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++)
                off += a[p * n + q] * a[p * n + q];
        if (off < 1e-30)
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                if (fabs(a[p * n + q]) < 1e-300)
                    continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double cs = 1 / sqrt(t * t + 1), sn = t * cs;
                for (int k = 0; k < n; k++) {   /* columns p, q */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = cs * akp - sn * akq;
                    a[k * n + q] = sn * akp + cs * akq;
                }
                for (int k = 0; k < n; k++) {   /* rows p, q */
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = cs * apk - sn * aqk;
                    a[q * n + k] = sn * apk + cs * aqk;
                }
            }
    }
    for (int i = 0; i < n; i++)
        eig[i] = a[i * n + i];
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void test_full_covariance(void **state)
{
    (void)state;
    enum { D = 10, O = 3 };
    const size_t n = 6000;
    /* x = A g, g iid uniform on [-sqrt 3, sqrt 3] (variance 1, excess kurtosis -1.2), a
     * fixed A: kappa4(o,o,j,j) = -1.2 sum_k A_ok^2 A_jk^2 exactly. Plus site means. */
    double A[D][D];
    for (int i = 0; i < D; i++)
        for (int k = 0; k < D; k++)
            A[i][k] = k <= i ? 1.0 / (1 + i - k) : 0.3 * sin(i + 2.0 * k);
    gsl_rng *r = hl_rng_alloc(6, HL_STREAM_USER + 51);
    float *x = malloc(sizeof(float) * n * D);
    for (size_t m = 0; m < n; m++) {
        double g[D];
        for (int k = 0; k < D; k++)
            g[k] = sqrt(3.0) * (2 * gsl_rng_uniform(r) - 1);
        for (int i = 0; i < D; i++) {
            double v = 0.1 * i;
            for (int k = 0; k < D; k++)
                v += A[i][k] * g[k];
            x[m * D + i] = (float)v;
        }
    }
    hl_rng_free(r);
    hl_stats_config c = hl_stats_defaults();
    c.origin = O;
    hl_stats *s;
    assert_int_equal(hl_stats_compute(x, n, D, &c, &s), HL_OK);
    assert_null(s->spectrum);
    assert_non_null(s->cov);

    /* Direct: means, covariance, the slice, in plain loops. */
    double mean[D] = {0}, C[D * D] = {0}, S[D] = {0};
    for (size_t m = 0; m < n; m++)
        for (int i = 0; i < D; i++)
            mean[i] += x[m * D + i] / (double)n;
    for (size_t m = 0; m < n; m++)
        for (int i = 0; i < D; i++) {
            double yi = x[m * D + i] - mean[i], yo = x[m * D + O] - mean[O];
            for (int j = 0; j < D; j++)
                C[i * D + j] += yi * (x[m * D + j] - mean[j]) / n;
            S[i] += yo * yo * yi * yi / n;
        }
    double scale = C[0];
    for (int i = 0; i < D; i++) {
        assert_true(fabs(s->site_mean[i] - mean[i]) < 1e-12);
        assert_true(fabs(s->site_var[i] - C[i * D + i] * n / (n - 1.0)) < 1e-10 * scale);
        for (int j = 0; j < D; j++)
            assert_true(fabs(s->cov[i * D + j] - C[i * D + j]) < 1e-10 * scale);
        assert_true(fabs(s->cov_row[i] - C[O * D + i]) < 1e-10 * scale);
        double k = S[i] - C[O * D + O] * C[i * D + i] - 2 * C[O * D + i] * C[O * D + i];
        assert_true(fabs(s->kappa4[i] - k) < 1e-9 * scale * scale);
    }
    double eig[D];
    jacobi(C, D, eig);
    qsort(eig, D, sizeof(double), cmp_desc);
    assert_int_equal(s->n_eigen, D);
    for (int i = 0; i < D; i++)
        assert_true(fabs(s->eigenvalues[i] - eig[i]) < 1e-9 * eig[0]);

    /* Against the exact values: the slice, and the mean per-site kurtosis. */
    double exact[D], kurt = 0;
    for (int j = 0; j < D; j++) {
        double k4 = 0, v = 0, q = 0;
        for (int k = 0; k < D; k++) {
            k4 += A[O][k] * A[O][k] * A[j][k] * A[j][k];
            v += A[j][k] * A[j][k];
            q += pow(A[j][k], 4);
        }
        exact[j] = -1.2 * k4;
        kurt += -1.2 * q / (v * v) / D;
    }
    assert_true(max_z(s->kappa4, exact, s->kappa4_se, D) < 5);
    assert_true(fabs(s->excess_kurtosis - kurt) < 4 * s->kurtosis_se);
    assert_int_equal(hl_stats_gaussian(s, 0.01, NULL), 0);
    hl_stats_free(s);
    free(x);
}

/* A site that never changes is left out of the marginal, not a division by zero. */
static void test_constant_site(void **state)
{
    (void)state;
    const size_t n = 500, D = 6;
    float *x = white_noise(n, D, 7);
    for (size_t m = 0; m < n; m++)
        x[m * D + 2] = 0.3f;
    hl_stats_config c = hl_stats_defaults();
    hl_stats *s;
    assert_int_equal(hl_stats_compute(x, n, D, &c, &s), HL_OK);
    assert_int_equal(s->n_constant, 1);
    assert_true(isfinite(s->excess_kurtosis) && isfinite(s->kurtosis_se));
    assert_true(fabs(s->excess_kurtosis) < 4 * s->kurtosis_se);
    assert_true(s->site_var[2] < 1e-12);
    hl_stats_free(s);
    free(x);
}

/* ---- errors -------------------------------------------------------------------------- */

static void expect_error(const float *x, size_t n, size_t D, const hl_stats_config *c,
                         const char *word)
{
    hl_stats *s = (hl_stats *)1;
    assert_int_equal(hl_stats_compute(x, n, D, c, &s), HL_EINVAL);
    assert_null(s);
    if (!strstr(hl_error_message(), word))
        fail_msg("message '%s' lacks '%s'", hl_error_message(), word);
}

static void test_errors(void **state)
{
    (void)state;
    float *x = white_noise(10, 16, 8);
    hl_stats_config c = hl_stats_defaults(), t = ring(1, 16);
    expect_error(NULL, 10, 16, &c, "X");
    expect_error(x, 1, 16, &c, "n = 1");
    expect_error(x, 10, 0, &c, "D = 0");
    t.L = 15;
    expect_error(x, 10, 16, &t, "L = 15");
    t = ring(2, 4);   /* 4 x 4 = 16: accepted */
    hl_stats *ok;
    assert_int_equal(hl_stats_compute(x, 10, 16, &t, &ok), HL_OK);
    hl_stats_free(ok);
    t.dim = 3;
    expect_error(x, 10, 16, &t, "dim = 3");
    c.origin = 16;
    expect_error(x, 10, 16, &c, "origin = 16");
    c = hl_stats_defaults();
    c.n_bins = -1;
    expect_error(x, 10, 16, &c, "n_bins");
    c = hl_stats_defaults();
    c.z_max = -1;
    expect_error(x, 10, 16, &c, "z_max");
    c = hl_stats_defaults();
    x[37] = NAN;
    expect_error(x, 10, 16, &c, "X[37]");
    free(x);
}

/* ---- file and figure --------------------------------------------------------------- */

static long long read_ll_attr(hid_t loc, const char *name)
{
    long long v = -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0);
    H5Aclose(a);
    return v;
}

static void dataset_dims(hid_t f, const char *path, int *rank, hsize_t *dims)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        fail_msg("no dataset %s", path);
    hid_t sp = H5Dget_space(d);
    *rank = H5Sget_simple_extent_ndims(sp);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
}

static int file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_size > 0) : -1;
}

static void test_save_and_plot(void **state)
{
    (void)state;
    size_t n = 300, D;
    float *x = draw_model("nlgp", "dim=2,L=6,xi=1.5", n, 9, &D);
    hl_stats_config c = ring(2, 6);
    hl_stats *s, *f;
    assert_int_equal(hl_stats_compute(x, n, D, &c, &s), HL_OK);
    c = hl_stats_defaults();
    assert_int_equal(hl_stats_compute(x, n, D, &c, &f), HL_OK);

    char path[512], base[512], png[600];
    hl_param_values v;
    assert_int_equal(hl_model_parse(hl_model_find("nlgp"), "dim=2,L=6,xi=1.5", &v), HL_OK);
    snprintf(path, sizeof path, "%s/torus.h5", tmpdir);
    assert_int_equal(hl_stats_save(s, path, &v, 9, "hoclab stats --test"), HL_OK);
    hl_param_values_clear(&v);

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(h >= 0);
    assert_int_equal(read_ll_attr(h, "D"), 36);
    assert_int_equal(read_ll_attr(h, "translation_invariant"), 1);
    int rank;
    hsize_t dims[2];
    dataset_dims(h, "/kappa4/slice", &rank, dims);
    assert_int_equal(rank, 2);
    assert_int_equal(dims[0], 6);
    assert_int_equal(dims[1], 6);
    dataset_dims(h, "/covariance/spectrum", &rank, dims);
    assert_int_equal(rank, 2);
    dataset_dims(h, "/marginal/hist_density", &rank, dims);
    assert_int_equal(dims[0], (hsize_t)s->n_bins);
    /* the written slice is the computed one */
    double slice[36];
    hid_t d = H5Dopen2(h, "/kappa4/slice", H5P_DEFAULT);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, slice) >= 0);
    H5Dclose(d);
    assert_memory_equal(slice, s->kappa4, sizeof slice);
    hid_t g = H5Gopen2(h, "/kappa4", H5P_DEFAULT);
    assert_int_equal(read_ll_attr(g, "gaussian_within_noise"), hl_stats_gaussian(s, 0.01, NULL));
    H5Gclose(g);
    H5Fclose(h);

    snprintf(path, sizeof path, "%s/full.h5", tmpdir);
    assert_int_equal(hl_stats_save(f, path, NULL, 9, NULL), HL_OK);
    h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(h >= 0);
    dataset_dims(h, "/covariance/matrix", &rank, dims);
    assert_int_equal(rank, 2);
    assert_int_equal(dims[0], 36);
    H5Fclose(h);

    assert_int_not_equal(hl_stats_save(s, "/proc/no/such/x.h5", NULL, 1, NULL), HL_OK);
    assert_true(strstr(hl_error_message(), "/proc/no/such") != NULL);

    snprintf(base, sizeof base, "%s/torus", tmpdir);
    assert_int_equal(hl_plot_stats(base, s, "test torus"), HL_OK);
    snprintf(png, sizeof png, "%s.png", base);
    assert_int_equal(file_size(png), 1);
    snprintf(png, sizeof png, "%s.svg", base);
    assert_int_equal(file_size(png), 1);
    snprintf(base, sizeof base, "%s/full", tmpdir);
    assert_int_equal(hl_plot_stats(base, f, "test full"), HL_OK);
    snprintf(png, sizeof png, "%s.png", base);
    assert_int_equal(file_size(png), 1);
    assert_int_not_equal(hl_plot_stats("/proc/no/such/fig", f, NULL), HL_OK);
    hl_stats_free(s);
    hl_stats_free(f);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_white_noise),
        cmocka_unit_test(test_sign_field),
        cmocka_unit_test(test_gp_is_gaussian),
        cmocka_unit_test(test_nlgp_exact),
        cmocka_unit_test(test_nlgp_torus),
        cmocka_unit_test(test_full_covariance),
        cmocka_unit_test(test_constant_site),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_save_and_plot),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
