/*
 * qupath: QuPath detection-measurement exports to per-image tile maps (see
 * qupath.h for the columns and the class precedence).  The cells of each
 * image are kept until the end of the file, because the size of an image's
 * tile map is known only from its largest centroid.
 */
#include "qupath.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cohorts/csvread.h"
#include "util/hs_parse.h"
#include "util/hs_strmap.h"

#define NONE SIZE_MAX
#define MAX_TILES 100000000.0 /* 1e8 tiles: 2.56 m at 256 um; more means wrong units */

typedef struct qcell {
    double x, y; /* micrometres */
    hs_class k;
} qcell;

typedef struct qimg {
    qcell *cell;
    size_t n, cap;
    double xmax, ymax;
    unsigned long skipped;
    char *error;         /* the first bad row's message, or NULL */
    unsigned long n_bad;
} qimg;

/* Room for a value of the file quoted in a message: longer ones are cut with "..." so the reason stays whole. */
#define SHOW 160

/* s escaped for a message (control bytes as \n, \xNN...), cut to fit buf. */
static const char *esc(char *buf, size_t cap, const char *s)
{
    hs_err_escape(buf, cap, s, strlen(s));
    return buf;
}

typedef struct reader {
    const char *path;
    double tile_um, pixel_um;
    const char *comp_name; /* the caller's completeness column, or NULL */
    const hs_her2_params *p;
    hs_qupath *q;
    int seen_header;
    size_t nfield;
    size_t c_image, c_class, c_x, c_y, c_int, c_comp; /* 0-based columns, NONE when absent */
    hs_strmap *names;
    qimg *img;
    size_t nimg, capimg;
    const char *default_name;
    char **header; /* copies of the header fields, for messages */
} reader;

/* ---- header ---- */

static void trim(const char *s, const char **b, size_t *n)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    *b = s;
    *n = len;
}

static int field_is(const char *field, const char *name)
{
    const char *b;
    size_t n;
    trim(field, &b, &n);
    return strlen(name) == n && memcmp(b, name, n) == 0;
}

/*
 * 1 when field is "Centroid <axis> µm" (micro sign U+00B5 or Greek mu U+03BC in
 * UTF-8, or plain "um"), 2 when it is "Centroid <axis> px", else 0.
 */
static int centroid_unit(const char *field, char axis)
{
    const char *b;
    size_t n;
    trim(field, &b, &n);
    static const char prefix[] = "Centroid ";
    size_t pl = sizeof prefix - 1;
    if (n < pl + 2 || memcmp(b, prefix, pl) != 0 || b[pl] != axis || b[pl + 1] != ' ')
        return 0;
    const char *u = b + pl + 2;
    size_t un = n - pl - 2;
    if ((un == 3 && (memcmp(u, "\xC2\xB5m", 3) == 0 || memcmp(u, "\xCE\xBCm", 3) == 0)) ||
        (un == 2 && memcmp(u, "um", 2) == 0))
        return 1;
    if (un == 2 && memcmp(u, "px", 2) == 0)
        return 2;
    return 0;
}

/* Records column i as *slot, failing on a second column of the same meaning. */
static int take(reader *rd, const hs_csv_row *row, size_t i, size_t *slot, hs_error *err)
{
    if (*slot != NONE) {
        char show[SHOW];
        return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s' duplicates column %zu", rd->path, row->line,
                            i + 1, esc(show, sizeof show, row->field[i]), *slot + 1);
    }
    *slot = i;
    return HS_OK;
}

static int keep_name(char **dst, const char *field)
{
    const char *b;
    size_t n;
    trim(field, &b, &n);
    *dst = strndup(b, n);
    return *dst ? HS_OK : HS_ENOMEM;
}

