/*
 * Unit tests of scoring/simulate: the synthetic cohort generator.
 *
 * References are external to the generator: the thresholds of the ASCO/CAP
 * rule and of the pattern rule (scoring_common / her2.h defaults), the
 * Ruifrok-Johnston stain vectors and Beer-Lambert (a pixel is deconvolved
 * here with our own inverse of the stain matrix), the planted hazard ratio,
 * and hs_her2_call / hs_metrics_compute / hs_cox_fit / hs_manifest_read, which
 * have their own tests.  Byte-level determinism compares two independent runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohorts/manifest.h"
#include "scoring/metrics.h"
#include "scoring/simulate.h"
#include "scoring/slide.h"
#include "stats/cox.h"
#include "suites.h"
#include "tmpfiles.h"

/* ------------------------------------------------------------------ helpers */

/* The whole file as a malloc'd buffer (NUL-terminated), *len its size; NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* 1 when dir_a/name and dir_b/name exist and hold the same bytes. */
static int same_file(const char *dir_a, const char *dir_b, const char *name)
{
    char *pa = hs_test_path(dir_a, name), *pb = hs_test_path(dir_b, name);
    size_t la = 0, lb = 0;
    char *a = pa ? slurp(pa, &la) : NULL, *b = pb ? slurp(pb, &lb) : NULL;
    int same = a && b && la == lb && memcmp(a, b, la) == 0;
    free(a);
    free(b);
    free(pa);
    free(pb);
    return same;
}

/* Splits line (modified in place) at commas into at most max fields; returns the count. */
static int split(char *line, char **field, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max;) {
        field[n++] = p;
        char *q = strchr(p, ',');
        if (!q)
            break;
        *q = '\0';
        p = q + 1;
    }
    return n;
}

static hs_sim_options small_options(size_t n, uint64_t seed, uint32_t size, hs_tiff_compression comp)
{
    hs_sim_options o;
    hs_sim_options_default(&o);
    o.npatient = n;
    o.seed = seed;
    o.size = size;
    o.comp = comp;
    return o;
}

/* ------------------------------------------------------------------ cohort design */

