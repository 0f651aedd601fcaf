/*
 * pit-auth core: parsing of configuration values given by people:
 * Redis URLs and durations.
 */

#ifndef PIT_CONFIG_H
#define PIT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "pit_error.h"

#define PIT_URL_HOST_MAX   255
#define PIT_URL_PATH_MAX   107         /* sun_path */
#define PIT_URL_CRED_MAX   255
#define PIT_URL_SENTINELS_MAX  8       /* sentinels in one URL */
#define PIT_URL_MASTER_MAX     64      /* a sentinel's master name */
#define PIT_DB_MAX         999999      /* the largest db number accepted */
#define PIT_REDIS_PORT     6379        /* when an address names none */
#define PIT_SENTINEL_PORT  26379

typedef struct {
    char  host[PIT_URL_HOST_MAX + 1];
    int   port;
} pit_redis_addr_t;

typedef struct {
    int   unix_socket;                 /* 1: path is set, host/port unused */
    char  host[PIT_URL_HOST_MAX + 1];
    int   port;
    char  path[PIT_URL_PATH_MAX + 1];
    char  user[PIT_URL_CRED_MAX + 1];  /* "" = none; of the data nodes */
    char  password[PIT_URL_CRED_MAX + 1];
    int   db;                          /* 0-15 is usual; 0..999999 accepted */

    /* redis-sentinel:// only: host/port unused, the primary is asked of
     * sentinels[0..nsentinels) in order. */
    int               sentinel;
    size_t            nsentinels;
    pit_redis_addr_t  sentinels[PIT_URL_SENTINELS_MAX];
    char              master[PIT_URL_MASTER_MAX + 1];
    char              sentinel_user[PIT_URL_CRED_MAX + 1];     /* "" = none */
    char              sentinel_password[PIT_URL_CRED_MAX + 1];
} pit_redis_url_t;

/*
 * Parses "redis://[user:password@]host:port[/db]" (":port" optional,
 * default 6379; host may be "[::1]"; user and password may be
 * percent-encoded), "unix:///path[?db=N]" or
 *
 *   redis-sentinel://[user:password@]host:port[,host:port...]/master[/db]
 *       [?sentinel_user=U&sentinel_password=P]
 *
 * (1 to PIT_URL_SENTINELS_MAX sentinels, ":port" optional, default 26379;
 * master is 1-64 of [A-Za-z0-9._-]; user:password are the data nodes',
 * the query gives the sentinels' own, both percent-encoded).  Returns
 * PIT_OK or PIT_ERR_URL.
 */
pit_err_t pit_redis_url_parse(const char *s, size_t len, pit_redis_url_t *u);

/*
 * Parses a duration: a positive integer followed by one unit, "ms", "s",
 * "m", "h" or "d" ("7d", "36h", "90m", "45s").  Returns PIT_OK with *ms
 * set, or PIT_ERR_DURATION (also for zero and for overflow past 10 years).
 */
pit_err_t pit_duration_parse(const char *s, size_t len, int64_t *ms);

/*
 * Writes a human countdown such as "6 days 23 hours", "5 hours 2 minutes",
 * "40 seconds" (two largest units, "0 seconds" for <= 0) and a NUL.
 */
void pit_duration_format(int64_t ms, char *buf, size_t cap);

#endif /* PIT_CONFIG_H */
