/*
 * hs_sha256: the SHA-256 of a file or a buffer, as hex (libgcrypt's message digests).
 * A cohort run records it for its manifest, so that a resumed run can tell
 * a changed manifest and results can be traced to their input.
 */
#ifndef HS_SHA256_H
#define HS_SHA256_H

#include <stddef.h>

#include "util/hs_error.h"

#define HS_SHA256_HEX 65 /* 64 hex digits and the NUL */

/* Writes the SHA-256 of the file at path as 64 lower-case hex digits into hex.  HS_EIO (named). */
int hs_sha256_file(const char *path, char hex[HS_SHA256_HEX], hs_error *err) HS_RESULT_USED;

/* The same of n bytes in memory.  HS_EIO when libgcrypt cannot start. */
int hs_sha256_buf(const void *data, size_t n, char hex[HS_SHA256_HEX], hs_error *err) HS_RESULT_USED;

#endif /* HS_SHA256_H */
