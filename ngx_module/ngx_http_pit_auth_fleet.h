
/*
 * pit-auth: a backend made of a primary and its replicas, found through
 * Redis Sentinel and followed across failovers; which server reads go to,
 * and how far behind the primary it is.
 */


#ifndef _NGX_HTTP_PIT_AUTH_FLEET_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_FLEET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_pit_auth_redis.h"


#define NGX_HTTP_PIT_AUTH_FLEET_PRIMARY  0
#define NGX_HTTP_PIT_AUTH_FLEET_READ     1


typedef struct ngx_http_pit_auth_fleet_s  ngx_http_pit_auth_fleet_t;


ngx_http_pit_auth_fleet_t *ngx_http_pit_auth_fleet_add(ngx_conf_t *cf,
    ngx_http_pit_auth_redis_conf_t *rc);

/* every worker: where a role's connection goes */
uint64_t ngx_http_pit_auth_fleet_gen(ngx_http_pit_auth_fleet_t *fleet,
    ngx_uint_t role);
ngx_int_t ngx_http_pit_auth_fleet_server(ngx_http_pit_auth_fleet_t *fleet,
    ngx_uint_t role, u_char *host, size_t *len, ngx_int_t *port,
    uint64_t *gen);
ngx_uint_t ngx_http_pit_auth_fleet_fresh(ngx_http_pit_auth_fleet_t *fleet);
void ngx_http_pit_auth_fleet_doubt(ngx_http_pit_auth_fleet_t *fleet);
void ngx_http_pit_auth_fleet_dropped(ngx_http_pit_auth_fleet_t *fleet);
ngx_str_t *ngx_http_pit_auth_fleet_name(ngx_http_pit_auth_fleet_t *fleet);

/* worker 0: discovery, replica choice and the lag heartbeat */
void ngx_http_pit_auth_fleet_init_process(ngx_cycle_t *cycle,
    ngx_http_pit_auth_fleet_t *fleet, ngx_http_pit_auth_redis_t *writer);
void ngx_http_pit_auth_fleet_exit_process(ngx_http_pit_auth_fleet_t *fleet);

/* pit_auth_stats: "backends":[...] */
size_t ngx_http_pit_auth_fleet_stats_size(void);
u_char *ngx_http_pit_auth_fleet_stats(u_char *p);

/* pit_auth_stats prometheus: backend i, NGX_DECLINED past the last */
typedef struct {
    ngx_str_t                   *name;       /* configured, no password */
    int64_t                      lag;        /* ms; -1: unknown */
    ngx_msec_t                   max_lag;
    uint64_t                     fresh;      /* 1 or 0, as the counters */
    uint64_t                     read_is_replica;  /* are: for a table */
    uint64_t                     failovers;
    uint64_t                     doubts;
    uint64_t                     writes_dropped;
} ngx_http_pit_auth_fleet_info_t;

ngx_int_t ngx_http_pit_auth_fleet_info(ngx_uint_t i,
    ngx_http_pit_auth_fleet_info_t *fi);


#endif /* _NGX_HTTP_PIT_AUTH_FLEET_H_INCLUDED_ */
