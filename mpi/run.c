/*
 * run: the cohort run (see run.h).
 */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "cohorts/cohorttable.h"
#include "cohorts/manifest.h"
#include "cohorts/table.h"
#include "figures/canvas.h"
#include "figures/cohortplot.h"
#include "figures/slidemap.h"
#include "figures/survfig.h"
#include "mpi/checkpoint.h"
#include "mpi/cohort.h"
#include "mpi/h5out.h"
#include "report/report.h"
#include "scoring/controls.h"
#include "scoring/scorerow.h"
#include "util/hs_atomic.h"
#include "util/hs_parse.h"
#include "util/hs_sha256.h"

static volatile sig_atomic_t stop_flag;

/* Rank 0's word to the user when a signal arrives, written from the handler: when a rank dies, mpirun ends the
 * job with SIGTERM and then SIGKILL, and the ranks left waiting on the dead one never reach the end of the run. */
static char stop_msg[4600];
static size_t stop_len;
static int stop_fd = -1;
static volatile sig_atomic_t stop_said;

static void on_stop(int sig)
{
    (void)sig;
    if (!stop_flag && stop_fd >= 0 && stop_len) {
        ssize_t w = write(stop_fd, stop_msg, stop_len);
        stop_said = w == (ssize_t)stop_len;
    }
    stop_flag = 1;
}

/* HS_EINTR once a signal has asked the run to stop (checked between the steps after the measurement). */
static int check_stop(hs_error *err)
{
    return stop_flag ? hs_error_set(err, HS_EINTR, "stopped by a signal") : HS_OK;
}

/* Everything a run holds. */
typedef struct run {
    const hs_run_config *cfg;
    MPI_Comm comm;
    int rank, size;
    hs_manifest *manifest;          /* rank 0 */
    hs_cohort cohort;
    hs_batchcal *bc;
    hs_score_row *rows;             /* rank 0: every patient's row */
    hs_score_row *own;              /* this rank's rows */
    size_t nown;
    unsigned long long *dims;
    char manifest_sha[HS_SHA256_HEX], controls_sha[HS_SHA256_HEX];
    hs_survival_result *result[2];  /* rank 0: the DFS and OS analyses, kept for the report */
    double t_start, t_measure, t_calibrate, t_classify, t_h5, t_analysis;
    hs_dispatch_stats dstats;
    size_t nfailed;
    int lock_fd;                    /* rank 0: the checkpoint's lock; other ranks: lock.ranks, shared */
    /* progress (rank 0) */
    int tty;
    double last_line;
} run;

static void say(const run *r, const char *fmt, ...) HS_FORMAT(2, 3);

/* A line on rank 0's log. */
static void say(const run *r, const char *fmt, ...)
{
    if (r->rank != 0 || !r->cfg->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "hetsurv %s: ", r->cfg->name ? r->cfg->name : "run");
    (void)hs_err_print_line(r->cfg->log, prefix, fmt, ap); /* control bytes of paths and names escaped */
    fflush(r->cfg->log);
    va_end(ap);
}

/* ---- progress ----------------------------------------------------------------------------------------------- */

static void progress(void *ctx, const hs_cohort_progress *p)
{
    run *r = ctx;
    if (r->cfg->quiet || !r->cfg->log)
        return;
    double now = MPI_Wtime();
    int last = p->done == p->total;
    /* a terminal gets a line rewritten 5 times a second; a job log a new line every 30 s and at the end */
    if (!last && now - r->last_line < (r->tty ? 0.2 : 30.0))
        return;
    r->last_line = now;
    double el = now - p->started, fresh = (double)(p->done - p->resumed);
    double rate = el > 0 ? fresh / el * 60.0 : 0;
    char eta[32] = "-";
    if (fresh > 0 && !last) {
        double s = (double)(p->total - p->done) * el / fresh;
        snprintf(eta, sizeof eta, "%dh%02dm%02ds", (int)(s / 3600), (int)fmod(s / 60, 60), (int)fmod(s, 60));
    } else if (last) {
        snprintf(eta, sizeof eta, "done");
    }
    fprintf(r->cfg->log, "%shetsurv %s: %zu/%zu slides measured, %zu failed%s, %.1f slides/min, ETA %s%s",
            r->tty ? "\r" : "", r->cfg->name ? r->cfg->name : "run", p->done, p->total, p->failed, p->resumed ? " (some from the checkpoint)" : "", rate,
            eta, r->tty && !last ? "  " : "\n");
    fflush(r->cfg->log);
}

/* ---- setting up (rank 0) ------------------------------------------------------------------------------------ */

/* The column index of covariate `name`, or m->ncov. */
static size_t cov_index(const hs_manifest *m, const char *name)
{
    for (size_t j = 0; j < m->ncov; j++)
        if (!strcmp(m->cov_name[j], name))
            return j;
    return m->ncov;
}

/* The patients of the manifest as items: batch and ish from their columns. */
static int add_patients(run *r, hs_error *err)
{
    const hs_manifest *m = r->manifest;
    size_t ish_col = cov_index(m, "ish"), batch_col = cov_index(m, "batch");
    for (size_t i = 0; i < m->npatient; i++) {
        const hs_manifest_patient *pt = &m->patient[i];
        hs_ish ish = HS_ISH_UNKNOWN;
        if (ish_col < m->ncov && pt->cov[ish_col] && hs_her2_ish_parse(pt->cov[ish_col], &ish) != 0) {
            say(r, "%s:%ld: ish: not positive/negative: '%s' (taken as unknown)", m->path, pt->line, pt->cov[ish_col]);
            ish = HS_ISH_UNKNOWN;
        }
        int b = hs_cohort_batch(&r->cohort, batch_col < m->ncov && pt->cov[batch_col] ? pt->cov[batch_col] : "");
        if (b < 0)
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        int rc = hs_cohort_add_item(&r->cohort, pt->slide_path, pt->patient_id, pt->slide, b, (int)ish, err);
        if (rc != HS_OK)
            return rc;
    }
    return HS_OK;
}

