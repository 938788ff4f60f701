/*
 * slide_internal: hooks into scoring/slide for the tests and the benchmarks.
 * Not part of the public API (slide.h): the tests use them to read one file
 * through both backends and compare, and to watch the tile cache.
 */
#ifndef HS_SLIDE_INTERNAL_H
#define HS_SLIDE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "scoring/slide.h"

typedef enum hs_slide_backend {
    HS_SLIDE_BACKEND_AUTO = 0,     /* what hs_slide_open does: libtiff for the layouts it reads, else OpenSlide */
    HS_SLIDE_BACKEND_OPENSLIDE = 1 /* OpenSlide decodes the pixels of every file it recognises */
} hs_slide_backend;

/* hs_slide_open with a choice of backend; same outputs and failures. */
int hs_slide_open_backend(hs_slide **out, const char *path, double mpp_override, hs_slide_backend backend,
                          hs_error *err) HS_RESULT_USED;

/* Tiles the libtiff backend has decoded since open (cache misses); 0 for the other backends. */
uint64_t hs_slide_tiles_decoded(const hs_slide *s);

/* Bytes of decoded tiles the libtiff backend holds in its cache now; 0 for the other backends. */
size_t hs_slide_cache_bytes(const hs_slide *s);

#endif /* HS_SLIDE_INTERNAL_H */
