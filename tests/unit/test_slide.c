/*
 * Unit tests of scoring/slide: PNG and plain (stripped) TIFF fields of view,
 * pixel-size sources, pyramidal slides written by tiffwriter and read by
 * OpenSlide, and every way a file can be wrong: missing, empty, not an image,
 * truncated, corrupt, too large.  Bad files must give an error naming the file,
 * never a crash, and nothing may be printed on stderr.
 *
 * References: pixels are formulas of (x, y, channel) (slidefix.c) written
 * with libpng / libtiff here; pixel sizes are set by hand: PNG pHYs of
 * 2,000,000 pixels per metre is 1e6 / 2e6 = 0.5 um, 2,500,000 is 0.4 um;
 * TIFF 20000 pixels per cm is 1e4 / 2e4 = 0.5 um, 50800 per inch is
 * 25400 / 50800 = 0.5 um, 72 per inch (353 um) is an editor's default and
 * ignored.  Alpha: libtiff premultiplies unassociated alpha (c*a/255) and we
 * divide it out again, so c comes back within 255 / (2a) + 1 grey levels.
 */
#include <math.h>
#include <stdarg.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "scoring/slide.h"
#include "scoring/slide_internal.h"
#include "scoring/tifflayout_internal.h"
#include "scoring/tiffmsg_internal.h"
#include "scoring/tiffwriter.h"
#include "slidefix.h"
#include "suites.h"
#include "tmpfiles.h"

static char *dir;

static int suite_init(void) { return hs_test_suite_init(&dir); }
static int suite_clean(void) { return hs_test_suite_clean(&dir); }

/* ---- writing test images ---- */

/*
 * Writes a w x h PNG of pattern p: channels 1 (grey: channel 0 of p), 3 (RGB)
 * or 4 (RGBA, alpha = alpha(x, y)); ppm_x/ppm_y > 0 add a pHYs chunk in
 * pixels per metre.
 */
typedef uint8_t (*alpha_fn)(uint32_t x, uint32_t y);

static int write_png(const char *path, uint32_t w, uint32_t h, int channels, int bit_depth, hs_fix_pattern p,
                     alpha_fn alpha, uint32_t ppm_x, uint32_t ppm_y)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = malloc((size_t)w * 4);
    if (!png || !info || !row || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        return -1;
    }
    int type = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, bit_depth, type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (ppm_x)
        png_set_pHYs(png, info, ppm_x, ppm_y, PNG_RESOLUTION_METER);
    png_write_info(png, info);
    for (uint32_t y = 0; y < h; y++) {
        if (bit_depth == 1) {
            memset(row, 0, (w + 7) / 8);
        } else {
            for (uint32_t x = 0; x < w; x++) {
                for (int c = 0; c < channels && c < 3; c++)
                    row[(size_t)x * channels + c] = p(x, y, c);
                if (channels == 4)
                    row[(size_t)x * 4 + 3] = alpha(x, y);
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) == 0 ? 0 : -1;
}

/*
 * Writes a stripped (untiled) Deflate TIFF of pattern p, 16 rows per strip;
 * alpha != NULL adds an unassociated alpha channel.  res > 0 sets X/YResolution
 * with the given unit; desc != NULL sets ImageDescription.
 */
static int write_stripped_tiff(const char *path, uint32_t w, uint32_t h, hs_fix_pattern p, alpha_fn alpha,
                               double res, uint16_t unit, const char *desc)
{
    TIFF *t = TIFFOpen(path, "w");
    if (!t)
        return -1;
    int spp = alpha ? 4 : 3;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
    if (alpha) {
        uint16_t extra[1] = {EXTRASAMPLE_UNASSALPHA};
        TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, extra);
    }
    if (res > 0) {
        TIFFSetField(t, TIFFTAG_XRESOLUTION, res);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, res);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, unit);
    }
    if (desc)
        TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, desc);
    uint8_t *row = malloc((size_t)w * 4);
    int rc = row ? 0 : -1;
    for (uint32_t y = 0; rc == 0 && y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++)
                row[(size_t)x * spp + c] = p(x, y, c);
            if (alpha)
                row[(size_t)x * 4 + 3] = alpha(x, y);
        }
        if (TIFFWriteScanline(t, row, y, 0) < 0)
            rc = -1;
    }
    free(row);
    TIFFClose(t);
    return rc;
}

/* How write_pyramid lays out a tiled TIFF. */
typedef struct layout {
    uint16_t comp;       /* COMPRESSION_* */
    uint16_t photo;      /* PHOTOMETRIC_RGB, or PHOTOMETRIC_YCBCR with JPEG (4:2:0) */
    int alpha;           /* a fourth sample, unassociated alpha (opaque) */
    const char *desc;    /* ImageDescription of the first directory, or NULL */
    int hole_level;      /* a tile left unwritten (TileByteCount 0) in this level; -1 for none */
    uint32_t hole_tile;
} layout;

static const layout DEFLATE_RGB = {COMPRESSION_ADOBE_DEFLATE, PHOTOMETRIC_RGB, 0, NULL, -1, 0};

/*
 * Writes a tiled TIFF as another program would: nlevels directories of size
 * w >> l x h >> l, all with tiles of side `tile` (also larger than the level),
 * lower ones marked reduced.  Level l holds pattern p shifted by 1000 * l
 * columns, so that levels differ.
 */
static int write_pyramid(const char *path, uint32_t w, uint32_t h, uint32_t tile, int nlevels, hs_fix_pattern p,
                         const layout *o)
{
    TIFF *t = TIFFOpen(path, "w");
    int spp = o->alpha ? 4 : 3;
    uint8_t *buf = malloc((size_t)tile * tile * spp);
    int rc = t && buf ? 0 : -1;
    for (int l = 0; rc == 0 && l < nlevels; l++) {
        uint32_t lw = w >> l, lh = h >> l;
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, l ? FILETYPE_REDUCEDIMAGE : 0);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, lw);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, lh);
        TIFFSetField(t, TIFFTAG_TILEWIDTH, tile);
        TIFFSetField(t, TIFFTAG_TILELENGTH, tile);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_COMPRESSION, o->comp);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, o->photo);
        if (o->alpha) {
            uint16_t extra[1] = {EXTRASAMPLE_UNASSALPHA};
            TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, extra);
        }
        if (o->comp == COMPRESSION_JPEG)
            TIFFSetField(t, TIFFTAG_JPEGQUALITY, 90);
        if (o->photo == PHOTOMETRIC_YCBCR) {
            TIFFSetField(t, TIFFTAG_YCBCRSUBSAMPLING, 2, 2);
            TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        }
        if (l == 0 && o->desc)
            TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, o->desc);
        for (uint32_t y0 = 0; rc == 0 && y0 < lh; y0 += tile)
            for (uint32_t x0 = 0; rc == 0 && x0 < lw; x0 += tile) {
                ttile_t idx = TIFFComputeTile(t, x0, y0, 0, 0);
                if (l == o->hole_level && idx == o->hole_tile)
                    continue;
                for (uint32_t r = 0; r < tile; r++)
                    for (uint32_t c = 0; c < tile; c++) {
                        for (int k = 0; k < 3; k++)
                            buf[((size_t)r * tile + c) * spp + k] = p(x0 + c + 1000 * l, y0 + r, k);
                        if (o->alpha)
                            buf[((size_t)r * tile + c) * spp + 3] = 255;
                    }
                if (TIFFWriteEncodedTile(t, idx, buf, (tmsize_t)tile * tile * spp) < 0)
                    rc = -1;
            }
        if (rc == 0 && !TIFFWriteDirectory(t))
            rc = -1;
    }
    if (t)
        TIFFClose(t);
    free(buf);
    return rc;
}

