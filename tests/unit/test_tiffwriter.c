/*
 * Unit tests of scoring/tiffwriter: slides written band by band are read
 * back through scoring/slide, whose metadata come from OpenSlide 3.4.1, which
 * must take them for generic-tiff slides; the lossless round trips decode the
 * pixels both with libtiff (the default) and with OpenSlide.
 *
 * References: the pixels are a formula of (x, y, channel) (slidefix.c); the
 * lower levels are the 2x2 box means of level 0 computed straight from that
 * formula, whole image at a time, not streamed; level sizes are ceil-halvings
 * worked out by hand in each test; OpenSlide's downsample of a level is
 * (w0/wl + h0/hl) / 2 (openslide.c, 3.4.1); the pixel size 0.5 um is stored
 * as 20000 pixels per centimetre, read back as 1e4 / 20000; JPEG tiles as
 * libtiff decodes them itself (tif_jpeg.c and libjpeg, not OpenSlide's path).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "scoring/slide.h"
#include "scoring/slide_internal.h"
#include "scoring/tiffwriter.h"
#include "slidefix.h"
#include "suites.h"
#include "tmpfiles.h"

static char *dir;

static int suite_init(void) { return hs_test_suite_init(&dir); }
static int suite_clean(void) { return hs_test_suite_clean(&dir); }

/*
 * Compares level `level` of an open slide, read whole, with the reference
 * pyramid; returns the number of mismatching bytes, and optionally their mean
 * absolute difference and the largest difference away from the right and
 * bottom edges (JPEG rings where the image meets the white padding of the
 * edge tiles, within one 16-pixel MCU).
 */
static long compare_level(hs_slide *s, int level, uint32_t w0, uint32_t h0, hs_fix_pattern p, double *mean_abs,
                          int *max_abs)
{
    uint32_t lw, lh;
    uint8_t *ref = hs_fix_pyramid(w0, h0, p, level, &lw, &lh);
    uint8_t *got = malloc((size_t)lw * lh * 3), *valid = malloc((size_t)lw * lh);
    long bad = -1;
    if (ref && got && valid) {
        hs_error err;
        int rc = hs_slide_read(s, level, 0, 0, (int)lw, (int)lh, got, valid, &err);
        CU_ASSERT_EQUAL(rc, HS_OK);
        bad = 0;
        double sum = 0;
        int mx = 0;
        for (size_t i = 0; i < (size_t)lw * lh * 3; i++) {
            int d = abs((int)got[i] - (int)ref[i]);
            size_t x = i / 3 % lw, y = i / 3 / lw;
            bad += d != 0;
            sum += d;
            if (x + 16 < lw && y + 16 < lh)
                mx = d > mx ? d : mx;
        }
        size_t nvalid = 0;
        for (size_t i = 0; i < (size_t)lw * lh; i++)
            nvalid += valid[i] == 1;
        CU_ASSERT_EQUAL(nvalid, (size_t)lw * lh);
        if (mean_abs)
            *mean_abs = sum / ((double)lw * lh * 3);
        if (max_abs)
            *max_abs = mx;
    }
    free(ref);
    free(got);
    free(valid);
    return bad;
}

/* Level geometry as OpenSlide reports it. */
static void check_level(hs_slide *s, int level, int64_t ew, int64_t eh, uint32_t w0, uint32_t h0)
{
    int64_t w = -1, h = -1;
    double ds = -1;
    CU_ASSERT_EQUAL(hs_slide_level(s, level, &w, &h, &ds), HS_OK);
    CU_ASSERT_EQUAL(w, ew);
    CU_ASSERT_EQUAL(h, eh);
    HS_ASSERT_CLOSE(ds, ((double)w0 / ew + (double)h0 / eh) / 2, 1e-12);
}

