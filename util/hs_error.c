/*
 * hs_error: recording and describing failures (see hs_error.h).
 */
#include "hs_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* The escape of byte c into esc (at least 5 bytes); returns its length. */
static size_t escape_byte(unsigned char c, char *esc)
{
    if (c == '\n' || c == '\t' || c == '\r') {
        esc[0] = '\\';
        esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(esc, 5, "\\x%02x", c);
        return 4;
    }
    esc[0] = (char)c;
    return 1;
}

size_t hs_err_escape(char *dst, size_t cap, const char *src, size_t n)
{
    if (cap == 0)
        return 0;
    size_t total = 0;
    char esc[5];
    for (size_t i = 0; i < n; i++)
        total += escape_byte((unsigned char)src[i], esc);
    /* When it does not all fit, keep room for "..." after the last whole escape. */
    size_t room = total < cap ? cap - 1 : cap - 1 < 3 ? 0 : cap - 1 - 3;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = escape_byte((unsigned char)src[i], esc);
        if (out + k > room)
            break;
        memcpy(dst + out, esc, k);
        out += k;
    }
    if (total >= cap) {
        size_t dots = cap - 1 - out < 3 ? cap - 1 - out : 3;
        memcpy(dst + out, "...", dots);
        out += dots;
    }
    dst[out] = '\0';
    return out;
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
