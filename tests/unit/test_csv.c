/*
 * Unit tests of cohorts/csvread (streaming CSV records with their starting
 * line), util/hs_parse (cell values, R-style number printing) and
 * util/hs_strmap (string interning).
 *
 * Expected records, line numbers and messages are worked out by hand from the
 * input text written next to each test (lines count from 1 and a record's
 * line is the physical line where its first byte is).  The number-printing
 * references come from R 4.2.2: sprintf("%.17g", x) for each x in
 * c(0.1, 1/3, 1e-300, 100, -0, 1e22, 123456789.125, 2^-1074).
 * The input files live in a fresh mkdtemp directory removed by the suite's
 * cleanup.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohorts/csvread.h"
#include "suites.h"
#include "tmpfiles.h"
#include "util/hs_parse.h"
#include "util/hs_strmap.h"

static char *dir; /* this suite's scratch directory */

static int suite_init(void) { return hs_test_suite_init(&dir); }
static int suite_clean(void) { return hs_test_suite_clean(&dir); }

/* ---- collecting the records hs_csv_read hands over ---- */

typedef struct rec {
    size_t nfield;
    char **field; /* copies, NUL-terminated */
    size_t *len;
    long line;
    size_t index;
} rec;

typedef struct coll {
    rec *r;
    size_t n, cap;
    int stop_rc;      /* when non-zero, returned for the record with index stop_at */
    size_t stop_at;
    const char *stop_msg;
    size_t bad_nul;   /* fields handed over without a NUL at field[len] */
} coll;

static void coll_free(coll *c)
{
    CU_ASSERT_EQUAL(c->bad_nul, 0);
    for (size_t i = 0; i < c->n; i++) {
        for (size_t j = 0; j < c->r[i].nfield; j++)
            free(c->r[i].field[j]);
        free(c->r[i].field);
        free(c->r[i].len);
    }
    free(c->r);
    memset(c, 0, sizeof *c);
}

static int collect(void *ctx, const hs_csv_row *row, hs_error *err)
{
    coll *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        rec *r = realloc(c->r, cap * sizeof *r);
        if (!r)
            return hs_error_set(err, HS_ENOMEM, "test: out of memory");
        c->r = r;
        c->cap = cap;
    }
    rec *r = &c->r[c->n++];
    r->nfield = row->nfield;
    r->line = row->line;
    r->index = row->index;
    r->field = calloc(row->nfield ? row->nfield : 1, sizeof *r->field);
    r->len = calloc(row->nfield ? row->nfield : 1, sizeof *r->len);
    if (!r->field || !r->len)
        return hs_error_set(err, HS_ENOMEM, "test: out of memory");
    for (size_t j = 0; j < row->nfield; j++) {
        c->bad_nul += row->field[j][row->len[j]] != '\0';
        r->len[j] = row->len[j];
        if (!(r->field[j] = malloc(row->len[j] + 1)))
            return hs_error_set(err, HS_ENOMEM, "test: out of memory");
        memcpy(r->field[j], row->field[j], row->len[j] + 1);
    }
    if (c->stop_rc && row->index == c->stop_at) {
        if (c->stop_msg)
            hs_error_set(err, c->stop_rc, "%s", c->stop_msg);
        return c->stop_rc;
    }
    return HS_OK;
}

/* Writes data to dir/name and reads it back into c; returns hs_csv_read's status.  *path_out: the file. */
static int read_text(const char *name, const char *data, size_t len, char delim, coll *c, hs_error *err,
                     char **path_out)
{
    char *path = hs_test_write(dir, name, data, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    int rc = hs_csv_read(path, delim, collect, c, err);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return rc;
}

/* True when record r is exactly the given fields (NUL-free strings). */
static int rec_is(const rec *r, size_t n, const char *const *want)
{
    if (r->nfield != n)
        return 0;
    for (size_t j = 0; j < n; j++)
        if (r->len[j] != strlen(want[j]) || memcmp(r->field[j], want[j], r->len[j]) != 0)
            return 0;
    return 1;
}

#define REC_IS(r, ...) \
    rec_is((r), sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *), (const char *[]){__VA_ARGS__})

/* True when the error message starts with "path" followed by rest. */
static int msg_is(const hs_error *e, const char *path, const char *rest)
{
    size_t n = strlen(path);
    return strncmp(e->msg, path, n) == 0 && strncmp(e->msg + n, rest, strlen(rest)) == 0;
}

/* ---- csvread ---- */

