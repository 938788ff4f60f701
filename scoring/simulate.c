/*
 * simulate: synthetic HER2 IHC cohorts with planted truth (see simulate.h and
 * docs/simulate.md for the model).
 *
 * Geometry is integer, in 1/16-pixel units.  Tumour cells sit on a jittered
 * hexagonal lattice; lattice point (i, j) draws everything about its cell
 * (jitter, class rank, nucleus, membrane) from a hash of (slide seed, i, j),
 * so a band of rows needs only the lattice rows around it.  A pixel looks at
 * the 3 x 3 lattice points around it, takes the nearest live centre (cell
 * region: Voronoi, limited to 7 um) and is membrane when it lies within 1 um
 * of the bisector with any other candidate (or of the 7 um limit).  Colours
 * come from quantised concentrations through per-channel tables of 10^-OD.
 *
 * Class fractions are exact: planning passes over the lattice (no pixels)
 * histogram each cell's class rank per zone, and the class cut points are
 * placed at the empirical quantiles of the planted mixture.
 *
 * A varied slide scales the lattice, the nuclei and the membrane to its look,
 * paints lymphocytes, and paints linear RGB (1/256 of an 8-bit level) instead
 * of final bytes: each band is painted with margin rows, blurred by a
 * separable integer Gaussian, given read noise hashed from (x, y) and only
 * then rounded to 8 bits, so bands still render independently.  Unvaried
 * slides take the original path, byte for byte.
 */
#include "scoring/simulate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_cdf.h>

#include "scoring/metrics.h"
#include "util/hs_atomic.h"

/* ------------------------------------------------------------------ random numbers */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* splitmix64: the next output of the stream whose state is *s. */
static uint64_t splitmix64(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ull;
    return mix64(*s);
}

/* A hash of a seed and two integer coordinates. */
static uint64_t hash2(uint64_t seed, int64_t a, int64_t b)
{
    return mix64(mix64(seed ^ ((uint64_t)a * 0x9E3779B97F4A7C15ull)) ^ ((uint64_t)b * 0xC2B2AE3D27D4EB4Full));
}

/* xoshiro256** seeded through splitmix64, one independent stream per (tag, index). */
typedef struct rng {
    uint64_t s[4];
} rng;

enum { TAG_BLOCK = 1, TAG_DESIGN = 2, TAG_SURV = 3, TAG_SLIDE = 4, TAG_BATCH = 5, TAG_LOOK = 6, TAG_CONTROL = 7,
       TAG_SLIDE_LOOK = 8 };

