/*
 * survival: one survival analysis of a table (see survival.h).
 *
 * hs_survival_run checks the spec against the table, codes the event, makes
 * the cut group if asked, then runs three strands of work: the
 * Kaplan-Meier/log-rank analysis on a thread of its own; on the calling
 * thread the Cox fit, with the data part of cox.zph and of the concordance
 * prepared on a second thread meanwhile; then cox.zph on a thread beside the
 * concordance.  Each strand fills its own fields of the result; the tests are
 * assembled afterwards in the order tests.csv lists them.  The writers and
 * the printer only format what the result holds.
 */
#include "stats/survival.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>

#include "stats/timefix.h"
#include "util/hs_atomic.h"
#include "util/hs_parse.h"

void hs_survival_spec_default(hs_survival_spec *s)
{
    memset(s, 0, sizeof *s);
    s->ties = HS_TIES_EFRON;
    s->conf_type = HS_CONF_LOG;
    s->rho = 0;
    s->tau = NAN;
    s->cut = HS_CUT_NONE;
    s->cut_value = NAN;
}

/* ---- the analysis' inputs ------------------------------------------------------------------ */

/* Where each variable lives, and what is derived from the table once. */
typedef struct vars {
    const hs_survival_spec *s;
    const hs_table *t;
    const hs_column *time, *event, *strata;
    const hs_column *group;    /* the group column, or &cutgroup */
    const hs_column *cutsrc;   /* the column cut into the group */
    const hs_column *cov[HS_SURVIVAL_MAX_COV];
    int *status;               /* nrow: 0/1, -1 when missing */
    hs_column cutgroup;        /* the cut's group: codes 0 low, 1 high, -1 missing */
    char *cut_level[2];
} vars;

/* Rows of one analysis and their gathered data. */
typedef struct subset {
    size_t n, dropped;
    size_t *row;
    double *time;
    int *status;
} subset;

