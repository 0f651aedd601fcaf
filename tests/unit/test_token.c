/*
 * Unit tests for core/pit_token.c: token format, Authorization parsing,
 * hashing, hints, hex, integration ids and the hash key file.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pit_token.h"

#define TOK      "pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762"
#define TOK_B    "pit-00000000-0000-0000-0000-000000000000"

/* Length of a string literal, embedded NULs included. */
#define LIT(s)   s, (sizeof(s) - 1)

/* -----------------------------------------------------------------------------
 * pit_token_validate
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *what;
    const char  *s;
    size_t       len;
    pit_err_t    rc;
} token_case_t;

static const token_case_t token_cases[] = {
    { "well formed",          LIT(TOK),                             PIT_OK },
    { "all zero",             LIT(TOK_B),                           PIT_OK },
    { "all f",     LIT("pit-ffffffff-ffff-ffff-ffff-ffffffffffff"), PIT_OK },
    { "empty",                LIT(""),               PIT_ERR_TOKEN_MALFORMED },
    { "prefix only",          LIT("pit-"),           PIT_ERR_TOKEN_MALFORMED },
    { "39 chars",
      LIT("pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe76"),
      PIT_ERR_TOKEN_MALFORMED },
    { "41 chars",
      LIT("pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe7620"),
      PIT_ERR_TOKEN_MALFORMED },
    { "uppercase hex",
      LIT("pit-6490A1B2-c3d4-4e5f-8a9b-0c1d2e3fe762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "uppercase prefix",
      LIT("PIT-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "other prefix",
      LIT("pat-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "dash moved left",
      LIT("pit-6490a1b-2c3d4-4e5f-8a9b-0c1d2e3fe762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "dash moved right",
      LIT("pit-6490a1b2-c3d44-e5f-8a9b-0c1d2e3fe762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "no dashes, same length",
      LIT("pit-6490a1b20c3d404e5f08a9b00c1d2e3fe762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "dash instead of hex",
      LIT("pit-6490a1b2-c3d4-4e5f-8a9b--c1d2e3fe762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "non-hex letter",
      LIT("pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fg762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "embedded NUL",
      LIT("pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3f\0" "762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "non-ASCII byte",
      LIT("pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3f\xe9" "762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "uuid without prefix",
      LIT("6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762"),
      PIT_ERR_TOKEN_MALFORMED },
    { "braced uuid",
      LIT("pit{6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe76}"),
      PIT_ERR_TOKEN_MALFORMED },
};

static void test_validate_accepts_only_exact_lowercase_shape(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]); i++) {
        const token_case_t *c = &token_cases[i];

        if (pit_token_validate(c->s, c->len) != c->rc) {
            fail_msg("validate: %s: got %d, want %d", c->what,
                     pit_token_validate(c->s, c->len), c->rc);
        }
    }
}

static void test_validate_reads_only_len_bytes(void **state) {
    (void) state;
    /* A valid token followed by more bytes: only len counts. */
    assert_int_equal(pit_token_validate(TOK "xyz", PIT_TOKEN_LEN), PIT_OK);
    assert_int_equal(pit_token_validate(TOK, PIT_TOKEN_LEN - 1),
                     PIT_ERR_TOKEN_MALFORMED);
}

/* -----------------------------------------------------------------------------
 * pit_token_generate
 * -------------------------------------------------------------------------- */

static void test_generate_yields_valid_distinct_tokens(void **state) {
    char a[PIT_TOKEN_LEN + 1], b[PIT_TOKEN_LEN + 1];

    (void) state;
    memset(a, 'x', sizeof(a));
    assert_int_equal(pit_token_generate(a), PIT_OK);
    assert_int_equal(a[PIT_TOKEN_LEN], '\0');
    assert_int_equal(strlen(a), PIT_TOKEN_LEN);
    assert_int_equal(pit_token_validate(a, strlen(a)), PIT_OK);

    assert_int_equal(pit_token_generate(b), PIT_OK);
    assert_string_not_equal(a, b);
}

static void test_generate_randomizes_all_128_bits(void **state) {
    /* seen[position][digit]: a v4 UUID would pin the version digit to '4'
     * and the variant digit to 8-b; every digit must take every value. */
    unsigned char  seen[PIT_TOKEN_LEN][16];
    char           t[PIT_TOKEN_LEN + 1];
    int            i, p, d, missing = 0;

    (void) state;
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < 2000; i++) {
        assert_int_equal(pit_token_generate(t), PIT_OK);
        for (p = 4; p < PIT_TOKEN_LEN; p++) {
            if (t[p] == '-') continue;
            d = (t[p] <= '9') ? t[p] - '0' : t[p] - 'a' + 10;
            assert_in_range(d, 0, 15);
            seen[p][d] = 1;
        }
    }
    for (p = 4; p < PIT_TOKEN_LEN; p++) {
        if (p == 12 || p == 17 || p == 22 || p == 27) continue;
        for (d = 0; d < 16; d++) {
            if (!seen[p][d]) missing++;
        }
    }
    assert_int_equal(missing, 0);
}

/* -----------------------------------------------------------------------------
 * pit_token_from_authorization
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *what;
    const char  *s;
    size_t       len;
    pit_err_t    rc;
    size_t       at;        /* offset of the token on PIT_OK */
} auth_case_t;

