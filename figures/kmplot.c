/*
 * kmplot: the Kaplan-Meier figure (see kmplot.h).  One layout function
 * places everything from the data and the options, so that the figure's
 * size and its drawing agree; the risk table's numbers are drawn centred at
 * the very x of their tick (the same xs() and the same centring as the tick
 * labels), which is what keeps them aligned.  Sizes: docs/figures.md.
 */
#include "figures/kmplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures/canvas.h"
#include "figures/figcsv.h"

#define FIG_W 504.0         /* 7 in: the full text width of most journals */
#define PLOT_H 270.0        /* 3.75 in of plot: the curves dominate, the table stays readable below */
#define MARGIN 10.0
#define STEP_RES 0.05       /* pt: moves of a step line below this are merged (1/1440 in, under a 300-dpi pixel) */
#define MARK_RES 0.25       /* pt: censoring marks closer than this to the last one print as one */         /* white border around everything */
#define RIGHT_PAD 24.0      /* room for half of the last tick label / risk number past the axis end */
#define MIN_LEFT 58.0       /* y tick labels + the rotated y title */
#define LABEL_GAP 6.0       /* between a risk-table label and the numbers of the first column */
#define FS_TITLE 12.0       /* title */
#define FS_AXIS 10.0        /* axis titles */
#define FS_SMALL 9.0        /* tick labels, legend, statistics, risk table: >= 7 pt after a 75% reduction */
#define ROW_H 13.0          /* one line of 9 pt text with 1.4 pt leading either side */
#define TICK_LEN 4.0        /* axis tick length */
#define CURVE_W 1.5         /* survival curves */
#define AXIS_W 0.75         /* axes, ticks, median lines */
#define CENSOR_HALF 3.0     /* half the size of a censoring "+" */
#define BAND_ALPHA 0.18     /* confidence band fill opacity: curves stay visible through overlapping bands */
#define LEGEND_SAMPLE 18.0  /* length of the line sample in the legend */
#define MAX_TICKS 101       /* a --time-break that makes more ticks than this is refused */

void hs_kmplot_opts_default(hs_kmplot_opts *o)
{
    o->title = NULL;
    o->time_unit = "months";
    o->ylabel = "Survival probability";
    o->time_break = 0;
    o->bands = 1;
    o->medians = 1;
    o->kmunicate = 0;
}

/* ---- data ---- */

static void curve_clear(hs_kmplot_curve *c)
{
    free(c->name);
    free(c->time);
    free(c->n_risk);
    free(c->n_event);
    free(c->n_censor);
    free(c->surv);
    free(c->lower);
    free(c->upper);
}

void hs_kmplot_data_free(hs_kmplot_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ncurve; i++)
        curve_clear(&d->curve[i]);
    free(d->curve);
    free(d->test_label);
    free(d->hr_term);
    free(d);
}

static int curve_alloc(hs_kmplot_curve *c, const char *name, size_t n)
{
    size_t m = n ? n : 1;
    c->name = strdup(name);
    c->ntime = n;
    c->median = NAN;
    c->time = malloc(m * sizeof(double));
    c->n_risk = malloc(m * sizeof(double));
    c->n_event = malloc(m * sizeof(double));
    c->n_censor = malloc(m * sizeof(double));
    c->surv = malloc(m * sizeof(double));
    c->lower = malloc(m * sizeof(double));
    c->upper = malloc(m * sizeof(double));
    return c->name && c->time && c->n_risk && c->n_event && c->n_censor && c->surv && c->lower && c->upper
               ? HS_OK
               : HS_ENOMEM;
}

/* Finds the HR of the second curve's group against the first among the Cox terms. */
static int find_hr(hs_kmplot_data *d, size_t nterm, const char *const *term, const double *hr, const double *lo,
                   const double *hi, const hs_cox_coef_flag *flag)
{
    if (d->ncurve != 2)
        return HS_OK;
    const char *a = d->curve[0].name, *b = d->curve[1].name, *eq = strchr(a, '=');
    if (!eq || strncmp(a, b, (size_t)(eq - a + 1)) != 0)
        return HS_OK;
    size_t plen = (size_t)(eq - a + 1), ngroup = 0, at = 0;
    for (size_t j = 0; j < nterm; j++)
        if (strncmp(term[j], a, plen) == 0)
            ngroup++, at = j;
    if (ngroup == 0 && !strcmp(eq + 1, "0") && !strcmp(b + plen, "1")) {
        /* a 0/1 flag whose term the cohort run names by the variable alone ("heterogeneous") */
        for (size_t j = 0; j < nterm; j++)
            if (strlen(term[j]) == plen - 1 && !strncmp(term[j], a, plen - 1))
                ngroup++, at = j;
    } else if (ngroup != 1 || strcmp(term[at], b) != 0) {
        return HS_OK; /* the reference is not the first curve, or the group has more levels in the model */
    }
    if (ngroup != 1)
        return HS_OK;
    if (!(d->hr_term = strdup(b))) /* the term, as its curve is named */
        return HS_ENOMEM;
    d->have_hr = 1;
    d->hr_adjusted = nterm > 1;
    d->hr = hr[at];
    d->hr_lower = lo[at];
    d->hr_upper = hi[at];
    d->hr_flag = flag[at];
    return HS_OK;
}