static int row_complete(const vars *v, size_t r, int use_group, int use_strata, int use_cov)
{
    if (isnan(v->time->num[r]) || v->status[r] < 0)
        return 0;
    if (use_group && v->group && v->group->code[r] < 0)
        return 0;
    if (use_strata && v->strata && v->strata->code[r] < 0)
        return 0;
    for (size_t i = 0; use_cov && i < v->s->ncov; i++) {
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

/*
 * The complete rows of one analysis; with fix, R's timefix applied to their
 * times.  use_src also requires the cut column (maxstat's rows).
 */
static int subset_make(subset *s, const vars *v, int use_group, int use_strata, int use_cov, int use_src, int fix,
                       hs_error *err)
{
    size_t n = v->t->nrow;
    memset(s, 0, sizeof *s);
    if (!(s->row = malloc((n + 1) * sizeof *s->row)) || !(s->time = malloc((n + 1) * sizeof *s->time)) ||
        !(s->status = malloc((n + 1) * sizeof *s->status))) {
        subset_free(s);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < n; r++)
        if (row_complete(v, r, use_group, use_strata, use_cov) && (!use_src || !isnan(v->cutsrc->num[r]))) {
            s->row[s->n] = r;
            s->time[s->n] = v->time->num[r];
            s->status[s->n++] = v->status[r];
        }
    s->dropped = n - s->n;
    if (s->n == 0) {
        subset_free(s);
        return hs_error_set(err, HS_EDATA, "%s: no row has all the values this analysis needs", v->t->path);
    }
    int rc = fix ? hs_timefix(s->time, s->n, err) : HS_OK;
    if (rc != HS_OK)
        subset_free(s);
    return rc;
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Checks the options and the roles of the columns named. */
static int check_spec(const hs_survival_spec *s, hs_error *err)
{
    if (!s->time || !s->event)
        return hs_error_set(err, HS_EINVAL, "hs_survival_run: the time and event columns are required");
    if (s->ncov > HS_SURVIVAL_MAX_COV)
        return hs_error_set(err, HS_EINVAL, "at most %d covariates are supported", HS_SURVIVAL_MAX_COV);
    if (s->ncov && !s->covariates)
        return hs_error_set(err, HS_EINVAL, "hs_survival_run: NULL covariate list");
    if (s->ties != HS_TIES_EFRON && s->ties != HS_TIES_BRESLOW)
        return hs_error_set(err, HS_EINVAL, "hs_survival_run: bad ties value %d", (int)s->ties);
    if (s->conf_type != HS_CONF_LOG && s->conf_type != HS_CONF_LOGLOG && s->conf_type != HS_CONF_PLAIN)
        return hs_error_set(err, HS_EINVAL, "hs_survival_run: bad confidence type %d", (int)s->conf_type);
    if (!(s->rho >= 0) || !isfinite(s->rho))
        return hs_error_set(err, HS_EINVAL, "rho must be a number >= 0, not %g", s->rho);
    if (!isnan(s->tau) && !(s->tau > 0 && isfinite(s->tau)))
        return hs_error_set(err, HS_EINVAL, "tau must be a number > 0, not %g", s->tau);
    if ((s->cut != HS_CUT_NONE) != (s->cut_column != NULL) ||
        (s->cut != HS_CUT_NONE && s->cut != HS_CUT_VALUE && s->cut != HS_CUT_OPTIMAL))
        return hs_error_set(err, HS_EINVAL, "hs_survival_run: a cut needs both a column and a kind");
    if (s->cut == HS_CUT_VALUE && !isfinite(s->cut_value))
        return hs_error_set(err, HS_EINVAL, "the cut value must be a finite number, not %g", s->cut_value);
    if (s->cut_column && s->group)
        return hs_error_set(err, HS_EINVAL, "a cut makes the group: it cannot be combined with a group column");
    if (s->cut_column && (same(s->cut_column, s->time) || same(s->cut_column, s->event) ||
                          same(s->cut_column, s->strata)))
        return hs_error_set(err, HS_EINVAL, "the cut column '%s' is also the time, event or strata column",
                            s->cut_column);
    for (size_t i = 0; i < s->ncov; i++) {
        const char *c = s->covariates[i];
        if (!c)
            return hs_error_set(err, HS_EINVAL, "hs_survival_run: NULL covariate name");
        if (same(c, s->time) || same(c, s->event) || same(c, s->strata) || same(c, s->group) ||
            same(c, s->cut_column))
            return hs_error_set(err, HS_EINVAL, "covariate '%s' is also the time, event, group, cut or strata column",
                                c);
        for (size_t k = 0; k < i; k++)
            if (same(s->covariates[k], c))
                return hs_error_set(err, HS_EINVAL, "covariate '%s' is listed twice", c);
    }
    return HS_OK;
}

static int find_column(const hs_table *t, const char *name, hs_col_kind kind, const hs_column **out, hs_error *err)
{
    *out = hs_table_column(t, name, kind);
    if (!*out)
        return hs_error_set(err, HS_EDATA, "%s: no %scolumn '%s' in the table", t->path,
                            kind == HS_COL_NUMERIC ? "numeric " : kind == HS_COL_FACTOR ? "categorical " : "", name);
    return HS_OK;
}

static void vars_free(vars *v)
{
    free(v->status);
    free(v->cutgroup.code);
}

/* Finds the columns, codes the event as R's Surv() does and checks every time. */
static int vars_make(vars *v, const hs_table *t, const hs_survival_spec *s, hs_error *err)
{
    memset(v, 0, sizeof *v);
    v->s = s;
    v->t = t;
    int rc;
    if ((rc = find_column(t, s->time, HS_COL_NUMERIC, &v->time, err)) != HS_OK ||
        (rc = find_column(t, s->event, HS_COL_NUMERIC, &v->event, err)) != HS_OK ||
        (s->group && (rc = find_column(t, s->group, HS_COL_FACTOR, &v->group, err)) != HS_OK) ||
        (s->strata && (rc = find_column(t, s->strata, HS_COL_FACTOR, &v->strata, err)) != HS_OK) ||
        (s->cut_column && (rc = find_column(t, s->cut_column, HS_COL_NUMERIC, &v->cutsrc, err)) != HS_OK))
        return rc;
    for (size_t i = 0; i < s->ncov; i++)
        if ((rc = find_column(t, s->covariates[i], s->factor && s->factor[i] ? HS_COL_FACTOR : HS_COL_AUTO,
                              &v->cov[i], err)) != HS_OK)
            return rc;
    if (!(v->status = malloc((t->nrow + 1) * sizeof *v->status)))
        return hs_error_set(err, HS_ENOMEM, "out of memory");

    /* Event coding as R's Surv(): 0/1, or 1/2 when no 0 is present. */
    int has0 = 0, has2 = 0;
    for (size_t r = 0; r < t->nrow; r++) {
        double e = v->event->num[r], x = v->time->num[r];
        if (!isnan(e) && e != 0 && e != 1 && e != 2)
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': event must be 0/1 (or 1/2), not %g",
                                t->path, t->line[r], v->event->csv_index + 1, s->event, e);
        has0 |= e == 0;
        has2 |= e == 2;
        if (!isnan(x) && (x < 0 || isinf(x)))
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': time must be finite and >= 0, not %g",
                                t->path, t->line[r], v->time->csv_index + 1, s->time, x);
    }
    if (has0 && has2)
        return hs_error_set(err, HS_EDATA, "%s: column '%s' mixes 0 and 2: use 0/1 or 1/2 coding", t->path,
                            s->event);
    for (size_t r = 0; r < t->nrow; r++) {
        double e = v->event->num[r];
        v->status[r] = isnan(e) ? -1 : has2 ? (int)e - 1 : (int)e;
    }
    for (size_t r = 0; v->cutsrc && r < t->nrow; r++)
        if (isinf(v->cutsrc->num[r]))
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': the value to cut must be finite, not %g",
                                t->path, t->line[r], v->cutsrc->csv_index + 1, s->cut_column, v->cutsrc->num[r]);
    return HS_OK;
}

/* Makes the cut group (choosing the cut first when it is optimal). */
static int make_cut(vars *v, hs_survival_result *res, hs_error *err)
{
    static char low[] = "low", high[] = "high";
    const hs_survival_spec *s = v->s;
    const hs_table *t = v->t;
    double cut = s->cut_value;
    if (s->cut == HS_CUT_OPTIMAL) {
        subset ms;
        int rc = subset_make(&ms, v, 0, 0, 0, 1, 0, err);
        if (rc != HS_OK)
            return rc;
        double *x = malloc(ms.n * sizeof *x);
        if (!x)
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        for (size_t i = 0; x && i < ms.n; i++)
            x[i] = v->cutsrc->num[ms.row[i]];
        if (rc == HS_OK)
            rc = hs_maxstat_logrank(&res->maxstat, ms.time, ms.status, x, ms.n, HS_MAXSTAT_MINPROP,
                                    HS_MAXSTAT_MAXPROP, err);
        free(x);
        subset_free(&ms);
        if (rc != HS_OK) {
            char msg[HS_ERROR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
            return hs_error_set(err, rc, "%s: column '%s': cannot choose a cutpoint: %s", t->path, s->cut_column,
                                msg);
        }
        cut = res->maxstat->cut_above;
    }
    if (!(v->cutgroup.code = malloc((t->nrow + 1) * sizeof *v->cutgroup.code)))
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t r = 0; r < t->nrow; r++) {
        double x = v->cutsrc->num[r];
        v->cutgroup.code[r] = isnan(x) ? -1 : x >= cut ? 1 : 0;
    }
    v->cut_level[0] = low;
    v->cut_level[1] = high;
    v->cutgroup.name = v->cutsrc->name;
    v->cutgroup.csv_index = v->cutsrc->csv_index;
    v->cutgroup.kind = HS_COL_FACTOR;
    v->cutgroup.level = v->cut_level;
    v->cutgroup.nlevel = 2;
    v->group = &v->cutgroup;
    res->cut = s->cut;
    res->cut_value = cut;
    return HS_OK;
}

