/* thumb: a box-filtered picture of a whole slide (see thumb.h). */
#include "scoring/thumb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Blocks read from the source level: 2048 x 64 pixels (384 KB of RGB), whatever the slide size. */
#define BLOCK_W 2048
#define BLOCK_H 64

void hs_thumb_clear(hs_thumb *t)
{
    if (!t)
        return;
    free(t->rgb);
    memset(t, 0, sizeof *t);
}

/* The coarsest level at least as large as the picture (level 0 when none is) into *level. */
static int source_level(hs_slide *s, int64_t pw, int64_t ph, int *level, int64_t *lw, int64_t *lh, hs_error *err)
{
    const hs_slide_info *info = hs_slide_get_info(s);
    for (int l = info->nlevel - 1; l >= 0; l--) {
        double ds;
        if (hs_slide_level(s, l, lw, lh, &ds) != HS_OK)
            return hs_error_set(err, HS_EFORMAT, "slide has no level %d", l);
        if (l == 0 || (*lw >= pw && *lh >= ph)) {
            *level = l;
            return HS_OK;
        }
    }
    return hs_error_set(err, HS_EFORMAT, "slide has no levels");
}

int hs_thumb_read(hs_slide *s, int max_side, hs_thumb *t, hs_error *err)
{
    if (!s || !t || max_side < 16)
        return hs_error_set(err, HS_EINVAL, "hs_thumb_read: bad argument");
    memset(t, 0, sizeof *t);
    const hs_slide_info *info = hs_slide_get_info(s);
    int64_t W = info->width, H = info->height;
    if (W < 1 || H < 1)
        return hs_error_set(err, HS_EFORMAT, "slide has an empty level 0");
    double scale = fmin(1.0, (double)max_side / (double)(W > H ? W : H));
    int64_t pw = (int64_t)llround((double)W * scale), ph = (int64_t)llround((double)H * scale);
    if (pw < 1)
        pw = 1;
    if (ph < 1)
        ph = 1;
    int64_t lw = 0, lh = 0;
    int level = 0, rc = source_level(s, pw, ph, &level, &lw, &lh, err);
    if (rc != HS_OK)
        return rc;
    /* the sums are 32-bit: at most 2^32 / 255 source pixels per picture pixel */
    if ((double)(lw / pw + 2) * (double)(lh / ph + 2) * 255.0 > 4294967295.0)
        return hs_error_set(err, HS_EINVAL, "slide too large for a thumbnail without a pyramid (%lldx%lld pixels)",
                            (long long)lw, (long long)lh);
    size_t np = (size_t)(pw * ph);
    uint32_t *sum = calloc(np * 4, sizeof *sum); /* R, G, B sums and the count of each picture pixel */
    uint8_t *block = malloc((size_t)BLOCK_W * BLOCK_H * 3);
    int64_t *col = malloc((size_t)(lw < BLOCK_W ? lw : BLOCK_W) * sizeof *col);
    t->rgb = malloc(np * 3);
    if (!sum || !block || !col || !t->rgb)
        rc = hs_error_set(err, HS_ENOMEM, "out of memory for a %lldx%lld thumbnail", (long long)pw, (long long)ph);
    /* a source pixel (x, y) falls in picture pixel (x * pw / lw, y * ph / lh) */
    for (int64_t y0 = 0; rc == HS_OK && y0 < lh; y0 += BLOCK_H) {
        int bh = (int)(lh - y0 < BLOCK_H ? lh - y0 : BLOCK_H);
        for (int64_t x0 = 0; rc == HS_OK && x0 < lw; x0 += BLOCK_W) {
            int bw = (int)(lw - x0 < BLOCK_W ? lw - x0 : BLOCK_W);
            if ((rc = hs_slide_read(s, level, x0, y0, bw, bh, block, NULL, err)) != HS_OK)
                break;
            for (int x = 0; x < bw; x++)
                col[x] = (x0 + x) * pw / lw;
            for (int y = 0; y < bh; y++) {
                uint32_t *row = sum + (size_t)((y0 + y) * ph / lh) * (size_t)pw * 4;
                const uint8_t *q = block + (size_t)y * (size_t)bw * 3;
                for (int x = 0; x < bw; x++, q += 3) {
                    uint32_t *a = row + col[x] * 4;
                    a[0] += q[0];
                    a[1] += q[1];
                    a[2] += q[2];
                    a[3]++;
                }
            }
        }
    }
    if (rc == HS_OK) {
        for (size_t i = 0; i < np; i++) {
            const uint32_t *a = sum + 4 * i;
            for (int k = 0; k < 3; k++)
                t->rgb[3 * i + (size_t)k] = a[3] ? (uint8_t)((a[k] + a[3] / 2) / a[3]) : 255;
        }
        t->w = (int)pw;
        t->h = (int)ph;
        t->px_per_l0 = (double)pw / (double)W;
        t->um_per_px = isfinite(info->mpp_x) ? info->mpp_x / t->px_per_l0 : NAN;
    } else {
        hs_thumb_clear(t);
    }
    free(sum);
    free(block);
    free(col);
    return rc;
}
