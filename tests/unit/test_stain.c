/*
 * Unit tests of scoring/stain: the stain matrix and its inverse, the third
 * (residual) vector, deconvolution of Beer-Lambert pixels, the optical-density
 * table and its clipping, background estimation, --stains parsing, the
 * angle between vectors, and the estimation of a slide's own vectors from
 * fields drawn by Beer-Lambert with known, rotated vectors.
 *
 * References: the normalised Ruifrok-Johnston matrix and its inverse from R
 * 4.2.2 (the call is in the comment next to the numbers); the QuPath residual
 * vector from docs (her2.md 3.1, computed independently there); Beer-Lambert
 * pixels rendered here from known concentrations, with the 8-bit quantisation
 * error bound derived in test_beer_lambert.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/stain.h"
#include "suites.h"

/*
 * R:  h <- c(0.650,0.704,0.286); d <- c(0.268,0.570,0.776); h <- h/sqrt(sum(h^2)); d <- d/sqrt(sum(d^2))
 *     cr <- c(h[2]*d[3]-h[3]*d[2], h[3]*d[1]-h[1]*d[3], h[1]*d[2]-h[2]*d[1]); t <- cr/sqrt(sum(cr^2))
 *     M <- rbind(h, d, t); sprintf("%.17g", M); sprintf("%.17g", solve(M))
 */
static const double R_M[3][3] = {
    {0.65002860188773848, 0.70403097804456594, 0.28601258483060493},
    {0.26814752171657869, 0.57031375887481273, 0.77642715243307847},
    {0.63621423296171753, -0.71002679626032028, 0.30181682916835328},
};
/* R_INV[c][r] = solve(M)[c+1, r+1]: concentration r = sum_c OD_c * R_INV[c][r]. */
static const double R_INV[3][3] = {
    {1.2000842081065561, -0.68938772576653573, 0.63621423296171753},
    {0.6852032306665643, 0.023596919655908273, -0.71002679626032039},
    {-0.91776856862435396, 1.5087055605261845, 0.3018168291683534},
};

static void init_default(hs_stain *s, const double *bg)
{
    double h[3], d[3];
    hs_stain_default_vectors(h, d);
    CU_ASSERT_EQUAL_FATAL(hs_stain_init(s, h, d, NULL, bg, NULL), HS_OK);
}

static void test_default_vectors(void)
{
    double h[3], d[3];
    hs_stain_default_vectors(h, d);
    CU_ASSERT_EQUAL(h[0], 0.650);
    CU_ASSERT_EQUAL(h[1], 0.704);
    CU_ASSERT_EQUAL(h[2], 0.286);
    CU_ASSERT_EQUAL(d[0], 0.268);
    CU_ASSERT_EQUAL(d[1], 0.570);
    CU_ASSERT_EQUAL(d[2], 0.776);
    hs_stain s;
    init_default(&s, NULL);
    for (int r = 0; r < 3; r++) {
        double n2 = 0;
        for (int c = 0; c < 3; c++) {
            HS_ASSERT_CLOSE(s.vec[r][c], R_M[r][c], 1e-14);
            n2 += s.vec[r][c] * s.vec[r][c];
        }
        HS_ASSERT_CLOSE(n2, 1.0, 1e-14); /* unit rows */
    }
    for (int c = 0; c < 3; c++)
        CU_ASSERT_EQUAL(s.background[c], 255.0); /* NULL bg: 255 */
}

static void test_inverse(void)
{
    hs_stain s;
    init_default(&s, NULL);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            HS_ASSERT_CLOSE(s.inv[i][j], R_INV[i][j], 1e-12);
            double mi = 0, im = 0; /* (M M^-1)[i][j] and (M^-1 M)[i][j] */
            for (int k = 0; k < 3; k++) {
                mi += s.vec[i][k] * s.inv[k][j];
                im += s.inv[i][k] * s.vec[k][j];
            }
            CU_ASSERT(fabs(mi - (i == j)) <= 1e-12);
            CU_ASSERT(fabs(im - (i == j)) <= 1e-12);
            /* the float fast-path coefficients are the H and DAB columns */
            if (j < 2)
                HS_ASSERT_CLOSE(s.coef[i][j], s.inv[i][j], 1e-7);
        }
}

