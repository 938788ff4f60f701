/*
 * slide_decode: the physical floor of slide scoring.  Reads and decodes every
 * tile of a level, nothing else done with the pixels, on one thread, and
 * prints the level's size, the time taken and the megapixels per second.
 *   default     OpenSlide alone: openslide_read_region, one tile-sized
 *               region at a time.
 *   --libtiff   libtiff alone (tiled TIFF): TIFFReadEncodedTile of every tile
 *               of the level's directory into one RGB tile buffer, YCbCr JPEG
 *               converted to RGB by libjpeg (like `vips avg`).  LEVEL counts
 *               the tiled directories that are level 0 or reduced-resolution.
 * Usage: slide_decode [--libtiff] SLIDE [LEVEL]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openslide.h>
#include <tiffio.h>

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

static void report(const char *how, long long w, long long h, int level, long long tile, double sec,
                   unsigned long long sum)
{
    printf("decode (%s) %lld x %lld level %d tile %lld: %.3f s, %.1f MP/s (checksum %llu)\n", how, w, h, level, tile,
           sec, (double)w * (double)h / 1e6 / sec, sum);
}

static int decode_openslide(const char *path, int level)
{
    openslide_t *os = openslide_open(path);
    if (!os || openslide_get_error(os)) {
        fprintf(stderr, "slide_decode: %s: %s\n", path, os ? openslide_get_error(os) : "not a slide");
        if (os)
            openslide_close(os);
        return 1;
    }
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
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t sum = 0;
    for (int64_t y = 0; y < h; y += tile)
        for (int64_t x = 0; x < w; x += tile) {
            openslide_read_region(os, buf, (int64_t)(x * ds), (int64_t)(y * ds), level, tile, tile);
            sum += buf[0];
        }
    double sec = seconds_since(&t0);
    const char *e = openslide_get_error(os);
    report("openslide", (long long)w, (long long)h, level, (long long)tile, sec, (unsigned long long)sum);
    free(buf);
    openslide_close(os);
    if (e) {
        fprintf(stderr, "slide_decode: %s\n", e);
        return 1;
    }
    return 0;
}

/* Moves t to the level-th tiled directory that is the first one or marked reduced-resolution. */
static int find_level(TIFF *t, int level)
{
    int seen = 0;
    do {
        uint32_t sub = 0;
        int is_level = TIFFIsTiled(t) && (TIFFCurrentDirectory(t) == 0 ||
                                          (TIFFGetField(t, TIFFTAG_SUBFILETYPE, &sub) && (sub & FILETYPE_REDUCEDIMAGE)));
        if (is_level && seen++ == level)
            return 0;
    } while (TIFFReadDirectory(t));
    return -1;
}

static int decode_libtiff(const char *path, int level)
{
    TIFF *t = TIFFOpen(path, "r");
    if (!t)
        return 1;
    if (find_level(t, level) != 0) {
        fprintf(stderr, "slide_decode: %s: no tiled level %d\n", path, level);
        TIFFClose(t);
        return 1;
    }
    uint32_t w = 0, h = 0, tw = 0, th = 0;
    uint16_t comp = 0, photo = 0;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
    TIFFGetField(t, TIFFTAG_COMPRESSION, &comp);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
    if (comp == COMPRESSION_JPEG && photo == PHOTOMETRIC_YCBCR)
        TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    tmsize_t size = TIFFTileSize(t);
    uint8_t *buf = malloc((size_t)size);
    if (!buf || size <= 0) {
        free(buf);
        TIFFClose(t);
        return 1;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t sum = 0;
    int rc = 0;
    ttile_t n = TIFFNumberOfTiles(t);
    for (ttile_t i = 0; i < n && rc == 0; i++) {
        if (TIFFReadEncodedTile(t, i, buf, size) < 0)
            rc = 1;
        sum += buf[0];
    }
    double sec = seconds_since(&t0);
    report("libtiff", w, h, level, tw, sec, (unsigned long long)sum);
    if (rc)
        fprintf(stderr, "slide_decode: %s: a tile failed to decode\n", path);
    free(buf);
    TIFFClose(t);
    return rc;
}

int main(int argc, char **argv)
{
    int libtiff = argc > 1 && !strcmp(argv[1], "--libtiff");
    int a = 1 + libtiff;
    if (argc - a < 1 || argc - a > 2) {
        fprintf(stderr, "usage: slide_decode [--libtiff] SLIDE [LEVEL]\n");
        return 2;
    }
    int level = argc - a == 2 ? atoi(argv[a + 1]) : 0;
    return libtiff ? decode_libtiff(argv[a], level) : decode_openslide(argv[a], level);
}
