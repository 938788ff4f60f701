/*
 * tiffwriter: streaming writer of pyramidal tiled TIFF slides (see tiffwriter.h).
 *
 * libtiff writes one directory after another, so level 0 goes straight into
 * the output as its bands arrive, while every lower level is built on the fly
 * by 2x2 box averaging and parked as raw RGB rows in an unlinked temporary
 * file next to the output.  At close each lower level is read back band by
 * band and written as its own directory (FILETYPE_REDUCEDIMAGE).  Memory is a
 * handful of rows per level plus one band of tiles: O(width * tile).
 *
 * Level l has size ceil(w_{l-1} / 2) x ceil(h_{l-1} / 2); a pixel is the
 * rounded mean of the 2x2 (or, on an odd last row/column, 2x1 / 1x1) block
 * above it.  JPEG tiles are YCbCr with 2x2 chroma subsampling (4:2:0) unless
 * hs_tiffw_set_subsampling asks for none (4:4:4); OpenSlide 3.4.1 decodes both
 * exactly as libtiff does (tested).  Edge tiles are padded with white.  No DateTime, Software or other
 * run-dependent tag is written, so the same pixels give the same bytes.
 * BigTIFF is used when the tiles add up to more than 2 GiB uncompressed.
 *
 * Tile sizes work around two bugs of OpenSlide 3.4.1 on Debian 12's
 * security-patched libtiff 4.5.0, both in OpenSlide's non-JPEG path:
 *  - TIFFRGBAImageGet now clamps its raster to the image size, so a tile
 *    larger than its level comes back scrambled.  A level smaller than the
 *    requested tile gets a smaller one: the largest multiple of 16 that
 *    divides the requested side (so level-0 bands still cover whole rows of
 *    tiles) and fits in the level.  Levels under 16 pixels are refused.
 *  - Uncompressed tiles: libtiff keeps the raw buffer of a larger tile when
 *    OpenSlide moves to a directory with smaller tiles, then rejects the
 *    tile's byte count.  Uncompressed files use one tile size for all levels.
 */
#include "scoring/tiffwriter.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tiffio.h>

#include "scoring/tiffmsg_internal.h"
#include "util/hs_atomic.h"

#define MAX_LEVELS 32
#define BIGTIFF_THRESHOLD ((uint64_t)2 << 30) /* uncompressed bytes above which BigTIFF is used */

typedef struct wlevel {
    uint32_t w, h;    /* level size in pixels */
    uint32_t tile;    /* tile side: the requested one, or less for levels smaller than it */
    FILE *tmp;        /* levels >= 1: raw RGB rows, w*3 bytes each, unlinked */
    uint8_t *pend;    /* levels >= 1: an unpaired row of the level above */
    int has_pend;
    uint8_t *row;     /* levels >= 1: the row being produced */
    uint32_t rows;    /* rows produced so far */
} wlevel;

struct hs_tiffw {
    TIFF *tif;
    char *path;       /* the final name; the file is written as path.tmp until it is complete */
    char *tmp;
    uint32_t width, height, tile;
    int nlevels;
    hs_tiff_compression comp;
    int quality;
    int ycbcr;          /* JPEG chroma subsampling factor, both axes: 2 (4:2:0) or 1 (4:4:4) */
    double mpp;
    uint32_t rows_done; /* level-0 rows written */
    int failed;         /* a write failed: only abort or close (which fails) remain */
    uint8_t *tilebuf;   /* tile*tile*3 */
    uint8_t *band;      /* close: one band of a lower level, w_1*tile_1*3 */
    wlevel lv[MAX_LEVELS];
    char tiffmsg[512];  /* first libtiff error on this handle */
};

static int on_tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    hs_tiffmsg_format(user, sizeof ((hs_tiffw *)0)->tiffmsg, module, fmt, ap);
    return 1; /* handled: the process-wide handler is not called */
}

/* Fails with code, naming the file and, when libtiff said something, its reason; a system error (errno, which the
 * callers clear before the libtiff calls that write) first: "File too large" says more than libtiff's words. */
static int fail(hs_tiffw *w, hs_error *err, int code, const char *what)
{
    int e = errno;
    w->failed = 1;
    const char *why = w->tiffmsg[0] ? w->tiffmsg : hs_tiffmsg_get();
    if (e && why[0])
        return hs_error_set(err, code, "%s: %s: %s (libtiff: %s)", w->path, what, strerror(e), why);
    if (e)
        return hs_error_set(err, code, "%s: %s: %s", w->path, what, strerror(e));
    if (why[0])
        return hs_error_set(err, code, "%s: %s (libtiff: %s)", w->path, what, why);
    return hs_error_set(err, code, "%s: %s", w->path, what);
}