int hs_kmplot_from_result(hs_kmplot_data **out, const hs_survival_result *r, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "no output pointer");
    *out = NULL;
    if (!r || r->ncurve == 0)
        return hs_error_set(err, HS_EINVAL, "no Kaplan-Meier curve to draw");
    hs_kmplot_data *d = calloc(1, sizeof *d);
    if (!d || !(d->curve = calloc(r->ncurve, sizeof *d->curve)))
        goto oom;
    d->test_p = d->maxstat_p = NAN;
    for (size_t g = 0; g < r->ncurve; g++) {
        const hs_km *k = r->curve[g].km;
        hs_kmplot_curve *c = &d->curve[g];
        d->ncurve++;
        if (curve_alloc(c, r->curve[g].name, k->ntime) != HS_OK)
            goto oom;
        size_t sz = k->ntime * sizeof(double);
        if (sz) {
            memcpy(c->time, k->time, sz);
            memcpy(c->n_risk, k->n_risk, sz);
            memcpy(c->n_event, k->n_event, sz);
            memcpy(c->n_censor, k->n_censor, sz);
            memcpy(c->surv, k->surv, sz);
            memcpy(c->lower, k->lower, sz);
            memcpy(c->upper, k->upper, sz);
        }
        c->median = r->curve[g].median;
    }
    for (size_t i = 0; i < r->ntest; i++) {
        if (strcmp(r->test[i].name, "logrank") == 0 && r->logrank_done) {
            char base[64];
            if (r->rho == 0)
                snprintf(base, sizeof base, "log-rank");
            else if (r->rho == 1)
                snprintf(base, sizeof base, "Peto-Peto");
            else
                snprintf(base, sizeof base, "G-rho (rho = %g)", r->rho);
            char label[96];
            if (r->stratified)
                snprintf(label, sizeof label, "Stratified %s", base);
            else
                snprintf(label, sizeof label, "%c%s", base[0] == 'l' ? 'L' : base[0], base + 1);
            if (!(d->test_label = strdup(label)))
                goto oom;
            d->test_p = r->test[i].p;
        } else if (strcmp(r->test[i].name, "maxstat") == 0) {
            d->maxstat_p = r->test[i].p;
        }
    }
    if (r->cox && r->ncoef) {
        double *v = malloc(3 * r->ncoef * sizeof *v);
        hs_cox_coef_flag *fl = malloc(r->ncoef * sizeof *fl);
        int rc = v && fl ? HS_OK : HS_ENOMEM;
        if (rc == HS_OK) {
            for (size_t j = 0; j < r->ncoef; j++) {
                v[j] = r->coef[j].hr;
                v[r->ncoef + j] = r->coef[j].hr_lower95;
                v[2 * r->ncoef + j] = r->coef[j].hr_upper95;
                fl[j] = r->coef[j].flag;
            }
            rc = find_hr(d, r->ncoef, (const char *const *)r->coef_name, v, v + r->ncoef, v + 2 * r->ncoef, fl);
        }
        free(v);
        free(fl);
        if (rc != HS_OK)
            goto oom;
    }
    *out = d;
    return HS_OK;
oom:
    hs_kmplot_data_free(d);
    return hs_error_set(err, HS_ENOMEM, "out of memory");
}

