/*
 * maxstat: the maximally selected log-rank statistic that picks a cutpoint of
 * a continuous marker, and its p-value corrected for having tried many
 * cutpoints, as R's
 *     maxstat::maxstat.test(Surv(time, status) ~ x, data, smethod = "LogRank",
 *                            pmethod = "Lau92")      (maxstat 0.7-25)
 * computes them.
 *
 * Each row gets its log-rank score (exactRankTests::cscores: status minus the
 * sum, over the rows up to and including its time's last rank, of
 * status / (n - that row's max-rank + 1)).  For every cut that leaves at
 * least a proportion minprop of the rows (and at least one row) at or below
 * it and at most maxprop, i.e. for each distinct x between the quantiles,
 * the sum S of the scores of the rows with x <= cut is standardised by its
 * permutation mean and variance; the statistic M is the largest |standardised
 * S|, the estimate the smallest cut that reaches it.  Its p-value is the
 * Lausen & Schumacher (1992) approximation to the distribution of the maximum
 * of a standardised Brownian bridge over [minprop, maxprop]:
 *     p = 4 phi(M)/M + phi(M) (M - 1/M) log(maxprop (1 - minprop) / ((1 - maxprop) minprop)),
 * 1 when M < 1, never below 0.  It corrects for the multiple cutpoints; the
 * plain log-rank p-value of the chosen split does not, and is too small.
 *
 * Sums are accumulated in long double, as R's sum() and cumsum() do, so that
 * ties between cutpoints resolve as in R.  Times are used as given (maxstat
 * does not merge near-equal times as survival's timefix does).
 */
#ifndef HS_MAXSTAT_H
#define HS_MAXSTAT_H

#include <stddef.h>

#include "util/hs_error.h"

/* maxstat's defaults: the cutpoints lie between the 10% and the 90% quantile of x. */
#define HS_MAXSTAT_MINPROP 0.1
#define HS_MAXSTAT_MAXPROP 0.9

typedef struct hs_maxstat {
    size_t n;            /* rows used */
    double statistic;    /* M: R's $statistic */
    double estimate;     /* R's $estimate: the low group is x <= estimate */
    double cut_above;    /* the smallest x above estimate: the high group is x >= cut_above */
    double p;            /* R's $p.value (pmethod "Lau92"), corrected for the cutpoints tried */
    double minprop, maxprop;
    size_t ncut;         /* cutpoints examined */
    double *cut;         /* ncut: R's $cuts (each the largest x of its low group), ascending */
    double *stat;        /* ncut: R's $stats, |standardised S| at each cut */
} hs_maxstat;

/*
 * Runs the selection on time[n] (finite, >= 0), status[n] (0/1), x[n]
 * (finite), with 0 <= minprop < maxprop <= 1 (HS_MAXSTAT_MINPROP/MAXPROP
 * for maxstat's defaults; minprop 0 with maxprop 1 examines every cut but
 * the first and last, as R does).  Rows may come in any order.
 * On success *out owns a new result (free with hs_maxstat_free).  Fails with
 * *out NULL and HS_EINVAL (NULL pointer, bad proportions, a non-finite or
 * negative time, status not 0/1, a non-finite x), HS_EDATA (no cutpoint
 * between the quantiles, e.g. fewer than two distinct x there: R stops with
 * "no data between minprop, maxprop", "minprop too large" or "maxprop too
 * small"; or no events, where every score is 0 and R's statistic is NA) or
 * HS_ENOMEM.  O(n log n).
 */
int hs_maxstat_logrank(hs_maxstat **out, const double *time, const int *status, const double *x, size_t n,
                       double minprop, double maxprop, hs_error *err) HS_RESULT_USED;

/* Frees a result; NULL is a no-op. */
void hs_maxstat_free(hs_maxstat *ms);

/*
 * The log-rank scores of exactRankTests::cscores(Surv(time, status)) into
 * score[n] (caller-owned).  Returns HS_OK, HS_EINVAL (NULL pointer, bad time
 * or status) or HS_ENOMEM.
 */
int hs_maxstat_scores(const double *time, const int *status, size_t n, double *score, hs_error *err) HS_RESULT_USED;

/* maxstat:::pLausen92(b, minprop, maxprop): the corrected p-value of a statistic b. */
double hs_maxstat_p_lau92(double b, double minprop, double maxprop);

#endif /* HS_MAXSTAT_H */
