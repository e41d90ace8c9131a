/* test_datasets.c — Fashion-MNIST, natural-image patches and the Gaussian clones.
 *
 * The real data come from Debian packages that scripts/setup.sh installs; if they
 * are missing the tests fail and say which package to install (no silent skips).
 * Statistical checks use fixed seeds and tolerances of a few standard errors
 * estimated from the same samples. Error paths write small bad files into a
 * temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hoclab_test_datasets_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void expect_message(const char *a, const char *b)
{
    const char *m = hl_error_message();
    if (!strstr(m, a) || (b && !strstr(m, b)))
        fail_msg("message '%s' should mention '%s'%s%s", m, a, b ? " and " : "", b ? b : "");
}

static hl_sampler *create(const char *model, const char *spec)
{
    hl_sampler *s = hl_model_create(model, spec);
    if (!s)
        fail_msg("%s '%s': %s", model, spec, hl_error_message());
    return s;
}

static float *draw(hl_sampler *s, size_t n, uint64_t seed)
{
    float *x = malloc(sizeof(float) * n * hl_sampler_dim(s));
    assert_non_null(x);
    gsl_rng *r = hl_rng_alloc(seed, 3);
    assert_int_equal(hl_sampler_sample(s, n, x, r), HL_OK);
    hl_rng_free(r);
    return x;
}

/* Mean (D) and covariance (D x D) of n samples, and for each covariance entry the
 * standard error of its estimate (from the spread of the centred products). */
static void moments(const float *x, size_t n, size_t D, double *mean, double *cov,
                    double *cov_se)
{
    memset(mean, 0, sizeof(double) * D);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++)
            mean[j] += x[i * D + j];
    for (size_t j = 0; j < D; j++)
        mean[j] /= n;
    double *s2 = calloc(D * D, sizeof *s2), *e = malloc(sizeof(double) * D);
    memset(cov, 0, sizeof(double) * D * D);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < D; j++)
            e[j] = x[i * D + j] - mean[j];
        for (size_t j = 0; j < D; j++)
            for (size_t k = 0; k < D; k++) {
                double p = e[j] * e[k];
                cov[j * D + k] += p;
                s2[j * D + k] += p * p;
            }
    }
    for (size_t q = 0; q < D * D; q++) {
        double m = cov[q] / n;
        cov[q] = cov[q] / (n - 1);
        if (cov_se)
            cov_se[q] = sqrt(fmax(s2[q] / n - m * m, 0) / n);
    }
    free(s2);
    free(e);
}

/* ---- Fashion-MNIST ------------------------------------------------------------------ */

static hl_dataset *load_fmnist(const char *split)
{
    hl_dataset *d = NULL;
    if (hl_fmnist_load(NULL, split, &d))
        fail_msg("Fashion-MNIST is not readable: %s. Install the Debian package "
                 "dataset-fashion-mnist (scripts/setup.sh does, as root).", hl_error_message());
    return d;
}

static void test_fmnist_load(void **state)
{
    const char *split[2] = {"train", "test"};
    size_t n[2] = {60000, 10000};
    for (int s = 0; s < 2; s++) {
        hl_dataset *d = load_fmnist(split[s]);
        assert_int_equal(d->n, n[s]);
        assert_int_equal(d->rows, 28);
        assert_int_equal(d->cols, 28);
        assert_int_equal(d->n_classes, 10);
        size_t count[10] = {0};
        for (size_t i = 0; i < d->n; i++) {
            assert_true(d->labels[i] >= 0 && d->labels[i] <= 9);
            count[d->labels[i]]++;
        }
        for (int c = 0; c < 10; c++)
            assert_int_equal(count[c], n[s] / 10); /* both splits are balanced */
        if (s == 0) {
            /* The training set's pixel mean and sd, as published with the data set
             * and used by every normalisation of it: 0.2860 and 0.3530. */
            float *x = malloc(sizeof(float) * d->n * 784);
            hl_dataset_floats(d, x);
            double m = 0, m2 = 0;
            for (size_t i = 0; i < d->n * 784; i++) {
                m += x[i];
                m2 += (double)x[i] * x[i];
            }
            m /= d->n * 784.0;
            assert_true(fabs(m - 0.2860) < 1e-4);
            assert_true(fabs(sqrt(m2 / (d->n * 784.0) - m * m) - 0.3530) < 1e-4);
            free(x);
        }
        hl_dataset_free(d);
    }
}

