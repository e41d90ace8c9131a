/* h5_arrays.c — a result file made of named arrays and attributes (the theory
 * commands: cumulants, CP factors, flows, ODEs, perceptrons).
 *
 * Each computation fills a list of hl_h5_array (a path such as "cp/gamma", its shape
 * and its doubles) and of hl_h5_attr (root or group attributes); groups on a path are
 * created as needed. Written atomically like every hoclab result file (h5_util.h). */
#include "hoclab/io.h"
#include "hoclab/error.h"
#include "h5_util.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *kind, *command_line;
    const hl_h5_attr *attrs;
    int n_attrs;
    const hl_h5_array *arrays;
    int n_arrays;
} arrays_ctx;

/* The object an attribute goes on: the root, or the group before the last '/'. */
static hid_t attr_owner(hid_t f, const char *name, const char **leaf)
{
    const char *slash = strrchr(name, '/');
    if (!slash) {
        *leaf = name;
        return H5Oopen(f, ".", H5P_DEFAULT);
    }
    char group[512];
    snprintf(group, sizeof group, "%.*s", (int)(slash - name), name);
    *leaf = slash + 1;
    if (H5Lexists(f, group, H5P_DEFAULT) <= 0) {
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(lcpl, 1);
        hid_t g = H5Gcreate2(f, group, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        H5Pclose(lcpl);
        return g;
    }
    return H5Oopen(f, group, H5P_DEFAULT);
}

/* The existing object an attribute "group/key" or "key" sits on, for reading. */
static hid_t attr_owner_open(hid_t f, const char *name, const char **leaf)
{
    const char *slash = strrchr(name, '/');
    if (!slash) {
        *leaf = name;
        return H5Oopen(f, ".", H5P_DEFAULT);
    }
    char group[512];
    snprintf(group, sizeof group, "%.*s", (int)(slash - name), name);
    *leaf = slash + 1;
    return H5Lexists(f, group, H5P_DEFAULT) > 0 ? H5Oopen(f, group, H5P_DEFAULT) : -1;
}

static int write_body(hid_t f, const void *p)
{
    const arrays_ctx *c = p;
    int bad = hl_h5u_write_header(f, c->kind, c->command_line);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    for (int i = 0; i < c->n_arrays && !bad; i++) {
        const hl_h5_array *a = &c->arrays[i];
        hsize_t dims[4];
        for (int r = 0; r < a->rank; r++)
            dims[r] = (hsize_t)a->dims[r];
        hid_t space = H5Screate_simple(a->rank, dims, NULL);
        hid_t d = H5Dcreate2(f, a->name, H5T_NATIVE_DOUBLE, space, lcpl, H5P_DEFAULT,
                             H5P_DEFAULT);
        bad |= d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                 a->data) < 0;
        if (d >= 0)
            H5Dclose(d);
        H5Sclose(space);
    }
    H5Pclose(lcpl);
    for (int i = 0; i < c->n_attrs && !bad; i++) {
        const char *leaf;
        hid_t o = attr_owner(f, c->attrs[i].name, &leaf);
        if (o < 0)
            return -1;
        bad |= c->attrs[i].text ? hl_h5u_attr_write_str(o, leaf, c->attrs[i].text)
                                : hl_h5u_attr_write_double(o, leaf, c->attrs[i].value);
        H5Oclose(o);
    }
    return bad;
}

int hl_h5_write_arrays(const char *path, const char *kind, const char *command_line,
                       const hl_h5_attr *attrs, int n_attrs, const hl_h5_array *arrays,
                       int n_arrays)
{
    if (!path || !kind || (n_attrs && !attrs) || (n_arrays && !arrays) || n_attrs < 0 ||
        n_arrays < 0)
        return hl_error_set(HL_EINVAL, "arrays file: path, kind, attrs and arrays must be "
                            "given (n_attrs = %d, n_arrays = %d)", n_attrs, n_arrays);
    for (int i = 0; i < n_arrays; i++) {
        const hl_h5_array *a = &arrays[i];
        if (!a->name || !a->name[0] || a->rank < 1 || a->rank > 4 || !a->data)
            return hl_error_set(HL_EINVAL, "arrays file: array %d ('%s'): needs a name, rank "
                                "1..4 and data", i, a->name ? a->name : "(null)");
        for (int r = 0; r < a->rank; r++)
            if (a->dims[r] < 1)
                return hl_error_set(HL_EINVAL, "arrays file: array '%s': dims[%d] = %zu, must "
                                    "be >= 1", a->name, r, a->dims[r]);
    }
    for (int i = 0; i < n_attrs; i++)
        if (!attrs[i].name || !attrs[i].name[0] || strlen(attrs[i].name) >= 512)
            return hl_error_set(HL_EINVAL, "arrays file: attribute %d has no name (or one over "
                                "511 characters)", i);
    arrays_ctx c = {kind, command_line ? command_line : "", attrs, n_attrs, arrays, n_arrays};
    return hl_h5u_write_atomically(path, kind, write_body, &c);
}

/* ---- reading such files back (resumable points) ------------------------------------ */

struct hl_h5_reader {
    hid_t f;
    char path[4096];
};

hl_h5_reader *hl_h5_reader_open(const char *path)
{
    if (!path) {
        hl_error_set(HL_EINVAL, "arrays file: path is NULL");
        return NULL;
    }
    hl_h5_reader *r = malloc(sizeof *r);
    if (!r) {
        hl_error_set(HL_ENOMEM, "arrays file: out of memory");
        return NULL;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (r->f < 0) {
        hl_error_set(HL_EFORMAT, "'%s' cannot be opened as an HDF5 file (missing, truncated or "
                     "not HDF5)", path);
        free(r);
        return NULL;
    }
    return r;
}

void hl_h5_reader_close(hl_h5_reader *r)
{
    if (!r)
        return;
    H5Fclose(r->f);
    free(r);
}

int hl_h5_reader_attr(hl_h5_reader *r, const char *name, double *value)
{
    const char *leaf;
    hid_t o = r ? attr_owner_open(r->f, name, &leaf) : -1;
    int bad = o < 0 || H5Aexists(o, leaf) <= 0 ||
              hl_h5u_attr_read(o, leaf, H5T_NATIVE_DOUBLE, value);
    if (o >= 0)
        H5Oclose(o);
    return bad ? hl_error_set(HL_EFORMAT, "'%s': attribute '%s' is missing or not a number",
                              r ? r->path : "(null)", name)
               : HL_OK;
}

static int read_typed(hl_h5_reader *r, const char *name, hid_t type, void *out, size_t n)
{
    if (!r || !name || !out || hl_h5u_dset_read(r->f, name, type, out, n))
        return hl_error_set(HL_EFORMAT, "'%s': dataset '%s' is missing or does not hold %zu "
                            "values", r ? r->path : "(null)", name ? name : "(null)", n);
    return HL_OK;
}

int hl_h5_reader_array(hl_h5_reader *r, const char *name, double *out, size_t n)
{
    return read_typed(r, name, H5T_NATIVE_DOUBLE, out, n);
}

int hl_h5_reader_array_float(hl_h5_reader *r, const char *name, float *out, size_t n)
{
    return read_typed(r, name, H5T_NATIVE_FLOAT, out, n);
}
