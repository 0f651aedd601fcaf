/*
 * pitctl serve: the routes of the admin API and their handlers.
 *
 *   GET    /healthz                                      no identity
 *   GET    /api/v1/me
 *   GET    /api/v1/scopes
 *   GET    /api/v1/accounts/{account}/integrations
 *   POST   /api/v1/accounts/{account}/integrations           issues
 *   GET    /api/v1/accounts/{account}/integrations/{id}
 *   PATCH  /api/v1/accounts/{account}/integrations/{id}      If-Match
 *   DELETE /api/v1/accounts/{account}/integrations/{id}      If-Match
 *   POST   /api/v1/accounts/{account}/integrations/{id}/rotate   issues
 *   POST   /api/v1/accounts/{account}/integrations/{id}/cancel-rotation
 *   POST   /api/v1/accounts/{account}/integrations/{id}/expire-now
 *   GET    /api/v1/accounts/{account}/audit
 *
 * Errors answer HighLevel's body, like the nginx module's:
 * {"statusCode":400,"message":"name: ...","error":"Bad Request",
 *  "code":"invalid","field":"name"} (code and field: extra members).
 *
 * Before a body is read (api_route_begin): 404/405 for the route, 401 for
 * nobody, 403 for an admin of another account or one not allowed private
 * integrations, 403 for a browser's change from elsewhere, 415 for a body
 * that is not JSON, 413 for one declared too large.  Then (api_route_
 * finish): 404 for an integration of another account, checked before
 * anything else; 400 for a body pit_body refuses; 429 for too many tokens
 * issued; then the operation of pitctl_ops.c, whose result maps to a
 * status in one table (api_status_of).  docs/admin-api.openapi.json
 * describes every route and answer.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pit_body.h"
#include "pit_catalog.h"
#include "pit_config.h"
#include "pit_rotation.h"
#include "pitctl_api.h"

typedef struct api_ctx_s  api_ctx_t;

typedef enum MHD_Result (*api_handler_pt)(api_ctx_t *x);

typedef struct {
    const char      *method;
    const char      *path;           /* segments; {a} account, {i} id */
    int              body;           /* 1: a JSON body is read */
    int              issues;         /* 1: counts against --issue-rate */
    int              anonymous;      /* 1: no identity needed */
    api_handler_pt   handler;
} api_route_t;

struct api_ctx_s {
    api_server_t           *srv;
    struct MHD_Connection  *c;
    api_req_t              *req;
    const api_route_t      *route;
    pit_store_t            *st;
    int64_t                 now;
};


/* ------------------------------------------------------------------------
 * Results to statuses
 * --------------------------------------------------------------------- */

/* Maps a core result to an HTTP status and an error code. */
static int
api_status_of(pit_err_t rc, const char **code)
{
    switch (rc) {
    case PIT_OK:
    case PIT_ERR_REPLICATION:
        *code = "ok";
        return MHD_HTTP_OK;
    case PIT_ERR_NOT_FOUND:
        *code = "not_found";
        return MHD_HTTP_NOT_FOUND;
    case PIT_ERR_CONFLICT:
        *code = "name_taken";
        return MHD_HTTP_CONFLICT;
    case PIT_ERR_STATE:
        *code = "rotation_state";
        return MHD_HTTP_CONFLICT;
    case PIT_ERR_STALE:
        *code = "stale";
        return MHD_HTTP_CONFLICT;
    case PIT_ERR_FORBIDDEN:
        *code = "forbidden";
        return MHD_HTTP_FORBIDDEN;
    case PIT_ERR_REDIS:
    case PIT_ERR_BUSY:
    case PIT_ERR_NO_PRIMARY:
    case PIT_ERR_MAYBE_APPLIED:
        *code = "unavailable";
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    case PIT_ERR_META:
    case PIT_ERR_CORRUPT:
    case PIT_ERR_NOMEM:
    case PIT_ERR_RANDOM:
    case PIT_ERR_CRYPTO:
    case PIT_ERR_ARG:
        *code = "internal";
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    default:
        *code = "invalid";
        return MHD_HTTP_BAD_REQUEST;
    }
}


