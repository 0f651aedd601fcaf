
/*
 * pit-auth: one hiredis asynchronous connection per worker and backend,
 * driven by nginx's event loop.
 *
 * The adapter wraps the hiredis socket in an ngx_connection_t whose events
 * are level-triggered, because hiredis reads at most one buffer per call
 * and expects to be called again while data remains.  hiredis 0.14 has no
 * timeouts: the connect timeout is a timer on the backend, the reply
 * timeout a timer on each waiter; either one tears the connection down, so
 * every pending lookup fails at once, and a timer reconnects with an
 * exponential backoff.  Host names were resolved when the configuration
 * was read: the worker only ever connects to a numeric address or a unix
 * socket, which never blocks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "pit_config.h"

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_fleet.h"
#include "ngx_http_pit_auth_counters.h"


#define NGX_HTTP_PIT_AUTH_REDIS_BACKOFF_MIN  50
#define NGX_HTTP_PIT_AUTH_REDIS_BACKOFF_MAX  1000
#define NGX_HTTP_PIT_AUTH_REDIS_VALUE_MAX    (1024 * 1024)
#define NGX_HTTP_PIT_AUTH_REDIS_GET_MAX      1088    /* a GET in RESP */


struct ngx_http_pit_auth_redis_s {
    ngx_http_pit_auth_redis_addr_t       addr;
    ngx_msec_t                           connect_timeout;
    ngx_msec_t                           read_timeout;

    /* a backend of a fleet: the connection follows what worker 0 found */
    ngx_http_pit_auth_fleet_t           *fleet;
    ngx_uint_t                           role;
    uint64_t                             gen;     /* of the server's move */
    u_char                               host[NGX_SOCKADDR_STRLEN];
    ngx_http_pit_auth_redis_t           *writer;  /* the primary's */
    ngx_http_pit_auth_redis_callback_t   on_write;
    ngx_http_pit_auth_redis_conf_t       conf;

    redisAsyncContext                   *ac;      /* NULL: disconnected */
    ngx_event_t                          connect_timer;
    ngx_event_t                          reconnect;
    ngx_msec_t                           backoff;
    ngx_log_t                           *log;
    unsigned                             exiting:1;

    ngx_http_pit_auth_redis_start_pt     start;   /* dedicated connection */
    void                                *data;

    ngx_array_t                          ready;   /* hooks of a backend */
};


typedef struct {
    ngx_http_pit_auth_redis_start_pt     handler;
    void                                *data;
} ngx_http_pit_auth_redis_hook_t;


struct ngx_http_pit_auth_redis_waiter_s {
    ngx_http_pit_auth_redis_t           *rd;
    redisAsyncContext                   *ac;
    ngx_http_pit_auth_redis_handler_pt   handler;  /* NULL: detached */
    void                                *data;
    ngx_event_t                          timer;
};


static void ngx_http_pit_auth_redis_connect(ngx_http_pit_auth_redis_t *rd);
static ngx_int_t ngx_http_pit_auth_redis_attach(ngx_http_pit_auth_redis_t *rd,
    redisAsyncContext *ac);
static void ngx_http_pit_auth_redis_handshake(ngx_http_pit_auth_redis_t *rd,
    redisAsyncContext *ac);
static void ngx_http_pit_auth_redis_reset(ngx_http_pit_auth_redis_t *rd,
    const char *reason);
static void ngx_http_pit_auth_redis_schedule(ngx_http_pit_auth_redis_t *rd);
static void ngx_http_pit_auth_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_pit_auth_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_pit_auth_redis_connect_failed(
    ngx_http_pit_auth_redis_t *rd, const char *err);
static void ngx_http_pit_auth_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_pit_auth_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_pit_auth_redis_handshake_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_pit_auth_redis_get_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_pit_auth_redis_reply_timeout(ngx_event_t *ev);
static void ngx_http_pit_auth_redis_command_done(redisAsyncContext *ac,
    void *reply, void *privdata);
static char *ngx_http_pit_auth_redis_sentinels(ngx_conf_t *cf,
    ngx_str_t *args, ngx_uint_t nargs, ngx_http_pit_auth_redis_addr_t *addr);
static ngx_int_t ngx_http_pit_auth_redis_resolve(ngx_conf_t *cf,
    ngx_str_t *arg, ngx_int_t port, ngx_http_pit_auth_redis_addr_t *addr);
static ngx_uint_t ngx_http_pit_auth_redis_locate(
    ngx_http_pit_auth_redis_t *rd);
static void ngx_http_pit_auth_redis_written(void *data, void *reply);
static void ngx_http_pit_auth_redis_init_link(ngx_cycle_t *cycle,
    ngx_http_pit_auth_redis_t *rd);

static void ngx_http_pit_auth_redis_read_handler(ngx_event_t *ev);
static void ngx_http_pit_auth_redis_write_handler(ngx_event_t *ev);
static void ngx_http_pit_auth_redis_add_read(void *privdata);
static void ngx_http_pit_auth_redis_del_read(void *privdata);
static void ngx_http_pit_auth_redis_add_write(void *privdata);
static void ngx_http_pit_auth_redis_del_write(void *privdata);
static void ngx_http_pit_auth_redis_cleanup(void *privdata);


/* configuration */


