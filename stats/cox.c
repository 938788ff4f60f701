/*
 * cox: Cox proportional-hazards regression, reproducing R survival 3.5-3's
 * coxph() for right-censored data (R/coxph.R, R/coxph.fit.R, src/coxfit6.c)
 * operation by operation, so that results agree with R to rounding.
 *
 * Algorithm.
 *  1. Rows are ordered once by (stratum code, time, input position) with a
 *     stable LSD radix sort on the bit patterns of the keys: O(n).
 *  2. Each covariate column not confined to {-1, 0, 1} is centred on its mean
 *     and multiplied by n / sum|x - mean|; the fit runs on this copy, stored
 *     row-major in sorted order so that one pass reads memory sequentially.
 *  3. One evaluation of the partial likelihood walks the rows from the largest
 *     time to the smallest, so that the risk-set sums S0 = sum r, S1 = sum r x,
 *     S2 = sum r x x' (r = exp(x'b)) grow as it goes and restart at every
 *     stratum boundary.  The rows sharing one time form a block; its deaths are
 *     kept apart and added at the end of the block, at once (Breslow, or Efron
 *     with one death) or in d equal parts (Efron: term k sees k/d of the
 *     deaths).  It yields the loglik, the score U and the information I in
 *     O(n p^2).  As in R, exp() is not guarded: an overflow makes the loglik
 *     non-finite, which the step-halving below treats as a failed step.
 *  4. Newton-Raphson from b = 0.  Iteration 0 gives loglik_null and the score
 *     test U'I^-1 U.  Each later iteration evaluates the proposal; it has
 *     converged when U, I and the loglik are finite and
 *     |1 - loglik_best/loglik_new| <= eps.  A proposal that lowers the loglik
 *     (or is not finite) is pulled back towards the last accepted b
 *     (midpoint, then 2/3 back, ...); an accepted one gives the next Newton
 *     step.  Linear algebra uses R's LDL' Cholesky (cholesky2) whose pivots
 *     below toler_chol times the largest diagonal mark a column as singular:
 *     its row and column of the inverse are 0 and its coefficient is NA.
 *  5. Coefficients, score and variance are scaled back; the Wald test is b'V^-1 b
 *     over the non-NA block, the infinite-coefficient check compares one more
 *     Newton step |U'V| with the coefficients, and the linear predictor is
 *     x'b - sum(b * means) in input order.
 * Where R has quirks (after running out of iterations the variance is the
 * inverse of the diagonal of I; with iter_max <= 1 the last step is not
 * re-evaluated), they are reproduced on purpose.
 *
 * Every sum is formed in the order R forms it and every quotient as R writes
 * it, so the results are normally identical to R's bit for bit (checked on a
 * few thousand random designs with ties, strata, aliased and monotone
 * columns); reordering would still agree to ~1e-15 but could flip R's
 * threshold decisions (convergence, singularity) in edge cases.  For the same
 * reason the Cholesky routines are R's LDL' with its tolerance rule rather
 * than GSL's.  Cost: one O(n p^2) pass per iteration, O(n p) memory.
 */
#include "stats/cox.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

void hs_cox_control_default(hs_cox_control *ctl)
{
    if (ctl == NULL)
        return;
    ctl->iter_max = 20;
    ctl->eps = 1e-9;
    ctl->toler_chol = pow(DBL_EPSILON, 0.75);
    ctl->toler_inf = sqrt(1e-9);
}

void hs_cox_free(hs_cox *fit)
{
    if (fit == NULL)
        return;
    free(fit->coef);
    free(fit->se);
    free(fit->var);
    free(fit->means);
    free(fit->lp);
    free(fit->infinite);
    free(fit->u);
    free(fit);
}

/* ---------------------------------------------------------------------------
 * Sorting: stable LSD radix sort of (stratum, time) keys.  The record carries
 * everything the fit needs about a row except its covariates, so that only
 * those are gathered from the input afterwards.
 */

typedef struct sort_rec {
    uint64_t tkey; /* time bits: order-preserving for non-negative doubles */
    uint32_t skey; /* stratum code with the sign bit flipped */
    uint32_t idx;  /* input row in the low 31 bits, status in the top bit */
} sort_rec;

#define REC_DEAD 0x80000000u

