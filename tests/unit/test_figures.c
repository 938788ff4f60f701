/*
 * Unit tests of figures/: R's pretty() ticks (references from R 4.x
 * pretty(c(0, hi))), the at-risk rule of the risk table (R's
 * summary(fit, times = t, extend = TRUE)$n.risk) and format-list parsing.
 */
#include <math.h>
#include <stdlib.h>

#include "figures/canvas.h"
#include "figures/kmplot.h"
#include "suites.h"

static void test_pretty(void)
{
    static const struct {
        double hi;
        size_t n;
        double last, step;
    } ref[] = {{37.5, 5, 40, 10}, {1022, 7, 1200, 200}, {1, 6, 1, 0.2}, {7, 8, 7, 1}, {0.013, 8, 0.014, 0.002},
               {250, 6, 250, 50}};
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double t[32];
        size_t n = hs_fig_pretty(0, ref[i].hi, 5, t, 32);
        CU_ASSERT_EQUAL(n, ref[i].n);
        if (n != ref[i].n)
            continue;
        CU_ASSERT_DOUBLE_EQUAL(t[0], 0, 1e-15);
        CU_ASSERT_DOUBLE_EQUAL(t[n - 1], ref[i].last, 1e-12 * ref[i].last);
        CU_ASSERT_DOUBLE_EQUAL(t[1] - t[0], ref[i].step, 1e-12 * ref[i].last);
    }
    double t[2];
    CU_ASSERT_EQUAL(hs_fig_pretty(NAN, 1, 5, t, 2), 0);
    CU_ASSERT_EQUAL(hs_fig_pretty(2, 1, 5, t, 2), 0);
    CU_ASSERT_EQUAL(hs_fig_pretty(0, 1022, 5, t, 2), 7); /* count even when max is small */
}

static void test_at_risk(void)
{
    /* lung, sex = 2 (first rows): R gives n.risk 90 at t = 0 and 5, 89 at t = 60 (an event at 60) */
    double time[] = {5, 60, 61, 62}, n_risk[] = {90, 89, 88, 87}, n_event[] = {1, 1, 1, 0}, n_censor[] = {0, 0, 0, 1};
    hs_kmplot_curve c = {.name = "x", .ntime = 4, .time = time, .n_risk = n_risk, .n_event = n_event,
                         .n_censor = n_censor};
    double r, e, z;
    hs_kmplot_counts(&c, 0, &r, &e, &z);
    CU_ASSERT(r == 90 && e == 0 && z == 0);
    hs_kmplot_counts(&c, 5, &r, &e, &z);   /* at a time: those at risk just before it */
    CU_ASSERT(r == 90 && e == 0);
    hs_kmplot_counts(&c, 30, &r, &e, &z);  /* between times: the next row's */
    CU_ASSERT(r == 89 && e == 1);
    hs_kmplot_counts(&c, 62, &r, &e, &z);
    CU_ASSERT(r == 87 && e == 3 && z == 0);
    hs_kmplot_counts(&c, 62.5, &r, &e, &z); /* past the last time: 0, everyone counted */
    CU_ASSERT(r == 0 && e == 3 && z == 1);
}

static void test_formats(void)
{
    unsigned m = 99;
    hs_error err;
    CU_ASSERT_EQUAL(hs_fig_formats_parse("png,pdf,svg", &m, &err), HS_OK);
    CU_ASSERT_EQUAL(m, HS_FIG_ALL);
    CU_ASSERT_EQUAL(hs_fig_formats_parse("svg", &m, &err), HS_OK);
    CU_ASSERT_EQUAL(m, HS_FIG_SVG);
    CU_ASSERT_EQUAL(hs_fig_formats_parse("pdf,pdf", &m, &err), HS_OK);
    CU_ASSERT_EQUAL(m, HS_FIG_PDF);
    CU_ASSERT_EQUAL(hs_fig_formats_parse("png,jpg", &m, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(m, 0);
    CU_ASSERT_EQUAL(hs_fig_formats_parse("", &m, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_fig_formats_parse("png,", &m, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_fig_formats_parse("PNG", &m, &err), HS_EINVAL);
}

static void test_pvalue_and_canvas(void)
{
    char b[32];
    hs_fig_pvalue(b, sizeof b, 0.0004);
    CU_ASSERT_STRING_EQUAL(b, "p < 0.001");
    hs_fig_pvalue(b, sizeof b, 0.01234);
    CU_ASSERT_STRING_EQUAL(b, "p = 0.012");
    double t[] = {0, 0.2, 0.4};
    CU_ASSERT_EQUAL(hs_fig_tick_decimals(t, 3), 1);
    hs_canvas *c = NULL;
    hs_error err;
    CU_ASSERT_EQUAL(hs_canvas_open(&c, HS_FIG_PNG, 0, 10, &err), HS_EINVAL);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(hs_canvas_open(&c, HS_FIG_PDF, 72, 72, &err), HS_OK);
    unsigned char *buf = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(hs_canvas_bytes(c, &buf, &n, &err), HS_OK);
    CU_ASSERT(n > 4 && buf && buf[0] == '%' && buf[1] == 'P');
    free(buf);
    hs_canvas_free(c);
    hs_canvas_free(NULL);
}

int hs_suite_figures(void)
{
    CU_pSuite s = CU_add_suite("figures", NULL, NULL);
    if (!s || !CU_add_test(s, "pretty ticks as R", test_pretty) || !CU_add_test(s, "at-risk rule", test_at_risk) ||
        !CU_add_test(s, "format list", test_formats) || !CU_add_test(s, "p-values and canvas", test_pvalue_and_canvas))
        return 1;
    return 0;
}
