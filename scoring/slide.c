/*
 * slide: reading slide images region by region (see slide.h).
 *
 * Four backends.  OpenSlide opens everything it recognises and supplies the
 * metadata (levels, downsamples, pixel size) whichever backend decodes.  When
 * the file is a tiled TIFF of vendor generic-tiff or aperio whose levels are
 * all tiled directories of their size with 8-bit RGB (JPEG, LZW, Deflate or
 * no compression) or JPEG-compressed YCbCr, contiguous samples and no alpha,
 * the OpenSlide handle is closed and libtiff decodes the tiles itself
 * ("libtiff"): TIFFReadEncodedTile into a small per-handle LRU cache of
 * decoded tiles, so that regions whose margins overlap the previous one do
 * not decode the same tiles again.  Everything else OpenSlide recognises
 * (NDPI, MIRAX, JPEG 2000 SVS, old-style JPEG, other bit depths, alpha,
 * Aperio files with missing tiles, ...) is read through OpenSlide, region by
 * region.  PNG files and TIFF files OpenSlide refuses (stripped, not tiled)
 * are small fields of view: they are decoded whole into memory at open (at
 * most MAX_PIXELS pixels) with libpng / libtiff and have one level.  Memory
 * is bounded by the region asked for plus the tile cache (CACHE_BYTES), never
 * by the slide size.
 *
 * The libtiff backend gives OpenSlide's pixels: lossless tiles are the same
 * bytes (OpenSlide decodes them with libtiff too), JPEG tiles go through the
 * same libjpeg-turbo with the same settings (YCbCr converted by libjpeg:
 * JPEGCOLORMODE_RGB; Aperio's RGB JPEG left unconverted).  It decodes JPEG
 * slides about 5 times faster here: OpenSlide also composites every tile
 * through cairo in premultiplied ARGB.  A tile that libtiff fails to decode, or decodes with a warning
 * (libjpeg and zlib report corrupt data as warnings), or whose Deflate
 * stream fails its checksum (check_deflate), fails the read with a message
 * naming the file, level and tile; hs_slide_explain_damage then counts the
 * level's undecodable tiles.  A missing tile (TileByteCount 0) is white and
 * invalid.  Before taking a file, the first tile with data of
 * each level is decoded: a stream libtiff refuses where OpenSlide's own JPEG
 * path would not (odd sampling factors, progressive JPEG) leaves the file to
 * OpenSlide.  Unlike OpenSlide's, its errors are not sticky.
 *
 * OpenSlide hands out premultiplied ARGB; we return straight RGB, with pixels
 * of alpha 0 (no data, outside the image) white and flagged invalid.  libtiff
 * and OpenSlide errors never reach stderr: they are captured (tiffmsg, or the
 * libtiff backend's per-handle handlers) and become part of the returned
 * message.  An OpenSlide handle that failed once stays failed (OpenSlide's
 * errors are sticky): every later read fails too.
 *
 * Regions are asked for in level coordinates; OpenSlide wants level-0 ones,
 * so x and y are multiplied by the level's downsample and rounded.  Where that
 * downsample is not a whole number (lower levels of odd-sized images) the
 * position OpenSlide derives back may be a fraction of a pixel off, and it
 * interpolates; reads starting at 0 are always exact, and the libtiff backend
 * always reads whole level pixels.
 *
 * OpenSlide 3.4.1 decodes non-JPEG TIFF tiles with TIFFRGBAImageGet, which
 * Debian's security-patched libtiff 4.5.0 clamps to the image size: a tile
 * larger than its level comes back scrambled, without an error.  So levels
 * smaller than their tile are not offered (the coarsest levels of some
 * pyramids; whichever backend decodes, as the levels come from OpenSlide),
 * and a TIFF whose level 0 is smaller than a tile is decoded whole with
 * libtiff instead.
 *
 * A handle is used by one thread at a time (libtiff and OpenSlide handles are
 * not shared); callers that read in parallel open one handle per thread.
 *
 * Pixel size sources, in order: the caller's override, openslide.mpp-x/y,
 * the TIFF resolution tags (centimetre or inch units), "MPP = x" in the image
 * description, PNG's pHYs (metre unit).  A resolution giving more than
 * MAX_PLAUSIBLE_MPP microns per pixel is ignored as an editor's default
 * (72 dpi is 353 um per pixel), not a microscope's.  One finer than
 * MIN_PLAUSIBLE_MPP is an error that names its source: no light microscope
 * resolves 0.01 um (the diffraction limit is about 0.2 um; a 100x objective
 * scans at about 0.1 um per pixel), and every size derived from it (cells,
 * regions, margins in pixels) would be absurd.
 *
 * Only regular files are opened: a FIFO named like a slide would block the
 * open forever, a device would be read without end.
 *
 * Before decoding, plain TIFF, generic-tiff and Aperio files have their
 * skeleton checked against the file size and their image sizes against their
 * tile counts (tifflayout: a truncated file says so), and every level's fields
 * are vetted (vet_directory: Photometric, tile and image sizes, samples,
 * bits, planar layout, sample format, compression; bounds and reasons in
 * docs/hardening.md), as are the levels' sizes against each other.
 */
#include "scoring/slide.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libdeflate.h>
#include <openslide.h>
#include <png.h>
#include <tiffio.h>

#include "scoring/slide_internal.h"
#include "scoring/tifflayout_internal.h"
#include "scoring/tiffmsg_internal.h"

#define MAX_PIXELS ((uint64_t)1 << 28)   /* 256 megapixels: the in-memory backends' limit */
#define MAX_PLAUSIBLE_MPP 100.0          /* microns per pixel; coarser resolutions are ignored */
#define MIN_PLAUSIBLE_MPP 0.01           /* microns per pixel; finer ones are an error (see above) */
#define BAND_PIXELS ((int64_t)1 << 22)   /* OpenSlide reads go through a buffer of at most this many pixels */
#define USE_LIBTIFF 1                    /* open_openslide: level 0 is smaller than a tile, read it with libtiff */
#define NOT_SUITABLE 2                   /* open_tiled: a layout the libtiff tiled backend leaves to OpenSlide */
#define CACHE_BYTES ((size_t)16 << 20)   /* libtiff tiled backend: decoded tiles kept per handle */
#define MAX_SLOTS 4096                   /* ... and at most this many of them */
#define MAX_TILE_BYTES ((size_t)16 << 20) /* levels with larger tiles are left to OpenSlide */
#define PROBE_TILES 8                    /* tiles of each level tried at open before a JPEG level goes to OpenSlide */
#define MAX_DIRS 4096                    /* directories examined when matching levels to directories */
#define MAX_SIDE ((uint32_t)1 << 21)     /* pixels: 2,097,152 is 210 mm at 0.1 um per pixel, more than a slide */
#define MAX_TILE_SIDE 8192u              /* pixels: real slides use 240 to 4096; OpenSlide takes 256 MB for one */
#define MAX_LEVELS 64                    /* pyramid levels: 2^64 is more downsampling than any slide needs */

/* The libtiff tiled backend: where a level's tiles are and how they decode. */
typedef struct tlevel {
    tdir_t dir;       /* the level's TIFF directory */
    uint32_t tw, th;  /* tile size */
    uint32_t across;  /* tiles per row */
    int ycbcr_jpeg;   /* JPEG-compressed YCbCr: libjpeg converts to RGB (JPEGCOLORMODE_RGB) */
    int deflate;      /* Deflate tiles: their zlib streams are verified whole (check_deflate) */
    int jpeg;         /* JPEG tiles (YCbCr or RGB) */
} tlevel;

/* One decoded tile in the cache. */
typedef struct tslot {
    int level;        /* -1: empty */
    uint32_t tile;    /* tile number in its directory */
    uint64_t used;    /* cache clock at the last use (0: never) */
    int next;         /* next slot in the same hash bucket, -1 at the end */
    uint8_t *pix;     /* slot_bytes of RGB, allocated on first use */
} tslot;

struct hs_slide {
    hs_slide_info info;
    char *path;
    char vendor[64];
    openslide_t *osr; /* OpenSlide backend; NULL for the others */
    int64_t *lw, *lh; /* per level size */
    double *lds;      /* per level downsample */
    uint8_t *pix;     /* in-memory backends: width*height*3 RGB */
    uint8_t *mask;    /* in-memory backends: width*height validity, NULL when every pixel is valid */
    void *rows;       /* PNG decoding: the row pointers */
    char pngmsg[256]; /* PNG decoding: libpng's error (here, not in a local, as it is set across a longjmp) */
    char pngwarn[256]; /* PNG decoding: libpng's first warning about lost image data */
    TIFF *tif;        /* libtiff tiled backend; NULL for the others */
    tlevel *tl;       /* libtiff tiled backend: per level */
    long cur_dir;     /* the directory libtiff is on, -1 when unknown */
    tslot *slots;     /* the tile cache: nslot slots */
    int nslot;
    int *bucket;      /* hash of (level, tile) -> first slot, -1 when none; nbucket = 1 << hash_bits */
    int hash_bits;
    size_t slot_bytes; /* the largest tile of any level, in RGB bytes */
    uint64_t clock;    /* cache uses so far */
    uint64_t ndecoded; /* tiles decoded so far */
    char tiff_err[512], tiff_warn[512]; /* libtiff tiled backend: first error / warning since the last clear */
    struct libdeflate_decompressor *inflater; /* Deflate tiles: verifying their streams (see check_deflate) */
    uint8_t *raw, *scratch; /* ... a tile's compressed bytes (raw_cap) and its verification output (slot_bytes) */
    size_t raw_cap;
};

