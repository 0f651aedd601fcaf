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
 * With a redis-sentinel:// URL the store asks the sentinels for the
 * primary, and a change that fails because the primary moved under it
 * (connection lost, a timeout, -READONLY) is run again, whole, on the new
 * primary, within the failover timeout.  The rule that keeps a change from
 * being applied twice is in "Failover" below.
 *
 * This file is not part of the nginx module: it blocks.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "pit_admin.h"
#include "pit_meta.h"
#include "pit_record.h"
#include "pit_rotation.h"
#include "pit_schema.h"
#include "pit_store.h"

#define PIT_CMD_ARGS_MAX   24
#define PIT_BATCH_MAX      160     /* a catalogue of 1024 scopes: 114 HSETs */
#define PIT_HSET_PAIRS     ((PIT_CMD_ARGS_MAX - 2) / 2)
#define PIT_ARENA_SIZE     (8 * PIT_JSON_MAX)

#define PIT_SENTINEL_TIMEOUT_MS  1000     /* connect and reply, per sentinel */
#define PIT_FAILOVER_PAUSE_MS    100      /* between rounds of the sentinels */
#define PIT_MARKER_SCAN_MAX      (2 * PIT_AUDIT_MAXLEN)

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

        /* A replica (a demoted primary), or a node not ready yet. */
        if (strncmp(r->str, "READONLY", 8) == 0
            || strncmp(r->str, "LOADING", 7) == 0
            || strncmp(r->str, "MASTERDOWN", 10) == 0)
        {
            st->moved = 1;
        }

    } else if (st->c != NULL && st->c->err) {
        snprintf(st->err, sizeof(st->err), "%s: %s", what, st->c->errstr);
        st->moved = 1;              /* connection lost, or a timeout */

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

    if (st->c == NULL) {
        snprintf(st->err, sizeof(st->err), "%s: no connection", argv[0]);
        return NULL;
    }

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


/* Returns a monotonic clock in ms. */
static int64_t
store_clock_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * Runs a command expecting a status reply on c (not yet st->c); returns
 * PIT_OK or PIT_ERR_REDIS with st->err saying where.
 */
static pit_err_t
node_simple(pit_store_t *st, redisContext *c, const char *where, int argc,
    const char **argv)
{
    redisReply  *r;
    pit_err_t    rc;

    r = redisCommandArgv(c, argc, argv, NULL);
    if (r == NULL) {
        snprintf(st->err, sizeof(st->err), "%.200s: %s: %.200s", where,
                 argv[0], c->errstr);
        return PIT_ERR_REDIS;
    }

    rc = PIT_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(st->err, sizeof(st->err), "%.200s: %s: %.200s", where,
                 argv[0], r->str);
        rc = PIT_ERR_REDIS;
    }

    freeReplyObject(r);
    return rc;
}


/*
 * Connects to a node (path for a unix socket, else host:port) within
 * timeout_ms, then sends AUTH and SELECT as asked.  Returns the context,
 * or NULL with st->err set.
 */
static redisContext *
node_open(pit_store_t *st, const char *host, int port, const char *path,
    const char *user, const char *password, int db, int timeout_ms)
{
    redisContext    *c;
    struct timeval   tv;
    char             where[PIT_URL_PATH_MAX + PIT_URL_HOST_MAX + 16];
    char             dbs[16];
    const char      *argv[3];
    pit_err_t        rc;

    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;

    if (path != NULL) {
        snprintf(where, sizeof(where), "%s", path);
        c = redisConnectUnixWithTimeout(path, tv);

    } else {
        snprintf(where, sizeof(where), strchr(host, ':') ? "[%s]:%d"
                                                         : "%s:%d",
                 host, port);
        c = redisConnectWithTimeout(host, port, tv);
    }

    if (c == NULL) {
        snprintf(st->err, sizeof(st->err), "cannot allocate a connection");
        return NULL;
    }

    if (c->err) {
        snprintf(st->err, sizeof(st->err), "cannot connect to %.200s: %.200s",
                 where, c->errstr);
        redisFree(c);
        return NULL;
    }

    rc = PIT_OK;
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        snprintf(st->err, sizeof(st->err), "%.200s: cannot set a timeout",
                 where);
        rc = PIT_ERR_REDIS;
    }

    if (rc == PIT_OK && password[0] != '\0') {
        argv[0] = "AUTH";
        if (user[0] != '\0') {
            argv[1] = user;
            argv[2] = password;
            rc = node_simple(st, c, where, 3, argv);

        } else {
            argv[1] = password;
            rc = node_simple(st, c, where, 2, argv);
        }
    }

    if (rc == PIT_OK && db != 0) {
        snprintf(dbs, sizeof(dbs), "%d", db);
        argv[0] = "SELECT";
        argv[1] = dbs;
        rc = node_simple(st, c, where, 2, argv);
    }

    if (rc != PIT_OK) {
        redisFree(c);
        return NULL;
    }

    return c;
}


/*
 * Asks sentinel i for the master's address.  Returns PIT_OK with host and
 * *port set, or PIT_ERR_REDIS (st->err says why) with *answered 1 when
 * the sentinel replied (no such master, an error), 0 when it did not.
 */
static pit_err_t
sentinel_ask(pit_store_t *st, size_t i, char *host, int *port,
    int *answered)
{
    const pit_redis_addr_t  *a = &st->url.sentinels[i];
    const char              *argv[3];
    redisContext            *c;
    redisReply              *r;
    pit_err_t                rc;
    int                      ms;

    *answered = 0;
    ms = st->timeout_ms < PIT_SENTINEL_TIMEOUT_MS ? st->timeout_ms
                                                  : PIT_SENTINEL_TIMEOUT_MS;

    c = node_open(st, a->host, a->port, NULL, st->url.sentinel_user,
                  st->url.sentinel_password, 0, ms);
    if (c == NULL) {
        return PIT_ERR_REDIS;
    }

    argv[0] = "SENTINEL";
    argv[1] = "get-master-addr-by-name";
    argv[2] = st->url.master;

    r = redisCommandArgv(c, 3, argv, NULL);
    rc = PIT_ERR_REDIS;

    if (r == NULL) {
        snprintf(st->err, sizeof(st->err), "sentinel %.200s:%d: %.200s",
                 a->host, a->port, c->errstr);

    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
               && r->element[0]->type == REDIS_REPLY_STRING
               && r->element[1]->type == REDIS_REPLY_STRING
               && r->element[0]->len <= PIT_URL_HOST_MAX
               && r->element[0]->len > 0)
    {
        *answered = 1;
        memcpy(host, r->element[0]->str, r->element[0]->len);
        host[r->element[0]->len] = '\0';
        *port = atoi(r->element[1]->str);
        rc = (*port > 0 && *port < 65536) ? PIT_OK : PIT_ERR_REDIS;
        if (rc != PIT_OK) {
            snprintf(st->err, sizeof(st->err), "sentinel %.200s:%d: bad "
                     "address for %s", a->host, a->port, st->url.master);
        }

    } else {
        *answered = (r->type != REDIS_REPLY_ERROR
                     || strncmp(r->str, "NOAUTH", 6) != 0);
        snprintf(st->err, sizeof(st->err), "sentinel %.200s:%d: %.200s",
                 a->host, a->port,
                 r->type == REDIS_REPLY_ERROR ? r->str
                 : r->type == REDIS_REPLY_NIL ? "unknown master name"
                 : "unexpected reply");
    }

    if (r != NULL) {
        freeReplyObject(r);
    }

    redisFree(c);
    return rc;
}


/*
 * Connects to host:port with the data nodes' credentials and checks with
 * ROLE that it is a master: a sentinel may still name a primary that was
 * demoted.  Returns the context, or NULL with st->err set.
 */
