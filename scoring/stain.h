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

#endif /* HS_STAIN_H */
