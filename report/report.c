/*
 * report: the cohort run's self-contained HTML page (see report.h).
 *
 * The page is written top to bottom in one pass: provenance and parameters,
 * the cohort's HER2 calls and heterogeneity, one section per endpoint
 * (figures, then the tables of its hs_survival_result), the failed slides,
 * the slide-map gallery.  Numbers are shown rounded for reading (3
 * significant digits); the exact values are in the CSV files and
 * results.h5 beside the page.
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/hs_atomic.h"

/* Figures larger than this are not embedded (said so): a page must stay loadable. */
#define FIGURE_MAX_BYTES (64u << 20)

/* ---- text --------------------------------------------------------------------------------------------------- */

void hs_report_escape(FILE *f, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\t':
        case '\n': fputc(*p, f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fputs("&#xFFFD;", f);
            else
                fputc(*p, f);
        }
    }
}

/* A number for reading: 3 significant digits, NA for NaN, Inf/-Inf. */
static const char *num(char *buf, size_t size, double x)
{
    if (isnan(x))
        snprintf(buf, size, "NA");
    else if (isinf(x))
        snprintf(buf, size, "%s", x > 0 ? "Inf" : "-Inf");
    else
        snprintf(buf, size, "%.3g", x);
    return buf;
}

/* A table cell holding a number. */
static void td_num(FILE *f, double x)
{
    char b[64];
    fprintf(f, "<td class=\"n\">%s</td>", num(b, sizeof b, x));
}

/* A table cell holding an escaped string. */
static void td_text(FILE *f, const char *s)
{
    fputs("<td>", f);
    hs_report_escape(f, s);
    fputs("</td>", f);
}

/* A table cell holding a count and its percentage of total. */
static void td_count(FILE *f, size_t k, size_t total)
{
    if (total)
        fprintf(f, "<td class=\"n\">%zu (%.1f%%)</td>", k, 100.0 * (double)k / (double)total);
    else
        fprintf(f, "<td class=\"n\">%zu</td>", k);
}

/* ---- figures ------------------------------------------------------------------------------------------------ */

static void base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char digit[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[4096];
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[o++] = digit[v >> 18 & 63];
        out[o++] = digit[v >> 12 & 63];
        out[o++] = i + 1 < n ? digit[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? digit[v & 63] : '=';
        if (o == sizeof out) {
            fwrite(out, 1, o, f);
            o = 0;
        }
    }
    fwrite(out, 1, o, f);
}

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/*
 * What the bytes are: "image/png" (a complete PNG: signature, IHDR first,
 * IEND last; *w, *h its size), "image/svg+xml", or NULL with the reason.
 */
static const char *image_type(const unsigned char *p, size_t n, unsigned long *w, unsigned long *h, const char **why)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *w = *h = 0;
    if (n >= 8 && !memcmp(p, sig, 8)) {
        if (n < 8 + 25 + 12 || memcmp(p + 12, "IHDR", 4) || memcmp(p + n - 8, "IEND", 4)) {
            *why = "a truncated or damaged PNG file";
            return NULL;
        }
        *w = be32(p + 16);
        *h = be32(p + 20);
        return "image/png";
    }
    size_t i = n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3) ? 3 : 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if ((n - i >= 4 && !memcmp(p + i, "<svg", 4)) || (n - i >= 5 && !memcmp(p + i, "<?xml", 5))) {
        if (!memmem(p, n, "</svg>", 6)) {
            *why = "a truncated SVG file";
            return NULL;
        }
        return "image/svg+xml";
    }
    *why = "not a PNG or SVG image";
    return NULL;
}

/* Reads a whole file: HS_OK, HS_EIO (errno kept; ENOENT: not drawn), HS_EDATA (too large) or HS_ENOMEM. */
static int slurp(const char *path, unsigned char **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return HS_EIO;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = HS_OK;
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? 2 * cap : 65536;
            if (nc > FIGURE_MAX_BYTES + 1)
                nc = FIGURE_MAX_BYTES + 1;
            if (nc == cap) {
                rc = HS_EDATA;
                break;
            }
            unsigned char *b = realloc(buf, nc);
            if (!b) {
                rc = HS_ENOMEM;
                break;
            }
            buf = b;
            cap = nc;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0) {
            if (ferror(f))
                rc = HS_EIO;
            break;
        }
    }
    int e = errno;
    fclose(f);
    if (rc != HS_OK) {
        free(buf);
        errno = e;
        return rc;
    }
    *out = buf;
    *n = len;
    return HS_OK;
}

