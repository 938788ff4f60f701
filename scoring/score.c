/*
 * score: whole-slide scoring pipeline (see score.h).
 *
 * Regions are handed out to `threads` workers as they become free, and
 * their cells are appended to the store in region order by the calling
 * thread, so the result does not depend on the thread count or on which
 * worker finished first.  Each worker owns its buffers, its detector and, for slides read
 * from the file region by region, its own reader; slides decoded whole into
 * memory at open (plain TIFF, PNG) share one reader, whose reads only copy.
 */
#include "score.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/slide.h"
#include "scoring/stain.h"

#define STAIN_SAMPLES 400000 /* OD samples kept for the stain estimate */
#define STAIN_STRIDE 3       /* every third pixel of the sample regions */
#define RADIUS_BIN 0.05      /* um, for the median cell radius */
#define RADIUS_BINS 1280

void hs_score_params_default(hs_score_params *p)
{
    memset(p, 0, sizeof *p);
    p->target_mpp = 0.5;
    p->region_px = 1024;
    p->threads = 1;
    p->sample_regions = 6;
    p->estimate_background = 1;
    p->tissue_od = 0.15;
    p->estimate_stains = 1;
    hs_cell_params_default(&p->cells);
}

void hs_score_result_clear(hs_score_result *res)
{
    hs_cellstore_free(res->cells);
    memset(res, 0, sizeof *res);
}

/* ---- thumbnail: background and tissue ------------------------------------------------------------------------ */

/* A thumbnail-resolution tissue mask; NULL mask means "treat everything as tissue". */
typedef struct tissue {
    uint8_t *mask;
    int64_t w, h;
    double scale; /* thumbnail pixels per scoring-level pixel */
} tissue;

/*
 * Reads the smallest level at least 1/64 of the scoring level's size (or a
 * level >= 8x coarser) to estimate the background and the tissue mask.  When
 * the slide has no such level, the background is estimated on the first
 * sample region and every region is examined.
 */
static int thumbnail(hs_slide *s, int level, const hs_score_params *p, double bg[3], tissue *t, hs_error *err)
{
    const hs_slide_info *info = hs_slide_get_info(s);
    int64_t lw, lh;
    double lds;
    int rc = hs_slide_level(s, level, &lw, &lh, &lds);
    if (rc != HS_OK)
        return hs_error_set(err, rc, "slide has no level %d", level);
    int best = -1;
    int64_t tw = 0, th = 0;
    double tds = 0;
    for (int l = info->nlevel - 1; l > level; l--) {
        int64_t w, h;
        double ds;
        if ((rc = hs_slide_level(s, l, &w, &h, &ds)) != HS_OK)
            return hs_error_set(err, rc, "slide has no level %d", l);
        if (ds / lds >= 8 && w * h <= (int64_t)4096 * 4096) {
            best = l, tw = w, th = h, tds = ds;
            break;
        }
    }
    bg[0] = bg[1] = bg[2] = 255;
    memset(t, 0, sizeof *t);
    if (best < 0)
        return HS_OK;
    uint8_t *rgb = malloc((size_t)tw * (size_t)th * 3), *valid = malloc((size_t)tw * (size_t)th);
    if (!rgb || !valid) {
        free(rgb);
        free(valid);
        return hs_error_set(err, HS_ENOMEM, "out of memory reading the thumbnail");
    }
    if ((rc = hs_slide_read(s, best, 0, 0, (int)tw, (int)th, rgb, valid, err)) != HS_OK) {
        free(rgb);
        free(valid);
        return rc == HS_EFORMAT ? hs_slide_explain_damage(s, best, err) : rc;
    }
    if (p->estimate_background)
        hs_stain_background(rgb, valid, (size_t)(tw * th), bg);
    hs_stain st;
    double h[3], d[3];
    hs_stain_default_vectors(h, d);
    if ((rc = hs_stain_init(&st, h, d, NULL, bg, err)) != HS_OK) {
        free(rgb);
        free(valid);
        return rc;
    }
    for (int64_t i = 0; i < tw * th; i++) {
        const uint8_t *q = rgb + 3 * i;
        valid[i] = valid[i] && st.od[0][q[0]] + st.od[1][q[1]] + st.od[2][q[2]] > p->tissue_od;
    }
    free(rgb);
    t->mask = valid;
    t->w = tw;
    t->h = th;
    t->scale = lds / tds;
    return HS_OK;
}

