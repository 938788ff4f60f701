/*
 * logrank: survdiff's G-rho tests (see logrank.h).
 *
 * Within each stratum the rows, ordered by time, are walked from the largest
 * time down so that the per-group numbers at risk build up; at every event
 * time the observed, expected and hypergeometric covariance terms are added,
 * weighted by the pooled left-continuous Kaplan-Meier of the stratum raised
 * to rho.  The arithmetic mirrors R's (src/survdiff2.c, R/survdiff.R) term by
 * term.  The quadratic form uses an LU solve, as R's solve(), with R's
 * singularity rule: stop when a pivot is zero or the reciprocal 1-norm
 * condition number is below DBL_EPSILON.
 */
#include "stats/logrank.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_vector.h>

#include "stats/timefix.h"

void hs_logrank_free(hs_logrank *lr)
{
    if (!lr)
        return;
    free(lr->obs);
    free(lr->exp);
    free(lr->var);
    free(lr);
}

static hs_logrank *logrank_alloc(size_t ngroup)
{
    hs_logrank *lr = calloc(1, sizeof *lr);
    if (!lr)
        return NULL;
    lr->ngroup = ngroup;
    lr->obs = calloc(ngroup, sizeof *lr->obs);
    lr->exp = calloc(ngroup, sizeof *lr->exp);
    lr->var = calloc(ngroup * ngroup, sizeof *lr->var);
    if (!lr->obs || !lr->exp || !lr->var) {
        hs_logrank_free(lr);
        return NULL;
    }
    return lr;
}

/*
 * Adds the contributions of the stratum rows r[a..b-1] (sorted by time) to
 * the stratum totals obs/exp and to var.  risk (ngroup) and kaplan (b - a)
 * are scratch.
 */
static void stratum_sums(const double *t, const int *s, const int *g, size_t a, size_t b, size_t ngroup,
                         double rho, double *obs, double *exp, double *var, double *risk, double *kaplan)
{
    for (size_t k = 0; k < ngroup; k++)
        risk[k] = 0;
    if (rho != 0) { /* left-continuous pooled KM: its value just before each time */
        double km = 1;
        for (size_t i = a; i < b;) {
            double nrisk = (double)(b - i), deaths = 0;
            size_t j = i;
            for (; j < b && t[j] == t[i]; j++) {
                kaplan[j - a] = km;
                deaths += s[j];
            }
            km = km * (nrisk - deaths) / nrisk;
            i = j;
        }
    }
    for (size_t end = b; end > a;) { /* block [i, end) of tied times, walked downwards */
        size_t i = end - 1;
        double wt = rho == 0 ? 1.0 : pow(kaplan[i - a], rho);
        double deaths = 0;
        for (;; i--) {
            size_t k = (size_t)g[i];
            deaths += s[i];
            risk[k] += 1;
            obs[k] += s[i] * wt;
            if (i == a || t[i - 1] != t[end - 1])
                break;
        }
        end = i;
        double nrisk = (double)(b - i);
        if (deaths > 0) {
            for (size_t k = 0; k < ngroup; k++)
                exp[k] += wt * deaths * risk[k] / nrisk;
            if (nrisk == 1)
                continue; /* one subject: no variance */
            double wt2 = wt * wt;
            for (size_t j = 0; j < ngroup; j++) {
                double tmp = wt2 * deaths * risk[j] * (nrisk - deaths) / (nrisk * (nrisk - 1));
                var[j * ngroup + j] += tmp;
                for (size_t k = 0; k < ngroup; k++)
                    var[k * ngroup + j] -= tmp * risk[k] / nrisk;
            }
        }
    }
}

/*
 * chisq = d' V^-1 d for the m-vector d and m*m row-major V, as R's
 * sum(solve(V, d) * d).  Returns HS_OK, HS_ENUMERIC (singular) or HS_ENOMEM.
 */
