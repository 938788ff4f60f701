/*
 * Unit tests of the cohort figure's pure parts: the histogram's breaks and
 * bin counts against R's hist() (R 4, values in the comments), and the
 * counting of score rows and of a saved table (failed rows in no count).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures/canvas.h"
#include "figures/cohortplot.h"
#include "suites.h"
#include "tmpfiles.h"

static char *dir;

static int suite_init(void) { return hs_test_suite_init(&dir); }
static int suite_clean(void) { return hs_test_suite_clean(&dir); }

static void check_hist(const double *x, size_t n, const double *rb, const size_t *rc, size_t nb)
{
    double br[64];
    size_t counts[64];
    size_t got = hs_cohortplot_breaks(x, n, br, 64);
    CU_ASSERT_EQUAL_FATAL(got, nb);
    for (size_t j = 0; j < nb; j++)
        HS_ASSERT_CLOSE(br[j], rb[j], 1e-12);
    CU_ASSERT_EQUAL(hs_cohortplot_bin(x, n, br, nb, counts), n);
    for (size_t j = 0; j + 1 < nb; j++)
        CU_ASSERT_EQUAL(counts[j], rc[j]);
}

static void test_bins(void)
{
    /* hist(c(0.05,0.12,0.37,0.41,0.5,0.2,0.2)): breaks 0..0.5 by 0.1, counts 1 3 0 1 2 (0.2 and 0.5 right-closed) */
    static const double x1[] = {0.05, 0.12, 0.37, 0.41, 0.5, 0.2, 0.2}, b1[] = {0, 0.1, 0.2, 0.3, 0.4, 0.5};
    static const size_t c1[] = {1, 3, 0, 1, 2};
    check_hist(x1, 7, b1, c1, 6);
    /* hist(c(3,3,3)): breaks 2 4, counts 3 */
    static const double x2[] = {3, 3, 3}, b2[] = {2, 4};
    static const size_t c2[] = {3};
    check_hist(x2, 3, b2, c2, 2);
    /* hist(c(1,2,10,55,99,100)): breaks 0..100 by 20, counts 3 0 1 0 2 (0 is the lowest break, included) */
    static const double x3[] = {1, 2, 10, 55, 99, 100}, b3[] = {0, 20, 40, 60, 80, 100};
    static const size_t c3[] = {3, 0, 1, 0, 2};
    check_hist(x3, 6, b3, c3, 6);
    /* R's min.n = 1: pretty(c(0, 1), 3, min.n = 1) is 0 0.5 1 */
    double t[8];
    CU_ASSERT_EQUAL(hs_fig_pretty_min(0, 1, 3, 1, t, 8), 3);
    HS_ASSERT_CLOSE(t[1], 0.5, 1e-15);
    /* bad input */
    double nanx[] = {1, NAN};
    CU_ASSERT_EQUAL(hs_cohortplot_breaks(nanx, 2, t, 8), 0);
    CU_ASSERT_EQUAL(hs_cohortplot_breaks(x1, 0, t, 8), 0);
    /* a value a little outside the breaks (within R's fuzz) is counted, one further out is not */
    double e[] = {0.5 + 1e-10, 0.6}, b[] = {0, 0.5};
    size_t c[1];
    CU_ASSERT_EQUAL(hs_cohortplot_bin(e, 2, b, 2, c), 1);
    CU_ASSERT_EQUAL(c[0], 1);
}