char *
ngx_http_pit_auth_redis_parse(ngx_conf_t *cf, ngx_str_t *args,
    ngx_uint_t nargs, ngx_http_pit_auth_redis_addr_t *addr)
{
    size_t      len;
    ngx_uint_t  i;

    addr->name = args[0];

    if (args[0].len > 9 && ngx_strncmp(args[0].data, "sentinel=", 9) == 0) {
        return ngx_http_pit_auth_redis_sentinels(cf, args, nargs, addr);
    }

    if (args[0].len > 5 && ngx_strncmp(args[0].data, "unix:", 5) == 0) {
        len = args[0].len - 5;

        if (len > PIT_URL_PATH_MAX || args[0].data[5] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid unix socket path in \"%V\"", &args[0]);
            return NGX_CONF_ERROR;
        }

        addr->path.data = ngx_pnalloc(cf->pool, len + 1);
        if (addr->path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn(addr->path.data, args[0].data + 5, len + 1);
        addr->path.len = len;

    } else if (ngx_http_pit_auth_redis_resolve(cf, &args[0], PIT_REDIS_PORT,
                                               addr)
               != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < nargs; i++) {

        if (ngx_strncmp(args[i].data, "db=", 3) == 0) {
            addr->db = ngx_atoi(args[i].data + 3, args[i].len - 3);
            if (addr->db == NGX_ERROR || addr->db > PIT_DB_MAX) {
                goto invalid;
            }
            continue;
        }

        if (ngx_strncmp(args[i].data, "user=", 5) == 0
            && args[i].len > 5)
        {
            addr->user.data = args[i].data + 5;
            addr->user.len = args[i].len - 5;
            continue;
        }

        if (ngx_strncmp(args[i].data, "password=", 9) == 0
            && args[i].len > 9)
        {
            addr->password.data = args[i].data + 9;
            addr->password.len = args[i].len - 9;
            continue;
        }

        goto invalid;
    }

    if (addr->user.len && addr->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pit_auth_redis \"user=\" requires \"password=\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    /* never echo a password */

    if (ngx_strncmp(args[i].data, "password=", 9) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid pit_auth_redis parameter \"password=\"");
    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid pit_auth_redis parameter \"%V\"",
                           &args[i]);
    }

    return NGX_CONF_ERROR;
}


/*
 * sentinel=MASTER ADDR [ADDR...] [db=N] [user=U] [password=P]
 * [sentinel_user=U] [sentinel_password=P]: the addresses are the
 * sentinels' (port 26379 by default), resolved here like any other; the
 * credentials without "sentinel_" are those of the primary and replicas.
 */

static char *
ngx_http_pit_auth_redis_sentinels(ngx_conf_t *cf, ngx_str_t *args,
    ngx_uint_t nargs, ngx_http_pit_auth_redis_addr_t *addr)
{
    u_char                          *p;
    ngx_str_t                        rest[4], *v;
    ngx_uint_t                       i, n, k;
    ngx_http_pit_auth_redis_addr_t  *sa;

    addr->master.data = args[0].data + 9;
    addr->master.len = args[0].len - 9;

    for (p = addr->master.data; p < addr->master.data + addr->master.len; p++)
    {
        if (*p <= ' ' || *p >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid master name in \"%V\"", &args[0]);
            return NGX_CONF_ERROR;
        }
    }

    addr->sentinels = ngx_array_create(cf->pool, 3,
                                       sizeof(ngx_http_pit_auth_redis_addr_t));
    if (addr->sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    n = 0;

    for (i = 1; i < nargs; i++) {

        if (ngx_strlchr(args[i].data, args[i].data + args[i].len, '=')) {
            break;
        }

        sa = ngx_array_push(addr->sentinels);
        if (sa == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(sa, sizeof(ngx_http_pit_auth_redis_addr_t));
        sa->name = args[i];

        if (ngx_http_pit_auth_redis_resolve(cf, &args[i], PIT_SENTINEL_PORT,
                                            sa)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (addr->sentinels->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pit_auth_redis \"%V\" names no sentinel",
                           &args[0]);
        return NGX_CONF_ERROR;
    }

    for ( /* void */ ; i < nargs; i++) {

        if (ngx_strncmp(args[i].data, "sentinel_user=", 14) == 0
            && args[i].len > 14)
        {
            addr->sentinel_user.data = args[i].data + 14;
            addr->sentinel_user.len = args[i].len - 14;
            continue;
        }

        if (ngx_strncmp(args[i].data, "sentinel_password=", 18) == 0
            && args[i].len > 18)
        {
            addr->sentinel_password.data = args[i].data + 18;
            addr->sentinel_password.len = args[i].len - 18;
            continue;
        }

        if (n == 4) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "too many pit_auth_redis parameters");
            return NGX_CONF_ERROR;
        }

        rest[n++] = args[i];
    }

    if (addr->sentinel_user.len && addr->sentinel_password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pit_auth_redis \"sentinel_user=\" requires "
                           "\"sentinel_password=\"");
        return NGX_CONF_ERROR;
    }

    /* db=, user=, password=: the same rules as for one server */

    v = ngx_palloc(cf->pool, (n + 1) * sizeof(ngx_str_t));
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&v[0], "unix:/");

    for (k = 0; k < n; k++) {
        v[k + 1] = rest[k];
    }

    if (ngx_http_pit_auth_redis_parse(cf, v, n + 1, addr) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&addr->path);
    addr->name = args[0];

    sa = addr->sentinels->elts;

    for (k = 0; k < addr->sentinels->nelts; k++) {
        sa[k].user = addr->sentinel_user;
        sa[k].password = addr->sentinel_password;
    }

    return NGX_CONF_OK;
}


