/*
 * tiffmsg: capturing libtiff's process-wide error and warning handlers (see tiffmsg_internal.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <tiffio.h>

#include "scoring/tiffmsg_internal.h"
#include "util/hs_error.h"

static _Thread_local char tiff_msg[512], tiff_warn[512];

int hs_tiffmsg_decode_module(const char *module)
{
    static const char *const decoders[] = {"Decode", "JPEGLib", "TIFFFill", "TIFFReadEncoded", "TIFFReadRaw",
                                           "TIFFReadTile", "TIFFReadStrip", "TIFFReadScanline", "gtTile", "gtStrip"};
    for (size_t i = 0; module && i < sizeof decoders / sizeof decoders[0]; i++)
        if (strstr(module, decoders[i]))
            return 1;
    return 0;
}

void hs_tiffmsg_format(char *buf, size_t n, const char *module, const char *fmt, va_list ap)
{
    if (n == 0 || buf[0] != '\0')
        return;
    size_t used = 0;
    if (module && *module) {
        int k = snprintf(buf, n, "%s: ", module);
        used = k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
    }
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    /* One line: libtiff messages sometimes carry a trailing newline; other control bytes (from the file) escaped. */
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    hs_err_escape(buf + used, n - used, text, len);
}

static void capture_error(const char *module, const char *fmt, va_list ap)
{
    hs_tiffmsg_format(tiff_msg, sizeof tiff_msg, module, fmt, ap);
}

static void capture_warning(const char *module, const char *fmt, va_list ap)
{
    if (hs_tiffmsg_decode_module(module))
        hs_tiffmsg_format(tiff_warn, sizeof tiff_warn, module, fmt, ap);
}

void hs_tiffmsg_install(void)
{
    static int installed;
    if (installed)
        return;
    TIFFSetErrorHandler(capture_error);
    TIFFSetWarningHandler(capture_warning);
    TIFFSetErrorHandlerExt(NULL);
    TIFFSetWarningHandlerExt(NULL);
    installed = 1;
}

void hs_tiffmsg_clear(void)
{
    tiff_msg[0] = tiff_warn[0] = '\0';
}

const char *hs_tiffmsg_warning(void)
{
    return tiff_warn;
}

const char *hs_tiffmsg_get(void)
{
    return tiff_msg;
}

int hs_tiffmsg_drop_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1; /* handled: nothing is printed */
}
