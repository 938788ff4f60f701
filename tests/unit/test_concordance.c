/*
 * Unit tests for stats/concordance: counts, C, the infinitesimal-jackknife
 * variance and the Cox variance against R survival 3.5-3 (R 4.2.2).  Every
 * expected number was printed by R with sprintf("%.17g"); the R code is next
 * to it.  Helpers used in the R snippets:
 *   p  <- function(lbl, x) cat(lbl, sprintf("%.17g", x), "\n")
 *   pc <- function(lbl, cf) { cnt <- if (is.matrix(cf$count)) colSums(cf$count) else cf$count
 *                             p(lbl, c(cnt, cf$concordance, cf$var, cf$cvar)) }
 * and d is the lung subset of lung_subset.h.
 */
#include <math.h>
#include <stdlib.h>

#include "suites.h"
#include "stats/concordance.h"
#include "lung_subset.h"

#define TOL 1e-10

/* Expected values in R's order: 5 counts, concordance, var, cvar. */
static void check(const hs_concordance *c, const double e[8])
{
    HS_ASSERT_CLOSE(c->concordant, e[0], TOL);
    HS_ASSERT_CLOSE(c->discordant, e[1], TOL);
    HS_ASSERT_CLOSE(c->tied_x, e[2], TOL);
    HS_ASSERT_CLOSE(c->tied_y, e[3], TOL);
    HS_ASSERT_CLOSE(c->tied_xy, e[4], TOL);
    /* relative tolerance on the small variances */
    CU_ASSERT(fabs(c->c - e[5]) <= TOL * fabs(e[5]));
    CU_ASSERT(fabs(c->var - e[6]) <= TOL * fabs(e[6]));
    CU_ASSERT(fabs(c->cvar - e[7]) <= TOL * fabs(e[7]));
}

