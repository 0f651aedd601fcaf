/*
 * pit-auth core: the synchronous Redis store used by pitctl.
 *
 * Every change follows one pattern: WATCH the integration (and, for names,
 * the name key), read, compute the new state with the pure functions of
 * pit_rotation.c, queue every write between MULTI and EXEC, and start again
 * from the read if EXEC reports that a watched key changed.  Nothing is
 * written outside MULTI/EXEC, so a failure at any point leaves Redis as it
 * was.
 *
 * This file is not part of the nginx module: it blocks.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "pit_record.h"
#include "pit_rotation.h"
#include "pit_schema.h"
#include "pit_store.h"

#define PIT_CMD_ARGS_MAX   16
#define PIT_BATCH_MAX      32
#define PIT_ARENA_SIZE     (8 * PIT_JSON_MAX)

struct pit_store_s {
    redisContext   *c;
    char            prefix[PIT_PREFIX_MAX + 1];
    unsigned char   hash_key[PIT_HASH_KEY_MAX];
    size_t          hash_key_len;
    char            actor[PIT_CREATED_BY_MAX_BYTES + 1];
    char            err[512];             /* last Redis error, no secrets */
    int             wait_replicas;        /* WAIT after each change */
    int             wait_timeout_ms;
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


/* ------------------------------------------------------------------------
 * Connection
 * --------------------------------------------------------------------- */

/* Records a Redis failure in st->err and returns PIT_ERR_REDIS. */
static pit_err_t
store_fail(pit_store_t *st, const char *what, const redisReply *r)
{
    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        snprintf(st->err, sizeof(st->err), "%s: %.*s", what,
                 (int) (r->len > 200 ? 200 : r->len), r->str);

    } else if (st->c != NULL && st->c->err) {
        snprintf(st->err, sizeof(st->err), "%s: %s", what, st->c->errstr);

    } else {
        snprintf(st->err, sizeof(st->err), "%s: unexpected reply", what);
    }

    return PIT_ERR_REDIS;
}


/* Runs one command given as NUL-terminated strings; returns the reply or
 * NULL (connection failure, recorded in st->err). */
static redisReply *
store_cmd(pit_store_t *st, int argc, const char **argv)
{
    size_t       lens[PIT_CMD_ARGS_MAX];
    redisReply  *r;
    int          i;

    for (i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }

    r = redisCommandArgv(st->c, argc, argv, lens);
    if (r == NULL) {
        store_fail(st, argv[0], NULL);
    }

    return r;
}


/* Runs a command expecting a status or integer reply; returns PIT_OK or
 * PIT_ERR_REDIS. */
static pit_err_t
store_simple(pit_store_t *st, int argc, const char **argv)
{
    redisReply  *r;
    pit_err_t    rc;

    r = store_cmd(st, argc, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    rc = PIT_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        rc = store_fail(st, argv[0], r);
    }

    freeReplyObject(r);
    return rc;
}


pit_err_t
pit_store_open(pit_store_t **out, const pit_redis_url_t *url,
    const char *prefix, int timeout_ms)
{
    pit_store_t     *st;
    struct timeval   tv;
    char             db[16];
    const char      *argv[3];
    pit_err_t        rc;

    *out = NULL;

    if (pit_prefix_validate(prefix, strlen(prefix)) != PIT_OK) {
        return PIT_ERR_PREFIX;
    }

    st = calloc(1, sizeof(pit_store_t));
    if (st == NULL) {
        return PIT_ERR_NOMEM;
    }

    *out = st;
    strcpy(st->prefix, prefix);
    strcpy(st->actor, "pitctl");

    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;

    if (url->unix_socket) {
        st->c = redisConnectUnixWithTimeout(url->path, tv);

    } else {
        st->c = redisConnectWithTimeout(url->host, url->port, tv);
    }

    if (st->c == NULL) {
        snprintf(st->err, sizeof(st->err), "cannot allocate a connection");
        return PIT_ERR_REDIS;
    }

    if (st->c->err) {
        if (url->unix_socket) {
            snprintf(st->err, sizeof(st->err), "cannot connect to %.200s: %.200s",
                     url->path, st->c->errstr);
        } else {
            snprintf(st->err, sizeof(st->err), "cannot connect to %.200s:%d: %.200s",
                     url->host, url->port, st->c->errstr);
        }
        return PIT_ERR_REDIS;
    }

    if (redisSetTimeout(st->c, tv) != REDIS_OK) {
        return store_fail(st, "timeout", NULL);
    }

    if (url->password[0] != '\0') {
        argv[0] = "AUTH";
        if (url->user[0] != '\0') {
            argv[1] = url->user;
            argv[2] = url->password;
            rc = store_simple(st, 3, argv);

        } else {
            argv[1] = url->password;
            rc = store_simple(st, 2, argv);
        }

        if (rc != PIT_OK) {
            return rc;
        }
    }

    if (url->db != 0) {
        snprintf(db, sizeof(db), "%d", url->db);
        argv[0] = "SELECT";
        argv[1] = db;
        rc = store_simple(st, 2, argv);
        if (rc != PIT_OK) {
            return rc;
        }
    }

    return PIT_OK;
}


void
pit_store_close(pit_store_t *st)
{
    if (st == NULL) {
        return;
    }

    if (st->c != NULL) {
        redisFree(st->c);
    }

    memset(st->hash_key, 0, sizeof(st->hash_key));
    free(st);
}


