/* datasets.c — real images as data models: Fashion-MNIST and natural-image patches.
 *
 * Both read files that Debian packages install: the IDX files of
 * dataset-fashion-mnist (through zlib, which reads gzip and plain files alike) and
 * the photographs in python3-skimage's data folder (through libpng; Python itself is
 * never run). Each model draws with replacement from a fixed set of images, so its
 * draws depend only on the generator (stateless), and each has Gaussian clones built
 * by mixture.c from the statistics of the same images. */
#include "sampler_impl.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- IDX files ----------------------------------------------------------------------
 *
 * An IDX file is a 4-byte magic number 0x0000TTRR (TT the element type, 0x08 for
 * unsigned bytes; RR the rank), RR big-endian 32-bit sizes, then the elements. */

enum { IDX_UBYTE = 0x08 };

/* Read exactly len bytes of `what`; a short read is a truncated file. */
static int gz_read_exact(gzFile g, const char *path, void *buf, size_t len, const char *what)
{
    size_t got = 0;
    while (got < len) {
        size_t want = len - got;
        int r = gzread(g, (char *)buf + got, want > (1u << 30) ? 1u << 30 : (unsigned)want);
        if (r < 0) {
            int err;
            const char *msg = gzerror(g, &err);
            if (err == Z_ERRNO)
                return hl_error_set(HL_EIO, "cannot read '%s': %s", path, strerror(errno));
            if (err == Z_BUF_ERROR)
                return hl_error_set(HL_EFORMAT, "'%s' is truncated: its compressed stream "
                                    "ends inside %s", path, what);
            return hl_error_set(HL_EFORMAT, "'%s' is corrupt (zlib: %s) inside %s", path, msg,
                                what);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got < len)
        return hl_error_set(HL_EFORMAT, "'%s' is truncated: %s needs %zu bytes, only %zu are "
                            "there", path, what, len, got);
    return HL_OK;
}

/* Open `path` and read its IDX header: `rank` sizes into dims. */
static int idx_open(const char *path, int rank, const char *shape, gzFile *out, size_t *dims)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return hl_error_set(HL_EIO, "cannot open '%s': %s", path, strerror(errno));
    gzFile g = gzdopen(fd, "rb");
    if (!g) {
        close(fd);
        return hl_error_set(HL_ENOMEM, "cannot set up decompression of '%s'", path);
    }
    gzbuffer(g, 1u << 17);
    unsigned char h[4 + 4 * 3];
    int rc = gz_read_exact(g, path, h, 4, "the magic number");
    unsigned magic = (unsigned)h[0] << 24 | (unsigned)h[1] << 16 | (unsigned)h[2] << 8 | h[3];
    if (!rc && (h[0] || h[1]))
        rc = hl_error_set(HL_EFORMAT, "'%s': wrong magic number 0x%08x: not an IDX file "
                          "(expected 0x%08x for %s)", path, magic,
                          (unsigned)(IDX_UBYTE << 8 | rank), shape);
    if (!rc && h[2] != IDX_UBYTE)
        rc = hl_error_set(HL_EFORMAT, "'%s': element type 0x%02x is not supported: only "
                          "unsigned bytes (0x08)", path, h[2]);
    if (!rc && h[3] != rank)
        rc = hl_error_set(HL_EFORMAT, "'%s' has %d dimensions, expected %d (%s)", path, h[3],
                          rank, shape);
    if (!rc)
        rc = gz_read_exact(g, path, h + 4, 4 * (size_t)rank, "the header's sizes");
    for (int i = 0; i < rank && !rc; i++) {
        const unsigned char *b = h + 4 + 4 * i;
        dims[i] = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
        if (dims[i] == 0)
            rc = hl_error_set(HL_EFORMAT, "'%s': size %d of the header is 0", path, i);
    }
    if (rc) {
        gzclose(g);
        return rc;
    }
    *out = g;
    return HL_OK;
}

/* Read the payload, then insist that nothing follows it: a longer file is not the
 * shape its header declares (and reading on lets zlib check the gzip checksum). */
