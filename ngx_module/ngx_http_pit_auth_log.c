
/*
 * pit-auth: tokens masked in nginx's error logs.
 *
 * ngx_log_error_core() formats a line once, then hands it to each log of
 * the chain: to log->writer when there is one, else to log->file.  A log
 * wrapped here gets ngx_http_pit_auth_log_writer(), which masks the line in
 * place (same length: nginx still holds pointers into it for the console
 * copy) and then writes it as nginx would have: through the writer that was
 * there before (syslog, memory buffer), or to the file.
 *
 * Connections copy a log's writer and wdata (ngx_set_connection_log(),
 * listening sockets, HTTP/2 streams), so wrapping the configured logs
 * covers every line written on their behalf.
 *
 * Each wrap is undone by a cleanup of the pool it lives in: nginx still
 * writes through these logs while it destroys the cycle pool, after the
 * last cleanup has unloaded the module (load_module's dlclose(), added
 * before any http{} log, runs after this one).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "pit_token.h"

#include "ngx_http_pit_auth_log.h"


typedef struct {
    ngx_log_t                   *log;
    ngx_log_writer_pt            writer;        /* NULL: log->file */
    void                        *wdata;
} ngx_http_pit_auth_log_wrap_t;


static void ngx_http_pit_auth_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);
static void ngx_http_pit_auth_log_unwrap(void *data);


ngx_int_t
ngx_http_pit_auth_log_redact(ngx_pool_t *pool, ngx_log_t *log)
{
    ngx_pool_cleanup_t            *cln;
    ngx_http_pit_auth_log_wrap_t  *wrap;

    for ( /* void */ ; log; log = log->next) {

        if (log->writer == ngx_http_pit_auth_log_writer) {
            continue;
        }

        cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_pit_auth_log_wrap_t));
        if (cln == NULL) {
            return NGX_ERROR;
        }

        wrap = cln->data;
        cln->handler = ngx_http_pit_auth_log_unwrap;

        wrap->log = log;
        wrap->writer = log->writer;
        wrap->wdata = log->wdata;

        log->writer = ngx_http_pit_auth_log_writer;
        log->wdata = wrap;
    }

    return NGX_OK;
}


static void
ngx_http_pit_auth_log_unwrap(void *data)
{
    ngx_http_pit_auth_log_wrap_t  *wrap = data;

    if (wrap->log->writer == ngx_http_pit_auth_log_writer
        && wrap->log->wdata == wrap)
    {
        wrap->log->writer = wrap->writer;
        wrap->log->wdata = wrap->wdata;
    }
}


static void
ngx_http_pit_auth_log_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    ssize_t                        n;
    ngx_http_pit_auth_log_wrap_t  *wrap;

    wrap = log->wdata;

    (void) pit_token_redact((char *) buf, len);

    if (wrap->writer) {

        /* the writer finds its own data (syslog peer, buffer) in wdata */

        log->wdata = wrap->wdata;
        wrap->writer(log, level, buf, len);
        log->wdata = wrap;

        return;
    }

    /* what ngx_log_error_core() does for a log without a writer */

    if (ngx_time() == log->disk_full_time) {
        return;
    }

    n = ngx_write_fd(log->file->fd, buf, len);

    if (n == -1 && ngx_errno == NGX_ENOSPC) {
        log->disk_full_time = ngx_time();
    }
}
