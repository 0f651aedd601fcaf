
/*
 * pit-auth: pit_auth_stats, the counters of every cache zone and the state
 * of every Redis backend, as JSON.
 */


#ifndef _NGX_HTTP_PIT_AUTH_STATS_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_STATS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


char *ngx_http_pit_auth_stats_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_PIT_AUTH_STATS_H_INCLUDED_ */
