
/*
 * pit-auth: the shared-memory cache of token records.
 *
 * One zone serves every worker, built as ngx_http_limit_req_module builds
 * its own: an rbtree keyed on the token hash, an LRU queue, slab memory
 * whose exhaustion evicts the least recently used entries instead of
 * failing a request.  An entry holds the decoded record compactly (the
 * catalogue's scopes as bits, others by name), never the JSON.
 *
 * The zone stays true through Redis's own invalidation messages, heard by
 * the subscriber (ngx_http_pit_auth_subscriber.c): while it is up and
 * heard from, entries hold until their ttl; while not, no entry is
 * honoured longer than one second after its fetch.
 * A reply is stored only if no invalidation of its key (nor a flush, nor a
 * change of the subscriber or of the server read) happened since its GET
 * was sent.
 * When Redis fails, an entry answers stale only if the subscriber was up
 * from its fetch until Redis went away: a subscriber lost while Redis
 * still answers may have missed the very change that matters.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pit_error.h"
#include "pit_token.h"
#include "pit_scope.h"
#include "pit_record.h"
#include "pit_schema.h"
#include "pit_catalog.h"

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_cache.h"


#define NGX_HTTP_PIT_AUTH_CACHE_EVICT_MAX  64
#define NGX_HTTP_PIT_AUTH_CACHE_BITS       128    /* catalogue scopes */
#define NGX_HTTP_PIT_AUTH_CACHE_DATA_MAX                                      \
    (PIT_ACCOUNT_MAX + PIT_SCOPES_MAX * (PIT_SCOPE_NAME_MAX + 1))


typedef struct {
    ngx_rbtree_node_t            node;       /* key: the hash's first bytes */
    ngx_queue_t                  queue;      /* LRU, most recent first */
    u_char                       hash[PIT_HASH_LEN];
    int64_t                      fetched;    /* ms: its GET was sent */
    int64_t                      expires;    /* ms: fresh until */
    int64_t                      until;      /* ms: the record's deadline */
    int64_t                      used;       /* ms: last use written */
    uint64_t                     epoch;      /* subscriber's at fetch, if
                                                it heard; 0: it did not */
    u_char                       negative;   /* no such token */
    u_char                       role;
    u_char                       acct_type;
    u_char                       acct_len;
    u_short                      extra_len;
    u_char                       iid[PIT_ID_LEN];
    u_char                       scopes[NGX_HTTP_PIT_AUTH_CACHE_BITS / 8];
    u_char                       data[1];    /* account, then extra scopes */
} ngx_http_pit_auth_cache_node_t;


/*
 * An entry's variable part: scopes of the catalogue as bits, any other
 * scope by name ("extra", space-separated), so that a typical record fits
 * in 256 bytes of zone whatever its number of scopes.
 */
typedef struct {
    u_char                       scopes[NGX_HTTP_PIT_AUTH_CACHE_BITS / 8];
    size_t                       acct_len;
    size_t                       extra_len;
    u_char                       data[NGX_HTTP_PIT_AUTH_CACHE_DATA_MAX];
} ngx_http_pit_auth_cache_value_t;









static ngx_int_t ngx_http_pit_auth_cache_zone_arg(ngx_conf_t *cf,
    ngx_str_t *arg, ngx_str_t *name, ssize_t *size);
static ngx_http_pit_auth_cache_t *ngx_http_pit_auth_cache_zone(
    ngx_conf_t *cf, ngx_str_t *name, ssize_t size, ngx_msec_t *t);
static ngx_int_t ngx_http_pit_auth_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_pit_auth_cache_rbtree_insert_value(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);
static ngx_http_pit_auth_cache_node_t *ngx_http_pit_auth_cache_find(
    ngx_http_pit_auth_cache_t *cache, u_char *hash);
static ngx_uint_t ngx_http_pit_auth_cache_fresh(
    ngx_http_pit_auth_cache_t *cache, ngx_http_pit_auth_cache_node_t *cn,
    int64_t now);
static int64_t ngx_http_pit_auth_cache_horizon(
    ngx_http_pit_auth_cache_t *cache, ngx_http_pit_auth_cache_node_t *cn);
