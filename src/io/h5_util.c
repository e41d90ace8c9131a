/* h5_util.c — the private HDF5 helpers of h5_util.h: scalar attributes, whole
 * datasets, the provenance header and atomic file creation.
 *
 * Every hoclab file is written to a temporary name next to its final path and renamed
 * only once HDF5 has closed it, so a crash or a full disk never leaves a truncated file
 * under the name a later command would read. HDF5's automatic error printing is turned
 * off: the library never prints, failures come back as codes with a message. */
#include "h5_util.h"

#include "hoclab/error.h"
#include "hoclab/io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef HOCLAB_VERSION
#define HOCLAB_VERSION "unknown"
#endif

int hl_h5u_attr_write(hid_t loc, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, type, value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

int hl_h5u_attr_write_str(hid_t loc, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(value) + 1);
    int rc = hl_h5u_attr_write(loc, name, type, value);
    H5Tclose(type);
    return rc;
}

int hl_h5u_attr_write_ll(hid_t loc, const char *name, long long v)
{
    return hl_h5u_attr_write(loc, name, H5T_NATIVE_LLONG, &v);
}

int hl_h5u_attr_write_double(hid_t loc, const char *name, double v)
{
    return hl_h5u_attr_write(loc, name, H5T_NATIVE_DOUBLE, &v);
}

int hl_h5u_attr_read(hid_t loc, const char *name, hid_t type, void *value)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    /* One value: H5Aread fills as many as the attribute holds, so an array attribute
     * in a damaged or foreign file would overrun *value. */
    hid_t s = H5Aget_space(a);
    int one = s >= 0 && H5Sget_simple_extent_npoints(s) == 1;
    if (s >= 0)
        H5Sclose(s);
    herr_t st = one ? H5Aread(a, type, value) : -1;
    H5Aclose(a);
    return st < 0 ? -1 : 0;
}

int hl_h5u_attr_read_str(hid_t loc, const char *name, char *buf, size_t size)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t ft = H5Aget_type(a);
    /* variable-length strings would need HDF5 to allocate; hoclab writes fixed ones */
    hid_t s = H5Aget_space(a);
    int ok = s >= 0 && H5Sget_simple_extent_npoints(s) == 1 &&
             H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) == 0 &&
             H5Tget_size(ft) < size;
    if (s >= 0)
        H5Sclose(s);
    if (ok) {
        /* One byte more than stored: a string written without its terminating NUL
         * (NULLPAD, as h5py and others write them) keeps its last character. */
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5Tget_size(ft) + 1);
        ok = H5Aread(a, mt, buf) >= 0;
        buf[size - 1] = 0;
        H5Tclose(mt);
    }
    H5Tclose(ft);
    H5Aclose(a);
    return ok ? 0 : -1;
}

int hl_h5u_dset_write(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                      const void *data)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = d < 0 ? -1 : H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

int hl_h5u_write_header(hid_t f, const char *kind, const char *command_line)
{
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    int rc = hl_h5u_attr_write_str(f, "hoclab_version", HOCLAB_VERSION) |
             hl_h5u_attr_write_str(f, "kind", kind);
    if (command_line)
        rc |= hl_h5u_attr_write_str(f, "command_line", command_line);
    return rc | hl_h5u_attr_write_str(f, "created", when);
}

int hl_h5u_write_atomically(const char *path, const char *what,
                            int (*body)(hid_t f, const void *ctx), const void *ctx)
{
    int rc = hl_io_check_writable(path);
    if (rc)
        return rc;
    /* the pid keeps two processes writing the same path from sharing a temporary */
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return hl_error_set(HL_EINVAL, "path is too long (%zu characters)", strlen(path));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return hl_error_set(HL_EIO, "cannot create '%s' (is the folder writable?)", tmp);
    int failed = body(f, ctx) != 0;
    /* closing flushes: a full disk may only show up here */
    if (H5Fclose(f) < 0)
        failed = 1;
    if (failed) {
        unlink(tmp);
        return hl_error_set(HL_EIO, "HDF5 could not write the %s to '%s' (disk full or I/O "
                            "error)", what, tmp);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return hl_error_set(HL_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(e));
    }
    return HL_OK;
}

int hl_h5u_dset_read(hid_t loc, const char *name, hid_t type, void *out, size_t n)
{
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    int bad = s < 0 || H5Sget_simple_extent_npoints(s) != (hssize_t)n ||
              H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0;
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    return bad ? -1 : 0;
}