static enum MHD_Result
api_fail(api_ctx_t *x, const pitctl_result_t *res)
{
    const char  *code, *msg, *at;
    char         named[sizeof(res->msg) + sizeof(res->field) + 4];
    size_t       fl;
    int          status;

    status = api_status_of(res->rc, &code);
    api_store_drop(x->srv, res->rc);

    /* a message with a field at fault (400, a taken name's 409) starts
     * with it: "name: ..." (the operation's own "create: " prefix is the
     * command line's) */
    msg = res->msg;
    fl = strlen(res->field);
    if (fl > 0) {
        for (at = res->msg; (at = strstr(at, res->field)) != NULL; at++) {
            if (at[fl] == ':' && (at == res->msg || at[-1] == ' ')) {
                break;
            }
        }
        if (at != NULL) {
            msg = at;
        } else {
            snprintf(named, sizeof(named), "%s: %s", res->field, res->msg);
            msg = named;
        }
    }

    return api_error(x->c, x->req, status, code, res->field, msg,
                     status == MHD_HTTP_SERVICE_UNAVAILABLE
                     ? (const char *const []) { "Retry-After", "1", NULL }
                     : NULL);
}


/* Answers an integration (with its new token, if any) and its ETag. */
static enum MHD_Result
api_integration(api_ctx_t *x, int status, const pit_integration_t *in,
    const char *token, const char *location)
{
    int64_t   used[PIT_TOKENS_MAX] = { 0 };
    json_t   *o;
    char      etag[PIT_ETAG_LEN + 3], tag[PIT_ETAG_LEN + 1];
    char      loc[256];

    if (pit_store_last_used(x->st, in, used) != PIT_OK) {
        memset(used, 0, sizeof(used));
    }

    o = pitctl_json_integration(in, used, x->now);
    if (o != NULL && token != NULL) {
        json_object_set_new(o, "token", json_string(token));
    }

    etag[0] = '\0';
    if (pit_integration_etag(in, tag) == PIT_OK) {
        snprintf(etag, sizeof(etag), "\"%s\"", tag);
    }

    if (location != NULL) {
        snprintf(loc, sizeof(loc), "%s/%s", location, in->id);
        return api_reply(x->c, x->req, status, o,
                         (const char *const []) { "ETag", etag,
                                                  "Location", loc, NULL });
    }

    return api_reply(x->c, x->req, status, o,
                     (const char *const []) { "ETag", etag, NULL });
}


/* Reads If-Match into buf: the etag, or NULL for none or "*". */
static const char *
api_if_match(api_ctx_t *x, char *buf, size_t cap)
{
    const char  *v;
    size_t       n;

    v = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "If-Match");
    if (v == NULL || strcmp(v, "*") == 0) {
        return NULL;
    }

    if (strncmp(v, "W/", 2) == 0) {
        v += 2;
    }

    n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }

    /* any other text can match no version: it is kept, and refused */
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}


/* 400 for a body pit_body refused. */
static enum MHD_Result
api_body_fail(api_ctx_t *x, const pit_body_error_t *err)
{
    char  msg[256];

    snprintf(msg, sizeof(msg), "%s%s%s", err->field,
             err->field[0] ? ": " : "", err->msg);
    return api_error(x->c, x->req, MHD_HTTP_BAD_REQUEST, "invalid",
                     err->field, msg, NULL);
}


/* 429 unless the admin may issue another token now. */
static int
api_issue_limited(api_ctx_t *x, enum MHD_Result *ret)
{
    char  retry[16], msg[128];
    int   after;

    if (api_issue_allowed(x->srv, x->req->admin.name, x->now, &after)) {
        return 0;
    }

    snprintf(retry, sizeof(retry), "%d", after);
    snprintf(msg, sizeof(msg), "at most %d tokens a minute per admin: try "
             "again in %d s", x->srv->issue_rate, after);
    *ret = api_error(x->c, x->req, MHD_HTTP_TOO_MANY_REQUESTS,
                     "rate_limited", NULL, msg,
                     (const char *const []) { "Retry-After", retry, NULL });
    return 1;
}


/* ------------------------------------------------------------------------
 * Handlers
 * --------------------------------------------------------------------- */

static enum MHD_Result
h_health(api_ctx_t *x)
{
    json_t  *o;

    o = json_object();
    json_object_set_new(o, "ok", json_true());
    return api_reply(x->c, x->req, MHD_HTTP_OK, o, NULL);
}


static enum MHD_Result
h_me(api_ctx_t *x)
{
    return api_reply(x->c, x->req, MHD_HTTP_OK,
                     pitctl_json_admin(&x->req->admin), NULL);
}


