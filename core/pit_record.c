/*
 * pit-auth core: the token record and the integration record, to and from
 * JSON (Redis schema v1), and the text rules for what people type in.
 *
 * Decoding is strict and reports the first problem found:
 *
 *   PIT_ERR_ARG          json or the output is NULL
 *   PIT_ERR_TOO_LARGE    len > PIT_JSON_MAX
 *   PIT_ERR_JSON         not JSON (also: duplicate keys, NUL bytes, invalid
 *                        UTF-8, nesting deeper than jansson allows, trailing
 *                        bytes), or not an object
 *   PIT_ERR_VERSION      "v" missing, not an integer, or not 1
 *   PIT_ERR_NAME         "name" is not 1-200 characters
 *   PIT_ERR_DESCRIPTION  "description" is over 500 characters
 *   PIT_ERR_ACCOUNT      "acct" / "account" breaks pit_account_validate()
 *   PIT_ERR_TEXT         name, description or created_by is not text
 *                        (a C0/C1 control or DEL, e.g. "\u0085")
 *
 * Names and descriptions are decoded by the rules they were stored under:
 * the invisible and bidi characters, and names that show nothing, which
 * pit_name_validate() now refuses, still decode (and encode, so that such
 * an integration can be rotated and renamed).
 *   PIT_ERR_SCOPE_INVALID, PIT_ERR_SCOPE_TOO_MANY
 *                        a scope name is bad, or more than PIT_SCOPES_MAX
 *   PIT_ERR_FIELD        everything else: a field missing or of the wrong
 *                        type, a bad id, hash or hint, an unknown role or
 *                        account type, a time < 0 or past year 9999, too
 *                        many tokens, created_by over 128 characters, or
 *                        tokens that no rotation state can produce
 *
 * An integration holds either one "primary" token and "rotation": null, or
 * one "previous" and one "next" token and a rotation object whose deadline
 * is not before its start; token roles and hashes are unique.  On any error
 * the output structure is zeroed, so nothing half-decoded can be trusted.
 *
 * Encoding checks the structure with the same rules (and returns the same
 * errors) before writing, so nothing is ever stored that cannot be read
 * back; PIT_ERR_NOMEM if jansson cannot allocate.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pit_record.h"

#define PIT_TIME_MAX  253402300799999LL    /* 9999-12-31T23:59:59.999Z */

/* =============================================================================
 * Names of the enumerations
 * ==========================================================================*/

static const char *pit_role_names[] = {
    "primary", "next", "previous", "invalid"
};

/* Returns "primary", "next", "previous" or "invalid". */
const char *pit_role_name(pit_role_t role) {
    if ((unsigned) role > PIT_ROLE_INVALID) {
        return "invalid";
    }
    return pit_role_names[role];
}

/* Returns PIT_OK with *role set for a stored role name, else PIT_ERR_FIELD. */
static pit_err_t pit_role_parse(const char *s, size_t len, pit_role_t *role) {
    int  i;

    for (i = PIT_ROLE_PRIMARY; i < PIT_ROLE_INVALID; i++) {
        if (strlen(pit_role_names[i]) == len
            && memcmp(pit_role_names[i], s, len) == 0)
        {
            *role = (pit_role_t) i;
            return PIT_OK;
        }
    }
    return PIT_ERR_FIELD;
}

/* Returns "location" or "company". */
const char *pit_acct_type_name(pit_acct_type_t t) {
    return t == PIT_ACCT_COMPANY ? "company" : "location";
}

/* Returns PIT_OK with *t set for "location" or "company", else
 * PIT_ERR_FIELD. */
pit_err_t pit_acct_type_parse(const char *s, size_t len, pit_acct_type_t *t) {
    if (s == NULL || t == NULL) {
        return PIT_ERR_FIELD;
    }
    if (len == 8 && memcmp(s, "location", 8) == 0) {
        *t = PIT_ACCT_LOCATION;
        return PIT_OK;
    }
    if (len == 7 && memcmp(s, "company", 7) == 0) {
        *t = PIT_ACCT_COMPANY;
        return PIT_OK;
    }
    return PIT_ERR_FIELD;
}

/* =============================================================================
 * Text rules
 * ==========================================================================*/

/* What pit_text_validate() refuses beyond length, UTF-8 and controls. */
#define PIT_TEXT_NO_INVISIBLE  1    /* invisible or bidi characters */
#define PIT_TEXT_NEED_VISIBLE  2    /* text with no visible character */

/*
 * Returns the length (1-4) of the well-formed UTF-8 sequence that starts
 * p[0..len) with *cp set to its code point, or 0 if there is none:
 * overlong forms, surrogates (U+D800-U+DFFF), code points above U+10FFFF,
 * stray continuation bytes, C0/C1 lead bytes, F5-FF and sequences cut
 * short by the end of the input.
 */
static size_t pit_utf8_decode(const unsigned char *p, size_t len,
    uint32_t *cp)
{
    size_t         n, k;
    unsigned char  lo = 0x80, hi = 0xbf;
    uint32_t       c;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        c = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        c = p[0] & 0x0f;
        if (p[0] == 0xe0) {
            lo = 0xa0;                  /* below: overlong */
        } else if (p[0] == 0xed) {
            hi = 0x9f;                  /* above: surrogates */
        }
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        c = p[0] & 0x07;
        if (p[0] == 0xf0) {
            lo = 0x90;                  /* below: overlong */
        } else if (p[0] == 0xf4) {
            hi = 0x8f;                  /* above: past U+10FFFF */
        }
    } else {
        return 0;                       /* continuation, C0/C1 lead, F5-FF */
    }

    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (p[k] & 0x3f);
    }
    *cp = c;
    return n;
}

