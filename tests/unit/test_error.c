/*
 * Unit tests for core/pit_error.c: every code has its own description.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pit_error.h"

static void test_every_code_has_a_description(void **state) {
    int rc;

    (void) state;
    for (rc = PIT_OK; rc < PIT_ERR_LAST; rc++) {
        const char *s = pit_strerror((pit_err_t) rc);

        assert_non_null(s);
        if (s[0] == '\0' || strcmp(s, "unknown error") == 0)
            fail_msg("code %d has no description", rc);
    }
}

static void test_descriptions_are_distinct(void **state) {
    int a, b;

    (void) state;
    for (a = PIT_OK; a < PIT_ERR_LAST; a++) {
        for (b = a + 1; b < PIT_ERR_LAST; b++) {
            if (strcmp(pit_strerror((pit_err_t) a),
                       pit_strerror((pit_err_t) b)) == 0)
            {
                fail_msg("codes %d and %d share \"%s\"", a, b,
                         pit_strerror((pit_err_t) a));
            }
        }
    }
}

static void test_descriptions_are_lowercase_single_lines(void **state) {
    int rc;

    (void) state;
    for (rc = PIT_OK; rc < PIT_ERR_LAST; rc++) {
        const char  *s = pit_strerror((pit_err_t) rc);
        size_t       len = strlen(s), i;

        if (s[0] < 'a' || s[0] > 'z' || s[len - 1] == '.')
            fail_msg("code %d: \"%s\"", rc, s);
        for (i = 0; i < len; i++) {
            if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
                fail_msg("code %d: control or non-ASCII byte", rc);
        }
    }
}

static void test_known_descriptions(void **state) {
    (void) state;
    assert_string_equal(pit_strerror(PIT_OK), "success");
    assert_string_equal(pit_strerror(PIT_ERR_TOKEN_MALFORMED),
                        "malformed token");
    assert_string_equal(pit_strerror(PIT_ERR_SCOPE_MISSING),
                        "insufficient scope");
}

static void test_out_of_range_code_is_unknown(void **state) {
    (void) state;
    assert_string_equal(pit_strerror(PIT_ERR_LAST), "unknown error");
    assert_string_equal(pit_strerror((pit_err_t) -1), "unknown error");
    assert_string_equal(pit_strerror((pit_err_t) 9999), "unknown error");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_a_description),
        cmocka_unit_test(test_descriptions_are_distinct),
        cmocka_unit_test(test_descriptions_are_lowercase_single_lines),
        cmocka_unit_test(test_known_descriptions),
        cmocka_unit_test(test_out_of_range_code_is_unknown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
