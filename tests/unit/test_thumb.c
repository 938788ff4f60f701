/*
 * Unit tests of scoring/thumb: the picture of a whole slide against the box means computed straight from the
 * pattern that was written (lossless slides), from level 0 and from a pyramid level.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>

#include "scoring/slide.h"
#include "scoring/thumb.h"
#include "slidefix.h"
#include "suites.h"
#include "tmpfiles.h"

static char *dir;

static int init(void) { return hs_test_suite_init(&dir); }
static int clean(void) { return hs_test_suite_clean(&dir); }

/* Four flat quadrants of different colours. */
static uint8_t quadrants(uint32_t x, uint32_t y, int c)
{
    static const uint8_t col[4][3] = {{200, 30, 40}, {20, 180, 60}, {30, 40, 210}, {250, 250, 10}};
    return col[(x >= 320) + 2 * (y >= 240)][c];
}

/* The expected pw x ph picture of the lw x lh image img: each pixel the rounded mean of the source pixels x, y
 * with x * pw / lw == px and y * ph / lh == py, summed straight from the definition. */
static uint8_t *expected(const uint8_t *img, uint32_t lw, uint32_t lh, int pw, int ph)
{
    unsigned long *sum = calloc((size_t)pw * (size_t)ph * 4, sizeof *sum);
    uint8_t *out = malloc((size_t)pw * (size_t)ph * 3);
    if (!sum || !out) {
        free(sum);
        free(out);
        return NULL;
    }
    for (uint32_t y = 0; y < lh; y++)
        for (uint32_t x = 0; x < lw; x++) {
            size_t p = (size_t)((uint64_t)y * (uint64_t)ph / lh) * (size_t)pw + (size_t)((uint64_t)x * (uint64_t)pw / lw);
            for (int c = 0; c < 3; c++)
                sum[4 * p + (size_t)c] += img[((size_t)y * lw + x) * 3 + (size_t)c];
            sum[4 * p + 3]++;
        }
    for (size_t p = 0; p < (size_t)pw * (size_t)ph; p++)
        for (int c = 0; c < 3; c++)
            out[3 * p + (size_t)c] = (uint8_t)((sum[4 * p + (size_t)c] + sum[4 * p + 3] / 2) / sum[4 * p + 3]);
    free(sum);
    return out;
}

static void check(const char *name, int nlevels, int max_side, int want_w, int want_h, int from_level,
                  hs_fix_pattern p)
{
    char *path = hs_test_path(dir, name);
    CU_ASSERT_FATAL(hs_fix_write_slide(path, 640, 480, 64, nlevels, HS_TIFF_DEFLATE, 0, 0.5, p) == 0);
    hs_slide *s;
    hs_error e = {0};
    CU_ASSERT_FATAL(hs_slide_open(&s, path, 0, &e) == HS_OK);
    hs_thumb t;
    CU_ASSERT_FATAL(hs_thumb_read(s, max_side, &t, &e) == HS_OK);
    CU_ASSERT_EQUAL(t.w, want_w);
    CU_ASSERT_EQUAL(t.h, want_h);
    HS_ASSERT_CLOSE(t.um_per_px, 0.5 * 640.0 / want_w, 1e-12);
    uint32_t lw, lh;
    uint8_t *img = hs_fix_pyramid(640, 480, p, from_level, &lw, &lh);
    CU_ASSERT_FATAL(img != NULL);
    uint8_t *want = expected(img, lw, lh, t.w, t.h);
    CU_ASSERT_FATAL(want != NULL);
    int bad = 0;
    for (size_t i = 0; i < (size_t)t.w * (size_t)t.h * 3; i++)
        bad += t.rgb[i] != want[i];
    CU_ASSERT_EQUAL(bad, 0);
    free(want);
    free(img);
    hs_thumb_clear(&t);
    hs_slide_close(s);
    free(path);
}

/* 640x480 to 64x48 from level 0 only: exact quadrant colours and exact box means of noise */
static void test_level0(void)
{
    check("q1.tif", 1, 64, 64, 48, 0, quadrants);
    check("n1.tif", 1, 64, 64, 48, 0, hs_fix_noise);
}

/* with a pyramid (640, 320, 160) the coarsest level at least as large as 100x75 is 160x120 */
static void test_pyramid(void)
{
    check("n3.tif", 3, 100, 100, 75, 2, hs_fix_noise);
    check("s3.tif", 3, 200, 200, 150, 1, hs_fix_smooth);
}

/* a slide smaller than max_side keeps its size; bad arguments refused */
static void test_small_and_bad(void)
{
    check("small.tif", 1, 1000, 640, 480, 0, hs_fix_smooth);
    hs_thumb t;
    hs_error e = {0};
    CU_ASSERT_EQUAL(hs_thumb_read(NULL, 100, &t, &e), HS_EINVAL);
}

int hs_suite_thumb(void)
{
    CU_pSuite s = CU_add_suite("thumb", init, clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "level 0 box means, exact", test_level0) ||
        !CU_add_test(s, "from the coarsest level large enough", test_pyramid) ||
        !CU_add_test(s, "small slide kept, bad arguments", test_small_and_bad))
        return 1;
    return 0;
}
