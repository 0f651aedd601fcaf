
/*
 * pit-auth: counters shared by all workers of one nginx.
 *
 * A zone of its own, declared whenever the module is in use, holds the
 * number of decisions per status code and a small table of error lines
 * recently written, one slot per key (a backend's configured name).  The
 * request path only ever does one atomic increment: no mutex, no slab
 * allocation after the zone is made.
 *
 * The throttle lets one line per key and second through, for all workers
 * together: the first to move a slot's second stamp forward (compare and
 * swap) writes, and takes the count of the lines the others left out
 * since, for its own line to say.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_pit_auth_counters.h"


#define NGX_HTTP_PIT_AUTH_COUNTERS_ZONE   (32 * 1024)
#define NGX_HTTP_PIT_AUTH_COUNTERS_SLOTS  64
#define NGX_HTTP_PIT_AUTH_COUNTERS_JUMP   60    /* s: the clock was set back */


typedef struct {
    ngx_atomic_t                 key;        /* crc32 of the key; 0: free */
    ngx_atomic_t                 sec;        /* a line was last written */
    ngx_atomic_t                 suppressed; /* lines left out since */
} ngx_http_pit_auth_counters_slot_t;


/* ngx_atomic_t: 64 bits where nginx has 64-bit atomics, else 32 */
typedef struct {
    ngx_atomic_t                 requests[NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES];
    ngx_atomic_t                 suppressed; /* lines, ever */
    ngx_http_pit_auth_counters_slot_t
                                 slots[NGX_HTTP_PIT_AUTH_COUNTERS_SLOTS];
} ngx_http_pit_auth_counters_sh_t;


typedef struct {
    ngx_slab_pool_t             *shpool;
    ngx_http_pit_auth_counters_sh_t  *sh;
} ngx_http_pit_auth_counters_zone_t;


static ngx_int_t ngx_http_pit_auth_counters_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_http_pit_auth_counters_slot_t *ngx_http_pit_auth_counters_slot(
    ngx_http_pit_auth_counters_sh_t *sh, ngx_str_t *key);


static ngx_str_t  ngx_http_pit_auth_counters_name =
    ngx_string("pit_auth_counters");

/* not the module: pit_auth_stats takes zones tagged so for cache zones */
static ngx_uint_t  ngx_http_pit_auth_counters_tag;

/* this worker's view of the running cycle's zone; NULL in the master */
static ngx_http_pit_auth_counters_sh_t  *ngx_http_pit_auth_counters;


ngx_int_t
ngx_http_pit_auth_counters_add(ngx_conf_t *cf)
{
    ngx_shm_zone_t                     *shm_zone;
    ngx_http_pit_auth_counters_zone_t  *zone;

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_pit_auth_counters_name,
                                     NGX_HTTP_PIT_AUTH_COUNTERS_ZONE,
                                     &ngx_http_pit_auth_counters_tag);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    if (shm_zone->data) {
        return NGX_OK;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_pit_auth_counters_zone_t));
    if (zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_pit_auth_counters_init_zone;
    shm_zone->data = zone;

    return NGX_OK;
}


/* A reload keeps the counts: same name, size and tag reuse the zone. */

static ngx_int_t
ngx_http_pit_auth_counters_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_pit_auth_counters_zone_t  *ozone = data;

    ngx_http_pit_auth_counters_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        zone->shpool = ozone->shpool;
        zone->sh = ozone->sh;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_calloc(zone->shpool,
                               sizeof(ngx_http_pit_auth_counters_sh_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    return NGX_OK;
}


void
ngx_http_pit_auth_counters_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                          i;
    ngx_list_part_t                    *part;
    ngx_shm_zone_t                     *shm_zone;
    ngx_http_pit_auth_counters_zone_t  *zone;

    ngx_http_pit_auth_counters = NULL;

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        shm_zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (shm_zone[i].tag == &ngx_http_pit_auth_counters_tag) {
                zone = shm_zone[i].data;
                ngx_http_pit_auth_counters = zone->sh;
                return;
            }
        }
    }
}


