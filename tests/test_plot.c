/* test_plot.c — the figure writers: every function produces a real PNG and SVG
 * (checked by signature and root element, not by pixels), leaves no temporary file
 * behind, can be called repeatedly in one process, and rejects bad arguments or an
 * unwritable folder with a status and a message instead of a PLplot exit. */
#define _POSIX_C_SOURCE 200809L   /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/error.h"
#include "hoclab/plot.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/hoclab_plot_XXXXXX";

static const char *path_in_dir(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void assert_figure(const char *name)
{
    char path[300];
    unsigned char head[8];
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(head, png_sig, 8);

    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    static char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "<svg"));
}

/* Every name in the folder: no "*.tmp*" left over from the write-then-rename. */
static int count_entries(int *tmp_files)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    *tmp_files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        n++;
        if (strstr(e->d_name, ".tmp")) (*tmp_files)++;
    }
    closedir(d);
    return n;
}

static void assert_no_tmp(void)
{
    int tmp;
    count_entries(&tmp);
    assert_int_equal(tmp, 0);
}

/* K neurons: a localised oscillating bump for even k, a ramp of the other sign
 * for odd k, so the shared scale is exercised with both signs. */
static float *make_rfs(int K, int L, int dim)
{
    int D = dim == 2 ? L * L : L;
    float *W = malloc(sizeof(float) * (size_t)K * (size_t)D);
    assert_non_null(W);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < D; i++) {
            double u = (double)(i % L) - (k % L), v = dim == 2 ? (double)(i / L) - L / 2 : 0;
            W[k * D + i] = k % 2 ? (float)(-0.02 * i / D * (k + 1))
                                 : (float)(exp(-(u * u + v * v) / 6.0) * cos(0.8 * u));
        }
    return W;
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') unlink(path_in_dir(e->d_name));
    closedir(d);
    return rmdir(dir);
}

static void test_rf_grid(void **state)
{
    (void)state;
    static const struct { int K, L, dim; const char *name; } cases[] = {
        {5, 30, 1, "rf_1d_k5"}, {16, 30, 1, "rf_1d_k16"},
        {5, 10, 2, "rf_2d_k5"}, {16, 10, 2, "rf_2d_k16"}, {70, 6, 2, "rf_2d_k70"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float *W = make_rfs(cases[i].K, cases[i].L, cases[i].dim);
        assert_int_equal(hl_plot_rf_grid(path_in_dir(cases[i].name), W, cases[i].K,
                                         cases[i].L, cases[i].dim, "NLGP, t = 1000"),
                         HL_OK);
        free(W);
        assert_figure(cases[i].name);
    }
    assert_no_tmp();
}

static void test_ipr(void **state)
{
    (void)state;
    enum { n = 25, m = 4 };
    double t[n], y1[n * m], y2[n * m];
    for (int i = 0; i < n; i++) {
        t[i] = pow(10.0, -2.0 + 5.0 * i / (n - 1));
        for (int j = 0; j < m; j++) {
            y1[i * m + j] = 0.02 + 0.05 * i / (n - 1) * (1.0 + 0.1 * j);
            y2[i * m + j] = 0.02 + 0.001 * j;
        }
    }
    y1[3 * m + 1] = NAN;   /* a missing value breaks one curve, nothing else */
    hl_plot_series s[2] = {{"NLGP", n, t, m, y1}, {"GP clone", n, t, m, y2}};
    assert_int_equal(hl_plot_ipr(path_in_dir("ipr"), s, 2, 0.03, "IPR"), HL_OK);
    assert_figure("ipr");
    assert_no_tmp();
}

static void test_timeseries(void **state)
{
    (void)state;
    enum { n = 30 };
    double t[n], e1[n], e2[n];
    for (int i = 0; i < n; i++) {
        t[i] = i == 0 ? 0.0 : pow(10.0, -1.0 + 4.0 * i / (n - 1));   /* t = 0 skipped */
        e1[i] = 0.5 - 0.35 * i / (n - 1);
        e2[i] = 0.5 - 0.15 * i / (n - 1);
    }
    hl_plot_series s[2] = {{"NLGP", n, t, 1, e1}, {NULL, n, t, 1, e2}};
    assert_int_equal(hl_plot_timeseries(path_in_dir("err"), s, 2, "test error", "Test error"),
                     HL_OK);
    assert_figure("err");
    /* A single point still gives a figure. */
    hl_plot_series one = {"one point", 1, &t[5], 1, &e1[5]};
    assert_int_equal(hl_plot_timeseries(path_in_dir("err1"), &one, 1, NULL, NULL), HL_OK);
    assert_figure("err1");
    assert_no_tmp();
}

static void test_montage(void **state)
{
    (void)state;
    enum { L = 12, rows = 2, per = 5 };
    float *X = malloc(sizeof(float) * rows * per * L * L);
    assert_non_null(X);
    for (int i = 0; i < rows * per * L * L; i++) X[i] = (float)sin(0.37 * i) * (i < per * L * L ? 1 : 3);
    const char *labels[rows] = {"NLGP", "GP clone"};
    assert_int_equal(hl_plot_montage(path_in_dir("mont2d"), X, rows, per, L, 2, labels, "Inputs"),
                     HL_OK);
    assert_figure("mont2d");
    assert_int_equal(hl_plot_montage(path_in_dir("mont1d"), X, rows, per, L * L, 1, NULL, NULL),
                     HL_OK);
    assert_figure("mont1d");
    free(X);
    assert_no_tmp();
}

/* Each call opens and ends its own PLplot stream: many calls in a row work and
 * overwrite the previous figure in place. */
static void test_repeated_calls(void **state)
{
    (void)state;
    float *W = make_rfs(4, 8, 2);
    int before, after, tmp;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(hl_plot_rf_grid(path_in_dir("again"), W, 4, 8, 2, "again"), HL_OK);
        if (i == 0) before = count_entries(&tmp);
    }
    after = count_entries(&tmp);
    assert_int_equal(before, after);
    assert_int_equal(tmp, 0);
    assert_figure("again");
    free(W);
}

