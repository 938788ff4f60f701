/*
 * hs_parse: parsing of the cell values found in cohort CSV files.
 */
#ifndef HS_PARSE_H
#define HS_PARSE_H

#include <stdio.h>

/* What a cell holds. */
typedef enum { HS_CELL_NUMBER = 0, HS_CELL_MISSING = 1, HS_CELL_TEXT = 2 } hs_cell_kind;

/* True when s is a missing value: empty, blank, "NA" (R's na.strings) or "NaN". */
int hs_is_missing(const char *s);

/*
 * Parses s as a decimal or scientific number, with optional surrounding
 * blanks; "Inf", "-Inf", "inf" are accepted as infinities (as R reads them).
 * Returns HS_CELL_NUMBER and sets *out, HS_CELL_MISSING (*out = NAN), or
 * HS_CELL_TEXT when s is not a number (*out untouched).
 */
hs_cell_kind hs_parse_double(const char *s, double *out);

/* Writes x as R writes it with sprintf("%.17g"): NA for NaN, Inf and -Inf, else %.17g. */
int hs_fprint_double(FILE *f, double x);

/* Writes s as one CSV field: as it is, or quoted (quotes doubled) when it holds a comma, quote or line end. */
int hs_fprint_field(FILE *f, const char *s);

#endif /* HS_PARSE_H */
