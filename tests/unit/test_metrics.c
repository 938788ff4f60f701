/*
 * Unit tests of scoring/metrics (tile maps and slide metrics), and through it
 * of the ASCO/CAP call and HER2 categories of scoring/her2.
 *
 * Every expected value is worked out by hand in the comment next to it, from
 * the formulas of docs/scoring-metrics.md and the default parameters
 * (call_frac 0.10 strict, noise_frac 0.01, scattered_frac 0.02, het_frac 0.10,
 * cluster_moran 0.4, tile_min_cells 20).  Boundary cases use 100 cells so that
 * a fraction k/100 is the same double as the literal k/100 in the rule.
 */
#include <math.h>
#include <stdlib.h>

#include "scoring/metrics.h"
#include "suites.h"

#define TILE 256.0

/* Adds n cells of class k to tile (ix, iy), at the tile's centre. */
static void put(hs_tilemap *m, size_t ix, size_t iy, hs_class k, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        hs_tilemap_add(m, (ix + 0.5) * TILE, (iy + 0.5) * TILE, k);
}

static unsigned long cnt(const hs_tilemap *m, size_t ix, size_t iy, hs_class k)
{
    return m->count[(iy * m->nx + ix) * HS_NCLASS + k];
}

/* One tile with c0..c3 cells of each class, metrics with default parameters and ISH ish. */
static hs_slide_metrics one_tile(unsigned c0, unsigned c1, unsigned c2, unsigned c3, hs_ish ish)
{
    hs_slide_metrics r = {0};
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_tilemap *m = hs_tilemap_alloc(1, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_0, c0);
    put(m, 0, 0, HS_CLASS_1, c1);
    put(m, 0, 0, HS_CLASS_2, c2);
    put(m, 0, 0, HS_CLASS_3, c3);
    CU_ASSERT_EQUAL(hs_metrics_compute(m, &p, ish, &r, NULL), HS_OK);
    hs_tilemap_free(m);
    return r;
}

static void test_tilemap(void)
{
    hs_tilemap *m = hs_tilemap_alloc(3, 2, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->nx, 3);
    CU_ASSERT_EQUAL(m->ny, 2);
    CU_ASSERT_EQUAL(m->tile_um, TILE);
    for (size_t i = 0; i < 3 * 2 * HS_NCLASS; i++)
        CU_ASSERT_EQUAL(m->count[i], 0);
    hs_tilemap_add(m, 0.0, 0.0, HS_CLASS_1);        /* tile (0,0) */
    hs_tilemap_add(m, 255.999, 255.999, HS_CLASS_1); /* still (0,0): floor(255.999/256) = 0 */
    hs_tilemap_add(m, 256.0, 0.0, HS_CLASS_3);      /* (1,0) */
    hs_tilemap_add(m, 767.9, 511.9, HS_CLASS_2);    /* (2,1), the last tile */
    hs_tilemap_add(m, 768.0, 0.0, HS_CLASS_2);      /* x beyond 3 tiles: ignored */
    hs_tilemap_add(m, 0.0, 512.0, HS_CLASS_2);      /* y beyond 2 tiles: ignored */
    hs_tilemap_add(m, -0.001, 0.0, HS_CLASS_2);     /* negative: ignored */
    hs_tilemap_add(m, NAN, 0.0, HS_CLASS_2);        /* not finite: ignored */
    hs_tilemap_add(m, 0.0, INFINITY, HS_CLASS_2);
    hs_tilemap_add(m, 10.0, 10.0, (hs_class)7);     /* not a class: ignored */
    hs_tilemap_add(m, 10.0, 10.0, HS_NCLASS);
    hs_tilemap_add(NULL, 10.0, 10.0, HS_CLASS_0);   /* no-op */
    CU_ASSERT_EQUAL(cnt(m, 0, 0, HS_CLASS_1), 2);
    CU_ASSERT_EQUAL(cnt(m, 1, 0, HS_CLASS_3), 1);
    CU_ASSERT_EQUAL(cnt(m, 2, 1, HS_CLASS_2), 1);
    unsigned long sum = 0;
    for (size_t i = 0; i < 3 * 2 * HS_NCLASS; i++)
        sum += m->count[i];
    CU_ASSERT_EQUAL(sum, 4);
    hs_tilemap_free(m);
    hs_tilemap_free(NULL);
    CU_ASSERT_PTR_NULL(hs_tilemap_alloc(2, 2, 0.0));
    CU_ASSERT_PTR_NULL(hs_tilemap_alloc(2, 2, -1.0));
    CU_ASSERT_PTR_NULL(hs_tilemap_alloc(2, 2, NAN));
    CU_ASSERT_PTR_NULL(hs_tilemap_alloc((size_t)-1 / 2, 4, TILE)); /* size overflow */
    m = hs_tilemap_alloc(0, 0, TILE); /* an empty grid is a valid map */
    CU_ASSERT_PTR_NOT_NULL(m);
    hs_tilemap_free(m);
}

