/*
 * cells: nucleus detection, Voronoi cell regions and membrane rings (see cells.h).
 *
 * Per region: binomial smoothing of the hematoxylin plane, background
 * subtraction (grey opening), thresholding,
 * one-pass connected-component labelling with union-find (4-connectivity),
 * area filtering, a uniform grid over the nuclei for neighbour queries, the
 * tumour-cell rule, then, for each core tumour cell, a scan of the disc of
 * radius expansion_um around it: a pixel is the cell's when no other nucleus
 * is nearer, and in the ring when its distance to the cell's boundary (the
 * nearest bisector with a neighbour, or the expansion limit) is <= ring_um.
 */
#include "cells.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hs_mem.h"

enum { MAX_SECTORS = 64, MAX_CAND = 64 };

typedef struct nucleus {
    double x, y, area;
    int tumour;
} nucleus;

struct hs_cells {
    int max_w, max_h;
    float *smooth, *tmp, *bg;
    float *line, *pre, *suf; /* one row or column, and the van Herk prefix/suffix extrema */
    size_t line_cap;
    int32_t *label;
    int32_t *parent;
    double *acc;            /* per provisional label: area, sum x, sum y */
    size_t label_cap;
    nucleus *nuc;
    size_t nnuc, nuc_cap;
    int32_t *grid_head, *grid_next;
    size_t grid_cap, next_cap;
    hs_cell *cell;
    size_t ncell, cell_cap;
};

void hs_cell_params_default(hs_cell_params *p)
{
    p->nucleus_od = 0.15;
    p->background_um = 8;
    p->min_area_um2 = 10;
    p->max_area_um2 = 400;
    p->expansion_um = 7;
    p->ring_um = 1.5;
    p->tumour_radius_um = 20;
    p->tumour_neighbours = 3;
    p->sectors = 24;
    p->sector_frac = 1.0 / 3.0;
}

int hs_cells_margin_px(const hs_cell_params *p, double mpp)
{
    return (int)ceil((p->tumour_radius_um + 2 * p->expansion_um + p->ring_um) / mpp) + 2;
}

hs_cells *hs_cells_alloc(int max_w, int max_h)
{
    if (max_w <= 0 || max_h <= 0)
        return NULL;
    hs_cells *c = calloc(1, sizeof *c);
    size_t n = (size_t)max_w * (size_t)max_h;
    if (!c)
        return NULL;
    c->max_w = max_w;
    c->max_h = max_h;
    c->smooth = malloc(n * sizeof *c->smooth);
    c->tmp = malloc(n * sizeof *c->tmp);
    c->bg = malloc(n * sizeof *c->bg);
    size_t m = (size_t)(max_w > max_h ? max_w : max_h) + 1;
    c->line = malloc(m * sizeof *c->line);
    c->pre = malloc(m * sizeof *c->pre);
    c->suf = malloc(m * sizeof *c->suf);
    c->label = malloc(n * sizeof *c->label);
    if (!c->smooth || !c->tmp || !c->label || !c->bg || !c->line || !c->pre || !c->suf) {
        hs_cells_free(c);
        return NULL;
    }
    return c;
}

void hs_cells_free(hs_cells *c)
{
    if (!c)
        return;
    free(c->smooth);
    free(c->tmp);
    free(c->bg);
    free(c->line);
    free(c->pre);
    free(c->suf);
    free(c->label);
    free(c->parent);
    free(c->acc);
    free(c->nuc);
    free(c->grid_head);
    free(c->grid_next);
    free(c->cell);
    free(c);
}