static void test_third_cross(void)
{
    hs_stain s;
    init_default(&s, NULL);
    /* the normalised cross product: R's t, orthogonal to H and DAB, unit, right-handed (det > 0) */
    double dh = 0, dd = 0, n2 = 0;
    for (int c = 0; c < 3; c++) {
        HS_ASSERT_CLOSE(s.vec[2][c], R_M[2][c], 1e-14);
        dh += s.vec[2][c] * s.vec[0][c];
        dd += s.vec[2][c] * s.vec[1][c];
        n2 += s.vec[2][c] * s.vec[2][c];
    }
    CU_ASSERT(fabs(dh) < 1e-15);
    CU_ASSERT(fabs(dd) < 1e-15);
    HS_ASSERT_CLOSE(n2, 1.0, 1e-14);
    double (*m)[3] = s.vec;
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    CU_ASSERT(det > 0);
    /* QuPath's defaults H (0.65, 0.70, 0.29), DAB (0.27, 0.57, 0.78): residual (0.6330, -0.7129, 0.3018) (her2.md 3.1) */
    static const double qh[3] = {0.65, 0.70, 0.29}, qd[3] = {0.27, 0.57, 0.78}, qt[3] = {0.6330, -0.7129, 0.3018};
    CU_ASSERT_EQUAL_FATAL(hs_stain_init(&s, qh, qd, NULL, NULL, NULL), HS_OK);
    for (int c = 0; c < 3; c++)
        CU_ASSERT(fabs(s.vec[2][c] - qt[c]) <= 5e-5);
    /* lengths do not matter: 10 x the vectors give the same matrix */
    double h10[3], d10[3];
    hs_stain t;
    for (int c = 0; c < 3; c++) {
        h10[c] = 10 * qh[c];
        d10[c] = 10 * qd[c];
    }
    CU_ASSERT_EQUAL_FATAL(hs_stain_init(&t, h10, d10, NULL, NULL, NULL), HS_OK);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            HS_ASSERT_CLOSE(t.vec[r][c], s.vec[r][c], 1e-15);
}

static void test_user_third(void)
{
    double h[3], d[3], third[3] = {0.2, 0.3, 0.9};
    hs_stain s;
    hs_stain_default_vectors(h, d);
    CU_ASSERT_EQUAL_FATAL(hs_stain_init(&s, h, d, third, NULL, NULL), HS_OK);
    /* |third| = sqrt(0.04 + 0.09 + 0.81) = sqrt(0.94) */
    for (int c = 0; c < 3; c++)
        HS_ASSERT_CLOSE(s.vec[2][c], third[c] / sqrt(0.94), 1e-15);
    /* H and DAB rows unchanged */
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            HS_ASSERT_CLOSE(s.vec[r][c], R_M[r][c], 1e-14);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double mi = 0;
            for (int k = 0; k < 3; k++)
                mi += s.vec[i][k] * s.inv[k][j];
            CU_ASSERT(fabs(mi - (i == j)) <= 1e-12);
        }
    /*
     * A non-orthogonal third row changes the H/DAB columns of the inverse, but
     * a pure H + DAB mixture still deconvolves exactly (OD = cH H + cD D has no
     * third component): 0.5 H + 0.25 D.
     */
    double hem = 0, dab = 0;
    for (int c = 0; c < 3; c++) {
        double od = 0.5 * s.vec[0][c] + 0.25 * s.vec[1][c];
        hem += od * s.inv[c][0];
        dab += od * s.inv[c][1];
    }
    HS_ASSERT_CLOSE(hem, 0.5, 1e-12);
    HS_ASSERT_CLOSE(dab, 0.25, 1e-12);
    /* a third vector with a negative component is refused */
    double neg[3] = {0.6, -0.7, 0.3};
    hs_error e;
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, d, neg, NULL, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(e.code, HS_EINVAL);
}

/*
 * A pixel rendered by Beer-Lambert from (cH, cD) with background 255:
 * T_c = 255 * 10^-(cH H_c + cD D_c), I_c = round(T_c), so |I_c - T_c| <= 1/2.
 * The measured OD'_c = -log10(I_c / 255) = od_c - log10(I_c / T_c), and
 * |log10(I_c / T_c)| <= max(log10(T / (T - 1/2)), log10((T + 1/2) / T))
 * = log10(T_c / (T_c - 1/2)) =: e_c  (for T_c > 1/2).
 * Concentrations are linear in OD, so |cH' - cH| <= sum_c e_c |inv[c][0]| and
 * |cD' - cD| <= sum_c e_c |inv[c][1]| (inv = R's solve(M) above).  The float
 * fast path (float OD table, float products) adds < 1e-5 (OD <= 2.5,
 * |inv| < 1.6, float epsilon 1.2e-7, a few operations).
 */
