/*
 * Unit tests of cohorts/manifest: a valid manifest, then one manifest holding
 * every kind of problem, each expected with its line, column and message
 * (worked out by hand from the text and from manifest.h's contract), header
 * problems, slide path resolution and the file-level failures.
 *
 * The suite's scratch directory (mkdtemp, removed afterwards) holds the
 * manifests and the slide files slides/P1.svs, P2.svs and P3.svs.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohorts/manifest.h"
#include "suites.h"
#include "tmpfiles.h"

static char *dir; /* this suite's scratch directory */

static int suite_init(void)
{
    dir = hs_test_tmpdir();
    if (!dir)
        return 1;
    static const char *const slides[] = {"slides/P1.svs", "slides/P2.svs", "slides/P3.svs"};
    for (size_t i = 0; i < 3; i++) {
        char *p = hs_test_write(dir, slides[i], "not really a slide\n", HS_TEST_STRLEN);
        if (!p) {
            hs_test_rmtree(dir);
            dir = NULL;
            return 1;
        }
        free(p);
    }
    return 0;
}

static int suite_clean(void)
{
    hs_test_rmtree(dir);
    dir = NULL;
    return 0;
}

/* Writes text to dir/name and reads it as a manifest; *path_out gets the path. */
static int load(hs_manifest **m, const char *name, const char *text, const char *const *factors, size_t nfactor,
                int check_slides, hs_error *err, char **path_out)
{
    char *path = hs_test_write(dir, name, text, HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    *m = (hs_manifest *)&dir; /* a stale value that a failure must clear */
    int rc = hs_manifest_read(m, path, factors, nfactor, check_slides, err);
    if (rc != HS_OK)
        CU_ASSERT_PTR_NULL(*m);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return rc;
}

/* dir + "/" + rel, in a static buffer. */
static const char *in_dir(const char *rel)
{
    static char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return buf;
}

typedef struct want_problem {
    long line;
    size_t column;
    int warning;
    const char *msg;
} want_problem;

/*
 * Checks that m's problems are exactly want[0..n-1]: the same multiset, listed
 * in non-decreasing line order (the order inside one line is not part of the
 * contract).  Reports each unmatched problem through CUnit.
 */
static void check_problems(const hs_manifest *m, const want_problem *want, size_t n)
{
    CU_ASSERT_EQUAL(m->nproblem, n);
    size_t nerr = 0, nwarn = 0;
    for (size_t i = 0; i < n; i++)
        want[i].warning ? nwarn++ : nerr++;
    CU_ASSERT_EQUAL(m->nerror, nerr);
    CU_ASSERT_EQUAL(m->nwarning, nwarn);
    int *used = calloc(m->nproblem + 1, sizeof *used);
    CU_ASSERT_PTR_NOT_NULL_FATAL(used);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < m->nproblem &&
               (used[k] || m->problem[k].line != want[i].line || m->problem[k].column != want[i].column ||
                m->problem[k].warning != want[i].warning || strcmp(m->problem[k].msg, want[i].msg) != 0))
            k++;
        if (k < m->nproblem)
            used[k] = 1;
        else
            CU_FAIL("expected problem not reported (line, column, warning, message below)");
        if (k == m->nproblem)
            fprintf(stderr, "\n    missing: %ld:%zu:%d: %s", want[i].line, want[i].column, want[i].warning, want[i].msg);
    }
    for (size_t k = 0; k < m->nproblem; k++) {
        if (!used[k])
            fprintf(stderr, "\n    unexpected: %ld:%zu:%d: %s", m->problem[k].line, m->problem[k].column,
                    m->problem[k].warning, m->problem[k].msg);
        if (k > 0)
            CU_ASSERT(m->problem[k].line >= m->problem[k - 1].line);
    }
    free(used);
}

