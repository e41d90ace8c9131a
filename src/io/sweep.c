/* sweep.c — many training runs, each saved the moment it finishes, resumable.
 *
 * A sweep is a list of trainer configurations, one result file each. Points whose
 * file already exists (with the same configuration) are read back instead of being
 * trained again, so an interrupted sweep picks up where it stopped; the others are
 * trained `threads` at a time through hl_train_runs (bit-identical whatever the
 * thread count) and each batch is written before the next starts. */
#include "hoclab/io.h"
#include "hoclab/error.h"
#include "hoclab/experiment.h"
#include "h5_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The summary of a finished run. */
static void summarise(const hl_train_config *c, const hl_train_result *r, hl_sweep_point *p)
{
    int K = c->net.K, last = r->n_meas - 1;
    p->status = r->status;
    p->mean_ipr = p->max_ipr = p->test_error = p->mean_kurtosis = NAN;
    if (last < 0)
        return;
    double s = 0, m = 0, k = 0;
    for (int u = 0; u < K; u++) {
        double v = r->ipr[(size_t)last * K + u];
        s += v;
        m = fmax(m, v);
        k += r->kurtosis[(size_t)last * K + u];
    }
    p->mean_ipr = s / K;
    p->max_ipr = m;
    p->mean_kurtosis = k / K;
    p->test_error = r->test_error[last];
}

/* Read point i back if its file exists: 1 if resumed, 0 if not there, < 0 on error. */
static int resume(const char *path, const hl_train_config *c, hl_sweep_point *p)
{
    if (access(path, F_OK) != 0)
        return 0;
    hl_train_config *rc_cfg;
    hl_train_result *rc_res;
    int n, rc = hl_h5_read_train(path, &rc_cfg, &rc_res, &n);
    if (rc)
        return hl_error_set(HL_EFORMAT, "sweep: '%s' exists but cannot be read (%s): remove "
                            "it to train that point again", path, hl_error_message());
    char why[2 * HL_TRAIN_SPEC_MAX + 64] = "it holds several runs";
    if (n != 1 || hl_h5u_train_config_diff(&rc_cfg[0], c, why, sizeof why)) {
        hl_h5_train_free(rc_cfg, rc_res, n);
        return hl_error_set(HL_EINVAL, "sweep: '%s' holds another experiment (%s): remove it "
                            "or choose another output folder", path, why);
    }
    summarise(&rc_cfg[0], &rc_res[0], p);
    hl_h5_train_free(rc_cfg, rc_res, n);
    return 1;
}

int hl_sweep_run(const hl_train_config *cfg, const char *const *paths, int n, int threads,
                 const char *command_line, hl_sweep_point *out, hl_sweep_progress_fn progress,
                 void *user)
{
    if (!cfg || !paths || !out || n < 1)
        return hl_error_set(HL_EINVAL, "sweep: configurations, paths and results are needed "
                            "(n = %d)", n);
    for (int i = 0; i < n; i++) {
        int rc = hl_train_validate(&cfg[i]);
        if (rc)
            return rc;
        if ((rc = hl_io_check_writable(paths[i])))
            return rc;
    }
    if (threads < 1)
        threads = 1;
    int *pending = malloc(sizeof(int) * n), n_pending = 0, done = 0;
    hl_train_config *batch_cfg = malloc(sizeof(hl_train_config) * threads);
    hl_train_result *res = malloc(sizeof(hl_train_result) * threads);
    int *status = malloc(sizeof(int) * threads);
    if (!pending || !batch_cfg || !res || !status) {
        free(pending), free(batch_cfg), free(res), free(status);
        return hl_error_set(HL_ENOMEM, "sweep: out of memory (%d points)", n);
    }
    int rc = HL_OK;
    for (int i = 0; i < n && !rc; i++) {
        int r = resume(paths[i], &cfg[i], &out[i]);
        if (r < 0)
            rc = r;
        else if (r)
            out[i].resumed = 1, done++;
        else
            out[i].resumed = 0, pending[n_pending++] = i;
    }
    if (!rc && progress)
        progress(user, done, n);
    for (int b = 0; b < n_pending && !rc; b += threads) {
        int m = n_pending - b < threads ? n_pending - b : threads;
        for (int j = 0; j < m; j++)
            batch_cfg[j] = cfg[pending[b + j]];
        rc = hl_train_runs(batch_cfg, m, threads, res, status, NULL, NULL);
        if (rc)
            break;
        for (int j = 0; j < m; j++) {
            int i = pending[b + j];
            summarise(&batch_cfg[j], &res[j], &out[i]);
            /* a diverged point is written too: what it measured is kept */
            if (!rc)
                rc = hl_h5_write_train(paths[i], &batch_cfg[j], &res[j], 1, command_line);
            hl_train_result_free(&res[j]);
        }
        done += m;
        if (!rc && progress)
            progress(user, done, n);
    }
    free(pending), free(batch_cfg), free(res), free(status);
    return rc;
}

