/* checkpoint.c — checkpoint files: the saved state of unfinished training runs.
 *
 * A checkpoint is a training result file (h5.c writes and reads its runs) with a mark
 * on the root and a state on each run's group, so that `hoclab plot` can show a run
 * that is still going. The runs of one `hoclab train` save from their own threads at
 * their own times: the checkpoint keeps a copy of every run's latest state and writes
 * them all each time, under one lock (which guards the kept states and keeps two
 * writes of one file apart), to a temporary file renamed into place, so the file on disk
 * is always a whole checkpoint. */
#include "hoclab/io.h"
#include "hoclab/error.h"
#include "h5_util.h"

#include <errno.h>
#include <hdf5.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CHECKPOINT_FORMAT = 1 };

/* Every HDF5 call of this file runs under this lock. */
static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

typedef enum { STATE_FRESH, STATE_PARTIAL, STATE_FINISHED } run_state;
static const char *const state_names[] = {"fresh", "partial", "finished"};

struct hl_checkpoint {
    char *path, *command_line;
    int n;
    hl_train_config *cfg;
    hl_train_result *res;   /* each run's latest state (n_meas == 0: fresh) */
    run_state *state;
};

void hl_checkpoint_free(hl_checkpoint *ck)
{
    if (!ck)
        return;
    for (int i = 0; ck->res && i < ck->n; i++)
        hl_train_result_free(&ck->res[i]);
    free(ck->res);
    free(ck->cfg);
    free(ck->state);
    free(ck->path);
    free(ck->command_line);
    free(ck);
}

hl_checkpoint *hl_checkpoint_new(const char *path, const hl_train_config *cfg, int n,
                                 const char *command_line)
{
    if (!path || !*path || n < 1) {
        hl_error_set(HL_EINVAL, "checkpoint: need a path and at least one run (n = %d)", n);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(hl_train_run_name(&cfg[i]), hl_train_run_name(&cfg[j])) == 0) {
                hl_error_set(HL_EINVAL, "checkpoint: runs %d and %d are both named '%s'; a "
                             "checkpoint holds runs of different names", j, i,
                             hl_train_run_name(&cfg[i]));
                return NULL;
            }
    hl_checkpoint *ck = calloc(1, sizeof *ck);
    if (ck) {
        ck->n = n;
        ck->path = strdup(path);
        ck->command_line = strdup(command_line ? command_line : "");
        ck->cfg = malloc(sizeof *ck->cfg * n);
        ck->res = calloc(n, sizeof *ck->res);
        ck->state = calloc(n, sizeof *ck->state);
    }
    if (!ck || !ck->path || !ck->command_line || !ck->cfg || !ck->res || !ck->state) {
        hl_checkpoint_free(ck);
        hl_error_set(HL_ENOMEM, "checkpoint: out of memory");
        return NULL;
    }
    memcpy(ck->cfg, cfg, sizeof *cfg * n);
    return ck;
}

static void *dup_array(const void *src, size_t bytes, int *failed)
{
    if (!src || bytes == 0)
        return NULL;
    void *p = malloc(bytes);
    if (!p)
        *failed = 1;
    else
        memcpy(p, src, bytes);
    return p;
}

/* A deep copy of what a checkpoint stores of a state: its first n_meas measurements,
 * n_snap snapshots, the weights and the scalars. */
static int copy_state(hl_train_result *d, const hl_train_result *s, size_t K, size_t D)
{
    const size_t m = (size_t)s->n_meas, ns = (size_t)s->n_snap;
    int failed = 0;
    *d = *s;
    d->n_planned = s->n_meas;
    d->steps = dup_array(s->steps, sizeof(long long) * m, &failed);
    d->t = dup_array(s->t, sizeof(double) * m, &failed);
    d->test_error = dup_array(s->test_error, sizeof(double) * m, &failed);
    d->test_loss = dup_array(s->test_loss, sizeof(double) * m, &failed);
    d->ipr = dup_array(s->ipr, sizeof(double) * m * K, &failed);
    d->kurtosis = dup_array(s->kurtosis, sizeof(double) * m * K, &failed);
    d->snap_index = dup_array(s->snap_index, sizeof(int) * ns, &failed);
    d->snapshots = dup_array(s->snapshots, sizeof(float) * ns * K * D, &failed);
    d->W = dup_array(s->W, sizeof(float) * K * D, &failed);
    d->v = dup_array(s->v, sizeof(float) * K, &failed);
    d->b = dup_array(s->b, sizeof(float) * K, &failed);
    if (failed) {
        hl_train_result_free(d);
        return hl_error_set(HL_ENOMEM, "checkpoint: cannot copy a run's state");
    }
    return HL_OK;
}

