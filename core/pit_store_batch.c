/*
 * pit-auth core, the store (pit_store.c): the transaction of one change.
 * A batch queues the writes of one MULTI/EXEC; pit_batch_exec() sends them in
 * one round trip and WAITs for replicas as configured; pit_st_watch() and
 * the GETs are the reads a change makes under WATCH before it.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "pit_store.h"
#include "pit_store_int.h"


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
pit_err_t
pit_batch_add_argv(pit_batch_t *b, int argc, const char **argv)
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
pit_err_t
pit_batch_add(pit_batch_t *b, int argc, ...)
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


pit_batch_t *
pit_batch_new(void)
{
    pit_batch_t  *b;

    b = malloc(sizeof(pit_batch_t));
    if (b != NULL) {
        b->n = 0;
        b->used = 0;
    }

    return b;
}


/*
 * Waits for the configured number of replicas to acknowledge what this
 * connection wrote.  Returns PIT_OK, PIT_ERR_REPLICATION (st->err says
 * how many did) or PIT_ERR_REDIS.
 */
pit_err_t
pit_st_wait(pit_store_t *st)
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

    r = pit_st_cmd(st, 3, argv);
    if (r == NULL) {
        /* Applied on a primary that is now gone: whether the new one has
         * it depends on replication, so it is as unknown as a lost EXEC. */
        st->maybe_applied = 1;
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_INTEGER) {
        rc = pit_st_fail(st, "WAIT", r);

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
pit_err_t
pit_batch_exec(pit_store_t *st, pit_batch_t *b)
{
    static const char  *multi[] = { "MULTI" };
    static const char  *exec[] = { "EXEC" };
    static const size_t multi_len[] = { 5 };
    static const size_t exec_len[] = { 4 };
    redisReply         *r;
    pit_err_t           rc;
    size_t              i;

    if (redisAppendCommandArgv(st->c, 1, multi, multi_len) != REDIS_OK) {
        return pit_st_fail(st, "MULTI", NULL);
    }

    for (i = 0; i < b->n; i++) {
        if (redisAppendCommandArgv(st->c, b->cmds[i].argc, b->cmds[i].argv,
                                   b->cmds[i].argvlen)
            != REDIS_OK)
        {
            return pit_st_fail(st, b->cmds[i].argv[0], NULL);
        }
    }

    if (redisAppendCommandArgv(st->c, 1, exec, exec_len) != REDIS_OK) {
        return pit_st_fail(st, "EXEC", NULL);
    }

    rc = PIT_OK;

    /* MULTI's +OK and one +QUEUED per command; an error here makes Redis
     * discard the transaction, so EXEC below fails too. */
    for (i = 0; i < b->n + 1; i++) {
        if (redisGetReply(st->c, (void **) &r) != REDIS_OK) {
            /* the first read flushed the pipeline: EXEC may have run */
            st->maybe_applied = 1;
            return pit_st_fail(st, "MULTI", NULL);
        }

        if (r->type == REDIS_REPLY_ERROR && rc == PIT_OK) {
            rc = pit_st_fail(st, i == 0 ? "MULTI" : b->cmds[i - 1].argv[0],
                             r);
        }

        freeReplyObject(r);
    }

    if (redisGetReply(st->c, (void **) &r) != REDIS_OK) {
        st->maybe_applied = 1;
        return pit_st_fail(st, "EXEC", NULL);
    }

    if (rc == PIT_OK) {
        if (r->type == REDIS_REPLY_NIL) {
            rc = PIT_ERR_BUSY;

        } else if (r->type != REDIS_REPLY_ARRAY) {
            rc = pit_st_fail(st, "EXEC", r);

        } else {
            for (i = 0; i < r->elements; i++) {
                if (r->element[i]->type == REDIS_REPLY_ERROR) {
                    rc = pit_st_fail(st, b->cmds[i].argv[0], r->element[i]);
                    break;
                }
            }
        }
    }

    freeReplyObject(r);

    return rc == PIT_OK ? pit_st_wait(st) : rc;
}


/* ------------------------------------------------------------------------
 * WATCH, and the reads of a change
 * --------------------------------------------------------------------- */

/* WATCHes key; returns PIT_OK or PIT_ERR_REDIS. */
pit_err_t
pit_st_watch(pit_store_t *st, const char *key)
{
    const char  *argv[2] = { "WATCH", key };

    return pit_st_simple(st, 2, argv);
}


void
pit_st_unwatch(pit_store_t *st)
{
    const char  *argv[1] = { "UNWATCH" };

    (void) pit_st_simple(st, 1, argv);
}


/*
 * GETs key.  Returns PIT_OK with *value a string reply of at most max
 * bytes (the caller frees it), PIT_ERR_NOT_FOUND for a missing key,
 * PIT_ERR_CORRUPT for a value that is not a string or is larger,
 * PIT_ERR_REDIS.
 */
pit_err_t
pit_st_get_value(pit_store_t *st, const char *key, size_t max,
    redisReply **value)
{
    const char  *argv[2] = { "GET", key };
    redisReply  *r;
    pit_err_t    rc;

    r = pit_st_cmd(st, 2, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type == REDIS_REPLY_NIL) {
        rc = PIT_ERR_NOT_FOUND;

    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = pit_st_fail(st, "GET", r);

    } else if (r->type != REDIS_REPLY_STRING || r->len > max) {
        rc = PIT_ERR_CORRUPT;

    } else {
        *value = r;
        return PIT_OK;
    }

    freeReplyObject(r);
    return rc;
}


/* As pit_st_get_value(), copying the value and a NUL into buf. */
pit_err_t
pit_st_get(pit_store_t *st, const char *key, char *buf, size_t cap,
    size_t *len)
{
    redisReply  *r;
    pit_err_t    rc;

    rc = pit_st_get_value(st, key, cap - 1, &r);
    if (rc != PIT_OK) {
        return rc;
    }

    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';
    *len = r->len;

    freeReplyObject(r);
    return PIT_OK;
}
