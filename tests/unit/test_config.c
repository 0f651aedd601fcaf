/*
 * Unit tests for core/pit_config.c: Redis URLs and durations.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pit_config.h"

/* Length of a string literal, embedded NULs included. */
#define LIT(s)   s, (sizeof(s) - 1)

/* -----------------------------------------------------------------------------
 * Redis URLs
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *s;
    int          unix_socket;
    const char  *host;
    int          port;
    const char  *path;
    const char  *user;
    const char  *password;
    int          db;
} url_case_t;

static const url_case_t url_good[] = {
    { "redis://localhost",            0, "localhost", 6379, "", "", "", 0 },
    { "redis://127.0.0.1:6380/2",     0, "127.0.0.1", 6380, "", "", "", 2 },
    { "REDIS://Host.Example",         0, "Host.Example", 6379, "", "", "",
      0 },
    { "redis://h/",                   0, "h", 6379, "", "", "", 0 },
    { "redis://h:1/999999",           0, "h", 1, "", "", "", 999999 },
    { "redis://h:65535/007",          0, "h", 65535, "", "", "", 7 },
    { "redis://my-host_1.lan",        0, "my-host_1.lan", 6379, "", "", "",
      0 },
    { "redis://[::1]",                0, "::1", 6379, "", "", "", 0 },
    { "redis://[::1]:6390/4",         0, "::1", 6390, "", "", "", 4 },
    { "redis://[2001:DB8::7]:1",      0, "2001:DB8::7", 1, "", "", "", 0 },
    { "redis://[::ffff:10.0.0.1]",    0, "::ffff:10.0.0.1", 6379, "", "",
      "", 0 },
    { "redis://u:p@h",                0, "h", 6379, "", "u", "p", 0 },
    { "redis://user:p%40ss%3A%2f@h",  0, "h", 6379, "", "user", "p@ss:/",
      0 },
    { "redis://%75ser:x@h",           0, "h", 6379, "", "user", "x", 0 },
    { "redis://:secret@h:7/1",        0, "h", 7, "", "", "secret", 1 },
    { "redis://secret@h",             0, "h", 6379, "", "", "secret", 0 },
    { "redis://u:p:q@h",              0, "h", 6379, "", "u", "p:q", 0 },
    { "redis://u:p@ss@h",             0, "h", 6379, "", "u", "p@ss", 0 },
    { "redis://u:%E2%82%AC@[::1]:9",  0, "::1", 9, "", "u", "\xe2\x82\xac",
      0 },
    { "redis://u:@h",                 0, "h", 6379, "", "u", "", 0 },
    { "unix:///run/redis.sock",       1, "", 0, "/run/redis.sock", "", "",
      0 },
    { "UNIX:///tmp/r.sock?db=15",     1, "", 0, "/tmp/r.sock", "", "", 15 },
};

static void test_url_parses_good_urls(void **state) {
    pit_redis_url_t  u;
    size_t           i;

    (void) state;
    for (i = 0; i < sizeof(url_good) / sizeof(url_good[0]); i++) {
        const url_case_t  *c = &url_good[i];
        pit_err_t          rc = pit_redis_url_parse(c->s, strlen(c->s), &u);

        if (rc != PIT_OK) fail_msg("url: \"%s\" rejected", c->s);
        if (u.unix_socket != c->unix_socket || u.port != c->port
            || u.db != c->db || strcmp(u.host, c->host) != 0
            || strcmp(u.path, c->path) != 0 || strcmp(u.user, c->user) != 0
            || strcmp(u.password, c->password) != 0)
        {
            fail_msg("url: \"%s\" gave unix=%d host=\"%s\" port=%d "
                     "path=\"%s\" user=\"%s\" password=\"%s\" db=%d",
                     c->s, u.unix_socket, u.host, u.port, u.path, u.user,
                     u.password, u.db);
        }
    }
}

typedef struct {
    const char  *what;
    const char  *s;
    size_t       len;
} bad_case_t;

static const bad_case_t url_bad[] = {
    { "empty",                 LIT("") },
    { "scheme only",           LIT("redis://") },
    { "no host",               LIT("redis://:6379") },
    { "no host, creds",        LIT("redis://u:p@") },
    { "empty port",            LIT("redis://h:") },
    { "port 0",                LIT("redis://h:0") },
    { "port 65536",            LIT("redis://h:65536") },
    { "port 6 digits",         LIT("redis://h:000001") },
    { "negative port",         LIT("redis://h:-1") },
    { "port with letters",     LIT("redis://h:63a9") },
    { "two ports",             LIT("redis://h:1:2") },
    { "db not a number",       LIT("redis://h/x") },
    { "db 1000000",            LIT("redis://h/1000000") },
    { "db negative",           LIT("redis://h/-1") },
    { "db then path",          LIT("redis://h/1/2") },
    { "double slash",          LIT("redis://h//1") },
    { "query on tcp",          LIT("redis://h?db=1") },
    { "query after db",        LIT("redis://h/1?x=1") },
    { "fragment",              LIT("redis://h/1#x") },
    { "tls scheme",            LIT("rediss://h") },
    { "http scheme",           LIT("http://h") },
    { "one slash",             LIT("redis:/h") },
    { "no scheme",             LIT("localhost:6379") },
    { "space in host",         LIT("redis://ho st") },
    { "trailing space",        LIT("redis://h ") },
    { "leading space",         LIT(" redis://h") },
    { "tab",                   LIT("redis://h\t") },
    { "non-ASCII host",        LIT("redis://h\xc3\xa9") },
    { "embedded NUL",          LIT("redis://h\0x") },
    { "host with comma",       LIT("redis://a,b") },
    { "unclosed bracket",      LIT("redis://[::1") },
    { "empty brackets",        LIT("redis://[]") },
    { "IPv4 in brackets",      LIT("redis://[127.0.0.1]") },
    { "zone id",               LIT("redis://[fe80::1%25eth0]") },
    { "junk after bracket",    LIT("redis://[::1]x") },
    { "empty port after v6",   LIT("redis://[::1]:") },
    { "raw space in password", LIT("redis://u:p w@h") },
    { "control in password",   LIT("redis://u:p\x01@h") },
    { "raw UTF-8 in password", LIT("redis://u:p\xc3\xa9@h") },
    { "space in socket path",  LIT("unix:///tmp/a b") },
    { "bad escape",            LIT("redis://u:%zz@h") },
    { "short escape",          LIT("redis://u:%4@h") },
    { "escape at end",         LIT("redis://u:%@h") },
    { "decoded NUL",           LIT("redis://u:%00@h") },
    { "unix, no path",         LIT("unix://") },
    { "unix, root only",       LIT("unix:///") },
    { "unix, relative",        LIT("unix://run/redis.sock") },
    { "unix, empty db",        LIT("unix:///p?db=") },
    { "unix, bad db",          LIT("unix:///p?db=x") },
    { "unix, other query",     LIT("unix:///p?foo=1") },
    { "unix, two params",      LIT("unix:///p?db=1&x=2") },
    { "unix, uppercase key",   LIT("unix:///p?DB=1") },
    { "unix, big db",          LIT("unix:///p?db=1000000") },
};

static void test_url_rejects_bad_urls(void **state) {
    pit_redis_url_t  u;
    size_t           i;

    (void) state;
    for (i = 0; i < sizeof(url_bad) / sizeof(url_bad[0]); i++) {
        const bad_case_t *c = &url_bad[i];

        if (pit_redis_url_parse(c->s, c->len, &u) != PIT_ERR_URL)
            fail_msg("url: %s accepted", c->what);
    }
}

static void test_url_bounds_host_path_and_credentials(void **state) {
    pit_redis_url_t   u;
    char             *s = malloc(2048);
    int               n;

    (void) state;
    assert_non_null(s);

    /* Host: 255 characters fit, 256 do not. */
    n = snprintf(s, 2048, "redis://%0255d", 0);
    assert_int_equal(pit_redis_url_parse(s, (size_t) n, &u), PIT_OK);
    assert_int_equal(strlen(u.host), 255);
    n = snprintf(s, 2048, "redis://%0256d", 0);
    assert_int_equal(pit_redis_url_parse(s, (size_t) n, &u), PIT_ERR_URL);

    /* Socket path: 107 bytes fit (sun_path), 108 do not. */
    n = snprintf(s, 2048, "unix:///%0106d", 0);
    assert_int_equal(pit_redis_url_parse(s, (size_t) n, &u), PIT_OK);
    assert_int_equal(strlen(u.path), 107);
    n = snprintf(s, 2048, "unix:///%0107d", 0);
    assert_int_equal(pit_redis_url_parse(s, (size_t) n, &u), PIT_ERR_URL);

    /* Password: 255 decoded bytes fit however long the encoding is. */
    memcpy(s, "redis://:", 9);
    for (n = 0; n < 255; n++) memcpy(s + 9 + 3 * n, "%41", 3);
    memcpy(s + 9 + 3 * 255, "@h", 3);
    assert_int_equal(pit_redis_url_parse(s, strlen(s), &u), PIT_OK);
    assert_int_equal(strlen(u.password), 255);
    memcpy(s + 9 + 3 * 255, "A@h", 4);
    assert_int_equal(pit_redis_url_parse(s, strlen(s), &u), PIT_ERR_URL);
    free(s);
}

