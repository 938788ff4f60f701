/*
 * Unit tests of scoring/cells: nucleus detection, the tumour-cell rule, the
 * core window, Voronoi membrane rings and per-cell classes, on hematoxylin and
 * DAB planes drawn here (cellfix.c) with planted truth.
 *
 * Geometry (0.5 um per pixel): round nuclei of radius 4 um (8 px, area
 * pi 16 = 50.3 um^2) with hematoxylin 0.6 on a hexagonal lattice of 12 um
 * (24 px) spacing; a hexagonal Voronoi cell of that lattice has inradius
 * 6 um and circumradius 12/sqrt(3) = 6.93 um, so the 7 um expansion limit never
 * cuts it and every membrane is the cell's own hexagon border, 1 um wide.
 * Planted classes: 3+ = DAB 0.9 complete, 2+ = 0.5 complete, 1+ = 0.3 over
 * 40% of the turn, 0 = 0.03 (below od_1 = 0.2).  The scorer's ring (1.5 um)
 * holds the 1 um membrane band over 2/3 of its width, above sector_frac = 1/3,
 * so a complete membrane stains every sector (completeness 1) and the 40% arc
 * stains 0.4 * 24 = 9.6 sectors: 9 or 10 of 24, within one sector (1/24) of
 * 0.4.  The median sector peak is the planted DAB value itself (no noise).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cellfix.h"
#include "scoring/cells.h"
#include "suites.h"

#define MPP 0.5
#define W 300
#define H 300
/*
 * The lattice starts at (18.3, 18): the 0.3 px keeps the vertical bisectors
 * (x = 30.3 + 24k) off pixel centres, so no pixel is equidistant from two
 * nuclei and no ring or membrane distance falls exactly on its threshold.
 * Core: half-way between lattice columns (x = 18.3 + 12k) and rows (y = 18 + 20.78j).
 */
#define CX0 60
#define CX1 240
#define CY0 70
#define CY1 236

typedef struct scene {
    hs_cf_cell *cell;
    size_t n;
    float *hem, *dab;
} scene;

/* The 300 x 300 lattice scene; classes drawn from a fixed hash so that all four occur in the core. */
static scene lattice_scene(void)
{
    scene s = {0};
    s.cell = hs_cf_lattice(18.3, 18, W, H, 24, 4.0, &s.n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.cell);
    for (size_t i = 0; i < s.n; i++)
        hs_cf_set_class(&s.cell[i], (hs_class)(int)(hs_cf_uniform(i + 17) * 4));
    s.hem = malloc((size_t)W * H * sizeof *s.hem);
    s.dab = malloc((size_t)W * H * sizeof *s.dab);
    CU_ASSERT_FATAL(s.hem && s.dab);
    hs_cf_render(s.cell, s.n, MPP, 0, 0, W, H, s.hem, s.dab);
    return s;
}

static void scene_free(scene *s)
{
    free(s->cell);
    free(s->hem);
    free(s->dab);
}

static int in_rect(double x, double y, double x0, double y0, double x1, double y1)
{
    return x >= x0 && x < x1 && y >= y0 && y < y1;
}

