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

#include "pit_admin.h"
#include "pit_catalog_file.h"
#include "pit_config.h"
#include "pit_error.h"
#include "pit_meta.h"
#include "pit_record.h"
#include "pit_token.h"

#define PIT_STORE_RETRIES  50
#define PIT_STORE_FAILOVER_MS  10000   /* sentinel URLs: default bound */
#define PIT_AUDIT_FIELD_MAX 256
#define PIT_AUDIT_PEER_MAX  63

typedef struct pit_store_s  pit_store_t;

typedef struct {
    char  id[64];                        /* stream entry id */
    int64_t at_ms;
    char  who[PIT_CREATED_BY_MAX_BYTES + 1];
    char  action[32];                    /* "create", "rotate-later", ... */
    char  iid[PIT_ID_LEN + 1];
    char  name[PIT_NAME_MAX_BYTES + 1];  /* the integration's name */
    char  account[PIT_ACCOUNT_MAX + 1];  /* and account ("" if none) */
    char  detail[PIT_AUDIT_FIELD_MAX + 1];
    char  peer[PIT_AUDIT_PEER_MAX + 1];  /* "" for the command line */
} pit_audit_entry_t;

/* Which audit entries pit_store_audit_query() returns. */
typedef struct {
    const char  *iid;                    /* NULL: any integration */
    const char  *account;                /* NULL: any account */
    int64_t      since_ms;               /* 0: any time; else at >= */
    size_t       limit;                  /* at most this many */
} pit_audit_filter_t;

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
 * store, looking for a primary again (pit_store_open(): one round).  A change that fails because the primary moved
 * (connection lost, a timeout, -READONLY) is run again, whole, on the new
 * primary, and never applied twice: see "Failover" in pit_store.c.  When no
 * primary is found in time, changes return PIT_ERR_NO_PRIMARY (not
 * applied) or PIT_ERR_MAYBE_APPLIED (sent, outcome unknown); opening
 * returns PIT_ERR_NO_PRIMARY.  Between rounds it calls wait (the core
 * never sleeps: a server module may link it); NULL: one round only.
 */
typedef void (*pit_store_wait_pt)(int ms);
pit_err_t pit_store_open_failover(pit_store_t **st,
    const pit_redis_url_t *url, const char *prefix, int timeout_ms,
    int failover_ms, pit_store_wait_pt wait);

/* Returns "host:port" of the primary in use (sentinel URLs), or "". */
const char *pit_store_primary(const pit_store_t *st);

void pit_store_close(pit_store_t *st);

/* Returns the last Redis error text (never a secret), or "". */
const char *pit_store_error(const pit_store_t *st);

/*
 * Sets the hash key (NULL = plain SHA-256); the store keeps a copy.
 * Sets the actor recorded in audit entries ("pitctl" by default), and
 * the peer address it acts from (field "peer", pitctl serve's client;
 * NULL or "": none, the field is left out).
 */
void pit_store_set_hash_key(pit_store_t *st, const unsigned char *key,
    size_t key_len);
void pit_store_set_actor(pit_store_t *st, const char *who);
void pit_store_set_peer(pit_store_t *st, const char *peer);

/*
 * Every change first reads the store mark (<prefix>meta, pit_meta.h): it
 * writes one when there is none, and refuses with PIT_ERR_META (st's
 * error says both marks) when the mark names another hash mode or key.
 * With force set, a disagreeing or unreadable mark is overwritten
 * instead, and an audit entry "force-meta" says what it was.
 */
void pit_store_set_force_meta(pit_store_t *st, int force);

/* Fills m with the mark this store's hash key writes (created at now). */
pit_err_t pit_store_meta_mine(const pit_store_t *st, pit_meta_t *m,
    int64_t now);

/*
 * Reads the store mark: PIT_OK, PIT_ERR_NOT_FOUND (none), PIT_ERR_CORRUPT
 * (it does not decode), PIT_ERR_REDIS.
 */
pit_err_t pit_store_meta_get(pit_store_t *st, pit_meta_t *m);

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
 * What a caller expects of the integration it reads or changes (the admin
 * API): checked under WATCH, before anything else, in this order.
 */
typedef struct {
    const char  *account;     /* not NULL: an integration of another
                                 account is PIT_ERR_NOT_FOUND */
    const char  *etag;        /* not NULL: unless pit_integration_etag()
                                 of it, settled now, is this,
                                 PIT_ERR_STALE */
} pit_store_expect_t;

/* As pit_store_get(), _edit(), _rotate() and _delete(), with ex (NULL:
 * nothing expected; pit_store_get_if() checks ex->account only). */
pit_err_t pit_store_get_if(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, pit_integration_t *in, int64_t now);
pit_err_t pit_store_edit_if(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, const char *name, const char *description,
    const pit_scope_set_t *scopes, pit_integration_t *out, int64_t now);
pit_err_t pit_store_rotate_if(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, pit_rotation_op_t op, int64_t overlap_ms, char *token,
    pit_integration_t *out, int64_t now);
pit_err_t pit_store_delete_if(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, int64_t now);

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

