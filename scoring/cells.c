/*
 * cells: nucleus detection, touching-nucleus splitting, the scale-free
 * tumour-cell rule and membrane measurement along rays (see cells.h).
 *
 * Per region: binomial smoothing of the hematoxylin plane, background
 * subtraction (grey opening), thresholding, one-pass connected-component
 * labelling with union-find (4-connectivity), a watershed split of each
 * component large enough to hold two nuclei (exact Euclidean distance
 * transform, then a flood from the highest distance down in which two basins
 * merge unless the neck where they meet is narrow), area and shape filters,
 * a uniform grid over the nuclei for neighbour queries, the tumour-cell rule
 * at the slide's scale, then rays from each core tumour cell to its Voronoi
 * border.
 */
#include "cells.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hs_mem.h"

enum { MAX_CAND = 64, MAX_RAYS = HS_CELL_MAX_SECTORS * 4 };

typedef struct nucleus {
    double x, y, area_um2;
    double d3;   /* distance to the third-nearest like nucleus, pixels (INFINITY beyond the search) */
    int like;    /* shape and size of a tumour nucleus: eligible as a neighbour */
    int tumour;
} nucleus;

typedef struct pxv {   /* a component pixel and its distance to the background, for the watershed flood */
    float d;
    int32_t i;
} pxv;

struct hs_cells {
    int max_w, max_h;
    float *smooth, *tmp, *bg;
    float *line, *pre, *suf; /* one row or column, and the van Herk prefix/suffix extrema */
    int32_t *label;
    int32_t *parent;
    double *acc;            /* per provisional label: ACC doubles (see ACC_*) */
    size_t label_cap;
    /* watershed scratch, sized to the largest component box seen */
    float *edt, *ez;
    int32_t *ev, *wpar, *wbasin;
    float *wpeak;
    pxv *order;
    size_t box_cap, line_cap2, order_cap;
    double *bacc;           /* per basin accumulators */
    size_t bacc_cap;
    nucleus *nuc;
    size_t nnuc, nuc_cap;
    int32_t *grid_head, *grid_next;
    size_t grid_cap, next_cap;
    hs_cell *cell;
    size_t ncell, cell_cap;
    const float *hem, *dab; /* the planes of the current region */
};

/* Component accumulators: pixel count, sums of x, y, x^2, xy, y^2, hematoxylin and DAB OD, and the bounding box. */
enum { ACC_N, ACC_X, ACC_Y, ACC_XX, ACC_XY, ACC_YY, ACC_H, ACC_D, ACC_X0, ACC_Y0, ACC_X1, ACC_Y1, ACC };

void hs_cell_params_default(hs_cell_params *p)
{
    p->nucleus_od = 0.15;
    p->background_um = 8;
    p->min_area_um2 = 5;
    p->max_area_um2 = 400;
    p->max_radius_um = 12.5;
    p->split_neck = 0.7;
    p->max_elongation = 2.5;
    p->sheet_factor = 1.45;
    p->min_area_frac = 0.4;
    p->edge_factor = 1.3;
    p->sectors = 24;
    p->rays_per_sector = 3;
    p->band_px = 3;
}

/* The spacing the rules use: the measured one, or the largest plausible when unknown. */
static double rule_spacing_um(const hs_cell_params *p, const hs_cell_scale *sc)
{
    return sc && sc->n_sheet > 0 && sc->spacing_um > 0 ? sc->spacing_um : 2 * p->max_radius_um;
}

int hs_cells_margin_px(const hs_cell_params *p, const hs_cell_scale *sc, double mpp)
{
    double s = rule_spacing_um(p, sc);
    double cap = p->edge_factor * p->sheet_factor * s / 2;
    return (int)ceil((2 * cap + s / 2) / mpp) + 2;
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
    size_t m = (size_t)(max_w > max_h ? max_w : max_h) + 3; /* + 3: component boxes are padded */
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
    free(c->edt);
    free(c->ez);
    free(c->ev);
    free(c->wpar);
    free(c->wbasin);
    free(c->wpeak);
    free(c->order);
    free(c->bacc);
    free(c->nuc);
    free(c->grid_head);
    free(c->grid_next);
    free(c->cell);
    free(c);
}

/* ---- smoothing and background ------------------------------------------------------------------------------ */

/* 5-tap binomial [1 4 6 4 1]/16 in x then y, edges clamped. */
static void smooth(const float *in, float *tmp, float *out, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const float *r = in + (size_t)y * w;
        float *o = tmp + (size_t)y * w;
        if (w < 5) {
            for (int x = 0; x < w; x++) {
                int a = x > 1 ? x - 2 : 0, b = x > 0 ? x - 1 : 0, d = x < w - 1 ? x + 1 : w - 1,
                    e = x < w - 2 ? x + 2 : w - 1;
                o[x] = (r[a] + 4 * r[b] + 6 * r[x] + 4 * r[d] + r[e]) * (1.0f / 16);
            }
            continue;
        }
        o[0] = (r[0] + 4 * r[0] + 6 * r[0] + 4 * r[1] + r[2]) * (1.0f / 16);
        o[1] = (r[0] + 4 * r[0] + 6 * r[1] + 4 * r[2] + r[3]) * (1.0f / 16);
        for (int x = 2; x < w - 2; x++)
            o[x] = (r[x - 2] + 4 * r[x - 1] + 6 * r[x] + 4 * r[x + 1] + r[x + 2]) * (1.0f / 16);
        o[w - 2] = (r[w - 4] + 4 * r[w - 3] + 6 * r[w - 2] + 4 * r[w - 1] + r[w - 1]) * (1.0f / 16);
        o[w - 1] = (r[w - 3] + 4 * r[w - 2] + 6 * r[w - 1] + 4 * r[w - 1] + r[w - 1]) * (1.0f / 16);
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
            pre[i] = want_max ? (line[i] > pre[i - 1] ? line[i] : pre[i - 1])
                              : (line[i] < pre[i - 1] ? line[i] : pre[i - 1]);
        suf[e - 1] = line[e - 1];
        for (int i = e - 2; i >= b; i--)
            suf[i] = want_max ? (line[i] > suf[i + 1] ? line[i] : suf[i + 1])
                              : (line[i] < suf[i + 1] ? line[i] : suf[i + 1]);
    }
    for (int i = 0; i < n; i++) {
        int lo = i - r < 0 ? 0 : i - r, hi = i + r > n - 1 ? n - 1 : i + r;
        /* [lo, hi] spans at most two blocks: the suffix of lo's block and the prefix of hi's */
        float a = suf[lo], bb = pre[hi];
        if (lo / k == hi / k) { /* one block: scan (only at the array's edges, where the window is cut) */
            a = line[lo];
            for (int t = lo + 1; t <= hi; t++)
                a = want_max ? (line[t] > a ? line[t] : a) : (line[t] < a ? line[t] : a);
            bb = a;
        }
        v[(size_t)i * stride] = want_max ? (a > bb ? a : bb) : (a < bb ? a : bb);
    }
}