static int write_tiled_tiff(const char *path, uint32_t w, uint32_t h, uint32_t tile, int nlevels, hs_fix_pattern p)
{
    return write_pyramid(path, w, h, tile, nlevels, p, &DEFLATE_RGB);
}

/* Alpha: a transparent block, a half-transparent block, opaque elsewhere. */
static uint8_t some_alpha(uint32_t x, uint32_t y)
{
    if (x < 10 && y < 10)
        return 0;
    if (x >= 20 && x < 30 && y < 10)
        return 128;
    return 255;
}

/* Reads the whole of level 0 and counts pixels (bytes) that differ from p and, for alpha, the rule above. */
static long check_pixels(hs_slide *s, hs_fix_pattern p, int grey, alpha_fn alpha, int tol)
{
    const hs_slide_info *in = hs_slide_get_info(s);
    int w = (int)in->width, h = (int)in->height;
    uint8_t *rgb = malloc((size_t)w * h * 3), *valid = malloc((size_t)w * h);
    if (!rgb || !valid) {
        free(rgb);
        free(valid);
        return -1;
    }
    long bad = 0;
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 0, 0, w, h, rgb, valid, NULL), HS_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            uint8_t a = alpha ? alpha(x, y) : 255;
            bad += valid[i] != (a != 0);
            for (int c = 0; c < 3; c++) {
                int want = a == 0 ? 255 : p(x, y, grey ? 0 : c);
                int d = abs(rgb[3 * i + c] - want);
                /* 8-bit premultiplication loses up to 255/(2a) in the colour. */
                int allowed = a == 0 || a == 255 ? tol : tol + (255 + 2 * a - 1) / (2 * a) + 1;
                bad += d > allowed;
            }
        }
    free(rgb);
    free(valid);
    return bad;
}

/* ---- PNG ---- */

static void test_png_phys(void)
{
    char *path = hs_test_path(dir, "phys.png");
    CU_ASSERT_EQUAL_FATAL(write_png(path, 120, 80, 3, 8, hs_fix_noise, NULL, 2000000, 2500000), 0);
    hs_slide *s = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, &err), HS_OK);
    const hs_slide_info *in = hs_slide_get_info(s);
    CU_ASSERT_STRING_EQUAL(in->backend, "png");
    CU_ASSERT_STRING_EQUAL(in->vendor, "png");
    CU_ASSERT_STRING_EQUAL(in->mpp_source, "png-phys");
    CU_ASSERT_DOUBLE_EQUAL(in->mpp_x, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(in->mpp_y, 0.4, 1e-12);
    CU_ASSERT_EQUAL(in->width, 120);
    CU_ASSERT_EQUAL(in->height, 80);
    CU_ASSERT_EQUAL(in->nlevel, 1);
    CU_ASSERT_EQUAL(check_pixels(s, hs_fix_noise, 0, NULL, 0), 0);
    /* Partly outside. */
    uint8_t rgb[20 * 10 * 3], valid[20 * 10];
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 110, -5, 20, 10, rgb, valid, NULL), HS_OK);
    CU_ASSERT_EQUAL(valid[0], 0);                   /* (110, -5) */
    CU_ASSERT_EQUAL(valid[5 * 20 + 9], 1);          /* (119, 0) */
    CU_ASSERT_EQUAL(rgb[(5 * 20 + 9) * 3 + 1], hs_fix_noise(119, 0, 1));
    CU_ASSERT_EQUAL(valid[5 * 20 + 10], 0);         /* (120, 0) */
    CU_ASSERT_EQUAL(rgb[(5 * 20 + 10) * 3 + 2], 255);
    /* One level only. */
    CU_ASSERT_EQUAL(hs_slide_read(s, 1, 0, 0, 4, 4, rgb, valid, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, 2.0), 0);
    hs_slide_close(s);
    free(path);
}

static void test_png_plain(void)
{
    /* RGBA without pHYs: unknown pixel size, alpha 0 is white and invalid, other alpha keeps the colour. */
    char *path = hs_test_path(dir, "rgba.png");
    CU_ASSERT_EQUAL_FATAL(write_png(path, 64, 48, 4, 8, hs_fix_noise, some_alpha, 0, 0), 0);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    const hs_slide_info *in = hs_slide_get_info(s);
    CU_ASSERT(isnan(in->mpp_x) && isnan(in->mpp_y));
    CU_ASSERT_STRING_EQUAL(in->mpp_source, "none");
    /* Straight alpha in PNG: colour exact wherever alpha > 0. */
    const hs_slide_info *i2 = hs_slide_get_info(s);
    uint8_t *rgb = malloc((size_t)i2->width * i2->height * 3), *valid = malloc((size_t)i2->width * i2->height);
    CU_ASSERT_FATAL(rgb && valid);
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 0, 0, 64, 48, rgb, valid, NULL), HS_OK);
    long bad = 0;
    for (uint32_t y = 0; y < 48; y++)
        for (uint32_t x = 0; x < 64; x++) {
            size_t i = y * 64 + x;
            int a = some_alpha(x, y);
            bad += valid[i] != (a != 0);
            for (int c = 0; c < 3; c++)
                bad += rgb[3 * i + c] != (a ? hs_fix_noise(x, y, c) : 255);
        }
    CU_ASSERT_EQUAL(bad, 0);
    free(rgb);
    free(valid);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, 2.0), 0);
    hs_slide_close(s);
    free(path);

    /* Grey: the grey value in all three channels. */
    path = hs_test_path(dir, "grey.png");
    CU_ASSERT_EQUAL_FATAL(write_png(path, 33, 17, 1, 8, hs_fix_noise, NULL, 0, 0), 0);
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_EQUAL(check_pixels(s, hs_fix_noise, 1, NULL, 0), 0);
    hs_slide_close(s);
    free(path);
}

/* ---- plain TIFF ---- */

