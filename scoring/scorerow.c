/*
 * scorerow: the score columns of one slide (see scorerow.h).
 */
#include "scorerow.h"

#include <math.h>
#include <string.h>

#include "util/hs_parse.h"

enum {
    C_STATUS, C_ERROR, C_N_CELLS, C_N_TILES, C_P0, C_P1, C_P2, C_P3, C_HSCORE, C_IHC, C_CLASS, C_ENTROPY, C_SIMPSON,
    C_TILE_CV, C_DISCORDANT, C_MORAN, C_PATTERN, C_HETEROGENEOUS, C_RADIUS, C_STAIN_SOURCE, C_H_ANGLE, C_DAB_ANGLE,
    C_CALIBRATION, C_OD1, C_OD2, C_OD3, C_LEAK
};

const char *const hs_score_col[HS_SCORE_NCOL] = {
    "status", "error", "n_cells", "n_tiles", "p0", "p1", "p2", "p3", "hscore", "ihc_score", "her2_class",
    "entropy", "simpson", "tile_cv", "discordant_frac", "morans_i", "pattern", "heterogeneous", "cell_radius_um",
    "stain_source", "stain_h_angle", "stain_dab_angle", "calibration", "od_1", "od_2", "od_3", "leak",
};

#define T HS_SCOL_TEXT
#define N HS_SCOL_NUMBER
const hs_scol_kind hs_score_col_kind[HS_SCORE_NCOL] = {
    T, T, N, N, N, N, N, N, N, T, T, N, N, N, N, N, T, N, N, T, N, N, T, N, N, N, N,
};
#undef T
#undef N

void hs_score_row_init(hs_score_row *r)
{
    memset(r, 0, sizeof *r);
    r->leak = NAN;
}

void hs_score_row_fail(hs_score_row *r, const char *msg)
{
    r->ok = 0;
    snprintf(r->error, sizeof r->error, "%s", msg);
}

void hs_score_row_measured(hs_score_row *r, const hs_score_result *res)
{
    r->measured = 1;
    r->cell_radius_um = res->cell_radius_um;
    r->stain_source = res->stain_source;
    r->stain_h_angle = res->stain_source == HS_STAIN_DEFAULT ? NAN : res->stain_h_angle;
    r->stain_dab_angle =
        res->stain_source == HS_STAIN_DEFAULT || res->stain_source == HS_STAIN_ESTIMATED_H ? NAN : res->stain_dab_angle;
}

void hs_score_row_cuts(hs_score_row *r, const hs_calib_cuts *c)
{
    r->has_cuts = 1;
    r->method = c->method;
    memcpy(r->od, c->od, sizeof r->od);
}

double hs_score_row_number(const hs_score_row *r, int j)
{
    const hs_slide_metrics *m = &r->m;
    if (j >= C_RADIUS) {
        switch (j) {
        case C_RADIUS: return r->measured ? r->cell_radius_um : NAN;
        case C_H_ANGLE: return r->measured ? r->stain_h_angle : NAN;
        case C_DAB_ANGLE: return r->measured ? r->stain_dab_angle : NAN;
        case C_OD1: case C_OD2: case C_OD3: return r->has_cuts ? r->od[j - C_OD1] : NAN;
        case C_LEAK: return r->leak;
        default: return NAN;
        }
    }
    if (!r->ok)
        return NAN;
    switch (j) {
    case C_N_CELLS: return (double)m->n_cells;
    case C_N_TILES: return (double)m->n_tiles;
    case C_P0: case C_P1: case C_P2: case C_P3: return m->p[j - C_P0];
    case C_HSCORE: return m->hscore;
    case C_ENTROPY: return m->entropy;
    case C_SIMPSON: return m->simpson;
    case C_TILE_CV: return m->tile_cv;
    case C_DISCORDANT: return m->discordant_frac;
    case C_MORAN: return m->morans_i;
    case C_HETEROGENEOUS: return m->heterogeneous < 0 ? NAN : m->heterogeneous;
    default: return NAN;
    }
}

/* x as hs_fprint_double writes it. */
static const char *number_text(double x, char *buf, size_t size)
{
    if (isnan(x))
        return "NA";
    if (isinf(x))
        return x > 0 ? "Inf" : "-Inf";
    snprintf(buf, size, "%.17g", x);
    return buf;
}

const char *hs_score_row_text(const hs_score_row *r, int j, char *buf, size_t size)
{
    static const char *const source[] = {"default", "given", "estimated", "estimated-h"};
    const hs_slide_metrics *m = &r->m;
    switch (j) {
    case C_STATUS: return r->ok ? "ok" : "error";
    case C_ERROR: return r->ok ? "" : r->error;
    case C_N_CELLS:
        if (!r->ok)
            return "NA";
        snprintf(buf, size, "%lu", m->n_cells);
        return buf;
    case C_N_TILES:
        if (!r->ok)
            return "NA";
        snprintf(buf, size, "%zu", m->n_tiles);
        return buf;
    case C_IHC: return r->ok ? hs_her2_call_name(m->ihc_score) : "NA";
    case C_CLASS: return r->ok ? hs_her2_category_name(m->her2_class) : "NA";
    case C_PATTERN: return r->ok ? hs_her2_pattern_name(m->pattern) : "NA";
    case C_HETEROGENEOUS:
        if (!r->ok || m->heterogeneous < 0)
            return "NA";
        snprintf(buf, size, "%d", m->heterogeneous);
        return buf;
    case C_STAIN_SOURCE: return r->measured ? source[r->stain_source] : "NA";
    case C_CALIBRATION:
        return r->has_cuts ? hs_calib_mode_name(r->method) : r->calibration[0] ? r->calibration : "NA";
    default: return number_text(hs_score_row_number(r, j), buf, size);
    }
}

int hs_score_row_write(FILE *f, const hs_score_row *r)
{
    char buf[64];
    for (int j = 0; j < HS_SCORE_NCOL; j++) {
        fputc(',', f);
        hs_fprint_field(f, hs_score_row_text(r, j, buf, sizeof buf));
    }
    return fputc('\n', f) == EOF ? -1 : 0;
}

int hs_score_row_write_header(FILE *f)
{
    int rc = 0;
    for (int j = 0; j < HS_SCORE_NCOL; j++)
        rc = fprintf(f, ",%s", hs_score_col[j]) < 0 ? -1 : rc;
    return rc;
}
