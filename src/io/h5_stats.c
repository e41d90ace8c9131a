/* h5_stats.c — the statistics of a data model (hoclab stats) as an HDF5 file.
 *
 * Layout (declared with hl_stats_save in include/hoclab/measure.h): root attributes
 * for the provenance and shape, and one group per kind of statistic — /marginal,
 * /covariance, /kappa4. Arrays over sites are L x L for a torus, so that they read
 * as images; everything else is one-dimensional. Written to a temporary name in the
 * same folder and renamed, like every hoclab result file (see h5.c). */
#include "hoclab/measure.h"
#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/io.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef HOCLAB_VERSION
#define HOCLAB_VERSION "unknown"
#endif

static int attr(hid_t loc, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, type, value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

static int attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(value) + 1);
    int rc = attr(loc, name, type, value);
    H5Tclose(type);
    return rc;
}

static int attr_ll(hid_t loc, const char *name, long long v)
{
    return attr(loc, name, H5T_NATIVE_LLONG, &v);
}

static int attr_d(hid_t loc, const char *name, double v)
{
    return attr(loc, name, H5T_NATIVE_DOUBLE, &v);
}

static int dset(hid_t loc, const char *name, int rank, const hsize_t *dims, const double *v)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    herr_t st = d < 0 ? -1 : H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

/* An array over the sites: D values, or L x L on a torus. */
static int sites(hid_t loc, const char *name, const hl_stats *s, const double *v)
{
    hsize_t dims[2] = {(hsize_t)s->L, (hsize_t)s->L}, flat[1] = {(hsize_t)s->D};
    return s->translation_invariant && s->dim == 2 ? dset(loc, name, 2, dims, v)
                                                   : dset(loc, name, 1, flat, v);
}

static int vec(hid_t loc, const char *name, size_t n, const double *v)
{
    hsize_t dims[1] = {(hsize_t)n};
    return dset(loc, name, 1, dims, v);
}

static int write_root(hid_t f, const hl_stats *s, const hl_param_values *params,
                      unsigned long long seed, const char *command_line)
{
    char when[32], spec[4096] = "";
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (params)
        hl_model_spec(params, spec, sizeof spec);
    return attr_str(f, "hoclab_version", HOCLAB_VERSION) | attr_str(f, "kind", "stats") |
           attr_str(f, "command_line", command_line ? command_line : "") |
           attr_str(f, "created", when) |
           attr_str(f, "model", params ? params->model->name : "") | attr_str(f, "spec", spec) |
           attr(f, "seed", H5T_NATIVE_ULLONG, &seed) | attr_ll(f, "n", (long long)s->n) |
           attr_ll(f, "D", (long long)s->D) |
           attr_ll(f, "translation_invariant", s->translation_invariant) |
           attr_ll(f, "dim", s->dim) | attr_ll(f, "L", s->L);
}

static int write_marginal(hid_t g, const hl_stats *s)
{
    return attr_d(g, "mean", s->mean) | attr_d(g, "variance", s->variance) |
           attr_d(g, "skewness", s->skewness) |
           attr_d(g, "excess_kurtosis", s->excess_kurtosis) |
           attr_d(g, "excess_kurtosis_se", s->kurtosis_se) |
           attr_ll(g, "n_constant_sites", (long long)s->n_constant) |
           attr_d(g, "z_max", s->z_max) | attr_ll(g, "n_below", (long long)s->n_below) |
           attr_ll(g, "n_above", (long long)s->n_above) |
           sites(g, "site_mean", s, s->site_mean) | sites(g, "site_variance", s, s->site_var) |
           vec(g, "hist_z", (size_t)s->n_bins, s->hist_z) |
           vec(g, "hist_density", (size_t)s->n_bins, s->hist_density) |
           vec(g, "hist_normal", (size_t)s->n_bins, s->hist_normal);
}

static int write_covariance(hid_t g, const hl_stats *s)
{
    const char *kind = s->translation_invariant ? "translation-averaged row"
                       : s->cov                 ? "full"
                                                : "row";
    int rc = attr_str(g, "kind", kind) | attr_ll(g, "origin", (long long)s->origin) |
             sites(g, "row", s, s->cov_row) | sites(g, "row_se", s, s->cov_row_se);
    if (s->n_eigen)
        rc |= vec(g, "eigenvalues", s->n_eigen, s->eigenvalues);
    if (s->spectrum)
        rc |= sites(g, "spectrum", s, s->spectrum) | sites(g, "spectrum_se", s, s->spectrum_se);
    if (s->cov) {
        hsize_t dims[2] = {(hsize_t)s->D, (hsize_t)s->D};
        rc |= dset(g, "matrix", 2, dims, s->cov);
    }
    return rc;
}

static int write_kappa4(hid_t g, const hl_stats *s)
{
    double t;
    int gauss = hl_stats_gaussian(s, HL_STATS_DEFAULT_ALPHA, &t);
    return attr_ll(g, "origin", (long long)s->origin) | attr_d(g, "max_z", s->kappa4_max_z) |
           attr_ll(g, "argmax", (long long)s->kappa4_argmax) |
           attr_d(g, "kurtosis_z", hl_stats_kurtosis_z(s)) | attr_d(g, "threshold", t) |
           attr_d(g, "alpha", HL_STATS_DEFAULT_ALPHA) |
           attr_ll(g, "gaussian_within_noise", gauss) | sites(g, "slice", s, s->kappa4) |
           sites(g, "slice_se", s, s->kappa4_se);
}

static int write_group(hid_t f, const char *name, int (*body)(hid_t, const hl_stats *),
                       const hl_stats *s)
{
    hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = body(g, s);
    H5Gclose(g);
    return rc;
}

int hl_stats_save(const hl_stats *s, const char *path, const struct hl_param_values *params,
                  unsigned long long seed, const char *command_line)
{
    if (!s || !path)
        return hl_error_set(HL_EINVAL, "%s is NULL", s ? "path" : "stats");
    int rc = hl_io_check_writable(path);
    if (rc)
        return rc;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return hl_error_set(HL_EINVAL, "path is too long (%zu characters)", strlen(path));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return hl_error_set(HL_EIO, "cannot create '%s' (is the folder writable?)", tmp);
    int failed = write_root(f, s, params, seed, command_line) ||
                 write_group(f, "marginal", write_marginal, s) ||
                 write_group(f, "covariance", write_covariance, s) ||
                 write_group(f, "kappa4", write_kappa4, s);
    if (H5Fclose(f) < 0)
        failed = 1;
    if (failed) {
        unlink(tmp);
        return hl_error_set(HL_EIO, "HDF5 could not write the statistics to '%s' (disk full "
                            "or I/O error)", tmp);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return hl_error_set(HL_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(e));
    }
    return HL_OK;
}
