/*
 * hetsurv plot: redraws a figure from saved results, without recomputing.
 * One subcommand per figure, dispatched through subs[] (km, forest; slide
 * maps and cohort plots join the table later).  Each reads the files a
 * survival run wrote into RESULTS_DIR (README.md, "Figures").
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "figures/canvas.h"
#include "figures/forest.h"
#include "figures/kmplot.h"

#define CMD "plot"

typedef struct sub {
    const char *name;
    int (*func)(int argc, char **argv);
    const char *summary;
} sub;

static int plot_km(int argc, char **argv);
static int plot_forest(int argc, char **argv);

static const sub subs[] = {
    {"km", plot_km, "Kaplan-Meier curves with the number-at-risk table (km.csv, median.csv, tests.csv, cox.csv)"},
    {"forest", plot_forest, "forest plot of the Cox model (cox.csv, with km.csv and fit.csv when present)"},
    {"map", hs_plot_map_main, "a slide's tile calls over its thumbnail (a .tiles.csv of score --map or run)"},
};
enum { NSUB = sizeof subs / sizeof subs[0] };

static void usage(FILE *f)
{
    fprintf(f, "Usage: hetsurv plot FIGURE INPUT [options]\n\n"
               "Redraws a figure from saved results, without recomputing: km and forest from the\n"
               "RESULTS_DIR a survival analysis saved (hetsurv survival --out, or DIR/dfs and DIR/os of\n"
               "hetsurv run), map from a slide's TILES.csv (score --map, or DIR/maps of hetsurv run).\n\n"
               "Figures:\n");
    for (size_t i = 0; i < NSUB; i++)
        fprintf(f, "  %-8s %s\n", subs[i].name, subs[i].summary);
    fprintf(f, "\n`hetsurv plot FIGURE -h` shows a figure's options.\n");
}

static void usage_km(FILE *f)
{
    fprintf(f, "Usage: hetsurv plot km RESULTS_DIR [--out BASE] [--format png,pdf,svg] [--title T]\n"
               "                       [--time-unit U] [--time-break T] [--ylabel L] [--no-bands]\n"
               "                       [--no-medians] [--kmunicate]\n\n"
               "Kaplan-Meier curves of RESULTS_DIR/km.csv with censoring marks, 95%% confidence bands,\n"
               "median lines, the log-rank p (tests.csv) and for two groups the Cox HR (cox.csv), and\n"
               "the number at risk at each x tick (R's summary(fit, times = tick, extend = TRUE)).\n\n"
               "Options:\n"
               "  --out BASE         write BASE.png, BASE.pdf, BASE.svg (default RESULTS_DIR/km; BASE's\n"
               "                     folder is created)\n"
               "  --format LIST      formats to write: png (300 dpi), pdf, svg (default all three)\n"
               "  --title T          title above the plot\n"
               "  --time-unit U      x-axis unit (default months)\n"
               "  --time-break T     x ticks every T (default: R's pretty() of the time range)\n"
               "  --ylabel L         y-axis title (default \"Survival probability\")\n"
               "  --no-bands         no confidence bands\n"
               "  --no-medians       no median lines\n"
               "  --kmunicate        risk table also with cumulative censored and events (KMunicate)\n"
               "  -h, --help         show this help\n");
}

static void usage_forest(FILE *f)
{
    fprintf(f, "Usage: hetsurv plot forest RESULTS_DIR [--out BASE] [--format png,pdf,svg] [--title T]\n\n"
               "Forest plot of the Cox model in RESULTS_DIR/cox.csv: hazard ratios with 95%% CIs on a\n"
               "log axis, the levels of a categorical variable under its name with the reference level,\n"
               "the numbers and p-values beside; infinite or aliased terms are written, not drawn.\n\n"
               "Options:\n"
               "  --out BASE         write BASE.png, BASE.pdf, BASE.svg (default RESULTS_DIR/forest)\n"
               "  --format LIST      formats to write: png (300 dpi), pdf, svg (default all three)\n"
               "  --title T          title above the plot\n"
               "  -h, --help         show this help\n");
}

enum { O_OUT = 1000, O_FORMAT, O_TITLE, O_UNIT, O_BREAK, O_YLAB, O_NOBANDS, O_NOMED, O_KMU };

typedef struct popts {
    const char *dir, *out, *title;
    unsigned mask;
    hs_kmplot_opts km;
    char *base;                  /* BASE, allocated when defaulted */
} popts;

