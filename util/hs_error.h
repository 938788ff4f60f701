/*
 * hs_error: status codes and error messages shared by every hetsurv module.
 *
 * Library code never prints and never exits.  A function that can fail returns
 * HS_OK (0) or a negative hs_status, and, when the caller passed a non-NULL
 * hs_error, fills it with a one-line human-readable message.  Only the command
 * layer (cli/) reports errors to the user.
 */
#ifndef HS_ERROR_H
#define HS_ERROR_H

#include <stdarg.h>
#include <stdio.h>

#include <stddef.h>

#if defined(__GNUC__)
#define HS_RESULT_USED __attribute__((warn_unused_result))
#define HS_FORMAT(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define HS_RESULT_USED
#define HS_FORMAT(fmt, first)
#endif

/* Status codes: 0 is success, every failure is negative. */
typedef enum hs_status {
    HS_OK = 0,
    HS_EINVAL = -1,   /* invalid argument (caller bug or bad option value) */
    HS_ENOMEM = -2,   /* allocation failed */
    HS_EIO = -3,      /* file could not be opened, read or written */
    HS_EDATA = -4,    /* input data is malformed (bad CSV value, bad slide, ...) */
    HS_ENUMERIC = -5, /* numerical failure (singular matrix, non-finite result) */
    HS_EFORMAT = -6,  /* unsupported or corrupt file format */
    HS_EINTR = -7     /* stopped on request (a signal asked the run to stop) */
} hs_status;

#define HS_ERROR_MSG_MAX 1024

/* An error report: the status code and a message (no trailing newline). */
typedef struct hs_error {
    int code;
    char msg[HS_ERROR_MSG_MAX];
} hs_error;

/* Clears err (code HS_OK, empty message).  err may be NULL. */
void hs_error_clear(hs_error *err);

/*
 * Records code and a printf-style message in err (which may be NULL) and
 * returns code, so that failures read `return hs_error_set(err, HS_EDATA, ...)`.
 */
int hs_error_set(hs_error *err, int code, const char *fmt, ...) HS_FORMAT(3, 4);

/*
 * Copies src[0..n-1] (which may hold any byte, NUL included) into dst as text
 * fit to quote in a message: '\n', '\t' and '\r' become the two characters
 * \n, \t, \r; every other byte below 0x20 and 0x7f becomes \xNN (two upper-
 * case hex digits); every other byte is copied as is.  When the escaped copy
 * does not fit in cap - 1 characters it is cut (never inside an escape or a
 * UTF-8 sequence) and "..." is appended.  dst is always NUL-terminated when
 * cap > 0.  Returns the number of characters written, the NUL excluded.
 */
size_t hs_err_escape(char *dst, size_t cap, const char *src, size_t n);

/*
 * Writes to f one line: prefix, then the printf-style message with every
 * control byte escaped as hs_err_escape does (a slide path or a batch name
 * from a manifest can hold any byte; the terminal must not act on it), then
 * a newline.  Returns 0, or -1 when f reports an error.
 */
int hs_err_print_line(FILE *f, const char *prefix, const char *fmt, va_list ap) HS_FORMAT(3, 0);

/* A short static description of a status code ("out of memory", ...). */
const char *hs_strerror(int code);

#endif /* HS_ERROR_H */