int hl_checkpoint_keep(hl_checkpoint *ck, int run, const hl_train_result *r)
{
    if (!ck || run < 0 || run >= ck->n)
        return hl_error_set(HL_EINVAL, "checkpoint: run %d: accepted range is 0..%d", run,
                            ck ? ck->n - 1 : -1);
    const hl_train_config *c = &ck->cfg[run];
    const size_t K = c->net.K, D = hl_train_D(c);
    hl_train_result copy = {0};
    run_state st = STATE_FRESH;
    if (r->n_meas > 0) {
        if (!r->steps || !r->t || !r->test_error || !r->test_loss || !r->ipr || !r->kurtosis ||
            !r->W || !r->v || !r->b || (r->n_snap > 0 && (!r->snapshots || !r->snap_index)))
            return hl_error_set(HL_EINVAL, "checkpoint: run %d's state lacks measurements "
                                "or weights", run);
        int rc = copy_state(&copy, r, K, D);
        if (rc)
            return rc;
        int finished = r->status == HL_EDIVERGED || r->stop_step == hl_train_steps(c);
        st = finished ? STATE_FINISHED : STATE_PARTIAL;
        copy.status = finished ? r->status : HL_EINTERRUPTED;
        if (!finished)
            snprintf(copy.message, sizeof copy.message, "checkpoint at step %lld of %lld",
                     r->stop_step, hl_train_steps(c));
    }
    pthread_mutex_lock(&h5_lock);
    hl_train_result_free(&ck->res[run]);
    ck->res[run] = copy;
    ck->state[run] = st;
    pthread_mutex_unlock(&h5_lock);
    return HL_OK;
}

/* ---- a checksum of each saved state ---------------------------------------------
 *
 * HDF5 notices a damaged structure, not damaged numbers: a flipped bit in the weights
 * would resume a different run. FNV-1a over everything a resume uses catches it. */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; p && i < n; i++)
        h = (h ^ b[i]) * 1099511628211u;
    return h;
}

static uint64_t state_checksum(const hl_train_result *r, size_t K, size_t D)
{
    const size_t m = (size_t)r->n_meas, ns = (size_t)r->n_snap;
    uint64_t h = 14695981039346656037u;
    long long head[4] = {r->n_meas, r->n_snap, r->stop_step, r->status};
    h = fnv(h, head, sizeof head);
    h = fnv(h, r->steps, sizeof(long long) * m);
    h = fnv(h, r->t, sizeof(double) * m);
    h = fnv(h, r->test_error, sizeof(double) * m);
    h = fnv(h, r->test_loss, sizeof(double) * m);
    h = fnv(h, r->ipr, sizeof(double) * m * K);
    h = fnv(h, r->kurtosis, sizeof(double) * m * K);
    h = fnv(h, r->snap_index, sizeof(int) * ns);
    h = fnv(h, r->snapshots, sizeof(float) * ns * K * D);
    h = fnv(h, r->W, sizeof(float) * K * D);
    h = fnv(h, r->v, sizeof(float) * K);
    return fnv(h, r->b, sizeof(float) * K);
}

