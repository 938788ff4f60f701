/*
 * manifest: reading and validating a cohort manifest.
 *
 * A manifest is a CSV file with one row per patient and, in any order, the
 * columns patient_id, slide, dfs_time, dfs_event, os_time, os_event; every
 * other column is a covariate.  A covariate is categorical when it is
 * declared a factor (numeric codes such as grade 1/2/3) or when one of its
 * values is not a number (as R's read.csv + coxph treat a text column);
 * otherwise it is numeric.  A manifest has at least one patient row.
 * Reading never stops at the first problem: every problem is recorded with
 * its line and column so that `hetsurv validate` can report them all.
 */
#ifndef HS_MANIFEST_H
#define HS_MANIFEST_H

#include <stddef.h>
#include <stdio.h>

#include "util/hs_error.h"

/* The standard columns, in this order, as indices into hs_manifest_required. */
enum { HS_MF_PATIENT, HS_MF_SLIDE, HS_MF_DFS_TIME, HS_MF_DFS_EVENT, HS_MF_OS_TIME, HS_MF_OS_EVENT, HS_MF_NREQ };
extern const char *const hs_manifest_required[HS_MF_NREQ];

typedef struct hs_manifest_problem {
    long line;      /* 1-based line in the file */
    size_t column;  /* 1-based column, 0 when the problem is not about one cell */
    int warning;    /* 1: suspicious but not invalid (does not fail validation) */
    char *msg;
} hs_manifest_problem;

typedef struct hs_manifest_patient {
    char *patient_id;
    char *slide;        /* as written in the manifest */
    char *slide_path;   /* resolved: relative to the manifest's folder unless absolute */
    double dfs_time, os_time;  /* NAN when missing or invalid */
    int dfs_event, os_event;   /* 0/1, -1 when missing or invalid */
    long line;
    char **cov;         /* ncov raw covariate cells (NULL when missing) */
} hs_manifest_patient;

typedef struct hs_manifest {
    char *path;
    size_t npatient;
    hs_manifest_patient *patient;
    size_t ncov;
    char **cov_name;      /* covariate column names, in file order */
    int *cov_factor;      /* 1 when categorical: declared a factor, or cov_auto */
    int *cov_auto;        /* 1 when categorical because a value is not a number (not declared a factor) */
    size_t *cov_missing;  /* rows with the covariate missing */
    size_t nerror, nwarning;
    size_t nproblem;
    hs_manifest_problem *problem; /* in file order */
} hs_manifest;

/*
 * Reads and validates the manifest at path.  factors[0..nfactor-1] name the
 * covariates to treat as categorical (naming a column that does not exist is
 * a problem).  When check_slides is non-zero, each slide must exist and be
 * readable.  A header without patient rows is a problem (an error) on the
 * header's line.  Returns HS_OK with *out set whenever the file could be
 * parsed, even if it has problems (see nerror); HS_EIO when it cannot be
 * opened, HS_EDATA when it is not parseable CSV or has no header, HS_ENOMEM.
 */
int hs_manifest_read(hs_manifest **out, const char *path, const char *const *factors, size_t nfactor,
                     int check_slides, hs_error *err) HS_RESULT_USED;

void hs_manifest_free(hs_manifest *m);

/*
 * Writes the validation report of m to f, as `hetsurv validate` prints it:
 * every problem as FILE:LINE[:COLUMN]: message, a note per covariate with
 * missing values, one naming the categorical covariates and why, and the
 * closing line (patients, covariates, errors, warnings, valid or INVALID).
 */
void hs_manifest_report(FILE *f, const hs_manifest *m);

#endif /* HS_MANIFEST_H */
