/*
 * tmpfiles: scratch directories and files for the unit tests (see tmpfiles.h).
 */
#include "tmpfiles.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *hs_test_tmpdir(void)
{
    char *dir = strdup("/tmp/hetsurv-unit-XXXXXX");
    if (dir && !mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

char *hs_test_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

char *hs_test_write(const char *dir, const char *name, const char *data, size_t len)
{
    char *path = hs_test_path(dir, name);
    if (!path)
        return NULL;
    /* Create the folders between dir and the file. */
    for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        int rc = mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
        *s = '/';
        if (rc != 0) {
            free(path);
            return NULL;
        }
    }
    if (len == HS_TEST_STRLEN)
        len = strlen(data);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        if (f)
            fclose(f);
        free(path);
        return NULL;
    }
    if (fclose(f) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void hs_test_rmtree(char *dir)
{
    if (!dir)
        return;
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

int hs_test_suite_init(char **dir)
{
    *dir = hs_test_tmpdir();
    return *dir ? 0 : 1;
}

int hs_test_suite_clean(char **dir)
{
    hs_test_rmtree(*dir);
    *dir = NULL;
    return 0;
}
