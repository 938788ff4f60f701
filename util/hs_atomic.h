/*
 * hs_atomic: files that never look complete before they are: written under
 * PATH.tmp (or another suffix), flushed, synced to disk and renamed over
 * PATH, so that a kill or a crash at any instant leaves either the whole
 * file or the temporary one, never a final name cut short.  A failed write
 * removes the temporary file.
 *
 * A PATH that already exists and is not a regular file (/dev/null, a FIFO,
 * a symbolic link such as /dev/stdout) is written directly: nothing is
 * renamed over it, which would replace the device or the link.
 */
#ifndef HS_ATOMIC_H
#define HS_ATOMIC_H

#include <stdio.h>

#include "util/hs_error.h"

/* path + ".tmp", malloc'd; NULL when out of memory. */
char *hs_atomic_tmp_name(const char *path);

/*
 * Opens path's temporary file with fopen mode `mode` ("w", "wb", "w+b"); *tmp
 * receives its malloc'd name (NULL when path is written directly, see above).
 * NULL with HS_EIO or HS_ENOMEM in err (naming the file; a folder at path is
 * refused).
 */
FILE *hs_atomic_open(const char *path, const char *mode, char **tmp, hs_error *err);

/* The same with the temporary name path + suffix (e.g. ".partial"). */
FILE *hs_atomic_open_as(const char *path, const char *suffix, const char *mode, char **tmp, hs_error *err);

/*
 * Flushes, syncs and closes f, then renames *tmp over path (tmp NULL: path
 * was written directly, only flushed and closed).  Every earlier write of f
 * is checked through its error indicator.  On any failure removes the
 * temporary file and returns HS_EIO naming path and the reason ("PATH: cannot
 * write: No space left on device").  Frees tmp.
 */
int hs_atomic_commit(FILE *f, char *tmp, const char *path, hs_error *err) HS_RESULT_USED;

/* Closes f, removes the temporary file and frees tmp (either may be NULL). */
void hs_atomic_abort(FILE *f, char *tmp);

/*
 * For files written by a library that opens them by name (libtiff, HDF5):
 * syncs the closed file tmp to disk and renames it over path.  On failure
 * removes tmp and returns HS_EIO naming path.
 */
int hs_atomic_rename(const char *tmp, const char *path, hs_error *err) HS_RESULT_USED;

#endif /* HS_ATOMIC_H */
