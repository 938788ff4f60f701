/*
 * survorder: stable radix ordering and dense ranks (see survorder.h).
 *
 * The sort is a least-significant-digit radix sort on 11-bit digits that
 * skips the digits on which all keys agree, so keys that are dense ranks of a
 * million rows cost two passes.
 */
#include "stats/survorder.h"

#include <stdlib.h>
#include <string.h>

#define DIGIT_BITS 11u
#define NDIGIT ((64u + DIGIT_BITS - 1) / DIGIT_BITS)
#define NDIGIT_VALUES (1u << DIGIT_BITS)
#define DIGIT_MASK ((UINT64_C(1) << DIGIT_BITS) - 1)

uint64_t hs_survorder_key(double x)
{
    uint64_t u;
    if (x == 0.0)
        x = 0.0; /* fold -0.0 onto +0.0 */
    memcpy(&u, &x, sizeof u);
    /* negative: flip all bits; positive: flip the sign bit */
    return (u & UINT64_C(0x8000000000000000)) ? ~u : (u | UINT64_C(0x8000000000000000));
}

int hs_survorder_stable(size_t *ord, size_t n, const uint64_t *key, hs_error *err)
{
    if (n < 2)
        return HS_OK;
    uint64_t *k = malloc(2 * n * sizeof *k);
    size_t *ix = malloc(n * sizeof *ix);
    size_t(*count)[NDIGIT_VALUES] = calloc(NDIGIT, sizeof *count);
    if (!k || !ix || !count) {
        free(k);
        free(ix);
        free(count);
        return hs_error_set(err, HS_ENOMEM, "survorder: cannot allocate sort scratch for %zu rows", n);
    }
    /* gather the keys and histogram every digit in one pass */
    uint64_t *ka = k, *kb = k + n;
    size_t *ia = ord, *ib = ix;
    for (size_t i = 0; i < n; i++) {
        const uint64_t v = key[ord[i]];
        ka[i] = v;
        for (unsigned d = 0; d < NDIGIT; d++)
            count[d][(v >> (d * DIGIT_BITS)) & DIGIT_MASK]++;
    }
    for (unsigned d = 0; d < NDIGIT; d++) {
        const unsigned shift = d * DIGIT_BITS;
        size_t *c = count[d];
        if (c[(ka[0] >> shift) & DIGIT_MASK] == n)
            continue; /* every key has the same digit here */
        size_t pos = 0;
        for (size_t v = 0; v < NDIGIT_VALUES; v++) {
            const size_t cv = c[v];
            c[v] = pos;
            pos += cv;
        }
        for (size_t i = 0; i < n; i++) {
            const size_t at = c[(ka[i] >> shift) & DIGIT_MASK]++;
            kb[at] = ka[i];
            ib[at] = ia[i];
        }
        uint64_t *kt = ka;
        ka = kb;
        kb = kt;
        size_t *it = ia;
        ia = ib;
        ib = it;
    }
    if (ia != ord)
        memcpy(ord, ia, n * sizeof *ord);
    free(k);
    free(ix);
    free(count);
    return HS_OK;
}

int hs_survorder_rank(const double *x, size_t n, size_t *ord, size_t *rank, size_t *nuniq, hs_error *err)
{
    if (nuniq)
        *nuniq = 0;
    if (n == 0)
        return HS_OK;
    uint64_t *key = malloc(n * sizeof *key);
    if (!key)
        return hs_error_set(err, HS_ENOMEM, "survorder: cannot allocate %zu keys", n);
    for (size_t i = 0; i < n; i++) {
        key[i] = hs_survorder_key(x[i]);
        ord[i] = i;
    }
    int rc = hs_survorder_stable(ord, n, key, err);
    if (rc == HS_OK) {
        size_t r = 0;
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && key[ord[i]] != key[ord[i - 1]])
                r++;
            if (rank)
                rank[ord[i]] = r;
        }
        if (nuniq)
            *nuniq = r + 1;
    }
    free(key);
    return rc;
}
