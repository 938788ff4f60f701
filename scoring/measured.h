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
 * .tsv, .txt or .csv) is read the same way: its classes come with it, so it
 * saves its tile map instead of cells and takes no part in calibration.
 */
#ifndef HS_MEASURED_H
#define HS_MEASURED_H

#include <sys/types.h>

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

/* A measurement running in a child process. */
typedef struct hs_measure_job {
    pid_t pid;                /* 0: none */
    char *path, *cells_path, *meta_path;
} hs_measure_job;

/*
 * Starts measuring the slide at path in a child process that saves it as
 * cells_path and meta_path (see the file comment).  HS_EIO or HS_ENOMEM
 * when the child cannot be started.
 */
int hs_measure_start(hs_measure_job *job, const char *path, const hs_score_params *p, const hs_qupath_opts *q,
                     const char *cells_path, const char *meta_path, hs_error *err) HS_RESULT_USED;

/*
 * Whether the job has finished: 0 still running; 1 finished, its verdict
 * saved (a slide that failed, or whose child died of a signal, is saved as
 * failed with the reason); HS_EIO when the verdict could not be saved.
 * After 1 or an error the job is over.
 */
int hs_measure_poll(hs_measure_job *job, hs_error *err) HS_RESULT_USED;

/* Kills a running job and removes its partial files: nothing is saved. */
void hs_measure_abandon(hs_measure_job *job);

/* hs_measure_start, then waits for the verdict: HS_OK once it is saved. */
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