/* The one place a host name may be resolved: here, in the master. */

static ngx_int_t
ngx_http_pit_auth_redis_resolve(ngx_conf_t *cf, ngx_str_t *arg,
    ngx_int_t port, ngx_http_pit_auth_redis_addr_t *addr)
{
    u_char      *p, text[NGX_SOCKADDR_STRLEN];
    size_t       len;
    ngx_url_t    u;
    ngx_uint_t   i, k;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *arg;
    u.default_port = port;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s in pit_auth_redis \"%V\"",
                           u.err ? u.err : "host not found", arg);
        return NGX_ERROR;
    }

    for (k = 0, i = 0; i < u.naddrs; i++) {
        if (u.addrs[i].sockaddr->sa_family == AF_INET) {
            k = i;
            break;
        }
    }

    len = ngx_sock_ntop(u.addrs[k].sockaddr, u.addrs[k].socklen, text,
                        NGX_SOCKADDR_STRLEN, 0);

    p = ngx_pnalloc(cf->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(p, text, len + 1);
    addr->host.data = p;
    addr->host.len = len;
    addr->port = ngx_inet_get_port(u.addrs[k].sockaddr);

    return NGX_OK;
}


/* pit_auth_redis_read primary | replica | ADDR [db=N] [user=] [password=] */

char *
ngx_http_pit_auth_redis_read_parse(ngx_conf_t *cf, ngx_str_t *args,
    ngx_uint_t nargs, ngx_http_pit_auth_redis_read_t *read)
{
    if (ngx_strcmp(args[0].data, "primary") == 0
        || ngx_strcmp(args[0].data, "replica") == 0)
    {
        if (nargs > 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid pit_auth_redis_read parameter "
                               "\"%V\"", &args[1]);
            return NGX_CONF_ERROR;
        }

        read->mode = (args[0].data[0] == 'p') ? NGX_HTTP_PIT_AUTH_READ_PRIMARY
                                              : NGX_HTTP_PIT_AUTH_READ_REPLICA;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(args[0].data, "unix:", 5) == 0
        || ngx_strncmp(args[0].data, "sentinel=", 9) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pit_auth_redis_read \"%V\" must be a TCP address",
                           &args[0]);
        return NGX_CONF_ERROR;
    }

    read->mode = NGX_HTTP_PIT_AUTH_READ_FIXED;

    /* db, user and password not given are those of pit_auth_redis */

    read->addr.db = NGX_CONF_UNSET;

    return ngx_http_pit_auth_redis_parse(cf, args, nargs, &read->addr);
}


static ngx_int_t
ngx_http_pit_auth_redis_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    /* an unset string has a NULL data, which strncmp() must not see */

    return a->len == b->len
           && (a->len == 0 || ngx_strncmp(a->data, b->data, a->len) == 0);
}


ngx_http_pit_auth_redis_t *
ngx_http_pit_auth_redis_add(ngx_conf_t *cf, ngx_array_t *backends,
    ngx_http_pit_auth_redis_conf_t *rc)
{
    ngx_uint_t                        i, fleet;
    ngx_http_pit_auth_redis_t        *rd, **rdp;
    ngx_http_pit_auth_redis_addr_t   *a, *addr;
    ngx_http_pit_auth_redis_read_t   *read;

    addr = rc->addr;
    read = rc->read;

    fleet = addr->master.len
            || (read && read->mode != NGX_HTTP_PIT_AUTH_READ_PRIMARY);

    if (read && read->mode == NGX_HTTP_PIT_AUTH_READ_REPLICA
        && addr->master.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"pit_auth_redis_read replica\" requires "
                           "\"pit_auth_redis sentinel=...\"");
        return NULL;
    }

    if (fleet && addr->path.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"pit_auth_redis_read\" requires a TCP primary");
        return NULL;
    }

    if (read && read->mode == NGX_HTTP_PIT_AUTH_READ_FIXED) {
        if (read->addr.db == NGX_CONF_UNSET) {
            read->addr.db = addr->db;
        }

        if (read->addr.password.len == 0) {
            read->addr.user = addr->user;
            read->addr.password = addr->password;
        }
    }

    rdp = backends->elts;

    for (i = 0; i < backends->nelts; i++) {
        a = &rdp[i]->addr;

        if (rdp[i]->connect_timeout != rc->connect_timeout
            || rdp[i]->read_timeout != rc->read_timeout)
        {
            continue;
        }

        if (fleet) {
            if (rdp[i]->fleet && rdp[i]->conf.addr == addr
                && rdp[i]->conf.read == read
                && rdp[i]->conf.max_lag == rc->max_lag
                && ngx_http_pit_auth_redis_str_eq(&rdp[i]->conf.prefix,
                                                  &rc->prefix))
            {
                return rdp[i];
            }

            continue;
        }

        if (rdp[i]->fleet == NULL
            && ngx_http_pit_auth_redis_str_eq(&a->host, &addr->host)
            && a->port == addr->port
            && ngx_http_pit_auth_redis_str_eq(&a->path, &addr->path)
            && a->db == addr->db
            && ngx_http_pit_auth_redis_str_eq(&a->user, &addr->user)
            && ngx_http_pit_auth_redis_str_eq(&a->password, &addr->password))
        {
            return rdp[i];
        }
    }

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rdp = ngx_array_push(backends);
    if (rdp == NULL) {
        return NULL;
    }

    rd->addr = *addr;
    rd->connect_timeout = rc->connect_timeout;
    rd->read_timeout = rc->read_timeout;
    rd->conf = *rc;
    *rdp = rd;

    if (fleet) {
        rd->fleet = ngx_http_pit_auth_fleet_add(cf, rc);
        if (rd->fleet == NULL) {
            return NULL;
        }

        rd->addr.name = *ngx_http_pit_auth_fleet_name(rd->fleet);
        rd->role = (read && read->mode != NGX_HTTP_PIT_AUTH_READ_PRIMARY)
                   ? NGX_HTTP_PIT_AUTH_FLEET_READ
                   : NGX_HTTP_PIT_AUTH_FLEET_PRIMARY;
    }

    return rd;
}