/* A small IDX pair: n images of 2 x 3, pixel i*6+j = 10 i + j, label i % 3. */
static size_t idx_images(unsigned char *buf, size_t n)
{
    unsigned char h[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, 2, 0, 0, 0, 3};
    memcpy(buf, h, 16);
    for (size_t i = 0; i < n * 6; i++)
        buf[16 + i] = (unsigned char)(10 * (i / 6) + i % 6);
    return 16 + n * 6;
}

static size_t idx_labels(unsigned char *buf, size_t n)
{
    unsigned char h[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    memcpy(buf, h, 8);
    for (size_t i = 0; i < n; i++)
        buf[8 + i] = (unsigned char)(i % 3);
    return 8 + n;
}

static void write_gz(const char *path, const void *data, size_t len)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
}

/* Load must fail with `code`, naming the path and the problem. */
static void expect_idx_error(const char *images, const char *labels, int code,
                             const char *path, const char *problem)
{
    hl_dataset *d = (hl_dataset *)1;
    assert_int_equal(hl_idx_load(images, labels, &d), code);
    assert_null(d);
    expect_message(path, problem);
}

static void test_idx_files(void **state)
{
    unsigned char img[256], lab[64], bad[256];
    char pi[300], pl[300], pg[300], pb[300];
    size_t ni = idx_images(img, 5), nl = idx_labels(lab, 5);
    tmp_path(pi, sizeof pi, "img");
    tmp_path(pl, sizeof pl, "lab");
    tmp_path(pg, sizeof pg, "img.gz");
    tmp_path(pb, sizeof pb, "bad");
    write_file(pi, img, ni);
    write_file(pl, lab, nl);
    write_gz(pg, img, ni);

    /* Plain and gzip files give the same content. */
    for (int gz = 0; gz < 2; gz++) {
        hl_dataset *d;
        assert_int_equal(hl_idx_load(gz ? pg : pi, pl, &d), HL_OK);
        assert_int_equal(d->n, 5);
        assert_int_equal(d->rows, 2);
        assert_int_equal(d->cols, 3);
        assert_int_equal(d->n_classes, 3);
        for (size_t i = 0; i < 30; i++)
            assert_int_equal(d->pixels[i], 10 * (i / 6) + i % 6);
        for (size_t i = 0; i < 5; i++)
            assert_int_equal(d->labels[i], i % 3);
        hl_dataset_free(d);
    }

    /* A missing file: HL_EIO naming it and the reason. */
    char missing[300];
    tmp_path(missing, sizeof missing, "no-such-file");
    expect_idx_error(missing, pl, HL_EIO, missing, "No such file");
    expect_idx_error(pi, missing, HL_EIO, missing, "No such file");

    /* Wrong magic number. */
    memcpy(bad, img, ni);
    bad[0] = 0x12;
    write_file(pb, bad, ni);
    expect_idx_error(pb, pl, HL_EFORMAT, pb, "magic number");
    /* Unsupported element type (0x0D: float). */
    memcpy(bad, img, ni);
    bad[2] = 0x0D;
    write_file(pb, bad, ni);
    expect_idx_error(pb, pl, HL_EFORMAT, pb, "element type 0x0d");
    /* Labels where images are expected (rank 1). */
    expect_idx_error(pl, pl, HL_EFORMAT, pl, "dimensions");
    /* Truncated: pixels, header sizes, and the magic number itself. */
    write_file(pb, img, ni - 7);
    expect_idx_error(pb, pl, HL_EFORMAT, pb, "truncated");
    write_file(pb, img, 10);
    expect_idx_error(pb, pl, HL_EFORMAT, pb, "truncated");
    write_file(pb, img, 2);
    expect_idx_error(pb, pl, HL_EFORMAT, pb, "truncated");
    /* Trailing data after the declared pixels. */
    memcpy(bad, img, ni);
    bad[ni] = 1;
    write_file(pb, bad, ni + 1);
    expect_idx_error(pb, pl, HL_EFORMAT, pb, "after");
    /* A truncated gzip stream. */
    FILE *f = fopen(pg, "rb");
    size_t glen = fread(bad, 1, sizeof bad, f);
    fclose(f);
    write_file(pb, bad, glen / 2);
    expect_idx_error(pb, pl, HL_EFORMAT, pb, "truncated");
    /* A gzip stream whose checksum does not match its data. */
    bad[glen - 8] ^= 0xff;
    write_file(pb, bad, glen);
    expect_idx_error(pb, pl, HL_EFORMAT, pb, "corrupt");
    /* Image and label counts differ. */
    nl = idx_labels(lab, 4);
    write_file(pb, lab, nl);
    expect_idx_error(pi, pb, HL_EFORMAT, pi, "4 labels");

    /* The Fashion-MNIST loader names the file it looked for, and checks the split. */
    hl_dataset *d;
    assert_int_equal(hl_fmnist_load(tmpdir, "train", &d), HL_EIO);
    expect_message(tmpdir, "train-images-idx3-ubyte.gz");
    assert_int_equal(hl_fmnist_load(NULL, "valid", &d), HL_EINVAL);
    expect_message("split", "valid");
}

