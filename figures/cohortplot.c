/*
 * cohortplot: the cohort figure (see cohortplot.h).  The metric's panel runs
 * across the top; the two HER2 bar charts sit side by side below it.  Sizes
 * and the binning rule: docs/figures.md.
 */
#include "figures/cohortplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures/canvas.h"
#include "figures/figcsv.h"
#include "scoring/her2.h"

#define FIG_W 504.0        /* 7 in: the full text width of most journals */
#define MARGIN 10.0        /* white border */
#define FS_TITLE 12.0      /* title */
#define FS_HEAD 10.0       /* panel headings */
#define FS_TEXT 9.0        /* axes, bar labels, counts, notes */
#define HEAD_H 16.0        /* a heading line */
#define NOTE_H 13.0        /* a note line */
#define TOP_H 150.0        /* the metric panel's plot area */
#define BOTTOM_H 110.0     /* the HER2 panels' plot area */
#define COUNT_ROOM 13.0    /* above the tallest bar: its count */
#define LABEL_H 14.0       /* bar labels under the baseline */
#define AXIS_W 0.75        /* axes, ticks, bar outlines */
#define CUT_W 1.5          /* the cutpoint line */
#define BAR_FRAC 0.7       /* a bar's share of its slot in the bar charts */
#define Y_AXIS_W 34.0      /* the histogram's y axis: tick labels and title */
#define PANEL_GAP 24.0     /* between the two HER2 panels */
#define IHC_W 170.0        /* the IHC panel's width: 5 short labels; the categories' long names get the rest */
#define MAX_BREAKS 64      /* Sturges gives 1 + log2(n) classes: 64 covers any cohort there is */

void hs_cohortplot_opts_default(hs_cohortplot_opts *o)
{
    o->title = NULL;
    o->cut = NAN;
    o->cut_optimal = 0;
    o->cut_source = NULL;
}

/* The cut's label: "cut 0.5", "optimal cut 0.465 (maxstat, DFS)". */
static void cut_label(char *buf, size_t size, const hs_cohortplot_opts *o)
{
    char num[32];
    hs_fig_num(num, sizeof num, o->cut, 3);
    const char *src = o->cut_source && *o->cut_source ? o->cut_source : NULL;
    if (o->cut_optimal)
        snprintf(buf, size, "optimal cut %s (maxstat%s%s)", num, src ? ", " : "", src ? src : "");
    else
        snprintf(buf, size, "cut %s%s%s%s", num, src ? " (" : "", src ? src : "", src ? ")" : "");
}

void hs_cohortplot_data_free(hs_cohortplot_data *d)
{
    if (!d)
        return;
    free(d->metric);
    free(d->value);
    free(d);
}

/* ---- binning (R's hist) ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

size_t hs_cohortplot_breaks(const double *x, size_t n, double *breaks, size_t max)
{
    if (!x || n == 0)
        return 0;
    double lo = x[0], hi = x[0];
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return 0;
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    /* nclass.Sturges: ceiling(log2(length(x)) + 1) */
    int k = (int)ceil(log2((double)n) + 1);
    return hs_fig_pretty_min(lo, hi, k, 1, breaks, max);
}

size_t hs_cohortplot_bin(const double *x, size_t n, const double *breaks, size_t nb, size_t *counts)
{
    if (nb < 2)
        return 0;
    size_t nbin = nb - 1, counted = 0;
    memset(counts, 0, nbin * sizeof *counts);
    /* diff.fuzz = 1e-7 * median(diff(breaks)) */
    double *w = malloc(nbin * sizeof *w);
    double fuzz = 0;
    if (w) {
        for (size_t i = 0; i < nbin; i++)
            w[i] = breaks[i + 1] - breaks[i];
        qsort(w, nbin, sizeof *w, cmp_double);
        fuzz = 1e-7 * (nbin % 2 ? w[nbin / 2] : (w[nbin / 2 - 1] + w[nbin / 2]) / 2);
        free(w);
    }
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (!isfinite(v) || v < breaks[0] - fuzz || v > breaks[nbin] + fuzz)
            continue;
        /* bin j holds (breaks[j] + fuzz, breaks[j+1] + fuzz]; bin 0 from breaks[0] - fuzz */
        size_t j = 0;
        while (j + 1 < nbin && v > breaks[j + 1] + fuzz)
            j++;
        counts[j]++;
        counted++;
    }
    return counted;
}

