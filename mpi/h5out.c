/*
 * h5out: results.h5, written in parallel and then completed by one process (see h5out.h).
 */
#include "h5out.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohorts/csvread.h"
#include "util/hs_parse.h"

void hs_h5_map_name(const char *patient, char *buf, size_t size)
{
    size_t n = 0;
    for (const char *p = patient; *p && n + 4 < size; p++) {
        if (*p == '/' || *p == '%' || (p == patient && *p == '.'))
            n += (size_t)snprintf(buf + n, size - n, "%%%02X", (unsigned char)*p);
        else
            buf[n++] = *p;
    }
    buf[n] = '\0';
}

/* Closes the dataset and dataspaces that are open (ids < 0 are not). */
static void close_ids(hid_t ds, hid_t fs, hid_t ms)
{
    if (ms >= 0)
        H5Sclose(ms);
    if (ds >= 0)
        H5Dclose(ds);
    if (fs >= 0)
        H5Sclose(fs);
}

/*
 * A creation property list of `cls` (H5P_DATASET_CREATE, H5P_GROUP_CREATE, H5P_FILE_CREATE) without
 * modification times, so that the same results give the same bytes; -1 on failure (then HDF5's default is
 * used, which only costs the byte-identity).
 */
static hid_t untimed(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0 && H5Pset_obj_track_times(p, 0) < 0) {
        H5Pclose(p);
        p = -1;
    }
    return p;
}

static void close_plist(hid_t p)
{
    if (p >= 0)
        H5Pclose(p);
}

/* Creates every missing group on the way to path (its last component excluded), without times. */
static int make_groups(hid_t file, const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    hid_t gcpl = untimed(H5P_GROUP_CREATE);
    int ok = 1;
    for (char *p = strchr(buf + 1, '/'); p && ok; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) {
            hid_t g = H5Gcreate2(file, buf, H5P_DEFAULT, gcpl >= 0 ? gcpl : H5P_DEFAULT, H5P_DEFAULT);
            ok = g >= 0;
            if (ok)
                H5Gclose(g);
        }
        *p = '/';
    }
    close_plist(gcpl);
    return ok ? 0 : -1;
}

/* HDF5 prints its own error stacks unless told not to; hetsurv reports errors itself. */
static void quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* ---- the parallel part -------------------------------------------------------------------------------------- */

/* The /slides row layout: patient_id, slide and the score columns. */
#define NCOL (2 + HS_SCORE_NCOL)
typedef struct layout {
    size_t len[NCOL];     /* text columns: string size; 0 for numbers */
    size_t off[NCOL];
    size_t size;
    hid_t type;           /* the compound */
} layout;

static const char *col_name(int j)
{
    return j == 0 ? "patient_id" : j == 1 ? "slide" : hs_score_col[j - 2];
}

static int col_text(int j)
{
    return j < 2 || hs_score_col_kind[j - 2] == HS_SCOL_TEXT;
}

/* The text of column j of patient i (row r). */
static const char *cell_text(const hs_cohort *c, size_t i, const hs_score_row *r, int j, char *buf, size_t size)
{
    if (j == 0)
        return c->item[i].patient;
    if (j == 1)
        return c->item[i].slide;
    return hs_score_row_text(r, j - 2, buf, size);
}

