/*
 * pit-auth core, the store (pit_store.c): admins of the admin API
 * (pit_admin.h).  Reading and listing them, changing one atomically, and
 * the admin an admin token names.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "pit_admin.h"
#include "pit_schema.h"
#include "pit_store.h"
#include "pit_store_int.h"


/* ------------------------------------------------------------------------
 * Admins of the admin API (pit_admin.h)
 * --------------------------------------------------------------------- */

/* Reads admin name (key already built); PIT_ERR_NOT_FOUND if absent. */
static pit_err_t
store_read_admin(pit_store_t *st, const char *key, pit_admin_t *a)
{
    redisReply  *r;
    pit_err_t    rc;

    rc = pit_st_get_value(st, key, PIT_ADMIN_JSON_MAX, &r);
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
    r = pit_st_cmd(st, 2, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        rc = pit_st_fail(st, "SMEMBERS", r);
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

    qsort(names, n, sizeof(char *), pit_st_cmp_str);

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
            rc = pit_batch_add(b, 2, "DEL", key);
        }
    }

    for (i = 0; has && rc == PIT_OK && i < new->ntokens; i++) {
        if (had && admin_has_token(old, new->tokens[i].hash)) {
            continue;
        }
        rc = pit_key_admin_token(key, sizeof(key), st->prefix,
                                 new->tokens[i].hash);
        if (rc == PIT_OK) {
            rc = pit_batch_add(b, 3, "SET", key, new->name);
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
            rc = pit_batch_add(b, 3, "SET", key, json);
        }
        free(json);

    } else if (rc == PIT_OK) {
        rc = pit_batch_add(b, 2, "DEL", key);
    }

    if (rc == PIT_OK) {
        rc = pit_key_admins(key, sizeof(key), st->prefix);
    }

    if (rc == PIT_OK) {
        rc = pit_batch_add(b, 3, has ? "SADD" : "SREM", key, new->name);
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
        rc = pit_st_change_begin(st);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    old = malloc(sizeof(pit_admin_t));
    new = malloc(sizeof(pit_admin_t));
    b = pit_batch_new();
    if (old == NULL || new == NULL || b == NULL) {
        rc = PIT_ERR_NOMEM;
        goto done;
    }

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
                rc = pit_st_meta_guard(st, b, now);
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
                rc = pit_batch_audit_fields(st, b, action, "", name, "",
                                            detail, now);
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
        rc = pit_st_get(st, key, name, sizeof(name), &n);
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
