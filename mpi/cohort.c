/*
 * cohort: a cohort's slides measured, calibrated and classified across ranks (see cohort.h).
 */
#include "cohort.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "figures/slidemap.h"
#include "mpi/checkpoint.h"
#include "mpi/h5out.h"
#include "scoring/tilecsv.h"
#include "util/hs_atomic.h"

/* ---- building and sending ----------------------------------------------------------------------------------- */

int hs_cohort_batch(hs_cohort *c, const char *name)
{
    for (size_t b = 0; b < c->nbatch; b++)
        if (!strcmp(c->batch[b], name))
            return (int)b;
    char **t = realloc(c->batch, (c->nbatch + 1) * sizeof *t);
    if (!t)
        return -1;
    c->batch = t;
    if (!(t[c->nbatch] = strdup(name)))
        return -1;
    return (int)c->nbatch++;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int hs_cohort_add_item(hs_cohort *c, const char *path, const char *patient, const char *slide, int batch, int ish,
                       hs_error *err)
{
    hs_cohort_item *t = realloc(c->item, (c->n + 1) * sizeof *t);
    if (!t)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    c->item = t;
    hs_cohort_item *it = &t[c->n];
    memset(it, 0, sizeof *it);
    it->path = strdup(path);
    it->patient = dup_or_null(patient);
    it->slide = dup_or_null(slide);
    if (!it->path || (patient && !it->patient) || (slide && !it->slide)) {
        free(it->path);
        free(it->patient);
        free(it->slide);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    it->batch = batch;
    it->ish = ish;
    struct stat st;
    it->bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    c->n++;
    if (patient)
        c->npatient = c->n;
    return HS_OK;
}

int hs_cohort_add_area(hs_cohort *c, size_t item, int batch, int cls, const double rect[4], hs_error *err)
{
    hs_cohort_area *t = realloc(c->area, (c->narea + 1) * sizeof *t);
    if (!t)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    c->area = t;
    hs_cohort_area *a = &t[c->narea++];
    a->item = item;
    a->batch = batch;
    a->cls = cls;
    memcpy(a->rect, rect, sizeof a->rect);
    return HS_OK;
}

void hs_cohort_free(hs_cohort *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->item[i].path);
        free(c->item[i].patient);
        free(c->item[i].slide);
    }
    for (size_t b = 0; b < c->nbatch; b++)
        free(c->batch[b]);
    free(c->item);
    free(c->batch);
    free(c->area);
    memset(c, 0, sizeof *c);
}

/* A growing byte buffer for the broadcast. */
typedef struct buf {
    char *p;
    size_t n, cap, at;
    int bad;
} buf;

static void put(buf *b, const void *v, size_t n)
{
    if (b->bad)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        char *t = realloc(b->p, cap);
        if (!t) {
            b->bad = 1;
            return;
        }
        b->p = t;
        b->cap = cap;
    }
    memcpy(b->p + b->n, v, n);
    b->n += n;
}

static void put_str(buf *b, const char *s)
{
    long long len = s ? (long long)strlen(s) : -1;
    put(b, &len, sizeof len);
    if (s)
        put(b, s, (size_t)len);
}

static void get(buf *b, void *v, size_t n)
{
    if (b->bad || b->at + n > b->n) {
        b->bad = 1;
        memset(v, 0, n);
        return;
    }
    memcpy(v, b->p + b->at, n);
    b->at += n;
}

static char *get_str(buf *b)
{
    long long len;
    get(b, &len, sizeof len);
    if (len < 0 || b->bad)
        return NULL;
    if (b->at + (size_t)len > b->n) {
        b->bad = 1;
        return NULL;
    }
    char *s = strndup(b->p + b->at, (size_t)len);
    b->at += (size_t)len;
    if (!s)
        b->bad = 1;
    return s;
}

static void pack(buf *b, const hs_cohort *c)
{
    unsigned long long k[4] = {c->n, c->npatient, c->nbatch, c->narea};
    put(b, k, sizeof k);
    for (size_t i = 0; i < c->n; i++) {
        const hs_cohort_item *t = &c->item[i];
        put_str(b, t->path);
        put_str(b, t->patient);
        put_str(b, t->slide);
        put(b, &t->batch, sizeof t->batch);
        put(b, &t->ish, sizeof t->ish);
        put(b, &t->bytes, sizeof t->bytes);
    }
    for (size_t i = 0; i < c->nbatch; i++)
        put_str(b, c->batch[i]);
    if (c->narea)
        put(b, c->area, c->narea * sizeof *c->area);
}

