/*
 * checkpoint: the files that let a cohort run resume (see checkpoint.h).
 */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/hs_atomic.h"

int hs_ckpt_item_paths(const char *dir, size_t i, char *cells, char *meta, size_t size, hs_error *err)
{
    int a = snprintf(cells, size, "%s/checkpoint/%zu.cells", dir, i);
    int b = snprintf(meta, size, "%s/checkpoint/%zu.meta", dir, i);
    if (a < 0 || b < 0 || (size_t)a >= size || (size_t)b >= size)
        return hs_error_set(err, HS_EINVAL, "%s: path too long", dir);
    return HS_OK;
}

int hs_ckpt_load_item(const char *dir, size_t i, hs_measured *m, hs_error *err)
{
    char cells[4096], meta[4096];
    memset(m, 0, sizeof *m);
    int rc = hs_ckpt_item_paths(dir, i, cells, meta, sizeof cells, err);
    if (rc != HS_OK)
        return rc;
    rc = hs_measured_load(m, cells, meta, err);
    if (rc == HS_ENOMEM)
        return rc;
    if (rc != HS_OK) {
        hs_measured_clear(m);
        snprintf(m->error, sizeof m->error, "its checkpoint is damaged: %.900s", err->msg);
    }
    return HS_OK;
}

/* A run's key is under 1 KB: a stored one longer than this is not one (and comparing it line by line is quadratic). */
#define MAX_KEY_BYTES 65536

/* Reads a small file (at most MAX_KEY_BYTES + 1 bytes of it) into a fresh string; NULL with errno when it cannot. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t got;
    while (s && n <= MAX_KEY_BYTES && (got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *t = realloc(s, cap * 2);
            if (!t) {
                free(s);
                s = NULL;
                break;
            }
            s = t;
            cap *= 2;
        }
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

/* The value of the key that starts line p (of length kl) in a "key value" text, as a fresh string; NULL when absent. */
static char *value_of(const char *text, const char *key, size_t kl)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, key, kl) && p[kl] == ' ') {
            const char *v = p + kl + 1;
            return strndup(v, strcspn(v, "\n"));
        }
    return NULL;
}

/*
 * Writes into buf (size n) every key whose value differs between the stored
 * key `was` and this run's `now`, "k was 'a', now 'b'" joined by "; ".  -1
 * (buf says so) when `was` is too long to be a run's key.
 */
static int differences(const char *was, const char *now, char *buf, size_t n)
{
    if (strlen(was) > MAX_KEY_BYTES) {
        snprintf(buf, n, "not the key of a hetsurv run (over %d bytes; a run's is under 1 KB)", MAX_KEY_BYTES);
        return -1;
    }
    int len = 0;
    buf[0] = '\0';
    const char *texts[2] = {now, was};
    /* ends when buf is full: each key looked up is a scan of both texts */
    for (int pass = 0; pass < 2 && len < (int)n; pass++)
        for (const char *p = texts[pass]; *p && len < (int)n;
             p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
            size_t kl = strcspn(p, " \n");
            char *a = kl ? value_of(was, p, kl) : NULL, *b = kl ? value_of(now, p, kl) : NULL;
            /* the first pass sees every key of this run, the second the keys only the stored run had */
            int differs = pass == 0 ? !a || !b || strcmp(a, b) : !b;
            if (kl && differs && len < (int)n)
                len += snprintf(buf + len, n - len, "%s%.*s was '%s', now '%s'", len ? "; " : "", (int)kl, p,
                                a ? a : "(none)", b ? b : "(none)");
            free(a);
            free(b);
        }
    return 0;
}

/* An HS_EINVAL naming every key whose value differs between the stored key `was` and this run's `now`. */
static int explain(const char *was, const char *now, const char *path, hs_error *err)
{
    char what[HS_ERROR_MSG_MAX];
    if (differences(was, now, what, sizeof what) != 0)
        return hs_error_set(err, HS_EINVAL, "%s: %s: use --restart", path, what);
    return hs_error_set(err, HS_EINVAL,
                        "%s: this run differs from the checkpointed one: %s%srerun with the same manifest and options, "
                        "or use --restart",
                        path, what, what[0] ? "; " : "");
}