/* Fraction of tissue in the thumbnail over the level rectangle [x0,x1) x [y0,y1), with a 1-pixel border. */
static double tissue_frac(const tissue *t, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    if (!t->mask)
        return 1;
    int64_t a = (int64_t)floor(x0 * t->scale) - 1, b = (int64_t)ceil(x1 * t->scale) + 1;
    int64_t c = (int64_t)floor(y0 * t->scale) - 1, d = (int64_t)ceil(y1 * t->scale) + 1;
    a = a < 0 ? 0 : a;
    c = c < 0 ? 0 : c;
    b = b > t->w ? t->w : b;
    d = d > t->h ? t->h : d;
    int64_t n = 0, in = 0;
    for (int64_t y = c; y < d; y++)
        for (int64_t x = a; x < b; x++) {
            n++;
            in += t->mask[y * t->w + x] != 0;
        }
    return n ? (double)in / (double)n : 0;
}

/* ---- workers ------------------------------------------------------------------------------------------------- */

typedef struct region {
    int64_t x0, y0, x1, y1; /* core, level pixels */
    double tissue;
    int sample;             /* index among the sample regions, whose pixels are kept; -1 */
} region;

typedef struct worker {
    hs_slide *slide; /* own reader, or the shared one */
    int own;
    uint8_t *rgb;
    float *hem, *dab;
    hs_cells *det;
    hs_cell *out;    /* the cells of the current region, positions in um from the slide origin */
    size_t nout, out_cap;
    double megapixels;
    int rc;
    hs_error err;
} worker;

typedef struct job {
    const char *path;
    const hs_score_params *p;
    int level;
    double mpp;
    int margin;
    int sample_margin;     /* the margin the sample regions were read with */
    const hs_stain *st;
    const hs_cell_scale *sc;
    const region *reg;
    uint8_t **sample_rgb;  /* sampling: the regions' pixels, kept */
    uint8_t **sample_valid;
    hs_scale_acc **sample_acc;
    int phase;             /* PHASE_* */
    size_t first;          /* first region of the round */
} job;

enum { PHASE_READ_SAMPLE, PHASE_SCALE_SAMPLE, PHASE_MEASURE };

/* Region i with its margin: origin and size. */
static void region_box(const job *j, size_t i, int64_t *rx, int64_t *ry, int *rw, int *rh)
{
    const region *r = &j->reg[i];
    *rx = r->x0 - j->margin;
    *ry = r->y0 - j->margin;
    *rw = (int)(r->x1 - r->x0) + 2 * j->margin;
    *rh = (int)(r->y1 - r->y0) + 2 * j->margin;
}

static int worker_region(worker *w, const job *j, size_t i)
{
    int64_t rx, ry;
    int rw, rh;
    region_box(j, i, &rx, &ry, &rw, &rh);
    size_t npx = (size_t)rw * (size_t)rh;
    int rc;
    w->nout = 0;
    if (j->phase == PHASE_READ_SAMPLE)
        return hs_slide_read(w->slide, j->level, rx, ry, rw, rh, j->sample_rgb[i], j->sample_valid[i], &w->err);
    const uint8_t *rgb = j->phase == PHASE_SCALE_SAMPLE ? j->sample_rgb[i] : w->rgb;
    int si = j->reg[i].sample;
    if (j->phase == PHASE_MEASURE && si >= 0 && j->sample_rgb && j->sample_rgb[si]) {
        /* a sample region: its pixels are at hand, with a wider margin */
        int d = j->sample_margin - j->margin, sw = rw + 2 * d;
        for (int y = 0; y < rh; y++)
            memcpy(w->rgb + (size_t)y * rw * 3, j->sample_rgb[si] + ((size_t)(y + d) * sw + d) * 3, (size_t)rw * 3);
    } else if (j->phase == PHASE_MEASURE &&
               (rc = hs_slide_read(w->slide, j->level, rx, ry, rw, rh, w->rgb, NULL, &w->err)) != HS_OK) {
        return rc;
    }
    hs_stain_apply(j->st, rgb, npx, w->hem, w->dab);
    int m = j->margin, cx1 = m + (int)(j->reg[i].x1 - j->reg[i].x0), cy1 = m + (int)(j->reg[i].y1 - j->reg[i].y0);
    if (j->phase == PHASE_SCALE_SAMPLE)
        return hs_cells_sample(w->det, w->hem, w->dab, rw, rh, j->mpp, m, m, cx1, cy1, &j->p->cells, j->sample_acc[i],
                               &w->err);
    w->megapixels += (double)npx / 1e6;
    const hs_cell *cell;
    size_t n;
    if ((rc = hs_cells_run(w->det, w->hem, w->dab, rw, rh, j->mpp, m, m, cx1, cy1, &j->p->cells, j->sc, &cell, &n,
                           &w->err)) != HS_OK)
        return rc;
    if (n > w->out_cap) {
        hs_cell *o = realloc(w->out, n * sizeof *o);
        if (!o)
            return hs_error_set(&w->err, HS_ENOMEM, "out of memory");
        w->out = o;
        w->out_cap = n;
    }
    for (size_t k = 0; k < n; k++) {
        w->out[k] = cell[k];
        w->out[k].x = (rx + cell[k].x) * j->mpp;
        w->out[k].y = (ry + cell[k].y) * j->mpp;
    }
    w->nout = n;
    return HS_OK;
}

