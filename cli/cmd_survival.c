/*
 * hetsurv survival: Kaplan-Meier curves, log-rank test and Cox regression on
 * any CSV table, with every number matching R survival (see README.md for
 * the R calls each output file corresponds to).
 *
 * Thin layer: parse options, read the needed columns (cohorts/table), pick
 * the complete rows of each analysis as R's na.omit would, call stats/, and
 * write DIR/km.csv, median.csv, cox.csv, fit.csv, tests.csv plus a summary.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "cli/cli.h"
#include "cohorts/table.h"
#include "stats/concordance.h"
#include "stats/cox.h"
#include "stats/km.h"
#include "stats/logrank.h"
#include "stats/timefix.h"
#include "stats/zph.h"
#include "util/hs_parse.h"

#define CMD "survival"

/* A factor in the Cox model has at most this many levels (each is a column of the design). */
#define MAX_LEVELS 1000

typedef struct opts {
    const char *data, *time, *event, *group, *strata, *out;
    char **cov;        /* covariate names */
    size_t ncov;
    char **factors;
    size_t nfactor;
    hs_ties ties;
    hs_conf_type conf;
    double rho, tau;   /* tau NAN: default */
} opts;

/* Where each variable lives in the table. */
typedef struct vars {
    const hs_column *time, *event, *group, *strata;
    const hs_column **cov;
    int *status;       /* nrow: 0/1, -1 when missing */
} vars;

/* Rows of one analysis and their gathered data. */
typedef struct subset {
    size_t n, dropped;
    size_t *row;
    double *time;
    int *status;
} subset;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hetsurv survival --data FILE.csv --time COL --event COL [--group COL]\n"
            "                        [--covariates A,B,...] [--factors A,...] [--strata COL]\n"
            "                        [--ties efron|breslow] [--conf-type log|log-log|plain]\n"
            "                        [--rho R] [--tau T] --out DIR\n"
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
            "  --covariates LIST  Cox model covariates (numeric unless named in --factors)\n"
            "  --factors LIST     covariates to treat as categorical (first level is the reference)\n"
            "  --strata COL       stratify the log-rank test and the Cox model\n"
            "  --ties T           Cox ties: efron (default) or breslow\n"
            "  --conf-type T      KM confidence limits: log (default), log-log or plain\n"
            "  --rho R            G-rho weight S(t-)^R of the log-rank test (default 0)\n"
            "  --tau T            RMST horizon (default: the largest last time among the curves)\n"
            "  --out DIR          output folder (created): km.csv median.csv cox.csv fit.csv tests.csv\n"
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
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *cov = "", *fac = "";
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
        for (size_t k = 0; k < i; k++)
            if (strcmp(o->cov[k], v) == 0)
                return hs_cli_misuse(CMD, usage, "covariate '%s' is listed twice", v);
    }
    return -1;
}

/* Reads the columns the analyses need and checks time and event. */
static int load(const opts *o, hs_table **tab, vars *v, hs_error *err)
{
    size_t n = 0;
    const char *names[64 + 4];
    hs_col_kind kinds[64 + 4];
    if (o->ncov > 64)
        return hs_error_set(err, HS_EINVAL, "at most 64 covariates are supported");
    names[n] = o->time, kinds[n++] = HS_COL_NUMERIC;
    names[n] = o->event, kinds[n++] = HS_COL_NUMERIC;
    if (o->group)
        names[n] = o->group, kinds[n++] = HS_COL_FACTOR;
    if (o->strata)
        names[n] = o->strata, kinds[n++] = HS_COL_FACTOR;
    for (size_t i = 0; i < o->ncov; i++)
        names[n] = o->cov[i], kinds[n++] = in_list(o->factors, o->nfactor, o->cov[i]) ? HS_COL_FACTOR : HS_COL_NUMERIC;
    int rc = hs_table_read(tab, o->data, names, kinds, n, err);
    if (rc != HS_OK)
        return rc;
    const hs_table *t = *tab;
    v->time = hs_table_column(t, o->time, HS_COL_NUMERIC);
    v->event = hs_table_column(t, o->event, HS_COL_NUMERIC);
    v->group = o->group ? hs_table_column(t, o->group, HS_COL_FACTOR) : NULL;
    v->strata = o->strata ? hs_table_column(t, o->strata, HS_COL_FACTOR) : NULL;
    if (!(v->cov = calloc(o->ncov + 1, sizeof *v->cov)) || !(v->status = malloc((t->nrow + 1) * sizeof *v->status)))
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->ncov; i++)
        v->cov[i] = &t->col[n - o->ncov + i];

    /* Event coding as R's Surv(): 0/1, or 1/2 when no 0 is present. */
    int has0 = 0, has2 = 0;
    for (size_t r = 0; r < t->nrow; r++) {
        double e = v->event->num[r], x = v->time->num[r];
        if (!isnan(e) && e != 0 && e != 1 && e != 2)
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': event must be 0/1 (or 1/2), not %g",
                                o->data, t->line[r], v->event->csv_index + 1, o->event, e);
        has0 |= e == 0;
        has2 |= e == 2;
        if (!isnan(x) && (x < 0 || isinf(x)))
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': time must be finite and >= 0, not %g",
                                o->data, t->line[r], v->time->csv_index + 1, o->time, x);
    }
    if (has0 && has2)
        return hs_error_set(err, HS_EDATA, "%s: column '%s' mixes 0 and 2: use 0/1 or 1/2 coding", o->data, o->event);
    for (size_t r = 0; r < t->nrow; r++) {
        double e = v->event->num[r];
        v->status[r] = isnan(e) ? -1 : has2 ? (int)e - 1 : (int)e;
    }
    return HS_OK;
}

