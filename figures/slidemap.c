/* slidemap: a slide's thumbnail with its tile calls overlaid (see slidemap.h; constants in docs/figures.md). */
#include "figures/slidemap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures/canvas.h"
#include "figures/figcsv.h"
#include "scoring/slide.h"

#define FIG_W 360.0        /* 5 in: a map beside its legend at a readable size */
#define MAP_MAX_H 432.0    /* a tall slide's map no taller than it is wide at most */
#define MARGIN 10.0
#define LEGEND_W 112.0     /* "3+ (10000 tiles)" at 9 pt */
#define FS_TITLE 12.0
#define FS_TEXT 9.0
#define SWATCH 9.0
#define THUMB_SIDE 600     /* thumbnail pixels on the long side: about 2.5 px per point of the map */
#define ALPHA_ON_SLIDE 0.55 /* the tissue stays visible under a tile */
#define ALPHA_ON_WHITE 0.85

void hs_slidemap_opts_default(hs_slidemap_opts *o) { memset(o, 0, sizeof *o); }

void hs_slidemap_colour(int call, double rgb[3])
{
    /* Okabe-Ito sky blue, yellow, orange, vermillion: ordered from cool to hot, safe for colour-vision deficiency */
    static const double col[4][3] = {
        {86 / 255.0, 180 / 255.0, 233 / 255.0},
        {240 / 255.0, 228 / 255.0, 66 / 255.0},
        {230 / 255.0, 159 / 255.0, 0 / 255.0},
        {213 / 255.0, 94 / 255.0, 0 / 255.0},
    };
    int k = call < 0 ? 0 : call > 3 ? 3 : call;
    memcpy(rgb, col[k], sizeof col[k]);
}

void hs_slidemap_data_free(hs_slidemap_data *d)
{
    if (!d)
        return;
    free(d->tile);
    hs_thumb_clear(&d->thumb);
    free(d->note);
    free(d);
}

static hs_slidemap_data *alloc_data(size_t nx, size_t ny, double tile_um)
{
    hs_slidemap_data *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->nx = nx;
    d->ny = ny;
    d->tile_um = tile_um;
    d->um_per_px = NAN;
    d->tile = malloc(nx * ny > 0 ? nx * ny : 1);
    if (!d->tile) {
        free(d);
        return NULL;
    }
    memset(d->tile, HS_SLIDEMAP_EMPTY, nx * ny);
    return d;
}

int hs_slidemap_from_tilemap(hs_slidemap_data **out, const hs_tilemap *m, const hs_her2_params *p, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "hs_slidemap_from_tilemap: NULL argument");
    *out = NULL;
    if (!m || !p || !(m->tile_um > 0))
        return hs_error_set(err, HS_EINVAL, "hs_slidemap_from_tilemap: bad argument");
    hs_slidemap_data *d = alloc_data(m->nx, m->ny, m->tile_um);
    if (!d)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    d->min_cells = p->tile_min_cells ? p->tile_min_cells : 1;
    for (size_t t = 0; t < m->nx * m->ny; t++) {
        const unsigned long *c = m->count + t * HS_NCLASS;
        unsigned long n = c[0] + c[1] + c[2] + c[3];
        if (n == 0)
            continue;
        if (n < d->min_cells) {
            d->tile[t] = HS_SLIDEMAP_SPARSE;
            continue;
        }
        double f[HS_NCLASS];
        for (int k = 0; k < HS_NCLASS; k++)
            f[k] = (double)c[k] / (double)n;
        hs_call call = hs_her2_call(p, f, (size_t)n);
        d->tile[t] = (signed char)(call == HS_CALL_NA ? HS_SLIDEMAP_SPARSE : call);
        if (call != HS_CALL_NA)
            d->count[call]++;
    }
    *out = d;
    return HS_OK;
}

/* ix, iy as whole numbers >= 0 below 2^24 (a map of 2^24 tiles a side is 4 km of tissue). */
static int index_of(const hs_figcsv *t, size_t r, size_t col, size_t *v, hs_error *err)
{
    double x;
    int rc = hs_figcsv_num(t, r, col, &x, err);
    if (rc != HS_OK)
        return rc;
    if (!(x >= 0 && x < 16777216.0) || x != floor(x))
        return hs_error_set(err, HS_EDATA, "%s:%ld: %s '%s' is not a tile index", t->path, t->line[r],
                            col == 0 ? "ix" : "iy", t->cell[r * t->ncol + col]);
    *v = (size_t)x;
    return HS_OK;
}