static void test_fmnist_model(void **state)
{
    hl_dataset *d = load_fmnist("test");
    hl_sampler *s = create("fmnist", "split=test,classes=3:7");
    assert_int_equal(hl_sampler_dim(s), 784);
    assert_string_equal(hl_sampler_name(s), "fmnist");
    assert_true(hl_sampler_is_stateless(s));
    size_t n = 200;
    float *x = draw(s, n, 5), *y = draw(s, n, 5);
    assert_memory_equal(x, y, sizeof(float) * n * 784); /* same seed, same images */
    /* Every draw is an image of class 3 or 7 of the test split, in [0, 1]. */
    size_t hits[2] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t found = d->n;
        for (size_t k = 0; k < d->n && found == d->n; k++) {
            size_t j = 0;
            while (j < 784 && x[i * 784 + j] == d->pixels[k * 784 + j] * (1.0f / 255))
                j++;
            if (j == 784)
                found = k;
        }
        assert_true(found < d->n);
        assert_true(d->labels[found] == 3 || d->labels[found] == 7);
        hits[d->labels[found] == 7]++;
    }
    /* Both classes appear (binomial(200, 1/2): below 60 has probability < 1e-8). */
    assert_true(hits[0] > 60 && hits[1] > 60);
    free(x);
    free(y);
    hl_sampler_free(s);
    hl_dataset_free(d);

    /* Per-pixel standardisation with the training images' statistics: drawn from the
     * training split, pixels have mean 0 and variance 1. */
    s = create("fmnist", "normalise=standard,classes=0:1");
    n = 4000;
    x = draw(s, n, 6);
    const size_t pix[3] = {14 * 28 + 14, 10 * 28 + 8, 20 * 28 + 17};
    for (int q = 0; q < 3; q++) {
        double m = 0, m2 = 0, m4 = 0;
        for (size_t i = 0; i < n; i++) {
            double v = x[i * 784 + pix[q]];
            m += v;
            m2 += v * v;
            m4 += v * v * v * v;
        }
        m /= n;
        m2 /= n;
        m4 /= n;
        assert_true(fabs(m) < 5 * sqrt(m2 / n));
        assert_true(fabs(m2 - 1) < 5 * sqrt((m4 - m2 * m2) / n));
    }
    free(x);
    hl_sampler_free(s);

    /* Bad parameters name themselves. */
    assert_null(hl_model_create("fmnist", "classes=3:12"));
    expect_message("classes", "12");
    assert_null(hl_model_create("fmnist", "clone=3"));
    expect_message("clone", "0..2");
    assert_null(hl_model_create("fmnist", "normalise=zca"));
    expect_message("normalise", "standard");
    assert_null(hl_model_create("fmnist", "path=/nonexistent"));
    expect_message("/nonexistent/train-images-idx3-ubyte.gz", NULL);
}

