/*
 * batchcal: the border leak and the membrane DAB cuts of every staining
 * batch of a cohort, in two rounds over the measured cells:
 *
 *  1. every scored slide's borders go into its batch's leak histogram
 *     (hs_batchcal_add_leak); hs_batchcal_choose_leak() sets each batch's
 *     leak (hs_leak_estimate): focus blur and JPEG settings are the batch's;
 *  2. the slides and control areas, unmixed with that leak, go into the
 *     batch's intensity histograms (hs_batchcal_add_slide/_control), and
 *     hs_batchcal_choose() picks each batch's cuts by the requested method:
 *
 *   fixed     the given cuts for every batch;
 *   cohort    from the batch's own slides (valleys between modes);
 *   controls  from the batch's control areas (a batch without usable
 *             controls gets no cuts, and its slides fail with the reason);
 *   auto      controls where the batch has usable ones, else cohort.
 *
 * The histograms are plain counts, so that measurements made on several
 * processes can be summed before choosing (hs_batchcal_hist).
 */
#ifndef HS_BATCHCAL_H
#define HS_BATCHCAL_H

#include <stddef.h>

#include "scoring/calib.h"
#include "scoring/cellstore.h"
#include "util/hs_error.h"

typedef struct hs_batchcal hs_batchcal;

hs_batchcal *hs_batchcal_alloc(void);
void hs_batchcal_free(hs_batchcal *b);

/* The index of batch `name`, added when new; -1 when out of memory. */
int hs_batchcal_index(hs_batchcal *b, const char *name);
size_t hs_batchcal_count(const hs_batchcal *b);
const char *hs_batchcal_name(const hs_batchcal *b, int i);
/* Slides added to batch i. */
size_t hs_batchcal_slides(const hs_batchcal *b, int i);
/* Sets that count (the sum over the processes that added the slides). */
void hs_batchcal_set_slides(hs_batchcal *b, int i, size_t n);

/* Round 1: adds a scored slide's borders to batch i's leak histogram. */
int hs_batchcal_add_leak(hs_batchcal *b, int i, const hs_cellstore *cells, hs_error *err) HS_RESULT_USED;

/* Sets every batch's leak from its histogram. */
void hs_batchcal_choose_leak(hs_batchcal *b);

/* The leak of batch i (0 before hs_batchcal_choose_leak), and what was found (may be NULL). */
double hs_batchcal_leak(const hs_batchcal *b, int i, const char **note);

/* The leak histogram of batch i (for sums across processes); NULL when out of memory. */
hs_leak_hist *hs_batchcal_leak_hist(hs_batchcal *b, int i);

/* Round 2: adds a scored slide's cells to batch i (complete: the completeness of a complete membrane). */
int hs_batchcal_add_slide(hs_batchcal *b, int i, const hs_cellstore *cells, double complete,
                          hs_error *err) HS_RESULT_USED;

/* Adds the cells of a control slide inside rect (x0, y0, x1, y1 um) as known class k of batch i. */
int hs_batchcal_add_control(hs_batchcal *b, int i, hs_class k, const hs_cellstore *cells, const double rect[4],
                            double complete, hs_error *err) HS_RESULT_USED;

/*
 * The histogram of batch i: which = -1 for its slides, 0..3 for its control
 * areas of that class (allocated on first use; NULL when out of memory).
 */
hs_calib_hist *hs_batchcal_hist(hs_batchcal *b, int i, int which);

/* Chooses the cuts of every batch (fixed: the cuts used where none are found or asked for). */
void hs_batchcal_choose(hs_batchcal *b, hs_calib_mode mode, const double fixed[3], double complete);

/* The cuts of batch i; NULL, with the reason in *why, when the batch could not be calibrated. */
const hs_calib_cuts *hs_batchcal_cuts(const hs_batchcal *b, int i, const char **why);

#endif /* HS_BATCHCAL_H */
