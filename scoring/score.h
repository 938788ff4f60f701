/*
 * score: the whole-slide HER2 scoring pipeline.  Opens a slide, picks the
 * level nearest the target pixel size, estimates the glass background from a
 * thumbnail, finds tissue, then reads the slide region by region (each with a
 * margin so that cells on region edges see their neighbours), deconvolves the
 * stains, detects and classifies tumour cells, and accumulates them on a map
 * of square tiles from which the metrics are computed.  Memory is bounded by
 * the region size and the tile map, never by the slide size.
 */
#ifndef HS_SCORE_H
#define HS_SCORE_H

#include "scoring/cells.h"
#include "scoring/her2.h"
#include "scoring/metrics.h"
#include "util/hs_error.h"

typedef struct hs_score_params {
    double target_mpp;     /* pixel size to score at; the nearest level is used (0.5) */
    double mpp_override;   /* > 0: the slide's level-0 pixel size, overriding the file (0) */
    double tile_um;        /* heterogeneity tile side (256) */
    int region_px;         /* core side of the regions read at a time (1024) */
    int estimate_background; /* estimate the glass intensity per slide (1) or use 255 */
    double tissue_od;      /* summed RGB OD above which a thumbnail pixel is tissue (0.15) */
    int has_stains, has_third;
    double stain_h[3], stain_dab[3], stain_third[3]; /* user vectors when has_stains */
    hs_cell_params cells;
    hs_her2_params her2;
    /* Optional: called for every tumour cell with its centroid in micrometres from the slide origin. */
    void (*cell_fn)(void *ctx, double x_um, double y_um, const hs_cell *cell);
    void *cell_ctx;
} hs_score_params;

void hs_score_params_default(hs_score_params *p);

typedef struct hs_score_result {
    hs_slide_metrics metrics;
    hs_tilemap *map;        /* the tile-class map (owned; free with hs_score_result_clear) */
    int level;              /* level scored */
    double mpp;             /* its pixel size */
    double background[3];   /* glass intensity used */
    double megapixels;      /* pixels deconvolved */
} hs_score_result;

/*
 * Scores the slide at path (ish resolves a 2+ call).  On success fills res
 * (clear it with hs_score_result_clear).  A slide without a known pixel size
 * and no override, an unreadable or corrupt slide, or one without any tumour
 * cell is an error (HS_EIO, HS_EFORMAT, HS_EDATA) with the reason in err.
 */
int hs_score_slide(const char *path, const hs_score_params *p, hs_ish ish, hs_score_result *res,
                   hs_error *err) HS_RESULT_USED;

void hs_score_result_clear(hs_score_result *res);

#endif /* HS_SCORE_H */
