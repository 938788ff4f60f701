/*
 * jobscript: the Slurm batch script of a cohort run (see jobscript.h).
 */
#include "jobscript.h"

#include <string.h>

const char hs_jobscript_body[] =
    HS_JOBSCRIPT_MARKER "\n"
    "# Arguments: MANIFEST.csv DIR [hetsurv run options].  Runs hetsurv on the allocation with srun (pmix) or,\n"
    "# where srun cannot launch Open MPI, mpirun.  Always --resume: a requeued or resubmitted job continues\n"
    "# from DIR/checkpoint.  The warning before the time limit (SIGTERM, --signal=B:TERM@N) stops the ranks at a\n"
    "# consistent checkpoint (hetsurv exits 3) and the job requeues itself while it still runs, at most\n"
    "# max_requeues times; after scancel (the job no longer RUNNING) it only stops.\n"
    "if [ $# -lt 2 ]; then\n"
    "    echo \"usage: sbatch hetsurv.sbatch MANIFEST.csv DIR [hetsurv run options]\" >&2\n"
    "    exit 1\n"
    "fi\n"
    "manifest=$1\n"
    "out=$2\n"
    "shift 2\n"
    "args=(\"$command\" \"$manifest\" --out \"$out\" --resume \"$@\")\n"
    "if [ -n \"$shards\" ]; then\n"
    "    args+=(--shard \"${SLURM_ARRAY_TASK_ID:?a sharded script runs as a job array}/$shards\")\n"
    "fi\n"
    "restart=${SLURM_RESTART_COUNT:-0}\n"
    "echo \"hetsurv job ${SLURM_JOB_ID:-?}${SLURM_ARRAY_TASK_ID:+ (array task $SLURM_ARRAY_TASK_ID)}:\" \\\n"
    "    \"$(date -u '+%Y-%m-%d %H:%M:%S UTC'), start $((restart + 1)) of at most $((max_requeues + 1)),\" \\\n"
    "    \"${SLURM_NTASKS:-1} task(s): hetsurv ${args[*]}\"\n"
    "if srun --mpi=list 2>&1 | grep -qw pmix; then\n"
    "    launch=(srun --mpi=pmix)\n"
    "else\n"
    "    echo \"hetsurv job: srun cannot launch Open MPI here (no pmix plugin): using mpirun\"\n"
    "    if [ \"$(id -u)\" -eq 0 ]; then\n"
    "        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"
    "    fi\n"
    "    launch=(mpirun -np \"${SLURM_NTASKS:-1}\")\n"
    "fi\n"
    "# The ranks must get SIGTERM themselves: srun answers a TERM by killing its tasks, and mpirun reports its\n"
    "# own status instead of theirs; so Slurm signals srun's tasks, or the shell signals mpirun's ranks.\n"
    "pid=\n"
    "stopping=\n"
    "stop_ranks() {\n"
    "    [ -n \"$stopping\" ] && return\n"
    "    stopping=1\n"
    "    echo \"hetsurv job: SIGTERM: stopping at a consistent checkpoint\"\n"
    "    if [ \"${launch[0]}\" = srun ]; then\n"
    "        scancel -s TERM \"$SLURM_JOB_ID\" 2>/dev/null\n"
    "    elif [ -n \"$pid\" ]; then\n"
    "        pkill -TERM -P \"$pid\" 2>/dev/null\n"
    "    fi\n"
    "}\n"
    "trap stop_ranks TERM\n"
    "\"${launch[@]}\" \"$hetsurv\" \"${args[@]}\" &\n"
    "pid=$!\n"
    "# wait returns early when the trap runs: wait again until the launcher has ended\n"
    "while :; do\n"
    "    wait \"$pid\"\n"
    "    rc=$?\n"
    "    kill -0 \"$pid\" 2>/dev/null || break\n"
    "done\n"
    "if [ \"$rc\" -gt 128 ]; then\n"
    "    wait \"$pid\" 2>/dev/null\n"
    "    last=$?\n"
    "    [ \"$last\" -ne 127 ] && rc=$last\n"
    "fi\n"
    "if [ \"$rc\" -eq 3 ]; then\n"
    "    state=$(scontrol show job \"$SLURM_JOB_ID\" -o 2>/dev/null | sed -n 's/.* JobState=\\([A-Z_]*\\).*/\\1/p')\n"
    "    if [ \"$state\" = RUNNING ] && [ \"$restart\" -lt \"$max_requeues\" ]; then\n"
    "        echo \"hetsurv job: stopped before the time limit: requeued to continue from the checkpoint\"\n"
    "        scontrol requeue \"$SLURM_JOB_ID\" && exit 0\n"
    "        echo \"hetsurv job: scontrol requeue failed\"\n"
    "    fi\n"
    "    echo \"hetsurv job: stopped (job ${state:-unknown}, start $((restart + 1))); the checkpoint is consistent:\" \\\n"
    "        \"resubmit this script to finish\"\n"
    "fi\n"
    "exit \"$rc\"\n";