static void lossless_round_trip(hs_tiff_compression comp, const char *name)
{
    /* 1000 x 600, tiles of 256: 4 x 3 tiles with partial edge tiles; levels 500x300 and 250x150. */
    char *path = hs_test_path(dir, name);
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 1000, 600, 256, 3, comp, 0, 0.5, hs_fix_noise), HS_OK);
    for (int os = 0; os < 2; os++) {
        hs_slide *s = NULL;
        hs_error err;
        int rc = hs_slide_open_backend(&s, path, 0, os ? HS_SLIDE_BACKEND_OPENSLIDE : HS_SLIDE_BACKEND_AUTO, &err);
        CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
        const hs_slide_info *in = hs_slide_get_info(s);
        CU_ASSERT_STRING_EQUAL(in->backend, os ? "openslide" : "libtiff");
        CU_ASSERT_STRING_EQUAL(in->vendor, "generic-tiff");
        CU_ASSERT_EQUAL(in->width, 1000);
        CU_ASSERT_EQUAL(in->height, 600);
        CU_ASSERT_EQUAL(in->nlevel, 3);
        CU_ASSERT_DOUBLE_EQUAL(in->mpp_x, 0.5, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(in->mpp_y, 0.5, 1e-12);
        CU_ASSERT_STRING_EQUAL(in->mpp_source, "tiff-resolution");
        check_level(s, 0, 1000, 600, 1000, 600);
        check_level(s, 1, 500, 300, 1000, 600);
        check_level(s, 2, 250, 150, 1000, 600);
        for (int l = 0; l < 3; l++)
            CU_ASSERT_EQUAL(compare_level(s, l, 1000, 600, hs_fix_noise, NULL, NULL), 0);
        hs_slide_close(s);
    }
    free(path);
}

static void test_deflate(void)
{
    lossless_round_trip(HS_TIFF_DEFLATE, "deflate.tif");
}

static void test_lzw(void)
{
    lossless_round_trip(HS_TIFF_LZW, "lzw.tif");
}

static void test_none(void)
{
    lossless_round_trip(HS_TIFF_NONE, "none.tif");
}

static void test_odd_size(void)
{
    /*
     * 777 x 555 with 128-pixel tiles and 4 levels: 389x278, 195x139, 98x70
     * (each ceil(n/2)).  Downsamples are not powers of two, so only reads from
     * the origin land on whole level pixels; those are compared exactly.
     */
    char *path = hs_test_path(dir, "odd.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 777, 555, 128, 4, HS_TIFF_DEFLATE, 0, 0.5, hs_fix_noise), HS_OK);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_slide_get_info(s)->nlevel, 4);
    check_level(s, 0, 777, 555, 777, 555);
    check_level(s, 1, 389, 278, 777, 555);
    check_level(s, 2, 195, 139, 777, 555);
    check_level(s, 3, 98, 70, 777, 555);
    for (int l = 0; l < 4; l++)
        CU_ASSERT_EQUAL(compare_level(s, l, 777, 555, hs_fix_noise, NULL, NULL), 0);
    hs_slide_close(s);
    free(path);
}

static void test_jpeg(void)
{
    char *path = hs_test_path(dir, "jpeg.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 640, 480, 128, 3, HS_TIFF_JPEG, 90, 0.5, hs_fix_smooth), HS_OK);
    hs_slide *s = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, &err), HS_OK);
    const hs_slide_info *in = hs_slide_get_info(s);
    CU_ASSERT_STRING_EQUAL(in->vendor, "generic-tiff");
    CU_ASSERT_EQUAL(in->nlevel, 3);
    CU_ASSERT_DOUBLE_EQUAL(in->mpp_x, 0.5, 1e-12);
    check_level(s, 2, 160, 120, 640, 480);
    for (int l = 0; l < 3; l++) {
        double mean = 99;
        int mx = 999;
        compare_level(s, l, 640, 480, hs_fix_smooth, &mean, &mx);
        /* Quality 90 on smooth gradients: off by about one grey level on average, 10 at most (seen: 6, 6, 10). */
        CU_ASSERT(mean < 1.5);
        CU_ASSERT(mx <= 16);
    }
    hs_slide_close(s);
    free(path);
}

/* The YCbCr subsampling tag of every directory of a TIFF: 1 when all are h x h, else 0. */
static int all_subsampling(const char *path, uint16_t h)
{
    TIFF *t = TIFFOpen(path, "r");
    int ok = t != NULL, n = 0;
    do {
        uint16_t sh = 0, sv = 0;
        ok = ok && TIFFGetField(t, TIFFTAG_YCBCRSUBSAMPLING, &sh, &sv) && sh == h && sv == h;
        n++;
    } while (ok && TIFFReadDirectory(t));
    if (t)
        TIFFClose(t);
    return ok && n == 3;
}

