/*
 * cells: tumour-cell detection and membrane measurement in one image region,
 * with every length taken from the slide itself rather than from a constant.
 *
 * Nuclei: connected components of the smoothed hematoxylin OD minus its local
 * background (a grey opening), above a threshold; touching nuclei are split
 * by a watershed on the distance transform (two basins stay apart when the
 * neck between them is narrower than split_neck times the smaller one's
 * half-width); components of implausible area, where DAB outweighs
 * hematoxylin (strong membrane staining leaking into the hematoxylin
 * channel), or of spindle shape (stromal fibroblasts) are dropped.
 *
 * Tumour cells: nuclei that sit in a packed sheet at the slide's own scale.
 * The scale (hs_cell_scale) is measured per slide by hs_cells_scale() on a
 * sample of regions: the typical distance from a nucleus to its third-nearest
 * neighbour (the mode over all nuclei, which tumour nests dominate) and the
 * typical nucleus area of the nuclei in such sheets.  A nucleus is a tumour
 * cell when its third-nearest neighbour lies within sheet_factor (1.45) times
 * that spacing: in a hexagonal sheet the first ring of neighbours lies at one
 * spacing and the second at sqrt(3), so 1.45 keeps every cell of a nest
 * (edge cells have 3-4 neighbours in the first ring) and drops scattered
 * stromal and inflammatory nuclei; and when its area is at least
 * min_area_frac of the sheet's typical nucleus area (lymphocytes and
 * fibroblasts next to a nest are smaller than the nest's own nuclei).
 *
 * Membranes: each tumour cell's border is found along rays from its nucleus
 * centroid, rays_per_sector rays in each of `sectors` angular sectors.  In
 * a direction where a neighbouring nucleus lies within edge_factor times
 * the cell's half third-nearest distance, the border is the perpendicular
 * bisector with it (the cell's Voronoi border).  Where none does (a nest
 * edge), the border is where the membrane is: the DAB ridge along the ray
 * between 0.8 and 1.6 times the cell's typical radius (the median of its
 * bisector rays).  The membrane is sampled in a band band_px pixels wide on
 * the cell's own side of that border, centred on the ridge on an open ray
 * (the membrane lies on the border, wherever the border is: no fixed
 * radius).  Per sector (its band pixels pooled): `stain` = the value
 * that a third of the pixels reach (the sector is stained when this is >=
 * od_1, i.e. when at least a third of its band is), `peak` = the highest
 * pixel (the membrane's own intensity, unlowered by edge blur).  Three
 * pixels of band hold at least a third of any membrane the scoring
 * resolution can show (one pixel or wider), while the neighbour's membrane
 * leaking across the border (JPEG's 2x2 chroma blocks, blur) reaches mostly
 * the outermost third.  The same two values are measured in the band just
 * beyond the border (`ostain`, `opeak`) where a neighbouring cell faces the
 * sector, so that the leak between neighbouring membranes can be undone
 * once the batch's leak is known (hs_cell_unmix).
 * Classification from the sector values (completeness, intensity, class) is
 * hs_cell_classify(), separate from detection, so that the intensity cuts can
 * be calibrated on a whole cohort after every cell has been measured once.
 */
#ifndef HS_CELLS_H
#define HS_CELLS_H

#include <stddef.h>

#include "scoring/her2.h"
#include "util/hs_error.h"

#define HS_CELL_MAX_SECTORS 48

typedef struct hs_cell_params {
    double nucleus_od;       /* threshold of the smoothed, background-subtracted hematoxylin OD (0.15) */
    double background_um;    /* half-side of the background opening window (8, QuPath's radius); 0: none */
    double min_area_um2;     /* nucleus area range (5 .. 400) */
    double max_area_um2;
    double max_radius_um;    /* largest tumour-cell radius looked for (12.5: cells are 10-25 um across); sizes
                                the region margins and bounds the measured scale */
    double split_neck;       /* watershed: basins merge when the neck is >= this fraction of the smaller
                                basin's depth (0.7) */
    double max_elongation;   /* nuclei longer than this many times their width are spindle (stromal) (2.5) */
    double sheet_factor;     /* tumour rule: third-nearest neighbour within this many spacings (1.45) */
    double min_area_frac;    /* tumour rule: nucleus area >= this fraction of the sheet's typical area (0.4) */
    double edge_factor;      /* ray length where no neighbour faces the ray, in local half-spacings (1.3) */
    int sectors;             /* angular sectors of the membrane (24) */
    int rays_per_sector;     /* (3) */
    double band_px;          /* membrane band on the cell's side of its border, scoring-level pixels (3) */
} hs_cell_params;

void hs_cell_params_default(hs_cell_params *p);


/* A slide's scale, measured by hs_cells_scale(). */
typedef struct hs_cell_scale {
    double spacing_um;       /* typical distance from a tumour nucleus to its third-nearest neighbour */
    double nucleus_area_um2; /* typical area of a tumour nucleus */
    size_t n_sheet;          /* nuclei in sheets the estimate rests on (0: no estimate; the rule then uses
                                2 * max_radius_um and no area floor) */
} hs_cell_scale;

