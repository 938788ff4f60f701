/*
 * Unit tests of util/hs_atomic: a file appears under its name only when
 * complete; a failed write leaves neither it nor its temporary file; a device
 * or a link is written directly, a folder refused.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include "suites.h"
#include "tmpfiles.h"
#include "util/hs_atomic.h"

static char *dir;

static int init(void)
{
    return hs_test_suite_init(&dir);
}

static int clean(void)
{
    return hs_test_suite_clean(&dir);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_commit(void)
{
    char *path = hs_test_path(dir, "a.csv"), *tmp = NULL;
    hs_error e;
    FILE *f = hs_atomic_open_as(path, ".partial", "w", &tmp, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tmp);
    CU_ASSERT(strlen(tmp) > 8 && strcmp(tmp + strlen(tmp) - 8, ".partial") == 0);
    fputs("x,y\n1,2\n", f);
    CU_ASSERT_EQUAL(fflush(f), 0);
    CU_ASSERT(exists(tmp));
    CU_ASSERT(!exists(path)); /* not before it is complete */
    char *t = strdup(tmp);
    CU_ASSERT_EQUAL(hs_atomic_commit(f, tmp, path, &e), HS_OK);
    CU_ASSERT(exists(path));
    CU_ASSERT(!exists(t));
    free(t);
    free(path);
}

static void test_folder_refused(void)
{
    char *path = hs_test_path(dir, "sub"), *tmp = NULL;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0777), 0);
    CU_ASSERT_PTR_NULL(hs_atomic_open(path, "w", &tmp, &e));
    CU_ASSERT_PTR_NULL(tmp);
    CU_ASSERT(strstr(e.msg, "sub: cannot create: it is a folder") != NULL);
    free(path);
}

static void test_device_direct(void)
{
    char *tmp = (char *)1;
    hs_error e;
    FILE *f = hs_atomic_open("/dev/null", "w", &tmp, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NULL(tmp); /* written directly: nothing to rename over the device */
    fputs("x\n", f);
    CU_ASSERT_EQUAL(hs_atomic_commit(f, tmp, "/dev/null", &e), HS_OK);
    struct stat st;
    CU_ASSERT(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    /* a link is written through: it stays a link */
    char *target = hs_test_path(dir, "target"), *link = hs_test_path(dir, "link");
    CU_ASSERT_EQUAL_FATAL(symlink(target, link), 0);
    f = hs_atomic_open(link, "w", &tmp, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NULL(tmp);
    fputs("y\n", f);
    CU_ASSERT_EQUAL(hs_atomic_commit(f, tmp, link, &e), HS_OK);
    CU_ASSERT(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CU_ASSERT(stat(target, &st) == 0 && st.st_size == 2);
    free(target);
    free(link);
}

/* A write beyond the file size limit (a full disk): an error naming the file and why, no file left. */
static void test_full(void)
{
    char *path = hs_test_path(dir, "big.csv"), *tmp = NULL;
    hs_error e;
    struct rlimit old, small = {4096, 4096};
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    FILE *f = hs_atomic_open(path, "w", &tmp, &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *t = strdup(tmp);
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &small), 0);
    for (int i = 0; i < 2000; i++)
        fprintf(f, "%d,0.123456789\n", i);
    int rc = hs_atomic_commit(f, tmp, path, &e);
    CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    CU_ASSERT_EQUAL(rc, HS_EIO);
    CU_ASSERT(strstr(e.msg, "big.csv: cannot write: File too large") != NULL);
    CU_ASSERT(!exists(path));
    CU_ASSERT(!exists(t));
    free(t);
    free(path);
}

int hs_suite_atomic(void)
{
    CU_pSuite s = CU_add_suite("atomic", init, clean);
    if (!s || !CU_add_test(s, "renamed when complete", test_commit) ||
        !CU_add_test(s, "a folder refused", test_folder_refused) ||
        !CU_add_test(s, "a device or a link written directly", test_device_direct) ||
        !CU_add_test(s, "a full disk: error, nothing left", test_full))
        return 1;
    return 0;
}
