/*
 * Unit tests for core/pit_scope.c: scope names, sets and requirement
 * expressions.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pit_scope.h"

/* Length of a string literal, embedded NULs included. */
#define LIT(s)   s, (sizeof(s) - 1)

#define N64  "a123456789012345678901234567890123456789012345678901234567890123"
#define N65  N64 "x"

/* -----------------------------------------------------------------------------
 * Names
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *what;
    const char  *s;
    size_t       len;
    int          valid;
} name_case_t;

static const name_case_t name_cases[] = {
    { "plain",                  LIT("contacts.readonly"),               1 },
    { "path and camelCase",     LIT("locations/customFields.readonly"), 1 },
    { "dash",                   LIT("blogs/check-slug.readonly"),       1 },
    { "underscore",             LIT("a_b"),                             1 },
    { "digit first",            LIT("2fa.write"),                       1 },
    { "one char",               LIT("a"),                               1 },
    { "64 chars",               LIT(N64),                               1 },
    { "65 chars",               LIT(N65),                               0 },
    { "empty",                  LIT(""),                                0 },
    { "uppercase first",        LIT("Contacts.readonly"),               0 },
    { "dot first",              LIT(".contacts"),                       0 },
    { "slash first",            LIT("/contacts"),                       0 },
    { "dash first",             LIT("-contacts"),                       0 },
    { "space inside",           LIT("contacts readonly"),               0 },
    { "tab inside",             LIT("contacts\treadonly"),              0 },
    { "pipe inside",            LIT("a|b"),                             0 },
    { "comma inside",           LIT("a,b"),                             0 },
    { "colon inside",           LIT("a:b"),                             0 },
    { "star",                   LIT("contacts.*"),                      0 },
    { "embedded NUL",           LIT("contacts\0.write"),                0 },
    { "trailing NUL",           LIT("contacts\0"),                      0 },
    { "non-ASCII",              LIT("caf\xc3\xa9"),                     0 },
    { "high byte first",        LIT("\xff" "abc"),                      0 },
    { "newline",                LIT("contacts\n"),                      0 },
};

static void test_name_grammar_table(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        const name_case_t *c = &name_cases[i];

        if (pit_scope_name_valid(c->s, c->len) != c->valid)
            fail_msg("name: %s: want %d", c->what, c->valid);
    }
}

/* -----------------------------------------------------------------------------
 * Sets
 * -------------------------------------------------------------------------- */

static void test_set_add_keeps_names_sorted_and_unique(void **state) {
    pit_scope_set_t set;

    (void) state;
    pit_scope_set_init(&set);
    assert_int_equal(pit_scope_set_add(&set, LIT("contacts.write")), PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("b.x")), PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("contacts.readonly")),
                     PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("contacts.write")), PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("a.x")), PIT_OK);

    assert_int_equal(set.n, 4);
    assert_string_equal(set.names[0], "a.x");
    assert_string_equal(set.names[1], "b.x");
    assert_string_equal(set.names[2], "contacts.readonly");
    assert_string_equal(set.names[3], "contacts.write");
}

static void test_set_order_is_bytewise(void **state) {
    pit_scope_set_t set;

    (void) state;
    /* 'Z' (0x5a) < '_' (0x5f) < 'a' (0x61); "ab" < "ab.c" < "ab/c". */
    pit_scope_set_init(&set);
    assert_int_equal(pit_scope_set_add(&set, LIT("ab/c")), PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("a_")), PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("ab")), PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("aZ")), PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("ab.c")), PIT_OK);
    assert_int_equal(set.n, 5);
    assert_string_equal(set.names[0], "aZ");
    assert_string_equal(set.names[1], "a_");
    assert_string_equal(set.names[2], "ab");
    assert_string_equal(set.names[3], "ab.c");
    assert_string_equal(set.names[4], "ab/c");
}

static void test_set_add_rejects_bad_name_unchanged(void **state) {
    pit_scope_set_t set;

    (void) state;
    pit_scope_set_init(&set);
    assert_int_equal(pit_scope_set_add(&set, LIT("a")), PIT_OK);
    assert_int_equal(pit_scope_set_add(&set, LIT("")),
                     PIT_ERR_SCOPE_INVALID);
    assert_int_equal(pit_scope_set_add(&set, LIT(N65)),
                     PIT_ERR_SCOPE_INVALID);
    assert_int_equal(pit_scope_set_add(&set, LIT("a\0b")),
                     PIT_ERR_SCOPE_INVALID);
    assert_int_equal(set.n, 1);
    assert_int_equal(pit_scope_set_add(&set, LIT(N64)), PIT_OK);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.names[1], N64);
}

