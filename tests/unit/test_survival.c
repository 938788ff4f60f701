/*
 * Unit tests of stats/survival: one analysis of an in-memory table (built
 * with hs_table_builder) against R survival 3.5-3 and maxstat 0.7-25, the
 * checks of the spec, the cut, and the writers.
 *
 * Data: tests/oracle/data/tiny8.csv (time, status, grp, x; 8 rows).  The
 * expected numbers are R's, as in tests/oracle/ref/tiny8_loglog_tau:
 *   fit <- coxph(Surv(time, status) ~ x + grp, data = d, ties = "breslow")
 *   survfit(Surv(time, status) ~ grp, data = d, conf.type = "log-log"), rmean = 10
 *   survdiff(Surv(time, status) ~ grp, data = d); cox.zph(fit, transform = "km")
 * and for the cuts
 *   survdiff(Surv(time, status) ~ factor(x >= 0.35), data = d)$chisq           # 0.73834726466838008
 *   m <- maxstat.test(Surv(time, status) ~ x, data = d, smethod = "LogRank", pmethod = "Lau92")
 *   m$statistic; m$estimate; m$p.value     # 1.8459827658481944 0.4 0.57343837065824987
 *   survdiff(Surv(time, status) ~ factor(x > m$estimate), data = d)$chisq      # 4.6775702287027441
 * The whole command is checked against R on many more cases by tests/oracle.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohorts/table.h"
#include "stats/survival.h"
#include "suites.h"
#include "tmpfiles.h"

#define TOL 1e-10

static char *dir; /* this suite's scratch directory */

static int suite_init(void) { return hs_test_suite_init(&dir); }
static int suite_clean(void) { return hs_test_suite_clean(&dir); }

static const char *const tiny8[][4] = {
    {"1", "1", "u", "1.5"}, {"2", "1", "v", "-0.2"}, {"2", "1", "u", "0.7"}, {"4", "0", "v", "0.3"},
    {"4", "1", "u", "2.2"}, {"6", "1", "v", "-1.1"}, {"8", "0", "u", "0.4"}, {"11", "1", "v", "0"},
};

/* The tiny8 table, with the given event column (NULL: tiny8's) and x read as kind xkind. */
static hs_table *tiny8_table(const char *const *events, hs_col_kind xkind)
{
    const char *names[] = {"time", "status", "grp", "x"};
    const hs_col_kind kinds[] = {HS_COL_NUMERIC, HS_COL_NUMERIC, HS_COL_FACTOR, xkind};
    hs_table_builder *b = NULL;
    hs_table *t = NULL;
    if (hs_table_builder_alloc(&b, "tiny8", names, kinds, 4, NULL) != HS_OK)
        return NULL;
    for (int r = 0; r < 8; r++) {
        const char *row[4] = {tiny8[r][0], events ? events[r] : tiny8[r][1], tiny8[r][2], tiny8[r][3]};
        if (hs_table_builder_add_row(b, row, r + 2, NULL) != HS_OK) {
            hs_table_builder_free(b);
            return NULL;
        }
    }
    return hs_table_builder_finish(b, &t, NULL) == HS_OK ? t : NULL;
}

static const hs_survival_test *test_named(const hs_survival_result *r, const char *name)
{
    for (size_t i = 0; i < r->ntest; i++)
        if (strcmp(r->test[i].name, name) == 0)
            return &r->test[i];
    return NULL;
}

