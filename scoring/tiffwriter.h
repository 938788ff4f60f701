/*
 * tiffwriter: streaming writer of pyramidal tiled TIFF slides that OpenSlide
 * opens as generic-tiff.  Level 0 arrives in horizontal bands; every lower
 * level (2x box-downsampled) is built on the fly, so memory stays
 * O(width * tile) whatever the image height.  Lower levels are marked
 * FILETYPE_REDUCEDIMAGE; resolution tags (centimetre unit) and an Aperio-style
 * "|MPP = x|" description carry the pixel size.
 */
#ifndef HS_TIFFWRITER_H
#define HS_TIFFWRITER_H

#include <stdint.h>

#include "util/hs_error.h"

typedef enum { HS_TIFF_DEFLATE = 0, HS_TIFF_JPEG = 1, HS_TIFF_LZW = 2, HS_TIFF_NONE = 3 } hs_tiff_compression;

/* Chroma subsampling of JPEG tiles (YCbCr): 2x2 (4:2:0, the default) or none (4:4:4). */
typedef enum { HS_TIFF_YCBCR_420 = 0, HS_TIFF_YCBCR_444 = 1 } hs_tiff_subsampling;

typedef struct hs_tiffw hs_tiffw;

/*
 * Starts writing a width x height RGB slide at path with square tiles of side
 * tile (a multiple of 16), nlevels pyramid levels (>= 1; each halves the
 * previous), the given compression (jpeg_quality 1..100 for JPEG) and pixel
 * size mpp (microns per pixel at level 0, > 0).  Output is deterministic: the
 * same pixels give the same bytes.  Fails with HS_EINVAL, HS_EIO, HS_ENOMEM.
 */
int hs_tiffw_open(hs_tiffw **out, const char *path, uint32_t width, uint32_t height, uint32_t tile, int nlevels,
                  hs_tiff_compression comp, int jpeg_quality, double mpp, hs_error *err) HS_RESULT_USED;

/*
 * Sets the chroma subsampling of JPEG tiles (every level); it has no effect on
 * other compressions.  Must come before the first band: HS_EINVAL after it or
 * for an unknown value, HS_EIO when libtiff refuses the tags.
 */
int hs_tiffw_set_subsampling(hs_tiffw *w, hs_tiff_subsampling sub, hs_error *err) HS_RESULT_USED;

/*
 * Appends the next band of level-0 rows, top to bottom: rgb holds rows rows of
 * width*3 bytes.  Every band has exactly `tile` rows except the last one.
 */
int hs_tiffw_write_band(hs_tiffw *w, const uint8_t *rgb, uint32_t rows, hs_error *err) HS_RESULT_USED;

/*
 * Finishes the file (all rows must have been written) and frees w.  w is
 * freed on failure too.  The file is written as path.tmp and renamed to path
 * only when complete and synced (util/hs_atomic.h); a failure removes it.
 */
int hs_tiffw_close(hs_tiffw *w, hs_error *err) HS_RESULT_USED;

/* Frees w and removes the partial file (path.tmp), after a failure. NULL is a no-op. */
void hs_tiffw_abort(hs_tiffw *w);

#endif /* HS_TIFFWRITER_H */
