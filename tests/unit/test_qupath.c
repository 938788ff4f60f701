/*
 * Unit tests of scoring/qupath: QuPath detection-measurement exports (TSV and
 * CSV, "µm" written in UTF-8 in the header) read into per-image tile maps.
 *
 * Expected tiles are worked out by hand from each row's centroid: tile =
 * floor(x / 256), floor(y / 256) in micrometres (px columns times the pixel
 * size first); the map of an image is floor(max / 256) + 1 tiles wide and
 * high.  Expected classes come from the precedence documented in qupath.h
 * with the default thresholds (OD 0.2/0.4/0.6, complete 0.8, partial 0.1).
 * Error messages must name FILE:LINE:COLUMN as counted by hand in the text.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/metrics.h"
#include "scoring/qupath.h"
#include "suites.h"
#include "tmpfiles.h"

#define TILE 256.0

static char *dir; /* this suite's scratch directory */

static int suite_init(void) { return hs_test_suite_init(&dir); }
static int suite_clean(void) { return hs_test_suite_clean(&dir); }

static unsigned long cnt(const hs_tilemap *m, size_t ix, size_t iy, hs_class k)
{
    return m->count[(iy * m->nx + ix) * HS_NCLASS + k];
}

static unsigned long map_total(const hs_tilemap *m)
{
    unsigned long s = 0;
    for (size_t i = 0; i < m->nx * m->ny * HS_NCLASS; i++)
        s += m->count[i];
    return s;
}

/* Reads name (written from text) with tile 256 um and default parameters. */
static int read_text(hs_qupath **q, const char *name, const char *text, double pixel_um, const char *comp,
                     hs_error *err)
{
    hs_her2_params p;
    hs_her2_params_default(&p);
    char *path = hs_test_write(dir, name, text, HS_TEST_STRLEN);
    if (!path)
        return -100;
    int rc = hs_qupath_read(q, path, TILE, pixel_um, comp, &p, err);
    free(path);
    return rc;
}

