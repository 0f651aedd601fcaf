
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
char *ngx_http_pit_auth_stats_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

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

void ngx_http_pit_auth_cache_init_process(ngx_cycle_t *cycle);
void ngx_http_pit_auth_cache_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_PIT_AUTH_CACHE_H_INCLUDED_ */
