/*
 * Unit-test runner: registers every module's CUnit suite, runs them, and
 * exits non-zero when any assertion failed (CU_basic_run_tests() itself
 * returns success even then).  Prints one line "unit: N passed, N failed"
 * counting tests, which tests/run_unit.sh reads.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <gsl/gsl_errno.h>

#include "suites.h"

static int (*const suites[])(void) = {
    hs_suite_error, hs_suite_atomic, hs_suite_csv,    hs_suite_table, hs_suite_manifest,    hs_suite_timefix,
    hs_suite_km,    hs_suite_logrank, hs_suite_cox,  hs_suite_concordance, hs_suite_zph, hs_suite_maxstat, hs_suite_survival,
    hs_suite_slide, hs_suite_tiffwriter, hs_suite_tifflayout,
    hs_suite_metrics, hs_suite_qupath,
    hs_suite_simulate,
    hs_suite_stain, hs_suite_cells, hs_suite_score,
    hs_suite_cellstore, hs_suite_calib, hs_suite_batchcal, hs_suite_controls, hs_suite_ckpt, hs_suite_slurm,
    hs_suite_thumb, hs_suite_figures, hs_suite_cohortplot, hs_suite_report,
};

int main(int argc, char **argv)
{
    gsl_set_error_handler_off(); /* as hetsurv's main: every GSL status is checked */
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "test_unit: cannot initialise CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (suites[i]() != 0) {
            fprintf(stderr, "test_unit: cannot register suite %zu: %s\n", i, CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
    }
    CU_basic_set_mode(argc > 1 && strcmp(argv[1], "-v") == 0 ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
    if (CU_basic_run_tests() != CUE_SUCCESS) {
        fprintf(stderr, "test_unit: CUnit error: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    unsigned failed_asserts = CU_get_number_of_failures();
    unsigned run = CU_get_number_of_tests_run();
    unsigned failed = CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    printf("unit: %u passed, %u failed\n", run - failed, failed);
    return failed_asserts ? 1 : 0;
}
