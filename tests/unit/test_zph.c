/*
 * Unit tests for stats/zph: cox.zph(fit) (transform "km", terms, global)
 * against R survival 3.5-3 (R 4.2.2).  The coefficients are the R fit's,
 * printed with sprintf("%.17g"), and so are the expected chi-squares and
 * p-values.  Helpers in the R snippets:
 *   p  <- function(lbl, x) cat(lbl, sprintf("%.17g", x), "\n")
 *   pz <- function(lbl, fit) { z <- cox.zph(fit); p(paste0(lbl, "_coef"), coef(fit))
 *           p(paste0(lbl, "_chisq"), z$table[, "chisq"]); p(paste0(lbl, "_p"), z$table[, "p"]) }
 * and d is the lung subset of lung_subset.h.
 */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>

#include "suites.h"
#include "stats/zph.h"
#include "lung_subset.h"

#define TOL 1e-10

/* |a - b| <= TOL |b|: the p-values can be tiny */
#define ASSERT_REL(a, b) CU_ASSERT(fabs((a) - (b)) <= TOL * fabs(b))

/* Compares z with R's table: chisq[nterm + 1] and p[nterm + 1] (GLOBAL last), df likewise. */
static void check(const hs_zph *z, const double *chisq, const double *p, const int *df)
{
    for (size_t t = 0; t < z->nterm; t++) {
        ASSERT_REL(z->chisq[t], chisq[t]);
        ASSERT_REL(z->p[t], p[t]);
        CU_ASSERT_EQUAL(z->df[t], df[t]);
    }
    ASSERT_REL(z->global_chisq, chisq[z->nterm]);
    ASSERT_REL(z->global_p, p[z->nterm]);
    CU_ASSERT_EQUAL(z->global_df, df[z->nterm]);
}

/* Row-major X of the lung subset: age (+ age_shift), sex, ph.ecog == 1, ph.ecog == 2, as model.matrix builds it. */
static void lung_x(double *x, int with_sex, double age_shift)
{
    const size_t p = with_sex ? 4 : 3;
    for (size_t i = 0; i < LUNG_N; i++) {
        double *r = x + i * p;
        *r++ = lung_age[i] + age_shift;
        if (with_sex)
            *r++ = lung_sex[i];
        *r++ = lung_ecog[i] == 1;
        *r++ = lung_ecog[i] == 2;
    }
}

/*
 * pz("z1", coxph(Surv(time, status) ~ age + sex + factor(ph.ecog), data = d))
 * pz("z2", coxph(Surv(time, status) ~ age + sex + factor(ph.ecog), data = d, ties = "breslow"))
 */
static void test_lung_efron_breslow(void)
{
    static const double coef1[4] = {-0.012747192588694407, -0.74051978161585619, 0.40756281022230606,
                                    0.94730087109358896};
    static const double chisq1[4] = {3.0769443320526513, 1.2523797275809325, 4.7435599033168128,
                                     6.7178841579366324};
    static const double p1[4] = {0.079409588071275627, 0.26309844849540925, 0.093314483100591872,
                                 0.15156924534247262};
    static const double coef2[4] = {-0.012697319570408056, -0.73929666423217821, 0.40515665123321543,
                                    0.94388926659223304};
    static const double chisq2[4] = {3.0939055529457002, 1.2416758692139556, 4.7088845927950409,
                                     6.6955190467001628};
    static const double p2[4] = {0.078585979752046453, 0.26514831725163235, 0.094946443745333842,
                                 0.15288047637670338};
    static const int df[4] = {1, 1, 2, 4};
    static const size_t term[4] = {0, 1, 2, 2};
    double x[LUNG_N * 4];
    lung_x(x, 1, 0.0);
    hs_zph *z = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_zph_test(&z, lung_time, lung_status, x, LUNG_N, 4, NULL, coef1, 0, term, 3, NULL),
                          HS_OK);
    CU_ASSERT_EQUAL(z->nterm, 3);
    check(z, chisq1, p1, df);
    hs_zph_free(z);
    CU_ASSERT_EQUAL_FATAL(hs_zph_test(&z, lung_time, lung_status, x, LUNG_N, 4, NULL, coef2, 1, term, 3, NULL),
                          HS_OK);
    check(z, chisq2, p2, df);
    hs_zph_free(z);
}