/* Returns 1 if cp is a C0 control (U+0000-U+001F), DEL or a C1 control. */
static int pit_cp_control(uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Returns 1 if cp shows nothing itself yet changes how the text around it
 * displays, or breaks the line: with one, a name can display as another
 * (Trojan Source, CVE-2021-42574: "invoice\u202Efdp.exe" shows as
 * "invoiceexe.pdf") or two names that look alike in "pitctl list" differ.
 * The bidi embeddings, overrides, isolates and marks, the zero-width
 * spaces and joiners, the invisible operators, the line and paragraph
 * separators, the soft hyphen, the Mongolian vowel separator and the byte
 * order mark.  U+2065 (unassigned) and U+206A-U+206F (deprecated format
 * controls) go with the block they sit in.  ZWJ and ZWNJ are refused too:
 * names lose joined emoji and some Persian and Indic spellings, the price
 * of a list that shows what is stored.
 */
static int pit_cp_invisible(uint32_t cp) {
    return cp == 0x00ad                         /* soft hyphen */
        || cp == 0x061c                         /* Arabic letter mark */
        || cp == 0x180e                         /* Mongolian vowel sep. */
        || (cp >= 0x200b && cp <= 0x200f)       /* ZWSP ZWNJ ZWJ LRM RLM */
        || (cp >= 0x2028 && cp <= 0x202e)       /* LS PS LRE RLE PDF LRO RLO */
        || (cp >= 0x2060 && cp <= 0x206f)       /* WJ, invisible operators,
                                                   LRI RLI FSI PDI, ... */
        || cp == 0xfeff;                        /* BOM, ZWNBSP */
}

/*
 * Returns 1 if cp shows as blank, or as nothing on its own: the Unicode
 * white space, the Hangul fillers that fonts draw empty, the Braille
 * blank, and marks that only change the character before them (combining
 * grapheme joiner, variation selectors, tags).  Text may hold them, but a
 * name of nothing else shows as an empty cell.
 */
static int pit_cp_blank(uint32_t cp) {
    return cp == 0x0020 || cp == 0x00a0 || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f || cp == 0x205f
        || cp == 0x3000
        || cp == 0x115f || cp == 0x1160 || cp == 0x3164 || cp == 0xffa0
        || cp == 0x2800
        || cp == 0x034f || (cp >= 0xfe00 && cp <= 0xfe0f)
        || (cp >= 0xe0000 && cp <= 0xe007f)
        || (cp >= 0xe0100 && cp <= 0xe01ef);
}

/* Returns rc after filling *why with fault, cp and pos. */
static pit_err_t pit_text_refuse(pit_text_problem_t *why, pit_err_t rc,
    pit_text_fault_t fault, uint32_t cp, size_t pos)
{
    why->fault = fault;
    why->cp = cp;
    why->pos = pos;
    return rc;
}

/*
 * The one text rule.  Returns PIT_OK if s[0..len) is well-formed UTF-8 of
 * min..max code points free of control characters (and, as flags ask, of
 * invisible or bidi characters, and with a visible one); else PIT_ERR_TEXT
 * for the first character refused, or bad_length if the text is too long,
 * too short or (PIT_TEXT_NEED_VISIBLE) shows nothing.  *why, if why is not
 * NULL, says which.
 */
static pit_err_t pit_text_validate(const char *s, size_t len, size_t min,
    size_t max, int flags, pit_err_t bad_length, pit_text_problem_t *why)
{
    const unsigned char  *p = (const unsigned char *) s;
    pit_text_problem_t    ignored;
    size_t                i, n, count, visible;
    uint32_t              cp;

    if (why == NULL) {
        why = &ignored;
    }
    memset(why, 0, sizeof(*why));
    why->max = max;

    if (s == NULL && len != 0) {
        return pit_text_refuse(why, PIT_ERR_TEXT, PIT_TEXT_NOT_UTF8, 0, 1);
    }

    count = 0;
    visible = 0;
    for (i = 0; i < len; i += n) {
        n = pit_utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            return pit_text_refuse(why, PIT_ERR_TEXT, PIT_TEXT_NOT_UTF8, 0,
                                   count + 1);
        }
        count++;
        if (pit_cp_control(cp)) {
            return pit_text_refuse(why, PIT_ERR_TEXT, PIT_TEXT_CONTROL, cp,
                                   count);
        }
        if ((flags & PIT_TEXT_NO_INVISIBLE) && pit_cp_invisible(cp)) {
            return pit_text_refuse(why, PIT_ERR_TEXT, PIT_TEXT_INVISIBLE, cp,
                                   count);
        }
        if (!pit_cp_blank(cp)) {
            visible++;
        }
    }

    if (count > max) {
        return pit_text_refuse(why, bad_length, PIT_TEXT_TOO_LONG, 0, 0);
    }
    if (count < min || ((flags & PIT_TEXT_NEED_VISIBLE) && visible == 0)) {
        return pit_text_refuse(why, bad_length, PIT_TEXT_BLANK, 0, 0);
    }
    return PIT_OK;
}

/* Returns PIT_OK, PIT_ERR_TEXT or PIT_ERR_NAME; *why says why not. */
pit_err_t pit_name_check(const char *s, size_t len, pit_text_problem_t *why) {
    return pit_text_validate(s, len, 1, PIT_NAME_MAX_CHARS,
                             PIT_TEXT_NO_INVISIBLE | PIT_TEXT_NEED_VISIBLE,
                             PIT_ERR_NAME, why);
}

/* Returns PIT_OK, PIT_ERR_TEXT or PIT_ERR_DESCRIPTION; *why says why not. */
pit_err_t pit_description_check(const char *s, size_t len,
    pit_text_problem_t *why)
{
    return pit_text_validate(s, len, 0, PIT_DESC_MAX_CHARS,
                             PIT_TEXT_NO_INVISIBLE, PIT_ERR_DESCRIPTION, why);
}

