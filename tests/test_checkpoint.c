/* test_checkpoint.c — long runs: stop, checkpoint, resume, and get the same bits as a run
 * that never stopped (online and minibatch, a Markov-chain sampler, two runs at once,
 * several interruptions in a row, through the checkpoint file or in memory); resumes
 * from another configuration and corrupt checkpoints are refused with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/error.h"
#include "hoclab/io.h"
#include "hoclab/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[256];

static hl_train_config small(void)
{
    hl_train_config c = hl_train_defaults();
    c.L = 40;
    c.time = 1000; /* 40000 steps: a few 16384-sample chunks */
    c.n_test = 500;
    c.n_meas = 12;
    return c;
}

/* Every array and count of two results, bit for bit. */
static void assert_same(const hl_train_config *c, const hl_train_result *a,
                        const hl_train_result *b)
{
    const size_t K = c->net.K, D = hl_train_D(c), m = a->n_meas;
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->n_planned, b->n_planned);
    assert_int_equal(a->n_meas, b->n_meas);
    assert_int_equal(a->n_snap, b->n_snap);
    assert_int_equal(a->stop_step, b->stop_step);
    assert_memory_equal(a->steps, b->steps, sizeof(long long) * a->n_planned);
    assert_memory_equal(a->t, b->t, sizeof(double) * a->n_planned);
    assert_memory_equal(a->test_error, b->test_error, sizeof(double) * m);
    assert_memory_equal(a->test_loss, b->test_loss, sizeof(double) * m);
    assert_memory_equal(a->ipr, b->ipr, sizeof(double) * m * K);
    assert_memory_equal(a->kurtosis, b->kurtosis, sizeof(double) * m * K);
    if (a->n_snap > 0) {
        assert_memory_equal(a->snap_index, b->snap_index, sizeof(int) * a->n_snap);
        assert_memory_equal(a->snapshots, b->snapshots, sizeof(float) * a->n_snap * K * D);
    }
    assert_memory_equal(a->W, b->W, sizeof(float) * K * D);
    assert_memory_equal(a->v, b->v, sizeof(float) * K);
    assert_memory_equal(a->b, b->b, sizeof(float) * K);
    assert_int_equal(a->n_clipped[0], b->n_clipped[0]);
    assert_memory_equal(&a->marginal_kurtosis, &b->marginal_kurtosis, sizeof(double));
}

/* Stops every run after its `after`-th checkpoint call, or (at_step >= 0) when a
 * progress report comes at that step. */
typedef struct {
    volatile sig_atomic_t stop;
    int after, calls[2];
    long long at_step;
} control;

static int stop_hook(void *user, int run, const hl_train_config *c, const hl_train_result *p)
{
    control *k = user;
    if (k->after > 0 && ++k->calls[run] >= k->after)
        k->stop = 1;
    return 0;
}

static void stop_progress(void *user, int run, long long step, long long total, double e,
                          double ipr)
{
    control *k = user;
    if (step == k->at_step)
        k->stop = 1;
}

/* Through the file: write every run's state as a checkpoint, read it back. */
static void via_file(const hl_train_config *c, int n, hl_train_result *res, hl_train_result *back)
{
    hl_checkpoint *ck = hl_checkpoint_new(path, c, n, "test");
    assert_non_null(ck);
    for (int i = 0; i < n; i++)
        assert_int_equal(hl_checkpoint_keep(ck, i, &res[i]), HL_OK);
    assert_int_equal(hl_checkpoint_write(ck), HL_OK);
    hl_checkpoint_free(ck);
    assert_int_equal(hl_h5_read_checkpoint(path, c, n, back), HL_OK);
}

/* Run n runs to their end, stopping them again and again (after `after` checkpoint
 * calls each time, or the first time at step at_step) and resuming from the returned
 * states (through the checkpoint file if `file`). Returns the interruptions. */