static int on_tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap);
static int tiff_failure(hs_slide *s, const char *what, const char *msg, hs_error *err);

/* ---- helpers ---------------------------------------------------------------------------------------------- */

static int parse_positive(const char *s, double *out)
{
    if (!s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(v) || v <= 0)
        return 0;
    *out = v;
    return 1;
}

/* The value after "MPP" and '=' in an Aperio-style description ("...|MPP = 0.499|..."). */
static int description_mpp(const char *desc, double *out)
{
    for (const char *p = desc ? strstr(desc, "MPP") : NULL; p; p = strstr(p + 3, "MPP")) {
        const char *q = p + 3;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ' || *q == '\t')
            q++;
        if (parse_positive(q, out))
            return 1;
    }
    return 0;
}

/* Microns per pixel from a resolution in pixels per unit; 0 when unusable. */
static double resolution_mpp(double res, double microns_per_unit)
{
    if (!(res > 0) || !isfinite(res) || !(microns_per_unit > 0))
        return 0;
    double mpp = microns_per_unit / res;
    return mpp > 0 && mpp <= MAX_PLAUSIBLE_MPP && isfinite(mpp) ? mpp : 0;
}

static void set_mpp(hs_slide *s, double x, double y, const char *source)
{
    s->info.mpp_x = x;
    s->info.mpp_y = y > 0 ? y : x;
    s->info.mpp_source = source;
}

/*
 * Straight 8-bit RGB from premultiplied values; alpha 0 gives white and
 * valid 0.  Rounded to nearest and clamped (a corrupt file may have colour > alpha).
 */
static inline void unpremultiply(unsigned a, unsigned r, unsigned g, unsigned b, uint8_t *rgb, uint8_t *valid)
{
    if (a == 255) {
        rgb[0] = (uint8_t)r;
        rgb[1] = (uint8_t)g;
        rgb[2] = (uint8_t)b;
        *valid = 1;
    } else if (a == 0) {
        rgb[0] = rgb[1] = rgb[2] = 255;
        *valid = 0;
    } else {
        unsigned half = a / 2;
        r = (r * 255 + half) / a;
        g = (g * 255 + half) / a;
        b = (b * 255 + half) / a;
        rgb[0] = (uint8_t)(r > 255 ? 255 : r);
        rgb[1] = (uint8_t)(g > 255 ? 255 : g);
        rgb[2] = (uint8_t)(b > 255 ? 255 : b);
        *valid = 1;
    }
}

static int set_single_level(hs_slide *s, int64_t w, int64_t h)
{
    s->lw = malloc(sizeof *s->lw);
    s->lh = malloc(sizeof *s->lh);
    s->lds = malloc(sizeof *s->lds);
    if (!s->lw || !s->lh || !s->lds)
        return -1;
    s->lw[0] = s->info.width = w;
    s->lh[0] = s->info.height = h;
    s->lds[0] = 1;
    s->info.nlevel = 1;
    return 0;
}

static int too_large(hs_slide *s, uint64_t w, uint64_t h, hs_error *err)
{
    return hs_error_set(err, HS_EFORMAT,
                        "%s: %llux%llu pixels is more than the %llu megapixels a plain (untiled) image may have; "
                        "convert it to a tiled pyramidal TIFF",
                        s->path, (unsigned long long)w, (unsigned long long)h,
                        (unsigned long long)(MAX_PIXELS >> 20));
}

/*
 * Rewrites "TIFF tag: 262" / "tag 262" in a message (OpenSlide's "Cannot get
 * required TIFF tag: 262") as "Photometric (tag 262)", in place.
 */
