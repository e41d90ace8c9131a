/* experiment.h — experiment files: a grid of training runs described in YAML, and the
 * sweep that runs it point by point into files of its own, resumable, with an index.
 *
 * An experiment file is a YAML mapping. Its keys are `name`, `description`, `output`
 * (the folder of the sweep's files), `seeds` (a count N for seeds 1..N, or a list) and
 * every flag of `hoclab train` (without the "--"): a single value sets the flag for
 * every run, a list of values (or a range {from, to, num, scale}) makes it an axis of
 * the grid. `xis` takes a pair, so a list of pairs is its axis. Unknown keys, wrong
 * types and out-of-range values are errors naming the file's line. See README
 * "Sweeps" for the whole format.
 *
 * The points are the grid's Cartesian product times the seeds (the last axis varying
 * fastest, the seed fastest of all). Each point is one trainer run, written to
 * OUTPUT/points/NAME.h5 where NAME spells its coordinates ("gain=3,inputs=gp,seed=2").
 * A point whose file exists with the same configuration is finished and never run
 * again, which is how a sweep resumes. */
#ifndef HOCLAB_EXPERIMENT_H
#define HOCLAB_EXPERIMENT_H

#include "hoclab/io.h"
#include "hoclab/train.h"
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { HL_EXP_MAX_AXES = 16, HL_EXP_MAX_VALUES = 4096, HL_EXP_MAX_POINTS = 1000000 };

/* One value of a grid axis: a number, a pair (xis) or a string (a choice or a model). */
typedef struct hl_exp_value {
    double num[2];
    char *str;
} hl_exp_value;

typedef struct hl_exp_axis {
    char key[32];          /* the `hoclab train` flag it sets */
    int n;                 /* values */
    hl_exp_value *values;
    int line;              /* where it was given (1-based) */
} hl_exp_axis;

typedef struct hl_experiment {
    char name[128];
    char *description;     /* NULL if none */
    char *output;          /* folder of the sweep's files */
    hl_train_config base;  /* the defaults with the file's single values applied */
    int xi_frac;           /* xis given as fractions of L (xi-unit: frac) */
    int n_axes;
    hl_exp_axis axes[HL_EXP_MAX_AXES];
    int n_seeds;
    uint64_t *seeds;
    char *text;            /* the file as read, stored in the sweep index */
} hl_experiment;

/* Parse an experiment from `text` (len bytes); `origin` names it in messages ("FILE:
 * line N: ..."). On error nothing is left allocated in *e. */
int hl_experiment_parse(const char *text, size_t len, const char *origin, hl_experiment *e);

/* Read and parse the file at `path`. */
int hl_experiment_load(const char *path, hl_experiment *e);

void hl_experiment_free(hl_experiment *e);

/* Grid points times seeds. */
long hl_experiment_n_points(const hl_experiment *e);

/* Point i's configuration; name (if not NULL, `size` bytes) gets its coordinates
 * spelled as "key=value,...,seed=S". Validates the configuration: an invalid point
 * is an error naming the point and the axis lines. */
int hl_experiment_point(const hl_experiment *e, long i, hl_train_config *c, char *name,
                        size_t size);

/* OUTPUT/points/NAME.h5 for point i. */
int hl_experiment_point_path(const hl_experiment *e, long i, char *path, size_t size);

/* ---- running a sweep ---------------------------------------------------------------
 * A point is finished when its file exists with its configuration. Running a point
 * trains it (hl_train_run with `threads` sampling threads) and writes its file
 * atomically (temporary file, then rename). */

/* 1 if point i is finished, 0 if not, < 0 (an error) if a file of another
 * configuration or an unreadable file is in its place. */
int hl_sweep_point_done(const hl_experiment *e, long i);

/* How a running point saves its state: every `checkpoint_every` wall seconds (0:
 * never) to its checkpoint (the point's file name with .ckpt.h5, hl_checkpoint_path),
 * and when *stop becomes non-zero (a signal handler sets it), after which the point
 * returns HL_EINTERRUPTED. */
typedef struct hl_sweep_control {
    volatile sig_atomic_t *stop;   /* NULL: never asked to stop */
    double checkpoint_every;
} hl_sweep_control;

/* Train point i and write its file; HL_EDIVERGED runs are written too (what they
 * measured until they stopped) and count as done. `command_line` goes into the file.
 * `threads` draw the run's samples; the numbers do not depend on it. A point whose
 * checkpoint exists continues from it (bit for bit: train.h); the checkpoint is removed
 * once the point's file is written. ctl may be NULL (no checkpoints, no stopping). */
int hl_sweep_point_run(const hl_experiment *e, long i, int threads, const char *command_line,
                       const hl_sweep_control *ctl);

/* Run every unfinished point on this machine, `threads` at a time (0: all cores),
 * calling progress(user, done, total) as points finish (hl_sweep_run). */
int hl_sweep_run_all(const hl_experiment *e, int threads, const char *command_line,
                     hl_sweep_progress_fn progress, void *user);

/* A point's relative cost (multiply-adds of its training and measurements), to hand
 * out the dearest points first. */
double hl_experiment_point_cost(const hl_experiment *e, long i);

/* Gather the finished points into the sweep index OUTPUT/index.h5 (atomically): for
 * each axis its values and every point's coordinate, the seeds, and every point's final
 * test error, mean and max IPR, mean kurtosis, status and file name; the experiment
 * text as an attribute. Points not finished are marked status -1. points (if not NULL,
 * one per point) gets the same summaries; *missing (if not NULL) the number of
 * unfinished points. */
int hl_sweep_index_write(const hl_experiment *e, const char *command_line,
                         hl_sweep_point *points, long *missing);

/* The sweep's figures BASE_ipr and BASE_error (.png, .svg): mean IPR and test error,
 * seed-averaged, against the last numeric axis, one curve per combination of the other
 * axes. Nothing is drawn for a single grid point. */
int hl_figures_sweep(const char *base, const hl_experiment *e, const hl_sweep_point *pts);

/* OUTPUT/index.h5. */
int hl_sweep_index_path(const hl_experiment *e, char *path, size_t size);

#ifdef __cplusplus
}
#endif
#endif
