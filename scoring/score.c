/*
 * score: whole-slide scoring pipeline (see score.h).
 */
#include "score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/slide.h"
#include "scoring/stain.h"

void hs_score_params_default(hs_score_params *p)
{
    memset(p, 0, sizeof *p);
    p->target_mpp = 0.5;
    p->tile_um = 256;
    p->region_px = 1024;
    p->estimate_background = 1;
    p->tissue_od = 0.15;
    hs_cell_params_default(&p->cells);
    hs_her2_params_default(&p->her2);
}

void hs_score_result_clear(hs_score_result *res)
{
    hs_tilemap_free(res->map);
    memset(res, 0, sizeof *res);
}

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
 * region and every region is examined.
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
        return rc;
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

/* True when the thumbnail shows tissue in the level rectangle [x0,x1) x [y0,y1). */
static int has_tissue(const tissue *t, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    if (!t->mask)
        return 1;
    int64_t a = (int64_t)floor(x0 * t->scale) - 1, b = (int64_t)ceil(x1 * t->scale) + 1;
    int64_t c = (int64_t)floor(y0 * t->scale) - 1, d = (int64_t)ceil(y1 * t->scale) + 1;
    if (a < 0)
        a = 0;
    if (c < 0)
        c = 0;
    if (b > t->w)
        b = t->w;
    if (d > t->h)
        d = t->h;
    for (int64_t y = c; y < d; y++)
        for (int64_t x = a; x < b; x++)
            if (t->mask[y * t->w + x])
                return 1;
    return 0;
}

int hs_score_slide(const char *path, const hs_score_params *p, hs_ish ish, hs_score_result *res, hs_error *err)
{
    memset(res, 0, sizeof *res);
    hs_slide *s = NULL;
    int rc = hs_slide_open(&s, path, p->mpp_override, err);
    if (rc != HS_OK)
        return rc;
    const hs_slide_info *info = hs_slide_get_info(s);
    tissue t = {0};
    uint8_t *rgb = NULL, *valid = NULL;
    float *hem = NULL, *dab = NULL;
    hs_cells *det = NULL;
    if (!(info->mpp_x > 0)) {
        rc = hs_error_set(err, HS_EDATA, "%s: the slide does not record its pixel size: give it with --mpp", path);
        goto done;
    }
    int level = hs_slide_best_level(s, p->target_mpp);
    int64_t lw, lh;
    double lds;
    if ((rc = hs_slide_level(s, level, &lw, &lh, &lds)) != HS_OK) {
        hs_error_set(err, rc, "%s: slide has no level %d", path, level);
        goto done;
    }
    double mpp = info->mpp_x * lds;
    res->level = level;
    res->mpp = mpp;
    if ((rc = thumbnail(s, level, p, res->background, &t, err)) != HS_OK)
        goto done;
    int core = p->region_px, margin = hs_cells_margin_px(&p->cells, mpp), side = core + 2 * margin;
    size_t npx = (size_t)side * (size_t)side;
    rgb = malloc(npx * 3);
    valid = malloc(npx);
    hem = malloc(npx * sizeof *hem);
    dab = malloc(npx * sizeof *dab);
    det = hs_cells_alloc(side, side);
    double um_w = lw * mpp, um_h = lh * mpp;
    res->map = hs_tilemap_alloc((size_t)ceil(um_w / p->tile_um), (size_t)ceil(um_h / p->tile_um), p->tile_um);
    if (!rgb || !valid || !hem || !dab || !det || !res->map) {
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    double h[3], d[3];
    if (p->has_stains) {
        memcpy(h, p->stain_h, sizeof h);
        memcpy(d, p->stain_dab, sizeof d);
    } else {
        hs_stain_default_vectors(h, d);
    }
    int bg_pending = p->estimate_background && !t.mask; /* no thumbnail: estimate on the first region */
    hs_stain st;
    if ((rc = hs_stain_init(&st, h, d, p->has_third ? p->stain_third : NULL, res->background, err)) != HS_OK)
        goto done;
    for (int64_t y0 = 0; y0 < lh; y0 += core) {
        for (int64_t x0 = 0; x0 < lw; x0 += core) {
            int64_t x1 = x0 + core < lw ? x0 + core : lw, y1 = y0 + core < lh ? y0 + core : lh;
            if (!has_tissue(&t, x0, y0, x1, y1))
                continue;
            int64_t rx = x0 - margin, ry = y0 - margin;
            int rw = (int)(x1 - x0) + 2 * margin, rh = (int)(y1 - y0) + 2 * margin;
            if ((rc = hs_slide_read(s, level, rx, ry, rw, rh, rgb, bg_pending ? valid : NULL, err)) != HS_OK)
                goto done;
            if (bg_pending) {
                bg_pending = 0; /* padding outside the image is white but not glass: only valid pixels count */
                if (hs_stain_background(rgb, valid, (size_t)rw * rh, res->background) &&
                    (rc = hs_stain_init(&st, h, d, p->has_third ? p->stain_third : NULL, res->background, err)) !=
                        HS_OK)
                    goto done;
            }
            hs_stain_apply(&st, rgb, (size_t)rw * rh, hem, dab);
            res->megapixels += rw * (double)rh / 1e6;
            const hs_cell *cell;
            size_t n;
            if ((rc = hs_cells_run(det, hem, dab, rw, rh, mpp, margin, margin, margin + (int)(x1 - x0),
                                   margin + (int)(y1 - y0), &p->cells, &p->her2, &cell, &n, err)) != HS_OK)
                goto done;
            for (size_t i = 0; i < n; i++) {
                double xu = (rx + cell[i].x) * mpp, yu = (ry + cell[i].y) * mpp;
                hs_tilemap_add(res->map, xu, yu, cell[i].cls);
                if (p->cell_fn)
                    p->cell_fn(p->cell_ctx, xu, yu, &cell[i]);
            }
        }
    }
    if ((rc = hs_metrics_compute(res->map, &p->her2, ish, &res->metrics, err)) != HS_OK)
        goto done;
    if (res->metrics.n_cells == 0)
        rc = hs_error_set(err, HS_EDATA, "%s: no tumour cells detected%s", path,
                          t.mask ? " (check the tissue, the stain vectors and --mpp)" : "");
done:
    free(t.mask);
    free(rgb);
    free(valid);
    free(hem);
    free(dab);
    hs_cells_free(det);
    hs_slide_close(s);
    if (rc != HS_OK)
        hs_score_result_clear(res);
    return rc;
}
