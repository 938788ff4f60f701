/*
 * simulate: synthetic HER2 IHC cohorts with planted truth.
 *
 * A cohort is a list of patients, each with a slide design (spatial pattern,
 * per-class mixture of tumour cells), covariates (age, grade) and DFS/OS drawn
 * from a Cox model in which heterogeneity multiplies the hazard by a planted
 * hazard ratio.  A slide is rendered band by band (Beer-Lambert from the
 * Ruifrok-Johnston H-DAB vectors): tissue with glass margins and holes,
 * tumour nests of cells on a jittered hexagonal lattice (nucleus, cytoplasm,
 * membrane whose DAB intensity and completeness follow the cell's class),
 * stroma with sparse fibroblasts.  Every cell is a pure function of the slide
 * seed and its lattice coordinates, so any band renders without the rest of
 * the slide and memory stays O(width * band).
 *
 * A varied slide (hs_sim_vary; `hetsurv simulate --vary`) also has the look of
 * one staining run and scanner: rotated stain vectors, DAB gain, counterstain
 * strength, hematoxylin bleeding into DAB, membrane width, focus blur, read
 * noise, JPEG settings, and its own cell size, nucleus size, fibroblast and
 * lymphocyte densities.  Control slides hold four cores of known class (0, 1+,
 * 2+, 3+) rendered with a batch's look.  The model and its constants are
 * documented in docs/simulate.md.  Nothing here prints.
 */
#ifndef HS_SIMULATE_H
#define HS_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "scoring/her2.h"
#include "scoring/tiffwriter.h"
#include "util/hs_error.h"

#define HS_SIM_MPP 0.5          /* level-0 microns per pixel */
#define HS_SIM_BAND 256         /* rows per rendered band (and TIFF tile side) */
#define HS_SIM_MIN_SIZE 256     /* smallest slide side accepted, pixels */
#define HS_SIM_MAX_SIZE 200000  /* largest slide side accepted, pixels */

/* Survival model (docs/simulate.md): log-HR per year of age above 55 and per grade step above 2. */
#define HS_SIM_BETA_AGE 0.02
#define HS_SIM_BETA_GRADE 0.35

/* Per-pixel labels written by hs_sim_slide_render: kind in the low 4 bits, tumour-cell class in bits 4-5. */
enum { HS_SIM_GLASS = 0, HS_SIM_STROMA = 1, HS_SIM_FIBROBLAST = 2, HS_SIM_CYTOPLASM = 3, HS_SIM_NUCLEUS = 4,
       HS_SIM_MEMBRANE = 5, HS_SIM_LYMPHOCYTE = 6 };
#define HS_SIM_LABEL_KIND(l) ((l) & 15)
#define HS_SIM_LABEL_CLASS(l) ((hs_class)(((l) >> 4) & 3))

#define HS_SIM_BATCH_SIZE 8     /* default patients per staining batch (--vary) */

/*
 * The look of a varied slide: what its staining run, its scanner and its
 * tissue make of the planted cells (docs/simulate.md, "Varied slides", gives
 * the ranges drawn by hs_sim_cohort_vary).  Values are realised: a renderer
 * rounds some to what it can draw (lengths to 1/32 um, gains to 1/65536, the
 * fibroblast grid to whole pixels) and hs_sim_vary_realise does the same, so
 * the values a cohort records are the values its slides use.
 */
typedef struct hs_sim_vary {
    double cell_radius_um;           /* tumour cell radius r: lattice spacing 2r, region limit 7r/6; 3..20 */
    double nucleus_frac;             /* mean nucleus semi-major axis / r; 0.2..0.9 */
    double membrane_um;              /* stained band inside each cell's region, 0.25 um .. r/2 */
    double blur_px;                  /* Gaussian focus blur sigma in level-0 pixels, 0..5 (0: sharp) */
    double noise_sd;                 /* Gaussian read noise, 8-bit levels per channel, 0..20 */
    int jpeg_quality;                /* 1..100; 0 when the slide is not written as JPEG */
    hs_tiff_subsampling subsampling; /* JPEG chroma subsampling */
    double dab_gain;                 /* multiplies every DAB concentration; 0.1..5 */
    double counterstain;             /* multiplies every hematoxylin concentration; 0.1..5 */
    double bleed;                    /* each pixel's DAB += bleed * its hematoxylin; 0..1 */
    double stain_h[3], stain_dab[3]; /* OD vectors (R, G, B), positive; realised as unit vectors */
    double angle_h_deg, angle_dab_deg; /* realised: their angles from the Ruifrok-Johnston vectors */
    double fibroblast_density;       /* fibroblast candidates relative to the unvaried slides; 0..4 */
    double inflammatory_per_mm2;     /* lymphocytes per mm^2 of stroma, 0..625 */
} hs_sim_vary;

