/*
 * tiffcheck: every directory entry of a TIFF must fit in the file (see
 * tiffcheck_internal.h).
 */
#include "tiffcheck_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define MAX_DIRS 4096

static const struct {
    unsigned tag;
    const char *name;
} names[] = {
    {254, "NewSubfileType"}, {256, "ImageWidth"}, {257, "ImageLength"}, {258, "BitsPerSample"},
    {259, "Compression"}, {262, "PhotometricInterpretation"}, {270, "ImageDescription"}, {271, "Make"},
    {272, "Model"}, {273, "StripOffsets"}, {277, "SamplesPerPixel"}, {278, "RowsPerStrip"},
    {279, "StripByteCounts"}, {282, "XResolution"}, {283, "YResolution"}, {284, "PlanarConfiguration"},
    {296, "ResolutionUnit"}, {305, "Software"}, {306, "DateTime"}, {317, "Predictor"}, {320, "ColorMap"},
    {322, "TileWidth"}, {323, "TileLength"}, {324, "TileOffsets"}, {325, "TileByteCounts"},
    {330, "SubIFDs"}, {338, "ExtraSamples"}, {339, "SampleFormat"}, {347, "JPEGTables"},
    {530, "YCbCrSubSampling"}, {532, "ReferenceBlackWhite"}, {700, "XMLPacket"}, {32997, "ImageDepth"},
    {33432, "Copyright"}, {34665, "ExifIFD"}, {34675, "ICCProfile"},
};

static const char *tag_name(unsigned tag)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].tag == tag)
            return names[i].name;
    return "(unnamed)";
}

/* Bytes per value of a TIFF field type; 0 for a type libtiff does not know (it skips those entries). */
static unsigned type_size(unsigned type)
{
    static const unsigned size[] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8};
    return type < sizeof size / sizeof size[0] ? size[type] : 0;
}

static uint64_t get(const unsigned char *b, int n, int big_endian)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)b[big_endian ? n - 1 - i : i] << (8 * i);
    return v;
}

static int read_at(FILE *f, long long off, void *buf, size_t n)
{
    return fseeko(f, (off_t)off, SEEK_SET) == 0 && fread(buf, 1, n, f) == n;
}

/* HS_EFORMAT when a value of the byte-count array of entry x (tag 279 or 325) exceeds the file's size. */
static int check_bytecounts(FILE *f, long long size, const unsigned char *x, int nval, int be, int d,
                            const char *path, hs_error *err)
{
    unsigned tag = (unsigned)get(x, 2, be), type = (unsigned)get(x + 2, 2, be);
    uint64_t count = get(x + 4, nval, be);
    unsigned ts = type == 3 ? 2 : type == 4 ? 4 : type == 16 ? 8 : 0;
    if (!ts || !count || count > (uint64_t)size / ts)
        return HS_OK;
    size_t bytes = (size_t)(count * ts);
    unsigned char *v = malloc(bytes);
    if (!v)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    int ok = bytes <= (size_t)nval ? (memcpy(v, x + 4 + nval, bytes), 1)
                                   : read_at(f, (long long)get(x + 4 + nval, nval, be), v, bytes);
    int rc = HS_OK;
    for (uint64_t i = 0; ok && i < count && rc == HS_OK; i++) {
        uint64_t b = get(v + i * ts, (int)ts, be);
        if (b > (uint64_t)size)
            rc = hs_error_set(err, HS_EFORMAT,
                              "%s: corrupt TIFF: %s (%u) of directory %d gives %s %llu %llu bytes, more than the "
                              "whole file's %lld",
                              path, tag_name(tag), tag, d, tag == 325 ? "tile" : "strip", (unsigned long long)i,
                              (unsigned long long)b, size);
    }
    free(v);
    return rc;
}

