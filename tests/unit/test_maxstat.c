/*
 * Unit tests of stats/maxstat against R 4.2.2 with maxstat 0.7-25 and
 * exactRankTests 0.8-35 (Debian 12).  Data D, ties in time and in x:
 *   time   <- c(5, 3, 8, 3, 12, 7, 5, 2, 9, 3, 6, 10, 4, 11, 1, 8)
 *   status <- c(1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0)
 *   x      <- c(2.5, 1.0, 3.5, 1.0, 4.0, 2.0, 2.5, 0.5, 3.0, 1.5, 2.0, 4.5, 3.0, 1.0, 0.5, 3.5)
 *   m <- maxstat.test(Surv(time, status) ~ x, data = data.frame(time, status, x),
 *                     smethod = "LogRank", pmethod = "Lau92")
 * Numbers printed with sprintf("%.17g").  Larger datasets are checked by the
 * oracle tests (tests/oracle, cases *_cut_optimal).
 */
#include <math.h>
#include <stdlib.h>

#include "stats/maxstat.h"
#include "suites.h"

#define TOL 1e-12

static const double d_time[] = {5, 3, 8, 3, 12, 7, 5, 2, 9, 3, 6, 10, 4, 11, 1, 8};
static const int d_status[] = {1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0};
static const double d_x[] = {2.5, 1.0, 3.5, 1.0, 4.0, 2.0, 2.5, 0.5, 3.0, 1.5, 2.0, 4.5, 3.0, 1.0, 0.5, 3.5};
enum { ND = 16 };

/* cscores(Surv(time, status), type = "LogRank") */
static void test_scores(void)
{
    static const double want[ND] = {
        0.48194444444444451, 0.70416666666666661,  -0.7859126984126984,  0.70416666666666661,
        -1.6192460317460318, 0.2140873015873016,   0.48194444444444451,  0.87083333333333335,
        -0.7859126984126984, -0.29583333333333334, 0.35694444444444451,  -0.11924603174603177,
        -0.29583333333333334, -0.61924603174603177, 0.9375,              -0.7859126984126984};
    double s[ND];
    CU_ASSERT_EQUAL_FATAL(hs_maxstat_scores(d_time, d_status, ND, s, NULL), HS_OK);
    for (int i = 0; i < ND; i++)
        HS_ASSERT_CLOSE(s[i], want[i], TOL);
    CU_ASSERT_EQUAL(hs_maxstat_scores(d_time, d_status, 0, NULL, NULL), HS_OK);
    int bad[ND];
    for (int i = 0; i < ND; i++)
        bad[i] = d_status[i];
    bad[3] = 2;
    CU_ASSERT_EQUAL(hs_maxstat_scores(d_time, bad, ND, s, NULL), HS_EINVAL);
}

/* m$statistic, m$estimate, m$p.value, m$cuts, m$stats */
static void test_statistic(void)
{
    hs_maxstat *m = NULL;
    CU_ASSERT_EQUAL_FATAL(
        hs_maxstat_logrank(&m, d_time, d_status, d_x, ND, HS_MAXSTAT_MINPROP, HS_MAXSTAT_MAXPROP, NULL), HS_OK);
    HS_ASSERT_CLOSE(m->statistic, 2.9052445560964975, TOL);
    CU_ASSERT_EQUAL(m->estimate, 2.5);
    CU_ASSERT_EQUAL(m->cut_above, 3.0); /* the next observed value: high = x >= 3 */
    HS_ASSERT_CLOSE(m->p, 0.074051588197176804, TOL);
    CU_ASSERT_EQUAL(m->n, ND);
    static const double cuts[] = {0.5, 1, 1.5, 2, 2.5, 3, 3.5};
    static const double stats[] = {1.9087974011448015, 2.009809117346574,  1.7429262844835764, 2.1182144662013718,
                                   2.9052445560964975, 2.4622320001419999, 1.6966191608653924};
    CU_ASSERT_EQUAL_FATAL(m->ncut, 7);
    for (int k = 0; k < 7; k++) {
        CU_ASSERT_EQUAL(m->cut[k], cuts[k]);
        HS_ASSERT_CLOSE(m->stat[k], stats[k], TOL);
    }
    hs_maxstat_free(m);

    /* rows in another order give the same answer */
    double t2[ND], x2[ND];
    int s2[ND];
    for (int i = 0; i < ND; i++) {
        t2[i] = d_time[ND - 1 - i];
        s2[i] = d_status[ND - 1 - i];
        x2[i] = d_x[ND - 1 - i];
    }
    CU_ASSERT_EQUAL_FATAL(hs_maxstat_logrank(&m, t2, s2, x2, ND, 0.1, 0.9, NULL), HS_OK);
    HS_ASSERT_CLOSE(m->statistic, 2.9052445560964975, TOL);
    CU_ASSERT_EQUAL(m->estimate, 2.5);
    hs_maxstat_free(m);

    /* minprop = 0, maxprop = 1: every cut but the first and the last (R gives the same 7 here) */
    CU_ASSERT_EQUAL_FATAL(hs_maxstat_logrank(&m, d_time, d_status, d_x, ND, 0, 1, NULL), HS_OK);
    CU_ASSERT_EQUAL(m->ncut, 7);
    CU_ASSERT_EQUAL(m->cut[0], 0.5);
    CU_ASSERT_EQUAL(m->cut[6], 3.5);
    CU_ASSERT_EQUAL(m->estimate, 2.5);
    hs_maxstat_free(m);
    hs_maxstat_free(NULL);
}