/* The control slides as items (each file once) and their areas. */
static int add_controls(run *r, hs_error *err)
{
    hs_controls *ct = NULL;
    int rc = hs_controls_read(&ct, r->cfg->controls, err);
    for (size_t i = 0; rc == HS_OK && i < ct->n; i++) {
        const hs_control_area *a = &ct->area[i];
        size_t item = r->cohort.npatient;
        while (item < r->cohort.n && strcmp(r->cohort.item[item].path, a->path))
            item++;
        int b = hs_cohort_batch(&r->cohort, a->batch);
        if (b < 0)
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        else if (item == r->cohort.n)
            rc = hs_cohort_add_item(&r->cohort, a->path, NULL, NULL, b, HS_ISH_UNKNOWN, err);
        if (rc == HS_OK)
            rc = hs_cohort_add_area(&r->cohort, item, b, (int)a->cls, a->rect, err);
    }
    hs_controls_free(ct);
    return rc;
}

/*
 * Removes the temporary files an interrupted run left in DIR, DIR/dfs, DIR/os and DIR/maps (rank 0, holding the
 * lock): the "NAME.tmp" of hs_atomic and the ".NAME.tmp.PID.N" of the survival tables.  Nothing else is touched.
 */
static int sweep_temporaries(const char *out, hs_error *err)
{
    static const char *const sub[] = {"", "/dfs", "/os", "/maps"};
    for (size_t k = 0; k < sizeof sub / sizeof sub[0]; k++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s%s", out, sub[k]);
        DIR *d = opendir(dir);
        if (!d)
            continue; /* not made yet */
        struct dirent *e;
        int rc = HS_OK;
        while (rc == HS_OK && (e = readdir(d))) {
            const char *n = e->d_name;
            size_t len = strlen(n);
            int tmp = (len > 4 && !strcmp(n + len - 4, ".tmp")) || (n[0] == '.' && strstr(n, ".tmp.") != NULL);
            char path[4500];
            if (!tmp || !strcmp(n, ".") || !strcmp(n, ".."))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, n);
            if (remove(path) != 0 && errno != ENOENT)
                rc = hs_error_set(err, HS_EIO, "%s: cannot remove a left-over temporary file: %s", path,
                                  strerror(errno));
        }
        closedir(d);
        if (rc != HS_OK)
            return rc;
    }
    return HS_OK;
}