static void name_tiff_tags(char *msg, size_t n)
{
    char out[512];
    size_t o = 0;
    const char *p = msg;
    while (*p && o + 1 < sizeof out) {
        const char *q = !strncmp(p, "TIFF tag: ", 10)                          ? p + 10
                        : !strncmp(p, "tag ", 4) && (p == msg || p[-1] != '(') ? p + 4
                                                                                : NULL;
        char *end;
        unsigned long tag = q && *q >= '0' && *q <= '9' ? strtoul(q, &end, 10) : 0;
        const char *name = q && tag > 0 && tag < 65536 ? hs_tifflayout_tag_name((uint32_t)tag) : NULL;
        if (name) {
            /* "Cannot get required TIFF tag: 262" says the tag is missing */
            static const char req[] = "Cannot get required ";
            int missing = (size_t)(p - msg) >= sizeof req - 1 && !strncmp(p - (sizeof req - 1), req, sizeof req - 1);
            if (missing)
                o -= sizeof req - 1;
            int k = snprintf(out + o, sizeof out - o, "%s (tag %lu)%s", name, tag, missing ? " missing" : "");
            o = k < 0 ? o : o + (size_t)k < sizeof out ? o + (size_t)k : sizeof out - 1;
            p = end;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    snprintf(msg, n, "%s", out);
}

/* ---- OpenSlide backend ------------------------------------------------------------------------------------ */

/* OpenSlide's (sticky) error, with libtiff's reason when it gave one. */
static int openslide_failure(hs_slide *s, const char *what, const char *oserr_raw, hs_error *err)
{
    char oserr[512];
    hs_err_escape(oserr, sizeof oserr, oserr_raw, strlen(oserr_raw));
    name_tiff_tags(oserr, sizeof oserr);
    const char *tiff = hs_tiffmsg_get();
    if (tiff[0])
        return hs_error_set(err, HS_EFORMAT, "%s: %s: %s (libtiff: %s)", s->path, what, oserr, tiff);
    return hs_error_set(err, HS_EFORMAT, "%s: %s: %s", s->path, what, oserr);
}

/*
 * Opens s->path with OpenSlide.  Returns USE_LIBTIFF, with nothing kept open,
 * when level 0 is smaller than its tile and the file is a TIFF (is_tiff).
 */
static int open_openslide(hs_slide *s, int is_tiff, hs_error *err)
{
    hs_tiffmsg_clear();
    s->osr = openslide_open(s->path);
    if (!s->osr)
        return openslide_failure(s, "OpenSlide cannot open it", "unsupported or invalid file", err);
    const char *e = openslide_get_error(s->osr);
    if (e)
        return openslide_failure(s, "OpenSlide cannot open it", e, err);
    /*
     * generic-tiff stops at the first directory libtiff cannot read, so a
     * truncated file quietly loses its last levels: take libtiff's complaint
     * as the error it is.  (Other vendors are left alone: libtiff may grumble
     * about their private layouts.)
     */
    const char *vendor = openslide_get_property_value(s->osr, OPENSLIDE_PROPERTY_NAME_VENDOR);
    if (vendor && !strcmp(vendor, "generic-tiff") && hs_tiffmsg_get()[0])
        return hs_error_set(err, HS_EFORMAT, "%s: corrupt or truncated file (libtiff: %s)", s->path,
                            hs_tiffmsg_get());
    int32_t n = openslide_get_level_count(s->osr);
    if (n < 1)
        return openslide_failure(s, "OpenSlide cannot open it", "no levels", err);
    s->lw = malloc((size_t)n * sizeof *s->lw);
    s->lh = malloc((size_t)n * sizeof *s->lh);
    s->lds = malloc((size_t)n * sizeof *s->lds);
    if (!s->lw || !s->lh || !s->lds)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    for (int32_t l = 0; l < n; l++) {
        openslide_get_level_dimensions(s->osr, l, &s->lw[l], &s->lh[l]);
        s->lds[l] = openslide_get_level_downsample(s->osr, l);
        if (s->lw[l] <= 0 || s->lh[l] <= 0 || !(s->lds[l] > 0))
            return openslide_failure(s, "OpenSlide cannot open it", "bad level geometry", err);
    }
    if (n > MAX_LEVELS)
        return hs_error_set(err, HS_EFORMAT, "%s: %d pyramid levels is not plausible (at most %d)", s->path, (int)n,
                            MAX_LEVELS);
    /*
     * Each level the same image, smaller: no wider or taller than the one
     * above, and (while both sides are large enough for rounding not to
     * matter) shrunk alike in both directions.  A wrong ImageWidth in one
     * directory breaks this.
     */
    for (int32_t l = 1; l < n; l++) {
        double fw = (double)s->lw[0] / s->lw[l], fh = (double)s->lh[0] / s->lh[l];
        int bigger = s->lw[l] > s->lw[l - 1] || s->lh[l] > s->lh[l - 1];
        int skewed = s->lw[l] >= 64 && s->lh[l] >= 64 && (fw > 2 * fh || fh > 2 * fw);
        if (bigger || skewed)
            return hs_error_set(err, HS_EFORMAT,
                                "%s: level %d is %lldx%lld pixels and level %d %lldx%lld: not one image at "
                                "decreasing scales (an image size in the file is wrong)",
                                s->path, (int)l, (long long)s->lw[l], (long long)s->lh[l], (int)(bigger ? l - 1 : 0),
                                (long long)s->lw[bigger ? l - 1 : 0], (long long)s->lh[bigger ? l - 1 : 0]);
    }
    /* Levels smaller than their tile (see the top of this file). */
    for (int32_t l = 0; l < n; l++) {
        char key[64];
        double tw = 0, th = 0;
        snprintf(key, sizeof key, "openslide.level[%d].tile-width", (int)l);
        int have = parse_positive(openslide_get_property_value(s->osr, key), &tw);
        snprintf(key, sizeof key, "openslide.level[%d].tile-height", (int)l);
        have = have && parse_positive(openslide_get_property_value(s->osr, key), &th);
        if (have && (s->lw[l] < tw || s->lh[l] < th)) {
            if (l == 0 && is_tiff) {
                openslide_close(s->osr);
                s->osr = NULL;
                free(s->lw);
                free(s->lh);
                free(s->lds);
                s->lw = s->lh = NULL;
                s->lds = NULL;
                return USE_LIBTIFF;
            }
            if (l > 0) {
                n = l;
                break;
            }
        }
    }
    s->info.nlevel = n;
    s->info.width = s->lw[0];
    s->info.height = s->lh[0];
    snprintf(s->vendor, sizeof s->vendor, "%s", vendor ? vendor : "unknown");
    s->info.vendor = s->vendor;
    s->info.backend = "openslide";

    double x, y = 0;
    if (s->info.mpp_source)
        return HS_OK; /* override */
    if (parse_positive(openslide_get_property_value(s->osr, OPENSLIDE_PROPERTY_NAME_MPP_X), &x)) {
        if (!parse_positive(openslide_get_property_value(s->osr, OPENSLIDE_PROPERTY_NAME_MPP_Y), &y))
            y = 0;
        set_mpp(s, x, y, "openslide");
        return HS_OK;
    }
    const char *unit = openslide_get_property_value(s->osr, "tiff.ResolutionUnit");
    double um = !unit ? 0 : !strcmp(unit, "centimeter") ? 1e4 : !strcmp(unit, "inch") ? 25400 : 0;
    double rx, ry;
    if (um > 0 && parse_positive(openslide_get_property_value(s->osr, "tiff.XResolution"), &rx) &&
        (x = resolution_mpp(rx, um)) > 0) {
        if (!parse_positive(openslide_get_property_value(s->osr, "tiff.YResolution"), &ry) ||
            (y = resolution_mpp(ry, um)) <= 0)
            y = x;
        set_mpp(s, x, y, "tiff-resolution");
        return HS_OK;
    }
    if (description_mpp(openslide_get_property_value(s->osr, "tiff.ImageDescription"), &x) ||
        description_mpp(openslide_get_property_value(s->osr, OPENSLIDE_PROPERTY_NAME_COMMENT), &x))
        set_mpp(s, x, x, "description");
    return HS_OK;
}

/* Reads the in-image rectangle (x, y, w, h) of a level into rgb/valid rows of stride `stride` pixels. */
static int read_openslide(hs_slide *s, int level, int64_t x, int64_t y, int64_t w, int64_t h, uint8_t *rgb,
                          uint8_t *valid, int64_t stride, hs_error *err)
{
    const char *e = openslide_get_error(s->osr);
    if (e)
        return openslide_failure(s, "OpenSlide failed earlier", e, err);
    int64_t band = BAND_PIXELS / w > 0 ? BAND_PIXELS / w : 1;
    if (band > h)
        band = h;
    uint32_t *buf = malloc((size_t)(w * band) * sizeof *buf);
    if (!buf)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    double ds = s->lds[level];
    int64_t x0 = llround((double)x * ds);
    uint8_t dummy;
    for (int64_t r0 = 0; r0 < h; r0 += band) {
        int64_t rows = h - r0 < band ? h - r0 : band;
        hs_tiffmsg_clear();
        openslide_read_region(s->osr, buf, x0, llround((double)(y + r0) * ds), level, w, rows);
        if ((e = openslide_get_error(s->osr)) != NULL) {
            free(buf);
            return openslide_failure(s, "OpenSlide cannot read a region", e, err);
        }
        /* A decoder's warning through libtiff (corrupt LZW or JPEG data): the region may be garbage. */
        if (hs_tiffmsg_warning()[0]) {
            free(buf);
            return hs_error_set(err, HS_EFORMAT, "%s: level %d: corrupt image data in the region at (%lld, %lld) "
                                "(libtiff: %s)", s->path, level, (long long)x, (long long)(y + r0),
                                hs_tiffmsg_warning());
        }
        for (int64_t i = 0; i < rows; i++) {
            const uint32_t *src = buf + i * w;
            uint8_t *dst = rgb + ((r0 + i) * stride) * 3;
            uint8_t *ok = valid ? valid + (r0 + i) * stride : NULL;
            for (int64_t j = 0; j < w; j++) {
                uint32_t p = src[j];
                unpremultiply(p >> 24, (p >> 16) & 255, (p >> 8) & 255, p & 255, dst + 3 * j, ok ? ok + j : &dummy);
            }
        }
    }
    free(buf);
    return HS_OK;
}

/* ---- plausibility of the numbers a TIFF directory states ------------------------------------------------- */

static const char *photometric_name(unsigned v)
{
    switch (v) {
    case PHOTOMETRIC_MINISWHITE: return "WhiteIsZero";
    case PHOTOMETRIC_MINISBLACK: return "BlackIsZero";
    case PHOTOMETRIC_RGB: return "RGB";
    case PHOTOMETRIC_PALETTE: return "Palette";
    case PHOTOMETRIC_MASK: return "TransparencyMask";
    case PHOTOMETRIC_SEPARATED: return "Separated (CMYK)";
    case PHOTOMETRIC_YCBCR: return "YCbCr";
    case PHOTOMETRIC_CIELAB: return "CIELab";
    case PHOTOMETRIC_ICCLAB: return "ICCLab";
    case PHOTOMETRIC_ITULAB: return "ITULab";
    case PHOTOMETRIC_CFA: return "CFA";
    case PHOTOMETRIC_LOGL: return "LogL";
    case PHOTOMETRIC_LOGLUV: return "LogLuv";
    default: return "unknown";
    }
}

/* HS_EFORMAT naming the file, the directory and the field. */
static int bad_field(const hs_slide *s, int dir, hs_error *err, const char *fmt, ...) HS_FORMAT(4, 5);
static int bad_field(const hs_slide *s, int dir, hs_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hs_error_set(err, HS_EFORMAT, "%s: TIFF directory %d: %s", s->path, dir, what);
}

/*
 * Checks the numbers the current directory of t states against what a
 * brightfield slide can be and what the readers decode (see the top of this
 * file): image and tile sizes, samples, bits, Photometric, planar layout,
 * sample format, compression.  `tiled`: the directory is a pyramid level
 * (tile sizes checked); `aperio`: Aperio's JPEG 2000 compressions are
 * accepted (OpenSlide decodes them).  HS_EFORMAT naming the field.
 */
static int vet_directory(const hs_slide *s, TIFF *t, int dir, int tiled, int aperio, hs_error *err)
{
    uint32_t w = 0, h = 0, tw = 0, th = 0;
    uint16_t bps = 0, spp = 0, planar = 0, format = 0, comp = 0, photo = 0, nextra = 0;
    uint16_t *extra = NULL;
    if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w))
        return bad_field(s, dir, err, "ImageWidth (tag 256) missing");
    if (!TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h))
        return bad_field(s, dir, err, "ImageLength (tag 257) missing");
    if (w < 1 || w > MAX_SIDE)
        return bad_field(s, dir, err, "ImageWidth %u is not plausible (a slide's is 1 to %u pixels)", (unsigned)w,
                         (unsigned)MAX_SIDE);
    if (h < 1 || h > MAX_SIDE)
        return bad_field(s, dir, err, "ImageLength %u is not plausible (a slide's is 1 to %u pixels)", (unsigned)h,
                         (unsigned)MAX_SIDE);
    if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo))
        return bad_field(s, dir, err, "Photometric (tag 262) missing: the colour model is not stated");
    if (photo != PHOTOMETRIC_RGB && photo != PHOTOMETRIC_YCBCR && !(photo == PHOTOMETRIC_PALETTE && !tiled))
        return bad_field(s, dir, err,
                         "Photometric is %s (%u); an RGB brightfield slide needs RGB (2) or YCbCr (6)",
                         photometric_name(photo), (unsigned)photo);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, &nextra, &extra);
    unsigned colour = photo == PHOTOMETRIC_PALETTE ? 1 : 3;
    if (spp < colour || spp - colour != nextra || nextra > 1)
        return bad_field(s, dir, err,
                         "SamplesPerPixel %u with %u ExtraSamples is not plausible: %s image has %u samples (%u "
                         "with alpha)",
                         (unsigned)spp, (unsigned)nextra, colour == 1 ? "a Palette" : "an RGB", colour, colour + 1);
    if (photo == PHOTOMETRIC_PALETTE ? (bps != 1 && bps != 2 && bps != 4 && bps != 8) : (bps != 8 && bps != 16))
        return bad_field(s, dir, err, "BitsPerSample %u is not plausible: %s", (unsigned)bps,
                         photo == PHOTOMETRIC_PALETTE ? "a Palette image has 1, 2, 4 or 8" : "a slide has 8 (or 16)");
    if (planar != PLANARCONFIG_CONTIG && planar != PLANARCONFIG_SEPARATE)
        return bad_field(s, dir, err, "PlanarConfiguration %u is not a valid value (1 contiguous, 2 separate)",
                         (unsigned)planar);
    if (format != SAMPLEFORMAT_UINT)
        return bad_field(s, dir, err, "SampleFormat %u is not plausible: slide pixels are unsigned integers (1)",
                         (unsigned)format);
    if (!TIFFGetField(t, TIFFTAG_COMPRESSION, &comp))
        comp = COMPRESSION_NONE;
    if (!TIFFIsCODECConfigured(comp) && !(aperio && (comp == 33003 || comp == 33005)))
        return bad_field(s, dir, err, "Compression %u is not a scheme this build of libtiff decodes", (unsigned)comp);
    if (!tiled)
        return HS_OK;
    if (!TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw))
        return bad_field(s, dir, err, "TileWidth (tag 322) missing");
    if (!TIFFGetField(t, TIFFTAG_TILELENGTH, &th))
        return bad_field(s, dir, err, "TileLength (tag 323) missing");
    if (tw < 16 || tw > MAX_TILE_SIDE || tw % 16 != 0)
        return bad_field(s, dir, err,
                         "TileWidth %u is not plausible: the TIFF specification asks for a multiple of 16, and a "
                         "slide's tiles are at most %u pixels wide",
                         (unsigned)tw, (unsigned)MAX_TILE_SIDE);
    if (th < 16 || th > MAX_TILE_SIDE || th % 16 != 0)
        return bad_field(s, dir, err,
                         "TileLength %u is not plausible: the TIFF specification asks for a multiple of 16, and a "
                         "slide's tiles are at most %u pixels long",
                         (unsigned)th, (unsigned)MAX_TILE_SIDE);
    return HS_OK;
}

