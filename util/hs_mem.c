/*
 * hs_mem: growing arrays (see hs_mem.h).
 */
#include "hs_mem.h"

#include <stdint.h>
#include <stdlib.h>

int hs_reserve(void **p, size_t *cap, size_t need, size_t elem, size_t first_cap)
{
    if (need <= *cap)
        return HS_OK;
    size_t n = *cap ? *cap : (first_cap ? first_cap : 16);
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return HS_ENOMEM;
        n *= 2;
    }
    if (elem && n > SIZE_MAX / elem)
        return HS_ENOMEM;
    void *q = realloc(*p, n * elem);
    if (!q)
        return HS_ENOMEM;
    *p = q;
    *cap = n;
    return HS_OK;
}