/* Removes DIR/checkpoint's files: all of them (all = 1) or the *.tmp ones. */
static int sweep(const char *ck, int all, hs_error *err)
{
    DIR *d = opendir(ck);
    if (!d)
        return hs_error_set(err, HS_EIO, "%s: %s", ck, strerror(errno));
    struct dirent *e;
    int rc = HS_OK;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (n[0] == '.')
            continue;
        int tmp = (len > 4 && !strcmp(n + len - 4, ".tmp")) || strstr(n, ".tmp.") != NULL;
        static const char *const kinds[] = {".meta", ".cells", ".map"};
        int ours = tmp || !strcmp(n, "run.key");
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && !ours; k++)
            ours = len > strlen(kinds[k]) && !strcmp(n + len - strlen(kinds[k]), kinds[k]);
        if (!(all ? ours : tmp))
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", ck, n);
        if (remove(path) != 0 && rc == HS_OK)
            rc = hs_error_set(err, HS_EIO, "%s: cannot remove: %s", path, strerror(errno));
    }
    closedir(d);
    return rc;
}

int hs_ckpt_remove(const char *dir, int all, hs_error *err)
{
    char ck[4096];
    if (snprintf(ck, sizeof ck, "%s/checkpoint", dir) >= (int)sizeof ck)
        return hs_error_set(err, HS_EINVAL, "%s: path too long", dir);
    int rc = all ? sweep(ck, 1, err) : HS_OK;
    for (int k = 0; rc == HS_OK && k < 2; k++) {
        char lp[4200];
        snprintf(lp, sizeof lp, "%s/%s", ck, k ? "lock.ranks" : "lock");
        if (remove(lp) != 0 && errno != ENOENT)
            rc = hs_error_set(err, HS_EIO, "%s: cannot remove: %s", lp, strerror(errno));
    }
    /* a folder still holding something not ours stays, as does its parent */
    if (rc == HS_OK && rmdir(ck) == 0)
        (void)rmdir(dir);
    return rc;
}

/* Writes the key under a name of this process's own (shards may write it at once), then renames it into place. */
static int write_key(const char *path, const char *key, hs_error *err)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    fputs(key, f);
    char *t = strdup(tmp);
    if (!t) {
        hs_atomic_abort(f, NULL);
        remove(tmp);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    return hs_atomic_commit(f, t, path, err);
}

/* open_key: DIR/checkpoint created if missing, its path in ck and run.key's in kp; *was the key an earlier run
 * wrote (NULL when there is none) */
static int open_key(const char *dir, char *ck, size_t nck, char *kp, size_t nkp, char **was, hs_error *err)
{
    *was = NULL;
    if (snprintf(ck, nck, "%s/checkpoint", dir) >= (int)nck || snprintf(kp, nkp, "%s/run.key", ck) >= (int)nkp)
        return hs_error_set(err, HS_EINVAL, "%s: path too long", dir);
    if (mkdir(ck, 0777) != 0 && errno != EEXIST)
        return hs_error_set(err, HS_EIO, "%s: cannot create: %s", ck, strerror(errno));
    *was = slurp(kp);
    if (!*was && errno != ENOENT)
        return hs_error_set(err, HS_EIO, "%s: %s", kp, strerror(errno));
    return HS_OK;
}

int hs_ckpt_prepare_shard(const char *dir, const char *key, hs_error *err)
{
    char ck[4096], kp[4200], *was;
    int rc = open_key(dir, ck, sizeof ck, kp, sizeof kp, &was, err);
    if (rc != HS_OK)
        return rc;
    rc = was ? (strcmp(was, key) ? explain(was, key, kp, err) : HS_OK) : write_key(kp, key, err);
    free(was);
    return rc;
}

int hs_ckpt_prepare_renew(const char *dir, const char *key, char *changed, size_t n, hs_error *err)
{
    char ck[4096], kp[4200], *was;
    int rc = open_key(dir, ck, sizeof ck, kp, sizeof kp, &was, err);
    if (rc != HS_OK)
        return rc;
    int renew = was && strcmp(was, key);
    if (renew && differences(was, key, changed, n) == 0 && !changed[0])
        snprintf(changed, n, "the stored key differs"); /* the same keys and values, in another order */
    else if (!renew && n)
        changed[0] = '\0';
    free(was);
    rc = sweep(ck, renew, err);
    if (rc == HS_OK)
        rc = write_key(kp, key, err);
    return rc;
}

int hs_ckpt_prepare(const char *dir, const char *key, int resume, int restart, hs_error *err)
{
    char ck[4096], kp[4200], *was;
    int rc = open_key(dir, ck, sizeof ck, kp, sizeof kp, &was, err);
    if (rc != HS_OK)
        return rc;
    if (was && !resume && !restart)
        rc = hs_error_set(err, HS_EINVAL,
                          "%s holds the checkpoint of an earlier run: add --resume to continue it, or --restart to "
                          "discard it",
                          dir);
    else if (was && resume && strcmp(was, key))
        rc = explain(was, key, kp, err);
    free(was);
    if (rc == HS_OK)
        rc = sweep(ck, !resume, err);
    if (rc == HS_OK)
        rc = write_key(kp, key, err);
    return rc;
}