static void test_url_reads_only_len_bytes(void **state) {
    pit_redis_url_t u;

    (void) state;
    assert_int_equal(pit_redis_url_parse("redis://h:1234garbage", 14, &u),
                     PIT_OK);
    assert_int_equal(u.port, 1234);
}

static void test_url_resets_fields_between_parses(void **state) {
    pit_redis_url_t u;

    (void) state;
    assert_int_equal(pit_redis_url_parse(LIT("unix:///p?db=3"), &u), PIT_OK);
    assert_int_equal(pit_redis_url_parse(LIT("redis://u:p@h"), &u), PIT_OK);
    assert_int_equal(u.unix_socket, 0);
    assert_string_equal(u.path, "");
    assert_int_equal(u.db, 0);
    assert_int_equal(pit_redis_url_parse(LIT("redis://h"), &u), PIT_OK);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");
}

/* -----------------------------------------------------------------------------
 * Sentinel URLs
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *s;
    size_t       nsentinels;
    const char  *hosts[3];
    int          ports[3];
    const char  *master;
    int          db;
    const char  *user;
    const char  *password;
    const char  *sentinel_user;
    const char  *sentinel_password;
} sentinel_case_t;

static const sentinel_case_t sentinel_good[] = {
    { "redis-sentinel://127.0.0.1:26379/m", 1, { "127.0.0.1" }, { 26379 },
      "m", 0, "", "", "", "" },
    { "redis-sentinel://s1/mymaster", 1, { "s1" }, { 26379 },
      "mymaster", 0, "", "", "", "" },
    { "REDIS-SENTINEL://a:1,b:2,c:3/m.1_x-y/5", 3, { "a", "b", "c" },
      { 1, 2, 3 }, "m.1_x-y", 5, "", "", "", "" },
    { "redis-sentinel://[::1]:26379,[2001:db8::2]/m/", 2,
      { "::1", "2001:db8::2" }, { 26379, 26379 }, "m", 0, "", "", "", "" },
    { "redis-sentinel://[::1]:26380,h:7/m/3", 2, { "::1", "h" },
      { 26380, 7 }, "m", 3, "", "", "", "" },
    { "redis-sentinel://pit-admin:p%40ss%2C%2F@h1:1,h2:2/m", 2,
      { "h1", "h2" }, { 1, 2 }, "m", 0, "pit-admin", "p@ss,/", "", "" },
    { "redis-sentinel://:data@h/m", 1, { "h" }, { 26379 }, "m", 0, "",
      "data", "", "" },
    { "redis-sentinel://h/m?sentinel_password=s%26cret", 1, { "h" },
      { 26379 }, "m", 0, "", "", "", "s&cret" },
    { "redis-sentinel://u:p@h:9/m/2?sentinel_user=su&sentinel_password=sp",
      1, { "h" }, { 9 }, "m", 2, "u", "p", "su", "sp" },
    { "redis-sentinel://h/m?sentinel_password=sp&sentinel_user=s%75", 1,
      { "h" }, { 26379 }, "m", 0, "", "", "su", "sp" },
    { "redis-sentinel://h/m?sentinel_password=", 1, { "h" }, { 26379 },
      "m", 0, "", "", "", "" },
};

static void test_sentinel_url_parses_every_form(void **state) {
    pit_redis_url_t  u;
    size_t           i, j;

    (void) state;
    for (i = 0; i < sizeof(sentinel_good) / sizeof(sentinel_good[0]); i++) {
        const sentinel_case_t  *c = &sentinel_good[i];

        if (pit_redis_url_parse(c->s, strlen(c->s), &u) != PIT_OK)
            fail_msg("url: \"%s\" rejected", c->s);
        if (!u.sentinel || u.unix_socket || u.nsentinels != c->nsentinels
            || strcmp(u.master, c->master) != 0 || u.db != c->db
            || strcmp(u.user, c->user) != 0
            || strcmp(u.password, c->password) != 0
            || strcmp(u.sentinel_user, c->sentinel_user) != 0
            || strcmp(u.sentinel_password, c->sentinel_password) != 0)
        {
            fail_msg("url: \"%s\" gave %zu sentinels master=\"%s\" db=%d "
                     "user=\"%s\" password=\"%s\" sentinel_user=\"%s\" "
                     "sentinel_password=\"%s\"", c->s, u.nsentinels,
                     u.master, u.db, u.user, u.password, u.sentinel_user,
                     u.sentinel_password);
        }
        for (j = 0; j < c->nsentinels; j++) {
            if (strcmp(u.sentinels[j].host, c->hosts[j]) != 0
                || u.sentinels[j].port != c->ports[j])
            {
                fail_msg("url: \"%s\": sentinel %zu is %s:%d", c->s, j,
                         u.sentinels[j].host, u.sentinels[j].port);
            }
        }
    }
}

static const bad_case_t sentinel_bad[] = {
    { "missing master",        LIT("redis-sentinel://h:26379") },
    { "missing master, slash", LIT("redis-sentinel://h:26379/") },
    { "empty master, db",      LIT("redis-sentinel://h//1") },
    { "master with space",     LIT("redis-sentinel://h/m x") },
    { "master with comma",     LIT("redis-sentinel://h/m,n") },
    { "master with %",         LIT("redis-sentinel://h/m%41") },
    { "empty host list",       LIT("redis-sentinel:///m") },
    { "empty host list, auth", LIT("redis-sentinel://u:p@/m") },
    { "empty host in list",    LIT("redis-sentinel://a:1,,b:2/m") },
    { "trailing comma",        LIT("redis-sentinel://a:1,/m") },
    { "leading comma",         LIT("redis-sentinel://,a:1/m") },
    { "bad port",              LIT("redis-sentinel://h:26x79/m") },
    { "port 0",                LIT("redis-sentinel://h:0/m") },
    { "port 65536",            LIT("redis-sentinel://a:1,h:65536/m") },
    { "empty port",            LIT("redis-sentinel://h:/m") },
    { "v6 without brackets",   LIT("redis-sentinel://::1:26379/m") },
    { "v6 unclosed",           LIT("redis-sentinel://[::1:26379/m") },
    { "bad db",                LIT("redis-sentinel://h/m/x") },
    { "db then path",          LIT("redis-sentinel://h/m/1/2") },
    { "db too big",            LIT("redis-sentinel://h/m/1000000") },
    { "unknown query key",     LIT("redis-sentinel://h/m?db=1") },
    { "query key, no value",   LIT("redis-sentinel://h/m?sentinel_user") },
    { "bare question mark",    LIT("redis-sentinel://h/m?") },
    { "trailing ampersand",
      LIT("redis-sentinel://h/m?sentinel_password=p&") },
    { "user twice",
      LIT("redis-sentinel://h/m?sentinel_user=a&sentinel_user=b"
          "&sentinel_password=p") },
    { "password twice",
      LIT("redis-sentinel://h/m?sentinel_password=a&sentinel_password=b") },
    { "sentinel user alone",   LIT("redis-sentinel://h/m?sentinel_user=a") },
    { "bad escape in query",
      LIT("redis-sentinel://h/m?sentinel_password=%zz") },
    { "decoded NUL in query",
      LIT("redis-sentinel://h/m?sentinel_password=%00") },
    { "bad escape, data",      LIT("redis-sentinel://u:%4@h/m") },
    { "uppercase query key",
      LIT("redis-sentinel://h/m?SENTINEL_PASSWORD=p") },
    { "too many sentinels",
      LIT("redis-sentinel://a,b,c,d,e,f,g,h,i/m") },
    { "space in list",         LIT("redis-sentinel://a, b/m") },
    { "scheme only",           LIT("redis-sentinel://") },
    { "short scheme",          LIT("redis-sentinel:/h/m") },
    { "sentinel, tls",         LIT("rediss-sentinel://h/m") },
};

static void test_sentinel_url_rejects_each_error(void **state) {
    pit_redis_url_t  u;
    size_t           i;

    (void) state;
    for (i = 0; i < sizeof(sentinel_bad) / sizeof(sentinel_bad[0]); i++) {
        const bad_case_t *c = &sentinel_bad[i];

        if (pit_redis_url_parse(c->s, c->len, &u) != PIT_ERR_URL)
            fail_msg("url: %s accepted", c->what);
    }
}

static void test_sentinel_url_bounds_list_and_master(void **state) {
    pit_redis_url_t   u;
    char              s[512];
    int               n;

    (void) state;

    /* Eight sentinels fit, nine do not (the bad table has nine too). */
    assert_int_equal(pit_redis_url_parse(
        LIT("redis-sentinel://a,b,c,d,e,f,g,h/m"), &u), PIT_OK);
    assert_int_equal(u.nsentinels, 8);
    assert_string_equal(u.sentinels[7].host, "h");

    /* Master name: 64 characters fit, 65 do not. */
    n = snprintf(s, sizeof(s), "redis-sentinel://h/%064d", 0);
    assert_int_equal(pit_redis_url_parse(s, (size_t) n, &u), PIT_OK);
    assert_int_equal(strlen(u.master), 64);
    n = snprintf(s, sizeof(s), "redis-sentinel://h/%065d", 0);
    assert_int_equal(pit_redis_url_parse(s, (size_t) n, &u), PIT_ERR_URL);
}