/* The fmnist clones have the class means of the images they replace. */
static void test_fmnist_clones(void **state)
{
    hl_dataset *d = load_fmnist("test");
    double data_mean[784] = {0};
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->labels[i] == 1) {
            for (size_t j = 0; j < 784; j++)
                data_mean[j] += d->pixels[i * 784 + j] / 255.0;
            m++;
        }
    hl_dataset_free(d);
    for (int clone = 1; clone <= 2; clone++) {
        char spec[64];
        snprintf(spec, sizeof spec, "split=test,classes=1,clone=%d", clone);
        hl_sampler *s = create("fmnist", spec);
        assert_string_equal(hl_sampler_name(s), "fmnist");
        size_t n = 2000;
        float *x = draw(s, n, 8);
        double worst = 0;
        for (size_t j = 0; j < 784; j++) {
            double a = 0, a2 = 0;
            for (size_t i = 0; i < n; i++) {
                a += x[i * 784 + j];
                a2 += (double)x[i * 784 + j] * x[i * 784 + j];
            }
            a /= n;
            double se = sqrt(fmax(a2 / n - a * a, 1e-12) / n);
            worst = fmax(worst, fabs(a - data_mean[j] / m) / se);
        }
        /* 784 pixels within 5.5 standard errors (Gaussian draws: false alarm < 1e-4). */
        assert_true(worst < 5.5);
        free(x);
        hl_sampler_free(s);
    }
}

/* ---- Gaussian mixture clones ---------------------------------------------------------- */

enum { MD = 12 };

/* Two classes of non-Gaussian data (cubes of correlated normals), counts 12000 and
 * 4000, different means and covariances. */
static float *mixture_data(size_t n, int **labels)
{
    float *X = malloc(sizeof(float) * n * MD);
    *labels = malloc(sizeof(int) * n);
    gsl_rng *r = hl_rng_alloc(42, 9);
    float z[MD];
    for (size_t i = 0; i < n; i++) {
        int c = i % 4 == 3;
        (*labels)[i] = c;
        hl_rng_normals(r, MD, z);
        for (int j = 0; j < MD; j++) {
            double v = z[j] + 0.5 * z[(j + 1) % MD] * (c ? -1 : 1);
            X[i * MD + j] = (float)(c ? v * v * v / 3 + j : 2 * v - 0.1 * j);
        }
    }
    hl_rng_free(r);
    return X;
}