static void test_arguments(void)
{
    hs_sim_cohort *c = (hs_sim_cohort *)&c;
    hs_error err;
    CU_ASSERT_EQUAL(hs_sim_cohort_alloc(&c, 0, 1, 2.0, &err), HS_EINVAL);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(hs_sim_cohort_alloc(&c, 4, 1, 0.0, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_sim_cohort_alloc(&c, 4, 1, NAN, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_sim_cohort_alloc(&c, 4, 1, INFINITY, &err), HS_EINVAL);

    hs_sim_design d = {0};
    d.seed = 5;
    d.pattern = HS_PATTERN_HOMOGENEOUS;
    d.mix[0][0] = d.mix[1][0] = 1.0;
    hs_sim_slide *s = (hs_sim_slide *)&s;
    CU_ASSERT_EQUAL(hs_sim_slide_alloc(&s, &d, HS_SIM_MIN_SIZE - 1, &err), HS_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL_FATAL(hs_sim_slide_alloc(&s, &d, 512, &err), HS_OK);
    uint8_t *rgb = malloc(512 * 256 * 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rgb);
    CU_ASSERT_EQUAL(hs_sim_slide_render(s, 0, 0, rgb, NULL, NULL, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_sim_slide_render(s, 0, 257, rgb, NULL, NULL, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_sim_slide_render(s, 384, 256, rgb, NULL, NULL, &err), HS_EINVAL); /* past row 511 */
    CU_ASSERT_EQUAL(hs_sim_slide_render(s, 512, 1, rgb, NULL, NULL, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_sim_slide_render(s, 256, 256, rgb, NULL, NULL, &err), HS_OK);
    free(rgb);
    hs_sim_slide_free(s);
    hs_sim_slide_free(NULL);
    hs_sim_cohort_free(NULL);

    /* levels: halve until <= 1024 px (4096 -> 2048 -> 1024; 20000 -> ... -> 625) */
    CU_ASSERT_EQUAL(hs_sim_nlevels(1024), 1);
    CU_ASSERT_EQUAL(hs_sim_nlevels(1025), 2);
    CU_ASSERT_EQUAL(hs_sim_nlevels(4096), 3);
    CU_ASSERT_EQUAL(hs_sim_nlevels(20000), 6);
}

/* |q - cut| >= margin, or q == 0 exactly (a class that is absent cannot be mis-thresholded upwards by rounding). */
static int away(double q, double cut, double margin)
{
    return q == 0.0 || fabs(q - cut) >= margin - 1e-12;
}

static void test_design(void)
{
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    hs_sim_cohort *c = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_sim_cohort_alloc(&c, 400, 11, 2.0, NULL), HS_OK);
    /* the first block of 4 holds every pattern, calls 0/1+/2+/3+, and the call-0 slide is ultralow */
    int pattern_seen[4] = {0}, call_seen[4] = {0}, ultralow = 0;
    for (size_t i = 0; i < 4; i++) {
        const hs_sim_design *d = &c->patient[i].design;
        pattern_seen[d->pattern]++;
        call_seen[d->call]++;
        ultralow += d->call == HS_CALL_0 && d->ultralow;
    }
    for (int k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(pattern_seen[k], 1);
        CU_ASSERT_EQUAL(call_seen[k], 1);
    }
    CU_ASSERT_EQUAL(ultralow, 1);
    CU_ASSERT_STRING_EQUAL(c->patient[0].id, "P001");
    CU_ASSERT_STRING_EQUAL(c->patient[399].slide, "slides/P400.tif");

    size_t per_pattern[4] = {0}, het = 0;
    for (size_t i = 0; i < c->n; i++) {
        const hs_sim_patient *pt = &c->patient[i];
        const hs_sim_design *d = &pt->design;
        /* every aligned block of 4 holds each pattern once */
        if (i % 4 == 0)
            memset(pattern_seen, 0, sizeof pattern_seen);
        pattern_seen[d->pattern]++;
        if (i % 4 == 3)
            for (int k = 0; k < 4; k++)
                CU_ASSERT_EQUAL(pattern_seen[k], 1);
        per_pattern[d->pattern]++;
        het += pt->heterogeneous;
        CU_ASSERT_EQUAL(pt->heterogeneous, d->pattern != HS_PATTERN_HOMOGENEOUS);
        double sum = 0.0, zsum[2] = {0.0, 0.0};
        for (int k = 0; k < HS_NCLASS; k++) {
            sum += d->planted[k];
            zsum[0] += d->mix[0][k];
            zsum[1] += d->mix[1][k];
            CU_ASSERT(d->planted[k] >= 0.0);
        }
        HS_ASSERT_CLOSE(sum, 1.0, 1e-12);
        HS_ASSERT_CLOSE(zsum[0], 1.0, 1e-12);
        HS_ASSERT_CLOSE(zsum[1], 1.0, 1e-12);
        /* the planted mixture gives the intended ASCO/CAP call ... */
        CU_ASSERT_EQUAL(hs_her2_call(&hp, d->planted, 1000), d->call);
        /* ... with every ">10%" quantity at least 3 points from 10% and f3 at least 3 points from 1% */
        const double *f = d->planted;
        CU_ASSERT(away(f[3], hp.call_frac, 0.03));
        CU_ASSERT(away(f[2] + f[3], hp.call_frac, 0.03));
        CU_ASSERT(away(f[1] + f[2] + f[3], hp.call_frac, 0.03));
        CU_ASSERT(away(f[3], hp.noise_frac, 0.03));
        if (d->call == HS_CALL_0)
            CU_ASSERT(d->ultralow ? away(f[1] + f[2] + f[3], hp.noise_frac, 0.03) && f[1] + f[2] + f[3] > 0.0
                                  : f[1] + f[2] + f[3] == 0.0);
        /* minority phenotype (high = 2+/3+) within the planted ranges of each pattern */
        double high = f[2] + f[3], m = fmin(high, 1.0 - high);
        HS_ASSERT_CLOSE(m, d->minority, 1e-12);
        switch (d->pattern) {
        case HS_PATTERN_HOMOGENEOUS: CU_ASSERT(m <= 0.005); break;
        case HS_PATTERN_SCATTERED: CU_ASSERT(m >= 0.05 && m <= 0.07 && high < 0.5); break;
        case HS_PATTERN_CLUSTERED:
            CU_ASSERT(m >= 0.25 && m <= 0.45);
            HS_ASSERT_CLOSE(d->zone1, m, 1e-12);
            CU_ASSERT(d->nregion == 1 || d->nregion == 2);
            break;
        default: CU_ASSERT(m >= 0.25 && m <= 0.45); CU_ASSERT_EQUAL(d->zone1, 0.0);
        }
        /* survival and covariates */
        CU_ASSERT(pt->dfs_time > 0.0 && pt->dfs_time <= pt->os_time);
        CU_ASSERT(!pt->os_event || pt->dfs_event);
        CU_ASSERT(pt->os_time <= 120.0); /* administrative censoring at 60 + U(0, 60) months */
        CU_ASSERT(pt->age >= 25 && pt->age <= 90 && pt->age == floor(pt->age));
        CU_ASSERT(pt->grade >= 1 && pt->grade <= 3);
    }
    for (int k = 0; k < 4; k++)
        CU_ASSERT_EQUAL(per_pattern[k], 100);
    CU_ASSERT_EQUAL(het, 300);
    hs_sim_cohort_free(c);
}

/* Cox fit of het + age + grade on DFS or OS: returns the heterogeneity HR. */
static double het_hr(const hs_sim_cohort *c, int os)
{
    size_t n = c->n;
    double *t = malloc(n * sizeof *t), *x = malloc(3 * n * sizeof *x);
    int *st = malloc(n * sizeof *st);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t && x && st);
    for (size_t i = 0; i < n; i++) {
        const hs_sim_patient *pt = &c->patient[i];
        t[i] = os ? pt->os_time : pt->dfs_time;
        st[i] = os ? pt->os_event : pt->dfs_event;
        x[3 * i] = pt->heterogeneous;
        x[3 * i + 1] = pt->age;
        x[3 * i + 2] = pt->grade;
    }
    hs_cox *fit = NULL;
    hs_error err;
    int rc = hs_cox_fit(&fit, t, st, x, n, 3, NULL, HS_TIES_EFRON, NULL, &err);
    CU_ASSERT_EQUAL(rc, HS_OK);
    double hr = rc == HS_OK && fit->converged ? exp(fit->coef[0]) : NAN;
    hs_cox_free(fit);
    free(t);
    free(x);
    free(st);
    return hr;
}

/*
 * Survival sanity: 400 patients, planted HR 2.  DFS has ~60% events (about
 * 250), OS ~30% (about 125); with 75% heterogeneous patients, SE(log HR) ~
 * 1/sqrt(d * 0.75 * 0.25) is ~0.15 for DFS and ~0.2 for OS, so 1.3..3.2
 * (log 2 -0.43/+0.47) is about +-2.3 SE for OS and +-3 SE for DFS: loose on
 * purpose, since a 400-patient estimate scatters that much around the truth.
 * (With 100000 patients R's coxph recovers log HR 0.69-0.71, SE 0.010.)
 */
static void test_survival(void)
{
    hs_sim_cohort *c = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_sim_cohort_alloc(&c, 400, 1, 2.0, NULL), HS_OK);
    size_t ndfs = 0, nos = 0;
    for (size_t i = 0; i < c->n; i++) {
        ndfs += (size_t)c->patient[i].dfs_event;
        nos += (size_t)c->patient[i].os_event;
    }
    CU_ASSERT(ndfs > 150 && nos > 80);
    double hd = het_hr(c, 0), ho = het_hr(c, 1);
    CU_ASSERT(hd >= 1.3 && hd <= 3.2);
    CU_ASSERT(ho >= 1.3 && ho <= 3.2);
    hs_sim_cohort_free(c);
    /* no planted effect: HR 1, same loose band around it (log 1 +-0.45) */
    CU_ASSERT_EQUAL_FATAL(hs_sim_cohort_alloc(&c, 400, 1, 1.0, NULL), HS_OK);
    hd = het_hr(c, 0);
    CU_ASSERT(hd >= 0.64 && hd <= 1.57);
    hs_sim_cohort_free(c);
}

/* ------------------------------------------------------------------ slides */

/* A hand-made design: every tumour cell of class k. */
static hs_sim_design pure(hs_class k, uint64_t seed)
{
    hs_sim_design d;
    memset(&d, 0, sizeof d);
    d.seed = seed;
    d.pattern = HS_PATTERN_HOMOGENEOUS;
    d.call = (hs_call)k;
    d.mix[0][k] = d.mix[1][k] = d.planted[k] = 1.0;
    return d;
}

static void test_pixel_determinism(void)
{
    hs_sim_cohort *c = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_sim_cohort_alloc(&c, 4, 3, 2.0, NULL), HS_OK);
    const uint32_t size = 1024;
    const size_t band = (size_t)size * HS_SIM_BAND;
    uint8_t *a = malloc(band * 3 * 4), *b = malloc(band * 3), *la = malloc(band * 4), *lb = malloc(band);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a && b && la && lb);
    for (size_t i = 0; i < 4; i++) {
        hs_sim_slide *s1 = NULL, *s2 = NULL;
        CU_ASSERT_EQUAL_FATAL(hs_sim_slide_alloc(&s1, &c->patient[i].design, size, NULL), HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_sim_slide_alloc(&s2, &c->patient[i].design, size, NULL), HS_OK);
        unsigned long total[HS_NCLASS] = {0}, planned[HS_NCLASS], cnt[HS_NCLASS];
        /* bands top to bottom on one renderer ... */
        for (uint32_t y0 = 0; y0 < size; y0 += HS_SIM_BAND) {
            CU_ASSERT_EQUAL(hs_sim_slide_render(s1, y0, HS_SIM_BAND, a + (y0 / HS_SIM_BAND) * band * 3,
                                                la + (y0 / HS_SIM_BAND) * band, cnt, NULL), HS_OK);
            for (int k = 0; k < HS_NCLASS; k++)
                total[k] += cnt[k];
        }
        /* ... count every planned cell once */
        hs_sim_slide_planned(s1, planned);
        CU_ASSERT_EQUAL(memcmp(total, planned, sizeof total), 0);
        /* ... and bottom to top on another give the same pixels and labels */
        int same = 1;
        for (uint32_t y0 = size; y0 > 0;) {
            y0 -= HS_SIM_BAND;
            CU_ASSERT_EQUAL(hs_sim_slide_render(s2, y0, HS_SIM_BAND, b, lb, NULL, NULL), HS_OK);
            same &= memcmp(b, a + (y0 / HS_SIM_BAND) * band * 3, band * 3) == 0 &&
                    memcmp(lb, la + (y0 / HS_SIM_BAND) * band, band) == 0;
        }
        CU_ASSERT(same);
        /* a band of 100 rows straddling two bands matches too */
        CU_ASSERT_EQUAL(hs_sim_slide_render(s2, 200, 100, b, NULL, NULL, NULL), HS_OK);
        CU_ASSERT_EQUAL(memcmp(b, a + (size_t)200 * size * 3, (size_t)100 * size * 3), 0);
        hs_sim_slide_free(s1);
        hs_sim_slide_free(s2);
    }
    /* another seed gives other pixels */
    hs_sim_design d = c->patient[0].design;
    d.seed ^= 1;
    hs_sim_slide *s = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_sim_slide_alloc(&s, &d, size, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_sim_slide_render(s, 512, HS_SIM_BAND, b, NULL, NULL, NULL), HS_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(b, a + 2 * band * 3, band * 3), 0);
    hs_sim_slide_free(s);
    free(a);
    free(b);
    free(la);
    free(lb);
    hs_sim_cohort_free(c);
}

/* Inverse of the 3x3 matrix m (rows), by cofactors. */
static void inverse3(const double m[3][3], double inv[3][3])
{
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
            inv[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
        }
}

/*
 * Pixel sanity, against Beer-Lambert with the Ruifrok-Johnston vectors
 * (unit length; third row the normalised cross product): OD_c = -log10(I_c /
 * 255), concentrations = OD . M^-1.  A 3+ membrane carries DAB 0.90 +- 0.04
 * per cell +- 0.03 per pixel; a nucleus hematoxylin 0.5..0.8 (+- 0.08 noise);
 * glass is grey 242..252.
 */
static void test_pixels(void)
{
    double M[3][3] = {{0.650, 0.704, 0.286}, {0.268, 0.570, 0.776}, {0, 0, 0}}, inv[3][3];
    for (int r = 0; r < 2; r++) {
        double n = sqrt(M[r][0] * M[r][0] + M[r][1] * M[r][1] + M[r][2] * M[r][2]);
        for (int k = 0; k < 3; k++)
            M[r][k] /= n;
    }
    M[2][0] = M[0][1] * M[1][2] - M[0][2] * M[1][1];
    M[2][1] = M[0][2] * M[1][0] - M[0][0] * M[1][2];
    M[2][2] = M[0][0] * M[1][1] - M[0][1] * M[1][0];
    double n3 = sqrt(M[2][0] * M[2][0] + M[2][1] * M[2][1] + M[2][2] * M[2][2]);
    for (int k = 0; k < 3; k++)
        M[2][k] /= n3;
    inverse3(M, inv);

    const uint32_t size = 2048;
    uint8_t *rgb = malloc((size_t)size * HS_SIM_BAND * 3), *lab = malloc((size_t)size * HS_SIM_BAND);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rgb && lab);
    for (int k = 0; k < HS_NCLASS; k++) {
        hs_sim_design d = pure((hs_class)k, 21);
        hs_sim_slide *s = NULL;
        CU_ASSERT_EQUAL_FATAL(hs_sim_slide_alloc(&s, &d, size, NULL), HS_OK);
        unsigned long planned[HS_NCLASS];
        hs_sim_slide_planned(s, planned);
        CU_ASSERT(planned[k] > 500);
        double sum[6][2] = {{0}}, lo[6] = {9, 9, 9, 9, 9, 9}, hi[6] = {-9, -9, -9, -9, -9, -9};
        size_t cnt[6] = {0}, glass_dark = 0, wrong_class = 0;
        double dab_mem_lo = 9, dab_mem_hi = -9;
        for (uint32_t y0 = 768; y0 < 1280; y0 += HS_SIM_BAND) {
            CU_ASSERT_EQUAL_FATAL(hs_sim_slide_render(s, y0, HS_SIM_BAND, rgb, lab, NULL, NULL), HS_OK);
            for (size_t i = 0; i < (size_t)size * HS_SIM_BAND; i++) {
                int kind = HS_SIM_LABEL_KIND(lab[i]);
                const uint8_t *p = rgb + 3 * i;
                if (kind == HS_SIM_GLASS) {
                    glass_dark += p[0] < 240 || p[1] < 240 || p[2] < 240 || p[0] != p[1] || p[1] != p[2];
                    continue;
                }
                if (kind >= HS_SIM_CYTOPLASM)
                    wrong_class += HS_SIM_LABEL_CLASS(lab[i]) != (hs_class)k;
                double od[3], c[2];
                for (int ch = 0; ch < 3; ch++)
                    od[ch] = -log10(fmax(p[ch], 1) / 255.0);
                for (int j = 0; j < 2; j++)
                    c[j] = od[0] * inv[0][j] + od[1] * inv[1][j] + od[2] * inv[2][j];
                sum[kind][0] += c[0];
                sum[kind][1] += c[1];
                cnt[kind]++;
                lo[kind] = fmin(lo[kind], c[0]);
                hi[kind] = fmax(hi[kind], c[0]);
                if (kind == HS_SIM_MEMBRANE) {
                    dab_mem_lo = fmin(dab_mem_lo, c[1]);
                    dab_mem_hi = fmax(dab_mem_hi, c[1]);
                }
            }
        }
        CU_ASSERT_EQUAL(glass_dark, 0);
        CU_ASSERT_EQUAL(wrong_class, 0);
        for (int kind = HS_SIM_STROMA; kind <= HS_SIM_MEMBRANE; kind++)
            CU_ASSERT_FATAL(cnt[kind] > 100);
        double mem_dab = sum[HS_SIM_MEMBRANE][1] / cnt[HS_SIM_MEMBRANE];
        double nuc_h = sum[HS_SIM_NUCLEUS][0] / cnt[HS_SIM_NUCLEUS], nuc_dab = sum[HS_SIM_NUCLEUS][1] / cnt[HS_SIM_NUCLEUS];
        double cyto_h = sum[HS_SIM_CYTOPLASM][0] / cnt[HS_SIM_CYTOPLASM];
        double cyto_dab = sum[HS_SIM_CYTOPLASM][1] / cnt[HS_SIM_CYTOPLASM];
        double stroma_h = sum[HS_SIM_STROMA][0] / cnt[HS_SIM_STROMA], stroma_dab = sum[HS_SIM_STROMA][1] / cnt[HS_SIM_STROMA];
        /* nuclei: H 0.5..0.8 (mean 0.65), no DAB beyond the faint cytoplasmic 0.02 */
        CU_ASSERT(nuc_h > 0.6 && nuc_h < 0.7);
        CU_ASSERT(lo[HS_SIM_NUCLEUS] > 0.38 && hi[HS_SIM_NUCLEUS] < 0.92);
        CU_ASSERT(fabs(nuc_dab - 0.02) < 0.02);
        CU_ASSERT(cyto_h > 0.05 && cyto_h < 0.08);
        CU_ASSERT(fabs(cyto_dab - 0.02) < 0.01);
        CU_ASSERT(stroma_h > 0.05 && stroma_h < 0.1);
        CU_ASSERT(fabs(stroma_dab) < 0.02);
        CU_ASSERT(sum[HS_SIM_FIBROBLAST][0] / cnt[HS_SIM_FIBROBLAST] > 0.45);
        switch (k) {
        case 3:
            /* 3+ membrane: DAB 0.90 on average, every pixel within 0.90 +- (0.04 + 0.03 + rounding) */
            CU_ASSERT(fabs(mem_dab - 0.90) < 0.02);
            CU_ASSERT(dab_mem_lo > 0.80 && dab_mem_hi < 1.00);
            break;
        case 2:
            CU_ASSERT(fabs(mem_dab - 0.50) < 0.02);
            CU_ASSERT(dab_mem_lo > 0.40 && dab_mem_hi < 0.60);
            break;
        case 1:
            /* stained arcs at 0.30 mix with unstained membrane at 0.03 */
            CU_ASSERT(mem_dab > 0.08 && mem_dab < 0.25);
            CU_ASSERT(dab_mem_lo > -0.02 && dab_mem_hi < 0.40);
            break;
        default:
            /* 0.03 + 0.04 + 0.03 + rounding: always well under the 1+ threshold 0.2 */
            CU_ASSERT(fabs(mem_dab - 0.03) < 0.01);
            CU_ASSERT(dab_mem_hi < 0.12);
        }
        hs_sim_slide_free(s);
    }
    free(rgb);
    free(lab);
}