static enum MHD_Result
h_scopes(api_ctx_t *x)
{
    pit_catalog_list_t  cl;
    pitctl_result_t     res;
    json_t             *a, *o;
    size_t              i;
    int                 stored;
    pit_err_t           rc;

    pit_catalog_list_init(&cl);
    rc = pit_store_catalog_get(x->st, &cl, &stored);
    if (rc != PIT_OK) {
        pit_catalog_list_free(&cl);
        pitctl_store_result(x->st, rc, "scopes", NULL, &res);
        return api_fail(x, &res);
    }

    a = json_array();
    for (i = 0; i < cl.n; i++) {
        o = json_object();
        json_object_set_new(o, "name", json_string(cl.entries[i].name));
        json_object_set_new(o, "label", json_string(cl.entries[i].label));
        json_object_set_new(o, "access", json_string(cl.entries[i].access));
        json_array_append_new(a, o);
    }

    pit_catalog_list_free(&cl);
    return api_reply(x->c, x->req, MHD_HTTP_OK, a, NULL);
}


typedef struct {
    api_ctx_t  *x;
    json_t     *array;
} api_list_t;


static int
list_row(const pit_integration_t *in, void *arg)
{
    api_list_t  *l = arg;
    int64_t      used[PIT_TOKENS_MAX];

    if (pit_store_last_used(l->x->st, in, used) != PIT_OK) {
        memset(used, 0, sizeof(used));
    }

    json_array_append_new(l->array,
                          pitctl_json_integration(in, used, l->x->now));
    return 0;
}


static enum MHD_Result
h_list(api_ctx_t *x)
{
    pitctl_result_t  res;
    api_list_t       l;
    pit_err_t        rc;

    l.x = x;
    l.array = json_array();

    rc = pit_store_list(x->st, x->req->acct, x->now, list_row, &l);
    if (rc != PIT_OK) {
        json_decref(l.array);
        pitctl_store_result(x->st, rc, "list", NULL, &res);
        return api_fail(x, &res);
    }

    return api_reply(x->c, x->req, MHD_HTTP_OK, l.array, NULL);
}


static enum MHD_Result
h_create(api_ctx_t *x)
{
    pit_body_integration_t  *b;
    pit_integration_t       *in;
    pit_body_error_t         err;
    pitctl_result_t          res;
    enum MHD_Result          ret;
    char                     token[PIT_TOKEN_LEN + 1], base[128];
    pit_err_t                rc;

    b = malloc(sizeof(*b));
    in = calloc(1, sizeof(*in));
    if (b == NULL || in == NULL) {
        free(b);
        free(in);
        return MHD_NO;
    }

    rc = pit_body_integration(PIT_BODY_CREATE, x->req->body,
                              x->req->body_len, b, &err);
    if (rc != PIT_OK) {
        ret = api_body_fail(x, &err);
        goto done;
    }

    if (api_issue_limited(x, &ret)) {
        goto done;
    }

    memcpy(in->name, b->name, sizeof(in->name));
    memcpy(in->description, b->description, sizeof(in->description));
    snprintf(in->account, sizeof(in->account), "%s", x->req->acct);
    snprintf(in->created_by, sizeof(in->created_by), "%s",
             x->req->admin.name);
    in->acct_type = b->has_account_type ? b->account_type
                                        : PIT_ACCT_LOCATION;
    in->scopes = b->scopes;

    rc = pitctl_op_create(x->st, in, 0, token, x->now, &res);
    if (rc == PIT_OK || rc == PIT_ERR_REPLICATION) {
        snprintf(base, sizeof(base), "/api/v1/accounts/%s/integrations",
                 x->req->acct);
        ret = api_integration(x, MHD_HTTP_CREATED, in, token, base);
    } else {
        ret = api_fail(x, &res);
    }

    memset(token, 0, sizeof(token));

done:

    free(b);
    free(in);
    return ret;
}


/* Reads the integration of the path, 404 unless it is the account's. */
static int
api_load(api_ctx_t *x, pit_integration_t *in, enum MHD_Result *ret)
{
    pit_store_expect_t  ex = { x->req->acct, NULL };
    pitctl_result_t     res;
    pit_err_t           rc;

    rc = pit_store_get_if(x->st, &ex, x->req->iid, in, x->now);
    if (rc == PIT_OK) {
        return 0;
    }

    pitctl_store_result(x->st, rc, "show", x->req->iid, &res);
    *ret = api_fail(x, &res);
    return 1;
}


