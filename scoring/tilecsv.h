/*
 * tilecsv: a tile map as the .tiles.csv table that `hetsurv score --map` and
 * the cohort run (DIR/maps) write: one row per tile holding cells, columns
 * ix, iy, x_um, y_um (the tile's top-left corner from the slide origin),
 * n_cells, n0..n3 (cells per class), hscore, ihc_score (the tile's call by
 * the slide rules) and tumour (1 when the tile has at least tile_min_cells
 * cells: a tumour tile of the metrics).  `hetsurv plot map` reads it back.
 */
#ifndef HS_TILECSV_H
#define HS_TILECSV_H

#include <stdio.h>

#include "scoring/her2.h"
#include "scoring/metrics.h"

/* Writes the header and rows of map to f with p's rules.  Returns 0, or -1 when f reports an error. */
int hs_tilecsv_write(FILE *f, const hs_tilemap *map, const hs_her2_params *p);

#endif /* HS_TILECSV_H */
