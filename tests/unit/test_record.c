/*
 * Unit tests of core/pit_record.c: text rules, token and integration
 * records to and from JSON (Redis schema v1).
 *
 * Bad records are made by taking a valid one and changing one field
 * through jansson (path "tokens.0.hash", value as JSON text, or NULL to
 * delete the field), so each row of a table breaks exactly one rule.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pit_record.h"

#define IID    "ocQHyuzHvysMo5N5VsXc"
#define HASH1  "0123456789abcdef0123456789abcdef" \
               "0123456789abcdef0123456789abcdef"
#define HASH2  "fedcba9876543210fedcba9876543210" \
               "fedcba9876543210fedcba9876543210"
#define H3     "33333333333333333333333333333333" \
               "33333333333333333333333333333333"
#define HINT1  "pit-6490****-****-****-****e762"
#define HINT2  "pit-1c50****-****-****-****f712"
#define T0     1720630740000LL
#define DAY    (24LL * 3600 * 1000)

#define TOKEN_JSON                                                          \
    "{\"v\":1,\"iid\":\"" IID "\",\"acct\":\"loc_123-A\","                  \
    "\"acct_type\":\"location\","                                           \
    "\"scopes\":[\"contacts.readonly\",\"contacts.write\"],"                \
    "\"role\":\"primary\",\"until\":0}"

#define ACTIVE_JSON                                                         \
    "{\"v\":1,\"id\":\"" IID "\",\"name\":\"My Make App1\","                \
    "\"description\":\"My Make App1\",\"account\":\"loc1\","               \
    "\"acct_type\":\"location\",\"scopes\":[\"contacts.readonly\"],"       \
    "\"created_at\":1720630740000,\"updated_at\":1720630740000,"            \
    "\"created_by\":\"admin@example.com\","                                 \
    "\"tokens\":[{\"hash\":\"" HASH1 "\",\"hint\":\"" HINT1 "\","           \
    "\"role\":\"primary\",\"created_at\":1720630740000,\"until\":0}],"      \
    "\"rotation\":null}"

#define ROTATING_JSON                                                       \
    "{\"v\":1,\"id\":\"" IID "\",\"name\":\"My Make App1\","                \
    "\"description\":\"\",\"account\":\"comp1\","                          \
    "\"acct_type\":\"company\",\"scopes\":[],"                              \
    "\"created_at\":1720630740000,\"updated_at\":1720717140000,"            \
    "\"created_by\":\"\","                                                  \
    "\"tokens\":[{\"hash\":\"" HASH1 "\",\"hint\":\"" HINT1 "\","           \
    "\"role\":\"previous\",\"created_at\":1720630740000,"                   \
    "\"until\":1721321940000},"                                             \
    "{\"hash\":\"" HASH2 "\",\"hint\":\"" HINT2 "\","                       \
    "\"role\":\"next\",\"created_at\":1720717140000,"                       \
    "\"until\":1721321940000}],"                                            \
    "\"rotation\":{\"started_at\":1720717140000,\"deadline\":1721321940000}}"

typedef enum { REC_TOKEN, REC_INTEGRATION } rec_kind_t;

/* =============================================================================
 * Helpers
 * ==========================================================================*/

/* Returns a malloc'd string of n copies of unit (the caller frees it). */
static char *repeat(const char *unit, size_t n) {
    size_t  ul = strlen(unit), i;
    char   *s = malloc(ul * n + 1);

    assert_non_null(s);
    for (i = 0; i < n; i++) {
        memcpy(s + i * ul, unit, ul);
    }
    s[ul * n] = '\0';
    return s;
}

/*
 * Returns what pit_token_record_from_json() says of json[0..len), having
 * checked that the general decoder says the same and fills rec the same:
 * the canonical scan may only ever be a faster way to the same answer.
 */
static pit_err_t decode_token(const char *json, size_t len,
    pit_token_record_t *rec)
{
    pit_token_record_t  ref;
    pit_err_t           rc;

    rc = pit_token_record_from_json(json, len, rec);
    assert_int_equal(pit_token_record_from_general_json(json, len, &ref), rc);
    assert_memory_equal(rec, &ref, sizeof(ref));
    return rc;
}

/* Returns what the decoder of kind says of json[0..len). */
static pit_err_t decode(rec_kind_t kind, const char *json, size_t len) {
    pit_token_record_t   rec;
    pit_integration_t   *in;
    pit_err_t            rc;

    if (kind == REC_TOKEN) {
        return decode_token(json, len, &rec);
    }
    in = malloc(sizeof(*in));
    assert_non_null(in);
    rc = pit_integration_from_json(json, len, in);
    free(in);
    return rc;
}

/* Returns what the decoder of kind says of a NUL-terminated string. */
static pit_err_t decode_str(rec_kind_t kind, const char *json) {
    return decode(kind, json, strlen(json));
}

/*
 * Returns a malloc'd JSON text: base with the field at path ("a.0.b")
 * replaced by value (JSON text; "" deletes the field).
 */
static char *mutate(const char *base, const char *path, const char *value) {
    json_error_t  err;
    json_t       *root, *node, *v;
    char          buf[128], *tok, *save, *last, *out;

    root = json_loads(base, 0, &err);
    assert_non_null(root);
    snprintf(buf, sizeof(buf), "%s", path);

    node = root;
    last = strtok_r(buf, ".", &save);
    while ((tok = strtok_r(NULL, ".", &save)) != NULL) {
        node = json_is_array(node) ? json_array_get(node, atoi(last))
                                   : json_object_get(node, last);
        assert_non_null(node);
        last = tok;
    }

    if (value[0] == '\0') {
        if (json_is_array(node)) {
            assert_int_equal(json_array_remove(node, atoi(last)), 0);
        } else {
            assert_int_equal(json_object_del(node, last), 0);
        }
    } else {
        v = json_loads(value, JSON_DECODE_ANY, &err);
        assert_non_null(v);
        if (json_is_array(node)) {
            assert_int_equal(json_array_set_new(node, atoi(last), v), 0);
        } else {
            assert_int_equal(json_object_set_new(node, last, v), 0);
        }
    }

    out = json_dumps(root, JSON_COMPACT);
    assert_non_null(out);
    json_decref(root);
    return out;
}

typedef struct {
    const char  *path;
    const char  *value;           /* JSON text; "" deletes the field */
    pit_err_t    expect;
} mutation_t;

/* Checks every mutation of base against its expected decoding result. */
static void check_mutations(rec_kind_t kind, const char *base,
    const mutation_t *m, size_t n)
{
    size_t     i;
    char      *json;
    pit_err_t  rc;

    assert_int_equal(decode_str(kind, base), PIT_OK);

    for (i = 0; i < n; i++) {
        json = mutate(base, m[i].path, m[i].value);
        rc = decode_str(kind, json);
        if (rc != m[i].expect) {
            print_error("%s = %s: got %d, want %d\n", m[i].path, m[i].value,
                        (int) rc, (int) m[i].expect);
        }
        free(json);
        assert_int_equal(rc, m[i].expect);
    }
}

/* Returns the JSON text of a scopes array of n distinct valid names. */
static char *scopes_json(size_t n) {
    char   *s = malloc(n * 16 + 3), *p = s;
    size_t  i;

    assert_non_null(s);
    *p++ = '[';
    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s\"s%03zu.read\"", i ? "," : "", i);
    }
    *p++ = ']';
    *p = '\0';
    return s;
}

/* Fills in with a valid active integration. */
static void make_integration(pit_integration_t *in) {
    memset(in, 0, sizeof(*in));
    strcpy(in->id, IID);
    strcpy(in->name, "Caf\xc3\xa9 \"quoted\" \\ \xf0\x9f\x98\x80 / <b>");
    strcpy(in->description, "line one, still one line \xe2\x82\xac");
    strcpy(in->account, "ve9EPM428h8vShlRW1KT");
    in->acct_type = PIT_ACCT_LOCATION;
    pit_scope_set_init(&in->scopes);
    assert_int_equal(pit_scope_set_add(&in->scopes, "contacts.readonly", 17),
                     PIT_OK);
    assert_int_equal(pit_scope_set_add(&in->scopes,
                                       "locations/customFields.write", 28),
                     PIT_OK);
    in->created_at_ms = T0;
    in->updated_at_ms = T0 + 5;
    strcpy(in->created_by, "ops@example.com");
    in->ntokens = 1;
    strcpy(in->tokens[0].hash, HASH1);
    strcpy(in->tokens[0].hint, HINT1);
    in->tokens[0].role = PIT_ROLE_PRIMARY;
    in->tokens[0].created_at_ms = T0;
}

/* Fails unless a and b hold the same integration, field by field. */
static void assert_integration_equal(const pit_integration_t *a,
    const pit_integration_t *b)
{
    size_t  i;

    assert_string_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->description, b->description);
    assert_string_equal(a->account, b->account);
    assert_int_equal(a->acct_type, b->acct_type);
    assert_true(pit_scope_set_equal(&a->scopes, &b->scopes));
    assert_int_equal(a->created_at_ms, b->created_at_ms);
    assert_int_equal(a->updated_at_ms, b->updated_at_ms);
    assert_string_equal(a->created_by, b->created_by);
    assert_int_equal(a->ntokens, b->ntokens);
    for (i = 0; i < a->ntokens; i++) {
        assert_string_equal(a->tokens[i].hash, b->tokens[i].hash);
        assert_string_equal(a->tokens[i].hint, b->tokens[i].hint);
        assert_int_equal(a->tokens[i].role, b->tokens[i].role);
        assert_int_equal(a->tokens[i].created_at_ms,
                         b->tokens[i].created_at_ms);
        assert_int_equal(a->tokens[i].until_ms, b->tokens[i].until_ms);
    }
    assert_int_equal(a->rotating, b->rotating);
    if (a->rotating) {
        assert_int_equal(a->rotation_started_ms, b->rotation_started_ms);
        assert_int_equal(a->rotation_deadline_ms, b->rotation_deadline_ms);
    }
}

