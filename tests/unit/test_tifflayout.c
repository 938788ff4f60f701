/*
 * Unit tests of scoring/tifflayout: TIFFs built here byte by byte, so that
 * each check sees exactly the damage it is about.  The full mode (layouts
 * libtiff decodes) and the entries mode (every TIFF, before OpenSlide) on the
 * same files: a damaged count is refused by both, a file cut short only by
 * the full mode, and NDPI's directory chain past 4 GiB is followed as
 * OpenSlide follows it (a sparse file of 4.5 GiB).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"
#include "tmpfiles.h"
#include "scoring/tifflayout_internal.h"

static char *dir;

static int init(void)
{
    return hs_test_suite_init(&dir);
}

static int clean(void)
{
    return hs_test_suite_clean(&dir);
}

/* A little-endian classic TIFF being built. */
typedef struct tb {
    uint8_t buf[8192];
    size_t len;
} tb;

static void put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

typedef struct ent {
    uint16_t tag, type;
    uint32_t count;
    uint32_t value;          /* inline value, or ignored when data is given */
    const uint32_t *data;    /* out-of-line LONG values (count of them) */
} ent;

/*
 * Appends a directory of the n entries at the end of b (next-directory offset
 * next, in nextsize bytes); out-of-line LONG arrays follow it.  Returns the
 * directory's offset.
 */
static size_t add_dir(tb *b, const ent *e, int n, uint64_t next, int nextsize)
{
    size_t at = b->len, vals = at + 2 + 12 * (size_t)n + (size_t)nextsize;
    put(b->buf + at, (uint64_t)n, 2);
    for (int i = 0; i < n; i++) {
        uint8_t *p = b->buf + at + 2 + 12 * i;
        put(p, e[i].tag, 2);
        put(p + 2, e[i].type, 2);
        put(p + 4, e[i].count, 4);
        if (e[i].data) {
            put(p + 8, vals, 4);
            for (uint32_t k = 0; k < e[i].count; k++)
                put(b->buf + vals + 4 * k, e[i].data[k], 4);
            vals += 4 * (size_t)e[i].count;
        } else {
            put(p + 8, e[i].value, e[i].type == 3 ? 2 : 4);
        }
    }
    put(b->buf + at + 2 + 12 * n, next, nextsize);
    b->len = vals;
    return at;
}

static char *write_tb(const char *name, const tb *b, size_t len)
{
    return hs_test_write(dir, name, (const char *)b->buf, len);
}

/*
 * A valid 32 x 32 tiled TIFF of four 16 x 16 tiles (8-bit grey, uncompressed),
 * with what the caller changes: width, the first byte count, an extra entry.
 */
static size_t tiled(tb *b, uint32_t width, uint32_t bc0, const ent *extra)
{
    memset(b, 0, sizeof *b);
    memcpy(b->buf, "II*\0", 4);
    put(b->buf + 4, 8, 4);
    b->len = 8;
    static uint32_t offs[4], bcs[4];
    const size_t data = 8 + 2 + 12 * 12 + 4 + 32; /* the directory, its two arrays, then the tiles */
    for (int k = 0; k < 4; k++) {
        offs[k] = (uint32_t)(data + 256 * (size_t)k);
        bcs[k] = 256;
    }
    bcs[0] = bc0;
    ent e[12] = {
        {256, 4, 1, width, NULL}, {257, 4, 1, 32, NULL}, {258, 3, 1, 8, NULL},   {259, 3, 1, 1, NULL},
        {262, 3, 1, 1, NULL},     {277, 3, 1, 1, NULL},  {322, 4, 1, 16, NULL},  {323, 4, 1, 16, NULL},
        {324, 4, 4, 0, offs},     {325, 4, 4, 0, bcs},   {284, 3, 1, 1, NULL},   {305, 2, 4, 0x00616161, NULL},
    };
    if (extra)
        e[11] = *extra;
    add_dir(b, e, 12, 0, 4);
    b->len = data + 4 * 256;
    return b->len;
}

/* hs_tifflayout_check of path in mode: its return; the message into msg. */
static int check(const char *path, int mode, char *msg, size_t n)
{
    return hs_tifflayout_check(path, 64, mode, msg, n);
}

static void test_valid(void)
{
    tb b;
    char msg[512];
    char *p = write_tb("valid.tif", &b, tiled(&b, 32, 256, NULL));
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_FULL, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    free(p);
}