/* The figure, embedded, or a statement of why it is absent.  HS_OK or HS_ENOMEM. */
static int figure(FILE *f, const hs_report_figure *fig, const char *id)
{
    const char *title = fig->title ? fig->title : "figure";
    unsigned char *owned = NULL;
    const unsigned char *bytes = fig->data;
    size_t n = fig->size;
    const char *why = NULL;
    char whybuf[512];
    if (!bytes && fig->path) {
        int rc = slurp(fig->path, &owned, &n);
        if (rc == HS_ENOMEM)
            return rc;
        if (rc == HS_EIO && errno == ENOENT) {
            why = fig->absent_note ? fig->absent_note : "not drawn";
        } else if (rc == HS_EIO) {
            snprintf(whybuf, sizeof whybuf, "could not be read (%s)", strerror(errno));
            why = whybuf;
        } else if (rc == HS_EDATA) {
            why = "too large to embed";
        }
        bytes = owned;
    } else if (!bytes) {
        why = fig->absent_note ? fig->absent_note : "not drawn";
    }
    unsigned long w = 0, h = 0;
    const char *mime = why ? NULL : image_type(bytes, n, &w, &h, &why);
    fprintf(f, "<figure id=\"%s\" class=\"fig%s\">", id, mime ? "" : " absent");
    if (mime) {
        fprintf(f, "<img src=\"data:%s;base64,", mime);
        base64(f, bytes, n);
        fputs("\" alt=\"", f);
        hs_report_escape(f, title);
        fputc('"', f);
        if (w && h && w < 100000 && h < 100000)
            fprintf(f, " width=\"%lu\" height=\"%lu\"", w, h);
        fputs("><figcaption>", f);
        hs_report_escape(f, title);
        fputs("</figcaption>", f);
    } else {
        fputs("<div class=\"missing\">", f);
        hs_report_escape(f, title);
        fputs(": ", f);
        hs_report_escape(f, why);
        if (fig->path && !fig->data) {
            fputs(" (<code>", f);
            hs_report_escape(f, fig->path);
            fputs("</code>)", f);
        }
        fputs("</div>", f);
    }
    fputs("</figure>\n", f);
    free(owned);
    return HS_OK;
}

/* ---- the page's frame --------------------------------------------------------------------------------------- */

static const char style[] =
    "body{font-family:sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#111;background:#fff;"
    "line-height:1.35}\n"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:1.8em}h3{margin-bottom:.3em}\n"
    "table{border-collapse:collapse;margin:.4em 0 1em}\n"
    "th,td{border:1px solid #bbb;padding:.15em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "code{font-family:monospace;word-break:break-all}\n"
    "nav a{margin-right:1em}\n"
    ".note{color:#444;font-size:.95em}\n"
    ".figs{display:flex;flex-wrap:wrap;gap:1em}\n"
    "figure{margin:0;max-width:100%}figure img{max-width:100%;height:auto;border:1px solid #ddd;background:#fff}\n"
    "figcaption{font-size:.9em;color:#333}\n"
    ".missing{border:1px dashed #999;padding:2em 1.5em;color:#555;font-style:italic;min-width:16em}\n"
    /* a figure named in the URL (report.html#fig-dfs-km) fills the window: a closer look, and the tests'
       screenshot of that one figure */
    "figure:target{position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:10;background:#fff;"
    "display:flex;flex-direction:column;align-items:center;justify-content:center}\n"
    "figure:target img{width:auto;height:auto;max-width:96vw;max-height:calc(100vh - 3em);object-fit:contain}\n";