/* Mean and standard error of the mean of n values (NaN ones left out). */
static void mean_se(const hl_sweep_point *p, int n, size_t offset, double *mean, double *se)
{
    double s = 0, s2 = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        double v = *(const double *)((const char *)&p[i] + offset);
        if (isfinite(v))
            s += v, s2 += v * v, m++;
    }
    *mean = m ? s / m : NAN;
    *se = m > 1 ? sqrt(fmax(s2 / m - *mean * *mean, 0) / (m - 1)) : NAN;
}

int hl_sweep_average(const hl_sweep_point *pts, int n_groups, int n_seeds,
                     hl_sweep_stats *out)
{
    if (!pts || !out || n_groups < 1 || n_seeds < 1)
        return hl_error_set(HL_EINVAL, "sweep average: points and output are needed "
                            "(n_groups = %d, n_seeds = %d)", n_groups, n_seeds);
    for (int g = 0; g < n_groups; g++) {
        const hl_sweep_point *p = pts + (size_t)g * n_seeds;
        hl_sweep_stats *o = &out[g];
        mean_se(p, n_seeds, offsetof(hl_sweep_point, mean_ipr), &o->mean_ipr, &o->mean_ipr_se);
        mean_se(p, n_seeds, offsetof(hl_sweep_point, test_error), &o->test_error,
                &o->test_error_se);
        mean_se(p, n_seeds, offsetof(hl_sweep_point, mean_kurtosis), &o->mean_kurtosis,
                &o->mean_kurtosis_se);
        o->n_diverged = 0;
        for (int i = 0; i < n_seeds; i++)
            o->n_diverged += p[i].status != HL_OK;
    }
    return HL_OK;
}

/* ---- sweeps of an experiment file ------------------------------------------------- */

/* mkdir -p of the folder that holds `path`. */
static int make_parent(const char *path)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return HL_OK;
    *slash = 0;
    for (char *s = dir + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(dir, 0777) && errno != EEXIST)
                return hl_error_set(HL_EIO, "cannot create folder '%s': %s", dir, strerror(errno));
            *s = '/';
        }
    if (mkdir(dir, 0777) && errno != EEXIST)
        return hl_error_set(HL_EIO, "cannot create folder '%s': %s", dir, strerror(errno));
    return HL_OK;
}

/* Point i's configuration and path. */
static int point_of(const hl_experiment *e, long i, hl_train_config *c, char *path, size_t size)
{
    int rc = hl_experiment_point(e, i, c, NULL, 0);
    return rc ? rc : hl_experiment_point_path(e, i, path, size);
}

int hl_sweep_point_done(const hl_experiment *e, long i)
{
    hl_train_config c;
    hl_sweep_point p;
    char path[1100];
    int rc = point_of(e, i, &c, path, sizeof path);
    return rc ? rc : resume(path, &c, &p);
}

int hl_sweep_point_run(const hl_experiment *e, long i, int threads, const char *command_line,
                       const hl_sweep_control *ctl)
{
    hl_train_config c;
    char path[1100], ckpt[1100];
    int rc = point_of(e, i, &c, path, sizeof path);
    if (rc || (rc = make_parent(path)))
        return rc;
    hl_checkpoint_path(path, ckpt, sizeof ckpt);
    /* A point stopped before goes on from its checkpoint. */
    hl_train_result saved = {0}, res = {0};
    int resumed = access(ckpt, F_OK) == 0, status;
    if (resumed && (rc = hl_h5_read_checkpoint(ckpt, &c, 1, &saved)))
        return hl_error_set(rc, "%s (remove it to run the point afresh)", hl_error_message());
    hl_checkpoint *ck = NULL;
    int saving = ctl && (ctl->checkpoint_every > 0 || ctl->stop);
    if (saving && !(ck = hl_checkpoint_new(ckpt, &c, 1, command_line))) {
        hl_train_result_free(&saved);
        return HL_ENOMEM;
    }
    hl_train_hooks h = {.user = ck, .stop = ctl ? ctl->stop : NULL,
                        .resume = resumed ? &saved : NULL};
    if (ck && ctl->checkpoint_every > 0) {
        h.checkpoint = hl_checkpoint_save;
        h.checkpoint_every = ctl->checkpoint_every;
    }
    rc = hl_train_runs_hooked(&c, 1, threads, &res, &status, &h);
    hl_train_result_free(&saved);
    if (rc == HL_EINTERRUPTED) {
        int w = hl_checkpoint_keep(ck, 0, &res);
        if (!w)
            w = hl_checkpoint_write(ck);
        rc = w ? w : hl_error_set(HL_EINTERRUPTED, "point %s stopped at step %lld of %lld; "
                                  "its state is in %s", path, res.stop_step,
                                  hl_train_steps(&c), ckpt);
    } else if (!rc) {
        rc = hl_h5_write_train(path, &c, &res, 1, command_line);
        if (!rc && access(ckpt, F_OK) == 0)
            unlink(ckpt);
    }
    hl_train_result_free(&res);
    hl_checkpoint_free(ck);
    return rc;
}