static void free_all(hs_tiffw *w)
{
    if (w->tif)
        TIFFClose(w->tif);
    for (int l = 0; l < MAX_LEVELS; l++) {
        if (w->lv[l].tmp)
            fclose(w->lv[l].tmp);
        free(w->lv[l].pend);
        free(w->lv[l].row);
    }
    free(w->tilebuf);
    free(w->band);
    free(w->path);
    free(w->tmp);
    free(w);
}

/* An anonymous scratch file in the output's folder (same file system, removed when closed). */
static FILE *scratch_file(const char *path)
{
    size_t n = strlen(path);
    char *tmpl = malloc(n + 16);
    if (!tmpl)
        return NULL;
    memcpy(tmpl, path, n);
    memcpy(tmpl + n, ".hs-tmp-XXXXXX", 15);
    int fd = mkstemp(tmpl);
    FILE *f = NULL;
    if (fd >= 0) {
        unlink(tmpl);
        f = fdopen(fd, "w+b");
        if (!f)
            close(fd);
    }
    free(tmpl);
    return f;
}

/* Shortest %g form of x that reads back exactly. */
static void format_double(char *buf, size_t n, double x)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* The tags of level l's directory. */
static int set_fields(hs_tiffw *w, int l)
{
    errno = 0; /* a failure's errno is then its own (fail()) */
    TIFF *t = w->tif;
    const wlevel *v = &w->lv[l];
    int ok = 1;
    ok &= TIFFSetField(t, TIFFTAG_SUBFILETYPE, (uint32_t)(l == 0 ? 0 : FILETYPE_REDUCEDIMAGE));
    ok &= TIFFSetField(t, TIFFTAG_IMAGEWIDTH, v->w);
    ok &= TIFFSetField(t, TIFFTAG_IMAGELENGTH, v->h);
    ok &= TIFFSetField(t, TIFFTAG_TILEWIDTH, v->tile);
    ok &= TIFFSetField(t, TIFFTAG_TILELENGTH, v->tile);
    ok &= TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    ok &= TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    ok &= TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    switch (w->comp) {
    case HS_TIFF_JPEG:
        ok &= TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
        ok &= TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
        ok &= TIFFSetField(t, TIFFTAG_YCBCRSUBSAMPLING, w->ycbcr, w->ycbcr);
        ok &= TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        ok &= TIFFSetField(t, TIFFTAG_JPEGQUALITY, w->quality);
        break;
    case HS_TIFF_DEFLATE:
    case HS_TIFF_LZW:
        ok &= TIFFSetField(t, TIFFTAG_COMPRESSION,
                           w->comp == HS_TIFF_DEFLATE ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_LZW);
        ok &= TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        ok &= TIFFSetField(t, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
        /* zlib level 1: five times faster than the default 6 for ~10% more bytes on noisy pixels. */
        if (w->comp == HS_TIFF_DEFLATE)
            ok &= TIFFSetField(t, TIFFTAG_ZIPQUALITY, 1);
        break;
    case HS_TIFF_NONE:
        ok &= TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
        ok &= TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        break;
    }
    /* Pixels per centimetre; a lower level's pixels are larger by its size ratio. */
    double res = 1e4 / w->mpp;
    ok &= TIFFSetField(t, TIFFTAG_XRESOLUTION, res * v->w / w->width);
    ok &= TIFFSetField(t, TIFFTAG_YRESOLUTION, res * v->h / w->height);
    ok &= TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
    if (l == 0) {
        /* Must not start with "Aperio", or OpenSlide would take it for an SVS file. */
        char num[40], desc[160];
        format_double(num, sizeof num, w->mpp);
        snprintf(desc, sizeof desc, "hetsurv synthetic slide %ux%u (%ux%u) |MPP = %s|", (unsigned)w->width,
                 (unsigned)w->height, (unsigned)v->tile, (unsigned)v->tile, num);
        ok &= TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, desc);
    }
    return ok ? 0 : -1;
}

