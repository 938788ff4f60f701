/*
 * measured: a slide's measurement saved, loaded and made in a child process (see measured.h).
 *
 * The verdict file is text, one "key value" per line, ending with "end":
 *
 *     hetsurv-measured 1
 *     verdict ok | failed | qupath
 *     error <one line>                         (failed)
 *     level, mpp, width_um, height_um, ...      (ok; numbers with %.17g)
 *     cells_start <offset> / cells_n <count> / cells_max_sectors <n>
 *     map <nx> <ny> <tile_um> <from_class>      (qupath: the cell file then holds the map's counts)
 *     end
 */
#include "measured.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scoring/qupath.h"
#include "util/hs_atomic.h"

#define MAGIC "hetsurv-measured 1"
#define MAX_SIDE_UM 1e6 /* a slide side read back from a checkpoint: 1 m, ten times any glass slide */

int hs_measured_is_qupath(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && (!strcasecmp(dot, ".tsv") || !strcasecmp(dot, ".txt") || !strcasecmp(dot, ".csv"));
}

/* One line of text: control characters become spaces. */
/* A "key text" line: control bytes (a slide path can hold any) escaped, which also keeps the line one line. */
static void put_text(FILE *f, const char *key, const char *s)
{
    char esc[4 * HS_ERROR_MSG_MAX + 1];
    hs_err_escape(esc, sizeof esc, s, strnlen(s, HS_ERROR_MSG_MAX));
    fprintf(f, "%s %s\n", key, esc);
}

/* Writes the verdict file: failed with why, or the measurement (res) / QuPath map (map). */
static int save_meta(const char *meta_path, const char *why, const hs_score_result *res, const hs_tilemap *map,
                     int from_class, hs_error *err)
{
    char *tmp;
    FILE *f = hs_atomic_open(meta_path, "w", &tmp, err);
    if (!f)
        return err->code;
    fprintf(f, "%s\n", MAGIC);
    if (why) {
        fputs("verdict failed\n", f);
        put_text(f, "error", why);
    } else if (map) {
        fprintf(f, "verdict qupath\nmap %zu %zu %.17g %d\n", map->nx, map->ny, map->tile_um, from_class);
    } else {
        fputs("verdict ok\n", f);
        fprintf(f, "level %d\nmpp %.17g\nwidth_um %.17g\nheight_um %.17g\n", res->level, res->mpp, res->width_um,
                res->height_um);
        fprintf(f, "background %.17g %.17g %.17g\nmegapixels %.17g\n", res->background[0], res->background[1],
                res->background[2], res->megapixels);
        fprintf(f, "stain_h %.17g %.17g %.17g\nstain_dab %.17g %.17g %.17g\n", res->stain_h[0], res->stain_h[1],
                res->stain_h[2], res->stain_dab[0], res->stain_dab[1], res->stain_dab[2]);
        fprintf(f, "stain_source %d\nstain_h_angle %.17g\nstain_dab_angle %.17g\n", (int)res->stain_source,
                res->stain_h_angle, res->stain_dab_angle);
        put_text(f, "stain_note", res->stain_note);
        fprintf(f, "scale %.17g %.17g %zu\ncell_radius_um %.17g\n", res->scale.spacing_um, res->scale.nucleus_area_um2,
                res->scale.n_sheet, res->cell_radius_um);
        fprintf(f, "cells_start %ld\ncells_n %zu\ncells_max_sectors %d\n", hs_cellstore_start(res->cells),
                hs_cellstore_count(res->cells), hs_cellstore_max_sectors(res->cells));
    }
    fputs("end\n", f);
    return hs_atomic_commit(f, tmp, meta_path, err);
}

/* Writes a QuPath export's tile counts into the cell file (as 64-bit counts). */
static int save_map(const hs_tilemap *m, const char *cells_path, hs_error *err)
{
    char *tmp;
    FILE *f = hs_atomic_open(cells_path, "wb", &tmp, err);
    if (!f)
        return err->code;
    size_t n = m->nx * m->ny * HS_NCLASS;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = m->count[i];
        fwrite(&v, sizeof v, 1, f);
    }
    return hs_atomic_commit(f, tmp, cells_path, err);
}

