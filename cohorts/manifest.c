/*
 * manifest: cohort manifest reading and validation (see manifest.h).
 *
 * One streaming pass over the CSV: the header fixes the column roles, then
 * each row is checked cell by cell, keeping what is valid and recording a
 * problem for what is not.  Patient ids go through a hash map to find
 * duplicates.
 */
#include "manifest.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cohorts/csvread.h"
#include "util/hs_parse.h"
#include "util/hs_strmap.h"

const char *const hs_manifest_required[HS_MF_NREQ] = {"patient_id", "slide",   "dfs_time",
                                                      "dfs_event",  "os_time", "os_event"};

typedef struct reader {
    hs_manifest *m;
    const char *const *factors;
    size_t nfactor;
    int check_slides;
    char *dir;             /* the manifest's folder, with a trailing '/', or "" */
    size_t nfield;
    size_t req[HS_MF_NREQ]; /* column index of each standard column, SIZE_MAX when absent */
    size_t *cov_index;      /* column index of each covariate */
    unsigned char *cov_text;/* a covariate value that is not a number was seen */
    size_t nrecord;         /* data records after the header, checked or not */
    long header_line;
    hs_strmap *ids;
    long *id_line;          /* line of each id's first appearance */
    size_t id_cap, patient_cap, problem_cap;
    int header_ok;          /* 0 before the header, 1 when rows can be checked, -1 when columns are missing */
} reader;

/* Room for a value of the file quoted in a message: longer ones are cut with "..." so the reason stays whole. */
#define SHOW 160

/* s escaped for a message (control bytes as \n, \xNN...), cut to fit buf. */
static const char *esc(char *buf, size_t cap, const char *s)
{
    hs_err_escape(buf, cap, s, strlen(s));
    return buf;
}

static int add_problem(reader *rd, long line, size_t column, int warning, const char *fmt, ...) HS_FORMAT(5, 6);