/* String sizes: the longest value of each text column over every rank's rows (at least 1). */
static int make_layout(layout *L, MPI_Comm comm, const hs_cohort *c, const hs_score_row *own, size_t nown, int rank,
                       int size)
{
    unsigned long long mx[NCOL] = {0};
    char buf[64];
    for (size_t k = 0; k < nown; k++) {
        size_t i = (size_t)rank + k * (size_t)size;
        for (int j = 0; j < NCOL; j++)
            if (col_text(j)) {
                size_t n = strlen(cell_text(c, i, &own[k], j, buf, sizeof buf));
                if (n > mx[j])
                    mx[j] = n;
            }
    }
    MPI_Allreduce(MPI_IN_PLACE, mx, NCOL, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
    L->size = 0;
    for (int j = 0; j < NCOL; j++) {
        L->len[j] = col_text(j) ? mx[j] + 1 : 0; /* NUL-terminated */
        L->off[j] = L->size;
        L->size += col_text(j) ? L->len[j] : sizeof(double);
    }
    L->type = H5Tcreate(H5T_COMPOUND, L->size);
    int ok = L->type >= 0;
    for (int j = 0; j < NCOL && ok; j++) {
        if (col_text(j)) {
            hid_t s = H5Tcopy(H5T_C_S1);
            ok = s >= 0 && H5Tset_size(s, L->len[j]) >= 0 && H5Tset_strpad(s, H5T_STR_NULLTERM) >= 0 &&
                 H5Tinsert(L->type, col_name(j), L->off[j], s) >= 0;
            if (s >= 0)
                H5Tclose(s);
        } else {
            ok = H5Tinsert(L->type, col_name(j), L->off[j], H5T_NATIVE_DOUBLE) >= 0;
        }
    }
    return ok ? 0 : -1;
}

/* This rank's rows packed as the compound's memory image. */
static unsigned char *pack_rows(const layout *L, const hs_cohort *c, const hs_score_row *own, size_t nown, int rank,
                                int size)
{
    unsigned char *b = calloc(nown ? nown : 1, L->size);
    if (!b)
        return NULL;
    char buf[64];
    for (size_t k = 0; k < nown; k++) {
        size_t i = (size_t)rank + k * (size_t)size;
        unsigned char *row = b + k * L->size;
        for (int j = 0; j < NCOL; j++) {
            if (col_text(j)) {
                const char *s = cell_text(c, i, &own[k], j, buf, sizeof buf);
                size_t n = strlen(s);
                memcpy(row + L->off[j], s, n < L->len[j] ? n : L->len[j]);
            } else {
                double v = hs_score_row_number(&own[k], j - 2);
                memcpy(row + L->off[j], &v, sizeof v);
            }
        }
    }
    return b;
}

/* Writes /slides: this rank's rows rank, rank + size, ... with one collective write. */
static int write_slides(hid_t file, hid_t dxpl, MPI_Comm comm, const hs_cohort *c, const hs_score_row *own,
                        size_t nown, int rank, int size)
{
    layout L;
    if (make_layout(&L, comm, c, own, nown, rank, size) != 0)
        return -1;
    hsize_t dim = c->npatient;
    hid_t fs = H5Screate_simple(1, &dim, NULL);
    hid_t dcpl = untimed(H5P_DATASET_CREATE);
    hid_t ds = fs >= 0 ? H5Dcreate2(file, "/slides", L.type, fs, H5P_DEFAULT, dcpl >= 0 ? dcpl : H5P_DEFAULT,
                                    H5P_DEFAULT)
                       : -1;
    close_plist(dcpl);
    hsize_t n = nown ? nown : 1;
    hid_t ms = H5Screate_simple(1, &n, NULL);
    unsigned char *b = pack_rows(&L, c, own, nown, rank, size);
    int ok = ds >= 0 && ms >= 0;
    if (ok && nown) {
        hsize_t start = (hsize_t)rank, stride = (hsize_t)size, count = nown;
        ok = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, &stride, &count, NULL) >= 0;
    } else if (ok) {
        ok = H5Sselect_none(fs) >= 0 && H5Sselect_none(ms) >= 0;
    }
    /* a rank without its buffer still takes part, writing nothing */
    if (ok && !b)
        H5Sselect_none(fs), H5Sselect_none(ms);
    static unsigned char dummy[1];
    if (ok)
        ok = H5Dwrite(ds, L.type, ms, fs, dxpl, b ? (void *)b : (void *)dummy) >= 0 && b;
    free(b);
    close_ids(ds, fs, ms);
    H5Tclose(L.type);
    return ok ? 0 : -1;
}

static int put_attr_double(hid_t obj, const char *name, double v)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = s >= 0 ? H5Acreate2(obj, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &v) >= 0;
    if (a >= 0)
        H5Aclose(a);
    if (s >= 0)
        H5Sclose(s);
    return ok ? 0 : -1;
}

static int put_attr_string(hid_t obj, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    hid_t s = H5Screate(H5S_SCALAR);
    int ok = t >= 0 && s >= 0 && H5Tset_size(t, strlen(v) + 1) >= 0 && H5Tset_strpad(t, H5T_STR_NULLTERM) >= 0;
    hid_t a = ok ? H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    ok = a >= 0 && H5Awrite(a, t, v) >= 0;
    if (a >= 0)
        H5Aclose(a);
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    return ok ? 0 : -1;
}