int hs_slidemap_load(hs_slidemap_data **out, const char *tiles_csv, double tile_um_default, hs_error *err)
{
    if (!out || !tiles_csv)
        return hs_error_set(err, HS_EINVAL, "hs_slidemap_load: NULL argument");
    *out = NULL;
    static const char *const cols[] = {"ix", "iy", "x_um", "y_um", "ihc_score", "tumour"};
    hs_figcsv *t;
    const char *slash = strrchr(tiles_csv, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - tiles_csv) : 1, slash ? tiles_csv : ".");
    if (slash == tiles_csv)
        snprintf(dir, sizeof dir, "/");
    int rc = hs_figcsv_read(&t, dir, slash ? slash + 1 : tiles_csv, cols, 6, 0, err);
    if (rc != HS_OK)
        return rc;
    size_t nx = 0, ny = 0;
    double tile_um = NAN;
    for (size_t r = 0; rc == HS_OK && r < t->nrow; r++) {
        size_t ix, iy;
        double x, y;
        if ((rc = index_of(t, r, 0, &ix, err)) != HS_OK || (rc = index_of(t, r, 1, &iy, err)) != HS_OK ||
            (rc = hs_figcsv_num(t, r, 2, &x, err)) != HS_OK || (rc = hs_figcsv_num(t, r, 3, &y, err)) != HS_OK)
            break;
        if (ix + 1 > nx)
            nx = ix + 1;
        if (iy + 1 > ny)
            ny = iy + 1;
        if (isnan(tile_um) && ix > 0 && x > 0)
            tile_um = x / (double)ix;
        else if (isnan(tile_um) && iy > 0 && y > 0)
            tile_um = y / (double)iy;
    }
    if (rc == HS_OK && (double)nx * (double)ny > 1e8)
        rc = hs_error_set(err, HS_EDATA, "%s: a map of %zu x %zu tiles is not a slide's", t->path, nx, ny);
    hs_slidemap_data *d = NULL;
    if (rc == HS_OK && !(d = alloc_data(nx, ny, isnan(tile_um) ? tile_um_default : tile_um)))
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t r = 0; rc == HS_OK && r < t->nrow; r++) {
        size_t ix, iy;
        (void)index_of(t, r, 0, &ix, err);
        (void)index_of(t, r, 1, &iy, err);
        const char *call = t->cell[r * t->ncol + 4], *tum = t->cell[r * t->ncol + 5];
        int k = -1; /* the call as tilecsv writes it (hs_her2_call_name) */
        for (int j = 0; j < HS_NCLASS && k < 0; j++)
            if (!strcmp(call, hs_her2_call_name((hs_call)j)))
                k = j;
        if (k < 0 && strcmp(call, "NA"))
            rc = hs_error_set(err, HS_EDATA, "%s:%ld: ihc_score '%s' is not 0, 1+, 2+, 3+ or NA", t->path,
                              t->line[r], call);
        else if (strcmp(tum, "0") && strcmp(tum, "1"))
            rc = hs_error_set(err, HS_EDATA, "%s:%ld: tumour '%s' is not 0 or 1", t->path, t->line[r], tum);
        else if (!strcmp(tum, "1") && k >= 0) {
            d->tile[iy * nx + ix] = (signed char)k;
            d->count[k]++;
        } else {
            d->tile[iy * nx + ix] = HS_SLIDEMAP_SPARSE;
        }
    }
    hs_figcsv_free(t);
    if (rc != HS_OK) {
        hs_slidemap_data_free(d);
        return rc;
    }
    *out = d;
    return HS_OK;
}

