/*
 * Unit tests of stats/cox: Cox regression against R survival 3.5-3 (R 4.2.2).
 *
 * Data A: lung[1:60, ] without rows with NAs (54 rows), status - 1, time in
 * coarse units round(time / 61) so that many event times are tied (up to 6
 * deaths at one time), covariates age, sex01 = sex - 1 (a 0/1 column, left
 * uncentred), ph.ecog and wt.loss:
 *   A <- na.omit(lung[1:60, c("time","status","age","sex","ph.ecog","wt.loss")])
 *   A$status <- A$status - 1; A$mon <- round(A$time / 61); A$sex01 <- A$sex - 1
 * Data O: R's ovarian data set, in its own (unsorted) row order.
 * Every expected number below was printed by R with sprintf("%.17g"); the R
 * call sits next to it.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/cox.h"
#include "suites.h"

#define TOL 1e-10

/* Data A (R: cat(sprintf("%.17g", ...))) */
static const double a_time[] = {
    7, 17, 3, 14, 17, 5, 6, 4, 3, 3, 11, 12, 9, 2, 10, 12, 1, 5, 1, 10, 6, 6, 9, 9, 2, 6, 0, 8, 0,
    9, 2, 1, 13, 16, 2, 12, 8, 3, 7, 10, 2, 5, 9, 11, 13, 12, 3, 1, 4, 11, 0, 2, 11, 6
};
static const int a_status[] = {
    1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};
static const int a_sex[] = {
    1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 2, 1,
    1, 2, 1, 2, 1, 2, 2, 1, 2, 1, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1, 2, 2
};
static const double a_x[] = { /* age, sex01, ph.ecog, wt.loss */
    68, 0, 0, 15,
    56, 0, 0, 15,
    57, 0, 1, 11,
    60, 0, 0, 0,
    74, 0, 1, 0,
    68, 1, 2, 10,
    71, 1, 2, 1,
    53, 0, 1, 16,
    61, 0, 2, 34,
    57, 0, 1, 27,
    68, 1, 2, 23,
    68, 1, 1, 5,
    57, 0, 1, 60,
    67, 0, 1, 15,
    70, 0, 1, -5,
    63, 0, 2, 22,
    56, 1, 2, 10,
    67, 0, 1, 17,
    49, 1, 0, -8,
    50, 0, 1, 16,
    58, 0, 0, 13,
    72, 0, 0, 0,
    70, 1, 1, 6,
    60, 0, 0, -13,
    70, 0, 3, 20,
    53, 0, 1, -7,
    74, 0, 2, 20,
    69, 1, 1, -1,
    73, 0, 2, 20,
    48, 0, 2, -11,
    60, 1, 2, -15,
    61, 0, 2, 10,
    65, 0, 2, 28,
    66, 1, 1, 4,
    74, 0, 2, 24,
    64, 1, 1, 15,
    70, 0, 1, 10,
    73, 1, 2, 11,
    59, 1, 0, 27,
    68, 0, 1, 7,
    76, 1, 2, -24,
    74, 0, 0, 30,
    63, 0, 1, 10,
    74, 0, 0, 2,
    50, 1, 1, 4,
    72, 1, 1, 9,
    63, 0, 0, 0,
    68, 0, 0, 0,
    58, 0, 0, 7,
    59, 0, 1, 15,
    65, 1, 0, 5,
    57, 0, 2, 18,
    58, 1, 1, 10,
    64, 1, 1, -3,
};
static const double ov_time[] = {
    59, 115, 156, 421, 431, 448, 464, 475, 477, 563, 638, 744, 769, 770, 803, 855, 1040, 1106, 1129,
    1206, 1227, 268, 329, 353, 365, 377
};
static const int ov_status[] = {
    1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0
};
static const double ov_x[] = { /* age, ecog.ps, rx */
    72.331500000000005, 1, 1,
    74.493200000000002, 1, 1,
    66.465800000000002, 2, 1,
    53.364400000000003, 1, 2,
    50.339700000000001, 1, 1,
    56.430100000000003, 2, 1,
    56.936999999999998, 2, 2,
    59.854799999999997, 2, 2,
    64.175299999999993, 1, 1,
    55.178100000000001, 2, 2,
    56.7562, 2, 1,
    50.1096, 1, 2,
    59.630099999999999, 2, 2,
    57.052100000000003, 1, 2,
    39.2712, 1, 1,
    43.1233, 2, 1,
    38.8932, 2, 1,
    44.600000000000001, 1, 1,
    53.906799999999997, 1, 2,
    44.205500000000001, 1, 2,
    59.588999999999999, 2, 2,
    74.504099999999994, 2, 1,
    43.137, 1, 1,
    63.219200000000001, 2, 2,
    64.424700000000001, 1, 2,
    58.309600000000003, 1, 2,
};

/* O$grp <- as.numeric(O$fustat == 0 & O$futime > 700): a group with no events */
static const double ov_grp[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};