static void test_quoted_fields(void)
{
    /* line 1: header; line 2-3: one record whose third field holds a newline; line 4: empty fields */
    const char *text = "a,b,c\n"
                       "\"x,1\",\"say \"\"hi\"\"\",\"two\nlines\"\n"
                       "last,,\"\"\n";
    coll c = {0};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("quoted.csv", text, HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 3);
    CU_ASSERT(REC_IS(&c.r[0], "a", "b", "c"));
    CU_ASSERT(REC_IS(&c.r[1], "x,1", "say \"hi\"", "two\nlines"));
    CU_ASSERT(REC_IS(&c.r[2], "last", "", ""));
    CU_ASSERT_EQUAL(c.r[1].len[1], 8);
    CU_ASSERT_EQUAL(c.r[0].line, 1);
    CU_ASSERT_EQUAL(c.r[1].line, 2);
    CU_ASSERT_EQUAL(c.r[2].line, 4);
    for (size_t i = 0; i < c.n; i++)
        CU_ASSERT_EQUAL(c.r[i].index, i);
    coll_free(&c);
}

static void test_line_numbers(void)
{
    /*
     * 1 ""  2 ""  3 h1,h2  4 ""  5 ""  6 1,2  7-10 a quoted field with two
     * blank lines inside  11 ""  12 after,multi  13 "\r"  14 3,4 (no newline)
     */
    const char *text = "\n\nh1,h2\n\n\n1,2\n\"m\n\n\nx\",y\n\nafter,multi\n\r\n3,4";
    coll c = {0};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("lines.csv", text, HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 5);
    const long want_line[] = {3, 6, 7, 12, 14};
    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(c.r[i].line, want_line[i]);
        CU_ASSERT_EQUAL(c.r[i].index, i);
    }
    CU_ASSERT(REC_IS(&c.r[0], "h1", "h2"));
    CU_ASSERT(REC_IS(&c.r[1], "1", "2"));
    CU_ASSERT(REC_IS(&c.r[2], "m\n\n\nx", "y"));
    CU_ASSERT(REC_IS(&c.r[3], "after", "multi"));
    CU_ASSERT(REC_IS(&c.r[4], "3", "4"));
    coll_free(&c);
}