/* Reads a saved map of nx * ny * 4 counts. */
static uint32_t *read_map(const char *dir, size_t i, size_t n, hs_error *err)
{
    char path[4096];
    if (hs_cohort_map_path(dir, i, path, sizeof path, err) != HS_OK)
        return NULL;
    uint32_t *m = malloc(n * sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!m || !f) {
        hs_error_set(err, m ? HS_EIO : HS_ENOMEM, "%s: %s", path, m ? strerror(errno) : "out of memory");
        free(m);
        if (f)
            fclose(f);
        return NULL;
    }
    size_t got = fread(m, sizeof *m, n, f);
    fclose(f);
    if (got != n) {
        hs_error_set(err, HS_EIO, "%s: shorter than its map", path);
        free(m);
        return NULL;
    }
    return m;
}

/* Creates /maps/<id> of every patient with a map (all ranks) and writes each from its rank. */
static int write_maps(hid_t file, hid_t dxpl, MPI_Comm comm, const hs_cohort *c, const unsigned long long *dims,
                      const char *dir, double tile_um, int rank, int size, hs_error *err)
{
    hid_t gcpl = untimed(H5P_GROUP_CREATE), dcpl = untimed(H5P_DATASET_CREATE);
    hid_t g = H5Gcreate2(file, "/maps", H5P_DEFAULT, gcpl >= 0 ? gcpl : H5P_DEFAULT, H5P_DEFAULT);
    close_plist(gcpl);
    int ok = g >= 0 && put_attr_double(g, "tile_um", tile_um) == 0 &&
             put_attr_string(g, "layout", "[iy][ix][k]: tumour cells of class k = 0, 1+, 2+, 3+ on tile (ix, iy); "
                                          "tile (ix, iy) covers x in [ix, ix+1) * tile_um, y in [iy, iy+1) * tile_um "
                                          "from the slide's origin (top left)") == 0;
    int rc = ok ? HS_OK : hs_error_set(err, HS_EIO, "cannot create /maps");
    rc = hs_cohort_agree(comm, rc, err);
    /* every rank makes every collective call whatever happened locally; the outcome is agreed once at the end */
    int local = HS_OK;
    for (size_t i = 0; rc == HS_OK && i < c->npatient; i++) {
        if (!dims[2 * i] || !dims[2 * i + 1])
            continue;
        char name[1024];
        hs_h5_map_name(c->item[i].patient, name, sizeof name);
        hsize_t d[3] = {dims[2 * i + 1], dims[2 * i], HS_NCLASS};
        hid_t fs = H5Screate_simple(3, d, NULL);
        hid_t ds =
            fs >= 0 ? H5Dcreate2(g, name, H5T_STD_U32LE, fs, H5P_DEFAULT, dcpl >= 0 ? dcpl : H5P_DEFAULT, H5P_DEFAULT)
                    : -1;
        int mine = (int)(i % (size_t)size) == rank;
        uint32_t *m = mine ? read_map(dir, i, (size_t)(d[0] * d[1] * d[2]), err) : NULL;
        hid_t ms = H5Screate_simple(3, d, NULL);
        if ((ds < 0 || ms < 0) && local == HS_OK)
            local = hs_error_set(err, HS_EIO, "cannot create /maps/%s", name);
        if (mine && !m && local == HS_OK)
            local = err->code;
        if (ds >= 0 && ms >= 0) {
            if (!m) {
                H5Sselect_none(fs);
                H5Sselect_none(ms);
            }
            static uint32_t dummy[1];
            if (H5Dwrite(ds, H5T_NATIVE_UINT32, ms, fs, dxpl, m ? (void *)m : (void *)dummy) < 0 && local == HS_OK)
                local = hs_error_set(err, HS_EIO, "cannot write /maps/%s", name);
        }
        free(m);
        close_ids(ds, fs, ms);
    }
    if (rc == HS_OK)
        rc = hs_cohort_agree(comm, local, err);
    close_plist(dcpl);
    if (g >= 0)
        H5Gclose(g);
    return rc;
}

