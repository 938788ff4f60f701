/*
 * tifflayout: a TIFF file's skeleton checked against its size (see tifflayout_internal.h).
 *
 * Only what a reader needs to find the pixels is read: the header, each
 * directory's entry table and next-directory offset, and the offset and
 * byte-count arrays of tiles and strips.  Values are checked to lie inside
 * the file; nothing is interpreted beyond the counts (libtiff does the rest).
 */
#include "scoring/tifflayout_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES 65535             /* entries of one directory (classic TIFF's limit; BigTIFF likewise here) */
#define MAX_STRILES ((uint64_t)1 << 26) /* tiles or strips of one directory whose data are checked */
#define CHUNK 4096                    /* array entries read at once */

enum { T_SUBFILE = 254, T_WIDTH = 256, T_LENGTH = 257, T_SPP = 277, T_ROWS = 278, T_PLANAR = 284,
       T_STRIPOFF = 273, T_STRIPBC = 279, T_TILEW = 322, T_TILEL = 323, T_TILEOFF = 324, T_TILEBC = 325 };

typedef struct walker {
    int fd;
    uint64_t size;
    int big, swap; /* BigTIFF; byte order differs from the host's */
    char *msg;
    size_t n;
} walker;

/* One directory entry as stored. */
typedef struct entry {
    uint16_t tag, type;
    uint64_t count;
    uint64_t value;  /* the inline value's raw bytes as an offset-sized integer, or the offset of the value */
    uint8_t raw[8];  /* the inline bytes */
    int inline_;     /* the value fits in the entry */
} entry;

static int say(walker *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(walker *w, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, w->n, fmt, ap);
    va_end(ap);
    return rc;
}

static int host_little(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static uint64_t get(const walker *w, const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        /* little-endian file: least significant byte first */
        int k = (host_little() ^ w->swap) ? bytes - 1 - i : i;
        v = (v << 8) | p[k];
    }
    return v;
}

/* Reads exactly n bytes at off; 0, or -1 (a short read means the caller checked the size wrongly). */
static int read_at(walker *w, uint64_t off, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(w->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return say(w, -1, "cannot read the file at byte %llu: %s", (unsigned long long)(off + got),
                       k < 0 ? strerror(errno) : "unexpected end of file");
        got += (size_t)k;
    }
    return 0;
}

static int type_size(uint16_t type)
{
    switch (type) {
    case 1: case 2: case 6: case 7: return 1;             /* BYTE ASCII SBYTE UNDEFINED */
    case 3: case 8: return 2;                             /* SHORT SSHORT */
    case 4: case 9: case 11: case 13: return 4;           /* LONG SLONG FLOAT IFD */
    case 5: case 10: case 12: case 16: case 17: case 18: return 8; /* RATIONAL SRATIONAL DOUBLE LONG8 SLONG8 IFD8 */
    default: return 0;                                    /* unknown: libtiff skips it */
    }
}

const char *hs_tifflayout_tag_name(uint32_t tag)
{
    static const struct { uint32_t tag; const char *name; } names[] = {
        {254, "SubfileType"}, {255, "OldSubfileType"}, {256, "ImageWidth"}, {257, "ImageLength"},
        {258, "BitsPerSample"}, {259, "Compression"}, {262, "Photometric"}, {266, "FillOrder"},
        {270, "ImageDescription"}, {271, "Make"}, {272, "Model"}, {273, "StripOffsets"}, {274, "Orientation"},
        {277, "SamplesPerPixel"}, {278, "RowsPerStrip"}, {279, "StripByteCounts"}, {282, "XResolution"},
        {283, "YResolution"}, {284, "PlanarConfiguration"}, {296, "ResolutionUnit"}, {305, "Software"},
        {306, "DateTime"}, {317, "Predictor"}, {320, "ColorMap"}, {322, "TileWidth"}, {323, "TileLength"},
        {324, "TileOffsets"}, {325, "TileByteCounts"}, {330, "SubIFD"}, {338, "ExtraSamples"},
        {339, "SampleFormat"}, {347, "JPEGTables"}, {529, "YCbCrCoefficients"}, {530, "YCbCrSubsampling"},
        {531, "YCbCrPositioning"}, {532, "ReferenceBlackWhite"}, {32997, "ImageDepth"}, {32998, "TileDepth"},
        {34665, "EXIFIFDOffset"}, {34675, "ICC Profile"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].tag == tag)
            return names[i].name;
    return NULL;
}

