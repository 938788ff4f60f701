/*
 * calib: membrane DAB cuts of a staining batch (see calib.h).
 *
 * Histograms are smoothed with a Gaussian of SIGMA_BINS bins (0.02 OD) before
 * modes and valleys are looked for: enough to remove counting noise, well
 * below the spacing of the classes.  A mode is a local maximum holding at
 * least MODE_FRAC of the highest one; two modes are separate when the lowest
 * point between them is at most VALLEY_DEPTH times the lower mode.
 */
#include "calib.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#define SIGMA_BINS 2.0
#define MODE_FRAC 0.05
#define VALLEY_DEPTH 0.5
#define MIN_CONTROL_CELLS 20
#define ARC_QUANTILE 0.7
#define LEAK_SIGMA_BINS 1.0 /* ratio bins (0.02) */
#define LEAK_MAX 0.75       /* a leak above this is not a leak but two stained membranes */
#define LEAK_MIN_COUNT 50.0 /* sectors (smoothed count) for a mode of the ratio */
#define LEAK_DIP 0.05       /* ... and the dip that separates it from the mode of alike borders above */

void hs_calib_hist_clear(hs_calib_hist *h)
{
    memset(h, 0, sizeof *h);
}

static int bin_of(double v)
{
    double b = floor(v / HS_CALIB_BIN);
    return b < 0 || isnan(b) ? 0 : b > HS_CALIB_BINS - 1 ? HS_CALIB_BINS - 1 : (int)b;
}

void hs_calib_hist_add_cell(hs_calib_hist *h, const float *stain, const float *peak, int n, double complete)
{
    if (n <= 0)
        return;
    for (int k = 0; k < n; k++)
        h->sector[bin_of(stain[k])]++;
    int m = (int)ceil(complete * n - 1e-9);
    m = m < 1 ? 1 : m > n ? n : m;
    float top[HS_CELL_MAX_SECTORS];
    for (int k = 0; k < m; k++) { /* the peaks of the m most stained sectors, sorted */
        float v = peak[n - m + k];
        int j = k;
        for (; j > 0 && top[j - 1] > v; j--)
            top[j] = top[j - 1];
        top[j] = v;
    }
    double b = m % 2 ? top[m / 2] : 0.5 * ((double)top[m / 2 - 1] + top[m / 2]);
    h->pair[bin_of(stain[n - m])][bin_of(b)]++;
    h->cells++;
}

typedef struct add_ctx {
    hs_calib_hist *h;
    double complete;
    const double *rect;
    double leak;
} add_ctx;

static int add_rec(void *ctx, const hs_cellrec *r)
{
    add_ctx *a = ctx;
    if (a->rect && !(r->x_um >= a->rect[0] && r->x_um < a->rect[2] && r->y_um >= a->rect[1] && r->y_um < a->rect[3]))
        return 0;
    float st[HS_CELL_MAX_SECTORS], pk[HS_CELL_MAX_SECTORS];
    hs_cell_unmix(r->stain, r->peak, r->ostain, r->opeak, r->nsector, a->leak, st, pk);
    hs_calib_hist_add_cell(a->h, st, pk, r->nsector, a->complete);
    return 0;
}

int hs_calib_hist_add_store(hs_calib_hist *h, const hs_cellstore *s, double complete, const double *rect, double leak,
                            hs_error *err)
{
    add_ctx a = {h, complete, rect, leak};
    return hs_cellstore_read(s, add_rec, &a, err);
}

static void smooth_sigma(const double *in, double *out, int n, double sigma);

/* ---- leak across borders ------------------------------------------------------------------------------------- */

void hs_leak_hist_add_cell(hs_leak_hist *h, const float *peak, const float *opeak, int n)
{
    for (int k = 0; k < n; k++) {
        if (opeak[k] < 0)
            continue;
        double a = peak[k] > 0 ? peak[k] : 0, b = opeak[k] > 0 ? opeak[k] : 0, hi = a > b ? a : b, lo = a > b ? b : a;
        if (!(hi > 0))
            continue;
        int mb = (int)(hi / 0.02), rb = (int)(lo / hi / 0.02);
        mb = mb >= HS_LEAK_MAXBINS ? HS_LEAK_MAXBINS - 1 : mb;
        rb = rb >= HS_LEAK_RBINS ? HS_LEAK_RBINS - 1 : rb;
        h->n[mb][rb]++;
    }
}

static int leak_rec(void *ctx, const hs_cellrec *r)
{
    hs_leak_hist_add_cell(ctx, r->peak, r->opeak, r->nsector);
    return 0;
}

int hs_leak_hist_add_store(hs_leak_hist *h, const hs_cellstore *s, hs_error *err)
{
    return hs_cellstore_read(s, leak_rec, h, err);
}

