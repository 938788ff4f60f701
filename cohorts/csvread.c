/*
 * csvread: libcsv-driven streaming reader (see csvread.h).
 *
 * The file is read in blocks and fed to libcsv one physical line at a time, so
 * the reader always knows the line it is on: a record starts on the first
 * non-blank line fed after the previous record ended.  Fields are copied into
 * one growing buffer per record; pointers into it are fixed up when the record
 * is complete.
 */
#include "csvread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <csv.h>

#include "util/hs_mem.h"

typedef struct reader {
    const char *path;
    hs_csv_row_fn fn;
    void *ctx;
    hs_error *err;
    int status;        /* first failure; once set, further records are ignored */
    char *buf;         /* field bytes of the current record, each NUL-terminated */
    size_t buf_len, buf_cap;
    size_t *off;       /* offset of each field in buf */
    size_t *len;
    const char **ptr;
    size_t nfield, field_cap;
    long line;         /* line being fed */
    long rec_line;     /* line on which the current record started */
    int at_start;      /* between records */
    size_t index;
} reader;

static void on_field(void *data, size_t n, void *rd_)
{
    reader *rd = rd_;
    if (rd->status)
        return;
    /* a NUL byte would silently end the field for every reader after this one ("5\0002.57" read as 5) */
    const char *nul = n ? memchr(data, '\0', n) : NULL;
    if (nul) {
        rd->status = hs_error_set(rd->err, HS_EDATA,
                                  "%s:%ld:%zu: a NUL byte inside the field (at its byte %zu): the file is damaged "
                                  "or not text",
                                  rd->path, rd->rec_line, rd->nfield + 1, (size_t)(nul - (const char *)data) + 1);
        return;
    }
    if (rd->nfield == rd->field_cap) {
        size_t cap = rd->field_cap ? 2 * rd->field_cap : 16;
        size_t *off = realloc(rd->off, cap * sizeof *off);
        if (off)
            rd->off = off;
        size_t *len = off ? realloc(rd->len, cap * sizeof *len) : NULL;
        if (len)
            rd->len = len;
        const char **ptr = len ? realloc(rd->ptr, cap * sizeof *ptr) : NULL;
        if (ptr) {
            rd->ptr = ptr;
            rd->field_cap = cap;
        }
    }
    if (rd->nfield == rd->field_cap || hs_reserve((void **)&rd->buf, &rd->buf_cap, rd->buf_len + n + 1, 1, 256)) {
        rd->status = hs_error_set(rd->err, HS_ENOMEM, "%s:%ld: out of memory reading a record", rd->path,
                                  rd->rec_line);
        return;
    }
    rd->off[rd->nfield] = rd->buf_len;
    rd->len[rd->nfield] = n;
    if (n)
        memcpy(rd->buf + rd->buf_len, data, n);
    rd->buf[rd->buf_len + n] = '\0';
    rd->buf_len += n + 1;
    rd->nfield++;
}

static void on_record(int term, void *rd_)
{
    reader *rd = rd_;
    (void)term;
    if (!rd->status) {
        for (size_t i = 0; i < rd->nfield; i++)
            rd->ptr[i] = rd->buf + rd->off[i];
        hs_csv_row row = {rd->nfield, rd->ptr, rd->len, rd->rec_line, rd->index};
        int rc = rd->fn(rd->ctx, &row, rd->err);
        if (rc != HS_OK)
            rd->status = rc;
    }
    rd->index++;
    rd->nfield = 0;
    rd->buf_len = 0;
    rd->at_start = 1;
}