static int add_problem(reader *rd, long line, size_t column, int warning, const char *fmt, ...)
{
    hs_manifest *m = rd->m;
    if (m->nproblem == rd->problem_cap) {
        size_t cap = rd->problem_cap ? 2 * rd->problem_cap : 16;
        hs_manifest_problem *p = realloc(m->problem, cap * sizeof *p);
        if (!p)
            return HS_ENOMEM;
        m->problem = p;
        rd->problem_cap = cap;
    }
    char buf[HS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    hs_manifest_problem *p = &m->problem[m->nproblem];
    if (!(p->msg = strdup(buf)))
        return HS_ENOMEM;
    p->line = line;
    p->column = column;
    p->warning = warning;
    m->nproblem++;
    if (warning)
        m->nwarning++;
    else
        m->nerror++;
    return HS_OK;
}

static int is_factor(const reader *rd, const char *name)
{
    for (size_t i = 0; i < rd->nfactor; i++)
        if (strcmp(rd->factors[i], name) == 0)
            return 1;
    return 0;
}

static int on_header(reader *rd, const hs_csv_row *row)
{
    hs_manifest *m = rd->m;
    int rc = HS_OK;
    rd->nfield = row->nfield;
    for (int k = 0; k < HS_MF_NREQ; k++)
        rd->req[k] = SIZE_MAX;
    rd->header_line = row->line;
    if (!(rd->cov_index = calloc(row->nfield, sizeof *rd->cov_index)) ||
        !(rd->cov_text = calloc(row->nfield, 1)) || !(m->cov_name = calloc(row->nfield, sizeof *m->cov_name)) ||
        !(m->cov_factor = calloc(row->nfield, sizeof *m->cov_factor)) ||
        !(m->cov_auto = calloc(row->nfield, sizeof *m->cov_auto)) ||
        !(m->cov_missing = calloc(row->nfield, sizeof *m->cov_missing)))
        return HS_ENOMEM;
    /* duplicate names through a hash map: linear in the number of columns (a header can hold 1e5) */
    hs_strmap *seen = hs_strmap_alloc();
    size_t *first = malloc((row->nfield ? row->nfield : 1) * sizeof *first); /* column of each distinct name */
    if (!seen || !first) {
        hs_strmap_free(seen);
        free(first);
        return HS_ENOMEM;
    }
    for (size_t i = 0; i < row->nfield && rc == HS_OK; i++) {
        const char *name = row->field[i];
        if (name[0] == '\0') {
            rc = add_problem(rd, row->line, i + 1, 0, "empty column name");
            continue;
        }
        size_t before = hs_strmap_size(seen);
        long id = hs_strmap_intern(seen, name, 1);
        if (id < 0) {
            rc = HS_ENOMEM;
            break;
        }
        if (hs_strmap_size(seen) == before) {
            char show[SHOW];
            hs_err_escape(show, sizeof show, name, strlen(name));
            rc = add_problem(rd, row->line, i + 1, 0, "duplicate column name '%s' (also column %zu)", show,
                             first[id] + 1);
            continue;
        }
        first[id] = i;
        int k = 0;
        while (k < HS_MF_NREQ && strcmp(hs_manifest_required[k], name) != 0)
            k++;
        if (k < HS_MF_NREQ) {
            rd->req[k] = i;
            continue;
        }
        if (!(m->cov_name[m->ncov] = strdup(name))) {
            rc = HS_ENOMEM;
            break;
        }
        m->cov_factor[m->ncov] = is_factor(rd, name);
        rd->cov_index[m->ncov++] = i;
    }
    hs_strmap_free(seen);
    free(first);
    for (int k = 0; k < HS_MF_NREQ && rc == HS_OK; k++)
        if (rd->req[k] == SIZE_MAX)
            rc = add_problem(rd, row->line, 0, 0, "missing required column '%s'", hs_manifest_required[k]);
    for (size_t f = 0; f < rd->nfactor && rc == HS_OK; f++) {
        size_t i = 0;
        while (i < m->ncov && strcmp(m->cov_name[i], rd->factors[f]) != 0)
            i++;
        if (i == m->ncov)
            rc = add_problem(rd, row->line, 0, 0, "--factors names '%s', which is not a covariate column",
                             rd->factors[f]);
    }
    /* Without every standard column the rows cannot be checked: the header problems say why. */
    rd->header_ok = 1;
    for (int k = 0; k < HS_MF_NREQ; k++)
        if (rd->req[k] == SIZE_MAX)
            rd->header_ok = -1;
    return rc;
}

/* Checks a required time cell; returns its value or NAN after recording a problem. */
static double check_time(reader *rd, const hs_csv_row *row, int k, int *rc)
{
    size_t col = rd->req[k];
    double v;
    const char *s = row->field[col];
    const char *name = hs_manifest_required[k];
    char show[SHOW];
    esc(show, sizeof show, s);
    switch (hs_parse_double(s, &v)) {
    case HS_CELL_MISSING:
        *rc = add_problem(rd, row->line, col + 1, 0, "%s: missing value ('%s')", name, show);
        return NAN;
    case HS_CELL_TEXT:
        *rc = add_problem(rd, row->line, col + 1, 0, "%s: not a number: '%s'", name, show);
        return NAN;
    case HS_CELL_NUMBER:
        break;
    }
    if (!isfinite(v)) {
        *rc = add_problem(rd, row->line, col + 1, 0, "%s: not a finite time: '%s'", name, show);
        return NAN;
    }
    if (v < 0) {
        *rc = add_problem(rd, row->line, col + 1, 0, "%s: negative time: '%s'", name, show);
        return NAN;
    }
    return v;
}

static int check_event(reader *rd, const hs_csv_row *row, int k, int *rc)
{
    size_t col = rd->req[k];
    double v;
    const char *s = row->field[col];
    const char *name = hs_manifest_required[k];
    char show[SHOW];
    esc(show, sizeof show, s);
    hs_cell_kind c = hs_parse_double(s, &v);
    if (c == HS_CELL_MISSING) {
        *rc = add_problem(rd, row->line, col + 1, 0, "%s: missing value ('%s')", name, show);
        return -1;
    }
    if (c != HS_CELL_NUMBER || (v != 0 && v != 1)) {
        *rc = add_problem(rd, row->line, col + 1, 0, "%s: event must be 0 (censored) or 1 (event), not '%s'", name, show);
        return -1;
    }
    return (int)v;
}

static char *resolve_slide(const reader *rd, const char *slide)
{
    if (slide[0] == '/' || rd->dir[0] == '\0')
        return strdup(slide);
    size_t a = strlen(rd->dir), b = strlen(slide);
    char *p = malloc(a + b + 1);
    if (p) {
        memcpy(p, rd->dir, a);
        memcpy(p + a, slide, b + 1);
    }
    return p;
}

static int check_row(reader *rd, const hs_csv_row *row)
{
    hs_manifest *m = rd->m;
    int rc = HS_OK;
    char show[SHOW];
    if (row->nfield != rd->nfield)
        return add_problem(rd, row->line, 0, 0, "row has %zu fields, the header has %zu", row->nfield, rd->nfield);
    if (m->npatient == rd->patient_cap) {
        size_t cap = rd->patient_cap ? 2 * rd->patient_cap : 64;
        hs_manifest_patient *p = realloc(m->patient, cap * sizeof *p);
        if (!p)
            return HS_ENOMEM;
        m->patient = p;
        rd->patient_cap = cap;
    }
    hs_manifest_patient *pt = &m->patient[m->npatient++];
    memset(pt, 0, sizeof *pt);
    pt->line = row->line;
    pt->dfs_event = pt->os_event = -1;
    pt->dfs_time = pt->os_time = NAN;
    if (!(pt->cov = calloc(m->ncov ? m->ncov : 1, sizeof *pt->cov)))
        return HS_ENOMEM;

    size_t col = rd->req[HS_MF_PATIENT];
    const char *id = row->field[col];
    if (hs_is_missing(id)) {
        rc = add_problem(rd, row->line, col + 1, 0, "patient_id: missing value ('%s')", esc(show, sizeof show, id));
    } else {
        if (!(pt->patient_id = strdup(id)))
            return HS_ENOMEM;
        size_t before = hs_strmap_size(rd->ids);
        long k = hs_strmap_intern(rd->ids, id, 1);
        if (k < 0)
            return HS_ENOMEM;
        if (hs_strmap_size(rd->ids) == before) {
            rc = add_problem(rd, row->line, col + 1, 0, "duplicate patient_id '%s' (first on line %ld)",
                             esc(show, sizeof show, id),
                             rd->id_line[k]);
        } else {
            if ((size_t)k >= rd->id_cap) {
                size_t cap = rd->id_cap ? 2 * rd->id_cap : 64;
                long *l = realloc(rd->id_line, cap * sizeof *l);
                if (!l)
                    return HS_ENOMEM;
                rd->id_line = l;
                rd->id_cap = cap;
            }
            rd->id_line[k] = row->line;
        }
    }
    if (rc)
        return rc;

    col = rd->req[HS_MF_SLIDE];
    const char *slide = row->field[col];
    if (hs_is_missing(slide)) {
        rc = add_problem(rd, row->line, col + 1, 0, "slide: missing value ('%s')", esc(show, sizeof show, slide));
    } else {
        if (!(pt->slide = strdup(slide)) || !(pt->slide_path = resolve_slide(rd, slide)))
            return HS_ENOMEM;
        struct stat st;
        if (rd->check_slides && access(pt->slide_path, R_OK) != 0)
            rc = add_problem(rd, row->line, col + 1, 0, "slide '%s': %s", esc(show, sizeof show, pt->slide_path),
                             errno == ENOENT ? "no such file" : strerror(errno));
        else if (rd->check_slides && (stat(pt->slide_path, &st) != 0 || S_ISDIR(st.st_mode)))
            rc = add_problem(rd, row->line, col + 1, 0, "slide '%s': is a directory, not a slide file",
                             esc(show, sizeof show, pt->slide_path));
    }
    if (rc)
        return rc;

    pt->dfs_time = check_time(rd, row, HS_MF_DFS_TIME, &rc);
    if (!rc)
        pt->dfs_event = check_event(rd, row, HS_MF_DFS_EVENT, &rc);
    if (!rc)
        pt->os_time = check_time(rd, row, HS_MF_OS_TIME, &rc);
    if (!rc)
        pt->os_event = check_event(rd, row, HS_MF_OS_EVENT, &rc);
    if (!rc && pt->dfs_time > pt->os_time)
        rc = add_problem(rd, row->line, rd->req[HS_MF_DFS_TIME] + 1, 1,
                         "dfs_time %g is later than os_time %g (disease-free time cannot exceed survival time)",
                         pt->dfs_time, pt->os_time);

    for (size_t j = 0; j < m->ncov && !rc; j++) {
        col = rd->cov_index[j];
        const char *s = row->field[col];
        double v;
        if (hs_is_missing(s)) {
            m->cov_missing[j]++;
            continue;
        }
        if (!m->cov_factor[j] && hs_parse_double(s, &v) != HS_CELL_NUMBER)
            rd->cov_text[j] = 1; /* a text column: categorical, as read.csv makes it */
        if (!(pt->cov[j] = strdup(s)))
            return HS_ENOMEM;
    }
    return rc;
}

static int on_row(void *ctx, const hs_csv_row *row, hs_error *err)
{
    reader *rd = ctx;
    rd->nrecord += row->index > 0;
    int rc = row->index == 0 ? on_header(rd, row) : rd->header_ok > 0 ? check_row(rd, row) : HS_OK;
    if (rc != HS_OK)
        return hs_error_set(err, rc, "%s:%ld: out of memory", rd->m->path, row->line);
    return HS_OK;
}

void hs_manifest_free(hs_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->npatient; i++) {
        hs_manifest_patient *p = &m->patient[i];
        free(p->patient_id);
        free(p->slide);
        free(p->slide_path);
        for (size_t j = 0; p->cov && j < m->ncov; j++)
            free(p->cov[j]);
        free(p->cov);
    }
    free(m->patient);
    for (size_t j = 0; j < m->ncov; j++)
        free(m->cov_name[j]);
    free(m->cov_name);
    free(m->cov_factor);
    free(m->cov_auto);
    free(m->cov_missing);
    for (size_t i = 0; i < m->nproblem; i++)
        free(m->problem[i].msg);
    free(m->problem);
    free(m->path);
    free(m);
}

