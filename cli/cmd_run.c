/*
 * hetsurv run: the cohort run across MPI ranks (mpi/run.h): options here,
 * the work in mpi/.  Every rank parses the same arguments the same way;
 * misuse is reported by the first rank only.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/score_opts.h"
#include "mpi/run.h"

#define CMD "run"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: [mpirun -np N | srun] hetsurv run MANIFEST.csv --out DIR [options]\n"
            "\n"
            "Scores every patient's HER2 slide across the MPI ranks (a dynamic queue, largest slide first),\n"
            "calibrates each staining batch once over the whole cohort, and analyses disease-free (DFS) and\n"
            "overall survival (OS) by HER2 heterogeneity: Kaplan-Meier and log-rank of heterogeneous vs\n"
            "homogeneous slides and a Cox model of the heterogeneity, adjusted for --adjust.  A slide may be\n"
            "an image or a QuPath detection export (.tsv/.txt/.csv).  Results are the same whatever the rank\n"
            "count.\n"
            "\n"
            "Output in DIR: slides.csv (the cohort table), calibration.csv, dfs/ and os/ (the files of\n"
            "`hetsurv survival`), results.h5 (all of it, with each slide's tile map), checkpoint/.\n"
            "\n"
            "Options:\n"
            "  --out DIR             output folder (created)\n"
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
            "  --resume              continue a stopped run from DIR/checkpoint (same manifest and options)\n"
            "  --restart             discard DIR's checkpoint and start over\n"
            "  --completeness-column NAME  QuPath exports' stained-membrane fraction column\n"
            "  -q, --quiet           no progress lines\n"
            "  -h, --help            show this help\n"
            "\n");
    hs_score_opts_help(f);
    fprintf(f,
            "\n"
            "Exit status: 0 done (a slide that failed is status=error in slides.csv, excluded from the analysis\n"
            "and counted on stderr); 1 error (nothing analysed); 3 stopped by SIGTERM: rerun with --resume.\n");
}

/* The rank the launcher gave this process (mpirun, srun), or 0 outside a launcher. */
static int launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) {
        const char *v = getenv(vars[k]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

static int misuse(const char *fmt, ...) HS_FORMAT(1, 2);

/* Misuse, reported by the first rank only (every rank sees the same arguments). */
static int misuse(const char *fmt, ...)
{
    if (launcher_rank() != 0)
        return HS_EXIT_USAGE;
    char msg[HS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hs_cli_misuse(CMD, usage, "%s", msg);
}

/* The command line, each argument shell-quoted where it needs it. */
static char *command_line(int argc, char **argv)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    fputs("hetsurv", f);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        fputc(' ', f);
        if (*a && !a[strcspn(a, " \t\n'\"\\$`;&|<>()*?[]#~!{}")]) {
            fputs(a, f);
            continue;
        }
        fputc('\'', f);
        for (; *a; a++)
            if (*a == '\'')
                fputs("'\\''", f);
            else
                fputc(*a, f);
        fputc('\'', f);
    }
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

int main_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},      {"factors", required_argument, NULL, 'F'},
        {"metric", required_argument, NULL, 'm'},   {"cut", required_argument, NULL, 'c'},
        {"by", required_argument, NULL, 'b'},       {"adjust", required_argument, NULL, 'a'},
        {"resume", no_argument, NULL, 'r'},         {"restart", no_argument, NULL, 'R'},
        {"completeness-column", required_argument, NULL, 'C'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},           HS_SCORE_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    hs_score_opts o;
    hs_score_opts_default(&o);
    o.score.threads = 0; /* each rank's share of its node unless --threads */
    hs_run_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.metric = "heterogeneous";
    cfg.log = stderr;
    const char *factors_arg = "", *adjust_arg = "";
    int metric_given = 0, c;
    hs_error err;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': cfg.out = optarg; break;
        case 'F': factors_arg = optarg; break;
        case 'm': cfg.metric = optarg; metric_given = 1; break;
        case 'b': cfg.by = optarg; break;
        case 'a': adjust_arg = optarg; break;
        case 'r': cfg.resume = 1; break;
        case 'R': cfg.restart = 1; break;
        case 'C': cfg.completeness_col = optarg; break;
        case 'q': cfg.quiet = 1; break;
        case 'c':
            if (!strcmp(optarg, "optimal")) {
                cfg.cut = HS_CUT_OPTIMAL;
            } else if (hs_cli_double(optarg, &cfg.cut_value) == 0) {
                cfg.cut = HS_CUT_VALUE;
            } else {
                return misuse("--cut must be a number or 'optimal', not '%s'", optarg);
            }
            break;
        case 'h':
            if (launcher_rank() == 0)
                usage(stdout);
            return HS_EXIT_OK;
        default: {
            int k = c == '?' ? 0 : hs_score_opts_parse(&o, c, optarg, &err);
            if (k < 0)
                return misuse("%s", err.msg);
            if (k == 0)
                return misuse("unknown or incomplete option '%s'", argv[optind - 1]);
        }
        }
    }
    if (optind != argc - 1)
        return misuse("%s", optind == argc ? "no manifest given" : "exactly one manifest expected");
    if (!cfg.out)
        return misuse("%s", "--out DIR is required");
    if (cfg.resume && cfg.restart)
        return misuse("%s", "--resume and --restart exclude each other");
    if (cfg.by && (cfg.cut != HS_CUT_NONE || metric_given))
        return misuse("%s", "--by groups by a column: it excludes --metric and --cut");
    if (cfg.cut != HS_CUT_NONE && !strcmp(cfg.metric, "heterogeneous"))
        return misuse("%s", "--cut needs a continuous --metric (the heterogeneous flag is already two groups)");
    if (o.calibration == HS_CALIB_CONTROLS && !o.controls)
        return misuse("%s", "--calibration controls needs --controls FILE.csv");
    size_t nfactor = 0, nadjust = 0;
    char **factors = hs_cli_list(factors_arg, &nfactor), **adjust = hs_cli_list(adjust_arg, &nadjust);
    char *params = NULL, *cmdline = command_line(argc, argv);
    size_t plen = 0;
    FILE *pf = open_memstream(&params, &plen);
    if (pf) {
        hs_score_opts_describe(&o, pf);
        if (fclose(pf) != 0) {
            free(params);
            params = NULL;
        }
    }
    int status = HS_EXIT_FAIL;
    if (!factors || !adjust || !params || !cmdline) {
        hs_cli_error(CMD, "out of memory");
    } else if (hs_cli_mkdirs(cfg.out) != 0) {
        hs_cli_error(CMD, "%s: cannot create the output folder: %s", cfg.out, strerror(errno));
    } else {
        cfg.manifest = argv[optind];
        cfg.factors = (const char *const *)factors;
        cfg.nfactor = nfactor;
        cfg.adjust = (const char *const *)adjust;
        cfg.nadjust = nadjust;
        cfg.score = o.score;
        cfg.her2 = o.her2;
        cfg.tile_um = o.tile_um;
        cfg.calibration = o.calibration;
        cfg.controls = o.controls;
        cfg.params_text = params;
        cfg.command_line = cmdline;
        status = hs_run(&cfg);
    }
    free(params);
    free(cmdline);
    hs_cli_list_free(factors);
    hs_cli_list_free(adjust);
    return status;
}
