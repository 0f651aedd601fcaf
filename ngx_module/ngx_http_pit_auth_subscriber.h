
/*
 * pit-auth: the cache's invalidation subscriber, one connection per nginx
 * instance (worker 0's) that hears Redis tell of every change of a token
 * key, and the heartbeat that proves it still hears.
 */


#ifndef _NGX_HTTP_PIT_AUTH_SUBSCRIBER_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_SUBSCRIBER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


void ngx_http_pit_auth_subscriber_init_process(ngx_cycle_t *cycle);
void ngx_http_pit_auth_subscriber_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_PIT_AUTH_SUBSCRIBER_H_INCLUDED_ */