/* ---- tests ----------------------------------------------------------------------------------- */

typedef struct test_list {
    hs_survival_test *row;
    size_t n, cap;
} test_list;

static void test_list_free(test_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->row[i].name);
    free(l->row);
    memset(l, 0, sizeof *l);
}

/* p-value of a chi-square statistic; R's pchisq(x, 0, lower = FALSE) is 1 at x = 0. */
static double chisq_p(double stat, int df)
{
    if (df == 0 && stat == 0)
        return 1;
    return df > 0 && isfinite(stat) ? gsl_cdf_chisq_Q(stat, df) : NAN;
}

/* Appends a test; prefix and name are joined ("zph:" "age"). */
static int add_test(test_list *l, const char *prefix, const char *name, double stat, double df, double p,
                    hs_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        hs_survival_test *r = realloc(l->row, cap * sizeof *r);
        if (!r)
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        l->row = r;
        l->cap = cap;
    }
    size_t len = strlen(prefix) + strlen(name) + 1;
    char *s = malloc(len);
    if (!s)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    snprintf(s, len, "%s%s", prefix, name);
    l->row[l->n++] = (hs_survival_test){.name = s, .statistic = stat, .df = df, .p = p};
    return HS_OK;
}

static int add_chisq(test_list *l, const char *prefix, const char *name, double stat, int df, hs_error *err)
{
    return add_test(l, prefix, name, stat, df, chisq_p(stat, df), err);
}

/* ---- Kaplan-Meier and log-rank --------------------------------------------------------------- */

static char *join_name(const char *group, const char *level)
{
    size_t len = strlen(group) + strlen(level) + 2;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s=%s", group, level);
    return s;
}

static int run_km(const vars *v, hs_survival_result *res, hs_error *err)
{
    const hs_survival_spec *o = v->s;
    subset s;
    int rc = subset_make(&s, v, 1, 0, 0, 0, 1, err);
    if (rc != HS_OK)
        return rc;
    size_t nlevel = v->group ? v->group->nlevel : 1;
    double *tt = malloc(s.n * sizeof *tt);
    int *st = malloc(s.n * sizeof *st);
    if (!tt || !st || !(res->curve = calloc(nlevel ? nlevel : 1, sizeof *res->curve))) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    res->km_n = s.n;
    res->km_dropped = s.dropped;
    double tau = o->tau;
    for (size_t g = 0; g < nlevel && rc == HS_OK; g++) {
        size_t m = 0;
        for (size_t i = 0; i < s.n; i++)
            if (!v->group || v->group->code[s.row[i]] == (int)g) {
                tt[m] = s.time[i];
                st[m++] = s.status[i];
            }
        if (v->cutsrc)
            res->cut_n[g] = m;
        if (m == 0)
            continue; /* a level with no complete row has no curve, as in R */
        hs_survival_curve *c = &res->curve[res->ncurve++];
        c->level = g;
        if (!(c->name = v->group ? join_name(res->group, v->group->level[g]) : strdup("all"))) {
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
            break;
        }
        rc = hs_km_fit(&c->km, tt, st, m, o->conf_type, 0.95, err);
        if (rc == HS_OK && isnan(o->tau)) {
            double last = c->km->time[c->km->ntime - 1];
            tau = isnan(tau) || last > tau ? last : tau;
        }
    }
    res->tau = tau;
    for (size_t k = 0; k < res->ncurve && rc == HS_OK; k++) {
        hs_survival_curve *c = &res->curve[k];
        if ((rc = hs_km_median(c->km, &c->median, &c->median_lower, &c->median_upper, err)) == HS_OK)
            rc = hs_km_rmst(c->km, tau, &c->rmst, &c->rmst_se, err);
    }
done:
    free(tt);
    free(st);
    subset_free(&s);
    return rc;
}

static int run_logrank(const vars *v, hs_survival_result *res, hs_error *err)
{
    subset s;
    int rc = subset_make(&s, v, 1, 1, 0, 0, 1, err);
    if (rc != HS_OK)
        return rc;
    int *grp = malloc(s.n * sizeof *grp), *str = v->strata ? malloc(s.n * sizeof *str) : NULL;
    if (!grp || (v->strata && !str)) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < s.n; i++) {
        grp[i] = v->group->code[s.row[i]];
        if (str)
            str[i] = v->strata->code[s.row[i]];
    }
    res->logrank_dropped = s.dropped;
    size_t present = 0;
    for (size_t i = 1; i < s.n && !present; i++)
        present = grp[i] != grp[0];
    if (!present) { /* R's survdiff stops here ("There is only 1 group"); the other analyses stand */
        res->logrank_one_group = 1;
        goto done;
    }
    rc = hs_logrank_test(&res->logrank, s.time, s.status, grp, v->group->nlevel, str, s.n, v->s->rho, err);
    res->logrank_done = rc == HS_OK;
done:
    free(grp);
    free(str);
    subset_free(&s);
    return rc;
}

/* ---- analyses on their own threads ----------------------------------------------------------- */

typedef struct task {
    int (*fn)(void *ctx, hs_error *err);
    void *ctx;
    hs_error err;
    int rc;
    pthread_t thread;
    int threaded;
} task;

static void *task_main(void *arg)
{
    task *k = arg;
    k->rc = k->fn(k->ctx, &k->err);
    return NULL;
}

