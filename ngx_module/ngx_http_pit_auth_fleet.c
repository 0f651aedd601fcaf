
/*
 * pit-auth: a backend made of a primary and its replicas.
 *
 * Worker 0 of each nginx does the finding and publishes it in a small
 * shared zone; every worker's connections follow what it publishes, so
 * all workers of one nginx read the same server, and the cache's
 * subscriber (also worker 0's) listens where they read.
 *
 * The primary: asked of one sentinel at a time (SENTINEL
 * get-master-addr-by-name), every second and at once on any doubt (a
 * worker saw -READONLY or lost its primary connection), and followed
 * through a subscription to +switch-master on the same sentinel; a
 * sentinel that drops, errs or stalls is left for the next one.
 *
 * The server read: the primary, a fixed address, or one of the replicas
 * the sentinel lists as up with a master link "ok", picked by a hash of
 * the host name and the master process id, so that nginx nodes spread
 * over the replicas.  How far behind the primary it is, is measured, not
 * guessed: worker 0 publishes its clock on the primary every 200 ms and
 * listens for it on the candidate; the replication stream carries the
 * message in order with every change, so a beat sent at T and heard on
 * the replica proves it holds every change made on the primary before T.
 * A candidate not heard from within the bound (pit_auth_redis_max_lag)
 * is left for the primary (one whose master link went down is kept until
 * then: a dead primary must not cut its readers off early), and, after a trial second, for another
 * replica.  All of this is asynchronous, on nginx's event loop.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "pit_config.h"

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_fleet.h"


#define NGX_HTTP_PIT_AUTH_FLEET_TICK      100     /* ms */
#define NGX_HTTP_PIT_AUTH_FLEET_ASK       1000    /* ms between questions */
#define NGX_HTTP_PIT_AUTH_FLEET_STALL     1000    /* ms: an answer is late */
#define NGX_HTTP_PIT_AUTH_FLEET_BEAT      200     /* ms between lag beats */
#define NGX_HTTP_PIT_AUTH_FLEET_TRIAL     1000    /* ms to hear a candidate */
#define NGX_HTTP_PIT_AUTH_FLEET_REPLICAS  32
#define NGX_HTTP_PIT_AUTH_FLEET_SLOTS     64
#define NGX_HTTP_PIT_AUTH_FLEET_ZONE      (64 * 1024)

#define NGX_HTTP_PIT_AUTH_FLEET_SWITCH    "+switch-master"


typedef struct {
    u_char                       host[NGX_SOCKADDR_STRLEN];
    size_t                       len;        /* 0: none */
    ngx_int_t                    port;
} ngx_http_pit_auth_fleet_server_t;


/* What worker 0 found, for every worker (one slot per backend). */
typedef struct {
    uint32_t                     ident;      /* of the configuration */
    ngx_pid_t                    owner;      /* worker 0 */
    uint64_t                     gen[2];     /* bumped at every move */
    ngx_http_pit_auth_fleet_server_t  server[2];  /* primary, read */
    ngx_uint_t                   read_is_primary;
    int64_t                      synced;     /* ms: the server read holds
                                                every change made before */
    ngx_uint_t                   doubt;      /* ask the sentinels now */
    ngx_http_pit_auth_fleet_server_t  sentinel;   /* the one asked */
    ngx_uint_t                   replicas;   /* usable, last listed */
    uint64_t                     failovers;
    uint64_t                     doubts;
    uint64_t                     writes_dropped;
} ngx_http_pit_auth_fleet_sh_t;


typedef struct {
    ngx_slab_pool_t             *shpool;
    ngx_http_pit_auth_fleet_sh_t  *slots;
    ngx_array_t                  fleets;     /* ngx_http_pit_auth_fleet_t * */
} ngx_http_pit_auth_fleet_zone_t;


struct ngx_http_pit_auth_fleet_s {
    ngx_http_pit_auth_redis_conf_t  conf;
    ngx_str_t                    name;
    ngx_uint_t                   index;
    uint32_t                     ident;
    ngx_http_pit_auth_fleet_zone_t  *zone;

    /* worker 0 */
    ngx_http_pit_auth_redis_t   *ask;        /* questions to a sentinel */
    ngx_http_pit_auth_redis_t   *watch;      /* its +switch-master */
    ngx_http_pit_auth_redis_t   *listen;     /* lag beats on the candidate */
    ngx_http_pit_auth_redis_t   *writer;     /* the primary, to beat on */
    ngx_uint_t                   sentinel;
    ngx_uint_t                   asking;     /* answers awaited */
    ngx_uint_t                   lost;       /* a sentinel link went away */
    int64_t                      asked;      /* ms */
    int64_t                      beat;       /* ms */
    ngx_event_t                  timer;
    ngx_uint_t                   spread;     /* host name + master pid */

    ngx_http_pit_auth_fleet_server_t  primary;
    ngx_http_pit_auth_fleet_server_t  replica[NGX_HTTP_PIT_AUTH_FLEET_REPLICAS];
    ngx_uint_t                   nreplicas;
    ngx_uint_t                   listed;     /* replicas ever listed */
    ngx_http_pit_auth_fleet_server_t  candidate;
    ngx_uint_t                   cand_listed;  /* listed up, link or not */
    ngx_http_pit_auth_fleet_server_t  avoid;  /* the one just left */
    int64_t                      cand_since;
    int64_t                      cand_synced;

    u_char                       channel[PIT_URL_HOST_MAX + 128];
    size_t                       channel_len;

    ngx_http_pit_auth_redis_callback_t  on_master;
    ngx_http_pit_auth_redis_callback_t  on_replicas;
    ngx_http_pit_auth_redis_callback_t  on_switch;
    ngx_http_pit_auth_redis_callback_t  on_beat;
};


