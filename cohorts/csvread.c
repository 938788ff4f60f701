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
    long field_line;   /* line on which the current field started */
    int at_start;      /* between records */
    size_t index;
} reader;

/* The error for a field of more than HS_CSV_MAX_FIELD bytes, the col-th of its record, starting on line. */
static int field_too_long(reader *rd, size_t col, long line)
{
    return hs_error_set(rd->err, HS_EDATA, "%s:%ld:%zu: a field longer than %ld bytes (a quote never closed?)",
                        rd->path, line, col, HS_CSV_MAX_FIELD);
}

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
    if (rd->nfield >= HS_CSV_MAX_FIELDS) {
        rd->status = hs_error_set(rd->err, HS_EDATA, "%s:%ld:%zu: more than %d fields in one record: not a table "
                                  "hetsurv reads (at most %d columns)", rd->path, rd->rec_line, rd->nfield + 1,
                                  HS_CSV_MAX_FIELDS, HS_CSV_MAX_FIELDS);
        return;
    }
    if (rd->index == 0 && n > HS_CSV_MAX_NAME) {
        char show[64];
        hs_err_escape(show, sizeof show, data, n);
        rd->status = hs_error_set(rd->err, HS_EDATA, "%s:%ld:%zu: a column name of %zu bytes (at most %d): '%s'",
                                  rd->path, rd->rec_line, rd->nfield + 1, n, HS_CSV_MAX_NAME, show);
        return;
    }
    if (n > (size_t)HS_CSV_MAX_FIELD) {
        rd->status = field_too_long(rd, rd->nfield + 1, rd->field_line);
        return;
    }
    if (rd->index == 0 && n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        rd->status = hs_error_set(rd->err, HS_EDATA, "%s:%ld:%zu: the column name starts with a byte-order mark "
                                  "(EF BB BF): text saved as UTF-8 twice or files joined; save the file as UTF-8 "
                                  "with at most one at its start", rd->path, rd->rec_line, rd->nfield + 1);
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
    rd->field_line = rd->line; /* the next field starts after the delimiter, on this line */
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

/*
 * The message for libcsv's refusal of the byte at s[at] of the line s[0..n-1]
 * (strict mode): said in the user's terms, with the place in the line and the
 * text around it.
 */
static int parse_error(struct csv_parser *p, reader *rd, const char *s, size_t n, size_t at)
{
    int e = csv_error(p);
    if (e == CSV_ENOMEM)
        return hs_error_set(rd->err, HS_ENOMEM, "%s:%ld: out of memory reading a record", rd->path, rd->line);
    if (e == CSV_ETOOBIG)
        return field_too_long(rd, rd->nfield + 1, rd->field_line);
    size_t from = at > 12 ? at - 12 : 0, to = at + 12 < n ? at + 12 : n;
    while (to > from && (s[to - 1] == '\n' || s[to - 1] == '\r'))
        to--;
    char near[80];
    hs_err_escape(near, sizeof near, s + from, to - from);
    const char *what = p->quoted ? "text after the closing quote of a quoted field (a quote inside a quoted field "
                                   "is written twice: \"a \"\"b\"\" c\")"
                                 : "a quote inside an unquoted field (quote the whole field and write the quote "
                                   "twice: \"a \"\"b\"\" c\")";
    return hs_error_set(rd->err, HS_EDATA, "%s:%ld:%zu: malformed CSV: %s, at byte %zu of the line, near: %s%s%s",
                        rd->path, rd->line, rd->nfield + 1, what, at + 1, from ? "..." : "", near,
                        to < n && s[to] != '\n' && s[to] != '\r' ? "..." : "");
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
        rd->rec_line = rd->field_line = rd->line;
        rd->at_start = 0;
    }
    size_t used = csv_parse(p, s, n, on_field, on_record, rd);
    if (used != n && !rd->status)
        rd->status = parse_error(p, rd, s, n, used);
    /* a field still open (a quoted field across lines) is bounded too, before it takes the whole file */
    if (!rd->status && p->entry_pos > (size_t)HS_CSV_MAX_FIELD)
        rd->status = field_too_long(rd, rd->nfield + 1, rd->field_line);
    if (n && s[n - 1] == '\n')
        rd->line++;
    return rd->status;
}

/*
 * The start of the file, after one UTF-8 byte-order mark: refuses, saying so,
 * a second mark and UTF-16 text (a UTF-16 mark, or NUL bytes between the
 * characters), which would otherwise read as a header without its columns.
 */
static int check_encoding(const char *path, const char *s, size_t n, hs_error *err)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n >= 3 && memcmp(u, "\xEF\xBB\xBF", 3) == 0)
        return hs_error_set(err, HS_EDATA, "%s:1: a second byte-order mark (EF BB BF EF BB BF) at the start of the "
                            "header: the file was marked as UTF-8 twice; save it as UTF-8 again (one mark at most)",
                            path);
    if (n >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return hs_error_set(err, HS_EDATA, "%s:1: the header is UTF-16 (byte-order mark %02X %02X); save it as UTF-8",
                            path, u[0], u[1]);
    if (n >= 4 && ((u[0] && !u[1] && u[2] && !u[3]) || (!u[0] && u[1] && !u[2] && u[3])))
        return hs_error_set(err, HS_EDATA, "%s:1: the header is UTF-16 (a NUL byte between its characters, "
                            "%s-endian); save it as UTF-8", path, u[0] ? "little" : "big");
    return HS_OK;
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
                 .field_line = first_line, .at_start = 1, .index = range ? range->first_index : 0};
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
            if ((rd.status = check_encoding(path, s, n, err)) != HS_OK)
                break;
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
        rd.status = hs_error_set(err, HS_EDATA, "%s:%ld:%zu: malformed CSV: unterminated quoted field starting at "
                                 "line %ld (its closing quote is missing before the end of the file)", path,
                                 rd.field_line, rd.nfield + 1, rd.field_line);
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
