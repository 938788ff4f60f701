/*
 * Unit tests of scoring/controls: the control-slide table.  Columns by name
 * in any order with others ignored, the class spellings, slide paths taken
 * relative to the table's folder (absolute ones as written), quoted fields;
 * and every error naming FILE:LINE:COLUMN (FILE:LINE for a row-wide problem,
 * FILE:1 for a missing column), with *out left NULL.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scoring/controls.h"
#include "suites.h"
#include "tmpfiles.h"

static char *dir;

static int suite_init(void)
{
    return hs_test_suite_init(&dir);
}

static int suite_clean(void)
{
    return hs_test_suite_clean(&dir);
}

static void test_good(void)
{
    char *path = hs_test_write(dir, "tables/ctl.csv",
                               "class,slide,batch,x0_um,y0_um,x1_um,y1_um,note\n"
                               "0,ctl/a.tif,run1,0,0,100,100,x\n"
                               "1+,/abs/b.tif,run1,10.5,20,30,40.25,\n"
                               "2,ctl/a.tif,run2,0,0,5e2,1e3,\n"
                               "3+,\"c,d.tif\",run2,1,2,3,4,\"q, r\"\n"
                               "0+,e.tif,run 3,0,0,1,1,\n"
                               "1,e.tif,run 3,0,0,1,1,\n"
                               "2+,e.tif,run 3,0,0,1,1,\n"
                               "3,e.tif,run 3,0,0,1,1,\n",
                               HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    hs_controls *c = NULL;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(hs_controls_read(&c, path, &e), HS_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(c->n, 8);
    char want[4096];
    const hs_control_area *a = c->area;
    CU_ASSERT_STRING_EQUAL(a[0].batch, "run1");
    CU_ASSERT_STRING_EQUAL(a[0].slide, "ctl/a.tif");
    snprintf(want, sizeof want, "%s/tables/ctl/a.tif", dir);
    CU_ASSERT_STRING_EQUAL(a[0].path, want);
    CU_ASSERT_EQUAL(a[0].cls, HS_CLASS_0);
    CU_ASSERT_EQUAL(a[0].line, 2);
    CU_ASSERT_EQUAL(a[0].rect[2], 100);
    CU_ASSERT_STRING_EQUAL(a[1].path, "/abs/b.tif");
    CU_ASSERT_EQUAL(a[1].cls, HS_CLASS_1);
    CU_ASSERT_EQUAL(a[1].rect[0], 10.5);
    CU_ASSERT_EQUAL(a[1].rect[1], 20);
    CU_ASSERT_EQUAL(a[1].rect[2], 30);
    CU_ASSERT_EQUAL(a[1].rect[3], 40.25);
    CU_ASSERT_EQUAL(a[2].cls, HS_CLASS_2);
    CU_ASSERT_EQUAL(a[2].rect[2], 500);
    CU_ASSERT_EQUAL(a[2].rect[3], 1000);
    CU_ASSERT_STRING_EQUAL(a[2].batch, "run2");
    CU_ASSERT_STRING_EQUAL(a[3].slide, "c,d.tif");
    snprintf(want, sizeof want, "%s/tables/c,d.tif", dir);
    CU_ASSERT_STRING_EQUAL(a[3].path, want);
    CU_ASSERT_EQUAL(a[3].cls, HS_CLASS_3);
    CU_ASSERT_EQUAL(a[3].line, 5);
    static const hs_class k[4] = {HS_CLASS_0, HS_CLASS_1, HS_CLASS_2, HS_CLASS_3};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(a[4 + i].cls, k[i]);
        CU_ASSERT_STRING_EQUAL(a[4 + i].batch, "run 3");
    }
    hs_controls_free(c);
    hs_controls_free(NULL);
    free(path);
}

/* A table named without a folder: slide paths stay as written (relative to the working directory). */
static void test_no_folder(void)
{
    char *path = hs_test_write(dir, "plain.csv", "batch,slide,class,x0_um,y0_um,x1_um,y1_um\nb,s.tif,2+,0,0,1,1\n",
                               HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    char cwd[PATH_MAX];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    CU_ASSERT_EQUAL_FATAL(chdir(dir), 0);
    hs_controls *c = NULL;
    int rc = hs_controls_read(&c, "plain.csv", NULL);
    CU_ASSERT_EQUAL_FATAL(chdir(cwd), 0);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    CU_ASSERT_EQUAL(c->n, 1);
    CU_ASSERT_STRING_EQUAL(c->area[0].path, "s.tif");
    hs_controls_free(c);
    free(path);
}

/* Writes text to name, reads it; expects HS_EDATA with "<path><where>" and what in the message. */
static void check_bad(const char *name, const char *text, const char *where, const char *what)
{
    char *path = hs_test_write(dir, name, text, HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    hs_controls *c = (hs_controls *)path;
    hs_error e;
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_controls_read(&c, path, &e), HS_EDATA);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(e.code, HS_EDATA);
    char want[4096];
    snprintf(want, sizeof want, "%s%s", path, where);
    CU_ASSERT(strncmp(e.msg, want, strlen(want)) == 0);
    CU_ASSERT(strstr(e.msg, what) != NULL);
    if (strncmp(e.msg, want, strlen(want)) != 0 || !strstr(e.msg, what))
        fprintf(stderr, "\n    got: %s\n    want: %s ... %s\n", e.msg, want, what);
    free(path);
}

#define HEAD "batch,slide,class,x0_um,y0_um,x1_um,y1_um\n"

static void test_errors(void)
{
    check_bad("nocol.csv", "batch,slide,class,x0_um,y0_um,x1_um\nb,s,0,0,0,1\n", ":1:",
              "missing required column 'y1_um'");
    check_bad("class.csv", HEAD "b,s,0,0,0,1,1\nb,s,4+,0,0,1,1\n", ":3:3:", "class: '4+' is not 0, 1+, 2+ or 3+");
    check_bad("class2.csv", HEAD "b,s,1++,0,0,1,1\n", ":2:3:", "'1++'");
    check_bad("num.csv", HEAD "b,s,0,0,0,abc,1\n", ":2:6:", "x1_um: 'abc' is not a number >= 0");
    check_bad("neg.csv", HEAD "b,s,0,0,-5,1,1\n", ":2:5:", "y0_um: '-5' is not a number >= 0");
    check_bad("inf.csv", HEAD "b,s,0,0,0,inf,1\n", ":2:6:", "x1_um");
    check_bad("empty.csv", HEAD ",s,0,0,0,1,1\n", ":2:1:", "batch is empty");
    check_bad("na.csv", HEAD "b,NA,0,0,0,1,1\n", ":2:2:", "slide is empty");
    check_bad("rect.csv", HEAD "b,s,0,10,0,10,5\n", ":2:", "the rectangle (10, 0)-(10, 5) is empty");
    check_bad("rect2.csv", HEAD "b,s,0,0,7,3,2\n", ":2:", "is empty");
    check_bad("short.csv", HEAD "b,s,0,0,0,1,1\nb,s,0,0\n", ":3:", "4 fields, the header has more");
    check_bad("none.csv", HEAD, ":", "no control areas");
    /* columns in another order: the column number is the field's own */
    check_bad("order.csv", "y1_um,x1_um,y0_um,x0_um,class,slide,batch\n1,1,0,zz,0,s,b\n", ":2:4:",
              "x0_um: 'zz'");
    /* a missing file is HS_EIO */
    hs_controls *c = (hs_controls *)dir;
    hs_error e;
    char *missing = hs_test_path(dir, "nope.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(missing);
    CU_ASSERT_EQUAL(hs_controls_read(&c, missing, &e), HS_EIO);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT(strstr(e.msg, missing) != NULL);
    free(missing);
}

int hs_suite_controls(void)
{
    CU_pSuite s = CU_add_suite("controls", suite_init, suite_clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "columns in any order, classes, paths, quotes", test_good) ||
        !CU_add_test(s, "a table without a folder", test_no_folder) ||
        !CU_add_test(s, "errors name FILE:LINE:COLUMN", test_errors))
        return 1;
    return 0;
}