static void test_beer_lambert(void)
{
    static const double CH[] = {0, 0.05, 0.1, 0.3, 0.6, 0.8, 1.0}, CD[] = {0, 0.03, 0.2, 0.3, 0.5, 0.9};
    hs_stain s;
    init_default(&s, NULL);
    double worst = 0;
    for (size_t i = 0; i < sizeof CH / sizeof CH[0]; i++)
        for (size_t j = 0; j < sizeof CD / sizeof CD[0]; j++) {
            uint8_t px[3];
            double bh = 1e-5, bd = 1e-5;
            for (int c = 0; c < 3; c++) {
                double T = 255 * pow(10, -(CH[i] * R_M[0][c] + CD[j] * R_M[1][c]));
                px[c] = (uint8_t)lround(T);
                CU_ASSERT_FATAL(T > 1);
                double e = log10(T / (T - 0.5));
                bh += e * fabs(R_INV[c][0]);
                bd += e * fabs(R_INV[c][1]);
            }
            float hem, dab;
            hs_stain_apply(&s, px, 1, &hem, &dab);
            CU_ASSERT(fabs(hem - CH[i]) <= bh);
            CU_ASSERT(fabs(dab - CD[j]) <= bd);
            if (bh > worst)
                worst = bh;
            if (bd > worst)
                worst = bd;
        }
    /* the bound is tight enough to mean something at these concentrations */
    CU_ASSERT(worst < 0.05);
    /* glass: zero exactly */
    uint8_t white[3] = {255, 255, 255};
    float hem = 1, dab = 1;
    hs_stain_apply(&s, white, 1, &hem, &dab);
    CU_ASSERT_EQUAL(hem, 0.0f);
    CU_ASSERT_EQUAL(dab, 0.0f);
    /* either output may be NULL; several pixels at once give the same per-pixel results */
    uint8_t two[6] = {200, 150, 100, 90, 120, 60};
    float h2[2], d2[2], h1, d1;
    hs_stain_apply(&s, two, 2, h2, NULL);
    hs_stain_apply(&s, two, 2, NULL, d2);
    hs_stain_apply(&s, two + 3, 1, &h1, &d1);
    CU_ASSERT_EQUAL(h2[1], h1);
    CU_ASSERT_EQUAL(d2[1], d1);
}

/* The OD table: -log10(max(I,1) / I0) clipped at 0, per channel's background. */
static void test_od_clipping(void)
{
    double bg[3] = {240, 238, 236};
    hs_stain s;
    init_default(&s, bg);
    for (int c = 0; c < 3; c++) {
        CU_ASSERT_EQUAL(s.background[c], bg[c]);
        for (int v = 0; v < 256; v++) {
            double want = v >= bg[c] ? 0 : -log10((v < 1 ? 1 : v) / bg[c]);
            HS_ASSERT_CLOSE(s.od[c][v], want, 1e-7);
            CU_ASSERT(s.od[c][v] >= 0);
        }
        HS_ASSERT_CLOSE(s.od[c][0], log10(bg[c]), 1e-7); /* 0 is read as 1 */
    }
    CU_ASSERT_EQUAL(s.od[0][250], 0.0f);
    CU_ASSERT_EQUAL(s.od[0][240], 0.0f);
    HS_ASSERT_CLOSE(s.od[0][120], log10(2.0), 1e-7);
    /* brighter than the glass in every channel: no stain at all */
    uint8_t px[3] = {250, 245, 240};
    float hem = 1, dab = 1;
    hs_stain_apply(&s, px, 1, &hem, &dab);
    CU_ASSERT_EQUAL(hem, 0.0f);
    CU_ASSERT_EQUAL(dab, 0.0f);
    /*
     * Red above the glass (clipped to 0), green 119 = 238/2 and blue 118 = 236/2
     * (OD log10 2 each): hem = log10(2) (inv[1][0] + inv[2][0]),
     * dab = log10(2) (inv[1][1] + inv[2][1]) with R's inverse.
     */
    uint8_t mix[3] = {250, 119, 118};
    hs_stain_apply(&s, mix, 1, &hem, &dab);
    HS_ASSERT_CLOSE(hem, log10(2.0) * (R_INV[1][0] + R_INV[2][0]), 1e-6);
    HS_ASSERT_CLOSE(dab, log10(2.0) * (R_INV[1][1] + R_INV[2][1]), 1e-6);
}

/*
 * Glass at (240, 238, 236) on 30% of the pixels, bright cytoplasm-like tissue
 * (215, 210, 205) on 20% (bright: every channel >= 200, but dimmer), dark
 * tissue on 40%, and 10% padding (255, 255, 255) flagged invalid.  The bright
 * valid pixels are 50%; the brightest 10% of them all have sum 714, the
 * glass: its per-channel median is exactly (240, 238, 236).  Without the mask
 * the padding is the brightest (sum 765) and the estimate is 255.
 */
static void test_background_glass(void)
{
    enum { N = 20000 };
    uint8_t *rgb = malloc(3 * N), *valid = malloc(N);
    CU_ASSERT_FATAL(rgb && valid);
    for (size_t i = 0; i < N; i++) {
        static const uint8_t colour[4][3] = {{240, 238, 236}, {215, 210, 205}, {150, 120, 180}, {255, 255, 255}};
        size_t k = i % 10; /* 0,1,2 glass; 3,4 bright tissue; 5..8 dark; 9 padding */
        int kind = k < 3 ? 0 : k < 5 ? 1 : k < 9 ? 2 : 3;
        memcpy(rgb + 3 * i, colour[kind], 3);
        valid[i] = kind != 3;
    }
    double bg[3];
    CU_ASSERT_EQUAL(hs_stain_background(rgb, valid, N, bg), 1);
    CU_ASSERT_EQUAL(bg[0], 240);
    CU_ASSERT_EQUAL(bg[1], 238);
    CU_ASSERT_EQUAL(bg[2], 236);
    CU_ASSERT_EQUAL(hs_stain_background(rgb, NULL, N, bg), 1);
    CU_ASSERT_EQUAL(bg[0], 255);
    CU_ASSERT_EQUAL(bg[1], 255);
    CU_ASSERT_EQUAL(bg[2], 255);
    free(rgb);
    free(valid);
}