/* Short names keep the table one case a line. */
#define OK(what, lit, at)  { what, lit, PIT_OK, at }
#define EMPTY(what, lit)   { what, lit, PIT_ERR_AUTH_EMPTY, 0 }
#define SCHEME(what, lit)  { what, lit, PIT_ERR_AUTH_SCHEME, 0 }
#define BAD(what, lit)     { what, lit, PIT_ERR_TOKEN_MALFORMED, 0 }

static const auth_case_t auth_cases[] = {
    OK("bearer token",              LIT("Bearer " TOK), 7),
    OK("lowercase scheme",          LIT("bearer " TOK), 7),
    OK("uppercase scheme",          LIT("BEARER " TOK), 7),
    OK("mixed case scheme",         LIT("bEaReR " TOK), 7),
    OK("two spaces",                LIT("Bearer  " TOK), 8),
    OK("many spaces",               LIT("Bearer     " TOK), 11),
    OK("bare token",                LIT(TOK), 0),

    EMPTY("empty",                  LIT("")),
    EMPTY("one space",              LIT(" ")),
    EMPTY("only blanks",            LIT("  \t  ")),
    EMPTY("Bearer alone",           LIT("Bearer")),
    EMPTY("bearer alone",           LIT("bearer")),
    EMPTY("Bearer and spaces",      LIT("Bearer   ")),

    SCHEME("Basic credentials",     LIT("Basic dXNlcg==")),
    SCHEME("Basic xyz",             LIT("Basic xyz")),
    SCHEME("Basic with a token",    LIT("Basic " TOK)),
    SCHEME("Token scheme",          LIT("Token abc")),
    SCHEME("Digest params",         LIT("Digest username=\"a\", nc=1")),
    SCHEME("unregistered scheme",   LIT("Foo bar")),
    SCHEME("Basic alone",           LIT("Basic")),
    SCHEME("basic alone lowercase", LIT("basic")),
    SCHEME("Negotiate alone",       LIT("Negotiate")),
    SCHEME("Basic and spaces",      LIT("Basic   ")),
    SCHEME("Bearerx is a scheme",   LIT("Bearerx " TOK)),
    SCHEME("other scheme, trailing SP", LIT("Basic abc ")),

    BAD("bare word",                LIT("abc")),
    BAD("bare word and spaces",     LIT("abc   ")),
    BAD("bare base64",              LIT("dXNlcg==")),
    BAD("Bearer not a token",       LIT("Bearer abc")),
    BAD("Bearer 39 chars",
        LIT("Bearer pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe76")),
    BAD("Bearer 41 chars",          LIT("Bearer " TOK "0")),
    BAD("Bearer uppercase hex",
        LIT("Bearer pit-6490A1B2-C3D4-4E5F-8A9B-0C1D2E3FE762")),
    BAD("tab separator",            LIT("Bearer\t" TOK)),
    BAD("space and tab",            LIT("Bearer \t" TOK)),
    BAD("Bearer and tab",           LIT("Bearer\t")),
    BAD("trailing space",           LIT("Bearer " TOK " ")),
    BAD("bare token, trailing SP",  LIT(TOK " ")),
    BAD("leading space",            LIT(" Bearer " TOK)),
    BAD("bare token, leading SP",   LIT(" " TOK)),
    BAD("two tokens",               LIT("Bearer " TOK " " TOK)),
    BAD("token then garbage",       LIT(TOK " x")),
    BAD("token then Bearer",        LIT(TOK " Bearer")),
    BAD("uppercase prefix, garbage",
        LIT("PIT-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762 x")),
    BAD("comma-joined headers",     LIT("Bearer " TOK ", Bearer " TOK)),
    BAD("NUL after token",          LIT("Bearer " TOK "\0")),
    BAD("NUL inside token",
        LIT("Bearer pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3f\0" "762")),
    BAD("NUL alone",                LIT("\0")),
    BAD("CRLF injection",           LIT("Bearer " TOK "\r\nX: y")),
    BAD("non-ASCII in scheme",      LIT("B\xc3\xa9" "arer " TOK)),
    BAD("non-ASCII credential",     LIT("Basic \xff\xfe")),
    BAD("DEL byte",                 LIT("Bearer \x7f")),
    BAD("scheme not a tchar",       LIT("Bea/rer " TOK)),
    BAD("quoted scheme",            LIT("\"Basic\" abc")),
    BAD("query-style",              LIT("access_token=" TOK)),
};

static void test_authorization_table(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
        const auth_case_t  *c = &auth_cases[i];
        const char         *tok = NULL;
        size_t              tok_len = 0;
        pit_err_t           rc;

        rc = pit_token_from_authorization(c->s, c->len, &tok, &tok_len);
        if (rc != c->rc) {
            fail_msg("authorization: %s: got %d (%s), want %d (%s)",
                     c->what, rc, pit_strerror(rc), c->rc,
                     pit_strerror(c->rc));
        }
        if (rc == PIT_OK) {
            if (tok != c->s + c->at || tok_len != PIT_TOKEN_LEN)
                fail_msg("authorization: %s: token not at %zu", c->what,
                         c->at);
        }
    }
}