static int quad_form(const double *v, const double *d, size_t m, double *chisq, hs_error *err)
{
    int rc = HS_OK;
    gsl_matrix *lu = gsl_matrix_alloc(m, m), *inv = gsl_matrix_alloc(m, m);
    gsl_permutation *perm = gsl_permutation_alloc(m);
    gsl_vector *x = gsl_vector_alloc(m), *b = gsl_vector_alloc(m);
    if (!lu || !inv || !perm || !x || !b) {
        rc = hs_error_set(err, HS_ENOMEM, "logrank: out of memory for a %zu x %zu matrix", m, m);
        goto done;
    }
    double anorm = 0; /* 1-norm: largest absolute column sum */
    for (size_t c = 0; c < m; c++) {
        double colsum = 0;
        for (size_t r = 0; r < m; r++) {
            gsl_matrix_set(lu, r, c, v[r * m + c]);
            colsum += fabs(v[r * m + c]);
        }
        anorm = colsum > anorm ? colsum : anorm;
        gsl_vector_set(b, c, d[c]);
    }
    int signum;
    if (gsl_linalg_LU_decomp(lu, perm, &signum) != GSL_SUCCESS) {
        rc = hs_error_set(err, HS_ENUMERIC, "logrank: LU decomposition of the variance matrix failed");
        goto done;
    }
    for (size_t i = 0; i < m; i++) {
        if (gsl_matrix_get(lu, i, i) == 0) {
            rc = hs_error_set(err, HS_ENUMERIC, "logrank: the variance matrix is exactly singular");
            goto done;
        }
    }
    if (gsl_linalg_LU_invert(lu, perm, inv) != GSL_SUCCESS) {
        rc = hs_error_set(err, HS_ENUMERIC, "logrank: cannot invert the variance matrix");
        goto done;
    }
    double inorm = 0;
    for (size_t c = 0; c < m; c++) {
        double colsum = 0;
        for (size_t r = 0; r < m; r++)
            colsum += fabs(gsl_matrix_get(inv, r, c));
        inorm = colsum > inorm ? colsum : inorm;
    }
    double rcond = 1.0 / (anorm * inorm);
    if (!(rcond >= DBL_EPSILON)) {
        rc = hs_error_set(err, HS_ENUMERIC,
                          "logrank: the variance matrix is computationally singular (reciprocal condition %g)",
                          rcond);
        goto done;
    }
    if (gsl_linalg_LU_solve(lu, perm, b, x) != GSL_SUCCESS) {
        rc = hs_error_set(err, HS_ENUMERIC, "logrank: solving with the variance matrix failed");
        goto done;
    }
    long double sum = 0.0L;
    for (size_t i = 0; i < m; i++)
        sum += (long double)(gsl_vector_get(x, i) * d[i]);
    *chisq = (double)sum;

done:
    gsl_matrix_free(lu);
    gsl_matrix_free(inv);
    gsl_permutation_free(perm);
    gsl_vector_free(x);
    gsl_vector_free(b);
    return rc;
}

/* The chi-square statistic, df and p from the totals, as survdiff(). */
static int finish_test(hs_logrank *lr, hs_error *err)
{
    const size_t ng = lr->ngroup;
    size_t nkeep = 0;
    for (size_t k = 0; k < ng; k++)
        nkeep += lr->exp[k] > 0;
    lr->df = (int)nkeep - 1;
    lr->chisq = 0;
    if (nkeep >= 2) {
        size_t m = nkeep - 1;
        size_t *keep = malloc(m * sizeof *keep);
        double *v = malloc(m * m * sizeof *v), *d = malloc(m * sizeof *d);
        int rc = HS_OK;
        if (!keep || !v || !d) {
            rc = hs_error_set(err, HS_ENOMEM, "logrank: out of memory");
        } else {
            size_t j = 0, seen = 0;
            for (size_t k = 0; k < ng; k++) {
                if (lr->exp[k] > 0 && seen++ > 0) /* the first group with E > 0 is dropped */
                    keep[j++] = k;
            }
            for (size_t r = 0; r < m; r++) {
                d[r] = lr->obs[keep[r]] - lr->exp[keep[r]];
                for (size_t c = 0; c < m; c++)
                    v[r * m + c] = lr->var[keep[r] * ng + keep[c]];
            }
            rc = quad_form(v, d, m, &lr->chisq, err);
        }
        free(keep);
        free(v);
        free(d);
        if (rc != HS_OK)
            return rc;
    }
    if (lr->df > 0)
        lr->p = gsl_cdf_chisq_Q(lr->chisq, (double)lr->df);
    else
        lr->p = lr->df == 0 ? 1.0 : NAN; /* R: pchisq(0, 0, lower = FALSE) = 1; df -1 gives NaN */
    return HS_OK;
}

