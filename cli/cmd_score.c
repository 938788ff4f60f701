/*
 * hetsurv score: scores HER2 IHC slides on one process and writes one CSV row
 * per slide (or per image of a QuPath export).  Every slide is measured once;
 * the membrane DAB cuts of each staining batch are then chosen (calibration:
 * fixed, from the batch's own cells, or from its control slides), and the
 * stored cells are classified with them.  A slide that fails gets
 * status=error and its reason; the others are still scored.
 *
 * Each row is written and flushed as soon as it is finished (with fixed
 * cuts, as soon as its slide is measured; with cuts chosen from the data,
 * once every slide is measured), so a kill loses no finished row.  --out
 * FILE is written as FILE.partial and renamed to FILE when the table is
 * complete; a failed write removes FILE.partial and stops the command.
 * Every slide's measurement is saved in FILE.partial.d (measured in a child
 * process, as a cohort run measures: a crash inside one slide is its error)
 * and removed with the folder once the table is complete, so that the same
 * command run again after a kill measures only the slides not yet saved.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/score_opts.h"
#include "cohorts/cohorttable.h"
#include "cohorts/csvread.h"
#include "cohorts/manifest.h"
#include "mpi/checkpoint.h"
#include "scoring/batchcal.h"
#include "scoring/controls.h"
#include "scoring/measured.h"
#include "scoring/qupath.h"
#include "scoring/score.h"
#include "scoring/tilecsv.h"
#include "scoring/scorerow.h"
#include "util/hs_atomic.h"
#include "util/hs_parse.h"
#include "util/hs_sha256.h"

#define CMD "score"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hetsurv score SLIDE... [--out FILE.csv] [--map DIR] [--cells DIR] [options]\n"
            "       hetsurv score --manifest MANIFEST.csv [--factors A,...] [--out FILE.csv] [--map DIR] [options]\n"
            "       hetsurv score --qupath EXPORT.tsv [--out FILE.csv] [--map DIR] [options]\n"
            "\n"
            "Scores HER2 membrane staining of each slide: tumour cells classed 0/1+/2+/3+ (ASCO/CAP 2018),\n"
            "H-score, slide call, HER2 category and heterogeneity metrics (docs/scoring-metrics.md).\n"
            "Slides: anything OpenSlide reads (SVS, NDPI, MRXS, tiled TIFF, ...), plain TIFF and PNG.\n"
            "\n"
            "Options:\n"
            "  --out FILE.csv        write the table there (default: stdout); while score runs, the finished\n"
            "                        rows are in FILE.csv.partial, renamed to FILE.csv when all are written;\n"
            "                        each slide's measurement is saved in FILE.csv.partial.d until then, so\n"
            "                        the same command run again after a kill measures only the rest\n"
            "  --map DIR             write each slide's tile map as DIR/<name>.tiles.csv\n"
            "  --cells DIR           write each slide's tumour cells as DIR/<name>.cells.csv\n"
            "  --manifest FILE       score every patient's slide of a cohort manifest and write the cohort\n"
            "                        table: the manifest's columns followed by the score columns; an 'ish'\n"
            "                        column (positive/negative) resolves 2+ per patient, a 'batch' column\n"
            "                        names each slide's staining batch (calibrated separately)\n"
            "  --factors A,...       manifest covariates that are categorical (text)\n"
            "  --qupath FILE         score the cells of a QuPath detection export instead of slides\n"
            "  --ish RESULT          ISH result (positive/negative) used to resolve 2+ for every slide\n"
            "  --completeness-column NAME  QuPath column with the stained membrane fraction (0..1);\n"
            "                        (default: \"Membrane: DAB completeness\" when present); without one,\n"
            "                        QuPath's own Negative/1+/2+/3+ classes are used\n"
            "  -h, --help            show this help\n"
            "\n");
    hs_score_opts_help(f);
}

/* Opens DIR/<base name of name><suffix> for writing under a temporary name (hs_atomic_commit gives it its name). */
static FILE *open_named(const char *dir, const char *name, const char *suffix, char *path, size_t size, char **tmp,
                        hs_error *err)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    int len = snprintf(path, size, "%s/%s%s", dir, base, suffix);
    if (len < 0 || (size_t)len >= size) {
        hs_error_set(err, HS_EINVAL, "%s/%s%s: path too long", dir, base, suffix);
        return NULL;
    }
    return hs_atomic_open(path, "w", tmp, err);
}

/* Writes DIR/<base name of slide>.tiles.csv: one row per tile with cells. */
static int write_map(const char *dir, const char *slide, const hs_tilemap *map, const hs_her2_params *hp,
                     hs_error *err)
{
    char path[4096], *tmp;
    FILE *f = open_named(dir, slide, ".tiles.csv", path, sizeof path, &tmp, err);
    if (!f)
        return HS_EIO;
    hs_tilecsv_write(f, map, hp);
    return hs_atomic_commit(f, tmp, path, err);
}

