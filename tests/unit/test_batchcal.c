/*
 * Unit tests of scoring/batchcal: batches named and counted, slides and
 * control areas added to their batch's histograms from cell stores, and the
 * cuts chosen per batch by each method: fixed, cohort (the batch's own
 * cells), controls (its control areas; none without them), auto (controls
 * where usable, else cohort, and the note says so); and each batch's border
 * leak, estimated first and applied to its slides' sectors.
 *
 * Cells are made here with their sector values at the quantiles of known
 * Gaussians (value j of M at Phi^-1((j + 0.5) / M), dealt out to the cells
 * in turn, so every cell spans its population).  Control areas: 0 = every
 * sector N(0.15, 0.04); 1+ = 7 of 24 sectors N(0.35, 0.04), the rest
 * N(0.05, 0.01); 2+ = complete (stain 0.5) with intensities N(0.65, 0.04);
 * 3+ = complete (stain 0.8) with intensities N(0.95, 0.04); 100 cells each.
 * The equal-variance Bayes cuts are the midpoints 0.25, 0.50, 0.80 (see
 * test_calib.c), here from 100 cells' quantiles: to 0.015.
 */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/batchcal.h"
#include "suites.h"

static const double FIXED[3] = {0.2, 0.4, 0.6};

/* A population of cells: nst sectors of N(mu_st, sd_st), the rest N(mu_un, sd_un); complete-cell peaks
   N(mu_pk, sd_pk) per cell when sd_pk > 0, else each sector's peak = its stain + 0.02. */
typedef struct popn {
    int ncell, nst;
    double mu_st, sd_st, mu_un, sd_un, mu_pk, sd_pk;
} popn;

static double quantile(double mu, double sd, size_t j, size_t m)
{
    return mu + sd * gsl_cdf_ugaussian_Pinv(((double)j + 0.5) / (double)m);
}

/* Adds the population's cells at positions spread over [x0, x0 + 400) x [y0, y0 + 400) um. */
static void add_popn(hs_cellstore *s, const popn *p, double x0, double y0)
{
    for (int i = 0; i < p->ncell; i++) {
        hs_cell c;
        memset(&c, 0, sizeof c);
        c.nsector = 24;
        float st[24], pk[24];
        double cell_peak = p->sd_pk > 0 ? quantile(p->mu_pk, p->sd_pk, (size_t)i, (size_t)p->ncell) : 0;
        for (int k = 0; k < 24; k++) {
            int stained = k < p->nst;
            size_t m = (size_t)p->ncell * (size_t)(stained ? p->nst : 24 - p->nst);
            size_t j = (size_t)(stained ? k : k - p->nst) * (size_t)p->ncell + (size_t)i;
            double v = stained ? quantile(p->mu_st, p->sd_st, j, m) : quantile(p->mu_un, p->sd_un, j, m);
            st[k] = (float)v;
            pk[k] = (float)(stained && p->sd_pk > 0 ? cell_peak : v + 0.02);
        }
        /* sectors in increasing stain, peaks alongside */
        for (int a = 0; a < 24; a++) {
            int best = a;
            for (int b = a + 1; b < 24; b++)
                if (st[b] < st[best])
                    best = b;
            float t = st[a];
            st[a] = st[best];
            st[best] = t;
            t = pk[a];
            pk[a] = pk[best];
            pk[best] = t;
        }
        memcpy(c.stain, st, sizeof st);
        memcpy(c.peak, pk, sizeof pk);
        for (int k = 0; k < 24; k++)
            c.ostain[k] = c.opeak[k] = -1; /* no neighbour: nothing to unmix */
        CU_ASSERT_EQUAL_FATAL(hs_cellstore_add(s, x0 + 20 * (i % 20) + 1, y0 + 20 * (i / 20) + 1, &c, NULL), HS_OK);
    }
}