ngx_str_t *
ngx_http_pit_auth_redis_name(ngx_http_pit_auth_redis_t *rd)
{
    return &rd->addr.name;
}


/* Commands queued, behind AUTH and SELECT, on each new connection. */

ngx_int_t
ngx_http_pit_auth_redis_when_connected(ngx_conf_t *cf,
    ngx_http_pit_auth_redis_t *rd, ngx_http_pit_auth_redis_start_pt handler,
    void *data)
{
    ngx_http_pit_auth_redis_hook_t  *hook;

    if (rd->ready.elts == NULL
        && ngx_array_init(&rd->ready, cf->pool, 2,
                          sizeof(ngx_http_pit_auth_redis_hook_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    hook = ngx_array_push(&rd->ready);
    if (hook == NULL) {
        return NGX_ERROR;
    }

    hook->handler = handler;
    hook->data = data;

    return NGX_OK;
}


/* worker life */


static void
ngx_http_pit_auth_redis_init_link(ngx_cycle_t *cycle,
    ngx_http_pit_auth_redis_t *rd)
{
    rd->log = cycle->log;
    rd->backoff = NGX_HTTP_PIT_AUTH_REDIS_BACKOFF_MIN;

    rd->connect_timer.handler = ngx_http_pit_auth_redis_connect_timeout;
    rd->connect_timer.data = rd;
    rd->connect_timer.log = cycle->log;
    rd->connect_timer.cancelable = 1;

    rd->reconnect.handler = ngx_http_pit_auth_redis_reconnect_handler;
    rd->reconnect.data = rd;
    rd->reconnect.log = cycle->log;
    rd->reconnect.cancelable = 1;

    rd->on_write.handler = ngx_http_pit_auth_redis_written;
    rd->on_write.data = rd;
}


/*
 * A backend of a fleet reading elsewhere than on the primary gets a second
 * connection, to the primary, for its writes and worker 0's beats.
 */

void
ngx_http_pit_auth_redis_init_process(ngx_cycle_t *cycle,
    ngx_array_t *backends)
{
    ngx_uint_t                   i;
    ngx_http_pit_auth_redis_t  **rdp, *rd, *w;

    rdp = backends->elts;

    for (i = 0; i < backends->nelts; i++) {
        rd = rdp[i];

        ngx_http_pit_auth_redis_init_link(cycle, rd);
        rd->writer = rd;

        if (rd->fleet && rd->role == NGX_HTTP_PIT_AUTH_FLEET_READ) {
            w = ngx_pcalloc(cycle->pool, sizeof(ngx_http_pit_auth_redis_t));
            if (w == NULL) {
                return;
            }

            w->addr = rd->addr;
            w->connect_timeout = rd->connect_timeout;
            w->read_timeout = rd->read_timeout;
            w->fleet = rd->fleet;
            w->role = NGX_HTTP_PIT_AUTH_FLEET_PRIMARY;
            w->writer = w;
            w->conf = rd->conf;

            ngx_http_pit_auth_redis_init_link(cycle, w);
            rd->writer = w;
        }

        if (rd->fleet) {
            ngx_http_pit_auth_fleet_init_process(cycle, rd->fleet,
                                                 rd->writer);
        }

        ngx_http_pit_auth_redis_connect(rd);

        if (rd->writer != rd) {
            ngx_http_pit_auth_redis_connect(rd->writer);
        }
    }
}


void
ngx_http_pit_auth_redis_exit_process(ngx_array_t *backends)
{
    ngx_uint_t                   i;
    ngx_http_pit_auth_redis_t  **rdp, *rd;

    rdp = backends->elts;

    for (i = 0; i < backends->nelts; i++) {
        rd = rdp[i];
        rd->exiting = 1;

        if (rd->fleet) {
            ngx_http_pit_auth_fleet_exit_process(rd->fleet);
        }

        if (rd->writer && rd->writer != rd) {
            ngx_http_pit_auth_redis_close(rd->writer);
        }

        ngx_http_pit_auth_redis_close(rd);
    }
}


/* connection */


static void
ngx_http_pit_auth_redis_connect(ngx_http_pit_auth_redis_t *rd)
{
    ngx_uint_t                       i;
    redisAsyncContext               *ac;
    ngx_http_pit_auth_redis_hook_t  *hook;

    if (rd->fleet && !ngx_http_pit_auth_redis_locate(rd)) {

        /* nothing found yet: a lookup meanwhile fails at once */

        ngx_http_pit_auth_redis_schedule(rd);
        return;
    }

    if (rd->addr.host.len == 0 && rd->addr.path.len == 0) {
        return;
    }

    if (rd->addr.path.len) {
        ac = redisAsyncConnectUnix((char *) rd->addr.path.data);

    } else {
        ac = redisAsyncConnect((char *) rd->addr.host.data, rd->addr.port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "pit_auth: redis %V: out of memory", &rd->addr.name);
        ngx_http_pit_auth_redis_schedule(rd);
        return;
    }

    if (ac->err) {
        ngx_http_pit_auth_redis_connect_failed(rd, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_pit_auth_redis_schedule(rd);
        return;
    }

    if (ngx_http_pit_auth_redis_attach(rd, ac) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_pit_auth_redis_schedule(rd);
        return;
    }

    rd->ac = ac;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "pit_auth: redis %V: connecting", &rd->addr.name);

    ngx_http_pit_auth_redis_handshake(rd, ac);

    if (rd->start) {
        rd->start(rd, rd->data);
    }

    hook = rd->ready.elts;

    for (i = 0; i < rd->ready.nelts; i++) {
        hook[i].handler(rd, hook[i].data);
    }

    ngx_add_timer(&rd->connect_timer, rd->connect_timeout);
}


static ngx_int_t
ngx_http_pit_auth_redis_attach(ngx_http_pit_auth_redis_t *rd,
    redisAsyncContext *ac)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = rd;
    c->read->handler = ngx_http_pit_auth_redis_read_handler;
    c->write->handler = ngx_http_pit_auth_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    ac->data = rd;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_pit_auth_redis_add_read;
    ac->ev.delRead = ngx_http_pit_auth_redis_del_read;
    ac->ev.addWrite = ngx_http_pit_auth_redis_add_write;
    ac->ev.delWrite = ngx_http_pit_auth_redis_del_write;
    ac->ev.cleanup = ngx_http_pit_auth_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_pit_auth_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_pit_auth_redis_on_disconnect);

    return NGX_OK;
}


/*
 * AUTH and SELECT are queued before any lookup can be, so Redis sees them
 * first; the first write event completes the connect.
 */

static void
ngx_http_pit_auth_redis_handshake(ngx_http_pit_auth_redis_t *rd,
    redisAsyncContext *ac)
{
    u_char       db[NGX_INT_T_LEN];
    size_t       lens[3];
    const char  *argv[3];

    if (rd->addr.password.len) {
        argv[0] = "AUTH";
        lens[0] = 4;

        if (rd->addr.user.len) {
            argv[1] = (const char *) rd->addr.user.data;
            lens[1] = rd->addr.user.len;
            argv[2] = (const char *) rd->addr.password.data;
            lens[2] = rd->addr.password.len;

        } else {
            argv[1] = (const char *) rd->addr.password.data;
            lens[1] = rd->addr.password.len;
        }

        redisAsyncCommandArgv(ac, ngx_http_pit_auth_redis_handshake_done,
                              (void *) "AUTH", rd->addr.user.len ? 3 : 2,
                              argv, lens);
    }

    if (rd->addr.db) {
        argv[0] = "SELECT";
        lens[0] = 6;
        argv[1] = (const char *) db;
        lens[1] = ngx_sprintf(db, "%i", rd->addr.db) - db;

        redisAsyncCommandArgv(ac, ngx_http_pit_auth_redis_handshake_done,
                              (void *) "SELECT", 2, argv, lens);
    }

    ngx_http_pit_auth_redis_add_write(ac->ev.data);
}


/*
 * Tears the connection down: hiredis calls every pending callback with a
 * NULL reply, then the cleanup hook.  Safe inside a hiredis callback, where
 * hiredis defers the free until the callback returns.
 */

static void
ngx_http_pit_auth_redis_reset(ngx_http_pit_auth_redis_t *rd,
    const char *reason)
{
    redisAsyncContext  *ac;

    ac = rd->ac;

    if (ac == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "pit_auth: redis %V: %s, reconnecting",
                  &rd->addr.name, reason);

    rd->ac = NULL;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    ngx_http_pit_auth_redis_schedule(rd);

    redisAsyncFree(ac);
}


static void
ngx_http_pit_auth_redis_schedule(ngx_http_pit_auth_redis_t *rd)
{
    if (rd->exiting || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (rd->reconnect.timer_set) {
        return;
    }

    ngx_add_timer(&rd->reconnect, rd->backoff);

    rd->backoff *= 2;

    if (rd->backoff > NGX_HTTP_PIT_AUTH_REDIS_BACKOFF_MAX) {
        rd->backoff = NGX_HTTP_PIT_AUTH_REDIS_BACKOFF_MAX;
    }
}


static void
ngx_http_pit_auth_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_pit_auth_redis_t  *rd;

    rd = ev->data;

    if (rd->ac == NULL && !rd->exiting) {
        ngx_http_pit_auth_redis_connect(rd);
    }
}


static void
ngx_http_pit_auth_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_pit_auth_redis_reset(ev->data, "connect timed out");
}


