/*
 * hetsurv submit: a cohort run as a Slurm job.  Checks the manifest and the
 * options as `run` would, sizes the request from the slides' headers when
 * the user gives no size (slurm/estimate.h), writes the job script into the
 * run's folder (slurm/jobscript.h) and submits it with sbatch, run without a
 * shell; with --array K, a job array of K shards and a merge job that
 * depends on it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_opts.h"
#include "cohorts/manifest.h"
#include "slurm/estimate.h"
#include "slurm/jobscript.h"
#include "util/hs_atomic.h"

#define CMD "submit"

enum {
    O_NTASKS = 0x1200, O_TIME, O_PARTITION, O_ACCOUNT, O_MEM, O_ARRAY, O_DRY, O_REQUEUES, O_SIGNAL, O_NAME
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: hetsurv submit MANIFEST.csv --out DIR [--ntasks N] [--time HH:MM:SS] [--partition P]\n"
            "                      [--account A] [--mem-per-cpu M] [--array K] [--dry-run] [run options]\n"
            "                      [-- extra sbatch options]\n"
            "\n"
            "Submits the cohort run (`hetsurv run`) as a Slurm job.  Checks the manifest and the options first,\n"
            "writes the job script into DIR (DIR/hetsurv.sbatch; with --array, DIR/hetsurv-shards.sbatch and\n"
            "DIR/hetsurv-merge.sbatch), submits it with sbatch and prints the job id and how to follow it.\n"
            "The job runs `srun --mpi=pmix hetsurv run ... --resume` (mpirun where srun cannot launch Open\n"
            "MPI), asks Slurm for SIGTERM before its time limit, checkpoints on it and requeues itself to\n"
            "continue, at most --max-requeues times.  Without --ntasks and --time the request is sized from\n"
            "the slides' headers and the measured cost per megapixel, and the estimate is printed.\n"
            "\n"
            "Options:\n"
            "  --out DIR             the run's output folder (created), where the job script and logs go\n"
            "  --ntasks N            MPI ranks (default: sized from the cohort)\n"
            "  --time [D-]HH:MM:SS   time limit (default: sized from the cohort)\n"
            "  --partition P         partition\n"
            "  --account A           account\n"
            "  --mem-per-cpu M       memory per rank, Slurm units (1024M)\n"
            "  --job-name NAME       (hetsurv)\n"
            "  --array K             split the cohort into K shards run as a job array, each with --ntasks\n"
            "                        ranks, and a merge job after them (--dependency=afterok) that\n"
            "                        calibrates, classifies and analyses once: results identical to one run\n"
            "  --max-requeues R      how many times a job may requeue itself past its time limit (10)\n"
            "  --signal-before S     seconds before the time limit for the checkpoint signal (120)\n"
            "  --dry-run             write the job script(s) and print the sbatch command; submit nothing\n"
            "  -h, --help            show this help\n"
            "Options after -- go to sbatch as they are.\n"
            "\n");
    hs_run_opts_help(f);
    fputc('\n', f);
    hs_score_opts_help(f);
}

/* A growing list of strings (borrowed or owned, all freed with the list when owned). */
typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static int push(strv *l, const char *s)
{
    if (l->n + 1 >= l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **t = realloc(l->v, cap * sizeof *t);
        if (!t)
            return -1;
        l->v = t;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->v[++l->n] = NULL;
    return 0;
}

static void strv_free(strv *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->v[k]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* An absolute path for path (which must exist), or NULL with errno. */
static char *absolute(const char *path)
{
    return realpath(path, NULL);
}

/* Runs sbatch with args (no shell); its job id (the first field of --parsable's output) into id. */
static int sbatch(char *const *args, char *id, size_t size, hs_error *err)
{
    int fd[2];
    if (pipe(fd) != 0)
        return hs_error_set(err, HS_EIO, "cannot run sbatch: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return hs_error_set(err, HS_EIO, "cannot run sbatch: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execvp(args[0], args);
        fprintf(stderr, "hetsurv " CMD ": cannot run %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    char out[512];
    size_t n = 0;
    ssize_t k;
    while ((k = read(fd[0], out + n, sizeof out - 1 - n)) > 0 || (k < 0 && errno == EINTR))
        if (k > 0)
            n += (size_t)k;
    out[n] = '\0';
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return hs_error_set(err, HS_EIO, "sbatch failed (exit %d)%s%s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                            n ? ": " : "", out);
    out[strcspn(out, ";\n")] = '\0';
    if (!*out)
        return hs_error_set(err, HS_EIO, "sbatch printed no job id");
    snprintf(id, size, "%.60s", out);
    return HS_OK;
}

/* Writes one job script into path (executable). */
static int write_script(const char *path, const hs_jobscript *j, hs_error *err)
{
    char *tmp;
    FILE *f = hs_atomic_open(path, "w", &tmp, err);
    if (!f)
        return err->code;
    int rc = hs_jobscript_write(f, j, err);
    if (rc != HS_OK) {
        hs_atomic_abort(f, tmp);
        return rc;
    }
    fchmod(fileno(f), 0755);
    return hs_atomic_commit(f, tmp, path, err);
}

/* Prints an argv as a shell command line, each word quoted where it needs it. */
static void print_command(FILE *f, char *const *args)
{
    for (size_t k = 0; args[k]; k++) {
        if (k)
            fputc(' ', f);
        if (hs_sbatch_safe(args[k]))
            fputs(args[k], f);
        else
            hs_shell_quote(f, args[k]);
    }
    fputc('\n', f);
}

typedef struct submit {
    hs_run_opts ro;
    int ntasks, array, dry, max_requeues, signal_before;
    long time_s;
    const char *partition, *account, *mem, *name;
    strv pass;     /* the run options, as the job gets them */
    strv extra;    /* sbatch options after -- */
} submit;

/* Reads the manifest (rank-0 checks, as run does) and sizes the request; prints the estimate. */
static int size_request(submit *s, const char *manifest, hs_error *err)
{
    hs_manifest *m = NULL;
    size_t nfactor = 0;
    char **factors = hs_cli_list(s->ro.factors, &nfactor);
    if (!factors)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    int rc = hs_manifest_read(&m, manifest, (const char *const *)factors, nfactor, 0, err);
    hs_cli_list_free(factors);
    if (rc != HS_OK)
        return rc;
    if (m->nerror) {
        hs_manifest_report(stderr, m);
        rc = hs_error_set(err, HS_EDATA, "%s: invalid manifest (%zu error%s): nothing submitted", manifest, m->nerror,
                          m->nerror == 1 ? "" : "s");
        hs_manifest_free(m);
        return rc;
    }
    const char **paths = malloc((m->npatient ? m->npatient : 1) * sizeof *paths);
    if (!paths) {
        hs_manifest_free(m);
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->npatient; i++)
        paths[i] = m->patient[i].slide_path;
    hs_estimate e;
    int asked_tasks = s->ntasks > 0, asked_time = s->time_s > 0;
    rc = hs_estimate_slides(paths, m->npatient, s->ro.score.score.target_mpp, s->ro.score.score.mpp_override, 200, &e,
                            err);
    free(paths);
    hs_manifest_free(m);
    if (rc != HS_OK)
        return rc;
    /* a job array's shards each take a share; the tasks and time are per shard */
    hs_estimate per = e;
    if (s->array > 1) {
        per.cpu_s = e.cpu_s / s->array;
        per.nslides = (e.nslides + (size_t)s->array - 1) / (size_t)s->array;
    }
    hs_estimate_request(&per, &s->ntasks, &s->time_s);
    char t[32];
    hs_estimate_time_text(s->time_s, t, sizeof t);
    fprintf(stderr,
            "hetsurv " CMD ": %zu slides, %.0f megapixels to score (%s%zu slide headers read, %zu unreadable), about "
            "%.0f CPU-seconds at %.3f CPU-s per megapixel; the largest slide about %.2g s\n",
            e.nslides, e.mpx_total, e.nread < e.nslides ? "estimated from " : "", e.nread, e.nunreadable, e.cpu_s,
            HS_EST_CPU_S_PER_MPX, e.cpu_s_max);
    fprintf(stderr, "hetsurv " CMD ": request%s: %d task%s (%s), time %s (%s)\n", s->array > 1 ? " per shard" : "",
            s->ntasks, s->ntasks == 1 ? "" : "s", asked_tasks ? "given" : "sized", t, asked_time ? "given" : "sized");
    return HS_OK;
}

int main_submit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"ntasks", required_argument, NULL, O_NTASKS},     {"time", required_argument, NULL, O_TIME},
        {"partition", required_argument, NULL, O_PARTITION}, {"account", required_argument, NULL, O_ACCOUNT},
        {"mem-per-cpu", required_argument, NULL, O_MEM},   {"array", required_argument, NULL, O_ARRAY},
        {"dry-run", no_argument, NULL, O_DRY},             {"max-requeues", required_argument, NULL, O_REQUEUES},
        {"signal-before", required_argument, NULL, O_SIGNAL}, {"job-name", required_argument, NULL, O_NAME},
        {"help", no_argument, NULL, 'h'},                  HS_RUN_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    submit s;
    memset(&s, 0, sizeof s);
    hs_run_opts_default(&s.ro);
    s.max_requeues = 10;
    s.signal_before = 120;
    s.mem = "1024M";
    s.name = "hetsurv";
    hs_error err;
    /* what follows -- goes to sbatch */
    int nopt = argc;
    for (int k = 1; k < argc; k++)
        if (!strcmp(argv[k], "--")) {
            nopt = k;
            break;
        }
    int status = HS_EXIT_FAIL, c, li = -1;
    char *manifest = NULL, *out = NULL, *self = NULL;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(nopt, argv, "hq", longopts, &li)) != -1) {
        double v;
        switch (c) {
        case 'h': usage(stdout); return HS_EXIT_OK;
        case O_NTASKS:
            if (hs_cli_double(optarg, &v) != 0 || v < 1 || v > 1e6 || v != (int)v)
                return hs_cli_misuse(CMD, usage, "--ntasks must be a whole number >= 1, not '%s'", optarg);
            s.ntasks = (int)v;
            break;
        case O_TIME:
            if ((s.time_s = hs_estimate_time_parse(optarg)) <= 0)
                return hs_cli_misuse(CMD, usage, "--time must be [D-]HH:MM:SS (or MM, MM:SS), not '%s'", optarg);
            break;
        case O_PARTITION: s.partition = optarg; break;
        case O_ACCOUNT: s.account = optarg; break;
        case O_MEM: s.mem = optarg; break;
        case O_NAME: s.name = optarg; break;
        case O_DRY: s.dry = 1; break;
        case O_ARRAY:
            if (hs_cli_double(optarg, &v) != 0 || v < 1 || v > 1000 || v != (int)v)
                return hs_cli_misuse(CMD, usage, "--array must be a whole number 1..1000, not '%s'", optarg);
            s.array = (int)v;
            break;
        case O_REQUEUES:
            if (hs_cli_double(optarg, &v) != 0 || v < 0 || v > 1000 || v != (int)v)
                return hs_cli_misuse(CMD, usage, "--max-requeues must be a whole number 0..1000, not '%s'", optarg);
            s.max_requeues = (int)v;
            break;
        case O_SIGNAL:
            if (hs_cli_double(optarg, &v) != 0 || v < 1 || v > 65535 || v != (int)v)
                return hs_cli_misuse(CMD, usage, "--signal-before must be a whole number of seconds, not '%s'", optarg);
            s.signal_before = (int)v;
            break;
        default: {
            int k = c == '?' ? 0 : hs_run_opts_parse(&s.ro, c, optarg, &err);
            if (k < 0)
                return hs_cli_misuse(CMD, usage, "%s", err.msg);
            if (k == 0)
                return hs_cli_misuse(CMD, usage, "unknown or incomplete option '%s'", argv[optind - 1]);
            if (c == HS_ROPT_RESUME || c == HS_ROPT_RESTART || c == HS_ROPT_SHARD)
                return hs_cli_misuse(CMD, usage, "%s", c == HS_ROPT_SHARD ? "submit shards with --array K"
                                                                          : "a job resumes from its checkpoint by itself: "
                                                                            "no --resume or --restart");
            if (c == HS_ROPT_OUT)
                break;
            /* the run option as the job will get it: --name [value] */
            const char *name = c == 'q' ? "quiet" : li >= 0 ? longopts[li].name : "";
            char opt[64];
            snprintf(opt, sizeof opt, "--%s", name);
            int bad = push(&s.pass, opt) != 0;
            if (optarg && c == HS_SOPT_CONTROLS) {
                char *a = absolute(optarg);
                if (!a)
                    return hs_cli_misuse(CMD, usage, "--controls %s: %s", optarg, strerror(errno));
                bad |= push(&s.pass, a) != 0;
                free(a);
            } else if (optarg) {
                bad |= push(&s.pass, optarg) != 0;
            }
            if (bad) {
                hs_cli_error(CMD, "out of memory");
                strv_free(&s.pass);
                return HS_EXIT_FAIL;
            }
        }
        }
        li = -1;
    }
    if (optind != nopt - 1) {
        strv_free(&s.pass);
        return hs_cli_misuse(CMD, usage, "%s", optind >= nopt ? "no manifest given" : "exactly one manifest expected");
    }
    if (!s.ro.cfg.out || hs_run_opts_check(&s.ro, 0, &err) != HS_OK) {
        strv_free(&s.pass);
        return hs_cli_misuse(CMD, usage, "%s", s.ro.cfg.out ? err.msg : "--out DIR is required");
    }
    for (int k = nopt + 1; k < argc; k++)
        if (push(&s.extra, argv[k]) != 0) {
            hs_cli_error(CMD, "out of memory");
            goto done;
        }
    if (hs_cli_mkdirs(s.ro.cfg.out) != 0) {
        hs_cli_error(CMD, "%s: cannot create the output folder: %s", s.ro.cfg.out, strerror(errno));
        goto done;
    }
    if (!(manifest = absolute(argv[optind]))) {
        hs_cli_error(CMD, "%s: %s", argv[optind], strerror(errno));
        goto done;
    }
    if (!(out = absolute(s.ro.cfg.out)) || !(self = absolute("/proc/self/exe"))) {
        hs_cli_error(CMD, "%s: %s", out ? "/proc/self/exe" : s.ro.cfg.out, strerror(errno));
        goto done;
    }
    if (size_request(&s, manifest, &err) != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
        goto done;
    }
    /* the job's arguments: MANIFEST DIR, then the run options */
    strv args = {0};
    int bad = push(&args, manifest) || push(&args, out);
    for (size_t k = 0; k < s.pass.n && !bad; k++)
        bad = push(&args, s.pass.v[k]);
    char time[32], log1[4200], logk[4200], script[4200], merge_script[4200];
    hs_estimate_time_text(s.time_s, time, sizeof time);
    snprintf(log1, sizeof log1, "%s/slurm-%%j.out", out);
    snprintf(logk, sizeof logk, "%s/slurm-%%A_%%a.out", out);
    snprintf(script, sizeof script, "%s/%s", out, s.array ? "hetsurv-shards.sbatch" : "hetsurv.sbatch");
    snprintf(merge_script, sizeof merge_script, "%s/hetsurv-merge.sbatch", out);
    /* the sbatch command line: the log goes into the script when sbatch can read it there, else here */
    int log_in_script = hs_sbatch_safe(log1);
    strv cmd = {0}, mcmd = {0};
    bad = bad || push(&cmd, "sbatch") || push(&cmd, "--parsable");
    if (!log_in_script) {
        char o[4300];
        snprintf(o, sizeof o, "--output=%s", s.array ? logk : log1);
        bad = bad || push(&cmd, o);
    }
    for (size_t k = 0; k < s.extra.n && !bad; k++)
        bad = push(&cmd, s.extra.v[k]);
    bad = bad || push(&mcmd, "sbatch") || push(&mcmd, "--parsable");
    if (!log_in_script) {
        char o[4300];
        snprintf(o, sizeof o, "--output=%s", log1);
        bad = bad || push(&mcmd, o);
    }
    for (size_t k = 0; k < s.extra.n && !bad; k++)
        bad = push(&mcmd, s.extra.v[k]);
    if (bad) {
        hs_cli_error(CMD, "out of memory");
        strv_free(&args);
        strv_free(&cmd);
        strv_free(&mcmd);
        goto done;
    }
    hs_jobscript j = {self, "run", s.array, s.name, s.ntasks, time, s.mem, s.partition, s.account,
                      log_in_script ? (s.array ? logk : log1) : NULL, s.signal_before, s.max_requeues,
                      (const char *const *)args.v, args.n, (const char *const *)cmd.v + 2, cmd.n - 2};
    int rc = write_script(script, &j, &err);
    if (rc == HS_OK && s.array) {
        hs_jobscript m = j;
        m.command = "merge";
        m.shards = 0;
        m.output = log_in_script ? log1 : NULL;
        m.sbatch = (const char *const *)mcmd.v + 2;
        m.nsbatch = mcmd.n - 2;
        rc = write_script(merge_script, &m, &err);
    }
    if (rc != HS_OK) {
        hs_cli_error(CMD, "%s", err.msg);
    } else if (s.dry) {
        printf("hetsurv " CMD ": job script written to %s%s%s; submit it with:\n  ", script, s.array ? " and " : "",
               s.array ? merge_script : "");
        push(&cmd, script);
        print_command(stdout, cmd.v);
        if (s.array) {
            printf("and then, with JOBID the array's job id:\n  ");
            push(&mcmd, "--dependency=afterok:JOBID");
            push(&mcmd, "--kill-on-invalid-dep=yes");
            push(&mcmd, merge_script);
            print_command(stdout, mcmd.v);
        }
        status = HS_EXIT_OK;
    } else {
        char id[64], mid[64];
        if (push(&cmd, script) == 0 && (rc = sbatch(cmd.v, id, sizeof id, &err)) == HS_OK) {
            if (s.array) {
                char dep[128];
                snprintf(dep, sizeof dep, "--dependency=afterok:%s", id);
                /* a shard that fails would leave the merge job pending forever: Slurm cancels it instead */
                if (push(&mcmd, dep) || push(&mcmd, "--kill-on-invalid-dep=yes") || push(&mcmd, merge_script))
                    rc = hs_error_set(&err, HS_ENOMEM, "out of memory");
                if (rc == HS_OK)
                    rc = sbatch(mcmd.v, mid, sizeof mid, &err);
                if (rc == HS_OK)
                    printf("hetsurv " CMD ": submitted array job %s (%d shards of %d task%s, %s each) and merge job %s "
                           "(after every shard succeeds; cancelled if one fails)\n  follow: squeue -j %s,%s; logs: %s/slurm-%s_*.out and "
                           "%s/slurm-%s.out\n  cancel: scancel %s %s (the checkpoint stays: resubmit the scripts "
                           "in %s to finish)\n  results: %s\n",
                           id, s.array, s.ntasks, s.ntasks == 1 ? "" : "s", time, mid, id, mid, out, id, out, mid, id,
                           mid, out, out);
            } else {
                printf("hetsurv " CMD ": submitted job %s (%d task%s, %s)\n  follow: squeue -j %s; tail -f "
                       "%s/slurm-%s.out\n  cancel: scancel %s (the checkpoint stays: sbatch %s finishes it)\n"
                       "  results: %s\n",
                       id, s.ntasks, s.ntasks == 1 ? "" : "s", time, id, out, id, id, script, out);
            }
        }
        if (rc != HS_OK)
            hs_cli_error(CMD, "%s", err.msg);
        else
            status = HS_EXIT_OK;
    }
    strv_free(&args);
    strv_free(&cmd);
    strv_free(&mcmd);
done:
    free(manifest);
    free(out);
    free(self);
    strv_free(&s.pass);
    strv_free(&s.extra);
    return status;
}