/* Writes rows (<= its tile) rows of level l starting at row y0 (a multiple of its tile) as one row of tiles. */
static int write_tile_row(hs_tiffw *w, int l, const uint8_t *band, uint32_t rows, uint32_t y0)
{
    uint32_t ts = w->lv[l].tile, width = w->lv[l].w;
    size_t tile_bytes = (size_t)ts * ts * 3, line = (size_t)ts * 3;
    for (uint32_t x0 = 0; x0 < width; x0 += ts) {
        uint32_t cols = width - x0 < ts ? width - x0 : ts;
        for (uint32_t r = 0; r < ts; r++) {
            uint8_t *dst = w->tilebuf + r * line;
            if (r < rows) {
                memcpy(dst, band + ((size_t)r * width + x0) * 3, (size_t)cols * 3);
                if (cols < ts)
                    memset(dst + (size_t)cols * 3, 255, (size_t)(ts - cols) * 3);
            } else {
                memset(dst, 255, line);
            }
        }
        ttile_t idx = TIFFComputeTile(w->tif, x0, y0, 0, 0);
        if (TIFFWriteEncodedTile(w->tif, idx, w->tilebuf, (tmsize_t)tile_bytes) < 0)
            return -1;
    }
    return 0;
}

/*
 * Feeds row a of level l-1 (width lv[l-1].w) to level l; a == NULL flushes an
 * unpaired last row.  A finished row of level l goes to its scratch file and on
 * to level l+1.
 */
static int push_row(hs_tiffw *w, int l, const uint8_t *a)
{
    if (l >= w->nlevels)
        return 0;
    wlevel *v = &w->lv[l];
    uint32_t wp = w->lv[l - 1].w;
    const uint8_t *top, *bot;
    if (a && !v->has_pend) {
        memcpy(v->pend, a, (size_t)wp * 3);
        v->has_pend = 1;
        return 0;
    }
    if (!v->has_pend)
        return 0; /* flush with nothing pending */
    top = v->pend;
    bot = a; /* NULL: odd last row */
    for (size_t j = 0; j < v->w; j++) {
        size_t x = 2 * j;
        int two = x + 1 < wp;
        unsigned n = (1u + (unsigned)two) * (bot ? 2u : 1u);
        for (int c = 0; c < 3; c++) {
            unsigned s = top[x * 3 + c];
            if (two)
                s += top[(x + 1) * 3 + c];
            if (bot) {
                s += bot[x * 3 + c];
                if (two)
                    s += bot[(x + 1) * 3 + c];
            }
            v->row[j * 3 + c] = (uint8_t)((s + n / 2) / n);
        }
    }
    v->has_pend = 0;
    if (fwrite(v->row, 3, v->w, v->tmp) != v->w)
        return -1;
    v->rows++;
    return push_row(w, l + 1, v->row);
}

/* Uncompressed size of a level in whole tiles. */
static uint64_t tiled_bytes(const wlevel *v)
{
    uint64_t across = (v->w + (uint64_t)v->tile - 1) / v->tile, down = (v->h + (uint64_t)v->tile - 1) / v->tile;
    return across * down * v->tile * v->tile * 3;
}

/* Tile side for a level whose smaller side is `side` (>= 16): the largest multiple of 16 dividing tile, <= side. */
static uint32_t level_tile(uint32_t tile, uint32_t side)
{
    uint32_t t = tile;
    while (t > side || tile % t != 0)
        t -= 16;
    return t;
}

