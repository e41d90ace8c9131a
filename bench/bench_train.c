/* bench_train.c — hoclab's benchmarks, printed as one table by bench/run.
 *
 * Through the public API only: online-SGD steps/s at batch size 1 (sampling
 * included), mini-batch throughput against the machine's SGEMM peak, ensembles of
 * independent runs on 1 and 2 threads, and the cost of measuring at 200 log-spaced
 * times. The PyTorch numbers come from bench/torch_ref.py, run just before by
 * bench/run, as "key value" lines in a file; a missing key prints as n/a.
 *
 *   bench_train --configs    the batch-size-1 configurations, one per line, for torch_ref.py
 *   bench_train [REFS]       run every benchmark and print the table */
#define _POSIX_C_SOURCE 200809L
#include "bench_util.h"

#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"
#include "hoclab/train.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The configurations, on the authors' 1D data (xi = 0.1 L and 0.5 L, gain 3
 * in their convention) and the same fractions on the 20 x 20 torus. */
typedef struct {
    const char *key, *label;
    int dim, L, K;
} shape;

static const shape shapes[] = {
    {"1d_L400_K8", "1D L=400, K=8", 1, 400, 8},
    {"1d_L400_K100", "1D L=400, K=100", 1, 400, 100},
    {"2d_L20_K100", "2D 20x20, K=100", 2, 20, 100},
};
enum { N_SHAPES = sizeof shapes / sizeof shapes[0], N_ENSEMBLE = 4, REPS = 5 };
static const double XI_PLUS = 0.1, XI_MINUS = 0.5, GAIN = 3;

/* Threads for a single run: all cores (the spare ones draw its samples ahead). */
static int n_cores = 1;

/* For bench_util.c: the name in error messages and the table's column widths. */
const char bench_name[] = "bench_train";
const int bench_widths[BENCH_COLS] = {44, 21, 21, 7, 8, 4};

static const char *rate(double r)
{
    return r >= 1e4 ? bench_fmt("%.0fk", r / 1e3) : bench_fmt("%.3g", r);
}

/* ---- timed runs ------------------------------------------------------------------- */

static hl_train_config config_of(const shape *s, int batch)
{
    hl_train_config c = hl_train_defaults();
    c.dim = s->dim;
    c.L = s->L;
    c.net.K = s->K;
    c.batch = batch;
    c.xi_plus = XI_PLUS * s->L;
    c.xi_minus = XI_MINUS * s->L;
    c.gain = GAIN;
    c.convention = HL_GAIN_AUTHORS;
    c.n_test = 100; /* measurements at t = 0 and the end only: this times the steps */
    c.n_meas = 2;
    c.n_snap = 0;
    return c;
}

/* Seconds for n runs, one after another (threads 0) or by hl_train_runs on `threads`
 * threads; *steps gets the SGD steps done in all. */
static double time_runs(const hl_train_config *c, int n, int threads, long long *steps)
{
    hl_train_result *r = calloc(n, sizeof *r);
    int *status = calloc(n, sizeof *status), rc = HL_OK;
    if (!r || !status)
        bench_die("out of memory", 0);
    double t0 = bench_now();
    if (threads)
        rc = hl_train_runs(c, n, threads, r, status, NULL, NULL);
    else
        for (int i = 0; i < n && !rc; i++)
            if ((status[i] = hl_train_run(&c[i], &r[i], i, NULL, NULL)) != HL_EDIVERGED)
                rc = status[i];
    double t = bench_now() - t0;
    if (rc)
        bench_die("training run", rc);
    *steps = 0;
    for (int i = 0; i < n; i++) {
        if (status[i] == HL_EDIVERGED)
            fprintf(stderr, "bench_train: warning: run %d diverged (%s)\n", i, r[i].message);
        *steps += r[i].stop_step;
        hl_train_result_free(&r[i]);
    }
    free(r);
    free(status);
    return t;
}

/* c with its horizon set so that one run lasts about `seconds` (from a short probe). */
static hl_train_config sized(hl_train_config c, double seconds)
{
    const double D = (double)hl_train_D(&c);
    long long steps;
    c.time = 20000.0 / c.batch / D;
    double t = time_runs(&c, 1, 0, &steps);
    c.time = fmax(seconds * steps / t / D, 1.0);
    return c;
}

/* Raise best[i] to the steps/s of one run of c[i], for every i, REPS times over. The
 * best, because this shared machine has slow spells (up to 1.5x, lasting seconds): the
 * fastest of repetitions spread over the whole section is the least disturbed. */
static void best_rates(const hl_train_config *c, int n, double *best)
{
    for (int i = 0; i < n; i++)
        best[i] = 0;
    for (int rep = 0; rep < REPS; rep++)
        for (int i = 0; i < n; i++) {
            long long steps;
            double t = time_runs(&c[i], 1, n_cores, &steps);
            best[i] = fmax(best[i], steps / t);
        }
}

