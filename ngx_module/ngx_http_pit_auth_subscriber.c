
/*
 * pit-auth: the cache's invalidation subscriber.
 *
 * Worker 0 keeps one connection per zone that asks Redis for an
 * invalidation message on every change of a token key (CLIENT TRACKING
 * ... BCAST, RESP2 redirect to its own subscription), and evicts the entry
 * it names.  While that connection is down, no entry is honoured longer
 * than one second after its fetch; when it is back, the zone is flushed,
 * since messages were lost.  A connection that dies silently is caught by
 * its heartbeat, published through the lookup connection: a beat heard at
 * B proves every change made before it was heard, so trusting the zone
 * until B + 1 s keeps the same bound, one second, on any change.  When the
 * subscriber is lost while Redis still answers (a PING on the lookup
 * pool), entries cached until then are not served stale.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "pit_schema.h"

#include "ngx_http_pit_auth_redis.h"
#include "ngx_http_pit_auth_cache.h"
#include "ngx_http_pit_auth_subscriber.h"


#define NGX_HTTP_PIT_AUTH_SUB_BEAT         200    /* ms between heartbeats */
#define NGX_HTTP_PIT_AUTH_SUB_DEAD         3000   /* ms: no beat, reconnect */
#define NGX_HTTP_PIT_AUTH_SUB_SETUP        1500   /* ms to subscribe */
#define NGX_HTTP_PIT_AUTH_SUB_PROBE        1000   /* ms: Redis alive? */

#define NGX_HTTP_PIT_AUTH_SUB_CHANNEL      "__redis__:invalidate"

#define NGX_HTTP_PIT_AUTH_SUB_DOWN         0
#define NGX_HTTP_PIT_AUTH_SUB_ID           1
#define NGX_HTTP_PIT_AUTH_SUB_SUBSCRIBING  2
#define NGX_HTTP_PIT_AUTH_SUB_UP           3


struct ngx_http_pit_auth_subscriber_s {
    ngx_http_pit_auth_cache_t   *cache;
    ngx_http_pit_auth_redis_t   *rd;         /* its own connection */
    ngx_uint_t                   state;
    int64_t                      started;    /* ms: (re)connect began */
    int64_t                      client_id;
    uint64_t                     read_gen;   /* of the server subscribed */
    ngx_event_t                  timer;
    ngx_http_pit_auth_redis_callback_t  on_id;
    ngx_http_pit_auth_redis_callback_t  on_tracking;
    ngx_http_pit_auth_redis_callback_t  on_message;
    u_char                       beat[PIT_PREFIX_MAX + NGX_INT64_LEN + 16];
    size_t                       beat_len;   /* heartbeat channel */

    /* after a drop: does Redis still answer (a PING on the lookup pool)? */
    ngx_event_t                  probe;
    ngx_http_pit_auth_redis_callback_t  on_probe;
    uint64_t                     probe_epoch; /* the zone's at the drop */
    uint64_t                     stale_from;  /* the zone's before it */

    unsigned                     probing:1;
    unsigned                     exiting:1;
};


static void ngx_http_pit_auth_sub_start(ngx_http_pit_auth_redis_t *rd,
    void *data);
static void ngx_http_pit_auth_sub_id(void *data, void *reply);
static void ngx_http_pit_auth_sub_tracking(void *data, void *reply);
static void ngx_http_pit_auth_sub_message(void *data, void *reply);
static void ngx_http_pit_auth_sub_invalidate(
    ngx_http_pit_auth_subscriber_t *sub, redisReply *keys);
static void ngx_http_pit_auth_sub_subscribed(
    ngx_http_pit_auth_subscriber_t *sub, redisReply *rp);
static void ngx_http_pit_auth_sub_down(ngx_http_pit_auth_subscriber_t *sub);
static void ngx_http_pit_auth_sub_probe(ngx_http_pit_auth_subscriber_t *sub);
static void ngx_http_pit_auth_sub_probed(void *data, void *reply);
static void ngx_http_pit_auth_sub_probe_timer(ngx_event_t *ev);
static void ngx_http_pit_auth_sub_probe_end(ngx_http_pit_auth_subscriber_t *sub,
    ngx_uint_t alive, const char *why);
