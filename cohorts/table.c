/*
 * table: typed column reader (see table.h).
 */
#include "table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>

#include "cohorts/csvread.h"
#include "util/hs_parse.h"
#include "util/hs_strmap.h"

/* Files at least this large are read in two halves on two threads. */
#define PARALLEL_MIN_BYTES (8 << 20)

typedef struct loader {
    hs_table *t;
    const hs_col_kind *want; /* the kinds requested; an AUTO column is stored NUMERIC until it is settled */
    hs_strmap **levels;      /* per FACTOR column, NULL for the others */
    unsigned char *text;     /* per column: an AUTO column met a value that is not a number */
    char ***raw;             /* builder only: per AUTO column, each row's cell (NULL when missing) */
    size_t nfield;           /* header width */
    size_t cap;              /* allocated rows */
} loader;

/* Grows the row arrays to at least want rows (doubling when want is 0). */
static int grow_rows_to(loader *ld, size_t want)
{
    hs_table *t = ld->t;
    size_t cap = want ? want : ld->cap ? 2 * ld->cap : 1024;
    long *line = realloc(t->line, cap * sizeof *line);
    if (!line)
        return HS_ENOMEM;
    t->line = line;
    for (size_t j = 0; j < t->ncol; j++) {
        hs_column *c = &t->col[j];
        if (c->kind == HS_COL_NUMERIC) {
            double *v = realloc(c->num, cap * sizeof *v);
            if (!v)
                return HS_ENOMEM;
            c->num = v;
        } else {
            int *v = realloc(c->code, cap * sizeof *v);
            if (!v)
                return HS_ENOMEM;
            c->code = v;
        }
        if (ld->raw && ld->raw[j]) {
            char **v = realloc(ld->raw[j], cap * sizeof *v);
            if (!v)
                return HS_ENOMEM;
            ld->raw[j] = v;
        }
    }
    ld->cap = cap;
    return HS_OK;
}

static int grow_rows(loader *ld)
{
    return grow_rows_to(ld, 0);
}

/* Room for a value of the file quoted in a message: longer ones are cut with "..." so the reason stays whole. */
#define SHOW 160

/* s escaped for a message (control bytes as \n, \xNN...), cut to fit buf. */
static const char *esc(char *buf, size_t cap, const char *s)
{
    hs_err_escape(buf, cap, s, strlen(s));
    return buf;
}

/* Finds the requested columns and refuses a duplicated name: one hash map, linear in the header's width. */
static int on_header(loader *ld, const hs_csv_row *row, hs_error *err)
{
    hs_table *t = ld->t;
    ld->nfield = row->nfield;
    hs_strmap *seen = hs_strmap_alloc();
    size_t *first = malloc((row->nfield ? row->nfield : 1) * sizeof *first); /* column of each distinct name */
    int rc = seen && first ? HS_OK : hs_error_set(err, HS_ENOMEM, "%s: out of memory", t->path);
    char show[SHOW];
    for (size_t i = 0; rc == HS_OK && i < row->nfield; i++) {
        size_t before = hs_strmap_size(seen);
        long id = hs_strmap_intern(seen, row->field[i], 1);
        if (id < 0)
            rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", t->path);
        else if (hs_strmap_size(seen) > before)
            first[id] = i;
        else if (row->field[i][0])
            rc = hs_error_set(err, HS_EDATA, "%s:%ld:%zu: duplicate column name '%s' (also column %zu)", t->path,
                              row->line, i + 1, esc(show, sizeof show, row->field[i]), first[id] + 1);
    }
    for (size_t j = 0; rc == HS_OK && j < t->ncol; j++) {
        long id = hs_strmap_intern(seen, t->col[j].name, 0);
        if (id < 0)
            rc = hs_error_set(err, HS_EDATA, "%s:%ld: no column named '%s' in the header", t->path, row->line,
                              esc(show, sizeof show, t->col[j].name));
        else
            t->col[j].csv_index = first[id];
    }
    hs_strmap_free(seen);
    free(first);
    return rc;
}