int hs_tiffcheck_entries(FILE *f, long long size, const char *path, hs_error *err)
{
    unsigned char h[16];
    if (size < 8 || !read_at(f, 0, h, 16 <= size ? 16 : 8))
        return HS_OK;
    int be = h[0] == 'M';
    unsigned version = (unsigned)get(h + 2, 2, be);
    int big = version == 43;
    if ((h[0] != 'I' && h[0] != 'M') || h[1] != h[0] || (version != 42 && !big) || (big && size < 16))
        return HS_OK;
    /* classic: 2-byte entry count, 12-byte entries, 4-byte counts and offsets; BigTIFF: 8, 20, 8 */
    int ncount = big ? 8 : 2, nentry = big ? 20 : 12, nval = big ? 8 : 4;
    uint64_t off = get(h + (big ? 8 : 4), nval, be);
    uint64_t seen[MAX_DIRS];
    int rc = HS_OK;
    for (int d = 0; d < MAX_DIRS && off != 0 && rc == HS_OK; d++) {
        for (int k = 0; k < d; k++)
            if (seen[k] == off)
                return HS_OK; /* a loop in the chain: libtiff says so */
        seen[d] = off;
        unsigned char c[8];
        if (off > (uint64_t)size || !read_at(f, (long long)off, c, (size_t)ncount))
            return HS_OK;
        uint64_t n = get(c, ncount, be);
        /* the entries and the next offset must be in the file, else libtiff says it is truncated */
        if (n > ((uint64_t)size - off - (uint64_t)ncount) / (uint64_t)nentry)
            return HS_OK;
        size_t bytes = (size_t)(n * (uint64_t)nentry) + (size_t)nval;
        unsigned char *e = malloc(bytes);
        if (!e)
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        if (!read_at(f, (long long)(off + (uint64_t)ncount), e, bytes)) {
            free(e);
            return HS_OK;
        }
        /* the geometry of a tiled directory: width, length, tile width, tile length, samples, planar, offsets */
        uint64_t g[7] = {0, 0, 0, 0, 1, 1, 0};
        int has_offsets = 0, depth = 0;
        for (uint64_t i = 0; i < n && rc == HS_OK; i++) {
            const unsigned char *x = e + i * (uint64_t)nentry;
            unsigned tag = (unsigned)get(x, 2, be), type = (unsigned)get(x + 2, 2, be), ts = type_size(type);
            uint64_t count = get(x + 4, nval, be);
            if (ts && count > (uint64_t)size / ts)
                rc = hs_error_set(err, HS_EFORMAT,
                                  "%s: corrupt TIFF: tag %s (%u) of directory %d states %llu values, more than the "
                                  "file's %lld bytes hold",
                                  path, tag_name(tag), tag, d, (unsigned long long)count, size);
            static const unsigned geo[] = {256, 257, 322, 323, 277, 284};
            for (int k = 0; k < 6; k++)
                if (tag == geo[k] && count == 1 && (type == 3 || type == 4 || type == 16))
                    g[k] = get(x + 4 + nval, type == 3 ? 2 : type == 4 ? 4 : 8, be);
            if (rc == HS_OK && (tag == 279 || tag == 325))
                rc = check_bytecounts(f, size, x, nval, be, d, path, err);
            if (tag == 324) {
                g[6] = count;
                has_offsets = 1;
            }
            depth |= tag == 32997;
        }
        /* its tiles must all have an offset (OpenSlide divides by a level's size in tiles, and took a
           directory of 8 x 6881304 pixels with 4 tiles as a level) */
        if (rc == HS_OK && has_offsets && !depth && g[0] && g[1] && g[2] && g[3]) {
            uint64_t tiles = ((g[0] + g[2] - 1) / g[2]) * ((g[1] + g[3] - 1) / g[3]);
            if (g[5] == 2 && g[4] > 1)
                tiles = tiles > UINT64_MAX / g[4] ? UINT64_MAX : tiles * g[4];
            if (g[6] < tiles)
                rc = hs_error_set(err, HS_EFORMAT,
                                  "%s: corrupt TIFF: directory %d has %llu x %llu pixels in %llu x %llu tiles, %llu "
                                  "tiles, but TileOffsets (324) lists %llu",
                                  path, d, (unsigned long long)g[0], (unsigned long long)g[1],
                                  (unsigned long long)g[2], (unsigned long long)g[3], (unsigned long long)tiles,
                                  (unsigned long long)g[6]);
        }
        off = get(e + n * (uint64_t)nentry, nval, be);
        free(e);
    }
    return rc;
}
