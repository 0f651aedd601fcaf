/*
 * pit-auth core, the store (pit_store.c): integrations.  Reading and
 * listing them, their tokens' records and last-use times; creating,
 * editing, rotating and deleting them, each an atomic change (WATCH,
 * MULTI/EXEC, failover as pit_store.c's "Failover" says).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "pit_record.h"
#include "pit_rotation.h"
#include "pit_schema.h"
#include "pit_store.h"
#include "pit_store_int.h"


/* ------------------------------------------------------------------------
 * Reads
 * --------------------------------------------------------------------- */

/* Reads and decodes an integration as stored (not settled). */
pit_err_t
pit_st_read_integration(pit_store_t *st, const char *iid,
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
        rc = pit_st_get_value(st, key, PIT_JSON_MAX, &r);
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

    rc = pit_st_read_integration(st, iid, in);
    if (rc == PIT_OK) {
        (void) pit_rotation_settle(in, now);
    }

    return rc;
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

    r = pit_st_cmd(st, 4, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        rc = pit_st_fail(st, "ZRANGE", r);
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

    rc = pit_st_pattern(st, "ints:*", pattern, sizeof(pattern));
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

        r = pit_st_cmd(st, 6, argv);
        if (r == NULL) {
            rc = PIT_ERR_REDIS;
            break;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            rc = pit_st_fail(st, "SCAN", r);
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
        qsort(list, *n, sizeof(char *), pit_st_cmp_str);
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
    n = 0;
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

    rc = pit_st_get_value(st, key, PIT_JSON_MAX, &r);
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
    r = pit_st_cmd(st, 2, argv);
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

    r = pit_st_cmd(st, 2 + (int) in->ntokens, argv);
    if (r == NULL) {
        return PIT_ERR_REDIS;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != in->ntokens) {
        rc = pit_st_fail(st, "HMGET", r);
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

/* Queues SET of every token key of in, with PEXPIREAT on a "previous"
 * one so that Redis itself drops it at the deadline. */
pit_err_t
pit_batch_token_keys(pit_store_t *st, pit_batch_t *b,
    const pit_integration_t *in)
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

        rc = pit_batch_add(b, 3, "SET", key, json);

        if (rc == PIT_OK && in->tokens[i].role == PIT_ROLE_PREVIOUS) {
            snprintf(until, sizeof(until), "%lld",
                     (long long) in->tokens[i].until_ms);
            rc = pit_batch_add(b, 3, "PEXPIREAT", key, until);
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
            rc = pit_batch_add(b, 2, "DEL", key);
        }

        if (rc == PIT_OK && new != NULL) {
            rc = pit_batch_add(b, 3, "HDEL", used, old->tokens[i].hash);
        }
    }

    return rc;
}


/* Queues SET of the integration record. */
pit_err_t
pit_batch_integration(pit_store_t *st, pit_batch_t *b,
    const pit_integration_t *in)
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
        rc = pit_batch_add(b, 3, "SET", key, json);
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

    rc = pit_st_watch(st, key);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_st_get(st, key, holder, sizeof(holder), &len);
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
            rc = pit_st_marker_find(st);
            if (rc == PIT_OK) {
                pit_st_unwatch(st);
                return pit_st_wait(st);
            }
            if (rc != PIT_ERR_NOT_FOUND) {
                break;
            }
        }

        rc = pit_st_meta_guard(st, b, now);
        if (rc != PIT_OK) {
            break;
        }

        rc = pit_key_name(key, sizeof(key), st->prefix, in->account,
                          in->name);
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
            rc = pit_key_account_index(key, sizeof(key), st->prefix,
                                       in->account);
        }

        if (rc == PIT_OK) {
            rc = pit_batch_add(b, 4, "ZADD", key, score, in->id);
        }

        if (rc == PIT_OK) {
            rc = pit_batch_audit(st, b, "create", in, detail, now);
        }

        if (rc != PIT_OK) {
            break;
        }

        rc = pit_batch_exec(st, b);
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
        rc = pit_st_change_begin(st);
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

    b = pit_batch_new();
    if (b == NULL) {
        return PIT_ERR_NOMEM;
    }

    snprintf(score, sizeof(score), "%lld", (long long) now);
    snprintf(detail, sizeof(detail), "token=%s", in->tokens[0].hint);

    do {
        rc = store_create_attempts(st, b, in, score, detail, now);
    } while (pit_st_failover(st, &rc));

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION) {
        if (st->c != NULL && !st->c->err) {
            pit_st_unwatch(st);
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
pit_err_t
pit_batch_delete_integration(pit_store_t *st, pit_batch_t *b,
    const pit_integration_t *old)
{
    char       key[PIT_KEY_MAX];
    pit_err_t  rc;

    rc = batch_dropped_tokens(st, b, old, NULL);

    if (rc == PIT_OK) {
        rc = pit_key_integration(key, sizeof(key), st->prefix, old->id);
    }
    if (rc == PIT_OK) {
        rc = pit_batch_add(b, 2, "DEL", key);
    }
    if (rc == PIT_OK) {
        rc = pit_key_name(key, sizeof(key), st->prefix, old->account,
                          old->name);
    }
    if (rc == PIT_OK) {
        rc = pit_batch_add(b, 2, "DEL", key);
    }
    if (rc == PIT_OK) {
        rc = pit_key_used(key, sizeof(key), st->prefix, old->id);
    }
    if (rc == PIT_OK) {
        rc = pit_batch_add(b, 2, "DEL", key);
    }
    if (rc == PIT_OK) {
        rc = pit_key_account_index(key, sizeof(key), st->prefix,
                                   old->account);
    }
    if (rc == PIT_OK) {
        rc = pit_batch_add(b, 3, "ZREM", key, old->id);
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
        rc = pit_batch_delete_integration(st, b, old);

        return rc == PIT_OK ? pit_batch_audit(st, b, "delete", old, "", now)
                            : rc;
    }

    rc = batch_dropped_tokens(st, b, old, new);

    if (rc == PIT_OK && strcmp(old->name, new->name) != 0) {
        rc = pit_key_name(key, sizeof(key), st->prefix, old->account,
                          old->name);
        if (rc == PIT_OK) {
            rc = pit_batch_add(b, 2, "DEL", key);
        }
        if (rc == PIT_OK) {
            rc = pit_key_name(key, sizeof(key), st->prefix, new->account,
                              new->name);
        }
        if (rc == PIT_OK) {
            rc = pit_batch_add(b, 3, "SET", key, new->id);
        }
    }

    if (rc == PIT_OK) {
        rc = pit_batch_integration(st, b, new);
    }

    if (rc == PIT_OK) {
        rc = pit_batch_token_keys(st, b, new);
    }

    return rc == PIT_OK ? pit_batch_audit(st, b, ch->action, new, detail, now)
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

        rc = pit_st_watch(st, key);
        if (rc != PIT_OK) {
            break;
        }

        if (st->maybe_applied) {
            rc = pit_st_marker_find(st);
            if (rc == PIT_OK) {
                pit_st_unwatch(st);
                if (!ch->is_delete) {
                    rc = pit_store_get(st, iid, new, now);
                }
                return rc == PIT_OK ? pit_st_wait(st) : rc;
            }
            if (rc != PIT_ERR_NOT_FOUND) {
                break;
            }
        }

        rc = pit_st_read_integration(st, iid, old);
        if (rc == PIT_OK && ch->expect != NULL) {
            *new = *old;
            (void) pit_rotation_settle(new, now);
            rc = change_expect(ch, old, new);
        }
        if (rc == PIT_OK) {
            rc = pit_st_meta_guard(st, b, now);
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

        rc = pit_batch_exec(st, b);
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

    rc = pit_st_change_begin(st);
    if (rc == PIT_OK && ch->token != NULL) {
        rc = store_new_token(st, ch->token, ch->hash, ch->hint);
    }

    if (rc != PIT_OK) {
        return rc;
    }

    old = malloc(sizeof(pit_integration_t));
    new = malloc(sizeof(pit_integration_t));
    b = pit_batch_new();

    if (old == NULL || new == NULL || b == NULL) {
        rc = PIT_ERR_NOMEM;
        goto done;
    }

    do {
        rc = store_change_attempts(st, b, key, iid, ch, old, new, now);
    } while (pit_st_failover(st, &rc));

    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION) {
        if (st->c != NULL && !st->c->err) {
            pit_st_unwatch(st);
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
