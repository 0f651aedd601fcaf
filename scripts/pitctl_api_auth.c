/*
 * pitctl serve: who is asking, and may they.
 *
 * Identity, in this order:
 *   - "Authorization: Bearer pat-..." (an admin token, from any peer):
 *     the admin whose record lists the token's hash;
 *   - else the --user-header (X-Remote-User), believed only from a
 *     trusted peer: a unix socket listener (its file mode says who may
 *     connect), or a TCP peer inside a --trusted-proxy CIDR.  The front
 *     proxy sets it from what it authenticated and overwrites whatever a
 *     client sent;
 *   - else nobody: 401.
 * An admin that is not stored is nobody too (401).
 *
 * CSRF: a change (POST, PATCH, DELETE) that carries a Cookie or an Origin
 * is a browser's: its Origin must be --origin, or the Host's own origin.
 * Bodies must be application/json (checked by the routes), which no form
 * can send across sites without a preflight this server never answers.
 *
 * The issuing limit: each admin may issue (create, rotate) --issue-rate
 * tokens a minute, a token bucket in this process's memory.
 */

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "pitctl_api.h"


/* ------------------------------------------------------------------------
 * Trusted proxies
 * --------------------------------------------------------------------- */

pit_err_t
api_cidr_parse(const char *s, api_cidr_t *c)
{
    char        host[64];
    const char *slash;
    char       *end;
    long        bits;
    size_t      n;

    memset(c, 0, sizeof(*c));
    slash = strchr(s, '/');
    n = slash ? (size_t) (slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(host)) {
        return PIT_ERR_ARG;
    }

    memcpy(host, s, n);
    host[n] = '\0';

    if (inet_pton(AF_INET, host, c->addr) == 1) {
        c->family = AF_INET;
        c->bits = 32;
    } else if (inet_pton(AF_INET6, host, c->addr) == 1) {
        c->family = AF_INET6;
        c->bits = 128;
    } else {
        return PIT_ERR_ARG;
    }

    if (slash != NULL) {
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > c->bits) {
            return PIT_ERR_ARG;
        }
        c->bits = (int) bits;
    }

    return PIT_OK;
}


/* Returns 1 if addr (of family) is inside c. */
static int
cidr_contains(const api_cidr_t *c, int family, const unsigned char *addr)
{
    int            full, rest;
    unsigned char  mask;

    if (c->family != family) {
        return 0;
    }

    full = c->bits / 8;
    rest = c->bits % 8;

    if (memcmp(c->addr, addr, (size_t) full) != 0) {
        return 0;
    }

    if (rest == 0) {
        return 1;
    }

    mask = (unsigned char) (0xff << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}


void
api_peer_describe(api_server_t *srv, const struct sockaddr *sa,
    api_req_t *req)
{
    const struct sockaddr_in   *in4;
    const struct sockaddr_in6  *in6;
    unsigned char               addr[16];
    int                         family;
    size_t                      i;

    req->peer_trusted = 0;

    if (srv->unix_socket || sa == NULL || sa->sa_family == AF_UNIX) {
        snprintf(req->peer, sizeof(req->peer), "unix");
        req->peer_trusted = 1;
        return;
    }

    if (sa->sa_family == AF_INET) {
        in4 = (const struct sockaddr_in *) sa;
        memcpy(addr, &in4->sin_addr, 4);
        family = AF_INET;

    } else if (sa->sa_family == AF_INET6) {
        in6 = (const struct sockaddr_in6 *) sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            memcpy(addr, in6->sin6_addr.s6_addr + 12, 4);
            family = AF_INET;
        } else {
            memcpy(addr, in6->sin6_addr.s6_addr, 16);
            family = AF_INET6;
        }

    } else {
        snprintf(req->peer, sizeof(req->peer), "?");
        return;
    }

    inet_ntop(family, addr, req->peer, sizeof(req->peer));

    for (i = 0; i < srv->nproxies; i++) {
        if (cidr_contains(&srv->proxies[i], family, addr)) {
            req->peer_trusted = 1;
            return;
        }
    }
}


/* ------------------------------------------------------------------------
 * Identity
 * --------------------------------------------------------------------- */

/*
 * Fills req->admin with who is asking.  Returns 0 (known), else an HTTP
 * status (401; 503 when Redis failed) with *code and *msg.
 */