/*
 * Vets every tiled directory (the pyramid levels; Aperio's thumbnail, label
 * and macro images are stripped) of a generic-tiff or Aperio file.
 */
static int vet_tiled_file(hs_slide *s, int aperio, hs_error *err)
{
    char msg[512] = "";
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_tiff_error, msg);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, hs_tiffmsg_drop_warning, NULL);
    TIFF *t = TIFFOpenExt(s->path, "rm", opts);
    TIFFOpenOptionsFree(opts);
    if (!t)
        return tiff_failure(s, "not a readable TIFF file", msg, err);
    int rc = HS_OK, d = 0;
    do {
        if (TIFFIsTiled(t))
            rc = vet_directory(s, t, d, 1, aperio, err);
    } while (rc == HS_OK && ++d < MAX_DIRS && TIFFReadDirectory(t));
    TIFFClose(t);
    return rc;
}

/* ---- libtiff backend -------------------------------------------------------------------------------------- */

static int on_tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    hs_tiffmsg_format(user, 512, module, fmt, ap);
    return 1;
}

static int tiff_failure(hs_slide *s, const char *what, const char *msg, hs_error *err)
{
    const char *why = msg[0] ? msg : hs_tiffmsg_get();
    if (why[0])
        return hs_error_set(err, HS_EFORMAT, "%s: %s (libtiff: %s)", s->path, what, why);
    return hs_error_set(err, HS_EFORMAT, "%s: %s", s->path, what);
}

static int decode_tiff(hs_slide *s, TIFF *t, char *msg, hs_error *err)
{
    uint32_t w = 0, h = 0;
    if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h) || w == 0 || h == 0)
        return tiff_failure(s, "TIFF without image size", msg, err);
    if ((uint64_t)w * h > MAX_PIXELS)
        return too_large(s, w, h, err);
    int rc = vet_directory(s, t, 0, TIFFIsTiled(t), 0, err);
    if (rc != HS_OK)
        return rc;
    char emsg[1024] = "";
    if (!TIFFRGBAImageOK(t, emsg))
        return hs_error_set(err, HS_EFORMAT, "%s: libtiff cannot decode this TIFF: %s", s->path, emsg);
    size_t n = (size_t)w * h;
    uint16_t nextra = 0;
    uint16_t *extra = NULL;
    int has_alpha = TIFFGetField(t, TIFFTAG_EXTRASAMPLES, &nextra, &extra) && nextra > 0;
    uint32_t *raster = malloc(n * sizeof *raster);
    if (has_alpha)
        s->mask = malloc(n);
    if (!raster || (has_alpha && !s->mask)) {
        free(raster);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory for %ux%u pixels", s->path, (unsigned)w, (unsigned)h);
    }
    if (!TIFFReadRGBAImageOriented(t, w, h, raster, ORIENTATION_TOPLEFT, 1) || msg[0]) {
        free(raster);
        return tiff_failure(s, "cannot decode the TIFF image", msg, err);
    }
    /* Repack ABGR words into RGB bytes in place: byte 3i never overtakes word i. */
    uint8_t *rgb = (uint8_t *)raster, dummy;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = raster[i];
        uint8_t px[3];
        unpremultiply(TIFFGetA(p), TIFFGetR(p), TIFFGetG(p), TIFFGetB(p), px, has_alpha ? s->mask + i : &dummy);
        memcpy(rgb + 3 * i, px, 3);
    }
    uint8_t *shrunk = realloc(raster, n * 3);
    s->pix = shrunk ? shrunk : rgb;
    if (set_single_level(s, w, h) != 0)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);

    if (s->info.mpp_source)
        return HS_OK;
    float rx = 0, ry = 0;
    uint16_t unit = RESUNIT_INCH;
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    double um = unit == RESUNIT_CENTIMETER ? 1e4 : unit == RESUNIT_INCH ? 25400 : 0;
    double x, y;
    if (TIFFGetField(t, TIFFTAG_XRESOLUTION, &rx) && (x = resolution_mpp(rx, um)) > 0) {
        if (!TIFFGetField(t, TIFFTAG_YRESOLUTION, &ry) || (y = resolution_mpp(ry, um)) <= 0)
            y = x;
        set_mpp(s, x, y, "tiff-resolution");
        return HS_OK;
    }
    const char *desc = NULL;
    if (TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &desc) && description_mpp(desc, &x))
        set_mpp(s, x, x, "description");
    return HS_OK;
}

/* Keeps a decoder's first warning (corrupt data) in user (512 bytes); drops the others. */
static int on_tiff_decode_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    if (hs_tiffmsg_decode_module(module))
        hs_tiffmsg_format(user, 512, module, fmt, ap);
    return 1;
}

static int open_tiff(hs_slide *s, hs_error *err)
{
    char msg[512] = "", warn[512] = "";
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_tiff_error, msg);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_tiff_decode_warning, warn);
    hs_tiffmsg_clear();
    TIFF *t = TIFFOpenExt(s->path, "r", opts);
    TIFFOpenOptionsFree(opts);
    if (!t)
        return tiff_failure(s, "not a readable TIFF file", msg, err);
    int rc = decode_tiff(s, t, msg, err);
    /* libjpeg and zlib report corrupt data as warnings: the image decoded may be garbage. */
    if (rc == HS_OK && warn[0])
        rc = tiff_failure(s, "corrupt image data", warn, err);
    /* A broken chain of directories (a truncated file) is an error even when the first image decoded. */
    if (rc == HS_OK && (TIFFNumberOfDirectories(t) == 0 || msg[0]))
        rc = tiff_failure(s, "corrupt or truncated TIFF file", msg, err);
    TIFFClose(t);
    if (rc == HS_OK) {
        s->info.backend = "tiff";
        s->info.vendor = "tiff";
    }
    return rc;
}

/* ---- libtiff tiled backend -------------------------------------------------------------------------------- */

static int tiled_on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    hs_slide *s = user;
    hs_tiffmsg_format(s->tiff_err, sizeof s->tiff_err, module, fmt, ap);
    return 1; /* handled: nothing is printed */
}

static int tiled_on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    hs_slide *s = user;
    hs_tiffmsg_format(s->tiff_warn, sizeof s->tiff_warn, module, fmt, ap);
    return 1;
}

static void tiled_clear_messages(hs_slide *s)
{
    s->tiff_err[0] = s->tiff_warn[0] = '\0';
}

