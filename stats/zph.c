/*
 * zph: cox.zph's score test of proportional hazards (see zph.h).
 *
 * Follows R survival 3.5-3 (R/cox.zph.R, src/zph1.c) step by step so that
 * the numbers agree to rounding: times merged by timefix; g(t) = 1 - KM(t-)
 * of the pooled rows, centred by R's mean() over the events; the risk score
 * eta = X beta - sum(beta * means) as coxph.fit forms it (means are 0 for
 * columns whose values are all in {-1, 0, 1}); the used columns of X centred
 * on their plain means, as zph1 does.  One backward pass over the rows sorted
 * by (stratum, time) accumulates the extra half of the score vector and the
 * three blocks of the information (sum of d V, g d V and g^2 d V, where V is
 * the risk-set covariance of X, Efron- or Breslow-weighted).  The quadratic
 * forms are solved by Cholesky factorisation (the matrices are symmetric
 * positive semi-definite), failing where R's solve() would.
 */
#include "stats/zph.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "stats/survorder.h"
#include "stats/timefix.h"

void hs_zph_free(hs_zph *z)
{
    if (!z)
        return;
    free(z->chisq);
    free(z->df);
    free(z->p);
    free(z);
}

static hs_zph *zph_alloc(size_t nterm)
{
    hs_zph *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->nterm = nterm;
    z->chisq = malloc(nterm * sizeof *z->chisq);
    z->df = malloc(nterm * sizeof *z->df);
    z->p = malloc(nterm * sizeof *z->p);
    if (!z->chisq || !z->df || !z->p) {
        hs_zph_free(z);
        return NULL;
    }
    return z;
}

/* A row in (stratum, time) order: risk score exp(eta), centred g(t), merged-time rank, status, stratum. */
typedef struct zrow {
    double risk, g;
    size_t tr, sid;
    int status;
} zrow;

/* The accumulated score half and information blocks, each q x q, lower triangles used. */
typedef struct zacc {
    size_t q;
    double *u2;            /* q: sum over events of g (x - xbar) */
    double *i11, *i12, *i22; /* q*q: sum of d V, g d V, g^2 d V */
} zacc;

/*
 * The backward pass over rows[0..n) (sorted by stratum then time, x row-major
 * in the same order).  efron selects the tie method.
 */
static void zph_pass(const zrow *rows, const double *xs, size_t n, size_t q, int efron, double *scratch,
                     zacc *acc)
{
    double *a = scratch, *a2 = a + q, *cmat = a2 + q, *cmat2 = cmat + q * q;
    double denom = 0.0;
    size_t cur = SIZE_MAX;
    memset(a2, 0, q * sizeof *a2);
    memset(cmat2, 0, q * q * sizeof *cmat2);
    size_t ip = n;
    while (ip > 0) {
        const zrow *first = &rows[ip - 1];
        if (first->sid != cur) { /* a new stratum: empty risk set */
            cur = first->sid;
            denom = 0.0;
            memset(a, 0, q * sizeof *a);
            memset(cmat, 0, q * q * sizeof *cmat);
        }
        const size_t tr = first->tr;
        const double tw = first->g;
        double ndead = 0.0, denom2 = 0.0;
        for (; ip > 0; ip--) {
            const zrow *r = &rows[ip - 1];
            if (r->tr != tr || r->sid != cur)
                break;
            const double *x = xs + (ip - 1) * q;
            const double risk = r->risk;
            if (r->status == 0) {
                denom += risk;
                for (size_t i = 0; i < q; i++) {
                    a[i] += risk * x[i];
                    for (size_t j = 0; j <= i; j++)
                        cmat[i * q + j] += risk * x[i] * x[j];
                }
            } else {
                ndead += 1.0;
                denom2 += risk;
                for (size_t i = 0; i < q; i++) {
                    acc->u2[i] += tw * 1.0 * x[i];
                    a2[i] += risk * x[i];
                    for (size_t j = 0; j <= i; j++)
                        cmat2[i * q + j] += risk * x[i] * x[j];
                }
            }
        }
        if (ndead == 0.0)
            continue;
        const double deadwt = ndead; /* unit case weights */
        if (!efron) {
            denom += denom2;
            for (size_t i = 0; i < q; i++) {
                a[i] += a2[i];
                const double mean = a[i] / denom;
                acc->u2[i] -= tw * deadwt * mean;
                for (size_t j = 0; j <= i; j++) {
                    cmat[i * q + j] += cmat2[i * q + j];
                    const double v = deadwt * (cmat[i * q + j] - mean * a[j]) / denom;
                    acc->i11[i * q + j] += v;
                    acc->i12[i * q + j] += v * tw;
                    acc->i22[i * q + j] += v * tw * tw;
                }
            }
        } else {
            /* the d terms of Efron's approximation: k/d of the tied events' sums added in turn */
            const double wtave = deadwt / ndead;
            for (double k = 0.0; k < ndead; k += 1.0) {
                denom += denom2 / ndead;
                for (size_t i = 0; i < q; i++) {
                    a[i] += a2[i] / ndead;
                    const double mean = a[i] / denom;
                    acc->u2[i] -= tw * wtave * mean;
                    for (size_t j = 0; j <= i; j++) {
                        cmat[i * q + j] += cmat2[i * q + j] / ndead;
                        const double v = wtave * (cmat[i * q + j] - mean * a[j]) / denom;
                        acc->i11[i * q + j] += v;
                        acc->i12[i * q + j] += tw * v;
                        acc->i22[i * q + j] += tw * tw * v;
                    }
                }
            }
        }
        memset(a2, 0, q * sizeof *a2);
        memset(cmat2, 0, q * q * sizeof *cmat2);
    }
}