/* ---- the data ---- */

static int ihc_index(int c)
{
    return c >= HS_CALL_0 && c <= HS_CALL_3 ? c : HS_COHORTPLOT_NIHC - 1;
}

static int cat_index(int k)
{
    return k >= HS_HER2_NULL && k <= HS_HER2_POSITIVE ? k : HS_COHORTPLOT_NCAT - 1;
}

static int pat_index(int p)
{
    return p >= HS_PATTERN_HOMOGENEOUS && p <= HS_PATTERN_SCATTERED ? p : HS_COHORTPLOT_NPAT - 1;
}

static hs_cohortplot_data *data_alloc(const char *metric, size_t n)
{
    hs_cohortplot_data *d = calloc(1, sizeof *d);
    if (!d || !(d->metric = strdup(metric)) || !(d->value = malloc((n ? n : 1) * sizeof *d->value))) {
        hs_cohortplot_data_free(d);
        return NULL;
    }
    d->flag = !strcmp(metric, "heterogeneous");
    d->nslide = n;
    return d;
}

int hs_cohortplot_from_rows(hs_cohortplot_data **out, const hs_score_row *rows, size_t n, const char *metric,
                            hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "no output pointer");
    *out = NULL;
    if (!rows || n == 0 || !metric)
        return hs_error_set(err, HS_EINVAL, "no slides or no metric to draw");
    int col = -1;
    for (int j = 0; j < HS_SCORE_NCOL; j++)
        if (!strcmp(hs_score_col[j], metric) && hs_score_col_kind[j] == HS_SCOL_NUMBER)
            col = j;
    if (col < 0)
        return hs_error_set(err, HS_EINVAL, "'%s' is not a numeric score column", metric);
    hs_cohortplot_data *d = data_alloc(metric, n);
    if (!d)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const hs_score_row *r = &rows[i];
        if (!r->ok) {
            d->nfailed++;
            continue;
        }
        d->ihc[ihc_index(r->m.ihc_score)]++;
        d->category[cat_index(r->m.her2_class)]++;
        d->pattern[pat_index(r->m.pattern)]++;
        double v = hs_score_row_number(r, col);
        if (isfinite(v))
            d->value[d->nvalue++] = v;
        else
            d->nmissing++;
    }
    qsort(d->value, d->nvalue, sizeof *d->value, cmp_double);
    *out = d;
    return HS_OK;
}

/* The index of text among names[0..n-2] ("NA" and only "NA" is the last), or -1. */
static int name_index(const char *text, const char *(*name)(int), int n)
{
    for (int k = 0; k + 1 < n; k++)
        if (!strcmp(name(k), text))
            return k;
    return strcmp(text, "NA") ? -1 : n - 1;
}

static const char *ihc_name(int k) { return hs_her2_call_name((hs_call)k); }
static const char *cat_name(int k) { return hs_her2_category_name((hs_her2_class)k); }
static const char *pat_name(int k) { return hs_her2_pattern_name((hs_pattern)k); }

int hs_cohortplot_load(hs_cohortplot_data **out, const char *path, const char *metric, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "no output pointer");
    *out = NULL;
    if (!path || !metric || !*path)
        return hs_error_set(err, HS_EINVAL, "no table or no metric");
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    const char *file = slash ? slash + 1 : path;
    if (!dir)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    const char *cols[] = {"status", "ihc_score", "her2_class", "pattern", metric};
    hs_figcsv *t = NULL;
    hs_cohortplot_data *d = NULL;
    int rc = hs_figcsv_read(&t, dir, file, cols, 5, 0, err);
    free(dir);
    if (rc != HS_OK)
        return rc;
    if (t->nrow == 0) {
        rc = hs_error_set(err, HS_EDATA, "%s: no slides", t->path);
        goto done;
    }
    if (!(d = data_alloc(metric, t->nrow))) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < t->nrow; i++) {
        char *const *c = &t->cell[i * 5];
        if (strcmp(c[0], "ok")) {
            d->nfailed++;
            continue;
        }
        int a = name_index(c[1], ihc_name, HS_COHORTPLOT_NIHC), b = name_index(c[2], cat_name, HS_COHORTPLOT_NCAT),
            p = name_index(c[3], pat_name, HS_COHORTPLOT_NPAT);
        if (a < 0 || b < 0 || p < 0) {
            rc = hs_error_set(err, HS_EDATA, "%s:%ld: '%s' is not %s", t->path, t->line[i],
                              a < 0 ? c[1] : b < 0 ? c[2] : c[3],
                              a < 0 ? "an IHC score" : b < 0 ? "a HER2 category" : "a heterogeneity pattern");
            goto done;
        }
        d->ihc[a]++;
        d->category[b]++;
        d->pattern[p]++;
        double v;
        if ((rc = hs_figcsv_num(t, i, 4, &v, err)) != HS_OK)
            goto done;
        if (isfinite(v))
            d->value[d->nvalue++] = v;
        else
            d->nmissing++;
    }
    qsort(d->value, d->nvalue, sizeof *d->value, cmp_double);
    rc = HS_OK;