/*
 * Subtracts the local background of the smoothed hematoxylin plane: its grey
 * opening with a square window of half-side r (the largest value that fits
 * under the plane), like QuPath's background subtraction.  Nuclei narrower
 * than the window stand out by their own contrast, whatever the counterstain
 * or the DAB bleeding into the hematoxylin channel around them.  The
 * background varies slowly, so it is computed on a grid f = r/2 times
 * coarser (block minima, which the erosion would take anyway) and read back
 * by nearest block: the cost is a small fraction of the per-pixel work.
 */
static void subtract_background(hs_cells *c, int w, int h, int r)
{
    int f = r >= 4 ? r / 2 : 1;
    int sw = (w + f - 1) / f, sh = (h + f - 1) / f, sr = (r + f - 1) / f;
    float *bg = c->bg;
    for (int by = 0; by < sh; by++) {
        float *row = bg + (size_t)by * sw;
        for (int bx = 0; bx < sw; bx++)
            row[bx] = INFINITY;
        for (int y = by * f; y < (by + 1) * f && y < h; y++) {
            const float *s = c->smooth + (size_t)y * w;
            for (int bx = 0; bx < sw; bx++) {
                float m = row[bx];
                int xe = (bx + 1) * f < w ? (bx + 1) * f : w;
                for (int x = bx * f; x < xe; x++)
                    m = s[x] < m ? s[x] : m;
                row[bx] = m;
            }
        }
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
        for (int bx = 0, x = 0; bx < sw; bx++) {
            float v = b[bx];
            int xe = (bx + 1) * f < w ? (bx + 1) * f : w;
            for (; x < xe; x++)
                o[x] -= v;
        }
    }
}

/* ---- labelling --------------------------------------------------------------------------------------------- */