/* =============================================================================
 * Names of enumerations
 * ==========================================================================*/

static void test_role_and_acct_type_names(void **state) {
    pit_acct_type_t  t;

    assert_string_equal(pit_role_name(PIT_ROLE_PRIMARY), "primary");
    assert_string_equal(pit_role_name(PIT_ROLE_NEXT), "next");
    assert_string_equal(pit_role_name(PIT_ROLE_PREVIOUS), "previous");
    assert_string_equal(pit_role_name(PIT_ROLE_INVALID), "invalid");
    assert_string_equal(pit_role_name((pit_role_t) 42), "invalid");

    assert_string_equal(pit_acct_type_name(PIT_ACCT_LOCATION), "location");
    assert_string_equal(pit_acct_type_name(PIT_ACCT_COMPANY), "company");

    assert_int_equal(pit_acct_type_parse("company", 7, &t), PIT_OK);
    assert_int_equal(t, PIT_ACCT_COMPANY);
    assert_int_equal(pit_acct_type_parse("location", 8, &t), PIT_OK);
    assert_int_equal(t, PIT_ACCT_LOCATION);
    assert_int_equal(pit_acct_type_parse("Location", 8, &t), PIT_ERR_FIELD);
    assert_int_equal(pit_acct_type_parse("locations", 9, &t), PIT_ERR_FIELD);
    assert_int_equal(pit_acct_type_parse("company", 6, &t), PIT_ERR_FIELD);
    assert_int_equal(pit_acct_type_parse("", 0, &t), PIT_ERR_FIELD);
}

/* =============================================================================
 * Text rules
 * ==========================================================================*/

typedef struct {
    const char  *s;
    size_t       len;
    pit_err_t    expect;
    const char  *why;
} text_case_t;

#define T(lit, rc, why)  { lit, sizeof(lit) - 1, rc, why }

static const text_case_t name_cases[] = {
    T("My Make App1", PIT_OK, "ascii"),
    T("x", PIT_OK, "one character"),
    T("a\xc2\xa0", PIT_OK, "U+00A0, first after C1 (alone: blank)"),
    T("\xe2\x82\xac", PIT_OK, "euro sign"),
    T("\xed\x9f\xbf", PIT_OK, "U+D7FF, last before surrogates"),
    T("\xee\x80\x80", PIT_OK, "U+E000, first after surrogates"),
    T("\xef\xbf\xbf", PIT_OK, "U+FFFF"),
    T("\xf0\x90\x80\x80", PIT_OK, "U+10000"),
    T("\xf4\x8f\xbf\xbf", PIT_OK, "U+10FFFF"),
    T("", PIT_ERR_NAME, "empty"),
    T("a\tb", PIT_ERR_TEXT, "tab (C0)"),
    T("a\nb", PIT_ERR_TEXT, "newline (C0)"),
    T("a\0b", PIT_ERR_TEXT, "NUL"),
    T("\x1f", PIT_ERR_TEXT, "unit separator (C0)"),
    T("a\x7f", PIT_ERR_TEXT, "DEL"),
    T("\xc2\x80", PIT_ERR_TEXT, "U+0080 (C1)"),
    T("a\xc2\x85z", PIT_ERR_TEXT, "NEL U+0085 (C1)"),
    T("\xc2\x9f", PIT_ERR_TEXT, "U+009F (C1)"),
    T("\xc0\xaf", PIT_ERR_TEXT, "overlong 2-byte '/'"),
    T("\xc1\xbf", PIT_ERR_TEXT, "overlong 2-byte"),
    T("\xe0\x80\xaf", PIT_ERR_TEXT, "overlong 3-byte"),
    T("\xe0\x9f\xbf", PIT_ERR_TEXT, "overlong 3-byte U+07FF"),
    T("\xf0\x80\x80\xaf", PIT_ERR_TEXT, "overlong 4-byte"),
    T("\xf0\x8f\xbf\xbf", PIT_ERR_TEXT, "overlong 4-byte U+FFFF"),
    T("\xed\xa0\x80", PIT_ERR_TEXT, "surrogate U+D800"),
    T("\xed\xbf\xbf", PIT_ERR_TEXT, "surrogate U+DFFF"),
    T("\xed\xa0\xbd\xed\xb8\x80", PIT_ERR_TEXT, "CESU-8 surrogate pair"),
    T("\xf4\x90\x80\x80", PIT_ERR_TEXT, "U+110000"),
    T("\xf5\x80\x80\x80", PIT_ERR_TEXT, "lead byte F5"),
    T("\xf8\x88\x80\x80\x80", PIT_ERR_TEXT, "5-byte form"),
    T("\xff", PIT_ERR_TEXT, "byte FF"),
    T("\xfe", PIT_ERR_TEXT, "byte FE"),
    T("\x80", PIT_ERR_TEXT, "stray continuation"),
    T("a\xbf", PIT_ERR_TEXT, "stray continuation after ascii"),
    T("\xc3", PIT_ERR_TEXT, "truncated 2-byte"),
    T("\xe2\x82", PIT_ERR_TEXT, "truncated 3-byte"),
    T("\xf0\x9f\x98", PIT_ERR_TEXT, "truncated 4-byte"),
    T("\xc3\x28", PIT_ERR_TEXT, "bad continuation"),
    T("\xe2\x28\xa1", PIT_ERR_TEXT, "bad second byte of 3"),
    T("\xe2\x82\x28", PIT_ERR_TEXT, "bad third byte of 3"),
    T("\xf0\x9f\x98\x28", PIT_ERR_TEXT, "bad fourth byte of 4"),
};

static void test_name_rejects_invalid_utf8_and_controls(void **state) {
    size_t     i;
    pit_err_t  rc;

    for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        rc = pit_name_validate(name_cases[i].s, name_cases[i].len);
        if (rc != name_cases[i].expect) {
            print_error("case %zu (%s): got %d\n", i, name_cases[i].why,
                        (int) rc);
        }
        assert_int_equal(rc, name_cases[i].expect);
    }
}

static void test_name_counts_characters_not_bytes(void **state) {
    struct {
        const char  *unit;
        size_t       n;
        pit_err_t    expect;
    } cases[] = {
        { "a", 200, PIT_OK },
        { "a", 201, PIT_ERR_NAME },
        { "\xc3\xa9", 200, PIT_OK },            /* é: 400 bytes */
        { "\xc3\xa9", 201, PIT_ERR_NAME },
        { "\xe2\x82\xac", 200, PIT_OK },        /* €: 600 bytes */
        { "\xe2\x82\xac", 201, PIT_ERR_NAME },
        { "\xf0\x9f\x98\x80", 200, PIT_OK },    /* 😀: 800 bytes */
        { "\xf0\x9f\x98\x80", 201, PIT_ERR_NAME },
    };
    size_t  i;
    char   *s;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s = repeat(cases[i].unit, cases[i].n);
        assert_int_equal(pit_name_validate(s, strlen(s)), cases[i].expect);
        free(s);
    }
}

static void test_description_is_0_to_500_characters(void **state) {
    char  *s;

    assert_int_equal(pit_description_validate("", 0), PIT_OK);
    s = repeat("\xc3\xa9", 500);
    assert_int_equal(pit_description_validate(s, strlen(s)), PIT_OK);
    free(s);
    s = repeat("d", 501);
    assert_int_equal(pit_description_validate(s, strlen(s)),
                     PIT_ERR_DESCRIPTION);
    free(s);
    s = repeat("d", 5000);
    assert_int_equal(pit_description_validate(s, strlen(s)),
                     PIT_ERR_DESCRIPTION);
    free(s);
    assert_int_equal(pit_description_validate("a\r\nb", 4), PIT_ERR_TEXT);
    assert_int_equal(pit_description_validate("\xed\xa0\x80", 3),
                     PIT_ERR_TEXT);
}