/* Records script errors and whether every image decoded, as attributes of <html> (read by tests/report). */
static const char selfcheck[] =
    "(function(){var d=document.documentElement,n=0;"
    "window.addEventListener('error',function(){n++;d.setAttribute('data-errors',String(n));},true);"
    "window.addEventListener('load',function(){var im=document.images,bad=0;"
    "for(var i=0;i<im.length;i++){var ok=im[i].complete&&im[i].naturalWidth>0;"
    "im[i].setAttribute('data-decoded',ok?'yes':'no');if(!ok)bad++;}"
    "d.setAttribute('data-images',String(im.length));d.setAttribute('data-undecoded',String(bad));"
    "d.setAttribute('data-errors',String(n));d.setAttribute('data-checked','yes');});})();";

/* ---- sections ----------------------------------------------------------------------------------------------- */

static void row_kv(FILE *f, const char *k, const char *v, int code)
{
    fputs("<tr><th>", f);
    hs_report_escape(f, k);
    fputs(code ? "</th><td><code>" : "</th><td>", f);
    hs_report_escape(f, v ? v : "none");
    fputs(code ? "</code></td></tr>\n" : "</td></tr>\n", f);
}

static void provenance(FILE *f, const hs_report_input *in, size_t nfailed)
{
    fputs("<h2 id=\"run\">The run</h2>\n<table>\n", f);
    row_kv(f, "hetsurv version", in->version, 0);
    row_kv(f, "command line", in->command_line, 1);
    row_kv(f, "manifest", in->manifest, 1);
    row_kv(f, "manifest SHA-256", in->manifest_sha256, 1);
    if (in->controls) {
        row_kv(f, "control table", in->controls, 1);
        row_kv(f, "control table SHA-256", in->controls_sha256, 1);
    }
    if (in->date)
        row_kv(f, "date", in->date, 0);
    fprintf(f, "<tr><th>patients</th><td>%zu: %zu scored, %zu failed</td></tr>\n", in->npatient,
            in->npatient - nfailed, nfailed);
    for (size_t k = 0; k < in->nparam; k++)
        row_kv(f, in->param[k].name, in->param[k].value, 0);
    fputs("</table>\n", f);
    if (in->params_text && *in->params_text) {
        fputs("<details><summary>Scoring parameters</summary>\n<table>\n", f);
        for (const char *p = in->params_text; *p;) {
            size_t len = strcspn(p, "\n"), kl = strcspn(p, " \n");
            if (kl) {
                fputs("<tr><th>", f);
                char key[256], val[1024];
                snprintf(key, sizeof key, "%.*s", (int)(kl < 255 ? kl : 255), p);
                size_t vl = len > kl ? len - kl - 1 : 0;
                snprintf(val, sizeof val, "%.*s", (int)(vl < 1023 ? vl : 1023), p + (len > kl ? kl + 1 : kl));
                hs_report_escape(f, key);
                fputs("</th><td><code>", f);
                hs_report_escape(f, val);
                fputs("</code></td></tr>\n", f);
            }
            p += len + (p[len] == '\n');
        }
        fputs("</table>\n</details>\n", f);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-quantile of sorted x[n] (R's type 7, its default). */
static double quantile(const double *x, size_t n, double p)
{
    double hh = (double)(n - 1) * p;
    size_t lo = (size_t)floor(hh);
    return lo + 1 < n ? x[lo] + (hh - (double)lo) * (x[lo + 1] - x[lo]) : x[lo];
}

/* The score column `name`'s index, or -1. */
static int score_col(const char *name)
{
    for (int j = 0; name && j < HS_SCORE_NCOL; j++)
        if (!strcmp(hs_score_col[j], name))
            return j;
    return -1;
}

/* One row of the metric summary: n, mean, sd, min, quartiles, max over the scored slides' finite values. */
static int metric_row(FILE *f, const hs_report_input *in, int j, int analysed, double *x)
{
    size_t n = 0;
    for (size_t i = 0; i < in->npatient; i++) {
        double v = in->row[i].ok ? hs_score_row_number(&in->row[i], j) : NAN;
        if (isfinite(v))
            x[n++] = v;
    }
    fputs("<tr>", f);
    fprintf(f, "<td>%s%s</td><td class=\"n\">%zu</td>", hs_score_col[j], analysed ? " (analysed)" : "", n);
    if (!n) {
        fputs("<td class=\"n\">NA</td><td class=\"n\">NA</td><td class=\"n\">NA</td><td class=\"n\">NA</td>"
              "<td class=\"n\">NA</td><td class=\"n\">NA</td><td class=\"n\">NA</td></tr>\n", f);
        return HS_OK;
    }
    qsort(x, n, sizeof *x, cmp_double);
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    double mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    td_num(f, mean);
    td_num(f, n > 1 ? sqrt(ss / (double)(n - 1)) : NAN);
    td_num(f, x[0]);
    td_num(f, quantile(x, n, 0.25));
    td_num(f, quantile(x, n, 0.5));
    td_num(f, quantile(x, n, 0.75));
    td_num(f, x[n - 1]);
    fputs("</tr>\n", f);
    return HS_OK;
}

static int cohort(FILE *f, const hs_report_input *in, size_t nfailed)
{
    size_t call[5] = {0}, cat[6] = {0}, pat[5] = {0}, het[3] = {0}, scored = in->npatient - nfailed;
    for (size_t i = 0; i < in->npatient; i++) {
        const hs_score_row *r = &in->row[i];
        if (!r->ok)
            continue;
        int c = r->m.ihc_score, k = r->m.her2_class, p = r->m.pattern, h = r->m.heterogeneous;
        call[c >= 0 && c <= 3 ? c : 4]++;
        cat[k >= 0 && k <= 4 ? k : 5]++;
        pat[p >= 0 && p <= 3 ? p : 4]++;
        het[h == 0 || h == 1 ? h : 2]++;
    }
    fputs("<h2 id=\"cohort\">The cohort</h2>\n", f);
    fprintf(f, "<p>%zu patients, %zu slides scored, %zu failed (<a href=\"#failed\">below</a>). Percentages are of "
               "the scored slides.</p>\n", in->npatient, scored, nfailed);
    if (in->cohort) {
        fputs("<div class=\"figs\">\n", f);
        int rc = figure(f, in->cohort, "fig-cohort");
        fputs("</div>\n", f);
        if (rc != HS_OK)
            return rc;
    }
    fputs("<h3>HER2 IHC score (ASCO/CAP 2018)</h3>\n<table><tr>", f);
    for (int c = 0; c < 4; c++)
        fprintf(f, "<th>%s</th>", hs_her2_call_name((hs_call)c));
    fputs("<th>NA (no tumour cells)</th></tr>\n<tr>", f);
    for (int c = 0; c < 5; c++)
        td_count(f, call[c], scored);
    fputs("</tr></table>\n<h3>HER2 category</h3>\n<table><tr>", f);
    for (int k = 0; k < 5; k++)
        fprintf(f, "<th>%s</th>", hs_her2_category_name((hs_her2_class)k));
    fputs("<th>NA</th></tr>\n<tr>", f);
    for (int k = 0; k < 6; k++)
        td_count(f, cat[k], scored);
    fputs("</tr></table>\n<h3>Heterogeneity pattern</h3>\n<table><tr>", f);
    for (int p = 0; p < 4; p++)
        fprintf(f, "<th>%s</th>", hs_her2_pattern_name((hs_pattern)p));
    fputs("<th>NA</th></tr>\n<tr>", f);
    for (int p = 0; p < 5; p++)
        td_count(f, pat[p], scored);
    fputs("</tr></table>\n<h3>Heterogeneous flag (pattern not homogeneous)</h3>\n<table><tr><th>heterogeneous</th>"
          "<th>homogeneous</th><th>NA</th></tr>\n<tr>", f);
    td_count(f, het[1], scored);
    td_count(f, het[0], scored);
    td_count(f, het[2], scored);
    fputs("</tr></table>\n", f);

    fputs("<h3>Heterogeneity metrics</h3>\n<p class=\"note\">Over the scored slides with a value; sd with n&minus;1, "
          "quartiles as R's <code>quantile()</code>. Definitions: docs/scoring-metrics.md.</p>\n"
          "<table><tr><th>metric</th><th>n</th><th>mean</th><th>sd</th><th>min</th><th>Q1</th><th>median</th>"
          "<th>Q3</th><th>max</th></tr>\n", f);
    double *x = malloc((in->npatient ? in->npatient : 1) * sizeof *x);
    if (!x)
        return HS_ENOMEM;
    static const char *const shown[] = {"hscore", "entropy", "simpson", "tile_cv", "discordant_frac", "morans_i"};
    int metric = score_col(in->metric), metric_shown = 0;
    for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++) {
        int j = score_col(shown[k]);
        metric_shown |= j == metric;
        metric_row(f, in, j, j == metric, x);
    }
    /* the 0/1 flag is counted above; any other analysed number column gets its row */
    if (metric >= 0 && !metric_shown && hs_score_col_kind[metric] == HS_SCOL_NUMBER &&
        strcmp(in->metric, "heterogeneous"))
        metric_row(f, in, metric, 1, x);
    free(x);
    fputs("</table>\n", f);
    return HS_OK;
}

static void survival_tables(FILE *f, const hs_survival_result *r)
{
    double events = 0;
    for (size_t k = 0; k < r->ncurve; k++)
        events += r->curve[k].km->events;
    fprintf(f, "<p>Kaplan-Meier on %zu patients (%zu dropped for missing values), %.0f events", r->km_n,
            r->km_dropped, events);
    if (r->group) {
        fputs("; groups by <code>", f);
        hs_report_escape(f, r->group);
        fputs("</code>", f);
    }
    fputs(".</p>\n", f);
    if (r->cut != HS_CUT_NONE) {
        char b[64];
        fputs("<p>Cut: <code>", f);
        hs_report_escape(f, r->group);
        fprintf(f, "</code> high when &ge; %s (%zu low, %zu high), ", num(b, sizeof b, r->cut_value), r->cut_n[0],
                r->cut_n[1]);
        fputs(r->cut == HS_CUT_OPTIMAL
                  ? "<strong>chosen from the data</strong> (maximally selected log-rank statistic); only the maxstat "
                    "p-value is corrected for the cutpoints tried.</p>\n"
                  : "pre-specified.</p>\n",
              f);
    }

    fputs("<h3>Survival by group</h3>\n<table><tr><th>curve</th><th>n</th><th>events</th><th>median</th>"
          "<th>95% CI</th><th>RMST</th><th>RMST se</th></tr>\n", f);
    for (size_t k = 0; k < r->ncurve; k++) {
        const hs_survival_curve *c = &r->curve[k];
        char lo[64], hi[64];
        fputs("<tr>", f);
        td_text(f, c->name);
        fprintf(f, "<td class=\"n\">%zu</td>", c->km->n);
        td_num(f, c->km->events);
        td_num(f, c->median);
        fprintf(f, "<td class=\"n\">%s&ndash;%s</td>", num(lo, sizeof lo, c->median_lower),
                num(hi, sizeof hi, c->median_upper));
        td_num(f, c->rmst);
        td_num(f, c->rmst_se);
        fputs("</tr>\n", f);
    }
    char tb[64];
    fprintf(f, "</table>\n<p class=\"note\">Median NA: not reached. RMST: restricted mean up to %s.</p>\n",
            num(tb, sizeof tb, r->tau));

    if (r->logrank_done && r->logrank) {
        fputs("<h3>Log-rank: observed and expected events</h3>\n<table><tr><th>group</th><th>observed</th>"
              "<th>expected</th></tr>\n", f);
        for (size_t k = 0; k < r->logrank->ngroup && k < r->nlevel; k++) {
            fputs("<tr><td>", f);
            hs_report_escape(f, r->group);
            fputc('=', f);
            hs_report_escape(f, r->level[k]);
            fputs("</td>", f);
            td_num(f, r->logrank->obs[k]);
            td_num(f, r->logrank->exp[k]);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    } else if (r->logrank_one_group) {
        fputs("<p>Log-rank test not computed: only one group has data.</p>\n", f);
    }

    if (r->cox) {
        fprintf(f, "<h3>Cox model</h3>\n<p>%zu patients (%zu dropped for missing values), %.0f events; ties %s; "
                   "%s after %d iteration%s; concordance ",
                r->cox->n, r->cox_dropped, r->cox->nevent, r->ties == HS_TIES_BRESLOW ? "Breslow" : "Efron",
                r->cox->converged ? "converged" : "<strong>did not converge</strong>", r->cox->iter,
                r->cox->iter == 1 ? "" : "s");
        char c1[64], c2[64];
        fprintf(f, "%s (se %s).</p>\n", num(c1, sizeof c1, r->concordance.c),
                num(c2, sizeof c2, sqrt(r->concordance.var)));
        fputs("<table><tr><th>term</th><th>coef</th><th>se</th><th>HR</th><th>95% CI</th><th>p</th><th>note</th>"
              "</tr>\n", f);
        for (size_t j = 0; j < r->ncoef; j++) {
            const hs_cox_coef *c = &r->coef[j];
            char lo[64], hi[64];
            fputs("<tr>", f);
            td_text(f, r->coef_name[j]);
            td_num(f, c->coef);
            td_num(f, c->se);
            td_num(f, c->hr);
            fprintf(f, "<td class=\"n\">%s&ndash;%s</td>", num(lo, sizeof lo, c->hr_lower95),
                    num(hi, sizeof hi, c->hr_upper95));
            td_num(f, c->p);
            td_text(f, c->flag == HS_COX_COEF_INFINITE ? "infinite: the coefficient diverges; se, CI and p are "
                                                         "meaningless (the LR test stands)"
                       : c->flag == HS_COX_COEF_ALIASED ? "aliased: not estimable"
                       : c->flag == HS_COX_COEF_DEGENERATE
                           ? "degenerate: its variance is 0 or not finite (a covariate on an extreme scale); "
                             "se, CI and p not given"
                                                        : "");
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    } else {
        fputs("<p>No Cox model was fitted.</p>\n", f);
    }

    if (r->ntest) {
        fputs("<h3>Tests</h3>\n<table><tr><th>test</th><th>statistic</th><th>df</th><th>p</th></tr>\n", f);
        for (size_t k = 0; k < r->ntest; k++) {
            const hs_survival_test *t = &r->test[k];
            fputs("<tr>", f);
            td_text(f, t->name);
            td_num(f, t->statistic);
            td_num(f, t->df);
            td_num(f, t->p);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    if (r->zph_note) {
        fputs("<p class=\"note\">cox.zph not computed: ", f);
        hs_report_escape(f, r->zph_note);
        fputs("</p>\n", f);
    }
}

static int endpoint(FILE *f, const hs_report_endpoint *e)
{
    const char *id = e->id ? e->id : "endpoint";
    fprintf(f, "<h2 id=\"%s\">", id);
    hs_report_escape(f, e->name ? e->name : id);
    fputs("</h2>\n<div class=\"figs\">\n", f);
    char fid[128];
    snprintf(fid, sizeof fid, "fig-%s-km", id);
    int rc = figure(f, &e->km, fid);
    snprintf(fid, sizeof fid, "fig-%s-forest", id);
    if (rc == HS_OK)
        rc = figure(f, &e->forest, fid);
    fputs("</div>\n", f);
    if (rc != HS_OK)
        return rc;
    if (e->result)
        survival_tables(f, e->result);
    else
        fputs("<p>Not analysed.</p>\n", f);
    return HS_OK;
}

static void failed(FILE *f, const hs_report_input *in, size_t nfailed)
{
    fputs("<h2 id=\"failed\">Failed slides</h2>\n", f);
    if (!nfailed) {
        fputs("<p>None: every slide was scored.</p>\n", f);
        return;
    }
    fprintf(f, "<p>%zu slide%s could not be scored; %s excluded from the analysis.</p>\n", nfailed,
            nfailed == 1 ? "" : "s", nfailed == 1 ? "it is" : "they are");
    fputs("<table class=\"failed\"><tr><th>patient</th><th>slide</th><th>reason</th></tr>\n", f);
    for (size_t i = 0; i < in->npatient; i++) {
        if (in->row[i].ok)
            continue;
        fputs("<tr class=\"failed-slide\">", f);
        td_text(f, in->patient_id ? in->patient_id[i] : "");
        td_text(f, in->slide ? in->slide[i] : "");
        td_text(f, in->row[i].error[0] ? in->row[i].error : "unknown");
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static int gallery(FILE *f, const hs_report_input *in)
{
    fputs("<h2 id=\"maps\">Slide maps</h2>\n", f);
    if (!in->nmap) {
        fputs("<p>No slide maps were drawn for this run.</p>\n", f);
        return HS_OK;
    }
    if (in->map_note) {
        fputs("<p>", f);
        hs_report_escape(f, in->map_note);
        fputs("</p>\n", f);
    }
    fputs("<div class=\"figs\">\n", f);
    for (size_t k = 0; k < in->nmap; k++) {
        char fid[64];
        snprintf(fid, sizeof fid, "fig-map-%zu", k + 1);
        int rc = figure(f, &in->map[k], fid);
        if (rc != HS_OK)
            return rc;
    }
    fputs("</div>\n", f);
    return HS_OK;
}

/* ---- the page ----------------------------------------------------------------------------------------------- */

int hs_report_fprint(FILE *f, const hs_report_input *in, hs_error *err)
{
    if (!f || !in || (in->npatient && !in->row) || (in->nendpoint && !in->endpoint) || (in->nmap && !in->map))
        return hs_error_set(err, HS_EINVAL, "hs_report_fprint: NULL argument");
    size_t nfailed = 0;
    for (size_t i = 0; i < in->npatient; i++)
        nfailed += !in->row[i].ok;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>hetsurv cohort report</title>\n<style>\n", f);
    fputs(style, f);
    fputs("</style>\n<script>", f);
    fputs(selfcheck, f);
    fputs("</script>\n</head>\n<body>\n<h1>hetsurv cohort report</h1>\n<nav><a href=\"#run\">Run</a>"
          "<a href=\"#cohort\">Cohort</a>", f);
    for (size_t k = 0; k < in->nendpoint; k++) {
        const hs_report_endpoint *e = &in->endpoint[k];
        fprintf(f, "<a href=\"#%s\">", e->id ? e->id : "endpoint");
        hs_report_escape(f, e->name ? e->name : e->id);
        fputs("</a>", f);
    }
    fputs("<a href=\"#failed\">Failed slides</a><a href=\"#maps\">Slide maps</a></nav>\n", f);
    provenance(f, in, nfailed);
    int rc = cohort(f, in, nfailed);
    for (size_t k = 0; rc == HS_OK && k < in->nendpoint; k++)
        rc = endpoint(f, &in->endpoint[k]);
    if (rc == HS_OK) {
        failed(f, in, nfailed);
        rc = gallery(f, in);
    }
    if (rc != HS_OK)
        return hs_error_set(err, rc, "out of memory");
    fputs("<p class=\"note\">Numbers are rounded to 3 significant digits here; the exact values are in the CSV "
          "files and results.h5 beside this page.</p>\n</body>\n</html>\n", f);
    if (ferror(f))
        return hs_error_set(err, HS_EIO, "cannot write the report");
    return HS_OK;
}

int hs_report_write(const hs_report_input *in, const char *path, hs_error *err)
{
    if (!in || !path)
        return hs_error_set(err, HS_EINVAL, "hs_report_write: NULL argument");
    char *tmp;
    FILE *f = hs_atomic_open(path, "w", &tmp, err);
    if (!f)
        return err ? err->code : HS_EIO;
    int rc = hs_report_fprint(f, in, err);
    if (rc != HS_OK) {
        hs_atomic_abort(f, tmp);
        if (rc == HS_EIO)
            return hs_error_set(err, HS_EIO, "%s: cannot write: %s", path, strerror(errno));
        return rc;
    }
    return hs_atomic_commit(f, tmp, path, err);
}
