/*
 * timefix: the time pre-processing that R survival 3.5-3 applies before
 * survfit, survdiff, coxph and concordance (section 0 of survival-r.md).
 *
 * hs_timefix is R's aeqSurv (timefix = TRUE): adjacent distinct finite times
 * that differ by at most sqrt(DBL_EPSILON), absolutely or relative to the mean
 * of |t| over the distinct finite times, are merged into the smaller one;
 * chains of such near-ties collapse onto the first time of the chain, even
 * when the chain as a whole spans more than the tolerance.  Integer times are
 * unaffected unless the mean |t| exceeds about 6.7e7 (1 / sqrt(DBL_EPSILON)).
 *
 * hs_timefix_order gives the stable ordering by (stratum, time) that the
 * survival modules walk their risk sets in; it runs in O(n) (radix sort).
 */
#ifndef HS_TIMEFIX_H
#define HS_TIMEFIX_H

#include <stddef.h>

#include "util/hs_error.h"

/* sqrt(.Machine$double.eps): aeqSurv's tolerance, also used by R's median rule. */
#define HS_TIMEFIX_TOL 1.4901161193847656e-08

/*
 * Applies aeqSurv to time[0..n-1] in place, in O(n) time and memory.
 *   NAN stays NAN.  +INFINITY becomes the largest merged finite time when any
 *   pair of times was merged (as R, whose findInterval maps +Inf onto the last
 *   cut) and stays +INFINITY otherwise.  -INFINITY is left unchanged (R's
 *   result there is malformed).  n == 0 is allowed (nothing to do).
 * Returns HS_OK, HS_EINVAL (time NULL with n > 0) or HS_ENOMEM; on failure
 * time is unchanged.
 */
int hs_timefix(double *time, size_t n, hs_error *err) HS_RESULT_USED;

/*
 * hs_timefix for a vector already sorted ascending (-INFINITY first, then the
 * finite values, then +INFINITY, then NAN), in O(n) time without allocating.
 * The result is still sorted (the map is non-decreasing).  Returns HS_OK, or
 * HS_EINVAL (time NULL with n > 0, or finite values out of order; time is
 * then unchanged).
 */
int hs_timefix_sorted(double *time, size_t n, hs_error *err) HS_RESULT_USED;

/*
 * Fills order[0..n-1] with the permutation that sorts the rows by
 * (strata[i], time[i]) ascending, ties kept in input order (stable, as R's
 * order()).  strata may be NULL (one stratum).  -0.0 and 0.0 are equal; NAN
 * times sort after every other time of their stratum.  order is caller-owned.
 * Returns HS_OK, HS_EINVAL (NULL time or order with n > 0) or HS_ENOMEM.
 */
int hs_timefix_order(const double *time, const int *strata, size_t n, size_t *order,
                     hs_error *err) HS_RESULT_USED;

#endif /* HS_TIMEFIX_H */
