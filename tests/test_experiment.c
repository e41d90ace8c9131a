/* test_experiment.c — experiment files (experiment.h): every key lands in its trainer
 * field, lists and ranges make axes, the points come in their documented order with
 * their names and files, and every kind of bad input is an HL_EINVAL whose message
 * names the file's line and the key or the accepted range.
 *
 * Nothing trains: parsing, points and paths only (a few milliseconds). Files for
 * hl_experiment_load go to a mkdtemp folder removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/error.h"
#include "hoclab/experiment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/hoclab_test_exp_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char path[512];
    const char *files[] = {"big.yaml", "full.yaml", "gain.yaml"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
        remove(path);
    }
    return rmdir(tmpdir);
}

static void parse_ok(const char *text, hl_experiment *e)
{
    int rc = hl_experiment_parse(text, strlen(text), "dir/t.yaml", e);
    if (rc)
        fail_msg("parse failed: %s", hl_error_message());
}

/* `text` fails with HL_EINVAL, leaves nothing allocated, and the message holds
 * "t.yaml:LINE:" (line 0: "t.yaml: " without a line) and `what`. */
static void expect_error(const char *text, int line, const char *what)
{
    hl_experiment e;
    int rc = hl_experiment_parse(text, strlen(text), "t.yaml", &e);
    if (rc != HL_EINVAL)
        fail_msg("'%s': status %d, expected HL_EINVAL", text, rc);
    char where[32];
    if (line)
        snprintf(where, sizeof where, "t.yaml:%d: ", line);
    else
        snprintf(where, sizeof where, "t.yaml: ");
    const char *m = hl_error_message();
    if (strncmp(m, where, strlen(where)) != 0 || !strstr(m, what))
        fail_msg("'%s': message '%s' does not start with '%s' or lacks '%s'", text, m, where,
                 what);
    assert_int_equal(e.n_axes, 0);
    assert_null(e.seeds);
    assert_null(e.output);
    assert_null(e.text);
}

/* Point i's configuration and name; fails the test if the point is invalid. */
static hl_train_config point(const hl_experiment *e, long i, char *name, size_t size)
{
    hl_train_config c;
    int rc = hl_experiment_point(e, i, &c, name, size);
    if (rc)
        fail_msg("point %ld: %s", i, hl_error_message());
    return c;
}

/* ---- valid files ---------------------------------------------------------------------- */

/* Every key of the table as a single value, each different from its default, lands in
 * its own field. */
static void test_every_key(void **state)
{
    (void)state;
    const char *text = "name: all\n"
                       "description: every key\n"
                       "output: res/all\n"
                       "seeds: [7]\n"
                       "inputs: gp\n"
                       "xis: [3, 7]\n"
                       "gain: 2.5\n"
                       "gain-convention: authors\n"
                       "dim: 2\n"
                       "L: 12\n"
                       "kernel-p: 1\n"
                       "K: 3\n"
                       "model: lazy\n"
                       "activation: relu\n"
                       "bias: fixed\n"
                       "bias-value: 0.25\n"
                       "lr: 0.5\n"
                       "bs: 7\n"
                       "time: 3.5\n"
                       "std0w: 0.3\n"
                       "std0v: 0.7\n"
                       "test-samples: 123\n"
                       "n-meas: 4\n"
                       "snapshots: 2\n";
    hl_experiment e;
    parse_ok(text, &e);
    assert_string_equal(e.name, "all");
    assert_string_equal(e.description, "every key");
    assert_string_equal(e.output, "res/all");
    assert_string_equal(e.text, text);
    assert_int_equal(e.n_axes, 0);
    assert_int_equal(e.n_seeds, 1);
    assert_int_equal(hl_experiment_n_points(&e), 1);
    char name[256];
    hl_train_config c = point(&e, 0, name, sizeof name);
    assert_string_equal(name, "seed=7");
    assert_int_equal(c.seed, 7);
    assert_int_equal(c.input, HL_INPUT_GP);
    assert_true(c.xi_plus == 3 && c.xi_minus == 7);
    assert_true(c.gain == 2.5);
    assert_int_equal(c.convention, HL_GAIN_AUTHORS);
    assert_int_equal(c.dim, 2);
    assert_int_equal(c.L, 12);
    assert_int_equal(c.p, 1);
    assert_int_equal(c.net.K, 3);
    assert_int_equal(c.net.mode, HL_MODE_LAZY);
    assert_int_equal(c.net.act, HL_ACT_RELU);
    assert_int_equal(c.net.bias, HL_BIAS_FIXED);
    assert_true(c.net.bias_value == 0.25);
    assert_true(c.net.lr == 0.5);
    assert_int_equal(c.batch, 7);
    assert_true(c.time == 3.5);
    assert_true(c.net.std0w == 0.3);
    assert_true(c.net.std0v == 0.7);
    assert_int_equal(c.n_test, 123);
    assert_int_equal(c.n_meas, 4);
    assert_int_equal(c.n_snap, 2);
    assert_string_equal(c.plus_model, "");
    hl_experiment_free(&e);
    assert_null(e.text);
}