/* Writes cp as UTF-8 plus a NUL into buf (5 bytes); returns its length. */
static size_t utf8_put(uint32_t cp, char *buf) {
    size_t  n;

    if (cp < 0x80) {
        buf[0] = (char) cp;
        n = 1;
    } else if (cp < 0x800) {
        buf[0] = (char) (0xc0 | (cp >> 6));
        buf[1] = (char) (0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        buf[0] = (char) (0xe0 | (cp >> 12));
        buf[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (char) (0x80 | (cp & 0x3f));
        n = 3;
    } else {
        buf[0] = (char) (0xf0 | (cp >> 18));
        buf[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        buf[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        buf[3] = (char) (0x80 | (cp & 0x3f));
        n = 4;
    }
    buf[n] = '\0';
    return n;
}

/* Writes before, cp as UTF-8 and after into buf (64 bytes). */
static void with_cp(char *buf, const char *before, uint32_t cp,
    const char *after)
{
    char  u[5];

    utf8_put(cp, u);
    snprintf(buf, 64, "%s%s%s", before, u, after);
}

/* The invisible and bidirectional ranges, first and last (inclusive). */
static const uint32_t invisible_ranges[][2] = {
    { 0x00ad, 0x00ad },         /* soft hyphen */
    { 0x061c, 0x061c },         /* Arabic letter mark */
    { 0x180e, 0x180e },         /* Mongolian vowel separator */
    { 0x200b, 0x200f },         /* ZWSP, ZWNJ, ZWJ, LRM, RLM */
    { 0x2028, 0x202e },         /* LS, PS, LRE, RLE, PDF, LRO, RLO */
    { 0x2060, 0x206f },         /* WJ, invisible operators, LRI-PDI, ... */
    { 0xfeff, 0xfeff },         /* BOM */
};

static void test_name_refuses_invisible_and_bidi_characters(void **state) {
    pit_text_problem_t  why;
    size_t              r;
    uint32_t            cp;
    char                s[64];

    for (r = 0; r < sizeof(invisible_ranges) / sizeof(invisible_ranges[0]);
         r++)
    {
        for (cp = invisible_ranges[r][0]; cp <= invisible_ranges[r][1]; cp++)
        {
            with_cp(s, "a", cp, "b");
            if (pit_name_check(s, strlen(s), &why) != PIT_ERR_TEXT) {
                print_error("U+%04X in a name was not refused\n",
                            (unsigned) cp);
            }
            assert_int_equal(pit_name_check(s, strlen(s), &why),
                             PIT_ERR_TEXT);
            assert_int_equal(why.fault, PIT_TEXT_INVISIBLE);
            assert_int_equal(why.cp, cp);
            assert_int_equal(why.pos, 2);
            assert_int_equal(pit_name_validate(s, strlen(s)), PIT_ERR_TEXT);
            assert_int_equal(pit_description_validate(s, strlen(s)),
                             PIT_ERR_TEXT);

            with_cp(s, "", cp, "");         /* alone: refused, not blank */
            assert_int_equal(pit_name_validate(s, strlen(s)), PIT_ERR_TEXT);
            with_cp(s, "name ", cp, "");    /* at the end */
            assert_int_equal(pit_name_validate(s, strlen(s)), PIT_ERR_TEXT);
        }
    }

    /* Trojan Source: shows as "invoiceexe.pdf" */
    strcpy(s, "invoice\xe2\x80\xae" "fdp.exe");
    assert_int_equal(pit_name_check(s, strlen(s), &why), PIT_ERR_TEXT);
    assert_int_equal(why.cp, 0x202e);
    assert_int_equal(why.pos, 8);

    /* the first refused character is the one reported */
    strcpy(s, "\xc3\xa9\xe2\x80\x8b\xe2\x80\xae");     /* e-acute ZWSP RLO */
    assert_int_equal(pit_name_check(s, strlen(s), &why), PIT_ERR_TEXT);
    assert_int_equal(why.cp, 0x200b);
    assert_int_equal(why.pos, 2);
    strcpy(s, "a\xe2\x80\xae\x07");                    /* RLO before BEL */
    assert_int_equal(pit_name_check(s, strlen(s), &why), PIT_ERR_TEXT);
    assert_int_equal(why.fault, PIT_TEXT_INVISIBLE);
    strcpy(s, "a\x07\xe2\x80\xae");                    /* BEL before RLO */
    assert_int_equal(pit_name_check(s, strlen(s), &why), PIT_ERR_TEXT);
    assert_int_equal(why.fault, PIT_TEXT_CONTROL);
    assert_int_equal(why.cp, 0x07);

    /* a joined emoji sequence (ZWJ) is refused: the documented price */
    strcpy(s, "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb");
    assert_int_equal(pit_name_validate(s, strlen(s)), PIT_ERR_TEXT);
}

static void test_name_accepts_the_neighbours_of_refused_ranges(void **state)
{
    static const uint32_t  ok[] = {
        0x00ac, 0x00ae, 0x061b, 0x061d, 0x180d, 0x180f,
        0x200a,                         /* hair space, a blank */
        0x2010, 0x2027,
        0x202f,                         /* narrow no-break space, a blank */
        0x205f,                         /* medium mathematical space */
        0x2070, 0xfefc, 0xff01,
        0x034f, 0xfe0f,                 /* marks: allowed, not visible */
    };
    pit_text_problem_t  why;
    size_t              i;
    char                s[64];

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        with_cp(s, "a", ok[i], "b");
        if (pit_name_check(s, strlen(s), &why) != PIT_OK) {
            print_error("U+%04X in a name was refused\n", (unsigned) ok[i]);
        }
        assert_int_equal(pit_name_check(s, strlen(s), &why), PIT_OK);
        assert_int_equal(why.fault, PIT_TEXT_OK);
        assert_int_equal(pit_description_validate(s, strlen(s)), PIT_OK);
    }
}

static void test_name_needs_a_visible_character(void **state) {
    static const uint32_t  blank[] = {
        0x0020, 0x00a0, 0x1680, 0x2000, 0x2001, 0x2005, 0x2009, 0x200a,
        0x202f, 0x205f, 0x3000,
        0x115f, 0x1160, 0x3164, 0xffa0,         /* Hangul fillers */
        0x2800,                                 /* Braille blank */
        0x034f, 0xfe00, 0xfe0f, 0xe0020, 0xe007f, 0xe0100, 0xe01ef,
    };
    static const text_case_t  visible[] = {
        T("x", PIT_OK, "one letter"),
        T(" x ", PIT_OK, "padded"),
        T("\xe3\x80\x80x\xe3\x80\x80", PIT_OK, "ideographic spaces around"),
        T("Caf\xc3\xa9", PIT_OK, "accented"),
        T("\xc3\x85ngstr\xc3\xb6m", PIT_OK, "accented, more"),
        T("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", PIT_OK, "CJK"),
        T("\xf0\x9f\x98\x80", PIT_OK, "emoji"),
        T("\xe2\x9d\xa4\xef\xb8\x8f", PIT_OK, "emoji + VS16"),
        T("\xd8\xaa\xd8\xb7\xd8\xa8\xd9\x8a\xd9\x82", PIT_OK, "Arabic"),
        T("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", PIT_OK, "Hebrew"),
        T("\xea\xb0\x80", PIT_OK, "Hangul syllable"),
        T(".", PIT_OK, "punctuation"),
        T("   ", PIT_ERR_NAME, "three spaces"),
        T(" \xc2\xa0\xe3\x80\x80\xe2\x80\x8a", PIT_ERR_NAME, "mixed blanks"),
        T("\xe3\x85\xa4\xe3\x85\xa4", PIT_ERR_NAME, "two U+3164"),
        T("", PIT_ERR_NAME, "empty"),
    };
    pit_text_problem_t  why;
    size_t              i;
    char                s[64];

    for (i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        with_cp(s, "", blank[i], "");
        if (pit_name_check(s, strlen(s), &why) != PIT_ERR_NAME) {
            print_error("a name of U+%04X alone was not refused\n",
                        (unsigned) blank[i]);
        }
        assert_int_equal(pit_name_check(s, strlen(s), &why), PIT_ERR_NAME);
        assert_int_equal(why.fault, PIT_TEXT_BLANK);
        assert_int_equal(why.cp, 0);

        with_cp(s, "a", blank[i], "b");         /* inside a name: fine */
        assert_int_equal(pit_name_validate(s, strlen(s)), PIT_OK);
        with_cp(s, "", blank[i], "");           /* a description: fine */
        assert_int_equal(pit_description_validate(s, strlen(s)), PIT_OK);
    }

    for (i = 0; i < sizeof(visible) / sizeof(visible[0]); i++) {
        if (pit_name_validate(visible[i].s, visible[i].len)
            != visible[i].expect)
        {
            print_error("case %zu (%s)\n", i, visible[i].why);
        }
        assert_int_equal(pit_name_validate(visible[i].s, visible[i].len),
                         visible[i].expect);
    }

    /* 200 blanks and one letter is 201 characters: too long wins */
    {
        char  *b = repeat(" ", 200), *n = malloc(202);

        assert_int_equal(pit_name_check(b, 200, &why), PIT_ERR_NAME);
        assert_int_equal(why.fault, PIT_TEXT_BLANK);
        sprintf(n, "%sx", b);
        assert_int_equal(pit_name_check(n, 201, &why), PIT_ERR_NAME);
        assert_int_equal(why.fault, PIT_TEXT_TOO_LONG);
        assert_int_equal(why.max, PIT_NAME_MAX_CHARS);
        free(b);
        free(n);
    }
}

static void test_description_refuses_invisible_may_be_blank(void **state) {
    pit_text_problem_t  why;

    assert_int_equal(pit_description_check("", 0, &why), PIT_OK);
    assert_int_equal(pit_description_check("   ", 3, &why), PIT_OK);
    assert_int_equal(pit_description_check("\xe3\x80\x80", 3, &why), PIT_OK);
    assert_int_equal(pit_description_check("ok \xe2\x80\xae", 6, &why),
                     PIT_ERR_TEXT);
    assert_int_equal(why.fault, PIT_TEXT_INVISIBLE);
    assert_int_equal(why.cp, 0x202e);
    assert_int_equal(why.pos, 4);
    assert_int_equal(pit_description_check("\xef\xbb\xbf", 3, &why),
                     PIT_ERR_TEXT);
    assert_int_equal(why.cp, 0xfeff);
    assert_int_equal(pit_description_check("a\xe2\x80\xa8z", 5, &why),
                     PIT_ERR_TEXT);
    assert_int_equal(why.cp, 0x2028);
}

static void test_text_problem_names_the_cause(void **state) {
    pit_text_problem_t  why;
    char                buf[160], small[12];
    char               *d;

    assert_int_equal(pit_name_check("invoice\xe2\x80\xae" "fdp.exe", 17,
                                    &why), PIT_ERR_TEXT);
    assert_string_equal(pit_text_problem_format(&why, buf, sizeof(buf)),
        "holds an invisible or bidirectional control character "
        "(U+202E at character 8)");
    assert_int_equal(pit_name_check(" \xe3\x80\x80", 4, &why), PIT_ERR_NAME);
    assert_string_equal(pit_text_problem_format(&why, buf, sizeof(buf)),
                        "must contain a visible character");
    assert_int_equal(pit_name_check("", 0, &why), PIT_ERR_NAME);
    assert_string_equal(pit_text_problem_format(&why, buf, sizeof(buf)),
                        "must contain a visible character");
    assert_int_equal(pit_name_check("a\x07", 2, &why), PIT_ERR_TEXT);
    assert_string_equal(pit_text_problem_format(&why, buf, sizeof(buf)),
                        "holds a control character (U+0007 at character 2)");
    assert_int_equal(pit_name_check("ab\xff", 3, &why), PIT_ERR_TEXT);
    assert_string_equal(pit_text_problem_format(&why, buf, sizeof(buf)),
                        "is not valid UTF-8 (at character 3)");
    assert_int_equal(pit_name_check("x\xf3\xa0\x80\x81", 5, &why), PIT_OK);

    d = repeat("d", 501);
    assert_int_equal(pit_description_check(d, 501, &why),
                     PIT_ERR_DESCRIPTION);
    assert_string_equal(pit_text_problem_format(&why, buf, sizeof(buf)),
                        "must be at most 500 characters");
    free(d);

    assert_string_equal(pit_text_problem_format(NULL, buf, sizeof(buf)),
                        "is valid");
    assert_int_equal(pit_name_check("a\xe2\x81\xa6", 4, &why), PIT_ERR_TEXT);
    assert_string_equal(pit_text_problem_format(&why, small, sizeof(small)),
                        "holds an in");             /* truncated, ends */
    assert_null(pit_text_problem_format(&why, NULL, 0));
}

static void test_stored_names_decode_by_the_old_rule(void **state) {
    static const char  *names[] = {
        "\"evil\\u202egpj.exe\"", "\"   \"", "\"\\u3000\"",
        "\"zw\\u200bsp\"", "\"\\ufeffbom\"",
    };
    pit_integration_t  *in;
    char               *json, buf[PIT_JSON_MAX];
    size_t              i, len;

    in = malloc(sizeof(*in));
    assert_non_null(in);

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json = mutate(ACTIVE_JSON, "name", names[i]);
        assert_int_equal(pit_integration_from_json(json, strlen(json), in),
                         PIT_OK);
        /* and it can be written back: rotation rewrites the record */
        assert_int_equal(pit_integration_to_json(in, buf, sizeof(buf), &len),
                         PIT_OK);
        /* but it is not a name one can give now */
        assert_int_not_equal(pit_name_validate(in->name, strlen(in->name)),
                             PIT_OK);
        free(json);
    }

    json = mutate(ACTIVE_JSON, "description", "\"\\u2066x\\u2069\"");
    assert_int_equal(pit_integration_from_json(json, strlen(json), in),
                     PIT_OK);
    assert_int_equal(pit_integration_to_json(in, buf, sizeof(buf), &len),
                     PIT_OK);
    free(json);

    /* what was refused before still is */
    json = mutate(ACTIVE_JSON, "name", "\"a\\u0085\"");
    assert_int_equal(pit_integration_from_json(json, strlen(json), in),
                     PIT_ERR_TEXT);
    free(json);
    json = mutate(ACTIVE_JSON, "name", "\"\"");
    assert_int_equal(pit_integration_from_json(json, strlen(json), in),
                     PIT_ERR_NAME);
    free(json);

    free(in);
}

static void test_created_by_is_0_to_128_characters(void **state) {
    char  *s;

    assert_int_equal(pit_created_by_validate("", 0), PIT_OK);
    s = repeat("\xe2\x82\xac", 128);
    assert_int_equal(pit_created_by_validate(s, strlen(s)), PIT_OK);
    free(s);
    s = repeat("u", 129);
    assert_int_equal(pit_created_by_validate(s, strlen(s)), PIT_ERR_FIELD);
    free(s);
    assert_int_equal(pit_created_by_validate("a\x1b[31m", 6), PIT_ERR_TEXT);
}

static void test_account_is_1_to_64_of_alnum_dash_underscore(void **state) {
    char    *s64 = repeat("Az09_-", 11);        /* 66 */
    size_t   i;

    const text_case_t  cases[] = {
        T("ve9EPM428h8vShlRW1KT", PIT_OK, "highlevel location id"),
        T("a", PIT_OK, "one character"),
        T("A-z_0", PIT_OK, "all classes"),
        { s64, 64, PIT_OK, "64 characters" },
        { s64, 65, PIT_ERR_ACCOUNT, "65 characters" },
        T("", PIT_ERR_ACCOUNT, "empty"),
        T("loc 1", PIT_ERR_ACCOUNT, "space"),
        T("loc:1", PIT_ERR_ACCOUNT, "colon (key separator)"),
        T("loc.1", PIT_ERR_ACCOUNT, "dot"),
        T("loc\0", PIT_ERR_ACCOUNT, "NUL"),
        T("caf\xc3\xa9", PIT_ERR_ACCOUNT, "non-ascii"),
        { NULL, 0, PIT_ERR_ACCOUNT, "NULL" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(pit_account_validate(cases[i].s, cases[i].len),
                         cases[i].expect);
    }
    free(s64);
}

/* =============================================================================
 * Decoding: input that is not a v1 object
 * ==========================================================================*/

typedef struct {
    const char  *json;
    size_t       len;
    pit_err_t    expect;
    const char  *why;
} raw_case_t;

#define R(lit, rc, why)  { lit, sizeof(lit) - 1, rc, why }

static const raw_case_t raw_cases[] = {
    R("", PIT_ERR_JSON, "empty"),
    R("   ", PIT_ERR_JSON, "blanks"),
    R("garbage", PIT_ERR_JSON, "not JSON"),
    R("{", PIT_ERR_JSON, "truncated"),
    R("{\"v\":1,", PIT_ERR_JSON, "truncated after comma"),
    R("{'v':1}", PIT_ERR_JSON, "single quotes"),
    R("{\"v\":1,}", PIT_ERR_JSON, "trailing comma"),
    R("{\"v\":1} {}", PIT_ERR_JSON, "two values"),
    R("{\"v\":1}x", PIT_ERR_JSON, "trailing garbage"),
    R("{\"v\":1}\0", PIT_ERR_JSON, "NUL after the object"),
    R("{\"v\":1,\0\"iid\":1}", PIT_ERR_JSON, "NUL between members"),
    R("{\"v\":1,\"iid\":\"a\0b\"}", PIT_ERR_JSON, "raw NUL in a string"),
    R("{\"v\":1,\"iid\":\"a\\u0000b\"}", PIT_ERR_JSON, "escaped NUL"),
    R("{\"v\":1,\"x\":\"\xc3\x28\"}", PIT_ERR_JSON, "invalid UTF-8 in JSON"),
    R("{\"v\":1,\"x\":\"\xed\xa0\x80\"}", PIT_ERR_JSON, "raw surrogate"),
    R("{\"v\":1,\"x\":\"\\ud800\"}", PIT_ERR_JSON, "lone surrogate escape"),
    R("{\"v\":1,\"v\":1}", PIT_ERR_JSON, "duplicate key"),
    R("[]", PIT_ERR_JSON, "array"),
    R("[{\"v\":1}]", PIT_ERR_JSON, "object in an array"),
    R("\"v\"", PIT_ERR_JSON, "string"),
    R("1", PIT_ERR_JSON, "number"),
    R("null", PIT_ERR_JSON, "null"),
    R("true", PIT_ERR_JSON, "true"),
    R("{}", PIT_ERR_VERSION, "no v"),
    R("{\"V\":1}", PIT_ERR_VERSION, "V is not v"),
    R("{\"v\":2}", PIT_ERR_VERSION, "v 2"),
    R("{\"v\":0}", PIT_ERR_VERSION, "v 0"),
    R("{\"v\":-1}", PIT_ERR_VERSION, "v -1"),
    R("{\"v\":\"1\"}", PIT_ERR_VERSION, "v as a string"),
    R("{\"v\":1.0}", PIT_ERR_VERSION, "v as a real"),
    R("{\"v\":true}", PIT_ERR_VERSION, "v as a boolean"),
    R("{\"v\":null}", PIT_ERR_VERSION, "v null"),
    R("{\"v\":[1]}", PIT_ERR_VERSION, "v as an array"),
    R("{\"v\":4294967297}", PIT_ERR_VERSION, "v 2^32 + 1"),
    R("{\"v\":1}", PIT_ERR_FIELD, "v 1 and nothing else"),
};

static void test_decoders_reject_what_is_not_a_v1_object(void **state) {
    size_t     i;
    int        k;
    pit_err_t  rc;

    for (k = REC_TOKEN; k <= REC_INTEGRATION; k++) {
        for (i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
            rc = decode((rec_kind_t) k, raw_cases[i].json, raw_cases[i].len);
            if (rc != raw_cases[i].expect) {
                print_error("%s: got %d\n", raw_cases[i].why, (int) rc);
            }
            assert_int_equal(rc, raw_cases[i].expect);
        }
    }
}

static void test_decoders_reject_null_arguments(void **state) {
    pit_token_record_t  rec;
    pit_integration_t   in;

    assert_int_equal(pit_token_record_from_json(NULL, 0, &rec), PIT_ERR_ARG);
    assert_int_equal(pit_token_record_from_json("{}", 2, NULL), PIT_ERR_ARG);
    assert_int_equal(pit_integration_from_json(NULL, 0, &in), PIT_ERR_ARG);
    assert_int_equal(pit_integration_from_json("{}", 2, NULL), PIT_ERR_ARG);
}

static void test_decoders_bound_the_input_length(void **state) {
    size_t  len = PIT_JSON_MAX + 1;
    char   *json = malloc(len);
    int     k;

    /* a valid record padded with blanks: only the length is wrong */
    assert_non_null(json);
    memset(json, ' ', len);
    memcpy(json, TOKEN_JSON, sizeof(TOKEN_JSON) - 1);
    assert_int_equal(decode(REC_TOKEN, json, PIT_JSON_MAX), PIT_OK);
    assert_int_equal(decode(REC_TOKEN, json, len), PIT_ERR_TOO_LARGE);

    memset(json, ' ', len);
    memcpy(json, ACTIVE_JSON, sizeof(ACTIVE_JSON) - 1);
    assert_int_equal(decode(REC_INTEGRATION, json, PIT_JSON_MAX), PIT_OK);
    assert_int_equal(decode(REC_INTEGRATION, json, len), PIT_ERR_TOO_LARGE);

    for (k = REC_TOKEN; k <= REC_INTEGRATION; k++) {
        assert_int_equal(decode((rec_kind_t) k, json, (size_t) -1),
                         PIT_ERR_TOO_LARGE);
    }
    free(json);
}

static void test_decoders_survive_deep_nesting(void **state) {
    char  *open, *json;
    int    k;

    /* deeper than jansson's parser allows: refused, not a stack overflow */
    open = repeat("[", 30000);
    for (k = REC_TOKEN; k <= REC_INTEGRATION; k++) {
        assert_int_equal(decode_str((rec_kind_t) k, open), PIT_ERR_JSON);
    }
    free(open);

    open = repeat("{\"a\":", 5000);
    json = malloc(strlen(open) + 64);
    assert_non_null(json);
    sprintf(json, "{\"v\":1,\"x\":%s1", open);
    for (k = REC_TOKEN; k <= REC_INTEGRATION; k++) {
        assert_int_equal(decode_str((rec_kind_t) k, json), PIT_ERR_JSON);
    }
    free(json);
    free(open);
}

/* =============================================================================
 * Decoding: token records
 * ==========================================================================*/

static void test_token_record_decodes_every_field(void **state) {
    pit_token_record_t  rec;

    assert_int_equal(pit_token_record_from_json(TOKEN_JSON,
                         sizeof(TOKEN_JSON) - 1, &rec), PIT_OK);
    assert_string_equal(rec.iid, IID);
    assert_string_equal(rec.acct, "loc_123-A");
    assert_int_equal(rec.acct_type, PIT_ACCT_LOCATION);
    assert_int_equal(rec.scopes.n, 2);
    assert_true(pit_scope_set_contains(&rec.scopes, "contacts.readonly", 17));
    assert_true(pit_scope_set_contains(&rec.scopes, "contacts.write", 14));
    assert_false(pit_scope_set_contains(&rec.scopes, "contacts", 8));
    assert_int_equal(rec.role, PIT_ROLE_PRIMARY);
    assert_int_equal(rec.until_ms, 0);
}

static void test_token_record_ignores_unknown_fields(void **state) {
    static const char  json[] =
        "{\"x\":{\"deep\":[1,2,{\"y\":null}]},\"v\":1,\"iid\":\"" IID "\","
        "\"acct\":\"c\",\"acct_type\":\"company\",\"scopes\":[],"
        "\"role\":\"previous\",\"until\":1721321940000,\"z\":[[[[[[]]]]]]}";
    pit_token_record_t  rec;

    assert_int_equal(pit_token_record_from_json(json, sizeof(json) - 1,
                                                &rec), PIT_OK);
    assert_int_equal(rec.acct_type, PIT_ACCT_COMPANY);
    assert_int_equal(rec.scopes.n, 0);
    assert_int_equal(rec.role, PIT_ROLE_PREVIOUS);
    assert_int_equal(rec.until_ms, 1721321940000LL);
}

static void test_token_record_rejects_each_bad_field(void **state) {
    char  *many = scopes_json(101), *max = scopes_json(100);
    char  *a65 = repeat("a", 65), *acct65 = malloc(70);

    assert_non_null(acct65);
    sprintf(acct65, "\"%s\"", a65);
    free(a65);

    const mutation_t  m[] = {
        { "iid", "", PIT_ERR_FIELD },
        { "iid", "1", PIT_ERR_FIELD },
        { "iid", "null", PIT_ERR_FIELD },
        { "iid", "\"ocQHyuzHvysMo5N5VsX\"", PIT_ERR_FIELD },
        { "iid", "\"ocQHyuzHvysMo5N5VsXcc\"", PIT_ERR_FIELD },
        { "iid", "\"ocQHyuzHvysMo5N5VsX-\"", PIT_ERR_FIELD },
        { "acct", "", PIT_ERR_FIELD },
        { "acct", "42", PIT_ERR_FIELD },
        { "acct", "\"\"", PIT_ERR_ACCOUNT },
        { "acct", "\"a:b\"", PIT_ERR_ACCOUNT },
        { "acct", acct65, PIT_ERR_ACCOUNT },
        { "acct_type", "", PIT_ERR_FIELD },
        { "acct_type", "\"agency\"", PIT_ERR_FIELD },
        { "acct_type", "\"LOCATION\"", PIT_ERR_FIELD },
        { "acct_type", "0", PIT_ERR_FIELD },
        { "scopes", "", PIT_ERR_FIELD },
        { "scopes", "\"contacts.readonly\"", PIT_ERR_FIELD },
        { "scopes", "{}", PIT_ERR_FIELD },
        { "scopes", "null", PIT_ERR_FIELD },
        { "scopes", "[1]", PIT_ERR_FIELD },
        { "scopes", "[[\"a\"]]", PIT_ERR_FIELD },
        { "scopes", "[\"ok.scope\",null]", PIT_ERR_FIELD },
        { "scopes", "[\"Contacts.readonly\"]", PIT_ERR_SCOPE_INVALID },
        { "scopes", "[\"\"]", PIT_ERR_SCOPE_INVALID },
        { "scopes", "[\"a b\"]", PIT_ERR_SCOPE_INVALID },
        { "scopes", many, PIT_ERR_SCOPE_TOO_MANY },
        { "scopes", max, PIT_OK },
        { "role", "", PIT_ERR_FIELD },
        { "role", "\"owner\"", PIT_ERR_FIELD },
        { "role", "\"invalid\"", PIT_ERR_FIELD },
        { "role", "\"Primary\"", PIT_ERR_FIELD },
        { "role", "\"\"", PIT_ERR_FIELD },
        { "role", "0", PIT_ERR_FIELD },
        { "role", "\"next\"", PIT_OK },
        { "until", "", PIT_ERR_FIELD },
        { "until", "-1", PIT_ERR_FIELD },
        { "until", "\"0\"", PIT_ERR_FIELD },
        { "until", "0.0", PIT_ERR_FIELD },
        { "until", "1e3", PIT_ERR_FIELD },
        { "until", "null", PIT_ERR_FIELD },
        { "until", "false", PIT_ERR_FIELD },
        { "until", "253402300800000", PIT_ERR_FIELD },
        { "until", "253402300799999", PIT_OK },
        { "until", "9223372036854775807", PIT_ERR_FIELD },
        { "v", "2", PIT_ERR_VERSION },
        { "v", "", PIT_ERR_VERSION },
    };

    check_mutations(REC_TOKEN, TOKEN_JSON, m, sizeof(m) / sizeof(m[0]));
    free(many);
    free(max);
    free(acct65);
}

/* Every record the encoder writes is read by the scan, not by jansson. */
static void test_token_record_written_form_is_canonical(void **state) {
    pit_token_record_t  rec, out;
    char                buf[PIT_JSON_MAX], *a64, name[16];
    size_t              len, i, n;
    int                 role;

    a64 = repeat("a", 64);
    for (n = 0; n <= PIT_SCOPES_MAX; n += 25) {
        for (role = PIT_ROLE_PRIMARY; role < PIT_ROLE_INVALID; role++) {
            memset(&rec, 0, sizeof(rec));
            strcpy(rec.iid, IID);
            strcpy(rec.acct, n % 2 ? a64 : "loc_123-A");
            rec.acct_type = n % 2 ? PIT_ACCT_COMPANY : PIT_ACCT_LOCATION;
            pit_scope_set_init(&rec.scopes);
            for (i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "s%zu.readonly", i);
                assert_int_equal(pit_scope_set_add(&rec.scopes, name,
                                                   strlen(name)), PIT_OK);
            }
            rec.role = (pit_role_t) role;
            rec.until_ms = role == PIT_ROLE_PRIMARY ? 0 : 253402300799999LL;

            assert_int_equal(pit_token_record_to_json(&rec, buf, sizeof(buf),
                                                      &len), PIT_OK);
            assert_int_equal(pit_token_record_from_canonical_json(buf, len,
                                                                  &out),
                             PIT_OK);
            assert_memory_equal(&out, &rec, sizeof(rec));
            assert_int_equal(decode_token(buf, len, &out), PIT_OK);
        }
    }
    free(a64);
}

/* The canonical record's first fields, for spelling out the rest. */
#define REC_HEAD                                                            \
    "{\"v\":1,\"iid\":\"" IID "\",\"acct\":\"loc_123-A\","                  \
    "\"acct_type\":\"location\","

/* Same record, other spellings: the scan declines, jansson reads them. */
static void test_token_record_other_forms_go_to_jansson(void **state) {
    static const char *const forms[] = {
        "{ \"v\":1,\"iid\":\"" IID "\",\"acct\":\"loc_123-A\","
            "\"acct_type\":\"location\",\"scopes\":[\"contacts.readonly\","
            "\"contacts.write\"],\"role\":\"primary\",\"until\":0}",
        "{\"iid\":\"" IID "\",\"v\":1,\"acct\":\"loc_123-A\","
            "\"acct_type\":\"location\",\"scopes\":[\"contacts.write\","
            "\"contacts.readonly\"],\"role\":\"primary\",\"until\":0}",
        "{\"v\":1,\"iid\":\"" IID "\",\"acct\":\"loc_\\u0031\\u00323-A\","
            "\"acct_type\":\"location\",\"scopes\":[\"contacts.readonly\","
            "\"contacts.write\"],\"role\":\"primary\",\"until\":0}",
        REC_HEAD "\"scopes\":[\"contacts.readonly\","
            "\"contacts.write\"],\"role\":\"primary\",\"until\":-0}",
        REC_HEAD "\"scopes\":[\"contacts.readonly\","
            "\"contacts.write\",\"contacts.write\"],\"role\":\"primary\","
            "\"until\":0,\"x\":null}\n",
    };
    pit_token_record_t  rec, want;
    size_t              i;

    assert_int_equal(pit_token_record_from_canonical_json(TOKEN_JSON,
                         sizeof(TOKEN_JSON) - 1, &want), PIT_OK);
    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        assert_int_equal(pit_token_record_from_canonical_json(forms[i],
                             strlen(forms[i]), &rec), PIT_ERR_JSON);
        assert_int_equal(decode_token(forms[i], strlen(forms[i]), &rec),
                         PIT_OK);
        assert_memory_equal(&rec, &want, sizeof(rec));
    }
}

/* Canonical in shape, wrong in content: jansson's verdict, never the scan's. */
static void test_token_record_scan_defers_errors(void **state) {
    static const char *const bad[] = {
        REC_HEAD "\"scopes\":[],\"role\":\"primary\",\"until\":0}x",
        REC_HEAD "\"scopes\":[],\"role\":\"primary\",\"until\":0123}",
        REC_HEAD "\"scopes\":[],\"role\":\"primary\","
            "\"until\":1234567890123456}",
        REC_HEAD "\"scopes\":[,],\"role\":\"primary\",\"until\":0}",
        "{\"v\":1,\"iid\":\"" IID "\",\"acct\":\"loc_\xc3\xa9\","
            "\"acct_type\":\"location\",\"scopes\":[],\"role\":\"primary\","
            "\"until\":0}",
        "{\"v\":1,\"iid\":\"" IID "\",\"acct\":\"loc\x01\","
            "\"acct_type\":\"location\",\"scopes\":[],\"role\":\"primary\","
            "\"until\":0}",
        REC_HEAD "\"scopes\":[\"a\"],\"role\":\"primary\","
            "\"until\":0,\"acct\":\"other\"}",
        REC_HEAD "\"scopes\":[\"a\"],\"role\":\"primary\",\"until\":0",
    };
    pit_token_record_t  rec;
    size_t              i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pit_token_record_from_canonical_json(bad[i],
                             strlen(bad[i]), &rec), PIT_ERR_JSON);
        assert_int_not_equal(decode_token(bad[i], strlen(bad[i]), &rec),
                             PIT_OK);
        assert_string_equal(rec.iid, "");
    }
}