int hs_manifest_read(hs_manifest **out, const char *path, const char *const *factors, size_t nfactor,
                     int check_slides, hs_error *err)
{
    *out = NULL;
    hs_manifest *m = calloc(1, sizeof *m);
    reader rd = {.m = m, .factors = factors, .nfactor = nfactor, .check_slides = check_slides};
    int rc = HS_OK;
    if (!m || !(m->path = strdup(path)) || !(rd.dir = strdup(path)) || !(rd.ids = hs_strmap_alloc())) {
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    char *slash = strrchr(rd.dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        rd.dir[0] = '\0';
    if ((rc = hs_csv_read(path, ',', on_row, &rd, err)) != HS_OK)
        goto done;
    if (!rd.header_ok) {
        rc = hs_error_set(err, HS_EDATA, "%s:1: empty file: no header line", path);
        goto done;
    }
    for (size_t j = 0; j < m->ncov; j++)
        if (rd.cov_text[j]) {
            m->cov_auto[j] = 1;
            m->cov_factor[j] = 1;
        }
    if (rd.nrecord == 0 &&
        add_problem(&rd, rd.header_line, 0, 0, "no patient rows: the manifest has only a header line") != HS_OK)
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
done:
    free(rd.dir);
    free(rd.cov_index);
    free(rd.cov_text);
    free(rd.id_line);
    hs_strmap_free(rd.ids);
    if (rc != HS_OK)
        hs_manifest_free(m);
    else
        *out = m;
    return rc;
}

void hs_manifest_report(FILE *f, const hs_manifest *m)
{
    const char *path = m->path;
    char show[SHOW];
    for (size_t i = 0; i < m->nproblem; i++) {
        const hs_manifest_problem *p = &m->problem[i];
        if (p->column)
            fprintf(f, "%s:%ld:%zu: %s%s\n", path, p->line, p->column, p->warning ? "warning: " : "", p->msg);
        else
            fprintf(f, "%s:%ld: %s%s\n", path, p->line, p->warning ? "warning: " : "", p->msg);
    }
    for (size_t j = 0; j < m->ncov; j++)
        if (m->cov_missing[j])
            fprintf(f, "%s: note: covariate '%s' is missing in %zu of %zu rows; models that use it drop those rows\n",
                    path, esc(show, sizeof show, m->cov_name[j]), m->cov_missing[j], m->npatient);
    /* one line naming the categorical covariates and why each is one */
    int ncat = 0;
    for (size_t j = 0; j < m->ncov; j++)
        if (m->cov_factor[j]) {
            if (ncat++)
                fputs(", ", f);
            else
                fprintf(f, "%s: note: categorical covariates: ", path);
            fprintf(f, "%s (%s)", esc(show, sizeof show, m->cov_name[j]), m->cov_auto[j] ? "not all numbers" : "--factors");
        }
    if (ncat)
        fputc('\n', f);
    fprintf(f, "%s: %zu patient%s, %zu covariate%s, %zu error%s, %zu warning%s: %s\n", path, m->npatient,
            m->npatient == 1 ? "" : "s", m->ncov, m->ncov == 1 ? "" : "s", m->nerror, m->nerror == 1 ? "" : "s",
            m->nwarning, m->nwarning == 1 ? "" : "s", m->nerror ? "INVALID" : "valid");
}