/* plus and minus: the task of two models, the images shaped by the plus model. */
static void test_models(void **state)
{
    (void)state;
    hl_experiment e;
    parse_ok("plus: [\"nlgp:dim=2,L=8,xi=1\", \"nlgp:L=16,xi=2\"]\n"
             "minus: [\"gp:dim=2,L=8,xi=3\", \"gp:L=16,xi=1\"]\n"
             "time: 1\n", &e);
    assert_int_equal(hl_experiment_n_points(&e), 4);
    char name[1024];
    hl_train_config c = point(&e, 0, name, sizeof name);
    assert_string_equal(c.plus_model, "nlgp:dim=2,L=8,xi=1");
    assert_string_equal(c.minus_model, "gp:dim=2,L=8,xi=3");
    assert_int_equal(c.dim, 2);
    assert_int_equal(c.L, 8);
    assert_string_equal(name, "plus=nlgp:dim=2,L=8,xi=1,minus=gp:dim=2,L=8,xi=3,seed=1");
    c = point(&e, 3, name, sizeof name);
    assert_string_equal(c.minus_model, "gp:L=16,xi=1");
    assert_int_equal(c.dim, 1);
    assert_int_equal(c.L, 16);
    /* Mismatched classes (64 against 16 pixels): the point is invalid, named. */
    hl_train_config bad;
    assert_int_equal(hl_experiment_point(&e, 1, &bad, NULL, 0), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "point plus=nlgp:dim=2,L=8,xi=1,minus=gp:L=16,"
                                               "xi=1,seed=1 (axes on lines 1, 2): "));
    hl_experiment_free(&e);
}

/* Defaults: the name from the file's name, output = name, the trainer's seed. */
static void test_defaults(void **state)
{
    (void)state;
    hl_experiment e;
    parse_ok("gain: 3\n", &e);
    assert_string_equal(e.name, "t");
    assert_string_equal(e.output, "t");
    assert_null(e.description);
    assert_int_equal(e.n_seeds, 1);
    assert_int_equal(e.seeds[0], hl_train_defaults().seed);
    assert_int_equal(e.xi_frac, 0);
    assert_true(e.base.gain == 3);
    assert_int_equal(e.base.net.K, hl_train_defaults().net.K);
    hl_experiment_free(&e);
}

/* Lists are axes: the seed varies fastest, then the last axis; names spell the
 * coordinates. */
static void test_axes_and_order(void **state)
{
    (void)state;
    hl_experiment e;
    parse_ok("gain: [3, 1.5]\n"
             "inputs: [nlgp, gp]\n"
             "seeds: [2, 9]\n"
             "L: 16\n"
             "time: 1\n", &e);
    assert_int_equal(e.n_axes, 2);
    assert_int_equal(e.axes[0].line, 1);
    assert_int_equal(e.axes[1].line, 2);
    assert_int_equal(hl_experiment_n_points(&e), 8);
    const struct {
        const char *name;
        double gain;
        int input;
        uint64_t seed;
    } want[8] = {
        {"gain=3,inputs=nlgp,seed=2", 3, HL_INPUT_NLGP, 2},
        {"gain=3,inputs=nlgp,seed=9", 3, HL_INPUT_NLGP, 9},
        {"gain=3,inputs=gp,seed=2", 3, HL_INPUT_GP, 2},
        {"gain=3,inputs=gp,seed=9", 3, HL_INPUT_GP, 9},
        {"gain=1.5,inputs=nlgp,seed=2", 1.5, HL_INPUT_NLGP, 2},
        {"gain=1.5,inputs=nlgp,seed=9", 1.5, HL_INPUT_NLGP, 9},
        {"gain=1.5,inputs=gp,seed=2", 1.5, HL_INPUT_GP, 2},
        {"gain=1.5,inputs=gp,seed=9", 1.5, HL_INPUT_GP, 9},
    };
    for (long i = 0; i < 8; i++) {
        char name[256];
        hl_train_config c = point(&e, i, name, sizeof name);
        assert_string_equal(name, want[i].name);
        assert_true(c.gain == want[i].gain);
        assert_int_equal(c.input, want[i].input);
        assert_int_equal(c.seed, want[i].seed);
        assert_int_equal(c.L, 16);
    }
    hl_train_config c;
    assert_int_equal(hl_experiment_point(&e, 8, &c, NULL, 0), HL_EINVAL);
    assert_int_equal(hl_experiment_point(&e, -1, &c, NULL, 0), HL_EINVAL);
    hl_experiment_free(&e);
}