done:
    hs_figcsv_free(t);
    if (rc != HS_OK)
        hs_cohortplot_data_free(d);
    else
        *out = d;
    return rc;
}

/* ---- the table ---- */

int hs_cohortplot_table(FILE *f, const hs_cohortplot_data *d, hs_error *err)
{
    if (!f || !d)
        return hs_error_set(err, HS_EINVAL, "hs_cohortplot_table: NULL argument");
    fputs("panel,label,count,lower,upper\n", f);
    if (d->flag) {
        for (int k = 0; k < HS_COHORTPLOT_NPAT; k++)
            fprintf(f, "pattern,%s,%zu,NA,NA\n", pat_name(k < HS_COHORTPLOT_NPAT - 1 ? k : -1), d->pattern[k]);
    } else if (d->nvalue) {
        double br[MAX_BREAKS];
        size_t counts[MAX_BREAKS];
        size_t nb = hs_cohortplot_breaks(d->value, d->nvalue, br, MAX_BREAKS);
        if (nb > MAX_BREAKS)
            return hs_error_set(err, HS_ENOMEM, "more than %d histogram breaks", MAX_BREAKS);
        hs_cohortplot_bin(d->value, d->nvalue, br, nb, counts);
        for (size_t j = 0; j + 1 < nb; j++)
            fprintf(f, "histogram,%s%.17g;%.17g],%zu,%.17g,%.17g\n", j ? "(" : "[", br[j], br[j + 1], counts[j], br[j],
                    br[j + 1]);
    }
    for (int k = 0; k < HS_COHORTPLOT_NIHC; k++)
        fprintf(f, "ihc_score,%s,%zu,NA,NA\n", ihc_name(k < HS_COHORTPLOT_NIHC - 1 ? k : -1), d->ihc[k]);
    for (int k = 0; k < HS_COHORTPLOT_NCAT; k++)
        fprintf(f, "her2_class,%s,%zu,NA,NA\n", cat_name(k < HS_COHORTPLOT_NCAT - 1 ? k : -1), d->category[k]);
    fprintf(f, "total,slides,%zu,NA,NA\ntotal,failed,%zu,NA,NA\ntotal,metric_n,%zu,NA,NA\ntotal,metric_missing,%zu,NA,NA\n",
            d->nslide, d->nfailed, d->nvalue, d->nmissing);
    return ferror(f) ? hs_error_set(err, HS_EIO, "cannot write the table") : HS_OK;
}

/* ---- drawing ---- */

typedef struct layout {
    double y_title, y_head, y_top0, y_top1;     /* metric panel: heading, plot area */
    double y_head2, y_bot0, y_bot1;             /* HER2 panels: heading, plot area */
    double y_caption, h;
} layout;

static void do_layout(const hs_cohortplot_opts *o, layout *L)
{
    double y = MARGIN;
    if (o->title && *o->title) {
        L->y_title = y;
        y += FS_TITLE * 1.6;
    }
    L->y_head = y;
    y += HEAD_H + NOTE_H;
    L->y_top0 = y + COUNT_ROOM;
    L->y_top1 = L->y_top0 + TOP_H;
    y = L->y_top1 + LABEL_H + NOTE_H + 10;
    L->y_head2 = y;
    y += HEAD_H;
    L->y_bot0 = y + COUNT_ROOM;
    L->y_bot1 = L->y_bot0 + BOTTOM_H;
    L->y_caption = L->y_bot1 + LABEL_H + 6;
    L->h = L->y_caption + NOTE_H + MARGIN;
}