static int32_t find(int32_t *parent, int32_t a)
{
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

static int grow_labels(hs_cells *c, size_t need)
{
    size_t old = c->label_cap;
    if (hs_reserve((void **)&c->parent, &c->label_cap, need, sizeof *c->parent, 1024))
        return HS_ENOMEM;
    if (c->label_cap != old || !c->acc) {
        double *acc = realloc(c->acc, c->label_cap * ACC * sizeof *acc);
        if (!acc)
            return HS_ENOMEM;
        c->acc = acc;
    }
    return HS_OK;
}

/*
 * Labels the pixels of the smoothed plane >= the threshold (4-connectivity).
 * Pixels keep their provisional labels; parent[] maps every label to its
 * component's root (the smallest provisional label of the component), whose
 * accumulators hold the whole component.  Returns the number of provisional labels, or
 * -1 when out of memory.
 */
static int32_t label_mask(hs_cells *c, int w, int h, float t)
{
    int32_t nl = 0;
    if (grow_labels(c, 1024) != HS_OK)
        return -1;
    c->parent[0] = 0;
    for (int y = 0; y < h; y++) {
        const float *s = c->smooth + (size_t)y * w, *hm = c->hem + (size_t)y * w, *db = c->dab + (size_t)y * w;
        int32_t *l = c->label + (size_t)y * w, *up = y ? l - w : NULL;
        int xs = -1;            /* start of the current run of mask pixels */
        double sh = 0, sd = 0;  /* its hematoxylin and DAB sums */
        int32_t L = 0;
        for (int x = 0; x <= w; x++) {
            if (xs < 0) /* outside a run: skip to the next mask pixel */
                for (; x < w && !(s[x] >= t); x++)
                    l[x] = 0;
            if (x == w || !(s[x] >= t)) {
                if (xs >= 0) { /* close the run [xs, x-1]: its moments in closed form, into its label's set */
                    double n = x - xs, a = xs, e = x - 1;
                    double sx = 0.5 * (a + e) * n, sxx = (e * (e + 1) * (2 * e + 1) - (a - 1) * a * (2 * a - 1)) / 6;
                    double *A = c->acc + (size_t)L * ACC;
                    A[ACC_N] += n;
                    A[ACC_X] += sx;
                    A[ACC_Y] += n * y;
                    A[ACC_XX] += sxx;
                    A[ACC_XY] += sx * y;
                    A[ACC_YY] += n * y * (double)y;
                    A[ACC_H] += sh;
                    A[ACC_D] += sd;
                    if (a < A[ACC_X0])
                        A[ACC_X0] = a;
                    if (e > A[ACC_X1])
                        A[ACC_X1] = e;
                    if (y > A[ACC_Y1])
                        A[ACC_Y1] = y;
                    xs = -1;
                }
                if (x < w)
                    l[x] = 0;
                continue;
            }
            int32_t a = x ? l[x - 1] : 0, b = up ? up[x] : 0;
            if (!a && !b) {
                L = ++nl;
                if ((size_t)L >= c->label_cap && grow_labels(c, (size_t)L + 1) != HS_OK)
                    return -1;
                c->parent[L] = L;
                double *A = c->acc + (size_t)L * ACC;
                for (int k = 0; k < ACC_X0; k++)
                    A[k] = 0;
                A[ACC_X0] = A[ACC_X1] = x;
                A[ACC_Y0] = A[ACC_Y1] = y;
            } else if (a && b) {
                int32_t ra = find(c->parent, a), rb = find(c->parent, b);
                L = ra < rb ? ra : rb;
                c->parent[ra] = c->parent[rb] = L;
            } else {
                L = a ? a : b;
            }
            l[x] = L;
            if (xs < 0) {
                xs = x;
                sh = sd = 0;
            }
            sh += hm[x];
            sd += db[x];
        }
    }
    /* roots are the smallest label of their set: resolving in increasing order makes parent[] the root map */
    for (int32_t L = 1; L <= nl; L++)
        c->parent[L] = c->parent[c->parent[L]];
    for (int32_t L = nl; L >= 1; L--) {
        int32_t r = c->parent[L];
        if (r == L)
            continue;
        double *A = c->acc + (size_t)L * ACC, *R = c->acc + (size_t)r * ACC;
        for (int k = 0; k < ACC_X0; k++)
            R[k] += A[k];
        R[ACC_X0] = fmin(R[ACC_X0], A[ACC_X0]);
        R[ACC_Y0] = fmin(R[ACC_Y0], A[ACC_Y0]);
        R[ACC_X1] = fmax(R[ACC_X1], A[ACC_X1]);
        R[ACC_Y1] = fmax(R[ACC_Y1], A[ACC_Y1]);
        A[ACC_N] = 0;
    }
    return nl;
}

/* ---- nuclei ------------------------------------------------------------------------------------------------- */

/*
 * Adds a nucleus from accumulators (pixel units) when its area is plausible
 * and DAB does not dominate it: a blob with more than DAB_DOMINANCE times as
 * much DAB as hematoxylin is strong membrane staining leaking into the
 * hematoxylin channel (a DAB vector a few degrees off, JPEG chroma mixing
 * the colours of neighbouring pixels) at the junctions of thick membranes,
 * not a nucleus.  Real nuclei under cytoplasmic DAB keep a comparable amount
 * of hematoxylin and stay.
 */
#define DAB_DOMINANCE 2.0
static int add_nucleus(hs_cells *c, const double *A, double mpp, const hs_cell_params *cp)
{
    double n = A[ACC_N], area = n * mpp * mpp;
    if (n <= 0 || area < cp->min_area_um2 || area > cp->max_area_um2 || A[ACC_D] > DAB_DOMINANCE * A[ACC_H])
        return HS_OK;
    double mx = A[ACC_X] / n, my = A[ACC_Y] / n;
    /* central second moments, plus 1/12 for the extent of a pixel */
    double sxx = A[ACC_XX] / n - mx * mx + 1.0 / 12, syy = A[ACC_YY] / n - my * my + 1.0 / 12;
    double sxy = A[ACC_XY] / n - mx * my;
    double half = 0.5 * (sxx + syy), dif = sqrt(0.25 * (sxx - syy) * (sxx - syy) + sxy * sxy);
    double l1 = half + dif, l2 = half - dif;
    double elong = l2 > 0 ? sqrt(l1 / l2) : INFINITY;
    if (hs_reserve((void **)&c->nuc, &c->nuc_cap, c->nnuc + 1, sizeof *c->nuc, 256))
        return HS_ENOMEM;
    c->nuc[c->nnuc++] = (nucleus){mx, my, area, INFINITY, elong <= cp->max_elongation, 0};
    return HS_OK;
}

/*
 * Squared Euclidean distance transform of one line (Felzenszwalb &
 * Huttenlocher's lower envelope of parabolas): f[0..n) in, d[0..n) out.
 * f[0] must be finite (the box's border is background); infinite samples
 * (inside the component) add no parabola.
 */
static void edt_line(const float *f, float *d, int n, int32_t *v, float *z)
{
    int k = 0;
    v[0] = 0;
    z[0] = -INFINITY;
    z[1] = INFINITY;
    for (int q = 1; q < n; q++) {
        if (f[q] == INFINITY)
            continue;
        float s;
        for (;;) {
            int p = v[k];
            s = ((f[q] + (float)q * q) - (f[p] + (float)p * p)) / (2.0f * (float)(q - p));
            if (s > z[k])
                break;
            k--; /* z[0] is -infinity: k never drops below 0 */
        }
        k++;
        v[k] = q;
        z[k] = s;
        z[k + 1] = INFINITY;
    }
    k = 0;
    for (int q = 0; q < n; q++) {
        while (z[k + 1] < q)
            k++;
        float t = (float)(q - v[k]);
        d[q] = t * t + f[v[k]];
    }
}

static int cmp_pxv(const void *a, const void *b)
{
    const pxv *p = a, *q = b;
    if (p->d != q->d)
        return p->d > q->d ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

static int32_t wfind(int32_t *par, int32_t a)
{
    while (par[a] != a) {
        par[a] = par[par[a]];
        a = par[a];
    }
    return a;
}

/*
 * Splits component `root` (bounding box from its accumulators) along narrow
 * necks and adds each part as a nucleus.  The distance of every component
 * pixel to the background is computed exactly; pixels are then visited from
 * the deepest down, each joining the basins of its already visited
 * 8-neighbours; two basins that meet merge unless the depth where they meet
 * is below split_neck times the shallower basin's peak (a neck narrower than
 * that fraction of the smaller nucleus's half-width).
 */
static int split_component(hs_cells *c, int w, int32_t root, double mpp, const hs_cell_params *cp)
{
    const double *A = c->acc + (size_t)root * ACC;
    int x0 = (int)A[ACC_X0] - 1, y0 = (int)A[ACC_Y0] - 1, x1 = (int)A[ACC_X1] + 1, y1 = (int)A[ACC_Y1] + 1;
    int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    size_t nb = (size_t)bw * (size_t)bh, nl = (size_t)(bw > bh ? bw : bh) + 1;
    size_t npx = (size_t)A[ACC_N];
    if (hs_reserve((void **)&c->edt, &c->box_cap, nb, sizeof *c->edt, 4096))
        return HS_ENOMEM;
    size_t cap = c->box_cap;
    int32_t *par = realloc(c->wpar, cap * sizeof *par);
    if (par)
        c->wpar = par;
    float *pk = realloc(c->wpeak, cap * sizeof *pk);
    if (pk)
        c->wpeak = pk;
    int32_t *bs = realloc(c->wbasin, cap * sizeof *bs);
    if (bs)
        c->wbasin = bs;
    if (!par || !pk || !bs)
        return HS_ENOMEM;
    if (nl + 1 > c->line_cap2) {
        float *z = realloc(c->ez, (nl + 1) * sizeof *z);
        if (z)
            c->ez = z;
        int32_t *v = realloc(c->ev, (nl + 1) * sizeof *v);
        if (v)
            c->ev = v;
        if (!z || !v)
            return HS_ENOMEM;
        c->line_cap2 = nl + 1;
    }
    if (hs_reserve((void **)&c->order, &c->order_cap, npx, sizeof *c->order, 1024))
        return HS_ENOMEM;
    /* f: 0 on the background (and the box's border), infinite in the component */
    float *f = c->edt;
    size_t no = 0;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            int gx = x0 + x, gy = y0 + y;
            int in = x > 0 && y > 0 && x < bw - 1 && y < bh - 1 && c->parent[c->label[(size_t)gy * w + gx]] == root;
            f[(size_t)y * bw + x] = in ? INFINITY : 0;
        }
    /* columns, then rows; tmp/pre/suf lines (sized to the region) serve as scratch */
    float *lin = c->pre, *lout = c->suf;
    for (int x = 0; x < bw; x++) {
        for (int y = 0; y < bh; y++)
            lin[y] = f[(size_t)y * bw + x];
        edt_line(lin, lout, bh, c->ev, c->ez);
        for (int y = 0; y < bh; y++)
            f[(size_t)y * bw + x] = lout[y];
    }
    for (int y = 0; y < bh; y++) {
        float *row = f + (size_t)y * bw;
        memcpy(lin, row, (size_t)bw * sizeof *lin);
        edt_line(lin, row, bw, c->ev, c->ez);
    }
    for (int y = 1; y < bh - 1; y++)
        for (int x = 1; x < bw - 1; x++) {
            size_t i = (size_t)y * bw + x;
            if (c->parent[c->label[(size_t)(y0 + y) * w + (x0 + x)]] == root && no < npx)
                c->order[no++] = (pxv){sqrtf(f[i]), (int32_t)i};
        }
    qsort(c->order, no, sizeof *c->order, cmp_pxv);
    for (size_t i = 0; i < nb; i++)
        par[i] = -1;
    float neck = (float)cp->split_neck;
    for (size_t k = 0; k < no; k++) {
        int32_t p = c->order[k].i;
        float d = c->order[k].d;
        int32_t roots[8], up = -1; /* up: the deepest visited neighbour, which p drains into */
        int nr = 0, px = p % bw, py = p / bw;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int32_t q = (py + dy) * bw + (px + dx);
                if ((dx || dy) && par[q] >= 0) {
                    int32_t r = wfind(par, q), seen = 0;
                    for (int t = 0; t < nr; t++)
                        seen |= roots[t] == r;
                    if (!seen)
                        roots[nr++] = r;
                    if (up < 0 || f[q] > f[up] || (f[q] == f[up] && q < up))
                        up = q;
                }
            }
        if (!nr) { /* a new basin */
            par[p] = p;
            pk[p] = d;
            continue;
        }
        int32_t top = wfind(par, up);
        par[p] = top;
        for (int t = 0; t < nr; t++) {
            int32_t a = wfind(par, roots[t]), b = wfind(par, top);
            if (a == b)
                continue;
            float lo = pk[a] < pk[b] ? pk[a] : pk[b];
            if (d >= neck * lo) { /* a wide neck: one nucleus */
                int32_t keep = pk[a] > pk[b] || (pk[a] == pk[b] && a < b) ? a : b;
                par[keep == a ? b : a] = keep;
            }
        }
    }
    /* per-basin accumulators */
    size_t nbasin = 0;
    for (size_t k = 0; k < no; k++) {
        int32_t p = c->order[k].i, r = wfind(par, p);
        if (r == p)
            bs[p] = (int32_t)nbasin++;
    }
    if (hs_reserve((void **)&c->bacc, &c->bacc_cap, nbasin * ACC, sizeof *c->bacc, 64))
        return HS_ENOMEM;
    memset(c->bacc, 0, nbasin * ACC * sizeof *c->bacc);
    for (size_t k = 0; k < no; k++) {
        int32_t p = c->order[k].i, r = wfind(par, p);
        double *B = c->bacc + (size_t)bs[r] * ACC, x = x0 + p % bw, y = y0 + p / bw;
        B[ACC_N] += 1;
        B[ACC_X] += x;
        B[ACC_Y] += y;
        B[ACC_XX] += x * x;
        B[ACC_XY] += x * y;
        B[ACC_YY] += y * y;
        size_t at = (size_t)(y0 + p / bw) * w + (size_t)(x0 + p % bw);
        B[ACC_H] += c->hem[at];
        B[ACC_D] += c->dab[at];
    }
    for (size_t b = 0; b < nbasin; b++)
        if (add_nucleus(c, c->bacc + b * ACC, mpp, cp) != HS_OK)
            return HS_ENOMEM;
    return HS_OK;
}

