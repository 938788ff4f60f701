/*
 * tifflayout: checks a TIFF file's skeleton (header, chain of directories,
 * tag values stored out of line, tile and strip data) against the file's
 * size and against each other, before libtiff or OpenSlide decode it.
 *
 * libtiff reports a file cut short as "TIFFFetchDirectory: Can not read TIFF
 * directory count" or as a read error on one tile, and it silently accepts a
 * TileOffsets array longer than the image's tiles (a wrong ImageWidth): it
 * hides the raw counts and offsets these checks need.  So the directories
 * are walked here, reading only the directory entries and the offset and
 * byte-count arrays; nothing is decoded.  Classic TIFF and BigTIFF, either
 * byte order.  Internal to scoring/: not part of the public API.
 */
#ifndef HS_TIFFLAYOUT_INTERNAL_H
#define HS_TIFFLAYOUT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

enum {
    /*
     * Every check: the header, each directory, every value stored out of
     * line and the data of every tile and strip inside the file, and as many
     * tile or strip entries as the image's size needs.  For the layouts
     * libtiff decodes (plain TIFF, generic tiled TIFF, Aperio).
     */
    HS_TIFFLAYOUT_FULL = 0,
    /*
     * Only what every TIFF-based file must pass, whatever its vendor, before
     * OpenSlide reads it (OpenSlide allocates what each entry states): no
     * entry states more values than the file holds, no tile or strip byte
     * count exceeds the file, and a tiled directory lists an offset for each
     * of its tiles.  The walk stops quietly where the full mode would say the
     * file is truncated, and follows NDPI's 8-byte directory chain as
     * OpenSlide does.
     */
    HS_TIFFLAYOUT_ENTRIES = 1,
};

/*
 * Walks the TIFF file at path in the given mode.  Returns 0 when nothing is
 * wrong; 1 when something is, with a sentence in msg (size n; without the
 * file name) saying what: "the file is truncated: it has 5000 bytes, but
 * TIFF directory 0 starts at byte 303540", "TIFF directory 0: TileOffsets has
 * 64 entries, but ImageWidth 1 x ImageLength 2048 in 256 x 256 tiles needs
 * 8", "TIFF directory 0: ImageDescription (tag 270) states 4294770745 values
 * of 1 byte, more than the file's 3840 bytes hold: the file is corrupt"; -1
 * (full mode only) when the file cannot be read (msg says why).  At most
 * max_dirs directories are examined; a chain longer than that is an error.
 */
int hs_tifflayout_check(const char *path, int max_dirs, int mode, char *msg, size_t n);

/* The TIFF name of a tag as libtiff spells it ("Photometric" for 262), or NULL when it is not a common one. */
const char *hs_tifflayout_tag_name(uint32_t tag);

#endif /* HS_TIFFLAYOUT_INTERNAL_H */
