/*
 * slide_decode: the physical floor of slide scoring.  Reads and decodes every
 * tile of a level with OpenSlide alone (openslide_read_region, one tile-sized
 * region at a time, nothing else done with the pixels) and prints the level's
 * size, the time taken and the megapixels per second.
 * Usage: slide_decode SLIDE [LEVEL]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openslide.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: slide_decode SLIDE [LEVEL]\n");
        return 2;
    }
    openslide_t *os = openslide_open(argv[1]);
    if (!os || openslide_get_error(os)) {
        fprintf(stderr, "slide_decode: %s: %s\n", argv[1], os ? openslide_get_error(os) : "not a slide");
        if (os)
            openslide_close(os);
        return 1;
    }
    int level = argc == 3 ? atoi(argv[2]) : 0;
    int64_t w, h;
    openslide_get_level_dimensions(os, level, &w, &h);
    double ds = openslide_get_level_downsample(os, level);
    char key[64];
    snprintf(key, sizeof key, "openslide.level[%d].tile-width", level);
    const char *tw = openslide_get_property_value(os, key);
    int64_t tile = tw ? atoll(tw) : 256;
    uint32_t *buf = malloc((size_t)tile * (size_t)tile * 4);
    if (!buf) {
        openslide_close(os);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t sum = 0;
    for (int64_t y = 0; y < h; y += tile)
        for (int64_t x = 0; x < w; x += tile) {
            openslide_read_region(os, buf, (int64_t)(x * ds), (int64_t)(y * ds), level, tile, tile);
            sum += buf[0];
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const char *e = openslide_get_error(os);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("decode %lld x %lld level %d tile %lld: %.3f s, %.1f MP/s (checksum %llu)\n", (long long)w, (long long)h,
           level, (long long)tile, sec, (double)w * (double)h / 1e6 / sec, (unsigned long long)sum);
    free(buf);
    openslide_close(os);
    if (e) {
        fprintf(stderr, "slide_decode: %s\n", e);
        return 1;
    }
    return 0;
}
