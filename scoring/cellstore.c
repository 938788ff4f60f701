/*
 * cellstore: measured cells of one slide, in memory or in a spill file (see cellstore.h).
 *
 * Record layout (little-endian host order; the file never leaves the run):
 * x_um, y_um (double), area_um2, radius_um (float), nsector (uint16), then
 * max_sectors values each of stain, peak, ostain and opeak (uint16, units of
 * 1/4096 OD; OPEN for the -1 of a sector no cell faces).
 */
#include "cellstore.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define QUANT 4096.0
#define BUF_RECORDS 4096
#define OPEN 65535
#define NARRAY 4

struct hs_cellstore {
    int max_sectors;
    size_t rec_size;
    size_t n;            /* records added */
    FILE *spill;         /* NULL: memory only */
    long start;          /* offset of the first record in the spill file */
    size_t nflushed;     /* records written to the spill file */
    unsigned char *buf;  /* memory: every record; spill: the unwritten tail */
    size_t buf_n, buf_cap;
    int own_spill;       /* attached: the store opened the file and closes it */
};

hs_cellstore *hs_cellstore_alloc(int max_sectors, FILE *spill)
{
    if (max_sectors < 1 || max_sectors > HS_CELL_MAX_SECTORS)
        return NULL;
    hs_cellstore *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max_sectors = max_sectors;
    s->rec_size = 2 * sizeof(double) + 2 * sizeof(float) + sizeof(uint16_t) * (size_t)(1 + NARRAY * max_sectors);
    s->spill = spill;
    s->start = -1;
    return s;
}

void hs_cellstore_free(hs_cellstore *s)
{
    if (!s)
        return;
    if (s->own_spill && s->spill)
        fclose(s->spill);
    free(s->buf);
    free(s);
}

int hs_cellstore_max_sectors(const hs_cellstore *s)
{
    return s->max_sectors;
}

long hs_cellstore_start(const hs_cellstore *s)
{
    return s->spill ? s->start : -1;
}

int hs_cellstore_attach(hs_cellstore **out, const char *path, long start, size_t n, int max_sectors, hs_error *err)
{
    *out = NULL;
    hs_cellstore *s = hs_cellstore_alloc(max_sectors, NULL);
    if (!s)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    if (!(s->spill = fopen(path, "rb"))) {
        int rc = hs_error_set(err, HS_EIO, "%s: %s", path, strerror(errno));
        hs_cellstore_free(s);
        return rc;
    }
    s->own_spill = 1;
    struct stat st;
    if (n == 0 && start < 0)
        start = 0;
    if (start < 0 || fstat(fileno(s->spill), &st) != 0 ||
        (unsigned long long)st.st_size < (unsigned long long)start + (unsigned long long)n * s->rec_size) {
        int rc = hs_error_set(err, HS_EIO, "%s: shorter than its %zu cell records", path, n);
        hs_cellstore_free(s);
        return rc;
    }
    s->start = start;
    s->n = s->nflushed = n;
    *out = s;
    return HS_OK;
}

static int flush(hs_cellstore *s, hs_error *err)
{
    if (!s->spill || !s->buf_n)
        return HS_OK;
    if (s->start < 0) {
        if (fseek(s->spill, 0, SEEK_END) != 0 || (s->start = ftell(s->spill)) < 0)
            return hs_error_set(err, HS_EIO, "cell spill file: %s", strerror(errno));
    } else if (fseek(s->spill, s->start + (long)(s->nflushed * s->rec_size), SEEK_SET) != 0) {
        return hs_error_set(err, HS_EIO, "cell spill file: %s", strerror(errno));
    }
    if (fwrite(s->buf, s->rec_size, s->buf_n, s->spill) != s->buf_n)
        return hs_error_set(err, HS_EIO, "cell spill file: write error: %s", strerror(errno));
    s->nflushed += s->buf_n;
    s->buf_n = 0;
    return HS_OK;
}

static uint16_t quantise(float od)
{
    double v = od * QUANT;
    return (uint16_t)(v <= 0 || isnan(v) ? 0 : v >= OPEN - 1 ? OPEN - 1 : lround(v));
}