int hs_h5_write_cohort(const char *path, MPI_Comm comm, const hs_cohort *c, const hs_score_row *own, size_t nown,
                       const unsigned long long *dims, const char *dir, double tile_um, hs_error *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    quiet();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    int ok = fapl >= 0 && dxpl >= 0 && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) >= 0 &&
             H5Pset_all_coll_metadata_ops(fapl, 1) >= 0 && H5Pset_coll_metadata_write(fapl, 1) >= 0 &&
             H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) >= 0;
    hid_t fcpl = untimed(H5P_FILE_CREATE);
    hid_t file = ok ? H5Fcreate(path, H5F_ACC_TRUNC, fcpl >= 0 ? fcpl : H5P_DEFAULT, fapl) : -1;
    close_plist(fcpl);
    int rc = file >= 0 ? HS_OK : hs_error_set(err, HS_EIO, "%s: cannot create the HDF5 file", path);
    rc = hs_cohort_agree(comm, rc, err);
    if (rc == HS_OK) {
        int k = write_slides(file, dxpl, comm, c, own, nown, rank, size);
        rc = hs_cohort_agree(comm, k == 0 ? HS_OK : hs_error_set(err, HS_EIO, "%s: cannot write /slides", path),
                             err);
    }
    if (rc == HS_OK)
        rc = write_maps(file, dxpl, comm, c, dims, dir, tile_um, rank, size, err);
    if (file >= 0 && H5Fclose(file) < 0 && rc == HS_OK)
        rc = hs_error_set(err, HS_EIO, "%s: cannot close", path);
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return hs_cohort_agree(comm, rc, err);
}

/* ---- the serial part ---------------------------------------------------------------------------------------- */

struct hs_h5file {
    hid_t file;
    char *path;
};

int hs_h5_open(hs_h5file **out, const char *path, hs_error *err)
{
    quiet();
    *out = NULL;
    hs_h5file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    if ((f->file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT)) < 0) {
        free(f->path);
        free(f);
        return hs_error_set(err, HS_EIO, "%s: cannot open the HDF5 file", path);
    }
    *out = f;
    return HS_OK;
}

int hs_h5_close(hs_h5file *f, hs_error *err)
{
    if (!f)
        return HS_OK;
    int rc = H5Fclose(f->file) < 0 ? hs_error_set(err, HS_EIO, "%s: cannot close", f->path) : HS_OK;
    free(f->path);
    free(f);
    return rc;
}

int hs_h5_set_attr(hs_h5file *f, const char *object, const char *attr, const char *value, hs_error *err)
{
    hid_t o = -1;
    if (!strcmp(object, "/") || H5Lexists(f->file, object, H5P_DEFAULT) > 0) {
        o = H5Oopen(f->file, object, H5P_DEFAULT);
    } else if (make_groups(f->file, object) == 0) {
        hid_t gcpl = untimed(H5P_GROUP_CREATE);
        o = H5Gcreate2(f->file, object, H5P_DEFAULT, gcpl >= 0 ? gcpl : H5P_DEFAULT, H5P_DEFAULT);
        close_plist(gcpl);
    }
    int ok = o >= 0;
    if (ok && H5Aexists(o, attr) > 0)
        ok = H5Adelete(o, attr) >= 0;
    ok = ok && put_attr_string(o, attr, value) == 0;
    if (o >= 0)
        H5Oclose(o);
    return ok ? HS_OK : hs_error_set(err, HS_EIO, "%s: cannot set attribute %s of %s", f->path, attr, object);
}

/* A CSV table in memory. */
typedef struct table {
    size_t ncol, nrow, cap;
    char **name;
    char **cell;          /* nrow * ncol */
} table;

static int add_row(void *ctx, const hs_csv_row *row, hs_error *err)
{
    table *t = ctx;
    if (row->index == 0) {
        t->ncol = row->nfield;
        if (!(t->name = calloc(t->ncol ? t->ncol : 1, sizeof *t->name)))
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        for (size_t j = 0; j < t->ncol; j++)
            if (!(t->name[j] = strdup(row->field[j])))
                return hs_error_set(err, HS_ENOMEM, "out of memory");
        return 0;
    }
    if (row->nfield != t->ncol)
        return hs_error_set(err, HS_EDATA, "line %ld: %zu fields, the header has %zu", row->line, row->nfield,
                            t->ncol);
    if (t->nrow == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        char **c = realloc(t->cell, cap * t->ncol * sizeof *c);
        if (!c)
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        t->cell = c;
        t->cap = cap;
    }
    for (size_t j = 0; j < t->ncol; j++)
        if (!(t->cell[t->nrow * t->ncol + j] = strdup(row->field[j]))) {
            for (size_t k = 0; k < j; k++)
                free(t->cell[t->nrow * t->ncol + k]);
            return hs_error_set(err, HS_ENOMEM, "out of memory");
        }
    t->nrow++;
    return 0;
}