int hs_tiffw_open(hs_tiffw **out, const char *path, uint32_t width, uint32_t height, uint32_t tile, int nlevels,
                  hs_tiff_compression comp, int jpeg_quality, double mpp, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "hs_tiffw_open: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return hs_error_set(err, HS_EINVAL, "hs_tiffw_open: no output path");
    if (width == 0 || height == 0)
        return hs_error_set(err, HS_EINVAL, "%s: empty image (%ux%u)", path, (unsigned)width, (unsigned)height);
    if (tile == 0 || tile % 16 != 0 || tile > 65536)
        return hs_error_set(err, HS_EINVAL, "%s: tile size %u is not a positive multiple of 16", path,
                            (unsigned)tile);
    if (comp != HS_TIFF_DEFLATE && comp != HS_TIFF_JPEG && comp != HS_TIFF_LZW && comp != HS_TIFF_NONE)
        return hs_error_set(err, HS_EINVAL, "%s: unknown compression %d", path, (int)comp);
    if (comp == HS_TIFF_JPEG && (jpeg_quality < 1 || jpeg_quality > 100))
        return hs_error_set(err, HS_EINVAL, "%s: JPEG quality %d is not in 1..100", path, jpeg_quality);
    if (!(mpp > 0) || !isfinite(mpp))
        return hs_error_set(err, HS_EINVAL, "%s: pixel size %g is not positive", path, mpp);
    if (nlevels < 1 || nlevels > MAX_LEVELS)
        return hs_error_set(err, HS_EINVAL, "%s: %d pyramid levels (1..%d allowed)", path, nlevels, MAX_LEVELS);

    hs_tiffw *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path)) || !(w->tmp = hs_atomic_tmp_name(path))) {
        if (w)
            free(w->path);
        free(w);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    }
    w->width = width;
    w->height = height;
    w->tile = tile;
    w->nlevels = nlevels;
    w->comp = comp;
    w->quality = jpeg_quality;
    w->ycbcr = 2;
    w->mpp = mpp;

    /* Level sizes and tiles. */
    uint64_t raw = 0;
    for (int l = 0; l < nlevels; l++) {
        wlevel *v = &w->lv[l];
        if (l > 0) {
            const wlevel *p = &w->lv[l - 1];
            v->w = p->w / 2 + p->w % 2;
            v->h = p->h / 2 + p->h % 2;
        } else {
            v->w = width;
            v->h = height;
        }
        uint32_t side = v->w < v->h ? v->w : v->h;
        if (side < 16) {
            int rc = hs_error_set(err, HS_EINVAL,
                                  "%s: level %d would be %ux%u pixels, under the 16-pixel minimum tile (use fewer "
                                  "levels)",
                                  path, l, (unsigned)v->w, (unsigned)v->h);
            free_all(w);
            return rc;
        }
        v->tile = level_tile(tile, side);
        if (comp == HS_TIFF_NONE && l > 0 && v->tile < w->lv[0].tile) {
            /* One tile size for all levels (see the top of this file). */
            for (int k = 0; k < l; k++)
                w->lv[k].tile = v->tile;
            raw = 0;
            for (int k = 0; k < l; k++)
                raw += tiled_bytes(&w->lv[k]);
        }
        raw += tiled_bytes(v);
    }

    w->tilebuf = malloc((size_t)tile * tile * 3);
    if (!w->tilebuf) {
        free_all(w);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    }
    for (int l = 1; l < nlevels; l++) {
        wlevel *v = &w->lv[l];
        v->pend = malloc((size_t)w->lv[l - 1].w * 3);
        v->row = malloc((size_t)v->w * 3);
        if (!v->pend || !v->row) {
            free_all(w);
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        }
    }

    hs_tiffmsg_install();
    hs_tiffmsg_clear();
    errno = 0;
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) {
        free_all(w);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    }
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_tiff_error, w->tiffmsg);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, hs_tiffmsg_drop_warning, NULL);
    w->tif = TIFFOpenExt(w->tmp, raw > BIGTIFF_THRESHOLD ? "w8" : "w", opts);
    TIFFOpenOptionsFree(opts);
    if (!w->tif) {
        int e = errno;
        int rc = e ? hs_error_set(err, HS_EIO, "%s: cannot create: %s", path, strerror(e))
                   : hs_error_set(err, HS_EIO, "%s: cannot create (libtiff: %s)", path, w->tiffmsg);
        free_all(w);
        return rc;
    }
    for (int l = 1; l < nlevels; l++) {
        w->lv[l].tmp = scratch_file(path);
        if (!w->lv[l].tmp) {
            int rc = hs_error_set(err, HS_EIO, "%s: cannot create a scratch file beside it: %s", path,
                                  strerror(errno));
            hs_tiffw_abort(w);
            return rc;
        }
    }
    if (set_fields(w, 0) != 0) {
        int rc = fail(w, err, HS_EIO, "cannot set the TIFF tags");
        hs_tiffw_abort(w);
        return rc;
    }
    *out = w;
    return HS_OK;
}

int hs_tiffw_set_subsampling(hs_tiffw *w, hs_tiff_subsampling sub, hs_error *err)
{
    if (!w)
        return hs_error_set(err, HS_EINVAL, "hs_tiffw_set_subsampling: NULL writer");
    if (sub != HS_TIFF_YCBCR_420 && sub != HS_TIFF_YCBCR_444)
        return hs_error_set(err, HS_EINVAL, "%s: unknown chroma subsampling %d", w->path, (int)sub);
    if (w->failed || w->rows_done > 0)
        return hs_error_set(err, HS_EINVAL, "%s: the chroma subsampling must be set before the first band", w->path);
    w->ycbcr = sub == HS_TIFF_YCBCR_444 ? 1 : 2;
    /* Nothing is written yet: set the level-0 tags again, in their usual order. */
    if (w->comp == HS_TIFF_JPEG && set_fields(w, 0) != 0)
        return fail(w, err, HS_EIO, "cannot set the TIFF tags");
    return HS_OK;
}