static int idx_body(gzFile g, const char *path, void *buf, size_t len, const char *what)
{
    int rc = gz_read_exact(g, path, buf, len, what);
    unsigned char extra;
    if (!rc) {
        int r = gzread(g, &extra, 1);
        if (r > 0)
            rc = hl_error_set(HL_EFORMAT, "'%s' has data after the %zu bytes of %s its header "
                              "declares", path, len, what);
        else if (r < 0)
            rc = gz_read_exact(g, path, &extra, 1, "its end");
    }
    if (gzclose(g) != Z_OK && !rc)
        rc = hl_error_set(HL_EIO, "cannot close '%s'", path);
    return rc;
}

void hl_dataset_free(hl_dataset *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    free(d);
}

int hl_idx_load(const char *images, const char *labels, hl_dataset **out)
{
    *out = NULL;
    size_t di[3], dl[1];
    gzFile gi, gl;
    int rc = idx_open(images, 3, "images: n x rows x cols", &gi, di);
    if (rc)
        return rc;
    /* 2^34 bytes: far beyond any image set here, and no size_t overflow below. */
    if (di[1] > 65536 || di[2] > 65536 || di[0] > ((size_t)1 << 34) / (di[1] * di[2])) {
        gzclose(gi);
        return hl_error_set(HL_EFORMAT, "'%s': implausible sizes %zu x %zu x %zu", images,
                            di[0], di[1], di[2]);
    }
    hl_dataset *d = calloc(1, sizeof *d);
    size_t D = di[1] * di[2];
    if (!d || !(d->pixels = malloc(di[0] * D)) || !(d->labels = malloc(sizeof(int) * di[0]))) {
        gzclose(gi);
        hl_dataset_free(d);
        return hl_error_set(HL_ENOMEM, "cannot allocate %zu images of %zu pixels", di[0], D);
    }
    d->n = di[0];
    d->rows = (int)di[1];
    d->cols = (int)di[2];
    if ((rc = idx_body(gi, images, d->pixels, d->n * D, "the pixels")) ||
        (rc = idx_open(labels, 1, "labels: n", &gl, dl))) {
        hl_dataset_free(d);
        return rc;
    }
    if (dl[0] != d->n) {
        gzclose(gl);
        hl_dataset_free(d);
        return hl_error_set(HL_EFORMAT, "'%s' has %zu images but '%s' has %zu labels", images,
                            di[0], labels, dl[0]);
    }
    /* The labels are read over the int array's own bytes, then widened in place from
     * the end (each int is at least as far along as its byte). */
    unsigned char *bytes = (unsigned char *)d->labels;
    if ((rc = idx_body(gl, labels, bytes, d->n, "the labels"))) {
        hl_dataset_free(d);
        return rc;
    }
    int max = 0;
    for (size_t i = d->n; i-- > 0;) {
        d->labels[i] = bytes[i];
        max = d->labels[i] > max ? d->labels[i] : max;
    }
    d->n_classes = max + 1;
    *out = d;
    return HL_OK;
}

/* dir/name.gz if it exists, else dir/name if it exists, else an error naming both. */
static int find_idx(const char *dir, const char *name, char *path, size_t size)
{
    struct stat st;
    snprintf(path, size, "%s/%s.gz", dir, name);
    if (stat(path, &st) == 0)
        return HL_OK;
    snprintf(path, size, "%s/%s", dir, name);
    if (stat(path, &st) == 0)
        return HL_OK;
    return hl_error_set(HL_EIO, "cannot open '%s/%s.gz' (nor '%s'): %s%s", dir, name, path,
                        strerror(errno),
                        strcmp(dir, HL_FMNIST_DIR) == 0
                            ? " (install the Debian package dataset-fashion-mnist)"
                            : "");
}

int hl_fmnist_load(const char *dir, const char *split, hl_dataset **out)
{
    *out = NULL;
    const char *prefix = !split ? NULL : strcmp(split, "train") == 0 ? "train"
                                     : strcmp(split, "test") == 0    ? "t10k"
                                                                     : NULL;
    if (!prefix)
        return hl_error_set(HL_EINVAL, "split = '%s': accepted values are train and test",
                            split ? split : "");
    dir = dir && *dir ? dir : HL_FMNIST_DIR;
    char images[4096], labels[4096], name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    int rc = find_idx(dir, name, images, sizeof images);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    if (rc || (rc = find_idx(dir, name, labels, sizeof labels)))
        return rc;
    return hl_idx_load(images, labels, out);
}

