/* sweep.c — many training runs, each saved the moment it finishes, resumable.
 *
 * A sweep is a list of trainer configurations, one result file each. Points whose
 * file already exists (with the same configuration) are read back instead of being
 * trained again, so an interrupted sweep picks up where it stopped; the others are
 * trained `threads` at a time through hl_train_runs (bit-identical whatever the
 * thread count) and each batch is written before the next starts. */
#include "hoclab/io.h"
#include "hoclab/error.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The fields that make two points the same experiment. */
static int same_config(const hl_train_config *a, const hl_train_config *b)
{
    return strcmp(a->plus_model, b->plus_model) == 0 &&
           strcmp(a->minus_model, b->minus_model) == 0 && a->input == b->input &&
           a->dim == b->dim && a->L == b->L && a->p == b->p && a->xi_plus == b->xi_plus &&
           a->xi_minus == b->xi_minus && a->gain == b->gain &&
           a->convention == b->convention && a->net.K == b->net.K &&
           a->net.mode == b->net.mode && a->net.act == b->net.act &&
           a->net.bias == b->net.bias && a->net.lr == b->net.lr && a->batch == b->batch &&
           a->time == b->time && a->seed == b->seed && a->n_test == b->n_test;
}

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
    if (n != 1 || !same_config(&rc_cfg[0], c)) {
        hl_h5_train_free(rc_cfg, rc_res, n);
        return hl_error_set(HL_EINVAL, "sweep: '%s' holds another experiment (a different "
                            "configuration): remove it or choose another output folder",
                            path);
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