/* Starts k on a new thread, or runs it now when no thread can be made. */
static void task_start(task *k)
{
    hs_error_clear(&k->err);
    k->threaded = pthread_create(&k->thread, NULL, task_main, k) == 0;
    if (!k->threaded)
        task_main(k);
}

/* Waits for k; returns its status, its message copied to err. */
static int task_join(task *k, hs_error *err)
{
    if (k->threaded)
        pthread_join(k->thread, NULL);
    k->threaded = 0;
    if (k->rc != HS_OK && err)
        *err = k->err;
    return k->rc;
}

typedef struct km_ctx {
    const vars *v;
    hs_survival_result *res;
} km_ctx;

static int km_task(void *ctx, hs_error *err)
{
    km_ctx *c = ctx;
    int rc = run_km(c->v, c->res, err);
    if (rc == HS_OK && c->v->group)
        rc = run_logrank(c->v, c->res, err);
    return rc;
}

/* ---- Cox regression -------------------------------------------------------------------------- */

/* The design matrix: covariates in order (categorical ones dummy-coded), then the group factor. */
typedef struct design {
    size_t p, nterm;
    double *x;            /* n*p row-major */
    char **col_name;      /* p */
    size_t *term_of_col;  /* p */
    const char **term_name;
} design;

static void design_free(design *d)
{
    for (size_t j = 0; d->col_name && j < d->p; j++)
        free(d->col_name[j]);
    free(d->col_name);
    free(d->term_of_col);
    free(d->term_name);
    free(d->x);
}

static int design_make(design *d, const vars *v, const subset *s, const char *group_name, hs_error *err)
{
    memset(d, 0, sizeof *d);
    const hs_survival_spec *o = v->s;
    size_t nterm = o->ncov + (v->group ? 1 : 0), p = 0;
    const hs_column *term[HS_SURVIVAL_MAX_COV + 1];
    const char *tname[HS_SURVIVAL_MAX_COV + 1];
    for (size_t i = 0; i < o->ncov; i++)
        term[i] = v->cov[i], tname[i] = o->covariates[i];
    if (v->group)
        term[o->ncov] = v->group, tname[o->ncov] = group_name;
    for (size_t k = 0; k < nterm; k++) {
        if (term[k]->kind == HS_COL_FACTOR && term[k]->nlevel > HS_SURVIVAL_MAX_LEVELS)
            return hs_error_set(err, HS_EDATA,
                                "'%s' has %zu distinct values: too many levels for a Cox model term (at most %d); "
                                "is it a numeric covariate or an identifier?",
                                tname[k], term[k]->nlevel, HS_SURVIVAL_MAX_LEVELS);
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
            if (!(d->col_name[j] = c->kind == HS_COL_FACTOR ? join_name(tname[k], c->level[w + 1]) : strdup(tname[k])))
                return hs_error_set(err, HS_ENOMEM, "out of memory");
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

/* What the Cox strand's helper tasks work on. */
typedef struct cox_ctx {
    const design *d;
    const subset *s;
    const int *str;
    hs_ties ties;
    const hs_cox *fit;
    hs_zph_prep *prep;          /* zph: the data part, prepared while the model is fitted */
    hs_concordance_prep *cprep; /* the concordance's data part, likewise */
    hs_survival_result *res;
    test_list zph_tests;
} cox_ctx;

/* The parts of cox.zph and of the concordance that do not need the fit. */
static int prep_task(void *ctx, hs_error *err)
{
    cox_ctx *c = ctx;
    if (hs_zph_prepare(&c->prep, c->s->time, c->s->status, c->d->x, c->s->n, c->d->p, c->str, err) != HS_OK)
        c->prep = NULL; /* not fatal: each is then run whole, which reports what is wrong */
    if (hs_concordance_prepare(&c->cprep, c->s->time, c->s->status, c->str, c->s->n, err) != HS_OK)
        c->cprep = NULL;
    return HS_OK;
}

/*
 * cox.zph on the fitted model.  As R does, aliased (NA) coefficients are left
 * out, and a term with no estimable column has no row.  A singular
 * information matrix (a diverging coefficient) gives NA rows and a note
 * instead of failing the whole analysis.
 */
static int zph_task(void *ctx, hs_error *err)
{
    cox_ctx *c = ctx;
    const design *d = c->d;
    const subset *s = c->s;
    hs_survival_result *res = c->res;
    size_t p = 0, nterm = 0;
    for (size_t j = 0; j < d->p; j++)
        p += !isnan(c->fit->coef[j]);
    if (p == 0)
        return HS_OK;
    double *x = p == d->p ? d->x : malloc(s->n * p * sizeof *x);
    double *coef = malloc(p * sizeof *coef);
    size_t *term_of_col = malloc(p * sizeof *term_of_col);
    int rc = HS_OK;
    if (!x || !coef || !term_of_col || !(res->zph_term = calloc(d->nterm, sizeof *res->zph_term))) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    size_t last_term = SIZE_MAX;
    for (size_t j = 0, k = 0; j < d->p; j++) {
        if (isnan(c->fit->coef[j]))
            continue;
        if (d->term_of_col[j] != last_term) {
            last_term = d->term_of_col[j];
            if (!(res->zph_term[nterm++] = strdup(d->term_name[last_term]))) {
                rc = hs_error_set(err, HS_ENOMEM, "out of memory");
                goto done;
            }
        }
        term_of_col[k] = nterm - 1;
        coef[k] = c->fit->coef[j];
        if (x != d->x)
            for (size_t i = 0; i < s->n; i++)
                x[i * p + k] = d->x[i * d->p + j];
        k++;
    }
    res->nzph_term = nterm;
    if (c->prep && x == d->x) /* no aliased column: the data part was prepared during the fit */
        rc = hs_zph_finish(&res->zph, c->prep, coef, (int)c->ties, term_of_col, nterm, err);
    else
        rc = hs_zph_test(&res->zph, s->time, s->status, x, s->n, p, c->str, coef, (int)c->ties, term_of_col, nterm,
                         err);
    if (rc == HS_ENUMERIC) {
        if (!(res->zph_note = strdup(err ? err->msg : "numerical failure"))) {
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
            goto done;
        }
        hs_error_clear(err);
        rc = HS_OK;
        for (size_t k = 0; k <= nterm && rc == HS_OK; k++) {
            int df = 0;
            for (size_t j = 0; j < p; j++)
                df += k == nterm || term_of_col[j] == k;
            rc = add_test(&c->zph_tests, "zph:", k < nterm ? res->zph_term[k] : "GLOBAL", NAN, df, NAN, err);
        }
        goto done;
    }
    if (rc != HS_OK)
        goto done;
    for (size_t k = 0; k < res->zph->nterm && rc == HS_OK; k++)
        rc = add_chisq(&c->zph_tests, "zph:", res->zph_term[k], res->zph->chisq[k], res->zph->df[k], err);
    if (rc == HS_OK)
        rc = add_chisq(&c->zph_tests, "zph:", "GLOBAL", res->zph->global_chisq, res->zph->global_df, err);
done:
    if (x != d->x)
        free(x);
    free(coef);
    free(term_of_col);
    return rc;
}

static int run_cox(const vars *v, hs_survival_result *res, test_list *zph_tests, hs_error *err)
{
    subset s;
    int rc = subset_make(&s, v, 1, 1, 1, 0, 1, err);
    if (rc != HS_OK)
        return rc;
    design d;
    int *str = v->strata ? malloc(s.n * sizeof *str) : NULL;
    task zph = {0};
    int zph_started = 0;
    cox_ctx cc = {.d = &d, .s = &s, .ties = v->s->ties, .res = res};
    if ((rc = design_make(&d, v, &s, res->group, err)) != HS_OK)
        goto done;
    if (v->strata && !str) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; str && i < s.n; i++)
        str[i] = v->strata->code[s.row[i]];
    cc.str = str;
    res->cox_dropped = s.dropped;
    hs_cox_control ctl;
    hs_cox_control_default(&ctl);
    task prep = {.fn = prep_task, .ctx = &cc};
    if (d.p > 0)
        task_start(&prep);
    rc = hs_cox_fit(&res->cox, s.time, s.status, d.x, s.n, d.p, str, v->s->ties, &ctl, err);
    if (d.p > 0)
        (void)task_join(&prep, NULL); /* it never fails; a failed preparation is NULL */
    if (rc != HS_OK) {
        hs_zph_prep_free(cc.prep);
        hs_concordance_prep_free(cc.cprep);
        cc.prep = NULL;
        goto done;
    }
    /* the coefficients' names and summary */
    res->ncoef = d.p;
    res->coef_name = d.col_name;
    d.col_name = NULL;
    if (!(res->coef = malloc((d.p + 1) * sizeof *res->coef))) {
        hs_concordance_prep_free(cc.cprep);
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = hs_cox_summary(res->cox, res->coef, err)) != HS_OK) {
        hs_concordance_prep_free(cc.cprep);
        goto done;
    }
    cc.fit = res->cox;
    zph = (task){.fn = zph_task, .ctx = &cc};
    task_start(&zph);
    zph_started = 1;
    rc = cc.cprep ? hs_concordance_finish(&res->concordance, cc.cprep, res->cox->lp, 1, err)
                  : hs_concordance_fit(&res->concordance, s.time, s.status, res->cox->lp, str, s.n, 1, err);
    hs_concordance_prep_free(cc.cprep);
done:
    if (zph_started) {
        int zrc = task_join(&zph, rc == HS_OK ? err : NULL);
        if (rc == HS_OK)
            rc = zrc;
    }
    hs_zph_prep_free(cc.prep);
    *zph_tests = cc.zph_tests;
    design_free(&d);
    free(str);
    subset_free(&s);
    return rc;
}

