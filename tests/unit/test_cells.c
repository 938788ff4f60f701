/*
 * Unit tests of scoring/cells: nucleus detection, the watershed split, the
 * shape and area filters, the slide scale, the tumour-cell rule at that
 * scale, the core window, membranes measured up to each cell's own border,
 * and hs_cell_classify, on hematoxylin and DAB planes drawn here (cellfix.c)
 * with planted truth.  Every image is at 0.5 um per pixel.
 *
 * The regression this suite guards (the scorer used to sample every membrane
 * at a fixed 7 um from the nucleus): hexagonal lattices of spacing s = 10, 16
 * and 24 um, nuclei of radius s/4 (half the half-spacing), cells expanded up
 * to s (beyond the hexagon's circumradius s/sqrt(3), so that every core cell
 * is its whole hexagon) and membranes 1, 1.5 and 2 um wide drawn on the cell's
 * side of its hexagon border.  The scorer's band is 3 px = 1.5 um on the
 * cell's side of the border it finds; a membrane of 2 px or more fills at
 * least 2/3 of it, above the third that stains a sector, so a complete
 * membrane stains all 24 sectors at any cell size.  A 1+ membrane covers 40%
 * of the turn from angle -pi, i.e. sectors 0..8 wholly and 60% of sector 9
 * (above a third): 10/24 = 0.417, within 1/24 of 0.4.  No noise: a stained
 * sector's peak is the planted DAB value.  Cuts 0.2/0.4/0.6: planted 0 =
 * DAB 0.03 complete, 1+ = 0.3 on 40%, 2+ = 0.5 complete, 3+ = 0.9 complete.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cellfix.h"
#include "scoring/cells.h"
#include "suites.h"

#define MPP 0.5

typedef struct scene {
    hs_cf_cell *cell;
    size_t n;
    int w, h;
    float *hem, *dab;
    int cx0, cy0, cx1, cy1; /* core */
} scene;

static void scene_free(scene *s)
{
    free(s->cell);
    free(s->hem);
    free(s->dab);
    memset(s, 0, sizeof *s);
}

static int in_rect(double x, double y, double x0, double y0, double x1, double y1)
{
    return x >= x0 && x < x1 && y >= y0 && y < y1;
}

static int in_core(const scene *s, double x, double y)
{
    return in_rect(x, y, s->cx0, s->cy0, s->cx1, s->cy1);
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

static size_t planted_in_core(const scene *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += in_core(s, s->cell[i].x, s->cell[i].y);
    return k;
}

static void alloc_planes(scene *s)
{
    s->hem = malloc((size_t)s->w * s->h * sizeof *s->hem);
    s->dab = malloc((size_t)s->w * s->h * sizeof *s->dab);
    CU_ASSERT_FATAL(s->hem && s->dab);
}

/*
 * A w x h image filled with a hexagonal lattice of spacing sp_um (rows
 * horizontal), nuclei of radius r_um, classes from a fixed hash, rendered
 * with the given expansion and membrane width.  The core is
 * [margin, margin + cols * sp) x [margin, margin + floor(rows * row)) with
 * row = sp sqrt(3)/2; the lattice is placed so that its columns lie sp/4 +
 * 0.3 px and its rows half a row from every core bound (no centroid near a
 * bound, and no bisector on a pixel centre).  The image is the core plus
 * `margin` pixels all round, filled with cells.
 */
static scene lattice_scene(double sp_um, double r_um, double expansion_um, double membrane_um, int margin, int cols,
                           int rows)
{
    scene s = {0};
    double sp = sp_um / MPP, row = sp * sqrt(3.0) / 2;
    s.cx0 = s.cy0 = margin;
    s.cx1 = margin + (int)lround(cols * sp);
    s.cy1 = margin + (int)floor(rows * row);
    s.w = s.cx1 + margin;
    s.h = s.cy1 + margin;
    /* origin (margin + sp/4 + 0.3, margin + row/2), started an even number of rows and whole columns earlier */
    int back_r = 2 * (int)ceil((margin + row) / (2 * row)), back_c = (int)ceil((margin + sp) / sp);
    double x0 = margin + sp / 4 + 0.3 - back_c * sp, y0 = margin + row / 2 - back_r * row;
    s.cell = hs_cf_lattice(x0, y0, s.w + sp, s.h + row, sp, r_um, &s.n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.cell);
    for (size_t i = 0; i < s.n; i++)
        hs_cf_set_class(&s.cell[i], (hs_class)(int)(hs_cf_uniform(i + 17) * 4));
    alloc_planes(&s);
    hs_cf_render_ex(s.cell, s.n, MPP, 0, 0, s.w, s.h, expansion_um, membrane_um, s.hem, s.dab);
    return s;
}

/* The 12 um lattice with 4 um nuclei and the default rendering (7 um expansion, 1 um membranes). */
static scene small_scene(void)
{
    scene s = lattice_scene(12, 4, HS_CF_EXPANSION_UM, HS_CF_MEMBRANE_UM, 60, 8, 8);
    return s;
}

/*
 * The measured area of a planted round nucleus of radius r_um (hematoxylin
 * 0.6 on cytoplasm 0.06).  The binomial smoothing (sigma 1 px) turns its
 * edge into an error function, and the background subtraction leaves a step
 * of 0.54 above the cytoplasm; cutting it at nucleus_od = 0.15, i.e. at
 * 0.15/0.54 of the step, moves the edge out by Phi^-1(1 - 0.15/0.54) = 0.589
 * px, so the area is pi (r + 0.589 px)^2, up to pixel rounding and (for
 * small nuclei) the curvature of the edge.
 */
static double expected_area(double r_um)
{
    double r = r_um / MPP + 0.589;
    return M_PI * r * r * MPP * MPP;
}

static void defaults(hs_cell_params *cp, hs_her2_params *hp)
{
    hs_cell_params_default(cp);
    hs_her2_params_default(hp);
}

/* Runs the detector on a whole scene's planes and core; fatal on failure. */
static size_t run_scene(hs_cells *det, const scene *s, const hs_cell_params *cp, const hs_cell_scale *sc,
                        const hs_cell **cell)
{
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(det, s->hem, s->dab, s->w, s->h, MPP, s->cx0, s->cy0, s->cx1, s->cy1, cp, sc,
                                       cell, &n, NULL),
                          HS_OK);
    return n;
}

/* A measured cell's class at the given leak: its sectors unmixed and sorted (hs_cell_unmix), then classified. */
static hs_class cell_class(const hs_cell *c, double leak, const hs_her2_params *hp, double *in, double *co)
{
    float st[HS_CELL_MAX_SECTORS], pk[HS_CELL_MAX_SECTORS];
    hs_cell_unmix(c->stain, c->peak, c->ostain, c->opeak, c->nsector, leak, st, pk);
    for (int k = 1; k < c->nsector; k++)
        CU_ASSERT(st[k - 1] <= st[k]);
    return hs_cell_classify(st, pk, c->nsector, hp, in, co);
}