static enum MHD_Result
h_get(api_ctx_t *x)
{
    pit_integration_t  *in;
    enum MHD_Result     ret;

    in = malloc(sizeof(*in));
    if (in == NULL) {
        return MHD_NO;
    }

    if (!api_load(x, in, &ret)) {
        ret = api_integration(x, MHD_HTTP_OK, in, NULL, NULL);
    }

    free(in);
    return ret;
}


static enum MHD_Result
h_edit(api_ctx_t *x)
{
    pit_body_integration_t  *b;
    pit_integration_t       *in;
    pit_store_expect_t       ex;
    pit_body_error_t         err;
    pitctl_result_t          res;
    enum MHD_Result          ret;
    char                     tag[PIT_ETAG_LEN + 8];
    pit_err_t                rc;

    b = malloc(sizeof(*b));
    in = malloc(sizeof(*in));
    if (b == NULL || in == NULL) {
        free(b);
        free(in);
        return MHD_NO;
    }

    if (api_load(x, in, &ret)) {
        goto done;
    }

    rc = pit_body_integration(PIT_BODY_EDIT, x->req->body, x->req->body_len,
                              b, &err);
    if (rc != PIT_OK) {
        ret = api_body_fail(x, &err);
        goto done;
    }

    ex.account = x->req->acct;
    ex.etag = api_if_match(x, tag, sizeof(tag));

    rc = pitctl_op_edit(x->st, &ex, x->req->iid,
                        b->has_name ? b->name : NULL,
                        b->has_description ? b->description : NULL,
                        b->has_scopes ? &b->scopes : NULL, 0, in, x->now,
                        &res);
    ret = (rc == PIT_OK || rc == PIT_ERR_REPLICATION)
          ? api_integration(x, MHD_HTTP_OK, in, NULL, NULL)
          : api_fail(x, &res);

done:

    free(b);
    free(in);
    return ret;
}


static enum MHD_Result
h_delete(api_ctx_t *x)
{
    pit_integration_t   *in;
    pit_store_expect_t   ex;
    pitctl_result_t      res;
    enum MHD_Result      ret;
    char                 tag[PIT_ETAG_LEN + 8];
    pit_err_t            rc;

    in = malloc(sizeof(*in));
    if (in == NULL) {
        return MHD_NO;
    }

    if (!api_load(x, in, &ret)) {
        ex.account = x->req->acct;
        ex.etag = api_if_match(x, tag, sizeof(tag));

        rc = pitctl_op_delete(x->st, &ex, x->req->iid, x->now, &res);
        ret = (rc == PIT_OK || rc == PIT_ERR_REPLICATION)
              ? api_reply(x->c, x->req, MHD_HTTP_NO_CONTENT, NULL, NULL)
              : api_fail(x, &res);
    }

    free(in);
    return ret;
}


/* rotate, cancel-rotation and expire-now. */
static enum MHD_Result
api_rotation(api_ctx_t *x, pit_rotation_op_t op)
{
    pit_integration_t   *in;
    pit_body_rotate_t    rot;
    pit_store_expect_t   ex;
    pit_body_error_t     err;
    pitctl_result_t      res;
    enum MHD_Result      ret;
    char                 token[PIT_TOKEN_LEN + 1], tag[PIT_ETAG_LEN + 8];
    int64_t              overlap;
    pit_err_t            rc;
    int                  issues;

    in = malloc(sizeof(*in));
    if (in == NULL) {
        return MHD_NO;
    }

    if (api_load(x, in, &ret)) {
        goto done;
    }

    overlap = PIT_OVERLAP_DEFAULT_MS;
    issues = (op == PIT_OP_ROTATE_LATER);

    if (issues) {
        rc = pit_body_rotate(x->req->body, x->req->body_len, &rot, &err);
        if (rc == PIT_OK) {
            op = rot.now ? PIT_OP_ROTATE_NOW : PIT_OP_ROTATE_LATER;
            overlap = rot.has_overlap ? rot.overlap_ms : overlap;
        }
    } else {
        rc = pit_body_empty(x->req->body, x->req->body_len, &err);
    }

    if (rc != PIT_OK) {
        ret = api_body_fail(x, &err);
        goto done;
    }

    if (issues && api_issue_limited(x, &ret)) {
        goto done;
    }

    ex.account = x->req->acct;
    ex.etag = api_if_match(x, tag, sizeof(tag));

    rc = pitctl_op_rotate(x->st, &ex, x->req->iid, op, overlap,
                          issues ? token : NULL, in, x->now, &res);
    ret = (rc == PIT_OK || rc == PIT_ERR_REPLICATION)
          ? api_integration(x, MHD_HTTP_OK, in, issues ? token : NULL, NULL)
          : api_fail(x, &res);

    memset(token, 0, sizeof(token));

done:

    free(in);
    return ret;
}