/* Returns PIT_OK, PIT_ERR_TEXT or PIT_ERR_NAME (see pit_name_check()). */
pit_err_t pit_name_validate(const char *s, size_t len) {
    return pit_name_check(s, len, NULL);
}

/* Returns PIT_OK, PIT_ERR_TEXT or PIT_ERR_DESCRIPTION (over 500 chars). */
pit_err_t pit_description_validate(const char *s, size_t len) {
    return pit_description_check(s, len, NULL);
}

/* Returns PIT_OK, PIT_ERR_TEXT or PIT_ERR_FIELD (over 128 characters). */
pit_err_t pit_created_by_validate(const char *s, size_t len) {
    return pit_text_validate(s, len, 0, PIT_CREATED_BY_MAX_CHARS, 0,
                             PIT_ERR_FIELD, NULL);
}

/*
 * As pit_name_validate() without the invisible-character and visible-
 * character parts, for records read from (or written back to) Redis: a
 * name stored before those parts existed must still decode, or the
 * integration could no longer be listed, rotated or renamed.  New names
 * reach Redis only through pit_name_validate() (see
 * pit_store_integration.c).
 */
static pit_err_t pit_stored_name_validate(const char *s, size_t len) {
    return pit_text_validate(s, len, 1, PIT_NAME_MAX_CHARS, 0, PIT_ERR_NAME,
                             NULL);
}

/* As pit_stored_name_validate(), for descriptions. */
static pit_err_t pit_stored_description_validate(const char *s, size_t len) {
    return pit_text_validate(s, len, 0, PIT_DESC_MAX_CHARS, 0,
                             PIT_ERR_DESCRIPTION, NULL);
}

/* Writes the phrase for why into buf (see pit_record.h); returns buf. */
char *pit_text_problem_format(const pit_text_problem_t *why, char *buf,
    size_t cap)
{
    if (buf == NULL || cap == 0) {
        return buf;
    }

    switch (why == NULL ? PIT_TEXT_OK : why->fault) {
    case PIT_TEXT_NOT_UTF8:
        snprintf(buf, cap, "is not valid UTF-8 (at character %zu)",
                 why->pos);
        break;
    case PIT_TEXT_CONTROL:
        snprintf(buf, cap, "holds a control character (U+%04X at "
                 "character %zu)", (unsigned) why->cp, why->pos);
        break;
    case PIT_TEXT_INVISIBLE:
        snprintf(buf, cap, "holds an invisible or bidirectional control "
                 "character (U+%04X at character %zu)", (unsigned) why->cp,
                 why->pos);
        break;
    case PIT_TEXT_BLANK:
        snprintf(buf, cap, "must contain a visible character");
        break;
    case PIT_TEXT_TOO_LONG:
        snprintf(buf, cap, "must be at most %zu characters", why->max);
        break;
    default:
        snprintf(buf, cap, "is valid");
        break;
    }
    return buf;
}

/* Returns PIT_OK if s[0..len) is [A-Za-z0-9_-]{1,64}, else PIT_ERR_ACCOUNT. */
pit_err_t pit_account_validate(const char *s, size_t len) {
    size_t  i;
    char    c;

    if (s == NULL || len == 0 || len > PIT_ACCOUNT_MAX) {
        return PIT_ERR_ACCOUNT;
    }
    for (i = 0; i < len; i++) {
        c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return PIT_ERR_ACCOUNT;
        }
    }
    return PIT_OK;
}

/*
 * Returns PIT_OK if s[0..len) is a stored token hash: 64 lowercase hex
 * digits (keys are built from it, so "AB" and "ab" would be different
 * keys), else PIT_ERR_FIELD.
 */
static pit_err_t pit_hash_validate(const char *s, size_t len) {
    unsigned char  raw[PIT_HASH_LEN];
    size_t         i;

    if (s == NULL || len != PIT_HASH_HEX_LEN) {
        return PIT_ERR_FIELD;
    }
    for (i = 0; i < len; i++) {
        if (s[i] >= 'A' && s[i] <= 'F') {
            return PIT_ERR_FIELD;
        }
    }
    if (pit_hex_decode(s, PIT_HASH_LEN, raw) != PIT_OK) {
        return PIT_ERR_FIELD;
    }
    return PIT_OK;
}

/* Returns PIT_OK if s[0..len) is 1-36 printable ASCII bytes, no blanks. */
static pit_err_t pit_hint_validate(const char *s, size_t len) {
    size_t  i;

    if (s == NULL || len == 0 || len > PIT_HINT_LEN) {
        return PIT_ERR_FIELD;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return PIT_ERR_FIELD;
        }
    }
    return PIT_OK;
}

/* Returns PIT_OK if ms is a time we store (0 .. year 9999), PIT_ERR_FIELD. */
static pit_err_t pit_time_validate(int64_t ms) {
    return (ms < 0 || ms > PIT_TIME_MAX) ? PIT_ERR_FIELD : PIT_OK;
}

/*
 * Returns the length of the NUL-terminated string in field[0..cap), or cap
 * when the field holds no NUL (which every check below rejects).
 */
static size_t pit_field_len(const char *field, size_t cap) {
    const char  *nul;

    nul = memchr(field, '\0', cap);
    return nul == NULL ? cap : (size_t) (nul - field);
}

/* =============================================================================
 * Structure checks, shared by decoding and encoding
 * ==========================================================================*/

/* Returns PIT_OK if every name of set is valid and they are few enough. */
static pit_err_t pit_scopes_check(const pit_scope_set_t *set) {
    size_t  i, len;

    if (set->n > PIT_SCOPES_MAX) {
        return PIT_ERR_SCOPE_TOO_MANY;
    }
    for (i = 0; i < set->n; i++) {
        len = pit_field_len(set->names[i], sizeof(set->names[i]));
        if (!pit_scope_name_valid(set->names[i], len)) {
            return PIT_ERR_SCOPE_INVALID;
        }
    }
    return PIT_OK;
}

