/*
 * Unit tests for core/pit_path.c: request paths that can be read two
 * ways.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pit_path.h"

typedef struct {
    const char  *raw;
    size_t       len;           /* 0: strlen(raw) */
    const char  *why;           /* NULL: PIT_OK */
} path_case_t;

static const path_case_t path_cases[] = {
    /* dot segments */
    { "/a/../b", 0, "dot segment" },
    { "/a/./b", 0, "dot segment" },
    { "/a/..", 0, "dot segment" },
    { "/a/.", 0, "dot segment" },
    { "/..", 0, "dot segment" },
    { "/.", 0, "dot segment" },
    { "..", 0, "dot segment" },
    { "../a", 0, "dot segment" },
    { "/a/..?x=1", 0, "dot segment" },
    { "/a/../", 0, "dot segment" },
    { "/..;/x", 0, "path parameter (;)" },

    /* ';', '\', "//" */
    { "/a;b", 0, "path parameter (;)" },
    { "/a;", 0, "path parameter (;)" },
    { "/a/b;jsessionid=1", 0, "path parameter (;)" },
    { "/a\\b", 0, "backslash" },
    { "/a\\..\\b", 0, "backslash" },
    { "//a", 0, "empty segment (//)" },
    { "/a//b", 0, "empty segment (//)" },
    { "/a//", 0, "empty segment (//)" },
    { "//", 0, "empty segment (//)" },
    { "/a//?x", 0, "empty segment (//)" },

    /* escapes of what matters for routing */
    { "/a%2fb", 0, "encoded '/'" },
    { "/a%2Fb", 0, "encoded '/'" },
    { "/a%2E%2E/b", 0, "encoded '.'" },
    { "/a/%2e%2e/b", 0, "encoded '.'" },
    { "/a/.%2e/b", 0, "encoded '.'" },
    { "/a%5cb", 0, "encoded '\\'" },
    { "/a%5Cb", 0, "encoded '\\'" },
    { "/a%3bb", 0, "encoded ';'" },
    { "/a%3Bb", 0, "encoded ';'" },
    { "/a%252Fb", 0, "encoded '%'" },
    { "/a%25", 0, "encoded '%'" },

    /* control characters, raw and encoded */
    { "/a%0d%0aX", 0, "encoded control character" },
    { "/a%0D%0AX", 0, "encoded control character" },
    { "/a%00", 0, "encoded control character" },
    { "/a%1f", 0, "encoded control character" },
    { "/a%7F", 0, "encoded control character" },
    { "/a\rb", 0, "control character" },
    { "/a\nb", 0, "control character" },
    { "/a\tb", 0, "control character" },
    { "/a\x7f", 0, "control character" },
    { "/a\0b", 4, "control character" },

    /* percent signs that are not escapes */
    { "/a%", 0, "bad percent-encoding" },
    { "/a%4", 0, "bad percent-encoding" },
    { "/a%zz", 0, "bad percent-encoding" },
    { "/a%4g", 0, "bad percent-encoding" },
    { "/a%%41", 0, "bad percent-encoding" },
    { "/a%u002e", 0, "bad percent-encoding" },
    { "/a%41", 4, "bad percent-encoding" },       /* cut by len */

    /* overlong UTF-8: lenient decoders read %C0%AE as '.' */
    { "/a/%C0%AE%C0%AE/b", 0, "overlong UTF-8" },
    { "/a%c0%afb", 0, "overlong UTF-8" },
    { "/a%E0%80%AE", 0, "overlong UTF-8" },
    { "/a%F0%80%80%AE", 0, "overlong UTF-8" },
    { "/a\xc0\xae", 0, "overlong UTF-8" },

    /* '#' is an ordinary byte: what follows it is checked too */
    { "/a#/../b", 0, "dot segment" },

    /* fine */
    { "/", 0, NULL },
    { "", 0, NULL },
    { "/a/b.json", 0, NULL },
    { "/a/..b", 0, NULL },
    { "/a/b..", 0, NULL },
    { "/a/...", 0, NULL },
    { "/a/.b/", 0, NULL },
    { "/a%20b", 0, NULL },
    { "/a%41b", 0, NULL },
    { "/\xc3\xa9", 0, NULL },
    { "/%C3%A9", 0, NULL },
    { "/%E0%A0%80", 0, NULL },
    { "/a/", 0, NULL },
    { "/a?x=../..;", 0, NULL },
    { "/a?//\\;%zz%2f\r", 0, NULL },
    { "/a?", 0, NULL },
    { "/contacts/abc-123_x~y", 0, NULL },
    { "*", 0, NULL },
    { "a/b", 0, NULL },
    { "/a#frag", 0, NULL },
};