void hs_cohortplot_size(const hs_cohortplot_data *d, const hs_cohortplot_opts *o, double *w_pt, double *h_pt)
{
    layout L = {0};
    hs_cohortplot_opts def;
    hs_cohortplot_opts_default(&def);
    (void)d;
    do_layout(o ? o : &def, &L);
    *w_pt = FIG_W;
    *h_pt = ceil(L.h);
}

/*
 * A bar chart in [x0, x1] x [y0, y1] (y1 the baseline): one bar per count,
 * its count above it, its label below; the tallest bar fills the area.
 */
static void bars(cairo_t *cr, double x0, double x1, double y0, double y1, const char *const *label,
                 const size_t *count, int n, hs_rgb colour)
{
    size_t max = 1;
    for (int k = 0; k < n; k++)
        if (count[k] > max)
            max = count[k];
    double slot = (x1 - x0) / n;
    hs_fig_font(cr, FS_TEXT, 0);
    for (int k = 0; k < n; k++) {
        double xc = x0 + slot * (k + 0.5), bw = slot * BAR_FRAC;
        double bh = (y1 - y0) * (double)count[k] / (double)max;
        if (count[k]) {
            hs_fig_set_rgb(cr, colour, 1);
            cairo_rectangle(cr, xc - bw / 2, y1 - bh, bw, bh);
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
        hs_fig_textf(cr, xc, y1 - bh - 2, HS_HALIGN_CENTER, HS_VALIGN_BOTTOM, "%zu", count[k]);
        hs_fig_text(cr, xc, y1 + 3, HS_HALIGN_CENTER, HS_VALIGN_TOP, label[k]);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, AXIS_W);
    cairo_move_to(cr, x0, y1);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
}

/* The histogram of d->value with the cut, in [x0, x1] x [y0, y1]. */
static int histogram(cairo_t *cr, double x0, double x1, double y0, double y1, const hs_cohortplot_data *d,
                     const hs_cohortplot_opts *o, hs_error *err)
{
    hs_fig_font(cr, FS_TEXT, 0);
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (!d->nvalue) {
        hs_fig_textf(cr, (x0 + x1) / 2, (y0 + y1) / 2, HS_HALIGN_CENTER, HS_VALIGN_MIDDLE,
                     "no scored slide has a value of %s", d->metric);
        return HS_OK;
    }
    double br[MAX_BREAKS], yt[16], xt[16];
    size_t counts[MAX_BREAKS];
    size_t nb = hs_cohortplot_breaks(d->value, d->nvalue, br, MAX_BREAKS);
    if (nb < 2 || nb > MAX_BREAKS)
        return hs_error_set(err, HS_EDATA, "%s: no histogram breaks", d->metric);
    hs_cohortplot_bin(d->value, d->nvalue, br, nb, counts);
    size_t cmax = 0;
    for (size_t j = 0; j + 1 < nb; j++)
        cmax = counts[j] > cmax ? counts[j] : cmax;
    size_t nyt = hs_fig_pretty(0, (double)cmax, 4, yt, 16);
    if (nyt > 16)
        nyt = 16;
    double ymax = yt[nyt - 1] > 0 ? yt[nyt - 1] : 1;
    /* the x axis spans the breaks and the cut */
    double lo = br[0], hi = br[nb - 1];
    int cut = isfinite(o->cut);
    if (cut) {
        lo = fmin(lo, o->cut);
        hi = fmax(hi, o->cut);
    }
    double ax0 = x0 + Y_AXIS_W, sx = (x1 - ax0) / (hi - lo), sy = (y1 - y0) / ymax;
#define XP(v) (ax0 + ((v) - lo) * sx)
#define YP(v) (y1 - (v) * sy)
    double bwmin = INFINITY;
    for (size_t j = 0; j + 1 < nb; j++) {
        double a = XP(br[j]), b = XP(br[j + 1]), t = YP((double)counts[j]);
        bwmin = fmin(bwmin, b - a);
        if (!counts[j])
            continue;
        hs_fig_set_rgb(cr, hs_fig_palette(0), 1);
        cairo_rectangle(cr, a, t, b - a, y1 - t);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, AXIS_W);
        cairo_stroke(cr);
    }
    /* counts over the bins when every one fits its bin */
    cairo_set_source_rgb(cr, 0, 0, 0);
    char buf[64];
    snprintf(buf, sizeof buf, "%zu", cmax);
    if (hs_fig_text_width(cr, buf) + 2 <= bwmin)
        for (size_t j = 0; j + 1 < nb; j++)
            if (counts[j])
                hs_fig_textf(cr, (XP(br[j]) + XP(br[j + 1])) / 2, YP((double)counts[j]) - 2, HS_HALIGN_CENTER,
                             HS_VALIGN_BOTTOM, "%zu", counts[j]);
    /* axes */
    cairo_set_line_width(cr, AXIS_W);
    cairo_move_to(cr, ax0, y1);
    cairo_line_to(cr, x1, y1);
    cairo_move_to(cr, ax0, y1);
    cairo_line_to(cr, ax0, YP(ymax));
    cairo_stroke(cr);
    for (size_t i = 0; i < nyt; i++) {
        cairo_move_to(cr, ax0, YP(yt[i]));
        cairo_line_to(cr, ax0 - 3, YP(yt[i]));
        cairo_stroke(cr);
        hs_fig_textf(cr, ax0 - 5, YP(yt[i]), HS_HALIGN_RIGHT, HS_VALIGN_MIDDLE, "%.0f", yt[i]);
    }
    cairo_save(cr);
    cairo_translate(cr, x0 + 6, (y0 + y1) / 2);
    cairo_rotate(cr, -M_PI / 2);
    hs_fig_text(cr, 0, 0, HS_HALIGN_CENTER, HS_VALIGN_MIDDLE, "Slides");
    cairo_restore(cr);
    /* x ticks: the breaks, or pretty() of them when there are many */
    size_t nxt = nb <= 11 ? nb : hs_fig_pretty(lo, hi, 5, xt, 16);
    const double *xv = nb <= 11 ? br : xt;
    if (nxt > 16)
        nxt = 16;
    int dec = hs_fig_tick_decimals(xv, nxt);
    for (size_t i = 0; i < nxt; i++) {
        if (xv[i] < lo - 1e-9 * (hi - lo) || xv[i] > hi + 1e-9 * (hi - lo))
            continue;
        cairo_move_to(cr, XP(xv[i]), y1);
        cairo_line_to(cr, XP(xv[i]), y1 + 3);
        cairo_stroke(cr);
        hs_fig_textf(cr, XP(xv[i]), y1 + 4, HS_HALIGN_CENTER, HS_VALIGN_TOP, "%.*f", dec, xv[i]);
    }
    hs_fig_text(cr, (ax0 + x1) / 2, y1 + LABEL_H + 1, HS_HALIGN_CENTER, HS_VALIGN_TOP, d->metric);
    if (cut) {
        double xc = XP(o->cut);
        hs_fig_set_rgb(cr, hs_fig_palette(1), 1);
        cairo_set_line_width(cr, CUT_W);
        double dash[] = {4, 2};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, xc, y1);
        cairo_line_to(cr, xc, y0 - COUNT_ROOM + 2);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cut_label(buf, sizeof buf, o);
        int right = xc + 4 + hs_fig_text_width(cr, buf) <= x1;
        hs_fig_text(cr, right ? xc + 4 : xc - 4, y0 - COUNT_ROOM + 2, right ? HS_HALIGN_LEFT : HS_HALIGN_RIGHT,
                    HS_VALIGN_TOP, buf);
    }