static void test_tiff_stripped(void)
{
    char *path = hs_test_path(dir, "strip.tif");
    CU_ASSERT_EQUAL_FATAL(write_stripped_tiff(path, 150, 100, hs_fix_noise, NULL, 20000, RESUNIT_CENTIMETER, NULL), 0);
    hs_slide *s = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, &err), HS_OK);
    const hs_slide_info *in = hs_slide_get_info(s);
    CU_ASSERT_STRING_EQUAL(in->backend, "tiff");
    CU_ASSERT_STRING_EQUAL(in->vendor, "tiff");
    CU_ASSERT_STRING_EQUAL(in->mpp_source, "tiff-resolution");
    CU_ASSERT_DOUBLE_EQUAL(in->mpp_x, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(in->mpp_y, 0.5, 1e-12);
    CU_ASSERT_EQUAL(in->width, 150);
    CU_ASSERT_EQUAL(in->height, 100);
    CU_ASSERT_EQUAL(in->nlevel, 1);
    int64_t w, h;
    double ds;
    CU_ASSERT_EQUAL(hs_slide_level(s, 0, &w, &h, &ds), HS_OK);
    CU_ASSERT(w == 150 && h == 100 && ds == 1);
    CU_ASSERT_EQUAL(hs_slide_level(s, 1, &w, &h, &ds), HS_EINVAL);
    CU_ASSERT_EQUAL(check_pixels(s, hs_fix_noise, 0, NULL, 0), 0);
    hs_slide_close(s);
    free(path);

    /* Inch unit: 50800 dpi is 0.5 um. */
    path = hs_test_path(dir, "inch.tif");
    CU_ASSERT_EQUAL_FATAL(write_stripped_tiff(path, 40, 30, hs_fix_noise, NULL, 50800, RESUNIT_INCH, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_x, 0.5, 1e-12);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->mpp_source, "tiff-resolution");
    hs_slide_close(s);
    free(path);

    /* 72 dpi is no microscope's: the description's MPP wins. */
    path = hs_test_path(dir, "desc.tif");
    CU_ASSERT_EQUAL_FATAL(
        write_stripped_tiff(path, 40, 30, hs_fix_noise, NULL, 72, RESUNIT_INCH, "scanner X|AppMag = 40|MPP = 0.25|"),
        0);
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_x, 0.25, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_y, 0.25, 1e-12);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->mpp_source, "description");
    hs_slide_close(s);
    free(path);

    /* Unassociated alpha: transparent pixels invalid, the rest un-premultiplied back. */
    path = hs_test_path(dir, "alpha.tif");
    CU_ASSERT_EQUAL_FATAL(write_stripped_tiff(path, 50, 20, hs_fix_noise, some_alpha, 0, 0, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->mpp_source, "none");
    CU_ASSERT_EQUAL(check_pixels(s, hs_fix_noise, 0, some_alpha, 0), 0);
    hs_slide_close(s);
    free(path);
}

static void test_tiles_larger_than_level(void)
{
    /*
     * OpenSlide 3.4.1 with this libtiff scrambles non-JPEG tiles larger than
     * their level (slide.c): a one-level 200x150 TIFF with 256-pixel tiles is
     * decoded whole with libtiff instead, and the 300x200 level of a 600x400
     * pyramid with 256-pixel tiles is not offered (levels come from OpenSlide,
     * whichever backend decodes the pixels).
     */
    char *path = hs_test_path(dir, "smalltiled.tif");
    CU_ASSERT_EQUAL_FATAL(write_tiled_tiff(path, 200, 150, 256, 1, hs_fix_noise), 0);
    hs_slide *s = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->backend, "tiff");
    CU_ASSERT_EQUAL(hs_slide_get_info(s)->width, 200);
    CU_ASSERT_EQUAL(check_pixels(s, hs_fix_noise, 0, NULL, 0), 0);
    hs_slide_close(s);
    free(path);

    path = hs_test_path(dir, "thirdparty.tif");
    CU_ASSERT_EQUAL_FATAL(write_tiled_tiff(path, 600, 400, 256, 2, hs_fix_noise), 0);
    for (int os = 0; os < 2; os++) {
        CU_ASSERT_EQUAL_FATAL(
            hs_slide_open_backend(&s, path, 0, os ? HS_SLIDE_BACKEND_OPENSLIDE : HS_SLIDE_BACKEND_AUTO, &err), HS_OK);
        CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->backend, os ? "openslide" : "libtiff");
        CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->vendor, "generic-tiff");
        CU_ASSERT_EQUAL(hs_slide_get_info(s)->nlevel, 1);
        CU_ASSERT_EQUAL(check_pixels(s, hs_fix_noise, 0, NULL, 0), 0);
        hs_slide_close(s);
    }
    free(path);
}

/* ---- libtiff and OpenSlide read the same pixels ---- */

/*
 * Reads one region through two handles; adds the number of differing validity
 * flags to *bad and returns the largest difference of a channel (-1 when a
 * read failed).
 */
static int region_diff(hs_slide *a, hs_slide *b, int level, int64_t x, int64_t y, int w, int h, long *bad)
{
    size_t n = (size_t)w * h;
    uint8_t *ra = malloc(n * 3), *rb = malloc(n * 3), *va = malloc(n), *vb = malloc(n);
    int mx = -1;
    hs_error err;
    if (ra && rb && va && vb && hs_slide_read(a, level, x, y, w, h, ra, va, &err) == HS_OK &&
        hs_slide_read(b, level, x, y, w, h, rb, vb, &err) == HS_OK) {
        mx = 0;
        for (size_t i = 0; i < n; i++) {
            *bad += va[i] != vb[i];
            for (int c = 0; c < 3; c++) {
                int d = abs((int)ra[3 * i + c] - (int)rb[3 * i + c]);
                mx = d > mx ? d : mx;
            }
        }
    }
    free(ra);
    free(rb);
    free(va);
    free(vb);
    return mx;
}

/*
 * Opens path with both backends (the default must pick libtiff) and reads the
 * same regions of every level through each: the whole level, a block across
 * tile corners, blocks over the top-left and bottom-right edges, three pixels
 * around the centre, a block outside.  Levels must halve exactly, so that
 * OpenSlide lands on whole pixels.  Returns the largest channel difference
 * (-1 on failure); validity flags must agree everywhere.
 */
static int compare_backends(const char *path, const char *vendor, int tile)
{
    hs_slide *a = NULL, *b = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&a, path, 0, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_slide_open_backend(&b, path, 0, HS_SLIDE_BACKEND_OPENSLIDE, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(a)->backend, "libtiff");
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(b)->backend, "openslide");
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(a)->vendor, vendor);
    CU_ASSERT_EQUAL(hs_slide_get_info(a)->nlevel, hs_slide_get_info(b)->nlevel);
    int mx = 0;
    long bad = 0;
    for (int l = 0; l < hs_slide_get_info(a)->nlevel; l++) {
        int64_t lw, lh;
        double ds;
        CU_ASSERT_EQUAL_FATAL(hs_slide_level(a, l, &lw, &lh, &ds), HS_OK);
        CU_ASSERT_DOUBLE_EQUAL(ds, (double)(1 << l), 1e-12);
        struct { int64_t x, y; int w, h; } q[] = {
            {0, 0, (int)lw, (int)lh}, {tile - 3, tile - 5, 2 * tile + 7, tile + 9}, {-37, -20, 150, 100},
            {lw - 90, lh - 70, 200, 150}, {lw / 2 - 1, lh / 2 - 1, 3, 3}, {lw + 5, 0, 10, 10},
        };
        for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
            int d = region_diff(a, b, l, q[k].x, q[k].y, q[k].w, q[k].h, &bad);
            CU_ASSERT(d >= 0);
            mx = d < 0 || mx < 0 ? -1 : d > mx ? d : mx;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    hs_slide_close(a);
    hs_slide_close(b);
    return mx;
}

