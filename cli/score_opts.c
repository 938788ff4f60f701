/*
 * score_opts: scoring options shared by the subcommands that score slides (see score_opts.h).
 */
#include "score_opts.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "scoring/stain.h"

/* CPUs this process may run on (at least 1). */
static int online_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        return n > 0 ? n : 1;
    }
    return 1;
}

void hs_score_opts_default(hs_score_opts *o)
{
    memset(o, 0, sizeof *o);
    hs_score_params_default(&o->score);
    hs_her2_params_default(&o->her2);
    o->tile_um = 256;
    o->calibration = HS_CALIB_AUTO;
    o->score.threads = online_cpus();
}

static int parse_thresholds(const char *s, hs_her2_params *hp)
{
    double a, b, c;
    char tail;
    if (sscanf(s, "%lf,%lf,%lf%c", &a, &b, &c, &tail) != 3 || !(a > 0 && a < b && b < c))
        return -1;
    hp->od_1 = a;
    hp->od_2 = b;
    hp->od_3 = c;
    return 0;
}

static int bad(hs_error *err, const char *fmt, const char *arg) HS_FORMAT(2, 0);

/* Records a bad option value; returns -1. */
static int bad(hs_error *err, const char *fmt, const char *arg)
{
    hs_error_set(err, HS_EINVAL, fmt, arg);
    return -1;
}

int hs_score_opts_parse(hs_score_opts *o, int c, const char *arg, hs_error *err)
{
    double v;
    switch (c) {
    case HS_SOPT_MPP:
        if (hs_cli_double(arg, &v) != 0 || !(v > 0))
            return bad(err, "--mpp must be a number > 0, not '%s'", arg);
        o->score.mpp_override = v;
        return 1;
    case HS_SOPT_LEVEL_MPP:
        if (hs_cli_double(arg, &v) != 0 || !(v > 0))
            return bad(err, "--level-mpp must be a number > 0, not '%s'", arg);
        o->score.target_mpp = v;
        return 1;
    case HS_SOPT_STAINS:
        if (hs_stain_parse(arg, o->score.stain_h, o->score.stain_dab, o->score.stain_third, &o->score.has_third,
                           err) != HS_OK)
            return -1;
        o->score.has_stains = 1;
        return 1;
    case HS_SOPT_NO_STAIN_ESTIMATE: o->score.estimate_stains = 0; return 1;
    case HS_SOPT_NO_BACKGROUND: o->score.estimate_background = 0; return 1;
    case HS_SOPT_THRESHOLDS:
        if (parse_thresholds(arg, &o->her2) != 0)
            return bad(err, "--thresholds must be three increasing numbers > 0, not '%s'", arg);
        return 1;
    case HS_SOPT_COMPLETE:
        if (hs_cli_double(arg, &v) != 0 || !(v > 0 && v <= 1))
            return bad(err, "--complete must be in (0, 1], not '%s'", arg);
        o->her2.complete = v;
        return 1;
    case HS_SOPT_NUCLEUS_OD:
        if (hs_cli_double(arg, &v) != 0 || !(v > 0))
            return bad(err, "--nucleus-od must be a number > 0, not '%s'", arg);
        o->score.cells.nucleus_od = v;
        return 1;
    case HS_SOPT_TILE_UM:
        if (hs_cli_double(arg, &v) != 0 || !(v > 0))
            return bad(err, "--tile-um must be a number > 0, not '%s'", arg);
        o->tile_um = v;
        return 1;
    case HS_SOPT_CALIBRATION:
        if (hs_calib_mode_parse(arg, &o->calibration) != 0)
            return bad(err, "--calibration must be auto, cohort, controls or fixed, not '%s'", arg);
        return 1;
    case HS_SOPT_CONTROLS: o->controls = arg; return 1;
    case HS_SOPT_THREADS:
        if (hs_cli_double(arg, &v) != 0 || !(v >= 1 && v <= 64) || v != (int)v)
            return bad(err, "--threads must be a whole number 1..64, not '%s'", arg);
        o->score.threads = (int)v;
        return 1;
    default: return 0;
    }
}