/* Frees the libtiff tiled backend's state (also half-built). */
static void tiled_free(hs_slide *s)
{
    if (s->tif)
        TIFFClose(s->tif);
    s->tif = NULL;
    for (int i = 0; s->slots && i < s->nslot; i++)
        free(s->slots[i].pix);
    free(s->slots);
    free(s->bucket);
    free(s->tl);
    free(s->raw);
    free(s->scratch);
    if (s->inflater)
        libdeflate_free_decompressor(s->inflater);
    s->inflater = NULL;
    s->raw = s->scratch = NULL;
    s->raw_cap = 0;
    s->slots = NULL;
    s->bucket = NULL;
    s->tl = NULL;
    s->nslot = 0;
}

/* Makes a level's directory the current one, set up to decode its tiles as RGB. */
static int tiled_set_dir(hs_slide *s, const tlevel *t)
{
    if (s->cur_dir == (long)t->dir)
        return 0;
    s->cur_dir = -1;
    if (!TIFFSetDirectory(s->tif, t->dir))
        return -1;
    /* A pseudo-tag: reset by every directory change. */
    if (t->ycbcr_jpeg && !TIFFSetField(s->tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
        return -1;
    s->cur_dir = (long)t->dir;
    return 0;
}

/* HS_EFORMAT naming the file, level and tile, with libtiff's reason (its error, else its warning). */
static int tile_failure(hs_slide *s, int level, uint32_t tile, const char *what, hs_error *err)
{
    const tlevel *t = &s->tl[level];
    const char *why = s->tiff_err[0] ? s->tiff_err : s->tiff_warn;
    return hs_error_set(err, HS_EFORMAT, "%s: level %d, tile %u (column %u, row %u of TIFF directory %u): %s%s%s%s",
                        s->path, level, (unsigned)tile, (unsigned)(tile % t->across), (unsigned)(tile / t->across),
                        (unsigned)t->dir, what, why[0] ? " (libtiff: " : "", why, why[0] ? ")" : "");
}

static size_t slot_hash(const hs_slide *s, int level, uint32_t tile)
{
    uint64_t k = (((uint64_t)(uint32_t)level << 32) | tile) * 0x9E3779B97F4A7C15ull;
    return (size_t)(k >> (64 - s->hash_bits));
}

/* Takes slot i out of its hash chain. */
static void slot_unlink(hs_slide *s, int i)
{
    int *p = &s->bucket[slot_hash(s, s->slots[i].level, s->slots[i].tile)];
    while (*p != i)
        p = &s->slots[*p].next;
    *p = s->slots[i].next;
    s->slots[i].level = -1;
}

/*
 * libtiff inflates a Deflate tile only until the tile is full and never
 * reaches the stream's end and its Adler-32 checksum, so a flipped or zeroed
 * byte that still inflates gives wrong pixels without a word.  The stream is
 * inflated again whole with libdeflate, which checks the checksum: HS_EFORMAT
 * naming the tile when it fails, ends early or holds more than the tile.
 * (Costs a second inflate of Deflate tiles; JPEG tiles are checked by
 * libjpeg's warnings, LZW and uncompressed tiles carry no checksum.)
 */
static int check_deflate(hs_slide *s, int level, uint32_t tile, size_t want, hs_error *err)
{
    uint64_t n = TIFFGetStrileByteCount(s->tif, tile);
    if (n > (uint64_t)want + want / 2 + 4096)
        return tile_failure(s, level, tile, "corrupt tile: its Deflate stream is larger than any stream of such a tile",
                            err);
    if (n > s->raw_cap) {
        uint8_t *r = realloc(s->raw, (size_t)n);
        if (!r)
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory for a tile", s->path);
        s->raw = r;
        s->raw_cap = (size_t)n;
    }
    if (!s->scratch && !(s->scratch = malloc(s->slot_bytes)))
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory for a tile", s->path);
    if (!s->inflater && !(s->inflater = libdeflate_alloc_decompressor()))
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory for a tile", s->path);
    tiled_clear_messages(s);
    tmsize_t got = TIFFReadRawTile(s->tif, tile, s->raw, (tmsize_t)n);
    if (got != (tmsize_t)n) {
        char what[128];
        snprintf(what, sizeof what, "short read: %lld of the tile's %llu bytes", (long long)got,
                 (unsigned long long)n);
        return tile_failure(s, level, tile, what, err);
    }
    size_t out = 0;
    enum libdeflate_result r = libdeflate_zlib_decompress(s->inflater, s->raw, (size_t)n, s->scratch, want, &out);
    if (r == LIBDEFLATE_SUCCESS && out == want)
        return HS_OK;
    return tile_failure(s, level, tile,
                        r == LIBDEFLATE_BAD_DATA      ? "corrupt tile data (Deflate: the stream is invalid or fails its "
                                                        "Adler-32 checksum)"
                        : r == LIBDEFLATE_SUCCESS || r == LIBDEFLATE_SHORT_OUTPUT
                            ? "corrupt tile data (Deflate: the stream ends before the tile is full)"
                            : "corrupt tile data (Deflate: the stream holds more than the tile)",
                        err);
}

/*
 * The decoded RGB pixels (tw*th*3 bytes) of tile `tile` of a level, from the
 * cache or decoded into it, in *pix; *pix = NULL when the tile is missing
 * (TileByteCount 0: no data).  The pointer is valid until the next call.
 * HS_EFORMAT when libtiff reports an error, or any warning, while decoding:
 * libjpeg and zlib report corrupt data as warnings, and a tile decoded with a
 * warning may be garbage.  HS_ENOMEM.
 */
static int tiled_get(hs_slide *s, int level, uint32_t tile, const uint8_t **pix, hs_error *err)
{
    for (int i = s->bucket[slot_hash(s, level, tile)]; i >= 0; i = s->slots[i].next)
        if (s->slots[i].level == level && s->slots[i].tile == tile) {
            s->slots[i].used = ++s->clock;
            *pix = s->slots[i].pix;
            return HS_OK;
        }
    const tlevel *t = &s->tl[level];
    tiled_clear_messages(s);
    if (tiled_set_dir(s, t) != 0)
        return tile_failure(s, level, tile, "cannot select the directory", err);
    if (TIFFGetStrileByteCount(s->tif, tile) == 0) {
        *pix = NULL;
        return HS_OK;
    }
    /* The least recently used slot (an empty one first: never used). */
    int v = 0;
    for (int i = 1; i < s->nslot; i++)
        if (s->slots[i].used < s->slots[v].used)
            v = i;
    tslot *c = &s->slots[v];
    if (c->level >= 0)
        slot_unlink(s, v);
    if (!c->pix && !(c->pix = malloc(s->slot_bytes)))
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory for a tile", s->path);
    tmsize_t want = (tmsize_t)t->tw * t->th * 3;
    tiled_clear_messages(s);
    tmsize_t got = TIFFReadEncodedTile(s->tif, tile, c->pix, want);
    s->ndecoded++;
    if (got < 0 || s->tiff_err[0])
        return tile_failure(s, level, tile, "cannot decode the tile", err);
    if (s->tiff_warn[0])
        return tile_failure(s, level, tile, "corrupt tile data", err);
    if (got != want) {
        char what[96];
        snprintf(what, sizeof what, "the tile decodes to %lld bytes, not %lld", (long long)got, (long long)want);
        return tile_failure(s, level, tile, what, err);
    }
    if (t->deflate) {
        int rc = check_deflate(s, level, tile, (size_t)want, err);
        if (rc != HS_OK)
            return rc;
    }
    c->level = level;
    c->tile = tile;
    c->used = ++s->clock;
    size_t b = slot_hash(s, level, tile);
    c->next = s->bucket[b];
    s->bucket[b] = v;
    *pix = c->pix;
    return HS_OK;
}

/* Reads the in-level rectangle (x, y, w, h) into rgb/valid rows of stride `stride` pixels, tile by tile. */
static int read_tiled(hs_slide *s, int level, int64_t x, int64_t y, int64_t w, int64_t h, uint8_t *rgb,
                      uint8_t *valid, int64_t stride, hs_error *err)
{
    const tlevel *t = &s->tl[level];
    int64_t tw = t->tw, th = t->th;
    for (int64_t r = y / th; r <= (y + h - 1) / th; r++) {
        int64_t y0 = r * th > y ? r * th : y, y1 = (r + 1) * th < y + h ? (r + 1) * th : y + h;
        for (int64_t c = x / tw; c <= (x + w - 1) / tw; c++) {
            int64_t x0 = c * tw > x ? c * tw : x, x1 = (c + 1) * tw < x + w ? (c + 1) * tw : x + w;
            const uint8_t *pix;
            int rc = tiled_get(s, level, (uint32_t)(r * t->across + c), &pix, err);
            if (rc != HS_OK)
                return rc;
            size_t n = (size_t)(x1 - x0);
            for (int64_t yy = y0; yy < y1; yy++) {
                uint8_t *dst = rgb + ((yy - y) * stride + (x0 - x)) * 3;
                if (pix)
                    memcpy(dst, pix + ((yy - r * th) * tw + (x0 - c * tw)) * 3, n * 3);
                else
                    memset(dst, 255, n * 3);
                if (valid)
                    memset(valid + (yy - y) * stride + (x0 - x), pix != NULL, n);
            }
        }
    }
    return HS_OK;
}

/*
 * Checks that directory t->dir holds a level the tiled backend reads exactly
 * like OpenSlide (see the top of this file) and fills in the rest of t.
 * 0 when it does, NOT_SUITABLE when not.
 */
static int tiled_check_level(hs_slide *s, tlevel *t, int64_t lw, int64_t lh, int aperio)
{
    TIFF *tif = s->tif;
    s->cur_dir = -1;
    if (!TIFFSetDirectory(tif, t->dir))
        return NOT_SUITABLE;
    uint16_t bps = 0, spp = 0, planar = 0, format = 0, orient = 0, comp = 0, photo = 0;
    uint32_t tw = 0, th = 0, depth = 1;
    if (!TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps) ||
        !TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp) ||
        !TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar) ||
        !TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format) ||
        !TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orient) || !TIFFGetField(tif, TIFFTAG_COMPRESSION, &comp) ||
        !TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo) || !TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) ||
        !TIFFGetField(tif, TIFFTAG_TILELENGTH, &th))
        return NOT_SUITABLE;
    if (TIFFGetField(tif, TIFFTAG_IMAGEDEPTH, &depth) && depth != 1)
        return NOT_SUITABLE;
    if (bps != 8 || spp != 3 || planar != PLANARCONFIG_CONTIG || format != SAMPLEFORMAT_UINT ||
        orient != ORIENTATION_TOPLEFT)
        return NOT_SUITABLE;
    if (comp != COMPRESSION_NONE && comp != COMPRESSION_LZW && comp != COMPRESSION_ADOBE_DEFLATE &&
        comp != COMPRESSION_DEFLATE && comp != COMPRESSION_JPEG)
        return NOT_SUITABLE;
    if (!TIFFIsCODECConfigured(comp))
        return NOT_SUITABLE;
    /* YCbCr only through libjpeg's conversion, as OpenSlide does; libtiff's own YCbCr path differs. */
    if (photo != PHOTOMETRIC_RGB && !(photo == PHOTOMETRIC_YCBCR && comp == COMPRESSION_JPEG))
        return NOT_SUITABLE;
    if (tw == 0 || th == 0 || (uint64_t)tw * th * 3 > MAX_TILE_BYTES)
        return NOT_SUITABLE;
    t->tw = tw;
    t->th = th;
    t->ycbcr_jpeg = photo == PHOTOMETRIC_YCBCR;
    t->deflate = comp == COMPRESSION_ADOBE_DEFLATE || comp == COMPRESSION_DEFLATE;
    t->jpeg = comp == COMPRESSION_JPEG;
    if (t->ycbcr_jpeg && !TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
        return NOT_SUITABLE;
    s->cur_dir = (long)t->dir;
    uint64_t across = ((uint64_t)lw + tw - 1) / tw, down = ((uint64_t)lh + th - 1) / th;
    if (TIFFTileSize64(tif) != (uint64_t)tw * th * 3 || TIFFNumberOfTiles(tif) != across * down)
        return NOT_SUITABLE;
    t->across = (uint32_t)across;
    /*
     * OpenSlide's Aperio reader draws a missing tile of a lower level from the
     * level above, and takes the tiles of lower levels under a missing tile
     * for missing too; we would show white.  Such slides stay with OpenSlide.
     */
    if (aperio)
        for (uint32_t i = 0; i < across * down; i++)
            if (TIFFGetStrileByteCount(tif, i) == 0)
                return NOT_SUITABLE;
    return 0;
}

