
/*
 * pit-auth: what the module's files share about a check: its verdicts,
 * the configuration of a location and the context of a request.
 */


#ifndef _NGX_HTTP_PIT_AUTH_MODULE_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pit_token.h"
#include "pit_record.h"
#include "pit_catalog_file.h"

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_cache.h"
#include "ngx_http_pit_auth_openapi.h"


/* the verdicts of a check (ctx->status): indexes of status names, answers */

#define NGX_HTTP_PIT_AUTH_OK                  0
#define NGX_HTTP_PIT_AUTH_MISSING             1
#define NGX_HTTP_PIT_AUTH_MALFORMED           2
#define NGX_HTTP_PIT_AUTH_INVALID             3
#define NGX_HTTP_PIT_AUTH_EXPIRED             4
#define NGX_HTTP_PIT_AUTH_INSUFFICIENT_SCOPE  5
#define NGX_HTTP_PIT_AUTH_WRONG_ACCOUNT       6
#define NGX_HTTP_PIT_AUTH_UNAVAILABLE         7
#define NGX_HTTP_PIT_AUTH_BAD_REQUEST         8   /* shown as "malformed" */
#define NGX_HTTP_PIT_AUTH_NO_ROUTE            9   /* pit_auth_openapi */
#define NGX_HTTP_PIT_AUTH_AMBIGUOUS_PATH     10   /* shown as "ambiguous" */
#define NGX_HTTP_PIT_AUTH_AMBIGUOUS_ARG      11   /* shown as "ambiguous" */
#define NGX_HTTP_PIT_AUTH_UNDECODABLE_ARG    12   /* shown as "ambiguous" */


typedef struct {
    ngx_flag_t                   enable;
    ngx_str_t                    enable_file;   /* where "pit_auth on" is, */
    ngx_uint_t                   enable_line;   /* for errors found later */
    ngx_http_pit_auth_redis_addr_t  *redis;
    ngx_http_pit_auth_redis_read_t  *redis_read;
    ngx_msec_t                   max_lag;
    ngx_msec_t                   connect_timeout;
    ngx_msec_t                   read_timeout;
    ngx_str_t                    prefix;        /* NUL-terminated */
    ngx_array_t                 *scopes;        /* ngx_http_complex_value_t */
    ngx_array_t                 *scope_consts;  /* ..._scope_const_t */
    pit_catalog_list_t          *catalog;       /* pit_auth_scope_catalog */
    ngx_uint_t                   catalog_level; /* NGX_LOG_EMERG | WARN */
    ngx_http_complex_value_t    *account;
    ngx_str_t                   *account_arg;   /* a query parameter */
    ngx_uint_t                   ambiguous_path;
    ngx_uint_t                   scope_status;
    ngx_str_t                    realm;
    ngx_flag_t                   annotate;
    ngx_flag_t                   hide_token;
    ngx_str_t                    hash_key;      /* raw bytes */
    pit_hasher_t                *hasher;        /* of hash_key */
    ngx_http_pit_auth_cache_t   *cache;
    ngx_http_pit_auth_last_used_t  last_used;
    ngx_http_pit_auth_openapi_t  *openapi;

    ngx_http_pit_auth_redis_t   *backend;
} ngx_http_pit_auth_loc_conf_t;


typedef struct {
    ngx_http_request_t          *request;
    ngx_http_pit_auth_redis_waiter_t  *waiter;
    ngx_event_t                  wake;

    ngx_uint_t                   state;
    ngx_uint_t                   lookup_status; /* of parse and GET */
    ngx_uint_t                   status;        /* of this location */
    ngx_http_pit_auth_loc_conf_t  *lookup_conf;
    ngx_http_pit_auth_cache_mark_t  mark;       /* the zone when GET left */

    pit_token_record_t          *rec;
    pit_token_record_t          *spare;         /* for the reply */
    pit_role_t                   role;          /* effective at decision */
    unsigned                     query_token:1; /* ?access_token= seen */
    unsigned                     sunset:1;      /* headers already set, */
    unsigned                     retry_after:1; /* for a second pass after */
                                                /* an internal redirect */
    ngx_str_t                    token;         /* of the hint */
    u_char                       hint[PIT_HINT_LEN + 1];      /* lazy */
    u_char                       raw[PIT_HASH_LEN];
    u_char                       hash[PIT_HASH_HEX_LEN + 1];  /* lazy */
    ngx_str_t                    missing;       /* unsatisfied term */
    const char                  *ambiguous;     /* why, for the log */
    ngx_str_t                    scopes;        /* space-separated */
    ngx_http_pit_auth_route_t    route;         /* pit_auth_openapi's */
} ngx_http_pit_auth_ctx_t;


#endif /* _NGX_HTTP_PIT_AUTH_MODULE_H_INCLUDED_ */