static int row_complete(const vars *v, size_t r, int use_group, int use_strata, int use_cov, size_t ncov)
{
    if (isnan(v->time->num[r]) || v->status[r] < 0)
        return 0;
    if (use_group && v->group && v->group->code[r] < 0)
        return 0;
    if (use_strata && v->strata && v->strata->code[r] < 0)
        return 0;
    for (size_t i = 0; use_cov && i < ncov; i++) {
        const hs_column *c = v->cov[i];
        if (c->kind == HS_COL_NUMERIC ? isnan(c->num[r]) : c->code[r] < 0)
            return 0;
    }
    return 1;
}

static void subset_free(subset *s)
{
    free(s->row);
    free(s->time);
    free(s->status);
    memset(s, 0, sizeof *s);
}

/* The complete rows of one analysis, with R's timefix applied to their times. */
static int subset_make(subset *s, const hs_table *t, const vars *v, int use_group, int use_strata, int use_cov,
                       size_t ncov, hs_error *err)
{
    size_t n = t->nrow;
    memset(s, 0, sizeof *s);
    if (!(s->row = malloc((n + 1) * sizeof *s->row)) || !(s->time = malloc((n + 1) * sizeof *s->time)) ||
        !(s->status = malloc((n + 1) * sizeof *s->status))) {
        subset_free(s);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < n; r++)
        if (row_complete(v, r, use_group, use_strata, use_cov, ncov)) {
            s->row[s->n] = r;
            s->time[s->n] = v->time->num[r];
            s->status[s->n++] = v->status[r];
        }
    s->dropped = n - s->n;
    if (s->n == 0) {
        subset_free(s);
        return hs_error_set(err, HS_EDATA, "%s: no row has all the values this analysis needs", t->path);
    }
    int rc = hs_timefix(s->time, s->n, err);
    if (rc != HS_OK)
        subset_free(s);
    return rc;
}

static void put_num(FILE *f, double x)
{
    fputc(',', f);
    hs_fprint_double(f, x);
}

static FILE *open_out(const char *dir, const char *name, const char *header, hs_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        hs_error_set(err, HS_EIO, "%s: cannot create: %s", path, strerror(errno));
    else
        fprintf(f, "%s\n", header);
    return f;
}

static int close_out(FILE *f, const char *dir, const char *name, hs_error *err)
{
    if (ferror(f) | (fclose(f) != 0))
        return hs_error_set(err, HS_EIO, "%s/%s: write error: %s", dir, name, strerror(errno));
    return HS_OK;
}

/* x with printf format fmt (one double), or "NA" when x is not a number; buf holds 32 bytes. */
static const char *num_or_na(char buf[32], const char *fmt, double x)
{
    if (isnan(x))
        return "NA";
    snprintf(buf, 32, fmt, x);
    return buf;
}

/* ---- Kaplan-Meier and log-rank ---------------------------------------------------------- */

typedef struct curve {
    char *name;
    hs_km *km;
    double median, lower, upper, rmst, rmst_se;
} curve;

