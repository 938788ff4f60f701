/*
 * cellstore: the measured tumour cells of one slide, kept once so that they
 * can be classified after the intensity cuts have been chosen for the whole
 * cohort (calibration), without reading the slide again.
 *
 * A record holds the cell's position, nucleus area, radius and its sorted
 * membrane sector values on both sides of its border (DAB OD quantised to
 * 1/4096, saturating at 16).
 * Records stay in memory, or, when the store is given a spill file, go to
 * that file through a small buffer, so that a cohort of thousands of slides
 * does not hold its cells in memory.  Several stores may share one spill file
 * as long as only one of them is being filled at a time (each store's records
 * are then one contiguous run of the file).
 */
#ifndef HS_CELLSTORE_H
#define HS_CELLSTORE_H

#include <stddef.h>
#include <stdio.h>

#include "scoring/cells.h"
#include "util/hs_error.h"

/* One stored cell, as read back. */
typedef struct hs_cellrec {
    double x_um, y_um;                 /* nucleus centroid from the slide origin */
    float area_um2, radius_um;
    int nsector;
    float stain[HS_CELL_MAX_SECTORS];  /* as hs_cell: own side of the border */
    float peak[HS_CELL_MAX_SECTORS];
    float ostain[HS_CELL_MAX_SECTORS]; /* beyond the border; -1 where no cell faces the sector */
    float opeak[HS_CELL_MAX_SECTORS];
} hs_cellrec;

typedef struct hs_cellstore hs_cellstore;

/* A store for cells of up to max_sectors sectors; spill (may be NULL) is an open read/write file. NULL: no memory. */
hs_cellstore *hs_cellstore_alloc(int max_sectors, FILE *spill);
void hs_cellstore_free(hs_cellstore *s);

/* Adds a cell at (x_um, y_um). HS_ENOMEM, HS_EIO (spill file write error). */
int hs_cellstore_add(hs_cellstore *s, double x_um, double y_um, const hs_cell *c, hs_error *err) HS_RESULT_USED;

/* Writes out the buffered records (spill file); call once every cell has been added. HS_EIO. */
int hs_cellstore_finish(hs_cellstore *s, hs_error *err) HS_RESULT_USED;

size_t hs_cellstore_count(const hs_cellstore *s);

/* The store's sector capacity, and where its records start in its spill file (-1: in memory, or none yet). */
int hs_cellstore_max_sectors(const hs_cellstore *s);
long hs_cellstore_start(const hs_cellstore *s);

/*
 * A read-only store over the n records that a store of max_sectors sectors
 * wrote from offset start of the file at path (a measured slide saved by
 * another process).  The store opens the file and closes it when freed.
 * HS_EIO (cannot open, or the file is shorter than the records), HS_ENOMEM.
 */
int hs_cellstore_attach(hs_cellstore **out, const char *path, long start, size_t n, int max_sectors,
                        hs_error *err) HS_RESULT_USED;

/*
 * Calls fn for every stored cell in the order added; stops at the first
 * non-zero return of fn and returns it.  HS_EIO when the spill file cannot
 * be read.
 */
int hs_cellstore_read(const hs_cellstore *s, int (*fn)(void *ctx, const hs_cellrec *r), void *ctx,
                      hs_error *err) HS_RESULT_USED;

#endif /* HS_CELLSTORE_H */