void hs_shell_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

int hs_sbatch_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._-:/%+=@,", c)))
            return 0;
    }
    return 1;
}

/* An #SBATCH line for a value that must be safe there. */
static int sbatch_line(FILE *f, const char *opt, const char *v, hs_error *err)
{
    if (!hs_sbatch_safe(v))
        return hs_error_set(err, HS_EINVAL,
                            "--%s '%s': only letters, digits and . _ - : / %% + = @ , can go into a job script's "
                            "#SBATCH line",
                            opt, v);
    fprintf(f, "#SBATCH --%s=%s\n", opt, v);
    return HS_OK;
}

int hs_jobscript_write(FILE *f, const hs_jobscript *j, hs_error *err)
{
    fprintf(f, "#!/bin/bash\n");
    fprintf(f, "# A hetsurv %s job, written by `hetsurv submit`%s.  Resubmit it with:\n#   sbatch", j->command,
            j->shards ? " (one task of a job array)" : "");
    for (size_t k = 0; k < j->nsbatch; k++) {
        fputc(' ', f);
        hs_shell_quote(f, j->sbatch[k]);
    }
    fputs(" THIS_FILE\n", f);
    int rc = sbatch_line(f, "job-name", j->job_name, err);
    fprintf(f, "#SBATCH --ntasks=%d\n", j->ntasks);
    if (rc == HS_OK)
        rc = sbatch_line(f, "time", j->time, err);
    if (rc == HS_OK)
        rc = sbatch_line(f, "mem-per-cpu", j->mem_per_cpu, err);
    if (rc == HS_OK && j->partition)
        rc = sbatch_line(f, "partition", j->partition, err);
    if (rc == HS_OK && j->account)
        rc = sbatch_line(f, "account", j->account, err);
    if (rc == HS_OK && j->output)
        rc = sbatch_line(f, "output", j->output, err);
    if (rc != HS_OK)
        return rc;
    if (j->shards)
        fprintf(f, "#SBATCH --array=0-%d\n", j->shards - 1);
    fprintf(f, "#SBATCH --signal=B:TERM@%d\n#SBATCH --requeue\n#SBATCH --open-mode=append\n", j->signal_before);
    fputs("hetsurv=", f);
    hs_shell_quote(f, j->hetsurv);
    fprintf(f, "\ncommand=%s\nshards=%s", j->command, j->shards ? "" : "\n");
    if (j->shards)
        fprintf(f, "%d\n", j->shards);
    fprintf(f, "max_requeues=%d\nset --", j->max_requeues);
    for (size_t k = 0; k < j->nargs; k++) {
        fputs(k % 4 == 3 ? " \\\n    " : " ", f);
        hs_shell_quote(f, j->args[k]);
    }
    fputc('\n', f);
    fputs(hs_jobscript_body, f);
    return ferror(f) ? hs_error_set(err, HS_EIO, "cannot write the job script") : HS_OK;
}
