/*
 * pit-auth core: Redis URLs and durations.
 *
 * URL decisions:
 *   - the scheme is "redis://" or "unix://", case-insensitive; TLS
 *     ("rediss://") is not supported and is an error, not a silent
 *     downgrade;
 *   - userinfo ends at the last '@' of the authority; "user:password" is
 *     split at the first ':'; without ':' the whole userinfo is the
 *     password, as redis-cli -u reads it ("redis://secret@host");
 *     both are percent-decoded, and a decoded NUL is an error;
 *   - an IPv6 host is written in brackets and stored without them
 *     ("[::1]" gives "::1"), which is what hiredis wants;
 *   - the path is empty, "/" (db 0) or "/N"; a unix socket takes its
 *     database from "?db=N", the only query accepted;
 *   - any raw byte outside printable ASCII, or a space, is an error;
 *   - "redis-sentinel://" lists 1 to PIT_URL_SENTINELS_MAX sentinels
 *     separated by commas (port 26379 by default) before a mandatory
 *     "/master"; the userinfo belongs to the data nodes (as in redis://),
 *     the sentinels' own credentials come from the query, which accepts
 *     only sentinel_user and sentinel_password, each once, and refuses a
 *     user without a password (AUTH would fail in a less clear way).
 *
 * Durations are "<positive integer><unit>", no sign, no blanks, no
 * fractions.  Formatting truncates: 6 days 23 hours 59 minutes is "6 days
 * 23 hours", as the seed shows a rotation deadline.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pit_config.h"

#define PIT_DURATION_MAX_MS   (3650LL * 24 * 3600 * 1000)     /* 10 years */

/* -----------------------------------------------------------------------------
 * Small parsers
 * -------------------------------------------------------------------------- */

/* Returns 1 if s[0..len) starts with the lowercase word w, ignoring case. */
static int pit_prefix_nocase(const char *s, size_t len, const char *w) {
    size_t i, wlen = strlen(w);

    if (len < wlen) return 0;
    for (i = 0; i < wlen; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c >= 'A' && c <= 'Z') c = (unsigned char) (c - 'A' + 'a');
        if (c != (unsigned char) w[i]) return 0;
    }
    return 1;
}

/*
 * Parses s[0..len) as a decimal number of 1 to digits_max digits.
 * Returns 0 with *v set, or -1.
 */
static int pit_parse_uint(const char *s, size_t len, size_t digits_max,
    long long *v)
{
    size_t     i;
    long long  n = 0;

    if (len == 0 || len > digits_max) return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        n = n * 10 + (s[i] - '0');
    }
    *v = n;
    return 0;
}

/* Returns the value of a hex digit of either case, or -1. */
static int pit_config_hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decodes s[0..len) into out (cap bytes with the NUL).  Returns 0,
 * or -1 on a bad escape, a decoded NUL or overflow.
 */
static int pit_percent_decode(const char *s, size_t len, char *out,
    size_t cap)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3) return -1;
            hi = pit_config_hex((unsigned char) s[i + 1]);
            lo = pit_config_hex((unsigned char) s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -1;
            c = (unsigned char) (hi << 4 | lo);
            i += 2;
        }
        if (n + 1 >= cap) return -1;
        out[n++] = (char) c;
    }
    out[n] = '\0';
    return 0;
}

/* Returns 1 if c may appear in a registered host name, else 0. */
static int pit_host_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* Returns 1 if c may appear inside an IPv6 literal's brackets, else 0. */
static int pit_ipv6_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* -----------------------------------------------------------------------------
 * Redis URLs
 * -------------------------------------------------------------------------- */

/*
 * Parses "host[:port]" or "[v6][:port]" from s[0..len) into host (of
 * PIT_URL_HOST_MAX + 1 bytes) and *port (default_port without ":port").
 * Returns PIT_OK or PIT_ERR_URL.
 */
