
/*
 * pit-auth: pit_auth_openapi FILE... [strip_prefix=/api]
 * [unmatched=deny|allow].
 *
 * The files are read and checked by the core when the configuration is
 * read, so nginx -t reports a bad spec with its file and JSON path; the
 * trie lives in the configuration pool.  Per request the normalized $uri
 * (less the prefix) and the method are matched without allocating, and
 * the route's expression is one more requirement beside pit_auth_scope.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pit_error.h"
#include "pit_scope.h"
#include "pit_openapi.h"

#include "ngx_http_pit_auth_openapi.h"


static const pit_route_t *ngx_http_pit_auth_openapi_match(
    ngx_http_request_t *r, ngx_http_pit_auth_openapi_t *oa,
    ngx_uint_t folded);
static void *ngx_http_pit_auth_openapi_alloc(void *ctx, size_t size);
static char *ngx_http_pit_auth_openapi_option(ngx_conf_t *cf,
    ngx_str_t *value, ngx_http_pit_auth_openapi_t *oa);
static char *ngx_http_pit_auth_openapi_build(ngx_conf_t *cf,
    ngx_str_t *files, ngx_uint_t n, ngx_http_pit_auth_openapi_t *oa);


ngx_uint_t
ngx_http_pit_auth_openapi_check(ngx_http_request_t *r,
    ngx_http_pit_auth_openapi_t *oa, const pit_scope_set_t *held,
    ngx_str_t *missing, ngx_http_pit_auth_route_t *rt)
{
    size_t              len;
    pit_err_t           rc;
    const char         *miss;
    const pit_route_t  *route;

    if (oa == NULL) {
        return NGX_HTTP_PIT_AUTH_ROUTE_OK;
    }

    route = ngx_http_pit_auth_openapi_match(r, oa, 0);

    rt->route = route;
    rt->matched = 1;

    if (route == NULL) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pit_auth openapi: no route for %V \"%V\"",
                       &r->method_name, &r->uri);

        if (!oa->unmatched_allow) {
            return NGX_HTTP_PIT_AUTH_ROUTE_NONE;
        }

        /*
         * "DELETE /Contacts/1" is no route here, but one to an upstream
         * that ignores case: what a route would refuse is never allowed
         */

        if (ngx_http_pit_auth_openapi_match(r, oa, 1) != NULL) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "pit_auth: no_route, %V \"%V\" matches a route "
                          "only when case is ignored",
                          &r->method_name, &r->uri);

            return NGX_HTTP_PIT_AUTH_ROUTE_NONE;
        }

        return NGX_HTTP_PIT_AUTH_ROUTE_OK;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pit_auth openapi: %s %s needs \"%s\"",
                   pit_method_name(route->method), route->tmpl, route->expr);

    rc = pit_scope_expr_check(route->expr, ngx_strlen(route->expr), held,
                              &miss, &len);

    if (rc == PIT_OK) {
        return NGX_HTTP_PIT_AUTH_ROUTE_OK;
    }

    /* expressions were made by the core from checked names: never invalid */

    missing->data = (u_char *) (rc == PIT_ERR_SCOPE_MISSING ? miss
                                                            : route->expr);
    missing->len = (rc == PIT_ERR_SCOPE_MISSING) ? len
                                                 : ngx_strlen(route->expr);

    return NGX_HTTP_PIT_AUTH_ROUTE_SCOPE;
}


/*
 * After an internal redirect (to a named location for limit_req, say) the
 * location and $uri may have changed: the route decided on is kept.
 */

