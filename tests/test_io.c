/* test_io.c — HDF5 result files: round trips of every field, atomic replacement,
 * failures reported as codes with a message (never a crash), diverged runs kept,
 * and sample files readable by plain HDF5.
 *
 * Every run is tiny (L = 16, K = 3, t = 20, 200 test samples, 6 measurements), so the
 * whole file runs in well under a second. Files go to a mkdtemp folder that the
 * group teardown removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/train.h"

#include <dirent.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/hoclab_test_io_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh empty sub-folder of tmpdir for one test; returns its path in buf. */
static const char *subdir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
    assert_int_equal(mkdir(buf, 0700), 0);
    return buf;
}

static const char *join(char *buf, size_t size, const char *dir, const char *file)
{
    snprintf(buf, size, "%s/%s", dir, file);
    return buf;
}

static hl_train_config tiny(hl_input in)
{
    hl_train_config c = hl_train_defaults();
    c.input = in;
    c.L = 16;
    c.net.K = 3;
    c.time = 20;
    c.n_test = 200;
    c.n_meas = 6;
    return c;
}

/* Non-default values in every field, so that a field the reader forgets (and leaves
 * at its default) shows up. */
static hl_train_config unusual(hl_input in)
{
    hl_train_config c = tiny(in);
    c.p = 1;
    c.xi_plus = 1.25;
    c.xi_minus = 3.5;
    c.gain = 3.75;
    c.convention = HL_GAIN_AUTHORS;
    c.net.mode = HL_MODE_MF;
    c.net.act = HL_ACT_TANH;
    c.net.bias = HL_BIAS_FIXED;
    c.net.bias_value = 0.375;
    c.net.lr = 0.0625;
    c.net.std0w = 0.2;
    c.net.std0v = 0.5;
    c.batch = 2;
    c.time = 10.5;
    c.seed = 0xfedcba9876543210ULL; /* > 2^63: needs all 64 bits */
    c.n_test = 150;
    c.n_meas = 5;
    c.n_snap = 2;
    c.max_weight = 12345.5;
    return c;
}

static void run_ok(const hl_train_config *c, hl_train_result *r)
{
    int rc = hl_train_run(c, r, 0, NULL, NULL);
    if (rc)
        print_error("hl_train_run: %s\n", hl_error_message());
    assert_int_equal(rc, HL_OK);
    assert_int_equal(r->status, HL_OK);
    assert_true(r->n_meas >= 2);
}

#define SAME_BITS(a, b) assert_memory_equal(&(a), &(b), sizeof(a))

static void assert_config_equal(const hl_train_config *a, const hl_train_config *b)
{
    assert_int_equal(a->input, b->input);
    assert_int_equal(a->dim, b->dim);
    assert_int_equal(a->L, b->L);
    assert_int_equal(a->p, b->p);
    SAME_BITS(a->xi_plus, b->xi_plus);
    SAME_BITS(a->xi_minus, b->xi_minus);
    SAME_BITS(a->gain, b->gain);
    assert_int_equal(a->convention, b->convention);
    assert_int_equal(a->net.K, b->net.K);
    assert_int_equal(a->net.D, b->net.D);
    assert_int_equal(a->net.max_batch, b->net.max_batch);
    assert_int_equal(a->net.mode, b->net.mode);
    assert_int_equal(a->net.act, b->net.act);
    assert_int_equal(a->net.bias, b->net.bias);
    SAME_BITS(a->net.bias_value, b->net.bias_value);
    SAME_BITS(a->net.lr, b->net.lr);
    SAME_BITS(a->net.std0w, b->net.std0w);
    SAME_BITS(a->net.std0v, b->net.std0v);
    assert_int_equal(a->batch, b->batch);
    SAME_BITS(a->time, b->time);
    assert_true(a->seed == b->seed);
    assert_true(a->n_test == b->n_test);
    assert_int_equal(a->n_meas, b->n_meas);
    assert_int_equal(a->n_snap, b->n_snap);
    SAME_BITS(a->max_weight, b->max_weight);
}

/* What the reader restores (see io.h): the measurements, the final weights, the
 * status and its message, and the scalar attributes. */
