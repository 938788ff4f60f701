/*
 * Unit tests of stats/logrank against R survival 3.5-3's survdiff (Rscript on
 * Debian 12, R 4.2.2).  The reference arrays were printed by this R code
 * (obs/exp summed over strata, var row-major, test = c(chisq, pvalue)):
 *
 *   library(survival)
 *   f17 <- function(x) ifelse(is.na(x), "NAN", ifelse(is.infinite(x), ifelse(x > 0, "INFINITY", "-INFINITY"), sprintf("%.17g", x)))
 *   carr <- function(name, x) cat(sprintf("static const double %s[] = {%s};\n", name, paste(f17(x), collapse = ", ")))
 *   iarr <- function(name, x) cat(sprintf("static const int %s[] = {%s};\n", name, paste(x, collapse = ", ")))
 *   out <- function(tag, sd) {
 *     carr(paste0(tag, "_obs"), if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs)
 *     carr(paste0(tag, "_exp"), if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp)
 *     carr(paste0(tag, "_var"), as.vector(t(sd$var)))
 *     carr(paste0(tag, "_test"), c(sd$chisq, sd$pvalue))
 *   }
 *   # data: 30 rows, ties, censoring at event times, 3 groups, 2 strata
 *   time <- c(4, 1, 2, 2, 7, 1, 3, 4, 5, 10, 6, 2, 7, 8, 9, 10, 12, 15, 4, 12, 3, 5, 5, 8, 11, 11, 2, 6, 9, 14)
 *   status <- c(1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1)
 *   grp <- c(0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 1, 1, 0, 2, 2, 0, 1, 0, 2, 1)
 *   str <- c(rep(0, 12), rep(3, 10), rep(1, 8))
 *   carr("lr_time", time); iarr("lr_status", status); iarr("lr_group", grp); iarr("lr_strata", str)
 *   g2 <- grp != 2
 *   out("two", survdiff(Surv(time, status) ~ grp, subset = g2))
 *   out("three", survdiff(Surv(time, status) ~ grp))
 *   out("three_rho1", survdiff(Surv(time, status) ~ grp, rho = 1))
 *   out("strat", survdiff(Surv(time, status) ~ grp + strata(str)))
 *   out("strat_rho1", survdiff(Surv(time, status) ~ grp + strata(str), rho = 1))
 *   out("strat_rho05", survdiff(Surv(time, status) ~ grp + strata(str), rho = 0.5))
 */
#include <math.h>
#include <stdlib.h>

#include "stats/logrank.h"
#include "suites.h"

#define TOL 1e-10
#define NROW (sizeof lr_time / sizeof lr_time[0])

static const double lr_time[] = {
    4, 1, 2, 2, 7, 1, 3, 4, 5, 10, 6, 2, 7, 8, 9, 10, 12, 15, 4, 12, 3, 5, 5, 8, 11, 11, 2, 6, 9, 14
};
static const int lr_status[] = {
    1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1
};
static const int lr_group[] = {
    0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 1, 1, 0, 2, 2, 0, 1, 0, 2, 1
};
static const int lr_strata[] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1
};
static const double two_obs[] = {
    4, 11
};
static const double two_exp[] = {
    5.7198357198357197, 9.2801642801642803
};
static const double two_var[] = {
    2.8763972249942422, -2.8763972249942422, -2.8763972249942422, 2.8763972249942418
};
static const double two_test[] = {
    1.028312389374096, 0.31055536869032496
};
static const double three_obs[] = {
    4, 11, 4
};
static const double three_exp[] = {
    5.1085383914331279, 7.9242652084757346, 5.9671964000911357
};
static const double three_var[] = {
    3.2773829869616034, -1.7954258499513323, -1.4819571370102707, -1.7954258499513323, 4.049524792061538,
    -2.2540989421102058, -1.4819571370102707, -2.2540989421102058, 3.7360560791204755
};
static const double three_test[] = {
    2.3623467487982519, 0.3069183970449828
};
static const double three_rho1_obs[] = {
    2.8854407562466768, 6.9886751198248938, 2.8996551659688996
};
static const double three_rho1_exp[] = {
    3.9130342798876927, 4.9700912678387494, 3.8906454943140285
};
static const double three_rho1_var[] = {
    1.9864298886851639, -1.0963690556581316, -0.89006083302703287, -1.0963690556581316, 2.1151866352613538,
    -1.0188175796032224, -0.89006083302703276, -1.0188175796032224, 1.9088784126302556
};
static const double three_rho1_test[] = {
    1.9266396858495718, 0.38162384940324068
};
static const double strat_obs[] = {
    4, 11, 4
};
static const double strat_exp[] = {
    5.9249999999999998, 8.2166666666666668, 4.8583333333333334
};
static const double strat_var[] = {
    3.0336931818181814, -1.8129924242424242, -1.2207007575757576, -1.8129924242424242, 3.3304292929292929,
    -1.5174368686868689, -1.2207007575757576, -1.5174368686868689, 2.7381376262626267
};
static const double strat_test[] = {
    2.4081724630390338, 0.29996597377171202
};
static const double strat_rho1_obs[] = {
    2.5231481481481484, 7.7962962962962958, 3.1458333333333335
};
static const double strat_rho1_exp[] = {
    3.885416666666667, 5.6215277777777777, 3.958333333333333
};
static const double strat_rho1_var[] = {
    1.9374134428778522, -1.0328209028946875, -0.90459253998316502, -1.0328209028946875, 2.0646867839272351,
    -1.0318658810325476, -0.90459253998316513, -1.0318658810325476, 1.9364584210157127
};
static const double strat_rho1_test[] = {
    2.3437085745006154, 0.30979196505365775
};
static const double strat_rho05_obs[] = {
    3.0496820362562387, 9.1073843061259545, 3.5305461088312167
};
static const double strat_rho05_exp[] = {
    4.6178300453125178, 6.700548865964838, 4.3692335399360527
};
static const double strat_rho05_var[] = {
    2.3327132435465767, -1.2948828563411896, -1.0378303872053871, -1.2948828563411896, 2.527690095398428,
    -1.2328072390572389, -1.0378303872053873, -1.2328072390572391, 2.2706376262626269
};
static const double strat_rho05_test[] = {
    2.3590558544243483, 0.30742383077624158
};