/* maxstat:::pLausen92(b, 0.1, 0.9) for b = 0.5, 1, 1.5, 2.5, 3.2, 6, and pLausen92(2.5, 0.2, 0.7) */
static void test_lau92(void)
{
    static const double b[] = {0.5, 1, 1.5, 2.5, 3.2, 6};
    static const double want[] = {1, 0.96788289807657346, 0.81967899576669856, 0.1898024538920039,
                                  0.033231738528677099, 1.5980151171076799e-07};
    for (int i = 0; i < 6; i++)
        HS_ASSERT_CLOSE(hs_maxstat_p_lau92(b[i], 0.1, 0.9) / want[i], 1.0, TOL);
    HS_ASSERT_CLOSE(hs_maxstat_p_lau92(2.5, 0.2, 0.7), 0.11026253963092432, TOL);
    CU_ASSERT_EQUAL(hs_maxstat_p_lau92(40, 0.1, 0.9), 0);
}

static void test_errors(void)
{
    hs_maxstat *m = (hs_maxstat *)&m;
    hs_error e;
    CU_ASSERT_EQUAL(hs_maxstat_logrank(&m, d_time, d_status, d_x, ND, 0.9, 0.1, &e), HS_EINVAL);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL(hs_maxstat_logrank(&m, NULL, d_status, d_x, ND, 0.1, 0.9, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_maxstat_logrank(NULL, d_time, d_status, d_x, ND, 0.1, 0.9, &e), HS_EINVAL);
    double x[ND];
    for (int i = 0; i < ND; i++)
        x[i] = d_x[i];
    x[4] = NAN;
    CU_ASSERT_EQUAL(hs_maxstat_logrank(&m, d_time, d_status, x, ND, 0.1, 0.9, &e), HS_EINVAL);
    /* one distinct value: no cut */
    for (int i = 0; i < ND; i++)
        x[i] = 7;
    CU_ASSERT_EQUAL(hs_maxstat_logrank(&m, d_time, d_status, x, ND, 0.1, 0.9, &e), HS_EDATA);
    CU_ASSERT_PTR_NULL(m);
    /* two values, the second held by only the last row: no cut between the quantiles
       (R: "no data between minprop, maxprop") */
    x[ND - 1] = 8;
    CU_ASSERT_EQUAL(hs_maxstat_logrank(&m, d_time, d_status, x, ND, 0.1, 0.9, &e), HS_EDATA);
    /* no events */
    int none[ND] = {0};
    CU_ASSERT_EQUAL(hs_maxstat_logrank(&m, d_time, none, d_x, ND, 0.1, 0.9, &e), HS_EDATA);
    CU_ASSERT_PTR_NULL(m);
}

int hs_suite_maxstat(void)
{
    CU_pSuite s = CU_add_suite("maxstat", NULL, NULL);
    if (!s || !CU_add_test(s, "log-rank scores (exactRankTests::cscores)", test_scores) ||
        !CU_add_test(s, "statistic, estimate, p (maxstat.test, Lau92)", test_statistic) ||
        !CU_add_test(s, "pLausen92", test_lau92) || !CU_add_test(s, "errors", test_errors))
        return 1;
    return 0;
}
