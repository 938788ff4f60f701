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
        for (int v = 0; v < 256; v++) {
            s->th[c][v] = s->od[c][v] * s->coef[c][0];
            s->td[c][v] = s->od[c][v] * s->coef[c][1];
        }
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
    /* the products od * coef come from tables: the same float operations as multiplying here */
    const float *hr = s->th[0], *hg = s->th[1], *hb = s->th[2], *dr = s->td[0], *dg = s->td[1], *db = s->td[2];
    for (size_t i = 0; i < npix; i++) {
        const uint8_t *p = rgb + 3 * i;
        if (hem)
            hem[i] = hr[p[0]] + hg[p[1]] + hb[p[2]];
        if (dab)
            dab[i] = dr[p[0]] + dg[p[1]] + db[p[2]];
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

double hs_stain_angle_deg(const double a[3], const double b[3])
{
    double ab = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    double na = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]), nb = sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
    double c = ab / (na * nb);
    c = c > 1 ? 1 : c < -1 ? -1 : c;
    return acos(c) * 180 / M_PI;
}

/* ---- Macenko estimation ------------------------------------------------------------------------------------ */

#define EST_MIN_OD 0.15      /* summed OD of a stained pixel (as the tissue mask) */
#define EST_PERCENTILE 0.01  /* Macenko's alpha: the 1st and 99th percentile of the angle */
#define EST_MIN_SAMPLES 1000
#define EST_MIN_APART 10.0   /* degrees between the two vectors */
#define EST_MAX_DRIFT 25.0   /* degrees from the default vectors */
#define EST_PURE_OD 0.3      /* a dominant stain's OD: well above JPEG and sensor noise (~0.02 OD) */
#define EST_DOMINANCE 4.0    /* ... and at least four times the other stain */
#define EST_MIN_PURE 500     /* dominated pixels needed to estimate a vector */
#define EST_ITERATIONS 3
#define EST_MAX_SPREAD 0.02  /* pure pixels must lie along one line: second/first eigenvalue of their spread */

struct hs_stain_acc {
    float *od;           /* 3 per sample */
    unsigned char *pure; /* per sample: its 5x5 neighbourhood is one material (see hs_stain_acc_add) */
    size_t n, max;
    int stride;
    unsigned long phase; /* pixels seen, for the stride */
};

hs_stain_acc *hs_stain_acc_alloc(size_t max_samples, int stride)
{
    hs_stain_acc *a = calloc(1, sizeof *a);
    size_t m = max_samples ? max_samples : 1;
    if (!a || !(a->od = malloc(m * 3 * sizeof *a->od)) || !(a->pure = malloc(m))) {
        if (a)
            free(a->od);
        free(a);
        return NULL;
    }
    a->max = max_samples;
    a->stride = stride < 1 ? 1 : stride;
    return a;
}

void hs_stain_acc_free(hs_stain_acc *a)
{
    if (!a)
        return;
    free(a->od);
    free(a->pure);
    free(a);
}

/* The material of a pixel by the default vectors: 0 unstained, 1 hematoxylin-dominated, 2 DAB-dominated, 3 mixed. */
static int material(const hs_stain *s, const uint8_t *p, float *sum)
{
    float r = s->od[0][p[0]], g = s->od[1][p[1]], b = s->od[2][p[2]];
    *sum = r + g + b;
    float ch = r * s->coef[0][0] + g * s->coef[1][0] + b * s->coef[2][0];
    float cd = r * s->coef[0][1] + g * s->coef[1][1] + b * s->coef[2][1];
    if (*sum <= EST_MIN_OD)
        return 0;
    if (ch >= EST_DOMINANCE * (cd > 0 ? cd : 0))
        return 1;
    if (cd >= EST_DOMINANCE * (ch > 0 ? ch : 0))
        return 2;
    return 3;
}

