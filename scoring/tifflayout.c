/*
 * tifflayout: a TIFF file's skeleton checked against its size (see tifflayout_internal.h).
 *
 * Only what a reader needs to find the pixels is read: the header, each
 * directory's entry table and next-directory offset, and the offset and
 * byte-count arrays of tiles and strips.  Values are checked to lie inside
 * the file; nothing is interpreted beyond the counts (libtiff does the rest).
 * The same walk serves both modes: HS_TIFFLAYOUT_ENTRIES keeps only the
 * checks every TIFF-based file must pass whatever its vendor, and stops
 * quietly where the full mode would say "truncated".
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
#define T_NDPI 65420                  /* Hamamatsu's private tag: its presence makes a classic TIFF an NDPI file */

enum { T_SUBFILE = 254, T_WIDTH = 256, T_LENGTH = 257, T_SPP = 277, T_ROWS = 278, T_PLANAR = 284,
       T_STRIPOFF = 273, T_STRIPBC = 279, T_TILEW = 322, T_TILEL = 323, T_TILEOFF = 324, T_TILEBC = 325 };

typedef struct walker {
    int fd;
    uint64_t size;
    int big, swap; /* BigTIFF; byte order differs from the host's */
    int ndpi;      /* NDPI: classic TIFF with 8-byte next-directory offsets, value offsets wrapped at 4 GiB */
    int full;      /* HS_TIFFLAYOUT_FULL */
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
        {531, "YCbCrPositioning"}, {532, "ReferenceBlackWhite"}, {700, "XMLPacket"}, {32997, "ImageDepth"},
        {32998, "TileDepth"}, {33432, "Copyright"}, {34665, "EXIFIFDOffset"}, {34675, "ICC Profile"},
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

/*
 * An NDPI file stores 32-bit offsets in a file that may pass 4 GiB: the high
 * bits are implied by the directory's own offset (dir).  The offset is taken
 * as the largest one with the given low 32 bits that lies below dir, as
 * OpenSlide's NDPI reader reads it.
 */
static uint64_t ndpi_offset(uint64_t dir, uint64_t low)
{
    uint64_t v = (dir & ~(uint64_t)UINT32_MAX) | (low & UINT32_MAX);
    if (v >= dir && v > UINT32_MAX)
        v -= (uint64_t)UINT32_MAX + 1;
    return v;
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
 * Reads values i0 .. i0 + k - 1 of the offset-type array e into buf (8 bytes
 * a value at most).
 */
static int read_values(walker *w, const entry *e, uint64_t i0, size_t k, uint8_t *buf)
{
    int ts = type_size(e->type);
    if (e->inline_) {
        memcpy(buf, e->raw + i0 * ts, k * ts);
        return 0;
    }
    return read_at(w, e->value + i0 * ts, buf, k * ts);
}

/*
 * Every byte count of the TileByteCounts or StripByteCounts entry bc must be
 * at most the file's size: a larger one is no truncation but a damaged
 * number, and a reader allocates what it states (OpenSlide asked for 2.4 GB
 * for one tile of a 13-KB file).
 */
static int check_bytecounts(walker *w, int d, const entry *bc)
{
    if (bc->type != 3 && bc->type != 4 && bc->type != 16)
        return 0;
    int ts = type_size(bc->type);
    uint8_t *b = malloc((size_t)CHUNK * 8);
    if (!b)
        return say(w, -1, "out of memory");
    int rc = 0;
    for (uint64_t i0 = 0; rc == 0 && i0 < bc->count; i0 += CHUNK) {
        size_t k = (size_t)(bc->count - i0 < CHUNK ? bc->count - i0 : CHUNK);
        if (read_values(w, bc, i0, k, b) != 0) {
            rc = -1;
            break;
        }
        for (size_t j = 0; rc == 0 && j < k; j++) {
            uint64_t c = get(w, b + j * ts, ts);
            if (c > w->size)
                rc = say(w, 1,
                         "TIFF directory %d: %s gives %s %llu %llu bytes, more than the whole file's %llu: the file "
                         "is corrupt",
                         d, hs_tifflayout_tag_name(bc->tag), bc->tag == T_TILEBC ? "tile" : "strip",
                         (unsigned long long)(i0 + j), (unsigned long long)c, (unsigned long long)w->size);
        }
    }
    free(b);
    return rc;
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
        if (read_values(w, off, i0, k, bo) != 0 || read_values(w, bc, i0, k, bb) != 0)
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

/*
 * A problem only the full mode reports (the file cut short): there it is
 * said; in the entries mode the walk stops quietly (2), the reader that
 * follows fails on it by itself without allocating what it cannot read.
 */
static int stop_or_say(walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int stop_or_say(walker *w, const char *fmt, ...)
{
    if (!w->full)
        return 2;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, w->n, fmt, ap);
    va_end(ap);
    return 1;
}

/*
 * Reads directory d's entry table at offset at (count entries) into a
 * malloc'd buffer, the next-directory offset included; NULL with *rc set
 * when it is not in the file.
 */
static uint8_t *read_table(walker *w, int d, uint64_t at, uint64_t *count, int *rc)
{
    int cs = w->big ? 8 : 2, es = w->big ? 20 : 12, os = (w->big || w->ndpi) ? 8 : 4;
    uint8_t b[8];
    *rc = 0;
    if (at > w->size || w->size - at < (uint64_t)cs) {
        *rc = stop_or_say(w, "the file is truncated: it has %llu bytes, but TIFF directory %d starts at byte %llu",
                          (unsigned long long)w->size, d, (unsigned long long)at);
        return NULL;
    }
    if (read_at(w, at, b, (size_t)cs) != 0) {
        *rc = -1;
        return NULL;
    }
    *count = get(w, b, cs);
    if ((*count == 0 && w->full) || *count > MAX_ENTRIES) {
        *rc = w->full ? say(w, 1, "TIFF directory %d (at byte %llu) claims %llu entries: the file is corrupt", d,
                            (unsigned long long)at, (unsigned long long)*count)
                      : 2;
        return NULL;
    }
    uint64_t end = at + cs + *count * es + os;
    if (end > w->size) {
        *rc = stop_or_say(w,
                          "the file is truncated: it has %llu bytes, but TIFF directory %d (at byte %llu, %llu "
                          "entries) ends at byte %llu",
                          (unsigned long long)w->size, d, (unsigned long long)at, (unsigned long long)*count,
                          (unsigned long long)end);
        return NULL;
    }
    uint8_t *tab = malloc((size_t)(*count * es + os)); /* an empty directory (entries mode) still has its next offset */
    if (!tab) {
        *rc = say(w, -1, "out of memory");
        return NULL;
    }
    if (read_at(w, at + cs, tab, (size_t)(*count * es + os)) != 0) {
        free(tab);
        *rc = -1;
        return NULL;
    }
    return tab;
}

/* One entry of a table as stored. */
static entry parse_entry(const walker *w, const uint8_t *p)
{
    int os = w->big ? 8 : 4;
    entry e = {0};
    e.tag = (uint16_t)get(w, p, 2);
    e.type = (uint16_t)get(w, p + 2, 2);
    e.count = get(w, p + 4, w->big ? 8 : 4);
    const uint8_t *v = p + (w->big ? 12 : 8);
    int ts = type_size(e.type);
    e.inline_ = ts && e.count <= (uint64_t)os / (uint64_t)ts;
    memcpy(e.raw, v, (size_t)os);
    e.value = get(w, v, os);
    return e;
}

/* Checks directory d at offset at; *next receives the next directory's offset. */
static int check_dir(walker *w, int d, uint64_t at, uint64_t *next)
{
    int es = w->big ? 20 : 12;
    uint64_t count = 0;
    int rc;
    uint8_t *tab = read_table(w, d, at, &count, &rc);
    if (!tab)
        return rc;
    *next = get(w, tab + count * es, (w->big || w->ndpi) ? 8 : 4);
    entry want[12] = {{0}};
    static const uint16_t wanted[12] = {T_SUBFILE, T_WIDTH, T_LENGTH, T_SPP,   T_ROWS,    T_PLANAR,
                                        T_STRIPOFF, T_STRIPBC, T_TILEW, T_TILEL, T_TILEOFF, T_TILEBC};
    int have[12] = {0}, depth = 0;
    for (uint64_t i = 0; rc == 0 && i < count; i++) {
        entry e = parse_entry(w, tab + i * es);
        int ts = type_size(e.type);
        if (ts == 0)
            continue; /* unknown type: libtiff skips it (and OpenSlide refuses the file) */
        char lab[64];
        /* More values than the whole file holds: a damaged count, whatever the file's vendor. */
        if (e.count > w->size / (uint64_t)ts) {
            rc = say(w, 1,
                     "TIFF directory %d: %s states %llu values of %d byte%s, more than the file's %llu bytes hold: "
                     "the file is corrupt",
                     d, tag_label(e.tag, lab, sizeof lab), (unsigned long long)e.count, ts, ts == 1 ? "" : "s",
                     (unsigned long long)w->size);
            break;
        }
        if (w->ndpi && !e.inline_)
            e.value = ndpi_offset(at, e.value);
        uint64_t len = e.count * ts;
        if (!e.inline_ && (e.value > w->size || len > w->size - e.value)) {
            rc = stop_or_say(w,
                             "the file is truncated: it has %llu bytes, but the value of %s in TIFF directory %d "
                             "lies at bytes %llu to %llu",
                             (unsigned long long)w->size, tag_label(e.tag, lab, sizeof lab), d,
                             (unsigned long long)e.value, (unsigned long long)(e.value + len));
            break;
        }
        depth |= e.tag == 32997;
        for (int k = 0; k < 12; k++)
            if (wanted[k] == e.tag && !have[k]) {
                want[k] = e;
                have[k] = 1;
            }
    }
    free(tab);
    for (int k = 7; rc == 0 && k <= 11; k += 4)
        if (have[k])
            rc = check_bytecounts(w, d, &want[k]);
    if (rc != 0)
        return rc;

    /* As many tile or strip entries as the image's size needs. */
    uint64_t width = 0, length = 0, spp = 1, planar = 1, tw = 0, tl = 0, rows = UINT32_MAX;
    if ((have[1] && scalar(w, &want[1], &width) < 0) || (have[2] && scalar(w, &want[2], &length) < 0) ||
        (have[3] && scalar(w, &want[3], &spp) < 0) || (have[4] && scalar(w, &want[4], &rows) < 0) ||
        (have[5] && scalar(w, &want[5], &planar) < 0) || (have[8] && scalar(w, &want[8], &tw) < 0) ||
        (have[9] && scalar(w, &want[9], &tl) < 0))
        return -1;
    if (!w->full) {
        /* Every tile must have an offset: OpenSlide divides by a level's size in tiles, and took a directory
           of 8 x 6881304 pixels with 4 tile offsets as a level. */
        if (!(have[8] && have[9] && have[10]) || depth || !width || !length || !tw || !tl)
            return 0;
        uint64_t tiles = ((width + tw - 1) / tw) * ((length + tl - 1) / tl);
        if (planar == 2 && spp > 1)
            tiles = tiles > UINT64_MAX / spp ? UINT64_MAX : tiles * spp;
        if (want[10].count >= tiles)
            return 0;
        return say(w, 1,
                   "TIFF directory %d: TileOffsets has %llu entries, but ImageWidth %llu x ImageLength %llu in %llu x "
                   "%llu tiles%s needs %llu: the file is corrupt",
                   d, (unsigned long long)want[10].count, (unsigned long long)width, (unsigned long long)length,
                   (unsigned long long)tw, (unsigned long long)tl, planar == 2 ? " (separate planes)" : "",
                   (unsigned long long)tiles);
    }
    if (w->ndpi)
        return 0; /* NDPI's own layout (JPEG strips, offsets wrapped at 4 GiB) is OpenSlide's business */
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

/*
 * Whether the classic TIFF's first directory, read as OpenSlide reads it to
 * recognise NDPI (the header's offset taken as 8 bytes, 8-byte next-directory
 * offset), is whole, has only known types and holds Hamamatsu's NDPI tag.
 * *first receives that directory's offset when it does.
 */
static int is_ndpi(walker *w, uint64_t *first)
{
    uint8_t h[8];
    if (w->big || w->size < 12 || read_at(w, 4, h, 8) != 0)
        return 0;
    uint64_t at = get(w, h, 8), count = 0;
    int rc;
    walker t = *w;
    t.ndpi = 1;
    t.full = 0;
    uint8_t *tab = at ? read_table(&t, 0, at, &count, &rc) : NULL;
    if (!tab)
        return 0;
    int ndpi = 0, known = 1;
    for (uint64_t i = 0; i < count; i++) {
        entry e = parse_entry(w, tab + i * 12);
        known &= type_size(e.type) != 0;
        ndpi |= e.tag == T_NDPI && e.count > 0;
    }
    free(tab);
    if (!(ndpi && known))
        return 0;
    *first = at;
    return 1;
}

int hs_tifflayout_check(const char *path, int max_dirs, int mode, char *msg, size_t n)
{
    walker w = {-1, 0, 0, 0, 0, mode == HS_TIFFLAYOUT_FULL, msg, n};
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
        rc = stop_or_say(&w, "the file is truncated: it has %llu bytes, less than a TIFF header (8 bytes)",
                         (unsigned long long)w.size);
    } else if (read_at(&w, 0, h, 8) != 0) {
        rc = -1;
    } else if (!((h[0] == 'I' && h[1] == 'I') || (h[0] == 'M' && h[1] == 'M'))) {
        rc = stop_or_say(&w, "not a TIFF file (no byte-order mark)");
    } else {
        w.swap = (h[0] == 'I') != host_little();
        uint64_t version = get(&w, h + 2, 2), first = 0;
        if (version == 43) {
            w.big = 1;
            if (w.size < 16)
                rc = stop_or_say(&w, "the file is truncated: it has %llu bytes, less than a BigTIFF header (16 bytes)",
                                 (unsigned long long)w.size);
            else if (read_at(&w, 0, h, 16) != 0)
                rc = -1;
            else
                first = get(&w, h + 8, 8);
        } else if (version == 42) {
            first = get(&w, h + 4, 4);
            w.ndpi = is_ndpi(&w, &first);
        } else {
            rc = stop_or_say(&w, "not a TIFF file (version %llu, not 42 or 43)", (unsigned long long)version);
        }
        if (rc == 0 && first == 0)
            rc = stop_or_say(&w, "the TIFF header points to no directory: the file holds no image");
        uint64_t *seen = rc == 0 ? malloc((size_t)max_dirs * sizeof *seen) : NULL;
        if (rc == 0 && !seen)
            rc = say(&w, -1, "out of memory");
        int d = 0;
        for (; rc == 0 && first != 0 && d < max_dirs; d++) {
            for (int k = 0; k < d; k++)
                if (seen[k] == first)
                    first = 0; /* a loop: libtiff stops there too */
            if (first == 0)
                break;
            seen[d] = first;
            rc = check_dir(&w, d, first, &first);
        }
        if (rc == 0 && first != 0 && d == max_dirs)
            rc = say(&w, 1, "the TIFF has more than %d directories: not a slide (a pyramid has a few dozen)", max_dirs);
        free(seen);
    }
    close(w.fd);
    if (rc == 2 || (rc < 0 && !w.full)) {
        rc = 0; /* the entries mode stops quietly where the reader that follows fails by itself */
        if (n)
            msg[0] = '\0';
    }
    return rc;
}