static void test_jpeg_444(void)
{
    /* Ignored by another compression; refused: an unknown value, after the first band, no writer. */
    char *path = hs_test_path(dir, "j444.tif");
    hs_tiffw *w = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_tiffw_open(&w, path, 64, 64, 32, 1, HS_TIFF_DEFLATE, 0, 0.5, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_set_subsampling(w, HS_TIFF_YCBCR_444, &err), HS_OK);
    hs_tiffw_abort(w);
    CU_ASSERT_EQUAL_FATAL(hs_tiffw_open(&w, path, 64, 64, 32, 1, HS_TIFF_JPEG, 90, 0.5, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_set_subsampling(w, (hs_tiff_subsampling)3, &err), HS_EINVAL);
    uint8_t *band = calloc(64 * 32 * 3, 1);
    CU_ASSERT_FATAL(band != NULL);
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 32, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_set_subsampling(w, HS_TIFF_YCBCR_444, &err), HS_EINVAL);
    CU_ASSERT(strstr(err.msg, "before the first band") != NULL);
    hs_tiffw_abort(w);
    free(band);
    CU_ASSERT_EQUAL(hs_tiffw_set_subsampling(NULL, HS_TIFF_YCBCR_444, NULL), HS_EINVAL);

    /*
     * 4:4:4 and 4:2:0 slides of the same colour noise: every directory carries
     * its subsampling, and full-resolution colour is closer to the truth
     * (4:2:0 averages each 2x2 block's chroma; seen: mean error 3.2 vs 46 grey levels).
     */
    char *p420 = hs_test_path(dir, "j420.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide_chroma(path, 640, 480, 128, 3, HS_TIFF_JPEG, 95, 1, 0.5, hs_fix_noise),
                          HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide_chroma(p420, 640, 480, 128, 3, HS_TIFF_JPEG, 95, 2, 0.5, hs_fix_noise),
                          HS_OK);
    CU_ASSERT(all_subsampling(path, 1));
    CU_ASSERT(all_subsampling(p420, 2));
    double mean[2] = {99, 99};
    const char *paths[2] = {path, p420};
    for (int k = 0; k < 2; k++) {
        hs_slide *s = NULL;
        CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, paths[k], 0, &err), HS_OK);
        CU_ASSERT_EQUAL(hs_slide_get_info(s)->nlevel, 3);
        compare_level(s, 0, 640, 480, hs_fix_noise, &mean[k], NULL);
        hs_slide_close(s);
    }
    CU_ASSERT(mean[0] < 5);
    CU_ASSERT(mean[1] > 30);
    free(p420);
    free(path);
}

/* One-pixel brown lines on a pale blue ground: the colour changes from one pixel to the next. */
static uint8_t chroma_lines(uint32_t x, uint32_t y, int c)
{
    static const uint8_t brown[3] = {150, 90, 50}, pale[3] = {205, 205, 230};
    return (x + y / 4) % 6 == 0 ? brown[c] : pale[c];
}

/* Writes a 300 x 200 slide of chroma_lines (2 levels, 64-pixel JPEG tiles, quality 90) with subsampling sub. */
static int write_subsampled(const char *path, hs_tiff_subsampling sub)
{
    const uint32_t w = 300, h = 200, tile = 64;
    hs_tiffw *tw = NULL;
    if (hs_tiffw_open(&tw, path, w, h, tile, 2, HS_TIFF_JPEG, 90, 0.5, NULL) != HS_OK)
        return -1;
    uint8_t *band = malloc((size_t)w * tile * 3);
    int rc = band ? hs_tiffw_set_subsampling(tw, sub, NULL) : -1;
    for (uint32_t y0 = 0; rc == HS_OK && y0 < h; y0 += tile) {
        uint32_t rows = h - y0 < tile ? h - y0 : tile;
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    band[((size_t)r * w + x) * 3 + c] = chroma_lines(x, y0 + r, c);
        rc = hs_tiffw_write_band(tw, band, rows, NULL);
    }
    free(band);
    if (rc != HS_OK) {
        hs_tiffw_abort(tw);
        return rc;
    }
    return hs_tiffw_close(tw, NULL);
}

/*
 * Bytes of level 0 (w x h, tiles of side ts) on which OpenSlide's decoding
 * differs from libtiff's own (libjpeg through tif_jpeg.c, JPEGCOLORMODE_RGB);
 * -1 when either cannot read the file.
 */
