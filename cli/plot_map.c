/*
 * hetsurv plot map: a slide's heterogeneity map redrawn from its saved tile
 * table (score --map, or DIR/maps of a cohort run), over the slide's
 * thumbnail when the slide is given.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "figures/canvas.h"
#include "figures/slidemap.h"

#define CMD "plot map"

/* The tile side assumed for a table of one tile, where it cannot be read from the rows: score's default. */
#define DEFAULT_TILE_UM 256.0

static void usage(FILE *f)
{
    fprintf(f, "Usage: hetsurv plot map TILES.csv [--slide SLIDE] [--mpp X] [--out BASE] [--format png,pdf,svg]\n"
               "                        [--title T] [--tile-min-cells N]\n\n"
               "A slide's heterogeneity map: each tumour tile in the colour of its HER2 IHC call (0, 1+,\n"
               "2+, 3+) over the slide's thumbnail, with a legend of tile counts and a scale bar.  TILES.csv\n"
               "is a tile table written by `hetsurv score --map DIR` (DIR/NAME.tiles.csv) or by\n"
               "`hetsurv run` (DIR/maps/PATIENT.tiles.csv).\n\n"
               "Options:\n"
               "  --slide SLIDE      the slide, for the thumbnail (without it the map is drawn on white)\n"
               "  --mpp X            the slide's micrometres per pixel, when its file does not say\n"
               "  --out BASE         write BASE.png, BASE.pdf, BASE.svg (default: TILES.csv without\n"
               "                     .tiles.csv, plus .map)\n"
               "  --format LIST      formats to write: png (300 dpi), pdf, svg (default all three)\n"
               "  --title T          title above the map\n"
               "  --tile-min-cells N the run's tile minimum, named in the legend (the table marks the tiles\n"
               "                     below it, but does not say what it was)\n"
               "  -h, --help         show this help\n");
}

enum { O_SLIDE = 1000, O_MPP, O_OUT, O_FORMAT, O_TITLE, O_MIN };

int hs_plot_map_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"slide", required_argument, NULL, O_SLIDE}, {"mpp", required_argument, NULL, O_MPP},
        {"out", required_argument, NULL, O_OUT},     {"format", required_argument, NULL, O_FORMAT},
        {"title", required_argument, NULL, O_TITLE}, {"tile-min-cells", required_argument, NULL, O_MIN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *slide = NULL, *out = NULL;
    double mpp = 0, min_cells = 0;
    unsigned mask = HS_FIG_ALL;
    hs_slidemap_opts mo;
    hs_slidemap_opts_default(&mo);
    hs_error err;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_SLIDE: slide = optarg; break;
        case O_MPP:
            if (hs_cli_double(optarg, &mpp) != 0 || !(mpp > 0))
                return hs_cli_misuse(CMD, usage, "--mpp must be a number > 0, not '%s'", optarg);
            break;
        case O_OUT: out = optarg; break;
        case O_FORMAT:
            if (hs_fig_formats_parse(optarg, &mask, &err) != HS_OK)
                return hs_cli_misuse(CMD, usage, "--format: %s", err.msg);
            break;
        case O_TITLE: mo.title = optarg; break;
        case O_MIN:
            if (hs_cli_double(optarg, &min_cells) != 0 || !(min_cells >= 1 && min_cells <= 1e9) ||
                min_cells != (double)(size_t)min_cells)
                return hs_cli_misuse(CMD, usage, "--tile-min-cells must be a whole number >= 1, not '%s'", optarg);
            break;
        case 'h': usage(stdout); return HS_EXIT_OK;
        default: return hs_cli_misuse(CMD, usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return hs_cli_misuse(CMD, usage, "%s", "TILES.csv is required");
    if (optind + 1 < argc)
        return hs_cli_misuse(CMD, usage, "unexpected argument '%s'", argv[optind + 1]);
    const char *tiles = argv[optind];
    char *base = NULL;
    if (!out) {
        size_t n = strlen(tiles);
        const char *suf = ".tiles.csv";
        size_t keep = n >= strlen(suf) && !strcmp(tiles + n - strlen(suf), suf) ? n - strlen(suf) : n;
        if (!(base = malloc(keep + 5))) {
            hs_cli_error(CMD, "out of memory");
            return HS_EXIT_FAIL;
        }
        snprintf(base, keep + 5, "%.*s.map", (int)keep, tiles);
        out = base;
    }
    int status = hs_cli_out_parent(CMD, out) != 0 ? HS_EXIT_FAIL : HS_EXIT_OK;
    hs_slidemap_data *d = NULL;
    if (status == HS_EXIT_OK &&
        (hs_slidemap_load(&d, tiles, DEFAULT_TILE_UM, &err) != HS_OK ||
         (d->min_cells = (size_t)min_cells, 0) ||
         (slide && hs_slidemap_thumb(d, slide, mpp, &err) != HS_OK) ||
         hs_slidemap_write(out, mask, d, &mo, &err) != HS_OK)) {
        hs_cli_error(CMD, "%s", err.msg);
        status = HS_EXIT_FAIL;
    }
    if (status == HS_EXIT_OK && d->note)
        hs_cli_error(CMD, "%s: %s", slide, d->note);
    hs_slidemap_data_free(d);
    free(base);
    return status;
}