static int on_header(reader *rd, const hs_csv_row *row, hs_error *err)
{
    size_t image = NONE, cls = NONE, classification = NONE, xum = NONE, yum = NONE, xpx = NONE, ypx = NONE,
           memb = NONE, cell = NONE, comp = NONE;
    const char *comp_name = rd->comp_name ? rd->comp_name : HS_QUPATH_COMPLETENESS_DEFAULT;
    int rc = HS_OK;
    rd->nfield = row->nfield;
    rd->header = calloc(row->nfield ? row->nfield : 1, sizeof *rd->header);
    if (!rd->header)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", rd->path);
    for (size_t i = 0; i < row->nfield; i++)
        if (keep_name(&rd->header[i], row->field[i]))
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory", rd->path);
    for (size_t i = 0; i < row->nfield && rc == HS_OK; i++) {
        const char *f = row->field[i];
        int ux = centroid_unit(f, 'X'), uy = centroid_unit(f, 'Y');
        if (field_is(f, "Image"))
            rc = take(rd, row, i, &image, err);
        else if (field_is(f, "Class"))
            rc = take(rd, row, i, &cls, err);
        else if (field_is(f, "Classification"))
            rc = take(rd, row, i, &classification, err);
        else if (ux)
            rc = take(rd, row, i, ux == 1 ? &xum : &xpx, err);
        else if (uy)
            rc = take(rd, row, i, uy == 1 ? &yum : &ypx, err);
        else if (field_is(f, "Membrane: DAB OD mean"))
            rc = take(rd, row, i, &memb, err);
        else if (field_is(f, "Cell: DAB OD mean"))
            rc = take(rd, row, i, &cell, err);
        else if (field_is(f, comp_name))
            rc = take(rd, row, i, &comp, err);
    }
    if (rc != HS_OK)
        return rc;

    hs_qupath *q = rd->q;
    rd->c_image = image;
    rd->c_class = classification != NONE ? classification : cls;
    if (rd->comp_name && comp == NONE)
        return hs_error_set(err, HS_EDATA, "%s:%ld: no completeness column named '%s' in the header", rd->path,
                            row->line, rd->comp_name);
    if (comp != NONE) {
        rd->c_comp = comp;
        rd->c_int = memb != NONE ? memb : cell;
        if (rd->c_int == NONE)
            return hs_error_set(err, HS_EDATA, "%s:%ld: completeness column '%s' needs an intensity column: no "
                                "'Membrane: DAB OD mean' or 'Cell: DAB OD mean' in the header", rd->path, row->line,
                                comp_name);
        q->from_class = 0;
        if (keep_name(&q->intensity_col, row->field[rd->c_int]) || keep_name(&q->completeness_col, row->field[comp]))
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory", rd->path);
    } else {
        if (rd->c_class == NONE)
            return hs_error_set(err, HS_EDATA, "%s:%ld: no 'Class' or 'Classification' column (and no "
                                "completeness column '%s') in the header: cannot classify cells", rd->path,
                                row->line, comp_name);
        q->from_class = 1;
    }
    if (rd->c_class != NONE && keep_name(&q->class_col, row->field[rd->c_class]))
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", rd->path);

    if (xum != NONE && yum != NONE) {
        rd->c_x = xum;
        rd->c_y = yum;
    } else if (xpx != NONE && ypx != NONE) {
        if (!(rd->pixel_um > 0.0))
            return hs_error_set(err, HS_EDATA, "%s:%ld: centroids are in pixels ('Centroid X px'): the pixel size "
                                "in micrometres is needed", rd->path, row->line);
        rd->c_x = xpx;
        rd->c_y = ypx;
        q->centroid_px = 1;
    } else {
        return hs_error_set(err, HS_EDATA, "%s:%ld: no 'Centroid X \xC2\xB5m' and 'Centroid Y \xC2\xB5m' (or "
                            "'Centroid X px' and 'Centroid Y px') columns in the header", rd->path, row->line);
    }
    rd->seen_header = 1;
    return HS_OK;
}

/* ---- rows ---- */