static int run_km(const opts *o, const hs_table *t, const vars *v, FILE *summary, hs_error *err)
{
    subset s;
    int rc = subset_make(&s, t, v, 1, 0, 0, 0, err);
    if (rc != HS_OK)
        return rc;
    size_t ncurve = v->group ? v->group->nlevel : 1;
    curve *cv = calloc(ncurve, sizeof *cv);
    double *tt = malloc(s.n * sizeof *tt);
    int *st = malloc(s.n * sizeof *st);
    FILE *f = NULL;
    if (!cv || !tt || !st) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    double tau = o->tau;
    for (size_t g = 0; g < ncurve && rc == HS_OK; g++) {
        size_t m = 0;
        for (size_t i = 0; i < s.n; i++)
            if (!v->group || v->group->code[s.row[i]] == (int)g) {
                tt[m] = s.time[i];
                st[m++] = s.status[i];
            }
        if (m == 0)
            continue; /* a level with no complete row has no curve, as in R */
        const char *lev = v->group ? v->group->level[g] : NULL;
        size_t len = lev ? strlen(o->group) + strlen(lev) + 2 : 4;
        if (!(cv[g].name = malloc(len))) {
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
            break;
        }
        if (lev)
            snprintf(cv[g].name, len, "%s=%s", o->group, lev);
        else
            snprintf(cv[g].name, len, "all");
        rc = hs_km_fit(&cv[g].km, tt, st, m, o->conf, 0.95, err);
        if (rc == HS_OK && isnan(o->tau)) {
            double last = cv[g].km->time[cv[g].km->ntime - 1];
            tau = isnan(tau) || last > tau ? last : tau;
        }
    }
    if (rc != HS_OK)
        goto done;

    if (!(f = open_out(o->out, "km.csv", "curve,time,n_risk,n_event,n_censor,surv,std_err,lower,upper", err))) {
        rc = HS_EIO;
        goto done;
    }
    for (size_t g = 0; g < ncurve; g++) {
        const hs_km *k = cv[g].km;
        for (size_t j = 0; k && j < k->ntime; j++) {
            hs_fprint_field(f, cv[g].name);
            put_num(f, k->time[j]);
            put_num(f, k->n_risk[j]);
            put_num(f, k->n_event[j]);
            put_num(f, k->n_censor[j]);
            put_num(f, k->surv[j]);
            put_num(f, k->std_err[j]);
            put_num(f, k->lower[j]);
            put_num(f, k->upper[j]);
            fputc('\n', f);
        }
    }
    rc = close_out(f, o->out, "km.csv", err);
    if (rc != HS_OK)
        goto done;

    if (!(f = open_out(o->out, "median.csv", "curve,n,events,median,lower95,upper95,rmst,rmst_se,tau", err))) {
        rc = HS_EIO;
        goto done;
    }
    fprintf(summary, "Kaplan-Meier (%s confidence limits)", o->conf == HS_CONF_LOG ? "log" : o->conf == HS_CONF_LOGLOG ? "log-log" : "plain");
    if (s.dropped)
        fprintf(summary, ", %zu observation%s deleted due to missingness", s.dropped, s.dropped == 1 ? "" : "s");
    fprintf(summary, "\n  %-20s %8s %8s %10s %10s %10s %10s %10s\n", "curve", "n", "events", "median", "0.95LCL",
            "0.95UCL", "rmst", "se(rmst)");
    for (size_t g = 0; g < ncurve && rc == HS_OK; g++) {
        curve *c = &cv[g];
        if (!c->km)
            continue;
        if ((rc = hs_km_median(c->km, &c->median, &c->lower, &c->upper, err)) != HS_OK ||
            (rc = hs_km_rmst(c->km, tau, &c->rmst, &c->rmst_se, err)) != HS_OK)
            break;
        hs_fprint_field(f, c->name);
        put_num(f, (double)c->km->n);
        put_num(f, c->km->events);
        put_num(f, c->median);
        put_num(f, c->lower);
        put_num(f, c->upper);
        put_num(f, c->rmst);
        put_num(f, c->rmst_se);
        put_num(f, tau);
        fputc('\n', f);
        char b[5][32];
        fprintf(summary, "  %-20s %8zu %8g %10s %10s %10s %10s %10s\n", c->name, c->km->n, c->km->events,
                num_or_na(b[0], "%.4g", c->median), num_or_na(b[1], "%.4g", c->lower),
                num_or_na(b[2], "%.4g", c->upper), num_or_na(b[3], "%.4g", c->rmst), num_or_na(b[4], "%.4g", c->rmst_se));
    }
    fprintf(summary, "  (RMST restricted to tau = %g)\n", tau);
    if (rc != HS_OK)
        fclose(f);
    else
        rc = close_out(f, o->out, "median.csv", err);
    f = NULL;
done:
    for (size_t g = 0; cv && g < ncurve; g++) {
        free(cv[g].name);
        hs_km_free(cv[g].km);
    }
    free(cv);
    free(tt);
    free(st);
    subset_free(&s);
    return rc;
}

/* The rows of tests.csv, gathered from the analyses and written in the contract's order. */
typedef struct test_row {
    char name[256];
    double stat;
    int df;
} test_row;

typedef struct test_list {
    test_row *row;
    size_t n, cap;
} test_list;

static int add_test(test_list *t, const char *name, double stat, int df, hs_error *err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        test_row *r = realloc(t->row, cap * sizeof *r);
        if (!r)
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        t->row = r;
        t->cap = cap;
    }
    test_row *r = &t->row[t->n++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->stat = stat;
    r->df = df;
    return HS_OK;
}

