/*
 * hs_mem: growing arrays.
 */
#ifndef HS_MEM_H
#define HS_MEM_H

#include <stddef.h>

#include "hs_error.h"

/*
 * Makes the array *p of *cap elements of elem bytes hold at least need
 * elements, doubling from first_cap (or the current capacity).  On success
 * *p and *cap are updated and 0 is returned; on failure both are unchanged
 * and HS_ENOMEM is returned.
 */
int hs_reserve(void **p, size_t *cap, size_t need, size_t elem, size_t first_cap) HS_RESULT_USED;

#endif /* HS_MEM_H */