/* Non-tumour classes of QuPath's default class list (Ignore* is matched as a prefix). */
static int non_tumour(const char *s, size_t n)
{
    static const char *const names[] = {"Stroma", "Immune cells", "Necrosis", "Other"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
            return 1;
    return n >= 6 && strncasecmp(s, "Ignore", 6) == 0;
}

/*
 * Splits a class such as "Tumor: 2+" at ':'.  Returns 1 when a component is a
 * non-tumour class; else 0 with the trimmed last component in (*last, *nlast).
 */
static int class_parts(const char *s, const char **last, size_t *nlast)
{
    for (;;) {
        const char *colon = strchr(s, ':');
        size_t len = colon ? (size_t)(colon - s) : strlen(s);
        const char *b = s;
        while (len && (*b == ' ' || *b == '\t')) {
            b++;
            len--;
        }
        while (len && (b[len - 1] == ' ' || b[len - 1] == '\t' || b[len - 1] == '\r'))
            len--;
        if (non_tumour(b, len))
            return 1;
        if (!colon) {
            *last = b;
            *nlast = len;
            return 0;
        }
        s = colon + 1;
    }
}

/* Parses a number cell: HS_OK with *v, 1 when missing, or an HS_EDATA error naming FILE:LINE:COLUMN. */
static int number(reader *rd, const hs_csv_row *row, size_t c, double *v, hs_error *err)
{
    hs_cell_kind kind = hs_parse_double(row->field[c], v);
    if (kind == HS_CELL_MISSING)
        return 1;
    if (kind == HS_CELL_TEXT || !isfinite(*v)) {
        char name[SHOW], show[SHOW];
        return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': not a finite number: '%s'", rd->path,
                            row->line, c + 1, esc(name, sizeof name, rd->header[c]),
                            esc(show, sizeof show, row->field[c]));
    }
    return HS_OK;
}

/* Two number cells: HS_OK, 1 when either is missing, or the error of the first bad one. */
static int two_numbers(reader *rd, const hs_csv_row *row, size_t ca, double *a, size_t cb, double *b, hs_error *err)
{
    int ra = number(rd, row, ca, a, err);
    if (ra < 0)
        return ra;
    int rb = number(rd, row, cb, b, err);
    if (rb < 0)
        return rb;
    return ra || rb;
}

/* The bucket of the image called name, made on first sight; NULL when out of memory. */
static qimg *image_of(reader *rd, const char *name)
{
    long id = hs_strmap_intern(rd->names, name, 1);
    if (id < 0)
        return NULL;
    if ((size_t)id == rd->nimg) {
        if (rd->nimg == rd->capimg) {
            size_t cap = rd->capimg ? 2 * rd->capimg : 8;
            qimg *img = realloc(rd->img, cap * sizeof *img);
            if (!img)
                return NULL;
            rd->img = img;
            rd->capimg = cap;
        }
        memset(&rd->img[rd->nimg], 0, sizeof rd->img[rd->nimg]);
        rd->nimg++;
    }
    return &rd->img[id];
}

/* A centroid beyond HS_QUPATH_MAX_UM (v in micrometres, column c): the error naming it, else HS_OK. */
static int check_position(reader *rd, const hs_csv_row *row, size_t c, double v, hs_error *err)
{
    if (v <= HS_QUPATH_MAX_UM)
        return HS_OK;
    char name[SHOW], show[SHOW];
    esc(name, sizeof name, rd->header[c]);
    esc(show, sizeof show, row->field[c]);
    if (rd->q->centroid_px)
        return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': %s px at %g \xC2\xB5m/px is %g \xC2\xB5m from the "
                            "image origin, beyond %g \xC2\xB5m (20 cm): not a position on a slide (wrong pixel size?)",
                            rd->path, row->line, c + 1, name, show, rd->pixel_um, v, HS_QUPATH_MAX_UM);
    return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': %s \xC2\xB5m from the image origin is beyond %g "
                        "\xC2\xB5m (20 cm): not a position on a slide (pixels written as micrometres?)", rd->path,
                        row->line, c + 1, name, show, HS_QUPATH_MAX_UM);
}