static ngx_int_t ngx_http_pit_auth_fleet_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_pit_auth_fleet_sh_t *ngx_http_pit_auth_fleet_sh(
    ngx_http_pit_auth_fleet_t *fleet);
static void ngx_http_pit_auth_fleet_tick(ngx_event_t *ev);
static void ngx_http_pit_auth_fleet_ask(ngx_http_pit_auth_fleet_t *fleet,
    int64_t now);
static void ngx_http_pit_auth_fleet_next(ngx_http_pit_auth_fleet_t *fleet,
    const char *why);
static void ngx_http_pit_auth_fleet_master(void *data, void *reply);
static void ngx_http_pit_auth_fleet_replicas(void *data, void *reply);
static void ngx_http_pit_auth_fleet_watch_start(ngx_http_pit_auth_redis_t *rd,
    void *data);
static void ngx_http_pit_auth_fleet_switch(void *data, void *reply);
static void ngx_http_pit_auth_fleet_listen_start(
    ngx_http_pit_auth_redis_t *rd, void *data);
static void ngx_http_pit_auth_fleet_heard(void *data, void *reply);
static void ngx_http_pit_auth_fleet_choose(ngx_http_pit_auth_fleet_t *fleet,
    int64_t now);
static void ngx_http_pit_auth_fleet_publish(ngx_http_pit_auth_fleet_t *fleet,
    int64_t now);
static void ngx_http_pit_auth_fleet_subscribe(ngx_http_pit_auth_redis_t *rd,
    ngx_http_pit_auth_redis_callback_t *cb, const char *channel, size_t len);
static ngx_int_t ngx_http_pit_auth_fleet_set(
    ngx_http_pit_auth_fleet_server_t *s, const char *host, size_t len,
    const char *port, size_t plen);
static ngx_uint_t ngx_http_pit_auth_fleet_same(
    ngx_http_pit_auth_fleet_server_t *a, ngx_http_pit_auth_fleet_server_t *b);
static ngx_uint_t ngx_http_pit_auth_fleet_str_is(redisReply *rp,
    const char *s);
static int64_t ngx_http_pit_auth_fleet_now(void);
static ngx_http_pit_auth_fleet_zone_t *ngx_http_pit_auth_fleet_zone(void);


static ngx_str_t  ngx_http_pit_auth_fleet_zone_name =
    ngx_string("pit_auth_fleet");

static ngx_uint_t  ngx_http_pit_auth_fleet_tag;


/* configuration */


ngx_http_pit_auth_fleet_t *
ngx_http_pit_auth_fleet_add(ngx_conf_t *cf, ngx_http_pit_auth_redis_conf_t *rc)
{
    u_char                          *p;
    size_t                           len;
    ngx_shm_zone_t                  *shm_zone;
    ngx_http_pit_auth_fleet_t       *fleet, **fp;
    ngx_http_pit_auth_fleet_zone_t  *zone;

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_pit_auth_fleet_zone_name,
                                     NGX_HTTP_PIT_AUTH_FLEET_ZONE,
                                     &ngx_http_pit_auth_fleet_tag);
    if (shm_zone == NULL) {
        return NULL;
    }

    zone = shm_zone->data;

    if (zone == NULL) {
        zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_fleet_zone_t));
        if (zone == NULL) {
            return NULL;
        }

        if (ngx_array_init(&zone->fleets, cf->pool, 2,
                           sizeof(ngx_http_pit_auth_fleet_t *))
            != NGX_OK)
        {
            return NULL;
        }

        shm_zone->init = ngx_http_pit_auth_fleet_init_zone;
        shm_zone->data = zone;
    }

    if (zone->fleets.nelts == NGX_HTTP_PIT_AUTH_FLEET_SLOTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d pit_auth_redis with sentinels or "
                           "replicas", NGX_HTTP_PIT_AUTH_FLEET_SLOTS);
        return NULL;
    }

    fleet = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_fleet_t));
    if (fleet == NULL) {
        return NULL;
    }

    fp = ngx_array_push(&zone->fleets);
    if (fp == NULL) {
        return NULL;
    }

    *fp = fleet;
    fleet->conf = *rc;
    fleet->zone = zone;
    fleet->index = zone->fleets.nelts - 1;

    len = rc->addr->name.len + sizeof("sentinel=") + rc->addr->master.len
          + sizeof(" read=") + NGX_SOCKADDR_STRLEN + NGX_INT_T_LEN + 16;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NULL;
    }

    fleet->name.data = p;

    if (rc->addr->master.len) {
        p = ngx_sprintf(p, "sentinel=%V", &rc->addr->master);

    } else {
        p = ngx_sprintf(p, "%V", &rc->addr->name);
    }

    if (rc->read == NULL || rc->read->mode == NGX_HTTP_PIT_AUTH_READ_PRIMARY)
    {
        p = ngx_sprintf(p, " read=primary");

    } else if (rc->read->mode == NGX_HTTP_PIT_AUTH_READ_REPLICA) {
        p = ngx_sprintf(p, " read=replica");

    } else {
        p = ngx_sprintf(p, " read=%V:%i", &rc->read->addr.host,
                        rc->read->addr.port);
    }

    fleet->name.len = p - fleet->name.data;

    /* a reload keeps what worker 0 found if the backend did not change */

    fleet->ident = ngx_crc32_short(fleet->name.data, fleet->name.len)
                   ^ (uint32_t) rc->addr->db;

    return fleet;
}


