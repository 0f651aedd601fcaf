
/*
 * pit-auth: the store mark, checked once per lookup connection.
 *
 * pitctl marks the store it writes with <prefix>meta (schema version,
 * hash mode, a fingerprint of the hash key).  A GET of that key is queued
 * behind AUTH and SELECT on every new connection, for each prefix and hash
 * key that locations use on it; a missing or different mark is logged at
 * [warn] once per connection.  It never decides a request: a token is
 * still looked up the same way.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "pit_error.h"
#include "pit_meta.h"
#include "pit_schema.h"

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_mark.h"


struct ngx_http_pit_auth_mark_s {
    ngx_http_pit_auth_redis_t           *rd;
    ngx_str_t                            key;        /* <prefix>meta */
    ngx_str_t                            hash_key;   /* raw bytes */
    ngx_int_t                            db;         /* for the log */
    ngx_http_pit_auth_redis_callback_t   cb;
    ngx_uint_t                           state;      /* in this worker */
};


static void ngx_http_pit_auth_mark_connected(ngx_http_pit_auth_redis_t *rd,
    void *data);
static void ngx_http_pit_auth_mark_reply(void *data, void *reply);


static ngx_str_t  ngx_http_pit_auth_mark_states[] = {
    ngx_string("unknown"),
    ngx_string("ok"),
    ngx_string("missing"),
    ngx_string("mismatch"),
    ngx_string("unreadable")
};


ngx_int_t
ngx_http_pit_auth_mark_expect(ngx_conf_t *cf, ngx_array_t *marks,
    ngx_http_pit_auth_redis_t *rd, ngx_int_t db, ngx_str_t *prefix,
    ngx_str_t *hash_key)
{
    u_char                     buf[PIT_PREFIX_MAX + 16];
    ngx_uint_t                 i;
    ngx_http_pit_auth_mark_t  *m, **mp;

    if (pit_key_meta((char *) buf, sizeof(buf), (const char *) prefix->data)
        != PIT_OK)
    {
        return NGX_ERROR;
    }

    mp = marks->elts;

    for (i = 0; i < marks->nelts; i++) {
        if (mp[i]->rd == rd
            && mp[i]->key.len == ngx_strlen(buf)
            && ngx_strncmp(mp[i]->key.data, buf, mp[i]->key.len) == 0
            && mp[i]->hash_key.len == hash_key->len
            && (hash_key->len == 0
                || ngx_memcmp(mp[i]->hash_key.data, hash_key->data,
                              hash_key->len)
                   == 0))
        {
            return NGX_OK;
        }
    }

    m = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_mark_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->rd = rd;
    m->key.len = ngx_strlen(buf);
    m->key.data = ngx_pnalloc(cf->pool, m->key.len);
    m->hash_key = *hash_key;
    m->db = db;
    m->cb.handler = ngx_http_pit_auth_mark_reply;
    m->cb.data = m;

    if (m->key.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(m->key.data, buf, m->key.len);

    mp = ngx_array_push(marks);
    if (mp == NULL) {
        return NGX_ERROR;
    }

    *mp = m;

    return ngx_http_pit_auth_redis_when_connected(cf, rd,
                                              ngx_http_pit_auth_mark_connected,
                                              m);
}


static void
ngx_http_pit_auth_mark_connected(ngx_http_pit_auth_redis_t *rd, void *data)
{
    ngx_http_pit_auth_mark_t  *m = data;

    size_t       lens[2];
    const char  *argv[2];

    argv[0] = "GET";
    lens[0] = 3;
    argv[1] = (const char *) m->key.data;
    lens[1] = m->key.len;

    (void) ngx_http_pit_auth_redis_command(rd, &m->cb, 2, argv, lens);
}


static void
ngx_http_pit_auth_mark_reply(void *data, void *reply)
{
    ngx_http_pit_auth_mark_t  *m = data;

    char         want[PIT_FINGERPRINT_LEN + 1];
    ngx_log_t   *log;
    ngx_str_t   *name;
    pit_meta_t   meta;
    redisReply  *rp;

    rp = reply;

    if (rp == NULL) {
        return;     /* the connection went first: asked again on the next */
    }

    log = ngx_cycle->log;
    name = ngx_http_pit_auth_redis_name(m->rd);

    switch (rp->type) {

    case REDIS_REPLY_NIL:
        m->state = NGX_HTTP_PIT_AUTH_MARK_MISSING;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "pit_auth: redis %V db=%i: no store mark \"%V\": a "
                      "wrong pit_auth_key_prefix or database, or an empty "
                      "Redis (every token would be unknown; see pitctl "
                      "doctor)", name, m->db, &m->key);
        return;

    case REDIS_REPLY_STRING:
        break;

    default:
        m->state = NGX_HTTP_PIT_AUTH_MARK_ERROR;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "pit_auth: redis %V: cannot read the store mark "
                      "\"%V\": %*s", name, &m->key,
                      (size_t) (rp->type == REDIS_REPLY_ERROR
                                ? ngx_min(rp->len, 200) : 0),
                      rp->str ? rp->str : "");
        return;
    }

    if (pit_meta_from_json(rp->str, rp->len, &meta) != PIT_OK) {
        m->state = NGX_HTTP_PIT_AUTH_MARK_ERROR;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "pit_auth: redis %V: the store mark \"%V\" does not "
                      "decode", name, &m->key);
        return;
    }

    if (pit_meta_check_key(&meta, m->hash_key.data, m->hash_key.len)
        == PIT_OK)
    {
        m->state = NGX_HTTP_PIT_AUTH_MARK_OK;
        return;
    }

    m->state = NGX_HTTP_PIT_AUTH_MARK_MISMATCH;

    if (pit_meta_fingerprint(m->hash_key.data, m->hash_key.len, want)
        != PIT_OK)
    {
        want[0] = '\0';
    }

    /* fingerprints name keys without revealing them */

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "pit_auth: redis %V: the store \"%V\" is hashed with %s "
                  "(key fingerprint \"%s\"), this configuration with %s "
                  "(key fingerprint \"%s\"): check pit_auth_hash_key and "
                  "pitctl's --hash-key", name, &m->key,
                  pit_hash_mode_name(meta.hash), meta.fingerprint,
                  m->hash_key.len ? "hmac-sha256" : "sha256", want);
}