void hl_dataset_floats(const hl_dataset *d, float *out)
{
    size_t N = d->n * (size_t)d->rows * (size_t)d->cols;
    for (size_t i = 0; i < N; i++)
        out[i] = d->pixels[i] * (1.0f / 255);
}

/* ---- PNG images ------------------------------------------------------------------------ */

/* R, G, B weights of hl_grey: BT.709 luminance; the plain average. */
static const float grey_weights[2][3] = {{0.2125f, 0.7154f, 0.0721f},
                                         {1.0f / 3, 1.0f / 3, 1.0f / 3}};

int hl_png_load_grey(const char *path, hl_grey grey, float **pixels, int *width,
                     int *height)
{
    *pixels = NULL;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return hl_error_set(HL_EIO, "cannot open '%s': %s", path, strerror(errno));
    fclose(probe);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return hl_error_set(HL_EFORMAT, "'%s' is not a readable PNG image: %s", path,
                            img.message);
    img.format = PNG_FORMAT_RGB;
    size_t W = img.width, H = img.height;
    /* Zeroed: an alpha channel is composited onto this buffer, i.e. onto black. */
    unsigned char *rgb = calloc(PNG_IMAGE_SIZE(img), 1);
    float *out = malloc(sizeof(float) * W * H);
    if (!rgb || !out) {
        png_image_free(&img);
        free(rgb);
        free(out);
        return hl_error_set(HL_ENOMEM, "cannot allocate a %zu x %zu image for '%s'", W, H,
                            path);
    }
    if (!png_image_finish_read(&img, NULL, rgb, 0, NULL)) {
        free(rgb);
        free(out);
        return hl_error_set(HL_EFORMAT, "'%s' cannot be decoded: %s", path, img.message);
    }
    const float *wt = grey_weights[grey == HL_GREY_AVERAGE];
    for (size_t i = 0; i < W * H; i++) {
        const unsigned char *p = rgb + 3 * i;
        out[i] = (wt[0] * p[0] + wt[1] * p[1] + wt[2] * p[2]) * (1.0f / 255);
    }
    free(rgb);
    *pixels = out;
    *width = (int)W;
    *height = (int)H;
    return HL_OK;
}

/* ---- Fashion-MNIST ----------------------------------------------------------------------
 *
 * A draw is a uniformly random image of the selected classes (with replacement), as
 * x_j = byte_j * a_j + b_j: a_j = 1/255, b_j = 0 without normalisation; otherwise the
 * affine map that standardises pixel j (normalise=standard) or all pixels together
 * (normalise=global), with means and standard deviations of the TRAINING split's
 * images of the selected classes, also when the test split is drawn: both splits then
 * see the same map, as a network trained on one and tested on the other would. */

enum { NORM_NONE, NORM_STANDARD, NORM_GLOBAL };

/* Floor of a standard deviation, in [0, 1] units: one grey level. A pixel constant
 * in the training images is then centred but not blown up. */
static const double sd_floor = 1.0 / 255;

typedef struct {
    hl_sampler base;
    unsigned char *pixels;  /* the selected images, n x D */
    size_t n;
    float *a, *b;           /* D each */
    hl_sampler *clone;      /* clone != 0: the Gaussian mixture that replaces the images */
} fmnist;

static int fmnist_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    fmnist *s = (fmnist *)base;
    if (s->clone)
        return hl_sampler_sample(s->clone, n, out, rng);
    size_t D = base->D;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = s->pixels + gsl_rng_uniform_int(rng, s->n) * D;
        float *x = out + i * D;
        for (size_t j = 0; j < D; j++)
            x[j] = p[j] * s->a[j] + s->b[j];
    }
    return HL_OK;
}

static void fmnist_destroy(hl_sampler *base)
{
    fmnist *s = (fmnist *)base;
    free(s->pixels);
    free(s->a);
    free(s->b);
    hl_sampler_free(s->clone);
    free(s);
}

static const hl_sampler_ops fmnist_ops = {"fmnist", fmnist_sample, fmnist_destroy, 1};

