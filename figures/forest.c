/*
 * forest: the forest plot of a Cox model (see forest.h).  Rows are built
 * from the terms at layout time: a header per categorical variable, its
 * reference level when known, then its levels indented.  Sizes:
 * docs/figures.md.
 */
#include "figures/forest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures/canvas.h"
#include "figures/figcsv.h"

#define FIG_W 504.0        /* 7 in: the full text width of most journals */
#define MARGIN 10.0        /* white border */
#define ROW_H 15.0         /* one 9 pt row with room for the CI whisker's end caps */
#define FS_TITLE 12.0      /* title */
#define FS_TEXT 9.0        /* rows, columns, axis */
#define INDENT 10.0        /* levels under their variable */
#define COL_GAP 12.0       /* between text columns and the plot */
#define MIN_PLOT_FRAC 0.35 /* the log axis keeps at least this share of the width */
#define BOX_HALF 3.0       /* half side of the square HR marker */
#define CAP_HALF 3.0       /* half height of a whisker's end cap / arrow */
#define LINE_W 1.0         /* CI whiskers */
#define AXIS_W 0.75        /* axis, ticks, the HR = 1 line */
#define AXIS_MIN 1e-3      /* the axis never extends past 1/1000 .. 1000: beyond, whiskers end in arrows */
#define AXIS_MAX 1e3
#define MAX_TICKS 16

void hs_forest_opts_default(hs_forest_opts *o)
{
    o->title = NULL;
}

void hs_forest_data_free(hs_forest_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nterm; i++)
        free(d->term[i].name);
    for (size_t i = 0; i < d->nref; i++) {
        free(d->ref[i].variable);
        free(d->ref[i].level);
    }
    free(d->term);
    free(d->ref);
    free(d);
}

static int add_ref(hs_forest_data *d, const char *variable, const char *level)
{
    if (!(d->ref = calloc(1, sizeof *d->ref)))
        return HS_ENOMEM;
    d->nref = 1;
    d->ref[0].variable = strdup(variable);
    d->ref[0].level = strdup(level);
    return d->ref[0].variable && d->ref[0].level ? HS_OK : HS_ENOMEM;
}

int hs_forest_from_result(hs_forest_data **out, const hs_survival_result *r, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "no output pointer");
    *out = NULL;
    if (!r || !r->cox || r->ncoef == 0)
        return hs_error_set(err, HS_EINVAL, "no Cox model to draw");
    hs_forest_data *d = calloc(1, sizeof *d);
    if (!d || !(d->term = calloc(r->ncoef, sizeof *d->term)))
        goto oom;
    d->n = (double)r->cox->n;
    d->nevent = r->cox->nevent;
    for (size_t j = 0; j < r->ncoef; j++) {
        hs_forest_term *t = &d->term[d->nterm++];
        const hs_cox_coef *c = &r->coef[j];
        if (!(t->name = strdup(r->coef_name[j])))
            goto oom;
        t->hr = c->hr;
        t->lower = c->hr_lower95;
        t->upper = c->hr_upper95;
        t->p = c->p;
        t->flag = c->flag;
    }
    if (r->group && r->nlevel > 0 && add_ref(d, r->group, r->level[0]) != HS_OK)
        goto oom;
    *out = d;
    return HS_OK;
oom:
    hs_forest_data_free(d);
    return hs_error_set(err, HS_ENOMEM, "out of memory");
}