/* Index of the planted centre nearest to (x, y), and its distance. */
static size_t nearest(const scene *s, double x, double y, double *dist)
{
    size_t best = 0;
    double bd = INFINITY;
    for (size_t i = 0; i < s->n; i++) {
        double d = hypot(s->cell[i].x - x, s->cell[i].y - y);
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    *dist = bd;
    return best;
}

static void defaults(hs_cell_params *cp, hs_her2_params *hp)
{
    hs_cell_params_default(cp);
    hs_her2_params_default(hp);
}

/*
 * The measured area of a planted nucleus (radius 4 um = 8 px, hematoxylin 0.6
 * on cytoplasm 0.06).  The binomial smoothing (sigma 1 px) turns its edge into
 * an error function, and the background subtraction leaves a step of 0.54
 * above the cytoplasm; cutting it at nucleus_od = 0.15, i.e. at 0.15/0.54 of
 * the step, moves the edge out by Phi^-1(1 - 0.15/0.54) = 0.589 px, so the
 * area is pi 16 um^2 times (8.589/8)^2 = 1.1527, up to pixel rounding.
 */
static double expected_area(void)
{
    return M_PI * 16 * (8.589 / 8) * (8.589 / 8);
}

static void test_params(void)
{
    hs_cell_params p;
    hs_cell_params_default(&p);
    CU_ASSERT_EQUAL(p.nucleus_od, 0.15);
    CU_ASSERT_EQUAL(p.background_um, 8);
    CU_ASSERT_EQUAL(p.min_area_um2, 10);
    CU_ASSERT_EQUAL(p.max_area_um2, 400);
    CU_ASSERT_EQUAL(p.expansion_um, 7);
    CU_ASSERT_EQUAL(p.ring_um, 1.5);
    CU_ASSERT_EQUAL(p.tumour_radius_um, 20);
    CU_ASSERT_EQUAL(p.tumour_neighbours, 3);
    CU_ASSERT_EQUAL(p.sectors, 24);
    HS_ASSERT_CLOSE(p.sector_frac, 1.0 / 3.0, 1e-15);
    /* margin: ceil((20 + 2*7 + 1.5) / 0.5) + 2 = 71 + 2; at 0.25 um: ceil(142) + 2 */
    CU_ASSERT_EQUAL(hs_cells_margin_px(&p, 0.5), 73);
    CU_ASSERT_EQUAL(hs_cells_margin_px(&p, 0.25), 144);
    CU_ASSERT_EQUAL(hs_cells_margin_px(&p, 1.0), 38); /* ceil(35.5) + 2 */
    CU_ASSERT_PTR_NULL(hs_cells_alloc(0, 10));
    CU_ASSERT_PTR_NULL(hs_cells_alloc(10, -1));
    hs_cells_free(NULL);
}

static void test_lattice(void)
{
    scene s = lattice_scene();
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(W, H);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, CX0, CY0, CX1, CY1, &cp, &hp, &cell, &n, NULL),
                          HS_OK);
    size_t planted = 0, per_class[HS_NCLASS] = {0};
    for (size_t i = 0; i < s.n; i++)
        if (in_rect(s.cell[i].x, s.cell[i].y, CX0, CY0, CX1, CY1)) {
            planted++;
            per_class[s.cell[i].cls]++;
        }
    CU_ASSERT_FATAL(planted >= 40);
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(per_class[k] >= 5);
    CU_ASSERT_EQUAL(n, planted);
    unsigned char *seen = calloc(s.n, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
    size_t wrong_class = 0;
    for (size_t i = 0; i < n; i++) {
        const hs_cell *c = &cell[i];
        double d;
        size_t j = nearest(&s, c->x, c->y, &d);
        const hs_cf_cell *pc = &s.cell[j];
        CU_ASSERT(d <= 0.5);
        CU_ASSERT(in_rect(pc->x, pc->y, CX0, CY0, CX1, CY1));
        CU_ASSERT(!seen[j]);
        seen[j] = 1;
        CU_ASSERT(fabs(c->area_um2 - expected_area()) <= 0.05 * M_PI * 16);
        CU_ASSERT_EQUAL(c->cls, pc->cls);
        wrong_class += c->cls != pc->cls;
        switch (pc->cls) {
        case HS_CLASS_3:
        case HS_CLASS_2:
            CU_ASSERT(c->completeness >= 1 - 1.0 / 24 - 1e-12);
            HS_ASSERT_CLOSE(c->intensity, pc->dab, 1e-6);
            break;
        case HS_CLASS_1:
            CU_ASSERT(fabs(c->completeness - 0.4) <= 1.0 / 24 + 1e-12);
            HS_ASSERT_CLOSE(c->intensity, 0.3, 1e-6);
            break;
        default:
            CU_ASSERT_EQUAL(c->completeness, 0);
            CU_ASSERT_EQUAL(c->intensity, 0);
            break;
        }
    }
    CU_ASSERT_EQUAL(wrong_class, 0);
    free(seen);
    hs_cells_free(det);
    scene_free(&s);
}