/*
 * With Redis down every worker and dedicated connection fails again at
 * each backoff: one line per backend and second, for all workers, says
 * as much, and how many it stands for.
 */

static void
ngx_http_pit_auth_redis_connect_failed(ngx_http_pit_auth_redis_t *rd,
    const char *err)
{
    ngx_uint_t  n;

    if (!ngx_http_pit_auth_counters_throttle(&rd->addr.name, &n)) {
        return;
    }

    if (n == 0) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "pit_auth: redis %V: connect failed: %s",
                      &rd->addr.name, err);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "pit_auth: redis %V: connect failed: %s, "
                  "%ui similar lines suppressed", &rd->addr.name, err, n);
}


static void
ngx_http_pit_auth_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_pit_auth_redis_t  *rd;

    rd = ac->data;

    if (rd->ac != ac) {
        return;
    }

    if (status != REDIS_OK) {

        /* hiredis frees the context when this returns */

        ngx_http_pit_auth_redis_connect_failed(rd, ac->errstr);

        rd->ac = NULL;

        if (rd->fleet) {
            ngx_http_pit_auth_fleet_doubt(rd->fleet);
        }

        if (rd->connect_timer.timer_set) {
            ngx_del_timer(&rd->connect_timer);
        }

        ngx_http_pit_auth_redis_schedule(rd);
        return;
    }

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "pit_auth: redis %V: connected to %V:%i", &rd->addr.name,
                  &rd->addr.host, rd->addr.port);
}


