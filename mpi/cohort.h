/*
 * cohort: a cohort's slides measured, calibrated and classified across the
 * ranks of a communicator.
 *
 *  1. measure (hs_cohort_measure): rank 0 queues every item not yet in the
 *     checkpoint, largest file first, and the ranks take them from the queue
 *     (mpi/dispatch.h); each measurement runs in a child process and lands in
 *     DIR/checkpoint as it completes (scoring/measured.h, mpi/checkpoint.h);
 *  2. calibrate (hs_cohort_calibrate): every rank adds the items i = rank,
 *     rank + size, ... to its batches' histograms; the histograms are counts,
 *     summed over the ranks (exact, so the cuts do not depend on the rank
 *     count), and every rank chooses the same border leak and cuts;
 *  3. classify (hs_cohort_classify): every rank classifies its patients
 *     (the same partition), saves each tile map beside the checkpoint, and
 *     rank 0 gathers the score rows.
 *
 * Every call is collective and returns the same status on every rank.
 */
#ifndef HS_COHORT_H
#define HS_COHORT_H

#include <mpi.h>
#include <signal.h>
#include <stddef.h>

#include "mpi/dispatch.h"
#include "scoring/batchcal.h"
#include "scoring/measured.h"
#include "scoring/scorerow.h"
#include "util/hs_error.h"

/* One slide: a patient's (the manifest's rows, in order) or a control slide's. */
typedef struct hs_cohort_item {
    char *path;         /* the file scored: an image or a QuPath export */
    char *patient;      /* patient id; NULL for a control slide */
    char *slide;        /* the manifest's slide as written; NULL for a control slide */
    int batch;          /* index into batch[] */
    int ish;            /* hs_ish */
    long long bytes;    /* file size, -1 when missing: the queue's order */
} hs_cohort_item;

/* A control area: a rectangle of known class on a control item. */
typedef struct hs_cohort_area {
    size_t item;
    int batch;
    int cls;            /* hs_class */
    double rect[4];     /* x0, y0, x1, y1 um */
} hs_cohort_area;

typedef struct hs_cohort {
    size_t n, npatient;        /* items: the patients 0..npatient-1, then the control slides */
    hs_cohort_item *item;
    size_t nbatch;
    char **batch;              /* staining batch names ("" for none) */
    size_t narea;
    hs_cohort_area *area;
} hs_cohort;

/* Builders (rank 0): the index of batch `name`, added when new, or -1; an item (its file size read); an area. */
int hs_cohort_batch(hs_cohort *c, const char *name);
int hs_cohort_add_item(hs_cohort *c, const char *path, const char *patient, const char *slide, int batch, int ish,
                       hs_error *err) HS_RESULT_USED;
int hs_cohort_add_area(hs_cohort *c, size_t item, int batch, int cls, const double rect[4],
                       hs_error *err) HS_RESULT_USED;
void hs_cohort_free(hs_cohort *c);

/* Sends rank 0's cohort to every rank (others pass an empty one).  Collective. */
int hs_cohort_bcast(hs_cohort *c, MPI_Comm comm, hs_error *err) HS_RESULT_USED;

/* Progress of the measurement, on rank 0. */
typedef struct hs_cohort_progress {
    size_t total;       /* items */
    size_t done;        /* measured or failed, this run and before it (resume) */
    size_t failed;
    size_t resumed;     /* found done in the checkpoint */
    double started;     /* MPI_Wtime at the start */
} hs_cohort_progress;

/* What every phase needs. */
typedef struct hs_cohort_run {
    MPI_Comm comm;
    const char *dir;                /* output folder; the checkpoint is DIR/checkpoint */
    const hs_score_params *score;   /* measurement */
    hs_qupath_opts qupath;          /* QuPath exports */
    const hs_her2_params *her2;     /* the fixed cuts and the rules */
    double tile_um;
    hs_calib_mode calibration;
    volatile sig_atomic_t *stop;    /* SIGTERM's flag, or NULL */
    /* rank 0 (may be NULL): called as items finish and every `tick` seconds */
    void (*progress)(void *ctx, const hs_cohort_progress *p);
    void *progress_ctx;
    double tick;
    int shard_k, shard_n;           /* shard_n > 0: measure only shard k of n (hs_cohort_shard) */
    int map_tables;                 /* classify: write each patient's DIR/maps/<id>.tiles.csv */
    unsigned map_figures;           /* with map_tables: formats (figures/canvas.h) of each patient's slide-map
                                       figure DIR/maps/<id>.*; 0: none */
} hs_cohort_run;

/*
 * Which of n shards item i belongs to: the items sorted largest file first
 * (then by index) are dealt out in turn, so that every shard gets a like
 * share of the work whatever the order of the manifest.  order (c->n
 * entries, may be NULL) receives that sorted order.
 */
int hs_cohort_shards(const hs_cohort *c, int n, int *shard, size_t *order, hs_error *err) HS_RESULT_USED;

/*
 * Phase 1: measures every item without a verdict in the checkpoint (of its
 * shard, with shards).  HS_OK,
 * HS_EINTR (stopped: the checkpoint holds every finished item), or an error
 * that stopped the run.  stats (rank 0, may be NULL): the dispatcher's counts.
 */
int hs_cohort_measure(const hs_cohort_run *r, const hs_cohort *c, hs_dispatch_stats *stats,
                      hs_error *err) HS_RESULT_USED;

/* Phase 2: the batches' border leak and cuts, the same on every rank (*out: free with hs_batchcal_free). */
int hs_cohort_calibrate(const hs_cohort_run *r, const hs_cohort *c, hs_batchcal **out, hs_error *err) HS_RESULT_USED;

/*
 * Phase 3: classifies this rank's patients (i = rank, rank + size, ...)
 * with their batches' cuts and saves each tile map (hs_cohort_map_path), and
 * with r->map_figures its table and figure in DIR/maps (hs_cohort_map_base).
 * rows (rank 0: npatient rows, every one filled; other ranks: NULL) gets
 * the gathered score rows; own (every rank, may be NULL) gets this rank's
 * rows in order, *nown of them (free with free()).  dims (every rank:
 * 2 * npatient) gets every patient's map size nx, ny (0, 0 without one).
 */
int hs_cohort_classify(const hs_cohort_run *r, const hs_cohort *c, const hs_batchcal *bc, hs_score_row *rows,
                       hs_score_row **own, size_t *nown, unsigned long long *dims, hs_error *err) HS_RESULT_USED;

/* DIR/checkpoint/<i>.map: patient i's classified tile counts, uint32 [ny][nx][4]. */
int hs_cohort_map_path(const char *dir, size_t i, char *path, size_t size, hs_error *err) HS_RESULT_USED;

/* DIR/maps/<patient id> (escaped as results.h5 names its maps: hs_h5_map_name), the base of a patient's
 * slide-map files (.tiles.csv, .png, .pdf, .svg).  HS_EINVAL when it does not fit. */
int hs_cohort_map_base(const char *dir, const char *patient, char *path, size_t size, hs_error *err) HS_RESULT_USED;

/* Agrees on a status: the worst (lowest) rc of all ranks, with rank-0's or the failing rank's message. */
int hs_cohort_agree(MPI_Comm comm, int rc, hs_error *err) HS_RESULT_USED;

#endif /* HS_COHORT_H */
