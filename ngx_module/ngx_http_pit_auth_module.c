
/*
 * pit-auth: access-phase check of private integration tokens against
 * Redis, without blocking the worker.
 *
 * The first entry of the handler parses the Authorization header with the
 * core, answers anything malformed at once, and otherwise sends one GET on
 * the worker's asynchronous Redis connection and returns NGX_AGAIN.  The
 * reply, or its timeout, posts an event that runs the phases again; the
 * handler then decides with the core (effective role, scopes, account),
 * annotates the request for the upstream, or answers with RFC 6750
 * headers and a JSON body that error_page may replace.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pit_error.h"
#include "pit_token.h"
#include "pit_scope.h"
#include "pit_record.h"
#include "pit_rotation.h"
#include "pit_schema.h"
#include "pit_query.h"
#include "pit_path.h"
#include "pit_catalog_file.h"

#include "ngx_http_pit_auth_module.h"
#include "ngx_http_pit_auth_headers.h"
#include "ngx_http_pit_auth_deny.h"
#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_cache.h"
#include "ngx_http_pit_auth_subscriber.h"
#include "ngx_http_pit_auth_stats.h"
#include "ngx_http_pit_auth_mark.h"
#include "ngx_http_pit_auth_openapi.h"
#include "ngx_http_pit_auth_log.h"
#include "ngx_http_pit_auth_counters.h"


#define NGX_HTTP_PIT_AUTH_RECORDS_FREE        64  /* kept per worker */
#define NGX_HTTP_PIT_AUTH_MAX_LAG          30000  /* ms, without a cache */

#define NGX_HTTP_PIT_AUTH_NEW                 0
#define NGX_HTTP_PIT_AUTH_WAITING             1
#define NGX_HTTP_PIT_AUTH_LOOKED_UP           2


typedef struct {
    ngx_array_t                  backends;  /* ngx_http_pit_auth_redis_t * */
    ngx_array_t                  marks;     /* ngx_http_pit_auth_mark_t * */
} ngx_http_pit_auth_main_conf_t;


/* A constant pit_auth_scope value, where it was written. */
typedef struct {
    ngx_str_t                    value;
    ngx_str_t                    file;
    ngx_uint_t                   line;
} ngx_http_pit_auth_scope_const_t;


/*
 * A record is larger than a pool's small allocations (its scope set holds
 * names, not bits): a worker keeps freed ones rather than malloc() one per
 * request.
 */
typedef struct ngx_http_pit_auth_record_s  ngx_http_pit_auth_record_t;

struct ngx_http_pit_auth_record_s {
    pit_token_record_t           rec;
    ngx_http_pit_auth_record_t  *next;
};


static ngx_int_t ngx_http_pit_auth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pit_auth_subrequest_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pit_auth_run(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf);
static ngx_uint_t ngx_http_pit_auth_check_request(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);
static void ngx_http_pit_auth_mask_request_line(ngx_http_request_t *r);
static ngx_http_pit_auth_ctx_t *ngx_http_pit_auth_get_ctx(
    ngx_http_request_t *r);