/* ---- the whole analysis ---------------------------------------------------------------------- */

void hs_survival_result_free(hs_survival_result *r)
{
    if (!r)
        return;
    free(r->source);
    free(r->group);
    for (size_t i = 0; r->level && i < r->nlevel; i++)
        free(r->level[i]);
    free(r->level);
    hs_maxstat_free(r->maxstat);
    for (size_t i = 0; i < r->ncurve; i++) {
        free(r->curve[i].name);
        hs_km_free(r->curve[i].km);
    }
    free(r->curve);
    hs_logrank_free(r->logrank);
    hs_cox_free(r->cox);
    for (size_t i = 0; r->coef_name && i < r->ncoef; i++)
        free(r->coef_name[i]);
    free(r->coef_name);
    free(r->coef);
    hs_zph_free(r->zph);
    for (size_t i = 0; r->zph_term && i < r->nzph_term; i++)
        free(r->zph_term[i]);
    free(r->zph_term);
    free(r->zph_note);
    for (size_t i = 0; i < r->ntest; i++)
        free(r->test[i].name);
    free(r->test);
    free(r);
}

/* The tests in tests.csv's order: the Cox tests, the log-rank test, maxstat, then the cox.zph rows. */
static int gather_tests(hs_survival_result *res, const vars *v, test_list *zph, hs_error *err)
{
    test_list l = {0};
    int rc = HS_OK;
    const hs_cox *f = res->cox;
    if (f && ((rc = add_chisq(&l, "", "likelihood_ratio", f->lr_test, f->df, err)) != HS_OK ||
              (rc = add_chisq(&l, "", "wald", f->wald_test, f->df, err)) != HS_OK ||
              (rc = add_chisq(&l, "", "score", f->score_test, f->df, err)) != HS_OK))
        goto fail;
    if (v->group && res->logrank_one_group)
        rc = add_test(&l, "", "logrank", NAN, 0, NAN, err);
    else if (res->logrank_done)
        rc = add_chisq(&l, "", "logrank", res->logrank->chisq, res->logrank->df, err);
    if (rc == HS_OK && res->maxstat)
        rc = add_test(&l, "", "maxstat", res->maxstat->statistic, NAN, res->maxstat->p, err);
    for (size_t i = 0; rc == HS_OK && i < zph->n; i++)
        rc = add_test(&l, "", zph->row[i].name, zph->row[i].statistic, zph->row[i].df, zph->row[i].p, err);
    if (rc != HS_OK)
        goto fail;
    res->test = l.row;
    res->ntest = l.n;
    return HS_OK;
fail:
    test_list_free(&l);
    return rc;
}

