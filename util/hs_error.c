/*
 * hs_error: recording and describing failures (see hs_error.h).
 */
#include "hs_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The escaped form of byte c into out (up to 4 characters); returns its length. */
static size_t escape_byte(unsigned char c, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    if (c == '\n' || c == '\t' || c == '\r') {
        out[0] = '\\';
        out[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hex[c >> 4];
        out[3] = hex[c & 15];
        return 4;
    }
    out[0] = (char)c;
    return 1;
}

size_t hs_err_escape(char *dst, size_t cap, const char *src, size_t n)
{
    if (!dst || cap == 0)
        return 0;
    const unsigned char *s = (const unsigned char *)src;
    if (!s)
        n = 0;
    size_t total = 0; /* the escaped length of the whole of src */
    char tmp[4];
    for (size_t i = 0; i < n; i++)
        total += escape_byte(s[i], tmp);
    size_t room = cap - 1, w = 0;
    if (total <= room) {
        for (size_t i = 0; i < n; i++)
            w += escape_byte(s[i], dst + w);
        dst[w] = '\0';
        return w;
    }
    /* cut: as many whole escapes as fit before "...", then back to a UTF-8 character boundary */
    size_t dots = room < 3 ? room : 3, limit = room - dots, i = 0;
    while (i < n && w + escape_byte(s[i], tmp) <= limit)
        w += escape_byte(s[i++], dst + w);
    while (i > 0 && i < n && (s[i] & 0xC0) == 0x80 && s[i - 1] >= 0x80) {
        i--; /* s[i] continues a multi-byte character: drop the bytes of it already copied */
        w--;
    }
    memcpy(dst + w, "...", dots);
    w += dots;
    dst[w] = '\0';
    return w;
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

int hs_err_print_line(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    char *msg = NULL, *esc = NULL;
    va_list aq;
    va_copy(aq, ap);
    int n = vasprintf(&msg, fmt, aq);
    va_end(aq);
    if (n >= 0 && (esc = malloc(4 * (size_t)n + 1)))
        hs_err_escape(esc, 4 * (size_t)n + 1, msg, (size_t)n);
    fputs(prefix ? prefix : "", f);
    if (esc)
        fputs(esc, f);
    else
        vfprintf(f, fmt, ap); /* out of memory: as it is rather than nothing */
    fputc('\n', f);
    free(msg);
    free(esc);
    return ferror(f) ? -1 : 0;
}
