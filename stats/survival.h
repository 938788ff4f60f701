/*
 * survival: one whole survival analysis of a table, specification in, result
 * out: Kaplan-Meier curves with medians and restricted means, the G-rho
 * log-rank test, a Cox model with its tests, Harrell's C and cox.zph, each
 * computed as R survival 3.5-3 computes it (survival-r.md), optionally on a
 * group made by cutting a continuous column (at a given value, or at the
 * maximally selected log-rank cutpoint with its corrected p-value).
 * `hetsurv survival` and the cohort run (`hetsurv run`) both call it, so the
 * analysis exists once; they only read a table, call hs_survival_run, and
 * write or print the result with hs_survival_write / hs_survival_print.
 *
 * What each analysis uses, as R's na.omit would:
 *   Kaplan-Meier   rows with time, event and group;
 *   log-rank       rows with time, event, group and strata;
 *   Cox + zph + C  rows with time, event, group, strata and every covariate;
 *   maxstat        rows with time, event and the cut column (times as given:
 *                  maxstat does not apply survival's timefix).
 * The event is 0/1 (1 = event) or, as R's Surv(), 1/2 (2 = event) when no 0
 * appears.  Each analysis merges nearly equal times as timefix = TRUE does.
 *
 * The Cox design holds the covariates in the order given (a categorical one
 * dummy-coded against its first level, columns "A=level"), then the group as
 * a factor.  A covariate is categorical when the spec says so or when its
 * table column is a FACTOR (say, a text column read as HS_COL_AUTO).
 *
 * A cut of column X makes the group X itself, with levels "low" (X < cut)
 * and "high" (X >= cut), "low" the reference; rows without X have no group.
 * With HS_CUT_OPTIMAL the cut is chosen from the data: maxstat's estimate e
 * splits X <= e from X > e, so the cut is the smallest observed X above e;
 * the selection's statistic and corrected p-value become the test "maxstat".
 *
 * Threads: the Kaplan-Meier/log-rank analysis runs beside the Cox fit, the
 * parts of cox.zph and of the concordance that do not need the fit are
 * prepared during it, and cox.zph runs beside the concordance; results are
 * put together in a fixed order, so nothing depends on the scheduling.  The
 * library never prints on its own: hs_survival_print writes to the FILE given.
 */
#ifndef HS_SURVIVAL_H
#define HS_SURVIVAL_H

#include <stddef.h>
#include <stdio.h>

#include "cohorts/table.h"
#include "stats/concordance.h"
#include "stats/cox.h"
#include "stats/km.h"
#include "stats/logrank.h"
#include "stats/maxstat.h"
#include "stats/zph.h"
#include "util/hs_error.h"

/* At most this many covariates, and this many levels in a categorical Cox term. */
#define HS_SURVIVAL_MAX_COV 64
#define HS_SURVIVAL_MAX_LEVELS 1000

/* How the group is made from a continuous column. */
typedef enum {
    HS_CUT_NONE = 0,    /* no cut */
    HS_CUT_VALUE = 1,   /* at cut_value: high = column >= cut_value */
    HS_CUT_OPTIMAL = 2  /* at the maximally selected log-rank cutpoint (maxstat, Lau92 p-value) */
} hs_cut_kind;

/* What to analyse: column names of an hs_table, and options.  The strings are the caller's. */
typedef struct hs_survival_spec {
    const char *time;              /* NUMERIC column: follow-up time, finite and >= 0 */
    const char *event;             /* NUMERIC column: 0/1, or 1/2 with 2 = event */
    const char *group;             /* FACTOR column, or NULL: KM per level, log-rank, last Cox term */
    const char *const *covariates; /* ncov Cox covariates, in model order (may be NULL when ncov == 0) */
    size_t ncov;                   /* <= HS_SURVIVAL_MAX_COV */
    const int *factor;             /* ncov flags or NULL: 1 = categorical (must be a FACTOR column),
                                      0 = as the table stores it (NUMERIC: a number; FACTOR: categorical) */
    const char *strata;            /* FACTOR column, or NULL: strata of the log-rank test and the Cox model */
    hs_ties ties;                  /* Cox ties: HS_TIES_EFRON (R's default) or HS_TIES_BRESLOW */
    hs_conf_type conf_type;        /* KM confidence limits (95%) */
    double rho;                    /* G-rho weight S(t-)^rho of the log-rank test, >= 0 */
    double tau;                    /* RMST horizon > 0; NAN: the largest last time among the curves (R's
                                      rmean = "common") */
    const char *cut_column;        /* NUMERIC column to cut into the group (needs group == NULL), or NULL */
    hs_cut_kind cut;               /* HS_CUT_NONE unless cut_column is set */
    double cut_value;              /* HS_CUT_VALUE: the cut (finite) */
} hs_survival_spec;

/* Fills *s with no columns and R's defaults: Efron ties, log limits, rho 0, tau NAN, no cut. */
void hs_survival_spec_default(hs_survival_spec *s);

/* One Kaplan-Meier curve with its summary (survfit, summary(fit, rmean = tau)$table). */
typedef struct hs_survival_curve {
    char *name;                    /* "all", or "GROUP=level" */
    size_t level;                  /* index into the result's level[] (0 without a group) */
    hs_km *km;                     /* the curve: one row per distinct time */
    double median, median_lower, median_upper; /* NAN when not reached */
    double rmst, rmst_se;          /* restricted mean up to the result's tau, and its se */
} hs_survival_curve;