int hs_kmplot_load(hs_kmplot_data **out, const char *dir, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "no output pointer");
    *out = NULL;
    if (!dir)
        return hs_error_set(err, HS_EINVAL, "no results folder");
    static const char *const kmcols[] = {"curve", "time", "n_risk", "n_event", "n_censor", "surv", "lower", "upper"};
    static const char *const medcols[] = {"curve", "median"};
    static const char *const testcols[] = {"test", "p"};
    static const char *const coxcols[] = {"term", "hr", "hr_lower95", "hr_upper95", "flag"};
    hs_figcsv *km = NULL, *med = NULL, *tests = NULL, *cox = NULL;
    hs_kmplot_data *d = NULL;
    char **terms = NULL;
    double *v = NULL;
    hs_cox_coef_flag *fl = NULL;
    int rc;
    if ((rc = hs_figcsv_read(&km, dir, "km.csv", kmcols, 8, 0, err)) != HS_OK ||
        (rc = hs_figcsv_read(&med, dir, "median.csv", medcols, 2, 0, err)) != HS_OK ||
        (rc = hs_figcsv_read(&tests, dir, "tests.csv", testcols, 2, 1, err)) != HS_OK ||
        (rc = hs_figcsv_read(&cox, dir, "cox.csv", coxcols, 5, 1, err)) != HS_OK)
        goto done;
    if (km->nrow == 0) {
        rc = hs_error_set(err, HS_EDATA, "%s: no rows", km->path);
        goto done;
    }
    rc = HS_ENOMEM;
    if (!(d = calloc(1, sizeof *d)) || !(d->curve = calloc(km->nrow, sizeof *d->curve)))
        goto oom;
    d->test_p = d->maxstat_p = NAN;
    /* km.csv holds each curve's rows together, curves in level order */
    for (size_t i = 0; i < km->nrow;) {
        const char *name = km->cell[i * 8];
        size_t j = i;
        while (j < km->nrow && strcmp(km->cell[j * 8], name) == 0)
            j++;
        for (size_t g = 0; g < d->ncurve; g++)
            if (strcmp(d->curve[g].name, name) == 0) {
                rc = hs_error_set(err, HS_EDATA, "%s:%ld: the rows of curve '%s' are not together", km->path,
                                  km->line[i], name);
                goto done;
            }
        hs_kmplot_curve *c = &d->curve[d->ncurve++];
        if (curve_alloc(c, name, j - i) != HS_OK)
            goto oom;
        double *col[7] = {c->time, c->n_risk, c->n_event, c->n_censor, c->surv, c->lower, c->upper};
        for (size_t k = i; k < j; k++)
            for (size_t m = 0; m < 7; m++)
                if ((rc = hs_figcsv_num(km, k, m + 1, &col[m][k - i], err)) != HS_OK)
                    goto done;
        for (size_t k = i + 1; k < j; k++)
            if (!(c->time[k - i] > c->time[k - i - 1])) {
                rc = hs_error_set(err, HS_EDATA, "%s:%ld: times of curve '%s' are not increasing", km->path,
                                  km->line[k], name);
                goto done;
            }
        i = j;
    }
    for (size_t i = 0; i < med->nrow; i++)
        for (size_t g = 0; g < d->ncurve; g++)
            if (strcmp(d->curve[g].name, med->cell[i * 2]) == 0 &&
                (rc = hs_figcsv_num(med, i, 1, &d->curve[g].median, err)) != HS_OK)
                goto done;
    for (size_t i = 0; tests && i < tests->nrow; i++) {
        const char *name = tests->cell[i * 2];
        if (strcmp(name, "logrank") == 0) {
            if ((rc = hs_figcsv_num(tests, i, 1, &d->test_p, err)) != HS_OK)
                goto done;
            if (!(d->test_label = strdup("Log-rank")))
                goto oom;
        } else if (strcmp(name, "maxstat") == 0 && (rc = hs_figcsv_num(tests, i, 1, &d->maxstat_p, err)) != HS_OK) {
            goto done;
        }
    }
    if (cox && cox->nrow) {
        size_t n = cox->nrow;
        if (!(terms = calloc(n, sizeof *terms)) || !(v = malloc(3 * n * sizeof *v)) || !(fl = malloc(n * sizeof *fl)))
            goto oom;
        for (size_t j = 0; j < n; j++) {
            terms[j] = cox->cell[j * 5];
            for (size_t m = 0; m < 3; m++)
                if ((rc = hs_figcsv_num(cox, j, m + 1, &v[m * n + j], err)) != HS_OK)
                    goto done;
            const char *f = cox->cell[j * 5 + 4];
            fl[j] = hs_cox_coef_flag_parse(f);
        }
        if (find_hr(d, n, (const char *const *)terms, v, v + n, v + 2 * n, fl) != HS_OK)
            goto oom;
    }
    rc = HS_OK;
    goto done;
oom:
    rc = hs_error_set(err, HS_ENOMEM, "out of memory");
