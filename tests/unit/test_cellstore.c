/*
 * Unit tests of scoring/cellstore: cells kept in memory or in a spill file
 * read back in the order added, positions exact, area and radius as floats,
 * sector values on both sides of the border quantised to 1/4096 OD (round to
 * nearest: within 1/8192 of the value; k/4096 exactly; negative and NaN as 0;
 * saturating just under 16, at 65534/4096, the code 65535 marking a sector
 * no cell faces, read back as -1 on both of its other-side values), sector
 * counts above the store's maximum cut to it.  Spill
 * files: more records than the store's buffer (4096) so that it writes in
 * several pieces; two stores sharing one file; a stream that cannot be
 * written or read gives HS_EIO.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/cellstore.h"
#include "suites.h"
#include "tmpfiles.h"

#define Q 4096.0

static char *dir;

static int suite_init(void)
{
    return hs_test_suite_init(&dir);
}

static int suite_clean(void)
{
    return hs_test_suite_clean(&dir);
}

/* Cell i of a deterministic set: 1..24 sectors, values spread over 0 .. 2 OD, off the 1/4096 grid. */
static void make_cell(size_t i, hs_cell *c, double *x_um, double *y_um)
{
    memset(c, 0, sizeof *c);
    c->nsector = 1 + (int)(i % 24);
    for (int k = 0; k < c->nsector; k++) {
        c->stain[k] = (float)(0.001 * (double)i + 0.07 * k + 0.3 / Q);
        c->peak[k] = (float)(c->stain[k] + 0.05 + 0.1 / Q);
        int open = (k + (int)i) % 5 == 4;
        c->ostain[k] = open ? -1 : (float)(0.5 * c->stain[k] + 0.2 / Q);
        c->opeak[k] = open ? -1 : (float)(0.5 * c->peak[k] + 0.4 / Q);
    }
    c->area_um2 = 20 + 0.37 * (double)(i % 100);
    c->radius_um = 3 + 0.011 * (double)(i % 500);
    c->x = 1.5 * (double)i; /* region pixels: not stored */
    c->y = 2.5 * (double)i;
    *x_um = 1000.0 / 3.0 + (double)i * 0.123456789;
    *y_um = 1e5 + (double)i / 7.0;
}

/* The value the store gives back for v >= 0: round(v * 4096) / 4096, clamped to 0 .. 65534/4096. */
static float quantised(float v)
{
    double q = isnan(v) || v <= 0 ? 0 : round((double)v * Q);
    return (float)((q > 65534 ? 65534 : q) / Q);
}

typedef struct reader {
    size_t n, bad, stop_at;
    int max_sectors;
} reader;

/* Checks record n against make_cell(n); stops with 7 after stop_at records when stop_at > 0. */
static int check_rec(void *ctx, const hs_cellrec *r)
{
    reader *rd = ctx;
    hs_cell c;
    double x, y;
    make_cell(rd->n, &c, &x, &y);
    int ns = c.nsector < rd->max_sectors ? c.nsector : rd->max_sectors;
    int ok = r->x_um == x && r->y_um == y && r->area_um2 == (float)c.area_um2 && r->radius_um == (float)c.radius_um &&
             r->nsector == ns;
    for (int k = 0; ok && k < ns; k++) {
        ok = r->stain[k] == quantised(c.stain[k]) && r->peak[k] == quantised(c.peak[k]) &&
             fabs(r->stain[k] - c.stain[k]) <= 0.5 / Q + 1e-6 && fabs(r->peak[k] - c.peak[k]) <= 0.5 / Q + 1e-6;
        if (c.opeak[k] < 0)
            ok = ok && r->ostain[k] == -1 && r->opeak[k] == -1;
        else
            ok = ok && r->ostain[k] == quantised(c.ostain[k]) && r->opeak[k] == quantised(c.opeak[k]) &&
                 fabs(r->opeak[k] - c.opeak[k]) <= 0.5 / Q + 1e-6;
    }
    rd->bad += !ok;
    rd->n++;
    return rd->stop_at && rd->n == rd->stop_at ? 7 : 0;
}

/* Adds cells first .. first+n-1 to s. */
static int fill(hs_cellstore *s, size_t first, size_t n)
{
    for (size_t i = first; i < first + n; i++) {
        hs_cell c;
        double x, y;
        make_cell(i, &c, &x, &y);
        int rc = hs_cellstore_add(s, x, y, &c, NULL);
        if (rc != HS_OK)
            return rc;
    }
    return HS_OK;
}

static void test_alloc(void)
{
    CU_ASSERT_PTR_NULL(hs_cellstore_alloc(0, NULL));
    CU_ASSERT_PTR_NULL(hs_cellstore_alloc(HS_CELL_MAX_SECTORS + 1, NULL));
    hs_cellstore *s = hs_cellstore_alloc(HS_CELL_MAX_SECTORS, NULL);
    CU_ASSERT_PTR_NOT_NULL(s);
    CU_ASSERT_EQUAL(hs_cellstore_count(s), 0);
    CU_ASSERT_EQUAL(hs_cellstore_count(NULL), 0);
    reader rd = {0, 0, 0, 24};
    CU_ASSERT_EQUAL(hs_cellstore_finish(s, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, NULL), HS_OK);
    CU_ASSERT_EQUAL(rd.n, 0);
    hs_cellstore_free(s);
    hs_cellstore_free(NULL);
}