/*
 * Whether a component is as compact as an ellipse: a uniform ellipse's area
 * is 4 pi sqrt(l1 l2) (l1, l2 the eigenvalues of its second moments); two
 * touching discs fill only 0.89 of the ellipse of their moments, two
 * overlapping ones up to 0.98 (a neck of 0.7 of their radius), a single
 * digitised ellipse about 1.  Only components below ELLIPSE_FILL can hold
 * several nuclei and are worth the watershed (which keeps a single one whole).
 */
#define ELLIPSE_FILL 0.99
static int ellipse_like(const double *A)
{
    double n = A[ACC_N], mx = A[ACC_X] / n, my = A[ACC_Y] / n;
    double sxx = A[ACC_XX] / n - mx * mx + 1.0 / 12, syy = A[ACC_YY] / n - my * my + 1.0 / 12;
    double sxy = A[ACC_XY] / n - mx * my, det = sxx * syy - sxy * sxy;
    return det > 0 && n >= ELLIPSE_FILL * 4 * M_PI * sqrt(det);
}

/* Detects the nuclei of the region into c->nuc (smoothing, background, threshold, labels, split, filters). */
static int find_nuclei(hs_cells *c, const float *hem, const float *dab, int w, int h, double mpp,
                       const hs_cell_params *cp)
{
    c->hem = hem;
    c->dab = dab;
    smooth(hem, c->tmp, c->smooth, w, h);
    if (cp->background_um > 0)
        subtract_background(c, w, h, (int)ceil(cp->background_um / mpp));
    int32_t nl = label_mask(c, w, h, (float)cp->nucleus_od);
    if (nl < 0)
        return HS_ENOMEM;
    c->nnuc = 0;
    double px_area = mpp * mpp;
    double split_min = 2 * cp->min_area_um2 / px_area, split_max = 16 * cp->max_area_um2 / px_area;
    for (int32_t L = 1; L <= nl; L++) {
        const double *A = c->acc + (size_t)L * ACC;
        if (c->parent[L] != L || A[ACC_N] <= 0)
            continue;
        int rc = A[ACC_N] >= split_min && A[ACC_N] <= split_max && cp->split_neck > 0 && !ellipse_like(A)
                     ? split_component(c, w, L, mpp, cp)
                     : add_nucleus(c, A, mpp, cp);
        if (rc != HS_OK)
            return rc;
    }
    return HS_OK;
}