/* Whether image i's label is among the selected classes. */
static int selected(const hl_dataset *d, size_t i, const int *cls, int k)
{
    for (int j = 0; j < k; j++)
        if (d->labels[i] == cls[j])
            return 1;
    return 0;
}

/* The affine map of the normalisation, from the training images of the classes. */
static int fmnist_normaliser(fmnist *s, const hl_dataset *train, const int *cls, int k,
                             int norm)
{
    size_t D = s->base.D, m = 0;
    double *sum = calloc(D, sizeof *sum), *sum2 = calloc(D, sizeof *sum2);
    if (!sum || !sum2) {
        free(sum);
        free(sum2);
        return hl_error_set(HL_ENOMEM, "cannot allocate pixel statistics");
    }
    for (size_t i = 0; i < train->n; i++) {
        if (!selected(train, i, cls, k))
            continue;
        const unsigned char *p = train->pixels + i * D;
        for (size_t j = 0; j < D; j++) {
            sum[j] += p[j];
            sum2[j] += (double)p[j] * p[j];
        }
        m++;
    }
    if (m == 0) {
        free(sum);
        free(sum2);
        return hl_error_set(HL_EFORMAT, "fmnist: the training split has no image of the "
                            "selected classes to normalise with");
    }
    double gs = 0, gs2 = 0;
    for (size_t j = 0; j < D; j++) {
        gs += sum[j];
        gs2 += sum2[j];
    }
    for (size_t j = 0; j < D; j++) {
        double n = norm == NORM_GLOBAL ? (double)m * D : (double)m;
        double s1 = norm == NORM_GLOBAL ? gs : sum[j], s2 = norm == NORM_GLOBAL ? gs2 : sum2[j];
        double mean = s1 / n / 255, var = (s2 / n - (s1 / n) * (s1 / n)) / (255.0 * 255);
        double sd = fmax(sqrt(fmax(var, 0)), sd_floor);
        s->a[j] = (float)(1 / (255 * sd));
        s->b[j] = (float)(-mean / sd);
    }
    free(sum);
    free(sum2);
    return HL_OK;
}

/* The clone: a mixture fitted to the selected images as drawn (normalised), one
 * component per selected class, weighted by the class counts. */
static int fmnist_clone(fmnist *s, const hl_dataset *d, const int *cls, int k, int isotropic)
{
    size_t D = s->base.D;
    float *X = malloc(sizeof(float) * s->n * D);
    int *lab = malloc(sizeof(int) * s->n);
    int rc = HL_OK;
    if (!X || !lab)
        rc = hl_error_set(HL_ENOMEM, "cannot allocate %zu images to fit the clone", s->n);
    for (size_t i = 0, r = 0; !rc && i < d->n; i++)
        for (int j = 0; j < k; j++)
            if (d->labels[i] == cls[j]) {
                lab[r] = j;
                for (size_t q = 0; q < D; q++)
                    X[r * D + q] = d->pixels[i * D + q] * s->a[q] + s->b[q];
                r++;
            }
    hl_mixture *m = NULL;
    if (!rc)
        rc = hl_mixture_fit(X, lab, s->n, D, k, isotropic, &m);
    free(X);
    free(lab);
    if (!rc && !(s->clone = hl_mixture_sampler(m, NULL, 0)))
        rc = HL_ENOMEM;
    hl_mixture_free(m);
    return rc;
}