const char *
pit_store_error(const pit_store_t *st)
{
    return st == NULL ? "" : st->err;
}


void
pit_store_set_hash_key(pit_store_t *st, const unsigned char *key,
    size_t key_len)
{
    if (key == NULL || key_len > sizeof(st->hash_key)) {
        key_len = 0;
    }

    memset(st->hash_key, 0, sizeof(st->hash_key));
    if (key_len) {
        memcpy(st->hash_key, key, key_len);
    }

    st->hash_key_len = key_len;
}


void
pit_store_set_wait(pit_store_t *st, int replicas, int timeout_ms)
{
    st->wait_replicas = replicas > 0 ? replicas : 0;
    st->wait_timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}


void
pit_store_set_actor(pit_store_t *st, const char *who)
{
    snprintf(st->actor, sizeof(st->actor), "%s", who);
}


/* ------------------------------------------------------------------------
 * Batches: the writes of one MULTI/EXEC
 * --------------------------------------------------------------------- */

/* Copies s[0..len) into the arena; returns the copy or NULL when full. */
static const char *
batch_copy(pit_batch_t *b, const char *s, size_t len)
{
    char  *p;

    if (b->used + len + 1 > sizeof(b->arena)) {
        return NULL;
    }

    p = b->arena + b->used;
    memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;

    return p;
}


/* Queues a command of argc NUL-terminated arguments; returns PIT_OK or
 * PIT_ERR_TOO_LARGE. */
static pit_err_t
batch_add(pit_batch_t *b, int argc, ...)
{
    va_list      ap;
    pit_cmd_t   *cmd;
    const char  *s;
    int          i;

    if (b->n == PIT_BATCH_MAX || argc > PIT_CMD_ARGS_MAX) {
        return PIT_ERR_TOO_LARGE;
    }

    cmd = &b->cmds[b->n];
    cmd->argc = argc;

    va_start(ap, argc);
    for (i = 0; i < argc; i++) {
        s = va_arg(ap, const char *);
        cmd->argvlen[i] = strlen(s);
        cmd->argv[i] = batch_copy(b, s, cmd->argvlen[i]);
        if (cmd->argv[i] == NULL) {
            va_end(ap);
            return PIT_ERR_TOO_LARGE;
        }
    }
    va_end(ap);

    b->n++;
    return PIT_OK;
}


/*
 * Waits for the configured number of replicas to acknowledge what this
 * connection wrote.  Returns PIT_OK, PIT_ERR_REPLICATION (st->err says
 * how many did) or PIT_ERR_REDIS.
 */
static pit_err_t
store_wait(pit_store_t *st)
{
    char         n[16], ms[16];
    const char  *argv[3];
    redisReply  *r;
    pit_err_t    rc;

    if (st->wait_replicas == 0) {
        return PIT_OK;
    }

    snprintf(n, sizeof(n), "%d", st->wait_replicas);
    snprintf(ms, sizeof(ms), "%d", st->wait_timeout_ms);
    argv[0] = "WAIT";
    argv[1] = n;
    argv[2] = ms;

    r = store_cmd(st, 3, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_INTEGER) {
        rc = store_fail(st, "WAIT", r);

    } else if (r->integer < st->wait_replicas) {
        snprintf(st->err, sizeof(st->err), "%lld of %d replicas "
                 "acknowledged within %d ms", r->integer, st->wait_replicas,
                 st->wait_timeout_ms);
        rc = PIT_ERR_REPLICATION;

    } else {
        rc = PIT_OK;
    }

    freeReplyObject(r);
    return rc;
}


/*
 * Sends MULTI, the batch and EXEC in one round trip.  Returns PIT_OK when
 * EXEC ran every command, PIT_ERR_BUSY when a watched key changed (the
 * caller starts again), PIT_ERR_REDIS otherwise.
 */
static pit_err_t
batch_exec(pit_store_t *st, pit_batch_t *b)
{
    static const char  *multi[] = { "MULTI" };
    static const char  *exec[] = { "EXEC" };
    static const size_t multi_len[] = { 5 };
    static const size_t exec_len[] = { 4 };
    redisReply         *r;
    pit_err_t           rc;
    size_t              i;

    if (redisAppendCommandArgv(st->c, 1, multi, multi_len) != REDIS_OK) {
        return store_fail(st, "MULTI", NULL);
    }

    for (i = 0; i < b->n; i++) {
        if (redisAppendCommandArgv(st->c, b->cmds[i].argc, b->cmds[i].argv,
                                   b->cmds[i].argvlen)
            != REDIS_OK)
        {
            return store_fail(st, b->cmds[i].argv[0], NULL);
        }
    }

    if (redisAppendCommandArgv(st->c, 1, exec, exec_len) != REDIS_OK) {
        return store_fail(st, "EXEC", NULL);
    }

    rc = PIT_OK;

    /* MULTI's +OK and one +QUEUED per command; an error here makes Redis
     * discard the transaction, so EXEC below fails too. */
    for (i = 0; i < b->n + 1; i++) {
        if (redisGetReply(st->c, (void **) &r) != REDIS_OK) {
            return store_fail(st, "MULTI", NULL);
        }

        if (r->type == REDIS_REPLY_ERROR && rc == PIT_OK) {
            rc = store_fail(st, i == 0 ? "MULTI" : b->cmds[i - 1].argv[0],
                            r);
        }

        freeReplyObject(r);
    }

    if (redisGetReply(st->c, (void **) &r) != REDIS_OK) {
        return store_fail(st, "EXEC", NULL);
    }

    if (rc == PIT_OK) {
        if (r->type == REDIS_REPLY_NIL) {
            rc = PIT_ERR_BUSY;

        } else if (r->type != REDIS_REPLY_ARRAY) {
            rc = store_fail(st, "EXEC", r);

        } else {
            for (i = 0; i < r->elements; i++) {
                if (r->element[i]->type == REDIS_REPLY_ERROR) {
                    rc = store_fail(st, b->cmds[i].argv[0], r->element[i]);
                    break;
                }
            }
        }
    }

    freeReplyObject(r);

    return rc == PIT_OK ? store_wait(st) : rc;
}


