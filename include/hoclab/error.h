/* error.h — status codes and the last error message of the calling thread.
 *
 * Library functions return HL_OK (0) or a negative code and never print or exit;
 * the message that explains a failure is kept per thread and read with
 * hl_error_message(). */
#ifndef HOCLAB_ERROR_H
#define HOCLAB_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum hl_status {
    HL_OK = 0,
    HL_EINVAL = -1,   /* an argument or configuration value is out of range */
    HL_ENOMEM = -2,   /* an allocation failed */
    HL_EIO = -3,      /* a file could not be read or written */
    HL_EDIVERGED = -4,/* training produced NaN/Inf or exploding weights */
    HL_ENUMERIC = -5, /* a numerical routine (quadrature, FFT plan) failed */
    HL_EFORMAT = -6,  /* a file exists but does not have the expected content */
    HL_EINTERRUPTED = -7 /* a run was asked to stop (signal); its checkpoint holds it */
};

/* Record a printf-style message for the calling thread and return `code`. The
 * arguments may include hl_error_message() itself, to wrap the previous message. */
int hl_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last message recorded by hl_error_set() in this thread ("" if none). */
const char *hl_error_message(void);

/* A short fixed name for a status code ("invalid argument", ...). */
const char *hl_status_name(int code);

#ifdef __cplusplus
}
#endif
#endif
