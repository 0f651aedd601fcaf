
/*
 * pit-auth: pit_auth_openapi, the scopes of every operation of an API
 * taken from its OpenAPI description and matched per request in a segment
 * trie built when the configuration is read.
 */


#ifndef _NGX_HTTP_PIT_AUTH_OPENAPI_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_OPENAPI_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pit_scope.h"
#include "pit_openapi.h"


#define NGX_HTTP_PIT_AUTH_ROUTE_OK        0
#define NGX_HTTP_PIT_AUTH_ROUTE_NONE      1   /* unmatched, denied */
#define NGX_HTTP_PIT_AUTH_ROUTE_SCOPE     2   /* the route's scope missing */

#define NGX_HTTP_PIT_AUTH_VAR_ROUTE       0   /* $pit_route */
#define NGX_HTTP_PIT_AUTH_VAR_REQUIRED    1   /* $pit_required_scope */


/* The route an access check matched, kept for $pit_route in later phases. */
typedef struct {
    const pit_route_t           *route;         /* NULL: unmatched */
    ngx_uint_t                   matched;       /* 1 once a check ran */
} ngx_http_pit_auth_route_t;


typedef struct {
    pit_trie_t                  *trie;          /* in cf->pool */
    ngx_str_t                    strip_prefix;  /* "" = none */
    ngx_flag_t                   unmatched_allow;
} ngx_http_pit_auth_openapi_t;


/*
 * The directive's handler: sets the ngx_http_pit_auth_openapi_t * found
 * at cmd->offset in conf (NGX_CONF_UNSET_PTR until then).
 */
char *ngx_http_pit_auth_openapi(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Returns NGX_HTTP_PIT_AUTH_ROUTE_OK when oa is NULL, when the request's
 * route is satisfied by held, or when it is unmatched and allowed;
 * ROUTE_NONE when it is unmatched and denied; ROUTE_SCOPE with the first
 * unsatisfied term in *missing.  The match is kept in *rt (unless oa is
 * NULL).
 */
ngx_uint_t ngx_http_pit_auth_openapi_check(ngx_http_request_t *r,
    ngx_http_pit_auth_openapi_t *oa, const pit_scope_set_t *held,
    ngx_str_t *missing, ngx_http_pit_auth_route_t *rt);

/*
 * $pit_route and $pit_required_scope (data): the route the access check
 * matched (rt), or, before or without one, the route of the request's
 * $uri in oa.
 */
ngx_int_t ngx_http_pit_auth_openapi_variable(ngx_http_request_t *r,
    ngx_http_pit_auth_openapi_t *oa, ngx_http_pit_auth_route_t *rt,
    ngx_http_variable_value_t *v, uintptr_t data);


#endif /* _NGX_HTTP_PIT_AUTH_OPENAPI_H_INCLUDED_ */
