/*
 * km: Kaplan-Meier curves, their confidence bands, medians and restricted
 * means, reproducing R survival 3.5-3 (survfitKM, survfit_confint, survmean);
 * see km.h.  Arithmetic follows R's order of operations so that results agree
 * to the last few bits, and sums that R accumulates in long double (sum,
 * cumsum, mean) are accumulated in long double here too.
 */
#include "stats/km.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "stats/timefix.h"

/* R's pmin(x, y) / pmax(x, y) for a scalar: NA/NaN propagates (C's fmin/fmax would drop it). */
static double r_pmin(double x, double y)
{
    return isnan(x) ? x : (x < y ? x : y);
}

static double r_pmax(double x, double y)
{
    return isnan(x) ? x : (x > y ? x : y);
}

void hs_km_free(hs_km *km)
{
    if (!km)
        return;
    free(km->time);
    free(km->n_risk);
    free(km->n_event);
    free(km->n_censor);
    free(km->surv);
    free(km->std_err);
    free(km->lower);
    free(km->upper);
    free(km);
}

static hs_km *km_alloc(size_t ntime)
{
    hs_km *km = calloc(1, sizeof *km);
    if (!km)
        return NULL;
    km->ntime = ntime;
    double **arr[] = {&km->time, &km->n_risk, &km->n_event, &km->n_censor,
                      &km->surv, &km->std_err, &km->lower, &km->upper};
    for (size_t k = 0; k < sizeof arr / sizeof arr[0]; k++) {
        *arr[k] = malloc((ntime ? ntime : 1) * sizeof(double));
        if (!*arr[k]) {
            hs_km_free(km);
            return NULL;
        }
    }
    return km;
}

/* survfit_confint for one row (selow = se, the "usual" lower limit). */
static void conf_limits(hs_conf_type type, double z, double p, double se, double *lo, double *hi)
{
    const double scale = se == 0 ? 1.0 : se / se; /* NaN when se = Inf, as R */
    switch (type) {
    case HS_CONF_PLAIN: {
        double se2 = se * p * z;
        *lo = r_pmax(p - se2 * scale, 0.0);
        *hi = r_pmin(p + se2, 1.0);
        break;
    }
    case HS_CONF_LOG: {
        if (p == 0) {
            *lo = *hi = NAN;
            break;
        }
        double se2 = z * se, lp = log(p);
        *lo = exp(lp - se2 * scale);
        *hi = r_pmin(exp(lp + se2), 1.0);
        break;
    }
    case HS_CONF_LOGLOG:
    default: {
        if (p == 0 || p == 1) {
            *lo = *hi = NAN;
            break;
        }
        double lp = log(p), se2 = z * se / lp, llp = log(-lp);
        *lo = exp(-exp(llp - se2 * scale));
        *hi = exp(-exp(llp + se2));
        break;
    }
    }
}

int hs_km_fit(hs_km **out, const double *time, const int *status, size_t n, hs_conf_type type,
              double conf_level, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "km: NULL output pointer");
    *out = NULL;
    if (n > 0 && (!time || !status))
        return hs_error_set(err, HS_EINVAL, "km: NULL time or status array");
    if (type != HS_CONF_LOG && type != HS_CONF_LOGLOG && type != HS_CONF_PLAIN)
        return hs_error_set(err, HS_EINVAL, "km: unknown confidence interval type %d", (int)type);
    if (!(conf_level > 0 && conf_level < 1))
        return hs_error_set(err, HS_EINVAL, "km: confidence level %g is not in (0, 1)", conf_level);
    size_t nused = 0;
    for (size_t i = 0; i < n; i++) {
        if (status[i] != 0 && status[i] != 1)
            return hs_error_set(err, HS_EINVAL, "km: status %d in row %zu is not 0 or 1", status[i], i + 1);
        if (!isnan(time[i]))
            nused++;
    }
    if (nused == 0)
        return hs_error_set(err, HS_EDATA, "km: no observations with a time");

    /* sort first, then merge near-ties on the sorted copy: one sort instead of two */
    double *t = malloc(nused * sizeof *t);
    int *s = malloc(nused * sizeof *s);
    size_t *ord = malloc(n * sizeof *ord);
    hs_km *km = NULL;
    int rc = HS_OK;
    if (!t || !s || !ord) {
        rc = hs_error_set(err, HS_ENOMEM, "km: out of memory for %zu observations", nused);
        goto done;
    }
    if ((rc = hs_timefix_order(time, NULL, n, ord, err)) != HS_OK)
        goto done;
    for (size_t i = 0; i < nused; i++) { /* NAN rows sort last: the first nused are the used ones */
        t[i] = time[ord[i]];
        s[i] = status[ord[i]];
    }
    if ((rc = hs_timefix_sorted(t, nused, err)) != HS_OK)
        goto done;

    size_t ntime = 1;
    for (size_t i = 1; i < nused; i++)
        ntime += t[i] != t[i - 1];
    if (!(km = km_alloc(ntime))) {
        rc = hs_error_set(err, HS_ENOMEM, "km: out of memory for %zu rows", ntime);
        goto done;
    }
    km->n = nused;
    km->conf_type = type;
    km->conf_level = conf_level;

    const double z = gsl_cdf_ugaussian_Pinv(1 - (1 - conf_level) / 2);
    double surv = 1.0, green = 0.0, events = 0.0;
    size_t row = 0;
    for (size_t i = 0; i < nused;) {
        const double ti = t[i];
        double d = 0, c = 0;
        size_t j = i;
        for (; j < nused && t[j] == ti; j++) {
            if (s[j])
                d += 1;
            else
                c += 1;
        }
        const double nrisk = (double)(nused - i);
        if (d > 0) {
            surv *= (nrisk - d) / nrisk;
            green += d / (nrisk * (nrisk - d));
        }
        events += d;
        km->time[row] = ti;
        km->n_risk[row] = nrisk;
        km->n_event[row] = d;
        km->n_censor[row] = c;
        km->surv[row] = surv;
        km->std_err[row] = sqrt(green);
        if (row == 0 || d > 0) {
            conf_limits(type, z, surv, km->std_err[row], &km->lower[row], &km->upper[row]);
        } else { /* a censoring-only row repeats S and se, hence the limits */
            km->lower[row] = km->lower[row - 1];
            km->upper[row] = km->upper[row - 1];
        }
        row++;
        i = j;
    }
    km->events = events;

