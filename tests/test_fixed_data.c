/* test_fixed_data.c — training on a fixed dataset (fixed_data.c): the network learns
 * an easy task (spiked Wishart vs N(0, I)) well below chance; random features keep
 * their first layer exactly (same seed: same data and initial weights, so the frozen
 * run's test error at epoch 0 equals the network's); symmetric initialisation gives
 * phi = 0 (chance-level output); runs are reproducible; bad parameters are refused
 * with a message naming them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/error.h"
#include "hoclab/net.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static hl_fixed_config wishart_task(int d, int n)
{
    hl_fixed_config c = hl_fixed_defaults();
    snprintf(c.plus_model, sizeof c.plus_model, "wishart:d=%d,beta=10,seed=3", d);
    snprintf(c.minus_model, sizeof c.minus_model, "spiked:d=%d,beta=10,seed=3,clone=1", d);
    c.net.act = HL_ACT_ERF;
    c.net.bias = HL_BIAS_TRAINABLE;
    c.net.lr = 0.2;
    c.n_train = n;
    c.n_test = 4000;
    c.epochs = 40;
    c.seed = 5;
    return c;
}

/* Variance 11 along u against 1: the Bayes error is about 0.2; chance is 0.5. With
 * 4000 test samples the SE is <= 0.008, so 0.4 is > 12 SE below chance. */
static void test_network_learns_wishart(void **state)
{
    (void)state;
    hl_fixed_config c = wishart_task(16, 800);
    hl_fixed_result r;
    assert_int_equal(hl_fixed_run(&c, &r), HL_OK);
    assert_int_equal(r.epochs_done, 40);
    assert_int_equal(r.diverged, 0);
    assert_true(fabs(r.initial_test_error - 0.5) < 0.05); /* random net: chance +- 6 SE */
    assert_true(r.test_error < 0.40);
    assert_true(r.train_error <= r.test_error + 0.05);
    assert_true(fabs(r.test_error_se - sqrt(r.test_error * (1 - r.test_error) / 4000)) < 1e-12);
}

/* Same seed: the same data and initial weights. Random features start where the
 * network starts; with W frozen, a readout on 16 random erf features of a 16-dim
 * input cannot see the variance along one hidden direction as well as the network. */
static void test_random_features_share_start(void **state)
{
    (void)state;
    hl_fixed_config c = wishart_task(16, 800);
    hl_fixed_result net, rf, rf2;
    assert_int_equal(hl_fixed_run(&c, &net), HL_OK);
    c.freeze_first = 1;
    c.lr_v = 0.2;
    assert_int_equal(hl_fixed_run(&c, &rf), HL_OK);
    assert_float_equal(rf.initial_test_error, net.initial_test_error, 0);
    assert_true(rf.test_error > net.test_error + 0.03); /* > 3 SE of the difference */
    /* reproducible: the same configuration gives bit-identical results */
    assert_int_equal(hl_fixed_run(&c, &rf2), HL_OK);
    assert_float_equal(rf2.test_error, rf.test_error, 0);
    assert_float_equal(rf2.train_loss, rf.train_loss, 0);
}

/* phi = 0 for every input at a symmetric initialisation: the loss is exactly 1/2 and
 * sign(0) never matches y = +-1, whatever alpha. */
static void test_symmetric_init_zero_output(void **state)
{
    (void)state;
    hl_fixed_config c = wishart_task(8, 50);
    c.symmetric_init = 1;
    c.alpha = 100;
    c.epochs = 1;
    c.net.lr = 1e-12; /* essentially no learning: the test loss stays at phi = 0's */
    hl_fixed_result r;
    assert_int_equal(hl_fixed_run(&c, &r), HL_OK);
    assert_true(fabs(r.test_loss - 0.5) < 1e-6);
}

static void expect_einval(hl_fixed_config c, const char *word)
{
    hl_fixed_result r;
    assert_int_equal(hl_fixed_run(&c, &r), HL_EINVAL);
    if (!strstr(hl_error_message(), word))
        fail_msg("message '%s' does not name '%s'", hl_error_message(), word);
}

static void test_errors(void **state)
{
    (void)state;
    hl_fixed_config ok = wishart_task(8, 50), c;
    c = ok, c.n_train = 0;
    expect_einval(c, "n_train");
    c = ok, c.n_test = 0;
    expect_einval(c, "n_test");
    c = ok, c.epochs = 0;
    expect_einval(c, "epochs");
    c = ok, c.batch = 51;
    expect_einval(c, "batch");
    c = ok, c.alpha = 0;
    expect_einval(c, "alpha");
    c = ok, c.lr_v = -1;
    expect_einval(c, "lr_v");
    c = ok, c.symmetric_init = 1, c.net.K = 5;
    expect_einval(c, "symmetric_init");
    c = ok, c.freeze_first = 1, c.net.mode = HL_MODE_MF;
    expect_einval(c, "freeze_first");
    c = ok, c.net.D = 9;
    expect_einval(c, "net.D");
    c = ok, c.net.lr = -1;
    expect_einval(c, "lr");
    c = ok;
    snprintf(c.plus_model, sizeof c.plus_model, "wishart:d=8,beta=-1");
    expect_einval(c, "beta");
    c = ok;
    snprintf(c.plus_model, sizeof c.plus_model, "wishart:d=9");
    expect_einval(c, "dimension");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_network_learns_wishart),
        cmocka_unit_test(test_random_features_share_start),
        cmocka_unit_test(test_symmetric_init_zero_output),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