/* An entry stating more values than the file holds: corrupt in both modes, named with its size. */
static void test_count(void)
{
    tb b;
    char msg[512];
    const ent desc = {270, 2, 1000000000u, 200, NULL};
    char *p = write_tb("desc.tif", &b, tiled(&b, 32, 256, &desc));
    for (int mode = 0; mode < 2; mode++) {
        CU_ASSERT_EQUAL(check(p, mode, msg, sizeof msg), 1);
        CU_ASSERT_STRING_EQUAL(msg, "TIFF directory 0: ImageDescription (tag 270) states 1000000000 values of 1 "
                                    "byte, more than the file's 1214 bytes hold: the file is corrupt");
    }
    const ent xres = {282, 5, 200, 200, NULL}; /* 1,600 bytes of rationals in a 1,218-byte file */
    free(p);
    p = write_tb("xres.tif", &b, tiled(&b, 32, 256, &xres));
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 1);
    CU_ASSERT(strstr(msg, "XResolution (tag 282) states 200 values of 8 bytes") != NULL);
    free(p);
}

/* A byte count larger than the whole file: corrupt in both modes (not "truncated"). */
static void test_bytecount(void)
{
    tb b;
    char msg[512];
    char *p = write_tb("bc.tif", &b, tiled(&b, 32, 3862494350u, NULL));
    for (int mode = 0; mode < 2; mode++) {
        CU_ASSERT_EQUAL(check(p, mode, msg, sizeof msg), 1);
        CU_ASSERT_STRING_EQUAL(msg, "TIFF directory 0: TileByteCounts gives tile 0 3862494350 bytes, more than the "
                                    "whole file's 1214: the file is corrupt");
    }
    free(p);
}

/* Fewer tile offsets than tiles: both modes; the full mode also refuses more. */
static void test_tiles(void)
{
    tb b;
    char msg[512];
    char *p = write_tb("wide.tif", &b, tiled(&b, 3200, 256, NULL));
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 1);
    CU_ASSERT_STRING_EQUAL(msg, "TIFF directory 0: TileOffsets has 4 entries, but ImageWidth 3200 x ImageLength 32 "
                                "in 16 x 16 tiles needs 400: the file is corrupt");
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_FULL, msg, sizeof msg), 1);
    CU_ASSERT_STRING_EQUAL(msg, "TIFF directory 0: TileOffsets has 4 entries, but ImageWidth 3200 x ImageLength 32 "
                                "in 16 x 16 tiles needs 400");
    free(p);
    p = write_tb("narrow.tif", &b, tiled(&b, 16, 256, NULL)); /* 2 tiles, 4 offsets: libtiff would read 2 */
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_FULL, msg, sizeof msg), 1);
    CU_ASSERT(strstr(msg, "TileOffsets has 4 entries, but ImageWidth 16 x ImageLength 32 in 16 x 16 tiles needs 2") !=
              NULL);
    free(p);
}

/* A file cut short: said by the full mode with the sizes; the entries mode stops quietly. */
static void test_truncated(void)
{
    tb b;
    char msg[512];
    tiled(&b, 32, 256, NULL);
    char *p = write_tb("cut100.tif", &b, 100);
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_FULL, msg, sizeof msg), 1);
    CU_ASSERT_STRING_EQUAL(msg, "the file is truncated: it has 100 bytes, but TIFF directory 0 (at byte 8, 12 "
                                "entries) ends at byte 158");
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    free(p);
    p = write_tb("cut1000.tif", &b, 1000); /* the last tile's data cut */
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_FULL, msg, sizeof msg), 1);
    CU_ASSERT_STRING_EQUAL(msg, "the file is truncated: it has 1000 bytes, but the data of tile 3 of TIFF directory 0 "
                                "end at byte 1214 (1 of its 4 tiles lie beyond the end of the file)");
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 0);
    free(p);
}