done:
    free(terms);
    free(v);
    free(fl);
    hs_figcsv_free(km);
    hs_figcsv_free(med);
    hs_figcsv_free(tests);
    hs_figcsv_free(cox);
    if (rc != HS_OK)
        hs_kmplot_data_free(d);
    else
        *out = d;
    return rc;
}

/* ---- numbers ---- */

void hs_kmplot_counts(const hs_kmplot_curve *c, double t, double *risk, double *events, double *censored)
{
    double r = 0, e = 0, z = 0;
    size_t j = 0;
    for (; j < c->ntime && c->time[j] < t; j++) {
        e += c->n_event[j];
        z += c->n_censor[j];
    }
    if (j < c->ntime)
        r = c->n_risk[j];
    if (risk)
        *risk = r;
    if (events)
        *events = e;
    if (censored)
        *censored = z;
}

static double last_time(const hs_kmplot_data *d)
{
    double T = 0;
    for (size_t g = 0; g < d->ncurve; g++)
        for (size_t j = 0; j < d->curve[g].ntime; j++)
            if (isfinite(d->curve[g].time[j]) && d->curve[g].time[j] > T)
                T = d->curve[g].time[j];
    return T;
}

size_t hs_kmplot_ticks(const hs_kmplot_data *d, const hs_kmplot_opts *o, double *ticks, size_t max)
{
    double T = last_time(d);
    if (o->time_break > 0 && isfinite(o->time_break)) {
        double k = ceil(T / o->time_break - 1e-10);
        if (k < 1)
            k = 1;
        if (k + 1 <= MAX_TICKS) {
            size_t n = (size_t)k + 1;
            for (size_t i = 0; i < n && i < max; i++)
                ticks[i] = (double)i * o->time_break;
            return n;
        }
    }
    size_t n = hs_fig_pretty(0, T, 5, ticks, max);
    if (n < 2) { /* T == 0: pretty(c(0, 0)) is 0..1 in R too, but keep two ticks in any case */
        if (max > 0)
            ticks[0] = 0;
        if (max > 1)
            ticks[1] = 1;
        n = 2;
    }
    return n;
}

/* ---- layout ---- */

typedef struct layout {
    double w, h;
    double x0, x1, yt, yb;       /* plot box */
    double y_title, y_stats[2];  /* baselines (TOP-anchored y) */
    int nstats;
    double y_legend;             /* top of the first legend row */
    size_t legend_rows;
    double y_ticklab, y_xtitle;
    double y_table;              /* top of the table heading */
    size_t table_rows;           /* rows after the heading */
    double tmax;                 /* last tick */
    double label_right;          /* risk-table labels end this far left of x0 */
    double ticks[MAX_TICKS + 1];
    size_t nticks;
    char stats[2][256];
} layout;

static void fmt_hr(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        hs_fig_num(buf, n, v, 3);
    else if (v >= 0.01 && v < 100)
        snprintf(buf, n, "%.2f", v);
    else
        snprintf(buf, n, "%.3g", v);
}

static void make_stats(layout *L, const hs_kmplot_data *d)
{
    L->nstats = 0;
    if (d->test_label) {
        char p[32];
        hs_fig_pvalue(p, sizeof p, d->test_p);
        if (!isnan(d->maxstat_p)) {
            char q[32];
            hs_fig_pvalue(q, sizeof q, d->maxstat_p);
            snprintf(L->stats[L->nstats++], sizeof L->stats[0],
                     "%s %s (not corrected); cutpoint chosen from the data: corrected %s", d->test_label, p, q);
        } else {
            snprintf(L->stats[L->nstats++], sizeof L->stats[0], "%s %s", d->test_label, p);
        }
    }
    if (d->have_hr) {
        const char *adj = d->hr_adjusted ? "Adjusted HR" : "HR";
        if (d->hr_flag == HS_COX_COEF_INFINITE)
            snprintf(L->stats[L->nstats++], sizeof L->stats[0], "%s %s vs %s: not estimable (infinite coefficient)",
                     adj, d->hr_term, d->curve[0].name);
        else if (d->hr_flag == HS_COX_COEF_DEGENERATE)
            snprintf(L->stats[L->nstats++], sizeof L->stats[0], "%s %s vs %s: not estimable (variance 0)", adj,
                     d->hr_term, d->curve[0].name);
        else if (d->hr_flag == HS_COX_COEF_ALIASED || isnan(d->hr))
            snprintf(L->stats[L->nstats++], sizeof L->stats[0], "%s %s vs %s: not estimable (aliased)", adj,
                     d->hr_term, d->curve[0].name);
        else {
            char a[32], b[32], c[32];
            fmt_hr(a, sizeof a, d->hr);
            fmt_hr(b, sizeof b, d->hr_lower);
            fmt_hr(c, sizeof c, d->hr_upper);
            snprintf(L->stats[L->nstats++], sizeof L->stats[0], "%s %s vs %s: %s (95%% CI %s\u2013%s)", adj,
                     d->hr_term, d->curve[0].name, a, b, c);
        }
    }
}

