/*
 * pitctl serve: the admin API over HTTP (libmicrohttpd), behind a front
 * proxy that authenticates admins (see README "Admin API").
 *
 *   pitctl serve [--listen 127.0.0.1:8089 | unix:PATH] [--redis URL]
 *       [--prefix P] [--hash-key FILE] [--trusted-proxy ADDR[/BITS]]...
 *       [--user-header NAME] [--origin URL] [--issue-rate N]
 *       [--threads N] [--access-log FILE|-] [--socket-mode MODE]
 *       [--console DIR|none]
 *
 * --listen defaults to 127.0.0.1:8089 (loopback); --user-header to
 * X-Remote-User (--identity-header: its old name, still read).  --redis,
 * --prefix and --hash-key may also come before "serve", as for every
 * command.
 *
 * Each of libmicrohttpd's threads has its own synchronous store
 * connection, opened on first use and dropped when Redis fails (the next
 * request opens another).  A request's headers are judged first (route,
 * identity, permission, CSRF, media type, size); its body is then read
 * into memory, at most PIT_BODY_MAX bytes, and handed to the route.  One
 * access log line per request, masked by pit_token_redact(), never a
 * body or a query.  SIGTERM (or SIGINT): stop accepting, let the
 * requests in flight finish (up to 10 s), exit 0.
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pit_token.h"
#include "pitctl_api.h"

#define SERVE_THREADS_DEFAULT  4
#define SERVE_THREADS_MAX      64
#define SERVE_DRAIN_MS         10000
#define SERVE_STORE_TIMEOUT_MS 5000

#define SERVE_LISTEN_DEFAULT   "127.0.0.1:8089"

static const pitctl_command_t  serve_me = { "serve", NULL,
    "serve [--listen 127.0.0.1:8089 | unix:PATH] [--redis URL] "
    "[--prefix P] [--hash-key FILE] [--trusted-proxy ADDR[/BITS]]... "
    "[--user-header NAME] [--origin URL] [--issue-rate N] "
    "[--threads N] [--access-log FILE|-] [--socket-mode MODE] "
    "[--console DIR|none]" };


/* ------------------------------------------------------------------------
 * Stores, one per thread
 * --------------------------------------------------------------------- */

static void
store_free(void *st)
{
    pit_store_close(st);
}


pit_store_t *
api_store(api_server_t *srv)
{
    pit_store_t  *st;
    pitctl_t      q;

    st = pthread_getspecific(srv->store_key);
    if (st != NULL) {
        return st;
    }

    /* pitctl_open_store() reports on stderr: a copy whose store we take */
    q = *srv->p;
    q.st = NULL;
    if (pitctl_open_store(&q) != 0) {
        return NULL;
    }

    pthread_setspecific(srv->store_key, q.st);
    return q.st;
}


void
api_store_drop(api_server_t *srv, pit_err_t rc)
{
    pit_store_t  *st;

    if (rc != PIT_ERR_REDIS && rc != PIT_ERR_NO_PRIMARY
        && rc != PIT_ERR_MAYBE_APPLIED)
    {
        return;
    }

    st = pthread_getspecific(srv->store_key);
    pthread_setspecific(srv->store_key, NULL);
    pit_store_close(st);
}


/* ------------------------------------------------------------------------
 * Responses
 * --------------------------------------------------------------------- */

/* Queues s (taken; NULL: no body) with the API's headers. */
static enum MHD_Result
api_send(struct MHD_Connection *c, api_req_t *req, int status, char *s,
    const char *const *hdrs)
{
    struct MHD_Response  *r;
    enum MHD_Result       ret;
    size_t                i;

    r = MHD_create_response_from_buffer(s ? strlen(s) : 0, s ? s : "",
                                        s ? MHD_RESPMEM_MUST_FREE
                                          : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        free(s);
        return MHD_NO;
    }

    if (s != NULL) {
        MHD_add_response_header(r, "Content-Type",
                                "application/json; charset=utf-8");
    }
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");

    for (i = 0; hdrs != NULL && hdrs[i] != NULL && hdrs[i + 1] != NULL;
         i += 2)
    {
        MHD_add_response_header(r, hdrs[i], hdrs[i + 1]);
    }

    req->status = status;
    req->answered = 1;
    ret = MHD_queue_response(c, (unsigned) status, r);
    MHD_destroy_response(r);
    return ret;
}