/*
 * The unvaried values (r 6 um, nucleus 7/12 r, membrane 1 um, no blur or noise,
 * quality 90 at 4:2:0, gains 1, no bleeding, the Ruifrok-Johnston vectors,
 * fibroblasts as unvaried, no lymphocytes): a starting point for a look made
 * by hand.  A slide drawn with them is close to, not the same as, one drawn
 * without a look: its nuclei follow the varied rule.
 */
void hs_sim_vary_default(hs_sim_vary *v);

/*
 * Checks v against the ranges of hs_sim_vary and rounds it to what a renderer
 * draws (unit stain vectors and their angles included).  HS_EINVAL, naming the
 * value, when v is out of range; v is then unchanged.
 */
int hs_sim_vary_realise(hs_sim_vary *v, hs_error *err) HS_RESULT_USED;

/* What is planted in one slide. */
typedef struct hs_sim_design {
    uint64_t seed;                   /* seeds tissue, nests, regions and cells */
    hs_pattern pattern;
    hs_call call;                    /* ASCO/CAP call the mixture was built for */
    int ultralow;                    /* call 0 only: 1 when built as HER2-ultralow, 0 as null */
    double minority;                 /* planted minority-phenotype fraction (high = 2+/3+, low = 0/1+) */
    double mix[2][HS_NCLASS];        /* class mixture of zone 0 and zone 1 (clustered regions), each sums to 1 */
    double zone1;                    /* share of tumour cells in zone 1 (clustered), else 0 */
    int nregion;                     /* clustered: 1 or 2 contiguous regions, else 0 */
    double planted[HS_NCLASS];       /* overall mixture (1 - zone1) mix[0] + zone1 mix[1] */
} hs_sim_design;

/* One patient of a cohort. */
typedef struct hs_sim_patient {
    char id[24];                     /* "P001", ... */
    char slide[48];                  /* "slides/P001.tif", relative to the cohort folder */
    hs_sim_design design;
    int heterogeneous;               /* pattern != homogeneous: the Cox covariate */
    double age;                      /* years (integer) */
    int grade;                       /* 1, 2, 3 */
    double dfs_time, os_time;        /* months, rounded to 0.01; dfs_time <= os_time */
    int dfs_event, os_event;         /* os_event implies dfs_event */
    double ish_u, ish_ppos;          /* uniform and P(positive) deciding the ISH of a 2+ slide */
    /* truth, set by hs_sim_cohort_set_truth from the rendered cells */
    int has_truth;
    unsigned long count[HS_NCLASS];  /* tumour cells per class */
    double p[HS_NCLASS];             /* count / total (NAN when no cells) */
    hs_call ihc_score;               /* hs_her2_call(default params, p) */
    hs_ish ish;                      /* 2+ only: drawn positive/negative; else unknown (NA) */
    /* varied cohorts only (hs_sim_cohort_vary) */
    size_t batch;                    /* index of the patient's staining batch */
    hs_sim_vary vary;                /* the slide's realised look */
} hs_sim_patient;

/* A tissue core of a control slide. */
typedef struct hs_sim_core {
    hs_class cls;                    /* every tumour cell of the core has this class */
    double x0_um, y0_um, x1_um, y1_um; /* bounding rectangle, microns from the slide origin */
    unsigned long n_cells;           /* tumour cells planted in the core (centre inside the slide) */
} hs_sim_core;

/* The control slide of one staining batch (varied cohorts). */
typedef struct hs_sim_control {
    char id[24];                     /* "B01", ... */
    char slide[48];                  /* "controls/B01.tif", relative to the cohort folder */
    uint64_t seed;                   /* seeds its cells */
    hs_sim_vary vary;                /* the batch's staining and scanner, its own geometry */
    int has_truth;                   /* core filled from the rendered slide */
    hs_sim_core core[HS_NCLASS];     /* core k holds class k */
} hs_sim_control;