/* pz("z3", coxph(Surv(time, status) ~ age + factor(ph.ecog) + strata(sex), data = d)) */
static void test_lung_strata(void)
{
    static const double coef[3] = {-0.011174094945188002, 0.40663027895109749, 0.93717685979140219};
    static const double chisq[3] = {2.0092896299471077, 4.8602110129234823, 5.8713914455522644};
    static const double p[3] = {0.15633850715540171, 0.088027544617642658, 0.11803774271739007};
    static const int df[3] = {1, 2, 3};
    static const size_t term[3] = {0, 1, 1};
    double x[LUNG_N * 3];
    lung_x(x, 0, 0.0);
    hs_zph *z = NULL;
    CU_ASSERT_EQUAL_FATAL(
        hs_zph_test(&z, lung_time, lung_status, x, LUNG_N, 3, lung_sex, coef, 0, term, 2, NULL), HS_OK);
    check(z, chisq, p, df);
    hs_zph_free(z);
}

/*
 * An aliased column: d$age2 <- d$age
 * pz("z4", coxph(Surv(time, status) ~ age + age2 + sex, data = d))
 *   coef -0.0023537350676816758 NA -0.72954211205250785
 *   R's table has rows age, sex, GLOBAL (age2 dropped): chisq 2.8509622104820358 0.744412694275293
 *   3.0132468286980867, df 1 1 2, p 0.091319267001603407 0.38825099107670424 0.2216571601735747
 */
static void test_na_coef(void)
{
    static const double coef[3] = {-0.0023537350676816758, NAN, -0.72954211205250785};
    static const size_t term[3] = {0, 1, 2};
    double x[LUNG_N * 3];
    for (size_t i = 0; i < LUNG_N; i++) {
        x[3 * i] = x[3 * i + 1] = lung_age[i];
        x[3 * i + 2] = lung_sex[i];
    }
    hs_zph *z = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_zph_test(&z, lung_time, lung_status, x, LUNG_N, 3, NULL, coef, 0, term, 3, NULL),
                          HS_OK);
    ASSERT_REL(z->chisq[0], 2.8509622104820358);
    ASSERT_REL(z->p[0], 0.091319267001603407);
    CU_ASSERT_EQUAL(z->df[0], 1);
    CU_ASSERT(isnan(z->chisq[1]) && isnan(z->p[1]));
    CU_ASSERT_EQUAL(z->df[1], 0);
    ASSERT_REL(z->chisq[2], 0.744412694275293);
    ASSERT_REL(z->p[2], 0.38825099107670424);
    ASSERT_REL(z->global_chisq, 3.0132468286980867);
    ASSERT_REL(z->global_p, 0.2216571601735747);
    CU_ASSERT_EQUAL(z->global_df, 2);
    hs_zph_free(z);
}

/*
 * An aliased column inside a factor term (the term keeps one column, df 1):
 *   d$e2 <- as.numeric(d$ph.ecog == 2)
 *   fit <- coxph(Surv(time, status) ~ e2 + age + factor(ph.ecog), data = d)
 *   p("z6_coef", coef(fit)); p("z6_chisq", z$table[, "chisq"]); p("z6_p", z$table[, "p"])
 */
static void test_na_in_factor(void)
{
    static const double coef[4] = {0.91262006293415443, -0.0064876011174505518, 0.31350952062939474, NAN};
    static const double chisq[4] = {2.0817646166089934, 2.0490524679743185, 0.057187725308247263,
                                    4.0605914971756869};
    static const double p[4] = {0.14906775980294565, 0.15230095048852046, 0.81099737332102972,
                                0.25499523721399581};
    static const int df[4] = {1, 1, 1, 3};
    static const size_t term[4] = {0, 1, 2, 2};
    double x[LUNG_N * 4];
    for (size_t i = 0; i < LUNG_N; i++) {
        x[4 * i + 0] = lung_ecog[i] == 2;
        x[4 * i + 1] = lung_age[i];
        x[4 * i + 2] = lung_ecog[i] == 1;
        x[4 * i + 3] = lung_ecog[i] == 2;
    }
    hs_zph *z = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_zph_test(&z, lung_time, lung_status, x, LUNG_N, 4, NULL, coef, 0, term, 3, NULL),
                          HS_OK);
    check(z, chisq, p, df);
    hs_zph_free(z);
}

/*
 * Centring does not matter: age shifted by 1000.
 *   d$agec <- d$age + 1000
 *   pz("z5", coxph(Surv(time, status) ~ agec + sex + factor(ph.ecog), data = d))
 * R gives z1's table to about 1e-15 (3.0769443320526468 vs ...513 for age).
 */