static void assert_axis(const hl_exp_axis *a, const char *key, int n, const double *v)
{
    assert_string_equal(a->key, key);
    assert_int_equal(a->n, n);
    for (int i = 0; i < n; i++)
        if (fabs(a->values[i].num[0] - v[i]) > 1e-12 * fabs(v[i]))
            fail_msg("%s value %d: %.17g, expected %.17g", key, i, a->values[i].num[0], v[i]);
}

/* Ranges: linear by default, log on request; integers rounded. */
static void test_ranges(void **state)
{
    (void)state;
    hl_experiment e;
    parse_ok("gain: {from: 1, to: 100, num: 3, scale: log}\n"
             "lr: {from: 0.1, to: 0.3, num: 3}\n"
             "K: {from: 2, to: 32, num: 5, scale: log}\n"
             "bs: {scale: linear, num: 3, to: 1, from: 9}\n"
             "n-meas: {from: 5, to: 5, num: 1}\n"
             "L: 16\n", &e);
    assert_int_equal(e.n_axes, 5);
    assert_axis(&e.axes[0], "gain", 3, (double[]){1, 10, 100});
    assert_axis(&e.axes[1], "lr", 3, (double[]){0.1, 0.2, 0.3});
    assert_axis(&e.axes[2], "K", 5, (double[]){2, 4, 8, 16, 32});
    assert_axis(&e.axes[3], "bs", 3, (double[]){9, 5, 1});
    assert_axis(&e.axes[4], "n-meas", 1, (double[]){5});
    assert_int_equal(hl_experiment_n_points(&e), 3 * 3 * 5 * 3);
    char name[256];
    hl_train_config c = point(&e, hl_experiment_n_points(&e) - 1, name, sizeof name);
    assert_string_equal(name, "gain=100,lr=0.3,K=32,bs=1,n-meas=5,seed=1");
    assert_int_equal(c.net.K, 32);
    assert_int_equal(c.batch, 1);
    assert_int_equal(c.n_meas, 5);
    hl_experiment_free(&e);
}

/* xis: one pair is a value, a list of pairs an axis; xi-unit frac scales by L. */
static void test_xis(void **state)
{
    (void)state;
    hl_experiment e;
    parse_ok("xis: [1.5, 4]\n", &e);
    assert_int_equal(e.n_axes, 0);
    assert_true(e.base.xi_plus == 1.5 && e.base.xi_minus == 4);
    hl_experiment_free(&e);

    parse_ok("xis: [[1, 3], [2, 6]]\nxi-unit: px\nL: 16\n", &e);
    assert_int_equal(e.n_axes, 1);
    assert_int_equal(e.axes[0].n, 2);
    char name[256];
    hl_train_config c = point(&e, 1, name, sizeof name);
    assert_string_equal(name, "xis=2:6,seed=1");
    assert_true(c.xi_plus == 2 && c.xi_minus == 6);
    hl_experiment_free(&e);

    parse_ok("xi-unit: frac\nL: [50, 20]\nxis: [0.1, 0.3]\n", &e);
    assert_int_equal(e.xi_frac, 1);
    c = point(&e, 0, name, sizeof name);
    assert_true(fabs(c.xi_plus - 5) < 1e-12 && fabs(c.xi_minus - 15) < 1e-12);
    c = point(&e, 1, name, sizeof name);
    assert_true(fabs(c.xi_plus - 2) < 1e-12 && fabs(c.xi_minus - 6) < 1e-12);
    assert_true(e.base.xi_plus == 0.1); /* the base keeps the fractions */
    hl_experiment_free(&e);
}

