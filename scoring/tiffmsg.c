/*
 * tiffmsg: capturing libtiff's process-wide error handler (see tiffmsg_internal.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <tiffio.h>

#include "scoring/tiffmsg_internal.h"

static _Thread_local char tiff_msg[512];

void hs_tiffmsg_format(char *buf, size_t n, const char *module, const char *fmt, va_list ap)
{
    if (n == 0 || buf[0] != '\0')
        return;
    size_t used = 0;
    if (module && *module) {
        int k = snprintf(buf, n, "%s: ", module);
        used = k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
    }
    vsnprintf(buf + used, n - used, fmt, ap);
    /* One line: libtiff messages sometimes carry a trailing newline. */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

static void capture_error(const char *module, const char *fmt, va_list ap)
{
    hs_tiffmsg_format(tiff_msg, sizeof tiff_msg, module, fmt, ap);
}

static void drop_warning(const char *module, const char *fmt, va_list ap)
{
    (void)module;
    (void)fmt;
    (void)ap;
}

void hs_tiffmsg_install(void)
{
    static int installed;
    if (installed)
        return;
    TIFFSetErrorHandler(capture_error);
    TIFFSetWarningHandler(drop_warning);
    TIFFSetErrorHandlerExt(NULL);
    TIFFSetWarningHandlerExt(NULL);
    installed = 1;
}

void hs_tiffmsg_clear(void)
{
    tiff_msg[0] = '\0';
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