/* 5-tap binomial [1 4 6 4 1]/16 in x then y, edges clamped. */
static void smooth(const float *in, float *tmp, float *out, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const float *r = in + (size_t)y * w;
        float *o = tmp + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            int a = x > 1 ? x - 2 : 0, b = x > 0 ? x - 1 : 0, d = x < w - 1 ? x + 1 : w - 1, e = x < w - 2 ? x + 2 : w - 1;
            o[x] = (r[a] + 4 * r[b] + 6 * r[x] + 4 * r[d] + r[e]) * (1.0f / 16);
        }
    }
    for (int y = 0; y < h; y++) {
        int a = y > 1 ? y - 2 : 0, b = y > 0 ? y - 1 : 0, d = y < h - 1 ? y + 1 : h - 1, e = y < h - 2 ? y + 2 : h - 1;
        const float *ra = tmp + (size_t)a * w, *rb = tmp + (size_t)b * w, *rc = tmp + (size_t)y * w,
                    *rd = tmp + (size_t)d * w, *re = tmp + (size_t)e * w;
        float *o = out + (size_t)y * w;
        for (int x = 0; x < w; x++)
            o[x] = (ra[x] + 4 * rb[x] + 6 * rc[x] + 4 * rd[x] + re[x]) * (1.0f / 16);
    }
}

/*
 * Running minimum (want_max 0) or maximum over a window of 2r+1 samples of
 * v[0..n) (stride apart), edges clamped to the window inside the array:
 * van Herk / Gil-Werman, three comparisons per sample whatever r.
 */
static void run_extreme(float *v, size_t stride, int n, int r, int want_max, float *line, float *pre, float *suf)
{
    int k = 2 * r + 1;
    for (int i = 0; i < n; i++)
        line[i] = v[(size_t)i * stride];
    for (int b = 0; b < n; b += k) {
        int e = b + k < n ? b + k : n;
        pre[b] = line[b];
        for (int i = b + 1; i < e; i++)
            pre[i] = want_max ? fmaxf(pre[i - 1], line[i]) : fminf(pre[i - 1], line[i]);
        suf[e - 1] = line[e - 1];
        for (int i = e - 2; i >= b; i--)
            suf[i] = want_max ? fmaxf(suf[i + 1], line[i]) : fminf(suf[i + 1], line[i]);
    }
    for (int i = 0; i < n; i++) {
        int lo = i - r < 0 ? 0 : i - r, hi = i + r > n - 1 ? n - 1 : i + r;
        /* [lo, hi] spans at most two blocks: the suffix of lo's block and the prefix of hi's */
        float a = suf[lo], bb = pre[hi];
        if (lo / k == hi / k) { /* one block: scan (only at the array's edges, where the window is cut) */
            a = line[lo];
            for (int t = lo + 1; t <= hi; t++)
                a = want_max ? fmaxf(a, line[t]) : fminf(a, line[t]);
            bb = a;
        }
        v[(size_t)i * stride] = want_max ? fmaxf(a, bb) : fminf(a, bb);
    }
}

/*
 * Subtracts the local background of the smoothed hematoxylin plane: its grey
 * opening with a square window of half-side r (the largest value that fits
 * under the plane), like QuPath's background subtraction.  Nuclei narrower
 * than the window stand out by their own contrast, whatever the counterstain
 * or the DAB bleeding into the hematoxylin channel around them.  The
 * background varies slowly, so it is computed on a grid f times coarser
 * (block minima, which the erosion would take anyway) and read back by
 * nearest block: the cost is a small fraction of the per-pixel work.
 */
static void subtract_background(hs_cells *c, int w, int h, int r)
{
    int f = r >= 8 ? r / 4 : 1;
    int sw = (w + f - 1) / f, sh = (h + f - 1) / f, sr = (r + f - 1) / f;
    float *bg = c->bg;
    for (int by = 0; by < sh; by++)
        for (int bx = 0; bx < sw; bx++) {
            float m = INFINITY;
            for (int y = by * f; y < (by + 1) * f && y < h; y++)
                for (int x = bx * f; x < (bx + 1) * f && x < w; x++)
                    m = fminf(m, c->smooth[(size_t)y * w + x]);
            bg[(size_t)by * sw + bx] = m;
        }
    for (int pass = 0; pass < 2; pass++) { /* erosion, then dilation */
        for (int y = 0; y < sh; y++)
            run_extreme(bg + (size_t)y * sw, 1, sw, sr, pass, c->line, c->pre, c->suf);
        for (int x = 0; x < sw; x++)
            run_extreme(bg + x, (size_t)sw, sh, sr, pass, c->line, c->pre, c->suf);
    }
    for (int y = 0; y < h; y++) {
        const float *b = bg + (size_t)(y / f) * sw;
        float *o = c->smooth + (size_t)y * w;
        for (int x = 0; x < w; x++)
            o[x] -= b[x / f];
    }
}

