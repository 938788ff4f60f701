/*
 * Unit tests of slurm/: Slurm time strings both ways, the characters an
 * #SBATCH line may hold, the shell quoting of user strings (read back by
 * bash), the request sized from an estimate, and the job script's header
 * and body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurm/estimate.h"
#include "slurm/jobscript.h"
#include "suites.h"

static void test_time(void)
{
    CU_ASSERT_EQUAL(hs_estimate_time_parse("90"), 90 * 60);
    CU_ASSERT_EQUAL(hs_estimate_time_parse("90:30"), 90 * 60 + 30);
    CU_ASSERT_EQUAL(hs_estimate_time_parse("01:02:03"), 3723);
    CU_ASSERT_EQUAL(hs_estimate_time_parse("2-03"), 2 * 86400 + 3 * 3600);
    CU_ASSERT_EQUAL(hs_estimate_time_parse("2-03:04"), 2 * 86400 + 3 * 3600 + 4 * 60);
    CU_ASSERT_EQUAL(hs_estimate_time_parse("1-00:00:05"), 86405);
    CU_ASSERT_EQUAL(hs_estimate_time_parse(""), -1);
    CU_ASSERT_EQUAL(hs_estimate_time_parse("1:2:3:4"), -1);
    CU_ASSERT_EQUAL(hs_estimate_time_parse("1h"), -1);
    CU_ASSERT_EQUAL(hs_estimate_time_parse("-5"), -1);
    char b[32];
    hs_estimate_time_text(3723, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "01:02:03");
    hs_estimate_time_text(86405, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "1-00:00:05");
}

static void test_safe_and_quote(void)
{
    CU_ASSERT(hs_sbatch_safe("gpu-long_2"));
    CU_ASSERT(hs_sbatch_safe("/scratch/u1/run-%j.out"));
    CU_ASSERT(!hs_sbatch_safe("a b"));
    CU_ASSERT(!hs_sbatch_safe("x;rm"));
    CU_ASSERT(!hs_sbatch_safe("$(id)"));
    CU_ASSERT(!hs_sbatch_safe(""));
    /* what bash reads back from the quoted word is the string itself */
    const char *nasty = "a b'c\"d $(touch /tmp/hs-pwned); `id` \\ \n ;&|<>*?";
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    fputs("printf %s ", f);
    hs_shell_quote(f, nasty);
    fclose(f);
    FILE *p = popen("bash -s", "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char out[] = "/tmp/hetsurv-quote-XXXXXX";
    int fd = mkstemp(out);
    CU_ASSERT_FATAL(fd >= 0);
    fprintf(p, "%s > %s\n", s, out);
    CU_ASSERT_EQUAL(pclose(p), 0);
    char got[256] = "";
    FILE *r = fdopen(fd, "r");
    size_t k = fread(got, 1, sizeof got - 1, r);
    got[k] = '\0';
    fclose(r);
    remove(out);
    CU_ASSERT_STRING_EQUAL(got, nasty);
    CU_ASSERT_PTR_NULL(fopen("/tmp/hs-pwned", "r"));
    free(s);
}

static void test_request(void)
{
    hs_estimate e;
    memset(&e, 0, sizeof e);
    e.nslides = 1000;
    e.cpu_s = 36000; /* 10 CPU-hours */
    e.cpu_s_max = 100;
    int t = 0;
    long s = 0;
    hs_estimate_request(&e, &t, &s);
    CU_ASSERT_EQUAL(t, 15); /* 1.5 x 10 h in one hour */
    CU_ASSERT_EQUAL(s, 4380); /* 1.5 x (36000 / 15 + 100) + 600 = 4350 s, rounded up to whole minutes */
    t = 4;
    s = 0;
    hs_estimate_request(&e, &t, &s);
    CU_ASSERT_EQUAL(s, (long)(((1.5 * (9000 + 100) + 600) + 59) / 60) * 60);
    t = 0;
    s = 2 * 3600;
    hs_estimate_request(&e, &t, &s);
    CU_ASSERT_EQUAL(s, 7200);
    CU_ASSERT_EQUAL(t, 9); /* 1.5 x 36000 / (7200 - 600 - 150) = 8.4 */
    /* never more tasks than slides */
    e.nslides = 3;
    t = 0;
    s = 0;
    hs_estimate_request(&e, &t, &s);
    CU_ASSERT_EQUAL(t, 3);
}

static void test_script(void)
{
    const char *args[] = {"/data/man ifest.csv", "/out", "--adjust", "age"};
    const char *sb[] = {"--qos=high"};
    hs_jobscript j = {"/opt/hetsurv", "run", 3, "hs", 2, "01:00:00", "1024M", "debug", NULL, "/out/s-%A_%a.out", 90, 5,
                      args, 4, sb, 1};
    char *s = NULL;
    size_t n = 0;
    hs_error e;
    FILE *f = open_memstream(&s, &n);
    CU_ASSERT_EQUAL(hs_jobscript_write(f, &j, &e), HS_OK);
    fclose(f);
    CU_ASSERT(strncmp(s, "#!/bin/bash\n", 12) == 0);
    CU_ASSERT(strstr(s, "#SBATCH --ntasks=2\n") != NULL);
    CU_ASSERT(strstr(s, "#SBATCH --time=01:00:00\n") != NULL);
    CU_ASSERT(strstr(s, "#SBATCH --partition=debug\n") != NULL);
    CU_ASSERT(strstr(s, "#SBATCH --array=0-2\n") != NULL);
    CU_ASSERT(strstr(s, "#SBATCH --signal=B:TERM@90\n#SBATCH --requeue\n") != NULL);
    CU_ASSERT(strstr(s, "shards=3\nmax_requeues=5\n") != NULL);
    CU_ASSERT(strstr(s, "set -- '/data/man ifest.csv' '/out' '--adjust' \\\n    'age'\n") != NULL);
    CU_ASSERT(strstr(s, "#   sbatch '--qos=high' THIS_FILE") != NULL);
    CU_ASSERT(strstr(s, hs_jobscript_body) != NULL);
    CU_ASSERT(strstr(s, "--account") == NULL);
    free(s);
    /* a value sbatch would split in an #SBATCH line is refused */
    j.partition = "my part";
    f = open_memstream(&s, &n);
    CU_ASSERT_EQUAL(hs_jobscript_write(f, &j, &e), HS_EINVAL);
    fclose(f);
    free(s);
    CU_ASSERT(strstr(e.msg, "--partition 'my part'") != NULL);
}

int hs_suite_slurm(void)
{
    CU_pSuite s = CU_add_suite("slurm", NULL, NULL);
    if (!s)
        return 1;
    if (!CU_add_test(s, "Slurm times both ways", test_time) ||
        !CU_add_test(s, "#SBATCH-safe values; quoting read back by bash", test_safe_and_quote) ||
        !CU_add_test(s, "the request sized from an estimate", test_request) ||
        !CU_add_test(s, "the job script: header, arguments, body; unsafe values refused", test_script))
        return 1;
    return 0;
}