static long decoders_differ(const char *path, uint32_t w, uint32_t h, uint32_t ts)
{
    TIFF *t = TIFFOpen(path, "r");
    hs_slide *s = NULL;
    uint8_t *tb = NULL, *got = malloc((size_t)w * h * 3);
    long bad = -1;
    if (t && TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB) && (tb = malloc((size_t)TIFFTileSize(t))) &&
        got && hs_slide_open(&s, path, 0, NULL) == HS_OK &&
        hs_slide_read(s, 0, 0, 0, (int)w, (int)h, got, NULL, NULL) == HS_OK) {
        bad = 0;
        for (uint32_t ty = 0; bad >= 0 && ty < h; ty += ts)
            for (uint32_t tx = 0; bad >= 0 && tx < w; tx += ts) {
                if (TIFFReadEncodedTile(t, TIFFComputeTile(t, tx, ty, 0, 0), tb, -1) < 0) {
                    bad = -1;
                    break;
                }
                for (uint32_t r = 0; r < ts && ty + r < h; r++)
                    for (uint32_t q = 0; q < ts && tx + q < w; q++)
                        for (int c = 0; c < 3; c++)
                            bad += tb[((size_t)r * ts + q) * 3 + c] != got[((size_t)(ty + r) * w + tx + q) * 3 + c];
            }
    }
    if (t)
        TIFFClose(t);
    hs_slide_close(s);
    free(tb);
    free(got);
    return bad;
}

/*
 * 4:4:4 JPEG tiles (YCbCrSubsampling 1,1) through OpenSlide 3.4.1: the tag is
 * written, OpenSlide decodes every tile exactly as libtiff does, and the colour
 * of one-pixel lines survives better than with 4:2:0, which averages the chroma
 * of 2x2 blocks.  Measured at quality 90: mean error 4.4 levels with 4:4:4 and
 * 10.8 with 4:2:0 (the lines' sharp luma edges cost JPEG both times).
 */