void hs_stain_acc_add(hs_stain_acc *a, const hs_stain *s, const uint8_t *rgb, const uint8_t *valid, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w && a->n < a->max; x++) {
            if (a->phase++ % (unsigned long)a->stride)
                continue;
            size_t i = (size_t)y * w + x;
            if (valid && !valid[i])
                continue;
            float sum;
            int m = material(s, rgb + 3 * i, &sum);
            if (!m)
                continue;
            /*
             * A pixel whose 5x5 neighbourhood is all of its own material, at a similar density, keeps its own
             * colour through JPEG's chroma subsampling (which blends the colour of neighbouring pixels) and
             * through blur: only such pixels refine the vectors.
             */
            int pure = m != 3 && x > 1 && y > 1 && x < w - 2 && y < h - 2;
            for (int dy = -2; dy <= 2 && pure; dy++)
                for (int dx = -2; dx <= 2 && pure; dx++) {
                    float s2;
                    size_t j = (size_t)(y + dy) * w + (x + dx);
                    pure = (!valid || valid[j]) && material(s, rgb + 3 * j, &s2) == m && s2 >= 0.7f * sum &&
                           s2 <= sum / 0.7f;
                }
            float *o = a->od + 3 * a->n;
            o[0] = s->od[0][rgb[3 * i]];
            o[1] = s->od[1][rgb[3 * i + 1]];
            o[2] = s->od[2][rgb[3 * i + 2]];
            a->pure[a->n++] = (unsigned char)pure;
        }
}

/* The k-th smallest of v[0..n) (Hoare's selection; reorders v). */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        for (;;) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i >= j)
                break;
            double t = v[i];
            v[i++] = v[j];
            v[j--] = t;
        }
        if (k <= j)
            hi = j;
        else
            lo = j + 1;
    }
    return v[k];
}

/* Eigenvectors of a symmetric 3x3 matrix by Jacobi rotations; values descending, vectors as columns of v. */
static void eigen3(double m[3][3], double val[3], double v[3][3])
{
    double a[3][3];
    memcpy(a, m, sizeof a);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            v[i][j] = i == j;
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        if (off < 1e-15)
            break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                if (fabs(a[p][q]) < 1e-300)
                    continue;
                double th = 0.5 * atan2(2 * a[p][q], a[q][q] - a[p][p]), c = cos(th), s = sin(th);
                for (int k = 0; k < 3; k++) { /* A <- A J */
                    double kp = a[k][p], kq = a[k][q];
                    a[k][p] = c * kp - s * kq;
                    a[k][q] = s * kp + c * kq;
                }
                for (int k = 0; k < 3; k++) { /* A <- J^T A */
                    double pk = a[p][k], qk = a[q][k];
                    a[p][k] = c * pk - s * qk;
                    a[q][k] = s * pk + c * qk;
                }
                for (int k = 0; k < 3; k++) {
                    double kp = v[k][p], kq = v[k][q];
                    v[k][p] = c * kp - s * kq;
                    v[k][q] = s * kp + c * kq;
                }
            }
    }
    for (int i = 0; i < 3; i++)
        val[i] = a[i][i];
    for (int i = 0; i < 2; i++) /* sort descending */
        for (int j = i + 1; j < 3; j++)
            if (val[j] > val[i]) {
                double t = val[i];
                val[i] = val[j];
                val[j] = t;
                for (int k = 0; k < 3; k++) {
                    t = v[k][i];
                    v[k][i] = v[k][j];
                    v[k][j] = t;
                }
            }
}

/* Mean and centred scatter matrix of the samples selected by sel (NULL: all); returns how many. */
static size_t centred_cov(const hs_stain_acc *a, const unsigned char *sel, double mean[3], double cov[3][3])
{
    size_t m = 0;
    memset(cov, 0, 9 * sizeof cov[0][0]);
    mean[0] = mean[1] = mean[2] = 0;
    for (size_t i = 0; i < a->n; i++)
        if (!sel || sel[i]) {
            for (int c = 0; c < 3; c++)
                mean[c] += a->od[3 * i + c];
            m++;
        }
    if (!m)
        return 0;
    for (int c = 0; c < 3; c++)
        mean[c] /= (double)m;
    for (size_t i = 0; i < a->n; i++)
        if (!sel || sel[i]) {
            double d[3];
            for (int c = 0; c < 3; c++)
                d[c] = a->od[3 * i + c] - mean[c];
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++)
                    cov[r][c] += d[r] * d[c];
        }
    return m;
}