static void test_mixture_fit(void **state)
{
    size_t n = 16000;
    int *lab;
    float *X = mixture_data(n, &lab);
    hl_mixture *m;
    assert_int_equal(hl_mixture_fit(X, lab, n, MD, 2, 0, &m), HL_OK);
    assert_int_equal(hl_mixture_dim(m), MD);
    assert_int_equal(hl_mixture_n_classes(m), 2);
    assert_int_equal(hl_mixture_count(m, 0), 12000);
    assert_int_equal(hl_mixture_count(m, 1), 4000);
    assert_null(hl_mixture_mean(m, 2));

    /* The fitted parameters are the empirical ones (computed here independently). */
    double mean[MD], cov[MD * MD];
    float *Xc = malloc(sizeof(float) * n * MD);
    for (int c = 0; c < 2; c++) {
        size_t nc = 0;
        for (size_t i = 0; i < n; i++)
            if (lab[i] == c)
                memcpy(Xc + MD * nc++, X + MD * i, sizeof(float) * MD);
        moments(Xc, nc, MD, mean, cov, NULL);
        const double *fm = hl_mixture_mean(m, c), *fc = hl_mixture_covariance(m, c);
        double tr = 0;
        for (int j = 0; j < MD; j++) {
            assert_true(fabs(fm[j] - mean[j]) < 1e-9 * (1 + fabs(mean[j])));
            tr += cov[j * MD + j];
        }
        for (int q = 0; q < MD * MD; q++)
            assert_true(fabs(fc[q] - cov[q]) < 1e-9 * (1 + fabs(cov[q])));
        assert_true(fabs(hl_mixture_variance(m, c) - tr / MD) < 1e-9 * tr);
        assert_true(hl_mixture_jitter(m, c) == 0);
        /* L L^T = C (the factor is stored in float). */
        const float *L = hl_mixture_factor(m, c);
        for (int a = 0; a < MD; a++)
            for (int b = 0; b < MD; b++) {
                double s = 0;
                for (int k = 0; k < MD; k++)
                    s += (double)L[a * MD + k] * L[b * MD + k];
                assert_true(fabs(s - cov[a * MD + b]) < 1e-5 * tr);
                if (b > a)
                    assert_true(L[a * MD + b] == 0);
            }

        /* The clone of class c reproduces mean and covariance within 5 standard
         * errors per entry (78 + 12 checks; false alarm < 1e-4). */
        hl_sampler *s = hl_mixture_sampler(m, &c, 1);
        assert_non_null(s);
        size_t ns = 20000;
        float *x = draw(s, ns, 10 + c);
        double sm[MD], sc[MD * MD], se[MD * MD];
        moments(x, ns, MD, sm, sc, se);
        for (int a = 0; a < MD; a++) {
            assert_true(fabs(sm[a] - fm[a]) < 5 * sqrt(fc[a * MD + a] / ns));
            for (int b = 0; b <= a; b++)
                assert_true(fabs(sc[a * MD + b] - fc[a * MD + b]) < 5 * se[a * MD + b]);
        }
        free(x);
        hl_sampler_free(s);
    }

    /* Both classes, weighted by their counts 3:1: the mixture's overall mean. */
    hl_sampler *s = hl_mixture_sampler(m, NULL, 0);
    hl_mixture_free(m); /* the sampler keeps its own reference */
    size_t ns = 20000;
    float *x = draw(s, ns, 13);
    double sm[MD], sc[MD * MD];
    moments(x, ns, MD, sm, sc, NULL);
    moments(X, n, MD, mean, cov, NULL);
    for (int j = 0; j < MD; j++)
        assert_true(fabs(sm[j] - mean[j]) < 5 * sqrt(cov[j * MD + j] / ns));
    free(x);
    hl_sampler_free(s);
    free(Xc);
    free(X);
    free(lab);
}

static void test_mixture_isotropic(void **state)
{
    size_t n = 16000;
    int *lab;
    float *X = mixture_data(n, &lab);
    hl_mixture *full, *iso;
    assert_int_equal(hl_mixture_fit(X, lab, n, MD, 2, 0, &full), HL_OK);
    assert_int_equal(hl_mixture_fit(X, lab, n, MD, 2, 1, &iso), HL_OK);
    assert_true(hl_mixture_is_isotropic(iso));
    assert_null(hl_mixture_covariance(iso, 0));
    assert_null(hl_mixture_factor(iso, 0));
    for (int c = 0; c < 2; c++) {
        const double *m = hl_mixture_mean(iso, c);
        double v = hl_mixture_variance(iso, c);
        assert_memory_equal(m, hl_mixture_mean(full, c), sizeof(double) * MD);
        assert_true(fabs(v - hl_mixture_variance(full, c)) < 1e-12 * v);
        hl_sampler *s = hl_mixture_sampler(iso, &c, 1);
        size_t ns = 20000;
        float *x = draw(s, ns, 20 + c);
        double sm[MD], sc[MD * MD], se[MD * MD], avg = 0;
        moments(x, ns, MD, sm, sc, se);
        for (int a = 0; a < MD; a++) {
            assert_true(fabs(sm[a] - m[a]) < 5 * sqrt(v / ns));
            avg += sc[a * MD + a] / MD;
            for (int b = 0; b < a; b++)
                assert_true(fabs(sc[a * MD + b]) < 5 * se[a * MD + b]);
        }
        /* The average of MD variance estimates: se = v sqrt(2 / (ns MD)). */
        assert_true(fabs(avg - v) < 5 * v * sqrt(2.0 / (ns * MD)));
        free(x);
        hl_sampler_free(s);
    }
    hl_mixture_free(full);
    hl_mixture_free(iso);
    free(X);
    free(lab);
}