/* p-value of a chi-square statistic; R's pchisq(x, 0, lower = FALSE) is 1 at x = 0. */
static double chisq_p(double stat, int df)
{
    if (df == 0 && stat == 0)
        return 1;
    return df > 0 && isfinite(stat) ? gsl_cdf_chisq_Q(stat, df) : NAN;
}

/* Writes tests.csv: the Cox tests, the log-rank test, then the cox.zph rows. */
static int write_tests(const opts *o, const test_list *t, hs_error *err)
{
    static const char *const order[] = {"likelihood_ratio", "wald", "score", "logrank", "zph:"};
    FILE *f = open_out(o->out, "tests.csv", "test,statistic,df,p", err);
    if (!f)
        return HS_EIO;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < t->n; i++) {
            const test_row *r = &t->row[i];
            if (k == 4 ? strncmp(r->name, "zph:", 4) != 0 : strcmp(r->name, order[k]) != 0)
                continue;
            hs_fprint_field(f, r->name);
            put_num(f, r->stat);
            fprintf(f, ",%d", r->df);
            put_num(f, chisq_p(r->stat, r->df));
            fputc('\n', f);
        }
    return close_out(f, o->out, "tests.csv", err);
}

static int run_logrank(const opts *o, const hs_table *t, const vars *v, test_list *tests, FILE *summary, hs_error *err)
{
    subset s;
    int rc = subset_make(&s, t, v, 1, 1, 0, 0, err);
    if (rc != HS_OK)
        return rc;
    int *grp = malloc(s.n * sizeof *grp), *str = v->strata ? malloc(s.n * sizeof *str) : NULL;
    hs_logrank *lr = NULL;
    if (!grp || (v->strata && !str)) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < s.n; i++) {
        grp[i] = v->group->code[s.row[i]];
        if (str)
            str[i] = v->strata->code[s.row[i]];
    }
    size_t present = 0;
    for (size_t i = 1; i < s.n && !present; i++)
        present = grp[i] != grp[0];
    if (!present) { /* R's survdiff stops here ("There is only 1 group"); the other analyses stand */
        fprintf(summary, "\nLog-rank test: not computed: only one %s value has data\n", o->group);
        rc = add_test(tests, "logrank", NAN, 0, err);
        goto done;
    }
    if ((rc = hs_logrank_test(&lr, s.time, s.status, grp, v->group->nlevel, str, s.n, o->rho, err)) != HS_OK)
        goto done;
    if ((rc = add_test(tests, "logrank", lr->chisq, lr->df, err)) != HS_OK)
        goto done;
    fprintf(summary, "\nLog-rank test (G-rho, rho = %g)%s", o->rho, v->strata ? ", stratified" : "");
    if (s.dropped)
        fprintf(summary, ", %zu observation%s deleted due to missingness", s.dropped, s.dropped == 1 ? "" : "s");
    fprintf(summary, "\n  %-20s %10s %12s %12s\n", "group", "observed", "expected", "(O-E)^2/E");
    for (size_t g = 0; g < lr->ngroup; g++) {
        char name[256];
        snprintf(name, sizeof name, "%s=%s", o->group, v->group->level[g]);
        double oe = lr->exp[g] > 0 ? (lr->obs[g] - lr->exp[g]) * (lr->obs[g] - lr->exp[g]) / lr->exp[g] : NAN;
        char b[32];
        fprintf(summary, "  %-20s %10.6g %12.6g %12s\n", name, lr->obs[g], lr->exp[g], num_or_na(b, "%.6g", oe));
    }
    char b[2][32];
    fprintf(summary, "  Chisq = %s on %d degrees of freedom, p = %s%s\n", num_or_na(b[0], "%.6g", lr->chisq), lr->df,
            num_or_na(b[1], "%.4g", chisq_p(lr->chisq, lr->df)), lr->df < 0 ? " (no events)" : "");
done:
    hs_logrank_free(lr);
    free(grp);
    free(str);
    subset_free(&s);
    return rc;
}

/* ---- analyses on their own threads -------------------------------------------------------
 * The Kaplan-Meier/log-rank analysis, the Cox fit with its concordance, and
 * cox.zph are independent once their inputs exist, so they run side by side.
 * Each job writes its summary to memory and its tests to its own list; the
 * results are put together in a fixed order, so the output does not depend on
 * the scheduling.
 */
typedef struct design design;

typedef struct job {
    int (*fn)(struct job *);
    const opts *o;
    const hs_table *t;
    const vars *v;
    const design *d;        /* zph job: the model's inputs and fit */
    const struct subset *s;
    const int *str;
    const struct hs_cox *fit;
    hs_zph_prep *prep;      /* zph: the data part, prepared while the model is fitted */
    hs_concordance_prep *cprep; /* the concordance's data part, likewise */
    test_list tests;
    FILE *summary;
    char *text;
    size_t len;
    hs_error err;
    int rc;
    pthread_t thread;
    int threaded;
} job;

