/*
 * run: the cohort run, `hetsurv run`, from a manifest to survival evidence
 * on the ranks of MPI_COMM_WORLD.
 *
 * Rank 0 reads and validates the manifest (a manifest with errors stops the
 * run, with its validation report) and the control table, prepares the
 * checkpoint (mpi/checkpoint.h) and sends the cohort to every rank; the
 * ranks measure the slides from a dynamic queue, calibrate each staining
 * batch on summed histograms, classify (mpi/cohort.h) and write results.h5
 * together (mpi/h5out.h); rank 0 writes slides.csv and calibration.csv and
 * analyses DFS and OS (stats/survival.h) into DIR/dfs and DIR/os, and adds
 * them to results.h5, and writes DIR/report.html (report/report.h).  Every output is written under a temporary name and
 * renamed when complete.
 *
 * hs_run initialises and finalises MPI itself, so only this command pays
 * for MPI; it prints on rank 0 only (messages and errors to `log`, progress
 * unless quiet) and returns the command's exit status.
 */
#ifndef HS_RUN_H
#define HS_RUN_H

#include <stddef.h>
#include <stdio.h>

#include "scoring/calib.h"
#include "scoring/her2.h"
#include "scoring/score.h"
#include "stats/survival.h"

/* Exit statuses of a run. */
enum {
    HS_RUN_OK = 0,          /* done: both endpoints analysed (slides that failed are recorded, excluded, counted) */
    HS_RUN_ERROR = 1,       /* the run could not be done (bad manifest, I/O error, ...) */
    HS_RUN_INCOMPLETE = 3   /* stopped by a signal: rerun with --resume to finish */
};

/* Which slide maps a run writes into DIR/maps: every slide's tile table (<id>.tiles.csv) and the figures (<id>.png,
 * .pdf, .svg in the run's formats) of the report's gallery only (the first HS_RUN_GALLERY slides scored, in
 * manifest order), of every slide, or nothing. */
enum { HS_RUN_MAPS_GALLERY = 0, HS_RUN_MAPS_ALL = 1, HS_RUN_MAPS_NONE = 2 };
#define HS_RUN_GALLERY 24

typedef struct hs_run_config {
    const char *manifest;
    const char *out;                 /* output folder DIR */
    const char *const *factors;      /* manifest covariates that are categorical though numeric */
    size_t nfactor;
    /* scoring */
    hs_score_params score;           /* score.threads <= 0: the CPUs of this rank's share of its node */
    hs_her2_params her2;
    double tile_um;
    hs_calib_mode calibration;
    const char *controls;            /* control table, or NULL */
    const char *completeness_col;    /* QuPath exports' completeness column, or NULL */
    const char *params_text;         /* every scoring parameter, "key value" per line (hs_score_opts_describe) */
    /* analysis */
    const char *metric;              /* the heterogeneity measure: "heterogeneous" or a score column */
    const char *by;                  /* group by this column instead (her2_class), or NULL */
    hs_cut_kind cut;                 /* cut the metric into low/high */
    double cut_value;
    const char *const *adjust;       /* Cox covariates from the manifest */
    size_t nadjust;
    /* the run */
    int resume, restart;
    int shard_k, shard_n;            /* shard_n > 0: measure only shard k of n into the checkpoint, nothing else */
    int merge;                       /* the merge of shards: a resume that first checks no shard still runs */
    int quiet;                       /* no progress lines */
    unsigned figures;                /* formats (figures/canvas.h HS_FIG_*) of DIR/dfs|os/km.* and forest.*; 0: none */
    const char *time_unit;           /* the figures' time unit (NULL: months) */
    int no_report;                   /* no DIR/report.html */
    int maps;                        /* slide maps in DIR/maps: HS_RUN_MAPS_* */
    const char *command_line;
    const char *name;                /* the command, in messages ("run", "merge") */
    FILE *log;                       /* rank 0's messages (stderr) */
} hs_run_config;

/* Runs the cohort; collective over MPI_COMM_WORLD (initialised and finalised here).  Returns an HS_RUN_ status. */
int hs_run(const hs_run_config *cfg);

#endif /* HS_RUN_H */
