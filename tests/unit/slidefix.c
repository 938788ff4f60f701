/*
 * slidefix: test images for the slide and tiffwriter suites (see slidefix.h).
 */
#include "slidefix.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint8_t hs_fix_noise(uint32_t x, uint32_t y, int c)
{
    uint32_t v = x * 0x9E3779B1u ^ (y + 0x7F4A7C15u) * 0x85EBCA77u ^ (uint32_t)(c + 1) * 0xC2B2AE3Du;
    v ^= v >> 15;
    v *= 0x2C1B3C6Du;
    v ^= v >> 13;
    return (uint8_t)(v >> 24);
}

uint8_t hs_fix_smooth(uint32_t x, uint32_t y, int c)
{
    double v = 128 + 90 * sin(x / (31.0 + 7 * c)) * cos(y / (47.0 - 5 * c));
    return (uint8_t)lround(v);
}

int hs_fix_write_slide(const char *path, uint32_t w, uint32_t h, uint32_t tile, int nlevels, hs_tiff_compression comp,
                       int quality, double mpp, hs_fix_pattern p)
{
    return hs_fix_write_slide_chroma(path, w, h, tile, nlevels, comp, quality, 2, mpp, p);
}

int hs_fix_write_slide_chroma(const char *path, uint32_t w, uint32_t h, uint32_t tile, int nlevels,
                              hs_tiff_compression comp, int quality, int chroma, double mpp, hs_fix_pattern p)
{
    hs_tiffw *tw;
    int rc = hs_tiffw_open(&tw, path, w, h, tile, nlevels, comp, quality, mpp, NULL);
    if (rc != 0)
        return rc;
    if (comp == HS_TIFF_JPEG && chroma != 2 && (rc = hs_tiffw_set_subsampling(tw, chroma == 1 ? HS_TIFF_YCBCR_444 : HS_TIFF_YCBCR_420, NULL)) != 0) {
        hs_tiffw_abort(tw);
        return rc;
    }
    uint8_t *band = malloc((size_t)w * tile * 3);
    if (!band) {
        hs_tiffw_abort(tw);
        return -2;
    }
    for (uint32_t y0 = 0; y0 < h; y0 += tile) {
        uint32_t rows = h - y0 < tile ? h - y0 : tile;
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    band[((size_t)r * w + x) * 3 + c] = p(x, y0 + r, c);
        if ((rc = hs_tiffw_write_band(tw, band, rows, NULL)) != 0) {
            free(band);
            hs_tiffw_abort(tw);
            return rc;
        }
    }
    free(band);
    return hs_tiffw_close(tw, NULL);
}

uint8_t *hs_fix_pyramid(uint32_t w, uint32_t h, hs_fix_pattern p, int level, uint32_t *lw, uint32_t *lh)
{
    uint8_t *img = malloc((size_t)w * h * 3);
    if (!img)
        return NULL;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                img[((size_t)y * w + x) * 3 + c] = p(x, y, c);
    for (int l = 0; l < level; l++) {
        uint32_t nw = (w + 1) / 2, nh = (h + 1) / 2;
        uint8_t *next = malloc((size_t)nw * nh * 3);
        if (!next) {
            free(img);
            return NULL;
        }
        for (uint32_t y = 0; y < nh; y++)
            for (uint32_t x = 0; x < nw; x++)
                for (int c = 0; c < 3; c++) {
                    unsigned sum = 0, n = 0;
                    for (uint32_t dy = 0; dy < 2; dy++)
                        for (uint32_t dx = 0; dx < 2; dx++)
                            if (2 * x + dx < w && 2 * y + dy < h) {
                                sum += img[((size_t)(2 * y + dy) * w + 2 * x + dx) * 3 + c];
                                n++;
                            }
                    next[((size_t)y * nw + x) * 3 + c] = (uint8_t)floor((double)sum / n + 0.5);
                }
        free(img);
        img = next;
        w = nw;
        h = nh;
    }
    *lw = w;
    *lh = h;
    return img;
}

static int saved_fd = -1;
static FILE *capture;

void hs_fix_stderr_begin(void)
{
    fflush(stderr);
    capture = tmpfile();
    saved_fd = dup(fileno(stderr));
    if (capture && saved_fd >= 0)
        dup2(fileno(capture), fileno(stderr));
}

long hs_fix_stderr_end(void)
{
    fflush(stderr);
    long n = -1;
    if (saved_fd >= 0) {
        dup2(saved_fd, fileno(stderr));
        close(saved_fd);
        saved_fd = -1;
    }
    if (capture) {
        fseek(capture, 0, SEEK_END);
        n = ftell(capture);
        fclose(capture);
        capture = NULL;
    }
    return n;
}

long long hs_fix_file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseeko(f, 0, SEEK_END);
    long long n = ftello(f);
    fclose(f);
    return n;
}

int hs_fix_truncate(const char *path, long long len)
{
    return truncate(path, (off_t)len);
}

int hs_fix_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}