static redisContext *
primary_open(pit_store_t *st, const char *host, int port)
{
    static const char  *role[] = { "ROLE" };
    redisContext       *c;
    redisReply         *r;
    int                 ok;

    c = node_open(st, host, port, NULL, st->url.user, st->url.password,
                  st->url.db, st->timeout_ms);
    if (c == NULL) {
        return NULL;
    }

    r = redisCommandArgv(c, 1, role, NULL);
    ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0
         && r->element[0]->type == REDIS_REPLY_STRING
         && strcmp(r->element[0]->str, "master") == 0;

    if (!ok) {
        snprintf(st->err, sizeof(st->err), "%.200s:%d is not a primary "
                 "(ROLE: %.200s)", host, port,
                 r == NULL ? c->errstr
                 : r->type == REDIS_REPLY_ERROR ? r->str
                 : r->type == REDIS_REPLY_ARRAY && r->elements > 0
                   && r->element[0]->type == REDIS_REPLY_STRING
                 ? r->element[0]->str : "unexpected reply");
        redisFree(c);
        c = NULL;
    }

    if (r != NULL) {
        freeReplyObject(r);
    }

    return c;
}


/*
 * Finds the primary through the sentinels, in the order of the URL, and
 * makes it st->c.  A round asks every sentinel; rounds repeat every
 * PIT_FAILOVER_PAUSE_MS until st->deadline (the failover takes the
 * sentinels a few seconds).  Returns PIT_OK, or PIT_ERR_NO_PRIMARY at the
 * deadline, or at once when no sentinel at all answered a round (they are
 * down or refuse us: waiting would not help).
 */
static pit_err_t
store_find_primary(pit_store_t *st)
{
    char           host[PIT_URL_HOST_MAX + 1], last[sizeof(st->err)];
    redisContext  *c;
    size_t         i;
    int            port, answered, any;
    int64_t        now;

    if (st->c != NULL) {
        redisFree(st->c);
        st->c = NULL;
    }

    if (st->deadline == 0) {
        st->deadline = store_clock_ms() + st->failover_ms;
    }

    for ( ;; ) {
        any = 0;

        for (i = 0; i < st->url.nsentinels; i++) {
            if (sentinel_ask(st, i, host, &port, &answered) != PIT_OK) {
                any |= answered;
                continue;
            }

            any = 1;
            c = primary_open(st, host, port);
            if (c != NULL) {
                st->c = c;
                st->moved = 0;
                snprintf(st->primary, sizeof(st->primary), "%s:%d", host,
                         port);
                return PIT_OK;
            }
        }

        snprintf(last, sizeof(last), "%s", st->err);

        if (!any) {
            snprintf(st->err, sizeof(st->err), "no sentinel answered "
                     "(last: %.400s)", last);
            return PIT_ERR_NO_PRIMARY;
        }

        now = store_clock_ms();
        if (now >= st->deadline) {
            if (st->failover_ms % 1000 == 0) {
                snprintf(st->err, sizeof(st->err), "no primary answered "
                         "within %d s (last: %.400s)",
                         st->failover_ms / 1000, last);
            } else {
                snprintf(st->err, sizeof(st->err), "no primary answered "
                         "within %d ms (last: %.400s)", st->failover_ms,
                         last);
            }
            return PIT_ERR_NO_PRIMARY;
        }

        if (st->wait == NULL) {
            snprintf(st->err, sizeof(st->err), "no primary answered "
                     "(last: %.400s)", last);
            return PIT_ERR_NO_PRIMARY;
        }

        st->wait((int) (st->deadline - now < PIT_FAILOVER_PAUSE_MS
                        ? st->deadline - now : PIT_FAILOVER_PAUSE_MS));
    }
}


pit_err_t
pit_store_open_failover(pit_store_t **out, const pit_redis_url_t *url,
    const char *prefix, int timeout_ms, int failover_ms,
    pit_store_wait_pt wait)
{
    pit_store_t  *st;

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
    st->url = *url;
    st->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    st->failover_ms = failover_ms > 0 ? failover_ms : 0;
    st->wait = wait;

    if (url->sentinel) {
        return store_find_primary(st);
    }

    st->c = node_open(st, url->host, url->port,
                      url->unix_socket ? url->path : NULL, url->user,
                      url->password, url->db, st->timeout_ms);

    return st->c != NULL ? PIT_OK : PIT_ERR_REDIS;
}


pit_err_t
pit_store_open(pit_store_t **out, const pit_redis_url_t *url,
    const char *prefix, int timeout_ms)
{
    return pit_store_open_failover(out, url, prefix, timeout_ms,
                                   PIT_STORE_FAILOVER_MS, NULL);
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
    memset(&st->url, 0, sizeof(st->url));
    free(st);
}


const char *
pit_store_error(const pit_store_t *st)
{
    return st == NULL ? "" : st->err;
}


