
/*
 * pit-auth: tokens masked in nginx's error logs.
 *
 * nginx itself writes request headers (debug), a duplicate header line
 * (info) and the request line (the context of every error) verbatim; the
 * module cannot stop it from writing them, so it stands between the log
 * and its file: every error log of the http{} block gets a writer that
 * masks token-shaped text (pit_token_redact) before the line is written.
 */


#ifndef _NGX_HTTP_PIT_AUTH_LOG_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_LOG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Puts the masking writer in front of every log of the chain; a log that
 * already has it is left alone, a writer already there (syslog, memory)
 * is kept behind it.
 */
ngx_int_t ngx_http_pit_auth_log_redact(ngx_pool_t *pool, ngx_log_t *log);


#endif /* _NGX_HTTP_PIT_AUTH_LOG_H_INCLUDED_ */
