/*
 * jobscript: the Slurm batch script of a cohort run, as `hetsurv submit`
 * writes it into the run's folder, and the shell quoting that keeps every
 * user string literal in it.
 *
 * A script is a header (#SBATCH lines and the run's arguments as literal
 * single-quoted words) followed by one fixed body, the same as in the
 * template slurm/hetsurv.sbatch.  The body launches hetsurv with
 * `srun --mpi=pmix` (Debian's Open MPI has no PMI-1/2 support) or, where srun
 * has no pmix plugin, with mpirun, and says which in the job log; it always
 * passes --resume, so a requeued or resubmitted job continues from the
 * checkpoint; on the warning before the time limit (SIGTERM, asked with
 * --signal=B:TERM@N) it stops the ranks at a consistent checkpoint and
 * requeues the job while it is still running, at most max_requeues times;
 * after a user's scancel (the job is then no longer RUNNING) it only stops.
 */
#ifndef HS_JOBSCRIPT_H
#define HS_JOBSCRIPT_H

#include <stddef.h>
#include <stdio.h>

#include "util/hs_error.h"

typedef struct hs_jobscript {
    const char *hetsurv;          /* absolute path of the binary the job runs */
    const char *command;          /* "run", or "merge" for the job that merges shards */
    int shards;                   /* > 0: a job array task: run --shard $SLURM_ARRAY_TASK_ID/shards */
    const char *job_name;
    int ntasks;
    const char *time;             /* Slurm time: [D-]HH:MM:SS */
    const char *mem_per_cpu;      /* e.g. "1024M" */
    const char *partition;        /* NULL: the cluster's default */
    const char *account;          /* NULL: none */
    const char *output;           /* the job log's file pattern, or NULL (then given on sbatch's command line) */
    int signal_before;            /* seconds before the time limit for the warning signal */
    int max_requeues;
    const char *const *args;      /* MANIFEST DIR [hetsurv run options] */
    size_t nargs;
    const char *const *sbatch;    /* the sbatch options it is submitted with, recorded in a comment */
    size_t nsbatch;
} hs_jobscript;

/* The fixed body of every script (and of slurm/hetsurv.sbatch after its marker line). */
extern const char hs_jobscript_body[];

/* The line that starts the body. */
#define HS_JOBSCRIPT_MARKER "# ---- hetsurv job body: the same in every script hetsurv submit writes ----"

/*
 * Writes the script.  HS_EINVAL when a value that goes into an #SBATCH line
 * (job name, partition, account, time, memory, output) holds a character
 * that sbatch would split or expand there (hs_sbatch_safe).
 */
int hs_jobscript_write(FILE *f, const hs_jobscript *j, hs_error *err) HS_RESULT_USED;

/* Writes s as one bash word, single-quoted ('\'' for each quote), literal whatever it holds. */
void hs_shell_quote(FILE *f, const char *s);

/* Whether s may stand in an #SBATCH line as it is: letters, digits and . _ - : / % + = @ , only. */
int hs_sbatch_safe(const char *s);

#endif /* HS_JOBSCRIPT_H */