/* Linear predictors of the two lung fits below, printed by sprintf("%.17g", fit$linear.predictors). */
static const double lp1[LUNG_N] = {
    0.31471221079483069, 0.34060329653932919, 0.30058980038874061, -0.42189110646072225, 0.33118835626860244,
    -0.41482990125767705, 0.31706594586251236, 0.32648088613323911, 0.34060329653932919, -0.37010893497172526,
    0.33824956147164742, -0.41953737139304037, 0.30058980038874061, 0.30294353545642227, -0.39600002071622376,
    -0.40070749085158708, -0.41012243112231372, -0.4054149609869504, -0.42659857659608558,
    -0.39600002071622376, -0.43365978179913056, 0.32648088613323911, -0.37246267003940692,
    0.32648088613323911, 0.33824956147164742, 0.32883462120092077, 0.34060329653932919, -0.4054149609869504,
    0.36178691214846426, -0.40776869605463206, 0.31471221079483069, -0.4054149609869504, 0.31706594586251236,
    -0.36775519990404359, 0.38061679268991766, -0.42189110646072225, -0.38658508044549711,
    0.30294353545642227, 0.34531076667469252, -0.35834025963331695, 0.30765100559178571, 0.33118835626860244,
    0.30529727052410405, 0.31000474065946737, -0.38893881551317877, 0.30529727052410405, 0.30765100559178571,
    -0.41953737139304037, -0.41718363632535871, 0.32648088613323911, 0.31941968093019413, 0.31706594586251236,
    -0.4313060467314489, 0.3712018524191909, -0.4313060467314489, 0.29588233025337729, 0.31471221079483069,
    0.28646738998265064, -0.39600002071622376, 0.30529727052410405, 0.31941968093019413, 0.32412715106555745,
    -0.36775519990404359, 0.35001823681005584, -0.38423134537781545, -0.42895231166376724,
    0.34295703160701085, 0.34295703160701085, 0.30058980038874061, -0.40776869605463206, -0.3795238752424519,
    0.34766450174237418, -0.39364628564854209, 0.3335420913362841, -0.3795238752424519, 0.32883462120092077,
    -0.38658508044549711, -0.35834025963331695, 0.32648088613323911, -0.38893881551317877,
    0.36649438228382758, 0.32177341599787579, -0.39129255058086043, -0.35598652456563529,
    -0.39364628564854209, -0.38423134537781545, -0.42895231166376724, 0.38297052775759932,
    -0.40776869605463206, -0.36069399470099861, 0.33824956147164742, 0.35001823681005584, 0.3523719718777375,
    0.32412715106555745, 0.31000474065946737, 0.32412715106555745, 0.3335420913362841, 0.30294353545642227,
    -0.37246267003940692, 0.32883462120092077, -0.37246267003940692, -0.39364628564854209,
    0.31706594586251236, -0.4054149609869504, 0.32177341599787579, 0.29588233025337729, -0.38893881551317877,
    -0.42189110646072225, 0.29352859518569563, -0.4313060467314489, -0.39129255058086043,
};
static const double lp2[LUNG_N] = {
    -0.06603789445084074, 0.46350742889732477, 0.27354781482912871, 0.83761668050499749, 0.94935762995687745,
    0.87113896534056146, 0.35176647944544481, 0.92700944006650143, 0.46350742889732477, 0.14626990950773133,
    0.045703055001039328, 0.31824419460988074, 0.80409439566943341, 0.81526849061462148, 0.96053172490206551,
    0.9381835350116895, 0.36294057439063276, 0.38528876428100878, 0.81526849061462148, 0.96053172490206551,
    0.78174620577905751, 0.39646285922619673, 0.54172609351364076, -0.010167419724900761,
    0.045703055001039328, 0.0010066752202873008, 0.99405400973762947, 0.38528876428100878,
    0.56407428340401677, 0.37411466933582083, 0.87113896534056146, -0.021341514670088713, 0.35176647944544481,
    0.56407428340401677, 0.65346704296552083, 0.30707009966469279, 0.47468152384251283, -0.12190836917678072,
    0.48585561878770078, 0.6087706631847688, 0.30707009966469279, 0.012180770165475252, 0.82644258555980943,
    0.31824419460988074, 0.46350742889732477, 0.82644258555980943, 0.30707009966469279, -0.088386084341216753,
    0.3294182895550688, 0.39646285922619673, 0.36294057439063276, 0.35176647944544481, 0.79292030072424546,
    0.6087706631847688, -0.14425655906715673, 0.78174620577905751, 0.87113896534056146, 0.20650324515800078,
    0.96053172490206551, 0.82644258555980943, 0.36294057439063276, 0.38528876428100878, 0.15744400445291928,
    0.5082038086780768, 0.48585561878770078, 0.80409439566943341, 1.0052281046828175, 0.068051244891415341,
    0.27354781482912871, 0.37411466933582083, 0.5082038086780768, 0.49702971373288884, 0.034528960055851265,
    0.023354865110663314, 0.5082038086780768, 0.9381835350116895, 0.47468152384251283, 0.6087706631847688,
    0.39646285922619673, 0.056877149946227279, 0.1797921943432953, -0.032515609615276664,
    0.045703055001039328, 0.21331447917885932, 0.44115923900694876, 0.48585561878770078, -0.13308246412196878,
    0.25801085895961134, 0.37411466933582083, 0.19096628928848336, 0.045703055001039328, 0.10157352972697931,
    1.0499244844635696, 0.38528876428100878, -0.088386084341216753, 0.38528876428100878, 0.4299851440617608,
    0.28472190977431677, 0.13509581456254327, 0.9381835350116895, 1.0722726743539455, 0.44115923900694876,
    0.35176647944544481, 0.91583534512131348, 0.37411466933582083, 0.78174620577905751, 0.056877149946227279,
    0.30707009966469279, 0.24002552999356475, 0.79292030072424546, 0.45233333395213682,
};

/*
 * f1 <- coxph(Surv(time, status) ~ age + sex, data = d)
 * p("f1conc", f1$concordance)           # 2802 1979 62 10 0 0.58496799504439401 std 0.032749717704273811
 * p("f1var", f1$concordance["std"]^2)   # 0.0010725440097096254
 * p("f1cvar", concordance(f1)$cvar)     # 0.0013847221694754
 */