static void test_jpeg444(void)
{
    char *p444 = hs_test_path(dir, "j444.tif"), *p420 = hs_test_path(dir, "j420.tif");
    CU_ASSERT_EQUAL_FATAL(write_subsampled(p444, HS_TIFF_YCBCR_444), HS_OK);
    CU_ASSERT_EQUAL_FATAL(write_subsampled(p420, HS_TIFF_YCBCR_420), HS_OK);
    for (int k = 0; k < 2; k++) {
        TIFF *t = TIFFOpen(k ? p420 : p444, "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        uint16_t sh = 0, sv = 0;
        CU_ASSERT(TIFFGetFieldDefaulted(t, TIFFTAG_YCBCRSUBSAMPLING, &sh, &sv));
        CU_ASSERT_EQUAL(sh, k ? 2 : 1);
        CU_ASSERT_EQUAL(sv, k ? 2 : 1);
        TIFFClose(t);
    }
    CU_ASSERT_EQUAL(decoders_differ(p444, 300, 200, 64), 0);
    double mean[2] = {99, 99};
    for (int k = 0; k < 2; k++) {
        hs_slide *s = NULL;
        CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, k ? p420 : p444, 0, NULL), HS_OK);
        CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->vendor, "generic-tiff");
        CU_ASSERT_EQUAL(hs_slide_get_info(s)->nlevel, 2);
        compare_level(s, 0, 300, 200, chroma_lines, &mean[k], NULL);
        hs_slide_close(s);
    }
    CU_ASSERT(mean[0] < 6.0);
    CU_ASSERT(mean[1] > 2.0 * mean[0]);
    /* unknown values are refused, and so is a change once a band is written */
    hs_tiffw *w = NULL;
    hs_error err;
    uint8_t band[64 * 16 * 3] = {0};
    CU_ASSERT_EQUAL_FATAL(hs_tiffw_open(&w, p444, 64, 32, 16, 1, HS_TIFF_JPEG, 90, 0.5, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_set_subsampling(w, (hs_tiff_subsampling)7, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 16, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_set_subsampling(w, HS_TIFF_YCBCR_444, &err), HS_EINVAL);
    hs_tiffw_abort(w);
    free(p444);
    free(p420);
}

static void test_outside(void)
{
    /* Regions hanging over every edge: the outside part is white and invalid, the inside exact. */
    char *path = hs_test_path(dir, "outside.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 300, 200, 64, 2, HS_TIFF_DEFLATE, 0, 0.5, hs_fix_noise), HS_OK);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    struct { int level; int64_t x, y; int w, h; } q[] = {
        {0, -10, -5, 40, 30}, {0, 280, 190, 50, 20}, {1, 140, -3, 20, 10}, {1, -7, 95, 30, 9},
        {0, 400, 0, 8, 8},    {0, -50, -50, 8, 8},   {0, -5, -5, 310, 210},
    };
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
        uint32_t lw, lh;
        uint8_t *ref = hs_fix_pyramid(300, 200, hs_fix_noise, q[k].level, &lw, &lh);
        uint8_t *rgb = malloc((size_t)q[k].w * q[k].h * 3), *valid = malloc((size_t)q[k].w * q[k].h);
        CU_ASSERT_FATAL(ref && rgb && valid);
        CU_ASSERT_EQUAL(hs_slide_read(s, q[k].level, q[k].x, q[k].y, q[k].w, q[k].h, rgb, valid, NULL), HS_OK);
        long bad = 0;
        for (int r = 0; r < q[k].h; r++)
            for (int c = 0; c < q[k].w; c++) {
                int64_t x = q[k].x + c, y = q[k].y + r;
                size_t i = (size_t)r * q[k].w + c;
                int inside = x >= 0 && y >= 0 && x < lw && y < lh;
                bad += valid[i] != inside;
                for (int ch = 0; ch < 3; ch++)
                    bad += rgb[3 * i + ch] != (inside ? ref[((size_t)y * lw + x) * 3 + ch] : 255);
            }
        CU_ASSERT_EQUAL(bad, 0);
        /* valid may be NULL */
        CU_ASSERT_EQUAL(hs_slide_read(s, q[k].level, q[k].x, q[k].y, q[k].w, q[k].h, rgb, NULL, NULL), HS_OK);
        free(ref);
        free(rgb);
        free(valid);
    }
    hs_slide_close(s);
    free(path);
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = getc(fa), cb = getc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void test_deterministic(void)
{
    /* Same pixels, same bytes; no scratch file left beside the output. */
    char *sub = hs_test_path(dir, "det");
    char *keep = hs_test_write(dir, "det/keep", "", 0);
    CU_ASSERT_FATAL(keep != NULL);
    free(keep);
    char *a = hs_test_path(sub, "a.tif"), *b = hs_test_path(sub, "b.tif");
    for (int comp = 0; comp < 4; comp++) {
        CU_ASSERT_EQUAL(hs_fix_write_slide(a, 333, 222, 32, 3, comp, 80, 0.25, hs_fix_noise), HS_OK);
        CU_ASSERT_EQUAL(hs_fix_write_slide(b, 333, 222, 32, 3, comp, 80, 0.25, hs_fix_noise), HS_OK);
        CU_ASSERT(files_equal(a, b));
        CU_ASSERT_EQUAL(hs_fix_count_entries(sub), 3);
    }
    /* A classic (not Big) TIFF, little-endian, with the description OpenSlide must not take for Aperio. */
    FILE *f = fopen(a, "rb");
    CU_ASSERT_FATAL(f != NULL);
    unsigned char head[4] = {0};
    CU_ASSERT_EQUAL(fread(head, 1, 4, f), 4);
    CU_ASSERT(head[0] == 'I' && head[1] == 'I' && head[2] == 42 && head[3] == 0);
    fclose(f);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, a, 0, NULL), HS_OK);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->vendor, "generic-tiff");
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_x, 0.25, 1e-12);
    hs_slide_close(s);
    free(a);
    free(b);
    free(sub);
}

