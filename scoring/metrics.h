/*
 * metrics: per-slide HER2 summaries and heterogeneity metrics from per-cell
 * classes accumulated on a grid of square tiles.  Pure computation: the
 * scorer, the QuPath import and the tests feed it; formulas in docs/scoring-metrics.md.
 */
#ifndef HS_METRICS_H
#define HS_METRICS_H

#include <stddef.h>

#include "scoring/her2.h"
#include "util/hs_error.h"

/* A tile map: nx*ny tiles, row-major, each with its tumour-cell counts per class. */
typedef struct hs_tilemap {
    size_t nx, ny;
    double tile_um;        /* tile side in micrometres */
    unsigned long *count;  /* nx*ny*HS_NCLASS: count[(iy*nx + ix)*HS_NCLASS + k] */
} hs_tilemap;

/* A zeroed map (free with hs_tilemap_free), or NULL when out of memory. */
hs_tilemap *hs_tilemap_alloc(size_t nx, size_t ny, double tile_um);
void hs_tilemap_free(hs_tilemap *m);

/* Adds one cell of class k at position (x_um, y_um) from the slide origin; cells outside the map are ignored. */
void hs_tilemap_add(hs_tilemap *m, double x_um, double y_um, hs_class k);

typedef struct hs_slide_metrics {
    unsigned long n_cells;    /* tumour cells */
    size_t n_tiles;           /* tumour tiles: tiles with >= tile_min_cells cells */
    double p[HS_NCLASS];      /* class fractions (NAN when n_cells == 0) */
    double hscore;
    hs_call ihc_score;
    hs_her2_class her2_class;
    double entropy;           /* -sum p ln p / ln 4 */
    double simpson;           /* 1 - sum p^2 */
    double tile_cv;           /* sd/mean of tumour-tile H-scores (sd with n-1); NAN with < 2 tiles or mean 0 */
    double discordant_frac;   /* tumour tiles whose call differs from the slide call / tumour tiles */
    double morans_i;          /* of tumour-tile H-scores, rook neighbours among tumour tiles; NAN if undefined */
    double minority_frac;     /* min(high, low) phenotype fraction: high = 2+/3+, low = 0/1+ */
    hs_pattern pattern;
    int heterogeneous;        /* pattern != homogeneous; -1 when NA */
} hs_slide_metrics;

/*
 * Computes every metric from the map.  ish resolves a 2+ call.  A slide with
 * no tumour cells gets n_cells 0, NAN numbers and NA calls, and HS_OK.
 * Fails only with HS_ENOMEM or HS_EINVAL.
 */
int hs_metrics_compute(const hs_tilemap *m, const hs_her2_params *p, hs_ish ish, hs_slide_metrics *out,
                       hs_error *err) HS_RESULT_USED;

#endif /* HS_METRICS_H */
