/*
 * cli: helpers shared by the subcommands (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Whether standard output's failure was reported. */
static int stdout_failed;

static int stdout_fail(int e)
{
    if (!stdout_failed) {
        stdout_failed = 1;
        fflush(stderr);
        if (e)
            fprintf(stderr, "hetsurv: error writing standard output: %s\n", strerror(e));
        else
            fputs("hetsurv: error writing standard output\n", stderr);
    }
    return -1;
}

void hs_cli_stdout_error(int e)
{
    stdout_fail(e);
}

int hs_cli_stdout_flush(void)
{
    errno = 0;
    if (fflush(stdout) != 0)
        return stdout_fail(errno);
    if (ferror(stdout) || stdout_failed)
        return stdout_fail(0); /* an earlier write failed and nothing is left to retry */
    return 0;
}

int hs_cli_stdout_close(void)
{
    int bad = hs_cli_stdout_flush() != 0;
    errno = 0;
    /* EBADF with nothing pending: standard output was closed and never written to */
    if (fclose(stdout) != 0 && !bad && errno != EBADF)
        bad = stdout_fail(errno) != 0;
    return bad ? -1 : 0;
}

/* "hetsurv CMD: " and the message, control bytes escaped, on stderr. */
static void say(const char *cmd, const char *fmt, va_list ap) HS_FORMAT(2, 0);
static void say(const char *cmd, const char *fmt, va_list ap)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "hetsurv %s: ", cmd);
    (void)hs_err_print_line(stderr, prefix, fmt, ap);
}

void hs_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(cmd, fmt, ap);
    va_end(ap);
}

int hs_cli_misuse(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(cmd, fmt, ap);
    va_end(ap);
    usage(stderr);
    return HS_EXIT_USAGE;
}

int hs_cli_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

char **hs_cli_list(const char *s, size_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    char **list = calloc(cap + 1, sizeof *list);
    if (!list)
        return NULL;
    size_t k = 0;
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len) {
            if (!(list[k] = strndup(p, len))) {
                hs_cli_list_free(list);
                return NULL;
            }
            k++;
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    *n = k;
    return list;
}

void hs_cli_list_free(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

int hs_cli_out_parent(const char *cmd, const char *out)
{
    const char *slash = strrchr(out, '/');
    if (!slash || slash == out)
        return 0;
    char *parent = strndup(out, (size_t)(slash - out));
    int bad = !parent || hs_cli_mkdirs(parent) != 0;
    if (bad)
        hs_cli_error(cmd, "%s: cannot create the output folder: %s", parent ? parent : out, strerror(errno));
    free(parent);
    return bad ? -1 : 0;
}

int hs_cli_mkdirs(const char *path)
{
    char *tmp = strdup(path);
    if (!tmp)
        return -1;
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
                free(tmp);
                return -1;
            }
            if (!(*p = c))
                break;
        }
    }
    struct stat st;
    int ok = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    free(tmp);
    if (!ok)
        errno = ENOTDIR;
    return ok ? 0 : -1;
}