/* Reads the manifest and controls, and prepares the checkpoint (rank 0). */
static int setup(run *r, hs_error *err)
{
    const hs_run_config *c = r->cfg;
    int rc = hs_manifest_read(&r->manifest, c->manifest, c->factors, c->nfactor, 0, err);
    if (rc != HS_OK)
        return rc;
    if (r->manifest->nerror) {
        hs_manifest_report(c->log, r->manifest);
        return hs_error_set(err, HS_EDATA, "%s: invalid manifest (%zu error%s): nothing was scored", c->manifest,
                            r->manifest->nerror, r->manifest->nerror == 1 ? "" : "s");
    }
    if ((rc = add_patients(r, err)) != HS_OK || (c->controls && (rc = add_controls(r, err)) != HS_OK))
        return rc;
    if ((rc = hs_sha256_file(c->manifest, r->manifest_sha, err)) != HS_OK)
        return rc;
    snprintf(r->controls_sha, sizeof r->controls_sha, "none");
    if (c->controls && (rc = hs_sha256_file(c->controls, r->controls_sha, err)) != HS_OK)
        return rc;
    int warn = 0;
    if ((rc = hs_ckpt_lock(c->out, c->shard_n ? c->shard_k : -1, &r->lock_fd, &warn, err)) != HS_OK)
        return rc;
    if (c->merge && (rc = hs_ckpt_shards_idle(c->out, err)) != HS_OK)
        return rc;
    if (!c->shard_n && (rc = hs_ckpt_ranks_idle(c->out, err)) != HS_OK)
        return rc; /* shards run side by side: their ranks hold it together */
    if (warn)
        say(r, "%s: the file system cannot lock files: make sure no other run uses this folder", c->out);
    char *key = NULL;
    size_t keylen = 0;
    FILE *k = open_memstream(&key, &keylen);
    if (!k)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    fprintf(k, "hetsurv %s\nmanifest_sha256 %s\ncontrols_sha256 %s\ncompleteness_column %s\n%s", HS_VERSION,
            r->manifest_sha, r->controls_sha, c->completeness_col ? c->completeness_col : "(default)", c->params_text);
    if (fclose(k) != 0) {
        free(key);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    rc = c->shard_n ? hs_ckpt_prepare_shard(c->out, key, err) : hs_ckpt_prepare(c->out, key, c->resume, c->restart, err);
    free(key);
    if (rc == HS_OK && !c->shard_n)
        rc = sweep_temporaries(c->out, err);
    return rc;
}

/* This rank's share of its node's CPUs (at least 1): what a slide's measurement may use. */
static int rank_threads(MPI_Comm comm, int rank)
{
    MPI_Comm local;
    int nlocal = 1;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
        MPI_Comm_size(local, &nlocal);
        MPI_Comm_free(&local);
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int share = online > 0 ? (int)(online / (nlocal > 0 ? nlocal : 1)) : 1;
    cpu_set_t set;
    int mine = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    int t = share < mine ? share : mine;
    return t < 1 ? 1 : t > 64 ? 64 : t;
}

/* ---- outputs (rank 0) --------------------------------------------------------------------------------------- */

/* DIR/slides.csv: the cohort table, as `score --manifest` writes it. */
static int write_slides_csv(const run *r, hs_error *err)
{
    char path[4096], *tmp;
    snprintf(path, sizeof path, "%s/slides.csv", r->cfg->out);
    FILE *f = hs_atomic_open(path, "w", &tmp, err);
    if (!f)
        return err->code;
    hs_cohorttable_header(f, r->manifest);
    hs_score_row_write_header(f);
    fputc('\n', f);
    for (size_t i = 0; i < r->cohort.npatient; i++) {
        hs_cohorttable_row(f, r->manifest, i);
        hs_score_row_write(f, &r->rows[i]);
    }
    return hs_atomic_commit(f, tmp, path, err);
}

/* DIR/calibration.csv: each batch's border leak and cuts, and says them. */
static int write_calibration(const run *r, hs_error *err)
{
    char path[4096], *tmp;
    snprintf(path, sizeof path, "%s/calibration.csv", r->cfg->out);
    FILE *f = hs_atomic_open(path, "w", &tmp, err);
    if (!f)
        return err->code;
    fputs("batch,slides,leak,calibration,od_1,od_2,od_3,note\n", f);
    for (size_t b = 0; b < hs_batchcal_count(r->bc); b++) {
        const char *why, *lnote = NULL, *name = hs_batchcal_name(r->bc, (int)b);
        const hs_calib_cuts *c = hs_batchcal_cuts(r->bc, (int)b, &why);
        size_t ns = hs_batchcal_slides(r->bc, (int)b);
        double leak = hs_batchcal_leak(r->bc, (int)b, &lnote);
        hs_fprint_field(f, name);
        fprintf(f, ",%zu,", ns);
        hs_fprint_double(f, leak);
        if (c) {
            fprintf(f, ",%s", hs_calib_mode_name(c->method));
            for (int k = 0; k < 3; k++) {
                fputc(',', f);
                hs_fprint_double(f, c->od[k]);
            }
            fputc(',', f);
            hs_fprint_field(f, c->note);
            say(r, "batch '%s' (%zu slide%s): border leak %.2f; %s cuts %.2f, %.2f, %.2f (%s)", name, ns,
                ns == 1 ? "" : "s", leak, hs_calib_mode_name(c->method), c->od[0], c->od[1], c->od[2], c->note);
        } else {
            fputs(",NA,NA,NA,NA,", f);
            hs_fprint_field(f, why);
            say(r, "%s", why);
        }
        fputc('\n', f);
    }
    return hs_atomic_commit(f, tmp, path, err);
}

/* ---- the analysis (rank 0) ---------------------------------------------------------------------------------- */

/* Whether name is among the user's --factors. */
static int is_factor(const hs_run_config *c, const char *name)
{
    for (size_t k = 0; k < c->nfactor; k++)
        if (!strcmp(c->factors[k], name))
            return 1;
    return 0;
}

/* The column `name`'s index among the cohort table's columns (manifest then score), or -1. */
static int table_col(const hs_manifest *m, const char *name)
{
    for (size_t j = 0; j < hs_cohorttable_ncol(m); j++)
        if (!strcmp(hs_cohorttable_name(m, j), name))
            return (int)j;
    for (int j = 0; j < HS_SCORE_NCOL; j++)
        if (!strcmp(hs_score_col[j], name))
            return (int)hs_cohorttable_ncol(m) + j;
    return -1;
}

/* The analysis table: the columns an analysis uses, of the patients whose slide was scored. */
typedef struct analysis_cols {
    const char *name[HS_SURVIVAL_MAX_COV + 8];
    hs_col_kind kind[HS_SURVIVAL_MAX_COV + 8];
    int src[HS_SURVIVAL_MAX_COV + 8];
    size_t n;
} analysis_cols;

static int want(analysis_cols *a, const hs_manifest *m, const char *name, hs_col_kind kind, hs_error *err)
{
    for (size_t k = 0; k < a->n; k++)
        if (!strcmp(a->name[k], name))
            return HS_OK;
    int j = table_col(m, name);
    if (j < 0)
        return hs_error_set(err, HS_EINVAL, "no column '%s' in the cohort table (the manifest's columns and the score "
                                            "columns)", name);
    if (a->n == sizeof a->name / sizeof a->name[0])
        return hs_error_set(err, HS_EINVAL, "too many covariates");
    a->name[a->n] = name;
    a->kind[a->n] = kind;
    a->src[a->n++] = j;
    return HS_OK;
}

static int build_table(const run *r, const analysis_cols *a, hs_table **out, hs_error *err)
{
    hs_table_builder *b = NULL;
    int rc = hs_table_builder_alloc(&b, "slides.csv", a->name, a->kind, a->n, err);
    const hs_manifest *m = r->manifest;
    size_t nm = hs_cohorttable_ncol(m);
    for (size_t i = 0; rc == HS_OK && i < r->cohort.npatient; i++) {
        if (!r->rows[i].ok)
            continue; /* failed slides are excluded (and counted) */
        char buf[HS_SURVIVAL_MAX_COV + 8][64];
        const char *cell[HS_SURVIVAL_MAX_COV + 8];
        for (size_t k = 0; k < a->n; k++)
            cell[k] = (size_t)a->src[k] < nm ? hs_cohorttable_field(m, i, (size_t)a->src[k], buf[k], sizeof buf[k])
                                             : hs_score_row_text(&r->rows[i], a->src[k] - (int)nm, buf[k],
                                                                 sizeof buf[k]);
        rc = hs_table_builder_add_row(b, cell, (long)i + 2, err); /* the row's line in slides.csv */
    }
    if (rc == HS_OK)
        return hs_table_builder_finish(b, out, err);
    hs_table_builder_free(b);
    return rc;
}

/* The heterogeneity term of a group by the 0/1 flag is named after the flag, as for a 0/1 covariate. */
static int rename_flag_term(hs_survival_result *res, const char *flag, hs_error *err)
{
    char want_name[256];
    snprintf(want_name, sizeof want_name, "%s=1", flag);
    for (size_t j = 0; j < res->ncoef; j++)
        if (!strcmp(res->coef_name[j], want_name)) {
            char *s = strdup(flag);
            if (!s)
                return hs_error_set(err, HS_ENOMEM, "out of memory");
            free(res->coef_name[j]);
            res->coef_name[j] = s;
        }
    return HS_OK;
}

/* Analyses one endpoint into DIR/<name>/ and says its headline; *keep receives the result (the caller frees it). */
static int analyse(run *r, const char *name, const char *time, const char *event, hs_survival_result **keep,
                   hs_error *err)
{
    const hs_run_config *c = r->cfg;
    analysis_cols a = {.n = 0};
    int rc = want(&a, r->manifest, time, HS_COL_NUMERIC, err);
    if (rc == HS_OK)
        rc = want(&a, r->manifest, event, HS_COL_NUMERIC, err);
    hs_survival_spec s;
    hs_survival_spec_default(&s);
    s.time = time;
    s.event = event;
    const char *cov[HS_SURVIVAL_MAX_COV + 1];
    int fac[HS_SURVIVAL_MAX_COV + 1];
    size_t ncov = 0;
    for (size_t k = 0; rc == HS_OK && k < c->nadjust && ncov < HS_SURVIVAL_MAX_COV; k++) {
        fac[ncov] = is_factor(c, c->adjust[k]);
        cov[ncov++] = c->adjust[k];
        rc = want(&a, r->manifest, c->adjust[k], fac[ncov - 1] ? HS_COL_FACTOR : HS_COL_AUTO, err);
    }
    int flag_group = 0;
    if (rc == HS_OK && c->by) {
        s.group = c->by;
        rc = want(&a, r->manifest, c->by, HS_COL_FACTOR, err);
    } else if (rc == HS_OK && c->cut != HS_CUT_NONE) {
        s.cut_column = c->metric;
        s.cut = c->cut;
        s.cut_value = c->cut_value;
        rc = want(&a, r->manifest, c->metric, HS_COL_NUMERIC, err);
    } else if (rc == HS_OK && !strcmp(c->metric, "heterogeneous")) {
        s.group = c->metric;
        flag_group = 1;
        rc = want(&a, r->manifest, c->metric, HS_COL_FACTOR, err);
    } else if (rc == HS_OK) {
        fac[ncov] = 0;
        cov[ncov++] = c->metric;
        rc = want(&a, r->manifest, c->metric, HS_COL_NUMERIC, err);
    }
    s.covariates = cov;
    s.factor = fac;
    s.ncov = ncov;
    hs_table *t = NULL;
    hs_survival_result *res = NULL;
    if (rc == HS_OK)
        rc = build_table(r, &a, &t, err);
    if (rc == HS_OK)
        rc = hs_survival_run(t, &s, &res, err);
    if (rc == HS_OK && flag_group)
        rc = rename_flag_term(res, c->metric, err);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", c->out, name);
    if (rc == HS_OK && mkdir(dir, 0777) != 0 && errno != EEXIST)
        rc = hs_error_set(err, HS_EIO, "%s: cannot create: %s", dir, strerror(errno));
    if (rc == HS_OK)
        rc = hs_survival_write(res, dir, err);
    if (rc == HS_OK && c->figures) {
        hs_kmplot_opts ko;
        hs_kmplot_opts_default(&ko);
        if (c->time_unit)
            ko.time_unit = c->time_unit;
        int dfs = !strcmp(name, "dfs");
        ko.ylabel = dfs ? "Disease-free survival probability" : "Overall survival probability";
        rc = hs_survfig_write(res, dir, c->figures, &ko, dfs ? "Disease-free survival" : "Overall survival", err);
    }
    if (rc == HS_OK) {
        /* the headline: the heterogeneity term (the last coefficient) and the log-rank test */
        double lr = NAN;
        for (size_t k = 0; k < res->ntest; k++)
            if (!strcmp(res->test[k].name, "logrank"))
                lr = res->test[k].p;
        double ev = 0;
        for (size_t k = 0; k < res->ncurve; k++)
            ev += res->curve[k].km->events;
        size_t events = (size_t)ev;
        const hs_cox_coef *k = res->cox && res->ncoef ? &res->coef[res->ncoef - 1] : NULL;
        if (k && k->flag != HS_COX_COEF_OK) {
            say(r, "%s: %s HR not estimable (%s; see cox.csv); log-rank p %.3g; %zu patients, %zu events", name,
                res->coef_name[res->ncoef - 1],
                k->flag == HS_COX_COEF_INFINITE     ? "the coefficient tends to infinity: a group without events?"
                : k->flag == HS_COX_COEF_DEGENERATE ? "its variance is 0 or not finite: a covariate on an extreme scale?"
                                                    : "aliased with the covariates",
                lr, res->km_n, events);
        } else if (k) {
            say(r, "%s: %s HR %.3g (95%% CI %.3g-%.3g), Wald p %.3g; log-rank p %.3g; %zu patients, %zu events%s%s",
                name, res->coef_name[res->ncoef - 1], k->hr, k->hr_lower95, k->hr_upper95, k->p, lr, res->km_n, events,
                res->maxstat ? "; cut chosen from the data (maxstat, Lausen-Schumacher corrected p in tests.csv)" : "",
                res->km_dropped ? "; rows with missing values dropped" : "");
        } else {
            say(r, "%s: no Cox model could be fitted; %zu patients, %zu events", name, res->km_n, events);
        }
    }
    if (rc == HS_OK)
        *keep = res;
    else
        hs_survival_result_free(res);
    hs_table_free(t);
    return rc;
}

/* Whether `name` is a number column of the score rows (the cohort figure can show it). */
static int score_number_col(const char *name)
{
    for (int j = 0; j < HS_SCORE_NCOL; j++)
        if (!strcmp(hs_score_col[j], name))
            return hs_score_col_kind[j] == HS_SCOL_NUMBER;
    return 0;
}

/*
 * DIR/cohort.EXT: the metric's distribution (with the DFS analysis's cut
 * when one was used) and the HER2 counts.  A metric that is not a score
 * column (a manifest column) has no figure: said, not an error.
 */
static int cohort_figure(const run *r, hs_error *err)
{
    const hs_run_config *c = r->cfg;
    if (!r->cohort.npatient)
        return HS_OK;
    if (!score_number_col(c->metric)) {
        say(r, "cohort figure not drawn: --metric %s is not a score column", c->metric);
        return HS_OK;
    }
    hs_cohortplot_opts o;
    hs_cohortplot_opts_default(&o);
    const hs_survival_result *dfs = r->result[0];
    if (dfs && dfs->cut != HS_CUT_NONE) {
        o.cut = dfs->cut_value;
        o.cut_optimal = dfs->cut == HS_CUT_OPTIMAL;
        o.cut_source = "DFS"; /* OS may choose another optimal cut: the figure shows DFS's */
    }
    hs_cohortplot_data *d = NULL;
    char base[4200];
    snprintf(base, sizeof base, "%s/cohort", c->out);
    int rc = hs_cohortplot_from_rows(&d, r->rows, r->cohort.npatient, c->metric, err);
    if (rc == HS_OK)
        rc = hs_cohortplot_write(base, c->figures, d, &o, err);
    hs_cohortplot_data_free(d);
    return rc;
}

/* ---- results.h5's serial part (rank 0) ---------------------------------------------------------------------- */

static int h5_finish(const run *r, const char *tmp, hs_error *err)
{
    const hs_run_config *c = r->cfg;
    hs_h5file *f = NULL;
    int rc = hs_h5_open(&f, tmp, err);
    static const char *const endpoint[] = {"dfs", "os"};
    static const char *const table[] = {"km", "median", "cox", "fit", "tests"};
    static const char *const calib_text[] = {"batch", "calibration", "note", NULL};
    static const char *const surv_text[] = {"curve", "term", "flag", "test", "group", "ties", "note", NULL};
    for (int e = 0; rc == HS_OK && e < 2; e++)
        for (int k = 0; rc == HS_OK && k < 5; k++) {
            char csv[4200], name[64];
            snprintf(csv, sizeof csv, "%s/%s/%s.csv", c->out, endpoint[e], table[k]);
            snprintf(name, sizeof name, "/survival/%s/%s", endpoint[e], table[k]);
            if (access(csv, F_OK) == 0)
                rc = hs_h5_add_csv(f, name, csv, surv_text, err);
        }
    char csv[4200];
    snprintf(csv, sizeof csv, "%s/calibration.csv", c->out);
    if (rc == HS_OK)
        rc = hs_h5_add_csv(f, "/calibration", csv, calib_text, err);
    const char *attr[][2] = {
        {"hetsurv_version", HS_VERSION}, {"command_line", c->command_line ? c->command_line : ""},
        {"manifest", c->manifest}, {"manifest_sha256", r->manifest_sha}, {"controls_sha256", r->controls_sha},
        {"metric", c->metric}, {"by", c->by ? c->by : ""},
    };
    for (size_t k = 0; rc == HS_OK && k < sizeof attr / sizeof attr[0]; k++)
        rc = hs_h5_set_attr(f, "/", attr[k][0], attr[k][1], err);
    /* every parameter, one attribute of /parameters each */
    for (const char *p = c->params_text; rc == HS_OK && *p;) {
        size_t len = strcspn(p, "\n"), kl = strcspn(p, " \n");
        char key[128], val[512];
        snprintf(key, sizeof key, "%.*s", (int)(kl < 127 ? kl : 127), p);
        snprintf(val, sizeof val, "%.*s", (int)(len > kl ? (len - kl - 1 < 511 ? len - kl - 1 : 511) : 0),
                 p + (len > kl ? kl + 1 : kl));
        if (kl)
            rc = hs_h5_set_attr(f, "/parameters", key, val, err);
        p += len + (p[len] == '\n');
    }
    int k = hs_h5_close(f, err);
    return rc == HS_OK ? k : rc;
}

/* ---- report.html (rank 0) ---------------------------------------------------------------------------------- */

/* A list as "a, b, c" (or `none`) into buf. */
static const char *join(const char *const *v, size_t n, const char *none, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t k = 0; k < n && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? ", " : "", v[k]);
    return n ? buf : none;
}