/* "Photometric (tag 262)" or "tag 65000" into buf. */
static const char *tag_label(uint32_t tag, char *buf, size_t n)
{
    const char *name = hs_tifflayout_tag_name(tag);
    if (name)
        snprintf(buf, n, "%s (tag %u)", name, (unsigned)tag);
    else
        snprintf(buf, n, "tag %u", (unsigned)tag);
    return buf;
}

/* One value (index i) of an offset-type array entry: SHORT, LONG or LONG8. */
static int array_value(walker *w, const entry *e, uint64_t i, uint64_t *v)
{
    int ts = type_size(e->type);
    if (e->type != 3 && e->type != 4 && e->type != 16)
        return 0;
    if (e->inline_) {
        *v = get(w, e->raw + i * ts, ts);
        return 1;
    }
    uint8_t b[8];
    if (read_at(w, e->value + i * ts, b, (size_t)ts) != 0)
        return -1;
    *v = get(w, b, ts);
    return 1;
}

/* A scalar SHORT/LONG/LONG8 tag value (first element). */
static int scalar(walker *w, const entry *e, uint64_t *v)
{
    return e && e->count >= 1 ? array_value(w, e, 0, v) : 0;
}

/*
 * Checks that the data of every tile or strip (offsets in off, byte counts
 * in bc) lie inside the file.
 */
static int check_data(walker *w, int d, const entry *off, const entry *bc, int tiled)
{
    uint64_t n = off->count < bc->count ? off->count : bc->count;
    if (n > MAX_STRILES)
        return 0;
    int ts_o = type_size(off->type), ts_b = type_size(bc->type);
    if ((off->type != 3 && off->type != 4 && off->type != 16) || (bc->type != 3 && bc->type != 4 && bc->type != 16))
        return 0;
    uint8_t *bo = malloc((size_t)CHUNK * 8), *bb = malloc((size_t)CHUNK * 8);
    if (!bo || !bb) {
        free(bo);
        free(bb);
        return say(w, -1, "out of memory");
    }
    uint64_t nbeyond = 0, first = 0, first_end = 0;
    int rc = 0;
    for (uint64_t i0 = 0; rc == 0 && i0 < n; i0 += CHUNK) {
        size_t k = (size_t)(n - i0 < CHUNK ? n - i0 : CHUNK);
        if (off->inline_)
            memcpy(bo, off->raw + i0 * ts_o, k * ts_o);
        else if (read_at(w, off->value + i0 * ts_o, bo, k * ts_o) != 0)
            rc = -1;
        if (rc == 0 && bc->inline_)
            memcpy(bb, bc->raw + i0 * ts_b, k * ts_b);
        else if (rc == 0 && read_at(w, bc->value + i0 * ts_b, bb, k * ts_b) != 0)
            rc = -1;
        for (size_t j = 0; rc == 0 && j < k; j++) {
            uint64_t o = get(w, bo + j * ts_o, ts_o), c = get(w, bb + j * ts_b, ts_b);
            if (c > 0 && (o > w->size || c > w->size - o)) {
                if (nbeyond++ == 0) {
                    first = i0 + j;
                    first_end = o + c < o ? UINT64_MAX : o + c;
                }
            }
        }
    }
    free(bo);
    free(bb);
    if (rc != 0)
        return rc;
    if (nbeyond)
        return say(w, 1,
                   "the file is truncated: it has %llu bytes, but the data of %s %llu of TIFF directory %d end at "
                   "byte %llu (%llu of its %llu %ss lie beyond the end of the file)",
                   (unsigned long long)w->size, tiled ? "tile" : "strip", (unsigned long long)first, d,
                   (unsigned long long)first_end, (unsigned long long)nbeyond, (unsigned long long)n,
                   tiled ? "tile" : "strip");
    return 0;
}