/* The call must fail with `code` and leave a message saying why. */
#define assert_fails(code, call)                              \
    do {                                                      \
        hl_error_set(HL_OK, "%s", "");                        \
        assert_int_equal((call), (code));                     \
        assert_true(strlen(hl_error_message()) > 0);          \
    } while (0)

static void test_invalid_arguments(void **state)
{
    (void)state;
    float *W = make_rfs(3, 8, 2);
    double t[2] = {1, 10}, y[4] = {0.1, 0.2, 0.3, 0.4};
    hl_plot_series ok = {"a", 2, t, 2, y}, no_t = {"a", 2, NULL, 2, y};
    const char *b = path_in_dir("bad");
    int before, tmp;
    before = count_entries(&tmp);

    assert_fails(HL_EINVAL, hl_plot_rf_grid(b, NULL, 3, 8, 2, "x"));
    assert_fails(HL_EINVAL, hl_plot_rf_grid(b, W, 0, 8, 2, "x"));
    assert_fails(HL_EINVAL, hl_plot_rf_grid(b, W, 3, 8, 3, "x"));
    assert_non_null(strstr(hl_error_message(), "dim"));
    assert_fails(HL_EINVAL, hl_plot_rf_grid(b, W, 3, 1, 2, "x"));
    assert_fails(HL_EINVAL, hl_plot_rf_grid(NULL, W, 3, 8, 2, "x"));
    W[5] = NAN;
    assert_fails(HL_EINVAL, hl_plot_rf_grid(b, W, 3, 8, 2, "x"));
    assert_fails(HL_EINVAL, hl_plot_ipr(b, NULL, 1, 0.0, "x"));
    assert_fails(HL_EINVAL, hl_plot_ipr(b, &ok, 0, 0.0, "x"));
    assert_fails(HL_EINVAL, hl_plot_ipr(b, &no_t, 1, 0.0, "x"));
    assert_fails(HL_EINVAL, hl_plot_timeseries(b, &ok, 1, "y", "x"));   /* m = 2, not 1 */
    assert_fails(HL_EINVAL, hl_plot_montage(b, NULL, 2, 2, 8, 2, NULL, "x"));
    assert_fails(HL_EINVAL, hl_plot_montage(b, W, 0, 2, 8, 2, NULL, "x"));
    assert_fails(HL_EINVAL, hl_plot_montage(b, W, 1, 0, 8, 2, NULL, "x"));
    assert_fails(HL_EINVAL, hl_plot_montage(b, W, 1, 1, 8, 0, NULL, "x"));

    assert_int_equal(count_entries(&tmp), before);   /* nothing was written */
    free(W);
}

static void test_unwritable_folder(void **state)
{
    (void)state;
    float *W = make_rfs(3, 8, 1);
    double t[2] = {1, 10}, y[2] = {0.1, 0.2};
    hl_plot_series s = {"a", 2, t, 1, y};
    const char *nope = "/proc/hoclab_nope/x";

    assert_fails(HL_EIO, hl_plot_rf_grid(nope, W, 3, 8, 1, "x"));
    assert_non_null(strstr(hl_error_message(), "/proc/hoclab_nope"));
    assert_fails(HL_EIO, hl_plot_ipr(nope, &s, 1, 0.03, "x"));
    assert_fails(HL_EIO, hl_plot_timeseries(nope, &s, 1, "y", "x"));
    assert_fails(HL_EIO, hl_plot_montage(nope, W, 1, 1, 8, 1, NULL, "x"));
    assert_fails(HL_EIO, hl_plot_timeseries("/nonexistent_hoclab_dir/sub/x", &s, 1, "y", "x"));
    free(W);
}

/* Curves on a linear axis (CP factors against the site) and a heat map with a
 * missing cell; bad heat-map shapes are refused. */
static void test_curves_heatmap(void **state)
{
    (void)state;
    enum { n = 20 };
    double x[n], y[n], z[6] = {1, 2, 3, NAN, 5, 6};
    for (int i = 0; i < n; i++)
        x[i] = i, y[i] = exp(-0.1 * (i - 10) * (i - 10));
    hl_plot_series s = {"factor 1", n, x, 1, y};
    assert_int_equal(hl_plot_curves(path_in_dir("curves"), &s, 1, "site", 0, "u", "F"), HL_OK);
    assert_figure("curves");
    const char *xl[3] = {"0.3", "1", "10"}, *yl[2] = {"2, 6", "1, 3"};
    assert_int_equal(hl_plot_heatmap(path_in_dir("heat"), z, 3, 2, xl, yl, "gain", "xi", "r",
                                     "heat"), HL_OK);
    assert_figure("heat");
    assert_int_equal(hl_plot_heatmap(path_in_dir("heat0"), z, 0, 2, xl, yl, NULL, NULL, NULL,
                                     NULL), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "nx = 0"));
    assert_no_tmp();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rf_grid),
        cmocka_unit_test(test_ipr),
        cmocka_unit_test(test_timeseries),
        cmocka_unit_test(test_montage),
        cmocka_unit_test(test_repeated_calls),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_unwritable_folder),
        cmocka_unit_test(test_curves_heatmap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