/* Fills set with n distinct names "s000", "s001", ... */
static void fill(pit_scope_set_t *set, int n) {
    char  name[16];
    int   i;

    pit_scope_set_init(set);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "s%03d", i);
        assert_int_equal(pit_scope_set_add(set, name, strlen(name)), PIT_OK);
    }
}

static void test_set_holds_100_names_not_101(void **state) {
    pit_scope_set_t  *set = malloc(sizeof(*set));
    pit_scope_set_t  *copy = malloc(sizeof(*copy));

    (void) state;
    assert_non_null(set);
    assert_non_null(copy);
    fill(set, PIT_SCOPES_MAX);
    assert_int_equal(set->n, 100);
    memcpy(copy, set, sizeof(*set));

    assert_int_equal(pit_scope_set_add(set, LIT("s100")),
                     PIT_ERR_SCOPE_TOO_MANY);
    /* Lowest in order: would shift everything if it were inserted. */
    assert_int_equal(pit_scope_set_add(set, LIT("a")),
                     PIT_ERR_SCOPE_TOO_MANY);
    assert_int_equal(pit_scope_set_equal(set, copy), 1);

    /* A name already held is still a no-op on a full set. */
    assert_int_equal(pit_scope_set_add(set, LIT("s050")), PIT_OK);
    assert_int_equal(set->n, 100);
    free(set);
    free(copy);
}

static void test_set_contains_finds_every_member_only(void **state) {
    pit_scope_set_t  *set = malloc(sizeof(*set));
    char              name[16];
    int               i;

    (void) state;
    assert_non_null(set);
    fill(set, 77);
    for (i = 0; i < 77; i++) {
        snprintf(name, sizeof(name), "s%03d", i);
        assert_int_equal(pit_scope_set_contains(set, name, strlen(name)), 1);
    }
    assert_int_equal(pit_scope_set_contains(set, LIT("s077")), 0);
    assert_int_equal(pit_scope_set_contains(set, LIT("s00")), 0);
    assert_int_equal(pit_scope_set_contains(set, LIT("s0000")), 0);
    assert_int_equal(pit_scope_set_contains(set, LIT("")), 0);
    assert_int_equal(pit_scope_set_contains(set, LIT("s000\0")), 0);
    assert_int_equal(pit_scope_set_contains(set, LIT(N65)), 0);
    /* Only len bytes count. */
    assert_int_equal(pit_scope_set_contains(set, "s001xyz", 4), 1);
    free(set);
}

static void test_set_contains_on_empty_set(void **state) {
    pit_scope_set_t set;

    (void) state;
    pit_scope_set_init(&set);
    assert_int_equal(pit_scope_set_contains(&set, LIT("a")), 0);
}

typedef struct {
    const char  *what;
    const char  *s;
    size_t       len;
    pit_err_t    rc;
    const char  *formatted;     /* on PIT_OK */
} parse_case_t;

static const parse_case_t parse_cases[] = {
    { "spaces",          LIT("b.x a.x"),              PIT_OK, "a.x b.x" },
    { "commas",          LIT("b.x,a.x"),              PIT_OK, "a.x b.x" },
    { "comma and space", LIT("b.x, a.x"),             PIT_OK, "a.x b.x" },
    { "tabs and runs",   LIT("\t b.x ,, \ta.x ,"),    PIT_OK, "a.x b.x" },
    { "duplicates",      LIT("a a a"),                PIT_OK, "a" },
    { "empty",           LIT(""),                     PIT_OK, "" },
    { "only separators", LIT(" , \t,"),               PIT_OK, "" },
    { "bad name",        LIT("a.x B.x"),         PIT_ERR_SCOPE_INVALID, NULL },
    { "pipe",            LIT("a|b"),             PIT_ERR_SCOPE_INVALID, NULL },
    { "newline",         LIT("a\nb"),            PIT_ERR_SCOPE_INVALID, NULL },
    { "NUL",             LIT("a \0 b"),          PIT_ERR_SCOPE_INVALID, NULL },
    { "non-ASCII",       LIT("a \xc3\xa9"),      PIT_ERR_SCOPE_INVALID, NULL },
    { "65-char name",    LIT("a " N65),          PIT_ERR_SCOPE_INVALID, NULL },
};