static void test_authorization_leaves_outputs_on_error(void **state) {
    const char  *tok = (const char *) 1;
    size_t       tok_len = 7;

    (void) state;
    assert_int_equal(pit_token_from_authorization(LIT("Basic x"), &tok,
                                                  &tok_len),
                     PIT_ERR_AUTH_SCHEME);
    assert_ptr_equal(tok, (const char *) 1);
    assert_int_equal(tok_len, 7);
}

static void test_authorization_reads_only_len_bytes(void **state) {
    const char  *tok;
    size_t       tok_len;

    (void) state;
    /* The value is cut by len, not by a NUL: what follows is ignored. */
    assert_int_equal(pit_token_from_authorization("Bearer " TOK "garbage",
                                                  7 + PIT_TOKEN_LEN, &tok,
                                                  &tok_len),
                     PIT_OK);
    assert_int_equal(pit_token_from_authorization("Bearer " TOK, 6, &tok,
                                                  &tok_len),
                     PIT_ERR_AUTH_EMPTY);
}

/* -----------------------------------------------------------------------------
 * Hashing
 * -------------------------------------------------------------------------- */

static void test_hash_sha256_of_abc(void **state) {
    char hex[PIT_HASH_HEX_LEN + 1];

    (void) state;
    assert_int_equal(pit_token_hash_hex(LIT("abc"), NULL, 0, hex), PIT_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
}

static void test_hash_sha256_of_token(void **state) {
    char hex[PIT_HASH_HEX_LEN + 1];

    (void) state;
    assert_int_equal(pit_token_hash_hex(LIT(TOK), NULL, 0, hex), PIT_OK);
    assert_string_equal(hex, "dd7731cc0bd379a8179fb5bf7179b597"
                             "80c1cc244ba2d98ad8d5e9a8d32035f8");
}

static void test_hash_empty_key_means_plain_sha256(void **state) {
    unsigned char  key[] = "ignored";
    char           a[PIT_HASH_HEX_LEN + 1], b[PIT_HASH_HEX_LEN + 1];

    (void) state;
    assert_int_equal(pit_token_hash_hex(LIT(TOK), key, 0, a), PIT_OK);
    assert_int_equal(pit_token_hash_hex(LIT(TOK), NULL, 0, b), PIT_OK);
    assert_string_equal(a, b);
}

static void test_hash_hmac_rfc4231_case2(void **state) {
    static const unsigned char  key[] = "Jefe";
    char                        hex[PIT_HASH_HEX_LEN + 1];

    (void) state;
    assert_int_equal(pit_token_hash_hex(LIT("what do ya want for nothing?"),
                                        key, 4, hex),
                     PIT_OK);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843");
}

static void test_hash_hmac_of_token(void **state) {
    static const unsigned char  key[] = "0123456789abcdef0123456789abcdef";
    char                        hex[PIT_HASH_HEX_LEN + 1];

    (void) state;
    assert_int_equal(pit_token_hash_hex(LIT(TOK), key, 32, hex), PIT_OK);
    assert_string_equal(hex, "c6bed7b1417b1acff224e583c97f1f05"
                             "e75fc874b700c291a11e81ada850b08f");
}

static void test_hash_raw_matches_hex(void **state) {
    unsigned char  raw[PIT_HASH_LEN], back[PIT_HASH_LEN];
    char           hex[PIT_HASH_HEX_LEN + 1];

    (void) state;
    assert_int_equal(pit_token_hash(LIT(TOK), NULL, 0, raw), PIT_OK);
    assert_int_equal(pit_token_hash_hex(LIT(TOK), NULL, 0, hex), PIT_OK);
    assert_int_equal(strlen(hex), PIT_HASH_HEX_LEN);
    assert_int_equal(pit_hex_decode(hex, PIT_HASH_LEN, back), PIT_OK);
    assert_memory_equal(raw, back, PIT_HASH_LEN);
}


/* The reusable hasher must give pit_token_hash()'s answer for every key
 * length class: none, short, exactly one block, longer than a block. */
static void test_hasher_matches_one_shot_hash(void **state) {
    static const size_t  lens[] = { 0, 4, 32, 64, 65, 200 };
    unsigned char        key[200], a[PIT_HASH_LEN], b[PIT_HASH_LEN];
    pit_hasher_t        *h;
    size_t               i, k;

    (void) state;
    for (i = 0; i < sizeof(key); i++) key[i] = (unsigned char) (i * 7 + 1);

    for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        assert_int_equal(pit_hasher_new(&h, lens[k] ? key : NULL, lens[k]),
                         PIT_OK);
        for (i = 0; i < 3; i++) {     /* reuse must not carry state over */
            assert_int_equal(pit_token_hash(LIT(TOK), lens[k] ? key : NULL,
                                            lens[k], a), PIT_OK);
            assert_int_equal(pit_hasher_hash(h, LIT(TOK), b), PIT_OK);
            assert_memory_equal(a, b, PIT_HASH_LEN);
        }
        pit_hasher_free(h);
    }
}

static void test_hasher_hmac_rfc4231_case2(void **state) {
    static const unsigned char  key[] = "Jefe";
    unsigned char               raw[PIT_HASH_LEN];
    char                        hex[PIT_HASH_HEX_LEN + 1];
    pit_hasher_t               *h;

    (void) state;
    assert_int_equal(pit_hasher_new(&h, key, 4), PIT_OK);
    assert_int_equal(pit_hasher_hash(h, LIT("what do ya want for nothing?"),
                                     raw), PIT_OK);
    pit_hex_encode(raw, PIT_HASH_LEN, hex);
    hex[PIT_HASH_HEX_LEN] = '\0';
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843");
    pit_hasher_free(h);
    pit_hasher_free(NULL);
}

