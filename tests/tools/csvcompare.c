/*
 * csvcompare: checks that a CSV file written by hetsurv agrees with a reference
 * (R's answer, tests/oracle/ref), cell by cell.
 *
 *     csvcompare [--rtol R] [--atol A] [--columns a,b,...] [--rows COL=v1,v2,...]
 *                EXPECTED.csv ACTUAL.csv
 *
 * Columns are matched by header name: every column of EXPECTED (or only those
 * named by --columns) must exist in ACTUAL, whose extra columns are ignored.
 * Rows are matched in order and their number must agree; --rows keeps only the
 * rows of both files whose column COL holds one of the listed values.  Cells
 * that are both numbers agree when |a-b| <= rtol*max(|a|,|b|) or |a-b| <= atol;
 * `NA`, `Inf` and `-Inf` equal only themselves; any other cell is text and
 * must be equal byte for byte.  Each mismatch is printed to stdout as
 * `ACTUAL:ROW:COLUMN: expected X, got Y`, where ROW is the record number in
 * ACTUAL counting the header as 1 (the line number when no cell spans lines).
 *
 * Exit status: 0 when the files agree, 1 on any mismatch, 2 on a usage error or
 * a file that cannot be read or parsed.
 */
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RTOL 1e-8

/*
 * The absolute floor.  Some outputs are zero in exact arithmetic but come out
 * as rounding noise: a coefficient, z or score that vanishes by symmetry, a
 * log-rank O-E or zph statistic whose terms cancel exactly.  Such noise is of the order of 1e-16 times the terms that cancelled
 * (up to ~1e3 on the oracle data, so ~1e-13), and two correct programs
 * disagree on it completely, so a relative test would fail them.  1e-12 is
 * above that noise yet far below any value the tests care about; what it can
 * hide are p-values under 1e-12, and those are fixed by their statistic, which
 * is large and compared relatively.
 */
#define DEFAULT_ATOL 1e-12

/* One parsed CSV file: rows of NUL-terminated cells; row 0 is the header. */
typedef struct row {
    char **cells;
    size_t ncells, cap;
    size_t record; /* 1-based record number in the file */
} row;

typedef struct table {
    row *rows;
    size_t nrows, cap;
    row cur;    /* the row being parsed */
    int failed; /* out of memory while parsing */
} table;

typedef struct options {
    double rtol, atol;
    char **columns; /* NULL: every column of EXPECTED */
    size_t ncolumns;
    char *row_col; /* --rows: the key column, or NULL */
    char **row_vals;
    size_t nrow_vals;
} options;

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: csvcompare [--rtol R] [--atol A] [--columns a,b,...] [--rows COL=v1,v2,...]\n"
            "                  EXPECTED.csv ACTUAL.csv\n"
            "Compares two CSV files by header name, row by row.  Numbers agree when\n"
            "|a-b| <= R*max(|a|,|b|) (default R = %g) or |a-b| <= A (default A = %g);\n"
            "NA, Inf and -Inf equal only themselves; other cells must be equal text.\n"
            "Prints each mismatch as ACTUAL:ROW:COLUMN: expected X, got Y.\n"
            "Exit status: 0 equal, 1 mismatch, 2 usage or read error.\n",
            DEFAULT_RTOL, DEFAULT_ATOL);
}

static void row_clear(row *r)
{
    for (size_t i = 0; i < r->ncells; i++)
        free(r->cells[i]);
    free(r->cells);
    r->cells = NULL;
    r->ncells = r->cap = 0;
}

static void table_clear(table *t)
{
    for (size_t i = 0; i < t->nrows; i++)
        row_clear(&t->rows[i]);
    free(t->rows);
    row_clear(&t->cur);
    memset(t, 0, sizeof *t);
}