/* ------------------------------------------------------------------------
 * Reads
 * --------------------------------------------------------------------- */

/* WATCHes key; returns PIT_OK or PIT_ERR_REDIS. */
static pit_err_t
store_watch(pit_store_t *st, const char *key)
{
    const char  *argv[2] = { "WATCH", key };

    return store_simple(st, 2, argv);
}


static void
store_unwatch(pit_store_t *st)
{
    const char  *argv[1] = { "UNWATCH" };

    (void) store_simple(st, 1, argv);
}


/*
 * GETs key.  Returns PIT_OK with *value a string reply of at most max
 * bytes (the caller frees it), PIT_ERR_NOT_FOUND for a missing key,
 * PIT_ERR_CORRUPT for a value that is not a string or is larger,
 * PIT_ERR_REDIS.
 */
static pit_err_t
store_get_value(pit_store_t *st, const char *key, size_t max,
    redisReply **value)
{
    const char  *argv[2] = { "GET", key };
    redisReply  *r;
    pit_err_t    rc;

    r = store_cmd(st, 2, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type == REDIS_REPLY_NIL) {
        rc = PIT_ERR_NOT_FOUND;

    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = store_fail(st, "GET", r);

    } else if (r->type != REDIS_REPLY_STRING || r->len > max) {
        rc = PIT_ERR_CORRUPT;

    } else {
        *value = r;
        return PIT_OK;
    }

    freeReplyObject(r);
    return rc;
}


/* As store_get_value(), copying the value and a NUL into buf. */
static pit_err_t
store_get(pit_store_t *st, const char *key, char *buf, size_t cap,
    size_t *len)
{
    redisReply  *r;
    pit_err_t    rc;

    rc = store_get_value(st, key, cap - 1, &r);
    if (rc != PIT_OK) {
        return rc;
    }

    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';
    *len = r->len;

    freeReplyObject(r);
    return PIT_OK;
}


/* Reads and decodes an integration as stored (not settled). */
static pit_err_t
store_read_integration(pit_store_t *st, const char *iid,
    pit_integration_t *in)
{
    char         key[PIT_KEY_MAX];
    redisReply  *r;
    pit_err_t    rc;

    if (pit_id_validate(iid, strlen(iid)) != PIT_OK) {
        return PIT_ERR_NOT_FOUND;
    }

    rc = pit_key_integration(key, sizeof(key), st->prefix, iid);
    if (rc == PIT_OK) {
        rc = store_get_value(st, key, PIT_JSON_MAX, &r);
    }

    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_integration_from_json(r->str, r->len, in);
    freeReplyObject(r);

    if (rc != PIT_OK) {
        snprintf(st->err, sizeof(st->err),
                 "integration %s: stored record does not decode: %s",
                 iid, pit_strerror(rc));
        rc = PIT_ERR_CORRUPT;
    }

    return rc;
}


pit_err_t
pit_store_get(pit_store_t *st, const char *iid, pit_integration_t *in,
    int64_t now)
{
    pit_err_t  rc;

    rc = store_read_integration(st, iid, in);
    if (rc == PIT_OK) {
        (void) pit_rotation_settle(in, now);
    }

    return rc;
}


/* Calls fn for each integration id of one account's index, oldest first;
 * returns PIT_OK, or 1 in *stop when fn asked to stop. */
static pit_err_t
store_list_account(pit_store_t *st, const char *acct, int64_t now,
    int (*fn)(const pit_integration_t *in, void *arg), void *arg, int *stop)
{
    char                key[PIT_KEY_MAX];
    const char         *argv[4];
    redisReply         *r;
    pit_integration_t  *in;
    pit_err_t           rc;
    size_t              i;

    rc = pit_key_account_index(key, sizeof(key), st->prefix, acct);
    if (rc != PIT_OK) {
        return rc;
    }

    argv[0] = "ZRANGE";
    argv[1] = key;
    argv[2] = "0";
    argv[3] = "-1";

    r = store_cmd(st, 4, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        rc = store_fail(st, "ZRANGE", r);
        freeReplyObject(r);
        return rc;
    }

    in = malloc(sizeof(pit_integration_t));
    if (in == NULL) {
        freeReplyObject(r);
        return PIT_ERR_NOMEM;
    }

    rc = PIT_OK;

    for (i = 0; i < r->elements && !*stop; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING) {
            continue;
        }

        rc = pit_store_get(st, r->element[i]->str, in, now);
        if (rc == PIT_ERR_NOT_FOUND) {
            rc = PIT_OK;
            continue;
        }

        if (rc != PIT_OK) {
            break;
        }

        *stop = fn(in, arg);
    }

    free(in);
    freeReplyObject(r);
    return rc;
}


static int
store_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char * const *) a, *(const char * const *) b);
}