static ngx_int_t
ngx_http_pit_auth_fleet_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_pit_auth_fleet_zone_t  *ozone = data;

    ngx_uint_t                       i;
    ngx_http_pit_auth_fleet_t      **fp;
    ngx_http_pit_auth_fleet_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        zone->shpool = ozone->shpool;
        zone->slots = ozone->slots;

    } else {
        zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            zone->slots = zone->shpool->data;

        } else {
            zone->slots = ngx_slab_calloc(zone->shpool,
                              sizeof(ngx_http_pit_auth_fleet_sh_t)
                              * NGX_HTTP_PIT_AUTH_FLEET_SLOTS);
            if (zone->slots == NULL) {
                return NGX_ERROR;
            }

            zone->shpool->data = zone->slots;
        }
    }

    fp = zone->fleets.elts;

    for (i = 0; i < zone->fleets.nelts; i++) {
        if (zone->slots[i].ident != fp[i]->ident) {
            ngx_memzero(&zone->slots[i], sizeof(ngx_http_pit_auth_fleet_sh_t));
            zone->slots[i].ident = fp[i]->ident;
        }
    }

    return NGX_OK;
}


static ngx_http_pit_auth_fleet_sh_t *
ngx_http_pit_auth_fleet_sh(ngx_http_pit_auth_fleet_t *fleet)
{
    return &fleet->zone->slots[fleet->index];
}


ngx_str_t *
ngx_http_pit_auth_fleet_name(ngx_http_pit_auth_fleet_t *fleet)
{
    return &fleet->name;
}


/* every worker */


uint64_t
ngx_http_pit_auth_fleet_gen(ngx_http_pit_auth_fleet_t *fleet, ngx_uint_t role)
{
    uint64_t                       gen;
    ngx_http_pit_auth_fleet_sh_t  *sh;

    sh = ngx_http_pit_auth_fleet_sh(fleet);

    ngx_shmtx_lock(&fleet->zone->shpool->mutex);
    gen = sh->gen[role];
    ngx_shmtx_unlock(&fleet->zone->shpool->mutex);

    return gen;
}


/* Copies where a role's connection goes; NGX_DECLINED: nowhere known. */

ngx_int_t
ngx_http_pit_auth_fleet_server(ngx_http_pit_auth_fleet_t *fleet,
    ngx_uint_t role, u_char *host, size_t *len, ngx_int_t *port,
    uint64_t *gen)
{
    ngx_int_t                          rc;
    ngx_http_pit_auth_fleet_sh_t      *sh;
    ngx_http_pit_auth_fleet_server_t  *s;

    sh = ngx_http_pit_auth_fleet_sh(fleet);

    ngx_shmtx_lock(&fleet->zone->shpool->mutex);

    s = &sh->server[role];
    *gen = sh->gen[role];
    rc = s->len ? NGX_OK : NGX_DECLINED;

    if (s->len) {
        ngx_memcpy(host, s->host, s->len + 1);
        *len = s->len;
        *port = s->port;
    }

    ngx_shmtx_unlock(&fleet->zone->shpool->mutex);

    return rc;
}


/*
 * The server read may answer a lookup: it is the primary, or a replica
 * known to hold every change made up to max_lag ago.  Measured at
 * worker 0's last beat heard, so a worker 0 gone quiet makes it stale.
 */

ngx_uint_t
ngx_http_pit_auth_fleet_fresh(ngx_http_pit_auth_fleet_t *fleet)
{
    int64_t                        now;
    ngx_uint_t                     fresh;
    ngx_http_pit_auth_fleet_sh_t  *sh;

    sh = ngx_http_pit_auth_fleet_sh(fleet);
    now = ngx_http_pit_auth_fleet_now();

    ngx_shmtx_lock(&fleet->zone->shpool->mutex);

    if (sh->read_is_primary) {
        fresh = (sh->server[NGX_HTTP_PIT_AUTH_FLEET_PRIMARY].len != 0);

    } else {
        fresh = sh->server[NGX_HTTP_PIT_AUTH_FLEET_READ].len != 0
                && now - sh->synced <= (int64_t) fleet->conf.max_lag;
    }

    ngx_shmtx_unlock(&fleet->zone->shpool->mutex);

    return fresh;
}


/* A -READONLY reply or a lost primary: worker 0 asks again at once. */

void
ngx_http_pit_auth_fleet_doubt(ngx_http_pit_auth_fleet_t *fleet)
{
    ngx_http_pit_auth_fleet_sh_t  *sh;

    if (fleet->conf.addr->master.len == 0) {
        return;
    }

    sh = ngx_http_pit_auth_fleet_sh(fleet);

    ngx_shmtx_lock(&fleet->zone->shpool->mutex);

    if (!sh->doubt) {
        sh->doubt = 1;
        sh->doubts++;
    }

    ngx_shmtx_unlock(&fleet->zone->shpool->mutex);
}


void
ngx_http_pit_auth_fleet_dropped(ngx_http_pit_auth_fleet_t *fleet)
{
    ngx_http_pit_auth_fleet_sh_t  *sh;

    sh = ngx_http_pit_auth_fleet_sh(fleet);

    ngx_shmtx_lock(&fleet->zone->shpool->mutex);
    sh->writes_dropped++;
    ngx_shmtx_unlock(&fleet->zone->shpool->mutex);
}


/* worker 0 */


