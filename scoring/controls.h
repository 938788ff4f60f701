/*
 * controls: the table of control slides that calibrates a cohort's
 * membrane DAB cuts (calib.h).  Every HER2 IHC run carries controls with
 * known 0, 1+, 2+ and 3+ areas (cell-line blocks or tissue); the table says
 * where they are:
 *
 *     batch,slide,class,x0_um,y0_um,x1_um,y1_um
 *
 * one row per known area: the staining batch it calibrates (the manifest's
 * `batch` value), the control slide (relative paths are taken relative to
 * the table's folder), the class ("0", "1+", "2+", "3+"), and the area's
 * rectangle in micrometres from the slide origin (x0 < x1, y0 < y1).  Other
 * columns are ignored; columns may come in any order.
 */
#ifndef HS_CONTROLS_H
#define HS_CONTROLS_H

#include <stddef.h>

#include "scoring/her2.h"
#include "util/hs_error.h"

typedef struct hs_control_area {
    char *batch;
    char *slide;      /* as written */
    char *path;       /* resolved against the table's folder */
    hs_class cls;
    double rect[4];   /* x0, y0, x1, y1 in um */
    long line;
} hs_control_area;

typedef struct hs_controls {
    size_t n;
    hs_control_area *area; /* in file order */
} hs_controls;

/*
 * Reads the table at path.  HS_EIO, HS_EDATA (a missing column, a bad class
 * or number, an empty rectangle, an empty table; the message names
 * FILE:LINE:COLUMN), HS_ENOMEM; *out is NULL on failure.
 */
int hs_controls_read(hs_controls **out, const char *path, hs_error *err) HS_RESULT_USED;
void hs_controls_free(hs_controls *c);

#endif /* HS_CONTROLS_H */
