/*
 * run_opts: the options of the cohort run, shared by `run`, `merge` and
 * `submit` (which writes them into a job script), parsed by one function
 * and described by one help text, as score_opts does for the scoring
 * options (which they include).
 */
#ifndef HS_RUN_OPTS_H
#define HS_RUN_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "cli/score_opts.h"
#include "mpi/run.h"
#include "util/hs_error.h"

/* Option codes, above the scoring options' and every character a subcommand uses. */
enum {
    HS_ROPT_OUT = 0x1100, HS_ROPT_FACTORS, HS_ROPT_METRIC, HS_ROPT_CUT, HS_ROPT_BY, HS_ROPT_ADJUST, HS_ROPT_RESUME,
    HS_ROPT_RESTART, HS_ROPT_COMPLETENESS, HS_ROPT_QUIET, HS_ROPT_SHARD, HS_ROPT_NO_PLOTS, HS_ROPT_FORMAT,
    HS_ROPT_TIME_UNIT, HS_ROPT_NO_REPORT, HS_ROPT_MAPS
};

#define HS_RUN_LONGOPTS                                                                                              \
    {"out", required_argument, NULL, HS_ROPT_OUT}, {"factors", required_argument, NULL, HS_ROPT_FACTORS},            \
        {"metric", required_argument, NULL, HS_ROPT_METRIC}, {"cut", required_argument, NULL, HS_ROPT_CUT},          \
        {"by", required_argument, NULL, HS_ROPT_BY}, {"adjust", required_argument, NULL, HS_ROPT_ADJUST},            \
        {"resume", no_argument, NULL, HS_ROPT_RESUME}, {"restart", no_argument, NULL, HS_ROPT_RESTART},              \
        {"completeness-column", required_argument, NULL, HS_ROPT_COMPLETENESS},                                      \
        {"quiet", no_argument, NULL, HS_ROPT_QUIET}, {"shard", required_argument, NULL, HS_ROPT_SHARD},              \
        {"no-plots", no_argument, NULL, HS_ROPT_NO_PLOTS}, {"format", required_argument, NULL, HS_ROPT_FORMAT},      \
        {"time-unit", required_argument, NULL, HS_ROPT_TIME_UNIT},                                                   \
        {"no-report", no_argument, NULL, HS_ROPT_NO_REPORT}, {"maps", required_argument, NULL, HS_ROPT_MAPS},          \
        HS_SCORE_LONGOPTS

typedef struct hs_run_opts {
    hs_score_opts score;
    hs_run_config cfg;          /* what the options set (not the lists, the manifest nor the texts) */
    const char *factors;        /* --factors and --adjust as given */
    const char *adjust;
    int metric_given;
    int no_plots;               /* --no-plots */
    unsigned formats;           /* --format, 0 when not given */
} hs_run_opts;

/* Defaults: the scoring defaults with threads 0 (each rank's share of its node), metric heterogeneous. */
void hs_run_opts_default(hs_run_opts *o);

/*
 * Handles option code c ('q' counts as --quiet) with argument arg: 1 when
 * it is a run option and its value is good, 0 when c is not one, -1 when the
 * value is bad (err says why, naming the option).
 */
int hs_run_opts_parse(hs_run_opts *o, int c, const char *arg, hs_error *err);

/* The checks across options (merge: for `merge`); HS_EINVAL with the reason.  Does not require --out. */
int hs_run_opts_check(const hs_run_opts *o, int merge, hs_error *err);

/* Writes the help text of the run's own options (the analysis and the run). */
void hs_run_opts_help(FILE *f);

#endif /* HS_RUN_OPTS_H */
