/*
 * Unit tests of core/pit_schema.c: Redis key builders and the key prefix.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pit_schema.h"

#define HASH "0123456789abcdef0123456789abcdef" \
             "0123456789abcdef0123456789abcdef"
#define IID  "ocQHyuzHvysMo5N5VsXc"

/* =============================================================================
 * Key builders
 * ==========================================================================*/

typedef enum {
    K_TOKEN, K_INTEGRATION, K_NAME, K_ACCOUNT_INDEX, K_ACCOUNTS, K_USED,
    K_AUDIT
} key_kind_t;

typedef struct {
    key_kind_t   kind;
    const char  *prefix;
    const char  *a;               /* hash, iid or acct */
    const char  *b;               /* name (K_NAME only) */
    const char  *expect;
} key_case_t;

static const key_case_t key_cases[] = {
    { K_TOKEN, "pit:", HASH, NULL, "pit:tok:" HASH },
    { K_INTEGRATION, "pit:", IID, NULL, "pit:int:" IID },
    { K_NAME, "pit:", "loc1", "My Make App1", "pit:name:loc1:my make app1" },
    { K_ACCOUNT_INDEX, "pit:", "loc1", NULL, "pit:ints:loc1" },
    { K_ACCOUNTS, "pit:", NULL, NULL, "pit:accts" },
    { K_USED, "pit:", IID, NULL, "pit:used:" IID },
    { K_AUDIT, "pit:", NULL, NULL, "pit:audit" },
    { K_TOKEN, "{gw}:", HASH, NULL, "{gw}:tok:" HASH },
    { K_AUDIT, "staging/pit-", NULL, NULL, "staging/pit-audit" },
};

/* Returns what the builder of kind returns for these arguments. */
static pit_err_t build_key(key_kind_t kind, char *buf, size_t cap,
    const char *prefix, const char *a, const char *b)
{
    switch (kind) {
    case K_TOKEN:         return pit_key_token(buf, cap, prefix, a);
    case K_INTEGRATION:   return pit_key_integration(buf, cap, prefix, a);
    case K_NAME:          return pit_key_name(buf, cap, prefix, a, b);
    case K_ACCOUNT_INDEX: return pit_key_account_index(buf, cap, prefix, a);
    case K_ACCOUNTS:      return pit_key_accounts(buf, cap, prefix);
    case K_USED:          return pit_key_used(buf, cap, prefix, a);
    case K_AUDIT:         return pit_key_audit(buf, cap, prefix);
    }
    return PIT_ERR_LAST;
}

static void test_keys_follow_schema_v1(void **state) {
    char    buf[PIT_KEY_MAX];
    size_t  i;

    for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const key_case_t  *c = &key_cases[i];

        memset(buf, 'x', sizeof(buf));
        assert_int_equal(build_key(c->kind, buf, sizeof(buf), c->prefix,
                                   c->a, c->b), PIT_OK);
        assert_string_equal(buf, c->expect);
    }
}

static void test_keys_fit_exactly_or_fail_without_truncation(void **state) {
    char    buf[PIT_KEY_MAX];
    size_t  i, need;

    for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const key_case_t  *c = &key_cases[i];

        need = strlen(c->expect) + 1;
        assert_int_equal(build_key(c->kind, buf, need, c->prefix, c->a,
                                   c->b), PIT_OK);
        assert_string_equal(buf, c->expect);

        memset(buf, 'x', sizeof(buf));
        assert_int_equal(build_key(c->kind, buf, need - 1, c->prefix, c->a,
                                   c->b), PIT_ERR_TOO_LARGE);
        assert_int_equal(buf[0], '\0');     /* no half key left behind */

        assert_int_equal(build_key(c->kind, buf, 1, c->prefix, c->a, c->b),
                         PIT_ERR_TOO_LARGE);
        assert_int_equal(build_key(c->kind, buf, 0, c->prefix, c->a, c->b),
                         PIT_ERR_TOO_LARGE);
    }
}

static void test_keys_reject_null_arguments(void **state) {
    char  buf[PIT_KEY_MAX];

    assert_int_equal(pit_key_token(NULL, 10, "pit:", HASH), PIT_ERR_ARG);
    assert_int_equal(pit_key_token(buf, sizeof(buf), NULL, HASH),
                     PIT_ERR_ARG);
    assert_int_equal(pit_key_token(buf, sizeof(buf), "pit:", NULL),
                     PIT_ERR_ARG);
    assert_int_equal(pit_key_name(buf, sizeof(buf), "pit:", NULL, "n"),
                     PIT_ERR_ARG);
    assert_int_equal(pit_key_name(buf, sizeof(buf), "pit:", "a", NULL),
                     PIT_ERR_ARG);
    assert_int_equal(pit_key_audit(buf, sizeof(buf), NULL), PIT_ERR_ARG);
}