/* Writes the SCAN pattern that matches every account index key: the
 * prefix with glob characters escaped, then "ints:*". */
static pit_err_t
store_index_pattern(pit_store_t *st, char *buf, size_t cap)
{
    const char  *p;
    size_t       n;

    n = 0;
    for (p = st->prefix; *p; p++) {
        if (n + 2 >= cap) {
            return PIT_ERR_TOO_LARGE;
        }
        if (*p == '*' || *p == '?' || *p == '[' || *p == ']' || *p == '\\') {
            buf[n++] = '\\';
        }
        buf[n++] = *p;
    }

    if (n + sizeof("ints:*") > cap) {
        return PIT_ERR_TOO_LARGE;
    }

    memcpy(buf + n, "ints:*", sizeof("ints:*"));
    return PIT_OK;
}


/* Collects the account of every index key (SCAN, so an admin listing a
 * large database does not block Redis); *accts is a malloc'ed array of
 * malloc'ed strings, sorted. */
static pit_err_t
store_accounts(pit_store_t *st, char ***accts, size_t *n)
{
    char         pattern[2 * PIT_PREFIX_MAX + 16], cursor[32];
    const char  *argv[6];
    redisReply  *r, *keys;
    char       **list, **grown;
    size_t       i, cap, skip;
    pit_err_t    rc;

    rc = store_index_pattern(st, pattern, sizeof(pattern));
    if (rc != PIT_OK) {
        return rc;
    }

    skip = strlen(st->prefix) + sizeof("ints:") - 1;
    list = NULL;
    cap = 0;
    *n = 0;
    strcpy(cursor, "0");
    rc = PIT_OK;

    do {
        argv[0] = "SCAN";
        argv[1] = cursor;
        argv[2] = "MATCH";
        argv[3] = pattern;
        argv[4] = "COUNT";
        argv[5] = "1000";

        r = store_cmd(st, 6, argv);
        if (r == NULL) {
            rc = PIT_ERR_REDIS;
            break;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            rc = store_fail(st, "SCAN", r);
            freeReplyObject(r);
            break;
        }

        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        keys = r->element[1];

        for (i = 0; i < keys->elements && rc == PIT_OK; i++) {
            if (keys->element[i]->type != REDIS_REPLY_STRING
                || keys->element[i]->len <= skip)
            {
                continue;
            }

            if (*n == cap) {
                cap = cap ? 2 * cap : 16;
                grown = realloc(list, cap * sizeof(char *));
                if (grown == NULL) {
                    rc = PIT_ERR_NOMEM;
                    break;
                }
                list = grown;
            }

            list[*n] = strdup(keys->element[i]->str + skip);
            if (list[*n] == NULL) {
                rc = PIT_ERR_NOMEM;
                break;
            }
            (*n)++;
        }

        freeReplyObject(r);

    } while (rc == PIT_OK && strcmp(cursor, "0") != 0);

    if (list != NULL) {
        qsort(list, *n, sizeof(char *), store_cmp_str);
    }

    *accts = list;
    return rc;
}


pit_err_t
pit_store_list(pit_store_t *st, const char *acct, int64_t now,
    int (*fn)(const pit_integration_t *in, void *arg), void *arg)
{
    char       **accts;
    size_t       i, n;
    pit_err_t    rc;
    int          stop;

    stop = 0;

    if (acct != NULL) {
        return store_list_account(st, acct, now, fn, arg, &stop);
    }

    accts = NULL;
    rc = store_accounts(st, &accts, &n);

    for (i = 0; i < n; i++) {
        /* SCAN may return a key twice */
        if (rc == PIT_OK && !stop && (i == 0 || strcmp(accts[i],
                                                       accts[i - 1]) != 0))
        {
            rc = store_list_account(st, accts[i], now, fn, arg, &stop);
        }
        free(accts[i]);
    }

    free(accts);
    return rc;
}


pit_err_t
pit_store_check(pit_store_t *st, const char *token, size_t len,
    pit_token_record_t *rec, int64_t *pttl_ms)
{
    char         hex[PIT_HASH_HEX_LEN + 1];
    char         key[PIT_KEY_MAX];
    const char  *argv[2];
    redisReply  *r;
    pit_err_t    rc;

    rc = pit_token_validate(token, len);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_token_hash_hex(token, len, st->hash_key, st->hash_key_len, hex);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_key_token(key, sizeof(key), st->prefix, hex);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = store_get_value(st, key, PIT_JSON_MAX, &r);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_token_record_from_json(r->str, r->len, rec);
    freeReplyObject(r);

    if (rc != PIT_OK) {
        return PIT_ERR_CORRUPT;
    }

    if (pttl_ms == NULL) {
        return rc;
    }

    argv[0] = "PTTL";
    argv[1] = key;
    r = store_cmd(st, 2, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    *pttl_ms = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);

    return PIT_OK;
}