/* libcsv field callback: appends a copy of the field to the current row. */
static void on_field(void *s, size_t len, void *data)
{
    table *t = data;
    if (t->failed)
        return;
    if (t->cur.ncells == t->cur.cap) {
        size_t cap = t->cur.cap ? 2 * t->cur.cap : 16;
        char **cells = realloc(t->cur.cells, cap * sizeof *cells);
        if (!cells) {
            t->failed = 1;
            return;
        }
        t->cur.cells = cells;
        t->cur.cap = cap;
    }
    char *cell = malloc(len + 1);
    if (!cell) {
        t->failed = 1;
        return;
    }
    if (len > 0)
        memcpy(cell, s, len);
    cell[len] = '\0';
    t->cur.cells[t->cur.ncells++] = cell;
}

/* libcsv row callback: moves the current row into the table. */
static void on_row(int c, void *data)
{
    (void)c;
    table *t = data;
    if (t->failed)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        row *rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows) {
            t->failed = 1;
            return;
        }
        t->rows = rows;
        t->cap = cap;
    }
    t->cur.record = t->nrows + 1;
    t->rows[t->nrows++] = t->cur;
    memset(&t->cur, 0, sizeof t->cur);
}

/* Reads and parses path into t; on failure prints why and returns -1. */
static int table_read(const char *path, table *t)
{
    memset(t, 0, sizeof *t);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "csvcompare: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        fclose(fp);
        fprintf(stderr, "csvcompare: cannot initialise libcsv\n");
        return -1;
    }
    char buf[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, fp)) > 0) {
        if (csv_parse(&p, buf, n, on_field, on_row, t) != n) {
            fprintf(stderr, "csvcompare: %s: %s\n", path, csv_strerror(csv_error(&p)));
            rc = -1;
        }
    }
    if (rc == 0 && ferror(fp)) {
        fprintf(stderr, "csvcompare: %s: read error\n", path);
        rc = -1;
    }
    if (rc == 0 && csv_fini(&p, on_field, on_row, t) != 0) {
        fprintf(stderr, "csvcompare: %s: %s\n", path, csv_strerror(csv_error(&p)));
        rc = -1;
    }
    csv_free(&p);
    fclose(fp);
    if (rc == 0 && t->failed) {
        fprintf(stderr, "csvcompare: %s: out of memory\n", path);
        rc = -1;
    }
    if (rc == 0 && (t->nrows == 0 || t->rows[0].ncells == 0)) {
        fprintf(stderr, "csvcompare: %s: no header\n", path);
        rc = -1;
    }
    for (size_t i = 1; rc == 0 && i < t->nrows; i++) {
        if (t->rows[i].ncells != t->rows[0].ncells) {
            fprintf(stderr, "csvcompare: %s:%zu: %zu cells, the header has %zu\n", path,
                    t->rows[i].record, t->rows[i].ncells, t->rows[0].ncells);
            rc = -1;
        }
    }
    if (rc != 0)
        table_clear(t);
    return rc;
}

/* The index of the header column named name, or -1. */
static long column_index(const table *t, const char *name)
{
    for (size_t j = 0; j < t->rows[0].ncells; j++)
        if (strcmp(t->rows[0].cells[j], name) == 0)
            return (long)j;
    return -1;
}

/*
 * Keeps the header and the rows whose cell in column col is one of vals
 * (row records are kept, so messages still name the file's record numbers).
 */
static void table_filter(table *t, size_t col, char *const *vals, size_t nvals)
{
    size_t kept = 1;
    for (size_t i = 1; i < t->nrows; i++) {
        int keep = 0;
        for (size_t k = 0; k < nvals && !keep; k++)
            keep = strcmp(t->rows[i].cells[col], vals[k]) == 0;
        if (keep)
            t->rows[kept++] = t->rows[i];
        else
            row_clear(&t->rows[i]);
    }
    t->nrows = kept;
}

enum cell_kind { CELL_NUMBER, CELL_NA, CELL_POSINF, CELL_NEGINF, CELL_TEXT };

