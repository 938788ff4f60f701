/*
 * calib: choosing the membrane DAB cuts (od_1, od_2, od_3) of a staining
 * batch.  Staining strength, membrane width, focus and JPEG settings differ
 * between labs, runs and scanners, and they scale the membrane DAB that a
 * scorer measures; fixed cuts (QuPath's 0.2/0.4/0.6) then misclass whole
 * batches.  Three ways to set the cuts, each citable (docs/scoring-metrics.md):
 *
 *  - fixed: the given cuts (default QuPath's), comparable with QuPath;
 *  - cohort: from the batch's own measurements, at the valleys between the
 *    modes.  od_1 is the valley above the mode of unstained membrane sectors
 *    (every sector of every tumour cell pooled); od_3 is the valley between
 *    the two largest modes of the intensity of complete membranes (2+ and
 *    3+); od_2 lies half-way between them, as QuPath's cuts t, 2t, 3t do.  A
 *    cut without a valley (a batch lacking one of the populations) keeps its
 *    fixed value, and the method says so;
 *  - controls: from control slides with known 0/1+/2+/3+ areas stained in the
 *    same run: each cut is the equal-prior Bayes boundary (where the smoothed
 *    densities cross) between the two neighbouring known classes: od_1
 *    between the sectors of the 0 area and the stained sectors of the 1+ area
 *    (its top 30%: 1+ membranes are incomplete arcs); od_2 between those arcs
 *    and the complete-membrane intensity of the 2+ area; od_3 between the 2+
 *    and 3+ areas.
 *
 * Everything works on small histograms (hs_calib_hist) that add up, so that
 * the slides of a batch can be measured anywhere (one process, many MPI
 * ranks), summed, and the cuts chosen once.
 */
#ifndef HS_CALIB_H
#define HS_CALIB_H

#include <stddef.h>
#include <stdint.h>

#include "scoring/cellstore.h"
#include "scoring/her2.h"
#include "util/hs_error.h"

#define HS_CALIB_BINS 256   /* bins of 0.01 OD: 0 .. 2.56 */
#define HS_CALIB_BIN 0.01

typedef enum { HS_CALIB_FIXED = 0, HS_CALIB_COHORT = 1, HS_CALIB_CONTROLS = 2, HS_CALIB_AUTO = 3 } hs_calib_mode;

/*
 * Histograms of a set of tumour cells: every membrane sector's stain value,
 * and per cell the pair (a, b): a = the stain value that a `complete`
 * fraction of its sectors reach (the cell is complete for any cut <= a),
 * b = the median peak of those sectors (its intensity when complete).
 * Counts, so hists add.
 */
typedef struct hs_calib_hist {
    uint64_t cells;
    uint64_t sector[HS_CALIB_BINS];
    uint64_t pair[HS_CALIB_BINS][HS_CALIB_BINS]; /* [a bin][b bin] (64-bit: sums over a whole cohort) */
} hs_calib_hist;

/* Zeroes h. */
void hs_calib_hist_clear(hs_calib_hist *h);

/* Adds one cell's sector values (as hs_cell); complete is the completeness a complete membrane needs (0.8). */
void hs_calib_hist_add_cell(hs_calib_hist *h, const float *stain, const float *peak, int n, double complete);

/*
 * Adds every cell of a store (only those inside the rectangle [x0,x1) x
 * [y0,y1) um when rect is not NULL), its sectors unmixed with `leak`
 * (hs_cell_unmix).
 */
int hs_calib_hist_add_store(hs_calib_hist *h, const hs_cellstore *s, double complete, const double *rect, double leak,
                            hs_error *err) HS_RESULT_USED;

/* h += a. */
void hs_calib_hist_sum(hs_calib_hist *h, const hs_calib_hist *a);

/*
 * The leak of membranes across cell borders (hs_cell_unmix), measured on a
 * batch's own borders: for every sector that faces a neighbouring cell, the
 * ratio of the weaker side's peak to the stronger side's.  Where both cells
 * have the same staining the ratio is near 1; where a stained membrane meets
 * an unstained cell it is the leak itself.  Histogram [max of the two peaks,
 * 0.02 OD bins][ratio, 0.02 bins]; counts, so hists add.
 */
#define HS_LEAK_MAXBINS 128
#define HS_LEAK_RBINS 50
typedef struct hs_leak_hist {
    uint64_t n[HS_LEAK_MAXBINS][HS_LEAK_RBINS];
} hs_leak_hist;

/* Adds the facing sectors of one cell (peak and opeak as hs_cell; opeak < 0: not facing a cell). */
void hs_leak_hist_add_cell(hs_leak_hist *h, const float *peak, const float *opeak, int n);
int hs_leak_hist_add_store(hs_leak_hist *h, const hs_cellstore *s, hs_error *err) HS_RESULT_USED;
void hs_leak_hist_sum(hs_leak_hist *h, const hs_leak_hist *a);

/*
 * The leak: among the facing sectors whose stronger side is in the upper
 * quarter of all (clearly stained membranes), the lowest local maximum of
 * the ratio (0.02 bins smoothed over one bin) below 0.75 that holds at least
 * 50 sectors and dips by at least 5% before the next maximum above it:
 * the borders between a stained and an unstained cell, however few beside
 * the borders of alike cells (near 1).  0 when the batch has no such borders
 * (every border alike: nothing to unmix).  note (may be NULL) says what was
 * found.
 */
double hs_leak_estimate(const hs_leak_hist *h, char *note, size_t note_size);

/* The cuts chosen for a batch and how. */
typedef struct hs_calib_cuts {
    double od[3];          /* od_1, od_2, od_3 */
    hs_calib_mode method;  /* FIXED, COHORT or CONTROLS (never AUTO) */
    int found;             /* cohort: bit k set when cut k came from the data (else it is the fixed value) */
    char note[160];        /* what was found, for the user */
} hs_calib_cuts;

/*
 * Cohort calibration from a batch's histogram; fixed[3] are the cuts used
 * where no valley is found.
 */
void hs_calib_cohort(const hs_calib_hist *h, const double fixed[3], double complete, hs_calib_cuts *out);

/*
 * Control calibration from the histograms of the four known areas (k[0] for
 * class 0 ... k[3] for 3+).  HS_EDATA, with the reason, when an area has too
 * few cells (< 20) or the classes do not come out in increasing order.
 */
int hs_calib_controls(const hs_calib_hist *const k[4], double complete, hs_calib_cuts *out,
                      hs_error *err) HS_RESULT_USED;

/* Fixed cuts. */
void hs_calib_fixed(const double fixed[3], hs_calib_cuts *out);

/* "fixed", "cohort", "controls", "auto"; parse returns -1 on an unknown name. */
const char *hs_calib_mode_name(hs_calib_mode m);
int hs_calib_mode_parse(const char *s, hs_calib_mode *out);

#endif /* HS_CALIB_H */
