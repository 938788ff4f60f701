/*
 * stain: colour deconvolution (Ruifrok & Johnston 2001) of RGB pixels into
 * hematoxylin and DAB optical densities, with per-slide background
 * estimation.  OD_c = -log10(max(I_c, 1) / I0_c) clipped at 0 per channel (as
 * QuPath), then concentrations c = OD_row * M^-1 where the rows of M are the
 * unit-length stain vectors (H, DAB, third = normalised H x DAB unless given).
 */
#ifndef HS_STAIN_H
#define HS_STAIN_H

#include <stddef.h>
#include <stdint.h>

#include "util/hs_error.h"

typedef struct hs_stain {
    double vec[3][3];     /* unit stain vectors (rows): hematoxylin, DAB, third */
    double inv[3][3];     /* M^-1 */
    double background[3]; /* I0 per channel (R, G, B) */
    float od[3][256];     /* OD of each 8-bit value per channel */
    float coef[3][2];     /* inv columns for H and DAB, as float, for the fast path */
    float th[3][256];     /* od[c][v] * coef[c][0]: each channel's share of the hematoxylin concentration */
    float td[3][256];     /* od[c][v] * coef[c][1]: the same for DAB */
} hs_stain;

/* Ruifrok-Johnston H-DAB vectors: H (0.650, 0.704, 0.286), DAB (0.268, 0.570, 0.776). */
void hs_stain_default_vectors(double h[3], double dab[3]);

/*
 * Prepares s from the stain vectors h and dab (any length > 0, normalised
 * here), an optional third vector (NULL: the normalised cross product h x
 * dab) and the background intensities bg (NULL: 255, 255, 255).  Fails with
 * HS_EINVAL when a vector is zero, negative or the matrix is singular.
 */
int hs_stain_init(hs_stain *s, const double h[3], const double dab[3], const double *third, const double *bg,
                  hs_error *err) HS_RESULT_USED;

/*
 * Parses a --stains value "hR,hG,hB;dR,dG,dB[;tR,tG,tB]" into vectors.
 * *has_third is set when a third vector is given.  HS_EINVAL on bad syntax.
 */
int hs_stain_parse(const char *spec, double h[3], double dab[3], double third[3], int *has_third,
                   hs_error *err) HS_RESULT_USED;

/* Deconvolves npix RGB pixels: hem[i], dab[i] get the concentrations (either may be NULL). */
void hs_stain_apply(const hs_stain *s, const uint8_t *rgb, size_t npix, float *hem, float *dab);

/*
 * Estimates the background (glass) intensity per channel from a sample of
 * pixels, e.g. a thumbnail: the per-channel median of the pixels whose three
 * channels are all >= 200 and whose sum is in the brightest 10% of those.
 * Falls back to 255 when fewer than 0.5% of the valid pixels are that bright.
 * Returns 1 when estimated, 0 when it fell back.
 */
int hs_stain_background(const uint8_t *rgb, const uint8_t *valid, size_t npix, double bg[3]);

/* Angle in degrees between two vectors (any length > 0). */
double hs_stain_angle_deg(const double a[3], const double b[3]);

/*
 * Stain vectors of a slide estimated from its own pixels.  Start: Macenko et
 * al. (ISBI 2009): the OD of stained tissue pixels (summed OD > 0.15) spans a
 * plane (the two leading eigenvectors of their covariance), and the
 * directions at the 1st and 99th percentile of the pixels' angle in that
 * plane are the purest pixels of each stain.  Those extremes still carry
 * some of the other stain (DAB membranes lie on hematoxylin-stained
 * cytoplasm), which tilts them by a few degrees, so each vector is then
 * refined as the principal direction of the centred spread of the pixels it
 * dominates (OD >= 0.3 and four times the other stain) whose 5x5
 * neighbourhood is of the same material: a constant share of the other
 * stain shifts those pixels but does not tilt their spread, and pixels next
 * to another material take part of its colour through JPEG chroma
 * subsampling and blur.
 * Pixels are added region by region (hs_stain_acc_add), every `stride`-th
 * one, up to a bounded count, so memory does not grow with the slide.
 */
typedef struct hs_stain_acc hs_stain_acc;

/* An accumulator keeping at most max_samples OD samples; NULL when out of memory. */
hs_stain_acc *hs_stain_acc_alloc(size_t max_samples, int stride);
void hs_stain_acc_free(hs_stain_acc *a);

/*
 * Adds the stained pixels of a w x h RGB region (valid may be NULL), with
 * s's background (its OD tables) and vectors (to tell the materials apart).
 */
void hs_stain_acc_add(hs_stain_acc *a, const hs_stain *s, const uint8_t *rgb, const uint8_t *valid, int w, int h);

typedef struct hs_stain_fit {
    double h[3], dab[3];       /* unit vectors */
    size_t n;                  /* stained samples */
    size_t n_h, n_dab;         /* pure pixels each vector was refined on */
    double dab_frac;           /* share of the samples that are pure DAB */
    int dab_estimated;         /* 0: too few pure DAB pixels, dab is the default vector */
} hs_stain_fit;

/*
 * Estimates the vectors.  A vector is estimated from at least 500 pure
 * pixels that lie along one line (the second eigenvalue of their spread at
 * most 0.02 of the first); otherwise the DAB vector stays the default and
 * dab_estimated is 0: a slide with little DAB staining, or with membranes
 * too thin to keep their colour through JPEG (chroma subsampling, and the
 * coarse quantisation of fine colour detail at low quality).  HS_EDATA, with the reason, when the vectors cannot be
 * trusted: fewer than 1000 stained samples, no usable hematoxylin pixels,
 * vectors less than 10 degrees apart or more than 25 degrees from
 * the defaults, or a negative component.
 */
int hs_stain_acc_estimate(const hs_stain_acc *a, hs_stain_fit *fit, hs_error *err) HS_RESULT_USED;

#endif /* HS_STAIN_H */
