
/*
 * pit-auth: pit_auth_stats answers GET with the requests decided per
 * status, the counters of every cache zone and the state of every
 * backend, as stub_status does for connections.  Protect it the same way.
 *
 * "pit_auth_stats;" and "pit_auth_stats json;" answer JSON,
 * "pit_auth_stats prometheus;" Prometheus' text format; ?format=json or
 * ?format=prometheus chooses for one request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_cache.h"
#include "ngx_http_pit_auth_fleet.h"
#include "ngx_http_pit_auth_counters.h"
#include "ngx_http_pit_auth_stats.h"
#include "ngx_http_pit_auth_mark.h"
#include "ngx_http_pit_auth_prometheus.h"


#define NGX_HTTP_PIT_AUTH_STATS_JSON        0
#define NGX_HTTP_PIT_AUTH_STATS_PROMETHEUS  1


static ngx_int_t ngx_http_pit_auth_stats_json_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pit_auth_stats_prometheus_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_pit_auth_stats_handler(ngx_http_request_t *r,
    ngx_uint_t format);
static ngx_int_t ngx_http_pit_auth_stats_format(ngx_http_request_t *r,
    ngx_uint_t *format);
static ngx_array_t *ngx_http_pit_auth_stats_zones(ngx_http_request_t *r);
static size_t ngx_http_pit_auth_stats_json_size(ngx_array_t *zones);
static u_char *ngx_http_pit_auth_stats_json(u_char *p, ngx_array_t *zones);

extern ngx_module_t  ngx_http_pit_auth_module;


/* the format rides on the handler: pit_auth has no conf of its own here */