/* Per-cell output of one slide, for --cells. */
static void put_cell(void *ctx, const hs_cellrec *r, double intensity, double completeness, hs_class k)
{
    fprintf(ctx, "%.6f,%.6f,%.4f,%.6f,%.6f,%s,%.4f\n", r->x_um, r->y_um, r->area_um2, intensity, completeness,
            hs_her2_call_name((hs_call)k), r->radius_um);
}

/* One slide to score. */
typedef struct item {
    const char *row_name;   /* the `slide` column of a table of slides; NULL in a cohort table */
    char name[4096];        /* names its --map and --cells files */
    const char *path;
    hs_ish ish;
    int batch;
    size_t patient;         /* cohort table: manifest row */
    int ok;                 /* measured, and its saved measurement loads */
    char error[HS_ERROR_MSG_MAX];
} item;

/* The table being written: to --out's FILE.partial, or to stdout. */
typedef struct table {
    FILE *f;
    const char *path;       /* --out, NULL for stdout */
    char *tmp;              /* FILE.partial (NULL: stdout, or a device written directly) */
    int started;            /* the header is written */
    int failed;             /* a write failed (errno in err): nothing more is written */
    int err;
} table;

/* Ends a row (or the header): flushed at once, so that a kill loses no finished row. 0, or -1 when it failed. */
static int table_flush(table *t)
{
    if (t->failed)
        return -1;
    errno = 0;
    if (fflush(t->f) != 0 || ferror(t->f)) {
        t->failed = 1;
        t->err = errno;
        return -1;
    }
    return 0;
}

typedef struct run {
    hs_score_opts *o;
    item *it;
    size_t n;
    hs_batchcal *bc;
    const char *map, *cells;
    int status;
    int nfail;
    table *out;
    const hs_manifest *m;   /* a cohort table: its manifest; NULL for a table of slides */
    int ntotal;
    char ck[4096];          /* the saved measurements' folder: FILE.partial.d, or a temporary one */
    int ck_temporary;       /* no --out: removed at the end whatever happens */
    int ck_lock;            /* its lock, -1 when none */
    int ck_owned;           /* locked by this command (or on a file system that cannot lock) */
    int ck_prepared;        /* its key written: it holds this command's measurements */
    hs_measurer *job;       /* the measuring process */
    int stopped;            /* the scoring stopped before the table was complete */
} run;

/*
 * The saved measurements' key: the measuring options and the slides (the
 * table's, then the control slides), each with its size and time of change (hashed: a table of thousands of slides
 * would make a long key).  A saved measurement is reused only under the same
 * key.
 */
static char *measure_key(const run *r, hs_error *err)
{
    char *list = NULL, *key = NULL;
    size_t nlist = 0, nkey = 0;
    FILE *l = open_memstream(&list, &nlist);
    if (!l) {
        hs_error_set(err, HS_ENOMEM, "out of memory");
        return NULL;
    }
    hs_controls *c = NULL;
    hs_error e;
    if (r->o->controls && hs_controls_read(&c, r->o->controls, &e) != HS_OK)
        c = NULL; /* said when the controls are measured */
    size_t nc = c ? c->n : 0;
    for (size_t i = 0; i < r->n + nc; i++) {
        const char *path = i < r->n ? r->it[i].path : c->area[i - r->n].path;
        struct stat st;
        if (stat(path, &st) == 0)
            fprintf(l, "%zu %lld %lld.%09ld ", i, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                    (long)st.st_mtim.tv_nsec);
        else
            fprintf(l, "%zu missing ", i);
        fputs(path, l);
        fputc('\0', l);
    }
    hs_controls_free(c);
    char sha[HS_SHA256_HEX];
    FILE *k = NULL;
    int rc = fclose(l) != 0 ? hs_error_set(err, HS_ENOMEM, "out of memory") : hs_sha256_buf(list, nlist, sha, err);
    if (rc == HS_OK && !(k = open_memstream(&key, &nkey)))
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
    if (rc == HS_OK) {
        fprintf(k, "hetsurv %s\ncommand score\nslides %zu\nslides_sha256 %s\n", HS_VERSION, r->n, sha);
        char csha[HS_SHA256_HEX] = "none";
        /* the control slides are saved after the table's: the controls file names them (an unreadable one is
           said when it is read) */
        if (r->o->controls && hs_sha256_file(r->o->controls, csha, err) != HS_OK)
            snprintf(csha, sizeof csha, "unreadable");
        fprintf(k, "controls_sha256 %s\n", csha);
        hs_score_opts_describe_measure(r->o, k);
        if (fclose(k) != 0) {
            free(key);
            key = NULL;
            rc = hs_error_set(err, HS_ENOMEM, "out of memory");
        }
    }
    free(list);
    return rc == HS_OK ? key : NULL;
}

/*
 * Takes the folder of saved measurements: FILE.partial.d beside the table
 * (out), or a temporary folder when there is none (stdout, a device), and
 * locks it, before the table is opened: a second score writing the same
 * table is refused before it touches FILE.partial.
 */
