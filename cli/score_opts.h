/*
 * score_opts: the scoring options shared by every subcommand that scores
 * slides (score, and the cohort run), parsed by one function and described
 * by one help text, as samtools' sam_opts.h does for its global options.
 *
 * A subcommand appends HS_SCORE_LONGOPTS to its getopt_long table and hands
 * every option it does not handle itself to hs_score_opts_parse().
 */
#ifndef HS_SCORE_OPTS_H
#define HS_SCORE_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "scoring/calib.h"
#include "scoring/her2.h"
#include "scoring/score.h"
#include "util/hs_error.h"

typedef struct hs_score_opts {
    hs_score_params score;      /* slide measurement */
    hs_her2_params her2;        /* cuts (the fixed ones) and the ASCO/CAP rules */
    double tile_um;             /* heterogeneity tile side (256) */
    hs_calib_mode calibration;  /* (auto) */
    const char *controls;       /* control-slide table, or NULL */
} hs_score_opts;

/* Option codes, above every character a subcommand uses. */
enum {
    HS_SOPT_MPP = 0x1000, HS_SOPT_LEVEL_MPP, HS_SOPT_STAINS, HS_SOPT_NO_STAIN_ESTIMATE, HS_SOPT_NO_BACKGROUND,
    HS_SOPT_THRESHOLDS, HS_SOPT_COMPLETE, HS_SOPT_NUCLEUS_OD, HS_SOPT_TILE_UM, HS_SOPT_CALIBRATION,
    HS_SOPT_CONTROLS, HS_SOPT_THREADS
};

#define HS_SCORE_LONGOPTS                                                                                            \
    {"mpp", required_argument, NULL, HS_SOPT_MPP}, {"level-mpp", required_argument, NULL, HS_SOPT_LEVEL_MPP},        \
        {"stains", required_argument, NULL, HS_SOPT_STAINS},                                                         \
        {"no-stain-estimate", no_argument, NULL, HS_SOPT_NO_STAIN_ESTIMATE},                                         \
        {"no-background", no_argument, NULL, HS_SOPT_NO_BACKGROUND},                                                 \
        {"thresholds", required_argument, NULL, HS_SOPT_THRESHOLDS},                                                 \
        {"complete", required_argument, NULL, HS_SOPT_COMPLETE},                                                     \
        {"nucleus-od", required_argument, NULL, HS_SOPT_NUCLEUS_OD},                                                 \
        {"tile-um", required_argument, NULL, HS_SOPT_TILE_UM},                                                       \
        {"calibration", required_argument, NULL, HS_SOPT_CALIBRATION},                                               \
        {"controls", required_argument, NULL, HS_SOPT_CONTROLS}, {"threads", required_argument, NULL, HS_SOPT_THREADS}

/* Defaults: hs_score_params_default, hs_her2_params_default, 256 um tiles, auto calibration, all CPUs. */
void hs_score_opts_default(hs_score_opts *o);

/*
 * Handles option code c with argument arg: 1 when it is a scoring option
 * and its value is good, 0 when c is not a scoring option, -1 when the value
 * is bad (err says why, naming the option).
 */
int hs_score_opts_parse(hs_score_opts *o, int c, const char *arg, hs_error *err);

/*
 * Writes every parameter that can change a score, one "key value" per line
 * (the threads excluded: they change no result), in a fixed order: what a
 * cohort run's checkpoint key and results.h5 record.
 */
void hs_score_opts_describe(const hs_score_opts *o, FILE *f);

/* The first part of hs_score_opts_describe: only what changes a slide's measurement (not its cuts or calls). */
void hs_score_opts_describe_measure(const hs_score_opts *o, FILE *f);

/* Writes the help text of the scoring options. */
void hs_score_opts_help(FILE *f);

#endif /* HS_SCORE_OPTS_H */