/*
 * Sets up the libtiff tiled backend for the levels OpenSlide found in s->path
 * (vendor generic-tiff or aperio).  HS_OK when every level maps to a tiled
 * directory of its size that the backend reads; NOT_SUITABLE, with nothing
 * kept, when one does not; HS_ENOMEM.
 */
static int open_tiled(hs_slide *s, hs_error *err)
{
    int aperio = !strcmp(s->vendor, "aperio"), n = s->info.nlevel;
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    TIFFOpenOptionsSetErrorHandlerExtR(opts, tiled_on_error, s);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, tiled_on_warning, s);
    tiled_clear_messages(s);
    /* Not memory-mapped: mapped pages would count in the resident size and grow with the file. */
    s->tif = TIFFOpenExt(s->path, "rm", opts);
    TIFFOpenOptionsFree(opts);
    s->cur_dir = -1;
    if (!s->tif)
        return NOT_SUITABLE;
    int *found = calloc((size_t)n, sizeof *found);
    s->tl = calloc((size_t)n, sizeof *s->tl);
    if (!found || !s->tl) {
        free(found);
        tiled_free(s);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    }

    /*
     * Each level is the one tiled directory of its size that OpenSlide takes
     * as a level: any tiled one for Aperio; for generic-tiff the first one or
     * one marked reduced-resolution.  Two candidates: leave it to OpenSlide.
     */
    int rc = 0, ndir = 0;
    do {
        uint32_t w = 0, h = 0, sub = 0;
        tdir_t d = TIFFCurrentDirectory(s->tif);
        int level_like = TIFFIsTiled(s->tif) && TIFFGetField(s->tif, TIFFTAG_IMAGEWIDTH, &w) &&
                         TIFFGetField(s->tif, TIFFTAG_IMAGELENGTH, &h);
        if (level_like && !aperio && d != 0)
            level_like = TIFFGetField(s->tif, TIFFTAG_SUBFILETYPE, &sub) && (sub & FILETYPE_REDUCEDIMAGE);
        for (int l = 0; level_like && l < n; l++)
            if (s->lw[l] == (int64_t)w && s->lh[l] == (int64_t)h) {
                if (found[l]++)
                    rc = NOT_SUITABLE;
                s->tl[l].dir = d;
            }
        if (++ndir >= MAX_DIRS)
            rc = NOT_SUITABLE;
    } while (rc == 0 && TIFFReadDirectory(s->tif));
    /* A directory chain libtiff complained about is OpenSlide's business. */
    if (s->tiff_err[0])
        rc = NOT_SUITABLE;
    for (int l = 0; rc == 0 && l < n; l++)
        if (!found[l])
            rc = NOT_SUITABLE;
    free(found);
    size_t biggest = 0;
    for (int l = 0; rc == 0 && l < n; l++) {
        rc = tiled_check_level(s, &s->tl[l], s->lw[l], s->lh[l], aperio);
        size_t b = (size_t)s->tl[l].tw * s->tl[l].th * 3;
        biggest = b > biggest ? b : biggest;
    }
    if (rc != 0) {
        tiled_free(s);
        return rc;
    }

    /* The cache: as many of the largest tiles as fit in CACHE_BYTES, pixels allocated when first used. */
    s->slot_bytes = biggest;
    size_t fit = CACHE_BYTES / biggest;
    s->nslot = fit > MAX_SLOTS ? MAX_SLOTS : fit > 0 ? (int)fit : 1;
    s->hash_bits = 1;
    while ((1 << s->hash_bits) < 2 * s->nslot)
        s->hash_bits++;
    s->slots = calloc((size_t)s->nslot, sizeof *s->slots);
    s->bucket = malloc(((size_t)1 << s->hash_bits) * sizeof *s->bucket);
    if (!s->slots || !s->bucket) {
        tiled_free(s);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    }
    for (int i = 0; i < s->nslot; i++) {
        s->slots[i].level = -1;
        s->slots[i].next = -1;
    }
    for (size_t b = 0; b < (size_t)1 << s->hash_bits; b++)
        s->bucket[b] = -1;

    /*
     * Decode the first tile with data of each level: a JPEG stream libtiff
     * refuses where OpenSlide's own libjpeg path would not (unusual sampling
     * factors, progressive coding) sends the slide back to OpenSlide, which
     * then reports any real corruption itself.
     */
    for (int l = 0; rc == 0 && l < n; l++) {
        tlevel *t = &s->tl[l];
        if (tiled_set_dir(s, t) != 0) {
            rc = NOT_SUITABLE;
            break;
        }
        /*
         * A corrupt first tile is not a layout libtiff refuses: the first
         * PROBE_TILES tiles with data are tried, and one that decodes keeps the
         * file here (the corrupt one fails its read, with a message).  When
         * none does, a JPEG level goes to OpenSlide; other codecs are
         * libtiff's in OpenSlide too, so their failure is the error.
         */
        uint32_t ntile = (uint32_t)TIFFNumberOfTiles(s->tif), tried = 0;
        int decoded = 0;
        for (uint32_t i = 0; i < ntile && tried < PROBE_TILES && !decoded && rc != HS_ENOMEM; i++) {
            if (tiled_set_dir(s, t) != 0 || TIFFGetStrileByteCount(s->tif, i) == 0)
                continue;
            tried++;
            const uint8_t *pix;
            rc = tiled_get(s, l, i, &pix, err);
            decoded = rc == HS_OK;
        }
        if (rc != HS_ENOMEM)
            rc = tried == 0 || decoded ? HS_OK : t->jpeg ? NOT_SUITABLE : rc;
    }
    if (rc != 0) {
        tiled_free(s);
        if (rc == NOT_SUITABLE)
            hs_error_clear(err);
        return rc;
    }
    s->info.backend = "libtiff";
    return HS_OK;
}