/* R's mean(): a long double sum divided by the count, then one refining pass. */
static double r_mean(const double *v, const int *use, size_t n)
{
    long double s = 0.0L;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (use[i]) {
            s += v[i];
            m++;
        }
    s /= (long double)m;
    if (isfinite((double)s)) {
        long double t = 0.0L;
        for (size_t i = 0; i < n; i++)
            if (use[i])
                t += v[i] - s;
        s += t / (long double)m;
    }
    return (double)s;
}

/*
 * u'M^-1 u for the symmetric positive semi-definite m x m matrix M (taken
 * from its lower triangle) by Cholesky; fails with HS_ENUMERIC when M is not
 * positive definite or its reciprocal condition number is below DBL_EPSILON
 * (R's solve() limit).
 */
static int quad_form(gsl_matrix *M, gsl_vector *u, gsl_vector *sol, gsl_vector *work, double *res, hs_error *err)
{
    int st = gsl_linalg_cholesky_decomp1(M);
    if (st != GSL_SUCCESS)
        return hs_error_set(err, HS_ENUMERIC, "zph: information matrix is singular (%s)", gsl_strerror(st));
    double rcond = 0.0;
    st = gsl_linalg_cholesky_rcond(M, &rcond, work);
    if (st != GSL_SUCCESS)
        return hs_error_set(err, HS_ENUMERIC, "zph: condition estimate failed (%s)", gsl_strerror(st));
    if (!(rcond >= DBL_EPSILON))
        return hs_error_set(err, HS_ENUMERIC, "zph: information matrix is computationally singular (rcond %g)",
                            rcond);
    st = gsl_linalg_cholesky_solve(M, u, sol);
    if (st != GSL_SUCCESS)
        return hs_error_set(err, HS_ENUMERIC, "zph: solve failed (%s)", gsl_strerror(st));
    double s = 0.0;
    for (size_t i = 0; i < u->size; i++)
        s += gsl_vector_get(sol, i) * gsl_vector_get(u, i);
    *res = s;
    return HS_OK;
}

/*
 * The chi-square on the score rows {0..q-1} and the extra rows q + cols[0..k)
 * of the full 2q x 2q information (lower triangle of blocks in acc).
 */