static void test_centring(void)
{
    static const double coef5[4] = {-0.012747192588694393, -0.74051978161585597, 0.40756281022230484,
                                    0.94730087109358785};
    static const double chisq5[4] = {3.0769443320526468, 1.2523797275809321, 4.7435599033168074,
                                     6.7178841579366253};
    static const double p5[4] = {0.079409588071275627, 0.26309844849540931, 0.093314483100592122,
                                 0.15156924534247301};
    static const int df[4] = {1, 1, 2, 4};
    static const size_t term[4] = {0, 1, 2, 2};
    double x[LUNG_N * 4];
    lung_x(x, 1, 1000.0);
    hs_zph *z = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_zph_test(&z, lung_time, lung_status, x, LUNG_N, 4, NULL, coef5, 0, term, 3, NULL),
                          HS_OK);
    check(z, chisq5, p5, df);
    hs_zph_free(z);
}

/*
 * Generated data, the same formulas in R and here:
 *   n <- 2000; i <- 0:(n-1)
 *   time <- ((i*37) %% 101) + 1
 *   time <- time * (1 + (i %% 5 == 0) * 1e-12)       # near-ties that timefix merges
 *   status <- as.integer((i*13) %% 7 > 2)
 *   code <- c(5L, -2L, 7L)[i %% 3 + 1]
 *   x1 <- ((i*53) %% 29) / 4; x2 <- (i %/% 7) %% 2; x3 <- factor((i %/% 11) %% 3)
 *   status[x1 > 5 & time > 60] <- 0L
 *   d <- data.frame(time, status, code, x1, x2, x3)
 *   fit <- coxph(Surv(time, status) ~ x1 + x2 + x3 + strata(code), data = d, ties = tt)   # tt efron, breslow
 *   fit <- coxph(Surv(time, status) ~ x1 + x2 + x3, data = d)
 * Large tied blocks (about 13 events per time and stratum).  With
 * coxph.control(timefix = FALSE) R's Efron chisq would be 51.513102264669641
 * 0.032563723020313261 0.5861980595739279 53.111878426500382, so the
 * match below also shows that the near-ties were merged.
 */
#define GEN_N 2000
#define GEN_P 4
typedef struct gen {
    double time[GEN_N], x[GEN_N * GEN_P];
    int status[GEN_N], code[GEN_N];
} gen;

static gen *gen_make(void)
{
    static const int codes[3] = {5, -2, 7};
    gen *g = malloc(sizeof *g);
    if (!g)
        return NULL;
    for (int i = 0; i < GEN_N; i++) {
        g->time[i] = (double)((i * 37) % 101 + 1);
        g->time[i] = g->time[i] * (1.0 + (i % 5 == 0) * 1e-12);
        g->status[i] = (i * 13) % 7 > 2;
        g->code[i] = codes[i % 3];
        const double x1 = (double)((i * 53) % 29) / 4.0;
        const int x3 = (i / 11) % 3;
        if (x1 > 5 && g->time[i] > 60)
            g->status[i] = 0;
        g->x[i * GEN_P + 0] = x1;
        g->x[i * GEN_P + 1] = (i / 7) % 2;
        g->x[i * GEN_P + 2] = x3 == 1;
        g->x[i * GEN_P + 3] = x3 == 2;
    }
    return g;
}