static void test_lung_coxph(void)
{
    static const double e[8] = {2802, 1979, 62, 10, 0, 0.58496799504439401, 0.0010725440097096254,
                                0.0013847221694754};
    hs_concordance c;
    CU_ASSERT_EQUAL_FATAL(hs_concordance_fit(&c, lung_time, lung_status, lp1, NULL, LUNG_N, 1, NULL), HS_OK);
    check(&c, e);
    CU_ASSERT(fabs(sqrt(c.var) - 0.032749717704273811) <= TOL * 0.032749717704273811);
}

/*
 * f2 <- coxph(Surv(time, status) ~ age + factor(ph.ecog) + strata(sex), data = d)
 * p("f2conc", f2$concordance)           # 1540 853 32 3 0 0.6416494845360825 std 0.036565548675863375
 * p("f2cvar", concordance(f2)$cvar)     # 0.0014419550059253082
 */
static void test_lung_coxph_strata(void)
{
    static const double e[8] = {1540, 853, 32, 3, 0, 0.6416494845360825,
                                0.036565548675863375 * 0.036565548675863375, 0.0014419550059253082};
    hs_concordance c;
    CU_ASSERT_EQUAL_FATAL(hs_concordance_fit(&c, lung_time, lung_status, lp2, lung_sex, LUNG_N, 1, NULL), HS_OK);
    check(&c, e);
}

/*
 * Integer score with ties, both directions:
 * pc("age_rev", concordancefit(Surv(d$time, d$status), d$age, reverse=TRUE))
 * pc("age_fwd", concordancefit(Surv(d$time, d$status), d$age, reverse=FALSE))
 */
static void test_lung_age(void)
{
    static const double rev[8] = {2550, 2172, 121, 10, 0, 0.53902539748090028, 0.0013691533845111548,
                                  0.0013830725818119501};
    static const double fwd[8] = {2172, 2550, 121, 10, 0, 0.46097460251909972, 0.0013691533845111548,
                                  0.0013830725818119501};
    hs_concordance c;
    CU_ASSERT_EQUAL_FATAL(hs_concordance_fit(&c, lung_time, lung_status, lung_age, NULL, LUNG_N, 1, NULL), HS_OK);
    check(&c, rev);
    CU_ASSERT_EQUAL_FATAL(hs_concordance_fit(&c, lung_time, lung_status, lung_age, NULL, LUNG_N, 0, NULL), HS_OK);
    check(&c, fwd);
}

/*
 * Generated data, the same formulas in R and here (all arithmetic exact or
 * correctly rounded, so both sides hold identical doubles):
 *   n <- 2000; i <- 0:(n-1)
 *   time <- ((i*37) %% 101) + 1
 *   time <- time * (1 + (i %% 5 == 0) * 1e-12)     # near-ties that timefix merges
 *   status <- as.integer((i*13) %% 7 > 2)
 *   code <- c(5L, -2L, 7L)[i %% 3 + 1]
 *   status[code == 7L] <- 0L                        # a stratum without events
 *   score <- ((i*53) %% 29) / 4
 *   score2 <- ((i*7919) %% 10007) / 10007
 *   y <- Surv(time, status)
 */
#define GEN_N 2000
typedef struct gen {
    double time[GEN_N], score[GEN_N], score2[GEN_N], zero[GEN_N];
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
        if (g->code[i] == 7)
            g->status[i] = 0;
        g->score[i] = (double)((i * 53) % 29) / 4.0;
        g->score2[i] = (double)((i * 7919) % 10007) / 10007.0;
        g->zero[i] = 0.0;
    }
    return g;
}