typedef struct hs_sim_cohort {
    size_t n;
    uint64_t seed;
    double effect;                   /* planted HR of heterogeneity */
    hs_sim_patient *patient;         /* n, owned */
    /* varied cohorts only (hs_sim_cohort_vary); vary 0 otherwise */
    int vary;
    size_t batch_size;               /* consecutive patients per batch */
    size_t nbatch;                   /* ceil(n / batch_size) */
    hs_sim_control *control;         /* nbatch, owned */
} hs_sim_cohort;

/*
 * Draws the designs, covariates and survival times of n >= 1 patients from
 * seed (patient i depends only on seed and i), with heterogeneity HR effect
 * (> 0, finite).  Patients come in blocks of 4 holding the four patterns in
 * a random order, so any cohort of >= 4 patients has every pattern; the
 * first block also holds the calls 0 (ultralow), 1+, 2+ and 3+.  Truth
 * fields are left unset.  HS_EINVAL, HS_ENOMEM; *out NULL on failure.
 */
int hs_sim_cohort_alloc(hs_sim_cohort **out, size_t n, uint64_t seed, double effect, hs_error *err) HS_RESULT_USED;
void hs_sim_cohort_free(hs_sim_cohort *c);

/*
 * Makes c a varied cohort: patients come in staining batches of batch_size
 * (>= 1) consecutive patients, each batch with its staining run and scanner
 * (stain vectors, DAB gain, counterstain, bleeding, membrane width, blur,
 * noise, JPEG quality and subsampling) and its control slide; each slide adds
 * a small jitter to some of them and draws its own geometry (cell and nucleus
 * size, fibroblast and lymphocyte densities).  Draws depend only on the seed,
 * the batch size and the patient's index; the designs and survival times are
 * unchanged.  HS_EINVAL (c already varied, batch_size 0), HS_ENOMEM.
 */
int hs_sim_cohort_vary(hs_sim_cohort *c, size_t batch_size, hs_error *err) HS_RESULT_USED;

/* Records the rendered class counts of patient i: p, ihc_score (default params) and ish follow. */
void hs_sim_cohort_set_truth(hs_sim_cohort *c, size_t i, const unsigned long count[HS_NCLASS]);

/*
 * Writes dir/manifest.csv (patient_id,slide,dfs_time,dfs_event,os_time,
 * os_event,age,grade,ish) and dir/truth.csv (patient_id,slide,p0,p1,p2,p3,
 * ihc_score,pattern,heterogeneous); dir must exist.  Patients without truth
 * get NA in the truth columns and ish.  A varied cohort adds the column batch
 * to the manifest, the batch and every value of the slide's look to the truth
 * (docs/simulate.md), and writes dir/controls.csv (batch,slide,class,x0_um,
 * y0_um,x1_um,y1_um,n_cells: one row per core, NA for controls not rendered).
 * HS_EIO.
 */
int hs_sim_cohort_write_tables(const hs_sim_cohort *c, const char *dir, hs_error *err) HS_RESULT_USED;

/* A slide renderer, planned for one design and size. */
typedef struct hs_sim_slide hs_sim_slide;

/*
 * Plans a size x size slide for design d (size HS_SIM_MIN_SIZE..HS_SIM_MAX_SIZE):
 * lays out tissue, nests and regions and fixes the class cut points so that
 * the realised class fractions match d's mixtures (one or two passes over the
 * cell lattice, no pixels).  HS_EINVAL, HS_ENOMEM; *out NULL on failure.
 */
int hs_sim_slide_alloc(hs_sim_slide **out, const hs_sim_design *d, uint32_t size, hs_error *err) HS_RESULT_USED;

/*
 * As hs_sim_slide_alloc, with the look v (realised as by hs_sim_vary_realise;
 * NULL: the unvaried slides, pixel for pixel).  HS_EINVAL also for a look out
 * of range.
 */
int hs_sim_slide_alloc_vary(hs_sim_slide **out, const hs_sim_design *d, const hs_sim_vary *v, uint32_t size,
                            hs_error *err) HS_RESULT_USED;

/*
 * Plans a size x size control slide with look v (not NULL): four round cores
 * on a 2 x 2 grid (radius min(L/5, 750 um) for a side of L um, centred in the
 * slide's quarters), each a solid sheet of tumour cells of one class: 0
 * (top left), 1+ (top right), 2+ (bottom left), 3+ (bottom right).  seed
 * seeds its cells.  HS_EINVAL, HS_ENOMEM.
 */