static void ngx_http_pit_auth_cache_copy(ngx_http_pit_auth_cache_node_t *cn,
    pit_token_record_t *rec, ngx_http_pit_auth_cache_value_t *v);
static ngx_int_t ngx_http_pit_auth_cache_encode(pit_token_record_t *rec,
    ngx_http_pit_auth_cache_value_t *v);
static ngx_int_t ngx_http_pit_auth_cache_decode(pit_token_record_t *rec,
    ngx_http_pit_auth_cache_value_t *v);
static ngx_uint_t ngx_http_pit_auth_cache_still_true(
    ngx_http_pit_auth_cache_shctx_t *sh, u_char *hash,
    ngx_http_pit_auth_cache_mark_t *mark);
static ngx_http_pit_auth_cache_node_t *ngx_http_pit_auth_cache_alloc(
    ngx_http_pit_auth_cache_t *cache, size_t size, int64_t now);
static void ngx_http_pit_auth_cache_expire(ngx_http_pit_auth_cache_t *cache,
    int64_t now, ngx_uint_t n);
static void ngx_http_pit_auth_cache_free(ngx_http_pit_auth_cache_t *cache,
    ngx_http_pit_auth_cache_node_t *cn);



extern ngx_module_t  ngx_http_pit_auth_module;


/* directives */


/* pit_auth_cache zone=NAME[:SIZE] [ttl=] [negative_ttl=] [stale=] | off */

char *
ngx_http_pit_auth_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ssize_t                      size;
    ngx_str_t                   *value, name, s;
    ngx_msec_t                   t[3], *tp;
    ngx_uint_t                   i, params;
    ngx_http_pit_auth_cache_t  **field;

    field = (ngx_http_pit_auth_cache_t **) ((char *) conf + cmd->offset);

    if (*field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        *field = NULL;
        return NGX_CONF_OK;
    }

    ngx_str_null(&name);
    size = 0;
    params = 0;
    t[0] = 60000;
    t[1] = 5000;
    t[2] = 30000;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            if (ngx_http_pit_auth_cache_zone_arg(cf, &value[i], &name, &size)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            tp = &t[0];
            s.data = value[i].data + 4;

        } else if (ngx_strncmp(value[i].data, "negative_ttl=", 13) == 0) {
            tp = &t[1];
            s.data = value[i].data + 13;

        } else if (ngx_strncmp(value[i].data, "stale=", 6) == 0) {
            tp = &t[2];
            s.data = value[i].data + 6;

        } else {
            goto invalid;
        }

        s.len = value[i].data + value[i].len - s.data;
        *tp = ngx_parse_time(&s, 0);

        if (*tp == (ngx_msec_t) NGX_ERROR || (tp == &t[0] && *tp == 0)) {
            goto invalid;
        }

        params = 1;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (size == 0 && params) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ttl, negative_ttl and stale of zone \"%V\" "
                           "belong where its size is declared", &name);
        return NGX_CONF_ERROR;
    }

    *field = ngx_http_pit_auth_cache_zone(cf, &name, size, t);

    return (*field == NULL) ? NGX_CONF_ERROR : NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


/* "zone=NAME" names a zone, "zone=NAME:SIZE" declares it. */

static ngx_int_t
ngx_http_pit_auth_cache_zone_arg(ngx_conf_t *cf, ngx_str_t *arg,
    ngx_str_t *name, ssize_t *size)
{
    u_char     *p, *end;
    ngx_str_t   s;

    end = arg->data + arg->len;

    name->data = arg->data + 5;
    p = (u_char *) ngx_strlchr(name->data, end, ':');
    name->len = (p ? p : end) - name->data;

    if (p == NULL) {
        return NGX_OK;
    }

    s.data = p + 1;
    s.len = end - s.data;

    *size = ngx_parse_size(&s);

    if (*size == NGX_ERROR || *size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", arg);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Returns the zone's cache, made on first sight (a location may name a
 * zone before the one that declares it); a declaration sets its times.
 */

static ngx_http_pit_auth_cache_t *
ngx_http_pit_auth_cache_zone(ngx_conf_t *cf, ngx_str_t *name, ssize_t size,
    ngx_msec_t *t)
{
    ngx_shm_zone_t             *shm_zone;
    ngx_http_pit_auth_cache_t  *cache;

    shm_zone = ngx_shared_memory_add(cf, name, size,
                                     &ngx_http_pit_auth_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    cache = shm_zone->data;

    if (cache == NULL) {
        cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_cache_t));
        if (cache == NULL) {
            return NULL;
        }

        cache->shm_zone = shm_zone;
        shm_zone->init = ngx_http_pit_auth_cache_init_zone;
        shm_zone->data = cache;
    }

    if (size == 0) {
        return cache;
    }

    if (cache->declared) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", name);
        return NULL;
    }

    cache->declared = 1;
    cache->ttl = t[0];
    cache->negative_ttl = t[1];
    cache->stale = t[2];

    return cache;
}


