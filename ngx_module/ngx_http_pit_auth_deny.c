
/*
 * pit-auth: refusals.
 *
 * Each status a check ends with has its answer: the code, the RFC 6750
 * error of the WWW-Authenticate header (Retry-After too when the store is
 * unavailable), and a JSON body the module sends only where nginx would
 * otherwise send its own HTML page.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pit_auth_module.h"
#include "ngx_http_pit_auth_headers.h"
#include "ngx_http_pit_auth_deny.h"


typedef struct {
    ngx_uint_t                   code;
    ngx_str_t                    error;         /* RFC 6750 error code */
    ngx_str_t                    body;
} ngx_http_pit_auth_answer_t;


static ngx_int_t ngx_http_pit_auth_www_authenticate(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx,
    ngx_http_pit_auth_answer_t *a);
static ngx_int_t ngx_http_pit_auth_error_page(ngx_http_request_t *r,
    ngx_uint_t code);
static ngx_int_t ngx_http_pit_auth_send(ngx_http_request_t *r,
    ngx_http_pit_auth_answer_t *a);


#define NGX_HTTP_PIT_AUTH_BODY(code, message, error)                          \
    ngx_string("{\"statusCode\":" #code ",\"message\":\"" message             \
               "\",\"error\":\"" error "\"}\n")

static ngx_http_pit_auth_answer_t  ngx_http_pit_auth_answers[] = {

    /* ok */
    { NGX_HTTP_OK, ngx_null_string, ngx_null_string },

    /* missing */
    { NGX_HTTP_UNAUTHORIZED, ngx_null_string,
      NGX_HTTP_PIT_AUTH_BODY(401, "Missing token: an Authorization: Bearer "
                             "token is required", "Unauthorized") },

    /* malformed */
    { NGX_HTTP_UNAUTHORIZED, ngx_string("invalid_token"),
      NGX_HTTP_PIT_AUTH_BODY(401, "Invalid token: access token is invalid",
                             "Unauthorized") },

    /* invalid */
    { NGX_HTTP_UNAUTHORIZED, ngx_string("invalid_token"),
      NGX_HTTP_PIT_AUTH_BODY(401, "Invalid token: access token is invalid",
                             "Unauthorized") },

    /* expired */
    { NGX_HTTP_UNAUTHORIZED, ngx_string("invalid_token"),
      NGX_HTTP_PIT_AUTH_BODY(401, "Invalid token: access token is invalid",
                             "Unauthorized") },

    /* insufficient_scope */
    { NGX_HTTP_FORBIDDEN, ngx_string("insufficient_scope"),
      NGX_HTTP_PIT_AUTH_BODY(403, "The token is not authorized for this "
                             "scope.", "Forbidden") },

    /* wrong_account */
    { NGX_HTTP_FORBIDDEN, ngx_null_string,
      NGX_HTTP_PIT_AUTH_BODY(403, "The token does not have access to this "
                             "location.", "Forbidden") },

    /* unavailable */
    { NGX_HTTP_SERVICE_UNAVAILABLE, ngx_null_string,
      NGX_HTTP_PIT_AUTH_BODY(503, "Authorization backend unavailable",
                             "Service Unavailable") },

    /* bad request */
    { NGX_HTTP_BAD_REQUEST, ngx_string("invalid_request"),
      NGX_HTTP_PIT_AUTH_BODY(400, "Invalid request", "Bad Request") },

    /* no_route: pit_auth_openapi knows no such method and path */
    { NGX_HTTP_FORBIDDEN, ngx_null_string,
      NGX_HTTP_PIT_AUTH_BODY(403, "No such route.", "Forbidden") },

    /* ambiguous: a path that nginx and an upstream could read apart */
    { NGX_HTTP_BAD_REQUEST, ngx_null_string,
      NGX_HTTP_PIT_AUTH_BODY(400, "The request path is ambiguous.",
                             "Bad Request") },

    /* ambiguous: the account parameter given more than once */
    { NGX_HTTP_BAD_REQUEST, ngx_null_string,
      NGX_HTTP_PIT_AUTH_BODY(400, "The account parameter must appear "
                             "exactly once.", "Bad Request") },

    /* ambiguous: the account parameter cannot be decoded */
    { NGX_HTTP_BAD_REQUEST, ngx_null_string,
      NGX_HTTP_PIT_AUTH_BODY(400, "The account parameter is not well "
                             "encoded.", "Bad Request") }
};