void
ngx_http_pit_auth_fleet_init_process(ngx_cycle_t *cycle,
    ngx_http_pit_auth_fleet_t *fleet, ngx_http_pit_auth_redis_t *writer)
{
    u_char                           host[NGX_MAXHOSTNAMELEN];
    ngx_http_pit_auth_redis_addr_t  *sa, *addr;

    if (ngx_worker != 0) {
        return;
    }

    addr = fleet->conf.addr;
    fleet->writer = writer;

    fleet->timer.handler = ngx_http_pit_auth_fleet_tick;
    fleet->timer.data = fleet;
    fleet->timer.log = cycle->log;
    fleet->timer.cancelable = 1;

    fleet->on_master.handler = ngx_http_pit_auth_fleet_master;
    fleet->on_master.data = fleet;
    fleet->on_replicas.handler = ngx_http_pit_auth_fleet_replicas;
    fleet->on_replicas.data = fleet;
    fleet->on_switch.handler = ngx_http_pit_auth_fleet_switch;
    fleet->on_switch.data = fleet;
    fleet->on_beat.handler = ngx_http_pit_auth_fleet_heard;
    fleet->on_beat.data = fleet;

    /* the same nginx always spreads the same way; another, elsewhere */

    if (gethostname((char *) host, NGX_MAXHOSTNAMELEN) != 0) {
        host[0] = '\0';
    }

    host[NGX_MAXHOSTNAMELEN - 1] = '\0';

    fleet->spread = ngx_crc32_short(host, ngx_strlen(host))
                    ^ (ngx_uint_t) getppid();

    fleet->channel_len = ngx_snprintf(fleet->channel,
                                      sizeof(fleet->channel) - 1,
                                      "%Vnginx:beat:lag:%s:%P",
                                      &fleet->conf.prefix, host, ngx_pid)
                         - fleet->channel;
    fleet->channel[fleet->channel_len] = '\0';

    if (addr->master.len) {
        sa = addr->sentinels->elts;

        fleet->ask = ngx_http_pit_auth_redis_open_addr(cycle, &sa[0],
                         fleet->conf.connect_timeout,
                         fleet->conf.read_timeout, NULL, NULL);
        fleet->watch = ngx_http_pit_auth_redis_open_addr(cycle, &sa[0],
                         fleet->conf.connect_timeout,
                         fleet->conf.read_timeout,
                         ngx_http_pit_auth_fleet_watch_start, fleet);

        if (fleet->ask == NULL || fleet->watch == NULL) {
            return;
        }

    } else {
        (void) ngx_http_pit_auth_fleet_set(&fleet->primary,
                                          (char *) addr->host.data,
                                          addr->host.len, NULL, 0);
        fleet->primary.port = addr->port;
    }

    if (fleet->conf.read
        && fleet->conf.read->mode == NGX_HTTP_PIT_AUTH_READ_FIXED)
    {
        (void) ngx_http_pit_auth_fleet_set(&fleet->candidate,
                                          (char *) fleet->conf.read->addr
                                                       .host.data,
                                          fleet->conf.read->addr.host.len,
                                          NULL, 0);
        fleet->candidate.port = fleet->conf.read->addr.port;
        fleet->cand_since = ngx_http_pit_auth_fleet_now();

        fleet->listen = ngx_http_pit_auth_redis_open_addr(cycle,
                            &fleet->conf.read->addr,
                            fleet->conf.connect_timeout,
                            fleet->conf.read_timeout,
                            ngx_http_pit_auth_fleet_listen_start, fleet);
    }

    ngx_http_pit_auth_fleet_publish(fleet, ngx_http_pit_auth_fleet_now());

    ngx_add_timer(&fleet->timer, NGX_HTTP_PIT_AUTH_FLEET_TICK);
}


void
ngx_http_pit_auth_fleet_exit_process(ngx_http_pit_auth_fleet_t *fleet)
{
    if (fleet->timer.timer_set) {
        ngx_del_timer(&fleet->timer);
    }

    if (fleet->ask) {
        ngx_http_pit_auth_redis_close(fleet->ask);
    }

    if (fleet->watch) {
        ngx_http_pit_auth_redis_close(fleet->watch);
    }

    if (fleet->listen) {
        ngx_http_pit_auth_redis_close(fleet->listen);
    }
}


/*
 * Every tick: ask the sentinels when it is time (or at once on a doubt),
 * leave one that went away or stalls, beat on the primary, choose the
 * server read, and publish.
 */

static void
ngx_http_pit_auth_fleet_tick(ngx_event_t *ev)
{
    ngx_http_pit_auth_fleet_t *fleet = ev->data;

    size_t                         lens[3];
    int64_t                        now;
    u_char                         ms[NGX_INT64_LEN];
    const char                    *argv[3];
    ngx_http_pit_auth_fleet_sh_t  *sh;

    now = ngx_http_pit_auth_fleet_now();
    sh = ngx_http_pit_auth_fleet_sh(fleet);

    if (fleet->ask) {
        ngx_shmtx_lock(&fleet->zone->shpool->mutex);

        if (sh->doubt) {
            sh->doubt = 0;
            fleet->asked = 0;
        }

        ngx_shmtx_unlock(&fleet->zone->shpool->mutex);

        if (fleet->lost) {
            ngx_http_pit_auth_fleet_next(fleet, "connection lost");

        } else if (fleet->asking
                   && now - fleet->asked > NGX_HTTP_PIT_AUTH_FLEET_STALL)
        {
            ngx_http_pit_auth_fleet_next(fleet, "no answer");
        }

        if (!fleet->asking && now - fleet->asked >= NGX_HTTP_PIT_AUTH_FLEET_ASK)
        {
            ngx_http_pit_auth_fleet_ask(fleet, now);
        }
    }

    if (fleet->conf.read
        && fleet->conf.read->mode != NGX_HTTP_PIT_AUTH_READ_PRIMARY
        && now - fleet->beat >= NGX_HTTP_PIT_AUTH_FLEET_BEAT)
    {
        fleet->beat = now;

        argv[0] = "PUBLISH";
        lens[0] = 7;
        argv[1] = (const char *) fleet->channel;
        lens[1] = fleet->channel_len;
        argv[2] = (const char *) ms;
        lens[2] = ngx_sprintf(ms, "%L", now) - ms;

        (void) ngx_http_pit_auth_redis_command(fleet->writer, NULL, 3, argv,
                                               lens);
    }

    ngx_http_pit_auth_fleet_choose(fleet, now);
    ngx_http_pit_auth_fleet_publish(fleet, now);

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(ev, NGX_HTTP_PIT_AUTH_FLEET_TICK);
    }
}


