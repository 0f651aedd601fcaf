
/*
 * pit-auth: one hiredis asynchronous connection per worker and backend,
 * driven by nginx's event loop.
 */


#ifndef _NGX_HTTP_PIT_AUTH_REDIS_H_INCLUDED_
#define _NGX_HTTP_PIT_AUTH_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * Called exactly once per lookup unless detached: rc is NGX_OK (value
 * holds the string, valid during the call only), NGX_DECLINED (no such
 * key) or NGX_ERROR (backend failure; reason says which, for the log).
 */
typedef void (*ngx_http_pit_auth_redis_handler_pt)(void *data, ngx_int_t rc,
    ngx_str_t *value, const char *reason);


/*
 * The reply to a command sent with ngx_http_pit_auth_redis_command(): a
 * redisReply, valid during the call only, or NULL when the connection
 * went away first.  A subscription's handler is called for every message.
 */
typedef void (*ngx_http_pit_auth_redis_reply_pt)(void *data, void *reply);

typedef struct ngx_http_pit_auth_redis_s  ngx_http_pit_auth_redis_t;

/* Called each time a dedicated connection starts: queue its set-up. */
typedef void (*ngx_http_pit_auth_redis_start_pt)(ngx_http_pit_auth_redis_t *rd,
    void *data);

typedef struct ngx_http_pit_auth_redis_waiter_s
    ngx_http_pit_auth_redis_waiter_t;


/* Owned by the caller; must outlive the reply (or the subscription). */
typedef struct {
    ngx_http_pit_auth_redis_reply_pt  handler;
    void                             *data;
} ngx_http_pit_auth_redis_callback_t;


/* What pit_auth_redis and pit_auth_redis_timeout configure. */
typedef struct {
    ngx_str_t                  name;        /* as written, for logs */
    ngx_str_t                  host;        /* numeric, NUL-terminated */
    ngx_int_t                  port;
    ngx_str_t                  path;        /* unix socket, NUL-terminated */
    ngx_int_t                  db;
    ngx_str_t                  user;
    ngx_str_t                  password;

    /* sentinel=MASTER ADDR...: the primary is asked of them */
    ngx_str_t                  master;
    ngx_array_t               *sentinels;   /* of this type: host, port */
    ngx_str_t                  sentinel_user;
    ngx_str_t                  sentinel_password;
} ngx_http_pit_auth_redis_addr_t;


#define NGX_HTTP_PIT_AUTH_READ_PRIMARY  0
#define NGX_HTTP_PIT_AUTH_READ_REPLICA  1
#define NGX_HTTP_PIT_AUTH_READ_FIXED    2

/* pit_auth_redis_read primary | replica | ADDR [db=] [user=] [password=] */
typedef struct {
    ngx_uint_t                 mode;
    ngx_http_pit_auth_redis_addr_t  addr;   /* FIXED */
} ngx_http_pit_auth_redis_read_t;


/* Where a backend's reads and writes go, and how far behind reads may be. */
typedef struct {
    ngx_http_pit_auth_redis_addr_t  *addr;
    ngx_http_pit_auth_redis_read_t  *read;  /* NULL: the primary */
    ngx_msec_t                 max_lag;
    ngx_msec_t                 connect_timeout;
    ngx_msec_t                 read_timeout;
    ngx_str_t                  prefix;      /* of the lag heartbeat */
} ngx_http_pit_auth_redis_conf_t;


char *ngx_http_pit_auth_redis_parse(ngx_conf_t *cf, ngx_str_t *args,
    ngx_uint_t nargs, ngx_http_pit_auth_redis_addr_t *addr);
char *ngx_http_pit_auth_redis_read_parse(ngx_conf_t *cf, ngx_str_t *args,
    ngx_uint_t nargs, ngx_http_pit_auth_redis_read_t *read);
ngx_http_pit_auth_redis_t *ngx_http_pit_auth_redis_add(ngx_conf_t *cf,
    ngx_array_t *backends, ngx_http_pit_auth_redis_conf_t *rc);
void ngx_http_pit_auth_redis_init_process(ngx_cycle_t *cycle,
    ngx_array_t *backends);
void ngx_http_pit_auth_redis_exit_process(ngx_array_t *backends);

ngx_http_pit_auth_redis_waiter_t *ngx_http_pit_auth_redis_get(
    ngx_http_pit_auth_redis_t *rd, ngx_str_t *key,
    ngx_http_pit_auth_redis_handler_pt handler, void *data, ngx_log_t *log);
void ngx_http_pit_auth_redis_detach(ngx_http_pit_auth_redis_waiter_t *w);
ngx_str_t *ngx_http_pit_auth_redis_name(ngx_http_pit_auth_redis_t *rd);
ngx_int_t ngx_http_pit_auth_redis_when_connected(ngx_conf_t *cf,
    ngx_http_pit_auth_redis_t *rd, ngx_http_pit_auth_redis_start_pt handler,
    void *data);

/* writes go to the primary, fire and forget; NGX_DECLINED: none known */
ngx_int_t ngx_http_pit_auth_redis_write(ngx_http_pit_auth_redis_t *rd,
    int argc, const char **argv, const size_t *lens);
/* the generation of the server read (0 for a fixed one): see the cache */
uint64_t ngx_http_pit_auth_redis_read_gen(ngx_http_pit_auth_redis_t *rd);
/* 1 if the server read is no more than the bound behind the primary */
ngx_uint_t ngx_http_pit_auth_redis_fresh(ngx_http_pit_auth_redis_t *rd);
/* moves a connection that follows the server read; 1 if it moved */
ngx_uint_t ngx_http_pit_auth_redis_follow(ngx_http_pit_auth_redis_t *rd);

/* a connection to a server the caller names (sentinels, candidates) */
ngx_http_pit_auth_redis_t *ngx_http_pit_auth_redis_open_addr(
    ngx_cycle_t *cycle, ngx_http_pit_auth_redis_addr_t *addr,
    ngx_msec_t connect_timeout, ngx_msec_t read_timeout,
    ngx_http_pit_auth_redis_start_pt start, void *data);
void ngx_http_pit_auth_redis_retarget(ngx_http_pit_auth_redis_t *rd,
    u_char *host, size_t len, ngx_int_t port);
ngx_uint_t ngx_http_pit_auth_redis_up(ngx_http_pit_auth_redis_t *rd);

ngx_http_pit_auth_redis_t *ngx_http_pit_auth_redis_open(ngx_cycle_t *cycle,
    ngx_http_pit_auth_redis_t *like, ngx_http_pit_auth_redis_start_pt start,
    void *data);
ngx_int_t ngx_http_pit_auth_redis_command(ngx_http_pit_auth_redis_t *rd,
    ngx_http_pit_auth_redis_callback_t *cb, int argc, const char **argv,
    const size_t *lens);
void ngx_http_pit_auth_redis_drop(ngx_http_pit_auth_redis_t *rd,
    const char *reason);
void ngx_http_pit_auth_redis_close(ngx_http_pit_auth_redis_t *rd);


#endif /* _NGX_HTTP_PIT_AUTH_REDIS_H_INCLUDED_ */
