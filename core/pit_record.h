/*
 * pit-auth core: the token record and the integration record, to and from
 * JSON (schema v1, see README "Redis schema").
 *
 * Decoding is strict: unknown "v", a missing field, a field of the wrong
 * type, an out-of-range or oversize value, or invalid text is an error and
 * leaves nothing half-valid for the caller to trust.  Unknown extra fields
 * are ignored so that a later minor version can add some.
 */

#ifndef PIT_RECORD_H
#define PIT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "pit_error.h"
#include "pit_scope.h"
#include "pit_token.h"

#define PIT_RECORD_VERSION     1
#define PIT_ACCOUNT_MAX        64      /* [A-Za-z0-9_-]{1,64} */
#define PIT_NAME_MAX_CHARS     200
#define PIT_DESC_MAX_CHARS     500
#define PIT_CREATED_BY_MAX_CHARS 128
#define PIT_NAME_MAX_BYTES     (PIT_NAME_MAX_CHARS * 4)
#define PIT_DESC_MAX_BYTES     (PIT_DESC_MAX_CHARS * 4)
#define PIT_CREATED_BY_MAX_BYTES (PIT_CREATED_BY_MAX_CHARS * 4)
#define PIT_TOKENS_MAX         3       /* primary, or previous + next */
#define PIT_JSON_MAX           65536   /* no record is larger */
#define PIT_ETAG_LEN           32      /* hex digits of a version */

typedef enum {
    PIT_ROLE_PRIMARY = 0,
    PIT_ROLE_NEXT,
    PIT_ROLE_PREVIOUS,
    PIT_ROLE_INVALID          /* only from pit_role_effective() */
} pit_role_t;

typedef enum {
    PIT_ACCT_LOCATION = 0,
    PIT_ACCT_COMPANY
} pit_acct_type_t;

/* What the edge needs: the value of <prefix>tok:<hash>. */
typedef struct {
    char             iid[PIT_ID_LEN + 1];
    char             acct[PIT_ACCOUNT_MAX + 1];
    pit_acct_type_t  acct_type;
    pit_scope_set_t  scopes;
    pit_role_t       role;
    int64_t          until_ms;     /* deadline for next/previous, else 0 */
} pit_token_record_t;

/* One token of an integration, as the admin sees it (never the token). */
typedef struct {
    char             hash[PIT_HASH_HEX_LEN + 1];
    char             hint[PIT_HINT_LEN + 1];
    pit_role_t       role;
    int64_t          created_at_ms;
    int64_t          until_ms;     /* deadline for next/previous, else 0 */
} pit_token_info_t;

/* The value of <prefix>int:<iid>. */
typedef struct {
    char             id[PIT_ID_LEN + 1];
    char             name[PIT_NAME_MAX_BYTES + 1];
    char             description[PIT_DESC_MAX_BYTES + 1];
    char             account[PIT_ACCOUNT_MAX + 1];
    pit_acct_type_t  acct_type;
    pit_scope_set_t  scopes;
    int64_t          created_at_ms;
    int64_t          updated_at_ms;
    char             created_by[PIT_CREATED_BY_MAX_BYTES + 1];
    size_t           ntokens;
    pit_token_info_t tokens[PIT_TOKENS_MAX];
    int              rotating;     /* 1 while a rotation is in progress */
    int64_t          rotation_started_ms;
    int64_t          rotation_deadline_ms;
} pit_integration_t;

/* Returns "primary", "next", "previous" or "invalid". */
const char *pit_role_name(pit_role_t role);

/* Returns "location" or "company". */
const char *pit_acct_type_name(pit_acct_type_t t);

/* Parses "location" / "company"; PIT_ERR_FIELD otherwise. */
pit_err_t pit_acct_type_parse(const char *s, size_t len, pit_acct_type_t *t);

/*
 * Text checks, counting characters (UTF-8 code points), not bytes.  Each
 * returns PIT_OK or its own error: PIT_ERR_NAME (1-200 characters, at
 * least one of them visible), PIT_ERR_DESCRIPTION (0-500),
 * PIT_ERR_ACCOUNT; invalid UTF-8 (overlong, surrogates, > U+10FFFF), a
 * control character (C0, DEL, C1) or, in a name or a description, an
 * invisible or bidirectional control character is PIT_ERR_TEXT.
 *
 * The invisible and bidirectional characters (the class of CVE-2021-42574:
 * text that displays other than it reads) are U+00AD, U+061C, U+180E,
 * U+200B-U+200F, U+2028-U+202E, U+2060-U+206F and U+FEFF.  White space
 * (U+0020, U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000), the
 * Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), U+2800 and the marks
 * that show nothing on their own (U+034F, variation selectors, tags) are
 * allowed but are not visible: a name needs one other character.
 *
 * These rules are for what people type in; decoding a stored record
 * applies only the older ones (length, UTF-8, controls), so records
 * written before the invisible-character rule still read.
 */