/* The figures of the gallery's slide maps (the first HS_RUN_GALLERY patients scored, in manifest order), drawn
 * on rank 0 from the tile tables the ranks wrote, over each slide's thumbnail. */
static int draw_gallery(const run *r, hs_error *err)
{
    const hs_run_config *c = r->cfg;
    int rc = HS_OK;
    for (size_t i = 0, k = 0; rc == HS_OK && i < r->cohort.npatient && k < HS_RUN_GALLERY; i++) {
        const hs_score_row *row = &r->rows[i];
        if (!row->ok)
            continue;
        k++;
        const char *id = r->manifest->patient[i].patient_id;
        char base[4096], tiles[4200];
        if ((rc = hs_cohort_map_base(c->out, id, base, sizeof base, err)) != HS_OK)
            break;
        snprintf(tiles, sizeof tiles, "%s.tiles.csv", base);
        hs_slidemap_data *d;
        if ((rc = hs_slidemap_load(&d, tiles, c->tile_um, err)) != HS_OK)
            break;
        d->min_cells = c->her2.tile_min_cells ? c->her2.tile_min_cells : 1;
        /* previews for the report (a PNG at 120 dpi, else SVG); --maps all draws every format at full size */
        unsigned mask = c->figures & HS_FIG_PNG   ? HS_FIG_PNG_PREVIEW
                        : c->figures & HS_FIG_SVG ? HS_FIG_SVG
                                                  : HS_FIG_PDF;
        rc = hs_slidemap_write_slide(d, r->cohort.item[i].path, c->score.mpp_override, id, &row->m, base, mask, err);
        hs_slidemap_data_free(d);
    }
    return rc;
}