static enum MHD_Result
h_rotate(api_ctx_t *x)
{
    return api_rotation(x, PIT_OP_ROTATE_LATER);
}


static enum MHD_Result
h_cancel(api_ctx_t *x)
{
    return api_rotation(x, PIT_OP_CANCEL_ROTATION);
}


static enum MHD_Result
h_expire(api_ctx_t *x)
{
    return api_rotation(x, PIT_OP_EXPIRE_NOW);
}


static int
audit_row(const pit_audit_entry_t *e, void *arg)
{
    json_array_append_new(arg, pitctl_json_audit(e));
    return 0;
}


static enum MHD_Result
h_audit(api_ctx_t *x)
{
    pit_audit_filter_t  f;
    pitctl_result_t     res;
    const char         *limit, *since;
    json_t             *a;
    char               *end;
    long                n;
    int64_t             ms;
    pit_err_t           rc;

    memset(&f, 0, sizeof(f));
    f.account = x->req->acct;
    f.limit = 50;

    limit = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, "limit");
    since = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, "since");

    if (limit != NULL) {
        n = strtol(limit, &end, 10);
        if (limit[0] == '\0' || *end != '\0' || n < 1 || n > 1000) {
            return api_error(x->c, x->req, MHD_HTTP_BAD_REQUEST, "invalid",
                             "limit", "limit: must be 1-1000", NULL);
        }
        f.limit = (size_t) n;
    }

    if (since != NULL) {
        if (pit_duration_parse(since, strlen(since), &ms) != PIT_OK) {
            return api_error(x->c, x->req, MHD_HTTP_BAD_REQUEST, "invalid",
                             "since", "since: must be a duration such as "
                             "7d, 36h, 90m", NULL);
        }
        f.since_ms = x->now - ms > 0 ? x->now - ms : 1;
    }

    a = json_array();
    rc = pit_store_audit_query(x->st, &f, audit_row, a);
    if (rc != PIT_OK) {
        json_decref(a);
        pitctl_store_result(x->st, rc, "audit", NULL, &res);
        return api_fail(x, &res);
    }

    return api_reply(x->c, x->req, MHD_HTTP_OK, a, NULL);
}


/* ------------------------------------------------------------------------
 * Routing
 * --------------------------------------------------------------------- */

static const api_route_t  api_routes[] = {
    { "GET", "/healthz", 0, 0, 1, h_health },
    { "GET", "/api/v1/me", 0, 0, 0, h_me },
    { "GET", "/api/v1/scopes", 0, 0, 0, h_scopes },
    { "GET", "/api/v1/accounts/{a}/integrations", 0, 0, 0, h_list },
    { "POST", "/api/v1/accounts/{a}/integrations", 1, 1, 0, h_create },
    { "GET", "/api/v1/accounts/{a}/integrations/{i}", 0, 0, 0, h_get },
    { "PATCH", "/api/v1/accounts/{a}/integrations/{i}", 1, 0, 0, h_edit },
    { "DELETE", "/api/v1/accounts/{a}/integrations/{i}", 0, 0, 0,
      h_delete },
    { "POST", "/api/v1/accounts/{a}/integrations/{i}/rotate", 1, 1, 0,
      h_rotate },
    { "POST", "/api/v1/accounts/{a}/integrations/{i}/cancel-rotation", 1, 0,
      0, h_cancel },
    { "POST", "/api/v1/accounts/{a}/integrations/{i}/expire-now", 1, 0, 0,
      h_expire },
    { "GET", "/api/v1/accounts/{a}/audit", 0, 0, 0, h_audit },
};

#define API_NROUTES  (sizeof(api_routes) / sizeof(api_routes[0]))


/*
 * Returns 1 if path matches pattern, filling acct and iid.  An account
 * or an id that breaks its grammar matches nothing (404).
 */
