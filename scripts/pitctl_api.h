/*
 * pitctl serve: what the admin API's files share.
 *
 *   pitctl_serve.c       the command: options, the listener, libmicrohttpd,
 *                        the request's life (body, access log), SIGTERM
 *   pitctl_api_auth.c    who is asking: trusted proxies, the identity
 *                        header, admin tokens; CSRF; the issuing limit
 *   pitctl_api_routes.c  the routes and their handlers, which call the
 *                        operations of pitctl_ops.c
 *
 * libmicrohttpd does HTTP; these files never parse it.
 */

#ifndef PITCTL_API_H
#define PITCTL_API_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "pit_admin.h"
#include "pit_body.h"
#include "pit_store.h"
#include "pitctl.h"
#include "pitctl_static.h"

#define API_PROXIES_MAX      16
#define API_BUCKETS          1024         /* admins tracked by the limit */
#define API_PATH_MAX         512

typedef struct {
    int              family;              /* AF_INET or AF_INET6 */
    unsigned char    addr[16];
    int              bits;
} api_cidr_t;

/* One admin's token bucket for issuing operations. */
typedef struct {
    char             name[PIT_ADMIN_NAME_MAX + 1];
    double           tokens;
    int64_t          at_ms;               /* last refill */
} api_bucket_t;

typedef struct {
    pitctl_t        *p;                   /* Redis URL, prefix, hash key */
    int              unix_socket;         /* listening on a unix socket */
    size_t           nproxies;
    api_cidr_t       proxies[API_PROXIES_MAX];
    const char      *user_header;         /* --user-header, X-Remote-User */
    const char      *origin;              /* NULL: the Host's */
    int              issue_rate;          /* per admin per minute, 0 off */
    int              access_fd;           /* access log */
    pthread_key_t    store_key;           /* each thread's store */
    pthread_mutex_t  lock;                /* buckets, in_flight */
    api_bucket_t     buckets[API_BUCKETS];
    long             in_flight;
    api_static_t    *console;             /* --console files, or NULL */
} api_server_t;

/* One request, from its first header to the access log line. */
typedef struct {
    int64_t          start_us;
    char             method[16];
    char             path[API_PATH_MAX];
    char             peer[64];
    int              peer_trusted;
    int              status;
    int              answered;            /* a response was queued */
    int              counted;             /* in srv->in_flight */
    const void      *route;               /* api_route_t */
    char             acct[PIT_ACCOUNT_MAX + 1];
    char             iid[PIT_ID_LEN + 1];
    int              has_admin;
    pit_admin_t      admin;
    char            *body;
    size_t           body_len;
    int              too_large;
} api_req_t;

/* pitctl_api_auth.c */
pit_err_t api_cidr_parse(const char *s, api_cidr_t *c);
void api_peer_describe(api_server_t *srv, const struct sockaddr *sa,
    api_req_t *req);
int api_authenticate(api_server_t *srv, struct MHD_Connection *c,
    api_req_t *req, pit_store_t *st, const char **code, const char **msg);
int api_csrf_check(api_server_t *srv, struct MHD_Connection *c,
    const char *method, const char **msg);
int api_issue_allowed(api_server_t *srv, const char *admin, int64_t now,
    int *retry_after);

/* pitctl_serve.c */
pit_store_t *api_store(api_server_t *srv);
void api_store_drop(api_server_t *srv, pit_err_t rc);

/*
 * Queues a JSON response (takes v; NULL: no body) with the API's headers
 * (Content-Type, Cache-Control: no-store, nosniff) and hdrs, NULL or
 * name, value, ..., NULL.  api_error() answers HighLevel's body, like
 * the nginx module's: {"statusCode":N,"message":"...","error":"Reason
 * Phrase"}, then the extra members "code" and "field" (if any).
 */
enum MHD_Result api_reply(struct MHD_Connection *c, api_req_t *req,
    int status, json_t *v, const char *const *hdrs);
enum MHD_Result api_error(struct MHD_Connection *c, api_req_t *req,
    int status, const char *code, const char *field, const char *msg,
    const char *const *hdrs);

/* pitctl_api_routes.c */
enum MHD_Result api_route_begin(api_server_t *srv, struct MHD_Connection *c,
    api_req_t *req);
enum MHD_Result api_route_finish(api_server_t *srv,
    struct MHD_Connection *c, api_req_t *req);

#endif /* PITCTL_API_H */