/* In memory: 5000 records (past every growth step), read back in order, twice. */
static void test_memory(void)
{
    hs_cellstore *s = hs_cellstore_alloc(24, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(fill(s, 0, 5000), HS_OK);
    CU_ASSERT_EQUAL(hs_cellstore_count(s), 5000);
    reader rd = {0, 0, 0, 24};
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, NULL), HS_OK); /* readable before finish */
    CU_ASSERT_EQUAL(rd.n, 5000);
    CU_ASSERT_EQUAL(rd.bad, 0);
    CU_ASSERT_EQUAL(hs_cellstore_finish(s, NULL), HS_OK);
    rd = (reader){0, 0, 0, 24};
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, NULL), HS_OK);
    CU_ASSERT_EQUAL(rd.n, 5000);
    CU_ASSERT_EQUAL(rd.bad, 0);
    /* the callback's non-zero return stops the reading and is returned */
    rd = (reader){0, 0, 10, 24};
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, NULL), 7);
    CU_ASSERT_EQUAL(rd.n, 10);
    hs_cellstore_free(s);
}

/* A store for 12 sectors keeps the first 12 of longer cells (the 12 least stained: sectors are ascending). */
static void test_max_sectors(void)
{
    hs_cellstore *s = hs_cellstore_alloc(12, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(fill(s, 0, 48), HS_OK);
    reader rd = {0, 0, 0, 12};
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, NULL), HS_OK);
    CU_ASSERT_EQUAL(rd.n, 48);
    CU_ASSERT_EQUAL(rd.bad, 0);
    hs_cellstore_free(s);
}

typedef struct grab {
    hs_cellrec r[4];
    size_t n;
} grab;

static int grab_rec(void *ctx, const hs_cellrec *r)
{
    grab *g = ctx;
    if (g->n < 4)
        g->r[g->n] = *r;
    g->n++;
    return 0;
}

/*
 * Quantisation by hand: 0.25 and 1/4096 exactly; 0.1 -> round(409.6) = 410
 * -> 0.10009765625; 1/8192 + 1/4096 (1.5 units) rounds to 2 units; negative
 * and NaN -> 0; 20 OD -> 65534/4096 = 15.99951171875.  The other side:
 * the same values, except that a sector whose opeak is negative (no cell
 * faces it) reads -1 on both sides of that pair.
 */
static void test_quantisation(void)
{
    hs_cellstore *s = hs_cellstore_alloc(8, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    hs_cell c;
    memset(&c, 0, sizeof c);
    c.nsector = 8;
    const float in[8] = {-0.5f, NAN, 0.25f, (float)(1 / Q), 0.1f, (float)(1.5 / Q), 2.0f, 20.0f};
    const double out[8] = {0, 0, 0.25, 1 / Q, 410 / Q, 2 / Q, 2.0, 65534 / Q};
    for (int k = 0; k < 8; k++) {
        c.stain[k] = in[k];
        c.peak[k] = in[7 - k];
        c.ostain[k] = in[(k + 2) % 8];
        c.opeak[k] = k == 5 ? -1 : 0.5f;
    }
    c.area_um2 = 55.5;
    c.radius_um = 7.25;
    CU_ASSERT_EQUAL_FATAL(hs_cellstore_add(s, -3.5, 1e9, &c, NULL), HS_OK);
    c.nsector = 0;
    CU_ASSERT_EQUAL_FATAL(hs_cellstore_add(s, 1, 2, &c, NULL), HS_OK);
    grab g = {0};
    CU_ASSERT_EQUAL(hs_cellstore_read(s, grab_rec, &g, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(g.n, 2);
    CU_ASSERT_EQUAL(g.r[0].x_um, -3.5);
    CU_ASSERT_EQUAL(g.r[0].y_um, 1e9);
    CU_ASSERT_EQUAL(g.r[0].area_um2, 55.5f);
    CU_ASSERT_EQUAL(g.r[0].radius_um, 7.25f);
    CU_ASSERT_EQUAL(g.r[0].nsector, 8);
    for (int k = 0; k < 8; k++) {
        CU_ASSERT_EQUAL(g.r[0].stain[k], (float)out[k]);
        CU_ASSERT_EQUAL(g.r[0].peak[k], (float)out[7 - k]);
        CU_ASSERT_EQUAL(g.r[0].ostain[k], k == 5 ? -1.0f : (float)out[(k + 2) % 8]);
        CU_ASSERT_EQUAL(g.r[0].opeak[k], k == 5 ? -1.0f : 0.5f);
    }
    CU_ASSERT_EQUAL(g.r[1].nsector, 0);
    hs_cellstore_free(s);
}

/*
 * Spill file: 10000 records, written in pieces of 4096; read before finish
 * (part in the file, part still buffered) and after; identical to memory.
 */
static void test_spill(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    hs_cellstore *s = hs_cellstore_alloc(24, f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(fill(s, 0, 10000), HS_OK);
    CU_ASSERT_EQUAL(hs_cellstore_count(s), 10000);
    reader rd = {0, 0, 0, 24};
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, NULL), HS_OK);
    CU_ASSERT_EQUAL(rd.n, 10000);
    CU_ASSERT_EQUAL(rd.bad, 0);
    CU_ASSERT_EQUAL(hs_cellstore_finish(s, NULL), HS_OK);
    /* every record is in the file now: at least 10000 * (16 + 8 + 2 * (1 + 4 * 24)) bytes */
    CU_ASSERT_EQUAL(fseek(f, 0, SEEK_END), 0);
    CU_ASSERT(ftell(f) >= 10000L * (16 + 8 + 2 * (1 + 4 * 24)));
    rd = (reader){0, 0, 0, 24};
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, NULL), HS_OK);
    CU_ASSERT_EQUAL(rd.n, 10000);
    CU_ASSERT_EQUAL(rd.bad, 0);
    rd = (reader){0, 0, 5000, 24}; /* stop inside the second piece */
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, NULL), 7);
    CU_ASSERT_EQUAL(rd.n, 5000);
    CU_ASSERT_EQUAL(rd.bad, 0);
    hs_cellstore_free(s);
    fclose(f);
}

