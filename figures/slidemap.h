/*
 * slidemap: one slide's heterogeneity map, for a pathologist: the slide's
 * thumbnail with each tumour tile overlaid in the colour of its HER2 IHC call
 * (0, 1+, 2+, 3+: the tile's own call, as the discordance metric uses it),
 * a legend with the tile counts, and a scale bar.  Tiles with fewer tumour
 * cells than the tile minimum are outlined only, so a sparse tile is seen as
 * such and not as a call.
 *
 * The data come from a tile map in memory (the run and `score` have it) or
 * from a saved DIR/<name>.tiles.csv (`hetsurv score --map`, and the maps a
 * cohort run writes), with the slide read for the thumbnail; a slide that
 * cannot be read (or a QuPath export, which has no image) is drawn without
 * a thumbnail, on white, and says so.
 */
#ifndef HS_SLIDEMAP_H
#define HS_SLIDEMAP_H

#include <stddef.h>

#include <cairo.h>

#include "scoring/her2.h"
#include "scoring/metrics.h"
#include "scoring/thumb.h"
#include "util/hs_error.h"

/* A tile without tumour cells, one with fewer than the minimum (outlined), then the calls 0..3. */
#define HS_SLIDEMAP_EMPTY (-2)
#define HS_SLIDEMAP_SPARSE (-1)

/* What the map shows; everything owned (hs_slidemap_data_free). */
typedef struct hs_slidemap_data {
    size_t nx, ny;
    double tile_um;            /* tile side in micrometres */
    signed char *tile;         /* nx*ny, row-major: HS_SLIDEMAP_EMPTY, HS_SLIDEMAP_SPARSE or the call 0..3 */
    hs_thumb thumb;            /* the picture (rgb NULL: none) */
    double um_per_px;          /* of the thumbnail (NAN without one) */
    char *note;                /* why there is no thumbnail, or NULL */
    size_t count[4];           /* tumour tiles of each call */
    size_t min_cells;          /* the tile minimum (0: unknown, as in a .tiles.csv) */
} hs_slidemap_data;

typedef struct hs_slidemap_opts {
    const char *title;         /* above the map (the patient and slide call), or NULL */
} hs_slidemap_opts;

void hs_slidemap_opts_default(hs_slidemap_opts *o);

/*
 * The map's tiles from a tile map: a tile's call is hs_her2_call of its class
 * fractions (p's rules), when it has at least p->tile_min_cells cells (at
 * least 1).  Fails with *out NULL and HS_EINVAL or HS_ENOMEM.
 */
int hs_slidemap_from_tilemap(hs_slidemap_data **out, const hs_tilemap *m, const hs_her2_params *p,
                             hs_error *err) HS_RESULT_USED;

/*
 * The map's tiles from a .tiles.csv (columns ix, iy, ihc_score, tumour; the
 * rest ignored); the tile side is x_um / ix of a row with ix > 0 (or y_um /
 * iy), else tile_um_default.  Fails with HS_EIO (named), HS_EDATA (FILE:LINE:
 * COLUMN), HS_ENOMEM.
 */
int hs_slidemap_load(hs_slidemap_data **out, const char *tiles_csv, double tile_um_default,
                     hs_error *err) HS_RESULT_USED;

/*
 * Reads the thumbnail of the slide at path (mpp_override > 0 replaces the
 * file's pixel size) into d.  A slide that cannot be read, or has no pixel
 * size, is not an error: d->note says why and the map is drawn on white.
 * HS_ENOMEM only.
 */
int hs_slidemap_thumb(hs_slidemap_data *d, const char *path, double mpp_override, hs_error *err) HS_RESULT_USED;

void hs_slidemap_data_free(hs_slidemap_data *d);

/* The figure's size in points. */
void hs_slidemap_size(const hs_slidemap_data *d, const hs_slidemap_opts *o, double *w_pt, double *h_pt);

/* Draws the figure in a w x h point box.  HS_OK or HS_EINVAL. */
int hs_slidemap_draw(cairo_t *cr, double w, double h, const hs_slidemap_data *d, const hs_slidemap_opts *o,
                     hs_error *err) HS_RESULT_USED;

/* Writes base.png/.pdf/.svg (the formats in mask) at hs_slidemap_size; failures as hs_fig_write. */
int hs_slidemap_write(const char *base, unsigned mask, const hs_slidemap_data *d, const hs_slidemap_opts *o,
                      hs_error *err) HS_RESULT_USED;

/*
 * A scored slide's map as the cohort run draws it: the thumbnail of the slide
 * at path into d (path NULL: a QuPath export, which has no image, said in
 * the note), the title "PATIENT: IHC call, pattern" from m, written as
 * base.* in the formats of mask.  Failures as hs_slidemap_thumb and
 * hs_slidemap_write.
 */
int hs_slidemap_write_slide(hs_slidemap_data *d, const char *path, double mpp_override, const char *patient,
                            const hs_slide_metrics *m, const char *base, unsigned mask, hs_error *err) HS_RESULT_USED;

/* The class colours (0, 1+, 2+, 3+), sRGB 0..1 components, for the legend of other views. */
void hs_slidemap_colour(int call, double rgb[3]);

#endif /* HS_SLIDEMAP_H */