/* A line libcsv skips without a record: only blanks and line ends (unquoted blanks are trimmed). */
static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* Feeds one physical line (ending in '\n', or the file's unterminated tail). */
static int feed_line(struct csv_parser *p, reader *rd, const char *s, size_t n)
{
    if (rd->at_start && !blank(s, n)) {
        rd->rec_line = rd->line;
        rd->at_start = 0;
    }
    if (csv_parse(p, s, n, on_field, on_record, rd) != n && !rd->status)
        rd->status = hs_error_set(rd->err, HS_EDATA, "%s:%ld: malformed CSV: a quote inside an unquoted field or "
                                  "text after a closing quote (%s)", rd->path, rd->line, csv_strerror(csv_error(p)));
    if (n && s[n - 1] == '\n')
        rd->line++;
    return rd->status;
}

int hs_csv_read_range(const char *path, char delim, const hs_csv_range *range, hs_csv_row_fn fn, void *ctx,
                      hs_error *err)
{
    if (!path || !fn)
        return hs_error_set(err, HS_EINVAL, "hs_csv_read: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: cannot open: %s", path, strerror(errno));
    long long start = range ? range->start : 0, end = range ? range->end : -1;
    if (start > 0 && fseeko(f, (off_t)start, SEEK_SET) != 0) {
        fclose(f);
        return hs_error_set(err, HS_EIO, "%s: cannot seek: %s", path, strerror(errno));
    }

    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        fclose(f);
        return hs_error_set(err, HS_ENOMEM, "%s: cannot initialise the CSV parser", path);
    }
    csv_set_delim(&p, (unsigned char)delim);
    csv_set_blk_size(&p, 1 << 16); /* libcsv's default 128-byte growth is quadratic on long fields */

    long first_line = range ? range->first_line : 1;
    reader rd = {.path = path, .fn = fn, .ctx = ctx, .err = err, .line = first_line, .rec_line = first_line,
                 .at_start = 1, .index = range ? range->first_index : 0};
    enum { BLOCK = 1 << 20 };
    /* a small file gets a block of its size: a 1-MiB buffer costs more than reading a small table (30x under ASan) */
    struct stat st;
    size_t bsize = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size < BLOCK ? (size_t)st.st_size + 1
                                                                                           : (size_t)BLOCK;
    char *block = malloc(bsize);
    char *carry = NULL; /* a line split across blocks */
    size_t carry_len = 0, carry_cap = 0;
    int first = start == 0;
    long long left = end < 0 ? -1 : end - start;
    if (!block)
        rd.status = hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);

    while (!rd.status && left != 0) {
        size_t want = left < 0 || left > (long long)bsize ? bsize : (size_t)left;
        size_t got = fread(block, 1, want, f);
        if (got == 0) {
            if (ferror(f))
                rd.status = hs_error_set(err, HS_EIO, "%s:%ld: read error: %s", path, rd.line, strerror(errno));
            break;
        }
        if (left > 0)
            left -= (long long)got;
        const char *s = block;
        size_t n = got;
        if (first) {
            first = 0;
            if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
                s += 3;
                n -= 3;
            }
        }
        while (n && !rd.status) {
            const char *nl = memchr(s, '\n', n);
            size_t seg = nl ? (size_t)(nl - s) + 1 : n;
            if (!nl || carry_len) {
                /* Assemble a line that spans blocks before feeding it whole. */
                if (hs_reserve((void **)&carry, &carry_cap, carry_len + seg, 1, 256)) {
                    rd.status = hs_error_set(err, HS_ENOMEM, "%s:%ld: out of memory", path, rd.line);
                    break;
                }
                memcpy(carry + carry_len, s, seg);
                carry_len += seg;
                if (nl) {
                    feed_line(&p, &rd, carry, carry_len);
                    carry_len = 0;
                }
            } else {
                feed_line(&p, &rd, s, seg);
            }
            s += seg;
            n -= seg;
        }
    }
    if (!rd.status && carry_len)
        feed_line(&p, &rd, carry, carry_len);
    if (!rd.status && csv_fini(&p, on_field, on_record, &rd) != 0 && !rd.status)
        rd.status = hs_error_set(err, HS_EDATA, "%s:%ld: malformed CSV: quoted field not closed before the end of "
                                 "the file (%s)", path, rd.rec_line, csv_strerror(csv_error(&p)));
    csv_free(&p);
    fclose(f);
    free(block);
    free(carry);
    free(rd.buf);
    free(rd.off);
    free(rd.len);
    free(rd.ptr);
    return rd.status;
}

int hs_csv_read(const char *path, char delim, hs_csv_row_fn fn, void *ctx, hs_error *err)
{
    return hs_csv_read_range(path, delim, NULL, fn, ctx, err);
}

int hs_csv_split(const char *path, size_t parts, hs_csv_range *range, size_t *nrange, hs_error *err)
{
    *nrange = 1;
    range[0] = (hs_csv_range){0, -1, 1, 0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return hs_error_set(err, HS_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (parts < 2 || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return HS_OK;
    }
    enum { BLOCK = 1 << 20 };
    char *block = malloc(BLOCK);
    if (!block) {
        fclose(f);
        return hs_error_set(err, HS_ENOMEM, "%s: out of memory", path);
    }
    /* One pass over the file: give up at the first quote (a quoted field may hold a newline); note the
       end of the header line and, for each part, the first line end at or after its share of the rest. */
    long long size = st.st_size, pos = 0, header_end = -1, next_cut = -1;
    long line = 1;
    size_t k = 0; /* data ranges started */
    int usable = 1;
    size_t got;
    while (usable && (got = fread(block, 1, BLOCK, f)) > 0) {
        if (memchr(block, '"', got)) {
            usable = 0;
            break;
        }
        for (const char *q = block, *e = block + got; (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++) {
            long long after = pos + (q - block) + 1;
            line++;
            if (after >= size)
                break;
            if (header_end < 0) {
                if (after == 1 || (after == 2 && block[0] == '\r')) {
                    usable = 0; /* a blank first line: the header is further down */
                    break;
                }
                header_end = after;
                range[0].end = after;
                range[1] = (hs_csv_range){after, -1, line, 1};
                k = 1;
                next_cut = after + (size - after) / (long long)parts;
            } else if (k < parts && after >= next_cut) {
                range[k].end = after;
                range[k + 1] = (hs_csv_range){after, -1, line, (size_t)(line - 1)};
                k++;
                next_cut = header_end + (long long)k * ((size - header_end) / (long long)parts);
            }
        }
        pos += (long long)got;
    }
    int bad = ferror(f);
    free(block);
    fclose(f);
    if (bad)
        return hs_error_set(err, HS_EIO, "%s: read error", path);
    if (!usable || k < 2) {
        range[0] = (hs_csv_range){0, -1, 1, 0};
        return HS_OK;
    }
    *nrange = k + 1;
    return HS_OK;
}