static void ngx_http_pit_auth_sub_timer(ngx_event_t *ev);
static ngx_uint_t ngx_http_pit_auth_reply_is(redisReply *rp, size_t i,
    const char *s);

extern ngx_module_t  ngx_http_pit_auth_module;


void
ngx_http_pit_auth_subscriber_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    ngx_list_part_t                *part;
    ngx_shm_zone_t                 *shm_zone;
    ngx_http_pit_auth_cache_t      *cache;
    ngx_http_pit_auth_subscriber_t  *sub;

    if (ngx_worker != 0) {
        return;
    }

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        shm_zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            cache = shm_zone[i].data;

            if (shm_zone[i].tag != &ngx_http_pit_auth_module
                || cache == NULL || cache->backend == NULL)
            {
                continue;
            }

            sub = ngx_pcalloc(cycle->pool,
                              sizeof(ngx_http_pit_auth_subscriber_t));
            if (sub == NULL) {
                return;
            }

            sub->cache = cache;
            sub->on_id.handler = ngx_http_pit_auth_sub_id;
            sub->on_id.data = sub;
            sub->on_tracking.handler = ngx_http_pit_auth_sub_tracking;
            sub->on_tracking.data = sub;
            sub->on_message.handler = ngx_http_pit_auth_sub_message;
            sub->on_message.data = sub;
            sub->on_probe.handler = ngx_http_pit_auth_sub_probed;
            sub->on_probe.data = sub;

            sub->timer.handler = ngx_http_pit_auth_sub_timer;
            sub->timer.data = sub;
            sub->timer.log = cycle->log;
            sub->timer.cancelable = 1;

            sub->probe.handler = ngx_http_pit_auth_sub_probe_timer;
            sub->probe.data = sub;
            sub->probe.log = cycle->log;
            sub->probe.cancelable = 1;

            cache->sub = sub;

            sub->rd = ngx_http_pit_auth_redis_open(cycle, cache->backend,
                                                   ngx_http_pit_auth_sub_start,
                                                   sub);
            if (sub->rd == NULL) {
                return;
            }

            ngx_add_timer(&sub->timer, NGX_HTTP_PIT_AUTH_SUB_BEAT);
        }
    }
}


void
ngx_http_pit_auth_subscriber_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_list_part_t            *part;
    ngx_shm_zone_t             *shm_zone;
    ngx_http_pit_auth_cache_t  *cache;

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        shm_zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            cache = shm_zone[i].data;

            if (shm_zone[i].tag != &ngx_http_pit_auth_module
                || cache == NULL || cache->sub == NULL)
            {
                continue;
            }

            cache->sub->exiting = 1;

            if (cache->sub->timer.timer_set) {
                ngx_del_timer(&cache->sub->timer);
            }

            if (cache->sub->probe.timer_set) {
                ngx_del_timer(&cache->sub->probe);
            }

            if (cache->sub->rd) {
                ngx_http_pit_auth_redis_close(cache->sub->rd);
            }

            ngx_http_pit_auth_sub_down(cache->sub);
        }
    }
}


/* Each (re)connect: CLIENT ID, then tracking and the subscription. */

static void
ngx_http_pit_auth_sub_start(ngx_http_pit_auth_redis_t *rd, void *data)
{
    ngx_http_pit_auth_subscriber_t  *sub = data;

    size_t       lens[2];
    const char  *argv[2];

    ngx_http_pit_auth_sub_down(sub);

    sub->rd = rd;
    sub->read_gen = ngx_http_pit_auth_redis_read_gen(rd);

    sub->state = NGX_HTTP_PIT_AUTH_SUB_ID;
    sub->started = ngx_http_pit_auth_cache_now();

    argv[0] = "CLIENT";
    lens[0] = 6;
    argv[1] = "ID";
    lens[1] = 2;

    if (ngx_http_pit_auth_redis_command(sub->rd, &sub->on_id, 2, argv, lens)
        != NGX_OK)
    {
        sub->state = NGX_HTTP_PIT_AUTH_SUB_DOWN;
    }
}