static int write_body(hid_t f, const void *ctx)
{
    const hl_checkpoint *ck = ctx;
    int rc = hl_h5u_write_header(f, "train", ck->command_line) |
             hl_h5u_attr_write_ll(f, "checkpoint", 1) | hl_h5u_attr_write_ll(f, "complete", 0) |
             hl_h5u_attr_write_ll(f, "checkpoint_format", CHECKPOINT_FORMAT);
    for (int i = 0; i < ck->n && !rc; i++) {
        const hl_train_config *c = &ck->cfg[i];
        if (ck->state[i] != STATE_FRESH) {
            rc = hl_h5u_train_write_run(f, c, &ck->res[i]);
        } else {
            hid_t g = H5Gcreate2(f, hl_train_run_name(c), H5P_DEFAULT, H5P_DEFAULT,
                                 H5P_DEFAULT);
            rc = g < 0 || hl_h5u_train_write_config(g, c);
            if (g >= 0)
                H5Gclose(g);
        }
        hid_t g = rc ? -1 : H5Gopen2(f, hl_train_run_name(c), H5P_DEFAULT);
        rc = rc || g < 0 || hl_h5u_attr_write_str(g, "checkpoint_state", state_names[ck->state[i]]);
        if (!rc && ck->state[i] != STATE_FRESH) {
            uint64_t sum = state_checksum(&ck->res[i], c->net.K, hl_train_D(c));
            rc = hl_h5u_attr_write(g, "checkpoint_checksum", H5T_NATIVE_UINT64, &sum);
        }
        if (g >= 0)
            H5Gclose(g);
    }
    return rc ? -1 : 0;
}

int hl_checkpoint_write(hl_checkpoint *ck)
{
    pthread_mutex_lock(&h5_lock);
    int rc = hl_h5u_write_atomically(ck->path, "checkpoint", write_body, ck);
    pthread_mutex_unlock(&h5_lock);
    return rc;
}

int hl_checkpoint_save(void *ck, int run, const hl_train_config *c, const hl_train_result *r)
{
    int rc = hl_checkpoint_keep(ck, run, r);
    return rc ? rc : hl_checkpoint_write(ck);
}

/* ---- reading ------------------------------------------------------------------------ */

/* The snapshots of a run, which h5.c does not read: n_snap from snapshot_t's length,
 * and each one's measurement index found from its time. */
static int read_snapshots(hid_t g, hl_train_result *r, size_t K, size_t D)
{
    if (H5Lexists(g, "snapshot_t", H5P_DEFAULT) <= 0)
        return HL_OK;
    hid_t d = H5Dopen2(g, "snapshot_t", H5P_DEFAULT);
    hid_t s = d < 0 ? -1 : H5Dget_space(d);
    hssize_t ns = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    if (ns < 1 || ns > r->n_meas)
        return hl_error_set(HL_EFORMAT, "snapshot_t has %lld entries for %d measurements",
                            (long long)ns, r->n_meas);
    double *st = malloc(sizeof(double) * ns);
    r->n_snap = (int)ns;
    r->snap_index = malloc(sizeof(int) * ns);
    r->snapshots = malloc(sizeof(float) * ns * K * D);
    int rc = HL_OK;
    if (!st || !r->snap_index || !r->snapshots)
        rc = hl_error_set(HL_ENOMEM, "cannot allocate %lld snapshots", (long long)ns);
    else if (hl_h5u_dset_read(g, "snapshot_t", H5T_NATIVE_DOUBLE, st, ns) ||
             hl_h5u_dset_read(g, "snapshots", H5T_NATIVE_FLOAT, r->snapshots, ns * K * D))
        rc = hl_error_set(HL_EFORMAT, "snapshots are missing or are not %lld x K x D = "
                          "%lld x %zu x %zu", (long long)ns, (long long)ns, K, D);
    for (int j = 0, i = 0; !rc && j < ns; j++, i++) {
        while (i < r->n_meas && r->t[i] != st[j])
            i++;
        if (i == r->n_meas)
            rc = hl_error_set(HL_EFORMAT, "snapshot %d at t = %g is at no measurement time "
                              "(or out of order)", j, st[j]);
        else
            r->snap_index[j] = i;
    }
    free(st);
    return rc;
}