/* Legend item widths: sample + gap + name + spacing. */
static double legend_item_w(cairo_t *cr, const char *name)
{
    return LEGEND_SAMPLE + 4 + hs_fig_text_width(cr, name) + 16;
}

static void do_layout(cairo_t *cr, const hs_kmplot_data *d, const hs_kmplot_opts *o, double w, layout *L)
{
    memset(L, 0, sizeof *L);
    L->w = w;
    L->nticks = hs_kmplot_ticks(d, o, L->ticks, MAX_TICKS + 1);
    if (L->nticks > MAX_TICKS + 1)
        L->nticks = MAX_TICKS + 1;
    L->tmax = L->ticks[L->nticks - 1];
    make_stats(L, d);

    /* left margin: the widest risk-table label */
    hs_fig_font(cr, FS_SMALL, 0);
    double lab = 0;
    for (size_t g = 0; g < d->ncurve; g++) {
        double tw = hs_fig_text_width(cr, d->curve[g].name);
        if (!o->kmunicate && tw > lab)
            lab = tw;
    }
    if (o->kmunicate) {
        static const char *const rows[] = {"At risk", "Censored", "Events"};
        for (size_t i = 0; i < 3; i++)
            if (hs_fig_text_width(cr, rows[i]) > lab)
                lab = hs_fig_text_width(cr, rows[i]);
    }
    /* the first column is centred on the y axis: its numbers reach half their width to the left */
    double half = 0;
    for (size_t g = 0; g < d->ncurve; g++) {
        double v[3];
        hs_kmplot_counts(&d->curve[g], L->ticks[0], &v[0], &v[1], &v[2]);
        for (int k = 0; k < (o->kmunicate ? 3 : 1); k++) {
            char buf[32];
            hs_fig_num(buf, sizeof buf, v[k], 7);
            half = fmax(half, hs_fig_text_width(cr, buf) / 2);
        }
    }
    L->label_right = half + LABEL_GAP;
    L->x0 = MARGIN + fmax(MIN_LEFT - MARGIN, fmin(lab + L->label_right, w * 0.35));
    L->x1 = w - RIGHT_PAD;

    double y = MARGIN;
    if (o->title && *o->title) {
        L->y_title = y;
        y += FS_TITLE * 1.5;
    }
    /* legend rows, wrapped to the plot's width */
    L->y_legend = y;
    L->legend_rows = 1;
    double x = L->x0;
    for (size_t g = 0; g < d->ncurve; g++) {
        double iw = legend_item_w(cr, d->curve[g].name);
        if (x > L->x0 && x + iw > L->x1 + 16) {
            L->legend_rows++;
            x = L->x0;
        }
        x += iw;
    }
    y += ROW_H * (double)L->legend_rows;
    for (int i = 0; i < L->nstats; i++) {
        L->y_stats[i] = y;
        y += ROW_H;
    }
    y += 6;
    L->yt = y;
    L->yb = y + PLOT_H;
    L->y_ticklab = L->yb + TICK_LEN + 2;
    L->y_xtitle = L->y_ticklab + ROW_H + 2;
    L->y_table = L->y_xtitle + ROW_H + 10;
    L->table_rows = o->kmunicate ? 4 * d->ncurve : d->ncurve;
    L->h = L->y_table + ROW_H * (double)(1 + L->table_rows) + MARGIN;
}

void hs_kmplot_size(const hs_kmplot_data *d, const hs_kmplot_opts *o, double *w_pt, double *h_pt)
{
    hs_canvas *c = NULL;
    *w_pt = FIG_W;
    *h_pt = FIG_W;
    if (!d || !o || hs_canvas_open(&c, HS_FIG_PNG, 1, 1, NULL) != HS_OK)
        return;
    layout *L = malloc(sizeof *L);
    if (L) {
        do_layout(hs_canvas_cr(c), d, o, FIG_W, L);
        *h_pt = ceil(L->h);
    }
    free(L);
    hs_canvas_free(c);
}

/* ---- drawing ---- */

