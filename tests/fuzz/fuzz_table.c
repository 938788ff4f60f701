/*
 * fuzz_table: a survival table (any CSV) through hs_table_read, as
 * `survival --data` reads it.  The columns requested are the header's first
 * names (split naively at commas, so quoted or odd names are also asked for),
 * each as numeric, factor or auto in turn, plus one that may be missing.
 */
#include "tests/fuzz/fuzz_common.h"

#include "cohorts/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NREQ 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_file(0, "table.csv", data, size);
    char names[NREQ][64];
    const char *np[NREQ];
    hs_col_kind kinds[NREQ];
    size_t n = 0, len = 0;
    for (size_t i = 0; i <= size && n < NREQ - 1; i++) {
        if (i == size || data[i] == ',' || data[i] == '\n' || data[i] == '\r') {
            names[n][len] = '\0';
            n++;
            len = 0;
            if (i == size || data[i] != ',')
                break;
        } else if (len < sizeof names[0] - 1) {
            names[n][len++] = data[i] ? (char)data[i] : '?';
        }
    }
    snprintf(names[n++], sizeof names[0], "time");
    for (size_t i = 0; i < n; i++) {
        np[i] = names[i];
        kinds[i] = (hs_col_kind)(i % 3 == 0 ? HS_COL_NUMERIC : i % 3 == 1 ? HS_COL_AUTO : HS_COL_FACTOR);
    }
    hs_table *t = NULL;
    hs_error err;
    if (hs_table_read(&t, path, np, kinds, n, &err) == HS_OK) {
        for (size_t i = 0; i < n; i++)
            (void)hs_table_column(t, np[i], HS_COL_AUTO);
        hs_table_free(t);
    }
    return 0;
}
