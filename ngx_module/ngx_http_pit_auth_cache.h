
/*
 * pit-auth: the shared-memory cache of token records, kept true by Redis's
 * own invalidation messages, and the last-use tracking built on it.
 */


#ifndef _NGX_HTTP_PIT_AUTH_CACHE_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pit_record.h"

#include "ngx_http_pit_auth_redis.h"


typedef struct ngx_http_pit_auth_cache_s  ngx_http_pit_auth_cache_t;


/* What a lookup saw, so that its reply is stored only if still true. */
typedef struct {
    uint64_t                     inval_seq;
    uint64_t                     flush_seq;
    uint64_t                     sub_epoch;
    uint64_t                     read_gen;      /* the server asked */
    int64_t                      sent;          /* ms */
} ngx_http_pit_auth_cache_mark_t;


/* pit_auth_last_used on|off [interval=60s] */
typedef struct {
    ngx_flag_t                   enable;
    ngx_msec_t                   interval;
} ngx_http_pit_auth_last_used_t;


/* directives: conf + cmd->offset slots, as the stock setters */
char *ngx_http_pit_auth_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pit_auth_last_used_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

void ngx_http_pit_auth_last_used_init(ngx_http_pit_auth_last_used_t *lu);
void ngx_http_pit_auth_last_used_merge(ngx_http_pit_auth_last_used_t *conf,
    ngx_http_pit_auth_last_used_t *prev);

/* binds a zone to the store it caches (one backend, prefix and hash key) */
ngx_int_t ngx_http_pit_auth_cache_bind(ngx_conf_t *cf,
    ngx_http_pit_auth_cache_t *cache, ngx_http_pit_auth_redis_t *backend,
    ngx_http_pit_auth_redis_addr_t *addr, ngx_str_t *prefix,
    ngx_str_t *hash_key);

/*
 * hash is the token's raw hash, PIT_HASH_LEN bytes.  lookup returns NGX_OK
 * (rec filled), NGX_DECLINED (known unknown token) or NGX_AGAIN (ask
 * Redis; mark filled for store).
 */
ngx_int_t ngx_http_pit_auth_cache_lookup(ngx_http_pit_auth_cache_t *cache,
    u_char *hash, int64_t now, pit_token_record_t *rec,
    ngx_http_pit_auth_cache_mark_t *mark);
void ngx_http_pit_auth_cache_store(ngx_http_pit_auth_cache_t *cache,
    u_char *hash, ngx_http_pit_auth_cache_mark_t *mark,
    pit_token_record_t *rec, ngx_log_t *log);
ngx_int_t ngx_http_pit_auth_cache_stale(ngx_http_pit_auth_cache_t *cache,
    u_char *hash, int64_t now, pit_token_record_t *rec, ngx_log_t *log);
void ngx_http_pit_auth_cache_used(ngx_http_pit_auth_cache_t *cache,
    u_char *hash, pit_token_record_t *rec, int64_t now, ngx_msec_t interval);

/*
 * The zone, as the cache, its invalidation subscriber and pit_auth_stats
 * share it (module-internal).
 */

#define NGX_HTTP_PIT_AUTH_CACHE_RECENT     64     /* invalidations kept */
#define NGX_HTTP_PIT_AUTH_CACHE_UNSURE     1000   /* ms, subscriber down */
#define NGX_HTTP_PIT_AUTH_CACHE_SILENT     1000   /* ms: no beat, unsure */


typedef struct ngx_http_pit_auth_subscriber_s  ngx_http_pit_auth_subscriber_t;


typedef struct {
    uint64_t                     hits;
    uint64_t                     misses;
    uint64_t                     negative_hits;
    uint64_t                     stores;
    uint64_t                     evictions;
    uint64_t                     expirations;
    uint64_t                     invalidations;
    uint64_t                     flushes;
    uint64_t                     stale;
    uint64_t                     stale_refused;
    uint64_t                     redis_errors;
    uint64_t                     last_used_writes;
    uint64_t                     last_used_dropped;
} ngx_http_pit_auth_cache_counters_t;


typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  queue;
    ngx_uint_t                   entries;
    ngx_http_pit_auth_cache_counters_t  counters;

    /* the subscriber, as every worker must see it */
    ngx_uint_t                   sub_up;
    ngx_pid_t                    sub_pid;
    uint64_t                     sub_epoch;  /* bumped at every change */
    int64_t                      sub_beat;   /* ms: last heartbeat */
    uint64_t                     sub_read_gen;  /* of the server heard */

    /* stale answers: only from entries of epochs from stale_from on */
    uint64_t                     stale_from;
    int64_t                      failing;    /* ms: lookups fail since */

    uint64_t                     inval_seq;
    uint64_t                     flush_seq;
    u_char                       recent[NGX_HTTP_PIT_AUTH_CACHE_RECENT]
                                       [PIT_HASH_LEN];
    int64_t                      stale_logged;
} ngx_http_pit_auth_cache_shctx_t;


struct ngx_http_pit_auth_cache_s {
    ngx_http_pit_auth_cache_shctx_t  *sh;
    ngx_slab_pool_t             *shpool;
    ngx_shm_zone_t              *shm_zone;
    ngx_uint_t                   declared;
    ngx_msec_t                   ttl;
    ngx_msec_t                   negative_ttl;
    ngx_msec_t                   stale;

    ngx_http_pit_auth_redis_t   *backend;    /* bound by the first user */
    ngx_str_t                    prefix;
    u_char                      *hash_key;   /* identity, not contents */
    ngx_str_t                    tok_prefix; /* <prefix>tok: */
    ngx_str_t                    identity;   /* of the store, for reloads */

    ngx_http_pit_auth_subscriber_t  *sub;    /* worker 0 only */
};


ngx_uint_t ngx_http_pit_auth_cache_sure(ngx_http_pit_auth_cache_shctx_t *sh,
    int64_t now);
void ngx_http_pit_auth_cache_flush(ngx_http_pit_auth_cache_t *cache);
void ngx_http_pit_auth_cache_invalidate(ngx_http_pit_auth_cache_t *cache,
    u_char *key, size_t len);
int64_t ngx_http_pit_auth_cache_now(void);


#endif /* _NGX_HTTP_PIT_AUTH_CACHE_H_INCLUDED_ */