static int unpack(buf *b, hs_cohort *c)
{
    unsigned long long k[4];
    get(b, k, sizeof k);
    if (b->bad)
        return -1;
    c->item = calloc(k[0] ? k[0] : 1, sizeof *c->item);
    c->batch = calloc(k[2] ? k[2] : 1, sizeof *c->batch);
    c->area = calloc(k[3] ? k[3] : 1, sizeof *c->area);
    if (!c->item || !c->batch || !c->area)
        return -1;
    for (size_t i = 0; i < k[0] && !b->bad; i++, c->n++) {
        hs_cohort_item *t = &c->item[i];
        t->path = get_str(b);
        t->patient = get_str(b);
        t->slide = get_str(b);
        get(b, &t->batch, sizeof t->batch);
        get(b, &t->ish, sizeof t->ish);
        get(b, &t->bytes, sizeof t->bytes);
    }
    c->npatient = k[1];
    for (size_t i = 0; i < k[2] && !b->bad; i++, c->nbatch++)
        c->batch[i] = get_str(b);
    get(b, c->area, k[3] * sizeof *c->area);
    c->narea = k[3];
    return b->bad ? -1 : 0;
}

int hs_cohort_agree(MPI_Comm comm, int rc, hs_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    struct {
        int v, rank;
    } in = {rc, rank}, out;
    MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, comm);
    if (out.v == HS_OK)
        return HS_OK;
    char msg[HS_ERROR_MSG_MAX];
    if (rank == out.rank)
        snprintf(msg, sizeof msg, "%s", err->msg);
    MPI_Bcast(msg, sizeof msg, MPI_CHAR, out.rank, comm);
    if (rank != out.rank)
        hs_error_set(err, out.v, "%s", msg);
    return out.v;
}

int hs_cohort_bcast(hs_cohort *c, MPI_Comm comm, hs_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    buf b = {0};
    if (rank == 0)
        pack(&b, c);
    unsigned long long n = b.bad ? 0 : b.n;
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
    if (n == 0) {
        free(b.p);
        return hs_error_set(err, HS_ENOMEM, "out of memory packing the cohort");
    }
    if (rank != 0 && !(b.p = malloc(n)))
        b.bad = 1;
    b.n = n;
    /* every rank takes part even when its buffer failed: the count must match on all ranks */
    char *dst = b.bad ? malloc(n) : b.p;
    if (dst)
        MPI_Bcast(dst, (int)n, MPI_BYTE, 0, comm);
    int rc = HS_OK;
    if (!dst || b.bad) {
        free(dst == b.p ? NULL : dst);
        rc = hs_error_set(err, HS_ENOMEM, "out of memory receiving the cohort");
    } else if (rank != 0 && unpack(&b, c) != 0) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory unpacking the cohort");
    }
    free(b.p);
    return hs_cohort_agree(comm, rc, err);
}

/* ---- phase 1: measure --------------------------------------------------------------------------------------- */

typedef struct measure_ctx {
    const hs_cohort_run *r;
    const hs_cohort *c;
    hs_measurer *job;
    hs_cohort_progress prog;
} measure_ctx;

static int m_start(void *ctx, size_t i, hs_error *err)
{
    measure_ctx *m = ctx;
    char cells[4096], meta[4096];
    int rc = hs_ckpt_item_paths(m->r->dir, i, cells, meta, sizeof cells, err);
    if (rc == HS_OK)
        rc = hs_measurer_submit(m->job, m->c->item[i].path, cells, meta, err);
    return rc;
}

static int m_poll(void *ctx, hs_error *err)
{
    return hs_measurer_poll(((measure_ctx *)ctx)->job, err);
}

static void m_abandon(void *ctx)
{
    hs_measurer_abandon(((measure_ctx *)ctx)->job);
}

static void m_done(void *ctx, size_t i, int rank)
{
    measure_ctx *m = ctx;
    char cells[4096], meta[4096];
    hs_error e;
    m->prog.done++;
    if (hs_ckpt_item_paths(m->r->dir, i, cells, meta, sizeof cells, &e) != HS_OK || hs_measured_verdict(meta) != 1)
        m->prog.failed++;
    if (m->r->progress)
        m->r->progress(m->r->progress_ctx, &m->prog);
    (void)rank;
}

