/*
 * pit-auth core: private header of the store's files (pit_store.c and
 * pit_store_*.c), never installed nor included by callers, whose API is
 * pit_store.h.  The store object, the batch of one MULTI/EXEC, and the
 * helpers the files share (each is described where it is defined).
 */

#ifndef PIT_STORE_INT_H
#define PIT_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "pit_schema.h"
#include "pit_store.h"

#define PIT_CMD_ARGS_MAX   24
#define PIT_BATCH_MAX      160     /* a catalogue of 1024 scopes: 114 HSETs */
#define PIT_ARENA_SIZE     (8 * PIT_JSON_MAX)

struct pit_store_s {
    redisContext   *c;
    char            prefix[PIT_PREFIX_MAX + 1];
    unsigned char   hash_key[PIT_HASH_KEY_MAX];
    size_t          hash_key_len;
    char            actor[PIT_CREATED_BY_MAX_BYTES + 1];
    char            peer[PIT_AUDIT_PEER_MAX + 1];
    char            err[512];             /* last Redis error, no secrets */
    int             wait_replicas;        /* WAIT after each change */
    int             force_meta;           /* overwrite a disagreeing mark */
    int             wait_timeout_ms;

    pit_redis_url_t url;                  /* a copy, to find the primary
                                             again after a failover */
    int             timeout_ms;           /* connect and each reply */
    int             failover_ms;          /* sentinel URLs: time allowed to
                                             find a primary, per store */
    int64_t         deadline;             /* monotonic ms; 0 = not started */
    pit_store_wait_pt  wait;              /* the caller's pause; NULL: none */
    char            primary[PIT_URL_HOST_MAX + 16];   /* "host:port" */
    int             moved;                /* the last failure says the
                                             primary may have moved */
    int             maybe_applied;        /* a change was sent and its
                                             outcome is unknown */
    char            marker[PIT_ID_LEN + 1];   /* the current change's id in
                                                 its audit entry */
};

typedef struct {
    int             argc;
    const char     *argv[PIT_CMD_ARGS_MAX];
    size_t          argvlen[PIT_CMD_ARGS_MAX];
} pit_cmd_t;

/* Commands queued for one MULTI/EXEC, their arguments copied to arena. */
typedef struct {
    size_t          n;
    pit_cmd_t       cmds[PIT_BATCH_MAX];
    size_t          used;
    char            arena[PIT_ARENA_SIZE];
} pit_batch_t;


/* pit_store.c: commands, failover, keys */
pit_err_t pit_st_fail(pit_store_t *st, const char *what, const redisReply *r);
redisReply *pit_st_cmd(pit_store_t *st, int argc, const char **argv);
pit_err_t pit_st_simple(pit_store_t *st, int argc, const char **argv);
pit_err_t pit_st_change_begin(pit_store_t *st);
pit_err_t pit_st_marker_find(pit_store_t *st);
int pit_st_failover(pit_store_t *st, pit_err_t *rc);
int pit_st_cmp_str(const void *a, const void *b);
pit_err_t pit_st_pattern(pit_store_t *st, const char *suffix, char *buf,
    size_t cap);


/* pit_store_batch.c: batches, WATCH and the reads under it */
pit_err_t pit_batch_add_argv(pit_batch_t *b, int argc, const char **argv);
pit_err_t pit_batch_add(pit_batch_t *b, int argc, ...);
pit_batch_t *pit_batch_new(void);
pit_err_t pit_st_wait(pit_store_t *st);
pit_err_t pit_batch_exec(pit_store_t *st, pit_batch_t *b);
pit_err_t pit_st_watch(pit_store_t *st, const char *key);
void pit_st_unwatch(pit_store_t *st);
pit_err_t pit_st_get_value(pit_store_t *st, const char *key, size_t max,
    redisReply **value);
pit_err_t pit_st_get(pit_store_t *st, const char *key, char *buf, size_t cap,
    size_t *len);


/* pit_store_integration.c: an integration's record and keys */
pit_err_t pit_st_read_integration(pit_store_t *st, const char *iid,
    pit_integration_t *in);
pit_err_t pit_batch_token_keys(pit_store_t *st, pit_batch_t *b,
    const pit_integration_t *in);
pit_err_t pit_batch_integration(pit_store_t *st, pit_batch_t *b,
    const pit_integration_t *in);
pit_err_t pit_batch_delete_integration(pit_store_t *st, pit_batch_t *b,
    const pit_integration_t *old);


/* pit_store_audit.c: the audit stream */
pit_err_t pit_batch_audit_fields(pit_store_t *st, pit_batch_t *b,
    const char *action, const char *iid, const char *name, const char *acct,
    const char *detail, int64_t now);
pit_err_t pit_batch_audit(pit_store_t *st, pit_batch_t *b, const char *action,
    const pit_integration_t *in, const char *detail, int64_t now);
pit_err_t pit_st_audit_walk(pit_store_t *st, size_t page, size_t max,
    int (*visit)(const redisReply *e, void *arg), void *arg);


/* pit_store_meta.c: the store mark */
pit_err_t pit_st_meta_guard(pit_store_t *st, pit_batch_t *b, int64_t now);


#endif /* PIT_STORE_INT_H */