static pit_err_t pit_url_host_port(const char *s, size_t len, char *out,
    int *out_port, int default_port)
{
    const char  *host, *port = NULL, *rb;
    size_t       host_len, port_len = 0, i;
    long long    v;

    if (len > 0 && s[0] == '[') {
        rb = memchr(s, ']', len);
        if (rb == NULL) return PIT_ERR_URL;
        host = s + 1;
        host_len = (size_t) (rb - host);
        if (host_len == 0 || memchr(host, ':', host_len) == NULL)
            return PIT_ERR_URL;
        for (i = 0; i < host_len; i++) {
            if (!pit_ipv6_char((unsigned char) host[i])) return PIT_ERR_URL;
        }
        if (rb + 1 < s + len) {
            if (rb[1] != ':') return PIT_ERR_URL;
            port = rb + 2;
            port_len = (size_t) (s + len - port);
        }
    } else {
        const char *colon = memchr(s, ':', len);

        host = s;
        host_len = colon ? (size_t) (colon - s) : len;
        if (host_len == 0) return PIT_ERR_URL;
        for (i = 0; i < host_len; i++) {
            if (!pit_host_char((unsigned char) host[i])) return PIT_ERR_URL;
        }
        if (colon != NULL) {
            port = colon + 1;
            port_len = (size_t) (s + len - port);
        }
    }

    if (host_len > PIT_URL_HOST_MAX) return PIT_ERR_URL;
    memcpy(out, host, host_len);
    out[host_len] = '\0';

    *out_port = default_port;
    if (port != NULL) {
        if (pit_parse_uint(port, port_len, 5, &v) != 0 || v < 1 || v > 65535)
            return PIT_ERR_URL;
        *out_port = (int) v;
    }
    return PIT_OK;
}

/*
 * Parses a database number s[0..len) into u->db.  Returns PIT_OK or
 * PIT_ERR_URL.
 */
static pit_err_t pit_url_db(const char *s, size_t len, pit_redis_url_t *u) {
    long long v;

    if (pit_parse_uint(s, len, 6, &v) != 0 || v > PIT_DB_MAX)
        return PIT_ERR_URL;
    u->db = (int) v;
    return PIT_OK;
}

/*
 * Reads "[userinfo@]" from the authority s[0..auth_len) into u->user and
 * u->password.  Returns the length consumed (0 without '@', else up to and
 * including the last '@') or -1 on a bad escape.
 */
static long pit_url_userinfo(const char *s, size_t auth_len,
    pit_redis_url_t *u)
{
    const char  *at = NULL, *colon, *pass;
    size_t       ui_len, user_len, i;

    for (i = 0; i < auth_len; i++) {
        if (s[i] == '@') at = s + i;
    }
    if (at == NULL) return 0;

    /* "user:password@" or, as redis-cli reads it, "password@". */
    ui_len = (size_t) (at - s);
    colon = memchr(s, ':', ui_len);
    user_len = colon ? (size_t) (colon - s) : 0;
    pass = colon ? colon + 1 : s;

    if (pit_percent_decode(s, user_len, u->user, sizeof(u->user)) != 0
        || pit_percent_decode(pass, (size_t) (at - pass), u->password,
                              sizeof(u->password)) != 0)
    {
        return -1;
    }
    return (long) ui_len + 1;
}

/*
 * Parses the part of a redis:// URL after the scheme.  Returns PIT_OK or
 * PIT_ERR_URL.
 */
static pit_err_t pit_url_tcp(const char *s, size_t len, pit_redis_url_t *u) {
    const char  *slash;
    size_t       auth_len;
    long         skip;

    slash = memchr(s, '/', len);
    auth_len = slash ? (size_t) (slash - s) : len;

    skip = pit_url_userinfo(s, auth_len, u);
    if (skip < 0) return PIT_ERR_URL;
    s += skip;
    len -= (size_t) skip;
    auth_len -= (size_t) skip;

    if (pit_url_host_port(s, auth_len, u->host, &u->port, PIT_REDIS_PORT) != PIT_OK)
        return PIT_ERR_URL;

    /* Path: nothing, "/" or "/N". */
    if (auth_len == len || auth_len + 1 == len) return PIT_OK;
    return pit_url_db(s + auth_len + 1, len - auth_len - 1, u);
}

/*
 * Parses the query of a redis-sentinel:// URL, s[0..len) after the '?':
 * "sentinel_user=U" and "sentinel_password=P", each at most once, in
 * either order.  Returns PIT_OK or PIT_ERR_URL.
 */
