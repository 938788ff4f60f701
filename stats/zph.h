/*
 * zph: the proportional-hazards test of R survival 3.5-3's
 * cox.zph(fit, transform = "km", terms = TRUE, global = TRUE).
 *
 * With the coefficients beta held at the Cox fit's values, the model is
 * extended by the p covariates X*g(t), where g(t) = 1 - KM(t-) of all rows
 * pooled (strata ignored), centred by its mean over the events.  The test is
 * the score test for the extra coefficients (= 0): with U the 2p score vector
 * whose first p entries are set to 0, and I the 2p x 2p information
 * (Efron or Breslow ties, within strata), a term's chi-square is U'I^-1 U on
 * the rows/columns {1..p} and that term's extra columns, df = its number of
 * columns; GLOBAL uses every extra column, df = p.  Times are merged with R's
 * timefix first.  O(n log n) for the ordering, then one O(n p^2) pass.
 */
#ifndef HS_ZPH_H
#define HS_ZPH_H

#include <stddef.h>

#include "util/hs_error.h"

typedef struct hs_zph {
    size_t nterm;       /* terms, as passed to hs_zph_test */
    double *chisq;      /* nterm: score chi-square per term; NAN for a term whose coefficients are all NAN */
    int *df;            /* nterm: the term's columns with a non-NAN coefficient (0 for a dropped term) */
    double *p;          /* nterm: upper chi-square tail probability; NAN for a dropped term */
    double global_chisq;
    int global_df;      /* number of non-NAN coefficients */
    double global_p;
} hs_zph;

/*
 * Runs the test.  time[n] (finite), status[n] (0/1), x (n*p, ROW-MAJOR:
 * x[i*p+j]), strata[n] (any int codes; NULL = one stratum), coef[p] (the Cox
 * fit's coefficients; a NAN coefficient marks an aliased column, which is
 * dropped from X and from its term, as R does; a term left without columns
 * gets chisq/p NAN and df 0), ties (0 = Efron, 1 = Breslow; the values of
 * hs_ties in stats/cox.h), term_of_col[p] (the term, 0..nterm-1, of each
 * column; a factor term spans several columns).  Centring of x does not
 * matter (the columns are centred internally, as R does).
 *
 * On success *out is a new hs_zph that the caller frees with hs_zph_free.
 * Fails (with *out NULL) with HS_EINVAL for NULL pointers, p == 0, nterm ==
 * 0, a bad ties value, a term index >= nterm or all coefficients NAN;
 * HS_EDATA for a non-finite time, a status other than 0/1, a non-finite x in
 * a used column, or no event; HS_ENUMERIC when an information matrix is
 * singular (R's solve() fails there too: e.g. all events at one time) or a
 * risk score overflows; HS_ENOMEM.
 */
int hs_zph_test(hs_zph **out, const double *time, const int *status, const double *x, size_t n, size_t p,
                const int *strata, const double *coef, int ties, const size_t *term_of_col, size_t nterm,
                hs_error *err) HS_RESULT_USED;

/* Frees z and its arrays; NULL is a no-op. */
void hs_zph_free(hs_zph *z);

/*
 * The same test in two steps, so that the part that does not depend on the
 * coefficients (merging and ordering the times, the km transform, ordering
 * and centring X) can run while the Cox model is being fitted.
 *
 * hs_zph_prepare takes the arguments of hs_zph_test that describe the data
 * (every column of x is used; x must stay valid and unchanged until
 * hs_zph_finish) and fails like hs_zph_test for bad data.  hs_zph_finish
 * takes the p coefficients, all finite (drop aliased columns before
 * preparing, or use hs_zph_test), and gives the same *out as hs_zph_test.
 * hs_zph_prep_free frees the preparation; NULL is a no-op.
 */
typedef struct hs_zph_prep hs_zph_prep;
int hs_zph_prepare(hs_zph_prep **out, const double *time, const int *status, const double *x, size_t n, size_t p,
                   const int *strata, hs_error *err) HS_RESULT_USED;
int hs_zph_finish(hs_zph **out, hs_zph_prep *pr, const double *coef, int ties, const size_t *term_of_col,
                  size_t nterm, hs_error *err) HS_RESULT_USED;
void hs_zph_prep_free(hs_zph_prep *pr);

#endif /* HS_ZPH_H */