/* pit_auth_scope_status 401: HighLevel's answer */
static ngx_http_pit_auth_answer_t  ngx_http_pit_auth_scope_401 = {
    NGX_HTTP_UNAUTHORIZED, ngx_string("insufficient_scope"),
    NGX_HTTP_PIT_AUTH_BODY(401, "The token is not authorized for this scope.",
                           "Unauthorized")
};


/*
 * Denials are returned as status codes, so that satisfy any and error_page
 * work as with nginx's own access modules; only when nginx would answer
 * with its HTML page does the module send its JSON body itself.
 */

ngx_int_t
ngx_http_pit_auth_deny(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx)
{
    ngx_str_t                    v;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_pit_auth_answer_t  *a;

    a = &ngx_http_pit_auth_answers[ctx->status];

    if (ctx->status == NGX_HTTP_PIT_AUTH_INSUFFICIENT_SCOPE
        && alcf->scope_status == NGX_HTTP_UNAUTHORIZED)
    {
        a = &ngx_http_pit_auth_scope_401;
    }

    if (ngx_http_pit_auth_www_authenticate(r, alcf, ctx, a) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (a->code == NGX_HTTP_SERVICE_UNAVAILABLE && !ctx->retry_after) {
        ctx->retry_after = 1;
        ngx_str_set(&v, "1");

        if (ngx_http_pit_auth_push_header(&r->headers_out.headers, r->pool,
                                          "Retry-After", &v)
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* auth_request reads a subrequest's status; SSI shows nginx's page */

    if (r != r->main) {
        return a->code;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if ((clcf->satisfy == NGX_HTTP_SATISFY_ANY
         && (a->code == NGX_HTTP_UNAUTHORIZED
             || a->code == NGX_HTTP_FORBIDDEN))
        || ngx_http_pit_auth_error_page(r, a->code))
    {
        return a->code;
    }

    return ngx_http_pit_auth_send(r, a);
}


static ngx_int_t
ngx_http_pit_auth_www_authenticate(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx,
    ngx_http_pit_auth_answer_t *a)
{
    u_char           *p, *q;
    size_t            len;
    ngx_str_t         v;
    ngx_table_elt_t  *h;

    if (a->code == NGX_HTTP_BAD_REQUEST && a->error.len == 0) {

        /* an ambiguous request says nothing about the token */

        return NGX_OK;
    }

    if (ctx->status == NGX_HTTP_PIT_AUTH_WRONG_ACCOUNT
        || ctx->status == NGX_HTTP_PIT_AUTH_UNAVAILABLE
        || ctx->status == NGX_HTTP_PIT_AUTH_NO_ROUTE)
    {
        return NGX_OK;
    }

    len = sizeof("Bearer realm=\"\", error=\"\", scope=\"\"") - 1
          + alcf->realm.len + a->error.len + ctx->missing.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v.data = p;

    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &alcf->realm);

    if (a->error.len) {
        p = ngx_sprintf(p, ", error=\"%V\"", &a->error);
    }

    if (ctx->missing.len) {

        /* RFC 6750 scope syntax: "a|b" is offered as "a b" */

        q = p + sizeof(", scope=\"") - 1;
        p = ngx_sprintf(p, ", scope=\"%V\"", &ctx->missing);

        for ( /* void */ ; q < p - 1; q++) {
            if (*q == '|') {
                *q = ' ';
            }
        }
    }

    v.len = p - v.data;

    h = r->headers_out.www_authenticate;

    /* ours from a pass before an internal redirect; never auth_basic's */

    if (h && h->value.len > 7
        && ngx_strncmp(h->value.data, "Bearer ", 7) == 0)
    {
        r->headers_out.www_authenticate->hash = 1;
        r->headers_out.www_authenticate->value = v;
        return NGX_OK;
    }

    h = ngx_http_pit_auth_push_header(&r->headers_out.headers, r->pool,
                                      "WWW-Authenticate", &v);
    if (h == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.www_authenticate = h;

    return NGX_OK;
}


/* Returns 1 if nginx would answer code with an error_page. */

static ngx_int_t
ngx_http_pit_auth_error_page(ngx_http_request_t *r, ngx_uint_t code)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->error_page || clcf->error_pages == NULL || r->uri_changes == 0) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (ngx_int_t) code) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_pit_auth_send(ngx_http_request_t *r, ngx_http_pit_auth_answer_t *a)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = a->code;
    r->headers_out.content_length_n = a->body.len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return NGX_DONE;
    }

    b->pos = a->body.data;
    b->last = a->body.data + a->body.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));

    return NGX_DONE;
}