/* Stores cell s (not NULL) of column j in row r, which is on line `line`. */
static int put_cell(loader *ld, size_t j, size_t r, const char *s, long line, hs_error *err)
{
    hs_table *t = ld->t;
    hs_column *c = &t->col[j];
    if (c->kind == HS_COL_NUMERIC) {
        if (hs_parse_double(s, &c->num[r]) != HS_CELL_TEXT)
            return HS_OK;
        if (ld->want[j] != HS_COL_AUTO)
        {
            char show[SHOW], name[SHOW];
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': not a number: '%s'", t->path, line,
                                c->csv_index + 1, esc(name, sizeof name, c->name), esc(show, sizeof show, s));
        }
        c->num[r] = NAN; /* a text column after all: the caller settles it as a factor */
        ld->text[j] = 1;
        return HS_OK;
    }
    if (hs_is_missing(s)) {
        c->code[r] = -1;
        return HS_OK;
    }
    long id = hs_strmap_intern(ld->levels[j], s, 1);
    if (id < 0)
        return hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", t->path, line);
    c->code[r] = (int)id;
    return HS_OK;
}

static int on_row(void *ctx, const hs_csv_row *row, hs_error *err)
{
    loader *ld = ctx;
    hs_table *t = ld->t;
    if (row->index == 0)
        return on_header(ld, row, err);
    if (row->nfield != ld->nfield)
        return hs_error_set(err, HS_EDATA, "%s:%ld: row has %zu fields, the header has %zu", t->path, row->line,
                            row->nfield, ld->nfield);
    if (t->nrow == ld->cap && grow_rows(ld) != HS_OK)
        return hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", t->path, row->line);
    size_t r = t->nrow;
    t->line[r] = row->line;
    for (size_t j = 0; j < t->ncol; j++) {
        int rc = put_cell(ld, j, r, row->field[t->col[j].csv_index], row->line, err);
        if (rc != HS_OK)
            return rc;
    }
    t->nrow++;
    return HS_OK;
}

typedef struct level_key {
    const char *name;
    double value;
    size_t id;
} level_key;

static int cmp_numeric(const void *a, const void *b)
{
    double x = ((const level_key *)a)->value, y = ((const level_key *)b)->value;
    return (x > y) - (x < y);
}

/* Insertion-free stable merge sort by value (qsort is not stable). */
static void stable_sort_numeric(level_key *key, size_t k)
{
    if (k < 2)
        return;
    size_t h = k / 2;
    stable_sort_numeric(key, h);
    stable_sort_numeric(key + h, k - h);
    level_key *tmp = malloc(k * sizeof *tmp);
    if (!tmp) { /* fall back: still sorted, only ties' order may vary */
        qsort(key, k, sizeof *key, cmp_numeric);
        return;
    }
    size_t i = 0, j = h, o = 0;
    while (i < h && j < k)
        tmp[o++] = cmp_numeric(&key[j], &key[i]) < 0 ? key[j++] : key[i++];
    while (i < h)
        tmp[o++] = key[i++];
    while (j < k)
        tmp[o++] = key[j++];
    memcpy(key, tmp, k * sizeof *tmp);
    free(tmp);
}

static int cmp_bytes(const void *a, const void *b)
{
    return strcmp(((const level_key *)a)->name, ((const level_key *)b)->name);
}

/* Orders a factor's levels as R would and rewrites the codes accordingly. */
static int order_levels(hs_column *c, const hs_strmap *m, size_t nrow)
{
    size_t k = hs_strmap_size(m);
    level_key *key = malloc((k ? k : 1) * sizeof *key);
    size_t *rank = malloc((k ? k : 1) * sizeof *rank);
    c->level = calloc(k ? k : 1, sizeof *c->level);
    if (!key || !rank || !c->level) {
        free(key);
        free(rank);
        return HS_ENOMEM;
    }
    int numeric = 1;
    for (size_t i = 0; i < k; i++) {
        key[i].name = hs_strmap_key(m, i);
        key[i].id = i;
        if (hs_parse_double(key[i].name, &key[i].value) != HS_CELL_NUMBER)
            numeric = 0;
    }
    /* Byte order first, so that equal numbers spelt differently ("1", "1.0") are in a fixed order. */
    qsort(key, k, sizeof *key, cmp_bytes);
    if (numeric)
        stable_sort_numeric(key, k);
    int rc = HS_OK;
    size_t nlevel = 0;
    for (size_t i = 0; i < k; i++) {
        /* R reads a numeric column as numbers: equal values are one level, named by its first spelling. */
        if (i == 0 || !numeric || key[i].value != key[i - 1].value) {
            if (!(c->level[nlevel] = strdup(key[i].name)))
                rc = HS_ENOMEM;
            nlevel++;
        }
        rank[key[i].id] = nlevel - 1;
    }
    c->nlevel = nlevel;
    for (size_t r = 0; r < nrow; r++)
        if (c->code[r] >= 0)
            c->code[r] = (int)rank[c->code[r]];
    free(key);
    free(rank);
    return rc;
}

