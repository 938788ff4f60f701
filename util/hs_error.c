/*
 * hs_error: recording and describing failures (see hs_error.h).
 */
#include "hs_error.h"

#include <stdarg.h>
#include <stdio.h>

void hs_error_clear(hs_error *err)
{
    if (err) {
        err->code = HS_OK;
        err->msg[0] = '\0';
    }
}

int hs_error_set(hs_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *hs_strerror(int code)
{
    switch (code) {
    case HS_OK: return "success";
    case HS_EINVAL: return "invalid argument";
    case HS_ENOMEM: return "out of memory";
    case HS_EIO: return "input/output error";
    case HS_EDATA: return "malformed input data";
    case HS_ENUMERIC: return "numerical failure";
    case HS_EFORMAT: return "unsupported or corrupt file format";
    case HS_EINTR: return "stopped on request";
    default: return "unknown error";
    }
}