int hl_sweep_run_all(const hl_experiment *e, int threads, const char *command_line,
                     hl_sweep_progress_fn progress, void *user)
{
    long n = hl_experiment_n_points(e);
    if (n > INT32_MAX / 2)
        return hl_error_set(HL_EINVAL, "sweep '%s': %ld points is too many", e->name, n);
    hl_train_config *cfg = malloc(sizeof *cfg * n);
    char **paths = calloc(n, sizeof *paths);
    hl_sweep_point *out = malloc(sizeof *out * n);
    int rc = cfg && paths && out ? HL_OK : hl_error_set(HL_ENOMEM, "sweep: out of memory");
    for (long i = 0; i < n && !rc; i++) {
        char path[1100];
        if (!(rc = point_of(e, i, &cfg[i], path, sizeof path)) &&
            !(paths[i] = strdup(path)))
            rc = hl_error_set(HL_ENOMEM, "sweep: out of memory");
    }
    if (!rc)
        rc = make_parent(paths[0]);
    if (!rc) {
#ifdef _OPENMP
        if (threads <= 0)
            threads = omp_get_num_procs();
#endif
        rc = hl_sweep_run(cfg, (const char *const *)paths, (int)n, threads, command_line, out,
                          progress, user);
    }
    for (long i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths), free(cfg), free(out);
    return rc;
}

/* The index's per-point arrays, filled from the point files. */
typedef struct {
    double *err, *ipr, *max_ipr, *kurt, *status, *seed, *coord;
    char *files;
} index_data;

static void index_free(index_data *d)
{
    free(d->err), free(d->ipr), free(d->max_ipr), free(d->kurt), free(d->status);
    free(d->seed), free(d->coord), free(d->files);
}

static int index_fill(const hl_experiment *e, index_data *d, long n, hl_sweep_point *points,
                      long *missing)
{
    *missing = 0;
    size_t used = 0;
    for (long i = 0; i < n; i++) {
        hl_train_config c;
        hl_sweep_point p = {0};
        char path[1100];
        int rc = point_of(e, i, &c, path, sizeof path);
        int r = rc ? rc : resume(path, &c, &p);
        if (r < 0)
            return r;
        if (!r) {
            p.status = -1;
            p.test_error = p.mean_ipr = p.max_ipr = p.mean_kurtosis = NAN;
            ++*missing;
        }
        d->err[i] = p.test_error, d->ipr[i] = p.mean_ipr, d->max_ipr[i] = p.max_ipr;
        d->kurt[i] = p.mean_kurtosis, d->status[i] = p.status;
        d->seed[i] = (double)c.seed;
        if (points)
            points[i] = p;
        const char *file = strrchr(path, '/') + 1;
        used += sprintf(d->files + used, "%s%s", i ? "\n" : "", file);
        long rest = i / e->n_seeds;
        for (int a = e->n_axes - 1; a >= 0; a--) {
            d->coord[(size_t)a * n + i] = (double)(rest % e->axes[a].n);
            rest /= e->axes[a].n;
        }
    }
    return HL_OK;
}

