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

#ifdef __cplusplus
}
#endif
#endif