static int term_chisq(const zacc *acc, const size_t *cols, size_t k, double *res, hs_error *err)
{
    const size_t q = acc->q, m = q + k;
    gsl_matrix *M = gsl_matrix_alloc(m, m);
    gsl_vector *u = gsl_vector_alloc(m), *sol = gsl_vector_alloc(m), *work = gsl_vector_alloc(3 * m);
    int rc;
    if (!M || !u || !sol || !work) {
        rc = hs_error_set(err, HS_ENOMEM, "zph: cannot allocate a %zu x %zu matrix", m, m);
        goto done;
    }
    /* index r < q is score column r; index q + c is the extra column of X column cols[c] */
    for (size_t r = 0; r < m; r++) {
        for (size_t c = 0; c <= r; c++) {
            const int rx = r >= q, cx = c >= q;
            const size_t ri = rx ? cols[r - q] : r, ci = cx ? cols[c - q] : c;
            const size_t hi = ri > ci ? ri : ci, lo = ri > ci ? ci : ri;
            const double *blk = rx && cx ? acc->i22 : (rx || cx) ? acc->i12 : acc->i11;
            gsl_matrix_set(M, r, c, blk[hi * q + lo]);
        }
        gsl_vector_set(u, r, r < q ? 0.0 : acc->u2[cols[r - q]]);
    }
    rc = quad_form(M, u, sol, work, res, err);
done:
    gsl_matrix_free(M);
    gsl_vector_free(u);
    gsl_vector_free(sol);
    gsl_vector_free(work);
    return rc;
}

struct hs_zph_prep {
    size_t n, p;
    const double *x;   /* the caller's design, n*p row-major (kept valid until hs_zph_finish) */
    size_t *ord;       /* sweep position -> input row */
    zrow *rows;        /* in sweep order; risk is filled by hs_zph_finish */
    double *xs;        /* n*p: x centred on its column means, in sweep order */
    double *mean;      /* p: column means (zph1's centring) */
    int *zero_one;     /* p: 1 when every value is in {-1, 0, 1} (coxph leaves the column uncentred) */
};

void hs_zph_prep_free(hs_zph_prep *pr)
{
    if (!pr)
        return;
    free(pr->ord);
    free(pr->rows);
    free(pr->xs);
    free(pr->mean);
    free(pr->zero_one);
    free(pr);
}

int hs_zph_prepare(hs_zph_prep **out, const double *time, const int *status, const double *x, size_t n, size_t p,
                   const int *strata, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "zph: NULL output pointer");
    *out = NULL;
    if (n > 0 && (!time || !status || !x))
        return hs_error_set(err, HS_EINVAL, "zph: NULL argument");
    if (p == 0)
        return hs_error_set(err, HS_EINVAL, "zph: no covariates");
    size_t nevent = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(time[i]))
            return hs_error_set(err, HS_EDATA, "zph: time of row %zu is not finite", i + 1);
        if (status[i] != 0 && status[i] != 1)
            return hs_error_set(err, HS_EDATA, "zph: status of row %zu is %d, not 0 or 1", i + 1, status[i]);
        nevent += (size_t)status[i];
        for (size_t j = 0; j < p; j++)
            if (!isfinite(x[i * p + j]))
                return hs_error_set(err, HS_EDATA, "zph: x[%zu, %zu] is not finite", i + 1, j + 1);
    }
    if (nevent == 0)
        return hs_error_set(err, HS_EDATA, "zph: no events");

    int rc = HS_ENOMEM;
    hs_zph_prep *pr = calloc(1, sizeof *pr);
    double *ftime = malloc(n * sizeof *ftime);
    double *g = malloc(n * sizeof *g);
    int *isevent = malloc(n * sizeof *isevent);
    size_t *trank = malloc(n * sizeof *trank);
    uint64_t *key = strata ? malloc(n * sizeof *key) : NULL;
    if (!pr || !ftime || !g || !isevent || !trank || (strata && !key) || !(pr->ord = malloc(n * sizeof *pr->ord)) ||
        !(pr->rows = malloc(n * sizeof *pr->rows)) || !(pr->xs = malloc(n * p * sizeof *pr->xs)) ||
        !(pr->mean = malloc(p * sizeof *pr->mean)) || !(pr->zero_one = malloc(p * sizeof *pr->zero_one))) {
        hs_error_set(err, HS_ENOMEM, "zph: cannot allocate work space for %zu rows", n);
        goto done;
    }
    pr->n = n;
    pr->p = p;
    pr->x = x;
    size_t *ord = pr->ord;

    /* merged times; their ascending order; the km transform g = 1 - KM(t-) of the pooled rows */
    memcpy(ftime, time, n * sizeof *ftime);
    if ((rc = hs_timefix(ftime, n, err)) != HS_OK)
        goto done;
    if ((rc = hs_survorder_rank(ftime, n, ord, trank, NULL, err)) != HS_OK)
        goto done;
    {
        double km = 1.0;
        for (size_t i = 0; i < n;) {
            size_t end = i, d = 0;
            while (end < n && trank[ord[end]] == trank[ord[i]])
                d += (size_t)status[ord[end++]];
            for (size_t k = i; k < end; k++)
                g[ord[k]] = 1.0 - km;
            if (d > 0) {
                const double nrisk = (double)(n - i);
                km *= (nrisk - (double)d) / nrisk;
            }
            i = end;
        }
        for (size_t i = 0; i < n; i++)
            isevent[i] = status[i];
        const double gbar = r_mean(g, isevent, n);
        for (size_t i = 0; i < n; i++)
            g[i] -= gbar;
    }

    /* (stratum, time) order: the time order made stable-sorted by stratum code */
    if (strata) {
        for (size_t i = 0; i < n; i++)
            key[i] = (uint64_t)((uint32_t)strata[i] ^ UINT32_C(0x80000000));
        if ((rc = hs_survorder_stable(ord, n, key, err)) != HS_OK)
            goto done;
    }

    /* the columns' means (zph1's centring) and whether coxph centres them */
    for (size_t j = 0; j < p; j++) {
        double sum = 0.0;
        int zero_one = 1;
        for (size_t i = 0; i < n; i++) {
            const double v = x[i * p + j];
            sum += v;
            if (v != 0.0 && v != 1.0 && v != -1.0)
                zero_one = 0;
        }
        pr->mean[j] = sum / (double)n;
        pr->zero_one[j] = zero_one;
    }
    for (size_t k = 0; k < n; k++) {
        const size_t i = ord[k];
        for (size_t j = 0; j < p; j++)
            pr->xs[k * p + j] = x[i * p + j] - pr->mean[j];
        pr->rows[k].risk = 0.0;
        pr->rows[k].g = g[i];
        pr->rows[k].tr = trank[i];
        pr->rows[k].sid = strata ? (size_t)key[i] : 0;
        pr->rows[k].status = status[i];
    }
    *out = pr;
    pr = NULL;
    rc = HS_OK;
