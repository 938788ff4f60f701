/*
 * metrics: slide-level HER2 summaries and heterogeneity metrics from a tile
 * map of per-cell classes (see metrics.h; every formula and default is
 * written out in docs/scoring-metrics.md).
 */
#include "metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_statistics_double.h>

hs_tilemap *hs_tilemap_alloc(size_t nx, size_t ny, double tile_um)
{
    if (!(tile_um > 0.0) || !isfinite(tile_um))
        return NULL;
    if (nx && ny > SIZE_MAX / nx / HS_NCLASS)
        return NULL;
    hs_tilemap *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    size_t n = nx * ny * HS_NCLASS;
    m->count = calloc(n ? n : 1, sizeof *m->count); /* never NULL on success, also for an empty grid */
    if (!m->count) {
        free(m);
        return NULL;
    }
    m->nx = nx;
    m->ny = ny;
    m->tile_um = tile_um;
    return m;
}

void hs_tilemap_free(hs_tilemap *m)
{
    if (!m)
        return;
    free(m->count);
    free(m);
}

void hs_tilemap_add(hs_tilemap *m, double x_um, double y_um, hs_class k)
{
    if (!m || (int)k < 0 || k >= HS_NCLASS)
        return;
    double fx = floor(x_um / m->tile_um), fy = floor(y_um / m->tile_um);
    /* The comparisons are false for NAN, so non-finite positions are dropped too. */
    if (!(fx >= 0.0 && fx < (double)m->nx && fy >= 0.0 && fy < (double)m->ny))
        return;
    size_t ix = (size_t)fx, iy = (size_t)fy;
    m->count[(iy * m->nx + ix) * HS_NCLASS + (size_t)k]++;
}

/* Class fractions of counts c[4] with total n (> 0). */
static void fractions(const unsigned long *c, unsigned long n, double f[HS_NCLASS])
{
    for (int k = 0; k < HS_NCLASS; k++)
        f[k] = (double)c[k] / (double)n;
}

static unsigned long total(const unsigned long *c)
{
    return c[0] + c[1] + c[2] + c[3];
}

/* Normalised Shannon entropy -sum p ln p / ln 4 with 0 ln 0 = 0. */
static double entropy(const double f[HS_NCLASS])
{
    double h = 0.0;
    for (int k = 0; k < HS_NCLASS; k++)
        if (f[k] > 0.0)
            h -= f[k] * log(f[k]);
    return h / log((double)HS_NCLASS);
}

static double gini_simpson(const double f[HS_NCLASS])
{
    double s = 0.0;
    for (int k = 0; k < HS_NCLASS; k++)
        s += f[k] * f[k];
    return 1.0 - s;
}

/*
 * Global Moran's I of the tumour-tile H-scores hs[] (NAN on non-tumour tiles)
 * with binary rook weights among tumour tiles: each ordered pair of
 * edge-sharing tumour tiles has w_ij = 1.  NAN when N < 3, W = 0 or the
 * H-scores are all equal.
 */
static double morans_i(const double *hs, size_t nx, size_t ny, size_t ntile, double mean)
{
    if (ntile < 3)
        return NAN;
    double lo = INFINITY, hi = -INFINITY, ss = 0.0;
    for (size_t t = 0; t < nx * ny; t++) {
        if (isnan(hs[t]))
            continue;
        lo = fmin(lo, hs[t]);
        hi = fmax(hi, hs[t]);
        double z = hs[t] - mean;
        ss += z * z;
    }
    /* Exact test: equal proportions give bit-identical tile H-scores, while the rounding in mean could leave
     * ss at 1e-28 instead of 0 and turn a constant map into a meaningless I. */
    if (lo == hi || !(ss > 0.0))
        return NAN;
    double cross = 0.0, w = 0.0;
    for (size_t iy = 0; iy < ny; iy++) {
        for (size_t ix = 0; ix < nx; ix++) {
            double a = hs[iy * nx + ix];
            if (isnan(a))
                continue;
            /* each unordered pair once (right and lower neighbour), counted twice for w_ij and w_ji */
            if (ix + 1 < nx && !isnan(hs[iy * nx + ix + 1])) {
                cross += 2.0 * (a - mean) * (hs[iy * nx + ix + 1] - mean);
                w += 2.0;
            }
            if (iy + 1 < ny && !isnan(hs[(iy + 1) * nx + ix])) {
                cross += 2.0 * (a - mean) * (hs[(iy + 1) * nx + ix] - mean);
                w += 2.0;
            }
        }
    }
    if (w == 0.0)
        return NAN;
    return ((double)ntile / w) * cross / ss;
}

/*
 * The spatial pattern from the minority-phenotype fraction m, which phenotype
 * is the minority (high_minority: 2+/3+ cells are not more numerous than
 * 0/1+ cells) and Moran's I.
 */
