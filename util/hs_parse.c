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

hs_cell hs_parse_double(const char *s, double *out)
{
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
