/*
 * Unit tests of scoring/score, the whole-slide pipeline, through files:
 * tiled Deflate (lossless) TIFF slides written with tiffwriter hold a nest of
 * cells rendered by Beer-Lambert from planted classes (cellfix.c), on glass
 * of intensity (242, 240, 238).  Expected values come from the planted truth:
 * the tumour cells are the planted nuclei with >= 3 others within 20 um
 * (the rule applied to the planted centres), their classes and positions are
 * known, and tiles are 256 um = 512 px squares from the origin.  Error paths:
 * missing, not-a-TIFF and truncated files, zero tissue, a single cell, no
 * pixel size.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "cellfix.h"
#include "scoring/score.h"
#include "scoring/tiffwriter.h"
#include "slidefix.h"
#include "suites.h"
#include "tmpfiles.h"

#define MPP 0.5
#define SIDE 1024  /* the nest slide: 512 um */
#define SMALL 512  /* other slides */

static const double GLASS[3] = {242, 240, 238};

/* The planted truth of one slide. */
typedef struct truth {
    hs_cf_cell *cell;
    size_t n;
    unsigned char *tumour; /* >= 3 other centres within 20 um */
    size_t ntumour;
    double p[HS_NCLASS]; /* class fractions over the tumour cells */
} truth;

static char *dir, *nest_path, *small_nest_path, *notiff_path;
static truth nest, small_nest;

/* Planted classes: 40% 0, 30% 1+, 20% 2+, 10% 3+ by a fixed hash of the cell index. */
static hs_class planted_class(size_t i)
{
    double u = hs_cf_uniform(i * 7 + 3);
    return u < 0.4 ? HS_CLASS_0 : u < 0.7 ? HS_CLASS_1 : u < 0.9 ? HS_CLASS_2 : HS_CLASS_3;
}

static int make_truth(truth *t, double x0, double x1)
{
    memset(t, 0, sizeof *t);
    t->cell = hs_cf_lattice(x0 + 0.3, x0, x1, x1, 24, 4.0, &t->n);
    t->tumour = calloc(t->n ? t->n : 1, 1);
    if (!t->cell || !t->tumour)
        return -1;
    unsigned long cnt[HS_NCLASS] = {0};
    double r = 20 / MPP;
    for (size_t i = 0; i < t->n; i++) {
        hs_cf_set_class(&t->cell[i], planted_class(i));
        int nb = 0;
        for (size_t j = 0; j < t->n; j++)
            nb += j != i && hypot(t->cell[j].x - t->cell[i].x, t->cell[j].y - t->cell[i].y) <= r;
        t->tumour[i] = nb >= 3;
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->tumour[i]) {
            cnt[t->cell[i].cls]++;
            t->ntumour++;
        }
    for (int k = 0; k < HS_NCLASS; k++)
        t->p[k] = (double)cnt[k] / (double)t->ntumour;
    return 0;
}

static void free_truth(truth *t)
{
    free(t->cell);
    free(t->tumour);
    memset(t, 0, sizeof *t);
}

/* RGB of the cells over a side x side slide (malloc'd). */
static uint8_t *render_rgb(const hs_cf_cell *cells, size_t n, int side)
{
    size_t np = (size_t)side * side;
    float *hem = malloc(np * sizeof *hem), *dab = malloc(np * sizeof *dab);
    uint8_t *rgb = malloc(np * 3);
    if (hem && dab && rgb) {
        hs_cf_render(cells, n, MPP, 0, 0, side, side, hem, dab);
        hs_cf_rgb(hem, dab, np, GLASS, rgb);
    } else {
        free(rgb);
        rgb = NULL;
    }
    free(hem);
    free(dab);
    return rgb;
}

/* A pyramidal tiled Deflate slide (tiles 256, 4 levels) of the cells. */
static int write_slide(const char *path, const hs_cf_cell *cells, size_t n, int side)
{
    uint8_t *rgb = render_rgb(cells, n, side);
    if (!rgb)
        return -1;
    hs_tiffw *tw;
    int rc = hs_tiffw_open(&tw, path, (uint32_t)side, (uint32_t)side, 256, 4, HS_TIFF_DEFLATE, 0, MPP, NULL);
    for (int y = 0; rc == HS_OK && y < side; y += 256) {
        uint32_t rows = side - y < 256 ? (uint32_t)(side - y) : 256;
        if ((rc = hs_tiffw_write_band(tw, rgb + (size_t)y * side * 3, rows, NULL)) != HS_OK)
            hs_tiffw_abort(tw);
    }
    if (rc == HS_OK)
        rc = hs_tiffw_close(tw, NULL);
    free(rgb);
    return rc;
}