/*
 * All tissue: no pixel has every channel >= 200, so the estimate falls back
 * to 255 (returns 0).  The cut-off is "fewer than 0.5% of the valid pixels":
 * 4 glass pixels of 1000 (0.4%) fall back, 5 (0.5%) are enough.
 */
static void test_background_tissue(void)
{
    enum { N = 1000 };
    uint8_t rgb[3 * N];
    for (size_t i = 0; i < N; i++) {
        rgb[3 * i] = (uint8_t)(120 + i % 80);
        rgb[3 * i + 1] = (uint8_t)(210 + i % 40); /* bright green alone does not make glass */
        rgb[3 * i + 2] = 90;
    }
    double bg[3] = {0, 0, 0};
    CU_ASSERT_EQUAL(hs_stain_background(rgb, NULL, N, bg), 0);
    for (int c = 0; c < 3; c++)
        CU_ASSERT_EQUAL(bg[c], 255);
    for (int i = 0; i < 4; i++)
        memcpy(rgb + 3 * (100 * i + 7), (uint8_t[3]){230, 231, 232}, 3);
    CU_ASSERT_EQUAL(hs_stain_background(rgb, NULL, N, bg), 0);
    CU_ASSERT_EQUAL(bg[0], 255);
    memcpy(rgb + 3 * 907, (uint8_t[3]){230, 231, 232}, 3);
    CU_ASSERT_EQUAL(hs_stain_background(rgb, NULL, N, bg), 1);
    CU_ASSERT_EQUAL(bg[0], 230);
    CU_ASSERT_EQUAL(bg[1], 231);
    CU_ASSERT_EQUAL(bg[2], 232);
    /* no valid pixel at all, and no pixel: fall back */
    uint8_t none[N] = {0};
    CU_ASSERT_EQUAL(hs_stain_background(rgb, none, N, bg), 0);
    CU_ASSERT_EQUAL(bg[0], 255);
    CU_ASSERT_EQUAL(hs_stain_background(rgb, NULL, 0, bg), 0);
    CU_ASSERT_EQUAL(bg[2], 255);
}

static void test_parse_good(void)
{
    double h[3], d[3], t[3];
    int has = -1;
    CU_ASSERT_EQUAL_FATAL(hs_stain_parse("0.650,0.704,0.286;0.268,0.570,0.776", h, d, t, &has, NULL), HS_OK);
    CU_ASSERT_EQUAL(has, 0);
    CU_ASSERT_EQUAL(h[0], 0.650);
    CU_ASSERT_EQUAL(h[1], 0.704);
    CU_ASSERT_EQUAL(h[2], 0.286);
    CU_ASSERT_EQUAL(d[0], 0.268);
    CU_ASSERT_EQUAL(d[1], 0.570);
    CU_ASSERT_EQUAL(d[2], 0.776);
    CU_ASSERT_EQUAL_FATAL(hs_stain_parse("0.65,0.70,0.29;0.27,0.57,0.78;0.2,0.3,0.9", h, d, t, &has, NULL), HS_OK);
    CU_ASSERT_EQUAL(has, 1);
    CU_ASSERT_EQUAL(h[1], 0.70);
    CU_ASSERT_EQUAL(d[2], 0.78);
    CU_ASSERT_EQUAL(t[0], 0.2);
    CU_ASSERT_EQUAL(t[1], 0.3);
    CU_ASSERT_EQUAL(t[2], 0.9);
    CU_ASSERT_EQUAL_FATAL(hs_stain_parse("1,2,3;4e-1,5,6", h, d, t, &has, NULL), HS_OK);
    CU_ASSERT_EQUAL(has, 0);
    CU_ASSERT_EQUAL(d[0], 0.4);
}

static void test_parse_bad(void)
{
    static const char *const bad[] = {
        "", "garbage", "1,2,3", "1,2,3;4,5", "1;2;3", "1,2,3,4,5,6", "1,2,3;4,5,6;7,8", "1,2,3;4,5,6;7,8,9;1",
        "1,2,3;4,5,6;7,8,9x", "1,2,3;4,5,6;7,8,9 ", "a,b,c;d,e,f",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double h[3], d[3], t[3];
        int has;
        hs_error e;
        hs_error_clear(&e);
        int rc = hs_stain_parse(bad[i], h, d, t, &has, &e);
        CU_ASSERT_EQUAL(rc, HS_EINVAL);
        CU_ASSERT_EQUAL(e.code, HS_EINVAL);
        CU_ASSERT(strstr(e.msg, "--stains") != NULL);
    }
}

/*
 * Text after the DAB vector must be refused when no third vector follows (a bug found by this test):
 * "1,2,3;4,5,6x", "1,2,3;4,5,6;" and "1,2,3;4,5,6 junk" parse as two vectors
 * (sscanf stops counting at 6 conversions), while "1,2,3;4,5,6;7,8,9x" is
 * refused.  stain.h: "HS_EINVAL on bad syntax".
 */