/* Reads one QuPath export of a single image into *map. */
static int read_qupath(const char *path, const hs_qupath_opts *q, hs_tilemap **map, int *from_class, hs_error *err)
{
    hs_qupath *qp = NULL;
    int rc = hs_qupath_read(&qp, path, q->tile_um, q->mpp, q->completeness_col, q->hp, err);
    if (rc != HS_OK)
        return rc;
    if (qp->nimage != 1) {
        rc = hs_error_set(err, HS_EDATA, "%s: a QuPath export in a manifest must hold one image, not %zu", path,
                          qp->nimage);
    } else if (qp->image[0].error) {
        rc = hs_error_set(err, HS_EDATA, "%s", qp->image[0].error);
    } else {
        *map = qp->image[0].map;
        *from_class = qp->from_class;
        qp->image[0].map = NULL;
    }
    hs_qupath_free(qp);
    return rc;
}

int hs_measure_save(const char *path, const hs_score_params *p, const hs_qupath_opts *q, const char *cells_path,
                    const char *meta_path, hs_error *err)
{
    hs_error why;
    if (q && hs_measured_is_qupath(path)) {
        hs_tilemap *map = NULL;
        int from_class = 0;
        int rc = read_qupath(path, q, &map, &from_class, &why);
        if (rc == HS_OK && (rc = save_map(map, cells_path, err)) == HS_OK)
            rc = save_meta(meta_path, NULL, NULL, map, from_class, err);
        else if (rc != HS_EIO || !map)
            rc = save_meta(meta_path, why.msg, NULL, NULL, 0, err);
        hs_tilemap_free(map);
        return rc;
    }
    char *tmp;
    FILE *cells = hs_atomic_open(cells_path, "w+b", &tmp, err);
    if (!cells)
        return err->code;
    hs_score_result res;
    int rc = hs_score_slide(path, p, cells, &res, &why);
    if (rc != HS_OK) {
        /* a write error on the checkpoint's own cell file (a full disk) is not the slide's: no verdict is saved,
           the run stops, and a resume measures the slide again */
        int disk = ferror(cells);
        hs_atomic_abort(cells, tmp);
        if (disk)
            return hs_error_set(err, HS_EIO, "%s: %s", cells_path, why.msg);
        return save_meta(meta_path, why.msg, NULL, NULL, 0, err);
    }
    rc = hs_atomic_commit(cells, tmp, cells_path, err);
    if (rc == HS_OK)
        rc = save_meta(meta_path, NULL, &res, NULL, 0, err);
    hs_score_result_clear(&res);
    return rc;
}

/* ---- the measuring process ---------------------------------------------------------------------------------- */

struct hs_measurer {
    hs_score_params p;
    hs_qupath_opts q;
    int has_q;
    pid_t pid;                 /* the server, 0 when none */
    int job_fd, done_fd;       /* parent's ends: jobs out, verdicts back */
    int busy;                  /* a job is running */
    char *path, *cells_path, *meta_path; /* the running job */
};

