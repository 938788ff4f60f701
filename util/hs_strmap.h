/*
 * hs_strmap: interning of strings to dense integer ids (0, 1, 2, ... in order
 * of first appearance), for factor levels and duplicate detection.  Open
 * addressing with FNV-1a hashing; the map owns copies of its strings.
 */
#ifndef HS_STRMAP_H
#define HS_STRMAP_H

#include <stddef.h>

#include "hs_error.h"

typedef struct hs_strmap hs_strmap;

/* A new empty map, or NULL when out of memory. Free with hs_strmap_free. */
hs_strmap *hs_strmap_alloc(void);
void hs_strmap_free(hs_strmap *m);

/*
 * Looks s up; when absent and add != 0, inserts a copy with the next id.
 * Returns the id (>= 0), -1 when absent and add == 0, or HS_ENOMEM (< -1).
 */
long hs_strmap_intern(hs_strmap *m, const char *s, int add);

/* Number of distinct strings, and the string with a given id (owned by the map). */
size_t hs_strmap_size(const hs_strmap *m);
const char *hs_strmap_key(const hs_strmap *m, size_t id);

#endif /* HS_STRMAP_H */