/* Seeds as a count (1..N) or as a list (in its order). */
static void test_seeds(void **state)
{
    (void)state;
    hl_experiment e;
    parse_ok("seeds: 4\n", &e);
    assert_int_equal(e.n_seeds, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(e.seeds[i], i + 1);
    hl_experiment_free(&e);
    parse_ok("seeds: [10, 3, 18446744073709549568]\nL: 16\n", &e);
    assert_int_equal(e.n_seeds, 3);
    assert_int_equal(e.seeds[1], 3);
    assert_true(e.seeds[2] == 18446744073709549568ull);
    char name[256];
    hl_train_config c = point(&e, 0, name, sizeof name);
    assert_int_equal(c.seed, 10);
    assert_string_equal(name, "seed=10");
    hl_experiment_free(&e);
}

/* OUTPUT/points/NAME.h5; characters outside the file-name alphabet become '_'; a name
 * over 200 characters becomes a hash of itself. */
static void test_point_path(void **state)
{
    (void)state;
    hl_experiment e;
    char path[1100];
    parse_ok("output: out/dir\ngain: [3, 1]\nL: 16\n", &e);
    assert_int_equal(hl_experiment_point_path(&e, 1, path, sizeof path), HL_OK);
    assert_string_equal(path, "out/dir/points/gain=1,seed=1.h5");
    assert_int_equal(hl_experiment_point_path(&e, 1, path, 20), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "longer than 19 characters"));
    hl_experiment_free(&e);

    /* strtod takes " 16", so the model is valid; the space is not a file-name character */
    parse_ok("plus: [\"nlgp:L= 16,xi=2\"]\nminus: \"gp:L=16,xi=2\"\n", &e);
    assert_int_equal(hl_experiment_point_path(&e, 0, path, sizeof path), HL_OK);
    assert_string_equal(path, "t/points/plus=nlgp:L=_16,xi=2,seed=1.h5");
    hl_experiment_free(&e);

    parse_ok("inputs: [nlgp]\nxis: [[2.25, 6.125]]\ngain: [10.123456789]\n"
             "gain-convention: [seeds]\ndim: [1]\nL: [16]\nkernel-p: [2]\nK: [2, 3]\n"
             "model: [2layer]\nactivation: [erf]\nbias: [trainable]\n"
             "bias-value: [0.123456789]\nlr: [0.0123456789]\nbs: [1]\ntime: [1.23456789]\n"
             "std0w: [0.0123456789]\n", &e);
    char name[1024], first[1100];
    point(&e, 0, name, sizeof name);
    assert_true(strlen(name) > 200);
    assert_int_equal(hl_experiment_point_path(&e, 0, first, sizeof first), HL_OK);
    assert_int_equal(strlen(first), strlen("t/points/point-0123456789abcdef.h5"));
    assert_int_equal(strncmp(first, "t/points/point-", 15), 0);
    assert_int_equal(strspn(first + 15, "0123456789abcdef"), 16);
    assert_int_equal(hl_experiment_point_path(&e, 0, path, sizeof path), HL_OK);
    assert_string_equal(path, first); /* the same point, the same hash */
    assert_int_equal(hl_experiment_point_path(&e, 1, path, sizeof path), HL_OK);
    assert_string_not_equal(path, first);
    hl_experiment_free(&e);
}

/* A point's cost counts training and measurement multiply-adds: K x 2 doubles it. */
static void test_cost(void **state)
{
    (void)state;
    hl_experiment e;
    parse_ok("K: [2, 4]\nL: 16\n", &e);
    double c2 = hl_experiment_point_cost(&e, 0), c4 = hl_experiment_point_cost(&e, 1);
    assert_true(c2 > 0);
    assert_true(fabs(c4 - 2 * c2) < 1e-9 * c4);
    hl_experiment_free(&e);
}

/* ---- errors ---------------------------------------------------------------------------- */

static void test_errors_keys(void **state)
{
    (void)state;
    expect_error("gain: 3\nbogus: 1\n", 2, "unknown key 'bogus'; accepted keys: name,");
    expect_error("seed: 3\n", 1, "unknown key 'seed' (use 'seeds')");
    expect_error("gain: 3\nK: 2\ngain: 4\n", 3, "key 'gain' is given twice (first on line 1)");
    expect_error("[a]: 3\n", 1, "a key must be a plain word");
    expect_error("name: [a, b]\n", 1, "'name' takes a non-empty text");
    expect_error("name: a/b\n", 1, "'name' must be shorter than 128 characters and hold no '/'");
    expect_error("plus: \"\"\n", 1, "'plus' takes a non-empty text");
    expect_error("xi-unit: [px]\n", 1, "'xi-unit' takes one value here, not a list");
    expect_error("xi-unit: cm\n", 1, "'xi-unit': unknown value 'cm'; accepted: px|frac");
    expect_error("gain: [[1, 2]]\n", 1, "'gain' takes one value here, not a list");
    expect_error("gain: []\n", 1, "'gain': a list makes an axis of 1..4096 values, got 0");
    expect_error("inputs: {from: 1, to: 2, num: 2}\n", 1, "'inputs' cannot take a range");
    expect_error("activation: sigmoid\n", 1,
                 "'activation': unknown value 'sigmoid'; accepted: erf|relu|tanh|linear|cubic");
    expect_error("model: [2layer, deep]\n", 1, "'model': unknown value 'deep'");
}

