/* sweep.c — `hoclab sweep EXPERIMENT_FILE`: run an experiment file's grid, point by
 * point, on a pool of threads and, under `mpirun`, across MPI ranks.
 *
 * Points are handed out one at a time from a queue (dearest first), so a rank or a
 * thread that finishes early takes the next point: grid points differ in cost by
 * orders of magnitude. Rank 0 holds the queue; its main thread answers the other
 * ranks' requests while its own worker threads take points directly. On the other
 * ranks the main thread fetches points for their worker threads, so only main threads
 * call MPI (MPI_THREAD_FUNNELED). Every point writes its own file (the library does the
 * work); the output folder must be shared by all ranks. */
#include "commands.h"

#include "hoclab/error.h"
#include "hoclab/experiment.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HOCLAB_WITH_MPI
#include <mpi.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

enum { MSG_SIZE = 512, TAG_REPORT = 1, TAG_WORK = 2 };

/* A worker's state on a rank other than 0: working, asking for a point, or being
 * served by the main thread. */
enum { WAIT_NONE = 0, WAIT_ASKING = 1, WAIT_FETCHING = 2 };

/* A finished point as a worker reports it: which, its status and message. */
typedef struct {
    long point;   /* -1: none yet (a worker's first request) */
    int status;
    int stopping; /* the sending rank was asked to stop (a signal) */
    char message[MSG_SIZE];
} report;

typedef struct pool pool;

typedef struct {
    pool *pl;
    int id;
} worker_arg;