/*
 * DIR/report.html from the numbers of this run.  The figures are the files
 * the run drew into DIR (cohort), DIR/dfs and DIR/os (PNG, else SVG), embedded; stated
 * absent when not drawn.
 */
static int write_report(const run *r, hs_error *err)
{
    const hs_run_config *c = r->cfg;
    const hs_manifest *m = r->manifest;
    size_t n = r->cohort.npatient;
    const char **id = malloc((n ? n : 1) * sizeof *id), **slide = malloc((n ? n : 1) * sizeof *slide);
    if (!id || !slide) {
        free(id);
        free(slide);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        id[i] = m->patient[i].patient_id;
        slide[i] = m->patient[i].slide;
    }
    char groups[256], adjust[1024], factors[1024], cut[64], date[64];
    if (c->by)
        snprintf(groups, sizeof groups, "by %s", c->by);
    else if (c->cut == HS_CUT_OPTIMAL)
        snprintf(groups, sizeof groups, "%s cut low/high at the optimal cutpoint (maxstat, corrected p)", c->metric);
    else if (c->cut == HS_CUT_VALUE)
        snprintf(groups, sizeof groups, "%s cut low/high at %s", c->metric,
                 (snprintf(cut, sizeof cut, "%.17g", c->cut_value), cut));
    else if (!strcmp(c->metric, "heterogeneous"))
        snprintf(groups, sizeof groups, "heterogeneous vs homogeneous slides");
    else
        snprintf(groups, sizeof groups, "none (%s enters the Cox model as a continuous covariate)", c->metric);
    hs_report_param param[] = {
        {"heterogeneity metric", c->metric},
        {"groups", groups},
        {"Cox model adjusted for", join(c->adjust, c->nadjust, "nothing", adjust, sizeof adjust)},
        {"categorical numeric covariates (--factors)", join(c->factors, c->nfactor, "none", factors, sizeof factors)},
    };
    /* a date only when the run fixes one (reproducible builds' SOURCE_DATE_EPOCH): same input, same page */
    const char *epoch = getenv("SOURCE_DATE_EPOCH"), *when = NULL;
    char *end;
    long long sec = epoch && *epoch ? strtoll(epoch, &end, 10) : -1;
    time_t tt = (time_t)sec;
    struct tm tm;
    if (epoch && *epoch && !*end && sec >= 0 && gmtime_r(&tt, &tm) &&
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm))
        when = date;
    static const char *const ep_id[2] = {"dfs", "os"}, *const ep_name[2] = {"DFS", "OS"};
    char km_path[2][4200], forest_path[2][4200], km_title[2][64], forest_title[2][64];
    hs_report_endpoint ep[2];
    memset(ep, 0, sizeof ep);
    /* the page embeds the PNG figures, or the SVG ones when no PNG was asked for; PDF cannot be embedded */
    const char *ext = c->figures & HS_FIG_PNG ? "png" : c->figures & HS_FIG_SVG ? "svg" : NULL;
    const char *absent = !c->figures ? "not drawn (--no-plots)" : !ext ? "drawn as PDF only (--format pdf): see the "
                                                                          "files beside this page" : NULL;
    for (int e = 0; e < 2; e++) {
        snprintf(km_path[e], sizeof km_path[e], "%s/%s/km.%s", c->out, ep_id[e], ext ? ext : "png");
        snprintf(forest_path[e], sizeof forest_path[e], "%s/%s/forest.%s", c->out, ep_id[e], ext ? ext : "png");
        snprintf(km_title[e], sizeof km_title[e], "Kaplan-Meier, %s", ep_name[e]);
        snprintf(forest_title[e], sizeof forest_title[e], "Forest plot of the Cox model, %s", ep_name[e]);
        ep[e].name = ep_name[e];
        ep[e].id = ep_id[e];
        ep[e].result = r->result[e];
        ep[e].km = (hs_report_figure){.title = km_title[e], .path = ext ? km_path[e] : NULL, .absent_note = absent};
        ep[e].forest = (hs_report_figure){.title = forest_title[e], .path = ext ? forest_path[e] : NULL,
                                          .absent_note = absent};
    }
    char cohort_path[4200];
    snprintf(cohort_path, sizeof cohort_path, "%s/cohort.%s", c->out, ext ? ext : "png");
    hs_report_figure cohort_fig = {.title = "The cohort: heterogeneity metric and HER2 counts",
                                   .path = ext ? cohort_path : NULL, .absent_note = absent};
    /* the gallery: the first maps in manifest order (each PNG is about 0.5-1 MB; --maps all: every one in
       DIR/maps) */
    size_t nmap = 0, nok = 0;
    hs_report_figure *map = calloc(HS_RUN_GALLERY, sizeof *map);
    char (*map_path)[4200] = calloc(HS_RUN_GALLERY, sizeof *map_path);
    char (*map_title)[1100] = calloc(HS_RUN_GALLERY, sizeof *map_title);
    char map_note[256] = "";
    if (!map || !map_path || !map_title) {
        free(map);
        free(map_path);
        free(map_title);
        free(id);
        free(slide);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; ext && c->maps != HS_RUN_MAPS_NONE && i < n; i++) {
        if (!r->rows[i].ok)
            continue;
        nok++;
        if (nmap == HS_RUN_GALLERY)
            continue;
        char base[4096];
        if (hs_cohort_map_base(c->out, id[i], base, sizeof base, err) != HS_OK)
            continue;
        snprintf(map_path[nmap], sizeof map_path[nmap], "%s.%s", base, ext);
        snprintf(map_title[nmap], sizeof map_title[nmap], "%s", id[i]);
        map[nmap] = (hs_report_figure){.title = map_title[nmap], .path = map_path[nmap]};
        nmap++;
    }
    if (nok > nmap)
        snprintf(map_note, sizeof map_note, "The first %zu of the %zu slides scored, in manifest order (every slide's "
                 "tile table is in maps/ beside this page; --maps all draws every map).", nmap, nok);
    else if (nmap)
        snprintf(map_note, sizeof map_note, "Every slide's map (also in maps/ beside this page).");
    hs_report_input in = {
        .cohort = &cohort_fig,
        .version = HS_VERSION, .command_line = c->command_line, .manifest = c->manifest,
        .manifest_sha256 = r->manifest_sha, .controls = c->controls, .controls_sha256 = r->controls_sha,
        .date = when, .param = param, .nparam = sizeof param / sizeof param[0], .params_text = c->params_text,
        .metric = c->metric, .npatient = n, .patient_id = id, .slide = slide, .row = r->rows,
        .nendpoint = 2, .endpoint = ep, .nmap = nmap, .map = map, .map_note = nmap ? map_note : NULL,
    };
    char path[4200];
    snprintf(path, sizeof path, "%s/report.html", c->out);
    int rc = hs_report_write(&in, path, err);
    free(map);
    free(map_path);
    free(map_title);
    free(id);
    free(slide);
    return rc;
}