static void test_hasher_rejects_bad_arguments(void **state) {
    pit_hasher_t  *h;

    (void) state;
    assert_int_equal(pit_hasher_new(NULL, NULL, 0), PIT_ERR_ARG);
    assert_int_equal(pit_hasher_new(&h, NULL, 5), PIT_ERR_ARG);
}

/* -----------------------------------------------------------------------------
 * Hints
 * -------------------------------------------------------------------------- */

static void test_hint_masks_middle_of_token(void **state) {
    char hint[PIT_HINT_LEN + 1];

    (void) state;
    pit_token_hint(LIT(TOK), hint);
    assert_string_equal(hint, "pit-6490****-****-****-****e762");
}

typedef struct {
    const char  *what;
    const char  *s;
    size_t       len;
} hint_case_t;

static const hint_case_t hint_bad[] = {
    { "41 chars",       LIT(TOK "0") },
    { "39 chars",       LIT("pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe76") },
    { "uppercase",      LIT("pit-6490A1B2-C3D4-4E5F-8A9B-0C1D2E3FE762") },
    { "empty",          LIT("") },
    { "embedded NUL",   LIT("pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3f\0" "762") },
    { "password",       LIT("hunter2hunter2") },
};

static void test_hint_of_malformed_input_leaks_nothing(void **state) {
    char    hint[PIT_HINT_LEN + 1];
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(hint_bad) / sizeof(hint_bad[0]); i++) {
        memset(hint, 'Z', sizeof(hint));
        pit_token_hint(hint_bad[i].s, hint_bad[i].len, hint);
        if (strcmp(hint, "pit-????****-****-****-****????") != 0)
            fail_msg("hint: %s: got \"%s\"", hint_bad[i].what, hint);
    }
}

static void test_hint_fits_its_buffer(void **state) {
    char hint[PIT_HINT_LEN + 1];

    (void) state;
    pit_token_hint(LIT(TOK), hint);
    assert_true(strlen(hint) <= PIT_HINT_LEN);
    pit_token_hint(LIT("x"), hint);
    assert_true(strlen(hint) <= PIT_HINT_LEN);
}