static void test_token_record_failure_leaves_nothing_to_trust(void **state) {
    pit_token_record_t  rec;
    char               *json;

    json = mutate(TOKEN_JSON, "until", "-5");
    memset(&rec, 0x5a, sizeof(rec));
    assert_int_equal(pit_token_record_from_json(json, strlen(json), &rec),
                     PIT_ERR_FIELD);
    assert_string_equal(rec.iid, "");
    assert_string_equal(rec.acct, "");
    assert_int_equal(rec.scopes.n, 0);
    free(json);
}

/* =============================================================================
 * Decoding: integration records
 * ==========================================================================*/

static void test_integration_decodes_an_active_record(void **state) {
    pit_integration_t  in;

    assert_int_equal(pit_integration_from_json(ACTIVE_JSON,
                         sizeof(ACTIVE_JSON) - 1, &in), PIT_OK);
    assert_string_equal(in.id, IID);
    assert_string_equal(in.name, "My Make App1");
    assert_string_equal(in.description, "My Make App1");
    assert_string_equal(in.account, "loc1");
    assert_int_equal(in.acct_type, PIT_ACCT_LOCATION);
    assert_int_equal(in.scopes.n, 1);
    assert_string_equal(in.scopes.names[0], "contacts.readonly");
    assert_int_equal(in.created_at_ms, T0);
    assert_int_equal(in.updated_at_ms, T0);
    assert_string_equal(in.created_by, "admin@example.com");
    assert_int_equal(in.ntokens, 1);
    assert_string_equal(in.tokens[0].hash, HASH1);
    assert_string_equal(in.tokens[0].hint, HINT1);
    assert_int_equal(in.tokens[0].role, PIT_ROLE_PRIMARY);
    assert_int_equal(in.tokens[0].created_at_ms, T0);
    assert_int_equal(in.tokens[0].until_ms, 0);
    assert_int_equal(in.rotating, 0);
}