/* Buckets the like nuclei on a grid of side g pixels. */
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
        if (!c->nuc[i].like)
            continue;
        int gx = (int)(c->nuc[i].x / g), gy = (int)(c->nuc[i].y / g);
        if (gx < 0 || gy < 0 || gx >= *gw || gy >= *gh)
            continue;
        size_t b = (size_t)gy * (size_t)*gw + (size_t)gx;
        c->grid_next[i] = c->grid_head[b];
        c->grid_head[b] = (int32_t)i;
    }
    return HS_OK;
}

/* Sets every like nucleus's distance to its third-nearest like neighbour, when within reach pixels. */
static void third_nearest(hs_cells *c, int gw, int gh, double g, double reach)
{
    int span = (int)ceil(reach / g);
    double r2 = reach * reach;
    for (size_t i = 0; i < c->nnuc; i++) {
        nucleus *a = &c->nuc[i];
        a->d3 = INFINITY;
        if (!a->like)
            continue;
        double best[3] = {INFINITY, INFINITY, INFINITY};
        int gx0 = (int)(a->x / g), gy0 = (int)(a->y / g);
        for (int gy = gy0 - span; gy <= gy0 + span; gy++)
            for (int gx = gx0 - span; gx <= gx0 + span; gx++) {
                if (gx < 0 || gy < 0 || gx >= gw || gy >= gh)
                    continue;
                for (int32_t j = c->grid_head[(size_t)gy * gw + gx]; j >= 0; j = c->grid_next[j]) {
                    if ((size_t)j == i)
                        continue;
                    double dx = c->nuc[j].x - a->x, dy = c->nuc[j].y - a->y, d2 = dx * dx + dy * dy;
                    if (d2 > r2 || d2 >= best[2])
                        continue;
                    if (d2 < best[0]) {
                        best[2] = best[1];
                        best[1] = best[0];
                        best[0] = d2;
                    } else if (d2 < best[1]) {
                        best[2] = best[1];
                        best[1] = d2;
                    } else {
                        best[2] = d2;
                    }
                }
            }
        a->d3 = sqrt(best[2]);
    }
}

/* ---- membranes ------------------------------------------------------------------------------------------------ */

static void sort_floats(float *v, int n)
{
    for (int a = 1; a < n; a++) {
        float x = v[a];
        int b = a;
        for (; b > 0 && v[b - 1] > x; b--)
            v[b] = v[b - 1];
        v[b] = x;
    }
}

static double median_sorted(const float *v, int n)
{
    return n % 2 ? v[n / 2] : 0.5 * ((double)v[n / 2 - 1] + v[n / 2]);
}