/*
 * The margin in pixels a region needs around its core so that the cells of
 * the core see all their neighbours and their whole extent: twice the longest
 * ray (neighbours facing a ray lie within two ray lengths) plus a nucleus.
 * Sized by the slide's scale when known (sc may be NULL), else by max_radius_um.
 */
int hs_cells_margin_px(const hs_cell_params *p, const hs_cell_scale *sc, double mpp);

typedef struct hs_cell {
    double x, y;                        /* nucleus centroid, region pixels */
    double area_um2;                    /* nucleus area */
    double radius_um;                   /* median distance from the centroid to the cell's boundary over the rays */
    int nsector;                        /* sectors measured (0 < nsector <= sectors), in angular order */
    float stain[HS_CELL_MAX_SECTORS];   /* per sector: DAB OD reached by a third of its band */
    float peak[HS_CELL_MAX_SECTORS];    /* per sector: its highest DAB OD */
    float ostain[HS_CELL_MAX_SECTORS];  /* the same in the band beyond the border, where a neighbouring cell */
    float opeak[HS_CELL_MAX_SECTORS];   /* faces the sector; -1 where none does (nest edge) */
} hs_cell;

/*
 * Removes the leak of neighbouring membranes from a cell's sector values.
 * Focus blur and JPEG chroma subsampling spread each membrane across the
 * border, so a band reads its own membrane plus `leak` times the membrane
 * beyond, and symmetrically: own = m + leak m', other = m' + leak m.  Solved
 * for m: (own - leak other) / (1 - leak^2), on sectors that face a cell
 * (opeak >= 0).  A sheet of equal cells reads own / (1 + leak) after it,
 * every cell alike (the calibration's controls are such sheets and carry the
 * same factor into the cuts); an isolated 2+ cell among 0 cells no longer
 * reads weaker than a sheet of 2+ cells, and its unstained neighbours no
 * longer read stained.  Writes the unmixed values in increasing stain (ustain, upeak:
 * n each), ready for hs_cell_classify.  leak 0 only sorts.
 */
void hs_cell_unmix(const float *stain, const float *peak, const float *ostain, const float *opeak, int n,
                   double leak, float *ustain, float *upeak);

/*
 * Completeness, intensity and class of a cell from its sector values (stain
 * ascending, peak in the same order: hs_cell_unmix's output) and the cuts in
 * hp: a sector is stained when its stain >= od_1; completeness = stained /
 * measured sectors; intensity = median of the stained sectors' peaks (0 when
 * none); class by hs_her2_cell_class().
 */
hs_class hs_cell_classify(const float *stain, const float *peak, int n, const hs_her2_params *hp, double *intensity,
                          double *completeness);

typedef struct hs_cells hs_cells;

/* A detector with buffers for regions of up to max_w x max_h pixels; NULL when out of memory. */
hs_cells *hs_cells_alloc(int max_w, int max_h);
void hs_cells_free(hs_cells *c);

/*
 * Detects the tumour cells of a w x h region (hem and dab planes, row-major)
 * at mpp microns per pixel with the slide's scale sc, and measures those
 * whose centroid lies in the core [cx0, cx1) x [cy0, cy1).  *out points to an
 * array of *n cells owned by the detector, valid until the next call.
 * HS_EINVAL when the region exceeds the detector's size, HS_ENOMEM.
 */
int hs_cells_run(hs_cells *c, const float *hem, const float *dab, int w, int h, double mpp, int cx0, int cy0,
                 int cx1, int cy1, const hs_cell_params *cp, const hs_cell_scale *sc, const hs_cell **out, size_t *n,
                 hs_error *err) HS_RESULT_USED;

/* Accumulates nuclei statistics over sample regions for hs_cells_scale_finish(). */
typedef struct hs_scale_acc hs_scale_acc;

hs_scale_acc *hs_scale_acc_alloc(void);
void hs_scale_acc_free(hs_scale_acc *a);

/*
 * Detects the nuclei of a sample region (planes and core as in hs_cells_run) and adds
 * each core nucleus's third-nearest-neighbour distance and area to a.
 */
int hs_cells_sample(hs_cells *c, const float *hem, const float *dab, int w, int h, double mpp, int cx0, int cy0,
                    int cx1, int cy1,
                    const hs_cell_params *cp, hs_scale_acc *a, hs_error *err) HS_RESULT_USED;

/* a += b (the samples of b appended). HS_ENOMEM. */
int hs_scale_acc_merge(hs_scale_acc *a, const hs_scale_acc *b, hs_error *err) HS_RESULT_USED;

/*
 * The scale from the samples: spacing = the mode of the third-nearest
 * neighbour distances (histogram in 0.25 um bins smoothed with a 1 um
 * Gaussian, searched between twice the smallest nucleus's radius and 1.15 x
 * 2 * max_radius_um), nucleus area = the median area
 * of the nuclei whose third-nearest neighbour lies within sheet_factor
 * spacings.  With fewer than 30 such nuclei the scale is unknown (n_sheet 0).
 */
void hs_cells_scale_finish(const hs_scale_acc *a, const hs_cell_params *cp, hs_cell_scale *sc);

#endif /* HS_CELLS_H */
