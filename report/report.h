/*
 * report: a cohort run's results as one self-contained HTML page
 * (DIR/report.html of `hetsurv run`), built from the numbers the run
 * computed (its score rows and survival results), not from re-parsed CSV.
 *
 * The page needs nothing outside itself: CSS is inline, every figure is
 * embedded as a data: URI (PNG or SVG), there are no fonts, links or
 * scripts from elsewhere (one small inline script marks, for the tests,
 * whether every image decoded and whether any script error occurred).
 * Every user string (patient ids, paths, reasons, the command line) is
 * HTML-escaped.  The page holds no date or other state of the moment, so
 * the same input gives the same bytes.  A figure that is absent (not drawn,
 * missing, unreadable or not a PNG/SVG image) is stated as absent, never
 * shown as a broken image.
 *
 * No MPI, no HDF5: the caller gathers the input.
 */
#ifndef HS_REPORT_H
#define HS_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "scoring/scorerow.h"
#include "stats/survival.h"
#include "util/hs_error.h"

/*
 * A figure: in-memory bytes (data/size) when data is set, otherwise the
 * file at path (read when the report is written; a missing file is a figure
 * "not drawn"), otherwise absent.  PNG is recognised by its signature, SVG
 * by "<svg" or "<?xml" at the start.  Strings are the caller's.
 */
typedef struct hs_report_figure {
    const char *title;               /* caption ("Kaplan-Meier, DFS") */
    const char *path;                /* a PNG or SVG file, or NULL */
    const unsigned char *data;       /* the image's bytes instead of path, or NULL */
    size_t size;                     /* bytes at data */
    const char *absent_note;         /* why there is no figure when there is none ("--no-plots"); NULL: "not drawn" */
} hs_report_figure;

/* One endpoint's analysis and its figures. */
typedef struct hs_report_endpoint {
    const char *name;                /* "DFS", "OS": the section title */
    const char *id;                  /* "dfs", "os": the section's anchor and figure ids (letters, digits, -) */
    const hs_survival_result *result;/* the analysis, or NULL when it was not done (said so) */
    hs_report_figure km, forest;
} hs_report_endpoint;

/* A named value shown in the run's parameters. */
typedef struct hs_report_param {
    const char *name, *value;
} hs_report_param;

/* Everything the page shows.  Nothing is copied or freed: the caller keeps it alive during hs_report_write. */
typedef struct hs_report_input {
    /* provenance */
    const char *version;             /* hetsurv's version */
    const char *command_line;        /* as run (shell-quoted), or NULL */
    const char *manifest;            /* the manifest's path as given */
    const char *manifest_sha256;     /* 64 hex digits, or NULL */
    const char *controls;            /* the control table, or NULL */
    const char *controls_sha256;
    const char *date;                /* NULL (reproducible); a date only when the run fixes one (SOURCE_DATE_EPOCH) */
    /* parameters: the analysis options, then the scoring parameters as "key value" lines */
    const hs_report_param *param;
    size_t nparam;
    const char *params_text;         /* may be NULL */
    const char *metric;              /* the heterogeneity column analysed (summarised with the others), or NULL */
    /* the cohort: one row per manifest patient, in manifest order */
    size_t npatient;
    const char *const *patient_id;   /* npatient */
    const char *const *slide;        /* npatient: the slide as the manifest gives it */
    const hs_score_row *row;         /* npatient: ok rows are scored, the others failed with their reason */
    const hs_report_figure *cohort;  /* the cohort figure (id fig-cohort) in the cohort section, or NULL: none */
    /* the analyses */
    size_t nendpoint;
    const hs_report_endpoint *endpoint;
    /* the slide-map gallery (may be empty) */
    size_t nmap;
    const hs_report_figure *map;
    const char *map_note;            /* a sentence under the gallery's heading (e.g. which maps it shows), or NULL */
} hs_report_input;

/*
 * Writes the page for `in` to f.  Returns HS_OK, HS_EINVAL (NULL argument),
 * HS_ENOMEM, or HS_EIO when f reports a write error.  An unreadable figure
 * is not an error: the page says why it is absent.
 */
int hs_report_fprint(FILE *f, const hs_report_input *in, hs_error *err) HS_RESULT_USED;

/*
 * Writes the page to path atomically (util/hs_atomic.h: a temporary file
 * renamed when complete).  Failures as hs_report_fprint, HS_EIO naming path.
 */
int hs_report_write(const hs_report_input *in, const char *path, hs_error *err) HS_RESULT_USED;

/* Writes s to f HTML-escaped (& < > " ' as entities, control characters but tab and newline as U+FFFD). */
void hs_report_escape(FILE *f, const char *s);

#endif /* HS_REPORT_H */