/*
 * The tumour-cell rule: a nucleus is a tumour cell with >= 3 other nuclei
 * within 20 um.  A lone nucleus is not.  A centre with three neighbours at
 * 19 um is (the neighbours, 19 sqrt(3) = 32.9 um apart, have one neighbour
 * each and are not); with the three at 21 um nobody is; with two at 19 um
 * nobody is.
 */
static size_t count_star(int nout, double dist_um, const hs_cell **cell)
{
    enum { S = 200 };
    hs_cf_cell c[4];
    c[0] = (hs_cf_cell){100.3, 99.6, 4.0, 0, 1, HS_CLASS_0};
    hs_cf_set_class(&c[0], HS_CLASS_3);
    for (int k = 0; k < nout; k++) {
        double a = 0.3 + k * 2 * M_PI / 3;
        c[1 + k] = c[0];
        c[1 + k].x += dist_um / MPP * cos(a);
        c[1 + k].y += dist_um / MPP * sin(a);
    }
    float *hem = malloc(S * S * sizeof *hem), *dab = malloc(S * S * sizeof *dab);
    CU_ASSERT_FATAL(hem && dab);
    hs_cf_render(c, (size_t)(1 + nout), MPP, 0, 0, S, S, hem, dab);
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(S, S);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    size_t n = 99;
    static hs_cell keep;
    const hs_cell *out;
    CU_ASSERT_EQUAL(hs_cells_run(det, hem, dab, S, S, MPP, 0, 0, S, S, &cp, &hp, &out, &n, NULL), HS_OK);
    if (n)
        keep = out[0];
    *cell = &keep;
    hs_cells_free(det);
    free(hem);
    free(dab);
    return n;
}

static void test_neighbours(void)
{
    const hs_cell *c;
    CU_ASSERT_EQUAL(count_star(0, 0, &c), 0); /* lone nucleus */
    CU_ASSERT_EQUAL(count_star(2, 19, &c), 0);
    CU_ASSERT_EQUAL(count_star(3, 21, &c), 0);
    CU_ASSERT_EQUAL_FATAL(count_star(3, 19, &c), 1);
    CU_ASSERT(hypot(c->x - 100.3, c->y - 99.6) <= 0.5);
    /* its region is limited by the 7 um expansion (neighbours 19 um away): a full circle of 3+ membrane */
    CU_ASSERT_EQUAL(c->cls, HS_CLASS_3);
    CU_ASSERT(c->completeness >= 1 - 1.0 / 24 - 1e-12);
}

/*
 * Area filter: in the lattice, some nuclei are made small (radius 1.5 um:
 * pi 2.25 = 7.1 um^2 < min_area 10) and some large (radius 5 um: pi 25 =
 * 78.5 um^2); with max_area 70 the large ones go too, with the default 400
 * they stay.  Normal nuclei (50.3 um^2) always stay.
 */