static void test_integration_decodes_a_rotating_record(void **state) {
    pit_integration_t  in;

    assert_int_equal(pit_integration_from_json(ROTATING_JSON,
                         sizeof(ROTATING_JSON) - 1, &in), PIT_OK);
    assert_string_equal(in.description, "");
    assert_string_equal(in.created_by, "");
    assert_int_equal(in.acct_type, PIT_ACCT_COMPANY);
    assert_int_equal(in.scopes.n, 0);
    assert_int_equal(in.ntokens, 2);
    assert_int_equal(in.tokens[0].role, PIT_ROLE_PREVIOUS);
    assert_int_equal(in.tokens[0].until_ms, 1721321940000LL);
    assert_int_equal(in.tokens[1].role, PIT_ROLE_NEXT);
    assert_string_equal(in.tokens[1].hash, HASH2);
    assert_int_equal(in.tokens[1].created_at_ms, 1720717140000LL);
    assert_int_equal(in.rotating, 1);
    assert_int_equal(in.rotation_started_ms, 1720717140000LL);
    assert_int_equal(in.rotation_deadline_ms, 1721321940000LL);
}

static void test_integration_rejects_each_bad_field(void **state) {
    char  *many = scopes_json(101);
    char  *desc5000 = repeat("d", 5000), *desc501, *desc500;
    char  *name201, *name200, *by129;
    char  *s;

    /* JSON string literals built from repeated units */
    s = repeat("\xc3\xa9", 201);
    name201 = malloc(strlen(s) + 3);
    sprintf(name201, "\"%s\"", s);
    free(s);
    s = repeat("\xc3\xa9", 200);
    name200 = malloc(strlen(s) + 3);
    sprintf(name200, "\"%s\"", s);
    free(s);
    s = repeat("d", 501);
    desc501 = malloc(strlen(s) + 3);
    sprintf(desc501, "\"%s\"", s);
    free(s);
    s = repeat("\xe2\x82\xac", 500);
    desc500 = malloc(strlen(s) + 3);
    sprintf(desc500, "\"%s\"", s);
    free(s);
    s = desc5000;
    desc5000 = malloc(strlen(s) + 3);
    sprintf(desc5000, "\"%s\"", s);
    free(s);
    s = repeat("b", 129);
    by129 = malloc(strlen(s) + 3);
    sprintf(by129, "\"%s\"", s);
    free(s);

    const mutation_t  m[] = {
        { "id", "", PIT_ERR_FIELD },
        { "id", "7", PIT_ERR_FIELD },
        { "id", "\"short\"", PIT_ERR_FIELD },
        { "name", "", PIT_ERR_FIELD },
        { "name", "1", PIT_ERR_FIELD },
        { "name", "null", PIT_ERR_FIELD },
        { "name", "[\"n\"]", PIT_ERR_FIELD },
        { "name", "\"\"", PIT_ERR_NAME },
        { "name", name200, PIT_OK },
        { "name", name201, PIT_ERR_NAME },
        { "name", "\"a\\u0001b\"", PIT_ERR_TEXT },
        { "name", "\"tab\\there\"", PIT_ERR_TEXT },
        { "name", "\"del\\u007f\"", PIT_ERR_TEXT },
        { "name", "\"nel\\u0085\"", PIT_ERR_TEXT },
        { "name", "\"nbsp\\u00a0\"", PIT_OK },
        { "name", "\"pair \\ud83d\\ude00\"", PIT_OK },
        { "description", "", PIT_ERR_FIELD },
        { "description", "{}", PIT_ERR_FIELD },
        { "description", "\"\"", PIT_OK },
        { "description", desc500, PIT_OK },
        { "description", desc501, PIT_ERR_DESCRIPTION },
        { "description", desc5000, PIT_ERR_DESCRIPTION },
        { "description", "\"a\\nb\"", PIT_ERR_TEXT },
        { "account", "", PIT_ERR_FIELD },
        { "account", "true", PIT_ERR_FIELD },
        { "account", "\"a b\"", PIT_ERR_ACCOUNT },
        { "acct_type", "\"agency\"", PIT_ERR_FIELD },
        { "acct_type", "", PIT_ERR_FIELD },
        { "scopes", "", PIT_ERR_FIELD },
        { "scopes", "\"contacts.readonly\"", PIT_ERR_FIELD },
        { "scopes", "[true]", PIT_ERR_FIELD },
        { "scopes", "[\"../x\"]", PIT_ERR_SCOPE_INVALID },
        { "scopes", many, PIT_ERR_SCOPE_TOO_MANY },
        { "created_at", "", PIT_ERR_FIELD },
        { "created_at", "-1", PIT_ERR_FIELD },
        { "created_at", "\"1720630740000\"", PIT_ERR_FIELD },
        { "created_at", "1.5", PIT_ERR_FIELD },
        { "created_at", "0", PIT_OK },
        { "updated_at", "", PIT_ERR_FIELD },
        { "updated_at", "null", PIT_ERR_FIELD },
        { "updated_at", "-9223372036854775808", PIT_ERR_FIELD },
        { "created_by", "", PIT_ERR_FIELD },
        { "created_by", "0", PIT_ERR_FIELD },
        { "created_by", by129, PIT_ERR_FIELD },
        { "created_by", "\"esc\\u001b[0m\"", PIT_ERR_TEXT },
        { "tokens", "", PIT_ERR_FIELD },
        { "tokens", "{}", PIT_ERR_FIELD },
        { "tokens", "null", PIT_ERR_FIELD },
        { "tokens", "[]", PIT_ERR_FIELD },
        { "tokens", "[1]", PIT_ERR_FIELD },
        { "tokens", "[[]]", PIT_ERR_FIELD },
        { "tokens", "[{},{},{},{}]", PIT_ERR_FIELD },
        { "tokens.0.hash", "", PIT_ERR_FIELD },
        { "tokens.0.hash", "1", PIT_ERR_FIELD },
        { "tokens.0.hash", "\"0123456789ABCDEF0123456789abcdef"
                           "0123456789abcdef0123456789abcdef\"",
          PIT_ERR_FIELD },
        { "tokens.0.hash", "\"0123456789abcdef0123456789abcdef"
                           "0123456789abcdef0123456789abcde\"",
          PIT_ERR_FIELD },
        { "tokens.0.hash", "\"0123456789abcdef0123456789abcdef"
                           "0123456789abcdef0123456789abcdef0\"",
          PIT_ERR_FIELD },
        { "tokens.0.hash", "\"0123456789abcdef0123456789abcdef"
                           "0123456789abcdef0123456789abcdeg\"",
          PIT_ERR_FIELD },
        { "tokens.0.hash", "\"pit-1c50e2bb-3c7c-4404-be9a-587f0106f712"
                           "aaaaaaaaaaaaaaaaaaaaaaaa\"", PIT_ERR_FIELD },
        { "tokens.0.hint", "", PIT_ERR_FIELD },
        { "tokens.0.hint", "\"\"", PIT_ERR_FIELD },
        { "tokens.0.hint", "\"pit-6490****-****-****-****e7623\"",
          PIT_OK },
        { "tokens.0.hint", "\"pit-6490****-****-****-****e76234\"",
          PIT_OK },
        { "tokens.0.hint", "\"pit-6490****-****-****-****e762345678\"",
          PIT_ERR_FIELD },
        { "tokens.0.hint", "\"pit 6490\"", PIT_ERR_FIELD },
        { "tokens.0.role", "", PIT_ERR_FIELD },
        { "tokens.0.role", "\"owner\"", PIT_ERR_FIELD },
        { "tokens.0.role", "\"next\"", PIT_ERR_FIELD },
        { "tokens.0.role", "\"previous\"", PIT_ERR_FIELD },
        { "tokens.0.created_at", "", PIT_ERR_FIELD },
        { "tokens.0.created_at", "-5", PIT_ERR_FIELD },
        { "tokens.0.until", "", PIT_ERR_FIELD },
        { "tokens.0.until", "\"0\"", PIT_ERR_FIELD },
        { "rotation", "", PIT_ERR_FIELD },
        { "rotation", "0", PIT_ERR_FIELD },
        { "rotation", "[]", PIT_ERR_FIELD },
        { "rotation", "false", PIT_ERR_FIELD },
        { "rotation", "{\"started_at\":1,\"deadline\":2}", PIT_ERR_FIELD },
        { "v", "\"1\"", PIT_ERR_VERSION },
    };

    check_mutations(REC_INTEGRATION, ACTIVE_JSON, m,
                    sizeof(m) / sizeof(m[0]));

    free(many);
    free(desc5000);
    free(desc501);
    free(desc500);
    free(name201);
    free(name200);
    free(by129);
}

