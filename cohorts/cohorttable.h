/*
 * cohorttable: the cohort table's manifest part: the columns of each
 * manifest row as `score --manifest` and `run` write them in front of the
 * score columns (scoring/scorerow.h).  Inputs are echoed as given: text
 * fields as read (quoted where CSV needs it), times in the shortest form
 * that reads back to the same double, missing covariates as NA.
 */
#ifndef HS_COHORTTABLE_H
#define HS_COHORTTABLE_H

#include <stdio.h>

#include "cohorts/manifest.h"

/* Writes the manifest's column names: the required ones, then the covariates (no line end). */
void hs_cohorttable_header(FILE *f, const hs_manifest *m);

/* Writes patient i's manifest fields, in the header's order (no line end). */
void hs_cohorttable_row(FILE *f, const hs_manifest *m, size_t i);

/* Patient i's field j (in the header's order) as text into buf: what hs_cohorttable_row writes, unquoted. */
const char *hs_cohorttable_field(const hs_manifest *m, size_t i, size_t j, char *buf, size_t size);

/* The number of manifest columns: the required ones and the covariates. */
size_t hs_cohorttable_ncol(const hs_manifest *m);

/* Column j's name. */
const char *hs_cohorttable_name(const hs_manifest *m, size_t j);

#endif /* HS_COHORTTABLE_H */