static void test_area_filter(void)
{
    scene s = lattice_scene();
    size_t nsmall = 0, nlarge = 0, nnormal = 0;
    for (size_t i = 0; i < s.n; i++) {
        int core = in_rect(s.cell[i].x, s.cell[i].y, CX0, CY0, CX1, CY1);
        if (i % 7 == 2) {
            s.cell[i].r_um = 1.5;
            nsmall += core;
        } else if (i % 7 == 5) {
            s.cell[i].r_um = 5.0;
            nlarge += core;
        } else {
            nnormal += core;
        }
    }
    CU_ASSERT_FATAL(nsmall >= 3 && nlarge >= 3);
    hs_cf_render(s.cell, s.n, MPP, 0, 0, W, H, s.hem, s.dab);
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(W, H);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, CX0, CY0, CX1, CY1, &cp, &hp, &cell, &n, NULL),
                          HS_OK);
    CU_ASSERT_EQUAL(n, nnormal + nlarge);
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        CU_ASSERT(j % 7 != 2);
        CU_ASSERT(d <= 0.5);
    }
    cp.max_area_um2 = 70;
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, CX0, CY0, CX1, CY1, &cp, &hp, &cell, &n, NULL),
                          HS_OK);
    CU_ASSERT_EQUAL(n, nnormal);
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        CU_ASSERT(j % 7 != 2 && j % 7 != 5);
        CU_ASSERT(fabs(cell[i].area_um2 - expected_area()) <= 0.05 * M_PI * 16);
    }
    /* min_area above every nucleus: nothing */
    cp.max_area_um2 = 400;
    cp.min_area_um2 = 120;
    CU_ASSERT_EQUAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, CX0, CY0, CX1, CY1, &cp, &hp, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, 0);
    hs_cells_free(det);
    scene_free(&s);
}

/*
 * Background subtraction: the lattice on a hematoxylin plateau of +0.3 (a
 * heavy counterstain, or DAB bleeding into the hematoxylin channel).  Without
 * subtraction the whole plane is above the threshold, one component far over
 * the area limit, and no cell is found; with it every planted cell is found.
 */
static void test_background(void)
{
    scene s = lattice_scene();
    for (size_t i = 0; i < (size_t)W * H; i++)
        s.hem[i] += 0.3f;
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(W, H);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    size_t planted = 0;
    for (size_t i = 0; i < s.n; i++)
        planted += in_rect(s.cell[i].x, s.cell[i].y, CX0, CY0, CX1, CY1);
    const hs_cell *cell;
    size_t n;
    CU_ASSERT_EQUAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, CX0, CY0, CX1, CY1, &cp, &hp, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, planted);
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        CU_ASSERT(d <= 0.5);
        CU_ASSERT_EQUAL(cell[i].cls, s.cell[j].cls);
    }
    cp.background_um = 0;
    CU_ASSERT_EQUAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, CX0, CY0, CX1, CY1, &cp, &hp, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, 0);
    hs_cells_free(det);
    scene_free(&s);
}

/* Only cells whose centroid lies in the core are reported; an empty core reports none. */
static void test_core(void)
{
    scene s = lattice_scene();
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(W, H);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    /* a smaller core, bounds half-way between lattice positions again */
    const int x0 = 108, x1 = 168, y0 = 112, y1 = 174;
    size_t planted = 0;
    for (size_t i = 0; i < s.n; i++)
        planted += in_rect(s.cell[i].x, s.cell[i].y, x0, y0, x1, y1);
    CU_ASSERT_FATAL(planted >= 4);
    const hs_cell *cell;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, x0, y0, x1, y1, &cp, &hp, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, planted);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT(in_rect(cell[i].x, cell[i].y, x0, y0, x1, y1));
    CU_ASSERT_EQUAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, 150, 150, 150, 150, &cp, &hp, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, 0);
    /* a core over the empty corner (no centre there) */
    CU_ASSERT_EQUAL(hs_cells_run(det, s.hem, s.dab, W, H, MPP, 0, 0, 10, 10, &cp, &hp, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, 0);
    hs_cells_free(det);
    scene_free(&s);
}

static void test_too_large(void)
{
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(100, 80);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    float *p = calloc(101 * 101, sizeof *p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    const hs_cell *cell = (const hs_cell *)p;
    size_t n = 7;
    hs_error e;
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 101, 80, MPP, 0, 0, 101, 80, &cp, &hp, &cell, &n, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(e.code, HS_EINVAL);
    CU_ASSERT_PTR_NULL(cell);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 100, 81, MPP, 0, 0, 100, 81, &cp, &hp, &cell, &n, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 0, 80, MPP, 0, 0, 0, 80, &cp, &hp, &cell, &n, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 100, 80, 0.0, 0, 0, 100, 80, &cp, &hp, &cell, &n, NULL), HS_EINVAL);
    /* the largest region that fits, and a smaller one: fine (blank: no cells) */
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 100, 80, MPP, 0, 0, 100, 80, &cp, &hp, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 30, 70, MPP, 0, 0, 30, 70, &cp, &hp, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, 0);
    free(p);
    hs_cells_free(det);
}