static void m_tick(void *ctx)
{
    measure_ctx *m = ctx;
    if (m->r->progress)
        m->r->progress(m->r->progress_ctx, &m->prog);
}

/* Queue order: largest file first (missing files, -1, last), then manifest order. */
static const hs_cohort *sort_cohort;
static int by_size(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    long long x = sort_cohort->item[i].bytes, y = sort_cohort->item[j].bytes;
    if (x != y)
        return x > y ? -1 : 1;
    return i < j ? -1 : i > j;
}

int hs_cohort_shards(const hs_cohort *c, int n, int *shard, size_t *order, hs_error *err)
{
    size_t *o = order ? order : malloc((c->n ? c->n : 1) * sizeof *o);
    if (!o)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->n; i++)
        o[i] = i;
    sort_cohort = c;
    qsort(o, c->n, sizeof *o, by_size);
    for (size_t p = 0; shard && p < c->n; p++)
        shard[o[p]] = (int)(p % (size_t)(n > 0 ? n : 1));
    if (!order)
        free(o);
    return HS_OK;
}

int hs_cohort_measure(const hs_cohort_run *r, const hs_cohort *c, hs_dispatch_stats *stats, hs_error *err)
{
    int rank;
    MPI_Comm_rank(r->comm, &rank);
    measure_ctx m;
    memset(&m, 0, sizeof m);
    m.r = r;
    m.c = c;
    m.prog.started = MPI_Wtime();
    size_t *order = NULL, n = 0;
    int *shard = NULL, rc = HS_OK;
    if (rank == 0) {
        /* every item, largest first; those of this shard without a verdict are queued in that order */
        if (!(order = malloc((c->n ? c->n : 1) * sizeof *order)) || !(shard = calloc(c->n ? c->n : 1, sizeof *shard)))
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        if (rc == HS_OK)
            rc = hs_cohort_shards(c, r->shard_n, shard, order, err);
        for (size_t p = 0; rc == HS_OK && p < c->n; p++) {
            size_t i = order[p];
            char cells[4096], meta[4096];
            if (r->shard_n > 0 && shard[i] != r->shard_k)
                continue;
            m.prog.total++;
            if ((rc = hs_ckpt_item_paths(r->dir, i, cells, meta, sizeof cells, err)) != HS_OK)
                break;
            int v = hs_measured_verdict(meta);
            if (v < 0) {
                order[n++] = i; /* n <= p: the order is rewritten in place */
                continue;
            }
            m.prog.done++;
            m.prog.resumed++;
            m.prog.failed += v == 0;
        }
        if (rc == HS_OK && r->progress)
            r->progress(r->progress_ctx, &m.prog);
    }
    free(shard);
    if (rc == HS_OK)
        rc = hs_measurer_alloc(&m.job, r->score, &r->qupath, err);
    rc = hs_cohort_agree(r->comm, rc, err);
    if (rc == HS_OK) {
        static const hs_dispatch_ops ops = {m_start, m_poll, m_abandon, m_done, m_tick};
        rc = hs_dispatch_run(r->comm, order, n, &ops, &m, r->stop, r->tick, stats, err);
    }
    hs_measurer_free(m.job);
    free(order);
    return rc;
}

/* ---- phase 2: calibrate ------------------------------------------------------------------------------------- */

/* Sums a histogram of 64-bit counts over the ranks, in place. */
static void sum_counts(MPI_Comm comm, void *h, size_t bytes)
{
    MPI_Allreduce(MPI_IN_PLACE, h, (int)(bytes / sizeof(uint64_t)), MPI_UINT64_T, MPI_SUM, comm);
}

/* Round 1 on this rank's items: the borders of its patients' slides. */
static int add_leaks(const hs_cohort_run *r, const hs_cohort *c, hs_batchcal *bc, int rank, int size, hs_error *err)
{
    for (size_t i = (size_t)rank; i < c->npatient; i += (size_t)size) {
        hs_measured m;
        int rc = hs_ckpt_load_item(r->dir, i, &m, err);
        if (rc != HS_OK)
            return rc;
        hs_error e;
        if (m.ok && !m.qupath && hs_batchcal_add_leak(bc, c->item[i].batch, m.res.cells, &e) == HS_ENOMEM)
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        hs_measured_clear(&m);
        if (rc != HS_OK)
            return rc;
    }
    return HS_OK;
}