static void test_backends_agree(void)
{
    /*
     * tiffwriter slides, 1000 x 600 with 128-pixel tiles (partial edge tiles),
     * levels 500x300 and 250x150.  Lossless: identical.  JPEG: both decode the
     * same stream with libjpeg-turbo (fancy upsampling, islow IDCT), so at most
     * rounding apart; seen: 0 for 4:2:0 and 4:4:4.
     */
    static const struct { hs_tiff_compression comp; int chroma; const char *name; int tol; } c[] = {
        {HS_TIFF_JPEG, 2, "agree420.tif", 1}, {HS_TIFF_JPEG, 1, "agree444.tif", 1},
        {HS_TIFF_DEFLATE, 2, "agreezip.tif", 0}, {HS_TIFF_LZW, 2, "agreelzw.tif", 0},
        {HS_TIFF_NONE, 2, "agreeraw.tif", 0},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        char *path = hs_test_path(dir, c[k].name);
        CU_ASSERT_EQUAL_FATAL(
            hs_fix_write_slide_chroma(path, 1000, 600, 128, 3, c[k].comp, 90, c[k].chroma, 0.5, hs_fix_noise), HS_OK);
        int d = compare_backends(path, "generic-tiff", 128);
        CU_ASSERT(d >= 0 && d <= c[k].tol);
        free(path);
    }
}

/* A minimal Aperio description: OpenSlide takes a tiled TIFF whose first description starts with "Aperio". */
#define APERIO_DESC \
    "Aperio Image Library vTEST\r\n1024x768 [0,0 1024x768] (128x128) JPEG/RGB Q=90|AppMag = 20|MPP = 0.5"

static void test_aperio(void)
{
    /*
     * Aperio's own JPEG flavour keeps RGB in the stream (photometric RGB, no
     * colour transform); also YCbCr, and Deflate.  Three levels of 1024x768,
     * 512x384, 256x192 with 128-pixel tiles.
     */
    static const layout kinds[] = {
        {COMPRESSION_JPEG, PHOTOMETRIC_RGB, 0, APERIO_DESC, -1, 0},
        {COMPRESSION_JPEG, PHOTOMETRIC_YCBCR, 0, APERIO_DESC, -1, 0},
        {COMPRESSION_ADOBE_DEFLATE, PHOTOMETRIC_RGB, 0, APERIO_DESC, -1, 0},
    };
    char *path = hs_test_path(dir, "aperio.svs");
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        CU_ASSERT_EQUAL_FATAL(write_pyramid(path, 1024, 768, 128, 3, hs_fix_noise, &kinds[k]), 0);
        int d = compare_backends(path, "aperio", 128);
        CU_ASSERT(d >= 0 && d <= (kinds[k].comp == COMPRESSION_JPEG ? 1 : 0));
    }
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->mpp_source, "openslide");
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_x, 0.5, 1e-12);
    hs_slide_close(s);

    /*
     * OpenSlide draws a missing tile of a lower level from the level above,
     * and takes the tiles under a missing one for missing too: slides with
     * missing tiles stay with OpenSlide.
     */
    for (int l = 0; l < 2; l++) {
        layout hole = kinds[0];
        hole.hole_level = l;
        hole.hole_tile = 1;
        CU_ASSERT_EQUAL_FATAL(write_pyramid(path, 1024, 768, 128, 3, hs_fix_noise, &hole), 0);
        CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
        CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->backend, "openslide");
        CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->vendor, "aperio");
        hs_slide_close(s);
    }
    free(path);
}

static void test_missing_tile(void)
{
    /* generic-tiff, tile 4 (column 0, row 1) of level 0 never written: white and invalid, the rest exact. */
    layout o = DEFLATE_RGB;
    o.hole_level = 0;
    o.hole_tile = 4;
    char *path = hs_test_path(dir, "hole.tif");
    CU_ASSERT_EQUAL_FATAL(write_pyramid(path, 400, 300, 128, 1, hs_fix_noise, &o), 0);
    hs_slide *s = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->backend, "libtiff");
    uint8_t *rgb = malloc(400 * 300 * 3), *valid = malloc(400 * 300);
    CU_ASSERT_FATAL(rgb && valid);
    hs_fix_stderr_begin();
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 0, 0, 400, 300, rgb, valid, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_fix_stderr_end(), 0);
    long bad = 0;
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 400; x++) {
            size_t i = (size_t)y * 400 + x;
            int hole = x < 128 && y >= 128 && y < 256;
            bad += valid[i] != !hole;
            for (int c = 0; c < 3; c++)
                bad += rgb[3 * i + c] != (hole ? 255 : hs_fix_noise(x, y, c));
        }
    CU_ASSERT_EQUAL(bad, 0);
    free(rgb);
    free(valid);
    hs_slide_close(s);
    free(path);
}

static void test_left_to_openslide(void)
{
    /* Layouts the libtiff backend does not take: RGBA tiles; OpenSlide still reads them. */
    layout o = DEFLATE_RGB;
    o.alpha = 1;
    char *path = hs_test_path(dir, "rgba.tif");
    CU_ASSERT_EQUAL_FATAL(write_pyramid(path, 256, 256, 128, 1, hs_fix_noise, &o), 0);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->backend, "openslide");
    CU_ASSERT_EQUAL(check_pixels(s, hs_fix_noise, 0, NULL, 0), 0);
    hs_slide_close(s);
    free(path);
}