/* -----------------------------------------------------------------------------
 * Redaction
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *what;
    const char  *in;
    const char  *out;
    size_t       count;
} redact_case_t;

#define MASKED  "pit-6490****-****-****-****-********e762"

static const redact_case_t redact_cases[] = {
    { "whole token",       TOK,                   MASKED,                1 },
    { "header line",       "http header: \"Authorization: Bearer " TOK "\"",
                           "http header: \"Authorization: Bearer " MASKED "\"",
                                                                          1 },
    { "query string",      "GET /a?access_token=" TOK "&b=1 HTTP/1.1",
                           "GET /a?access_token=" MASKED "&b=1 HTTP/1.1", 1 },
    { "two tokens",        TOK "," TOK,           MASKED "," MASKED,      2 },
    { "admin token",       "Bearer pat-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762",
                           "Bearer pat-6490****-****-****-****-********e762",
                                                                          1 },
    { "path and patch",    "PATCH /path/pat-1 patterns",
                           "PATCH /path/pat-1 patterns",                  0 },
    { "glued to text",     "x" TOK "y",           "x" MASKED "y",         1 },
    { "uppercase",         "PIT-6490A1B2-C3D4-4E5F-8A9B-0C1D2E3FE762",
                           "PIT-6490****-****-****-****-********E762",    1 },
    { "one typo late",     "pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe7x2",
                           "pit-********-****-****-****-**********x*",    1 },
    { "one typo early",    "pit-6490aZb2-c3d4-4e5f-8a9b-0c1d2e3fe762 ok",
                           "pit-*****Z**-****-****-****-************ ok", 1 },
    { "six typos",         "pit-6490aZb2Zc3d4_4e5f:8a9b.0c1d2e3fe7Z2",
                           "pit-*****Z**Z****_****:****.**********Z*",    1 },
    { "seven typos",       "pit-6490aZb2Zc3d4_4e5f:8a9b.0c1d2e3fe7ZZ",
                           "pit-6490aZb2Zc3d4_4e5f:8a9b.0c1d2e3fe7ZZ",    0 },
    { "split by a space",  "pit-6490a b2-c3d4-4e5f-8a9b-0c1d2e3fe762",
                           "pit-***** **-****-****-****-************",    1 },
    { "two tokens, typos", "pit-6490a1b2-c3d4-4e5f-8a9b-0c1pit-"
                           "6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762",
                           "pit-********-****-****-****-***pit-"
                           "6490****-****-****-****-********e762",        2 },
    { "typo, then a token", "pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe7PIT-"
                           "6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762",
                           "pit-********-****-****-****-**********PIT-"
                           "6490****-****-****-****-********e762",        2 },
    { "cut by the end",    "Bearer pit-6490a1b2-c3d4-4e5f-8",
                           "Bearer pit-********-****-****-*",             1 },
    { "cut by a line end", "Bearer pit-6490a1\n",
                           "Bearer pit-******\n",                         1 },
    { "cut by CR LF",      "pit-6490\r\n",       "pit-****\r\n",          1 },
    { "product name",      "/opt/pit-auth/pit-auth.conf",
                           "/opt/pit-auth/pit-auth.conf",                 0 },
    { "short word",        "pit-face off",        "pit-face off",         0 },
    { "underscore first",  "pit_6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762",
                           "pit_********-****-****-****-************",    1 },
    { "already masked",    MASKED,                MASKED,                 0 },
    { "hint",              "pit-6490****-****-****-****e762",
                           "pit-6490****-****-****-****e762",             0 },
    { "prefix alone",      "pit-",                "pit-",                 0 },
    { "empty",             "",                    "",                     0 },
    { "pit-pit-token",     "pit-" TOK,            "pit-" MASKED,          1 },

    /*
     * Finding 7: the token as a client or a form may send it.  Anything
     * but the token as issued loses every hex digit (no hint), and an
     * escape encoding a digit loses both of its own.
     */
    { "%2D dashes",        "?t=pit%2D6490a1b2%2Dc3d4%2D4e5f%2D8a9b%2D"
                           "0c1d2e3fe762&x=1",
                           "?t=pit%2D********%2D****%2D****%2D****%2D"
                           "************&x=1",                            1 },
    { "%2d dashes",        "pit%2d6490a1b2%2dc3d4%2d4e5f%2d8a9b%2d"
                           "0c1d2e3fe762",
                           "pit%2d********%2d****%2d****%2d****%2d"
                           "************",                                1 },
    { "%70it",             "%70it-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762",
                           "%70it-********-****-****-****-************",  1 },
    { "%50%49%54 (PIT)",   "%50%49%54%2D6490a1b2-c3d4-4e5f-8a9b-"
                           "0c1d2e3fe762",
                           "%50%49%54%2D********-****-****-****-"
                           "************",                                1 },
    { "encoded digits",    "pit-%36490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe76%32",
                           "pit-%*********-****-****-****-***********%**",
                                                                          1 },
    { "all encoded",       "%70%69%74%2D%36%34%39%30%61%31%62%32%2D%63%33"
                           "%64%34%2D%34%65%35%66%2D%38%61%39%62%2D%30%63"
                           "%31%64%32%65%33%66%65%37%36%32",
                           "%70%69%74%2D%**%**%**%**%**%**%**%**%2D%**%**"
                           "%**%**%2D%**%**%**%**%2D%**%**%**%**%2D%**%**"
                           "%**%**%**%**%**%**%**%**%**%**",              1 },
    { "underscores",       "pit_6490a1b2_c3d4_4e5f_8a9b_0c1d2e3fe762",
                           "pit_********_****_****_****_************",    1 },
    { "dots",              "pit.6490a1b2.c3d4.4e5f.8a9b.0c1d2e3fe762",
                           "pit.********.****.****.****.************",    1 },
    { "spaces",            "pit 6490a1b2 c3d4 4e5f 8a9b 0c1d2e3fe762 200 5",
                           "pit ******** **** **** **** ************ 200 5",
                                                                          1 },
    { "pluses",            "pit+6490a1b2+c3d4+4e5f+8a9b+0c1d2e3fe762",
                           "pit+********+****+****+****+************",    1 },
    { "%20",               "pit%206490a1b2%20c3d4%204e5f%208a9b%20"
                           "0c1d2e3fe762",
                           "pit%20********%20****%20****%20****%20"
                           "************",                                1 },
    { "%5F",               "pit%5F6490a1b2%5Fc3d4%5F4e5f%5F8a9b%5F"
                           "0c1d2e3fe762",
                           "pit%5F********%5F****%5F****%5F****%5F"
                           "************",                                1 },
    { "%2E",               "pit%2E6490a1b2%2Ec3d4%2E4e5f%2E8a9b%2E"
                           "0c1d2e3fe762",
                           "pit%2E********%2E****%2E****%2E****%2E"
                           "************",                                1 },
    { "no separator",      "pit6490a1b2c3d44e5f8a9b0c1d2e3fe762 ok",
                           "pit******************************** ok",      1 },
    { "pit- and 32 hex",   "pit-6490a1b2c3d44e5f8a9b0c1d2e3fe762",
                           "pit-********************************",        1 },
    { "PIT and 32 HEX",    "PIT6490A1B2C3D44E5F8A9B0C1D2E3FE762",
                           "PIT********************************",         1 },
    { "mixed separators",  "pit-6490a1b2_c3d4.4e5f%2D8a9b+0c1d2e3fe762",
                           "pit-********_****.****%2D****+************",  1 },
    { "review's split",    "pit-1c50e2bb-3c7c-4404 be9a-587f0106f712",
                           "pit-********-****-**** ****-************",    1 },
    { "split anywhere",    "pit-1c50 e2bb3c7c 4404be9a587f0106f712",
                           "pit-**** ******** ********************",      1 },
    { "space after pit-",  "pit- 6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762",
                           "pit- ********-****-****-****-************",   1 },
    { "split by a comma",  "pit-6490a1b2-c3d4, 4e5f8a9b0c1d2e3fe762",
                           "pit-********-****, ********************",      1 },
    { "split by slashes",  "pit-6490a1b2/c3d4/4e5f/8a9b/0c1d2e3fe762",
                           "pit-********/****/****/****/************",    1 },
    { "cut, encoded",      "GET /?t=pit%2D6490a1b2%2Dc3d4 HTTP/1.1",
                           "GET /?t=pit%2D********%2D**** HTTP/1.1",      1 },
    { "cut, no dash",      "pit_6490a1b2c3\n",   "pit_**********\n",   1 },
    { "32 digits at most", TOK " deadbeefdeadbeef",
                           MASKED " deadbeefdeadbeef",                    1 },
    { "partial then words", "pit-6490a1b2, a bad day",
                           "pit-********, a bad day",                     1 },
    { "partial then HTTP", "pit-6490a1b2 HTTP/1.1\" 200 612",
                           "pit-******** HTTP/1.1\" 200 612",            1 },
    /* fail safe: "pit" ending a word and 8 hex digits look like a token */
    { "cockpit hash",      "cockpit deadbeef",    "cockpit ********",     1 },
    { "pit and a date",    "the pit 2024-05-01",  "the pit ****-**-**",   1 },

    /* not tokens, left alone */
    { "split",             "split 12 ways",       "split 12 ways",        0 },
    { "hospital",          "hospital cafe",       "hospital cafe",        0 },
    { "pit stop",          "pit stop at 12:00",   "pit stop at 12:00",    0 },
    { "bare UUID",         "1c50e2bb-3c7c-4404-be9a-587f0106f712",
                           "1c50e2bb-3c7c-4404-be9a-587f0106f712",        0 },
    { "bare 32 hex",       "etag 1c50e2bb3c7c4404be9a587f0106f712",
                           "etag 1c50e2bb3c7c4404be9a587f0106f712",       0 },
    { "7 digits",          "pit_6490a1b ok",      "pit_6490a1b ok",       0 },
    { "masked, encoded",   "pit%2D********%2D****",
                           "pit%2D********%2D****",                       0 },
    { "masked digits",     "pit-%**%**%**%**%**%**%**%**",
                           "pit-%**%**%**%**%**%**%**%**",                0 },
};