static int streq_or_null(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void test_required_names(void)
{
    static const char *const want[HS_MF_NREQ] = {"patient_id", "slide",   "dfs_time",
                                                 "dfs_event",  "os_time", "os_event"};
    for (int k = 0; k < HS_MF_NREQ; k++)
        CU_ASSERT_STRING_EQUAL(hs_manifest_required[k], want[k]);
}

static void test_valid(void)
{
    /* The standard columns shuffled among covariates; P2 has no age, P3 no grade, P2 stage NA. */
    const char *text = "age,os_event,patient_id,grade,os_time,slide,dfs_event,dfs_time,stage\n"
                       "61,1,P1,G2,100.5,slides/P1.svs,1,80,2\n"
                       ",0,P2,G1,200,slides/P2.svs,0,200,NA\n"
                       "\n"
                       "55,1,P3,,30,slides/P3.svs,1,30,1.5\n";
    const char *factors[] = {"grade"};
    hs_manifest *m;
    hs_error e = {0};
    char *path;
    CU_ASSERT_EQUAL_FATAL(load(&m, "valid.csv", text, factors, 1, 1, &e, &path), HS_OK);
    CU_ASSERT_STRING_EQUAL(m->path, path);
    check_problems(m, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(m->ncov, 3);
    static const char *const cov[] = {"age", "grade", "stage"};
    static const int factor[] = {0, 1, 0};
    for (size_t j = 0; j < 3; j++) {
        CU_ASSERT_STRING_EQUAL(m->cov_name[j], cov[j]);
        CU_ASSERT_EQUAL(m->cov_factor[j], factor[j]);
        CU_ASSERT_EQUAL(m->cov_auto[j], 0);
        CU_ASSERT_EQUAL(m->cov_missing[j], 1);
    }
    CU_ASSERT_EQUAL_FATAL(m->npatient, 3);
    static const struct {
        const char *id, *slide;
        double dfs_time, os_time;
        int dfs_event, os_event;
        long line;
        const char *cov[3];
    } want[] = {
        {"P1", "slides/P1.svs", 80, 100.5, 1, 1, 2, {"61", "G2", "2"}},
        {"P2", "slides/P2.svs", 200, 200, 0, 0, 3, {NULL, "G1", NULL}},
        {"P3", "slides/P3.svs", 30, 30, 1, 1, 5, {"55", NULL, "1.5"}},
    };
    for (size_t i = 0; i < 3; i++) {
        const hs_manifest_patient *p = &m->patient[i];
        CU_ASSERT_STRING_EQUAL(p->patient_id, want[i].id);
        CU_ASSERT_STRING_EQUAL(p->slide, want[i].slide);
        CU_ASSERT_STRING_EQUAL(p->slide_path, in_dir(want[i].slide));
        CU_ASSERT_EQUAL(p->dfs_time, want[i].dfs_time);
        CU_ASSERT_EQUAL(p->os_time, want[i].os_time);
        CU_ASSERT_EQUAL(p->dfs_event, want[i].dfs_event);
        CU_ASSERT_EQUAL(p->os_event, want[i].os_event);
        CU_ASSERT_EQUAL(p->line, want[i].line);
        for (size_t j = 0; j < 3; j++)
            CU_ASSERT(streq_or_null(p->cov[j], want[i].cov[j]));
    }
    free(path);
    hs_manifest_free(m);
    hs_manifest_free(NULL);
}

static void test_every_problem(void)
{
    /*
     * Columns: 1 patient_id, 2 age, 3 slide, 4 os_time, 5 os_event, 6 dfs_time,
     * 7 dfs_event, 8 grade (a factor), 9 stage.  Line 16 is blank; the record
     * on lines 18-19 has a two-line grade.
     */
    const char *text = "patient_id,age,slide,os_time,os_event,dfs_time,dfs_event,grade,stage\n" /* 1 */
                       "P1,50,slides/P1.svs,100,1,80,1,G1,2\n"                                /* 2 valid */
                       "P1,51,slides/P2.svs,100,1,80,1,G2,2\n"                                /* 3 */
                       "NA,52,slides/P2.svs,100,1,80,1,G2,2\n"                                /* 4 */
                       "P4,,slides/P4.svs,100,1,80,1,,3\n"                                    /* 5 */
                       "P5,NA,,100,1,80,1,G1,2\n"                                             /* 6 */
                       "P6,54,slides/P1.svs,abc,1,80,1,G1,2\n"                                /* 7 */
                       "P7,55,slides/P1.svs,-5,1,80,1,G1,2\n"                                 /* 8 */
                       "P8,56,slides/P1.svs,Inf,1,80,1,G1,2\n"                                /* 9 */
                       "P9,57,slides/P1.svs,100,2,80,1,G1,2\n"                                /* 10 */
                       "P10,58,slides/P1.svs,100,yes,80,NA,G1,2\n"                            /* 11 */
                       "P11,59,slides/P1.svs,50,1,80,0,G1,2\n"                                /* 12 */
                       "P12,60,slides/P1.svs,100,1,80,1,G1,high\n"                            /* 13 */
                       "P13,61,slides/P1.svs\n"                                               /* 14 */
                       "P14,x62,slides/P1.svs,,1,,1,G1,\n"                                    /* 15 */
                       "\n"                                                                   /* 16 */
                       "P15,63,slides/P2.svs,NaN,0,1e5x,0,G3,1\n"                             /* 17 */
                       "P16,64,slides/P3.svs,100,1,80,1,\"G\n4\",2\n"                         /* 18-19 valid */
                       "P17,65,slides/P3.svs,100,1,80,-1,G1,2\n"                              /* 20 */
                       "P18,66,slides/P3.svs,100,1,-0.5,1,G1,2\n"                             /* 21 */
                       "P19,67,slides/P3.svs,100,1,-Inf,1,G1,2\n";                            /* 22 */
    char missing_slide[PATH_MAX + 64];
    snprintf(missing_slide, sizeof missing_slide, "slide '%s': no such file", in_dir("slides/P4.svs"));
    const char *event_msg = "event must be 0 (censored) or 1 (event), not";
    char m10[128], m11[128], m20[128];
    snprintf(m10, sizeof m10, "os_event: %s '2'", event_msg);
    snprintf(m11, sizeof m11, "os_event: %s 'yes'", event_msg);
    snprintf(m20, sizeof m20, "dfs_event: %s '-1'", event_msg);
    const want_problem want[] = {
        {1, 0, 0, "--factors names 'nonexistent', which is not a covariate column"},
        {3, 1, 0, "duplicate patient_id 'P1' (first on line 2)"},
        {4, 1, 0, "patient_id: missing value ('NA')"},
        {5, 3, 0, missing_slide},
        {6, 3, 0, "slide: missing value ('')"},
        {7, 4, 0, "os_time: not a number: 'abc'"},
        {8, 4, 0, "os_time: negative time: '-5'"},
        {9, 4, 0, "os_time: not a finite time: 'Inf'"},
        {10, 5, 0, m10},
        {11, 7, 0, "dfs_event: missing value ('NA')"},
        {11, 5, 0, m11},
        {12, 6, 1, "dfs_time 80 is later than os_time 50 (disease-free time cannot exceed survival time)"},
        {14, 0, 0, "row has 3 fields, the header has 9"},
        {15, 6, 0, "dfs_time: missing value ('')"},
        {15, 4, 0, "os_time: missing value ('')"},
        {17, 6, 0, "dfs_time: not a number: '1e5x'"},
        {17, 4, 0, "os_time: missing value ('NaN')"},
        {20, 7, 0, m20},
        {21, 6, 0, "dfs_time: negative time: '-0.5'"},
        {22, 6, 0, "dfs_time: not a finite time: '-Inf'"},
    };
    const char *factors[] = {"grade", "nonexistent"};
    hs_manifest *m;
    hs_error e = {0};
    CU_ASSERT_EQUAL_FATAL(load(&m, "problems.csv", text, factors, 2, 1, &e, NULL), HS_OK);
    check_problems(m, want, sizeof want / sizeof want[0]);
    CU_ASSERT_EQUAL(m->nerror, 19);
    CU_ASSERT_EQUAL(m->nwarning, 1);

    /* Every row but the ragged one is a patient; invalid cells are NAN / -1 / NULL. */
    CU_ASSERT_EQUAL_FATAL(m->npatient, 18);
    CU_ASSERT_EQUAL_FATAL(m->ncov, 3);
    CU_ASSERT_EQUAL(m->cov_missing[0], 2); /* age: lines 5 and 6 (x62 is a value, not missing) */
    CU_ASSERT_EQUAL(m->cov_missing[1], 1); /* grade: line 5 */
    CU_ASSERT_EQUAL(m->cov_missing[2], 1); /* stage: line 15 */
    /* a value that is not a number (x62, high) makes the column categorical, as R's read.csv does */
    static const int factor[] = {1, 1, 1}, autof[] = {1, 0, 1};
    for (size_t j = 0; j < 3; j++) {
        CU_ASSERT_EQUAL(m->cov_factor[j], factor[j]);
        CU_ASSERT_EQUAL(m->cov_auto[j], autof[j]);
    }
    static const long line[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 17, 18, 20, 21, 22};
    for (size_t i = 0; i < 18; i++)
        CU_ASSERT_EQUAL(m->patient[i].line, line[i]);
    const hs_manifest_patient *p = m->patient;
    CU_ASSERT_STRING_EQUAL(p[1].patient_id, "P1");   /* the duplicate keeps its id */
    CU_ASSERT_PTR_NULL(p[2].patient_id);              /* NA */
    CU_ASSERT_STRING_EQUAL(p[3].slide_path, in_dir("slides/P4.svs"));
    CU_ASSERT_PTR_NULL(p[4].slide);
    CU_ASSERT(isnan(p[5].os_time));                   /* abc */
    CU_ASSERT(isnan(p[6].os_time));                   /* -5 */
    CU_ASSERT(isnan(p[7].os_time));                   /* Inf */
    CU_ASSERT_EQUAL(p[7].dfs_time, 80);
    CU_ASSERT_EQUAL(p[8].os_event, -1);               /* 2 */
    CU_ASSERT_EQUAL(p[9].dfs_event, -1);              /* NA */
    CU_ASSERT_EQUAL(p[9].os_event, -1);               /* yes */
    CU_ASSERT_EQUAL(p[10].dfs_time, 80);              /* a warning keeps the values */
    CU_ASSERT_EQUAL(p[10].os_time, 50);
    CU_ASSERT_EQUAL(p[10].dfs_event, 0);
    CU_ASSERT_STRING_EQUAL(p[11].cov[2], "high");
    CU_ASSERT_STRING_EQUAL(p[12].cov[0], "x62");
    CU_ASSERT(isnan(p[13].os_time) && isnan(p[13].dfs_time));
    CU_ASSERT_EQUAL(p[13].os_event, 0);
    CU_ASSERT_STRING_EQUAL(p[14].cov[1], "G\n4");
    CU_ASSERT_EQUAL(p[15].dfs_event, -1);
    CU_ASSERT(isnan(p[16].dfs_time));
    CU_ASSERT(isnan(p[17].dfs_time));
    hs_manifest_free(m);
}

static void test_header_problems(void)
{
    hs_manifest *m;
    hs_error e = {0};
    /* Three standard columns missing: the rows (even a ragged one) are not checked. */
    const char *factors[] = {"age", "zzz"};
    CU_ASSERT_EQUAL_FATAL(load(&m, "h1.csv", "patient_id,slide,os_time,age\nP1,slides/P1.svs,1,2\nragged\n", factors,
                               2, 1, &e, NULL),
                          HS_OK);
    const want_problem w1[] = {
        {1, 0, 0, "missing required column 'dfs_time'"},
        {1, 0, 0, "missing required column 'dfs_event'"},
        {1, 0, 0, "missing required column 'os_event'"},
        {1, 0, 0, "--factors names 'zzz', which is not a covariate column"},
    };
    check_problems(m, w1, 4);
    CU_ASSERT_EQUAL(m->npatient, 0);
    hs_manifest_free(m);

    /* None of them, on a header after a blank line. */
    CU_ASSERT_EQUAL_FATAL(load(&m, "h2.csv", "\na,b\n1,2\n", NULL, 0, 1, &e, NULL), HS_OK);
    const want_problem w2[] = {
        {2, 0, 0, "missing required column 'patient_id'"}, {2, 0, 0, "missing required column 'slide'"},
        {2, 0, 0, "missing required column 'dfs_time'"},   {2, 0, 0, "missing required column 'dfs_event'"},
        {2, 0, 0, "missing required column 'os_time'"},    {2, 0, 0, "missing required column 'os_event'"},
    };
    check_problems(m, w2, 6);
    CU_ASSERT_EQUAL(m->npatient, 0);
    hs_manifest_free(m);

    /* An empty and a duplicate column name; the rows are still checked. */
    CU_ASSERT_EQUAL_FATAL(load(&m, "h3.csv",
                               "patient_id,,slide,dfs_time,dfs_event,os_time,os_event,age,age\n"
                               "P1,x,slides/P1.svs,1,0,2,1,3,4\n"
                               "P2,x,slides/P2.svs,1,0,2,1,3,NA\n",
                               NULL, 0, 1, &e, NULL),
                          HS_OK);
    const want_problem w3[] = {
        {1, 2, 0, "empty column name"},
        {1, 9, 0, "duplicate column name 'age' (also column 8)"},
    };
    check_problems(m, w3, 2);
    CU_ASSERT_EQUAL(m->npatient, 2);
    CU_ASSERT_EQUAL_FATAL(m->ncov, 1);
    CU_ASSERT_STRING_EQUAL(m->cov_name[0], "age");
    CU_ASSERT_STRING_EQUAL(m->patient[1].cov[0], "3");
    CU_ASSERT_EQUAL(m->cov_missing[0], 0);
    hs_manifest_free(m);

    /* Header only: parsed, no patients, and that is an error that says so (on the header's line). */
    CU_ASSERT_EQUAL_FATAL(load(&m, "h4.csv", "\npatient_id,slide,dfs_time,dfs_event,os_time,os_event\n\n", NULL, 0, 1,
                               &e, NULL),
                          HS_OK);
    const want_problem w4[] = {{2, 0, 0, "no patient rows: the manifest has only a header line"}};
    check_problems(m, w4, 1);
    CU_ASSERT_EQUAL(m->npatient, 0);
    hs_manifest_free(m);

    /* A bad header and no rows: both are said. */
    CU_ASSERT_EQUAL_FATAL(load(&m, "h5.csv", "patient_id,slide,dfs_time,dfs_event,os_time\n", NULL, 0, 1, &e, NULL),
                          HS_OK);
    const want_problem w5[] = {
        {1, 0, 0, "missing required column 'os_event'"},
        {1, 0, 0, "no patient rows: the manifest has only a header line"},
    };
    check_problems(m, w5, 2);
    hs_manifest_free(m);
}

static void test_slide_paths(void)
{
    char text[4 * PATH_MAX];
    char abs_ok[PATH_MAX], abs_missing[PATH_MAX];
    snprintf(abs_ok, sizeof abs_ok, "%s", in_dir("slides/P1.svs"));
    snprintf(abs_missing, sizeof abs_missing, "%s", in_dir("nowhere/X.svs"));
    snprintf(text, sizeof text,
             "patient_id,slide,dfs_time,dfs_event,os_time,os_event\n"
             "A,%s,1,0,1,0\n"
             "B,%s,1,0,1,0\n"
             "C,slides/none.svs,1,0,1,0\n",
             abs_ok, abs_missing);
    hs_manifest *m;
    hs_error e = {0};
    /* In a sub-folder: relative slides are resolved against it, absolute ones are kept. */
    CU_ASSERT_EQUAL_FATAL(load(&m, "sub/abs.csv", text, NULL, 0, 1, &e, NULL), HS_OK);
    char msg_b[PATH_MAX + 64], msg_c[PATH_MAX + 64];
    snprintf(msg_b, sizeof msg_b, "slide '%s': no such file", abs_missing);
    snprintf(msg_c, sizeof msg_c, "slide '%s': no such file", in_dir("sub/slides/none.svs"));
    const want_problem w[] = {{3, 2, 0, msg_b}, {4, 2, 0, msg_c}};
    check_problems(m, w, 2);
    CU_ASSERT_EQUAL_FATAL(m->npatient, 3);
    CU_ASSERT_STRING_EQUAL(m->patient[0].slide, abs_ok);
    CU_ASSERT_STRING_EQUAL(m->patient[0].slide_path, abs_ok);
    CU_ASSERT_STRING_EQUAL(m->patient[1].slide_path, abs_missing);
    CU_ASSERT_STRING_EQUAL(m->patient[2].slide, "slides/none.svs");
    CU_ASSERT_STRING_EQUAL(m->patient[2].slide_path, in_dir("sub/slides/none.svs"));
    hs_manifest_free(m);

    /* Without check_slides, absent slides are not problems. */
    CU_ASSERT_EQUAL_FATAL(load(&m, "sub/abs2.csv", text, NULL, 0, 0, &e, NULL), HS_OK);
    check_problems(m, NULL, 0);
    hs_manifest_free(m);

    /* A manifest path without a folder: slides are relative to the working directory. */
    char cwd[PATH_MAX];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    CU_ASSERT_EQUAL_FATAL(chdir(dir), 0);
    const char *factors[] = {"grade"};
    int rc = hs_manifest_read(&m, "valid.csv", factors, 1, 1, &e);
    CU_ASSERT_EQUAL_FATAL(chdir(cwd), 0);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK); /* valid.csv was written by test_valid */
    check_problems(m, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(m->npatient, 3);
    CU_ASSERT_STRING_EQUAL(m->patient[0].slide_path, "slides/P1.svs");
    hs_manifest_free(m);
}

static void test_file_errors(void)
{
    hs_manifest *m = (hs_manifest *)&dir;
    hs_error e = {0};
    char *path = hs_test_path(dir, "absent.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_EQUAL(hs_manifest_read(&m, path, NULL, 0, 1, &e), HS_EIO);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_EQUAL(strncmp(e.msg, path, strlen(path)), 0);
    free(path);

    CU_ASSERT_EQUAL(load(&m, "empty.csv", "\n\n", NULL, 0, 1, &e, &path), HS_EDATA);
    CU_ASSERT_EQUAL(strncmp(e.msg, path, strlen(path)), 0);
    CU_ASSERT_STRING_EQUAL(e.msg + strlen(path), ":1: empty file: no header line");
    free(path);

    CU_ASSERT_EQUAL(load(&m, "badcsv.csv",
                         "patient_id,slide,dfs_time,dfs_event,os_time,os_event\n"
                         "P1,slides/P1.svs,1,0,1,0\n"
                         "P2,sl\"ides,1,0,1,0\n",
                         NULL, 0, 1, &e, &path),
                    HS_EDATA);
    CU_ASSERT_EQUAL(strncmp(e.msg, path, strlen(path)), 0);
    CU_ASSERT_EQUAL(strncmp(e.msg + strlen(path), ":3:2: malformed CSV: a quote inside an unquoted field", 53), 0);
    CU_ASSERT_PTR_NULL(strstr(e.msg, "strict"));
    free(path);
}

int hs_suite_manifest(void)
{
    CU_pSuite s = CU_add_suite("manifest", suite_init, suite_clean);
    if (!s || !CU_add_test(s, "required names", test_required_names) || !CU_add_test(s, "valid", test_valid) ||
        !CU_add_test(s, "every problem", test_every_problem) ||
        !CU_add_test(s, "header problems", test_header_problems) ||
        !CU_add_test(s, "slide paths", test_slide_paths) || !CU_add_test(s, "file errors", test_file_errors))
        return 1;
    return 0;
}
