/*
 * measured: one slide's measurement saved to files, read back, and made in a
 * child process.
 *
 * A cohort run measures each slide once (hs_score_slide), keeps the result
 * on disk until the batch's intensity cuts are chosen, and must survive a
 * kill at any instant and a crash inside one slide.  So a slide is measured
 * in a forked child (a segfault, or a library's abort when an allocation
 * fails, becomes that slide's recorded error and the process goes on), and
 * the child saves it as two files: the cell records (the cell store's spill
 * file) and a small text file of everything else and the verdict, each
 * written under a temporary name and renamed when complete, the text file
 * last.  A slide is done exactly when its text file exists.
 *
 * A QuPath detection export given in place of an image (a path ending in
 * .tsv, .txt or .csv) is read the same way when QuPath options are given:
 * its classes come with it, so it saves its tile map instead of cells and
 * takes no part in calibration.  Without them (q NULL) every path is read as
 * an image.
 */
#ifndef HS_MEASURED_H
#define HS_MEASURED_H


#include "scoring/metrics.h"
#include "scoring/score.h"
#include "util/hs_error.h"

typedef struct hs_measured {
    int ok;                      /* 1: measured; 0: the slide failed, error says why */
    char error[HS_ERROR_MSG_MAX];
    int qupath;                  /* 1: a QuPath export (map, no cells) */
    hs_score_result res;         /* ok and not qupath: the measurement, cells attached to the cell file */
    hs_tilemap *map;             /* ok and qupath: the export's tiles */
    int from_class;              /* qupath: 1 when its classes are QuPath's own (no cuts applied) */
} hs_measured;

/* What a QuPath export needs: tile side, pixel size for px centroids (0: none), completeness column (NULL: default), rules. */
typedef struct hs_qupath_opts {
    double tile_um;
    double mpp;
    const char *completeness_col;
    const hs_her2_params *hp;
} hs_qupath_opts;

/* Whether path names a QuPath detection export rather than an image (.tsv, .txt or .csv, any case). */
int hs_measured_is_qupath(const char *path);

/*
 * A measuring process: a child forked once, which measures the slides it is
 * handed one at a time (so its memory is reused, as in one process) and
 * saves each (see hs_measure_save).  If it dies inside a slide, that slide
 * is saved as failed with the signal named and the next slide gets a fresh
 * process.  It dies with its parent.
 */
typedef struct hs_measurer hs_measurer;

/* A measurer for slides measured with p (QuPath exports with q; q may be NULL).  HS_ENOMEM. */
int hs_measurer_alloc(hs_measurer **out, const hs_score_params *p, const hs_qupath_opts *q,
                      hs_error *err) HS_RESULT_USED;

/* Ends the process (after its running slide, if any, is abandoned) and frees m; NULL is a no-op. */
void hs_measurer_free(hs_measurer *m);

/*
 * Hands it the slide at path, to be saved as cells_path and meta_path; the
 * process is started when there is none.  HS_EINVAL when a slide is already
 * running, HS_EIO or HS_ENOMEM when the process cannot be started.
 */
int hs_measurer_submit(hs_measurer *m, const char *path, const char *cells_path, const char *meta_path,
                       hs_error *err) HS_RESULT_USED;

/*
 * Whether the running slide has finished: 0 still running; 1 finished, its
 * verdict saved (a slide that failed, or in which the process died, is saved
 * as failed with the reason); HS_EIO when the verdict could not be saved.
 */
int hs_measurer_poll(hs_measurer *m, hs_error *err) HS_RESULT_USED;

/* Kills the process running a slide and removes the slide's partial files: nothing of it is saved. */
void hs_measurer_abandon(hs_measurer *m);

/* The measuring process's id (0 when none): for tests. */
long hs_measurer_pid(const hs_measurer *m);

/* Measures one slide in a measurer of its own and waits for the verdict: HS_OK once it is saved. */
int hs_measure_isolated(const char *path, const hs_score_params *p, const hs_qupath_opts *q, const char *cells_path,
                        const char *meta_path, hs_error *err) HS_RESULT_USED;

/*
 * Measures in this process (no child) and saves the same two files: what
 * the child of hs_measure_isolated runs.  Returns HS_OK once the verdict is
 * saved, whatever it is.
 */
int hs_measure_save(const char *path, const hs_score_params *p, const hs_qupath_opts *q, const char *cells_path,
                    const char *meta_path, hs_error *err) HS_RESULT_USED;

/*
 * Loads a saved slide: the verdict from meta_path and, for a measured slide,
 * its cells attached from cells_path (or its QuPath tile map).  HS_EIO or
 * HS_EDATA (a damaged file, named), HS_ENOMEM.  Clear m with
 * hs_measured_clear.
 */
int hs_measured_load(hs_measured *m, const char *cells_path, const char *meta_path, hs_error *err) HS_RESULT_USED;
void hs_measured_clear(hs_measured *m);

/* The verdict saved in meta_path without loading the rest: 1 measured, 0 failed, -1 missing or damaged. */
int hs_measured_verdict(const char *meta_path);

#endif /* HS_MEASURED_H */