const char *
pit_store_primary(const pit_store_t *st)
{
    return st == NULL ? "" : st->primary;
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


void
pit_store_set_peer(pit_store_t *st, const char *peer)
{
    snprintf(st->peer, sizeof(st->peer), "%s", peer ? peer : "");
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


/* Queues a command of argc NUL-terminated arguments argv; returns PIT_OK
 * or PIT_ERR_TOO_LARGE. */
static pit_err_t
batch_add_argv(pit_batch_t *b, int argc, const char **argv)
{
    pit_cmd_t  *cmd;
    int         i;

    if (b->n == PIT_BATCH_MAX || argc > PIT_CMD_ARGS_MAX) {
        return PIT_ERR_TOO_LARGE;
    }

    cmd = &b->cmds[b->n];
    cmd->argc = argc;

    for (i = 0; i < argc; i++) {
        cmd->argvlen[i] = strlen(argv[i]);
        cmd->argv[i] = batch_copy(b, argv[i], cmd->argvlen[i]);
        if (cmd->argv[i] == NULL) {
            return PIT_ERR_TOO_LARGE;
        }
    }

    b->n++;
    return PIT_OK;
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
        /* Applied on a primary that is now gone: whether the new one has
         * it depends on replication, so it is as unknown as a lost EXEC. */
        st->maybe_applied = 1;
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
            /* the first read flushed the pipeline: EXEC may have run */
            st->maybe_applied = 1;
            return store_fail(st, "MULTI", NULL);
        }

        if (r->type == REDIS_REPLY_ERROR && rc == PIT_OK) {
            rc = store_fail(st, i == 0 ? "MULTI" : b->cmds[i - 1].argv[0],
                            r);
        }

        freeReplyObject(r);
    }

    if (redisGetReply(st->c, (void **) &r) != REDIS_OK) {
        st->maybe_applied = 1;
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


/* Writes a SCAN pattern: the prefix with glob characters escaped, then
 * the glob suffix as given. */
static pit_err_t
store_pattern(pit_store_t *st, const char *suffix, char *buf, size_t cap)
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

    if (n + strlen(suffix) + 1 > cap) {
        return PIT_ERR_TOO_LARGE;
    }

    memcpy(buf + n, suffix, strlen(suffix) + 1);
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

    rc = store_pattern(st, "ints:*", pattern, sizeof(pattern));
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


/*
 * Walks the audit stream newest first, in XREVRANGE pages of page entries,
 * calling visit with each well-formed entry [id, [field, value, ...]]
 * until visit returns non-zero or at least max entries were read.
 * Returns PIT_OK if visit stopped the walk, PIT_ERR_NOT_FOUND if the
 * stream or max ran out first, or PIT_ERR_REDIS.
 */
static pit_err_t
store_audit_walk(pit_store_t *st, size_t page, size_t max,
    int (*visit)(const redisReply *e, void *arg), void *arg)
{
    char               key[PIT_KEY_MAX], end[80], count[24];
    const char        *argv[6];
    const redisReply  *e;
    redisReply        *r;
    pit_err_t          rc;
    size_t             i, seen;
    int                more;

    rc = pit_key_audit(key, sizeof(key), st->prefix);
    if (rc != PIT_OK) {
        return rc;
    }

    snprintf(count, sizeof(count), "%zu", page);
    strcpy(end, "+");
    seen = 0;
    more = 1;

    while (more && seen < max) {
        argv[0] = "XREVRANGE";
        argv[1] = key;
        argv[2] = end;
        argv[3] = "-";
        argv[4] = "COUNT";
        argv[5] = count;

        r = store_cmd(st, 6, argv);
        if (r == NULL) {
            return PIT_ERR_REDIS;
        }

        if (r->type != REDIS_REPLY_ARRAY) {
            rc = store_fail(st, "XREVRANGE", r);
            freeReplyObject(r);
            return rc;
        }

        more = r->elements == page;
        seen += r->elements;

        for (i = 0; i < r->elements; i++) {
            e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
                || e->element[0]->type != REDIS_REPLY_STRING
                || e->element[1]->type != REDIS_REPLY_ARRAY)
            {
                continue;
            }

            /* the next page starts strictly before this entry */
            snprintf(end, sizeof(end), "(%s", e->element[0]->str);

            if (visit(e, arg)) {
                freeReplyObject(r);
                return PIT_OK;
            }
        }

        freeReplyObject(r);
    }

    return PIT_ERR_NOT_FOUND;
}


/* ------------------------------------------------------------------------
 * Failover
 *
 * The rule that keeps a change from being applied twice:
 *
 *   - every change has a random id, drawn once before its first attempt
 *     (st->marker), and written with it, in the same MULTI/EXEC, as the
 *     field "change" of its audit entry: the entry exists if and only if
 *     the change was applied;
 *   - a failure before the pipeline MULTI ... EXEC went out (WATCH, the
 *     reads, a -READONLY that made Redis discard the transaction) leaves
 *     nothing applied: the change simply runs again on the new primary;
 *   - once the pipeline went out and its reply was lost (or EXEC succeeded
 *     and the connection broke before WAIT answered), the outcome is
 *     unknown (st->maybe_applied, never cleared for this change).  Every
 *     later attempt, after WATCHing the keys it will write and before
 *     anything else, looks for the audit entry on the new primary: found,
 *     the change is done (reported as success, with the same token, which
 *     is drawn once per change too); absent, the change is run again.  A
 *     lost EXEC that still lands after that look (the same primary, merely
 *     slow) writes a WATCHed key, so the retry's EXEC is refused and the
 *     next attempt finds the entry;
 *   - "applied" means applied on the primary that now serves: an EXEC that
 *     a dead primary ran but never replicated is gone with it, and running
 *     the change again is right;
 *   - when no primary answers before the failover deadline, the change
 *     fails with PIT_ERR_NO_PRIMARY (nothing was sent, or it was proven
 *     absent and its retry never went out) or PIT_ERR_MAYBE_APPLIED.
 * --------------------------------------------------------------------- */

/* Starts a change: a fresh marker and no unknown outcome yet. */
static pit_err_t
store_change_begin(pit_store_t *st)
{
    st->maybe_applied = 0;
    st->moved = 0;

    return pit_id_generate(st->marker);
}


/*
 * Returns 1 if the audit entry e (well formed, see store_audit_walk()) has
 * the field "change" equal to the marker arg, else 0.
 */
static int
store_marker_visit(const redisReply *e, void *arg)
{
    const char        *marker = arg;
    const redisReply  *f;
    size_t             j;

    f = e->element[1];

    for (j = 0; j + 1 < f->elements; j += 2) {
        if (f->element[j]->type == REDIS_REPLY_STRING
            && f->element[j + 1]->type == REDIS_REPLY_STRING
            && strcmp(f->element[j]->str, "change") == 0
            && strcmp(f->element[j + 1]->str, marker) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Looks for the audit entry of the current change, newest first, among
 * at most PIT_MARKER_SCAN_MAX entries (the stream is capped near
 * PIT_AUDIT_MAXLEN).  Returns PIT_OK if found, PIT_ERR_NOT_FOUND if not,
 * PIT_ERR_REDIS.
 */
static pit_err_t
store_marker_find(pit_store_t *st)
{
    return store_audit_walk(st, 500, PIT_MARKER_SCAN_MAX, store_marker_visit,
                            st->marker);
}


/*
 * Called with the outcome of a change's attempts: returns 1 when the
 * primary moved and a new one was found (the caller runs the change
 * again), else 0 with *rc final.  Only sentinel URLs fail over; a plain
 * URL reports PIT_ERR_REDIS as it always did.
 */
static int
store_failover(pit_store_t *st, pit_err_t *rc)
{
    if (*rc == PIT_OK || *rc == PIT_ERR_REPLICATION || !st->url.sentinel
        || !st->moved)
    {
        return 0;
    }

    if (store_find_primary(st) == PIT_OK) {
        return 1;
    }

    *rc = st->maybe_applied ? PIT_ERR_MAYBE_APPLIED : PIT_ERR_NO_PRIMARY;
    return 0;
}


/* ------------------------------------------------------------------------
 * Writes
 * --------------------------------------------------------------------- */

/* Queues an audit entry: who did what to which integration, never a
 * token (detail carries hints at most). */
static pit_err_t
batch_audit_fields(pit_store_t *st, pit_batch_t *b, const char *action,
    const char *iid, const char *name, const char *acct, const char *detail,
    int64_t now)
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

    if (st->peer[0] != '\0') {
        return batch_add(b, 24, "XADD", key, "MAXLEN", "~", maxlen, "*",
                         "at", at, "who", st->actor, "action", action,
                         "iid", iid, "name", name, "acct", acct,
                         "detail", detail, "change", st->marker,
                         "peer", st->peer);
    }

    return batch_add(b, 22, "XADD", key, "MAXLEN", "~", maxlen, "*",
                     "at", at, "who", st->actor, "action", action,
                     "iid", iid, "name", name, "acct", acct,
                     "detail", detail, "change", st->marker);
}


static pit_err_t
batch_audit(pit_store_t *st, pit_batch_t *b, const char *action,
    const pit_integration_t *in, const char *detail, int64_t now)
{
    return batch_audit_fields(st, b, action, in ? in->id : "",
                              in ? in->name : "", in ? in->account : "",
                              detail, now);
}


/* Returns "hash=MODE key=FINGERPRINT" (or "hash=sha256") for messages. */
static const char *
meta_describe(const pit_meta_t *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "hash=%s%s%s", pit_hash_mode_name(m->hash),
             m->fingerprint[0] ? " key=" : "", m->fingerprint);
    return buf;
}


/*
 * WATCHes and reads the store mark before a change: queues its SET when
 * there is none; refuses with PIT_ERR_META when it names another hash
 * mode or key, or does not decode, unless st->force_meta (then it is
 * overwritten and an audit entry "force-meta" says what it was).
 */
static pit_err_t
store_meta_guard(pit_store_t *st, pit_batch_t *b, int64_t now)
{
    char        key[PIT_KEY_MAX], json[PIT_META_JSON_MAX + 1];
    char        was[64], mine_s[64], detail[PIT_AUDIT_FIELD_MAX];
    pit_meta_t  mine, theirs;
    size_t      len;
    pit_err_t   rc, got;

    rc = pit_key_meta(key, sizeof(key), st->prefix);
    if (rc == PIT_OK) {
        rc = store_watch(st, key);
    }
    if (rc == PIT_OK) {
        rc = pit_store_meta_mine(st, &mine, now);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    got = store_get(st, key, json, sizeof(json), &len);
    if (got == PIT_OK) {
        got = pit_meta_from_json(json, len, &theirs) == PIT_OK
              ? PIT_OK : PIT_ERR_CORRUPT;
        if (got == PIT_OK && pit_meta_same_key(&theirs, &mine)) {
            return PIT_OK;
        }

    } else if (got != PIT_ERR_NOT_FOUND && got != PIT_ERR_CORRUPT) {
        return got;
    }

    if (got != PIT_ERR_NOT_FOUND) {
        if (got == PIT_OK) {
            meta_describe(&theirs, was, sizeof(was));
        } else {
            snprintf(was, sizeof(was), "unreadable");
        }
        meta_describe(&mine, mine_s, sizeof(mine_s));

        if (!st->force_meta) {
            snprintf(st->err, sizeof(st->err), "%s is marked %s, and pitctl "
                     "hashes with %s", key, was, mine_s);
            return PIT_ERR_META;
        }

        snprintf(detail, sizeof(detail), "%s (was %s)", mine_s, was);
        rc = batch_audit(st, b, "force-meta", NULL, detail, now);
        if (rc != PIT_OK) {
            return rc;
        }
    }

    rc = pit_meta_to_json(&mine, json, sizeof(json), &len);
    return rc == PIT_OK ? batch_add(b, 3, "SET", key, json) : rc;
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


/*
 * The attempts of one create on the current primary, retried while a
 * watched key changes.  Returns PIT_OK also when the marker shows that an
 * earlier attempt was applied.
 */
static pit_err_t
store_create_attempts(pit_store_t *st, pit_batch_t *b, pit_integration_t *in,
    const char *score, const char *detail, int64_t now)
{
    char       key[PIT_KEY_MAX];
    pit_err_t  rc;
    int        attempt;

    rc = PIT_OK;

    for (attempt = 0; attempt < PIT_STORE_RETRIES; attempt++) {
        b->n = 0;
        b->used = 0;

        /* The name may be held by this very create (in->id is fresh). */
        rc = store_claim_name(st, in->account, in->name, in->id);
        if (rc != PIT_OK) {
            break;
        }

        if (st->maybe_applied) {
            rc = store_marker_find(st);
            if (rc == PIT_OK) {
                store_unwatch(st);
                return store_wait(st);
            }
            if (rc != PIT_ERR_NOT_FOUND) {
                break;
            }
        }

        rc = store_meta_guard(st, b, now);
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
            rc = batch_audit(st, b, "create", in, detail, now);
        }

        if (rc != PIT_OK) {
            break;
        }

        rc = batch_exec(st, b);
        if (rc != PIT_ERR_BUSY) {
            break;
        }
    }

    return rc;
}


pit_err_t
pit_store_create(pit_store_t *st, pit_integration_t *in, char *token,
    int64_t now)
{
    char          score[32], detail[PIT_AUDIT_FIELD_MAX];
    pit_batch_t  *b;
    pit_err_t     rc;

    rc = integration_validate_input(in);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_id_generate(in->id);
    if (rc == PIT_OK) {
        rc = store_change_begin(st);
    }

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

    do {
        rc = store_create_attempts(st, b, in, score, detail, now);
    } while (store_failover(st, &rc));

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION) {
        if (st->c != NULL && !st->c->err) {
            store_unwatch(st);
        }
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
    char                      hash[PIT_HASH_HEX_LEN + 1];  /* of token */
    char                      hint[PIT_HINT_LEN + 1];
    const pit_store_expect_t *expect;    /* NULL: any integration */
} pit_change_t;


/*
 * Checks what the caller expects of the integration it changes: its
 * account first (another account's integration does not exist for this
 * caller, whatever else is true of it), then its version, settled now.
 */
static pit_err_t
change_expect(const pit_change_t *ch, const pit_integration_t *old,
    const pit_integration_t *settled)
{
    char       etag[PIT_ETAG_LEN + 1];
    pit_err_t  rc;

    if (ch->expect == NULL) {
        return PIT_OK;
    }

    if (ch->expect->account != NULL
        && strcmp(old->account, ch->expect->account) != 0)
    {
        return PIT_ERR_NOT_FOUND;
    }

    if (ch->expect->etag == NULL) {
        return PIT_OK;
    }

    rc = pit_integration_etag(settled, etag);
    if (rc != PIT_OK) {
        return rc;
    }

    return strcmp(etag, ch->expect->etag) == 0 ? PIT_OK : PIT_ERR_STALE;
}


/* Applies ch to new (a settled copy of old) in memory; fills detail. */
static pit_err_t
change_apply(const pit_change_t *ch, pit_integration_t *new, int64_t now,
    char *detail, size_t cap)
{
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
        /* the token was drawn once for the change: every attempt, and an
         * attempt found applied after a failover, carry the same one */
        rc = ch->op == PIT_OP_ROTATE_LATER
             ? pit_rotation_rotate_later(new, now, ch->overlap_ms, ch->hash,
                                         ch->hint)
             : pit_rotation_rotate_now(new, now, ch->hash, ch->hint);
        snprintf(detail, cap, "token=%s", ch->hint);
        return rc;

    case PIT_OP_CANCEL_ROTATION:
        return pit_rotation_cancel(new, now);

    default: /* PIT_OP_EXPIRE_NOW */
        return pit_rotation_expire_now(new, now);
    }
}


/* Queues the removal of every key of old (its tokens, record, name,
 * last-use times and index entry). */
static pit_err_t
batch_delete_integration(pit_store_t *st, pit_batch_t *b,
    const pit_integration_t *old)
{
    char       key[PIT_KEY_MAX];
    pit_err_t  rc;

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

    return rc;
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
        rc = batch_delete_integration(st, b, old);

        return rc == PIT_OK ? batch_audit(st, b, "delete", old, "", now)
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

    return rc == PIT_OK ? batch_audit(st, b, ch->action, new, detail, now)
                        : rc;
}


/*
 * The attempts of one change on the current primary, retried while a
 * watched key changes.  Returns PIT_OK also when the marker shows that an
 * earlier attempt was applied; new then holds the record as it is now.
 */
static pit_err_t
store_change_attempts(pit_store_t *st, pit_batch_t *b, const char *key,
    const char *iid, const pit_change_t *ch, pit_integration_t *old,
    pit_integration_t *new, int64_t now)
{
    char       detail[PIT_AUDIT_FIELD_MAX];
    pit_err_t  rc;
    int        attempt;

    rc = PIT_OK;

    for (attempt = 0; attempt < PIT_STORE_RETRIES; attempt++) {
        b->n = 0;
        b->used = 0;

        rc = store_watch(st, key);
        if (rc != PIT_OK) {
            break;
        }

        if (st->maybe_applied) {
            rc = store_marker_find(st);
            if (rc == PIT_OK) {
                store_unwatch(st);
                if (!ch->is_delete) {
                    rc = pit_store_get(st, iid, new, now);
                }
                return rc == PIT_OK ? store_wait(st) : rc;
            }
            if (rc != PIT_ERR_NOT_FOUND) {
                break;
            }
        }

        rc = store_read_integration(st, iid, old);
        if (rc == PIT_OK && ch->expect != NULL) {
            *new = *old;
            (void) pit_rotation_settle(new, now);
            rc = change_expect(ch, old, new);
        }
        if (rc == PIT_OK) {
            rc = store_meta_guard(st, b, now);
        }
        if (rc != PIT_OK) {
            break;
        }

        *new = *old;
        (void) pit_rotation_settle(new, now);

        rc = change_apply(ch, new, now, detail, sizeof(detail));

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

    return rc;
}


/* Runs one change under WATCH with bounded retries, failing over to a new
 * primary as the Failover section says. */
static pit_err_t
store_change(pit_store_t *st, const char *iid, pit_change_t *ch,
    pit_integration_t *out, int64_t now)
{
    char                key[PIT_KEY_MAX];
    pit_integration_t  *old, *new;
    pit_batch_t        *b;
    pit_err_t           rc;

    rc = pit_key_integration(key, sizeof(key), st->prefix, iid);
    if (rc != PIT_OK || pit_id_validate(iid, strlen(iid)) != PIT_OK) {
        return PIT_ERR_NOT_FOUND;
    }

    rc = store_change_begin(st);
    if (rc == PIT_OK && ch->token != NULL) {
        rc = store_new_token(st, ch->token, ch->hash, ch->hint);
    }

    if (rc != PIT_OK) {
        return rc;
    }

    old = malloc(sizeof(pit_integration_t));
    new = malloc(sizeof(pit_integration_t));
    b = batch_new();

    if (old == NULL || new == NULL || b == NULL) {
        rc = PIT_ERR_NOMEM;
        goto done;
    }

    do {
        rc = store_change_attempts(st, b, key, iid, ch, old, new, now);
    } while (store_failover(st, &rc));

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION) {
        if (st->c != NULL && !st->c->err) {
            store_unwatch(st);
        }

    } else if (out != NULL) {
        *out = *new;
    }

done:

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION && ch->token != NULL) {
        memset(ch->token, 0, PIT_TOKEN_LEN + 1);
    }

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
    return pit_store_edit_if(st, NULL, iid, name, description, scopes, out,
                             now);
}


pit_err_t
pit_store_edit_if(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, const char *name, const char *description,
    const pit_scope_set_t *scopes, pit_integration_t *out, int64_t now)
{
    pit_change_t  ch;

    memset(&ch, 0, sizeof(ch));
    ch.action = "edit";
    ch.name = name;
    ch.description = description;
    ch.scopes = scopes;
    ch.expect = ex;

    return store_change(st, iid, &ch, out, now);
}


pit_err_t
pit_store_rotate(pit_store_t *st, const char *iid, pit_rotation_op_t op,
    int64_t overlap_ms, char *token, pit_integration_t *out, int64_t now)
{
    return pit_store_rotate_if(st, NULL, iid, op, overlap_ms, token, out,
                               now);
}


pit_err_t
pit_store_rotate_if(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, pit_rotation_op_t op, int64_t overlap_ms, char *token,
    pit_integration_t *out, int64_t now)
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
    ch.expect = ex;

    return store_change(st, iid, &ch, out, now);
}