/* ---- the run ------------------------------------------------------------------------------------------------ */

/* Removes this rank's saved maps (they live in results.h5 now). */
static void remove_maps(const run *r)
{
    for (size_t i = (size_t)r->rank; i < r->cohort.npatient; i += (size_t)r->size) {
        char path[4096];
        hs_error e;
        if (hs_cohort_map_path(r->cfg->out, i, path, sizeof path, &e) == HS_OK)
            remove(path);
    }
}

/*
 * Removes an earlier run's results.h5 and report.html before the outputs are rewritten (rank 0): results.h5 is
 * renamed into place last, so a run killed while writing its outputs leaves no results.h5, never one beside
 * tables of another analysis (the analysis options may change on --resume).
 */
static int remove_finish_marks(const run *r, hs_error *err)
{
    static const char *const name[] = {"results.h5", "report.html"};
    for (size_t k = 0; k < sizeof name / sizeof name[0]; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", r->cfg->out, name[k]);
        /* unlink, not remove: a folder of that name is left, for the write to refuse it by name */
        if (unlink(path) != 0 && errno != ENOENT && errno != EISDIR)
            return hs_error_set(err, HS_EIO, "%s: cannot remove the earlier run's file: %s", path, strerror(errno));
    }
    return HS_OK;
}

/* Rank 0's outputs after classification: tables, analyses, figures, report; results.h5 (written by every rank)
 * renamed into place last. */
