/*
 * Unit tests of scoring/score, the whole-slide pipeline, through files:
 * tiled Deflate (lossless) TIFF slides written with tiffwriter hold a nest of
 * cells rendered by Beer-Lambert from planted classes (cellfix.c), on glass
 * of intensity (242, 240, 238).  Expected values come from the planted truth:
 * the lattice's spacing is 12 um, so the slide's scale is 12 um (third-
 * nearest neighbour in a hexagonal sheet) and the tumour cells are the
 * planted nuclei whose third-nearest planted neighbour lies within 1.45 * 12
 * = 17.4 um (the rule applied to the planted centres: in the lattice that
 * distance is 12 um inside the nest and at a corner with two neighbours
 * sqrt(3) * 12 = 20.8 um, nothing in between, so the measured scale's +-0.25
 * um does not matter); their classes and positions are known, and tiles are
 * 256 um = 512 px squares from the origin.  Measuring (hs_score_slide) and
 * classifying (hs_score_classify) are separate steps; the cells measured do
 * not depend on the thread count nor on where the cell store keeps them.
 * Error paths: missing, not-a-TIFF and truncated files, zero tissue, a single
 * cell, no pixel size.
 */
#include <malloc.h>
#include <signal.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "cellfix.h"
#include "scoring/calib.h"
#include "scoring/measured.h"
#include "scoring/score.h"
#include "scoring/stain.h"
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
    unsigned char *tumour; /* third-nearest other centre within 1.45 * 12 um */
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
    double r = 1.45 * 12 / MPP;
    for (size_t i = 0; i < t->n; i++) {
        hs_cf_set_class(&t->cell[i], planted_class(i));
        int nb = 0;
        for (size_t j = 0; j < t->n; j++)
            nb += j != i && hypot(t->cell[j].x - t->cell[i].x, t->cell[j].y - t->cell[i].y) <= r;
        t->tumour[i] = nb >= 3; /* three others within r: the third-nearest is */
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

/* Every cell reported by hs_score_classify, kept, and matched to the planted one nearest to it. */
typedef struct matcher {
    const truth *t;
    size_t ncall, far, wrong, not_tumour, twice, inconsistent;
    unsigned char *seen;
    hs_cellrec *rec;  /* the records, in the order reported */
    hs_class *cls;
    size_t nrec, cap;
} matcher;

static void match_cell(void *ctx, const hs_cellrec *r, double intensity, double completeness, hs_class k)
{
    matcher *m = ctx;
    /* the class handed over is the one of the intensity and completeness handed over (default cuts) */
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    m->inconsistent += hs_her2_cell_class(&hp, intensity, completeness) != k || completeness < 0 || completeness > 1;
    if (m->nrec == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        hs_cellrec *p = realloc(m->rec, cap * sizeof *p);
        hs_class *q = realloc(m->cls, cap * sizeof *q);
        if (p)
            m->rec = p;
        if (q)
            m->cls = q;
        if (!p || !q)
            abort();
        m->cap = cap;
    }
    m->rec[m->nrec] = *r;
    m->cls[m->nrec++] = k;
    m->ncall++;
    if (!m->t)
        return;
    double x = r->x_um / MPP, y = r->y_um / MPP, bd = INFINITY;
    size_t best = 0;
    for (size_t i = 0; i < m->t->n; i++) {
        double d = hypot(m->t->cell[i].x - x, m->t->cell[i].y - y);
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    m->far += bd > 0.5;
    m->wrong += k != m->t->cell[best].cls;
    m->not_tumour += !m->t->tumour[best];
    m->twice += m->seen[best];
    m->seen[best] = 1;
}

static void matcher_free(matcher *m)
{
    free(m->seen);
    free(m->rec);
    free(m->cls);
    memset(m, 0, sizeof *m);
}

/* Field by field (hs_cellrec has padding): position, area, radius and every stored sector value. */
static int same_records(const matcher *a, const matcher *b)
{
    if (a->nrec != b->nrec)
        return 0;
    for (size_t i = 0; i < a->nrec; i++) {
        const hs_cellrec *p = &a->rec[i], *q = &b->rec[i];
        if (p->x_um != q->x_um || p->y_um != q->y_um || p->area_um2 != q->area_um2 || p->radius_um != q->radius_um ||
            p->nsector != q->nsector || a->cls[i] != b->cls[i])
            return 0;
        for (int k = 0; k < p->nsector; k++)
            if (p->stain[k] != q->stain[k] || p->peak[k] != q->peak[k] || p->ostain[k] != q->ostain[k] ||
                p->opeak[k] != q->opeak[k])
                return 0;
    }
    return 1;
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

static int same_result(const hs_score_result *a, const hs_score_result *b)
{
    int same = a->level == b->level && a->mpp == b->mpp && a->megapixels == b->megapixels &&
               a->stain_source == b->stain_source && a->scale.spacing_um == b->scale.spacing_um &&
               a->scale.nucleus_area_um2 == b->scale.nucleus_area_um2 && a->scale.n_sheet == b->scale.n_sheet &&
               a->cell_radius_um == b->cell_radius_um &&
               hs_cellstore_count(a->cells) == hs_cellstore_count(b->cells);
    for (int c = 0; c < 3; c++)
        same = same && a->background[c] == b->background[c] && a->stain_h[c] == b->stain_h[c] &&
               a->stain_dab[c] == b->stain_dab[c];
    return same;
}

/* Measures path with p (spill may be NULL), classifies with the default cuts into *m, *met and *map (may be NULL). */
static int score(const char *path, const hs_score_params *p, FILE *spill, const truth *t, hs_score_result *r,
                 matcher *m, hs_slide_metrics *met, hs_tilemap **map)
{
    memset(m, 0, sizeof *m);
    m->t = t;
    if (t && !(m->seen = calloc(t->n, 1)))
        return HS_ENOMEM;
    int rc = hs_score_slide(path, p, spill, r, NULL);
    if (rc != HS_OK)
        return rc;
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    return hs_score_classify(r, &hp, 0, 256, HS_ISH_UNKNOWN, match_cell, m, met, map, NULL);
}

/*
 * The median centre-to-border distance of an interior cell of the 12 um
 * lattice (see test_cells.c, expected_radius): (1/cos 12.5 + 1/cos 17.5) / 2 * 6
 * = 6.2185 um; the slide reports the median over its cells in 0.05 um bins
 * (bin centre), and most cells are interior.
 */
#define NEST_RADIUS 6.2185

static void test_params(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    CU_ASSERT_EQUAL(p.target_mpp, 0.5);
    CU_ASSERT_EQUAL(p.mpp_override, 0);
    CU_ASSERT_EQUAL(p.region_px, 1024);
    CU_ASSERT_EQUAL(p.threads, 1);
    CU_ASSERT_EQUAL(p.sample_regions, 6);
    CU_ASSERT_EQUAL(p.estimate_background, 1);
    CU_ASSERT_EQUAL(p.tissue_od, 0.15);
    CU_ASSERT_EQUAL(p.estimate_stains, 1);
    CU_ASSERT_EQUAL(p.has_stains, 0);
    hs_cell_params cp;
    hs_cell_params_default(&cp);
    CU_ASSERT_EQUAL(p.cells.sectors, cp.sectors);
    CU_ASSERT_EQUAL(p.cells.sheet_factor, cp.sheet_factor);
    /* clearing a cleared (or failed) result is harmless */
    hs_score_result r;
    memset(&r, 0, sizeof r);
    hs_score_result_clear(&r);
    hs_score_result_clear(&r);
    CU_ASSERT_PTR_NULL(r.cells);
}

/* The nest: cell count, class fractions, positions and classes of single cells, tiles, background, scale. */
static void test_nest(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result r;
    matcher m;
    hs_slide_metrics met;
    hs_tilemap *map = NULL;
    CU_ASSERT_EQUAL_FATAL(score(nest_path, &p, NULL, &nest, &r, &m, &met, &map), HS_OK);
    CU_ASSERT_FATAL(nest.ntumour > 1000);
    /* cell count within 2% of the planted tumour cells, class fractions within 0.02 */
    CU_ASSERT(fabs((double)met.n_cells - (double)nest.ntumour) <= 0.02 * nest.ntumour);
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(fabs(met.p[k] - nest.p[k]) <= 0.02);
    /* every reported cell is a planted tumour cell, found once, within 0.5 px, of its planted class (98%) */
    CU_ASSERT_EQUAL(m.ncall, met.n_cells);
    CU_ASSERT_EQUAL(hs_cellstore_count(r.cells), met.n_cells);
    CU_ASSERT_EQUAL(m.far, 0);
    CU_ASSERT_EQUAL(m.twice, 0);
    CU_ASSERT_EQUAL(m.not_tumour, 0);
    CU_ASSERT_EQUAL(m.inconsistent, 0);
    CU_ASSERT(m.wrong <= m.ncall / 50);
    /* level 0 at 0.5 um; glass estimated exactly from the thumbnail; 2 x 2 tiles of 512 px, all tumour tiles */
    CU_ASSERT_EQUAL(r.level, 0);
    HS_ASSERT_CLOSE(r.mpp, MPP, 1e-12);
    HS_ASSERT_CLOSE(r.width_um, SIDE * MPP, 1e-12);
    HS_ASSERT_CLOSE(r.height_um, SIDE * MPP, 1e-12);
    for (int c = 0; c < 3; c++)
        CU_ASSERT_EQUAL(r.background[c], GLASS[c]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(map);
    CU_ASSERT_EQUAL(map->nx, 2);
    CU_ASSERT_EQUAL(map->ny, 2);
    CU_ASSERT_EQUAL(met.n_tiles, 4);
    unsigned long total = 0;
    for (size_t i = 0; i < map->nx * map->ny * HS_NCLASS; i++)
        total += map->count[i];
    CU_ASSERT_EQUAL(total, met.n_cells);
    CU_ASSERT(r.megapixels > 1.0);
    /* the slide's scale: the lattice spacing (one 0.25 um bin), and the measured area of a 4 um nucleus
       (pi (8 + 0.589)^2 px * 0.25 = 57.9 um^2, see test_cells.c) */
    CU_ASSERT(fabs(r.scale.spacing_um - 12) <= 0.25);
    CU_ASSERT(fabs(r.scale.nucleus_area_um2 - 57.9) <= 0.05 * 57.9);
    CU_ASSERT(r.scale.n_sheet >= 30);
    CU_ASSERT(fabs(r.cell_radius_um - NEST_RADIUS) <= 0.1);
    /* the stain vectors in use are unit vectors, and the angles reported are theirs */
    double h0[3], d0[3];
    hs_stain_default_vectors(h0, d0);
    double nh = 0, nd = 0;
    for (int c = 0; c < 3; c++) {
        nh += r.stain_h[c] * r.stain_h[c];
        nd += r.stain_dab[c] * r.stain_dab[c];
    }
    HS_ASSERT_CLOSE(nh, 1, 1e-12);
    HS_ASSERT_CLOSE(nd, 1, 1e-12);
    HS_ASSERT_CLOSE(r.stain_h_angle, hs_stain_angle_deg(r.stain_h, h0), 1e-9);
    HS_ASSERT_CLOSE(r.stain_dab_angle, hs_stain_angle_deg(r.stain_dab, d0), 1e-9);
    /* the slide was drawn with the default vectors: whatever was estimated lies close to them */
    CU_ASSERT(r.stain_h_angle <= 1.0);
    CU_ASSERT(r.stain_dab_angle <= 1.0);
    /*
     * The border leak of the nest.  Drawn without blur or JPEG, no membrane reaches across a border, but a
     * 0 cell's faint membrane (0.03) beside a 3+ one (0.9) or a 2+ one (0.5) reads as a stained-unstained
     * border of ratio 0.033 or 0.06 (ratio bins 1 and 3, which the estimate's one-bin smoothing may merge):
     * by hs_leak_estimate's definition the leak is the centre of bin 1 or 2, 0.03 or 0.05, though the true
     * leak is 0.  Classified with it, the class fractions stay within 0.02 of the planted ones.
     */
    hs_leak_hist *lh = calloc(1, sizeof *lh);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lh);
    CU_ASSERT_EQUAL_FATAL(hs_leak_hist_add_store(lh, r.cells, NULL), HS_OK);
    double leak = hs_leak_estimate(lh, NULL, 0);
    CU_ASSERT(fabs(leak - 0.03) <= 0.02 + 1e-12);
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    hs_slide_metrics ml;
    CU_ASSERT_EQUAL(hs_score_classify(&r, &hp, leak, 256, HS_ISH_UNKNOWN, NULL, NULL, &ml, NULL, NULL), HS_OK);
    CU_ASSERT_EQUAL(ml.n_cells, met.n_cells);
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(fabs(ml.p[k] - nest.p[k]) <= 0.02);
    free(lh);
    hs_tilemap_free(map);
    hs_score_result_clear(&r);
    CU_ASSERT_PTR_NULL(r.cells);
    matcher_free(&m);
}

/*
 * Classification is its own step: the same measured cells classified with
 * cuts above every planted DAB (1.0, 1.1, 1.2) are all 0; with the default
 * cuts, as planted.  A tile side <= 0 is HS_EINVAL.
 */
static void test_classify_cuts(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result r;
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(small_nest_path, &p, NULL, &r, NULL), HS_OK);
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    hp.od_1 = 1.0;
    hp.od_2 = 1.1;
    hp.od_3 = 1.2;
    hs_slide_metrics met;
    hs_tilemap *map = (hs_tilemap *)&met;
    CU_ASSERT_EQUAL_FATAL(hs_score_classify(&r, &hp, 0, 256, HS_ISH_UNKNOWN, NULL, NULL, &met, &map, NULL), HS_OK);
    CU_ASSERT_EQUAL(met.n_cells, hs_cellstore_count(r.cells));
    CU_ASSERT_EQUAL(met.p[0], 1);
    CU_ASSERT_EQUAL(met.ihc_score, HS_CALL_0);
    CU_ASSERT_PTR_NOT_NULL(map);
    hs_tilemap_free(map);
    /* classifying twice gives the same result (the store is read, not consumed) */
    hs_slide_metrics a, b;
    hs_her2_params_default(&hp);
    CU_ASSERT_EQUAL(hs_score_classify(&r, &hp, 0, 256, HS_ISH_UNKNOWN, NULL, NULL, &a, NULL, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_score_classify(&r, &hp, 0, 256, HS_ISH_UNKNOWN, NULL, NULL, &b, NULL, NULL), HS_OK);
    CU_ASSERT(same_metrics(&a, &b));
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(fabs(a.p[k] - small_nest.p[k]) <= 0.03);
    hs_error e;
    map = (hs_tilemap *)&met;
    CU_ASSERT_EQUAL(hs_score_classify(&r, &hp, 0, 0, HS_ISH_UNKNOWN, NULL, NULL, &a, &map, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(e.code, HS_EINVAL);
    CU_ASSERT_PTR_NULL(map);
    hs_score_result_clear(&r);
}

/*
 * Threads: regions are scored in rounds and stored in region order, so 1, 2
 * and 3 threads give the same cells bit for bit, the same metrics, scale,
 * stains and pixel count.  Smaller regions (384 px, read in several pieces
 * whose margins cover every neighbourhood) give the same cells too, with
 * the stain vectors fixed (the sample regions, and so the estimate, depend
 * on the region size).
 */
static void test_threads(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result r[3];
    matcher m[3];
    hs_slide_metrics met[3];
    hs_tilemap *map[3];
    for (int k = 0; k < 3; k++) {
        p.threads = k + 1;
        CU_ASSERT_EQUAL_FATAL(score(nest_path, &p, NULL, NULL, &r[k], &m[k], &met[k], &map[k]), HS_OK);
    }
    CU_ASSERT_FATAL(m[0].nrec > 1000);
    for (int k = 1; k < 3; k++) {
        CU_ASSERT(same_result(&r[0], &r[k]));
        CU_ASSERT(same_records(&m[0], &m[k]));
        CU_ASSERT(same_metrics(&met[0], &met[k]));
        CU_ASSERT(memcmp(map[0]->count, map[k]->count, map[0]->nx * map[0]->ny * HS_NCLASS * sizeof *map[0]->count) ==
                  0);
    }
    for (int k = 0; k < 3; k++) {
        hs_tilemap_free(map[k]);
        hs_score_result_clear(&r[k]);
        matcher_free(&m[k]);
    }
    hs_score_params_default(&p);
    p.estimate_stains = 0;
    for (int k = 0; k < 2; k++) {
        p.region_px = k ? 384 : 1024;
        CU_ASSERT_EQUAL_FATAL(score(nest_path, &p, NULL, NULL, &r[k], &m[k], &met[k], &map[k]), HS_OK);
    }
    CU_ASSERT_EQUAL(r[0].stain_source, HS_STAIN_DEFAULT);
    CU_ASSERT_EQUAL(r[0].scale.spacing_um, r[1].scale.spacing_um);
    CU_ASSERT(same_metrics(&met[0], &met[1]));
    CU_ASSERT(memcmp(map[0]->count, map[1]->count, map[0]->nx * map[0]->ny * HS_NCLASS * sizeof *map[0]->count) == 0);
    for (int k = 0; k < 2; k++) {
        hs_tilemap_free(map[k]);
        hs_score_result_clear(&r[k]);
        matcher_free(&m[k]);
    }
}

/*
 * The cell store in a spill file gives the same cells as in memory; two
 * slides measured one after the other into the same spill file each keep
 * their own cells.
 */
static void test_spill(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    FILE *spill = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(spill);
    hs_score_result mem, a, b, mem_small;
    matcher mm, ma, mb, msm;
    hs_slide_metrics tm, ta, tb, tsm;
    CU_ASSERT_EQUAL_FATAL(score(nest_path, &p, NULL, NULL, &mem, &mm, &tm, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(score(small_nest_path, &p, NULL, NULL, &mem_small, &msm, &tsm, NULL), HS_OK);
    /* measure both into the spill file, then classify both */
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(nest_path, &p, spill, &a, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_score_slide(small_nest_path, &p, spill, &b, NULL), HS_OK);
    memset(&ma, 0, sizeof ma);
    memset(&mb, 0, sizeof mb);
    CU_ASSERT_EQUAL(hs_score_classify(&a, &hp, 0, 256, HS_ISH_UNKNOWN, match_cell, &ma, &ta, NULL, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_score_classify(&b, &hp, 0, 256, HS_ISH_UNKNOWN, match_cell, &mb, &tb, NULL, NULL), HS_OK);
    CU_ASSERT(ftell(spill) > 0);
    CU_ASSERT(same_result(&mem, &a));
    CU_ASSERT(same_records(&mm, &ma));
    CU_ASSERT(same_metrics(&tm, &ta));
    CU_ASSERT(same_result(&mem_small, &b));
    CU_ASSERT(same_records(&msm, &mb));
    CU_ASSERT(same_metrics(&tsm, &tb));
    hs_score_result_clear(&mem);
    hs_score_result_clear(&mem_small);
    hs_score_result_clear(&a);
    hs_score_result_clear(&b);
    matcher_free(&mm);
    matcher_free(&ma);
    matcher_free(&mb);
    matcher_free(&msm);
    fclose(spill);
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
    int rc = hs_score_slide(path, &p, NULL, &r, &e);
    long printed = hs_fix_stderr_end();
    CU_ASSERT_EQUAL(rc, HS_EIO);
    CU_ASSERT_EQUAL(e.code, HS_EIO);
    CU_ASSERT(strstr(e.msg, path) != NULL);
    CU_ASSERT_PTR_NULL(r.cells);
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
    int rc = hs_score_slide(text, &p, NULL, &r, &e);
    long printed = hs_fix_stderr_end();
    CU_ASSERT_EQUAL(rc, HS_EFORMAT);
    CU_ASSERT(strstr(e.msg, text) != NULL);
    CU_ASSERT_PTR_NULL(r.cells);
    CU_ASSERT_EQUAL(printed, 0);
    /* the good small slide, truncated to 60% of its bytes */
    char *cut = hs_test_path(dir, "cut.tif");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
    CU_ASSERT_EQUAL_FATAL(write_slide(cut, small_nest.cell, small_nest.n, SMALL), HS_OK);
    long long size = hs_fix_file_size(cut);
    CU_ASSERT_FATAL(size > 1000);
    CU_ASSERT_EQUAL_FATAL(hs_fix_truncate(cut, size * 6 / 10), 0);
    for (int threads = 1; threads <= 2; threads++) {
        p.threads = threads;
        hs_fix_stderr_begin();
        rc = hs_score_slide(cut, &p, NULL, &r, &e);
        printed = hs_fix_stderr_end();
        CU_ASSERT_EQUAL(rc, HS_EFORMAT);
        CU_ASSERT(strstr(e.msg, cut) != NULL);
        CU_ASSERT_PTR_NULL(r.cells);
        CU_ASSERT_EQUAL(printed, 0);
    }
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
    CU_ASSERT_EQUAL(hs_score_slide(glass, &p, NULL, &r, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "no tumour cells") != NULL);
    CU_ASSERT(strstr(e.msg, glass) != NULL);
    CU_ASSERT_PTR_NULL(r.cells);
    hs_cf_cell one = {256.3, 250.6, 4.0, 0, 1, HS_CLASS_0, 1, 0};
    hs_cf_set_class(&one, HS_CLASS_3);
    CU_ASSERT_EQUAL_FATAL(write_slide(lone, &one, 1, SMALL), HS_OK);
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_score_slide(lone, &p, NULL, &r, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "no tumour cells") != NULL);
    CU_ASSERT_PTR_NULL(r.cells);
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
    CU_ASSERT_EQUAL(hs_score_slide(notiff_path, &p, NULL, &r, &e), HS_EDATA);
    CU_ASSERT_EQUAL(e.code, HS_EDATA);
    CU_ASSERT(strstr(e.msg, "--mpp") != NULL);
    CU_ASSERT(strstr(e.msg, notiff_path) != NULL);
    CU_ASSERT_PTR_NULL(r.cells);
    p.mpp_override = MPP;
    matcher m, mt;
    hs_slide_metrics met, tmet;
    CU_ASSERT_EQUAL_FATAL(score(notiff_path, &p, NULL, &small_nest, &r, &m, &met, NULL), HS_OK);
    CU_ASSERT_FATAL(small_nest.ntumour > 150);
    CU_ASSERT(fabs((double)met.n_cells - (double)small_nest.ntumour) <= 0.02 * small_nest.ntumour);
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(fabs(met.p[k] - small_nest.p[k]) <= 0.02);
    CU_ASSERT_EQUAL(m.not_tumour, 0);
    HS_ASSERT_CLOSE(r.mpp, MPP, 1e-12);
    /* the tiled copy with its recorded pixel size gives the same cells */
    hs_score_params q;
    hs_score_params_default(&q);
    hs_score_result t;
    CU_ASSERT_EQUAL_FATAL(score(small_nest_path, &q, NULL, &small_nest, &t, &mt, &tmet, NULL), HS_OK);
    CU_ASSERT_EQUAL(tmet.n_cells, met.n_cells);
    for (int k = 0; k < HS_NCLASS; k++)
        HS_ASSERT_CLOSE(tmet.p[k], met.p[k], 1e-12);
    hs_score_result_clear(&r);
    hs_score_result_clear(&t);
    matcher_free(&m);
    matcher_free(&mt);
}

/*
 * Regression (a bug this test found): without a thumbnail level (a plain single-level TIFF) the glass is
 * estimated on the first region, which is read with a margin reaching
 * outside the image: that padding is white (255) and flagged invalid by
 * hs_slide_read, and must not count as glass.  Expected: the glass
 * (242, 240, 238); got 255, 255, 255: score.c passed valid = NULL to
 * hs_slide_read and hs_stain_background, so the padding, brightest of all,
 * set the estimate.  Since the two-step rewrite the same expectation also
 * covers the sample buffers: a region smaller than region_px fills only the
 * start of its buffer, and nothing beyond it may be read as glass.
 */
static void test_no_thumbnail_background(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    p.mpp_override = MPP;
    hs_score_result r;
    /*
     * The 512 px slide is one region of 512 + 2 margins, read into a sample buffer sized for a full region
     * (region_px 1024 + 2 margins): only the region's own pixels may count.  Fresh pages from the system are
     * zero (black, invalid) and would hide a read beyond them; glibc's M_PERTURB fills every new block with
     * 0xfe instead (white enough, and "valid"), and the large blocks come from the heap where it applies.
     */
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_PERTURB, 1);
    int rc = hs_score_slide(notiff_path, &p, NULL, &r, NULL);
    mallopt(M_PERTURB, 0);
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    for (int c = 0; c < 3; c++)
        CU_ASSERT_EQUAL(r.background[c], GLASS[c]);
    if (r.background[0] != GLASS[0] || r.background[1] != GLASS[1] || r.background[2] != GLASS[2])
        fprintf(stderr, "\n    glass estimated as %g, %g, %g\n", r.background[0], r.background[1], r.background[2]);
    hs_score_result_clear(&r);
}

/* dir/name.cells and dir/name.meta. */
static void measured_paths(const char *name, char **cells, char **meta)
{
    char c[256], m[256];
    snprintf(c, sizeof c, "%s.cells", name);
    snprintf(m, sizeof m, "%s.meta", name);
    *cells = hs_test_path(dir, c);
    *meta = hs_test_path(dir, m);
}

/* Measured in a child and loaded back: the same result, cells and metrics as measured here. */
static void test_measured(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_score_result mem;
    matcher mm, ml;
    hs_slide_metrics tm, tl;
    CU_ASSERT_EQUAL_FATAL(score(nest_path, &p, NULL, NULL, &mem, &mm, &tm, NULL), HS_OK);
    char *cells, *meta;
    measured_paths("nest", &cells, &meta);
    hs_error e;
    CU_ASSERT_EQUAL(hs_measured_verdict(meta), -1);
    CU_ASSERT_EQUAL_FATAL(hs_measure_isolated(nest_path, &p, NULL, cells, meta, &e), HS_OK);
    CU_ASSERT_EQUAL(hs_measured_verdict(meta), 1);
    hs_measured m;
    CU_ASSERT_EQUAL_FATAL(hs_measured_load(&m, cells, meta, &e), HS_OK);
    CU_ASSERT(m.ok && !m.qupath);
    CU_ASSERT(same_result(&mem, &m.res));
    CU_ASSERT_EQUAL(m.res.cell_radius_um, mem.cell_radius_um);
    CU_ASSERT_EQUAL(m.res.scale.spacing_um, mem.scale.spacing_um);
    CU_ASSERT_EQUAL(m.res.stain_source, mem.stain_source);
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    memset(&ml, 0, sizeof ml);
    CU_ASSERT_EQUAL(hs_score_classify(&m.res, &hp, 0, 256, HS_ISH_UNKNOWN, match_cell, &ml, &tl, NULL, NULL), HS_OK);
    CU_ASSERT(same_records(&mm, &ml));
    CU_ASSERT(same_metrics(&tm, &tl));
    hs_measured_clear(&m);
    /* in this process: the same files */
    char *cells2, *meta2;
    measured_paths("nest2", &cells2, &meta2);
    CU_ASSERT_EQUAL(hs_measure_save(nest_path, &p, NULL, cells2, meta2, &e), HS_OK);
    CU_ASSERT_EQUAL(hs_fix_file_size(cells2), hs_fix_file_size(cells));
    CU_ASSERT_EQUAL(hs_fix_file_size(meta2), hs_fix_file_size(meta));
    /* a verdict file cut short is damaged, never half-read */
    long long n = hs_fix_file_size(meta2);
    CU_ASSERT_EQUAL_FATAL(hs_fix_truncate(meta2, n - 4), 0);
    CU_ASSERT_EQUAL(hs_measured_load(&m, cells2, meta2, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "not a complete hetsurv measurement") != NULL);
    hs_measured_clear(&m);
    hs_score_result_clear(&mem);
    matcher_free(&mm);
    matcher_free(&ml);
    free(cells);
    free(meta);
    free(cells2);
    free(meta2);
}

/* A slide that fails, a child that crashes and an abandoned child: recorded, or nothing left at all. */
static void test_measured_failures(void)
{
    hs_score_params p;
    hs_score_params_default(&p);
    hs_error e;
    char *cells, *meta;
    /* not a TIFF: failed, with the reason naming the file */
    measured_paths("bad", &cells, &meta);
    CU_ASSERT_EQUAL(hs_measure_isolated(notiff_path, &p, NULL, cells, meta, &e), HS_OK);
    CU_ASSERT_EQUAL(hs_measured_verdict(meta), 0);
    hs_measured m;
    CU_ASSERT_EQUAL(hs_measured_load(&m, cells, meta, &e), HS_OK);
    CU_ASSERT(!m.ok);
    CU_ASSERT(strstr(m.error, "nompp.tif") != NULL);
    hs_measured_clear(&m);
    free(cells);
    free(meta);
    /* the measuring process killed by SIGSEGV inside a slide: that slide failed with the signal named; the next
       slide gets a new process */
    measured_paths("crash", &cells, &meta);
    hs_measurer *ms;
    CU_ASSERT_EQUAL_FATAL(hs_measurer_alloc(&ms, &p, NULL, &e), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_measurer_submit(ms, nest_path, cells, meta, &e), HS_OK);
    long pid = hs_measurer_pid(ms);
    CU_ASSERT(pid > 0);
    kill((pid_t)pid, SIGSEGV);
    int rc;
    while ((rc = hs_measurer_poll(ms, &e)) == 0)
        usleep(1000);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL(hs_measured_verdict(meta), 0);
    CU_ASSERT_EQUAL(hs_measured_load(&m, cells, meta, &e), HS_OK);
    /* signal 11; under AddressSanitizer, which keeps its own SIGSEGV handler, an exit with status 1 */
    CU_ASSERT(!m.ok && (strstr(m.error, "crashed (signal 11") || strstr(m.error, "ended unexpectedly (status 1)")));
    CU_ASSERT(strstr(m.error, "nest.tif: ") != NULL);
    hs_measured_clear(&m);
    free(cells);
    free(meta);
    measured_paths("after", &cells, &meta);
    CU_ASSERT_EQUAL_FATAL(hs_measurer_submit(ms, small_nest_path, cells, meta, &e), HS_OK);
    CU_ASSERT(hs_measurer_pid(ms) > 0 && hs_measurer_pid(ms) != pid);
    while ((rc = hs_measurer_poll(ms, &e)) == 0)
        usleep(1000);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL(hs_measured_verdict(meta), 1);
    /* one process for many slides */
    pid = hs_measurer_pid(ms);
    free(cells);
    free(meta);
    measured_paths("again", &cells, &meta);
    CU_ASSERT_EQUAL_FATAL(hs_measurer_submit(ms, small_nest_path, cells, meta, &e), HS_OK);
    CU_ASSERT_EQUAL(hs_measurer_pid(ms), pid);
    while ((rc = hs_measurer_poll(ms, &e)) == 0)
        usleep(1000);
    CU_ASSERT_EQUAL(rc, 1);
    free(cells);
    free(meta);
    /* abandoned: no verdict, no file, no temporary file; the process is gone */
    measured_paths("gone", &cells, &meta);
    CU_ASSERT_EQUAL_FATAL(hs_measurer_submit(ms, nest_path, cells, meta, &e), HS_OK);
    hs_measurer_abandon(ms);
    CU_ASSERT_EQUAL(hs_measurer_pid(ms), 0);
    hs_measurer_free(ms);
    CU_ASSERT_EQUAL(hs_fix_file_size(meta), -1);
    CU_ASSERT_EQUAL(hs_fix_file_size(cells), -1);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", cells);
    CU_ASSERT_EQUAL(hs_fix_file_size(tmp), -1);
    snprintf(tmp, sizeof tmp, "%s.tmp", meta);
    CU_ASSERT_EQUAL(hs_fix_file_size(tmp), -1);
    free(cells);
    free(meta);
}

int hs_suite_score(void)
{
    CU_pSuite s = CU_add_suite("score", suite_init, suite_clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "defaults; clearing a result twice", test_params) ||
        !CU_add_test(s, "nest: n_cells, p0..p3, cells, tiles, glass, scale", test_nest) ||
        !CU_add_test(s, "classify: cuts applied to stored cells; bad tile", test_classify_cuts) ||
        !CU_add_test(s, "threads 1/2/3 and region size: identical cells", test_threads) ||
        !CU_add_test(s, "spill file: identical to memory; shared by two slides", test_spill) ||
        !CU_add_test(s, "missing file: HS_EIO naming it", test_missing) ||
        !CU_add_test(s, "not a TIFF, truncated: HS_EFORMAT", test_corrupt) ||
        !CU_add_test(s, "all glass, lone cell: no tumour cells", test_no_tumour) ||
        !CU_add_test(s, "no pixel size: --mpp; the override works", test_no_mpp) ||
        !CU_add_test(s, "background without a thumbnail ignores padding", test_no_thumbnail_background) ||
        !CU_add_test(s, "measured in a child, saved, loaded: identical", test_measured) ||
        !CU_add_test(s, "measured: a failed slide, a crash, an abandoned child", test_measured_failures))
        return 1;
    return 0;
}