static void assert_result_equal(const hl_train_config *c, const hl_train_result *a,
                                const hl_train_result *b)
{
    const size_t K = (size_t)c->net.K, D = hl_train_D(c), n = (size_t)a->n_meas;
    assert_int_equal(a->n_meas, b->n_meas);
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->message, b->message);
    assert_true(a->stop_step == b->stop_step);
    SAME_BITS(a->wall_seconds, b->wall_seconds);
    SAME_BITS(a->marginal_kurtosis, b->marginal_kurtosis);
    if (n > 0) {
        assert_memory_equal(a->t, b->t, n * sizeof(double));
        assert_memory_equal(a->steps, b->steps, n * sizeof(long long));
        assert_memory_equal(a->test_error, b->test_error, n * sizeof(double));
        assert_memory_equal(a->test_loss, b->test_loss, n * sizeof(double));
        assert_memory_equal(a->ipr, b->ipr, n * K * sizeof(double));
        assert_memory_equal(a->kurtosis, b->kurtosis, n * K * sizeof(double));
    }
    assert_memory_equal(a->W, b->W, K * D * sizeof(float));
    assert_memory_equal(a->v, b->v, K * sizeof(float));
    assert_memory_equal(a->b, b->b, K * sizeof(float));
}

/* Index of the run with input `in` among n read back (groups come back sorted by
 * name, not in the order written). */
static int find_input(const hl_train_config *cfg, int n, hl_input in)
{
    for (int i = 0; i < n; i++)
        if (cfg[i].input == in)
            return i;
    fail_msg("no run with input %s read back", hl_input_name(in));
    return -1;
}

/* Names in `dir` other than "." and ".."; returns their count, sets *tmp_left if one
 * contains ".tmp.". */
static int count_entries(const char *dir, int *tmp_left)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    *tmp_left = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (strstr(e->d_name, ".tmp."))
            *tmp_left = 1;
    }
    closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    void *buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return buf;
}

/* hl_h5_read_train must fail with `code`, a message, and leave the outputs empty. */
static void expect_read_fails(const char *path, int code)
{
    hl_train_config *cfg = (hl_train_config *)1;
    hl_train_result *res = (hl_train_result *)1;
    int n = -1;
    hl_error_set(HL_OK, "%s", "");
    int rc = hl_h5_read_train(path, &cfg, &res, &n);
    if (rc != code)
        print_error("reading '%s': got %d (%s), expected %d\n", path, rc, hl_error_message(),
                    code);
    assert_int_equal(rc, code);
    assert_true(strlen(hl_error_message()) > 0);
    assert_null(cfg);
    assert_null(res);
    assert_int_equal(n, 0);
}

/* A small training file with one nlgp run at `path`. */
static void write_small_result(const char *path)
{
    hl_train_config c = tiny(HL_INPUT_NLGP);
    hl_train_result r;
    run_ok(&c, &r);
    assert_int_equal(hl_h5_write_train(path, &c, &r, 1, "hoclab test"), HL_OK);
    hl_train_result_free(&r);
}

/* Read a string attribute of object `obj` (relative to file f). */
static void read_str_attr(hid_t f, const char *obj, const char *name, char *buf, size_t size)
{
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    hid_t ft = H5Aget_type(a);
    assert_int_equal(H5Tget_class(ft), H5T_STRING);
    assert_true(H5Tget_size(ft) <= size);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5Tget_size(ft));
    assert_true(H5Aread(a, mt, buf) >= 0);
    buf[size - 1] = 0;
    H5Tclose(mt);
    H5Tclose(ft);
    H5Aclose(a);
}

/* ---- round trips -------------------------------------------------------------------- */