/* 3x3 tiles, each 20 cells 2+. */
static void test_uniform(void)
{
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_tilemap *m = hs_tilemap_alloc(3, 3, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    for (size_t iy = 0; iy < 3; iy++)
        for (size_t ix = 0; ix < 3; ix++)
            put(m, ix, iy, HS_CLASS_2, 20);
    hs_slide_metrics r;
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.n_cells, 180);
    CU_ASSERT_EQUAL(r.n_tiles, 9);
    CU_ASSERT_EQUAL(r.p[0], 0.0);
    CU_ASSERT_EQUAL(r.p[1], 0.0);
    CU_ASSERT_EQUAL(r.p[2], 1.0);
    CU_ASSERT_EQUAL(r.p[3], 0.0);
    HS_ASSERT_CLOSE(r.hscore, 200.0, 1e-12);     /* 100 * 2 * 1 */
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_2);     /* f2 = 1 > 0.10 */
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_EQUIVOCAL); /* 2+ without ISH */
    HS_ASSERT_CLOSE(r.entropy, 0.0, 1e-15);      /* -1 ln 1 = 0 */
    HS_ASSERT_CLOSE(r.simpson, 0.0, 1e-15);      /* 1 - 1^2 */
    HS_ASSERT_CLOSE(r.tile_cv, 0.0, 1e-15);      /* sd 0 / mean 200 */
    CU_ASSERT_EQUAL(r.discordant_frac, 0.0);     /* every tile is 2+ like the slide */
    CU_ASSERT(isnan(r.morans_i));                /* zero variance */
    CU_ASSERT_EQUAL(r.minority_frac, 0.0);       /* low phenotype 0 of 180 */
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_HOMOGENEOUS);
    CU_ASSERT_EQUAL(r.heterogeneous, 0);
    hs_tilemap_free(m);
}

/*
 * 4x4 tiles of 20 cells: 3+ in columns 0-1, 0 in columns 2-3 (half/half), or
 * 3+ where ix+iy is even (checkerboard).  Both: 320 cells, p0 = p3 = 1/2,
 * H-score 150, call 3+ (f3 = 0.5 > 0.1), positive; entropy
 * -(2 * 0.5 ln 0.5) / ln 4 = ln 2 / (2 ln 2) = 0.5; Simpson 1 - 2 * 0.25 = 0.5;
 * tile H-scores 8 x 300 and 8 x 0: mean 150, sample variance
 * 16 * 150^2 / 15 = 24000, CV = sqrt(24000) / 150 = sqrt(16/15); tile calls
 * 3+ / 0, so 8 of 16 tiles differ from the slide: 0.5; minority 160/320 = 0.5.
 * Moran's I, z = +-150, N = 16, rook pairs on 4x4: 4*3 horizontal + 4*3
 * vertical = 24, W = 48 (ordered), sum z^2 = 16 * 22500.
 *   half/half: horizontal pairs per row (c0,c1) same, (c1,c2) differ, (c2,c3)
 *   same: 8 same, 4 differ; vertical pairs all 12 same.  sum_ij w z z =
 *   2 * (20 - 4) * 22500, I = (16/48) * 32 * 22500 / (16 * 22500) = 2/3.
 *   checkerboard: every rook pair differs, sum = -2 * 24 * 22500,
 *   I = (16/48) * (-48) / 16 = -1.
 */