/* Returns PIT_OK if every field of rec holds a value we may store. */
static pit_err_t pit_token_record_check(const pit_token_record_t *rec) {
    pit_err_t  rc;

    if (pit_id_validate(rec->iid, pit_field_len(rec->iid, sizeof(rec->iid)))
        != PIT_OK)
    {
        return PIT_ERR_FIELD;
    }
    rc = pit_account_validate(rec->acct,
                              pit_field_len(rec->acct, sizeof(rec->acct)));
    if (rc != PIT_OK) {
        return rc;
    }
    if (rec->acct_type != PIT_ACCT_LOCATION
        && rec->acct_type != PIT_ACCT_COMPANY)
    {
        return PIT_ERR_FIELD;
    }
    if ((unsigned) rec->role >= PIT_ROLE_INVALID) {
        return PIT_ERR_FIELD;
    }
    rc = pit_time_validate(rec->until_ms);
    if (rc != PIT_OK) {
        return rc;
    }
    return pit_scopes_check(&rec->scopes);
}

/*
 * Returns PIT_OK if in's tokens and rotation describe a state the rotation
 * functions can produce: one primary and no rotation, or a previous and a
 * next token during a rotation.  Roles and hashes must be unique.
 */
static pit_err_t pit_integration_check_tokens(const pit_integration_t *in) {
    size_t  i, j, count[PIT_ROLE_INVALID];

    if (in->ntokens == 0 || in->ntokens > PIT_TOKENS_MAX) {
        return PIT_ERR_FIELD;
    }
    memset(count, 0, sizeof(count));

    for (i = 0; i < in->ntokens; i++) {
        if ((unsigned) in->tokens[i].role >= PIT_ROLE_INVALID) {
            return PIT_ERR_FIELD;
        }
        if (++count[in->tokens[i].role] > 1) {
            return PIT_ERR_FIELD;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(in->tokens[i].hash, in->tokens[j].hash) == 0) {
                return PIT_ERR_FIELD;
            }
        }
    }

    if (in->rotating) {
        if (in->ntokens != 2 || count[PIT_ROLE_NEXT] != 1
            || count[PIT_ROLE_PREVIOUS] != 1
            || pit_time_validate(in->rotation_started_ms) != PIT_OK
            || pit_time_validate(in->rotation_deadline_ms) != PIT_OK
            || in->rotation_deadline_ms < in->rotation_started_ms)
        {
            return PIT_ERR_FIELD;
        }
        return PIT_OK;
    }

    return (in->ntokens == 1 && count[PIT_ROLE_PRIMARY] == 1)
           ? PIT_OK : PIT_ERR_FIELD;
}

/* Returns PIT_OK if every field of in holds a value we may store. */
static pit_err_t pit_integration_check(const pit_integration_t *in) {
    const pit_token_info_t  *t;
    size_t                   i;
    pit_err_t                rc;

    if (pit_id_validate(in->id, pit_field_len(in->id, sizeof(in->id)))
        != PIT_OK)
    {
        return PIT_ERR_FIELD;
    }
    rc = pit_stored_name_validate(in->name,
                                  pit_field_len(in->name, sizeof(in->name)));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_stored_description_validate(in->description,
             pit_field_len(in->description, sizeof(in->description)));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_account_validate(in->account,
                              pit_field_len(in->account, sizeof(in->account)));
    if (rc != PIT_OK) {
        return rc;
    }
    if (in->acct_type != PIT_ACCT_LOCATION
        && in->acct_type != PIT_ACCT_COMPANY)
    {
        return PIT_ERR_FIELD;
    }
    rc = pit_scopes_check(&in->scopes);
    if (rc != PIT_OK) {
        return rc;
    }
    if (pit_time_validate(in->created_at_ms) != PIT_OK
        || pit_time_validate(in->updated_at_ms) != PIT_OK)
    {
        return PIT_ERR_FIELD;
    }
    rc = pit_created_by_validate(in->created_by,
             pit_field_len(in->created_by, sizeof(in->created_by)));
    if (rc != PIT_OK) {
        return rc;
    }
    if (in->ntokens > PIT_TOKENS_MAX) {
        return PIT_ERR_FIELD;
    }
    for (i = 0; i < in->ntokens; i++) {
        t = &in->tokens[i];
        if (pit_hash_validate(t->hash, pit_field_len(t->hash, sizeof(t->hash)))
                != PIT_OK
            || pit_hint_validate(t->hint,
                                 pit_field_len(t->hint, sizeof(t->hint)))
                != PIT_OK
            || pit_time_validate(t->created_at_ms) != PIT_OK
            || pit_time_validate(t->until_ms) != PIT_OK)
        {
            return PIT_ERR_FIELD;
        }
    }
    return pit_integration_check_tokens(in);
}

/* =============================================================================
 * Decoding helpers
 * ==========================================================================*/

/*
 * Returns PIT_OK with *root set to the parsed object (the caller owns the
 * reference) if json[0..len) is a JSON object of version 1; otherwise
 * PIT_ERR_TOO_LARGE, PIT_ERR_JSON or PIT_ERR_VERSION and nothing to free.
 */
static pit_err_t pit_json_open(const char *json, size_t len, json_t **root) {
    json_error_t  err;
    json_t       *obj, *v;

    if (len > PIT_JSON_MAX) {
        return PIT_ERR_TOO_LARGE;
    }
    obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (obj == NULL) {
        return PIT_ERR_JSON;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        return PIT_ERR_JSON;
    }
    v = json_object_get(obj, "v");
    if (v == NULL || !json_is_integer(v)
        || json_integer_value(v) != PIT_RECORD_VERSION)
    {
        json_decref(obj);
        return PIT_ERR_VERSION;
    }
    *root = obj;
    return PIT_OK;
}