static int32_t find(int32_t *parent, int32_t a)
{
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

/* Labels the nucleus mask and fills c->nuc with the components of plausible area. */
static int find_nuclei(hs_cells *c, int w, int h, double mpp, const hs_cell_params *cp)
{
    int32_t nl = 0;
    float t = (float)cp->nucleus_od;
    if (hs_reserve((void **)&c->parent, &c->label_cap, 1024, sizeof *c->parent, 256))
        return HS_ENOMEM;
    double *acc0 = realloc(c->acc, c->label_cap * 3 * sizeof *acc0);
    if (!acc0)
        return HS_ENOMEM;
    c->acc = acc0;
    c->parent[0] = 0;
    for (int y = 0; y < h; y++) {
        const float *s = c->smooth + (size_t)y * w;
        int32_t *l = c->label + (size_t)y * w, *up = y ? l - w : NULL;
        for (int x = 0; x < w; x++) {
            if (!(s[x] >= t)) {
                l[x] = 0;
                continue;
            }
            int32_t a = x ? l[x - 1] : 0, b = up ? up[x] : 0, L;
            if (!a && !b) {
                L = ++nl;
                if ((size_t)L >= c->label_cap) {
                    if (hs_reserve((void **)&c->parent, &c->label_cap, (size_t)L + 1, sizeof *c->parent, 256))
                        return HS_ENOMEM;
                    double *acc = realloc(c->acc, c->label_cap * 3 * sizeof *acc);
                    if (!acc)
                        return HS_ENOMEM;
                    c->acc = acc;
                }
                c->parent[L] = L;
                c->acc[3 * L] = c->acc[3 * L + 1] = c->acc[3 * L + 2] = 0;
            } else if (a && b) {
                int32_t ra = find(c->parent, a), rb = find(c->parent, b);
                L = ra < rb ? ra : rb;
                c->parent[ra] = c->parent[rb] = L;
            } else {
                L = a ? a : b;
            }
            l[x] = L;
            c->acc[3 * L] += 1;
            c->acc[3 * L + 1] += x;
            c->acc[3 * L + 2] += y;
        }
    }
    /* fold provisional labels into their roots (a root is always the smallest label of its set) */
    for (int32_t L = nl; L >= 1; L--) {
        int32_t r = find(c->parent, L);
        if (r != L) {
            for (int k = 0; k < 3; k++)
                c->acc[3 * r + k] += c->acc[3 * L + k];
            c->acc[3 * L] = 0;
        }
    }
    c->nnuc = 0;
    double px_area = mpp * mpp;
    for (int32_t L = 1; L <= nl; L++) {
        double n = c->acc[3 * L];
        if (n <= 0 || c->parent[L] != L)
            continue;
        double area = n * px_area;
        if (area < cp->min_area_um2 || area > cp->max_area_um2)
            continue;
        if (hs_reserve((void **)&c->nuc, &c->nuc_cap, c->nnuc + 1, sizeof *c->nuc, 256))
            return HS_ENOMEM;
        c->nuc[c->nnuc++] = (nucleus){c->acc[3 * L + 1] / n, c->acc[3 * L + 2] / n, area, 0};
    }
    return HS_OK;
}

/* Buckets the nuclei on a grid of side g pixels. */
static int build_grid(hs_cells *c, int w, int h, double g, int *gw, int *gh)
{
    *gw = (int)(w / g) + 1;
    *gh = (int)(h / g) + 1;
    size_t ng = (size_t)*gw * (size_t)*gh;
    if (hs_reserve((void **)&c->grid_head, &c->grid_cap, ng, sizeof *c->grid_head, 256) ||
        hs_reserve((void **)&c->grid_next, &c->next_cap, c->nnuc + 1, sizeof *c->grid_next, 256))
        return HS_ENOMEM;
    for (size_t i = 0; i < ng; i++)
        c->grid_head[i] = -1;
    /* insert in reverse so that each bucket lists nuclei in increasing index order */
    for (size_t i = c->nnuc; i-- > 0;) {
        int gx = (int)(c->nuc[i].x / g), gy = (int)(c->nuc[i].y / g);
        size_t b = (size_t)gy * (size_t)*gw + (size_t)gx;
        c->grid_next[i] = c->grid_head[b];
        c->grid_head[b] = (int32_t)i;
    }
    return HS_OK;
}

/* Measures the membrane ring of nucleus i (see the file comment). */
static void measure(const hs_cells *c, size_t i, const float *dab, int w, int h, double mpp, int gw, int gh, double g,
                    const hs_cell_params *cp, const hs_her2_params *hp, hs_cell *out)
{
    const nucleus *n = &c->nuc[i];
    double R = cp->expansion_um / mpp, ring = cp->ring_um / mpp;
    double cx[MAX_CAND], cy[MAX_CAND], cd[MAX_CAND];
    int ncand = 0, reach = (int)ceil(2 * R / g);
    int gx0 = (int)(n->x / g), gy0 = (int)(n->y / g);
    for (int gy = gy0 - reach; gy <= gy0 + reach; gy++)
        for (int gx = gx0 - reach; gx <= gx0 + reach; gx++) {
            if (gx < 0 || gy < 0 || gx >= gw || gy >= gh)
                continue;
            for (int32_t j = c->grid_head[(size_t)gy * gw + gx]; j >= 0; j = c->grid_next[j]) {
                if ((size_t)j == i)
                    continue;
                double dx = c->nuc[j].x - n->x, dy = c->nuc[j].y - n->y, d = sqrt(dx * dx + dy * dy);
                if (d < 2 * R && d > 0 && ncand < MAX_CAND) {
                    cx[ncand] = dx;
                    cy[ncand] = dy;
                    cd[ncand++] = d;
                }
            }
        }
    int S = cp->sectors < 1 ? 1 : cp->sectors > MAX_SECTORS ? MAX_SECTORS : cp->sectors;
    unsigned tot[MAX_SECTORS] = {0}, st[MAX_SECTORS] = {0};
    float peak[MAX_SECTORS] = {0};
    float od1 = (float)hp->od_1;
    int x0 = (int)floor(n->x - R), x1 = (int)ceil(n->x + R), y0 = (int)floor(n->y - R), y1 = (int)ceil(n->y + R);
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > w - 1)
        x1 = w - 1;
    if (y1 > h - 1)
        y1 = h - 1;
    double R2 = R * R;
    for (int y = y0; y <= y1; y++) {
        double dy = y - n->y;
        for (int x = x0; x <= x1; x++) {
            double dx = x - n->x, d2 = dx * dx + dy * dy;
            if (d2 > R2)
                continue;
            double b = R - sqrt(d2);
            int owned = 1;
            for (int k = 0; k < ncand; k++) {
                double ex = dx - cx[k], ey = dy - cy[k], e2 = ex * ex + ey * ey;
                if (e2 < d2) {
                    owned = 0;
                    break;
                }
                double bk = (e2 - d2) / (2 * cd[k]);
                if (bk < b)
                    b = bk;
            }
            if (!owned || b > ring)
                continue;
            int s = (int)((atan2(dy, dx) + M_PI) * (S / (2 * M_PI)));
            if (s >= S)
                s = S - 1;
            if (s < 0)
                s = 0;
            tot[s]++;
            float v = dab[(size_t)y * w + x];
            if (v >= od1)
                st[s]++;
            if (v > peak[s])
                peak[s] = v;
        }
    }
    int used = 0, stained = 0;
    float sp[MAX_SECTORS];
    for (int s = 0; s < S; s++) {
        if (!tot[s])
            continue;
        used++;
        if (st[s] >= cp->sector_frac * tot[s])
            sp[stained++] = peak[s];
    }
    /* intensity: median over the stained sectors of each sector's peak DAB OD (the membrane's own
       staining, robust to partial-volume and compression blur at its edges and to single noisy sectors) */
    for (int a = 1; a < stained; a++) {
        float v = sp[a];
        int b = a;
        for (; b > 0 && sp[b - 1] > v; b--)
            sp[b] = sp[b - 1];
        sp[b] = v;
    }
    double intensity = !stained ? 0 : stained % 2 ? sp[stained / 2] : 0.5 * (sp[stained / 2 - 1] + sp[stained / 2]);
    out->x = n->x;
    out->y = n->y;
    out->area_um2 = n->area;
    out->completeness = used ? (double)stained / used : 0;
    out->intensity = intensity;
    out->cls = hs_her2_cell_class(hp, out->intensity, out->completeness);
}