static void *job_main(void *arg)
{
    job *j = arg;
    if (!(j->summary = open_memstream(&j->text, &j->len))) {
        j->rc = hs_error_set(&j->err, HS_ENOMEM, "out of memory");
        return NULL;
    }
    j->rc = j->fn(j);
    if (fclose(j->summary) != 0 && j->rc == HS_OK)
        j->rc = hs_error_set(&j->err, HS_ENOMEM, "out of memory");
    return NULL;
}

/* Starts j on a new thread, or runs it now when no thread can be made. */
static void job_start(job *j)
{
    hs_error_clear(&j->err);
    j->threaded = pthread_create(&j->thread, NULL, job_main, j) == 0;
    if (!j->threaded)
        job_main(j);
}

/* Waits for j, prints its summary, moves its tests into tests; returns its status (message in err). */
static int job_finish(job *j, FILE *out, test_list *tests, hs_error *err)
{
    if (j->threaded)
        pthread_join(j->thread, NULL);
    j->threaded = 0;
    if (j->text)
        fwrite(j->text, 1, j->len, out);
    free(j->text);
    j->text = NULL;
    int rc = j->rc;
    for (size_t i = 0; rc == HS_OK && i < j->tests.n; i++)
        rc = add_test(tests, j->tests.row[i].name, j->tests.row[i].stat, j->tests.row[i].df, &j->err);
    free(j->tests.row);
    memset(&j->tests, 0, sizeof j->tests);
    if (rc != HS_OK && err)
        *err = j->err;
    return rc;
}

static int km_job(job *j)
{
    int rc = run_km(j->o, j->t, j->v, j->summary, &j->err);
    if (rc == HS_OK && j->o->group)
        rc = run_logrank(j->o, j->t, j->v, &j->tests, j->summary, &j->err);
    return rc;
}

/* ---- Cox regression ------------------------------------------------------------------ */

/* The design matrix: covariates in order (factors dummy-coded), then the group factor. */
struct design {
    size_t p, nterm;
    double *x;          /* n*p row-major */
    char **col_name;    /* p */
    size_t *term_of_col;
    const char **term_name;
};

static void design_free(design *d)
{
    for (size_t j = 0; d->col_name && j < d->p; j++)
        free(d->col_name[j]);
    free(d->col_name);
    free(d->term_of_col);
    free(d->term_name);
    free(d->x);
}

static int design_make(design *d, const opts *o, const vars *v, const subset *s, hs_error *err)
{
    memset(d, 0, sizeof *d);
    size_t nterm = o->ncov + (v->group ? 1 : 0), p = 0;
    const hs_column *term[65];
    const char *tname[65];
    for (size_t i = 0; i < o->ncov; i++)
        term[i] = v->cov[i], tname[i] = o->cov[i];
    if (v->group)
        term[o->ncov] = v->group, tname[o->ncov] = o->group;
    for (size_t k = 0; k < nterm; k++) {
        if (term[k]->kind == HS_COL_FACTOR && term[k]->nlevel > MAX_LEVELS)
            return hs_error_set(err, HS_EDATA,
                                "'%s' has %zu distinct values: too many levels for a Cox model term (at most %d); "
                                "is it a numeric covariate or an identifier?",
                                tname[k], term[k]->nlevel, MAX_LEVELS);
        p += term[k]->kind == HS_COL_NUMERIC ? 1 : (term[k]->nlevel ? term[k]->nlevel - 1 : 0);
    }
    d->p = p;
    d->nterm = nterm;
    if (!(d->x = malloc((s->n * p + 1) * sizeof *d->x)) || !(d->col_name = calloc(p + 1, sizeof *d->col_name)) ||
        !(d->term_of_col = malloc((p + 1) * sizeof *d->term_of_col)) ||
        !(d->term_name = malloc((nterm + 1) * sizeof *d->term_name)))
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    size_t j = 0;
    for (size_t k = 0; k < nterm; k++) {
        const hs_column *c = term[k];
        d->term_name[k] = tname[k];
        size_t width = c->kind == HS_COL_NUMERIC ? 1 : (c->nlevel ? c->nlevel - 1 : 0);
        for (size_t w = 0; w < width; w++, j++) {
            d->term_of_col[j] = k;
            size_t len = strlen(tname[k]) + (c->kind == HS_COL_FACTOR ? strlen(c->level[w + 1]) + 2 : 1);
            if (!(d->col_name[j] = malloc(len)))
                return hs_error_set(err, HS_ENOMEM, "out of memory");
            if (c->kind == HS_COL_FACTOR)
                snprintf(d->col_name[j], len, "%s=%s", tname[k], c->level[w + 1]);
            else
                snprintf(d->col_name[j], len, "%s", tname[k]);
        }
    }
    /* row by row, so that the matrix is written in order */
    for (size_t i = 0; i < s->n; i++) {
        const size_t r = s->row[i];
        double *xi = d->x + i * p;
        for (size_t k = 0; k < nterm; k++) {
            const hs_column *c = term[k];
            if (c->kind == HS_COL_NUMERIC) {
                *xi++ = c->num[r];
                continue;
            }
            size_t width = c->nlevel ? c->nlevel - 1 : 0;
            for (size_t w = 0; w < width; w++)
                xi[w] = c->code[r] == (int)w + 1 ? 1.0 : 0.0;
            xi += width;
        }
    }
    return HS_OK;
}

