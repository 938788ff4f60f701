/*
 * canvas: the drawing surface every hetsurv figure is drawn on, and the
 * helpers the figures share (text with alignment, R's pretty() axis ticks,
 * number formatting, a colour-blind-safe palette).
 *
 * A figure is drawn once, in points (1/72 inch), through a cairo context; the
 * canvas turns it into PNG (at HS_FIG_PNG_DPI), PDF or SVG.  The same drawing
 * calls give byte-identical files from run to run: the PDF carries fixed
 * dates, text uses "DejaVu Sans" (Debian fonts-dejavu-core) through
 * fontconfig with hinting off, so layout does not depend on the machine's
 * font settings.  Constants and their reasons: docs/figures.md.
 *
 * No MPI, no HDF5: the figures can be drawn by any command and by the tests.
 */
#ifndef HS_CANVAS_H
#define HS_CANVAS_H

#include <stddef.h>

#include <cairo.h>

#include "util/hs_error.h"

/* Output formats, as bits of a mask. */
typedef enum { HS_FIG_PNG = 1, HS_FIG_PDF = 2, HS_FIG_SVG = 4, HS_FIG_PNG_PREVIEW = 8 } hs_fig_format;
#define HS_FIG_ALL (HS_FIG_PNG | HS_FIG_PDF | HS_FIG_SVG)

/* PNG resolution: 300 dpi is what journals ask of line art with text at print size. */
#define HS_FIG_PNG_DPI 300.0
/* HS_FIG_PNG_PREVIEW: a .png at 120 dpi (a screen's size at 100% zoom with room to enlarge), for previews such as
 * report.html's slide-map gallery, where 24 photographic maps at 300 dpi would make the page 25 MB; never chosen
 * by --format, which lists the publication formats. */
#define HS_FIG_PREVIEW_DPI 120.0

/* The font family of every figure (Debian fonts-dejavu-core). */
#define HS_FIG_FONT "DejaVu Sans"

/*
 * Parses a comma-separated list of "png", "pdf", "svg" (case-sensitive,
 * repeats allowed, at least one) into *mask.  Returns HS_OK, or HS_EINVAL
 * (NULL argument, empty list, unknown name: named in err); *mask is then 0.
 */
int hs_fig_formats_parse(const char *list, unsigned *mask, hs_error *err) HS_RESULT_USED;

/* The file extension of one format without the dot ("png"), or NULL for a value that is not one format. */
const char *hs_fig_format_ext(hs_fig_format f);

typedef struct hs_canvas hs_canvas;

/*
 * Opens a white canvas of width_pt x height_pt points (finite, > 0, at most
 * 14400 = 200 inches) in format f.  Its cairo context draws in points, with
 * HS_FIG_FONT at 10 pt selected, hinting off.  On success *c owns the canvas
 * (hs_canvas_free) and HS_OK is returned; otherwise *c is NULL and the return
 * is HS_EINVAL (bad argument) or HS_ENOMEM (cairo could not make the surface).
 */
int hs_canvas_open(hs_canvas **c, hs_fig_format f, double width_pt, double height_pt, hs_error *err) HS_RESULT_USED;

/* The canvas's cairo context (owned by the canvas); NULL for a NULL canvas. */
cairo_t *hs_canvas_cr(hs_canvas *c);

/*
 * Finishes the drawing (later drawing calls have no effect) and writes it to
 * path atomically (path.tmp, synced, renamed: util/hs_atomic.h).  May be
 * called more than once, also after hs_canvas_bytes.  Returns HS_OK, or
 * HS_EINVAL (NULL argument), HS_ENOMEM / HS_EDATA (cairo failed while drawing:
 * its reason in err) or HS_EIO (named).
 */
int hs_canvas_save(hs_canvas *c, const char *path, hs_error *err) HS_RESULT_USED;

/*
 * Finishes the drawing like hs_canvas_save and gives the file's bytes in a
 * fresh malloc'd *buf of *n bytes (the caller frees it), e.g. for embedding
 * in an HTML page.  Failures as hs_canvas_save, with *buf NULL and *n 0.
 */
int hs_canvas_bytes(hs_canvas *c, unsigned char **buf, size_t *n, hs_error *err) HS_RESULT_USED;

/* Frees a canvas; NULL is a no-op. */
void hs_canvas_free(hs_canvas *c);

/*
 * Draws a figure of w x h points.  ctx is the figure's data.  Returns HS_OK,
 * or a negative hs_status with err filled (the canvas is then not written).
 */
typedef int (*hs_fig_draw_fn)(cairo_t *cr, double w, double h, void *ctx, hs_error *err);

