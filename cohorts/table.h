/*
 * table: typed columns read from any CSV file, selected by header name, or
 * built in memory row by row (hs_table_builder) from cells given as text.
 *
 * Reads only the requested columns, in one streaming pass, into numeric
 * (double, NAN = missing) or factor (integer level code, -1 = missing)
 * vectors.  Empty cells, "NA" and "NaN" are missing, as in R's read.csv.
 * A column requested as HS_COL_AUTO becomes what read.csv would make of it:
 * numeric when every non-missing value is a number, else a factor.
 * Factor levels are ordered as R orders them for a column read with
 * read.csv and C collation: numerically when every level is a number,
 * otherwise by byte order.  The first bad cell stops the read with an error
 * naming FILE:LINE:COLUMN.  A table has at least one row: a file with a
 * header line and no data rows is an error.
 */
#ifndef HS_TABLE_H
#define HS_TABLE_H

#include <stddef.h>

#include "util/hs_error.h"

/* How a column is stored.  AUTO is only a request: the column becomes NUMERIC or FACTOR. */
typedef enum { HS_COL_NUMERIC = 0, HS_COL_FACTOR = 1, HS_COL_AUTO = 2 } hs_col_kind;

typedef struct hs_column {
    char *name;
    size_t csv_index;  /* 0-based position in the file (builder: in the builder's column list) */
    hs_col_kind kind;  /* NUMERIC or FACTOR, never AUTO */
    int auto_factor;   /* 1: requested AUTO and made a factor because a value is not a number */
    double *num;       /* NUMERIC: nrow values, NAN when missing; NULL for factors */
    int *code;         /* FACTOR: nrow codes in 0..nlevel-1, -1 when missing; NULL for numerics */
    char **level;      /* FACTOR: level names in order */
    size_t nlevel;
} hs_column;

typedef struct hs_table {
    char *path;
    size_t nrow;    /* data rows (header excluded) */
    long *line;     /* nrow: line on which each row starts */
    size_t ncol;
    hs_column *col; /* in the order requested */
} hs_table;

/*
 * Reads the columns names[0..ncol-1] of the CSV at path, kinds[i] saying how
 * to store each (a name may be requested twice, with different kinds).  An
 * AUTO column that holds a text value costs a second pass over the file.
 * On success *out is a new table (free with hs_table_free).  Fails with
 * HS_EIO (unreadable), HS_EDATA (no header, no data rows, a missing column,
 * a duplicated header name, a ragged row, a non-number in a NUMERIC column;
 * the message names file, line and column), HS_ENOMEM.
 */
int hs_table_read(hs_table **out, const char *path, const char *const *names, const hs_col_kind *kinds,
                  size_t ncol, hs_error *err) HS_RESULT_USED;

/* Frees a table; NULL is a no-op. */
void hs_table_free(hs_table *t);

/* The first column called name stored as kind (HS_COL_AUTO: of either kind), or NULL. */
const hs_column *hs_table_column(const hs_table *t, const char *name, hs_col_kind kind);

/*
 * An in-memory table built row by row from text cells, with exactly the
 * rules of hs_table_read (missing values, numbers, AUTO, level order), so that
 * a program can assemble a table (say, manifest columns and score columns)
 * without writing a CSV.  Typical use:
 *     hs_table_builder *b;
 *     rc = hs_table_builder_alloc(&b, "cohort", names, kinds, ncol, &err);
 *     for each row: rc = hs_table_builder_add_row(b, cells, line, &err);
 *     rc = hs_table_builder_finish(b, &table, &err);
 */
typedef struct hs_table_builder hs_table_builder;

/*
 * A new builder of ncol columns names[i] (copied; duplicates allowed, as in
 * hs_table_read) stored as kinds[i].  source names the data in messages and
 * becomes the table's path.  Fails with HS_EINVAL (NULL argument, a bad
 * kind) or HS_ENOMEM, leaving *out NULL.
 */
int hs_table_builder_alloc(hs_table_builder **out, const char *source, const char *const *names,
                           const hs_col_kind *kinds, size_t ncol, hs_error *err) HS_RESULT_USED;

/*
 * Appends one row: cells[i] is column i's value as text (NULL, "", "NA" and
 * "NaN" are missing); line is recorded as the row's line and named in
 * messages.  Fails with HS_EDATA ("SOURCE:LINE:COLUMN: column 'X': not a
 * number: 'v'" for a NUMERIC column) or HS_ENOMEM; the row is then not added
 * and the builder stays usable.
 */
int hs_table_builder_add_row(hs_table_builder *b, const char *const *cells, long line, hs_error *err) HS_RESULT_USED;

/*
 * Finishes the table: settles AUTO columns and orders factor levels.  The
 * builder is consumed (freed) whatever the outcome.  On success *out is a new
 * table equal, field for field, to what hs_table_read gives on a CSV of the
 * same cells.  Fails with HS_EDATA (no rows: "SOURCE: no data rows") or
 * HS_ENOMEM, leaving *out NULL.
 */
int hs_table_builder_finish(hs_table_builder *b, hs_table **out, hs_error *err) HS_RESULT_USED;

/* Abandons a builder and what it holds; NULL is a no-op. */
void hs_table_builder_free(hs_table_builder *b);

#endif /* HS_TABLE_H */