static void test_analysis(void)
{
    hs_table *t = tiny8_table(NULL, HS_COL_NUMERIC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    const char *cov[] = {"x"};
    hs_survival_spec s;
    hs_survival_spec_default(&s);
    s.time = "time";
    s.event = "status";
    s.group = "grp";
    s.covariates = cov;
    s.ncov = 1;
    s.ties = HS_TIES_BRESLOW;
    s.conf_type = HS_CONF_LOGLOG;
    s.tau = 10;
    hs_survival_result *r = NULL;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(hs_survival_run(t, &s, &r, &e), HS_OK);
    CU_ASSERT_STRING_EQUAL(r->source, "tiny8");
    CU_ASSERT_EQUAL(r->nrow, 8);
    CU_ASSERT_STRING_EQUAL(r->group, "grp");
    CU_ASSERT_EQUAL(r->nlevel, 2);

    /* Kaplan-Meier: median.csv */
    CU_ASSERT_EQUAL_FATAL(r->ncurve, 2);
    CU_ASSERT_STRING_EQUAL(r->curve[0].name, "grp=u");
    CU_ASSERT_STRING_EQUAL(r->curve[1].name, "grp=v");
    CU_ASSERT_EQUAL(r->curve[0].median, 3);
    CU_ASSERT_EQUAL(r->curve[1].median, 6);
    CU_ASSERT_EQUAL(r->curve[1].median_lower, 2);
    CU_ASSERT(isnan(r->curve[1].median_upper));
    HS_ASSERT_CLOSE(r->curve[0].rmst, 4.25, TOL);
    HS_ASSERT_CLOSE(r->curve[0].rmst_se, 1.7455300054711176, TOL);
    HS_ASSERT_CLOSE(r->curve[1].rmst_se, 1.6770509831248424, TOL);
    CU_ASSERT_EQUAL(r->tau, 10);
    CU_ASSERT_EQUAL(r->km_dropped, 0);

    /* Cox: cox.csv, fit.csv */
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->cox);
    CU_ASSERT_EQUAL_FATAL(r->ncoef, 2);
    CU_ASSERT_STRING_EQUAL(r->coef_name[0], "x");
    CU_ASSERT_STRING_EQUAL(r->coef_name[1], "grp=v");
    HS_ASSERT_CLOSE(r->coef[0].coef, 0.27762415629299103, TOL);
    HS_ASSERT_CLOSE(r->coef[1].p, 0.77787897553438623, TOL);
    HS_ASSERT_CLOSE(r->coef[1].hr_upper95, 8.9101316428345942, TOL);
    HS_ASSERT_CLOSE(r->concordance.c, 0.65217391304347827, TOL);
    HS_ASSERT_CLOSE(sqrt(r->concordance.var), 0.11919760128872928, TOL);

    /* tests.csv, in its order */
    static const char *const names[] = {"likelihood_ratio", "wald", "score", "logrank", "zph:x", "zph:grp",
                                        "zph:GLOBAL"};
    static const double stat[] = {0.85115114251428636, 0.84590826392171858, 0.88004627548967851,
                                  0.73834726466837997, 0.15715559733763779, 0.36912411779564952,
                                  0.37101480020905264};
    static const double p[] = {0.65339360230313437, 0.6551086809733031,  0.64402151970515586, 0.39019082304608155,
                               0.69178890587592068, 0.54348208645803453, 0.83068268841945536};
    static const double df[] = {2, 2, 2, 1, 1, 1, 2};
    CU_ASSERT_EQUAL_FATAL(r->ntest, 7);
    for (size_t i = 0; i < 7; i++) {
        CU_ASSERT_STRING_EQUAL(r->test[i].name, names[i]);
        HS_ASSERT_CLOSE(r->test[i].statistic, stat[i], TOL);
        HS_ASSERT_CLOSE(r->test[i].p, p[i], TOL);
        CU_ASSERT_EQUAL(r->test[i].df, df[i]);
    }

    /* the printed summary names the parts */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(hs_survival_print(f, r), HS_OK);
    fclose(f);
    CU_ASSERT(strncmp(text, "Kaplan-Meier (log-log confidence limits)\n", 41) == 0);
    CU_ASSERT(strstr(text, "\nLog-rank test (G-rho, rho = 0)\n") != NULL);
    CU_ASSERT(strstr(text, "\nCox proportional hazards model\n  n = 8, number of events = 6\n") != NULL);
    CU_ASSERT(strstr(text, "  Proportional hazards (cox.zph, km transform): x p = 0.6918; grp p = 0.5435; "
                           "GLOBAL p = 0.8307\n") != NULL);
    free(text);
    hs_survival_result_free(r);
    hs_survival_result_free(NULL);
    hs_table_free(t);
}