static hs_tilemap *four_by_four(int checker)
{
    hs_tilemap *m = hs_tilemap_alloc(4, 4, TILE);
    if (!m)
        return NULL;
    for (size_t iy = 0; iy < 4; iy++)
        for (size_t ix = 0; ix < 4; ix++) {
            int high = checker ? (ix + iy) % 2 == 0 : ix < 2;
            put(m, ix, iy, high ? HS_CLASS_3 : HS_CLASS_0, 20);
        }
    return m;
}

static void check_half(const hs_slide_metrics *r)
{
    CU_ASSERT_EQUAL(r->n_cells, 320);
    CU_ASSERT_EQUAL(r->n_tiles, 16);
    HS_ASSERT_CLOSE(r->p[0], 0.5, 1e-15);
    HS_ASSERT_CLOSE(r->p[3], 0.5, 1e-15);
    HS_ASSERT_CLOSE(r->hscore, 150.0, 1e-12);
    CU_ASSERT_EQUAL(r->ihc_score, HS_CALL_3);
    CU_ASSERT_EQUAL(r->her2_class, HS_HER2_POSITIVE);
    HS_ASSERT_CLOSE(r->entropy, 0.5, 1e-14);
    HS_ASSERT_CLOSE(r->simpson, 0.5, 1e-14);
    HS_ASSERT_CLOSE(r->tile_cv, sqrt(16.0 / 15.0), 1e-13);
    HS_ASSERT_CLOSE(r->discordant_frac, 0.5, 1e-15);
    HS_ASSERT_CLOSE(r->minority_frac, 0.5, 1e-15);
    CU_ASSERT_EQUAL(r->heterogeneous, 1);
}

static void test_half_half(void)
{
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_tilemap *m = four_by_four(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    hs_slide_metrics r;
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    check_half(&r);
    HS_ASSERT_CLOSE(r.morans_i, 2.0 / 3.0, 1e-13);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_CLUSTERED); /* m 0.5 > 0.10, I 2/3 >= 0.4 */
    p.cluster_moran = 0.7;                            /* I 2/3 < 0.7: the same map is mosaic */
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_MOSAIC);
    hs_tilemap_free(m);
}

static void test_checkerboard(void)
{
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_tilemap *m = four_by_four(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    hs_slide_metrics r;
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    check_half(&r);
    HS_ASSERT_CLOSE(r.morans_i, -1.0, 1e-13);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_MOSAIC); /* m 0.5 > 0.10, I -1 < 0.4 */
    hs_tilemap_free(m);
}