/* A slide's cells: 400 0, 300 1+ (10-sector arcs at 0.3), 200 2+ (intensity 0.55), 100 3+ (0.95). */
static hs_cellstore *slide_store(void)
{
    hs_cellstore *s = hs_cellstore_alloc(24, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    static const popn pop[4] = {
        {400, 0, 0, 0, 0.08, 0.025, 0, 0},
        {300, 10, 0.30, 0.04, 0.08, 0.025, 0, 0},
        {200, 24, 0.45, 0.03, 0, 0, 0.55, 0.05},
        {100, 24, 0.75, 0.05, 0, 0, 0.95, 0.08},
    };
    for (int k = 0; k < 4; k++)
        add_popn(s, &pop[k], 0, 500 * k);
    return s;
}

/* A control slide: area k (class k) at [1000 k, 1000 k + 500) x [0, 500) um, n2 cells in the 2+ area. */
static const double AREA[4][4] = {{0, 0, 500, 500}, {1000, 0, 1500, 500}, {2000, 0, 2500, 500}, {3000, 0, 3500, 500}};

static hs_cellstore *control_store(int n2)
{
    hs_cellstore *s = hs_cellstore_alloc(24, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    const popn pop[4] = {
        {100, 0, 0, 0, 0.15, 0.04, 0, 0},
        {100, 7, 0.35, 0.04, 0.05, 0.01, 0, 0},
        {n2, 24, 0.5, 0.005, 0, 0, 0.65, 0.04},
        {100, 24, 0.8, 0.005, 0, 0, 0.95, 0.04},
    };
    for (int k = 0; k < 4; k++)
        add_popn(s, &pop[k], AREA[k][0], AREA[k][1]);
    /* cells outside every area: 3+ look-alikes, which must not count */
    const popn stray = {30, 24, 0.8, 0.005, 0, 0, 1.5, 0.04};
    add_popn(s, &stray, 5000, 5000);
    return s;
}

typedef struct fixture {
    hs_batchcal *b;
    hs_cellstore *slide, *ctl, *ctl_bad;
    int A, B, C, E;
} fixture;

/*
 * Batch A: two slides and usable controls; B: one slide, no controls; C: one
 * slide, controls whose 2+ area has 10 cells (< 20); E: nothing at all.
 */
static fixture make_fixture(void)
{
    fixture f;
    f.b = hs_batchcal_alloc();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f.b);
    f.slide = slide_store();
    f.ctl = control_store(100);
    f.ctl_bad = control_store(10);
    f.A = hs_batchcal_index(f.b, "A");
    f.B = hs_batchcal_index(f.b, "B");
    f.C = hs_batchcal_index(f.b, "C");
    f.E = hs_batchcal_index(f.b, "E");
    CU_ASSERT_FATAL(f.A == 0 && f.B == 1 && f.C == 2 && f.E == 3);
    CU_ASSERT_EQUAL_FATAL(hs_batchcal_add_slide(f.b, f.A, f.slide, 0.8, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_batchcal_add_slide(f.b, f.A, f.slide, 0.8, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_batchcal_add_slide(f.b, f.B, f.slide, 0.8, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_batchcal_add_slide(f.b, f.C, f.slide, 0.8, NULL), HS_OK);
    for (int k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL_FATAL(hs_batchcal_add_control(f.b, f.A, (hs_class)k, f.ctl, AREA[k], 0.8, NULL), HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_batchcal_add_control(f.b, f.C, (hs_class)k, f.ctl_bad, AREA[k], 0.8, NULL), HS_OK);
    }
    return f;
}

static void free_fixture(fixture *f)
{
    hs_batchcal_free(f->b);
    hs_cellstore_free(f->slide);
    hs_cellstore_free(f->ctl);
    hs_cellstore_free(f->ctl_bad);
}

static void test_index(void)
{
    hs_batchcal_free(NULL);
    fixture f = make_fixture();
    CU_ASSERT_EQUAL(hs_batchcal_count(f.b), 4);
    CU_ASSERT_EQUAL(hs_batchcal_index(f.b, "A"), 0);
    CU_ASSERT_EQUAL(hs_batchcal_index(f.b, "C"), 2);
    CU_ASSERT_EQUAL(hs_batchcal_count(f.b), 4);
    CU_ASSERT_STRING_EQUAL(hs_batchcal_name(f.b, 1), "B");
    CU_ASSERT_EQUAL(hs_batchcal_index(f.b, ""), 4); /* the unnamed batch is a batch too */
    CU_ASSERT_EQUAL(hs_batchcal_count(f.b), 5);
    CU_ASSERT_EQUAL(hs_batchcal_slides(f.b, f.A), 2);
    CU_ASSERT_EQUAL(hs_batchcal_slides(f.b, f.B), 1);
    CU_ASSERT_EQUAL(hs_batchcal_slides(f.b, f.E), 0);
    /* the histograms: A's slides hold its two slides' cells (1000 each); its areas 100 cells each (the 30
       stray cells outside every area do not count) */
    CU_ASSERT_EQUAL(hs_batchcal_hist(f.b, f.A, -1)->cells, 2000);
    CU_ASSERT_EQUAL(hs_batchcal_hist(f.b, f.B, -1)->cells, 1000);
    for (int k = 0; k < 4; k++)
        CU_ASSERT_EQUAL(hs_batchcal_hist(f.b, f.A, k)->cells, 100);
    CU_ASSERT_EQUAL(hs_batchcal_hist(f.b, f.C, 2)->cells, 10);
    /* asked for, a histogram is made empty */
    hs_calib_hist *h = hs_batchcal_hist(f.b, f.E, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(h->cells, 0);
    CU_ASSERT_PTR_EQUAL(hs_batchcal_hist(f.b, f.E, 1), h);
    free_fixture(&f);
}

static void test_fixed(void)
{
    fixture f = make_fixture();
    hs_batchcal_choose(f.b, HS_CALIB_FIXED, FIXED, 0.8);
    for (int i = 0; i < 4; i++) {
        const char *why = "x";
        const hs_calib_cuts *c = hs_batchcal_cuts(f.b, i, &why);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(c->method, HS_CALIB_FIXED);
        for (int k = 0; k < 3; k++)
            CU_ASSERT_EQUAL(c->od[k], FIXED[k]);
        CU_ASSERT_STRING_EQUAL(why, "");
    }
    free_fixture(&f);
}

/*
 * Cohort: each batch from its own slides.  The slides' sectors have modes at
 * 0.08 (unstained), 0.30 (arcs), 0.45 and 0.75; their complete membranes'
 * intensities at 0.55 and 0.95: od_1 falls in the valley between 0.08 and
 * 0.30, od_3 between 0.55 and 0.95; and A's cuts are those of the same cells
 * put through hs_calib_cohort directly (A holds the slide twice: the same
 * shape).  E, without slides, keeps the fixed cuts.
 */
static void test_cohort(void)
{
    fixture f = make_fixture();
    hs_batchcal_choose(f.b, HS_CALIB_COHORT, FIXED, 0.8);
    hs_calib_hist *h = malloc(sizeof *h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    hs_calib_hist_clear(h);
    CU_ASSERT_EQUAL_FATAL(hs_calib_hist_add_store(h, f.slide, 0.8, NULL, 0, NULL), HS_OK);
    hs_calib_cuts direct;
    hs_calib_cohort(h, FIXED, 0.8, &direct);
    for (int i = 0; i < 3; i++) {
        const hs_calib_cuts *c = hs_batchcal_cuts(f.b, i, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(c->method, HS_CALIB_COHORT);
        CU_ASSERT_EQUAL(c->found, 7);
        CU_ASSERT(c->od[0] > 0.12 && c->od[0] < 0.25);
        CU_ASSERT(c->od[2] > 0.65 && c->od[2] < 0.9);
        for (int k = 0; k < 3; k++)
            CU_ASSERT_EQUAL(c->od[k], direct.od[k]);
    }
    const hs_calib_cuts *e = hs_batchcal_cuts(f.b, f.E, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->method, HS_CALIB_COHORT);
    CU_ASSERT_EQUAL(e->found, 0);
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(e->od[k], FIXED[k]);
    free(h);
    free_fixture(&f);
}

static void check_control_cuts(const hs_calib_cuts *c)
{
    CU_ASSERT_EQUAL(c->method, HS_CALIB_CONTROLS);
    CU_ASSERT(fabs(c->od[0] - 0.25) <= 0.015);
    CU_ASSERT(fabs(c->od[1] - 0.50) <= 0.015);
    CU_ASSERT(fabs(c->od[2] - 0.80) <= 0.015);
}

/* Controls: A from its areas; B (no areas) and C (a 2+ area of 10 cells) get no cuts, with the reason. */
static void test_controls(void)
{
    fixture f = make_fixture();
    hs_batchcal_choose(f.b, HS_CALIB_CONTROLS, FIXED, 0.8);
    const char *why = NULL;
    const hs_calib_cuts *a = hs_batchcal_cuts(f.b, f.A, &why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    check_control_cuts(a);
    CU_ASSERT_PTR_NULL(hs_batchcal_cuts(f.b, f.B, &why));
    CU_ASSERT(strstr(why, "batch 'B' has no control areas of all four classes") != NULL);
    CU_ASSERT_PTR_NULL(hs_batchcal_cuts(f.b, f.C, &why));
    CU_ASSERT(strstr(why, "batch 'C': controls unusable") != NULL);
    CU_ASSERT(strstr(why, "2+ control area has 10 tumour cells") != NULL);
    CU_ASSERT_PTR_NULL(hs_batchcal_cuts(f.b, f.E, &why));
    /* choosing again with another method replaces the cuts and the reasons */
    hs_batchcal_choose(f.b, HS_CALIB_FIXED, FIXED, 0.8);
    CU_ASSERT_PTR_NOT_NULL(hs_batchcal_cuts(f.b, f.B, &why));
    CU_ASSERT_STRING_EQUAL(why, "");
    free_fixture(&f);
}

/* Auto: controls where usable (A), else cohort with the note "; no controls used" (B, C). */
static void test_auto(void)
{
    fixture f = make_fixture();
    hs_batchcal_choose(f.b, HS_CALIB_AUTO, FIXED, 0.8);
    const hs_calib_cuts *a = hs_batchcal_cuts(f.b, f.A, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    check_control_cuts(a);
    CU_ASSERT(strstr(a->note, "no controls used") == NULL);
    const hs_calib_cuts *cohort_a = NULL;
    for (int i = 1; i < 3; i++) {
        const char *why = NULL;
        const hs_calib_cuts *c = hs_batchcal_cuts(f.b, i, &why);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(c->method, HS_CALIB_COHORT);
        CU_ASSERT_EQUAL(c->found, 7);
        size_t len = strlen(c->note);
        CU_ASSERT(len > 18 && strcmp(c->note + len - 18, "; no controls used") == 0);
        CU_ASSERT(why && why[0]); /* the reason the controls were not used */
        cohort_a = c;
    }
    CU_ASSERT(cohort_a && cohort_a->od[0] > 0.12 && cohort_a->od[0] < 0.25);
    free_fixture(&f);
}

/*
 * The border leak, round 1: a batch's leak comes from its leak histogram
 * (here filled as in test_calib.c's estimate: leak 0.21); round 2 unmixes its
 * slides with it.  A sheet cell of stain 0.5 on both sides of every border
 * reads (0.5 - 0.21 * 0.5) / (1 - 0.21^2) = 0.41322 after unmixing (bin 41)
 * in that batch, and 0.5 (bin 50) in a batch without borders (leak 0).  A
 * store's facing sectors go into the leak histogram as hs_leak_hist_add_cell
 * puts them: (peak 0.91, beyond 0.19) in [45][10].
 */
static void test_leak(void)
{
    hs_batchcal *b = hs_batchcal_alloc();
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    int L = hs_batchcal_index(b, "leaky"), Z = hs_batchcal_index(b, "plain");
    CU_ASSERT_FATAL(L == 0 && Z == 1);
    const char *note = NULL;
    CU_ASSERT_EQUAL(hs_batchcal_leak(b, L, &note), 0);
    hs_leak_hist *lh = hs_batchcal_leak_hist(b, L);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lh);
    lh->n[45][48] = 3000;
    lh->n[2][45] = 6000;
    lh->n[45][10] = 300;
    hs_batchcal_choose_leak(b);
    HS_ASSERT_CLOSE(hs_batchcal_leak(b, L, &note), 0.21, 1e-12);
    CU_ASSERT(note && strstr(note, "leak 0.21") != NULL);
    CU_ASSERT_EQUAL(hs_batchcal_leak(b, Z, &note), 0);
    CU_ASSERT(note && strstr(note, "leak 0") != NULL);
    hs_cellstore *s = hs_cellstore_alloc(24, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    hs_cell c;
    memset(&c, 0, sizeof c);
    c.nsector = 24;
    for (int k = 0; k < 24; k++)
        c.stain[k] = c.peak[k] = c.ostain[k] = c.opeak[k] = 0.5f;
    CU_ASSERT_EQUAL_FATAL(hs_cellstore_add(s, 10, 10, &c, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_batchcal_add_slide(b, L, s, 0.8, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(hs_batchcal_add_slide(b, Z, s, 0.8, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_batchcal_hist(b, L, -1)->sector[41], 24);
    CU_ASSERT_EQUAL(hs_batchcal_hist(b, Z, -1)->sector[50], 24);
    /* round 1 from a store */
    hs_cellstore *t = hs_cellstore_alloc(24, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    memset(&c, 0, sizeof c);
    c.nsector = 3;
    c.peak[0] = 0.91f;
    c.opeak[0] = 0.19f;
    c.peak[1] = 0.4f;
    c.opeak[1] = -1;
    c.ostain[1] = -1;
    c.peak[2] = 0.51f;
    c.opeak[2] = 0.51f;
    CU_ASSERT_EQUAL_FATAL(hs_cellstore_add(t, 10, 10, &c, NULL), HS_OK);
    CU_ASSERT_EQUAL(hs_batchcal_add_leak(b, Z, t, NULL), HS_OK);
    hs_leak_hist *zh = hs_batchcal_leak_hist(b, Z);
    CU_ASSERT_PTR_NOT_NULL_FATAL(zh);
    /* the store keeps 1/4096 OD: 0.91 -> 3727/4096 = 0.90991, 0.19 -> 778/4096 = 0.18994: ratio 0.2087 */
    CU_ASSERT_EQUAL(zh->n[45][10], 1);
    CU_ASSERT_EQUAL(zh->n[25][49], 1);
    hs_cellstore_free(s);
    hs_cellstore_free(t);
    hs_batchcal_free(b);
}

int hs_suite_batchcal(void)
{
    CU_pSuite s = CU_add_suite("batchcal", NULL, NULL);
    if (!s)
        return 1;
    if (!CU_add_test(s, "batches, slides, areas, histograms", test_index) ||
        !CU_add_test(s, "fixed: every batch", test_fixed) ||
        !CU_add_test(s, "cohort: each batch's own valleys; none without slides", test_cohort) ||
        !CU_add_test(s, "controls: midpoints; no or unusable controls: no cuts", test_controls) ||
        !CU_add_test(s, "auto: controls where usable, else cohort", test_auto) ||
        !CU_add_test(s, "border leak per batch, applied to its slides", test_leak))
        return 1;
    return 0;
}