/* Two values of an axis that one file name would hold: refused (found by fuzzing). */
static void test_errors_same_point(void **state)
{
    (void)state;
    const char *what = "two values are the same point";
    expect_error("K: 2\ngain: [2, 3, 2.0]\n", 2, what);
    expect_error("gain: [1.00000000001, 1.00000000002]\n", 1, what);
    expect_error("gain: {from: 1, to: 1, num: 3}\n", 1, what);
    expect_error("xis: [[2, 6], [2.00000000001, 6]]\n", 1, what);
    expect_error("activation: [relu, erf, relu]\n", 1, "'activation': two values are the same "
                 "point activation=relu");
    expect_error("plus: [\"nlgp:L= 16\", \"nlgp:L=\\t16\"]\n", 1, "point plus=nlgp:L=_16");
    hl_experiment e;
    parse_ok("gain: [1.000000001, 1.000000002]\nxis: [[2, 6], [2.000001, 6]]\n", &e);
    hl_experiment_free(&e);
}

static void test_errors_numbers(void **state)
{
    (void)state;
    expect_error("gain: -1\n", 1, "'gain' = -1 is out of range; accepted: 0..1e+06");
    expect_error("K: 3\nlr: 0\n", 2, "'lr' = 0 is out of range; accepted: > 0..1e+06");
    expect_error("L: 1\n", 1, "'L' = 1 is out of range; accepted: 2..1.04858e+06");
    expect_error("snapshots: -2\n", 1, "'snapshots' = -2 is out of range; accepted: -1..100000");
    expect_error("K: 2.5\n", 1, "'K': '2.5' is not an integer");
    expect_error("gain: abc\n", 1, "'gain': 'abc' is not a number");
    expect_error("gain: .nan\n", 1, "'gain': '.nan' is not a number");
    expect_error("gain: 1e999\n", 1, "'gain': '1e999' is not a number");
    expect_error("K:\n  - 2\n  - x\n", 3, "'K': 'x' is not a number");
    expect_error("xis: [1, 2, 3]\n", 1, "'xis' takes a pair [xi+, xi-]");
    expect_error("xis: [[1, 2], 3]\n", 1, "'xis' takes a pair [xi+, xi-]");
    expect_error("xis: [0, 2]\n", 1, "'xis' = 0 is out of range; accepted: > 0..1e+09");
}

static void test_errors_ranges(void **state)
{
    (void)state;
    expect_error("\n\ngain: {from: 1, to: 2}\n", 3,
                 "range of 'gain' needs from, to and num (scale is optional)");
    expect_error("gain: {from: 1, to: 2, num: 3, step: 1}\n", 1,
                 "range of 'gain': unknown key 'step'; accepted: from, to, num, scale");
    expect_error("gain: {from: 0, to: 2, num: 3, scale: log}\n", 1,
                 "range of 'gain': a log scale needs from > 0 and to > 0");
    expect_error("gain: {from: 1, to: 2, num: 3, scale: cubic}\n", 1,
                 "range of 'gain': scale must be linear or log");
    expect_error("gain: {from: 1, to: 2, num: 0}\n", 1,
                 "'num' = 0 is out of range; accepted: 1..4096");
    expect_error("gain: {from: 1, to: 2e6, num: 2}\n", 1, "'gain' = 2e6 is out of range");
    expect_error("K: {from: 1, to: 3, num: 5}\n", 1,
                 "range of 'K' repeats an integer: use fewer points or a list");
}

