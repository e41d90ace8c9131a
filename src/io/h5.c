/* h5.c — HDF5 result files: write atomically, read back for plotting.
 *
 * The configuration is described once, in the table `config_fields`, and both the
 * writer and the reader walk that table, so a field added to hl_train_config is
 * stored and restored by adding one line. The attribute and dataset helpers and the
 * temporary-file-then-rename writer are shared with the other hoclab files (h5_util.h).
 * HDF5's automatic error printing is turned off: failures come back as hl_status codes
 * with a message. */
#include "hoclab/io.h"
#include "hoclab/error.h"
#include "h5_util.h"

#include <errno.h>
#include <hdf5.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the configuration as a table of attributes --------------------------------- */

typedef enum { F_INT, F_DOUBLE, F_U64, F_SIZE, F_ENUM, F_TEXT } field_type;

typedef struct {
    const char *name;
    field_type type;
    size_t offset;
    const char *(*to_name)(int);     /* F_ENUM only */
    int (*from_name)(const char *);
} config_field;

static const char *conv_name(int c) { return c == HL_GAIN_AUTHORS ? "authors" : "seeds"; }
static int conv_parse(const char *s)
{
    return strcmp(s, "seeds") == 0 ? HL_GAIN_SEEDS : strcmp(s, "authors") == 0 ? HL_GAIN_AUTHORS : -1;
}
static const char *input_name(int i) { return hl_input_name((hl_input)i); }
static const char *mode_name(int i) { return hl_mode_name((hl_mode)i); }
static const char *act_name(int i) { return hl_act_name((hl_act)i); }
static const char *bias_name(int i) { return hl_bias_name((hl_bias)i); }

#define FIELD(n, t, m) {n, t, offsetof(hl_train_config, m), NULL, NULL}
#define ENUM(n, m, to, from) {n, F_ENUM, offsetof(hl_train_config, m), to, from}
static const config_field config_fields[] = {
    FIELD("plus_model", F_TEXT, plus_model),   /* "" for the NLGP task */
    FIELD("minus_model", F_TEXT, minus_model),
    ENUM("input", input, input_name, hl_input_parse),
    FIELD("dim", F_INT, dim),
    FIELD("L", F_INT, L),
    FIELD("kernel_p", F_INT, p),
    FIELD("xi_plus", F_DOUBLE, xi_plus),
    FIELD("xi_minus", F_DOUBLE, xi_minus),
    FIELD("gain", F_DOUBLE, gain),
    ENUM("gain_convention", convention, conv_name, conv_parse),
    FIELD("K", F_INT, net.K),
    ENUM("model", net.mode, mode_name, hl_mode_parse),
    ENUM("activation", net.act, act_name, hl_act_parse),
    ENUM("bias", net.bias, bias_name, hl_bias_parse),
    FIELD("bias_value", F_DOUBLE, net.bias_value),
    FIELD("lr", F_DOUBLE, net.lr),
    FIELD("std0w", F_DOUBLE, net.std0w),
    FIELD("std0v", F_DOUBLE, net.std0v),
    FIELD("batch_size", F_INT, batch),
    FIELD("time", F_DOUBLE, time),
    FIELD("seed", F_U64, seed),
    FIELD("n_test", F_SIZE, n_test),
    FIELD("n_meas", F_INT, n_meas),
    FIELD("n_snap", F_INT, n_snap),
    FIELD("max_weight", F_DOUBLE, max_weight),
};
enum { N_FIELDS = sizeof config_fields / sizeof config_fields[0] };

/* ---- reading datasets ------------------------------------------------------------- */

/* Read a whole dataset of exactly `count` elements into a new buffer. */
static void *dset_read(hid_t loc, const char *name, hid_t type, size_t elem, size_t count)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return NULL;
    hid_t space = H5Dget_space(d);
    hssize_t npts = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    void *buf = NULL;
    if (npts == (hssize_t)count && count > 0 && (buf = malloc(elem * count)) &&
        H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        buf = NULL;
    }
    H5Dclose(d);
    return buf;
}