static void test_bad_arguments(void)
{
    char *path = hs_test_path(dir, "bad.tif");
    hs_tiffw *w = (hs_tiffw *)&w;
    hs_error err;
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 100, 100, 20, 1, HS_TIFF_DEFLATE, 0, 0.5, &err), HS_EINVAL);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT(strstr(err.msg, "tile") != NULL);
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 0, 100, 16, 1, HS_TIFF_DEFLATE, 0, 0.5, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 100, 100, 16, 0, HS_TIFF_DEFLATE, 0, 0.5, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 100, 100, 16, 1, HS_TIFF_JPEG, 0, 0.5, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 100, 100, 16, 1, HS_TIFF_JPEG, 101, 0.5, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 100, 100, 16, 1, HS_TIFF_NONE, 0, 0, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 100, 100, 16, 1, HS_TIFF_NONE, 0, NAN, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 100, 100, 16, 1, (hs_tiff_compression)9, 0, 0.5, NULL), HS_EINVAL);
    /* 100 -> 50 -> 25 -> 13: the fourth level would be under the 16-pixel minimum tile. */
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 100, 100, 16, 4, HS_TIFF_NONE, 0, 0.5, &err), HS_EINVAL);
    CU_ASSERT(strstr(err.msg, "13x13") != NULL);
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, path, 15, 100, 16, 1, HS_TIFF_NONE, 0, 0.5, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_fix_file_size(path), -1);
    /* Tiles of 48 on levels of 100, 50, 25 pixels: 48, 48 and 16 (the multiples of 16 dividing 48 are 16, 48). */
    CU_ASSERT_EQUAL(hs_fix_write_slide(path, 100, 100, 48, 3, HS_TIFF_LZW, 0, 0.5, hs_fix_noise), HS_OK);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_slide_get_info(s)->nlevel, 3);
    check_level(s, 2, 25, 25, 100, 100);
    for (int l = 0; l < 3; l++)
        CU_ASSERT_EQUAL(compare_level(s, l, 100, 100, hs_fix_noise, NULL, NULL), 0);
    hs_slide_close(s);
    remove(path);

    /* A folder that does not exist. */
    char *nowhere = hs_test_path(dir, "no/such/dir/x.tif");
    CU_ASSERT_EQUAL(hs_tiffw_open(&w, nowhere, 100, 100, 16, 2, HS_TIFF_DEFLATE, 0, 0.5, &err), HS_EIO);
    CU_ASSERT(strstr(err.msg, nowhere) != NULL);
    free(nowhere);

    /* Wrong band sizes, closing early, aborting: the partial file goes away. */
    uint8_t *band = calloc(100 * 32 * 3, 1);
    CU_ASSERT_FATAL(band != NULL);
    CU_ASSERT_EQUAL_FATAL(hs_tiffw_open(&w, path, 100, 40, 32, 2, HS_TIFF_DEFLATE, 0, 0.5, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 16, &err), HS_EINVAL); /* neither a full band nor the rest */
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 32, &err), HS_EINVAL); /* refused after a failure */
    hs_tiffw_abort(w);
    CU_ASSERT_EQUAL(hs_fix_file_size(path), -1);

    CU_ASSERT_EQUAL_FATAL(hs_tiffw_open(&w, path, 100, 40, 32, 2, HS_TIFF_DEFLATE, 0, 0.5, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 32, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 9, &err), HS_EINVAL); /* 8 rows left */
    hs_tiffw_abort(w);

    CU_ASSERT_EQUAL_FATAL(hs_tiffw_open(&w, path, 100, 40, 32, 2, HS_TIFF_DEFLATE, 0, 0.5, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 32, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_close(w, &err), HS_EINVAL);
    CU_ASSERT(strstr(err.msg, "32 of 40") != NULL);
    CU_ASSERT_EQUAL(hs_fix_file_size(path), -1);

    CU_ASSERT_EQUAL_FATAL(hs_tiffw_open(&w, path, 100, 40, 32, 2, HS_TIFF_DEFLATE, 0, 0.5, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 32, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_write_band(w, band, 8, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_tiffw_close(w, &err), HS_OK);
    CU_ASSERT(hs_fix_file_size(path) > 0);

    hs_tiffw_abort(NULL);
    CU_ASSERT_EQUAL(hs_tiffw_close(NULL, NULL), HS_EINVAL);
    free(band);
    free(path);
}

int hs_suite_tiffwriter(void)
{
    CU_pSuite s = CU_add_suite("tiffwriter", suite_init, suite_clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "Deflate round trip, libtiff and OpenSlide", test_deflate) ||
        !CU_add_test(s, "LZW round trip, libtiff and OpenSlide", test_lzw) ||
        !CU_add_test(s, "uncompressed round trip, libtiff and OpenSlide", test_none) ||
        !CU_add_test(s, "size not a multiple of the tile, odd levels", test_odd_size) ||
        !CU_add_test(s, "JPEG round trip is close", test_jpeg) ||
        !CU_add_test(s, "JPEG with 4:4:4 chroma", test_jpeg_444) ||
        !CU_add_test(s, "4:4:4 JPEG tiles keep one-pixel colour", test_jpeg444) ||
        !CU_add_test(s, "regions partly outside are white and invalid", test_outside) ||
        !CU_add_test(s, "deterministic bytes, no scratch files left", test_deterministic) ||
        !CU_add_test(s, "bad arguments, early close, abort", test_bad_arguments))
        return 1;
    return 0;
}
