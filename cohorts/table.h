/*
 * table: typed columns read from any CSV file, selected by header name.
 *
 * Reads only the requested columns, in one streaming pass, into numeric
 * (double, NAN = missing) or factor (integer level code, -1 = missing)
 * vectors.  Empty cells, "NA" and "NaN" are missing, as in R's read.csv.
 * Factor levels are ordered as R orders them for a column read with
 * read.csv and C collation: numerically when every level is a number,
 * otherwise by byte order.  The first bad cell stops the read with an error
 * naming FILE:LINE:COLUMN.
 */
#ifndef HS_TABLE_H
#define HS_TABLE_H

#include <stddef.h>

#include "util/hs_error.h"

typedef enum { HS_COL_NUMERIC = 0, HS_COL_FACTOR = 1 } hs_col_kind;

typedef struct hs_column {
    char *name;
    size_t csv_index;  /* 0-based position in the file */
    hs_col_kind kind;
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
 * to store each (a name may be requested twice, with different kinds).
 * On success *out is a new table (free with hs_table_free).  Fails with
 * HS_EIO (unreadable), HS_EDATA (no header, a missing column, a duplicated
 * header name, a ragged row, a non-number in a numeric column; the message
 * names file, line and column), HS_ENOMEM.
 */
int hs_table_read(hs_table **out, const char *path, const char *const *names, const hs_col_kind *kinds,
                  size_t ncol, hs_error *err) HS_RESULT_USED;

void hs_table_free(hs_table *t);

/* The column called name, or NULL. */
const hs_column *hs_table_column(const hs_table *t, const char *name, hs_col_kind kind);

#endif /* HS_TABLE_H */
