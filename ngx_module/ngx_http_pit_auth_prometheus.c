
/*
 * pit-auth: pit_auth_stats in Prometheus' text exposition format, 0.0.4.
 *
 * Every family is written whole, HELP and TYPE first, then one sample per
 * status, cache zone or backend; a family with no sample is left out.
 * Label values are the configured names of zones and backends (never a
 * password), escaped as the format asks.  A backend's lag is left out
 * while it is unknown (no server to read, or never heard from), rather
 * than given as NaN: pit_auth_backend_fresh says 0 then.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_pit_auth_fleet.h"
#include "ngx_http_pit_auth_counters.h"
#include "ngx_http_pit_auth_stats.h"
#include "ngx_http_pit_auth_prometheus.h"


#define NGX_HTTP_PIT_AUTH_PROMETHEUS_NAME   "pit_auth_"
#define NGX_HTTP_PIT_AUTH_PROMETHEUS_LINE   (128 + NGX_INT64_LEN)


typedef struct {
    char                        *name;      /* after "pit_auth_" */
    char                        *type;
    char                        *help;
    size_t                       offset;    /* of a uint64_t */
} ngx_http_pit_auth_prometheus_metric_t;


#define NGX_HTTP_PIT_AUTH_ZONE(field)                                         \
    offsetof(ngx_http_pit_auth_stats_zone_t, field)

static ngx_http_pit_auth_prometheus_metric_t
    ngx_http_pit_auth_prometheus_zone_metrics[] =
{
    { "cache_size_bytes", "gauge",
      "Size of the cache zone.", NGX_HTTP_PIT_AUTH_ZONE(size) },
    { "cache_free_bytes", "gauge",
      "Free pages of the cache zone.", NGX_HTTP_PIT_AUTH_ZONE(free) },
    { "cache_entries", "gauge",
      "Tokens held in the cache zone.", NGX_HTTP_PIT_AUTH_ZONE(entries) },
    { "cache_hits_total", "counter",
      "Lookups answered from the cache.", NGX_HTTP_PIT_AUTH_ZONE(c.hits) },
    { "cache_misses_total", "counter",
      "Lookups sent to Redis.", NGX_HTTP_PIT_AUTH_ZONE(c.misses) },
    { "cache_negative_hits_total", "counter",
      "Unknown tokens answered from the cache.",
      NGX_HTTP_PIT_AUTH_ZONE(c.negative_hits) },
    { "cache_stores_total", "counter",
      "Entries stored.", NGX_HTTP_PIT_AUTH_ZONE(c.stores) },
    { "cache_evictions_total", "counter",
      "Entries evicted for room.", NGX_HTTP_PIT_AUTH_ZONE(c.evictions) },
    { "cache_expirations_total", "counter",
      "Entries dropped at the end of their time.",
      NGX_HTTP_PIT_AUTH_ZONE(c.expirations) },
    { "cache_invalidations_total", "counter",
      "Entries dropped on an invalidation message.",
      NGX_HTTP_PIT_AUTH_ZONE(c.invalidations) },
    { "cache_flushes_total", "counter",
      "Whole-zone flushes.", NGX_HTTP_PIT_AUTH_ZONE(c.flushes) },
    { "cache_stale_total", "counter",
      "Lookups answered from a stale entry while Redis failed.",
      NGX_HTTP_PIT_AUTH_ZONE(c.stale) },
    { "cache_stale_refused_total", "counter",
      "Stale entries not used: too old, or the subscriber was down.",
      NGX_HTTP_PIT_AUTH_ZONE(c.stale_refused) },
    { "cache_redis_errors_total", "counter",
      "Lookups that Redis failed.", NGX_HTTP_PIT_AUTH_ZONE(c.redis_errors) },
    { "cache_last_used_writes_total", "counter",
      "Last-used times written to Redis.",
      NGX_HTTP_PIT_AUTH_ZONE(c.last_used_writes) },
    { "cache_last_used_dropped_total", "counter",
      "Last-used times not written.",
      NGX_HTTP_PIT_AUTH_ZONE(c.last_used_dropped) },
    { "cache_subscriber_up", "gauge",
      "1 if the zone's invalidation subscriber is connected and heard "
      "from.", NGX_HTTP_PIT_AUTH_ZONE(up) },
    { NULL, NULL, NULL, 0 }
};


#define NGX_HTTP_PIT_AUTH_FLEET(field)                                        \
    offsetof(ngx_http_pit_auth_fleet_info_t, field)