static void test_rows(void)
{
    hs_score_row r[4];
    for (int i = 0; i < 4; i++) {
        hs_score_row_init(&r[i]);
        r[i].ok = 1;
        r[i].m.ihc_score = HS_CALL_2;
        r[i].m.her2_class = HS_HER2_EQUIVOCAL;
        r[i].m.pattern = HS_PATTERN_MOSAIC;
        r[i].m.heterogeneous = 1;
        r[i].m.entropy = 0.1 * (4 - i);
    }
    r[1].m.ihc_score = HS_CALL_NA; /* no tumour cells */
    r[1].m.her2_class = HS_HER2_NA;
    r[1].m.pattern = HS_PATTERN_NA;
    r[1].m.heterogeneous = -1;
    r[1].m.entropy = NAN;
    hs_score_row_fail(&r[3], "no such file"); /* failed: in no count */
    hs_cohortplot_data *d = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_cohortplot_from_rows(&d, r, 4, "entropy", &err), HS_OK);
    CU_ASSERT_EQUAL(d->nslide, 4);
    CU_ASSERT_EQUAL(d->nfailed, 1);
    CU_ASSERT_EQUAL(d->ihc[2], 2);
    CU_ASSERT_EQUAL(d->ihc[4], 1);
    CU_ASSERT_EQUAL(d->category[HS_HER2_EQUIVOCAL], 2);
    CU_ASSERT_EQUAL(d->category[5], 1);
    CU_ASSERT_EQUAL(d->pattern[HS_PATTERN_MOSAIC], 2);
    CU_ASSERT_EQUAL(d->pattern[4], 1);
    CU_ASSERT_EQUAL(d->nvalue, 2);
    CU_ASSERT_EQUAL(d->nmissing, 1);
    CU_ASSERT_FALSE(d->flag);
    HS_ASSERT_CLOSE(d->value[0], 0.2, 1e-15); /* sorted */
    HS_ASSERT_CLOSE(d->value[1], 0.4, 1e-15);
    hs_cohortplot_data_free(d);
    CU_ASSERT_EQUAL(hs_cohortplot_from_rows(&d, r, 4, "heterogeneous", &err), HS_OK);
    CU_ASSERT(d && d->flag && d->nvalue == 2 && d->nmissing == 1);
    hs_cohortplot_data_free(d);
    CU_ASSERT_EQUAL(hs_cohortplot_from_rows(&d, r, 4, "pattern", &err), HS_EINVAL); /* a text column */
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_EQUAL(hs_cohortplot_from_rows(&d, r, 0, "entropy", &err), HS_EINVAL);
    hs_cohortplot_data_free(NULL);
}

static void test_load(void)
{
    char *p = hs_test_write(dir, "slides.csv",
                            "patient_id,status,ihc_score,her2_class,pattern,tile_cv\n"
                            "a,ok,3+,positive,homogeneous,0.5\n"
                            "b,ok,0,ultralow,scattered,NA\n"
                            "c,error,NA,NA,NA,NA\n"
                            "d,ok,NA,NA,NA,NA\n",
                            HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    hs_cohortplot_data *d = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_cohortplot_load(&d, p, "tile_cv", &err), HS_OK);
    CU_ASSERT(d->nslide == 4 && d->nfailed == 1 && d->nvalue == 1 && d->nmissing == 2);
    CU_ASSERT(d->ihc[3] == 1 && d->ihc[0] == 1 && d->ihc[4] == 1);
    CU_ASSERT(d->category[HS_HER2_POSITIVE] == 1 && d->category[HS_HER2_ULTRALOW] == 1 && d->category[5] == 1);
    CU_ASSERT(d->pattern[HS_PATTERN_HOMOGENEOUS] == 1 && d->pattern[HS_PATTERN_SCATTERED] == 1 && d->pattern[4] == 1);
    /* the table's totals */
    char *tp = hs_test_path(dir, "t.csv");
    FILE *f = fopen(tp, "w");
    CU_ASSERT_EQUAL(hs_cohortplot_table(f, d, &err), HS_OK);
    fclose(f);
    hs_cohortplot_data_free(d);
    CU_ASSERT_EQUAL(hs_cohortplot_load(&d, p, "no_such", &err), HS_EDATA);
    CU_ASSERT_PTR_NULL(d);
    free(p);
    p = hs_test_write(dir, "bad.csv", "status,ihc_score,her2_class,pattern,m\nok,4+,low,mosaic,1\n", HS_TEST_STRLEN);
    CU_ASSERT_EQUAL(hs_cohortplot_load(&d, p, "m", &err), HS_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'4+' is not an IHC score"));
    free(p);
    free(tp);
}

int hs_suite_cohortplot(void)
{
    CU_pSuite s = CU_add_suite("cohortplot", suite_init, suite_clean);
    if (!s || !CU_add_test(s, "histogram breaks and counts as R's hist()", test_bins) ||
        !CU_add_test(s, "counts of score rows", test_rows) || !CU_add_test(s, "counts of a saved table", test_load))
        return -1;
    return 0;
}
