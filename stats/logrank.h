/*
 * logrank: the G-rho family of k-sample tests (log-rank for rho = 0,
 * Peto-Peto/Prentice modification of Gehan-Wilcoxon for rho = 1), stratified
 * or not, computed as R survival 3.5-3 computes
 *     survdiff(Surv(time, status) ~ group + strata(s), rho = rho)
 * including timefix = TRUE, the hypergeometric variance, R's rule of keeping
 * only groups with E > 0 and dropping the first of them, and R's solve() of
 * the reduced variance matrix (survival-r.md sections 0 and 3).
 */
#ifndef HS_LOGRANK_H
#define HS_LOGRANK_H

#include <stddef.h>

#include "util/hs_error.h"

/* A test result; arrays are owned by the object. */
typedef struct hs_logrank {
    size_t ngroup;
    double *obs, *exp; /* ngroup each: weighted observed and expected events, summed over strata */
    double *var;       /* ngroup*ngroup row-major: R's survdiff()$var (all groups, none dropped) */
    double chisq;      /* 0 when fewer than 2 groups have E > 0 */
    int df;            /* (#groups with E > 0) - 1; -1 when there are no events at all */
    double p;          /* upper chi-square tail; 1 when df == 0, NAN when df < 0 (as R's pchisq) */
} hs_logrank;

/*
 * Runs the test.  time[n] (NAN rows dropped as R's na.omit), status[n] in {0, 1},
 * group[n] codes in 0..ngroup-1 (groups without subjects simply have
 * obs = exp = 0), strata[n] integer codes or NULL for one stratum, rho >= 0:
 * the weight at an event time is S(t-)^rho, S the pooled Kaplan-Meier of the
 * stratum.  Rows may come in any order.
 * On success *out owns a new hs_logrank (free with hs_logrank_free).  On
 * failure *out is NULL and the return is HS_EINVAL (NULL pointer, bad status,
 * group code or rho), HS_EDATA (fewer than 2 groups have subjects: R stops
 * with "There is only 1 group"), HS_ENUMERIC (the reduced variance matrix is
 * singular: R's solve() stops) or HS_ENOMEM.
 */
int hs_logrank_test(hs_logrank **out, const double *time, const int *status, const int *group, size_t ngroup,
                    const int *strata, size_t n, double rho, hs_error *err) HS_RESULT_USED;

/* Frees a result; NULL is a no-op. */
void hs_logrank_free(hs_logrank *lr);

#endif /* HS_LOGRANK_H */