static void test_mixture_save_load(void **state)
{
    size_t n = 16000;
    int *lab;
    float *X = mixture_data(n, &lab);
    for (int isotropic = 0; isotropic < 2; isotropic++) {
        hl_mixture *m, *r;
        char path[300];
        tmp_path(path, sizeof path, isotropic ? "iso.h5" : "full.h5");
        assert_int_equal(hl_mixture_fit(X, lab, n, MD, 2, isotropic, &m), HL_OK);
        assert_int_equal(hl_mixture_save(m, path), HL_OK);
        assert_int_equal(hl_mixture_load(path, &r), HL_OK);
        assert_int_equal(hl_mixture_dim(r), MD);
        assert_int_equal(hl_mixture_n_classes(r), 2);
        assert_int_equal(hl_mixture_is_isotropic(r), isotropic);
        for (int c = 0; c < 2; c++) {
            assert_int_equal(hl_mixture_count(r, c), hl_mixture_count(m, c));
            assert_memory_equal(hl_mixture_mean(r, c), hl_mixture_mean(m, c),
                                sizeof(double) * MD);
            double v[2] = {hl_mixture_variance(m, c), hl_mixture_jitter(m, c)};
            double w[2] = {hl_mixture_variance(r, c), hl_mixture_jitter(r, c)};
            assert_memory_equal(v, w, sizeof v);
            if (!isotropic) {
                assert_memory_equal(hl_mixture_covariance(r, c), hl_mixture_covariance(m, c),
                                    sizeof(double) * MD * MD);
                assert_memory_equal(hl_mixture_factor(r, c), hl_mixture_factor(m, c),
                                    sizeof(float) * MD * MD);
            }
        }
        /* The same seed gives the same samples from the fit and from the file, also
         * through the registry's "mixture" model. */
        hl_sampler *a = hl_mixture_sampler(m, NULL, 0), *b = hl_mixture_sampler(r, NULL, 0);
        char spec[400];
        snprintf(spec, sizeof spec, "path=%s", path);
        hl_sampler *c = create("mixture", spec);
        float *xa = draw(a, 500, 30), *xb = draw(b, 500, 30), *xc = draw(c, 500, 30);
        assert_memory_equal(xa, xb, sizeof(float) * 500 * MD);
        assert_memory_equal(xa, xc, sizeof(float) * 500 * MD);
        float *xd = draw(a, 500, 31);
        assert_memory_not_equal(xa, xd, sizeof(float) * 500 * MD);
        free(xa);
        free(xb);
        free(xc);
        free(xd);
        hl_sampler_free(a);
        hl_sampler_free(b);
        hl_sampler_free(c);
        hl_mixture_free(m);
        hl_mixture_free(r);
    }
    free(X);
    free(lab);

    /* Errors: a missing file, a file that is not HDF5, bad parameters. */
    char path[300], spec[400];
    hl_mixture *m;
    tmp_path(path, sizeof path, "none.h5");
    assert_int_equal(hl_mixture_load(path, &m), HL_EIO);
    expect_message(path, "No such file");
    tmp_path(path, sizeof path, "text.h5");
    write_file(path, "not hdf5\n", 9);
    assert_int_equal(hl_mixture_load(path, &m), HL_EFORMAT);
    expect_message(path, "HDF5");
    assert_null(hl_model_create("mixture", ""));
    expect_message("path", NULL);
    tmp_path(path, sizeof path, "full.h5");
    snprintf(spec, sizeof spec, "path=%s,classes=1:2", path);
    assert_null(hl_model_create("mixture", spec));
    expect_message("classes", "2");
    snprintf(spec, sizeof spec, "path=%s,classes=1", path);
    hl_sampler *s = create("mixture", spec);
    assert_string_equal(hl_sampler_name(s), "mixture");
    hl_sampler_free(s);
}

/* A constant pixel makes the covariance singular: the fit adds the smallest jitter
 * that works, and reports it. Classes need two samples. */