static void table_free(table *t)
{
    for (size_t j = 0; j < t->ncol && t->name; j++)
        free(t->name[j]);
    for (size_t k = 0; k < t->nrow * t->ncol; k++)
        free(t->cell[k]);
    free(t->name);
    free(t->cell);
}

int hs_h5_add_csv(hs_h5file *f, const char *name, const char *csv_path, const char *const *text_cols, hs_error *err)
{
    table t = {0};
    int rc = hs_csv_read(csv_path, ',', add_row, &t, err);
    if (rc != HS_OK) {
        table_free(&t);
        return rc;
    }
    size_t *len = calloc(t.ncol ? t.ncol : 1, sizeof *len), *off = calloc(t.ncol ? t.ncol : 1, sizeof *off), size = 0;
    int *text = calloc(t.ncol ? t.ncol : 1, sizeof *text);
    if (!len || !off || !text)
        rc = hs_error_set(err, HS_ENOMEM, "out of memory");
    for (size_t j = 0; rc == HS_OK && j < t.ncol; j++) {
        for (const char *const *c = text_cols; c && *c; c++)
            text[j] |= !strcmp(*c, t.name[j]);
        for (size_t i = 0; i < t.nrow; i++) {
            const char *s = t.cell[i * t.ncol + j];
            double v;
            text[j] |= hs_parse_double(s, &v) == HS_CELL_TEXT;
            if (strlen(s) > len[j])
                len[j] = strlen(s);
        }
        len[j] = text[j] ? len[j] + 1 : sizeof(double); /* strings NUL-terminated */
        off[j] = size;
        size += len[j];
    }
    hid_t type = rc == HS_OK && t.ncol ? H5Tcreate(H5T_COMPOUND, size) : -1;
    int ok = type >= 0;
    for (size_t j = 0; ok && j < t.ncol; j++) {
        if (text[j]) {
            hid_t s = H5Tcopy(H5T_C_S1);
            ok = s >= 0 && H5Tset_size(s, len[j]) >= 0 && H5Tset_strpad(s, H5T_STR_NULLTERM) >= 0 &&
                 H5Tinsert(type, t.name[j], off[j], s) >= 0;
            if (s >= 0)
                H5Tclose(s);
        } else {
            ok = H5Tinsert(type, t.name[j], off[j], H5T_NATIVE_DOUBLE) >= 0;
        }
    }
    unsigned char *b = ok ? calloc(t.nrow ? t.nrow : 1, size) : NULL;
    for (size_t i = 0; b && i < t.nrow; i++)
        for (size_t j = 0; j < t.ncol; j++) {
            const char *s = t.cell[i * t.ncol + j];
            if (text[j]) {
                memcpy(b + i * size + off[j], s, strlen(s));
            } else {
                double v = NAN;
                if (hs_parse_double(s, &v) != HS_CELL_NUMBER)
                    v = NAN;
                memcpy(b + i * size + off[j], &v, sizeof v);
            }
        }
    if (rc == HS_OK && !b)
        rc = ok ? hs_error_set(err, HS_ENOMEM, "out of memory")
                : hs_error_set(err, HS_EDATA, "%s: cannot make an HDF5 type of its columns", csv_path);
    if (rc == HS_OK) {
        hsize_t n = t.nrow;
        hid_t s = H5Screate_simple(1, &n, NULL);
        hid_t dcpl = untimed(H5P_DATASET_CREATE);
        hid_t d = s >= 0 && make_groups(f->file, name) == 0
                      ? H5Dcreate2(f->file, name, type, s, H5P_DEFAULT, dcpl >= 0 ? dcpl : H5P_DEFAULT, H5P_DEFAULT)
                      : -1;
        close_plist(dcpl);
        if (d < 0 || (t.nrow && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) < 0))
            rc = hs_error_set(err, HS_EIO, "%s: cannot write %s", f->path, name);
        if (d >= 0)
            H5Dclose(d);
        if (s >= 0)
            H5Sclose(s);
    }
    if (type >= 0)
        H5Tclose(type);
    free(b);
    free(len);
    free(off);
    free(text);
    table_free(&t);
    return rc;
}