/* The invalidation subscriber reads back exactly what pit_key_token builds. */
static void test_token_key_parse_reads_back_its_builder(void **state) {
    char         buf[PIT_KEY_MAX], pre[PIT_KEY_MAX];
    const char  *hex = NULL;
    size_t       i;
    static const char *bad[] = {
        "pit:tok:" HASH "0", "pit:tok:" "0123", "pit:int:" HASH,
        "pix:tok:" HASH, "pit:tok:" "0123456789ABCDEF0123456789abcdef"
        "0123456789abcdef0123456789abcdef",
        "pit:tok:" "0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdeg",
    };

    assert_int_equal(pit_key_token(buf, sizeof(buf), "pit:", HASH), PIT_OK);
    assert_int_equal(pit_key_token_parse(buf, strlen(buf), "pit:", 4, &hex),
                     PIT_OK);
    assert_memory_equal(hex, HASH, 64);

    assert_int_equal(pit_key_token_prefix(pre, sizeof(pre), "pit:"), PIT_OK);
    assert_string_equal(pre, "pit:tok:");
    assert_int_equal(strncmp(buf, pre, strlen(pre)), 0);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pit_key_token_parse(bad[i], strlen(bad[i]), "pit:",
                                             4, &hex), PIT_ERR_ARG);
    }
}

static void test_name_key_folds_ascii_letters_only(void **state) {
    char  buf[PIT_KEY_MAX];

    /* the account keeps its case; only the name is folded */
    assert_int_equal(pit_key_name(buf, sizeof(buf), "PIT:", "LocA",
                                  "ABC xyz-09_Z"), PIT_OK);
    assert_string_equal(buf, "PIT:name:LocA:abc xyz-09_z");

    /* "CAFÉ": É (C3 89) is not ASCII and stays as it is */
    assert_int_equal(pit_key_name(buf, sizeof(buf), "pit:", "a",
                                  "CAF\xc3\x89"), PIT_OK);
    assert_string_equal(buf, "pit:name:a:caf\xc3\x89");

    /* names differing in ASCII case share one key */
    {
        char  other[PIT_KEY_MAX];

        assert_int_equal(pit_key_name(buf, sizeof(buf), "pit:", "a",
                                      "My App"), PIT_OK);
        assert_int_equal(pit_key_name(other, sizeof(other), "pit:", "a",
                                      "mY aPP"), PIT_OK);
        assert_string_equal(buf, other);
    }
}

static void test_key_max_holds_the_longest_name_key(void **state) {
    char  prefix[PIT_PREFIX_MAX + 1], acct[65], name[801], buf[PIT_KEY_MAX];
    int   i;

    memset(prefix, 'p', PIT_PREFIX_MAX);
    prefix[PIT_PREFIX_MAX] = '\0';
    memset(acct, 'A', 64);
    acct[64] = '\0';
    for (i = 0; i < 200; i++) {
        memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);     /* U+1F600 */
    }
    name[800] = '\0';

    assert_int_equal(pit_key_name(buf, sizeof(buf), prefix, acct, name),
                     PIT_OK);
    assert_int_equal(strlen(buf), 64 + 5 + 64 + 1 + 800);
}

/* =============================================================================
 * Prefix
 * ==========================================================================*/

typedef struct {
    const char  *p;
    size_t       len;
    pit_err_t    expect;
} prefix_case_t;

static void test_prefix_is_1_to_64_printable_ascii(void **state) {
    char     long64[65], long65[66];
    size_t   i;

    memset(long64, 'k', 64);
    long64[64] = '\0';
    memset(long65, 'k', 65);
    long65[65] = '\0';

    const prefix_case_t  cases[] = {
        { "pit:", 4, PIT_OK },
        { "{tenant}:pit:", 13, PIT_OK },
        { "~!", 2, PIT_OK },
        { long64, 64, PIT_OK },
        { long65, 65, PIT_ERR_PREFIX },
        { "", 0, PIT_ERR_PREFIX },
        { "pit :", 5, PIT_ERR_PREFIX },
        { "pit\t", 4, PIT_ERR_PREFIX },
        { "pit\n", 4, PIT_ERR_PREFIX },
        { "pit\x7f", 4, PIT_ERR_PREFIX },
        { "p\0t", 3, PIT_ERR_PREFIX },
        { "caf\xc3\xa9:", 6, PIT_ERR_PREFIX },
        { NULL, 3, PIT_ERR_PREFIX },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(pit_prefix_validate(cases[i].p, cases[i].len),
                         cases[i].expect);
    }
}

static void test_default_prefix_is_valid(void **state) {
    assert_int_equal(pit_prefix_validate(PIT_PREFIX_DEFAULT,
                                         strlen(PIT_PREFIX_DEFAULT)), PIT_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_follow_schema_v1),
        cmocka_unit_test(test_keys_fit_exactly_or_fail_without_truncation),
        cmocka_unit_test(test_keys_reject_null_arguments),
        cmocka_unit_test(test_token_key_parse_reads_back_its_builder),
        cmocka_unit_test(test_name_key_folds_ascii_letters_only),
        cmocka_unit_test(test_key_max_holds_the_longest_name_key),
        cmocka_unit_test(test_prefix_is_1_to_64_printable_ascii),
        cmocka_unit_test(test_default_prefix_is_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