/* A row of tests.csv. */
typedef struct hs_survival_test {
    char *name;       /* likelihood_ratio, wald, score, logrank, maxstat, zph:TERM..., zph:GLOBAL (this order) */
    double statistic; /* NAN when it could not be computed */
    double df;        /* a whole number (-1 for a log-rank test without events); NAN for maxstat, which has none */
    double p;         /* chi-square upper tail as R's pchisq (1 for statistic 0 on 0 df); maxstat: corrected
                         (Lausen-Schumacher); NAN when not computed */
} hs_survival_test;

/* Everything an analysis found.  Every pointer is owned by the result (hs_survival_result_free). */
typedef struct hs_survival_result {
    char *source;                  /* the table's path */
    size_t nrow;                   /* rows of the table */
    hs_conf_type conf_type;        /* the spec's options, for the writers */
    hs_ties ties;
    double rho;
    int stratified;                /* 1 with strata */

    /* The group: the group column, or the cut column; NULL without a group. */
    char *group;
    size_t nlevel;
    char **level;                  /* nlevel names ("low", "high" for a cut) */

    /* The cut (cut == HS_CUT_NONE without one). */
    hs_cut_kind cut;
    double cut_value;              /* high = group column >= cut_value */
    size_t cut_n[2];               /* Kaplan-Meier rows in low and high */
    hs_maxstat *maxstat;           /* HS_CUT_OPTIMAL: the selection (estimate, statistic, corrected p) */

    /* Kaplan-Meier. */
    size_t km_n, km_dropped;       /* rows used, rows dropped for missing values */
    double tau;                    /* the RMST horizon used */
    size_t ncurve;                 /* curves with data, in level order (a level without rows has none) */
    hs_survival_curve *curve;

    /* Log-rank (with a group). */
    int logrank_done;              /* 1: computed; 0: no group, or only one group has data (see next) */
    int logrank_one_group;         /* 1: not computed because only one group level has data (R stops) */
    hs_logrank *logrank;           /* when logrank_done */
    size_t logrank_dropped;

    /* Cox model (with covariates or a group); cox is NULL without one. */
    hs_cox *cox;
    size_t cox_dropped;
    size_t ncoef;                  /* cox->p: columns of the design */
    char **coef_name;              /* "A" or "A=level" */
    hs_cox_coef *coef;             /* hs_cox_summary of the fit */
    hs_concordance concordance;    /* Harrell's C of the linear predictor (reverse, within strata) */

    /* cox.zph: one row per term with an estimable coefficient, and GLOBAL. */
    hs_zph *zph;                   /* NULL when not computed (no estimable coefficient, or zph_note) */
    size_t nzph_term;
    char **zph_term;               /* term names of zph's rows */
    char *zph_note;                /* why cox.zph could not be computed (a singular information matrix), or
                                      NULL; its tests rows are then NA */

    size_t ntest;
    hs_survival_test *test;        /* in tests.csv order */
} hs_survival_result;

/*
 * Runs the analysis that s describes on table t.  On success *out owns a
 * new result (free with hs_survival_result_free) and HS_OK is returned.
 * Numerical trouble inside an analysis is reported in the result, as R
 * reports it (non-convergence, infinite or aliased coefficients, cox.zph
 * not computable, one group only).  Fails with *out NULL and HS_EINVAL (a
 * NULL argument, a bad option, a column named twice in roles that exclude
 * it, too many covariates), HS_EDATA (a column missing from the table or of
 * the wrong kind, a bad time or event value naming TABLE:LINE:COLUMN, an
 * event column mixing 0 and 2, no complete row for an analysis, a factor
 * with too many levels, no cutpoint between the quantiles), HS_ENUMERIC
 * (the log-rank variance matrix is singular) or HS_ENOMEM.
 */
int hs_survival_run(const hs_table *t, const hs_survival_spec *s, hs_survival_result **out,
                    hs_error *err) HS_RESULT_USED;

/* Frees a result; NULL is a no-op. */
void hs_survival_result_free(hs_survival_result *r);

/*
 * Writes dir/km.csv, median.csv, cox.csv and fit.csv (with a Cox model),
 * tests.csv and cut.csv (with a cut: column, method value|optimal, the cut
 * of "high" = column >= cut, maxstat's estimate or NA, and the Kaplan-Meier
 * rows in low and high), every number with %.17g, NA for missing (the
 * formats are in README.md).  dir must exist.  Each file is written to
 * dir/NAME.tmp, flushed to disk and then renamed (util/hs_atomic.h), so that
 * an interrupted run never leaves a file that looks complete.  Fails with
 * HS_EINVAL (NULL argument) or HS_EIO (the message names the file and the
 * system's reason); on a failed write every file of the set is removed (also
 * those an earlier call left), so that no mix of old and new files remains.
 */
int hs_survival_write(const hs_survival_result *r, const char *dir, hs_error *err) HS_RESULT_USED;

/*
 * Prints the human-readable summary of r (as R's print of survfit, survdiff
 * and coxph, with the cut and cox.zph) to f.  Returns HS_OK, or HS_EIO when
 * f reports a write error.
 */
int hs_survival_print(FILE *f, const hs_survival_result *r) HS_RESULT_USED;

#endif /* HS_SURVIVAL_H */