static ngx_http_pit_auth_prometheus_metric_t
    ngx_http_pit_auth_prometheus_backend_metrics[] =
{
    { "backend_fresh", "gauge",
      "1 if the server read is within the lag bound.",
      NGX_HTTP_PIT_AUTH_FLEET(fresh) },
    { "backend_read_replica", "gauge",
      "1 if reads go to a replica, 0 if to the primary or nowhere yet.",
      NGX_HTTP_PIT_AUTH_FLEET(read_is_replica) },
    { "backend_failovers_total", "counter",
      "Moves of the primary seen.", NGX_HTTP_PIT_AUTH_FLEET(failovers) },
    { "backend_doubts_total", "counter",
      "Times a worker doubted the primary and had the sentinels asked.",
      NGX_HTTP_PIT_AUTH_FLEET(doubts) },
    { "backend_writes_dropped_total", "counter",
      "Writes dropped, no primary known.",
      NGX_HTTP_PIT_AUTH_FLEET(writes_dropped) },
    { NULL, NULL, NULL, 0 }
};


static u_char *ngx_http_pit_auth_prometheus_family(u_char *p, char *name,
    char *type, char *help);
static u_char *ngx_http_pit_auth_prometheus_sample(u_char *p, char *name,
    char *label, ngx_str_t *value);
static u_char *ngx_http_pit_auth_prometheus_backends(u_char *p);
static u_char *ngx_http_pit_auth_prometheus_lag(u_char *p,
    ngx_uint_t nbackends);
static ngx_uint_t ngx_http_pit_auth_prometheus_backends_count(
    size_t *names);


size_t
ngx_http_pit_auth_prometheus_size(ngx_array_t *zones)
{
    size_t                           size, names;
    ngx_uint_t                       i, n, families;
    ngx_http_pit_auth_stats_zone_t  *z;

    families = 2 + 2 + sizeof(ngx_http_pit_auth_prometheus_zone_metrics)
               / sizeof(ngx_http_pit_auth_prometheus_metric_t)
               + sizeof(ngx_http_pit_auth_prometheus_backend_metrics)
               / sizeof(ngx_http_pit_auth_prometheus_metric_t);

    /* a family's two lines; a sample, its label value escaped at worst */

    size = families * 256
           + (NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES + 1)
             * NGX_HTTP_PIT_AUTH_PROMETHEUS_LINE;

    z = zones->elts;

    for (i = 0; i < zones->nelts; i++) {
        size += sizeof(ngx_http_pit_auth_prometheus_zone_metrics)
                / sizeof(ngx_http_pit_auth_prometheus_metric_t)
                * (NGX_HTTP_PIT_AUTH_PROMETHEUS_LINE + 2 * z[i].name->len);
    }

    n = ngx_http_pit_auth_prometheus_backends_count(&names);

    size += (2 + sizeof(ngx_http_pit_auth_prometheus_backend_metrics)
                 / sizeof(ngx_http_pit_auth_prometheus_metric_t))
            * (n * NGX_HTTP_PIT_AUTH_PROMETHEUS_LINE + 2 * names);

    return size;
}


u_char *
ngx_http_pit_auth_prometheus(u_char *p, ngx_array_t *zones)
{
    uint64_t                             *v;
    ngx_uint_t                            i, k, n;
    ngx_http_pit_auth_stats_zone_t       *z;
    ngx_http_pit_auth_prometheus_metric_t  *m;
    ngx_http_pit_auth_counters_status_t
                              st[NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES];

    n = ngx_http_pit_auth_counters_requests(st,
                                      NGX_HTTP_PIT_AUTH_COUNTERS_STATUSES);

    p = ngx_http_pit_auth_prometheus_family(p, "requests_total", "counter",
                                            "Requests decided, by status.");

    for (i = 0; i < n; i++) {
        p = ngx_http_pit_auth_prometheus_sample(p, "requests_total", "status",
                                                st[i].name);
        p = ngx_sprintf(p, " %uL\n", st[i].count);
    }

    p = ngx_http_pit_auth_prometheus_family(p, "log_suppressed_total",
                                            "counter",
                                            "Error lines left out of the log "
                                            "as repeats.");
    p = ngx_sprintf(p, NGX_HTTP_PIT_AUTH_PROMETHEUS_NAME
                    "log_suppressed_total %uL\n",
                    ngx_http_pit_auth_counters_suppressed());

    z = zones->elts;

    for (m = ngx_http_pit_auth_prometheus_zone_metrics;
         m->name && zones->nelts;
         m++)
    {
        p = ngx_http_pit_auth_prometheus_family(p, m->name, m->type,
                                                m->help);

        for (k = 0; k < zones->nelts; k++) {
            v = (uint64_t *) ((u_char *) &z[k] + m->offset);

            p = ngx_http_pit_auth_prometheus_sample(p, m->name, "zone",
                                                    z[k].name);
            p = ngx_sprintf(p, " %uL\n", *v);
        }
    }

    return ngx_http_pit_auth_prometheus_backends(p);
}


