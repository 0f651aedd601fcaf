
/*
 * pit-auth: counters shared by all workers of one nginx, in a small zone
 * of their own: the decisions per status, and the throttle of repeated
 * error lines.
 */


#ifndef _NGX_HTTP_PIT_AUTH_COUNTERS_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_COUNTERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES  16


/* The requests decided with one status name, all its codes summed. */
typedef struct {
    ngx_str_t                   *name;
    uint64_t                     count;
} ngx_http_pit_auth_counters_status_t;


/* the module's name of a status code, NULL past the last: in module.c */
ngx_str_t *ngx_http_pit_auth_status_name(ngx_uint_t status);

/* configuration: the zone, once however often asked */
ngx_int_t ngx_http_pit_auth_counters_add(ngx_conf_t *cf);

/* every worker, before anything it does may log */
void ngx_http_pit_auth_counters_init_process(ngx_cycle_t *cycle);

void ngx_http_pit_auth_counters_request(ngx_uint_t status);
ngx_uint_t ngx_http_pit_auth_counters_requests(
    ngx_http_pit_auth_counters_status_t *st, ngx_uint_t n);

/* 1: write the line, after *suppressed similar ones were left out */
ngx_uint_t ngx_http_pit_auth_counters_throttle(ngx_str_t *key,
    ngx_uint_t *suppressed);
uint64_t ngx_http_pit_auth_counters_suppressed(void);


#endif /* _NGX_HTTP_PIT_AUTH_COUNTERS_H_INCLUDED_ */