static int lock_measurements(run *r, const char *out, hs_error *err)
{
    if (out) {
        if (snprintf(r->ck, sizeof r->ck, "%s.partial.d", out) >= (int)sizeof r->ck)
            return hs_error_set(err, HS_EINVAL, "%s: path too long", out);
        /* named as the table: what stops the folder (a missing or unwritable folder) stops the table too */
        if (mkdir(r->ck, 0777) != 0 && errno != EEXIST)
            return hs_error_set(err, HS_EIO, "%s: cannot create: %s", out, strerror(errno));
    } else {
        const char *tmp = getenv("TMPDIR");
        if (snprintf(r->ck, sizeof r->ck, "%s/hetsurv-score-XXXXXX", tmp && *tmp ? tmp : "/tmp") >= (int)sizeof r->ck)
            return hs_error_set(err, HS_EINVAL, "TMPDIR: path too long");
        if (!mkdtemp(r->ck))
            return hs_error_set(err, HS_EIO, "%s: cannot create a temporary folder: %s", r->ck, strerror(errno));
        r->ck_temporary = 1;
    }
    int warn = 0, rc = hs_ckpt_lock(r->ck, -1, &r->ck_lock, &warn, err);
    if (rc == HS_OK || r->ck_temporary)
        r->ck_owned = 1;
    else if (!r->ck_temporary)
        r->ck[0] = '\0'; /* another score's: left alone */
    return rc;
}

/*
 * Prepares the locked folder for this command's slides and says how many an
 * earlier, interrupted run of the same command measured: those are not
 * measured again.  Saved measurements of another command (other slides,
 * changed slides, other options) are discarded.  Starts the measuring
 * process.
 */
static int open_measurements(run *r, hs_error *err)
{
    char *key = measure_key(r, err);
    if (!key)
        return err->code;
    r->ck_prepared = 1;
    char changed[HS_ERROR_MSG_MAX];
    int rc = hs_ckpt_prepare_renew(r->ck, key, changed, sizeof changed, err);
    if (rc == HS_OK && changed[0])
        hs_cli_error(CMD, "%s: its saved measurements are of other slides or options (%s): every slide is measured "
                     "again", r->ck, changed);
    free(key);
    size_t resumed = 0;
    for (size_t i = 0; rc == HS_OK && i < r->n; i++) {
        char cells[4096], meta[4096];
        if ((rc = hs_ckpt_item_paths(r->ck, i, cells, meta, sizeof cells, err)) == HS_OK)
            resumed += hs_measured_verdict(meta) >= 0;
    }
    if (rc == HS_OK && resumed)
        hs_cli_error(CMD, "%zu of %zu slide%s measured by an earlier, interrupted run (%s): not measured again",
                resumed, r->n, r->n == 1 ? "" : "s", r->ck);
    if (rc == HS_OK)
        rc = hs_measurer_alloc(&r->job, &r->o->score, NULL, err);
    return rc;
}

/*
 * Ends the measuring process and unlocks the folder of saved measurements.
 * It is removed when the table is complete or it was temporary; when no
 * slide was looked at (a bad manifest), only what this command added (its
 * lock) goes, so that an earlier run's measurements stay.
 */
static void close_measurements(run *r, int complete)
{
    hs_measurer_free(r->job);
    r->job = NULL;
    hs_error err;
    if (r->ck[0] && r->ck_owned && (complete || r->ck_temporary || !r->ck_prepared) &&
        hs_ckpt_remove(r->ck, complete || r->ck_temporary, &err) != HS_OK)
        hs_cli_error(CMD, "%s", err.msg);
    hs_ckpt_unlock(r->ck_lock);
    r->ck_lock = -1;
}

/*
 * Measures the slide at path (item i: a slide of the table, or control
 * slide i - n) in the measuring process (a crash inside one slide is that
 * slide's error) and saves it, unless it is saved already.  HS_OK once
 * its verdict is saved; HS_EIO when it cannot be (a full disk): the scoring
 * stops there, and a rerun measures that slide again.
 */
static int measure_saved(run *r, size_t i, const char *path, hs_error *err)
{
    char cells[4096], meta[4096];
    int rc = hs_ckpt_item_paths(r->ck, i, cells, meta, sizeof cells, err);
    if (rc != HS_OK || hs_measured_verdict(meta) >= 0)
        return rc;
    rc = hs_measurer_submit(r->job, path, cells, meta, err);
    while (rc == HS_OK && (rc = hs_measurer_poll(r->job, err)) == 0) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return rc == 1 ? HS_OK : rc;
}

/* Loads slide i's saved measurement; a damaged one is the slide's error.  HS_ENOMEM stops the scoring. */
static int load_saved(run *r, size_t i, hs_measured *m, hs_error *err)
{
    return hs_ckpt_load_item(r->ck, i, m, err);
}

