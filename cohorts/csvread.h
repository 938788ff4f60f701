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

/*
 * Bounds on what any file may hold (docs/hardening.md says why these): a
 * record of more fields, a header field longer than HS_CSV_MAX_NAME bytes or
 * any field longer than HS_CSV_MAX_FIELD bytes is an HS_EDATA error naming
 * FILE:LINE:COLUMN, raised as soon as the bound is passed.
 */
#define HS_CSV_MAX_FIELDS 100000      /* fields (columns) in a record */
#define HS_CSV_MAX_NAME 1024          /* bytes in a field of the header (record 0) */
#define HS_CSV_MAX_FIELD (1L << 20)   /* bytes in any field */

/* One record.  The strings are NUL-terminated and valid only during the callback. */
typedef struct hs_csv_row {
    size_t nfield;             /* number of fields in this record */
    const char *const *field;  /* field[i]: the i-th field, unquoted */
    const size_t *len;         /* len[i]: its length in bytes (a field never holds a NUL: reading one is an
                                  HS_EDATA error naming FILE:LINE:FIELD) */
    long line;                 /* 1-based line on which the record starts */
    size_t index;              /* 0-based record number (0 is the header); in a range read, counted
                                  from the range's first_index */
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
 * malformed CSV (an unterminated quoted field, a quote inside an unquoted
 * field, text after a closing quote, a NUL byte, a bound above passed; the
 * message names FILE:LINE:COLUMN in words, never libcsv's) or on a header
 * that is not UTF-8 text (UTF-16, with or without a byte-order mark, or a
 * second UTF-8 byte-order mark: the message says so), HS_ENOMEM, or whatever
 * fn returned.  Bytes of the file quoted in messages are escaped
 * (hs_err_escape).
 */
int hs_csv_read(const char *path, char delim, hs_csv_row_fn fn, void *ctx, hs_error *err) HS_RESULT_USED;

/* A byte range of a file that starts at a record boundary. */
typedef struct hs_csv_range {
    long long start;   /* byte offset of the range's first record (0: the file's start, BOM skipped) */
    long long end;     /* byte offset just past the range, -1 for the end of the file */
    long first_line;   /* line number of the line at start */
    size_t first_index;/* record number given to the range's first record (0 only for the header) */
} hs_csv_range;

/* As hs_csv_read, over one range (NULL: the whole file). */
int hs_csv_read_range(const char *path, char delim, const hs_csv_range *range, hs_csv_row_fn fn, void *ctx,
                      hs_error *err) HS_RESULT_USED;

/*
 * Plans a parallel read: splits the file into its header line (range[0])
 * and up to `parts` data ranges of about equal size, each starting at a line
 * boundary (range[1..*nrange-1]; range must hold parts + 1 entries).  Only a
 * regular file without any quote character (so that every line end ends a
 * record) whose first line is not blank is split; otherwise *nrange is 1 and
 * range[0] is the whole file.  Costs one sequential pass over the file.
 * Fails only with HS_EIO or HS_ENOMEM.
 */
int hs_csv_split(const char *path, size_t parts, hs_csv_range *range, size_t *nrange, hs_error *err) HS_RESULT_USED;

#endif /* HS_CSVREAD_H */