static void test_redact_table(void **state) {
    char    buf[256];
    size_t  i, n, len;

    (void) state;
    for (i = 0; i < sizeof(redact_cases) / sizeof(redact_cases[0]); i++) {
        len = strlen(redact_cases[i].in);
        memcpy(buf, redact_cases[i].in, len + 1);
        n = pit_token_redact(buf, len);
        if (strcmp(buf, redact_cases[i].out) != 0
            || n != redact_cases[i].count)
        {
            fail_msg("redact: %s: got \"%s\" (%zu), want \"%s\" (%zu)",
                     redact_cases[i].what, buf, n, redact_cases[i].out,
                     redact_cases[i].count);
        }
        /* a second pass finds nothing left to mask */
        if (pit_token_redact(buf, len) != 0
            || strcmp(buf, redact_cases[i].out) != 0)
        {
            fail_msg("redact: %s: second pass gave \"%s\"",
                     redact_cases[i].what, buf);
        }
    }
}

static void test_redact_keeps_length_and_bounds(void **state) {
    char  buf[2 * PIT_TOKEN_LEN];

    (void) state;
    /* only the first len bytes are looked at and changed */
    memcpy(buf, TOK TOK, 2 * PIT_TOKEN_LEN);
    assert_int_equal(pit_token_redact(buf, PIT_TOKEN_LEN), 1);
    assert_memory_equal(buf, MASKED, PIT_TOKEN_LEN);
    assert_memory_equal(buf + PIT_TOKEN_LEN, TOK, PIT_TOKEN_LEN);
    assert_int_equal(pit_token_redact(NULL, 10), 0);
}

/* A fresh token is always found, wherever it sits in a line. */
static void test_redact_finds_generated_tokens(void **state) {
    char    tok[PIT_TOKEN_LEN + 1], line[128];
    size_t  i, at;

    (void) state;
    for (i = 0; i < 200; i++) {
        assert_int_equal(pit_token_generate(tok), PIT_OK);
        at = i % 60;
        memset(line, 'z', sizeof(line) - 1);
        line[sizeof(line) - 1] = '\0';
        memcpy(line + at, tok, PIT_TOKEN_LEN);
        assert_int_equal(pit_token_redact(line, at + PIT_TOKEN_LEN + 5), 1);
        assert_null(strstr(line, tok));
        assert_memory_equal(line + at, tok, 8);
        assert_memory_equal(line + at + 36, tok + 36, 4);
    }
}

/* -----------------------------------------------------------------------------
 * Hex and constant-time compare
 * -------------------------------------------------------------------------- */

static void test_hex_encode_is_lowercase(void **state) {
    static const unsigned char  in[] = { 0x00, 0x01, 0xab, 0xcd, 0xef, 0xff };
    char                        out[13];

    (void) state;
    out[12] = '\0';
    pit_hex_encode(in, sizeof(in), out);
    assert_string_equal(out, "0001abcdefff");
}

