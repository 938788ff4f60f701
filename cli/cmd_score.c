/*
 * hetsurv score: scores HER2 IHC slides on one process and writes one CSV row
 * per slide (or per image of a QuPath export).  A slide that fails gets
 * status=error and its reason; the others are still scored.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cohorts/csvread.h"
#include "cohorts/manifest.h"
#include "scoring/qupath.h"
#include "scoring/score.h"
#include "scoring/stain.h"
#include "util/hs_parse.h"

#define CMD "score"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hetsurv score SLIDE... [--out FILE.csv] [--map DIR] [options]\n"
            "       hetsurv score --manifest MANIFEST.csv [--factors A,...] [--out FILE.csv] [--map DIR] [options]\n"
            "       hetsurv score --qupath EXPORT.tsv [--out FILE.csv] [--map DIR] [options]\n"
            "\n"
            "Scores HER2 membrane staining of each slide: tumour cells classed 0/1+/2+/3+ (ASCO/CAP 2018),\n"
            "H-score, slide call, HER2 category and heterogeneity metrics (docs/scoring-metrics.md).\n"
            "Slides: anything OpenSlide reads (SVS, NDPI, MRXS, tiled TIFF, ...), plain TIFF and PNG.\n"
            "\n"
            "Options:\n"
            "  --out FILE.csv        write the table there (default: stdout)\n"
            "  --map DIR             write each slide's tile map as DIR/<name>.tiles.csv\n"
            "  --cells DIR           write each slide's tumour cells as DIR/<name>.cells.csv\n"
            "  --manifest FILE       score every patient's slide of a cohort manifest and write the cohort\n"
            "                        table: the manifest's columns followed by the score columns; an 'ish'\n"
            "                        column (positive/negative) resolves 2+ per patient\n"
            "  --factors A,...       manifest covariates that are categorical (text)\n"
            "  --qupath FILE         score the cells of a QuPath detection export instead of slides\n"
            "  --mpp U               the slides' level-0 microns per pixel (overrides the file)\n"
            "  --level-mpp U         score at the level nearest U microns per pixel (0.5)\n"
            "  --stains H;DAB[;T]    stain vectors, e.g. '0.650,0.704,0.286;0.268,0.570,0.776'\n"
            "  --no-background       use 255,255,255 as the glass intensity instead of estimating it\n"
            "  --thresholds A,B,C    DAB OD thresholds of 1+/2+/3+ membrane intensity (0.2,0.4,0.6)\n"
            "  --complete F          stained ring fraction of a complete membrane (0.8)\n"
            "  --nucleus-od T        nucleus threshold of the smoothed, background-subtracted hematoxylin OD (0.15)\n"
            "  --tile-um U           heterogeneity tile side in micrometres (256)\n"
            "  --ish RESULT          ISH result (positive/negative) used to resolve 2+ for every slide\n"
            "  --completeness-column NAME  QuPath column with the stained membrane fraction (0..1);\n"
            "                        (default: \"Membrane: DAB completeness\" when present); without one,\n"
            "                        QuPath's own Negative/1+/2+/3+ classes are used\n"
            "  -h, --help            show this help\n");
}

/* The score columns; a table of slides starts with "slide,", a cohort table with the manifest's columns. */
static const char *const score_header = "status,error,n_cells,n_tiles,p0,p1,p2,p3,hscore,ihc_score,her2_class,entropy,"
                                        "simpson,tile_cv,discordant_frac,morans_i,pattern,heterogeneous";

static void put_num(FILE *f, double x)
{
    fputc(',', f);
    hs_fprint_double(f, x);
}