static void check_result(const hs_logrank *lr, size_t ng, const double *obs, const double *exp, const double *var,
                         const double *test, int df)
{
    CU_ASSERT_EQUAL_FATAL(lr->ngroup, ng);
    for (size_t k = 0; k < ng; k++) {
        HS_ASSERT_CLOSE(lr->obs[k], obs[k], TOL);
        HS_ASSERT_CLOSE(lr->exp[k], exp[k], TOL);
    }
    for (size_t k = 0; k < ng * ng; k++)
        HS_ASSERT_CLOSE(lr->var[k], var[k], TOL);
    HS_ASSERT_CLOSE(lr->chisq, test[0], TOL);
    HS_ASSERT_CLOSE(lr->p, test[1], TOL);
    CU_ASSERT_EQUAL(lr->df, df);
}

static void run(const int *strata, double rho, const double *obs, const double *exp, const double *var,
                const double *test)
{
    hs_logrank *lr = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_logrank_test(&lr, lr_time, lr_status, lr_group, 3, strata, NROW, rho, &err), HS_OK);
    check_result(lr, 3, obs, exp, var, test, 2);
    hs_logrank_free(lr);
}

/* the rows of groups 0 and 1 only (R: subset = grp != 2) */
static void test_two(void)
{
    double t[NROW];
    int s[NROW], g[NROW];
    size_t m = 0;
    for (size_t i = 0; i < NROW; i++) {
        if (lr_group[i] != 2) {
            t[m] = lr_time[i];
            s[m] = lr_status[i];
            g[m++] = lr_group[i];
        }
    }
    hs_logrank *lr = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_logrank_test(&lr, t, s, g, 2, NULL, m, 0, NULL), HS_OK);
    check_result(lr, 2, two_obs, two_exp, two_var, two_test, 1);
    hs_logrank_free(lr);

    /* a declared but empty third group changes nothing but the array sizes */
    CU_ASSERT_EQUAL_FATAL(hs_logrank_test(&lr, t, s, g, 3, NULL, m, 0, NULL), HS_OK);
    CU_ASSERT_EQUAL(lr->df, 1);
    HS_ASSERT_CLOSE(lr->chisq, two_test[0], TOL);
    HS_ASSERT_CLOSE(lr->p, two_test[1], TOL);
    CU_ASSERT(lr->obs[2] == 0 && lr->exp[2] == 0 && lr->var[8] == 0 && lr->var[2] == 0 && lr->var[6] == 0);
    HS_ASSERT_CLOSE(lr->var[4], two_var[3], TOL);
    hs_logrank_free(lr);
}