static void print_cox(FILE *out, const design *d, const hs_cox *fit, const hs_concordance *cc, size_t dropped)
{
    fprintf(out, "\nCox proportional hazards model\n  n = %zu, number of events = %g\n", fit->n, fit->nevent);
    if (dropped)
        fprintf(out, "  (%zu observation%s deleted due to missingness)\n", dropped, dropped == 1 ? "" : "s");
    fprintf(out, "  %-24s %12s %12s %12s %9s %10s %10s %10s\n", "term", "coef", "exp(coef)", "se(coef)", "z", "p",
            "lower .95", "upper .95");
    double zq = gsl_cdf_ugaussian_Pinv(0.975);
    for (size_t j = 0; j < d->p; j++) {
        double b = fit->coef[j], se = fit->se[j], z = b / se;
        char v[7][32];
        fprintf(out, "  %-24s %12s %12s %12s %9s %10s %10s %10s%s\n", d->col_name[j], num_or_na(v[0], "%.5g", b),
                num_or_na(v[1], "%.5g", exp(b)), num_or_na(v[2], "%.5g", se), num_or_na(v[3], "%.4g", z),
                num_or_na(v[4], "%.4g", isnan(z) ? NAN : 2 * gsl_cdf_ugaussian_Q(fabs(z))),
                num_or_na(v[5], "%.4g", exp(b - zq * se)), num_or_na(v[6], "%.4g", exp(b + zq * se)),
                isnan(b) ? "  (aliased: not estimable)" : fit->infinite[j] ? "  (coefficient may be infinite)" : "");
    }
    if (fit->df > 0) {
        fprintf(out, "  Likelihood ratio test = %.6g on %d df, p = %.4g\n", fit->lr_test, fit->df,
                gsl_cdf_chisq_Q(fit->lr_test, fit->df));
        fprintf(out, "  Wald test             = %.6g on %d df, p = %.4g\n", fit->wald_test, fit->df,
                gsl_cdf_chisq_Q(fit->wald_test, fit->df));
        fprintf(out, "  Score (log-rank) test = %.6g on %d df, p = %.4g\n", fit->score_test, fit->df,
                gsl_cdf_chisq_Q(fit->score_test, fit->df));
    }
    char c[2][32];
    fprintf(out, "  Concordance = %s (se = %s)\n", num_or_na(c[0], "%.4g", cc->c), num_or_na(c[1], "%.4g", sqrt(cc->var)));
    if (!fit->converged)
        fprintf(out, "  WARNING: ran out of iterations and did not converge (iter = %d)\n", fit->iter);
    for (size_t j = 0; j < d->p; j++)
        if (fit->infinite[j])
            fprintf(out, "  WARNING: loglik converged before variable %zu (%s); coefficient may be infinite\n", j + 1,
                    d->col_name[j]);
}

/*
 * cox.zph on the fitted model.  As R does, aliased (NA) coefficients are left
 * out, and a term with no estimable column has no row.  A singular
 * information matrix (a diverging coefficient) gives NA rows and a warning
 * instead of failing the whole analysis.
 */