static void test_parse_trailing(void)
{
    static const char *const bad[] = {"1,2,3;4,5,6x", "1,2,3;4,5,6;", "1,2,3;4,5,6 junk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double h[3], d[3], t[3];
        int has;
        CU_ASSERT_EQUAL(hs_stain_parse(bad[i], h, d, t, &has, NULL), HS_EINVAL);
    }
}

static void test_invalid_vectors(void)
{
    hs_stain s;
    hs_error e;
    double h[3], d[3];
    hs_stain_default_vectors(h, d);
    /* the same vector twice: the cross product is zero */
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, h, NULL, NULL, &e), HS_EINVAL);
    CU_ASSERT_EQUAL(e.code, HS_EINVAL);
    CU_ASSERT(e.msg[0] != '\0');
    /* parallel vectors of different lengths */
    double a[3] = {0.3, 0.6, 0.9}, b[3] = {0.1, 0.2, 0.3};
    CU_ASSERT_EQUAL(hs_stain_init(&s, a, b, NULL, NULL, NULL), HS_EINVAL);
    /* a third vector in the plane of H and DAB: singular matrix */
    double t[3];
    for (int c = 0; c < 3; c++)
        t[c] = h[c] + 2 * d[c];
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, d, t, NULL, &e), HS_EINVAL);
    CU_ASSERT(strstr(e.msg, "collinear") != NULL || strstr(e.msg, "singular") != NULL);
    /* zero, negative, non-finite vectors */
    double zero[3] = {0, 0, 0}, neg[3] = {0.65, -0.70, 0.29}, nan3[3] = {NAN, 0.5, 0.5};
    CU_ASSERT_EQUAL(hs_stain_init(&s, zero, d, NULL, NULL, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, zero, NULL, NULL, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, d, zero, NULL, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_stain_init(&s, neg, d, NULL, NULL, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, neg, NULL, NULL, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_stain_init(&s, nan3, d, NULL, NULL, NULL), HS_EINVAL);
    /* background outside 1..255 */
    double bg0[3] = {0, 255, 255}, bg256[3] = {255, 256, 255}, bgnan[3] = {255, 255, NAN};
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, d, NULL, bg0, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, d, NULL, bg256, NULL), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, d, NULL, bgnan, NULL), HS_EINVAL);
    /* errors are reported with a NULL err too, and a good call still works afterwards */
    CU_ASSERT_EQUAL(hs_stain_init(&s, h, d, NULL, NULL, NULL), HS_OK);
}

/*
 * The angle helper against closed forms: orthogonal axes 90, (1,1,0) and
 * (1,0,0) 45, (1,1,1) and (1,0,0) acos(1/sqrt 3) = 54.7356103172 degrees,
 * opposite vectors 180, any vector and a multiple of it 0; the default H and
 * DAB: acos(0.797416 / (0.99995600 * 0.99944985)) = 37.0709133870 degrees.
 */
static void test_angle(void)
{
    const double x[3] = {1, 0, 0}, y[3] = {0, 1, 0}, xy[3] = {1, 1, 0}, one[3] = {1, 1, 1}, mx[3] = {-2, 0, 0};
    HS_ASSERT_CLOSE(hs_stain_angle_deg(x, y), 90, 1e-12);
    HS_ASSERT_CLOSE(hs_stain_angle_deg(xy, x), 45, 1e-12);
    HS_ASSERT_CLOSE(hs_stain_angle_deg(one, x), 54.735610317245346, 1e-12);
    HS_ASSERT_CLOSE(hs_stain_angle_deg(x, mx), 180, 1e-12);
    double h[3], d[3], h3[3];
    hs_stain_default_vectors(h, d);
    for (int c = 0; c < 3; c++)
        h3[c] = 3 * h[c];
    CU_ASSERT(hs_stain_angle_deg(h, h3) < 1e-6); /* acos near 1: 1e-16 in the cosine is 1e-6 degrees */
    HS_ASSERT_CLOSE(hs_stain_angle_deg(h, d), 37.07091338700639, 1e-10);
    HS_ASSERT_CLOSE(hs_stain_angle_deg(d, h), 37.07091338700639, 1e-10);
}

/* ---- stain-vector estimation ------------------------------------------------------------------------------- */

/* v rotated by deg degrees towards u (both unit, orthogonal). */
static void rotate(const double v[3], const double u[3], double deg, double out[3])
{
    double a = deg * M_PI / 180;
    for (int c = 0; c < 3; c++)
        out[c] = cos(a) * v[c] + sin(a) * u[c];
}

/* The default vectors, normalised, and the normalised residual H x DAB. */
static void unit_defaults(double h[3], double d[3], double t[3])
{
    hs_stain s;
    init_default(&s, NULL);
    for (int c = 0; c < 3; c++) {
        h[c] = s.vec[0][c];
        d[c] = s.vec[1][c];
        t[c] = s.vec[2][c];
    }
}

static double frac_hash(unsigned i)
{
    unsigned z = i * 2654435761u;
    z ^= z >> 15;
    z *= 2246822519u;
    z ^= z >> 13;
    return (double)(z % 10007) / 10007.0;
}