void hs_table_free(hs_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; j < t->ncol; j++) {
        hs_column *c = &t->col[j];
        free(c->name);
        free(c->num);
        free(c->code);
        for (size_t i = 0; c->level && i < c->nlevel; i++)
            free(c->level[i]);
        free(c->level);
    }
    free(t->col);
    free(t->line);
    free(t->path);
    free(t);
}

/* A loader with its own partial table, for the second half of a parallel read. */
typedef struct part {
    loader ld;
    hs_table t;
    const hs_csv_range *range;
    const char *path;
    hs_error err;
    int rc;
} part;

static void *part_main(void *arg)
{
    part *pt = arg;
    pt->rc = hs_csv_read_range(pt->path, ',', pt->range, on_row, &pt->ld, &pt->err);
    return NULL;
}

static void part_free(part *pt, size_t ncol)
{
    for (size_t j = 0; j < ncol; j++) {
        free(pt->t.col[j].num);
        free(pt->t.col[j].code);
        if (pt->ld.levels)
            hs_strmap_free(pt->ld.levels[j]);
    }
    free(pt->ld.levels);
    free(pt->ld.text);
    free(pt->t.col);
    free(pt->t.line);
}

/* Appends the rows of part pt to ld's table, re-coding factor levels into ld's maps. */
static int append_part(loader *ld, part *pt)
{
    hs_table *t = ld->t;
    if (ld->cap < t->nrow + pt->t.nrow && grow_rows_to(ld, t->nrow + pt->t.nrow) != HS_OK)
        return HS_ENOMEM;
    size_t base = t->nrow, n = pt->t.nrow;
    if (n)
        memcpy(t->line + base, pt->t.line, n * sizeof *t->line);
    for (size_t j = 0; j < t->ncol; j++) {
        hs_column *c = &t->col[j];
        if (c->kind == HS_COL_NUMERIC) {
            if (n)
                memcpy(c->num + base, pt->t.col[j].num, n * sizeof *c->num);
            continue;
        }
        size_t k = hs_strmap_size(pt->ld.levels[j]);
        int *remap = malloc((k ? k : 1) * sizeof *remap);
        if (!remap)
            return HS_ENOMEM;
        for (size_t id = 0; id < k; id++) {
            long nid = hs_strmap_intern(ld->levels[j], hs_strmap_key(pt->ld.levels[j], id), 1);
            if (nid < 0) {
                free(remap);
                return HS_ENOMEM;
            }
            remap[id] = (int)nid;
        }
        for (size_t r = 0; r < n; r++)
            c->code[base + r] = pt->t.col[j].code[r] < 0 ? -1 : remap[pt->t.col[j].code[r]];
        free(remap);
    }
    t->nrow += n;
    return HS_OK;
}

/*
 * Reads the file in two halves on two threads when it is large and has no
 * quotes (hs_csv_split), else in one pass.  Rows keep their file order.
 */