static void test_params(void)
{
    hs_cell_params p;
    hs_cell_params_default(&p);
    CU_ASSERT_EQUAL(p.nucleus_od, 0.15);
    CU_ASSERT_EQUAL(p.background_um, 8);
    CU_ASSERT_EQUAL(p.min_area_um2, 5);
    CU_ASSERT_EQUAL(p.max_area_um2, 400);
    CU_ASSERT_EQUAL(p.max_radius_um, 12.5);
    CU_ASSERT_EQUAL(p.split_neck, 0.7);
    CU_ASSERT_EQUAL(p.max_elongation, 2.5);
    CU_ASSERT_EQUAL(p.sheet_factor, 1.45);
    CU_ASSERT_EQUAL(p.min_area_frac, 0.4);
    CU_ASSERT_EQUAL(p.edge_factor, 1.3);
    CU_ASSERT_EQUAL(p.sectors, 24);
    CU_ASSERT_EQUAL(p.rays_per_sector, 3);
    CU_ASSERT_EQUAL(p.band_px, 3);
    /*
     * margin = ceil((2 cap + s/2) / mpp) + 2 with cap = edge_factor * sheet_factor * s / 2.
     * Scale unknown: s = 2 * max_radius = 25 um, cap = 1.3 * 1.45 * 12.5 = 23.5625 um, 2 cap + s/2 = 59.625 um:
     * 119.25 px at 0.5 um -> 120 + 2; 238.5 at 0.25 -> 239 + 2; 59.625 at 1 -> 60 + 2.
     */
    CU_ASSERT_EQUAL(hs_cells_margin_px(&p, NULL, 0.5), 122);
    CU_ASSERT_EQUAL(hs_cells_margin_px(&p, NULL, 0.25), 241);
    CU_ASSERT_EQUAL(hs_cells_margin_px(&p, NULL, 1.0), 62);
    /* a measured spacing of 12 um: cap = 1.885 * 6 = 11.31, 2 cap + 6 = 28.62 um = 57.24 px -> 58 + 2 */
    hs_cell_scale sc = {12, 50, 100};
    CU_ASSERT_EQUAL(hs_cells_margin_px(&p, &sc, 0.5), 60);
    /* an unknown scale (n_sheet 0) is the same as none */
    sc.n_sheet = 0;
    CU_ASSERT_EQUAL(hs_cells_margin_px(&p, &sc, 0.5), 122);
    CU_ASSERT_PTR_NULL(hs_cells_alloc(0, 10));
    CU_ASSERT_PTR_NULL(hs_cells_alloc(10, -1));
    hs_cells_free(NULL);
    hs_scale_acc_free(NULL);
}

/* What the regression test expects of one lattice; see the file comment. */
typedef struct lattice_case {
    double sp_um, membrane_um;
} lattice_case;

/*
 * The median centre-to-border distance of an interior cell: 72 rays at
 * (k + 0.5) * 5 degrees from -180; the hexagon's apothems (s/2) point at
 * multiples of 60 degrees, so the rays lie 2.5, 7.5, ..., 27.5 degrees off
 * an apothem, 12 rays each, and are s/2 / cos(angle) long.  The median of the
 * 72 is the mean of the 36th and 37th: (1/cos 12.5 + 1/cos 17.5) / 2 * s/2 =
 * 1.036422 s/2.  (The open-ray radius, 1.1 times that, exceeds the longest
 * ray, s/2 / cos 27.5 = 1.1274 s/2: no ray is cut.)
 */
static double expected_radius(double sp_um)
{
    return 0.5 * (1 / cos(12.5 * M_PI / 180) + 1 / cos(17.5 * M_PI / 180)) * sp_um / 2;
}