pit_err_t
pit_store_last_used(pit_store_t *st, const pit_integration_t *in,
    int64_t *used)
{
    char         key[PIT_KEY_MAX];
    const char  *argv[2 + PIT_TOKENS_MAX];
    redisReply  *r;
    pit_err_t    rc;
    size_t       i;

    for (i = 0; i < in->ntokens; i++) {
        used[i] = 0;
    }

    if (in->ntokens == 0) {
        return PIT_OK;
    }

    rc = pit_key_used(key, sizeof(key), st->prefix, in->id);
    if (rc != PIT_OK) {
        return rc;
    }

    argv[0] = "HMGET";
    argv[1] = key;
    for (i = 0; i < in->ntokens; i++) {
        argv[2 + i] = in->tokens[i].hash;
    }

    r = store_cmd(st, 2 + (int) in->ntokens, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != in->ntokens) {
        rc = store_fail(st, "HMGET", r);
        freeReplyObject(r);
        return rc;
    }

    for (i = 0; i < in->ntokens; i++) {
        if (r->element[i]->type == REDIS_REPLY_STRING) {
            used[i] = strtoll(r->element[i]->str, NULL, 10);
            if (used[i] < 0) {
                used[i] = 0;
            }
        }
    }

    freeReplyObject(r);
    return PIT_OK;
}


/* ------------------------------------------------------------------------
 * Writes
 * --------------------------------------------------------------------- */

/* Queues an audit entry: who did what to which integration, never a
 * token (detail carries hints at most). */
static pit_err_t
batch_audit(pit_store_t *st, pit_batch_t *b, const char *action,
    const char *iid, const char *detail, int64_t now)
{
    char       key[PIT_KEY_MAX];
    char       maxlen[32], at[32];
    pit_err_t  rc;

    rc = pit_key_audit(key, sizeof(key), st->prefix);
    if (rc != PIT_OK) {
        return rc;
    }

    snprintf(maxlen, sizeof(maxlen), "%d", PIT_AUDIT_MAXLEN);
    snprintf(at, sizeof(at), "%lld", (long long) now);

    return batch_add(b, 16, "XADD", key, "MAXLEN", "~", maxlen, "*",
                     "at", at, "who", st->actor, "action", action,
                     "iid", iid, "detail", detail);
}


/* Queues SET of every token key of in, with PEXPIREAT on a "previous"
 * one so that Redis itself drops it at the deadline. */
static pit_err_t
batch_token_keys(pit_store_t *st, pit_batch_t *b, const pit_integration_t *in)
{
    pit_token_record_t  rec;
    char                key[PIT_KEY_MAX];
    char               *json;
    char                until[32];
    size_t              i, len;
    pit_err_t           rc;

    json = malloc(PIT_JSON_MAX);
    if (json == NULL) {
        return PIT_ERR_NOMEM;
    }

    rc = PIT_OK;

    for (i = 0; i < in->ntokens && rc == PIT_OK; i++) {
        pit_token_record_of(in, i, &rec);

        rc = pit_token_record_to_json(&rec, json, PIT_JSON_MAX, &len);
        if (rc != PIT_OK) {
            break;
        }

        rc = pit_key_token(key, sizeof(key), st->prefix, in->tokens[i].hash);
        if (rc != PIT_OK) {
            break;
        }

        rc = batch_add(b, 3, "SET", key, json);

        if (rc == PIT_OK && in->tokens[i].role == PIT_ROLE_PREVIOUS) {
            snprintf(until, sizeof(until), "%lld",
                     (long long) in->tokens[i].until_ms);
            rc = batch_add(b, 3, "PEXPIREAT", key, until);
        }
    }

    free(json);
    return rc;
}


/* Returns 1 if in holds a token with this hash. */
static int
integration_has_token(const pit_integration_t *in, const char *hash)
{
    size_t  i;

    for (i = 0; i < in->ntokens; i++) {
        if (strcmp(in->tokens[i].hash, hash) == 0) {
            return 1;
        }
    }

    return 0;
}


/* Queues DEL of the token keys (and last-use fields) that old holds and
 * new does not. */
static pit_err_t
batch_dropped_tokens(pit_store_t *st, pit_batch_t *b,
    const pit_integration_t *old, const pit_integration_t *new)
{
    char       key[PIT_KEY_MAX], used[PIT_KEY_MAX];
    size_t     i;
    pit_err_t  rc;

    rc = pit_key_used(used, sizeof(used), st->prefix, old->id);

    for (i = 0; i < old->ntokens && rc == PIT_OK; i++) {
        if (new != NULL && integration_has_token(new, old->tokens[i].hash)) {
            continue;
        }

        rc = pit_key_token(key, sizeof(key), st->prefix, old->tokens[i].hash);
        if (rc == PIT_OK) {
            rc = batch_add(b, 2, "DEL", key);
        }

        if (rc == PIT_OK && new != NULL) {
            rc = batch_add(b, 3, "HDEL", used, old->tokens[i].hash);
        }
    }

    return rc;
}


/* Queues SET of the integration record. */
static pit_err_t
batch_integration(pit_store_t *st, pit_batch_t *b, const pit_integration_t *in)
{
    char       key[PIT_KEY_MAX];
    char      *json;
    size_t     len;
    pit_err_t  rc;

    json = malloc(PIT_JSON_MAX);
    if (json == NULL) {
        return PIT_ERR_NOMEM;
    }

    rc = pit_integration_to_json(in, json, PIT_JSON_MAX, &len);
    if (rc == PIT_OK) {
        rc = pit_key_integration(key, sizeof(key), st->prefix, in->id);
    }

    if (rc == PIT_OK) {
        rc = batch_add(b, 3, "SET", key, json);
    }

    free(json);
    return rc;
}


/*
 * WATCHes the name key of (acct, name) and reads it.  Returns PIT_OK if
 * the name is free or held by iid, PIT_ERR_CONFLICT if another integration
 * holds it.
 */