static pit_err_t pit_url_sentinel_query(const char *s, size_t len,
    pit_redis_url_t *u)
{
    const char  *end, *amp, *eq;
    char        *out;
    size_t       plen, klen;
    int          seen_user = 0, seen_pass = 0;

    end = s + len;
    while (s < end) {
        amp = memchr(s, '&', (size_t) (end - s));
        plen = amp ? (size_t) (amp - s) : (size_t) (end - s);
        eq = memchr(s, '=', plen);
        if (eq == NULL) return PIT_ERR_URL;
        klen = (size_t) (eq - s);

        if (klen == 13 && memcmp(s, "sentinel_user", 13) == 0) {
            if (seen_user++) return PIT_ERR_URL;
            out = u->sentinel_user;
        } else if (klen == 17 && memcmp(s, "sentinel_password", 17) == 0) {
            if (seen_pass++) return PIT_ERR_URL;
            out = u->sentinel_password;
        } else {
            return PIT_ERR_URL;
        }

        if (pit_percent_decode(eq + 1, plen - klen - 1, out,
                               PIT_URL_CRED_MAX + 1) != 0)
            return PIT_ERR_URL;

        if (amp == NULL) break;
        s = amp + 1;
        if (s == end) return PIT_ERR_URL;          /* a trailing '&' */
    }

    /* AUTH user needs a password: a user alone is a mistake, not "none". */
    if (u->sentinel_user[0] != '\0' && u->sentinel_password[0] == '\0')
        return PIT_ERR_URL;
    return PIT_OK;
}

/*
 * Parses the part of a redis-sentinel:// URL after the scheme:
 * "[userinfo@]hostport[,hostport...]/master[/[db]][?query]".  Returns
 * PIT_OK or PIT_ERR_URL.
 */
static pit_err_t pit_url_sentinel(const char *s, size_t len,
    pit_redis_url_t *u)
{
    const char        *slash, *q, *comma, *p, *end, *m, *mend;
    size_t             auth_len, path_len, i;
    long               skip;
    pit_redis_addr_t  *a;

    u->sentinel = 1;

    slash = memchr(s, '/', len);
    if (slash == NULL) return PIT_ERR_URL;         /* no master */
    auth_len = (size_t) (slash - s);

    skip = pit_url_userinfo(s, auth_len, u);
    if (skip < 0) return PIT_ERR_URL;

    /* The sentinels: one or more host:port separated by commas. */
    p = s + skip;
    end = slash;
    if (p == end) return PIT_ERR_URL;
    for (;;) {
        comma = memchr(p, ',', (size_t) (end - p));
        if (u->nsentinels == PIT_URL_SENTINELS_MAX) return PIT_ERR_URL;
        a = &u->sentinels[u->nsentinels++];
        if (pit_url_host_port(p, (size_t) ((comma ? comma : end) - p),
                              a->host, &a->port, PIT_SENTINEL_PORT)
            != PIT_OK)
        {
            return PIT_ERR_URL;
        }
        if (comma == NULL) break;
        p = comma + 1;
    }

    /* "/master", "/master/" or "/master/N", then the query. */
    q = memchr(slash, '?', (size_t) (s + len - slash));
    path_len = (size_t) ((q ? q : s + len) - slash) - 1;
    m = slash + 1;
    mend = memchr(m, '/', path_len);
    if (mend == NULL) mend = m + path_len;
    if (mend == m || (size_t) (mend - m) > PIT_URL_MASTER_MAX)
        return PIT_ERR_URL;
    for (i = 0; m + i < mend; i++) {
        if (!pit_host_char((unsigned char) m[i])) return PIT_ERR_URL;
    }
    memcpy(u->master, m, (size_t) (mend - m));
    u->master[mend - m] = '\0';

    if (mend + 1 < m + path_len
        && pit_url_db(mend + 1, (size_t) (m + path_len - mend - 1), u)
           != PIT_OK)
    {
        return PIT_ERR_URL;
    }

    if (q == NULL) return PIT_OK;
    if (q + 1 == s + len) return PIT_ERR_URL;      /* a bare '?' */
    return pit_url_sentinel_query(q + 1, (size_t) (s + len - q - 1), u);
}

/*
 * Parses the part of a unix:// URL after the scheme: "/path[?db=N]".
 * Returns PIT_OK or PIT_ERR_URL.
 */