/* Writes the score columns of one slide (with their leading comma) and ends the row. */
static void put_scores(FILE *f, const hs_slide_metrics *m, const char *error)
{
    if (error) {
        fputs(",error,", f);
        hs_fprint_field(f, error);
        fputs(",NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA\n", f);
        return;
    }
    fprintf(f, ",ok,,%lu,%zu", m->n_cells, m->n_tiles);
    for (int k = 0; k < HS_NCLASS; k++)
        put_num(f, m->p[k]);
    put_num(f, m->hscore);
    fprintf(f, ",%s,%s", hs_her2_call_name(m->ihc_score), hs_her2_category_name(m->her2_class));
    put_num(f, m->entropy);
    put_num(f, m->simpson);
    put_num(f, m->tile_cv);
    put_num(f, m->discordant_frac);
    put_num(f, m->morans_i);
    fprintf(f, ",%s,", hs_her2_pattern_name(m->pattern));
    if (m->heterogeneous < 0)
        fputs("NA\n", f);
    else
        fprintf(f, "%d\n", m->heterogeneous);
}

static void put_row(FILE *f, const char *slide, const hs_slide_metrics *m, const char *error)
{
    hs_fprint_field(f, slide);
    put_scores(f, m, error);
}

/* Writes DIR/<base name of slide>.tiles.csv: one row per tile with cells. */
static int write_map(const char *dir, const char *slide, const hs_tilemap *map, const hs_her2_params *hp,
                     hs_error *err)
{
    const char *base = strrchr(slide, '/');
    base = base ? base + 1 : slide;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.tiles.csv", dir, base);
    FILE *f = fopen(path, "w");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "ix,iy,x_um,y_um,n_cells,n0,n1,n2,n3,hscore,ihc_score,tumour\n");
    for (size_t iy = 0; iy < map->ny; iy++)
        for (size_t ix = 0; ix < map->nx; ix++) {
            const unsigned long *c = map->count + (iy * map->nx + ix) * HS_NCLASS;
            unsigned long n = c[0] + c[1] + c[2] + c[3];
            if (!n)
                continue;
            double fr[HS_NCLASS];
            for (int k = 0; k < HS_NCLASS; k++)
                fr[k] = (double)c[k] / n;
            fprintf(f, "%zu,%zu,%.17g,%.17g,%lu,%lu,%lu,%lu,%lu,%.17g,%s,%d\n", ix, iy, ix * map->tile_um,
                    iy * map->tile_um, n, c[0], c[1], c[2], c[3], hs_her2_hscore(fr),
                    hs_her2_call_name(hs_her2_call(hp, fr, n)), n >= hp->tile_min_cells);
        }
    if (ferror(f) | (fclose(f) != 0))
        return hs_error_set(err, HS_EIO, "%s: write error", path);
    return HS_OK;
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

/* Per-cell output of one slide, for --cells. */
static void put_cell(void *ctx, double x_um, double y_um, const hs_cell *c)
{
    FILE *f = ctx;
    fprintf(f, "%.6f,%.6f,%.4f,%.6f,%.6f,%s\n", x_um, y_um, c->area_um2, c->intensity, c->completeness,
            hs_her2_call_name((hs_call)c->cls));
}

static FILE *open_cells(const char *dir, const char *name, hs_error *err)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.cells.csv", dir, base);
    FILE *f = fopen(path, "w");
    if (!f)
        hs_error_set(err, HS_EIO, "%s: cannot create: %s", path, strerror(errno));
    else
        fprintf(f, "x_um,y_um,nucleus_area_um2,membrane_dab_od,membrane_completeness,class\n");
    return f;
}

/*
 * Scores one slide and writes the rest of its row: row_name when not NULL (a
 * cohort row's manifest columns are already written), then the scores.  name
 * names its --map and --cells files.
 * Returns 1 when the slide failed.
 */