static int outputs(run *r, hs_error *err)
{
    const hs_run_config *c = r->cfg;
    int rc = HS_OK;
    if (r->rank == 0) {
        for (size_t i = 0; i < r->cohort.npatient; i++)
            r->nfailed += !r->rows[i].ok;
        if (r->nfailed)
            say(r, "%zu of %zu slides failed (status=error in slides.csv); they are excluded from the analysis",
                r->nfailed, r->cohort.npatient);
        rc = remove_finish_marks(r, err);
        if (rc == HS_OK)
            rc = write_slides_csv(r, err);
        if (rc == HS_OK)
            rc = write_calibration(r, err);
    }
    rc = hs_cohort_agree(r->comm, rc, err);
    char h5[4096], tmp[4200];
    snprintf(h5, sizeof h5, "%s/results.h5", c->out);
    snprintf(tmp, sizeof tmp, "%s.tmp", h5);
    double t0 = MPI_Wtime();
    if (rc == HS_OK)
        rc = hs_h5_write_cohort(tmp, r->comm, &r->cohort, r->own, r->nown, r->dims, c->out, c->tile_um, err);
    r->t_h5 = MPI_Wtime() - t0;
    if (rc == HS_OK)
        remove_maps(r);
    /* rank 0 checks for a stop request before each step: a stopped run never renames results.h5 into place */
    if (rc == HS_OK && r->rank == 0) {
        t0 = MPI_Wtime();
        if ((rc = check_stop(err)) == HS_OK)
            rc = analyse(r, "dfs", "dfs_time", "dfs_event", &r->result[0], err);
        if (rc == HS_OK && (rc = check_stop(err)) == HS_OK)
            rc = analyse(r, "os", "os_time", "os_event", &r->result[1], err);
        if (rc == HS_OK && c->figures && (rc = check_stop(err)) == HS_OK)
            rc = cohort_figure(r, err);
        r->t_analysis = MPI_Wtime() - t0;
        t0 = MPI_Wtime();
        if (rc == HS_OK && (rc = check_stop(err)) == HS_OK)
            rc = h5_finish(r, tmp, err);
        r->t_h5 += MPI_Wtime() - t0;
        if (rc == HS_OK && c->maps == HS_RUN_MAPS_GALLERY && c->figures && (rc = check_stop(err)) == HS_OK)
            rc = draw_gallery(r, err);
        if (rc == HS_OK && !c->no_report && (rc = check_stop(err)) == HS_OK)
            rc = write_report(r, err);
        /* results.h5 comes last: when it exists, every output beside it is complete and of this run */
        if (rc == HS_OK && (rc = check_stop(err)) == HS_OK)
            rc = hs_atomic_rename(tmp, h5, err); /* synced, then renamed: results.h5 is whole or absent */
    }
    rc = hs_cohort_agree(r->comm, rc, err);
    if (rc != HS_OK && r->rank == 0) {
        /* a results.h5 that stopped halfway is not left beside the other outputs, nor a report of a run that
           did not finish (any report.html here is this run's: the earlier one was removed above) */
        char report[4200];
        snprintf(report, sizeof report, "%s/report.html", c->out);
        unlink(tmp);
        unlink(report);
    }
    return rc;
}