/* ---- the benchmarks --------------------------------------------------------------- */

/* Where a step goes: per_s[0] samples/s drawing batches alone, per_s[1] samples/s of
 * SGD steps alone on batches drawn beforehand (N samples, cycled). */
static void breakdown(const shape *s, int bs, double seconds, double per_s[2])
{
    enum { N = 4096 };
    hl_train_config c = config_of(s, bs);
    hl_nlgp_params pp = {.dim = s->dim, .L = s->L, .xi = c.xi_plus, .p = c.p, .gain = GAIN,
                          .convention = HL_GAIN_AUTHORS},
                   pm = pp;
    pm.xi = c.xi_minus;
    hl_task *task = hl_task_alloc(hl_nlgp_alloc(&pp), hl_nlgp_alloc(&pm));
    hl_net_config nc = c.net;
    nc.D = (int)hl_train_D(&c);
    nc.max_batch = bs;
    hl_net *net = hl_net_alloc(&nc);
    gsl_rng *rng = hl_rng_alloc(1, HL_STREAM_USER);
    float *X = malloc(sizeof(float) * N * nc.D), *y = malloc(sizeof(float) * N);
    if (!task || !net || !rng || !X || !y)
        bench_die("breakdown set-up", HL_ENOMEM);
    hl_net_init(net, rng);
    per_s[0] = per_s[1] = 0; /* the best of REPS slices */
    for (int rep = 0; rep < REPS; rep++)
        for (int part = 0; part < 2; part++) {
            double t0 = bench_now(), t;
            long long n = 0;
            do {
                for (int i = 0; i + bs <= N; i += bs) {
                    float *Xi = X + (size_t)i * nc.D, *yi = y + i;
                    if (part == 0)
                        hl_task_sample(task, bs, Xi, yi, rng);
                    else
                        hl_net_step(net, Xi, yi, bs);
                }
                n += N / bs * bs;
            } while ((t = bench_now() - t0) < seconds / REPS);
            per_s[part] = fmax(per_s[part], n / t);
        }
    hl_task_free(task);
    hl_net_free(net);
    hl_rng_free(rng);
    free(X);
    free(y);
}

/* 1. Batch size 1 against the authors' loop and the best-effort PyTorch version. */
static double bench_online(void)
{
    bench_section("1. online SGD, bs=1, steps/s");
    hl_train_config c[N_SHAPES];
    double best[N_SHAPES];
    for (int i = 0; i < N_SHAPES; i++)
        c[i] = sized(config_of(&shapes[i], 1), 0.6);
    best_rates(c, N_SHAPES, best);
    for (int i = 0; i < N_SHAPES; i++) {
        const shape *s = &shapes[i];
        const char *cell, *met;
        double r = best[i], a = bench_ref("authors", s->key), b = bench_ref("best", s->key);
        bench_verdict(r / a, "%.0fx", i == 0 ? 1000 : 0, BENCH_HIGHER, &cell, &met);
        bench_row(bench_fmt("%s vs authors' loop", s->label), rate(r),
                  isnan(a) ? "n/a" : bench_fmt("%s (PyTorch)", rate(a)), cell,
                  i == 0 ? ">= 1000x" : "", met);
        bench_verdict(r / b, "%.1fx", i == 0 ? 20 : 0, BENCH_HIGHER, &cell, &met);
        bench_row(bench_fmt("%s vs best-effort PyTorch", s->label), rate(r),
                  isnan(b) ? "n/a" : bench_fmt("%s (PyTorch)", rate(b)), cell,
                  i == 0 ? ">= 20x" : "", met);
    }
    double per_s[2];
    breakdown(&shapes[0], 1, 1.5, per_s);
    bench_row(bench_fmt("%s: sampling only", shapes[0].label),
              bench_fmt("%s samples/s", rate(per_s[0])), "", "", "", "");
    bench_row(bench_fmt("%s: SGD step only", shapes[0].label),
              bench_fmt("%s steps/s", rate(per_s[1])), "", "", "", "");
    return best[0];
}

/* GFLOP/s of cblas_sgemm on n x n matrices, 2 n^3 flops each: the fastest call of
 * those made in `target` seconds. */
static double sgemm_gflops(int threads, double target)
{
    const int n = 2048;
    float *A = malloc(sizeof(float) * n * n), *B = malloc(sizeof(float) * n * n),
          *C = malloc(sizeof(float) * n * n);
    if (!A || !B || !C)
        bench_die("SGEMM matrices", HL_ENOMEM);
    for (size_t i = 0; i < (size_t)n * n; i++) {
        A[i] = (float)(i % 7) / 7;
        B[i] = (float)(i % 5) / 5;
    }
    openblas_set_num_threads(threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, B, n, 0, C, n);
    double start = bench_now(), best = INFINITY;
    while (bench_now() - start < target) {
        double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, B, n, 0, C, n);
        best = fmin(best, bench_now() - t0);
    }
    free(A);
    free(B);
    free(C);
    return 2.0 * n * n * n / best / 1e9;
}

