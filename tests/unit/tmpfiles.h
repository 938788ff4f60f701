/*
 * tmpfiles: scratch files for the unit tests that read from disk (csv, table,
 * manifest).  Each suite makes one fresh directory under /tmp with mkdtemp in
 * its init function, writes its inputs there and removes the whole tree in its
 * cleanup function, so that nothing is left behind and runs never collide.
 */
#ifndef HS_TEST_TMPFILES_H
#define HS_TEST_TMPFILES_H

#include <stddef.h>

/* A new empty directory /tmp/hetsurv-unit-XXXXXX (malloc'd path), or NULL. */
char *hs_test_tmpdir(void);

/*
 * Writes len bytes of data (strlen(data) when len is HS_TEST_STRLEN) to
 * dir/name, creating parent folders named in name.  Returns the malloc'd full
 * path, or NULL on failure.
 */
#define HS_TEST_STRLEN ((size_t)-1)
char *hs_test_write(const char *dir, const char *name, const char *data, size_t len);

/* dir/name as a malloc'd string (the file need not exist). */
char *hs_test_path(const char *dir, const char *name);

/* Removes dir and everything under it, then frees dir.  dir may be NULL. */
void hs_test_rmtree(char *dir);

/* CUnit suite set-up and tear-down of a suite's scratch directory *dir: 0 on success. */
int hs_test_suite_init(char **dir);
int hs_test_suite_clean(char **dir);

#endif /* HS_TEST_TMPFILES_H */