#undef XP
#undef YP
    return HS_OK;
}

int hs_cohortplot_draw(cairo_t *cr, double w, double h, const hs_cohortplot_data *d, const hs_cohortplot_opts *o,
                       hs_error *err)
{
    if (!cr || !d || !o)
        return hs_error_set(err, HS_EINVAL, "no cohort to draw");
    (void)h;
    layout L = {0};
    do_layout(o, &L);
    double x0 = MARGIN, x1 = w - MARGIN;
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (o->title && *o->title) {
        hs_fig_font(cr, FS_TITLE, 1);
        hs_fig_text(cr, x0, L.y_title, HS_HALIGN_LEFT, HS_VALIGN_TOP, o->title);
    }
    size_t scored = d->nslide - d->nfailed;
    int rc = HS_OK;
    hs_fig_font(cr, FS_HEAD, 1);
    if (d->flag) {
        size_t het = 0;
        for (int k = HS_PATTERN_CLUSTERED; k <= HS_PATTERN_SCATTERED; k++)
            het += d->pattern[k];
        hs_fig_text(cr, x0, L.y_head, HS_HALIGN_LEFT, HS_VALIGN_TOP, "Heterogeneity pattern");
        hs_fig_font(cr, FS_TEXT, 0);
        hs_fig_textf(cr, x0, L.y_head + HEAD_H, HS_HALIGN_LEFT, HS_VALIGN_TOP,
                     "heterogeneous (pattern not homogeneous): %zu of %zu scored slides; NA: no tumour cells", het,
                     scored);
        const char *lab[HS_COHORTPLOT_NPAT];
        for (int k = 0; k < HS_COHORTPLOT_NPAT; k++)
            lab[k] = pat_name(k < HS_COHORTPLOT_NPAT - 1 ? k : -1);
        bars(cr, x0 + Y_AXIS_W, x1, L.y_top0, L.y_top1, lab, d->pattern, HS_COHORTPLOT_NPAT, hs_fig_palette(0));
        hs_fig_font(cr, FS_TEXT, 0);
        if (isfinite(o->cut)) {
            char buf[128];
            cut_label(buf, sizeof buf, o);
            hs_fig_text(cr, x0, L.y_top1 + LABEL_H + 1, HS_HALIGN_LEFT, HS_VALIGN_TOP, buf);
        }
    } else {
        hs_fig_textf(cr, x0, L.y_head, HS_HALIGN_LEFT, HS_VALIGN_TOP, "Heterogeneity: %s", d->metric);
        hs_fig_font(cr, FS_TEXT, 0);
        hs_fig_textf(cr, x0, L.y_head + HEAD_H, HS_HALIGN_LEFT, HS_VALIGN_TOP,
                     "n = %zu scored slides with a value, %zu missing (NA); bins: Sturges' rule, R's hist() breaks",
                     d->nvalue, d->nmissing);
        rc = histogram(cr, x0, x1, L.y_top0, L.y_top1, d, o, err);
    }
    /* the HER2 panels */
    double left1 = x0 + IHC_W, right0 = left1 + PANEL_GAP;
    cairo_set_source_rgb(cr, 0, 0, 0);
    hs_fig_font(cr, FS_HEAD, 1);
    hs_fig_text(cr, x0, L.y_head2, HS_HALIGN_LEFT, HS_VALIGN_TOP, "HER2 IHC score");
    hs_fig_text(cr, right0, L.y_head2, HS_HALIGN_LEFT, HS_VALIGN_TOP, "HER2 category");
    const char *ilab[HS_COHORTPLOT_NIHC], *clab[HS_COHORTPLOT_NCAT];
    for (int k = 0; k < HS_COHORTPLOT_NIHC; k++)
        ilab[k] = ihc_name(k < HS_COHORTPLOT_NIHC - 1 ? k : -1);
    for (int k = 0; k < HS_COHORTPLOT_NCAT; k++)
        clab[k] = cat_name(k < HS_COHORTPLOT_NCAT - 1 ? k : -1);
    bars(cr, x0, left1, L.y_bot0, L.y_bot1, ilab, d->ihc, HS_COHORTPLOT_NIHC, hs_fig_palette(2));
    bars(cr, right0, x1, L.y_bot0, L.y_bot1, clab, d->category, HS_COHORTPLOT_NCAT, hs_fig_palette(3));
    cairo_set_source_rgb(cr, 0, 0, 0);
    hs_fig_font(cr, FS_TEXT, 0);
    hs_fig_textf(cr, x0, L.y_caption, HS_HALIGN_LEFT, HS_VALIGN_TOP,
                 "%zu slides: %zu scored, %zu failed (not scored: in no bar); NA: no tumour cells", d->nslide, scored,
                 d->nfailed);
    return rc;
}

typedef struct draw_ctx {
    const hs_cohortplot_data *d;
    const hs_cohortplot_opts *o;
} draw_ctx;

static int draw_cb(cairo_t *cr, double w, double h, void *ctx, hs_error *err)
{
    draw_ctx *c = ctx;
    return hs_cohortplot_draw(cr, w, h, c->d, c->o, err);
}

int hs_cohortplot_write(const char *base, unsigned mask, const hs_cohortplot_data *d, const hs_cohortplot_opts *o,
                        hs_error *err)
{
    if (!d || !o)
        return hs_error_set(err, HS_EINVAL, "no cohort data");
    double w, h;
    hs_cohortplot_size(d, o, &w, &h);
    draw_ctx c = {d, o};
    return hs_fig_write(base, mask, w, h, draw_cb, &c, err);
}