static void test_errors_file(void **state)
{
    (void)state;
    expect_error("gain: [1, 2\n", 2, "not valid YAML");
    expect_error("gain:\n\t- 1\n", 2, "not valid YAML");
    expect_error("", 0, "the experiment file is empty");
    expect_error("# nothing but a comment\n", 0, "the experiment file is empty");
    expect_error("- gain: 3\n- K: 2\n", 1, "an experiment file is a mapping of keys");
    expect_error("just words\n", 1, "an experiment file is a mapping of keys");
    expect_error("seeds: 100000\ngain: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n", 0,
                 "the grid has 1100000 points (axes times seeds); accepted: at most 1000000");
    expect_error("seeds: [1, 2, 1]\n", 1, "'seeds': seed 1 is listed twice");
    expect_error("seeds:\n  - 4\n  - 5\n  - 4\n", 4, "'seeds': seed 4 is listed twice");
    expect_error("seeds: 0\n", 1, "'seeds' = 0 is out of range; accepted: 1..100000");
    expect_error("seeds: {a: 1}\n", 1, "'seeds' takes a count (seeds 1..N) or a list");
    expect_error("inputs: [nlgp]\ngain: [1]\ngain-convention: [seeds]\ndim: [1]\nL: [16]\n"
                 "kernel-p: [2]\nK: [2]\nmodel: [2layer]\nactivation: [erf]\nbias: [none]\n"
                 "bias-value: [1]\nlr: [1]\nbs: [1]\ntime: [1]\nstd0w: [1]\nstd0v: [1]\n"
                 "n-meas: [2]\n", 17, "too many axes: at most 16 keys can take lists");
}

/* A point the trainer would refuse: an error naming the experiment and the point. */
static void test_invalid_point(void **state)
{
    (void)state;
    hl_experiment e;
    parse_ok("name: big\ndim: [1, 2]\nL: 5000\ntime: 0.01\n", &e);
    /* the point's name, the axes' lines, then the trainer's reason */
    hl_train_config c;
    assert_int_equal(hl_experiment_point(&e, 0, &c, NULL, 0), HL_OK);
    assert_int_equal(hl_experiment_point(&e, 1, &c, NULL, 0), HL_EINVAL);
    const char *m = hl_error_message();
    if (!strstr(m, "experiment 'big', point dim=2,seed=1 (axis on line 2): ") ||
        !strstr(m, "L = 5000: accepted range is 2..4096 for dim 2"))
        fail_msg("message: %s", m);
    char path[1100];
    assert_int_equal(hl_experiment_point_path(&e, 1, path, sizeof path), HL_EINVAL);
    assert_true(hl_experiment_point_cost(&e, 1) == 0);
    hl_experiment_free(&e);
}

/* ---- files ------------------------------------------------------------------------------ */

static void write_file(const char *path, const char *text, size_t pad)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    for (size_t i = 0; i < pad; i++)
        fputc(i + 1 == pad ? '\n' : i == 0 ? '#' : 'x', f);
    assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
    (void)state;
    hl_experiment e;
    char path[512];
    snprintf(path, sizeof path, "%s/missing.yaml", tmpdir);
    assert_int_equal(hl_experiment_load(path, &e), HL_EIO);
    assert_non_null(strstr(hl_error_message(), path));

    snprintf(path, sizeof path, "%s/gain.yaml", tmpdir);
    write_file(path, "gain: [1, 2]\nL: 16\n", 0);
    assert_int_equal(hl_experiment_load(path, &e), HL_OK);
    assert_string_equal(e.name, "gain");
    assert_string_equal(e.text, "gain: [1, 2]\nL: 16\n");
    hl_experiment_free(&e);

    /* exactly 1 MiB is read; one byte more is refused */
    const char *text = "gain: 3\n";
    snprintf(path, sizeof path, "%s/full.yaml", tmpdir);
    write_file(path, text, (1 << 20) - strlen(text));
    assert_int_equal(hl_experiment_load(path, &e), HL_OK);
    hl_experiment_free(&e);
    snprintf(path, sizeof path, "%s/big.yaml", tmpdir);
    write_file(path, text, (1 << 20) - strlen(text) + 1);
    assert_int_equal(hl_experiment_load(path, &e), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "is larger than 1 MiB"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key),       cmocka_unit_test(test_models),
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_axes_and_order),
        cmocka_unit_test(test_ranges),          cmocka_unit_test(test_xis),
        cmocka_unit_test(test_seeds),           cmocka_unit_test(test_point_path),
        cmocka_unit_test(test_cost),            cmocka_unit_test(test_errors_keys),
        cmocka_unit_test(test_errors_same_point), cmocka_unit_test(test_errors_numbers),  cmocka_unit_test(test_errors_ranges),
        cmocka_unit_test(test_errors_file),     cmocka_unit_test(test_invalid_point),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