int hs_logrank_test(hs_logrank **out, const double *time, const int *status, const int *group, size_t ngroup,
                    const int *strata, size_t n, double rho, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "logrank: NULL output pointer");
    *out = NULL;
    if (n > 0 && (!time || !status || !group))
        return hs_error_set(err, HS_EINVAL, "logrank: NULL time, status or group array");
    if (ngroup == 0 || ngroup > SIZE_MAX / sizeof(double) / ngroup)
        return hs_error_set(err, HS_EINVAL, "logrank: invalid number of groups %zu", ngroup);
    if (!(rho >= 0) || !isfinite(rho))
        return hs_error_set(err, HS_EINVAL, "logrank: rho must be finite and >= 0 (got %g)", rho);
    size_t nused = 0;
    for (size_t i = 0; i < n; i++) {
        if (status[i] != 0 && status[i] != 1)
            return hs_error_set(err, HS_EINVAL, "logrank: status %d in row %zu is not 0 or 1", status[i], i + 1);
        if (group[i] < 0 || (size_t)group[i] >= ngroup)
            return hs_error_set(err, HS_EINVAL, "logrank: group code %d in row %zu is not in 0..%zu", group[i],
                                i + 1, ngroup - 1);
        nused += !isnan(time[i]);
    }

    double *t = malloc((nused ? nused : 1) * sizeof *t);
    double *tsort = malloc((nused ? nused : 1) * sizeof *tsort);
    double *kaplan = malloc((nused ? nused : 1) * sizeof *kaplan);
    int *s = malloc((nused ? nused : 1) * sizeof *s), *g = malloc((nused ? nused : 1) * sizeof *g);
    int *st = malloc((nused ? nused : 1) * sizeof *st), *itmp = malloc((nused ? nused : 1) * sizeof *itmp);
    size_t *ord = malloc((nused ? nused : 1) * sizeof *ord);
    double *risk = malloc(ngroup * sizeof *risk), *sobs = malloc(ngroup * sizeof *sobs);
    double *sexp = malloc(ngroup * sizeof *sexp);
    long double *tobs = calloc(ngroup, sizeof *tobs), *texp = calloc(ngroup, sizeof *texp);
    hs_logrank *lr = logrank_alloc(ngroup);
    int rc = HS_OK;
    if (!t || !tsort || !kaplan || !s || !g || !st || !itmp || !ord || !risk || !sobs || !sexp || !tobs || !texp || !lr) {
        rc = hs_error_set(err, HS_ENOMEM, "logrank: out of memory for %zu observations", nused);
        goto done;
    }
    size_t ngroup_seen = 0; /* R's survdiff.fit stops when fewer than 2 groups occur */
    for (size_t k = 0; k < ngroup; k++)
        risk[k] = 0; /* here a "seen" mark per group */
    for (size_t i = 0, j = 0; i < n; i++) {
        if (isnan(time[i]))
            continue;
        t[j] = time[i];
        s[j] = status[i];
        g[j] = group[i];
        st[j] = strata ? strata[i] : 0;
        if (risk[g[j]] == 0) {
            risk[g[j]] = 1;
            ngroup_seen++;
        }
        j++;
    }
    if (ngroup_seen < 2) {
        rc = hs_error_set(err, HS_EDATA, "logrank: there is only 1 group");
        goto done;
    }
    if ((rc = hs_timefix(t, nused, err)) != HS_OK || (rc = hs_timefix_order(t, st, nused, ord, err)) != HS_OK)
        goto done;

    /* permute into (stratum, time) order */
    for (size_t i = 0; i < nused; i++)
        tsort[i] = t[ord[i]];
    int *cols[] = {s, g, st};
    for (size_t c = 0; c < 3; c++) {
        for (size_t i = 0; i < nused; i++)
            itmp[i] = cols[c][ord[i]];
        for (size_t i = 0; i < nused; i++)
            cols[c][i] = itmp[i];
    }

    for (size_t a = 0; a < nused;) {
        size_t b = a + 1;
        while (b < nused && st[b] == st[a])
            b++;
        for (size_t k = 0; k < ngroup; k++)
            sobs[k] = sexp[k] = 0;
        stratum_sums(tsort, s, g, a, b, ngroup, rho, sobs, sexp, lr->var, risk, kaplan);
        for (size_t k = 0; k < ngroup; k++) { /* R: apply(observed, 1, sum) over strata */
            tobs[k] += sobs[k];
            texp[k] += sexp[k];
        }
        a = b;
    }
    for (size_t k = 0; k < ngroup; k++) {
        lr->obs[k] = (double)tobs[k];
        lr->exp[k] = (double)texp[k];
    }
    rc = finish_test(lr, err);

done:
    free(t);
    free(tsort);
    free(kaplan);
    free(s);
    free(g);
    free(st);
    free(itmp);
    free(ord);
    free(risk);
    free(sobs);
    free(sexp);
    free(tobs);
    free(texp);
    if (rc != HS_OK) {
        hs_logrank_free(lr);
        return rc;
    }
    *out = lr;
    return HS_OK;
}
