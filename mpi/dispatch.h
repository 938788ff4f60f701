/*
 * dispatch: a dynamic work queue over the ranks of a communicator.
 *
 * Rank 0 holds the queue (an order of item indices, e.g. largest slide
 * first) and hands items out one at a time as ranks ask; it works on items
 * itself between answering, so no rank is set aside as a dispatcher and
 * `-np 1` is a plain loop.  An item runs asynchronously (start, then poll
 * until done: a child process measuring a slide), so that every rank keeps
 * listening while it works.
 *
 * Stopping: when `stop` becomes non-zero on any rank (SIGTERM), or an item
 * fails fatally on any rank, rank 0 stops handing out work and tells every
 * rank, through a non-blocking broadcast each rank polls, to abandon what it
 * is doing; every rank then returns the same status.  No message is left
 * unreceived and no rank leaves alone.
 *
 * Rank 0's memory is the queue and one state per rank; messages are a
 * request (what finished) and an answer (what next) per item.
 */
#ifndef HS_DISPATCH_H
#define HS_DISPATCH_H

#include <mpi.h>
#include <signal.h>
#include <stddef.h>

#include "util/hs_error.h"

typedef struct hs_dispatch_ops {
    /* Starts item i on this rank: HS_OK, or an error that stops the run. */
    int (*start)(void *ctx, size_t i, hs_error *err);
    /* The running item: 0 running, 1 finished, < 0 an error that stops the run. */
    int (*poll)(void *ctx, hs_error *err);
    /* Kills the running item; nothing of it is kept. */
    void (*abandon)(void *ctx);
    /* Rank 0 only (may be NULL): item i finished on `rank`. */
    void (*done)(void *ctx, size_t i, int rank);
    /* Rank 0 only (may be NULL): called about every `tick` seconds while work runs. */
    void (*tick)(void *ctx);
} hs_dispatch_ops;

/* What a run of the queue counted, on rank 0. */
typedef struct hs_dispatch_stats {
    size_t done;          /* items finished */
    size_t requests;      /* requests answered */
    double wait_s;        /* rank 0: seconds between a request's arrival and its answer, summed */
} hs_dispatch_stats;

/*
 * Runs the items order[0..n) (read on rank 0 only) over comm; collective.
 * Returns on every rank: HS_OK when every item finished, HS_EINTR when
 * stopped by `stop` (may be NULL), or the error of the rank that failed
 * (its message in err on that rank and on rank 0; the others get a short
 * one).  stats (may be NULL) is filled on rank 0.
 */
int hs_dispatch_run(MPI_Comm comm, const size_t *order, size_t n, const hs_dispatch_ops *ops, void *ctx,
                    volatile sig_atomic_t *stop, double tick, hs_dispatch_stats *stats, hs_error *err) HS_RESULT_USED;

#endif /* HS_DISPATCH_H */
