/*
 * canvas: PNG/PDF/SVG surfaces drawn in points, written atomically, and the
 * drawing helpers the figures share (see canvas.h; constants in
 * docs/figures.md).  Every surface writes into a memory buffer first, so a
 * figure is either written whole or not at all.
 */
#include "figures/canvas.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include "util/hs_atomic.h"
#include "util/hs_mem.h"

/* Largest side accepted: 200 inches, far beyond any page, small enough for a PNG at 300 dpi to fit an int. */
#define MAX_SIDE_PT 14400.0
/* Default text size: 10 pt is the usual body size of figure text in journals. */
#define DEFAULT_FONT_PT 10.0
/* The PDF's creation and modification dates: fixed, so that a figure's bytes depend only on its data. */
#define FIXED_PDF_DATE "2000-01-01T00:00:00Z"

typedef struct membuf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} membuf;

struct hs_canvas {
    hs_fig_format format;
    double w, h;              /* points */
    cairo_surface_t *surface;
    cairo_t *cr;
    membuf out;               /* the file's bytes (PDF/SVG stream as drawn; PNG after finishing) */
    int finished;
};

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int len)
{
    membuf *b = closure;
    if (b->oom)
        return CAIRO_STATUS_NO_MEMORY;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return CAIRO_STATUS_NO_MEMORY;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

int hs_fig_formats_parse(const char *list, unsigned *mask, hs_error *err)
{
    if (mask)
        *mask = 0;
    if (!list || !mask)
        return hs_error_set(err, HS_EINVAL, "no format list");
    unsigned m = 0;
    const char *s = list;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 3 && strncmp(s, "png", 3) == 0)
            m |= HS_FIG_PNG;
        else if (len == 3 && strncmp(s, "pdf", 3) == 0)
            m |= HS_FIG_PDF;
        else if (len == 3 && strncmp(s, "svg", 3) == 0)
            m |= HS_FIG_SVG;
        else
            return hs_error_set(err, HS_EINVAL, "unknown figure format '%.*s' (png, pdf or svg)", (int)len, s);
        if (!e)
            break;
        s = e + 1;
    }
    *mask = m;
    return HS_OK;
}

const char *hs_fig_format_ext(hs_fig_format f)
{
    switch (f) {
    case HS_FIG_PNG:
    case HS_FIG_PNG_PREVIEW: return "png";
    case HS_FIG_PDF: return "pdf";
    case HS_FIG_SVG: return "svg";
    }
    return NULL;
}

static int cairo_fail(hs_error *err, cairo_status_t st, const char *what)
{
    return hs_error_set(err, st == CAIRO_STATUS_NO_MEMORY ? HS_ENOMEM : HS_EDATA, "cairo: %s: %s", what,
                        cairo_status_to_string(st));
}

void hs_fig_font(cairo_t *cr, double size_pt, int bold)
{
    cairo_select_font_face(cr, HS_FIG_FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size_pt);
}