static void roundtrip(const hl_train_config *c, int n, const char *name)
{
    char dir[512], path[600];
    subdir(dir, sizeof dir, name);
    join(path, sizeof path, dir, "r.h5");
    hl_train_result res[2];
    for (int i = 0; i < n; i++)
        run_ok(&c[i], &res[i]);
    const char *cmdline = "hoclab train --L 16 --K 3 \"quoted\" arg";
    assert_int_equal(hl_h5_write_train(path, c, res, n, cmdline), HL_OK);

    hl_train_config *rc_cfg;
    hl_train_result *rc_res;
    int rn = 0;
    int rc = hl_h5_read_train(path, &rc_cfg, &rc_res, &rn);
    if (rc)
        print_error("hl_h5_read_train: %s\n", hl_error_message());
    assert_int_equal(rc, HL_OK);
    assert_int_equal(rn, n);
    for (int i = 0; i < n; i++) {
        int j = find_input(rc_cfg, rn, c[i].input);
        assert_config_equal(&c[i], &rc_cfg[j]);
        assert_result_equal(&c[i], &res[i], &rc_res[j]);
        /* The reader keeps only what was measured. */
        assert_true(rc_res[j].n_planned >= rc_res[j].n_meas);
    }
    hl_h5_train_free(rc_cfg, rc_res, rn);

    /* The root attributes: kind, version, the command line as given. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    char buf[256];
    read_str_attr(f, "/", "kind", buf, sizeof buf);
    assert_string_equal(buf, "train");
    read_str_attr(f, "/", "command_line", buf, sizeof buf);
    assert_string_equal(buf, cmdline);
    read_str_attr(f, "/", "hoclab_version", buf, sizeof buf);
    assert_true(strlen(buf) > 0);
    for (int i = 0; i < n; i++) {
        char g[64];
        snprintf(g, sizeof g, "/%s", hl_input_name(c[i].input));
        read_str_attr(f, g, "status", buf, sizeof buf);
        assert_string_equal(buf, "ok");
    }
    assert_true(H5Fclose(f) >= 0);

    int tmp_left;
    assert_int_equal(count_entries(dir, &tmp_left), 1);
    assert_false(tmp_left);
    for (int i = 0; i < n; i++)
        hl_train_result_free(&res[i]);
}

static void test_roundtrip_nlgp_gp(void **state)
{
    (void)state;
    hl_train_config c[2] = {tiny(HL_INPUT_NLGP), tiny(HL_INPUT_GP)};
    roundtrip(c, 2, "rt_both");
}

/* The reader must restore every field, not just the defaults: all fields unusual. */
static void test_roundtrip_unusual_config(void **state)
{
    (void)state;
    hl_train_config c[2] = {unusual(HL_INPUT_GP), unusual(HL_INPUT_NLGP)};
    roundtrip(c, 2, "rt_unusual");
}

static void test_roundtrip_dim2(void **state)
{
    (void)state;
    hl_train_config c = tiny(HL_INPUT_NLGP);
    c.dim = 2;
    c.L = 6;
    c.time = 5;
    roundtrip(&c, 1, "rt_dim2");
}

/* Same seed, same numbers: two runs written to two files read back bit-identical. */
static void test_same_seed_same_file_contents(void **state)
{
    (void)state;
    char dir[512], p1[600], p2[600];
    subdir(dir, sizeof dir, "seed");
    join(p1, sizeof p1, dir, "a.h5");
    join(p2, sizeof p2, dir, "b.h5");
    write_small_result(p1);
    write_small_result(p2);
    hl_train_config *c1, *c2;
    hl_train_result *r1, *r2;
    int n1, n2;
    assert_int_equal(hl_h5_read_train(p1, &c1, &r1, &n1), HL_OK);
    assert_int_equal(hl_h5_read_train(p2, &c2, &r2, &n2), HL_OK);
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 1);
    assert_config_equal(&c1[0], &c2[0]);
    r2[0].wall_seconds = r1[0].wall_seconds; /* the only field that may differ */
    assert_result_equal(&c1[0], &r1[0], &r2[0]);
    hl_h5_train_free(c1, r1, n1);
    hl_h5_train_free(c2, r2, n2);
}

/* ---- atomic replacement ------------------------------------------------------------- */