done:
    hs_zph_prep_free(pr);
    free(ftime);
    free(g);
    free(isevent);
    free(trank);
    free(key);
    return rc;
}

int hs_zph_finish(hs_zph **out, hs_zph_prep *pr, const double *coef, int ties, const size_t *term_of_col,
                  size_t nterm, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "zph: NULL output pointer");
    *out = NULL;
    if (!pr || !coef || !term_of_col)
        return hs_error_set(err, HS_EINVAL, "zph: NULL argument");
    if (nterm == 0)
        return hs_error_set(err, HS_EINVAL, "zph: no terms");
    if (ties != 0 && ties != 1)
        return hs_error_set(err, HS_EINVAL, "zph: ties must be 0 (Efron) or 1 (Breslow), not %d", ties);
    const size_t n = pr->n, q = pr->p;
    for (size_t j = 0; j < q; j++) {
        if (term_of_col[j] >= nterm)
            return hs_error_set(err, HS_EINVAL, "zph: column %zu belongs to term %zu, but nterm is %zu", j + 1,
                                term_of_col[j], nterm);
        if (!isfinite(coef[j]))
            return hs_error_set(err, HS_EINVAL, "zph: coefficient %zu is not finite", j + 1);
    }
    int rc = HS_ENOMEM;
    hs_zph *z = zph_alloc(nterm);
    double *scratch = malloc((2 * q + 2 * q * q) * sizeof *scratch);
    double *accmem = calloc(q + 3 * q * q, sizeof *accmem);
    size_t *cols = malloc(q * sizeof *cols);
    double *eta = malloc((n ? n : 1) * sizeof *eta);
    if (!z || !scratch || !accmem || !cols || !eta) {
        hs_error_set(err, HS_ENOMEM, "zph: cannot allocate work space");
        goto done;
    }
    /* coxph's linear predictor: X beta - sum(beta * means), means 0 for {-1, 0, 1} columns */
    double lpoff = 0.0;
    for (size_t j = 0; j < q; j++)
        if (!pr->zero_one[j])
            lpoff += coef[j] * pr->mean[j];
    /* risk scores in input order (x is read sequentially), then placed in sweep order */
    for (size_t i = 0; i < n; i++) {
        const double *x = pr->x + i * q;
        double e = 0.0;
        for (size_t j = 0; j < q; j++)
            e += x[j] * coef[j];
        eta[i] = exp(e - lpoff);
        if (!isfinite(eta[i])) {
            rc = hs_error_set(err, HS_ENUMERIC, "zph: risk score of row %zu overflows", i + 1);
            goto done;
        }
    }
    for (size_t k = 0; k < n; k++)
        pr->rows[k].risk = eta[pr->ord[k]];

    zacc acc = {q, accmem, accmem + q, accmem + q + q * q, accmem + q + 2 * q * q};
    zph_pass(pr->rows, pr->xs, n, q, ties == 0, scratch, &acc);

    /* per term: its columns; then GLOBAL with all of them */
    for (size_t t = 0; t < nterm; t++) {
        size_t k = 0;
        for (size_t c = 0; c < q; c++)
            if (term_of_col[c] == t)
                cols[k++] = c;
        z->df[t] = (int)k;
        if (k == 0) {
            z->chisq[t] = NAN;
            z->p[t] = NAN;
            continue;
        }
        if ((rc = term_chisq(&acc, cols, k, &z->chisq[t], err)) != HS_OK)
            goto done;
        z->p[t] = gsl_cdf_chisq_Q(z->chisq[t], (double)k);
    }
    for (size_t c = 0; c < q; c++)
        cols[c] = c;
    if ((rc = term_chisq(&acc, cols, q, &z->global_chisq, err)) != HS_OK)
        goto done;
    z->global_df = (int)q;
    z->global_p = gsl_cdf_chisq_Q(z->global_chisq, (double)q);
    *out = z;
    z = NULL;
    rc = HS_OK;
