/*
 * survorder: the orderings that the survival modules share.
 *
 * Both sort a million rows by composite keys (stratum, time, status, score)
 * and need dense ranks of times and scores.  This module supplies a stable
 * O(n) radix sort of an index permutation by 64-bit keys (chain calls, least
 * significant key first, to sort by several keys), an order-preserving map
 * from doubles to such keys, and dense ranking.  Everything is deterministic.
 * R's timefix (stats/timefix.h) orders its times with it too.
 */
#ifndef HS_SURVORDER_H
#define HS_SURVORDER_H

#include <stddef.h>
#include <stdint.h>

#include "util/hs_error.h"

/*
 * Order-preserving key of a non-NaN double: a < b iff key(a) < key(b);
 * -0.0 and +0.0 share a key; -INFINITY and INFINITY are the extremes.
 */
uint64_t hs_survorder_key(double x);

/*
 * Reorders ord[0..n) stably so that key[ord[i]] is non-decreasing (key is
 * indexed by the values stored in ord, which must be < the length of key).
 * Works in O(n) time with O(n) scratch.  Fails only with HS_ENOMEM, leaving
 * ord unchanged.
 */
int hs_survorder_stable(size_t *ord, size_t n, const uint64_t *key, hs_error *err) HS_RESULT_USED;

/*
 * Dense ranks of the non-NaN values x[0..n): ord[0..n) receives the rows in
 * ascending order of x (ties in row order), rank[i] (if rank is not NULL) the
 * 0-based dense rank of x[i] (-0.0 and 0.0 tie), and *nuniq (if not NULL) the
 * number of distinct values.  Fails only with HS_ENOMEM.
 */
int hs_survorder_rank(const double *x, size_t n, size_t *ord, size_t *rank, size_t *nuniq,
                      hs_error *err) HS_RESULT_USED;

#endif /* HS_SURVORDER_H */
