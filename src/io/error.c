/* error.c — per-thread error messages (see include/hoclab/error.h). */
#include "hoclab/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[512];

int hl_error_set(int code, const char *fmt, ...)
{
    /* Formatted aside, then copied: callers wrap the last message by passing
     * hl_error_message() as an argument, and vsnprintf may not read what it writes. */
    char message[sizeof last_message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    memcpy(last_message, message, sizeof message);
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