enum MHD_Result
api_reply(struct MHD_Connection *c, api_req_t *req, int status, json_t *v,
    const char *const *hdrs)
{
    char  *s;

    s = NULL;
    if (v != NULL) {
        s = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        json_decref(v);
        if (s == NULL) {
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return api_send(c, req, status, s, hdrs);
}


/* The reason phrase of status, as HighLevel's "error" names it. */
static const char *
api_reason(int status)
{
    switch (status) {
    case MHD_HTTP_BAD_REQUEST:
        return "Bad Request";
    case MHD_HTTP_UNAUTHORIZED:
        return "Unauthorized";
    case MHD_HTTP_FORBIDDEN:
        return "Forbidden";
    case MHD_HTTP_NOT_FOUND:
        return "Not Found";
    case MHD_HTTP_METHOD_NOT_ALLOWED:
        return "Method Not Allowed";
    case MHD_HTTP_CONFLICT:
        return "Conflict";
    case MHD_HTTP_CONTENT_TOO_LARGE:
        return "Payload Too Large";
    case MHD_HTTP_UNSUPPORTED_MEDIA_TYPE:
        return "Unsupported Media Type";
    case MHD_HTTP_TOO_MANY_REQUESTS:
        return "Too Many Requests";
    case MHD_HTTP_SERVICE_UNAVAILABLE:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}


/*
 * HighLevel's error body, as the nginx module answers it:
 * {"statusCode":N,"message":"...","error":"Reason Phrase"} and a newline,
 * then the extra members "code" (machine-readable) and "field" (if any).
 */
enum MHD_Result
api_error(struct MHD_Connection *c, api_req_t *req, int status,
    const char *code, const char *field, const char *msg,
    const char *const *hdrs)
{
    json_t  *o;
    char    *s, *line;
    size_t   n;

    o = json_object();
    json_object_set_new(o, "statusCode", json_integer(status));
    json_object_set_new(o, "message", json_string(msg));
    json_object_set_new(o, "error", json_string(api_reason(status)));
    json_object_set_new(o, "code", json_string(code));
    if (field != NULL && field[0] != '\0') {
        json_object_set_new(o, "field", json_string(field));
    }

    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER
                      | JSON_ENSURE_ASCII);
    json_decref(o);
    if (s == NULL) {
        return api_send(c, req, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, hdrs);
    }

    n = strlen(s);
    line = realloc(s, n + 2);
    if (line == NULL) {
        free(s);
        return MHD_NO;
    }
    line[n] = '\n';
    line[n + 1] = '\0';

    return api_send(c, req, status, line, hdrs);
}


/* ------------------------------------------------------------------------
 * The access log
 * --------------------------------------------------------------------- */

static int64_t
mono_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* Copies s into buf, control bytes, quotes and backslashes as '?'. */
static void
log_clean(char *buf, size_t cap, const char *s)
{
    size_t  i;

    for (i = 0; s[i] != '\0' && i + 1 < cap; i++) {
        buf[i] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f
                  || s[i] == '"' || s[i] == '\\') ? '?' : s[i];
    }

    buf[i] = '\0';
}


/* Writes one line: time, peer, admin, "METHOD path", status, duration. */
static void
access_log(api_server_t *srv, const api_req_t *req)
{
    struct timespec  ts;
    struct tm        tm;
    char             when[32], path[API_PATH_MAX], line[API_PATH_MAX + 256];
    int              n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

    log_clean(path, sizeof(path), req->path);

    n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s \"%s %s\" %d %.1fms\n",
                 when, ts.tv_nsec / 1000000, req->peer,
                 req->has_admin ? req->admin.name : "-", req->method, path,
                 req->status, (double) (mono_us() - req->start_us) / 1000.0);
    if (n < 0) {
        return;
    }
    if ((size_t) n >= sizeof(line)) {
        n = (int) sizeof(line) - 1;
        line[n - 1] = '\n';
    }

    /* a secret pasted into a path is masked like in nginx's logs */
    pit_token_redact(line, (size_t) n);

    if (write(srv->access_fd, line, (size_t) n) < 0) {
        /* nowhere left to say so */
    }
}


/* libmicrohttpd's own messages, masked the same way. */
static void
serve_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char  buf[512];
    int   n;

    (void) cls;
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n <= 0) {
        return;
    }
    if ((size_t) n >= sizeof(buf)) {
        n = (int) sizeof(buf) - 1;
    }
    pit_token_redact(buf, (size_t) n);
    fprintf(stderr, "pitctl serve: %.*s%s", n, buf,
            buf[n - 1] == '\n' ? "" : "\n");
}