static int run_interrupted(const hl_train_config *c, int n, int threads, int after,
                           long long at_step, int file, hl_train_result *out)
{
    hl_train_result prev[2], cur[2];
    int st[2], stops = 0;
    for (;;) {
        control k = {.after = after, .at_step = stops ? -1 : at_step};
        hl_train_hooks h = {.checkpoint = stop_hook, .progress = stop_progress, .user = &k,
                            .checkpoint_every = 1e-9, .stop = &k.stop,
                            .resume = stops ? prev : NULL};
        int rc = hl_train_runs_hooked(c, n, threads, cur, st, &h);
        for (int i = 0; stops && i < n; i++)
            hl_train_result_free(&prev[i]);
        if (rc == HL_OK) {
            memcpy(out, cur, sizeof *cur * n);
            return stops;
        }
        assert_int_equal(rc, HL_EINTERRUPTED);
        assert_true(stops < 50);
        stops++;
        for (int i = 0; i < n; i++) {
            assert_true(st[i] == HL_EINTERRUPTED || st[i] == HL_OK);
            assert_int_equal(cur[i].status, st[i]);
            assert_true(cur[i].wall_seconds > 0);
        }
        if (file) {
            via_file(c, n, cur, prev);
            for (int i = 0; i < n; i++)
                hl_train_result_free(&cur[i]);
        } else {
            memcpy(prev, cur, sizeof *cur * n);
        }
    }
}

static void check_resumes(const hl_train_config *c, int n, int threads, int after, int at_meas,
                          int file, int min_stops)
{
    hl_train_result ref[2], got[2];
    int st[2];
    assert_int_equal(hl_train_runs(c, n, 1, ref, st, NULL, NULL), HL_OK);
    long long at_step = at_meas >= 0 ? ref[0].steps[at_meas] : -1;
    int stops = run_interrupted(c, n, threads, after, at_step, file, got);
    print_message("batch %d, %d run(s), %d thread(s): %d interruptions\n", c->batch, n,
                  threads, stops);
    assert_true(stops >= min_stops);
    for (int i = 0; i < n; i++) {
        assert_same(&c[i], &ref[i], &got[i]);
        hl_train_result_free(&ref[i]);
        hl_train_result_free(&got[i]);
    }
}

/* Online SGD stopped every 16384 steps or so, each time through the checkpoint file. */
static void test_online_resume_through_file(void **state)
{
    hl_train_config c = small();
    check_resumes(&c, 1, 1, 1, -1, 1, 2);
}

/* Stopped right after a measurement (its progress report), and at step 0. */
static void test_stop_at_measurement(void **state)
{
    hl_train_config c = small();
    check_resumes(&c, 1, 1, 0, 7, 1, 1);
    check_resumes(&c, 1, 1, 0, 0, 0, 1);
}

/* Minibatches of 100 and 300 (a batch straddling two chunks of samples, every few
 * steps straddling two blocks), stopped every step after a 16384-sample stretch. */
static void test_minibatch_resume(void **state)
{
    const int batches[] = {100, 300};
    for (int i = 0; i < 2; i++) {
        hl_train_config c = small();
        c.batch = batches[i];
        c.time = 60000.0 / c.batch / c.L; /* 60000 samples */
        c.n_snap = 3;
        check_resumes(&c, 1, 1, 1, -1, i, 2);
    }
}

/* A Markov-chain sampler (2D Ising, Wolff): its blocks depend on the chain's past, so a
 * resumed run replays the chain to where it was. Stopped past the first chunk. */
static void test_markov_chain_resume(void **state)
{
    hl_train_config c = small();
    snprintf(c.plus_model, sizeof c.plus_model, "ising:dim=2,L=6,T=2,burnin=5,sweeps=0.2");
    snprintf(c.minus_model, sizeof c.minus_model, "ising:dim=2,L=6,T=4,burnin=5,sweeps=0.2");
    c.dim = 2;
    c.L = 6;
    c.time = 40000.0 / 36;
    c.n_snap = 0;
    check_resumes(&c, 1, 1, 2, -1, 1, 1);
}

/* Two runs at once on two threads, stopped together; the reference ran on one. */
static void test_two_runs_two_threads(void **state)
{
    hl_train_config c[2] = {small(), small()};
    c[1].input = HL_INPUT_GP;
    c[1].seed = 5;
    check_resumes(c, 2, 2, 1, -1, 1, 2);
}

