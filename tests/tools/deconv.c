/*
 * deconv: test tool.  Reads an image through scoring/slide (level 0, whole
 * image) and writes its hematoxylin and DAB concentrations as raw
 * little-endian float32 planes, for comparison with scikit-image.
 * Usage: deconv IMAGE STAINS OUT_H.f32 OUT_DAB.f32   (STAINS as hetsurv score --stains)
 */
#include <stdio.h>
#include <stdlib.h>

#include "scoring/slide.h"
#include "scoring/stain.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: deconv IMAGE STAINS OUT_H.f32 OUT_DAB.f32\n");
        return 2;
    }
    hs_error err;
    double h[3], d[3], t[3];
    int has_third;
    hs_slide *s = NULL;
    hs_stain st;
    if (hs_stain_parse(argv[2], h, d, t, &has_third, &err) != HS_OK ||
        hs_stain_init(&st, h, d, has_third ? t : NULL, NULL, &err) != HS_OK ||
        hs_slide_open(&s, argv[1], 1.0, &err) != HS_OK) {
        fprintf(stderr, "deconv: %s\n", err.msg);
        return 1;
    }
    const hs_slide_info *info = hs_slide_get_info(s);
    size_t n = (size_t)info->width * (size_t)info->height;
    uint8_t *rgb = malloc(n * 3);
    float *hem = malloc(n * sizeof *hem), *dab = malloc(n * sizeof *dab);
    int rc = 1;
    if (rgb && hem && dab &&
        hs_slide_read(s, 0, 0, 0, (int)info->width, (int)info->height, rgb, NULL, &err) == HS_OK) {
        hs_stain_apply(&st, rgb, n, hem, dab);
        FILE *fh = fopen(argv[3], "wb"), *fd = fopen(argv[4], "wb");
        if (fh && fd && fwrite(hem, sizeof *hem, n, fh) == n && fwrite(dab, sizeof *dab, n, fd) == n)
            rc = 0;
        if (fh && fclose(fh) != 0)
            rc = 1;
        if (fd && fclose(fd) != 0)
            rc = 1;
        if (rc)
            fprintf(stderr, "deconv: cannot write the planes\n");
        else
            printf("%lld %lld\n", (long long)info->width, (long long)info->height);
    } else {
        fprintf(stderr, "deconv: %s\n", rgb && hem && dab ? err.msg : "out of memory");
    }
    free(rgb);
    free(hem);
    free(dab);
    hs_slide_close(s);
    return rc;
}