int
api_authenticate(api_server_t *srv, struct MHD_Connection *c,
    api_req_t *req, pit_store_t *st, const char **code, const char **msg)
{
    const char  *auth, *user, *tok;
    size_t       tok_len;
    pit_err_t    rc;

    *code = "unauthorized";
    auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    user = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                       srv->user_header);
    if (user != NULL && user[0] == '\0') {
        user = NULL;
    }

    rc = PIT_ERR_AUTH_SCHEME;
    if (auth != NULL) {
        rc = pit_admin_token_from_authorization(auth, strlen(auth), &tok,
                                                &tok_len);
    }

    if (rc == PIT_OK) {
        if (user != NULL) {
            *msg = "an admin token and an identity header in one request";
            return MHD_HTTP_UNAUTHORIZED;
        }

        rc = pit_store_admin_by_token(st, tok, tok_len, &req->admin);
        if (rc == PIT_ERR_NOT_FOUND || rc == PIT_ERR_TOKEN_MALFORMED) {
            *msg = "unknown or revoked admin token";
            return MHD_HTTP_UNAUTHORIZED;
        }

    } else if (rc == PIT_ERR_TOKEN_MALFORMED
               && auth != NULL && strncasecmp(auth, "bearer pat-", 11) == 0)
    {
        *msg = "malformed admin token";
        return MHD_HTTP_UNAUTHORIZED;

    } else {
        if (user == NULL) {
            *msg = "no identity: sign in through the front proxy, or send "
                   "an admin token";
            return MHD_HTTP_UNAUTHORIZED;
        }

        if (!req->peer_trusted) {
            *msg = "identity header from a peer that is not a trusted proxy";
            return MHD_HTTP_UNAUTHORIZED;
        }

        if (pit_admin_name_validate(user, strlen(user)) != PIT_OK) {
            *msg = "unknown admin";
            return MHD_HTTP_UNAUTHORIZED;
        }

        rc = pit_store_admin_get(st, user, &req->admin);
        if (rc == PIT_ERR_NOT_FOUND) {
            *msg = "unknown admin";
            return MHD_HTTP_UNAUTHORIZED;
        }
    }

    if (rc != PIT_OK) {
        api_store_drop(srv, rc);
        *code = "unavailable";
        *msg = "Redis failed: nothing was read or changed";
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }

    req->has_admin = 1;
    return 0;
}


/* ------------------------------------------------------------------------
 * CSRF
 * --------------------------------------------------------------------- */

/* Returns 1 if origin is scheme://host for the request's Host. */
static int
origin_is_host(const char *origin, const char *host)
{
    const char  *rest;

    if (host == NULL || host[0] == '\0') {
        return 0;
    }

    if (strncasecmp(origin, "https://", 8) == 0) {
        rest = origin + 8;
    } else if (strncasecmp(origin, "http://", 7) == 0) {
        rest = origin + 7;
    } else {
        return 0;
    }

    return strcasecmp(rest, host) == 0;
}


/* Returns 0, or 403 with *msg when a browser's change comes from
 * elsewhere. */
int
api_csrf_check(api_server_t *srv, struct MHD_Connection *c,
    const char *method, const char **msg)
{
    const char  *origin, *cookie, *host;

    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        return 0;
    }

    origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
    if (origin == NULL && cookie == NULL) {
        return 0;
    }

    host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");

    if (origin != NULL
        && ((srv->origin != NULL && strcasecmp(origin, srv->origin) == 0)
            || (srv->origin == NULL && origin_is_host(origin, host))))
    {
        return 0;
    }

    *msg = origin == NULL ? "a browser's change without an Origin header"
                          : "a change from another origin";
    return MHD_HTTP_FORBIDDEN;
}


/* ------------------------------------------------------------------------
 * The issuing limit
 * --------------------------------------------------------------------- */

static size_t
bucket_hash(const char *s)
{
    size_t  h = 5381;

    while (*s) {
        h = h * 33 + (unsigned char) *s++;
    }

    return h;
}


/*
 * Takes one token from admin's bucket: returns 1, or 0 with *retry_after
 * the seconds until one is back.
 */
int
api_issue_allowed(api_server_t *srv, const char *admin, int64_t now,
    int *retry_after)
{
    api_bucket_t  *b, *oldest;
    double         rate, cap;
    size_t         i, h;
    int            ok;

    if (srv->issue_rate <= 0) {
        return 1;
    }

    cap = srv->issue_rate;
    rate = cap / 60000.0;               /* tokens per ms */

    pthread_mutex_lock(&srv->lock);

    h = bucket_hash(admin);
    b = NULL;
    oldest = &srv->buckets[h % API_BUCKETS];

    for (i = 0; i < 8; i++) {
        api_bucket_t *x = &srv->buckets[(h + i) % API_BUCKETS];
        if (strcmp(x->name, admin) == 0) {
            b = x;
            break;
        }
        if (x->name[0] == '\0' || x->at_ms < oldest->at_ms) {
            oldest = x;
        }
    }

    if (b == NULL) {
        /* a new admin, or one whose slot went to another: a full bucket */
        b = oldest;
        snprintf(b->name, sizeof(b->name), "%s", admin);
        b->tokens = cap;
        b->at_ms = now;
    }

    b->tokens += (double) (now - b->at_ms) * rate;
    if (b->tokens > cap) {
        b->tokens = cap;
    }
    b->at_ms = now;

    ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else {
        *retry_after = (int) ceil((1.0 - b->tokens) / rate / 1000.0);
        if (*retry_after < 1) {
            *retry_after = 1;
        }
    }

    pthread_mutex_unlock(&srv->lock);
    return ok;
}