/* ------------------------------------------------------------------------
 * A request's life
 * --------------------------------------------------------------------- */

static enum MHD_Result
serve_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
    api_server_t                *srv = cls;
    api_req_t                   *req = *con_cls;
    const union MHD_ConnectionInfo *ci;
    size_t                       n;

    (void) version;

    if (req == NULL) {
        req = calloc(1, sizeof(api_req_t));
        if (req == NULL) {
            return MHD_NO;
        }
        *con_cls = req;

        req->start_us = mono_us();
        req->status = 0;
        snprintf(req->method, sizeof(req->method), "%s", method);
        snprintf(req->path, sizeof(req->path), "%s", url);

        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        api_peer_describe(srv, ci ? ci->client_addr : NULL, req);

        pthread_mutex_lock(&srv->lock);
        srv->in_flight++;
        req->counted = 1;
        pthread_mutex_unlock(&srv->lock);

        /* the console's files (pitctl_static.c), else the API */
        {
            enum MHD_Result  sret;

            if (api_static_serve(srv->console, c, method, url, &req->status,
                                 &sret))
            {
                req->answered = 1;
                return sret;
            }
        }

        return api_route_begin(srv, c, req);
    }

    if (req->answered) {
        *upload_data_size = 0;          /* refused on its headers */
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        n = *upload_data_size;
        if (req->too_large || req->body_len + n > PIT_BODY_MAX) {
            req->too_large = 1;
            free(req->body);
            req->body = NULL;

        } else {
            if (req->body == NULL) {
                req->body = malloc(PIT_BODY_MAX + 1);
                if (req->body == NULL) {
                    return MHD_NO;
                }
            }
            memcpy(req->body + req->body_len, upload_data, n);
            req->body_len += n;
        }

        *upload_data_size = 0;
        return MHD_YES;
    }

    if (req->too_large) {
        return api_error(c, req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                         NULL, "the body is larger than 64 KiB", NULL);
    }

    return api_route_finish(srv, c, req);
}


static void
serve_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
    api_server_t  *srv = cls;
    api_req_t     *req = *con_cls;

    (void) c;

    if (req == NULL) {
        return;
    }

    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && req->status == 0) {
        req->status = 499;              /* the client went away */
    }

    access_log(srv, req);

    if (req->counted) {
        pthread_mutex_lock(&srv->lock);
        srv->in_flight--;
        pthread_mutex_unlock(&srv->lock);
    }

    if (req->body != NULL) {
        memset(req->body, 0, req->body_len);
        free(req->body);
    }
    memset(req, 0, sizeof(*req));
    free(req);
    *con_cls = NULL;
}


/* ------------------------------------------------------------------------
 * The listener
 * --------------------------------------------------------------------- */

/* Opens the listening socket for ADDR:PORT, [V6]:PORT or unix:PATH. */
static int
serve_listen(api_server_t *srv, const char *spec, long mode)
{
    struct sockaddr_un   un;
    struct addrinfo      hints, *ai;
    char                 host[128];
    const char          *port, *h;
    size_t               hl;
    int                  fd, one = 1;

    if (strncmp(spec, "unix:", 5) == 0) {
        if (strlen(spec + 5) == 0 || strlen(spec + 5) >= sizeof(un.sun_path)) {
            pitctl_fail(EXIT_USAGE, "serve: invalid unix socket path");
            return -1;
        }
        memset(&un, 0, sizeof(un));
        un.sun_family = AF_UNIX;
        strcpy(un.sun_path, spec + 5);
        (void) unlink(un.sun_path);

        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &un, sizeof(un)) != 0
            || chmod(un.sun_path, (mode_t) mode) != 0 || listen(fd, 512) != 0)
        {
            pitctl_fail(EXIT_USAGE, "serve: %s: %s", spec, strerror(errno));
            if (fd >= 0) {
                close(fd);
            }
            return -1;
        }
        srv->unix_socket = 1;
        return fd;
    }

    port = strrchr(spec, ':');
    h = spec;
    hl = port ? (size_t) (port - spec) : 0;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (port == NULL || hl == 0 || hl >= sizeof(host) || port[1] == '\0') {
        pitctl_fail(EXIT_USAGE, "serve: --listen takes ADDR:PORT or "
                    "unix:PATH");
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if (getaddrinfo(host, port + 1, &hints, &ai) != 0) {
        pitctl_fail(EXIT_USAGE, "serve: --listen %s: not a numeric address "
                    "and port", spec);
        return -1;
    }

    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0
        || listen(fd, 512) != 0)
    {
        pitctl_fail(EXIT_USAGE, "serve: %s: %s", spec, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }

    freeaddrinfo(ai);
    return fd;
}