static void test_tile_cache(void)
{
    /* 2560 x 2560 JPEG with 256-pixel tiles: 10 x 10 tiles of 192 KiB, 19.7 MB decoded, more than the cache. */
    char *path = hs_test_path(dir, "cache.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 2560, 2560, 256, 1, HS_TIFF_JPEG, 80, 0.5, hs_fix_smooth), HS_OK);
    hs_slide *s = NULL;
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, &err), HS_OK);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->backend, "libtiff");
    size_t side = 2560;
    uint8_t *rgb = malloc(side * side * 3);
    CU_ASSERT_FATAL(rgb != NULL);

    /* Columns 0-2, rows 0-2; then columns 1-3: only column 3 is new; then nothing is. */
    uint64_t d0 = hs_slide_tiles_decoded(s);
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 0, 0, 600, 600, rgb, NULL, &err), HS_OK);
    uint64_t d1 = hs_slide_tiles_decoded(s);
    CU_ASSERT(d1 - d0 == 9 || d1 - d0 == 8); /* tile 0 may be cached since open */
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 400, 0, 600, 600, rgb, NULL, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_slide_tiles_decoded(s) - d1, 3);
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 420, 10, 500, 500, rgb, NULL, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_slide_tiles_decoded(s) - d1, 3);

    /*
     * The scorer's pattern: 1024-pixel regions with 100-pixel margins in
     * raster order.  Region rows cover tile rows 0-4, 3-8, 7-9: at most
     * (5 + 6 + 3) * 10 = 140 decodes, where reading each region afresh would
     * take 9 * 5 + 9 * 6 + 9 * 3 ... = 210.
     */
    uint64_t d2 = hs_slide_tiles_decoded(s);
    for (int64_t y0 = 0; y0 < 2560; y0 += 1024)
        for (int64_t x0 = 0; x0 < 2560; x0 += 1024)
            CU_ASSERT_EQUAL(hs_slide_read(s, 0, x0 - 100, y0 - 100, 1224, 1224, rgb, NULL, &err), HS_OK);
    CU_ASSERT(hs_slide_tiles_decoded(s) - d2 <= 140);

    /* The whole level at once: 100 tiles pass through a cache that holds 16 MB at most. */
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 0, 0, (int)side, (int)side, rgb, NULL, &err), HS_OK);
    CU_ASSERT(hs_slide_cache_bytes(s) > 0);
    CU_ASSERT(hs_slide_cache_bytes(s) <= (size_t)16 << 20);
    /* ... and the pixels are still right (JPEG quality 80 on smooth gradients: a few grey levels). */
    long far = 0;
    for (size_t i = 0; i < side * side; i += 997)
        for (int c = 0; c < 3; c++)
            far += abs(rgb[3 * i + c] - hs_fix_smooth((uint32_t)(i % side), (uint32_t)(i / side), c)) > 12;
    CU_ASSERT_EQUAL(far, 0);
    free(rgb);
    hs_slide_close(s);
    free(path);
}

/* ---- pixel size override ---- */

static void test_override(void)
{
    char *path = hs_test_path(dir, "ovr.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 256, 256, 64, 2, HS_TIFF_DEFLATE, 0, 0.5, hs_fix_noise), HS_OK);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0.3, NULL), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_x, 0.3, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_y, 0.3, 1e-15);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->mpp_source, "override");
    hs_slide_close(s);
    /* 0 or a negative value means no override. */
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, -1, NULL), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_x, 0.5, 1e-12);
    hs_slide_close(s);
    hs_error err;
    CU_ASSERT_EQUAL(hs_slide_open(&s, path, NAN, &err), HS_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    free(path);

    path = hs_test_path(dir, "ovr.png");
    CU_ASSERT_EQUAL_FATAL(write_png(path, 8, 8, 3, 8, hs_fix_noise, NULL, 2000000, 2000000), 0);
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0.7, NULL), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_x, 0.7, 1e-15);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->mpp_source, "override");
    hs_slide_close(s);
    free(path);

    path = hs_test_path(dir, "ovr2.tif");
    CU_ASSERT_EQUAL_FATAL(write_stripped_tiff(path, 8, 8, hs_fix_noise, NULL, 20000, RESUNIT_CENTIMETER, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 1.25, NULL), HS_OK);
    CU_ASSERT_DOUBLE_EQUAL(hs_slide_get_info(s)->mpp_y, 1.25, 1e-15);
    CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->mpp_source, "override");
    hs_slide_close(s);
    free(path);
}

static void test_best_level(void)
{
    /* 1024^2, 4 levels at 0.5, 1, 2, 4 um. */
    char *path = hs_test_path(dir, "best.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 1024, 1024, 256, 4, HS_TIFF_JPEG, 70, 0.5, hs_fix_smooth), HS_OK);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, 0.5), 0);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, 0.1), 0);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, 0.9), 1);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, 1.9), 2);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, 100), 3);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, NAN), 0);
    CU_ASSERT_EQUAL(hs_slide_best_level(s, -1), 0);
    CU_ASSERT_EQUAL(hs_slide_best_level(NULL, 1), 0);
    hs_slide_close(s);
    free(path);
}

/* ---- bad files ---- */

/* Opens path expecting failure with code; checks the message names the file and that nothing was printed. */
static void expect_open_failure(const char *path, int code, const char *needle)
{
    hs_slide *s = (hs_slide *)&s;
    hs_error err;
    hs_error_clear(&err);
    hs_fix_stderr_begin();
    int rc = hs_slide_open(&s, path, 0, &err);
    long printed = hs_fix_stderr_end();
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(err.code, code);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(strstr(err.msg, path) != NULL);
    if (needle)
        CU_ASSERT(strstr(err.msg, needle) != NULL);
    CU_ASSERT_EQUAL(printed, 0);
    if (rc == HS_OK)
        hs_slide_close(s);
}

static void test_missing_empty_text(void)
{
    char *path = hs_test_path(dir, "nope.svs");
    expect_open_failure(path, HS_EIO, "No such file");
    free(path);
    expect_open_failure(dir, HS_EIO, "directory");
    path = hs_test_write(dir, "empty.tif", "", 0);
    CU_ASSERT_FATAL(path != NULL);
    expect_open_failure(path, HS_EFORMAT, "empty");
    free(path);
    path = hs_test_write(dir, "notes.svs", "This is not a slide.\nJust text.\n", HS_TEST_STRLEN);
    CU_ASSERT_FATAL(path != NULL);
    expect_open_failure(path, HS_EFORMAT, "not a slide image");
    free(path);
    path = hs_test_write(dir, "fake.png", "\x89PNG\r\n\x1a\n garbage after a PNG signature", HS_TEST_STRLEN);
    expect_open_failure(path, HS_EFORMAT, "PNG");
    free(path);
    path = hs_test_write(dir, "fake.tif", "II*\0\x08\0\0\0garbage", 15);
    expect_open_failure(path, HS_EFORMAT, NULL);
    free(path);

    hs_slide *s = NULL;
    CU_ASSERT_EQUAL(hs_slide_open(&s, NULL, 0, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_open(NULL, "x", 0, NULL), HS_EINVAL);
    hs_slide_close(NULL);
    CU_ASSERT_PTR_NULL(hs_slide_get_info(NULL));
    CU_ASSERT_EQUAL(hs_slide_level(NULL, 0, NULL, NULL, NULL), HS_EINVAL);
}

/* Opens path and, if that works, reads every level whole; some step must fail with HS_EFORMAT. */
static void expect_open_or_read_failure(const char *path)
{
    hs_slide *s = NULL;
    hs_error err;
    hs_error_clear(&err);
    hs_fix_stderr_begin();
    int rc = hs_slide_open(&s, path, 0, &err);
    for (int l = 0; rc == HS_OK && l < hs_slide_get_info(s)->nlevel; l++) {
        int64_t w, h;
        CU_ASSERT_EQUAL(hs_slide_level(s, l, &w, &h, NULL), HS_OK);
        uint8_t *rgb = malloc((size_t)w * h * 3);
        CU_ASSERT_FATAL(rgb != NULL);
        rc = hs_slide_read(s, l, 0, 0, (int)w, (int)h, rgb, NULL, &err);
        free(rgb);
    }
    long printed = hs_fix_stderr_end();
    CU_ASSERT_EQUAL(rc, HS_EFORMAT);
    CU_ASSERT(strstr(err.msg, path) != NULL);
    CU_ASSERT_EQUAL(printed, 0);
    hs_slide_close(s);
}

static int copy_prefix(const char *from, const char *to, long long n)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    int rc = a && b ? 0 : -1;
    for (long long i = 0; rc == 0 && i < n; i++) {
        int c = getc(a);
        if (c == EOF || putc(c, b) == EOF)
            rc = -1;
    }
    if (a)
        fclose(a);
    if (b && fclose(b) != 0)
        rc = -1;
    return rc;
}

static void test_truncated(void)
{
    char *path = hs_test_path(dir, "whole.tif"), *cut = hs_test_path(dir, "cut.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 1024, 768, 256, 3, HS_TIFF_DEFLATE, 0, 0.5, hs_fix_noise), HS_OK);
    long long size = hs_fix_file_size(path);
    CU_ASSERT_FATAL(size > 1000);
    /* Half: the first directory is lost. */
    CU_ASSERT_EQUAL_FATAL(copy_prefix(path, cut, size / 2), 0);
    expect_open_failure(cut, HS_EFORMAT, NULL);
    /* Other cuts: tile data or later directories missing.  Open or read must fail, never crash. */
    long long at[] = {8, 100, size / 4, 3 * size / 4, 9 * size / 10, size - 200, size - 1};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        CU_ASSERT_EQUAL_FATAL(copy_prefix(path, cut, at[k]), 0);
        expect_open_or_read_failure(cut);
    }
    free(cut);

    /* The same for JPEG slides, plain TIFF and PNG. */
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 1024, 768, 256, 3, HS_TIFF_JPEG, 80, 0.5, hs_fix_smooth), HS_OK);
    size = hs_fix_file_size(path);
    cut = hs_test_path(dir, "cutj.tif");
    CU_ASSERT_EQUAL_FATAL(copy_prefix(path, cut, size / 2), 0);
    expect_open_or_read_failure(cut);
    free(cut);
    CU_ASSERT_EQUAL_FATAL(write_stripped_tiff(path, 300, 200, hs_fix_noise, NULL, 0, 0, NULL), 0);
    cut = hs_test_path(dir, "cuts.tif");
    CU_ASSERT_EQUAL_FATAL(copy_prefix(path, cut, hs_fix_file_size(path) / 2), 0);
    expect_open_or_read_failure(cut);
    free(cut);
    free(path);
    path = hs_test_path(dir, "whole.png");
    CU_ASSERT_EQUAL_FATAL(write_png(path, 300, 200, 3, 8, hs_fix_noise, NULL, 0, 0), 0);
    cut = hs_test_path(dir, "cut.png");
    CU_ASSERT_EQUAL_FATAL(copy_prefix(path, cut, hs_fix_file_size(path) / 2), 0);
    expect_open_failure(cut, HS_EFORMAT, "PNG");
    free(cut);
    free(path);
}

