/*
 * hetsurv plot: redraws a figure from saved results, without recomputing.
 * One subcommand per figure, dispatched through subs[] (km, forest, cohort;
 * slide maps join the table later).  km and forest read the files a survival
 * run wrote into RESULTS_DIR, cohort a run's slides.csv (README.md, "Figures").
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "figures/canvas.h"
#include "figures/cohortplot.h"
#include "figures/forest.h"
#include "figures/kmplot.h"
#include "util/hs_atomic.h"

#define CMD "plot"

typedef struct sub {
    const char *name;
    int (*func)(int argc, char **argv);
    const char *summary;
} sub;

static int plot_km(int argc, char **argv);
static int plot_forest(int argc, char **argv);
static int plot_cohort(int argc, char **argv);

static const sub subs[] = {
    {"km", plot_km, "Kaplan-Meier curves with the number-at-risk table (km.csv, median.csv, tests.csv, cox.csv)"},
    {"forest", plot_forest, "forest plot of the Cox model (cox.csv, with km.csv and fit.csv when present)"},
    {"map", hs_plot_map_main, "a slide's tile calls over its thumbnail (a .tiles.csv of score --map or run)"},
    {"cohort", plot_cohort, "the heterogeneity metric's distribution and the HER2 counts (a run's slides.csv)"},
};
enum { NSUB = sizeof subs / sizeof subs[0] };

static void usage(FILE *f)
{
    fprintf(f, "Usage: hetsurv plot FIGURE INPUT [options]\n\n"
               "Redraws a figure from saved results, without recomputing: km and forest from the\n"
               "RESULTS_DIR a survival analysis saved (hetsurv survival --out, or DIR/dfs and DIR/os of\n"
               "hetsurv run), map from a slide's TILES.csv (score --map, or DIR/maps of hetsurv run),\n"
               "cohort from a run's DIR/slides.csv (or a score --manifest table).\n\n"
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

static void usage_cohort(FILE *f)
{
    fprintf(f, "Usage: hetsurv plot cohort SLIDES_CSV [--metric M] [--cut X] [--cut-optimal] [--out BASE]\n"
               "                           [--format png,pdf,svg] [--title T] [--table FILE]\n\n"
               "The cohort figure of SLIDES_CSV (DIR/slides.csv of hetsurv run, or the table of hetsurv\n"
               "score --manifest): the distribution of the heterogeneity metric (a histogram with R's\n"
               "hist() breaks; for the 0/1 flag heterogeneous, the slides per heterogeneity pattern) and\n"
               "the slides per HER2 IHC score and per HER2 category, each count written on its bar.\n"
               "Failed slides are counted as failed, in no bar.\n\n"
               "Options:\n"
               "  --metric M         the heterogeneity column (default heterogeneous)\n"
               "  --cut X            draw the cutpoint X on the histogram\n"
               "  --cut-optimal      label the cut as chosen from the data (maxstat), as hetsurv run --cut optimal\n"
               "  --out BASE         write BASE.png, BASE.pdf, BASE.svg (default: SLIDES_CSV's folder/cohort)\n"
               "  --format LIST      formats to write: png (300 dpi), pdf, svg (default all three)\n"
               "  --title T          title above the figure\n"
               "  --table FILE       also write the figure's counts as CSV (panel,label,count,lower,upper)\n"
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
    return hs_cli_out_parent(cmd, o->out) != 0 ? HS_EXIT_FAIL : -1;
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

/* Creates the folder of the output BASE; 0, or -1 after saying why. */
enum { C_METRIC = 1100, C_CUT, C_CUTOPT, C_TABLE };

static int plot_cohort(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, O_OUT},       {"format", required_argument, NULL, O_FORMAT},
        {"title", required_argument, NULL, O_TITLE},   {"metric", required_argument, NULL, C_METRIC},
        {"cut", required_argument, NULL, C_CUT},       {"cut-optimal", no_argument, NULL, C_CUTOPT},
        {"table", required_argument, NULL, C_TABLE},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "plot cohort", *out = NULL, *metric = "heterogeneous", *table = NULL;
    unsigned mask = HS_FIG_ALL;
    hs_cohortplot_opts co;
    hs_cohortplot_opts_default(&co);
    hs_error err;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_OUT: out = optarg; break;
        case O_TITLE: co.title = optarg; break;
        case O_FORMAT:
            if (hs_fig_formats_parse(optarg, &mask, &err) != HS_OK)
                return hs_cli_misuse(cmd, usage_cohort, "--format: %s", err.msg);
            break;
        case C_METRIC: metric = optarg; break;
        case C_CUT:
            if (hs_cli_double(optarg, &co.cut) != 0 || !isfinite(co.cut))
                return hs_cli_misuse(cmd, usage_cohort, "--cut must be a finite number, not '%s'", optarg);
            break;
        case C_CUTOPT: co.cut_optimal = 1; break;
        case C_TABLE: table = optarg; break;
        case 'h': usage_cohort(stdout); return HS_EXIT_OK;
        default: return hs_cli_misuse(cmd, usage_cohort, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return hs_cli_misuse(cmd, usage_cohort, "%s", "SLIDES_CSV is required");
    if (optind + 1 < argc)
        return hs_cli_misuse(cmd, usage_cohort, "unexpected argument '%s'", argv[optind + 1]);
    if (co.cut_optimal && !isfinite(co.cut))
        return hs_cli_misuse(cmd, usage_cohort, "%s", "--cut-optimal needs --cut X");
    const char *csv = argv[optind];
    char *base = NULL;
    if (!out) {
        const char *slash = strrchr(csv, '/');
        int dl = slash ? (int)(slash - csv) : 1;
        size_t n = strlen(csv) + 16;
        if (!(base = malloc(n))) {
            hs_cli_error(cmd, "out of memory");
            return HS_EXIT_FAIL;
        }
        snprintf(base, n, "%.*s/cohort", slash == csv ? 0 : dl, slash ? csv : ".");
        out = base;
    }
    int status = HS_EXIT_OK;
    hs_cohortplot_data *d = NULL;
    if (hs_cli_out_parent(cmd, out) != 0) {
        status = HS_EXIT_FAIL;
    } else if (hs_cohortplot_load(&d, csv, metric, &err) != HS_OK || hs_cohortplot_write(out, mask, d, &co, &err) != HS_OK) {
        hs_cli_error(cmd, "%s", err.msg);
        status = HS_EXIT_FAIL;
    } else if (table) {
        char *tmp;
        FILE *f = hs_atomic_open(table, "w", &tmp, &err);
        int rc = f ? hs_cohortplot_table(f, d, &err) : HS_EIO;
        if (f && rc != HS_OK)
            hs_atomic_abort(f, tmp);
        else if (f)
            rc = hs_atomic_commit(f, tmp, table, &err);
        if (rc != HS_OK) {
            hs_cli_error(cmd, "%s", err.msg);
            status = HS_EXIT_FAIL;
        }
    }
    hs_cohortplot_data_free(d);
    free(base);
    return status;
}

int main_plot(int argc, char **argv)
{
    if (argc < 2) {
        hs_cli_error(CMD, "which figure? km, forest, map or cohort");
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