static int
route_match(const char *pattern, const char *path, api_req_t *req)
{
    const char  *p, *q, *end;
    size_t       n;

    p = pattern;
    q = path;

    while (*p != '\0') {
        if (p[0] == '{') {
            end = strchr(q, '/');
            n = end ? (size_t) (end - q) : strlen(q);

            if (p[1] == 'a') {
                if (pit_account_validate(q, n) != PIT_OK) {
                    return 0;
                }
                memcpy(req->acct, q, n);
                req->acct[n] = '\0';

            } else {
                if (n > PIT_ID_LEN || n == 0) {
                    return 0;
                }
                memcpy(req->iid, q, n);
                req->iid[n] = '\0';
            }

            q += n;
            p += 3;
            continue;
        }

        if (*p != *q) {
            return 0;
        }
        p++;
        q++;
    }

    return *q == '\0';
}


enum MHD_Result
api_route_begin(api_server_t *srv, struct MHD_Connection *c, api_req_t *req)
{
    const api_route_t  *r;
    const char         *code, *msg, *ctype, *clen;
    char                allow[64];
    size_t              i, ctl;
    pit_store_t        *st;
    int                 path_known, status;

    r = NULL;
    path_known = 0;
    allow[0] = '\0';

    for (i = 0; i < API_NROUTES; i++) {
        if (!route_match(api_routes[i].path, req->path, req)) {
            continue;
        }
        path_known = 1;
        snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
                 "%s%s", allow[0] ? ", " : "", api_routes[i].method);
        if (strcmp(api_routes[i].method, req->method) == 0) {
            r = &api_routes[i];
        }
    }

    if (r == NULL) {
        return path_known
               ? api_error(c, req, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "method_not_allowed", NULL,
                           "method not allowed on this path",
                           (const char *const []) { "Allow", allow, NULL })
               : api_error(c, req, MHD_HTTP_NOT_FOUND, "not_found", NULL,
                           "no such path", NULL);
    }

    req->route = r;
    if (r->anonymous) {
        return MHD_YES;
    }

    st = api_store(srv);
    if (st == NULL) {
        return api_error(c, req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                         NULL, "Redis unreachable: nothing was read or "
                         "changed",
                         (const char *const []) { "Retry-After", "1", NULL });
    }

    status = api_authenticate(srv, c, req, st, &code, &msg);
    if (status != 0) {
        return api_error(c, req, status, code, NULL, msg,
                         status == MHD_HTTP_UNAUTHORIZED
                         ? (const char *const []) {
                               "WWW-Authenticate",
                               "Bearer realm=\"pit-auth admin\"", NULL }
                         : (const char *const []) { "Retry-After", "1",
                                                    NULL });
    }

    if ((req->acct[0] != '\0'
         && pit_admin_may(&req->admin, req->acct) != PIT_OK)
        || (r->handler != h_me && !req->admin.pi_allowed))
    {
        return api_error(c, req, MHD_HTTP_FORBIDDEN, "forbidden", NULL,
                         !req->admin.pi_allowed
                         ? "private integrations are not allowed for this "
                           "admin"
                         : "this admin does not manage this account", NULL);
    }

    status = api_csrf_check(srv, c, req->method, &msg);
    if (status != 0) {
        return api_error(c, req, status, "forbidden", NULL, msg, NULL);
    }

    if (r->body) {
        ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                            "Content-Type");
        ctl = strlen("application/json");
        if (ctype == NULL || strncasecmp(ctype, "application/json", ctl) != 0
            || (ctype[ctl] != '\0' && ctype[ctl] != ';'
                && ctype[ctl] != ' '))
        {
            return api_error(c, req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                             "unsupported_media_type", NULL,
                             "the body must be application/json", NULL);
        }

        clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                           "Content-Length");
        if (clen != NULL && strtoull(clen, NULL, 10) > PIT_BODY_MAX) {
            return api_error(c, req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                             NULL, "the body is larger than 64 KiB", NULL);
        }
    }

    return MHD_YES;
}


enum MHD_Result
api_route_finish(api_server_t *srv, struct MHD_Connection *c,
    api_req_t *req)
{
    api_ctx_t  x;

    x.srv = srv;
    x.c = c;
    x.req = req;
    x.route = req->route;
    x.now = pitctl_now_ms();
    x.st = NULL;

    if (!x.route->anonymous) {
        x.st = api_store(srv);
        if (x.st == NULL) {
            return api_error(c, req, MHD_HTTP_SERVICE_UNAVAILABLE,
                             "unavailable", NULL, "Redis unreachable: "
                             "nothing was read or changed",
                             (const char *const []) { "Retry-After", "1",
                                                      NULL });
        }
        pit_store_set_actor(x.st, req->admin.name);
        pit_store_set_peer(x.st, req->peer);
    }

    return x.route->handler(&x);
}
