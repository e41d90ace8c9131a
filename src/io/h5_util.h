/* h5_util.h — private HDF5 helpers shared by every hoclab file writer and reader.
 *
 * Not part of the public API: src/io/h5.c (training results, samples),
 * src/io/h5_stats.c (statistics) and src/data/mixture.c (Gaussian mixtures) write
 * their files through these, so attributes, datasets and the temporary-file-then-rename
 * rule look the same in every file. Helpers return 0 on success and -1 on failure
 * without a message (callers name what was being written), except
 * hl_h5u_write_atomically(), which returns an hl_status with a message. */
#ifndef HOCLAB_IO_H5_UTIL_H
#define HOCLAB_IO_H5_UTIL_H

#include "hoclab/train.h"

#include <hdf5.h>
#include <stddef.h>

/* Write scalar attribute `name` of HDF5 type `type` from *value. */
int hl_h5u_attr_write(hid_t loc, const char *name, hid_t type, const void *value);
/* Write a fixed-length string attribute (NUL included). */
int hl_h5u_attr_write_str(hid_t loc, const char *name, const char *value);
/* Write a long long attribute (stored as native long long). */
int hl_h5u_attr_write_ll(hid_t loc, const char *name, long long v);
/* Write a double attribute. */
int hl_h5u_attr_write_double(hid_t loc, const char *name, double v);
/* Read scalar attribute `name`, converted to memory type `type`, into *value. */
int hl_h5u_attr_read(hid_t loc, const char *name, hid_t type, void *value);
/* Read a scalar fixed-length string attribute of fewer than `size` bytes (NUL included or
 * not) into buf, NUL-terminated. */
int hl_h5u_attr_read_str(hid_t loc, const char *name, char *buf, size_t size);
/* Write a dataset of `rank` dims from native `type` data, stored as `type` too. */
int hl_h5u_dset_write(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                      const void *data);
/* Read dataset `name` (any rank) of exactly n values, converted to memory type `type`,
 * into out; -1 if it is missing, of another size, or unreadable. */
int hl_h5u_dset_read(hid_t loc, const char *name, hid_t type, void *out, size_t n);
/* Write the provenance attributes: hoclab_version, kind, command_line (left out when
 * NULL) and created (UTC, ISO 8601). */
int hl_h5u_write_header(hid_t f, const char *kind, const char *command_line);
/* Create `path` atomically: check its folder, let body(f, ctx) fill "<path>.tmp.<pid>",
 * then rename that into place; on any failure the temporary file is removed, `path` is
 * untouched and the message says "HDF5 could not write the <what> to ...". */
int hl_h5u_write_atomically(const char *path, const char *what,
                            int (*body)(hid_t f, const void *ctx), const void *ctx);

/* ---- training runs (h5.c), shared with the checkpoints (checkpoint.c) ---- */

/* A run's configuration as attributes of group g, and back (HL_EFORMAT naming the
 * missing or malformed attribute, or an invalid configuration). */
int hl_h5u_train_write_config(hid_t g, const hl_train_config *c);
int hl_h5u_train_read_config(hid_t g, hl_train_config *c);
/* One run as group <run name> of f: configuration, status ("ok", "diverged",
 * "interrupted"), time series, snapshots, final weights. The reader does not read the
 * snapshots; it sets n_planned = n_meas. */
int hl_h5u_train_write_run(hid_t f, const hl_train_config *c, const hl_train_result *r);
int hl_h5u_train_read_run(hid_t g, hl_train_config *c, hl_train_result *r);
/* 1 if two configurations differ in a stored field; `why` then names the first one and
 * both values ("lr = 0.05 there, 0.1 here"); 0 if they are the same. */
int hl_h5u_train_config_diff(const hl_train_config *a, const hl_train_config *b, char *why,
                             size_t n);

#endif
