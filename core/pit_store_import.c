/*
 * pit-auth core, the store (pit_store.c): importing an integration as a
 * backup holds it, every key of it in one MULTI/EXEC.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pit_record.h"
#include "pit_rotation.h"
#include "pit_schema.h"
#include "pit_store.h"
#include "pit_store_int.h"


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

    return argc > 2 ? pit_batch_add_argv(b, argc, argv) : PIT_OK;
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
        rc = pit_st_watch(st, key);
    }
    if (rc == PIT_OK) {
        rc = pit_key_name(key, sizeof(key), st->prefix, in->account,
                          in->name);
    }
    if (rc == PIT_OK) {
        rc = pit_st_watch(st, key);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_st_read_integration(st, in->id, old_id);
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

    rc = pit_st_get(st, key, holder, sizeof(holder), &len);
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
            rc = pit_st_watch(st, key);
        }
        if (rc == PIT_OK) {
            rc = pit_st_read_integration(st, holder, old_name);
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
        rc = pit_batch_delete_integration(st, b, by_id);
    }
    if (rc == PIT_OK && by_name != NULL) {
        rc = pit_batch_delete_integration(st, b, by_name);
    }
    if (rc == PIT_OK) {
        rc = pit_key_name(key, sizeof(key), st->prefix, in->account,
                          in->name);
    }
    if (rc == PIT_OK) {
        rc = pit_batch_add(b, 3, "SET", key, in->id);
    }
    if (rc == PIT_OK) {
        rc = pit_batch_integration(st, b, in);
    }
    if (rc == PIT_OK) {
        rc = pit_batch_token_keys(st, b, in);
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
        rc = pit_batch_add(b, 4, "ZADD", key, score, in->id);
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

    return pit_batch_audit(st, b, "import", in, detail, now);
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

    rc = pit_st_change_begin(st);
    if (rc != PIT_OK) {
        return rc;
    }

    old_id = malloc(sizeof(pit_integration_t));
    old_name = malloc(sizeof(pit_integration_t));
    b = pit_batch_new();
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

            rc = pit_st_meta_guard(st, b, now);
            if (rc == PIT_OK) {
                rc = batch_import(st, b, in, kept, by_id, by_name, now);
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

    if ((check_only || (rc != PIT_OK && rc != PIT_ERR_REPLICATION))
        && st->c != NULL && !st->c->err)
    {
        pit_st_unwatch(st);
    }

    free(old_id);
    free(old_name);
    free(b);
    return rc;
}