static void
ngx_http_pit_auth_redis_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_pit_auth_redis_t  *rd;

    rd = ac->data;

    if (rd->ac != ac) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "pit_auth: redis %V: connection lost: %s, reconnecting",
                  &rd->addr.name, status == REDIS_OK ? "closed" : ac->errstr);

    rd->ac = NULL;

    if (rd->fleet) {
        ngx_http_pit_auth_fleet_doubt(rd->fleet);
    }

    ngx_http_pit_auth_redis_schedule(rd);
}


static void
ngx_http_pit_auth_redis_handshake_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    redisReply                 *rp;
    ngx_http_pit_auth_redis_t  *rd;

    rd = ac->data;
    rp = reply;

    if (rp == NULL || rp->type != REDIS_REPLY_ERROR || rd->ac != ac) {
        return;
    }

    /* the reply of AUTH never echoes the password */

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "pit_auth: redis %V: %s failed: %*s", &rd->addr.name,
                  (char *) privdata, (size_t) ngx_min(rp->len, 200),
                  rp->str);

    ngx_http_pit_auth_redis_reset(rd, "handshake failed");
}


/* lookups */


ngx_http_pit_auth_redis_waiter_t *
ngx_http_pit_auth_redis_get(ngx_http_pit_auth_redis_t *rd, ngx_str_t *key,
    ngx_http_pit_auth_redis_handler_pt handler, void *data, ngx_log_t *log)
{
    u_char                            *p;
    u_char                             cmd[NGX_HTTP_PIT_AUTH_REDIS_GET_MAX];
    ngx_http_pit_auth_redis_waiter_t  *w;

    if (key->len > NGX_HTTP_PIT_AUTH_REDIS_GET_MAX - 64) {
        return NULL;
    }

    if (rd->fleet) {
        (void) ngx_http_pit_auth_redis_follow(rd);

        /* a server read too far behind is a Redis that is down */

        if (!ngx_http_pit_auth_fleet_fresh(rd->fleet)) {
            return NULL;
        }
    }

    if (rd->ac == NULL && !rd->reconnect.timer_set) {
        ngx_http_pit_auth_redis_connect(rd);
    }

    if (rd->ac == NULL) {

        /* down and backing off: fail at once rather than queue */

        return NULL;
    }

    w = ngx_calloc(sizeof(ngx_http_pit_auth_redis_waiter_t), log);
    if (w == NULL) {
        return NULL;
    }

    w->rd = rd;
    w->ac = rd->ac;
    w->handler = handler;
    w->data = data;

    /* the command in RESP already: hiredis has nothing to format */

    p = ngx_sprintf(cmd, "*2\r\n$3\r\nGET\r\n$%uz\r\n%V\r\n",
                    key->len, key);

    if (redisAsyncFormattedCommand(rd->ac, ngx_http_pit_auth_redis_get_done,
                                   w, (const char *) cmd, p - cmd)
        != REDIS_OK)
    {
        ngx_free(w);
        return NULL;
    }

    w->timer.handler = ngx_http_pit_auth_redis_reply_timeout;
    w->timer.data = w;
    w->timer.log = log;

    ngx_add_timer(&w->timer, rd->read_timeout);

    return w;
}


/* The waiter stays allocated until hiredis hands it back. */

void
ngx_http_pit_auth_redis_detach(ngx_http_pit_auth_redis_waiter_t *w)
{
    w->handler = NULL;
    w->data = NULL;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }
}


static void
ngx_http_pit_auth_redis_get_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_int_t                          rc;
    ngx_str_t                          value;
    redisReply                        *rp;
    const char                        *reason;
    ngx_http_pit_auth_redis_waiter_t  *w;

    w = privdata;
    rp = reply;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    ngx_str_null(&value);
    reason = NULL;

    if (rp == NULL) {
        rc = NGX_ERROR;
        reason = "connection lost";

    } else if (rp->type == REDIS_REPLY_NIL) {
        rc = NGX_DECLINED;

    } else if (rp->type == REDIS_REPLY_STRING
               && rp->len <= NGX_HTTP_PIT_AUTH_REDIS_VALUE_MAX)
    {
        rc = NGX_OK;
        value.data = (u_char *) rp->str;
        value.len = rp->len;

    } else if (rp->type == REDIS_REPLY_STRING) {
        rc = NGX_ERROR;
        reason = "value too large";

    } else if (rp->type == REDIS_REPLY_ERROR) {
        rc = NGX_ERROR;
        reason = "error reply";

    } else {
        rc = NGX_ERROR;
        reason = "unexpected reply type";
    }

    if (rp != NULL && w->rd->ac == ac) {
        w->rd->backoff = NGX_HTTP_PIT_AUTH_REDIS_BACKOFF_MIN;
    }

    if (w->handler) {
        w->handler(w->data, rc, &value, reason);
    }

    ngx_free(w);
}


