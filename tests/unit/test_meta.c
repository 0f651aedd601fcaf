/*
 * Unit tests for core/pit_meta.c: the store mark and the key fingerprint.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/sha.h>

#include "pit_meta.h"
#include "pit_token.h"

#define LIT(s)   s, (sizeof(s) - 1)

static const unsigned char  key_a[] = "0123456789abcdef0123456789abcdef";
static const unsigned char  key_b[] = "fedcba9876543210fedcba9876543210";

/* -----------------------------------------------------------------------------
 * Fingerprint
 * -------------------------------------------------------------------------- */

static void test_fingerprint_is_sha256_of_context_and_key(void **state) {
    unsigned char  buf[256], d[SHA256_DIGEST_LENGTH];
    char           want[65], fp[PIT_FINGERPRINT_LEN + 1];
    size_t         n;

    (void) state;
    n = strlen(PIT_FINGERPRINT_CONTEXT);
    memcpy(buf, PIT_FINGERPRINT_CONTEXT, n);
    memcpy(buf + n, key_a, 32);
    SHA256(buf, n + 32, d);
    pit_hex_encode(d, 8, want);
    want[16] = '\0';

    assert_int_equal(pit_meta_fingerprint(key_a, 32, fp), PIT_OK);
    assert_string_equal(fp, want);
    assert_int_equal(strlen(fp), 16);
}

static void test_fingerprint_differs_per_key_and_never_shows_it(void **state) {
    char  a[PIT_FINGERPRINT_LEN + 1], b[PIT_FINGERPRINT_LEN + 1];

    (void) state;
    assert_int_equal(pit_meta_fingerprint(key_a, 32, a), PIT_OK);
    assert_int_equal(pit_meta_fingerprint(key_b, 32, b), PIT_OK);
    assert_string_not_equal(a, b);
    assert_null(strstr((const char *) key_a, a));
}

static void test_fingerprint_of_no_key_is_empty(void **state) {
    char  fp[PIT_FINGERPRINT_LEN + 1] = "x";

    (void) state;
    assert_int_equal(pit_meta_fingerprint(NULL, 0, fp), PIT_OK);
    assert_string_equal(fp, "");
    assert_int_equal(pit_meta_fingerprint(key_a, PIT_HASH_KEY_MAX + 1, fp),
                     PIT_ERR_HASH_KEY);
}

/* -----------------------------------------------------------------------------
 * Encode / decode
 * -------------------------------------------------------------------------- */

static void test_meta_round_trips_both_modes(void **state) {
    pit_meta_t  m, back;
    char        buf[PIT_META_JSON_MAX];
    size_t      len;

    (void) state;
    assert_int_equal(pit_meta_init(&m, key_a, 32, 1720630740000LL), PIT_OK);
    assert_int_equal(m.hash, PIT_HASH_HMAC_SHA256);
    assert_int_equal(pit_meta_to_json(&m, buf, sizeof(buf), &len), PIT_OK);
    assert_int_equal(len, strlen(buf));
    assert_non_null(strstr(buf, "\"hash\":\"hmac-sha256\""));
    assert_int_equal(pit_meta_from_json(buf, len, &back), PIT_OK);
    assert_int_equal(back.version, 1);
    assert_int_equal(back.hash, PIT_HASH_HMAC_SHA256);
    assert_string_equal(back.fingerprint, m.fingerprint);
    assert_int_equal(back.created_at_ms, 1720630740000LL);

    assert_int_equal(pit_meta_init(&m, NULL, 0, 5), PIT_OK);
    assert_int_equal(pit_meta_to_json(&m, buf, sizeof(buf), &len), PIT_OK);
    assert_string_equal(buf, "{\"v\":1,\"hash\":\"sha256\","
                        "\"key_fingerprint\":\"\",\"created_at\":5}");
    assert_int_equal(pit_meta_from_json(buf, len, &back), PIT_OK);
    assert_int_equal(back.hash, PIT_HASH_SHA256);
}

static void test_meta_encode_refuses_small_buffer_and_bad_mark(void **state) {
    pit_meta_t  m;
    char        buf[16];

    (void) state;
    assert_int_equal(pit_meta_init(&m, key_a, 32, 1), PIT_OK);
    assert_int_equal(pit_meta_to_json(&m, buf, sizeof(buf), NULL),
                     PIT_ERR_TOO_LARGE);
    assert_string_equal(buf, "");
    m.fingerprint[0] = 'X';
    assert_int_equal(pit_meta_to_json(&m, buf, sizeof(buf), NULL),
                     PIT_ERR_FIELD);
}