done:
    free(t);
    free(s);
    free(ord);
    if (rc != HS_OK) {
        hs_km_free(km);
        return rc;
    }
    *out = km;
    return HS_OK;
}

/* survmean's minmin(y, x): the time at which curve y first drops below one half. */
static double minmin(const double *y, const double *x, size_t n)
{
    const double tol = HS_TIMEFIX_TOL;
    size_t first = n;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0.5 + tol) { /* false for NAN, as !is.na(y) & ... */
            first = i;
            break;
        }
    }
    if (first == n)
        return NAN;
    if (fabs(y[first] - 0.5) < tol) {
        for (size_t i = first + 1; i < n; i++)
            if (y[i] < y[first])
                return (x[first] + x[i]) / 2;
    }
    return x[first];
}

int hs_km_median(const hs_km *km, double *median, double *lower, double *upper, hs_error *err)
{
    if (!km || !median || !lower || !upper)
        return hs_error_set(err, HS_EINVAL, "km: NULL argument to hs_km_median");
    *median = minmin(km->surv, km->time, km->ntime);
    *lower = minmin(km->lower, km->time, km->ntime);
    *upper = minmin(km->upper, km->time, km->ntime);
    return HS_OK;
}

int hs_km_rmst(const hs_km *km, double tau, double *rmst, double *se, hs_error *err)
{
    if (!km || !rmst || !se)
        return hs_error_set(err, HS_EINVAL, "km: NULL argument to hs_km_rmst");
    if (isnan(tau))
        return hs_error_set(err, HS_EINVAL, "km: restricted mean horizon is NAN");
    const size_t m = km->ntime;
    const double start = (m > 0 && km->time[0] < 0) ? km->time[0] : 0.0; /* min(0, time) */
    size_t k = 0; /* rows with time <= tau: a prefix, times ascending */
    while (k < m && km->time[k] <= tau)
        k++;

    /*
     * Points t_0 = start < t_1..t_k (the kept times) < t_{k+1} = tau, with
     * rectangle j = (t_j - t_{j-1}) * S(t_{j-1}), S(start) = 1.  The variance
     * walks back from tau: A_j = sum of rectangles after t_j (R's cumsum of
     * the reversed rectangles), term A_j^2 * h_j for j = k..1.
     */
    long double area = 0.0L;
    for (size_t j = 1; j <= k + 1; j++) {
        double tj = j <= k ? km->time[j - 1] : tau;
        double tprev = j == 1 ? start : km->time[j - 2];
        double sprev = j == 1 ? 1.0 : km->surv[j - 2];
        area += (long double)((tj - tprev) * sprev);
    }
    long double cum = 0.0L, var = 0.0L;
    for (size_t j = k; j >= 1; j--) {
        /* rectangle j+1 spans t_j .. t_{j+1} at height S(t_j) */
        double tnext = j < k ? km->time[j] : tau;
        cum += (long double)((tnext - km->time[j - 1]) * km->surv[j - 1]);
        double a = (double)cum;
        double nr = km->n_risk[j - 1], ne = km->n_event[j - 1];
        double h = (nr - ne) == 0 ? 0.0 : ne / (nr * (nr - ne));
        var += (long double)(a * a * h);
    }
    *rmst = (double)area + start;
    *se = sqrt((double)var);
    return HS_OK;
}
