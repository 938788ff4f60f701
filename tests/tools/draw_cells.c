/*
 * draw_cells: draws the tumour cells of a `hetsurv score --cells` table over
 * a window of the slide they came from, for review by eye: a dot at each
 * nucleus centroid and a circle of the cell's measured radius, coloured by
 * class (0 blue, 1+ yellow, 2+ orange, 3+ red).  Writes a PNG.
 * Usage: draw_cells SLIDE CELLS.csv X0_UM Y0_UM W_UM H_UM OUT.png [MPP] [SCALE]
 * (MPP: the slide's pixel size when the file does not record it; SCALE:
 * output pixels per slide pixel, default 2.)
 */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/slide.h"

static void put(uint8_t *img, int W, int H, int x, int y, const uint8_t c[3])
{
    if (x >= 0 && y >= 0 && x < W && y < H)
        memcpy(img + ((size_t)y * W + x) * 3, c, 3);
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: draw_cells SLIDE CELLS.csv X0_UM Y0_UM W_UM H_UM OUT.png [MPP] [SCALE]\n");
        return 2;
    }
    double x0 = atof(argv[3]), y0 = atof(argv[4]), wu = atof(argv[5]), hu = atof(argv[6]);
    double mpp_over = argc > 8 ? atof(argv[8]) : 0;
    int scale = argc > 9 ? atoi(argv[9]) : 2;
    hs_slide *s;
    hs_error err;
    if (hs_slide_open(&s, argv[1], mpp_over, &err) != HS_OK) {
        fprintf(stderr, "draw_cells: %s\n", err.msg);
        return 1;
    }
    double mpp = hs_slide_get_info(s)->mpp_x;
    int w = (int)(wu / mpp), h = (int)(hu / mpp), W = w * scale, H = h * scale;
    uint8_t *rgb = malloc((size_t)w * h * 3), *img = malloc((size_t)W * H * 3);
    if (!rgb || !img || hs_slide_read(s, 0, (int64_t)(x0 / mpp), (int64_t)(y0 / mpp), w, h, rgb, NULL, &err) != HS_OK) {
        fprintf(stderr, "draw_cells: cannot read the window\n");
        return 1;
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            memcpy(img + ((size_t)y * W + x) * 3, rgb + ((size_t)(y / scale) * w + x / scale) * 3, 3);
    FILE *f = fopen(argv[2], "r");
    char line[512];
    static const uint8_t col[4][3] = {{40, 90, 255}, {230, 220, 0}, {255, 130, 0}, {230, 0, 0}};
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "draw_cells: cannot read %s\n", argv[2]);
        return 1;
    }
    while (fgets(line, sizeof line, f)) {
        double x, y, area, dab, comp, rad = 0;
        char cls[8];
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%7[^,],%lf", &x, &y, &area, &dab, &comp, cls, &rad) < 6)
            continue;
        int k = cls[0] == '3' ? 3 : cls[0] == '2' ? 2 : cls[0] == '1' ? 1 : 0;
        double px = (x - x0) / mpp * scale, py = (y - y0) / mpp * scale, pr = rad / mpp * scale;
        if (px < -pr || py < -pr || px > W + pr || py > H + pr)
            continue;
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++)
                put(img, W, H, (int)px + dx, (int)py + dy, col[k]);
        for (int a = 0; a < 360; a += 2)
            put(img, W, H, (int)(px + pr * cos(a * M_PI / 180)), (int)(py + pr * sin(a * M_PI / 180)), col[k]);
    }
    fclose(f);
    FILE *o = fopen(argv[7], "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!o || !png || !info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "draw_cells: cannot write %s\n", argv[7]);
        return 1;
    }
    png_init_io(png, o);
    png_set_IHDR(png, info, (png_uint_32)W, (png_uint_32)H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < H; y++)
        png_write_row(png, img + (size_t)y * W * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(o);
    free(rgb);
    free(img);
    hs_slide_close(s);
    return 0;
}
