
/*
 * pit-auth: the store mark (<prefix>meta, written by pitctl) read by every
 * lookup connection when it connects, so that a wrong prefix, database or
 * hash key, or an empty Redis, is named in the error log instead of
 * showing only as every client getting 401.
 */


#ifndef _NGX_HTTP_PIT_AUTH_MARK_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_MARK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_pit_auth_redis.h"


#define NGX_HTTP_PIT_AUTH_MARK_UNKNOWN   0
#define NGX_HTTP_PIT_AUTH_MARK_OK        1
#define NGX_HTTP_PIT_AUTH_MARK_MISSING   2
#define NGX_HTTP_PIT_AUTH_MARK_MISMATCH  3
#define NGX_HTTP_PIT_AUTH_MARK_ERROR     4


typedef struct ngx_http_pit_auth_mark_s  ngx_http_pit_auth_mark_t;


/* Once per (backend, prefix, hash key): marks is the main conf's array. */
ngx_int_t ngx_http_pit_auth_mark_expect(ngx_conf_t *cf, ngx_array_t *marks,
    ngx_http_pit_auth_redis_t *rd, ngx_int_t db, ngx_str_t *prefix,
    ngx_str_t *hash_key);

/* the marks of the running configuration: in module.c */
ngx_array_t *ngx_http_pit_auth_marks(void);

/* JSON for pit_auth_stats: [{"backend":…,"key":…,"mark":…}], this worker */
size_t ngx_http_pit_auth_mark_stats_size(ngx_array_t *marks);
u_char *ngx_http_pit_auth_mark_stats(u_char *p, ngx_array_t *marks);


#endif /* _NGX_HTTP_PIT_AUTH_MARK_H_INCLUDED_ */
