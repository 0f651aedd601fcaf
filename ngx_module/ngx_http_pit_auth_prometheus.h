
/*
 * pit-auth: pit_auth_stats in Prometheus' text exposition format, 0.0.4.
 */


#ifndef _NGX_HTTP_PIT_AUTH_PROMETHEUS_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_PROMETHEUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_pit_auth_stats.h"


#define NGX_HTTP_PIT_AUTH_PROMETHEUS_TYPE                                     \
    "text/plain; version=0.0.4; charset=utf-8"


/* zones: of ngx_http_pit_auth_stats_zone_t */
size_t ngx_http_pit_auth_prometheus_size(ngx_array_t *zones);
u_char *ngx_http_pit_auth_prometheus(u_char *p, ngx_array_t *zones);


#endif /* _NGX_HTTP_PIT_AUTH_PROMETHEUS_H_INCLUDED_ */