static void test_generated(void)
{
    /* pc("gen_strat_rev", concordancefit(y, score, code, reverse=TRUE)) */
    static const double strat_rev[8] = {123800, 121928, 8394, 1077, 0, 0.50368327024027826,
                                        0.00014524035847880457, 0.00014800618109601173};
    /* pc("gen_strat_fwd", concordancefit(y, score, code, reverse=FALSE)) */
    static const double strat_fwd[8] = {121928, 123800, 8394, 1077, 0, 0.49631672975972169,
                                        0.00014524035847880457, 0.00014800618109601173};
    /* pc("gen_nostrat_rev", concordancefit(y, score, reverse=TRUE)) */
    static const double nostrat[8] = {371655, 366825, 25920, 2514, 0, 0.50315934065934065,
                                      0.00014458049466848245, 0.00014690966016490012};
    /* pc("gen_real_rev", concordancefit(y, score2, code, reverse=TRUE)) */
    static const double real[8] = {122480, 131642, 0, 1077, 0, 0.48197322545863797, 0.00013701593746159402,
                                   0.00014818225790252815};
    /*
     * Without timefix R gives 123820 121948 8394 665 0 0.50368269056743342 ...
     * (pc("gen_strat_notimefix", concordancefit(y, score, code, reverse=TRUE, timefix=FALSE))),
     * so strat_rev also shows that the near-tied times were merged.
     */
    gen *g = gen_make();
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_concordance c;
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, g->time, g->status, g->score, g->code, GEN_N, 1, NULL), HS_OK);
    check(&c, strat_rev);
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, g->time, g->status, g->score, g->code, GEN_N, 0, NULL), HS_OK);
    check(&c, strat_fwd);
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, g->time, g->status, g->score, NULL, GEN_N, 1, NULL), HS_OK);
    check(&c, nostrat);
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, g->time, g->status, g->score2, g->code, GEN_N, 1, NULL), HS_OK);
    check(&c, real);

    /*
     * Rows in another order give the same answer: reverse the rows.
     */
    /*
     * More than 10 strata, where R switches to its counting-process form:
     * pc("gen_12strata", concordancefit(y, score, i %% 12, reverse=TRUE))
     */
    static const double s12[8] = {29838, 31429, 1825, 226, 0, 0.48739142839028715, 0.0001491349021094274,
                                  0.00015017986139398442};
    int *code12 = malloc(GEN_N * sizeof *code12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(code12);
    for (int i = 0; i < GEN_N; i++)
        code12[i] = i % 12;
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, g->time, g->status, g->score, code12, GEN_N, 1, NULL), HS_OK);
    check(&c, s12);
    free(code12);

    gen *r = malloc(sizeof *r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    for (int i = 0; i < GEN_N; i++) {
        r->time[i] = g->time[GEN_N - 1 - i];
        r->status[i] = g->status[GEN_N - 1 - i];
        r->score[i] = g->score[GEN_N - 1 - i];
        r->code[i] = g->code[GEN_N - 1 - i];
    }
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, r->time, r->status, r->score, r->code, GEN_N, 1, NULL), HS_OK);
    check(&c, strat_rev);
    free(r);
    free(g);
}

/*
 * All scores tied, as for coxph(Surv(time, status) ~ 1) (R reports
 * concordance 0.5, std 0; with lung it prints tied.x 20014, tied.xy 28) or a
 * covariate whose coefficient is NA:
 *   pc("gen_tied", concordancefit(y, rep(0, n), code, reverse=TRUE))
 *   # 0 0 254122 0 1077 0.5 0 0
 */
static void test_all_tied(void)
{
    static const double e[5] = {0, 0, 254122, 0, 1077};
    gen *g = gen_make();
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    hs_concordance c;
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, g->time, g->status, g->zero, g->code, GEN_N, 1, NULL), HS_OK);
    HS_ASSERT_CLOSE(c.concordant, e[0], TOL);
    HS_ASSERT_CLOSE(c.discordant, e[1], TOL);
    HS_ASSERT_CLOSE(c.tied_x, e[2], TOL);
    HS_ASSERT_CLOSE(c.tied_y, e[3], TOL);
    HS_ASSERT_CLOSE(c.tied_xy, e[4], TOL);
    CU_ASSERT_EQUAL(c.c, 0.5);
    CU_ASSERT_EQUAL(c.var, 0.0);
    CU_ASSERT_EQUAL(c.cvar, 0.0);
    free(g);
}

/*
 * No comparable pair:
 *   cf <- concordancefit(Surv(c(1,1,1), c(1,1,1)), c(1,2,3), reverse=TRUE)
 *   # counts 0 0 0 3 0, concordance NaN, var NaN, cvar Inf
 *   cf <- concordancefit(Surv(c(1,2,3,4), c(0,1,0,1)), c(1,2,3,4), strata=c(1,1,2,2), reverse=TRUE)
 *   # counts 0 0 0 0 0, concordance NaN, var NaN, cvar NaN
 */