/* A plain stripped Deflate TIFF of the cells without any pixel size (no resolution tags, no description). */
static int write_plain_tiff(const char *path, const hs_cf_cell *cells, size_t n, int side)
{
    uint8_t *rgb = render_rgb(cells, n, side);
    TIFF *t = rgb ? TIFFOpen(path, "w") : NULL;
    if (!t) {
        free(rgb);
        return -1;
    }
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)side);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)side);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
    int rc = 0;
    for (int y = 0; y < side && rc == 0; y++)
        if (TIFFWriteScanline(t, rgb + (size_t)y * side * 3, (uint32_t)y, 0) < 0)
            rc = -1;
    TIFFClose(t);
    free(rgb);
    return rc;
}

static int suite_init(void)
{
    if (!(dir = hs_test_tmpdir()))
        return 1;
    nest_path = hs_test_path(dir, "nest.tif");
    small_nest_path = hs_test_path(dir, "small_nest.tif");
    notiff_path = hs_test_path(dir, "nompp.tif");
    if (!nest_path || !small_nest_path || !notiff_path)
        return 1;
    /* nest: cells over [160, 864)^2 of the 1024 slide; small nest: [96, 416)^2 of a 512 slide */
    if (make_truth(&nest, 160, 864) || make_truth(&small_nest, 96, 416))
        return 1;
    if (write_slide(nest_path, nest.cell, nest.n, SIDE) != HS_OK ||
        write_slide(small_nest_path, small_nest.cell, small_nest.n, SMALL) != HS_OK ||
        write_plain_tiff(notiff_path, small_nest.cell, small_nest.n, SMALL) != 0)
        return 1;
    return 0;
}

static int suite_clean(void)
{
    free_truth(&nest);
    free_truth(&small_nest);
    free(nest_path);
    free(small_nest_path);
    free(notiff_path);
    nest_path = small_nest_path = notiff_path = NULL;
    hs_test_rmtree(dir);
    dir = NULL;
    return 0;
}

/* Matches every reported cell to the planted one nearest to it. */
typedef struct matcher {
    const truth *t;
    size_t ncall, far, wrong, not_tumour, twice;
    unsigned char *seen;
} matcher;

