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

/* Expected strings are written by hand from the escaping rules in hs_error.h. */
static void test_escape(void)
{
    char b[64];
    CU_ASSERT_EQUAL(hs_err_escape(b, sizeof b, "a\tb\nc\rd", 7), 10);
    CU_ASSERT_STRING_EQUAL(b, "a\\tb\\nc\\rd");
    /* NUL, other control bytes and DEL as \xNN; bytes >= 0x80 (UTF-8) kept; a backslash kept */
    CU_ASSERT_EQUAL(hs_err_escape(b, sizeof b, "x\0y\x14\x7f\xC2\xB5m\\", 9), 18);
    CU_ASSERT_STRING_EQUAL(b, "x\\x00y\\x14\\x7F\xC2\xB5m\\");
    /* exactly fits: 5 characters in a buffer of 6 */
    CU_ASSERT_EQUAL(hs_err_escape(b, 6, "abcde", 5), 5);
    CU_ASSERT_STRING_EQUAL(b, "abcde");
    /* one more: cut to 2 characters and "..." */
    CU_ASSERT_EQUAL(hs_err_escape(b, 6, "abcdef", 6), 5);
    CU_ASSERT_STRING_EQUAL(b, "ab...");
    /* never inside an escape: "a\n" would need 3 of the 2 places before "..." */
    CU_ASSERT_EQUAL(hs_err_escape(b, 6, "a\nbcdef", 7), 4);
    CU_ASSERT_STRING_EQUAL(b, "a...");
    /* never inside a UTF-8 character: a 2-byte micro sign cut after its first byte is dropped whole */
    CU_ASSERT_EQUAL(hs_err_escape(b, 7, "ab\xC2\xB5" "cdef", 8), 5);
    CU_ASSERT_STRING_EQUAL(b, "ab...");
    /* a long value: the cut copy fills the buffer */
    char big[1000];
    memset(big, 'I', sizeof big);
    CU_ASSERT_EQUAL(hs_err_escape(b, sizeof b, big, sizeof big), 63);
    CU_ASSERT_EQUAL(strlen(b), 63);
    CU_ASSERT_STRING_EQUAL(b + 60, "...");
    /* tiny buffers, empty and NULL sources */
    CU_ASSERT_EQUAL(hs_err_escape(b, 3, "abcdef", 6), 2);
    CU_ASSERT_STRING_EQUAL(b, "..");
    CU_ASSERT_EQUAL(hs_err_escape(b, 1, "abc", 3), 0);
    CU_ASSERT_STRING_EQUAL(b, "");
    CU_ASSERT_EQUAL(hs_err_escape(b, sizeof b, NULL, 5), 0);
    CU_ASSERT_STRING_EQUAL(b, "");
    CU_ASSERT_EQUAL(hs_err_escape(b, 0, "abc", 3), 0);
}

int hs_suite_error(void)
{
    CU_pSuite s = CU_add_suite("error", NULL, NULL);
    if (!s || !CU_add_test(s, "set returns code", test_set_returns_code) ||
        !CU_add_test(s, "strerror", test_strerror) || !CU_add_test(s, "escape", test_escape))
        return 1;
    return 0;
}