static void
ngx_http_pit_auth_redis_reply_timeout(ngx_event_t *ev)
{
    ngx_http_pit_auth_redis_t         *rd;
    ngx_http_pit_auth_redis_waiter_t  *w;

    w = ev->data;
    rd = w->rd;

    if (w->handler) {
        w->handler(w->data, NGX_ERROR, NULL, "reply timed out");
        w->handler = NULL;
    }

    /* a late reply would desynchronize nothing, but a stalled Redis must
     * not hold every later request for the full timeout: start afresh;
     * this frees w */

    if (rd->ac == w->ac) {
        ngx_http_pit_auth_redis_reset(rd, "reply timed out");
    }
}


/* dedicated connections and other commands */


/*
 * Opens a connection of this worker's own to the backend of like, outside
 * the lookup pool: start() runs on every (re)connect, so that a
 * subscription survives reconnects.
 */

ngx_http_pit_auth_redis_t *
ngx_http_pit_auth_redis_open(ngx_cycle_t *cycle,
    ngx_http_pit_auth_redis_t *like, ngx_http_pit_auth_redis_start_pt start,
    void *data)
{
    ngx_http_pit_auth_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_pit_auth_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->addr = like->addr;
    rd->connect_timeout = like->connect_timeout;
    rd->read_timeout = like->read_timeout;
    rd->fleet = like->fleet;
    rd->role = like->role;
    rd->conf = like->conf;
    rd->start = start;
    rd->data = data;

    rd->writer = rd;

    ngx_http_pit_auth_redis_init_link(cycle, rd);
    ngx_http_pit_auth_redis_connect(rd);

    return rd;
}


/*
 * Queues a command; cb NULL: fire and forget.  Returns NGX_DECLINED when
 * the connection is down (nothing is queued), NGX_ERROR on failure.
 */

