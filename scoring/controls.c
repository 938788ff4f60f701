/*
 * controls: reading the control-slide table (see controls.h).
 */
#include "controls.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cohorts/csvread.h"
#include "util/hs_parse.h"

enum { C_BATCH, C_SLIDE, C_CLASS, C_X0, C_Y0, C_X1, C_Y1, NCOL };
static const char *const col_name[NCOL] = {"batch", "slide", "class", "x0_um", "y0_um", "x1_um", "y1_um"};

typedef struct reader {
    const char *path;
    char *dir;        /* the table's folder with a trailing '/', or "" */
    size_t col[NCOL];
    hs_controls *c;
    size_t cap;
} reader;

static int parse_class(const char *s, hs_class *k)
{
    static const char *const names[][2] = {{"0", "0+"}, {"1+", "1"}, {"2+", "2"}, {"3+", "3"}};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i][0]) || !strcmp(s, names[i][1])) {
            *k = (hs_class)i;
            return 0;
        }
    return -1;
}

/* Room for a value of the file quoted in a message: longer ones are cut with "..." so the reason stays whole. */
#define SHOW 160

/* s escaped for a message (control bytes as \n, \xNN...), cut to fit buf. */
static const char *esc(char *buf, size_t cap, const char *s)
{
    hs_err_escape(buf, cap, s, strlen(s));
    return buf;
}

static int on_row(void *ctx, const hs_csv_row *row, hs_error *err)
{
    char show[SHOW];
    reader *rd = ctx;
    if (row->index == 0) {
        for (int k = 0; k < NCOL; k++) {
            rd->col[k] = SIZE_MAX;
            for (size_t i = 0; i < row->nfield; i++)
                if (!strcmp(row->field[i], col_name[k]))
                    rd->col[k] = i;
            if (rd->col[k] == SIZE_MAX)
                return hs_error_set(err, HS_EDATA, "%s:%ld: missing required column '%s'", rd->path, row->line,
                                    col_name[k]);
        }
        return HS_OK;
    }
    for (int k = 0; k < NCOL; k++) {
        size_t i = rd->col[k];
        if (i >= row->nfield)
            return hs_error_set(err, HS_EDATA, "%s:%ld: %zu fields, the header has more", rd->path, row->line,
                                row->nfield);
        if (strlen(row->field[i]) != row->len[i])
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: %s: a NUL byte inside the field", rd->path, row->line,
                                i + 1, col_name[k]);
        if (hs_is_missing(row->field[i]))
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: %s is empty", rd->path, row->line, i + 1, col_name[k]);
    }
    hs_control_area a = {0};
    a.line = row->line;
    if (parse_class(row->field[rd->col[C_CLASS]], &a.cls) != 0)
        return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: class: '%s' is not 0, 1+, 2+ or 3+", rd->path, row->line,
                            rd->col[C_CLASS] + 1, esc(show, sizeof show, row->field[rd->col[C_CLASS]]));
    for (int k = 0; k < 4; k++) {
        size_t i = rd->col[C_X0 + k];
        if (hs_parse_double(row->field[i], &a.rect[k]) != HS_CELL_NUMBER || !isfinite(a.rect[k]) || a.rect[k] < 0)
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: %s: '%s' is not a number >= 0", rd->path, row->line, i + 1,
                                col_name[C_X0 + k], esc(show, sizeof show, row->field[i]));
    }
    if (!(a.rect[0] < a.rect[2] && a.rect[1] < a.rect[3]))
        return hs_error_set(err, HS_EDATA, "%s:%ld: the rectangle (%g, %g)-(%g, %g) is empty", rd->path, row->line,
                            a.rect[0], a.rect[1], a.rect[2], a.rect[3]);
    const char *slide = row->field[rd->col[C_SLIDE]];
    size_t dl = slide[0] == '/' ? 0 : strlen(rd->dir);
    a.batch = strdup(row->field[rd->col[C_BATCH]]);
    a.slide = strdup(slide);
    a.path = malloc(dl + strlen(slide) + 1);
    if (rd->c->n == rd->cap) {
        size_t cap = rd->cap ? 2 * rd->cap : 16;
        hs_control_area *p = realloc(rd->c->area, cap * sizeof *p);
        if (p) {
            rd->c->area = p;
            rd->cap = cap;
        }
    }
    if (!a.batch || !a.slide || !a.path || rd->c->n == rd->cap) {
        free(a.batch);
        free(a.slide);
        free(a.path);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    memcpy(a.path, rd->dir, dl);
    strcpy(a.path + dl, slide);
    rd->c->area[rd->c->n++] = a;
    return HS_OK;
}

int hs_controls_read(hs_controls **out, const char *path, hs_error *err)
{
    *out = NULL;
    reader rd = {path, NULL, {0}, calloc(1, sizeof(hs_controls)), 0};
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    rd.dir = malloc(dl + 1);
    if (!rd.c || !rd.dir) {
        free(rd.c);
        free(rd.dir);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    memcpy(rd.dir, path, dl);
    rd.dir[dl] = '\0';
    int rc = hs_csv_read(path, ',', on_row, &rd, err);
    free(rd.dir);
    if (rc == HS_OK && rd.c->n == 0)
        rc = hs_error_set(err, HS_EDATA, "%s: no control areas", path);
    if (rc != HS_OK) {
        hs_controls_free(rd.c);
        return rc;
    }
    *out = rd.c;
    return HS_OK;
}

void hs_controls_free(hs_controls *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->area[i].batch);
        free(c->area[i].slide);
        free(c->area[i].path);
    }
    free(c->area);
    free(c);
}
