/*
 * pit-auth core, the store (pit_store.c): the store mark <prefix>meta
 * (pit_meta.h), read and checked before every change.
 */

#include <stdio.h>

#include "pit_meta.h"
#include "pit_schema.h"
#include "pit_store.h"
#include "pit_store_int.h"


/* ------------------------------------------------------------------------
 * The store mark
 * --------------------------------------------------------------------- */

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
pit_err_t
pit_st_meta_guard(pit_store_t *st, pit_batch_t *b, int64_t now)
{
    char        key[PIT_KEY_MAX], json[PIT_META_JSON_MAX + 1];
    char        was[64], mine_s[64], detail[PIT_AUDIT_FIELD_MAX];
    pit_meta_t  mine, theirs;
    size_t      len;
    pit_err_t   rc, got;

    rc = pit_key_meta(key, sizeof(key), st->prefix);
    if (rc == PIT_OK) {
        rc = pit_st_watch(st, key);
    }
    if (rc == PIT_OK) {
        rc = pit_store_meta_mine(st, &mine, now);
    }
    if (rc != PIT_OK) {
        return rc;
    }

    got = pit_st_get(st, key, json, sizeof(json), &len);
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
            snprintf(st->err, sizeof(st->err), "%.200s is marked %s, and "
                     "pitctl hashes with %s", key, was, mine_s);
            return PIT_ERR_META;
        }

        snprintf(detail, sizeof(detail), "%s (was %s)", mine_s, was);
        rc = pit_batch_audit(st, b, "force-meta", NULL, detail, now);
        if (rc != PIT_OK) {
            return rc;
        }
    }

    rc = pit_meta_to_json(&mine, json, sizeof(json), &len);
    return rc == PIT_OK ? pit_batch_add(b, 3, "SET", key, json) : rc;
}


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
        rc = pit_st_get(st, key, json, sizeof(json), &len);
    }

    if (rc == PIT_OK && pit_meta_from_json(json, len, m) != PIT_OK) {
        snprintf(st->err, sizeof(st->err), "%.400s does not decode", key);
        rc = PIT_ERR_CORRUPT;
    }

    return rc;
}