/* Moran's I on small or broken neighbourhoods, and the tile_min_cells rule. */
static void test_few_tiles(void)
{
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_slide_metrics r;

    /* Two adjacent tumour tiles (300 and 0): N = 2 < 3, I NAN; CV: mean 150, sd = sqrt(2 * 150^2 / 1),
     * CV = sqrt(2). */
    hs_tilemap *m = hs_tilemap_alloc(2, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_3, 20);
    put(m, 1, 0, HS_CLASS_0, 20);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.n_tiles, 2);
    CU_ASSERT(isnan(r.morans_i));
    HS_ASSERT_CLOSE(r.tile_cv, sqrt(2.0), 1e-13);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_MOSAIC); /* m 0.5 > 0.10 and I NAN */
    hs_tilemap_free(m);

    /* Three tumour tiles on a diagonal: no rook pair, W = 0, I NAN. */
    m = hs_tilemap_alloc(3, 3, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_3, 20);
    put(m, 1, 1, HS_CLASS_0, 20);
    put(m, 2, 2, HS_CLASS_1, 20);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.n_tiles, 3);
    CU_ASSERT(isnan(r.morans_i));
    hs_tilemap_free(m);

    /* A 3-tile chain 300, 0, 0: mean 100, z = 200, -100, -100, sum z^2 = 60000; pairs (0,1) -20000 and (1,2)
     * +10000, ordered sum -20000, W = 4: I = (3/4) * (-20000 / 60000) = -0.25. */
    m = hs_tilemap_alloc(3, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_3, 20);
    put(m, 1, 0, HS_CLASS_0, 20);
    put(m, 2, 0, HS_CLASS_0, 20);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    HS_ASSERT_CLOSE(r.morans_i, -0.25, 1e-13);
    hs_tilemap_free(m);

    /* A 4x1 row with 20 x 3+, 20 x 0, 19 x 0, 20 x 0.  With tile_min_cells 20 the third tile is not a tumour
     * tile: N = 3 (300, 0, 0), mean 100, z = 200, -100, -100, sum z^2 = 60000; the only rook pair is (0,1):
     * ordered sum 2 * (-20000), W = 2, I = (3/2) * (-40000 / 60000) = -1.  Slide: 79 cells, f3 = 20/79 > 0.1:
     * 3+; tile calls 3+, 0, 0: 2 of 3 discordant.  CV: sample sd of (300, 0, 0) = sqrt((200^2 + 2 * 100^2)/2)
     * = sqrt(30000), CV = sqrt(30000) / 100 = sqrt(3). */
    m = hs_tilemap_alloc(4, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_3, 20);
    put(m, 1, 0, HS_CLASS_0, 20);
    put(m, 2, 0, HS_CLASS_0, 19);
    put(m, 3, 0, HS_CLASS_0, 20);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.n_cells, 79);
    CU_ASSERT_EQUAL(r.n_tiles, 3);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_3);
    HS_ASSERT_CLOSE(r.morans_i, -1.0, 1e-13);
    HS_ASSERT_CLOSE(r.discordant_frac, 2.0 / 3.0, 1e-15);
    HS_ASSERT_CLOSE(r.tile_cv, sqrt(3.0), 1e-13);
    /* tile_min_cells 19: N = 4 (300, 0, 0, 0), mean 75, z = 225, -75, -75, -75, sum z^2 = 50625 + 3 * 5625 =
     * 67500; pairs (0,1) -16875, (1,2) 5625, (2,3) 5625: ordered sum -11250, W = 6,
     * I = (4/6) * (-11250 / 67500) = -1/9. */
    p.tile_min_cells = 19;
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.n_tiles, 4);
    HS_ASSERT_CLOSE(r.morans_i, -1.0 / 9.0, 1e-13);
    HS_ASSERT_CLOSE(r.discordant_frac, 0.75, 1e-15);
    hs_tilemap_free(m);
    /* tile_min_cells 0 still needs one cell: of 5, 0 and 1 cells, two tiles count (a tile without cells has no
     * H-score). */
    m = hs_tilemap_alloc(3, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_3, 5);
    put(m, 2, 0, HS_CLASS_1, 1);
    p.tile_min_cells = 0;
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.n_tiles, 2);
    hs_tilemap_free(m);

    /* Cells, but no tile reaches 20: slide values exist, tile values do not. */
    hs_her2_params_default(&p);
    m = hs_tilemap_alloc(2, 2, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_3, 5);
    put(m, 1, 1, HS_CLASS_0, 5);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.n_cells, 10);
    CU_ASSERT_EQUAL(r.n_tiles, 0);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_3);
    CU_ASSERT(isnan(r.tile_cv));
    CU_ASSERT(isnan(r.discordant_frac));
    CU_ASSERT(isnan(r.morans_i));
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_MOSAIC); /* m = 0.5; Moran NAN */
    hs_tilemap_free(m);

    /* All tumour tiles H-score 0: mean 0, CV NAN. */
    m = hs_tilemap_alloc(2, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_0, 20);
    put(m, 1, 0, HS_CLASS_0, 30);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT(isnan(r.tile_cv));
    hs_tilemap_free(m);

    /* Equal proportions with different counts give equal H-scores (20 x 1+ and 10 x 0 vs 40 x 1+ and 20 x 0,
     * both 66.67): zero variance, I NAN (not a rounding artefact). */
    m = hs_tilemap_alloc(3, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_1, 20);
    put(m, 0, 0, HS_CLASS_0, 10);
    put(m, 1, 0, HS_CLASS_1, 40);
    put(m, 1, 0, HS_CLASS_0, 20);
    put(m, 2, 0, HS_CLASS_1, 60);
    put(m, 2, 0, HS_CLASS_0, 30);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.n_tiles, 3);
    CU_ASSERT(isnan(r.morans_i));
    hs_tilemap_free(m);
}