/* ------------------------------------------------------------------------
 * The command
 * --------------------------------------------------------------------- */

/* Reads a number 0..max (r: pitctl_opt_value()'s answer); 0 or -1. */
static int
serve_number(int r, const char *val, long max, long *n)
{
    char  *end;

    if (r < 0 || val[0] == '\0') {
        return -1;
    }

    errno = 0;
    *n = strtol(val, &end, 10);
    return (errno || *end != '\0' || *n < 0 || *n > max) ? -1 : 0;
}


static int
serve_options(pitctl_t *p, api_server_t *srv, const char **listen_spec,
    int *threads, const char **access, long *socket_mode,
    const char **console)
{
    const char  *val;
    char        *end;
    long         n;
    int          i, r;

    for (i = 0; i < p->argc; i++) {
        if ((r = pitctl_opt_value(p->argc, p->argv, &i, "--listen",
                                  listen_spec))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--user-header",
                                     &srv->user_header))
            || (r = pitctl_opt_value(p->argc, p->argv, &i,
                                     "--identity-header",
                                     &srv->user_header))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--redis",
                                     &p->redis_url))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--prefix",
                                     &p->prefix))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--hash-key",
                                     &p->hash_key_file))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--origin",
                                     &srv->origin))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--access-log",
                                     access))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--console",
                                     console)))
        {
            if (r < 0) {
                return pitctl_usage_error(&serve_me, "%s needs a value",
                                          p->argv[i]);
            }
            continue;
        }

        if ((r = pitctl_opt_value(p->argc, p->argv, &i, "--trusted-proxy",
                                  &val)) != 0)
        {
            if (r < 0 || srv->nproxies == API_PROXIES_MAX
                || api_cidr_parse(val, &srv->proxies[srv->nproxies])
                   != PIT_OK)
            {
                return pitctl_fail(EXIT_USAGE, "serve: --trusted-proxy takes "
                                   "ADDR or ADDR/BITS (at most %d)",
                                   API_PROXIES_MAX);
            }
            srv->nproxies++;
            continue;
        }

        r = pitctl_opt_value(p->argc, p->argv, &i, "--issue-rate", &val);
        if (r != 0) {
            if (serve_number(r, val, 100000, &n) != 0) {
                return pitctl_fail(EXIT_USAGE, "serve: --issue-rate takes "
                                   "a number of tokens a minute (0: no "
                                   "limit)");
            }
            srv->issue_rate = (int) n;
            continue;
        }

        r = pitctl_opt_value(p->argc, p->argv, &i, "--socket-mode", &val);
        if (r != 0) {
            errno = 0;
            *socket_mode = r > 0 ? strtol(val, &end, 8) : -1;
            if (r < 0 || errno || *end != '\0' || *socket_mode < 0
                || *socket_mode > 0777)
            {
                return pitctl_fail(EXIT_USAGE, "serve: --socket-mode takes "
                                   "an octal mode such as 0660");
            }
            continue;
        }

        r = pitctl_opt_value(p->argc, p->argv, &i, "--threads", &val);
        if (r != 0) {
            if (serve_number(r, val, SERVE_THREADS_MAX, &n) != 0) {
                return pitctl_fail(EXIT_USAGE, "serve: --threads takes 1-%d",
                                   SERVE_THREADS_MAX);
            }
            *threads = (int) n;
            continue;
        }

        return pitctl_usage_error(&serve_me, "unexpected argument \"%s\"",
                                  p->argv[i]);
    }

    if (*listen_spec == NULL) {
        *listen_spec = SERVE_LISTEN_DEFAULT;
    }

    if (srv->user_header[0] == '\0') {
        return pitctl_usage_error(&serve_me, "%s", "--user-header needs a "
                                  "header name");
    }

    if (*threads < 1 || *threads > SERVE_THREADS_MAX) {
        return pitctl_fail(EXIT_USAGE, "serve: --threads takes 1-%d",
                           SERVE_THREADS_MAX);
    }

    return 0;
}