/* Parses the options of `plot km` (km = 1) or `plot forest`; returns -1 to continue, else the exit code. */
static int parse(int argc, char **argv, int km, const char *name, void (*use)(FILE *), popts *o)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, O_OUT},       {"format", required_argument, NULL, O_FORMAT},
        {"title", required_argument, NULL, O_TITLE},   {"time-unit", required_argument, NULL, O_UNIT},
        {"time-break", required_argument, NULL, O_BREAK}, {"ylabel", required_argument, NULL, O_YLAB},
        {"no-bands", no_argument, NULL, O_NOBANDS},    {"no-medians", no_argument, NULL, O_NOMED},
        {"kmunicate", no_argument, NULL, O_KMU},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hs_error err;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "plot %s", name);
    o->mask = HS_FIG_ALL;
    hs_kmplot_opts_default(&o->km);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (!km && c >= O_UNIT && c <= O_KMU)
            return hs_cli_misuse(cmd, use, "option '%s' is for plot km only", argv[optind - 1]);
        switch (c) {
        case O_OUT: o->out = optarg; break;
        case O_TITLE: o->title = optarg; break;
        case O_FORMAT:
            if (hs_fig_formats_parse(optarg, &o->mask, &err) != HS_OK)
                return hs_cli_misuse(cmd, use, "--format: %s", err.msg);
            break;
        case O_UNIT: o->km.time_unit = optarg; break;
        case O_BREAK:
            if (hs_cli_double(optarg, &o->km.time_break) != 0 || !(o->km.time_break > 0))
                return hs_cli_misuse(cmd, use, "--time-break must be a number > 0, not '%s'", optarg);
            break;
        case O_YLAB: o->km.ylabel = optarg; break;
        case O_NOBANDS: o->km.bands = 0; break;
        case O_NOMED: o->km.medians = 0; break;
        case O_KMU: o->km.kmunicate = 1; break;
        case 'h': use(stdout); return HS_EXIT_OK;
        default: return hs_cli_misuse(cmd, use, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return hs_cli_misuse(cmd, use, "%s", "RESULTS_DIR is required");
    if (optind + 1 < argc)
        return hs_cli_misuse(cmd, use, "unexpected argument '%s'", argv[optind + 1]);
    o->dir = argv[optind];
    o->km.title = o->title;
    if (!o->out) {
        size_t n = strlen(o->dir) + strlen(name) + 2;
        if (!(o->base = malloc(n))) {
            hs_cli_error(cmd, "out of memory");
            return HS_EXIT_FAIL;
        }
        snprintf(o->base, n, "%s/%s", o->dir, name);
        o->out = o->base;
    }
    const char *slash = strrchr(o->out, '/');
    if (slash && slash != o->out) {
        char *parent = strndup(o->out, (size_t)(slash - o->out));
        int bad = !parent || hs_cli_mkdirs(parent) != 0;
        if (bad)
            hs_cli_error(cmd, "%s: cannot create the output folder: %s", parent ? parent : o->out, strerror(errno));
        free(parent);
        if (bad)
            return HS_EXIT_FAIL;
    }
    return -1;
}

static int plot_km(int argc, char **argv)
{
    popts o = {0};
    hs_error err;
    hs_kmplot_data *d = NULL;
    int status = parse(argc, argv, 1, "km", usage_km, &o);
    if (status < 0) {
        status = HS_EXIT_OK;
        if (hs_kmplot_load(&d, o.dir, &err) != HS_OK || hs_kmplot_write(o.out, o.mask, d, &o.km, &err) != HS_OK) {
            hs_cli_error("plot km", "%s", err.msg);
            status = HS_EXIT_FAIL;
        }
    }
    hs_kmplot_data_free(d);
    free(o.base);
    return status;
}

static int plot_forest(int argc, char **argv)
{
    popts o = {0};
    hs_error err;
    hs_forest_data *d = NULL;
    int status = parse(argc, argv, 0, "forest", usage_forest, &o);
    if (status < 0) {
        hs_forest_opts fo;
        hs_forest_opts_default(&fo);
        fo.title = o.title;
        status = HS_EXIT_OK;
        if (hs_forest_load(&d, o.dir, &err) != HS_OK || hs_forest_write(o.out, o.mask, d, &fo, &err) != HS_OK) {
            hs_cli_error("plot forest", "%s", err.msg);
            status = HS_EXIT_FAIL;
        }
    }
    hs_forest_data_free(d);
    free(o.base);
    return status;
}

int main_plot(int argc, char **argv)
{
    if (argc < 2) {
        hs_cli_error(CMD, "which figure? km, forest or map");
        usage(stderr);
        return HS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return HS_EXIT_OK;
    }
    for (size_t i = 0; i < NSUB; i++)
        if (strcmp(subs[i].name, argv[1]) == 0)
            return subs[i].func(argc - 1, argv + 1);
    hs_cli_error(CMD, "no such figure: '%s'", argv[1]);
    usage(stderr);
    return HS_EXIT_USAGE;
}