static void test_set_parse_table(void **state) {
    pit_scope_set_t  set;
    char             buf[256];
    size_t           i;

    (void) state;
    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case_t  *c = &parse_cases[i];
        pit_err_t            rc = pit_scope_set_parse(&set, c->s, c->len);

        if (rc != c->rc)
            fail_msg("parse: %s: got %d, want %d", c->what, rc, c->rc);
        if (rc == PIT_OK) {
            assert_int_equal(pit_scope_set_format(&set, buf, sizeof(buf),
                                                  NULL),
                             PIT_OK);
            if (strcmp(buf, c->formatted) != 0)
                fail_msg("parse: %s: got \"%s\"", c->what, buf);
        }
    }
}

static void test_set_parse_empties_set_first(void **state) {
    pit_scope_set_t set;

    (void) state;
    pit_scope_set_init(&set);
    assert_int_equal(pit_scope_set_add(&set, LIT("old")), PIT_OK);
    assert_int_equal(pit_scope_set_parse(&set, LIT("new")), PIT_OK);
    assert_int_equal(set.n, 1);
    assert_string_equal(set.names[0], "new");
}

static void test_set_parse_100_ok_101_too_many(void **state) {
    pit_scope_set_t  *set = malloc(sizeof(*set));
    char              list[101 * 6 + 1];
    size_t            n = 0;
    int               i;

    (void) state;
    assert_non_null(set);
    for (i = 0; i < 101; i++) {
        n += (size_t) snprintf(list + n, sizeof(list) - n, "s%03d ", i);
    }
    /* "s000 " .. "s099 " is 100 names of 5 bytes. */
    assert_int_equal(pit_scope_set_parse(set, list, 100 * 5), PIT_OK);
    assert_int_equal(set->n, 100);
    assert_int_equal(pit_scope_set_parse(set, list, n),
                     PIT_ERR_SCOPE_TOO_MANY);
    free(set);
}

static void test_set_format_joins_with_single_spaces(void **state) {
    pit_scope_set_t  set;
    char             buf[64];
    size_t           len = 0;

    (void) state;
    assert_int_equal(pit_scope_set_parse(&set, LIT("c b a")), PIT_OK);
    assert_int_equal(pit_scope_set_format(&set, buf, sizeof(buf), &len),
                     PIT_OK);
    assert_string_equal(buf, "a b c");
    assert_int_equal(len, 5);
}

static void test_set_format_needs_room_for_nul(void **state) {
    pit_scope_set_t  set;
    char             buf[8];
    size_t           len = 99;

    (void) state;
    assert_int_equal(pit_scope_set_parse(&set, LIT("ab cd")), PIT_OK);
    /* "ab cd" needs 6 bytes with its NUL. */
    assert_int_equal(pit_scope_set_format(&set, buf, 6, &len), PIT_OK);
    assert_string_equal(buf, "ab cd");
    assert_int_equal(len, 5);

    len = 99;
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(pit_scope_set_format(&set, buf, 5, &len),
                     PIT_ERR_TOO_LARGE);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(len, 99);
    assert_int_equal(buf[5], 'x');
    assert_int_equal(pit_scope_set_format(&set, buf, 3, NULL),
                     PIT_ERR_TOO_LARGE);
    assert_int_equal(pit_scope_set_format(&set, buf, 0, NULL),
                     PIT_ERR_TOO_LARGE);
}

static void test_set_format_of_empty_set(void **state) {
    pit_scope_set_t  set;
    char             buf[4] = "xyz";
    size_t           len = 99;

    (void) state;
    pit_scope_set_init(&set);
    assert_int_equal(pit_scope_set_format(&set, buf, 1, &len), PIT_OK);
    assert_string_equal(buf, "");
    assert_int_equal(len, 0);
    assert_int_equal(pit_scope_set_format(&set, buf, 0, &len),
                     PIT_ERR_TOO_LARGE);
}

static void test_set_format_of_full_set_of_longest_names(void **state) {
    pit_scope_set_t  *set = malloc(sizeof(*set));
    char             *buf = malloc(100 * 65);
    char              name[PIT_SCOPE_NAME_MAX + 1];
    size_t            len = 0;
    int               i;

    (void) state;
    assert_non_null(set);
    assert_non_null(buf);
    pit_scope_set_init(set);
    for (i = 0; i < PIT_SCOPES_MAX; i++) {
        memset(name, 'x', PIT_SCOPE_NAME_MAX);
        name[0] = (char) ('0' + i / 10);
        name[1] = (char) ('0' + i % 10);
        assert_int_equal(pit_scope_set_add(set, name, PIT_SCOPE_NAME_MAX),
                         PIT_OK);
    }
    /* 100 names of 64, 99 spaces, one NUL: exactly 100 * 65. */
    assert_int_equal(pit_scope_set_format(set, buf, 100 * 65, &len), PIT_OK);
    assert_int_equal(len, 100 * 65 - 1);
    assert_int_equal(strlen(buf), len);
    assert_int_equal(pit_scope_set_format(set, buf, 100 * 65 - 1, NULL),
                     PIT_ERR_TOO_LARGE);
    free(buf);
    free(set);
}