void hs_leak_hist_sum(hs_leak_hist *h, const hs_leak_hist *a)
{
    for (int i = 0; i < HS_LEAK_MAXBINS; i++)
        for (int j = 0; j < HS_LEAK_RBINS; j++)
            h->n[i][j] += a->n[i][j];
}

double hs_leak_estimate(const hs_leak_hist *h, char *note, size_t note_size)
{
    double marg[HS_LEAK_MAXBINS] = {0}, tot = 0;
    for (int i = 0; i < HS_LEAK_MAXBINS; i++)
        for (int j = 0; j < HS_LEAK_RBINS; j++) {
            marg[i] += h->n[i][j];
            tot += h->n[i][j];
        }
    if (!(tot > 0)) {
        if (note)
            snprintf(note, note_size, "no facing membranes: leak 0");
        return 0;
    }
    int t = HS_LEAK_MAXBINS - 1;
    for (double c = 0; t > 0 && (c += marg[t]) < 0.25 * tot; t--)
        ;
    double raw[HS_LEAK_RBINS] = {0}, sm[HS_LEAK_RBINS];
    for (int i = t; i < HS_LEAK_MAXBINS; i++)
        for (int j = 0; j < HS_LEAK_RBINS; j++)
            raw[j] += h->n[i][j];
    smooth_sigma(raw, sm, HS_LEAK_RBINS, LEAK_SIGMA_BINS);
    /*
     * The lowest local maximum below LEAK_MAX that holds at least LEAK_MIN_COUNT sectors and dips by at least
     * LEAK_DIP before the next maximum above it: the borders between stained and unstained cells, however few
     * beside the borders of alike cells.
     */
    for (int j = 1; j < HS_LEAK_RBINS - 1; j++) {
        double centre = (j + 0.5) * 0.02;
        if (centre >= LEAK_MAX)
            break;
        if (!(sm[j] >= sm[j - 1] && sm[j] > sm[j + 1] && sm[j] >= LEAK_MIN_COUNT))
            continue;
        double low = sm[j];
        int k = j + 1;
        for (; k < HS_LEAK_RBINS - 1 && !(sm[k] >= sm[k - 1] && sm[k] > sm[k + 1]); k++)
            low = sm[k] < low ? sm[k] : low;
        for (int q = j + 1; q <= k; q++)
            low = sm[q] < low ? sm[q] : low;
        if (low > (1 - LEAK_DIP) * sm[j])
            continue;
        if (note)
            snprintf(note, note_size, "leak %.2f: the mode of stained-unstained borders (strongest quarter above %.2f OD)",
                     centre, t * 0.02);
        return centre;
    }
    if (note)
        snprintf(note, note_size, "no stained-unstained borders: leak 0");
    return 0;
}

void hs_calib_hist_sum(hs_calib_hist *h, const hs_calib_hist *a)
{
    h->cells += a->cells;
    for (int i = 0; i < HS_CALIB_BINS; i++) {
        h->sector[i] += a->sector[i];
        for (int j = 0; j < HS_CALIB_BINS; j++)
            h->pair[i][j] += a->pair[i][j];
    }
}

/* Gaussian smoothing (sigma in bins) of n counts. */
static void smooth_sigma(const double *in, double *out, int n, double sigma)
{
    int r = (int)ceil(3 * sigma);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int k = -r; k <= r; k++)
            if (i + k >= 0 && i + k < n)
                s += in[i + k] * exp(-0.5 * (k / sigma) * (k / sigma));
        out[i] = s;
    }
}

static void smooth(const double *in, double *out, int n)
{
    smooth_sigma(in, out, n, SIGMA_BINS);
}

/* Complete-membrane intensities: cells complete at the cut bin c1 (a >= c1), by their b bin. */
static void complete_intensity(const hs_calib_hist *h, int c1, double *out)
{
    for (int b = 0; b < HS_CALIB_BINS; b++)
        out[b] = 0;
    for (int a = c1 < 0 ? 0 : c1; a < HS_CALIB_BINS; a++)
        for (int b = 0; b < HS_CALIB_BINS; b++)
            out[b] += (double)h->pair[a][b];
}

/* Local maxima of s holding at least MODE_FRAC of the highest, in increasing order; returns their number. */
static int modes(const double *s, int n, int *at, int max)
{
    double top = 0;
    for (int i = 0; i < n; i++)
        top = s[i] > top ? s[i] : top;
    if (!(top > 0))
        return 0;
    int k = 0;
    for (int i = 0; i < n && k < max; i++) {
        double l = i ? s[i - 1] : -1, r = i < n - 1 ? s[i + 1] : -1;
        if (s[i] >= l && s[i] > r && s[i] >= MODE_FRAC * top)
            at[k++] = i;
    }
    return k;
}

