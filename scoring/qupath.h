/*
 * qupath: the second input route to the heterogeneity metrics.  Reads a QuPath
 * detection-measurement export (Measure > Export measurements, or the
 * MeasurementExporter script), classifies each cell with the same HER2 rule as
 * the slide scorer (or takes QuPath's own Negative/1+/2+/3+ classes), and puts
 * the cells of each image on a tile map, so that hs_metrics_compute gives the
 * same metrics as for a scored slide.
 *
 * File: tab- or comma-separated, the delimiter taken from the header line
 * (whichever of tab and comma occurs more often outside quotes; tab on a tie).
 * Columns are found by header name, in any order; other columns are ignored:
 *   Image                        image name; rows are grouped by it (optional:
 *                                without it the whole file is one image named
 *                                after the file)
 *   Class or Classification      QuPath's class (Classification wins if both)
 *   Centroid X µm, Centroid Y µm cell position (also "um"); else
 *   Centroid X px, Centroid Y px with pixel_um > 0
 *   Membrane: DAB OD mean        membrane intensity (deprecated "Cell + membrane
 *                                detection"); else Cell: DAB OD mean
 *   completeness column          fraction 0..1 of the membrane that is stained;
 *                                named by the caller, default
 *                                HS_QUPATH_COMPLETENESS_DEFAULT
 * Class of a cell, in order of precedence:
 *   1. when the completeness column is present (it then requires an intensity
 *      column): hs_her2_cell_class(p, intensity, completeness); QuPath's
 *      class, if any, is used only to drop non-tumour cells;
 *   2. otherwise QuPath's class (required), whose last component (after the
 *      last ':', e.g. "Tumor: 2+") must be Negative, 1+, 2+ or 3+ (any case),
 *      mapped to 0/1+/2+/3+.  QuPath's DAB thresholds are then the ones used in
 *      QuPath, not p's, and completeness is not checked.
 * Rows skipped (counted in n_skipped): a class with a non-tumour component
 * (Stroma, Immune cells, Necrosis, Other, Ignore*), an empty class in route 2,
 * a missing value (empty, NA, NaN) in a column the route uses.
 */
#ifndef HS_QUPATH_H
#define HS_QUPATH_H

#include <stddef.h>

#include "scoring/her2.h"
#include "scoring/metrics.h"
#include "util/hs_error.h"

/* The completeness column looked for when the caller names none. */
#define HS_QUPATH_COMPLETENESS_DEFAULT "Membrane: DAB completeness"

/*
 * Plausibility bounds on the numbers of a row (docs/hardening.md says why):
 * a centroid is 0..HS_QUPATH_MAX_UM micrometres from the image origin (px
 * columns after the pixel size), a DAB OD mean is within
 * [HS_QUPATH_OD_MIN, HS_QUPATH_OD_MAX], an image name has at most
 * HS_QUPATH_MAX_IMAGE bytes.
 */
#define HS_QUPATH_MAX_UM 200000.0   /* 20 cm: 2.7 times a 75-mm glass slide */
#define HS_QUPATH_OD_MIN (-4.0)
#define HS_QUPATH_OD_MAX 8.0
#define HS_QUPATH_MAX_IMAGE 1024

typedef struct hs_qupath_image {
    char *image;              /* the Image value (or the file's base name without an Image column); a name
                                 longer than HS_QUPATH_MAX_IMAGE is kept cut, escaped, ending in "..." */
    char *error;              /* NULL, or why the image cannot be scored: its first bad row's message
                                 (FILE:LINE:COLUMN: what is wrong); map is then NULL */
    unsigned long n_bad;      /* rows of this image with a bad value (error names the first) */
    hs_tilemap *map;          /* its tumour cells on tiles of tile_um from the image origin */
    unsigned long n_cells;    /* cells put on the map */
    unsigned long n_skipped;  /* rows of this image not counted (see above) */
} hs_qupath_image;

typedef struct hs_qupath {
    size_t nimage;
    hs_qupath_image *image;   /* in order of first appearance in the file */
    int from_class;           /* 1: classes are QuPath's (route 2); 0: intensity + completeness (route 1) */
    char *intensity_col;      /* header names used by route 1; NULL in route 2 */
    char *completeness_col;
    char *class_col;          /* "Class" or "Classification"; NULL when absent (route 1 only) */
    int centroid_px;          /* 1: positions were px columns times pixel_um */
} hs_qupath;

/*
 * Reads the export at path.  tile_um (> 0) is the tile side; pixel_um (>= 0;
 * 0 = unknown) converts px centroids and is needed only without µm columns;
 * completeness_col names the completeness column (NULL: use
 * HS_QUPATH_COMPLETENESS_DEFAULT when present; a name given must exist); p
 * holds the class thresholds.  On success *out owns every image (free with
 * hs_qupath_free).  A bad row (a value that is not a finite number, outside
 * its bounds above, completeness outside [0, 1], an unknown class name, an
 * image name that is too long, or a tile map too large) does not stop the
 * read: its image gets an error (the first bad row's FILE:LINE:COLUMN
 * message, values quoted escaped and cut) and no map, and the other images
 * are read.  Fails with HS_EINVAL (bad argument), HS_EIO (cannot open or
 * read), HS_EDATA (malformed file, no header, missing required column, px
 * centroids without pixel_um, a row with another number of fields than the
 * header), HS_ENOMEM; *out is then NULL.
 */
int hs_qupath_read(hs_qupath **out, const char *path, double tile_um, double pixel_um, const char *completeness_col,
                   const hs_her2_params *p, hs_error *err) HS_RESULT_USED;

void hs_qupath_free(hs_qupath *q);

#endif /* HS_QUPATH_H */