pit_err_t
pit_store_delete(pit_store_t *st, const char *iid, int64_t now)
{
    return pit_store_delete_if(st, NULL, iid, now);
}


pit_err_t
pit_store_delete_if(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, int64_t now)
{
    pit_change_t  ch;

    memset(&ch, 0, sizeof(ch));
    ch.action = "delete";
    ch.is_delete = 1;
    ch.expect = ex;

    return store_change(st, iid, &ch, NULL, now);
}


pit_err_t
pit_store_get_if(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, pit_integration_t *in, int64_t now)
{
    pit_err_t  rc;

    rc = pit_store_get(st, iid, in, now);
    if (rc == PIT_OK && ex != NULL && ex->account != NULL
        && strcmp(in->account, ex->account) != 0)
    {
        memset(in, 0, sizeof(*in));
        rc = PIT_ERR_NOT_FOUND;
    }

    return rc;
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

        } else if (strcmp(k->str, "name") == 0) {
            snprintf(e->name, sizeof(e->name), "%s", v->str);

        } else if (strcmp(k->str, "acct") == 0) {
            snprintf(e->account, sizeof(e->account), "%s", v->str);

        } else if (strcmp(k->str, "detail") == 0) {
            snprintf(e->detail, sizeof(e->detail), "%s", v->str);

        } else if (strcmp(k->str, "peer") == 0) {
            snprintf(e->peer, sizeof(e->peer), "%s", v->str);
        }
    }
}


