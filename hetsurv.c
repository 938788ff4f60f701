/*
 * hetsurv: one binary, table-driven subcommands.
 *
 * main() turns GSL's abort-on-error handler off (every GSL status is checked
 * by the modules), then dispatches on the first argument through cmds[],
 * which also drives `hetsurv help`.  MPI is initialised only by the
 * subcommands that use it.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_version.h>

#include "cli/cli.h"
#include "mpi/version.h"

typedef struct cmd {
    const char *name;
    int (*func)(int argc, char **argv);
    const char *summary;
} cmd;

static int main_help(int argc, char **argv);
static int main_version(int argc, char **argv);

static const cmd cmds[] = {
    {"validate", main_validate, "check a cohort manifest and report every problem"},
    {"survival", main_survival, "Kaplan-Meier, log-rank and Cox regression on a CSV table"},
    {"score", main_score, "score HER2 IHC slides: classes, H-score, ASCO/CAP call, heterogeneity"},
    {"run", main_run, "the cohort run across MPI ranks: slides to DFS and OS evidence, checkpointed"},
    {"submit", main_submit, "submit the cohort run as a Slurm job (sized, requeued past its time limit, or sharded)"},
    {"merge", main_merge, "finish a cohort run measured in shards (a job array): calibrate, classify, analyse"},
    {"plot", main_plot, "redraw a figure (km, forest) from saved results, without recomputing"},
    {"simulate", main_simulate, "write a synthetic cohort: slides with planted truth, manifest, truth table"},
    {"version", main_version, "print the versions of hetsurv and its libraries"},
    {"help", main_help, "list the commands, or show one command's usage"},
};
enum { NCMD = sizeof cmds / sizeof cmds[0] };

static const cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < NCMD; i++)
        if (strcmp(cmds[i].name, name) == 0)
            return &cmds[i];
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "hetsurv %s: HER2 heterogeneity scoring and survival analysis for cohorts\n\n", HS_VERSION);
    fprintf(f, "Usage: hetsurv <command> [options]\n\nCommands:\n");
    for (size_t i = 0; i < NCMD; i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\n`hetsurv help COMMAND` or `hetsurv COMMAND -h` shows a command's options.\n");
}

static int main_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return HS_EXIT_OK;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        printf("Usage: hetsurv help [COMMAND]\n");
        return HS_EXIT_OK;
    }
    const cmd *c = find_cmd(argv[1]);
    if (!c || c->func == main_help) {
        hs_cli_error("help", "no such command: '%s'", argv[1]);
        usage(stderr);
        return HS_EXIT_USAGE;
    }
    char *args[] = {argv[1], "-h", NULL};
    return c->func(2, args);
}

static int main_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("Usage: hetsurv version\n\nPrints hetsurv's version and the libraries it was built against.\n");
        return HS_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "Usage: hetsurv version\n");
        return HS_EXIT_USAGE;
    }
    char mpi[256], hdf5[64];
    hs_version_mpi(mpi, sizeof mpi);
    hs_version_hdf5(hdf5, sizeof hdf5);
    printf("hetsurv %s\n", HS_VERSION);
    printf("MPI     %s\n", mpi);
    printf("HDF5    %s\n", hdf5);
    printf("GSL     %s\n", GSL_VERSION);
    printf("libcsv  %d.%d.%d\n", CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
    return HS_EXIT_OK;
}

/*
 * The commands that score slides allocate large short-lived buffers (a
 * region's planes, tens of MB per thread), and `run` measures each slide in
 * a fresh child process that touches all of that memory for the first time:
 * with 4 KiB pages that is ~15,000 page faults per small slide, measured at
 * 0.25 s of a 0.3 s slide on a 2-core VM.  glibc's malloc asks the kernel
 * for transparent huge pages when the tunable glibc.malloc.hugetlb=1 is set
 * (glibc >= 2.35; it does nothing where THP is off), which cut that cost to
 * 0.04 s; tunables are read only at start-up, so these commands execute
 * themselves again once with it set (HETSURV_REEXEC guards against a loop).
 */
static void use_huge_pages(char **argv)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (getenv("HETSURV_REEXEC") || (t && strstr(t, "glibc.malloc.hugetlb")))
        return;
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s%sglibc.malloc.hugetlb=1", t ? t : "", t && *t ? ":" : "") >= (int)sizeof buf)
        return;
    if (setenv("GLIBC_TUNABLES", buf, 1) != 0 || setenv("HETSURV_REEXEC", "1", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* not possible here: carry on with normal pages */
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return HS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return main_version(1, argv + 1);
    const cmd *c = find_cmd(argv[1]);
    if (c && (c->func == main_run || c->func == main_merge || c->func == main_score))
        use_huge_pages(argv);
    if (!c) {
        hs_cli_error(argv[1], "no such command");
        usage(stderr);
        return HS_EXIT_USAGE;
    }
    return c->func(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    /* A file size limit (ulimit -f) would kill us at the first write beyond it, silently and with a file cut
       short: ignored, that write fails with EFBIG and is reported like a full disk. */
    signal(SIGXFSZ, SIG_IGN);
    /* The analyses allocate and free arrays of n elements one after another: keep freed memory in the
       heap for reuse instead of returning it to the kernel and faulting fresh pages in again. */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
    int status = dispatch(argc, argv);
    /* whatever was printed must have gone out: a full disk or /dev/full is a failure, not exit 0 */
    if (hs_cli_stdout_close() != 0 && status == HS_EXIT_OK)
        status = HS_EXIT_FAIL;
    return status;
}
