/*
 * The CUnit suites of hetsurv's unit tests: one registration function per
 * module, each adding its suite to the current registry and returning 0, or
 * non-zero on a registry error.
 */
#ifndef HS_TEST_SUITES_H
#define HS_TEST_SUITES_H

#include <CUnit/CUnit.h>
#include <math.h>

int hs_suite_error(void);
int hs_suite_atomic(void);
int hs_suite_csv(void);
int hs_suite_table(void);
int hs_suite_manifest(void);
int hs_suite_timefix(void);
int hs_suite_km(void);
int hs_suite_logrank(void);
int hs_suite_cox(void);
int hs_suite_concordance(void);
int hs_suite_zph(void);
int hs_suite_maxstat(void);
int hs_suite_survival(void);
int hs_suite_slide(void);
int hs_suite_tiffwriter(void);
int hs_suite_tifflayout(void);
int hs_suite_metrics(void);
int hs_suite_qupath(void);
int hs_suite_simulate(void);
int hs_suite_stain(void);
int hs_suite_cells(void);
int hs_suite_score(void);
int hs_suite_cellstore(void);
int hs_suite_calib(void);
int hs_suite_batchcal(void);
int hs_suite_controls(void);
int hs_suite_ckpt(void);
int hs_suite_slurm(void);
int hs_suite_thumb(void);
int hs_suite_figures(void);
int hs_suite_cohortplot(void);
int hs_suite_report(void);

/* Relative-or-absolute closeness: |a-b| <= tol * max(1, |b|). */
#define HS_ASSERT_CLOSE(a, b, tol) \
    CU_ASSERT(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))

#endif