static void test_three(void) { run(NULL, 0, three_obs, three_exp, three_var, three_test); }
static void test_three_rho1(void) { run(NULL, 1, three_rho1_obs, three_rho1_exp, three_rho1_var, three_rho1_test); }
static void test_strata(void) { run(lr_strata, 0, strat_obs, strat_exp, strat_var, strat_test); }
static void test_strata_rho1(void) { run(lr_strata, 1, strat_rho1_obs, strat_rho1_exp, strat_rho1_var, strat_rho1_test); }
static void test_strata_rho05(void)
{
    run(lr_strata, 0.5, strat_rho05_obs, strat_rho05_exp, strat_rho05_var, strat_rho05_test);
}

/*
 * Edge cases, from this R code:
 *   library(survival)
 *   # (a) group 2's subjects are all censored before the first death: E = 0 for it, df = 0
 *   a <- survdiff(Surv(c(2, 3, 1, 1.5), c(1, 0, 0, 0)) ~ c(1, 1, 2, 2)); print(unclass(a)[c("obs","exp","var","chisq","pvalue")])
 *   # (b) no events at all
 *   b <- survdiff(Surv(c(1, 2, 3, 4), c(0, 0, 0, 0)) ~ c(1, 1, 2, 2)); print(unclass(b)[c("obs","exp","var","chisq","pvalue")])
 *   # (c) a single group
 *   print(try(survdiff(Surv(c(1, 2, 3, 4), c(1, 0, 1, 0)) ~ c(1, 1, 1, 1))))
 *   # (d) singular: group 3 is only ever at risk alone (own stratum, one subject)
 *   print(try(survdiff(Surv(c(1, 2, 3, 5), c(1, 1, 0, 1)) ~ c(1, 2, 1, 3) + strata(c(1, 1, 1, 2)))))
 *   # (e) E = 0 for the first group: dropped rule picks the first with E > 0
 *   e <- survdiff(Surv(c(0.5, 2, 3, 4, 5, 6), c(0, 1, 1, 0, 1, 0)) ~ c(1, 2, 3, 2, 3, 2)); print(unclass(e)[c("obs","exp","var","chisq","pvalue")], digits=17)
 * giving: (a) obs 1 0, exp 1 0, var 0, chisq 0, pvalue 1; (b) obs 0 0, exp 0 0,
 * chisq 0, pvalue NaN; (c) error "There is only 1 group"; (d) error "Lapack
 * routine dgesv: system is exactly singular"; (e) obs 0 1 2,
 * exp 0 1.6000000000000001 1.3999999999999999, var rows (0 0 0),
 * (0 0.74000000000000010 -0.73999999999999999), (0 -0.73999999999999999 0.73999999999999999),
 * chisq 0.48648648648648662, pvalue 0.4854988026442823.
 */
static void test_edges(void)
{
    hs_logrank *lr = NULL;
    hs_error err;
    {   /* (a) the second group has E = 0: df 0 */
        const double t[] = {2, 3, 1, 1.5};
        const int s[] = {1, 0, 0, 0}, g[] = {0, 0, 1, 1};
        CU_ASSERT_EQUAL_FATAL(hs_logrank_test(&lr, t, s, g, 2, NULL, 4, 0, &err), HS_OK);
        CU_ASSERT(lr->obs[0] == 1 && lr->obs[1] == 0 && lr->exp[0] == 1 && lr->exp[1] == 0);
        for (int k = 0; k < 4; k++)
            CU_ASSERT_EQUAL(lr->var[k], 0);
        CU_ASSERT(lr->chisq == 0 && lr->df == 0 && lr->p == 1);
        hs_logrank_free(lr);
    }
    {   /* (b) no events */
        const double t[] = {1, 2, 3, 4};
        const int s[] = {0, 0, 0, 0}, g[] = {0, 0, 1, 1};
        CU_ASSERT_EQUAL_FATAL(hs_logrank_test(&lr, t, s, g, 2, NULL, 4, 0, &err), HS_OK);
        CU_ASSERT(lr->chisq == 0 && lr->df == -1 && isnan(lr->p));
        hs_logrank_free(lr);
    }
    {   /* (c) one group */
        const double t[] = {1, 2, 3, 4};
        const int s[] = {1, 0, 1, 0}, g[] = {0, 0, 0, 0};
        lr = (hs_logrank *)1;
        CU_ASSERT_EQUAL(hs_logrank_test(&lr, t, s, g, 1, NULL, 4, 0, &err), HS_EDATA);
        CU_ASSERT_PTR_NULL(lr);
        CU_ASSERT_EQUAL(hs_logrank_test(&lr, t, s, g, 2, NULL, 4, 0, &err), HS_EDATA);
    }
    {   /* (d) singular reduced variance */
        const double t[] = {1, 2, 3, 5};
        const int s[] = {1, 1, 0, 1}, g[] = {0, 1, 0, 2}, st[] = {1, 1, 1, 2};
        CU_ASSERT_EQUAL(hs_logrank_test(&lr, t, s, g, 3, st, 4, 0, &err), HS_ENUMERIC);
        CU_ASSERT_PTR_NULL(lr);
        CU_ASSERT_EQUAL(err.code, HS_ENUMERIC);
    }
    {   /* (e) the first group has E = 0, so the second is the one dropped */
        const double t[] = {0.5, 2, 3, 4, 5, 6};
        const int s[] = {0, 1, 1, 0, 1, 0}, g[] = {0, 1, 2, 1, 2, 1};
        CU_ASSERT_EQUAL_FATAL(hs_logrank_test(&lr, t, s, g, 3, NULL, 6, 0, &err), HS_OK);
        const double obs[] = {0, 1, 2}, exp[] = {0, 1.6000000000000001, 1.3999999999999999};
        const double var[] = {0, 0, 0, 0, 0.74000000000000010, -0.73999999999999999,
                              0, -0.73999999999999999, 0.73999999999999999};
        const double test[] = {0.48648648648648662, 0.4854988026442823};
        check_result(lr, 3, obs, exp, var, test, 1);
        hs_logrank_free(lr);
    }
}