/*
 * Opens the lock file lp (created if missing) and flocks it with op, not
 * waiting: HS_OK with *fd its descriptor, or with *fd = -1 and *state 1 when
 * another process holds it, 2 when the file system cannot lock; HS_EIO
 * (named) otherwise.
 */
static int try_lock(const char *lp, int op, int *fd, int *state, hs_error *err)
{
    *fd = -1;
    *state = 0;
    int f = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (f < 0)
        return hs_error_set(err, HS_EIO, "%s: cannot create: %s", lp, strerror(errno));
    if (flock(f, op | LOCK_NB) == 0) {
        *fd = f;
        return HS_OK;
    }
    int e = errno;
    close(f);
    if (e == ENOLCK || e == ENOSYS || e == EOPNOTSUPP)
        *state = 2;
    else if (e == EWOULDBLOCK)
        *state = 1;
    else
        return hs_error_set(err, HS_EIO, "%s: cannot lock: %s", lp, strerror(e));
    return HS_OK;
}

int hs_ckpt_lock(const char *dir, int shard, int *fd, int *warn, hs_error *err)
{
    char ck[4096], lp[4200];
    *fd = -1;
    *warn = 0;
    if (snprintf(ck, sizeof ck, "%s/checkpoint", dir) >= (int)sizeof ck)
        return hs_error_set(err, HS_EINVAL, "%s: path too long", dir);
    if (shard >= 0)
        snprintf(lp, sizeof lp, "%s/lock.shard%d", ck, shard);
    else
        snprintf(lp, sizeof lp, "%s/lock", ck);
    if (mkdir(ck, 0777) != 0 && errno != EEXIST)
        return hs_error_set(err, HS_EIO, "%s: cannot create: %s", ck, strerror(errno));
    int state, rc = try_lock(lp, LOCK_EX, fd, &state, err);
    *warn = state == 2;
    if (rc == HS_OK && state == 1 && shard >= 0)
        return hs_error_set(err, HS_EINVAL, "%s: shard %d is being measured by another hetsurv run", dir, shard);
    if (rc == HS_OK && state == 1)
        return hs_error_set(err, HS_EINVAL, "%s is in use by another hetsurv run; wait for it to end", dir);
    return rc;
}

/* try_lock on DIR/checkpoint/lock.ranks; *busy set when another process holds it. */
static int lock_ranks(const char *dir, int op, int *fd, int *busy, hs_error *err)
{
    char lp[4200];
    *fd = -1;
    *busy = 0;
    if (snprintf(lp, sizeof lp, "%s/checkpoint/lock.ranks", dir) >= (int)sizeof lp)
        return hs_error_set(err, HS_EINVAL, "%s: path too long", dir);
    int state, rc = try_lock(lp, op, fd, &state, err);
    *busy = state == 1;
    return rc;
}

int hs_ckpt_lock_rank(const char *dir, int *fd, hs_error *err)
{
    int busy, rc = lock_ranks(dir, LOCK_SH, fd, &busy, err);
    if (rc == HS_OK && busy) /* only a new run's check holds it exclusively, before its ranks start */
        rc = hs_error_set(err, HS_EINVAL, "%s is in use by another hetsurv run; wait for it to end", dir);
    return rc;
}

int hs_ckpt_ranks_idle(const char *dir, hs_error *err)
{
    int fd, busy, rc = lock_ranks(dir, LOCK_EX, &fd, &busy, err);
    if (fd >= 0)
        close(fd);
    if (rc == HS_OK && busy)
        rc = hs_error_set(err, HS_EINVAL,
                          "%s: processes of an earlier run (its mpirun was killed) are still writing the checkpoint; "
                          "wait for them to end, then rerun with --resume",
                          dir);
    return rc;
}

void hs_ckpt_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

int hs_ckpt_shards_idle(const char *dir, hs_error *err)
{
    char ck[4096];
    if (snprintf(ck, sizeof ck, "%s/checkpoint", dir) >= (int)sizeof ck)
        return hs_error_set(err, HS_EINVAL, "%s: path too long", dir);
    DIR *d = opendir(ck);
    if (!d)
        return HS_OK;
    struct dirent *e;
    int rc = HS_OK;
    while (rc == HS_OK && (e = readdir(d))) {
        if (strncmp(e->d_name, "lock.shard", 10))
            continue;
        char lp[4400];
        snprintf(lp, sizeof lp, "%s/%s", ck, e->d_name);
        int f = open(lp, O_RDWR | O_CLOEXEC);
        if (f < 0)
            continue;
        if (flock(f, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
            rc = hs_error_set(err, HS_EINVAL, "%s: shard %s is still being measured; wait for it to end", dir,
                              e->d_name + 10);
        close(f);
    }
    closedir(d);
    return rc;
}