/* QuPath >= 0.4 TSV: Classification, Object type, derived classes, non-tumour and empty classes, two images. */
static void test_tsv(void)
{
    const char *text =
        "Image\tObject ID\tObject type\tName\tClassification\tParent\tROI\tCentroid X µm\tCentroid Y µm\t"
        "Nucleus: Area µm^2\tCell: DAB OD mean\n"
        "A.svs\tid1\tCell\t\tNegative\tTumor\tPolygon\t10\t10\t30.5\t0.05\n"         /* A (0,0) 0 */
        "A.svs\tid2\tCell\t\t1+\tTumor\tPolygon\t300\t10\t31\t0.25\n"                /* A (1,0) 1+ */
        "A.svs\tid3\tCell\t\tTumor: 2+\tTumor\tPolygon\t10\t600\t29\t0.45\n"         /* A (0,2) 2+ */
        "A.svs\tid4\tCell\t\t3+\tTumor\tPolygon\t520\t270\t28\t0.8\n"                /* A (2,1) 3+ */
        "A.svs\tid5\tCell\t\tStroma: 1+\tTumor\tPolygon\t20\t20\t12\t0.25\n"         /* skipped: stroma */
        "A.svs\tid6\tCell\t\tImmune cells\tTumor\tPolygon\t20\t20\t12\t0.1\n"        /* skipped: immune */
        "A.svs\tid7\tCell\t\t\tTumor\tPolygon\t20\t20\t12\t0.1\n"                    /* skipped: no class */
        "A.svs\tid8\tCell\t\t3+\tTumor\tPolygon\tNaN\t20\t12\t0.9\n"                 /* skipped: no centroid */
        "B.svs\tid9\tCell\t\t2+\tTumor\tPolygon\t5\t5\t30\t0.5\n"                    /* B (0,0) 2+ */
        "A.svs\tid10\tCell\t\tnegative\tTumor\tPolygon\t255.9\t0\t30\t0.1\n"         /* A (0,0) 0 */
        "B.svs\tid11\tCell\t\tTumor: Negative\tTumor\tPolygon\t256\t256\t30\t0.1\n"; /* B (1,1) 0 */
    hs_qupath *q = NULL;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(read_text(&q, "a.tsv", text, 0.0, NULL, &e), HS_OK);
    CU_ASSERT_EQUAL_FATAL(q->nimage, 2);
    CU_ASSERT_EQUAL(q->from_class, 1);
    CU_ASSERT_PTR_NULL(q->intensity_col);
    CU_ASSERT_STRING_EQUAL(q->class_col, "Classification");
    CU_ASSERT_EQUAL(q->centroid_px, 0);
    hs_qupath_image *a = &q->image[0], *b = &q->image[1];
    CU_ASSERT_STRING_EQUAL(a->image, "A.svs");
    CU_ASSERT_STRING_EQUAL(b->image, "B.svs");
    CU_ASSERT_EQUAL(a->n_cells, 5);
    CU_ASSERT_EQUAL(a->n_skipped, 4);
    CU_ASSERT_EQUAL(b->n_cells, 2);
    CU_ASSERT_EQUAL(b->n_skipped, 0);
    /* A: max x 520 -> 3 tiles, max y 600 -> 3 tiles. */
    CU_ASSERT_EQUAL(a->map->nx, 3);
    CU_ASSERT_EQUAL(a->map->ny, 3);
    CU_ASSERT_EQUAL(a->map->tile_um, TILE);
    CU_ASSERT_EQUAL(cnt(a->map, 0, 0, HS_CLASS_0), 2);
    CU_ASSERT_EQUAL(cnt(a->map, 1, 0, HS_CLASS_1), 1);
    CU_ASSERT_EQUAL(cnt(a->map, 0, 2, HS_CLASS_2), 1);
    CU_ASSERT_EQUAL(cnt(a->map, 2, 1, HS_CLASS_3), 1);
    CU_ASSERT_EQUAL(map_total(a->map), 5);
    /* B: max 256 -> 2 x 2 tiles. */
    CU_ASSERT_EQUAL(b->map->nx, 2);
    CU_ASSERT_EQUAL(b->map->ny, 2);
    CU_ASSERT_EQUAL(cnt(b->map, 0, 0, HS_CLASS_2), 1);
    CU_ASSERT_EQUAL(cnt(b->map, 1, 1, HS_CLASS_0), 1);
    CU_ASSERT_EQUAL(map_total(b->map), 2);
    hs_qupath_free(q);
    hs_qupath_free(NULL);
}