static int load_rows(loader *ld, const char *path, hs_error *err)
{
    struct stat st;
    hs_csv_range range[3];
    size_t nrange = 1;
    int rc;
    if (stat(path, &st) == 0 && st.st_size >= PARALLEL_MIN_BYTES &&
        (rc = hs_csv_split(path, 2, range, &nrange, err)) != HS_OK)
        return rc;
    if (nrange < 3)
        return hs_csv_read(path, ',', on_row, ld, err);
    if ((rc = hs_csv_read_range(path, ',', &range[0], on_row, ld, err)) != HS_OK)
        return rc;
    if (ld->nfield == 0)
        return hs_csv_read(path, ',', on_row, ld, err); /* no header in the first line after all */
    hs_table *t = ld->t;
    part pt = {.range = &range[2], .path = path};
    pt.t.path = t->path;
    pt.t.ncol = t->ncol;
    pt.ld.t = &pt.t;
    pt.ld.want = ld->want;
    pt.ld.nfield = ld->nfield;
    if (!(pt.t.col = calloc(t->ncol ? t->ncol : 1, sizeof *pt.t.col)) ||
        !(pt.ld.levels = calloc(t->ncol ? t->ncol : 1, sizeof *pt.ld.levels)) ||
        !(pt.ld.text = calloc(t->ncol ? t->ncol : 1, 1))) {
        part_free(&pt, 0);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    }
    for (size_t j = 0; j < t->ncol; j++) {
        pt.t.col[j] = (hs_column){.name = t->col[j].name, .csv_index = t->col[j].csv_index, .kind = t->col[j].kind};
        if (t->col[j].kind == HS_COL_FACTOR && !(pt.ld.levels[j] = hs_strmap_alloc())) {
            part_free(&pt, t->ncol);
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        }
    }
    /* both halves hold about as many lines as the first: allocate once instead of doubling */
    size_t expect = (size_t)(range[2].first_line - range[1].first_line) + 64;
    if (grow_rows_to(ld, 2 * expect) != HS_OK || grow_rows_to(&pt.ld, expect) != HS_OK) {
        part_free(&pt, t->ncol);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    }
    pthread_t th;
    int threaded = pthread_create(&th, NULL, part_main, &pt) == 0;
    rc = hs_csv_read_range(path, ',', &range[1], on_row, ld, err);
    if (threaded)
        pthread_join(th, NULL);
    else
        part_main(&pt);
    if (rc == HS_OK && pt.rc != HS_OK) {
        rc = pt.rc;
        if (err)
            *err = pt.err;
    }
    if (rc == HS_OK && append_part(ld, &pt) != HS_OK)
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    for (size_t j = 0; j < t->ncol; j++)
        ld->text[j] |= pt.ld.text[j];
    part_free(&pt, t->ncol);
    return rc;
}

