
/*
 * pit-auth: pit_auth_stats, the requests per status, the counters of every
 * cache zone and the state of every Redis backend, as JSON or in
 * Prometheus' text format.
 */


#ifndef _NGX_HTTP_PIT_AUTH_STATS_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_STATS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_cache.h"


/* One cache zone, read at once under its mutex. */
typedef struct {
    ngx_str_t                   *name;
    ngx_pid_t                    pid;       /* of the subscriber */
    uint64_t                     size;      /* bytes */
    uint64_t                     free;      /* bytes, whole free pages */
    uint64_t                     entries;
    uint64_t                     up;        /* subscriber: 1 or 0 */
    ngx_http_pit_auth_cache_counters_t  c;
} ngx_http_pit_auth_stats_zone_t;


char *ngx_http_pit_auth_stats_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_PIT_AUTH_STATS_H_INCLUDED_ */