/* Field by field (hs_cell has padding, which memcmp would compare). */
static int same_cells(const hs_cell *a, const hs_cell *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].x != b[i].x || a[i].y != b[i].y || a[i].area_um2 != b[i].area_um2 ||
            a[i].intensity != b[i].intensity || a[i].completeness != b[i].completeness || a[i].cls != b[i].cls)
            return 0;
    return 1;
}

/*
 * Determinism: the same input gives bit-identical cells, on the same
 * detector and on a fresh one, also after the detector has worked on a
 * different, larger region (no state carried between calls).
 */
static void test_determinism(void)
{
    scene s = lattice_scene();
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *a = hs_cells_alloc(W, H), *b = hs_cells_alloc(W, H);
    CU_ASSERT_FATAL(a && b);
    const hs_cell *cell;
    size_t n1, n2, n3;
    /* a 200 x 200 window at the origin, core [60, 140) */
    enum { S = 200 };
    float *hs = malloc(S * S * sizeof *hs), *ds = malloc(S * S * sizeof *ds);
    CU_ASSERT_FATAL(hs && ds);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            hs[y * S + x] = s.hem[y * W + x];
            ds[y * S + x] = s.dab[y * W + x];
        }
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(a, hs, ds, S, S, MPP, 60, 60, 140, 140, &cp, &hp, &cell, &n1, NULL), HS_OK);
    CU_ASSERT_FATAL(n1 > 0);
    hs_cell *first = malloc(n1 * sizeof *first);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    memcpy(first, cell, n1 * sizeof *first);
    /* the big region in between */
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(a, s.hem, s.dab, W, H, MPP, CX0, CY0, CX1, CY1, &cp, &hp, &cell, &n2, NULL),
                          HS_OK);
    CU_ASSERT(n2 > n1);
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(a, hs, ds, S, S, MPP, 60, 60, 140, 140, &cp, &hp, &cell, &n3, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(n3, n1);
    CU_ASSERT(same_cells(cell, first, n1));
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(b, hs, ds, S, S, MPP, 60, 60, 140, 140, &cp, &hp, &cell, &n3, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(n3, n1);
    CU_ASSERT(same_cells(cell, first, n1));
    /* the cells of the window's core are the big region's cells of the same core, measured identically */
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(b, s.hem, s.dab, W, H, MPP, 60, 60, 140, 140, &cp, &hp, &cell, &n3, NULL),
                          HS_OK);
    CU_ASSERT_EQUAL_FATAL(n3, n1);
    CU_ASSERT(same_cells(cell, first, n1));
    free(first);
    free(hs);
    free(ds);
    hs_cells_free(a);
    hs_cells_free(b);
    scene_free(&s);
}

int hs_suite_cells(void)
{
    CU_pSuite s = CU_add_suite("cells", NULL, NULL);
    if (!s)
        return 1;
    if (!CU_add_test(s, "defaults, margin, alloc/free", test_params) ||
        !CU_add_test(s, "hex lattice: count, centroids, classes, completeness", test_lattice) ||
        !CU_add_test(s, "tumour rule: lone nucleus, 2 or 3 neighbours at 19/21 um", test_neighbours) ||
        !CU_add_test(s, "nucleus area filter", test_area_filter) ||
        !CU_add_test(s, "background subtraction", test_background) ||
        !CU_add_test(s, "only core cells are reported", test_core) ||
        !CU_add_test(s, "region larger than the detector", test_too_large) ||
        !CU_add_test(s, "determinism and detector reuse", test_determinism))
        return 1;
    return 0;
}