int hs_cellstore_add(hs_cellstore *s, double x_um, double y_um, const hs_cell *c, hs_error *err)
{
    if (s->spill && s->buf_n == BUF_RECORDS) {
        int rc = flush(s, err);
        if (rc != HS_OK)
            return rc;
    }
    if (s->buf_n == s->buf_cap) {
        size_t cap = s->buf_cap ? 2 * s->buf_cap : 1024;
        if (s->spill && cap > BUF_RECORDS)
            cap = BUF_RECORDS;
        unsigned char *b = realloc(s->buf, cap * s->rec_size);
        if (!b)
            return hs_error_set(err, HS_ENOMEM, "out of memory storing cells");
        s->buf = b;
        s->buf_cap = cap;
    }
    unsigned char *r = s->buf + s->buf_n * s->rec_size;
    float f[2] = {(float)c->area_um2, (float)c->radius_um};
    uint16_t q[1 + NARRAY * HS_CELL_MAX_SECTORS] = {0};
    int ns = c->nsector < s->max_sectors ? c->nsector : s->max_sectors, m = s->max_sectors;
    q[0] = (uint16_t)(ns < 0 ? 0 : ns);
    for (int k = 0; k < ns; k++) {
        q[1 + k] = quantise(c->stain[k]);
        q[1 + m + k] = quantise(c->peak[k]);
        q[1 + 2 * m + k] = c->opeak[k] < 0 ? OPEN : quantise(c->ostain[k]);
        q[1 + 3 * m + k] = c->opeak[k] < 0 ? OPEN : quantise(c->opeak[k]);
    }
    memcpy(r, &x_um, sizeof x_um);
    memcpy(r + 8, &y_um, sizeof y_um);
    memcpy(r + 16, f, sizeof f);
    memcpy(r + 24, q, sizeof(uint16_t) * (size_t)(1 + NARRAY * s->max_sectors));
    s->buf_n++;
    s->n++;
    return HS_OK;
}

int hs_cellstore_finish(hs_cellstore *s, hs_error *err)
{
    int rc = flush(s, err);
    if (rc == HS_OK && s->spill && fflush(s->spill) != 0)
        rc = hs_error_set(err, HS_EIO, "cell spill file: write error: %s", strerror(errno));
    if (rc == HS_OK && s->spill) { /* everything is in the file: give the buffer back */
        free(s->buf);
        s->buf = NULL;
        s->buf_cap = 0;
    }
    return rc;
}

size_t hs_cellstore_count(const hs_cellstore *s)
{
    return s ? s->n : 0;
}

static int decode(const hs_cellstore *s, const unsigned char *r, int (*fn)(void *, const hs_cellrec *), void *ctx)
{
    hs_cellrec rec;
    float f[2];
    uint16_t q[1 + NARRAY * HS_CELL_MAX_SECTORS];
    int m = s->max_sectors;
    memcpy(&rec.x_um, r, 8);
    memcpy(&rec.y_um, r + 8, 8);
    memcpy(f, r + 16, sizeof f);
    memcpy(q, r + 24, sizeof(uint16_t) * (size_t)(1 + NARRAY * m));
    rec.area_um2 = f[0];
    rec.radius_um = f[1];
    rec.nsector = q[0] > s->max_sectors ? s->max_sectors : q[0];
    for (int k = 0; k < rec.nsector; k++) {
        rec.stain[k] = (float)(q[1 + k] / QUANT);
        rec.peak[k] = (float)(q[1 + m + k] / QUANT);
        rec.ostain[k] = q[1 + 2 * m + k] == OPEN ? -1.0f : (float)(q[1 + 2 * m + k] / QUANT);
        rec.opeak[k] = q[1 + 3 * m + k] == OPEN ? -1.0f : (float)(q[1 + 3 * m + k] / QUANT);
    }
    return fn(ctx, &rec);
}

int hs_cellstore_read(const hs_cellstore *s, int (*fn)(void *ctx, const hs_cellrec *r), void *ctx, hs_error *err)
{
    size_t done = 0;
    if (s->spill && s->nflushed) {
        unsigned char *chunk = malloc(BUF_RECORDS * s->rec_size);
        if (!chunk)
            return hs_error_set(err, HS_ENOMEM, "out of memory reading cells");
        if (fseek(s->spill, s->start, SEEK_SET) != 0) {
            free(chunk);
            return hs_error_set(err, HS_EIO, "cell spill file: %s", strerror(errno));
        }
        while (done < s->nflushed) {
            size_t want = s->nflushed - done < BUF_RECORDS ? s->nflushed - done : BUF_RECORDS;
            if (fread(chunk, s->rec_size, want, s->spill) != want) {
                free(chunk);
                return hs_error_set(err, HS_EIO, "cell spill file: read error");
            }
            for (size_t i = 0; i < want; i++) {
                int rc = decode(s, chunk + i * s->rec_size, fn, ctx);
                if (rc) {
                    free(chunk);
                    return rc;
                }
            }
            done += want;
        }
        free(chunk);
    }
    for (size_t i = 0; i < s->buf_n; i++) {
        int rc = decode(s, s->buf + i * s->rec_size, fn, ctx);
        if (rc)
            return rc;
    }
    return HS_OK;
}