static void
ngx_http_pit_auth_fleet_ask(ngx_http_pit_auth_fleet_t *fleet, int64_t now)
{
    size_t       lens[3];
    const char  *argv[3];

    fleet->asked = now;

    argv[0] = "SENTINEL";
    lens[0] = 8;
    argv[1] = "get-master-addr-by-name";
    lens[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (const char *) fleet->conf.addr->master.data;
    lens[2] = fleet->conf.addr->master.len;

    if (ngx_http_pit_auth_redis_command(fleet->ask, &fleet->on_master, 3,
                                        argv, lens)
        != NGX_OK)
    {
        /* down (refused, backing off): try the next one next time */

        if (!ngx_http_pit_auth_redis_up(fleet->ask)) {
            ngx_http_pit_auth_fleet_next(fleet, "unreachable");
        }

        return;
    }

    fleet->asking++;

    if (fleet->conf.read
        && fleet->conf.read->mode == NGX_HTTP_PIT_AUTH_READ_REPLICA)
    {
        argv[1] = "replicas";
        lens[1] = sizeof("replicas") - 1;

        if (ngx_http_pit_auth_redis_command(fleet->ask, &fleet->on_replicas,
                                            3, argv, lens)
            == NGX_OK)
        {
            fleet->asking++;
        }
    }
}


/* Leaves the sentinel asked for the next one; never from a callback. */

static void
ngx_http_pit_auth_fleet_next(ngx_http_pit_auth_fleet_t *fleet,
    const char *why)
{
    ngx_uint_t                       n;
    ngx_http_pit_auth_redis_addr_t  *sa;

    sa = fleet->conf.addr->sentinels->elts;
    n = fleet->conf.addr->sentinels->nelts;

    ngx_log_error(NGX_LOG_WARN, fleet->timer.log, 0,
                  "pit_auth: sentinel %V for %V: %s, asking %V",
                  &sa[fleet->sentinel].name, &fleet->name, why,
                  &sa[(fleet->sentinel + 1) % n].name);

    fleet->sentinel = (fleet->sentinel + 1) % n;

    ngx_http_pit_auth_redis_retarget(fleet->ask, sa[fleet->sentinel].host.data,
                                     sa[fleet->sentinel].host.len,
                                     sa[fleet->sentinel].port);
    ngx_http_pit_auth_redis_retarget(fleet->watch,
                                     sa[fleet->sentinel].host.data,
                                     sa[fleet->sentinel].host.len,
                                     sa[fleet->sentinel].port);

    /* the answers the old links owed came back NULL meanwhile */

    fleet->asking = 0;
    fleet->lost = 0;
    fleet->asked = 0;
}


/* [ip, port], or nil for a master the sentinel does not know */

static void
ngx_http_pit_auth_fleet_master(void *data, void *reply)
{
    ngx_http_pit_auth_fleet_t *fleet = data;

    redisReply                       *rp;
    ngx_http_pit_auth_fleet_server_t  s;

    rp = reply;

    if (fleet->asking) {
        fleet->asking--;
    }

    if (rp == NULL) {
        fleet->lost = 1;
        return;
    }

    if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 2
        || rp->element[0]->type != REDIS_REPLY_STRING
        || rp->element[1]->type != REDIS_REPLY_STRING
        || ngx_http_pit_auth_fleet_set(&s, rp->element[0]->str,
                                       rp->element[0]->len,
                                       rp->element[1]->str,
                                       rp->element[1]->len)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, fleet->timer.log, 0,
                      "pit_auth: sentinel for %V does not know master "
                      "\"%V\"", &fleet->name, &fleet->conf.addr->master);
        fleet->lost = 1;
        return;
    }

    if (!ngx_http_pit_auth_fleet_same(&s, &fleet->primary)) {
        ngx_log_error(NGX_LOG_NOTICE, fleet->timer.log, 0,
                      "pit_auth: %V: primary is %s:%i", &fleet->name,
                      s.host, s.port);
        fleet->primary = s;
    }
}


/*
 * An array of replicas, each a flat array of field names and values;
 * listed up: no s_down, o_down or disconnected flag; usable, to be
 * chosen: listed up with master-link-status ok.
 */