int hs_forest_load(hs_forest_data **out, const char *dir, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "no output pointer");
    *out = NULL;
    if (!dir)
        return hs_error_set(err, HS_EINVAL, "no results folder");
    static const char *const coxcols[] = {"term", "hr", "hr_lower95", "hr_upper95", "p", "flag"};
    static const char *const kmcols[] = {"curve"};
    static const char *const fitcols[] = {"n", "nevent"};
    hs_figcsv *cox = NULL, *km = NULL, *fit = NULL;
    hs_forest_data *d = NULL;
    int rc;
    if ((rc = hs_figcsv_read(&cox, dir, "cox.csv", coxcols, 6, 0, err)) != HS_OK ||
        (rc = hs_figcsv_read(&km, dir, "km.csv", kmcols, 1, 1, err)) != HS_OK ||
        (rc = hs_figcsv_read(&fit, dir, "fit.csv", fitcols, 2, 1, err)) != HS_OK)
        goto done;
    if (cox->nrow == 0) {
        rc = hs_error_set(err, HS_EDATA, "%s: no terms", cox->path);
        goto done;
    }
    if (!(d = calloc(1, sizeof *d)) || !(d->term = calloc(cox->nrow, sizeof *d->term)))
        goto oom;
    d->n = d->nevent = NAN;
    for (size_t j = 0; j < cox->nrow; j++) {
        hs_forest_term *t = &d->term[d->nterm++];
        if (!(t->name = strdup(cox->cell[j * 6])))
            goto oom;
        double *v[4] = {&t->hr, &t->lower, &t->upper, &t->p};
        for (size_t m = 0; m < 4; m++)
            if ((rc = hs_figcsv_num(cox, j, m + 1, v[m], err)) != HS_OK)
                goto done;
        const char *f = cox->cell[j * 6 + 5];
        t->flag = hs_cox_coef_flag_parse(f);
    }
    /* the group is the model's last term; its reference is km.csv's first curve "GROUP=level" */
    if (km && km->nrow) {
        const char *first = km->cell[0], *eq = strchr(first, '=');
        const char *last = d->term[d->nterm - 1].name;
        if (eq && strncmp(first, last, (size_t)(eq - first + 1)) == 0) {
            char *var = strndup(first, (size_t)(eq - first));
            rc = var ? add_ref(d, var, eq + 1) : HS_ENOMEM;
            free(var);
            if (rc != HS_OK)
                goto oom;
        }
    }
    if (fit && fit->nrow && ((rc = hs_figcsv_num(fit, 0, 0, &d->n, err)) != HS_OK ||
                             (rc = hs_figcsv_num(fit, 0, 1, &d->nevent, err)) != HS_OK))
        goto done;
    rc = HS_OK;
    goto done;
oom:
    rc = hs_error_set(err, HS_ENOMEM, "out of memory");
done:
    hs_figcsv_free(cox);
    hs_figcsv_free(km);
    hs_figcsv_free(fit);
    if (rc != HS_OK)
        hs_forest_data_free(d);
    else
        *out = d;
    return rc;
}

/* ---- layout ---- */

enum { ROW_HEADER, ROW_REF, ROW_TERM };

typedef struct row {
    int kind;
    const char *label;         /* points into the data */
    const hs_forest_term *t;   /* ROW_TERM */
    int indented;
} row;

typedef struct layout {
    row *rows;
    size_t nrows;
    double x_label, x_plot0, x_plot1, x_hr, x_p; /* x_hr, x_p: left edges of the number columns */
    double y_title, y_head, y_rows, y_axis, y_caption, h;
    double lmin, lmax;         /* log10 axis limits */
    double ticks[MAX_TICKS];
    size_t nticks;
} layout;

/* Length of the variable prefix of "VAR=level" (0 for a numeric term). */
static size_t var_len(const char *name)
{
    const char *eq = strchr(name, '=');
    return eq ? (size_t)(eq - name) : 0;
}

static int build_rows(const hs_forest_data *d, layout *L)
{
    L->rows = calloc(3 * d->nterm + 1, sizeof *L->rows);
    if (!L->rows)
        return HS_ENOMEM;
    for (size_t j = 0; j < d->nterm; j++) {
        const char *name = d->term[j].name;
        size_t vl = var_len(name);
        if (vl && (j == 0 || var_len(d->term[j - 1].name) != vl || strncmp(d->term[j - 1].name, name, vl) != 0)) {
            L->rows[L->nrows++] = (row){ROW_HEADER, name, NULL, 0}; /* label printed up to vl */
            const char *ref = "first level"; /* the files do not name a covariate's reference level */
            for (size_t k = 0; k < d->nref; k++)
                if (strlen(d->ref[k].variable) == vl && strncmp(d->ref[k].variable, name, vl) == 0)
                    ref = d->ref[k].level;
            L->rows[L->nrows++] = (row){ROW_REF, ref, NULL, 1};
        }
        L->rows[L->nrows++] = (row){ROW_TERM, vl ? name + vl + 1 : name, &d->term[j], vl != 0};
    }
    return HS_OK;
}

static void fmt_hr(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        hs_fig_num(buf, n, v, 3);
    else if (v >= 0.01 && v < 100)
        snprintf(buf, n, "%.2f", v);
    else
        snprintf(buf, n, "%.3g", v);
}