pit_err_t
pit_store_audit(pit_store_t *st, const char *iid, size_t limit,
    int (*fn)(const pit_audit_entry_t *e, void *arg), void *arg)
{
    pit_audit_filter_t  f;

    memset(&f, 0, sizeof(f));
    f.iid = iid;
    f.limit = limit;

    return pit_store_audit_query(st, &f, fn, arg);
}


/* Returns 1 if e is one of the entries f selects. */
static int
audit_selected(const pit_audit_filter_t *f, const pit_audit_entry_t *e)
{
    return (f->iid == NULL || strcmp(f->iid, e->iid) == 0)
           && (f->account == NULL || strcmp(f->account, e->account) == 0)
           && (f->since_ms == 0 || e->at_ms >= f->since_ms);
}


/* What audit_visit() needs: the query, its callback, the count so far. */
typedef struct {
    const pit_audit_filter_t  *f;
    int                      (*fn)(const pit_audit_entry_t *e, void *arg);
    void                      *arg;
    size_t                     seen;       /* entries f selected so far */
} audit_walk_t;


/*
 * Passes the stream entry r to the query's callback if the filter selects
 * it.  Returns 1 (stop) when the callback asks to or the limit is reached,
 * else 0.
 */
static int
audit_visit(const redisReply *r, void *arg)
{
    audit_walk_t       *w = arg;
    pit_audit_entry_t   e;

    audit_entry_of(r, &e);
    if (e.id[0] == '\0' || !audit_selected(w->f, &e)) {
        return 0;
    }

    w->seen++;

    return w->fn(&e, w->arg) || w->seen >= w->f->limit;
}


pit_err_t
pit_store_audit_query(pit_store_t *st, const pit_audit_filter_t *f,
    int (*fn)(const pit_audit_entry_t *e, void *arg), void *arg)
{
    audit_walk_t  w;
    pit_err_t     rc;

    if (f->limit == 0) {
        return PIT_OK;
    }

    w.f = f;
    w.fn = fn;
    w.arg = arg;
    w.seen = 0;

    /* Pages of 200, newest first, until limit entries matched. */
    rc = store_audit_walk(st, 200, SIZE_MAX, audit_visit, &w);

    return rc == PIT_ERR_NOT_FOUND ? PIT_OK : rc;
}



/* ------------------------------------------------------------------------
 * The store mark
 * --------------------------------------------------------------------- */

void
pit_store_set_force_meta(pit_store_t *st, int force)
{
    st->force_meta = force != 0;
}


pit_err_t
pit_store_meta_mine(const pit_store_t *st, pit_meta_t *m, int64_t now)
{
    return pit_meta_init(m, st->hash_key_len ? st->hash_key : NULL,
                         st->hash_key_len, now);
}


pit_err_t
pit_store_meta_get(pit_store_t *st, pit_meta_t *m)
{
    char       key[PIT_KEY_MAX], json[PIT_META_JSON_MAX + 1];
    size_t     len;
    pit_err_t  rc;

    rc = pit_key_meta(key, sizeof(key), st->prefix);
    if (rc == PIT_OK) {
        rc = store_get(st, key, json, sizeof(json), &len);
    }

    if (rc == PIT_OK && pit_meta_from_json(json, len, m) != PIT_OK) {
        snprintf(st->err, sizeof(st->err), "%.400s does not decode", key);
        rc = PIT_ERR_CORRUPT;
    }

    return rc;
}


/* ------------------------------------------------------------------------
 * The scope catalogue (<prefix>scopes: name -> label)
 * --------------------------------------------------------------------- */

/* Reads the stored catalogue into cl; *stored 0 (cl empty) if none. */
static pit_err_t
store_catalog_read(pit_store_t *st, const char *key, pit_catalog_list_t *cl,
    int *stored)
{
    const char  *argv[2] = { "HGETALL", key };
    redisReply  *r;
    pit_err_t    rc;
    size_t       i;

    pit_catalog_list_free(cl);
    *stored = 0;

    r = store_cmd(st, 2, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        rc = store_fail(st, "HGETALL", r);
        freeReplyObject(r);
        return rc;
    }

    rc = PIT_OK;

    for (i = 0; i + 1 < r->elements && rc == PIT_OK; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING
            || r->element[i + 1]->type != REDIS_REPLY_STRING)
        {
            rc = PIT_ERR_CORRUPT;
            break;
        }

        rc = pit_catalog_list_add(cl, r->element[i]->str, r->element[i]->len,
                                  r->element[i + 1]->str,
                                  r->element[i + 1]->len, NULL);
        if (rc == PIT_ERR_NOMEM) {
            break;
        }

        if (rc != PIT_OK) {
            snprintf(st->err, sizeof(st->err), "%s: field \"%.80s\" does not "
                     "decode: %s", key, r->element[i]->str, pit_strerror(rc));
            rc = PIT_ERR_CORRUPT;
        }
    }

    freeReplyObject(r);

    if (rc != PIT_OK) {
        pit_catalog_list_free(cl);
        return rc;
    }

    *stored = cl->n > 0;
    return PIT_OK;
}


pit_err_t
pit_store_catalog_get(pit_store_t *st, pit_catalog_list_t *cl, int *stored)
{
    char       key[PIT_KEY_MAX];
    pit_err_t  rc;

    rc = pit_key_scopes(key, sizeof(key), st->prefix);
    if (rc == PIT_OK) {
        rc = store_catalog_read(st, key, cl, stored);
    }

    if (rc == PIT_OK && !*stored) {
        rc = pit_catalog_list_builtin(cl);
    }

    return rc;
}


/* Queues DEL of the catalogue key, then HSETs of cl in chunks. */
static pit_err_t
batch_catalog(pit_batch_t *b, const char *key, const pit_catalog_list_t *cl)
{
    const char  *argv[PIT_CMD_ARGS_MAX];
    size_t       i;
    int          argc;
    pit_err_t    rc;

    rc = batch_add(b, 2, "DEL", key);

    for (i = 0; i < cl->n && rc == PIT_OK; ) {
        argv[0] = "HSET";
        argv[1] = key;
        argc = 2;

        while (i < cl->n && argc + 2 <= 2 + 2 * PIT_HSET_PAIRS) {
            argv[argc++] = cl->entries[i].name;
            argv[argc++] = cl->entries[i].label;
            i++;
        }

        rc = batch_add_argv(b, argc, argv);
    }

    return rc;
}


