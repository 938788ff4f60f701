/*
 * hs_atomic: files that never look complete before they are: written under
 * PATH.tmp, flushed, synced to disk and renamed over PATH, so that a kill or
 * a crash at any instant leaves either the whole file or a *.tmp.
 */
#ifndef HS_ATOMIC_H
#define HS_ATOMIC_H

#include <stdio.h>

#include "util/hs_error.h"

/* path + ".tmp", malloc'd; NULL when out of memory. */
char *hs_atomic_tmp_name(const char *path);

/*
 * Opens path's temporary file with fopen mode `mode` ("w", "wb", "w+b"); *tmp
 * receives its malloc'd name.  NULL with HS_EIO or HS_ENOMEM in err (named).
 */
FILE *hs_atomic_open(const char *path, const char *mode, char **tmp, hs_error *err);

/*
 * Flushes, syncs and closes f, then renames *tmp over path.  On any failure
 * removes the temporary file and returns HS_EIO naming path.  Frees *tmp.
 */
int hs_atomic_commit(FILE *f, char *tmp, const char *path, hs_error *err) HS_RESULT_USED;

/* Closes f, removes the temporary file and frees tmp. */
void hs_atomic_abort(FILE *f, char *tmp);

#endif /* HS_ATOMIC_H */