/*
 * What a cell holds.  A number is what strtod reads in full, finite, with no
 * leading space; strtod's own spellings of infinity and NaN ("inf", "nan")
 * are text, since the contract writes only NA, Inf and -Inf.
 */
static enum cell_kind cell_classify(const char *s, double *value)
{
    if (strcmp(s, "NA") == 0)
        return CELL_NA;
    if (strcmp(s, "Inf") == 0)
        return CELL_POSINF;
    if (strcmp(s, "-Inf") == 0)
        return CELL_NEGINF;
    if (s[0] == '\0' || s[0] == ' ' || s[0] == '\t')
        return CELL_TEXT;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return CELL_TEXT;
    *value = v;
    return CELL_NUMBER;
}

static int cells_agree(const char *expected, const char *actual, const options *opt)
{
    double a = 0.0, b = 0.0;
    enum cell_kind ka = cell_classify(expected, &a);
    enum cell_kind kb = cell_classify(actual, &b);
    if (ka != kb)
        return 0;
    if (ka == CELL_TEXT)
        return strcmp(expected, actual) == 0;
    if (ka != CELL_NUMBER)
        return 1;
    double diff = fabs(a - b);
    return diff <= opt->atol || diff <= opt->rtol * fmax(fabs(a), fabs(b));
}

/* A cell as shown in a message: an empty cell reads "". */
static const char *shown(const char *cell)
{
    return cell[0] ? cell : "\"\"";
}

/*
 * Compares the tables, row by row; prints each mismatch and returns how many
 * there were, or (size_t)-1 when out of memory.
 */
static size_t compare(const table *exp, const table *act, const char *act_path, const options *opt)
{
    size_t mismatches = 0;
    size_t ncols = opt->columns ? opt->ncolumns : exp->rows[0].ncells;
    const char **names = malloc(ncols * sizeof *names);
    long *je = malloc(ncols * sizeof *je);
    long *ja = malloc(ncols * sizeof *ja);
    if (!names || !je || !ja) {
        free(names);
        free(je);
        free(ja);
        return (size_t)-1;
    }
    for (size_t j = 0; j < ncols; j++) {
        names[j] = opt->columns ? opt->columns[j] : exp->rows[0].cells[j];
        je[j] = column_index(exp, names[j]);
        ja[j] = column_index(act, names[j]);
        if (ja[j] < 0) {
            printf("%s:1:%s: expected column %s, got no such column\n", act_path, names[j], names[j]);
            mismatches++;
        }
    }
    size_t rows = exp->nrows < act->nrows ? exp->nrows : act->nrows;
    for (size_t i = 1; i < rows; i++) {
        for (size_t j = 0; j < ncols; j++) {
            if (ja[j] < 0)
                continue;
            const char *e = exp->rows[i].cells[je[j]];
            const char *a = act->rows[i].cells[ja[j]];
            if (!cells_agree(e, a, opt)) {
                printf("%s:%zu:%s: expected %s, got %s\n", act_path, act->rows[i].record, names[j], shown(e),
                       shown(a));
                mismatches++;
            }
        }
    }
    for (size_t i = rows; i < exp->nrows; i++) {
        printf("%s:%zu:-: expected a row (%s,...), got end of file\n", act_path,
               act->rows[act->nrows - 1].record + 1 + (i - rows), exp->rows[i].cells[0]);
        mismatches++;
    }
    for (size_t i = rows; i < act->nrows; i++) {
        printf("%s:%zu:-: expected end of file, got a row (%s,...)\n", act_path, act->rows[i].record,
               act->rows[i].cells[0]);
        mismatches++;
    }
    free(names);
    free(je);
    free(ja);
    return mismatches;
}

/* Splits a comma-separated list in place; returns the items (malloc'd array). */
static char **split_list(char *s, size_t *n)
{
    size_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ',';
    char **items = malloc(count * sizeof *items);
    if (!items)
        return NULL;
    size_t k = 0;
    for (char *tok = s;; tok++) {
        items[k++] = tok;
        tok = strchr(tok, ',');
        if (!tok)
            break;
        *tok = '\0';
    }
    *n = k;
    return items;
}