/* ---- libpng backend --------------------------------------------------------------------------------------- */

static void on_png_error(png_structp png, png_const_charp text)
{
    hs_slide *s = png_get_error_ptr(png);
    hs_err_escape(s->pngmsg, sizeof s->pngmsg, text, strlen(text));
    png_longjmp(png, 1);
}

/* libpng reports some lost or surplus image data as warnings: those are kept, the others dropped. */
static void on_png_warning(png_structp png, png_const_charp text)
{
    hs_slide *s = png_get_error_ptr(png);
    if (!s->pngwarn[0] && (strstr(text, "image data") || strstr(text, "compressed data") || strstr(text, "IDAT")))
        hs_err_escape(s->pngwarn, sizeof s->pngwarn, text, strlen(text));
}

/*
 * Decodes the PNG in f.  Everything that must survive a longjmp lives in s
 * (heap), not in locals.
 */
static int decode_png(hs_slide *s, FILE *f, hs_error *err)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_png_error, on_png_warning);
    if (!png)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return hs_error_set(err, HS_EFORMAT, "%s: corrupt or truncated PNG file (libpng: %s)", s->path, s->pngmsg);
    }
    png_init_io(png, f);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((uint64_t)w * h > MAX_PIXELS) {
        png_destroy_read_struct(&png, &info, NULL);
        return too_large(s, w, h, err);
    }
    int color = png_get_color_type(png, info);
    png_set_strip_16(png);
    png_set_packing(png);
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t ch = png_get_channels(png, info);
    if (ch != 3 && ch != 4) {
        png_destroy_read_struct(&png, &info, NULL);
        return hs_error_set(err, HS_EFORMAT, "%s: unexpected PNG layout (%zu channels)", s->path, ch);
    }
    size_t n = (size_t)w * h;
    s->pix = malloc(n * ch);
    s->rows = malloc(h * sizeof(png_bytep));
    if (ch == 4)
        s->mask = malloc(n);
    if (!s->pix || !s->rows || (ch == 4 && !s->mask)) {
        png_destroy_read_struct(&png, &info, NULL);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory for %ux%u pixels", s->path, (unsigned)w,
                            (unsigned)h);
    }
    png_bytep *rows = s->rows;
    for (png_uint_32 r = 0; r < h; r++)
        rows[r] = s->pix + (size_t)r * w * ch;
    png_read_image(png, rows);
    png_read_end(png, NULL);

    png_uint_32 px = 0, py = 0;
    int unit = 0;
    int has_phys = png_get_pHYs(png, info, &px, &py, &unit) != 0;
    png_destroy_read_struct(&png, &info, NULL);
    free(s->rows);
    s->rows = NULL;
    if (s->pngwarn[0])
        return hs_error_set(err, HS_EFORMAT, "%s: corrupt PNG image data (libpng: %s)", s->path, s->pngwarn);

    if (ch == 4) {
        /* Straight alpha: keep the colour, but alpha 0 carries no data. */
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p = s->pix + 4 * i;
            uint8_t a = p[3], c[3] = {p[0], p[1], p[2]};
            s->mask[i] = a != 0;
            if (a == 0)
                c[0] = c[1] = c[2] = 255;
            memcpy(s->pix + 3 * i, c, 3);
        }
        uint8_t *shrunk = realloc(s->pix, n * 3);
        if (shrunk)
            s->pix = shrunk;
    }
    if (set_single_level(s, w, h) != 0)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", s->path);
    s->info.backend = "png";
    s->info.vendor = "png";
    double x, y;
    if (!s->info.mpp_source && has_phys && unit == PNG_RESOLUTION_METER && (x = resolution_mpp(px, 1e6)) > 0) {
        if ((y = resolution_mpp(py, 1e6)) <= 0)
            y = x;
        set_mpp(s, x, y, "png-phys");
    }
    return HS_OK;
}

/* Reads the in-image rectangle from the in-memory pixels. */
static void read_memory(const hs_slide *s, int64_t x, int64_t y, int64_t w, int64_t h, uint8_t *rgb,
                        uint8_t *valid, int64_t stride)
{
    int64_t iw = s->info.width;
    for (int64_t r = 0; r < h; r++) {
        memcpy(rgb + r * stride * 3, s->pix + ((y + r) * iw + x) * 3, (size_t)w * 3);
        if (valid) {
            if (s->mask)
                memcpy(valid + r * stride, s->mask + (y + r) * iw + x, (size_t)w);
            else
                memset(valid + r * stride, 1, (size_t)w);
        }
    }
}

/* ---- public ----------------------------------------------------------------------------------------------- */

/*
 * The layout check (tifflayout, in mode HS_TIFFLAYOUT_FULL or _ENTRIES):
 * HS_EFORMAT naming the file and what is wrong.  only_truncation: report only a file cut short, and leave err
 * alone otherwise (a vendor's file libtiff's rules do not fit).
 */
static int check_layout(hs_slide *s, int mode, int only_truncation, hs_error *err)
{
    char why[512];
    int rc = hs_tifflayout_check(s->path, MAX_DIRS, mode, why, sizeof why);
    if (rc == 0 || (only_truncation && (rc < 0 || !strstr(why, "truncated"))))
        return HS_OK;
    char esc[512];
    hs_err_escape(esc, sizeof esc, why, strlen(why));
    return hs_error_set(err, rc < 0 ? HS_EIO : HS_EFORMAT, "%s: %s", s->path, esc);
}

static int is_tiff_magic(const unsigned char *b, size_t n)
{
    return n >= 4 && ((b[0] == 'I' && b[1] == 'I' && (b[2] == 42 || b[2] == 43) && b[3] == 0) ||
                      (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && (b[3] == 42 || b[3] == 43)));
}

int hs_slide_open(hs_slide **out, const char *path, double mpp_override, hs_error *err)
{
    return hs_slide_open_backend(out, path, mpp_override, HS_SLIDE_BACKEND_AUTO, err);
}

