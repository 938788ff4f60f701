/*
 * tiffcheck: a look at a TIFF file's directories before OpenSlide parses
 * them.  OpenSlide 3.4 reads every directory entry into memory as the entry
 * states it, so one damaged count (4 bytes of the file) asks it for gigabytes,
 * and a failed allocation in OpenSlide aborts the process; a tiled directory
 * with fewer tile offsets than its size in tiles made it divide by zero.
 * Every entry's values must fit in the file, and a tiled directory must list
 * an offset for each of its tiles: a TIFF that does not is corrupt.
 * Internal to scoring/ (slide.c): not part of the public API.
 */
#ifndef HS_TIFFCHECK_INTERNAL_H
#define HS_TIFFCHECK_INTERNAL_H
#include <stdio.h>
#include "util/hs_error.h"
/*
 * Walks the directory chain of the TIFF (classic or BigTIFF, either byte
 * order) open as f, of size bytes, named path in messages: HS_EFORMAT, naming
 * the tag, the directory and the file, when an entry states more values than
 * the file holds, a tile or strip byte count exceeds the file, or a tiled
 * directory has fewer TileOffsets than tiles;
 * HS_OK otherwise (what else is wrong is left to libtiff and
 * OpenSlide, which say so).  Reads at most 4096 directories; moves f's
 * position.
 */
int hs_tiffcheck_entries(FILE *f, long long size, const char *path, hs_error *err) HS_RESULT_USED;
#endif /* HS_TIFFCHECK_INTERNAL_H */