static void test_hex_decode_accepts_either_case(void **state) {
    unsigned char  a[4], b[4];
    static const unsigned char want[] = { 0xde, 0xad, 0xbe, 0xef };

    (void) state;
    assert_int_equal(pit_hex_decode("deadbeef", 4, a), PIT_OK);
    assert_int_equal(pit_hex_decode("DEADBEEF", 4, b), PIT_OK);
    assert_memory_equal(a, want, 4);
    assert_memory_equal(b, want, 4);
}

static void test_hex_decode_rejects_non_hex(void **state) {
    unsigned char out[2];

    (void) state;
    assert_int_equal(pit_hex_decode("0g00", 2, out), PIT_ERR_ARG);
    assert_int_equal(pit_hex_decode("00 0", 2, out), PIT_ERR_ARG);
    assert_int_equal(pit_hex_decode("00\xaa" "0", 2, out), PIT_ERR_ARG);
    assert_int_equal(pit_hex_decode("0\0" "00", 2, out), PIT_ERR_ARG);
}

static void test_ct_equal_compares_all_bytes(void **state) {
    unsigned char a[32], b[32];

    (void) state;
    memset(a, 0x5a, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_int_equal(pit_ct_equal(a, b, sizeof(a)), 1);
    b[31] ^= 0x01;
    assert_int_equal(pit_ct_equal(a, b, sizeof(a)), 0);
    b[31] ^= 0x01;
    b[0] ^= 0x80;
    assert_int_equal(pit_ct_equal(a, b, sizeof(a)), 0);
    assert_int_equal(pit_ct_equal(a, b, 0), 1);
}

/* -----------------------------------------------------------------------------
 * Integration ids
 * -------------------------------------------------------------------------- */

static void test_id_generate_yields_valid_ids(void **state) {
    char a[PIT_ID_LEN + 1], b[PIT_ID_LEN + 1];

    (void) state;
    assert_int_equal(pit_id_generate(a), PIT_OK);
    assert_int_equal(strlen(a), PIT_ID_LEN);
    assert_int_equal(pit_id_validate(a, strlen(a)), PIT_OK);
    assert_int_equal(pit_id_generate(b), PIT_OK);
    assert_string_not_equal(a, b);
}

static void test_id_generate_is_unbiased(void **state) {
    /* 200000 characters: 3226 expected per symbol, sigma about 56.  A
     * plain "byte % 62" gives the first 8 symbols about 3900. */
    static const char  alphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned           count[62];
    char               id[PIT_ID_LEN + 1];
    int                i, j;

    (void) state;
    memset(count, 0, sizeof(count));
    for (i = 0; i < 10000; i++) {
        assert_int_equal(pit_id_generate(id), PIT_OK);
        for (j = 0; j < PIT_ID_LEN; j++) {
            const char *p = strchr(alphabet, id[j]);

            assert_non_null(p);
            count[p - alphabet]++;
        }
    }
    for (j = 0; j < 62; j++) {
        if (count[j] < 2876 || count[j] > 3576)
            fail_msg("id: symbol '%c' drawn %u times", alphabet[j],
                     count[j]);
    }
}

typedef struct {
    const char  *what;
    const char  *s;
    size_t       len;
    pit_err_t    rc;
} id_case_t;

static const id_case_t id_cases[] = {
    { "seed example",     LIT("ocQHyuzHvysMo5N5VsXc"),  PIT_OK },
    { "digits",           LIT("01234567890123456789"),  PIT_OK },
    { "19 chars",         LIT("ocQHyuzHvysMo5N5VsX"),   PIT_ERR_FIELD },
    { "21 chars",         LIT("ocQHyuzHvysMo5N5VsXcd"), PIT_ERR_FIELD },
    { "empty",            LIT(""),                      PIT_ERR_FIELD },
    { "dash",             LIT("ocQHyuzHvysMo5N5VsX-"),  PIT_ERR_FIELD },
    { "underscore",       LIT("ocQHyuzHvy_Mo5N5VsXc"),  PIT_ERR_FIELD },
    { "colon",            LIT("ocQHyuzHvy:Mo5N5VsXc"),  PIT_ERR_FIELD },
    { "embedded NUL",     LIT("ocQHyuzHvy\0Mo5N5VsXc"), PIT_ERR_FIELD },
    { "non-ASCII",        LIT("ocQHyuzHv\xc3\xa9Mo5N5VsXc"), PIT_ERR_FIELD },
    { "space",            LIT("ocQHyuzHvy Mo5N5VsXc"),  PIT_ERR_FIELD },
};

static void test_id_validate_table(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
        if (pit_id_validate(id_cases[i].s, id_cases[i].len) != id_cases[i].rc)
            fail_msg("id validate: %s", id_cases[i].what);
    }
}

/* -----------------------------------------------------------------------------
 * Hash key file
 * -------------------------------------------------------------------------- */

/* Writes data[0..len) to a fresh temporary file; returns its path. */
static char *write_temp(const void *data, size_t len) {
    char  *path = strdup("/tmp/pit-test-key-XXXXXX");
    int    fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    close(fd);
    return path;
}

typedef struct {
    const char  *what;
    size_t       body;        /* bytes of key material ('k') */
    const char  *tail;        /* appended after the body */
    pit_err_t    rc;
    size_t       key_len;     /* on PIT_OK */
} key_case_t;