/*
 * The regions of a phase, handed out to the workers one at a time as they
 * become free, their results consumed in region order by the calling
 * thread.  Results wait in a ring of slots, so at most nslot regions are
 * ahead of the consumer and memory stays bounded.
 */
typedef struct slot {
    hs_cell *cell;   /* the region's cells (positions in um) */
    size_t n, cap;
    int rc;
    hs_error err;
    int done;
} slot;

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    worker *wk;
    const job *j;
    size_t nitem, next, consumed;
    slot *slot;
    size_t nslot;
    int stop;        /* a failure, or the consumer is done: hand out nothing more */
} pool;

typedef struct pool_arg {
    pool *p;
    worker *w;
} pool_arg;

/* Moves a worker's region result into slot s. */
static int to_slot(slot *s, worker *w, int rc)
{
    s->rc = rc;
    if (rc != HS_OK) {
        s->err = w->err;
        return rc;
    }
    if (w->nout > s->cap) {
        hs_cell *c = realloc(s->cell, w->nout * sizeof *c);
        if (!c) {
            s->rc = hs_error_set(&s->err, HS_ENOMEM, "out of memory");
            return s->rc;
        }
        s->cell = c;
        s->cap = w->nout;
    }
    if (w->nout)
        memcpy(s->cell, w->out, w->nout * sizeof *s->cell);
    s->n = w->nout;
    return HS_OK;
}

static void *pool_thread(void *arg)
{
    pool_arg *a = arg;
    pool *p = a->p;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->next < p->nitem && p->next >= p->consumed + p->nslot)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop || p->next >= p->nitem) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        slot *s = &p->slot[i % p->nslot];
        to_slot(s, a->w, worker_region(a->w, p->j, i));
        pthread_mutex_lock(&p->mu);
        s->done = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Called with each region's cells, in region order. */
typedef int (*consume_fn)(void *ctx, const hs_cell *cell, size_t n, hs_error *err);

/*
 * Runs regions 0 .. nitem-1 of job j on the workers (on this thread when
 * there is one), passing each region's cells to consume (may be NULL) in
 * region order.  Returns the first failure in region order.
 */