static void check_lattice(const lattice_case *lc, int with_scale)
{
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    int margin = hs_cells_margin_px(&cp, NULL, MPP);
    scene s = lattice_scene(lc->sp_um, lc->sp_um / 4, lc->sp_um, lc->membrane_um, margin, 8, 8);
    hs_cells *det = hs_cells_alloc(s.w, s.h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    hs_cell_scale sc = {0, 0, 0}, *scp = NULL;
    if (with_scale) {
        hs_scale_acc *acc = hs_scale_acc_alloc();
        CU_ASSERT_PTR_NOT_NULL_FATAL(acc);
        CU_ASSERT_EQUAL_FATAL(
            hs_cells_sample(det, s.hem, s.dab, s.w, s.h, MPP, s.cx0, s.cy0, s.cx1, s.cy1, &cp, acc, NULL), HS_OK);
        hs_cells_scale_finish(acc, &cp, &sc);
        hs_scale_acc_free(acc);
        CU_ASSERT(fabs(sc.spacing_um - lc->sp_um) <= 0.25);
        scp = &sc;
    }
    const hs_cell *cell;
    size_t n = run_scene(det, &s, &cp, scp, &cell), planted = planted_in_core(&s);
    size_t per_class[HS_NCLASS] = {0};
    for (size_t i = 0; i < s.n; i++)
        if (in_core(&s, s.cell[i].x, s.cell[i].y))
            per_class[s.cell[i].cls]++;
    CU_ASSERT_FATAL(planted >= 60);
    for (int k = 0; k < HS_NCLASS; k++)
        CU_ASSERT(per_class[k] >= 8);
    CU_ASSERT_EQUAL(n, planted);
    unsigned char *seen = calloc(s.n, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
    size_t wrong = 0, far = 0, twice = 0, low_complete = 0, bad_arc = 0;
    double area = expected_area(lc->sp_um / 4), radius = expected_radius(lc->sp_um);
    for (size_t i = 0; i < n; i++) {
        const hs_cell *c = &cell[i];
        double d;
        size_t j = nearest(&s, c->x, c->y, &d);
        const hs_cf_cell *pc = &s.cell[j];
        far += d > 0.5 || !in_core(&s, pc->x, pc->y);
        twice += seen[j];
        seen[j] = 1;
        CU_ASSERT(fabs(c->area_um2 - area) <= 0.08 * area);
        CU_ASSERT(fabs(c->radius_um - radius) <= 0.1);
        CU_ASSERT_EQUAL(c->nsector, 24);
        double in, co;
        hs_class k = cell_class(c, 0, &hp, &in, &co);
        wrong += k != pc->cls;
        switch (pc->cls) {
        case HS_CLASS_3:
        case HS_CLASS_2:
            low_complete += co < 23.0 / 24 - 1e-12;
            HS_ASSERT_CLOSE(in, pc->dab, 1e-6);
            break;
        case HS_CLASS_1:
            bad_arc += fabs(co - 0.4) > 1.0 / 24 + 1e-12;
            HS_ASSERT_CLOSE(in, 0.3, 1e-6);
            break;
        default:
            CU_ASSERT_EQUAL(co, 0);
            CU_ASSERT_EQUAL(in, 0);
            break;
        }
    }
    CU_ASSERT_EQUAL(far, 0);
    CU_ASSERT_EQUAL(twice, 0);
    CU_ASSERT_EQUAL(low_complete, 0);
    CU_ASSERT_EQUAL(bad_arc, 0);
    CU_ASSERT_EQUAL(wrong, 0);
    free(seen);
    hs_cells_free(det);
    scene_free(&s);
}

static const lattice_case LATTICES[] = {{10, 1.0}, {16, 1.5}, {24, 2.0}};

/* Sheets of small, medium and large cells without a measured scale (the rule then uses 25 um). */
static void test_lattice_sizes(void)
{
    for (size_t i = 0; i < sizeof LATTICES / sizeof LATTICES[0]; i++)
        check_lattice(&LATTICES[i], 0);
}

/* The same with the scale measured on the image itself (hs_cells_sample), as the scorer runs. */
static void test_lattice_sizes_scaled(void)
{
    for (size_t i = 0; i < sizeof LATTICES / sizeof LATTICES[0]; i++)
        check_lattice(&LATTICES[i], 1);
}

/*
 * The scale of a lattice: every core nucleus has six neighbours at one
 * spacing, so its third-nearest neighbour is at the spacing (a tumour-like
 * nucleus, within the 50 um sampling reach): the mode is s within one 0.25 um
 * bin (bin centre, plus centroid noise far below a bin), n_sheet is the
 * number of planted core nuclei, and the typical area is the measured area of
 * a nucleus (expected_area).
 */
static void test_scale(void)
{
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    static const double sp[] = {10, 12, 16, 24};
    for (size_t t = 0; t < sizeof sp / sizeof sp[0]; t++) {
        scene s = lattice_scene(sp[t], sp[t] / 4, sp[t], 1, 100, 6, 6);
        hs_cells *det = hs_cells_alloc(s.w, s.h);
        hs_scale_acc *a = hs_scale_acc_alloc(), *b = hs_scale_acc_alloc(), *all = hs_scale_acc_alloc();
        CU_ASSERT_FATAL(det && a && b && all);
        CU_ASSERT_EQUAL_FATAL(hs_cells_sample(det, s.hem, s.dab, s.w, s.h, MPP, s.cx0, s.cy0, s.cx1, s.cy1, &cp, all, NULL),
                              HS_OK);
        hs_cell_scale sc;
        hs_cells_scale_finish(all, &cp, &sc);
        size_t planted = planted_in_core(&s);
        CU_ASSERT_FATAL(planted >= 30);
        CU_ASSERT(fabs(sc.spacing_um - sp[t]) <= 0.25);
        CU_ASSERT_EQUAL(sc.n_sheet, planted);
        double area = expected_area(sp[t] / 4);
        CU_ASSERT(fabs(sc.nucleus_area_um2 - area) <= 0.08 * area);
        /* the core in two halves, sampled apart and merged: the same samples */
        int mid = s.cx0 + (s.cx1 - s.cx0) / 2;
        CU_ASSERT_EQUAL_FATAL(hs_cells_sample(det, s.hem, s.dab, s.w, s.h, MPP, s.cx0, s.cy0, mid, s.cy1, &cp, a, NULL),
                              HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_cells_sample(det, s.hem, s.dab, s.w, s.h, MPP, mid, s.cy0, s.cx1, s.cy1, &cp, b, NULL),
                              HS_OK);
        CU_ASSERT_EQUAL_FATAL(hs_scale_acc_merge(a, b, NULL), HS_OK);
        hs_cell_scale sm;
        hs_cells_scale_finish(a, &cp, &sm);
        CU_ASSERT_EQUAL(sm.n_sheet, planted);
        CU_ASSERT_EQUAL(sm.spacing_um, sc.spacing_um);
        CU_ASSERT_EQUAL(sm.nucleus_area_um2, sc.nucleus_area_um2);
        hs_scale_acc_free(a);
        hs_scale_acc_free(b);
        hs_scale_acc_free(all);
        hs_cells_free(det);
        scene_free(&s);
    }
}

/*
 * Too few sheet nuclei (< 30) leave the scale unknown: a core holding 4 x 4
 * lattice positions (16 nuclei) gives n_sheet 0 and spacing 0; so do an
 * empty accumulator and none at all.
 */
static void test_scale_unknown(void)
{
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    scene s = lattice_scene(12, 3, 12, 1, 100, 4, 4);
    size_t planted = planted_in_core(&s);
    CU_ASSERT_FATAL(planted > 0 && planted < 30);
    hs_cells *det = hs_cells_alloc(s.w, s.h);
    hs_scale_acc *a = hs_scale_acc_alloc(), *e = hs_scale_acc_alloc();
    CU_ASSERT_FATAL(det && a && e);
    CU_ASSERT_EQUAL_FATAL(hs_cells_sample(det, s.hem, s.dab, s.w, s.h, MPP, s.cx0, s.cy0, s.cx1, s.cy1, &cp, a, NULL),
                          HS_OK);
    hs_cell_scale sc = {1, 1, 1};
    hs_cells_scale_finish(a, &cp, &sc);
    CU_ASSERT_EQUAL(sc.n_sheet, 0);
    CU_ASSERT_EQUAL(sc.spacing_um, 0);
    CU_ASSERT_EQUAL(sc.nucleus_area_um2, 0);
    sc = (hs_cell_scale){1, 1, 1};
    hs_cells_scale_finish(e, &cp, &sc);
    CU_ASSERT_EQUAL(sc.n_sheet, 0);
    CU_ASSERT_EQUAL(sc.spacing_um, 0);
    sc = (hs_cell_scale){1, 1, 1};
    hs_cells_scale_finish(NULL, &cp, &sc);
    CU_ASSERT_EQUAL(sc.n_sheet, 0);
    /* region too large for the detector */
    hs_error err;
    CU_ASSERT_EQUAL(hs_cells_sample(det, s.hem, s.dab, s.w + 1, s.h, MPP, 0, 0, 1, 1, &cp, a, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(err.code, HS_EINVAL);
    hs_scale_acc_free(a);
    hs_scale_acc_free(e);
    hs_cells_free(det);
    scene_free(&s);
}

/*
 * The tumour rule at a known scale (spacing 12 um, so third-nearest within
 * 1.45 * 12 = 17.4 um): a lattice of 20 um spacing (third-nearest at 20) is
 * scattered, no tumour cell; without a scale the rule uses 1.45 * 25 = 36.25
 * um and all its core cells are tumour cells.  A lone nucleus is never one.
 */
static void test_sparse(void)
{
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cell_scale sc = {12, expected_area(4), 500};
    scene s = lattice_scene(20, 4, 7, 1, 122, 4, 4);
    size_t planted = planted_in_core(&s);
    CU_ASSERT_FATAL(planted >= 12);
    hs_cells *det = hs_cells_alloc(s.w, s.h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    CU_ASSERT_EQUAL(run_scene(det, &s, &cp, &sc, &cell), 0);
    CU_ASSERT_EQUAL(run_scene(det, &s, &cp, NULL, &cell), planted);
    hs_cells_free(det);
    scene_free(&s);
}

/*
 * A centre with n neighbours at dist_um, 120 degrees apart, at the 12 um
 * scale (threshold 17.4 um): the centre's third-nearest is at dist_um with
 * three neighbours, and missing with two; the neighbours (dist * sqrt(3) =
 * 29 um or more apart) have at most one near neighbour each.  Neighbours may
 * be spindle-shaped (aspect 0.25), which do not count.
 */
static size_t count_star(int nout, double dist_um, double aspect, hs_cell *first)
{
    enum { S = 200 };
    hs_cf_cell c[4];
    c[0] = (hs_cf_cell){100.3, 99.6, 4.0, 0, 1, HS_CLASS_0, 1, 0};
    hs_cf_set_class(&c[0], HS_CLASS_3);
    for (int k = 0; k < nout; k++) {
        double a = 0.3 + k * 2 * M_PI / 3;
        c[1 + k] = c[0];
        c[1 + k].x += dist_um / MPP * cos(a);
        c[1 + k].y += dist_um / MPP * sin(a);
        if (aspect < 1) {
            c[1 + k].aspect = aspect;
            c[1 + k].r_um = 7;
            c[1 + k].theta = a + M_PI / 2;
        }
    }
    scene s = {0};
    s.w = s.h = S;
    alloc_planes(&s);
    hs_cf_render(c, (size_t)(1 + nout), MPP, 0, 0, S, S, s.hem, s.dab);
    s.cx1 = s.cy1 = S;
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cell_scale sc = {12, expected_area(4), 500};
    hs_cells *det = hs_cells_alloc(S, S);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *out;
    size_t n = run_scene(det, &s, &cp, &sc, &out);
    if (n && first)
        *first = out[0];
    hs_cells_free(det);
    scene_free(&s);
    return n;
}

static void test_star(void)
{
    hs_cell c;
    CU_ASSERT_EQUAL(count_star(0, 0, 1, NULL), 0); /* lone nucleus */
    CU_ASSERT_EQUAL(count_star(2, 17, 1, NULL), 0);
    CU_ASSERT_EQUAL(count_star(3, 18, 1, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(count_star(3, 17, 1, &c), 1);
    CU_ASSERT(hypot(c.x - 100.3, c.y - 99.6) <= 0.5);
    /* spindle neighbours (elongation about 3.5 > 2.5) are no tumour-like neighbours: the centre is alone */
    CU_ASSERT_EQUAL(count_star(3, 17, 0.25, NULL), 0);
}

/*
 * Spindle nuclei: in the 12 um lattice every third nucleus is replaced by an
 * ellipse of semi-axes 7 and 1.75 um (area 38 um^2, inside the area range;
 * axis ratio 4, about 3.5 once blurred, > max_elongation 2.5): none of them
 * is reported, every round one is (each keeps at least three round
 * neighbours at 12 um).  With max_elongation 5 they are tumour cells too.
 */
static void test_spindle(void)
{
    scene s = small_scene();
    size_t nround = 0, nspindle = 0;
    for (size_t i = 0; i < s.n; i++) {
        int core = in_core(&s, s.cell[i].x, s.cell[i].y);
        if (i % 3 == 1) {
            s.cell[i].aspect = 0.25;
            s.cell[i].r_um = 7;
            s.cell[i].theta = 0.4 + (double)i;
            nspindle += core;
        } else {
            nround += core;
        }
    }
    CU_ASSERT_FATAL(nspindle >= 10);
    hs_cf_render(s.cell, s.n, MPP, 0, 0, s.w, s.h, s.hem, s.dab);
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(s.w, s.h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    size_t n = run_scene(det, &s, &cp, NULL, &cell);
    CU_ASSERT_EQUAL(n, nround);
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        CU_ASSERT(j % 3 != 1);
        CU_ASSERT(d <= 0.5);
    }
    cp.max_elongation = 5;
    n = run_scene(det, &s, &cp, NULL, &cell);
    CU_ASSERT_EQUAL(n, nround + nspindle);
    hs_cells_free(det);
    scene_free(&s);
}

/*
 * The watershed split.  Test objects sit among four round helper nuclei 15
 * um away (every nucleus then has three others within the 36 um rule of an
 * unknown scale, so all are reported).  Here each cell's region ends 7 um
 * from its centre on glass, so the smoothed plane's background (its opening
 * over 16.5 um windows, which all reach the glass) is 0 and a nucleus edge
 * (cytoplasm 0.06 to nucleus 0.6, smoothed with sigma 1 px) crosses 0.15
 * where 0.06 + 0.54 Phi(-x) = 0.15: x = Phi^-1(5/6) = 0.967 px outside.
 * A lone 4 um nucleus then measures pi (8.967 px)^2 / 4 = 63.2 um^2.
 *
 * Two discs of radius 4 um (8.97 px as measured) with centres D apart
 * overlap in a neck of half-width sqrt(8.97^2 - (D/2)^2): 2.8 px for D = 8.5
 * um (17 px), 4.9 px for D = 7.5 um (15 px), against depths of 8.97 px at
 * the centres: ratios 0.31 and 0.55 (a little more once the smoothing fills
 * the neck's corners), both below split_neck 0.7: two nuclei.  Each part
 * is its disc cut at the neck: for D = 8.5 the cut cap is 1.4 px^2 (centroid
 * and area as the whole disc's, to 0.05 px and 1%); for D = 7.5 it is 9.8
 * px^2 at about 8 px from the centre, of 253 px^2, which moves the centroid
 * 0.33 px away from the other nucleus and leaves 96% of the area.  The pair is
 * symmetric: the two parts' areas agree.
 *
 * One ellipse of semi-axes 6 and 3.6 um (axis ratio 0.6): its distance
 * transform has one ridge falling from the centre, no neck: one nucleus,
 * within 0.5 px of the centre (symmetric).
 */
#define LONE_AREA (M_PI * 8.967 * 8.967 * MPP * MPP)

static size_t split_scene(const hs_cf_cell *obj, size_t nobj, hs_cell *out, size_t max)
{
    enum { S = 240 };
    hs_cf_cell c[8];
    CU_ASSERT_FATAL(nobj <= 4);
    double cx = 120.3, cy = 119.6;
    for (size_t i = 0; i < nobj; i++)
        c[i] = obj[i];
    for (int k = 0; k < 4; k++) {
        double a = 0.25 + k * M_PI / 2;
        c[nobj + k] = (hs_cf_cell){cx + 30 * cos(a), cy + 30 * sin(a), 4.0, 0, 1, HS_CLASS_0, 1, 0};
        hs_cf_set_class(&c[nobj + k], HS_CLASS_2);
    }
    scene s = {0};
    s.w = s.h = S;
    alloc_planes(&s);
    hs_cf_render(c, nobj + 4, MPP, 0, 0, S, S, s.hem, s.dab);
    /* the core holds the objects only: the helpers lie 30 px away */
    s.cx0 = s.cy0 = 100;
    s.cx1 = s.cy1 = 140;
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(S, S);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    size_t n = run_scene(det, &s, &cp, NULL, &cell);
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = cell[i];
    hs_cells_free(det);
    scene_free(&s);
    return n;
}

/* Two discs d_um apart: two nuclei within tol px of their centres, each of area_frac of a lone one (+-5%). */
static void check_pair(double d_um, double tol, double area_frac)
{
    double cx = 120.3, cy = 119.6, half = d_um / MPP / 2, a = 0.35;
    hs_cf_cell obj[2];
    for (int k = 0; k < 2; k++) {
        double sgn = k ? 1 : -1;
        obj[k] = (hs_cf_cell){cx + sgn * half * cos(a), cy + sgn * half * sin(a), 4.0, 0, 1, HS_CLASS_0, 1, 0};
        hs_cf_set_class(&obj[k], HS_CLASS_3);
    }
    hs_cell out[4];
    size_t n = split_scene(obj, 2, out, 4);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    for (int k = 0; k < 2; k++) {
        double best = INFINITY;
        for (size_t i = 0; i < n; i++)
            best = fmin(best, hypot(out[i].x - obj[k].x, out[i].y - obj[k].y));
        CU_ASSERT(best <= tol);
    }
    /* each part moved away from the other, if at all */
    CU_ASSERT(hypot(out[0].x - out[1].x, out[0].y - out[1].y) >= 2 * half - 0.2);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT(fabs(out[i].area_um2 - area_frac * LONE_AREA) <= 0.05 * LONE_AREA);
    CU_ASSERT(fabs(out[0].area_um2 - out[1].area_um2) <= 0.05 * LONE_AREA);
}

static void test_split_pair_narrow(void)
{
    check_pair(8.5, 0.5, 1.0); /* neck ratio 0.31 */
}

static void test_split_pair_neck(void)
{
    check_pair(7.5, 1.0, 0.96); /* neck ratio 0.55 */
}

static void test_split_ellipse(void)
{
    hs_cf_cell e = {120.3, 119.6, 6.0, 0, 1, HS_CLASS_0, 0.6, 0.5};
    hs_cf_set_class(&e, HS_CLASS_3);
    hs_cell out[4];
    size_t n = split_scene(&e, 1, out, 4);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT(hypot(out[0].x - e.x, out[0].y - e.y) <= 0.5);
    /* semi-axes 12 and 7.2 px, each 0.967 px longer as measured: pi * 12.967 * 8.167 / 4 = 83.2 um^2 */
    CU_ASSERT(fabs(out[0].area_um2 - M_PI * 12.967 * 8.167 * MPP * MPP) <= 0.05 * 83.2);
}

/*
 * A blob where DAB outweighs hematoxylin is no nucleus: in the 12 um lattice
 * every fifth nucleus gets DAB 1.5 over it (its component's DAB sum, 1.5 per
 * nucleus pixel, is 2.4 times its hematoxylin sum, 0.6 per pixel and 0.06 on
 * the thin rim): those are not reported; with DAB 0.3 over them (half the
 * hematoxylin: a nucleus under cytoplasmic staining) they are.
 */
static void test_dab_blobs(void)
{
    for (int t = 0; t < 2; t++) {
        scene s = small_scene();
        float over = t ? 0.3f : 1.5f;
        size_t nmarked = 0;
        double rn = 4.0 / MPP;
        for (size_t i = 0; i < s.n; i++) {
            if (i % 5 != 3)
                continue;
            nmarked += in_core(&s, s.cell[i].x, s.cell[i].y);
            for (int y = (int)floor(s.cell[i].y - rn); y <= (int)ceil(s.cell[i].y + rn); y++)
                for (int x = (int)floor(s.cell[i].x - rn); x <= (int)ceil(s.cell[i].x + rn); x++)
                    if (x >= 0 && y >= 0 && x < s.w && y < s.h &&
                        hypot(x - s.cell[i].x, y - s.cell[i].y) <= rn)
                        s.dab[(size_t)y * s.w + x] = over;
        }
        CU_ASSERT_FATAL(nmarked >= 5);
        hs_cell_params cp;
        hs_her2_params hp;
        defaults(&cp, &hp);
        hs_cells *det = hs_cells_alloc(s.w, s.h);
        CU_ASSERT_PTR_NOT_NULL_FATAL(det);
        const hs_cell *cell;
        size_t n = run_scene(det, &s, &cp, NULL, &cell);
        CU_ASSERT_EQUAL(n, planted_in_core(&s) - (t ? 0 : nmarked));
        for (size_t i = 0; i < n; i++) {
            double d;
            size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
            CU_ASSERT(d <= 0.5);
            if (!t)
                CU_ASSERT(j % 5 != 3);
        }
        hs_cells_free(det);
        scene_free(&s);
    }
}

/*
 * A nest edge (see cells.h): where no neighbour faces a ray, the cell's
 * border is looked for up to edge_factor (1.3) times its half-distance to
 * its neighbours (1.3 * 6 = 7.8 um in a 12 um sheet), the band centred on
 * the DAB ridge of the ray's outer half.  A finite nest of complete 3+
 * membranes whose edge cells reach 8 um from their nuclei (membranes 7 to 8
 * um out, the ridge inside 3.9 .. 7.8 um) is then complete all round: every
 * cell, edge cells included, is 3+ with completeness >= 23/24.
 */
static void test_nest_edge(void)
{
    enum { S = 400 };
    scene s = {0};
    s.w = s.h = S;
    s.cell = hs_cf_lattice(130.3, 130, 270, 270, 24, 4.0, &s.n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.cell);
    for (size_t i = 0; i < s.n; i++)
        hs_cf_set_class(&s.cell[i], HS_CLASS_3);
    alloc_planes(&s);
    hs_cf_render_ex(s.cell, s.n, MPP, 0, 0, S, S, 8, 1, s.hem, s.dab);
    s.cx1 = s.cy1 = S;
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cell_scale sc = {12, expected_area(4), 500};
    hs_cells *det = hs_cells_alloc(S, S);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    size_t n = run_scene(det, &s, &cp, &sc, &cell), low = 0, not3 = 0;
    CU_ASSERT(n >= 30);
    for (size_t i = 0; i < n; i++) {
        double in, co;
        not3 += cell_class(&cell[i], 0, &hp, &in, &co) != HS_CLASS_3;
        low += co < 23.0 / 24 - 1e-12;
    }
    CU_ASSERT_EQUAL(not3, 0);
    CU_ASSERT_EQUAL(low, 0);
    hs_cells_free(det);
    scene_free(&s);
}

/*
 * Area filters.  In the 12 um lattice: tiny nuclei (radius 0.75 um, 1.5 px:
 * at most pi (1.5 + 0.59)^2 / 4 = 3.4 um^2 measured, < min_area 5) are never found; small
 * ones (2 um: pi 4.59^2 / 4 = 16.5 um^2) pass the area range, and without a
 * scale they are tumour cells, but at the lattice's scale (typical area
 * expected_area(4) = 57.9 um^2) they fall under min_area_frac 0.4 * 57.9 =
 * 23.2 um^2; large ones (5 um: pi 10.59^2 / 4 = 88 um^2) go with max_area 70,
 * while normal ones (57.9) stay.  Every normal nucleus keeps at least three
 * normal neighbours at 12 um.
 */
static void test_area_filter(void)
{
    scene s = small_scene();
    size_t ntiny = 0, nsmall = 0, nlarge = 0, nnormal = 0;
    for (size_t i = 0; i < s.n; i++) {
        int core = in_core(&s, s.cell[i].x, s.cell[i].y);
        switch (i % 9) {
        case 2: s.cell[i].r_um = 0.75; ntiny += core; break;
        case 5: s.cell[i].r_um = 2.0; nsmall += core; break;
        case 7: s.cell[i].r_um = 5.0; nlarge += core; break;
        default: nnormal += core; break;
        }
    }
    CU_ASSERT_FATAL(ntiny >= 3 && nsmall >= 3 && nlarge >= 3);
    hs_cf_render(s.cell, s.n, MPP, 0, 0, s.w, s.h, s.hem, s.dab);
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(s.w, s.h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    size_t n = run_scene(det, &s, &cp, NULL, &cell);
    CU_ASSERT_EQUAL(n, nnormal + nsmall + nlarge);
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        CU_ASSERT(j % 9 != 2);
        CU_ASSERT(d <= 0.5);
    }
    hs_cell_scale sc = {12, expected_area(4), 500};
    n = run_scene(det, &s, &cp, &sc, &cell);
    CU_ASSERT_EQUAL(n, nnormal + nlarge);
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        CU_ASSERT(j % 9 != 2 && j % 9 != 5);
    }
    cp.max_area_um2 = 70;
    n = run_scene(det, &s, &cp, NULL, &cell);
    CU_ASSERT_EQUAL(n, nnormal + nsmall);
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        CU_ASSERT(j % 9 != 2 && j % 9 != 7);
        if (j % 9 != 5)
            CU_ASSERT(fabs(cell[i].area_um2 - expected_area(4)) <= 0.05 * expected_area(4));
    }
    /* min_area above every nucleus: nothing */
    cp.max_area_um2 = 400;
    cp.min_area_um2 = 120;
    CU_ASSERT_EQUAL(run_scene(det, &s, &cp, NULL, &cell), 0);
    hs_cells_free(det);
    scene_free(&s);
}

/*
 * Background subtraction: the lattice on a hematoxylin plateau of +0.3 (a
 * heavy counterstain, or DAB bleeding into the hematoxylin channel).  Without
 * subtraction the whole plane is above the threshold, one component far over
 * the area limit, and no cell is found; with it every planted cell is found,
 * of its planted class.
 */
static void test_background(void)
{
    scene s = small_scene();
    for (size_t i = 0; i < (size_t)s.w * s.h; i++)
        s.hem[i] += 0.3f;
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(s.w, s.h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    size_t n = run_scene(det, &s, &cp, NULL, &cell);
    CU_ASSERT_EQUAL(n, planted_in_core(&s));
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        CU_ASSERT(d <= 0.5);
        CU_ASSERT_EQUAL(cell_class(&cell[i], 0, &hp, NULL, NULL), s.cell[j].cls);
    }
    cp.background_um = 0;
    CU_ASSERT_EQUAL(run_scene(det, &s, &cp, NULL, &cell), 0);
    hs_cells_free(det);
    scene_free(&s);
}

/* Only cells whose centroid lies in the core are reported; an empty core reports none. */
static void test_core(void)
{
    scene s = small_scene();
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *det = hs_cells_alloc(s.w, s.h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    /* a smaller core, its bounds half-way between lattice columns (x = s.cx0 + 6.3 + 12k) and rows */
    double row = 24 * sqrt(3.0) / 2;
    const int x0 = s.cx0 + 48, x1 = s.cx0 + 120, y0 = s.cy0 + (int)(2 * row), y1 = s.cy0 + (int)(5 * row);
    size_t planted = 0;
    for (size_t i = 0; i < s.n; i++)
        planted += in_rect(s.cell[i].x, s.cell[i].y, x0, y0, x1, y1);
    CU_ASSERT_FATAL(planted >= 6);
    const hs_cell *cell;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(
        hs_cells_run(det, s.hem, s.dab, s.w, s.h, MPP, x0, y0, x1, y1, &cp, NULL, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, planted);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT(in_rect(cell[i].x, cell[i].y, x0, y0, x1, y1));
    CU_ASSERT_EQUAL(hs_cells_run(det, s.hem, s.dab, s.w, s.h, MPP, 150, 150, 150, 150, &cp, NULL, &cell, &n, NULL),
                    HS_OK);
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
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 101, 80, MPP, 0, 0, 101, 80, &cp, NULL, &cell, &n, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(e.code, HS_EINVAL);
    CU_ASSERT_PTR_NULL(cell);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 100, 81, MPP, 0, 0, 100, 81, &cp, NULL, &cell, &n, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 0, 80, MPP, 0, 0, 0, 80, &cp, NULL, &cell, &n, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 100, 80, 0.0, 0, 0, 100, 80, &cp, NULL, &cell, &n, NULL), HS_EINVAL);
    /* the largest region that fits, and a smaller one: fine (blank: no cells) */
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 100, 80, MPP, 0, 0, 100, 80, &cp, NULL, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(hs_cells_run(det, p, p, 30, 70, MPP, 0, 0, 30, 70, &cp, NULL, &cell, &n, NULL), HS_OK);
    CU_ASSERT_EQUAL(n, 0);
    free(p);
    hs_cells_free(det);
}

/* Field by field, the measured sectors included (hs_cell has padding, which memcmp would compare). */
static int same_cells(const hs_cell *a, const hs_cell *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].x != b[i].x || a[i].y != b[i].y || a[i].area_um2 != b[i].area_um2 ||
            a[i].radius_um != b[i].radius_um || a[i].nsector != b[i].nsector)
            return 0;
        for (int k = 0; k < a[i].nsector; k++)
            if (a[i].stain[k] != b[i].stain[k] || a[i].peak[k] != b[i].peak[k])
                return 0;
    }
    return 1;
}

/*
 * Determinism: the same input gives bit-identical cells, on the same
 * detector and on a fresh one, also after the detector has worked on a
 * different, larger region (no state carried between calls).
 */
static void test_determinism(void)
{
    scene s = small_scene();
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    hs_cells *a = hs_cells_alloc(s.w, s.h), *b = hs_cells_alloc(s.w, s.h);
    CU_ASSERT_FATAL(a && b);
    const hs_cell *cell;
    size_t n1, n2, n3;
    /* a 200 x 200 window at the origin, core [60, 140) */
    enum { S = 200 };
    float *hs = malloc(S * S * sizeof *hs), *ds = malloc(S * S * sizeof *ds);
    CU_ASSERT_FATAL(hs && ds);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            hs[y * S + x] = s.hem[y * s.w + x];
            ds[y * S + x] = s.dab[y * s.w + x];
        }
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(a, hs, ds, S, S, MPP, 60, 60, 140, 140, &cp, NULL, &cell, &n1, NULL), HS_OK);
    CU_ASSERT_FATAL(n1 > 0);
    hs_cell *first = malloc(n1 * sizeof *first);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    memcpy(first, cell, n1 * sizeof *first);
    /* the big region in between */
    n2 = run_scene(a, &s, &cp, NULL, &cell);
    CU_ASSERT(n2 > n1);
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(a, hs, ds, S, S, MPP, 60, 60, 140, 140, &cp, NULL, &cell, &n3, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(n3, n1);
    CU_ASSERT(same_cells(cell, first, n1));
    CU_ASSERT_EQUAL_FATAL(hs_cells_run(b, hs, ds, S, S, MPP, 60, 60, 140, 140, &cp, NULL, &cell, &n3, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(n3, n1);
    CU_ASSERT(same_cells(cell, first, n1));
    /* the cells of the window's core are the big region's cells of the same core, measured identically */
    CU_ASSERT_EQUAL_FATAL(
        hs_cells_run(b, s.hem, s.dab, s.w, s.h, MPP, 60, 60, 140, 140, &cp, NULL, &cell, &n3, NULL), HS_OK);
    CU_ASSERT_EQUAL_FATAL(n3, n1);
    CU_ASSERT(same_cells(cell, first, n1));
    free(first);
    free(hs);
    free(ds);
    hs_cells_free(a);
    hs_cells_free(b);
    scene_free(&s);
}

/*
 * hs_cell_classify on hand-made sector values, with cuts that floats hold
 * exactly (0.25, 0.5, 0.75; complete 0.8, partial 0.1), so that the
 * boundaries are met exactly.
 */
static void test_classify(void)
{
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    hp.od_1 = 0.25;
    hp.od_2 = 0.5;
    hp.od_3 = 0.75;
    CU_ASSERT_EQUAL(hp.complete, 0.8);
    CU_ASSERT_EQUAL(hp.partial, 0.1);
    float st[24], pk[24];
    double in = -1, co = -1;
    /* nothing measured: completeness 0, intensity 0, class 0 */
    CU_ASSERT_EQUAL(hs_cell_classify(st, pk, 0, &hp, &in, &co), HS_CLASS_0);
    CU_ASSERT_EQUAL(in, 0);
    CU_ASSERT_EQUAL(co, 0);
    /* 10 sectors, 8 of them exactly at od_1: completeness 8/10 = 0.8 exactly (complete); peaks 0.5 x 4, 1.0 x 4
       (interleaved): median (0.5 + 1.0) / 2 = 0.75 = od_3 exactly: 3+ */
    for (int k = 0; k < 10; k++) {
        st[k] = k < 2 ? 0.125f : 0.25f;
        pk[k] = k < 2 ? 0.2f : k % 2 ? 1.0f : 0.5f;
    }
    CU_ASSERT_EQUAL(hs_cell_classify(st, pk, 10, &hp, &in, &co), HS_CLASS_3);
    CU_ASSERT_EQUAL(co, 0.8);
    CU_ASSERT_EQUAL(in, 0.75);
    /* the third stain value just below od_1: 7/10 stained, not complete: 1+ (intensity still >= od_1) */
    st[2] = nextafterf(0.25f, 0);
    CU_ASSERT_EQUAL(hs_cell_classify(st, pk, 10, &hp, &in, &co), HS_CLASS_1);
    CU_ASSERT_EQUAL(co, 0.7);
    /* peaks of sectors 3..9: 0.5 (k odd: 1.0 at 3,5,7,9 -> four 1.0, three 0.5): median 1.0 */
    CU_ASSERT_EQUAL(in, 1.0);
    /* complete at 0.8 with median peak exactly od_2 = 0.5 (all 0.5): 2+; a hair below: 1+ */
    for (int k = 0; k < 5; k++) {
        st[k] = k ? 0.3f : 0.0f;
        pk[k] = 0.5f;
    }
    CU_ASSERT_EQUAL(hs_cell_classify(st, pk, 5, &hp, &in, &co), HS_CLASS_2);
    CU_ASSERT_EQUAL(co, 0.8);
    CU_ASSERT_EQUAL(in, 0.5);
    for (int k = 1; k < 5; k++)
        pk[k] = nextafterf(0.5f, 0);
    CU_ASSERT_EQUAL(hs_cell_classify(st, pk, 5, &hp, &in, &co), HS_CLASS_1);
    /* partial: one stained sector of 10 is exactly 0.1 (1+); one of 20 is 0.05 (0) */
    for (int k = 0; k < 20; k++) {
        st[k] = k == 19 ? 0.5f : 0.0f;
        pk[k] = k == 19 ? 0.6f : 0.01f;
    }
    CU_ASSERT_EQUAL(hs_cell_classify(st + 10, pk + 10, 10, &hp, &in, &co), HS_CLASS_1);
    CU_ASSERT_EQUAL(co, 0.1);
    HS_ASSERT_CLOSE(in, 0.6f, 1e-12);
    CU_ASSERT_EQUAL(hs_cell_classify(st, pk, 20, &hp, &in, &co), HS_CLASS_0);
    CU_ASSERT_EQUAL(co, 0.05);
    /* stained but faint peaks below od_1 cannot happen for real cells (peak >= stain), but the rule is
       intensity >= od_1: a complete membrane with median peak 0.2 < 0.25 is 0 */
    for (int k = 0; k < 24; k++) {
        st[k] = 0.25f;
        pk[k] = 0.2f;
    }
    CU_ASSERT_EQUAL(hs_cell_classify(st, pk, 24, &hp, &in, &co), HS_CLASS_0);
    CU_ASSERT_EQUAL(co, 1);
    /* the outputs may be NULL */
    for (int k = 0; k < 24; k++)
        pk[k] = 0.9f;
    CU_ASSERT_EQUAL(hs_cell_classify(st, pk, 24, &hp, NULL, NULL), HS_CLASS_3);
    /* an odd count of stained sectors: the middle peak (peaks 0.3, 0.6, 0.9 in any order -> 0.6) */
    float s3[3] = {0.3f, 0.4f, 0.5f}, p3[3] = {0.9f, 0.3f, 0.6f};
    CU_ASSERT_EQUAL(hs_cell_classify(s3, p3, 3, &hp, &in, &co), HS_CLASS_2);
    CU_ASSERT_EQUAL(in, 0.6f);
    CU_ASSERT_EQUAL(co, 1);
}

/*
 * hs_cell_unmix by hand.  Sectors (stain, peak; other side ostain, opeak):
 * A (0.5, 0.6; 0.1, 0.2), B (0.2, 0.3; -1 open), C (0.7, 0.8; 0.7, 0.8).
 * At leak 0.25 (1 - leak^2 = 0.9375): A (0.5 - 0.025) / 0.9375 = 0.506667,
 * (0.6 - 0.05) / 0.9375 = 0.586667; B unchanged (no cell faces it);
 * C (0.7 - 0.175) / 0.9375 = 0.56, (0.8 - 0.2) / 0.9375 = 0.64, i.e. a sheet
 * of equal membranes m(1 + leak) = 0.7 reads m = 0.56.  Sorted by stain:
 * B, A, C.  At leak 0 the values are only sorted.
 */
static void test_unmix(void)
{
    const float st[3] = {0.5f, 0.2f, 0.7f}, pk[3] = {0.6f, 0.3f, 0.8f}, ost[3] = {0.1f, -1, 0.7f},
                opk[3] = {0.2f, -1, 0.8f};
    float us[3], up[3];
    hs_cell_unmix(st, pk, ost, opk, 3, 0.25, us, up);
    HS_ASSERT_CLOSE(us[0], 0.2, 1e-6);
    HS_ASSERT_CLOSE(up[0], 0.3, 1e-6);
    HS_ASSERT_CLOSE(us[1], 0.475 / 0.9375, 1e-6);
    HS_ASSERT_CLOSE(up[1], 0.55 / 0.9375, 1e-6);
    HS_ASSERT_CLOSE(us[2], 0.56, 1e-6);
    HS_ASSERT_CLOSE(up[2], 0.64, 1e-6);
    hs_cell_unmix(st, pk, ost, opk, 3, 0, us, up);
    CU_ASSERT(us[0] == 0.2f && us[1] == 0.5f && us[2] == 0.7f);
    CU_ASSERT(up[0] == 0.3f && up[1] == 0.6f && up[2] == 0.8f);
}

/*
 * The band beyond the border (ostain, opeak) lies in the neighbouring cells:
 * in the 16 um lattice (membranes 1.5 um, on each cell's own side) it holds
 * a neighbour's membrane, or a 1+ neighbour's cytoplasm (0.02) off its arc,
 * so a sector's opeak is at most the strongest DAB among the six neighbours
 * and its ostain at most that too; never the cell's own membrane where that
 * is stronger than all of them (a 3+ cell among weaker ones).  Every sector
 * of an interior cell faces a neighbour.
 */
static void test_other_side(void)
{
    hs_cell_params cp;
    hs_her2_params hp;
    defaults(&cp, &hp);
    int margin = hs_cells_margin_px(&cp, NULL, MPP);
    scene s = lattice_scene(16, 4, 16, 1.5, margin, 8, 8);
    hs_cells *det = hs_cells_alloc(s.w, s.h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(det);
    const hs_cell *cell;
    size_t n = run_scene(det, &s, &cp, NULL, &cell), above = 0, sectors = 0, unfaced = 0;
    CU_ASSERT_FATAL(n >= 60);
    for (size_t i = 0; i < n; i++) {
        double d;
        size_t j = nearest(&s, cell[i].x, cell[i].y, &d);
        double top = 0;
        for (size_t q = 0; q < s.n; q++)
            if (q != j && hypot(s.cell[q].x - s.cell[j].x, s.cell[q].y - s.cell[j].y) < 1.01 * 16 / MPP)
                top = fmax(top, s.cell[q].dab);
        for (int k = 0; k < cell[i].nsector; k++) {
            sectors++;
            above += cell[i].opeak[k] > top + 1e-6 || cell[i].ostain[k] > top + 1e-6;
            unfaced += cell[i].opeak[k] < 0;
        }
    }
    CU_ASSERT(sectors >= 60 * 24);
    CU_ASSERT_EQUAL(above, 0);
    CU_ASSERT_EQUAL(unfaced, 0);
    hs_cells_free(det);
    scene_free(&s);
}

int hs_suite_cells(void)
{
    CU_pSuite s = CU_add_suite("cells", NULL, NULL);
    if (!s)
        return 1;
    if (!CU_add_test(s, "defaults, margin, alloc/free", test_params) ||
        !CU_add_test(s, "lattices of 10/16/24 um: borders, completeness, classes", test_lattice_sizes) ||
        !CU_add_test(s, "lattices of 10/16/24 um at their measured scale", test_lattice_sizes_scaled) ||
        !CU_add_test(s, "scale: third-nearest mode, area, merge", test_scale) ||
        !CU_add_test(s, "scale unknown below 30 sheet nuclei", test_scale_unknown) ||
        !CU_add_test(s, "tumour rule: scattered nuclei at the slide's scale", test_sparse) ||
        !CU_add_test(s, "tumour rule: lone nucleus, star of 2 or 3 at 17/18 um", test_star) ||
        !CU_add_test(s, "spindle nuclei are not tumour cells", test_spindle) ||
        !CU_add_test(s, "watershed: two discs 8.5 um apart (neck 0.31)", test_split_pair_narrow) ||
        !CU_add_test(s, "watershed: two discs 7.5 um apart (neck 0.55)", test_split_pair_neck) ||
        !CU_add_test(s, "watershed: one ellipse of axis ratio 0.6", test_split_ellipse) ||
        !CU_add_test(s, "DAB-dominated blobs are not nuclei", test_dab_blobs) ||
        !CU_add_test(s, "nest edge: open rays reach the membrane", test_nest_edge) ||
        !CU_add_test(s, "nucleus area filters", test_area_filter) ||
        !CU_add_test(s, "background subtraction", test_background) ||
        !CU_add_test(s, "only core cells are reported", test_core) ||
        !CU_add_test(s, "region larger than the detector", test_too_large) ||
        !CU_add_test(s, "determinism and detector reuse", test_determinism) ||
        !CU_add_test(s, "hs_cell_classify at the boundaries", test_classify) ||
        !CU_add_test(s, "hs_cell_unmix by hand", test_unmix) ||
        !CU_add_test(s, "the band beyond the border is the neighbour's", test_other_side))
        return 1;
    return 0;
}