/* Writes (out = 1) or reads exactly n bytes of buf through fd; 0, or -1 on an error or the end of the pipe. */
static int transfer(int fd, void *buf, size_t n, int out)
{
    char *p = buf;
    while (n) {
        ssize_t k = out ? write(fd, p, n) : read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* A string off the job pipe (length-prefixed); NULL at the end. */
static char *read_string(int fd)
{
    uint32_t n;
    if (transfer(fd, &n, sizeof n, 0) != 0 || n > (1u << 20))
        return NULL;
    char *s = malloc(n + 1);
    if (s && transfer(fd, s, n, 0) != 0) {
        free(s);
        return NULL;
    }
    if (s)
        s[n] = '\0';
    return s;
}

static int write_string(int fd, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    return transfer(fd, &n, sizeof n, 1) != 0 || transfer(fd, (void *)s, n, 1) != 0 ? -1 : 0;
}

/* The server: measures each job it reads and answers with one byte, until its job pipe closes. */
static void serve(hs_measurer *m, int jobs, int done)
{
    for (;;) {
        char *path = read_string(jobs), *cells = path ? read_string(jobs) : NULL, *meta = cells ? read_string(jobs) : NULL;
        if (!meta) {
            free(path);
            free(cells);
            _exit(0);
        }
        hs_error e;
        /* the answer: 0, or 1 and why the verdict could not be saved, in one write (atomic up to PIPE_BUF), so
           that the reader, once it has the first byte, has the reason too */
        char answer[1 + 512];
        answer[0] = hs_measure_save(path, &m->p, m->has_q ? &m->q : NULL, cells, meta, &e) == HS_OK ? 0 : 1;
        size_t n = 1;
        if (answer[0])
            n += (size_t)snprintf(answer + 1, sizeof answer - 1, "%s", e.msg) + 1;
        free(path);
        free(cells);
        free(meta);
        if (transfer(done, answer, n < sizeof answer ? n : sizeof answer, 1) != 0)
            _exit(1);
    }
}

/* Starts the server process. */
static int spawn(hs_measurer *m, hs_error *err)
{
    int jobs[2], done[2];
    if (pipe2(jobs, O_CLOEXEC) != 0)
        return hs_error_set(err, HS_EIO, "cannot start a process to measure slides: %s", strerror(errno));
    if (pipe2(done, O_CLOEXEC) != 0) {
        int e = errno;
        close(jobs[0]);
        close(jobs[1]);
        return hs_error_set(err, HS_EIO, "cannot start a process to measure slides: %s", strerror(e));
    }
    fflush(NULL); /* nothing buffered is written twice */
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        int e = errno;
        close(jobs[0]);
        close(jobs[1]);
        close(done[0]);
        close(done[1]);
        return hs_error_set(err, HS_EIO, "cannot start a process to measure slides: %s", strerror(e));
    }
    if (pid == 0) {
        /* the server: default signal actions (an MPI library's crash handlers would print a backtrace into the
           job log), never MPI, and leave with _exit without running the parent's exit handlers */
        static const int sig[] = {SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL, SIGPIPE, SIGCHLD};
        for (size_t k = 0; k < sizeof sig / sizeof sig[0]; k++)
            signal(sig[k], SIG_DFL);
        /* a stop request (Slurm signals every process of a job) is the parent's to act on: it kills the server
           and records nothing, whereas a server dying of SIGTERM would look like a crash inside the slide */
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        /* a server outliving its process (killed by SIGKILL) would race a resumed run for the same files */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(2);
        close(jobs[1]);
        close(done[0]);
        serve(m, jobs[0], done[1]);
    }
    close(jobs[0]);
    close(done[1]);
    m->pid = pid;
    m->job_fd = jobs[1];
    m->done_fd = done[0];
    fcntl(m->done_fd, F_SETFL, fcntl(m->done_fd, F_GETFL) | O_NONBLOCK);
    return HS_OK;
}

/* Ends the server: kills it (now = 1) or closes its job pipe and lets it finish; waits for it. */
static void stop_server(hs_measurer *m, int now)
{
    if (!m->pid)
        return;
    if (now)
        kill(m->pid, SIGKILL);
    close(m->job_fd);
    close(m->done_fd);
    while (waitpid(m->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    m->pid = 0;
    m->job_fd = m->done_fd = -1;
}

/* Removes the temporary files a killed server may have left for the running job. */
static void remove_tmps(const hs_measurer *m)
{
    char *t = hs_atomic_tmp_name(m->cells_path), *u = hs_atomic_tmp_name(m->meta_path);
    if (t)
        remove(t);
    if (u)
        remove(u);
    free(t);
    free(u);
}

static void job_clear(hs_measurer *m)
{
    free(m->path);
    free(m->cells_path);
    free(m->meta_path);
    m->path = m->cells_path = m->meta_path = NULL;
    m->busy = 0;
}

int hs_measurer_alloc(hs_measurer **out, const hs_score_params *p, const hs_qupath_opts *q, hs_error *err)
{
    hs_measurer *m = calloc(1, sizeof *m);
    if (!m)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    m->p = *p;
    if (q) {
        m->q = *q;
        m->has_q = 1;
    }
    m->job_fd = m->done_fd = -1;
    *out = m;
    return HS_OK;
}

void hs_measurer_free(hs_measurer *m)
{
    if (!m)
        return;
    if (m->busy)
        hs_measurer_abandon(m);
    stop_server(m, 0);
    free(m);
}

int hs_measurer_submit(hs_measurer *m, const char *path, const char *cells_path, const char *meta_path, hs_error *err)
{
    if (m->busy)
        return hs_error_set(err, HS_EINVAL, "a measurement is already running");
    m->path = strdup(path);
    m->cells_path = strdup(cells_path);
    m->meta_path = strdup(meta_path);
    if (!m->path || !m->cells_path || !m->meta_path) {
        job_clear(m);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    int rc = m->pid ? HS_OK : spawn(m, err);
    if (rc == HS_OK && (write_string(m->job_fd, path) || write_string(m->job_fd, cells_path) ||
                        write_string(m->job_fd, meta_path))) {
        /* the server died between jobs: start another */
        stop_server(m, 1);
        rc = spawn(m, err);
        if (rc == HS_OK && (write_string(m->job_fd, path) || write_string(m->job_fd, cells_path) ||
                            write_string(m->job_fd, meta_path)))
            rc = hs_error_set(err, HS_EIO, "%s: cannot hand it to the measuring process", path);
    }
    if (rc != HS_OK) {
        job_clear(m);
        return rc;
    }
    m->busy = 1;
    return HS_OK;
}

int hs_measurer_poll(hs_measurer *m, hs_error *err)
{
    if (!m->busy)
        return hs_error_set(err, HS_EINVAL, "no measurement running");
    unsigned char ok;
    ssize_t k = read(m->done_fd, &ok, 1);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    int rc = HS_OK;
    if (k == 1) {
        if (ok != 0) {
            char why[512] = "";
            ssize_t w = read(m->done_fd, why, sizeof why - 1);
            why[w > 0 ? w : 0] = '\0';
            rc = hs_error_set(err, HS_EIO, "%s: could not save its measurement in %s: %s", m->path, m->meta_path,
                              why[0] ? why : "no reason given");
        }
    } else {
        /* the server is gone: a crash inside this slide; record it and start afresh with the next */
        int status = 0;
        while (waitpid(m->pid, &status, 0) < 0 && errno == EINTR)
            ;
        close(m->job_fd);
        close(m->done_fd);
        m->pid = 0;
        m->job_fd = m->done_fd = -1;
        remove_tmps(m);
        char why[HS_ERROR_MSG_MAX];
        if (WIFSIGNALED(status))
            snprintf(why, sizeof why, "%.700s: measuring this slide crashed (signal %d, %s); no other slide is affected",
                     m->path, WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            snprintf(why, sizeof why, "%.700s: the process measuring this slide ended unexpectedly (status %d)", m->path,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        rc = save_meta(m->meta_path, why, NULL, NULL, 0, err);
    }
    job_clear(m);
    return rc == HS_OK ? 1 : rc;
}

void hs_measurer_abandon(hs_measurer *m)
{
    if (!m->busy)
        return;
    stop_server(m, 1);
    remove_tmps(m);
    job_clear(m);
}

long hs_measurer_pid(const hs_measurer *m)
{
    return m->pid;
}

int hs_measure_isolated(const char *path, const hs_score_params *p, const hs_qupath_opts *q, const char *cells_path,
                        const char *meta_path, hs_error *err)
{
    hs_measurer *m = NULL;
    int rc = hs_measurer_alloc(&m, p, q, err);
    if (rc != HS_OK)
        return rc;
    rc = hs_measurer_submit(m, path, cells_path, meta_path, err);
    while (rc == HS_OK) {
        rc = hs_measurer_poll(m, err);
        if (rc == 1) {
            rc = HS_OK;
            break;
        }
        if (rc == 0) {
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    hs_measurer_free(m);
    return rc;
}

/* ---- loading ------------------------------------------------------------------------------------------------- */

void hs_measured_clear(hs_measured *m)
{
    hs_score_result_clear(&m->res);
    hs_tilemap_free(m->map);
    memset(m, 0, sizeof *m);
}

static int load_map(hs_measured *m, const char *cells_path, size_t nx, size_t ny, double tile_um, hs_error *err)
{
    FILE *f = fopen(cells_path, "rb");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: %s", cells_path, strerror(errno));
    /* the size the meta file states must fit in the file before it is allocated (a damaged one asked for terabytes) */
    struct stat st;
    if (nx > SIZE_MAX / sizeof(uint64_t) / HS_NCLASS / ny || fstat(fileno(f), &st) != 0 ||
        (uint64_t)st.st_size / sizeof(uint64_t) / HS_NCLASS / ny < nx) {
        fclose(f);
        return hs_error_set(err, HS_EDATA, "%s: shorter than its %zu x %zu tile map", cells_path, nx, ny);
    }
    if (!(m->map = hs_tilemap_alloc(nx, ny, tile_um))) {
        fclose(f);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    size_t n = nx * ny * HS_NCLASS, got = 0;
    for (; got < n; got++) {
        uint64_t v;
        if (fread(&v, sizeof v, 1, f) != 1)
            break;
        m->map->count[got] = (unsigned long)v;
    }
    fclose(f);
    return got == n ? HS_OK : hs_error_set(err, HS_EDATA, "%s: shorter than its tile map", cells_path);
}

int hs_measured_load(hs_measured *m, const char *cells_path, const char *meta_path, hs_error *err)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(meta_path, "r");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: %s", meta_path, strerror(errno));
    char line[HS_ERROR_MSG_MAX + 64];
    int ended = 0, magic = 0, verdict = -1, maxsec = 0, nread = 0;
    long start = -1;
    size_t ncell = 0, nx = 0, ny = 0;
    double tile = 0;
    hs_score_result *r = &m->res;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *v = strchr(line, ' ');
        const char *key = line;
        if (v)
            *v++ = '\0';
        else
            v = line + strlen(line);
        nread++;
        if (nread == 1) {
            magic = !strcmp(key, "hetsurv-measured") && !strcmp(v, "1");
            continue;
        }
        if (!strcmp(key, "end"))
            ended = 1;
        else if (!strcmp(key, "verdict"))
            verdict = !strcmp(v, "ok") ? 1 : !strcmp(v, "qupath") ? 2 : !strcmp(v, "failed") ? 0 : -1;
        else if (!strcmp(key, "error"))
            snprintf(m->error, sizeof m->error, "%s", v);
        else if (!strcmp(key, "level"))
            r->level = atoi(v);
        else if (!strcmp(key, "mpp"))
            r->mpp = strtod(v, NULL);
        else if (!strcmp(key, "width_um"))
            r->width_um = strtod(v, NULL);
        else if (!strcmp(key, "height_um"))
            r->height_um = strtod(v, NULL);
        else if (!strcmp(key, "background"))
            sscanf(v, "%lf %lf %lf", &r->background[0], &r->background[1], &r->background[2]);
        else if (!strcmp(key, "megapixels"))
            r->megapixels = strtod(v, NULL);
        else if (!strcmp(key, "stain_h"))
            sscanf(v, "%lf %lf %lf", &r->stain_h[0], &r->stain_h[1], &r->stain_h[2]);
        else if (!strcmp(key, "stain_dab"))
            sscanf(v, "%lf %lf %lf", &r->stain_dab[0], &r->stain_dab[1], &r->stain_dab[2]);
        else if (!strcmp(key, "stain_source"))
            r->stain_source = (hs_stain_source)atoi(v);
        else if (!strcmp(key, "stain_h_angle"))
            r->stain_h_angle = strtod(v, NULL);
        else if (!strcmp(key, "stain_dab_angle"))
            r->stain_dab_angle = strtod(v, NULL);
        else if (!strcmp(key, "stain_note"))
            snprintf(r->stain_note, sizeof r->stain_note, "%s", v);
        else if (!strcmp(key, "scale"))
            sscanf(v, "%lf %lf %zu", &r->scale.spacing_um, &r->scale.nucleus_area_um2, &r->scale.n_sheet);
        else if (!strcmp(key, "cell_radius_um"))
            r->cell_radius_um = strtod(v, NULL);
        else if (!strcmp(key, "cells_start"))
            start = strtol(v, NULL, 10);
        else if (!strcmp(key, "cells_n"))
            ncell = (size_t)strtoull(v, NULL, 10);
        else if (!strcmp(key, "cells_max_sectors"))
            maxsec = atoi(v);
        else if (!strcmp(key, "map"))
            sscanf(v, "%zu %zu %lf %d", &nx, &ny, &tile, &m->from_class);
    }
    fclose(f);
    if (!magic || !ended || verdict < 0)
        return hs_error_set(err, HS_EDATA, "%s: not a complete hetsurv measurement", meta_path);
    if (verdict == 0)
        return HS_OK;
    /* the tile map is sized from these: a damaged value must not ask for terabytes */
    if (verdict == 1 && !(r->width_um >= 0 && r->width_um <= MAX_SIDE_UM && r->height_um >= 0 &&
                          r->height_um <= MAX_SIDE_UM))
        return hs_error_set(err, HS_EDATA, "%s: slide size %g x %g um is not plausible (at most %g um a side)",
                            meta_path, r->width_um, r->height_um, MAX_SIDE_UM);
    if (verdict == 2) {
        m->qupath = m->ok = 1;
        if (!(nx && ny && tile > 0 && isfinite(tile)))
            return hs_error_set(err, HS_EDATA, "%s: bad tile map size", meta_path);
        return load_map(m, cells_path, nx, ny, tile, err);
    }
    int rc = hs_cellstore_attach(&r->cells, cells_path, start, ncell, maxsec, err);
    if (rc == HS_OK)
        m->ok = 1;
    return rc;
}

int hs_measured_verdict(const char *meta_path)
{
    FILE *f = fopen(meta_path, "r");
    if (!f)
        return -1;
    char line[64];
    int v = -1;
    if (fgets(line, sizeof line, f) && !strcmp(line, MAGIC "\n") && fgets(line, sizeof line, f))
        v = !strcmp(line, "verdict failed\n") ? 0 : !strncmp(line, "verdict ", 8) ? 1 : -1;
    fclose(f);
    return v;
}
