/*
 * tiffmsg: keeps libtiff quiet and keeps its last error for our messages.
 *
 * libtiff reports problems through process-wide handlers that print to stderr
 * by default, and OpenSlide 3.4 reads TIFF files through those same handlers.
 * Library code must never print, so slide.c and tiffwriter.c install a
 * capturing handler once; the first error since the last clear is kept per
 * thread (OpenSlide calls libtiff in the caller's thread), and so is the
 * first warning of a decoder (libjpeg and zlib report corrupt data as
 * warnings); other warnings (unknown tags, ...) are dropped.  Messages are
 * kept on one line with control bytes escaped (hs_err_escape).  Internal to
 * scoring/: not part of the public API.
 */
#ifndef HS_TIFFMSG_INTERNAL_H
#define HS_TIFFMSG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

/* Installs the capturing error and warning handlers (idempotent, not thread-safe on first call). */
void hs_tiffmsg_install(void);

/* Forgets the error and the warning kept for this thread. */
void hs_tiffmsg_clear(void);

/* The first libtiff error since the last clear in this thread, or "" when there was none. */
const char *hs_tiffmsg_get(void);

/* The first decoder warning since the last clear in this thread, or "" when there was none. */
const char *hs_tiffmsg_warning(void);

/* 1 when a libtiff message's module is a decoder's (a tile, strip or codec: its warnings mean corrupt data). */
int hs_tiffmsg_decode_module(const char *module);

/*
 * Formats a libtiff message ("module: text") into buf of size n, keeping what
 * buf already holds when it is not empty (the first error is the cause).
 */
void hs_tiffmsg_format(char *buf, size_t n, const char *module, const char *fmt, va_list ap);

/* A per-file libtiff warning handler (TIFFOpenOptionsSetWarningHandlerExtR) that drops the warning. */
#include <tiffio.h>
int hs_tiffmsg_drop_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap);

#endif /* HS_TIFFMSG_INTERNAL_H */