static int run_regions(worker *wk, int nworker, job *j, size_t nitem, consume_fn consume, void *ctx, hs_error *err)
{
    if (nworker <= 1) {
        for (size_t i = 0; i < nitem; i++) {
            int rc = worker_region(&wk[0], j, i);
            if (rc != HS_OK) {
                if (err)
                    *err = wk[0].err;
                return rc;
            }
            if (consume && (rc = consume(ctx, wk[0].out, wk[0].nout, err)) != HS_OK)
                return rc;
        }
        return HS_OK;
    }
    pool p = {.wk = wk, .j = j, .nitem = nitem, .nslot = 2 * (size_t)nworker};
    pthread_t tid[64];
    pool_arg arg[64];
    int nstarted = 0, rc = HS_OK;
    p.slot = calloc(p.nslot, sizeof *p.slot);
    if (!p.slot)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (int k = 0; k < nworker; k++) {
        arg[k] = (pool_arg){&p, &wk[k]};
        if (pthread_create(&tid[nstarted], NULL, pool_thread, &arg[k]) == 0)
            nstarted++;
    }
    if (!nstarted) /* no thread could start: work here */
        rc = run_regions(wk, 1, j, nitem, consume, ctx, err);
    for (size_t i = 0; nstarted && i < nitem && rc == HS_OK; i++) {
        slot *s = &p.slot[i % p.nslot];
        pthread_mutex_lock(&p.mu);
        while (!s->done)
            pthread_cond_wait(&p.cv, &p.mu);
        pthread_mutex_unlock(&p.mu);
        if ((rc = s->rc) != HS_OK) {
            if (err)
                *err = s->err;
        } else if (consume) {
            rc = consume(ctx, s->cell, s->n, err);
        }
        pthread_mutex_lock(&p.mu);
        s->done = 0;
        p.consumed++;
        if (rc != HS_OK)
            p.stop = 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    for (int k = 0; k < nstarted; k++)
        pthread_join(tid[k], NULL);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    for (size_t k = 0; k < p.nslot; k++)
        free(p.slot[k].cell);
    free(p.slot);
    return rc;
}

static void workers_free(worker *wk, int n)
{
    for (int k = 0; wk && k < n; k++) {
        if (wk[k].own)
            hs_slide_close(wk[k].slide);
        free(wk[k].rgb);
        free(wk[k].hem);
        free(wk[k].dab);
        hs_cells_free(wk[k].det);
        free(wk[k].out);
    }
    free(wk);
}

/* n workers with buffers for side x side regions; readers of their own unless the slide is held in memory. */
static int workers_alloc(worker **out, int n, const char *path, hs_slide *main, double mpp_override, int side,
                         hs_error *err)
{
    worker *wk = calloc((size_t)n, sizeof *wk);
    if (!wk)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    const char *backend = hs_slide_get_info(main)->backend;
    int in_memory = !strcmp(backend, "tiff") || !strcmp(backend, "png");
    size_t npx = (size_t)side * (size_t)side;
    for (int k = 0; k < n; k++) {
        worker *w = &wk[k];
        w->slide = main;
        if (k > 0 && !in_memory) {
            int rc = hs_slide_open(&w->slide, path, mpp_override, err);
            if (rc != HS_OK) {
                w->slide = NULL;
                workers_free(wk, n);
                return rc;
            }
            w->own = 1;
        }
        w->rgb = malloc(npx * 3);
        w->hem = malloc(npx * sizeof *w->hem);
        w->dab = malloc(npx * sizeof *w->dab);
        w->det = hs_cells_alloc(side, side);
        if (!w->rgb || !w->hem || !w->dab || !w->det) {
            workers_free(wk, n);
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory for %d regions of %dx%d pixels", path, n, side, side);
        }
    }
    *out = wk;
    return HS_OK;
}

static int cmp_region_tissue(const void *a, const void *b)
{
    const region *p = *(const region *const *)a, *q = *(const region *const *)b;
    if (p->tissue != q->tissue)
        return p->tissue > q->tissue ? -1 : 1;
    return p < q ? -1 : p > q;
}

/* ---- measuring ----------------------------------------------------------------------------------------------- */

/* The main pass's consumer: cells into the store, radii into a histogram for the median. */
typedef struct store_ctx {
    hs_cellstore *cells;
    unsigned long rhist[RADIUS_BINS];
} store_ctx;

static int store_cells(void *ctx, const hs_cell *cell, size_t n, hs_error *err)
{
    store_ctx *s = ctx;
    for (size_t c = 0; c < n; c++) {
        int rc = hs_cellstore_add(s->cells, cell[c].x, cell[c].y, &cell[c], err);
        if (rc != HS_OK)
            return rc;
        double b = floor(cell[c].radius_um / RADIUS_BIN);
        s->rhist[b < 0 ? 0 : b >= RADIUS_BINS ? RADIUS_BINS - 1 : (size_t)b]++;
    }
    return HS_OK;
}

typedef struct slide_state {
    hs_slide *s;
    tissue t;
    region *reg;
    size_t nreg;
    worker *wk;
    int nworker;
    region *sample;          /* the sample regions, in the order they are read */
    size_t nsample;
    uint8_t **srgb, **svalid;
    hs_scale_acc **sacc;
    hs_stain_acc *stacc;
} slide_state;

static void state_free(slide_state *z)
{
    free(z->t.mask);
    free(z->reg);
    for (size_t i = 0; i < z->nsample; i++) {
        if (z->srgb)
            free(z->srgb[i]);
        if (z->svalid)
            free(z->svalid[i]);
        if (z->sacc)
            hs_scale_acc_free(z->sacc[i]);
    }
    free(z->sample);
    free(z->srgb);
    free(z->svalid);
    free(z->sacc);
    hs_stain_acc_free(z->stacc);
    workers_free(z->wk, z->nworker);
    hs_slide_close(z->s);
}

/* Reads the sample regions; sets the background (no thumbnail), the stain vectors (res) and the scale. */
static int sample_slide(slide_state *z, job *j, const hs_score_params *p, hs_score_result *res, hs_error *err)
{
    int rc;
    size_t side = (size_t)(p->region_px + 2 * j->margin), npx = side * side;
    region **order = malloc((z->nreg ? z->nreg : 1) * sizeof *order);
    if (!order)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t i = 0; i < z->nreg; i++)
        order[i] = &z->reg[i];
    qsort(order, z->nreg, sizeof *order, cmp_region_tissue);
    z->nsample = z->nreg < (size_t)p->sample_regions ? z->nreg : (size_t)p->sample_regions;
    z->sample = malloc((z->nsample ? z->nsample : 1) * sizeof *z->sample);
    z->srgb = calloc(z->nsample ? z->nsample : 1, sizeof *z->srgb);
    z->svalid = calloc(z->nsample ? z->nsample : 1, sizeof *z->svalid);
    z->sacc = calloc(z->nsample ? z->nsample : 1, sizeof *z->sacc);
    if (!z->sample || !z->srgb || !z->svalid || !z->sacc) {
        free(order);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < z->nsample; i++) {
        order[i]->sample = (int)i;
        z->sample[i] = *order[i];
        z->srgb[i] = malloc(npx * 3);
        z->svalid[i] = malloc(npx);
        z->sacc[i] = hs_scale_acc_alloc();
        if (!z->srgb[i] || !z->svalid[i] || !z->sacc[i]) {
            free(order);
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        }
    }
    free(order);
    j->reg = z->sample;
    j->sample_rgb = z->srgb;
    j->sample_valid = z->svalid;
    j->sample_acc = z->sacc;
    j->phase = PHASE_READ_SAMPLE;
    if ((rc = run_regions(z->wk, z->nworker, j, z->nsample, NULL, NULL, err)) != HS_OK)
        return rc;
    if (p->estimate_background && !z->t.mask && z->nsample) { /* no thumbnail: glass from the first sample */
        int64_t rx, ry;
        int rw, rh;
        region_box(j, 0, &rx, &ry, &rw, &rh);
        hs_stain_background(z->srgb[0], z->svalid[0], (size_t)rw * (size_t)rh, res->background);
    }
    double h[3], d[3];
    hs_stain_default_vectors(h, d);
    hs_stain def;
    if ((rc = hs_stain_init(&def, h, d, NULL, res->background, err)) != HS_OK)
        return rc;
    res->stain_source = HS_STAIN_DEFAULT;
    if (p->has_stains) {
        memcpy(h, p->stain_h, sizeof h);
        memcpy(d, p->stain_dab, sizeof d);
        res->stain_source = HS_STAIN_GIVEN;
    } else if (p->estimate_stains) {
        if (!(z->stacc = hs_stain_acc_alloc(STAIN_SAMPLES, STAIN_STRIDE)))
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        for (size_t i = 0; i < z->nsample; i++) {
            int64_t rx, ry;
            int rw, rh;
            region_box(j, i, &rx, &ry, &rw, &rh); /* a region at the slide's edge fills only rw x rh */
            hs_stain_acc_add(z->stacc, &def, z->srgb[i], z->svalid[i], rw, rh);
        }
        hs_stain_fit fit;
        hs_error why;
        if (hs_stain_acc_estimate(z->stacc, &fit, &why) == HS_OK) {
            memcpy(h, fit.h, sizeof h);
            memcpy(d, fit.dab, sizeof d);
            res->stain_source = fit.dab_estimated ? HS_STAIN_ESTIMATED : HS_STAIN_ESTIMATED_H;
        } else {
            snprintf(res->stain_note, sizeof res->stain_note, "default stain vectors: %.170s", why.msg);
        }
    }
    hs_stain *st = malloc(sizeof *st);
    if (!st)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    if ((rc = hs_stain_init(st, h, d, p->has_stains && p->has_third ? p->stain_third : NULL, res->background, err)) !=
        HS_OK) {
        free(st);
        return rc;
    }
    for (int c = 0; c < 3; c++) {
        res->stain_h[c] = st->vec[0][c];
        res->stain_dab[c] = st->vec[1][c];
    }
    hs_stain_default_vectors(h, d);
    res->stain_h_angle = hs_stain_angle_deg(res->stain_h, h);
    res->stain_dab_angle = hs_stain_angle_deg(res->stain_dab, d);
    j->st = st;
    j->phase = PHASE_SCALE_SAMPLE;
    if ((rc = run_regions(z->wk, z->nworker, j, z->nsample, NULL, NULL, err)) != HS_OK)
        return rc;
    hs_scale_acc *all = hs_scale_acc_alloc();
    if (!all)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t i = 0; i < z->nsample && rc == HS_OK; i++)
        rc = hs_scale_acc_merge(all, z->sacc[i], err);
    if (rc == HS_OK)
        hs_cells_scale_finish(all, &p->cells, &res->scale);
    hs_scale_acc_free(all);
    return rc;
}

