/*
 * hetsurv survival: Kaplan-Meier curves, log-rank test and Cox regression on
 * any CSV table, with every number matching R survival (see README.md for
 * the R calls each output file corresponds to).
 *
 * Thin layer: parse options, read the needed columns (cohorts/table), run
 * the analysis (stats/survival), print its summary and write DIR/km.csv,
 * median.csv, cox.csv, fit.csv and tests.csv.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cohorts/table.h"
#include "figures/canvas.h"
#include "figures/survfig.h"
#include "stats/survival.h"

#define CMD "survival"

typedef struct opts {
    const char *data, *time, *event, *group, *strata, *out;
    char **cov;        /* covariate names */
    size_t ncov;
    char **factors;
    size_t nfactor;
    hs_ties ties;
    hs_conf_type conf;
    double rho, tau;   /* tau NAN: default */
    char *cut_column;  /* --cut COLUMN:..., or NULL */
    hs_cut_kind cut;
    double cut_value;
    unsigned figures;  /* formats of km.* and forest.*; 0: --no-plots */
    int no_plots, format_given;
    const char *time_unit, *title;
} opts;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hetsurv survival --data FILE.csv --time COL --event COL [--group COL]\n"
            "                        [--covariates A,B,...] [--factors A,...] [--strata COL]\n"
            "                        [--ties efron|breslow] [--conf-type log|log-log|plain]\n"
            "                        [--rho R] [--tau T] [--cut COL:VALUE|COL:optimal]\n"
            "                        [--format png,pdf,svg] [--time-unit U] [--title T] [--no-plots] --out DIR\n"
            "\n"
            "Kaplan-Meier curves (per --group value), the G-rho log-rank test (with --group)\n"
            "and a Cox model (with --covariates, the group added as a factor) on any CSV table,\n"
            "computed as R survival does.  Empty cells and NA are missing values; each analysis\n"
            "drops the rows missing a variable it uses.  The event column is 0/1 (1 = event) or,\n"
            "as in R, 1/2 (2 = event).\n"
            "\n"
            "Options:\n"
            "  --data FILE        input CSV with a header line\n"
            "  --time COL         follow-up time (>= 0)\n"
            "  --event COL        event indicator\n"
            "  --group COL        categorical grouping: KM per level, log-rank, factor in the Cox model\n"
            "  --covariates LIST  Cox model covariates: numeric, or categorical when a value is not\n"
            "                     a number (as R's read.csv) or the covariate is named in --factors\n"
            "  --factors LIST     numeric covariates to treat as categorical, e.g. grade 1/2/3 (the\n"
            "                     first level is the reference)\n"
            "  --strata COL       stratify the log-rank test and the Cox model\n"
            "  --ties T           Cox ties: efron (default) or breslow\n"
            "  --conf-type T      KM confidence limits: log (default), log-log or plain\n"
            "  --rho R            G-rho weight S(t-)^R of the log-rank test (default 0)\n"
            "  --tau T            RMST horizon (default: the largest last time among the curves)\n"
            "  --cut COL:VALUE    instead of --group, the group COL: \"high\" when COL >= VALUE, else \"low\"\n"
            "  --cut COL:optimal  the same at the cutpoint chosen from the data (largest log-rank statistic\n"
            "                     between the 10%% and 90%% quantiles); tests.csv row maxstat holds the\n"
            "                     p-value corrected for the cutpoints tried (Lausen & Schumacher 1992)\n"
            "  --out DIR          output folder (created): km.csv median.csv cox.csv fit.csv tests.csv,\n"
            "                     and the figures km.* (Kaplan-Meier with risk table) and forest.* (Cox)\n"
            "  --format LIST      figure formats: png (300 dpi), pdf, svg (default all three)\n"
            "  --time-unit U      the Kaplan-Meier figure's time unit (default months)\n"
            "  --title T          the figures' title\n"
            "  --no-plots         draw no figures\n"
            "  -h, --help         show this help\n");
}

