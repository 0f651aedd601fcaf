/*
 * pit-auth core: Redis key schema v1, shared by the nginx module and pitctl.
 *
 * Keys are built with snprintf() into the caller's buffer; a key that does
 * not fit is an error, never a truncated key (a truncated key could name
 * another integration's data).  The parts are used as given: callers pass
 * validated ids, hashes and accounts.
 */

#include <stdio.h>
#include <string.h>

#include "pit_schema.h"

/* =============================================================================
 * Prefix
 * ==========================================================================*/

/* Returns PIT_OK if p is 1-64 printable ASCII bytes without blanks, else
 * PIT_ERR_PREFIX. */
pit_err_t pit_prefix_validate(const char *p, size_t len) {
    size_t  i;

    if (p == NULL || len == 0 || len > PIT_PREFIX_MAX) {
        return PIT_ERR_PREFIX;
    }
    for (i = 0; i < len; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e) {
            return PIT_ERR_PREFIX;
        }
    }
    return PIT_OK;
}

/* =============================================================================
 * Key builders
 * ==========================================================================*/

/*
 * Returns PIT_OK if snprintf() reported n bytes and they fit in cap with
 * the NUL; else empties buf and returns PIT_ERR_TOO_LARGE.
 */
static pit_err_t pit_key_done(char *buf, size_t cap, int n) {
    if (n < 0 || (size_t) n >= cap) {
        if (buf != NULL && cap > 0) {
            buf[0] = '\0';
        }
        return PIT_ERR_TOO_LARGE;
    }
    return PIT_OK;
}

/*
 * Returns PIT_OK after writing "<prefix><kind><part>" and a NUL into buf,
 * PIT_ERR_ARG if an input is NULL, or PIT_ERR_TOO_LARGE.
 */
static pit_err_t pit_key_build(char *buf, size_t cap, const char *prefix,
    const char *kind, const char *part)
{
    if (buf == NULL || prefix == NULL || part == NULL) {
        return PIT_ERR_ARG;
    }
    return pit_key_done(buf, cap,
                        snprintf(buf, cap, "%s%s%s", prefix, kind, part));
}

/* Returns PIT_OK after writing "<prefix>tok:<hash_hex>", or an error. */
pit_err_t pit_key_token(char *buf, size_t cap, const char *prefix,
    const char *hash_hex)
{
    return pit_key_build(buf, cap, prefix, PIT_KEY_TOKEN_KIND, hash_hex);
}

/* Returns PIT_OK after writing "<prefix>tok:", or an error. */
pit_err_t pit_key_token_prefix(char *buf, size_t cap, const char *prefix) {
    return pit_key_build(buf, cap, prefix, PIT_KEY_TOKEN_KIND, "");
}

/* Returns PIT_OK if key names a token under prefix; see pit_schema.h. */
pit_err_t pit_key_token_parse(const char *key, size_t len,
    const char *prefix, size_t prefix_len, const char **hash_hex)
{
    size_t  i, kind_len = sizeof(PIT_KEY_TOKEN_KIND) - 1;

    if (key == NULL || prefix == NULL
        || len != prefix_len + kind_len + PIT_KEY_HASH_HEX_LEN
        || memcmp(key, prefix, prefix_len) != 0
        || memcmp(key + prefix_len, PIT_KEY_TOKEN_KIND, kind_len) != 0)
    {
        return PIT_ERR_ARG;
    }
    key += prefix_len + kind_len;
    for (i = 0; i < PIT_KEY_HASH_HEX_LEN; i++) {
        if (!((key[i] >= '0' && key[i] <= '9')
              || (key[i] >= 'a' && key[i] <= 'f')))
        {
            return PIT_ERR_ARG;
        }
    }
    if (hash_hex != NULL) {
        *hash_hex = key;
    }
    return PIT_OK;
}

/* Returns PIT_OK after writing "<prefix>int:<iid>", or an error. */
pit_err_t pit_key_integration(char *buf, size_t cap, const char *prefix,
    const char *iid)
{
    return pit_key_build(buf, cap, prefix, "int:", iid);
}

/*
 * Returns PIT_OK after writing "<prefix>name:<acct>:<name>" with the name's
 * ASCII letters lowered (other bytes, UTF-8 included, are kept as they
 * are, so "Café" and "CAFÉ" are different names), or an error.
 */
pit_err_t pit_key_name(char *buf, size_t cap, const char *prefix,
    const char *acct, const char *name)
{
    size_t     off;
    pit_err_t  rc;

    if (buf == NULL || prefix == NULL || acct == NULL || name == NULL) {
        return PIT_ERR_ARG;
    }
    rc = pit_key_done(buf, cap,
                      snprintf(buf, cap, "%sname:%s:%s", prefix, acct, name));
    if (rc != PIT_OK) {
        return rc;
    }

    off = strlen(prefix) + sizeof("name:") - 1 + strlen(acct) + 1;
    for (; buf[off] != '\0'; off++) {
        if (buf[off] >= 'A' && buf[off] <= 'Z') {
            buf[off] = (char) (buf[off] - 'A' + 'a');
        }
    }
    return PIT_OK;
}

/* Returns PIT_OK after writing "<prefix>ints:<acct>", or an error. */
pit_err_t pit_key_account_index(char *buf, size_t cap, const char *prefix,
    const char *acct)
{
    return pit_key_build(buf, cap, prefix, "ints:", acct);
}

/* Returns PIT_OK after writing "<prefix>accts", or an error. */
pit_err_t pit_key_accounts(char *buf, size_t cap, const char *prefix) {
    return pit_key_build(buf, cap, prefix, "accts", "");
}

/* Returns PIT_OK after writing "<prefix>used:<iid>", or an error. */
pit_err_t pit_key_used(char *buf, size_t cap, const char *prefix,
    const char *iid)
{
    return pit_key_build(buf, cap, prefix, "used:", iid);
}

/* Returns PIT_OK after writing "<prefix>audit", or an error. */
pit_err_t pit_key_audit(char *buf, size_t cap, const char *prefix) {
    return pit_key_build(buf, cap, prefix, "audit", "");
}

/* Returns PIT_OK after writing "<prefix>meta", or an error. */
pit_err_t pit_key_meta(char *buf, size_t cap, const char *prefix) {
    return pit_key_build(buf, cap, prefix, "meta", "");
}

/* Returns PIT_OK after writing "<prefix>scopes", or an error. */
pit_err_t pit_key_scopes(char *buf, size_t cap, const char *prefix) {
    return pit_key_build(buf, cap, prefix, "scopes", "");
}

/* Returns PIT_OK after writing "<prefix>admin:<name>", or an error. */
pit_err_t pit_key_admin(char *buf, size_t cap, const char *prefix,
    const char *name)
{
    return pit_key_build(buf, cap, prefix, "admin:", name);
}

/* Returns PIT_OK after writing "<prefix>admins", or an error. */
pit_err_t pit_key_admins(char *buf, size_t cap, const char *prefix) {
    return pit_key_build(buf, cap, prefix, "admins", "");
}

/* Returns PIT_OK after writing "<prefix>atok:<hash>", or an error. */
pit_err_t pit_key_admin_token(char *buf, size_t cap, const char *prefix,
    const char *hash_hex)
{
    return pit_key_build(buf, cap, prefix, "atok:", hash_hex);
}