static void test_set_equal_compares_names(void **state) {
    pit_scope_set_t a, b;

    (void) state;
    assert_int_equal(pit_scope_set_parse(&a, LIT("x y z")), PIT_OK);
    assert_int_equal(pit_scope_set_parse(&b, LIT("z,y,x,x")), PIT_OK);
    assert_int_equal(pit_scope_set_equal(&a, &b), 1);
    assert_int_equal(pit_scope_set_parse(&b, LIT("x y")), PIT_OK);
    assert_int_equal(pit_scope_set_equal(&a, &b), 0);
    assert_int_equal(pit_scope_set_parse(&b, LIT("x y w")), PIT_OK);
    assert_int_equal(pit_scope_set_equal(&a, &b), 0);
    pit_scope_set_init(&a);
    pit_scope_set_init(&b);
    assert_int_equal(pit_scope_set_equal(&a, &b), 1);
}

/* -----------------------------------------------------------------------------
 * Requirement expressions
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *what;
    const char  *s;
    size_t       len;
    pit_err_t    rc;
} expr_case_t;

static const expr_case_t expr_valid_cases[] = {
    { "one name",          LIT("contacts.readonly"),             PIT_OK },
    { "all of",            LIT("a b c"),                         PIT_OK },
    { "any of",            LIT("a|b|c"),                         PIT_OK },
    { "mixed",    LIT("contacts.readonly calendars.write|x/y.z"), PIT_OK },
    { "empty",             LIT(""),                              PIT_OK },
    { "blanks only",       LIT(" \t "),                          PIT_OK },
    { "tabs and runs",     LIT("\ta  \t b "),                    PIT_OK },
    { "64-char name",      LIT(N64 "|a"),                        PIT_OK },
    { "double pipe",       LIT("a||b"),           PIT_ERR_EXPR_INVALID },
    { "leading pipe",      LIT("|a"),             PIT_ERR_EXPR_INVALID },
    { "trailing pipe",     LIT("a|"),             PIT_ERR_EXPR_INVALID },
    { "pipe alone",        LIT("|"),              PIT_ERR_EXPR_INVALID },
    { "spaced pipe",       LIT("a | b"),          PIT_ERR_EXPR_INVALID },
    { "bad name",          LIT("a Bad"),          PIT_ERR_EXPR_INVALID },
    { "65-char name",      LIT("a|" N65),         PIT_ERR_EXPR_INVALID },
    { "comma",             LIT("a,b"),            PIT_ERR_EXPR_INVALID },
    { "newline",           LIT("a\nb"),           PIT_ERR_EXPR_INVALID },
    { "NUL",               LIT("a\0"),            PIT_ERR_EXPR_INVALID },
    { "non-ASCII",         LIT("a \xc3\xa9"),     PIT_ERR_EXPR_INVALID },
    { "ampersand",         LIT("a&b"),            PIT_ERR_EXPR_INVALID },
};

static void test_expr_validate_table(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(expr_valid_cases) / sizeof(expr_valid_cases[0]);
         i++)
    {
        const expr_case_t  *c = &expr_valid_cases[i];
        pit_err_t           rc = pit_scope_expr_validate(c->s, c->len);

        if (rc != c->rc)
            fail_msg("validate: %s: got %d, want %d", c->what, rc, c->rc);
    }
}

typedef struct {
    const char  *what;
    const char  *expr;
    pit_err_t    rc;
    const char  *missing;       /* on PIT_ERR_SCOPE_MISSING */
} check_case_t;

