
/*
 * pit-auth: what differs between the nginx versions the module builds
 * against (1.22 to 1.31), decided here and nowhere else.
 *
 * nginx 1.23.0 replaced the arrays of repeated request headers
 * (headers_in.cookies, headers_in.x_forwarded_for) by chains through a new
 * ngx_table_elt_t.next field, which every header the module creates must
 * then set, and which the module must follow when it moves headers.
 */


#ifndef _NGX_HTTP_PIT_AUTH_COMPAT_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_COMPAT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#if (nginx_version >= 1023000)

#define NGX_HTTP_PIT_AUTH_HEADER_CHAINS  1
#define ngx_http_pit_auth_header_unchained(h)  (h)->next = NULL

#else

#define NGX_HTTP_PIT_AUTH_HEADER_CHAINS  0
#define ngx_http_pit_auth_header_unchained(h)

#endif


#endif /* _NGX_HTTP_PIT_AUTH_COMPAT_H_INCLUDED_ */