static void test_meta_decode_is_strict(void **state) {
    static const struct {
        const char  *json;
        pit_err_t    rc;
    } cases[] = {
        { "", PIT_ERR_JSON },
        { "[]", PIT_ERR_JSON },
        { "{\"v\":2,\"hash\":\"sha256\",\"key_fingerprint\":\"\","
          "\"created_at\":1}", PIT_ERR_VERSION },
        { "{\"hash\":\"sha256\",\"key_fingerprint\":\"\",\"created_at\":1}",
          PIT_ERR_VERSION },
        { "{\"v\":1,\"hash\":\"md5\",\"key_fingerprint\":\"\","
          "\"created_at\":1}", PIT_ERR_FIELD },
        { "{\"v\":1,\"hash\":\"sha256\",\"key_fingerprint\":\"0123456789abcdef\","
          "\"created_at\":1}", PIT_ERR_FIELD },
        { "{\"v\":1,\"hash\":\"hmac-sha256\",\"key_fingerprint\":\"\","
          "\"created_at\":1}", PIT_ERR_FIELD },
        { "{\"v\":1,\"hash\":\"hmac-sha256\",\"key_fingerprint\":"
          "\"0123456789ABCDEF\",\"created_at\":1}", PIT_ERR_FIELD },
        { "{\"v\":1,\"hash\":\"sha256\",\"key_fingerprint\":\"\","
          "\"created_at\":0}", PIT_ERR_FIELD },
        { "{\"v\":1,\"hash\":\"sha256\",\"key_fingerprint\":\"\","
          "\"created_at\":\"1\"}", PIT_ERR_FIELD },
        { "{\"v\":1,\"v\":1,\"hash\":\"sha256\",\"key_fingerprint\":\"\","
          "\"created_at\":1}", PIT_ERR_JSON },
        { "{\"v\":1,\"hash\":\"sha256\",\"key_fingerprint\":\"\","
          "\"created_at\":1,\"later\":true}", PIT_OK },
    };
    pit_meta_t  m;
    size_t      i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (pit_meta_from_json(cases[i].json, strlen(cases[i].json), &m)
            != cases[i].rc)
        {
            fail_msg("case %zu: %s", i, cases[i].json);
        }
    }
}

/* -----------------------------------------------------------------------------
 * Checking a key against a mark
 * -------------------------------------------------------------------------- */

static void test_check_key_tells_mode_and_key_apart(void **state) {
    pit_meta_t  hmac, plain;

    (void) state;
    assert_int_equal(pit_meta_init(&hmac, key_a, 32, 1), PIT_OK);
    assert_int_equal(pit_meta_init(&plain, NULL, 0, 1), PIT_OK);

    assert_int_equal(pit_meta_check_key(&hmac, key_a, 32), PIT_OK);
    assert_int_equal(pit_meta_check_key(&hmac, key_b, 32), PIT_ERR_HASH_KEY);
    assert_int_equal(pit_meta_check_key(&hmac, NULL, 0), PIT_ERR_HASH_KEY);
    assert_int_equal(pit_meta_check_key(&plain, NULL, 0), PIT_OK);
    assert_int_equal(pit_meta_check_key(&plain, key_a, 32), PIT_ERR_HASH_KEY);
    assert_true(pit_meta_same_key(&hmac, &hmac));
    assert_false(pit_meta_same_key(&hmac, &plain));
    assert_string_equal(pit_hash_mode_name(PIT_HASH_SHA256), "sha256");
    assert_string_equal(pit_hash_mode_name(PIT_HASH_HMAC_SHA256),
                        "hmac-sha256");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_is_sha256_of_context_and_key),
        cmocka_unit_test(test_fingerprint_differs_per_key_and_never_shows_it),
        cmocka_unit_test(test_fingerprint_of_no_key_is_empty),
        cmocka_unit_test(test_meta_round_trips_both_modes),
        cmocka_unit_test(test_meta_encode_refuses_small_buffer_and_bad_mark),
        cmocka_unit_test(test_meta_decode_is_strict),
        cmocka_unit_test(test_check_key_tells_mode_and_key_apart),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