/* Checks directory d at offset at; *next receives the next directory's offset. */
static int check_dir(walker *w, int d, uint64_t at, uint64_t *next)
{
    int cs = w->big ? 8 : 2, es = w->big ? 20 : 12, os = w->big ? 8 : 4;
    if (at > w->size || w->size - at < (uint64_t)cs)
        return say(w, 1, "the file is truncated: it has %llu bytes, but TIFF directory %d starts at byte %llu",
                   (unsigned long long)w->size, d, (unsigned long long)at);
    uint8_t b[20];
    if (read_at(w, at, b, (size_t)cs) != 0)
        return -1;
    uint64_t count = get(w, b, cs);
    if (count == 0 || count > MAX_ENTRIES)
        return say(w, 1, "TIFF directory %d (at byte %llu) claims %llu entries: the file is corrupt", d,
                   (unsigned long long)at, (unsigned long long)count);
    uint64_t end = at + cs + count * es + os;
    if (end > w->size)
        return say(w, 1,
                   "the file is truncated: it has %llu bytes, but TIFF directory %d (at byte %llu, %llu entries) "
                   "ends at byte %llu",
                   (unsigned long long)w->size, d, (unsigned long long)at, (unsigned long long)count,
                   (unsigned long long)end);
    uint8_t *tab = malloc((size_t)(count * es + os));
    if (!tab)
        return say(w, -1, "out of memory");
    if (read_at(w, at + cs, tab, (size_t)(count * es + os)) != 0) {
        free(tab);
        return -1;
    }
    *next = get(w, tab + count * es, os);
    entry want[12] = {{0}};
    static const uint16_t wanted[12] = {T_SUBFILE, T_WIDTH, T_LENGTH, T_SPP,   T_ROWS,    T_PLANAR,
                                        T_STRIPOFF, T_STRIPBC, T_TILEW, T_TILEL, T_TILEOFF, T_TILEBC};
    int have[12] = {0};
    int rc = 0;
    for (uint64_t i = 0; rc == 0 && i < count; i++) {
        const uint8_t *p = tab + i * es;
        entry e = {0};
        e.tag = (uint16_t)get(w, p, 2);
        e.type = (uint16_t)get(w, p + 2, 2);
        e.count = get(w, p + 4, w->big ? 8 : 4);
        const uint8_t *v = p + (w->big ? 12 : 8);
        int ts = type_size(e.type);
        if (ts == 0)
            continue;
        if (e.count > UINT64_MAX / (uint64_t)ts) {
            char lab[64];
            rc = say(w, 1, "TIFF directory %d: %s claims %llu values: the file is corrupt", d,
                     tag_label(e.tag, lab, sizeof lab), (unsigned long long)e.count);
            break;
        }
        uint64_t len = e.count * ts;
        e.inline_ = len <= (uint64_t)os;
        memcpy(e.raw, v, (size_t)os);
        e.value = get(w, v, os);
        if (!e.inline_ && (e.value > w->size || len > w->size - e.value)) {
            char lab[64];
            rc = say(w, 1,
                     "the file is truncated: it has %llu bytes, but the value of %s in TIFF directory %d lies at "
                     "bytes %llu to %llu",
                     (unsigned long long)w->size, tag_label(e.tag, lab, sizeof lab), d,
                     (unsigned long long)e.value, (unsigned long long)(e.value + len));
            break;
        }
        for (int k = 0; k < 12; k++)
            if (wanted[k] == e.tag && !have[k]) {
                want[k] = e;
                have[k] = 1;
            }
    }
    free(tab);
    if (rc != 0)
        return rc;

    /* As many tile or strip entries as the image's size needs. */
    uint64_t width = 0, length = 0, spp = 1, planar = 1, tw = 0, tl = 0, rows = UINT32_MAX;
    if ((have[1] && scalar(w, &want[1], &width) < 0) || (have[2] && scalar(w, &want[2], &length) < 0) ||
        (have[3] && scalar(w, &want[3], &spp) < 0) || (have[4] && scalar(w, &want[4], &rows) < 0) ||
        (have[5] && scalar(w, &want[5], &planar) < 0) || (have[8] && scalar(w, &want[8], &tw) < 0) ||
        (have[9] && scalar(w, &want[9], &tl) < 0))
        return -1;
    int tiled = have[8] && have[9] && have[10] && have[11];
    const entry *off = tiled ? &want[10] : &want[6], *bc = tiled ? &want[11] : &want[7];
    if (!tiled && !(have[6] && have[7]))
        return 0; /* libtiff's own business (it estimates missing byte counts) */
    if (width == 0 || length == 0 || (tiled && (tw == 0 || tl == 0)) || (!tiled && rows == 0))
        return 0; /* libtiff refuses these itself */
    /* An odd tile size is named here, before its tile count (which OpenSlide divides by) is judged. */
    if (tiled && (tw % 16 != 0 || tl % 16 != 0))
        return say(w, 1, "TIFF directory %d: %s %llu is not plausible: the TIFF specification asks for a multiple of 16",
                   d, tw % 16 != 0 ? "TileWidth" : "TileLength", (unsigned long long)(tw % 16 != 0 ? tw : tl));
    uint64_t need;
    char what[160];
    if (tiled) {
        need = ((width + tw - 1) / tw) * ((length + tl - 1) / tl);
        snprintf(what, sizeof what, "ImageWidth %llu x ImageLength %llu in %llu x %llu tiles",
                 (unsigned long long)width, (unsigned long long)length, (unsigned long long)tw,
                 (unsigned long long)tl);
    } else {
        need = (length + rows - 1) / rows;
        snprintf(what, sizeof what, "ImageLength %llu in strips of %llu rows (RowsPerStrip)",
                 (unsigned long long)length, (unsigned long long)rows);
    }
    if (planar == 2)
        need *= spp;
    for (int k = 0; k < 2; k++) {
        const entry *e = k ? bc : off;
        if (e->count != need) {
            char lab[64];
            snprintf(lab, sizeof lab, "%s", hs_tifflayout_tag_name(e->tag));
            return say(w, 1, "TIFF directory %d: %s has %llu entries, but %s%s needs %llu", d, lab,
                       (unsigned long long)e->count, what, planar == 2 ? " (separate planes)" : "",
                       (unsigned long long)need);
        }
    }
    return check_data(w, d, off, bc, tiled);
}

