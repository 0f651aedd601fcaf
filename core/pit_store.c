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
 * This file holds the store object, its connection, the failover rule and
 * the generic reads; the rest is one file per concern: pit_store_batch.c
 * (WATCH, MULTI/EXEC, WAIT), pit_store_integration.c, pit_store_audit.c,
 * pit_store_meta.c, pit_store_catalog.c, pit_store_import.c and
 * pit_store_admin.c, which share pit_store_int.h (private).
 *
 * These files are not part of the nginx module: they block.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "pit_record.h"
#include "pit_schema.h"
#include "pit_store.h"
#include "pit_store_int.h"

#define PIT_SENTINEL_TIMEOUT_MS  1000     /* connect and reply, per sentinel */
#define PIT_FAILOVER_PAUSE_MS    100      /* between rounds of the sentinels */
#define PIT_MARKER_SCAN_MAX      (2 * PIT_AUDIT_MAXLEN)


/* ------------------------------------------------------------------------
 * Connection
 * --------------------------------------------------------------------- */

/* Records a Redis failure in st->err and returns PIT_ERR_REDIS. */
pit_err_t
pit_st_fail(pit_store_t *st, const char *what, const redisReply *r)
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
redisReply *
pit_st_cmd(pit_store_t *st, int argc, const char **argv)
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
        pit_st_fail(st, argv[0], NULL);
    }

    return r;
}


/* Runs a command expecting a status or integer reply; returns PIT_OK or
 * PIT_ERR_REDIS. */
pit_err_t
pit_st_simple(pit_store_t *st, int argc, const char **argv)
{
    redisReply  *r;
    pit_err_t    rc;

    r = pit_st_cmd(st, argc, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    rc = PIT_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        rc = pit_st_fail(st, argv[0], r);
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
pit_err_t
pit_st_change_begin(pit_store_t *st)
{
    st->maybe_applied = 0;
    st->moved = 0;

    return pit_id_generate(st->marker);
}


/*
 * Returns 1 if the audit entry e (well formed, see pit_st_audit_walk()) has
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
pit_err_t
pit_st_marker_find(pit_store_t *st)
{
    return pit_st_audit_walk(st, 500, PIT_MARKER_SCAN_MAX, store_marker_visit,
                             st->marker);
}


/*
 * Called with the outcome of a change's attempts: returns 1 when the
 * primary moved and a new one was found (the caller runs the change
 * again), else 0 with *rc final.  Only sentinel URLs fail over; a plain
 * URL reports PIT_ERR_REDIS as it always did.
 */
int
pit_st_failover(pit_store_t *st, pit_err_t *rc)
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
 * Keys and hashes, shared by the reads
 * --------------------------------------------------------------------- */

int
pit_st_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char * const *) a, *(const char * const *) b);
}


/* Writes a SCAN pattern: the prefix with glob characters escaped, then
 * the glob suffix as given. */
pit_err_t
pit_st_pattern(pit_store_t *st, const char *suffix, char *buf, size_t cap)
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


pit_err_t
pit_store_hash_hex(const pit_store_t *st, const char *token, size_t len,
    char *hex)
{
    return pit_token_hash_hex(token, len, st->hash_key, st->hash_key_len,
                              hex);
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

    rc = pit_st_pattern(st, pattern, glob, sizeof(glob));
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

        r = pit_st_cmd(st, 6, argv);
        if (r == NULL) {
            return PIT_ERR_REDIS;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            rc = pit_st_fail(st, "SCAN", r);
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
        rc = pit_st_get_value(st, key, PIT_JSON_MAX, &r);
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

    r = pit_st_cmd(st, argc, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    rc = PIT_OK;
    n = 0;

    switch (r->type) {
    case REDIS_REPLY_ERROR:
        rc = pit_st_fail(st, argv[0], r);
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