static void
ngx_http_pit_auth_fleet_replicas(void *data, void *reply)
{
    ngx_http_pit_auth_fleet_t *fleet = data;

    size_t                             i, j;
    redisReply                        *rp, *r, *k, *v, *ip, *port, *flags;
    redisReply                        *link;
    ngx_http_pit_auth_fleet_server_t   s;

    rp = reply;

    if (fleet->asking) {
        fleet->asking--;
    }

    if (rp == NULL) {
        fleet->lost = 1;
        return;
    }

    if (rp->type != REDIS_REPLY_ARRAY) {
        return;
    }

    fleet->nreplicas = 0;
    fleet->listed = 1;
    fleet->cand_listed = 0;

    for (i = 0; i < rp->elements; i++) {
        r = rp->element[i];

        if (r->type != REDIS_REPLY_ARRAY) {
            continue;
        }

        ip = port = flags = link = NULL;

        for (j = 0; j + 1 < r->elements; j += 2) {
            k = r->element[j];
            v = r->element[j + 1];

            if (k->type != REDIS_REPLY_STRING
                || v->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            if (ngx_http_pit_auth_fleet_str_is(k, "ip")) {
                ip = v;

            } else if (ngx_http_pit_auth_fleet_str_is(k, "port")) {
                port = v;

            } else if (ngx_http_pit_auth_fleet_str_is(k, "flags")) {
                flags = v;

            } else if (ngx_http_pit_auth_fleet_str_is(k,
                                                      "master-link-status"))
            {
                link = v;
            }
        }

        if (ip == NULL || port == NULL || flags == NULL || link == NULL
            || ngx_strlcasestrn((u_char *) flags->str,
                                (u_char *) flags->str + flags->len,
                                (u_char *) "down", 4 - 1)
               != NULL
            || ngx_strlcasestrn((u_char *) flags->str,
                                (u_char *) flags->str + flags->len,
                                (u_char *) "disconnected", 12 - 1)
               != NULL
            || ngx_http_pit_auth_fleet_set(&s, ip->str, ip->len, port->str,
                                           port->len)
               != NGX_OK)
        {
            continue;
        }

        /*
         * The replica read is kept while its master link is down: the
         * beats it has heard say how far behind it is, and a primary's
         * death must not cut its readers off before the bound.  A new
         * one is chosen among those with a live link only.
         */

        if (ngx_http_pit_auth_fleet_same(&s, &fleet->candidate)) {
            fleet->cand_listed = 1;
        }

        if (!ngx_http_pit_auth_fleet_str_is(link, "ok")
            || fleet->nreplicas == NGX_HTTP_PIT_AUTH_FLEET_REPLICAS)
        {
            continue;
        }

        fleet->replica[fleet->nreplicas++] = s;
    }
}


static void
ngx_http_pit_auth_fleet_watch_start(ngx_http_pit_auth_redis_t *rd,
    void *data)
{
    ngx_http_pit_auth_fleet_t *fleet = data;

    ngx_http_pit_auth_fleet_subscribe(rd, &fleet->on_switch,
                                      NGX_HTTP_PIT_AUTH_FLEET_SWITCH,
                                      sizeof(NGX_HTTP_PIT_AUTH_FLEET_SWITCH)
                                      - 1);
}


/* "message" "+switch-master" "<master> <old ip> <old port> <ip> <port>" */

static void
ngx_http_pit_auth_fleet_switch(void *data, void *reply)
{
    ngx_http_pit_auth_fleet_t *fleet = data;

    u_char      *p, *last, *f[5];
    size_t       n;
    redisReply  *rp, *m;

    rp = reply;

    if (rp == NULL) {
        fleet->lost = 1;
        return;
    }

    if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 3
        || !ngx_http_pit_auth_fleet_str_is(rp->element[0], "message")
        || rp->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    m = rp->element[2];
    p = (u_char *) m->str;
    last = p + m->len;

    for (n = 0; n < 5 && p < last; n++) {
        f[n] = p;
        p = ngx_strlchr(p, last, ' ');
        p = p ? p + 1 : last;
    }

    if (n != 5
        || (size_t) (f[1] - f[0] - 1) != fleet->conf.addr->master.len
        || ngx_strncmp(f[0], fleet->conf.addr->master.data,
                       fleet->conf.addr->master.len)
           != 0)
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, fleet->timer.log, 0,
                  "pit_auth: %V: sentinel says %*s",
                  &fleet->name, m->len, m->str);

    if (ngx_http_pit_auth_fleet_set(&fleet->primary, (char *) f[3],
                                    f[4] - f[3] - 1, (char *) f[4],
                                    last - f[4])
        != NGX_OK)
    {
        fleet->primary.len = 0;
    }

    /* the replicas changed too */

    fleet->asked = 0;
    ngx_http_pit_auth_fleet_publish(fleet, ngx_http_pit_auth_fleet_now());
}


static void
ngx_http_pit_auth_fleet_listen_start(ngx_http_pit_auth_redis_t *rd,
    void *data)
{
    ngx_http_pit_auth_fleet_t *fleet = data;

    ngx_http_pit_auth_fleet_subscribe(rd, &fleet->on_beat,
                                      (const char *) fleet->channel,
                                      fleet->channel_len);
}


/* A beat sent at T, heard on the candidate: it holds every change to T. */