/* Waits for SIGTERM or SIGINT (blocked in every thread). */
static int
serve_wait_signal(void)
{
    sigset_t  set;
    int       sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);

    while (sigwait(&set, &sig) != 0) {
        /* void */
    }

    return sig;
}


/* Stops accepting, waits for the requests in flight, stops. */
static void
serve_drain(api_server_t *srv, struct MHD_Daemon *d)
{
    struct timespec  pause = { 0, 10 * 1000 * 1000 };
    MHD_socket       fd;
    long             left;
    int              waited;

    fd = MHD_quiesce_daemon(d);

    for (waited = 0; waited < SERVE_DRAIN_MS; waited += 10) {
        pthread_mutex_lock(&srv->lock);
        left = srv->in_flight;
        pthread_mutex_unlock(&srv->lock);
        if (left == 0) {
            break;
        }
        nanosleep(&pause, NULL);
    }

    MHD_stop_daemon(d);
    if (fd != MHD_INVALID_SOCKET) {
        close(fd);
    }
}


int
pitctl_cmd_serve(pitctl_t *p)
{
    api_server_t       *srv;
    struct MHD_Daemon  *d;
    const char         *listen_spec, *access, *console;
    sigset_t            set;
    long                socket_mode;
    int                 fd, threads, code, sig;

    socket_mode = 0660;
    srv = calloc(1, sizeof(api_server_t));
    if (srv == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    srv->p = p;
    srv->user_header = "X-Remote-User";
    srv->issue_rate = 30;
    srv->access_fd = STDERR_FILENO;
    listen_spec = access = console = NULL;
    threads = SERVE_THREADS_DEFAULT;

    code = serve_options(p, srv, &listen_spec, &threads, &access,
                         &socket_mode, &console);
    if (code != 0) {
        free(srv);
        return code;
    }

    /* the admin console (pitctl_static.c): --console DIR, none, or the
     * installed one if it is there */
    if (console == NULL || strcmp(console, "none") != 0) {
        srv->console = api_static_load(console ? console : PITCTL_CONSOLE_DIR,
                                       console != NULL);
        if (srv->console == NULL && console != NULL) {
            free(srv);
            return EXIT_USAGE;
        }
    }

    if (access != NULL && strcmp(access, "-") != 0) {
        srv->access_fd = open(access, O_WRONLY | O_CREAT | O_APPEND
                                      | O_CLOEXEC, 0640);
        if (srv->access_fd < 0) {
            free(srv);
            return pitctl_fail(EXIT_USAGE, "serve: %s: %s", access,
                               strerror(errno));
        }
    }

    /* the store is opened once here: a wrong URL or key fails now */
    code = pitctl_open_store(p);
    if (code != 0) {
        free(srv);
        return code;
    }

    fd = serve_listen(srv, listen_spec, socket_mode);
    if (fd < 0) {
        free(srv);
        return EXIT_USAGE;
    }

    pthread_mutex_init(&srv->lock, NULL);
    pthread_key_create(&srv->store_key, store_free);

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
                         | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         serve_request, srv,
                         MHD_OPTION_EXTERNAL_LOGGER, serve_mhd_log, NULL,
                         MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned) threads,
                         MHD_OPTION_NOTIFY_COMPLETED, serve_completed, srv,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned) 1000,
                         MHD_OPTION_END);
    if (d == NULL) {
        close(fd);
        free(srv);
        return pitctl_fail(EXIT_USAGE, "serve: libmicrohttpd did not start");
    }

    fprintf(stderr, "pitctl serve: listening on %s (%d threads, issue rate "
            "%d/min per admin, %zu trusted proxies%s; console: %zu files)\n",
            listen_spec, threads, srv->issue_rate, srv->nproxies,
            srv->unix_socket ? ", the unix socket trusted" : "",
            api_static_count(srv->console));

    sig = serve_wait_signal();
    fprintf(stderr, "pitctl serve: %s: stopping after the requests in "
            "flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");

    serve_drain(srv, d);

    if (srv->access_fd != STDERR_FILENO) {
        close(srv->access_fd);
    }
    pthread_mutex_destroy(&srv->lock);
    free(srv);

    fprintf(stderr, "pitctl serve: stopped\n");
    return 0;
}