done:
    hs_zph_free(z);
    free(scratch);
    free(accmem);
    free(cols);
    free(eta);
    return rc;
}

int hs_zph_test(hs_zph **out, const double *time, const int *status, const double *x, size_t n, size_t p,
                const int *strata, const double *coef, int ties, const size_t *term_of_col, size_t nterm,
                hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "zph: NULL output pointer");
    *out = NULL;
    if (!coef || !term_of_col || (n > 0 && (!time || !status || !x)))
        return hs_error_set(err, HS_EINVAL, "zph: NULL argument");
    if (p == 0 || nterm == 0)
        return hs_error_set(err, HS_EINVAL, "zph: no covariates (p = %zu, nterm = %zu)", p, nterm);
    size_t q = 0;
    for (size_t j = 0; j < p; j++) {
        if (term_of_col[j] >= nterm)
            return hs_error_set(err, HS_EINVAL, "zph: column %zu belongs to term %zu, but nterm is %zu", j + 1,
                                term_of_col[j], nterm);
        if (!isnan(coef[j])) {
            if (!isfinite(coef[j]))
                return hs_error_set(err, HS_EINVAL, "zph: coefficient %zu is infinite", j + 1);
            q++;
        }
    }
    if (q == 0)
        return hs_error_set(err, HS_EINVAL, "zph: every coefficient is NA");
    /* aliased (NAN) coefficients: their columns leave X, as in R */
    double *xq = NULL, *cq = NULL;
    size_t *tq = NULL;
    const double *xu = x, *cu = coef;
    const size_t *tu = term_of_col;
    if (q < p) {
        xq = malloc((n * q + 1) * sizeof *xq);
        cq = malloc(q * sizeof *cq);
        tq = malloc(q * sizeof *tq);
        if (!xq || !cq || !tq) {
            free(xq);
            free(cq);
            free(tq);
            return hs_error_set(err, HS_ENOMEM, "zph: cannot allocate work space for %zu rows", n);
        }
        for (size_t j = 0, c = 0; j < p; j++) {
            if (isnan(coef[j]))
                continue;
            cq[c] = coef[j];
            tq[c] = term_of_col[j];
            for (size_t i = 0; i < n; i++)
                xq[i * q + c] = x[i * p + j];
            c++;
        }
        xu = xq, cu = cq, tu = tq;
    }
    hs_zph_prep *pr = NULL;
    int rc = hs_zph_prepare(&pr, time, status, xu, n, q, strata, err);
    if (rc == HS_OK)
        rc = hs_zph_finish(out, pr, cu, ties, tu, nterm, err);
    hs_zph_prep_free(pr);
    free(xq);
    free(cq);
    free(tq);
    return rc;
}
