/*
 * Unit tests of cohorts/table: columns selected by header name, numeric and
 * factor storage, missing values, factor level order and the FILE:LINE[:COLUMN]
 * error messages.
 *
 * Level orders are R's, from R 4.2.2 with C collation:
 *   Sys.setlocale("LC_COLLATE", "C")
 *   levels(factor(read.csv(text = "g\n10\n9\n2\n9\n")$g))           # "2" "9" "10"
 *   levels(factor(read.csv(text = "g\n1.5\n-Inf\n-2\nInf\n0.25\n")$g))  # "-Inf" "-2" "0.25" "1.5" "Inf"
 *   levels(factor(read.csv(text = "g\nb\nB\na\nb\n")$g))            # "B" "a" "b"
 *   levels(factor(read.csv(text = "g\n10\n9\nx\n2\n")$g))           # "10" "2" "9" "x"
 *   levels(factor(c("\u00e9", "z")))                                # "z" "é"
 *   levels(factor(read.csv(text = "g\n1\n1.0\n2\n")$g))             # "1" "2"
 * Line numbers and messages are worked out by hand from the input text.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohorts/csvread.h"
#include "cohorts/table.h"
#include "suites.h"
#include "tmpfiles.h"

static char *dir; /* this suite's scratch directory */

static int suite_init(void) { return hs_test_suite_init(&dir); }
static int suite_clean(void) { return hs_test_suite_clean(&dir); }

#define NUM HS_COL_NUMERIC
#define FAC HS_COL_FACTOR

/*
 * Writes text to dir/name and reads the columns names/kinds.  Returns the
 * status; *path_out (when given) receives the file's path for messages.
 */
static int load(hs_table **t, const char *name, const char *text, size_t ncol, const char *const *names,
                const hs_col_kind *kinds, hs_error *err, char **path_out)
{
    char *path = hs_test_write(dir, name, text, HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    *t = (hs_table *)&dir; /* a stale value that a failure must clear */
    int rc = hs_table_read(t, path, names, kinds, ncol, err);
    if (rc != HS_OK)
        CU_ASSERT_PTR_NULL(*t);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return rc;
}

/* The error message is exactly path followed by rest. */
static int msg_is(const hs_error *e, const char *path, const char *rest)
{
    size_t n = strlen(path);
    return strncmp(e->msg, path, n) == 0 && strcmp(e->msg + n, rest) == 0;
}

static int levels_are(const hs_column *c, size_t n, const char *const *want)
{
    if (!c || c->kind != HS_COL_FACTOR || c->nlevel != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(c->level[i], want[i]) != 0)
            return 0;
    return 1;
}

#define LEVELS_ARE(c, ...) \
    levels_are((c), sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *), (const char *[]){__VA_ARGS__})