/* Two stores filled one after the other in one spill file each read their own records. */
static void test_shared_spill(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    hs_cellstore *a = hs_cellstore_alloc(24, f), *b = hs_cellstore_alloc(24, f);
    CU_ASSERT_FATAL(a && b);
    CU_ASSERT_EQUAL_FATAL(fill(a, 0, 6000), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_cellstore_finish(a, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(fill(b, 6000, 5000), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_cellstore_finish(b, NULL), HS_OK);
    reader rd = {0, 0, 0, 24};
    CU_ASSERT_EQUAL(hs_cellstore_read(a, check_rec, &rd, NULL), HS_OK);
    CU_ASSERT_EQUAL(rd.n, 6000);
    CU_ASSERT_EQUAL(rd.bad, 0);
    rd = (reader){6000, 0, 0, 24};
    CU_ASSERT_EQUAL(hs_cellstore_read(b, check_rec, &rd, NULL), HS_OK);
    CU_ASSERT_EQUAL(rd.n, 11000);
    CU_ASSERT_EQUAL(rd.bad, 0);
    /* a again, after b moved the file position */
    rd = (reader){0, 0, 0, 24};
    CU_ASSERT_EQUAL(hs_cellstore_read(a, check_rec, &rd, NULL), HS_OK);
    CU_ASSERT_EQUAL(rd.n, 6000);
    CU_ASSERT_EQUAL(rd.bad, 0);
    hs_cellstore_free(a);
    hs_cellstore_free(b);
    fclose(f);
}

/* A spill stream opened read-only cannot be written (HS_EIO at finish); one opened write-only cannot be read. */
static void test_spill_errors(void)
{
    char *path = hs_test_write(dir, "spill.bin", "", HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    FILE *ro = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
    hs_cellstore *s = hs_cellstore_alloc(24, ro);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(fill(s, 0, 10), HS_OK);
    hs_error e;
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_cellstore_finish(s, &e), HS_EIO);
    CU_ASSERT_EQUAL(e.code, HS_EIO);
    CU_ASSERT(strstr(e.msg, "spill") != NULL);
    hs_cellstore_free(s);
    fclose(ro);
    FILE *wo = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(wo);
    s = hs_cellstore_alloc(24, wo);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(fill(s, 0, 10), HS_OK);
    CU_ASSERT_EQUAL(hs_cellstore_finish(s, NULL), HS_OK);
    reader rd = {0, 0, 0, 24};
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_cellstore_read(s, check_rec, &rd, &e), HS_EIO);
    CU_ASSERT_EQUAL(e.code, HS_EIO);
    CU_ASSERT_EQUAL(rd.n, 0);
    hs_cellstore_free(s);
    fclose(wo);
    free(path);
}

int hs_suite_cellstore(void)
{
    CU_pSuite s = CU_add_suite("cellstore", suite_init, suite_clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "alloc bounds, empty store, free(NULL)", test_alloc) ||
        !CU_add_test(s, "memory: 5000 records in order; early stop", test_memory) ||
        !CU_add_test(s, "sectors beyond the store's maximum", test_max_sectors) ||
        !CU_add_test(s, "quantisation to 1/4096 OD by hand", test_quantisation) ||
        !CU_add_test(s, "spill file: 10000 records, before and after finish", test_spill) ||
        !CU_add_test(s, "two stores in one spill file", test_shared_spill) ||
        !CU_add_test(s, "spill stream not writable / readable: HS_EIO", test_spill_errors))
        return 1;
    return 0;
}