int hs_tifflayout_check(const char *path, int max_dirs, char *msg, size_t n)
{
    walker w = {-1, 0, 0, 0, msg, n};
    if (n)
        msg[0] = '\0';
    w.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (w.fd < 0)
        return say(&w, -1, "%s", strerror(errno));
    struct stat st;
    if (fstat(w.fd, &st) != 0) {
        int e = errno;
        close(w.fd);
        return say(&w, -1, "%s", strerror(e));
    }
    w.size = (uint64_t)st.st_size;
    uint8_t h[16];
    int rc = 0;
    if (w.size < 8) {
        rc = say(&w, 1, "the file is truncated: it has %llu bytes, less than a TIFF header (8 bytes)",
                 (unsigned long long)w.size);
    } else if (read_at(&w, 0, h, 8) != 0) {
        rc = -1;
    } else if (!((h[0] == 'I' && h[1] == 'I') || (h[0] == 'M' && h[1] == 'M'))) {
        rc = say(&w, 1, "not a TIFF file (no byte-order mark)");
    } else {
        w.swap = (h[0] == 'I') != host_little();
        uint64_t version = get(&w, h + 2, 2), first = 0;
        if (version == 43) {
            w.big = 1;
            if (w.size < 16)
                rc = say(&w, 1, "the file is truncated: it has %llu bytes, less than a BigTIFF header (16 bytes)",
                         (unsigned long long)w.size);
            else if (read_at(&w, 0, h, 16) != 0)
                rc = -1;
            else
                first = get(&w, h + 8, 8);
        } else if (version == 42) {
            first = get(&w, h + 4, 4);
        } else {
            rc = say(&w, 1, "not a TIFF file (version %llu, not 42 or 43)", (unsigned long long)version);
        }
        if (rc == 0 && first == 0)
            rc = say(&w, 1, "the TIFF header points to no directory: the file holds no image");
        uint64_t *seen = rc == 0 ? malloc((size_t)max_dirs * sizeof *seen) : NULL;
        if (rc == 0 && !seen)
            rc = say(&w, -1, "out of memory");
        for (int d = 0; rc == 0 && first != 0 && d < max_dirs; d++) {
            for (int k = 0; k < d; k++)
                if (seen[k] == first)
                    first = 0; /* a loop: libtiff stops there too */
            if (first == 0)
                break;
            seen[d] = first;
            rc = check_dir(&w, d, first, &first);
        }
        free(seen);
    }
    close(w.fd);
    return rc;
}
