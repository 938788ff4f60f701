/*
 * concordance: Harrell's C for right-censored data, as R survival 3.5-3's
 * coxph reports it in fit$concordance (concordancefit with timewt = "n",
 * unit case weights, within strata, on timefix-merged times).
 *
 * A pair (i, j) is comparable when i has an event and j outlives i
 * (t_j > t_i, or t_j == t_i with j censored).  It is concordant when the
 * scores order the pair the right way round, discordant when the wrong way,
 * tied.x when the scores are equal.  Two events at the same time are tied.y
 * (different scores) or tied.xy (equal scores) and are not comparable.  Pairs
 * never cross strata.  C = (concordant + tied.x/2) / (concordant + discordant
 * + tied.x).  The variance is R's infinitesimal-jackknife one (std =
 * sqrt(var)); cvar is the older Cox-model-based one (concordance(fit)$cvar).
 * Runs in O(n log n) time (Fenwick trees over ranked scores) and O(n) memory.
 */
#ifndef HS_CONCORDANCE_H
#define HS_CONCORDANCE_H

#include <stddef.h>

#include "util/hs_error.h"

typedef struct hs_concordance {
    double concordant, discordant; /* comparable pairs ordered right / wrong by the score */
    double tied_x;                 /* comparable pairs with equal scores */
    double tied_y;                 /* pairs of events at the same time, scores differ */
    double tied_xy;                /* pairs of events at the same time, scores equal */
    double c;                      /* (concordant + tied_x/2) / (concordant + discordant + tied_x) */
    double var;                    /* infinitesimal-jackknife variance of c; std = sqrt(var) */
    double cvar;                   /* Cox-model-based variance of c */
} hs_concordance;

/*
 * Fills *out from time[n] (finite), status[n] (1 = event, 0 = censored),
 * score[n] (no NaN; +-INFINITY allowed) and strata[n] (any int codes, or NULL
 * for a single stratum).  reverse != 0 means a larger score predicts a
 * shorter time, as for a Cox linear predictor (coxph passes reverse = TRUE);
 * reverse == 0 means a larger score predicts a longer time.  Rows may come in
 * any order.  Times are merged with R's timefix (aeqSurv, stats/timefix.h)
 * first, as coxph does; passing times that are already merged is harmless.
 *
 * As in R: all scores tied gives c = 0.5, var = cvar = 0; strata without
 * events add nothing; no comparable pair at all (including n == 0 or no
 * events) gives counts 0 (tied_y/tied_xy may be > 0), c = var = NAN, and
 * cvar = INFINITY when the Cox variance sum is positive, else NAN; these
 * return HS_OK.  Fails (out untouched) with HS_EINVAL on a NULL pointer
 * (with n > 0) or n >= 2^32 - 1, HS_EDATA on a non-finite time, a status
 * other than 0/1 or a NaN score, HS_ENOMEM when scratch memory runs out.
 */
int hs_concordance_fit(hs_concordance *out, const double *time, const int *status, const double *score,
                       const int *strata, size_t n, int reverse, hs_error *err) HS_RESULT_USED;

/*
 * The same in two steps, so that the part that does not depend on the score
 * (stratum ids, merging and ranking the times) can run before the score
 * exists, e.g. while the Cox model is fitted.  hs_concordance_prepare fails
 * like hs_concordance_fit for bad times, status or size; status must stay
 * valid until hs_concordance_finish, which gives the same *out as
 * hs_concordance_fit.  hs_concordance_prep_free(NULL) is a no-op.
 */
typedef struct hs_concordance_prep hs_concordance_prep;
int hs_concordance_prepare(hs_concordance_prep **out, const double *time, const int *status, const int *strata,
                           size_t n, hs_error *err) HS_RESULT_USED;
int hs_concordance_finish(hs_concordance *out, const hs_concordance_prep *pr, const double *score, int reverse,
                          hs_error *err) HS_RESULT_USED;
void hs_concordance_prep_free(hs_concordance_prep *pr);

#endif /* HS_CONCORDANCE_H */
