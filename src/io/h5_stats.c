/* h5_stats.c — the statistics of a data model (hoclab stats) as an HDF5 file.
 *
 * Layout (declared with hl_stats_save in include/hoclab/measure.h): root attributes
 * for the provenance and shape, and one group per kind of statistic — /marginal,
 * /covariance, /kappa4. Arrays over sites are L x L for a torus, so that they read
 * as images; everything else is one-dimensional. Written to a temporary name in the
 * same folder and renamed, like every hoclab result file (see h5_util.h). */
#include "hoclab/measure.h"
#include "hoclab/data.h"
#include "hoclab/error.h"
#include "h5_util.h"

#include <hdf5.h>

/* An array over the sites: D values, or L x L on a torus. */
static int sites(hid_t loc, const char *name, const hl_stats *s, const double *v)
{
    hsize_t dims[2] = {(hsize_t)s->L, (hsize_t)s->L}, flat[1] = {(hsize_t)s->D};
    int image = s->translation_invariant && s->dim == 2;
    return hl_h5u_dset_write(loc, name, H5T_NATIVE_DOUBLE, image ? 2 : 1, image ? dims : flat,
                             v);
}

static int vec(hid_t loc, const char *name, size_t n, const double *v)
{
    hsize_t dims[1] = {(hsize_t)n};
    return hl_h5u_dset_write(loc, name, H5T_NATIVE_DOUBLE, 1, dims, v);
}

static int write_root(hid_t f, const hl_stats *s, const hl_param_values *params,
                      unsigned long long seed, const char *command_line)
{
    char spec[4096] = "";
    if (params)
        hl_model_spec(params, spec, sizeof spec);
    return hl_h5u_write_header(f, "stats", command_line ? command_line : "") |
           hl_h5u_attr_write_str(f, "model", params ? params->model->name : "") |
           hl_h5u_attr_write_str(f, "spec", spec) |
           hl_h5u_attr_write(f, "seed", H5T_NATIVE_ULLONG, &seed) |
           hl_h5u_attr_write_ll(f, "n", (long long)s->n) |
           hl_h5u_attr_write_ll(f, "D", (long long)s->D) |
           hl_h5u_attr_write_ll(f, "translation_invariant", s->translation_invariant) |
           hl_h5u_attr_write_ll(f, "dim", s->dim) | hl_h5u_attr_write_ll(f, "L", s->L);
}

static int write_marginal(hid_t g, const hl_stats *s)
{
    return hl_h5u_attr_write_double(g, "mean", s->mean) |
           hl_h5u_attr_write_double(g, "variance", s->variance) |
           hl_h5u_attr_write_double(g, "skewness", s->skewness) |
           hl_h5u_attr_write_double(g, "excess_kurtosis", s->excess_kurtosis) |
           hl_h5u_attr_write_double(g, "excess_kurtosis_se", s->kurtosis_se) |
           hl_h5u_attr_write_ll(g, "n_constant_sites", (long long)s->n_constant) |
           hl_h5u_attr_write_double(g, "z_max", s->z_max) |
           hl_h5u_attr_write_ll(g, "n_below", (long long)s->n_below) |
           hl_h5u_attr_write_ll(g, "n_above", (long long)s->n_above) |
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
    int rc = hl_h5u_attr_write_str(g, "kind", kind) |
             hl_h5u_attr_write_ll(g, "origin", (long long)s->origin) |
             sites(g, "row", s, s->cov_row) | sites(g, "row_se", s, s->cov_row_se);
    if (s->n_eigen)
        rc |= vec(g, "eigenvalues", s->n_eigen, s->eigenvalues);
    if (s->spectrum)
        rc |= sites(g, "spectrum", s, s->spectrum) | sites(g, "spectrum_se", s, s->spectrum_se);
    if (s->cov) {
        hsize_t dims[2] = {(hsize_t)s->D, (hsize_t)s->D};
        rc |= hl_h5u_dset_write(g, "matrix", H5T_NATIVE_DOUBLE, 2, dims, s->cov);
    }
    return rc;
}

static int write_kappa4(hid_t g, const hl_stats *s)
{
    double t;
    int gauss = hl_stats_gaussian(s, HL_STATS_DEFAULT_ALPHA, &t);
    return hl_h5u_attr_write_ll(g, "origin", (long long)s->origin) |
           hl_h5u_attr_write_double(g, "max_z", s->kappa4_max_z) |
           hl_h5u_attr_write_ll(g, "argmax", (long long)s->kappa4_argmax) |
           hl_h5u_attr_write_double(g, "kurtosis_z", hl_stats_kurtosis_z(s)) |
           hl_h5u_attr_write_double(g, "threshold", t) |
           hl_h5u_attr_write_double(g, "alpha", HL_STATS_DEFAULT_ALPHA) |
           hl_h5u_attr_write_ll(g, "gaussian_within_noise", gauss) |
           sites(g, "slice", s, s->kappa4) | sites(g, "slice_se", s, s->kappa4_se);
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

/* What the file's body writer needs. */
typedef struct {
    const hl_stats *s;
    const hl_param_values *params;
    unsigned long long seed;
    const char *command_line;
} stats_body;

static int write_stats_body(hid_t f, const void *ctx)
{
    const stats_body *b = ctx;
    return write_root(f, b->s, b->params, b->seed, b->command_line) ||
           write_group(f, "marginal", write_marginal, b->s) ||
           write_group(f, "covariance", write_covariance, b->s) ||
           write_group(f, "kappa4", write_kappa4, b->s);
}

int hl_stats_save(const hl_stats *s, const char *path, const struct hl_param_values *params,
                  unsigned long long seed, const char *command_line)
{
    if (!s || !path)
        return hl_error_set(HL_EINVAL, "%s is NULL", s ? "path" : "stats");
    stats_body body = {s, params, seed, command_line};
    return hl_h5u_write_atomically(path, "statistics", write_stats_body, &body);
}