static void rng_seed(rng *r, uint64_t seed, uint64_t tag, uint64_t index)
{
    uint64_t sm = hash2(seed, (int64_t)tag, (int64_t)index);
    for (int k = 0; k < 4; k++)
        r->s[k] = splitmix64(&sm);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform on [0, 1) and on the open (0, 1). */
static double rng_unif(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1p-53;
}

static double rng_open(rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1p-53;
}

static double rng_range(rng *r, double a, double b)
{
    return a + (b - a) * rng_unif(r);
}

static double rng_normal(rng *r)
{
    return gsl_cdf_ugaussian_Pinv(rng_open(r));
}

static double rng_exp(rng *r)
{
    return -log(rng_open(r));
}

/* ------------------------------------------------------------------ geometry and stains */

#define SUB 16                 /* geometry units per pixel */
#define UM (2 * SUB)           /* geometry units per micron at 0.5 um/pixel */
/* Geometry of the unvaried slides (cell radius r = 6 um); a varied slide scales the lattice with its r. */
#define LAT_A (12 * UM)        /* lattice spacing along a row: 12 um = 2r */
#define LAT_B 333              /* row spacing: 12 um * sqrt(3)/2 = 332.55 units */
#define JIT 40                 /* centre jitter: uniform in +-1.25 um (0.104 * 2r) on each axis */
#define R_CELL (7 * UM)        /* cell region limit: 7r/6 */
#define W_MEM (1 * UM)         /* membrane width inside the cell's own region */
#define R_NUC_MAX (9 * UM / 2) /* no nucleus reaches beyond 4.5 um */
#define JIT_FRAC 0.104         /* varied: jitter / lattice spacing */
#define CELL_FRAC (7.0 / 6.0)  /* varied: region limit / r */
#define CHUNK 12               /* lattice rows per planning chunk */
#define MAXROWS 20             /* lattice rows of a band, margins included (unvaried slides) */

#define QOD 256                /* concentration quantum: 1/256 OD */
#define QMAX 1024              /* table size: OD 0 .. 4 */
#define NBIN 65536             /* class-rank and zone histograms */

/* Stain concentrations, OD units along the unit vectors (docs/simulate.md). */
static const double MEM_DAB[HS_NCLASS] = {0.03, 0.30, 0.50, 0.90};
#define MEM_JIT 0.04           /* per-cell membrane DAB jitter, +- */
#define CYTO_DAB 0.02
#define STROMA_H 0.07

/* Tissue, holes, nests (lengths in um). */
#define HOLE_PERIOD 260.0
#define HOLE_T 0.76
#define HOLE_P2 80.0
#define NEST_P1 300.0
#define NEST_P2 110.0
#define NEST_T 0.52
#define NEST_BUMP 0.25
#define NEST_BUMP_R 150.0
#define FIB_BLOCK 112          /* fibroblast grid, pixels (56 um); centres jittered +-16 px (8 um) */
#define FIB_JIT 16
#define FIB_CLEAR 25.0         /* no tumour-lattice point in a nest within 25 um of a fibroblast */
#define LYM_BLOCK 80           /* lymphocyte grid, pixels (40 um); centres jittered +-20 px (10 um) */
#define LYM_JIT 20
#define LYM_FULL 625.0         /* lymphocytes per mm^2 when every grid point is kept */
#define LYM_CLEAR 10.0         /* no live tumour-lattice point within 10 um of a lymphocyte */

/* Varied slides: blur kernel, read noise table, control cores. */
#define BLUR_MAX 5.0           /* largest blur sigma accepted, pixels */
#define BRAD_MAX 15            /* kernel radius ceil(3 sigma) */
#define BW_ONE 16384           /* kernel weights sum to 1 in Q14 */
#define NTAB 4096              /* Gaussian quantiles of the read noise */
#define VEC 16                 /* the blur works on rows in chunks of VEC values (vectorised at -O2) */
#define CORE_FRAC 0.2          /* control core radius: a fifth of the side ... */
#define CORE_MAX_UM 750.0      /* ... at most 0.75 mm (1.5 mm cores) */

typedef struct scell {
    int32_t x, y;              /* centre, geometry units */
    uint8_t raw;               /* tissue and nest at the centre */
    uint8_t alive;             /* a tumour cell: raw with >= 3 raw hexagonal neighbours */
    uint8_t cls;
    uint8_t arc;               /* 1+: membrane stained only on an arc */
    uint32_t u;                /* class rank */
    uint16_t rbin;             /* zone-field bin (clustered) */
    int16_t qnuc, qcyt, qmem;  /* nucleus H, cytoplasm H, membrane DAB, in 1/QOD */
    float ea, eb, ec;          /* nucleus: ea dx^2 + eb dx dy + ec dy^2 <= 1 */
    float ux, uy, cosphi;      /* 1+ arc: direction and cos(half angle) */
} scell;

/* A value-noise field: seed and the rotation of its lattice. */
typedef struct noise {
    uint64_t seed;
    double c, s;
} noise;

typedef struct fibro {
    double x, y;               /* centre, pixels */
    double ea, eb, ec;         /* ellipse in pixels */
    int qh;
    int r;                     /* bounding radius, pixels */
} fibro;

typedef struct lymph {
    double x, y;               /* centre, pixels */
    double r2;                 /* squared radius, pixels^2 */
    int qh;
    int r;                     /* bounding radius, pixels */
} lymph;

struct hs_sim_slide {
    hs_sim_design d;
    uint32_t size;
    double L;                  /* side in um */
    int vary;                  /* 1: painted with the look v (linear RGB, blur, noise) */
    hs_sim_vary v;             /* realised look (vary) */
    int control;               /* 1: a control slide (four cores, no plan, no stroma cells) */
    double core_x[HS_NCLASS], core_y[HS_NCLASS], core_r; /* control cores, um; core k holds class k */
    /* cell geometry, geometry units */
    int32_t lat_a, lat_b, jit, r_cell, w_mem, r_nuc_max;
    double nuc_a;              /* varied: mean nucleus semi-major axis */
    int maxrows;               /* lattice rows a painted band may need */
    uint32_t margin;           /* rows painted above and below a band for the blur */
    uint32_t bandcap;          /* HS_SIM_BAND + 2 margin: rows painted at most */
    int fib_block;             /* fibroblast grid, pixels (0: none) */
    uint64_t s_cell, s_fib;
    noise n_tis, n_hole, n_hole2, n_nest1, n_nest2, n_zone;
    uint32_t s_pix;
    /* tissue outline */
    double tcx, tcy, trx, try_, tcos, tsin, tamp, tper;
    /* clustered regions */
    int nseed;
    double seedx[2], seedy[2];
    int rthr;                  /* zone 1: rbin >= rthr */
    uint32_t usalt;            /* mixed into every class rank: a fresh mosaic draw per planning attempt */
    uint64_t cut[2][3];        /* class cut points of the rank u, per zone */
    unsigned long planned[HS_NCLASS];
    /* lattice */
    int ncol;                  /* columns -3 .. ncol+2 are stored */
    int nc;                    /* ncol + 6 */
    int32_t *colidx[2];        /* nearest lattice column of each pixel, per row parity */
    scell *cells;              /* (MAXROWS + 2) * nc */
    int jbase;                 /* lattice row of cells[0] */
    /* band scratch */
    float *coarse, *rowv;
    uint8_t *label;
    fibro *fib;
    size_t nfib_cap;
    /* lymphocytes (varied) */
    uint64_t s_lym;
    uint32_t lym_keep;         /* a grid point is kept when its 16-bit draw is below */
    lymph *lym;
    size_t nlym_cap;
    /* colour */
    uint16_t L1[3][QMAX];      /* 255 * 256 * 10^(-q/QOD * H_c) */
    uint32_t L2[3][QMAX];      /* 65536 * 10^(-q/QOD * DAB_c) */
    int16_t streak[1024];
    int32_t snx, sny;          /* stroma fibre normal, Q8 */
    /* varied: staining multipliers (Q16), blur (Q14 weights), read noise (1/256 level) and band buffers */
    int32_t hmul, dmul, bmul;
    int brad;                  /* kernel radius, 0 without blur */
    uint32_t bw[2 * BRAD_MAX + 1];
    int noise_on;
    uint64_t s_noise;
    int16_t ntab[NTAB];
    uint16_t *lin;             /* bandcap rows of linear RGB */
    uint32_t *acc;             /* one row of sums */
    uint16_t *pad;             /* one row with brad replicated pixels at each end */
    uint16_t *row16;           /* one blurred row */
};

/* Lattice values in [0, 1) and smooth value noise (cubic fade). */
static double lattice_value(uint64_t seed, int64_t ix, int64_t iy)
{
    return (double)(hash2(seed, ix, iy) >> 11) * 0x1p-53;
}

static double vnoise_axis(uint64_t seed, double x, double y)
{
    double x0 = floor(x), y0 = floor(y);
    int64_t ix = (int64_t)x0, iy = (int64_t)y0;
    double fx = x - x0, fy = y - y0;
    double sx = fx * fx * (3.0 - 2.0 * fx), sy = fy * fy * (3.0 - 2.0 * fy);
    double v00 = lattice_value(seed, ix, iy), v10 = lattice_value(seed, ix + 1, iy);
    double v01 = lattice_value(seed, ix, iy + 1), v11 = lattice_value(seed, ix + 1, iy + 1);
    double a = v00 + (v10 - v00) * sx, b = v01 + (v11 - v01) * sx;
    return a + (b - a) * sy;
}

/* A value-noise field on a lattice turned by an angle, so that no shape lines up with the axes. */
static noise noise_make(uint64_t seed)
{
    double th = (double)(seed >> 11) * 0x1p-53 * M_PI;
    noise n = {seed, cos(th), sin(th)};
    return n;
}

static double vnoise(const noise *n, double x, double y)
{
    return vnoise_axis(n->seed, n->c * x - n->s * y, n->s * x + n->c * y);
}

/* Control slide: the core nearest to (x, y) um, and the distance to its centre. */
static int nearest_core(const hs_sim_slide *s, double x, double y, double *dist)
{
    int best = 0;
    double dmin = INFINITY;
    for (int k = 0; k < HS_NCLASS; k++) {
        double d = hypot(x - s->core_x[k], y - s->core_y[k]);
        if (d < dmin) {
            dmin = d;
            best = k;
        }
    }
    *dist = dmin;
    return best;
}

/* Tissue field at (x, y) um: > 0 inside the tissue, <= 0 on glass (outside the outline or in a hole). */
static double tissue_field(const hs_sim_slide *s, double x, double y)
{
    if (s->control) {
        double d;
        (void)nearest_core(s, x, y, &d);
        return 1.0 - d / s->core_r;
    }
    double dx = x - s->tcx, dy = y - s->tcy;
    double u = (dx * s->tcos + dy * s->tsin) / s->trx, v = (-dx * s->tsin + dy * s->tcos) / s->try_;
    double f = 1.0 - sqrt(u * u + v * v) + s->tamp * (2.0 * vnoise(&s->n_tis, x / s->tper, y / s->tper) - 1.0);
    double h = HOLE_T - (0.7 * vnoise(&s->n_hole, x / HOLE_PERIOD, y / HOLE_PERIOD) +
                         0.3 * vnoise(&s->n_hole2, x / HOLE_P2, y / HOLE_P2));
    return f < h ? f : h;
}

/* Nest field: two octaves of value noise, raised around the tissue centre so that every slide has a tumour. */
static double nest_field(const hs_sim_slide *s, double x, double y)
{
    double dx = x - s->tcx, dy = y - s->tcy;
    return 0.65 * vnoise(&s->n_nest1, x / NEST_P1, y / NEST_P1) + 0.35 * vnoise(&s->n_nest2, x / NEST_P2, y / NEST_P2) +
           NEST_BUMP * exp(-(dx * dx + dy * dy) / (NEST_BUMP_R * NEST_BUMP_R));
}

/* Is (x, y) um in a tumour nest (a control slide: in a core)? */
static int in_nest(const hs_sim_slide *s, double x, double y)
{
    if (s->control)
        return tissue_field(s, x, y) > 0.0;
    return nest_field(s, x, y) > NEST_T && tissue_field(s, x, y) > 0.0;
}

/* Zone field of a clustered slide: high near the region seeds, with a wavy edge. */
static int zone_bin(const hs_sim_slide *s, double x, double y)
{
    double dmin = INFINITY;
    for (int k = 0; k < s->nseed; k++) {
        double d = hypot(x - s->seedx[k], y - s->seedy[k]);
        if (d < dmin)
            dmin = d;
    }
    double per = s->L / 4.0;
    double r = -dmin / s->L + 0.10 * (2.0 * vnoise(&s->n_zone, x / per, y / per) - 1.0);
    double b = floor((r + 2.0) / 3.0 * NBIN);
    return b < 0 ? 0 : b > NBIN - 1 ? NBIN - 1 : (int)b;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Lattice point (i, j): its hash stream state. */
static uint64_t cell_state(const hs_sim_slide *s, int64_t i, int64_t j)
{
    return hash2(s->s_cell, i, j);
}

/* The jittered centre of lattice point (i, j), geometry units, from the first draw r0 of its stream. */
static void cell_centre(const hs_sim_slide *s, int64_t i, int64_t j, uint64_t r0, int32_t *x, int32_t *y)
{
    const int64_t a = s->lat_a, b = s->lat_b, jit = s->jit;
    *x = (int32_t)((2 * i + 1 + (j & 1)) * (a / 2) + (int64_t)(((r0 & 0xFFFF) * (uint64_t)(2 * jit + 1)) >> 16) - jit);
    *y = (int32_t)(j * b + b / 2 + (int64_t)((((r0 >> 16) & 0xFFFF) * (uint64_t)(2 * jit + 1)) >> 16) - jit);
}

/* ------------------------------------------------------------------ lattice rows */

enum { BUILD_RAW = 0, BUILD_CLASS = 1, BUILD_RENDER = 2 };

static scell *cell_at(const hs_sim_slide *s, int64_t j, int64_t i)
{
    return &s->cells[(size_t)(j - s->jbase) * (size_t)s->nc + (size_t)(i + 3)];
}

static int cell_class(const hs_sim_slide *s, const scell *c)
{
    if (s->control) {
        double d;
        return nearest_core(s, c->x / (double)UM, c->y / (double)UM, &d);
    }
    int z = s->d.pattern == HS_PATTERN_CLUSTERED && c->rbin >= s->rthr;
    return (c->u >= s->cut[z][0]) + (c->u >= s->cut[z][1]) + (c->u >= s->cut[z][2]);
}

static double u16(uint64_t r, int k)
{
    return (double)((r >> (16 * k)) & 0xFFFF) / 65536.0;
}

/*
 * Draws the rendering parameters of a live cell (the stream continues after
 * the jitter/rank draw).  Nucleus: semi-major axis 3-4 um and axis ratio
 * 0.75-0.95 on unvaried slides; nuc_a x U(0.87, 1.13) and 0.70-0.95 on varied ones.
 */
static void cell_params(const hs_sim_slide *s, scell *c, uint64_t st)
{
    uint64_t r1 = splitmix64(&st), r2 = splitmix64(&st);
    double a, b;
    if (s->vary) {
        a = s->nuc_a * (0.87 + 0.26 * u16(r1, 0));
        b = a * (0.70 + 0.25 * u16(r1, 1));
    } else {
        a = (3.0 + 1.0 * u16(r1, 0)) * UM;
        b = a * (0.75 + 0.2 * u16(r1, 1));
    }
    double th = M_PI * u16(r1, 2), ct = cos(th), sn = sin(th);
    c->ea = (float)(ct * ct / (a * a) + sn * sn / (b * b));
    c->eb = (float)(2.0 * ct * sn * (1.0 / (a * a) - 1.0 / (b * b)));
    c->ec = (float)(sn * sn / (a * a) + ct * ct / (b * b));
    c->qnuc = (int16_t)lround((0.5 + 0.3 * u16(r1, 3)) * QOD);
    c->qcyt = (int16_t)lround((0.05 + 0.03 * u16(r2, 0)) * QOD);
    c->qmem = (int16_t)lround((MEM_DAB[c->cls] + MEM_JIT * (2.0 * u16(r2, 1) - 1.0)) * QOD);
    c->arc = c->cls == HS_CLASS_1;
    double frac = 0.30 + 0.25 * u16(r2, 2), ang = 2.0 * M_PI * u16(r2, 3);
    c->ux = (float)cos(ang);
    c->uy = (float)sin(ang);
    c->cosphi = (float)cos(M_PI * frac);
}

/*
 * Fills the cells of lattice rows jlo .. jhi (jhi - jlo + 1 <= s->maxrows) and,
 * for the pruning rule, the raw flags of rows jlo-1 and jhi+1.  mode adds the
 * class (BUILD_CLASS) and the rendering parameters (BUILD_RENDER).
 */
static void build_rows(hs_sim_slide *s, int64_t jlo, int64_t jhi, int mode)
{
    s->jbase = (int)(jlo - 1);
    for (int64_t j = jlo - 1; j <= jhi + 1; j++) {
        for (int64_t i = -3; i <= s->ncol + 2; i++) {
            scell *c = cell_at(s, j, i);
            uint64_t st = cell_state(s, i, j);
            uint64_t r0 = splitmix64(&st);
            cell_centre(s, i, j, r0, &c->x, &c->y);
            c->u = (uint32_t)(r0 >> 32) ^ s->usalt;
            c->raw = (uint8_t)in_nest(s, c->x / (double)UM, c->y / (double)UM);
            c->alive = 0;
        }
    }
    for (int64_t j = jlo; j <= jhi; j++) {
        int p = (int)(j & 1);
        for (int64_t i = -2; i <= s->ncol + 1; i++) {
            scell *c = cell_at(s, j, i);
            if (!c->raw)
                continue;
            int nb = cell_at(s, j, i - 1)->raw + cell_at(s, j, i + 1)->raw + cell_at(s, j - 1, i - 1 + p)->raw +
                     cell_at(s, j - 1, i + p)->raw + cell_at(s, j + 1, i - 1 + p)->raw + cell_at(s, j + 1, i + p)->raw;
            if (nb < 3)
                continue;
            c->alive = 1;
            c->rbin = s->d.pattern == HS_PATTERN_CLUSTERED ? (uint16_t)zone_bin(s, c->x / (double)UM, c->y / (double)UM)
                                                            : 0;
            if (mode >= BUILD_CLASS)
                c->cls = (uint8_t)cell_class(s, c);
            if (mode == BUILD_RENDER) {
                uint64_t st = cell_state(s, i, j);
                (void)splitmix64(&st);
                cell_params(s, c, st);
            }
        }
    }
}

/* Is the centre of c inside the slide (its pixel in [0, size)^2)? */
static int centre_inside(const hs_sim_slide *s, const scell *c)
{
    return c->x >= 0 && c->y >= 0 && c->x < (int64_t)s->size * SUB && c->y < (int64_t)s->size * SUB;
}

/* Visits every live cell whose centre is inside the slide, chunk by chunk. */
static void for_each_live(hs_sim_slide *s, int mode, void (*fn)(hs_sim_slide *s, const scell *c, void *ctx),
                          void *ctx)
{
    int64_t jmax = ((int64_t)s->size * SUB) / s->lat_b + 1;
    for (int64_t jlo = -1; jlo <= jmax; jlo += CHUNK) {
        int64_t jhi = jlo + CHUNK - 1 < jmax ? jlo + CHUNK - 1 : jmax;
        build_rows(s, jlo, jhi, mode);
        for (int64_t j = jlo; j <= jhi; j++)
            for (int64_t i = -2; i <= s->ncol + 1; i++) {
                const scell *c = cell_at(s, j, i);
                if (c->alive && centre_inside(s, c))
                    fn(s, c, ctx);
            }
    }
}

/* ------------------------------------------------------------------ planning */

typedef struct plan_ctx {
    uint32_t *hist; /* zone pass: NBIN; rank pass: 2 * NBIN */
} plan_ctx;

static void add_zone(hs_sim_slide *s, const scell *c, void *ctx)
{
    (void)s;
    ((plan_ctx *)ctx)->hist[c->rbin]++;
}

static void add_rank(hs_sim_slide *s, const scell *c, void *ctx)
{
    int z = s->d.pattern == HS_PATTERN_CLUSTERED && c->rbin >= s->rthr;
    ((plan_ctx *)ctx)->hist[(size_t)z * NBIN + (c->u >> 16)]++;
}

/*
 * Cut points of the rank u within one zone: class k takes the ranks in
 * [cut[k-1], cut[k]), each cut on the histogram bin boundary whose count below
 * is nearest to the planted cumulative share; adds the resulting counts to cnt.
 */
static void place_cuts(const uint32_t *hist, const double mix[HS_NCLASS], uint64_t cut[3], unsigned long cnt[HS_NCLASS])
{
    unsigned long n = 0;
    for (size_t b = 0; b < NBIN; b++)
        n += hist[b];
    double target[3], share = 0.0;
    unsigned long best_cum[3] = {0, 0, 0};
    double best_err[3];
    size_t best_b[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        share += mix[k];
        target[k] = nearbyint(share * (double)n);
        best_err[k] = INFINITY;
    }
    unsigned long cum = 0;
    for (size_t b = 0; b <= NBIN; b++) {
        for (int k = 0; k < 3; k++) {
            double e = fabs((double)cum - target[k]);
            if (e < best_err[k]) {
                best_err[k] = e;
                best_b[k] = b;
                best_cum[k] = cum;
            }
        }
        if (b < NBIN)
            cum += hist[b];
    }
    unsigned long prev = 0;
    for (int k = 0; k < 3; k++) {
        if (k > 0 && best_b[k] < best_b[k - 1]) {
            best_b[k] = best_b[k - 1];
            best_cum[k] = best_cum[k - 1];
        }
        cut[k] = (uint64_t)best_b[k] << 16;
        cnt[k] += best_cum[k] - prev;
        prev = best_cum[k];
    }
    cnt[3] += n - prev;
}

/* Zone threshold (clustered) and class cut points for the current regions and rank salt. */
static void plan_once(hs_sim_slide *s, uint32_t *hist)
{
    plan_ctx pc = {hist};
    memset(hist, 0, 2 * (size_t)NBIN * sizeof *hist);
    s->rthr = NBIN;
    if (s->d.pattern == HS_PATTERN_CLUSTERED) {
        for_each_live(s, BUILD_RAW, add_zone, &pc);
        unsigned long n = 0;
        for (size_t b = 0; b < NBIN; b++)
            n += hist[b];
        double want = nearbyint(s->d.zone1 * (double)n), best = INFINITY;
        unsigned long above = n;
        for (size_t b = 0; b <= NBIN; b++) {
            double e = fabs((double)above - want);
            if (e < best) {
                best = e;
                s->rthr = (int)b;
            }
            if (b < NBIN)
                above -= hist[b];
        }
        memset(hist, 0, NBIN * sizeof *hist);
    }
    for_each_live(s, BUILD_RAW, add_rank, &pc);
    memset(s->planned, 0, sizeof s->planned);
    place_cuts(hist, s->d.mix[0], s->cut[0], s->planned);
    place_cuts(hist + NBIN, s->d.mix[1], s->cut[1], s->planned);
}

/* Region seeds of planning attempt a (clustered), well inside the tissue ellipse; rank salt of attempt a. */
static void set_attempt(hs_sim_slide *s, int a)
{
    rng r;
    rng_seed(&r, s->d.seed, TAG_SLIDE, 1 + (uint64_t)a);
    for (int k = 0; k < 2; k++) {
        double rr = 0.55 * sqrt(rng_unif(&r)), th = rng_range(&r, 0.0, 2.0 * M_PI);
        double u = rr * cos(th) * s->trx, v = rr * sin(th) * s->try_;
        s->seedx[k] = s->tcx + u * s->tcos - v * s->tsin;
        s->seedy[k] = s->tcy + u * s->tsin + v * s->tcos;
    }
    s->usalt = a == 0 ? 0 : (uint32_t)(rng_next(&r) >> 32);
}

static void add_to_map(void *ctx, double x_um, double y_um, hs_class k)
{
    hs_tilemap_add(ctx, x_um, y_um, k);
}

/* Moran's I of the planted classes' tile H-scores, as hs_metrics_compute finds it with the default parameters. */
static int planted_moran(hs_sim_slide *s, double *mi, hs_error *err)
{
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    const double tile = 256.0;
    size_t nt = (size_t)ceil(s->L / tile);
    hs_tilemap *m = hs_tilemap_alloc(nt, nt, tile);
    if (!m)
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory");
    hs_sim_slide_foreach_cell(s, add_to_map, m);
    hs_slide_metrics r;
    int rc = hs_metrics_compute(m, &hp, HS_ISH_UNKNOWN, &r, err);
    hs_tilemap_free(m);
    if (rc == HS_OK)
        *mi = r.morans_i;
    return rc;
}

/*
 * Plans the slide.  A clustered slide must show Moran's I >= MORAN_CLUSTERED
 * and a mosaic one < MORAN_MOSAIC (the rule's cut-off is 0.4), so their
 * regions (clustered) or rank draws (mosaic) are redrawn, up to ATTEMPTS
 * times, keeping the best attempt when none qualifies (tiny slides).
 */
#define ATTEMPTS 12
#define MORAN_CLUSTERED 0.5
#define MORAN_MOSAIC 0.3
static int plan(hs_sim_slide *s, hs_error *err)
{
    uint32_t *hist = calloc(2 * (size_t)NBIN, sizeof *hist);
    if (!hist)
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory");
    int clustered = s->d.pattern == HS_PATTERN_CLUSTERED, rc = HS_OK;
    set_attempt(s, 0);
    plan_once(s, hist);
    if (clustered || s->d.pattern == HS_PATTERN_MOSAIC) {
        int best = 0;
        double best_score = -INFINITY;
        for (int a = 0; a < ATTEMPTS; a++) {
            if (a > 0) {
                set_attempt(s, a);
                plan_once(s, hist);
            }
            double mi = NAN;
            if ((rc = planted_moran(s, &mi, err)) != HS_OK)
                break;
            /* NAN (too few tumour tiles) counts as the worst score for clustered, as mosaic for mosaic */
            double score = clustered ? (isnan(mi) ? -INFINITY : mi) : (isnan(mi) ? INFINITY : -mi);
            if (clustered ? score >= MORAN_CLUSTERED : score > -MORAN_MOSAIC) {
                best = -1;
                break;
            }
            if (score > best_score) {
                best_score = score;
                best = a;
            }
        }
        if (rc == HS_OK && best >= 0) {
            set_attempt(s, best);
            plan_once(s, hist);
        }
    }
    free(hist);
    return rc;
}

/* ------------------------------------------------------------------ looks */

static const double STAIN_H[3] = {0.650, 0.704, 0.286};
static const double STAIN_DAB[3] = {0.268, 0.570, 0.776};

static double norm3(const double v[3])
{
    return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

/* Angle between v and w (any lengths), degrees; atan2 keeps small angles accurate. */
static double angle_deg(const double v[3], const double w[3])
{
    double cx = v[1] * w[2] - v[2] * w[1], cy = v[2] * w[0] - v[0] * w[2], cz = v[0] * w[1] - v[1] * w[0];
    double dot = v[0] * w[0] + v[1] * w[1] + v[2] * w[2];
    return atan2(sqrt(cx * cx + cy * cy + cz * cz), dot) * 180.0 / M_PI;
}

void hs_sim_vary_default(hs_sim_vary *v)
{
    memset(v, 0, sizeof *v);
    v->cell_radius_um = 6.0;
    v->nucleus_frac = 3.5 / 6.0;
    v->membrane_um = 1.0;
    v->jpeg_quality = 90;
    v->subsampling = HS_TIFF_YCBCR_420;
    v->dab_gain = 1.0;
    v->counterstain = 1.0;
    double nh = norm3(STAIN_H), nd = norm3(STAIN_DAB);
    for (int c = 0; c < 3; c++) {
        v->stain_h[c] = STAIN_H[c] / nh;
        v->stain_dab[c] = STAIN_DAB[c] / nd;
    }
    v->fibroblast_density = 1.0;
}

/* Is x finite and in [lo, hi]? */
static int within(double x, double lo, double hi)
{
    return isfinite(x) && x >= lo && x <= hi;
}

/* Rounds x to a multiple of 1/q (q a power of two, so that rounding again changes nothing). */
static double snap(double x, double q)
{
    return nearbyint(x * q) / q;
}

int hs_sim_vary_realise(hs_sim_vary *v, hs_error *err)
{
    if (!v)
        return hs_error_set(err, HS_EINVAL, "simulate: NULL look");
    const double r = v->cell_radius_um;
    if (!within(r, 3.0, 20.0))
        return hs_error_set(err, HS_EINVAL, "simulate: cell radius %g um outside 3..20", r);
    if (!within(v->nucleus_frac, 0.2, 0.9))
        return hs_error_set(err, HS_EINVAL, "simulate: nucleus fraction %g outside 0.2..0.9", v->nucleus_frac);
    if (!within(v->membrane_um, 0.25, r / 2.0))
        return hs_error_set(err, HS_EINVAL, "simulate: membrane width %g um outside 0.25..%g (r/2)", v->membrane_um,
                            r / 2.0);
    if (!within(v->blur_px, 0.0, BLUR_MAX))
        return hs_error_set(err, HS_EINVAL, "simulate: blur %g px outside 0..%g", v->blur_px, BLUR_MAX);
    if (!within(v->noise_sd, 0.0, 20.0))
        return hs_error_set(err, HS_EINVAL, "simulate: noise sd %g outside 0..20", v->noise_sd);
    if (v->jpeg_quality < 0 || v->jpeg_quality > 100)
        return hs_error_set(err, HS_EINVAL, "simulate: JPEG quality %d outside 0..100", v->jpeg_quality);
    if (v->subsampling != HS_TIFF_YCBCR_420 && v->subsampling != HS_TIFF_YCBCR_444)
        return hs_error_set(err, HS_EINVAL, "simulate: unknown chroma subsampling %d", (int)v->subsampling);
    if (!within(v->dab_gain, 0.1, 5.0) || !within(v->counterstain, 0.1, 5.0))
        return hs_error_set(err, HS_EINVAL, "simulate: DAB gain %g or counterstain %g outside 0.1..5", v->dab_gain,
                            v->counterstain);
    if (!within(v->bleed, 0.0, 1.0))
        return hs_error_set(err, HS_EINVAL, "simulate: bleeding %g outside 0..1", v->bleed);
    for (int c = 0; c < 3; c++)
        if (!(isfinite(v->stain_h[c]) && v->stain_h[c] > 0.0 && isfinite(v->stain_dab[c]) && v->stain_dab[c] > 0.0))
            return hs_error_set(err, HS_EINVAL, "simulate: stain vectors must have positive finite components");
    if (!within(v->fibroblast_density, 0.0, 4.0))
        return hs_error_set(err, HS_EINVAL, "simulate: fibroblast density %g outside 0..4", v->fibroblast_density);
    if (!within(v->inflammatory_per_mm2, 0.0, LYM_FULL))
        return hs_error_set(err, HS_EINVAL, "simulate: lymphocyte density %g per mm^2 outside 0..%g",
                            v->inflammatory_per_mm2, LYM_FULL);
    v->cell_radius_um = snap(r, UM);
    v->membrane_um = snap(v->membrane_um, UM);
    v->dab_gain = snap(v->dab_gain, 65536.0);
    v->counterstain = snap(v->counterstain, 65536.0);
    v->bleed = snap(v->bleed, 65536.0);
    double nh = norm3(v->stain_h), nd = norm3(v->stain_dab);
    for (int c = 0; c < 3; c++) {
        v->stain_h[c] /= nh;
        v->stain_dab[c] /= nd;
    }
    v->angle_h_deg = angle_deg(v->stain_h, STAIN_H);
    v->angle_dab_deg = angle_deg(v->stain_dab, STAIN_DAB);
    if (v->fibroblast_density > 0.0) {
        double block = nearbyint(FIB_BLOCK / sqrt(v->fibroblast_density));
        v->fibroblast_density = (FIB_BLOCK / block) * (FIB_BLOCK / block);
    }
    v->inflammatory_per_mm2 = nearbyint(v->inflammatory_per_mm2 / LYM_FULL * 65536.0) * LYM_FULL / 65536.0;
    return HS_OK;
}

/* ------------------------------------------------------------------ slide object */

static void init_tables(hs_sim_slide *s, const double h[3], const double dab[3])
{
    double nh = sqrt(h[0] * h[0] + h[1] * h[1] + h[2] * h[2]);
    double nd = sqrt(dab[0] * dab[0] + dab[1] * dab[1] + dab[2] * dab[2]);
    for (int c = 0; c < 3; c++)
        for (int q = 0; q < QMAX; q++) {
            double od = (double)q / QOD;
            s->L1[c][q] = (uint16_t)lround(255.0 * 256.0 * pow(10.0, -od * h[c] / nh));
            s->L2[c][q] = (uint32_t)lround(65536.0 * pow(10.0, -od * dab[c] / nd));
        }
}

/* Varied slides: the staining multipliers, the blur kernel and the read-noise table of the look. */
static void init_look(hs_sim_slide *s)
{
    const hs_sim_vary *v = &s->v;
    s->hmul = (int32_t)lround(v->counterstain * 65536.0);
    s->dmul = (int32_t)lround(v->dab_gain * 65536.0);
    s->bmul = (int32_t)lround(v->bleed * 65536.0);
    /* Gaussian weights in Q14 summing to exactly BW_ONE, so that a flat field stays flat */
    const int R = s->brad;
    double g[2 * BRAD_MAX + 1], sum = 0.0;
    for (int k = -R; k <= R; k++)
        sum += g[k + R] = R ? exp(-0.5 * (k / v->blur_px) * (k / v->blur_px)) : 1.0;
    long tot = 0;
    for (int k = 0; k <= 2 * R; k++)
        tot += s->bw[k] = (uint32_t)lround(BW_ONE * g[k] / sum);
    s->bw[R] = (uint32_t)((long)s->bw[R] + BW_ONE - tot);
    /* read noise: NTAB equiprobable normal quantiles, in 1/256 of an 8-bit level */
    s->noise_on = v->noise_sd > 0.0;
    for (int k = 0; k < NTAB; k++)
        s->ntab[k] = (int16_t)lround(v->noise_sd * 256.0 * gsl_cdf_ugaussian_Pinv((k + 0.5) / NTAB));
}

void hs_sim_slide_free(hs_sim_slide *s)
{
    if (!s)
        return;
    free(s->colidx[0]);
    free(s->colidx[1]);
    free(s->cells);
    free(s->coarse);
    free(s->rowv);
    free(s->label);
    free(s->fib);
    free(s->lym);
    free(s->lin);
    free(s->acc);
    free(s->pad);
    free(s->row16);
    free(s);
}

static void add_class(hs_sim_slide *s, const scell *c, void *ctx)
{
    (void)s;
    ((unsigned long *)ctx)[c->cls]++;
}

/* A control slide: four cores on a 2 x 2 grid, core k of class k; the planned counts are the cells in each. */
static void plan_control(hs_sim_slide *s)
{
    s->core_r = fmin(CORE_FRAC * s->L, CORE_MAX_UM);
    for (int k = 0; k < HS_NCLASS; k++) {
        s->core_x[k] = s->L * (0.25 + 0.5 * (k % 2));
        s->core_y[k] = s->L * (0.25 + 0.5 * (k / 2));
    }
    memset(s->planned, 0, sizeof s->planned);
    for_each_live(s, BUILD_CLASS, add_class, s->planned);
}

/* Sets the cell geometry, band sizes and densities of an unvaried slide, or of a varied one from s->v. */
static void set_geometry(hs_sim_slide *s)
{
    if (!s->vary) {
        s->lat_a = LAT_A;
        s->lat_b = LAT_B;
        s->jit = JIT;
        s->r_cell = R_CELL;
        s->w_mem = W_MEM;
        s->r_nuc_max = R_NUC_MAX;
        s->fib_block = FIB_BLOCK;
        s->margin = 0;
        s->bandcap = HS_SIM_BAND;
        s->maxrows = MAXROWS;
        return;
    }
    const hs_sim_vary *v = &s->v;
    const double r = v->cell_radius_um * UM;
    s->lat_a = 2 * (int32_t)lround(r);
    s->lat_b = (int32_t)lround(sqrt(3.0) * r);
    s->jit = (int32_t)lround(JIT_FRAC * 2.0 * r);
    s->r_cell = (int32_t)lround(CELL_FRAC * r);
    s->w_mem = (int32_t)lround(v->membrane_um * UM);
    s->nuc_a = v->nucleus_frac * r;
    s->r_nuc_max = (int32_t)ceil(s->nuc_a * 1.13) + 1;
    s->fib_block = v->fibroblast_density > 0.0 ? (int)lround(FIB_BLOCK / sqrt(v->fibroblast_density)) : 0;
    s->lym_keep = (uint32_t)lround(v->inflammatory_per_mm2 / LYM_FULL * 65536.0);
    s->brad = v->blur_px > 0.0 ? (int)ceil(3.0 * v->blur_px) : 0;
    s->margin = (uint32_t)s->brad;
    s->bandcap = HS_SIM_BAND + 2 * s->margin;
    int rows = (int)(((int64_t)s->bandcap * SUB) / s->lat_b) + 6;
    s->maxrows = rows > CHUNK ? rows : CHUNK;
}

/* The common constructor: an unvaried slide (v NULL), a varied one, or a control slide (v not NULL). */
static int slide_new(hs_sim_slide **out, const hs_sim_design *d, const hs_sim_vary *v, uint32_t size, int control,
                     hs_error *err)
{
    if (!out || !d)
        return hs_error_set(err, HS_EINVAL, "simulate: NULL argument");
    *out = NULL;
    if (size < HS_SIM_MIN_SIZE || size > HS_SIM_MAX_SIZE)
        return hs_error_set(err, HS_EINVAL, "simulate: slide size %u outside %d..%d pixels", size, HS_SIM_MIN_SIZE,
                            HS_SIM_MAX_SIZE);
    if (d->pattern < HS_PATTERN_HOMOGENEOUS || d->pattern > HS_PATTERN_SCATTERED)
        return hs_error_set(err, HS_EINVAL, "simulate: bad pattern");
    hs_sim_vary look;
    if (v) {
        look = *v;
        int rc = hs_sim_vary_realise(&look, err);
        if (rc != HS_OK)
            return rc;
    }
    hs_sim_slide *s = calloc(1, sizeof *s);
    if (!s)
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory");
    s->d = *d;
    s->size = size;
    s->L = size * HS_SIM_MPP;
    s->vary = v != NULL;
    if (v)
        s->v = look;
    s->control = control;
    set_geometry(s);
    s->ncol = (int)(((int64_t)size * SUB) / s->lat_a + 1);
    s->nc = s->ncol + 6;
    size_t ncoarse = size / 16 + 3;
    s->colidx[0] = malloc(size * sizeof(int32_t));
    s->colidx[1] = malloc(size * sizeof(int32_t));
    s->cells = calloc((size_t)(s->maxrows + 2) * (size_t)s->nc, sizeof *s->cells);
    s->coarse = malloc((s->bandcap / 16 + 3) * ncoarse * sizeof(float));
    s->rowv = malloc(ncoarse * sizeof(float));
    s->label = malloc((size_t)size * s->bandcap);
    int fb = s->fib_block ? s->fib_block : FIB_BLOCK;
    s->nfib_cap = (size / (uint32_t)fb + 3) * ((s->bandcap + 2 * (FIB_JIT + 16)) / (uint32_t)fb + 3);
    s->fib = malloc(s->nfib_cap * sizeof *s->fib);
    int ok = s->colidx[0] && s->colidx[1] && s->cells && s->coarse && s->rowv && s->label && s->fib;
    if (ok && s->vary) {
        size_t n = (size_t)size * 3;
        s->nlym_cap = (size / LYM_BLOCK + 3) * ((s->bandcap + 2 * (LYM_JIT + 8)) / LYM_BLOCK + 3);
        s->lym = malloc(s->nlym_cap * sizeof *s->lym);
        /* VEC values of slack: the blur reads and writes rows in whole chunks */
        s->lin = calloc((size_t)s->bandcap * n + VEC, sizeof *s->lin);
        s->acc = calloc(n + VEC, sizeof *s->acc);
        s->pad = calloc(n + 6 * (size_t)s->brad + VEC, sizeof *s->pad);
        s->row16 = calloc(n + VEC, sizeof *s->row16);
        ok = s->lym && s->lin && s->acc && s->pad && s->row16;
    }
    if (!ok) {
        hs_sim_slide_free(s);
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory for a %u-pixel slide", size);
    }
    for (uint32_t x = 0; x < size; x++)
        for (int p = 0; p < 2; p++)
            s->colidx[p][x] = (int32_t)floor_div((int64_t)x * SUB + SUB / 2 - p * (s->lat_a / 2), s->lat_a);

    rng r;
    rng_seed(&r, d->seed, TAG_SLIDE, 0);
    s->s_cell = rng_next(&r);
    s->n_tis = noise_make(rng_next(&r));
    s->n_hole = noise_make(rng_next(&r));
    s->n_hole2 = noise_make(~s->n_hole.seed);
    s->n_nest1 = noise_make(rng_next(&r));
    s->n_nest2 = noise_make(rng_next(&r));
    s->n_zone = noise_make(rng_next(&r));
    s->s_fib = rng_next(&r);
    s->s_pix = (uint32_t)(rng_next(&r) >> 32);
    s->tcx = s->L * (0.5 + rng_range(&r, -0.03, 0.03));
    s->tcy = s->L * (0.5 + rng_range(&r, -0.03, 0.03));
    s->trx = s->L * rng_range(&r, 0.30, 0.38);
    s->try_ = s->L * rng_range(&r, 0.30, 0.38);
    double ang = rng_range(&r, 0.0, M_PI);
    s->tcos = cos(ang);
    s->tsin = sin(ang);
    s->tamp = 0.18;
    s->tper = fmax(s->L / 3.0, 300.0);
    s->nseed = d->pattern == HS_PATTERN_CLUSTERED ? (d->nregion == 2 ? 2 : 1) : 0;
    double fa = rng_range(&r, 0.0, M_PI);
    s->snx = (int32_t)lround(cos(fa) * 256.0);
    s->sny = (int32_t)lround(sin(fa) * 256.0);
    /* fibre profile: smoothed random values, +-0.025 OD */
    double raw[1024], acc = 0.0;
    for (int k = 0; k < 1024; k++)
        raw[k] = rng_range(&r, -1.0, 1.0);
    for (int k = 0; k < 1024; k++) {
        acc = 0.0;
        for (int t = -3; t <= 3; t++)
            acc += raw[(k + t + 1024) & 1023];
        s->streak[k] = (int16_t)lround(acc / 7.0 * 2.6 * 0.025 * QOD);
    }
    init_tables(s, s->vary ? s->v.stain_h : STAIN_H, s->vary ? s->v.stain_dab : STAIN_DAB);
    if (s->vary) {
        init_look(s);
        rng_seed(&r, d->seed, TAG_SLIDE_LOOK, 0);
        s->s_noise = rng_next(&r);
        s->s_lym = rng_next(&r);
    }
    int rc = HS_OK;
    if (control)
        plan_control(s);
    else
        rc = plan(s, err);
    if (rc != HS_OK) {
        hs_sim_slide_free(s);
        return rc;
    }
    *out = s;
    return HS_OK;
}

int hs_sim_slide_alloc(hs_sim_slide **out, const hs_sim_design *d, uint32_t size, hs_error *err)
{
    return slide_new(out, d, NULL, size, 0, err);
}

int hs_sim_slide_alloc_vary(hs_sim_slide **out, const hs_sim_design *d, const hs_sim_vary *v, uint32_t size,
                            hs_error *err)
{
    return slide_new(out, d, v, size, 0, err);
}

int hs_sim_control_alloc(hs_sim_slide **out, uint64_t seed, const hs_sim_vary *v, uint32_t size, hs_error *err)
{
    if (out)
        *out = NULL;
    if (!v)
        return hs_error_set(err, HS_EINVAL, "simulate: a control slide needs a look");
    hs_sim_design d;
    memset(&d, 0, sizeof d);
    d.seed = seed;
    d.pattern = HS_PATTERN_HOMOGENEOUS;
    d.call = HS_CALL_NA;
    return slide_new(out, &d, v, size, 1, err);
}

int hs_sim_control_cores(const hs_sim_slide *s, hs_sim_core core[HS_NCLASS])
{
    if (!s || !s->control)
        return -1;
    for (int k = 0; k < HS_NCLASS; k++) {
        core[k].cls = (hs_class)k;
        core[k].x0_um = s->core_x[k] - s->core_r;
        core[k].y0_um = s->core_y[k] - s->core_r;
        core[k].x1_um = s->core_x[k] + s->core_r;
        core[k].y1_um = s->core_y[k] + s->core_r;
        core[k].n_cells = s->planned[k];
    }
    return 0;
}

uint32_t hs_sim_slide_size(const hs_sim_slide *s)
{
    return s->size;
}

void hs_sim_slide_planned(const hs_sim_slide *s, unsigned long count[HS_NCLASS])
{
    memcpy(count, s->planned, sizeof s->planned);
}

typedef struct each_ctx {
    void (*fn)(void *ctx, double x_um, double y_um, hs_class k);
    void *ctx;
} each_ctx;

static void each_cell(hs_sim_slide *s, const scell *c, void *ctx)
{
    (void)s;
    each_ctx *e = ctx;
    e->fn(e->ctx, c->x / (double)UM, c->y / (double)UM, (hs_class)c->cls);
}

void hs_sim_slide_foreach_cell(hs_sim_slide *s, void (*fn)(void *ctx, double x_um, double y_um, hs_class k),
                               void *ctx)
{
    each_ctx e = {fn, ctx};
    for_each_live(s, BUILD_CLASS, each_cell, &e);
}

/* ------------------------------------------------------------------ rendering */

static inline uint32_t pixhash(uint32_t x, uint32_t y, uint32_t seed)
{
    uint32_t h = x * 0x9E3779B1u ^ (y + seed) * 0x85EBCA77u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    h *= 0x297A2D39u;
    h ^= h >> 15;
    return h;
}

/* Unvaried slides: the 8-bit colour of concentrations (qh, qd), in 1/QOD OD. */
static inline void put_rgb(const hs_sim_slide *s, uint8_t *o, int qh, int qd)
{
    qh = qh < 0 ? 0 : qh >= QMAX ? QMAX - 1 : qh;
    qd = qd < 0 ? 0 : qd >= QMAX ? QMAX - 1 : qd;
    for (int c = 0; c < 3; c++)
        o[c] = (uint8_t)(((uint32_t)s->L1[c][qh] * s->L2[c][qd] + (1u << 23)) >> 24);
}

/*
 * Varied slides: the planted concentrations (qh, qd) after the counterstain,
 * the DAB gain and the bleeding of hematoxylin into DAB, as linear RGB in
 * 1/256 of an 8-bit level.  Truncating here and rounding (v + 128) >> 8 later
 * gives exactly put_rgb's bytes when there is neither blur nor noise.
 */
static inline void put_lin(const hs_sim_slide *s, uint16_t *o, int qh, int qd)
{
    qh = qh < 0 ? 0 : qh >= QMAX ? QMAX - 1 : qh;
    qd = qd < 0 ? 0 : qd >= QMAX ? QMAX - 1 : qd;
    int h = (qh * s->hmul + 32768) >> 16;
    h = h >= QMAX ? QMAX - 1 : h;
    int d = (qd * s->dmul + h * s->bmul + 32768) >> 16;
    d = d >= QMAX ? QMAX - 1 : d;
    for (int c = 0; c < 3; c++)
        o[c] = (uint16_t)(((uint32_t)s->L1[c][h] * s->L2[c][d]) >> 16);
}

/* Paints pixel i of the band being painted: into rgb, or into the linear buffer of a varied slide. */
static inline void put_px(const hs_sim_slide *s, uint8_t *rgb, size_t i, int qh, int qd)
{
    if (s->vary)
        put_lin(s, s->lin + 3 * i, qh, qd);
    else
        put_rgb(s, rgb + 3 * i, qh, qd);
}

static inline void put_grey(const hs_sim_slide *s, uint8_t *rgb, size_t i, uint8_t g)
{
    if (s->vary)
        s->lin[3 * i] = s->lin[3 * i + 1] = s->lin[3 * i + 2] = (uint16_t)(g << 8);
    else
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = g;
}

/* Is a live tumour-lattice point within dist um of (xu, yu) um? */
static int near_live(const hs_sim_slide *s, double xu, double yu, double dist)
{
    int64_t gy = (int64_t)(yu * UM), gx = (int64_t)(xu * UM), reach = (int64_t)(dist * UM) + s->jit;
    for (int64_t j = floor_div(gy - reach, s->lat_b) - 1; j <= floor_div(gy + reach, s->lat_b) + 1; j++)
        for (int64_t i = floor_div(gx - reach, s->lat_a) - 1; i <= floor_div(gx + reach, s->lat_a) + 1; i++) {
            uint64_t cs = cell_state(s, i, j);
            int32_t cx, cy;
            cell_centre(s, i, j, splitmix64(&cs), &cx, &cy);
            if (hypot(cx / (double)UM - xu, cy / (double)UM - yu) > dist || !in_nest(s, cx / (double)UM, cy / (double)UM))
                continue;
            /* live: at least 3 of its 6 hexagonal neighbours are in a nest too */
            int p = (int)(j & 1), nb = 0;
            const int64_t ni[6] = {i - 1, i + 1, i - 1 + p, i + p, i - 1 + p, i + p};
            const int64_t nj[6] = {j, j, j - 1, j - 1, j + 1, j + 1};
            for (int k = 0; k < 6 && nb < 3; k++) {
                uint64_t ns = cell_state(s, ni[k], nj[k]);
                int32_t nx, ny;
                cell_centre(s, ni[k], nj[k], splitmix64(&ns), &nx, &ny);
                nb += in_nest(s, nx / (double)UM, ny / (double)UM);
            }
            if (nb >= 3)
                return 1;
        }
    return 0;
}

/* Finds the fibroblasts whose nucleus may touch rows y0 .. y1-1. */
static size_t find_fibroblasts(hs_sim_slide *s, uint32_t y0, uint32_t y1)
{
    size_t n = 0;
    const int64_t blk = s->fib_block;
    if (s->control || blk == 0)
        return 0;
    int64_t by0 = floor_div((int64_t)y0 - FIB_JIT - 16, blk), by1 = floor_div((int64_t)y1 + FIB_JIT + 16, blk);
    int64_t bxn = s->size / blk + 1;
    for (int64_t by = by0; by <= by1; by++)
        for (int64_t bx = 0; bx <= bxn; bx++) {
            uint64_t st = hash2(s->s_fib, bx, by);
            uint64_t r0 = splitmix64(&st), r1 = splitmix64(&st);
            if (u16(r0, 0) >= 0.6)
                continue;
            double cx = (bx + 0.5) * blk + (2.0 * u16(r0, 1) - 1.0) * FIB_JIT;
            double cy = (by + 0.5) * blk + (2.0 * u16(r0, 2) - 1.0) * FIB_JIT;
            double a = (4.0 + 2.0 * u16(r1, 0)) / HS_SIM_MPP, b = (1.2 + 0.6 * u16(r1, 1)) / HS_SIM_MPP;
            int rad = (int)ceil(a) + 1;
            if (cy + rad < y0 || cy - rad >= y1 || n == s->nfib_cap)
                continue;
            double xu = cx * HS_SIM_MPP, yu = cy * HS_SIM_MPP;
            if (tissue_field(s, xu, yu) <= 0.0 || nest_field(s, xu, yu) > NEST_T - 0.02)
                continue;
            /* keep clear of every nest lattice point within FIB_CLEAR um */
            int clear = 1;
            int64_t gy = (int64_t)(yu * UM), gx = (int64_t)(xu * UM), reach = (int64_t)(FIB_CLEAR * UM) + s->jit;
            for (int64_t j = floor_div(gy - reach, s->lat_b) - 1; clear && j <= floor_div(gy + reach, s->lat_b) + 1; j++)
                for (int64_t i = floor_div(gx - reach, s->lat_a) - 1; clear && i <= floor_div(gx + reach, s->lat_a) + 1;
                     i++) {
                    uint64_t cs = cell_state(s, i, j);
                    int32_t qx, qy;
                    cell_centre(s, i, j, splitmix64(&cs), &qx, &qy);
                    double px = (double)qx / UM, py = (double)qy / UM;
                    if (hypot(px - xu, py - yu) <= FIB_CLEAR && in_nest(s, px, py))
                        clear = 0;
                }
            if (!clear)
                continue;
            double th = M_PI * u16(r1, 2), ct = cos(th), sn = sin(th);
            fibro *f = &s->fib[n++];
            f->x = cx;
            f->y = cy;
            f->ea = ct * ct / (a * a) + sn * sn / (b * b);
            f->eb = 2.0 * ct * sn * (1.0 / (a * a) - 1.0 / (b * b));
            f->ec = sn * sn / (a * a) + ct * ct / (b * b);
            f->qh = (int)lround((0.45 + 0.2 * u16(r1, 3)) * QOD);
            f->r = rad;
        }
    return n;
}

/*
 * Varied slides: finds the lymphocytes whose nucleus may touch rows y0 ..
 * y1-1.  One candidate per LYM_BLOCK grid square, jittered, kept with
 * probability lym_keep / 65536 when its centre is in the tissue and no live
 * tumour-lattice point lies within max(LYM_CLEAR, region limit + its radius),
 * so that the whole nucleus lies in stroma.
 */
static size_t find_lymphocytes(hs_sim_slide *s, uint32_t y0, uint32_t y1)
{
    size_t n = 0;
    if (!s->vary || s->control || s->lym_keep == 0)
        return 0;
    int64_t by0 = floor_div((int64_t)y0 - LYM_JIT - 8, LYM_BLOCK), by1 = floor_div((int64_t)y1 + LYM_JIT + 8, LYM_BLOCK);
    int64_t bxn = s->size / LYM_BLOCK + 1;
    const double region_um = s->r_cell / (double)UM;
    for (int64_t by = by0; by <= by1; by++)
        for (int64_t bx = 0; bx <= bxn; bx++) {
            uint64_t st = hash2(s->s_lym, bx, by);
            uint64_t r0 = splitmix64(&st);
            if ((r0 & 0xFFFF) >= s->lym_keep)
                continue;
            double cx = (bx + 0.5) * LYM_BLOCK + (2.0 * u16(r0, 1) - 1.0) * LYM_JIT;
            double cy = (by + 0.5) * LYM_BLOCK + (2.0 * u16(r0, 2) - 1.0) * LYM_JIT;
            double rad_um = 2.5 + 1.0 * u16(r0, 3), rad = rad_um / HS_SIM_MPP;
            int rb = (int)ceil(rad) + 1;
            if (cy + rb < y0 || cy - rb >= y1 || n == s->nlym_cap)
                continue;
            double xu = cx * HS_SIM_MPP, yu = cy * HS_SIM_MPP;
            if (tissue_field(s, xu, yu) <= 0.0 || near_live(s, xu, yu, fmax(LYM_CLEAR, region_um + rad_um)))
                continue;
            uint64_t r1 = splitmix64(&st);
            lymph *l = &s->lym[n++];
            l->x = cx;
            l->y = cy;
            l->r2 = rad * rad;
            l->qh = (int)lround((0.8 + 0.3 * u16(r1, 0)) * QOD);
            l->r = rb;
        }
    return n;
}

/*
 * Paints rows ya .. yb-1 (at most bandcap) into rgb (unvaried: final bytes)
 * or s->lin (varied: linear RGB), with their labels in lab, and counts into
 * count (may be NULL) the classes of the cells whose centre lies in rows
 * y0 .. y1-1.
 */
static void paint(hs_sim_slide *s, uint32_t ya, uint32_t yb, uint8_t *rgb, uint8_t *lab, uint32_t y0, uint32_t y1,
                  unsigned long count[HS_NCLASS])
{
    const uint32_t W = s->size;

    /* lattice rows that can hold the nearest centres of these pixel rows */
    int64_t jlo = floor_div((int64_t)ya * SUB + SUB / 2, s->lat_b) - 1;
    int64_t jhi = floor_div((int64_t)(yb - 1) * SUB + SUB / 2, s->lat_b) + 1;
    build_rows(s, jlo, jhi, BUILD_RENDER);
    if (count) {
        memset(count, 0, HS_NCLASS * sizeof *count);
        for (int64_t j = jlo; j <= jhi; j++)
            for (int64_t i = -2; i <= s->ncol + 1; i++) {
                const scell *c = cell_at(s, j, i);
                if (c->alive && centre_inside(s, c) && c->y >= (int64_t)y0 * SUB && c->y < (int64_t)y1 * SUB)
                    count[c->cls]++;
            }
    }

    /* tissue field on a 16-pixel grid, interpolated per pixel for stroma and glass */
    const size_t ncx = W / 16 + 2;
    const uint32_t gy0 = ya / 16, gy1 = (yb - 1) / 16 + 1;
    for (uint32_t gy = gy0; gy <= gy1; gy++)
        for (size_t gx = 0; gx < ncx; gx++)
            s->coarse[(gy - gy0) * ncx + gx] = (float)tissue_field(s, gx * 16.0 * HS_SIM_MPP, gy * 16.0 * HS_SIM_MPP);

    const int64_t r7 = (int64_t)s->r_cell * s->r_cell, r6 = (int64_t)(s->r_cell - s->w_mem) * (s->r_cell - s->w_mem);
    const int64_t rn = (int64_t)s->r_nuc_max * s->r_nuc_max, m4 = 4 * (int64_t)s->w_mem * s->w_mem;
    const int qmem0 = (int)lround(MEM_DAB[0] * QOD);
    for (uint32_t y = ya; y < yb; y++) {
        const size_t row = (size_t)(y - ya) * W;
        uint8_t *lb = lab + row;
        const int32_t py = (int32_t)y * SUB + SUB / 2;
        const int64_t jr = floor_div(py, s->lat_b);
        const scell *rowp[3];
        const int32_t *cix[3];
        for (int k = 0; k < 3; k++) {
            rowp[k] = cell_at(s, jr - 1 + k, 0);
            cix[k] = s->colidx[(jr - 1 + k) & 1];
        }
        const float *ca = s->coarse + (y / 16 - gy0) * ncx, *cb = ca + ncx;
        const float ty = ((float)(y & 15) + 0.5f) / 16.0f;
        for (size_t gx = 0; gx < ncx; gx++)
            s->rowv[gx] = ca[gx] + (cb[gx] - ca[gx]) * ty;
        for (uint32_t x = 0; x < W; x++) {
            const int32_t px = (int32_t)x * SUB + SUB / 2;
            uint32_t h = pixhash(x, y, s->s_pix);
            const scell *cand[9];
            int32_t d2[9];
            int n = 0, bi = -1;
            int32_t best = INT32_MAX;
            for (int k = 0; k < 3; k++) {
                const scell *c = rowp[k] + cix[k][x] - 1;
                for (int t = 0; t < 3; t++, c++) {
                    if (!c->alive)
                        continue;
                    int32_t dx = px - c->x, dy = py - c->y, dd = dx * dx + dy * dy;
                    cand[n] = c;
                    d2[n] = dd;
                    if (dd < best) {
                        best = dd;
                        bi = n;
                    }
                    n++;
                }
            }
            if (bi >= 0 && best <= r7) {
                const scell *c = cand[bi];
                int membrane = best >= r6;
                for (int k = 0; k < n && !membrane; k++) {
                    if (k == bi)
                        continue;
                    int64_t diff = (int64_t)d2[k] - best;
                    int64_t ex = cand[k]->x - c->x, ey = cand[k]->y - c->y;
                    if (diff * diff <= m4 * (ex * ex + ey * ey))
                        membrane = 1;
                }
                int qh = c->qcyt + (int)((((h >> 16) & 0xFF) * 9) >> 8) - 4;
                int qd = (int)(CYTO_DAB * QOD) + (int)(((h >> 24) & 0xFF) * 5 >> 8) - 2;
                int kind = HS_SIM_CYTOPLASM;
                if (best <= rn) {
                    float dx = (float)(px - c->x), dy = (float)(py - c->y);
                    if (c->ea * dx * dx + c->eb * dx * dy + c->ec * dy * dy <= 1.0f) {
                        qh = c->qnuc + (int)(((h & 0xFF) * 41) >> 8) - 20;
                        kind = HS_SIM_NUCLEUS;
                    }
                }
                if (membrane) {
                    int on = 1;
                    if (c->arc) {
                        float dx = (float)(px - c->x), dy = (float)(py - c->y);
                        float dot = dx * c->ux + dy * c->uy;
                        on = dot >= c->cosphi * sqrtf(dx * dx + dy * dy);
                    }
                    qd = (on ? c->qmem : qmem0) + (int)((((h >> 8) & 0xFF) * 17) >> 8) - 8;
                    kind = HS_SIM_MEMBRANE;
                }
                put_px(s, rgb, row + x, qh, qd);
                lb[x] = (uint8_t)(kind | (c->cls << 4));
                continue;
            }
            size_t gx = x >> 4;
            float v = s->rowv[gx] + (s->rowv[gx + 1] - s->rowv[gx]) * (((float)(x & 15) + 0.5f) / 16.0f);
            if (v > 0.0f) {
                uint32_t t = ((uint32_t)((int32_t)x * s->snx + (int32_t)y * s->sny)) >> 7;
                int qh = (int)(STROMA_H * QOD) + s->streak[t & 1023] + (int)((((h >> 16) & 0xFF) * 9) >> 8) - 4;
                put_px(s, rgb, row + x, qh, (int)((h >> 24) & 3));
                lb[x] = HS_SIM_STROMA;
            } else {
                put_grey(s, rgb, row + x, (uint8_t)(242 + ((h >> 8) & 0xFFFF) % 11));
                lb[x] = HS_SIM_GLASS;
            }
        }
    }

    /* fibroblast nuclei, over stroma only */
    size_t nf = find_fibroblasts(s, ya, yb);
    for (size_t f = 0; f < nf; f++) {
        const fibro *fb = &s->fib[f];
        int64_t ys = (int64_t)floor(fb->y) - fb->r, ye = (int64_t)floor(fb->y) + fb->r;
        int64_t xa = (int64_t)floor(fb->x) - fb->r, xb = (int64_t)floor(fb->x) + fb->r;
        ys = ys < ya ? ya : ys;
        ye = ye >= yb ? yb - 1 : ye;
        xa = xa < 0 ? 0 : xa;
        xb = xb >= W ? W - 1 : xb;
        for (int64_t y = ys; y <= ye; y++)
            for (int64_t x = xa; x <= xb; x++) {
                size_t at = (size_t)(y - ya) * W + (size_t)x;
                if (lab[at] != HS_SIM_STROMA)
                    continue;
                double dx = x + 0.5 - fb->x, dy = y + 0.5 - fb->y;
                if (fb->ea * dx * dx + fb->eb * dx * dy + fb->ec * dy * dy > 1.0)
                    continue;
                uint32_t h = pixhash((uint32_t)x, (uint32_t)y, s->s_pix);
                put_px(s, rgb, at, fb->qh + (int)(((h & 0xFF) * 31) >> 8) - 15, (int)((h >> 24) & 3));
                lab[at] = HS_SIM_FIBROBLAST;
            }
    }

    /* lymphocyte nuclei (varied slides), over stroma only: round, dark, H +-0.04 per pixel */
    size_t nl = find_lymphocytes(s, ya, yb);
    for (size_t f = 0; f < nl; f++) {
        const lymph *l = &s->lym[f];
        int64_t ys = (int64_t)floor(l->y) - l->r, ye = (int64_t)floor(l->y) + l->r;
        int64_t xa = (int64_t)floor(l->x) - l->r, xb = (int64_t)floor(l->x) + l->r;
        ys = ys < ya ? ya : ys;
        ye = ye >= yb ? yb - 1 : ye;
        xa = xa < 0 ? 0 : xa;
        xb = xb >= W ? W - 1 : xb;
        for (int64_t y = ys; y <= ye; y++)
            for (int64_t x = xa; x <= xb; x++) {
                size_t at = (size_t)(y - ya) * W + (size_t)x;
                double dx = x + 0.5 - l->x, dy = y + 0.5 - l->y;
                if (lab[at] != HS_SIM_STROMA || dx * dx + dy * dy > l->r2)
                    continue;
                uint32_t h = pixhash((uint32_t)x, (uint32_t)y, s->s_pix);
                put_px(s, rgb, at, l->qh + (int)(((h & 0xFF) * 21) >> 8) - 10, (int)((h >> 24) & 3));
                lab[at] = HS_SIM_LYMPHOCYTE;
            }
    }
}

/* n rounded up to whole chunks of VEC. */
static size_t vec_len(size_t n)
{
    return (n + VEC - 1) / VEC * VEC;
}

/* acc[i] = w * src[i] for i < n (a multiple of VEC). */
static void mul_row(uint32_t *restrict acc, const uint16_t *restrict src, uint32_t w, size_t n)
{
    for (size_t i = 0; i < n; i += VEC)
        for (int k = 0; k < VEC; k++)
            acc[i + k] = w * src[i + k];
}

/* acc[i] += w * (a[i] + b[i]) for i < n (a multiple of VEC): two taps of a symmetric kernel. */
static void mac_pair(uint32_t *restrict acc, const uint16_t *restrict a, const uint16_t *restrict b, uint32_t w,
                     size_t n)
{
    for (size_t i = 0; i < n; i += VEC)
        for (int k = 0; k < VEC; k++)
            acc[i + k] += w * ((uint32_t)a[i + k] + b[i + k]);
}

/* dst[i] = acc[i] / BW_ONE, rounded, for i < n (a multiple of VEC). */
static void scale_row(uint16_t *restrict dst, const uint32_t *restrict acc, size_t n)
{
    for (size_t i = 0; i < n; i += VEC)
        for (int k = 0; k < VEC; k++)
            dst[i + k] = (uint16_t)((acc[i + k] + BW_ONE / 2) >> 14);
}

/* A linear value (1/256 of a level, noise added) rounded and clipped to 8 bits. */
static inline uint8_t level8(int t)
{
    if (t < 0)
        return 0;
    t = (t + 128) >> 8;
    return (uint8_t)(t > 255 ? 255 : t);
}

/*
 * Varied slides: develops rows y0 .. y1-1 of the linear buffer (which holds
 * rows ya ..) into 8-bit rgb: separable Gaussian blur (rows and columns beyond
 * the slide repeat its edge), read noise, rounding.  Integer arithmetic
 * throughout, so the bytes do not depend on the compiler's floating point.
 */
static void develop(hs_sim_slide *s, uint32_t ya, uint32_t y0, uint32_t y1, uint8_t *rgb)
{
    const uint32_t W = s->size;
    const size_t n = (size_t)W * 3, nv = vec_len(n);
    const int R = s->brad;
    for (uint32_t y = y0; y < y1; y++) {
        const uint16_t *v = s->lin + (size_t)(y - ya) * n;
        if (R > 0) {
            mul_row(s->acc, v, s->bw[R], nv);
            for (int k = 1; k <= R; k++) {
                int64_t up = (int64_t)y - k, dn = (int64_t)y + k;
                up = up < 0 ? 0 : up;
                dn = dn >= s->size ? s->size - 1 : dn;
                mac_pair(s->acc, s->lin + (size_t)(up - ya) * n, s->lin + (size_t)(dn - ya) * n, s->bw[R + k], nv);
            }
            uint16_t *mid = s->pad + 3 * (size_t)R;
            scale_row(mid, s->acc, nv);
            for (int k = 0; k < R; k++)
                for (int c = 0; c < 3; c++) {
                    s->pad[3 * k + c] = mid[c];
                    mid[n + 3 * (size_t)k + c] = mid[n - 3 + c];
                }
            mul_row(s->acc, mid, s->bw[R], nv);
            for (int k = 1; k <= R; k++)
                mac_pair(s->acc, mid - 3 * (size_t)k, mid + 3 * (size_t)k, s->bw[R + k], nv);
            scale_row(s->row16, s->acc, nv);
            v = s->row16;
        }
        uint8_t *o = rgb + (size_t)(y - y0) * n;
        if (!s->noise_on) {
            for (size_t i = 0; i < n; i++)
                o[i] = (uint8_t)((v[i] + 128u) >> 8);
            continue;
        }
        for (uint32_t x = 0; x < W; x++, v += 3, o += 3) {
            uint64_t h = mix64(s->s_noise ^ ((uint64_t)y << 32 | x));
            o[0] = level8(v[0] + s->ntab[h & (NTAB - 1)]);
            o[1] = level8(v[1] + s->ntab[(h >> 12) & (NTAB - 1)]);
            o[2] = level8(v[2] + s->ntab[(h >> 24) & (NTAB - 1)]);
        }
    }
}

int hs_sim_slide_render(hs_sim_slide *s, uint32_t y0, uint32_t rows, uint8_t *rgb, uint8_t *label,
                        unsigned long count[HS_NCLASS], hs_error *err)
{
    if (!s || !rgb)
        return hs_error_set(err, HS_EINVAL, "simulate: NULL argument");
    if (rows < 1 || rows > HS_SIM_BAND || y0 >= s->size || rows > s->size - y0)
        return hs_error_set(err, HS_EINVAL, "simulate: rows %u..%u outside the slide", y0, y0 + rows);
    const uint32_t y1 = y0 + rows;
    if (!s->vary) {
        paint(s, y0, y1, rgb, label ? label : s->label, y0, y1, count);
        return HS_OK;
    }
    /* margin rows above and below feed the blur; labels are those of the sharp picture */
    const uint32_t ya = y0 > s->margin ? y0 - s->margin : 0;
    const uint32_t yb = s->size - y1 > s->margin ? y1 + s->margin : s->size;
    paint(s, ya, yb, NULL, s->label, y0, y1, count);
    develop(s, ya, y0, y1, rgb);
    if (label)
        memcpy(label, s->label + (size_t)(y0 - ya) * s->size, (size_t)rows * s->size);
    return HS_OK;
}

int hs_sim_nlevels(uint32_t size)
{
    int n = 1;
    while (size > 1024) {
        size = (size + 1) / 2;
        n++;
    }
    return n;
}

int hs_sim_slide_write(hs_sim_slide *s, const char *path, hs_tiff_compression comp, int jpeg_quality,
                       hs_tiff_subsampling sub, unsigned long count[HS_NCLASS], hs_error *err)
{
    if (!s || !path)
        return hs_error_set(err, HS_EINVAL, "simulate: NULL argument");
    uint8_t *band = malloc((size_t)s->size * HS_SIM_BAND * 3);
    if (!band)
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory");
    hs_tiffw *w = NULL;
    int rc = hs_tiffw_open(&w, path, s->size, s->size, HS_SIM_BAND, hs_sim_nlevels(s->size), comp, jpeg_quality,
                           HS_SIM_MPP, err);
    if (rc == HS_OK)
        rc = hs_tiffw_set_subsampling(w, sub, err);
    unsigned long total[HS_NCLASS] = {0, 0, 0, 0};
    for (uint32_t y0 = 0; rc == HS_OK && y0 < s->size; y0 += HS_SIM_BAND) {
        uint32_t rows = s->size - y0 < HS_SIM_BAND ? s->size - y0 : HS_SIM_BAND;
        unsigned long c[HS_NCLASS];
        rc = hs_sim_slide_render(s, y0, rows, band, NULL, c, err);
        if (rc != HS_OK)
            break;
        for (int k = 0; k < HS_NCLASS; k++)
            total[k] += c[k];
        rc = hs_tiffw_write_band(w, band, rows, err);
    }
    free(band);
    if (rc != HS_OK) {
        hs_tiffw_abort(w);
        return rc;
    }
    rc = hs_tiffw_close(w, err);
    if (rc != HS_OK) {
        remove(path);
        return rc;
    }
    if (count)
        memcpy(count, total, sizeof total);
    return HS_OK;
}

/* ------------------------------------------------------------------ cohort */

/* Survival model constants (docs/simulate.md): months; Weibull shape; 60-month baseline cumulative hazards. */
#define SURV_SHAPE 1.2
#define SURV_H_REC60 0.35
#define SURV_H_DEATH60 0.15
#define SURV_ACCRUAL 60.0
#define SURV_FOLLOWUP 60.0
#define SURV_LOSS_RATE 0.001
#define AGE_MEAN 57.0
#define AGE_SD 11.0

static void mixture(double f[HS_NCLASS], double f0, double f1, double f2, double f3)
{
    f[0] = f0;
    f[1] = f1;
    f[2] = f2;
    f[3] = f3;
}

/* Builds the class mixtures of a design for its pattern and call (docs/simulate.md, "Class mixtures"). */
static void design_mix(hs_sim_design *d, rng *r)
{
    double m, f1;
    d->zone1 = 0.0;
    d->nregion = 0;
    mixture(d->mix[1], 1.0, 0.0, 0.0, 0.0);
    switch (d->pattern) {
    case HS_PATTERN_HOMOGENEOUS:
        m = rng_range(r, 0.0, 0.005);
        switch (d->call) {
        case HS_CALL_0:
            f1 = d->ultralow ? rng_range(r, 0.045, 0.07) : 0.0;
            mixture(d->mix[0], 1.0 - f1, f1, 0.0, 0.0);
            m = 0.0;
            break;
        case HS_CALL_1:
            f1 = rng_range(r, 0.25, 0.85);
            mixture(d->mix[0], 1.0 - f1 - m, f1, m, 0.0);
            break;
        case HS_CALL_2: mixture(d->mix[0], 0.0, m, 1.0 - m, 0.0); break;
        default: {
            double s3 = rng_range(r, 0.45, 0.95);
            mixture(d->mix[0], 0.0, m, (1.0 - m) * (1.0 - s3), (1.0 - m) * s3);
        }
        }
        break;
    case HS_PATTERN_SCATTERED:
        m = rng_range(r, 0.05, 0.07);
        switch (d->call) {
        case HS_CALL_0: mixture(d->mix[0], 1.0 - m, 0.0, m, 0.0); break;
        case HS_CALL_1:
            f1 = rng_range(r, 0.25, 0.70);
            mixture(d->mix[0], 1.0 - m - f1, f1, m, 0.0);
            break;
        default:
            f1 = rng_range(r, 0.10, 0.50);
            mixture(d->mix[0], 1.0 - m - f1, f1, 0.0, m);
        }
        break;
    default: {
        /* clustered, mosaic: minority 25-45%, either phenotype */
        m = rng_range(r, 0.25, 0.45);
        int high_minor = rng_unif(r) < 0.5;
        double h = high_minor ? m : 1.0 - m, s1 = rng_unif(r), s3 = 0.0;
        if (d->call == HS_CALL_3)
            s3 = rng_range(r, 0.6, 1.0);
        double lowmix[HS_NCLASS] = {1.0 - s1, s1, 0.0, 0.0}, highmix[HS_NCLASS] = {0.0, 0.0, 1.0 - s3, s3};
        if (d->pattern == HS_PATTERN_MOSAIC) {
            for (int k = 0; k < HS_NCLASS; k++)
                d->mix[0][k] = (1.0 - h) * lowmix[k] + h * highmix[k];
        } else {
            memcpy(d->mix[0], high_minor ? lowmix : highmix, sizeof lowmix);
            memcpy(d->mix[1], high_minor ? highmix : lowmix, sizeof lowmix);
            d->zone1 = m;
            d->nregion = rng_unif(r) < 0.5 ? 1 : 2;
        }
    }
    }
    d->minority = m;
    for (int k = 0; k < HS_NCLASS; k++)
        d->planted[k] = (1.0 - d->zone1) * d->mix[0][k] + d->zone1 * d->mix[1][k];
}

/* Pattern, call and ultralow flag of every patient of block b (4 patients). */
static void block_plan(uint64_t seed, size_t b, hs_pattern pat[4], hs_call call[4], int ultra[4])
{
    rng r;
    rng_seed(&r, seed, TAG_BLOCK, b);
    hs_pattern order[4] = {HS_PATTERN_HOMOGENEOUS, HS_PATTERN_CLUSTERED, HS_PATTERN_MOSAIC, HS_PATTERN_SCATTERED};
    for (int k = 3; k > 0; k--) {
        int t = (int)(rng_next(&r) % (uint64_t)(k + 1));
        hs_pattern tmp = order[k];
        order[k] = order[t];
        order[t] = tmp;
    }
    int all_calls = b == 0 || rng_unif(&r) < 0.5;
    int swap_low = rng_unif(&r) < 0.5, swap_high = rng_unif(&r) < 0.5;
    for (int q = 0; q < 4; q++) {
        hs_pattern p = order[q];
        hs_call c;
        if (all_calls) {
            /* homogeneous and scattered share {0, 1+}; clustered and mosaic share {2+, 3+} */
            if (p == HS_PATTERN_HOMOGENEOUS || p == HS_PATTERN_SCATTERED)
                c = (p == HS_PATTERN_HOMOGENEOUS) != swap_low ? HS_CALL_0 : HS_CALL_1;
            else
                c = (p == HS_PATTERN_CLUSTERED) != swap_high ? HS_CALL_2 : HS_CALL_3;
        } else if (p == HS_PATTERN_SCATTERED) {
            c = (hs_call)(rng_next(&r) % 3);
        } else {
            c = rng_unif(&r) < 0.5 ? HS_CALL_2 : HS_CALL_3;
        }
        pat[q] = p;
        call[q] = c;
        ultra[q] = b == 0 || rng_unif(&r) < 0.5;
    }
}

/* Age, grade and the DFS/OS times of one patient (docs/simulate.md, "Survival"). */
static void draw_survival(hs_sim_patient *pt, double effect, rng *r)
{
    double age = nearbyint(AGE_MEAN + AGE_SD * rng_normal(r));
    pt->age = age < 25 ? 25 : age > 90 ? 90 : age;
    double ug = rng_unif(r);
    pt->grade = ug < 0.20 ? 1 : ug < 0.65 ? 2 : 3;
    double lp = log(effect) * pt->heterogeneous + HS_SIM_BETA_AGE * (pt->age - 55.0) +
                HS_SIM_BETA_GRADE * (pt->grade - 2);
    /* Gumbel copula (theta 2) for (recurrence, death) via a positive 1/2-stable frailty V = 1/(2 Z^2) */
    double z = rng_normal(r);
    double v = 1.0 / (2.0 * z * z);
    double e1 = sqrt(rng_exp(r) / v), e2 = sqrt(rng_exp(r) / v);
    double lam_r = 60.0 / pow(SURV_H_REC60, 1.0 / SURV_SHAPE), lam_d = 60.0 / pow(SURV_H_DEATH60, 1.0 / SURV_SHAPE);
    double t_rec = lam_r * pow(e1 * exp(-lp), 1.0 / SURV_SHAPE);
    double t_os = lam_d * pow(e2 * exp(-lp), 1.0 / SURV_SHAPE);
    double t_dfs = t_rec < t_os ? t_rec : t_os;
    double c_admin = SURV_FOLLOWUP + SURV_ACCRUAL * rng_unif(r);
    double c_loss = rng_exp(r) / SURV_LOSS_RATE;
    double cens = c_admin < c_loss ? c_admin : c_loss;
    double dfs = t_dfs < cens ? t_dfs : cens, os = t_os < cens ? t_os : cens;
    pt->dfs_event = t_dfs <= cens;
    pt->os_event = t_os <= cens;
    pt->dfs_time = fmax(0.01, nearbyint(dfs * 100.0) / 100.0);
    pt->os_time = fmax(0.01, nearbyint(os * 100.0) / 100.0);
}

int hs_sim_cohort_alloc(hs_sim_cohort **out, size_t n, uint64_t seed, double effect, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "simulate: NULL argument");
    *out = NULL;
    if (n == 0 || n > 100000000)
        return hs_error_set(err, HS_EINVAL, "simulate: number of patients must be 1..100000000");
    if (!(effect > 0.0) || !isfinite(effect))
        return hs_error_set(err, HS_EINVAL, "simulate: the hazard ratio must be positive and finite");
    hs_sim_cohort *c = calloc(1, sizeof *c);
    if (c)
        c->patient = calloc(n, sizeof *c->patient);
    if (!c || !c->patient) {
        hs_sim_cohort_free(c);
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory for %zu patients", n);
    }
    c->n = n;
    c->seed = seed;
    c->effect = effect;
    int digits = 3;
    for (size_t m = n; m >= 1000; m /= 10)
        digits++;
    hs_pattern pat[4];
    hs_call call[4];
    int ultra[4];
    for (size_t i = 0; i < n; i++) {
        hs_sim_patient *pt = &c->patient[i];
        if (i % 4 == 0)
            block_plan(seed, i / 4, pat, call, ultra);
        snprintf(pt->id, sizeof pt->id, "P%0*zu", digits < 9 ? digits : 9, i + 1);
        snprintf(pt->slide, sizeof pt->slide, "slides/%s.tif", pt->id);
        rng r;
        rng_seed(&r, seed, TAG_DESIGN, i);
        hs_sim_design *d = &pt->design;
        d->seed = rng_next(&r);
        d->pattern = pat[i % 4];
        d->call = call[i % 4];
        d->ultralow = d->call == HS_CALL_0 && (d->pattern == HS_PATTERN_SCATTERED || ultra[i % 4]);
        design_mix(d, &r);
        pt->heterogeneous = d->pattern != HS_PATTERN_HOMOGENEOUS;
        rng_seed(&r, seed, TAG_SURV, i);
        draw_survival(pt, effect, &r);
        pt->ish_u = rng_unif(&r);
        pt->ish_ppos = d->planted[3] > 0.0 && d->planted[3] <= 0.10 ? 0.5 : 0.25;
        pt->ihc_score = HS_CALL_NA;
        pt->ish = HS_ISH_UNKNOWN;
        for (int k = 0; k < HS_NCLASS; k++)
            pt->p[k] = NAN;
    }
    *out = c;
    return HS_OK;
}

void hs_sim_cohort_free(hs_sim_cohort *c)
{
    if (!c)
        return;
    free(c->patient);
    free(c->control);
    free(c);
}

/* v0 turned by theta radians about the axis perpendicular to it picked by phi (any angle), as a unit vector. */
static void turn(const double v0[3], double theta, double phi, double out[3])
{
    double n0 = norm3(v0), v[3] = {v0[0] / n0, v0[1] / n0, v0[2] / n0};
    /* e1, e2: an orthonormal basis of the plane perpendicular to v (v is never parallel to the blue axis) */
    double e1[3] = {v[1], -v[0], 0.0}, n1 = norm3(e1);
    for (int c = 0; c < 3; c++)
        e1[c] /= n1;
    double e2[3] = {v[1] * e1[2] - v[2] * e1[1], v[2] * e1[0] - v[0] * e1[2], v[0] * e1[1] - v[1] * e1[0]};
    for (int c = 0; c < 3; c++)
        out[c] = cos(theta) * v[c] + sin(theta) * (cos(phi) * e1[c] + sin(phi) * e2[c]);
}

/*
 * The staining run and scanner of batch b (docs/simulate.md, "Varied slides"),
 * on top of the unvaried look; the geometry is left to each slide.
 */
static void batch_look(uint64_t seed, size_t b, hs_sim_vary *v)
{
    rng r;
    rng_seed(&r, seed, TAG_BATCH, b);
    hs_sim_vary_default(v);
    const double deg = M_PI / 180.0;
    double th = rng_range(&r, 0.0, 6.0) * deg, ph = rng_range(&r, 0.0, 2.0 * M_PI);
    turn(STAIN_H, th, ph, v->stain_h);
    th = rng_range(&r, 0.0, 6.0) * deg;
    ph = rng_range(&r, 0.0, 2.0 * M_PI);
    turn(STAIN_DAB, th, ph, v->stain_dab);
    v->dab_gain = rng_range(&r, 0.7, 1.3);
    v->counterstain = rng_range(&r, 0.7, 1.3);
    v->bleed = rng_range(&r, 0.0, 0.05);
    v->membrane_um = rng_range(&r, 0.7, 2.0);
    v->blur_px = rng_range(&r, 0.0, 1.5);
    v->noise_sd = rng_range(&r, 0.0, 3.0);
    v->jpeg_quality = 70 + (int)(rng_next(&r) % 26);
    v->subsampling = rng_unif(&r) < 0.5 ? HS_TIFF_YCBCR_420 : HS_TIFF_YCBCR_444;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* One slide of a batch: v holds the batch's look; adds the per-slide jitter and draws the slide's geometry. */
static void slide_look(rng *r, hs_sim_vary *v)
{
    v->dab_gain *= rng_range(r, 0.95, 1.05);
    v->counterstain *= rng_range(r, 0.95, 1.05);
    v->membrane_um = clamp(v->membrane_um + rng_range(r, -0.1, 0.1), 0.7, 2.0);
    v->blur_px = clamp(v->blur_px + rng_range(r, -0.15, 0.15), 0.0, 1.5);
    v->cell_radius_um = rng_range(r, 5.0, 12.0);
    v->nucleus_frac = rng_range(r, 0.40, 0.72);
    v->fibroblast_density = rng_range(r, 0.5, 2.0);
    v->inflammatory_per_mm2 = rng_range(r, 0.0, 300.0);
}

int hs_sim_cohort_vary(hs_sim_cohort *c, size_t batch_size, hs_error *err)
{
    if (!c)
        return hs_error_set(err, HS_EINVAL, "simulate: NULL argument");
    if (c->vary)
        return hs_error_set(err, HS_EINVAL, "simulate: the cohort is already varied");
    if (batch_size == 0)
        return hs_error_set(err, HS_EINVAL, "simulate: the batch size must be at least 1");
    size_t nb = c->n / batch_size + (c->n % batch_size != 0);
    hs_sim_control *ctl = calloc(nb, sizeof *ctl);
    if (!ctl)
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory for %zu batches", nb);
    int digits = 2;
    for (size_t m = nb; m >= 100; m /= 10)
        digits++;
    for (size_t b = 0; b < nb; b++) {
        hs_sim_vary look;
        batch_look(c->seed, b, &look);
        hs_sim_control *ct = &ctl[b];
        snprintf(ct->id, sizeof ct->id, "B%0*zu", digits < 9 ? digits : 9, b + 1);
        snprintf(ct->slide, sizeof ct->slide, "controls/%s.tif", ct->id);
        rng r;
        rng_seed(&r, c->seed, TAG_CONTROL, b);
        ct->seed = rng_next(&r);
        ct->vary = look;
        slide_look(&r, &ct->vary);
        int rc = hs_sim_vary_realise(&ct->vary, err);
        for (size_t i = b * batch_size; rc == HS_OK && i < c->n && i < (b + 1) * batch_size; i++) {
            hs_sim_patient *pt = &c->patient[i];
            rng_seed(&r, c->seed, TAG_LOOK, i);
            pt->batch = b;
            pt->vary = look;
            slide_look(&r, &pt->vary);
            rc = hs_sim_vary_realise(&pt->vary, err);
        }
        if (rc != HS_OK) { /* cannot happen: every draw is within the accepted ranges */
            free(ctl);
            return rc;
        }
    }
    c->vary = 1;
    c->batch_size = batch_size;
    c->nbatch = nb;
    c->control = ctl;
    return HS_OK;
}

void hs_sim_cohort_set_truth(hs_sim_cohort *c, size_t i, const unsigned long count[HS_NCLASS])
{
    hs_sim_patient *pt = &c->patient[i];
    unsigned long n = 0;
    for (int k = 0; k < HS_NCLASS; k++)
        n += pt->count[k] = count[k];
    for (int k = 0; k < HS_NCLASS; k++)
        pt->p[k] = n ? (double)count[k] / (double)n : NAN;
    hs_her2_params hp;
    hs_her2_params_default(&hp);
    pt->ihc_score = hs_her2_call(&hp, pt->p, n);
    pt->ish = pt->ihc_score != HS_CALL_2 ? HS_ISH_UNKNOWN : pt->ish_u < pt->ish_ppos ? HS_ISH_POSITIVE : HS_ISH_NEGATIVE;
    pt->has_truth = 1;
}

/* A table being written to dir/name under a temporary name (util/hs_atomic.h). */
typedef struct out_table {
    char *path, *tmp;
} out_table;

/* Opens dir/name for writing under its temporary name; o keeps the names. */
static int open_in(const char *dir, const char *name, FILE **f, out_table *o, hs_error *err)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    o->tmp = NULL;
    if (!(o->path = malloc(len)))
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory");
    snprintf(o->path, len, "%s/%s", dir, name);
    if (!(*f = hs_atomic_open(o->path, "w", &o->tmp, err))) {
        free(o->path);
        return HS_EIO;
    }
    return HS_OK;
}

/* Checks every write, syncs, and gives the table its name. */
static int close_out(FILE *f, out_table *o, hs_error *err)
{
    int rc = hs_atomic_commit(f, o->tmp, o->path, err);
    free(o->path);
    return rc;
}

static void put_frac(FILE *f, double x)
{
    if (isnan(x))
        fputs(",NA", f);
    else
        fprintf(f, ",%.17g", x);
}

/* The look columns of truth.csv, after the batch. */
static void put_look(FILE *f, const hs_sim_vary *v)
{
    fprintf(f, ",%.17g,%.17g,%.17g,%.17g,%.17g", v->cell_radius_um, v->nucleus_frac, v->membrane_um, v->blur_px,
            v->noise_sd);
    if (v->jpeg_quality > 0)
        fprintf(f, ",%d,%s", v->jpeg_quality, v->subsampling == HS_TIFF_YCBCR_444 ? "444" : "420");
    else
        fputs(",NA,NA", f);
    fprintf(f, ",%.17g,%.17g,%.17g", v->dab_gain, v->counterstain, v->bleed);
    for (int c = 0; c < 3; c++)
        fprintf(f, ",%.17g", v->stain_h[c]);
    for (int c = 0; c < 3; c++)
        fprintf(f, ",%.17g", v->stain_dab[c]);
    fprintf(f, ",%.17g,%.17g,%.17g,%.17g", v->angle_h_deg, v->angle_dab_deg, v->fibroblast_density,
            v->inflammatory_per_mm2);
}

/* dir/controls.csv: one row per core of every batch's control slide. */
static int write_controls(const hs_sim_cohort *c, const char *dir, hs_error *err)
{
    out_table path;
    FILE *f;
    int rc = open_in(dir, "controls.csv", &f, &path, err);
    if (rc != HS_OK)
        return rc;
    fputs("batch,slide,class,x0_um,y0_um,x1_um,y1_um,n_cells\n", f);
    for (size_t b = 0; b < c->nbatch; b++) {
        const hs_sim_control *ct = &c->control[b];
        for (int k = 0; k < HS_NCLASS; k++) {
            const hs_sim_core *q = &ct->core[k];
            fprintf(f, "%s,%s,%s", ct->id, ct->slide, hs_her2_call_name((hs_call)k));
            if (ct->has_truth)
                fprintf(f, ",%.17g,%.17g,%.17g,%.17g,%lu\n", q->x0_um, q->y0_um, q->x1_um, q->y1_um, q->n_cells);
            else
                fputs(",NA,NA,NA,NA,NA\n", f);
        }
    }
    return close_out(f, &path, err);
}

int hs_sim_cohort_write_tables(const hs_sim_cohort *c, const char *dir, hs_error *err)
{
    if (!c || !dir)
        return hs_error_set(err, HS_EINVAL, "simulate: NULL argument");
    out_table path;
    FILE *f;
    int rc = open_in(dir, "manifest.csv", &f, &path, err);
    if (rc != HS_OK)
        return rc;
    fputs(c->vary ? "patient_id,slide,dfs_time,dfs_event,os_time,os_event,age,grade,ish,batch\n"
                  : "patient_id,slide,dfs_time,dfs_event,os_time,os_event,age,grade,ish\n",
          f);
    for (size_t i = 0; i < c->n; i++) {
        const hs_sim_patient *pt = &c->patient[i];
        const char *ish = pt->ish == HS_ISH_POSITIVE ? "positive" : pt->ish == HS_ISH_NEGATIVE ? "negative" : "NA";
        fprintf(f, "%s,%s,%.2f,%d,%.2f,%d,%.0f,%d,%s", pt->id, pt->slide, pt->dfs_time, pt->dfs_event, pt->os_time,
                pt->os_event, pt->age, pt->grade, ish);
        if (c->vary)
            fprintf(f, ",%s", c->control[pt->batch].id);
        fputc('\n', f);
    }
    if ((rc = close_out(f, &path, err)) != HS_OK)
        return rc;
    if ((rc = open_in(dir, "truth.csv", &f, &path, err)) != HS_OK)
        return rc;
    fputs("patient_id,slide,p0,p1,p2,p3,ihc_score,pattern,heterogeneous", f);
    if (c->vary)
        fputs(",batch,cell_radius_um,nucleus_frac,membrane_um,blur_px,noise_sd,jpeg_quality,subsampling,dab_gain,"
              "counterstain,bleed,stain_h_r,stain_h_g,stain_h_b,stain_dab_r,stain_dab_g,stain_dab_b,angle_h_deg,"
              "angle_dab_deg,fibroblast_density,inflammatory_per_mm2,n_cells",
              f);
    fputc('\n', f);
    for (size_t i = 0; i < c->n; i++) {
        const hs_sim_patient *pt = &c->patient[i];
        fprintf(f, "%s,%s", pt->id, pt->slide);
        for (int k = 0; k < HS_NCLASS; k++)
            put_frac(f, pt->has_truth ? pt->p[k] : NAN);
        fprintf(f, ",%s,%s,%d", pt->has_truth ? hs_her2_call_name(pt->ihc_score) : "NA",
                hs_her2_pattern_name(pt->design.pattern), pt->heterogeneous);
        if (c->vary) {
            fprintf(f, ",%s", c->control[pt->batch].id);
            put_look(f, &pt->vary);
            if (pt->has_truth)
                fprintf(f, ",%lu", pt->count[0] + pt->count[1] + pt->count[2] + pt->count[3]);
            else
                fputs(",NA", f);
        }
        fputc('\n', f);
    }
    if ((rc = close_out(f, &path, err)) != HS_OK)
        return rc;
    return c->vary ? write_controls(c, dir, err) : HS_OK;
}

/* ------------------------------------------------------------------ whole cohort */

void hs_sim_options_default(hs_sim_options *o)
{
    memset(o, 0, sizeof *o);
    o->size = 4096;
    o->effect = 2.0;
    o->comp = HS_TIFF_JPEG;
    o->jpeg_quality = 90;
    o->batch_size = HS_SIM_BATCH_SIZE;
}

/* mkdir -p; 0 or -1 with errno. */
static int make_dirs(const char *path)
{
    char *tmp = strdup(path);
    if (!tmp)
        return -1;
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char ch = *p;
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
                free(tmp);
                return -1;
            }
            *p = ch;
            if (!ch)
                break;
        }
    }
    free(tmp);
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/*
 * Writes slide s to dir/rel with the options' compression (quality and
 * subsampling as given) and checks that the rendered counts are the planned
 * ones; count receives them.
 */