/*
 * A w x h field of tissue drawn by Beer-Lambert (8-bit, lossless) with the
 * unit vectors hv and dv on glass bg: cells on a 40 px grid, each with a
 * round nucleus (radius 11 px, hematoxylin c (1 - 0.4 (r/11)^2) with c from
 * 0.5 to 1.2 per cell, under faint DAB 0.02), cytoplasm (hematoxylin 0.08,
 * DAB 0.02) and, when dab_max > 0, thick membranes on the grid lines (8 px
 * wide, DAB from 0.4 to dab_max per segment and slowly varying along it,
 * over the cytoplasm's hematoxylin 0.08).  Every stain varies in amount, so
 * that the pixels a stain dominates spread along its vector, and carries a
 * constant share of the other, which shifts but does not tilt that spread.
 */
static uint8_t *render_field(int w, int h, const double hv[3], const double dv[3], double dab_max, const double bg[3])
{
    uint8_t *rgb = malloc((size_t)w * h * 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rgb);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int gx = x / 40, gy = y / 40, lx = x % 40, ly = y % 40;
            double ch = 0.08, cd = 0.02;
            double dx = lx - 20.5, dy = ly - 20.5, r2 = (dx * dx + dy * dy) / (11.0 * 11.0);
            if (r2 <= 1)
                ch = (0.5 + 0.7 * frac_hash((unsigned)(gy * 1000 + gx))) * (1 - 0.4 * r2);
            int vline = lx < 4 || lx >= 36, hline = ly < 4 || ly >= 36;
            if (dab_max > 0 && (vline || hline)) {
                unsigned seg = vline ? (unsigned)(((x + 4) / 40) * 7919 + gy) : (unsigned)(((y + 4) / 40) * 104729 + gx);
                double along = vline ? y : x;
                cd = 0.4 + (dab_max - 0.4) * frac_hash(seg) * (0.8 + 0.2 * sin(along / 9.0));
                ch = 0.08;
            }
            for (int c = 0; c < 3; c++)
                rgb[((size_t)y * w + x) * 3 + c] = (uint8_t)lround(bg[c] * pow(10, -(ch * hv[c] + cd * dv[c])));
        }
    return rgb;
}

/* Samples a field into a fresh accumulator (every pixel) and estimates. */
static int estimate_field(const uint8_t *rgb, int w, int h, const double bg[3], size_t max, int stride,
                          hs_stain_fit *fit, hs_error *err)
{
    hs_stain s;
    init_default(&s, bg);
    hs_stain_acc *a = hs_stain_acc_alloc(max, stride);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    hs_stain_acc_add(a, &s, rgb, NULL, w, h);
    int rc = hs_stain_acc_estimate(a, fit, err);
    hs_stain_acc_free(a);
    return rc;
}

/*
 * H rotated 5 degrees towards the residual vector, DAB 5 degrees away from
 * it (both stay positive): the estimate recovers each within 0.5 degrees,
 * 5 degrees from the defaults, from pure pixels of both stains.
 */
static void test_estimate_rotated(void)
{
    double h0[3], d0[3], t[3], h[3], d[3], mt[3];
    unit_defaults(h0, d0, t);
    for (int c = 0; c < 3; c++)
        mt[c] = -t[c];
    rotate(h0, t, 5, h);
    rotate(d0, mt, 5, d);
    HS_ASSERT_CLOSE(hs_stain_angle_deg(h, h0), 5, 1e-9);
    HS_ASSERT_CLOSE(hs_stain_angle_deg(d, d0), 5, 1e-9);
    for (int c = 0; c < 3; c++)
        CU_ASSERT_FATAL(h[c] > 0 && d[c] > 0);
    const double bg[3] = {242, 240, 238};
    enum { W = 480, H = 480 };
    uint8_t *rgb = render_field(W, H, h, d, 1.0, bg);
    hs_stain_fit fit;
    hs_error e;
    hs_error_clear(&e);
    int rc = estimate_field(rgb, W, H, bg, 400000, 1, &fit, &e);
    CU_ASSERT_EQUAL_FATAL(rc, HS_OK);
    CU_ASSERT_EQUAL(fit.dab_estimated, 1);
    CU_ASSERT(hs_stain_angle_deg(fit.h, h) <= 0.5);
    CU_ASSERT(hs_stain_angle_deg(fit.dab, d) <= 0.5);
    HS_ASSERT_CLOSE(fit.h[0] * fit.h[0] + fit.h[1] * fit.h[1] + fit.h[2] * fit.h[2], 1, 1e-12);
    HS_ASSERT_CLOSE(fit.dab[0] * fit.dab[0] + fit.dab[1] * fit.dab[1] + fit.dab[2] * fit.dab[2], 1, 1e-12);
    /* every pixel of the field is stained (cytoplasm: summed OD about 0.16 > 0.15) */
    CU_ASSERT(fit.n >= (size_t)(0.95 * W * H) && fit.n <= (size_t)W * H);
    CU_ASSERT(fit.n_h >= 500 && fit.n_dab >= 500);
    CU_ASSERT(fit.dab_frac > 0 && fit.dab_frac < 1);
    HS_ASSERT_CLOSE(fit.dab_frac, (double)fit.n_dab / (double)fit.n, 1e-12);
    /* the defaults, drawn the same way, are found where they are */
    free(rgb);
    rgb = render_field(W, H, h0, d0, 1.0, bg);
    CU_ASSERT_EQUAL_FATAL(estimate_field(rgb, W, H, bg, 400000, 1, &fit, NULL), HS_OK);
    CU_ASSERT(hs_stain_angle_deg(fit.h, h0) <= 0.5);
    CU_ASSERT(hs_stain_angle_deg(fit.dab, d0) <= 0.5);
    free(rgb);
}

