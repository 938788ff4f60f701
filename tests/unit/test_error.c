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

static void test_escape(void)
{
    char b[64];
    /* Control bytes made visible, a NUL inside too; other bytes (UTF-8) kept. */
    CU_ASSERT_EQUAL(hs_err_escape(b, sizeof b, "a\nb\tc\rd\x01" "e\x7f" "\0" "f\xc3\xa9", 14), 26);
    CU_ASSERT_STRING_EQUAL(b, "a\\nb\\tc\\rd\\x01" "e\\x7f\\x00" "f\xc3\xa9");
    /* Exactly fits: no "..." */
    CU_ASSERT_EQUAL(hs_err_escape(b, 6, "abcde", 5), 5);
    CU_ASSERT_STRING_EQUAL(b, "abcde");
    /* One byte too many: cut with "..." within the capacity. */
    CU_ASSERT_EQUAL(hs_err_escape(b, 6, "abcdef", 6), 5);
    CU_ASSERT_STRING_EQUAL(b, "ab...");
    /* An escape is never cut in half. */
    CU_ASSERT_EQUAL(hs_err_escape(b, 8, "ab\x01" "cdef", 7), 5);
    CU_ASSERT_STRING_EQUAL(b, "ab...");
    CU_ASSERT_EQUAL(hs_err_escape(b, 3, "abcdef", 6), 2);
    CU_ASSERT_STRING_EQUAL(b, "..");
    CU_ASSERT_EQUAL(hs_err_escape(b, 1, "abc", 3), 0);
    CU_ASSERT_STRING_EQUAL(b, "");
    CU_ASSERT_EQUAL(hs_err_escape(b, 0, "abc", 3), 0);
    CU_ASSERT_EQUAL(hs_err_escape(b, sizeof b, "", 0), 0);
    CU_ASSERT_STRING_EQUAL(b, "");
}

int hs_suite_error(void)
{
    CU_pSuite s = CU_add_suite("error", NULL, NULL);
    if (!s || !CU_add_test(s, "set returns code", test_set_returns_code) ||
        !CU_add_test(s, "strerror", test_strerror) || !CU_add_test(s, "escaping control bytes", test_escape))
        return 1;
    return 0;
}