/* Adds one planted cell to a tile map. */
static void add_cell(void *ctx, double x_um, double y_um, hs_class k)
{
    hs_tilemap_add(ctx, x_um, y_um, k);
}

/*
 * The planted truth obeys the rules it is meant to illustrate: on 2 mm
 * slides the class fractions match the planted mixture, and the metrics of
 * the planted cells (hs_metrics_compute, default parameters, 256 um tiles)
 * give the planted call and pattern, Moran's I included.
 */
static void test_planted_metrics(void)
{
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    hs_sim_cohort *c = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_sim_cohort_alloc(&c, 12, 5, 2.0, NULL), HS_OK);
    for (size_t i = 0; i < c->n; i++) {
        const hs_sim_design *d = &c->patient[i].design;
        hs_sim_slide *s = NULL;
        CU_ASSERT_EQUAL_FATAL(hs_sim_slide_alloc(&s, d, 4096, NULL), HS_OK);
        hs_tilemap *m = hs_tilemap_alloc(8, 8, 256.0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        hs_sim_slide_foreach_cell(s, add_cell, m);
        hs_slide_metrics r;
        CU_ASSERT_EQUAL_FATAL(hs_metrics_compute(m, &hp, HS_ISH_UNKNOWN, &r, NULL), HS_OK);
        unsigned long planned[HS_NCLASS], n = 0;
        hs_sim_slide_planned(s, planned);
        for (int k = 0; k < HS_NCLASS; k++)
            n += planned[k];
        CU_ASSERT_EQUAL(r.n_cells, n);
        CU_ASSERT(n > 2000);
        for (int k = 0; k < HS_NCLASS; k++) {
            CU_ASSERT(fabs(r.p[k] - d->planted[k]) < 1e-3);
            HS_ASSERT_CLOSE(r.p[k], (double)planned[k] / n, 1e-12);
        }
        CU_ASSERT_EQUAL(r.ihc_score, d->call);
        CU_ASSERT_EQUAL(r.pattern, d->pattern);
        if (d->pattern == HS_PATTERN_CLUSTERED)
            CU_ASSERT(r.morans_i >= 0.5);
        if (d->pattern == HS_PATTERN_MOSAIC)
            CU_ASSERT(!(r.morans_i >= 0.3));
        hs_tilemap_free(m);
        hs_sim_slide_free(s);
    }
    hs_sim_cohort_free(c);
}