/* The text of a term's HR column and p column. */
static void term_text(const hs_forest_term *t, char *hr, size_t nh, char *p, size_t np)
{
    if (t->flag == HS_COX_COEF_INFINITE) {
        snprintf(hr, nh, "infinite coefficient: not estimable");
        snprintf(p, np, "NA");
    } else if (t->flag == HS_COX_COEF_DEGENERATE) {
        snprintf(hr, nh, "variance 0: not estimable (extreme scale?)");
        snprintf(p, np, "NA");
    } else if (t->flag == HS_COX_COEF_ALIASED || isnan(t->hr)) {
        snprintf(hr, nh, "aliased: not estimable");
        snprintf(p, np, "NA");
    } else {
        char a[32], b[32], c[32];
        fmt_hr(a, sizeof a, t->hr);
        fmt_hr(b, sizeof b, t->lower);
        fmt_hr(c, sizeof c, t->upper);
        snprintf(hr, nh, "%s (%s\u2013%s)", a, b, c);
        if (isnan(t->p))
            snprintf(p, np, "NA");
        else if (t->p < 0.001)
            snprintf(p, np, "<0.001");
        else
            snprintf(p, np, "%.2g", t->p);
    }
}

static int plottable(const hs_forest_term *t)
{
    return t->flag == HS_COX_COEF_OK && isfinite(t->hr) && t->hr > 0;
}

static void axis_range(const hs_forest_data *d, layout *L)
{
    double lo = 1, hi = 1;
    for (size_t j = 0; j < d->nterm; j++) {
        const hs_forest_term *t = &d->term[j];
        if (!plottable(t))
            continue;
        double a = isfinite(t->lower) && t->lower > 0 ? t->lower : t->hr;
        double b = isfinite(t->upper) ? t->upper : t->hr;
        lo = fmin(lo, a);
        hi = fmax(hi, b);
    }
    lo = fmax(lo, AXIS_MIN);
    hi = fmin(hi, AXIS_MAX);
    /* round outwards to 1-2-5 values */
    static const double m125[] = {1, 2, 5};
    double e = floor(log10(lo)), tlo = pow(10, e);
    for (int i = 2; i >= 0; i--)
        if (m125[i] * pow(10, e) <= lo * (1 + 1e-12)) {
            tlo = m125[i] * pow(10, e);
            break;
        }
    e = floor(log10(hi));
    double thi = 10 * pow(10, e);
    for (int i = 0; i < 3; i++)
        if (m125[i] * pow(10, e) >= hi * (1 - 1e-12)) {
            thi = m125[i] * pow(10, e);
            break;
        }
    if (thi / tlo < 1.5) { /* everything at 1: show 0.5 .. 2 */
        tlo = fmin(tlo, 0.5);
        thi = fmax(thi, 2);
    }
    L->lmin = log10(tlo);
    L->lmax = log10(thi);
    /* ticks: 1-2-5 values when they are few enough, else powers of ten */
    for (int pass = 0; pass < 2; pass++) {
        L->nticks = 0;
        for (double k = floor(L->lmin); k <= ceil(L->lmax); k++)
            for (int i = 0; i < (pass ? 1 : 3); i++) {
                double v = m125[i] * pow(10, k);
                if (log10(v) >= L->lmin - 1e-9 && log10(v) <= L->lmax + 1e-9 && L->nticks < MAX_TICKS)
                    L->ticks[L->nticks++] = v;
            }
        if (L->nticks <= 7)
            break;
    }
}

