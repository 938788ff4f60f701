/*
 * csvread: streaming CSV reading on top of libcsv.
 *
 * Reads a delimited text file record by record and hands each record to a
 * callback together with the line on which it starts, so that every later
 * error can name FILE:LINE:COLUMN.  Handles quoted fields with embedded
 * delimiters, quotes and newlines, CRLF line ends, blank lines and a UTF-8
 * byte-order mark.  Memory is bounded by the longest record, not the file.
 */
#ifndef HS_CSVREAD_H
#define HS_CSVREAD_H

#include <stddef.h>

#include "util/hs_error.h"

/* One record.  The strings are NUL-terminated and valid only during the callback. */
typedef struct hs_csv_row {
    size_t nfield;             /* number of fields in this record */
    const char *const *field;  /* field[i]: the i-th field, unquoted */
    const size_t *len;         /* len[i]: its length in bytes (it may contain NULs) */
    long line;                 /* 1-based line on which the record starts */
    size_t index;              /* 0-based record number (0 is the header, if any) */
} hs_csv_row;

/*
 * Called once per record.  Return HS_OK to continue; any other value stops
 * reading and becomes hs_csv_read's return value (fill err to explain).
 */
typedef int (*hs_csv_row_fn)(void *ctx, const hs_csv_row *row, hs_error *err);

/*
 * Reads the file at path with field delimiter delim (',' or '\t', ...),
 * calling fn(ctx, row, err) for each record in order.  Returns HS_OK at the
 * end of the file, HS_EIO when the file cannot be opened or read, HS_EDATA on
 * malformed CSV (e.g. an unterminated quote; the message names path and
 * line), HS_ENOMEM, or whatever fn returned.
 */
int hs_csv_read(const char *path, char delim, hs_csv_row_fn fn, void *ctx, hs_error *err) HS_RESULT_USED;

#endif /* HS_CSVREAD_H */