/* One pass over the file; AUTO columns are read as numbers, text[j] set when one holds text. */
static int read_once(hs_table **out, const char *path, const char *const *names, const hs_col_kind *kinds,
                     size_t ncol, unsigned char *text, hs_error *err)
{
    *out = NULL;
    hs_table *t = calloc(1, sizeof *t);
    loader ld = {.t = t, .want = kinds, .text = text};
    int rc = HS_OK;
    if (!t || !(t->path = strdup(path)) || !(t->col = calloc(ncol ? ncol : 1, sizeof *t->col)) ||
        !(ld.levels = calloc(ncol ? ncol : 1, sizeof *ld.levels))) {
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    t->ncol = ncol;
    for (size_t j = 0; j < ncol; j++) {
        t->col[j].kind = kinds[j] == HS_COL_FACTOR ? HS_COL_FACTOR : HS_COL_NUMERIC;
        if (!(t->col[j].name = strdup(names[j])) ||
            (kinds[j] == HS_COL_FACTOR && !(ld.levels[j] = hs_strmap_alloc()))) {
            rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
            goto done;
        }
    }
    if ((rc = load_rows(&ld, path, err)) != HS_OK)
        goto done;
    if (ld.nfield == 0) {
        rc = hs_error_set(err, HS_EDATA, "%s:1: empty file: no header line", path);
        goto done;
    }
    if (t->nrow == 0) {
        rc = hs_error_set(err, HS_EDATA, "%s: no data rows: the file has only a header line", path);
        goto done;
    }
    for (size_t j = 0; j < ncol; j++)
        if (kinds[j] == HS_COL_FACTOR && order_levels(&t->col[j], ld.levels[j], t->nrow) != HS_OK) {
            rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
            goto done;
        }
done:
    for (size_t j = 0; ld.levels && j < ncol; j++)
        hs_strmap_free(ld.levels[j]);
    free(ld.levels);
    if (rc != HS_OK)
        hs_table_free(t);
    else
        *out = t;
    return rc;
}

int hs_table_read(hs_table **out, const char *path, const char *const *names, const hs_col_kind *kinds,
                  size_t ncol, hs_error *err)
{
    *out = NULL;
    for (size_t j = 0; j < ncol; j++)
        if (kinds[j] != HS_COL_NUMERIC && kinds[j] != HS_COL_FACTOR && kinds[j] != HS_COL_AUTO)
            return hs_error_set(err, HS_EINVAL, "hs_table_read: bad kind for column '%s'", names[j]);
    unsigned char *text = calloc(ncol ? ncol : 1, 1);
    hs_col_kind *settled = malloc((ncol ? ncol : 1) * sizeof *settled);
    int rc = HS_OK;
    if (!text || !settled) {
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((rc = read_once(out, path, names, kinds, ncol, text, err)) != HS_OK)
        goto done;
    /* A text value in an AUTO column: read again with that column as a factor, as read.csv would have it. */
    int again = 0;
    for (size_t j = 0; j < ncol; j++) {
        settled[j] = text[j] ? HS_COL_FACTOR : kinds[j];
        again |= text[j];
    }
    if (!again)
        goto done;
    hs_table_free(*out);
    if ((rc = read_once(out, path, names, settled, ncol, text, err)) != HS_OK)
        goto done;
    for (size_t j = 0; j < ncol; j++)
        (*out)->col[j].auto_factor = kinds[j] == HS_COL_AUTO && settled[j] == HS_COL_FACTOR;
done:
    free(text);
    free(settled);
    return rc;
}

const hs_column *hs_table_column(const hs_table *t, const char *name, hs_col_kind kind)
{
    for (size_t j = 0; j < t->ncol; j++)
        if ((kind == HS_COL_AUTO || t->col[j].kind == kind) && strcmp(t->col[j].name, name) == 0)
            return &t->col[j];
    return NULL;
}

/* ---- the in-memory builder ---------------------------------------------------------------- */

struct hs_table_builder {
    loader ld;
    hs_col_kind *want;
};

void hs_table_builder_free(hs_table_builder *b)
{
    if (!b)
        return;
    hs_table *t = b->ld.t;
    for (size_t j = 0; t && j < t->ncol; j++) {
        if (b->ld.levels)
            hs_strmap_free(b->ld.levels[j]);
        for (size_t r = 0; b->ld.raw && b->ld.raw[j] && r < t->nrow; r++)
            free(b->ld.raw[j][r]);
        if (b->ld.raw)
            free(b->ld.raw[j]);
    }
    free(b->ld.levels);
    free(b->ld.raw);
    free(b->ld.text);
    free(b->want);
    hs_table_free(t);
    free(b);
}

int hs_table_builder_alloc(hs_table_builder **out, const char *source, const char *const *names,
                           const hs_col_kind *kinds, size_t ncol, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "hs_table_builder_alloc: NULL argument");
    *out = NULL;
    if (!source || (ncol && (!names || !kinds)))
        return hs_error_set(err, HS_EINVAL, "hs_table_builder_alloc: NULL argument");
    for (size_t j = 0; j < ncol; j++)
        if (!names[j] || (kinds[j] != HS_COL_NUMERIC && kinds[j] != HS_COL_FACTOR && kinds[j] != HS_COL_AUTO))
            return hs_error_set(err, HS_EINVAL, "hs_table_builder_alloc: bad name or kind of column %zu", j + 1);
    size_t n1 = ncol ? ncol : 1;
    hs_table_builder *b = calloc(1, sizeof *b);
    hs_table *t = calloc(1, sizeof *t);
    if (b)
        b->ld.t = t;
    if (!b || !t || !(t->path = strdup(source)) || !(t->col = calloc(n1, sizeof *t->col)) ||
        !(b->want = malloc(n1 * sizeof *b->want)) || !(b->ld.levels = calloc(n1, sizeof *b->ld.levels)) ||
        !(b->ld.raw = calloc(n1, sizeof *b->ld.raw)) || !(b->ld.text = calloc(n1, 1))) {
        if (b)
            hs_table_builder_free(b);
        else
            hs_table_free(t);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", source);
    }
    b->ld.want = b->want;
    t->ncol = ncol;
    for (size_t j = 0; j < ncol; j++) {
        b->want[j] = kinds[j];
        t->col[j].csv_index = j;
        t->col[j].kind = kinds[j] == HS_COL_FACTOR ? HS_COL_FACTOR : HS_COL_NUMERIC;
        if (!(t->col[j].name = strdup(names[j])) ||
            (kinds[j] == HS_COL_FACTOR && !(b->ld.levels[j] = hs_strmap_alloc()))) {
            hs_table_builder_free(b);
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory", source);
        }
    }
    *out = b;
    return HS_OK;
}

int hs_table_builder_add_row(hs_table_builder *b, const char *const *cells, long line, hs_error *err)
{
    if (!b || (!cells && b->ld.t->ncol))
        return hs_error_set(err, HS_EINVAL, "hs_table_builder_add_row: NULL argument");
    loader *ld = &b->ld;
    hs_table *t = ld->t;
    /* Check the numeric cells first, so that a bad row leaves no trace (no factor level of its own). */
    for (size_t j = 0; j < t->ncol; j++) {
        double v;
        const char *s = cells[j] ? cells[j] : "";
        if (b->want[j] == HS_COL_NUMERIC && hs_parse_double(s, &v) == HS_CELL_TEXT)
        {
            char show[SHOW], name[SHOW];
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': not a number: '%s'", t->path, line, j + 1,
                                esc(name, sizeof name, t->col[j].name), esc(show, sizeof show, s));
        }
    }
    if (t->nrow == ld->cap) {
        for (size_t j = 0; j < t->ncol; j++)
            if (b->want[j] == HS_COL_AUTO && !ld->raw[j] && !(ld->raw[j] = malloc((ld->cap ? ld->cap : 1) *
                                                                                   sizeof *ld->raw[j])))
                return hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", t->path, line);
        if (grow_rows(ld) != HS_OK)
            return hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", t->path, line);
    }
    size_t r = t->nrow;
    t->line[r] = line;
    for (size_t j = 0; j < t->ncol; j++) {
        const char *s = cells[j] ? cells[j] : "";
        int rc = put_cell(ld, j, r, s, line, err);
        if (rc == HS_OK && b->want[j] == HS_COL_AUTO) {
            ld->raw[j][r] = NULL;
            if (!hs_is_missing(s) && !(ld->raw[j][r] = strdup(s)))
                rc = hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", t->path, line);
        }
        if (rc != HS_OK) {
            for (size_t k = 0; k < j; k++)
                if (b->want[k] == HS_COL_AUTO)
                    free(ld->raw[k][r]);
            return rc;
        }
    }
    t->nrow++;
    return HS_OK;
}

