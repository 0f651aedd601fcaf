/*
 * pit-auth core: the store mark, <prefix>meta (see pit_meta.h).
 *
 * Encoding is snprintf() into the caller's buffer; decoding is jansson,
 * strict about the fields the mark is for and blind to any other, so a
 * later minor version can add some.
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pit_meta.h"
#include "pit_token.h"

/* =============================================================================
 * Fingerprint
 * ==========================================================================*/

const char *pit_hash_mode_name(pit_hash_mode_t mode) {
    return mode == PIT_HASH_HMAC_SHA256 ? "hmac-sha256" : "sha256";
}


/* Returns PIT_OK after writing the first 16 hex digits of
 * SHA-256(context || key) and a NUL into out ("" without a key). */
pit_err_t pit_meta_fingerprint(const unsigned char *key, size_t key_len,
    char *out)
{
    unsigned char  buf[sizeof(PIT_FINGERPRINT_CONTEXT) + PIT_HASH_KEY_MAX];
    unsigned char  digest[PIT_HASH_LEN];
    size_t         n;
    pit_err_t      rc;

    if (out == NULL) {
        return PIT_ERR_ARG;
    }

    out[0] = '\0';
    if (key == NULL || key_len == 0) {
        return PIT_OK;
    }

    if (key_len > PIT_HASH_KEY_MAX) {
        return PIT_ERR_HASH_KEY;
    }

    /* the core's one hashing path: plain SHA-256 of context || key */
    n = sizeof(PIT_FINGERPRINT_CONTEXT) - 1;
    memcpy(buf, PIT_FINGERPRINT_CONTEXT, n);
    memcpy(buf + n, key, key_len);

    rc = pit_token_hash((const char *) buf, n + key_len, NULL, 0, digest);
    memset(buf, 0, sizeof(buf));

    if (rc != PIT_OK) {
        return rc;
    }

    pit_hex_encode(digest, PIT_FINGERPRINT_LEN / 2, out);
    out[PIT_FINGERPRINT_LEN] = '\0';
    return PIT_OK;
}


pit_err_t pit_meta_init(pit_meta_t *m, const unsigned char *key,
    size_t key_len, int64_t now)
{
    if (m == NULL) {
        return PIT_ERR_ARG;
    }

    memset(m, 0, sizeof(*m));
    m->version = PIT_META_VERSION;
    m->hash = (key != NULL && key_len > 0) ? PIT_HASH_HMAC_SHA256
                                           : PIT_HASH_SHA256;
    m->created_at_ms = now;

    return pit_meta_fingerprint(key, key_len, m->fingerprint);
}


/* =============================================================================
 * JSON
 * ==========================================================================*/

/* Returns 1 if fp is right for mode: "" for sha256, 16 lowercase hex
 * digits for hmac-sha256. */
static int pit_meta_fingerprint_valid(pit_hash_mode_t mode, const char *fp,
    size_t len)
{
    size_t  i;

    if (mode == PIT_HASH_SHA256) {
        return len == 0;
    }

    if (len != PIT_FINGERPRINT_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'a' && fp[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


pit_err_t pit_meta_to_json(const pit_meta_t *m, char *buf, size_t cap,
    size_t *len)
{
    int  n;

    if (m == NULL || buf == NULL) {
        return PIT_ERR_ARG;
    }

    if (m->version != PIT_META_VERSION || m->created_at_ms <= 0
        || (m->hash != PIT_HASH_SHA256 && m->hash != PIT_HASH_HMAC_SHA256)
        || !pit_meta_fingerprint_valid(m->hash, m->fingerprint,
                                       strnlen(m->fingerprint,
                                               sizeof(m->fingerprint))))
    {
        return PIT_ERR_FIELD;
    }

    n = snprintf(buf, cap, "{\"v\":%d,\"hash\":\"%s\",\"key_fingerprint\":"
                 "\"%s\",\"created_at\":%lld}", m->version,
                 pit_hash_mode_name(m->hash), m->fingerprint,
                 (long long) m->created_at_ms);

    if (n < 0 || (size_t) n >= cap) {
        if (cap > 0) {
            buf[0] = '\0';
        }
        return PIT_ERR_TOO_LARGE;
    }

    if (len != NULL) {
        *len = (size_t) n;
    }

    return PIT_OK;
}


pit_err_t pit_meta_from_json(const char *json, size_t len, pit_meta_t *m) {
    json_error_t  err;
    json_t       *o, *v, *h, *f, *c;
    const char   *hs, *fs;
    size_t        fl;
    pit_err_t     rc;

    if (json == NULL || m == NULL) {
        return PIT_ERR_ARG;
    }

    memset(m, 0, sizeof(*m));

    if (len > PIT_META_JSON_MAX) {
        return PIT_ERR_JSON;
    }

    o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return PIT_ERR_JSON;
    }

    v = json_object_get(o, "v");
    h = json_object_get(o, "hash");
    f = json_object_get(o, "key_fingerprint");
    c = json_object_get(o, "created_at");

    rc = PIT_OK;

    if (!json_is_integer(v) || json_integer_value(v) != PIT_META_VERSION) {
        rc = PIT_ERR_VERSION;

    } else if (!json_is_string(h) || !json_is_string(f)
               || !json_is_integer(c) || json_integer_value(c) <= 0)
    {
        rc = PIT_ERR_FIELD;

    } else {
        hs = json_string_value(h);
        fs = json_string_value(f);
        fl = json_string_length(f);

        if (strcmp(hs, "sha256") == 0 && json_string_length(h) == 6) {
            m->hash = PIT_HASH_SHA256;

        } else if (strcmp(hs, "hmac-sha256") == 0
                   && json_string_length(h) == 11)
        {
            m->hash = PIT_HASH_HMAC_SHA256;

        } else {
            rc = PIT_ERR_FIELD;
        }

        if (rc == PIT_OK && !pit_meta_fingerprint_valid(m->hash, fs, fl)) {
            rc = PIT_ERR_FIELD;
        }

        if (rc == PIT_OK) {
            memcpy(m->fingerprint, fs, fl);
            m->fingerprint[fl] = '\0';
            m->version = PIT_META_VERSION;
            m->created_at_ms = (int64_t) json_integer_value(c);
        }
    }

    json_decref(o);

    if (rc != PIT_OK) {
        memset(m, 0, sizeof(*m));
    }

    return rc;
}


/* =============================================================================
 * Comparison
 * ==========================================================================*/

int pit_meta_same_key(const pit_meta_t *a, const pit_meta_t *b) {
    return a->hash == b->hash && strcmp(a->fingerprint, b->fingerprint) == 0;
}


pit_err_t pit_meta_check_key(const pit_meta_t *m, const unsigned char *key,
    size_t key_len)
{
    pit_meta_t  mine;
    pit_err_t   rc;

    if (m == NULL) {
        return PIT_ERR_ARG;
    }

    rc = pit_meta_init(&mine, key, key_len, 1);
    if (rc != PIT_OK) {
        return rc;
    }

    return pit_meta_same_key(m, &mine) ? PIT_OK : PIT_ERR_HASH_KEY;
}