/* requests */


void
ngx_http_pit_auth_counters_request(ngx_uint_t status)
{
    if (ngx_http_pit_auth_counters
        && status < NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES)
    {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_pit_auth_counters->requests[status], 1);
    }
}


/*
 * Fills st with every status name once, in the order of their first
 * code, each with the requests of all its codes; returns how many.
 */

ngx_uint_t
ngx_http_pit_auth_counters_requests(ngx_http_pit_auth_counters_status_t *st,
    ngx_uint_t n)
{
    uint64_t    count;
    ngx_str_t  *name;
    ngx_uint_t  i, j, k;

    k = 0;

    for (i = 0; i < NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES; i++) {
        name = ngx_http_pit_auth_status_name(i);

        if (name == NULL) {
            break;
        }

        count = ngx_http_pit_auth_counters
                ? (uint64_t) ngx_http_pit_auth_counters->requests[i] : 0;

        for (j = 0; j < k; j++) {
            if (st[j].name->len == name->len
                && ngx_strncmp(st[j].name->data, name->data, name->len) == 0)
            {
                break;
            }
        }

        if (j == k) {
            if (k == n) {
                continue;
            }

            st[k].name = name;
            st[k].count = 0;
            k++;
        }

        st[j].count += count;
    }

    return k;
}


/* the log throttle */


ngx_uint_t
ngx_http_pit_auth_counters_throttle(ngx_str_t *key, ngx_uint_t *suppressed)
{
    ngx_atomic_uint_t                   now, last, n;
    ngx_http_pit_auth_counters_sh_t    *sh;
    ngx_http_pit_auth_counters_slot_t  *slot;

    *suppressed = 0;
    sh = ngx_http_pit_auth_counters;

    if (sh == NULL) {
        return 1;
    }

    slot = ngx_http_pit_auth_counters_slot(sh, key);

    if (slot == NULL) {
        return 1;
    }

    now = (ngx_atomic_uint_t) ngx_time();
    last = slot->sec;

    /*
     * A worker whose cached time lags a second behind another's must not
     * take the slot back; a clock set back by more than a minute must
     * not silence the key until it catches up.
     */

    if ((now == last
         || (now < last && last - now < NGX_HTTP_PIT_AUTH_COUNTERS_JUMP))
        || !ngx_atomic_cmp_set(&slot->sec, last, now))
    {
        (void) ngx_atomic_fetch_add(&slot->suppressed, 1);
        (void) ngx_atomic_fetch_add(&sh->suppressed, 1);
        return 0;
    }

    do {
        n = slot->suppressed;
    } while (!ngx_atomic_cmp_set(&slot->suppressed, n, 0));

    *suppressed = n;

    return 1;
}


/* Returns the key's slot, taken if need be; NULL when all are taken. */

static ngx_http_pit_auth_counters_slot_t *
ngx_http_pit_auth_counters_slot(ngx_http_pit_auth_counters_sh_t *sh,
    ngx_str_t *key)
{
    uint32_t                            hash;
    ngx_uint_t                          i;
    ngx_http_pit_auth_counters_slot_t  *slot;

    /* two keys of one hash share a slot: a line less, never a line more */

    hash = ngx_crc32_short(key->data, key->len);

    if (hash == 0) {
        hash = 1;
    }

    for (i = 0; i < NGX_HTTP_PIT_AUTH_COUNTERS_SLOTS; i++) {
        slot = &sh->slots[(hash + i) % NGX_HTTP_PIT_AUTH_COUNTERS_SLOTS];

        if (slot->key == 0) {
            (void) ngx_atomic_cmp_set(&slot->key, 0, hash);
        }

        if (slot->key == hash) {
            return slot;
        }
    }

    return NULL;
}


uint64_t
ngx_http_pit_auth_counters_suppressed(void)
{
    return ngx_http_pit_auth_counters
           ? (uint64_t) ngx_http_pit_auth_counters->suppressed : 0;
}
