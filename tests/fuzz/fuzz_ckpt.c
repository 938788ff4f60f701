/*
 * fuzz_ckpt: one slide's checkpoint files as `run --resume` and `merge` read
 * them back (scoring/measured.c): the verdict line, then the whole
 * measurement, then, as the cohort's classify phase does, every cell record
 * classified onto a tile map and the metrics computed (or the metrics of the
 * QuPath tile map).  An input is the .meta text, then a line "--cells--", then the bytes
 * of the .cells file.  (results.h5 is not read back by hetsurv: --resume and
 * merge rebuild it from these files.)
 */
#include "tests/fuzz/fuzz_common.h"

#include "scoring/measured.h"
#include "scoring/score.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n--cells--\n";
    const uint8_t *cut = memmem(data, size, sep, sizeof sep - 1);
    size_t nmeta = cut ? (size_t)(cut - data) + 1 : size;
    const uint8_t *cells = cut ? cut + sizeof sep - 1 : data + size;
    const char *meta_path = fz_file(0, "0.meta", data, nmeta);
    const char *cells_path = fz_file(1, "0.cells", cells, (size_t)(data + size - cells));
    (void)hs_measured_verdict(meta_path);
    static hs_her2_params hp;
    if (!hp.tile_min_cells)
        hs_her2_params_default(&hp);
    hs_measured m;
    hs_error err;
    hs_slide_metrics sm;
    if (hs_measured_load(&m, cells_path, meta_path, &err) == HS_OK && m.ok) {
        if (m.qupath)
            (void)hs_metrics_compute(m.map, &hp, HS_ISH_UNKNOWN, &sm, &err);
        else
            (void)hs_score_classify(&m.res, &hp, 0.0, 256.0, HS_ISH_UNKNOWN, NULL, NULL, &sm, NULL, &err);
    }
    hs_measured_clear(&m);
    return 0;
}
