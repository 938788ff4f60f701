/*
 * fuzz_ckpt: one slide's checkpoint files as `run --resume` and `merge` read
 * them back (scoring/measured.c): the verdict line, then the whole
 * measurement, then every cell record of the cell file (or the QuPath tile
 * map).  An input is the .meta text, then a line "--cells--", then the bytes
 * of the .cells file.  (results.h5 is not read back by hetsurv: --resume and
 * merge rebuild it from these files.)
 */
#include "tests/fuzz/fuzz_common.h"

#include "scoring/cellstore.h"
#include "scoring/measured.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *ctx, const hs_cellrec *r)
{
    (void)r;
    ++*(size_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n--cells--\n";
    const uint8_t *cut = memmem(data, size, sep, sizeof sep - 1);
    size_t nmeta = cut ? (size_t)(cut - data) + 1 : size;
    const uint8_t *cells = cut ? cut + sizeof sep - 1 : data + size;
    const char *meta_path = fz_file(0, "0.meta", data, nmeta);
    const char *cells_path = fz_file(1, "0.cells", cells, (size_t)(data + size - cells));
    (void)hs_measured_verdict(meta_path);
    hs_measured m;
    hs_error err;
    if (hs_measured_load(&m, cells_path, meta_path, &err) == HS_OK && m.ok && !m.qupath && m.res.cells) {
        size_t n = 0;
        (void)hs_cellstore_read(m.res.cells, count, &n, &err);
    }
    hs_measured_clear(&m);
    return 0;
}
