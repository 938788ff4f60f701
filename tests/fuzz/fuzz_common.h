/*
 * fuzz_common: what every libFuzzer harness in tests/fuzz shares.  hetsurv's
 * readers take a path, so each input is written to a scratch file of this
 * process (in FUZZ_TMPDIR, else /dev/shm when it exists, else /tmp), which is
 * rewritten for every input and removed at exit.
 */
#ifndef HS_FUZZ_COMMON_H
#define HS_FUZZ_COMMON_H
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_MAX_FILES 4

static char fz_paths[FZ_MAX_FILES][512];

static inline void fz_cleanup(void)
{
    for (int i = 0; i < FZ_MAX_FILES; i++)
        if (fz_paths[i][0])
            unlink(fz_paths[i]);
}

/* The scratch folder of this process's files. */
static inline const char *fz_dir(void)
{
    const char *d = getenv("FUZZ_TMPDIR");
    struct stat st;
    if (d && *d)
        return d;
    return stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

/* Scratch file number slot (0..FZ_MAX_FILES-1), named ...<name>, now holding data[0..size-1]; its path. */
static inline const char *fz_file(int slot, const char *name, const uint8_t *data, size_t size)
{
    if (!fz_paths[slot][0]) {
        snprintf(fz_paths[slot], sizeof fz_paths[slot], "%s/hsfuzz-%ld-%s", fz_dir(), (long)getpid(), name);
        atexit(fz_cleanup);
    }
    int fd = open(fz_paths[slot], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(fz_paths[slot]);
        abort();
    }
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            perror(fz_paths[slot]);
            abort();
        }
        done += (size_t)w;
    }
    close(fd);
    return fz_paths[slot];
}

/* A stream that discards what is written to it (reports are formatted, not kept). */
static inline FILE *fz_null(void)
{
    static FILE *f;
    if (!f && !(f = fopen("/dev/null", "w")))
        abort();
    return f;
}

#endif /* HS_FUZZ_COMMON_H */
