/*
 * estimate: what a cohort run will cost, from the slides' headers, and the
 * Slurm request that fits it (what `hetsurv submit` asks for when the user
 * gives no size).
 *
 * Cost model (docs/cohort-run.md, "Sizing a job"): measuring a slide takes
 * HS_EST_CPU_S_PER_MPX CPU-seconds per megapixel of the level scored, plus
 * HS_EST_CPU_S_PER_SLIDE for opening it, sampling its stains and scale and
 * saving it; a QuPath export costs HS_EST_CPU_S_PER_SLIDE.  Pixel counts
 * come from each slide's header (OpenSlide or libtiff: no pixel is decoded,
 * except for plain TIFF and PNG images, which are read whole at open); with
 * more slides than `sample`, an evenly spaced sample of them is read and the
 * total scaled by the slide count.
 */
#ifndef HS_ESTIMATE_H
#define HS_ESTIMATE_H

#include <stddef.h>

#include "util/hs_error.h"

/* bench/score.sh: 7.4-8.3 CPU-s for a 20000^2 (400 Mpx) slide at 0.5 um/px; the upper end, rounded up. */
#define HS_EST_CPU_S_PER_MPX 0.021
/* The fixed cost of a slide (open, stain and scale sample, child hand-over, save), measured at 0.1-0.2 s. */
#define HS_EST_CPU_S_PER_SLIDE 0.2

typedef struct hs_estimate {
    size_t nslides;       /* slides in the manifest */
    size_t nread;         /* headers read */
    size_t nunreadable;   /* of those, missing or unreadable (they will fail fast: counted at the fixed cost) */
    double mpx_total;     /* megapixels at the scored level, over every slide (scaled up from a sample) */
    double mpx_max;       /* of the largest slide read */
    double cpu_s;         /* CPU-seconds to measure the cohort */
    double cpu_s_max;     /* of the largest slide */
} hs_estimate;

/*
 * Estimates the cost of measuring the slides paths[0..n) at target_mpp
 * (mpp_override > 0: the slides' pixel size), reading at most `sample`
 * headers.  Fails only with HS_ENOMEM.
 */
int hs_estimate_slides(const char *const *paths, size_t n, double target_mpp, double mpp_override, size_t sample,
                       hs_estimate *e, hs_error *err) HS_RESULT_USED;

/*
 * The request for an estimate: *ntasks and *time_s are given (> 0) or
 * chosen (0).  Chosen together, the tasks aim at a one-hour run; a time
 * leaves room for 1.5x the estimate, the largest slide, and 10 minutes of
 * start, calibration and writing.  Tasks are at most the slide count.
 */
void hs_estimate_request(const hs_estimate *e, int *ntasks, long *time_s);

/* Seconds as Slurm's [D-]HH:MM:SS into buf. */
void hs_estimate_time_text(long s, char *buf, size_t size);

/* Parses Slurm's MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS: seconds, or -1. */
long hs_estimate_time_parse(const char *s);

#endif /* HS_ESTIMATE_H */
