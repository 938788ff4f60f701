/*
 * slidefix: test images for the slide and tiffwriter suites.  Deterministic
 * pixel patterns, a pyramidal slide written band by band with tiffwriter, the
 * reference 2x2 box pyramid computed directly from the pattern, and a way to
 * check that library code printed nothing to stderr.
 */
#ifndef HS_TEST_SLIDEFIX_H
#define HS_TEST_SLIDEFIX_H

#include <stddef.h>
#include <stdint.h>

#include "scoring/tiffwriter.h"

/* A pixel value of channel c at (x, y). */
typedef uint8_t (*hs_fix_pattern)(uint32_t x, uint32_t y, int c);

/* High-frequency pseudo-random texture (for lossless checks: every bit matters). */
uint8_t hs_fix_noise(uint32_t x, uint32_t y, int c);
/* Smooth colour gradients (for JPEG). */
uint8_t hs_fix_smooth(uint32_t x, uint32_t y, int c);

/* Writes a w x h slide of pattern p with tiffwriter in bands of `tile` rows; returns its status. */
int hs_fix_write_slide(const char *path, uint32_t w, uint32_t h, uint32_t tile, int nlevels, hs_tiff_compression comp,
                       int quality, double mpp, hs_fix_pattern p);

/* The same with JPEG chroma subsampling `chroma` (2: 4:2:0, 1: 4:4:4; see hs_tiffw_set_subsampling). */
int hs_fix_write_slide_chroma(const char *path, uint32_t w, uint32_t h, uint32_t tile, int nlevels,
                              hs_tiff_compression comp, int quality, int chroma, double mpp, hs_fix_pattern p);

/*
 * The reference pyramid level `level` of pattern p over w x h, computed
 * straight from the definition (each level ceil-halves the one above; a pixel
 * is the rounded mean of the 1, 2 or 4 pixels of its block).  Returns a
 * malloc'd RGB buffer and its size in *lw, *lh.
 */
uint8_t *hs_fix_pyramid(uint32_t w, uint32_t h, hs_fix_pattern p, int level, uint32_t *lw, uint32_t *lh);

/* Redirects stderr to a scratch file; hs_fix_stderr_end restores it and returns the bytes written meanwhile. */
void hs_fix_stderr_begin(void);
long hs_fix_stderr_end(void);

/* Size of a file in bytes, -1 when missing. */
long long hs_fix_file_size(const char *path);
/* Truncates the file at path to len bytes (0 on success). */
int hs_fix_truncate(const char *path, long long len);
/* Number of entries in a folder other than . and .. (-1 on error). */
int hs_fix_count_entries(const char *dir);

#endif