static int do_layout(cairo_t *cr, const hs_forest_data *d, const hs_forest_opts *o, double w, layout *L)
{
    memset(L, 0, sizeof *L);
    if (build_rows(d, L) != HS_OK)
        return HS_ENOMEM;
    axis_range(d, L);
    hs_fig_font(cr, FS_TEXT, 1);
    double lw = hs_fig_text_width(cr, "Term"), hw, pw;
    for (size_t i = 0; i < L->nrows; i++) {
        const row *r = &L->rows[i];
        hs_fig_font(cr, FS_TEXT, r->kind == ROW_HEADER);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", r->kind == ROW_HEADER ? (int)var_len(r->label) : (int)strlen(r->label),
                 r->label);
        double tw = hs_fig_text_width(cr, buf) + (r->indented ? INDENT : 0);
        if (r->kind == ROW_REF)
            tw += hs_fig_text_width(cr, " (reference)");
        lw = fmax(lw, tw);
    }
    hs_fig_font(cr, FS_TEXT, 1);
    hw = hs_fig_text_width(cr, "HR (95% CI)");
    pw = hs_fig_text_width(cr, "p");
    hs_fig_font(cr, FS_TEXT, 0);
    for (size_t j = 0; j < d->nterm; j++) {
        char hr[128], p[32];
        term_text(&d->term[j], hr, sizeof hr, p, sizeof p);
        hw = fmax(hw, hs_fig_text_width(cr, hr));
        pw = fmax(pw, hs_fig_text_width(cr, p));
    }
    hw = fmax(hw, hs_fig_text_width(cr, "1 (reference)"));
    double maxlw = w * (1 - MIN_PLOT_FRAC) - hw - pw - 2 * MARGIN - 3 * COL_GAP;
    if (lw > maxlw && maxlw > 40)
        lw = maxlw; /* long labels run under the plot's left part rather than squeeze the axis away */
    L->x_label = MARGIN;
    L->x_plot0 = MARGIN + lw + COL_GAP;
    L->x_p = w - MARGIN - pw;
    L->x_hr = L->x_p - COL_GAP - hw;
    L->x_plot1 = L->x_hr - COL_GAP;
    double y = MARGIN;
    if (o->title && *o->title) {
        L->y_title = y;
        y += FS_TITLE * 1.5;
    }
    L->y_head = y;
    y += ROW_H;
    L->y_rows = y;
    y += ROW_H * (double)L->nrows;
    L->y_axis = y + 4;
    L->y_caption = L->y_axis + 4 + ROW_H * 2 + 4;
    L->h = L->y_caption + ROW_H + MARGIN;
    return HS_OK;
}

static double xl(const layout *L, double v)
{
    double lv = log10(v);
    return L->x_plot0 + (L->x_plot1 - L->x_plot0) * (lv - L->lmin) / (L->lmax - L->lmin);
}

void hs_forest_size(const hs_forest_data *d, const hs_forest_opts *o, double *w_pt, double *h_pt)
{
    hs_canvas *c = NULL;
    *w_pt = FIG_W;
    *h_pt = FIG_W / 2;
    if (!d || !o || hs_canvas_open(&c, HS_FIG_PNG, 1, 1, NULL) != HS_OK)
        return;
    layout L;
    if (do_layout(hs_canvas_cr(c), d, o, FIG_W, &L) == HS_OK)
        *h_pt = ceil(L.h);
    free(L.rows);
    hs_canvas_free(c);
}

static void arrow(cairo_t *cr, double x, double y, double dir)
{
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x - dir * 2 * CAP_HALF, y - CAP_HALF);
    cairo_line_to(cr, x - dir * 2 * CAP_HALF, y + CAP_HALF);
    cairo_close_path(cr);
    cairo_fill(cr);
}