static void test_spec_errors(void)
{
    hs_table *t = tiny8_table(NULL, HS_COL_NUMERIC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    hs_survival_result *r = (hs_survival_result *)&dir;
    hs_error e;
    hs_survival_spec s;
    hs_survival_spec_default(&s);
    s.event = "status";
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EINVAL); /* no time */
    CU_ASSERT_PTR_NULL(r);
    s.time = "time";
    CU_ASSERT_EQUAL(hs_survival_run(NULL, &s, &r, &e), HS_EINVAL);
    const char *cov[] = {"grp"};
    s.group = "grp";
    s.covariates = cov;
    s.ncov = 1;
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EINVAL);
    CU_ASSERT_STRING_EQUAL(e.msg, "covariate 'grp' is also the time, event, group, cut or strata column");
    s.ncov = HS_SURVIVAL_MAX_COV + 1;
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EINVAL);
    s.ncov = 0;
    s.rho = -1;
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EINVAL);
    s.rho = 0;
    s.cut_column = "x";
    s.cut = HS_CUT_OPTIMAL;
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EINVAL); /* a cut and a group */
    s.group = NULL;
    s.cut = HS_CUT_NONE;
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EINVAL); /* a cut column without a kind */
    s.cut_column = NULL;

    /* columns missing or of the wrong kind */
    s.group = "x";
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EDATA);
    CU_ASSERT_STRING_EQUAL(e.msg, "tiny8: no categorical column 'x' in the table");
    s.group = NULL;
    s.time = "nope";
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EDATA);
    s.time = "time";
    const int factor[] = {1};
    const char *xcov[] = {"x"};
    s.covariates = xcov;
    s.ncov = 1;
    s.factor = factor; /* categorical, but the table holds x as a number */
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EDATA);
    hs_table_free(t);

    /* event values: not 0/1/2, and 0 mixed with 2 */
    const char *ev3[] = {"1", "1", "3", "0", "1", "1", "0", "1"};
    const char *ev02[] = {"1", "1", "2", "0", "1", "1", "0", "1"};
    s.factor = NULL;
    s.ncov = 0;
    t = tiny8_table(ev3, HS_COL_NUMERIC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EDATA);
    CU_ASSERT_STRING_EQUAL(e.msg, "tiny8:4:2: column 'status': event must be 0/1 (or 1/2), not 3");
    hs_table_free(t);
    t = tiny8_table(ev02, HS_COL_NUMERIC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EDATA);
    CU_ASSERT_STRING_EQUAL(e.msg, "tiny8: column 'status' mixes 0 and 2: use 0/1 or 1/2 coding");
    hs_table_free(t);
    CU_ASSERT_PTR_NULL(r);
}

/* A text covariate read as AUTO is a factor term, dummy-coded like a --factors one. */
static void test_auto_factor_covariate(void)
{
    hs_table *t = tiny8_table(NULL, HS_COL_NUMERIC);
    const char *names[] = {"time", "status", "grp"};
    const hs_col_kind kinds[] = {HS_COL_NUMERIC, HS_COL_NUMERIC, HS_COL_AUTO};
    hs_table_builder *b = NULL;
    hs_table *t2 = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_alloc(&b, "tiny8", names, kinds, 3, NULL), HS_OK);
    for (int r = 0; r < 8; r++)
        CU_ASSERT_EQUAL(hs_table_builder_add_row(b, tiny8[r], r + 2, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_finish(b, &t2, NULL), HS_OK);
    CU_ASSERT_EQUAL(t2->col[2].auto_factor, 1);
    const char *cov[] = {"grp"};
    hs_survival_spec s;
    hs_survival_spec_default(&s);
    s.time = "time";
    s.event = "status";
    s.covariates = cov;
    s.ncov = 1;
    hs_survival_result *r1 = NULL, *r2 = NULL;
    hs_error e;
    const int factor[] = {1};
    CU_ASSERT_EQUAL_FATAL(hs_survival_run(t2, &s, &r1, &e), HS_OK); /* as the table stores it */
    s.factor = factor;
    CU_ASSERT_EQUAL_FATAL(hs_survival_run(t, &s, &r2, &e), HS_OK);  /* named a factor */
    CU_ASSERT_EQUAL_FATAL(r1->ncoef, 1);
    CU_ASSERT_STRING_EQUAL(r1->coef_name[0], "grp=v");
    CU_ASSERT_EQUAL(r1->coef[0].coef, r2->coef[0].coef);
    hs_survival_result_free(r1);
    hs_survival_result_free(r2);
    hs_table_free(t);
    hs_table_free(t2);
}