static void test_integration_rejects_impossible_rotation_states(void **state)
{
    static const mutation_t  m[] = {
        { "rotation", "null", PIT_ERR_FIELD },
        { "rotation", "{}", PIT_ERR_FIELD },
        { "rotation.started_at", "", PIT_ERR_FIELD },
        { "rotation.deadline", "", PIT_ERR_FIELD },
        { "rotation.deadline", "\"soon\"", PIT_ERR_FIELD },
        { "rotation.deadline", "-1", PIT_ERR_FIELD },
        { "rotation.deadline", "1720717139999", PIT_ERR_FIELD },
        { "rotation.deadline", "1720717140000", PIT_OK },
        { "tokens.0.role", "\"next\"", PIT_ERR_FIELD },
        { "tokens.0.role", "\"primary\"", PIT_ERR_FIELD },
        { "tokens.1.role", "\"previous\"", PIT_ERR_FIELD },
        { "tokens.1.hash", "\"" HASH1 "\"", PIT_ERR_FIELD },
        { "tokens.1", "", PIT_ERR_FIELD },
        { "tokens.0", "", PIT_ERR_FIELD },
        { "tokens.1.until", "-1", PIT_ERR_FIELD },
        { "tokens", "[{\"hash\":\"" HASH1 "\",\"hint\":\"h\","
                    "\"role\":\"previous\",\"created_at\":0,\"until\":9},"
                    "{\"hash\":\"" HASH2 "\",\"hint\":\"h\","
                    "\"role\":\"next\",\"created_at\":0,\"until\":9}]",
          PIT_OK },
        { "tokens", "[{\"hash\":\"" HASH1 "\",\"hint\":\"h\","
                    "\"role\":\"previous\",\"created_at\":0,\"until\":9},"
                    "{\"hash\":\"" HASH2 "\",\"hint\":\"h\","
                    "\"role\":\"next\",\"created_at\":0,\"until\":9},"
                    "{\"hash\":\"" H3 "\",\"hint\":\"h\","
                    "\"role\":\"primary\",\"created_at\":0,\"until\":0}]",
          PIT_ERR_FIELD },
    };

    check_mutations(REC_INTEGRATION, ROTATING_JSON, m,
                    sizeof(m) / sizeof(m[0]));
}