static double xs(const layout *L, double t)
{
    return L->x0 + (L->x1 - L->x0) * (t / L->tmax);
}

static double ys(const layout *L, double s)
{
    return L->yb - (L->yb - L->yt) * s;
}

/* Draws the bands of c: one stepped polygon per run of intervals with finite limits. */
/*
 * A step line drawn through cairo without the moves too small to see: a
 * horizontal or vertical move under STEP_RES points is merged into the next
 * one, so a curve of a million steps across a 400-point axis becomes a few
 * thousand segments (the SVG and PDF stay small and fast), and no vertex is
 * more than STEP_RES from where it belongs.
 */
typedef struct stepper {
    cairo_t *cr;
    double px, py; /* the pen */
} stepper;

static void step_start(stepper *s, cairo_t *cr, double x, double y)
{
    s->cr = cr;
    s->px = x;
    s->py = y;
    cairo_move_to(cr, x, y);
}

/* across to x, then up or down to y */
static void step_hv(stepper *s, double x, double y)
{
    if (fabs(x - s->px) >= STEP_RES) {
        cairo_line_to(s->cr, x, s->py);
        s->px = x;
    }
    if (fabs(y - s->py) >= STEP_RES) {
        cairo_line_to(s->cr, s->px, y);
        s->py = y;
    }
}

/* up or down to y, then across to x */
static void step_vh(stepper *s, double x, double y)
{
    if (fabs(y - s->py) >= STEP_RES) {
        cairo_line_to(s->cr, s->px, y);
        s->py = y;
    }
    if (fabs(x - s->px) >= STEP_RES) {
        cairo_line_to(s->cr, x, s->py);
        s->px = x;
    }
}

/* exactly to (x, y), across then up or down */
static void step_exact(stepper *s, double x, double y)
{
    if (x != s->px)
        cairo_line_to(s->cr, x, s->py);
    if (y != s->py)
        cairo_line_to(s->cr, x, y);
    s->px = x;
    s->py = y;
}

static void draw_bands(cairo_t *cr, const layout *L, const hs_kmplot_curve *c)
{
    size_t n = c->ntime;
    size_t i = 0;
    while (i + 1 < n) {
        if (!(isfinite(c->lower[i]) && isfinite(c->upper[i]) && isfinite(c->time[i + 1]))) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < n && isfinite(c->lower[j]) && isfinite(c->upper[j]) && isfinite(c->time[j + 1]))
            j++;
        /* intervals i..j-1: [time[k], time[k+1]) with limits of row k; the upper edge forward, the lower back */
        stepper st;
        step_start(&st, cr, xs(L, c->time[i]), ys(L, c->upper[i]));
        for (size_t k = i; k + 1 < j; k++)
            step_hv(&st, xs(L, c->time[k + 1]), ys(L, c->upper[k + 1]));
        step_exact(&st, xs(L, c->time[j]), ys(L, c->upper[j - 1]));
        step_exact(&st, xs(L, c->time[j]), ys(L, c->lower[j - 1]));
        for (size_t k = j - 1; k > i; k--)
            step_vh(&st, xs(L, c->time[k]), ys(L, c->lower[k]));
        double x = xs(L, c->time[i]), y = ys(L, c->lower[i]);
        step_vh(&st, x, y);
        if (st.px != x || st.py != y)
            cairo_line_to(cr, x, y);
        cairo_close_path(cr);
        cairo_fill(cr);
        i = j;
    }
}

static void draw_curve(cairo_t *cr, const layout *L, const hs_kmplot_curve *c, hs_rgb col)
{
    hs_fig_set_rgb(cr, col, 1);
    cairo_set_line_width(cr, CURVE_W);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    stepper st;
    step_start(&st, cr, xs(L, 0), ys(L, 1));
    size_t last = 0;
    for (size_t j = 0; j < c->ntime && isfinite(c->time[j]); j++) {
        step_hv(&st, xs(L, c->time[j]), ys(L, c->surv[j]));
        last = j + 1;
    }
    if (last)
        step_exact(&st, xs(L, c->time[last - 1]), ys(L, c->surv[last - 1]));
    cairo_stroke(cr);
    cairo_set_line_width(cr, AXIS_W);
    /* a censoring mark within MARK_RES of the last one drawn would print on top of it: drawn once */
    double mx = -INFINITY, my = -INFINITY;
    for (size_t j = 0; j < c->ntime && isfinite(c->time[j]); j++) {
        if (c->n_censor[j] > 0) {
            double x = xs(L, c->time[j]), y = ys(L, c->surv[j]);
            if (fabs(x - mx) < MARK_RES && fabs(y - my) < MARK_RES)
                continue;
            mx = x;
            my = y;
            cairo_move_to(cr, x - CENSOR_HALF, y);
            cairo_line_to(cr, x + CENSOR_HALF, y);
            cairo_move_to(cr, x, y - CENSOR_HALF);
            cairo_line_to(cr, x, y + CENSOR_HALF);
        }
    }
    cairo_stroke(cr);
}

