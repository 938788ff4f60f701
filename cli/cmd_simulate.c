/*
 * hetsurv simulate: writes a synthetic cohort with planted truth (pyramidal
 * TIFF slides, manifest.csv, truth.csv; the model is in docs/simulate.md).
 * Exit 0 on success, 1 on failure or misuse.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "scoring/simulate.h"

#define CMD "simulate"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hetsurv simulate --patients N --seed S --out DIR [--size PIXELS] [--effect HR]\n"
            "                        [--compression jpeg|deflate|lzw|none] [--quality Q]\n"
            "                        [--vary [--batch-size N]] [--verbose]\n"
            "\n"
            "Writes a synthetic HER2 IHC cohort with planted truth into DIR:\n"
            "  slides/<patient>.tif  pyramidal tiled TIFF slides (0.5 um/pixel) that OpenSlide opens\n"
            "  manifest.csv          patient_id,slide,dfs_time,dfs_event,os_time,os_event,age,grade,ish\n"
            "  truth.csv             patient_id,slide,p0,p1,p2,p3,ihc_score,pattern,heterogeneous\n"
            "With --vary, slides vary as between labs and scanners: each batch of patients has its own\n"
            "stain vectors, DAB gain, counterstain, bleeding, membrane width, focus blur, read noise and\n"
            "JPEG settings, and each slide its own cell size, nucleus size, fibroblasts and lymphocytes.\n"
            "It also writes:\n"
            "  controls/<batch>.tif  per batch, a control slide with four cores of class 0, 1+, 2+, 3+\n"
            "  controls.csv          batch,slide,class,x0_um,y0_um,x1_um,y1_um,n_cells\n"
            "and adds the column batch to manifest.csv, and the batch and every drawn value to truth.csv.\n"
            "The same options give the same bytes.  The model is described in docs/simulate.md.\n"
            "\n"
            "Options:\n"
            "  --patients N          number of patients (>= 1; every pattern occurs once N >= 4)\n"
            "  --seed S              random seed (unsigned 64-bit integer)\n"
            "  --out DIR             output folder (created if missing)\n"
            "  --size PIXELS         level-0 side of each slide, %d..%d (default 4096 = 2 mm)\n"
            "  --effect HR           planted hazard ratio of heterogeneity for DFS and OS (default 2.0)\n"
            "  --compression C       tile compression: jpeg (default), deflate, lzw or none\n"
            "  --quality Q           JPEG quality 1..100 (default 90; not with --vary, which draws it)\n"
            "  --vary                vary staining, scanning and tissue geometry (see above)\n"
            "  --batch-size N        patients per staining batch with --vary (default %d)\n"
            "  -v, --verbose         report each slide on stderr\n"
            "  -h, --help            show this help\n",
            HS_SIM_MIN_SIZE, HS_SIM_MAX_SIZE, HS_SIM_BATCH_SIZE);
}

/* Parses a whole decimal string as an unsigned integer in [lo, hi]; 0 or -1. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_compression(const char *s, hs_tiff_compression *out)
{
    static const struct {
        const char *name;
        hs_tiff_compression comp;
    } names[] = {{"jpeg", HS_TIFF_JPEG}, {"deflate", HS_TIFF_DEFLATE}, {"lzw", HS_TIFF_LZW}, {"none", HS_TIFF_NONE}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].comp;
            return 0;
        }
    return -1;
}

static void report(void *ctx, size_t done, size_t total, const hs_sim_patient *pt)
{
    (void)ctx;
    fprintf(stderr, "hetsurv simulate: %zu/%zu %s %s, call %s, pattern %s\n", done, total, pt->id, pt->slide,
            hs_her2_call_name(pt->ihc_score), hs_her2_pattern_name(pt->design.pattern));
}

static void report_control(void *ctx, size_t done, size_t total, const hs_sim_control *ct)
{
    (void)ctx;
    fprintf(stderr, "hetsurv simulate: control %zu/%zu %s %s, %lu/%lu/%lu/%lu cells in the 0/1+/2+/3+ cores\n", done,
            total, ct->id, ct->slide, ct->core[0].n_cells, ct->core[1].n_cells, ct->core[2].n_cells,
            ct->core[3].n_cells);
}

int main_simulate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"patients", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"size", required_argument, NULL, 'z'},
        {"effect", required_argument, NULL, 'e'},
        {"compression", required_argument, NULL, 'c'},
        {"quality", required_argument, NULL, 'q'},
        {"vary", no_argument, NULL, 'V'},
        {"batch-size", required_argument, NULL, 'b'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hs_sim_options o;
    hs_sim_options_default(&o);
    const char *out = NULL;
    int have_n = 0, have_seed = 0, have_quality = 0, have_batch = 0, verbose = 0, c;
    uint64_t v;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_u64(optarg, 1, 100000000, &v) != 0)
                return hs_cli_misuse(CMD, usage, "--patients: expected an integer from 1 to 100000000, not '%s'", optarg);
            o.npatient = (size_t)v;
            have_n = 1;
            break;
        case 's':
            if (parse_u64(optarg, 0, UINT64_MAX, &v) != 0)
                return hs_cli_misuse(CMD, usage, "--seed: expected an unsigned 64-bit integer, not '%s'", optarg);
            o.seed = v;
            have_seed = 1;
            break;
        case 'o': out = optarg; break;
        case 'z':
            if (parse_u64(optarg, HS_SIM_MIN_SIZE, HS_SIM_MAX_SIZE, &v) != 0)
                return hs_cli_misuse(CMD, usage, "--size: expected a number of pixels from 256 to 200000, not '%s'", optarg);
            o.size = (uint32_t)v;
            break;
        case 'e':
            if (hs_cli_double(optarg, &o.effect) != 0 || !(o.effect > 0.0))
                return hs_cli_misuse(CMD, usage, "--effect: expected a positive hazard ratio, not '%s'", optarg);
            break;
        case 'c':
            if (parse_compression(optarg, &o.comp) != 0)
                return hs_cli_misuse(CMD, usage, "--compression: expected jpeg, deflate, lzw or none, not '%s'", optarg);
            break;
        case 'q':
            if (parse_u64(optarg, 1, 100, &v) != 0)
                return hs_cli_misuse(CMD, usage, "--quality: expected an integer from 1 to 100, not '%s'", optarg);
            o.jpeg_quality = (int)v;
            have_quality = 1;
            break;
        case 'V': o.vary = 1; break;
        case 'b':
            if (parse_u64(optarg, 1, 100000000, &v) != 0)
                return hs_cli_misuse(CMD, usage, "--batch-size: expected an integer from 1 to 100000000, not '%s'",
                                     optarg);
            o.batch_size = (size_t)v;
            have_batch = 1;
            break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return HS_EXIT_OK;
        default: return hs_cli_misuse(CMD, usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return hs_cli_misuse(CMD, usage, "unexpected argument '%s'", argv[optind]);
    if (!have_n)
        return hs_cli_misuse(CMD, usage, "%s", "--patients is required");
    if (!have_seed)
        return hs_cli_misuse(CMD, usage, "%s", "--seed is required");
    if (!out || !*out)
        return hs_cli_misuse(CMD, usage, "%s", "--out is required");
    if (have_batch && !o.vary)
        return hs_cli_misuse(CMD, usage, "%s", "--batch-size needs --vary");
    if (have_quality && o.vary)
        return hs_cli_misuse(CMD, usage, "%s", "--quality cannot be combined with --vary, which draws it per batch");
    if (verbose) {
        o.progress = report;
        o.control_progress = report_control;
    }
    hs_error err;
    hs_error_clear(&err);
    if (hs_sim_write(out, &o, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        return HS_EXIT_FAIL;
    }
    if (o.vary) {
        size_t nb = o.npatient / o.batch_size + (o.npatient % o.batch_size != 0);
        printf("%s: %zu patients in %zu batches: slides/, controls/, manifest.csv, truth.csv, controls.csv (seed %" PRIu64
               ", %u px, HR %g, varied)\n",
               out, o.npatient, nb, o.seed, o.size, o.effect);
    } else {
        printf("%s: %zu patients: slides/, manifest.csv, truth.csv (seed %" PRIu64 ", %u px, HR %g)\n", out,
               o.npatient, o.seed, o.size, o.effect);
    }
    return hs_cli_stdout_flush() == 0 ? HS_EXIT_OK : HS_EXIT_FAIL;
}
