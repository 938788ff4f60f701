/*
 * cells: tumour-cell detection and membrane measurement in one image region.
 *
 * Nuclei are connected components of the smoothed hematoxylin OD, minus its
 * local background (a grey opening), above a threshold, kept when their area
 * is plausible.  Each nucleus owns the pixels
 * nearer to it than to any other nucleus, up to an expansion radius (a
 * Voronoi tessellation limited like QuPath's cell expansion); its membrane
 * ring is the part of its region within ring_um of the region's boundary.
 * Per cell: completeness = fraction of the ring's angular sectors that are
 * stained (at least sector_frac of their pixels with DAB OD >= od_1), and
 * intensity = the median over the stained sectors of each sector's peak DAB
 * OD: measured on the stained part only, so a faint partial membrane is not
 * averaged down to 0, and at the membrane's core, so edge blur (partial
 * volume, JPEG chroma subsampling) does not lower it.  A nucleus is a tumour cell when at
 * least tumour_neighbours other nuclei lie within tumour_radius_um (tumour
 * cells grow in dense nests; stromal and inflammatory nuclei are sparse).
 */
#ifndef HS_CELLS_H
#define HS_CELLS_H

#include <stddef.h>

#include "scoring/her2.h"
#include "util/hs_error.h"

typedef struct hs_cell_params {
    double nucleus_od;       /* threshold of the smoothed, background-subtracted hematoxylin OD for nucleus pixels */
    double background_um;    /* half-side of the background opening window (8, QuPath's radius); 0: none */
    double min_area_um2;     /* nucleus area range (10 .. 400, QuPath's defaults) */
    double max_area_um2;
    double expansion_um;     /* cell radius limit from the nucleus centre (7) */
    double ring_um;          /* membrane ring width (1.5) */
    double tumour_radius_um; /* neighbourhood for the tumour-cell rule (20) */
    int tumour_neighbours;   /* (3) */
    int sectors;             /* angular sectors of the ring (24) */
    double sector_frac;      /* stained fraction making a sector stained (1/3) */
} hs_cell_params;

void hs_cell_params_default(hs_cell_params *p);

/* The margin in pixels a region needs around its core so that cells in the core see all their neighbours. */
int hs_cells_margin_px(const hs_cell_params *p, double mpp);

typedef struct hs_cell {
    double x, y;           /* nucleus centroid, region pixels */
    double area_um2;       /* nucleus area */
    double intensity;      /* median of the stained sectors' peak DAB OD (0 when none) */
    double completeness;   /* stained fraction of ring sectors, 0..1 */
    hs_class cls;
} hs_cell;

typedef struct hs_cells hs_cells;

/* A detector with buffers for regions of up to max_w x max_h pixels; NULL when out of memory. */
hs_cells *hs_cells_alloc(int max_w, int max_h);
void hs_cells_free(hs_cells *c);

/*
 * Detects the tumour cells of a w x h region (hem and dab planes, row-major)
 * at mpp microns per pixel, and measures and classifies those whose centroid
 * lies in the core [cx0, cx1) x [cy0, cy1).  *out points to an array of *n
 * cells owned by the detector, valid until the next call.  HS_EINVAL when the
 * region exceeds the detector's size, HS_ENOMEM.
 */
int hs_cells_run(hs_cells *c, const float *hem, const float *dab, int w, int h, double mpp, int cx0, int cy0,
                 int cx1, int cy1, const hs_cell_params *cp, const hs_her2_params *hp, const hs_cell **out, size_t *n,
                 hs_error *err) HS_RESULT_USED;

#endif /* HS_CELLS_H */