static hl_sampler *fmnist_create(const hl_param_values *v)
{
    const char *dir = hl_param_text(v, "path");
    int split = hl_param_int(v, "split"), norm = hl_param_int(v, "normalise");
    int clone = hl_param_int(v, "clone");
    hl_dataset *d = NULL, *train = NULL;
    fmnist *s = NULL;
    int cls[256], k, rc;
    if ((rc = hl_fmnist_load(dir, split ? "test" : "train", &d)))
        return NULL;
    if ((rc = hl_classes_parse(hl_param_text(v, "classes"), "fmnist: classes", d->n_classes,
                               cls, &k)))
        goto done;
    size_t D = (size_t)d->rows * d->cols;
    s = calloc(1, sizeof *s);
    if (!s || !(s->a = malloc(sizeof(float) * D)) || !(s->b = malloc(sizeof(float) * D))) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the fmnist sampler");
        goto done;
    }
    s->base.ops = &fmnist_ops;
    s->base.D = D;
    for (size_t i = 0; i < d->n; i++)
        s->n += selected(d, i, cls, k);
    if (!s->n) {
        rc = hl_error_set(HL_EINVAL, "fmnist: classes = '%s' selects no image of the %s split",
                          hl_param_text(v, "classes"), split ? "test" : "train");
        goto done;
    }
    for (size_t j = 0; j < D; j++) {
        s->a[j] = 1.0f / 255;
        s->b[j] = 0;
    }
    if (norm != NORM_NONE) {
        if (split && (rc = hl_fmnist_load(dir, "train", &train)))
            goto done;
        if ((size_t)(train ? train : d)->rows * (train ? train : d)->cols != D) {
            rc = hl_error_set(HL_EFORMAT, "fmnist: the train and test images differ in size");
            goto done;
        }
        if ((rc = fmnist_normaliser(s, train ? train : d, cls, k, norm)))
            goto done;
    }
    if (clone) {
        rc = fmnist_clone(s, d, cls, k, clone == 2);
        goto done;
    }
    if (!(s->pixels = malloc(s->n * D))) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate %zu images", s->n);
        goto done;
    }
    for (size_t i = 0, r = 0; i < d->n; i++)
        if (selected(d, i, cls, k))
            memcpy(s->pixels + D * r++, d->pixels + D * i, D);
done:
    hl_dataset_free(d);
    hl_dataset_free(train);
    if (rc && s) {
        fmnist_destroy(&s->base);
        s = NULL;
    }
    return s ? &s->base : NULL;
}

static const hl_param_spec fmnist_params[] = {
    {"path", HL_PARAM_TEXT, HL_FMNIST_DIR, 0, 0, NULL,
     "folder of {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]"},
    {"split", HL_PARAM_CHOICE, "train", 0, 0, "train|test", "which images: 60000 or 10000"},
    {"classes", HL_PARAM_TEXT, "", 0, 0, NULL, "classes to draw, e.g. 0:2:4 (default: all)"},
    {"normalise", HL_PARAM_CHOICE, "none", 0, 0, "none|standard|global",
     "pixels in [0,1]; standardised per pixel; or by the global mean and sd (train split)"},
    {"clone", HL_PARAM_INT, "0", 0, 2, NULL,
     "0: images; 1: class-wise Gaussian mixture; 2: class means + isotropic noise"},
};

/* 28 x 28 whatever the parameters: D without loading the 60,000 images. */
static size_t fmnist_dimension(const hl_param_values *v)
{
    (void)v;
    return 28 * 28;
}

const hl_model hl_model_fmnist = {
    "fmnist", "Fashion-MNIST images (28 x 28) or their class-wise Gaussian clones",
    fmnist_params, sizeof fmnist_params / sizeof *fmnist_params, fmnist_create,
    fmnist_dimension};

/* ---- Natural-image patches ----------------------------------------------------------------
 *
 * A draw is a size x size patch at a uniformly random position of a uniformly random
 * image, in luminance [0, 1]. Whitening and the clone are fitted once, at creation,
 * to PATCH_FIT patches drawn from a fixed internal stream, so the same parameters
 * always give the same sampler. ZCA whitening is W = U (Lambda + eps)^(-1/2) U^T of the
 * fitted covariance U Lambda U^T, applied to x - mean; eps is the variance of 8-bit
 * quantisation noise, (1/255)^2 / 12: directions with less variance than the
 * rounding of the pixels are not amplified beyond it. The fit costs O(PATCH_FIT D^2)
 * for the covariance and O(D^3) for GSL's eigensolver: 0.3 s at size 16, about 15 s
 * at size 32, many minutes at 64. */

static const char *const patch_default_images =
    "astronaut.png:brick.png:camera.png:chelsea.png:coffee.png:grass.png:gravel.png:"
    "motorcycle_left.png";
enum { PATCH_FIT_MIN = 20000, PATCH_FIT_PER_DIM = 10 };
static const uint64_t patch_fit_seed = 20240611, patch_fit_stream = HL_STREAM_USER + 101;
static const double zca_eps = 1.0 / (255.0 * 255.0 * 12.0);