static void
ngx_http_pit_auth_sub_id(void *data, void *reply)
{
    ngx_http_pit_auth_subscriber_t  *sub = data;

    u_char       id[NGX_INT64_LEN];
    size_t       lens[8];
    redisReply  *rp;
    const char  *argv[8];

    rp = reply;

    if (rp == NULL || sub->state != NGX_HTTP_PIT_AUTH_SUB_ID) {
        ngx_http_pit_auth_sub_down(sub);
        return;
    }

    if (rp->type != REDIS_REPLY_INTEGER) {
        ngx_log_error(NGX_LOG_ERR, sub->timer.log, 0,
                      "pit_auth: invalidation subscriber: CLIENT ID failed");
        ngx_http_pit_auth_redis_drop(sub->rd, "CLIENT ID failed");
        return;
    }

    sub->client_id = rp->integer;

    argv[0] = "CLIENT";
    lens[0] = 6;
    argv[1] = "TRACKING";
    lens[1] = 8;
    argv[2] = "on";
    lens[2] = 2;
    argv[3] = "REDIRECT";
    lens[3] = 8;
    argv[4] = (const char *) id;
    lens[4] = ngx_sprintf(id, "%L", sub->client_id) - id;
    argv[5] = "BCAST";
    lens[5] = 5;
    argv[6] = "PREFIX";
    lens[6] = 6;
    argv[7] = (const char *) sub->cache->tok_prefix.data;
    lens[7] = sub->cache->tok_prefix.len;

    if (ngx_http_pit_auth_redis_command(sub->rd, &sub->on_tracking, 8, argv,
                                        lens)
        != NGX_OK)
    {
        return;
    }

    sub->beat_len = ngx_sprintf(sub->beat, "%Vnginx:beat:%L%Z",
                                &sub->cache->prefix, sub->client_id)
                    - sub->beat - 1;

    argv[0] = "SUBSCRIBE";
    lens[0] = 9;
    argv[1] = NGX_HTTP_PIT_AUTH_SUB_CHANNEL;
    lens[1] = sizeof(NGX_HTTP_PIT_AUTH_SUB_CHANNEL) - 1;
    argv[2] = (const char *) sub->beat;
    lens[2] = sub->beat_len;

    if (ngx_http_pit_auth_redis_command(sub->rd, &sub->on_message, 3, argv,
                                        lens)
        != NGX_OK)
    {
        return;
    }

    sub->state = NGX_HTTP_PIT_AUTH_SUB_SUBSCRIBING;
}


static void
ngx_http_pit_auth_sub_tracking(void *data, void *reply)
{
    ngx_http_pit_auth_subscriber_t  *sub = data;

    redisReply  *rp;

    rp = reply;

    if (rp == NULL) {
        ngx_http_pit_auth_sub_down(sub);
        return;
    }

    if (rp->type == REDIS_REPLY_STATUS) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, sub->timer.log, 0,
                  "pit_auth: invalidation subscriber: CLIENT TRACKING "
                  "failed: %*s", (size_t) ngx_min(rp->len, 200),
                  rp->str ? rp->str : "");

    ngx_http_pit_auth_redis_drop(sub->rd, "CLIENT TRACKING failed");
}


/*
 * ["subscribe", channel, n], ["message", channel, keys | nil]: a nil
 * message means FLUSHDB or FLUSHALL.
 */

