/*
 * Unit tests for core/pit_admin.c and core/pit_body.c: the admin record,
 * the permission rule, admin tokens, and the admin API's bodies.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pit_admin.h"
#include "pit_body.h"

static void test_admin_may_needs_pi_allowed_and_the_account(void **state) {
    pit_admin_t  a;

    memset(&a, 0, sizeof(a));
    strcpy(a.name, "alice");
    assert_int_equal(pit_admin_add_account(&a, "acct2"), PIT_OK);
    assert_int_equal(pit_admin_add_account(&a, "acct1"), PIT_OK);
    assert_int_equal(pit_admin_add_account(&a, "acct1"), PIT_OK);
    assert_int_equal(a.naccounts, 2);
    assert_string_equal(a.accounts[0], "acct1");
    assert_int_equal(pit_admin_add_account(&a, "a b"), PIT_ERR_ACCOUNT);

    assert_int_equal(pit_admin_may(&a, "acct1"), PIT_ERR_FORBIDDEN);
    a.pi_allowed = 1;
    assert_int_equal(pit_admin_may(&a, "acct1"), PIT_OK);
    assert_int_equal(pit_admin_may(&a, "acct3"), PIT_ERR_FORBIDDEN);
    a.all = 1;
    assert_int_equal(pit_admin_may(&a, "acct3"), PIT_OK);
    a.pi_allowed = 0;
    assert_int_equal(pit_admin_may(&a, "acct3"), PIT_ERR_FORBIDDEN);
}

static void test_admin_record_round_trips(void **state) {
    pit_admin_t  a, b;
    char         buf[PIT_ADMIN_JSON_MAX];
    size_t       len;

    memset(&a, 0, sizeof(a));
    strcpy(a.name, "bob@example.com");
    strcpy(a.created_by, "root");
    a.pi_allowed = 1;
    a.created_at_ms = a.updated_at_ms = 1720630740000;
    pit_admin_add_account(&a, "acct1");
    a.ntokens = 1;
    memset(a.tokens[0].hash, 'a', PIT_HASH_HEX_LEN);
    strcpy(a.tokens[0].hint, "pat-6490****-****-****-****e762");

    assert_int_equal(pit_admin_to_json(&a, buf, sizeof(buf), &len), PIT_OK);
    assert_int_equal(pit_admin_from_json(buf, len, &b), PIT_OK);
    assert_memory_equal(&a, &b, sizeof(a));

    assert_int_equal(pit_admin_from_json("{\"v\":2}", 7, &b),
                     PIT_ERR_VERSION);
    assert_int_equal(pit_admin_from_json("[]", 2, &b), PIT_ERR_JSON);
    strcpy(a.name, "no spaces");
    assert_int_equal(pit_admin_to_json(&a, buf, sizeof(buf), &len),
                     PIT_ERR_FIELD);
}

static void test_admin_token_shape_hint_and_bearer(void **state) {
    char         tok[PIT_TOKEN_LEN + 1], hint[PIT_HINT_LEN + 1];
    char         hdr[64];
    const char  *t;
    size_t       n;

    assert_int_equal(pit_admin_token_generate(tok), PIT_OK);
    assert_memory_equal(tok, "pat-", 4);
    assert_int_equal(pit_admin_token_validate(tok, PIT_TOKEN_LEN), PIT_OK);
    assert_int_equal(pit_token_validate(tok, PIT_TOKEN_LEN),
                     PIT_ERR_TOKEN_MALFORMED);

    pit_admin_token_hint(tok, PIT_TOKEN_LEN, hint);
    assert_memory_equal(hint, "pat-", 4);
    assert_memory_equal(hint + 4, tok + 4, 4);
    assert_non_null(strstr(hint, "****"));

    snprintf(hdr, sizeof(hdr), "bearer  %s ", tok);
    assert_int_equal(pit_admin_token_from_authorization(hdr, strlen(hdr), &t,
                                                        &n), PIT_OK);
    assert_int_equal(n, PIT_TOKEN_LEN);
    assert_memory_equal(t, tok, n);
    assert_int_equal(pit_admin_token_from_authorization("Basic YTpi", 10, &t,
                                                        &n),
                     PIT_ERR_AUTH_SCHEME);
    assert_int_equal(pit_admin_token_from_authorization("Bearer pit-1", 12,
                                                        &t, &n),
                     PIT_ERR_TOKEN_MALFORMED);

    /* masked like an integration token */
    assert_int_equal(pit_token_redact(hdr, strlen(hdr)), 1);
    assert_null(strstr(hdr, tok + 9));
}

typedef struct {
    const char  *body;
    pit_err_t    rc;
    const char  *field;
} body_case_t;

static void test_body_create_names_the_field(void **state) {
    static const body_case_t  cases[] = {
        { "{\"name\":\"a\",\"scopes\":[\"contacts.readonly\"]}", PIT_OK, "" },
        { "{\"name\":\"a\",\"name\":\"b\"}", PIT_ERR_JSON, "name" },
        { "{\"name\":\"a\xff\",\"scopes\":[]}", PIT_ERR_JSON, "name" },
        { "{\"name\":1,\"scopes\":[\"x\"]}", PIT_ERR_FIELD, "name" },
        { "{\"name\":\"a\",\"scopes\":[\"x\",2]}", PIT_ERR_FIELD,
          "scopes[1]" },
        { "{\"name\":\"a\",\"scopes\":[\"x\"],\"zz\":1}", PIT_ERR_FIELD,
          "zz" },
        { "{\"scopes\":[\"x\"]}", PIT_ERR_FIELD, "name" },
        { "[1]", PIT_ERR_JSON, "" },
        { "", PIT_ERR_JSON, "" },
    };
    pit_body_integration_t  b;
    pit_body_error_t        err;
    size_t                  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pit_err_t rc = pit_body_integration(PIT_BODY_CREATE, cases[i].body,
                                            strlen(cases[i].body), &b, &err);
        if (rc != cases[i].rc
            || (rc != PIT_OK && strcmp(err.field, cases[i].field) != 0))
        {
            fail_msg("%s: rc %d field \"%s\"", cases[i].body, rc, err.field);
        }
    }
}

static void test_body_rotate_and_empty(void **state) {
    static const char  later[] = "{\"mode\":\"later\",\"overlap\":\"1d\"}";
    static const char  now[] = "{\"mode\":\"now\",\"overlap\":\"1d\"}";
    pit_body_rotate_t  r;
    pit_body_error_t   err;

    assert_int_equal(pit_body_rotate(later, strlen(later), &r, &err),
                     PIT_OK);
    assert_int_equal(r.now, 0);
    assert_int_equal(r.overlap_ms, 86400000);
    assert_int_equal(pit_body_rotate(now, strlen(now), &r, &err),
                     PIT_ERR_FIELD);
    assert_string_equal(err.field, "overlap");
    assert_int_equal(pit_body_empty("", 0, &err), PIT_OK);
    assert_int_equal(pit_body_empty("{}", 2, &err), PIT_OK);
    assert_int_equal(pit_body_empty("{\"a\":1}", 7, &err), PIT_ERR_FIELD);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_may_needs_pi_allowed_and_the_account),
        cmocka_unit_test(test_admin_record_round_trips),
        cmocka_unit_test(test_admin_token_shape_hint_and_bearer),
        cmocka_unit_test(test_body_create_names_the_field),
        cmocka_unit_test(test_body_rotate_and_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
