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
#include <stdlib.h>
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
    int *out = calloc((size_t)size, sizeof *out); /* items handed to each rank and not yet reported */
    size_t own_item = 0;
    MPI_Request breq = MPI_REQUEST_NULL;
    long ns = SLEEP_MIN_NS;
    double last_tick = MPI_Wtime();
    hs_error e;
    if (!out)
        root_fail(s, HS_ENOMEM, "out of memory");
    for (;;) {
        int busy = 0, flag;
        MPI_Status st;
        while (active > 0 && (MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQ, comm, &flag, &st), flag)) {
            request r;
            int src = st.MPI_SOURCE;
            MPI_Recv(&r, sizeof r, MPI_BYTE, src, TAG_REQ, comm, MPI_STATUS_IGNORE);
            busy = 1;
            if (r.item >= 0) {
                stats->done++;
                if (out)
                    out[src]--;
                if (ops->done)
                    ops->done(ctx, (size_t)r.item, src);
            }
            if (r.code != REQ_OK && out)
                out[src] = 0; /* what it held is abandoned */
            if (r.code == REQ_STOPPED)
                root_stop(s);
            else if (r.code == REQ_FAILED)
                root_fail(s, r.rc, r.msg);
            long long w = !s->stopping && s->next < s->n ? (long long)s->order[s->next++] : -1;
            MPI_Send(&w, 1, MPI_LONG_LONG, src, TAG_WORK, comm);
            stats->requests++;
            if (w >= 0 && out)
                out[src]++;
            else if (!out || out[src] == 0)
                active--; /* it holds nothing and gets nothing more: it has left */
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
    free(out);
    return s->rc;
}

/*
 * A worker keeps one item in hand besides the one it runs: it asks for the
 * next as soon as it starts one, so the answer's latency hides behind the
 * work (the last items, the smallest, are the only ones a rank may hold
 * while another is idle).  Every request gets an answer; after an answer of
 * -1 a worker only reports what it still runs, and leaves when it holds
 * nothing.
 */
typedef struct worker {
    MPI_Comm comm;
    long long cur, next;     /* running item, item in hand (-1: none) */
    long long finished;      /* finished and not yet reported (-1: none) */
    int pending, ended;      /* a request awaits its answer; an answer was -1 */
    long long answer;
    MPI_Request rq;
    double wait_s;           /* time without an item to run while there was work */
    size_t nreq;
} worker;

static void send_request(worker *w, int code, int rc, const char *msg)
{
    request r = {w->finished, code, rc, ""};
    if (msg)
        snprintf(r.msg, sizeof r.msg, "%s", msg);
    w->finished = -1;
    MPI_Send(&r, sizeof r, MPI_BYTE, 0, TAG_REQ, w->comm);
    MPI_Irecv(&w->answer, 1, MPI_LONG_LONG, 0, TAG_WORK, w->comm, &w->rq);
    w->pending = 1;
    w->nreq++;
}

/* Takes the answer when it has come (wait: blocks until it has); 1 when it came. */
static int take_answer(worker *w, int wait)
{
    int flag = 0;
    if (!w->pending)
        return 0;
    if (wait) {
        long ns = SLEEP_MIN_NS;
        while (MPI_Test(&w->rq, &flag, MPI_STATUS_IGNORE), !flag)
            nap(&ns, 0);
    } else {
        MPI_Test(&w->rq, &flag, MPI_STATUS_IGNORE);
    }
    if (!flag)
        return 0;
    w->pending = 0;
    if (w->answer < 0)
        w->ended = 1;
    else
        w->next = w->answer;
    return 1;
}

/* Leaves after a stop or a failure: abandons what runs, drops what is in hand, says so and takes the answer. */
static void leave(worker *w, const hs_dispatch_ops *ops, void *ctx, int code, int rc, const char *msg)
{
    int held = w->cur >= 0;
    if (held)
        ops->abandon(ctx);
    w->cur = -1;
    take_answer(w, 1);
    /* rank 0 expects a word from a rank that holds an item (running, in hand or finished unreported) */
    if (!w->ended || held || w->finished >= 0) {
        w->next = -1;
        send_request(w, code, rc, msg);
        take_answer(w, 1);
    }
    w->next = -1;
}

static void run_worker(MPI_Comm comm, const hs_dispatch_ops *ops, void *ctx, volatile sig_atomic_t *stop,
                       double *wait_s, size_t *nreq)
{
    int word = 0, told = 0;
    MPI_Request breq;
    MPI_Ibcast(&word, 1, MPI_INT, 0, comm, &breq);
    worker w = {comm, -1, -1, -1, 0, 0, -1, MPI_REQUEST_NULL, 0, 0};
    hs_error e;
    long ns = SLEEP_MIN_NS;
    double idle_since = MPI_Wtime();
    send_request(&w, REQ_OK, HS_OK, NULL);
    for (;;) {
        int busy = take_answer(&w, 0);
        if (w.cur < 0 && w.next >= 0) {
            w.cur = w.next;
            w.next = -1;
            w.wait_s += MPI_Wtime() - idle_since;
            int rc = ops->start(ctx, (size_t)w.cur, &e);
            if (rc != HS_OK) {
                w.cur = -1;
                leave(&w, ops, ctx, REQ_FAILED, rc, e.msg);
                break;
            }
            busy = 1;
        }
        if (w.cur >= 0) {
            int p = ops->poll(ctx, &e);
            if (p < 0) {
                w.cur = -1;
                leave(&w, ops, ctx, REQ_FAILED, p, e.msg);
                break;
            }
            if (p == 1) {
                w.finished = w.cur;
                w.cur = -1;
                idle_since = MPI_Wtime();
                busy = 1;
            }
        }
        if (stop && *stop) {
            leave(&w, ops, ctx, REQ_STOPPED, HS_EINTR, NULL);
            break;
        }
        if (!told)
            MPI_Test(&breq, &told, MPI_STATUS_IGNORE);
        if (told && word == WORD_STOP) {
            leave(&w, ops, ctx, REQ_STOPPED, HS_EINTR, NULL);
            break;
        }
        /* ask for more while there may be more, and report what finished after the end */
        if (!w.pending && ((!w.ended && w.next < 0) || (w.ended && w.finished >= 0))) {
            send_request(&w, REQ_OK, HS_OK, NULL);
            busy = 1;
        }
        if (w.ended && !w.pending && w.cur < 0 && w.next < 0 && w.finished < 0)
            break;
        nap(&ns, busy);
    }
    if (!told)
        MPI_Wait(&breq, MPI_STATUS_IGNORE);
    *wait_s = w.wait_s;
    *nreq = w.nreq;
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
