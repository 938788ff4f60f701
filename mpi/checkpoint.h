/*
 * checkpoint: the files under DIR/checkpoint/ that let a cohort run stop at
 * any instant and resume.
 *
 *   run.key        what the measurements depend on: hetsurv's version, the
 *                  SHA-256 of the manifest and control table, every scoring
 *                  parameter (one "key value" per line; threads excluded,
 *                  they do not change a result)
 *   <i>.cells      item i's measured cells (scoring/measured.h)
 *   <i>.meta       item i's verdict, written last: item i is done exactly
 *                  when it exists
 *
 * Every file is written under a temporary name and renamed when complete, so
 * a kill leaves either a whole file or a *.tmp that a resume removes.  No
 * MPI here: rank 0 checks and writes the key, every rank writes its items.
 */
#ifndef HS_CHECKPOINT_H
#define HS_CHECKPOINT_H

#include <stddef.h>

#include "scoring/measured.h"
#include "util/hs_error.h"

/* DIR/checkpoint/<i>.cells and .meta into cells and meta (each `size` bytes).  HS_EINVAL when too long. */
int hs_ckpt_item_paths(const char *dir, size_t i, char *cells, char *meta, size_t size, hs_error *err) HS_RESULT_USED;

/*
 * Loads item i's saved measurement into m (hs_measured_load); a missing or
 * damaged one is a failed slide (m->ok = 0, m->error "its checkpoint is
 * damaged: ...").  HS_OK, or HS_ENOMEM or HS_EINVAL (a path too long),
 * which stop the caller.  Clear m with hs_measured_clear.
 */
int hs_ckpt_load_item(const char *dir, size_t i, hs_measured *m, hs_error *err) HS_RESULT_USED;

/*
 * Removes DIR/checkpoint with everything hetsurv put there (measurements,
 * key, lock files; all = 0: only the lock files, for a checkpoint this
 * process locked but never wrote to), then DIR itself when it is left
 * empty: once what the checkpoint served is complete.  Files of other
 * programs are left, and so are the folders holding them.  HS_EIO (named).
 */
int hs_ckpt_remove(const char *dir, int all, hs_error *err) HS_RESULT_USED;

/*
 * Prepares DIR/checkpoint for a run whose key is `key`:
 *  - resume = 0: a folder holding an earlier run's key is refused (HS_EINVAL,
 *    saying to add --resume or --restart) unless restart = 1, which empties it;
 *  - resume = 1: the stored key must equal `key` (HS_EINVAL naming every
 *    line that changed); a folder without a key starts afresh;
 * then removes left-over *.tmp files and writes the key.  HS_EIO (named).
 */
int hs_ckpt_prepare(const char *dir, const char *key, int resume, int restart, hs_error *err) HS_RESULT_USED;

/*
 * Prepares DIR/checkpoint as hs_ckpt_prepare with resume = 1, except that a
 * stored key other than `key` is no error: the folder is emptied, and what
 * changed goes into changed (size n: "level_mpp was '0.5', now '1'", joined
 * by "; "), which is left empty when the stored key was the same or absent.
 * For a command that simply measures again what it cannot reuse (score).
 */
int hs_ckpt_prepare_renew(const char *dir, const char *key, char *changed, size_t n, hs_error *err) HS_RESULT_USED;

/*
 * Takes DIR/checkpoint/lock, or lock.shard<shard> when shard >= 0 (flock,
 * exclusive, not waiting) so that two runs
 * never write one checkpoint: HS_EINVAL, saying so, when another process
 * holds it.  *fd keeps the lock until hs_ckpt_unlock or the process ends.
 * Where the file system cannot lock (ENOLCK), the run goes on unlocked
 * (*fd = -1) and *warn is set.
 */
int hs_ckpt_lock(const char *dir, int shard, int *fd, int *warn, hs_error *err) HS_RESULT_USED;
void hs_ckpt_unlock(int fd);

/*
 * The ranks other than 0 hold DIR/checkpoint/lock.ranks shared (hs_ckpt_lock_rank; their measuring children
 * inherit it) while they run: killed mpirun, its ranks may go on for a moment.  hs_ckpt_ranks_idle (rank 0 of
 * a new run, holding the run's lock) returns HS_EINVAL, saying to wait, while any rank of an earlier run still
 * holds it, so that no resume measures a slide that a left-over process is still writing.  Where the file
 * system cannot lock, both succeed (*fd = -1).
 */
int hs_ckpt_lock_rank(const char *dir, int *fd, hs_error *err) HS_RESULT_USED;
int hs_ckpt_ranks_idle(const char *dir, hs_error *err) HS_RESULT_USED;

/*
 * Sharded runs (a Slurm job array): shard k measures its share of the items
 * into the same checkpoint, under its own lock (hs_ckpt_lock with shard k,
 * DIR/checkpoint/lock.shard<k>); the merge that follows takes the run's lock.
 *
 * hs_ckpt_prepare_shard: like a resume, the stored key must equal `key`
 * (HS_EINVAL naming the changes), or is written when there is none; nothing
 * is removed, since other shards may be writing.
 * hs_ckpt_shards_idle: HS_EINVAL when a shard still holds its lock.
 */
int hs_ckpt_prepare_shard(const char *dir, const char *key, hs_error *err) HS_RESULT_USED;
int hs_ckpt_shards_idle(const char *dir, hs_error *err) HS_RESULT_USED;

#endif /* HS_CHECKPOINT_H */