pit_err_t
pit_store_catalog_update(pit_store_t *st,
    pit_err_t (*fn)(pit_catalog_list_t *cl, int stored, void *arg),
    void *arg, const char *action, const char *detail, int64_t now)
{
    char                key[PIT_KEY_MAX];
    pit_catalog_list_t  cl;
    pit_batch_t        *b;
    pit_err_t           rc;
    int                 attempt, stored;

    rc = pit_key_scopes(key, sizeof(key), st->prefix);
    if (rc == PIT_OK) {
        rc = store_change_begin(st);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    b = batch_new();
    if (b == NULL) {
        return PIT_ERR_NOMEM;
    }

    pit_catalog_list_init(&cl);

    do {
        for (attempt = 0; attempt < PIT_STORE_RETRIES; attempt++) {
            b->n = 0;
            b->used = 0;

            rc = store_watch(st, key);
            if (rc != PIT_OK) {
                break;
            }

            if (st->maybe_applied) {
                rc = store_marker_find(st);
                if (rc == PIT_OK) {
                    store_unwatch(st);
                    rc = store_wait(st);
                    goto done;
                }
                if (rc != PIT_ERR_NOT_FOUND) {
                    break;
                }
            }

            rc = store_catalog_read(st, key, &cl, &stored);
            if (rc == PIT_OK && !stored) {
                rc = pit_catalog_list_builtin(&cl);
            }
            if (rc == PIT_OK) {
                rc = store_meta_guard(st, b, now);
            }
            if (rc == PIT_OK) {
                rc = fn(&cl, stored, arg);
            }
            if (rc == PIT_OK) {
                rc = batch_catalog(b, key, &cl);
            }
            if (rc == PIT_OK) {
                rc = batch_audit(st, b, action, NULL, detail, now);
            }
            if (rc != PIT_OK) {
                break;
            }

            rc = batch_exec(st, b);
            if (rc != PIT_ERR_BUSY) {
                break;
            }
        }
    } while (store_failover(st, &rc));

done:

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION && st->c != NULL
        && !st->c->err)
    {
        store_unwatch(st);
    }

    pit_catalog_list_free(&cl);
    free(b);
    return rc;
}


/* ------------------------------------------------------------------------
 * Import
 * --------------------------------------------------------------------- */

/* Queues HSET of the last-use times of in's tokens (those not 0). */
static pit_err_t
batch_used(pit_store_t *st, pit_batch_t *b, const pit_integration_t *in,
    const int64_t *used)
{
    const char  *argv[2 + 2 * PIT_TOKENS_MAX];
    char         key[PIT_KEY_MAX], ms[PIT_TOKENS_MAX][24];
    size_t       i;
    int          argc;
    pit_err_t    rc;

    rc = pit_key_used(key, sizeof(key), st->prefix, in->id);
    if (rc != PIT_OK || used == NULL) {
        return rc;
    }

    argv[0] = "HSET";
    argv[1] = key;
    argc = 2;

    for (i = 0; i < in->ntokens; i++) {
        if (used[i] > 0) {
            snprintf(ms[i], sizeof(ms[i]), "%lld", (long long) used[i]);
            argv[argc++] = in->tokens[i].hash;
            argv[argc++] = ms[i];
        }
    }

    return argc > 2 ? batch_add_argv(b, argc, argv) : PIT_OK;
}


/*
 * One attempt's reads for an import: WATCHes the integration and name
 * keys, reads what holds them into *by_id / *by_name (NULL when free or
 * the same integration).  Returns PIT_OK, or PIT_ERR_CONFLICT (st->err
 * says which) when something holds them and replace is off.
 */