/* Round 2 on this rank's items: the cells of its patients' slides and the control areas of its control slides. */
static int add_cells(const hs_cohort_run *r, const hs_cohort *c, hs_batchcal *bc, int rank, int size,
                     unsigned long long *nslide, hs_error *err)
{
    for (size_t i = (size_t)rank; i < c->n; i += (size_t)size) {
        hs_measured m;
        int rc = hs_ckpt_load_item(r->dir, i, &m, err);
        if (rc != HS_OK)
            return rc;
        hs_error e;
        if (m.ok && !m.qupath && i < c->npatient) {
            int b = c->item[i].batch;
            int k = hs_batchcal_add_slide(bc, b, m.res.cells, r->her2->complete, &e);
            if (k == HS_ENOMEM)
                rc = hs_error_set(err, HS_ENOMEM, "out of memory");
            else if (k == HS_OK)
                nslide[b]++;
        } else if (m.ok && !m.qupath) {
            for (size_t a = 0; a < c->narea && rc == HS_OK; a++) {
                const hs_cohort_area *ar = &c->area[a];
                if (ar->item == i &&
                    hs_batchcal_add_control(bc, ar->batch, (hs_class)ar->cls, m.res.cells, ar->rect,
                                            r->her2->complete, &e) == HS_ENOMEM)
                    rc = hs_error_set(err, HS_ENOMEM, "out of memory");
            }
        }
        hs_measured_clear(&m);
        if (rc != HS_OK)
            return rc;
    }
    return HS_OK;
}