int hs_sim_control_alloc(hs_sim_slide **out, uint64_t seed, const hs_sim_vary *v, uint32_t size,
                         hs_error *err) HS_RESULT_USED;

/* The cores of a control slide with their planned cell counts (core k holds class k); 0, or -1 if s is not one. */
int hs_sim_control_cores(const hs_sim_slide *s, hs_sim_core core[HS_NCLASS]);

void hs_sim_slide_free(hs_sim_slide *s);

/* Side of the slide in pixels. */
uint32_t hs_sim_slide_size(const hs_sim_slide *s);

/* Class counts of the tumour cells the slide holds (centre inside the slide), known from planning. */
void hs_sim_slide_planned(const hs_sim_slide *s, unsigned long count[HS_NCLASS]);

/*
 * Renders rows y0 .. y0+rows-1 (1 <= rows <= HS_SIM_BAND, inside the slide)
 * into rgb (rows * size * 3 bytes, row-major RGB) and, when label is not NULL,
 * label (rows * size bytes, HS_SIM_* kinds, before any blur).  count (may be NULL) receives the
 * class counts of the tumour cells whose centre lies in these rows, so that
 * summing over the bands of a slide counts every cell once.  Deterministic;
 * bands may be rendered in any order.  HS_EINVAL on bad rows.
 */
int hs_sim_slide_render(hs_sim_slide *s, uint32_t y0, uint32_t rows, uint8_t *rgb, uint8_t *label,
                        unsigned long count[HS_NCLASS], hs_error *err) HS_RESULT_USED;

/*
 * Calls fn(ctx, x_um, y_um, class) for every tumour cell whose centre lies in
 * the slide (position of the centre from the slide origin), row by row.
 */
void hs_sim_slide_foreach_cell(hs_sim_slide *s, void (*fn)(void *ctx, double x_um, double y_um, hs_class k),
                               void *ctx);

/* Pyramid levels used for a side of size pixels: halvings until the smallest level is <= 1024 pixels. */
int hs_sim_nlevels(uint32_t size);

/*
 * Renders the slide into a pyramidal tiled TIFF at path (tiles HS_SIM_BAND,
 * hs_sim_nlevels levels, pixel size HS_SIM_MPP) with the given compression,
 * JPEG quality and JPEG chroma subsampling.  count receives the rendered class
 * counts.  Removes the partial file on failure.  HS_EIO, HS_ENOMEM, HS_EINVAL.
 */
int hs_sim_slide_write(hs_sim_slide *s, const char *path, hs_tiff_compression comp, int jpeg_quality,
                       hs_tiff_subsampling sub, unsigned long count[HS_NCLASS], hs_error *err) HS_RESULT_USED;

/* Options of a whole cohort. */
typedef struct hs_sim_options {
    size_t npatient;
    uint64_t seed;
    uint32_t size;                   /* level-0 side in pixels (default 4096: 2 mm) */
    double effect;                   /* planted HR of heterogeneity (default 2.0) */
    hs_tiff_compression comp;        /* default JPEG */
    int jpeg_quality;                /* default 90; varied cohorts draw it per batch instead */
    int vary;                        /* 1: varied slides and control slides (hs_sim_cohort_vary) */
    size_t batch_size;               /* patients per batch when varied (default HS_SIM_BATCH_SIZE) */
    /* called after each patient slide and each control slide (may be NULL) */
    void (*progress)(void *ctx, size_t done, size_t total, const hs_sim_patient *pt);
    void (*control_progress)(void *ctx, size_t done, size_t total, const hs_sim_control *ct);
    void *progress_ctx;
} hs_sim_options;

/* Defaults: 0 patients, seed 0, 4096 px, HR 2.0, JPEG 90, not varied, batches of 8, no progress callbacks. */
void hs_sim_options_default(hs_sim_options *o);

/*
 * Writes a whole cohort into dir (created if missing, with dir/slides):
 * slides/<id>.tif, manifest.csv and truth.csv; a varied cohort also writes
 * controls/<batch>.tif and controls.csv.  Same options, same bytes.
 * HS_EINVAL, HS_EIO, HS_ENOMEM, HS_EDATA (rendered counts differ from the plan).
 */
int hs_sim_write(const char *dir, const hs_sim_options *o, hs_error *err) HS_RESULT_USED;

#endif /* HS_SIMULATE_H */