static void test_write_replaces_existing(void **state)
{
    (void)state;
    char dir[512], path[600];
    subdir(dir, sizeof dir, "replace");
    join(path, sizeof path, dir, "r.h5");

    hl_train_config c[2] = {tiny(HL_INPUT_NLGP), tiny(HL_INPUT_GP)};
    hl_train_result r[2];
    run_ok(&c[0], &r[0]);
    run_ok(&c[1], &r[1]);
    assert_int_equal(hl_h5_write_train(path, &c[0], &r[0], 1, "first"), HL_OK);
    /* The second file holds only the gp run: nothing of the first may remain. */
    assert_int_equal(hl_h5_write_train(path, &c[1], &r[1], 1, "second"), HL_OK);
    int tmp_left;
    assert_int_equal(count_entries(dir, &tmp_left), 1);
    assert_false(tmp_left);

    hl_train_config *rc;
    hl_train_result *rr;
    int n;
    assert_int_equal(hl_h5_read_train(path, &rc, &rr, &n), HL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rc[0].input, HL_INPUT_GP);
    assert_result_equal(&c[1], &r[1], &rr[0]);
    hl_h5_train_free(rc, rr, n);

    /* A write that fails half way (two runs with the same group name) leaves the
     * existing file as it was and no temporary file behind. */
    size_t before_n, after_n;
    void *before = read_bytes(path, &before_n);
    hl_train_config dup[2] = {c[0], c[0]};
    hl_train_result dupr[2] = {r[0], r[0]};
    hl_error_set(HL_OK, "%s", "");
    assert_int_equal(hl_h5_write_train(path, dup, dupr, 2, "dup"), HL_EIO);
    assert_true(strlen(hl_error_message()) > 0);
    assert_int_equal(count_entries(dir, &tmp_left), 1);
    assert_false(tmp_left);
    void *after = read_bytes(path, &after_n);
    assert_int_equal(before_n, after_n);
    assert_memory_equal(before, after, before_n);
    free(before);
    free(after);

    hl_train_result_free(&r[0]);
    hl_train_result_free(&r[1]);
}

/* ---- failures ---------------------------------------------------------------------- */

static void test_read_missing_file(void **state)
{
    (void)state;
    char path[600];
    join(path, sizeof path, tmpdir, "does_not_exist.h5");
    expect_read_fails(path, HL_EIO);
    assert_non_null(strstr(hl_error_message(), "does_not_exist.h5"));
}

static void test_read_garbage(void **state)
{
    (void)state;
    char dir[512], path[600];
    subdir(dir, sizeof dir, "garbage");
    unsigned char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1664525u + 1013904223u;
        junk[i] = (unsigned char)(x >> 24);
    }
    write_bytes(join(path, sizeof path, dir, "junk.h5"), junk, sizeof junk);
    expect_read_fails(path, HL_EFORMAT);
    write_bytes(join(path, sizeof path, dir, "empty.h5"), "", 0);
    expect_read_fails(path, HL_EFORMAT);
    const char text[] = "this is a text file, not HDF5\n";
    write_bytes(join(path, sizeof path, dir, "text.h5"), text, sizeof text - 1);
    expect_read_fails(path, HL_EFORMAT);
}

/* Truncated copies of a real result: an error, never a crash or a success. */
static void test_read_truncated(void **state)
{
    (void)state;
    char dir[512], path[600], cut[600];
    subdir(dir, sizeof dir, "truncated");
    join(path, sizeof path, dir, "full.h5");
    write_small_result(path);
    size_t size;
    unsigned char *bytes = read_bytes(path, &size);
    assert_true(size > 4000);
    const size_t lengths[] = {1000, 8, 100, 512, 2048, 4000, size / 2, size - 100, size - 1};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        snprintf(cut, sizeof cut, "%s/cut%zu.h5", dir, lengths[i]);
        write_bytes(cut, bytes, lengths[i]);
        expect_read_fails(cut, HL_EFORMAT);
    }
    free(bytes);
}

/* A samples file is HDF5 but not a training result. */
/* The resolved parameters of an NLGP-family model, as `hoclab sample` records them. */
static hl_param_values model_values(const char *model, int dim, int L, double xi)
{
    char spec[128];
    snprintf(spec, sizeof spec, "dim=%d,L=%d,xi=%g", dim, L, xi);
    hl_param_values v;
    assert_int_equal(hl_model_parse(hl_model_find(model), spec, &v), HL_OK);
    return v;
}

static void test_read_samples_file_as_train(void **state)
{
    (void)state;
    char dir[512], path[600];
    subdir(dir, sizeof dir, "samples_as_train");
    join(path, sizeof path, dir, "s.h5");
    hl_param_values p = model_values("nlgp", 1, 16, 2);
    float x[2 * 16] = {0};
    hl_h5_sample_set set = {"nlgp_xi2", "NLGP", &p, 2, 1, 16, x};
    assert_int_equal(hl_h5_write_samples(path, &set, 1, "hoclab sample"), HL_OK);
    hl_param_values_clear(&p);
    expect_read_fails(path, HL_EFORMAT);
    assert_non_null(strstr(hl_error_message(), "not a hoclab training result"));
}