/* pit_auth_last_used on|off [interval=60s] */

char *
ngx_http_pit_auth_last_used_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                      *value, s;
    ngx_http_pit_auth_last_used_t  *lu;

    lu = (ngx_http_pit_auth_last_used_t *) ((char *) conf + cmd->offset);

    if (lu->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        lu->enable = 1;

    } else if (ngx_strcmp(value[1].data, "off") == 0) {
        lu->enable = 0;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be \"on\" or "
                           "\"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "interval=", 9) != 0) {
        goto invalid;
    }

    s.data = value[2].data + 9;
    s.len = value[2].len - 9;

    lu->interval = ngx_parse_time(&s, 0);

    if (lu->interval == (ngx_msec_t) NGX_ERROR || lu->interval == 0) {
        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[2]);

    return NGX_CONF_ERROR;
}


void
ngx_http_pit_auth_last_used_init(ngx_http_pit_auth_last_used_t *lu)
{
    lu->enable = NGX_CONF_UNSET;
    lu->interval = NGX_CONF_UNSET_MSEC;
}


void
ngx_http_pit_auth_last_used_merge(ngx_http_pit_auth_last_used_t *conf,
    ngx_http_pit_auth_last_used_t *prev)
{
    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_msec_value(conf->interval, prev->interval, 60000);
}


/*
 * A zone caches one store: the hash of a token depends on the hash key,
 * its record on the backend and the prefix.
 */

