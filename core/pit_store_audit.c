/*
 * pit-auth core, the store (pit_store.c): the audit stream <prefix>audit.
 * Queuing an entry with each change, walking the stream newest first,
 * and the audit queries of pitctl and the admin API.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "pit_record.h"
#include "pit_schema.h"
#include "pit_store.h"
#include "pit_store_int.h"


/* ------------------------------------------------------------------------
 * Audit
 * --------------------------------------------------------------------- */

/* Queues an audit entry: who did what to which integration, never a
 * token (detail carries hints at most). */
pit_err_t
pit_batch_audit_fields(pit_store_t *st, pit_batch_t *b, const char *action,
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
        return pit_batch_add(b, 24, "XADD", key, "MAXLEN", "~", maxlen, "*",
                             "at", at, "who", st->actor, "action", action,
                             "iid", iid, "name", name, "acct", acct,
                             "detail", detail, "change", st->marker,
                             "peer", st->peer);
    }

    return pit_batch_add(b, 22, "XADD", key, "MAXLEN", "~", maxlen, "*",
                         "at", at, "who", st->actor, "action", action,
                         "iid", iid, "name", name, "acct", acct,
                         "detail", detail, "change", st->marker);
}


pit_err_t
pit_batch_audit(pit_store_t *st, pit_batch_t *b, const char *action,
    const pit_integration_t *in, const char *detail, int64_t now)
{
    return pit_batch_audit_fields(st, b, action, in ? in->id : "",
                                  in ? in->name : "", in ? in->account : "",
                                  detail, now);
}


/*
 * Walks the audit stream newest first, in XREVRANGE pages of page entries,
 * calling visit with each well-formed entry [id, [field, value, ...]]
 * until visit returns non-zero or at least max entries were read.
 * Returns PIT_OK if visit stopped the walk, PIT_ERR_NOT_FOUND if the
 * stream or max ran out first, or PIT_ERR_REDIS.
 */
pit_err_t
pit_st_audit_walk(pit_store_t *st, size_t page, size_t max,
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

        r = pit_st_cmd(st, 6, argv);
        if (r == NULL) {
            return PIT_ERR_REDIS;
        }

        if (r->type != REDIS_REPLY_ARRAY) {
            rc = pit_st_fail(st, "XREVRANGE", r);
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
    rc = pit_st_audit_walk(st, 200, SIZE_MAX, audit_visit, &w);

    return rc == PIT_ERR_NOT_FOUND ? PIT_OK : rc;
}
