/*
 * slide: reading slide images region by region, whatever the format.
 *
 * Whole-slide images (Aperio SVS, Hamamatsu NDPI, MIRAX, generic tiled TIFF
 * and every other format OpenSlide 3.4 reads) are opened with OpenSlide, which
 * gives the levels and metadata; tiled TIFF and SVS files with 8-bit RGB or
 * YCbCr-JPEG tiles (JPEG, LZW, Deflate, uncompressed) are then decoded tile by
 * tile with libtiff, which gives the same pixels faster, and the rest through
 * OpenSlide.  Plain (stripped) TIFF and PNG images of small fields of view
 * are decoded with libtiff / libpng.  Pixels come out as un-premultiplied
 * 8-bit RGB; pixels with no data (alpha 0, a missing tile, outside the image)
 * come out white and flagged invalid.
 *
 * A handle must be used by one thread at a time; to read in parallel, open
 * one handle per thread.  Memory per handle is bounded (a tile cache of at
 * most 16 MB plus the region being read), whatever the slide size.
 * Microns per pixel come from, in order: the caller's override, OpenSlide's
 * openslide.mpp-x/y, the TIFF resolution tags (tiff.XResolution with
 * tiff.ResolutionUnit), an Aperio-style "|MPP = x|" in the image description,
 * PNG's pHYs chunk.
 */
#ifndef HS_SLIDE_H
#define HS_SLIDE_H

#include <stddef.h>
#include <stdint.h>

#include "util/hs_error.h"

typedef struct hs_slide hs_slide;

typedef struct hs_slide_info {
    int64_t width, height;  /* level-0 size in pixels */
    int nlevel;
    double mpp_x, mpp_y;    /* level-0 microns per pixel; NAN when unknown */
    const char *mpp_source; /* "override", "openslide", "tiff-resolution", "description", "png-phys", "none" */
    const char *backend;    /* who decodes the pixels: "openslide", "libtiff" (tiled TIFF, tile by tile),
                               "tiff" (plain TIFF, whole at open), "png" */
    const char *vendor;     /* OpenSlide's vendor ("aperio", "generic-tiff", ...), or "tiff" / "png" */
} hs_slide_info;

/*
 * Opens the slide at path.  mpp_override > 0 replaces the file's pixel size.
 * Fails with HS_EIO (missing/unreadable file), HS_EFORMAT (not an image it can
 * read, corrupt or truncated; the message gives OpenSlide's/libtiff's reason,
 * says "truncated" with the sizes for a file cut short, and names a TIFF field
 * whose value is not plausible: Photometric, tile or image sizes, samples,
 * bits, planar layout, compression, counts of tiles), HS_ENOMEM.
 */
int hs_slide_open(hs_slide **out, const char *path, double mpp_override, hs_error *err) HS_RESULT_USED;
void hs_slide_close(hs_slide *s);

const hs_slide_info *hs_slide_get_info(const hs_slide *s);

/* Size of a level in pixels and its downsample factor relative to level 0. HS_EINVAL for a bad level. */
int hs_slide_level(const hs_slide *s, int level, int64_t *w, int64_t *h, double *downsample) HS_RESULT_USED;

/* The level whose pixel size is nearest to target_mpp (level 0 when the pixel size is unknown). */
int hs_slide_best_level(const hs_slide *s, double target_mpp);

/*
 * Reads the w x h region whose top-left pixel is (x, y) in LEVEL coordinates
 * (not level 0) into rgb (w*h*3 bytes, row-major).  Parts outside the image or
 * without data are white and, when valid is not NULL, valid[i] = 0 (else 1).
 * Fails with HS_EFORMAT when the decoder reports an error or corrupt data
 * (the message names the file and, for the libtiff backend, the level and
 * tile; libjpeg's corrupt-data warnings and Deflate streams that fail their
 * checksum count), HS_EINVAL for a bad level or size, HS_ENOMEM.
 */
int hs_slide_read(hs_slide *s, int level, int64_t x, int64_t y, int w, int h, uint8_t *rgb, uint8_t *valid,
                  hs_error *err) HS_RESULT_USED;

/*
 * After a read of `level` failed with HS_EFORMAT, says how much of the level
 * is lost: on the libtiff tiled backend, decodes every tile of the level (one
 * pass, only on this error path) and, when some fail, rewrites err as
 * "<file>: 3 of 64 tiles of level 0 could not be decoded, 4.7% of the slide's
 * area; ... (the first: <the first tile's reason>)".  Other backends, or no
 * failing tile found: err is left as it is.  Returns err's code.
 */
int hs_slide_explain_damage(hs_slide *s, int level, hs_error *err);

#endif /* HS_SLIDE_H */
