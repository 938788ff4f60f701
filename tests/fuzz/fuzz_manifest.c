/*
 * fuzz_manifest: a cohort manifest (CSV) through hs_manifest_read, as
 * `validate`, `score --manifest` and `run` read it (slides not checked), then
 * its validation report and, when valid, its cohort-table rows.
 */
#include "tests/fuzz/fuzz_common.h"

#include "cohorts/cohorttable.h"
#include "cohorts/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const factors[] = {"grade"};
    const char *path = fz_file(0, "manifest.csv", data, size);
    hs_manifest *m = NULL;
    hs_error err;
    if (hs_manifest_read(&m, path, factors, 1, 0, &err) == HS_OK) {
        FILE *f = fz_null();
        hs_manifest_report(f, m);
        /* score --manifest and run write the cohort table of a valid manifest only */
        if (!m->nerror) {
            hs_cohorttable_header(f, m);
            for (size_t i = 0; i < m->npatient; i++)
                hs_cohorttable_row(f, m, i);
        }
        hs_manifest_free(m);
    }
    return 0;
}