/* ---- atomic file creation -------------------------------------------------------- */

int hl_io_check_writable(const char *path)
{
    if (!path || !*path)
        return hl_error_set(HL_EINVAL, "empty output path");
    char *copy = strdup(path);
    if (!copy)
        return hl_error_set(HL_ENOMEM, "out of memory");
    const char *dir = dirname(copy);
    struct stat st;
    int rc = HL_OK;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = hl_error_set(HL_EIO, "'%s' is a folder, not a file name", path);
    } else {
        /* access() says yes to root everywhere; only creating a file proves it works. */
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/.hoclab_probe_XXXXXX", dir);
        int fd = mkstemp(probe);
        if (fd < 0)
            rc = hl_error_set(HL_EIO, "cannot write to folder '%s' of '%s': %s", dir, path,
                              strerror(errno));
        else {
            close(fd);
            unlink(probe);
        }
    }
    free(copy);
    return rc;
}

/* ---- training results -------------------------------------------------------------- */

int hl_h5u_train_write_config(hid_t g, const hl_train_config *c)
{
    int rc = 0;
    for (int i = 0; i < N_FIELDS; i++) {
        const config_field *fd = &config_fields[i];
        const char *p = (const char *)c + fd->offset;
        switch (fd->type) {
        case F_INT: rc |= hl_h5u_attr_write_ll(g, fd->name, *(const int *)p); break;
        case F_DOUBLE: rc |= hl_h5u_attr_write_double(g, fd->name, *(const double *)p); break;
        case F_U64: rc |= hl_h5u_attr_write(g, fd->name, H5T_NATIVE_UINT64, p); break;
        case F_SIZE:
            rc |= hl_h5u_attr_write_ll(g, fd->name, (long long)*(const size_t *)p);
            break;
        case F_ENUM:
            rc |= hl_h5u_attr_write_str(g, fd->name, fd->to_name(*(const int *)p));
            break;
        case F_TEXT: rc |= hl_h5u_attr_write_str(g, fd->name, p); break;
        }
    }
    return rc |= hl_h5u_attr_write_ll(g, "D", (long long)hl_train_D(c));
}

int hl_h5u_train_read_config(hid_t g, hl_train_config *c)
{
    *c = hl_train_defaults();
    for (int i = 0; i < N_FIELDS; i++) {
        const config_field *fd = &config_fields[i];
        char *p = (char *)c + fd->offset, s[64];
        long long v;
        int bad = 0;
        switch (fd->type) {
        case F_INT:
            bad = hl_h5u_attr_read(g, fd->name, H5T_NATIVE_LLONG, &v) || v < INT_MIN ||
                  v > INT_MAX;
            if (!bad)
                *(int *)p = (int)v;
            break;
        case F_DOUBLE: bad = hl_h5u_attr_read(g, fd->name, H5T_NATIVE_DOUBLE, p); break;
        case F_U64: bad = hl_h5u_attr_read(g, fd->name, H5T_NATIVE_UINT64, p); break;
        case F_SIZE:
            bad = hl_h5u_attr_read(g, fd->name, H5T_NATIVE_LLONG, &v) || v < 0;
            if (!bad)
                *(size_t *)p = (size_t)v;
            break;
        case F_ENUM:
            bad = hl_h5u_attr_read_str(g, fd->name, s, sizeof s) || (v = fd->from_name(s)) < 0;
            if (!bad)
                *(int *)p = (int)v;
            break;
        case F_TEXT: /* absent in files from before model tasks: the NLGP task */
            if (H5Aexists(g, fd->name) > 0)
                bad = hl_h5u_attr_read_str(g, fd->name, p, HL_TRAIN_SPEC_MAX);
            break;
        }
        if (bad)
            return hl_error_set(HL_EFORMAT, "attribute '%s' is missing or malformed", fd->name);
    }
    return hl_train_validate(c) ? hl_error_set(HL_EFORMAT, "stored configuration is invalid: %s",
                                               hl_error_message())
                                : HL_OK;
}

