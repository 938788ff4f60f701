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

/*
 * Walks the TIFF file at path.  Returns 0 when everything the directories
 * point to lies inside the file and every directory has as many tile or
 * strip entries as its size needs; 1 when not, with a sentence in msg (size
 * n; without the file name) saying what is wrong: "the file is truncated: it
 * has 5000 bytes, but TIFF directory 0 starts at byte 303540", "TIFF
 * directory 0: TileOffsets has 64 entries, but ImageWidth 1 x ImageLength
 * 2048 in 256 x 256 tiles needs 8"; -1 when the file cannot be read (msg
 * says why).  At most max_dirs directories are examined.
 */
int hs_tifflayout_check(const char *path, int max_dirs, char *msg, size_t n);

/* The TIFF name of a tag as libtiff spells it ("Photometric" for 262), or NULL when it is not a common one. */
const char *hs_tifflayout_tag_name(uint32_t tag);

#endif /* HS_TIFFLAYOUT_INTERNAL_H */
