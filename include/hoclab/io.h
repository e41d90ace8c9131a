/* io.h — result files (HDF5).
 *
 * A training file holds one group per run, named after its input model ("nlgp",
 * "gp"). The root carries the program version and the command line; each group
 * carries its whole configuration as attributes, the time series as datasets and the
 * weights (see README, "Output format"). Files are written to a temporary name in the
 * same folder and renamed into place, so a reader never sees a partial file and an
 * existing result is replaced only by a complete one. */
#ifndef HOCLAB_IO_H
#define HOCLAB_IO_H

#include "hoclab/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Check that a result file can be created at `path` (its folder exists and is
 * writable), before hours of computing are spent. */
int hl_io_check_writable(const char *path);

/* Write n runs (configuration + result each) to `path`, atomically. */
int hl_h5_write_train(const char *path, const hl_train_config *cfg,
                      const hl_train_result *res, int n, const char *command_line);

/* Read a training file back (for `hoclab plot`). On success *cfg and *res are arrays
 * of *n runs owned by the caller: free with hl_h5_train_free(). The names of the
 * groups are the runs' input names. */
int hl_h5_read_train(const char *path, hl_train_config **cfg, hl_train_result **res, int *n);
void hl_h5_train_free(hl_train_config *cfg, hl_train_result *res, int n);

/* The figures of a training file, next to it: BASE_rfs_<input>.{png,svg} (final
 * receptive fields), BASE_ipr.{png,svg} (IPR against time, every run) and
 * BASE_error.{png,svg} (test error against time). BASE is the result path without
 * its ".h5". */
int hl_figures_train(const char *base, const hl_train_config *cfg,
                     const hl_train_result *res, int n);

/* Write labelled samples: for every class c, dataset "<names[c]>/x" (n x D, or
 * n x L x L for dim 2), plus the sampler description as attributes of the group. */
typedef struct hl_h5_sample_set {
    const char *name;              /* group name, e.g. "nlgp_plus_xi2" */
    const char *description;       /* free text, attribute "description" */
    const hl_param_values *params; /* the model and its resolved parameters */
    size_t n;
    int dim, L;                    /* image shape: dim 1 (n x L) or 2 (n x L x L) */
    const float *x;                /* n x D, D = L or L * L */
} hl_h5_sample_set;

int hl_h5_write_samples(const char *path, const hl_h5_sample_set *sets, int n_sets,
                        const char *command_line);

/* Reading such a file back (an experiment's own resumable point files): open, read
 * numeric attributes ("key" on the root, "group/key" on a group) and datasets of an
 * exact size, close. Missing or mis-sized entries give HL_EFORMAT naming the file and
 * the entry; a file that is not HDF5 (or truncated) gives NULL with HL_EFORMAT. */
typedef struct hl_h5_reader hl_h5_reader;
hl_h5_reader *hl_h5_reader_open(const char *path);
void hl_h5_reader_close(hl_h5_reader *r);
int hl_h5_reader_attr(hl_h5_reader *r, const char *name, double *value);
int hl_h5_reader_array(hl_h5_reader *r, const char *name, double *out, size_t n);
int hl_h5_reader_array_float(hl_h5_reader *r, const char *name, float *out, size_t n);

/* ---- sweeps: many runs, each saved as it finishes, resumable ------------------------
 *
 * hl_sweep_run trains cfg[i] into the file paths[i] (one run, hl_h5_write_train) for
 * every i whose file does not exist yet, `threads` runs at a time, writing each batch
 * before starting the next; a point whose file exists with the same configuration is
 * read back instead (an interrupted sweep resumes), one with another configuration is
 * an error (HL_EINVAL naming the file). out[i] gets each point's final summary. A run
 * that diverges is kept (status HL_EDIVERGED, its measurements written). */
typedef struct hl_sweep_point {
    double mean_ipr, max_ipr;    /* over the K units, at the last measurement */
    double mean_kurtosis;        /* preactivations' excess kurtosis, mean over units */
    double test_error;           /* at the last measurement */
    int status;                  /* HL_OK or HL_EDIVERGED */
    int resumed;                 /* 1 if read back from an existing file */
} hl_sweep_point;

typedef void (*hl_sweep_progress_fn)(void *user, int done, int total);