static void test_crlf_and_bom(void)
{
    /* 1 BOM+header  2-3 a quoted field holding CRLF  4 blank  5 3,4 */
    const char *text = "\xEF\xBB\xBFid,v\r\n1,\"a\r\nb\"\r\n\r\n3,4\r\n";
    coll c = {0};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("crlf.csv", text, HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 3);
    CU_ASSERT(REC_IS(&c.r[0], "id", "v")); /* no BOM in the first name, no CR in the last */
    CU_ASSERT(REC_IS(&c.r[1], "1", "a\r\nb"));
    CU_ASSERT(REC_IS(&c.r[2], "3", "4"));
    CU_ASSERT_EQUAL(c.r[0].line, 1);
    CU_ASSERT_EQUAL(c.r[1].line, 2);
    CU_ASSERT_EQUAL(c.r[2].line, 5);
    coll_free(&c);

    /* A BOM on an otherwise blank first line: the header is on line 2. */
    CU_ASSERT_EQUAL(read_text("bomblank.csv", "\xEF\xBB\xBF\r\nx,y\r\n", HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 1);
    CU_ASSERT(REC_IS(&c.r[0], "x", "y"));
    CU_ASSERT_EQUAL(c.r[0].line, 2);
    coll_free(&c);

    /* A BOM-only file has no records. */
    CU_ASSERT_EQUAL(read_text("bomonly.csv", "\xEF\xBB\xBF", HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL(c.n, 0);
    coll_free(&c);
}

/*
 * Regression (a bug this test found): a line holding only spaces or tabs is skipped by libcsv (no record) but
 * csvread takes it as the start of the next record, so every later record is
 * reported one line early.  Input "h\n   \nx\n\t\ny\n": "x" is on line 3 and
 * "y" on line 5; csvread reports lines 2 and 4.
 */
static void test_whitespace_only_line(void)
{
    coll c = {0};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("spaces.csv", "h\n   \nx\n\t\ny\n", HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    int seen_x = 0, seen_y = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (REC_IS(&c.r[i], "x")) {
            seen_x = 1;
            CU_ASSERT_EQUAL(c.r[i].line, 3);
        }
        if (REC_IS(&c.r[i], "y")) {
            seen_y = 1;
            CU_ASSERT_EQUAL(c.r[i].line, 5);
        }
    }
    CU_ASSERT(seen_x && seen_y);
    coll_free(&c);
}

static int all_bytes(const char *s, size_t n, char ch)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ch)
            return 0;
    return 1;
}

/* What follows the number in each field of put_fields: long enough for a line of > 1 MiB in fewer than
   HS_CSV_MAX_FIELDS fields. */
#define FIELD_TAIL "_abcdefghijklmnopqrstuvwxyz"

/* Appends nf fields "<tag>NNNNNN" FIELD_TAIL separated by commas, without a line end. */
static size_t put_fields(char *buf, char tag, size_t nf)
{
    size_t n = 0;
    for (size_t i = 0; i < nf; i++)
        n += (size_t)sprintf(buf + n, "%s%c%06zu" FIELD_TAIL, i ? "," : "", tag, i);
    return n;
}

/* Counts the fields of r that differ from put_fields' tag, 0, 1, ... */
static size_t bad_fields(const rec *r, char tag)
{
    size_t bad = 0;
    char want[64];
    for (size_t i = 0; i < r->nfield; i++) {
        snprintf(want, sizeof want, "%c%06zu" FIELD_TAIL, tag, i);
        bad += strcmp(r->field[i], want) != 0;
    }
    return bad;
}

/*
 * Lines longer than csvread's 1 MiB read block and records cut by block
 * boundaries.  The long lines are made of many short fields, plus one
 * 300 kB field: libcsv grows its field buffer 128 bytes at a time, which is
 * quadratic under ASan's realloc for multi-megabyte fields.
 */
static void test_long_lines_and_block_boundaries(void)
{
    const size_t MiB = (size_t)1 << 20; /* csvread's read block */
    const size_t nf2 = 40000, ny = 300000, nf4 = 80000;
    size_t cap = 8 * MiB, n = 0;
    char *buf = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    /* line 1 */
    n += (size_t)sprintf(buf + n, "h1,h2\n");
    /* line 2: 40000 fields of 34 bytes, 1.4 MB, crossing the first boundary */
    n += put_fields(buf + n, 'f', nf2);
    buf[n++] = '\n';
    CU_ASSERT_FATAL(n > MiB);
    /* line 3: one quoted 300 kB field */
    buf[n++] = '"';
    memset(buf + n, 'y', ny);
    n += ny;
    n += (size_t)sprintf(buf + n, "\",z\n");
    /* line 4: 2.8 MB, so that the block [2 MiB, 3 MiB) holds no newline at all */
    size_t start4 = n;
    n += put_fields(buf + n, 'g', nf4);
    buf[n++] = '\n';
    CU_ASSERT_FATAL(start4 < 2 * MiB && n > 3 * MiB);
    /* line 5: padding (fields of 99 'p') so that the next record starts 2 bytes before a block boundary */
    size_t boundary = (n / MiB + 1) * MiB;
    CU_ASSERT_FATAL(boundary - n > 4);
    size_t pad = boundary - n - 2 - 1, npad = 0;
    for (size_t i = 0; i < pad; i++)
        if (i % 100 == 99) {
            buf[n++] = ',';
        } else {
            buf[n++] = 'p';
            npad++;
        }
    buf[n++] = '\n';
    CU_ASSERT_EQUAL_FATAL(n, boundary - 2);
    /* lines 6-7: a two-line record cut by the boundary between "q and 1 */
    n += (size_t)sprintf(buf + n, "\"q1\nq2\",w\n");
    /* line 8 */
    n += (size_t)sprintf(buf + n, "last,1\n");

    coll c = {0};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("long.csv", buf, n, ',', &c, &e, NULL), HS_OK);
    free(buf);
    CU_ASSERT_EQUAL_FATAL(c.n, 7);
    const long want_line[] = {1, 2, 3, 4, 5, 6, 8};
    for (size_t i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(c.r[i].line, want_line[i]);
    CU_ASSERT(REC_IS(&c.r[0], "h1", "h2"));
    CU_ASSERT_EQUAL(c.r[1].nfield, nf2);
    CU_ASSERT_EQUAL(bad_fields(&c.r[1], 'f'), 0);
    CU_ASSERT_EQUAL_FATAL(c.r[2].nfield, 2);
    CU_ASSERT_EQUAL(c.r[2].len[0], ny);
    CU_ASSERT(all_bytes(c.r[2].field[0], ny, 'y'));
    CU_ASSERT_STRING_EQUAL(c.r[2].field[1], "z");
    CU_ASSERT_EQUAL(c.r[3].nfield, nf4);
    CU_ASSERT_EQUAL(bad_fields(&c.r[3], 'g'), 0);
    size_t got_pad = 0, bad_pad = 0;
    for (size_t i = 0; i < c.r[4].nfield; i++) {
        got_pad += c.r[4].len[i];
        bad_pad += !all_bytes(c.r[4].field[i], c.r[4].len[i], 'p') || c.r[4].len[i] > 99;
    }
    CU_ASSERT_EQUAL(got_pad, npad);
    CU_ASSERT_EQUAL(bad_pad, 0);
    CU_ASSERT(REC_IS(&c.r[5], "q1\nq2", "w"));
    CU_ASSERT(REC_IS(&c.r[6], "last", "1"));
    coll_free(&c);
}

static void test_unterminated_quote(void)
{
    /* The open quote is in the record that starts on line 4 (line 3 is blank). */
    coll c = {0};
    hs_error e = {0};
    char *path;
    CU_ASSERT_EQUAL(read_text("open.csv", "a,b\n1,2\n\n3,\"open\nmore\nstuff\n", HS_TEST_STRLEN, ',', &c, &e, &path),
                    HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":4:2: malformed CSV: unterminated quoted field starting at line 4 (its closing quote "
                               "is missing before the end of the file)"));
    CU_ASSERT_PTR_NULL(strstr(e.msg, "strict")); /* libcsv's jargon is not passed on */
    CU_ASSERT_EQUAL(c.n, 2); /* the records before it were delivered */
    free(path);
    coll_free(&c);

    /* On line 1, at the end of a file without a final newline. */
    CU_ASSERT_EQUAL(read_text("open1.csv", "\"abc", HS_TEST_STRLEN, ',', &c, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":1:1: malformed CSV: unterminated quoted field starting at line 1"));
    CU_ASSERT_EQUAL(c.n, 0);
    free(path);
    coll_free(&c);

    /* The record starts on line 2; its second field, opened on line 3 after a two-line first field, is not closed. */
    CU_ASSERT_EQUAL(read_text("open3.csv", "a,b\n\"x\ny\",\"open\nmore\n", HS_TEST_STRLEN, ',', &c, &e, &path),
                    HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":3:2: malformed CSV: unterminated quoted field starting at line 3"));
    free(path);
    coll_free(&c);
}