static void match_cell(void *ctx, double x_um, double y_um, const hs_cell *cell)
{
    matcher *m = ctx;
    double x = x_um / MPP, y = y_um / MPP, bd = INFINITY;
    size_t best = 0;
    for (size_t i = 0; i < m->t->n; i++) {
        double d = hypot(m->t->cell[i].x - x, m->t->cell[i].y - y);
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    m->ncall++;
    m->far += bd > 0.5;
    m->wrong += cell->cls != m->t->cell[best].cls;
    m->not_tumour += !m->t->tumour[best];
    m->twice += m->seen[best];
    m->seen[best] = 1;
}

/* The nest: cell count, class fractions, positions and classes of single cells, tiles, background. */
static void test_nest(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    matcher m = {&nest, 0, 0, 0, 0, 0, calloc(nest.n, 1)};
    CU_ASSERT_PTR_NOT_NULL_FATAL(m.seen);
    p.cell_fn = match_cell;
    p.cell_ctx = &m;
    hs_score_result r;
    hs_error e;
    int rc = hs_score_slide(nest_path, &p, HS_ISH_UNKNOWN, &r, &e);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    CU_ASSERT_FATAL(nest.ntumour > 1000);
    /* cell count within 2% of the planted tumour cells, class fractions within 0.02 */
    CU_ASSERT(fabs((double)r.metrics.n_cells - (double)nest.ntumour) <= 0.02 * nest.ntumour);
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(fabs(r.metrics.p[k] - nest.p[k]) <= 0.02);
    /* every reported cell is a planted tumour cell, found once, within 0.5 px, of its planted class (98%) */
    CU_ASSERT_EQUAL(m.ncall, r.metrics.n_cells);
    CU_ASSERT_EQUAL(m.far, 0);
    CU_ASSERT_EQUAL(m.twice, 0);
    CU_ASSERT_EQUAL(m.not_tumour, 0);
    CU_ASSERT(m.wrong <= m.ncall / 50);
    /* level 0 at 0.5 um; glass estimated exactly from the thumbnail; 2 x 2 tiles of 512 px, all tumour tiles */
    CU_ASSERT_EQUAL(r.level, 0);
    HS_ASSERT_CLOSE(r.mpp, MPP, 1e-12);
    for (int c = 0; c < 3; c++)
        CU_ASSERT_EQUAL(r.background[c], GLASS[c]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.map);
    CU_ASSERT_EQUAL(r.map->nx, 2);
    CU_ASSERT_EQUAL(r.map->ny, 2);
    CU_ASSERT_EQUAL(r.metrics.n_tiles, 4);
    unsigned long total = 0;
    for (size_t i = 0; i < r.map->nx * r.map->ny * HS_NCLASS; i++)
        total += r.map->count[i];
    CU_ASSERT_EQUAL(total, r.metrics.n_cells);
    CU_ASSERT(r.megapixels > 1.0);
    hs_score_result_clear(&r);
    CU_ASSERT_PTR_NULL(r.map);
    free(m.seen);
}

/* Field-by-field equality of metrics, NAN equal to NAN. */
static int same_num(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static int same_metrics(const hs_slide_metrics *a, const hs_slide_metrics *b)
{
    int same = a->n_cells == b->n_cells && a->n_tiles == b->n_tiles && same_num(a->hscore, b->hscore) &&
               a->ihc_score == b->ihc_score && a->her2_class == b->her2_class && same_num(a->entropy, b->entropy) &&
               same_num(a->simpson, b->simpson) && same_num(a->tile_cv, b->tile_cv) &&
               same_num(a->discordant_frac, b->discordant_frac) && same_num(a->morans_i, b->morans_i) &&
               same_num(a->minority_frac, b->minority_frac) && a->pattern == b->pattern &&
               a->heterogeneous == b->heterogeneous;
    for (int k = 0; k < HS_NCLASS; k++)
        same = same && same_num(a->p[k], b->p[k]);
    return same;
}

static void test_determinism(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result a, b;
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(nest_path, &p, HS_ISH_NEGATIVE, &a, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(nest_path, &p, HS_ISH_NEGATIVE, &b, NULL), HS_OK);
    CU_ASSERT(same_metrics(&a.metrics, &b.metrics));
    CU_ASSERT_EQUAL_FATAL(a.map->nx * a.map->ny, b.map->nx * b.map->ny);
    CU_ASSERT(memcmp(a.map->count, b.map->count, a.map->nx * a.map->ny * HS_NCLASS * sizeof *a.map->count) == 0);
    CU_ASSERT_EQUAL(a.megapixels, b.megapixels);
    /* smaller regions read in several pieces: the same cells (the margin covers every neighbourhood) */
    hs_score_params q = p;
    q.region_px = 384;
    hs_score_result c;
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(nest_path, &q, HS_ISH_NEGATIVE, &c, NULL), HS_OK);
    CU_ASSERT(same_metrics(&a.metrics, &c.metrics));
    CU_ASSERT(memcmp(a.map->count, c.map->count, a.map->nx * a.map->ny * HS_NCLASS * sizeof *a.map->count) == 0);
    hs_score_result_clear(&a);
    hs_score_result_clear(&b);
    hs_score_result_clear(&c);
}

static void test_missing(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result r;
    hs_error e;
    char *path = hs_test_path(dir, "no-such-slide.tif");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    hs_fix_stderr_begin();
    int rc = hs_score_slide(path, &p, HS_ISH_UNKNOWN, &r, &e);
    long printed = hs_fix_stderr_end();
    CU_ASSERT_EQUAL(rc, HS_EIO);
    CU_ASSERT_EQUAL(e.code, HS_EIO);
    CU_ASSERT(strstr(e.msg, path) != NULL);
    CU_ASSERT_PTR_NULL(r.map);
    CU_ASSERT_EQUAL(printed, 0);
    free(path);
}

static void test_corrupt(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result r;
    hs_error e;
    /* a text file named .tif */
    char *text = hs_test_write(dir, "text.tif", "this is not a slide\n", HS_TEST_STRLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    hs_fix_stderr_begin();
    int rc = hs_score_slide(text, &p, HS_ISH_UNKNOWN, &r, &e);
    long printed = hs_fix_stderr_end();
    CU_ASSERT_EQUAL(rc, HS_EFORMAT);
    CU_ASSERT(strstr(e.msg, text) != NULL);
    CU_ASSERT_PTR_NULL(r.map);
    CU_ASSERT_EQUAL(printed, 0);
    /* the good small slide, truncated to 60% of its bytes */
    char *cut = hs_test_path(dir, "cut.tif");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
    CU_ASSERT_EQUAL_FATAL(write_slide(cut, small_nest.cell, small_nest.n, SMALL), HS_OK);
    long long size = hs_fix_file_size(cut);
    CU_ASSERT_FATAL(size > 1000);
    CU_ASSERT_EQUAL_FATAL(hs_fix_truncate(cut, size * 6 / 10), 0);
    hs_fix_stderr_begin();
    rc = hs_score_slide(cut, &p, HS_ISH_UNKNOWN, &r, &e);
    printed = hs_fix_stderr_end();
    CU_ASSERT_EQUAL(rc, HS_EFORMAT);
    CU_ASSERT(strstr(e.msg, cut) != NULL);
    CU_ASSERT_PTR_NULL(r.map);
    CU_ASSERT_EQUAL(printed, 0);
    free(text);
    free(cut);
}

/* No tissue, and one lone cell (no neighbours, so no tumour cell): HS_EDATA "no tumour cells". */
static void test_no_tumour(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result r;
    hs_error e;
    char *glass = hs_test_path(dir, "glass.tif"), *lone = hs_test_path(dir, "lone.tif");
    CU_ASSERT_FATAL(glass && lone);
    CU_ASSERT_EQUAL_FATAL(write_slide(glass, NULL, 0, SMALL), HS_OK);
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_score_slide(glass, &p, HS_ISH_UNKNOWN, &r, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "no tumour cells") != NULL);
    CU_ASSERT(strstr(e.msg, glass) != NULL);
    CU_ASSERT_PTR_NULL(r.map);
    hs_cf_cell one = {256.3, 250.6, 4.0, 0, 1, HS_CLASS_0};
    hs_cf_set_class(&one, HS_CLASS_3);
    CU_ASSERT_EQUAL_FATAL(write_slide(lone, &one, 1, SMALL), HS_OK);
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_score_slide(lone, &p, HS_ISH_UNKNOWN, &r, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "no tumour cells") != NULL);
    CU_ASSERT_PTR_NULL(r.map);
    free(glass);
    free(lone);
}