/*
 * Unit-length principal direction (of the centred covariance) of the samples
 * selected by sel; *spread = the second eigenvalue over the first (how far
 * the samples stray from one line: JPEG and sensor noise against the stain's
 * own variation).
 */
static int principal(const hs_stain_acc *a, const unsigned char *sel, double dir[3], size_t *count, double *spread)
{
    double mean[3], cov[3][3];
    size_t m = centred_cov(a, sel, mean, cov);
    *count = m;
    if (m < 2)
        return -1;
    double val[3], vec[3][3];
    eigen3(cov, val, vec);
    *spread = val[0] > 0 ? val[1] / val[0] : INFINITY;
    for (int c = 0; c < 3; c++)
        dir[c] = vec[c][0];
    if (dir[0] * mean[0] + dir[1] * mean[1] + dir[2] * mean[2] < 0)
        for (int c = 0; c < 3; c++)
            dir[c] = -dir[c];
    return normalise(dir);
}

/*
 * Macenko's estimate: the directions at the EST_PERCENTILE extremes of the
 * samples' angle in their principal plane.  0, or -1 when the plane is flat.
 */
static int macenko(const hs_stain_acc *a, double h[3], double dab[3])
{
    size_t n = a->n;
    double mean[3], cov[3][3];
    centred_cov(a, NULL, mean, cov);
    double val[3], vec[3][3];
    eigen3(cov, val, vec);
    if (!(val[1] > 0))
        return -1;
    double e1[3], e2[3], h0[3], d0[3];
    hs_stain_default_vectors(h0, d0);
    for (int c = 0; c < 3; c++) {
        e1[c] = vec[c][0];
        e2[c] = vec[c][1];
    }
    /* orient the plane's axes: e1 along the mean OD, e2 towards the default DAB */
    if (e1[0] * mean[0] + e1[1] * mean[1] + e1[2] * mean[2] < 0)
        for (int c = 0; c < 3; c++)
            e1[c] = -e1[c];
    if (e2[0] * (d0[0] - h0[0]) + e2[1] * (d0[1] - h0[1]) + e2[2] * (d0[2] - h0[2]) < 0)
        for (int c = 0; c < 3; c++)
            e2[c] = -e2[c];
    double *phi = malloc(n * sizeof *phi);
    if (!phi)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const float *x = a->od + 3 * i;
        phi[i] = atan2(x[0] * e2[0] + x[1] * e2[1] + x[2] * e2[2], x[0] * e1[0] + x[1] * e1[1] + x[2] * e1[2]);
    }
    double lo = select_kth(phi, n, (size_t)(EST_PERCENTILE * (double)(n - 1)));
    double hi = select_kth(phi, n, (size_t)((1 - EST_PERCENTILE) * (double)(n - 1)));
    free(phi);
    for (int c = 0; c < 3; c++) {
        h[c] = cos(lo) * e1[c] + sin(lo) * e2[c]; /* towards -e2: hematoxylin's side */
        dab[c] = cos(hi) * e1[c] + sin(hi) * e2[c];
    }
    return normalise(h) || normalise(dab) ? -1 : 0;
}