enum { WHITEN_NONE, WHITEN_ZCA, WHITEN_STANDARD };

typedef struct {
    hl_sampler base;
    int size, n_images, whiten;
    hl_grey grey;
    float **img;            /* n_images grey images */
    int *w, *h;
    float *mu, *inv_sd;     /* D: mean (zca, standard), 1 / sd (standard) */
    float *W;               /* D x D symmetric ZCA matrix */
    float *work;            /* cap x D raw patches (zca) */
    size_t cap;
    hl_sampler *clone;
} patches;

static void draw_raw(const patches *s, size_t n, float *out, gsl_rng *rng)
{
    size_t D = s->base.D, z = (size_t)s->size;
    for (size_t i = 0; i < n; i++) {
        size_t k = gsl_rng_uniform_int(rng, (unsigned long)s->n_images);
        size_t r = gsl_rng_uniform_int(rng, (unsigned long)(s->h[k] - s->size + 1));
        size_t c = gsl_rng_uniform_int(rng, (unsigned long)(s->w[k] - s->size + 1));
        for (size_t y = 0; y < z; y++)
            memcpy(out + i * D + y * z, s->img[k] + (r + y) * (size_t)s->w[k] + c,
                   sizeof(float) * z);
    }
}

/* Raw patches -> the sampler's output (whitened if asked). */
static int whiten(patches *s, size_t n, float *out, gsl_rng *rng)
{
    size_t D = s->base.D;
    if (s->whiten != WHITEN_ZCA) {
        draw_raw(s, n, out, rng);
        if (s->whiten == WHITEN_STANDARD)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < D; j++)
                    out[i * D + j] = (out[i * D + j] - s->mu[j]) * s->inv_sd[j];
        return HL_OK;
    }
    if (n > s->cap) {
        float *w = realloc(s->work, sizeof(float) * n * D);
        if (!w)
            return hl_error_set(HL_ENOMEM, "cannot allocate %zu patches", n);
        s->work = w;
        s->cap = n;
    }
    draw_raw(s, n, s->work, rng);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++)
            s->work[i * D + j] -= s->mu[j];
    gsl_matrix_float_view X = gsl_matrix_float_view_array(s->work, n, D);
    gsl_matrix_float_view Y = gsl_matrix_float_view_array(out, n, D);
    gsl_matrix_float_const_view W = gsl_matrix_float_const_view_array(s->W, D, D);
    gsl_blas_sgemm(CblasNoTrans, CblasNoTrans, 1.0f, &X.matrix, &W.matrix, 0.0f, &Y.matrix);
    return HL_OK;
}

static int patches_sample(hl_sampler *base, size_t n, float *out, gsl_rng *rng)
{
    patches *s = (patches *)base;
    if (n == 0)
        return HL_OK;
    return s->clone ? hl_sampler_sample(s->clone, n, out, rng) : whiten(s, n, out, rng);
}

static void patches_destroy(hl_sampler *base)
{
    patches *s = (patches *)base;
    for (int k = 0; s->img && k < s->n_images; k++)
        free(s->img[k]);
    free(s->img);
    free(s->w);
    free(s->h);
    free(s->mu);
    free(s->inv_sd);
    free(s->W);
    free(s->work);
    hl_sampler_free(s->clone);
    free(s);
}

static const hl_sampler_ops patches_ops = {"patches", patches_sample, patches_destroy, 1};

