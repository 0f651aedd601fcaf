/*
 * pit-auth core: the synchronous Redis store used by pitctl (never by the
 * nginx module, which has its own non-blocking connection).
 *
 * Every change is an atomic read-modify-write: WATCH the keys read, compute
 * the new state in C, write every key in MULTI/EXEC, retry a bounded number
 * of times if another client changed a watched key.  A failed change leaves
 * the previous state intact.  Each change appends an audit entry to
 * <prefix>audit, which carries the change's random id (field "change"),
 * no token is ever written anywhere, only its hash.
 */

#ifndef PIT_STORE_H
#define PIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "pit_config.h"
#include "pit_error.h"
#include "pit_record.h"
#include "pit_token.h"

#define PIT_STORE_RETRIES  50
#define PIT_STORE_FAILOVER_MS  10000   /* sentinel URLs: default bound */
#define PIT_AUDIT_FIELD_MAX 256

typedef struct pit_store_s  pit_store_t;

typedef struct {
    char  id[64];                        /* stream entry id */
    int64_t at_ms;
    char  who[PIT_CREATED_BY_MAX_BYTES + 1];
    char  action[32];                    /* "create", "rotate-later", ... */
    char  iid[PIT_ID_LEN + 1];
    char  detail[PIT_AUDIT_FIELD_MAX + 1];
} pit_audit_entry_t;

/*
 * Connects (timeout_ms for connect and each reply), sends AUTH and SELECT
 * as the URL asks.  On failure *err_msg (if not NULL) receives a static or
 * store-owned message.  Returns PIT_OK, PIT_ERR_REDIS or PIT_ERR_NOMEM.
 */
pit_err_t pit_store_open(pit_store_t **st, const pit_redis_url_t *url,
    const char *prefix, int timeout_ms);

/*
 * As pit_store_open(), and for a redis-sentinel:// URL: finds the primary
 * through the sentinels (each in order, at most 1 s each), checks it with
 * ROLE, and spends at most failover_ms in all, for the whole life of the
 * store, looking for a primary again (pit_store_open() allows
 * PIT_STORE_FAILOVER_MS).  A change that fails because the primary moved
 * (connection lost, a timeout, -READONLY) is run again, whole, on the new
 * primary, and never applied twice: see "Failover" in pit_store.c.  When no
 * primary is found in time, changes return PIT_ERR_NO_PRIMARY (not
 * applied) or PIT_ERR_MAYBE_APPLIED (sent, outcome unknown); opening
 * returns PIT_ERR_NO_PRIMARY.
 */
pit_err_t pit_store_open_failover(pit_store_t **st,
    const pit_redis_url_t *url, const char *prefix, int timeout_ms,
    int failover_ms);

/* Returns "host:port" of the primary in use (sentinel URLs), or "". */
const char *pit_store_primary(const pit_store_t *st);

void pit_store_close(pit_store_t *st);

/* Returns the last Redis error text (never a secret), or "". */
const char *pit_store_error(const pit_store_t *st);

/*
 * Sets the hash key (NULL = plain SHA-256); the store keeps a copy.
 * Sets the actor recorded in audit entries ("pitctl" by default).
 */
void pit_store_set_hash_key(pit_store_t *st, const unsigned char *key,
    size_t key_len);
void pit_store_set_actor(pit_store_t *st, const char *who);

/*
 * After each change, waits (Redis WAIT) up to timeout_ms for replicas
 * replicas to acknowledge it; 0 replicas (the default) does not wait.  A
 * change that fewer replicas acknowledged is still applied on the primary:
 * the change functions then return PIT_ERR_REPLICATION with their outputs
 * (new token, record) filled in as on success.
 */
void pit_store_set_wait(pit_store_t *st, int replicas, int timeout_ms);

/*
 * Creates an integration from in's name, description, account, acct_type,
 * scopes and created_by (other fields are filled in).  Writes the new token
 * into token (PIT_TOKEN_LEN + 1) and the stored record back into in.
 * PIT_ERR_CONFLICT if the name is taken in the account.
 */
pit_err_t pit_store_create(pit_store_t *st, pit_integration_t *in,
    char *token, int64_t now);

/* Reads an integration (settled at now); PIT_ERR_NOT_FOUND if absent. */
pit_err_t pit_store_get(pit_store_t *st, const char *iid,
    pit_integration_t *in, int64_t now);

/*
 * Lists integrations: of one account (acct not NULL) or all, oldest first.
 * Calls fn for each; stops early if fn returns non-zero.
 */
pit_err_t pit_store_list(pit_store_t *st, const char *acct, int64_t now,
    int (*fn)(const pit_integration_t *in, void *arg), void *arg);

/*
 * Edits name, description and/or scopes (NULL = unchanged).  Token keys are
 * rewritten with the new scopes, tokens themselves are unchanged.
 */
pit_err_t pit_store_edit(pit_store_t *st, const char *iid, const char *name,
    const char *description, const pit_scope_set_t *scopes,
    pit_integration_t *out, int64_t now);

typedef enum {
    PIT_OP_ROTATE_LATER = 0,
    PIT_OP_ROTATE_NOW,
    PIT_OP_CANCEL_ROTATION,
    PIT_OP_EXPIRE_NOW
} pit_rotation_op_t;

/*
 * Applies a rotation operation.  For ROTATE_* a new token is written into
 * token (PIT_TOKEN_LEN + 1); overlap_ms is used by ROTATE_LATER only.
 * PIT_ERR_STATE when the operation does not apply (rotation already in
 * progress; nothing to cancel or expire).
 */
pit_err_t pit_store_rotate(pit_store_t *st, const char *iid,
    pit_rotation_op_t op, int64_t overlap_ms, char *token,
    pit_integration_t *out, int64_t now);

/* Deletes an integration and every key that belongs to it. */
pit_err_t pit_store_delete(pit_store_t *st, const char *iid, int64_t now);

/*
 * Looks up a token: its record (as the edge would read it) and whether the
 * key exists.  PIT_ERR_NOT_FOUND if no key holds it.
 */
pit_err_t pit_store_check(pit_store_t *st, const char *token, size_t len,
    pit_token_record_t *rec, int64_t *pttl_ms);

/*
 * Reads last-use times (ms, 0 = never) for in's tokens into used[i].
 */
pit_err_t pit_store_last_used(pit_store_t *st, const pit_integration_t *in,
    int64_t *used);

/*
 * Reads audit entries, newest first, of one integration (iid not NULL) or
 * all, at most limit; calls fn for each.
 */
pit_err_t pit_store_audit(pit_store_t *st, const char *iid, size_t limit,
    int (*fn)(const pit_audit_entry_t *e, void *arg), void *arg);

#endif /* PIT_STORE_H */