/* The offset and size of tile `tile` of directory 0. */
static int tile_extent(const char *path, int tile, long long *off, long long *len)
{
    TIFF *t = TIFFOpen(path, "r");
    if (!t)
        return -1;
    uint64_t *offs = NULL, *lens = NULL;
    int ok = TIFFGetField(t, TIFFTAG_TILEOFFSETS, &offs) && TIFFGetField(t, TIFFTAG_TILEBYTECOUNTS, &lens);
    if (ok) {
        *off = (long long)offs[tile];
        *len = (long long)lens[tile];
    }
    TIFFClose(t);
    return ok ? 0 : -1;
}

static int overwrite(const char *path, long long off, const void *data, size_t n)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return -1;
    int rc = fseeko(f, off, SEEK_SET) == 0 && fwrite(data, 1, n, f) == n ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

static const unsigned char JUNK[64] = {
    11,  48,  85,  122, 159, 196, 233, 14,  51,  88,  125, 162, 199, 236, 17,  54,  91,  128, 165, 202, 239, 20,
    57,  94,  131, 168, 205, 242, 23,  60,  97,  134, 171, 208, 245, 26,  63,  100, 137, 174, 211, 248, 29,  66,
    103, 140, 177, 214, 251, 32,  69,  106, 143, 180, 217, 254, 35,  72,  109, 146, 183, 220, 1,   38,
};

static hs_slide_backend backend_of(int os)
{
    return os ? HS_SLIDE_BACKEND_OPENSLIDE : HS_SLIDE_BACKEND_AUTO;
}

static void test_corrupt_tile(void)
{
    /* Deflate tile (1, 1) of level 0 starts with junk. */
    char *path = hs_test_path(dir, "corrupt.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 512, 512, 128, 2, HS_TIFF_DEFLATE, 0, 0.5, hs_fix_noise), HS_OK);
    long long off = 0, len = 0;
    CU_ASSERT_EQUAL_FATAL(tile_extent(path, 5, &off, &len), 0); /* tile (1, 1) of level 0 */
    CU_ASSERT_EQUAL_FATAL(overwrite(path, off, JUNK, sizeof JUNK), 0);
    uint8_t *rgb = malloc(128 * 128 * 3);
    CU_ASSERT_FATAL(rgb != NULL);
    for (int os = 0; os < 2; os++) {
        hs_slide *s = NULL;
        hs_error err, err2;
        CU_ASSERT_EQUAL_FATAL(hs_slide_open_backend(&s, path, 0, backend_of(os), &err), HS_OK);
        CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->backend, os ? "openslide" : "libtiff");
        hs_fix_stderr_begin();
        int ok_rc = hs_slide_read(s, 0, 0, 0, 128, 128, rgb, NULL, &err);      /* tile (0, 0): intact */
        int bad_rc = hs_slide_read(s, 0, 130, 140, 100, 100, rgb, NULL, &err); /* inside tile (1, 1) */
        int after_rc = hs_slide_read(s, 1, 0, 0, 64, 64, rgb, NULL, &err2);    /* another level */
        int again_rc = hs_slide_read(s, 0, 200, 200, 8, 8, rgb, NULL, &err2);  /* tile (1, 1) again */
        long printed = hs_fix_stderr_end();
        CU_ASSERT_EQUAL(ok_rc, HS_OK);
        CU_ASSERT_EQUAL(bad_rc, HS_EFORMAT);
        CU_ASSERT(strstr(err.msg, path) != NULL);
        CU_ASSERT_EQUAL(again_rc, HS_EFORMAT);
        CU_ASSERT_EQUAL(printed, 0);
        if (os) {
            CU_ASSERT_EQUAL(after_rc, HS_EFORMAT); /* OpenSlide's errors are sticky */
        } else {
            /* libtiff: the message names level and tile; other tiles still read. */
            CU_ASSERT(strstr(err.msg, "level 0, tile 5 (column 1, row 1") != NULL);
            CU_ASSERT(strstr(err.msg, "libtiff: ") != NULL);
            CU_ASSERT_EQUAL(after_rc, HS_OK);
        }
        hs_slide_close(s);
    }

    /* A JPEG tile whose header is overwritten. */
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 512, 512, 128, 2, HS_TIFF_JPEG, 80, 0.5, hs_fix_smooth), HS_OK);
    CU_ASSERT_EQUAL_FATAL(tile_extent(path, 5, &off, &len), 0);
    CU_ASSERT_EQUAL_FATAL(overwrite(path, off, JUNK, sizeof JUNK), 0);
    for (int os = 0; os < 2; os++) {
        hs_slide *s = NULL;
        hs_error err;
        CU_ASSERT_EQUAL_FATAL(hs_slide_open_backend(&s, path, 0, backend_of(os), &err), HS_OK);
        hs_fix_stderr_begin();
        int bad_rc = hs_slide_read(s, 0, 128, 128, 128, 128, rgb, NULL, &err);
        long printed = hs_fix_stderr_end();
        CU_ASSERT_EQUAL(bad_rc, HS_EFORMAT);
        CU_ASSERT(strstr(err.msg, path) != NULL);
        CU_ASSERT(os || strstr(err.msg, "level 0, tile 5 ") != NULL);
        CU_ASSERT_EQUAL(printed, 0);
        hs_slide_close(s);
    }
    free(rgb);
    free(path);
}