/* 2. Mini-batches: samples/s, and the network's flops (forward K x D product and weight
 * update, 4 K D per sample) as a fraction of the SGEMM peak on all cores. */
static void bench_minibatch(int cores)
{
    bench_section("2. mini-batch training, samples/s");
    double peak1 = sgemm_gflops(1, 1.5), peak = sgemm_gflops(cores, 1.5);
    bench_row("SGEMM 2048^3 peak, 1 thread", bench_fmt("%.1f GFLOP/s", peak1), "", "", "", "");
    bench_row(bench_fmt("SGEMM 2048^3 peak, %d threads", cores), bench_fmt("%.1f GFLOP/s", peak),
              "", "", "", "");
    openblas_set_num_threads(cores); /* a single run, as `hoclab train` starts it */
    enum { N = 2 * N_SHAPES };
    hl_train_config c[N];
    double best[N];
    for (int i = 0; i < N; i++)
        c[i] = sized(config_of(&shapes[i / 2], i % 2 ? 256 : 32), 0.5);
    best_rates(c, N, best);
    for (int i = 0; i < N; i++) {
        const shape *s = &shapes[i / 2];
        int bs = c[i].batch;
        double sps = best[i] * bs, gflops = sps * 4.0 * s->K * hl_train_D(&c[i]) / 1e9;
        const char *cell, *met;
        bench_verdict(100 * gflops / peak, "%.1f%%", bs == 256 ? 60 : 0, BENCH_HIGHER, &cell,
                      &met);
        bench_row(bench_fmt("%s, bs=%d", s->label, bs),
                  bench_fmt("%s (%.2f GF/s)", rate(sps), gflops),
                  bench_fmt("SGEMM peak %.1f GF/s", peak), cell, bs == 256 ? ">= 60%" : "", met);
    }
    /* The same flops without sampling: what the network part alone reaches. */
    const shape *s = &shapes[1];
    double per_s[2];
    breakdown(s, 256, 1.5, per_s);
    double gflops = per_s[1] * 4.0 * s->K * hl_train_D(&c[3]) / 1e9;
    bench_row(bench_fmt("%s, bs=256: sampling only", s->label),
              bench_fmt("%s samples/s", rate(per_s[0])), "", "", "", "");
    bench_row(bench_fmt("%s, bs=256: SGD step only", s->label),
              bench_fmt("%s (%.2f GF/s)", rate(per_s[1]), gflops),
              bench_fmt("SGEMM peak %.1f GF/s", peak), bench_fmt("%.1f%%", 100 * gflops / peak),
              "", "");
}

/* 3. N_ENSEMBLE independent runs (different seeds) of the first shape, about 0.3 s
 * each: hl_train_runs on 1 and 2 threads, and hl_train_run calls in a row. The
 * three are interleaved REPS times and the best of each kept (see best_rates). */
static void bench_ensemble(double rate0)
{
    bench_section(bench_fmt("3. ensembles: %d runs of %s, bs=1", N_ENSEMBLE, shapes[0].label));
    hl_train_config c[N_ENSEMBLE];
    for (int i = 0; i < N_ENSEMBLE; i++) {
        c[i] = config_of(&shapes[0], 1);
        c[i].seed = i + 1;
        c[i].time = rate0 * 0.3 / hl_train_D(&c[i]);
    }
    double best[3] = {0}; /* steps/s: in a row, 1 thread, 2 threads */
    for (int rep = 0; rep < REPS; rep++)
        for (int threads = 0; threads <= 2; threads++) {
            long long steps;
            double t = time_runs(c, N_ENSEMBLE, threads, &steps);
            best[threads] = fmax(best[threads], steps / t);
        }
    const char *cell, *met;
    bench_verdict(best[2] / best[1], "%.2fx", 1.8, BENCH_HIGHER, &cell, &met);
    bench_row("hl_train_runs, 2 threads vs 1 thread", bench_fmt("%s steps/s", rate(best[2])),
        bench_fmt("%s steps/s", rate(best[1])), cell, ">= 1.8x", met);
    bench_verdict(best[2] / best[0], "%.2fx", 0, BENCH_HIGHER, &cell, &met);
    bench_row("2 threads vs hl_train_run in a row", bench_fmt("%s steps/s", rate(best[2])),
        bench_fmt("%s steps/s", rate(best[0])), cell, "", met);
}

