/*
 * figcsv: the small CSV tables a survival run saved (km.csv, cox.csv, ...),
 * read whole into memory for the figures that redraw from saved results.
 * Internal to figures/.
 */
#ifndef HS_FIGCSV_H
#define HS_FIGCSV_H

#include <stddef.h>

#include "util/hs_error.h"

/* A table: the requested columns of every data row, as strings. */
typedef struct hs_figcsv {
    char *path;
    size_t nrow, ncol;
    char **cell;   /* nrow * ncol strings, row-major */
    long *line;    /* nrow: the line each row starts on */
} hs_figcsv;

/*
 * Reads dir/file, keeping columns cols[0..ncol-1] (found by header name, in
 * any order).  When optional and the file does not exist, *out is NULL and
 * HS_OK is returned.  Fails with *out NULL and HS_EIO, HS_EDATA (a column
 * missing, a row with a different number of fields: named FILE:LINE) or
 * HS_ENOMEM.
 */
int hs_figcsv_read(hs_figcsv **out, const char *dir, const char *file, const char *const *cols, size_t ncol,
                   int optional, hs_error *err) HS_RESULT_USED;

/* Cell (row, col) as a number: "NA" is NAN, "Inf"/"-Inf" infinite; HS_EDATA (named) when not a number. */
int hs_figcsv_num(const hs_figcsv *t, size_t row, size_t col, double *v, hs_error *err) HS_RESULT_USED;

/* Frees a table; NULL is a no-op. */
void hs_figcsv_free(hs_figcsv *t);

#endif /* HS_FIGCSV_H */