static void test_raw_path_table(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const path_case_t  *c = &path_cases[i];
        size_t              len = c->len ? c->len : strlen(c->raw);
        const char         *why = "unset";
        pit_err_t           rc = pit_path_check_raw(c->raw, len, &why);

        if (c->why == NULL) {
            if (rc != PIT_OK || why != NULL) {
                fail_msg("\"%s\": refused (%s), want OK", c->raw,
                         why ? why : "?");
            }
        } else if (rc != PIT_ERR_AMBIGUOUS || why == NULL
                   || strcmp(why, c->why) != 0)
        {
            fail_msg("\"%s\": rc %d why \"%s\", want \"%s\"", c->raw, rc,
                     why ? why : "(null)", c->why);
        }
    }
}

static void test_decoded_path_refuses_control_characters(void **state) {
    static const struct {
        const char  *path;
        size_t       len;
        int          ok;
    } cases[] = {
        { "/a/b", 4, 1 },
        { "/a b/\xc3\xa9", 7, 1 },
        { "", 0, 1 },
        { "/a;b\\c", 6, 1 },
        { "/a\r", 3, 0 },
        { "/a\nX", 4, 0 },
        { "/a\0", 3, 0 },
        { "/a\t", 3, 0 },
        { "/a\x1f", 3, 0 },
        { "/a\x7f", 3, 0 },
        { "\x01", 1, 0 },
    };
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = "unset";
        pit_err_t   rc = pit_path_check_decoded(cases[i].path, cases[i].len,
                                                &why);

        if (cases[i].ok) {
            assert_int_equal(rc, PIT_OK);
            assert_null(why);
        } else {
            assert_int_equal(rc, PIT_ERR_AMBIGUOUS);
            assert_string_equal(why, "control character in the decoded path");
        }
    }
}

static void test_bad_arguments_are_refused(void **state) {
    const char *why;

    (void) state;
    assert_int_equal(pit_path_check_raw(NULL, 1, &why), PIT_ERR_ARG);
    assert_int_equal(pit_path_check_raw("/", 1, NULL), PIT_ERR_ARG);
    assert_int_equal(pit_path_check_raw(NULL, 0, &why), PIT_OK);
    assert_int_equal(pit_path_check_decoded(NULL, 1, &why), PIT_ERR_ARG);
    assert_int_equal(pit_path_check_decoded("/", 1, NULL), PIT_ERR_ARG);
}

/* Every byte after "/a" alone: refused exactly for the classes above. */
static void test_every_single_byte(void **state) {
    int c;

    (void) state;
    for (c = 0; c < 256; c++) {
        char         p[4] = { '/', 'a', (char) c, 'b' };
        const char  *why;
        pit_err_t    rc = pit_path_check_raw(p, 4, &why);
        int          bad = c < 0x20 || c == 0x7f || c == '\\' || c == ';'
                           || c == '%' || c == 0xc0 || c == 0xc1;

        if ((rc != PIT_OK) != bad) fail_msg("byte 0x%02x: rc %d", c, rc);
    }
}

static void test_long_paths(void **state) {
    size_t       n = 1 << 20, i;
    char        *p = malloc(n);
    const char  *why;

    (void) state;
    assert_non_null(p);
    for (i = 0; i < n; i++) p[i] = (i % 4 == 0) ? '/' : 'x';
    assert_int_equal(pit_path_check_raw(p, n, &why), PIT_OK);
    memcpy(p + n - 4, "x/..", 4);
    assert_int_equal(pit_path_check_raw(p, n, &why), PIT_ERR_AMBIGUOUS);
    assert_string_equal(why, "dot segment");
    for (i = 0; i < n; i++) p[i] = (i % 3 == 0) ? '%' : '4';
    assert_int_equal(pit_path_check_raw(p, n - n % 3, &why), PIT_OK);
    assert_int_equal(pit_path_check_raw(p, n - n % 3 - 1, &why),
                     PIT_ERR_AMBIGUOUS);
    assert_string_equal(why, "bad percent-encoding");
    free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_path_table),
        cmocka_unit_test(test_decoded_path_refuses_control_characters),
        cmocka_unit_test(test_bad_arguments_are_refused),
        cmocka_unit_test(test_every_single_byte),
        cmocka_unit_test(test_long_paths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
