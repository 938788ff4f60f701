/*
 * hs_atomic: write to a temporary name, sync, rename (see hs_atomic.h).
 */
#include "hs_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *with_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s%s", path, suffix);
    return t;
}

char *hs_atomic_tmp_name(const char *path)
{
    return with_suffix(path, ".tmp");
}

FILE *hs_atomic_open_as(const char *path, const char *suffix, const char *mode, char **tmp, hs_error *err)
{
    *tmp = NULL;
    struct stat st;
    int there = stat(path, &st) == 0;
    if (there && S_ISDIR(st.st_mode)) {
        hs_error_set(err, HS_EIO, "%s: cannot create: it is a folder", path);
        return NULL;
    }
    if ((there && !S_ISREG(st.st_mode)) || (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))) {
        /* a device, a FIFO or a symbolic link (/dev/stdout): renaming over it would replace it */
        FILE *f = fopen(path, mode);
        if (!f)
            hs_error_set(err, HS_EIO, "%s: cannot open: %s", path, strerror(errno));
        return f;
    }
    if (!(*tmp = with_suffix(path, suffix))) {
        hs_error_set(err, HS_ENOMEM, "out of memory");
        return NULL;
    }
    FILE *f = fopen(*tmp, mode);
    if (!f) {
        hs_error_set(err, HS_EIO, "%s: cannot create: %s", path, strerror(errno)); /* the name the user gave */
        free(*tmp);
        *tmp = NULL;
    }
    return f;
}

FILE *hs_atomic_open(const char *path, const char *mode, char **tmp, hs_error *err)
{
    return hs_atomic_open_as(path, ".tmp", mode, tmp, err);
}

int hs_atomic_commit(FILE *f, char *tmp, const char *path, hs_error *err)
{
    int e = 0;
    if (fflush(f) != 0)
        e = errno ? errno : EIO;
    else if (ferror(f))
        e = -1; /* an earlier write failed and nothing was left to retry: its errno is gone */
    else if (tmp && fsync(fileno(f)) != 0)
        e = errno;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (!e && tmp && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        if (tmp)
            remove(tmp);
        free(tmp);
        return hs_error_set(err, HS_EIO, "%s: cannot write: %s", path, e > 0 ? strerror(e) : "a write failed");
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

int hs_atomic_rename(const char *tmp, const char *path, hs_error *err)
{
    int e = 0, fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        e = errno;
    if (fd >= 0)
        close(fd);
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        remove(tmp);
        return hs_error_set(err, HS_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    return HS_OK;
}