static void
ngx_http_pit_auth_sub_message(void *data, void *reply)
{
    ngx_http_pit_auth_subscriber_t  *sub = data;

    redisReply                 *rp;
    ngx_http_pit_auth_cache_t  *cache;

    rp = reply;
    cache = sub->cache;

    if (rp == NULL) {
        ngx_http_pit_auth_sub_down(sub);
        return;
    }

    if (rp->type != REDIS_REPLY_ARRAY || rp->elements < 3) {
        return;
    }

    if (ngx_http_pit_auth_reply_is(rp, 0, "subscribe")) {
        ngx_http_pit_auth_sub_subscribed(sub, rp);
        return;
    }

    if (!ngx_http_pit_auth_reply_is(rp, 0, "message")) {
        return;
    }

    if (sub->beat_len
        && ngx_http_pit_auth_reply_is(rp, 1, (const char *) sub->beat))
    {
        ngx_shmtx_lock(&cache->shpool->mutex);

        if (cache->sh->sub_pid == ngx_pid) {
            cache->sh->sub_beat = ngx_http_pit_auth_cache_now();
        }

        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    if (ngx_http_pit_auth_reply_is(rp, 1, NGX_HTTP_PIT_AUTH_SUB_CHANNEL)) {
        ngx_http_pit_auth_sub_invalidate(sub, rp->element[2]);
    }
}


/* keys: an array of key names (one string from older servers), or nil */

static void
ngx_http_pit_auth_sub_invalidate(ngx_http_pit_auth_subscriber_t *sub,
    redisReply *keys)
{
    size_t                      i;
    ngx_http_pit_auth_cache_t  *cache;

    cache = sub->cache;

    if (keys->type == REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_INFO, sub->timer.log, 0,
                      "pit_auth: redis was flushed, flushing zone \"%V\"",
                      &cache->shm_zone->shm.name);

        ngx_shmtx_lock(&cache->shpool->mutex);
        ngx_http_pit_auth_cache_flush(cache);
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    if (keys->type == REDIS_REPLY_STRING) {
        ngx_http_pit_auth_cache_invalidate(cache, (u_char *) keys->str,
                                           keys->len);
        return;
    }

    if (keys->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i < keys->elements; i++) {
        if (keys->element[i]->type == REDIS_REPLY_STRING) {
            ngx_http_pit_auth_cache_invalidate(cache,
                                          (u_char *) keys->element[i]->str,
                                          keys->element[i]->len);
        }
    }
}


/*
 * Subscribed: entries fetched while nobody listened may be stale, so the
 * zone is flushed, unless a live predecessor (the worker 0 of the cycle
 * before a reload) listened until now.
 */

static void
ngx_http_pit_auth_sub_subscribed(ngx_http_pit_auth_subscriber_t *sub,
    redisReply *rp)
{
    int64_t                           now;
    ngx_uint_t                        flush;
    ngx_http_pit_auth_cache_shctx_t  *sh;

    if (!ngx_http_pit_auth_reply_is(rp, 1, NGX_HTTP_PIT_AUTH_SUB_CHANNEL)
        || sub->state != NGX_HTTP_PIT_AUTH_SUB_SUBSCRIBING)
    {
        return;
    }

    sh = sub->cache->sh;
    now = ngx_http_pit_auth_cache_now();

    ngx_shmtx_lock(&sub->cache->shpool->mutex);

    flush = !(sh->sub_up && sh->sub_pid != ngx_pid
              && ngx_http_pit_auth_cache_sure(sh, now)
              && kill(sh->sub_pid, 0) == 0);

    if (flush) {
        ngx_http_pit_auth_cache_flush(sub->cache);
    }

    sh->sub_up = 1;
    sh->sub_pid = ngx_pid;
    sh->sub_read_gen = sub->read_gen;
    sh->sub_beat = now;
    sh->sub_epoch++;

    ngx_shmtx_unlock(&sub->cache->shpool->mutex);

    sub->state = NGX_HTTP_PIT_AUTH_SUB_UP;

    /* what a probe would tell no longer matters: nothing older is left */

    if (sub->probing) {
        sub->probing = 0;

        if (sub->probe.timer_set) {
            ngx_del_timer(&sub->probe);
        }
    }

    ngx_log_error(NGX_LOG_INFO, sub->timer.log, 0,
                  "pit_auth: invalidation subscriber up for \"%V\"%s",
                  &sub->cache->shm_zone->shm.name,
                  flush ? ", zone flushed" : "");
}


/*
 * The subscriber is gone: every worker must stop trusting the zone, and
 * invalidations may have been lost from now on.  Cached entries may still
 * be served stale only if Redis itself went away, since a Redis that is
 * unreachable changes nothing: lookups failing already explain the drop;
 * otherwise stale answers stop until a PING on the lookup pool fails.
 * The PING decides in both cases: an answer proves Redis alive after the
 * drop, and stale answers from entries fetched before it stop for good
 * (until a new subscription flushes the zone anyway).
 */

static void
ngx_http_pit_auth_sub_down(ngx_http_pit_auth_subscriber_t *sub)
{
    ngx_uint_t                        was, ours, explained;
    ngx_http_pit_auth_cache_shctx_t  *sh;

    if (sub->state == NGX_HTTP_PIT_AUTH_SUB_DOWN) {
        return;
    }

    was = (sub->state == NGX_HTTP_PIT_AUTH_SUB_UP);
    sub->state = NGX_HTTP_PIT_AUTH_SUB_DOWN;

    sh = sub->cache->sh;
    explained = 0;

    ngx_shmtx_lock(&sub->cache->shpool->mutex);

    ours = (sh->sub_pid == ngx_pid);

    if (ours) {
        sh->sub_up = 0;
        sh->sub_epoch++;
    }

    if (ours && was) {
        explained = (sh->failing != 0);

        sub->probe_epoch = sh->sub_epoch;
        sub->stale_from = sh->stale_from;

        if (!explained) {
            sh->stale_from = sh->sub_epoch;
        }
    }

    ngx_shmtx_unlock(&sub->cache->shpool->mutex);

    if (!was || sub->exiting) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, sub->timer.log, 0,
                  "pit_auth: invalidation subscriber for \"%V\" lost; "
                  "entries are honoured for %d ms after their fetch%s",
                  &sub->cache->shm_zone->shm.name,
                  NGX_HTTP_PIT_AUTH_CACHE_UNSURE,
                  explained ? ", redis lookups were failing"
                            : ", none served stale unless redis is down");

    if (ours) {
        ngx_http_pit_auth_sub_probe(sub);
    }
}


