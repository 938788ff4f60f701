/*
 * hs_strmap: string-to-id interning (see hs_strmap.h).
 */
#include "hs_strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct hs_strmap {
    char **keys;     /* by id */
    size_t nkeys, keys_cap;
    long *slots;     /* hash table of ids, -1 = empty; size is a power of two */
    size_t nslots;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

hs_strmap *hs_strmap_alloc(void)
{
    hs_strmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nslots = 64;
    m->slots = malloc(m->nslots * sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    memset(m->slots, 0xff, m->nslots * sizeof *m->slots);
    return m;
}

void hs_strmap_free(hs_strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nkeys; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->slots);
    free(m);
}

static size_t find_slot(const hs_strmap *m, const char *s)
{
    size_t mask = m->nslots - 1, i = (size_t)fnv1a(s) & mask;
    while (m->slots[i] >= 0 && strcmp(m->keys[m->slots[i]], s) != 0)
        i = (i + 1) & mask;
    return i;
}

static int rehash(hs_strmap *m)
{
    size_t n = m->nslots * 2;
    long *slots = malloc(n * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0xff, n * sizeof *slots);
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    for (size_t id = 0; id < m->nkeys; id++)
        m->slots[find_slot(m, m->keys[id])] = (long)id;
    return 0;
}

long hs_strmap_intern(hs_strmap *m, const char *s, int add)
{
    size_t i = find_slot(m, s);
    if (m->slots[i] >= 0)
        return m->slots[i];
    if (!add)
        return -1;
    if (m->nkeys == m->keys_cap) {
        size_t cap = m->keys_cap ? 2 * m->keys_cap : 16;
        char **keys = realloc(m->keys, cap * sizeof *keys);
        if (!keys)
            return HS_ENOMEM;
        m->keys = keys;
        m->keys_cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return HS_ENOMEM;
    m->keys[m->nkeys] = copy;
    m->slots[i] = (long)m->nkeys;
    m->nkeys++;
    if (2 * m->nkeys > m->nslots && rehash(m) != 0)
        return HS_ENOMEM; /* the key is stored; the table stays valid at its old size */
    return (long)(m->nkeys - 1);
}

size_t hs_strmap_size(const hs_strmap *m) { return m->nkeys; }

const char *hs_strmap_key(const hs_strmap *m, size_t id) { return id < m->nkeys ? m->keys[id] : NULL; }