size_t
ngx_http_pit_auth_mark_stats_size(ngx_array_t *marks)
{
    size_t                      size;
    ngx_uint_t                  i;
    ngx_http_pit_auth_mark_t  **mp;

    size = 2;
    mp = marks->elts;

    for (i = 0; i < marks->nelts; i++) {
        size += sizeof("{\"backend\":\"\",\"key\":\"\",\"mark\":\"unreadable\"},")
                + ngx_http_pit_auth_redis_name(mp[i]->rd)->len * 6
                + mp[i]->key.len * 6;
    }

    return size;
}


u_char *
ngx_http_pit_auth_mark_stats(u_char *p, ngx_array_t *marks)
{
    ngx_uint_t                  i;
    ngx_str_t                  *name;
    ngx_http_pit_auth_mark_t  **mp;

    mp = marks->elts;
    *p++ = '[';

    for (i = 0; i < marks->nelts; i++) {
        name = ngx_http_pit_auth_redis_name(mp[i]->rd);

        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, "{\"backend\":\"", sizeof("{\"backend\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, name->data, name->len);
        p = ngx_cpymem(p, "\",\"key\":\"", sizeof("\",\"key\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, mp[i]->key.data, mp[i]->key.len);
        p = ngx_sprintf(p, "\",\"mark\":\"%V\"}",
                        &ngx_http_pit_auth_mark_states[mp[i]->state]);
    }

    *p++ = ']';

    return p;
}
