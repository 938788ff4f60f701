/*
 * maxstat: maximally selected log-rank statistic and the Lausen-Schumacher
 * (1992) p-value (see maxstat.h).
 *
 * Two sorts: by time for the scores, by x for the cuts.  A cut after the
 * first m rows in x order (m counted up to the end of a run of equal x)
 * has S = the first m scores' sum, whose permutation mean and variance are
 *     E = m/N * sum(y),  V = m (N - m) / (N^2 (N - 1)) * (N sum(y^2) - sum(y)^2),
 * and the standardised statistic is |S - E| / sqrt(V).  Every expression is
 * evaluated in the order maxstat's R code evaluates it.
 */
#include "stats/maxstat.h"

#include <math.h>
#include <stdlib.h>

#include "stats/survorder.h"

void hs_maxstat_free(hs_maxstat *ms)
{
    if (!ms)
        return;
    free(ms->cut);
    free(ms->stat);
    free(ms);
}

static int check_rows(const double *time, const int *status, size_t n, hs_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(time[i]) || time[i] < 0)
            return hs_error_set(err, HS_EINVAL, "maxstat: row %zu: time must be finite and >= 0, not %g", i + 1,
                                time[i]);
        if (status[i] != 0 && status[i] != 1)
            return hs_error_set(err, HS_EINVAL, "maxstat: row %zu: status must be 0 or 1, not %d", i + 1, status[i]);
    }
    return HS_OK;
}

int hs_maxstat_scores(const double *time, const int *status, size_t n, double *score, hs_error *err)
{
    if (n && (!time || !status || !score))
        return hs_error_set(err, HS_EINVAL, "hs_maxstat_scores: NULL argument");
    int rc = check_rows(time, status, n, err);
    if (rc != HS_OK || n == 0)
        return rc;
    size_t *ord = malloc(n * sizeof *ord);
    if (!ord)
        return hs_error_set(err, HS_ENOMEM, "maxstat: out of memory");
    if ((rc = hs_survorder_rank(time, n, ord, NULL, NULL, err)) != HS_OK) {
        free(ord);
        return rc;
    }
    /*
     * Rows tied in time share their largest rank r (exactRankTests::irank), hence the divisor
     * N - r + 1, and the cumulative sum up to rank r.  R's cumsum accumulates in long double.
     */
    long double acc = 0;
    for (size_t k = 0; k < n;) {
        size_t e = k + 1;
        while (e < n && time[ord[e]] == time[ord[k]])
            e++;
        double last = 0;
        for (size_t i = k; i < e; i++) {
            acc += (double)status[ord[i]] / (double)(n - e + 1);
            last = (double)acc;
        }
        for (size_t i = k; i < e; i++)
            score[ord[i]] = (double)status[ord[i]] - last;
        k = e;
    }
    free(ord);
    return HS_OK;
}

/* R's dnorm(x) for the standard normal: below 5 directly, above with x split so exp loses no accuracy. */
static double dnorm_std(double x)
{
    static const double inv_sqrt_2pi = 0.398942280401432677939946059934;
    x = fabs(x);
    if (x < 5)
        return inv_sqrt_2pi * exp(-0.5 * x * x);
    if (x > 40)
        return 0; /* far below the smallest double */
    double x1 = ldexp(nearbyint(ldexp(x, 16)), -16), x2 = x - x1;
    return inv_sqrt_2pi * (exp(-0.5 * x1 * x1) * exp((-0.5 * x2 - x1) * x2));
}

double hs_maxstat_p_lau92(double b, double minprop, double maxprop)
{
    if (b < 1)
        return 1;
    double db = dnorm_std(b);
    double p = 4 * db / b + db * (b - 1 / b) * log((maxprop * (1 - minprop)) / ((1 - maxprop) * minprop));
    return p > 0 ? p : 0;
}

