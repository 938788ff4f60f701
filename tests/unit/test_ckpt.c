/*
 * Unit tests of the pieces of the cohort run that need no MPI:
 * mpi/checkpoint (the run key: a fresh folder, a refused second run, resume
 * with the same key and with changed lines named, restart), util/hs_sha256
 * (FIPS 180-2 test vectors), scoring/scorerow (the text of an error row and
 * of a scored row, numbers as %.17g that read back exactly) and the names of
 * tile maps in results.h5.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mpi/checkpoint.h"
#include "mpi/h5out.h"
#include "scoring/scorerow.h"
#include "suites.h"
#include "tmpfiles.h"
#include "util/hs_sha256.h"

static char *dir;

static int suite_init(void)
{
    return hs_test_suite_init(&dir);
}

static int suite_clean(void)
{
    return hs_test_suite_clean(&dir);
}

static int exists(const char *name)
{
    char *p = hs_test_path(dir, name);
    FILE *f = p ? fopen(p, "r") : NULL;
    if (f)
        fclose(f);
    free(p);
    return f != NULL;
}

static void test_key(void)
{
    hs_error e;
    const char *key = "hetsurv 0.1.0\nmanifest_sha256 aaa\nthresholds 0.2,0.4,0.6\ntile_um 256\n";
    char *out = hs_test_path(dir, "run1");
    CU_ASSERT_FATAL(out != NULL);
    CU_ASSERT_EQUAL_FATAL(mkdir(out, 0777), 0);
    CU_ASSERT_EQUAL(hs_ckpt_prepare(out, key, 0, 0, &e), HS_OK);
    CU_ASSERT(exists("run1/checkpoint/run.key"));
    /* a second run into the same folder must say what to do */
    CU_ASSERT_EQUAL(hs_ckpt_prepare(out, key, 0, 0, &e), HS_EINVAL);
    CU_ASSERT(strstr(e.msg, "--resume") && strstr(e.msg, "--restart"));
    /* resume: items and left-over temporary files */
    char *m = hs_test_write(out, "checkpoint/0.meta", "x", 1), *t = hs_test_write(out, "checkpoint/1.cells.tmp", "x", 1);
    free(m);
    free(t);
    CU_ASSERT_EQUAL(hs_ckpt_prepare(out, key, 1, 0, &e), HS_OK);
    CU_ASSERT(exists("run1/checkpoint/0.meta"));
    CU_ASSERT(!exists("run1/checkpoint/1.cells.tmp"));
    /* a changed key: every changed line named, with both values */
    const char *key2 = "hetsurv 0.1.0\nmanifest_sha256 bbb\nthresholds 0.2,0.4,0.6\ncalibration fixed\n";
    CU_ASSERT_EQUAL(hs_ckpt_prepare(out, key2, 1, 0, &e), HS_EINVAL);
    CU_ASSERT(strstr(e.msg, "manifest_sha256 was 'aaa', now 'bbb'") != NULL);
    CU_ASSERT(strstr(e.msg, "calibration was '(none)', now 'fixed'") != NULL);
    CU_ASSERT(strstr(e.msg, "tile_um was '256', now '(none)'") != NULL);
    CU_ASSERT(strstr(e.msg, "thresholds") == NULL);
    CU_ASSERT(exists("run1/checkpoint/0.meta"));
    /* restart: the items go, the new key is written */
    CU_ASSERT_EQUAL(hs_ckpt_prepare(out, key2, 0, 1, &e), HS_OK);
    CU_ASSERT(!exists("run1/checkpoint/0.meta"));
    CU_ASSERT_EQUAL(hs_ckpt_prepare(out, key2, 1, 0, &e), HS_OK);
    char cells[64], meta[64];
    CU_ASSERT_EQUAL(hs_ckpt_item_paths("D", 12, cells, meta, sizeof cells, &e), HS_OK);
    CU_ASSERT_STRING_EQUAL(cells, "D/checkpoint/12.cells");
    CU_ASSERT_STRING_EQUAL(meta, "D/checkpoint/12.meta");
    CU_ASSERT_EQUAL(hs_ckpt_item_paths("a-long-folder-name", 12, cells, meta, 16, &e), HS_EINVAL);
    free(out);
}

