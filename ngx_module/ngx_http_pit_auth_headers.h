
/*
 * pit-auth: the headers the module edits: the request's (client-sent
 * X-Pit-* and Authorization headers removed, annotations added) and the
 * ones it adds to a response.
 */


#ifndef _NGX_HTTP_PIT_AUTH_HEADERS_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_HEADERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* A header of a constant name, hashed once by the module's init. */
typedef struct {
    ngx_str_t                    name;
    u_char                      *lowcase;
    ngx_uint_t                   hash;          /* set by init */
} ngx_http_pit_auth_header_t;


/* An annotation for the upstream: no copy to lowercase, no hash. */
ngx_int_t ngx_http_pit_auth_push_annotation(ngx_list_t *list,
    ngx_http_pit_auth_header_t *hd, ngx_str_t *value);

/* A header of a request or a response; name is kept, not copied. */
ngx_table_elt_t *ngx_http_pit_auth_push_header(ngx_list_t *list,
    ngx_pool_t *pool, char *name, ngx_str_t *value);

/*
 * Unlinks client-sent X-Pit-* headers, and Authorization if asked, from
 * r->headers_in.headers; pointers into the list stay valid.
 */
ngx_int_t ngx_http_pit_auth_remove_headers(ngx_http_request_t *r,
    ngx_uint_t authorization);

/* How many Authorization headers the request has. */
ngx_uint_t ngx_http_pit_auth_count_authorization(ngx_http_request_t *r);


#endif /* _NGX_HTTP_PIT_AUTH_HEADERS_H_INCLUDED_ */