ngx_int_t
ngx_http_pit_auth_cache_bind(ngx_conf_t *cf, ngx_http_pit_auth_cache_t *cache,
    ngx_http_pit_auth_redis_t *backend, ngx_http_pit_auth_redis_addr_t *addr,
    ngx_str_t *prefix, ngx_str_t *hash_key)
{
    u_char  *p;
    size_t   len;

    if (cache->backend == NULL) {
        len = prefix->len + sizeof(PIT_KEY_TOKEN_KIND);

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        /* the prefix is NUL-terminated (pit_auth_key_prefix) */

        if (pit_key_token_prefix((char *) p, len, (char *) prefix->data)
            != PIT_OK)
        {
            return NGX_ERROR;
        }

        cache->backend = backend;
        cache->prefix = *prefix;
        cache->hash_key = hash_key->data;
        cache->tok_prefix.data = p;
        cache->tok_prefix.len = ngx_strlen(p);

        /* what the entries depend on: a reload that changes it flushes */

        len = addr->host.len + addr->path.len + addr->user.len + prefix->len
              + 4 * NGX_INT_T_LEN + 8;

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        cache->identity.data = p;
        cache->identity.len = ngx_sprintf(p, "%V:%i%V/%i %V %V %uD",
                                          &addr->host, addr->port,
                                          &addr->path, addr->db, &addr->user,
                                          prefix,
                                          ngx_crc32_long(hash_key->data,
                                                         hash_key->len))
                              - p;

        return NGX_OK;
    }

    if (cache->backend != backend
        || cache->hash_key != hash_key->data
        || cache->prefix.len != prefix->len
        || ngx_strncmp(cache->prefix.data, prefix->data, prefix->len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pit_auth_cache zone \"%V\" is used with another "
                           "pit_auth_redis, pit_auth_key_prefix or "
                           "pit_auth_hash_key",
                           &cache->shm_zone->shm.name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the zone */


static ngx_int_t
ngx_http_pit_auth_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_pit_auth_cache_t  *ocache = data;

    size_t                      len;
    ngx_http_pit_auth_cache_t  *cache;

    cache = shm_zone->data;

    /* a reload keeps the zone and its entries, if they still hold */

    if (ocache) {
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;

        if (cache->identity.len != ocache->identity.len
            || ngx_strncmp(cache->identity.data, ocache->identity.data,
                           cache->identity.len)
               != 0)
        {
            ngx_shmtx_lock(&cache->shpool->mutex);
            ngx_http_pit_auth_cache_flush(cache);
            ngx_shmtx_unlock(&cache->shpool->mutex);
        }

        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_pit_auth_cache_shctx_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(cache->sh, sizeof(ngx_http_pit_auth_cache_shctx_t));

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_pit_auth_cache_rbtree_insert_value);

    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in pit_auth_cache zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in pit_auth_cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts; it is not worth a line in the log */

    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_pit_auth_cache_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t               **p;
    ngx_http_pit_auth_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = (ngx_http_pit_auth_cache_node_t *) node;
            cnt = (ngx_http_pit_auth_cache_node_t *) temp;

            p = (ngx_memcmp(cn->hash, cnt->hash, PIT_HASH_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_pit_auth_cache_node_t *
ngx_http_pit_auth_cache_find(ngx_http_pit_auth_cache_t *cache, u_char *hash)
{
    ngx_int_t                        rc;
    ngx_rbtree_key_t                 key;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_pit_auth_cache_node_t  *cn;

    ngx_memcpy(&key, hash, sizeof(ngx_rbtree_key_t));

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_pit_auth_cache_node_t *) node;

        rc = ngx_memcmp(hash, cn->hash, PIT_HASH_LEN);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* lookups */


ngx_int_t
ngx_http_pit_auth_cache_lookup(ngx_http_pit_auth_cache_t *cache,
    u_char *h, int64_t now, pit_token_record_t *rec,
    ngx_http_pit_auth_cache_mark_t *mark)
{
    ngx_int_t                         rc;
    ngx_http_pit_auth_cache_shctx_t  *sh;
    ngx_http_pit_auth_cache_node_t   *cn;
    ngx_http_pit_auth_cache_value_t   v;

    mark->sent = now;

    sh = cache->sh;

    ngx_shmtx_lock(&cache->shpool->mutex);

    mark->inval_seq = sh->inval_seq;
    mark->flush_seq = sh->flush_seq;
    mark->sub_epoch = sh->sub_epoch;

    cn = ngx_http_pit_auth_cache_find(cache, h);

    if (cn == NULL || !ngx_http_pit_auth_cache_fresh(cache, cn, now)) {
        sh->counters.misses++;
        rc = NGX_AGAIN;

    } else if (cn->negative) {
        sh->counters.negative_hits++;
        rc = NGX_DECLINED;

    } else {
        sh->counters.hits++;
        ngx_http_pit_auth_cache_copy(cn, rec, &v);
        rc = NGX_OK;
    }

    if (cn && rc != NGX_AGAIN) {
        ngx_queue_remove(&cn->queue);
        ngx_queue_insert_head(&sh->queue, &cn->queue);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (rc == NGX_OK) {

        /* the record is rebuilt outside the lock */

        rc = ngx_http_pit_auth_cache_decode(rec, &v);
    }

    return rc;
}


/*
 * An entry is fresh until it expires, and, while Redis cannot tell us of
 * changes, for one second after its fetch at most.
 */

static ngx_uint_t
ngx_http_pit_auth_cache_fresh(ngx_http_pit_auth_cache_t *cache,
    ngx_http_pit_auth_cache_node_t *cn, int64_t now)
{
    if (now >= cn->expires) {
        return 0;
    }

    /* a replica too far behind would not carry a revocation yet */

    return (ngx_http_pit_auth_cache_sure(cache->sh, now)
            && ngx_http_pit_auth_redis_fresh(cache->backend))
           || now - cn->fetched < NGX_HTTP_PIT_AUTH_CACHE_UNSURE;
}


ngx_uint_t
ngx_http_pit_auth_cache_sure(ngx_http_pit_auth_cache_shctx_t *sh, int64_t now)
{
    return sh->sub_up && now - sh->sub_beat <= NGX_HTTP_PIT_AUTH_CACHE_SILENT;
}


/* The end of an entry's life: past it, not even Redis's absence serves it. */

static int64_t
ngx_http_pit_auth_cache_horizon(ngx_http_pit_auth_cache_t *cache,
    ngx_http_pit_auth_cache_node_t *cn)
{
    int64_t  end;

    if (cn->negative) {
        return cn->expires;
    }

    end = cn->expires + (int64_t) cache->stale;

    if (cn->role == PIT_ROLE_PREVIOUS && cn->until < end) {
        end = cn->until;
    }

    return end;
}


/* Copies the fixed fields into rec and the rest into v; under lock. */

static void
ngx_http_pit_auth_cache_copy(ngx_http_pit_auth_cache_node_t *cn,
    pit_token_record_t *rec, ngx_http_pit_auth_cache_value_t *v)
{
    ngx_memcpy(rec->iid, cn->iid, PIT_ID_LEN);
    rec->iid[PIT_ID_LEN] = '\0';
    rec->acct_type = cn->acct_type;
    rec->role = cn->role;
    rec->until_ms = cn->until;

    ngx_memcpy(v->scopes, cn->scopes, sizeof(v->scopes));
    v->acct_len = cn->acct_len;
    v->extra_len = cn->extra_len;
    ngx_memcpy(v->data, cn->data, v->acct_len + v->extra_len);
}


static ngx_int_t
ngx_http_pit_auth_cache_encode(pit_token_record_t *rec,
    ngx_http_pit_auth_cache_value_t *v)
{
    size_t                      i, n, len;
    u_char                     *p, *last;
    const pit_catalog_entry_t  *cat, *ce;

    cat = pit_catalog(&n);

    ngx_memzero(v->scopes, sizeof(v->scopes));
    v->acct_len = ngx_strlen(rec->acct);

    p = ngx_cpymem(v->data, rec->acct, v->acct_len);
    last = v->data + sizeof(v->data);

    for (i = 0; i < rec->scopes.n; i++) {
        len = ngx_strlen(rec->scopes.names[i]);
        ce = pit_catalog_find(rec->scopes.names[i], len);

        if (ce && ce - cat < NGX_HTTP_PIT_AUTH_CACHE_BITS) {
            v->scopes[(ce - cat) / 8] |= (u_char) (1 << ((ce - cat) % 8));
            continue;
        }

        if ((size_t) (last - p) < len + 1) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(p, rec->scopes.names[i], len);
        *p++ = ' ';
    }

    v->extra_len = p - v->data - v->acct_len;

    return NGX_OK;
}


/* The catalogue is sorted as a scope set is: its bits come out in order. */

static ngx_int_t
ngx_http_pit_auth_cache_decode(pit_token_record_t *rec,
    ngx_http_pit_auth_cache_value_t *v)
{
    u_char                     *p, *q, *last;
    size_t                      i, n;
    ngx_uint_t                  bits;
    const pit_catalog_entry_t  *cat;

    ngx_memcpy(rec->acct, v->data, v->acct_len);
    rec->acct[v->acct_len] = '\0';

    cat = pit_catalog(&n);
    n = ngx_min(n, NGX_HTTP_PIT_AUTH_CACHE_BITS);
    rec->scopes.n = 0;

    /* a byte at a time: a record has few scopes, most bytes are 0 */

    for (i = 0; i < n; i++) {
        bits = v->scopes[i / 8] >> (i % 8);

        if (bits == 0) {
            i |= 7;
            continue;
        }

        if (bits & 1) {
            ngx_cpystrn((u_char *) rec->scopes.names[rec->scopes.n++],
                        (u_char *) cat[i].name, PIT_SCOPE_NAME_MAX + 1);
        }
    }

    p = v->data + v->acct_len;
    last = p + v->extra_len;

    while (p < last) {
        q = ngx_strlchr(p, last, ' ');

        if (q == NULL
            || pit_scope_set_add(&rec->scopes, (const char *) p, q - p)
               != PIT_OK)
        {
            return NGX_AGAIN;
        }

        p = q + 1;
    }

    return NGX_OK;
}


/*
 * Stores the answer to a GET (rec NULL: no such key), unless the key may
 * have changed since the GET was sent: an invalidation of it, a flush or a
 * change of the subscriber in between makes the answer doubtful.  Any
 * answer ends a run of failed lookups.
 */

void
ngx_http_pit_auth_cache_store(ngx_http_pit_auth_cache_t *cache, u_char *h,
    ngx_http_pit_auth_cache_mark_t *mark, pit_token_record_t *rec,
    ngx_log_t *log)
{
    int64_t                           used, now;
    ngx_http_pit_auth_cache_node_t   *cn;
    ngx_http_pit_auth_cache_shctx_t  *sh;
    ngx_http_pit_auth_cache_value_t   v;

    ngx_memzero(v.scopes, sizeof(v.scopes));
    v.acct_len = 0;
    v.extra_len = 0;

    if (rec && ngx_http_pit_auth_cache_encode(rec, &v) != NGX_OK) {
        return;
    }

    sh = cache->sh;
    now = ngx_http_pit_auth_cache_now();

    ngx_shmtx_lock(&cache->shpool->mutex);

    sh->failing = 0;

    if (!ngx_http_pit_auth_cache_still_true(sh, h, mark)) {
        ngx_shmtx_unlock(&cache->shpool->mutex);

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0,
                       "pit_auth cache: reply not stored, key changed");
        return;
    }

    used = 0;
    cn = ngx_http_pit_auth_cache_find(cache, h);

    if (cn) {
        used = cn->used;
        ngx_http_pit_auth_cache_free(cache, cn);
    }

    if (rec == NULL && cache->negative_ttl == 0) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    ngx_http_pit_auth_cache_expire(cache, mark->sent, 2);

    cn = ngx_http_pit_auth_cache_alloc(cache,
                 offsetof(ngx_http_pit_auth_cache_node_t, data)
                 + v.acct_len + v.extra_len, mark->sent);

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    ngx_memcpy(&cn->node.key, h, sizeof(ngx_rbtree_key_t));
    ngx_memcpy(cn->hash, h, PIT_HASH_LEN);
    cn->fetched = mark->sent;
    cn->used = used;

    /*
     * The epoch has not changed since the GET was sent (still_true), so a
     * subscriber hearing now was up since then; an entry fetched while it
     * was not is never served stale: no message would have removed it.
     */

    cn->epoch = ngx_http_pit_auth_cache_sure(sh, now) ? sh->sub_epoch : 0;
    cn->negative = (rec == NULL);
    cn->acct_len = (u_char) v.acct_len;
    cn->extra_len = (u_short) v.extra_len;
    ngx_memcpy(cn->scopes, v.scopes, sizeof(v.scopes));
    ngx_memcpy(cn->data, v.data, v.acct_len + v.extra_len);

    if (rec) {
        cn->expires = mark->sent + (int64_t) cache->ttl;
        cn->until = rec->until_ms;
        cn->role = (u_char) rec->role;
        cn->acct_type = (u_char) rec->acct_type;
        ngx_memcpy(cn->iid, rec->iid, PIT_ID_LEN);

        /* a previous token's entry never outlives its deadline */

        if (rec->role == PIT_ROLE_PREVIOUS && cn->until < cn->expires) {
            cn->expires = cn->until;
        }

    } else {
        cn->expires = mark->sent + (int64_t) cache->negative_ttl;
        cn->until = 0;
        cn->role = 0;
        cn->acct_type = 0;
        ngx_memzero(cn->iid, PIT_ID_LEN);
    }

    ngx_rbtree_insert(&sh->rbtree, &cn->node);
    ngx_queue_insert_head(&sh->queue, &cn->queue);

    sh->entries++;
    sh->counters.stores++;

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


static ngx_uint_t
ngx_http_pit_auth_cache_still_true(ngx_http_pit_auth_cache_shctx_t *sh,
    u_char *hash, ngx_http_pit_auth_cache_mark_t *mark)
{
    uint64_t  i, n;

    if (mark->flush_seq != sh->flush_seq || mark->sub_epoch != sh->sub_epoch
        || mark->read_gen != sh->sub_read_gen)
    {
        /* read elsewhere than the subscriber listens: an invalidation
         * may have overtaken the data it announces */

        return 0;
    }

    n = sh->inval_seq - mark->inval_seq;

    if (n > NGX_HTTP_PIT_AUTH_CACHE_RECENT) {
        return 0;
    }

    for (i = mark->inval_seq; i < sh->inval_seq; i++) {
        if (ngx_memcmp(sh->recent[i % NGX_HTTP_PIT_AUTH_CACHE_RECENT], hash,
                       PIT_HASH_LEN)
            == 0)
        {
            return 0;
        }
    }

    return 1;
}


/* A full zone evicts from the cold end of the queue; never an error. */

static ngx_http_pit_auth_cache_node_t *
ngx_http_pit_auth_cache_alloc(ngx_http_pit_auth_cache_t *cache, size_t size,
    int64_t now)
{
    ngx_uint_t                       i;
    ngx_queue_t                     *q;
    ngx_http_pit_auth_cache_node_t  *cn;

    for (i = 0; i < NGX_HTTP_PIT_AUTH_CACHE_EVICT_MAX; i++) {

        cn = ngx_slab_alloc_locked(cache->shpool, size);

        if (cn) {
            return cn;
        }

        if (ngx_queue_empty(&cache->sh->queue)) {
            return NULL;
        }

        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_pit_auth_cache_node_t, queue);

        if (now < ngx_http_pit_auth_cache_horizon(cache, cn)) {
            cache->sh->counters.evictions++;

        } else {
            cache->sh->counters.expirations++;
        }

        ngx_http_pit_auth_cache_free(cache, cn);
    }

    return NULL;
}


/* Removes up to n entries past their horizon from the cold end. */

static void
ngx_http_pit_auth_cache_expire(ngx_http_pit_auth_cache_t *cache, int64_t now,
    ngx_uint_t n)
{
    ngx_queue_t                     *q;
    ngx_http_pit_auth_cache_node_t  *cn;

    while (n-- && !ngx_queue_empty(&cache->sh->queue)) {

        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_pit_auth_cache_node_t, queue);

        if (now < ngx_http_pit_auth_cache_horizon(cache, cn)) {
            return;
        }

        cache->sh->counters.expirations++;

        ngx_http_pit_auth_cache_free(cache, cn);
    }
}


/* Unlinks an entry and zeroes it before its memory goes back. */

static void
ngx_http_pit_auth_cache_free(ngx_http_pit_auth_cache_t *cache,
    ngx_http_pit_auth_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);

    ngx_explicit_memzero(cn, offsetof(ngx_http_pit_auth_cache_node_t, data)
                             + cn->acct_len + cn->extra_len);

    ngx_slab_free_locked(cache->shpool, cn);

    cache->sh->entries--;
}


/* Empties the zone; under lock. */

void
ngx_http_pit_auth_cache_flush(ngx_http_pit_auth_cache_t *cache)
{
    ngx_queue_t                     *q;
    ngx_http_pit_auth_cache_node_t  *cn;

    while (!ngx_queue_empty(&cache->sh->queue)) {
        q = ngx_queue_head(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_pit_auth_cache_node_t, queue);
        ngx_http_pit_auth_cache_free(cache, cn);
    }

    cache->sh->flush_seq++;
    cache->sh->counters.flushes++;
}


/*
 * The GET failed: an entry that expired less than "stale" ago still
 * serves, unless an invalidation removed it or one may have been lost: the
 * subscriber must have been up from the entry's fetch until Redis became
 * unreachable (sh->stale_from, set by ngx_http_pit_auth_sub_down()).
 * Returns NGX_OK with rec.
 */

ngx_int_t
ngx_http_pit_auth_cache_stale(ngx_http_pit_auth_cache_t *cache, u_char *h,
    int64_t now, pit_token_record_t *rec, ngx_log_t *log)
{
    ngx_int_t                         rc;
    ngx_uint_t                        tell;
    ngx_http_pit_auth_cache_node_t   *cn;
    ngx_http_pit_auth_cache_shctx_t  *sh;
    ngx_http_pit_auth_cache_value_t   v;

    sh = cache->sh;
    rc = NGX_DECLINED;
    tell = 0;

    ngx_shmtx_lock(&cache->shpool->mutex);

    sh->counters.redis_errors++;

    /* a subscriber lost from now on is explained by this failure */

    if (sh->failing == 0) {
        sh->failing = now;
    }

    cn = ngx_http_pit_auth_cache_find(cache, h);

    if (cn && !cn->negative
        && now < ngx_http_pit_auth_cache_horizon(cache, cn))
    {
        if (cn->epoch == 0 || cn->epoch < sh->stale_from) {
            sh->counters.stale_refused++;
            rc = NGX_DECLINED;

        } else {
            sh->counters.stale++;
            ngx_http_pit_auth_cache_copy(cn, rec, &v);
            rc = NGX_OK;
        }

        if (now - sh->stale_logged >= 1000) {
            sh->stale_logged = now;
            tell = 1;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (rc != NGX_OK) {
        if (tell) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "pit_auth: redis unavailable, not serving cached "
                          "token records stale from zone \"%V\": "
                          "invalidations may have been lost since their "
                          "fetch", &cache->shm_zone->shm.name);
        }

        return rc;
    }

    if (tell) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "pit_auth: redis unavailable, serving cached token "
                      "records up to %M ms past their ttl from zone \"%V\"",
                      cache->stale, &cache->shm_zone->shm.name);
    }

    return ngx_http_pit_auth_cache_decode(rec, &v) == NGX_OK ? NGX_OK
                                                             : NGX_DECLINED;
}


/*
 * Records a use of a token: HSET <prefix>used:<iid> <hash> <ms>, fire and
 * forget, at most once per interval per token, as the zone remembers.
 */

void
ngx_http_pit_auth_cache_used(ngx_http_pit_auth_cache_t *cache, u_char *h,
    pit_token_record_t *rec, int64_t now, ngx_msec_t interval)
{
    u_char                           hash[PIT_HASH_HEX_LEN];
    u_char                           key[PIT_KEY_MAX], ms[NGX_INT64_LEN];
    size_t                           lens[4];
    ngx_uint_t                       write;
    const char                      *argv[4];
    ngx_http_pit_auth_cache_node_t  *cn;

    if (pit_key_used((char *) key, sizeof(key),
                     (const char *) cache->prefix.data, rec->iid)
        != PIT_OK)
    {
        return;
    }

    write = 0;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_pit_auth_cache_find(cache, h);

    if (cn && !cn->negative
        && (cn->used == 0 || now - cn->used >= (int64_t) interval))
    {
        cn->used = now;
        cache->sh->counters.last_used_writes++;
        write = 1;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (!write) {
        return;
    }

    pit_hex_encode(h, PIT_HASH_LEN, (char *) hash);

    argv[0] = "HSET";
    lens[0] = 4;
    argv[1] = (const char *) key;
    lens[1] = ngx_strlen(key);
    argv[2] = (const char *) hash;
    lens[2] = PIT_HASH_HEX_LEN;
    argv[3] = (const char *) ms;
    lens[3] = ngx_sprintf(ms, "%L", now) - ms;

    /* to the primary; none known: dropped and counted */

    if (ngx_http_pit_auth_redis_write(cache->backend, 4, argv, lens)
        != NGX_OK)
    {
        ngx_shmtx_lock(&cache->shpool->mutex);
        cache->sh->counters.last_used_dropped++;
        ngx_shmtx_unlock(&cache->shpool->mutex);
    }
}


/* Evicts the entry a key names (<prefix>tok:<64 hex>); under no lock. */

void
ngx_http_pit_auth_cache_invalidate(ngx_http_pit_auth_cache_t *cache,
    u_char *key, size_t len)
{
    u_char                            h[PIT_HASH_LEN];
    const char                       *hex;
    ngx_http_pit_auth_cache_node_t   *cn;
    ngx_http_pit_auth_cache_shctx_t  *sh;

    if (pit_key_token_parse((const char *) key, len,
                            (const char *) cache->prefix.data,
                            cache->prefix.len, &hex)
        != PIT_OK
        || pit_hex_decode(hex, PIT_HASH_LEN, h) != PIT_OK)
    {
        return;
    }

    sh = cache->sh;

    ngx_shmtx_lock(&cache->shpool->mutex);

    ngx_memcpy(sh->recent[sh->inval_seq % NGX_HTTP_PIT_AUTH_CACHE_RECENT], h,
               PIT_HASH_LEN);
    sh->inval_seq++;
    sh->counters.invalidations++;

    cn = ngx_http_pit_auth_cache_find(cache, h);

    if (cn) {
        ngx_http_pit_auth_cache_free(cache, cn);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


int64_t
ngx_http_pit_auth_cache_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}