int hs_score_slide(const char *path, const hs_score_params *p, FILE *spill, hs_score_result *res, hs_error *err)
{
    memset(res, 0, sizeof *res);
    slide_state z = {0};
    hs_stain *st = NULL;
    int rc = hs_slide_open(&z.s, path, p->mpp_override, err);
    if (rc != HS_OK)
        return rc;
    const hs_slide_info *info = hs_slide_get_info(z.s);
    if (!(info->mpp_x > 0)) {
        rc = hs_error_set(err, HS_EDATA, "%s: the slide does not record its pixel size: give it with --mpp", path);
        goto done;
    }
    int level = hs_slide_best_level(z.s, p->target_mpp);
    int64_t lw, lh;
    double lds;
    if ((rc = hs_slide_level(z.s, level, &lw, &lh, &lds)) != HS_OK) {
        hs_error_set(err, rc, "%s: slide has no level %d", path, level);
        goto done;
    }
    double mpp = info->mpp_x * lds;
    res->level = level;
    res->mpp = mpp;
    res->width_um = lw * mpp;
    res->height_um = lh * mpp;
    if ((rc = thumbnail(z.s, level, p, res->background, &z.t, err)) != HS_OK)
        goto done;
    int core = p->region_px;
    size_t nrx = (size_t)((lw + core - 1) / core), nry = (size_t)((lh + core - 1) / core);
    size_t nall = nrx * nry;
    z.reg = malloc((nall ? nall : 1) * sizeof *z.reg);
    if (!z.reg) {
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int64_t y0 = 0; y0 < lh; y0 += core)
        for (int64_t x0 = 0; x0 < lw; x0 += core) {
            int64_t x1 = x0 + core < lw ? x0 + core : lw, y1 = y0 + core < lh ? y0 + core : lh;
            double f = tissue_frac(&z.t, x0, y0, x1, y1);
            if (f > 0)
                z.reg[z.nreg++] = (region){x0, y0, x1, y1, f, -1};
        }
    int margin_max = hs_cells_margin_px(&p->cells, NULL, mpp), side = core + 2 * margin_max;
    z.nworker = p->threads < 1 ? 1 : p->threads > 64 ? 64 : p->threads;
    if ((rc = workers_alloc(&z.wk, z.nworker, path, z.s, p->mpp_override, side, err)) != HS_OK)
        goto done;
    job j = {path, p, level, mpp, margin_max, margin_max, NULL, NULL, NULL, NULL, NULL, NULL, PHASE_READ_SAMPLE, 0};
    if ((rc = sample_slide(&z, &j, p, res, err)) != HS_OK) {
        if (rc == HS_EFORMAT) /* corrupt tiles: how much is lost (the workers are idle now) */
            rc = hs_slide_explain_damage(z.s, level, err);
        goto done;
    }
    st = (hs_stain *)j.st;
    res->cells = hs_cellstore_alloc(p->cells.sectors < 1 ? 1 : p->cells.sectors > HS_CELL_MAX_SECTORS
                                                                     ? HS_CELL_MAX_SECTORS
                                                                     : p->cells.sectors,
                                    spill);
    if (!res->cells) {
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    /* the main pass, with the margin the measured scale needs */
    j.margin = hs_cells_margin_px(&p->cells, &res->scale, mpp);
    if (j.margin > margin_max)
        j.margin = margin_max;
    j.sc = &res->scale;
    j.reg = z.reg;
    j.phase = PHASE_MEASURE;
    store_ctx sc = {res->cells, {0}};
    if ((rc = run_regions(z.wk, z.nworker, &j, z.nreg, store_cells, &sc, err)) != HS_OK) {
        if (rc == HS_EFORMAT)
            rc = hs_slide_explain_damage(z.s, level, err);
        goto done;
    }
    for (int k = 0; k < z.nworker; k++)
        res->megapixels += z.wk[k].megapixels;
    if ((rc = hs_cellstore_finish(res->cells, err)) != HS_OK)
        goto done;
    size_t ncell = hs_cellstore_count(res->cells);
    if (ncell == 0) {
        rc = hs_error_set(err, HS_EDATA, "%s: no tumour cells detected%s", path,
                          z.t.mask ? " (check the tissue, the stain vectors and --mpp)" : "");
        goto done;
    }
    unsigned long acc = 0;
    for (size_t b = 0; b < RADIUS_BINS; b++)
        if ((acc += sc.rhist[b]) * 2 >= ncell) {
            res->cell_radius_um = (b + 0.5) * RADIUS_BIN;
            break;
        }
done:
    free(st);
    state_free(&z);
    if (rc != HS_OK)
        hs_score_result_clear(res);
    return rc;
}

/* ---- classification ------------------------------------------------------------------------------------------ */

typedef struct classify_ctx {
    const hs_her2_params *hp;
    double leak;
    hs_tilemap *map;
    hs_score_cell_fn fn;
    void *ctx;
} classify_ctx;

static int classify_rec(void *ctx, const hs_cellrec *r)
{
    classify_ctx *c = ctx;
    double in, co;
    float st[HS_CELL_MAX_SECTORS], pk[HS_CELL_MAX_SECTORS];
    hs_cell_unmix(r->stain, r->peak, r->ostain, r->opeak, r->nsector, c->leak, st, pk);
    hs_class k = hs_cell_classify(st, pk, r->nsector, c->hp, &in, &co);
    hs_tilemap_add(c->map, r->x_um, r->y_um, k);
    if (c->fn)
        c->fn(c->ctx, r, in, co, k);
    return 0;
}

int hs_score_classify(const hs_score_result *res, const hs_her2_params *hp, double leak, double tile_um, hs_ish ish,
                      hs_score_cell_fn cell_fn, void *ctx, hs_slide_metrics *m, hs_tilemap **map, hs_error *err)
{
    if (map)
        *map = NULL;
    if (!(tile_um > 0))
        return hs_error_set(err, HS_EINVAL, "tile side must be > 0");
    hs_tilemap *tm = hs_tilemap_alloc((size_t)ceil(res->width_um / tile_um), (size_t)ceil(res->height_um / tile_um),
                                      tile_um);
    if (!tm)
        return hs_error_set(err, HS_ENOMEM, "out of memory for the tile map");
    classify_ctx c = {hp, leak, tm, cell_fn, ctx};
    int rc = res->cells ? hs_cellstore_read(res->cells, classify_rec, &c, err) : HS_OK;
    if (rc == HS_OK)
        rc = hs_metrics_compute(tm, hp, ish, m, err);
    if (rc == HS_OK && map)
        *map = tm;
    else
        hs_tilemap_free(tm);
    return rc;
}