static void
ngx_http_pit_auth_fleet_heard(void *data, void *reply)
{
    ngx_http_pit_auth_fleet_t *fleet = data;

    int64_t      sent;
    ngx_int_t    n;
    redisReply  *rp;

    rp = reply;

    if (rp == NULL || rp->type != REDIS_REPLY_ARRAY || rp->elements != 3
        || !ngx_http_pit_auth_fleet_str_is(rp->element[0], "message")
        || rp->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    n = ngx_atoi((u_char *) rp->element[2]->str, rp->element[2]->len);
    sent = n;

    if (n == NGX_ERROR || sent > ngx_http_pit_auth_fleet_now()) {
        return;
    }

    if (sent > fleet->cand_synced && sent >= fleet->cand_since) {
        fleet->cand_synced = sent;
    }
}


/*
 * The candidate to read from: the fixed address, or a usable replica,
 * kept while it is listed up and heard within the bound; one left is
 * not taken again at once when there is another.
 */

static void
ngx_http_pit_auth_fleet_choose(ngx_http_pit_auth_fleet_t *fleet,
    int64_t now)
{
    ngx_uint_t                         i, n, listed, stale;
    ngx_http_pit_auth_fleet_server_t  *s;

    if (fleet->conf.read == NULL
        || fleet->conf.read->mode != NGX_HTTP_PIT_AUTH_READ_REPLICA
        || !fleet->listed)
    {
        return;
    }

    if (fleet->candidate.len) {
        listed = fleet->cand_listed;

        stale = (now - fleet->cand_synced > (int64_t) fleet->conf.max_lag
                 && now - fleet->cand_since > NGX_HTTP_PIT_AUTH_FLEET_TRIAL);

        if (listed && !stale) {
            return;
        }

        ngx_log_error(NGX_LOG_WARN, fleet->timer.log, 0,
                      "pit_auth: %V: leaving replica %s:%i (%s)",
                      &fleet->name, fleet->candidate.host,
                      fleet->candidate.port,
                      listed ? "too far behind the primary"
                             : "no longer listed up by the sentinel");

        fleet->avoid = fleet->candidate;
        fleet->candidate.len = 0;
    }

    n = fleet->nreplicas;

    if (n == 0) {
        return;
    }

    s = NULL;

    for (i = 0; i < n; i++) {
        s = &fleet->replica[(fleet->spread + i) % n];

        if (n == 1 || !ngx_http_pit_auth_fleet_same(s, &fleet->avoid)) {
            break;
        }
    }

    fleet->candidate = *s;
    fleet->cand_listed = 1;
    fleet->cand_since = now;
    fleet->cand_synced = 0;

    ngx_log_error(NGX_LOG_NOTICE, fleet->timer.log, 0,
                  "pit_auth: %V: trying replica %s:%i", &fleet->name,
                  s->host, s->port);

    if (fleet->listen == NULL) {
        fleet->listen = ngx_http_pit_auth_redis_open_addr(
                            (ngx_cycle_t *) ngx_cycle, fleet->conf.addr,
                            fleet->conf.connect_timeout,
                            fleet->conf.read_timeout,
                            ngx_http_pit_auth_fleet_listen_start, fleet);
        if (fleet->listen == NULL) {
            return;
        }
    }

    ngx_http_pit_auth_redis_retarget(fleet->listen, s->host, s->len,
                                     s->port);
}


/* What every worker follows: the primary, the server read, its lag. */

static void
ngx_http_pit_auth_fleet_publish(ngx_http_pit_auth_fleet_t *fleet,
    int64_t now)
{
    size_t                             len;
    int64_t                            synced;
    ngx_uint_t                         is_primary, moved[2];
    ngx_http_pit_auth_fleet_sh_t      *sh;
    ngx_http_pit_auth_redis_addr_t    *sa;
    ngx_http_pit_auth_fleet_server_t  *read;

    is_primary = 1;
    synced = now;
    read = &fleet->primary;

    if (fleet->candidate.len
        && (now - fleet->cand_synced <= (int64_t) fleet->conf.max_lag
            || fleet->primary.len == 0))
    {
        /* a candidate too far behind serves only while nothing else can:
         * lookups then fail (fresh() says no) */

        read = &fleet->candidate;
        synced = fleet->cand_synced;
        is_primary = 0;
    }

    sh = ngx_http_pit_auth_fleet_sh(fleet);

    ngx_shmtx_lock(&fleet->zone->shpool->mutex);

    moved[0] = !ngx_http_pit_auth_fleet_same(&sh->server[0], &fleet->primary);
    moved[1] = !ngx_http_pit_auth_fleet_same(&sh->server[1], read);

    if (moved[0]) {
        if (sh->server[0].len && fleet->primary.len) {
            sh->failovers++;
        }

        sh->server[0] = fleet->primary;
        sh->gen[0]++;
    }

    if (moved[1]) {
        sh->server[1] = *read;
        sh->gen[1]++;
    }

    sh->owner = ngx_pid;
    sh->read_is_primary = is_primary;
    sh->synced = synced;
    sh->replicas = fleet->nreplicas;

    if (fleet->ask) {
        sa = fleet->conf.addr->sentinels->elts;
        len = ngx_min(sa[fleet->sentinel].name.len, NGX_SOCKADDR_STRLEN - 1);

        ngx_memcpy(sh->sentinel.host, sa[fleet->sentinel].name.data, len);
        sh->sentinel.host[len] = '\0';
        sh->sentinel.len = len;
    }

    ngx_shmtx_unlock(&fleet->zone->shpool->mutex);

    if (moved[1]) {
        ngx_log_error(NGX_LOG_NOTICE, fleet->timer.log, 0,
                      "pit_auth: %V: reading from %s %s:%i", &fleet->name,
                      is_primary ? "the primary" : "replica",
                      read->len ? read->host : (u_char *) "(none)",
                      read->port);
    }
}


/* pit_auth_stats */


/* The zone of the running cycle, found there: a reload may drop it. */

static ngx_http_pit_auth_fleet_zone_t *
ngx_http_pit_auth_fleet_zone(void)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *shm_zone;

    for (part = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;
         part;
         part = part->next)
    {
        shm_zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (shm_zone[i].tag == &ngx_http_pit_auth_fleet_tag) {
                return shm_zone[i].data;
            }
        }
    }

    return NULL;
}


size_t
ngx_http_pit_auth_fleet_stats_size(void)
{
    ngx_http_pit_auth_fleet_zone_t  *zone;

    zone = ngx_http_pit_auth_fleet_zone();

    if (zone == NULL) {
        return 0;
    }

    return zone->fleets.nelts * (3 * NGX_SOCKADDR_STRLEN + 512
                                 + PIT_URL_HOST_MAX * 2);
}