void hs_score_opts_help(FILE *f)
{
    fprintf(f,
            "Scoring options:\n"
            "  --mpp U               the slides' level-0 microns per pixel (overrides the file)\n"
            "  --level-mpp U         score at the level nearest U microns per pixel (0.5)\n"
            "  --stains H;DAB[;T]    stain vectors, e.g. '0.650,0.704,0.286;0.268,0.570,0.776'\n"
            "                        (default: estimated from each slide, Macenko's method)\n"
            "  --no-stain-estimate   use the Ruifrok-Johnston vectors instead of estimating them\n"
            "  --no-background       use 255,255,255 as the glass intensity instead of estimating it\n"
            "  --calibration M       membrane DAB cuts per staining batch: auto (controls where the batch\n"
            "                        has them, else cohort), cohort (valleys of the batch's own cells),\n"
            "                        controls (control slides' known areas) or fixed (--thresholds)\n"
            "  --controls FILE.csv   control areas: batch,slide,class,x0_um,y0_um,x1_um,y1_um\n"
            "  --thresholds A,B,C    fixed DAB OD cuts of 1+/2+/3+ (QuPath's 0.2,0.4,0.6)\n"
            "  --complete F          stained fraction of a complete membrane (0.8)\n"
            "  --nucleus-od T        nucleus threshold of the smoothed, background-subtracted hematoxylin OD (0.15)\n"
            "  --tile-um U           heterogeneity tile side in micrometres (256)\n"
            "  --threads N           regions of a slide scored at once (default: the CPUs available)\n");
}

/* One "key value" line; numbers as %.17g so that equal lines mean equal parameters. */
static void kv(FILE *f, const char *key, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fprintf(f, "%s %s\n", key, buf);
}

/* Three numbers as kv writes one, comma-separated. */
static void kv3(FILE *f, const char *key, const double *v)
{
    fprintf(f, "%s ", key);
    for (int k = 0; k < 3; k++) {
        char buf[40];
        snprintf(buf, sizeof buf, "%.15g", v[k]);
        if (strtod(buf, NULL) != v[k])
            snprintf(buf, sizeof buf, "%.17g", v[k]);
        fprintf(f, "%s%s", k ? "," : "", buf);
    }
    fputc('\n', f);
}

void hs_score_opts_describe_measure(const hs_score_opts *o, FILE *f)
{
    const hs_score_params *p = &o->score;
    const hs_cell_params *c = &p->cells;
    kv(f, "level_mpp", p->target_mpp);
    kv(f, "mpp_override", p->mpp_override);
    kv(f, "region_px", p->region_px);
    kv(f, "sample_regions", p->sample_regions);
    kv(f, "estimate_background", p->estimate_background);
    kv(f, "tissue_od", p->tissue_od);
    kv(f, "estimate_stains", p->estimate_stains);
    if (p->has_stains) {
        kv3(f, "stain_h", p->stain_h);
        kv3(f, "stain_dab", p->stain_dab);
    } else {
        fputs("stains estimated-or-default\n", f);
    }
    if (p->has_third)
        kv3(f, "stain_third", p->stain_third);
    kv(f, "nucleus_od", c->nucleus_od);
    kv(f, "background_um", c->background_um);
    kv(f, "min_area_um2", c->min_area_um2);
    kv(f, "max_area_um2", c->max_area_um2);
    kv(f, "max_radius_um", c->max_radius_um);
    kv(f, "split_neck", c->split_neck);
    kv(f, "max_elongation", c->max_elongation);
    kv(f, "sheet_factor", c->sheet_factor);
    kv(f, "min_area_frac", c->min_area_frac);
    kv(f, "edge_factor", c->edge_factor);
    kv(f, "sectors", c->sectors);
    kv(f, "rays_per_sector", c->rays_per_sector);
    kv(f, "band_px", c->band_px);
}

void hs_score_opts_describe(const hs_score_opts *o, FILE *f)
{
    const hs_her2_params *h = &o->her2;
    hs_score_opts_describe_measure(o, f);
    double od[3] = {h->od_1, h->od_2, h->od_3};
    kv3(f, "thresholds", od);
    kv(f, "complete", h->complete);
    kv(f, "partial", h->partial);
    kv(f, "call_frac", h->call_frac);
    kv(f, "noise_frac", h->noise_frac);
    kv(f, "scattered_frac", h->scattered_frac);
    kv(f, "het_frac", h->het_frac);
    kv(f, "cluster_moran", h->cluster_moran);
    kv(f, "tile_min_cells", (double)h->tile_min_cells);
    kv(f, "tile_um", o->tile_um);
    fprintf(f, "calibration %s\n", hs_calib_mode_name(o->calibration));
}