static void check_na(const hs_slide_metrics *r)
{
    CU_ASSERT_EQUAL(r->n_cells, 0);
    CU_ASSERT_EQUAL(r->n_tiles, 0);
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(isnan(r->p[k]));
    CU_ASSERT(isnan(r->hscore));
    CU_ASSERT_EQUAL(r->ihc_score, HS_CALL_NA);
    CU_ASSERT_EQUAL(r->her2_class, HS_HER2_NA);
    CU_ASSERT(isnan(r->entropy));
    CU_ASSERT(isnan(r->simpson));
    CU_ASSERT(isnan(r->tile_cv));
    CU_ASSERT(isnan(r->discordant_frac));
    CU_ASSERT(isnan(r->morans_i));
    CU_ASSERT(isnan(r->minority_frac));
    CU_ASSERT_EQUAL(r->pattern, HS_PATTERN_NA);
    CU_ASSERT_EQUAL(r->heterogeneous, -1);
}

static void test_empty(void)
{
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_slide_metrics r;
    hs_tilemap *m = hs_tilemap_alloc(2, 2, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(hs_metrics_compute(m, &p, HS_ISH_POSITIVE, &r, NULL), HS_OK);
    check_na(&r);
    hs_tilemap_free(m);
    m = hs_tilemap_alloc(0, 0, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    check_na(&r);
    hs_tilemap_free(m);
}

/*
 * ASCO/CAP boundaries, 100 cells in one tile (the rest class 0).  ">10%" is
 * strict: 10/100 is not above 0.10, 11/100 is.
 */
static void test_calls(void)
{
    hs_slide_metrics r;
    /* 10 x 3+: f3 = 0.10 not > 0.10, f2 + f3 = 0.10 not > 0.10, but 0 < f3 <= 0.10 and f3 > 0.01: 2+
     * (intense complete in <= 10%); no ISH: equivocal.  H-score 100 * 3 * 0.1 = 30. */
    r = one_tile(90, 0, 0, 10, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_2);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_EQUIVOCAL);
    HS_ASSERT_CLOSE(r.hscore, 30.0, 1e-12);
    /* 11 x 3+: f3 = 0.11 > 0.10: 3+, positive whatever the ISH. */
    r = one_tile(89, 0, 0, 11, HS_ISH_NEGATIVE);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_3);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_POSITIVE);
    HS_ASSERT_CLOSE(r.hscore, 33.0, 1e-12);
    /* 10 x 2+: f2 + f3 = 0.10 not > 0.10, f3 = 0, f1 + f2 + f3 = 0.10 not > 0.10: 0; stained 0.10 > 0.01:
     * ultralow (the category counts any stained cell). */
    r = one_tile(90, 0, 10, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_0);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_ULTRALOW);
    /* 11 x 2+: f2 + f3 = 0.11 > 0.10: 2+. */
    r = one_tile(89, 0, 11, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_2);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_EQUIVOCAL);
    HS_ASSERT_CLOSE(r.hscore, 22.0, 1e-12);
    /* 10 x 1+: f1 = 0.10 not > 0.10: 0, ultralow (0.01 < 0.10 <= 0.10). */
    r = one_tile(90, 10, 0, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_0);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_ULTRALOW);
    HS_ASSERT_CLOSE(r.hscore, 10.0, 1e-12);
    /* 11 x 1+: 1+, HER2-low. */
    r = one_tile(89, 11, 0, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_1);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_LOW);
    /* 10 x 1+ and 1 x 2+ (of 100): f2 + f3 = 0.01, f1 + f2 + f3 = 0.11 > 0.10: 1+. */
    r = one_tile(89, 10, 1, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_1);
    /* Noise floor of the unusual-pattern rule: 1 x 3+: f3 = 0.01 not > 0.01, sum 0.01 not > 0.10: 0, and
     * stained 0.01 not > 0.01: null.  2 x 3+: f3 = 0.02 > 0.01: 2+. */
    r = one_tile(99, 0, 0, 1, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_0);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_NULL);
    r = one_tile(98, 0, 0, 2, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_2);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_EQUIVOCAL);
    /* Null vs ultralow: no stained cell, 1 x 1+ (0.01, at the noise floor): null; 2 x 1+ (0.02): ultralow. */
    r = one_tile(100, 0, 0, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_0);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_NULL);
    CU_ASSERT_EQUAL(r.hscore, 0.0);
    r = one_tile(99, 1, 0, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_NULL);
    r = one_tile(98, 2, 0, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_0);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_ULTRALOW);
    /* 2+ (20 x 2+) resolved by ISH: positive -> positive, negative -> low, unknown -> equivocal. */
    r = one_tile(80, 0, 20, 0, HS_ISH_POSITIVE);
    CU_ASSERT_EQUAL(r.ihc_score, HS_CALL_2);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_POSITIVE);
    r = one_tile(80, 0, 20, 0, HS_ISH_NEGATIVE);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_LOW);
    r = one_tile(80, 0, 20, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_EQUIVOCAL);
    /* 1+ is low and 0 stays null/ultralow whatever the ISH says. */
    r = one_tile(80, 20, 0, 0, HS_ISH_POSITIVE);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_LOW);
    r = one_tile(100, 0, 0, 0, HS_ISH_POSITIVE);
    CU_ASSERT_EQUAL(r.her2_class, HS_HER2_NULL);
}

