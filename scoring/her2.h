/*
 * her2: HER2 IHC scoring rules shared by the scorer, the QuPath import and the
 * simulator: per-cell classes from membrane DAB intensity and completeness,
 * the ASCO/CAP 2018 slide call, the HER2 trial categories, and the rule that
 * makes a slide heterogeneous.  Every threshold lives in hs_her2_params,
 * whose defaults are documented in docs/scoring-metrics.md.
 */
#ifndef HS_HER2_H
#define HS_HER2_H

#include <stddef.h>

/* Per-cell membrane class (ASCO/CAP vocabulary). */
typedef enum { HS_CLASS_0 = 0, HS_CLASS_1 = 1, HS_CLASS_2 = 2, HS_CLASS_3 = 3, HS_NCLASS = 4 } hs_class;

/* Slide call (ASCO/CAP 2018 IHC score); HS_CALL_NA when there are no tumour cells. */
typedef enum { HS_CALL_0 = 0, HS_CALL_1 = 1, HS_CALL_2 = 2, HS_CALL_3 = 3, HS_CALL_NA = -1 } hs_call;

/* Trial / treatment categories. */
typedef enum {
    HS_HER2_NULL = 0,      /* IHC 0, no membrane staining above the noise floor */
    HS_HER2_ULTRALOW = 1,  /* IHC 0 with faint incomplete staining in >0% and <=10% of cells */
    HS_HER2_LOW = 2,       /* IHC 1+, or 2+ with negative ISH */
    HS_HER2_EQUIVOCAL = 3, /* IHC 2+ without an ISH result */
    HS_HER2_POSITIVE = 4,  /* IHC 3+, or 2+ with positive ISH */
    HS_HER2_NA = -1
} hs_her2_class;

/* ISH result from the manifest, used to resolve 2+. */
typedef enum { HS_ISH_UNKNOWN = 0, HS_ISH_NEGATIVE = 1, HS_ISH_POSITIVE = 2 } hs_ish;

/* Spatial pattern of heterogeneity. */
typedef enum { HS_PATTERN_HOMOGENEOUS = 0, HS_PATTERN_CLUSTERED = 1, HS_PATTERN_MOSAIC = 2, HS_PATTERN_SCATTERED = 3,
               HS_PATTERN_NA = -1 } hs_pattern;

typedef struct hs_her2_params {
    /* per cell */
    double od_1, od_2, od_3;     /* DAB OD thresholds for faint / weak-moderate / intense (QuPath: 0.2, 0.4, 0.6) */
    double complete;             /* ring fraction stained (DAB OD >= od_1) for a complete membrane (0.8) */
    double partial;              /* ring fraction stained for any membrane staining, 1+ (0.1) */
    /* per slide */
    double call_frac;            /* ASCO/CAP ">10%" (0.10), strict */
    double noise_frac;           /* fraction of stained cells at or below which IHC 0 is "null" (0.01) */
    /* heterogeneity */
    double scattered_frac;       /* minority-phenotype fraction above which a slide is not homogeneous (0.02) */
    double het_frac;             /* minority-phenotype fraction above which it is clustered or mosaic (0.10) */
    double cluster_moran;        /* Moran's I of tile H-scores at or above which it is clustered (0.4) */
    size_t tile_min_cells;       /* tumour cells for a tile to count as a tumour tile (20) */
} hs_her2_params;

/* Fills p with the documented defaults. */
void hs_her2_params_default(hs_her2_params *p);

/*
 * Class of one cell from its membrane DAB intensity (mean OD over the stained
 * part of the ring) and completeness (stained fraction of the ring, 0..1):
 * 3+ complete and intensity >= od_3; 2+ complete and >= od_2; 1+ any staining
 * (completeness >= partial and intensity >= od_1) that is not 2+/3+; else 0.
 */
hs_class hs_her2_cell_class(const hs_her2_params *p, double intensity, double completeness);

/*
 * ASCO/CAP 2018 call from class fractions f[4] (summing to 1; n the cell
 * count, 0 gives HS_CALL_NA): 3+ when f3 > call_frac; 2+ when f2 + f3 >
 * call_frac, or when 0 < f3 <= call_frac with f3 > noise_frac (intense complete
 * staining in <=10%: the "unusual pattern" equivocal); 1+ when f1 + f2 + f3 >
 * call_frac; else 0.
 */
hs_call hs_her2_call(const hs_her2_params *p, const double f[HS_NCLASS], size_t n);

/* Category from the call, the class fractions and an ISH result (see hs_her2_class). */
hs_her2_class hs_her2_category(const hs_her2_params *p, hs_call call, const double f[HS_NCLASS], hs_ish ish);

/* H-score 100*(f1 + 2 f2 + 3 f3), 0..300. */
double hs_her2_hscore(const double f[HS_NCLASS]);

/* Names: "0","1+","2+","3+" / "null",... / "homogeneous",...; "NA" for the NA values. */
const char *hs_her2_call_name(hs_call c);
const char *hs_her2_category_name(hs_her2_class c);
const char *hs_her2_pattern_name(hs_pattern p);

/* Parses "negative"/"neg"/"0" and "positive"/"pos"/"1" (any case); empty/NA is unknown. -1 when unrecognised. */
int hs_her2_ish_parse(const char *s, hs_ish *out);

#endif /* HS_HER2_H */
