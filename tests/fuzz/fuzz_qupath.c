/*
 * fuzz_qupath: a QuPath detection export (TSV or CSV) through hs_qupath_read,
 * as `score --qupath` reads it (its default 256-um tiles, px centroids at 0.5 um), then
 * the metrics of each image's tile map.
 */
#include "tests/fuzz/fuzz_common.h"

#include "scoring/qupath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hs_her2_params p;
    static int init;
    if (!init) {
        hs_her2_params_default(&p);
        init = 1;
    }
    const char *path = fz_file(0, "export.tsv", data, size);
    hs_qupath *q = NULL;
    hs_error err;
    if (hs_qupath_read(&q, path, 256.0, 0.5, NULL, &p, &err) == HS_OK) {
        for (size_t i = 0; i < q->nimage; i++) {
            hs_slide_metrics m;
            (void)hs_metrics_compute(q->image[i].map, &p, HS_ISH_UNKNOWN, &m, &err);
        }
        hs_qupath_free(q);
    }
    return 0;
}