/* Read the ':'-separated image list (names in `dir`, or paths if they hold a '/'). */
static int load_images(patches *s, const char *dir, const char *list)
{
    int n = 1;
    for (const char *c = list; *c; c++)
        n += *c == ':';
    if (!(s->img = calloc((size_t)n, sizeof *s->img)) || !(s->w = calloc((size_t)n, sizeof(int))) ||
        !(s->h = calloc((size_t)n, sizeof(int))))
        return hl_error_set(HL_ENOMEM, "cannot allocate %d images", n);
    for (const char *c = list; s->n_images < n;) {
        const char *end = strchr(c, ':');
        size_t len = end ? (size_t)(end - c) : strlen(c);
        if (len == 0)
            return hl_error_set(HL_EINVAL, "patches: images = '%s' has an empty name", list);
        char path[4096];
        if (memchr(c, '/', len))
            snprintf(path, sizeof path, "%.*s", (int)len, c);
        else
            snprintf(path, sizeof path, "%s/%.*s", dir, (int)len, c);
        int k = s->n_images;
        int rc = hl_png_load_grey(path, s->grey, &s->img[k], &s->w[k], &s->h[k]);
        if (rc)
            return rc;
        s->n_images++;
        if (s->w[k] < s->size || s->h[k] < s->size)
            return hl_error_set(HL_EINVAL, "patches: size = %d does not fit image '%s' "
                                "(%d x %d)", s->size, path, s->w[k], s->h[k]);
        c = end ? end + 1 : c + len;
    }
    return HL_OK;
}

/* ZCA matrix from the covariance C (D x D): U diag((lambda + eps)^-1/2) U^T. */
static int zca_matrix(const double *C, size_t D, float *W)
{
    gsl_matrix *A = gsl_matrix_alloc(D, D), *U = gsl_matrix_alloc(D, D),
               *B = gsl_matrix_alloc(D, D), *R = gsl_matrix_alloc(D, D);
    gsl_vector *lambda = gsl_vector_alloc(D);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(D);
    int rc = HL_OK;
    if (!A || !U || !B || !R || !lambda || !ws) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate the whitening of D = %zu", D);
        goto done;
    }
    memcpy(A->data, C, sizeof(double) * D * D);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_eigen_symmv(A, lambda, U, ws);
    gsl_set_error_handler(old);
    if (st) {
        rc = hl_error_set(HL_ENUMERIC, "patches: the eigendecomposition of the patch "
                          "covariance failed: %s", gsl_strerror(st));
        goto done;
    }
    for (size_t k = 0; k < D; k++) {
        double f = 1 / sqrt(fmax(gsl_vector_get(lambda, k), 0) + zca_eps);
        for (size_t i = 0; i < D; i++)
            gsl_matrix_set(B, i, k, gsl_matrix_get(U, i, k) * f);
    }
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, B, U, 0.0, R);
    for (size_t i = 0; i < D * D; i++)
        W[i] = (float)R->data[i];
done:
    gsl_matrix_free(A);
    gsl_matrix_free(U);
    gsl_matrix_free(B);
    gsl_matrix_free(R);
    gsl_vector_free(lambda);
    if (ws)
        gsl_eigen_symmv_free(ws);
    return rc;
}

