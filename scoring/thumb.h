/*
 * thumb: a small RGB picture of a whole slide, for figures (the slide maps).
 *
 * The picture is the slide's level-0 extent scaled to fit max_side pixels on
 * its long side, each pixel the mean of the source pixels it covers (a box
 * filter: no aliasing of the tissue texture).  The source is the coarsest
 * pyramid level still at least as large as the picture, read in strips of
 * rows, so memory is the picture plus one strip whatever the slide size;
 * a slide without a pyramid is read whole at level 0, strip by strip.
 * Pixels without data (outside the image, missing tiles) count as white.
 */
#ifndef HS_THUMB_H
#define HS_THUMB_H

#include <stdint.h>

#include "scoring/slide.h"
#include "util/hs_error.h"

typedef struct hs_thumb {
    int w, h;          /* picture size in pixels */
    uint8_t *rgb;      /* w*h*3, row-major */
    double um_per_px;  /* level-0 micrometres per picture pixel (x; NAN when the slide's pixel size is unknown) */
    double px_per_l0;  /* picture pixels per level-0 pixel */
} hs_thumb;

/*
 * Reads the picture of slide s, its long side max_side pixels (>= 16; a
 * slide smaller than that is not enlarged).  On success *t owns the pixels
 * (hs_thumb_clear frees them).  Fails with HS_EINVAL (bad argument), the
 * slide's HS_EFORMAT / HS_EIO, or HS_ENOMEM.
 */
int hs_thumb_read(hs_slide *s, int max_side, hs_thumb *t, hs_error *err) HS_RESULT_USED;

void hs_thumb_clear(hs_thumb *t);

#endif /* HS_THUMB_H */
