/*
 * score: the whole-slide HER2 scoring pipeline, in two steps so that the
 * intensity cuts can be calibrated on a whole cohort in between.
 *
 * hs_score_slide() measures: it opens a slide, picks the level nearest the
 * target pixel size, estimates the glass background and the tissue from a
 * thumbnail, reads a sample of tissue regions to measure the slide's own
 * stain vectors (hs_stain_acc) and cell scale (hs_cells_scale), then reads
 * every tissue region (each with a margin so that cells on region edges see
 * their neighbours; several regions at a time on `threads` threads, each
 * with its own reader), deconvolves the stains, detects the tumour cells and
 * measures their membranes into a cell store.  Memory is bounded by the
 * region size, the thread count and the store's buffer, never by the slide.
 *
 * hs_score_classify() classifies the stored cells with given cuts and
 * computes the slide's metrics on a map of square tiles.
 */
#ifndef HS_SCORE_H
#define HS_SCORE_H

#include <stdio.h>

#include "scoring/cells.h"
#include "scoring/cellstore.h"
#include "scoring/her2.h"
#include "scoring/metrics.h"
#include "util/hs_error.h"

typedef struct hs_score_params {
    double target_mpp;     /* pixel size to score at; the nearest level is used (0.5) */
    double mpp_override;   /* > 0: the slide's level-0 pixel size, overriding the file (0) */
    int region_px;         /* core side of the regions read at a time (1024) */
    int threads;           /* regions scored at once, each thread with its own reader (1) */
    int sample_regions;    /* tissue regions read first to measure stains and scale (6) */
    int estimate_background; /* estimate the glass intensity per slide (1) or use 255 */
    double tissue_od;      /* summed RGB OD above which a thumbnail pixel is tissue (0.15) */
    int estimate_stains;   /* estimate the stain vectors per slide (1) unless has_stains */
    int has_stains, has_third;
    double stain_h[3], stain_dab[3], stain_third[3]; /* user vectors when has_stains */
    hs_cell_params cells;
} hs_score_params;

void hs_score_params_default(hs_score_params *p);

/* Where the stain vectors came from: defaults, --stains, both estimated, hematoxylin estimated (DAB default). */
typedef enum { HS_STAIN_DEFAULT = 0, HS_STAIN_GIVEN = 1, HS_STAIN_ESTIMATED = 2, HS_STAIN_ESTIMATED_H = 3 } hs_stain_source;

typedef struct hs_score_result {
    hs_cellstore *cells;    /* the measured tumour cells (owned; free with hs_score_result_clear) */
    int level;              /* level scored */
    double mpp;             /* its pixel size */
    double width_um, height_um; /* its extent */
    double background[3];   /* glass intensity used */
    double megapixels;      /* pixels deconvolved */
    double stain_h[3], stain_dab[3]; /* unit vectors used */
    hs_stain_source stain_source;
    double stain_h_angle, stain_dab_angle; /* degrees between the vectors used and the defaults */
    char stain_note[200];   /* why the defaults were used when estimation failed ("" otherwise) */
    hs_cell_scale scale;    /* the slide's measured scale */
    double cell_radius_um;  /* median over tumour cells of their median centre-to-border distance */
} hs_score_result;

/*
 * Measures the slide at path.  spill (may be NULL) is a read/write file
 * where the cell store keeps its records instead of memory.  On success
 * fills res (clear it with hs_score_result_clear).  A slide without a known
 * pixel size and no override, an unreadable or corrupt slide, or one without
 * any tumour cell is an error (HS_EIO, HS_EFORMAT, HS_EDATA) with the reason
 * in err.
 */
int hs_score_slide(const char *path, const hs_score_params *p, FILE *spill, hs_score_result *res,
                   hs_error *err) HS_RESULT_USED;

void hs_score_result_clear(hs_score_result *res);

/* Called by hs_score_classify for every cell with its measurements and class. */
typedef void (*hs_score_cell_fn)(void *ctx, const hs_cellrec *r, double intensity, double completeness, hs_class k);

/*
 * Classifies the stored cells of res, their sectors unmixed with `leak`
 * (hs_cell_unmix), with the cuts of hp, calls cell_fn (may be NULL) for
 * each, and computes the metrics (ish resolves a 2+ call) on tiles of
 * tile_um.  *map (may be NULL) receives the tile map, owned by the caller.
 * HS_ENOMEM, HS_EIO.
 */
int hs_score_classify(const hs_score_result *res, const hs_her2_params *hp, double leak, double tile_um, hs_ish ish,
                      hs_score_cell_fn cell_fn, void *ctx, hs_slide_metrics *m, hs_tilemap **map,
                      hs_error *err) HS_RESULT_USED;

#endif /* HS_SCORE_H */