int hl_sweep_index_write(const hl_experiment *e, const char *command_line,
                         hl_sweep_point *points, long *missing)
{
    long n = hl_experiment_n_points(e), miss = 0;
    int A = e->n_axes;
    index_data d = {
        malloc(sizeof(double) * n), malloc(sizeof(double) * n), malloc(sizeof(double) * n),
        malloc(sizeof(double) * n), malloc(sizeof(double) * n), malloc(sizeof(double) * n),
        malloc(sizeof(double) * n * (A ? A : 1)), malloc((size_t)n * 256 + 1)};
    if (!d.err || !d.ipr || !d.max_ipr || !d.kurt || !d.status || !d.seed || !d.coord || !d.files) {
        index_free(&d);
        return hl_error_set(HL_ENOMEM, "sweep index: out of memory (%ld points)", n);
    }
    d.files[0] = 0;
    int rc = index_fill(e, &d, n, points, &miss);
    /* Arrays: per point, then per axis its values and each point's coordinate. */
    enum { PER_POINT = 6 };
    hl_h5_array arrays[PER_POINT + 2 * HL_EXP_MAX_AXES];
    hl_h5_attr attrs[4 + HL_EXP_MAX_AXES];
    char names[2 * HL_EXP_MAX_AXES][64], anames[HL_EXP_MAX_AXES][64];
    char *labels[HL_EXP_MAX_AXES] = {0};
    double *values[HL_EXP_MAX_AXES] = {0};
    const char *pn[PER_POINT] = {"points/test_error", "points/mean_ipr", "points/max_ipr",
                                 "points/mean_kurtosis", "points/status", "points/seed"};
    double *pd[PER_POINT] = {d.err, d.ipr, d.max_ipr, d.kurt, d.status, d.seed};
    int na = 0, nt = 0;
    for (int k = 0; k < PER_POINT; k++)
        arrays[na++] = (hl_h5_array){pn[k], 1, {(size_t)n}, pd[k]};
    char info[64];
    snprintf(info, sizeof info, "%ld", n);
    attrs[nt++] = (hl_h5_attr){"name", e->name};
    attrs[nt++] = (hl_h5_attr){"experiment", e->text};
    attrs[nt++] = (hl_h5_attr){"points/files", d.files};
    attrs[nt++] = (hl_h5_attr){"points/missing", NULL, (double)miss};
    for (int a = 0; a < A && !rc; a++) {
        const hl_exp_axis *ax = &e->axes[a];
        int pair = strcmp(ax->key, "xis") == 0;
        values[a] = malloc(sizeof(double) * ax->n * 2);
        labels[a] = malloc((size_t)ax->n * 520 + 1);
        if (!values[a] || !labels[a]) {
            rc = hl_error_set(HL_ENOMEM, "sweep index: out of memory");
            break;
        }
        size_t used = 0;
        labels[a][0] = 0;
        for (int j = 0; j < ax->n; j++) {
            values[a][2 * j] = ax->values[j].num[0];
            values[a][2 * j + 1] = ax->values[j].num[1];
            if (ax->values[j].str)
                used += sprintf(labels[a] + used, "%s%s", j ? "\n" : "", ax->values[j].str);
        }
        if (!pair) /* one number a value: compact the pairs */
            for (int j = 0; j < ax->n; j++)
                values[a][j] = values[a][2 * j];
        snprintf(names[2 * a], 64, "axes/%s", ax->key);
        snprintf(names[2 * a + 1], 64, "points/%s", ax->key);
        arrays[na++] = (hl_h5_array){names[2 * a], pair ? 2 : 1, {(size_t)ax->n, 2}, values[a]};
        arrays[na++] = (hl_h5_array){names[2 * a + 1], 1, {(size_t)n}, d.coord + (size_t)a * n};
        if (labels[a][0]) {
            snprintf(anames[a], 64, "axes/%s_labels", ax->key);
            attrs[nt++] = (hl_h5_attr){anames[a], labels[a]};
        }
    }
    char path[1100];
    if (!rc && !(rc = hl_sweep_index_path(e, path, sizeof path))) {
        rc = make_parent(path);
        if (!rc)
            rc = hl_h5_write_arrays(path, "sweep-index", command_line, attrs, nt, arrays, na);
    }
    for (int a = 0; a < A; a++)
        free(values[a]), free(labels[a]);
    index_free(&d);
    if (missing)
        *missing = miss;
    return rc;
}

int hl_sweep_index_path(const hl_experiment *e, char *path, size_t size)
{
    if ((size_t)snprintf(path, size, "%s/index.h5", e->output) >= size)
        return hl_error_set(HL_EINVAL, "sweep '%s': the index path is longer than %zu "
                            "characters", e->name, size - 1);
    return HL_OK;
}