ngx_int_t
ngx_http_pit_auth_openapi_variable(ngx_http_request_t *r,
    ngx_http_pit_auth_openapi_t *oa, ngx_http_pit_auth_route_t *rt,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char         *s;
    const pit_route_t  *route;

    if (rt && rt->matched) {
        route = rt->route;

    } else {
        route = oa ? ngx_http_pit_auth_openapi_match(r, oa, 0) : NULL;
    }

    if (route == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (data == NGX_HTTP_PIT_AUTH_VAR_ROUTE) ? route->tmpl : route->expr;

    v->len = ngx_strlen(s);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = (u_char *) s;

    return NGX_OK;
}


/*
 * $uri is already decoded and normalized by nginx ("//", "/./", "/../",
 * percent-encoding); the prefix must end at a segment boundary.
 */

static const pit_route_t *
ngx_http_pit_auth_openapi_match(ngx_http_request_t *r,
    ngx_http_pit_auth_openapi_t *oa, ngx_uint_t folded)
{
    u_char  *p;
    size_t   len;

    p = r->uri.data;
    len = r->uri.len;

    if (oa->strip_prefix.len) {
        if (len < oa->strip_prefix.len
            || (folded ? ngx_strncasecmp(p, oa->strip_prefix.data,
                                         oa->strip_prefix.len)
                       : ngx_strncmp(p, oa->strip_prefix.data,
                                     oa->strip_prefix.len))
               != 0
            || (len > oa->strip_prefix.len
                && p[oa->strip_prefix.len] != '/'))
        {
            return NULL;
        }

        p += oa->strip_prefix.len;
        len -= oa->strip_prefix.len;
    }

    if (folded) {
        return pit_trie_match_folded(oa->trie,
                                     (const char *) r->method_name.data,
                                     r->method_name.len, (const char *) p,
                                     len);
    }

    return pit_trie_match(oa->trie, (const char *) r->method_name.data,
                          r->method_name.len, (const char *) p, len);
}


static void *
ngx_http_pit_auth_openapi_alloc(void *ctx, size_t size)
{
    return ngx_palloc((ngx_pool_t *) ctx, size);
}


char *
ngx_http_pit_auth_openapi(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t                     *value, *files;
    ngx_uint_t                     i, n;
    ngx_http_pit_auth_openapi_t  **field, *oa;

    field = (ngx_http_pit_auth_openapi_t **) (p + cmd->offset);

    if (*field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    oa = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_openapi_t));
    if (oa == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     oa->trie = NULL;
     *     oa->strip_prefix = { 0, NULL };
     *     oa->unmatched_allow = 0;
     */

    value = cf->args->elts;

    files = ngx_palloc(cf->pool, cf->args->nelts * sizeof(ngx_str_t));
    if (files == NULL) {
        return NGX_CONF_ERROR;
    }

    n = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')
            && (ngx_strncmp(value[i].data, "strip_prefix=", 13) == 0
                || ngx_strncmp(value[i].data, "unmatched=", 10) == 0))
        {
            if (ngx_http_pit_auth_openapi_option(cf, &value[i], oa)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        files[n++] = value[i];
    }

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pit_auth_openapi needs at least one file");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pit_auth_openapi_build(cf, files, n, oa) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    *field = oa;

    return NGX_CONF_OK;
}


static char *
ngx_http_pit_auth_openapi_option(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_pit_auth_openapi_t *oa)
{
    ngx_str_t  s;

    if (ngx_strncmp(value->data, "unmatched=", 10) == 0) {
        s.data = value->data + 10;
        s.len = value->len - 10;

        if (s.len == 4 && ngx_strncmp(s.data, "deny", 4) == 0) {
            oa->unmatched_allow = 0;
            return NGX_CONF_OK;
        }

        if (s.len == 5 && ngx_strncmp(s.data, "allow", 5) == 0) {
            oa->unmatched_allow = 1;
            return NGX_CONF_OK;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid pit_auth_openapi \"%V\": "
                           "deny or allow", value);
        return NGX_CONF_ERROR;
    }

    s.data = value->data + 13;
    s.len = value->len - 13;

    /* "/api/" and "/api" are the same prefix; "/" strips nothing */

    while (s.len > 1 && s.data[s.len - 1] == '/') {
        s.len--;
    }

    if (s.len == 0 || s.data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid pit_auth_openapi \"%V\": the prefix "
                           "must start with \"/\"", value);
        return NGX_CONF_ERROR;
    }

    oa->strip_prefix.data = s.data;
    oa->strip_prefix.len = (s.len == 1) ? 0 : s.len;

    return NGX_CONF_OK;
}


static char *
ngx_http_pit_auth_openapi_build(ngx_conf_t *cf, ngx_str_t *files,
    ngx_uint_t n, ngx_http_pit_auth_openapi_t *oa)
{
    char          err[PIT_OPENAPI_ERR_MAX];
    size_t        nroutes;
    pit_err_t     rc;
    ngx_str_t     name;
    ngx_uint_t    i;
    pit_routes_t  rt;

    pit_routes_init(&rt);

    for (i = 0; i < n; i++) {
        name = files[i];

        /* NUL-terminated by ngx_conf_full_name() or by the parser */

        if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
            pit_routes_free(&rt);
            return NGX_CONF_ERROR;
        }

        rc = pit_openapi_load_file(&rt, (const char *) name.data, err,
                                   sizeof(err));

        if (rc != PIT_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "pit_auth_openapi: %s", err);
            pit_routes_free(&rt);
            return NGX_CONF_ERROR;
        }
    }

    rc = pit_trie_build(&rt, ngx_http_pit_auth_openapi_alloc, cf->pool,
                        &oa->trie, err, sizeof(err));

    pit_routes_free(&rt);

    if (rc != PIT_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "pit_auth_openapi: %s",
                           rc == PIT_ERR_CONFLICT ? err : pit_strerror(rc));
        return NGX_CONF_ERROR;
    }

    (void) pit_trie_routes(oa->trie, &nroutes);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                   "pit_auth_openapi: %uz routes", nroutes);

    return NGX_CONF_OK;
}