static void test_stray_quote(void)
{
    coll c = {0};
    hs_error e = {0};
    char *path;
    /* A quote inside an unquoted field, line 3; the record on line 4 is never delivered. */
    CU_ASSERT_EQUAL(read_text("stray.csv", "a,b\n1,2\nx,y\"z\n4,5\n", HS_TEST_STRLEN, ',', &c, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":3:2: malformed CSV: a quote inside an unquoted field (quote the whole field and "
                               "write the quote twice: \"a \"\"b\"\" c\"), at byte 4 of the line, near: x,y\"z"));
    CU_ASSERT_EQUAL(strlen(e.msg), strlen(path) + strlen(":3:2: malformed CSV: a quote inside an unquoted field (quote "
                                                         "the whole field and write the quote twice: \"a \"\"b\"\" "
                                                         "c\"), at byte 4 of the line, near: x,y\"z"));
    CU_ASSERT_PTR_NULL(strstr(e.msg, "strict"));
    CU_ASSERT_EQUAL(c.n, 2);
    free(path);
    coll_free(&c);

    /* Text after a closing quote, on line 3, the second line of a record that starts on line 2. */
    CU_ASSERT_EQUAL(read_text("after.csv", "a,b\n\"multi\nline\"oops,c\n", HS_TEST_STRLEN, ',', &c, &e, &path),
                    HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":3:1: malformed CSV: text after the closing quote of a quoted field (a quote inside "
                               "a quoted field is written twice: \"a \"\"b\"\" c\"), at byte 6 of the line, near: "
                               "line\"oops,c"));
    coll_free(&c);
    free(path);

    /* A long line: the text around the quote is shown cut, with "..." on both sides; a tab shown escaped. */
    CU_ASSERT_EQUAL(read_text("far.csv", "a,b\n0123456789abcdef,x\ty\"0123456789abcdef0123\n",
                              HS_TEST_STRLEN, ',', &c, &e, &path), HS_EDATA);
    CU_ASSERT(msg_is(&e, path, ":2:2: malformed CSV: a quote inside an unquoted field"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "at byte 21 of the line, near: ...89abcdef,x\\ty\"0123456789a..."));
    CU_ASSERT_EQUAL(c.n, 1);
    free(path);
    coll_free(&c);
}