u_char *
ngx_http_pit_auth_fleet_stats(u_char *p)
{
    int64_t                          now, lag;
    ngx_uint_t                       i;
    ngx_http_pit_auth_fleet_t      **fp, *fleet;
    ngx_http_pit_auth_fleet_sh_t     sh;
    ngx_http_pit_auth_fleet_zone_t  *zone;

    zone = ngx_http_pit_auth_fleet_zone();

    if (zone == NULL) {
        return p;
    }

    fp = zone->fleets.elts;
    now = ngx_http_pit_auth_fleet_now();

    for (i = 0; i < zone->fleets.nelts; i++) {
        fleet = fp[i];

        ngx_shmtx_lock(&zone->shpool->mutex);
        sh = zone->slots[i];
        ngx_shmtx_unlock(&zone->shpool->mutex);

        lag = sh.read_is_primary ? 0 : now - sh.synced;

        if (i) {
            *p++ = ',';
        }

        /* the configuration's name holds no secret: never a password */

        p = ngx_sprintf(p, "\"%V\":{\"primary\":\"", &fleet->name);

        if (sh.server[0].len) {
            p = ngx_sprintf(p, "%s:%i", sh.server[0].host, sh.server[0].port);
        }

        p = ngx_sprintf(p, "\",\"read\":\"");

        if (sh.server[1].len) {
            p = ngx_sprintf(p, "%s:%i", sh.server[1].host, sh.server[1].port);
        }

        p = ngx_sprintf(p, "\",\"read_role\":\"%s\",\"lag_ms\":%L,"
                        "\"max_lag_ms\":%M,\"fresh\":%s,"
                        "\"sentinel\":\"%s\",\"replicas\":%ui,"
                        "\"failovers\":%uL,\"doubts\":%uL,"
                        "\"writes_dropped\":%uL,\"owner_pid\":%P}",
                        sh.read_is_primary ? "primary" : "replica",
                        sh.server[1].len ? lag : (int64_t) -1,
                        fleet->conf.max_lag,
                        ngx_http_pit_auth_fleet_fresh(fleet) ? "true"
                                                             : "false",
                        sh.sentinel.len ? sh.sentinel.host : (u_char *) "",
                        sh.replicas, sh.failovers, sh.doubts,
                        sh.writes_dropped, sh.owner);
    }

    return p;
}


/*
 * The lag is unknown while no server to read is known, or while the one
 * read was never heard from.
 */

ngx_int_t
ngx_http_pit_auth_fleet_info(ngx_uint_t i, ngx_http_pit_auth_fleet_info_t *fi)
{
    ngx_http_pit_auth_fleet_t      **fp;
    ngx_http_pit_auth_fleet_sh_t     sh;
    ngx_http_pit_auth_fleet_zone_t  *zone;

    zone = ngx_http_pit_auth_fleet_zone();

    if (zone == NULL || i >= zone->fleets.nelts) {
        return NGX_DECLINED;
    }

    fp = zone->fleets.elts;

    ngx_shmtx_lock(&zone->shpool->mutex);
    sh = zone->slots[i];
    ngx_shmtx_unlock(&zone->shpool->mutex);

    fi->name = &fp[i]->name;
    fi->max_lag = fp[i]->conf.max_lag;
    fi->fresh = ngx_http_pit_auth_fleet_fresh(fp[i]);
    fi->read_is_replica = sh.server[1].len && !sh.read_is_primary;
    fi->failovers = sh.failovers;
    fi->doubts = sh.doubts;
    fi->writes_dropped = sh.writes_dropped;

    if (sh.server[1].len == 0) {
        fi->lag = -1;

    } else if (sh.read_is_primary) {
        fi->lag = 0;

    } else {
        fi->lag = sh.synced ? ngx_http_pit_auth_fleet_now() - sh.synced : -1;
    }

    return NGX_OK;
}


/* helpers */


static void
ngx_http_pit_auth_fleet_subscribe(ngx_http_pit_auth_redis_t *rd,
    ngx_http_pit_auth_redis_callback_t *cb, const char *channel, size_t len)
{
    size_t       lens[2];
    const char  *argv[2];

    argv[0] = "SUBSCRIBE";
    lens[0] = 9;
    argv[1] = channel;
    lens[1] = len;

    (void) ngx_http_pit_auth_redis_command(rd, cb, 2, argv, lens);
}


static ngx_int_t
ngx_http_pit_auth_fleet_set(ngx_http_pit_auth_fleet_server_t *s,
    const char *host, size_t len, const char *port, size_t plen)
{
    ngx_int_t  n;

    if (len == 0 || len >= NGX_SOCKADDR_STRLEN) {
        return NGX_ERROR;
    }

    if (port) {
        n = ngx_atoi((u_char *) port, plen);

        if (n < 1 || n > 65535) {
            return NGX_ERROR;
        }

        s->port = n;
    }

    ngx_memcpy(s->host, host, len);
    s->host[len] = '\0';
    s->len = len;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_pit_auth_fleet_same(ngx_http_pit_auth_fleet_server_t *a,
    ngx_http_pit_auth_fleet_server_t *b)
{
    return a->len == b->len
           && (a->len == 0
               || (a->port == b->port
                   && ngx_memcmp(a->host, b->host, a->len) == 0));
}


static ngx_uint_t
ngx_http_pit_auth_fleet_str_is(redisReply *rp, const char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    return rp->type == REDIS_REPLY_STRING && rp->len == len
           && ngx_strncasecmp((u_char *) rp->str, (u_char *) s, len) == 0;
}


static int64_t
ngx_http_pit_auth_fleet_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}
