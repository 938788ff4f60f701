/*
 * cellfix: synthetic tumour-cell images for the cells and score suites (see cellfix.h).
 */
#include "cellfix.h"

#include <math.h>
#include <stdlib.h>

void hs_cf_class_membrane(hs_class k, double *dab, double *arc)
{
    static const double D[HS_NCLASS] = {0.03, 0.3, 0.5, 0.9}, A[HS_NCLASS] = {1.0, 0.4, 1.0, 1.0};
    *dab = D[k];
    *arc = A[k];
}

void hs_cf_set_class(hs_cf_cell *cell, hs_class k)
{
    cell->cls = k;
    hs_cf_class_membrane(k, &cell->dab, &cell->arc);
}

hs_cf_cell *hs_cf_lattice(double x0, double y0, double x1, double y1, double sp, double r_um, size_t *n)
{
    double dy = sp * sqrt(3.0) / 2;
    size_t cap = 0, m = 0;
    for (int j = 0; y0 + j * dy < y1; j++)
        for (int i = 0; x0 + i * sp + (j % 2 ? sp / 2 : 0) < x1; i++)
            cap++;
    hs_cf_cell *c = malloc((cap ? cap : 1) * sizeof *c);
    if (!c)
        return NULL;
    for (int j = 0; y0 + j * dy < y1; j++)
        for (int i = 0; x0 + i * sp + (j % 2 ? sp / 2 : 0) < x1; i++) {
            c[m] = (hs_cf_cell){x0 + i * sp + (j % 2 ? sp / 2 : 0), y0 + j * dy, r_um, 0, 1, HS_CLASS_0, 1, 0};
            hs_cf_set_class(&c[m], HS_CLASS_0);
            m++;
        }
    *n = m;
    return c;
}

void hs_cf_render(const hs_cf_cell *cells, size_t n, double mpp, int ox, int oy, int w, int h, float *hem, float *dab)
{
    hs_cf_render_ex(cells, n, mpp, ox, oy, w, h, HS_CF_EXPANSION_UM, HS_CF_MEMBRANE_UM, hem, dab);
}

/* Whether (dx, dy) pixels from the centre lie in the cell's nucleus (radius rn pixels, semi-major when elliptic). */
static int in_nucleus(const hs_cf_cell *a, double dx, double dy, double rn)
{
    if (!(a->aspect > 0) || a->aspect == 1)
        return dx * dx + dy * dy <= rn * rn;
    double c = cos(a->theta), s = sin(a->theta), u = dx * c + dy * s, v = -dx * s + dy * c, b = a->aspect * rn;
    return (u * u) / (rn * rn) + (v * v) / (b * b) <= 1;
}

void hs_cf_render_ex(const hs_cf_cell *cells, size_t n, double mpp, int ox, int oy, int w, int h, double expansion_um,
                     double membrane_um, float *hem, float *dab)
{
    size_t np = (size_t)w * (size_t)h;
    for (size_t i = 0; i < np; i++) {
        if (hem)
            hem[i] = 0;
        if (dab)
            dab[i] = 0;
    }
    double R = expansion_um / mpp, mem = membrane_um / mpp, reach = 2 * R + 2 * mem + 1;
    size_t *nb = malloc((n ? n : 1) * sizeof *nb);
    if (!nb)
        abort();
    for (size_t i = 0; i < n; i++) {
        const hs_cf_cell *a = &cells[i];
        int xa = (int)floor(a->x - R) - ox, xb = (int)ceil(a->x + R) - ox;
        int ya = (int)floor(a->y - R) - oy, yb = (int)ceil(a->y + R) - oy;
        if (xb < 0 || yb < 0 || xa >= w || ya >= h)
            continue;
        if (xa < 0)
            xa = 0;
        if (ya < 0)
            ya = 0;
        if (xb > w - 1)
            xb = w - 1;
        if (yb > h - 1)
            yb = h - 1;
        size_t nn = 0;
        for (size_t k = 0; k < n; k++) {
            double dx = cells[k].x - a->x, dy = cells[k].y - a->y;
            if (k != i && dx * dx + dy * dy < reach * reach)
                nb[nn++] = k;
        }
        double rn = a->r_um / mpp;
        for (int y = ya; y <= yb; y++)
            for (int x = xa; x <= xb; x++) {
                double px = x + ox, py = y + oy, dx = px - a->x, dy = py - a->y, d2 = dx * dx + dy * dy;
                if (d2 > R * R)
                    continue;
                double b = R - sqrt(d2);
                int owned = 1;
                for (size_t q = 0; q < nn && owned; q++) {
                    const hs_cf_cell *k = &cells[nb[q]];
                    double ex = px - k->x, ey = py - k->y, e2 = ex * ex + ey * ey;
                    double D = hypot(k->x - a->x, k->y - a->y);
                    if (e2 < d2 || (e2 == d2 && nb[q] < i))
                        owned = 0;
                    else if ((e2 - d2) / (2 * D) < b)
                        b = (e2 - d2) / (2 * D);
                }
                if (!owned)
                    continue;
                size_t p = (size_t)y * w + x;
                double t = (atan2(dy, dx) + M_PI) / (2 * M_PI);
                int in_arc = a->arc >= 1 || t < a->arc;
                if (hem)
                    hem[p] = (float)(in_nucleus(a, dx, dy, rn) ? HS_CF_NUCLEUS_H : HS_CF_CYTO_H);
                if (dab)
                    dab[p] = (float)(b <= mem && in_arc ? a->dab : HS_CF_CYTO_DAB);
            }
    }
    free(nb);
}

void hs_cf_rgb(const float *hem, const float *dab, size_t npix, const double bg[3], uint8_t *rgb)
{
    static const double H[3] = {0.650, 0.704, 0.286}, D[3] = {0.268, 0.570, 0.776};
    double nh = sqrt(H[0] * H[0] + H[1] * H[1] + H[2] * H[2]), nd = sqrt(D[0] * D[0] + D[1] * D[1] + D[2] * D[2]);
    for (size_t i = 0; i < npix; i++)
        for (int c = 0; c < 3; c++) {
            double od = hem[i] * H[c] / nh + dab[i] * D[c] / nd;
            rgb[3 * i + c] = (uint8_t)lround(bg[c] * pow(10, -od));
        }
}

double hs_cf_uniform(uint64_t i)
{
    uint64_t z = i * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}
