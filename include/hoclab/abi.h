/* abi.h — sizes and field offsets of the public structs, for bindings.
 *
 * A foreign-function binding (the Python module's ctypes mirrors) restates the
 * layout of the structs it passes by value or reads fields of. These functions
 * let it check its restatement against the compiled library at load time, so that a
 * header change without the matching binding change fails loudly instead of
 * corrupting memory. */
#ifndef HOCLAB_ABI_H
#define HOCLAB_ABI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* sizeof(type) for a public struct named as in C ("hl_train_config"); 0 if the
 * table does not list it. */
size_t hl_abi_sizeof(const char *type);

/* offsetof(type, field) for a top-level field ("net", "xi_plus"); -1 if the table
 * does not list the pair. */
long hl_abi_offsetof(const char *type, const char *field);

/* sizeof the field (catches a float mirrored as a double at the same offset); -1 if
 * the table does not list the pair. */
long hl_abi_field_size(const char *type, const char *field);

#ifdef __cplusplus
}
#endif
#endif