/* Never blocks: the PING is queued, its answer or its timer decides. */

static void
ngx_http_pit_auth_sub_probe(ngx_http_pit_auth_subscriber_t *sub)
{
    size_t       lens[1];
    const char  *argv[1];

    sub->probing = 1;

    argv[0] = "PING";
    lens[0] = 4;

    if (ngx_http_pit_auth_redis_command(sub->cache->backend, &sub->on_probe,
                                        1, argv, lens)
        != NGX_OK)
    {
        ngx_http_pit_auth_sub_probe_end(sub, 0, "lookup connection down");
        return;
    }

    ngx_add_timer(&sub->probe, NGX_HTTP_PIT_AUTH_SUB_PROBE);
}


/* Any reply, even an error, is Redis reading a command after the drop. */

static void
ngx_http_pit_auth_sub_probed(void *data, void *reply)
{
    ngx_http_pit_auth_subscriber_t  *sub = data;

    /* a late reply to a probe already decided, or to an older one */

    if (!sub->probing || sub->exiting) {
        return;
    }

    ngx_http_pit_auth_sub_probe_end(sub, reply != NULL,
                                    reply ? NULL : "connection lost");
}


static void
ngx_http_pit_auth_sub_probe_timer(ngx_event_t *ev)
{
    ngx_http_pit_auth_subscriber_t  *sub = ev->data;

    if (sub->probing) {
        ngx_http_pit_auth_sub_probe_end(sub, 0, "timed out");
    }
}