static ngx_http_pit_auth_ctx_t *ngx_http_pit_auth_create_ctx(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_pit_auth_start(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);
static ngx_uint_t ngx_http_pit_auth_parse(ngx_http_request_t *r,
    ngx_http_pit_auth_ctx_t *ctx, ngx_str_t *token);
static u_char *ngx_http_pit_auth_hint(ngx_http_pit_auth_ctx_t *ctx);
static pit_token_record_t *ngx_http_pit_auth_record(ngx_http_request_t *r,
    ngx_http_pit_auth_ctx_t *ctx);
static void ngx_http_pit_auth_record_free(void *data);
static u_char *ngx_http_pit_auth_hex(ngx_http_pit_auth_ctx_t *ctx);
static ngx_int_t ngx_http_pit_auth_lookup(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx,
    ngx_str_t *token);
static ngx_int_t ngx_http_pit_auth_cached(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);
static void ngx_http_pit_auth_reply(void *data, ngx_int_t rc,
    ngx_str_t *value, const char *reason);
static ngx_uint_t ngx_http_pit_auth_stale(ngx_http_request_t *r,
    ngx_http_pit_auth_ctx_t *ctx);
static void ngx_http_pit_auth_wake_handler(ngx_event_t *ev);
static void ngx_http_pit_auth_cleanup(void *data);
static ngx_uint_t ngx_http_pit_auth_decide(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);
static ngx_uint_t ngx_http_pit_auth_check_scopes(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);
static ngx_uint_t ngx_http_pit_auth_check_account(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);
static ngx_int_t ngx_http_pit_auth_finish(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);
static void ngx_http_pit_auth_log(ngx_http_request_t *r,
    ngx_http_pit_auth_ctx_t *ctx);
static ngx_int_t ngx_http_pit_auth_annotate(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);
static ngx_int_t ngx_http_pit_auth_sunset(ngx_http_request_t *r,
    ngx_http_pit_auth_ctx_t *ctx);
static int64_t ngx_http_pit_auth_now(void);

static ngx_int_t ngx_http_pit_auth_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_pit_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pit_auth_route_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void *ngx_http_pit_auth_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_pit_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_pit_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_pit_auth_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_pit_auth_redis_read(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_pit_auth_redis_timeout(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_pit_auth_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_pit_auth_scope_catalog(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_pit_auth_free_catalog(void *data);
static ngx_int_t ngx_http_pit_auth_check_catalog(ngx_conf_t *cf,
    ngx_http_pit_auth_loc_conf_t *conf);
static char *ngx_http_pit_auth_enum(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_pit_auth_account(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_pit_auth_account_arg(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_pit_auth_key_prefix(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_pit_auth_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_pit_auth_realm(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_pit_auth_create_hasher(ngx_conf_t *cf,
    ngx_http_pit_auth_loc_conf_t *alcf);
static void ngx_http_pit_auth_free_hasher(void *data);
static char *ngx_http_pit_auth_hash_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_pit_auth_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_pit_auth_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_pit_auth_init_process(ngx_cycle_t *cycle);
static void ngx_http_pit_auth_exit_process(ngx_cycle_t *cycle);


#define NGX_HTTP_PIT_AUTH_PATH_DENY   0
#define NGX_HTTP_PIT_AUTH_PATH_ALLOW  1

static ngx_conf_enum_t  ngx_http_pit_auth_ambiguous_paths[] = {
    { ngx_string("deny"), NGX_HTTP_PIT_AUTH_PATH_DENY },
    { ngx_string("allow"), NGX_HTTP_PIT_AUTH_PATH_ALLOW },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_pit_auth_scope_statuses[] = {
    { ngx_string("403"), NGX_HTTP_FORBIDDEN },
    { ngx_string("401"), NGX_HTTP_UNAUTHORIZED },
    { ngx_null_string, 0 }
};


/* the annotation headers, in ngx_http_pit_auth_annotate()'s order */

static ngx_http_pit_auth_header_t  ngx_http_pit_auth_annotations[] = {
    { ngx_string("X-Pit-Integration-Id"), (u_char *) "x-pit-integration-id",
      0 },
    { ngx_string("X-Pit-Account-Id"), (u_char *) "x-pit-account-id", 0 },
    { ngx_string("X-Pit-Scopes"), (u_char *) "x-pit-scopes", 0 }
};


static ngx_array_t                  ngx_http_pit_auth_no_marks;
static ngx_http_pit_auth_record_t  *ngx_http_pit_auth_records;
static ngx_uint_t                   ngx_http_pit_auth_nrecords;


static ngx_command_t  ngx_http_pit_auth_commands[] = {

    { ngx_string("pit_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_pit_auth_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, enable),
      NULL },

    { ngx_string("pit_auth_redis"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pit_auth_redis,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_redis_read"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pit_auth_redis_read,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_redis_max_lag"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, max_lag),
      NULL },

    { ngx_string("pit_auth_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_pit_auth_redis_timeout,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_key_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pit_auth_key_prefix,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pit_auth_scope,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_scope_catalog"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_pit_auth_scope_catalog,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_account"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pit_auth_account,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_account_arg"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pit_auth_account_arg,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_ambiguous_path"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pit_auth_enum,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, ambiguous_path),
      &ngx_http_pit_auth_ambiguous_paths },

    { ngx_string("pit_auth_scope_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pit_auth_enum,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, scope_status),
      &ngx_http_pit_auth_scope_statuses },

    { ngx_string("pit_auth_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pit_auth_realm,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_annotate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, annotate),
      NULL },

    { ngx_string("pit_auth_hide_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, hide_token),
      NULL },

    { ngx_string("pit_auth_hash_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pit_auth_hash_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pit_auth_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pit_auth_cache_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, cache),
      NULL },

    { ngx_string("pit_auth_last_used"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_pit_auth_last_used_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, last_used),
      NULL },

    { ngx_string("pit_auth_stats"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_pit_auth_stats_directive,
      0,
      0,
      NULL },

    { ngx_string("pit_auth_openapi"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pit_auth_openapi,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pit_auth_loc_conf_t, openapi),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_pit_auth_module_ctx = {
    ngx_http_pit_auth_add_variables,       /* preconfiguration */
    ngx_http_pit_auth_init,                /* postconfiguration */

    ngx_http_pit_auth_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_pit_auth_create_loc_conf,     /* create location configuration */
    ngx_http_pit_auth_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_pit_auth_module = {
    NGX_MODULE_V1,
    &ngx_http_pit_auth_module_ctx,         /* module context */
    ngx_http_pit_auth_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_pit_auth_init_module,         /* init module */
    ngx_http_pit_auth_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_pit_auth_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_pit_auth_status_names[] = {
    ngx_string("ok"),
    ngx_string("missing"),
    ngx_string("malformed"),
    ngx_string("invalid"),
    ngx_string("expired"),
    ngx_string("insufficient_scope"),
    ngx_string("wrong_account"),
    ngx_string("unavailable"),
    ngx_string("malformed"),
    ngx_string("no_route"),
    ngx_string("ambiguous"),
    ngx_string("ambiguous"),
    ngx_string("ambiguous")
};


#define NGX_HTTP_PIT_AUTH_VAR_STATUS      0
#define NGX_HTTP_PIT_AUTH_VAR_IID         1
#define NGX_HTTP_PIT_AUTH_VAR_ACCOUNT     2
#define NGX_HTTP_PIT_AUTH_VAR_SCOPES      3
#define NGX_HTTP_PIT_AUTH_VAR_ROLE        4
#define NGX_HTTP_PIT_AUTH_VAR_HINT        5
#define NGX_HTTP_PIT_AUTH_VAR_EXPIRES_IN  6

static ngx_http_variable_t  ngx_http_pit_auth_vars[] = {

    { ngx_string("pit_auth_status"), NULL, ngx_http_pit_auth_variable,
      NGX_HTTP_PIT_AUTH_VAR_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pit_integration_id"), NULL, ngx_http_pit_auth_variable,
      NGX_HTTP_PIT_AUTH_VAR_IID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pit_account_id"), NULL, ngx_http_pit_auth_variable,
      NGX_HTTP_PIT_AUTH_VAR_ACCOUNT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pit_scopes"), NULL, ngx_http_pit_auth_variable,
      NGX_HTTP_PIT_AUTH_VAR_SCOPES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pit_token_role"), NULL, ngx_http_pit_auth_variable,
      NGX_HTTP_PIT_AUTH_VAR_ROLE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pit_token_hint"), NULL, ngx_http_pit_auth_variable,
      NGX_HTTP_PIT_AUTH_VAR_HINT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pit_token_expires_in"), NULL, ngx_http_pit_auth_variable,
      NGX_HTTP_PIT_AUTH_VAR_EXPIRES_IN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pit_route"), NULL, ngx_http_pit_auth_route_variable,
      NGX_HTTP_PIT_AUTH_VAR_ROUTE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pit_required_scope"), NULL,
      ngx_http_pit_auth_route_variable, NGX_HTTP_PIT_AUTH_VAR_REQUIRED,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* the access handler */


static ngx_int_t
ngx_http_pit_auth_handler(ngx_http_request_t *r)
{
    ngx_http_pit_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_pit_auth_module);

    if (!alcf->enable) {
        return NGX_DECLINED;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pit_auth handler");

    return ngx_http_pit_auth_run(r, alcf);
}


/*
 * nginx runs no access phase for subrequests (auth_request, SSI, mirror):
 * they are checked in the rewrite phase instead, ahead of the rewrite
 * module's handler (registered before ours), so a "return" in the location
 * answers only after the check.  The rewrite phase reads NGX_OK as "finalize"
 * and NGX_DONE as "stop here", hence the mapping.
 */

static ngx_int_t
ngx_http_pit_auth_subrequest_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_pit_auth_loc_conf_t  *alcf;

    if (r == r->main) {
        return NGX_DECLINED;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_pit_auth_module);

    if (!alcf->enable) {
        return NGX_DECLINED;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pit_auth subrequest handler");

    rc = ngx_http_pit_auth_run(r, alcf);

    switch (rc) {

    case NGX_OK:
        return NGX_DECLINED;

    case NGX_AGAIN:
        return NGX_DONE;

    default:
        return rc;
    }
}


static ngx_int_t
ngx_http_pit_auth_run(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf)
{
    ngx_http_pit_auth_ctx_t  *ctx;

    ctx = ngx_http_pit_auth_get_ctx(r);

    if (ctx == NULL) {
        ctx = ngx_http_pit_auth_create_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    switch (ctx->state) {

    case NGX_HTTP_PIT_AUTH_WAITING:
        return NGX_AGAIN;

    case NGX_HTTP_PIT_AUTH_LOOKED_UP:

        /* an internal redirect keeps the lookup if it asks the same store */

        if (ctx->lookup_conf == NULL
            || (ctx->lookup_conf->backend == alcf->backend
                && ctx->lookup_conf->prefix.data == alcf->prefix.data
                && ctx->lookup_conf->hash_key.data == alcf->hash_key.data))
        {
            return ngx_http_pit_auth_finish(r, alcf, ctx);
        }

        break;

    default: /* NGX_HTTP_PIT_AUTH_NEW */
        break;
    }

    if (ngx_http_pit_auth_remove_headers(r, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_pit_auth_start(r, alcf, ctx);
}


/*
 * ngx_http_internal_redirect() zeroes module contexts; the cleanup handler
 * keeps ours reachable, as the realip module does with its pool cleanup.
 */

static ngx_http_pit_auth_ctx_t *
ngx_http_pit_auth_get_ctx(ngx_http_request_t *r)
{
    ngx_http_cleanup_t       *cln;
    ngx_http_pit_auth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_pit_auth_module);

    if (ctx || !r->internal) {
        return ctx;
    }

    /* cleanups live on the main request, a subrequest's among them */

    for (cln = r->main->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_pit_auth_cleanup) {
            ctx = cln->data;

            if (ctx->request != r) {
                continue;
            }

            ngx_http_set_ctx(r, ctx, ngx_http_pit_auth_module);
            return ctx;
        }
    }

    return NULL;
}


static ngx_http_pit_auth_ctx_t *
ngx_http_pit_auth_create_ctx(ngx_http_request_t *r)
{
    ngx_http_cleanup_t       *cln;
    ngx_http_pit_auth_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_pit_auth_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_pit_auth_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ctx->wake.handler = ngx_http_pit_auth_wake_handler;
    ctx->wake.data = ctx;
    ctx->wake.log = r->connection->log;

    ngx_http_set_ctx(r, ctx, ngx_http_pit_auth_module);

    return ctx;
}


static ngx_int_t
ngx_http_pit_auth_start(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    ngx_str_t   token;
    ngx_uint_t  status, ambiguous;

    ctx->rec = NULL;
    ctx->lookup_conf = NULL;

    status = ngx_http_pit_auth_parse(r, ctx, &token);

    /* what the request itself makes ambiguous is refused before Redis */

    ambiguous = ngx_http_pit_auth_check_request(r, alcf, ctx);

    if (ambiguous != NGX_HTTP_PIT_AUTH_OK) {
        status = ambiguous;
    }

    if (status != NGX_HTTP_PIT_AUTH_OK) {

        /* answered without touching Redis */

        ctx->lookup_status = status;
        ctx->state = NGX_HTTP_PIT_AUTH_LOOKED_UP;

        return ngx_http_pit_auth_finish(r, alcf, ctx);
    }

    return ngx_http_pit_auth_lookup(r, alcf, ctx, &token);
}


/*
 * Returns NGX_HTTP_PIT_AUTH_OK with the token, or the verdict on a request
 * that must not reach Redis.  A query-string token is never used: alone it
 * counts as no token, beside a header it makes the request invalid.
 */

static ngx_uint_t
ngx_http_pit_auth_parse(ngx_http_request_t *r, ngx_http_pit_auth_ctx_t *ctx,
    ngx_str_t *token)
{
    size_t            len, n;
    pit_err_t         rc;
    const char       *tok;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    ctx->hint[0] = '\0';
    ngx_str_null(&ctx->token);

    /* in any spelling an upstream may decode to it: access%5Ftoken too */

    ctx->query_token = 0;

    if (r->args.len
        && pit_query_count((const char *) r->args.data, r->args.len,
                           "access_token", sizeof("access_token") - 1, &n)
           == PIT_OK
        && n > 0)
    {
        ctx->query_token = 1;
    }

    if (ctx->query_token) {
        ngx_http_pit_auth_mask_request_line(r);
    }

    if (h == NULL) {
        return NGX_HTTP_PIT_AUTH_MISSING;
    }

    if (ctx->query_token || ngx_http_pit_auth_count_authorization(r) > 1) {
        return NGX_HTTP_PIT_AUTH_BAD_REQUEST;
    }

    rc = pit_token_from_authorization((const char *) h->value.data,
                                      h->value.len, &tok, &len);

    switch (rc) {

    case PIT_OK:
        break;

    case PIT_ERR_AUTH_SCHEME:
        return NGX_HTTP_PIT_AUTH_MISSING;

    case PIT_ERR_AUTH_EMPTY:
        return NGX_HTTP_PIT_AUTH_BAD_REQUEST;

    default:

        /* the hint of a malformed value shows none of its bytes */

        ctx->token = h->value;
        return NGX_HTTP_PIT_AUTH_MALFORMED;
    }

    token->data = (u_char *) tok;
    token->len = len;

    ctx->token = *token;

    return NGX_HTTP_PIT_AUTH_OK;
}


/* The hint is made only for a log line or $pit_token_hint. */

static u_char *
ngx_http_pit_auth_hint(ngx_http_pit_auth_ctx_t *ctx)
{
    if (ctx->hint[0] == '\0' && ctx->token.data) {
        pit_token_hint((const char *) ctx->token.data, ctx->token.len,
                       (char *) ctx->hint);
    }

    return ctx->hint;
}


/* The hex of the hash is made only for a Redis key or a log line. */

static u_char *
ngx_http_pit_auth_hex(ngx_http_pit_auth_ctx_t *ctx)
{
    if (ctx->hash[0] == '\0') {
        pit_hex_encode(ctx->raw, PIT_HASH_LEN, (char *) ctx->hash);
        ctx->hash[PIT_HASH_HEX_LEN] = '\0';
    }

    return ctx->hash;
}


static ngx_int_t
ngx_http_pit_auth_lookup(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx,
    ngx_str_t *token)
{
    u_char     *key;
    ngx_int_t   rc;
    ngx_str_t   k;

    if (pit_hasher_hash(alcf->hasher, (const char *) token->data, token->len,
                        ctx->raw)
        != PIT_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->hash[0] = '\0';

    ctx->lookup_conf = alcf;

    if (alcf->cache) {
        rc = ngx_http_pit_auth_cached(r, alcf, ctx);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    key = ngx_pnalloc(r->pool, PIT_KEY_MAX);
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (pit_key_token((char *) key, PIT_KEY_MAX, (char *) alcf->prefix.data,
                      (char *) ngx_http_pit_auth_hex(ctx))
        != PIT_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k.data = key;
    k.len = ngx_strlen(key);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pit_auth: GET key %*s... for %s", (size_t) 8, ctx->hash,
                   ngx_http_pit_auth_hint(ctx));

    ctx->lookup_conf = alcf;
    ctx->waiter = ngx_http_pit_auth_redis_get(alcf->backend, &k,
                                              ngx_http_pit_auth_reply, ctx,
                                              r->connection->log);

    /* the reply is stored only if the subscriber listens there too */

    ctx->mark.read_gen = ngx_http_pit_auth_redis_read_gen(alcf->backend);

    if (ctx->waiter == NULL) {
        ctx->lookup_status = NGX_HTTP_PIT_AUTH_UNAVAILABLE;
        ctx->state = NGX_HTTP_PIT_AUTH_LOOKED_UP;

        if (ngx_http_pit_auth_stale(r, ctx)) {
            return ngx_http_pit_auth_finish(r, alcf, ctx);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pit_auth: redis %V is down, token %s unavailable",
                      ngx_http_pit_auth_redis_name(alcf->backend),
                      ngx_http_pit_auth_hint(ctx));

        return ngx_http_pit_auth_finish(r, alcf, ctx);
    }

    ctx->state = NGX_HTTP_PIT_AUTH_WAITING;

    return NGX_AGAIN;
}


/*
 * Returns NGX_DECLINED when Redis must be asked (the zone's state is kept
 * in ctx->mark for the reply), else the verdict of a fresh entry.
 */

static ngx_int_t
ngx_http_pit_auth_cached(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    ngx_int_t            rc;
    pit_token_record_t  *rec;

    rec = ngx_http_pit_auth_record(r, ctx);
    if (rec == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_pit_auth_cache_lookup(alcf->cache, ctx->raw,
                                        ngx_http_pit_auth_now(), rec,
                                        &ctx->mark);

    if (rc == NGX_AGAIN) {

        ctx->spare = rec;
        return NGX_DECLINED;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pit_auth: cache %s for %s",
                   rc == NGX_OK ? "hit" : "negative hit",
                   ngx_http_pit_auth_hint(ctx));

    ctx->rec = (rc == NGX_OK) ? rec : NULL;
    ctx->lookup_status = (rc == NGX_OK) ? NGX_HTTP_PIT_AUTH_OK
                                        : NGX_HTTP_PIT_AUTH_INVALID;
    ctx->state = NGX_HTTP_PIT_AUTH_LOOKED_UP;

    return ngx_http_pit_auth_finish(r, alcf, ctx);
}


/* Redis failed: a cached entry may still answer, for "stale" at most. */

static ngx_uint_t
ngx_http_pit_auth_stale(ngx_http_request_t *r, ngx_http_pit_auth_ctx_t *ctx)
{
    pit_token_record_t         *rec;
    ngx_http_pit_auth_cache_t  *cache;

    cache = ctx->lookup_conf->cache;

    if (cache == NULL) {
        return 0;
    }

    rec = ngx_http_pit_auth_record(r, ctx);
    if (rec == NULL) {
        return 0;
    }

    if (ngx_http_pit_auth_cache_stale(cache, ctx->raw,
                                      ngx_http_pit_auth_now(), rec,
                                      r->connection->log)
        != NGX_OK)
    {
        ctx->spare = rec;
        return 0;
    }

    ctx->rec = rec;
    ctx->lookup_status = NGX_HTTP_PIT_AUTH_OK;

    return 1;
}


/*
 * Returns a record that lives until the request pool goes: the spare one
 * of a cache miss, one freed by an earlier request, or a new one.
 */

static pit_token_record_t *
ngx_http_pit_auth_record(ngx_http_request_t *r, ngx_http_pit_auth_ctx_t *ctx)
{
    pit_token_record_t          *rec;
    ngx_pool_cleanup_t          *cln;
    ngx_http_pit_auth_record_t  *pr;

    if (ctx->spare) {
        rec = ctx->spare;
        ctx->spare = NULL;
        return rec;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    pr = ngx_http_pit_auth_records;

    if (pr) {
        ngx_http_pit_auth_records = pr->next;
        ngx_http_pit_auth_nrecords--;

    } else {
        pr = ngx_alloc(sizeof(ngx_http_pit_auth_record_t),
                       r->connection->log);
        if (pr == NULL) {
            return NULL;
        }
    }

    cln->handler = ngx_http_pit_auth_record_free;
    cln->data = pr;

    return &pr->rec;
}


static void
ngx_http_pit_auth_record_free(void *data)
{
    ngx_http_pit_auth_record_t  *pr = data;

    if (ngx_http_pit_auth_nrecords >= NGX_HTTP_PIT_AUTH_RECORDS_FREE) {
        ngx_free(pr);
        return;
    }

    pr->next = ngx_http_pit_auth_records;
    ngx_http_pit_auth_records = pr;
    ngx_http_pit_auth_nrecords++;
}


/*
 * Called from inside hiredis (or the reply timer): decode what is needed
 * while the value is valid, then resume the request from a posted event,
 * outside hiredis.
 */

static void
ngx_http_pit_auth_reply(void *data, ngx_int_t rc, ngx_str_t *value,
    const char *reason)
{
    pit_err_t                   err;
    ngx_http_request_t         *r;
    ngx_http_pit_auth_ctx_t    *ctx;
    ngx_http_pit_auth_cache_t  *cache;

    ctx = data;
    r = ctx->request;

    ctx->waiter = NULL;
    ctx->state = NGX_HTTP_PIT_AUTH_LOOKED_UP;

    cache = ctx->lookup_conf->cache;

    if (rc == NGX_DECLINED) {
        ctx->lookup_status = NGX_HTTP_PIT_AUTH_INVALID;

        if (cache) {
            ngx_http_pit_auth_cache_store(cache, ctx->raw, &ctx->mark, NULL,
                                          r->connection->log);
        }

    } else if (rc == NGX_ERROR && ngx_http_pit_auth_stale(r, ctx)) {
        /* void */

    } else if (rc == NGX_ERROR) {
        ctx->lookup_status = NGX_HTTP_PIT_AUTH_UNAVAILABLE;

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pit_auth: redis %V: %s, token %s key %*s... "
                      "unavailable",
                      ngx_http_pit_auth_redis_name(ctx->lookup_conf->backend),
                      reason, ngx_http_pit_auth_hint(ctx), (size_t) 8,
                      ngx_http_pit_auth_hex(ctx));

    } else {
        ctx->rec = ngx_http_pit_auth_record(r, ctx);

        err = ctx->rec ? pit_token_record_from_json((char *) value->data,
                                                    value->len, ctx->rec)
                       : PIT_ERR_NOMEM;

        if (err == PIT_OK) {
            ctx->lookup_status = NGX_HTTP_PIT_AUTH_OK;

            if (cache) {
                ngx_http_pit_auth_cache_store(cache, ctx->raw, &ctx->mark,
                                              ctx->rec, r->connection->log);
            }

        } else {

            /* bad data in Redis is our fault, not the client's */

            ctx->rec = NULL;
            ctx->lookup_status = NGX_HTTP_PIT_AUTH_UNAVAILABLE;

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "pit_auth: undecodable token record (%s, %uz "
                          "bytes) for token %s key %*s...",
                          pit_strerror(err), value->len,
                          ngx_http_pit_auth_hint(ctx), (size_t) 8,
                          ngx_http_pit_auth_hex(ctx));
        }
    }

    ngx_post_event(&ctx->wake, &ngx_posted_events);
}


static void
ngx_http_pit_auth_wake_handler(ngx_event_t *ev)
{
    ngx_connection_t         *c;
    ngx_http_request_t       *r;
    ngx_http_pit_auth_ctx_t  *ctx;

    ctx = ev->data;
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    /* never r->args: it may hold an access_token */

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "pit_auth wake: \"%V\"", &r->uri);

    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}


/* A request that ends while its reply is pending is never touched again. */

static void
ngx_http_pit_auth_cleanup(void *data)
{
    ngx_http_pit_auth_ctx_t  *ctx = data;

    if (ctx->waiter) {
        ngx_http_pit_auth_redis_detach(ctx->waiter);
        ctx->waiter = NULL;
    }

    if (ctx->wake.posted) {
        ngx_delete_posted_event(&ctx->wake);
    }
}


/* decision */


static ngx_uint_t
ngx_http_pit_auth_decide(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    size_t      len;
    ngx_uint_t  i, status;

    /* each location judges the request by its own rules */

    status = ngx_http_pit_auth_check_request(r, alcf, ctx);

    if (status != NGX_HTTP_PIT_AUTH_OK) {
        return status;
    }

    if (ctx->lookup_status != NGX_HTTP_PIT_AUTH_OK || ctx->rec == NULL) {
        return ctx->lookup_status;
    }

    ctx->role = pit_role_effective(ctx->rec->role, ctx->rec->until_ms,
                                   ngx_http_pit_auth_now());

    if (ctx->role == PIT_ROLE_INVALID) {
        return NGX_HTTP_PIT_AUTH_EXPIRED;
    }

    if (ctx->scopes.data == NULL) {

        /* the exact size: the largest set would be a malloc()ed block */

        len = 1;

        for (i = 0; i < ctx->rec->scopes.n; i++) {
            len += ngx_strlen(ctx->rec->scopes.names[i]) + 1;
        }

        ctx->scopes.data = ngx_pnalloc(r->pool, len);
        if (ctx->scopes.data == NULL) {
            return NGX_HTTP_PIT_AUTH_UNAVAILABLE;
        }

        if (pit_scope_set_format(&ctx->rec->scopes, (char *) ctx->scopes.data,
                                 len, &len)
            != PIT_OK)
        {
            return NGX_HTTP_PIT_AUTH_UNAVAILABLE;
        }

        ctx->scopes.len = len;
    }

    /* pit_auth_openapi: the route's scope, then pit_auth_scope's */

    switch (ngx_http_pit_auth_openapi_check(r, alcf->openapi,
                                            &ctx->rec->scopes, &ctx->missing,
                                            &ctx->route))
    {
    case NGX_HTTP_PIT_AUTH_ROUTE_NONE:
        return NGX_HTTP_PIT_AUTH_NO_ROUTE;

    case NGX_HTTP_PIT_AUTH_ROUTE_SCOPE:
        return NGX_HTTP_PIT_AUTH_INSUFFICIENT_SCOPE;

    default: /* NGX_HTTP_PIT_AUTH_ROUTE_OK */
        break;
    }

    status = ngx_http_pit_auth_check_scopes(r, alcf, ctx);

    if (status != NGX_HTTP_PIT_AUTH_OK) {
        return status;
    }

    return ngx_http_pit_auth_check_account(r, alcf, ctx);
}


/*
 * Every pit_auth_scope value must hold; a value that evaluates to the
 * empty string requires nothing, so that a map can drive it.
 */

static ngx_uint_t
ngx_http_pit_auth_check_scopes(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    size_t                     len;
    ngx_str_t                  expr;
    pit_err_t                  rc;
    ngx_uint_t                 i;
    const char                *missing;
    ngx_http_complex_value_t  *cv;

    if (alcf->scopes == NULL) {
        return NGX_HTTP_PIT_AUTH_OK;
    }

    cv = alcf->scopes->elts;

    for (i = 0; i < alcf->scopes->nelts; i++) {

        if (ngx_http_complex_value(r, &cv[i], &expr) != NGX_OK) {
            return NGX_HTTP_PIT_AUTH_UNAVAILABLE;
        }

        rc = pit_scope_expr_check((const char *) expr.data, expr.len,
                                  &ctx->rec->scopes, &missing, &len);

        if (rc == PIT_OK) {
            continue;
        }

        if (rc == PIT_ERR_SCOPE_MISSING) {
            ctx->missing.data = (u_char *) missing;
            ctx->missing.len = len;
            return NGX_HTTP_PIT_AUTH_INSUFFICIENT_SCOPE;
        }

        /* a variable produced a bad expression: a configuration error */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pit_auth: invalid scope expression \"%V\"", &expr);

        ctx->missing = expr;

        return NGX_HTTP_PIT_AUTH_INSUFFICIENT_SCOPE;
    }

    return NGX_HTTP_PIT_AUTH_OK;
}


/*
 * Refuses what nginx and an upstream could read apart: a decoded path with
 * a control character (proxy_pass with $uri would put it on the upstream's
 * request line), a raw path that only normalization makes what nginx
 * matched (dot segments, ";", encoded separators), and an account
 * parameter that is not there exactly once in every spelling.
 */

static ngx_uint_t
ngx_http_pit_auth_check_request(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    size_t     n;
    u_char     buf[PIT_ACCOUNT_MAX + 1];
    pit_err_t  rc;

    ctx->ambiguous = NULL;

    if (pit_path_check_decoded((const char *) r->uri.data, r->uri.len,
                               &ctx->ambiguous)
        != PIT_OK)
    {
        return NGX_HTTP_PIT_AUTH_AMBIGUOUS_PATH;
    }

    if (alcf->ambiguous_path == NGX_HTTP_PIT_AUTH_PATH_DENY
        && pit_path_check_raw((const char *) r->unparsed_uri.data,
                              r->unparsed_uri.len, &ctx->ambiguous)
           != PIT_OK)
    {
        return NGX_HTTP_PIT_AUTH_AMBIGUOUS_PATH;
    }

    if (alcf->account_arg == NULL) {
        return NGX_HTTP_PIT_AUTH_OK;
    }

    rc = pit_query_param((const char *) r->args.data, r->args.len,
                         (const char *) alcf->account_arg->data,
                         alcf->account_arg->len, (char *) buf, sizeof(buf),
                         &n);

    switch (rc) {

    case PIT_ERR_DUPLICATE:
        ctx->ambiguous = "the account parameter appears more than once";
        return NGX_HTTP_PIT_AUTH_AMBIGUOUS_ARG;

    case PIT_ERR_AMBIGUOUS:
        ctx->ambiguous = "the account parameter is next to a \";\", which "
                         "some upstreams split on and others do not";
        return NGX_HTTP_PIT_AUTH_AMBIGUOUS_ARG;

    case PIT_ERR_ENCODING:
        ctx->ambiguous = "the query is not well encoded";
        return NGX_HTTP_PIT_AUTH_UNDECODABLE_ARG;

    default:

        /* absent or too long: no token's account, decided later */

        return NGX_HTTP_PIT_AUTH_OK;
    }
}


/* An account that evaluates to the empty string matches no token. */

static ngx_uint_t
ngx_http_pit_auth_check_account(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    size_t     len;
    ngx_str_t  acct;
    u_char     buf[PIT_ACCOUNT_MAX + 1];

    if (alcf->account_arg) {

        if (pit_query_param((const char *) r->args.data, r->args.len,
                            (const char *) alcf->account_arg->data,
                            alcf->account_arg->len, (char *) buf,
                            sizeof(buf), &len)
            != PIT_OK)
        {
            return NGX_HTTP_PIT_AUTH_WRONG_ACCOUNT;
        }

        acct.data = buf;
        acct.len = len;

    } else if (alcf->account == NULL) {
        return NGX_HTTP_PIT_AUTH_OK;

    } else if (ngx_http_complex_value(r, alcf->account, &acct) != NGX_OK) {
        return NGX_HTTP_PIT_AUTH_UNAVAILABLE;
    }

    if (acct.len == 0
        || acct.len != ngx_strlen(ctx->rec->acct)
        || ngx_strncmp(acct.data, ctx->rec->acct, acct.len) != 0)
    {
        return NGX_HTTP_PIT_AUTH_WRONG_ACCOUNT;
    }

    return NGX_HTTP_PIT_AUTH_OK;
}


static ngx_int_t
ngx_http_pit_auth_finish(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    if (ngx_http_pit_auth_remove_headers(r, alcf->hide_token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_null(&ctx->missing);

    ctx->status = ngx_http_pit_auth_decide(r, alcf, ctx);

    ngx_http_pit_auth_counters_request(ctx->status);
    ngx_http_pit_auth_log(r, ctx);

    if (ctx->status != NGX_HTTP_PIT_AUTH_OK) {
        return ngx_http_pit_auth_deny(r, alcf, ctx);
    }

    if (alcf->annotate && ngx_http_pit_auth_annotate(r, alcf, ctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_pit_auth_sunset(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* queued on the worker's connection, never waited for */

    if (alcf->last_used.enable && ctx->lookup_conf
        && ctx->lookup_conf->cache)
    {
        ngx_http_pit_auth_cache_used(ctx->lookup_conf->cache, ctx->raw,
                                     ctx->rec, ngx_http_pit_auth_now(),
                                     alcf->last_used.interval);
    }

    return NGX_OK;
}


/*
 * A token in the query string is masked where nginx keeps the request line
 * ($request, $request_uri, $args, the context of error lines), at the same
 * length so every pointer into it stays valid.  The access log and an
 * upstream reached through "satisfy any" then see the mask, not the token.
 * HTTP/2 builds request_line apart from the URI, hence all three.
 */

static void
ngx_http_pit_auth_mask_request_line(ngx_http_request_t *r)
{
    (void) pit_token_redact((char *) r->request_line.data,
                            r->request_line.len);
    (void) pit_token_redact((char *) r->unparsed_uri.data,
                            r->unparsed_uri.len);
    (void) pit_token_redact((char *) r->args.data, r->args.len);
}


static void
ngx_http_pit_auth_log(ngx_http_request_t *r, ngx_http_pit_auth_ctx_t *ctx)
{
    ngx_str_t  *name;

    name = &ngx_http_pit_auth_status_names[ctx->status];

    if (ctx->query_token) {

        /* the request line in nginx's log context is masked already */

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pit_auth: %V, access_token in the query string "
                      "ignored", name);
        return;
    }

    if (ctx->ambiguous) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pit_auth: %V, %s", name, ctx->ambiguous);
        return;
    }

    if (ctx->status == NGX_HTTP_PIT_AUTH_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pit_auth: %V, token %s", name,
                       ngx_http_pit_auth_hint(ctx));
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "pit_auth: %V, token \"%s\"%s%V", name,
                  ngx_http_pit_auth_hint(ctx),
                  ctx->missing.len ? ", missing scope " : "",
                  &ctx->missing);
}


/* response */


static ngx_int_t
ngx_http_pit_auth_annotate(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    ngx_str_t                    v;
    ngx_list_t                  *h;
    ngx_http_pit_auth_header_t  *hd;

    h = &r->headers_in.headers;
    hd = ngx_http_pit_auth_annotations;

    v.data = (u_char *) ctx->rec->iid;
    v.len = ngx_strlen(v.data);

    if (ngx_http_pit_auth_push_annotation(h, &hd[0], &v) != NGX_OK) {
        return NGX_ERROR;
    }

    v.data = (u_char *) ctx->rec->acct;
    v.len = ngx_strlen(v.data);

    if (ngx_http_pit_auth_push_annotation(h, &hd[1], &v) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_pit_auth_push_annotation(h, &hd[2], &ctx->scopes);
}


/* RFC 8594: a previous token tells its user when it stops working. */

static ngx_int_t
ngx_http_pit_auth_sunset(ngx_http_request_t *r, ngx_http_pit_auth_ctx_t *ctx)
{
    u_char     *p;
    ngx_str_t   v;

    if (ctx->role != PIT_ROLE_PREVIOUS || ctx->sunset) {
        return NGX_OK;
    }

    ctx->sunset = 1;

    p = ngx_pnalloc(r->pool, sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v.data = p;
    v.len = ngx_http_time(p, (time_t) (ctx->rec->until_ms / 1000)) - p;

    if (ngx_http_pit_auth_push_header(&r->headers_out.headers, r->pool,
                                      "Sunset", &v)
        == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* pit_auth_stats sums the requests of each name */

ngx_str_t *
ngx_http_pit_auth_status_name(ngx_uint_t status)
{
    if (status >= sizeof(ngx_http_pit_auth_status_names) / sizeof(ngx_str_t))
    {
        return NULL;
    }

    return &ngx_http_pit_auth_status_names[status];
}


static int64_t
ngx_http_pit_auth_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


ngx_array_t *
ngx_http_pit_auth_marks(void)
{
    ngx_http_pit_auth_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_pit_auth_module);

    return amcf ? &amcf->marks : &ngx_http_pit_auth_no_marks;
}


/* variables */


static ngx_int_t
ngx_http_pit_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_pit_auth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pit_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p;
    int64_t                   left;
    ngx_str_t                 s;
    ngx_http_pit_auth_ctx_t  *ctx;

    ctx = ngx_http_pit_auth_get_ctx(r);

    if (ctx == NULL || ctx->state != NGX_HTTP_PIT_AUTH_LOOKED_UP) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_str_null(&s);

    switch (data) {

    case NGX_HTTP_PIT_AUTH_VAR_STATUS:
        s = ngx_http_pit_auth_status_names[ctx->status];
        break;

    case NGX_HTTP_PIT_AUTH_VAR_HINT:
        s.data = ngx_http_pit_auth_hint(ctx);
        s.len = ngx_strlen(s.data);
        break;

    default:
        if (ctx->rec == NULL) {
            break;
        }

        if (data == NGX_HTTP_PIT_AUTH_VAR_IID) {
            s.data = (u_char *) ctx->rec->iid;

        } else if (data == NGX_HTTP_PIT_AUTH_VAR_ACCOUNT) {
            s.data = (u_char *) ctx->rec->acct;

        } else if (data == NGX_HTTP_PIT_AUTH_VAR_ROLE) {
            s.data = (u_char *) pit_role_name(ctx->role);

        } else if (data == NGX_HTTP_PIT_AUTH_VAR_SCOPES) {
            s = ctx->scopes;
            break;

        } else if (ctx->role == PIT_ROLE_NEXT
                   || ctx->role == PIT_ROLE_PREVIOUS)
        {
            p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
            if (p == NULL) {
                return NGX_ERROR;
            }

            left = (ctx->rec->until_ms - ngx_http_pit_auth_now()) / 1000;
            s.data = p;
            s.len = ngx_sprintf(p, "%L", left > 0 ? left : 0) - p;
            break;
        }

        s.len = s.data ? ngx_strlen(s.data) : 0;
    }

    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s.data;

    return NGX_OK;
}


/* $pit_route and $pit_required_scope: pit_auth_openapi's match */

static ngx_int_t
ngx_http_pit_auth_route_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_pit_auth_ctx_t       *ctx;
    ngx_http_pit_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_pit_auth_module);
    ctx = ngx_http_pit_auth_get_ctx(r);

    return ngx_http_pit_auth_openapi_variable(r, alcf->openapi,
                                              ctx ? &ctx->route : NULL, v,
                                              data);
}


/* configuration */


static void *
ngx_http_pit_auth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_pit_auth_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&amcf->backends, cf->pool, 2,
                       sizeof(ngx_http_pit_auth_redis_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&amcf->marks, cf->pool, 2,
                       sizeof(ngx_http_pit_auth_mark_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return amcf;
}


static void *
ngx_http_pit_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_pit_auth_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->prefix = { 0, NULL };
     *     conf->realm = { 0, NULL };
     *     conf->hash_key = { 0, NULL };
     *     conf->hasher = NULL;
     *     conf->backend = NULL;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->redis = NGX_CONF_UNSET_PTR;
    conf->redis_read = NGX_CONF_UNSET_PTR;
    conf->max_lag = NGX_CONF_UNSET_MSEC;
    conf->connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->read_timeout = NGX_CONF_UNSET_MSEC;
    conf->scopes = NGX_CONF_UNSET_PTR;
    conf->catalog = NGX_CONF_UNSET_PTR;
    conf->account = NGX_CONF_UNSET_PTR;
    conf->account_arg = NGX_CONF_UNSET_PTR;
    conf->ambiguous_path = NGX_CONF_UNSET_UINT;
    conf->scope_status = NGX_CONF_UNSET_UINT;
    conf->annotate = NGX_CONF_UNSET;
    conf->hide_token = NGX_CONF_UNSET;
    conf->cache = NGX_CONF_UNSET_PTR;
    ngx_http_pit_auth_last_used_init(&conf->last_used);
    conf->openapi = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_pit_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_pit_auth_loc_conf_t *prev = parent;
    ngx_http_pit_auth_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t        *clcf;
    ngx_http_pit_auth_redis_conf_t   rc;
    ngx_http_pit_auth_main_conf_t   *amcf;

    /* while merging, cf->ctx holds the loc_conf of the location merged */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (ngx_http_pit_auth_log_redact(cf->pool, clcf->error_log) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->enable == NGX_CONF_UNSET) {
        conf->enable_file = prev->enable_file;
        conf->enable_line = prev->enable_line;
    }

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_ptr_value(conf->redis, prev->redis, NULL);
    ngx_conf_merge_ptr_value(conf->redis_read, prev->redis_read, NULL);
    ngx_conf_merge_msec_value(conf->max_lag, prev->max_lag,
                              NGX_CONF_UNSET_MSEC);
    ngx_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout,
                              100);
    ngx_conf_merge_msec_value(conf->read_timeout, prev->read_timeout, 250);
    ngx_conf_merge_str_value(conf->prefix, prev->prefix, PIT_PREFIX_DEFAULT);
    if (conf->catalog == NGX_CONF_UNSET_PTR) {
        conf->catalog = prev->catalog;
        conf->catalog_level = prev->catalog_level;
    }

    ngx_conf_merge_ptr_value(conf->catalog, NULL, NULL);

    /* scopes set at this level, against the catalogue that applies here */

    if (conf->scopes != NGX_CONF_UNSET_PTR
        && ngx_http_pit_auth_check_catalog(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);

    /* either names the account: a level that sets one drops the other */

    if (conf->account == NGX_CONF_UNSET_PTR
        && conf->account_arg == NGX_CONF_UNSET_PTR)
    {
        conf->account = prev->account;
        conf->account_arg = prev->account_arg;
    }

    ngx_conf_merge_ptr_value(conf->account, NULL, NULL);
    ngx_conf_merge_ptr_value(conf->account_arg, NULL, NULL);

    ngx_conf_merge_uint_value(conf->ambiguous_path, prev->ambiguous_path,
                              NGX_HTTP_PIT_AUTH_PATH_DENY);
    ngx_conf_merge_uint_value(conf->scope_status, prev->scope_status,
                              NGX_HTTP_FORBIDDEN);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "api");
    ngx_conf_merge_value(conf->annotate, prev->annotate, 1);
    ngx_conf_merge_value(conf->hide_token, prev->hide_token, 1);
    ngx_conf_merge_ptr_value(conf->cache, prev->cache, NULL);
    ngx_http_pit_auth_last_used_merge(&conf->last_used, &prev->last_used);
    ngx_conf_merge_ptr_value(conf->openapi, prev->openapi, NULL);

    if (conf->hash_key.data == NULL) {
        conf->hash_key = prev->hash_key;
    }

    if (conf->hash_key.data == prev->hash_key.data) {
        conf->hasher = prev->hasher;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    if (conf->hasher == NULL
        && ngx_http_pit_auth_create_hasher(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->redis == NULL) {

        /* merging runs at the end of http{}: name the line of "pit_auth" */

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pit_auth\" is on but no \"pit_auth_redis\" is "
                      "configured for it in %V:%ui",
                      &conf->enable_file, conf->enable_line);
        return NGX_CONF_ERROR;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pit_auth_module);

    ngx_memzero(&rc, sizeof(ngx_http_pit_auth_redis_conf_t));

    rc.addr = conf->redis;
    rc.read = conf->redis_read;
    rc.connect_timeout = conf->connect_timeout;
    rc.read_timeout = conf->read_timeout;
    rc.prefix = conf->prefix;

    /* a replica may be as far behind as a cached entry may be stale */

    rc.max_lag = conf->max_lag;

    if (rc.max_lag == NGX_CONF_UNSET_MSEC) {
        rc.max_lag = (conf->cache && conf->cache->stale)
                     ? conf->cache->stale
                     : NGX_HTTP_PIT_AUTH_MAX_LAG;
    }

    conf->backend = ngx_http_pit_auth_redis_add(cf, &amcf->backends, &rc);
    if (conf->backend == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pit_auth_mark_expect(cf, &amcf->marks, conf->backend,
                                      conf->redis->db, &conf->prefix,
                                      &conf->hash_key)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->last_used.enable && conf->cache == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"pit_auth_last_used\" requires "
                           "\"pit_auth_cache\"");
        return NGX_CONF_ERROR;
    }

    if (conf->cache
        && ngx_http_pit_auth_cache_bind(cf, conf->cache, conf->backend,
                                        conf->redis, &conf->prefix,
                                        &conf->hash_key)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_pit_auth_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->redis != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    alcf->redis = ngx_pcalloc(cf->pool,
                              sizeof(ngx_http_pit_auth_redis_addr_t));
    if (alcf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    return ngx_http_pit_auth_redis_parse(cf, &value[1], cf->args->nelts - 1,
                                         alcf->redis);
}


static char *
ngx_http_pit_auth_redis_read(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->redis_read != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    alcf->redis_read = ngx_pcalloc(cf->pool,
                                   sizeof(ngx_http_pit_auth_redis_read_t));
    if (alcf->redis_read == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    return ngx_http_pit_auth_redis_read_parse(cf, &value[1],
                                              cf->args->nelts - 1,
                                              alcf->redis_read);
}


static char *
ngx_http_pit_auth_redis_timeout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    ngx_str_t   *value;
    ngx_msec_t   t[2];
    ngx_uint_t   i;

    if (alcf->connect_timeout != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < 2; i++) {
        t[i] = ngx_parse_time(&value[i + 1], 0);

        if (t[i] == (ngx_msec_t) NGX_ERROR || t[i] == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid pit_auth_redis_timeout \"%V\"",
                               &value[i + 1]);
            return NGX_CONF_ERROR;
        }
    }

    alcf->connect_timeout = t[0];
    alcf->read_timeout = t[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_pit_auth_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    char  *rv;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);

    if (rv == NGX_CONF_OK) {
        alcf->enable_file = cf->conf_file->file.name;
        alcf->enable_line = cf->conf_file->line;
    }

    return rv;
}


/* As ngx_conf_set_enum_slot(), with an error that lists what is allowed. */

static char *
ngx_http_pit_auth_enum(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char           *q, list[128];
    ngx_str_t        *value;
    ngx_uint_t       *np, i;
    ngx_conf_enum_t  *e;

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e[i].name.len != 0; i++) {
        if (e[i].name.len == value[1].len
            && ngx_strcasecmp(e[i].name.data, value[1].data) == 0)
        {
            *np = e[i].value;
            return NGX_CONF_OK;
        }
    }

    q = list;

    for (i = 0; e[i].name.len != 0; i++) {
        q = ngx_slprintf(q, list + sizeof(list), "%s\"%V\"",
                         i == 0 ? "" : (e[i + 1].name.len ? ", " : " or "),
                         &e[i].name);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\", it must be %*s",
                       &value[1], &cmd->name, q - list, list);

    return NGX_CONF_ERROR;
}


/*
 * $arg_NAME matches the name in any case, takes the first of several and
 * does not decode the name, while upstreams decode and often take the
 * last: the account could be read from one parameter and used from
 * another.  pit_auth_account_arg reads the query itself.
 */

static char *
ngx_http_pit_auth_account(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (alcf->account != NGX_CONF_UNSET_PTR
        || alcf->account_arg != NGX_CONF_UNSET_PTR)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strlcasestrn(value[1].data, value[1].data + value[1].len,
                         (u_char *) "$arg_", 5 - 1)
        != NULL)
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"pit_auth_account\" with \"$arg_\" can be "
                           "bypassed with a repeated or encoded parameter, "
                           "use \"pit_auth_account_arg\" instead");
    }

    alcf->account = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (alcf->account == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = alcf->account;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_pit_auth_account_arg(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    u_char       ch;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (alcf->account != NGX_CONF_UNSET_PTR
        || alcf->account_arg != NGX_CONF_UNSET_PTR)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        ch = value[1].data[i];

        if ((ch < 'a' || ch > 'z') && (ch < 'A' || ch > 'Z')
            && (ch < '0' || ch > '9') && ch != '_' && ch != '-' && ch != '.')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter name \"%V\" in \"%V\", "
                               "letters, digits, \"_\", \"-\" and \".\" "
                               "are allowed", &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        return "has an empty parameter name";
    }

    /* cf->args is reused for the next directive: keep a copy */

    alcf->account_arg = ngx_palloc(cf->pool, sizeof(ngx_str_t));
    if (alcf->account_arg == NULL) {
        return NGX_CONF_ERROR;
    }

    *alcf->account_arg = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_pit_auth_key_prefix(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->prefix.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (pit_prefix_validate((const char *) value[1].data, value[1].len)
        != PIT_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid pit_auth_key_prefix \"%V\": "
                           "1-64 printable characters without blanks",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    alcf->prefix = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_pit_auth_scope(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *cv;
    ngx_http_pit_auth_scope_const_t   *sc;
    ngx_http_compile_complex_value_t   ccv;

    if (alcf->scopes == NGX_CONF_UNSET_PTR) {
        alcf->scopes = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_complex_value_t));
        if (alcf->scopes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        cv = ngx_array_push(alcf->scopes);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (cv->lengths) {
            continue;
        }

        if (pit_scope_expr_validate((const char *) value[i].data,
                                    value[i].len)
            != PIT_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid pit_auth_scope \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        /* for pit_auth_scope_catalog, which may come later */

        if (alcf->scope_consts == NULL) {
            alcf->scope_consts = ngx_array_create(cf->pool, 4,
                                     sizeof(ngx_http_pit_auth_scope_const_t));
            if (alcf->scope_consts == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        sc = ngx_array_push(alcf->scope_consts);
        if (sc == NULL) {
            return NGX_CONF_ERROR;
        }

        sc->value = value[i];
        sc->file = cf->conf_file->file.name;
        sc->line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_pit_auth_scope_catalog(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    char                 err[PIT_CATALOG_ERR_MAX];
    ngx_str_t           *value;
    pit_err_t            rc;
    ngx_pool_cleanup_t  *cln;

    if (alcf->catalog != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    alcf->catalog_level = NGX_LOG_EMERG;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "warn") == 0) {
            alcf->catalog_level = NGX_LOG_WARN;

        } else if (ngx_strcmp(value[2].data, "error") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\", it must be "
                               "\"warn\" or \"error\"", &value[2],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_conf_full_name(cf->cycle, &value[1], 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    alcf->catalog = ngx_pcalloc(cf->pool, sizeof(pit_catalog_list_t));
    if (alcf->catalog == NULL) {
        return NGX_CONF_ERROR;
    }

    pit_catalog_list_init(alcf->catalog);

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_pit_auth_free_catalog;
    cln->data = alcf->catalog;

    rc = pit_catalog_load_file(alcf->catalog, (const char *) value[1].data,
                               err, sizeof(err));

    if (rc != PIT_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "pit_auth_scope_catalog: %s",
                           err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_pit_auth_free_catalog(void *data)
{
    pit_catalog_list_free(data);
}


/*
 * Each constant term of a pit_auth_scope set at this level must be in the
 * catalogue: a typo would otherwise refuse every client with 403.
 */

static ngx_int_t
ngx_http_pit_auth_check_catalog(ngx_conf_t *cf,
    ngx_http_pit_auth_loc_conf_t *conf)
{
    u_char                           *p, *end, *t;
    ngx_uint_t                        i, bad;
    ngx_http_pit_auth_scope_const_t  *sc;

    if (conf->catalog == NULL || conf->scope_consts == NULL) {
        return NGX_OK;
    }

    sc = conf->scope_consts->elts;
    bad = 0;

    for (i = 0; i < conf->scope_consts->nelts; i++) {
        p = sc[i].value.data;
        end = p + sc[i].value.len;

        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == '|')) {
                p++;
            }

            for (t = p; t < end && *t != ' ' && *t != '\t' && *t != '|'; t++)
            {
                /* void */
            }

            if (t > p
                && pit_catalog_list_find(conf->catalog, (const char *) p,
                                         t - p)
                   == NULL)
            {
                ngx_log_error(conf->catalog_level, cf->log, 0,
                              "pit_auth_scope \"%*s\" is not in the scope "
                              "catalogue in %V:%ui", t - p, p, &sc[i].file,
                              sc[i].line);
                bad = 1;
            }

            p = t;
        }
    }

    return (bad && conf->catalog_level == NGX_LOG_EMERG) ? NGX_ERROR : NGX_OK;
}


static char *
ngx_http_pit_auth_realm(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (alcf->realm.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] < 0x20 || value[1].data[i] > 0x7e
            || value[1].data[i] == '"' || value[1].data[i] == '\\')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid pit_auth_realm \"%V\": printable "
                               "ASCII without quotes or backslashes",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    alcf->realm = value[1];

    return NGX_CONF_OK;
}


/*
 * One hasher per hash key, made before the fork: each worker inherits its
 * copy and, single-threaded, reuses it for every request.
 */

static ngx_int_t
ngx_http_pit_auth_create_hasher(ngx_conf_t *cf,
    ngx_http_pit_auth_loc_conf_t *alcf)
{
    pit_err_t            rc;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    rc = pit_hasher_new(&alcf->hasher, alcf->hash_key.data,
                        alcf->hash_key.len);

    if (rc != PIT_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pit_auth: cannot create the token hasher: %s",
                           pit_strerror(rc));
        return NGX_ERROR;
    }

    cln->handler = ngx_http_pit_auth_free_hasher;
    cln->data = alcf->hasher;

    return NGX_OK;
}


static void
ngx_http_pit_auth_free_hasher(void *data)
{
    pit_hasher_free(data);
}


static char *
ngx_http_pit_auth_hash_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pit_auth_loc_conf_t *alcf = conf;

    size_t      len;
    u_char      key[PIT_HASH_KEY_MAX];
    pit_err_t   rc;
    ngx_str_t  *value, name;

    if (alcf->hash_key.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rc = pit_hash_key_load((const char *) name.data, key, &len);

    if (rc != PIT_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pit_auth_hash_key \"%V\": %s", &name,
                           pit_strerror(rc));
        return NGX_CONF_ERROR;
    }

    alcf->hash_key.data = ngx_pnalloc(cf->pool, len);
    if (alcf->hash_key.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(alcf->hash_key.data, key, len);
    alcf->hash_key.len = len;

    ngx_explicit_memzero(key, sizeof(key));

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_pit_auth_init(ngx_conf_t *cf)
{
    ngx_uint_t                      i;
    ngx_http_handler_pt            *h;
    ngx_http_pit_auth_header_t     *hd;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_pit_auth_main_conf_t  *amcf;

    hd = ngx_http_pit_auth_annotations;

    for (i = 0; i < sizeof(ngx_http_pit_auth_annotations)
                    / sizeof(ngx_http_pit_auth_header_t); i++)
    {
        hd[i].hash = ngx_hash_key(hd[i].lowcase, hd[i].name.len);
    }

    /* locations are merged by now: a backend means pit_auth is on */

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pit_auth_module);

    if (amcf->backends.nelts
        && ngx_http_pit_auth_counters_add(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_pit_auth_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_pit_auth_subrequest_handler;

    return NGX_OK;
}


/*
 * The main error log may be given after http{}, and listening sockets
 * copied their log before this runs: both are wrapped here, the logs of
 * servers and locations when they are merged.
 */

static ngx_int_t
ngx_http_pit_auth_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t        i;
    ngx_listening_t  *ls;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_pit_auth_module)
        == NULL)
    {
        return NGX_OK;
    }

    if (ngx_http_pit_auth_log_redact(cycle->pool, &cycle->new_log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ngx_http_pit_auth_log_redact(cycle->pool, &ls[i].log) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pit_auth_init_process(ngx_cycle_t *cycle)
{
    ngx_http_pit_auth_main_conf_t  *amcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_pit_auth_module);
    if (amcf == NULL) {
        return NGX_OK;
    }

    ngx_http_pit_auth_counters_init_process(cycle);
    ngx_http_pit_auth_redis_init_process(cycle, &amcf->backends);
    ngx_http_pit_auth_subscriber_init_process(cycle);

    return NGX_OK;
}


static void
ngx_http_pit_auth_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_pit_auth_record_t     *pr;
    ngx_http_pit_auth_main_conf_t  *amcf;

    while (ngx_http_pit_auth_records) {
        pr = ngx_http_pit_auth_records;
        ngx_http_pit_auth_records = pr->next;
        ngx_free(pr);
    }

    ngx_http_pit_auth_nrecords = 0;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_pit_auth_module);
    if (amcf == NULL) {
        return;
    }

    ngx_http_pit_auth_subscriber_exit_process(cycle);
    ngx_http_pit_auth_redis_exit_process(&amcf->backends);
}