/*
 * No DAB anywhere but the cytoplasm's faint 0.02: no pure DAB pixel, so the
 * DAB vector stays the default (dab_estimated 0) while H is still estimated.
 */
static void test_estimate_no_dab(void)
{
    double h0[3], d0[3], t[3], h[3];
    unit_defaults(h0, d0, t);
    rotate(h0, t, 4, h);
    const double bg[3] = {250, 250, 250};
    enum { W = 400, H = 400 };
    uint8_t *rgb = render_field(W, H, h, d0, 0, bg);
    hs_stain_fit fit;
    CU_ASSERT_EQUAL_FATAL(estimate_field(rgb, W, H, bg, 400000, 1, &fit, NULL), HS_OK);
    CU_ASSERT_EQUAL(fit.dab_estimated, 0);
    CU_ASSERT(fit.n_dab < 500);
    for (int c = 0; c < 3; c++)
        HS_ASSERT_CLOSE(fit.dab[c], d0[c], 1e-12);
    CU_ASSERT(hs_stain_angle_deg(fit.h, h) <= 0.5);
    free(rgb);
}

/*
 * Too little to estimate: a 30 x 30 field has 900 stained pixels (< 1000);
 * an accumulator bounded at 600 samples keeps 600 of a larger field; none
 * at all.  Each is HS_EDATA with the count in the message.  A field of
 * membranes without nuclei has no pure hematoxylin pixel: HS_EDATA too.
 */