static int score_one(FILE *f, const char *row_name, const char *name, const char *path, const hs_score_params *p0,
                     hs_ish ish, const char *map, const char *cells, int *status)
{
    hs_score_result res;
    hs_error err;
    hs_score_params p1 = *p0, *p = &p1;
    FILE *cf = NULL;
    if (row_name)
        hs_fprint_field(f, row_name);
    if (cells && !(cf = open_cells(cells, name, &err))) {
        hs_cli_error(CMD, "%s", err.msg);
        *status = HS_EXIT_FAIL;
    }
    p->cell_fn = cf ? put_cell : NULL;
    p->cell_ctx = cf;
    int rc = hs_score_slide(path, p, ish, &res, &err);
    if (cf && (ferror(cf) | (fclose(cf) != 0))) {
        hs_cli_error(CMD, "%s: write error in the cell table", name);
        *status = HS_EXIT_FAIL;
    }
    if (rc != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        put_scores(f, NULL, err.msg);
        return 1;
    }
    put_scores(f, &res.metrics, NULL);
    if (map && write_map(map, name, res.map, &p->her2, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        *status = HS_EXIT_FAIL;
    }
    hs_score_result_clear(&res);
    return 0;
}

static int score_qupath(FILE *f, const char *path, const char *completeness_col, const hs_score_params *p, hs_ish ish,
                        const char *map, int *nfail, int *ntotal)
{
    hs_qupath *q = NULL;
    hs_error err;
    if (hs_qupath_read(&q, path, p->tile_um, p->mpp_override, completeness_col, &p->her2, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        return HS_EXIT_FAIL;
    }
    int status = HS_EXIT_OK;
    fprintf(f, "slide,%s\n", score_header);
    for (size_t i = 0; i < q->nimage; i++) {
        hs_slide_metrics m;
        (*ntotal)++;
        if (hs_metrics_compute(q->image[i].map, &p->her2, ish, &m, &err) != HS_OK) {
            put_row(f, q->image[i].image, NULL, err.msg);
            (*nfail)++;
            continue;
        }
        put_row(f, q->image[i].image, &m, m.n_cells ? NULL : "no tumour cells in the export");
        *nfail += m.n_cells == 0;
        if (map && m.n_cells && write_map(map, q->image[i].image, q->image[i].map, &p->her2, &err) != HS_OK) {
            hs_cli_error(CMD, "%s", err.msg);
            status = HS_EXIT_FAIL;
        }
    }
    hs_qupath_free(q);
    return status;
}

/* Echoes an input number in its shortest form that reads back to the same double ("35.97", not 35.969999...). */
static void put_input_number(FILE *f, double x)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", x);
    if (strtod(buf, NULL) != x)
        snprintf(buf, sizeof buf, "%.17g", x);
    fputs(buf, f);
}

/*
 * The cohort table: every manifest row with its slide's scores appended.  An
 * "ish" column, when present, resolves 2+ per patient.  Manifest errors stop
 * the run before any slide is read; a missing or bad slide is only that
 * patient's status=error.
 */
typedef struct header_probe {
    const char *name;
    int found;
} header_probe;

static int probe_row(void *ctx, const hs_csv_row *row, hs_error *err)
{
    header_probe *h = ctx;
    for (size_t i = 0; i < row->nfield; i++)
        h->found |= strcmp(row->field[i], h->name) == 0;
    (void)err;
    return 1; /* stop after the header */
}

/* Whether the CSV's header has a column called name. */
static int header_has(const char *path, const char *name, int *found, hs_error *err)
{
    header_probe h = {name, 0};
    int rc = hs_csv_read(path, ',', probe_row, &h, err);
    *found = h.found;
    return rc == 1 ? HS_OK : rc;
}

static int score_manifest(FILE *f, const char *path, char **user_factors, size_t nfactor, const hs_score_params *p,
                          const char *map, const char *cells, int *nfail, int *ntotal)
{
    hs_manifest *m = NULL;
    hs_error err;
    int has_ish = 0;
    if (header_has(path, "ish", &has_ish, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        return HS_EXIT_FAIL;
    }
    size_t nf = 0;
    const char **factors = malloc((nfactor + 2) * sizeof *factors);
    if (!factors) {
        hs_cli_error(CMD, "out of memory");
        return HS_EXIT_FAIL;
    }
    for (size_t i = 0; i < nfactor; i++)
        factors[nf++] = user_factors[i];
    if (has_ish)
        factors[nf++] = "ish";
    int rc = hs_manifest_read(&m, path, factors, nf, 0, &err);
    free(factors);
    if (rc != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        return HS_EXIT_FAIL;
    }
    size_t ish_col = m->ncov;
    for (size_t j = 0; j < m->ncov; j++)
        if (strcmp(m->cov_name[j], "ish") == 0)
            ish_col = j;
    if (m->nerror) {
        for (size_t i = 0; i < m->nproblem; i++)
            if (!m->problem[i].warning)
                hs_cli_error(CMD, "%s:%ld:%zu: %s", path, m->problem[i].line, m->problem[i].column, m->problem[i].msg);
        hs_cli_error(CMD, "%s: invalid manifest (%zu errors): see hetsurv validate", path, m->nerror);
        hs_manifest_free(m);
        return HS_EXIT_FAIL;
    }
    for (int k = 0; k < HS_MF_NREQ; k++)
        fprintf(f, "%s,", hs_manifest_required[k]);
    for (size_t j = 0; j < m->ncov; j++) {
        hs_fprint_field(f, m->cov_name[j]);
        fputc(',', f);
    }
    fprintf(f, "%s\n", score_header);
    int status = HS_EXIT_OK;
    for (size_t i = 0; i < m->npatient; i++) {
        const hs_manifest_patient *pt = &m->patient[i];
        hs_fprint_field(f, pt->patient_id);
        fputc(',', f);
        hs_fprint_field(f, pt->slide);
        fputc(',', f);
        put_input_number(f, pt->dfs_time);
        fprintf(f, ",%d,", pt->dfs_event);
        put_input_number(f, pt->os_time);
        fprintf(f, ",%d", pt->os_event);
        for (size_t j = 0; j < m->ncov; j++) {
            fputc(',', f);
            hs_fprint_field(f, pt->cov[j] ? pt->cov[j] : "NA");
        }
        hs_ish ish = HS_ISH_UNKNOWN;
        if (ish_col < m->ncov && pt->cov[ish_col] && hs_her2_ish_parse(pt->cov[ish_col], &ish) != 0) {
            hs_cli_error(CMD, "%s:%ld: ish: not positive/negative: '%s' (taken as unknown)", path, pt->line,
                         pt->cov[ish_col]);
            ish = HS_ISH_UNKNOWN;
        }
        (*ntotal)++;
        *nfail += score_one(f, NULL, pt->patient_id, pt->slide_path, p, ish, map, cells, &status);
    }
    hs_manifest_free(m);
    return status;
}

int main_score(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},      {"map", required_argument, NULL, 'm'},
        {"qupath", required_argument, NULL, 'q'},   {"mpp", required_argument, NULL, 'u'},
        {"level-mpp", required_argument, NULL, 'l'}, {"stains", required_argument, NULL, 's'},
        {"no-background", no_argument, NULL, 'b'},  {"thresholds", required_argument, NULL, 't'},
        {"complete", required_argument, NULL, 'c'}, {"tile-um", required_argument, NULL, 'T'},
        {"ish", required_argument, NULL, 'i'},      {"completeness-column", required_argument, NULL, 'C'},
        {"cells", required_argument, NULL, 'X'},   {"nucleus-od", required_argument, NULL, 'N'},   {"manifest", required_argument, NULL, 'M'}, {"factors", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    hs_score_params p;
    hs_score_params_default(&p);
    const char *out = NULL, *map = NULL, *cells = NULL, *qupath = NULL, *completeness_col = NULL, *manifest = NULL;
    const char *factors_arg = "";
    char **factors = NULL;
    size_t nfactor = 0;
    hs_ish ish = HS_ISH_UNKNOWN;
    hs_error err;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'm': map = optarg; break;
        case 'q': qupath = optarg; break;
        case 'u':
            if (hs_cli_double(optarg, &p.mpp_override) != 0 || p.mpp_override <= 0)
                return hs_cli_misuse(CMD, usage, "--mpp must be a number > 0, not '%s'", optarg);
            break;
        case 'l':
            if (hs_cli_double(optarg, &p.target_mpp) != 0 || p.target_mpp <= 0)
                return hs_cli_misuse(CMD, usage, "--level-mpp must be a number > 0, not '%s'", optarg);
            break;
        case 's':
            if (hs_stain_parse(optarg, p.stain_h, p.stain_dab, p.stain_third, &p.has_third, &err) != HS_OK)
                return hs_cli_misuse(CMD, usage, "%s", err.msg);
            p.has_stains = 1;
            break;
        case 'b': p.estimate_background = 0; break;
        case 't':
            if (parse_thresholds(optarg, &p.her2) != 0)
                return hs_cli_misuse(CMD, usage, "--thresholds must be three increasing numbers > 0, not '%s'", optarg);
            break;
        case 'c':
            if (hs_cli_double(optarg, &p.her2.complete) != 0 || !(p.her2.complete > 0 && p.her2.complete <= 1))
                return hs_cli_misuse(CMD, usage, "--complete must be in (0, 1], not '%s'", optarg);
            break;
        case 'T':
            if (hs_cli_double(optarg, &p.tile_um) != 0 || p.tile_um <= 0)
                return hs_cli_misuse(CMD, usage, "--tile-um must be a number > 0, not '%s'", optarg);
            break;
        case 'i':
            if (hs_her2_ish_parse(optarg, &ish) != 0)
                return hs_cli_misuse(CMD, usage, "--ish must be positive or negative, not '%s'", optarg);
            break;
        case 'C': completeness_col = optarg; break;
        case 'M': manifest = optarg; break;
        case 'X': cells = optarg; break;
        case 'N':
            if (hs_cli_double(optarg, &p.cells.nucleus_od) != 0 || p.cells.nucleus_od <= 0)
                return hs_cli_misuse(CMD, usage, "--nucleus-od must be a number > 0, not '%s'", optarg);
            break;
        case 'F': factors_arg = optarg; break;
        case 'h': usage(stdout); return HS_EXIT_OK;
        default: return hs_cli_misuse(CMD, usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if ((qupath != NULL) + (manifest != NULL) > 1)
        return hs_cli_misuse(CMD, usage, "--qupath and --manifest exclude each other");
    if (qupath || manifest ? optind != argc : optind == argc)
        return hs_cli_misuse(CMD, usage, "%s",
                             qupath || manifest ? "--qupath and --manifest take no slide arguments" : "no slide given");
    if (!(factors = hs_cli_list(factors_arg, &nfactor))) {
        hs_cli_error(CMD, "out of memory");
        return HS_EXIT_FAIL;
    }
    if (cells && hs_cli_mkdirs(cells) != 0) {
        hs_cli_error(CMD, "%s: cannot create the cells folder: %s", cells, strerror(errno));
        return HS_EXIT_FAIL;
    }
    if (map && hs_cli_mkdirs(map) != 0) {
        hs_cli_error(CMD, "%s: cannot create the map folder: %s", map, strerror(errno));
        return HS_EXIT_FAIL;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        hs_cli_error(CMD, "%s: cannot create: %s", out, strerror(errno));
        return HS_EXIT_FAIL;
    }
    int nfail = 0, ntotal = 0, status = HS_EXIT_OK;
    if (qupath)
        status = score_qupath(f, qupath, completeness_col, &p, ish, map, &nfail, &ntotal);
    else if (manifest)
        status = score_manifest(f, manifest, factors, nfactor, &p, map, cells, &nfail, &ntotal);
    else
        for (int i = optind; i < argc; i++) {
            if (i == optind)
                fprintf(f, "slide,%s\n", score_header);
            ntotal++;
            /* map and cell files are named after the slide's file name, made unique by its position */
            const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
            int seen = 0;
            for (int k = optind; k < i && !seen; k++)
                seen = strcmp(base, strrchr(argv[k], '/') ? strrchr(argv[k], '/') + 1 : argv[k]) == 0;
            char name[4096];
            snprintf(name, sizeof name, seen ? "%s.%d" : "%s", base, i - optind + 1);
            nfail += score_one(f, argv[i], name, argv[i], &p, ish, map, cells, &status);
        }
    if (f != stdout ? (ferror(f) | (fclose(f) != 0)) : fflush(f) != 0) {
        hs_cli_error(CMD, "%s: write error", out ? out : "stdout");
        status = HS_EXIT_FAIL;
    }
    if (nfail)
        fprintf(stderr, "hetsurv " CMD ": %d of %d slide%s failed (status=error in the table)\n", nfail, ntotal,
                ntotal == 1 ? "" : "s");
    hs_cli_list_free(factors);
    return nfail ? HS_EXIT_FAIL : status;
}