/* A chain of more directories than examined is refused, not half-checked. */
static void test_many_dirs(void)
{
    tb b;
    memset(&b, 0, sizeof b);
    memcpy(b.buf, "II*\0", 4);
    put(b.buf + 4, 8, 4);
    b.len = 8;
    const ent one = {254, 4, 1, 1, NULL};
    for (int d = 0; d < 70; d++)
        add_dir(&b, &one, 1, d < 69 ? b.len + 18 : 0, 4);
    char msg[512];
    char *p = write_tb("chain.tif", &b, b.len);
    for (int mode = 0; mode < 2; mode++) {
        CU_ASSERT_EQUAL(check(p, mode, msg, sizeof msg), 1);
        CU_ASSERT_STRING_EQUAL(msg, "the TIFF has more than 64 directories: not a slide (a pyramid has a few dozen)");
    }
    CU_ASSERT_EQUAL(hs_tifflayout_check(p, 70, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 0);
    free(p);
}

/*
 * NDPI: a classic TIFF with Hamamatsu's tag 65420 and 8-byte next-directory
 * offsets.  The second directory lies past 4 GiB (a sparse file), where a
 * classic reader's 4-byte offset cannot point; its XResolution states 1e9
 * rationals, more than the 4.5 GiB file holds.  Only a walk of the chain as
 * OpenSlide walks it finds that entry.
 */
static void test_ndpi(void)
{
    const uint64_t far = (uint64_t)9 << 29; /* 4.5 GiB */
    tb b;
    memset(&b, 0, sizeof b);
    memcpy(b.buf, "II*\0", 4);
    put(b.buf + 4, 16, 8); /* 8 bytes: the high half zero, as an NDPI file's is */
    b.len = 16;
    const ent first[2] = {{254, 4, 1, 0, NULL}, {65420, 4, 1, 1, NULL}};
    add_dir(&b, first, 2, far, 8);
    char *p = hs_test_path(dir, "far.ndpi");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(pwrite(fd, b.buf, b.len, 0), (ssize_t)b.len);
    tb f;
    memset(&f, 0, sizeof f);
    const ent bad[2] = {{254, 4, 1, 1, NULL}, {282, 5, 1000000000u, 64, NULL}};
    add_dir(&f, bad, 2, 0, 8);
    CU_ASSERT_EQUAL(pwrite(fd, f.buf, f.len, (off_t)far), (ssize_t)f.len);
    CU_ASSERT_EQUAL(close(fd), 0);
    char msg[512];
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 1);
    CU_ASSERT(strstr(msg, "TIFF directory 1: XResolution (tag 282) states 1000000000 values of 8 bytes") != NULL);
    /* the same entry valid (one rational, inline... 8 bytes, at an offset in the file): nothing to say */
    const ent good[2] = {{254, 4, 1, 1, NULL}, {282, 5, 1, 64, NULL}};
    memset(&f, 0, sizeof f);
    add_dir(&f, good, 2, 0, 8);
    fd = open(p, O_WRONLY);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(pwrite(fd, f.buf, f.len, (off_t)far), (ssize_t)f.len);
    CU_ASSERT_EQUAL(close(fd), 0);
    CU_ASSERT_EQUAL(check(p, HS_TIFFLAYOUT_ENTRIES, msg, sizeof msg), 0);
    unlink(p);
    free(p);
}

static void test_tag_names(void)
{
    CU_ASSERT_STRING_EQUAL(hs_tifflayout_tag_name(262), "Photometric");
    CU_ASSERT_STRING_EQUAL(hs_tifflayout_tag_name(322), "TileWidth");
    CU_ASSERT_STRING_EQUAL(hs_tifflayout_tag_name(330), "SubIFD");
    CU_ASSERT_PTR_NULL(hs_tifflayout_tag_name(65000));
}

int hs_suite_tifflayout(void)
{
    CU_pSuite s = CU_add_suite("tifflayout", init, clean);
    if (!s || !CU_add_test(s, "a valid tiled TIFF passes both modes", test_valid) ||
        !CU_add_test(s, "a count beyond the file: corrupt in both modes", test_count) ||
        !CU_add_test(s, "a byte count beyond the file: corrupt in both modes", test_bytecount) ||
        !CU_add_test(s, "tile offsets against tiles", test_tiles) ||
        !CU_add_test(s, "a file cut short: only the full mode says so", test_truncated) ||
        !CU_add_test(s, "a chain longer than examined is refused", test_many_dirs) ||
        !CU_add_test(s, "NDPI: the chain past 4 GiB followed", test_ndpi) ||
        !CU_add_test(s, "tag names", test_tag_names))
        return 1;
    return 0;
}
