/*
 * hs_atomic: write to a temporary name, sync, rename (see hs_atomic.h).
 */
#include "hs_atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *hs_atomic_tmp_name(const char *path)
{
    size_t n = strlen(path) + 5;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s.tmp", path);
    return t;
}

FILE *hs_atomic_open(const char *path, const char *mode, char **tmp, hs_error *err)
{
    if (!(*tmp = hs_atomic_tmp_name(path))) {
        hs_error_set(err, HS_ENOMEM, "out of memory");
        return NULL;
    }
    FILE *f = fopen(*tmp, mode);
    if (!f) {
        hs_error_set(err, HS_EIO, "%s: cannot create: %s", *tmp, strerror(errno));
        free(*tmp);
        *tmp = NULL;
    }
    return f;
}

int hs_atomic_commit(FILE *f, char *tmp, const char *path, hs_error *err)
{
    errno = 0;
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int e = errno;
    bad |= fclose(f) != 0;
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        remove(tmp);
        free(tmp);
        return hs_error_set(err, HS_EIO, "%s: cannot write: %s", path, strerror(e ? e : errno ? errno : EIO));
    }
    free(tmp);
    return HS_OK;
}

void hs_atomic_abort(FILE *f, char *tmp)
{
    if (f)
        fclose(f);
    if (tmp)
        remove(tmp);
    free(tmp);
}