int hs_cells_run(hs_cells *c, const float *hem, const float *dab, int w, int h, double mpp, int cx0, int cy0,
                 int cx1, int cy1, const hs_cell_params *cp, const hs_her2_params *hp, const hs_cell **out, size_t *n,
                 hs_error *err)
{
    *out = NULL;
    *n = 0;
    if (w <= 0 || h <= 0 || w > c->max_w || h > c->max_h || !(mpp > 0))
        return hs_error_set(err, HS_EINVAL, "hs_cells_run: region %dx%d does not fit the detector (%dx%d)", w, h,
                            c->max_w, c->max_h);
    smooth(hem, c->tmp, c->smooth, w, h);
    if (cp->background_um > 0)
        subtract_background(c, w, h, (int)ceil(cp->background_um / mpp));
    if (find_nuclei(c, w, h, mpp, cp) != HS_OK)
        return hs_error_set(err, HS_ENOMEM, "out of memory labelling nuclei");
    double g = cp->expansion_um / mpp;
    if (g < 4)
        g = 4;
    int gw, gh;
    if (build_grid(c, w, h, g, &gw, &gh) != HS_OK)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    double tr = cp->tumour_radius_um / mpp, tr2 = tr * tr;
    int reach = (int)ceil(tr / g);
    for (size_t i = 0; i < c->nnuc; i++) {
        nucleus *a = &c->nuc[i];
        int gx0 = (int)(a->x / g), gy0 = (int)(a->y / g), cnt = 0;
        for (int gy = gy0 - reach; gy <= gy0 + reach && cnt < cp->tumour_neighbours; gy++)
            for (int gx = gx0 - reach; gx <= gx0 + reach; gx++) {
                if (gx < 0 || gy < 0 || gx >= gw || gy >= gh)
                    continue;
                for (int32_t j = c->grid_head[(size_t)gy * gw + gx]; j >= 0; j = c->grid_next[j]) {
                    double dx = c->nuc[j].x - a->x, dy = c->nuc[j].y - a->y;
                    cnt += (size_t)j != i && dx * dx + dy * dy <= tr2;
                }
            }
        a->tumour = cnt >= cp->tumour_neighbours;
    }
    c->ncell = 0;
    for (size_t i = 0; i < c->nnuc; i++) {
        const nucleus *a = &c->nuc[i];
        if (!a->tumour || a->x < cx0 || a->x >= cx1 || a->y < cy0 || a->y >= cy1)
            continue;
        if (hs_reserve((void **)&c->cell, &c->cell_cap, c->ncell + 1, sizeof *c->cell, 256))
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        measure(c, i, dab, w, h, mpp, gw, gh, g, cp, hp, &c->cell[c->ncell++]);
    }
    *out = c->cell;
    *n = c->ncell;
    return HS_OK;
}