int hs_canvas_open(hs_canvas **c, hs_fig_format f, double width_pt, double height_pt, hs_error *err)
{
    if (!c)
        return hs_error_set(err, HS_EINVAL, "no canvas pointer");
    *c = NULL;
    if (!hs_fig_format_ext(f))
        return hs_error_set(err, HS_EINVAL, "not one figure format: %d", (int)f);
    if (!(width_pt > 0 && width_pt <= MAX_SIDE_PT && height_pt > 0 && height_pt <= MAX_SIDE_PT))
        return hs_error_set(err, HS_EINVAL, "figure size %g x %g pt is not in (0, %g]", width_pt, height_pt,
                            MAX_SIDE_PT);
    hs_canvas *cv = calloc(1, sizeof *cv);
    if (!cv)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    cv->format = f;
    cv->w = width_pt;
    cv->h = height_pt;
    double scale = 1;
    switch (f) {
    case HS_FIG_PNG:
    case HS_FIG_PNG_PREVIEW:
        scale = (f == HS_FIG_PNG ? HS_FIG_PNG_DPI : HS_FIG_PREVIEW_DPI) / 72.0;
        cv->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)ceil(width_pt * scale),
                                                 (int)ceil(height_pt * scale));
        break;
    case HS_FIG_PDF:
        cv->surface = cairo_pdf_surface_create_for_stream(membuf_write, &cv->out, width_pt, height_pt);
        if (cairo_surface_status(cv->surface) == CAIRO_STATUS_SUCCESS) {
            cairo_pdf_surface_set_metadata(cv->surface, CAIRO_PDF_METADATA_CREATE_DATE, FIXED_PDF_DATE);
            cairo_pdf_surface_set_metadata(cv->surface, CAIRO_PDF_METADATA_MOD_DATE, FIXED_PDF_DATE);
            cairo_pdf_surface_set_metadata(cv->surface, CAIRO_PDF_METADATA_CREATOR, "hetsurv " HS_VERSION);
        }
        break;
    case HS_FIG_SVG:
        cv->surface = cairo_svg_surface_create_for_stream(membuf_write, &cv->out, width_pt, height_pt);
        if (cairo_surface_status(cv->surface) == CAIRO_STATUS_SUCCESS) {
            cairo_svg_surface_restrict_to_version(cv->surface, CAIRO_SVG_VERSION_1_1);
            cairo_svg_surface_set_document_unit(cv->surface, CAIRO_SVG_UNIT_PT);
        }
        break;
    }
    cairo_status_t st = cairo_surface_status(cv->surface);
    if (st != CAIRO_STATUS_SUCCESS) {
        int rc = cairo_fail(err, st, "cannot create the surface");
        hs_canvas_free(cv);
        return rc;
    }
    cv->cr = cairo_create(cv->surface);
    if ((st = cairo_status(cv->cr)) != CAIRO_STATUS_SUCCESS) {
        int rc = cairo_fail(err, st, "cannot create the context");
        hs_canvas_free(cv);
        return rc;
    }
    cairo_scale(cv->cr, scale, scale);
    /* Hinting off: glyph positions and advances follow the font's outlines, not the machine's settings. */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(cv->cr, fo);
    cairo_font_options_destroy(fo);
    hs_fig_font(cv->cr, DEFAULT_FONT_PT, 0);
    cairo_set_source_rgb(cv->cr, 1, 1, 1);
    cairo_paint(cv->cr);
    cairo_set_source_rgb(cv->cr, 0, 0, 0);
    *c = cv;
    return HS_OK;
}

cairo_t *hs_canvas_cr(hs_canvas *c)
{
    return c ? c->cr : NULL;
}

/*
 * cairo's SVG writer names each surface "surfaceN" and each embedded raster
 * image "imageN" after counters global to the process, so the same figure
 * drawn after others would get other ids.  Renumbers each kind 1, 2, ... in
 * order of first appearance, into a new buffer (a new id is at most 27 bytes
 * where the old one had at least 6).
 */
static int svg_renumber(membuf *b)
{
    static const char *const keys[] = {"surface", "image"};
    enum { NKEY = sizeof keys / sizeof keys[0] };
    unsigned long *from[NKEY] = {NULL};
    size_t nmap[NKEY] = {0}, cap[NKEY] = {0}, w = 0;
    unsigned char *out = malloc(6 * b->n + 64);
    if (!out)
        return HS_ENOMEM;
    for (size_t r = 0; r < b->n;) {
        int q = -1;
        size_t klen = 0;
        for (int j = 0; j < NKEY && q < 0; j++) {
            klen = strlen(keys[j]);
            if (r + klen < b->n && memcmp(b->p + r, keys[j], klen) == 0 && b->p[r + klen] >= '0' &&
                b->p[r + klen] <= '9')
                q = j;
        }
        if (q >= 0) {
            const char *key = keys[q];
            size_t e = r + klen;
            unsigned long v = 0;
            while (e < b->n && b->p[e] >= '0' && b->p[e] <= '9' && v < 100000000UL)
                v = v * 10 + (unsigned long)(b->p[e++] - '0');
            size_t k = 0;
            while (k < nmap[q] && from[q][k] != v)
                k++;
            if (k == nmap[q]) {
                if (hs_reserve((void **)&from[q], &cap[q], nmap[q] + 1, sizeof *from[q], 16) != HS_OK) {
                    for (int j = 0; j < NKEY; j++)
                        free(from[j]);
                    free(out);
                    return HS_ENOMEM;
                }
                from[q][nmap[q]++] = v;
            }
            char num[32];
            int len = snprintf(num, sizeof num, "%s%zu", key, k + 1);
            memcpy(out + w, num, (size_t)len);
            w += (size_t)len;
            r = e;
        } else {
            out[w++] = b->p[r++];
        }
    }
    free(b->p);
    b->p = out;
    b->n = w;
    b->cap = w;
    for (int j = 0; j < NKEY; j++)
        free(from[j]);
    return HS_OK;
}