static pit_err_t
store_import_read(pit_store_t *st, const pit_integration_t *in, int replace,
    pit_integration_t *old_id, pit_integration_t *old_name,
    pit_integration_t **by_id, pit_integration_t **by_name)
{
    char       key[PIT_KEY_MAX], holder[PIT_ID_LEN + 64];
    size_t     len;
    pit_err_t  rc;

    *by_id = *by_name = NULL;

    rc = pit_key_integration(key, sizeof(key), st->prefix, in->id);
    if (rc == PIT_OK) {
        rc = store_watch(st, key);
    }
    if (rc == PIT_OK) {
        rc = pit_key_name(key, sizeof(key), st->prefix, in->account,
                          in->name);
    }
    if (rc == PIT_OK) {
        rc = store_watch(st, key);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    rc = store_read_integration(st, in->id, old_id);
    if (rc == PIT_OK) {
        *by_id = old_id;
        if (!replace) {
            snprintf(st->err, sizeof(st->err), "integration %s exists",
                     in->id);
            return PIT_ERR_CONFLICT;
        }

    } else if (rc != PIT_ERR_NOT_FOUND) {
        return rc;
    }

    rc = store_get(st, key, holder, sizeof(holder), &len);
    if (rc == PIT_ERR_NOT_FOUND || (rc == PIT_OK
                                    && strcmp(holder, in->id) == 0))
    {
        return PIT_OK;
    }

    if (rc != PIT_OK && rc != PIT_ERR_CORRUPT) {
        return rc;
    }

    if (!replace) {
        snprintf(st->err, sizeof(st->err), "the name \"%.200s\" is held in "
                 "account %s by integration %.64s", in->name, in->account,
                 rc == PIT_OK ? holder : "(unreadable)");
        return PIT_ERR_CONFLICT;
    }

    /* replace: the holder goes too, if it still exists */
    if (rc == PIT_OK && pit_id_validate(holder, len) == PIT_OK) {
        rc = pit_key_integration(key, sizeof(key), st->prefix, holder);
        if (rc == PIT_OK) {
            rc = store_watch(st, key);
        }
        if (rc == PIT_OK) {
            rc = store_read_integration(st, holder, old_name);
        }
        if (rc == PIT_OK) {
            *by_name = old_name;
        }
        if (rc == PIT_ERR_NOT_FOUND) {
            rc = PIT_OK;
        }
    }

    return rc == PIT_ERR_CORRUPT ? PIT_OK : rc;
}


/* Queues every write of an import (after removing what it replaces). */
static pit_err_t
batch_import(pit_store_t *st, pit_batch_t *b, const pit_integration_t *in,
    const int64_t *used, const pit_integration_t *by_id,
    const pit_integration_t *by_name, int64_t now)
{
    char       key[PIT_KEY_MAX], score[32], detail[PIT_AUDIT_FIELD_MAX];
    size_t     i, n;
    pit_err_t  rc;

    rc = PIT_OK;

    if (by_id != NULL) {
        rc = batch_delete_integration(st, b, by_id);
    }
    if (rc == PIT_OK && by_name != NULL) {
        rc = batch_delete_integration(st, b, by_name);
    }
    if (rc == PIT_OK) {
        rc = pit_key_name(key, sizeof(key), st->prefix, in->account,
                          in->name);
    }
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
        rc = batch_used(st, b, in, used);
    }
    if (rc == PIT_OK) {
        rc = pit_key_account_index(key, sizeof(key), st->prefix,
                                   in->account);
    }
    if (rc == PIT_OK) {
        snprintf(score, sizeof(score), "%lld", (long long) in->created_at_ms);
        rc = batch_add(b, 4, "ZADD", key, score, in->id);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    n = (size_t) snprintf(detail, sizeof(detail), "%s",
                          by_id || by_name ? "replaced; tokens=" : "tokens=");
    for (i = 0; i < in->ntokens && n < sizeof(detail); i++) {
        n += (size_t) snprintf(detail + n, sizeof(detail) - n, "%s%s",
                               i ? "," : "", in->tokens[i].hint);
    }

    return batch_audit(st, b, "import", in, detail, now);
}


pit_err_t
pit_store_import(pit_store_t *st, pit_integration_t *in, const int64_t *used,
    int replace, int check_only, int64_t now)
{
    pit_integration_t  *old_id, *old_name, *by_id, *by_name;
    int64_t             kept[PIT_TOKENS_MAX];
    pit_batch_t        *b;
    pit_err_t           rc;
    size_t              i, j;
    int                 attempt;

    if (pit_id_validate(in->id, strlen(in->id)) != PIT_OK) {
        return PIT_ERR_FIELD;
    }

    /* settling may drop a token: keep each last use with its token */
    memset(kept, 0, sizeof(kept));
    {
        pit_integration_t  *was = malloc(sizeof(pit_integration_t));

        if (was == NULL) {
            return PIT_ERR_NOMEM;
        }
        *was = *in;
        (void) pit_rotation_settle(in, now);
        for (i = 0; used != NULL && i < in->ntokens; i++) {
            for (j = 0; j < was->ntokens; j++) {
                if (strcmp(was->tokens[j].hash, in->tokens[i].hash) == 0) {
                    kept[i] = used[j];
                }
            }
        }
        free(was);
    }

    rc = store_change_begin(st);
    if (rc != PIT_OK) {
        return rc;
    }

    old_id = malloc(sizeof(pit_integration_t));
    old_name = malloc(sizeof(pit_integration_t));
    b = batch_new();
    if (old_id == NULL || old_name == NULL || b == NULL) {
        rc = PIT_ERR_NOMEM;
        goto done;
    }

    do {
        for (attempt = 0; attempt < PIT_STORE_RETRIES; attempt++) {
            b->n = 0;
            b->used = 0;

            rc = store_import_read(st, in, replace, old_id, old_name, &by_id,
                                   &by_name);
            if (rc != PIT_OK || check_only) {
                break;
            }

            if (st->maybe_applied) {
                rc = store_marker_find(st);
                if (rc == PIT_OK) {
                    store_unwatch(st);
                    rc = store_wait(st);
                    goto done;
                }
                if (rc != PIT_ERR_NOT_FOUND) {
                    break;
                }
            }

            rc = store_meta_guard(st, b, now);
            if (rc == PIT_OK) {
                rc = batch_import(st, b, in, kept, by_id, by_name, now);
            }
            if (rc != PIT_OK) {
                break;
            }

            rc = batch_exec(st, b);
            if (rc != PIT_ERR_BUSY) {
                break;
            }
        }
    } while (store_failover(st, &rc));

done:

    if ((check_only || (rc != PIT_OK && rc != PIT_ERR_REPLICATION))
        && st->c != NULL && !st->c->err)
    {
        store_unwatch(st);
    }

    free(old_id);
    free(old_name);
    free(b);
    return rc;
}


/* ------------------------------------------------------------------------
 * Admins of the admin API (pit_admin.h)
 * --------------------------------------------------------------------- */

pit_err_t
pit_store_hash_hex(const pit_store_t *st, const char *token, size_t len,
    char *hex)
{
    return pit_token_hash_hex(token, len, st->hash_key, st->hash_key_len,
                              hex);
}


/* Reads admin name (key already built); PIT_ERR_NOT_FOUND if absent. */
static pit_err_t
store_read_admin(pit_store_t *st, const char *key, pit_admin_t *a)
{
    redisReply  *r;
    pit_err_t    rc;

    rc = store_get_value(st, key, PIT_ADMIN_JSON_MAX, &r);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_admin_from_json(r->str, r->len, a);
    freeReplyObject(r);

    if (rc != PIT_OK) {
        snprintf(st->err, sizeof(st->err), "%s: stored admin does not "
                 "decode: %s", key, pit_strerror(rc));
        rc = PIT_ERR_CORRUPT;
    }

    return rc;
}


pit_err_t
pit_store_admin_get(pit_store_t *st, const char *name, pit_admin_t *a)
{
    char       key[PIT_KEY_MAX];
    pit_err_t  rc;

    if (pit_admin_name_validate(name, strlen(name)) != PIT_OK) {
        return PIT_ERR_NOT_FOUND;
    }

    rc = pit_key_admin(key, sizeof(key), st->prefix, name);
    return rc == PIT_OK ? store_read_admin(st, key, a) : rc;
}


pit_err_t
pit_store_admin_list(pit_store_t *st,
    int (*fn)(const pit_admin_t *a, void *arg), void *arg)
{
    char          key[PIT_KEY_MAX];
    const char   *argv[2];
    redisReply   *r;
    pit_admin_t  *a;
    char        **names;
    size_t        i, n;
    pit_err_t     rc;

    rc = pit_key_admins(key, sizeof(key), st->prefix);
    if (rc != PIT_OK) {
        return rc;
    }

    argv[0] = "SMEMBERS";
    argv[1] = key;
    r = store_cmd(st, 2, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        rc = store_fail(st, "SMEMBERS", r);
        freeReplyObject(r);
        return rc;
    }

    n = r->elements;
    names = calloc(n + 1, sizeof(char *));
    a = malloc(sizeof(pit_admin_t));
    if (names == NULL || a == NULL) {
        free(names);
        free(a);
        freeReplyObject(r);
        return PIT_ERR_NOMEM;
    }

    for (i = 0; i < n; i++) {
        names[i] = r->element[i]->type == REDIS_REPLY_STRING
                   ? r->element[i]->str : "";
    }

    qsort(names, n, sizeof(char *), store_cmp_str);

    for (i = 0; i < n && rc == PIT_OK; i++) {
        rc = pit_store_admin_get(st, names[i], a);
        if (rc == PIT_ERR_NOT_FOUND) {
            rc = PIT_OK;            /* removed since SMEMBERS */
            continue;
        }
        if (rc == PIT_OK && fn(a, arg) != 0) {
            break;
        }
    }

    free(names);
    free(a);
    freeReplyObject(r);
    return rc;
}


/* Returns 1 if a holds a token of hash hash. */
static int
admin_has_token(const pit_admin_t *a, const char *hash)
{
    size_t  i;

    for (i = 0; i < a->ntokens; i++) {
        if (strcmp(a->tokens[i].hash, hash) == 0) {
            return 1;
        }
    }

    return 0;
}


/* Queues the writes that turn old (absent: !had) into new (absent:
 * !has): the record, the set of names and the token keys. */
static pit_err_t
batch_admin(pit_store_t *st, pit_batch_t *b, const pit_admin_t *old,
    int had, const pit_admin_t *new, int has)
{
    char       key[PIT_KEY_MAX], *json;
    size_t     i, len;
    pit_err_t  rc;

    rc = PIT_OK;

    for (i = 0; had && rc == PIT_OK && i < old->ntokens; i++) {
        if (has && admin_has_token(new, old->tokens[i].hash)) {
            continue;
        }
        rc = pit_key_admin_token(key, sizeof(key), st->prefix,
                                 old->tokens[i].hash);
        if (rc == PIT_OK) {
            rc = batch_add(b, 2, "DEL", key);
        }
    }

    for (i = 0; has && rc == PIT_OK && i < new->ntokens; i++) {
        if (had && admin_has_token(old, new->tokens[i].hash)) {
            continue;
        }
        rc = pit_key_admin_token(key, sizeof(key), st->prefix,
                                 new->tokens[i].hash);
        if (rc == PIT_OK) {
            rc = batch_add(b, 3, "SET", key, new->name);
        }
    }

    if (rc == PIT_OK) {
        rc = pit_key_admin(key, sizeof(key), st->prefix, new->name);
    }

    if (rc == PIT_OK && has) {
        json = malloc(PIT_ADMIN_JSON_MAX);
        if (json == NULL) {
            return PIT_ERR_NOMEM;
        }
        rc = pit_admin_to_json(new, json, PIT_ADMIN_JSON_MAX, &len);
        if (rc == PIT_OK) {
            rc = batch_add(b, 3, "SET", key, json);
        }
        free(json);

    } else if (rc == PIT_OK) {
        rc = batch_add(b, 2, "DEL", key);
    }

    if (rc == PIT_OK) {
        rc = pit_key_admins(key, sizeof(key), st->prefix);
    }

    if (rc == PIT_OK) {
        rc = batch_add(b, 3, has ? "SADD" : "SREM", key, new->name);
    }

    return rc;
}


pit_err_t
pit_store_admin_update(pit_store_t *st, const char *name,
    pit_err_t (*fn)(pit_admin_t *a, int *exists, void *arg), void *arg,
    const char *action, int64_t now)
{
    char          key[PIT_KEY_MAX], detail[PIT_AUDIT_FIELD_MAX];
    pit_admin_t  *old, *new;
    pit_batch_t  *b;
    pit_err_t     rc;
    int           attempt, had, has;

    if (pit_admin_name_validate(name, strlen(name)) != PIT_OK) {
        return PIT_ERR_FIELD;
    }

    rc = pit_key_admin(key, sizeof(key), st->prefix, name);
    if (rc == PIT_OK) {
        rc = store_change_begin(st);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    old = malloc(sizeof(pit_admin_t));
    new = malloc(sizeof(pit_admin_t));
    b = batch_new();
    if (old == NULL || new == NULL || b == NULL) {
        rc = PIT_ERR_NOMEM;
        goto done;
    }

    do {
        for (attempt = 0; attempt < PIT_STORE_RETRIES; attempt++) {
            b->n = 0;
            b->used = 0;

            rc = store_watch(st, key);
            if (rc != PIT_OK) {
                break;
            }

            if (st->maybe_applied) {
                rc = store_marker_find(st);
                if (rc == PIT_OK) {
                    store_unwatch(st);
                    rc = store_wait(st);
                    goto done;
                }
                if (rc != PIT_ERR_NOT_FOUND) {
                    break;
                }
            }

            rc = store_read_admin(st, key, old);
            had = (rc == PIT_OK);
            if (rc == PIT_ERR_NOT_FOUND) {
                memset(old, 0, sizeof(*old));
                snprintf(old->name, sizeof(old->name), "%s", name);
                old->created_at_ms = now;
                snprintf(old->created_by, sizeof(old->created_by), "%s",
                         st->actor);
                rc = PIT_OK;
            }
            if (rc == PIT_OK) {
                rc = store_meta_guard(st, b, now);
            }
            if (rc != PIT_OK) {
                break;
            }

            *new = *old;
            has = had;
            rc = fn(new, &has, arg);
            if (rc == PIT_OK && !had && !has) {
                rc = PIT_ERR_NOT_FOUND;
            }
            if (rc != PIT_OK) {
                break;
            }

            snprintf(new->name, sizeof(new->name), "%s", name);
            new->updated_at_ms = now;

            if (has) {
                snprintf(detail, sizeof(detail), "%s pi_allowed=%s tokens=%zu",
                         new->all ? "accounts=*" : "accounts=listed",
                         new->pi_allowed ? "yes" : "no", new->ntokens);
            } else {
                snprintf(detail, sizeof(detail), "removed");
            }

            rc = batch_admin(st, b, old, had, new, has);
            if (rc == PIT_OK) {
                rc = batch_audit_fields(st, b, action, "", name, "", detail,
                                        now);
            }
            if (rc != PIT_OK) {
                break;
            }

            rc = batch_exec(st, b);
            if (rc != PIT_ERR_BUSY) {
                break;
            }
        }
    } while (store_failover(st, &rc));

done:

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION && st->c != NULL
        && !st->c->err)
    {
        store_unwatch(st);
    }

    free(old);
    free(new);
    free(b);
    return rc;
}


pit_err_t
pit_store_admin_by_token(pit_store_t *st, const char *token, size_t len,
    pit_admin_t *a)
{
    char       key[PIT_KEY_MAX], hash[PIT_HASH_HEX_LEN + 1];
    char       name[PIT_ADMIN_NAME_MAX + 2];
    size_t     n;
    pit_err_t  rc;

    if (pit_admin_token_validate(token, len) != PIT_OK) {
        return PIT_ERR_TOKEN_MALFORMED;
    }

    rc = pit_store_hash_hex(st, token, len, hash);
    if (rc == PIT_OK) {
        rc = pit_key_admin_token(key, sizeof(key), st->prefix, hash);
    }
    if (rc == PIT_OK) {
        rc = store_get(st, key, name, sizeof(name), &n);
    }
    if (rc == PIT_ERR_CORRUPT) {
        rc = PIT_ERR_NOT_FOUND;
    }
    if (rc == PIT_OK) {
        rc = pit_store_admin_get(st, name, a);
    }

    /* a token key left behind by an admin since removed counts for
     * nothing: the record must still list the token */
    if (rc == PIT_OK && !admin_has_token(a, hash)) {
        memset(a, 0, sizeof(*a));
        rc = PIT_ERR_NOT_FOUND;
    }

    return rc;
}


/* ------------------------------------------------------------------------
 * Inspection (pitctl doctor)
 * --------------------------------------------------------------------- */

pit_err_t
pit_store_scan(pit_store_t *st, const char *pattern,
    int (*fn)(const char *key, void *arg), void *arg)
{
    char         glob[2 * PIT_PREFIX_MAX + 64], cursor[32];
    const char  *argv[6];
    redisReply  *r, *keys;
    size_t       i, skip;
    pit_err_t    rc;
    int          stop;

    rc = store_pattern(st, pattern, glob, sizeof(glob));
    if (rc != PIT_OK) {
        return rc;
    }

    skip = strlen(st->prefix);
    strcpy(cursor, "0");
    stop = 0;

    do {
        argv[0] = "SCAN";
        argv[1] = cursor;
        argv[2] = "MATCH";
        argv[3] = glob;
        argv[4] = "COUNT";
        argv[5] = "1000";

        r = store_cmd(st, 6, argv);
        if (r == NULL) {
            return PIT_ERR_REDIS;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            rc = store_fail(st, "SCAN", r);
            freeReplyObject(r);
            return rc;
        }

        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        keys = r->element[1];

        for (i = 0; i < keys->elements && !stop; i++) {
            if (keys->element[i]->type == REDIS_REPLY_STRING
                && keys->element[i]->len >= skip)
            {
                stop = fn(keys->element[i]->str + skip, arg);
            }
        }

        freeReplyObject(r);

    } while (!stop && strcmp(cursor, "0") != 0);

    return PIT_OK;
}


pit_err_t
pit_store_token_get(pit_store_t *st, const char *hash_hex,
    pit_token_record_t *rec)
{
    char         key[PIT_KEY_MAX];
    redisReply  *r;
    pit_err_t    rc;

    rc = pit_key_token(key, sizeof(key), st->prefix, hash_hex);
    if (rc == PIT_OK) {
        rc = store_get_value(st, key, PIT_JSON_MAX, &r);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_token_record_from_json(r->str, r->len, rec);
    freeReplyObject(r);

    return rc == PIT_OK ? PIT_OK : PIT_ERR_CORRUPT;
}


/* Appends s[0..len) and a line end to buf (cap), keeping it NUL-ended. */
static void
text_append(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
    if (*n + 1 >= cap) {
        return;
    }

    if (len > cap - *n - 2) {
        len = cap - *n - 2;
    }

    memcpy(buf + *n, s, len);
    *n += len;
    buf[(*n)++] = '\n';
    buf[*n] = '\0';
}


pit_err_t
pit_store_read_text(pit_store_t *st, int argc, const char **argv, char *buf,
    size_t cap)
{
    redisReply  *r, *e;
    char         num[32];
    size_t       i, n;
    pit_err_t    rc;

    if (cap == 0 || argc > PIT_CMD_ARGS_MAX) {
        return PIT_ERR_ARG;
    }

    buf[0] = '\0';

    r = store_cmd(st, argc, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    rc = PIT_OK;
    n = 0;

    switch (r->type) {
    case REDIS_REPLY_ERROR:
        rc = store_fail(st, argv[0], r);
        break;

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        n = r->len < cap - 1 ? r->len : cap - 1;
        memcpy(buf, r->str, n);
        buf[n] = '\0';
        break;

    case REDIS_REPLY_INTEGER:
        snprintf(buf, cap, "%lld", r->integer);
        break;

    case REDIS_REPLY_ARRAY:
        for (i = 0; i < r->elements; i++) {
            e = r->element[i];
            if (e->type == REDIS_REPLY_INTEGER) {
                snprintf(num, sizeof(num), "%lld", e->integer);
                text_append(buf, cap, &n, num, strlen(num));

            } else if (e->type == REDIS_REPLY_STRING
                       || e->type == REDIS_REPLY_STATUS)
            {
                text_append(buf, cap, &n, e->str, e->len);
            }
        }
        break;

    default:
        break;
    }

    freeReplyObject(r);
    return rc;
}
