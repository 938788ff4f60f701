/*
 * timefix: R's aeqSurv and the (stratum, time) ordering shared by the
 * survival modules (see timefix.h).
 *
 * The ordering is the stable radix sort of stats/survorder.h on
 * order-preserving integer images of the times, then of the strata.
 */
#include "stats/timefix.h"

#include "stats/survorder.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int hs_timefix_order(const double *time, const int *strata, size_t n, size_t *order, hs_error *err)
{
    if (n == 0)
        return HS_OK;
    if (!time || !order)
        return hs_error_set(err, HS_EINVAL, "timefix: NULL time or order array");
    uint64_t *key = malloc(n * sizeof *key);
    if (!key)
        return hs_error_set(err, HS_ENOMEM, "timefix: out of memory ordering %zu rows", n);
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        key[i] = isnan(time[i]) ? UINT64_MAX : hs_survorder_key(time[i]); /* NAN last */
    }
    int rc = hs_survorder_stable(order, n, key, err);
    if (rc == HS_OK && strata) { /* then stably by stratum: (stratum, time) order */
        for (size_t i = 0; i < n; i++)
            key[i] = (uint64_t)((uint32_t)strata[i] ^ UINT32_C(0x80000000));
        rc = hs_survorder_stable(order, n, key, err);
    }
    free(key);
    return rc;
}

/*
 * R's mean() of |y| over the distinct values of the sorted finite y[0..m-1]:
 * a long double sum divided by the count, then one correction pass.
 */
static double mean_abs_unique(const double *y, size_t m)
{
    long double s = 0.0L;
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (i > 0 && y[i] == y[i - 1])
            continue;
        s += fabs(y[i]);
        k++;
    }
    s /= (long double)k;
    if (isfinite((double)s)) {
        long double t = 0.0L;
        for (size_t i = 0; i < m; i++) {
            if (i > 0 && y[i] == y[i - 1])
                continue;
            t += (long double)fabs(y[i]) - s;
        }
        s += t / (long double)k;
    }
    return (double)s;
}

/* aeqSurv's rule for two adjacent distinct values prev < y. */
static int near_tied(double prev, double y, double mean)
{
    double dy = y - prev;
    return dy <= HS_TIMEFIX_TOL || dy / mean <= HS_TIMEFIX_TOL;
}

int hs_timefix_sorted(double *time, size_t n, hs_error *err)
{
    if (n == 0)
        return HS_OK;
    if (!time)
        return hs_error_set(err, HS_EINVAL, "timefix: NULL time array");
    /* layout: -Inf..., finite [a, b), +Inf..., NAN... */
    size_t a = 0, b = n;
    while (a < n && time[a] == -INFINITY)
        a++;
    while (b > a && !isfinite(time[b - 1]))
        b--;
    for (size_t i = a + 1; i < n; i++) {
        int ok = i < b ? time[i - 1] <= time[i] : (isnan(time[i]) || time[i - 1] <= time[i]);
        if (!ok)
            return hs_error_set(err, HS_EINVAL, "timefix: times are not sorted (position %zu)", i + 1);
    }
    if (b - a < 2)
        return HS_OK;
    const double mean = mean_abs_unique(time + a, b - a);
    int any_tied = 0;
    for (size_t i = a + 1; i < b && !any_tied; i++)
        any_tied = time[i] != time[i - 1] && near_tied(time[i - 1], time[i], mean);
    if (!any_tied) /* R returns its input untouched, +Inf included */
        return HS_OK;

    /* map every value onto the start of its chain of near-ties (R's cut) */
    double prev = time[a], cut = prev;
    for (size_t i = a + 1; i < b; i++) {
        double y = time[i];
        if (y != prev) {
            if (!near_tied(prev, y, mean))
                cut = y;
            prev = y;
        }
        time[i] = cut;
    }
    for (size_t i = b; i < n && time[i] == INFINITY; i++)
        time[i] = cut; /* findInterval(Inf, cuts) is the last cut */
    return HS_OK;
}

/*
 * True when aeqSurv would merge nothing: every time is a whole number of
 * magnitude below 1/tolerance.  Distinct values then differ by at least 1,
 * which exceeds both the absolute tolerance and the relative one (tolerance
 * times mean |t| < 1).  Integer day counts, the common case, skip the sort.
 */
static int integer_times(const double *time, size_t n)
{
    const double limit = 1.0 / HS_TIMEFIX_TOL;
    for (size_t i = 0; i < n; i++) {
        double t = time[i];
        if (!(fabs(t) < limit) || t != (double)(long long)t)
            return 0;
    }
    return 1;
}

int hs_timefix(double *time, size_t n, hs_error *err)
{
    if (n == 0)
        return HS_OK;
    if (!time)
        return hs_error_set(err, HS_EINVAL, "timefix: NULL time array");
    if (integer_times(time, n))
        return HS_OK;
    size_t *order = malloc(n * sizeof *order);
    double *sorted = malloc(n * sizeof *sorted);
    if (!order || !sorted) {
        free(order);
        free(sorted);
        return hs_error_set(err, HS_ENOMEM, "timefix: out of memory for %zu times", n);
    }
    int rc = hs_timefix_order(time, NULL, n, order, err);
    if (rc == HS_OK) {
        for (size_t i = 0; i < n; i++)
            sorted[i] = time[order[i]];
        rc = hs_timefix_sorted(sorted, n, err);
    }
    if (rc == HS_OK)
        for (size_t i = 0; i < n; i++)
            time[order[i]] = sorted[i];
    free(order);
    free(sorted);
    return rc;
}