/* Finishes the surface once; the file's bytes are then in c->out. */
static int finish(hs_canvas *c, hs_error *err)
{
    if (c->finished)
        return HS_OK;
    cairo_status_t st = cairo_status(c->cr);
    if (st != CAIRO_STATUS_SUCCESS)
        return cairo_fail(err, st, "drawing failed");
    if (c->format == HS_FIG_PNG || c->format == HS_FIG_PNG_PREVIEW) {
        cairo_surface_flush(c->surface);
        st = cairo_surface_write_to_png_stream(c->surface, membuf_write, &c->out);
    } else {
        cairo_surface_finish(c->surface);
        st = cairo_surface_status(c->surface);
    }
    if (c->out.oom)
        st = CAIRO_STATUS_NO_MEMORY;
    if (st == CAIRO_STATUS_SUCCESS && c->format == HS_FIG_SVG && svg_renumber(&c->out) != HS_OK)
        st = CAIRO_STATUS_NO_MEMORY;
    if (st != CAIRO_STATUS_SUCCESS)
        return cairo_fail(err, st, "cannot finish the figure");
    c->finished = 1;
    return HS_OK;
}

int hs_canvas_save(hs_canvas *c, const char *path, hs_error *err)
{
    if (!c || !path)
        return hs_error_set(err, HS_EINVAL, "no canvas or no path");
    int rc = finish(c, err);
    if (rc != HS_OK)
        return rc;
    char *tmp = NULL;
    FILE *f = hs_atomic_open(path, "wb", &tmp, err);
    if (!f)
        return HS_EIO;
    if (c->out.n && fwrite(c->out.p, 1, c->out.n, f) != c->out.n) {
        int e = errno;
        hs_atomic_abort(f, tmp);
        return hs_error_set(err, HS_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    return hs_atomic_commit(f, tmp, path, err);
}

int hs_canvas_bytes(hs_canvas *c, unsigned char **buf, size_t *n, hs_error *err)
{
    if (buf)
        *buf = NULL;
    if (n)
        *n = 0;
    if (!c || !buf || !n)
        return hs_error_set(err, HS_EINVAL, "no canvas or no buffer");
    int rc = finish(c, err);
    if (rc != HS_OK)
        return rc;
    unsigned char *p = malloc(c->out.n ? c->out.n : 1);
    if (!p)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    if (c->out.n)
        memcpy(p, c->out.p, c->out.n);
    *buf = p;
    *n = c->out.n;
    return HS_OK;
}

void hs_canvas_free(hs_canvas *c)
{
    if (!c)
        return;
    if (c->cr)
        cairo_destroy(c->cr);
    if (c->surface) {
        cairo_surface_finish(c->surface); /* a PDF/SVG still writes into out here, which is freed next */
        cairo_surface_destroy(c->surface);
    }
    free(c->out.p);
    free(c);
}

int hs_fig_write(const char *base, unsigned mask, double w_pt, double h_pt, hs_fig_draw_fn draw, void *ctx,
                 hs_error *err)
{
    if (!base || !draw)
        return hs_error_set(err, HS_EINVAL, "no figure name or no drawing function");
    if (mask == 0 || (mask & ~(unsigned)(HS_FIG_ALL | HS_FIG_PNG_PREVIEW)) ||
        (mask & HS_FIG_PNG && mask & HS_FIG_PNG_PREVIEW))
        return hs_error_set(err, HS_EINVAL, "bad figure format mask %u", mask);
    static const hs_fig_format order[] = {HS_FIG_PNG, HS_FIG_PNG_PREVIEW, HS_FIG_PDF, HS_FIG_SVG};
    size_t blen = strlen(base);
    char *path = malloc(blen + 5);
    if (!path)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    int rc = HS_OK;
    for (size_t i = 0; i < sizeof order / sizeof order[0] && rc == HS_OK; i++) {
        if (!(mask & order[i]))
            continue;
        snprintf(path, blen + 5, "%s.%s", base, hs_fig_format_ext(order[i]));
        hs_canvas *c = NULL;
        rc = hs_canvas_open(&c, order[i], w_pt, h_pt, err);
        if (rc == HS_OK) {
            cairo_t *cr = hs_canvas_cr(c);
            cairo_save(cr);
            rc = draw(cr, w_pt, h_pt, ctx, err);
            cairo_restore(cr);
            if (rc == HS_OK)
                rc = hs_canvas_save(c, path, err);
        }
        hs_canvas_free(c);
    }
    free(path);
    return rc;
}

/* ---- text ---- */

double hs_fig_text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

double hs_fig_line_height(cairo_t *cr)
{
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    return fe.ascent + fe.descent;
}

double hs_fig_text(cairo_t *cr, double x, double y, hs_halign ha, hs_valign va, const char *s)
{
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_text_extents(cr, s, &te);
    cairo_font_extents(cr, &fe);
    double w = te.x_advance;
    if (ha == HS_HALIGN_CENTER)
        x -= w / 2;
    else if (ha == HS_HALIGN_RIGHT)
        x -= w;
    switch (va) {
    case HS_VALIGN_BASELINE: break;
    case HS_VALIGN_TOP: y += fe.ascent; break;
    case HS_VALIGN_MIDDLE: y += (fe.ascent - fe.descent) / 2; break;
    case HS_VALIGN_BOTTOM: y -= fe.descent; break;
    }
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, s);
    cairo_new_path(cr);
    return w;
}

double hs_fig_textf(cairo_t *cr, double x, double y, hs_halign ha, hs_valign va, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return hs_fig_text(cr, x, y, ha, va, buf);
}

/* ---- numbers ---- */

/*
 * R_pretty (R's src/appl/pretty.c, as pretty.default calls it with
 * eps.correct = 0, f.min = 2^-20): the cell, its rounded unit, and the
 * number of units from floor(lo/unit) to ceiling(hi/unit).
 */
size_t hs_fig_pretty(double lo, double hi, int n, double *ticks, size_t max)
{
    return hs_fig_pretty_min(lo, hi, n, n / 3, ticks, max);
}

size_t hs_fig_pretty_min(double lo, double hi, int n, int min_n, double *ticks, size_t max)
{
    if (!isfinite(lo) || !isfinite(hi) || n < 1 || lo > hi || min_n < 0 || min_n > n)
        return 0;
    const double h = 1.5, h5 = 0.5 + 1.5 * h, shrink = 0.75, rounding_eps = 1e-10;
    int ndiv = n;
    double dx = hi - lo, cell, unit;
    int i_small;
    if (dx == 0 && hi == 0) {
        cell = 1;
        i_small = 1;
    } else {
        cell = fmax(fabs(lo), fabs(hi));
        double U = 1 + ((h5 >= 1.5 * h + 0.5) ? 1 / (1 + h) : 1.5 / (1 + h5));
        U *= (ndiv > 1 ? ndiv : 1) * DBL_EPSILON;
        i_small = dx < cell * U * 3;
    }
    if (i_small) {
        if (cell > 10)
            cell = 9 + cell / 10;
        cell *= shrink;
        if (min_n > 1)
            cell /= min_n;
    } else {
        cell = dx;
        if (ndiv > 1)
            cell /= ndiv;
    }
    if (cell < 20 * DBL_MIN)
        cell = 20 * DBL_MIN;
    else if (cell * 10 > DBL_MAX)
        cell = .1 * DBL_MAX;
    double base = pow(10.0, floor(log10(cell)));
    unit = base;
    if (2 * base - cell < h * (cell - unit)) {
        unit = 2 * base;
        if (5 * base - cell < h5 * (cell - unit)) {
            unit = 5 * base;
            if (10 * base - cell < h * (cell - unit))
                unit = 10 * base;
        }
    }
    double ns = floor(lo / unit + rounding_eps), nu = ceil(hi / unit - rounding_eps);
    while (ns * unit > lo + rounding_eps * unit)
        ns--;
    while (nu * unit < hi - rounding_eps * unit)
        nu++;
    int k = (int)(0.5 + nu - ns);
    if (k < min_n) {
        k = min_n - k;
        if (ns >= 0.) {
            nu += k / 2;
            ns -= k / 2 + k % 2;
        } else {
            ns -= k / 2;
            nu += k / 2 + k % 2;
        }
        ndiv = min_n;
    } else {
        ndiv = k;
    }
    /* pretty.default: seq.int(ns*unit, nu*unit, length.out = ndiv + 1), values within 1e-14 cells of 0 set to 0 */
    double l = ns * unit, u = nu * unit;
    size_t count = (size_t)ndiv + 1;
    double by = ndiv > 0 ? (u - l) / ndiv : 0;
    for (size_t i = 0; i < count && i < max; i++) {
        double v = i + 1 == count && ndiv > 0 ? u : l + (double)i * by;
        if (ndiv > 0 && fabs(v) < 1e-14 * by)
            v = 0;
        ticks[i] = v;
    }
    return count;
}

void hs_fig_num(char *buf, size_t size, double v, int digits)
{
    if (isnan(v))
        snprintf(buf, size, "NA");
    else if (isinf(v))
        snprintf(buf, size, v > 0 ? "Inf" : "-Inf");
    else
        snprintf(buf, size, "%.*g", digits, v == 0 ? 0.0 : v);
}

int hs_fig_tick_decimals(const double *ticks, size_t n)
{
    for (int d = 0; d < 6; d++) {
        size_t i;
        for (i = 0; i < n; i++) {
            char a[64], b[64];
            snprintf(a, sizeof a, "%.*f", d, ticks[i]);
            snprintf(b, sizeof b, "%.6g", ticks[i]);
            if (fabs(strtod(a, NULL) - strtod(b, NULL)) > 1e-9 * fmax(1, fabs(ticks[i])))
                break;
        }
        if (i == n)
            return d;
    }
    return 6;
}

void hs_fig_pvalue(char *buf, size_t size, double p)
{
    if (isnan(p))
        snprintf(buf, size, "p = NA");
    else if (p < 0.001)
        snprintf(buf, size, "p < 0.001");
    else
        snprintf(buf, size, "p = %.2g", p);
}

/* ---- colour ---- */

hs_rgb hs_fig_palette(size_t i)
{
    /* Okabe & Ito (2008), "Color Universal Design", as 8-bit sRGB. */
    static const unsigned char rgb[HS_FIG_NPALETTE][3] = {
        {0x00, 0x72, 0xB2}, /* blue */
        {0xD5, 0x5E, 0x00}, /* vermillion */
        {0x00, 0x9E, 0x73}, /* bluish green */
        {0xE6, 0x9F, 0x00}, /* orange */
        {0xCC, 0x79, 0xA7}, /* reddish purple */
        {0x56, 0xB4, 0xE9}, /* sky blue */
        {0xF0, 0xE4, 0x42}, /* yellow */
        {0x00, 0x00, 0x00}, /* black */
    };
    const unsigned char *c = rgb[i % HS_FIG_NPALETTE];
    return (hs_rgb){c[0] / 255.0, c[1] / 255.0, c[2] / 255.0};
}

void hs_fig_set_rgb(cairo_t *cr, hs_rgb c, double alpha)
{
    if (alpha >= 1)
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
    else
        cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}