static void test_diversity(void)
{
    hs_slide_metrics r;
    /* Uniform over 4 classes: entropy -4 * 0.25 ln 0.25 / ln 4 = 1, Simpson 1 - 4/16 = 0.75,
     * H-score 100 * (0.25 + 0.5 + 0.75) = 150. */
    r = one_tile(25, 25, 25, 25, HS_ISH_UNKNOWN);
    HS_ASSERT_CLOSE(r.entropy, 1.0, 1e-14);
    HS_ASSERT_CLOSE(r.simpson, 0.75, 1e-14);
    HS_ASSERT_CLOSE(r.hscore, 150.0, 1e-12);
    /* (0.5, 0.25, 0.25, 0): -(0.5 ln 0.5 + 2 * 0.25 ln 0.25) = 0.5 ln 2 + ln 2 = 1.5 ln 2, / ln 4 = 0.75;
     * Simpson 1 - (0.25 + 0.0625 + 0.0625) = 0.625; H-score 100 * (0.25 + 0.5) = 75. */
    r = one_tile(50, 25, 25, 0, HS_ISH_UNKNOWN);
    HS_ASSERT_CLOSE(r.entropy, 0.75, 1e-14);
    HS_ASSERT_CLOSE(r.simpson, 0.625, 1e-14);
    HS_ASSERT_CLOSE(r.hscore, 75.0, 1e-12);
    /* (0.9, 0.1, 0, 0): -(0.9 ln 0.9 + 0.1 ln 0.1) / ln 4 = 0.3250829733914482 / 1.3862943611198906
     * = 0.23449779679464058 (R 4.2.2: sprintf("%.17g", -(0.9*log(0.9) + 0.1*log(0.1)) / log(4)));
     * Simpson 1 - 0.81 - 0.01 = 0.18. */
    r = one_tile(90, 10, 0, 0, HS_ISH_UNKNOWN);
    HS_ASSERT_CLOSE(r.entropy, 0.23449779679464058, 1e-13);
    HS_ASSERT_CLOSE(r.simpson, 0.18, 1e-14);
}