char *
ngx_http_pit_auth_stats_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_pit_auth_stats_json_handler
        || clcf->handler == ngx_http_pit_auth_stats_prometheus_handler)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1 || ngx_strcmp(value[1].data, "json") == 0) {
        clcf->handler = ngx_http_pit_auth_stats_json_handler;

    } else if (ngx_strcmp(value[1].data, "prometheus") == 0) {
        clcf->handler = ngx_http_pit_auth_stats_prometheus_handler;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be \"json\" or "
                           "\"prometheus\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pit_auth_counters_add(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_pit_auth_stats_json_handler(ngx_http_request_t *r)
{
    return ngx_http_pit_auth_stats_handler(r, NGX_HTTP_PIT_AUTH_STATS_JSON);
}


static ngx_int_t
ngx_http_pit_auth_stats_prometheus_handler(ngx_http_request_t *r)
{
    return ngx_http_pit_auth_stats_handler(r,
                                           NGX_HTTP_PIT_AUTH_STATS_PROMETHEUS);
}


static ngx_int_t
ngx_http_pit_auth_stats_handler(ngx_http_request_t *r, ngx_uint_t format)
{
    size_t        size;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;
    ngx_array_t  *zones;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pit_auth stats handler");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_pit_auth_stats_format(r, &format) != NGX_OK) {
        return NGX_HTTP_BAD_REQUEST;
    }

    zones = ngx_http_pit_auth_stats_zones(r);
    if (zones == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (format == NGX_HTTP_PIT_AUTH_STATS_PROMETHEUS) {
        size = ngx_http_pit_auth_prometheus_size(zones);

    } else {
        size = ngx_http_pit_auth_stats_json_size(zones);
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (format == NGX_HTTP_PIT_AUTH_STATS_PROMETHEUS) {
        b->last = ngx_http_pit_auth_prometheus(b->last, zones);
        ngx_str_set(&r->headers_out.content_type,
                    NGX_HTTP_PIT_AUTH_PROMETHEUS_TYPE);

    } else {
        b->last = ngx_http_pit_auth_stats_json(b->last, zones);
        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* ?format=json|prometheus, exactly; anything else is refused */

static ngx_int_t
ngx_http_pit_auth_stats_format(ngx_http_request_t *r, ngx_uint_t *format)
{
    ngx_str_t  value;

    if (ngx_http_arg(r, (u_char *) "format", 6, &value) != NGX_OK) {
        return NGX_OK;
    }

    if (value.len == 4 && ngx_strncmp(value.data, "json", 4) == 0) {
        *format = NGX_HTTP_PIT_AUTH_STATS_JSON;
        return NGX_OK;
    }

    if (value.len == 10 && ngx_strncmp(value.data, "prometheus", 10) == 0) {
        *format = NGX_HTTP_PIT_AUTH_STATS_PROMETHEUS;
        return NGX_OK;
    }

    return NGX_ERROR;
}


/* The cache zones of the running cycle, each read at once. */

static ngx_array_t *
ngx_http_pit_auth_stats_zones(ngx_http_request_t *r)
{
    int64_t                          now;
    ngx_uint_t                       i;
    ngx_array_t                     *zones;
    ngx_list_part_t                 *part;
    ngx_shm_zone_t                  *shm_zone;
    ngx_http_pit_auth_cache_t       *cache;
    ngx_http_pit_auth_stats_zone_t  *z;

    zones = ngx_array_create(r->pool, 4,
                             sizeof(ngx_http_pit_auth_stats_zone_t));
    if (zones == NULL) {
        return NULL;
    }

    now = ngx_http_pit_auth_cache_now();

    for (part = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;
         part;
         part = part->next)
    {
        shm_zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (shm_zone[i].tag != &ngx_http_pit_auth_module
                || shm_zone[i].data == NULL)
            {
                continue;
            }

            z = ngx_array_push(zones);
            if (z == NULL) {
                return NULL;
            }

            cache = shm_zone[i].data;

            z->name = &cache->shm_zone->shm.name;
            z->size = cache->shm_zone->shm.size;

            ngx_shmtx_lock(&cache->shpool->mutex);

            z->c = cache->sh->counters;
            z->entries = cache->sh->entries;
            z->up = ngx_http_pit_auth_cache_sure(cache->sh, now) ? 1 : 0;
            z->pid = cache->sh->sub_pid;
            z->free = (uint64_t) cache->shpool->pfree << ngx_pagesize_shift;

            ngx_shmtx_unlock(&cache->shpool->mutex);
        }
    }

    return zones;
}


/* JSON */


static size_t
ngx_http_pit_auth_stats_json_size(ngx_array_t *zones)
{
    size_t                           size;
    ngx_uint_t                       i;
    ngx_http_pit_auth_stats_zone_t  *z;

    size = sizeof("{\"zones\":{},\"backends\":{},\"requests\":{},"
                  "\"log_suppressed\":,\"store_marks\":}\n")
           + ngx_http_pit_auth_mark_stats_size(ngx_http_pit_auth_marks())
           + NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES * (32 + NGX_INT64_LEN)
           + NGX_INT64_LEN
           + ngx_http_pit_auth_fleet_stats_size();

    z = zones->elts;

    for (i = 0; i < zones->nelts; i++) {
        size += z[i].name->len + 768;
    }

    return size;
}


static u_char *
ngx_http_pit_auth_stats_json(u_char *p, ngx_array_t *zones)
{
    ngx_uint_t                           i, n;
    ngx_http_pit_auth_stats_zone_t      *z;
    ngx_http_pit_auth_counters_status_t
                                    st[NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES];

    n = ngx_http_pit_auth_counters_requests(st,
                                      NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES);

    /* what this module wrote before comes first, unchanged */

    p = ngx_cpymem(p, "{\"zones\":{", sizeof("{\"zones\":{") - 1);

    z = zones->elts;

    for (i = 0; i < zones->nelts; i++) {
        p = ngx_sprintf(p, "%s\"%V\":{\"size\":%uL,\"free\":%uL,"
                        "\"entries\":%uL,\"hits\":%uL,\"misses\":%uL,"
                        "\"negative_hits\":%uL,\"stores\":%uL,"
                        "\"evictions\":%uL,\"expirations\":%uL,"
                        "\"invalidations\":%uL,\"flushes\":%uL,"
                        "\"stale\":%uL,\"stale_refused\":%uL,"
                        "\"redis_errors\":%uL,"
                        "\"last_used_writes\":%uL,"
                        "\"last_used_dropped\":%uL,\"subscriber\":\"%s\","
                        "\"subscriber_pid\":%P}",
                        i ? "," : "", z[i].name, z[i].size, z[i].free,
                        z[i].entries, z[i].c.hits, z[i].c.misses,
                        z[i].c.negative_hits, z[i].c.stores,
                        z[i].c.evictions, z[i].c.expirations,
                        z[i].c.invalidations, z[i].c.flushes, z[i].c.stale,
                        z[i].c.stale_refused, z[i].c.redis_errors,
                        z[i].c.last_used_writes, z[i].c.last_used_dropped,
                        z[i].up ? "up" : "down", z[i].pid);
    }

    p = ngx_cpymem(p, "},\"backends\":{", sizeof("},\"backends\":{") - 1);
    p = ngx_http_pit_auth_fleet_stats(p);
    p = ngx_cpymem(p, "},\"requests\":{", sizeof("},\"requests\":{") - 1);

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "%s\"%V\":%uL", i ? "," : "", st[i].name,
                        st[i].count);
    }

    p = ngx_sprintf(p, "},\"log_suppressed\":%uL,\"store_marks\":",
                    ngx_http_pit_auth_counters_suppressed());

    /* as the worker answering has seen it on its own connections */

    p = ngx_http_pit_auth_mark_stats(p, ngx_http_pit_auth_marks());

    return ngx_cpymem(p, "}\n", 2);
}
