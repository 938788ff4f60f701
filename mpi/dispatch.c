/*
 * dispatch: a dynamic work queue over the ranks of a communicator (see dispatch.h).
 *
 * Messages: a worker sends a request (the item it finished, or -1, and
 * whether it stopped or failed) and waits for the answer (the next item, or
 * -1: no more).  Rank 0 tells every rank when the queue ends, normally or
 * not, with one non-blocking broadcast posted by every rank at the start
 * and completed by rank 0 when it stops (or at the end); workers poll it
 * while they work, so an abandoned run needs no message that could be left
 * unreceived.  The final status and message are broadcast at the end.
 */
#include "dispatch.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum { TAG_REQ = 7101, TAG_WORK = 7102 };
enum { REQ_OK = 0, REQ_STOPPED = 1, REQ_FAILED = 2 };
enum { WORD_STOP = 1, WORD_DONE = 2 };

#define SLEEP_MIN_NS 20000L     /* 20 us after activity */
#define SLEEP_MAX_NS 1000000L   /* 1 ms when idle: the longest an answer waits */

typedef struct request {
    long long item;   /* finished item, -1: none */
    int code;         /* REQ_* */
    int rc;           /* REQ_FAILED: the error code */
    char msg[HS_ERROR_MSG_MAX];
} request;

/* Sleeps *ns and doubles it up to the maximum (reset to the minimum after activity). */
static void nap(long *ns, int active)
{
    if (active) {
        *ns = SLEEP_MIN_NS;
        return;
    }
    struct timespec ts = {0, *ns};
    nanosleep(&ts, NULL);
    *ns = *ns * 2 > SLEEP_MAX_NS ? SLEEP_MAX_NS : *ns * 2;
}

/* The final status: rank 0's verdict and message to every rank. */
static int agree(MPI_Comm comm, int rank, int rc, hs_error *err)
{
    int v[1] = {rc};
    MPI_Bcast(v, 1, MPI_INT, 0, comm);
    if (v[0] != HS_OK) {
        char msg[HS_ERROR_MSG_MAX];
        if (rank == 0)
            snprintf(msg, sizeof msg, "%s", err->msg);
        MPI_Bcast(msg, sizeof msg, MPI_CHAR, 0, comm);
        if (rank != 0)
            hs_error_set(err, v[0], "%s", msg);
    }
    return v[0];
}

typedef struct root_state {
    const size_t *order;
    size_t n, next;
    int stopping;
    int rc;          /* HS_OK, HS_EINTR or the first failure */
    hs_error *err;
} root_state;

static void root_fail(root_state *s, int rc, const char *msg)
{
    s->stopping = 1;
    if (s->rc == HS_OK || s->rc == HS_EINTR) {
        s->rc = rc;
        hs_error_set(s->err, rc, "%s", msg);
    }
}

static void root_stop(root_state *s)
{
    if (!s->stopping && s->rc == HS_OK) {
        s->rc = HS_EINTR;
        hs_error_set(s->err, HS_EINTR, "stopped by a signal");
    }
    s->stopping = 1;
}

static int run_root(MPI_Comm comm, int size, root_state *s, const hs_dispatch_ops *ops, void *ctx,
                    volatile sig_atomic_t *stop, double tick, hs_dispatch_stats *stats)
{
    int active = size - 1, own = 0, posted = 0, word = 0;
    size_t own_item = 0;
    MPI_Request breq = MPI_REQUEST_NULL;
    long ns = SLEEP_MIN_NS;
    double last_tick = MPI_Wtime();
    hs_error e;
    for (;;) {
        int busy = 0, flag;
        MPI_Status st;
        while (active > 0 && (MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQ, comm, &flag, &st), flag)) {
            request r;
            MPI_Recv(&r, sizeof r, MPI_BYTE, st.MPI_SOURCE, TAG_REQ, comm, MPI_STATUS_IGNORE);
            busy = 1;
            if (r.item >= 0) {
                stats->done++;
                if (ops->done)
                    ops->done(ctx, (size_t)r.item, st.MPI_SOURCE);
            }
            if (r.code == REQ_STOPPED)
                root_stop(s);
            else if (r.code == REQ_FAILED)
                root_fail(s, r.rc, r.msg);
            long long w = !s->stopping && s->next < s->n ? (long long)s->order[s->next++] : -1;
            MPI_Send(&w, 1, MPI_LONG_LONG, st.MPI_SOURCE, TAG_WORK, comm);
            stats->requests++;
            active -= w < 0;
        }
        if (stop && *stop)
            root_stop(s);
        if (own && s->stopping) {
            ops->abandon(ctx);
            own = 0;
        } else if (own) {
            int p = ops->poll(ctx, &e);
            if (p != 0) {
                own = 0;
                busy = 1;
                if (p < 0) {
                    root_fail(s, p, e.msg);
                } else {
                    stats->done++;
                    if (ops->done)
                        ops->done(ctx, own_item, 0);
                }
            }
        }
        if (!own && !s->stopping && s->next < s->n) {
            own_item = s->order[s->next++];
            int rc = ops->start(ctx, own_item, &e);
            if (rc != HS_OK)
                root_fail(s, rc, e.msg);
            else
                own = 1;
            busy = 1;
        }
        if (s->stopping && !posted) {
            word = WORD_STOP;
            MPI_Ibcast(&word, 1, MPI_INT, 0, comm, &breq);
            posted = 1;
        }
        if (!own && active == 0 && (s->stopping || s->next >= s->n))
            break;
        if (ops->tick && MPI_Wtime() - last_tick >= tick) {
            ops->tick(ctx);
            last_tick = MPI_Wtime();
        }
        nap(&ns, busy);
    }
    if (!posted) {
        word = WORD_DONE;
        MPI_Ibcast(&word, 1, MPI_INT, 0, comm, &breq);
    }
    MPI_Wait(&breq, MPI_STATUS_IGNORE);
    return s->rc;
}

