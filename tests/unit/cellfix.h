/*
 * cellfix: synthetic tumour-cell images for the cells and score suites.
 *
 * Cells follow the simulator's conventions (scoring_common): a round (or
 * elliptic) nucleus of hematoxylin 0.6, faint cytoplasm (hematoxylin 0.06,
 * DAB 0.02) over the cell's region = the pixels nearer to its centre than to
 * any other centre, up to an expansion radius from it (7 um in hs_cf_render,
 * any in hs_cf_render_ex); a membrane band = the region's pixels within the
 * membrane width (1 um, or any) of the region's boundary (the bisector with a
 * neighbour, or the expansion limit), drawn
 * with the cell's DAB concentration over the part of the circumference
 * selected by arc (a fraction of the full turn, starting at angle -pi, angles
 * measured with atan2(dy, dx) from the centre).  Pixels equidistant from
 * two centres go to the lower index.  Outside every region: glass (0, 0).
 * RGB comes from Beer-Lambert with the normalised Ruifrok-Johnston vectors.
 */
#ifndef HS_TEST_CELLFIX_H
#define HS_TEST_CELLFIX_H

#include <stddef.h>
#include <stdint.h>

#include "scoring/her2.h"

#define HS_CF_NUCLEUS_H 0.6
#define HS_CF_CYTO_H 0.06
#define HS_CF_CYTO_DAB 0.02
#define HS_CF_EXPANSION_UM 7.0
#define HS_CF_MEMBRANE_UM 1.0

typedef struct hs_cf_cell {
    double x, y;   /* centre, pixels */
    double r_um;   /* nucleus radius, micrometres */
    double dab;    /* membrane DAB concentration */
    double arc;    /* stained fraction of the circumference from angle -pi (1 = complete) */
    hs_class cls;  /* planted class (for the tests' bookkeeping) */
    double aspect; /* nucleus minor / major axis (0 or 1: round); r_um is then the semi-major axis */
    double theta;  /* direction of the major axis, radians from the x axis */
} hs_cf_cell;

/* The membrane (dab, arc) planted for each class: 0 -> 0.03 complete, 1+ -> 0.3 over 40%, 2+ -> 0.5, 3+ -> 0.9. */
void hs_cf_class_membrane(hs_class k, double *dab, double *arc);

/*
 * Centres of a hexagonal lattice of spacing sp pixels covering [x0, x1) x [y0, y1):
 * row j at y0 + j*sp*sqrt(3)/2, column i at x0 + i*sp (+ sp/2 on odd rows).
 * Each cell gets radius r_um and class 0.  Returns a malloc'd array of *n cells.
 */
hs_cf_cell *hs_cf_lattice(double x0, double y0, double x1, double y1, double sp, double r_um, size_t *n);

/* Sets cell's class and the membrane of that class. */
void hs_cf_set_class(hs_cf_cell *cell, hs_class k);

/*
 * Draws the hem and dab planes (w x h, row-major; either may be NULL) of the
 * cells at mpp microns per pixel, for the window whose top-left pixel is (ox, oy)
 * in the cells' coordinates.
 */
void hs_cf_render(const hs_cf_cell *cells, size_t n, double mpp, int ox, int oy, int w, int h, float *hem, float *dab);

/*
 * As hs_cf_render with the cell regions limited to expansion_um from their
 * centres and membranes membrane_um wide (hs_cf_render: 7 and 1).
 */
void hs_cf_render_ex(const hs_cf_cell *cells, size_t n, double mpp, int ox, int oy, int w, int h, double expansion_um,
                     double membrane_um, float *hem, float *dab);

/* RGB by Beer-Lambert: I_c = round(bg_c * 10^-(hem H_c + dab D_c)) with the unit default vectors. */
void hs_cf_rgb(const float *hem, const float *dab, size_t npix, const double bg[3], uint8_t *rgb);

/* A deterministic uniform number in [0, 1) from an integer. */
double hs_cf_uniform(uint64_t i);

#endif