static void test_mixture_jitter_and_errors(void **state)
{
    size_t n = 100, D = 4;
    float X[400];
    gsl_rng *r = hl_rng_alloc(3, 3);
    hl_rng_normals(r, n * D, X);
    hl_rng_free(r);
    for (size_t i = 0; i < n; i++)
        X[i * D + 2] = 0.5f;
    hl_mixture *m;
    assert_int_equal(hl_mixture_fit(X, NULL, n, D, 1, 0, &m), HL_OK);
    double v = hl_mixture_variance(m, 0), j = hl_mixture_jitter(m, 0);
    assert_true(j >= 1e-10 * v * 0.999 && j <= 1e-3 * v * 1.001);
    assert_true(hl_mixture_covariance(m, 0)[2 * D + 2] == 0);
    hl_mixture_free(m);

    int lab[3] = {0, 1, 1};
    assert_int_equal(hl_mixture_fit(X, lab, 3, D, 2, 0, &m), HL_EINVAL);
    expect_message("class 0", "at least 2");
    lab[0] = 2;
    assert_int_equal(hl_mixture_fit(X, lab, 3, D, 2, 0, &m), HL_EINVAL);
    expect_message("label 2", NULL);

    int cls[4], k;
    assert_int_equal(hl_classes_parse("0:2:4", "classes", 10, cls, &k), HL_OK);
    assert_int_equal(k, 3);
    assert_int_equal(cls[2], 4);
    assert_int_equal(hl_classes_parse("", "classes", 3, cls, &k), HL_OK);
    assert_int_equal(k, 3);
    const char *bad[] = {"1:1", "a", "1:", "3", "-1", "1;2"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(hl_classes_parse(bad[i], "classes", 3, cls, &k), HL_EINVAL);
        expect_message("classes", bad[i]);
    }
}

/* ---- Natural-image patches ---------------------------------------------------------------- */