int hs_slidemap_thumb(hs_slidemap_data *d, const char *path, double mpp_override, hs_error *err)
{
    if (!d || !path)
        return hs_error_set(err, HS_EINVAL, "hs_slidemap_thumb: NULL argument");
    hs_slide *s;
    hs_error e = {0};
    char note[1100];
    int rc = hs_slide_open(&s, path, mpp_override, &e);
    if (rc == HS_OK) {
        const hs_slide_info *info = hs_slide_get_info(s);
        if (!(info->mpp_x > 0)) {
            snprintf(note, sizeof note, "no thumbnail: the slide's pixel size is unknown");
            rc = HS_EDATA;
        } else {
            rc = hs_thumb_read(s, THUMB_SIDE, &d->thumb, &e);
            if (rc == HS_OK)
                d->um_per_px = d->thumb.um_per_px;
            else
                snprintf(note, sizeof note, "no thumbnail: %s", e.msg);
        }
        hs_slide_close(s);
    } else {
        snprintf(note, sizeof note, "no thumbnail: %s", e.msg);
    }
    if (rc == HS_ENOMEM)
        return hs_error_set(err, HS_ENOMEM, "out of memory reading a thumbnail");
    if (rc != HS_OK) {
        free(d->note);
        if (!(d->note = strdup(note)))
            return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    return HS_OK;
}

/* The extent the map shows, in micrometres: the thumbnail's, else the tiles'. */
static void extent(const hs_slidemap_data *d, double *w_um, double *h_um)
{
    if (d->thumb.rgb) {
        *w_um = d->thumb.w * d->um_per_px;
        *h_um = d->thumb.h * d->um_per_px;
    } else {
        *w_um = (double)(d->nx ? d->nx : 1) * d->tile_um;
        *h_um = (double)(d->ny ? d->ny : 1) * d->tile_um;
    }
}

/* The map box (w x h points) for a figure width. */
static void map_box(const hs_slidemap_data *d, double *mw, double *mh)
{
    double w_um, h_um;
    extent(d, &w_um, &h_um);
    *mw = FIG_W - 2 * MARGIN - LEGEND_W;
    *mh = *mw * h_um / w_um;
    if (*mh > MAP_MAX_H) {
        *mw *= MAP_MAX_H / *mh;
        *mh = MAP_MAX_H;
    }
}

void hs_slidemap_size(const hs_slidemap_data *d, const hs_slidemap_opts *o, double *w_pt, double *h_pt)
{
    double mw, mh;
    map_box(d, &mw, &mh);
    *w_pt = FIG_W;
    *h_pt = 2 * MARGIN + mh + (o && o->title ? FS_TITLE * 1.8 : 0) + (d->note ? FS_TEXT * 1.8 : 0);
    if (*h_pt < 2 * MARGIN + 8 * FS_TEXT * 1.5)
        *h_pt = 2 * MARGIN + 8 * FS_TEXT * 1.5; /* room for the legend */
}

/* A scale bar length: 1, 2 or 5 x 10^k micrometres, the largest not above a quarter of the width. */
static double bar_um(double w_um)
{
    double target = w_um / 4, p = pow(10, floor(log10(target)));
    return target >= 5 * p ? 5 * p : target >= 2 * p ? 2 * p : p;
}

static int draw_thumb(cairo_t *cr, const hs_thumb *t, double x0, double y0, double mw, double mh, hs_error *err)
{
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, t->w, t->h);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return hs_error_set(err, HS_ENOMEM, "out of memory for a %dx%d thumbnail", t->w, t->h);
    }
    cairo_surface_flush(img);
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int y = 0; y < t->h; y++) {
        uint32_t *row = (uint32_t *)(void *)(px + (size_t)y * (size_t)stride);
        const uint8_t *q = t->rgb + (size_t)y * (size_t)t->w * 3;
        for (int x = 0; x < t->w; x++, q += 3)
            row[x] = (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
    }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_rectangle(cr, x0, y0, mw, mh);
    cairo_clip(cr);
    cairo_translate(cr, x0, y0);
    cairo_scale(cr, mw / t->w, mh / t->h);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    return HS_OK;
}

