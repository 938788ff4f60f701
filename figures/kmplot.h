/*
 * kmplot: the Kaplan-Meier figure of one endpoint: step curves per group with
 * censoring marks, optional confidence bands and median lines, the log-rank
 * p-value (and, for two groups, the Cox hazard ratio with its 95% CI), a
 * legend, and a number-at-risk table whose columns sit exactly under the
 * x-axis ticks (optionally with cumulative censored and events, as KMunicate
 * recommends).
 *
 * The figure draws a plain hs_kmplot_data, made either from the analysis's
 * own result (hs_kmplot_from_result) or from the files a survival run saved
 * (hs_kmplot_load: km.csv, median.csv, tests.csv, cox.csv).
 *
 * At-risk rule (hs_kmplot_counts): the number at risk at a tick t is n_risk
 * of the curve's first row with time >= t, i.e. the number at risk just
 * before t, and 0 beyond the curve's last time: what R's
 * summary(fit, times = t, extend = TRUE)$n.risk gives.
 */
#ifndef HS_KMPLOT_H
#define HS_KMPLOT_H

#include <stddef.h>

#include <cairo.h>

#include "stats/survival.h"
#include "util/hs_error.h"

/* One curve; every array has ntime elements, times ascending (the rows of km.csv). */
typedef struct hs_kmplot_curve {
    char *name;        /* legend and risk-table label: "all" or "GROUP=level" */
    size_t ntime;
    double *time, *n_risk, *n_event, *n_censor, *surv;
    double *lower, *upper; /* confidence limits; NAN where undefined (no band drawn there) */
    double median;     /* NAN when not reached */
} hs_kmplot_curve;

/* What a Kaplan-Meier figure shows.  Owned strings and arrays (hs_kmplot_data_free). */
typedef struct hs_kmplot_data {
    size_t ncurve;
    hs_kmplot_curve *curve;
    char *test_label;  /* "Log-rank", "Peto-Peto", "Stratified log-rank", ...; NULL without a test */
    double test_p;     /* its p-value (NAN: not computed) */
    double maxstat_p;  /* with a data-chosen cutpoint: the corrected p (tests.csv maxstat), else NAN */
    int have_hr;       /* 1 with two curves and the Cox term of the second group against the first */
    char *hr_term;     /* that term's name ("GROUP=level") */
    int hr_adjusted;   /* 1 when the model has other terms (the HR is adjusted for them) */
    double hr, hr_lower, hr_upper;
    hs_cox_coef_flag hr_flag; /* infinite or aliased: the HR is printed as not estimable */
} hs_kmplot_data;

/* Drawing options. */
typedef struct hs_kmplot_opts {
    const char *title;      /* above the plot, or NULL */
    const char *time_unit;  /* x-axis unit, "months" by default */
    const char *ylabel;     /* y-axis title, "Survival probability" by default */
    double time_break;      /* distance between x ticks; 0: R's pretty() of [0, last time] */
    int bands;              /* 1: draw the confidence bands (default) */
    int medians;            /* 1: dashed lines to each reached median (default) */
    int kmunicate;          /* 1: risk table also shows cumulative censored and events (default 0) */
} hs_kmplot_opts;

/* Fills *o with the defaults above. */
void hs_kmplot_opts_default(hs_kmplot_opts *o);

/*
 * Copies what the figure needs from an analysis result.  On success *out owns
 * new data (hs_kmplot_data_free).  Fails with *out NULL and HS_EINVAL (NULL
 * argument, no curve) or HS_ENOMEM.
 */
int hs_kmplot_from_result(hs_kmplot_data **out, const hs_survival_result *r, hs_error *err) HS_RESULT_USED;

/*
 * Reads dir/km.csv and dir/median.csv (required), dir/tests.csv and
 * dir/cox.csv (when present) as hs_survival_write wrote them.  The test label
 * is "Log-rank" (the files do not record rho or strata).  On success *out owns
 * new data.  Fails with *out NULL and HS_EINVAL, HS_EIO (a file missing or
 * unreadable), HS_EDATA (a malformed file, named FILE:LINE) or HS_ENOMEM.
 */
int hs_kmplot_load(hs_kmplot_data **out, const char *dir, hs_error *err) HS_RESULT_USED;

/* Frees data; NULL is a no-op. */
void hs_kmplot_data_free(hs_kmplot_data *d);

/*
 * The risk-table numbers of curve c at time t: *risk as R's
 * summary(fit, times = t, extend = TRUE)$n.risk (n_risk of the first row with
 * time >= t, 0 past the last row), and the cumulative *events and *censored
 * at times < t (so that risk + events + censored = the curve's n).  Any
 * output pointer may be NULL.
 */
void hs_kmplot_counts(const hs_kmplot_curve *c, double t, double *risk, double *events, double *censored);

/*
 * The x-axis ticks of d: from 0 by o->time_break, or R's pretty(c(0, T)),
 * T the largest finite time of all curves (0 when none), covering [0, T].
 * Writes at most max ticks and returns how many there are (at least 2).
 */
size_t hs_kmplot_ticks(const hs_kmplot_data *d, const hs_kmplot_opts *o, double *ticks, size_t max);

/* The figure's default size in points for d and o (width 7 in; height grows with the risk table). */
void hs_kmplot_size(const hs_kmplot_data *d, const hs_kmplot_opts *o, double *w_pt, double *h_pt);

/* Draws the figure on cr in a w x h point box at the origin.  HS_OK, or HS_EINVAL (NULL, no curve). */
int hs_kmplot_draw(cairo_t *cr, double w, double h, const hs_kmplot_data *d, const hs_kmplot_opts *o,
                   hs_error *err) HS_RESULT_USED;

/* Writes base.png/.pdf/.svg (formats in mask) at hs_kmplot_size; failures as hs_fig_write. */
int hs_kmplot_write(const char *base, unsigned mask, const hs_kmplot_data *d, const hs_kmplot_opts *o,
                    hs_error *err) HS_RESULT_USED;

#endif /* HS_KMPLOT_H */
