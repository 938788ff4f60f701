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
#include "cli/run_opts.h"
#include "mpi/run.h"

#define CMD "run"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: [mpirun -np N | srun] hetsurv run MANIFEST.csv --out DIR [options]\n"
            "       [mpirun -np N | srun] hetsurv merge MANIFEST.csv --out DIR [options]\n"
            "\n"
            "Scores every patient's HER2 slide across the MPI ranks (a dynamic queue, largest slide first),\n"
            "calibrates each staining batch once over the whole cohort, and analyses disease-free (DFS) and\n"
            "overall survival (OS) by HER2 heterogeneity: Kaplan-Meier and log-rank of heterogeneous vs\n"
            "homogeneous slides and a Cox model of the heterogeneity, adjusted for --adjust.  A slide may be\n"
            "an image or a QuPath detection export (.tsv/.txt/.csv).  Results are the same whatever the rank\n"
            "count.  `merge` finishes a cohort measured in shards (--shard K/N): it is --resume, after checking\n"
            "that no shard still runs, and measures any slide the shards left.\n"
            "\n"
            "Output in DIR: slides.csv (the cohort table), calibration.csv, dfs/ and os/ (the files of\n"
            "`hetsurv survival`), results.h5 (all of it, with each slide's tile map), report.html (the results\n"
            "as one self-contained HTML page), checkpoint/.\n"
            "\n"
            "Options:\n"
            "  --out DIR             output folder (created)\n"
            "  -h, --help            show this help\n"
            "\n");
    hs_run_opts_help(f);
    fputc('\n', f);
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

/* run and merge: the same options; merge is a resume that first checks that no shard still runs. */
static int run_or_merge(int argc, char **argv, int merge)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'}, HS_RUN_LONGOPTS, {NULL, 0, NULL, 0},
    };
    hs_run_opts ro;
    hs_run_opts_default(&ro);
    hs_score_opts o;
    hs_run_config cfg;
    hs_error err;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        if (c == 'h') {
            if (launcher_rank() == 0)
                usage(stdout);
            return HS_EXIT_OK;
        }
        int k = c == '?' ? 0 : hs_run_opts_parse(&ro, c, optarg, &err);
        if (k < 0)
            return misuse("%s", err.msg);
        if (k == 0)
            return misuse("unknown or incomplete option '%s'", argv[optind - 1]);
    }
    o = ro.score;
    cfg = ro.cfg;
    cfg.log = stderr;
    cfg.name = merge ? "merge" : "run";
    const char *factors_arg = ro.factors, *adjust_arg = ro.adjust;
    if (optind != argc - 1)
        return misuse("%s", optind == argc ? "no manifest given" : "exactly one manifest expected");
    if (!cfg.out)
        return misuse("%s", "--out DIR is required");
    if (hs_run_opts_check(&ro, merge, &err) != HS_OK)
        return misuse("%s", err.msg);
    if (merge)
        cfg.resume = cfg.merge = 1;
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

int main_run(int argc, char **argv)
{
    return run_or_merge(argc, argv, 0);
}

int main_merge(int argc, char **argv)
{
    return run_or_merge(argc, argv, 1);
}