/*
 * Damage libjpeg and zlib report as warnings, or only at the end of a tile:
 * a marker in the middle of a JPEG tile's entropy-coded data (libjpeg:
 * "Corrupt JPEG data: premature end of data segment", and it carries on with
 * grey), junk in the middle of a Deflate tile.  Reads must fail, not return
 * the damaged pixels.
 */
static void test_corrupt_middle(void)
{
    char *path = hs_test_path(dir, "middle.tif");
    static const unsigned char eoi[2] = {0xFF, 0xD9};
    uint8_t *rgb = malloc(128 * 128 * 3);
    CU_ASSERT_FATAL(rgb != NULL);
    for (int k = 0; k < 2; k++) {
        hs_tiff_compression comp = k == 0 ? HS_TIFF_JPEG : HS_TIFF_DEFLATE;
        CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 512, 512, 128, 1, comp, 90, 0.5, hs_fix_noise), HS_OK);
        long long off = 0, len = 0;
        CU_ASSERT_EQUAL_FATAL(tile_extent(path, 6, &off, &len), 0); /* tile (2, 1) */
        CU_ASSERT_FATAL(len > 1000);
        const unsigned char *bytes = k == 0 ? eoi : JUNK;
        CU_ASSERT_EQUAL_FATAL(overwrite(path, off + len / 2, bytes, k == 0 ? sizeof eoi : sizeof JUNK), 0);
        for (int os = 0; os < 2; os++) {
            hs_slide *s = NULL;
            hs_error err;
            CU_ASSERT_EQUAL_FATAL(hs_slide_open_backend(&s, path, 0, backend_of(os), &err), HS_OK);
            CU_ASSERT_STRING_EQUAL(hs_slide_get_info(s)->backend, os ? "openslide" : "libtiff");
            hs_fix_stderr_begin();
            int rc = hs_slide_read(s, 0, 256, 128, 128, 128, rgb, NULL, &err);
            long printed = hs_fix_stderr_end();
            CU_ASSERT_EQUAL(rc, HS_EFORMAT);
            CU_ASSERT(strstr(err.msg, path) != NULL);
            CU_ASSERT(os || strstr(err.msg, "level 0, tile 6 (column 2, row 1") != NULL);
            if (k == 0)
                CU_ASSERT(strstr(err.msg, "Corrupt JPEG data") != NULL);
            CU_ASSERT_EQUAL(printed, 0);
            hs_slide_close(s);
        }
    }
    free(rgb);
    free(path);
}

/* ---- numbers a TIFF states, checked ---- */

static void format_msg(char *buf, size_t n, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hs_tiffmsg_format(buf, n, module, fmt, ap);
    va_end(ap);
}