static u_char *
ngx_http_pit_auth_prometheus_backends(u_char *p)
{
    size_t                                  names;
    uint64_t                               *v;
    ngx_uint_t                              i, n;
    ngx_http_pit_auth_fleet_info_t          fi;
    ngx_http_pit_auth_prometheus_metric_t  *m;

    n = ngx_http_pit_auth_prometheus_backends_count(&names);

    if (n == 0) {
        return p;
    }

    p = ngx_http_pit_auth_prometheus_lag(p, n);

    for (m = ngx_http_pit_auth_prometheus_backend_metrics; m->name; m++) {
        p = ngx_http_pit_auth_prometheus_family(p, m->name, m->type,
                                                m->help);

        for (i = 0; i < n; i++) {
            if (ngx_http_pit_auth_fleet_info(i, &fi) != NGX_OK) {
                break;
            }

            v = (uint64_t *) ((u_char *) &fi + m->offset);

            p = ngx_http_pit_auth_prometheus_sample(p, m->name, "backend",
                                                    fi.name);
            p = ngx_sprintf(p, " %uL\n", *v);
        }
    }

    return p;
}


/* lag and its bound, in seconds with milliseconds */

static u_char *
ngx_http_pit_auth_prometheus_lag(u_char *p, ngx_uint_t n)
{
    uint64_t                        ms;
    ngx_uint_t                      i, known;
    ngx_http_pit_auth_fleet_info_t  fi;

    known = 0;

    for (i = 0; i < n; i++) {
        if (ngx_http_pit_auth_fleet_info(i, &fi) == NGX_OK && fi.lag >= 0) {
            if (known++ == 0) {
                p = ngx_http_pit_auth_prometheus_family(p,
                        "backend_lag_seconds", "gauge",
                        "How far the server read is behind the primary; "
                        "absent while unknown.");
            }

            ms = (uint64_t) fi.lag;

            p = ngx_http_pit_auth_prometheus_sample(p, "backend_lag_seconds",
                                                    "backend", fi.name);
            p = ngx_sprintf(p, " %uL.%03uL\n", ms / 1000, ms % 1000);
        }
    }

    p = ngx_http_pit_auth_prometheus_family(p, "backend_max_lag_seconds",
                                            "gauge",
                                            "The bound on the lag of the "
                                            "server read.");

    for (i = 0; i < n; i++) {
        if (ngx_http_pit_auth_fleet_info(i, &fi) != NGX_OK) {
            break;
        }

        ms = (uint64_t) fi.max_lag;

        p = ngx_http_pit_auth_prometheus_sample(p, "backend_max_lag_seconds",
                                                "backend", fi.name);
        p = ngx_sprintf(p, " %uL.%03uL\n", ms / 1000, ms % 1000);
    }

    return p;
}


static u_char *
ngx_http_pit_auth_prometheus_family(u_char *p, char *name, char *type,
    char *help)
{
    return ngx_sprintf(p, "# HELP " NGX_HTTP_PIT_AUTH_PROMETHEUS_NAME
                       "%s %s\n# TYPE " NGX_HTTP_PIT_AUTH_PROMETHEUS_NAME
                       "%s %s\n", name, help, name, type);
}


/* name{label="value"}, the value escaped: backslash, quote, newline */

static u_char *
ngx_http_pit_auth_prometheus_sample(u_char *p, char *name, char *label,
    ngx_str_t *value)
{
    u_char  *s, *end;

    p = ngx_sprintf(p, NGX_HTTP_PIT_AUTH_PROMETHEUS_NAME "%s{%s=\"",
                    name, label);

    end = value->data + value->len;

    for (s = value->data; s < end; s++) {
        switch (*s) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = *s;
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = *s;
        }
    }

    *p++ = '"';
    *p++ = '}';

    return p;
}


/* Returns the number of backends; names: the length of all their names. */

static ngx_uint_t
ngx_http_pit_auth_prometheus_backends_count(size_t *names)
{
    ngx_uint_t                      n;
    ngx_http_pit_auth_fleet_info_t  fi;

    *names = 0;

    for (n = 0; ngx_http_pit_auth_fleet_info(n, &fi) == NGX_OK; n++) {
        *names += fi.name->len;
    }

    return n;
}
