/*
 * Unit tests of scoring/calib: the histograms of a set of cells (filled by
 * hand, added, summed, filtered by rectangle), the three ways of choosing
 * the DAB cuts, and the border-leak histogram and estimate.
 *
 * Cohort: histograms filled with the exact bin masses of Gaussian
 * mixtures (N * (Phi(upper edge) - Phi(lower edge)), rounded).  The
 * calibrator smooths counts with a Gaussian of 2 bins (0.02 OD), so its
 * valley between two modes is the minimum of the mixture convolved with
 * that Gaussian (each component's sigma becomes sqrt(sigma^2 + 0.02^2)),
 * found here on a fine grid from the closed form; counts are per bin, so
 * the valley bin is the one whose centre lies nearest that minimum and the
 * cut, its lower edge, lies 0.005 below it, give or take half a bin.
 *
 * Controls: two neighbouring classes with equal-variance Gaussian densities
 * (after the same smoothing, still equal variance) cross at the midpoint of
 * their means; the cut minimising the misclassified mass of both is that
 * midpoint, which the test puts on a bin edge.
 */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/calib.h"
#include "suites.h"

#define BIN HS_CALIB_BIN
#define NB HS_CALIB_BINS

static hs_calib_hist *new_hist(void)
{
    hs_calib_hist *h = malloc(sizeof *h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    hs_calib_hist_clear(h);
    return h;
}

/* The exact count of N(mu, sigma) samples in bin b of n. */
static double gauss_bin(double n, double mu, double sigma, int b)
{
    return n * (gsl_cdf_gaussian_P((b + 1) * BIN - mu, sigma) - gsl_cdf_gaussian_P(b * BIN - mu, sigma));
}

/* Adds n N(mu, sigma) stain values to the sector histogram. */
static void add_sectors(hs_calib_hist *h, double n, double mu, double sigma)
{
    for (int b = 0; b < NB; b++)
        h->sector[b] += (uint64_t)llround(gauss_bin(n, mu, sigma, b));
}

/* Adds about n cells (the rounded bin masses) whose complete-stain value lies in bin a and intensity is N(mu, sigma). */
static void add_pairs(hs_calib_hist *h, int a, double n, double mu, double sigma)
{
    for (int b = 0; b < NB; b++)
        h->pair[a][b] += (uint32_t)llround(gauss_bin(n, mu, sigma, b));
    h->cells += (uint64_t)llround(n);
}

/* A mixture of up to three Gaussians, each widened by the calibrator's 0.02 smoothing. */
typedef struct mixture {
    int k;
    double w[3], mu[3], sigma[3];
} mixture;

static double mix_density(const mixture *m, double x)
{
    double f = 0;
    for (int i = 0; i < m->k; i++) {
        double s = sqrt(m->sigma[i] * m->sigma[i] + 0.02 * 0.02);
        f += m->w[i] * exp(-0.5 * (x - m->mu[i]) * (x - m->mu[i]) / (s * s)) / s;
    }
    return f;
}

/* The minimum of the smoothed mixture on (a, b), to 1e-5. */
static double mix_valley(const mixture *m, double a, double b)
{
    double best = a, fb = INFINITY;
    for (double x = a; x <= b; x += 1e-5) {
        double f = mix_density(m, x);
        if (f < fb) {
            fb = f;
            best = x;
        }
    }
    return best;
}

static const double FIXED[3] = {0.2, 0.4, 0.6};

static void test_names(void)
{
    static const char *const name[] = {"fixed", "cohort", "controls", "auto"};
    for (int m = 0; m < 4; m++) {
        CU_ASSERT_STRING_EQUAL(hs_calib_mode_name((hs_calib_mode)m), name[m]);
        hs_calib_mode got = (hs_calib_mode)-1;
        CU_ASSERT_EQUAL(hs_calib_mode_parse(name[m], &got), 0);
        CU_ASSERT_EQUAL(got, (hs_calib_mode)m);
    }
    hs_calib_mode got = HS_CALIB_FIXED;
    CU_ASSERT_EQUAL(hs_calib_mode_parse("COHORT", &got), 0);
    CU_ASSERT_EQUAL(got, HS_CALIB_COHORT);
    CU_ASSERT_EQUAL(hs_calib_mode_parse("bogus", &got), -1);
    CU_ASSERT_EQUAL(hs_calib_mode_parse("", &got), -1);
    CU_ASSERT_EQUAL(hs_calib_mode_parse("control", &got), -1);
    hs_calib_cuts c;
    hs_calib_fixed(FIXED, &c);
    CU_ASSERT_EQUAL(c.method, HS_CALIB_FIXED);
    CU_ASSERT_EQUAL(c.found, 0);
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(c.od[k], FIXED[k]);
    CU_ASSERT(strstr(c.note, "fixed") != NULL);
}

/*
 * One cell by hand.  24 sectors with stain (k + 0.5) / 100 (bin k) and peak
 * 0.505 + 0.02 k; complete 0.8 needs ceil(19.2) = 20 sectors, the 20 most
 * stained are 4..23: a = stain[4] (bin 4), b = the median of peaks 4..23 =
 * (peak[13] + peak[14]) / 2 = (0.765 + 0.785) / 2 = 0.775 (bin 77).
 */
static void test_add_cell(void)
{
    hs_calib_hist *h = new_hist();
    float st[24], pk[24];
    for (int k = 0; k < 24; k++) {
        st[k] = (float)((k + 0.5) * 0.01);
        pk[k] = (float)(0.505 + 0.02 * k);
    }
    hs_calib_hist_add_cell(h, st, pk, 24, 0.8);
    CU_ASSERT_EQUAL(h->cells, 1);
    for (int b = 0; b < NB; b++)
        CU_ASSERT_EQUAL(h->sector[b], b < 24 ? 1u : 0u);
    CU_ASSERT_EQUAL(h->pair[4][77], 1);
    /* complete 1: all 24 sectors, a = stain[0] (bin 0), b = median of all peaks = (peak[11] + peak[12]) / 2
       = (0.725 + 0.745) / 2 = 0.735 (bin 73) */
    hs_calib_hist_add_cell(h, st, pk, 24, 1.0);
    CU_ASSERT_EQUAL(h->pair[0][73], 1);
    /* complete 0.01: ceil(0.24) = 1 sector, the most stained: a = stain[23] (bin 23), b = peak[23] = 0.965 */
    hs_calib_hist_add_cell(h, st, pk, 24, 0.01);
    CU_ASSERT_EQUAL(h->pair[23][96], 1);
    CU_ASSERT_EQUAL(h->cells, 3);
    /* five sectors at 0.8: ceil(4 - 1e-9) = 4 (0.8 * 5 is 4 up to rounding): a = stain[1] (bin 10); the peaks
       of sectors 1..4 are 0.305, 0.705, 0.505, 0.105 -> median (0.305 + 0.505) / 2 = 0.405 (bin 40) */
    float s5[5] = {0.015f, 0.105f, 0.205f, 0.305f, 0.405f}, p5[5] = {0.9f, 0.305f, 0.705f, 0.505f, 0.105f};
    hs_calib_hist_clear(h);
    hs_calib_hist_add_cell(h, s5, p5, 5, 0.8);
    CU_ASSERT_EQUAL(h->pair[10][40], 1);
    CU_ASSERT_EQUAL(h->sector[1] + h->sector[10] + h->sector[20] + h->sector[30] + h->sector[40], 5);
    /* out of range: negative and NaN stains count in bin 0, 3.0 in the last bin; no sectors: nothing */
    float s3[3] = {NAN, -0.5f, 3.0f}, p3[3] = {0.1f, 0.2f, 9.0f};
    hs_calib_hist_clear(h);
    hs_calib_hist_add_cell(h, s3, p3, 3, 0.8);
    CU_ASSERT_EQUAL(h->sector[0], 2);
    CU_ASSERT_EQUAL(h->sector[NB - 1], 1);
    CU_ASSERT_EQUAL(h->cells, 1);
    hs_calib_hist_add_cell(h, s3, p3, 0, 0.8);
    CU_ASSERT_EQUAL(h->cells, 1);
    free(h);
}

/* Histograms add: counts of a + b; clear zeroes. */
static void test_sum(void)
{
    hs_calib_hist *a = new_hist(), *b = new_hist();
    add_sectors(a, 1000, 0.3, 0.05);
    add_pairs(a, 20, 500, 0.5, 0.05);
    add_sectors(b, 3000, 0.6, 0.05);
    add_pairs(b, 20, 700, 0.5, 0.05);
    add_pairs(b, 7, 100, 0.9, 0.05);
    uint64_t s0 = 0, s1 = 0, want = 0;
    for (int i = 0; i < NB; i++) {
        s0 += a->sector[i];
        s1 += b->sector[i];
    }
    uint64_t cells = a->cells + b->cells;
    uint32_t p20 = a->pair[20][50] + b->pair[20][50], p7 = b->pair[7][90];
    hs_calib_hist_sum(a, b);
    for (int i = 0; i < NB; i++)
        want += a->sector[i];
    CU_ASSERT_EQUAL(want, s0 + s1);
    CU_ASSERT_EQUAL(a->cells, cells);
    CU_ASSERT_EQUAL(a->pair[20][50], p20);
    CU_ASSERT_EQUAL(a->pair[7][90], p7);
    CU_ASSERT(p20 > 0 && p7 > 0);
    hs_calib_hist_clear(a);
    CU_ASSERT_EQUAL(a->cells, 0);
    CU_ASSERT_EQUAL(a->pair[20][50], 0);
    free(a);
    free(b);
}

/* A store of cells at x = 10, 15, 20, 30, 35 um: the rectangle [15, 35) x [0, 100) takes 15, 20 and 30. */
static void test_add_store(void)
{
    hs_cellstore *s = hs_cellstore_alloc(24, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    static const double xs[5] = {10, 15, 20, 30, 35};
    hs_cell c;
    memset(&c, 0, sizeof c);
    c.nsector = 24;
    for (int i = 0; i < 5; i++) {
        for (int k = 0; k < 24; k++)
            c.stain[k] = c.peak[k] = (float)((i * 10 + 0.5) * 0.01); /* bin 10 i */
        CU_ASSERT_EQUAL_FATAL(hs_cellstore_add(s, xs[i], 50, &c, NULL), HS_OK);
    }
    c.nsector = 3; /* outside in y */
    CU_ASSERT_EQUAL_FATAL(hs_cellstore_add(s, 20, 100, &c, NULL), HS_OK);
    hs_calib_hist *h = new_hist();
    const double rect[4] = {15, 0, 35, 100};
    CU_ASSERT_EQUAL(hs_calib_hist_add_store(h, s, 0.8, rect, 0, NULL), HS_OK);
    CU_ASSERT_EQUAL(h->cells, 3);
    CU_ASSERT_EQUAL(h->sector[0], 0);
    CU_ASSERT_EQUAL(h->sector[10], 24);
    CU_ASSERT_EQUAL(h->sector[20], 24);
    CU_ASSERT_EQUAL(h->sector[30], 24);
    CU_ASSERT_EQUAL(h->sector[40], 0);
    CU_ASSERT_EQUAL(h->pair[20][20], 1);
    hs_calib_hist_clear(h);
    CU_ASSERT_EQUAL(hs_calib_hist_add_store(h, s, 0.8, NULL, 0, NULL), HS_OK);
    CU_ASSERT_EQUAL(h->cells, 6);
    free(h);
    hs_cellstore_free(s);
}

/*
 * The sector population of the cohort test: unstained membrane 60% at
 * N(0.08, 0.025), 1+ arcs 15% at N(0.30, 0.04), complete membranes 25% at
 * N(0.70, 0.06).  od_1 is the valley above the lowest mode: between 0.08 and
 * 0.30 (not the one between 0.30 and 0.70).
 */
static const mixture SECTORS = {3, {0.60, 0.15, 0.25}, {0.08, 0.30, 0.70}, {0.025, 0.04, 0.06}};
/* Complete membranes' intensity: 2+ 60% at N(0.50, 0.05), 3+ 40% at N(0.95, 0.08). */
static const mixture COMPLETE = {2, {0.6, 0.4, 0}, {0.50, 0.95, 0}, {0.05, 0.08, 0}};

static void fill_sectors(hs_calib_hist *h, const mixture *m, double n)
{
    for (int i = 0; i < m->k; i++)
        add_sectors(h, n * m->w[i], m->mu[i], m->sigma[i]);
}

static void test_cohort(void)
{
    hs_calib_hist *h = new_hist();
    fill_sectors(h, &SECTORS, 1e6);
    /* complete cells: a in bin 60 (complete for any cut up to 0.6) */
    for (int i = 0; i < COMPLETE.k; i++)
        add_pairs(h, 60, 1e5 * COMPLETE.w[i], COMPLETE.mu[i], COMPLETE.sigma[i]);
    /* incomplete cells (a in bin 10, below any od_1 found) with a tight intensity mode at 0.72, between the
       complete modes: it must not count, or the od_3 valley would vanish */
    add_pairs(h, 10, 3e4, 0.72, 0.02);
    double v1 = mix_valley(&SECTORS, 0.08, 0.30), v3 = mix_valley(&COMPLETE, 0.50, 0.95);
    hs_calib_cuts c;
    hs_calib_cohort(h, FIXED, 0.8, &c);
    CU_ASSERT_EQUAL(c.method, HS_CALIB_COHORT);
    CU_ASSERT_EQUAL(c.found, 7);
    CU_ASSERT(fabs(c.od[0] - (v1 - 0.005)) <= 0.0051 + 1e-9);
    CU_ASSERT(fabs(c.od[2] - (v3 - 0.005)) <= 0.0051 + 1e-9);
    CU_ASSERT_EQUAL(c.od[1], 0.5 * (c.od[0] + c.od[2]));
    CU_ASSERT(strstr(c.note, "valley above unstained") != NULL);
    CU_ASSERT(strstr(c.note, "valley between complete-membrane modes") != NULL);
    CU_ASSERT(strstr(c.note, "(130000 cells)") != NULL);
    /* sanity of the reference: the valleys lie between the modes */
    CU_ASSERT(v1 > 0.12 && v1 < 0.25);
    CU_ASSERT(v3 > 0.6 && v3 < 0.85);
    free(h);
}

/*
 * A batch without 3+ (one complete-membrane mode): od_3 keeps its fixed
 * value 0.6, od_1 still comes from the sectors, od_2 half-way; the note says
 * which.  A batch without any stained cell: every cut fixed, found 0.
 */
static void test_cohort_missing_mode(void)
{
    hs_calib_hist *h = new_hist();
    fill_sectors(h, &SECTORS, 1e6);
    add_pairs(h, 60, 6e4, 0.50, 0.05);
    hs_calib_cuts c;
    hs_calib_cohort(h, FIXED, 0.8, &c);
    double v1 = mix_valley(&SECTORS, 0.08, 0.30);
    CU_ASSERT_EQUAL(c.method, HS_CALIB_COHORT);
    CU_ASSERT_EQUAL(c.found, 1 | 2);
    CU_ASSERT(fabs(c.od[0] - (v1 - 0.005)) <= 0.0051 + 1e-9);
    CU_ASSERT_EQUAL(c.od[2], 0.6);
    CU_ASSERT_EQUAL(c.od[1], 0.5 * (c.od[0] + 0.6));
    CU_ASSERT(strstr(c.note, "od_3 fixed (one complete-membrane mode)") != NULL);
    /* unstained membranes only */
    hs_calib_hist_clear(h);
    add_sectors(h, 1e6, 0.08, 0.025);
    h->cells = 40000;
    hs_calib_cohort(h, FIXED, 0.8, &c);
    CU_ASSERT_EQUAL(c.method, HS_CALIB_COHORT);
    CU_ASSERT_EQUAL(c.found, 0);
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(c.od[k], FIXED[k]);
    CU_ASSERT(strstr(c.note, "od_1 fixed (no valley)") != NULL);
    CU_ASSERT(strstr(c.note, "od_3 fixed") != NULL);
    /* an empty histogram */
    hs_calib_hist_clear(h);
    hs_calib_cohort(h, FIXED, 0.8, &c);
    CU_ASSERT_EQUAL(c.found, 0);
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(c.od[k], FIXED[k]);
    free(h);
}

/*
 * Cuts found out of order: a strongly stained batch whose sectors have modes
 * at 0.5 (60%) and 0.95 (40%, sigma 0.05 each): the smoothed densities (sigma
 * 0.054) are equal where (x - 0.5)^2 - (x - 0.95)^2 = 2 * 0.054^2 ln 1.5,
 * x = 0.728, so od_1 lands near 0.72, above the fixed od_3 0.6 (there are no
 * complete-membrane modes); od_2 = (od_1 + 0.6) / 2 < od_1: the fixed cuts
 * are kept, and the note says why.
 */
static void test_cohort_not_increasing(void)
{
    hs_calib_hist *h = new_hist();
    add_sectors(h, 6e5, 0.5, 0.05);
    add_sectors(h, 4e5, 0.95, 0.05);
    hs_calib_cuts c;
    hs_calib_cohort(h, FIXED, 0.8, &c);
    CU_ASSERT_EQUAL(c.method, HS_CALIB_COHORT);
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(c.od[k], FIXED[k]);
    CU_ASSERT(strstr(c.note, "not increasing") != NULL);
    free(h);
}

/*
 * Control areas with equal-variance Gaussians (sigma 0.04): the 0 area's
 * sectors at 0.15; the 1+ area's sectors 70% unstained (N(0.05, 0.01)) and
 * 30% arcs at 0.35 (exactly its top 30%); the 2+ and 3+ areas' complete
 * membranes (a in bin 60) of intensity 0.65 and 0.95.  Midpoints: od_1 =
 * (0.15 + 0.35) / 2 = 0.25, od_2 = (0.35 + 0.65) / 2 = 0.50, od_3 = (0.65 +
 * 0.95) / 2 = 0.80, all on bin edges.
 */
typedef struct controls4 {
    hs_calib_hist *k[4];
} controls4;

static controls4 make_controls(double mu0, double mu1, double mu2, double mu3)
{
    controls4 c;
    for (int i = 0; i < 4; i++)
        c.k[i] = new_hist();
    add_sectors(c.k[0], 24000, mu0, 0.04);
    c.k[0]->cells = 1000;
    add_sectors(c.k[1], 16800, 0.05, 0.01);
    add_sectors(c.k[1], 7200, mu1, 0.04);
    c.k[1]->cells = 1000;
    add_pairs(c.k[2], 60, 1000, mu2, 0.04);
    add_sectors(c.k[2], 24000, 0.6, 0.05);
    add_pairs(c.k[3], 60, 1000, mu3, 0.04);
    add_sectors(c.k[3], 24000, 0.8, 0.05);
    c.k[2]->cells = c.k[3]->cells = 1000;
    return c;
}

static void free_controls(controls4 *c)
{
    for (int i = 0; i < 4; i++)
        free(c->k[i]);
}

static void test_controls(void)
{
    controls4 c = make_controls(0.15, 0.35, 0.65, 0.95);
    const hs_calib_hist *k[4] = {c.k[0], c.k[1], c.k[2], c.k[3]};
    hs_calib_cuts cuts;
    hs_error e;
    CU_ASSERT_EQUAL_FATAL(hs_calib_controls(k, 0.8, &cuts, &e), HS_OK);
    CU_ASSERT_EQUAL(cuts.method, HS_CALIB_CONTROLS);
    CU_ASSERT_EQUAL(cuts.found, 7);
    CU_ASSERT(fabs(cuts.od[0] - 0.25) <= 0.005);
    CU_ASSERT(fabs(cuts.od[1] - 0.50) <= 0.005);
    CU_ASSERT(fabs(cuts.od[2] - 0.80) <= 0.005);
    CU_ASSERT(strstr(cuts.note, "1000/1000/1000/1000") != NULL);
    free_controls(&c);
    /* other midpoints: 0.1/0.3 -> 0.2, 0.3/0.5 -> 0.4, 0.5/0.7 -> 0.6 */
    c = make_controls(0.10, 0.30, 0.50, 0.70);
    const hs_calib_hist *k2[4] = {c.k[0], c.k[1], c.k[2], c.k[3]};
    CU_ASSERT_EQUAL_FATAL(hs_calib_controls(k2, 0.8, &cuts, &e), HS_OK);
    CU_ASSERT(fabs(cuts.od[0] - 0.2) <= 0.005);
    CU_ASSERT(fabs(cuts.od[1] - 0.4) <= 0.005);
    CU_ASSERT(fabs(cuts.od[2] - 0.6) <= 0.005);
    free_controls(&c);
}

static void test_controls_errors(void)
{
    controls4 c = make_controls(0.15, 0.35, 0.65, 0.95);
    hs_calib_cuts cuts;
    hs_error e;
    /* too few cells: 19 < 20 */
    c.k[2]->cells = 19;
    const hs_calib_hist *k[4] = {c.k[0], c.k[1], c.k[2], c.k[3]};
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_calib_controls(k, 0.8, &cuts, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "2+ control area has 19 tumour cells") != NULL);
    c.k[2]->cells = 20;
    CU_ASSERT_EQUAL(hs_calib_controls(k, 0.8, &cuts, &e), HS_OK);
    /* a missing area */
    const hs_calib_hist *k0[4] = {NULL, c.k[1], c.k[2], c.k[3]};
    CU_ASSERT_EQUAL(hs_calib_controls(k0, 0.8, &cuts, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "the 0 control area has 0 tumour cells") != NULL);
    /* 2+ and 3+ swapped */
    const hs_calib_hist *ks[4] = {c.k[0], c.k[1], c.k[3], c.k[2]};
    CU_ASSERT_EQUAL(hs_calib_controls(ks, 0.8, &cuts, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "3+ control membranes are not stronger than the 2+") != NULL);
    free_controls(&c);
    /* 1+ arcs (0.1) weaker than the 0 area (0.15) */
    c = make_controls(0.15, 0.10, 0.65, 0.95);
    const hs_calib_hist *k1[4] = {c.k[0], c.k[1], c.k[2], c.k[3]};
    CU_ASSERT_EQUAL(hs_calib_controls(k1, 0.8, &cuts, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "1+ control membranes are not stronger than the 0") != NULL);
    free_controls(&c);
    /* 2+ membranes (0.3) weaker than the 1+ arcs (0.35) */
    c = make_controls(0.15, 0.35, 0.30, 0.95);
    const hs_calib_hist *k2[4] = {c.k[0], c.k[1], c.k[2], c.k[3]};
    CU_ASSERT_EQUAL(hs_calib_controls(k2, 0.8, &cuts, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "2+ control membranes are not stronger than the 1+") != NULL);
    free_controls(&c);
    /* the 0 area with cells but no sectors; the 2+ area without complete membranes at od_1 */
    c = make_controls(0.15, 0.35, 0.65, 0.95);
    memset(c.k[0]->sector, 0, sizeof c.k[0]->sector);
    const hs_calib_hist *kz[4] = {c.k[0], c.k[1], c.k[2], c.k[3]};
    CU_ASSERT_EQUAL(hs_calib_controls(kz, 0.8, &cuts, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "the 0 control area has no membrane measurements") != NULL);
    free_controls(&c);
    c = make_controls(0.15, 0.35, 0.65, 0.95);
    memset(c.k[2]->pair, 0, sizeof c.k[2]->pair);
    add_pairs(c.k[2], 5, 1000, 0.65, 0.04); /* complete only for cuts up to 0.05 */
    const hs_calib_hist *kc[4] = {c.k[0], c.k[1], c.k[2], c.k[3]};
    CU_ASSERT_EQUAL(hs_calib_controls(kc, 0.8, &cuts, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "2+ control area has no complete membranes at od_1 = 0.25") != NULL);
    free_controls(&c);
}

/*
 * The border-leak histogram of one cell by hand: bins of 0.02 in the
 * stronger side's peak and in the ratio weaker / stronger.  (0.91, 0.19):
 * [45][10] (0.19 / 0.91 = 0.209); (0.51, 0.51): ratio 1, the last ratio bin
 * [25][49]; (0.21, 0.61): [30][17] (0.344); (3.0, 0.03): max beyond the last
 * bin [127][0]; (0, 0): nothing to compare; opeak -1: no cell faces it.
 */
static void test_leak_hist(void)
{
    hs_leak_hist *h = calloc(1, sizeof *h), *g = calloc(1, sizeof *g);
    CU_ASSERT_FATAL(h && g);
    const float pk[6] = {0.91f, 0.51f, 0.21f, 3.0f, 0, 0.4f}, opk[6] = {0.19f, 0.51f, 0.61f, 0.03f, 0, -1};
    hs_leak_hist_add_cell(h, pk, opk, 6);
    uint64_t total = 0;
    for (int i = 0; i < HS_LEAK_MAXBINS; i++)
        for (int j = 0; j < HS_LEAK_RBINS; j++)
            total += h->n[i][j];
    CU_ASSERT_EQUAL(total, 4);
    CU_ASSERT_EQUAL(h->n[45][10], 1);
    CU_ASSERT_EQUAL(h->n[25][49], 1);
    CU_ASSERT_EQUAL(h->n[30][17], 1);
    CU_ASSERT_EQUAL(h->n[HS_LEAK_MAXBINS - 1][0], 1);
    /* the sides are symmetric: swapped, the same bins */
    hs_leak_hist_add_cell(g, opk, pk, 5);
    CU_ASSERT_EQUAL(g->n[45][10], 1);
    CU_ASSERT_EQUAL(g->n[30][17], 1);
    hs_leak_hist_sum(h, g);
    CU_ASSERT_EQUAL(h->n[45][10], 2);
    CU_ASSERT_EQUAL(h->n[25][49], 2);
    free(h);
    free(g);
}

/*
 * The leak estimate: the lowest mode (bin centre) of the ratio well below
 * that of alike borders, among the borders whose stronger side is in the
 * strongest quarter; a mode needs at least 50 sectors (smoothed count) and a
 * dip before the next mode above.  A batch of 3000 borders between strong
 * alike membranes (max 0.9, ratio 0.97), 6000 between unstained cells (max
 * 0.05, ratio 0.91) and 300 between a strong and an unstained cell (max
 * 0.9, ratio 0.21): the strongest quarter is the max bin 45 (3300 of 9300 >=
 * 2325), where the 300 make a mode at ratio bin 10: leak 0.21.
 */
static void test_leak_estimate(void)
{
    hs_leak_hist *h = calloc(1, sizeof *h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char note[160];
    CU_ASSERT_EQUAL(hs_leak_estimate(h, note, sizeof note), 0);
    CU_ASSERT(strstr(note, "no facing membranes") != NULL);
    h->n[45][48] = 3000;
    h->n[2][45] = 6000;
    CU_ASSERT_EQUAL(hs_leak_estimate(h, note, sizeof note), 0);
    CU_ASSERT(strstr(note, "no stained-unstained borders") != NULL);
    h->n[45][10] = 300;
    HS_ASSERT_CLOSE(hs_leak_estimate(h, note, sizeof note), 0.21, 1e-12);
    CU_ASSERT(strstr(note, "leak 0.21") != NULL);
    CU_ASSERT_EQUAL(hs_leak_estimate(h, NULL, 0), hs_leak_estimate(h, note, sizeof note));
    /* two low modes: the lower one (ratio bin 5, 0.11) */
    h->n[45][15] = 300;
    h->n[45][5] = 200;
    HS_ASSERT_CLOSE(hs_leak_estimate(h, NULL, 0), 0.11, 1e-12);
    /* low ratios only among weak membranes (max 0.2, outside the strongest quarter): no leak */
    h->n[45][15] = h->n[45][5] = h->n[45][10] = 0;
    h->n[10][10] = 300;
    CU_ASSERT_EQUAL(hs_leak_estimate(h, NULL, 0), 0);
    /* a bump of 20 sectors (< 50) is no mode; one of 60 is, though 2% of the alike borders */
    h->n[45][10] = 20;
    CU_ASSERT_EQUAL(hs_leak_estimate(h, NULL, 0), 0);
    h->n[45][10] = 60;
    HS_ASSERT_CLOSE(hs_leak_estimate(h, NULL, 0), 0.21, 1e-12);
    free(h);
}

int hs_suite_calib(void)
{
    CU_pSuite s = CU_add_suite("calib", NULL, NULL);
    if (!s)
        return 1;
    if (!CU_add_test(s, "mode names, parse, fixed cuts", test_names) ||
        !CU_add_test(s, "one cell's sectors and (a, b) pair by hand", test_add_cell) ||
        !CU_add_test(s, "histograms add", test_sum) ||
        !CU_add_test(s, "cells of a store inside a rectangle", test_add_store) ||
        !CU_add_test(s, "cohort: valleys of Gaussian mixtures", test_cohort) ||
        !CU_add_test(s, "cohort: a missing mode keeps the fixed cut", test_cohort_missing_mode) ||
        !CU_add_test(s, "cohort: cuts out of order fall back", test_cohort_not_increasing) ||
        !CU_add_test(s, "controls: Bayes boundaries at the midpoints", test_controls) ||
        !CU_add_test(s, "controls: too few cells, classes out of order", test_controls_errors) ||
        !CU_add_test(s, "border leak histogram by hand", test_leak_hist) ||
        !CU_add_test(s, "border leak: the lowest mode of stained-unstained borders", test_leak_estimate))
        return 1;
    return 0;
}
