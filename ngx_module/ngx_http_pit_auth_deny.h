
/*
 * pit-auth: refusals: the status, the RFC 6750 WWW-Authenticate header and
 * the JSON body of a request the check denied.
 */


#ifndef _NGX_HTTP_PIT_AUTH_DENY_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_DENY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pit_auth_module.h"


/*
 * The answer to ctx->status, as an access handler returns it: the code,
 * for satisfy any, error_page or a parent request to act on, or NGX_DONE
 * once the module has sent its JSON body.
 */
ngx_int_t ngx_http_pit_auth_deny(ngx_http_request_t *r,
    ngx_http_pit_auth_loc_conf_t *alcf, ngx_http_pit_auth_ctx_t *ctx);


#endif /* _NGX_HTTP_PIT_AUTH_DENY_H_INCLUDED_ */