/* As pit_store_audit(), with the entries f selects. */
pit_err_t pit_store_audit_query(pit_store_t *st, const pit_audit_filter_t *f,
    int (*fn)(const pit_audit_entry_t *e, void *arg), void *arg);

/*
 * The scope catalogue.  Reads the stored one (<prefix>scopes) into cl
 * (emptied first) and sets *stored to 1; with none stored, fills cl with
 * the built-in catalogue and sets *stored to 0.  PIT_ERR_CORRUPT if the
 * stored one does not decode.
 */
pit_err_t pit_store_catalog_get(pit_store_t *st, pit_catalog_list_t *cl,
    int *stored);

/*
 * Changes the catalogue atomically: reads the active one (as above, under
 * WATCH), lets fn change it (fn returns PIT_OK, or an error that aborts
 * the change and is returned), then writes it whole in one MULTI/EXEC
 * with an audit entry (action, detail).  A catalogue fn leaves empty
 * removes <prefix>scopes: the built-in one is active again.
 */
pit_err_t pit_store_catalog_update(pit_store_t *st,
    pit_err_t (*fn)(pit_catalog_list_t *cl, int stored, void *arg),
    void *arg, const char *action, const char *detail, int64_t now);

/*
 * Imports an integration as a backup holds it (in is settled at now
 * first: a rotation whose deadline passed completes).  Writes every key
 * of it in one MULTI/EXEC: name, record, token keys ("previous" with
 * PEXPIREAT), account index, last-use times (used[i] for token i, 0 =
 * none; used may be NULL), audit "import".  PIT_ERR_CONFLICT (st's error
 * says which) when its id exists or another integration of the account
 * holds its name, unless replace: then those are deleted in the same
 * transaction.  With check_only, only the conflicts are looked for.
 */
pit_err_t pit_store_import(pit_store_t *st, pit_integration_t *in,
    const int64_t *used, int replace, int check_only, int64_t now);

/*
 * Calls fn with each key under the prefix that matches the glob pattern
 * (after the prefix, e.g. "tok:*"), without the prefix, using SCAN (a
 * key may come twice); stops when fn returns non-zero.
 */
pit_err_t pit_store_scan(pit_store_t *st, const char *pattern,
    int (*fn)(const char *key, void *arg), void *arg);

/*
 * Reads the token record stored under a hash: PIT_OK, PIT_ERR_NOT_FOUND,
 * PIT_ERR_CORRUPT (it does not decode), PIT_ERR_REDIS.
 */
pit_err_t pit_store_token_get(pit_store_t *st, const char *hash_hex,
    pit_token_record_t *rec);

/*
 * Runs a read-only command (INFO, ACL USERS, PING) and writes its reply
 * as text into buf: a string or status as is, an integer in decimal, an
 * array one element per line; truncated to cap.  An error reply is
 * PIT_ERR_REDIS with the reply in st's error.
 */
pit_err_t pit_store_read_text(pit_store_t *st, int argc, const char **argv,
    char *buf, size_t cap);

/*
 * Admins of the admin API (pit_admin.h; keys <prefix>admin:<name>,
 * <prefix>admins, <prefix>atok:<hash>).
 *
 * pit_store_hash_hex() hashes a token (admin or integration) with the
 * store's hash key.  pit_store_admin_get() reads one admin
 * (PIT_ERR_NOT_FOUND, PIT_ERR_CORRUPT); pit_store_admin_list() calls fn
 * for each, by name.
 */
pit_err_t pit_store_hash_hex(const pit_store_t *st, const char *token,
    size_t len, char *hex);
pit_err_t pit_store_admin_get(pit_store_t *st, const char *name,
    pit_admin_t *a);
pit_err_t pit_store_admin_list(pit_store_t *st,
    int (*fn)(const pit_admin_t *a, void *arg), void *arg);

/*
 * Creates, changes or removes admin name atomically, like every change:
 * reads it under WATCH (absent: a fresh record, *exists 0), lets fn
 * change it (fn sets *exists to 0 to remove it; an error from fn aborts
 * and is returned), then writes the record, the set of names and the
 * token keys (<prefix>atok:<hash> of each token fn added, DEL of each it
 * dropped) with an audit entry (action; who is the store's actor, name
 * the admin's) in one MULTI/EXEC.  PIT_ERR_NOT_FOUND when fn leaves an
 * absent admin absent.
 */
pit_err_t pit_store_admin_update(pit_store_t *st, const char *name,
    pit_err_t (*fn)(pit_admin_t *a, int *exists, void *arg), void *arg,
    const char *action, int64_t now);

/*
 * The admin an admin token names: PIT_OK, PIT_ERR_TOKEN_MALFORMED,
 * PIT_ERR_NOT_FOUND (unknown, revoked, or its admin removed),
 * PIT_ERR_REDIS, PIT_ERR_CORRUPT.
 */
pit_err_t pit_store_admin_by_token(pit_store_t *st, const char *token,
    size_t len, pit_admin_t *a);

#endif /* PIT_STORE_H */