/* Turns AUTO column j, which holds text, into the factor of its cells. */
static int settle_text_column(loader *ld, size_t j)
{
    hs_table *t = ld->t;
    hs_column *c = &t->col[j];
    hs_strmap *m = hs_strmap_alloc();
    int *code = malloc((t->nrow ? t->nrow : 1) * sizeof *code);
    int rc = m && code ? HS_OK : HS_ENOMEM;
    for (size_t r = 0; rc == HS_OK && r < t->nrow; r++) {
        long id = ld->raw[j][r] ? hs_strmap_intern(m, ld->raw[j][r], 1) : -1;
        if (id < -1)
            rc = HS_ENOMEM;
        code[r] = (int)id;
    }
    if (rc == HS_OK) {
        free(c->num);
        c->num = NULL;
        c->code = code;
        code = NULL;
        c->kind = HS_COL_FACTOR;
        c->auto_factor = 1;
        rc = order_levels(c, m, t->nrow);
    }
    free(code);
    hs_strmap_free(m);
    return rc;
}

int hs_table_builder_finish(hs_table_builder *b, hs_table **out, hs_error *err)
{
    if (!out) {
        hs_table_builder_free(b);
        return hs_error_set(err, HS_EINVAL, "hs_table_builder_finish: NULL argument");
    }
    *out = NULL;
    if (!b)
        return hs_error_set(err, HS_EINVAL, "hs_table_builder_finish: NULL argument");
    hs_table *t = b->ld.t;
    int rc = HS_OK;
    if (t->nrow == 0)
        rc = hs_error_set(err, HS_EDATA, "%s: no data rows", t->path);
    for (size_t j = 0; rc == HS_OK && j < t->ncol; j++) {
        if (b->want[j] == HS_COL_FACTOR)
            rc = order_levels(&t->col[j], b->ld.levels[j], t->nrow);
        else if (b->ld.text[j])
            rc = settle_text_column(&b->ld, j);
        if (rc != HS_OK)
            rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", t->path);
    }
    if (rc == HS_OK) {
        *out = t;
        b->ld.t = NULL;
        /* the raw cells are still owned by the builder: free them with the table's row count */
        for (size_t j = 0; j < t->ncol; j++) {
            for (size_t r = 0; b->ld.raw[j] && r < t->nrow; r++)
                free(b->ld.raw[j][r]);
            free(b->ld.raw[j]);
            hs_strmap_free(b->ld.levels[j]);
        }
        free(b->ld.levels);
        free(b->ld.raw);
        free(b->ld.text);
        free(b->want);
        free(b);
        return HS_OK;
    }
    hs_table_builder_free(b);
    return rc;
}