static void test_sentinel_url_fields_reset_by_other_schemes(void **state) {
    pit_redis_url_t u;

    (void) state;
    assert_int_equal(pit_redis_url_parse(
        LIT("redis-sentinel://a,b/m?sentinel_password=x"), &u), PIT_OK);
    assert_int_equal(pit_redis_url_parse(LIT("redis://h"), &u), PIT_OK);
    assert_int_equal(u.sentinel, 0);
    assert_int_equal(u.nsentinels, 0);
    assert_string_equal(u.master, "");
    assert_string_equal(u.sentinel_password, "");
}

/* -----------------------------------------------------------------------------
 * Durations
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *s;
    int64_t      ms;
} dur_case_t;

static const dur_case_t dur_good[] = {
    { "7d",             7LL * 86400000 },
    { "36h",            36LL * 3600000 },
    { "90m",            90LL * 60000 },
    { "45s",            45000 },
    { "250ms",          250 },
    { "1ms",            1 },
    { "007d",           7LL * 86400000 },
    { "3650d",          3650LL * 86400000 },
    { "87600h",         87600LL * 3600000 },
    { "315360000000ms", 315360000000LL },
};

static void test_duration_parses_each_unit(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(dur_good) / sizeof(dur_good[0]); i++) {
        int64_t ms = -1;

        if (pit_duration_parse(dur_good[i].s, strlen(dur_good[i].s), &ms)
            != PIT_OK || ms != dur_good[i].ms)
        {
            fail_msg("duration: \"%s\" gave %lld", dur_good[i].s,
                     (long long) ms);
        }
    }
}

static const bad_case_t dur_bad[] = {
    { "empty",              LIT("") },
    { "unit only",          LIT("d") },
    { "ms only",            LIT("ms") },
    { "no unit",            LIT("60") },
    { "zero days",          LIT("0d") },
    { "zero ms",            LIT("0ms") },
    { "uppercase unit",     LIT("7D") },
    { "space inside",       LIT("7 d") },
    { "leading space",      LIT(" 7d") },
    { "trailing space",     LIT("7d ") },
    { "negative",           LIT("-7d") },
    { "plus sign",          LIT("+7d") },
    { "fraction",           LIT("1.5h") },
    { "two units",          LIT("1d2h") },
    { "unit twice",         LIT("7dd") },
    { "weeks",              LIT("1w") },
    { "years",              LIT("1y") },
    { "just over 10 years", LIT("3651d") },
    { "hours over bound",   LIT("87601h") },
    { "ms over bound",      LIT("315360000001ms") },
    { "huge",               LIT("99999999999999999999999d") },
    { "embedded NUL",       LIT("7d\0") },
    { "non-ASCII",          LIT("7\xc3\xa9") },
};

static void test_duration_rejects_bad_input(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(dur_bad) / sizeof(dur_bad[0]); i++) {
        int64_t ms = 42;

        if (pit_duration_parse(dur_bad[i].s, dur_bad[i].len, &ms)
            != PIT_ERR_DURATION)
        {
            fail_msg("duration: %s accepted", dur_bad[i].what);
        }
        assert_int_equal(ms, 42);
    }
}

typedef struct {
    int64_t      ms;
    const char  *text;
} fmt_case_t;

#define SEC   1000LL
#define MIN   (60 * SEC)
#define HOUR  (60 * MIN)
#define DAY   (24 * HOUR)

static const fmt_case_t fmt_cases[] = {
    { 0,                          "0 seconds" },
    { -5 * DAY,                   "0 seconds" },
    { 999,                        "0 seconds" },
    { SEC,                        "1 second" },
    { 40 * SEC + 999,             "40 seconds" },
    { MIN,                        "1 minute" },
    { MIN + SEC,                  "1 minute 1 second" },
    { 59 * MIN + 59 * SEC,        "59 minutes 59 seconds" },
    { 5 * HOUR + 2 * MIN + 9 * SEC, "5 hours 2 minutes" },
    { HOUR + 30 * SEC,            "1 hour" },
    { DAY + HOUR,                 "1 day 1 hour" },
    { 7 * DAY - MIN,              "6 days 23 hours" },
    { 7 * DAY,                    "7 days" },
    { 2 * DAY + 5 * MIN,          "2 days" },
    { 90 * DAY + 12 * HOUR,       "90 days 12 hours" },
};

static void test_duration_format_two_largest_units(void **state) {
    char    buf[64];
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
        pit_duration_format(fmt_cases[i].ms, buf, sizeof(buf));
        if (strcmp(buf, fmt_cases[i].text) != 0)
            fail_msg("format: %lld gave \"%s\", want \"%s\"",
                     (long long) fmt_cases[i].ms, buf, fmt_cases[i].text);
    }
}

static void test_duration_format_truncates_to_cap(void **state) {
    char buf[16];

    (void) state;
    memset(buf, 'x', sizeof(buf));
    pit_duration_format(7 * DAY - MIN, buf, 5);
    assert_string_equal(buf, "6 da");
    assert_int_equal(buf[5], 'x');

    memset(buf, 'x', sizeof(buf));
    pit_duration_format(7 * DAY - MIN, buf, 9);
    assert_string_equal(buf, "6 days 2");

    memset(buf, 'x', sizeof(buf));
    pit_duration_format(7 * DAY - MIN, buf, 0);
    assert_int_equal(buf[0], 'x');
}

static void test_duration_format_handles_int64_max(void **state) {
    char buf[64];

    (void) state;
    pit_duration_format(INT64_MAX, buf, sizeof(buf));
    assert_string_equal(buf, "106751991167 days 7 hours");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parses_good_urls),
        cmocka_unit_test(test_url_rejects_bad_urls),
        cmocka_unit_test(test_url_bounds_host_path_and_credentials),
        cmocka_unit_test(test_url_reads_only_len_bytes),
        cmocka_unit_test(test_url_resets_fields_between_parses),
        cmocka_unit_test(test_sentinel_url_parses_every_form),
        cmocka_unit_test(test_sentinel_url_rejects_each_error),
        cmocka_unit_test(test_sentinel_url_bounds_list_and_master),
        cmocka_unit_test(test_sentinel_url_fields_reset_by_other_schemes),
        cmocka_unit_test(test_duration_parses_each_unit),
        cmocka_unit_test(test_duration_rejects_bad_input),
        cmocka_unit_test(test_duration_format_two_largest_units),
        cmocka_unit_test(test_duration_format_truncates_to_cap),
        cmocka_unit_test(test_duration_format_handles_int64_max),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