static int run_zph(const design *d, const subset *s, const int *str, const hs_cox *fit, hs_ties ties,
                   hs_zph_prep *prep, test_list *tests, FILE *summary, hs_error *err)
{
    size_t p = 0, nterm = 0;
    for (size_t j = 0; j < d->p; j++)
        p += !isnan(fit->coef[j]);
    if (p == 0)
        return HS_OK;
    double *x = p == d->p ? d->x : malloc(s->n * p * sizeof *x);
    double *coef = malloc(p * sizeof *coef);
    size_t *term_of_col = malloc(p * sizeof *term_of_col);
    const char **term_name = malloc(d->nterm * sizeof *term_name);
    hs_zph *zph = NULL;
    int rc = HS_OK;
    if (!x || !coef || !term_of_col || !term_name) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t j = 0, k = 0; j < d->p; j++) {
        if (isnan(fit->coef[j]))
            continue;
        if (k == 0 || term_name[nterm - 1] != d->term_name[d->term_of_col[j]])
            term_name[nterm++] = d->term_name[d->term_of_col[j]];
        term_of_col[k] = nterm - 1;
        coef[k] = fit->coef[j];
        if (x != d->x)
            for (size_t i = 0; i < s->n; i++)
                x[i * p + k] = d->x[i * d->p + j];
        k++;
    }
    if (prep && x == d->x) /* no aliased column: the data part was prepared during the fit */
        rc = hs_zph_finish(&zph, prep, coef, (int)ties, term_of_col, nterm, err);
    else
        rc = hs_zph_test(&zph, s->time, s->status, x, s->n, p, str, coef, (int)ties, term_of_col, nterm, err);
    if (rc == HS_ENUMERIC) {
        fprintf(summary, "  WARNING: cox.zph not computed: %s\n", err->msg);
        hs_error_clear(err);
        rc = HS_OK;
        for (size_t k = 0; k <= nterm && rc == HS_OK; k++) {
            char name[256];
            int df = 0;
            for (size_t j = 0; j < p; j++)
                df += k == nterm || term_of_col[j] == k;
            snprintf(name, sizeof name, "zph:%s", k < nterm ? term_name[k] : "GLOBAL");
            rc = add_test(tests, name, NAN, df, err);
        }
        goto done;
    }
    if (rc != HS_OK)
        goto done;
    fprintf(summary, "  Proportional hazards (cox.zph, km transform):");
    for (size_t k = 0; k < zph->nterm && rc == HS_OK; k++) {
        char name[256];
        snprintf(name, sizeof name, "zph:%s", term_name[k]);
        rc = add_test(tests, name, zph->chisq[k], zph->df[k], err);
        fprintf(summary, " %s p = %.4g;", term_name[k], zph->p[k]);
    }
    fprintf(summary, " GLOBAL p = %.4g\n", zph->global_p);
    if (rc == HS_OK)
        rc = add_test(tests, "zph:GLOBAL", zph->global_chisq, zph->global_df, err);
done:
    hs_zph_free(zph);
    if (x != d->x)
        free(x);
    free(coef);
    free(term_of_col);
    free(term_name);
    return rc;
}

/* The parts of cox.zph and of the concordance that do not need the fit, run while it is computed. */
static int prep_job(job *j)
{
    if (hs_zph_prepare(&j->prep, j->s->time, j->s->status, j->d->x, j->s->n, j->d->p, j->str, &j->err) != HS_OK)
        j->prep = NULL; /* not fatal: each is then run whole, which reports what is wrong */
    if (hs_concordance_prepare(&j->cprep, j->s->time, j->s->status, j->str, j->s->n, &j->err) != HS_OK)
        j->cprep = NULL;
    return HS_OK;
}

static int zph_job(job *j)
{
    return run_zph(j->d, j->s, j->str, j->fit, j->o->ties, j->prep, &j->tests, j->summary, &j->err);
}