pit_err_t pit_name_validate(const char *s, size_t len);
pit_err_t pit_description_validate(const char *s, size_t len);
pit_err_t pit_account_validate(const char *s, size_t len);
pit_err_t pit_created_by_validate(const char *s, size_t len);

/* Why pit_name_check() or pit_description_check() refused a text. */
typedef enum {
    PIT_TEXT_OK = 0,
    PIT_TEXT_NOT_UTF8,        /* invalid UTF-8 (at pos) */
    PIT_TEXT_CONTROL,         /* C0, DEL or C1 (cp at pos) */
    PIT_TEXT_INVISIBLE,       /* invisible or bidi control (cp at pos) */
    PIT_TEXT_BLANK,           /* a name with no visible character */
    PIT_TEXT_TOO_LONG         /* more than max characters */
} pit_text_fault_t;

typedef struct {
    pit_text_fault_t  fault;
    uint32_t          cp;     /* the refused code point, or 0 */
    size_t            pos;    /* where: characters counted from 1, or 0 */
    size_t            max;    /* the field's most characters */
} pit_text_problem_t;

/*
 * As pit_name_validate() and pit_description_validate() (same rule, same
 * return value), and fill *why (if not NULL) with what was refused so a
 * tool can say so: see pit_text_problem_format().
 */
pit_err_t pit_name_check(const char *s, size_t len, pit_text_problem_t *why);
pit_err_t pit_description_check(const char *s, size_t len,
    pit_text_problem_t *why);

/*
 * Writes a short English phrase for why into buf (cap bytes with the NUL,
 * truncated if need be), e.g. "holds an invisible or bidirectional control
 * character (U+202E at character 8)"; the caller names the field.  The
 * phrase quotes no input, only a code point.  Returns buf.
 */
char *pit_text_problem_format(const pit_text_problem_t *why, char *buf,
    size_t cap);

/*
 * Decodes a token record; PIT_OK or a decoding error (see above).  A record
 * in the form pit_token_record_to_json() writes is read by a scan without
 * jansson; any other text goes to the general decoder, which judges it.
 */
pit_err_t pit_token_record_from_json(const char *json, size_t len,
    pit_token_record_t *rec);

/*
 * The two halves of pit_token_record_from_json(), for tests: the canonical
 * scan (PIT_OK, or PIT_ERR_JSON for any other text; whatever it accepts,
 * the general decoder accepts with the same record) and the general
 * decoder (jansson, strict, any key order and spacing).
 */
pit_err_t pit_token_record_from_canonical_json(const char *json, size_t len,
    pit_token_record_t *rec);
pit_err_t pit_token_record_from_general_json(const char *json, size_t len,
    pit_token_record_t *rec);

/*
 * Encodes a token record as compact JSON plus a NUL into buf.  Returns
 * PIT_OK or PIT_ERR_TOO_LARGE; *len receives the length without the NUL.
 */
pit_err_t pit_token_record_to_json(const pit_token_record_t *rec, char *buf,
    size_t cap, size_t *len);

/* Decodes an integration record. */
pit_err_t pit_integration_from_json(const char *json, size_t len,
    pit_integration_t *in);

/* Encodes an integration record (compact JSON plus a NUL). */
pit_err_t pit_integration_to_json(const pit_integration_t *in, char *buf,
    size_t cap, size_t *len);

/*
 * Fills rec with what the edge must know of in's token number i (role and
 * deadline from the token, the rest from the integration).
 */
void pit_token_record_of(const pit_integration_t *in, size_t i,
    pit_token_record_t *rec);

/*
 * Writes the version of in (PIT_ETAG_LEN hex digits and a NUL: the first
 * half of SHA-256 of its encoding) into out: any change of the record
 * changes it.  An HTTP ETag; pit_store_edit_if() and friends refuse a
 * change when the integration no longer has the version a caller read.
 */
pit_err_t pit_integration_etag(const pit_integration_t *in, char *out);

#endif /* PIT_RECORD_H */