/* The lowest point of s strictly between modes a < b, or -1 when it is not a valley (VALLEY_DEPTH). */
static int valley(const double *s, int a, int b)
{
    int v = -1;
    for (int i = a + 1; i < b; i++)
        if (v < 0 || s[i] < s[v])
            v = i;
    double lo = s[a] < s[b] ? s[a] : s[b];
    return v >= 0 && s[v] <= VALLEY_DEPTH * lo ? v : -1;
}

void hs_calib_fixed(const double fixed[3], hs_calib_cuts *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->od, fixed, sizeof out->od);
    out->method = HS_CALIB_FIXED;
    snprintf(out->note, sizeof out->note, "fixed cuts");
}

void hs_calib_cohort(const hs_calib_hist *h, const double fixed[3], double complete, hs_calib_cuts *out)
{
    (void)complete;
    hs_calib_fixed(fixed, out);
    out->method = HS_CALIB_COHORT;
    double raw[HS_CALIB_BINS], s[HS_CALIB_BINS];
    int at[HS_CALIB_BINS];
    /* od_1: the valley above the lowest mode of all membrane sectors (unstained) */
    for (int i = 0; i < HS_CALIB_BINS; i++)
        raw[i] = (double)h->sector[i];
    smooth(raw, s, HS_CALIB_BINS);
    int nm = modes(s, HS_CALIB_BINS, at, HS_CALIB_BINS), c1 = -1;
    for (int k = 1; k < nm && c1 < 0; k++)
        c1 = valley(s, at[0], at[k]);
    if (c1 >= 0) {
        out->od[0] = c1 * HS_CALIB_BIN;
        out->found |= 1;
    }
    /* od_3: the valley between the two largest modes of complete-membrane intensity */
    complete_intensity(h, bin_of(out->od[0]), raw);
    smooth(raw, s, HS_CALIB_BINS);
    nm = modes(s, HS_CALIB_BINS, at, HS_CALIB_BINS);
    int p = -1, q = -1;
    for (int k = 0; k < nm; k++) {
        if (p < 0 || s[at[k]] > s[p]) {
            q = p;
            p = at[k];
        } else if (q < 0 || s[at[k]] > s[q]) {
            q = at[k];
        }
    }
    int c3 = p >= 0 && q >= 0 ? valley(s, p < q ? p : q, p < q ? q : p) : -1;
    if (c3 >= 0 && c3 * HS_CALIB_BIN > out->od[0]) {
        out->od[2] = c3 * HS_CALIB_BIN;
        out->found |= 4;
    }
    if (out->found) {
        out->od[1] = 0.5 * (out->od[0] + out->od[2]);
        out->found |= 2;
    }
    if (!(out->od[0] < out->od[1] && out->od[1] < out->od[2])) {
        hs_calib_fixed(fixed, out);
        out->method = HS_CALIB_COHORT;
        snprintf(out->note, sizeof out->note, "cohort: the cuts found were not increasing; fixed cuts kept");
        return;
    }
    snprintf(out->note, sizeof out->note, "cohort: od_1 %s, od_3 %s (%llu cells)",
             out->found & 1 ? "at the valley above unstained membranes" : "fixed (no valley)",
             out->found & 4 ? "at the valley between complete-membrane modes" : "fixed (one complete-membrane mode)",
             (unsigned long long)h->cells);
}

/* Normalised, smoothed copy of n counts; 0 when they are all 0. */
static int density(const double *in, double *out, int n)
{
    double t = 0;
    smooth(in, out, n);
    for (int i = 0; i < n; i++)
        t += out[i];
    if (!(t > 0))
        return 0;
    for (int i = 0; i < n; i++)
        out[i] /= t;
    return 1;
}

static int median_bin(const double *d, int n)
{
    double c = 0;
    for (int i = 0; i < n; i++)
        if ((c += d[i]) >= 0.5)
            return i;
    return n - 1;
}

/*
 * The cut (a bin boundary) between a lower class with density f and an
 * upper one with density g that minimises P_f(x >= c) + P_g(x < c), searched
 * between their medians; -1 when the medians are not in that order.
 */
static int bayes_cut(const double *f, const double *g, int n)
{
    int mf = median_bin(f, n), mg = median_bin(g, n);
    if (mf >= mg)
        return -1;
    double above = 0, below = 0;
    for (int i = mf + 1; i < n; i++)
        above += f[i];
    for (int i = 0; i <= mf; i++)
        below += g[i];
    int best = mf + 1, lo = best, hi = best;
    double best_err = INFINITY;
    for (int c = mf + 1; c <= mg; c++) {
        double e = above + below;
        if (e < best_err - 1e-12) {
            best_err = e;
            lo = hi = best = c;
        } else if (fabs(e - best_err) <= 1e-12) {
            hi = c;
        }
        above -= f[c];
        below += g[c];
    }
    (void)best;
    return (lo + hi) / 2;
}