static int write_checked(hs_sim_slide *s, const char *dir, const char *rel, const char *what,
                         const hs_sim_options *o, int quality, hs_tiff_subsampling sub, unsigned long count[HS_NCLASS],
                         hs_error *err)
{
    size_t len = strlen(dir) + strlen(rel) + 2;
    char *path = malloc(len);
    if (!path)
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory");
    snprintf(path, len, "%s/%s", dir, rel);
    int rc = hs_sim_slide_write(s, path, o->comp, quality, sub, count, err);
    free(path);
    if (rc != HS_OK)
        return rc;
    unsigned long planned[HS_NCLASS];
    hs_sim_slide_planned(s, planned);
    if (memcmp(planned, count, sizeof planned) != 0)
        return hs_error_set(err, HS_EDATA, "simulate: %s: rendered cell counts differ from the plan", what);
    return HS_OK;
}

/* Creates dir/sub (and dir). */
static int make_sub(const char *dir, const char *sub, hs_error *err)
{
    size_t len = strlen(dir) + strlen(sub) + 2;
    char *path = malloc(len);
    if (!path)
        return hs_error_set(err, HS_ENOMEM, "simulate: out of memory");
    snprintf(path, len, "%s/%s", dir, sub);
    int rc = make_dirs(path) == 0 ? HS_OK : hs_error_set(err, HS_EIO, "cannot create %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

int hs_sim_write(const char *dir, const hs_sim_options *o, hs_error *err)
{
    if (!dir || !o || !*dir)
        return hs_error_set(err, HS_EINVAL, "simulate: NULL argument");
    if (o->size < HS_SIM_MIN_SIZE || o->size > HS_SIM_MAX_SIZE)
        return hs_error_set(err, HS_EINVAL, "simulate: slide size %u outside %d..%d pixels", o->size, HS_SIM_MIN_SIZE,
                            HS_SIM_MAX_SIZE);
    hs_sim_cohort *c = NULL;
    int rc = hs_sim_cohort_alloc(&c, o->npatient, o->seed, o->effect, err);
    if (rc == HS_OK && o->vary)
        rc = hs_sim_cohort_vary(c, o->batch_size, err);
    if (rc == HS_OK && c->vary && o->comp != HS_TIFF_JPEG) {
        /* the drawn JPEG settings are not used: the tables say NA */
        for (size_t i = 0; i < c->n; i++)
            c->patient[i].vary.jpeg_quality = 0;
        for (size_t b = 0; b < c->nbatch; b++)
            c->control[b].vary.jpeg_quality = 0;
    }
    if (rc == HS_OK)
        rc = make_sub(dir, "slides", err);
    if (rc == HS_OK && c->vary)
        rc = make_sub(dir, "controls", err);
    for (size_t i = 0; rc == HS_OK && i < c->n; i++) {
        hs_sim_patient *pt = &c->patient[i];
        hs_sim_slide *s = NULL;
        unsigned long count[HS_NCLASS];
        rc = hs_sim_slide_alloc_vary(&s, &pt->design, c->vary ? &pt->vary : NULL, o->size, err);
        if (rc == HS_OK)
            rc = write_checked(s, dir, pt->slide, pt->id, o, c->vary ? pt->vary.jpeg_quality : o->jpeg_quality,
                               c->vary ? pt->vary.subsampling : HS_TIFF_YCBCR_420, count, err);
        hs_sim_slide_free(s);
        if (rc == HS_OK) {
            hs_sim_cohort_set_truth(c, i, count);
            if (o->progress)
                o->progress(o->progress_ctx, i + 1, c->n, pt);
        }
    }
    for (size_t b = 0; rc == HS_OK && c->vary && b < c->nbatch; b++) {
        hs_sim_control *ct = &c->control[b];
        hs_sim_slide *s = NULL;
        unsigned long count[HS_NCLASS];
        rc = hs_sim_control_alloc(&s, ct->seed, &ct->vary, o->size, err);
        if (rc == HS_OK)
            rc = write_checked(s, dir, ct->slide, ct->id, o, ct->vary.jpeg_quality, ct->vary.subsampling, count, err);
        if (rc == HS_OK) {
            (void)hs_sim_control_cores(s, ct->core);
            ct->has_truth = 1;
            if (o->control_progress)
                o->control_progress(o->progress_ctx, b + 1, c->nbatch, ct);
        }
        hs_sim_slide_free(s);
    }
    if (rc == HS_OK)
        rc = hs_sim_cohort_write_tables(c, dir, err);
    hs_sim_cohort_free(c);
    return rc;
}