/* Parses a finite double >= 0 into *out, or returns -1. */
static int parse_tol(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0.0)
        return -1;
    *out = v;
    return 0;
}

/*
 * Parses the command line into opt and the two paths.  Returns 0 to go on,
 * 1 when -h/--help asked for the usage text, -1 on misuse (or no memory).
 */
static int parse_args(int argc, char **argv, options *opt, const char **paths)
{
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0)
            return 1;
        if (i + 1 >= argc)
            return -1;
        char *val = argv[++i];
        if (strcmp(arg, "--rtol") == 0) {
            if (parse_tol(val, &opt->rtol) != 0)
                return -1;
        } else if (strcmp(arg, "--atol") == 0) {
            if (parse_tol(val, &opt->atol) != 0)
                return -1;
        } else if (strcmp(arg, "--columns") == 0 && !opt->columns) {
            opt->columns = split_list(val, &opt->ncolumns);
            if (!opt->columns)
                return -1;
        } else if (strcmp(arg, "--rows") == 0 && !opt->row_col) {
            char *eq = strchr(val, '=');
            if (!eq || eq == val)
                return -1;
            *eq = '\0';
            opt->row_col = val;
            opt->row_vals = split_list(eq + 1, &opt->nrow_vals);
            if (!opt->row_vals)
                return -1;
        } else {
            return -1;
        }
    }
    if (argc - i == 1 && strcmp(argv[i], "-h") == 0)
        return 1;
    if (argc - i != 2)
        return -1;
    paths[0] = argv[i];
    paths[1] = argv[i + 1];
    return 0;
}

/* Reads both files and compares them; returns the exit status. */
static int run(const options *opt, const char *exp_path, const char *act_path)
{
    table exp, act;
    if (table_read(exp_path, &exp) != 0)
        return 2;
    if (table_read(act_path, &act) != 0) {
        table_clear(&exp);
        return 2;
    }
    int status = 2;
    size_t mismatches = 0;
    for (size_t j = 0; j < opt->ncolumns; j++) {
        if (column_index(&exp, opt->columns[j]) < 0) {
            fprintf(stderr, "csvcompare: %s: no column %s (named by --columns)\n", exp_path, opt->columns[j]);
            goto out;
        }
    }
    if (opt->row_col) {
        long ke = column_index(&exp, opt->row_col);
        long ka = column_index(&act, opt->row_col);
        if (ke < 0) {
            fprintf(stderr, "csvcompare: %s: no column %s (named by --rows)\n", exp_path, opt->row_col);
            goto out;
        }
        if (ka < 0) {
            printf("%s:1:%s: expected column %s, got no such column\n", act_path, opt->row_col, opt->row_col);
            status = 1;
            goto out;
        }
        table_filter(&exp, (size_t)ke, opt->row_vals, opt->nrow_vals);
        table_filter(&act, (size_t)ka, opt->row_vals, opt->nrow_vals);
    }
    mismatches = compare(&exp, &act, act_path, opt);
    if (mismatches == (size_t)-1)
        fprintf(stderr, "csvcompare: out of memory\n");
    else
        status = mismatches > 0;
out:
    table_clear(&exp);
    table_clear(&act);
    return status;
}

int main(int argc, char **argv)
{
    options opt = {.rtol = DEFAULT_RTOL, .atol = DEFAULT_ATOL};
    const char *paths[2] = {NULL, NULL};
    int status;
    int rc = parse_args(argc, argv, &opt, paths);
    if (rc > 0) {
        usage(stdout);
        status = 0;
    } else if (rc < 0) {
        usage(stderr);
        status = 2;
    } else {
        status = run(&opt, paths[0], paths[1]);
    }
    free(opt.columns);
    free(opt.row_vals);
    return status;
}