/* Fit the whitening (and the clone) to patches from the fixed internal stream. */
static int patches_fit(patches *s, int clone)
{
    size_t D = s->base.D, n = D * PATCH_FIT_PER_DIM;
    n = n < PATCH_FIT_MIN ? PATCH_FIT_MIN : n;
    float *X = malloc(sizeof(float) * n * D);
    gsl_rng *r = hl_rng_alloc(patch_fit_seed, patch_fit_stream);
    hl_mixture *m = NULL;
    int rc = HL_OK;
    if (!X || !r) {
        rc = hl_error_set(HL_ENOMEM, "cannot allocate %zu patches to fit", n);
        goto done;
    }
    draw_raw(s, n, X, r);
    if (s->whiten != WHITEN_NONE) {
        if ((rc = hl_mixture_fit(X, NULL, n, D, 1, s->whiten != WHITEN_ZCA, &m)))
            goto done;
        const double *mean = hl_mixture_mean(m, 0);
        if (!(s->mu = malloc(sizeof(float) * D))) {
            rc = hl_error_set(HL_ENOMEM, "cannot allocate the whitening");
            goto done;
        }
        for (size_t j = 0; j < D; j++)
            s->mu[j] = (float)mean[j];
        if (s->whiten == WHITEN_ZCA) {
            if (!(s->W = malloc(sizeof(float) * D * D)))
                rc = hl_error_set(HL_ENOMEM, "cannot allocate the whitening");
            else
                rc = zca_matrix(hl_mixture_covariance(m, 0), D, s->W);
        } else {
            /* Per-pixel standard deviations from the same patches. */
            double *v = calloc(D, sizeof *v);
            if (!v || !(s->inv_sd = malloc(sizeof(float) * D)))
                rc = hl_error_set(HL_ENOMEM, "cannot allocate the whitening");
            for (size_t i = 0; !rc && i < n; i++)
                for (size_t j = 0; j < D; j++) {
                    double e = X[i * D + j] - mean[j];
                    v[j] += e * e;
                }
            for (size_t j = 0; !rc && j < D; j++)
                s->inv_sd[j] = (float)(1 / fmax(sqrt(v[j] / (double)(n - 1)), sd_floor));
            free(v);
        }
        hl_mixture_free(m);
        m = NULL;
        if (rc)
            goto done;
    }
    if (clone) {
        /* The clone has the statistics of the patches as drawn: whitened ones if asked,
         * through the very transform the sampler applies. */
        float *Y = X;
        if (s->whiten != WHITEN_NONE && !(Y = malloc(sizeof(float) * n * D))) {
            rc = hl_error_set(HL_ENOMEM, "cannot allocate %zu patches to fit", n);
            goto done;
        }
        if (Y != X) {
            hl_rng_free(r);
            r = hl_rng_alloc(patch_fit_seed, patch_fit_stream);
            rc = r ? whiten(s, n, Y, r) : hl_error_set(HL_ENOMEM, "no generator");
        }
        if (!rc)
            rc = hl_mixture_fit(Y, NULL, n, D, 1, 0, &m);
        if (Y != X)
            free(Y);
        if (!rc && !(s->clone = hl_mixture_sampler(m, NULL, 0)))
            rc = HL_ENOMEM;
    }
done:
    hl_mixture_free(m);
    hl_rng_free(r);
    free(X);
    return rc;
}

static hl_sampler *patches_create(const hl_param_values *v)
{
    patches *s = calloc(1, sizeof *s);
    if (!s) {
        hl_error_set(HL_ENOMEM, "cannot allocate the patches sampler");
        return NULL;
    }
    s->base.ops = &patches_ops;
    s->size = hl_param_int(v, "size");
    s->base.D = (size_t)s->size * s->size;
    s->whiten = hl_param_int(v, "whiten");
    s->grey = (hl_grey)hl_param_int(v, "grey");
    const char *dir = hl_param_text(v, "dir"), *list = hl_param_text(v, "images");
    int rc = load_images(s, dir && *dir ? dir : HL_SKIMAGE_DATA_DIR,
                         list && *list ? list : patch_default_images);
    if (!rc && (s->whiten != WHITEN_NONE || hl_param_int(v, "clone")))
        rc = patches_fit(s, hl_param_int(v, "clone"));
    if (rc) {
        patches_destroy(&s->base);
        return NULL;
    }
    if (s->clone) {
        /* The clone replaces the images: keep only the clone. */
        for (int k = 0; k < s->n_images; k++)
            free(s->img[k]);
        s->n_images = 0;
        free(s->work);
        s->work = NULL;
        s->cap = 0;
    }
    return &s->base;
}

static const hl_param_spec patches_params[] = {
    {"dir", HL_PARAM_TEXT, HL_SKIMAGE_DATA_DIR, 0, 0, NULL, "folder of the PNG photographs"},
    {"images", HL_PARAM_TEXT, "", 0, 0, NULL,
     "PNG files, ':'-separated (default: astronaut brick camera chelsea coffee grass "
     "gravel motorcycle_left)"},
    {"size", HL_PARAM_INT, "16", 4, 64, NULL, "patch side in pixels; D = size^2"},
    {"grey", HL_PARAM_CHOICE, "luminance", 0, 0, "luminance|average",
     "colour to grey: BT.709 luminance or (R+G+B)/3"},
    {"whiten", HL_PARAM_CHOICE, "none", 0, 0, "none|zca|standard",
     "luminance in [0,1]; ZCA-whitened; or standardised per pixel"},
    {"clone", HL_PARAM_INT, "0", 0, 1, NULL,
     "1: Gaussian with the patches' mean and covariance"},
};

const hl_model hl_model_patches = {
    "patches", "grey patches of natural photographs (skimage's data), optionally whitened",
    patches_params, sizeof patches_params / sizeof *patches_params, patches_create};