static int in_list(char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* Parses argv into o; returns -1 to continue, else the exit code. */
static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},   {"time", required_argument, NULL, 't'},
        {"event", required_argument, NULL, 'e'},  {"group", required_argument, NULL, 'g'},
        {"covariates", required_argument, NULL, 'c'}, {"factors", required_argument, NULL, 'f'},
        {"strata", required_argument, NULL, 's'}, {"ties", required_argument, NULL, 'T'},
        {"conf-type", required_argument, NULL, 'C'}, {"rho", required_argument, NULL, 'r'},
        {"tau", required_argument, NULL, 'u'},    {"out", required_argument, NULL, 'o'},
        {"cut", required_argument, NULL, 'x'},
        {"format", required_argument, NULL, 'F'}, {"time-unit", required_argument, NULL, 'U'},
        {"title", required_argument, NULL, 'L'},  {"no-plots", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *cov = "", *fac = "", *cut = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->data = optarg; break;
        case 't': o->time = optarg; break;
        case 'e': o->event = optarg; break;
        case 'g': o->group = optarg; break;
        case 'c': cov = optarg; break;
        case 'f': fac = optarg; break;
        case 's': o->strata = optarg; break;
        case 'o': o->out = optarg; break;
        case 'x': cut = optarg; break;
        case 'U': o->time_unit = optarg; break;
        case 'L': o->title = optarg; break;
        case 'P': o->no_plots = 1; break;
        case 'F': {
            hs_error ferr;
            if (hs_fig_formats_parse(optarg, &o->figures, &ferr) != HS_OK)
                return hs_cli_misuse(CMD, usage, "--format: %s", ferr.msg);
            o->format_given = 1;
            break;
        }
        case 'T':
            if (strcmp(optarg, "efron") == 0)
                o->ties = HS_TIES_EFRON;
            else if (strcmp(optarg, "breslow") == 0)
                o->ties = HS_TIES_BRESLOW;
            else
                return hs_cli_misuse(CMD, usage, "--ties must be efron or breslow, not '%s'", optarg);
            break;
        case 'C':
            if (strcmp(optarg, "log") == 0)
                o->conf = HS_CONF_LOG;
            else if (strcmp(optarg, "log-log") == 0)
                o->conf = HS_CONF_LOGLOG;
            else if (strcmp(optarg, "plain") == 0)
                o->conf = HS_CONF_PLAIN;
            else
                return hs_cli_misuse(CMD, usage, "--conf-type must be log, log-log or plain, not '%s'", optarg);
            break;
        case 'r':
            if (hs_cli_double(optarg, &o->rho) != 0 || o->rho < 0)
                return hs_cli_misuse(CMD, usage, "--rho must be a number >= 0, not '%s'", optarg);
            break;
        case 'u':
            if (hs_cli_double(optarg, &o->tau) != 0 || o->tau <= 0)
                return hs_cli_misuse(CMD, usage, "--tau must be a number > 0, not '%s'", optarg);
            break;
        case 'h': usage(stdout); return HS_EXIT_OK;
        default: return hs_cli_misuse(CMD, usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return hs_cli_misuse(CMD, usage, "unexpected argument '%s'", argv[optind]);
    if (!o->data || !o->time || !o->event || !o->out)
        return hs_cli_misuse(CMD, usage, "%s", "--data, --time, --event and --out are required");
    if (o->no_plots && o->format_given)
        return hs_cli_misuse(CMD, usage, "%s", "--no-plots and --format exclude each other");
    if (o->no_plots)
        o->figures = 0;
    if (cut) {
        const char *colon = strrchr(cut, ':');
        if (!colon || colon == cut || !colon[1])
            return hs_cli_misuse(CMD, usage, "--cut must be COLUMN:VALUE or COLUMN:optimal, not '%s'", cut);
        if (strcmp(colon + 1, "optimal") == 0)
            o->cut = HS_CUT_OPTIMAL;
        else if (hs_cli_double(colon + 1, &o->cut_value) == 0)
            o->cut = HS_CUT_VALUE;
        else
            return hs_cli_misuse(CMD, usage, "--cut: '%s' is neither a number nor 'optimal'", colon + 1);
        if (o->group)
            return hs_cli_misuse(CMD, usage, "%s", "--cut makes the group: it cannot be combined with --group");
        if (!(o->cut_column = strndup(cut, (size_t)(colon - cut)))) {
            hs_cli_error(CMD, "out of memory");
            return HS_EXIT_FAIL;
        }
        if (strcmp(o->cut_column, o->time) == 0 || strcmp(o->cut_column, o->event) == 0 ||
            (o->strata && strcmp(o->cut_column, o->strata) == 0))
            return hs_cli_misuse(CMD, usage, "the --cut column '%s' is also the time, event or strata column",
                                 o->cut_column);
    }
    if (!(o->cov = hs_cli_list(cov, &o->ncov)) || !(o->factors = hs_cli_list(fac, &o->nfactor))) {
        hs_cli_error(CMD, "out of memory");
        return HS_EXIT_FAIL;
    }
    for (size_t i = 0; i < o->nfactor; i++)
        if (!in_list(o->cov, o->ncov, o->factors[i]))
            return hs_cli_misuse(CMD, usage, "--factors names '%s', which is not in --covariates", o->factors[i]);
    for (size_t i = 0; i < o->ncov; i++) {
        const char *v = o->cov[i];
        if (strcmp(v, o->time) == 0 || strcmp(v, o->event) == 0 || (o->strata && strcmp(v, o->strata) == 0) ||
            (o->group && strcmp(v, o->group) == 0))
            return hs_cli_misuse(CMD, usage, "covariate '%s' is also the time, event, group or strata column", v);
        if (o->cut_column && strcmp(v, o->cut_column) == 0)
            return hs_cli_misuse(CMD, usage, "covariate '%s' is also the --cut column", v);
        for (size_t k = 0; k < i; k++)
            if (strcmp(o->cov[k], v) == 0)
                return hs_cli_misuse(CMD, usage, "covariate '%s' is listed twice", v);
    }
    return -1;
}

/* Reads the columns the analysis needs: a covariate is numeric unless named in --factors or holding text. */
static int load(const opts *o, hs_table **tab, hs_error *err)
{
    size_t n = 0, cap = o->ncov + 5;
    const char **names = malloc(cap * sizeof *names);
    hs_col_kind *kinds = malloc(cap * sizeof *kinds);
    if (!names || !kinds) {
        free(names);
        free(kinds);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    names[n] = o->time, kinds[n++] = HS_COL_NUMERIC;
    names[n] = o->event, kinds[n++] = HS_COL_NUMERIC;
    if (o->group)
        names[n] = o->group, kinds[n++] = HS_COL_FACTOR;
    if (o->strata)
        names[n] = o->strata, kinds[n++] = HS_COL_FACTOR;
    if (o->cut_column)
        names[n] = o->cut_column, kinds[n++] = HS_COL_NUMERIC;
    for (size_t i = 0; i < o->ncov; i++)
        names[n] = o->cov[i], kinds[n++] = in_list(o->factors, o->nfactor, o->cov[i]) ? HS_COL_FACTOR : HS_COL_AUTO;
    int rc = hs_table_read(tab, o->data, names, kinds, n, err);
    free(names);
    free(kinds);
    return rc;
}

int main_survival(int argc, char **argv)
{
    opts o = {.figures = HS_FIG_ALL, .ties = HS_TIES_EFRON, .conf = HS_CONF_LOG, .rho = 0, .tau = NAN, .cut = HS_CUT_NONE, .cut_value = NAN};
    hs_table *tab = NULL;
    hs_survival_result *res = NULL;
    int *is_factor = NULL;
    hs_error err;
    hs_error_clear(&err);
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        goto done;
    status = HS_EXIT_FAIL;
    if (o.ncov > HS_SURVIVAL_MAX_COV) {
        hs_cli_error(CMD, "at most %d covariates are supported", HS_SURVIVAL_MAX_COV);
        goto done;
    }
    if (hs_cli_mkdirs(o.out) != 0) {
        hs_cli_error(CMD, "%s: cannot create the output folder: %s", o.out, strerror(errno));
        goto done;
    }
    if (load(&o, &tab, &err) != HS_OK)
        goto fail;
    if (!(is_factor = calloc(o.ncov + 1, sizeof *is_factor))) {
        hs_error_set(&err, HS_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < o.ncov; i++)
        is_factor[i] = in_list(o.factors, o.nfactor, o.cov[i]);
    hs_survival_spec spec;
    hs_survival_spec_default(&spec);
    spec.time = o.time;
    spec.event = o.event;
    spec.group = o.group;
    spec.covariates = (const char *const *)o.cov;
    spec.ncov = o.ncov;
    spec.factor = is_factor;
    spec.strata = o.strata;
    spec.ties = o.ties;
    spec.conf_type = o.conf;
    spec.rho = o.rho;
    spec.tau = o.tau;
    spec.cut_column = o.cut_column;
    spec.cut = o.cut;
    spec.cut_value = o.cut_value;
    if (hs_survival_run(tab, &spec, &res, &err) != HS_OK)
        goto fail;
    printf("hetsurv survival: %s, %zu rows\n\n", o.data, tab->nrow);
    if (hs_survival_print(stdout, res) != HS_OK) {
        hs_error_set(&err, HS_EIO, "cannot write the summary: %s", strerror(errno));
        goto fail;
    }
    if (hs_survival_write(res, o.out, &err) != HS_OK)
        goto fail;
    if (o.figures) {
        hs_kmplot_opts ko;
        hs_kmplot_opts_default(&ko);
        if (o.time_unit)
            ko.time_unit = o.time_unit;
        if (hs_survfig_write(res, o.out, o.figures, &ko, o.title, &err) != HS_OK)
            goto fail;
    }
    printf("\nResults written to %s/\n", o.out);
    status = hs_cli_stdout_flush() == 0 ? HS_EXIT_OK : HS_EXIT_FAIL;
    goto done;
fail:
    fflush(stdout);
    hs_cli_error(CMD, "%s", err.msg);
done:
    hs_survival_result_free(res);
    hs_table_free(tab);
    free(is_factor);
    free(o.cut_column);
    hs_cli_list_free(o.cov);
    hs_cli_list_free(o.factors);
    return status;
}