static void test_generated(void)
{
    static const size_t term[GEN_P] = {0, 1, 2, 2};
    static const int df[4] = {1, 1, 2, 4};
    static const double ecoef[GEN_P] = {-0.076595679018463855, 0.0039591326884781874, 0.034818039837593337,
                                        -0.038871269497191059};
    static const double echisq[4] = {51.240018591841384, 0.013961862738157679, 0.80385796725912106,
                                     53.233589559972081};
    static const double ep[4] = {8.1735272839991922e-13, 0.9059406246152244, 0.66902825596178317,
                                 7.6145838575657055e-11};
    static const double bcoef[GEN_P] = {-0.07519332971280393, 0.0036483922412688633, 0.033455527257518457,
                                        -0.039340388400011007};
    static const double bchisq[4] = {48.632056859229266, 0.011795363078994174, 0.76065381154697698,
                                     50.492635588286447};
    static const double bp[4] = {3.0878049026160918e-12, 0.91351463700111202, 0.68363788750667698,
                                 2.849258658122984e-10};
    static const double ncoef[GEN_P] = {-0.077115038055897353, 0.0032875684569174776, 0.033395057574876229,
                                        -0.038350650879592656};
    static const double nchisq[4] = {51.980382657600153, 0.0073013784391087371, 0.80038454335872067,
                                     53.914569632348048};
    static const double np[4] = {5.6057903622263267e-13, 0.9319051516870106, 0.67019117486421442,
                                 5.4839684568448611e-11};
    gen *g = gen_make();
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_zph *z = NULL;
    CU_ASSERT_EQUAL(hs_zph_test(&z, g->time, g->status, g->x, GEN_N, GEN_P, g->code, ecoef, 0, term, 3, NULL),
                    HS_OK);
    if (z)
        check(z, echisq, ep, df);
    hs_zph_free(z);
    CU_ASSERT_EQUAL(hs_zph_test(&z, g->time, g->status, g->x, GEN_N, GEN_P, g->code, bcoef, 1, term, 3, NULL),
                    HS_OK);
    if (z)
        check(z, bchisq, bp, df);
    hs_zph_free(z);
    CU_ASSERT_EQUAL(hs_zph_test(&z, g->time, g->status, g->x, GEN_N, GEN_P, NULL, ncoef, 0, term, 3, NULL),
                    HS_OK);
    if (z)
        check(z, nchisq, np, df);
    hs_zph_free(z);
    free(g);
}

/*
 * All events at one time: g(t) is constant over the events and R fails:
 *   d <- data.frame(time=c(1,1,1,2,3,4), status=c(1,1,1,0,0,0), x=c(1,5,2,4,3,6))
 *   cox.zph(coxph(Surv(time,status) ~ x, data=d))
 *   # Error in solve.default(imat, u): Lapack routine dgesv: system is exactly singular
 */
static void test_errors(void)
{
    static const double t[6] = {1, 1, 1, 2, 3, 4}, x[6] = {1, 5, 2, 4, 3, 6};
    static const int s[6] = {1, 1, 1, 0, 0, 0}, s0[6] = {0}, sbad[6] = {1, 2, 0, 0, 0, 0};
    static const size_t term[1] = {0}, badterm[1] = {1};
    const double coef[1] = {0.1}, nacoef[1] = {NAN};
    hs_zph *z = NULL;
    hs_error e;
    CU_ASSERT_EQUAL(hs_zph_test(&z, t, s, x, 6, 1, NULL, coef, 0, term, 1, &e), HS_ENUMERIC);
    CU_ASSERT_PTR_NULL(z);
    CU_ASSERT_EQUAL(e.code, HS_ENUMERIC);
    CU_ASSERT_EQUAL(hs_zph_test(&z, t, s0, x, 6, 1, NULL, coef, 0, term, 1, &e), HS_EDATA);
    CU_ASSERT_EQUAL(hs_zph_test(&z, t, sbad, x, 6, 1, NULL, coef, 0, term, 1, &e), HS_EDATA);
    CU_ASSERT_EQUAL(hs_zph_test(&z, t, s, x, 6, 1, NULL, nacoef, 0, term, 1, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_zph_test(&z, t, s, x, 6, 1, NULL, coef, 2, term, 1, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_zph_test(&z, t, s, x, 6, 1, NULL, coef, 0, badterm, 1, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_zph_test(&z, t, s, x, 6, 0, NULL, coef, 0, term, 1, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_zph_test(NULL, t, s, x, 6, 1, NULL, coef, 0, term, 1, &e), HS_EINVAL);
    CU_ASSERT_PTR_NULL(z);
    hs_zph_free(NULL);
}

/* The singular case goes through a failing GSL call: make sure GSL returns instead of aborting. */
static int suite_init(void)
{
    gsl_set_error_handler_off();
    return 0;
}

int hs_suite_zph(void)
{
    CU_pSuite s = CU_add_suite("zph", suite_init, NULL);
    if (!s || !CU_add_test(s, "lung Efron and Breslow, factor term", test_lung_efron_breslow) ||
        !CU_add_test(s, "lung strata", test_lung_strata) || !CU_add_test(s, "NA coefficient", test_na_coef) ||
        !CU_add_test(s, "NA coefficient in a factor", test_na_in_factor) ||
        !CU_add_test(s, "centring", test_centring) ||
        !CU_add_test(s, "generated, large tied blocks, timefix", test_generated) ||
        !CU_add_test(s, "errors", test_errors))
        return 1;
    return 0;
}