static void ignore_progress(void *user, int run, long long step, long long total, double e,
                            double ipr)
{
}

/* Online SGD is cut into stretches at the same steps whatever the chunk of samples
 * (which depends on the thread count at large D) and whether progress is reported: so
 * a run resumed on a terminal, or with more threads, is cut as it was first. At
 * D = 400 one thread gives chunks of 16 blocks, three threads chunks of 12. */
static void test_cut_points_fixed(void **state)
{
    hl_train_config c = small();
    c.L = 400;
    c.time = 100;
    c.n_snap = 0;
    hl_train_result a, b;
    int st;
    assert_int_equal(hl_train_run(&c, &a, 0, NULL, NULL), HL_OK);
    assert_int_equal(hl_train_runs(&c, 1, 3, &b, &st, ignore_progress, NULL), HL_OK);
    assert_same(&c, &a, &b);
    hl_train_result_free(&a);
    hl_train_result_free(&b);
}

/* A finished run in a checkpoint (the other run was stopped) is taken as it is. */
static void test_finished_run_is_kept(void **state)
{
    hl_train_config c = small();
    c.time = 100;
    hl_train_result ref, back, again;
    assert_int_equal(hl_train_run(&c, &ref, 0, NULL, NULL), HL_OK);
    via_file(&c, 1, &ref, &back);
    int st;
    hl_train_hooks h = {.resume = &back};
    assert_int_equal(hl_train_runs_hooked(&c, 1, 1, &again, &st, &h), HL_OK);
    assert_same(&c, &ref, &again);
    assert_true(again.wall_seconds == ref.wall_seconds); /* nothing was trained */
    hl_train_result_free(&ref);
    hl_train_result_free(&back);
    hl_train_result_free(&again);
}

/* A state interrupted from configuration a, for the checks below. */
static void interrupted_state(const hl_train_config *a, hl_train_result *r)
{
    control k = {.after = 1, .at_step = -1};
    hl_train_hooks h = {.checkpoint = stop_hook, .user = &k, .checkpoint_every = 1e-9,
                        .stop = &k.stop};
    int st;
    assert_int_equal(hl_train_runs_hooked(a, 1, 1, r, &st, &h), HL_EINTERRUPTED);
    assert_true(r->stop_step > 0 && r->stop_step < hl_train_steps(a));
}

/* The checkpoint of another configuration is refused, naming the field; so is a state
 * that does not fit the run's plan, given to the trainer directly. */
static void test_other_configuration_refused(void **state)
{
    hl_train_config a = small(), b = a;
    hl_train_result r, back[2];
    interrupted_state(&a, &r);
    hl_checkpoint *ck = hl_checkpoint_new(path, &a, 1, "test");
    assert_int_equal(hl_checkpoint_save(ck, 0, &a, &r), HL_OK);
    hl_checkpoint_free(ck);

    b.net.lr = 0.1;
    assert_int_equal(hl_h5_read_checkpoint(path, &b, 1, back), HL_EINVAL);
    print_message("%s\n", hl_error_message());
    assert_non_null(strstr(hl_error_message(), "another configuration"));
    assert_non_null(strstr(hl_error_message(), "lr = 0.05"));
    b = a;
    b.seed = 2;
    assert_int_equal(hl_h5_read_checkpoint(path, &b, 1, back), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "seed = 1 there, 2 here"));
    b = a;
    b.input = HL_INPUT_GP; /* the file has no run "gp" */
    assert_int_equal(hl_h5_read_checkpoint(path, &b, 1, back), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "no run 'gp'"));

    /* The trainer itself: another measurement plan, or a step out of range. */
    b = a;
    b.n_meas = 20;
    hl_train_result out;
    int st;
    hl_train_hooks h = {.resume = &r};
    assert_int_equal(hl_train_runs_hooked(&b, 1, 1, &out, &st, &h), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "resume"));
    long long keep = r.stop_step;
    r.stop_step = hl_train_steps(&a) + 5;
    assert_int_equal(hl_train_runs_hooked(&a, 1, 1, &out, &st, &h), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "outside steps"));
    r.stop_step = keep;
    r.n_snap++;
    assert_int_equal(hl_train_runs_hooked(&a, 1, 1, &out, &st, &h), HL_EINVAL);
    assert_non_null(strstr(hl_error_message(), "snapshots"));
    hl_train_result_free(&r);
}