/* HDF5 files that claim to be training results but are not well formed. */
static void test_read_malformed_train(void **state)
{
    (void)state;
    char dir[512], path[600];
    subdir(dir, sizeof dir, "malformed");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    /* kind = train but no run group. */
    join(path, sizeof path, dir, "nogroups.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t st = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(st, 6);
    hid_t a = H5Acreate2(f, "kind", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Awrite(a, st, "train") >= 0);
    H5Aclose(a);
    H5Tclose(st);
    H5Sclose(sp);
    H5Fclose(f);
    expect_read_fails(path, HL_EFORMAT);

    /* A real result whose final W is replaced by one of the wrong size. */
    join(path, sizeof path, dir, "badW.h5");
    write_small_result(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Ldelete(f, "nlgp/final/W", H5P_DEFAULT) >= 0);
    hsize_t dims[2] = {2, 2};
    float w[4] = {1, 2, 3, 4};
    sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, "nlgp/final/W", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(f);
    expect_read_fails(path, HL_EFORMAT);

    /* A result with an unknown activation name. */
    join(path, sizeof path, dir, "badact.h5");
    write_small_result(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gopen2(f, "nlgp", H5P_DEFAULT);
    assert_true(H5Adelete(g, "activation") >= 0);
    st = H5Tcopy(H5T_C_S1);
    sp = H5Screate(H5S_SCALAR);
    H5Tset_size(st, 5);
    a = H5Acreate2(g, "activation", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Awrite(a, st, "nope") >= 0);
    H5Aclose(a);
    H5Tclose(st);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
    expect_read_fails(path, HL_EFORMAT);
    assert_non_null(strstr(hl_error_message(), "activation"));

    /* A result with a missing configuration attribute. */
    join(path, sizeof path, dir, "noK.h5");
    write_small_result(path);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Adelete_by_name(f, "nlgp", "K", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_read_fails(path, HL_EFORMAT);
}

static void test_write_unwritable(void **state)
{
    (void)state;
    hl_train_config c = tiny(HL_INPUT_NLGP);
    hl_train_result r;
    run_ok(&c, &r);
    char path[600];
    const char *paths[] = {"/proc/nope/x.h5", path};
    join(path, sizeof path, tmpdir, "no_such_folder/x.h5");
    for (int i = 0; i < 2; i++) {
        hl_error_set(HL_OK, "%s", "");
        assert_int_equal(hl_h5_write_train(paths[i], &c, &r, 1, "x"), HL_EIO);
        const char *m = hl_error_message();
        assert_true(strlen(m) > 0);
        if (!strstr(m, paths[i]))
            fail_msg("message '%s' does not name '%s'", m, paths[i]);
        assert_int_equal(access(paths[i], F_OK), -1);
        /* The pre-flight check gives the same answer. */
        assert_int_equal(hl_io_check_writable(paths[i]), HL_EIO);
        /* And so does the samples writer. */
        hl_param_values p = model_values("nlgp", 1, 16, 2);
        float x[16] = {0};
        hl_h5_sample_set set = {"s", "s", &p, 1, 1, 16, x};
        assert_int_equal(hl_h5_write_samples(paths[i], &set, 1, "x"), HL_EIO);
        hl_param_values_clear(&p);
        assert_non_null(strstr(hl_error_message(), paths[i]));
    }
    assert_int_equal(hl_io_check_writable(""), HL_EINVAL);
    hl_train_result_free(&r);
}

/* ---- diverged runs ----------------------------------------------------------------- */

/* Write one run to `path`, read it back, and check it came back whole. */
static void assert_single_run_roundtrip(const char *path, const hl_train_config *c,
                                        const hl_train_result *r)
{
    assert_int_equal(hl_h5_write_train(path, c, r, 1, "diverge"), HL_OK);
    hl_train_config *rc;
    hl_train_result *rr;
    int n;
    assert_int_equal(hl_h5_read_train(path, &rc, &rr, &n), HL_OK);
    assert_int_equal(n, 1);
    assert_config_equal(c, &rc[0]);
    assert_result_equal(c, r, &rr[0]); /* status and message included */
    hl_h5_train_free(rc, rr, n);
}

static void test_diverged_roundtrip(void **state)
{
    (void)state;
    char dir[512], path[600];
    subdir(dir, sizeof dir, "diverged");
    join(path, sizeof path, dir, "d.h5");
    hl_train_config c = tiny(HL_INPUT_NLGP);
    c.net.lr = 1e4;
    c.net.act = HL_ACT_LINEAR;
    hl_train_result r;
    assert_int_equal(hl_train_run(&c, &r, 0, NULL, NULL), HL_EDIVERGED);
    assert_int_equal(r.status, HL_EDIVERGED);
    assert_true(strlen(r.message) > 0);
    assert_true(r.n_meas >= 1); /* t = 0 is measured before the first step */
    assert_true(r.n_meas < r.n_planned);

    assert_single_run_roundtrip(path, &c, &r);

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    char buf[64];
    read_str_attr(f, "/nlgp", "status", buf, sizeof buf);
    assert_string_equal(buf, "diverged");
    H5Fclose(f);
    hl_train_result_free(&r);
}

/* A run that diverges before its first measurement: no time series at all. */
static void test_diverged_before_first_measurement(void **state)
{
    (void)state;
    char dir[512], path[600];
    subdir(dir, sizeof dir, "diverged0");
    join(path, sizeof path, dir, "d0.h5");
    hl_train_config c = tiny(HL_INPUT_GP);
    c.max_weight = 1e-3; /* the initial weights are already beyond it */
    hl_train_result r;
    assert_int_equal(hl_train_run(&c, &r, 0, NULL, NULL), HL_EDIVERGED);
    assert_int_equal(r.n_meas, 0);
    assert_single_run_roundtrip(path, &c, &r);
    hl_train_result_free(&r);
}

/* ---- samples ----------------------------------------------------------------------- */

static void check_samples(const char *path, const char *name, int dim, int L, size_t n,
                          const float *x)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    char buf[256], dname[128];
    read_str_attr(f, "/", "kind", buf, sizeof buf);
    assert_string_equal(buf, "samples");
    snprintf(dname, sizeof dname, "%s/x", name);
    hid_t d = H5Dopen2(f, dname, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[4] = {0};
    assert_int_equal(H5Sget_simple_extent_ndims(sp), 1 + dim);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    assert_int_equal(dims[0], n);
    assert_int_equal(dims[1], L);
    if (dim == 2)
        assert_int_equal(dims[2], L);
    size_t D = dim == 1 ? (size_t)L : (size_t)L * L;
    float *back = malloc(sizeof(float) * n * D);
    assert_non_null(back);
    assert_true(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0);
    assert_memory_equal(back, x, sizeof(float) * n * D);
    free(back);
    H5Sclose(sp);
    H5Dclose(d);
    hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
    assert_true(g >= 0);
    long long v;
    hid_t a = H5Aopen(g, "dim", H5P_DEFAULT);
    assert_true(a >= 0 && H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0);
    assert_int_equal(v, dim);
    H5Aclose(a);
    a = H5Aopen(g, "L", H5P_DEFAULT);
    assert_true(a >= 0 && H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0);
    assert_int_equal(v, L);
    H5Aclose(a);
    H5Gclose(g);
    /* the model and its full spec, which recreates the sampler */
    read_str_attr(f, name, "model", buf, sizeof buf);
    assert_string_equal(buf, strncmp(name, "gp", 2) == 0 ? "gp" : "nlgp");
    read_str_attr(f, name, "spec", buf, sizeof buf);
    assert_non_null(strstr(buf, "gain=10"));
    hl_sampler *smp = hl_model_create(strncmp(name, "gp", 2) == 0 ? "gp" : "nlgp", buf);
    assert_non_null(smp);
    hl_sampler_free(smp);
    H5Fclose(f);
}

static void test_samples_readable(void **state)
{
    (void)state;
    char dir[512], path[600];
    subdir(dir, sizeof dir, "samples");
    for (int dim = 1; dim <= 2; dim++) {
        const int L = dim == 1 ? 16 : 6;
        const size_t n = 5, D = dim == 1 ? (size_t)L : (size_t)L * L;
        float *x = malloc(sizeof(float) * 2 * n * D);
        assert_non_null(x);
        for (size_t i = 0; i < 2 * n * D; i++)
            x[i] = (float)i * 0.25f - 3;
        hl_param_values pp = model_values("nlgp", dim, L, 2);
        hl_param_values pm = model_values("gp", dim, L, 3);
        hl_h5_sample_set sets[2] = {{"nlgp_xi2", "NLGP, class +", &pp, n, dim, L, x},
                                    {"gp_xi3", "GP clone, class -", &pm, n, dim, L, x + n * D}};
        snprintf(path, sizeof path, "%s/s%d.h5", dir, dim);
        assert_int_equal(hl_h5_write_samples(path, sets, 2, "hoclab sample"), HL_OK);
        check_samples(path, "nlgp_xi2", dim, L, n, x);
        check_samples(path, "gp_xi3", dim, L, n, x + n * D);
        hl_param_values_clear(&pp);
        hl_param_values_clear(&pm);
        free(x);
    }
    int tmp_left;
    assert_int_equal(count_entries(dir, &tmp_left), 2);
    assert_false(tmp_left);
}

/* A file of named arrays: groups made on the way, values and attributes read back,
 * bad arrays refused without a file. */
static void test_arrays_file(void **state)
{
    (void)state;
    char dir[512], path[600];
    subdir(dir, sizeof dir, "arrays");
    snprintf(path, sizeof path, "%s/a.h5", dir);
    double a[6] = {1, -2, 3.5, 4, 5, 6e-300}, b[3] = {7, 8, 9};
    hl_h5_array arrays[2] = {{"top", 2, {2, 3}, a}, {"g/h/leaf", 1, {3}, b}};
    hl_h5_attr attrs[3] = {{"model", "nlgp"}, {"g/h/gain", NULL, 2.5}, {"other/x", NULL, -1}};
    assert_int_equal(hl_h5_write_arrays(path, "theory test", "cmd", attrs, 3, arrays, 2), HL_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    double ra[6], rb[3], gain;
    hid_t d = H5Dopen2(f, "top", H5P_DEFAULT);
    assert_true(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ra) >= 0);
    H5Dclose(d);
    d = H5Dopen2(f, "g/h/leaf", H5P_DEFAULT);
    assert_true(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rb) >= 0);
    H5Dclose(d);
    assert_memory_equal(ra, a, sizeof a);
    assert_memory_equal(rb, b, sizeof b);
    hid_t g = H5Gopen2(f, "g/h", H5P_DEFAULT);
    hid_t at = H5Aopen(g, "gain", H5P_DEFAULT);
    assert_true(at >= 0 && H5Aread(at, H5T_NATIVE_DOUBLE, &gain) >= 0);
    assert_true(gain == 2.5);
    H5Aclose(at);
    H5Gclose(g);
    assert_true(H5Lexists(f, "other", H5P_DEFAULT) > 0); /* made for its attribute */
    char buf[64];
    read_str_attr(f, ".", "model", buf, sizeof buf);
    assert_string_equal(buf, "nlgp");
    read_str_attr(f, ".", "kind", buf, sizeof buf);
    assert_string_equal(buf, "theory test");
    H5Fclose(f);
    /* the same through the public reader, with its size and presence checks */
    snprintf(path, sizeof path, "%s/a.h5", dir);
    hl_h5_reader *rd = hl_h5_reader_open(path);
    assert_non_null(rd);
    double rv[6], g2;
    float rf[3];
    assert_int_equal(hl_h5_reader_array(rd, "top", rv, 6), HL_OK);
    assert_memory_equal(rv, a, sizeof a);
    assert_int_equal(hl_h5_reader_array_float(rd, "g/h/leaf", rf, 3), HL_OK);
    assert_true(rf[2] == 9.0f);
    assert_int_equal(hl_h5_reader_attr(rd, "g/h/gain", &g2), HL_OK);
    assert_true(g2 == 2.5);
    assert_int_equal(hl_h5_reader_array(rd, "top", rv, 5), HL_EFORMAT);
    assert_non_null(strstr(hl_error_message(), "top"));
    assert_int_equal(hl_h5_reader_attr(rd, "nosuch", &g2), HL_EFORMAT);
    assert_int_equal(hl_h5_reader_attr(rd, "model", &g2), HL_EFORMAT); /* a string */
    hl_h5_reader_close(rd);
    snprintf(path, sizeof path, "%s/none.h5", dir);
    assert_null(hl_h5_reader_open(path));
    assert_non_null(strstr(hl_error_message(), "none.h5"));
    /* refused: rank 0, a zero dimension, no data */
    snprintf(path, sizeof path, "%s/bad.h5", dir);
    hl_h5_array bad[3] = {{"x", 0, {1}, a}, {"y", 1, {0}, a}, {"z", 1, {2}, NULL}};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hl_h5_write_arrays(path, "t", NULL, NULL, 0, &bad[i], 1), HL_EINVAL);
        assert_non_null(strstr(hl_error_message(), bad[i].name));
        assert_int_equal(access(path, F_OK), -1);
    }
    int tmp_left;
    assert_int_equal(count_entries(dir, &tmp_left), 1);
    assert_false(tmp_left);
}

