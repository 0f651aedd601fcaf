/*
 * pit-auth core: token format, Authorization parsing, hashing, hints.
 *
 * A token is "pit-" followed by 32 lowercase hex digits in UUID shape
 * (8-4-4-4-12), 40 characters, all 128 bits from RAND_bytes().  Redis only
 * ever sees hex(SHA-256(token)), or hex(HMAC-SHA256(key, token)) when a hash
 * key is configured.  Logs only ever see the hint.
 */

#ifndef PIT_TOKEN_H
#define PIT_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "pit_error.h"

#define PIT_TOKEN_PREFIX       "pit-"
#define PIT_TOKEN_LEN          40      /* "pit-" + 36 */
#define PIT_HASH_LEN           32      /* raw SHA-256 */
#define PIT_HASH_HEX_LEN       64
#define PIT_HINT_LEN           36      /* buffer bound; hints are 31 chars */
#define PIT_ID_LEN             20      /* integration id, alphanumerics */
#define PIT_HASH_KEY_MIN       16      /* bytes of a hash key file */
#define PIT_HASH_KEY_MAX       256

/*
 * Writes a fresh token and a terminating NUL into out (PIT_TOKEN_LEN + 1
 * bytes).  Returns PIT_OK or PIT_ERR_RANDOM.
 */
pit_err_t pit_token_generate(char *out);

/*
 * Returns PIT_OK if s[0..len) is exactly a well-formed token, else
 * PIT_ERR_TOKEN_MALFORMED.  Uppercase hex is malformed: tokens are issued
 * lowercase and compared as bytes.
 */
pit_err_t pit_token_validate(const char *s, size_t len);

/*
 * Extracts the token from an Authorization header value.  Accepted:
 * "Bearer <token>" (scheme case-insensitive, one or more spaces) and the
 * bare token.  On PIT_OK *token points into value and *token_len is
 * PIT_TOKEN_LEN.  Errors:
 *   PIT_ERR_AUTH_EMPTY       value empty or only blanks, or scheme alone
 *   PIT_ERR_AUTH_SCHEME      another scheme ("Basic abc", "Digest ...")
 *   PIT_ERR_TOKEN_MALFORMED  a Bearer credential or bare value that is not
 *                            a token (wrong length, bad characters, NUL,
 *                            non-ASCII, trailing garbage)
 */
pit_err_t pit_token_from_authorization(const char *value, size_t len,
    const char **token, size_t *token_len);

/*
 * Hashes a token into out (PIT_HASH_LEN bytes): SHA-256 when key is NULL
 * or key_len is 0, else HMAC-SHA256(key, token).  Returns PIT_OK or
 * PIT_ERR_CRYPTO.
 */
pit_err_t pit_token_hash(const char *token, size_t len,
    const unsigned char *key, size_t key_len, unsigned char *out);

/*
 * As pit_token_hash(), writing 64 lowercase hex digits and a NUL into
 * hex (PIT_HASH_HEX_LEN + 1 bytes).
 */
pit_err_t pit_token_hash_hex(const char *token, size_t len,
    const unsigned char *key, size_t key_len, char *hex);

/*
 * A reusable hasher for a hot path: the digest is fetched and, with a key,
 * the HMAC pads absorbed once, so each token costs one SHA-256 (two with
 * a key) and no allocation.  Results equal pit_token_hash()'s.  Not for
 * concurrent use: one per thread (nginx: one per worker and key).
 */
typedef struct pit_hasher_s  pit_hasher_t;

/* Creates a hasher (key NULL or key_len 0: plain SHA-256).  Returns
 * PIT_OK, PIT_ERR_NOMEM, PIT_ERR_CRYPTO or PIT_ERR_ARG. */
pit_err_t pit_hasher_new(pit_hasher_t **h, const unsigned char *key,
    size_t key_len);

/* Hashes a token into out (PIT_HASH_LEN bytes); PIT_OK or PIT_ERR_CRYPTO. */
pit_err_t pit_hasher_hash(pit_hasher_t *h, const char *token, size_t len,
    unsigned char *out);

/* Frees a hasher (NULL is fine), wiping its key material. */
void pit_hasher_free(pit_hasher_t *h);

/*
 * Writes the masked display form of a token ("pit-6490****-****-****-
 * ****e762": first and last four hex digits) and a NUL into out
 * (PIT_HINT_LEN + 1 bytes).  A malformed input yields "pit-????" padded
 * the same way, never any of its bytes.
 */
void pit_token_hint(const char *token, size_t len, char *out);

/*
 * Masks, in place and at the same length, every token-shaped run in
 * text[0..len), however it is spelled: "pit" in any case, any of its
 * characters possibly %XX-encoded (either case), then hex digits (raw or
 * encoded) with - _ . + SP HTAB (raw or encoded) or nothing between them.
 * The token as issued ("pit-" and the 8-4-4-4-12 shape) keeps its first
 * and last four hex digits, as its hint does ("pit-6490****-****-****-
 * ****-********e762").  Any other run after "pit" loses every hex digit
 * (an escape encoding one loses both of its own) once it holds 8 or more,
 * up to 32; after "pit-" also when cut by the end of text or of a line
 * (nginx truncates long lines).  The tail of a partial run split off by up
 * to 3 blanks or punctuation is masked too, and so is a near token (a
 * word of 36 characters after "pit-" with at most 6 out of place).
 * "pit-auth", a UUID or hex not after "pit", and text already masked are
 * left alone; only hex digits change, only into '*', so a second pass
 * changes nothing and a caller's pointers into text stay valid.  Returns
 * the number of runs masked.
 */
size_t pit_token_redact(char *text, size_t len);

/* Writes 2 * n lowercase hex digits (no NUL) for in[0..n) into out. */
void pit_hex_encode(const unsigned char *in, size_t n, char *out);

/*
 * Decodes 2 * n hex digits (either case) into out[0..n).  Returns PIT_OK or
 * PIT_ERR_ARG on a non-hex digit.
 */
pit_err_t pit_hex_decode(const char *hex, size_t n, unsigned char *out);

/* Returns 1 if a and b are equal, in time independent of their contents. */
int pit_ct_equal(const void *a, const void *b, size_t n);

/*
 * Writes a fresh integration id (PIT_ID_LEN characters of [A-Za-z0-9],
 * unbiased) and a NUL into out.  Returns PIT_OK or PIT_ERR_RANDOM.
 */
pit_err_t pit_id_generate(char *out);

/* Returns PIT_OK if s[0..len) is an integration id, else PIT_ERR_FIELD. */
pit_err_t pit_id_validate(const char *s, size_t len);

/*
 * Reads a hash key file: its bytes, less one trailing "\n" or "\r\n".
 * Between PIT_HASH_KEY_MIN and PIT_HASH_KEY_MAX bytes, else
 * PIT_ERR_HASH_KEY; unreadable: PIT_ERR_IO.  key must hold
 * PIT_HASH_KEY_MAX bytes.
 */
pit_err_t pit_hash_key_load(const char *path, unsigned char *key,
    size_t *key_len);

#endif /* PIT_TOKEN_H */