/* A run's status attribute: "ok", "diverged", or "interrupted" (a checkpoint's
 * unfinished run). */
static const char *status_name(int status)
{
    return status == HL_OK ? "ok" : status == HL_EINTERRUPTED ? "interrupted" : "diverged";
}

static void format_field(const config_field *fd, const hl_train_config *c, char *buf, size_t n)
{
    const char *p = (const char *)c + fd->offset;
    switch (fd->type) {
    case F_INT: snprintf(buf, n, "%d", *(const int *)p); break;
    case F_DOUBLE: { /* the shortest of %.15g and %.17g that gives the value back */
        double v = *(const double *)p;
        snprintf(buf, n, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, n, "%.17g", v);
        break;
    }
    case F_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case F_SIZE: snprintf(buf, n, "%zu", *(const size_t *)p); break;
    case F_ENUM: snprintf(buf, n, "%s", fd->to_name(*(const int *)p)); break;
    case F_TEXT: snprintf(buf, n, "'%s'", p); break;
    }
}

int hl_h5u_train_config_diff(const hl_train_config *a, const hl_train_config *b, char *why,
                             size_t n)
{
    for (int i = 0; i < N_FIELDS; i++) {
        const config_field *fd = &config_fields[i];
        char va[HL_TRAIN_SPEC_MAX + 8], vb[HL_TRAIN_SPEC_MAX + 8];
        format_field(fd, a, va, sizeof va);
        format_field(fd, b, vb, sizeof vb);
        if (strcmp(va, vb) != 0) {
            snprintf(why, n, "%s = %s there, %s here", fd->name, va, vb);
            return 1;
        }
    }
    return 0;
}

/* Weight arrays are K x L (dim 1) or K x L x L (dim 2), with `lead` leading dims. */
static int weight_dims(const hl_train_config *c, hsize_t *dims, int lead, const hsize_t *lead_dims)
{
    int r = 0;
    for (int i = 0; i < lead; i++)
        dims[r++] = lead_dims[i];
    dims[r++] = (hsize_t)c->net.K;
    dims[r++] = (hsize_t)c->L;
    if (c->dim == 2)
        dims[r++] = (hsize_t)c->L;
    return r;
}