static void
ngx_http_pit_auth_sub_probe_end(ngx_http_pit_auth_subscriber_t *sub,
    ngx_uint_t alive, const char *why)
{
    ngx_uint_t                        ours;
    ngx_http_pit_auth_cache_shctx_t  *sh;

    sub->probing = 0;

    if (sub->probe.timer_set) {
        ngx_del_timer(&sub->probe);
    }

    sh = sub->cache->sh;

    ngx_shmtx_lock(&sub->cache->shpool->mutex);

    /* only while the drop it was about is the zone's last word */

    ours = (sh->sub_pid == ngx_pid && !sh->sub_up);

    if (ours && alive && sh->stale_from < sub->probe_epoch) {
        sh->stale_from = sub->probe_epoch;
    }

    if (ours && !alive && sh->stale_from == sub->probe_epoch) {
        sh->stale_from = sub->stale_from;
    }

    ngx_shmtx_unlock(&sub->cache->shpool->mutex);

    if (!ours) {
        return;
    }

    if (alive) {
        ngx_log_error(NGX_LOG_WARN, sub->timer.log, 0,
                      "pit_auth: redis %V answers though the invalidation "
                      "subscriber for \"%V\" was lost: invalidations may "
                      "have been lost, entries cached until then are not "
                      "served stale",
                      ngx_http_pit_auth_redis_name(sub->cache->backend),
                      &sub->cache->shm_zone->shm.name);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, sub->timer.log, 0,
                  "pit_auth: redis %V did not answer (%s) when the "
                  "invalidation subscriber for \"%V\" was lost: entries "
                  "cached while it was up may be served stale",
                  ngx_http_pit_auth_redis_name(sub->cache->backend), why,
                  &sub->cache->shm_zone->shm.name);
}


/*
 * Every beat: a set-up that takes too long, or a subscription that stopped
 * hearing its own heartbeat, is torn down and made again.
 */

static void
ngx_http_pit_auth_sub_timer(ngx_event_t *ev)
{
    ngx_http_pit_auth_subscriber_t  *sub = ev->data;

    size_t       lens[3];
    int64_t      now, beat;
    const char  *argv[3];

    now = ngx_http_pit_auth_cache_now();

    /* lookups moved to another server: listen there (a new subscription
     * flushes the zone) */

    (void) ngx_http_pit_auth_redis_follow(sub->rd);

    if ((sub->state == NGX_HTTP_PIT_AUTH_SUB_ID
         || sub->state == NGX_HTTP_PIT_AUTH_SUB_SUBSCRIBING)
        && now - sub->started > NGX_HTTP_PIT_AUTH_SUB_SETUP)
    {
        ngx_http_pit_auth_redis_drop(sub->rd, "subscribing timed out");
    }

    if (sub->state == NGX_HTTP_PIT_AUTH_SUB_UP) {
        ngx_shmtx_lock(&sub->cache->shpool->mutex);
        beat = sub->cache->sh->sub_beat;
        ngx_shmtx_unlock(&sub->cache->shpool->mutex);

        if (now - beat > NGX_HTTP_PIT_AUTH_SUB_DEAD) {
            ngx_http_pit_auth_redis_drop(sub->rd, "heartbeat lost");

        } else {
            argv[0] = "PUBLISH";
            lens[0] = 7;
            argv[1] = (const char *) sub->beat;
            lens[1] = sub->beat_len;
            argv[2] = "1";
            lens[2] = 1;

            (void) ngx_http_pit_auth_redis_command(sub->cache->backend, NULL,
                                                   3, argv, lens);
        }
    }

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(ev, NGX_HTTP_PIT_AUTH_SUB_BEAT);
    }
}


static ngx_uint_t
ngx_http_pit_auth_reply_is(redisReply *rp, size_t i, const char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    return i < rp->elements
           && rp->element[i]->type == REDIS_REPLY_STRING
           && rp->element[i]->len == len
           && ngx_strncasecmp((u_char *) rp->element[i]->str, (u_char *) s,
                              len) == 0;
}