/* Waits for the answer to a request without spinning: the item, or -1. */
static long long await_work(MPI_Comm comm)
{
    long long w = -1;
    MPI_Request rq;
    MPI_Irecv(&w, 1, MPI_LONG_LONG, 0, TAG_WORK, comm, &rq);
    long ns = SLEEP_MIN_NS / 2;
    for (;;) {
        int flag;
        MPI_Test(&rq, &flag, MPI_STATUS_IGNORE);
        if (flag)
            return w;
        nap(&ns, 0);
    }
}

static void run_worker(MPI_Comm comm, const hs_dispatch_ops *ops, void *ctx, volatile sig_atomic_t *stop,
                       double *wait_s, size_t *nreq)
{
    int word = 0, told = 0;
    MPI_Request breq;
    MPI_Ibcast(&word, 1, MPI_INT, 0, comm, &breq);
    request r = {-1, REQ_OK, HS_OK, ""};
    hs_error e;
    for (;;) {
        double t0 = MPI_Wtime();
        MPI_Send(&r, sizeof r, MPI_BYTE, 0, TAG_REQ, comm);
        long long w = await_work(comm);
        *wait_s += MPI_Wtime() - t0;
        ++*nreq;
        if (w < 0)
            break;
        r.item = -1;
        r.code = REQ_OK;
        if (stop && *stop) {
            r.code = REQ_STOPPED;
            continue;
        }
        int rc = ops->start(ctx, (size_t)w, &e);
        if (rc != HS_OK) {
            r.code = REQ_FAILED;
            r.rc = rc;
            snprintf(r.msg, sizeof r.msg, "%s", e.msg);
            continue;
        }
        long ns = SLEEP_MIN_NS;
        for (;;) {
            int p = ops->poll(ctx, &e);
            if (p == 1) {
                r.item = w;
                break;
            }
            if (p < 0) {
                r.code = REQ_FAILED;
                r.rc = p;
                snprintf(r.msg, sizeof r.msg, "%s", e.msg);
                break;
            }
            if (stop && *stop) {
                ops->abandon(ctx);
                r.code = REQ_STOPPED;
                break;
            }
            if (!told)
                MPI_Test(&breq, &told, MPI_STATUS_IGNORE);
            if (told && word == WORD_STOP) {
                ops->abandon(ctx);
                break;
            }
            nap(&ns, 0);
        }
    }
    if (!told)
        MPI_Wait(&breq, MPI_STATUS_IGNORE);
}

int hs_dispatch_run(MPI_Comm comm, const size_t *order, size_t n, const hs_dispatch_ops *ops, void *ctx,
                    volatile sig_atomic_t *stop, double tick, hs_dispatch_stats *stats, hs_error *err)
{
    int rank, size, rc = HS_OK;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    hs_dispatch_stats local = {0, 0, 0};
    double wait_s = 0;
    size_t nreq = 0;
    if (rank == 0) {
        root_state s = {order, n, 0, 0, HS_OK, err};
        rc = run_root(comm, size, &s, ops, ctx, stop, tick, &local);
    } else {
        run_worker(comm, ops, ctx, stop, &wait_s, &nreq);
    }
    double wsum = 0;
    unsigned long long nr = nreq, nsum = 0;
    MPI_Reduce(&wait_s, &wsum, 1, MPI_DOUBLE, MPI_SUM, 0, comm);
    MPI_Reduce(&nr, &nsum, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, comm);
    if (rank == 0 && stats) {
        *stats = local;
        stats->wait_s = wsum;
        stats->requests = (size_t)nsum;
    }
    return agree(comm, rank, rc, err);
}
