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
 * the slide and memory stays O(width * band).  The model and its constants
 * are documented in docs/simulate.md.  Nothing here prints.
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
       HS_SIM_MEMBRANE = 5 };
#define HS_SIM_LABEL_KIND(l) ((l) & 15)
#define HS_SIM_LABEL_CLASS(l) ((hs_class)(((l) >> 4) & 3))

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
} hs_sim_patient;

typedef struct hs_sim_cohort {
    size_t n;
    uint64_t seed;
    double effect;                   /* planted HR of heterogeneity */
    hs_sim_patient *patient;         /* n, owned */
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

/* Records the rendered class counts of patient i: p, ihc_score (default params) and ish follow. */
void hs_sim_cohort_set_truth(hs_sim_cohort *c, size_t i, const unsigned long count[HS_NCLASS]);

/*
 * Writes dir/manifest.csv (patient_id,slide,dfs_time,dfs_event,os_time,
 * os_event,age,grade,ish) and dir/truth.csv (patient_id,slide,p0,p1,p2,p3,
 * ihc_score,pattern,heterogeneous); dir must exist.  Patients without truth
 * get NA in the truth columns and ish.  HS_EIO.
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
void hs_sim_slide_free(hs_sim_slide *s);

/* Side of the slide in pixels. */
uint32_t hs_sim_slide_size(const hs_sim_slide *s);

/* Class counts of the tumour cells the slide holds (centre inside the slide), known from planning. */
void hs_sim_slide_planned(const hs_sim_slide *s, unsigned long count[HS_NCLASS]);

/*
 * Renders rows y0 .. y0+rows-1 (1 <= rows <= HS_SIM_BAND, inside the slide)
 * into rgb (rows * size * 3 bytes, row-major RGB) and, when label is not NULL,
 * label (rows * size bytes, HS_SIM_* kinds).  count (may be NULL) receives the
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
 * hs_sim_nlevels levels, pixel size HS_SIM_MPP) with the given compression
 * and JPEG quality.  count receives the rendered class counts.  Removes the
 * partial file on failure.  HS_EIO, HS_ENOMEM, HS_EINVAL.
 */
int hs_sim_slide_write(hs_sim_slide *s, const char *path, hs_tiff_compression comp, int jpeg_quality,
                       unsigned long count[HS_NCLASS], hs_error *err) HS_RESULT_USED;

/* Options of a whole cohort. */
typedef struct hs_sim_options {
    size_t npatient;
    uint64_t seed;
    uint32_t size;                   /* level-0 side in pixels (default 4096: 2 mm) */
    double effect;                   /* planted HR of heterogeneity (default 2.0) */
    hs_tiff_compression comp;        /* default JPEG */
    int jpeg_quality;                /* default 90 */
    /* called after each slide (may be NULL) */
    void (*progress)(void *ctx, size_t done, size_t total, const hs_sim_patient *pt);
    void *progress_ctx;
} hs_sim_options;

/* Defaults: 0 patients, seed 0, 4096 px, HR 2.0, JPEG 90, no progress callback. */
void hs_sim_options_default(hs_sim_options *o);

/*
 * Writes a whole cohort into dir (created if missing, with dir/slides):
 * slides/<id>.tif, manifest.csv and truth.csv.  Same options, same bytes.
 * HS_EINVAL, HS_EIO, HS_ENOMEM.
 */
int hs_sim_write(const char *dir, const hs_sim_options *o, hs_error *err) HS_RESULT_USED;

#endif /* HS_SIMULATE_H */