static int run_cox(const opts *o, const hs_table *t, const vars *v, test_list *tests, FILE *summary, hs_error *err)
{
    subset s;
    int rc = subset_make(&s, t, v, 1, 1, 1, o->ncov, err);
    if (rc != HS_OK)
        return rc;
    design d;
    hs_cox *fit = NULL;
    hs_concordance cc;
    int *str = v->strata ? malloc(s.n * sizeof *str) : NULL;
    FILE *f = NULL;
    job zph;
    int zph_started = 0;
    if ((rc = design_make(&d, o, v, &s, err)) != HS_OK)
        goto done;
    if (v->strata && !str) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; str && i < s.n; i++)
        str[i] = v->strata->code[s.row[i]];
    hs_cox_control ctl;
    hs_cox_control_default(&ctl);
    job prep = {.fn = prep_job, .o = o, .d = &d, .s = &s, .str = str};
    if (d.p > 0)
        job_start(&prep);
    rc = hs_cox_fit(&fit, s.time, s.status, d.x, s.n, d.p, str, o->ties, &ctl, err);
    if (d.p > 0)
        (void)job_finish(&prep, summary, tests, NULL); /* it never fails; a failed preparation is NULL */
    if (rc != HS_OK) {
        hs_zph_prep_free(prep.prep);
        hs_concordance_prep_free(prep.cprep);
        goto done;
    }
    zph = (job){.fn = zph_job, .o = o, .d = &d, .s = &s, .str = str, .fit = fit, .prep = prep.prep};
    job_start(&zph);
    zph_started = 1;
    rc = prep.cprep ? hs_concordance_finish(&cc, prep.cprep, fit->lp, 1, err)
                    : hs_concordance_fit(&cc, s.time, s.status, fit->lp, str, s.n, 1, err);
    hs_concordance_prep_free(prep.cprep);
    if (rc != HS_OK)
        goto done;

    if (!(f = open_out(o->out, "cox.csv", "term,coef,se,z,p,hr,hr_lower95,hr_upper95,flag", err))) {
        rc = HS_EIO;
        goto done;
    }
    double zq = gsl_cdf_ugaussian_Pinv(0.975);
    for (size_t j = 0; j < d.p; j++) {
        double b = fit->coef[j], se = fit->se[j], z = b / se;
        hs_fprint_field(f, d.col_name[j]);
        put_num(f, b);
        put_num(f, se);
        put_num(f, z);
        put_num(f, isnan(z) ? NAN : 2 * gsl_cdf_ugaussian_Q(fabs(z)));
        put_num(f, exp(b));
        put_num(f, exp(b - zq * se));
        put_num(f, exp(b + zq * se));
        fprintf(f, ",%s\n", isnan(b) ? "aliased" : fit->infinite[j] ? "infinite" : "");
    }
    if ((rc = close_out(f, o->out, "cox.csv", err)) != HS_OK)
        goto done;
    if (!(f = open_out(o->out, "fit.csv", "n,nevent,loglik_null,loglik,iter,converged,concordance,concordance_se",
                       err))) {
        rc = HS_EIO;
        goto done;
    }
    fprintf(f, "%zu", fit->n);
    put_num(f, fit->nevent);
    put_num(f, fit->loglik_null);
    put_num(f, fit->loglik);
    fprintf(f, ",%d,%d", fit->iter, fit->converged);
    put_num(f, cc.c);
    put_num(f, sqrt(cc.var));
    fputc('\n', f);
    if ((rc = close_out(f, o->out, "fit.csv", err)) != HS_OK)
        goto done;

    if ((rc = add_test(tests, "likelihood_ratio", fit->lr_test, fit->df, err)) != HS_OK ||
        (rc = add_test(tests, "wald", fit->wald_test, fit->df, err)) != HS_OK ||
        (rc = add_test(tests, "score", fit->score_test, fit->df, err)) != HS_OK)
        goto done;
    print_cox(summary, &d, fit, &cc, s.dropped);
done:
    if (zph_started) {
        int zrc = job_finish(&zph, summary, tests, rc == HS_OK ? err : NULL);
        hs_zph_prep_free(zph.prep);
        if (rc == HS_OK)
            rc = zrc;
    }
    hs_cox_free(fit);
    design_free(&d);
    free(str);
    subset_free(&s);
    return rc;
}

int main_survival(int argc, char **argv)
{
    opts o = {.ties = HS_TIES_EFRON, .conf = HS_CONF_LOG, .rho = 0, .tau = NAN};
    vars v = {0};
    hs_table *tab = NULL;
    test_list tests = {0};
    hs_error err;
    hs_error_clear(&err);
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        goto done;
    status = HS_EXIT_FAIL;
    if (hs_cli_mkdirs(o.out) != 0) {
        hs_cli_error(CMD, "%s: cannot create the output folder: %s", o.out, strerror(errno));
        goto done;
    }
    if (load(&o, &tab, &v, &err) != HS_OK)
        goto fail;
    printf("hetsurv survival: %s, %zu rows\n\n", o.data, tab->nrow);
    job km = {.fn = km_job, .o = &o, .t = tab, .v = &v};
    job_start(&km);
    int cox_rc = HS_OK;
    hs_error cox_err;
    char *cox_text = NULL;
    size_t cox_len = 0;
    FILE *cox_summary = open_memstream(&cox_text, &cox_len);
    if (!cox_summary)
        cox_rc = hs_error_set(&cox_err, HS_ENOMEM, "out of memory");
    else if (o.group || o.ncov)
        cox_rc = run_cox(&o, tab, &v, &tests, cox_summary, &cox_err);
    if (cox_summary)
        fclose(cox_summary);
    int km_rc = job_finish(&km, stdout, &tests, &err);
    if (cox_text)
        fputs(cox_text, stdout);
    free(cox_text);
    if (km_rc != HS_OK)
        goto fail;
    if (cox_rc != HS_OK) {
        err = cox_err;
        goto fail;
    }
    if (write_tests(&o, &tests, &err) != HS_OK)
        goto fail;
    printf("\nResults written to %s/\n", o.out);
    status = HS_EXIT_OK;
    goto done;
fail:
    hs_cli_error(CMD, "%s", err.msg);
done:
    free(tests.row);
    hs_table_free(tab);
    free(v.cov);
    free(v.status);
    hs_cli_list_free(o.cov);
    hs_cli_list_free(o.factors);
    return status;
}