/* Returns PIT_OK with s/len pointing into obj's string key, PIT_ERR_FIELD. */
static pit_err_t pit_json_string(const json_t *obj, const char *key,
    const char **s, size_t *len)
{
    json_t  *v;

    v = json_object_get(obj, key);
    if (v == NULL || !json_is_string(v)) {
        return PIT_ERR_FIELD;
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    return PIT_OK;
}

/*
 * Returns PIT_OK after copying obj's string key into dst (cap bytes with
 * the NUL) once check() accepts it; else PIT_ERR_FIELD or check()'s error.
 */
static pit_err_t pit_json_copy(const json_t *obj, const char *key,
    pit_err_t (*check)(const char *s, size_t len), char *dst, size_t cap)
{
    const char  *s;
    size_t       len;
    pit_err_t    rc;

    rc = pit_json_string(obj, key, &s, &len);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = check(s, len);
    if (rc != PIT_OK) {
        return rc;
    }
    if (len >= cap) {
        return PIT_ERR_FIELD;           /* check() should have said so */
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return PIT_OK;
}

/* Returns PIT_OK with *ms set from obj's integer key (a stored time). */
static pit_err_t pit_json_time(const json_t *obj, const char *key,
    int64_t *ms)
{
    json_t  *v;

    v = json_object_get(obj, key);
    if (v == NULL || !json_is_integer(v)) {
        return PIT_ERR_FIELD;
    }
    *ms = (int64_t) json_integer_value(v);
    return pit_time_validate(*ms);
}

/* Returns PIT_OK with *role set from obj's "role", else PIT_ERR_FIELD. */
static pit_err_t pit_json_role(const json_t *obj, pit_role_t *role) {
    const char  *s;
    size_t       len;

    if (pit_json_string(obj, "role", &s, &len) != PIT_OK) {
        return PIT_ERR_FIELD;
    }
    return pit_role_parse(s, len, role);
}

/* Returns PIT_OK with *t set from obj's key, else PIT_ERR_FIELD. */
static pit_err_t pit_json_acct_type(const json_t *obj, const char *key,
    pit_acct_type_t *t)
{
    const char  *s;
    size_t       len;

    if (pit_json_string(obj, key, &s, &len) != PIT_OK) {
        return PIT_ERR_FIELD;
    }
    return pit_acct_type_parse(s, len, t);
}

/*
 * Returns PIT_OK with set filled from obj's "scopes" array of strings;
 * PIT_ERR_FIELD (missing, not an array, an element not a string),
 * PIT_ERR_SCOPE_TOO_MANY or PIT_ERR_SCOPE_INVALID.
 */
static pit_err_t pit_json_scopes(const json_t *obj, pit_scope_set_t *set) {
    json_t     *arr, *v;
    size_t      i;
    pit_err_t   rc;

    arr = json_object_get(obj, "scopes");
    if (arr == NULL || !json_is_array(arr)) {
        return PIT_ERR_FIELD;
    }
    if (json_array_size(arr) > PIT_SCOPES_MAX) {
        return PIT_ERR_SCOPE_TOO_MANY;
    }
    pit_scope_set_init(set);
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v)) {
            return PIT_ERR_FIELD;
        }
        rc = pit_scope_set_add(set, json_string_value(v),
                               json_string_length(v));
        if (rc != PIT_OK) {
            return rc;
        }
    }
    return PIT_OK;
}

/* Returns PIT_OK if s is an integration id, else PIT_ERR_FIELD. */
static pit_err_t pit_iid_check(const char *s, size_t len) {
    return pit_id_validate(s, len) == PIT_OK ? PIT_OK : PIT_ERR_FIELD;
}

/* =============================================================================
 * Token records
 * ==========================================================================*/

/* Returns PIT_OK with rec filled from obj, or the first error found. */
static pit_err_t pit_token_record_decode(const json_t *obj,
    pit_token_record_t *rec)
{
    pit_err_t  rc;

    rc = pit_json_copy(obj, "iid", pit_iid_check, rec->iid, sizeof(rec->iid));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_copy(obj, "acct", pit_account_validate, rec->acct,
                       sizeof(rec->acct));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_acct_type(obj, "acct_type", &rec->acct_type);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_scopes(obj, &rec->scopes);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_role(obj, &rec->role);
    if (rc != PIT_OK) {
        return rc;
    }
    return pit_json_time(obj, "until", &rec->until_ms);
}

/*
 * The canonical form: what pit_token_record_to_json() writes.  A scan of it
 * needs no allocation and no hash table, which is most of what a lookup
 * that misses the cache spends.
 */

/* Returns 1 after moving *p past lit if the text there is lit, else 0. */
static int pit_scan_literal(const char **p, const char *end, const char *lit,
    size_t n)
{
    if ((size_t) (end - *p) < n || memcmp(*p, lit, n) != 0) {
        return 0;
    }
    *p += n;
    return 1;
}

#define pit_scan_lit(p, end, lit)                                            \
    pit_scan_literal(p, end, lit, sizeof(lit) - 1)

/*
 * Returns 1 with s/len set to a JSON string's bytes if *p is a string that
 * needs no decoding (no escape, no control character), moving *p past it;
 * else 0.  Bytes >= 0x80 pass: every field's check then rejects them.
 */
static int pit_scan_string(const char **p, const char *end, const char **s,
    size_t *len)
{
    const char  *q;

    if (*p == end || **p != '"') {
        return 0;
    }
    for (q = *p + 1; q < end && *q != '"'; q++) {
        if (*q == '\\' || (unsigned char) *q < 0x20) {
            return 0;
        }
    }
    if (q == end) {
        return 0;
    }
    *s = *p + 1;
    *len = (size_t) (q - *s);
    *p = q + 1;
    return 1;
}