static int quiet_tiff(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

/* Sets one SHORT/LONG field of directory 0 of path (rewriting the directory), as a broken writer would. */
static int set_field(const char *path, uint32_t tag, uint32_t value)
{
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(o, quiet_tiff, NULL);
    TIFFOpenOptionsSetWarningHandlerExtR(o, quiet_tiff, NULL);
    TIFF *t = TIFFOpenExt(path, "r+", o);
    TIFFOpenOptionsFree(o);
    if (!t)
        return -1;
    const TIFFField *f = TIFFFieldWithTag(t, tag);
    int ok = f && (TIFFFieldDataType(f) == TIFF_SHORT ? TIFFSetField(t, tag, (uint16_t)value)
                                                      : TIFFSetField(t, tag, value));
    ok = ok && TIFFRewriteDirectory(t);
    TIFFClose(t);
    return ok ? 0 : -1;
}

/*
 * Overwrites the inline value of a SHORT/LONG tag in the first directory of a
 * classic little-endian TIFF (what libtiff writes here): for values libtiff
 * refuses to write (a tile width that is not a multiple of 16).
 */
static int patch_tag(const char *path, uint16_t tag, uint32_t value)
{
    FILE *f = fopen(path, "r+b");
    uint8_t b[12];
    int rc = -1;
    if (!f)
        return -1;
    if (fread(b, 1, 8, f) == 8 && b[0] == 'I' && b[2] == 42) {
        long ifd = (long)(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24);
        uint8_t c[2];
        if (fseek(f, ifd, SEEK_SET) == 0 && fread(c, 1, 2, f) == 2) {
            for (int i = 0; i < (c[0] | c[1] << 8) && rc != 0; i++) {
                if (fread(b, 1, 12, f) != 12)
                    break;
                if ((b[0] | b[1] << 8) != tag)
                    continue;
                int type = b[2] | b[3] << 8;
                uint8_t v[4] = {(uint8_t)value, (uint8_t)(value >> 8), type == 3 ? 0 : (uint8_t)(value >> 16),
                                type == 3 ? 0 : (uint8_t)(value >> 24)};
                if (fseek(f, ifd + 2 + 12L * i + 8, SEEK_SET) == 0 && fwrite(v, 1, 4, f) == 4)
                    rc = 0;
            }
        }
    }
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static void test_implausible_fields(void)
{
    /*
     * One field of a good 512x512 slide (128-pixel Deflate tiles, 2 levels)
     * changed at a time: the open fails with the field named, never a quiet
     * open with wrong pixels (WhiteIsZero once read as 98% 3+).
     */
    static const struct {
        uint32_t tag, value;
        const char *needle;
    } cases[] = {
        {TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE,
         "TIFF directory 0: Photometric is WhiteIsZero (0); an RGB brightfield slide needs RGB (2) or YCbCr (6)"},
        {TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_SEPARATED, "Photometric is Separated (CMYK) (5)"},
        {TIFFTAG_TILEWIDTH, 100, "TIFF directory 0: TileWidth 100 is not plausible: the TIFF specification asks "
                                 "for a multiple of 16"},
        {TIFFTAG_TILELENGTH, 120, "TileLength 120 is not plausible"},
        {TIFFTAG_IMAGEWIDTH, 1,
         "TIFF directory 0: TileOffsets has 16 entries, but ImageWidth 1 x ImageLength 512 in 128 x 128 tiles "
         "needs 4"},
        {TIFFTAG_IMAGELENGTH, 5000, "TileOffsets has 16 entries, but ImageWidth 512 x ImageLength 5000"},
        {TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP, "SampleFormat 3 is not plausible"},
        {TIFFTAG_PLANARCONFIG, PLANARCONFIG_SEPARATE, "TileOffsets has 16 entries"},
    };
    char *good = hs_test_path(dir, "vet_good.tif"), *bad = hs_test_path(dir, "vet_bad.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(good, 512, 512, 128, 2, HS_TIFF_DEFLATE, 0, 0.5, hs_fix_noise), HS_OK);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, good, 0, NULL), HS_OK);
    hs_slide_close(s);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        CU_ASSERT_EQUAL_FATAL(copy_prefix(good, bad, hs_fix_file_size(good)), 0);
        int tile = cases[k].tag == TIFFTAG_TILEWIDTH || cases[k].tag == TIFFTAG_TILELENGTH;
        CU_ASSERT_EQUAL_FATAL(tile ? patch_tag(bad, (uint16_t)cases[k].tag, cases[k].value)
                                   : set_field(bad, cases[k].tag, cases[k].value),
                              0);
        expect_open_failure(bad, HS_EFORMAT, cases[k].needle);
    }
    /* Truncated: said so, with the sizes. */
    CU_ASSERT_EQUAL_FATAL(copy_prefix(good, bad, 5000), 0);
    expect_open_failure(bad, HS_EFORMAT, "the file is truncated: it has 5000 bytes, but TIFF directory 0 starts at byte");
    CU_ASSERT_EQUAL_FATAL(copy_prefix(good, bad, 6), 0);
    expect_open_failure(bad, HS_EFORMAT, "the file is truncated: it has 6 bytes, less than a TIFF header (8 bytes)");
    /* A plain (stripped) TIFF in WhiteIsZero: the same rule. */
    CU_ASSERT_EQUAL_FATAL(write_stripped_tiff(good, 64, 48, hs_fix_noise, NULL, 0, 0, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(set_field(good, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE), 0);
    expect_open_failure(good, HS_EFORMAT, "Photometric is WhiteIsZero (0)");
    /* ... with RowsPerStrip that contradicts its strip count. */
    CU_ASSERT_EQUAL_FATAL(write_stripped_tiff(good, 64, 48, hs_fix_noise, NULL, 0, 0, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(set_field(good, TIFFTAG_ROWSPERSTRIP, 4), 0);
    expect_open_failure(good, HS_EFORMAT,
                        "TIFF directory 0: StripOffsets has 3 entries, but ImageLength 48 in strips of 4 rows "
                        "(RowsPerStrip) needs 12");
    free(good);
    free(bad);
}

static void test_tag_names_and_escapes(void)
{
    CU_ASSERT_STRING_EQUAL(hs_tifflayout_tag_name(262), "Photometric");
    CU_ASSERT_STRING_EQUAL(hs_tifflayout_tag_name(322), "TileWidth");
    CU_ASSERT_PTR_NULL(hs_tifflayout_tag_name(65000));
    /* libtiff's messages are kept on one line, control bytes from the file escaped. */
    char buf[64] = "";
    format_msg(buf, sizeof buf, "Mod", "bad name \"%s\"\n", "a\x1b[31mb\tc");
    CU_ASSERT_STRING_EQUAL(buf, "Mod: bad name \"a\\x1B[31mb\\tc\"");
}

static void test_too_large(void)
{
    /* 16400^2 = 268,960,000 pixels > 2^28: refused before decoding, with a way out. */
    char *path = hs_test_path(dir, "huge.png");
    CU_ASSERT_EQUAL_FATAL(write_png(path, 16400, 16400, 1, 1, hs_fix_noise, NULL, 0, 0), 0);
    expect_open_failure(path, HS_EFORMAT, "tiled pyramidal TIFF");
    free(path);
}

static void test_bad_read_arguments(void)
{
    char *path = hs_test_path(dir, "args.tif");
    CU_ASSERT_EQUAL_FATAL(hs_fix_write_slide(path, 64, 64, 32, 2, HS_TIFF_NONE, 0, 0.5, hs_fix_noise), HS_OK);
    hs_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&s, path, 0, NULL), HS_OK);
    uint8_t rgb[12], valid[4];
    hs_error err;
    CU_ASSERT_EQUAL(hs_slide_read(s, -1, 0, 0, 2, 2, rgb, valid, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_read(s, 2, 0, 0, 2, 2, rgb, valid, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 0, 0, 0, 2, rgb, valid, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 0, 0, 2, -1, rgb, valid, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_read(s, 0, 0, 0, 2, 2, NULL, valid, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_read(NULL, 0, 0, 0, 2, 2, rgb, valid, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_level(s, 2, NULL, NULL, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_slide_read(s, 1, 31, 31, 2, 2, rgb, valid, &err), HS_OK);
    CU_ASSERT(valid[0] == 1 && valid[1] == 0 && valid[2] == 0 && valid[3] == 0);
    hs_slide_close(s);
    free(path);
}

int hs_suite_slide(void)
{
    CU_pSuite s = CU_add_suite("slide", suite_init, suite_clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "PNG with pHYs", test_png_phys) ||
        !CU_add_test(s, "PNG without pHYs, alpha, grey", test_png_plain) ||
        !CU_add_test(s, "stripped TIFF, resolution units, description, alpha", test_tiff_stripped) ||
        !CU_add_test(s, "tiles larger than their level", test_tiles_larger_than_level) ||
        !CU_add_test(s, "libtiff and OpenSlide read the same pixels", test_backends_agree) ||
        !CU_add_test(s, "Aperio layouts, missing tiles", test_aperio) ||
        !CU_add_test(s, "missing tile of a generic TIFF", test_missing_tile) ||
        !CU_add_test(s, "layouts left to OpenSlide", test_left_to_openslide) ||
        !CU_add_test(s, "tile cache", test_tile_cache) ||
        !CU_add_test(s, "pixel size override", test_override) || !CU_add_test(s, "best level", test_best_level) ||
        !CU_add_test(s, "missing, empty and text files", test_missing_empty_text) ||
        !CU_add_test(s, "truncated files", test_truncated) || !CU_add_test(s, "corrupt tile data", test_corrupt_tile) ||
        !CU_add_test(s, "damage in the middle of a tile", test_corrupt_middle) ||
        !CU_add_test(s, "implausible TIFF fields named", test_implausible_fields) ||
        !CU_add_test(s, "TIFF tag names, escaped messages", test_tag_names_and_escapes) ||
        !CU_add_test(s, "plain image too large", test_too_large) ||
        !CU_add_test(s, "bad read arguments", test_bad_read_arguments))
        return 1;
    return 0;
}