int hs_maxstat_logrank(hs_maxstat **out, const double *time, const int *status, const double *x, size_t n,
                       double minprop, double maxprop, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "hs_maxstat_logrank: NULL argument");
    *out = NULL;
    if (n && (!time || !status || !x))
        return hs_error_set(err, HS_EINVAL, "hs_maxstat_logrank: NULL argument");
    if (!(minprop >= 0 && minprop < maxprop && maxprop <= 1))
        return hs_error_set(err, HS_EINVAL, "maxstat: need 0 <= minprop < maxprop <= 1, not %g and %g", minprop,
                            maxprop);
    int rc = check_rows(time, status, n, err);
    if (rc != HS_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return hs_error_set(err, HS_EINVAL, "maxstat: row %zu: the marker must be finite, not %g", i + 1, x[i]);
    size_t nevent = 0;
    for (size_t i = 0; i < n; i++)
        nevent += (size_t)status[i];
    if (nevent == 0)
        return hs_error_set(err, HS_EDATA, "maxstat: no events: every log-rank score is 0, no cutpoint stands out");

    double *score = malloc((n ? n : 1) * sizeof *score), *ys = malloc((n ? n : 1) * sizeof *ys);
    double *xs = malloc((n ? n : 1) * sizeof *xs), *cs = malloc((n ? n : 1) * sizeof *cs);
    size_t *ord = malloc((n ? n : 1) * sizeof *ord), *m = malloc((n ? n : 1) * sizeof *m);
    hs_maxstat *ms = calloc(1, sizeof *ms);
    if (!score || !ys || !xs || !cs || !ord || !m || !ms) {
        rc = hs_error_set(err, HS_ENOMEM, "maxstat: out of memory");
        goto done;
    }
    if ((rc = hs_maxstat_scores(time, status, n, score, err)) != HS_OK ||
        (rc = hs_survorder_rank(x, n, ord, NULL, NULL, err)) != HS_OK)
        goto done;

    /* Scores in x order (stable, as R's order), their sums in long double as R's sum and cumsum. */
    long double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        xs[i] = x[ord[i]];
        ys[i] = score[ord[i]];
        s += ys[i];
        cs[i] = (double)s;
    }
    for (size_t i = 0; i < n; i++)
        s2 += ys[i] * ys[i];
    const double ss = (double)s, ssq = (double)s2, N = (double)n;

    /* Candidate cuts: m = the number of rows before each distinct x (0 for the first). */
    size_t nm = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || xs[i] != xs[i - 1])
            m[nm++] = i;
    size_t first = 0, last = nm; /* the kept ones: m[first..last) */
    if (minprop == 0 && maxprop == 1) {
        first = 1;
        last = nm ? nm - 1 : 0;
    } else {
        double lo = floor(N * minprop), hi = floor(N * maxprop);
        if ((double)m[nm - 1] < lo) {
            rc = hs_error_set(err, HS_EDATA, "maxstat: no cutpoint leaves %g%% of the rows below it (R: minprop "
                              "too large)", 100 * minprop);
            goto done;
        }
        if ((double)m[0] > hi) {
            rc = hs_error_set(err, HS_EDATA, "maxstat: no cutpoint leaves at most %g%% of the rows below it (R: "
                              "maxprop too small)", 100 * maxprop);
            goto done;
        }
        double lo1 = lo > 1 ? lo : 1;
        size_t k = 0;
        for (size_t i = 0; i < nm; i++)
            if ((double)m[i] >= lo1 && (double)m[i] <= hi)
                m[k++] = m[i];
        last = k;
    }
    if (last <= first) {
        rc = hs_error_set(err, HS_EDATA,
                          "maxstat: no cutpoint between the %g%% and %g%% quantiles of the marker (too few distinct "
                          "values)", 100 * minprop, 100 * maxprop);
        goto done;
    }
    ms->ncut = last - first;
    if (!(ms->cut = malloc(ms->ncut * sizeof *ms->cut)) || !(ms->stat = malloc(ms->ncut * sizeof *ms->stat))) {
        rc = hs_error_set(err, HS_ENOMEM, "maxstat: out of memory");
        goto done;
    }
    size_t best = 0;
    for (size_t k = 0; k < ms->ncut; k++) {
        double mk = (double)m[first + k];
        double e = mk / N * ss;
        double v = mk * (N - mk) / (N * N * (N - 1)) * (N * ssq - ss * ss);
        double t = fabs((cs[m[first + k] - 1] - e) / sqrt(v));
        if (isnan(t)) {
            rc = hs_error_set(err, HS_EDATA, "maxstat: the log-rank scores do not vary: no cutpoint stands out");
            goto done;
        }
        ms->cut[k] = xs[m[first + k] - 1];
        ms->stat[k] = t;
        if (t > ms->stat[best])
            best = k;
    }
    ms->n = n;
    ms->minprop = minprop;
    ms->maxprop = maxprop;
    ms->statistic = ms->stat[best];
    ms->estimate = ms->cut[best];
    ms->cut_above = xs[m[first + best]];
    ms->p = hs_maxstat_p_lau92(ms->statistic, minprop, maxprop);
    *out = ms;
    ms = NULL;
done:
    hs_maxstat_free(ms);
    free(score);
    free(ys);
    free(xs);
    free(cs);
    free(ord);
    free(m);
    return rc;
}