/* ------------------------------------------------------------------ whole cohorts on disk */

static void test_cohort_files(void)
{
    char *da = hs_test_tmpdir(), *db = hs_test_tmpdir(), *dc = hs_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(da && db && dc);
    hs_error err;
    hs_sim_options o = small_options(4, 99, 1024, HS_TIFF_JPEG);
    CU_ASSERT_EQUAL_FATAL(hs_sim_write(da, &o, &err), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_sim_write(db, &o, &err), HS_OK);
    o.seed = 100;
    CU_ASSERT_EQUAL_FATAL(hs_sim_write(dc, &o, &err), HS_OK);
    /* same seed, same bytes; another seed, other bytes */
    CU_ASSERT(same_file(da, db, "manifest.csv"));
    CU_ASSERT(same_file(da, db, "truth.csv"));
    CU_ASSERT(!same_file(da, dc, "manifest.csv"));
    for (int i = 1; i <= 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "slides/P%03d.tif", i);
        CU_ASSERT(same_file(da, db, name));
        CU_ASSERT(!same_file(da, dc, name));
    }

    /* truth.csv: p sums to 1, ihc_score = hs_her2_call(p), all four patterns, heterogeneous flag */
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    char *path = hs_test_path(da, "truth.csv");
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[1024], *fld[16];
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    CU_ASSERT_STRING_EQUAL(line, "patient_id,slide,p0,p1,p2,p3,ihc_score,pattern,heterogeneous\n");
    int seen[4] = {0}, rows = 0;
    while (fgets(line, sizeof line, f)) {
        CU_ASSERT_EQUAL_FATAL(split(line, fld, 16), 9);
        if (strcmp(fld[2], "NA") == 0) {
            /* a slide without tumour cells: every truth column NA */
            CU_ASSERT_STRING_EQUAL(fld[6], "NA");
            continue;
        }
        double p[HS_NCLASS], sum = 0.0;
        for (int k = 0; k < HS_NCLASS; k++)
            sum += p[k] = strtod(fld[2 + k], NULL);
        HS_ASSERT_CLOSE(sum, 1.0, 1e-12);
        CU_ASSERT_STRING_EQUAL(fld[6], hs_her2_call_name(hs_her2_call(&hp, p, 1)));
        int pat = -1;
        for (int k = 0; k < 4; k++)
            if (strcmp(fld[7], hs_her2_pattern_name((hs_pattern)k)) == 0)
                pat = k;
        CU_ASSERT_FATAL(pat >= 0);
        seen[pat]++;
        CU_ASSERT_STRING_EQUAL(fld[8], pat == HS_PATTERN_HOMOGENEOUS ? "0" : "1");
        rows++;
    }
    fclose(f);
    free(path);
    CU_ASSERT_EQUAL(rows, 4);
    for (int k = 0; k < 4; k++)
        CU_ASSERT_EQUAL(seen[k], 1);

    /* manifest.csv is a valid cohort manifest whose slides exist, with ish only on 2+ slides */
    path = hs_test_path(da, "manifest.csv");
    hs_manifest *m = NULL;
    const char *factors[] = {"ish"};
    CU_ASSERT_EQUAL_FATAL(hs_manifest_read(&m, path, factors, 1, 1, &err), HS_OK);
    CU_ASSERT_EQUAL(m->nerror, 0);
    CU_ASSERT_EQUAL(m->nwarning, 0);
    CU_ASSERT_EQUAL(m->npatient, 4);
    CU_ASSERT_EQUAL(m->ncov, 3);
    hs_manifest_free(m);
    free(path);

    /* the slides open through OpenSlide as generic tiled TIFF pyramids at 0.5 um/px */
    path = hs_test_path(da, "slides/P001.tif");
    hs_slide *sl = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&sl, path, 0, &err), HS_OK);
    const hs_slide_info *info = hs_slide_get_info(sl);
    CU_ASSERT_EQUAL(info->width, 1024);
    CU_ASSERT_EQUAL(info->height, 1024);
    CU_ASSERT_EQUAL(info->nlevel, 1);
    CU_ASSERT_STRING_EQUAL(info->vendor, "generic-tiff");
    HS_ASSERT_CLOSE(info->mpp_x, 0.5, 1e-9);
    hs_slide_close(sl);
    free(path);
    hs_test_rmtree(da);
    hs_test_rmtree(db);
    hs_test_rmtree(dc);
}

