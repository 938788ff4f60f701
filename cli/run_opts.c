/*
 * run_opts: the options of the cohort run (see run_opts.h).
 */
#include "run_opts.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "figures/canvas.h"

void hs_run_opts_default(hs_run_opts *o)
{
    memset(o, 0, sizeof *o);
    hs_score_opts_default(&o->score);
    o->score.score.threads = 0;
    o->cfg.metric = "heterogeneous";
    o->cfg.figures = HS_FIG_ALL;
    o->factors = o->adjust = "";
}

/* "K/N" with 0 <= K < N: 0, else -1. */
static int parse_shard(const char *s, int *k, int *n)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '/')
        return -1;
    const char *t = end + 1;
    long b = strtol(t, &end, 10);
    if (end == t || *end || b < 1 || b > 100000 || a < 0 || a >= b)
        return -1;
    *k = (int)a;
    *n = (int)b;
    return 0;
}

int hs_run_opts_parse(hs_run_opts *o, int c, const char *arg, hs_error *err)
{
    hs_run_config *cfg = &o->cfg;
    switch (c) {
    case HS_ROPT_OUT: cfg->out = arg; return 1;
    case HS_ROPT_FACTORS: o->factors = arg; return 1;
    case HS_ROPT_METRIC: cfg->metric = arg; o->metric_given = 1; return 1;
    case HS_ROPT_BY: cfg->by = arg; return 1;
    case HS_ROPT_ADJUST: o->adjust = arg; return 1;
    case HS_ROPT_RESUME: cfg->resume = 1; return 1;
    case HS_ROPT_RESTART: cfg->restart = 1; return 1;
    case HS_ROPT_COMPLETENESS: cfg->completeness_col = arg; return 1;
    case 'q':
    case HS_ROPT_QUIET: cfg->quiet = 1; return 1;
    case HS_ROPT_NO_PLOTS: o->no_plots = 1; cfg->figures = 0; return 1;
    case HS_ROPT_FORMAT:
        if (hs_fig_formats_parse(arg, &o->formats, NULL) != HS_OK) {
            hs_error_set(err, HS_EINVAL, "--format must list png, pdf or svg (comma-separated), not '%s'", arg);
            return -1;
        }
        if (!o->no_plots)
            cfg->figures = o->formats;
        return 1;
    case HS_ROPT_TIME_UNIT: cfg->time_unit = arg; return 1;
    case HS_ROPT_NO_REPORT: cfg->no_report = 1; return 1;
    case HS_ROPT_MAPS:
        if (!strcmp(arg, "gallery"))
            cfg->maps = HS_RUN_MAPS_GALLERY;
        else if (!strcmp(arg, "all"))
            cfg->maps = HS_RUN_MAPS_ALL;
        else if (!strcmp(arg, "none"))
            cfg->maps = HS_RUN_MAPS_NONE;
        else {
            hs_error_set(err, HS_EINVAL, "--maps must be gallery, all or none, not '%s'", arg);
            return -1;
        }
        return 1;
    case HS_ROPT_SHARD:
        if (parse_shard(arg, &cfg->shard_k, &cfg->shard_n) != 0) {
            hs_error_set(err, HS_EINVAL, "--shard must be K/N with 0 <= K < N, not '%s'", arg);
            return -1;
        }
        return 1;
    case HS_ROPT_CUT:
        if (!strcmp(arg, "optimal")) {
            cfg->cut = HS_CUT_OPTIMAL;
        } else if (hs_cli_double(arg, &cfg->cut_value) == 0) {
            cfg->cut = HS_CUT_VALUE;
        } else {
            hs_error_set(err, HS_EINVAL, "--cut must be a number or 'optimal', not '%s'", arg);
            return -1;
        }
        return 1;
    default: return hs_score_opts_parse(&o->score, c, arg, err);
    }
}

int hs_run_opts_check(const hs_run_opts *o, int merge, hs_error *err)
{
    const hs_run_config *cfg = &o->cfg;
    if (o->no_plots && o->formats)
        return hs_error_set(err, HS_EINVAL, "--no-plots and --format exclude each other");
    if (cfg->resume && cfg->restart)
        return hs_error_set(err, HS_EINVAL, "--resume and --restart exclude each other");
    if (cfg->shard_n && cfg->restart)
        return hs_error_set(err, HS_EINVAL,
                            "a shard never discards the checkpoint other shards share: no --restart with --shard");
    if (merge && cfg->restart)
        return hs_error_set(err, HS_EINVAL, "merge continues the shards' checkpoint: no --restart");
    if (merge && cfg->shard_n)
        return hs_error_set(err, HS_EINVAL, "merge takes no --shard");
    if (cfg->by && (cfg->cut != HS_CUT_NONE || o->metric_given))
        return hs_error_set(err, HS_EINVAL, "--by groups by a column: it excludes --metric and --cut");
    if (cfg->cut != HS_CUT_NONE && !strcmp(cfg->metric, "heterogeneous"))
        return hs_error_set(err, HS_EINVAL,
                            "--cut needs a continuous --metric (the heterogeneous flag is already two groups)");
    if (o->score.calibration == HS_CALIB_CONTROLS && !o->score.controls)
        return hs_error_set(err, HS_EINVAL, "--calibration controls needs --controls FILE.csv");
    return HS_OK;
}

void hs_run_opts_help(FILE *f)
{
    fprintf(f,
            "Analysis options:\n"
            "  --factors A,...       manifest covariates that are categorical though numeric (grade 1/2/3);\n"
            "                        a column with a text value is categorical without it\n"
            "  --metric NAME         the heterogeneity measure: the 'heterogeneous' flag (default) or any\n"
            "                        score column (entropy, simpson, tile_cv, discordant_frac, morans_i, ...),\n"
            "                        a continuous one entering the Cox model as it is\n"
            "  --cut VALUE|optimal   groups low/high of a continuous --metric: at VALUE (pre-specified), or\n"
            "                        at the maximally selected log-rank cutpoint with its corrected p-value\n"
            "                        (Lausen & Schumacher 1992); the output says which\n"
            "  --by COLUMN           groups by COLUMN instead (her2_class: null/ultralow/low/equivocal/positive)\n"
            "  --adjust A,...        Cox covariates from the manifest\n"
            "  --completeness-column NAME  QuPath exports' stained-membrane fraction column\n"
            "\n"
            "Run options:\n"
            "  --resume              continue a stopped run from DIR/checkpoint (same manifest and options)\n"
            "  --restart             discard DIR's checkpoint and start over\n"
            "  --shard K/N           measure only shard K of N (0 <= K < N) into DIR's checkpoint and stop: the\n"
            "                        tasks of a job array; `hetsurv merge` with the same arguments finishes\n"
            "  --no-report           do not write DIR/report.html (the run's results as one HTML page)\n"
            "  -q, --quiet           no progress lines\n"
            "\n"
            "Figure options (DIR/dfs and DIR/os: km.* Kaplan-Meier with risk table, forest.* Cox model):\n"
            "  --format LIST         figure formats: png (300 dpi), pdf, svg (default all three)\n"
            "  --time-unit U         the figures' time unit (default months)\n"
            "  --no-plots            draw no figures\n"
            "  --maps WHICH          slide maps in DIR/maps (every slide's tile table <id>.tiles.csv, and\n"
            "                        figures): gallery (default: the figures of the first 24 slides, shown\n"
            "                        in report.html), all (every slide's figure), none (no maps at all)\n");
}