/* coxph(Surv(mon, status) ~ age + sex01 + ph.ecog + wt.loss, data=A)$linear.predictors,
   coxph(Surv(futime, fustat) ~ age + ecog.ps + rx, data=ovarian)$linear.predictors */
static const double a_lp_efron[] = {
    -0.38082954581789208, -0.42096037259109675, -0.052968837326366924, -0.35024824731633186,
    0.045928968148161609, 0.11183678925757401, 0.1562706057610932, -0.085457507256445187,
    0.22185207520101002, -0.11412636587786562, 0.062146297309481402, -0.21840940063250402,
    -0.24026376851533171, -0.034815863819904425, 0.051663753562770198, 0.27440869274350144,
    0.071705962484369445, -0.042460554888841817, -0.58161730197107342, -0.095490213949746328,
    -0.40662721039329197, -0.31011742054312719, -0.21554327503810528, -0.30055775536823914,
    0.65482095032589593, 0.0024564400363341621, 0.31883997502120975, -0.19213109186125832,
    0.315495739456776, 0.35038256191446171, 0.18064154310382097, 0.31358836802825807,
    0.25816309066555687, -0.22127552622690277, 0.30355059288333508, -0.27000979823492555,
    -0.0056714294542599131, 0.12473562154527396, -0.68195704003313962, -0.00089286397972132558,
    0.26855042194497858, -0.4180993154483198, -0.029081078405295946, -0.31107364048319708,
    -0.27478329525784229, -0.22032184051264381, -0.34021554062303067, -0.32349436280086208,
    -0.3836931371864799, -0.061569748335374097, -0.57780002488822657, 0.26963266149477372,
    -0.27096348394918451, -0.20120757861448957
};
static const double ov_lp[] = {
    2.7359078232469418, 3.0536544984002099, 1.9768925452123991, -0.86663686225795455,
    -0.49665050151396706, 0.50175246664661266, -0.23832344338770284, 0.19056180838738612,
    1.5370340517314229, -0.49686284613881604, 0.54968566309731415, -1.3450574933764541,
    0.15753332251657248, -0.32458458212532371, -2.123601083895406, -1.4542041679139261,
    -2.0759834206158931, -1.3403247353934216, -0.7869098896886193, -2.212896760977145,
    0.1514920640862627, 3.1584362834205315, -1.5553700172314349, 0.68509246198670937,
    0.75910840822254499, -0.13974559243885665
};

#define NA_ (sizeof a_time / sizeof a_time[0])
#define NO_ (sizeof ov_time / sizeof ov_time[0])

/* Element-wise HS_ASSERT_CLOSE, with NAN expected meaning NAN required. */
static void check_vec(const double *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i])) {
            CU_ASSERT(isnan(got[i]));
        } else {
            HS_ASSERT_CLOSE(got[i], want[i], tol);
        }
    }
}