static void draw_axes(cairo_t *cr, const layout *L, const hs_kmplot_opts *o)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, AXIS_W);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
    cairo_move_to(cr, L->x0, L->yt);
    cairo_line_to(cr, L->x0, L->yb);
    cairo_line_to(cr, L->x1, L->yb);
    cairo_stroke(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    hs_fig_font(cr, FS_SMALL, 0);
    int dec = hs_fig_tick_decimals(L->ticks, L->nticks);
    for (size_t i = 0; i < L->nticks; i++) {
        double x = xs(L, L->ticks[i]);
        cairo_move_to(cr, x, L->yb);
        cairo_line_to(cr, x, L->yb + TICK_LEN);
        cairo_stroke(cr);
        hs_fig_textf(cr, x, L->y_ticklab, HS_HALIGN_CENTER, HS_VALIGN_TOP, "%.*f", dec, L->ticks[i]);
    }
    double yt[6];
    size_t ny = hs_fig_pretty(0, 1, 5, yt, 6);
    int ydec = hs_fig_tick_decimals(yt, ny < 6 ? ny : 6);
    for (size_t i = 0; i < ny && i < 6; i++) {
        double y = ys(L, yt[i]);
        cairo_move_to(cr, L->x0 - TICK_LEN, y);
        cairo_line_to(cr, L->x0, y);
        cairo_stroke(cr);
        hs_fig_textf(cr, L->x0 - TICK_LEN - 3, y, HS_HALIGN_RIGHT, HS_VALIGN_MIDDLE, "%.*f", ydec, yt[i]);
    }
    hs_fig_font(cr, FS_AXIS, 0);
    char xt[160];
    if (o->time_unit && *o->time_unit)
        snprintf(xt, sizeof xt, "Time (%s)", o->time_unit);
    else
        snprintf(xt, sizeof xt, "Time");
    hs_fig_text(cr, (L->x0 + L->x1) / 2, L->y_xtitle, HS_HALIGN_CENTER, HS_VALIGN_TOP, xt);
    cairo_save(cr);
    cairo_translate(cr, L->x0 - 36, (L->yt + L->yb) / 2);
    cairo_rotate(cr, -M_PI / 2);
    hs_fig_text(cr, 0, 0, HS_HALIGN_CENTER, HS_VALIGN_BOTTOM, o->ylabel ? o->ylabel : "Survival probability");
    cairo_restore(cr);
}

static void draw_table(cairo_t *cr, const layout *L, const hs_kmplot_data *d, const hs_kmplot_opts *o)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    hs_fig_font(cr, FS_SMALL, 1);
    hs_fig_text(cr, MARGIN, L->y_table + ROW_H / 2, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE,
                o->kmunicate ? "Number at risk, and cumulative censored and events" : "Number at risk");
    double y = L->y_table + ROW_H * 1.5; /* middle of the first row */
    for (size_t g = 0; g < d->ncurve; g++) {
        const hs_kmplot_curve *c = &d->curve[g];
        hs_rgb col = hs_fig_palette(g);
        if (o->kmunicate) {
            hs_fig_set_rgb(cr, col, 1);
            hs_fig_font(cr, FS_SMALL, 1);
            hs_fig_text(cr, MARGIN, y, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, c->name);
            y += ROW_H;
        }
        static const char *const rowname[] = {"At risk", "Censored", "Events"};
        for (int k = 0; k < (o->kmunicate ? 3 : 1); k++) {
            hs_fig_font(cr, FS_SMALL, 0);
            if (o->kmunicate)
                cairo_set_source_rgb(cr, 0, 0, 0);
            else
                hs_fig_set_rgb(cr, col, 1);
            hs_fig_text(cr, L->x0 - L->label_right, y, HS_HALIGN_RIGHT, HS_VALIGN_MIDDLE,
                        o->kmunicate ? rowname[k] : c->name);
            cairo_set_source_rgb(cr, 0, 0, 0);
            for (size_t i = 0; i < L->nticks; i++) {
                double v[3];
                hs_kmplot_counts(c, L->ticks[i], &v[0], &v[2], &v[1]);
                char buf[32];
                hs_fig_num(buf, sizeof buf, v[k], 7);
                hs_fig_text(cr, xs(L, L->ticks[i]), y, HS_HALIGN_CENTER, HS_VALIGN_MIDDLE, buf);
            }
            y += ROW_H;
        }
    }
}