/* Marks slide i failed with the message msg, and says it. */
static void fail_item(run *r, size_t i, const char *msg)
{
    item *t = &r->it[i];
    snprintf(t->error, sizeof t->error, "%s", msg);
    hs_cli_error(CMD, "%s", msg);
    t->ok = 0;
}

/* Measures slide i (or takes its saved measurement) and adds its borders to its batch's leak.  HS_OK, or an
 * error that stops the scoring (the measurement could not be saved, or memory ran out). */
static int measure_one(run *r, size_t i, hs_error *err)
{
    item *t = &r->it[i];
    hs_measured m;
    hs_error e;
    int rc = measure_saved(r, i, t->path, err);
    if (rc == HS_OK)
        rc = load_saved(r, i, &m, err);
    if (rc != HS_OK)
        return rc;
    if (!m.ok) {
        fail_item(r, i, m.error);
    } else if (hs_batchcal_add_leak(r->bc, t->batch, m.res.cells, &e) != HS_OK) {
        fail_item(r, i, e.msg);
    } else {
        if (m.res.stain_note[0])
            hs_cli_error(CMD, "%s: %s", t->path, m.res.stain_note);
        t->ok = 1;
    }
    hs_measured_clear(&m);
    return HS_OK;
}

/* Adds measured slide i, unmixed with its batch's leak, to its batch's intensity histograms. */
static int add_slide(run *r, size_t i, hs_error *err)
{
    item *t = &r->it[i];
    if (!t->ok)
        return HS_OK;
    hs_measured m;
    hs_error e;
    int rc = load_saved(r, i, &m, err);
    if (rc != HS_OK)
        return rc;
    if (!m.ok)
        fail_item(r, i, m.error);
    else if (hs_batchcal_add_slide(r->bc, t->batch, m.res.cells, r->o->her2.complete, &e) != HS_OK)
        fail_item(r, i, e.msg);
    hs_measured_clear(&m);
    return HS_OK;
}

/*
 * Measures the control slides of the controls file (saved as items n, n + 1,
 * ..., like the table's slides) and adds their areas to their batches
 * (after the leak is set).  HS_OK, or an error that stops the scoring; a
 * control slide that fails makes the command fail (r->status), its batch
 * then calibrated without it.
 */
static int measure_controls(run *r, hs_error *err)
{
    hs_controls *c = NULL;
    hs_error e;
    if (hs_controls_read(&c, r->o->controls, &e) != HS_OK) {
        hs_cli_error(CMD, "%s", e.msg);
        r->status = HS_EXIT_FAIL;
        return HS_OK;
    }
    int rc = HS_OK;
    size_t k = r->n; /* the control slide's item */
    for (size_t i = 0; i < c->n && rc == HS_OK; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(c->area[j].path, c->area[i].path);
        if (seen)
            continue;
        hs_measured m;
        if ((rc = measure_saved(r, k, c->area[i].path, err)) != HS_OK ||
            (rc = load_saved(r, k, &m, err)) != HS_OK)
            break;
        k++;
        if (!m.ok) {
            hs_cli_error(CMD, "%s:%ld: control slide: %s", r->o->controls, c->area[i].line, m.error);
            r->status = HS_EXIT_FAIL;
        }
        for (size_t j = i; j < c->n && m.ok; j++) {
            const hs_control_area *a = &c->area[j];
            if (strcmp(a->path, c->area[i].path))
                continue;
            int b = hs_batchcal_index(r->bc, a->batch);
            if (b < 0 || hs_batchcal_add_control(r->bc, b, a->cls, m.res.cells, a->rect, r->o->her2.complete, &e) !=
                             HS_OK) {
                hs_cli_error(CMD, "%s", b < 0 ? "out of memory" : e.msg);
                r->status = HS_EXIT_FAIL;
            }
        }
        hs_measured_clear(&m);
    }
    hs_controls_free(c);
    return rc;
}

/* Chooses the cuts of every batch and says what they are. */
static void calibrate(run *r)
{
    double fixed[3] = {r->o->her2.od_1, r->o->her2.od_2, r->o->her2.od_3};
    hs_batchcal_choose(r->bc, r->o->calibration, fixed, r->o->her2.complete);
    for (size_t b = 0; b < hs_batchcal_count(r->bc); b++) {
        const char *why, *name = hs_batchcal_name(r->bc, (int)b);
        const hs_calib_cuts *c = hs_batchcal_cuts(r->bc, (int)b, &why);
        size_t ns = hs_batchcal_slides(r->bc, (int)b);
        if (!c)
            hs_cli_error(CMD, "%s", why);
        else if (ns)
            hs_cli_error(CMD, "batch '%s' (%zu slide%s): border leak %.2f; %s cuts %.2f, %.2f, %.2f (%s)",
                    name, ns, ns == 1 ? "" : "s", hs_batchcal_leak(r->bc, (int)b, NULL), hs_calib_mode_name(c->method),
                    c->od[0], c->od[1], c->od[2], c->note);
    }
}