/* The pattern rule on single-tile slides (Moran's I NAN: m > 0.10 gives mosaic) and the 4x4 maps above. */
static void test_patterns(void)
{
    hs_slide_metrics r;
    /* m = 2/100 = 0.02 <= scattered_frac (high minority): homogeneous. */
    r = one_tile(98, 0, 0, 2, HS_ISH_UNKNOWN);
    HS_ASSERT_CLOSE(r.minority_frac, 0.02, 1e-15);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_HOMOGENEOUS);
    CU_ASSERT_EQUAL(r.heterogeneous, 0);
    /* m = 0.03, minority high: scattered. */
    r = one_tile(97, 0, 0, 3, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_SCATTERED);
    CU_ASSERT_EQUAL(r.heterogeneous, 1);
    /* m = 0.10 exactly (2+ counts as high), minority high: still scattered (<= het_frac). */
    r = one_tile(85, 5, 10, 0, HS_ISH_UNKNOWN);
    HS_ASSERT_CLOSE(r.minority_frac, 0.10, 1e-15);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_SCATTERED);
    /* m = 0.10, minority low (10 x 1+ among 90 x 3+): homogeneous. */
    r = one_tile(0, 10, 0, 90, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_HOMOGENEOUS);
    CU_ASSERT_EQUAL(r.heterogeneous, 0);
    /* m = 0.03, minority low: homogeneous. */
    r = one_tile(3, 0, 97, 0, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_HOMOGENEOUS);
    /* m = 0.11, minority low: > het_frac, one tile so I NAN: mosaic. */
    r = one_tile(11, 0, 0, 89, HS_ISH_UNKNOWN);
    HS_ASSERT_CLOSE(r.minority_frac, 0.11, 1e-15);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_MOSAIC);
    CU_ASSERT_EQUAL(r.heterogeneous, 1);
    /* m = 0.11, minority high: mosaic. */
    r = one_tile(89, 0, 0, 11, HS_ISH_UNKNOWN);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_MOSAIC);
    /* 50/50 tie: the high phenotype is taken as the minority; with het_frac raised to 0.6 the slide is
     * scattered, not homogeneous. */
    hs_her2_params p;
    hs_her2_params_default(&p);
    p.het_frac = 0.6;
    hs_tilemap *m = hs_tilemap_alloc(1, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    put(m, 0, 0, HS_CLASS_1, 50);
    put(m, 0, 0, HS_CLASS_2, 50);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
    CU_ASSERT_EQUAL(r.pattern, HS_PATTERN_SCATTERED);
    hs_tilemap_free(m);
    /* Clustered and mosaic with Moran's I: test_half_half and test_checkerboard. */
}

static void test_invalid(void)
{
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_slide_metrics r;
    hs_error e;
    hs_tilemap *m = hs_tilemap_alloc(1, 1, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(hs_metrics_compute(NULL, &p, HS_ISH_UNKNOWN, &r, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(e.code, HS_EINVAL);
    CU_ASSERT_EQUAL(hs_metrics_compute(m, NULL, HS_ISH_UNKNOWN, &r, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, NULL, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_metrics_compute(m, &p, (hs_ish)5, &r, &e), HS_EINVAL);
    p.het_frac = NAN;
    CU_ASSERT_EQUAL(hs_metrics_compute(m, &p, HS_ISH_UNKNOWN, &r, NULL), HS_EINVAL);
    hs_tilemap_free(m);
}

int hs_suite_metrics(void)
{
    CU_pSuite s = CU_add_suite("metrics", NULL, NULL);
    if (!s)
        return 1;
    if (!CU_add_test(s, "tile map alloc/add/free", test_tilemap) || !CU_add_test(s, "uniform map", test_uniform) ||
        !CU_add_test(s, "half/half 4x4: Moran 2/3, clustered", test_half_half) ||
        !CU_add_test(s, "checkerboard 4x4: Moran -1, mosaic", test_checkerboard) ||
        !CU_add_test(s, "few tiles, tile_min_cells, NAN cases", test_few_tiles) ||
        !CU_add_test(s, "empty map: NA", test_empty) ||
        !CU_add_test(s, "ASCO/CAP boundaries, null/ultralow, ISH", test_calls) ||
        !CU_add_test(s, "entropy and Gini-Simpson", test_diversity) ||
        !CU_add_test(s, "pattern rule", test_patterns) || !CU_add_test(s, "invalid arguments", test_invalid))
        return 1;
    return 0;
}