int hs_survival_run(const hs_table *t, const hs_survival_spec *s, hs_survival_result **out, hs_error *err)
{
    if (!out)
        return hs_error_set(err, HS_EINVAL, "hs_survival_run: NULL argument");
    *out = NULL;
    if (!t || !s)
        return hs_error_set(err, HS_EINVAL, "hs_survival_run: NULL argument");
    int rc = check_spec(s, err);
    if (rc != HS_OK)
        return rc;
    hs_survival_result *res = calloc(1, sizeof *res);
    vars v;
    test_list zph_tests = {0};
    if ((rc = vars_make(&v, t, s, err)) != HS_OK)
        goto done;
    if (!res || !(res->source = strdup(t->path))) {
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        goto done;
    }
    res->nrow = t->nrow;
    res->conf_type = s->conf_type;
    res->ties = s->ties;
    res->rho = s->rho;
    res->stratified = s->strata != NULL;
    if (s->cut_column && (rc = make_cut(&v, res, err)) != HS_OK)
        goto done;
    if (v.group) {
        if (!(res->group = strdup(v.group->name)) || !(res->level = calloc(v.group->nlevel + 1, sizeof *res->level))) {
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
            goto done;
        }
        res->nlevel = v.group->nlevel;
        for (size_t g = 0; g < res->nlevel; g++)
            if (!(res->level[g] = strdup(v.group->level[g]))) {
                rc = hs_error_set(err, HS_ENOMEM, "out of memory");
                goto done;
            }
    }

    /* Kaplan-Meier and log-rank beside the Cox model; a failure of the first is reported first. */
    km_ctx kc = {.v = &v, .res = res};
    task km = {.fn = km_task, .ctx = &kc};
    task_start(&km);
    hs_error cox_err;
    hs_error_clear(&cox_err);
    int cox_rc = s->group || s->cut_column || s->ncov ? run_cox(&v, res, &zph_tests, &cox_err) : HS_OK;
    if ((rc = task_join(&km, err)) != HS_OK)
        goto done;
    if (cox_rc != HS_OK) {
        rc = cox_rc;
        if (err)
            *err = cox_err;
        goto done;
    }
    rc = gather_tests(res, &v, &zph_tests, err);
done:
    test_list_free(&zph_tests);
    vars_free(&v);
    if (rc != HS_OK)
        hs_survival_result_free(res);
    else
        *out = res;
    return rc;
}

/* ---- writers --------------------------------------------------------------------------------- */

/* dir/name, written under dir/name.tmp and renamed when complete (util/hs_atomic.h). */
static int write_file(const char *dir, const char *name, const char *header,
                      void (*write)(FILE *, const hs_survival_result *), const hs_survival_result *r, hs_error *err)
{
    char path[4096], *tmp;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return hs_error_set(err, HS_EIO, "%s/%s: path too long", dir, name);
    FILE *f = hs_atomic_open(path, "w", &tmp, err);
    if (!f)
        return HS_EIO;
    fprintf(f, "%s\n", header);
    write(f, r);
    return hs_atomic_commit(f, tmp, path, err);
}

static void put_num(FILE *f, double x)
{
    fputc(',', f);
    hs_fprint_double(f, x);
}