/*
 * Checks one row of image im and adds its cell: HS_OK (also for a row
 * skipped), HS_EDATA with the message in err for a bad row, HS_ENOMEM.
 */
static int take_row(reader *rd, const hs_csv_row *row, qimg *im, hs_error *err)
{
    char show[SHOW];
    if (rd->c_image != NONE && row->len[rd->c_image] > HS_QUPATH_MAX_IMAGE)
        return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: an image name of %zu bytes (at most %d): '%s'", rd->path,
                            row->line, rd->c_image + 1, row->len[rd->c_image], HS_QUPATH_MAX_IMAGE,
                            esc(show, 64, row->field[rd->c_image]));
    hs_class k = HS_CLASS_0;
    if (rd->c_class != NONE) {
        const char *last;
        size_t nlast;
        if (class_parts(row->field[rd->c_class], &last, &nlast)) {
            im->skipped++;
            return HS_OK;
        }
        if (rd->q->from_class) {
            if (nlast == 0) {
                im->skipped++;
                return HS_OK;
            }
            if (nlast == 8 && strncasecmp(last, "Negative", 8) == 0)
                k = HS_CLASS_0;
            else if (nlast == 2 && last[1] == '+' && last[0] >= '1' && last[0] <= '3')
                k = (hs_class)(last[0] - '0');
            else
                return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: unknown class '%s': expected Negative, 1+, 2+ or 3+ "
                                    "(optionally after a prefix such as 'Tumor: '; run positive cell detection "
                                    "with three thresholds)", rd->path, row->line, rd->c_class + 1,
                                    esc(show, sizeof show, row->field[rd->c_class]));
        }
    }
    int rc;
    if (!rd->q->from_class) {
        double od, comp;
        if ((rc = two_numbers(rd, row, rd->c_int, &od, rd->c_comp, &comp, err)) < 0)
            return rc;
        if (rc == 1) {
            im->skipped++;
            return HS_OK;
        }
        if (od < HS_QUPATH_OD_MIN || od > HS_QUPATH_OD_MAX) {
            char name[SHOW];
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: column '%s': %s is not a plausible DAB optical density "
                                "(%g to %g; an intensity 0-255 in an OD column?)", rd->path, row->line, rd->c_int + 1,
                                esc(name, sizeof name, rd->header[rd->c_int]),
                                esc(show, sizeof show, row->field[rd->c_int]), HS_QUPATH_OD_MIN, HS_QUPATH_OD_MAX);
        }
        if (comp < 0.0 || comp > 1.0)
            return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: completeness %s is outside [0, 1] (a fraction of the "
                                "membrane, not a percentage)", rd->path, row->line, rd->c_comp + 1,
                                esc(show, sizeof show, row->field[rd->c_comp]));
        k = hs_her2_cell_class(rd->p, od, comp);
    }
    double x, y;
    if ((rc = two_numbers(rd, row, rd->c_x, &x, rd->c_y, &y, err)) < 0)
        return rc;
    if (rc == 1) {
        im->skipped++;
        return HS_OK;
    }
    if (x < 0.0 || y < 0.0) {
        size_t c = x < 0.0 ? rd->c_x : rd->c_y;
        return hs_error_set(err, HS_EDATA, "%s:%ld:%zu: negative centroid %s", rd->path, row->line, c + 1,
                            esc(show, sizeof show, row->field[c]));
    }
    if (rd->q->centroid_px) {
        x *= rd->pixel_um;
        y *= rd->pixel_um;
    }
    if ((rc = check_position(rd, row, rd->c_x, x, err)) != HS_OK ||
        (rc = check_position(rd, row, rd->c_y, y, err)) != HS_OK)
        return rc;
    if (im->n == im->cap) {
        size_t cap = im->cap ? 2 * im->cap : 256;
        qcell *cell = realloc(im->cell, cap * sizeof *cell);
        if (!cell)
            return hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", rd->path, row->line);
        im->cell = cell;
        im->cap = cap;
    }
    im->cell[im->n++] = (qcell){x, y, k};
    im->xmax = fmax(im->xmax, x);
    im->ymax = fmax(im->ymax, y);
    return HS_OK;
}