static void test_cut(void)
{
    hs_table *t = tiny8_table(NULL, HS_COL_NUMERIC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    hs_survival_spec s;
    hs_survival_spec_default(&s);
    s.time = "time";
    s.event = "status";
    s.cut_column = "x";
    s.cut = HS_CUT_VALUE;
    s.cut_value = 0.35;
    hs_survival_result *r = NULL;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(hs_survival_run(t, &s, &r, &e), HS_OK);
    CU_ASSERT_STRING_EQUAL(r->group, "x");
    CU_ASSERT_EQUAL_FATAL(r->nlevel, 2);
    CU_ASSERT_STRING_EQUAL(r->level[0], "low");
    CU_ASSERT_STRING_EQUAL(r->level[1], "high");
    CU_ASSERT_EQUAL(r->cut_n[0], 4);
    CU_ASSERT_EQUAL(r->cut_n[1], 4);
    CU_ASSERT_STRING_EQUAL(r->curve[0].name, "x=low");
    CU_ASSERT_STRING_EQUAL(r->coef_name[0], "x=high");
    HS_ASSERT_CLOSE(test_named(r, "logrank")->statistic, 0.73834726466838008, TOL);
    CU_ASSERT_PTR_NULL(test_named(r, "maxstat"));
    CU_ASSERT_PTR_NULL(r->maxstat);
    hs_survival_result_free(r);

    s.cut = HS_CUT_OPTIMAL;
    CU_ASSERT_EQUAL_FATAL(hs_survival_run(t, &s, &r, &e), HS_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->maxstat);
    CU_ASSERT_EQUAL(r->maxstat->estimate, 0.4);
    CU_ASSERT_EQUAL(r->cut_value, 0.7); /* high: x >= 0.7, i.e. x > 0.4 */
    const hs_survival_test *m = test_named(r, "maxstat");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    HS_ASSERT_CLOSE(m->statistic, 1.8459827658481944, TOL);
    HS_ASSERT_CLOSE(m->p, 0.57343837065824987, TOL);
    CU_ASSERT(isnan(m->df));
    HS_ASSERT_CLOSE(test_named(r, "logrank")->statistic, 4.6775702287027441, TOL);
    /* maxstat comes after logrank and before the zph rows */
    CU_ASSERT_STRING_EQUAL(r->test[3].name, "logrank");
    CU_ASSERT_STRING_EQUAL(r->test[4].name, "maxstat");
    CU_ASSERT_STRING_EQUAL(r->test[5].name, "zph:x");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(hs_survival_print(f, r), HS_OK);
    fclose(f);
    CU_ASSERT(strncmp(text, "Cutpoint CHOSEN FROM THE DATA: x >= 0.7 is \"high\"", 49) == 0);
    CU_ASSERT(strstr(text, "this p-value is corrected") != NULL);
    CU_ASSERT(strstr(text, "not\n  corrected and are too small") != NULL);
    free(text);
    hs_survival_result_free(r);

    /* a cut that cannot be chosen says why */
    s.cut_column = "time";
    CU_ASSERT_EQUAL(hs_survival_run(t, &s, &r, &e), HS_EINVAL);
    hs_table_free(t);
}

/* Counts the entries of path (dot files included), or -1. */
static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_write(void)
{
    hs_table *t = tiny8_table(NULL, HS_COL_NUMERIC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    hs_survival_spec s;
    hs_survival_spec_default(&s);
    s.time = "time";
    s.event = "status";
    hs_survival_result *r = NULL;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(hs_survival_run(t, &s, &r, &e), HS_OK);
    CU_ASSERT_PTR_NULL(r->cox);
    /* without a model: km, median and tests (a header alone), nothing else, no temporary file left */
    char *out = hs_test_path(dir, "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(hs_survival_write(r, out, &e), HS_OK);
    CU_ASSERT_EQUAL(count_entries(out), 3);
    char *path = hs_test_path(dir, "tests.csv");
    FILE *f = fopen(path, "r");
    char line[128] = "";
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    CU_ASSERT_STRING_EQUAL(line, "test,statistic,df,p\n");
    CU_ASSERT_PTR_NULL(fgets(line, sizeof line, f));
    fclose(f);
    free(path);
    path = hs_test_path(dir, "median.csv");
    f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    /* R: summary(survfit(Surv(time, status) ~ 1, data = d), rmean = 11)$table: median 5, LCL 2, UCL NA,
       rmean 5.791666666666667, se 1.4508987077619118 */
    CU_ASSERT_STRING_EQUAL(line, "all,8,6,5,2,NA,5.791666666666667,1.4508987077619118,11\n");
    fclose(f);
    free(path);
    /* a folder that does not exist: an I/O error naming the file */
    path = hs_test_path(dir, "no/such/folder");
    CU_ASSERT_EQUAL(hs_survival_write(r, path, &e), HS_EIO);
    CU_ASSERT(strstr(e.msg, "no/such/folder/km.csv: cannot create: ") != NULL);
    CU_ASSERT_EQUAL(hs_survival_write(NULL, path, &e), HS_EINVAL);
    free(path);
    free(out);
    hs_survival_result_free(r);
    hs_table_free(t);
}

int hs_suite_survival(void)
{
    CU_pSuite s = CU_add_suite("survival", suite_init, suite_clean);
    if (!s || !CU_add_test(s, "one analysis of a built table, against R", test_analysis) ||
        !CU_add_test(s, "spec and data errors", test_spec_errors) ||
        !CU_add_test(s, "text covariate as a factor", test_auto_factor_covariate) ||
        !CU_add_test(s, "cut at a value and at the optimal cutpoint", test_cut) ||
        !CU_add_test(s, "writers", test_write))
        return 1;
    return 0;
}