/* Columns cols[0..k) of a row-major matrix with p columns, as a new n*k matrix. */
static double *columns(const double *x, size_t n, size_t p, const size_t *cols, size_t k)
{
    double *y = malloc(n * k * sizeof *y);
    if (y == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            y[i * k + j] = x[i * p + cols[j]];
    return y;
}

/* Columns (age, ecog.ps, rx) of O plus grp: age, grp. */
static double *ovarian_age_grp(void)
{
    double *y = malloc(NO_ * 2 * sizeof *y);
    if (y == NULL)
        return NULL;
    for (size_t i = 0; i < NO_; i++) {
        y[2 * i] = ov_x[3 * i];
        y[2 * i + 1] = ov_grp[i];
    }
    return y;
}

static hs_cox *fit_or_fail(const double *time, const int *status, const double *x, size_t n, size_t p,
                           const int *strata, hs_ties ties, int iter_max)
{
    hs_cox_control ctl;
    hs_cox_control_default(&ctl);
    if (iter_max >= 0)
        ctl.iter_max = iter_max;
    hs_cox *fit = NULL;
    hs_error err;
    int rc = hs_cox_fit(&fit, time, status, x, n, p, strata, ties, &ctl, &err);
    CU_ASSERT_EQUAL(rc, HS_OK);
    if (rc != HS_OK)
        return NULL;
    CU_ASSERT_EQUAL(fit->n, n);
    CU_ASSERT_EQUAL(fit->p, p);
    return fit;
}

static void test_control_default(void)
{
    hs_cox_control c;
    hs_cox_control_default(&c);
    CU_ASSERT_EQUAL(c.iter_max, 20);
    CU_ASSERT_EQUAL(c.eps, 1e-9);
    /* sprintf("%.17g", .Machine$double.eps^0.75) = 1.8189894035458565e-12 (= 2^-39) */
    CU_ASSERT_EQUAL(c.toler_chol, 1.8189894035458565e-12);
    /* sprintf("%.17g", sqrt(1e-9)) */
    CU_ASSERT_EQUAL(c.toler_inf, 3.1622776601683794e-05);
}

/* fit <- coxph(Surv(mon, status) ~ age + sex01 + ph.ecog + wt.loss, data=A) */
static void test_lung_efron(void)
{
    hs_cox *f = fit_or_fail(a_time, a_status, a_x, NA_, 4, NULL, HS_TIES_EFRON, -1);
    if (f == NULL)
        return;
    /* coef(fit) */
    const double coef[] = {0.0033442355644337199, -0.22516122772172001, 0.34935791756242141,
                           -0.0038223455344686685};
    /* sqrt(diag(fit$var)) */
    const double se[] = {0.01953348996447318, 0.30352931602888017, 0.21699920259452474, 0.011526434859328383};
    /* fit$var */
    const double var[] = {0.00038155723019217444, -0.00057827669042592202, -0.00027046488112190221,
                          1.265766879677224e-05,   -0.00057827669042592202, 0.092130045688959813,
                          -0.010681601179727071,   0.00065129572320877355,  -0.00027046488112190221,
                          -0.010681601179727071,   0.047088653926659597,    -0.00072001929776124515,
                          1.265766879677224e-05,   0.00065129572320877355,  -0.00072001929776124515,
                          0.00013285870056634053};
    /* fit$means: sex01 is 0/1 and left uncentred */
    const double means[] = {63.851851851851855, 0, 1.0740740740740742, 9.9074074074074066};
    check_vec(f->coef, coef, 4, TOL);
    check_vec(f->se, se, 4, TOL);
    check_vec(f->var, var, 16, TOL);
    check_vec(f->means, means, 4, TOL);
    check_vec(f->lp, a_lp_efron, NA_, TOL);
    HS_ASSERT_CLOSE(f->loglik_null, -162.52835279396714, TOL); /* fit$loglik[1] */
    HS_ASSERT_CLOSE(f->loglik, -161.10247144149312, TOL);      /* fit$loglik[2] */
    HS_ASSERT_CLOSE(f->score_test, 2.9414545436474495, TOL);   /* fit$score */
    HS_ASSERT_CLOSE(f->wald_test, 2.9185971828747173, TOL);    /* fit$wald.test */
    HS_ASSERT_CLOSE(f->lr_test, 2 * (-161.10247144149312 - -162.52835279396714), TOL);
    CU_ASSERT_EQUAL(f->iter, 3); /* fit$iter */
    CU_ASSERT_EQUAL(f->df, 4);
    CU_ASSERT_EQUAL(f->nevent, 51); /* fit$nevent */
    CU_ASSERT_EQUAL(f->converged, 1);
    CU_ASSERT_EQUAL(f->flag, 4);
    for (int j = 0; j < 4; j++)
        CU_ASSERT_EQUAL(f->infinite[j], 0);
    /* s <- summary(fit): s$coefficients[, c("z", "Pr(>|z|)")], s$conf.int[, c("lower .95", "upper .95")] */
    const double z[] = {0.17120522602546176, -0.74181048034350794, 1.6099502366154608, -0.3316155932964156};
    const double pz[] = {0.86406239839271393, 0.45820216983257728, 0.10740872055262499, 0.74017954352832904};
    const double lo[] = {0.96566267714145371, 0.44040181389824562, 0.92686004211294015, 0.97393204893323626};
    const double hi[] = {1.0425078163777537, 1.4473659235350016, 2.1698727804685984, 1.0189462974854853};
    hs_cox_coef c[4];
    CU_ASSERT_EQUAL_FATAL(hs_cox_summary(f, c, NULL), HS_OK);
    for (int j = 0; j < 4; j++) {
        HS_ASSERT_CLOSE(c[j].coef, coef[j], TOL);
        HS_ASSERT_CLOSE(c[j].se, se[j], TOL);
        HS_ASSERT_CLOSE(c[j].z, z[j], TOL);
        HS_ASSERT_CLOSE(c[j].p, pz[j], TOL);
        HS_ASSERT_CLOSE(c[j].hr, exp(coef[j]), TOL);
        HS_ASSERT_CLOSE(c[j].hr_lower95, lo[j], TOL);
        HS_ASSERT_CLOSE(c[j].hr_upper95, hi[j], TOL);
        CU_ASSERT_EQUAL(c[j].flag, HS_COX_COEF_OK);
    }
    CU_ASSERT_EQUAL(hs_cox_summary(NULL, c, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_cox_summary(f, NULL, NULL), HS_EINVAL);
    hs_cox_free(f);
}

/* fit <- coxph(Surv(mon, status) ~ age + sex01 + ph.ecog + wt.loss, data=A, ties='breslow') */
static void test_lung_breslow(void)
{
    hs_cox *f = fit_or_fail(a_time, a_status, a_x, NA_, 4, NULL, HS_TIES_BRESLOW, -1);
    if (f == NULL)
        return;
    const double coef[] = {0.0034452943588597329, -0.22174876980387301, 0.31372365259880752,
                           -0.0034480637463267928};
    const double se[] = {0.019558852641078692, 0.30457640269365305, 0.21459068607588611, 0.011359998652608299};
    const double var[] = {0.00038254871663543093, -0.0006266926539903908, -0.00024444358209254154,
                          1.1741126741067121e-05,  -0.0006266926539903908, 0.092766785077806307,
                          -0.010952287677298774,   0.00065946996848173641, -0.00024444358209254154,
                          -0.010952287677298774,   0.046049162550519503,   -0.00067682792889916046,
                          1.1741126741067121e-05,  0.00065946996848173641, -0.00067682792889916046,
                          0.00012904956938726236};
    /* fit$linear.predictors[1:3] */
    const double lp[] = {-0.34023043415900234, -0.38157396646531916, -0.0506127645223447};
    check_vec(f->coef, coef, 4, TOL);
    check_vec(f->se, se, 4, TOL);
    check_vec(f->var, var, 16, TOL);
    check_vec(f->lp, lp, 3, TOL);
    HS_ASSERT_CLOSE(f->loglik_null, -165.84259211327074, TOL);
    HS_ASSERT_CLOSE(f->loglik, -164.64483903816242, TOL);
    HS_ASSERT_CLOSE(f->score_test, 2.4648912955868663, TOL);
    HS_ASSERT_CLOSE(f->wald_test, 2.4493451054673923, TOL);
    CU_ASSERT_EQUAL(f->iter, 3);
    CU_ASSERT_EQUAL(f->converged, 1);
    hs_cox_free(f);
}

/* fit <- coxph(Surv(mon, status) ~ age + ph.ecog + wt.loss + strata(sex), data=A) */
static void test_lung_strata(void)
{
    const size_t cols[] = {0, 2, 3};
    double *x = columns(a_x, NA_, 4, cols, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    hs_cox *f = fit_or_fail(a_time, a_status, x, NA_, 3, a_sex, HS_TIES_EFRON, -1);
    if (f != NULL) {
        const double coef[] = {0.0061792273373448437, 0.36269545131505931, -0.0020650739755556299};
        const double se[] = {0.019628340158732358, 0.22074388437187559, 0.011477934403597557};
        const double var[] = {0.00038527173738690535, -0.00014865413015006273, 1.4907697927208663e-05,
                              -0.00014865413015006273, 0.048727862487583977,   -0.0006936685499373817,
                              1.4907697927208663e-05,  -0.0006936685499373817, 0.00013174297817328842};
        const double means[] = {63.851851851851855, 1.0740740740740742, 9.9074074074074066};
        const double lp[] = {-0.37444601103677777, -0.44859673908491587, -0.071461764530289185};
        check_vec(f->coef, coef, 3, TOL);
        check_vec(f->se, se, 3, TOL);
        check_vec(f->var, var, 9, TOL);
        check_vec(f->means, means, 3, TOL);
        check_vec(f->lp, lp, 3, TOL);
        HS_ASSERT_CLOSE(f->loglik_null, -130.78291261032663, TOL);
        HS_ASSERT_CLOSE(f->loglik, -129.33096674528889, TOL);
        HS_ASSERT_CLOSE(f->score_test, 2.9338925247924492, TOL);
        HS_ASSERT_CLOSE(f->wald_test, 2.9047466531459807, TOL);
        CU_ASSERT_EQUAL(f->iter, 3);
        hs_cox_free(f);
    }
    /* the stratum codes are labels: other codes in the same order give the same fit */
    int codes[NA_];
    for (size_t i = 0; i < NA_; i++)
        codes[i] = a_sex[i] == 1 ? -7 : 1000;
    f = fit_or_fail(a_time, a_status, x, NA_, 3, codes, HS_TIES_EFRON, -1);
    if (f != NULL) {
        HS_ASSERT_CLOSE(f->loglik, -129.33096674528889, TOL);
        HS_ASSERT_CLOSE(f->coef[1], 0.36269545131505931, TOL);
        hs_cox_free(f);
    }
    free(x);
}

/* fit <- coxph(Surv(futime, fustat) ~ age + ecog.ps + rx, data=ovarian): rows unsorted, no ties */
static void test_ovarian(void)
{
    hs_cox *f = fit_or_fail(ov_time, ov_status, ov_x, NO_, 3, NULL, HS_TIES_EFRON, -1);
    if (f == NULL)
        return;
    const double coef[] = {0.14698925621190212, 0.10317960212761162, -0.81458476400812785};
    const double se[] = {0.046302048036904436, 0.60637710473805884, 0.63416102489610737};
    const double var[] = {0.002143879652411806,  -0.0010847192813866556, 0.0045369991567263445,
                          -0.0010847192813866556, 0.36769319315051074,   -0.038111026001360924,
                          0.0045369991567263445,  -0.038111026001360924, 0.40216020549728138};
    /* ecog.ps and rx take values 1 and 2: centred */
    const double means[] = {56.165442307692309, 1.4615384615384615, 1.5};
    check_vec(f->coef, coef, 3, TOL);
    check_vec(f->se, se, 3, TOL);
    check_vec(f->var, var, 9, TOL);
    check_vec(f->means, means, 3, TOL);
    check_vec(f->lp, ov_lp, NO_, TOL);
    HS_ASSERT_CLOSE(f->loglik_null, -34.984940371162558, TOL);
    HS_ASSERT_CLOSE(f->loglik, -27.027358325753536, TOL);
    HS_ASSERT_CLOSE(f->score_test, 18.703808684527907, TOL);
    HS_ASSERT_CLOSE(f->wald_test, 13.321090308178839, TOL);
    CU_ASSERT_EQUAL(f->iter, 5);
    CU_ASSERT_EQUAL(f->nevent, 12);
    CU_ASSERT_EQUAL(f->converged, 1);
    hs_cox_free(f);
}

/*
 * fit <- coxph(Surv(futime, fustat) ~ age + grp, data=O): grp has no events, the likelihood is
 * monotone.  R warns "Loglik converged before variable  2 ; coefficient may be infinite." and
 * reports a converged fit at iteration 20 with a huge se.
 */
static void test_infinite(void)
{
    double *x = ovarian_age_grp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    hs_cox *f = fit_or_fail(ov_time, ov_status, x, NO_, 2, NULL, HS_TIES_EFRON, -1);
    if (f != NULL) {
        const double coef[] = {0.11684156379150921, -21.292071168397509};
        const double se[] = {0.055981687645259015, 11253.330840869348};
        const double var[] = {0.003133949351611346, 0.009207789503250562, 0.009207789503250562,
                              126637455.01406124};
        const double lp[] = {1.8888674611129881, 2.1414438695610931, 1.2035099003811318};
        check_vec(f->coef, coef, 2, TOL);
        check_vec(f->se, se, 2, TOL);
        check_vec(f->var, var, 4, TOL);
        check_vec(f->lp, lp, 3, TOL);
        const double means[] = {56.165442307692309, 0};
        check_vec(f->means, means, 2, TOL);
        HS_ASSERT_CLOSE(f->loglik_null, -34.984940371162558, TOL);
        HS_ASSERT_CLOSE(f->loglik, -21.186742020819054, TOL);
        HS_ASSERT_CLOSE(f->score_test, 20.035575463488073, TOL);
        HS_ASSERT_CLOSE(f->wald_test, 4.3561529181107241, TOL);
        CU_ASSERT_EQUAL(f->iter, 20);
        CU_ASSERT_EQUAL(f->converged, 1);
        CU_ASSERT_EQUAL(f->infinite[0], 0);
        CU_ASSERT_EQUAL(f->infinite[1], 1);
        /* the summary keeps the numbers R prints and flags the diverging one */
        hs_cox_coef c[2];
        CU_ASSERT_EQUAL_FATAL(hs_cox_summary(f, c, NULL), HS_OK);
        CU_ASSERT_EQUAL(c[0].flag, HS_COX_COEF_OK);
        CU_ASSERT_EQUAL(c[1].flag, HS_COX_COEF_INFINITE);
        HS_ASSERT_CLOSE(c[1].se, se[1], TOL);
        HS_ASSERT_CLOSE(c[1].z, coef[1] / se[1], TOL);
        hs_cox_free(f);
    }
    free(x);
}

/*
 * fit <- coxph(Surv(mon, status) ~ age + sex01 + ph.ecog + wt.loss, data=A, iter.max=2)
 * R warns "Ran out of iterations and did not converge"; iter is 3 and, as R does, the variance is
 * the inverse of the diagonal of the information matrix at the last accepted beta.
 */
static void test_not_converged(void)
{
    hs_cox *f = fit_or_fail(a_time, a_status, a_x, NA_, 4, NULL, HS_TIES_EFRON, 2);
    if (f == NULL)
        return;
    const double coef[] = {0.003343454334251417, -0.22519172588535386, 0.34941967786585615,
                           -0.0038207544151262532};
    const double se[] = {0.019345199343343826, 0.29420582948586249, 0.20601047509956305, 0.010899866917618061};
    const double var[] = {0.00037423673763371042, 0, 0, 0, 0, 0.086557070103464404, 0, 0,
                          0, 0, 0.042440315850747687, 0, 0, 0, 0, 0.00011880709882178466};
    const double lp[] = {-0.3808910186945752, -0.42101247070559217, -0.052966320844979542};
    check_vec(f->coef, coef, 4, TOL);
    check_vec(f->se, se, 4, TOL);
    check_vec(f->var, var, 16, TOL);
    check_vec(f->lp, lp, 3, TOL);
    HS_ASSERT_CLOSE(f->loglik_null, -162.52835279396714, TOL);
    HS_ASSERT_CLOSE(f->loglik, -161.10247151329443, TOL);
    HS_ASSERT_CLOSE(f->score_test, 2.9414545436474495, TOL);
    HS_ASSERT_CLOSE(f->wald_test, 3.6154575393647126, TOL);
    CU_ASSERT_EQUAL(f->iter, 3);
    CU_ASSERT_EQUAL(f->converged, 0);
    CU_ASSERT_EQUAL(f->flag, 1000);
    for (int j = 0; j < 4; j++)
        CU_ASSERT_EQUAL(f->infinite[j], 0); /* R skips the check when it ran out */
    hs_cox_free(f);
}

/*
 * iter.max = 1 (R gives no warning; the variance is the inverse at the evaluated proposal) and
 * iter.max = 0 (the model at beta = 0: coefficients 0, the variance I(0)^-1, Wald 0).
 */
static void test_iter_max_small(void)
{
    /* fit <- coxph(Surv(mon, status) ~ age + sex01 + ph.ecog + wt.loss, data=A, iter.max=1) */
    hs_cox *f = fit_or_fail(a_time, a_status, a_x, NA_, 4, NULL, HS_TIES_EFRON, 1);
    if (f != NULL) {
        const double coef[] = {0.0027487737209882586, -0.24282067021697168, 0.36402871048115826,
                               -0.0035666803960512517};
        const double se[] = {0.019522309501158127, 0.30420302203175947, 0.21652421524627669,
                             0.011476076291447514};
        check_vec(f->coef, coef, 4, TOL);
        check_vec(f->se, se, 4, TOL);
        HS_ASSERT_CLOSE(f->var[1], -0.00059255822470678484, TOL);
        HS_ASSERT_CLOSE(f->loglik, -161.10781861235171, TOL);
        HS_ASSERT_CLOSE(f->wald_test, 3.2192566716220008, TOL);
        CU_ASSERT_EQUAL(f->iter, 2);
        CU_ASSERT_EQUAL(f->flag, 1000);
        CU_ASSERT_EQUAL(f->converged, 1); /* R does not warn when iter.max <= 1 */
        hs_cox_free(f);
    }
    /* fit <- coxph(Surv(mon, status) ~ age + sex01 + ph.ecog + wt.loss, data=A, iter.max=0) */
    f = fit_or_fail(a_time, a_status, a_x, NA_, 4, NULL, HS_TIES_EFRON, 0);
    if (f != NULL) {
        const double coef[] = {0, 0, 0, 0};
        const double se[] = {0.019732990654227116, 0.30190471963453425, 0.22326903215798921,
                             0.011657971214332874};
        check_vec(f->coef, coef, 4, TOL);
        check_vec(f->se, se, 4, TOL);
        HS_ASSERT_CLOSE(f->var[1], -0.00034367038885299296, TOL);
        HS_ASSERT_CLOSE(f->loglik_null, -162.52835279396714, TOL);
        HS_ASSERT_CLOSE(f->loglik, -162.52835279396714, TOL);
        HS_ASSERT_CLOSE(f->score_test, 2.9414545436474495, TOL);
        CU_ASSERT_EQUAL(f->wald_test, 0);
        CU_ASSERT_EQUAL(f->iter, 0);
        CU_ASSERT_EQUAL(f->lp[0], 0);
        hs_cox_free(f);
    }
}

/*
 * A$agewt <- A$age + A$wt.loss
 * fit <- coxph(Surv(mon, status) ~ age + wt.loss + agewt + sex01, data=A): agewt is aliased (NA).
 */
static void test_singular(void)
{
    double x[NA_ * 4];
    for (size_t i = 0; i < NA_; i++) {
        x[4 * i] = a_x[4 * i];
        x[4 * i + 1] = a_x[4 * i + 3];
        x[4 * i + 2] = a_x[4 * i] + a_x[4 * i + 3];
        x[4 * i + 3] = a_x[4 * i + 1];
    }
    hs_cox *f = fit_or_fail(a_time, a_status, x, NA_, 4, NULL, HS_TIES_EFRON, -1);
    if (f == NULL)
        return;
    const double coef[] = {0.0059869343783409516, 0.0014559553841653715, NAN, -0.12894368004794349};
    const double se[] = {0.01984325845547252, 0.011096202400427125, NAN, 0.29809240235496393};
    const double var[] = {0.00039375490613068168, 2.4283844992511391e-05, 0, -0.00045953532924804556,
                          2.4283844992511391e-05, 0.00012312570771124469, 0, 0.00039657042915706487,
                          0, 0, 0, 0,
                          -0.00045953532924804556, 0.00039657042915706487, 0, 0.088859080341753688};
    const double means[] = {63.851851851851855, 9.9074074074074066, 73.759259259259252, 0};
    const double lp[] = {0.032249278359145372, -0.039593934180946089, -0.03943082133926662};
    check_vec(f->coef, coef, 4, TOL);
    check_vec(f->se, se, 4, TOL);
    check_vec(f->var, var, 16, TOL);
    check_vec(f->means, means, 4, TOL);
    check_vec(f->lp, lp, 3, TOL);
    HS_ASSERT_CLOSE(f->loglik, -162.38560456178081, TOL);
    HS_ASSERT_CLOSE(f->score_test, 0.28309147444375105, TOL);
    HS_ASSERT_CLOSE(f->wald_test, 0.28284603551531451, TOL);
    CU_ASSERT_EQUAL(f->iter, 3);
    CU_ASSERT_EQUAL(f->df, 3);
    CU_ASSERT_EQUAL(f->flag, 3);
    CU_ASSERT_EQUAL(f->converged, 1);
    /* an aliased coefficient: NA everywhere in the summary (R prints se 0), the others untouched */
    hs_cox_coef c[4];
    CU_ASSERT_EQUAL_FATAL(hs_cox_summary(f, c, NULL), HS_OK);
    CU_ASSERT_EQUAL(c[2].flag, HS_COX_COEF_ALIASED);
    CU_ASSERT(isnan(c[2].coef) && isnan(c[2].se) && isnan(c[2].z) && isnan(c[2].p) && isnan(c[2].hr) &&
              isnan(c[2].hr_lower95) && isnan(c[2].hr_upper95));
    CU_ASSERT_EQUAL(c[3].flag, HS_COX_COEF_OK);
    HS_ASSERT_CLOSE(c[3].z, coef[3] / se[3], TOL);
    hs_cox_free(f);
}

/* p = 0: coxph(Surv(mon, status) ~ 1, data=A) and variants; R reports one loglik */
static void test_null_model(void)
{
    /* coxph(Surv(mon, status) ~ 1, data=A)$loglik */
    hs_cox *f = fit_or_fail(a_time, a_status, NULL, NA_, 0, NULL, HS_TIES_EFRON, -1);
    if (f != NULL) {
        HS_ASSERT_CLOSE(f->loglik_null, -162.52835279396714, TOL);
        HS_ASSERT_CLOSE(f->loglik, -162.52835279396714, TOL);
        CU_ASSERT_EQUAL(f->df, 0);
        CU_ASSERT_EQUAL(f->lr_test, 0);
        CU_ASSERT_EQUAL(f->lp[NA_ - 1], 0);
        CU_ASSERT_PTR_NULL(f->coef);
        hs_cox_free(f);
    }
    /* coxph(Surv(mon, status) ~ 1, data=A, ties='breslow')$loglik */
    f = fit_or_fail(a_time, a_status, NULL, NA_, 0, NULL, HS_TIES_BRESLOW, -1);
    if (f != NULL) {
        HS_ASSERT_CLOSE(f->loglik, -165.84259211327074, TOL);
        hs_cox_free(f);
    }
    /* coxph(Surv(mon, status) ~ strata(sex), data=A)$loglik */
    f = fit_or_fail(a_time, a_status, NULL, NA_, 0, a_sex, HS_TIES_EFRON, -1);
    if (f != NULL) {
        HS_ASSERT_CLOSE(f->loglik, -130.78291261032663, TOL);
        hs_cox_free(f);
    }
}

/*
 * A$none <- 0; fit <- coxph(Surv(mon, none) ~ age + sex01, data=A): R returns early with NA
 * coefficients, loglik c(0, 0), score 0, wald 0, iter 0 and means = colMeans(X).
 */
static void test_no_events(void)
{
    int none[NA_] = {0};
    const size_t cols[] = {0, 1};
    double *x = columns(a_x, NA_, 4, cols, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    hs_cox *f = fit_or_fail(a_time, none, x, NA_, 2, NULL, HS_TIES_EFRON, -1);
    if (f != NULL) {
        const double coef[] = {NAN, NAN};
        const double means[] = {63.851851851851855, 0.35185185185185186};
        check_vec(f->coef, coef, 2, TOL);
        check_vec(f->means, means, 2, TOL);
        CU_ASSERT_EQUAL(f->loglik_null, 0);
        CU_ASSERT_EQUAL(f->loglik, 0);
        CU_ASSERT_EQUAL(f->score_test, 0);
        CU_ASSERT_EQUAL(f->wald_test, 0);
        CU_ASSERT_EQUAL(f->iter, 0);
        CU_ASSERT_EQUAL(f->nevent, 0);
        CU_ASSERT_EQUAL(f->df, 0);
        CU_ASSERT_EQUAL(f->var[0], 0);
        CU_ASSERT_EQUAL(f->lp[0], 0);
        hs_cox_free(f);
    }
    free(x);
}

/* Row order does not matter: the reversed data give the same fit, lp follows the rows. */
static void test_row_order(void)
{
    double t[NA_], x[NA_ * 4];
    int s[NA_], g[NA_];
    for (size_t i = 0; i < NA_; i++) {
        size_t r = NA_ - 1 - i;
        t[i] = a_time[r];
        s[i] = a_status[r];
        g[i] = a_sex[r];
        memcpy(x + 4 * i, a_x + 4 * r, 4 * sizeof *x);
    }
    hs_cox *f1 = fit_or_fail(a_time, a_status, a_x, NA_, 4, a_sex, HS_TIES_EFRON, -1);
    hs_cox *f2 = fit_or_fail(t, s, x, NA_, 4, g, HS_TIES_EFRON, -1);
    if (f1 != NULL && f2 != NULL) {
        /* only the order of additions within tied blocks differs */
        check_vec(f2->coef, f1->coef, 4, 1e-12);
        check_vec(f2->var, f1->var, 16, 1e-12);
        HS_ASSERT_CLOSE(f2->loglik, f1->loglik, 1e-12);
        for (size_t i = 0; i < NA_; i++)
            HS_ASSERT_CLOSE(f2->lp[i], f1->lp[NA_ - 1 - i], 1e-12);
        CU_ASSERT_EQUAL(f2->iter, f1->iter);
    }
    hs_cox_free(f1);
    hs_cox_free(f2);
}

static void test_errors(void)
{
    hs_cox *f = (hs_cox *)&f; /* must be reset to NULL on failure */
    hs_error err;
    hs_cox_control ctl;
    hs_cox_control_default(&ctl);
    double t[3] = {1, 2, 3}, x[3] = {0.5, 1.5, 2.5};
    int s[3] = {1, 0, 1};

    CU_ASSERT_EQUAL(hs_cox_fit(NULL, t, s, x, 3, 1, NULL, HS_TIES_EFRON, NULL, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 0, 1, NULL, HS_TIES_EFRON, NULL, &err), HS_EINVAL);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(err.code, HS_EINVAL);
    CU_ASSERT(strlen(err.msg) > 0);
    CU_ASSERT_EQUAL(hs_cox_fit(&f, NULL, s, x, 3, 1, NULL, HS_TIES_EFRON, NULL, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, NULL, 3, 1, NULL, HS_TIES_EFRON, NULL, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 3, 1, NULL, (hs_ties)7, NULL, &err), HS_EINVAL);
    t[1] = -1;
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 3, 1, NULL, HS_TIES_EFRON, NULL, NULL), HS_EINVAL);
    t[1] = NAN;
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 3, 1, NULL, HS_TIES_EFRON, NULL, NULL), HS_EINVAL);
    t[1] = 2;
    s[2] = 2;
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 3, 1, NULL, HS_TIES_EFRON, NULL, NULL), HS_EINVAL);
    s[2] = 1;
    x[0] = INFINITY;
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 3, 1, NULL, HS_TIES_EFRON, NULL, NULL), HS_EINVAL);
    x[0] = 0.5;
    ctl.iter_max = -1;
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 3, 1, NULL, HS_TIES_EFRON, &ctl, NULL), HS_EINVAL);
    hs_cox_control_default(&ctl);
    ctl.eps = 0;
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 3, 1, NULL, HS_TIES_EFRON, &ctl, NULL), HS_EINVAL);
    CU_ASSERT_PTR_NULL(f);
    /* and the valid call works */
    CU_ASSERT_EQUAL(hs_cox_fit(&f, t, s, x, 3, 1, NULL, HS_TIES_EFRON, NULL, NULL), HS_OK);
    CU_ASSERT_PTR_NOT_NULL(f);
    hs_cox_free(f);
    hs_cox_free(NULL);
}

int hs_suite_cox(void)
{
    CU_pSuite s = CU_add_suite("cox", NULL, NULL);
    if (s == NULL)
        return 1;
    if (!CU_add_test(s, "control defaults as coxph.control", test_control_default) ||
        !CU_add_test(s, "lung subset, Efron ties", test_lung_efron) ||
        !CU_add_test(s, "lung subset, Breslow ties", test_lung_breslow) ||
        !CU_add_test(s, "lung subset, strata", test_lung_strata) ||
        !CU_add_test(s, "ovarian, unsorted rows", test_ovarian) ||
        !CU_add_test(s, "group without events: infinite coefficient", test_infinite) ||
        !CU_add_test(s, "iter.max 2: not converged", test_not_converged) ||
        !CU_add_test(s, "iter.max 1 and 0", test_iter_max_small) ||
        !CU_add_test(s, "collinear column: NA coefficient", test_singular) ||
        !CU_add_test(s, "null model p = 0", test_null_model) ||
        !CU_add_test(s, "no events", test_no_events) ||
        !CU_add_test(s, "row order", test_row_order) ||
        !CU_add_test(s, "argument errors", test_errors))
        return 1;
    return 0;
}
