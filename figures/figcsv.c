/*
 * figcsv: whole-file reading of saved result tables (see figcsv.h).
 */
#include "figures/figcsv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohorts/csvread.h"
#include "util/hs_mem.h"

typedef struct reader {
    hs_figcsv *t;
    const char *const *cols;
    size_t *map;       /* ncol: field index of each wanted column */
    size_t nfield;     /* fields of the header */
    size_t cap_cells, cap_lines;
} reader;

static int on_row(void *ctx, const hs_csv_row *row, hs_error *err)
{
    reader *r = ctx;
    hs_figcsv *t = r->t;
    if (row->index == 0) {
        r->nfield = row->nfield;
        for (size_t j = 0; j < t->ncol; j++) {
            size_t k = 0;
            while (k < row->nfield && strcmp(row->field[k], r->cols[j]) != 0)
                k++;
            if (k == row->nfield)
                return hs_error_set(err, HS_EDATA, "%s:%ld: no column '%s'", t->path, row->line, r->cols[j]);
            r->map[j] = k;
        }
        return HS_OK;
    }
    if (row->nfield != r->nfield)
        return hs_error_set(err, HS_EDATA, "%s:%ld: %zu fields, the header has %zu", t->path, row->line,
                            row->nfield, r->nfield);
    if (hs_reserve((void **)&t->cell, &r->cap_cells, (t->nrow + 1) * t->ncol, sizeof *t->cell, 64 * t->ncol) ||
        hs_reserve((void **)&t->line, &r->cap_lines, t->nrow + 1, sizeof *t->line, 64))
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t j = 0; j < t->ncol; j++) {
        char *s = strdup(row->field[r->map[j]]);
        if (!s) {
            for (size_t k = 0; k < j; k++)
                free(t->cell[t->nrow * t->ncol + k]);
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        }
        t->cell[t->nrow * t->ncol + j] = s;
    }
    t->line[t->nrow++] = row->line;
    return HS_OK;
}

int hs_figcsv_read(hs_figcsv **out, const char *dir, const char *file, const char *const *cols, size_t ncol,
                   int optional, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "no output pointer");
    *out = NULL;
    if (!dir || !file || !cols || ncol == 0)
        return hs_error_set(err, HS_EINVAL, "hs_figcsv_read: bad argument");
    hs_figcsv *t = calloc(1, sizeof *t);
    size_t *map = calloc(ncol, sizeof *map);
    size_t n = strlen(dir) + strlen(file) + 2;
    if (!t || !map || !(t->path = malloc(n))) {
        free(map);
        hs_figcsv_free(t);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    snprintf(t->path, n, "%s/%s", dir, file);
    t->ncol = ncol;
    if (optional && access(t->path, F_OK) != 0 && errno == ENOENT) {
        free(map);
        hs_figcsv_free(t);
        return HS_OK;
    }
    reader r = {.t = t, .cols = cols, .map = map};
    int rc = hs_csv_read(t->path, ',', on_row, &r, err);
    if (rc == HS_OK && r.nfield == 0)
        rc = hs_error_set(err, HS_EDATA, "%s: empty file", t->path);
    free(map);
    if (rc != HS_OK) {
        hs_figcsv_free(t);
        return rc;
    }
    *out = t;
    return HS_OK;
}

int hs_figcsv_num(const hs_figcsv *t, size_t row, size_t col, double *v, hs_error *err)
{
    const char *s = t->cell[row * t->ncol + col];
    if (strcmp(s, "NA") == 0) {
        *v = NAN;
        return HS_OK;
    }
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || (isnan(x) && strcmp(s, "NA") != 0))
        return hs_error_set(err, HS_EDATA, "%s:%ld: '%s' is not a number", t->path, t->line[row], s);
    *v = x;
    return HS_OK;
}

void hs_figcsv_free(hs_figcsv *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrow * t->ncol; i++)
        free(t->cell[i]);
    free(t->cell);
    free(t->line);
    free(t->path);
    free(t);
}