int hs_forest_draw(cairo_t *cr, double w, double h, const hs_forest_data *d, const hs_forest_opts *o,
                   hs_error *err)
{
    if (!cr || !d || !o || d->nterm == 0)
        return hs_error_set(err, HS_EINVAL, "no Cox term to draw");
    layout L;
    if (do_layout(cr, d, o, w, &L) != HS_OK) {
        free(L.rows);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (o->title && *o->title) {
        hs_fig_font(cr, FS_TITLE, 1);
        hs_fig_text(cr, MARGIN, L.y_title, HS_HALIGN_LEFT, HS_VALIGN_TOP, o->title);
    }
    double ym = L.y_head + ROW_H / 2;
    hs_fig_font(cr, FS_TEXT, 1);
    hs_fig_text(cr, L.x_label, ym, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "Term");
    hs_fig_text(cr, (L.x_plot0 + L.x_plot1) / 2, ym, HS_HALIGN_CENTER, HS_VALIGN_MIDDLE, "Hazard ratio (95% CI)");
    hs_fig_text(cr, L.x_hr, ym, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "HR (95% CI)");
    hs_fig_text(cr, L.x_p, ym, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "p");

    /* HR = 1 line and the axis */
    cairo_set_line_width(cr, AXIS_W);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    double dash[] = {3, 2};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, xl(&L, 1), L.y_rows);
    cairo_line_to(cr, xl(&L, 1), L.y_axis);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, L.x_plot0, L.y_axis);
    cairo_line_to(cr, L.x_plot1, L.y_axis);
    cairo_stroke(cr);
    hs_fig_font(cr, FS_TEXT, 0);
    for (size_t i = 0; i < L.nticks; i++) {
        double x = xl(&L, L.ticks[i]);
        cairo_move_to(cr, x, L.y_axis);
        cairo_line_to(cr, x, L.y_axis + 4);
        cairo_stroke(cr);
        char buf[32];
        snprintf(buf, sizeof buf, "%g", L.ticks[i]);
        hs_fig_text(cr, x, L.y_axis + 6, HS_HALIGN_CENTER, HS_VALIGN_TOP, buf);
    }
    hs_fig_text(cr, (L.x_plot0 + L.x_plot1) / 2, L.y_axis + 6 + ROW_H, HS_HALIGN_CENTER, HS_VALIGN_TOP,
                "Hazard ratio (log scale)");

    for (size_t i = 0; i < L.nrows; i++) {
        const row *r = &L.rows[i];
        double y = L.y_rows + ROW_H * ((double)i + 0.5);
        double x = L.x_label + (r->indented ? INDENT : 0);
        cairo_set_source_rgb(cr, 0, 0, 0);
        hs_fig_font(cr, FS_TEXT, r->kind == ROW_HEADER);
        if (r->kind == ROW_HEADER) {
            hs_fig_textf(cr, x, y, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "%.*s", (int)var_len(r->label), r->label);
            continue;
        }
        if (r->kind == ROW_REF) {
            hs_fig_textf(cr, x, y, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "%s (reference)", r->label);
            hs_fig_text(cr, L.x_hr, y, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, "1 (reference)");
            continue;
        }
        const hs_forest_term *t = r->t;
        hs_fig_text(cr, x, y, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, r->label);
        char hr[128], p[32];
        term_text(t, hr, sizeof hr, p, sizeof p);
        hs_fig_text(cr, L.x_hr, y, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, hr);
        hs_fig_text(cr, L.x_p, y, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, p);
        if (!plottable(t))
            continue; /* infinite or aliased: words only, never a bar */
        double amin = pow(10, L.lmin), amax = pow(10, L.lmax);
        double lo = isfinite(t->lower) && t->lower > 0 ? t->lower : t->hr;
        double hi = isfinite(t->upper) ? t->upper : t->hr;
        hs_fig_set_rgb(cr, hs_fig_palette(0), 1);
        cairo_set_line_width(cr, LINE_W);
        double xa = xl(&L, fmax(lo, amin)), xb = xl(&L, fmin(hi, amax));
        cairo_move_to(cr, xa, y);
        cairo_line_to(cr, xb, y);
        cairo_stroke(cr);
        if (lo < amin)
            arrow(cr, xa, y, -1);
        else {
            cairo_move_to(cr, xa, y - CAP_HALF);
            cairo_line_to(cr, xa, y + CAP_HALF);
            cairo_stroke(cr);
        }
        if (hi > amax)
            arrow(cr, xb, y, 1);
        else {
            cairo_move_to(cr, xb, y - CAP_HALF);
            cairo_line_to(cr, xb, y + CAP_HALF);
            cairo_stroke(cr);
        }
        if (t->hr >= amin && t->hr <= amax) {
            cairo_rectangle(cr, xl(&L, t->hr) - BOX_HALF, y - BOX_HALF, 2 * BOX_HALF, 2 * BOX_HALF);
            cairo_fill(cr);
        }
    }
    if (isfinite(d->n)) {
        cairo_set_source_rgb(cr, 0, 0, 0);
        hs_fig_font(cr, FS_TEXT, 0);
        char ev[32] = "";
        if (isfinite(d->nevent))
            snprintf(ev, sizeof ev, ", %.0f events", d->nevent);
        hs_fig_textf(cr, L.x_label, L.y_caption + ROW_H / 2, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE,
                     "Cox model: n = %.0f%s; HR > 1: higher hazard", d->n, ev);
    }
    free(L.rows);
    (void)h;
    return HS_OK;
}

typedef struct draw_ctx {
    const hs_forest_data *d;
    const hs_forest_opts *o;
} draw_ctx;

static int draw_cb(cairo_t *cr, double w, double h, void *ctx, hs_error *err)
{
    draw_ctx *c = ctx;
    return hs_forest_draw(cr, w, h, c->d, c->o, err);
}

int hs_forest_write(const char *base, unsigned mask, const hs_forest_data *d, const hs_forest_opts *o,
                    hs_error *err)
{
    if (!d || !o)
        return hs_error_set(err, HS_EINVAL, "no Cox model data");
    double w, h;
    hs_forest_size(d, o, &w, &h);
    draw_ctx c = {d, o};
    return hs_fig_write(base, mask, w, h, draw_cb, &c, err);
}