static int stages(run *r, hs_error *err)
{
    const hs_run_config *c = r->cfg;
    int rc = r->rank == 0 ? setup(r, err) : HS_OK;
    rc = hs_cohort_agree(r->comm, rc, err);
    if (rc == HS_OK)
        rc = hs_cohort_bcast(&r->cohort, r->comm, err);
    if (rc == HS_OK)
        rc = hs_cohort_agree(r->comm, r->rank == 0 ? HS_OK : hs_ckpt_lock_rank(c->out, &r->lock_fd, err), err);
    if (rc != HS_OK)
        return rc;
    hs_score_params sp = c->score;
    if (sp.threads <= 0)
        sp.threads = rank_threads(r->comm, r->rank);
    hs_cohort_run cr = {r->comm,       c->out,   &sp,          {c->tile_um, c->score.mpp_override, c->completeness_col, &c->her2},
                        &c->her2,      c->tile_um, c->calibration, &stop_flag,
                        progress,      r,        c->quiet ? 3600.0 : 1.0,
                        c->shard_k,    c->shard_n, c->maps != HS_RUN_MAPS_NONE,
                        c->maps == HS_RUN_MAPS_ALL ? c->figures : 0};
    char shard[64] = "";
    if (c->shard_n)
        snprintf(shard, sizeof shard, " (this job: shard %d of %d)", c->shard_k, c->shard_n);
    say(r, "%zu patients%s%s, %d rank%s, %d thread%s per slide; checkpoint in %s/checkpoint", r->cohort.npatient,
        r->cohort.n > r->cohort.npatient ? " and their control slides" : "", shard, r->size, r->size == 1 ? "" : "s",
        sp.threads, sp.threads == 1 ? "" : "s", c->out);
    double t0 = MPI_Wtime();
    rc = hs_cohort_measure(&cr, &r->cohort, &r->dstats, err);
    r->t_measure = MPI_Wtime() - t0;
    if (rc != HS_OK || c->shard_n)
        return rc; /* a shard only measures: the merge calibrates, classifies and writes */
    if ((rc = hs_cohort_agree(r->comm, check_stop(err), err)) != HS_OK)
        return rc;
    t0 = MPI_Wtime();
    rc = hs_cohort_calibrate(&cr, &r->cohort, &r->bc, err);
    r->t_calibrate = MPI_Wtime() - t0;
    if (rc != HS_OK)
        return rc;
    t0 = MPI_Wtime();
    r->dims = calloc(2 * (r->cohort.npatient ? r->cohort.npatient : 1), sizeof *r->dims);
    if (r->rank == 0)
        r->rows = calloc(r->cohort.npatient ? r->cohort.npatient : 1, sizeof *r->rows);
    rc = r->dims && (r->rank != 0 || r->rows) ? HS_OK : hs_error_set(err, HS_ENOMEM, "out of memory");
    if (rc == HS_OK)
        rc = check_stop(err);
    rc = hs_cohort_agree(r->comm, rc, err);
    if (rc == HS_OK)
        rc = hs_cohort_classify(&cr, &r->cohort, r->bc, r->rows, &r->own, &r->nown, r->dims, err);
    r->t_classify = MPI_Wtime() - t0;
    if (rc == HS_OK)
        rc = hs_cohort_agree(r->comm, check_stop(err), err);
    if (rc == HS_OK)
        rc = outputs(r, err);
    return rc;
}

int hs_run(const hs_run_config *cfg)
{
    int provided;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(cfg->log ? cfg->log : stderr, "hetsurv run: MPI could not start\n");
        return HS_RUN_ERROR;
    }
    run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.comm = MPI_COMM_WORLD;
    MPI_Comm_rank(r.comm, &r.rank);
    MPI_Comm_size(r.comm, &r.size);
    r.t_start = MPI_Wtime();
    r.tty = cfg->log && isatty(fileno(cfg->log));
    r.last_line = -1e9;
    r.lock_fd = -1;
    if (r.rank == 0 && cfg->log) {
        int n = snprintf(stop_msg, sizeof stop_msg,
                         "%shetsurv %s: interrupted by a signal (the job was cancelled, or a rank died and mpirun is "
                         "ending the job): every slide finished is kept in %s/checkpoint; rerun with --resume to "
                         "finish\n",
                         r.tty ? "\n" : "", cfg->name ? cfg->name : "run", cfg->out);
        stop_len = n > 0 && (size_t)n < sizeof stop_msg ? (size_t)n : 0;
        fflush(cfg->log);
        stop_fd = fileno(cfg->log);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    hs_error err;
    hs_error_clear(&err);
    int rc = stages(&r, &err), status;
    if (rc == HS_EINTR) {
        if (!stop_said)
            say(&r, "stopped: the checkpoint in %s/checkpoint holds every slide finished; rerun with --resume to "
                    "finish", cfg->out);
        status = HS_RUN_INCOMPLETE;
    } else if (rc != HS_OK) {
        say(&r, "%s", err.msg);
        status = HS_RUN_ERROR;
    } else if (cfg->shard_n) {
        say(&r, "shard %d of %d measured in %.2f s; when every shard is done, `hetsurv merge` with the same manifest, "
                "--out and options calibrates, classifies and analyses the cohort",
            cfg->shard_k, cfg->shard_n, MPI_Wtime() - r.t_start);
        status = HS_RUN_OK;
    } else {
        double total = MPI_Wtime() - r.t_start;
        say(&r, "results in %s: slides.csv, calibration.csv, dfs/, os/, results.h5%s", cfg->out,
            cfg->no_report ? "" : ", report.html");
        say(&r, "done in %.2f s (measure %.2f, calibrate %.2f, classify %.2f, results.h5 %.2f, survival %.2f); "
                "dispatcher: %zu requests, %.3f ms wait per request",
            total, r.t_measure, r.t_calibrate, r.t_classify, r.t_h5, r.t_analysis, r.dstats.requests,
            r.dstats.requests ? 1000.0 * r.dstats.wait_s / (double)r.dstats.requests : 0.0);
        status = HS_RUN_OK;
    }
    hs_ckpt_unlock(r.lock_fd);
    hs_batchcal_free(r.bc);
    hs_cohort_free(&r.cohort);
    hs_manifest_free(r.manifest);
    hs_survival_result_free(r.result[0]);
    hs_survival_result_free(r.result[1]);
    free(r.rows);
    free(r.own);
    free(r.dims);
    MPI_Finalize();
    return status;
}
