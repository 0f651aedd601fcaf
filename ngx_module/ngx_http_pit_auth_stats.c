
/*
 * pit-auth: pit_auth_stats answers GET with the counters of every cache
 * zone, as stub_status does for connections.  Protect it the same way.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_cache.h"
#include "ngx_http_pit_auth_fleet.h"
#include "ngx_http_pit_auth_stats.h"


static ngx_int_t ngx_http_pit_auth_stats_handler(ngx_http_request_t *r);
static u_char *ngx_http_pit_auth_stats_zone(u_char *p,
    ngx_http_pit_auth_cache_t *cache);

extern ngx_module_t  ngx_http_pit_auth_module;


char *
ngx_http_pit_auth_stats_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = ngx_http_pit_auth_stats_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_pit_auth_stats_handler(ngx_http_request_t *r)
{
    u_char                     *p;
    size_t                      size;
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_uint_t                  i, n;
    ngx_chain_t                 out;
    ngx_list_part_t            *part, *first;
    ngx_shm_zone_t             *shm_zone;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    size = sizeof("{\"zones\":{},\"backends\":{}}\n")
           + ngx_http_pit_auth_fleet_stats_size();
    first = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;

    for (part = first; part; part = part->next) {
        shm_zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (shm_zone[i].tag == &ngx_http_pit_auth_module) {
                size += shm_zone[i].shm.name.len + 768;
            }
        }
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, "{\"zones\":{", sizeof("{\"zones\":{") - 1);
    n = 0;

    for (part = first; part; part = part->next) {
        shm_zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (shm_zone[i].tag != &ngx_http_pit_auth_module
                || shm_zone[i].data == NULL)
            {
                continue;
            }

            if (n++) {
                *p++ = ',';
            }

            p = ngx_http_pit_auth_stats_zone(p, shm_zone[i].data);
        }
    }

    p = ngx_cpymem(p, "},\"backends\":{", sizeof("},\"backends\":{") - 1);
    p = ngx_http_pit_auth_fleet_stats(p);
    p = ngx_cpymem(p, "}}\n", 3);
    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static u_char *
ngx_http_pit_auth_stats_zone(u_char *p, ngx_http_pit_auth_cache_t *cache)
{
    int64_t                             now;
    ngx_pid_t                           pid;
    ngx_uint_t                          entries, sure, sfree;
    ngx_http_pit_auth_cache_counters_t  c;

    now = ngx_http_pit_auth_cache_now();

    ngx_shmtx_lock(&cache->shpool->mutex);

    c = cache->sh->counters;
    entries = cache->sh->entries;
    sure = ngx_http_pit_auth_cache_sure(cache->sh, now);
    pid = cache->sh->sub_pid;
    sfree = cache->shpool->pfree << ngx_pagesize_shift;

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return ngx_sprintf(p, "\"%V\":{\"size\":%uz,\"free\":%ui,"
                       "\"entries\":%ui,\"hits\":%uL,\"misses\":%uL,"
                       "\"negative_hits\":%uL,\"stores\":%uL,"
                       "\"evictions\":%uL,\"expirations\":%uL,"
                       "\"invalidations\":%uL,\"flushes\":%uL,"
                       "\"stale\":%uL,\"stale_refused\":%uL,"
                       "\"redis_errors\":%uL,"
                       "\"last_used_writes\":%uL,"
                       "\"last_used_dropped\":%uL,\"subscriber\":\"%s\","
                       "\"subscriber_pid\":%P}",
                       &cache->shm_zone->shm.name, cache->shm_zone->shm.size,
                       sfree, entries, c.hits, c.misses, c.negative_hits,
                       c.stores, c.evictions, c.expirations, c.invalidations,
                       c.flushes, c.stale, c.stale_refused, c.redis_errors,
                       c.last_used_writes, c.last_used_dropped,
                       sure ? "up" : "down", pid);
}