/* Checked against the set "contacts.readonly calendars/events.write". */
static const check_case_t check_cases[] = {
    { "held",            "contacts.readonly",              PIT_OK, NULL },
    { "both held",       "contacts.readonly calendars/events.write",
                                                           PIT_OK, NULL },
    { "one of held",     "calendars.write|calendars/events.write",
                                                           PIT_OK, NULL },
    { "nothing needed",  "",                               PIT_OK, NULL },
    { "blanks only",     "  \t",                           PIT_OK, NULL },
    { "not held",        "contacts.write",
      PIT_ERR_SCOPE_MISSING, "contacts.write" },
    { "first missing term",
      "contacts.readonly users.write|users.readonly contacts.write",
      PIT_ERR_SCOPE_MISSING, "users.write|users.readonly" },
    { "prefix not enough", "contacts",
      PIT_ERR_SCOPE_MISSING, "contacts" },
    { "longer not held", "contacts.readonlyx",
      PIT_ERR_SCOPE_MISSING, "contacts.readonlyx" },
    { "case matters",    "contacts.readOnly",
      PIT_ERR_SCOPE_MISSING, "contacts.readOnly" },
    { "malformed though satisfied", "contacts.readonly a||b",
      PIT_ERR_EXPR_INVALID, NULL },
    { "malformed after missing",    "x.write |a",
      PIT_ERR_EXPR_INVALID, NULL },
    { "trailing pipe",   "contacts.readonly|",
      PIT_ERR_EXPR_INVALID, NULL },
};

static void test_expr_check_table(void **state) {
    pit_scope_set_t  held;
    size_t           i;

    (void) state;
    assert_int_equal(pit_scope_set_parse(&held,
                         LIT("contacts.readonly calendars/events.write")),
                     PIT_OK);

    for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        const check_case_t  *c = &check_cases[i];
        const char          *miss = NULL;
        size_t               miss_len = 0;
        pit_err_t            rc;

        rc = pit_scope_expr_check(c->expr, strlen(c->expr), &held, &miss,
                                  &miss_len);
        if (rc != c->rc)
            fail_msg("check: %s: got %d, want %d", c->what, rc, c->rc);
        if (rc == PIT_ERR_SCOPE_MISSING) {
            assert_non_null(miss);
            /* The term lies inside expr, not in a copy. */
            assert_true(miss >= c->expr
                        && miss + miss_len <= c->expr + strlen(c->expr));
            if (miss_len != strlen(c->missing)
                || memcmp(miss, c->missing, miss_len) != 0)
            {
                fail_msg("check: %s: missing \"%.*s\"", c->what,
                         (int) miss_len, miss);
            }
        }
    }
}

static void test_expr_check_with_empty_set(void **state) {
    pit_scope_set_t  held;
    const char      *miss = NULL;
    size_t           miss_len = 0;

    (void) state;
    pit_scope_set_init(&held);
    assert_int_equal(pit_scope_expr_check(LIT(""), &held, NULL, NULL),
                     PIT_OK);
    assert_int_equal(pit_scope_expr_check(LIT("a b"), &held, &miss,
                                          &miss_len),
                     PIT_ERR_SCOPE_MISSING);
    assert_int_equal(miss_len, 1);
    assert_memory_equal(miss, "a", 1);
}

static void test_expr_check_accepts_null_outputs(void **state) {
    pit_scope_set_t held;

    (void) state;
    pit_scope_set_init(&held);
    assert_int_equal(pit_scope_expr_check(LIT("a"), &held, NULL, NULL),
                     PIT_ERR_SCOPE_MISSING);
}

static void test_expr_check_reads_only_len_bytes(void **state) {
    pit_scope_set_t held;

    (void) state;
    assert_int_equal(pit_scope_set_parse(&held, LIT("a")), PIT_OK);
    /* "a b||" cut after "a": only "a" is checked. */
    assert_int_equal(pit_scope_expr_check("a b||", 1, &held, NULL, NULL),
                     PIT_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_grammar_table),
        cmocka_unit_test(test_set_add_keeps_names_sorted_and_unique),
        cmocka_unit_test(test_set_order_is_bytewise),
        cmocka_unit_test(test_set_add_rejects_bad_name_unchanged),
        cmocka_unit_test(test_set_holds_100_names_not_101),
        cmocka_unit_test(test_set_contains_finds_every_member_only),
        cmocka_unit_test(test_set_contains_on_empty_set),
        cmocka_unit_test(test_set_parse_table),
        cmocka_unit_test(test_set_parse_empties_set_first),
        cmocka_unit_test(test_set_parse_100_ok_101_too_many),
        cmocka_unit_test(test_set_format_joins_with_single_spaces),
        cmocka_unit_test(test_set_format_needs_room_for_nul),
        cmocka_unit_test(test_set_format_of_empty_set),
        cmocka_unit_test(test_set_format_of_full_set_of_longest_names),
        cmocka_unit_test(test_set_equal_compares_names),
        cmocka_unit_test(test_expr_validate_table),
        cmocka_unit_test(test_expr_check_table),
        cmocka_unit_test(test_expr_check_with_empty_set),
        cmocka_unit_test(test_expr_check_accepts_null_outputs),
        cmocka_unit_test(test_expr_check_reads_only_len_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
