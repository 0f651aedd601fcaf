/*
 * pit-auth core: Redis key schema v1, shared by the nginx module and pitctl.
 *
 *   <prefix>tok:<hash>            token record (JSON); "previous" carries
 *                                 PEXPIREAT = its deadline
 *   <prefix>int:<iid>             integration record (JSON)
 *   <prefix>name:<acct>:<folded>  iid; one name per account
 *   <prefix>ints:<acct>           sorted set of iids, score = created_at
 *   <prefix>used:<iid>            hash: token hash -> last use (ms)
 *   <prefix>audit                 stream of admin events
 *   <prefix>meta                  the store mark (JSON, pit_meta.h)
 *   <prefix>scopes                hash: scope name -> label, the stored
 *                                 catalogue (absent: the built-in one)
 *   <prefix>admin:<name>          admin of the admin API (JSON,
 *                                 pit_admin.h)
 *   <prefix>admins                set of admin names
 *   <prefix>atok:<hash>           admin token: the admin's name
 *
 * Each builder writes the key and a NUL into buf and returns PIT_OK, or
 * PIT_ERR_TOO_LARGE when cap is too small (PIT_KEY_MAX always suffices).
 */

#ifndef PIT_SCHEMA_H
#define PIT_SCHEMA_H

#include <stddef.h>

#include "pit_error.h"

#define PIT_PREFIX_DEFAULT   "pit:"
#define PIT_PREFIX_MAX       64
#define PIT_KEY_MAX          1024
#define PIT_AUDIT_MAXLEN     10000     /* XADD MAXLEN ~ */
#define PIT_KEY_TOKEN_KIND   "tok:"    /* <prefix>tok:<hash> */
#define PIT_KEY_HASH_HEX_LEN 64        /* = PIT_HASH_HEX_LEN */

/* Returns PIT_OK if p is 1-64 printable ASCII bytes without blanks. */
pit_err_t pit_prefix_validate(const char *p, size_t len);

pit_err_t pit_key_token(char *buf, size_t cap, const char *prefix,
    const char *hash_hex);
/* Writes "<prefix>tok:", what every token key starts with (the module's
 * invalidation subscription asks Redis for changes under it). */
pit_err_t pit_key_token_prefix(char *buf, size_t cap, const char *prefix);
/*
 * Returns PIT_OK with hash_hex pointing at the 64 hex digits if key[0..len)
 * is "<prefix>tok:<64 hex>" for the prefix[0..prefix_len) given, else
 * PIT_ERR_ARG.  The digits are not decoded.
 */
pit_err_t pit_key_token_parse(const char *key, size_t len,
    const char *prefix, size_t prefix_len, const char **hash_hex);
pit_err_t pit_key_integration(char *buf, size_t cap, const char *prefix,
    const char *iid);
/* The name is case-folded (ASCII letters lowered) and used as is. */
pit_err_t pit_key_name(char *buf, size_t cap, const char *prefix,
    const char *acct, const char *name);
pit_err_t pit_key_account_index(char *buf, size_t cap, const char *prefix,
    const char *acct);
/* Reserved (schema v1 lists accounts by SCAN of <prefix>ints:*). */
pit_err_t pit_key_accounts(char *buf, size_t cap, const char *prefix);
pit_err_t pit_key_used(char *buf, size_t cap, const char *prefix,
    const char *iid);
pit_err_t pit_key_audit(char *buf, size_t cap, const char *prefix);
pit_err_t pit_key_meta(char *buf, size_t cap, const char *prefix);
pit_err_t pit_key_scopes(char *buf, size_t cap, const char *prefix);
pit_err_t pit_key_admin(char *buf, size_t cap, const char *prefix,
    const char *name);
pit_err_t pit_key_admins(char *buf, size_t cap, const char *prefix);
pit_err_t pit_key_admin_token(char *buf, size_t cap, const char *prefix,
    const char *hash_hex);

#endif /* PIT_SCHEMA_H */