/*
 * Draws one figure with draw(ctx) in each format of mask and writes
 * base.png, base.pdf, base.svg (the formats in mask only).  mask must be a
 * non-empty subset of HS_FIG_ALL.  Returns HS_OK or the first failure (of
 * draw, or as hs_canvas_open / hs_canvas_save); files already written stay.
 */
int hs_fig_write(const char *base, unsigned mask, double w_pt, double h_pt, hs_fig_draw_fn draw, void *ctx,
                 hs_error *err) HS_RESULT_USED;

/* ---- drawing helpers ---- */

/* Selects HS_FIG_FONT at size_pt points, bold or regular, on cr (hinting stays off). */
void hs_fig_font(cairo_t *cr, double size_pt, int bold);

typedef enum { HS_HALIGN_LEFT = 0, HS_HALIGN_CENTER = 1, HS_HALIGN_RIGHT = 2 } hs_halign;

/*
 * Vertical anchor of a text line, from the font's ascent and descent (not the
 * ink of the string, so that lines of different text align): BASELINE at y,
 * TOP (ascent at y), MIDDLE (halfway between ascent and descent at y), BOTTOM
 * (descent at y).
 */
typedef enum { HS_VALIGN_BASELINE = 0, HS_VALIGN_TOP = 1, HS_VALIGN_MIDDLE = 2, HS_VALIGN_BOTTOM = 3 } hs_valign;

/* The advance width of s in cr's current font, in user units (points). */
double hs_fig_text_width(cairo_t *cr, const char *s);

/* The font's ascent + descent in cr's current font (the height of a text line). */
double hs_fig_line_height(cairo_t *cr);

/*
 * Draws the UTF-8 string s anchored at (x, y) with the given alignment, in
 * cr's current font and source colour; the horizontal alignment uses the
 * advance width, so a centred label's box is centred on x.  Returns the width.
 */
double hs_fig_text(cairo_t *cr, double x, double y, hs_halign ha, hs_valign va, const char *s);

/* hs_fig_text of a printf-formatted string (at most 511 bytes; longer is cut). */
double hs_fig_textf(cairo_t *cr, double x, double y, hs_halign ha, hs_valign va, const char *fmt, ...)
    HS_FORMAT(6, 7);

/*
 * R's pretty(c(lo, hi), n) with R's defaults (min.n = n %/% 3,
 * shrink.sml = 0.75, high.u.bias = 1.5, u5.bias = 0.5 + 1.5 * 1.5): about n+1
 * equally spaced round values covering [lo, hi].  Writes at most max ticks to
 * ticks[] and returns how many there are (which may exceed max: call again
 * with more room), or 0 for non-finite lo/hi, n < 1 or lo > hi.
 */
size_t hs_fig_pretty(double lo, double hi, int n, double *ticks, size_t max);

/* hs_fig_pretty with R's min.n given (0 <= min_n <= n): hist() calls pretty(range(x), n, min.n = 1). */
size_t hs_fig_pretty_min(double lo, double hi, int n, int min_n, double *ticks, size_t max);

/*
 * Formats v for a label: "%.*g" with digits significant digits, "-0" as "0",
 * NAN as "NA", infinities as "Inf"/"-Inf".  buf holds size bytes.
 */
void hs_fig_num(char *buf, size_t size, double v, int digits);

/*
 * Formats an axis tick so that every tick of one axis shows the same number
 * of decimals: the fewest (0..6) with which each of ticks[0..n-1] prints
 * without loss at 6 significant digits.  Returns that number of decimals;
 * format with "%.*f".
 */
int hs_fig_tick_decimals(const double *ticks, size_t n);

/*
 * Formats a p-value as journals print it: "p < 0.001" below 0.001, else two
 * significant digits ("p = 0.012", "p = 0.43"), "p = 1" for 1, "p = NA" for NAN.
 */
void hs_fig_pvalue(char *buf, size_t size, double p);

/* An sRGB colour, components in [0, 1]. */
typedef struct hs_rgb {
    double r, g, b;
} hs_rgb;

/* Number of colours of the palette before it repeats. */
#define HS_FIG_NPALETTE 8

/*
 * Colour i (mod HS_FIG_NPALETTE) of the Okabe-Ito palette, safe for the
 * common colour-vision deficiencies, in an order that keeps the first colours
 * far apart: blue, vermillion, bluish green, orange, reddish purple, sky blue,
 * yellow, black.
 */
hs_rgb hs_fig_palette(size_t i);

/* Sets cr's source to colour c with opacity alpha in [0, 1]. */
void hs_fig_set_rgb(cairo_t *cr, hs_rgb c, double alpha);

#endif /* HS_CANVAS_H */