static void test_integration_accepts_a_multibyte_name_of_200(void **state) {
    char               *name, *json;
    size_t              n;
    pit_integration_t   in;

    name = repeat("\xc3\xa9", 200);
    n = strlen(name) + 3;
    json = malloc(n);
    sprintf(json, "\"%s\"", name);
    free(name);

    name = mutate(ACTIVE_JSON, "name", json);
    free(json);
    assert_int_equal(pit_integration_from_json(name, strlen(name), &in),
                     PIT_OK);
    assert_int_equal(strlen(in.name), 400);
    free(name);
}

static void test_integration_failure_leaves_nothing_to_trust(void **state) {
    pit_integration_t  in;
    char              *json;

    /* everything valid up to the very last field */
    json = mutate(ACTIVE_JSON, "rotation", "7");
    memset(&in, 0x5a, sizeof(in));
    assert_int_equal(pit_integration_from_json(json, strlen(json), &in),
                     PIT_ERR_FIELD);
    assert_string_equal(in.id, "");
    assert_string_equal(in.name, "");
    assert_int_equal(in.ntokens, 0);
    assert_int_equal(in.scopes.n, 0);
    free(json);
}

/* =============================================================================
 * Encoding
 * ==========================================================================*/

static void test_token_record_encodes_compact_schema_v1(void **state) {
    pit_token_record_t  rec;
    char                buf[PIT_JSON_MAX];
    size_t              len;

    assert_int_equal(pit_token_record_from_json(TOKEN_JSON,
                         sizeof(TOKEN_JSON) - 1, &rec), PIT_OK);
    assert_int_equal(pit_token_record_to_json(&rec, buf, sizeof(buf), &len),
                     PIT_OK);
    assert_string_equal(buf, TOKEN_JSON);
    assert_int_equal(len, sizeof(TOKEN_JSON) - 1);
}

static void test_integration_encodes_compact_schema_v1(void **state) {
    pit_integration_t  in;
    char               buf[PIT_JSON_MAX];
    size_t             len;

    assert_int_equal(pit_integration_from_json(ACTIVE_JSON,
                         sizeof(ACTIVE_JSON) - 1, &in), PIT_OK);
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_OK);
    assert_string_equal(buf, ACTIVE_JSON);
    assert_int_equal(len, strlen(ACTIVE_JSON));

    assert_int_equal(pit_integration_from_json(ROTATING_JSON,
                         sizeof(ROTATING_JSON) - 1, &in), PIT_OK);
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_OK);
    assert_string_equal(buf, ROTATING_JSON);
}

static void test_encoders_need_room_for_the_nul(void **state) {
    pit_token_record_t  rec;
    pit_integration_t   in;
    char                buf[PIT_JSON_MAX];
    size_t              len, need;

    assert_int_equal(pit_token_record_from_json(TOKEN_JSON,
                         sizeof(TOKEN_JSON) - 1, &rec), PIT_OK);
    need = sizeof(TOKEN_JSON);
    len = 12345;
    assert_int_equal(pit_token_record_to_json(&rec, buf, need - 1, &len),
                     PIT_ERR_TOO_LARGE);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(len, 12345);
    assert_int_equal(pit_token_record_to_json(&rec, buf, 0, &len),
                     PIT_ERR_TOO_LARGE);
    assert_int_equal(pit_token_record_to_json(&rec, buf, need, &len),
                     PIT_OK);
    assert_int_equal(len, need - 1);
    assert_int_equal(pit_token_record_to_json(&rec, buf, need, NULL),
                     PIT_OK);

    make_integration(&in);
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_OK);
    need = len + 1;
    assert_int_equal(pit_integration_to_json(&in, buf, need - 1, &len),
                     PIT_ERR_TOO_LARGE);
    assert_int_equal(pit_integration_to_json(&in, buf, 1, &len),
                     PIT_ERR_TOO_LARGE);
    assert_int_equal(pit_integration_to_json(&in, buf, need, &len), PIT_OK);
}