static int on_row(void *ctx, const hs_csv_row *row, hs_error *err)
{
    reader *rd = ctx;
    if (!rd->seen_header)
        return on_header(rd, row, err);
    if (row->nfield != rd->nfield)
        return hs_error_set(err, HS_EDATA, "%s:%ld: row has %zu fields, the header has %zu", rd->path, row->line,
                            row->nfield, rd->nfield);
    qimg *im = image_of(rd, rd->c_image != NONE ? row->field[rd->c_image] : rd->default_name);
    if (!im)
        return hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", rd->path, row->line);
    /* a bad row makes its image an error (the first bad row named), and the other images are still read */
    hs_error why;
    int rc = take_row(rd, row, im, &why);
    if (rc == HS_EDATA) {
        im->n_bad++;
        if (!im->error && !(im->error = strdup(why.msg)))
            return hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", rd->path, row->line);
        return HS_OK;
    }
    if (rc != HS_OK && err)
        *err = why;
    return rc;
}

/* ---- file ---- */

/*
 * The delimiter of the first non-blank line: tab or comma, whichever occurs
 * more often outside double quotes (tab on a tie, QuPath's default).
 */
static int detect_delim(const char *path, char *delim, hs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = HS_OK;
    for (;;) {
        errno = 0;
        n = getline(&line, &cap, f);
        if (n < 0) {
            rc = ferror(f) ? hs_error_set(err, HS_EIO, "%s: read error: %s", path, strerror(errno))
                           : hs_error_set(err, HS_EDATA, "%s:%ld: empty file: no header line", path, lineno + 1);
            break;
        }
        lineno++;
        const char *s = line;
        if (lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;
        size_t tabs = 0, commas = 0, other = 0;
        int quoted = 0;
        for (; *s; s++) {
            if (*s == '"')
                quoted = !quoted;
            else if (!quoted && *s == '\t')
                tabs++;
            else if (!quoted && *s == ',')
                commas++;
            else if (*s != ' ' && *s != '\r' && *s != '\n')
                other++;
        }
        if (tabs + commas + other == 0)
            continue; /* blank line: csvread skips it too */
        *delim = commas > tabs ? ',' : '\t';
        break;
    }
    free(line);
    fclose(f);
    return rc;
}

static void free_images(qimg *img, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(img[i].cell);
        free(img[i].error);
    }
    free(img);
}

void hs_qupath_free(hs_qupath *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nimage; i++) {
        free(q->image[i].image);
        free(q->image[i].error);
        hs_tilemap_free(q->image[i].map);
    }
    free(q->image);
    free(q->intensity_col);
    free(q->completeness_col);
    free(q->class_col);
    free(q);
}