static hs_pattern pattern_rule(const hs_her2_params *p, double m, int high_minority, double mi)
{
    if (isnan(m))
        return HS_PATTERN_NA;
    if (m <= p->scattered_frac)
        return HS_PATTERN_HOMOGENEOUS;
    if (m <= p->het_frac)
        return high_minority ? HS_PATTERN_SCATTERED : HS_PATTERN_HOMOGENEOUS;
    return mi >= p->cluster_moran ? HS_PATTERN_CLUSTERED : HS_PATTERN_MOSAIC; /* NAN compares false: mosaic */
}

static void set_na(hs_slide_metrics *r)
{
    r->n_cells = 0;
    r->n_tiles = 0;
    for (int k = 0; k < HS_NCLASS; k++)
        r->p[k] = NAN;
    r->hscore = NAN;
    r->ihc_score = HS_CALL_NA;
    r->her2_class = HS_HER2_NA;
    r->entropy = NAN;
    r->simpson = NAN;
    r->tile_cv = NAN;
    r->discordant_frac = NAN;
    r->morans_i = NAN;
    r->minority_frac = NAN;
    r->pattern = HS_PATTERN_NA;
    r->heterogeneous = -1;
}

int hs_metrics_compute(const hs_tilemap *m, const hs_her2_params *p, hs_ish ish, hs_slide_metrics *out,
                       hs_error *err)
{
    if (!m || !p || !out || !m->count)
        return hs_error_set(err, HS_EINVAL, "hs_metrics_compute: NULL argument");
    if (ish != HS_ISH_UNKNOWN && ish != HS_ISH_NEGATIVE && ish != HS_ISH_POSITIVE)
        return hs_error_set(err, HS_EINVAL, "hs_metrics_compute: invalid ISH value %d", (int)ish);
    if (isnan(p->call_frac) || isnan(p->noise_frac) || isnan(p->scattered_frac) || isnan(p->het_frac) ||
        isnan(p->cluster_moran))
        return hs_error_set(err, HS_EINVAL, "hs_metrics_compute: a slide threshold is NaN");

    hs_slide_metrics r;
    set_na(&r);
    size_t ntile_all = m->nx * m->ny;
    unsigned long c[HS_NCLASS] = {0, 0, 0, 0};
    for (size_t t = 0; t < ntile_all; t++)
        for (int k = 0; k < HS_NCLASS; k++)
            c[k] += m->count[t * HS_NCLASS + (size_t)k];
    unsigned long n = total(c);
    if (n == 0) {
        *out = r;
        return HS_OK;
    }

    r.n_cells = n;
    fractions(c, n, r.p);
    r.hscore = hs_her2_hscore(r.p);
    r.ihc_score = hs_her2_call(p, r.p, (size_t)n);
    r.her2_class = hs_her2_category(p, r.ihc_score, r.p, ish);
    r.entropy = entropy(r.p);
    r.simpson = gini_simpson(r.p);

    unsigned long high = c[2] + c[3], low = c[0] + c[1];
    int high_minority = high <= low; /* a 50/50 tie counts as a high minority: never called homogeneous */
    r.minority_frac = (double)(high_minority ? high : low) / (double)n;

    /* Tumour tiles: at least tile_min_cells cells, and at least one (a tile without cells has no H-score). */
    size_t min_cells = p->tile_min_cells ? p->tile_min_cells : 1;
    double *hs = malloc((ntile_all ? ntile_all : 1) * sizeof *hs);
    double *packed = malloc((ntile_all ? ntile_all : 1) * sizeof *packed);
    if (!hs || !packed) {
        free(hs);
        free(packed);
        return hs_error_set(err, HS_ENOMEM, "hs_metrics_compute: out of memory for %zu tiles", ntile_all);
    }
    size_t ntile = 0, ndisc = 0;
    for (size_t t = 0; t < ntile_all; t++) {
        const unsigned long *ct = m->count + t * HS_NCLASS;
        unsigned long nt = total(ct);
        hs[t] = NAN;
        if (nt < min_cells)
            continue;
        double f[HS_NCLASS];
        fractions(ct, nt, f);
        hs[t] = hs_her2_hscore(f);
        packed[ntile++] = hs[t];
        if (hs_her2_call(p, f, (size_t)nt) != r.ihc_score)
            ndisc++;
    }
    r.n_tiles = ntile;
    if (ntile > 0) {
        double mean = gsl_stats_mean(packed, 1, ntile);
        r.discordant_frac = (double)ndisc / (double)ntile;
        if (ntile >= 2 && mean > 0.0)
            r.tile_cv = gsl_stats_sd_m(packed, 1, ntile, mean) / mean;
        r.morans_i = morans_i(hs, m->nx, m->ny, ntile, mean);
    }
    free(hs);
    free(packed);

    r.pattern = pattern_rule(p, r.minority_frac, high_minority, r.morans_i);
    r.heterogeneous = r.pattern == HS_PATTERN_NA ? -1 : r.pattern != HS_PATTERN_HOMOGENEOUS;
    *out = r;
    return HS_OK;
}