static void write_bytes(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* Missing, not HDF5, truncated anywhere, bytes flipped, a finished result file: an
 * error with a message, never a crash or a state that is accepted. */
static void test_corrupt_checkpoint_refused(void **state)
{
    hl_train_config a = small();
    hl_train_result r, back;
    interrupted_state(&a, &r);
    hl_checkpoint *ck = hl_checkpoint_new(path, &a, 1, "test");
    assert_int_equal(hl_checkpoint_save(ck, 0, &a, &r), HL_OK);
    hl_checkpoint_free(ck);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char bytes[1 << 22];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(n > 1000 && n < sizeof bytes);
    char bad[300];
    snprintf(bad, sizeof bad, "%s.bad", path);

    unlink(bad);
    assert_int_equal(hl_h5_read_checkpoint(bad, &a, 1, &back), HL_EIO);
    assert_non_null(strstr(hl_error_message(), "cannot read checkpoint"));
    write_bytes(bad, "not a checkpoint\n", 17);
    assert_int_equal(hl_h5_read_checkpoint(bad, &a, 1, &back), HL_EFORMAT);
    assert_non_null(strstr(hl_error_message(), "not an HDF5 file"));
    for (size_t cut = 0; cut < n; cut += n / 23 + 1) {
        write_bytes(bad, bytes, cut);
        assert_int_not_equal(hl_h5_read_checkpoint(bad, &a, 1, &back), HL_OK);
        assert_true(strlen(hl_error_message()) > 0);
    }
    /* Flipped bytes: refused, or (where they hit padding or text) read as the same
     * state: never a state that would resume another run. */
    hl_train_result good;
    assert_int_equal(hl_h5_read_checkpoint(path, &a, 1, &good), HL_OK);
    const size_t KD = (size_t)a.net.K * hl_train_D(&a);
    int refused = 0, tries = 0;
    for (size_t at = 0; at < n; at += n / 97 + 1, tries++) {
        char keep = bytes[at];
        bytes[at] ^= 0x5a;
        write_bytes(bad, bytes, n);
        bytes[at] = keep;
        int rc = hl_h5_read_checkpoint(bad, &a, 1, &back);
        if (rc == HL_OK) {
            assert_int_equal(back.n_meas, good.n_meas);
            assert_int_equal(back.stop_step, good.stop_step);
            assert_memory_equal(back.W, good.W, sizeof(float) * KD);
            assert_memory_equal(back.test_error, good.test_error, sizeof(double) * good.n_meas);
            hl_train_result_free(&back);
        } else {
            assert_true(strlen(hl_error_message()) > 0);
            refused++;
        }
    }
    print_message("flipped bytes: %d of %d files refused\n", refused, tries);
    assert_true(refused > tries / 4);
    hl_train_result_free(&good);
    assert_int_equal(hl_h5_write_train(bad, &a, &r, 1, "test"), HL_OK);
    assert_int_equal(hl_h5_read_checkpoint(bad, &a, 1, &back), HL_EFORMAT);
    assert_non_null(strstr(hl_error_message(), "not a hoclab training checkpoint"));
    unlink(bad);
    hl_train_result_free(&r);
}

static int setup(void **state)
{
    snprintf(path, sizeof path, "/tmp/hoclab_test_checkpoint_%ld.h5", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    unlink(path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_online_resume_through_file),
        cmocka_unit_test(test_stop_at_measurement),
        cmocka_unit_test(test_minibatch_resume),
        cmocka_unit_test(test_markov_chain_resume),
        cmocka_unit_test(test_two_runs_two_threads),
        cmocka_unit_test(test_cut_points_fixed),
        cmocka_unit_test(test_finished_run_is_kept),
        cmocka_unit_test(test_other_configuration_refused),
        cmocka_unit_test(test_corrupt_checkpoint_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