/* Moves the buffered cells of every image onto tile maps. */
static int build_maps(reader *rd, hs_error *err)
{
    hs_qupath *q = rd->q;
    char show_buf[SHOW];
    q->image = calloc(rd->nimg ? rd->nimg : 1, sizeof *q->image);
    if (!q->image)
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", rd->path);
    for (size_t i = 0; i < rd->nimg; i++) {
        qimg *im = &rd->img[i];
        hs_qupath_image *out = &q->image[i];
        q->nimage = i + 1;
        const char *name = hs_strmap_key(rd->names, i);
        size_t len = strlen(name);
        if (len > HS_QUPATH_MAX_IMAGE) {
            char cut[64];
            hs_err_escape(cut, sizeof cut, name, len);
            out->image = strdup(cut);
        } else {
            out->image = strdup(name);
        }
        if (!out->image)
            return hs_error_set(err, HS_ENOMEM, "%s: out of memory", rd->path);
        out->n_skipped = im->skipped;
        out->n_bad = im->n_bad;
        if (im->error) {
            out->error = im->error;
            im->error = NULL;
            continue;
        }
        double fx = im->n ? floor(im->xmax / rd->tile_um) + 1.0 : 0.0;
        double fy = im->n ? floor(im->ymax / rd->tile_um) + 1.0 : 0.0;
        if (fx * fy > MAX_TILES) {
            char show[SHOW];
            hs_error why;
            hs_error_set(&why, HS_EDATA, "%s: image '%s': centroids reach (%g, %g) \xC2\xB5m, %g x %g tiles of %g "
                         "\xC2\xB5m, more than %g: check the units", rd->path, esc(show, sizeof show, out->image),
                         im->xmax, im->ymax, fx, fy, rd->tile_um, MAX_TILES);
            if (!(out->error = strdup(why.msg)))
                return hs_error_set(err, HS_ENOMEM, "%s: out of memory", rd->path);
            continue;
        }
        out->map = hs_tilemap_alloc((size_t)fx, (size_t)fy, rd->tile_um);
        if (!out->map)
            return hs_error_set(err, HS_ENOMEM, "%s: image '%s': out of memory for the tile map", rd->path,
                                esc(show_buf, sizeof show_buf, out->image));
        for (size_t c = 0; c < im->n; c++)
            hs_tilemap_add(out->map, im->cell[c].x, im->cell[c].y, im->cell[c].k);
        out->n_cells = im->n;
    }
    return HS_OK;
}

int hs_qupath_read(hs_qupath **out, const char *path, double tile_um, double pixel_um, const char *completeness_col,
                   const hs_her2_params *p, hs_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !path || !p)
        return hs_error_set(err, HS_EINVAL, "hs_qupath_read: NULL argument");
    if (!(tile_um > 0.0) || !isfinite(tile_um))
        return hs_error_set(err, HS_EINVAL, "hs_qupath_read: tile size %g is not a positive number", tile_um);
    if (!(pixel_um >= 0.0) || !isfinite(pixel_um))
        return hs_error_set(err, HS_EINVAL, "hs_qupath_read: pixel size %g is not a non-negative number", pixel_um);
    if (completeness_col && !completeness_col[0])
        return hs_error_set(err, HS_EINVAL, "hs_qupath_read: empty completeness column name");

    char delim = '\t';
    int rc = detect_delim(path, &delim, err);
    if (rc != HS_OK)
        return rc;

    const char *slash = strrchr(path, '/');
    reader rd = {.path = path, .tile_um = tile_um, .pixel_um = pixel_um, .comp_name = completeness_col, .p = p,
                 .c_image = NONE, .c_class = NONE, .c_x = NONE, .c_y = NONE, .c_int = NONE, .c_comp = NONE,
                 .default_name = slash ? slash + 1 : path};
    rd.q = calloc(1, sizeof *rd.q);
    rd.names = hs_strmap_alloc();
    if (!rd.q || !rd.names)
        rc = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    if (rc == HS_OK)
        rc = hs_csv_read(path, delim, on_row, &rd, err);
    if (rc == HS_OK && !rd.seen_header)
        rc = hs_error_set(err, HS_EDATA, "%s:1: empty file: no header line", path);
    if (rc == HS_OK)
        rc = build_maps(&rd, err);
    free_images(rd.img, rd.nimg);
    hs_strmap_free(rd.names);
    if (rd.header)
        for (size_t i = 0; i < rd.nfield; i++)
            free(rd.header[i]);
    free(rd.header);
    if (rc != HS_OK) {
        hs_qupath_free(rd.q);
        return rc;
    }
    *out = rd.q;
    return HS_OK;
}
