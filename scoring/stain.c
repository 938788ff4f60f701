/*
 * stain: colour deconvolution and background estimation (see stain.h).
 */
#include "stain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hs_stain_default_vectors(double h[3], double dab[3])
{
    static const double H[3] = {0.650, 0.704, 0.286}, D[3] = {0.268, 0.570, 0.776};
    memcpy(h, H, sizeof H);
    memcpy(dab, D, sizeof D);
}

static int normalise(double v[3])
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (!(n > 0) || !isfinite(n))
        return -1;
    for (int i = 0; i < 3; i++)
        v[i] /= n;
    return 0;
}

static double det3(double m[3][3])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

int hs_stain_init(hs_stain *s, const double h[3], const double dab[3], const double *third, const double *bg,
                  hs_error *err)
{
    memset(s, 0, sizeof *s);
    for (int c = 0; c < 3; c++) {
        s->vec[0][c] = h[c];
        s->vec[1][c] = dab[c];
        if (h[c] < 0 || dab[c] < 0 || (third && third[c] < 0))
            return hs_error_set(err, HS_EINVAL, "stain vectors must not have negative components");
    }
    if (third) {
        for (int c = 0; c < 3; c++)
            s->vec[2][c] = third[c];
    } else {
        double *a = s->vec[0], *b = s->vec[1];
        s->vec[2][0] = a[1] * b[2] - a[2] * b[1];
        s->vec[2][1] = a[2] * b[0] - a[0] * b[2];
        s->vec[2][2] = a[0] * b[1] - a[1] * b[0];
    }
    for (int r = 0; r < 3; r++)
        if (normalise(s->vec[r]) != 0)
            return hs_error_set(err, HS_EINVAL, "stain vector %d is zero", r + 1);
    double d = det3(s->vec);
    if (fabs(d) < 1e-6)
        return hs_error_set(err, HS_EINVAL, "stain vectors are (nearly) collinear: the stain matrix is singular");
    /* inverse by cofactors: inv[c][r] = cof[r][c] / d */
    double (*m)[3] = s->vec;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            int r1 = (r + 1) % 3, r2 = (r + 2) % 3, c1 = (c + 1) % 3, c2 = (c + 2) % 3;
            s->inv[c][r] = (m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]) / d;
        }
    for (int c = 0; c < 3; c++) {
        double b = bg ? bg[c] : 255.0;
        if (!(b >= 1 && b <= 255))
            return hs_error_set(err, HS_EINVAL, "background intensity %g is outside 1..255", b);
        s->background[c] = b;
        for (int v = 0; v < 256; v++) {
            double od = -log10((v < 1 ? 1.0 : (double)v) / b);
            s->od[c][v] = (float)(od > 0 ? od : 0);
        }
        s->coef[c][0] = (float)s->inv[c][0];
        s->coef[c][1] = (float)s->inv[c][1];
    }
    return HS_OK;
}

int hs_stain_parse(const char *spec, double h[3], double dab[3], double third[3], int *has_third, hs_error *err)
{
    double v[9];
    int n = 0;
    const char *p = spec;
    int ok = 1;
    for (;;) {
        char *end;
        v[n] = strtod(p, &end);
        if (end == p || !isfinite(v[n])) {
            ok = 0; /* a value must follow the start and every separator */
            break;
        }
        n++;
        p = end;
        if (n == 9 || *p != (n % 3 ? ',' : ';'))
            break;
        p++;
    }
    if (!ok || (n != 6 && n != 9) || *p != '\0')
        return hs_error_set(err, HS_EINVAL,
                            "--stains '%s': expected 'hR,hG,hB;dR,dG,dB' or 'hR,hG,hB;dR,dG,dB;tR,tG,tB'", spec);
    for (int i = 0; i < 3; i++) {
        h[i] = v[i];
        dab[i] = v[3 + i];
        third[i] = n == 9 ? v[6 + i] : 0;
    }
    *has_third = n == 9;
    return HS_OK;
}

void hs_stain_apply(const hs_stain *s, const uint8_t *rgb, size_t npix, float *hem, float *dab)
{
    const float *odr = s->od[0], *odg = s->od[1], *odb = s->od[2];
    float h0 = s->coef[0][0], h1 = s->coef[1][0], h2 = s->coef[2][0];
    float d0 = s->coef[0][1], d1 = s->coef[1][1], d2 = s->coef[2][1];
    for (size_t i = 0; i < npix; i++) {
        float r = odr[rgb[3 * i]], g = odg[rgb[3 * i + 1]], b = odb[rgb[3 * i + 2]];
        if (hem)
            hem[i] = r * h0 + g * h1 + b * h2;
        if (dab)
            dab[i] = r * d0 + g * d1 + b * d2;
    }
}

int hs_stain_background(const uint8_t *rgb, const uint8_t *valid, size_t npix, double bg[3])
{
    unsigned long hist_sum[766] = {0}, nvalid = 0, nbright = 0;
    for (size_t i = 0; i < npix; i++) {
        if (valid && !valid[i])
            continue;
        nvalid++;
        const uint8_t *p = rgb + 3 * i;
        if (p[0] >= 200 && p[1] >= 200 && p[2] >= 200) {
            hist_sum[p[0] + p[1] + p[2]]++;
            nbright++;
        }
    }
    bg[0] = bg[1] = bg[2] = 255;
    if (nvalid == 0 || nbright * 200 < nvalid)
        return 0;
    /* the brightest 10% of the bright pixels: find the sum threshold */
    unsigned long want = nbright / 10 + 1, acc = 0;
    int cut = 765;
    while (cut > 600 && acc + hist_sum[cut] < want)
        acc += hist_sum[cut--];
    unsigned long hist[3][256] = {{0}}, n = 0;
    for (size_t i = 0; i < npix; i++) {
        if (valid && !valid[i])
            continue;
        const uint8_t *p = rgb + 3 * i;
        if (p[0] >= 200 && p[1] >= 200 && p[2] >= 200 && p[0] + p[1] + p[2] >= cut) {
            for (int c = 0; c < 3; c++)
                hist[c][p[c]]++;
            n++;
        }
    }
    for (int c = 0; c < 3; c++) {
        unsigned long a = 0;
        int v = 0;
        while (v < 255 && (a += hist[c][v]) * 2 < n)
            v++;
        bg[c] = v;
    }
    return 1;
}