/* Digits of 11 bits: 6 cover the time key, 3 the stratum key. */
enum { RADIX_BITS = 11, RADIX = 1 << RADIX_BITS, TIME_DIGITS = 6, NDIGIT = 9 };

static unsigned rec_digit(const sort_rec *r, int d)
{
    if (d < TIME_DIGITS)
        return (unsigned)(r->tkey >> (RADIX_BITS * d)) & (RADIX - 1);
    return (unsigned)(r->skey >> (RADIX_BITS * (d - TIME_DIGITS))) & (RADIX - 1);
}

/*
 * Sorts the rows by (stratum, time, input row) and fills order (input row of
 * each sorted position), stime, sdead and slast (1 on the last row of each
 * stratum).  Returns 0 or -1 (out of memory).  n < 2^31.
 */
static int sort_rows(const double *time, const int *status, const int *strata, size_t n, uint32_t *order,
                     double *stime, unsigned char *sdead, unsigned char *slast)
{
    sort_rec *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    size_t (*count)[RADIX] = calloc(NDIGIT, sizeof *count);
    if (a == NULL || b == NULL || count == NULL) {
        free(a);
        free(b);
        free(count);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        double t = time[i] == 0.0 ? 0.0 : time[i]; /* -0 sorts (and ties) with +0 */
        uint64_t bits;
        memcpy(&bits, &t, sizeof bits);
        a[i].tkey = bits;
        a[i].skey = (strata != NULL ? (uint32_t)strata[i] : 0u) ^ 0x80000000u;
        a[i].idx = (uint32_t)i | (status[i] ? REC_DEAD : 0u);
        for (int d = 0; d < NDIGIT; d++)
            count[d][rec_digit(&a[i], d)]++;
    }
    for (int d = 0; d < NDIGIT; d++) {
        size_t pos = 0;
        if (count[d][rec_digit(&a[0], d)] == n)
            continue; /* every key has the same digit: the pass would change nothing */
        for (int v = 0; v < RADIX; v++) {
            size_t c = count[d][v];
            count[d][v] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            b[count[d][rec_digit(&a[i], d)]++] = a[i];
        sort_rec *t = a;
        a = b;
        b = t;
    }
    for (size_t k = 0; k < n; k++) {
        order[k] = a[k].idx & ~REC_DEAD;
        sdead[k] = (a[k].idx & REC_DEAD) != 0;
        memcpy(&stime[k], &a[k].tkey, sizeof stime[k]);
        slast[k] = k + 1 == n || a[k + 1].skey != a[k].skey;
    }
    free(a);
    free(b);
    free(count);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Cholesky LDL' with a singularity tolerance, as R survival's cholesky2,
 * chsolve2 and chinv2.  m is p*p; element (i, j) is m[i*p + j].  The input is
 * read from the upper triangle (j >= i); the factor L (unit diagonal, not
 * stored) goes below the diagonal and D on it.  A pivot that is not finite or
 * is below toler * (largest diagonal), or below toler when no diagonal is
 * positive, is set to 0 and its column skipped (survival 3.5-3's version).
 */

static int chol_factor(double *m, size_t p, double toler)
{
    double big = 0;
    for (size_t i = 0; i < p; i++) {
        if (m[i * p + i] > big)
            big = m[i * p + i];
        for (size_t j = i + 1; j < p; j++)
            m[j * p + i] = m[i * p + j];
    }
    double tol = big > 0 ? big * toler : toler; /* no positive diagonal: absolute tolerance */
    int rank = 0, sign = 1;
    for (size_t i = 0; i < p; i++) {
        double piv = m[i * p + i];
        if (!isfinite(piv) || piv < tol) {
            m[i * p + i] = 0;
            if (piv < -8 * tol)
                sign = -1;
            continue;
        }
        rank++;
        for (size_t j = i + 1; j < p; j++) {
            double l = m[j * p + i] / piv;
            m[j * p + i] = l;
            m[j * p + j] -= l * l * piv;
            for (size_t k = j + 1; k < p; k++)
                m[k * p + j] -= l * m[k * p + i];
        }
    }
    return rank * sign;
}

/* Overwrites y with A^-1 y from the factor of A (0 in the singular coordinates). */
static void chol_solve(const double *m, size_t p, double *y)
{
    for (size_t i = 0; i < p; i++) {
        double s = y[i];
        for (size_t j = 0; j < i; j++)
            s -= y[j] * m[i * p + j];
        y[i] = s;
    }
    for (size_t i = p; i-- > 0;) {
        if (m[i * p + i] == 0) {
            y[i] = 0;
            continue;
        }
        double s = y[i] / m[i * p + i];
        for (size_t j = i + 1; j < p; j++)
            s -= y[j] * m[j * p + i];
        y[i] = s;
    }
}

/* Turns the factor into the (generalised) inverse in the upper triangle and diagonal; singular rows 0. */
static void chol_invert(double *m, size_t p)
{
    /* invert D and the unit lower factor in place */
    for (size_t i = 0; i < p; i++) {
        if (!(m[i * p + i] > 0))
            continue;
        m[i * p + i] = 1 / m[i * p + i];
        for (size_t j = i + 1; j < p; j++) {
            m[j * p + i] = -m[j * p + i];
            for (size_t k = 0; k < i; k++)
                m[j * p + k] += m[j * p + i] * m[i * p + k];
        }
    }
    /* form F' D^-1 F in the upper triangle */
    for (size_t i = 0; i < p; i++) {
        if (m[i * p + i] == 0) {
            for (size_t j = 0; j < i; j++)
                m[j * p + i] = 0;
            for (size_t j = i; j < p; j++)
                m[i * p + j] = 0;
            continue;
        }
        for (size_t j = i + 1; j < p; j++) {
            double t = m[j * p + i] * m[j * p + j];
            m[i * p + j] = t;
            for (size_t k = i; k < j; k++)
                m[i * p + k] += t * m[j * p + k];
        }
    }
}

/* ---------------------------------------------------------------------------
 * One evaluation of the partial likelihood.
 */

typedef struct cox_work {
    size_t n, p;
    int efron;
    const double *time;         /* n, sorted */
    const unsigned char *dead;  /* n, sorted status */
    const unsigned char *last;  /* n, 1 on the last row of each stratum */
    const double *x;            /* n*p, sorted, centred and scaled, row-major */
    double *u, *imat;           /* outputs: score (p), information (p*p, upper triangle, lower 0) */
    /* scratch.  Triangles are packed by rows of the lower triangle: (i, j <= i) at i(i+1)/2 + j. */
    double *sum1;   /* 2p: S1 of the risk set without this block's deaths, then of the deaths */
    double *sum2;   /* 2T: S2 likewise (T = p(p+1)/2) */
    double *info;   /* T: the information, packed */
    double *mean;   /* p */
} cox_work;

/*
 * Adds the terms of one death block (or of one of Efron's d parts): the deaths'
 * share (dsum1, dsum2) joins the risk set (s1, s2, whose S0 is denom already),
 * and each of the p scores and T information entries gets wt times its term.
 */
static void add_block(size_t p, double wt, double denom, double *s1, double *s2, const double *dsum1,
                      const double *dsum2, double *u, double *info, double *mean)
{
    for (size_t i = 0; i < p; i++) {
        s1[i] += dsum1[i];
        mean[i] = s1[i] / denom;
        u[i] -= wt * mean[i];
    }
    for (size_t i = 0, t = 0; i < p; i++) {
        for (size_t j = 0; j <= i; j++, t++) {
            s2[t] += dsum2[t];
            info[t] += wt * (s2[t] - mean[i] * s1[j]) / denom;
        }
    }
}

/* Returns the loglik at beta and fills w->u and w->imat. */
static double cox_eval(cox_work *w, const double *beta)
{
    const size_t p = w->p, T = p * (p + 1) / 2;
    double *u = w->u, *info = w->info, *mean = w->mean;
    double *s1[2] = {w->sum1, w->sum1 + p}, *s2[2] = {w->sum2, w->sum2 + T}; /* [0] at risk, [1] deaths */
    double s0[2] = {0, 0};
    double loglik = 0;

    memset(u, 0, p * sizeof *u);
    memset(info, 0, T * sizeof *info);
    memset(s1[1], 0, p * sizeof *u);
    memset(s2[1], 0, T * sizeof *info);

    size_t row = w->n; /* rows [0, row) are still to be visited */
    while (row > 0) {
        if (w->last[row - 1]) { /* a new stratum: empty risk set */
            s0[0] = 0;
            memset(s1[0], 0, p * sizeof *u);
            memset(s2[0], 0, T * sizeof *info);
        }
        const double btime = w->time[row - 1];
        int ndead = 0;
        do {
            const size_t r = --row;
            const double *xr = w->x + r * p;
            double zb = 0;
            for (size_t i = 0; i < p; i++)
                zb += beta[i] * xr[i];
            const double risk = exp(zb);
            const int d = w->dead[r];
            double *t1 = s1[d], *t2 = s2[d];
            s0[d] += risk;
            for (size_t i = 0, t = 0; i < p; i++) {
                const double rx = risk * xr[i];
                t1[i] += rx;
                for (size_t j = 0; j <= i; j++, t++)
                    t2[t] += rx * xr[j];
            }
            if (d) {
                ndead++;
                loglik += zb;
                for (size_t i = 0; i < p; i++)
                    u[i] += xr[i];
            }
        } while (row > 0 && w->time[row - 1] == btime && !w->last[row - 1]);

        if (ndead == 0)
            continue;
        const double deadwt = ndead;
        if (!w->efron || ndead == 1) {
            s0[0] += s0[1];
            loglik -= deadwt * log(s0[0]);
            add_block(p, deadwt, s0[0], s1[0], s2[0], s1[1], s2[1], u, info, mean);
        } else {
            /* d terms; term k has k/d of the deaths' sums in the risk set.  The 1/d shares are
               the same quotients each time, so they are formed once per block. */
            const double wtave = deadwt / ndead, dshare = s0[1] / ndead;
            for (size_t i = 0; i < p; i++)
                s1[1][i] /= ndead;
            for (size_t t = 0; t < T; t++)
                s2[1][t] /= ndead;
            for (int k = 0; k < ndead; k++) {
                s0[0] += dshare;
                loglik -= wtave * log(s0[0]);
                add_block(p, wtave, s0[0], s1[0], s2[0], s1[1], s2[1], u, info, mean);
            }
        }
        s0[1] = 0;
        memset(s1[1], 0, p * sizeof *u);
        memset(s2[1], 0, T * sizeof *info);
    }

    /* unpack: R keeps I in the upper triangle, element (j, i) for j <= i, with 0 below */
    memset(w->imat, 0, p * p * sizeof *w->imat);
    for (size_t i = 0, t = 0; i < p; i++)
        for (size_t j = 0; j <= i; j++, t++)
            w->imat[j * p + i] = info[t];
    return loglik;
}

/* Scales the inverse in the upper triangle of imat back to the original units and symmetrises it. */
static void unscale_inverse(double *imat, size_t p, const double *scale)
{
    for (size_t i = 0; i < p; i++) {
        imat[i * p + i] *= scale[i] * scale[i];
        for (size_t j = 0; j < i; j++) {
            imat[j * p + i] *= scale[i] * scale[j];
            imat[i * p + j] = imat[j * p + i];
        }
    }
}

/* coxph.wtest: b'V^-1 b over the k non-NA coefficients listed in keep. */
static double wald_test(const double *var, const double *coef, const size_t *keep, size_t k, size_t p,
                        double toler, double *work /* k*k + 2k */)
{
    if (k == 0)
        return 0;
    double *v = work, *b = work + k * k, *s = b + k;
    for (size_t i = 0; i < k; i++) {
        b[i] = coef[keep[i]];
        if (!isfinite(b[i]))
            return NAN;
        for (size_t j = 0; j < k; j++) {
            v[i * k + j] = var[keep[i] * p + keep[j]];
            if (!isfinite(v[i * k + j]))
                return NAN; /* R stops: "infinite argument in coxph.wtest" */
        }
    }
    if (k == 1)
        return b[0] * b[0] / v[0];
    (void)chol_factor(v, k, toler);
    memcpy(s, b, k * sizeof *s);
    chol_solve(v, k, s);
    double t = 0;
    for (size_t i = 0; i < k; i++)
        t += b[i] * s[i];
    return t;
}

/* Allocates the per-coefficient arrays of fit; returns 0 or -1. */
static int alloc_fit_arrays(hs_cox *fit)
{
    size_t p = fit->p, n = fit->n;
    fit->lp = calloc(n, sizeof *fit->lp);
    if (fit->lp == NULL)
        return -1;
    if (p == 0)
        return 0;
    fit->coef = calloc(p, sizeof *fit->coef);
    fit->se = calloc(p, sizeof *fit->se);
    fit->var = calloc(p * p, sizeof *fit->var);
    fit->means = calloc(p, sizeof *fit->means);
    fit->infinite = calloc(p, sizeof *fit->infinite);
    fit->u = calloc(p, sizeof *fit->u);
    if (!fit->coef || !fit->se || !fit->var || !fit->means || !fit->infinite || !fit->u)
        return -1;
    return 0;
}

/* R's early return when there are no events. */
static void fill_no_events(hs_cox *fit, const double *x)
{
    size_t n = fit->n, p = fit->p;
    for (size_t j = 0; j < p; j++) {
        long double s = 0; /* colMeans accumulates in long double */
        for (size_t i = 0; i < n; i++)
            s += x[i * p + j];
        s /= (long double)n;
        fit->means[j] = (double)s;
        fit->coef[j] = NAN;
        fit->se[j] = NAN;
    }
    fit->converged = 1;
}

static int check_args(const double *time, const int *status, const double *x, size_t n, size_t p,
                      const hs_cox_control *ctl, hs_error *err)
{
    if (time == NULL || status == NULL || (p > 0 && x == NULL))
        return hs_error_set(err, HS_EINVAL, "cox: NULL time, status or covariate array");
    if (n == 0)
        return hs_error_set(err, HS_EINVAL, "cox: no observations");
    if (n > INT32_MAX || (p > 0 && n > SIZE_MAX / sizeof(double) / p / 2))
        return hs_error_set(err, HS_EINVAL, "cox: too many observations (%zu)", n);
    if (p > 4096)
        return hs_error_set(err, HS_EINVAL, "cox: too many covariates (%zu)", p);
    if (ctl->iter_max < 0 || !(ctl->eps > 0) || !(ctl->toler_chol >= 0) || !isfinite(ctl->toler_chol) ||
        !(ctl->toler_inf > 0))
        return hs_error_set(err, HS_EINVAL, "cox: invalid control settings");
    for (size_t i = 0; i < n; i++) {
        if (!(time[i] >= 0) || !isfinite(time[i]))
            return hs_error_set(err, HS_EINVAL, "cox: time %zu is negative or not finite", i + 1);
        if (status[i] != 0 && status[i] != 1)
            return hs_error_set(err, HS_EINVAL, "cox: status %zu is %d, not 0 or 1", i + 1, status[i]);
    }
    for (size_t i = 0; i < n * p; i++)
        if (!isfinite(x[i]))
            return hs_error_set(err, HS_EINVAL, "cox: covariate %zu of row %zu is not finite", i % p + 1,
                                i / p + 1);
    return HS_OK;
}

/* The rows in sorted order: what the likelihood loop reads. */
typedef struct cox_data {
    uint32_t *order;      /* n: input row of each sorted position */
    double *stime;        /* n */
    unsigned char *sdead; /* n */
    unsigned char *slast; /* n: 1 on the last row of each stratum */
    double *sx;           /* n*p: covariates, then centred and scaled */
} cox_data;

static void cox_data_free(cox_data *d)
{
    free(d->order);
    free(d->stime);
    free(d->sdead);
    free(d->slast);
    free(d->sx);
}

/* Sorts the rows and gathers the covariates in sorted order.  Returns 0 or -1 (memory). */
static int cox_data_make(cox_data *d, const double *time, const int *status, const double *x,
                         const int *strata, size_t n, size_t p)
{
    memset(d, 0, sizeof *d);
    d->order = malloc(n * sizeof *d->order);
    d->stime = malloc(n * sizeof *d->stime);
    d->sdead = malloc(n);
    d->slast = malloc(n);
    d->sx = malloc((p > 0 ? n * p : 1) * sizeof *d->sx);
    if (!d->order || !d->stime || !d->sdead || !d->slast || !d->sx ||
        sort_rows(time, status, strata, n, d->order, d->stime, d->sdead, d->slast) != 0) {
        cox_data_free(d);
        return -1;
    }
    for (size_t k = 0; k < n && p > 0; k++) {
#if defined(__GNUC__)
        if (k + 16 < n)
            __builtin_prefetch(x + (size_t)d->order[k + 16] * p);
#endif
        memcpy(d->sx + k * p, x + (size_t)d->order[k] * p, p * sizeof *d->sx);
    }
    return 0;
}

/*
 * Centres each column of the sorted n*p matrix sx that is not confined to
 * {-1, 0, 1} on its mean and multiplies it by n / sum|x - mean| (1 for a
 * constant column).  means[j] is 0 and scale[j] 1 for the columns left alone.
 * Each column's sums run in sorted order, as R's do; sum and plain are p-long
 * scratch.
 */
static void centre_and_scale(double *sx, size_t n, size_t p, double *means, double *scale, double *sum,
                             int *plain)
{
    const double dn = (double)n;
    for (size_t j = 0; j < p; j++) {
        plain[j] = 1;
        sum[j] = 0;
    }
    for (size_t k = 0; k < n; k++) {
        const double *row = sx + k * p;
        for (size_t j = 0; j < p; j++) {
            const double v = row[j];
            sum[j] += v;
            plain[j] &= v == 0 || v == 1 || v == -1;
        }
    }
    int any = 0;
    for (size_t j = 0; j < p; j++) {
        means[j] = plain[j] ? 0 : sum[j] / dn;
        scale[j] = 1;
        sum[j] = 0;
        any |= !plain[j];
    }
    if (!any)
        return;
    for (size_t k = 0; k < n; k++) {
        double *row = sx + k * p;
        for (size_t j = 0; j < p; j++) {
            if (plain[j])
                continue;
            row[j] -= means[j];
            sum[j] += fabs(row[j]);
        }
    }
    for (size_t j = 0; j < p; j++)
        if (!plain[j] && sum[j] > 0)
            scale[j] = dn / sum[j];
    for (size_t k = 0; k < n; k++) {
        double *row = sx + k * p;
        for (size_t j = 0; j < p; j++)
            if (!plain[j])
                row[j] *= scale[j];
    }
}

/* What the Newton-Raphson driver reports (coxfit6's outputs). */
typedef struct newton_result {
    double loglik0, loglik, score;
    int iter, flag;
} newton_result;

/*
 * Newton-Raphson from beta = 0 on the scaled problem, as coxfit6.  On return
 * beta holds the coefficients, w->u the score and w->imat the variance, all
 * back on the original scale.  newbeta and step are p-long scratch.
 */
static void newton(cox_work *w, const hs_cox_control *ctl, const double *scale, double *beta, double *newbeta,
                   double *step, newton_result *res)
{
    const size_t p = w->p;
    double *u = w->u, *imat = w->imat;

    memset(beta, 0, p * sizeof *beta);
    const double loglik0 = cox_eval(w, beta);
    memcpy(step, u, p * sizeof *step);
    int flag = chol_factor(imat, p, ctl->toler_chol);
    chol_solve(imat, p, step);
    double score = 0;
    for (size_t i = 0; i < p; i++)
        score += u[i] * step[i];

    const int maxiter = ctl->iter_max;
    double best = loglik0;
    int iter = 0;
    if (maxiter == 0 || !isfinite(loglik0)) {
        chol_invert(imat, p); /* R reports the model at the initial values */
    } else {
        int converged = 0;
        double halving = 0;
        for (size_t i = 0; i < p; i++)
            newbeta[i] = beta[i] + step[i];
        for (iter = 1; iter <= maxiter; iter++) {
            const double newlk = cox_eval(w, newbeta);
            flag = chol_factor(imat, p, ctl->toler_chol);
            int finite = isfinite(newlk);
            for (size_t i = 0; i < p && finite; i++) {
                finite = isfinite(u[i]);
                for (size_t j = 0; j < p && finite; j++)
                    finite = isfinite(imat[i * p + j]);
            }
            if (finite && fabs(1 - best / newlk) <= ctl->eps) {
                best = newlk;
                chol_invert(imat, p);
                memcpy(beta, newbeta, p * sizeof *beta);
                if (halving != 0)
                    flag = -2;
                converged = 1;
                break;
            }
            if (!finite || newlk < best) {
                /* a failed step: pull the proposal back towards the last accepted beta */
                halving += 1;
                for (size_t i = 0; i < p; i++)
                    newbeta[i] = (newbeta[i] + halving * beta[i]) / (halving + 1.0);
            } else {
                halving = 0;
                best = newlk;
                chol_solve(imat, p, u); /* u becomes the Newton step */
                for (size_t i = 0; i < p; i++) {
                    beta[i] = newbeta[i];
                    newbeta[i] = newbeta[i] + u[i];
                }
            }
        }
        if (!converged) {
            /* R re-evaluates at the last accepted beta and then inverts imat without factoring it,
               so that the variance is diag(1 / diag(I)); with iter_max 1 it keeps the last factor. */
            if (maxiter > 1)
                best = cox_eval(w, beta);
            chol_invert(imat, p);
            flag = 1000;
        }
    }
    unscale_inverse(imat, p, scale);
    for (size_t i = 0; i < p; i++) {
        beta[i] *= scale[i];
        u[i] /= scale[i];
    }
    res->loglik0 = loglik0;
    res->loglik = best;
    res->score = score;
    res->iter = iter;
    res->flag = flag;
}

/*
 * Fills the reported quantities of fit from the unmasked coefficients beta,
 * as coxph.fit and coxph do.  keep and wwork are scratch (p and p*p + 2p).
 */
static void report(hs_cox *fit, const double *x, const double *beta, const newton_result *res,
                   const hs_cox_control *ctl, size_t *keep, double *wwork)
{
    const size_t n = fit->n, p = fit->p;
    const double *var = fit->var;
    fit->loglik_null = res->loglik0;
    fit->loglik = res->loglik;
    fit->score_test = res->score;
    fit->iter = res->iter;
    fit->flag = res->flag;
    fit->converged = !(res->flag == 1000 && ctl->iter_max > 1);

    /* linear predictor x'b - sum(b * means); R's sum() accumulates in long double */
    long double off = 0;
    for (size_t j = 0; j < p; j++)
        off += beta[j] * fit->means[j];
    const double offd = (double)off;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < p; j++)
            s += x[i * p + j] * beta[j];
        fit->lp[i] = s - offd;
    }

    /* monotone likelihood: one more Newton step, |U'V|, large against beta */
    if (ctl->iter_max > 1 && res->flag != 1000) {
        for (size_t j = 0; j < p; j++) {
            double s = 0;
            for (size_t i = 0; i < p; i++)
                s += fit->u[i] * var[i * p + j];
            const double step = fabs(s);
            fit->infinite[j] = !isfinite(fit->u[j]) || (step > ctl->eps && step > ctl->toler_inf * fabs(beta[j]));
        }
    }

    /* aliased columns (a zero diagonal when the rank fell short), standard errors, Wald test */
    size_t k = 0;
    for (size_t j = 0; j < p; j++) {
        const int aliased = ctl->iter_max > 0 && res->flag < (int)p && var[j * p + j] == 0;
        fit->coef[j] = aliased ? NAN : beta[j];
        fit->se[j] = aliased ? NAN : sqrt(var[j * p + j]);
        if (!aliased)
            keep[k++] = j;
    }
    fit->df = (int)k;
    fit->wald_test = wald_test(var, fit->coef, keep, k, p, ctl->toler_chol, wwork);
    fit->lr_test = 2 * (fit->loglik - fit->loglik_null);
}

int hs_cox_fit(hs_cox **out, const double *time, const int *status, const double *x, size_t n, size_t p,
               const int *strata, hs_ties ties, const hs_cox_control *ctl, hs_error *err)
{
    hs_cox_control defctl;
    if (out == NULL)
        return hs_error_set(err, HS_EINVAL, "cox: NULL output pointer");
    *out = NULL;
    if (ctl == NULL) {
        hs_cox_control_default(&defctl);
        ctl = &defctl;
    }
    if (ties != HS_TIES_EFRON && ties != HS_TIES_BRESLOW)
        return hs_error_set(err, HS_EINVAL, "cox: unknown ties method %d", (int)ties);
    int rc = check_args(time, status, x, n, p, ctl, err);
    if (rc != HS_OK)
        return rc;

    hs_cox *fit = calloc(1, sizeof *fit);
    if (fit == NULL)
        return hs_error_set(err, HS_ENOMEM, "cox: out of memory");
    fit->n = n;
    fit->p = p;
    if (alloc_fit_arrays(fit) != 0) {
        hs_cox_free(fit);
        return hs_error_set(err, HS_ENOMEM, "cox: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        fit->nevent += status[i];
    if (fit->nevent == 0) {
        fill_no_events(fit, x);
        *out = fit;
        return HS_OK;
    }

    /* scratch: beta newbeta scale step u mean sum1(2q) imat(q*q) sum2(2T) info(T) wald(q*q + 2q) */
    const size_t q = p > 0 ? p : 1, T = q * (q + 1) / 2;
    double *dwork = calloc(10 * q + 2 * q * q + 3 * T, sizeof *dwork);
    size_t *keep = malloc(q * sizeof *keep);
    int *plain = malloc(q * sizeof *plain);
    cox_data d;
    if (dwork == NULL || keep == NULL || plain == NULL ||
        cox_data_make(&d, time, status, x, strata, n, p) != 0) {
        free(dwork);
        free(keep);
        free(plain);
        hs_cox_free(fit);
        return hs_error_set(err, HS_ENOMEM, "cox: out of memory");
    }
    double *beta = dwork, *newbeta = beta + q, *scale = newbeta + q, *step = scale + q, *u = step + q;
    double *mean = u + q, *sum1 = mean + q, *imat = sum1 + 2 * q, *sum2 = imat + q * q, *info = sum2 + 2 * T;
    double *wwork = info + T;

    if (p > 0)
        centre_and_scale(d.sx, n, p, fit->means, scale, step, plain);
    cox_work w = {.n = n, .p = p, .efron = ties == HS_TIES_EFRON, .time = d.stime, .dead = d.sdead,
                  .last = d.slast, .x = d.sx, .u = u, .imat = imat, .sum1 = sum1, .sum2 = sum2,
                  .info = info, .mean = mean};
    if (p == 0) {
        /* the null model: only the loglik at beta = 0 */
        fit->loglik_null = fit->loglik = cox_eval(&w, beta);
        fit->converged = 1;
    } else {
        newton_result res;
        newton(&w, ctl, scale, beta, newbeta, step, &res);
        memcpy(fit->var, imat, p * p * sizeof *imat);
        memcpy(fit->u, u, p * sizeof *u);
        report(fit, x, beta, &res, ctl, keep, wwork);
    }
    cox_data_free(&d);
    free(dwork);
    free(keep);
    free(plain);
    *out = fit;
    return HS_OK;
}

int hs_cox_summary(const hs_cox *fit, hs_cox_coef *out, hs_error *err)
{
    if (!fit || (fit->p && !out))
        return hs_error_set(err, HS_EINVAL, "hs_cox_summary: NULL argument");
    const double zq = gsl_cdf_ugaussian_Pinv(0.975);
    for (size_t j = 0; j < fit->p; j++) {
        double b = fit->coef[j], se = fit->se[j], z = b / se;
        if (!isnan(b) && !fit->infinite[j] && !(se > 0 && isfinite(se))) {
            out[j] = (hs_cox_coef){.coef = b, .se = NAN, .z = NAN, .p = NAN, .hr = exp(b),
                                   .hr_lower95 = NAN, .hr_upper95 = NAN, .flag = HS_COX_COEF_DEGENERATE};
            continue;
        }
        out[j] = (hs_cox_coef){
            .coef = b,
            .se = se,
            .z = z,
            .p = isnan(z) ? NAN : 2 * gsl_cdf_ugaussian_Q(fabs(z)),
            .hr = exp(b),
            .hr_lower95 = exp(b - zq * se),
            .hr_upper95 = exp(b + zq * se),
            .flag = isnan(b) ? HS_COX_COEF_ALIASED : fit->infinite[j] ? HS_COX_COEF_INFINITE : HS_COX_COEF_OK,
        };
    }
    return HS_OK;
}

const char *hs_cox_coef_flag_name(hs_cox_coef_flag flag)
{
    return flag == HS_COX_COEF_ALIASED      ? "aliased"
           : flag == HS_COX_COEF_INFINITE   ? "infinite"
           : flag == HS_COX_COEF_DEGENERATE ? "degenerate"
                                            : "";
}

hs_cox_coef_flag hs_cox_coef_flag_parse(const char *name)
{
    static const hs_cox_coef_flag all[] = {HS_COX_COEF_ALIASED, HS_COX_COEF_INFINITE, HS_COX_COEF_DEGENERATE};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, hs_cox_coef_flag_name(all[i])) == 0)
            return all[i];
    return HS_COX_COEF_OK;
}