static void test_columns_by_name(void)
{
    const char *names[] = {"time", "grp", "id", "age"};
    const hs_col_kind kinds[] = {NUM, FAC, NUM, FAC};
    hs_table *t;
    hs_error e = {0};
    char *path;
    CU_ASSERT_EQUAL_FATAL(load(&t, "order.csv", "id,age,grp,time\n1,50,a,10.5\n2,60,b,3\n", 4, names, kinds, &e, &path),
                          HS_OK);
    CU_ASSERT_STRING_EQUAL(t->path, path);
    CU_ASSERT_EQUAL(t->nrow, 2);
    CU_ASSERT_EQUAL_FATAL(t->ncol, 4);
    CU_ASSERT_EQUAL(t->line[0], 2);
    CU_ASSERT_EQUAL(t->line[1], 3);

    const hs_column *time = &t->col[0], *grp = &t->col[1], *id = &t->col[2], *age = &t->col[3];
    CU_ASSERT_STRING_EQUAL(time->name, "time");
    CU_ASSERT_EQUAL(time->csv_index, 3);
    CU_ASSERT_EQUAL(time->kind, HS_COL_NUMERIC);
    CU_ASSERT_PTR_NULL(time->code);
    CU_ASSERT_EQUAL(time->num[0], 10.5);
    CU_ASSERT_EQUAL(time->num[1], 3.0);
    CU_ASSERT_EQUAL(grp->csv_index, 2);
    CU_ASSERT_PTR_NULL(grp->num);
    CU_ASSERT(LEVELS_ARE(grp, "a", "b"));
    CU_ASSERT_EQUAL(grp->code[0], 0);
    CU_ASSERT_EQUAL(grp->code[1], 1);
    CU_ASSERT_EQUAL(id->csv_index, 0);
    CU_ASSERT_EQUAL(id->num[0], 1.0);
    CU_ASSERT_EQUAL(id->num[1], 2.0);
    CU_ASSERT_EQUAL(age->csv_index, 1);
    CU_ASSERT(LEVELS_ARE(age, "50", "60"));

    CU_ASSERT_PTR_EQUAL(hs_table_column(t, "grp", HS_COL_FACTOR), grp);
    CU_ASSERT_PTR_EQUAL(hs_table_column(t, "time", HS_COL_NUMERIC), time);
    CU_ASSERT_PTR_NULL(hs_table_column(t, "grp", HS_COL_NUMERIC));
    CU_ASSERT_PTR_NULL(hs_table_column(t, "nope", HS_COL_NUMERIC));
    free(path);
    hs_table_free(t);
    hs_table_free(NULL);

    /* No columns requested: the rows are still counted. */
    CU_ASSERT_EQUAL_FATAL(load(&t, "none.csv", "a\n1\n2\n", 0, NULL, NULL, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL(t->nrow, 2);
    CU_ASSERT_EQUAL(t->ncol, 0);
    hs_table_free(t);
}

static void test_header_errors(void)
{
    hs_table *t;
    hs_error e = {0};
    char *path;
    /* The header is on line 3, after two blank lines. */
    const char *names[] = {"b", "weight"};
    const hs_col_kind kinds[] = {NUM, NUM};
    CU_ASSERT_EQUAL(load(&t, "nocol.csv", "\n\na,b\n1,2\n", 2, names, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":3: no column named 'weight' in the header"));
    free(path);

    CU_ASSERT_EQUAL(load(&t, "dup.csv", "a,b,a\n1,2,3\n", 1, names, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":1:3: duplicate column name 'a' (also column 1)"));
    free(path);

    /* The header matches names exactly: no case folding, spaces around unquoted names are not part of them. */
    const char *upper[] = {"B"};
    CU_ASSERT_EQUAL(load(&t, "case.csv", "a,b\n1,2\n", 1, upper, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":1: no column named 'B' in the header"));
    free(path);
}

static void test_ragged_rows(void)
{
    hs_table *t;
    hs_error e = {0};
    char *path;
    const char *names[] = {"a"};
    const hs_col_kind kinds[] = {NUM};
    /* 1 header  2 row  3-4 a row with a two-line field  5 a short row */
    CU_ASSERT_EQUAL(load(&t, "short.csv", "a,b\n1,2\n3,\"x\ny\"\n4\n", 1, names, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":5: row has 1 fields, the header has 2"));
    free(path);
    CU_ASSERT_EQUAL(load(&t, "long.csv", "a,b\n\n1,2,3\n", 1, names, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":3: row has 3 fields, the header has 2"));
    free(path);
}

static void test_not_a_number(void)
{
    hs_table *t;
    hs_error e = {0};
    char *path;
    const char *names[] = {"y", "x"};
    const hs_col_kind kinds[] = {NUM, NUM};
    CU_ASSERT_EQUAL(load(&t, "nan1.csv", "id,x,y\n1,2,3\n\n2,1e5x,4\n", 2, names, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":4:2: column 'x': not a number: '1e5x'"));
    free(path);

    /* After a record with a two-line quoted field; the bad cell is in column 3. */
    const char *c_only[] = {"c"};
    CU_ASSERT_EQUAL(load(&t, "nan2.csv", "a,b,c\n\"p\nq\",1,2\n3,4,abc\n", 1, c_only, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":4:3: column 'c': not a number: 'abc'"));
    free(path);

    /* Text in a column that was not requested, or requested as a factor, is fine; Inf is a number. */
    const char *two[] = {"b", "a"};
    const hs_col_kind nk[] = {NUM, FAC};
    CU_ASSERT_EQUAL_FATAL(load(&t, "textok.csv", "a,b,c\nx,1,zz\ny,-Inf,zz\nx,Inf,q\n", 2, two, nk, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL(t->nrow, 3);
    CU_ASSERT_EQUAL(t->col[0].num[0], 1.0);
    CU_ASSERT(isinf(t->col[0].num[1]) && t->col[0].num[1] < 0);
    CU_ASSERT(isinf(t->col[0].num[2]) && t->col[0].num[2] > 0);
    CU_ASSERT(LEVELS_ARE(&t->col[1], "x", "y"));
    hs_table_free(t);
}

static void test_factor_levels(void)
{
    hs_table *t;
    hs_error e = {0};
    const char *names[] = {"g"};
    const hs_col_kind kinds[] = {FAC};

    /* All numbers: numeric order. */
    CU_ASSERT_EQUAL_FATAL(load(&t, "lv1.csv", "g\n10\n9\n2\n9\n", 1, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT(LEVELS_ARE(&t->col[0], "2", "9", "10"));
    const int c1[] = {2, 1, 0, 1};
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(t->col[0].code[i], c1[i]);
    hs_table_free(t);

    CU_ASSERT_EQUAL_FATAL(load(&t, "lv2.csv", "g\n1.5\n-Inf\n-2\nInf\n0.25\n", 1, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT(LEVELS_ARE(&t->col[0], "-Inf", "-2", "0.25", "1.5", "Inf"));
    const int c2[] = {3, 0, 1, 4, 2};
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(t->col[0].code[i], c2[i]);
    hs_table_free(t);

    /* Any text: byte order (C collation), upper case before lower case. */
    CU_ASSERT_EQUAL_FATAL(load(&t, "lv3.csv", "g\nb\nB\na\nb\n", 1, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT(LEVELS_ARE(&t->col[0], "B", "a", "b"));
    const int c3[] = {2, 0, 1, 2};
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(t->col[0].code[i], c3[i]);
    hs_table_free(t);

    CU_ASSERT_EQUAL_FATAL(load(&t, "lv4.csv", "g\n10\n9\nx\n2\n", 1, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT(LEVELS_ARE(&t->col[0], "10", "2", "9", "x"));
    const int c4[] = {0, 2, 3, 1};
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(t->col[0].code[i], c4[i]);
    hs_table_free(t);

    /* Bytes compare unsigned: UTF-8 'é' (0xC3 0xA9) after 'z'. */
    CU_ASSERT_EQUAL_FATAL(load(&t, "lv5.csv", "g\n\xC3\xA9\nz\n", 1, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT(LEVELS_ARE(&t->col[0], "z", "\xC3\xA9"));
    hs_table_free(t);
}

/*
 * Regression (a bug this test found): two spellings of one number are two factor levels.  R reads the column
 * "1","1.0","2" as the numbers 1, 1, 2, so factor() has the levels "1", "2"
 * and rows 1 and 2 share a level.  table gives three levels "1", "1.0", "2"
 * (the first two compare equal in the numeric sort, so even their order is up
 * to qsort) and codes 0, 1, 2.  Expected: nlevel 2, codes 0, 0, 1.
 */
static void test_factor_equal_numbers(void)
{
    hs_table *t;
    hs_error e = {0};
    const char *names[] = {"g"};
    const hs_col_kind kinds[] = {FAC};
    CU_ASSERT_EQUAL_FATAL(load(&t, "lv6.csv", "g\n1\n1.0\n2\n", 1, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL(t->col[0].nlevel, 2);
    CU_ASSERT_EQUAL(t->col[0].code[0], 0);
    CU_ASSERT_EQUAL(t->col[0].code[1], 0);
    CU_ASSERT_EQUAL(t->col[0].code[2], 1);
    hs_table_free(t);
}

static void test_missing_values(void)
{
    hs_table *t;
    hs_error e = {0};
    const char *names[] = {"x", "g"};
    const hs_col_kind kinds[] = {NUM, FAC};
    /* rows: (1,a) (,) (NA,NA) (NaN,b) (" ",NaN) (3,"") */
    const char *text = "x,g\n1,a\n,\nNA,NA\nNaN,b\n\" \",NaN\n3,\"\"\n";
    CU_ASSERT_EQUAL_FATAL(load(&t, "na.csv", text, 2, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(t->nrow, 6);
    const hs_column *x = &t->col[0], *g = &t->col[1];
    CU_ASSERT_EQUAL(x->num[0], 1.0);
    for (size_t i = 1; i <= 4; i++)
        CU_ASSERT(isnan(x->num[i]));
    CU_ASSERT_EQUAL(x->num[5], 3.0);
    CU_ASSERT(LEVELS_ARE(g, "a", "b"));
    const int codes[] = {0, -1, -1, 1, -1, -1};
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(g->code[i], codes[i]);
    hs_table_free(t);
}

static void test_numeric_and_factor(void)
{
    hs_table *t;
    hs_error e = {0};
    const char *names[] = {"x", "x"};
    const hs_col_kind kinds[] = {NUM, FAC};
    CU_ASSERT_EQUAL_FATAL(load(&t, "both.csv", "x,y\n3,u\n1,v\n3,u\nNA,w\n", 2, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(t->nrow, 4);
    const hs_column *n = hs_table_column(t, "x", HS_COL_NUMERIC), *f = hs_table_column(t, "x", HS_COL_FACTOR);
    CU_ASSERT_PTR_EQUAL(n, &t->col[0]);
    CU_ASSERT_PTR_EQUAL(f, &t->col[1]);
    CU_ASSERT_EQUAL(t->col[0].csv_index, 0);
    CU_ASSERT_EQUAL(t->col[1].csv_index, 0);
    CU_ASSERT_EQUAL(t->col[0].num[0], 3.0);
    CU_ASSERT_EQUAL(t->col[0].num[1], 1.0);
    CU_ASSERT_EQUAL(t->col[0].num[2], 3.0);
    CU_ASSERT(isnan(t->col[0].num[3]));
    CU_ASSERT(LEVELS_ARE(&t->col[1], "1", "3"));
    const int codes[] = {1, 0, 1, -1};
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(t->col[1].code[i], codes[i]);
    hs_table_free(t);
}

static void test_empty_and_header_only(void)
{
    hs_table *t;
    hs_error e = {0};
    char *path;
    const char *names[] = {"b", "a"};
    const hs_col_kind kinds[] = {FAC, NUM};
    CU_ASSERT_EQUAL(load(&t, "empty.csv", "", 2, names, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":1: empty file: no header line"));
    free(path);
    CU_ASSERT_EQUAL(load(&t, "blank.csv", "\n\r\n\n", 2, names, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":1: empty file: no header line"));
    free(path);

    /* A header and no data rows is an error that says so, also with a BOM, CRLF, blank lines or no final newline. */
    const char *const header_only[] = {"a,b\n", "\xEF\xBB\xBF" "a,b\r\n\r\n", "a,b", "a,b\n\n\n"};
    for (size_t i = 0; i < sizeof header_only / sizeof header_only[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "header%zu.csv", i);
        CU_ASSERT_EQUAL(load(&t, name, header_only[i], 2, names, kinds, &e, &path), HS_EDATA);
        CU_ASSERT(msg_is(&e, path, ": no data rows: the file has only a header line"));
        free(path);
    }
    /* a missing column is still reported first */
    const char *missing[] = {"zz"};
    CU_ASSERT_EQUAL(load(&t, "header9.csv", "a,b\n", 1, missing, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":1: no column named 'zz' in the header"));
    free(path);
}

/*
 * AUTO columns become what R's read.csv makes of them:
 *   sapply(read.csv(text = "a,b,c\n1,x,NA\n2.5,3,\n,y,4\n"), class)   # numeric character integer
 *   levels(factor(read.csv(text = "a,b,c\n1,x,NA\n2.5,3,\n,y,4\n")$b))  # "3" "x" "y" (C collation)
 */
static void test_auto_columns(void)
{
    hs_table *t;
    hs_error e = {0};
    char *path;
    const char *names[] = {"a", "b", "c", "b"};
    const hs_col_kind kinds[] = {HS_COL_AUTO, HS_COL_AUTO, HS_COL_AUTO, FAC};
    CU_ASSERT_EQUAL_FATAL(load(&t, "auto.csv", "a,b,c\n1,x,NA\n2.5,3,\n,y,4\n", 4, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL(t->nrow, 3);
    CU_ASSERT_EQUAL(t->col[0].kind, NUM);
    CU_ASSERT_EQUAL(t->col[0].auto_factor, 0);
    CU_ASSERT_EQUAL(t->col[0].num[0], 1.0);
    CU_ASSERT_EQUAL(t->col[0].num[1], 2.5);
    CU_ASSERT(isnan(t->col[0].num[2]));
    CU_ASSERT_EQUAL(t->col[1].kind, FAC);
    CU_ASSERT_EQUAL(t->col[1].auto_factor, 1);
    CU_ASSERT_PTR_NULL(t->col[1].num);
    CU_ASSERT(LEVELS_ARE(&t->col[1], "3", "x", "y"));
    CU_ASSERT_EQUAL(t->col[1].code[0], 1);
    CU_ASSERT_EQUAL(t->col[1].code[1], 0);
    CU_ASSERT_EQUAL(t->col[1].code[2], 2);
    CU_ASSERT_EQUAL(t->col[2].kind, NUM);
    CU_ASSERT(isnan(t->col[2].num[0]) && isnan(t->col[2].num[1]));
    CU_ASSERT_EQUAL(t->col[2].num[2], 4.0);
    /* the same column requested as a factor is not "auto" */
    CU_ASSERT_EQUAL(t->col[3].kind, FAC);
    CU_ASSERT_EQUAL(t->col[3].auto_factor, 0);
    CU_ASSERT(LEVELS_ARE(&t->col[3], "3", "x", "y"));
    CU_ASSERT_PTR_EQUAL(hs_table_column(t, "b", HS_COL_AUTO), &t->col[1]);
    CU_ASSERT_PTR_EQUAL(hs_table_column(t, "b", FAC), &t->col[1]);
    CU_ASSERT_PTR_NULL(hs_table_column(t, "b", NUM));
    CU_ASSERT_PTR_EQUAL(hs_table_column(t, "c", HS_COL_AUTO), &t->col[2]);
    hs_table_free(t);

    /* a text value still stops a NUMERIC column, also when the same column is requested AUTO */
    const hs_col_kind kinds2[] = {NUM, HS_COL_AUTO};
    const char *names2[] = {"b", "b"};
    CU_ASSERT_EQUAL(load(&t, "auto2.csv", "a,b\n1,2\n2,x\n", 2, names2, kinds2, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":3:2: column 'b': not a number: 'x'"));
    free(path);
    const hs_col_kind bad_kind[] = {(hs_col_kind)7};
    CU_ASSERT_EQUAL(load(&t, "auto3.csv", "a,b\n1,2\n", 1, names2, bad_kind, &e, NULL), HS_EINVAL);
}

/* Field-for-field equality of two tables (the arrays hold nrow values; NAN equals NAN). */
static int same_table(const hs_table *a, const hs_table *b)
{
    if (a->nrow != b->nrow || a->ncol != b->ncol || strcmp(a->path, b->path) != 0)
        return 0;
    for (size_t r = 0; r < a->nrow; r++)
        if (a->line[r] != b->line[r])
            return 0;
    for (size_t j = 0; j < a->ncol; j++) {
        const hs_column *x = &a->col[j], *y = &b->col[j];
        if (strcmp(x->name, y->name) != 0 || x->csv_index != y->csv_index || x->kind != y->kind ||
            x->auto_factor != y->auto_factor || x->nlevel != y->nlevel || !x->num != !y->num || !x->code != !y->code)
            return 0;
        for (size_t r = 0; r < a->nrow; r++) {
            if (x->num && !(x->num[r] == y->num[r] || (isnan(x->num[r]) && isnan(y->num[r]))))
                return 0;
            if (x->code && x->code[r] != y->code[r])
                return 0;
        }
        for (size_t k = 0; k < x->nlevel; k++)
            if (strcmp(x->level[k], y->level[k]) != 0)
                return 0;
    }
    return 1;
}

/*
 * The builder gives the table hs_table_read gives on a CSV of the same cells:
 * every kind, missing values (empty, NA, NaN, NULL), numeric levels spelt two
 * ways, text levels in byte order, a text column requested AUTO, quoted cells.
 */
static void test_builder_same_as_csv(void)
{
    const char *names[] = {"time", "grade", "note", "score", "batch", "mixed"};
    const hs_col_kind kinds[] = {NUM, FAC, HS_COL_AUTO, HS_COL_AUTO, FAC, HS_COL_AUTO};
    enum { NROW = 7, NCOL = 6 };
    const char *cells[NROW][NCOL] = {
        {"12.5", "2", "first, with comma", "0.25", "B2", "1"},
        {"40", "10", "", "NA", "b1", "2"},
        {"3", "1.0", "NA", "1e-3", "NA", "x"},
        {"NA", "1", "plain", "-Inf", "B2", ""},
        {"", "", "Zeta", "7", "a", "10"},
        {"8", "2", "plain", "NaN", "b1", "9"},
        {"1e2", "NaN", "\"quoted\"", "3", "", "2"},
    };
    /* the same cells as CSV text, lines 2-8 after the header */
    const char *csv = "time,grade,note,score,batch,mixed\n"
                      "12.5,2,\"first, with comma\",0.25,B2,1\n"
                      "40,10,,NA,b1,2\n"
                      "3,1.0,NA,1e-3,NA,x\n"
                      "NA,1,plain,-Inf,B2,\n"
                      ",,Zeta,7,a,10\n"
                      "8,2,plain,NaN,b1,9\n"
                      "1e2,NaN,\"\"\"quoted\"\"\",3,,2\n";
    char *path;
    hs_table *from_csv = NULL, *built = NULL;
    hs_error e = {0};
    CU_ASSERT_EQUAL_FATAL(load(&from_csv, "builder.csv", csv, NCOL, names, kinds, &e, &path), HS_OK);
    hs_table_builder *b = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_alloc(&b, path, names, kinds, NCOL, &e), HS_OK);
    for (int r = 0; r < NROW; r++) {
        const char *row[NCOL];
        for (int j = 0; j < NCOL; j++)
            row[j] = r == 4 && j == 1 ? NULL : cells[r][j]; /* NULL is missing, like "" */
        CU_ASSERT_EQUAL(hs_table_builder_add_row(b, row, r + 2, &e), HS_OK);
    }
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_finish(b, &built, &e), HS_OK);
    CU_ASSERT(same_table(from_csv, built));
    /* spot checks of the rules both follow */
    CU_ASSERT(LEVELS_ARE(&built->col[1], "1", "2", "10")); /* "1" and "1.0" are one level */
    CU_ASSERT(LEVELS_ARE(&built->col[2], "\"quoted\"", "Zeta", "first, with comma", "plain"));
    CU_ASSERT_EQUAL(built->col[2].auto_factor, 1);
    CU_ASSERT_EQUAL(built->col[3].kind, NUM);
    CU_ASSERT_EQUAL(built->col[3].num[3], -INFINITY);
    CU_ASSERT(LEVELS_ARE(&built->col[4], "B2", "a", "b1"));
    CU_ASSERT(LEVELS_ARE(&built->col[5], "1", "10", "2", "9", "x"));
    CU_ASSERT_EQUAL(built->col[5].auto_factor, 1);
    hs_table_free(from_csv);
    hs_table_free(built);
    free(path);
}

static void test_builder_errors(void)
{
    const char *names[] = {"t", "g"};
    const hs_col_kind kinds[] = {NUM, FAC};
    hs_table_builder *b = NULL;
    hs_table *t = NULL;
    hs_error e = {0};
    CU_ASSERT_EQUAL(hs_table_builder_alloc(&b, NULL, names, kinds, 2, &e), HS_EINVAL);
    CU_ASSERT_PTR_NULL(b);
    const hs_col_kind bad[] = {NUM, (hs_col_kind)9};
    CU_ASSERT_EQUAL(hs_table_builder_alloc(&b, "cohort", names, bad, 2, &e), HS_EINVAL);
    CU_ASSERT_PTR_NULL(b);

    /* no rows */
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_alloc(&b, "cohort", names, kinds, 2, &e), HS_OK);
    CU_ASSERT_EQUAL(hs_table_builder_finish(b, &t, &e), HS_EDATA);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_STRING_EQUAL(e.msg, "cohort: no data rows");

    /* a bad number names SOURCE:LINE:COLUMN, leaves no trace (not even its factor level), and the builder goes on */
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_alloc(&b, "cohort", names, kinds, 2, &e), HS_OK);
    const char *r1[] = {"5", "a"}, *r2[] = {"five", "z"}, *r3[] = {"6", "b"};
    CU_ASSERT_EQUAL(hs_table_builder_add_row(b, r1, 10, &e), HS_OK);
    CU_ASSERT_EQUAL(hs_table_builder_add_row(b, r2, 11, &e), HS_EDATA);
    CU_ASSERT_STRING_EQUAL(e.msg, "cohort:11:1: column 't': not a number: 'five'");
    CU_ASSERT_EQUAL(hs_table_builder_add_row(b, r3, 12, &e), HS_OK);
    CU_ASSERT_EQUAL(hs_table_builder_add_row(b, NULL, 13, &e), HS_EINVAL);
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_finish(b, &t, &e), HS_OK);
    CU_ASSERT_EQUAL(t->nrow, 2);
    CU_ASSERT_EQUAL(t->line[1], 12);
    CU_ASSERT(LEVELS_ARE(&t->col[1], "a", "b"));
    CU_ASSERT_STRING_EQUAL(t->path, "cohort");
    hs_table_free(t);

    /* abandoning a builder frees what it holds; NULL is a no-op */
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_alloc(&b, "cohort", names, kinds, 2, &e), HS_OK);
    CU_ASSERT_EQUAL(hs_table_builder_add_row(b, r1, 2, &e), HS_OK);
    hs_table_builder_free(b);
    hs_table_builder_free(NULL);
    CU_ASSERT_EQUAL(hs_table_builder_finish(NULL, &t, &e), HS_EINVAL);
}

/* Many rows through the builder: storage grows, AUTO text found late. */
static void test_builder_many_rows(void)
{
    enum { N = 5000 };
    const char *names[] = {"v", "w"};
    const hs_col_kind kinds[] = {HS_COL_AUTO, HS_COL_AUTO};
    hs_table_builder *b = NULL;
    hs_table *t = NULL;
    hs_error e = {0};
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_alloc(&b, "many", names, kinds, 2, &e), HS_OK);
    int ok = 1;
    for (int i = 0; i < N; i++) {
        char v[32], w[32];
        snprintf(v, sizeof v, "%d.5", i);
        snprintf(w, sizeof w, i == N - 1 ? "late" : "%d", i % 3);
        const char *row[] = {v, w};
        ok &= hs_table_builder_add_row(b, row, i + 2, &e) == HS_OK;
    }
    CU_ASSERT(ok);
    CU_ASSERT_EQUAL_FATAL(hs_table_builder_finish(b, &t, &e), HS_OK);
    CU_ASSERT_EQUAL(t->col[0].kind, NUM);
    CU_ASSERT_EQUAL(t->col[0].num[N - 1], N - 1 + 0.5);
    CU_ASSERT_EQUAL(t->col[1].kind, FAC);
    CU_ASSERT(LEVELS_ARE(&t->col[1], "0", "1", "2", "late"));
    CU_ASSERT_EQUAL(t->col[1].code[4], 1);
    CU_ASSERT_EQUAL(t->col[1].code[N - 1], 3);
    hs_table_free(t);
}

static void test_lines_bom_crlf(void)
{
    hs_table *t;
    hs_error e = {0};
    const char *names[] = {"id", "note"};
    const hs_col_kind kinds[] = {NUM, FAC};
    /* 1 BOM+header  2-3 row with a CRLF inside quotes  4 blank  5 row */
    const char *text = "\xEF\xBB\xBFid,note\r\n1,\"a\r\nb\"\r\n\r\n2,c\r\n";
    CU_ASSERT_EQUAL_FATAL(load(&t, "crlf.csv", text, 2, names, kinds, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(t->nrow, 2);
    CU_ASSERT_EQUAL(t->line[0], 2);
    CU_ASSERT_EQUAL(t->line[1], 5);
    CU_ASSERT_EQUAL(t->col[0].num[0], 1.0);
    CU_ASSERT_EQUAL(t->col[0].num[1], 2.0);
    CU_ASSERT(LEVELS_ARE(&t->col[1], "a\r\nb", "c"));
    hs_table_free(t);
}

static void test_io_and_csv_errors(void)
{
    hs_table *t = (hs_table *)&dir;
    hs_error e = {0};
    const char *names[] = {"a"};
    const hs_col_kind kinds[] = {NUM};
    char *path = hs_test_path(dir, "absent.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_EQUAL(hs_table_read(&t, path, names, kinds, 1, &e), HS_EIO);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(strncmp(e.msg, path, strlen(path)), 0);
    free(path);
    CU_ASSERT_EQUAL(load(&t, "badq.csv", "a\n1\n\"2\n", 1, names, kinds, &e, &path), HS_EDATA);
    CU_ASSERT(strncmp(e.msg, path, strlen(path)) == 0 &&
              strcmp(e.msg + strlen(path), ":3:1: malformed CSV: unterminated quoted field starting at line 3 (its "
                     "closing quote is missing before the end of the file)") == 0);
    free(path);
}

static void test_many_rows(void)
{
    enum { N = 3000 }; /* row storage grows past 1024 and 2048 */
    size_t cap = 32 * N, n = 0;
    char *text = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    n += (size_t)snprintf(text + n, cap - n, "v,g\n");
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(text + n, cap - n, "%d.5,L%d\n", i, i % 7);
    hs_table *t;
    hs_error e = {0};
    const char *names[] = {"g", "v"};
    const hs_col_kind kinds[] = {FAC, NUM};
    int rc = load(&t, "many.csv", text, 2, names, kinds, &e, NULL);
    free(text);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    CU_ASSERT_EQUAL_FATAL(t->nrow, N);
    CU_ASSERT(LEVELS_ARE(&t->col[0], "L0", "L1", "L2", "L3", "L4", "L5", "L6"));
    int bad = 0;
    for (int i = 0; i < N; i++)
        if (t->col[1].num[i] != i + 0.5 || t->col[0].code[i] != i % 7 || t->line[i] != i + 2)
            bad++;
    CU_ASSERT_EQUAL(bad, 0);
    hs_table_free(t);
}

/* Builds a CSV of n rows "i.25,Lk,i" (k = i % 5, plus level "late" from row 3n/4 on), with an optional bad cell. */
static char *big_csv(int n, int bad_row, const char *bad_cell, size_t *len)
{
    size_t cap = 40 * (size_t)n + 64, m = 0;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    m += (size_t)snprintf(text + m, cap - m, "v,g,w\n");
    for (int i = 0; i < n; i++) {
        if (i == bad_row)
            m += (size_t)snprintf(text + m, cap - m, "%s\n", bad_cell);
        else if (i >= 3 * n / 4)
            m += (size_t)snprintf(text + m, cap - m, "%d.25,late,%d\n", i, i);
        else
            m += (size_t)snprintf(text + m, cap - m, "%d.25,L%d,%d\n", i, i % 5, i);
    }
    *len = m;
    return text;
}

/*
 * A file over 8 MiB without quotes is read in two halves on two threads: the
 * rows, their lines and the factor codes must be those of a one-pass read,
 * which the generator's formula gives; an error in the second half names its
 * own line.
 */
static void test_parallel_read(void)
{
    enum { N = 500000 }; /* about 10 MiB */
    size_t len = 0;
    char *text = big_csv(N, -1, NULL, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *path = hs_test_write(dir, "big.csv", text, len);
    free(text);
    CU_ASSERT_FATAL(len > (8u << 20)); /* large enough for the two-thread read */
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    hs_csv_range r[3];
    size_t nr;
    CU_ASSERT_EQUAL_FATAL(hs_csv_split(path, 2, r, &nr, NULL), HS_OK);
    CU_ASSERT_EQUAL(nr, 3);                        /* header + two halves */
    CU_ASSERT_EQUAL(r[0].start, 0);
    CU_ASSERT_EQUAL(r[0].end, 6);                  /* "v,g,w\n" */
    CU_ASSERT_EQUAL(r[1].start, 6);
    CU_ASSERT_EQUAL(r[1].first_line, 2);
    CU_ASSERT_EQUAL(r[1].end, r[2].start);
    CU_ASSERT_EQUAL(r[2].end, -1);

    const char *names[] = {"v", "g", "w"};
    const hs_col_kind kinds[] = {NUM, FAC, NUM};
    hs_table *t = NULL;
    hs_error e = {0};
    CU_ASSERT_EQUAL_FATAL(hs_table_read(&t, path, names, kinds, 3, &e), HS_OK);
    CU_ASSERT_EQUAL_FATAL(t->nrow, N);
    /* byte order: "L0".."L4" < "late" */
    CU_ASSERT(LEVELS_ARE(&t->col[1], "L0", "L1", "L2", "L3", "L4", "late"));
    int bad = 0;
    for (int i = 0; i < N; i++) {
        int code = i >= 3 * N / 4 ? 5 : i % 5;
        if (t->col[0].num[i] != i + 0.25 || t->col[1].code[i] != code || t->col[2].num[i] != i ||
            t->line[i] != i + 2)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    hs_table_free(t);
    free(path);

    /* a non-number in the second half: its line is row + 2 */
    text = big_csv(N, N - 10, "oops,L1,3", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    path = hs_test_write(dir, "bigbad.csv", text, len);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    char want[128];
    snprintf(want, sizeof want, ":%d:1: column 'v': not a number: 'oops'", N - 10 + 2);
    CU_ASSERT_EQUAL(hs_table_read(&t, path, names, kinds, 3, &e), HS_EDATA);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT(strstr(e.msg, want) != NULL);
    /* the same file with v requested AUTO: the text in the second half's thread makes v a factor */
    const hs_col_kind auto_kinds[] = {HS_COL_AUTO, FAC, HS_COL_AUTO};
    CU_ASSERT_EQUAL(hs_table_read(&t, path, names, auto_kinds, 3, &e), HS_OK);
    if (t) {
        CU_ASSERT_EQUAL(t->col[0].kind, FAC);
        CU_ASSERT_EQUAL(t->col[0].auto_factor, 1);
        CU_ASSERT_EQUAL(t->col[0].nlevel, N);
        CU_ASSERT_STRING_EQUAL(t->col[0].level[t->col[0].code[N - 10]], "oops");
        CU_ASSERT_EQUAL(t->col[2].kind, NUM);
        CU_ASSERT_EQUAL(t->col[2].num[N - 1], N - 1);
    }
    hs_table_free(t);
    free(path);

    /* a quote anywhere keeps the read in one pass */
    text = big_csv(N, 5, "\"5.25\",L0,5", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    path = hs_test_write(dir, "bigquote.csv", text, len);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_EQUAL(hs_csv_split(path, 2, r, &nr, NULL), HS_OK);
    CU_ASSERT_EQUAL(nr, 1);
    CU_ASSERT_EQUAL(hs_table_read(&t, path, names, kinds, 3, &e), HS_OK);
    if (t) {
        CU_ASSERT_EQUAL(t->nrow, N);
        CU_ASSERT_EQUAL(t->col[0].num[5], 5.25);
        CU_ASSERT_EQUAL(t->line[N - 1], N + 1);
    }
    hs_table_free(t);
    free(path);
}

/* hs_csv_split on small files: a blank first line or a quote means one range. */
static void test_split_rules(void)
{
    hs_csv_range r[5];
    size_t nr;
    char *p = hs_test_write(dir, "split1.csv", "a,b\n1,2\n3,4\n5,6\n7,8\n", HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(hs_csv_split(p, 2, r, &nr, NULL), HS_OK);
    CU_ASSERT_EQUAL(nr, 3);
    CU_ASSERT_EQUAL(r[0].end, 4);
    CU_ASSERT_EQUAL(r[1].start, 4);
    CU_ASSERT_EQUAL(r[1].first_line, 2);
    /* the data part (16 bytes) is cut at the first line end at or after its middle: "1,2\n3,4\n" */
    CU_ASSERT_EQUAL(r[2].start, 12);
    CU_ASSERT_EQUAL(r[2].first_line, 4);
    free(p);
    p = hs_test_write(dir, "split2.csv", "\na,b\n1,2\n3,4\n5,6\n", HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(hs_csv_split(p, 2, r, &nr, NULL), HS_OK);
    CU_ASSERT_EQUAL(nr, 1);
    free(p);
    p = hs_test_write(dir, "split3.csv", "a,b\n1,\"2\"\n3,4\n5,6\n", HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(hs_csv_split(p, 2, r, &nr, NULL), HS_OK);
    CU_ASSERT_EQUAL(nr, 1);
    CU_ASSERT_EQUAL(r[0].start, 0);
    CU_ASSERT_EQUAL(r[0].end, -1);
    free(p);
    CU_ASSERT_EQUAL(hs_csv_split("/nonexistent/x.csv", 2, r, &nr, NULL), HS_EIO);
}

int hs_suite_table(void)
{
    CU_pSuite s = CU_add_suite("table", suite_init, suite_clean);
    if (!s || !CU_add_test(s, "columns by name", test_columns_by_name) ||
        !CU_add_test(s, "header errors", test_header_errors) || !CU_add_test(s, "ragged rows", test_ragged_rows) ||
        !CU_add_test(s, "not a number", test_not_a_number) || !CU_add_test(s, "factor levels", test_factor_levels) ||
        !CU_add_test(s, "factor: equal numbers", test_factor_equal_numbers) ||
        !CU_add_test(s, "missing values", test_missing_values) ||
        !CU_add_test(s, "numeric and factor", test_numeric_and_factor) ||
        !CU_add_test(s, "empty and header-only", test_empty_and_header_only) ||
        !CU_add_test(s, "AUTO columns", test_auto_columns) ||
        !CU_add_test(s, "builder: same table as the CSV", test_builder_same_as_csv) ||
        !CU_add_test(s, "builder: errors", test_builder_errors) ||
        !CU_add_test(s, "builder: many rows", test_builder_many_rows) ||
        !CU_add_test(s, "lines with BOM, CRLF", test_lines_bom_crlf) ||
        !CU_add_test(s, "I/O and CSV errors", test_io_and_csv_errors) ||
        !CU_add_test(s, "many rows", test_many_rows) ||
        !CU_add_test(s, "parallel read of a large file", test_parallel_read) ||
        !CU_add_test(s, "split rules", test_split_rules))
        return 1;
    return 0;
}