/* Reads text of len bytes expecting HS_EDATA and a message that starts with the path then rest; frees all. */
static void expect_refused(const char *name, const char *text, size_t len, const char *rest)
{
    coll c = {0};
    hs_error e = {0};
    char *path;
    CU_ASSERT_EQUAL(read_text(name, text, len, ',', &c, &e, &path), HS_EDATA);
    if (!msg_is(&e, path, rest))
        fprintf(stderr, "\n%s: got '%s'\n", name, e.msg);
    CU_ASSERT(msg_is(&e, path, rest));
    free(path);
    coll_free(&c);
}

/* The bounds of csvread.h, each read at the bound and refused one past it. */
static void test_bounds(void)
{
    const size_t nmax = HS_CSV_MAX_FIELDS;
    char *buf = malloc(8 * nmax + (size_t)HS_CSV_MAX_FIELD + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    coll c = {0};
    hs_error e = {0};
    /* a header of HS_CSV_MAX_FIELDS names "c<i>", then one row */
    size_t n = 0;
    for (size_t i = 0; i < nmax; i++)
        n += (size_t)sprintf(buf + n, "%sc%zu", i ? "," : "", i);
    size_t hdr = n;
    n += (size_t)sprintf(buf + n, "\n1\n");
    CU_ASSERT_EQUAL(read_text("wide.csv", buf, n, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 2);
    CU_ASSERT_EQUAL(c.r[0].nfield, nmax);
    coll_free(&c);
    /* one column more: refused, naming the first column past the bound */
    n = hdr + (size_t)sprintf(buf + hdr, ",extra\n1\n");
    expect_refused("wider.csv", buf, n, ":1:100001: more than 100000 fields in one record");

    /* a column name of HS_CSV_MAX_NAME bytes is read, one byte more refused; a data field may be longer */
    n = (size_t)sprintf(buf, "a,");
    memset(buf + n, 'N', HS_CSV_MAX_NAME);
    n += HS_CSV_MAX_NAME;
    n += (size_t)sprintf(buf + n, "\n1,");
    memset(buf + n, 'v', 5000);
    n += 5000;
    buf[n++] = '\n';
    CU_ASSERT_EQUAL(read_text("name.csv", buf, n, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 2);
    CU_ASSERT_EQUAL(c.r[0].len[1], HS_CSV_MAX_NAME);
    CU_ASSERT_EQUAL(c.r[1].len[1], 5000);
    coll_free(&c);
    n = (size_t)sprintf(buf, "a,");
    memset(buf + n, 'N', HS_CSV_MAX_NAME + 1);
    n += HS_CSV_MAX_NAME + 1;
    n += (size_t)sprintf(buf + n, "\n1,2\n");
    expect_refused("longname.csv", buf, n, ":1:2: a column name of 1025 bytes (at most 1024): 'NNNN");

    /* a field of HS_CSV_MAX_FIELD bytes is read, one more refused */
    n = (size_t)sprintf(buf, "a,b\n1,");
    memset(buf + n, 'x', (size_t)HS_CSV_MAX_FIELD);
    n += (size_t)HS_CSV_MAX_FIELD;
    buf[n++] = '\n';
    CU_ASSERT_EQUAL(read_text("field.csv", buf, n, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 2);
    CU_ASSERT_EQUAL(c.r[1].len[1], (size_t)HS_CSV_MAX_FIELD);
    coll_free(&c);
    buf[n - 1] = 'x';
    buf[n++] = '\n';
    expect_refused("bigfield.csv", buf, n, ":2:2: a field longer than 1048576 bytes");
    /* a quote never closed: stopped at the bound, naming the line where the field starts, before the file ends */
    n = (size_t)sprintf(buf, "a,b\n1,2\n3,\"");
    for (size_t i = 0; i < (size_t)HS_CSV_MAX_FIELD / 100 + 10; i++)
        n += (size_t)sprintf(buf + n, "%099d\n", 0);
    expect_refused("openq.csv", buf, n, ":3:2: a field longer than 1048576 bytes (a quote never closed?)");
    free(buf);
}

/* Headers that are not UTF-8 text: said so, not read as a header without its columns. */
static void test_encodings(void)
{
    expect_refused("bom2.csv", "\xEF\xBB\xBF\xEF\xBB\xBF" "a,b\n1,2\n", HS_TEST_STRLEN,
                   ":1: a second byte-order mark (EF BB BF EF BB BF) at the start of the header");
    expect_refused("le.csv", "\xFF\xFE" "a\0,\0b\0\n\0", 10, ":1: the header is UTF-16 (byte-order mark FF FE); save it as UTF-8");
    expect_refused("be.csv", "\xFE\xFF\0a\0,\0b\0\n", 10, ":1: the header is UTF-16 (byte-order mark FE FF); save it as UTF-8");
    expect_refused("le0.csv", "a\0,\0b\0\n\0", 8, ":1: the header is UTF-16 (a NUL byte between its characters, "
                   "little-endian); save it as UTF-8");
    expect_refused("be0.csv", "\0a\0,\0b\0\n", 8, ":1: the header is UTF-16 (a NUL byte between its characters, "
                   "big-endian); save it as UTF-8");
    /* after a UTF-8 mark too */
    expect_refused("bomle.csv", "\xEF\xBB\xBF" "a\0,\0b\0\n\0", 11, ":1: the header is UTF-16");
    /* a mark at the start of a later column name (files joined) */
    expect_refused("bommid.csv", "a,\xEF\xBB\xBF" "b\n1,2\n", HS_TEST_STRLEN,
                   ":1:2: the column name starts with a byte-order mark");
    /* one mark is fine, and a mark-like text in a data field is data */
    coll c = {0};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("bom1.csv", "\xEF\xBB\xBF" "a,b\n\xEF\xBB\xBFx,2\n", HS_TEST_STRLEN, ',', &c, &e, NULL),
                    HS_OK);
    CU_ASSERT_EQUAL(c.n, 2);
    coll_free(&c);
}

static void test_missing_file(void)
{
    coll c = {0};
    hs_error e = {0};
    char *path = hs_test_path(dir, "no-such-file.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_EQUAL(hs_csv_read(path, ',', collect, &c, &e), HS_EIO);
    CU_ASSERT_EQUAL(e.code, HS_EIO);
    CU_ASSERT(msg_is(&e, path, ": cannot open: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "No such file"));
    CU_ASSERT_EQUAL(c.n, 0);
    free(path);
    /* A directory opens but cannot be read. */
    CU_ASSERT_EQUAL(hs_csv_read(dir, ',', collect, &c, &e), HS_EIO);
    CU_ASSERT_EQUAL(c.n, 0);
    /* NULL arguments */
    CU_ASSERT_EQUAL(hs_csv_read(NULL, ',', collect, &c, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_csv_read(dir, ',', NULL, &c, NULL), HS_EINVAL);
    coll_free(&c);
}

static void test_callback_stops(void)
{
    coll c = {.stop_rc = 7, .stop_at = 2};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("stop.csv", "h\n1\n2\n3\n4\n", HS_TEST_STRLEN, ',', &c, &e, NULL), 7);
    CU_ASSERT_EQUAL(c.n, 3); /* records 0, 1, 2 and no more */
    coll_free(&c);

    /* An error status and message set by the callback come back unchanged. */
    c = (coll){.stop_rc = HS_EDATA, .stop_at = 0, .stop_msg = "callback says no"};
    CU_ASSERT_EQUAL(read_text("stop2.csv", "h,i\n1,2\n", HS_TEST_STRLEN, ',', &c, &e, NULL), HS_EDATA);
    CU_ASSERT_STRING_EQUAL(e.msg, "callback says no");
    CU_ASSERT_EQUAL(c.n, 1);
    coll_free(&c);

    /* Stopping on the last record, which only ends at the end of the file. */
    c = (coll){.stop_rc = 9, .stop_at = 1};
    CU_ASSERT_EQUAL(read_text("stop3.csv", "h\n1", HS_TEST_STRLEN, ',', &c, &e, NULL), 9);
    CU_ASSERT_EQUAL(c.n, 2);
    coll_free(&c);
}

static void test_other_delimiter_and_nul(void)
{
    coll c = {0};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("tab.tsv", "a\tb\n\"x\ty\"\tz,w\n", HS_TEST_STRLEN, '\t', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 2);
    CU_ASSERT(REC_IS(&c.r[0], "a", "b"));
    CU_ASSERT(REC_IS(&c.r[1], "x\ty", "z,w"));
    coll_free(&c);

    /* A NUL byte inside a field is an error naming the line, the field and the byte: every parser after the
       reader would end the field there ("5\0002.57" read as 5). The records before it were delivered. */
    CU_ASSERT_EQUAL(read_text("nul.csv", "a,b\nz,x\0y\n", 10, ',', &c, &e, NULL), HS_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "nul.csv:2:2: a NUL byte inside the field (at its byte 2)"));
    CU_ASSERT_EQUAL(c.n, 1);
    coll_free(&c);
}

static void test_empty_files(void)
{
    coll c = {0};
    hs_error e = {0};
    CU_ASSERT_EQUAL(read_text("empty.csv", "", HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL(c.n, 0);
    CU_ASSERT_EQUAL(read_text("blanks.csv", "\n\r\n\n", HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL(c.n, 0);
    /* A lone delimiter is a record of two empty fields, not a blank line. */
    CU_ASSERT_EQUAL(read_text("comma.csv", "\n,\n", HS_TEST_STRLEN, ',', &c, &e, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(c.n, 1);
    CU_ASSERT(REC_IS(&c.r[0], "", ""));
    CU_ASSERT_EQUAL(c.r[0].line, 2);
    coll_free(&c);
}

/* ---- hs_parse ---- */

static void test_parse_numbers(void)
{
    static const struct {
        const char *s;
        double v;
    } ok[] = {
        {"42", 42.0},       {"-3.5", -3.5},    {"+2", 2.0},      {"1e5", 1e5},   {"1.5E-3", 1.5e-3},
        {"0.1", 0.1},       {" 7 ", 7.0},      {"\t8\t", 8.0},   {".5", 0.5},    {"5.", 5.0},
        {"-0", -0.0},       {"2.5e+2", 250.0}, {"1e400", HUGE_VAL}, {"12\r", 12.0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -999;
        CU_ASSERT_EQUAL(hs_parse_double(ok[i].s, &v), HS_CELL_NUMBER);
        CU_ASSERT_EQUAL(v, ok[i].v);
    }
    double v = 1;
    CU_ASSERT_EQUAL(hs_parse_double("-0", &v), HS_CELL_NUMBER);
    CU_ASSERT(signbit(v));
}

static void test_parse_missing_and_infinite(void)
{
    static const char *const missing[] = {"", " ", "\t \t", "NA", " NA ", "NaN", "NA\r"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        double v = 5;
        CU_ASSERT_EQUAL(hs_parse_double(missing[i], &v), HS_CELL_MISSING);
        CU_ASSERT(isnan(v));
        CU_ASSERT(hs_is_missing(missing[i]));
    }
    static const char *const present[] = {"0", "N", "na", "NAN", "nan", "NA1", "x", "-NA", "Inf"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
        CU_ASSERT(!hs_is_missing(present[i]));

    static const struct {
        const char *s;
        double v;
    } inf[] = {{"Inf", INFINITY},      {"-Inf", -INFINITY},      {"inf", INFINITY},  {"+Inf", INFINITY},
               {" -inf ", -INFINITY},  {"Infinity", INFINITY},   {"-infinity", -INFINITY}};
    for (size_t i = 0; i < sizeof inf / sizeof inf[0]; i++) {
        double v = 0;
        CU_ASSERT_EQUAL(hs_parse_double(inf[i].s, &v), HS_CELL_NUMBER);
        CU_ASSERT(isinf(v) && (v > 0) == (inf[i].v > 0));
    }
}

static void test_parse_text(void)
{
    static const char *const text[] = {"1e5x", "0x1p3", "0x10", "0X1A", "abc", "1 2", "--1", "1-", ".",
                                       "-",    "e5",    "1e",   "nan(1)", "na", "NAN", "1,5", "1e5 x", "Inf1"};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        double v = 123.0;
        CU_ASSERT_EQUAL(hs_parse_double(text[i], &v), HS_CELL_TEXT);
        CU_ASSERT_EQUAL(v, 123.0); /* untouched */
    }
}

static void test_fprint_double(void)
{
    /* R: sprintf("%.17g", c(0.1, 1/3, 1e-300, 100, -0, 1e22, 123456789.125, 2^-1074)) */
    static const struct {
        double x;
        const char *s;
    } cases[] = {
        {NAN, "NA"},
        {INFINITY, "Inf"},
        {-INFINITY, "-Inf"},
        {0.1, "0.10000000000000001"},
        {1.0 / 3.0, "0.33333333333333331"},
        {1e-300, "1e-300"},
        {100.0, "100"},
        {-0.0, "-0"},
        {1e22, "1e+22"},
        {123456789.125, "123456789.125"},
        {0x1p-1074, "4.9406564584124654e-324"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT(hs_fprint_double(f, cases[i].x) >= 0);
        fclose(f);
        CU_ASSERT_STRING_EQUAL(out, cases[i].s);
        free(out);
    }
}

/* ---- hs_strmap ---- */

static void test_strmap_order_and_lookup(void)
{
    hs_strmap *m = hs_strmap_alloc();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(hs_strmap_size(m), 0);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "b", 0), -1);
    CU_ASSERT_EQUAL(hs_strmap_size(m), 0);
    char buf[8];
    strcpy(buf, "b");
    CU_ASSERT_EQUAL(hs_strmap_intern(m, buf, 1), 0);
    strcpy(buf, "zz"); /* the map holds its own copy */
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "a", 1), 1);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "b", 1), 0);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "", 1), 2);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "B", 1), 3);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "a", 0), 1);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "", 0), 2);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "c", 0), -1);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "zz", 0), -1);
    CU_ASSERT_EQUAL(hs_strmap_size(m), 4);
    CU_ASSERT_STRING_EQUAL(hs_strmap_key(m, 0), "b");
    CU_ASSERT_STRING_EQUAL(hs_strmap_key(m, 1), "a");
    CU_ASSERT_STRING_EQUAL(hs_strmap_key(m, 2), "");
    CU_ASSERT_STRING_EQUAL(hs_strmap_key(m, 3), "B");
    CU_ASSERT_PTR_NULL(hs_strmap_key(m, 4));
    hs_strmap_free(m);
    hs_strmap_free(NULL);
}

