/*
 * fuzz_resume: a stored checkpoint key (DIR/checkpoint/run.key) as `run
 * --resume`, a shard and `merge` compare it with their own: equal, or a
 * message naming every line that changed (mpi/checkpoint.c).  The input is
 * the stored key; this run's key is the one `run` writes with its default options.
 */
#include "tests/fuzz/fuzz_common.h"

#include <dirent.h>

#include "mpi/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key_now[] = "hetsurv 0.1.0\n"
                              "manifest_sha256 5cab51f6fa10ce2a0dea8f745942b0a87ea7518cd2c654156239ade808804248\n"
                              "controls_sha256 none\n"
                              "completeness_column (default)\n"
                              "level_mpp 0.5\n"
                              "mpp_override 0\n"
                              "region_px 1024\n"
                              "sample_regions 6\n"
                              "estimate_background 1\n"
                              "tissue_od 0.15\n"
                              "estimate_stains 1\n"
                              "stains estimated-or-default\n"
                              "nucleus_od 0.15\n"
                              "background_um 8\n"
                              "min_area_um2 5\n"
                              "max_area_um2 400\n"
                              "max_radius_um 12.5\n"
                              "split_neck 0.7\n"
                              "max_elongation 2.5\n"
                              "sheet_factor 1.45\n"
                              "min_area_frac 0.4\n"
                              "edge_factor 1.3\n"
                              "sectors 24\n"
                              "rays_per_sector 3\n"
                              "band_px 3\n"
                              "thresholds 0.2,0.4,0.6\n"
                              "complete 0.8\n"
                              "partial 0.1\n"
                              "call_frac 0.1\n"
                              "noise_frac 0.01\n"
                              "scattered_frac 0.02\n"
                              "het_frac 0.1\n"
                              "cluster_moran 0.4\n"
                              "tile_min_cells 20\n"
                              "tile_um 256\n"
                              "calibration auto\n";

static char dir[600];

static void rm_dir(void)
{
    char ck[700], p[1000];
    snprintf(ck, sizeof ck, "%s/checkpoint", dir);
    DIR *d = opendir(ck);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", ck, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(ck);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/hsfuzz-%ld-run", fz_dir(), (long)getpid());
        char ck[700];
        snprintf(ck, sizeof ck, "%s/checkpoint", dir);
        if ((mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) || (mkdir(ck, 0700) != 0 && access(ck, W_OK) != 0)) {
            perror(dir);
            abort();
        }
        atexit(rm_dir);
    }
    char kp[800];
    snprintf(kp, sizeof kp, "%s/checkpoint/run.key", dir);
    FILE *f = fopen(kp, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    hs_error err;
    (void)hs_ckpt_prepare(dir, key_now, 1, 0, &err);
    f = fopen(kp, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    (void)hs_ckpt_prepare_shard(dir, key_now, &err);
    return 0;
}
