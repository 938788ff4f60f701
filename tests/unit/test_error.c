/* Unit tests for util/hs_error. */
#include <string.h>

#include "suites.h"
#include "util/hs_error.h"

static void test_set_returns_code(void)
{
    hs_error e;
    hs_error_clear(&e);
    CU_ASSERT_EQUAL(e.code, HS_OK);
    CU_ASSERT_EQUAL(hs_error_set(&e, HS_EDATA, "bad %s at %d", "value", 3), HS_EDATA);
    CU_ASSERT_EQUAL(e.code, HS_EDATA);
    CU_ASSERT_STRING_EQUAL(e.msg, "bad value at 3");
    CU_ASSERT_EQUAL(hs_error_set(NULL, HS_EIO, "ignored"), HS_EIO);
}

static void test_strerror(void)
{
    CU_ASSERT_STRING_EQUAL(hs_strerror(HS_ENOMEM), "out of memory");
    CU_ASSERT_STRING_EQUAL(hs_strerror(12345), "unknown error");
}

int hs_suite_error(void)
{
    CU_pSuite s = CU_add_suite("error", NULL, NULL);
    if (!s || !CU_add_test(s, "set returns code", test_set_returns_code) ||
        !CU_add_test(s, "strerror", test_strerror))
        return 1;
    return 0;
}