/* A sweep: every point written, a second call reads them all back with the same
 * summaries, one thread or two give the same numbers, and a file of another
 * experiment is refused. */
static void test_sweep_resume(void **state)
{
    (void)state;
    char dir[512], p[3][640];
    subdir(dir, sizeof dir, "sweep");
    hl_train_config cfg[3];
    const char *paths[3];
    for (int i = 0; i < 3; i++) {
        cfg[i] = hl_train_defaults();
        cfg[i].L = 16;
        cfg[i].net.K = 2;
        cfg[i].time = 20;
        cfg[i].n_test = 200;
        cfg[i].n_meas = 3;
        cfg[i].n_snap = 0;
        cfg[i].gain = 1 + 4 * i;
        cfg[i].seed = 7;
        snprintf(p[i], sizeof p[i], "%s/pt%d.h5", dir, i);
        paths[i] = p[i];
    }
    hl_sweep_point a[3], b[3], c[3];
    assert_int_equal(hl_sweep_run(cfg, paths, 3, 2, "test", a, NULL, NULL), HL_OK);
    for (int i = 0; i < 3; i++) {
        assert_false(a[i].resumed);
        assert_true(a[i].mean_ipr > 0 && a[i].test_error >= 0 && a[i].test_error <= 1);
    }
    assert_int_equal(hl_sweep_run(cfg, paths, 3, 1, "test", b, NULL, NULL), HL_OK);
    for (int i = 0; i < 3; i++) {
        assert_true(b[i].resumed);
        assert_true(b[i].mean_ipr == a[i].mean_ipr && b[i].test_error == a[i].test_error);
    }
    /* one point removed: trained again on one thread, the same numbers */
    assert_int_equal(unlink(p[1]), 0);
    assert_int_equal(hl_sweep_run(cfg, paths, 3, 1, "test", c, NULL, NULL), HL_OK);
    assert_true(c[0].resumed && !c[1].resumed && c[2].resumed);
    assert_true(c[1].mean_ipr == a[1].mean_ipr && c[1].test_error == a[1].test_error);
    /* seed averages */
    hl_sweep_stats st;
    assert_int_equal(hl_sweep_average(a, 1, 3, &st), HL_OK);
    double m = (a[0].mean_ipr + a[1].mean_ipr + a[2].mean_ipr) / 3;
    assert_true(fabs(st.mean_ipr - m) < 1e-15 && st.mean_ipr_se > 0);
    /* another experiment in the same file */
    cfg[2].gain = 3;
    assert_int_equal(hl_sweep_run(cfg, paths, 3, 1, "test", c, NULL, NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "pt2.h5"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_nlgp_gp),
        cmocka_unit_test(test_roundtrip_unusual_config),
        cmocka_unit_test(test_roundtrip_dim2),
        cmocka_unit_test(test_same_seed_same_file_contents),
        cmocka_unit_test(test_write_replaces_existing),
        cmocka_unit_test(test_read_missing_file),
        cmocka_unit_test(test_read_garbage),
        cmocka_unit_test(test_read_truncated),
        cmocka_unit_test(test_read_samples_file_as_train),
        cmocka_unit_test(test_read_malformed_train),
        cmocka_unit_test(test_write_unwritable),
        cmocka_unit_test(test_diverged_roundtrip),
        cmocka_unit_test(test_diverged_before_first_measurement),
        cmocka_unit_test(test_samples_readable),
        cmocka_unit_test(test_arrays_file),
        cmocka_unit_test(test_sweep_resume),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