static void test_strmap_growth(void)
{
    enum { N = 10000 }; /* from 64 slots: rehashed at 33, 65, ... 8193 keys (9 times) */
    hs_strmap *m = hs_strmap_alloc();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char key[32];
    int bad = 0;
    for (long i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%ld", (i * 7919) % N); /* a permutation of 0..N-1 */
        if (hs_strmap_intern(m, key, 1) != i)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(hs_strmap_size(m), N);
    for (long i = N - 1; i >= 0; i--) {
        snprintf(key, sizeof key, "k%ld", (i * 7919) % N);
        if (hs_strmap_intern(m, key, 0) != i || hs_strmap_intern(m, key, 1) != i ||
            strcmp(hs_strmap_key(m, (size_t)i), key) != 0)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(hs_strmap_size(m), N);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "k10000", 0), -1);
    CU_ASSERT_EQUAL(hs_strmap_intern(m, "k", 0), -1);
    CU_ASSERT_EQUAL(hs_strmap_size(m), N);
    hs_strmap_free(m);
}

int hs_suite_csv(void)
{
    CU_pSuite s = CU_add_suite("csv", suite_init, suite_clean);
    if (!s || !CU_add_test(s, "quoted fields", test_quoted_fields) ||
        !CU_add_test(s, "line numbers", test_line_numbers) || !CU_add_test(s, "CRLF and BOM", test_crlf_and_bom) ||
        !CU_add_test(s, "whitespace-only line", test_whitespace_only_line) ||
        !CU_add_test(s, "long lines, block boundaries", test_long_lines_and_block_boundaries) ||
        !CU_add_test(s, "unterminated quote", test_unterminated_quote) ||
        !CU_add_test(s, "stray quote", test_stray_quote) || !CU_add_test(s, "bounds", test_bounds) ||
        !CU_add_test(s, "UTF-16 and second BOM", test_encodings) || !CU_add_test(s, "missing file", test_missing_file) ||
        !CU_add_test(s, "callback stops", test_callback_stops) ||
        !CU_add_test(s, "tab delimiter, NUL byte", test_other_delimiter_and_nul) ||
        !CU_add_test(s, "empty files", test_empty_files) ||
        !CU_add_test(s, "parse numbers", test_parse_numbers) ||
        !CU_add_test(s, "parse missing, infinite", test_parse_missing_and_infinite) ||
        !CU_add_test(s, "parse text", test_parse_text) || !CU_add_test(s, "fprint double", test_fprint_double) ||
        !CU_add_test(s, "strmap order, lookup", test_strmap_order_and_lookup) ||
        !CU_add_test(s, "strmap growth", test_strmap_growth))
        return 1;
    return 0;
}