/*
 * A plain TIFF without any pixel size: HS_EDATA naming --mpp; with the
 * override it scores like the tiled copy of the same pixels.
 */
static void test_no_mpp(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result r;
    hs_error e;
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_score_slide(notiff_path, &p, HS_ISH_UNKNOWN, &r, &e), HS_EDATA);
    CU_ASSERT_EQUAL(e.code, HS_EDATA);
    CU_ASSERT(strstr(e.msg, "--mpp") != NULL);
    CU_ASSERT(strstr(e.msg, notiff_path) != NULL);
    CU_ASSERT_PTR_NULL(r.map);
    p.mpp_override = MPP;
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(notiff_path, &p, HS_ISH_UNKNOWN, &r, &e), HS_OK);
    CU_ASSERT_FATAL(small_nest.ntumour > 150);
    CU_ASSERT(fabs((double)r.metrics.n_cells - (double)small_nest.ntumour) <= 0.02 * small_nest.ntumour);
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(fabs(r.metrics.p[k] - small_nest.p[k]) <= 0.02);
    HS_ASSERT_CLOSE(r.mpp, MPP, 1e-12);
    /* the tiled copy with its recorded pixel size gives the same cells */
    hs_score_params q;
    hs_score_params_default(&q);
    hs_score_result t;
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(small_nest_path, &q, HS_ISH_UNKNOWN, &t, &e), HS_OK);
    CU_ASSERT_EQUAL(t.metrics.n_cells, r.metrics.n_cells);
    for (int k = 0; k < HS_NCLASS; k++)
        HS_ASSERT_CLOSE(t.metrics.p[k], r.metrics.p[k], 1e-12);
    hs_score_result_clear(&r);
    hs_score_result_clear(&t);
}

/*
 * Regression (a bug this test found): without a thumbnail level (a plain single-level TIFF) the glass is
 * estimated on the first region, which is read with a margin reaching
 * outside the image: that padding is white (255) and flagged invalid by
 * hs_slide_read, and must not count as glass.  Expected: the glass
 * (242, 240, 238); got 255, 255, 255: score.c passes valid = NULL to
 * hs_slide_read and hs_stain_background, so the padding, brightest of all,
 * sets the estimate.
 */
static void test_no_thumbnail_background(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    p.mpp_override = MPP;
    hs_score_result r;
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(notiff_path, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    for (int c = 0; c < 3; c++)
        CU_ASSERT_EQUAL(r.background[c], GLASS[c]);
    hs_score_result_clear(&r);
}

int hs_suite_score(void)
{
    CU_pSuite s = CU_add_suite("score", suite_init, suite_clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "nest: n_cells, p0..p3, cells, tiles, glass", test_nest) ||
        !CU_add_test(s, "determinism; region size does not matter", test_determinism) ||
        !CU_add_test(s, "missing file: HS_EIO naming it", test_missing) ||
        !CU_add_test(s, "not a TIFF, truncated: HS_EFORMAT", test_corrupt) ||
        !CU_add_test(s, "all glass, lone cell: no tumour cells", test_no_tumour) ||
        !CU_add_test(s, "no pixel size: --mpp; the override works", test_no_mpp) ||
        !CU_add_test(s, "background without a thumbnail ignores padding", test_no_thumbnail_background))
        return 1;
    return 0;
}