/* As pit_scan_string(), copying into dst (cap bytes) once check() agrees. */
static int pit_scan_copy(const char **p, const char *end,
    pit_err_t (*check)(const char *s, size_t len), char *dst, size_t cap)
{
    const char  *s;
    size_t       len;

    if (!pit_scan_string(p, end, &s, &len) || check(s, len) != PIT_OK
        || len >= cap)
    {
        return 0;
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 1;
}

/* Returns 1 with set filled if *p is a canonical array of scope names. */
static int pit_scan_scopes(const char **p, const char *end,
    pit_scope_set_t *set)
{
    const char  *s;
    size_t       len, n;

    pit_scope_set_init(set);
    if (!pit_scan_lit(p, end, "[")) {
        return 0;
    }
    if (pit_scan_lit(p, end, "]")) {
        return 1;
    }
    for (n = 1; n <= PIT_SCOPES_MAX; n++) {
        if (!pit_scan_string(p, end, &s, &len)
            || pit_scope_set_add(set, s, len) != PIT_OK)
        {
            return 0;
        }
        if (pit_scan_lit(p, end, "]")) {
            return 1;
        }
        if (!pit_scan_lit(p, end, ",")) {
            return 0;
        }
    }
    return 0;
}

/* Returns 1 with *ms set if *p is a canonical stored time (no sign). */
static int pit_scan_time(const char **p, const char *end, int64_t *ms) {
    int64_t  v = 0;
    size_t   n;

    if (*p < end && **p == '0') {
        (*p)++;
        *ms = 0;
        return 1;
    }
    for (n = 0; *p < end && **p >= '0' && **p <= '9' && n < 15; n++) {
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    if (n == 0 || pit_time_validate(v) != PIT_OK) {
        return 0;
    }
    *ms = v;
    return 1;
}

/*
 * Returns 1 with rec filled if json[0..len) is a token record in canonical
 * form that the general decoder would accept with the same result, else 0
 * (rec then holds garbage).  Every field goes through the same checks.
 */
static int pit_token_record_scan(const char *json, size_t len,
    pit_token_record_t *rec)
{
    const char  *p = json, *end = json + len, *s;
    size_t       n;

    return len <= PIT_JSON_MAX
        && pit_scan_lit(&p, end, "{\"v\":1,\"iid\":")
        && pit_scan_copy(&p, end, pit_iid_check, rec->iid, sizeof(rec->iid))
        && pit_scan_lit(&p, end, ",\"acct\":")
        && pit_scan_copy(&p, end, pit_account_validate, rec->acct,
                         sizeof(rec->acct))
        && pit_scan_lit(&p, end, ",\"acct_type\":")
        && pit_scan_string(&p, end, &s, &n)
        && pit_acct_type_parse(s, n, &rec->acct_type) == PIT_OK
        && pit_scan_lit(&p, end, ",\"scopes\":")
        && pit_scan_scopes(&p, end, &rec->scopes)
        && pit_scan_lit(&p, end, ",\"role\":")
        && pit_scan_string(&p, end, &s, &n)
        && pit_role_parse(s, n, &rec->role) == PIT_OK
        && pit_scan_lit(&p, end, ",\"until\":")
        && pit_scan_time(&p, end, &rec->until_ms)
        && pit_scan_lit(&p, end, "}")
        && p == end;
}

/* Returns PIT_OK, or PIT_ERR_JSON if json is not in canonical form. */
pit_err_t pit_token_record_from_canonical_json(const char *json, size_t len,
    pit_token_record_t *rec)
{
    if (json == NULL || rec == NULL) {
        return PIT_ERR_ARG;
    }
    memset(rec, 0, sizeof(*rec));

    if (!pit_token_record_scan(json, len, rec)) {
        memset(rec, 0, sizeof(*rec));
        return PIT_ERR_JSON;
    }
    return PIT_OK;
}

/* Returns PIT_OK or a decoding error (see the top of this file). */
pit_err_t pit_token_record_from_json(const char *json, size_t len,
    pit_token_record_t *rec)
{
    if (pit_token_record_from_canonical_json(json, len, rec) == PIT_OK) {
        return PIT_OK;
    }
    return pit_token_record_from_general_json(json, len, rec);
}

/* Returns PIT_OK or a decoding error, through jansson whatever the form. */
pit_err_t pit_token_record_from_general_json(const char *json, size_t len,
    pit_token_record_t *rec)
{
    json_t     *root;
    pit_err_t   rc;

    if (json == NULL || rec == NULL) {
        return PIT_ERR_ARG;
    }
    memset(rec, 0, sizeof(*rec));

    rc = pit_json_open(json, len, &root);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_token_record_decode(root, rec);
    json_decref(root);

    if (rc != PIT_OK) {
        memset(rec, 0, sizeof(*rec));
    }
    return rc;
}

/*
 * Returns 0 after storing value (a new reference, stolen even on failure)
 * under key in obj, or -1 if value is NULL or jansson fails.
 */
static int pit_json_put(json_t *obj, const char *key, json_t *value) {
    if (value == NULL) {
        return -1;
    }
    return json_object_set_new(obj, key, value);
}

/* Returns a new JSON array of set's names, or NULL if out of memory. */
static json_t *pit_json_scopes_new(const pit_scope_set_t *set) {
    json_t  *arr;
    size_t   i;

    arr = json_array();
    if (arr == NULL) {
        return NULL;
    }
    for (i = 0; i < set->n; i++) {
        if (json_array_append_new(arr, json_string(set->names[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/*
 * Returns PIT_OK after writing root as compact JSON plus a NUL into buf,
 * PIT_ERR_TOO_LARGE if it does not fit, PIT_ERR_NOMEM if jansson fails.
 */
static pit_err_t pit_json_dump(const json_t *root, char *buf, size_t cap,
    size_t *len)
{
    size_t  n;

    if (cap == 0) {
        return PIT_ERR_TOO_LARGE;
    }
    n = json_dumpb(root, buf, cap, JSON_COMPACT);
    if (n == 0) {
        buf[0] = '\0';
        return PIT_ERR_NOMEM;
    }
    if (n >= cap || n > PIT_JSON_MAX) {
        buf[0] = '\0';                 /* no truncated JSON left behind */
        return PIT_ERR_TOO_LARGE;
    }
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return PIT_OK;
}

/*
 * Returns PIT_OK after writing rec as compact JSON plus a NUL into buf;
 * PIT_ERR_TOO_LARGE if cap is too small, a check error if rec holds a value
 * that decoding would reject, PIT_ERR_NOMEM.  *len excludes the NUL.
 */
pit_err_t pit_token_record_to_json(const pit_token_record_t *rec, char *buf,
    size_t cap, size_t *len)
{
    json_t     *root;
    pit_err_t   rc;

    if (rec == NULL || (buf == NULL && cap != 0)) {
        return PIT_ERR_ARG;
    }
    rc = pit_token_record_check(rec);
    if (rc != PIT_OK) {
        return rc;
    }

    root = json_object();
    if (root == NULL) {
        return PIT_ERR_NOMEM;
    }
    if (pit_json_put(root, "v", json_integer(PIT_RECORD_VERSION)) != 0
        || pit_json_put(root, "iid", json_string(rec->iid)) != 0
        || pit_json_put(root, "acct", json_string(rec->acct)) != 0
        || pit_json_put(root, "acct_type",
                        json_string(pit_acct_type_name(rec->acct_type))) != 0
        || pit_json_put(root, "scopes", pit_json_scopes_new(&rec->scopes))
           != 0
        || pit_json_put(root, "role", json_string(pit_role_name(rec->role)))
           != 0
        || pit_json_put(root, "until", json_integer(rec->until_ms)) != 0)
    {
        json_decref(root);
        return PIT_ERR_NOMEM;
    }

    rc = pit_json_dump(root, buf, cap, len);
    json_decref(root);
    return rc;
}

/* =============================================================================
 * Integration records
 * ==========================================================================*/

/* Returns PIT_OK with t filled from the token object obj, or an error. */
static pit_err_t pit_token_info_decode(const json_t *obj, pit_token_info_t *t)
{
    pit_err_t  rc;

    if (!json_is_object(obj)) {
        return PIT_ERR_FIELD;
    }
    rc = pit_json_copy(obj, "hash", pit_hash_validate, t->hash,
                       sizeof(t->hash));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_copy(obj, "hint", pit_hint_validate, t->hint,
                       sizeof(t->hint));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_role(obj, &t->role);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_time(obj, "created_at", &t->created_at_ms);
    if (rc != PIT_OK) {
        return rc;
    }
    return pit_json_time(obj, "until", &t->until_ms);
}

/* Returns PIT_OK with in's tokens and rotation filled from obj, or error. */
static pit_err_t pit_integration_decode_tokens(const json_t *obj,
    pit_integration_t *in)
{
    json_t     *arr, *v, *rot;
    size_t      i;
    pit_err_t   rc;

    arr = json_object_get(obj, "tokens");
    if (arr == NULL || !json_is_array(arr)
        || json_array_size(arr) > PIT_TOKENS_MAX)
    {
        return PIT_ERR_FIELD;
    }
    json_array_foreach(arr, i, v) {
        rc = pit_token_info_decode(v, &in->tokens[i]);
        if (rc != PIT_OK) {
            return rc;
        }
        in->ntokens = i + 1;
    }

    rot = json_object_get(obj, "rotation");
    if (rot == NULL) {
        return PIT_ERR_FIELD;
    }
    if (json_is_null(rot)) {
        in->rotating = 0;
    } else if (json_is_object(rot)) {
        in->rotating = 1;
        rc = pit_json_time(rot, "started_at", &in->rotation_started_ms);
        if (rc != PIT_OK) {
            return rc;
        }
        rc = pit_json_time(rot, "deadline", &in->rotation_deadline_ms);
        if (rc != PIT_OK) {
            return rc;
        }
    } else {
        return PIT_ERR_FIELD;
    }

    return pit_integration_check_tokens(in);
}

/* Returns PIT_OK with in filled from obj, or the first error found. */
static pit_err_t pit_integration_decode(const json_t *obj,
    pit_integration_t *in)
{
    pit_err_t  rc;

    rc = pit_json_copy(obj, "id", pit_iid_check, in->id, sizeof(in->id));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_copy(obj, "name", pit_stored_name_validate, in->name,
                       sizeof(in->name));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_copy(obj, "description", pit_stored_description_validate,
                       in->description, sizeof(in->description));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_copy(obj, "account", pit_account_validate, in->account,
                       sizeof(in->account));
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_acct_type(obj, "acct_type", &in->acct_type);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_scopes(obj, &in->scopes);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_time(obj, "created_at", &in->created_at_ms);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_time(obj, "updated_at", &in->updated_at_ms);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_json_copy(obj, "created_by", pit_created_by_validate,
                       in->created_by, sizeof(in->created_by));
    if (rc != PIT_OK) {
        return rc;
    }
    return pit_integration_decode_tokens(obj, in);
}

/* Returns PIT_OK or a decoding error (see the top of this file). */
pit_err_t pit_integration_from_json(const char *json, size_t len,
    pit_integration_t *in)
{
    json_t     *root;
    pit_err_t   rc;

    if (json == NULL || in == NULL) {
        return PIT_ERR_ARG;
    }
    memset(in, 0, sizeof(*in));

    rc = pit_json_open(json, len, &root);
    if (rc != PIT_OK) {
        return rc;
    }
    rc = pit_integration_decode(root, in);
    json_decref(root);

    if (rc != PIT_OK) {
        memset(in, 0, sizeof(*in));
    }
    return rc;
}

/* Returns a new JSON object for token t, or NULL if out of memory. */
static json_t *pit_json_token_new(const pit_token_info_t *t) {
    json_t  *obj;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }
    if (pit_json_put(obj, "hash", json_string(t->hash)) != 0
        || pit_json_put(obj, "hint", json_string(t->hint)) != 0
        || pit_json_put(obj, "role", json_string(pit_role_name(t->role))) != 0
        || pit_json_put(obj, "created_at", json_integer(t->created_at_ms))
           != 0
        || pit_json_put(obj, "until", json_integer(t->until_ms)) != 0)
    {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Returns a new JSON array of in's tokens, or NULL if out of memory. */
static json_t *pit_json_tokens_new(const pit_integration_t *in) {
    json_t  *arr;
    size_t   i;

    arr = json_array();
    if (arr == NULL) {
        return NULL;
    }
    for (i = 0; i < in->ntokens; i++) {
        if (json_array_append_new(arr, pit_json_token_new(&in->tokens[i]))
            != 0)
        {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Returns in's rotation object, JSON null if none, or NULL if no memory. */
static json_t *pit_json_rotation_new(const pit_integration_t *in) {
    json_t  *obj;

    if (!in->rotating) {
        return json_null();
    }
    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }
    if (pit_json_put(obj, "started_at",
                     json_integer(in->rotation_started_ms)) != 0
        || pit_json_put(obj, "deadline",
                        json_integer(in->rotation_deadline_ms)) != 0)
    {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/*
 * Returns PIT_OK after writing in as compact JSON plus a NUL into buf;
 * PIT_ERR_TOO_LARGE if cap is too small, a check error if in holds a value
 * that decoding would reject, PIT_ERR_NOMEM.  *len excludes the NUL.
 */
pit_err_t pit_integration_to_json(const pit_integration_t *in, char *buf,
    size_t cap, size_t *len)
{
    json_t     *root;
    pit_err_t   rc;

    if (in == NULL || (buf == NULL && cap != 0)) {
        return PIT_ERR_ARG;
    }
    rc = pit_integration_check(in);
    if (rc != PIT_OK) {
        return rc;
    }

    root = json_object();
    if (root == NULL) {
        return PIT_ERR_NOMEM;
    }
    if (pit_json_put(root, "v", json_integer(PIT_RECORD_VERSION)) != 0
        || pit_json_put(root, "id", json_string(in->id)) != 0
        || pit_json_put(root, "name", json_string(in->name)) != 0
        || pit_json_put(root, "description", json_string(in->description))
           != 0
        || pit_json_put(root, "account", json_string(in->account)) != 0
        || pit_json_put(root, "acct_type",
                        json_string(pit_acct_type_name(in->acct_type))) != 0
        || pit_json_put(root, "scopes", pit_json_scopes_new(&in->scopes))
           != 0
        || pit_json_put(root, "created_at", json_integer(in->created_at_ms))
           != 0
        || pit_json_put(root, "updated_at", json_integer(in->updated_at_ms))
           != 0
        || pit_json_put(root, "created_by", json_string(in->created_by))
           != 0
        || pit_json_put(root, "tokens", pit_json_tokens_new(in)) != 0
        || pit_json_put(root, "rotation", pit_json_rotation_new(in)) != 0)
    {
        json_decref(root);
        return PIT_ERR_NOMEM;
    }

    rc = pit_json_dump(root, buf, cap, len);
    json_decref(root);
    return rc;
}

/*
 * Fills rec with what the edge must know of in's token number i: role and
 * deadline from the token, the rest from the integration.  An i out of
 * range yields a zeroed record with role PIT_ROLE_INVALID.
 */
void pit_token_record_of(const pit_integration_t *in, size_t i,
    pit_token_record_t *rec)
{
    if (rec == NULL) {
        return;
    }
    memset(rec, 0, sizeof(*rec));

    if (in == NULL || i >= in->ntokens || i >= PIT_TOKENS_MAX) {
        rec->role = PIT_ROLE_INVALID;
        return;
    }

    memcpy(rec->iid, in->id, sizeof(rec->iid));
    rec->iid[PIT_ID_LEN] = '\0';
    memcpy(rec->acct, in->account, sizeof(rec->acct));
    rec->acct[PIT_ACCOUNT_MAX] = '\0';
    rec->acct_type = in->acct_type;
    memcpy(&rec->scopes, &in->scopes, sizeof(rec->scopes));
    rec->role = in->tokens[i].role;
    rec->until_ms = in->tokens[i].until_ms;
}


/* =============================================================================
 * Versions
 * ==========================================================================*/

pit_err_t pit_integration_etag(const pit_integration_t *in, char *out) {
    unsigned char  digest[PIT_HASH_LEN];
    char          *json;
    size_t         len;
    pit_err_t      rc;

    if (in == NULL || out == NULL) {
        return PIT_ERR_ARG;
    }

    out[0] = '\0';
    json = malloc(PIT_JSON_MAX);
    if (json == NULL) {
        return PIT_ERR_NOMEM;
    }

    rc = pit_integration_to_json(in, json, PIT_JSON_MAX, &len);
    if (rc == PIT_OK) {
        rc = pit_token_hash(json, len, NULL, 0, digest);
    }
    free(json);

    if (rc == PIT_OK) {
        pit_hex_encode(digest, PIT_ETAG_LEN / 2, out);
        out[PIT_ETAG_LEN] = '\0';
    }

    return rc;
}
