/*
 * pit-auth core: the store mark, <prefix>meta.
 *
 * pitctl writes it with its first change to a store and checks it before
 * every change; the nginx module and `pitctl doctor` read it to tell a
 * wrong prefix, database or hash key from an empty Redis:
 *
 *   {"v":1,"hash":"hmac-sha256","key_fingerprint":"3f0c5d1e9a7b2c44",
 *    "created_at":1720630740000}
 *
 * "hash" is "sha256" (no hash key) or "hmac-sha256"; the fingerprint is
 * the first 16 hex digits of SHA-256("pit-auth key fingerprint" || key),
 * "" for sha256.  It names a key without revealing it: 64 bits cannot be
 * turned back into a 16-256 byte key, and never into a token.
 */

#ifndef PIT_META_H
#define PIT_META_H

#include <stddef.h>
#include <stdint.h>

#include "pit_error.h"

#define PIT_META_VERSION          1
#define PIT_META_JSON_MAX         1024    /* no mark is larger */
#define PIT_FINGERPRINT_LEN       16      /* hex digits */
#define PIT_FINGERPRINT_CONTEXT   "pit-auth key fingerprint"

typedef enum {
    PIT_HASH_SHA256 = 0,          /* hex(SHA-256(token)) */
    PIT_HASH_HMAC_SHA256          /* hex(HMAC-SHA256(key, token)) */
} pit_hash_mode_t;

typedef struct {
    int              version;     /* schema version: 1 */
    pit_hash_mode_t  hash;
    char             fingerprint[PIT_FINGERPRINT_LEN + 1];  /* "" for
                                                               sha256 */
    int64_t          created_at_ms;
} pit_meta_t;

/* Returns "sha256" or "hmac-sha256". */
const char *pit_hash_mode_name(pit_hash_mode_t mode);

/*
 * Writes the fingerprint of key[0..key_len) (PIT_FINGERPRINT_LEN hex
 * digits and a NUL) into out; an empty key (NULL or key_len 0) gives "".
 * Returns PIT_OK or PIT_ERR_CRYPTO / PIT_ERR_HASH_KEY (key too long).
 */
pit_err_t pit_meta_fingerprint(const unsigned char *key, size_t key_len,
    char *out);

/*
 * Fills m with the mark of a store hashed with key (NULL or key_len 0:
 * plain SHA-256), created at now.  Returns as pit_meta_fingerprint().
 */
pit_err_t pit_meta_init(pit_meta_t *m, const unsigned char *key,
    size_t key_len, int64_t now);

/*
 * Encodes m as compact JSON plus a NUL into buf.  Returns PIT_OK,
 * PIT_ERR_FIELD (m is not a valid mark) or PIT_ERR_TOO_LARGE; *len (if
 * not NULL) receives the length without the NUL.
 */
pit_err_t pit_meta_to_json(const pit_meta_t *m, char *buf, size_t cap,
    size_t *len);

/*
 * Decodes a mark, strictly: PIT_ERR_JSON (not a JSON object, or larger
 * than PIT_META_JSON_MAX), PIT_ERR_VERSION ("v" missing or not 1),
 * PIT_ERR_FIELD ("hash" unknown, a fingerprint that is not 16 lowercase
 * hex digits with hmac-sha256 or not "" with sha256, "created_at" not a
 * positive integer).  Other fields are ignored.
 */
pit_err_t pit_meta_from_json(const char *json, size_t len, pit_meta_t *m);

/*
 * Returns PIT_OK if a store marked m is hashed the way key[0..key_len)
 * hashes (the same mode and, with a key, the same fingerprint), else
 * PIT_ERR_HASH_KEY; PIT_ERR_CRYPTO if hashing failed.
 */
pit_err_t pit_meta_check_key(const pit_meta_t *m, const unsigned char *key,
    size_t key_len);

/* Returns 1 if a and b agree on hash mode and fingerprint, else 0. */
int pit_meta_same_key(const pit_meta_t *a, const pit_meta_t *b);

#endif /* PIT_META_H */