static pit_err_t
store_claim_name(pit_store_t *st, const char *acct, const char *name,
    const char *iid)
{
    char       key[PIT_KEY_MAX];
    char       holder[PIT_ID_LEN + 64];
    size_t     len;
    pit_err_t  rc;

    rc = pit_key_name(key, sizeof(key), st->prefix, acct, name);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = store_watch(st, key);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = store_get(st, key, holder, sizeof(holder), &len);
    if (rc == PIT_ERR_NOT_FOUND) {
        return PIT_OK;
    }

    if (rc == PIT_ERR_CORRUPT) {
        return PIT_ERR_CONFLICT;
    }

    if (rc != PIT_OK) {
        return rc;
    }

    return (iid != NULL && strcmp(holder, iid) == 0) ? PIT_OK
                                                     : PIT_ERR_CONFLICT;
}


/* Fills the token slot of a freshly generated token. */
static pit_err_t
store_new_token(pit_store_t *st, char *token, char *hash, char *hint)
{
    pit_err_t  rc;

    rc = pit_token_generate(token);
    if (rc != PIT_OK) {
        return rc;
    }

    pit_token_hint(token, PIT_TOKEN_LEN, hint);

    return pit_token_hash_hex(token, PIT_TOKEN_LEN, st->hash_key,
                              st->hash_key_len, hash);
}


static pit_batch_t *
batch_new(void)
{
    pit_batch_t  *b;

    b = malloc(sizeof(pit_batch_t));
    if (b != NULL) {
        b->n = 0;
        b->used = 0;
    }

    return b;
}


/* Validates the fields an admin gives. */
static pit_err_t
integration_validate_input(const pit_integration_t *in)
{
    pit_err_t  rc;

    rc = pit_name_validate(in->name, strlen(in->name));
    if (rc == PIT_OK) {
        rc = pit_description_validate(in->description,
                                      strlen(in->description));
    }

    if (rc == PIT_OK) {
        rc = pit_account_validate(in->account, strlen(in->account));
    }

    if (rc == PIT_OK) {
        rc = pit_created_by_validate(in->created_by, strlen(in->created_by));
    }

    return rc;
}


pit_err_t
pit_store_create(pit_store_t *st, pit_integration_t *in, char *token,
    int64_t now)
{
    char          key[PIT_KEY_MAX], score[32], detail[PIT_AUDIT_FIELD_MAX];
    pit_batch_t  *b;
    pit_err_t     rc;
    int           attempt;

    rc = integration_validate_input(in);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_id_generate(in->id);
    if (rc != PIT_OK) {
        return rc;
    }

    in->ntokens = 1;
    in->tokens[0].role = PIT_ROLE_PRIMARY;
    in->tokens[0].created_at_ms = now;
    in->tokens[0].until_ms = 0;
    in->created_at_ms = now;
    in->updated_at_ms = now;
    in->rotating = 0;
    in->rotation_started_ms = 0;
    in->rotation_deadline_ms = 0;

    rc = store_new_token(st, token, in->tokens[0].hash, in->tokens[0].hint);
    if (rc != PIT_OK) {
        return rc;
    }

    b = batch_new();
    if (b == NULL) {
        return PIT_ERR_NOMEM;
    }

    snprintf(score, sizeof(score), "%lld", (long long) now);
    snprintf(detail, sizeof(detail), "token=%s", in->tokens[0].hint);

    for (attempt = 0; attempt < PIT_STORE_RETRIES; attempt++) {
        b->n = 0;
        b->used = 0;

        rc = store_claim_name(st, in->account, in->name, NULL);
        if (rc != PIT_OK) {
            break;
        }

        rc = pit_key_name(key, sizeof(key), st->prefix, in->account,
                          in->name);
        if (rc == PIT_OK) {
            rc = batch_add(b, 3, "SET", key, in->id);
        }

        if (rc == PIT_OK) {
            rc = batch_integration(st, b, in);
        }

        if (rc == PIT_OK) {
            rc = batch_token_keys(st, b, in);
        }

        if (rc == PIT_OK) {
            rc = pit_key_account_index(key, sizeof(key), st->prefix,
                                       in->account);
        }

        if (rc == PIT_OK) {
            rc = batch_add(b, 4, "ZADD", key, score, in->id);
        }

        if (rc == PIT_OK) {
            rc = batch_audit(st, b, "create", in->id, detail, now);
        }

        if (rc != PIT_OK) {
            break;
        }

        rc = batch_exec(st, b);
        if (rc != PIT_ERR_BUSY) {
            break;
        }
    }

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION) {
        store_unwatch(st);
        memset(token, 0, PIT_TOKEN_LEN + 1);
    }

    free(b);
    return rc;
}


/* What one change to an existing integration does. */
typedef struct {
    const char               *action;
    pit_rotation_op_t         op;
    int                       is_rotation;
    int                       is_delete;
    int64_t                   overlap_ms;
    const char               *name;
    const char               *description;
    const pit_scope_set_t    *scopes;
    char                     *token;
} pit_change_t;