static const key_case_t key_cases[] = {
    { "16 bytes",               16,  "",       PIT_OK, 16 },
    { "16 bytes and LF",        16,  "\n",     PIT_OK, 16 },
    { "16 bytes and CRLF",      16,  "\r\n",   PIT_OK, 16 },
    { "only one LF stripped",   16,  "\n\n",   PIT_OK, 17 },
    { "lone CR kept",           16,  "\r",     PIT_OK, 17 },
    { "256 bytes",              256, "",       PIT_OK, 256 },
    { "256 bytes and CRLF",     256, "\r\n",   PIT_OK, 256 },
    { "15 bytes",               15,  "",       PIT_ERR_HASH_KEY, 0 },
    { "15 bytes and LF",        15,  "\n",     PIT_ERR_HASH_KEY, 0 },
    { "empty file",             0,   "",       PIT_ERR_HASH_KEY, 0 },
    { "only LF",                0,   "\n",     PIT_ERR_HASH_KEY, 0 },
    { "257 bytes",              257, "",       PIT_ERR_HASH_KEY, 0 },
    { "257 bytes and LF",       257, "\n",     PIT_ERR_HASH_KEY, 0 },
    { "4096 bytes",             4096, "",      PIT_ERR_HASH_KEY, 0 },
};

static void test_hash_key_load_table(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const key_case_t  *c = &key_cases[i];
        size_t             tl = strlen(c->tail), n = c->body + tl, klen = 0;
        unsigned char     *data = malloc(n + 1);
        unsigned char      key[PIT_HASH_KEY_MAX];
        char              *path;
        pit_err_t          rc;

        assert_non_null(data);
        memset(data, 'k', c->body);
        memcpy(data + c->body, c->tail, tl);
        path = write_temp(data, n);

        rc = pit_hash_key_load(path, key, &klen);
        if (rc != c->rc)
            fail_msg("key: %s: got %d, want %d", c->what, rc, c->rc);
        if (rc == PIT_OK) {
            if (klen != c->key_len)
                fail_msg("key: %s: length %zu", c->what, klen);
            assert_memory_equal(key, data, klen);
        }
        unlink(path);
        free(path);
        free(data);
    }
}

static void test_hash_key_load_keeps_binary_bytes(void **state) {
    static const unsigned char  raw[20] = {
        0x00, 0xff, 0x0a, 0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
        14, 0x00, 0x80
    };
    unsigned char               key[PIT_HASH_KEY_MAX];
    size_t                      klen = 0;
    char                       *path = write_temp(raw, sizeof(raw));

    (void) state;
    assert_int_equal(pit_hash_key_load(path, key, &klen), PIT_OK);
    assert_int_equal(klen, sizeof(raw));
    assert_memory_equal(key, raw, sizeof(raw));
    unlink(path);
    free(path);
}

static void test_hash_key_load_missing_file_is_io_error(void **state) {
    unsigned char  key[PIT_HASH_KEY_MAX];
    size_t         klen;

    (void) state;
    assert_int_equal(pit_hash_key_load("/nonexistent/pit/key", key, &klen),
                     PIT_ERR_IO);
    assert_int_equal(pit_hash_key_load("/", key, &klen), PIT_ERR_IO);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_accepts_only_exact_lowercase_shape),
        cmocka_unit_test(test_validate_reads_only_len_bytes),
        cmocka_unit_test(test_generate_yields_valid_distinct_tokens),
        cmocka_unit_test(test_generate_randomizes_all_128_bits),
        cmocka_unit_test(test_authorization_table),
        cmocka_unit_test(test_authorization_leaves_outputs_on_error),
        cmocka_unit_test(test_authorization_reads_only_len_bytes),
        cmocka_unit_test(test_hash_sha256_of_abc),
        cmocka_unit_test(test_hash_sha256_of_token),
        cmocka_unit_test(test_hash_empty_key_means_plain_sha256),
        cmocka_unit_test(test_hash_hmac_rfc4231_case2),
        cmocka_unit_test(test_hash_hmac_of_token),
        cmocka_unit_test(test_hash_raw_matches_hex),
        cmocka_unit_test(test_hasher_matches_one_shot_hash),
        cmocka_unit_test(test_hasher_hmac_rfc4231_case2),
        cmocka_unit_test(test_hasher_rejects_bad_arguments),
        cmocka_unit_test(test_hint_masks_middle_of_token),
        cmocka_unit_test(test_hint_of_malformed_input_leaks_nothing),
        cmocka_unit_test(test_hint_fits_its_buffer),
        cmocka_unit_test(test_redact_table),
        cmocka_unit_test(test_redact_keeps_length_and_bounds),
        cmocka_unit_test(test_redact_finds_generated_tokens),
        cmocka_unit_test(test_hex_encode_is_lowercase),
        cmocka_unit_test(test_hex_decode_accepts_either_case),
        cmocka_unit_test(test_hex_decode_rejects_non_hex),
        cmocka_unit_test(test_ct_equal_compares_all_bytes),
        cmocka_unit_test(test_id_generate_yields_valid_ids),
        cmocka_unit_test(test_id_generate_is_unbiased),
        cmocka_unit_test(test_id_validate_table),
        cmocka_unit_test(test_hash_key_load_table),
        cmocka_unit_test(test_hash_key_load_keeps_binary_bytes),
        cmocka_unit_test(test_hash_key_load_missing_file_is_io_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
