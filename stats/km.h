/*
 * km: the Kaplan-Meier estimate of one survival curve with its Greenwood
 * standard error, pointwise confidence band, median (with CI) and restricted
 * mean, computed as R survival 3.5-3 does for
 *     fit <- survfit(Surv(time, status) ~ 1, conf.type = ..., conf.int = ...)
 * including timefix = TRUE (times are merged by hs_timefix first), the
 * confidence-interval edge cases of survfit_confint, the median rule of
 * print.survfit / summary(fit)$table and the restricted mean of
 * print(fit, rmean = tau) (survival-r.md sections 0, 2 and 6).
 */
#ifndef HS_KM_H
#define HS_KM_H

#include <stddef.h>

#include "util/hs_error.h"

/* survfit's conf.type: "log" (R's default), "log-log", "plain". */
typedef enum { HS_CONF_LOG = 0, HS_CONF_LOGLOG = 1, HS_CONF_PLAIN = 2 } hs_conf_type;

/* One fitted curve; every array is owned by the object and has ntime elements. */
typedef struct hs_km {
    size_t n;            /* subjects used (rows with a non-NAN time) */
    double events;       /* total events */
    size_t ntime;        /* rows: one per distinct time (event or censoring), ascending */
    double *time, *n_risk, *n_event, *n_censor, *surv, *std_err, *lower, *upper;
    /* std_err is R's fit$std.err: the Greenwood se of log S (INFINITY once S = 0);
       lower/upper are NAN where R gives NA or NaN: S = 0 (all types), S = 1 (log-log) */
    hs_conf_type conf_type;
    double conf_level;
} hs_km;

/*
 * Fits the curve of time[n] (any order; NAN rows are dropped as R's na.omit,
 * infinite times are kept as R keeps them) with status[n] in {0 censored,
 * 1 event}; the confidence band has level conf_level in (0, 1) (R conf.int).
 * On success *out owns a new hs_km (free with hs_km_free) and HS_OK is
 * returned.  On failure *out is NULL and the return is HS_EINVAL (NULL
 * pointer, status not 0/1, bad type or level), HS_EDATA (no row with a time)
 * or HS_ENOMEM.  O(n) after an O(n) radix sort.
 */
int hs_km_fit(hs_km **out, const double *time, const int *status, size_t n, hs_conf_type type,
              double conf_level, hs_error *err) HS_RESULT_USED;

/* Frees a curve and its arrays; NULL is a no-op. */
void hs_km_free(hs_km *km);

/*
 * The median survival time and its confidence limits exactly as
 * summary(fit)$table[c("median", "0.95LCL", "0.95UCL")]: the first time with
 * S < 0.5 + sqrt(eps), or the midpoint between it and the next drop when S is
 * within sqrt(eps) of 0.5 there; the limits apply the same rule to the lower
 * and upper curves.  Each value is NAN when not reached.
 * Returns HS_OK, or HS_EINVAL for a NULL argument.
 */
int hs_km_median(const hs_km *km, double *median, double *lower, double *upper, hs_error *err) HS_RESULT_USED;

/*
 * The restricted mean survival time up to tau and its standard error, as
 * survival:::survmean(fit, rmean = tau) (what print(fit, rmean = tau) shows):
 * the area under the curve from min(0, first time) to tau, the curve extended
 * flat past its last time; se from sum over times <= tau of
 * A^2 d / (n (n - d)) (term 0 when n = d), A the area from that time to tau.
 * Returns HS_OK, or HS_EINVAL (NULL argument or tau NAN).
 */
int hs_km_rmst(const hs_km *km, double tau, double *rmst, double *se, hs_error *err) HS_RESULT_USED;

#endif /* HS_KM_H */
