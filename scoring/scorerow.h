/*
 * scorerow: the score columns of one slide, as every cohort table writes
 * them (score's table, run's slides.csv, the /slides dataset of results.h5,
 * and the in-memory table the cohort run analyses).
 *
 * A row is plain data without pointers, so that the rows scored on many
 * processes can be gathered as bytes.  Its text form is the contract of the
 * tables: numbers as R writes them with %.17g (NA when missing), so that a
 * table read back from CSV holds exactly the numbers computed.
 */
#ifndef HS_SCOREROW_H
#define HS_SCOREROW_H

#include <stddef.h>
#include <stdio.h>

#include "scoring/calib.h"
#include "scoring/metrics.h"
#include "scoring/score.h"
#include "util/hs_error.h"

/* The score columns, in table order. */
#define HS_SCORE_NCOL 27
extern const char *const hs_score_col[HS_SCORE_NCOL];

/* Column kinds: text (status, calls, names) or numbers (NA as NaN). */
typedef enum { HS_SCOL_TEXT = 0, HS_SCOL_NUMBER = 1 } hs_scol_kind;
extern const hs_scol_kind hs_score_col_kind[HS_SCORE_NCOL];

typedef struct hs_score_row {
    int ok;                         /* 1: scored; 0: status=error with the reason in error */
    char error[HS_ERROR_MSG_MAX];
    hs_slide_metrics m;             /* ok */
    int measured;                   /* 1: the stain and cell columns are known */
    double cell_radius_um;
    hs_stain_source stain_source;
    double stain_h_angle, stain_dab_angle;
    int has_cuts;                   /* 1: the cuts used are known */
    hs_calib_mode method;
    double od[3];
    char calibration[16];           /* without cuts: what classed the cells ("qupath"), "" for NA */
    double leak;                    /* NAN: none */
} hs_score_row;

/* An empty row: status=error with no reason, every other column NA. */
void hs_score_row_init(hs_score_row *r);

/* Marks r failed with the reason msg. */
void hs_score_row_fail(hs_score_row *r, const char *msg);

/* Fills the stain and cell columns from a slide's measurement. */
void hs_score_row_measured(hs_score_row *r, const hs_score_result *res);

/* Fills the calibration columns from the cuts used. */
void hs_score_row_cuts(hs_score_row *r, const hs_calib_cuts *c);

/* Column j of r as text ("NA" when missing; "" for the error of a row that is ok), in buf when it is formatted. */
const char *hs_score_row_text(const hs_score_row *r, int j, char *buf, size_t size);

/* Column j of r as a number (NAN when missing); j must be a number column. */
double hs_score_row_number(const hs_score_row *r, int j);

/* Writes the score columns of r, each preceded by a comma, and ends the line. */
int hs_score_row_write(FILE *f, const hs_score_row *r);

/* Writes the score column names, each preceded by a comma (no line end). */
int hs_score_row_write_header(FILE *f);

#endif /* HS_SCOREROW_H */