int hl_sweep_run(const hl_train_config *cfg, const char *const *paths, int n, int threads,
                 const char *command_line, hl_sweep_point *out, hl_sweep_progress_fn progress,
                 void *user);

/* Seed averages: points come in n_groups groups of n_seeds consecutive points (the
 * seeds of one grid point); out[g] gets each group's mean and standard error of the mean
 * over seeds (diverged points' NaNs left out; SE NaN for one seed). */
typedef struct hl_sweep_stats {
    double mean_ipr, mean_ipr_se;
    double test_error, test_error_se;
    double mean_kurtosis, mean_kurtosis_se;
    int n_diverged;
} hl_sweep_stats;

int hl_sweep_average(const hl_sweep_point *pts, int n_groups, int n_seeds,
                     hl_sweep_stats *out);

/* A file of named double arrays and attributes (the `hoclab theory` results). An
 * array's name is its path ("cp/gamma"): groups are created as needed; an attribute
 * named "group/key" goes on that group (created if no array made it), "key" on the
 * root. The root also gets the provenance attributes (version, kind, command line,
 * creation time). Written atomically. */
typedef struct hl_h5_array {
    const char *name;
    int rank;               /* 1..4 */
    size_t dims[4];
    const double *data;     /* row-major, prod(dims) values */
} hl_h5_array;

typedef struct hl_h5_attr {
    const char *name;
    const char *text;       /* a string attribute if not NULL, else `value` */
    double value;
} hl_h5_attr;

int hl_h5_write_arrays(const char *path, const char *kind, const char *command_line,
                       const hl_h5_attr *attrs, int n_attrs, const hl_h5_array *arrays,
                       int n_arrays);

/* ---- checkpoints: the state of unfinished runs, to resume them (checkpoint.c) -------
 *
 * A checkpoint file is a training file (hl_h5_write_train's format: `hoclab plot` reads
 * it) with the root attributes checkpoint = 1 and complete = 0, and on each run's group
 * the attribute checkpoint_state: "fresh" (no state saved yet: only the configuration),
 * "partial" (status "interrupted": measurements so far, snapshots so far, stop_step and
 * the weights at that step, which are all a run needs to go on; see train.h) or
 * "finished", and a checksum of the saved numbers (checkpoint_checksum). Every write
 * replaces the whole file atomically. Reads and writes of
 * these functions are serialised by one lock, so runs may save from their threads. */
typedef struct hl_checkpoint hl_checkpoint;

/* The checkpoint that goes with a result file: OUTPUT without its .h5, then ".ckpt.h5". */
void hl_checkpoint_path(const char *output, char *path, size_t size);

/* A checkpoint for n runs (their names must differ) at `path`; every run "fresh". */
hl_checkpoint *hl_checkpoint_new(const char *path, const hl_train_config *cfg, int n,
                                 const char *command_line);
void hl_checkpoint_free(hl_checkpoint *ck);

/* Keep a copy of run `run`'s state: a partial result (as the trainer's checkpoint hook
 * gets it, or as an interrupted run returns it), a finished or diverged one, or one
 * read back by hl_h5_read_checkpoint (n_meas == 0: fresh). Thread safe. */
int hl_checkpoint_keep(hl_checkpoint *ck, int run, const hl_train_result *r);
/* Write every run's kept state to the file, atomically. Thread safe. */
int hl_checkpoint_write(hl_checkpoint *ck);
/* keep then write: fits hl_train_hooks.checkpoint with ck as its user pointer. */
int hl_checkpoint_save(void *ck, int run, const hl_train_config *c, const hl_train_result *r);

/* Read the checkpoint at `path` for the n runs of cfg into res[0..n) (free each with
 * hl_train_result_free): resume states for hl_train_hooks.resume. HL_EIO if it cannot
 * be read, HL_EFORMAT if it is not a hoclab checkpoint (not HDF5, truncated, corrupt,
 * a result file, entries missing or mis-sized), HL_EINVAL naming the run, the field and
 * both values if it was written for another configuration. */
int hl_h5_read_checkpoint(const char *path, const hl_train_config *cfg, int n,
                          hl_train_result *res);

#ifdef __cplusplus
}
#endif
#endif