/* One run's entry: its configuration must be `want`, its state readable. */
static int read_entry(hid_t f, const hl_train_config *want, hl_train_result *r)
{
    const char *name = hl_train_run_name(want);
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return hl_error_set(HL_EINVAL, "it holds no run '%s': it was written for other "
                            "runs (other --inputs or --plus/--minus?)", name);
    hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
    if (g < 0)
        return hl_error_set(HL_EFORMAT, "cannot open run '%s'", name);
    hl_train_config have;
    char state[32], why[2 * HL_TRAIN_SPEC_MAX + 64];
    const size_t K = want->net.K, D = hl_train_D(want);
    int rc = hl_h5u_attr_read_str(g, "checkpoint_state", state, sizeof state)
                 ? hl_error_set(HL_EFORMAT, "run '%s' has no checkpoint_state", name)
                 : hl_h5u_train_read_config(g, &have);
    if (!rc && hl_h5u_train_config_diff(&have, want, why, sizeof why))
        rc = hl_error_set(HL_EINVAL, "it was written for another configuration: %s", why);
    if (!rc && strcmp(state, "fresh") != 0) {
        if (strcmp(state, "partial") != 0 && strcmp(state, "finished") != 0)
            rc = hl_error_set(HL_EFORMAT, "run '%s': unknown checkpoint_state '%s'", name, state);
        else if (!(rc = hl_h5u_train_read_run(g, &have, r)))
            rc = r->n_meas < 1 ? hl_error_set(HL_EFORMAT, "run '%s' (%s) holds no measurement",
                                              name, state)
                               : read_snapshots(g, r, K, D);
        if (!rc && strcmp(state, "partial") == 0 && r->status != HL_EINTERRUPTED)
            rc = hl_error_set(HL_EFORMAT, "run '%s' is partial but its status is not "
                              "'interrupted'", name);
        uint64_t sum = 0;
        if (!rc && (hl_h5u_attr_read(g, "checkpoint_checksum", H5T_NATIVE_UINT64, &sum) ||
                    sum != state_checksum(r, K, D)))
            rc = hl_error_set(HL_EFORMAT, "its numbers do not match their checksum (the file "
                              "is damaged)");
    }
    if (rc)
        hl_error_set(rc, "run '%s': %s", name, hl_error_message());
    H5Gclose(g);
    return rc;
}

static int read_file(hid_t f, const hl_train_config *cfg, int n, hl_train_result *res)
{
    char kind[32];
    long long mark = 0, format = 0;
    if (hl_h5u_attr_read_str(f, "kind", kind, sizeof kind) || strcmp(kind, "train") != 0 ||
        hl_h5u_attr_read(f, "checkpoint", H5T_NATIVE_LLONG, &mark) || mark != 1)
        return hl_error_set(HL_EFORMAT, "it is not a hoclab training checkpoint (a finished "
                            "result file, or another file?)");
    if (hl_h5u_attr_read(f, "checkpoint_format", H5T_NATIVE_LLONG, &format) ||
        format != CHECKPOINT_FORMAT)
        return hl_error_set(HL_EFORMAT, "checkpoint format %lld: this hoclab reads format %d",
                            format, CHECKPOINT_FORMAT);
    for (int i = 0; i < n; i++) {
        int rc = read_entry(f, &cfg[i], &res[i]);
        if (rc)
            return rc;
    }
    return HL_OK;
}

int hl_h5_read_checkpoint(const char *path, const hl_train_config *cfg, int n,
                          hl_train_result *res)
{
    memset(res, 0, sizeof *res * n);
    if (access(path, R_OK) != 0)
        return hl_error_set(HL_EIO, "cannot read checkpoint '%s': %s", path, strerror(errno));
    pthread_mutex_lock(&h5_lock);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int rc = HL_OK;
    hid_t f = -1;
    if (H5Fis_hdf5(path) <= 0)
        rc = hl_error_set(HL_EFORMAT, "checkpoint '%s' is not an HDF5 file (truncated or "
                          "corrupt?)", path);
    else if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        rc = hl_error_set(HL_EFORMAT, "cannot open checkpoint '%s' as HDF5 (truncated or "
                          "corrupt?)", path);
    else if ((rc = read_file(f, cfg, n, res)))
        hl_error_set(rc, "checkpoint '%s': %s", path, hl_error_message());
    if (f >= 0)
        H5Fclose(f);
    pthread_mutex_unlock(&h5_lock);
    if (rc)
        for (int i = 0; i < n; i++)
            hl_train_result_free(&res[i]);
    return rc;
}

void hl_checkpoint_path(const char *output, char *path, size_t size)
{
    size_t n = strlen(output);
    if (n > 3 && strcmp(output + n - 3, ".h5") == 0)
        n -= 3;
    snprintf(path, size, "%.*s.ckpt.h5", (int)n, output);
}