int hs_cohort_calibrate(const hs_cohort_run *r, const hs_cohort *c, hs_batchcal **out, hs_error *err)
{
    int rank, size;
    MPI_Comm_rank(r->comm, &rank);
    MPI_Comm_size(r->comm, &size);
    *out = NULL;
    hs_batchcal *bc = hs_batchcal_alloc();
    unsigned long long *nslide = calloc(c->nbatch ? c->nbatch : 1, sizeof *nslide);
    int rc = bc && nslide ? HS_OK : hs_error_set(err, HS_ENOMEM, "out of memory");
    /* the batches in the same order on every rank, every histogram allocated (the sums need them all) */
    for (size_t b = 0; rc == HS_OK && b < c->nbatch; b++) {
        int ok = hs_batchcal_index(bc, c->batch[b]) == (int)b && hs_batchcal_leak_hist(bc, (int)b);
        for (int w = -1; w < 4 && ok; w++)
            ok = hs_batchcal_hist(bc, (int)b, w) != NULL;
        if (!ok)
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    rc = hs_cohort_agree(r->comm, rc, err);
    if (rc == HS_OK && r->calibration != HS_CALIB_FIXED) {
        /* fixed cuts apply to the membranes as measured (QuPath-comparable): no unmixing of the borders */
        rc = hs_cohort_agree(r->comm, add_leaks(r, c, bc, rank, size, err), err);
        if (rc == HS_OK) {
            for (size_t b = 0; b < c->nbatch; b++)
                sum_counts(r->comm, hs_batchcal_leak_hist(bc, (int)b), sizeof(hs_leak_hist));
            hs_batchcal_choose_leak(bc);
        }
    }
    if (rc == HS_OK)
        rc = hs_cohort_agree(r->comm, add_cells(r, c, bc, rank, size, nslide, err), err);
    if (rc == HS_OK) {
        for (size_t b = 0; b < c->nbatch; b++)
            for (int w = -1; w < 4; w++)
                sum_counts(r->comm, hs_batchcal_hist(bc, (int)b, w), sizeof(hs_calib_hist));
        MPI_Allreduce(MPI_IN_PLACE, nslide, (int)c->nbatch, MPI_UNSIGNED_LONG_LONG, MPI_SUM, r->comm);
        for (size_t b = 0; b < c->nbatch; b++)
            hs_batchcal_set_slides(bc, (int)b, (size_t)nslide[b]);
        double fixed[3] = {r->her2->od_1, r->her2->od_2, r->her2->od_3};
        hs_batchcal_choose(bc, r->calibration, fixed, r->her2->complete);
    }
    free(nslide);
    if (rc != HS_OK) {
        hs_batchcal_free(bc);
        return rc;
    }
    *out = bc;
    return HS_OK;
}

/* ---- phase 3: classify -------------------------------------------------------------------------------------- */

int hs_cohort_map_path(const char *dir, size_t i, char *path, size_t size, hs_error *err)
{
    int n = snprintf(path, size, "%s/checkpoint/%zu.map", dir, i);
    if (n < 0 || (size_t)n >= size)
        return hs_error_set(err, HS_EINVAL, "%s: path too long", dir);
    return HS_OK;
}

/* Saves a classified tile map as uint32 counts [ny][nx][4] (under a temporary name, then renamed). */
static int save_map(const char *path, const hs_tilemap *map, hs_error *err)
{
    char *tmp;
    FILE *f = hs_atomic_open(path, "wb", &tmp, err);
    if (!f)
        return err->code;
    size_t n = map->nx * map->ny * HS_NCLASS;
    for (size_t k = 0; k < n; k++) {
        uint32_t v = map->count[k] > UINT32_MAX ? UINT32_MAX : (uint32_t)map->count[k];
        fwrite(&v, sizeof v, 1, f);
    }
    return hs_atomic_commit(f, tmp, path, err);
}

int hs_cohort_map_base(const char *dir, const char *patient, char *path, size_t size, hs_error *err)
{
    char name[1024];
    hs_h5_map_name(patient, name, sizeof name);
    int n = snprintf(path, size, "%s/maps/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return hs_error_set(err, HS_EINVAL, "%s/maps/%s: path too long", dir, name);
    return HS_OK;
}

/* DIR/maps/<id>.tiles.csv and, with r->map_figures, the slide-map figure of one classified patient (the slide
 * read for its thumbnail, which only a QuPath export lacks).  HS_ENOMEM or HS_EIO (named). */
static int draw_map(const hs_cohort_run *r, const hs_cohort_item *it, int qupath, const hs_tilemap *map,
                    const hs_her2_params *hp, const hs_slide_metrics *m, hs_error *err)
{
    char base[4096], path[4200];
    snprintf(path, sizeof path, "%s/maps", r->dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return hs_error_set(err, HS_EIO, "%s: cannot create: %s", path, strerror(errno));
    int rc = hs_cohort_map_base(r->dir, it->patient, base, sizeof base, err);
    if (rc != HS_OK)
        return rc;
    snprintf(path, sizeof path, "%s.tiles.csv", base);
    char *tmp;
    FILE *f = hs_atomic_open(path, "w", &tmp, err);
    if (!f)
        return err->code;
    hs_tilecsv_write(f, map, hp);
    if ((rc = hs_atomic_commit(f, tmp, path, err)) != HS_OK || !r->map_figures)
        return rc;
    hs_slidemap_data *d;
    if ((rc = hs_slidemap_from_tilemap(&d, map, hp, err)) != HS_OK)
        return rc;
    rc = hs_slidemap_write_slide(d, qupath ? NULL : it->path, r->score->mpp_override, it->patient, m, base,
                                 r->map_figures, err);
    hs_slidemap_data_free(d);
    return rc;
}

/* Classifies patient i into row (and its map file); HS_OK unless out of memory or a map cannot be written. */
static int classify_one(const hs_cohort_run *r, const hs_cohort *c, const hs_batchcal *bc, size_t i,
                        hs_score_row *row, unsigned long long *dim, hs_error *err)
{
    hs_score_row_init(row);
    dim[0] = dim[1] = 0;
    hs_measured m;
    int rc = hs_ckpt_load_item(r->dir, i, &m, err);
    if (rc != HS_OK)
        return rc;
    if (!m.ok) {
        hs_score_row_fail(row, m.error);
        hs_measured_clear(&m);
        return HS_OK;
    }
    const hs_cohort_item *it = &c->item[i];
    int qupath = m.qupath;
    hs_her2_params hp = *r->her2;
    hs_tilemap *map = NULL;
    hs_error e;
    int k;
    if (m.qupath) {
        hs_calib_cuts fixed;
        double od[3] = {hp.od_1, hp.od_2, hp.od_3};
        hs_calib_fixed(od, &fixed);
        if (m.from_class)
            snprintf(row->calibration, sizeof row->calibration, "qupath");
        else
            hs_score_row_cuts(row, &fixed);
        map = m.map;
        m.map = NULL;
        k = hs_metrics_compute(map, &hp, (hs_ish)it->ish, &row->m, &e);
    } else {
        const char *why = NULL;
        const hs_calib_cuts *cuts = hs_batchcal_cuts(bc, it->batch, &why);
        hs_score_row_measured(row, &m.res);
        row->leak = hs_batchcal_leak(bc, it->batch, NULL);
        if (!cuts) {
            hs_score_row_fail(row, why);
            hs_measured_clear(&m);
            return HS_OK;
        }
        hs_score_row_cuts(row, cuts);
        hp.od_1 = cuts->od[0];
        hp.od_2 = cuts->od[1];
        hp.od_3 = cuts->od[2];
        k = hs_score_classify(&m.res, &hp, row->leak, r->tile_um, (hs_ish)it->ish, NULL, NULL, &row->m, &map, &e);
    }
    hs_measured_clear(&m);
    if (k == HS_ENOMEM) {
        hs_tilemap_free(map);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    if (k == HS_OK && row->m.n_cells == 0)
        k = hs_error_set(&e, HS_EDATA, "%s: no tumour cells", it->path);
    if (k != HS_OK) {
        hs_score_row_fail(row, e.msg);
    } else {
        char path[4096];
        row->ok = 1;
        if ((rc = hs_cohort_map_path(r->dir, i, path, sizeof path, err)) == HS_OK &&
            (rc = save_map(path, map, err)) == HS_OK) {
            dim[0] = map->nx;
            dim[1] = map->ny;
        }
        if (rc == HS_OK && r->map_tables)
            rc = draw_map(r, it, qupath, map, &hp, &row->m, err);
    }
    hs_tilemap_free(map);
    return rc;
}

int hs_cohort_classify(const hs_cohort_run *r, const hs_cohort *c, const hs_batchcal *bc, hs_score_row *rows,
                       hs_score_row **own, size_t *nown, unsigned long long *dims, hs_error *err)
{
    int rank, size;
    MPI_Comm_rank(r->comm, &rank);
    MPI_Comm_size(r->comm, &size);
    size_t mine = c->npatient > (size_t)rank ? (c->npatient - (size_t)rank + (size_t)size - 1) / (size_t)size : 0;
    hs_score_row *local = calloc(mine ? mine : 1, sizeof *local);
    int rc = local ? HS_OK : hs_error_set(err, HS_ENOMEM, "out of memory");
    memset(dims, 0, 2 * c->npatient * sizeof *dims);
    for (size_t k = 0; rc == HS_OK && k < mine; k++) {
        size_t i = (size_t)rank + k * (size_t)size;
        rc = classify_one(r, c, bc, i, &local[k], dims + 2 * i, err);
    }
    rc = hs_cohort_agree(r->comm, rc, err);
    if (rc == HS_OK) {
        /* each patient's map size from its rank: zeros elsewhere, so a sum gathers them */
        MPI_Allreduce(MPI_IN_PLACE, dims, (int)(2 * c->npatient), MPI_UNSIGNED_LONG_LONG, MPI_SUM, r->comm);
        /* the rows to rank 0, rank by rank, one rank's at a time (rank 0 never holds more than the cohort) */
        if (rank == 0) {
            for (size_t k = 0; k < mine; k++)
                rows[k * (size_t)size] = local[k];
            for (int q = 1; q < size; q++) {
                size_t nq = c->npatient > (size_t)q ? (c->npatient - (size_t)q + (size_t)size - 1) / (size_t)size : 0;
                for (size_t k = 0; k < nq; k++)
                    MPI_Recv(&rows[(size_t)q + k * (size_t)size], sizeof *rows, MPI_BYTE, q, 7201, r->comm,
                             MPI_STATUS_IGNORE);
            }
        } else {
            for (size_t k = 0; k < mine; k++)
                MPI_Send(&local[k], sizeof *local, MPI_BYTE, 0, 7201, r->comm);
        }
    }
    if (rc == HS_OK && own) {
        *own = local;
        *nown = mine;
    } else {
        free(local);
    }
    return rc;
}
