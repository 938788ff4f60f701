/*
 * hs_parse: cell parsing and R-compatible number printing (see hs_parse.h).
 */
#include "hs_parse.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return n;
}

int hs_is_missing(const char *s)
{
    s = skip_blank(s);
    size_t n = trimmed_len(s);
    return n == 0 || (n == 2 && strncmp(s, "NA", 2) == 0) || (n == 3 && strncmp(s, "NaN", 3) == 0);
}

/*
 * Clinger's fast path: a decimal with at most 15 significant digits and at
 * most 22 after the point is m / 10^k with m and 10^k exact doubles, so one
 * correctly rounded division gives exactly what strtod gives.  Returns 0 when
 * the text needs the general path.
 */
static int fast_decimal(const char *s, size_t n, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    int neg = 0, digits = 0, frac = -1;
    unsigned long long m = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == n)
        return 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (frac >= 0)
                return 0;
            frac = 0;
            continue;
        }
        if (c < '0' || c > '9')
            return 0;
        if (m || c != '0')
            digits++;
        if (digits > 15)
            return 0;
        m = m * 10 + (unsigned long long)(c - '0');
        if (frac >= 0 && ++frac > 22)
            return 0;
    }
    if (frac == 0 && n - (neg || s[0] == '+') == 1) /* a lone "." */
        return 0;
    double v = (double)m;
    if (frac > 0)
        v /= pow10[frac];
    *out = neg ? -v : v;
    return 1;
}

hs_cell_kind hs_parse_double(const char *s, double *out)
{
    /* the common case first: a plain decimal, with no blanks around it */
    if ((*s >= '0' && *s <= '9') || *s == '-' || *s == '.') {
        size_t n = strlen(s);
        if (n && s[n - 1] >= '0' && s[n - 1] <= '9' && fast_decimal(s, n, out))
            return HS_CELL_NUMBER;
    }
    if (hs_is_missing(s)) {
        *out = NAN;
        return HS_CELL_MISSING;
    }
    s = skip_blank(s);
    size_t n = trimmed_len(s);
    const char *body = (*s == '-' || *s == '+') ? s + 1 : s;
    size_t bn = n - (size_t)(body - s);
    if ((bn == 3 && strncasecmp(body, "inf", 3) == 0) || (bn == 8 && strncasecmp(body, "infinity", 8) == 0)) {
        *out = *s == '-' ? -INFINITY : INFINITY;
        return HS_CELL_NUMBER;
    }
    /* strtod also takes hex floats and "nan(...)": allow only digits, sign, '.', exponent. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isdigit(c) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E')
            return HS_CELL_TEXT;
    }
    if (fast_decimal(s, n, out))
        return HS_CELL_NUMBER;
    char *end;
    double v = strtod(s, &end);
    if (end == s || (size_t)(end - s) != n)
        return HS_CELL_TEXT;
    *out = v;
    return HS_CELL_NUMBER;
}

int hs_fprint_double(FILE *f, double x)
{
    if (isnan(x))
        return fputs("NA", f);
    if (isinf(x))
        return fputs(x > 0 ? "Inf" : "-Inf", f);
    return fprintf(f, "%.17g", x);
}

int hs_fprint_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return fputs(s, f);
    int rc = fputc('"', f);
    for (; *s && rc != EOF; s++)
        rc = (*s == '"' && fputc('"', f) == EOF) ? EOF : fputc(*s, f);
    return rc == EOF ? EOF : fputc('"', f);
}