int hs_kmplot_draw(cairo_t *cr, double w, double h, const hs_kmplot_data *d, const hs_kmplot_opts *o,
                   hs_error *err)
{
    if (!cr || !d || !o || d->ncurve == 0)
        return hs_error_set(err, HS_EINVAL, "no Kaplan-Meier curve to draw");
    layout *L = malloc(sizeof *L);
    if (!L)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    do_layout(cr, d, o, w, L);

    cairo_set_source_rgb(cr, 0, 0, 0);
    if (o->title && *o->title) {
        hs_fig_font(cr, FS_TITLE, 1);
        hs_fig_text(cr, MARGIN, L->y_title, HS_HALIGN_LEFT, HS_VALIGN_TOP, o->title);
    }
    /* legend */
    hs_fig_font(cr, FS_SMALL, 0);
    double x = L->x0, y = L->y_legend + ROW_H / 2;
    for (size_t g = 0; g < d->ncurve; g++) {
        double iw = legend_item_w(cr, d->curve[g].name);
        if (x > L->x0 && x + iw > L->x1 + 16) {
            x = L->x0;
            y += ROW_H;
        }
        hs_fig_set_rgb(cr, hs_fig_palette(g), 1);
        cairo_set_line_width(cr, CURVE_W);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + LEGEND_SAMPLE, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        hs_fig_text(cr, x + LEGEND_SAMPLE + 4, y, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, d->curve[g].name);
        x += iw;
    }
    for (int i = 0; i < L->nstats; i++)
        hs_fig_text(cr, L->x0, L->y_stats[i] + ROW_H / 2, HS_HALIGN_LEFT, HS_VALIGN_MIDDLE, L->stats[i]);

    /* plot contents, clipped to the plot box (a censoring mark may reach half its size past it) */
    cairo_save(cr);
    cairo_rectangle(cr, L->x0 - CENSOR_HALF, L->yt - CENSOR_HALF, L->x1 - L->x0 + 2 * CENSOR_HALF,
                    L->yb - L->yt + 2 * CENSOR_HALF);
    cairo_clip(cr);
    if (o->bands)
        for (size_t g = 0; g < d->ncurve; g++) {
            hs_fig_set_rgb(cr, hs_fig_palette(g), BAND_ALPHA);
            draw_bands(cr, L, &d->curve[g]);
        }
    if (o->medians) {
        cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
        cairo_set_line_width(cr, AXIS_W);
        double dash[] = {3, 2};
        cairo_set_dash(cr, dash, 2, 0);
        double mmax = -1;
        for (size_t g = 0; g < d->ncurve; g++) {
            double m = d->curve[g].median;
            if (!isfinite(m) || m > L->tmax)
                continue;
            cairo_move_to(cr, xs(L, m), ys(L, 0.5));
            cairo_line_to(cr, xs(L, m), L->yb);
            if (m > mmax)
                mmax = m;
        }
        if (mmax >= 0) {
            cairo_move_to(cr, L->x0, ys(L, 0.5));
            cairo_line_to(cr, xs(L, mmax), ys(L, 0.5));
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    for (size_t g = 0; g < d->ncurve; g++)
        draw_curve(cr, L, &d->curve[g], hs_fig_palette(g));
    cairo_restore(cr);

    draw_axes(cr, L, o);
    draw_table(cr, L, d, o);
    free(L);
    (void)h;
    return HS_OK;
}

typedef struct draw_ctx {
    const hs_kmplot_data *d;
    const hs_kmplot_opts *o;
} draw_ctx;

static int draw_cb(cairo_t *cr, double w, double h, void *ctx, hs_error *err)
{
    draw_ctx *c = ctx;
    return hs_kmplot_draw(cr, w, h, c->d, c->o, err);
}

int hs_kmplot_write(const char *base, unsigned mask, const hs_kmplot_data *d, const hs_kmplot_opts *o,
                    hs_error *err)
{
    if (!d || !o)
        return hs_error_set(err, HS_EINVAL, "no Kaplan-Meier data");
    double w, h;
    hs_kmplot_size(d, o, &w, &h);
    draw_ctx c = {d, o};
    return hs_fig_write(base, mask, w, h, draw_cb, &c, err);
}
