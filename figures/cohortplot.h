/*
 * cohortplot: the cohort figure: the distribution of the run's heterogeneity
 * metric (a histogram with R's hist() default breaks, the cutpoint drawn when
 * one is used; for the 0/1 flag `heterogeneous`, the slides per
 * heterogeneity pattern) above the HER2 counts (IHC score 0/1+/2+/3+/NA and
 * the HER2 category), every bar with its count written on it.
 *
 * Failed slides (status error) are counted as failed, in no bar: the figure
 * says how many.  The data come from the run's score rows
 * (hs_cohortplot_from_rows) or from a saved slides.csv (hs_cohortplot_load).
 */
#ifndef HS_COHORTPLOT_H
#define HS_COHORTPLOT_H

#include <stddef.h>
#include <stdio.h>

#include <cairo.h>

#include "scoring/scorerow.h"
#include "util/hs_error.h"

/* Bars of the HER2 panels and of the pattern panel: the named values, then NA. */
#define HS_COHORTPLOT_NIHC 5      /* 0, 1+, 2+, 3+, NA (no tumour cells) */
#define HS_COHORTPLOT_NCAT 6      /* null, ultralow, low, equivocal, positive, NA */
#define HS_COHORTPLOT_NPAT 5      /* homogeneous, clustered, mosaic, scattered, NA */

/* What the cohort figure shows.  Everything is owned (hs_cohortplot_data_free). */
typedef struct hs_cohortplot_data {
    char *metric;                 /* the heterogeneity column */
    int flag;                     /* 1: metric is the 0/1 flag "heterogeneous": the pattern panel, no histogram */
    size_t nslide;                /* rows of the cohort */
    size_t nfailed;               /* rows not scored (in no count below) */
    size_t ihc[HS_COHORTPLOT_NIHC];      /* scored slides per IHC score */
    size_t category[HS_COHORTPLOT_NCAT]; /* scored slides per HER2 category */
    size_t pattern[HS_COHORTPLOT_NPAT];  /* scored slides per heterogeneity pattern */
    size_t nvalue;                /* scored slides with a finite metric value */
    double *value;                /* nvalue values, ascending */
    size_t nmissing;              /* scored slides without a value (NA) */
} hs_cohortplot_data;

/* Drawing options. */
typedef struct hs_cohortplot_opts {
    const char *title;            /* above the figure, or NULL */
    double cut;                   /* the cutpoint drawn on the histogram; NAN: none */
    int cut_optimal;              /* 1: the cut was chosen from the data (maxstat): said in its label */
    const char *cut_source;       /* the analysis whose cut it is ("DFS"), said in its label, or NULL */
} hs_cohortplot_opts;

void hs_cohortplot_opts_default(hs_cohortplot_opts *o);

/*
 * Counts rows[0..n-1] (n > 0) for the figure of metric, which must be a
 * number column of the score rows (hs_score_col).  Fails with *out NULL and
 * HS_EINVAL (NULL argument, no rows, not a number column: named) or HS_ENOMEM.
 */
int hs_cohortplot_from_rows(hs_cohortplot_data **out, const hs_score_row *rows, size_t n, const char *metric,
                            hs_error *err) HS_RESULT_USED;

/*
 * Reads a saved cohort table (slides.csv of `hetsurv run`, or the table of
 * `hetsurv score --manifest`): the columns status, ihc_score, her2_class,
 * pattern and metric (any numeric column).  Fails with *out NULL and
 * HS_EINVAL, HS_EIO, HS_EDATA (a column missing, a value not understood,
 * no rows: named FILE:LINE) or HS_ENOMEM.
 */
int hs_cohortplot_load(hs_cohortplot_data **out, const char *path, const char *metric, hs_error *err) HS_RESULT_USED;

void hs_cohortplot_data_free(hs_cohortplot_data *d);

/*
 * The histogram's breaks as R's hist(x) draws them by default: Sturges'
 * number of classes ceiling(log2(n) + 1) and pretty(range(x), that, min.n = 1).
 * x: n finite values (n > 0, any order).  Writes at most max breaks and
 * returns how many there are (call again with more room when larger), or 0
 * for n == 0 or a non-finite value.
 */
size_t hs_cohortplot_breaks(const double *x, size_t n, double *breaks, size_t max);

/*
 * Counts x[0..n-1] into the nb - 1 bins of breaks[0..nb-1] (ascending) as R's
 * hist() does: right-closed (a, b], the first bin also holding its lower end,
 * breaks widened by R's fuzz of 1e-7 median bin widths.  Values outside every
 * bin are not counted.  counts has nb - 1 entries.  Returns the number counted.
 */
size_t hs_cohortplot_bin(const double *x, size_t n, const double *breaks, size_t nb, size_t *counts);

/*
 * Writes the figure's numbers as CSV (panel,label,count[,lower,upper]):
 * the histogram's bins (or the patterns), the IHC scores, the categories,
 * then the totals (slides, failed, metric_n, metric_missing).  HS_OK, HS_ENOMEM or HS_EIO.
 */
int hs_cohortplot_table(FILE *f, const hs_cohortplot_data *d, hs_error *err) HS_RESULT_USED;

/* The figure's default size in points (7 in wide). */
void hs_cohortplot_size(const hs_cohortplot_data *d, const hs_cohortplot_opts *o, double *w_pt, double *h_pt);

/* Draws the figure on cr in a w x h point box.  HS_OK, or HS_EINVAL (NULL argument), HS_ENOMEM. */
int hs_cohortplot_draw(cairo_t *cr, double w, double h, const hs_cohortplot_data *d, const hs_cohortplot_opts *o,
                       hs_error *err) HS_RESULT_USED;

/* Writes base.png/.pdf/.svg (formats in mask) at hs_cohortplot_size; failures as hs_fig_write. */
int hs_cohortplot_write(const char *base, unsigned mask, const hs_cohortplot_data *d, const hs_cohortplot_opts *o,
                        hs_error *err) HS_RESULT_USED;

#endif /* HS_COHORTPLOT_H */