/* Classifies slide i with its batch's cuts and writes the rest of its row (the score columns) and its files. */
static int finish_item(run *r, FILE *f, size_t i, hs_error *lerr)
{
    item *t = &r->it[i];
    hs_measured m;
    memset(&m, 0, sizeof m);
    if (t->ok) {
        int lrc = load_saved(r, i, &m, lerr);
        if (lrc != HS_OK)
            return lrc;
        if (!m.ok)
            fail_item(r, i, m.error);
    }
    const char *why = NULL;
    const hs_calib_cuts *cuts = t->ok ? hs_batchcal_cuts(r->bc, t->batch, &why) : NULL;
    hs_score_row row;
    hs_score_row_init(&row);
    if (t->ok) {
        hs_score_row_measured(&row, &m.res);
        row.leak = hs_batchcal_leak(r->bc, t->batch, NULL);
    }
    if (cuts)
        hs_score_row_cuts(&row, cuts);
    if (!t->ok || !cuts) {
        hs_score_row_fail(&row, t->ok ? why : t->error);
        hs_score_row_write(f, &row);
        r->nfail++;
        hs_measured_clear(&m);
        return HS_OK;
    }
    hs_her2_params hp = r->o->her2;
    hp.od_1 = cuts->od[0];
    hp.od_2 = cuts->od[1];
    hp.od_3 = cuts->od[2];
    hs_error err;
    FILE *cf = NULL;
    char path[4096], *ctmp = NULL;
    if (r->cells && !(cf = open_named(r->cells, t->name, ".cells.csv", path, sizeof path, &ctmp, &err))) {
        hs_cli_error(CMD, "%s", err.msg);
        r->status = HS_EXIT_FAIL;
    }
    if (cf)
        fprintf(cf, "x_um,y_um,nucleus_area_um2,membrane_dab_od,membrane_completeness,class,cell_radius_um\n");
    hs_tilemap *map = NULL;
    int rc = hs_score_classify(&m.res, &hp, row.leak, r->o->tile_um, t->ish, cf ? put_cell : NULL, cf, &row.m, &map,
                               &err);
    if (cf && rc != HS_OK) {
        hs_atomic_abort(cf, ctmp);
    } else if (cf) {
        hs_error cerr;
        if (hs_atomic_commit(cf, ctmp, path, &cerr) != HS_OK) {
            hs_cli_error(CMD, "%s", cerr.msg);
            r->status = HS_EXIT_FAIL;
        }
    }
    if (rc == HS_OK && row.m.n_cells == 0)
        rc = hs_error_set(&err, HS_EDATA, "%s: no tumour cells", t->path);
    if (rc != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        hs_score_row_fail(&row, err.msg);
        r->nfail++;
    } else {
        row.ok = 1;
        if (r->map && write_map(r->map, t->name, map, &hp, &err) != HS_OK) {
            hs_cli_error(CMD, "%s", err.msg);
            r->status = HS_EXIT_FAIL;
        }
    }
    hs_score_row_write(f, &row);
    hs_tilemap_free(map);
    hs_measured_clear(&m);
    return HS_OK;
}