static void test_no_pairs(void)
{
    static const double t3[3] = {1, 1, 1}, x3[3] = {1, 2, 3};
    static const int s3[3] = {1, 1, 1};
    static const double t4[4] = {1, 2, 3, 4}, x4[4] = {1, 2, 3, 4};
    static const int s4[4] = {0, 1, 0, 1}, k4[4] = {1, 1, 2, 2};
    hs_concordance c;
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, t3, s3, x3, NULL, 3, 1, NULL), HS_OK);
    CU_ASSERT_EQUAL(c.concordant + c.discordant + c.tied_x, 0.0);
    CU_ASSERT_EQUAL(c.tied_y, 3.0);
    CU_ASSERT_EQUAL(c.tied_xy, 0.0);
    CU_ASSERT(isnan(c.c) && isnan(c.var));
    CU_ASSERT(isinf(c.cvar) && c.cvar > 0);
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, t4, s4, x4, k4, 4, 1, NULL), HS_OK);
    CU_ASSERT_EQUAL(c.concordant + c.discordant + c.tied_x + c.tied_y + c.tied_xy, 0.0);
    CU_ASSERT(isnan(c.c) && isnan(c.var) && isnan(c.cvar));
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, NULL, NULL, NULL, NULL, 0, 1, NULL), HS_OK);
    CU_ASSERT(isnan(c.c));
}

/*
 * A hand-checked case: times 1..4 all events, scores 4,3,2,1 with reverse
 * (higher score dies first): all 6 pairs concordant, C = 1.  One score
 * swapped (4,2,3,1): 5 concordant, 1 discordant, C = 5/6.
 */
static void test_hand(void)
{
    static const double t[4] = {1, 2, 3, 4}, x[4] = {4, 3, 2, 1}, x2[4] = {4, 2, 3, 1};
    static const int s[4] = {1, 1, 1, 1};
    hs_concordance c;
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, t, s, x, NULL, 4, 1, NULL), HS_OK);
    CU_ASSERT_EQUAL(c.concordant, 6.0);
    CU_ASSERT_EQUAL(c.c, 1.0);
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, t, s, x2, NULL, 4, 1, NULL), HS_OK);
    CU_ASSERT_EQUAL(c.concordant, 5.0);
    CU_ASSERT_EQUAL(c.discordant, 1.0);
    HS_ASSERT_CLOSE(c.c, 5.0 / 6.0, 1e-15);
}

static void test_errors(void)
{
    static const double t[3] = {1, 2, 3}, x[3] = {1, 2, 3}, xnan[3] = {1, NAN, 3}, tinf[3] = {1, INFINITY, 3};
    static const int s[3] = {1, 0, 1}, sbad[3] = {1, 2, 0};
    hs_concordance c;
    hs_error e;
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, t, sbad, x, NULL, 3, 1, &e), HS_EDATA);
    CU_ASSERT_EQUAL(e.code, HS_EDATA);
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, t, s, xnan, NULL, 3, 1, &e), HS_EDATA);
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, tinf, s, x, NULL, 3, 1, &e), HS_EDATA);
    CU_ASSERT_EQUAL(hs_concordance_fit(&c, NULL, s, x, NULL, 3, 1, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_concordance_fit(NULL, t, s, x, NULL, 3, 1, NULL), HS_EINVAL);
}

int hs_suite_concordance(void)
{
    CU_pSuite s = CU_add_suite("concordance", NULL, NULL);
    if (!s || !CU_add_test(s, "lung coxph", test_lung_coxph) ||
        !CU_add_test(s, "lung coxph strata", test_lung_coxph_strata) ||
        !CU_add_test(s, "lung integer score", test_lung_age) ||
        !CU_add_test(s, "generated, strata, timefix", test_generated) ||
        !CU_add_test(s, "all scores tied", test_all_tied) || !CU_add_test(s, "no comparable pair", test_no_pairs) ||
        !CU_add_test(s, "hand example", test_hand) || !CU_add_test(s, "errors", test_errors))
        return 1;
    return 0;
}