/* 4. One run of the default experiment (the NLGP one, on one thread as hl_train_runs
 * runs it) measured at 200 times against the same run measured at t = 0 and the end
 * only; the two interleaved REPS times, the best of each kept. */
static void bench_measure(void)
{
    bench_section("4. measurement overhead, default run");
    hl_train_config c = hl_train_defaults();
    double best[2] = {INFINITY, INFINITY};
    for (int rep = 0; rep < REPS; rep++)
        for (int i = 0; i < 2; i++) {
            long long steps;
            c.n_meas = i ? 200 : 2;
            best[i] = fmin(best[i], time_runs(&c, 1, 1, &steps));
        }
    const char *cell, *met;
    bench_verdict(100 * (best[1] / best[0] - 1), "%+.1f%%", 10, BENCH_LOWER, &cell, &met);
    bench_row(bench_fmt("n_meas=200 vs 2 (n_test %zu)", c.n_test), bench_fmt("%.2f s", best[1]),
        bench_fmt("%.2f s", best[0]), cell, "< 10%", met);
}

/* Least-squares slope of log y against log x. */
static double loglog_slope(const double *x, const double *y, int n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        double a = log(x[i]), b = log(y[i]);
        sx += a, sy += b, sxx += a * a, sxy += a * b;
    }
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/* One row of section 5: us/step at bs = 1 against n <= 5 values v of L (K = 8) or of
 * K (L = 400), and the exponent of a power-law fit. */
static void scaling_row(const char *title, const char *var, const int *v, int n, int vary_L)
{
    double x[5], y[5];
    char line[256];
    int used = 0;
    for (int i = 0; i < n; i++) {
        shape s = {"", "", 1, vary_L ? v[i] : 400, vary_L ? 8 : v[i]};
        hl_train_config c = sized(config_of(&s, 1), 0.5);
        double best;
        best_rates(&c, 1, &best);
        x[i] = v[i];
        y[i] = 1e6 / best;
        used += snprintf(line + used, sizeof line - used, "%s%d: %.2f", i ? ", " : "", v[i],
                         y[i]);
    }
    bench_row(title, line, "", bench_fmt("%s^%.2f", var, loglog_slope(x, y, n)), "", "");
}

/* 5. How a run's cost grows: time per step against L (K = 8) and K (L = 400) at
 * bs = 1, and run time against the number of steps; the exponents of power-law fits. */
static void bench_scaling(void)
{
    bench_section("5. scaling of the cost, bs=1, one run on all cores");
    const int Ls[] = {100, 200, 400, 800, 1600}, Ks[] = {8, 32, 128, 512};
    scaling_row("us/step against L (K = 8)", "L", Ls, 5, 1);
    scaling_row("us/step against K (L = 400)", "K", Ks, 4, 0);
    double x[3], y[3];
    char line[256];
    int used = 0;
    /* Steps: the default experiment (measurements included) at three horizons. */
    hl_train_config c = hl_train_defaults();
    const double times[] = {2500, 10000, 40000};
    for (int i = 0; i < 3; i++) {
        long long steps;
        c.time = times[i];
        double t = INFINITY;
        for (int rep = 0; rep < 3; rep++)
            t = fmin(t, time_runs(&c, 1, n_cores, &steps));
        x[i] = (double)steps;
        y[i] = t;
        used += snprintf(line + used, sizeof line - used, "%s%.0e: %.2f s", i ? ", " : "",
                         x[i], t);
    }
    bench_row("default run: seconds against steps", line, "",
              bench_fmt("S^%.2f", loglog_slope(x, y, 3)), "", "");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--configs") == 0) {
        for (int i = 0; i < N_SHAPES; i++)
            printf("%s %d %d %d %g %g %g\n", shapes[i].key, shapes[i].dim, shapes[i].L,
                   shapes[i].K, XI_PLUS * shapes[i].L, XI_MINUS * shapes[i].L, GAIN);
        return 0;
    }
    bench_refs_load(argc > 1 ? argv[1] : NULL);
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    n_cores = cores;
    printf("hoclab: 2layer erf network, trainable biases, lr 0.05, NLGP inputs (xi = %g L, "
           "%g L; gain %g, authors' convention); times include sampling.\n",
           XI_PLUS, XI_MINUS, GAIN);
    bench_row("configuration", "hoclab", "reference", "ratio", "goal", "met?");
    bench_rule();
    double rate0 = bench_online();
    fflush(stdout);
    bench_minibatch(cores);
    fflush(stdout);
    bench_ensemble(rate0);
    fflush(stdout);
    bench_measure();
    fflush(stdout);
    bench_scaling();
    printf("Each hoclab number is the best of %d interleaved timings (the machine has slow spells); "
           "mini-batch GF/s count the network's 4 K D flops per sample.\n", REPS);
    return 0;
}