static void write_km(FILE *f, const hs_survival_result *r)
{
    for (size_t g = 0; g < r->ncurve; g++) {
        const hs_km *k = r->curve[g].km;
        for (size_t j = 0; j < k->ntime; j++) {
            hs_fprint_field(f, r->curve[g].name);
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
}

static void write_median(FILE *f, const hs_survival_result *r)
{
    for (size_t g = 0; g < r->ncurve; g++) {
        const hs_survival_curve *c = &r->curve[g];
        hs_fprint_field(f, c->name);
        put_num(f, (double)c->km->n);
        put_num(f, c->km->events);
        put_num(f, c->median);
        put_num(f, c->median_lower);
        put_num(f, c->median_upper);
        put_num(f, c->rmst);
        put_num(f, c->rmst_se);
        put_num(f, r->tau);
        fputc('\n', f);
    }
}

static void write_cox(FILE *f, const hs_survival_result *r)
{
    for (size_t j = 0; j < r->ncoef; j++) {
        const hs_cox_coef *c = &r->coef[j];
        hs_fprint_field(f, r->coef_name[j]);
        put_num(f, c->coef);
        put_num(f, c->se);
        put_num(f, c->z);
        put_num(f, c->p);
        put_num(f, c->hr);
        put_num(f, c->hr_lower95);
        put_num(f, c->hr_upper95);
        fprintf(f, ",%s\n", hs_cox_coef_flag_name(c->flag));
    }
}

static void write_fit(FILE *f, const hs_survival_result *r)
{
    const hs_cox *fit = r->cox;
    fprintf(f, "%zu", fit->n);
    put_num(f, fit->nevent);
    put_num(f, fit->loglik_null);
    put_num(f, fit->loglik);
    fprintf(f, ",%d,%d", fit->iter, fit->converged);
    put_num(f, r->concordance.c);
    put_num(f, sqrt(r->concordance.var));
    fputc('\n', f);
}

static void write_tests(FILE *f, const hs_survival_result *r)
{
    for (size_t i = 0; i < r->ntest; i++) {
        const hs_survival_test *t = &r->test[i];
        hs_fprint_field(f, t->name);
        put_num(f, t->statistic);
        if (isnan(t->df))
            fputs(",NA", f);
        else
            fprintf(f, ",%d", (int)t->df);
        put_num(f, t->p);
        fputc('\n', f);
    }
}

static void write_cut(FILE *f, const hs_survival_result *r)
{
    hs_fprint_field(f, r->group);
    fputs(r->cut == HS_CUT_OPTIMAL ? ",optimal" : ",value", f);
    put_num(f, r->cut_value);
    put_num(f, r->maxstat ? r->maxstat->estimate : NAN);
    fprintf(f, ",%zu,%zu\n", r->cut_n[0], r->cut_n[1]);
}

int hs_survival_write(const hs_survival_result *r, const char *dir, hs_error *err)
{
    if (!r || !dir)
        return hs_error_set(err, HS_EINVAL, "hs_survival_write: NULL argument");
    enum { ALWAYS, WITH_COX, WITH_CUT };
    static const struct {
        const char *name, *header;
        void (*write)(FILE *, const hs_survival_result *);
        int when;
    } files[] = {
        {"km.csv", "curve,time,n_risk,n_event,n_censor,surv,std_err,lower,upper", write_km, ALWAYS},
        {"median.csv", "curve,n,events,median,lower95,upper95,rmst,rmst_se,tau", write_median, ALWAYS},
        {"cox.csv", "term,coef,se,z,p,hr,hr_lower95,hr_upper95,flag", write_cox, WITH_COX},
        {"fit.csv", "n,nevent,loglik_null,loglik,iter,converged,concordance,concordance_se", write_fit, WITH_COX},
        {"tests.csv", "test,statistic,df,p", write_tests, ALWAYS},
        {"cut.csv", "column,method,cut,estimate,n_low,n_high", write_cut, WITH_CUT},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if ((files[i].when == WITH_COX && !r->cox) || (files[i].when == WITH_CUT && r->cut == HS_CUT_NONE))
            continue;
        int rc = write_file(dir, files[i].name, files[i].header, files[i].write, r, err);
        if (rc != HS_OK) {
            /* never a mixed set (this run's km.csv beside an older run's cox.csv): remove them all */
            for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
                char path[4096];
                if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, files[k].name) < sizeof path)
                    unlink(path); /* files only: a folder of that name stays */
            }
            return rc;
        }
    }
    return HS_OK;
}

/* ---- the printed summary --------------------------------------------------------------------- */

