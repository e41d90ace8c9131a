/* error.c — per-thread error messages (see include/hoclab/error.h). */
#include "hoclab/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[1024];

/* Formatted into a copy first: callers often wrap the previous message
 * (hl_error_set(rc, "context: %s", hl_error_message())), and a buffer must not be
 * both the source and the destination of vsnprintf. */
int hl_error_set(int code, const char *fmt, ...)
{
    char buf[sizeof last_message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(last_message, buf, sizeof buf);
    return code;
}

const char *hl_error_message(void) { return last_message; }

const char *hl_status_name(int code)
{
    switch (code) {
    case HL_OK: return "ok";
    case HL_EINVAL: return "invalid argument";
    case HL_ENOMEM: return "out of memory";
    case HL_EIO: return "input/output error";
    case HL_EDIVERGED: return "training diverged";
    case HL_ENUMERIC: return "numerical failure";
    case HL_EFORMAT: return "bad file format";
    case HL_EINTERRUPTED: return "interrupted";
    default: return "unknown error";
    }
}