int hl_h5u_train_write_run(hid_t f, const hl_train_config *c, const hl_train_result *r)
{
    hid_t g = H5Gcreate2(f, hl_train_run_name(c), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    const hsize_t n = (hsize_t)r->n_meas, K = (hsize_t)c->net.K;
    hsize_t d1[1] = {n}, d2[2] = {n, K}, dims[4];
    int rc = hl_h5u_train_write_config(g, c);
    rc |= hl_h5u_attr_write_str(g, "status", status_name(r->status));
    rc |= hl_h5u_attr_write_str(g, "message", r->message);
    rc |= hl_h5u_attr_write_ll(g, "stop_step", r->stop_step);
    rc |= hl_h5u_attr_write_double(g, "wall_seconds", r->wall_seconds);
    rc |= hl_h5u_attr_write_double(g, "marginal_kurtosis", r->marginal_kurtosis);
    rc |= hl_h5u_attr_write_ll(g, "n_clipped_plus", r->n_clipped[0]);
    rc |= hl_h5u_attr_write_ll(g, "n_clipped_minus", r->n_clipped[1]);
    rc |= hl_h5u_attr_write_double(g, "clipped_fraction_plus", r->clipped_fraction[0]);
    rc |= hl_h5u_attr_write_double(g, "clipped_fraction_minus", r->clipped_fraction[1]);
    if (n > 0) {
        rc |= hl_h5u_dset_write(g, "t", H5T_NATIVE_DOUBLE, 1, d1, r->t);
        rc |= hl_h5u_dset_write(g, "steps", H5T_NATIVE_LLONG, 1, d1, r->steps);
        rc |= hl_h5u_dset_write(g, "test_error", H5T_NATIVE_DOUBLE, 1, d1, r->test_error);
        rc |= hl_h5u_dset_write(g, "test_loss", H5T_NATIVE_DOUBLE, 1, d1, r->test_loss);
        rc |= hl_h5u_dset_write(g, "ipr", H5T_NATIVE_DOUBLE, 2, d2, r->ipr);
        rc |= hl_h5u_dset_write(g, "kurtosis", H5T_NATIVE_DOUBLE, 2, d2, r->kurtosis);
    }
    if (r->n_snap > 0) {
        hsize_t ns = (hsize_t)r->n_snap, ds[1] = {ns};
        double *st = malloc(sizeof(double) * r->n_snap);
        if (!st)
            rc = -1;
        else {
            for (int i = 0; i < r->n_snap; i++)
                st[i] = r->t[r->snap_index[i]];
            rc |= hl_h5u_dset_write(g, "snapshot_t", H5T_NATIVE_DOUBLE, 1, ds, st);
            free(st);
        }
        rc |= hl_h5u_dset_write(g, "snapshots", H5T_NATIVE_FLOAT, weight_dims(c, dims, 1, ds),
                                dims, r->snapshots);
    }
    hid_t fin = H5Gcreate2(g, "final", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (fin < 0)
        rc = -1;
    else {
        hsize_t dk[1] = {K};
        rc |= hl_h5u_dset_write(fin, "W", H5T_NATIVE_FLOAT, weight_dims(c, dims, 0, NULL),
                                dims, r->W);
        rc |= hl_h5u_dset_write(fin, "v", H5T_NATIVE_FLOAT, 1, dk, r->v);
        rc |= hl_h5u_dset_write(fin, "b", H5T_NATIVE_FLOAT, 1, dk, r->b);
        H5Gclose(fin);
    }
    H5Gclose(g);
    return rc;
}

/* What a file's body writer needs: the runs of a training file. */
typedef struct {
    const hl_train_config *cfg;
    const hl_train_result *res;
    int n;
    const char *command_line;
} train_body;

static int write_train_body(hid_t f, const void *ctx)
{
    const train_body *b = ctx;
    if (hl_h5u_write_header(f, "train", b->command_line ? b->command_line : ""))
        return -1;
    for (int i = 0; i < b->n; i++)
        if (hl_h5u_train_write_run(f, &b->cfg[i], &b->res[i]))
            return -1;
    return 0;
}

int hl_h5_write_train(const char *path, const hl_train_config *cfg,
                      const hl_train_result *res, int n, const char *command_line)
{
    train_body body = {cfg, res, n, command_line};
    return hl_h5u_write_atomically(path, "train data", write_train_body, &body);
}

int hl_h5u_train_read_run(hid_t g, hl_train_config *c, hl_train_result *r)
{
    int rc = hl_h5u_train_read_config(g, c);
    if (rc)
        return rc;
    memset(r, 0, sizeof *r);
    const size_t K = c->net.K, D = hl_train_D(c);
    char status[32];
    long long n_meas = 0;
    hid_t d = H5Dopen2(g, "t", H5P_DEFAULT);
    if (d >= 0) {
        hid_t s = H5Dget_space(d);
        n_meas = H5Sget_simple_extent_npoints(s);
        H5Sclose(s);
        H5Dclose(d);
    }
    /* A run measures at most the n_meas times its configuration plans. */
    if (n_meas < 0 || n_meas > c->n_meas)
        return hl_error_set(HL_EFORMAT, "dataset 't' holds %lld measurement times, the "
                            "configuration plans %d", n_meas, c->n_meas);
    r->n_meas = r->n_planned = (int)n_meas;
    if (hl_h5u_attr_read_str(g, "status", status, sizeof status) ||
        hl_h5u_attr_read_str(g, "message", r->message, sizeof r->message) ||
        hl_h5u_attr_read(g, "stop_step", H5T_NATIVE_LLONG, &r->stop_step) ||
        hl_h5u_attr_read(g, "wall_seconds", H5T_NATIVE_DOUBLE, &r->wall_seconds) ||
        hl_h5u_attr_read(g, "marginal_kurtosis", H5T_NATIVE_DOUBLE, &r->marginal_kurtosis) ||
        hl_h5u_attr_read(g, "n_clipped_plus", H5T_NATIVE_INT, &r->n_clipped[0]) ||
        hl_h5u_attr_read(g, "n_clipped_minus", H5T_NATIVE_INT, &r->n_clipped[1]) ||
        hl_h5u_attr_read(g, "clipped_fraction_plus", H5T_NATIVE_DOUBLE, &r->clipped_fraction[0]) ||
        hl_h5u_attr_read(g, "clipped_fraction_minus", H5T_NATIVE_DOUBLE, &r->clipped_fraction[1]))
        return hl_error_set(HL_EFORMAT, "run attributes (status, message, ...) are missing "
                            "or malformed");
    r->status = strcmp(status, "ok") == 0            ? HL_OK
                : strcmp(status, "interrupted") == 0 ? HL_EINTERRUPTED
                                                     : HL_EDIVERGED;
    if (n_meas > 0) {
        r->t = dset_read(g, "t", H5T_NATIVE_DOUBLE, sizeof(double), n_meas);
        r->steps = dset_read(g, "steps", H5T_NATIVE_LLONG, sizeof(long long), n_meas);
        r->test_error = dset_read(g, "test_error", H5T_NATIVE_DOUBLE, sizeof(double), n_meas);
        r->test_loss = dset_read(g, "test_loss", H5T_NATIVE_DOUBLE, sizeof(double), n_meas);
        r->ipr = dset_read(g, "ipr", H5T_NATIVE_DOUBLE, sizeof(double), n_meas * K);
        r->kurtosis = dset_read(g, "kurtosis", H5T_NATIVE_DOUBLE, sizeof(double), n_meas * K);
        if (!r->t || !r->steps || !r->test_error || !r->test_loss || !r->ipr || !r->kurtosis)
            return hl_error_set(HL_EFORMAT, "time series (t, steps, test_error, test_loss, ipr, "
                                "kurtosis) are missing or have the wrong size");
    }
    r->W = dset_read(g, "final/W", H5T_NATIVE_FLOAT, sizeof(float), K * D);
    r->v = dset_read(g, "final/v", H5T_NATIVE_FLOAT, sizeof(float), K);
    r->b = dset_read(g, "final/b", H5T_NATIVE_FLOAT, sizeof(float), K);
    if (!r->W || !r->v || !r->b)
        return hl_error_set(HL_EFORMAT, "final weights (final/W, final/v, final/b) are missing "
                            "or do not match K = %zu, D = %zu", K, D);
    return HL_OK;
}

void hl_h5_train_free(hl_train_config *cfg, hl_train_result *res, int n)
{
    for (int i = 0; res && i < n; i++)
        hl_train_result_free(&res[i]);
    free(res);
    free(cfg);
}

/* Collects the names of the root's groups. */
typedef struct {
    char names[16][64];
    int n;
} group_list;

static herr_t collect_group(hid_t loc, const char *name, const H5L_info_t *info, void *data)
{
    group_list *l = data;
    H5O_info_t oi;
    if (H5Oget_info_by_name(loc, name, &oi, H5P_DEFAULT) >= 0 && oi.type == H5O_TYPE_GROUP &&
        l->n < 16 && strlen(name) < 64)
        strcpy(l->names[l->n++], name);
    return 0;
}

int hl_h5_read_train(const char *path, hl_train_config **cfg, hl_train_result **res, int *n)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    *cfg = NULL;
    *res = NULL;
    *n = 0;
    if (access(path, R_OK) != 0)
        return hl_error_set(HL_EIO, "cannot read '%s': %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return hl_error_set(HL_EIO, "'%s' is a folder, not a result file", path);
    if (H5Fis_hdf5(path) <= 0)
        return hl_error_set(HL_EFORMAT, "'%s' is not an HDF5 file (or is truncated)", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return hl_error_set(HL_EFORMAT, "cannot open '%s' as HDF5 (truncated or corrupt?)", path);
    char kind[32];
    group_list groups = {.n = 0};
    int rc = HL_OK;
    if (hl_h5u_attr_read_str(f, "kind", kind, sizeof kind) || strcmp(kind, "train") != 0)
        rc = hl_error_set(HL_EFORMAT, "'%s' is not a hoclab training result (no kind=train)",
                          path);
    else if (H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_group, &groups) < 0 ||
             groups.n == 0)
        rc = hl_error_set(HL_EFORMAT, "'%s' holds no run groups", path);
    if (!rc) {
        *cfg = calloc(groups.n, sizeof **cfg);
        *res = calloc(groups.n, sizeof **res);
        if (!*cfg || !*res)
            rc = hl_error_set(HL_ENOMEM, "out of memory");
    }
    for (int i = 0; !rc && i < groups.n; i++) {
        hid_t g = H5Gopen2(f, groups.names[i], H5P_DEFAULT);
        rc = g < 0 ? hl_error_set(HL_EFORMAT, "cannot open group '%s'", groups.names[i])
                   : hl_h5u_train_read_run(g, &(*cfg)[i], &(*res)[i]);
        if (g >= 0)
            H5Gclose(g);
        if (rc)
            hl_error_set(rc, "'%s', group '%s': %s", path, groups.names[i], hl_error_message());
        *n = i + 1;
    }
    H5Fclose(f);
    if (rc) {
        hl_h5_train_free(*cfg, *res, *n);
        *cfg = NULL;
        *res = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- samples --------------------------------------------------------------------- */

typedef struct {
    const hl_h5_sample_set *sets;
    int n;
    const char *command_line;
} samples_body;

static int write_samples_body(hid_t f, const void *ctx)
{
    const samples_body *b = ctx;
    if (hl_h5u_write_header(f, "samples", b->command_line ? b->command_line : ""))
        return -1;
    for (int i = 0; i < b->n; i++) {
        const hl_h5_sample_set *s = &b->sets[i];
        const hl_param_values *v = s->params;
        hid_t g = H5Gcreate2(f, s->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0)
            return -1;
        char spec[4096];
        hsize_t dims[3] = {s->n, (hsize_t)s->L, (hsize_t)s->L};
        int r = hl_h5u_attr_write_str(g, "model", v->model->name) |
                hl_h5u_attr_write_str(g, "description", s->description) |
                hl_model_spec(v, spec, sizeof spec) | hl_h5u_attr_write_str(g, "spec", spec) |
                hl_h5u_dset_write(g, "x", H5T_NATIVE_FLOAT, 1 + s->dim, dims, s->x);
        /* every parameter also as an attribute of its own type */
        for (int k = 0; k < v->model->n_params && !r; k++) {
            const hl_param_spec *p = &v->model->params[k];
            char text[1024];
            if (p->type == HL_PARAM_INT)
                r |= hl_h5u_attr_write_ll(g, p->name, hl_param_int(v, p->name));
            else if (p->type == HL_PARAM_REAL)
                r |= hl_h5u_attr_write_double(g, p->name, v->num[k]);
            else {
                hl_param_format(v, k, text, sizeof text);
                r |= hl_h5u_attr_write_str(g, p->name, text);
            }
        }
        H5Gclose(g);
        if (r)
            return -1;
    }
    return 0;
}

int hl_h5_write_samples(const char *path, const hl_h5_sample_set *sets, int n_sets,
                        const char *command_line)
{
    samples_body body = {sets, n_sets, command_line};
    return hl_h5u_write_atomically(path, "samples data", write_samples_body, &body);
}