/* Applies ch to new (a settled copy of old) in memory; fills detail. */
static pit_err_t
change_apply(pit_store_t *st, const pit_change_t *ch, pit_integration_t *new,
    int64_t now, char *detail, size_t cap)
{
    char       hash[PIT_HASH_HEX_LEN + 1], hint[PIT_HINT_LEN + 1];
    pit_err_t  rc;

    detail[0] = '\0';

    if (!ch->is_rotation) {
        if (ch->name != NULL) {
            rc = pit_name_validate(ch->name, strlen(ch->name));
            if (rc != PIT_OK) {
                return rc;
            }
            snprintf(new->name, sizeof(new->name), "%s", ch->name);
        }

        if (ch->description != NULL) {
            rc = pit_description_validate(ch->description,
                                          strlen(ch->description));
            if (rc != PIT_OK) {
                return rc;
            }
            snprintf(new->description, sizeof(new->description), "%s",
                     ch->description);
        }

        if (ch->scopes != NULL) {
            new->scopes = *ch->scopes;
        }

        new->updated_at_ms = now;
        snprintf(detail, cap, "%s%s%s", ch->name ? "name " : "",
                 ch->description ? "description " : "",
                 ch->scopes ? "scopes" : "");
        return PIT_OK;
    }

    switch (ch->op) {

    case PIT_OP_ROTATE_LATER:
    case PIT_OP_ROTATE_NOW:
        rc = store_new_token(st, ch->token, hash, hint);
        if (rc != PIT_OK) {
            return rc;
        }

        rc = ch->op == PIT_OP_ROTATE_LATER
             ? pit_rotation_rotate_later(new, now, ch->overlap_ms, hash, hint)
             : pit_rotation_rotate_now(new, now, hash, hint);
        snprintf(detail, cap, "token=%s", hint);
        return rc;

    case PIT_OP_CANCEL_ROTATION:
        return pit_rotation_cancel(new, now);

    default: /* PIT_OP_EXPIRE_NOW */
        return pit_rotation_expire_now(new, now);
    }
}


/* Queues the writes that turn old into new (or remove old entirely). */
static pit_err_t
change_batch(pit_store_t *st, pit_batch_t *b, const pit_change_t *ch,
    const pit_integration_t *old, const pit_integration_t *new,
    const char *detail, int64_t now)
{
    char       key[PIT_KEY_MAX];
    pit_err_t  rc;

    if (ch->is_delete) {
        rc = batch_dropped_tokens(st, b, old, NULL);

        if (rc == PIT_OK) {
            rc = pit_key_integration(key, sizeof(key), st->prefix, old->id);
        }
        if (rc == PIT_OK) {
            rc = batch_add(b, 2, "DEL", key);
        }
        if (rc == PIT_OK) {
            rc = pit_key_name(key, sizeof(key), st->prefix, old->account,
                              old->name);
        }
        if (rc == PIT_OK) {
            rc = batch_add(b, 2, "DEL", key);
        }
        if (rc == PIT_OK) {
            rc = pit_key_used(key, sizeof(key), st->prefix, old->id);
        }
        if (rc == PIT_OK) {
            rc = batch_add(b, 2, "DEL", key);
        }
        if (rc == PIT_OK) {
            rc = pit_key_account_index(key, sizeof(key), st->prefix,
                                       old->account);
        }
        if (rc == PIT_OK) {
            rc = batch_add(b, 3, "ZREM", key, old->id);
        }

        return rc == PIT_OK ? batch_audit(st, b, "delete", old->id, "", now)
                            : rc;
    }

    rc = batch_dropped_tokens(st, b, old, new);

    if (rc == PIT_OK && strcmp(old->name, new->name) != 0) {
        rc = pit_key_name(key, sizeof(key), st->prefix, old->account,
                          old->name);
        if (rc == PIT_OK) {
            rc = batch_add(b, 2, "DEL", key);
        }
        if (rc == PIT_OK) {
            rc = pit_key_name(key, sizeof(key), st->prefix, new->account,
                              new->name);
        }
        if (rc == PIT_OK) {
            rc = batch_add(b, 3, "SET", key, new->id);
        }
    }

    if (rc == PIT_OK) {
        rc = batch_integration(st, b, new);
    }

    if (rc == PIT_OK) {
        rc = batch_token_keys(st, b, new);
    }

    return rc == PIT_OK ? batch_audit(st, b, ch->action, new->id, detail, now)
                        : rc;
}


/* Runs one change under WATCH with bounded retries. */
static pit_err_t
store_change(pit_store_t *st, const char *iid, const pit_change_t *ch,
    pit_integration_t *out, int64_t now)
{
    char                key[PIT_KEY_MAX], detail[PIT_AUDIT_FIELD_MAX];
    pit_integration_t  *old, *new;
    pit_batch_t        *b;
    pit_err_t           rc;
    int                 attempt;

    rc = pit_key_integration(key, sizeof(key), st->prefix, iid);
    if (rc != PIT_OK || pit_id_validate(iid, strlen(iid)) != PIT_OK) {
        return PIT_ERR_NOT_FOUND;
    }

    old = malloc(sizeof(pit_integration_t));
    new = malloc(sizeof(pit_integration_t));
    b = batch_new();

    if (old == NULL || new == NULL || b == NULL) {
        rc = PIT_ERR_NOMEM;
        goto done;
    }

    for (attempt = 0; attempt < PIT_STORE_RETRIES; attempt++) {
        b->n = 0;
        b->used = 0;

        rc = store_watch(st, key);
        if (rc != PIT_OK) {
            break;
        }

        rc = store_read_integration(st, iid, old);
        if (rc != PIT_OK) {
            break;
        }

        *new = *old;
        (void) pit_rotation_settle(new, now);

        rc = change_apply(st, ch, new, now, detail, sizeof(detail));

        if (rc == PIT_OK && ch->name != NULL
            && strcmp(old->name, new->name) != 0)
        {
            rc = store_claim_name(st, new->account, new->name, new->id);
        }

        if (rc == PIT_OK) {
            rc = change_batch(st, b, ch, old, new, detail, now);
        }

        if (rc != PIT_OK) {
            break;
        }

        rc = batch_exec(st, b);
        if (rc != PIT_ERR_BUSY) {
            break;
        }
    }

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION) {
        store_unwatch(st);
        if (ch->token != NULL) {
            memset(ch->token, 0, PIT_TOKEN_LEN + 1);
        }

    } else if (out != NULL) {
        *out = *new;
    }