struct pool {
    const hl_experiment *e;
    const char *command_line;
    int threads;               /* sampling threads per point */
    hl_sweep_control ctl;      /* checkpoints of running points, and the stop flag */
    int rank, size;            /* MPI rank and size (0, 1 without MPI) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* rank 0: the queue */
    long *queue, n_queue, next;
    /* the other ranks: each worker's pending request and its answer */
    int *waiting;              /* per worker: WAIT_NONE, WAIT_ASKING or WAIT_FETCHING */
    long *answer;              /* per worker: the point handed over (-1: stop) */
    report *last;              /* per worker: its last report */
    int n_workers, n_active;
    /* results, on rank 0 */
    long done, n_failed, n_stopped, total;
    long *per_rank;            /* points run by each rank */
    char first_failure[MSG_SIZE + 64];
    double start;
    int show_progress;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Rank 0, lock held: a finished point's report. */
static void record(pool *pl, const report *r, int from)
{
    if (r->point < 0)
        return;
    if (r->status == HL_EINTERRUPTED) {
        pl->n_stopped++;
        return;
    }
    pl->done++;
    pl->per_rank[from]++;
    if (r->status && r->status != HL_EDIVERGED && pl->n_failed++ == 0)
        snprintf(pl->first_failure, sizeof pl->first_failure, "point %ld: %s", r->point,
                 r->message);
    if (pl->show_progress) {
        double t = now() - pl->start, eta = t / pl->done * (pl->total - pl->done);
        fprintf(stderr, "\r%ld/%ld points  %.3g points/s  ETA %.0fs%s   ", pl->done, pl->total,
                pl->done / fmax(t, 1e-9), eta, pl->n_failed ? "  (failures)" : "");
        fflush(stderr);
    }
}

/* Rank 0, lock held: the next point of the queue, -1 when it is empty or a signal
 * asked the sweep to stop. */
static long take(pool *pl)
{
    return !stop_signal && pl->next < pl->n_queue ? pl->queue[pl->next++] : -1;
}

/* A worker's next point: from the queue on rank 0, else through the main thread. */
static long next_point(pool *pl, int id, const report *r)
{
    pthread_mutex_lock(&pl->lock);
    long i;
    if (pl->rank == 0) {
        record(pl, r, 0);
        i = take(pl);
    } else {
        pl->last[id] = *r;
        pl->waiting[id] = WAIT_ASKING;
        pthread_cond_broadcast(&pl->cond);
        while (pl->waiting[id] != WAIT_NONE)
            pthread_cond_wait(&pl->cond, &pl->lock);
        i = pl->answer[id];
    }
    if (i < 0)
        pl->n_active--;
    pthread_cond_broadcast(&pl->cond);
    pthread_mutex_unlock(&pl->lock);
    return i;
}

static void *worker(void *arg)
{
    worker_arg *w = arg;
    pool *pl = w->pl;
    report r = {.point = -1};
    for (long i; (i = next_point(pl, w->id, &r)) >= 0;) {
        r.point = i;
        r.status = hl_sweep_point_run(pl->e, i, pl->threads, pl->command_line, &pl->ctl);
        snprintf(r.message, sizeof r.message, "%s", r.status ? hl_error_message() : "");
    }
    return NULL;
}

#ifdef HOCLAB_WITH_MPI
/* Rank 0's main thread: answer the other ranks' workers until each got its stop. It
 * polls with a millisecond's sleep between looks rather than blocking in MPI_Recv,
 * which busy-waits in Open MPI and would take a core from rank 0's own workers. */
static void serve(pool *pl, int remote_workers)
{
    const struct timespec pause = {0, 1000000};
    while (remote_workers > 0) {
        report r;
        MPI_Status st;
        int arrived = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPORT, MPI_COMM_WORLD, &arrived, &st);
        if (!arrived) {
            nanosleep(&pause, NULL);
            continue;
        }
        MPI_Recv(&r, sizeof r, MPI_BYTE, st.MPI_SOURCE, TAG_REPORT, MPI_COMM_WORLD, &st);
        if (r.stopping && !stop_signal)
            stop_signal = SIGTERM; /* a signal to any rank stops the whole sweep */
        pthread_mutex_lock(&pl->lock);
        record(pl, &r, st.MPI_SOURCE);
        long i = take(pl);
        pthread_mutex_unlock(&pl->lock);
        MPI_Send(&i, 1, MPI_LONG, st.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
        if (i < 0)
            remote_workers--;
    }
}

/* Another rank's main thread: pass its workers' requests to rank 0, one at a time,
 * until every worker has been told to stop and has stopped. */
static void fetch(pool *pl)
{
    pthread_mutex_lock(&pl->lock);
    while (pl->n_active > 0) {
        int id = -1;
        for (int w = 0; w < pl->n_workers && id < 0; w++)
            if (pl->waiting[w] == WAIT_ASKING)
                id = w;
        if (id < 0) {
            pthread_cond_wait(&pl->cond, &pl->lock);
            continue;
        }
        report r = pl->last[id];
        r.stopping = stop_signal != 0;
        pl->waiting[id] = WAIT_FETCHING;
        pthread_mutex_unlock(&pl->lock);
        long i;
        MPI_Send(&r, sizeof r, MPI_BYTE, 0, TAG_REPORT, MPI_COMM_WORLD);
        MPI_Recv(&i, 1, MPI_LONG, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        pthread_mutex_lock(&pl->lock);
        pl->answer[id] = i;
        pl->waiting[id] = WAIT_NONE;
        pthread_cond_broadcast(&pl->cond);
    }
    pthread_mutex_unlock(&pl->lock);
}
#endif

/* Rank 0: the unfinished points, dearest first. Also checks every point's file. */
static int make_queue(pool *pl, long *finished)
{
    const hl_experiment *e = pl->e;
    long n = hl_experiment_n_points(e);
    double *cost = malloc(sizeof(double) * n);
    pl->queue = malloc(sizeof(long) * n);
    if (!cost || !pl->queue) {
        free(cost);
        return hl_error_set(HL_ENOMEM, "out of memory (%ld points)", n);
    }
    *finished = 0;
    for (long i = 0; i < n; i++) {
        int d = hl_sweep_point_done(e, i);
        if (d < 0) {
            free(cost);
            return d;
        }
        if (d) {
            ++*finished;
            continue;
        }
        cost[i] = hl_experiment_point_cost(e, i);
        /* insertion into the queue by cost (stable: equal costs keep grid order) */
        long j = pl->n_queue++;
        while (j > 0 && cost[pl->queue[j - 1]] < cost[i]) {
            pl->queue[j] = pl->queue[j - 1];
            j--;
        }
        pl->queue[j] = i;
    }
    free(cost);
    return HL_OK;
}

/* One line per grid point (seeds averaged): its coordinates, error and IPR. */
static void summary(const hl_experiment *e, const hl_sweep_point *pts, long n)
{
    long groups = n / e->n_seeds;
    hl_sweep_stats *st = malloc(sizeof *st * groups);
    if (!st || hl_sweep_average(pts, (int)groups, e->n_seeds, st)) {
        free(st);
        return;
    }
    printf("\n%-40s %-19s %-21s %s\n", "point (mean over seeds)", "test error", "mean IPR",
           "diverged");
    for (long g = 0; g < groups && g < 200; g++) {
        hl_train_config c;
        char name[4096];
        hl_experiment_point(e, g * e->n_seeds, &c, name, sizeof name);
        /* the name ends with the seed: the grid point is what comes before it (a model's
         * text on an axis may hold "seed=" too) */
        char *seed = strrchr(name, ',');
        *(seed ? seed : name) = 0;
        printf("%-40s %9.4f +- %-6.4f %9.5f +- %-7.5f %5d\n", name[0] ? name : "(one point)",
               st[g].test_error, st[g].test_error_se, st[g].mean_ipr, st[g].mean_ipr_se,
               st[g].n_diverged);
    }
    if (groups > 200)
        printf("... %ld more grid points in the index\n", groups - 200);
    free(st);
}

/* List the points, their files and whether they are finished. */
static int dry_run(const hl_experiment *e)
{
    long n = hl_experiment_n_points(e);
    printf("%s: %ld points (%d axes x %d seeds), output %s/\n", e->name, n, e->n_axes,
           e->n_seeds, e->output);
    for (long i = 0; i < n; i++) {
        char path[1100];
        hl_train_config c;
        int rc = hl_experiment_point(e, i, &c, NULL, 0);
        if (!rc)
            rc = hl_experiment_point_path(e, i, path, sizeof path);
        int d = rc ? rc : hl_sweep_point_done(e, i);
        if (d < 0)
            return report_error("sweep", d);
        printf("  %6ld  %-8s %s\n", i, d ? "done" : "to run", path);
    }
    return 0;
}

static int mpi_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

/* The text of the experiment, from rank 0 to every rank. */
static int share_text(pool *pl, const char *path, hl_experiment *e)
{
    int rc = HL_OK;
    if (pl->rank == 0)
        rc = hl_experiment_load(path, e);
#ifdef HOCLAB_WITH_MPI
    if (pl->size > 1) {
        long len = pl->rank != 0 ? 0 : rc ? -1 : (long)strlen(e->text);
        MPI_Bcast(&len, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        if (len < 0)
            return rc ? rc : hl_error_set(HL_EINVAL, "rank 0 could not read '%s'", path);
        char *text = pl->rank == 0 ? e->text : malloc(len + 1);
        if (!text)
            return hl_error_set(HL_ENOMEM, "out of memory");
        MPI_Bcast(text, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (pl->rank != 0) {
            rc = hl_experiment_parse(text, len, path, e);
            free(text);
        }
    }
#endif
    return rc;
}

static int run_pool(pool *pl)
{
    pthread_t *tid = malloc(sizeof(pthread_t) * pl->n_workers);
    worker_arg *args = malloc(sizeof(worker_arg) * pl->n_workers);
    pl->waiting = calloc(pl->n_workers, sizeof(int));
    pl->answer = calloc(pl->n_workers, sizeof(long));
    pl->last = calloc(pl->n_workers, sizeof(report));
    if (!tid || !args || !pl->waiting || !pl->answer || !pl->last) {
        free(tid), free(args);
        return hl_error_set(HL_ENOMEM, "out of memory");
    }
    pl->n_active = pl->n_workers;
    int started = 0;
    for (; started < pl->n_workers; started++) {
        args[started] = (worker_arg){pl, started};
        if (pthread_create(&tid[started], NULL, worker, &args[started]))
            break;
    }
    if (started < pl->n_workers) { /* run with the threads that did start */
        pthread_mutex_lock(&pl->lock);
        pl->n_active -= pl->n_workers - started;
        pl->n_workers = started;
        pthread_mutex_unlock(&pl->lock);
    }
#ifdef HOCLAB_WITH_MPI
    if (pl->size > 1) {
        int remote = 0;
        MPI_Reduce(&pl->n_workers, &remote, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
        if (pl->rank == 0)
            serve(pl, remote - pl->n_workers);
        else
            fetch(pl);
    }
#endif
    for (int w = 0; w < started; w++)
        pthread_join(tid[w], NULL);
    free(tid), free(args);
    return started ? HL_OK : hl_error_set(HL_ENOMEM, "cannot start any worker thread");
}

int cmd_sweep(int argc, char **argv)
{
    int threads = 1, workers = 0, dry = 0, index_only = 0, quiet = 0, no_plot = 0;
    double checkpoint_every = 60;
    const opt_spec specs[] = {
        {"workers", OPT_INT, &workers, 0, 1024,
         .help = "points run at once on each machine or MPI rank (0: all cores; 1 under "
                 "mpirun)"},
        {"threads", OPT_INT, &threads, 1, 64,
         .help = "threads drawing each point's samples (numbers do not depend on it)"},
        {"checkpoint-every", OPT_DOUBLE, &checkpoint_every, 0, 1e6,
         .help = "seconds between checkpoints of a running point (0: only when SIGINT/SIGTERM "
                 "stops the sweep)"},
        {"dry-run", OPT_FLAG, &dry, .help = "list the points and their files; run nothing"},
        {"index-only", OPT_FLAG, &index_only,
         .help = "only gather the finished points into the index"},
        {"no-plot", OPT_FLAG, &no_plot, .help = "do not draw the sweep's figures"},
        {"quiet", OPT_FLAG, &quiet, .help = "no progress line and no summary"},
    };
    const int n_specs = sizeof specs / sizeof specs[0];
    const char *pos[2];
    int n_pos, rc = opt_parse("sweep", specs, n_specs, argc, argv, 2, pos, 2, &n_pos);
    if (rc == 1) {
        opt_help("sweep", "EXPERIMENT_FILE [--flags]   (mpirun -n N hoclab sweep FILE)", specs,
                 n_specs);
        return 0;
    }
    if (rc)
        return rc;
    if (n_pos != 1) {
        fprintf(stderr, "hoclab sweep: give one experiment file (YAML; see README, Sweeps)%s\n",
                n_pos ? ", not several" : "");
        return 2;
    }

    pool pl = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
               .threads = threads, .size = 1, .start = now(),
               .ctl = {.stop = &stop_signal, .checkpoint_every = checkpoint_every}};
    struct sigaction old_actions[2];
#ifdef HOCLAB_WITH_MPI
    int mpi = mpi_launched() && !dry && !index_only;
    if (mpi) {
        int provided;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &pl.rank);
        MPI_Comm_size(MPI_COMM_WORLD, &pl.size);
    }
#else
    int mpi = 0;
    (void)mpi_launched;
#endif
    hl_experiment e = {0};
    char cmdline[4096];
    opt_command_line(argc, argv, cmdline, sizeof cmdline);
    rc = share_text(&pl, pos[0], &e);
    int exit_code = 0;
    if (rc) {
        exit_code = report_error("sweep", rc);
        goto out;
    }
    pl.e = &e;
    pl.command_line = cmdline;
    if (dry) {
        exit_code = dry_run(&e);
        goto out;
    }
    if (workers == 0) {
#ifdef _OPENMP
        workers = mpi ? 1 : omp_get_num_procs();
#else
        workers = 1;
#endif
    }
    pl.n_workers = workers;
    long finished = 0, n = hl_experiment_n_points(&e);
    if (!index_only) {
        /* Rank 0 decides what to run; a bad point stops every rank before any runs. */
        if (pl.rank == 0)
            rc = make_queue(&pl, &finished);
#ifdef HOCLAB_WITH_MPI
        if (pl.size > 1)
            MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
#endif
        if (rc) {
            exit_code = pl.rank == 0 ? report_error("sweep", rc) : 2;
            goto out;
        }
        pl.total = pl.n_queue;
        pl.show_progress = pl.rank == 0 && !quiet && isatty(STDERR_FILENO);
        if (pl.rank == 0 && !quiet)
            printf("Sweep %s: %ld points, %ld finished before, %ld to run on %d rank%s x %d "
                   "worker%s\n", e.name, n, finished, pl.n_queue, pl.size, pl.size > 1 ? "s" : "",
                   workers, workers > 1 ? "s" : "");
        if (!(pl.per_rank = calloc(pl.size, sizeof(long))))
            rc = hl_error_set(HL_ENOMEM, "out of memory");
        stop_signal = 0;
        catch_stop_signals(old_actions);
        if (!rc && (pl.n_queue > 0 || pl.size > 1))
            rc = run_pool(&pl);
        restore_signals(old_actions);
        if (pl.show_progress && pl.total)
            fprintf(stderr, "\n");
        if (rc) {
            exit_code = report_error("sweep", rc);
            goto out;
        }
    }
    if (pl.rank == 0) {
        hl_sweep_point *pts = malloc(sizeof *pts * n);
        long missing = 0;
        rc = pts ? hl_sweep_index_write(&e, cmdline, pts, &missing)
                 : hl_error_set(HL_ENOMEM, "out of memory");
        if (rc)
            exit_code = report_error("sweep (index)", rc);
        else if (!quiet) {
            char index[1100];
            summary(&e, pts, n);
            hl_sweep_index_path(&e, index, sizeof index);
            printf("Index: %s (%ld of %ld points finished)\n", index, n - missing, n);
        }
        if (!rc && !no_plot) {
            char index[1100], base[1100];
            hl_sweep_index_path(&e, index, sizeof index);
            figure_base(index, base, sizeof base);
            if ((rc = hl_figures_sweep(base, &e, pts)))
                exit_code = report_error("sweep (figures)", rc);
            else if (!quiet && n / e.n_seeds > 1)
                printf("Figures: %s_ipr.png, %s_error.png (and .svg)\n", base, base);
        }
        free(pts);
        if (!quiet && pl.size > 1) {
            printf("Points run by rank:");
            for (int r = 0; r < pl.size; r++)
                printf(" %d: %ld%s", r, pl.per_rank[r], r + 1 < pl.size ? "," : "\n");
        }
        if (pl.n_failed) {
            fprintf(stderr, "hoclab sweep: %ld point%s failed; first: %s\n", pl.n_failed,
                    pl.n_failed > 1 ? "s" : "", pl.first_failure);
            exit_code = 1;
        }
    }
    if (stop_signal && !exit_code) {
        if (pl.rank == 0)
            fprintf(stderr, "hoclab sweep: interrupted by %s: %ld point%s saved %s state in "
                            "checkpoints; run the same command to continue\n",
                    stop_signal == SIGINT ? "SIGINT" : "SIGTERM", pl.n_stopped,
                    pl.n_stopped == 1 ? "" : "s", pl.n_stopped == 1 ? "its" : "their");
        exit_code = 128 + stop_signal;
    }
out:
    free(pl.queue), free(pl.waiting), free(pl.answer), free(pl.last), free(pl.per_rank);
    hl_experiment_free(&e);
#ifdef HOCLAB_WITH_MPI
    if (mpi)
        MPI_Finalize();
#endif
    return exit_code;
}
