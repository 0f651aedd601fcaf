/*
 * pit-auth core, the store (pit_store.c): the scope catalogue
 * <prefix>scopes, read and changed atomically.
 */

#include <stdio.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "pit_schema.h"
#include "pit_store.h"
#include "pit_store_int.h"

#define PIT_HSET_PAIRS     ((PIT_CMD_ARGS_MAX - 2) / 2)


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

    r = pit_st_cmd(st, 2, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        rc = pit_st_fail(st, "HGETALL", r);
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

    rc = pit_batch_add(b, 2, "DEL", key);

    for (i = 0; i < cl->n && rc == PIT_OK; ) {
        argv[0] = "HSET";
        argv[1] = key;
        argc = 2;

        while (i < cl->n && argc + 2 <= 2 + 2 * PIT_HSET_PAIRS) {
            argv[argc++] = cl->entries[i].name;
            argv[argc++] = cl->entries[i].label;
            i++;
        }

        rc = pit_batch_add_argv(b, argc, argv);
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
        rc = pit_st_change_begin(st);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    b = pit_batch_new();
    if (b == NULL) {
        return PIT_ERR_NOMEM;
    }

    pit_catalog_list_init(&cl);

    do {
        for (attempt = 0; attempt < PIT_STORE_RETRIES; attempt++) {
            b->n = 0;
            b->used = 0;

            rc = pit_st_watch(st, key);
            if (rc != PIT_OK) {
                break;
            }

            if (st->maybe_applied) {
                rc = pit_st_marker_find(st);
                if (rc == PIT_OK) {
                    pit_st_unwatch(st);
                    rc = pit_st_wait(st);
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
                rc = pit_st_meta_guard(st, b, now);
            }
            if (rc == PIT_OK) {
                rc = fn(&cl, stored, arg);
            }
            if (rc == PIT_OK) {
                rc = batch_catalog(b, key, &cl);
            }
            if (rc == PIT_OK) {
                rc = pit_batch_audit(st, b, action, NULL, detail, now);
            }
            if (rc != PIT_OK) {
                break;
            }

            rc = pit_batch_exec(st, b);
            if (rc != PIT_ERR_BUSY) {
                break;
            }
        }
    } while (pit_st_failover(st, &rc));

done:

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION && st->c != NULL
        && !st->c->err)
    {
        pit_st_unwatch(st);
    }

    pit_catalog_list_free(&cl);
    free(b);
    return rc;
}