int hs_slide_open_backend(hs_slide **out, const char *path, double mpp_override, hs_slide_backend backend,
                          hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "hs_slide_open: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return hs_error_set(err, HS_EINVAL, "hs_slide_open: no path");
    if (isnan(mpp_override) || isinf(mpp_override))
        return hs_error_set(err, HS_EINVAL, "%s: pixel size override %g is not finite", path, mpp_override);

    struct stat st;
    if (stat(path, &st) != 0)
        return hs_error_set(err, HS_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return hs_error_set(err, HS_EIO, "%s: is a directory", path);
    if (!S_ISREG(st.st_mode))
        return hs_error_set(err, HS_EIO, "%s: not a regular file (a %s): only files are read as slides", path,
                            S_ISFIFO(st.st_mode)  ? "FIFO"
                            : S_ISCHR(st.st_mode) ? "character device"
                            : S_ISBLK(st.st_mode) ? "block device"
                            : S_ISSOCK(st.st_mode) ? "socket"
                                                   : "special file");
    if (mpp_override > 0 && mpp_override < MIN_PLAUSIBLE_MPP)
        return hs_error_set(err, HS_EINVAL, "%s: pixel size override %g um is not plausible (a slide's is at least %g um)",
                            path, mpp_override, MIN_PLAUSIBLE_MPP);
    FILE *f = fopen(path, "rb");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: %s", path, strerror(errno));
    unsigned char magic[8];
    size_t nmagic = fread(magic, 1, sizeof magic, f);
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        return hs_error_set(err, HS_EIO, "%s: %s", path, strerror(e));
    }

    hs_slide *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        fclose(f);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    }
    s->info.mpp_x = s->info.mpp_y = NAN;
    if (mpp_override > 0)
        set_mpp(s, mpp_override, mpp_override, "override");

    hs_tiffmsg_install();
    int rc;
    if (nmagic == 0) {
        rc = hs_error_set(err, HS_EFORMAT, "%s: empty file", path);
    } else if (nmagic == 8 && png_sig_cmp(magic, 0, 8) == 0) {
        rewind(f);
        rc = decode_png(s, f, err);
    } else {
        int tiff = is_tiff_magic(magic, nmagic);
        hs_tiffmsg_clear();
        /*
         * Every TIFF's directory entries are checked before OpenSlide sees the
         * file: its detection already reads the values an entry states (a
         * 4 GiB ImageDescription in a 4 KB file is a 4 GiB allocation), so a
         * damaged count must not reach it.  A file that fails is not given to
         * OpenSlide at all.
         */
        hs_error entries_err = {0};
        int entries = tiff ? check_layout(s, HS_TIFFLAYOUT_ENTRIES, 0, &entries_err) : HS_OK;
        const char *vendor = entries == HS_OK ? openslide_detect_vendor(path) : NULL;
        /*
         * The TIFF layouts libtiff reads (plain TIFF, generic-tiff, Aperio) are
         * checked first: a file cut short or with counts that contradict its
         * size, which says more than a bad entry.  Other vendors' files (NDPI's
         * offsets wrap past 4 GiB, ...) only when OpenSlide fails, to say
         * whether they are truncated.
         */
        int ours = tiff && (!vendor || !strcmp(vendor, "generic-tiff") || !strcmp(vendor, "aperio"));
        rc = ours ? check_layout(s, HS_TIFFLAYOUT_FULL, 0, err) : HS_OK;
        if (rc == HS_OK && entries != HS_OK) {
            rc = entries;
            if (err)
                *err = entries_err;
        }
        if (rc != HS_OK) {
            /* said */
        } else if (vendor) {
            rc = open_openslide(s, tiff, err);
            if (rc != HS_OK && rc != USE_LIBTIFF && tiff && !ours)
                rc = check_layout(s, HS_TIFFLAYOUT_FULL, 1, err) == HS_OK ? rc : HS_EFORMAT;
            if (rc == HS_OK && ours)
                rc = vet_tiled_file(s, !strcmp(s->vendor, "aperio"), err);
            /* Tiled TIFF layouts libtiff decodes like OpenSlide, only faster: OpenSlide keeps the metadata. */
            if (rc == HS_OK && tiff && backend == HS_SLIDE_BACKEND_AUTO &&
                (!strcmp(s->vendor, "generic-tiff") || !strcmp(s->vendor, "aperio"))) {
                rc = open_tiled(s, err);
                if (rc == HS_OK) {
                    openslide_close(s->osr);
                    s->osr = NULL;
                } else if (rc == NOT_SUITABLE) {
                    rc = HS_OK;
                }
            }
        } else if (rc == HS_OK && tiff)
            rc = USE_LIBTIFF;
        else if (rc == HS_OK)
            rc = hs_error_set(err, HS_EFORMAT,
                              "%s: not a slide image (OpenSlide does not recognise it and it is neither TIFF nor "
                              "PNG)",
                              path);
        if (rc == USE_LIBTIFF)
            rc = open_tiff(s, err);
    }
    fclose(f);
    if (rc != HS_OK) {
        hs_slide_close(s);
        return rc;
    }
    if (!s->info.mpp_source)
        s->info.mpp_source = "none";
    if (s->info.mpp_x < MIN_PLAUSIBLE_MPP || s->info.mpp_y < MIN_PLAUSIBLE_MPP) {
        static const char *const src[][2] = {
            {"openslide", "OpenSlide's openslide.mpp-x/y"},     {"tiff-resolution", "the TIFF resolution tags"},
            {"description", "the image description's MPP"},     {"png-phys", "the PNG pHYs chunk"},
        };
        const char *from = s->info.mpp_source;
        for (size_t k = 0; k < sizeof src / sizeof src[0]; k++)
            if (!strcmp(from, src[k][0]))
                from = src[k][1];
        rc = hs_error_set(err, HS_EFORMAT,
                          "%s: pixel size %g x %g um (from %s) is not plausible: a slide's is at least %g um; "
                          "give the right one with --mpp",
                          path, s->info.mpp_x, s->info.mpp_y, from, MIN_PLAUSIBLE_MPP);
        hs_slide_close(s);
        return rc;
    }
    *out = s;
    return HS_OK;
}

void hs_slide_close(hs_slide *s)
{
    if (!s)
        return;
    if (s->osr)
        openslide_close(s->osr);
    tiled_free(s);
    free(s->lw);
    free(s->lh);
    free(s->lds);
    free(s->pix);
    free(s->mask);
    free(s->rows);
    free(s->path);
    free(s);
}

const hs_slide_info *hs_slide_get_info(const hs_slide *s)
{
    return s ? &s->info : NULL;
}

int hs_slide_level(const hs_slide *s, int level, int64_t *w, int64_t *h, double *downsample)
{
    if (!s || level < 0 || level >= s->info.nlevel)
        return HS_EINVAL;
    if (w)
        *w = s->lw[level];
    if (h)
        *h = s->lh[level];
    if (downsample)
        *downsample = s->lds[level];
    return HS_OK;
}

int hs_slide_best_level(const hs_slide *s, double target_mpp)
{
    if (!s || !(target_mpp > 0) || !isfinite(target_mpp) || !(s->info.mpp_x > 0))
        return 0;
    double mpp = s->info.mpp_y > 0 ? 0.5 * (s->info.mpp_x + s->info.mpp_y) : s->info.mpp_x;
    int best = 0;
    double best_d = INFINITY;
    for (int l = 0; l < s->info.nlevel; l++) {
        /* Distance on a log scale, so that 2x too fine and 2x too coarse count alike; ties go to the finer. */
        double d = fabs(log(mpp * s->lds[l] / target_mpp));
        if (d < best_d - 1e-12) {
            best = l;
            best_d = d;
        }
    }
    return best;
}

int hs_slide_read(hs_slide *s, int level, int64_t x, int64_t y, int w, int h, uint8_t *rgb, uint8_t *valid,
                  hs_error *err)
{
    if (!s || !rgb)
        return hs_error_set(err, HS_EINVAL, "hs_slide_read: NULL argument");
    if (level < 0 || level >= s->info.nlevel)
        return hs_error_set(err, HS_EINVAL, "%s: level %d does not exist (%d levels)", s->path, level,
                            s->info.nlevel);
    if (w <= 0 || h <= 0)
        return hs_error_set(err, HS_EINVAL, "%s: bad region size %dx%d", s->path, w, h);
    int64_t lw = s->lw[level], lh = s->lh[level];
    /* The part of the region inside the level. */
    int64_t x0 = x > 0 ? x : 0, y0 = y > 0 ? y : 0;
    int64_t x1 = x + w < lw ? x + w : lw, y1 = y + h < lh ? y + h : lh;
    if (x0 >= x1 || y0 >= y1) {
        memset(rgb, 255, (size_t)w * h * 3);
        if (valid)
            memset(valid, 0, (size_t)w * h);
        return HS_OK;
    }
    if (x0 != x || y0 != y || x1 != x + w || y1 != y + h) {
        memset(rgb, 255, (size_t)w * h * 3);
        if (valid)
            memset(valid, 0, (size_t)w * h);
    }
    size_t off = (size_t)((y0 - y) * w + (x0 - x));
    if (s->tif)
        return read_tiled(s, level, x0, y0, x1 - x0, y1 - y0, rgb + 3 * off, valid ? valid + off : NULL, w, err);
    if (s->osr)
        return read_openslide(s, level, x0, y0, x1 - x0, y1 - y0, rgb + 3 * off, valid ? valid + off : NULL, w, err);
    read_memory(s, x0, y0, x1 - x0, y1 - y0, rgb + 3 * off, valid ? valid + off : NULL, w);
    return HS_OK;
}

int hs_slide_explain_damage(hs_slide *s, int level, hs_error *err)
{
    int code = err ? err->code : HS_EFORMAT;
    if (!s || !s->tif || level < 0 || level >= s->info.nlevel || code != HS_EFORMAT)
        return code;
    const tlevel *t = &s->tl[level];
    if (tiled_set_dir(s, t) != 0)
        return code;
    uint32_t ntile = (uint32_t)TIFFNumberOfTiles(s->tif), nbad = 0;
    int64_t lw = s->lw[level], lh = s->lh[level];
    double bad_area = 0;
    hs_error first, e;
    hs_error_clear(&first);
    for (uint32_t i = 0; i < ntile; i++) {
        const uint8_t *pix;
        int rc = tiled_get(s, level, i, &pix, &e);
        if (rc == HS_ENOMEM)
            return code;
        if (rc == HS_OK)
            continue;
        if (nbad++ == 0)
            first = e;
        int64_t c = i % t->across, r = i / t->across;
        int64_t w = lw - c * t->tw < t->tw ? lw - c * t->tw : t->tw, h = lh - r * t->th < t->th ? lh - r * t->th : t->th;
        bad_area += w > 0 && h > 0 ? (double)w * h : 0;
    }
    if (nbad == 0)
        return code;
    /* The first failure's message without its "path: " */
    size_t plen = strlen(s->path);
    const char *why = !strncmp(first.msg, s->path, plen) && !strncmp(first.msg + plen, ": ", 2) ? first.msg + plen + 2
                                                                                               : first.msg;
    return hs_error_set(err, HS_EFORMAT,
                        "%s: %u of %u tiles of level %d could not be decoded, %.1f%% of the slide's area; the slide is "
                        "not scored, as its numbers would be wrong (the first: %s)",
                        s->path, (unsigned)nbad, (unsigned)ntile, level, 100.0 * bad_area / ((double)lw * lh), why);
}

uint64_t hs_slide_tiles_decoded(const hs_slide *s)
{
    return s ? s->ndecoded : 0;
}

size_t hs_slide_cache_bytes(const hs_slide *s)
{
    size_t n = 0;
    for (int i = 0; s && i < s->nslot; i++)
        n += s->slots[i].pix ? s->slot_bytes : 0;
    return n;
}