/* The value reached by a third of v[0..n) (its 2/3 quantile, by rank: the ceil(n/3)-th largest); reorders v. */
static float upper_third(float *v, int n)
{
    int k = n - (n + 2) / 3, lo = 0, hi = n - 1;
    k = k < 0 ? 0 : k;
    while (lo < hi) { /* Hoare's selection */
        float pivot = v[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
}

enum { MAX_PIX = 4096 };

/* atan(t) for t in [0, 1] at ATAN_STEPS + 1 points, for sector_of (filled once, read-only afterwards). */
#define ATAN_STEPS 4096
static float atan_table[ATAN_STEPS + 1];
static pthread_once_t atan_once = PTHREAD_ONCE_INIT;

static void atan_init(void)
{
    for (int i = 0; i <= ATAN_STEPS; i++)
        atan_table[i] = (float)atan((double)i / ATAN_STEPS);
}

/*
 * The sector (0..S-1, angle from -pi) of direction (dx, dy): atan2 from a
 * table of atan on the octant (error < 2.5e-4 rad, far below a sector's
 * width), which the pixel loop calls for every band pixel.
 */
static inline int sector_of(double dx, double dy, int S)
{
    double ax = fabs(dx), ay = fabs(dy), mx = ax > ay ? ax : ay, mn = ax > ay ? ay : ax;
    double a = mx > 0 ? atan_table[(int)(mn / mx * ATAN_STEPS + 0.5)] : 0;
    if (ay > ax)
        a = M_PI / 2 - a;
    if (dx < 0)
        a = M_PI - a;
    if (dy < 0)
        a = -a;
    int s = (int)((a + M_PI) * (S / (2 * M_PI)));
    return s >= S ? S - 1 : s < 0 ? 0 : s;
}

/*
 * Measures the membrane of tumour nucleus i (see the file comment of
 * cells.h).  The border along ray directions gives the cell's extent; the
 * pixels of the cell (nearer to its nucleus than to any neighbour's, inside
 * its extent where no neighbour faces it) within band_px of that border are
 * the membrane band, split into angular sectors.
 */
static void measure(const hs_cells *c, size_t i, const float *dab, int w, int h, double mpp, int gw, int gh, double g,
                    const hs_cell_params *cp, const double *ux, const double *uy, hs_cell *out)
{
    const nucleus *n = &c->nuc[i];
    double cap = cp->edge_factor * n->d3 / 2;
    double cx[MAX_CAND], cy[MAX_CAND], cd[MAX_CAND], nx[MAX_CAND], ny[MAX_CAND], brow[MAX_CAND];
    int ncand = 0, reach = (int)ceil(2 * cap / g);
    int gx0 = (int)(n->x / g), gy0 = (int)(n->y / g);
    double r2 = 4 * cap * cap;
    for (int gy = gy0 - reach; gy <= gy0 + reach; gy++)
        for (int gx = gx0 - reach; gx <= gx0 + reach; gx++) {
            if (gx < 0 || gy < 0 || gx >= gw || gy >= gh)
                continue;
            for (int32_t j = c->grid_head[(size_t)gy * gw + gx]; j >= 0; j = c->grid_next[j]) {
                if ((size_t)j == i)
                    continue;
                double dx = c->nuc[j].x - n->x, dy = c->nuc[j].y - n->y, d2 = dx * dx + dy * dy;
                if (d2 < r2 && d2 > 0 && ncand < MAX_CAND) {
                    cx[ncand] = dx;
                    cy[ncand] = dy;
                    cd[ncand] = sqrt(d2);
                    nx[ncand] = dx / cd[ncand];
                    ny[ncand] = dy / cd[ncand];
                    ncand++;
                }
            }
        }
    int S = cp->sectors < 1 ? 1 : cp->sectors > HS_CELL_MAX_SECTORS ? HS_CELL_MAX_SECTORS : cp->sectors;
    int R = cp->rays_per_sector < 1 ? 1 : cp->rays_per_sector > 4 ? 4 : cp->rays_per_sector, NR = S * R;
    double band = cp->band_px;
    /* the border along each ray: the nearest bisector with a neighbour; rays no neighbour faces are open */
    float closed[MAX_RAYS], ends[MAX_RAYS], ray_end[MAX_RAYS];
    double rad[MAX_RAYS]; /* radial limit of the cell along each ray: infinite where a bisector bounds it */
    int nclosed = 0, nend = 0;
    for (int k = 0; k < NR; k++) {
        double end = INFINITY;
        for (int j = 0; j < ncand; j++) {
            double dot = ux[k] * cx[j] + uy[k] * cy[j];
            if (dot > 0) {
                double t = cd[j] * cd[j] / (2 * dot);
                end = t < end ? t : end;
            }
        }
        ray_end[k] = (float)(end <= cap ? end : INFINITY);
        if (end <= cap)
            closed[nclosed++] = (float)end;
    }
    /*
     * Where no neighbour faces the cell (a nest edge), its border is where its membrane is: the DAB ridge
     * along the ray between 0.8 and 1.6 times the cell's own typical radius (the median of its closed rays,
     * or half its third-nearest distance), the band centred on it.
     */
    double ref = n->d3 / 2;
    if (nclosed) {
        sort_floats(closed, nclosed);
        ref = median_sorted(closed, nclosed);
    }
    const double step = 0.5;
    double outer = 0, inner_r = INFINITY;
    for (int k = 0; k < NR; k++) {
        double lim;
        if (isfinite(ray_end[k])) {
            rad[k] = INFINITY;
            lim = ray_end[k];
            ends[nend++] = ray_end[k];
        } else {
            double best_t = 1.1 * ref, best = -INFINITY;
            for (double t = 0.8 * ref; t <= 1.6 * ref; t += step) {
                int x = (int)lround(n->x + t * ux[k]), y = (int)lround(n->y + t * uy[k]);
                if (x < 0 || y < 0 || x >= w || y >= h)
                    continue;
                float v = dab[(size_t)y * w + x];
                if (v > best) {
                    best = v;
                    best_t = t;
                }
            }
            rad[k] = best_t + band / 2;
            lim = rad[k];
            ends[nend++] = (float)best_t;
        }
        outer = lim > outer ? lim : outer;
        inner_r = lim < inner_r ? lim : inner_r;
    }
    /*
     * Band pixels per sector, on the cell's side of its border and on the other side (the neighbour's band,
     * beyond a bisector only), values kept in per-sector slices of two buffers.  b is the signed distance to
     * the border, negative beyond it.
     */
    float vals[MAX_PIX], ovals[MAX_PIX];
    int cnt[HS_CELL_MAX_SECTORS] = {0}, ocnt[HS_CELL_MAX_SECTORS] = {0}, per = MAX_PIX / S;
    float top[HS_CELL_MAX_SECTORS], otop[HS_CELL_MAX_SECTORS];
    for (int s = 0; s < S; s++)
        top[s] = otop[s] = -INFINITY;
    double ext = outer + band, R2 = ext * ext;
    int x0 = (int)floor(n->x - ext), x1 = (int)ceil(n->x + ext), y0 = (int)floor(n->y - ext),
        y1 = (int)ceil(n->y + ext);
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > w - 1 ? w - 1 : x1;
    y1 = y1 > h - 1 ? h - 1 : y1;
    /* no band pixel lies nearer to the centre than the nearest border minus the band */
    double inner = inner_r - band - 1;
    double I2 = inner > 0 ? inner * inner : -1;
    for (int y = y0; y <= y1; y++) {
        double dy = y - n->y, h2 = R2 - dy * dy;
        if (h2 < 0)
            continue;
        /* the row's span inside the outer circle, less the part inside the inner one */
        double half = sqrt(h2), in2 = I2 - dy * dy, ihalf = in2 > 0 ? sqrt(in2) : -1;
        int xa = (int)ceil(n->x - half), xb = (int)floor(n->x + half);
        xa = xa < x0 ? x0 : xa;
        xb = xb > x1 ? x1 : xb;
        /* pixels strictly inside the inner circle are skipped: x in (n->x - ihalf, n->x + ihalf) */
        int ia = ihalf > 0 ? (int)floor(n->x - ihalf) + 1 : xb + 1, ib = ihalf > 0 ? (int)ceil(n->x + ihalf) - 1 : xb;
        /* distance to the bisector with neighbour k, |c_k|/2 - p.c_k/|c_k|, at x = xa, then stepped along the row */
        for (int k = 0; k < ncand; k++)
            brow[k] = 0.5 * cd[k] - dy * ny[k] - (xa - n->x) * nx[k];
        for (int x = xa; x <= xb; x++) {
            if (x == ia && ia <= ib) {
                for (int k = 0; k < ncand; k++)
                    brow[k] -= (ib + 1 - ia) * nx[k];
                x = ib;
                continue;
            }
            double dx = x - n->x;
            double bb = INFINITY;
            for (int k = 0; k < ncand; k++) {
                double bk = brow[k];
                brow[k] = bk - nx[k];
                bb = bk < bb ? bk : bb;
            }
            if (bb < -band)
                continue;
            int ray = sector_of(dx, dy, NR), s = ray / R;
            double br = rad[ray] - sqrt(dx * dx + dy * dy), b = br < bb ? br : bb;
            if (b > band || b < -band || (b < 0 && br < bb)) /* beyond an open border: stroma, not a neighbour */
                continue;
            float v = dab[(size_t)y * w + x];
            if (b >= 0) {
                if (cnt[s] < per)
                    vals[s * per + cnt[s]++] = v;
                if (v > top[s])
                    top[s] = v;
            } else if (b <= -0.5) { /* half a pixel off the border: a centroid error cannot bring own pixels here */
                if (ocnt[s] < per)
                    ovals[s * per + ocnt[s]++] = v;
                if (v > otop[s])
                    otop[s] = v;
            }
        }
    }
    int ns = 0;
    for (int s = 0; s < S; s++) {
        if (!cnt[s])
            continue;
        out->stain[ns] = upper_third(vals + s * per, cnt[s]);
        out->peak[ns] = top[s];
        /* the other side counts only where a neighbouring cell faces the sector (its membrane can leak) */
        int facing = 0;
        for (int r = 0; r < R; r++)
            facing += isfinite(ray_end[s * R + r]);
        if (ocnt[s] && 2 * facing >= R) {
            out->ostain[ns] = upper_third(ovals + s * per, ocnt[s]);
            out->opeak[ns] = otop[s];
        } else {
            out->ostain[ns] = out->opeak[ns] = -1;
        }
        ns++;
    }
    sort_floats(ends, nend);
    out->x = n->x;
    out->y = n->y;
    out->area_um2 = n->area_um2;
    out->radius_um = nend ? median_sorted(ends, nend) * mpp : 0;
    out->nsector = ns;
}

void hs_cell_unmix(const float *stain, const float *peak, const float *ostain, const float *opeak, int n,
                   double leak, float *ustain, float *upeak)
{
    double k = 1 - leak * leak;
    for (int i = 0; i < n; i++) {
        double st = stain[i], pk = peak[i];
        if (leak > 0 && opeak[i] >= 0) {
            st = (st - leak * ostain[i]) / k;
            pk = (pk - leak * opeak[i]) / k;
        }
        /* insert in increasing stain, peaks alongside */
        int b = i;
        for (; b > 0 && ustain[b - 1] > st; b--) {
            ustain[b] = ustain[b - 1];
            upeak[b] = upeak[b - 1];
        }
        ustain[b] = (float)st;
        upeak[b] = (float)pk;
    }
}

hs_class hs_cell_classify(const float *stain, const float *peak, int n, const hs_her2_params *hp, double *intensity,
                          double *completeness)
{
    int first = 0;
    while (first < n && !(stain[first] >= hp->od_1))
        first++;
    int k = n - first;
    float top[HS_CELL_MAX_SECTORS] = {0};
    for (int i = 0; i < k; i++)
        top[i] = peak[first + i];
    sort_floats(top, k);
    double in = k ? median_sorted(top, k) : 0, co = n ? (double)k / n : 0;
    if (intensity)
        *intensity = in;
    if (completeness)
        *completeness = co;
    return hs_her2_cell_class(hp, in, co);
}

/* The nuclei of a region with their third-nearest distances within `reach` pixels; grid side in *g. */
static int nuclei_and_grid(hs_cells *c, const float *hem, const float *dab, int w, int h, double mpp,
                           const hs_cell_params *cp, double area_floor, double reach, double *g, int *gw, int *gh)
{
    int rc = find_nuclei(c, hem, dab, w, h, mpp, cp);
    if (rc != HS_OK)
        return rc;
    for (size_t i = 0; i < c->nnuc; i++)
        c->nuc[i].like = c->nuc[i].like && c->nuc[i].area_um2 >= area_floor;
    *g = reach / 2 < 4 ? 4 : reach / 2;
    if ((rc = build_grid(c, w, h, *g, gw, gh)) != HS_OK)
        return rc;
    third_nearest(c, *gw, *gh, *g, reach);
    return HS_OK;
}

int hs_cells_run(hs_cells *c, const float *hem, const float *dab, int w, int h, double mpp, int cx0, int cy0,
                 int cx1, int cy1, const hs_cell_params *cp, const hs_cell_scale *sc, const hs_cell **out, size_t *n,
                 hs_error *err)
{
    *out = NULL;
    *n = 0;
    if (w <= 0 || h <= 0 || w > c->max_w || h > c->max_h || !(mpp > 0))
        return hs_error_set(err, HS_EINVAL, "hs_cells_run: region %dx%d does not fit the detector (%dx%d)", w, h,
                            c->max_w, c->max_h);
    double spacing = rule_spacing_um(cp, sc) / mpp;
    double floor_area = sc && sc->n_sheet > 0 ? cp->min_area_frac * sc->nucleus_area_um2 : 0;
    double thr = cp->sheet_factor * spacing, g;
    int gw, gh;
    if (nuclei_and_grid(c, hem, dab, w, h, mpp, cp, floor_area, thr, &g, &gw, &gh) != HS_OK)
        return hs_error_set(err, HS_ENOMEM, "out of memory detecting nuclei");
    for (size_t i = 0; i < c->nnuc; i++)
        c->nuc[i].tumour = c->nuc[i].like && c->nuc[i].d3 <= thr;
    int S = cp->sectors < 1 ? 1 : cp->sectors > HS_CELL_MAX_SECTORS ? HS_CELL_MAX_SECTORS : cp->sectors;
    int R = cp->rays_per_sector < 1 ? 1 : cp->rays_per_sector > 4 ? 4 : cp->rays_per_sector;
    pthread_once(&atan_once, atan_init);
    double ux[MAX_RAYS], uy[MAX_RAYS];
    for (int k = 0; k < S * R; k++) {
        double th = 2 * M_PI * (k + 0.5) / (S * R) - M_PI;
        ux[k] = cos(th);
        uy[k] = sin(th);
    }
    c->ncell = 0;
    for (size_t i = 0; i < c->nnuc; i++) {
        const nucleus *a = &c->nuc[i];
        if (!a->tumour || a->x < cx0 || a->x >= cx1 || a->y < cy0 || a->y >= cy1)
            continue;
        if (hs_reserve((void **)&c->cell, &c->cell_cap, c->ncell + 1, sizeof *c->cell, 256))
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        hs_cell *cell = &c->cell[c->ncell];
        measure(c, i, dab, w, h, mpp, gw, gh, g, cp, ux, uy, cell);
        if (cell->nsector > 0)
            c->ncell++;
    }
    *out = c->cell;
    *n = c->ncell;
    return HS_OK;
}

/* ---- scale --------------------------------------------------------------------------------------------------- */

struct hs_scale_acc {
    float *d3, *area; /* um, um^2 */
    size_t n, cap;
};

hs_scale_acc *hs_scale_acc_alloc(void)
{
    return calloc(1, sizeof(hs_scale_acc));
}

void hs_scale_acc_free(hs_scale_acc *a)
{
    if (!a)
        return;
    free(a->d3);
    free(a->area);
    free(a);
}

static int acc_reserve(hs_scale_acc *a, size_t need);

int hs_cells_sample(hs_cells *c, const float *hem, const float *dab, int w, int h, double mpp, int cx0, int cy0,
                    int cx1, int cy1,
                    const hs_cell_params *cp, hs_scale_acc *a, hs_error *err)
{
    if (w <= 0 || h <= 0 || w > c->max_w || h > c->max_h || !(mpp > 0))
        return hs_error_set(err, HS_EINVAL, "hs_cells_sample: region %dx%d does not fit the detector (%dx%d)", w, h,
                            c->max_w, c->max_h);
    double reach = 2 * 2 * cp->max_radius_um / mpp, g;
    int gw, gh;
    if (nuclei_and_grid(c, hem, dab, w, h, mpp, cp, 0, reach, &g, &gw, &gh) != HS_OK)
        return hs_error_set(err, HS_ENOMEM, "out of memory detecting nuclei");
    for (size_t i = 0; i < c->nnuc; i++) {
        const nucleus *nu = &c->nuc[i];
        if (!nu->like || !isfinite(nu->d3) || nu->x < cx0 || nu->x >= cx1 || nu->y < cy0 || nu->y >= cy1)
            continue;
        if (acc_reserve(a, a->n + 1) != HS_OK)
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        a->d3[a->n] = (float)(nu->d3 * mpp);
        a->area[a->n++] = (float)nu->area_um2;
    }
    return HS_OK;
}

static int acc_reserve(hs_scale_acc *a, size_t need)
{
    if (need <= a->cap)
        return HS_OK;
    size_t nc = a->cap ? 2 * a->cap : 4096;
    while (nc < need)
        nc *= 2;
    float *d = realloc(a->d3, nc * sizeof *d);
    if (d)
        a->d3 = d;
    float *ar = realloc(a->area, nc * sizeof *ar);
    if (ar)
        a->area = ar;
    if (!d || !ar)
        return HS_ENOMEM;
    a->cap = nc;
    return HS_OK;
}

int hs_scale_acc_merge(hs_scale_acc *a, const hs_scale_acc *b, hs_error *err)
{
    if (!b->n)
        return HS_OK;
    if (acc_reserve(a, a->n + b->n) != HS_OK)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    memcpy(a->d3 + a->n, b->d3, b->n * sizeof *b->d3);
    memcpy(a->area + a->n, b->area, b->n * sizeof *b->area);
    a->n += b->n;
    return HS_OK;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void hs_cells_scale_finish(const hs_scale_acc *a, const hs_cell_params *cp, hs_cell_scale *sc)
{
    memset(sc, 0, sizeof *sc);
    enum { NB = 256 };
    const double bin = 0.25, sigma = 1.0;
    double lo = 2 * sqrt(cp->min_area_um2 / M_PI), hi = 2 * cp->max_radius_um * 1.15;
    double hist[NB] = {0}, sm[NB];
    for (size_t i = 0; a && i < a->n; i++) {
        int b = (int)(a->d3[i] / bin);
        if (b >= 0 && b < NB)
            hist[b]++;
    }
    int kr = (int)ceil(3 * sigma / bin);
    for (int b = 0; b < NB; b++) {
        double s = 0;
        for (int k = -kr; k <= kr; k++)
            if (b + k >= 0 && b + k < NB)
                s += hist[b + k] * exp(-0.5 * (k * bin / sigma) * (k * bin / sigma));
        sm[b] = s;
    }
    int best = -1;
    for (int b = 0; b < NB; b++) {
        double centre = (b + 0.5) * bin;
        if (centre < lo || centre > hi)
            continue;
        if (best < 0 || sm[b] > sm[best])
            best = b;
    }
    if (best < 0 || sm[best] <= 0)
        return;
    double spacing = (best + 0.5) * bin, thr = cp->sheet_factor * spacing;
    size_t m = 0;
    float *areas = malloc((a->n ? a->n : 1) * sizeof *areas);
    if (!areas)
        return;
    for (size_t i = 0; i < a->n; i++)
        if (a->d3[i] <= thr)
            areas[m++] = a->area[i];
    if (m >= 30) {
        qsort(areas, m, sizeof *areas, cmp_float);
        sc->spacing_um = spacing;
        sc->nucleus_area_um2 = median_sorted(areas, (int)m);
        sc->n_sheet = m;
    }
    free(areas);
}