/* A lossless slide reads back exactly as rendered, with the pyramid levels of hs_sim_nlevels. */
static void test_lossless_slide(void)
{
    char *dir = hs_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char *path = hs_test_path(dir, "s.tif");
    hs_sim_design d = pure(HS_CLASS_2, 8);
    hs_sim_slide *s = NULL;
    const uint32_t size = 1300; /* not a multiple of the tile: last band has 20 rows */
    CU_ASSERT_EQUAL_FATAL(hs_sim_slide_alloc(&s, &d, size, NULL), HS_OK);
    unsigned long count[HS_NCLASS], planned[HS_NCLASS];
    hs_error err;
    CU_ASSERT_EQUAL_FATAL(hs_sim_slide_write(s, path, HS_TIFF_DEFLATE, 90, count, &err), HS_OK);
    hs_sim_slide_planned(s, planned);
    CU_ASSERT_EQUAL(memcmp(count, planned, sizeof count), 0);
    CU_ASSERT_EQUAL(count[0] + count[1] + count[3], 0);
    hs_slide *sl = NULL;
    CU_ASSERT_EQUAL_FATAL(hs_slide_open(&sl, path, 0, &err), HS_OK);
    CU_ASSERT_EQUAL(hs_slide_get_info(sl)->nlevel, 2);
    uint8_t *a = malloc((size_t)size * 20 * 3), *b = malloc((size_t)size * 20 * 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a && b);
    CU_ASSERT_EQUAL(hs_sim_slide_render(s, 1280, 20, a, NULL, NULL, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_slide_read(sl, 0, 0, 1280, (int)size, 20, b, NULL, &err), HS_OK);
    CU_ASSERT_EQUAL(memcmp(a, b, (size_t)size * 20 * 3), 0);
    free(a);
    free(b);
    hs_slide_close(sl);
    hs_sim_slide_free(s);
    free(path);
    hs_test_rmtree(dir);
}

int hs_suite_simulate(void)
{
    CU_pSuite s = CU_add_suite("simulate", NULL, NULL);
    if (!s)
        return 1;
    if (!CU_add_test(s, "argument checks and pyramid levels", test_arguments) ||
        !CU_add_test(s, "cohort design: patterns, calls, margins, covariates", test_design) ||
        !CU_add_test(s, "survival: Cox HR of heterogeneity near the planted HR", test_survival) ||
        !CU_add_test(s, "pixels: deterministic, band-independent, counted once", test_pixel_determinism) ||
        !CU_add_test(s, "pixels: Beer-Lambert concentrations per compartment", test_pixels) ||
        !CU_add_test(s, "planted cells give the planted call and pattern", test_planted_metrics) ||
        !CU_add_test(s, "cohort on disk: same seed same bytes, truth, manifest, OpenSlide", test_cohort_files) ||
        !CU_add_test(s, "lossless slide reads back as rendered", test_lossless_slide))
        return 1;
    return 0;
}