static int score_qupath(table *out, const char *path, const char *completeness_col, const hs_score_opts *o, hs_ish ish,
                        const char *map, int *nfail, int *ntotal)
{
    FILE *f = out->f;
    hs_qupath *q = NULL;
    hs_error err;
    if (hs_qupath_read(&q, path, o->tile_um, o->score.mpp_override, completeness_col, &o->her2, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        return HS_EXIT_FAIL;
    }
    int status = HS_EXIT_OK;
    hs_calib_cuts cuts;
    double fixed[3] = {o->her2.od_1, o->her2.od_2, o->her2.od_3};
    hs_calib_fixed(fixed, &cuts);
    fputs("slide", f);
    hs_score_row_write_header(f);
    fputc('\n', f);
    out->started = 1;
    for (size_t i = 0; i < q->nimage && table_flush(out) == 0; i++) {
        hs_score_row row;
        hs_score_row_init(&row);
        if (q->from_class)
            snprintf(row.calibration, sizeof row.calibration, "qupath");
        else
            hs_score_row_cuts(&row, &cuts);
        (*ntotal)++;
        hs_fprint_field(f, q->image[i].image);
        /* a bad row in the export, or a map that cannot be written, makes the image's row an error, never ok */
        int rc = HS_OK;
        if (q->image[i].error)
            rc = hs_error_set(&err, HS_EDATA, "%s", q->image[i].error);
        if (rc == HS_OK)
            rc = hs_metrics_compute(q->image[i].map, &o->her2, ish, &row.m, &err);
        if (rc == HS_OK && row.m.n_cells == 0)
            rc = hs_error_set(&err, HS_EDATA, "no tumour cells in the export");
        if (rc == HS_OK && map && write_map(map, q->image[i].image, q->image[i].map, &o->her2, &err) != HS_OK)
            rc = HS_EIO;
        if (rc != HS_OK) {
            if (rc != HS_EDATA || q->image[i].error)
                hs_cli_error(CMD, "%s", err.msg);
            hs_score_row_fail(&row, err.msg);
            (*nfail)++;
        } else {
            row.ok = 1;
        }
        hs_score_row_write(f, &row);
    }
    hs_qupath_free(q);
    return status;
}

typedef struct header_probe {
    const char *name[2];
    int found[2];
} header_probe;

static int probe_row(void *ctx, const hs_csv_row *row, hs_error *err)
{
    header_probe *h = ctx;
    for (size_t i = 0; i < row->nfield; i++)
        for (int k = 0; k < 2; k++)
            h->found[k] |= strcmp(row->field[i], h->name[k]) == 0;
    (void)err;
    return 1; /* stop after the header */
}

/* Whether the CSV's header has the columns "ish" and "batch". */
static int header_has(const char *path, header_probe *h, hs_error *err)
{
    int rc = hs_csv_read(path, ',', probe_row, h, err);
    return rc == 1 ? HS_OK : rc;
}

/* Writes row i of the table (its first columns, then the score columns) and flushes it. */
static int write_row(run *r, size_t i, hs_error *err)
{
    FILE *f = r->out->f;
    if (r->m)
        hs_cohorttable_row(f, r->m, r->it[i].patient);
    else
        hs_fprint_field(f, r->it[i].row_name);
    r->ntotal++;
    int rc = finish_item(r, f, i, err);
    table_flush(r->out);
    return rc;
}

/*
 * Runs the measure / calibrate / classify steps over r->it and writes the
 * rows in table order, after the header.  Every slide's measurement is saved
 * (open_measurements) before it counts, so that a rerun after a kill
 * measures only the slides not yet saved.  Fixed cuts (without control
 * slides) depend on no other slide: each row is written as soon as its slide
 * is measured.  Cuts chosen from the data need every slide of the batch
 * first.  A failed write of the table, or a measurement that cannot be
 * saved, stops the scoring.
 */
static void score_items(run *r)
{
    hs_error err;
    int rc = open_measurements(r, &err);
    if (r->o->calibration == HS_CALIB_FIXED && !r->o->controls) {
        double fixed[3] = {r->o->her2.od_1, r->o->her2.od_2, r->o->her2.od_3};
        hs_batchcal_choose(r->bc, HS_CALIB_FIXED, fixed, r->o->her2.complete);
        for (size_t i = 0; rc == HS_OK && i < r->n && !r->out->failed; i++)
            if ((rc = measure_one(r, i, &err)) == HS_OK && (rc = add_slide(r, i, &err)) == HS_OK)
                rc = write_row(r, i, &err);
        if (rc == HS_OK)
            calibrate(r); /* the same cuts, said once every slide is counted */
    } else {
        for (size_t i = 0; rc == HS_OK && i < r->n; i++)
            rc = measure_one(r, i, &err);
        /* fixed cuts apply to the membranes as measured (QuPath-comparable): no unmixing of the borders */
        if (rc == HS_OK && r->o->calibration != HS_CALIB_FIXED)
            hs_batchcal_choose_leak(r->bc);
        for (size_t i = 0; rc == HS_OK && i < r->n; i++)
            rc = add_slide(r, i, &err);
        if (rc == HS_OK && r->o->controls)
            rc = measure_controls(r, &err);
        if (rc == HS_OK)
            calibrate(r);
        for (size_t i = 0; rc == HS_OK && i < r->n && !r->out->failed; i++)
            rc = write_row(r, i, &err);
    }
    if (rc != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        r->status = HS_EXIT_FAIL;
        r->stopped = 1;
    }
}

/*
 * The cohort table: every manifest row with its slide's scores appended.  An
 * "ish" column, when present, resolves 2+ per patient; a "batch" column
 * groups the slides for calibration.  Manifest errors stop the run before
 * any slide is read; a missing or bad slide is only that patient's
 * status=error.
 */
static int score_manifest(const char *path, char **user_factors, size_t nfactor, run *r)
{
    hs_manifest *m = NULL;
    hs_error err;
    header_probe hp = {{"ish", "batch"}, {0, 0}};
    if (header_has(path, &hp, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        return HS_EXIT_FAIL;
    }
    size_t nf = 0;
    const char **factors = malloc((nfactor + 3) * sizeof *factors);
    if (!factors) {
        hs_cli_error(CMD, "out of memory");
        return HS_EXIT_FAIL;
    }
    for (size_t i = 0; i < nfactor; i++)
        factors[nf++] = user_factors[i];
    for (int k = 0; k < 2; k++)
        if (hp.found[k])
            factors[nf++] = hp.name[k];
    int rc = hs_manifest_read(&m, path, factors, nf, 0, &err);
    free(factors);
    if (rc != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        return HS_EXIT_FAIL;
    }
    size_t ish_col = m->ncov, batch_col = m->ncov;
    for (size_t j = 0; j < m->ncov; j++) {
        if (strcmp(m->cov_name[j], "ish") == 0)
            ish_col = j;
        if (strcmp(m->cov_name[j], "batch") == 0)
            batch_col = j;
    }
    if (m->nerror) {
        for (size_t i = 0; i < m->nproblem; i++)
            if (!m->problem[i].warning)
            {
                if (m->problem[i].column)
                    hs_cli_error(CMD, "%s:%ld:%zu: %s", path, m->problem[i].line, m->problem[i].column,
                                 m->problem[i].msg);
                else
                    hs_cli_error(CMD, "%s:%ld: %s", path, m->problem[i].line, m->problem[i].msg);
            }
        hs_cli_error(CMD, "%s: invalid manifest (%zu errors): see hetsurv validate", path, m->nerror);
        hs_manifest_free(m);
        return HS_EXIT_FAIL;
    }
    r->n = m->npatient;
    r->it = calloc(r->n ? r->n : 1, sizeof *r->it);
    if (!r->it) {
        hs_cli_error(CMD, "out of memory");
        hs_manifest_free(m);
        return HS_EXIT_FAIL;
    }
    for (size_t i = 0; i < m->npatient; i++) {
        const hs_manifest_patient *pt = &m->patient[i];
        item *t = &r->it[i];
        snprintf(t->name, sizeof t->name, "%s", pt->patient_id);
        t->path = pt->slide_path;
        t->patient = i;
        t->ish = HS_ISH_UNKNOWN;
        if (ish_col < m->ncov && pt->cov[ish_col] && hs_her2_ish_parse(pt->cov[ish_col], &t->ish) != 0) {
            hs_cli_error(CMD, "%s:%ld: ish: not positive/negative: '%s' (taken as unknown)", path, pt->line,
                         pt->cov[ish_col]);
            t->ish = HS_ISH_UNKNOWN;
        }
        const char *batch = batch_col < m->ncov && pt->cov[batch_col] ? pt->cov[batch_col] : "";
        if ((t->batch = hs_batchcal_index(r->bc, batch)) < 0) {
            hs_cli_error(CMD, "out of memory");
            hs_manifest_free(m);
            return HS_EXIT_FAIL;
        }
    }
    hs_cohorttable_header(r->out->f, m);
    hs_score_row_write_header(r->out->f);
    fputc('\n', r->out->f);
    r->out->started = 1;
    r->m = m;
    if (table_flush(r->out) == 0)
        score_items(r);
    r->m = NULL;
    hs_manifest_free(m);
    return r->status;
}

/* A table of slides given on the command line, all in one batch. */
static int score_slides(char **slides, int n, hs_ish ish, run *r)
{
    r->n = (size_t)n;
    r->it = calloc(r->n ? r->n : 1, sizeof *r->it);
    int b = hs_batchcal_index(r->bc, "");
    if (!r->it || b < 0) {
        hs_cli_error(CMD, "out of memory");
        return HS_EXIT_FAIL;
    }
    for (int i = 0; i < n; i++) {
        item *t = &r->it[i];
        /* map and cell files are named after the slide's file name, made unique by its position */
        const char *base = strrchr(slides[i], '/') ? strrchr(slides[i], '/') + 1 : slides[i];
        int seen = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = strcmp(base, strrchr(slides[k], '/') ? strrchr(slides[k], '/') + 1 : slides[k]) == 0;
        snprintf(t->name, sizeof t->name, seen ? "%s.%d" : "%s", base, i + 1);
        t->row_name = slides[i];
        t->path = slides[i];
        t->ish = ish;
        t->batch = b;
    }
    fputs("slide", r->out->f);
    hs_score_row_write_header(r->out->f);
    fputc('\n', r->out->f);
    r->out->started = 1;
    if (table_flush(r->out) == 0)
        score_items(r);
    return r->status;
}

int main_score(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},     {"map", required_argument, NULL, 'm'},
        {"qupath", required_argument, NULL, 'q'},  {"ish", required_argument, NULL, 'i'},
        {"completeness-column", required_argument, NULL, 'C'}, {"cells", required_argument, NULL, 'X'},
        {"manifest", required_argument, NULL, 'M'}, {"factors", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},          HS_SCORE_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    hs_score_opts o;
    hs_score_opts_default(&o);
    const char *out = NULL, *map = NULL, *cells = NULL, *qupath = NULL, *completeness_col = NULL, *manifest = NULL;
    const char *factors_arg = "";
    char **factors = NULL;
    size_t nfactor = 0;
    hs_ish ish = HS_ISH_UNKNOWN;
    hs_error err;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'm': map = optarg; break;
        case 'q': qupath = optarg; break;
        case 'i':
            if (hs_her2_ish_parse(optarg, &ish) != 0)
                return hs_cli_misuse(CMD, usage, "--ish must be positive or negative, not '%s'", optarg);
            break;
        case 'C': completeness_col = optarg; break;
        case 'M': manifest = optarg; break;
        case 'X': cells = optarg; break;
        case 'F': factors_arg = optarg; break;
        case 'h': usage(stdout); return HS_EXIT_OK;
        default: {
            int k = c == '?' ? 0 : hs_score_opts_parse(&o, c, optarg, &err);
            if (k < 0)
                return hs_cli_misuse(CMD, usage, "%s", err.msg);
            if (k == 0)
                return hs_cli_misuse(CMD, usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        }
    }
    if ((qupath != NULL) + (manifest != NULL) > 1)
        return hs_cli_misuse(CMD, usage, "--qupath and --manifest exclude each other");
    if (qupath || manifest ? optind != argc : optind == argc)
        return hs_cli_misuse(CMD, usage, "%s",
                             qupath || manifest ? "--qupath and --manifest take no slide arguments" : "no slide given");
    if (o.calibration == HS_CALIB_CONTROLS && !o.controls)
        return hs_cli_misuse(CMD, usage, "--calibration controls needs --controls FILE.csv");
    if (!(factors = hs_cli_list(factors_arg, &nfactor))) {
        hs_cli_error(CMD, "out of memory");
        return HS_EXIT_FAIL;
    }
    if (cells && hs_cli_mkdirs(cells) != 0) {
        hs_cli_error(CMD, "%s: cannot create the cells folder: %s", cells, strerror(errno));
        hs_cli_list_free(factors);
        return HS_EXIT_FAIL;
    }
    if (map && hs_cli_mkdirs(map) != 0) {
        hs_cli_error(CMD, "%s: cannot create the map folder: %s", map, strerror(errno));
        hs_cli_list_free(factors);
        return HS_EXIT_FAIL;
    }
    table t = {stdout, out, NULL, 0, 0, 0};
    run r = {.o = &o, .map = map, .cells = cells, .status = HS_EXIT_OK, .out = &t, .ck_lock = -1};
    /* the measurements beside the table, unless it goes to stdout or is written directly (a device, a link) */
    struct stat ost;
    int direct = out && lstat(out, &ost) == 0 && !S_ISREG(ost.st_mode);
    if (!qupath && lock_measurements(&r, out && !direct ? out : NULL, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        close_measurements(&r, 0);
        hs_cli_list_free(factors);
        return HS_EXIT_FAIL;
    }
    if (out && !(t.f = hs_atomic_open_as(out, ".partial", "w", &t.tmp, &err))) {
        hs_cli_error(CMD, "%s", err.msg);
        close_measurements(&r, 0);
        hs_cli_list_free(factors);
        return HS_EXIT_FAIL;
    }
    int status = HS_EXIT_OK;
    r.bc = hs_batchcal_alloc();
    if (!r.bc) {
        hs_cli_error(CMD, "out of memory");
        status = HS_EXIT_FAIL;
    } else if (qupath) {
        status = score_qupath(&t, qupath, completeness_col, &o, ish, map, &r.nfail, &r.ntotal);
    } else if (manifest) {
        status = score_manifest(manifest, factors, nfactor, &r);
    } else {
        status = score_slides(argv + optind, argc - optind, ish, &r);
    }
    free(r.it);
    hs_batchcal_free(r.bc);
    table_flush(&t);
    int complete = 0;
    if (!out && t.failed) {
        hs_cli_stdout_error(t.err);
        status = HS_EXIT_FAIL;
    } else if (!out) {
        if (hs_cli_stdout_flush() != 0)
            status = HS_EXIT_FAIL;
    } else if (t.failed) {
        /* rows may be cut short: remove the partial table rather than leave it looking usable */
        hs_atomic_abort(t.f, t.tmp);
        hs_cli_error(CMD, "%s: cannot write: %s (the table is not written)", out, t.err ? strerror(t.err) : "a write failed");
        status = HS_EXIT_FAIL;
    } else if (!t.started) {
        hs_atomic_abort(t.f, t.tmp); /* stopped before the first row: no table */
    } else if (r.stopped) {
        /* the rows so far stay in FILE.partial, the measurements in FILE.partial.d: the same command continues */
        fclose(t.f);
        hs_cli_error(CMD, "%s: the table is incomplete (its rows so far are in %s): run the same command again to "
                     "continue", out, t.tmp ? t.tmp : out);
        free(t.tmp);
    } else if (hs_atomic_commit(t.f, t.tmp, out, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        status = HS_EXIT_FAIL;
    } else {
        complete = 1;
    }
    close_measurements(&r, complete || (!out && !t.failed));
    if (r.nfail)
        fprintf(stderr, "hetsurv " CMD ": %d of %d slide%s failed (status=error in the table)\n", r.nfail, r.ntotal,
                r.ntotal == 1 ? "" : "s");
    hs_cli_list_free(factors);
    return r.nfail ? HS_EXIT_FAIL : status;
}