/* QuPath 0.2 CSV: `Class`, a UTF-8 BOM, CRLF line ends, a quoted image name with a comma, `um` spelling. */
static void test_csv(void)
{
    const char *text =
        "\xEF\xBB\xBFImage,Name,Class,Parent,ROI,Centroid X um,Centroid Y um,Cell: DAB OD mean\r\n"
        "\"slide, 1.ndpi\",PathCellObject,Tumor: 3+,Annotation,Polygon,100.5,20,0.7\r\n" /* (0,0) 3+ */
        "\"slide, 1.ndpi\",PathCellObject,Tumor: 1+,Annotation,Polygon,257,20,0.3\r\n"   /* (1,0) 1+ */
        "\r\n"
        "\"slide, 1.ndpi\",PathCellObject,Other,Annotation,Polygon,3,3,0.1\r\n";          /* skipped */
    hs_qupath *q = NULL;
    CU_ASSERT_EQUAL_FATAL(read_text(&q, "b.csv", text, 0.0, NULL, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(q->nimage, 1);
    CU_ASSERT_STRING_EQUAL(q->class_col, "Class");
    CU_ASSERT_STRING_EQUAL(q->image[0].image, "slide, 1.ndpi");
    CU_ASSERT_EQUAL(q->image[0].n_cells, 2);
    CU_ASSERT_EQUAL(q->image[0].n_skipped, 1);
    CU_ASSERT_EQUAL(q->image[0].map->nx, 2);
    CU_ASSERT_EQUAL(q->image[0].map->ny, 1);
    CU_ASSERT_EQUAL(cnt(q->image[0].map, 0, 0, HS_CLASS_3), 1);
    CU_ASSERT_EQUAL(cnt(q->image[0].map, 1, 0, HS_CLASS_1), 1);
    hs_qupath_free(q);

    /* Both class columns: Classification wins (Class here holds an unknown name that would be an error). Greek
     * mu (U+03BC) in the unit. */
    text = "Image,Class,Classification,Centroid X \xCE\xBCm,Centroid Y \xCE\xBCm\n"
           "X,Positive,2+,1,1\n";
    CU_ASSERT_EQUAL_FATAL(read_text(&q, "c.csv", text, 0.0, NULL, NULL), HS_OK);
    CU_ASSERT_STRING_EQUAL(q->class_col, "Classification");
    CU_ASSERT_EQUAL(cnt(q->image[0].map, 0, 0, HS_CLASS_2), 1);
    hs_qupath_free(q);
}

/*
 * Route 1: a completeness column and Membrane: DAB OD mean (preferred over
 * Cell: DAB OD mean).  Membrane OD / completeness -> class:
 *   0.7 / 0.9  -> 3+ (>= 0.6, >= 0.8)  (Cell OD 0.05 would give 0)
 *   0.5 / 0.95 -> 2+ (>= 0.4, >= 0.8)
 *   0.7 / 0.5  -> 1+ (incomplete: >= 0.2, 0.1 <= 0.5 < 0.8)
 *   0.1 / 0.9  -> 0  (< 0.2)
 *   0.3 / 0.05 -> 0  (completeness < 0.1)
 * QuPath's class only removes non-tumour cells (Stroma) and is otherwise
 * ignored (Positive, empty, "1+" on a 0 cell); a missing OD skips the row.
 */
static void test_completeness(void)
{
    const char *text =
        "Image\tClassification\tCentroid X µm\tCentroid Y µm\tCell: DAB OD mean\tMembrane: DAB OD mean\t"
        "Membrane: DAB completeness\n"
        "I1\tTumor: Negative\t10\t10\t0.05\t0.7\t0.9\n"
        "I1\tPositive\t10\t10\t0.9\t0.5\t0.95\n"
        "I1\t\t10\t10\t0.9\t0.7\t0.5\n"
        "I1\tNegative\t10\t10\t0.9\t0.1\t0.9\n"
        "I1\t1+\t10\t10\t0.9\t0.3\t0.05\n"
        "I1\tStroma\t10\t10\t0.9\t0.9\t1\n"
        "I1\tTumor\t10\t10\t0.9\tNaN\t1\n";
    hs_qupath *q = NULL;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(read_text(&q, "d.tsv", text, 0.0, NULL, &e), HS_OK);
    CU_ASSERT_EQUAL(q->from_class, 0);
    CU_ASSERT_STRING_EQUAL(q->intensity_col, "Membrane: DAB OD mean");
    CU_ASSERT_STRING_EQUAL(q->completeness_col, "Membrane: DAB completeness");
    const hs_tilemap *m = q->image[0].map;
    CU_ASSERT_EQUAL(cnt(m, 0, 0, HS_CLASS_0), 2);
    CU_ASSERT_EQUAL(cnt(m, 0, 0, HS_CLASS_1), 1);
    CU_ASSERT_EQUAL(cnt(m, 0, 0, HS_CLASS_2), 1);
    CU_ASSERT_EQUAL(cnt(m, 0, 0, HS_CLASS_3), 1);
    CU_ASSERT_EQUAL(q->image[0].n_skipped, 2);
    hs_qupath_free(q);

    /* A user-named completeness column, Cell: DAB OD mean as intensity, no class column at all:
     * 0.45 / 1.0 -> 2+; 0.65 / 0.8 -> 3+ (completeness exactly 0.8 is complete). */
    text = "Image,Centroid X µm,Centroid Y µm,Cell: DAB OD mean,ring\n"
           "J,1,1,0.45,1.0\n"
           "J,1,1,0.65,0.8\n";
    CU_ASSERT_EQUAL_FATAL(read_text(&q, "e.csv", text, 0.0, "ring", &e), HS_OK);
    CU_ASSERT_STRING_EQUAL(q->intensity_col, "Cell: DAB OD mean");
    CU_ASSERT_STRING_EQUAL(q->completeness_col, "ring");
    CU_ASSERT_PTR_NULL(q->class_col);
    CU_ASSERT_EQUAL(cnt(q->image[0].map, 0, 0, HS_CLASS_2), 1);
    CU_ASSERT_EQUAL(cnt(q->image[0].map, 0, 0, HS_CLASS_3), 1);
    hs_qupath_free(q);
}

/* px centroids: 600 px * 0.5 = 300 um -> tile 1; 1100 px * 0.5 = 550 um -> tile 2; no Image column: one
 * image named after the file.  When both px and um columns exist the um columns are used. */
static void test_px(void)
{
    const char *text = "Class\tCentroid X px\tCentroid Y px\n"
                       "1+\t600\t1100\n"
                       "Negative\t0\t0\n";
    hs_qupath *q = NULL;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(read_text(&q, "f.tsv", text, 0.5, NULL, &e), HS_OK);
    CU_ASSERT_EQUAL(q->centroid_px, 1);
    CU_ASSERT_EQUAL_FATAL(q->nimage, 1);
    CU_ASSERT_STRING_EQUAL(q->image[0].image, "f.tsv");
    CU_ASSERT_EQUAL(q->image[0].map->nx, 2);
    CU_ASSERT_EQUAL(q->image[0].map->ny, 3);
    CU_ASSERT_EQUAL(cnt(q->image[0].map, 1, 2, HS_CLASS_1), 1);
    CU_ASSERT_EQUAL(cnt(q->image[0].map, 0, 0, HS_CLASS_0), 1);
    hs_qupath_free(q);
    /* without a pixel size */
    CU_ASSERT_EQUAL(read_text(&q, "f.tsv", text, 0.0, NULL, &e), HS_EDATA);
    CU_ASSERT_PTR_NULL(q);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "f.tsv:1:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "pixel size"));

    text = "Class\tCentroid X px\tCentroid Y px\tCentroid X µm\tCentroid Y µm\n"
           "1+\t600\t1100\t3\t4\n";
    CU_ASSERT_EQUAL_FATAL(read_text(&q, "g.tsv", text, 0.5, NULL, &e), HS_OK);
    CU_ASSERT_EQUAL(q->centroid_px, 0);
    CU_ASSERT_EQUAL(q->image[0].map->nx, 1);
    CU_ASSERT_EQUAL(cnt(q->image[0].map, 0, 0, HS_CLASS_1), 1);
    hs_qupath_free(q);
}

/*
 * The import gives the slide metrics: a 4x4 checkerboard of 20 x 3+ and
 * 20 x Negative cells per tile (Moran's I = -1 by hand, see test_metrics.c)
 * written as an export, next to the same cells added to a map directly.
 */
static void test_same_metrics(void)
{
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    hs_tilemap *ref = hs_tilemap_alloc(4, 4, TILE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    len += (size_t)snprintf(text + len, cap - len, "Image\tClassification\tCentroid X µm\tCentroid Y µm\n");
    for (size_t iy = 0; iy < 4; iy++)
        for (size_t ix = 0; ix < 4; ix++)
            for (int c = 0; c < 20; c++) {
                int high = (ix + iy) % 2 == 0;
                double x = ix * TILE + 5.0 + 12.0 * c, y = iy * TILE + 7.5 + 12.0 * c;
                len += (size_t)snprintf(text + len, cap - len, "S\t%s\t%.17g\t%.17g\n", high ? "Tumor: 3+" : "Negative",
                                        x, y);
                hs_tilemap_add(ref, x, y, high ? HS_CLASS_3 : HS_CLASS_0);
            }
    CU_ASSERT_FATAL(len < cap);
    hs_qupath *q = NULL;
    CU_ASSERT_EQUAL_FATAL(read_text(&q, "h.tsv", text, 0.0, NULL, NULL), HS_OK);
    free(text);
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_slide_metrics a, b;
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(q->image[0].map, &p, HS_ISH_UNKNOWN, &a, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(ref, &p, HS_ISH_UNKNOWN, &b, NULL), HS_OK);
    CU_ASSERT_EQUAL(q->image[0].map->nx, 4);
    CU_ASSERT_EQUAL(q->image[0].map->ny, 4);
    CU_ASSERT_EQUAL(memcmp(q->image[0].map->count, ref->count, 4 * 4 * HS_NCLASS * sizeof *ref->count), 0);
    CU_ASSERT_EQUAL(a.n_cells, 320);
    CU_ASSERT_EQUAL(a.n_tiles, 16);
    HS_ASSERT_CLOSE(a.morans_i, -1.0, 1e-13);
    HS_ASSERT_CLOSE(a.hscore, 150.0, 1e-12);
    CU_ASSERT_EQUAL(a.pattern, HS_PATTERN_MOSAIC);
    CU_ASSERT_EQUAL(a.ihc_score, b.ihc_score);
    CU_ASSERT_EQUAL(a.morans_i, b.morans_i);
    CU_ASSERT_EQUAL(a.tile_cv, b.tile_cv);
    hs_qupath_free(q);
    hs_tilemap_free(ref);
}

/* Reads text expecting failure code with a message containing where (e.g. "x.tsv:3:2:"). */
static void expect_error(const char *name, const char *text, double pixel_um, const char *comp, int code,
                         const char *where)
{
    hs_qupath *q = (hs_qupath *)&q; /* must be reset to NULL */
    hs_error e = {0};
    int rc = read_text(&q, name, text, pixel_um, comp, &e);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(e.code, code);
    CU_ASSERT_PTR_NULL(q);
    if (where && !strstr(e.msg, where)) {
        fprintf(stderr, "\nqupath: message '%s' lacks '%s'\n", e.msg, where);
        CU_FAIL("error location");
    }
    if (rc == HS_OK)
        hs_qupath_free(q);
}

/*
 * Reads text expecting success with image number idx (0-based) in error: its
 * message contains where, it has no map and n_bad bad rows; the images
 * before and after it are not touched (no error).
 */
static void expect_image_error(const char *name, const char *text, double pixel_um, const char *comp, size_t idx,
                               unsigned long n_bad, const char *where)
{
    hs_qupath *q = NULL;
    hs_error e = {0};
    CU_ASSERT_EQUAL_FATAL(read_text(&q, name, text, pixel_um, comp, &e), HS_OK);
    CU_ASSERT_FATAL(q->nimage > idx);
    for (size_t i = 0; i < q->nimage; i++)
        if (i != idx) {
            CU_ASSERT_PTR_NULL(q->image[i].error);
            CU_ASSERT_PTR_NOT_NULL(q->image[i].map);
        }
    const hs_qupath_image *im = &q->image[idx];
    CU_ASSERT_PTR_NULL(im->map);
    CU_ASSERT_EQUAL(im->n_bad, n_bad);
    CU_ASSERT_PTR_NOT_NULL_FATAL(im->error);
    if (!strstr(im->error, where)) {
        fprintf(stderr, "\nqupath: image message '%s' lacks '%s'\n", im->error, where);
        CU_FAIL("image error location");
    }
    hs_qupath_free(q);
}

static void test_errors(void)
{
    /* bad number: line 3, column 3 */
    expect_image_error("n.tsv", "Image\tClass\tCentroid X µm\tCentroid Y µm\nA\t1+\t1\t5\nA\t1+\t12x\t5\n", 0, NULL,
                       0, 1, "n.tsv:3:3: column 'Centroid X µm': not a finite number: '12x'");
    /* infinite centroid: line 2, column 4 */
    expect_image_error("inf.csv", "Image,Class,Centroid X µm,Centroid Y µm\nA,1+,1,Inf\n", 0, NULL, 0, 1,
                       "inf.csv:2:4:");
    /* unknown class names: single-threshold Positive, an unknown prefix-less name, 4+ */
    expect_image_error("u.tsv", "Image\tClass\tCentroid X µm\tCentroid Y µm\nA\t1+\t1\t5\nA\tPositive\t1\t5\n", 0,
                       NULL, 0, 1, "u.tsv:3:2:");
    expect_image_error("u2.tsv", "Image\tClass\tCentroid X µm\tCentroid Y µm\nA\tTumor\t1\t5\n", 0, NULL, 0, 1,
                       "u2.tsv:2:2:");
    expect_image_error("u3.csv", "Centroid X µm,Centroid Y µm,Class\n1,5,Tumor: 4+\n", 0, NULL, 0, 1, "u3.csv:2:3:");
    /* missing columns */
    expect_error("m1.tsv", "Image\tClass\tCentroid X µm\n", 0, NULL, HS_EDATA, "m1.tsv:1:");
    expect_error("m2.tsv", "Image\tCentroid X µm\tCentroid Y µm\tCell: DAB OD mean\nA\t1\t1\t0.5\n", 0, NULL,
                 HS_EDATA, "m2.tsv:1:");
    expect_error("m3.tsv", "Image\tClass\tCentroid X µm\tCentroid Y µm\nA\t1+\t1\t1\n", 0, "Completeness",
                 HS_EDATA, "m3.tsv:1:");
    expect_error("m4.tsv", "Image\tClass\tCentroid X µm\tCentroid Y µm\tMembrane: DAB completeness\n", 0, NULL,
                 HS_EDATA, "m4.tsv:1:");
    /* duplicate column: column 3 repeats column 2 */
    expect_error("d.tsv", "Image\tClass\tClass\tCentroid X µm\tCentroid Y µm\n", 0, NULL, HS_EDATA, "d.tsv:1:3:");
    /* completeness as a percentage: line 2, column 5 */
    expect_image_error("c.tsv", "Image\tCentroid X µm\tCentroid Y µm\tCell: DAB OD mean\tMembrane: DAB completeness\n"
                       "A\t1\t1\t0.5\t80\n", 0, NULL, 0, 1, "c.tsv:2:5:");
    /* negative centroid: line 2, column 3 */
    expect_image_error("g.csv", "Class,Centroid X µm,Centroid Y µm\n1+,1,-2\n", 0, NULL, 0, 1, "g.csv:2:3:");
    /* wrong number of fields: line 3 */
    expect_error("w.csv", "Class,Centroid X µm,Centroid Y µm\n1+,1,2\n1+,1\n", 0, NULL, HS_EDATA, "w.csv:3:");
    /* centroids in the wrong unit make an absurd map */
    expect_image_error("big.csv", "Class,Centroid X px,Centroid Y px\n1+,1e9,1e9\n", 1.0, NULL, 0, 1,
                       "big.csv:2:2: column 'Centroid X px': 1e9 px at 1 µm/px is 1e+09 µm from the image origin, "
                       "beyond 200000 µm");
    /* inside the position bound, more than 1e8 tiles of a small tile side (10 um) is still refused, per image */
    {
        hs_her2_params hp;
        hs_her2_params_default(&hp);
        char *tp = hs_test_write(dir, "tiles.csv", "Image,Class,Centroid X µm,Centroid Y µm\nA,1+,1,1\n"
                                 "B,1+,190000,190000\n", HS_TEST_STRLEN);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
        hs_qupath *tq = NULL;
        hs_error te;
        CU_ASSERT_EQUAL_FATAL(hs_qupath_read(&tq, tp, 10.0, 0.0, NULL, &hp, &te), HS_OK);
        CU_ASSERT_EQUAL_FATAL(tq->nimage, 2);
        CU_ASSERT_PTR_NULL(tq->image[0].error);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tq->image[1].error);
        CU_ASSERT_PTR_NULL(tq->image[1].map);
        CU_ASSERT_PTR_NOT_NULL(strstr(tq->image[1].error, "image 'B': centroids reach (190000, 190000) µm, 19001 x "
                                                          "19001 tiles of 10 µm, more than 1e+08: check the units"));
        hs_qupath_free(tq);
        free(tp);
    }
    /* the bounds: 200000 µm is a position, a little more is not; an OD of 8 is one, 8.5 and -4.5 are not; each bad
       row counted on its image, the first named, the good image beside it read */
    expect_image_error("pos.tsv", "Image\tClass\tCentroid X µm\tCentroid Y µm\nA\t1+\t1\t200000\nB\t2+\t1\t5\n"
                       "A\t1+\t200000.5\t1\nA\t1+\t1e300\t1\n", 0, NULL, 0, 2,
                       "pos.tsv:4:3: column 'Centroid X µm': 200000.5 µm from the image origin is beyond 200000 µm");
    expect_image_error("od.tsv", "Image\tCentroid X µm\tCentroid Y µm\tCell: DAB OD mean\tMembrane: DAB completeness\n"
                       "A\t1\t1\t8\t0.5\nB\t1\t1\t8.5\t0.5\nB\t1\t1\t-4.5\t0.5\nA\t1\t1\t-4\t0.5\n", 0, NULL, 1, 2,
                       "od.tsv:3:4: column 'Cell: DAB OD mean': 8.5 is not a plausible DAB optical density (-4 to 8");
    /* an image name of HS_QUPATH_MAX_IMAGE bytes is read; one byte more makes that image an error, named cut */
    {
        char *t = malloc(3 * HS_QUPATH_MAX_IMAGE + 200);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        size_t n = (size_t)sprintf(t, "Image\tClass\tCentroid X µm\tCentroid Y µm\n");
        memset(t + n, 'I', HS_QUPATH_MAX_IMAGE);
        n += HS_QUPATH_MAX_IMAGE;
        n += (size_t)sprintf(t + n, "\t1+\t1\t1\n");
        memset(t + n, 'J', HS_QUPATH_MAX_IMAGE + 1);
        n += HS_QUPATH_MAX_IMAGE + 1;
        n += (size_t)sprintf(t + n, "\t1+\t1\t1\n");
        t[n] = '\0';
        expect_image_error("long.tsv", t, 0, NULL, 1, 1, "long.tsv:3:1: an image name of 1025 bytes (at most 1024): "
                           "'JJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJ...'");
        hs_qupath *q = NULL;
        hs_error e;
        CU_ASSERT_EQUAL_FATAL(read_text(&q, "long.tsv", t, 0, NULL, &e), HS_OK);
        CU_ASSERT_EQUAL(strlen(q->image[0].image), HS_QUPATH_MAX_IMAGE);
        CU_ASSERT_EQUAL(strlen(q->image[1].image), 63); /* cut to 60 bytes and "..." */
        hs_qupath_free(q);
        free(t);
    }
    /* control bytes of the file are escaped in messages */
    expect_image_error("ctl.tsv", "Image\tClass\tCentroid X µm\tCentroid Y µm\nA\t1+\t1\t\x14" "7.5\n", 0, NULL, 0, 1,
                       "ctl.tsv:2:4: column 'Centroid Y µm': not a finite number: '\\x147.5'");
    expect_image_error("ctl2.tsv", "Image\tClass\tCentroid X µm\tCentroid Y µm\nA\t3\x7f+\t1\t1\n", 0, NULL, 0, 1,
                       "ctl2.tsv:2:2: unknown class '3\\x7F+'");
    /* empty and blank files */
    expect_error("e.tsv", "", 0, NULL, HS_EDATA, "e.tsv:1:");
    expect_error("e2.tsv", "\n\n", 0, NULL, HS_EDATA, "e2.tsv:");
    /* malformed CSV from csvread: an unterminated quote */
    expect_error("q.csv", "Class,Centroid X µm,Centroid Y µm\n\"1+,1,2\n", 0, NULL, HS_EDATA, "q.csv:");

    /* missing file, bad arguments */
    hs_her2_params p;
    hs_her2_params_default(&p);
    hs_qupath *q = NULL;
    hs_error e;
    char *nofile = hs_test_path(dir, "does-not-exist.tsv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(nofile);
    CU_ASSERT_EQUAL(hs_qupath_read(&q, nofile, TILE, 0, NULL, &p, &e), HS_EIO);
    CU_ASSERT_PTR_NULL(q);
    CU_ASSERT_EQUAL(hs_qupath_read(&q, nofile, 0.0, 0, NULL, &p, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_qupath_read(&q, nofile, TILE, -1.0, NULL, &p, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_qupath_read(&q, nofile, TILE, 0, "", &p, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_qupath_read(&q, nofile, TILE, 0, NULL, NULL, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_qupath_read(NULL, nofile, TILE, 0, NULL, &p, &e), HS_EINVAL);
    free(nofile);
}

int hs_suite_qupath(void)
{
    CU_pSuite s = CU_add_suite("qupath", suite_init, suite_clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "TSV export, Classification, two images", test_tsv) ||
        !CU_add_test(s, "CSV export, Class, BOM, CRLF, quotes", test_csv) ||
        !CU_add_test(s, "intensity + completeness route", test_completeness) ||
        !CU_add_test(s, "px centroids, no Image column", test_px) ||
        !CU_add_test(s, "same metrics as a direct tile map", test_same_metrics) ||
        !CU_add_test(s, "error paths", test_errors))
        return 1;
    return 0;
}
