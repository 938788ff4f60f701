/*
 * cox: Cox proportional-hazards regression for right-censored data, computed
 * the way R survival 3.5-3 computes coxph() (coxph.fit and its C routine
 * coxfit6): Efron or Breslow ties, strata, centring and scaling of the
 * covariates, Newton-Raphson with step-halving, R's Cholesky with its
 * singularity tolerance (aliased columns get NA coefficients), the score, Wald
 * and likelihood-ratio tests, and R's monotone-likelihood ("coefficient may be
 * infinite") check.  No case weights, no offsets, no start/stop data.
 *
 * Times are compared exactly.  coxph() first merges times closer than
 * sqrt(.Machine$double.eps) (timefix = TRUE); to match it on non-integer times,
 * pass times that went through the same correction.
 */
#ifndef HS_COX_H
#define HS_COX_H

#include <stddef.h>

#include "util/hs_error.h"

/* How tied event times are handled. */
typedef enum { HS_TIES_EFRON = 0, HS_TIES_BRESLOW = 1 } hs_ties;

/* Iteration control, as R's coxph.control(). */
typedef struct hs_cox_control {
    int iter_max;      /* Newton-Raphson iterations allowed (R iter.max, default 20); >= 0 */
    double eps;        /* convergence: |1 - loglik_best/loglik_new| <= eps (default 1e-9) */
    double toler_chol; /* Cholesky pivot tolerance, relative to the largest diagonal (default 2^-39, ~1.8e-12) */
    double toler_inf;  /* threshold of the infinite-coefficient check (default sqrt(1e-9)) */
} hs_cox_control;

/* Fills *ctl with R's defaults: 20, 1e-9, .Machine$double.eps^0.75, sqrt(1e-9). */
void hs_cox_control_default(hs_cox_control *ctl);

/* A fitted model.  All arrays are owned by the object. */
typedef struct hs_cox {
    size_t n, p;          /* rows used, columns of X */
    double nevent;        /* number of events */
    double *coef;         /* p; NAN for a column found singular (aliased) */
    double *se;           /* p; sqrt(diag var); NAN where coef is NAN */
    double *var;          /* p*p, row-major, R's fit$var (0 rows/cols for aliased) */
    double *means;        /* p, as R fit$means (0 for columns left uncentred, 0/1-like) */
    double *lp;           /* n, linear predictor x'b - sum(b*means), in INPUT row order (aliased coef as 0) */
    double loglik_null, loglik;   /* R fit$loglik[1], [2] (both the null loglik when p == 0) */
    double score_test;    /* R fit$score (0 when p == 0) */
    double wald_test;     /* R fit$wald.test (0 when p == 0 or every coef is NA; NAN if var is not finite) */
    double lr_test;       /* 2*(loglik - loglik_null) */
    int df;               /* number of non-NA coefficients */
    int iter;             /* R fit$iter (iter_max+1 = 21 when it ran out) */
    int converged;        /* 0 when R would warn "Ran out of iterations and did not converge" */
    int *infinite;        /* p flags: 1 where R warns "Loglik converged before variable j; coefficient may be infinite" */
    int flag;             /* R's coxfit6 flag: rank of the information matrix, -2 if the converged step was
                             halved, 1000 if iterations ran out (with iter_max <= 1 too, where R does not warn) */
    double *u;            /* p; score vector at the final coefficients (R's coxfit$u), original scale */
} hs_cox;

/*
 * Fits a Cox model.
 *   time[n] >= 0 (finite), status[n] in {0,1}, x is n*p ROW-MAJOR (x[i*p+j], finite; may be NULL
 *   when p == 0), strata[n] integer codes or NULL for one stratum.  Rows may come in any order: they
 *   are sorted internally by (stratum code, time, input position), as R's order(strata, time).
 *   A column whose values all lie in {-1, 0, 1} is not centred (R's nocenter default).
 *   ctl NULL means hs_cox_control_default().
 * p == 0 fits the null model: only loglik_null (= loglik) is computed; coefficient arrays are NULL.
 * With no events at all the result is R's early return: every coef NA, var 0, logliks 0, score 0,
 *   wald 0, iter 0, lp 0 and means the plain column means.
 * On success *out owns a new hs_cox (free it with hs_cox_free) and HS_OK is returned.  Failures leave
 * *out NULL and return HS_EINVAL (NULL pointers, n == 0 or n >= 2^31, a negative or non-finite time,
 * a status not 0/1, a non-finite x, a bad control) or HS_ENOMEM.  Numerical trouble is not a failure:
 * it is reported as R reports it (NAN coefficients, flag, converged, infinite; a non-finite var gives
 * wald_test NAN where R's coxph() would stop).
 */
int hs_cox_fit(hs_cox **out, const double *time, const int *status, const double *x, size_t n, size_t p,
               const int *strata, hs_ties ties, const hs_cox_control *ctl, hs_error *err) HS_RESULT_USED;

/* Frees a fit and everything it owns; NULL is a no-op. */
void hs_cox_free(hs_cox *fit);

/* How far a coefficient can be trusted (the flag column of hetsurv's cox.csv). */
typedef enum {
    HS_COX_COEF_OK = 0,
    HS_COX_COEF_ALIASED = 1,  /* not estimable (collinear column): every number NAN */
    HS_COX_COEF_INFINITE = 2, /* R's "coefficient may be infinite": se, z, p and CI are meaningless */
    HS_COX_COEF_DEGENERATE = 3 /* its variance is 0 or not finite (R prints se 0, z Inf, p 0: a covariate
                                  whose scale is extreme, e.g. one value of 1e300): se, z, p and CI NAN */
} hs_cox_coef_flag;

/* The flag's word in cox.csv's flag column ("" for HS_COX_COEF_OK), and back (unknown words are OK). */
const char *hs_cox_coef_flag_name(hs_cox_coef_flag flag);
hs_cox_coef_flag hs_cox_coef_flag_parse(const char *name);

/* One row of summary(fit): a coefficient with its test and its hazard ratio's 95% limits. */
typedef struct hs_cox_coef {
    double coef, se;
    double z;                      /* coef / se */
    double p;                      /* 2 (1 - Phi(|z|)); NAN when z is NAN */
    double hr;                     /* exp(coef) */
    double hr_lower95, hr_upper95; /* exp(coef -+ qnorm(0.975) se) */
    hs_cox_coef_flag flag;
} hs_cox_coef;

/*
 * Fills out[0..fit->p-1] as summary.coxph computes its table, except that
 * an aliased or degenerate coefficient has se, z, p and limits NAN (R prints
 * se 0 there, which would suggest a known value).  Every caller that reports a fit uses
 * this, so the rules live in one place.  Returns HS_OK, or HS_EINVAL for a
 * NULL argument (p == 0 needs no out).
 */
int hs_cox_summary(const hs_cox *fit, hs_cox_coef *out, hs_error *err) HS_RESULT_USED;

#endif /* HS_COX_H */