int hs_slidemap_draw(cairo_t *cr, double w, double h, const hs_slidemap_data *d, const hs_slidemap_opts *o,
                     hs_error *err)
{
    (void)w;
    (void)h;
    if (!cr || !d || !o)
        return hs_error_set(err, HS_EINVAL, "hs_slidemap_draw: NULL argument");
    double y = MARGIN;
    if (o->title) {
        hs_fig_font(cr, FS_TITLE, 1);
        cairo_set_source_rgb(cr, 0, 0, 0);
        hs_fig_text(cr, MARGIN, y, HS_HALIGN_LEFT, HS_VALIGN_TOP, o->title);
        y += FS_TITLE * 1.8;
    }
    double mw, mh, w_um, h_um;
    map_box(d, &mw, &mh);
    extent(d, &w_um, &h_um);
    double x0 = MARGIN, y0 = y, s = mw / w_um; /* points per micrometre */
    int rc = d->thumb.rgb ? draw_thumb(cr, &d->thumb, x0, y0, mw, mh, err) : HS_OK;
    if (rc != HS_OK)
        return rc;
    /* the tiles, clipped to the map */
    cairo_save(cr);
    cairo_rectangle(cr, x0, y0, mw, mh);
    cairo_clip(cr);
    double alpha = d->thumb.rgb ? ALPHA_ON_SLIDE : ALPHA_ON_WHITE, ts = d->tile_um * s;
    for (size_t iy = 0; iy < d->ny; iy++)
        for (size_t ix = 0; ix < d->nx; ix++) {
            int k = d->tile[iy * d->nx + ix];
            if (k == HS_SLIDEMAP_EMPTY)
                continue;
            double tx = x0 + (double)ix * ts, ty = y0 + (double)iy * ts;
            if (k == HS_SLIDEMAP_SPARSE) {
                cairo_set_source_rgba(cr, 0.35, 0.35, 0.35, 0.9);
                cairo_set_line_width(cr, 0.4);
                cairo_rectangle(cr, tx + 0.2, ty + 0.2, ts - 0.4, ts - 0.4);
                cairo_stroke(cr);
            } else {
                double c[3];
                hs_slidemap_colour(k, c);
                cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
                cairo_rectangle(cr, tx, ty, ts, ts);
                cairo_fill(cr);
            }
        }
    cairo_restore(cr);
    /* frame */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.5);
    cairo_rectangle(cr, x0, y0, mw, mh);
    cairo_stroke(cr);
    /* scale bar, bottom left inside the map on a white plate */
    double bu = bar_um(w_um), bl = bu * s;
    char lab[32];
    if (bu >= 1000)
        snprintf(lab, sizeof lab, "%g mm", bu / 1000);
    else
        snprintf(lab, sizeof lab, "%g \xc2\xb5m", bu);
    hs_fig_font(cr, FS_TEXT, 0);
    double lw = hs_fig_text_width(cr, lab), pw = (bl > lw ? bl : lw) + 8, ph = FS_TEXT * 1.2 + 10;
    double px = x0 + 6, py = y0 + mh - 6 - ph;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, px, py, pw, ph);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, px + 4, py + ph - 6, bl, 2.5);
    cairo_fill(cr);
    hs_fig_text(cr, px + 4 + bl / 2, py + ph - 8, HS_HALIGN_CENTER, HS_VALIGN_BOTTOM, lab);
    if (d->note) {
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        hs_fig_text(cr, x0, y0 + mh + 4, HS_HALIGN_LEFT, HS_VALIGN_TOP, d->note);
    }
    /* legend */
    double lx = x0 + mw + 12, ly = y0;
    cairo_set_source_rgb(cr, 0, 0, 0);
    hs_fig_font(cr, FS_TEXT, 1);
    hs_fig_text(cr, lx, ly, HS_HALIGN_LEFT, HS_VALIGN_TOP, "Tile IHC call");
    ly += FS_TEXT * 1.6;
    hs_fig_font(cr, FS_TEXT, 0);
    for (int k = 3; k >= 0; k--) {
        double c[3];
        hs_slidemap_colour(k, c);
        cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
        cairo_rectangle(cr, lx, ly, SWATCH, SWATCH);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        hs_fig_textf(cr, lx + SWATCH + 4, ly + SWATCH / 2, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "%s (%zu tile%s)",
                     hs_her2_call_name((hs_call)k), d->count[k], d->count[k] == 1 ? "" : "s");
        ly += FS_TEXT * 1.5;
    }
    cairo_set_source_rgba(cr, 0.35, 0.35, 0.35, 0.9);
    cairo_set_line_width(cr, 0.4);
    cairo_rectangle(cr, lx + 0.2, ly + 0.2, SWATCH - 0.4, SWATCH - 0.4);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (d->min_cells)
        hs_fig_textf(cr, lx + SWATCH + 4, ly + SWATCH / 2, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "< %zu cells",
                     d->min_cells);
    else
        hs_fig_text(cr, lx + SWATCH + 4, ly + SWATCH / 2, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "too few cells");
    ly += FS_TEXT * 2.2;
    hs_fig_textf(cr, lx, ly, HS_HALIGN_LEFT, HS_VALIGN_TOP, "tiles of %g \xc2\xb5m", d->tile_um);
    return HS_OK;
}

int hs_slidemap_write_slide(hs_slidemap_data *d, const char *path, double mpp_override, const char *patient,
                            const hs_slide_metrics *m, const char *base, unsigned mask, hs_error *err)
{
    if (!d || !patient || !m || !base)
        return hs_error_set(err, HS_EINVAL, "hs_slidemap_write_slide: NULL argument");
    int rc = HS_OK;
    if (path) {
        rc = hs_slidemap_thumb(d, path, mpp_override, err);
    } else {
        free(d->note);
        if (!(d->note = strdup("no thumbnail: a QuPath export has no image")))
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    char title[1200];
    snprintf(title, sizeof title, "%s: IHC %s, %s", patient, hs_her2_call_name(m->ihc_score),
             hs_her2_pattern_name(m->pattern));
    hs_slidemap_opts o;
    hs_slidemap_opts_default(&o);
    o.title = title;
    return rc == HS_OK ? hs_slidemap_write(base, mask, d, &o, err) : rc;
}

typedef struct draw_ctx {
    const hs_slidemap_data *d;
    const hs_slidemap_opts *o;
} draw_ctx;

static int draw_cb(cairo_t *cr, double w, double h, void *ctx, hs_error *err)
{
    draw_ctx *c = ctx;
    return hs_slidemap_draw(cr, w, h, c->d, c->o, err);
}

int hs_slidemap_write(const char *base, unsigned mask, const hs_slidemap_data *d, const hs_slidemap_opts *o,
                      hs_error *err)
{
    if (!d || !o)
        return hs_error_set(err, HS_EINVAL, "hs_slidemap_write: NULL argument");
    double w, h;
    hs_slidemap_size(d, o, &w, &h);
    draw_ctx c = {d, o};
    return hs_fig_write(base, mask, w, h, draw_cb, &c, err);
}