/* x with printf format fmt (one double), or "NA" when x is not a number; buf holds 32 bytes. */
static const char *num_or_na(char buf[32], const char *fmt, double x)
{
    if (isnan(x))
        return "NA";
    snprintf(buf, 32, fmt, x);
    return buf;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static void print_cut(FILE *f, const hs_survival_result *r)
{
    const char *x = r->group;
    if (r->cut == HS_CUT_VALUE) {
        fprintf(f, "Cutpoint (given): %s >= %.6g is \"high\", below is \"low\" (%zu high, %zu low)\n\n", x,
                r->cut_value, r->cut_n[1], r->cut_n[0]);
        return;
    }
    const hs_maxstat *m = r->maxstat;
    fprintf(f,
            "Cutpoint CHOSEN FROM THE DATA: %s >= %.6g is \"high\", below is \"low\" (%zu high, %zu low).\n"
            "  It maximises the standardised log-rank statistic over the cutpoints between the %g%% and %g%%\n"
            "  quantiles of %s (maxstat's estimate %.6g is the largest value of the low group).\n"
            "  Maximally selected log-rank statistic M = %.6g, p = %.4g: this p-value is corrected for the\n"
            "  %zu cutpoints tried (Lausen & Schumacher 1992) and is the one that tests %s.\n"
            "  The log-rank, Cox and cox.zph p-values below treat the cutpoint as fixed: they are not\n"
            "  corrected and are too small.\n\n",
            x, r->cut_value, r->cut_n[1], r->cut_n[0], 100 * m->minprop, 100 * m->maxprop, x, m->estimate,
            m->statistic, m->p, m->ncut, x);
}

static void print_km(FILE *f, const hs_survival_result *r)
{
    fprintf(f, "Kaplan-Meier (%s confidence limits)",
            r->conf_type == HS_CONF_LOG ? "log" : r->conf_type == HS_CONF_LOGLOG ? "log-log" : "plain");
    if (r->km_dropped)
        fprintf(f, ", %zu observation%s deleted due to missingness", r->km_dropped, plural(r->km_dropped));
    fprintf(f, "\n  %-20s %8s %8s %10s %10s %10s %10s %10s\n", "curve", "n", "events", "median", "0.95LCL",
            "0.95UCL", "rmst", "se(rmst)");
    for (size_t g = 0; g < r->ncurve; g++) {
        const hs_survival_curve *c = &r->curve[g];
        char b[5][32];
        fprintf(f, "  %-20s %8zu %8g %10s %10s %10s %10s %10s\n", c->name, c->km->n, c->km->events,
                num_or_na(b[0], "%.4g", c->median), num_or_na(b[1], "%.4g", c->median_lower),
                num_or_na(b[2], "%.4g", c->median_upper), num_or_na(b[3], "%.4g", c->rmst),
                num_or_na(b[4], "%.4g", c->rmst_se));
    }
    fprintf(f, "  (RMST restricted to tau = %g)\n", r->tau);
}

static const hs_survival_test *find_test(const hs_survival_result *r, const char *name)
{
    for (size_t i = 0; i < r->ntest; i++)
        if (strcmp(r->test[i].name, name) == 0)
            return &r->test[i];
    return NULL;
}

static void print_logrank(FILE *f, const hs_survival_result *r)
{
    if (r->logrank_one_group) {
        fprintf(f, "\nLog-rank test: not computed: only one %s value has data\n", r->group);
        return;
    }
    const hs_logrank *lr = r->logrank;
    if (!lr)
        return;
    fprintf(f, "\nLog-rank test (G-rho, rho = %g)%s", r->rho, r->stratified ? ", stratified" : "");
    if (r->logrank_dropped)
        fprintf(f, ", %zu observation%s deleted due to missingness", r->logrank_dropped, plural(r->logrank_dropped));
    fprintf(f, "\n  %-20s %10s %12s %12s\n", "group", "observed", "expected", "(O-E)^2/E");
    for (size_t g = 0; g < lr->ngroup; g++) {
        double oe = lr->exp[g] > 0 ? (lr->obs[g] - lr->exp[g]) * (lr->obs[g] - lr->exp[g]) / lr->exp[g] : NAN;
        char b[32];
        fputs("  ", f);
        /* "GROUP=level", padded as one field */
        int w = fprintf(f, "%s=%s", r->group, r->level[g]);
        fprintf(f, "%*s %10.6g %12.6g %12s\n", w < 20 ? 20 - w : 0, "", lr->obs[g], lr->exp[g],
                num_or_na(b, "%.6g", oe));
    }
    const hs_survival_test *t = find_test(r, "logrank");
    char b[2][32];
    fprintf(f, "  Chisq = %s on %d degrees of freedom, p = %s%s\n", num_or_na(b[0], "%.6g", lr->chisq), lr->df,
            num_or_na(b[1], "%.4g", t ? t->p : NAN), lr->df < 0 ? " (no events)" : "");
}

static void print_cox(FILE *f, const hs_survival_result *r)
{
    const hs_cox *fit = r->cox;
    fprintf(f, "\nCox proportional hazards model\n  n = %zu, number of events = %g\n", fit->n, fit->nevent);
    if (r->cox_dropped)
        fprintf(f, "  (%zu observation%s deleted due to missingness)\n", r->cox_dropped, plural(r->cox_dropped));
    fprintf(f, "  %-24s %12s %12s %12s %9s %10s %10s %10s\n", "term", "coef", "exp(coef)", "se(coef)", "z", "p",
            "lower .95", "upper .95");
    for (size_t j = 0; j < r->ncoef; j++) {
        const hs_cox_coef *c = &r->coef[j];
        char v[7][32];
        fprintf(f, "  %-24s %12s %12s %12s %9s %10s %10s %10s%s\n", r->coef_name[j], num_or_na(v[0], "%.5g", c->coef),
                num_or_na(v[1], "%.5g", c->hr), num_or_na(v[2], "%.5g", c->se), num_or_na(v[3], "%.4g", c->z),
                num_or_na(v[4], "%.4g", c->p), num_or_na(v[5], "%.4g", c->hr_lower95),
                num_or_na(v[6], "%.4g", c->hr_upper95),
                c->flag == HS_COX_COEF_ALIASED    ? "  (aliased: not estimable)"
                : c->flag == HS_COX_COEF_INFINITE   ? "  (coefficient may be infinite)"
                : c->flag == HS_COX_COEF_DEGENERATE ? "  (degenerate: variance 0 or not finite)"
                                                    : "");
    }
    if (fit->df > 0) {
        static const struct {
            const char *label, *test;
        } rows[] = {{"Likelihood ratio test", "likelihood_ratio"},
                    {"Wald test            ", "wald"},
                    {"Score (log-rank) test", "score"}};
        for (size_t i = 0; i < 3; i++) {
            const hs_survival_test *t = find_test(r, rows[i].test);
            fprintf(f, "  %s = %.6g on %d df, p = %.4g\n", rows[i].label, t->statistic, fit->df, t->p);
        }
    }
    char c[2][32];
    fprintf(f, "  Concordance = %s (se = %s)\n", num_or_na(c[0], "%.4g", r->concordance.c),
            num_or_na(c[1], "%.4g", sqrt(r->concordance.var)));
    if (!fit->converged)
        fprintf(f, "  WARNING: ran out of iterations and did not converge (iter = %d)\n", fit->iter);
    for (size_t j = 0; j < r->ncoef; j++)
        if (r->coef[j].flag == HS_COX_COEF_INFINITE)
            fprintf(f, "  WARNING: loglik converged before variable %zu (%s); coefficient may be infinite\n", j + 1,
                    r->coef_name[j]);
        else if (r->coef[j].flag == HS_COX_COEF_DEGENERATE)
            fprintf(f,
                    "  WARNING: the variance of variable %zu (%s) is 0 or not finite: its values are on an extreme "
                    "scale (rescale it); se, z, p and CI not given\n",
                    j + 1, r->coef_name[j]);
    if (r->zph_note) {
        fprintf(f, "  WARNING: cox.zph not computed: %s\n", r->zph_note);
    } else if (r->zph) {
        fprintf(f, "  Proportional hazards (cox.zph, km transform):");
        for (size_t k = 0; k < r->zph->nterm; k++)
            fprintf(f, " %s p = %.4g;", r->zph_term[k], r->zph->p[k]);
        fprintf(f, " GLOBAL p = %.4g\n", r->zph->global_p);
    }
}

int hs_survival_print(FILE *f, const hs_survival_result *r)
{
    if (!f || !r)
        return HS_EINVAL;
    if (r->cut != HS_CUT_NONE)
        print_cut(f, r);
    print_km(f, r);
    if (r->group)
        print_logrank(f, r);
    if (r->cox)
        print_cox(f, r);
    return ferror(f) ? HS_EIO : HS_OK;
}
