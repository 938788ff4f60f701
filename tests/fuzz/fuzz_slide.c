/*
 * fuzz_slide: a TIFF or PNG slide through hetsurv's reader (scoring/slide.c):
 * open (OpenSlide's detection, the libtiff tiled backend, plain TIFF, PNG),
 * the header (levels, pixel size), then a few regions of every level read
 * through hs_slide_read: the first tile, one across a tile border, the last
 * pixels, one partly outside.  Regions are small (at most 96 x 96), so that
 * no input can legitimately take long: time or memory going into an input
 * is the reader's own.
 */
#include "tests/fuzz/fuzz_common.h"

#include "scoring/slide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SIDE 96
#define MAX_LEVELS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t rgb[SIDE * SIDE * 3], valid[SIDE * SIDE];
    int png = size >= 4 && data[0] == 0x89 && data[1] == 'P';
    const char *path = png ? fz_file(1, "slide.png", data, size) : fz_file(0, "slide.tif", data, size);
    hs_slide *s = NULL;
    hs_error err;
    if (hs_slide_open(&s, path, 0, &err) != HS_OK)
        return 0;
    const hs_slide_info *in = hs_slide_get_info(s);
    (void)hs_slide_best_level(s, 2.0);
    for (int l = 0; l < in->nlevel && l < MAX_LEVELS; l++) {
        int64_t w, h;
        double ds;
        if (hs_slide_level(s, l, &w, &h, &ds) != HS_OK)
            continue;
        const int64_t at[][2] = {{0, 0}, {w / 2 - SIDE / 2, h / 2 - SIDE / 2}, {w - SIDE, h - SIDE}, {w - 8, -8}};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++)
            if (hs_slide_read(s, l, at[k][0], at[k][1], SIDE, SIDE, rgb, valid, &err) != HS_OK)
                break;
    }
    hs_slide_close(s);
    return 0;
}
