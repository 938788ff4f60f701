/*
 * Unit tests of stats/timefix: hs_timefix against R survival 3.5-3's aeqSurv
 * and the (stratum, time) ordering of hs_timefix_order.
 *
 * The expected vectors were produced by this R code (times printed with
 * sprintf("%a") so that both sides hold identical doubles):
 *
 *   library(survival)
 *   hx <- function(x) ifelse(is.na(x), "NAN", ifelse(is.infinite(x), ifelse(x > 0, "INFINITY", "-INFINITY"), sprintf("%a", x)))
 *   show <- function(name, x) {
 *     y <- aeqSurv(Surv(x, rep(1, length(x))))[, 1]
 *     cat(sprintf("static const double %s_in[] = {%s};\n", name, paste(hx(x), collapse = ", ")))
 *     cat(sprintf("static const double %s_out[] = {%s};\n", name, paste(hx(y), collapse = ", ")))
 *   }
 *   show("chain", c(2, 1 + 3 * 2^-27, NA, 1, 1 + 2^-26, Inf, 1 + 2^-24, 1 + 2^-27, 1))
 *   show("rel", c(1e9 + 40, 1e9, 1e9 + 10, NA, 1e9 + 20, 5, 1e9 + 10))
 *   show("none", c(3, 1, Inf, 2, 1, NA))
 *   show("neg", c(2, -3 + 2^-30, 0, -3, 0.5, -3 + 2^-20))
 *   set.seed(20240611)
 *   k <- sample(1:400, 80, replace = TRUE)
 *   x <- ifelse(seq_along(k) %% 2 == 0, k / 30.44, k * (1 / 30.44))
 *   x[seq(5, 80, by = 9)] <- x[seq(5, 80, by = 9)] + 1e-9 * (1:9)
 *   show("days", x)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/timefix.h"
#include "suites.h"

static const double chain_in[] = {
    0x1p+1, 0x1.0000006p+0, NAN, 0x1p+0, 0x1.0000004p+0, INFINITY, 0x1.000001p+0, 0x1.0000002p+0, 0x1p+0
};
static const double chain_out[] = {
    0x1p+1, 0x1p+0, NAN, 0x1p+0, 0x1p+0, 0x1p+1, 0x1.000001p+0, 0x1p+0, 0x1p+0
};
static const double rel_in[] = {
    0x1.dcd6514p+29, 0x1.dcd65p+29, 0x1.dcd6505p+29, NAN, 0x1.dcd650ap+29, 0x1.4p+2, 0x1.dcd6505p+29
};
static const double rel_out[] = {
    0x1.dcd6514p+29, 0x1.dcd65p+29, 0x1.dcd65p+29, NAN, 0x1.dcd65p+29, 0x1.4p+2, 0x1.dcd65p+29
};
static const double none_in[] = {
    0x1.8p+1, 0x1p+0, INFINITY, 0x1p+1, 0x1p+0, NAN
};
static const double none_out[] = {
    0x1.8p+1, 0x1p+0, INFINITY, 0x1p+1, 0x1p+0, NAN
};
static const double neg_in[] = {
    0x1p+1, -0x1.7ffffffep+1, 0x0p+0, -0x1.8p+1, 0x1p-1, -0x1.7ffff8p+1
};
static const double neg_out[] = {
    0x1p+1, -0x1.8p+1, 0x0p+0, -0x1.8p+1, 0x1p-1, -0x1.7ffff8p+1
};
static const double days_in[] = {
    0x1.26597b7567465p+0, 0x1.08ea22501025bp+2, 0x1.7ea786e56ca83p+2, 0x1.30dcad9506644p+3,
    0x1.7c8d49acf94fcp+2, 0x1.2a8df5e873b8bp+2, 0x1.9b09c16e00ac4p+3, 0x1.84f63e91ff53cp+3,
    0x1.6bbb5fdfb4a58p+2, 0x1.9e311d444a02p+2, 0x1.1ce367f28b45p+3, 0x1.a47fd4f0dcad9p-1, 0x1.a47fd4f0dcadap-1,
    0x1.0c117e276c5c3p+3, 0x1.58cf38d9fca2dp+1, 0x1.69a122a62e6c5p+0, 0x1.3f945a27b1f49p+1,
    0x1.1ce367f28b44fp+3, 0x1.881d9a6848a99p+3, 0x1.82dc0158791a9p-1, 0x1.08ea22501025bp+3,
    0x1.bba07669a122ap+2, 0x1.8b44f641caa19p+2, 0x1.892ab9050bc62p+3, 0x1.372b6541990fdp+1,
    0x1.6dd59d193adebp+3, 0x1.a47fd4f0dcadap+3, 0x1.19bc0c1c41ef3p+3, 0x1.41ae9761382dcp+3,
    0x1.47fd4f0dcad95p+3, 0x1.58cf38d9fca2dp+2, 0x1.94bb09c393c22p+3, 0x1.d2c117e26597cp+2,
    0x1.f89965edd59d1p-1, 0x1.2ca83321f9f1ep+2, 0x1.26597b7567465p+1, 0x1.2b9b148536d55p+3,
    0x1.6cc87e7c77c21p+3, 0x1.1ac92ab9050bdp+3, 0x1.2ec2705b802b1p+1, 0x1.a158791d4289bp+3,
    0x1.93adeb24aae41p+1, 0x1.7ea786e56ca83p+2, 0x1.029b6aa37d7a2p+3, 0x1.61382dc015879p-1,
    0x1.0d1e9cc31c981p-3, 0x1.6aae4142f188fp+3, 0x1.90868f4e618e4p+3, 0x1.a04b5a7dd03b4p+3,
    0x1.656ca8365a9c3p+3, 0x1.0d1e9cc31c981p-1, 0x1.32f6eace8c9d7p+2, 0x1.9193adeb24aaep+2,
    0x1.6cc87e7c77c21p+3, 0x1.372b6541990fdp+3, 0x1.1045f89965eddp+3, 0x1.61382dc015879p+0,
    0x1.e7c77c21a3d39p+0, 0x1.2a8df5eff7ddep+2, 0x1.ebfbf694b045fp+1, 0x1.8b44f63e91ff5p+2,
    0x1.a8b44f63e91ffp+1, 0x1.1ac92ab9050bdp+3, 0x1.7965edd59d193p+3, 0x1.9e311d444a021p+3,
    0x1.1df0868f4e619p+2, 0x1.58cf38d9fca2dp+2, 0x1.26597b7dfe4c4p+2, 0x1.92a0cc87e7c78p+3,
    0x1.1efda52c117e2p+3, 0x1.58cf38d9fca2dp+3, 0x1.d6f59255720a1p-2, 0x1.44d5f33781839p+3,
    0x1.3b5fdfb4a5823p+3, 0x1.3f945a27b1f49p+1, 0x1.87107bcb858cfp+3, 0x1.742454cf7770fp+2,
    0x1.8b44f63e91ff5p+1, 0x1.df5e873b8aeeep+0, 0x1.dd444a0204b5ap+2
};
static const double days_out[] = {
    0x1.26597b7567465p+0, 0x1.08ea22501025bp+2, 0x1.7ea786e56ca83p+2, 0x1.30dcad9506644p+3,
    0x1.7c8d49acf94fcp+2, 0x1.2a8df5e873b8bp+2, 0x1.9b09c16e00ac4p+3, 0x1.84f63e91ff53cp+3,
    0x1.6bbb5fdfb4a58p+2, 0x1.9e311d444a02p+2, 0x1.1ce367f28b44fp+3, 0x1.a47fd4f0dcad9p-1, 0x1.a47fd4f0dcad9p-1,
    0x1.0c117e276c5c3p+3, 0x1.58cf38d9fca2dp+1, 0x1.69a122a62e6c5p+0, 0x1.3f945a27b1f49p+1,
    0x1.1ce367f28b44fp+3, 0x1.881d9a6848a99p+3, 0x1.82dc0158791a9p-1, 0x1.08ea22501025bp+3,
    0x1.bba07669a122ap+2, 0x1.8b44f63e91ff5p+2, 0x1.892ab9050bc62p+3, 0x1.372b6541990fdp+1,
    0x1.6dd59d193adebp+3, 0x1.a47fd4f0dcadap+3, 0x1.19bc0c1c41ef3p+3, 0x1.41ae9761382dcp+3,
    0x1.47fd4f0dcad95p+3, 0x1.58cf38d9fca2dp+2, 0x1.94bb09c393c22p+3, 0x1.d2c117e26597cp+2,
    0x1.f89965edd59d1p-1, 0x1.2ca83321f9f1ep+2, 0x1.26597b7567465p+1, 0x1.2b9b148536d55p+3,
    0x1.6cc87e7c77c21p+3, 0x1.1ac92ab9050bdp+3, 0x1.2ec2705b802b1p+1, 0x1.a158791d4289bp+3,
    0x1.93adeb24aae41p+1, 0x1.7ea786e56ca83p+2, 0x1.029b6aa37d7a2p+3, 0x1.61382dc015879p-1,
    0x1.0d1e9cc31c981p-3, 0x1.6aae4142f188fp+3, 0x1.90868f4e618e4p+3, 0x1.a04b5a7dd03b4p+3,
    0x1.656ca8365a9c3p+3, 0x1.0d1e9cc31c981p-1, 0x1.32f6eace8c9d7p+2, 0x1.9193adeb24aaep+2,
    0x1.6cc87e7c77c21p+3, 0x1.372b6541990fdp+3, 0x1.1045f89965eddp+3, 0x1.61382dc015879p+0,
    0x1.e7c77c21a3d39p+0, 0x1.2a8df5e873b8bp+2, 0x1.ebfbf694b045fp+1, 0x1.8b44f63e91ff5p+2,
    0x1.a8b44f63e91ffp+1, 0x1.1ac92ab9050bdp+3, 0x1.7965edd59d193p+3, 0x1.9e311d444a021p+3,
    0x1.1df0868f4e619p+2, 0x1.58cf38d9fca2dp+2, 0x1.26597b7dfe4c4p+2, 0x1.92a0cc87e7c78p+3,
    0x1.1efda52c117e2p+3, 0x1.58cf38d9fca2dp+3, 0x1.d6f59255720a1p-2, 0x1.44d5f33781839p+3,
    0x1.3b5fdfb4a5823p+3, 0x1.3f945a27b1f49p+1, 0x1.87107bcb858cfp+3, 0x1.742454cf7770fp+2,
    0x1.8b44f63e91ff5p+1, 0x1.df5e873b8aeeep+0, 0x1.dd444a0204b5ap+2
};

/* Exact comparison: same double, or both NAN. */
static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void check_fix(const double *in, const double *expect, size_t n)
{
    double *x = malloc(n * sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    memcpy(x, in, n * sizeof *x);
    hs_error err;
    CU_ASSERT_EQUAL(hs_timefix(x, n, &err), HS_OK);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT(same(x[i], expect[i]));
    free(x);
}

#define CHECK_FIX(name) check_fix(name##_in, name##_out, sizeof name##_in / sizeof name##_in[0])

/* a chain of near-ties 2^-27 apart collapses onto its first value; +Inf goes to the last cut */
static void test_chain(void) { CHECK_FIX(chain); }

/* relative tolerance: mean(|t|) ~ 8e8 makes gaps of 10 ties, a gap of 20 does not */
static void test_relative(void) { CHECK_FIX(rel); }

/* nothing tied: R returns its input, +Inf included */
static void test_none(void) { CHECK_FIX(none); }

static void test_negative(void) { CHECK_FIX(neg); }

/* times in months computed as k/30.44 and k*(1/30.44), plus perturbations of 1e-9..9e-9 */
static void test_days(void) { CHECK_FIX(days); }

static void test_edge(void)
{
    hs_error err;
    CU_ASSERT_EQUAL(hs_timefix(NULL, 0, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_timefix(NULL, 3, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(err.code, HS_EINVAL);
    double one[1] = {5};
    CU_ASSERT_EQUAL(hs_timefix(one, 1, NULL), HS_OK);
    CU_ASSERT_EQUAL(one[0], 5);
    /* -Inf stays (R's result is malformed there) */
    double x[4] = {-INFINITY, 1, 1 + 0x1p-30, 2};
    CU_ASSERT_EQUAL(hs_timefix(x, 4, NULL), HS_OK);
    CU_ASSERT(x[0] == -INFINITY && x[1] == 1 && x[2] == 1 && x[3] == 2);
}

/* the sorted variant gives the same map on sorted input and rejects unsorted input */
static void test_sorted(void)
{
    double x[] = {-INFINITY, 1, 0x1.0000002p+0, 0x1.0000004p+0, 0x1.0000006p+0, 0x1.000001p+0, 2, INFINITY, NAN};
    const double want[] = {-INFINITY, 1, 1, 1, 1, 0x1.000001p+0, 2, 2, NAN};
    CU_ASSERT_EQUAL(hs_timefix_sorted(x, 9, NULL), HS_OK);
    for (size_t i = 0; i < 9; i++)
        CU_ASSERT(same(x[i], want[i]));
    double y[] = {1, 3, 2};
    hs_error err;
    CU_ASSERT_EQUAL(hs_timefix_sorted(y, 3, &err), HS_EINVAL);
    CU_ASSERT(y[0] == 1 && y[1] == 3 && y[2] == 2);
    double z[] = {1, NAN, INFINITY};
    CU_ASSERT_EQUAL(hs_timefix_sorted(z, 3, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_timefix_sorted(NULL, 0, &err), HS_OK);
}

static void test_order(void)
{
    const double t[] = {3, NAN, 1, -0.0, 2, 0.0, 1, -5, INFINITY, 1};
    const int s[] = {1, 0, 1, 0, 0, 1, 0, 1, 0, 1};
    size_t ord[10];
    hs_error err;
    CU_ASSERT_EQUAL(hs_timefix_order(t, NULL, 10, ord, &err), HS_OK);
    /* stable: equal times keep input order, -0 == 0, NAN last */
    const size_t e1[] = {7, 3, 5, 2, 6, 9, 4, 0, 8, 1};
    for (size_t i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(ord[i], e1[i]);
    CU_ASSERT_EQUAL(hs_timefix_order(t, s, 10, ord, &err), HS_OK);
    const size_t e2[] = {3, 6, 4, 8, 1, 7, 5, 2, 9, 0};
    for (size_t i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(ord[i], e2[i]);
    /* negative and large stratum codes order numerically */
    const int s2[] = {7, -2, 7, 100000, -2, 0, 7, 0, -2, 7};
    CU_ASSERT_EQUAL(hs_timefix_order(t, s2, 10, ord, &err), HS_OK);
    const size_t e3[] = {4, 8, 1, 7, 5, 2, 6, 9, 0, 3};
    for (size_t i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(ord[i], e3[i]);
    CU_ASSERT_EQUAL(hs_timefix_order(NULL, NULL, 2, ord, &err), HS_EINVAL);
}

/* a large vector: sorted order agrees with a comparison sort, ties stable */
static const double *cmp_time;
static int cmp_by_time(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (cmp_time[i] < cmp_time[j])
        return -1;
    if (cmp_time[i] > cmp_time[j])
        return 1;
    return (i > j) - (i < j);
}

static void test_order_large(void)
{
    const size_t n = 100000;
    double *t = malloc(n * sizeof *t);
    size_t *ord = malloc(n * sizeof *ord), *ref = malloc(n * sizeof *ref);
    CU_ASSERT_FATAL(t && ord && ref);
    unsigned long long state = 12345;
    for (size_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        t[i] = (double)(state >> 40) / 1024.0 - 4096.0; /* many ties, negatives */
        ref[i] = i;
    }
    CU_ASSERT_EQUAL(hs_timefix_order(t, NULL, n, ord, NULL), HS_OK);
    cmp_time = t;
    qsort(ref, n, sizeof *ref, cmp_by_time);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += ord[i] != ref[i];
    CU_ASSERT_EQUAL(bad, 0);
    free(t);
    free(ord);
    free(ref);
}

int hs_suite_timefix(void)
{
    CU_pSuite s = CU_add_suite("timefix", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "aeqSurv chain of near-ties", test_chain) ||
        !CU_add_test(s, "aeqSurv relative tolerance", test_relative) ||
        !CU_add_test(s, "aeqSurv nothing tied", test_none) ||
        !CU_add_test(s, "aeqSurv negative times", test_negative) ||
        !CU_add_test(s, "aeqSurv days/30.44", test_days) ||
        !CU_add_test(s, "edge cases", test_edge) ||
        !CU_add_test(s, "sorted variant", test_sorted) ||
        !CU_add_test(s, "order by stratum and time", test_order) ||
        !CU_add_test(s, "order of 1e5 times", test_order_large))
        return -1;
    return 0;
}