static void test_png_and_patches(void **state)
{
    /* A 2 x 1 RGB image: pure red and pure green, in luminance. */
    char path[300];
    tmp_path(path, sizeof path, "rg.png");
    unsigned char rgb[6] = {255, 0, 0, 0, 255, 0};
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = 2;
    img.height = 1;
    img.format = PNG_FORMAT_RGB;
    assert_true(png_image_write_to_file(&img, path, 0, rgb, 0, NULL));
    float *g;
    int w, h;
    assert_int_equal(hl_png_load_grey(path, HL_GREY_LUMINANCE, &g, &w, &h), HL_OK);
    assert_int_equal(w, 2);
    assert_int_equal(h, 1);
    assert_true(fabsf(g[0] - 0.2125f) < 1e-6f && fabsf(g[1] - 0.7154f) < 1e-6f);
    free(g);
    assert_int_equal(hl_png_load_grey(path, HL_GREY_AVERAGE, &g, &w, &h), HL_OK);
    assert_true(fabsf(g[0] - 1.0f / 3) < 1e-6f && fabsf(g[1] - 1.0f / 3) < 1e-6f);
    free(g);
    /* Not a PNG; a missing file; an image smaller than the patch. */
    char txt[300], spec[700];
    tmp_path(txt, sizeof txt, "text.png");
    write_file(txt, "hello", 5);
    assert_int_equal(hl_png_load_grey(txt, HL_GREY_LUMINANCE, &g, &w, &h), HL_EFORMAT);
    expect_message(txt, "PNG");
    snprintf(spec, sizeof spec, "images=%s", path);
    assert_null(hl_model_create("patches", spec));
    expect_message("size", "rg.png");
    assert_null(hl_model_create("patches", "images=nosuch.png"));
    expect_message("nosuch.png", "No such file");
    assert_null(hl_model_create("patches", "size=3"));
    expect_message("size", "4..64");

    hl_sampler *s = create("patches", "");
    assert_int_equal(hl_sampler_dim(s), 256);
    assert_string_equal(hl_sampler_name(s), "patches");
    assert_true(hl_sampler_is_stateless(s));
    size_t n = 2000;
    float *x = draw(s, n, 40), *y = draw(s, n, 40);
    assert_memory_equal(x, y, sizeof(float) * n * 256);
    double lo = 1, hi = 0;
    for (size_t i = 0; i < n * 256; i++) {
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    assert_true(lo >= 0 && hi <= 1 && hi - lo > 0.9); /* [0, 1], and real contrast */
    free(x);
    free(y);
    hl_sampler_free(s);
}

/* Whitened patches: ZCA gives covariance ~ identity, standardisation gives unit
 * variances. The whitening was fitted to other patches (the internal stream), so
 * each entry may be off by the errors of two estimates: tolerance 5 sqrt 2 se. */
static void test_whitened_patches(void **state)
{
    enum { Q = 64 };
    size_t n = 20000;
    double m[Q], c[Q * Q], se[Q * Q];
    const char *specs[3] = {"size=8,whiten=zca", "size=8,whiten=zca,clone=1",
                            "size=8,whiten=standard"};
    for (int t = 0; t < 3; t++) {
        hl_sampler *s = create("patches", specs[t]);
        float *x = draw(s, n, 50 + t);
        moments(x, n, Q, m, c, se);
        double worst = 0;
        for (int a = 0; a < Q; a++) {
            worst = fmax(worst, fabs(m[a]) / (M_SQRT2 * sqrt(c[a * Q + a] / n)));
            for (int b = 0; b <= a; b++)
                if (t < 2 || a == b)
                    worst = fmax(worst, fabs(c[a * Q + b] - (a == b)) /
                                            (M_SQRT2 * se[a * Q + b]));
        }
        if (worst > 5)
            fail_msg("%s: an entry of the mean or covariance is %.1f standard errors from "
                     "the identity", specs[t], worst);
        free(x);
        hl_sampler_free(s);
    }
}

/* The clone of raw patches has their mean and covariance (small patches: D = 16). */
static void test_patch_clone(void **state)
{
    enum { Q = 16 };
    size_t n = 40000;
    hl_sampler *s = create("patches", "size=4"), *g = create("patches", "size=4,clone=1");
    float *x = draw(s, n, 60), *y = draw(g, n, 61);
    double mx[Q], cx[Q * Q], sx[Q * Q], my[Q], cy[Q * Q], sy[Q * Q];
    moments(x, n, Q, mx, cx, sx);
    moments(y, n, Q, my, cy, sy);
    for (int a = 0; a < Q; a++) {
        assert_true(fabs(mx[a] - my[a]) < 5 * sqrt(2 * cx[a * Q + a] / n));
        for (int b = 0; b <= a; b++) {
            double se = sqrt(sx[a * Q + b] * sx[a * Q + b] + sy[a * Q + b] * sy[a * Q + b]);
            /* Plus the error of the clone's own fit (PATCH_FIT patches). */
            assert_true(fabs(cx[a * Q + b] - cy[a * Q + b]) < 5 * M_SQRT2 * se);
        }
    }
    /* The clone is Gaussian, the patches are not: excess kurtosis of a pixel
     * difference (an edge detector) is large for images, ~0 for the clone. */
    double k[2];
    for (int t = 0; t < 2; t++) {
        const float *z = t ? y : x;
        double m2 = 0, m4 = 0;
        for (size_t i = 0; i < n; i++) {
            double d = z[i * Q + 5] - z[i * Q + 6];
            m2 += d * d;
            m4 += d * d * d * d;
        }
        k[t] = (m4 / n) / ((m2 / n) * (m2 / n)) - 3;
    }
    assert_true(k[0] > 3);
    assert_true(fabs(k[1]) < 0.3);
    free(x);
    free(y);
    hl_sampler_free(s);
    hl_sampler_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmnist_load),
        cmocka_unit_test(test_idx_files),
        cmocka_unit_test(test_fmnist_model),
        cmocka_unit_test(test_fmnist_clones),
        cmocka_unit_test(test_mixture_fit),
        cmocka_unit_test(test_mixture_isotropic),
        cmocka_unit_test(test_mixture_save_load),
        cmocka_unit_test(test_mixture_jitter_and_errors),
        cmocka_unit_test(test_png_and_patches),
        cmocka_unit_test(test_whitened_patches),
        cmocka_unit_test(test_patch_clone),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