static void test_integration_round_trips(void **state) {
    pit_integration_t  in, out;
    char               buf[PIT_JSON_MAX], again[PIT_JSON_MAX];
    size_t             len, len2, i;
    char              *s;

    /* the largest integration there can be, in every field */
    make_integration(&in);
    s = repeat("\xf0\x9f\x98\x80", 200);
    strcpy(in.name, s);
    free(s);
    s = repeat("\"", 500);                  /* doubles when escaped */
    strcpy(in.description, s);
    free(s);
    s = repeat("\xe2\x82\xac", 128);
    strcpy(in.created_by, s);
    free(s);
    memset(in.account, 'Z', PIT_ACCOUNT_MAX);
    in.account[PIT_ACCOUNT_MAX] = '\0';
    in.acct_type = PIT_ACCT_COMPANY;
    pit_scope_set_init(&in.scopes);
    for (i = 0; i < PIT_SCOPES_MAX; i++) {
        char  name[PIT_SCOPE_NAME_MAX + 1];

        memset(name, 'x', PIT_SCOPE_NAME_MAX);
        snprintf(name, sizeof(name), "%03zu", i);
        name[3] = 'x';
        name[PIT_SCOPE_NAME_MAX] = '\0';
        assert_int_equal(pit_scope_set_add(&in.scopes, name,
                                           PIT_SCOPE_NAME_MAX), PIT_OK);
    }
    in.ntokens = 2;
    in.tokens[0].role = PIT_ROLE_PREVIOUS;
    in.tokens[0].until_ms = T0 + 7 * DAY;
    strcpy(in.tokens[1].hash, HASH2);
    strcpy(in.tokens[1].hint, HINT2);
    in.tokens[1].role = PIT_ROLE_NEXT;
    in.tokens[1].created_at_ms = T0 + 1;
    in.tokens[1].until_ms = T0 + 7 * DAY;
    in.rotating = 1;
    in.rotation_started_ms = T0 + 1;
    in.rotation_deadline_ms = T0 + 7 * DAY;

    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_OK);
    assert_true(len < PIT_JSON_MAX);
    assert_int_equal(pit_integration_from_json(buf, len, &out), PIT_OK);
    assert_integration_equal(&in, &out);

    /* encoding is a function of the record: the same bytes again */
    assert_int_equal(pit_integration_to_json(&out, again, sizeof(again),
                                             &len2), PIT_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);

    /* and the small active one */
    make_integration(&in);
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_OK);
    assert_int_equal(pit_integration_from_json(buf, len, &out), PIT_OK);
    assert_integration_equal(&in, &out);
}

static void test_token_record_round_trips(void **state) {
    pit_token_record_t  rec, out;
    char                buf[PIT_JSON_MAX];
    size_t              len;
    int                 role;

    memset(&rec, 0, sizeof(rec));
    strcpy(rec.iid, IID);
    strcpy(rec.acct, "Z-9_a");
    rec.acct_type = PIT_ACCT_COMPANY;
    pit_scope_set_init(&rec.scopes);
    assert_int_equal(pit_scope_set_add(&rec.scopes, "users.readonly", 14),
                     PIT_OK);

    for (role = PIT_ROLE_PRIMARY; role < PIT_ROLE_INVALID; role++) {
        rec.role = (pit_role_t) role;
        rec.until_ms = role == PIT_ROLE_PRIMARY ? 0 : T0 + 7 * DAY;
        assert_int_equal(pit_token_record_to_json(&rec, buf, sizeof(buf),
                                                  &len), PIT_OK);
        assert_int_equal(pit_token_record_from_json(buf, len, &out), PIT_OK);
        assert_string_equal(out.iid, rec.iid);
        assert_string_equal(out.acct, rec.acct);
        assert_int_equal(out.acct_type, rec.acct_type);
        assert_true(pit_scope_set_equal(&out.scopes, &rec.scopes));
        assert_int_equal(out.role, rec.role);
        assert_int_equal(out.until_ms, rec.until_ms);
    }
}

static void test_encoders_refuse_what_decoders_would_reject(void **state) {
    pit_token_record_t  rec;
    pit_integration_t   in;
    char                buf[PIT_JSON_MAX];
    size_t              len;

    assert_int_equal(pit_token_record_from_json(TOKEN_JSON,
                         sizeof(TOKEN_JSON) - 1, &rec), PIT_OK);
    rec.role = PIT_ROLE_INVALID;
    assert_int_equal(pit_token_record_to_json(&rec, buf, sizeof(buf), &len),
                     PIT_ERR_FIELD);
    rec.role = PIT_ROLE_PRIMARY;
    rec.until_ms = -1;
    assert_int_equal(pit_token_record_to_json(&rec, buf, sizeof(buf), &len),
                     PIT_ERR_FIELD);
    rec.until_ms = 0;
    rec.acct[0] = '\0';
    assert_int_equal(pit_token_record_to_json(&rec, buf, sizeof(buf), &len),
                     PIT_ERR_ACCOUNT);
    assert_int_equal(pit_token_record_to_json(NULL, buf, sizeof(buf), &len),
                     PIT_ERR_ARG);

    make_integration(&in);
    in.name[0] = '\0';
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_ERR_NAME);

    make_integration(&in);
    strcpy(in.name, "bad \xc2\x85");
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_ERR_TEXT);

    make_integration(&in);
    memset(in.name, 'n', sizeof(in.name));  /* no NUL at all */
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_ERR_NAME);

    make_integration(&in);
    in.ntokens = 0;
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_ERR_FIELD);

    make_integration(&in);
    in.ntokens = PIT_TOKENS_MAX + 1;
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_ERR_FIELD);

    make_integration(&in);
    in.rotating = 1;                        /* rotating with a primary */
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_ERR_FIELD);

    make_integration(&in);
    in.tokens[0].hash[10] = 'A';
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_ERR_FIELD);

    make_integration(&in);
    strcpy(in.scopes.names[0], "Bad");
    assert_int_equal(pit_integration_to_json(&in, buf, sizeof(buf), &len),
                     PIT_ERR_SCOPE_INVALID);
}

/* =============================================================================
 * Token record of an integration
 * ==========================================================================*/

static void test_token_record_of_takes_role_from_the_token(void **state) {
    pit_integration_t   in;
    pit_token_record_t  rec;
    char                buf[PIT_JSON_MAX];
    size_t              len;

    assert_int_equal(pit_integration_from_json(ROTATING_JSON,
                         sizeof(ROTATING_JSON) - 1, &in), PIT_OK);

    pit_token_record_of(&in, 1, &rec);
    assert_string_equal(rec.iid, IID);
    assert_string_equal(rec.acct, "comp1");
    assert_int_equal(rec.acct_type, PIT_ACCT_COMPANY);
    assert_true(pit_scope_set_equal(&rec.scopes, &in.scopes));
    assert_int_equal(rec.role, PIT_ROLE_NEXT);
    assert_int_equal(rec.until_ms, 1721321940000LL);

    /* what the edge reads is what pitctl wrote */
    assert_int_equal(pit_token_record_to_json(&rec, buf, sizeof(buf), &len),
                     PIT_OK);
    assert_string_equal(buf,
        "{\"v\":1,\"iid\":\"" IID "\",\"acct\":\"comp1\","
        "\"acct_type\":\"company\",\"scopes\":[],\"role\":\"next\","
        "\"until\":1721321940000}");

    pit_token_record_of(&in, 0, &rec);
    assert_int_equal(rec.role, PIT_ROLE_PREVIOUS);

    pit_token_record_of(&in, 2, &rec);
    assert_int_equal(rec.role, PIT_ROLE_INVALID);
    assert_string_equal(rec.iid, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_and_acct_type_names),
        cmocka_unit_test(test_name_rejects_invalid_utf8_and_controls),
        cmocka_unit_test(test_name_counts_characters_not_bytes),
        cmocka_unit_test(test_description_is_0_to_500_characters),
        cmocka_unit_test(test_name_refuses_invisible_and_bidi_characters),
        cmocka_unit_test(test_name_accepts_the_neighbours_of_refused_ranges),
        cmocka_unit_test(test_name_needs_a_visible_character),
        cmocka_unit_test(test_description_refuses_invisible_may_be_blank),
        cmocka_unit_test(test_text_problem_names_the_cause),
        cmocka_unit_test(test_stored_names_decode_by_the_old_rule),
        cmocka_unit_test(test_created_by_is_0_to_128_characters),
        cmocka_unit_test(test_account_is_1_to_64_of_alnum_dash_underscore),
        cmocka_unit_test(test_decoders_reject_what_is_not_a_v1_object),
        cmocka_unit_test(test_decoders_reject_null_arguments),
        cmocka_unit_test(test_decoders_bound_the_input_length),
        cmocka_unit_test(test_decoders_survive_deep_nesting),
        cmocka_unit_test(test_token_record_decodes_every_field),
        cmocka_unit_test(test_token_record_ignores_unknown_fields),
        cmocka_unit_test(test_token_record_rejects_each_bad_field),
        cmocka_unit_test(test_token_record_written_form_is_canonical),
        cmocka_unit_test(test_token_record_other_forms_go_to_jansson),
        cmocka_unit_test(test_token_record_scan_defers_errors),
        cmocka_unit_test(test_token_record_failure_leaves_nothing_to_trust),
        cmocka_unit_test(test_integration_decodes_an_active_record),
        cmocka_unit_test(test_integration_decodes_a_rotating_record),
        cmocka_unit_test(test_integration_rejects_each_bad_field),
        cmocka_unit_test(test_integration_rejects_impossible_rotation_states),
        cmocka_unit_test(test_integration_accepts_a_multibyte_name_of_200),
        cmocka_unit_test(test_integration_failure_leaves_nothing_to_trust),
        cmocka_unit_test(test_token_record_encodes_compact_schema_v1),
        cmocka_unit_test(test_integration_encodes_compact_schema_v1),
        cmocka_unit_test(test_encoders_need_room_for_the_nul),
        cmocka_unit_test(test_integration_round_trips),
        cmocka_unit_test(test_token_record_round_trips),
        cmocka_unit_test(test_encoders_refuse_what_decoders_would_reject),
        cmocka_unit_test(test_token_record_of_takes_role_from_the_token),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