static pit_err_t pit_url_unix(const char *s, size_t len, pit_redis_url_t *u) {
    const char  *q;
    size_t       path_len;

    q = memchr(s, '?', len);
    path_len = q ? (size_t) (q - s) : len;

    if (path_len < 2 || s[0] != '/' || path_len > PIT_URL_PATH_MAX)
        return PIT_ERR_URL;
    memcpy(u->path, s, path_len);
    u->path[path_len] = '\0';
    u->unix_socket = 1;

    if (q == NULL) return PIT_OK;
    if (len - path_len < 4 || memcmp(q, "?db=", 4) != 0) return PIT_ERR_URL;
    return pit_url_db(q + 4, len - path_len - 4, u);
}

/*
 * Parses a Redis URL into u (zeroed first).  Returns PIT_OK or
 * PIT_ERR_URL.
 */
pit_err_t pit_redis_url_parse(const char *s, size_t len, pit_redis_url_t *u) {
    size_t i;

    if (u == NULL) return PIT_ERR_ARG;
    memset(u, 0, sizeof(*u));
    if (s == NULL) return PIT_ERR_URL;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c <= 0x20 || c >= 0x7f) return PIT_ERR_URL;
    }

    if (pit_prefix_nocase(s, len, "redis://"))
        return pit_url_tcp(s + 8, len - 8, u);
    if (pit_prefix_nocase(s, len, "redis-sentinel://"))
        return pit_url_sentinel(s + 17, len - 17, u);
    if (pit_prefix_nocase(s, len, "unix://"))
        return pit_url_unix(s + 7, len - 7, u);
    return PIT_ERR_URL;
}

/* -----------------------------------------------------------------------------
 * Durations
 * -------------------------------------------------------------------------- */

/*
 * Parses "<n><unit>" (ms, s, m, h, d) into *ms.  Returns PIT_OK or
 * PIT_ERR_DURATION (also for 0 and for more than 10 years).
 */
pit_err_t pit_duration_parse(const char *s, size_t len, int64_t *ms) {
    const char  *u;
    size_t       digits = 0, ulen;
    long long    n = 0, unit;

    if (s == NULL || ms == NULL) return PIT_ERR_DURATION;

    while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
        n = n * 10 + (s[digits] - '0');
        /* Past the bound in any unit: stop before n can overflow. */
        if (n > PIT_DURATION_MAX_MS) return PIT_ERR_DURATION;
        digits++;
    }
    if (digits == 0) return PIT_ERR_DURATION;

    u = s + digits;
    ulen = len - digits;
    if (ulen == 2 && u[0] == 'm' && u[1] == 's') {
        unit = 1;
    } else if (ulen == 1 && u[0] == 's') {
        unit = 1000;
    } else if (ulen == 1 && u[0] == 'm') {
        unit = 60 * 1000;
    } else if (ulen == 1 && u[0] == 'h') {
        unit = 3600 * 1000;
    } else if (ulen == 1 && u[0] == 'd') {
        unit = 24LL * 3600 * 1000;
    } else {
        return PIT_ERR_DURATION;
    }

    if (n == 0 || n > PIT_DURATION_MAX_MS / unit) return PIT_ERR_DURATION;
    *ms = (int64_t) (n * unit);
    return PIT_OK;
}

/*
 * Writes the two largest units of ms ("6 days 23 hours", "40 seconds",
 * "0 seconds" for <= 0) and a NUL into buf, truncated to cap.
 */
void pit_duration_format(int64_t ms, char *buf, size_t cap) {
    static const struct {
        int64_t      ms;
        const char  *name;
    } units[] = {
        { 24LL * 3600 * 1000, "day" },
        { 3600LL * 1000,      "hour" },
        { 60LL * 1000,        "minute" },
        { 1000LL,             "second" },
    };
    int64_t  big, small;
    size_t   i;
    int      n;

    if (buf == NULL || cap == 0) return;

    if (ms < 1000) {
        snprintf(buf, cap, "0 seconds");
        return;
    }

    i = 0;
    while (ms < units[i].ms) i++;

    big = ms / units[i].ms;
    n = snprintf(buf, cap, "%" PRId64 " %s%s", big, units[i].name,
                 big == 1 ? "" : "s");
    if (i == 3 || n < 0 || (size_t) n >= cap) return;

    small = (ms % units[i].ms) / units[i + 1].ms;
    if (small == 0) return;
    snprintf(buf + n, cap - (size_t) n, " %" PRId64 " %s%s", small,
             units[i + 1].name, small == 1 ? "" : "s");
}
