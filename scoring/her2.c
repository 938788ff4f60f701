/*
 * her2: per-cell classes, ASCO/CAP 2018 slide calls and HER2 categories
 * (see her2.h; the defaults are justified in docs/scoring-metrics.md).
 */
#include "her2.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "util/hs_parse.h"

void hs_her2_params_default(hs_her2_params *p)
{
    p->od_1 = 0.2; /* QuPath's default DAB OD thresholds for 1+/2+/3+ */
    p->od_2 = 0.4;
    p->od_3 = 0.6;
    p->complete = 0.8;
    p->partial = 0.1;
    p->call_frac = 0.10;
    p->noise_frac = 0.01;
    p->scattered_frac = 0.02;
    p->het_frac = 0.10;
    p->cluster_moran = 0.4;
    p->tile_min_cells = 20;
}

hs_class hs_her2_cell_class(const hs_her2_params *p, double intensity, double completeness)
{
    if (!(intensity >= p->od_1) || !(completeness >= p->partial))
        return HS_CLASS_0;
    if (completeness >= p->complete) {
        if (intensity >= p->od_3)
            return HS_CLASS_3;
        if (intensity >= p->od_2)
            return HS_CLASS_2;
    }
    return HS_CLASS_1;
}

hs_call hs_her2_call(const hs_her2_params *p, const double f[HS_NCLASS], size_t n)
{
    if (n == 0)
        return HS_CALL_NA;
    double t = p->call_frac;
    if (f[3] > t)
        return HS_CALL_3;
    if (f[2] + f[3] > t || f[3] > p->noise_frac)
        return HS_CALL_2;
    if (f[1] + f[2] + f[3] > t)
        return HS_CALL_1;
    return HS_CALL_0;
}

hs_her2_class hs_her2_category(const hs_her2_params *p, hs_call call, const double f[HS_NCLASS], hs_ish ish)
{
    switch (call) {
    case HS_CALL_0: return f[1] + f[2] + f[3] > p->noise_frac ? HS_HER2_ULTRALOW : HS_HER2_NULL;
    case HS_CALL_1: return HS_HER2_LOW;
    case HS_CALL_2:
        return ish == HS_ISH_POSITIVE ? HS_HER2_POSITIVE : ish == HS_ISH_NEGATIVE ? HS_HER2_LOW : HS_HER2_EQUIVOCAL;
    case HS_CALL_3: return HS_HER2_POSITIVE;
    default: return HS_HER2_NA;
    }
}

double hs_her2_hscore(const double f[HS_NCLASS])
{
    return 100.0 * (f[1] + 2.0 * f[2] + 3.0 * f[3]);
}

const char *hs_her2_call_name(hs_call c)
{
    static const char *const names[] = {"0", "1+", "2+", "3+"};
    return c >= HS_CALL_0 && c <= HS_CALL_3 ? names[c] : "NA";
}

const char *hs_her2_category_name(hs_her2_class c)
{
    static const char *const names[] = {"null", "ultralow", "low", "equivocal", "positive"};
    return c >= HS_HER2_NULL && c <= HS_HER2_POSITIVE ? names[c] : "NA";
}

const char *hs_her2_pattern_name(hs_pattern p)
{
    static const char *const names[] = {"homogeneous", "clustered", "mosaic", "scattered"};
    return p >= HS_PATTERN_HOMOGENEOUS && p <= HS_PATTERN_SCATTERED ? names[p] : "NA";
}

int hs_her2_ish_parse(const char *s, hs_ish *out)
{
    while (*s == ' ')
        s++;
    if (hs_is_missing(s)) {
        *out = HS_ISH_UNKNOWN;
        return 0;
    }
    static const char *const neg[] = {"negative", "neg", "0", "not amplified"};
    static const char *const pos[] = {"positive", "pos", "1", "amplified"};
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < 4; i++) {
        if (strlen(neg[i]) == n && strncasecmp(s, neg[i], n) == 0) {
            *out = HS_ISH_NEGATIVE;
            return 0;
        }
        if (strlen(pos[i]) == n && strncasecmp(s, pos[i], n) == 0) {
            *out = HS_ISH_POSITIVE;
            return 0;
        }
    }
    return -1;
}
