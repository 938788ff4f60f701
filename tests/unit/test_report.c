/* Unit tests for report/report: escaping, embedded and absent figures, failed slides, reproducible bytes. */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "suites.h"

/* A minimal PNG (signature, IHDR of 2 x 3, IEND) and its base64, computed with Python's base64 module. */
static const unsigned char png[45] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 2, 0, 0, 0, 3,
    8, 2, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
static const char png_b64[] = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAABAgMEAAAAAElFTkSuQmCC";

/* The page for `in` as a malloc'd string, or NULL. */
static char *page(const hs_report_input *in)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    hs_error err;
    int rc = hs_report_fprint(f, in, &err);
    fclose(f);
    CU_ASSERT_EQUAL(rc, HS_OK);
    return s;
}

static void test_escape(void)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    hs_report_escape(f, "P<b>&\"'\x01x");
    fclose(f);
    CU_ASSERT_STRING_EQUAL(s, "P&lt;b&gt;&amp;&quot;&#39;&#xFFFD;x");
    free(s);
}

static void test_page(void)
{
    hs_score_row row[2];
    hs_score_row_init(&row[0]);
    hs_score_row_init(&row[1]);
    row[0].ok = 1;
    row[0].m.ihc_score = HS_CALL_3;
    row[0].m.her2_class = HS_HER2_POSITIVE;
    row[0].m.pattern = HS_PATTERN_MOSAIC;
    row[0].m.heterogeneous = 1;
    row[0].m.entropy = 0.5;
    hs_score_row_fail(&row[1], "a/<x>.tif: No such file");
    const char *id[2] = {"P1", "P<b>&\"2"}, *slide[2] = {"s1.tif", "a/<x>.tif"};
    unsigned char bad[20];
    memcpy(bad, png, sizeof bad); /* a truncated PNG: stated, not embedded */
    hs_report_endpoint ep = {.name = "DFS", .id = "dfs",
                             .km = {.title = "KM", .data = png, .size = sizeof png},
                             .forest = {.title = "Forest", .data = bad, .size = sizeof bad}};
    hs_report_figure map = {.title = "map", .path = "/nonexistent/map.png"};
    hs_report_input in = {.version = "0.1.0", .command_line = "hetsurv run 'a&b'", .manifest = "m.csv",
                          .npatient = 2, .patient_id = id, .slide = slide, .row = row, .nendpoint = 1,
                          .endpoint = &ep, .nmap = 1, .map = &map};
    char *a = page(&in), *b = page(&in);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a, b);
    char want[256];
    snprintf(want, sizeof want, "<img src=\"data:image/png;base64,%s\" alt=\"KM\" width=\"2\" height=\"3\">", png_b64);
    CU_ASSERT_PTR_NOT_NULL(strstr(a, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "Forest: a truncated or damaged PNG file"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "map: not drawn"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "Not analysed."));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "<td>P&lt;b&gt;&amp;&quot;2</td><td>a/&lt;x&gt;.tif</td>"
                                     "<td>a/&lt;x&gt;.tif: No such file</td>"));
    CU_ASSERT_PTR_NULL(strstr(a, "P<b>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "hetsurv run &#39;a&amp;b&#39;"));
    CU_ASSERT_PTR_NULL(strstr(a, "http"));
    free(a);
    free(b);
    hs_error err;
    CU_ASSERT_EQUAL(hs_report_fprint(NULL, &in, &err), HS_EINVAL);
}

int hs_suite_report(void)
{
    CU_pSuite s = CU_add_suite("report", NULL, NULL);
    if (!s || !CU_add_test(s, "escape", test_escape) || !CU_add_test(s, "page", test_page))
        return 1;
    return 0;
}