static void test_sha256(void)
{
    char hex[HS_SHA256_HEX];
    hs_error e;
    char *p = hs_test_write(dir, "abc.txt", "abc", HS_TEST_STRLEN);
    CU_ASSERT_EQUAL(hs_sha256_file(p, hex, &e), HS_OK);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    free(p);
    p = hs_test_write(dir, "two.txt", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", HS_TEST_STRLEN);
    CU_ASSERT_EQUAL(hs_sha256_file(p, hex, &e), HS_OK);
    CU_ASSERT_STRING_EQUAL(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    free(p);
    p = hs_test_write(dir, "empty.txt", "", 0);
    CU_ASSERT_EQUAL(hs_sha256_file(p, hex, &e), HS_OK);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(p);
    p = hs_test_path(dir, "missing.txt");
    CU_ASSERT_EQUAL(hs_sha256_file(p, hex, &e), HS_EIO);
    CU_ASSERT(strstr(e.msg, "missing.txt") != NULL);
    free(p);
}

/* The row as text, joined by commas as the CSV writer writes it. */
static char *row_csv(const hs_score_row *r)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    hs_score_row_write(f, r);
    fclose(f);
    return s;
}

static void test_scorerow(void)
{
    hs_score_row r;
    hs_score_row_init(&r);
    hs_score_row_fail(&r, "slides/a.tif: no such file, \"really\"");
    char *s = row_csv(&r);
    CU_ASSERT_STRING_EQUAL(s, ",error,\"slides/a.tif: no such file, \"\"really\"\"\",NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,"
                              "NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA\n");
    free(s);
    /* a scored row: counts as integers, numbers with %.17g, names */
    hs_score_row_init(&r);
    r.ok = 1;
    r.m.n_cells = 1234;
    r.m.n_tiles = 7;
    double p[4] = {0.1, 0.2, 0.3, 0.4};
    memcpy(r.m.p, p, sizeof p);
    r.m.hscore = 200;
    r.m.ihc_score = HS_CALL_3;
    r.m.her2_class = HS_HER2_POSITIVE;
    r.m.entropy = 1.0 / 3.0;
    r.m.simpson = 0.7;
    r.m.tile_cv = NAN;
    r.m.discordant_frac = 0;
    r.m.morans_i = -0.25;
    r.m.pattern = HS_PATTERN_MOSAIC;
    r.m.heterogeneous = 1;
    r.measured = 1;
    r.cell_radius_um = 8.5;
    r.stain_source = HS_STAIN_ESTIMATED_H;
    r.stain_h_angle = 3.25;
    r.stain_dab_angle = NAN;
    hs_calib_cuts c;
    double od[3] = {0.21, 0.43, 0.65};
    hs_calib_fixed(od, &c);
    c.method = HS_CALIB_COHORT;
    hs_score_row_cuts(&r, &c);
    r.leak = 0.125;
    s = row_csv(&r);
    CU_ASSERT_STRING_EQUAL(s, ",ok,,1234,7,0.10000000000000001,0.20000000000000001,0.29999999999999999,"
                              "0.40000000000000002,200,3+,positive,0.33333333333333331,0.69999999999999996,NA,0,-0.25,"
                              "mosaic,1,8.5,estimated-h,3.25,NA,cohort,0.20999999999999999,0.42999999999999999,"
                              "0.65000000000000002,0.125\n");
    free(s);
    char buf[64];
    for (int j = 0; j < HS_SCORE_NCOL; j++)
        if (hs_score_col_kind[j] == HS_SCOL_NUMBER) {
            double v = hs_score_row_number(&r, j);
            const char *t = hs_score_row_text(&r, j, buf, sizeof buf);
            CU_ASSERT(isnan(v) ? !strcmp(t, "NA") : strtod(t, NULL) == v);
        }
    /* header */
    s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    hs_score_row_write_header(f);
    fclose(f);
    CU_ASSERT(!strncmp(s, ",status,error,n_cells,n_tiles,p0,", 33));
    CU_ASSERT(strstr(s, ",od_3,leak") != NULL);
    free(s);
}

static void test_map_names(void)
{
    char b[64];
    hs_h5_map_name("P001", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "P001");
    hs_h5_map_name("site/7%x", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "site%2F7%25x");
    hs_h5_map_name(".hidden.a", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "%2Ehidden.a");
}

int hs_suite_ckpt(void)
{
    CU_pSuite s = CU_add_suite("ckpt", suite_init, suite_clean);
    if (!s)
        return 1;
    if (!CU_add_test(s, "checkpoint key: fresh, refused, resume, changed lines named, restart", test_key) ||
        !CU_add_test(s, "SHA-256 of files: FIPS 180-2 vectors", test_sha256) ||
        !CU_add_test(s, "score rows: error and scored rows as text", test_scorerow) ||
        !CU_add_test(s, "results.h5 map names escaped", test_map_names))
        return 1;
    return 0;
}