int hs_calib_controls(const hs_calib_hist *const k[4], double complete, hs_calib_cuts *out, hs_error *err)
{
    (void)complete;
    static const char *const name[4] = {"0", "1+", "2+", "3+"};
    memset(out, 0, sizeof *out);
    out->method = HS_CALIB_CONTROLS;
    for (int i = 0; i < 4; i++)
        if (!k[i] || k[i]->cells < MIN_CONTROL_CELLS)
            return hs_error_set(err, HS_EDATA, "the %s control area has %llu tumour cells (at least %d needed)",
                                name[i], k[i] ? (unsigned long long)k[i]->cells : 0ULL, MIN_CONTROL_CELLS);
    double raw[HS_CALIB_BINS], neg[HS_CALIB_BINS], arc[HS_CALIB_BINS], i2[HS_CALIB_BINS], i3[HS_CALIB_BINS];
    for (int b = 0; b < HS_CALIB_BINS; b++)
        raw[b] = (double)k[0]->sector[b];
    if (!density(raw, neg, HS_CALIB_BINS))
        return hs_error_set(err, HS_EDATA, "the 0 control area has no membrane measurements");
    /* the 1+ area's stained arcs: its sectors above their ARC_QUANTILE quantile */
    double tot = 0, cum = 0;
    for (int b = 0; b < HS_CALIB_BINS; b++)
        tot += (double)k[1]->sector[b];
    for (int b = 0; b < HS_CALIB_BINS; b++) {
        double c = (double)k[1]->sector[b], lo = ARC_QUANTILE * tot;
        raw[b] = cum + c <= lo ? 0 : cum >= lo ? c : cum + c - lo;
        cum += c;
    }
    if (!density(raw, arc, HS_CALIB_BINS))
        return hs_error_set(err, HS_EDATA, "the 1+ control area has no membrane measurements");
    int c1 = bayes_cut(neg, arc, HS_CALIB_BINS);
    if (c1 < 0)
        return hs_error_set(err, HS_EDATA, "the 1+ control membranes are not stronger than the 0 control's");
    complete_intensity(k[2], c1, raw);
    if (!density(raw, i2, HS_CALIB_BINS))
        return hs_error_set(err, HS_EDATA, "the 2+ control area has no complete membranes at od_1 = %.2f",
                            c1 * HS_CALIB_BIN);
    complete_intensity(k[3], c1, raw);
    if (!density(raw, i3, HS_CALIB_BINS))
        return hs_error_set(err, HS_EDATA, "the 3+ control area has no complete membranes at od_1 = %.2f",
                            c1 * HS_CALIB_BIN);
    int c2 = bayes_cut(arc, i2, HS_CALIB_BINS), c3 = bayes_cut(i2, i3, HS_CALIB_BINS);
    if (c2 < 0)
        return hs_error_set(err, HS_EDATA, "the 2+ control membranes are not stronger than the 1+ control's");
    if (c3 < 0)
        return hs_error_set(err, HS_EDATA, "the 3+ control membranes are not stronger than the 2+ control's");
    if (!(c1 < c2 && c2 < c3))
        return hs_error_set(err, HS_EDATA, "the control cuts are not increasing (%.2f, %.2f, %.2f)",
                            c1 * HS_CALIB_BIN, c2 * HS_CALIB_BIN, c3 * HS_CALIB_BIN);
    out->od[0] = c1 * HS_CALIB_BIN;
    out->od[1] = c2 * HS_CALIB_BIN;
    out->od[2] = c3 * HS_CALIB_BIN;
    out->found = 7;
    snprintf(out->note, sizeof out->note, "controls: %llu/%llu/%llu/%llu cells in the 0/1+/2+/3+ areas",
             (unsigned long long)k[0]->cells, (unsigned long long)k[1]->cells, (unsigned long long)k[2]->cells,
             (unsigned long long)k[3]->cells);
    return HS_OK;
}

const char *hs_calib_mode_name(hs_calib_mode m)
{
    switch (m) {
    case HS_CALIB_FIXED: return "fixed";
    case HS_CALIB_COHORT: return "cohort";
    case HS_CALIB_CONTROLS: return "controls";
    case HS_CALIB_AUTO: return "auto";
    }
    return "?";
}

int hs_calib_mode_parse(const char *s, hs_calib_mode *out)
{
    for (int m = HS_CALIB_FIXED; m <= HS_CALIB_AUTO; m++)
        if (strcasecmp(s, hs_calib_mode_name((hs_calib_mode)m)) == 0) {
            *out = (hs_calib_mode)m;
            return 0;
        }
    return -1;
}