ngx_int_t
ngx_http_pit_auth_redis_command(ngx_http_pit_auth_redis_t *rd,
    ngx_http_pit_auth_redis_callback_t *cb, int argc, const char **argv,
    const size_t *lens)
{
    if (rd->ac == NULL) {
        return NGX_DECLINED;
    }

    if (redisAsyncCommandArgv(rd->ac,
                              cb ? ngx_http_pit_auth_redis_command_done
                                 : NULL,
                              cb, argc, argv, lens)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_pit_auth_redis_command_done(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_pit_auth_redis_callback_t  *cb;

    cb = privdata;

    cb->handler(cb->data, reply);
}


/*
 * A connection to an address the caller names and moves (a sentinel, a
 * replica on trial): a host left empty waits for retarget().
 */

ngx_http_pit_auth_redis_t *
ngx_http_pit_auth_redis_open_addr(ngx_cycle_t *cycle,
    ngx_http_pit_auth_redis_addr_t *addr, ngx_msec_t connect_timeout,
    ngx_msec_t read_timeout, ngx_http_pit_auth_redis_start_pt start,
    void *data)
{
    ngx_http_pit_auth_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_pit_auth_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->addr = *addr;
    rd->connect_timeout = connect_timeout;
    rd->read_timeout = read_timeout;
    rd->start = start;
    rd->data = data;
    rd->writer = rd;

    if (addr->host.len >= NGX_SOCKADDR_STRLEN) {
        return NULL;
    }

    /* a unix socket has no host: memcpy() must not see its NULL */

    if (addr->host.len) {
        ngx_memcpy(rd->host, addr->host.data, addr->host.len);
    }

    rd->host[addr->host.len] = '\0';
    rd->addr.host.data = rd->host;

    ngx_http_pit_auth_redis_init_link(cycle, rd);
    ngx_http_pit_auth_redis_connect(rd);

    return rd;
}


/* Closes the connection, without a word, and connects to host:port. */

void
ngx_http_pit_auth_redis_retarget(ngx_http_pit_auth_redis_t *rd, u_char *host,
    size_t len, ngx_int_t port)
{
    redisAsyncContext  *ac;

    if (len >= NGX_SOCKADDR_STRLEN || rd->exiting) {
        return;
    }

    ngx_memmove(rd->host, host, len);
    rd->host[len] = '\0';
    rd->addr.host.data = rd->host;
    rd->addr.host.len = len;
    rd->addr.port = port;

    ac = rd->ac;
    rd->ac = NULL;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    if (ac) {
        redisAsyncFree(ac);
    }

    rd->backoff = NGX_HTTP_PIT_AUTH_REDIS_BACKOFF_MIN;

    ngx_http_pit_auth_redis_connect(rd);
}


/* Copies where the connection's role goes now; 0: nowhere known. */

static ngx_uint_t
ngx_http_pit_auth_redis_locate(ngx_http_pit_auth_redis_t *rd)
{
    size_t     len;
    ngx_int_t  port;

    if (ngx_http_pit_auth_fleet_server(rd->fleet, rd->role, rd->host, &len,
                                       &port, &rd->gen)
        != NGX_OK)
    {
        return 0;
    }

    rd->addr.host.data = rd->host;
    rd->addr.host.len = len;
    rd->addr.port = port;

    return 1;
}


/*
 * Follows worker 0's finding: a connection whose server moved is closed
 * and made again at once; lookups in flight on it fail (503 or stale).
 */

ngx_uint_t
ngx_http_pit_auth_redis_follow(ngx_http_pit_auth_redis_t *rd)
{
    u_char     host[NGX_SOCKADDR_STRLEN];
    size_t     len;
    ngx_int_t  port;

    if (rd->fleet == NULL || rd->exiting
        || ngx_http_pit_auth_fleet_gen(rd->fleet, rd->role) == rd->gen)
    {
        return 0;
    }

    len = rd->addr.host.len;
    port = rd->addr.port;
    ngx_memcpy(host, rd->host, len);

    if (ngx_http_pit_auth_redis_locate(rd)) {
        if (rd->ac && len == rd->addr.host.len && port == rd->addr.port
            && ngx_memcmp(host, rd->host, len) == 0)
        {
            return 0;
        }

        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "pit_auth: redis %V: %s moves to %V:%i",
                      &rd->addr.name,
                      rd->role == NGX_HTTP_PIT_AUTH_FLEET_READ ? "reading"
                                                               : "primary",
                      &rd->addr.host, rd->addr.port);

        ngx_http_pit_auth_redis_retarget(rd, rd->host, rd->addr.host.len,
                                         rd->addr.port);
        return 1;
    }

    return 0;
}


/*
 * Writes go to the primary, queued, never waited for; while none is known
 * they are dropped and counted.
 */

ngx_int_t
ngx_http_pit_auth_redis_write(ngx_http_pit_auth_redis_t *rd, int argc,
    const char **argv, const size_t *lens)
{
    ngx_http_pit_auth_redis_t  *w;

    w = rd->writer ? rd->writer : rd;

    if (w->fleet) {
        (void) ngx_http_pit_auth_redis_follow(w);
    }

    if (w->ac == NULL) {
        if (w->fleet) {
            ngx_http_pit_auth_fleet_dropped(w->fleet);
            ngx_http_pit_auth_fleet_doubt(w->fleet);
        }

        return NGX_DECLINED;
    }

    if (redisAsyncCommandArgv(w->ac, ngx_http_pit_auth_redis_command_done,
                              &w->on_write, argc, argv, lens)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* -READONLY: the primary we write to was demoted; ask who is primary. */

static void
ngx_http_pit_auth_redis_written(void *data, void *reply)
{
    ngx_http_pit_auth_redis_t *rd = data;

    redisReply  *rp;

    rp = reply;

    if (rp == NULL || rp->type != REDIS_REPLY_ERROR) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "pit_auth: redis %V: write refused: %*s", &rd->addr.name,
                  (size_t) ngx_min(rp->len, 200), rp->str);

    if (rd->fleet && ngx_strncmp(rp->str, "READONLY", 8) == 0) {
        ngx_http_pit_auth_fleet_dropped(rd->fleet);
        ngx_http_pit_auth_fleet_doubt(rd->fleet);
    }
}


uint64_t
ngx_http_pit_auth_redis_read_gen(ngx_http_pit_auth_redis_t *rd)
{
    return rd->fleet ? rd->gen : 0;
}


ngx_uint_t
ngx_http_pit_auth_redis_fresh(ngx_http_pit_auth_redis_t *rd)
{
    return rd->fleet ? ngx_http_pit_auth_fleet_fresh(rd->fleet) : 1;
}


ngx_uint_t
ngx_http_pit_auth_redis_up(ngx_http_pit_auth_redis_t *rd)
{
    return rd->ac != NULL;
}


void
ngx_http_pit_auth_redis_drop(ngx_http_pit_auth_redis_t *rd,
    const char *reason)
{
    ngx_http_pit_auth_redis_reset(rd, reason);
}


void
ngx_http_pit_auth_redis_close(ngx_http_pit_auth_redis_t *rd)
{
    redisAsyncContext  *ac;

    rd->exiting = 1;

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    ac = rd->ac;
    rd->ac = NULL;

    if (ac) {
        redisAsyncFree(ac);
    }
}


/* the adapter: hiredis <-> ngx_connection_t */


static void
ngx_http_pit_auth_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_pit_auth_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    if (rd->ac) {
        redisAsyncHandleRead(rd->ac);
    }
}


static void
ngx_http_pit_auth_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_pit_auth_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    if (rd->ac) {
        redisAsyncHandleWrite(rd->ac);
    }
}


/*
 * Level-triggered: hiredis reads one buffer per call, and an edge-triggered
 * event would never fire again for replies already in the socket.
 */

static void
ngx_http_pit_auth_redis_add_read(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "pit_auth: redis: adding read event failed");
        }
    }
}


static void
ngx_http_pit_auth_redis_del_read(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_pit_auth_redis_add_write(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "pit_auth: redis: adding write event failed");
        }
    }
}


static void
ngx_http_pit_auth_redis_del_write(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/*
 * hiredis closes the socket itself right after this hook, so the nginx
 * connection is freed, not closed: closing would close the fd twice.
 */

static void
ngx_http_pit_auth_redis_cleanup(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
}
