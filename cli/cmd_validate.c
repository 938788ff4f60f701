/*
 * hetsurv validate: checks a cohort manifest and reports every problem as
 * FILE:LINE:COLUMN: message.  Exit 0 when valid, 1 when not, 2 on misuse.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cohorts/manifest.h"

enum { EXIT_INVALID = 1, EXIT_MISUSE = 2 };

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hetsurv validate MANIFEST.csv [--factors A,B,...] [--no-slide-check]\n"
            "\n"
            "Checks a cohort manifest and reports every problem as FILE:LINE:COLUMN: message.\n"
            "Required columns (any order): patient_id, slide, dfs_time, dfs_event, os_time, os_event;\n"
            "every other column is a covariate: categorical when named in --factors or when a value\n"
            "is not a number (as R's read.csv), numeric otherwise.\n"
            "Slide paths are relative to the manifest's folder unless absolute.\n"
            "\n"
            "Options:\n"
            "  --factors A,B,...   numeric covariates that are categorical (codes such as grade 1/2/3)\n"
            "  --no-slide-check    do not require the slide files to exist\n"
            "  -h, --help          show this help\n"
            "\n"
            "Exit status: 0 valid, 1 invalid (or the report could not be written), 2 usage error.\n");
}

int main_validate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"factors", required_argument, NULL, 'f'},
        {"no-slide-check", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *factors_arg = NULL;
    int check_slides = 1, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': factors_arg = optarg; break;
        case 'n': check_slides = 0; break;
        case 'h': usage(stdout); return HS_EXIT_OK;
        default:
            hs_cli_error("validate", "unknown or incomplete option '%s'", argv[optind - 1]);
            usage(stderr);
            return EXIT_MISUSE;
        }
    }
    if (argc - optind != 1) {
        hs_cli_error("validate", argc - optind ? "exactly one manifest expected" : "no manifest given");
        usage(stderr);
        return EXIT_MISUSE;
    }
    const char *path = argv[optind];
    size_t nfactor = 0;
    char **factors = hs_cli_list(factors_arg ? factors_arg : "", &nfactor);
    if (!factors) {
        hs_cli_error("validate", "out of memory");
        return EXIT_INVALID;
    }
    hs_manifest *m = NULL;
    hs_error err;
    int rc = hs_manifest_read(&m, path, (const char *const *)factors, nfactor, check_slides, &err);
    hs_cli_list_free(factors);
    if (rc != HS_OK) {
        hs_cli_error("validate", "%s", err.msg);
        return EXIT_INVALID;
    }
    hs_manifest_report(stdout, m);
    int status = m->nerror ? EXIT_INVALID : HS_EXIT_OK;
    if (hs_cli_stdout_flush() != 0)
        status = EXIT_INVALID; /* the report did not reach its reader */
    hs_manifest_free(m);
    return status;
}