int hs_tiffw_write_band(hs_tiffw *w, const uint8_t *rgb, uint32_t rows, hs_error *err)
{
    if (!w || !rgb)
        return hs_error_set(err, HS_EINVAL, "hs_tiffw_write_band: NULL argument");
    if (w->failed)
        return hs_error_set(err, HS_EINVAL, "%s: an earlier write failed", w->path);
    uint32_t left = w->height - w->rows_done;
    if (rows == 0 || rows > left || (rows != w->tile && rows != left)) {
        w->failed = 1;
        return hs_error_set(err, HS_EINVAL, "%s: band of %u rows at row %u (bands hold %u rows, %u rows left)",
                            w->path, (unsigned)rows, (unsigned)w->rows_done, (unsigned)w->tile, (unsigned)left);
    }
    size_t line = (size_t)w->width * 3;
    uint32_t ts = w->lv[0].tile; /* divides w->tile */
    errno = 0;
    for (uint32_t r0 = 0; r0 < rows; r0 += ts)
        if (write_tile_row(w, 0, rgb + r0 * line, rows - r0 < ts ? rows - r0 : ts, w->rows_done + r0) != 0)
            return fail(w, err, HS_EIO, "cannot write a level-0 tile");
    for (uint32_t r = 0; r < rows; r++)
        if (push_row(w, 1, rgb + r * line) != 0) {
            w->failed = 1;
            return hs_error_set(err, HS_EIO, "%s: cannot write a scratch file: %s", w->path, strerror(errno));
        }
    w->rows_done += rows;
    return HS_OK;
}

/* Writes lower level l from its scratch file as the current directory. */
static int write_level(hs_tiffw *w, int l, hs_error *err)
{
    wlevel *v = &w->lv[l];
    if (set_fields(w, l) != 0)
        return fail(w, err, HS_EIO, "cannot set the TIFF tags");
    if (fflush(v->tmp) != 0 || fseeko(v->tmp, 0, SEEK_SET) != 0)
        return hs_error_set(err, HS_EIO, "%s: cannot rewind a scratch file: %s", w->path, strerror(errno));
    for (uint32_t y = 0; y < v->h; y += v->tile) {
        uint32_t rows = v->h - y < v->tile ? v->h - y : v->tile;
        if (fread(w->band, (size_t)v->w * 3, rows, v->tmp) != rows)
            return hs_error_set(err, HS_EIO, "%s: cannot read back a scratch file", w->path);
        errno = 0;
        if (write_tile_row(w, l, w->band, rows, y) != 0)
            return fail(w, err, HS_EIO, "cannot write a tile");
    }
    errno = 0;
    if (!TIFFWriteDirectory(w->tif))
        return fail(w, err, HS_EIO, "cannot write a TIFF directory");
    fclose(v->tmp);
    v->tmp = NULL;
    return HS_OK;
}

int hs_tiffw_close(hs_tiffw *w, hs_error *err)
{
    if (!w)
        return hs_error_set(err, HS_EINVAL, "hs_tiffw_close: NULL writer");
    int rc = HS_OK;
    if (w->failed)
        rc = hs_error_set(err, HS_EINVAL, "%s: an earlier write failed", w->path);
    else if (w->rows_done != w->height)
        rc = hs_error_set(err, HS_EINVAL, "%s: closed after %u of %u rows", w->path, (unsigned)w->rows_done,
                          (unsigned)w->height);
    /* Odd heights leave one row waiting at some levels. */
    for (int l = 1; rc == HS_OK && l < w->nlevels; l++)
        if (push_row(w, l, NULL) != 0)
            rc = hs_error_set(err, HS_EIO, "%s: cannot write a scratch file: %s", w->path, strerror(errno));
    errno = 0;
    if (rc == HS_OK && !TIFFWriteDirectory(w->tif))
        rc = fail(w, err, HS_EIO, "cannot write the level-0 directory");
    if (rc == HS_OK && w->nlevels > 1) {
        w->band = malloc((size_t)w->lv[1].w * w->lv[1].tile * 3);
        if (!w->band)
            rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", w->path);
    }
    for (int l = 1; rc == HS_OK && l < w->nlevels; l++)
        rc = write_level(w, l, err);
    /* TIFFClose cannot fail: flush first, so that a full disk is an error and not a short file */
    errno = 0;
    if (rc == HS_OK && !TIFFFlush(w->tif))
        rc = fail(w, err, HS_EIO, "cannot write");
    if (rc != HS_OK) {
        hs_tiffw_abort(w);
        return rc;
    }
    TIFFClose(w->tif);
    w->tif = NULL;
    rc = hs_atomic_rename(w->tmp, w->path, err);
    free_all(w);
    return rc;
}

void hs_tiffw_abort(hs_tiffw *w)
{
    if (!w)
        return;
    if (w->tif) {
        TIFFClose(w->tif);
        w->tif = NULL;
    }
    remove(w->tmp);
    free_all(w);
}