static void test_estimate_too_few(void)
{
    double h0[3], d0[3], t[3];
    unit_defaults(h0, d0, t);
    const double bg[3] = {250, 250, 250};
    uint8_t *rgb = render_field(200, 200, h0, d0, 1.0, bg);
    hs_stain_fit fit;
    hs_error e;
    hs_error_clear(&e);
    /* the 30 x 30 top-left corner: rows of the 200-wide field copied out */
    uint8_t small[30 * 30 * 3];
    for (int y = 0; y < 30; y++)
        memcpy(small + (size_t)y * 30 * 3, rgb + (size_t)y * 200 * 3, 30 * 3);
    CU_ASSERT_EQUAL(estimate_field(small, 30, 30, bg, 400000, 1, &fit, &e), HS_EDATA);
    CU_ASSERT_EQUAL(e.code, HS_EDATA);
    CU_ASSERT(strstr(e.msg, "900 stained pixels") != NULL);
    CU_ASSERT_EQUAL(fit.n, 900);
    CU_ASSERT_EQUAL(estimate_field(rgb, 200, 200, bg, 600, 1, &fit, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "600 stained pixels") != NULL);
    /* every third pixel of 200 x 200: 13334 samples, all stained */
    hs_stain s;
    init_default(&s, bg);
    hs_stain_acc *a = hs_stain_acc_alloc(1000000, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    hs_stain_acc_add(a, &s, rgb, NULL, 200, 200);
    CU_ASSERT_EQUAL(hs_stain_acc_estimate(a, &fit, NULL), HS_OK);
    CU_ASSERT(fit.n >= 13000 && fit.n <= 13334);
    hs_stain_acc_free(a);
    CU_ASSERT_EQUAL(hs_stain_acc_estimate(NULL, &fit, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "0 stained pixels") != NULL);
    /* glass only: nothing stained */
    uint8_t glass[40 * 40 * 3];
    for (int i = 0; i < 40 * 40; i++)
        for (int c = 0; c < 3; c++)
            glass[3 * i + c] = (uint8_t)bg[c];
    CU_ASSERT_EQUAL(estimate_field(glass, 40, 40, bg, 400000, 1, &fit, &e), HS_EDATA);
    CU_ASSERT_EQUAL(fit.n, 0);
    free(rgb);
    /* membranes (DAB 0.4 .. 0.9 by segment) and cytoplasm only: no pure hematoxylin pixel */
    enum { W = 200 };
    uint8_t *m = malloc((size_t)W * W * 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    for (int y = 0; y < W; y++)
        for (int x = 0; x < W; x++) {
            double cd = x % 40 < 8 || y % 40 < 8 ? 0.4 + 0.5 * frac_hash((unsigned)(x / 40 + 7 * (y / 40))) : 0.02;
            for (int c = 0; c < 3; c++)
                m[((size_t)y * W + x) * 3 + c] = (uint8_t)lround(bg[c] * pow(10, -(0.08 * h0[c] + cd * d0[c])));
        }
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(estimate_field(m, W, W, bg, 400000, 1, &fit, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "hematoxylin") != NULL);
    free(m);
    hs_stain_acc_free(NULL);
}

/*
 * Pure pixels that do not lie along one line give no vector.  Nuclei of one
 * uniform colour (hematoxylin 0.6 under DAB 0.02 in every nucleus, as
 * synthetic slides draw them) spread only by the 8-bit rounding, the same in
 * every direction: their second eigenvalue is nowhere near 0.02 of the first,
 * so H cannot be estimated: HS_EDATA, though there are thousands of pure
 * hematoxylin pixels.  Membranes of one uniform DAB (0.8) next to nuclei of
 * varying hematoxylin: H is estimated (within 0.5 degrees), DAB stays the
 * default (dab_estimated 0).
 */
static void draw_uniform(uint8_t *rgb, int w, const double h0[3], const double d0[3], const double bg[3],
                         int uniform_nuclei)
{
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++) {
            int lx = x % 40, ly = y % 40;
            double dx = lx - 20.5, dy = ly - 20.5, r2 = (dx * dx + dy * dy) / 121, ch = 0.08, cd = 0.02;
            if (r2 <= 1)
                ch = uniform_nuclei ? 0.6 : (0.5 + 0.7 * frac_hash((unsigned)(x / 40 + 1000 * (y / 40)))) * (1 - 0.4 * r2);
            if (lx < 4 || lx >= 36 || ly < 4 || ly >= 36) {
                cd = uniform_nuclei ? 0.4 + 0.5 * frac_hash((unsigned)(x / 40 + 7 * (y / 40))) *
                                                (0.8 + 0.2 * sin((x + y) / 9.0))
                                    : 0.8;
                ch = 0.08;
            }
            for (int c = 0; c < 3; c++)
                rgb[((size_t)y * w + x) * 3 + c] = (uint8_t)lround(bg[c] * pow(10, -(ch * h0[c] + cd * d0[c])));
        }
}

static void test_estimate_uniform(void)
{
    double h0[3], d0[3], t[3];
    unit_defaults(h0, d0, t);
    const double bg[3] = {242, 240, 238};
    enum { W = 400 };
    uint8_t *rgb = malloc((size_t)W * W * 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rgb);
    draw_uniform(rgb, W, h0, d0, bg, 1);
    hs_stain_fit fit;
    hs_error e;
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(estimate_field(rgb, W, W, bg, 400000, 1, &fit, &e), HS_EDATA);
    CU_ASSERT(strstr(e.msg, "hematoxylin") != NULL);
    CU_ASSERT(fit.n_h >= 500);
    draw_uniform(rgb, W, h0, d0, bg, 0);
    hs_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(estimate_field(rgb, W, W, bg, 400000, 1, &fit, &e), HS_OK);
    CU_ASSERT_EQUAL(fit.dab_estimated, 0);
    CU_ASSERT(fit.n_dab >= 500);
    for (int c = 0; c < 3; c++)
        HS_ASSERT_CLOSE(fit.dab[c], d0[c], 1e-12);
    CU_ASSERT(hs_stain_angle_deg(fit.h, h0) <= 0.5);
    free(rgb);
}

int hs_suite_stain(void)
{
    CU_pSuite s = CU_add_suite("stain", NULL, NULL);
    if (!s)
        return 1;
    if (!CU_add_test(s, "default vectors, normalised rows (R)", test_default_vectors) ||
        !CU_add_test(s, "inverse: R's solve, M M^-1 = I", test_inverse) ||
        !CU_add_test(s, "third vector = normalised H x DAB", test_third_cross) ||
        !CU_add_test(s, "user third vector", test_user_third) ||
        !CU_add_test(s, "Beer-Lambert pixels within the 8-bit bound", test_beer_lambert) ||
        !CU_add_test(s, "OD table and clipping above background", test_od_clipping) ||
        !CU_add_test(s, "background: glass estimated exactly, padding masked", test_background_glass) ||
        !CU_add_test(s, "background: all tissue falls back to 255", test_background_tissue) ||
        !CU_add_test(s, "parse: good specs", test_parse_good) || !CU_add_test(s, "parse: bad specs", test_parse_bad) ||
        !CU_add_test(s, "parse: text after the DAB vector", test_parse_trailing) ||
        !CU_add_test(s, "collinear, zero, negative vectors; bad background", test_invalid_vectors) ||
        !CU_add_test(s, "angle between vectors: closed forms", test_angle) ||
        !CU_add_test(s, "estimate: vectors rotated 5 degrees, within 0.5", test_estimate_rotated) ||
        !CU_add_test(s, "estimate: no DAB keeps the default DAB vector", test_estimate_no_dab) ||
        !CU_add_test(s, "estimate: too few samples, no hematoxylin", test_estimate_too_few) ||
        !CU_add_test(s, "estimate: pure pixels off one line give no vector", test_estimate_uniform))
        return 1;
    return 0;
}