/*
 * A row with a NAN time is dropped, as R's na.omit:
 *   x <- survdiff(Surv(c(1, NA, 2, 3, 4, 5), c(1, 1, 0, 1, 1, 0)) ~ c(1, 2, 2, 1, 2, 1))
 *   sprintf("%.17g", c(x$obs, x$exp, x$chisq, x$pvalue)):
 *   2 1 1.7666666666666666 1.2333333333333334 0.076443057722308944 0.78217682552558898
 */
static void test_na(void)
{
    const double t[] = {1, NAN, 2, 3, 4, 5};
    const int s[] = {1, 1, 0, 1, 1, 0}, g[] = {0, 1, 1, 0, 1, 0};
    hs_logrank *lr = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_logrank_test(&lr, t, s, g, 2, NULL, 6, 0, NULL), HS_OK);
    HS_ASSERT_CLOSE(lr->obs[0], 2, TOL);
    HS_ASSERT_CLOSE(lr->obs[1], 1, TOL);
    HS_ASSERT_CLOSE(lr->exp[0], 1.7666666666666666, TOL);
    HS_ASSERT_CLOSE(lr->exp[1], 1.2333333333333334, TOL);
    HS_ASSERT_CLOSE(lr->chisq, 0.076443057722308944, TOL);
    HS_ASSERT_CLOSE(lr->p, 0.78217682552558898, TOL);
    CU_ASSERT_EQUAL(lr->df, 1);
    hs_logrank_free(lr);
}

static void test_errors(void)
{
    const double t[] = {1, 2, 3, 4};
    const int s[] = {1, 0, 1, 0}, g[] = {0, 1, 0, 1}, bad_s[] = {1, 3, 0, 0}, bad_g[] = {0, 2, 0, 1};
    hs_logrank *lr = NULL;
    hs_error err;
    CU_ASSERT_EQUAL(hs_logrank_test(&lr, t, bad_s, g, 2, NULL, 4, 0, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_logrank_test(&lr, t, s, bad_g, 2, NULL, 4, 0, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_logrank_test(&lr, t, s, g, 2, NULL, 4, -1, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_logrank_test(&lr, t, s, g, 2, NULL, 4, NAN, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_logrank_test(&lr, t, s, g, 0, NULL, 4, 0, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_logrank_test(&lr, NULL, s, g, 2, NULL, 4, 0, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_logrank_test(NULL, t, s, g, 2, NULL, 4, 0, &err), HS_EINVAL);
    CU_ASSERT_PTR_NULL(lr);
    hs_logrank_free(NULL);
}

int hs_suite_logrank(void)
{
    CU_pSuite s = CU_add_suite("logrank", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "two groups, ties", test_two) ||
        !CU_add_test(s, "three groups", test_three) ||
        !CU_add_test(s, "three groups, rho = 1", test_three_rho1) ||
        !CU_add_test(s, "strata", test_strata) ||
        !CU_add_test(s, "strata, rho = 1", test_strata_rho1) ||
        !CU_add_test(s, "strata, rho = 0.5", test_strata_rho05) ||
        !CU_add_test(s, "E = 0 groups, no events, one group, singular", test_edges) ||
        !CU_add_test(s, "NA time dropped", test_na) ||
        !CU_add_test(s, "argument errors", test_errors))
        return -1;
    return 0;
}