done:

    free(old);
    free(new);
    free(b);
    return rc;
}


pit_err_t
pit_store_edit(pit_store_t *st, const char *iid, const char *name,
    const char *description, const pit_scope_set_t *scopes,
    pit_integration_t *out, int64_t now)
{
    pit_change_t  ch;

    memset(&ch, 0, sizeof(ch));
    ch.action = "edit";
    ch.name = name;
    ch.description = description;
    ch.scopes = scopes;

    return store_change(st, iid, &ch, out, now);
}


pit_err_t
pit_store_rotate(pit_store_t *st, const char *iid, pit_rotation_op_t op,
    int64_t overlap_ms, char *token, pit_integration_t *out, int64_t now)
{
    static const char  *actions[] = {
        "rotate-later", "rotate-now", "cancel-rotation", "expire-now"
    };
    pit_change_t        ch;

    if ((unsigned) op > PIT_OP_EXPIRE_NOW) {
        return PIT_ERR_ARG;
    }

    if ((op == PIT_OP_ROTATE_LATER || op == PIT_OP_ROTATE_NOW)
        && token == NULL)
    {
        return PIT_ERR_ARG;
    }

    memset(&ch, 0, sizeof(ch));
    ch.action = actions[op];
    ch.op = op;
    ch.is_rotation = 1;
    ch.overlap_ms = overlap_ms;
    ch.token = (op == PIT_OP_ROTATE_LATER || op == PIT_OP_ROTATE_NOW)
               ? token : NULL;

    return store_change(st, iid, &ch, out, now);
}


pit_err_t
pit_store_delete(pit_store_t *st, const char *iid, int64_t now)
{
    pit_change_t  ch;

    memset(&ch, 0, sizeof(ch));
    ch.action = "delete";
    ch.is_delete = 1;

    return store_change(st, iid, &ch, NULL, now);
}


/* ------------------------------------------------------------------------
 * Audit
 * --------------------------------------------------------------------- */

/* Fills e from one XREVRANGE entry [id, [field, value, ...]]. */
static void
audit_entry_of(const redisReply *r, pit_audit_entry_t *e)
{
    const redisReply  *f, *k, *v;
    size_t             i;

    memset(e, 0, sizeof(*e));

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[1]->type != REDIS_REPLY_ARRAY)
    {
        return;
    }

    snprintf(e->id, sizeof(e->id), "%s", r->element[0]->str);
    f = r->element[1];

    for (i = 0; i + 1 < f->elements; i += 2) {
        k = f->element[i];
        v = f->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        if (strcmp(k->str, "at") == 0) {
            e->at_ms = strtoll(v->str, NULL, 10);

        } else if (strcmp(k->str, "who") == 0) {
            snprintf(e->who, sizeof(e->who), "%s", v->str);

        } else if (strcmp(k->str, "action") == 0) {
            snprintf(e->action, sizeof(e->action), "%s", v->str);

        } else if (strcmp(k->str, "iid") == 0) {
            snprintf(e->iid, sizeof(e->iid), "%s", v->str);

        } else if (strcmp(k->str, "detail") == 0) {
            snprintf(e->detail, sizeof(e->detail), "%s", v->str);
        }
    }
}


pit_err_t
pit_store_audit(pit_store_t *st, const char *iid, size_t limit,
    int (*fn)(const pit_audit_entry_t *e, void *arg), void *arg)
{
    char               key[PIT_KEY_MAX], end[80];
    const char        *argv[6];
    redisReply        *r;
    pit_audit_entry_t  e;
    pit_err_t          rc;
    size_t             i, seen;
    int                more;

    rc = pit_key_audit(key, sizeof(key), st->prefix);
    if (rc != PIT_OK) {
        return rc;
    }

    strcpy(end, "+");
    seen = 0;
    more = 1;

    /* Pages of 200, newest first, until limit entries matched. */
    while (more && seen < limit) {
        argv[0] = "XREVRANGE";
        argv[1] = key;
        argv[2] = end;
        argv[3] = "-";
        argv[4] = "COUNT";
        argv[5] = "200";

        r = store_cmd(st, 6, argv);
        if (r == NULL) {
            return PIT_ERR_REDIS;
        }

        if (r->type != REDIS_REPLY_ARRAY) {
            rc = store_fail(st, "XREVRANGE", r);
            freeReplyObject(r);
            return rc;
        }

        more = r->elements == 200;

        for (i = 0; i < r->elements && seen < limit; i++) {
            audit_entry_of(r->element[i], &e);
            if (e.id[0] == '\0') {
                continue;
            }

            /* the next page starts strictly before this entry */
            snprintf(end, sizeof(end), "(%s", e.id);

            if (iid != NULL && strcmp(iid, e.iid) != 0) {
                continue;
            }

            seen++;
            if (fn(&e, arg)) {
                more = 0;
                break;
            }
        }

        freeReplyObject(r);
    }

    return PIT_OK;
}