int hs_stain_acc_estimate(const hs_stain_acc *a, hs_stain_fit *fit, hs_error *err)
{
    memset(fit, 0, sizeof *fit);
    size_t n = a ? a->n : 0;
    fit->n = n;
    if (n < EST_MIN_SAMPLES)
        return hs_error_set(err, HS_EDATA, "%zu stained pixels sampled (at least %d needed)", n, EST_MIN_SAMPLES);
    double h0[3], d0[3], h[3], d[3];
    hs_stain_default_vectors(h0, d0);
    normalise(h0);
    normalise(d0);
    /* start from Macenko's estimate when it is sane, else from the defaults */
    if (macenko(a, h, d) != 0 || h[0] < 0 || h[1] < 0 || h[2] < 0 || d[0] < 0 || d[1] < 0 || d[2] < 0 ||
        hs_stain_angle_deg(h, h0) > EST_MAX_DRIFT || hs_stain_angle_deg(d, d0) > EST_MAX_DRIFT ||
        hs_stain_angle_deg(h, d) < EST_MIN_APART) {
        memcpy(h, h0, sizeof h);
        memcpy(d, d0, sizeof d);
    }
    /*
     * Refinement: the pixels where one stain dominates (>= EST_PURE_OD and at least EST_DOMINANCE times the
     * other, by the current vectors) vary along that stain's vector, plus a roughly constant share of the other
     * (cytoplasm under a membrane, faint DAB over a nucleus): the principal direction of their centred spread
     * is the stain's own colour, free of that offset.
     */
    unsigned char *selh = malloc(n), *seld = malloc(n);
    if (!selh || !seld) {
        free(selh);
        free(seld);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    size_t nh = 0, nd = 0;
    int ok_h = 0, ok_d = 0;
    for (int iter = 0; iter < EST_ITERATIONS; iter++) {
        hs_stain st;
        if (hs_stain_init(&st, h, d, NULL, NULL, NULL) != HS_OK)
            break;
        for (size_t i = 0; i < n; i++) {
            const float *x = a->od + 3 * i;
            double ch = x[0] * st.inv[0][0] + x[1] * st.inv[1][0] + x[2] * st.inv[2][0];
            double cdab = x[0] * st.inv[0][1] + x[1] * st.inv[1][1] + x[2] * st.inv[2][1];
            selh[i] = a->pure[i] && ch >= EST_PURE_OD && ch >= EST_DOMINANCE * (cdab > 0 ? cdab : 0);
            seld[i] = a->pure[i] && cdab >= EST_PURE_OD && cdab >= EST_DOMINANCE * (ch > 0 ? ch : 0);
        }
        double nh_dir[3], nd_dir[3], sh, sd;
        ok_h = principal(a, selh, nh_dir, &nh, &sh) == 0 && nh >= EST_MIN_PURE && sh <= EST_MAX_SPREAD;
        ok_d = principal(a, seld, nd_dir, &nd, &sd) == 0 && nd >= EST_MIN_PURE && sd <= EST_MAX_SPREAD;
        if (ok_h)
            memcpy(h, nh_dir, sizeof h);
        if (ok_d)
            memcpy(d, nd_dir, sizeof d);
    }
    free(selh);
    free(seld);
    fit->dab_frac = (double)nd / (double)n;
    fit->n_h = nh;
    fit->n_dab = nd;
    if (!ok_h)
        return hs_error_set(err, HS_EDATA, "too few or too scattered pure hematoxylin pixels (%zu) to estimate its vector",
                            nh);
    if (!ok_d)
        memcpy(d, d0, sizeof d);
    for (int c = 0; c < 3; c++)
        if (h[c] < 0 || d[c] < 0)
            return hs_error_set(err, HS_EDATA, "an estimated stain vector has a negative component");
    double apart = hs_stain_angle_deg(h, d), dh = hs_stain_angle_deg(h, h0), dd = hs_stain_angle_deg(d, d0);
    if (apart < EST_MIN_APART)
        return hs_error_set(err, HS_EDATA, "the estimated stain vectors are only %.1f degrees apart", apart);
    if (dh > EST_MAX_DRIFT || dd > EST_MAX_DRIFT)
        return hs_error_set(err, HS_EDATA,
                            "the estimated vectors are %.1f (H) and %.1f (DAB) degrees from the defaults (at most %.0f)",
                            dh, dd, EST_MAX_DRIFT);
    fit->dab_estimated = ok_d;
    memcpy(fit->h, h, sizeof fit->h);
    memcpy(fit->dab, d, sizeof fit->dab);
    return HS_OK;
}
