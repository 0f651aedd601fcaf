/*
 * pitctl serve: the admin console's static files.
 *
 * At start-up every regular file under the console directory (default
 * PITCTL_CONSOLE_DIR, the installed console; --console DIR) whose name
 * ends in a known extension is read into memory, with its URL path.  A
 * request is answered from that list only, by exact comparison of the
 * path: nothing is looked up on disk at request time, so no path (with
 * "..", "%2e", "//" or a symbolic link) reaches any other file.  Symbolic
 * links and names starting with "." are skipped when loading.
 *
 * Every file is sent with the console's security headers: a Content-
 * Security-Policy that allows scripts, styles, images and fetches from
 * this origin only (no inline script or style) and no framing, nosniff,
 * no Referer, and Cache-Control: no-store (the pages show tokens).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pitctl_static.h"

#define STATIC_FILES_MAX   256
#define STATIC_BYTES_MAX   (16 * 1024 * 1024)
#define STATIC_DEPTH_MAX   4
#define STATIC_PATH_MAX    512

typedef struct {
    char        *path;                    /* "/js/app.js" */
    const char  *type;
    char        *data;
    size_t       len;
} static_file_t;

struct api_static_s {
    size_t          n;
    size_t          bytes;
    static_file_t   files[STATIC_FILES_MAX];
};

static const struct {
    const char  *ext;
    const char  *type;
} static_types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".css",  "text/css; charset=utf-8" },
    { ".js",   "text/javascript; charset=utf-8" },
    { ".mjs",  "text/javascript; charset=utf-8" },
    { ".json", "application/json; charset=utf-8" },
    { ".svg",  "image/svg+xml" },
    { ".png",  "image/png" },
    { ".ico",  "image/x-icon" },
    { ".txt",  "text/plain; charset=utf-8" },
};

static const char *const static_headers[] = {
    "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self'; connect-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'",
    "X-Content-Type-Options", "nosniff",
    "Referrer-Policy", "no-referrer",
    "X-Frame-Options", "DENY",
    "Cross-Origin-Opener-Policy", "same-origin",
    "Cross-Origin-Resource-Policy", "same-origin",
    "Cache-Control", "no-store",
    NULL
};


static const char *
static_type(const char *name)
{
    size_t  i, n, e;

    n = strlen(name);
    for (i = 0; i < sizeof(static_types) / sizeof(static_types[0]); i++) {
        e = strlen(static_types[i].ext);
        if (n > e && strcmp(name + n - e, static_types[i].ext) == 0) {
            return static_types[i].type;
        }
    }

    return NULL;
}


static int
static_add(api_static_t *s, const char *file, const char *url,
    const char *type)
{
    static_file_t  *f;
    struct stat     sb;
    ssize_t         r;
    size_t          got;
    int             fd;

    if (s->n == STATIC_FILES_MAX) {
        fprintf(stderr, "pitctl serve: --console: more than %d files\n",
                STATIC_FILES_MAX);
        return -1;
    }

    fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "pitctl serve: --console: %s: %s\n", file,
                fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }

    if ((size_t) sb.st_size > STATIC_BYTES_MAX - s->bytes) {
        fprintf(stderr, "pitctl serve: --console: more than %d bytes\n",
                STATIC_BYTES_MAX);
        close(fd);
        return -1;
    }

    f = &s->files[s->n];
    f->len = (size_t) sb.st_size;
    f->data = malloc(f->len + 1);
    f->path = strdup(url);
    f->type = type;
    if (f->data == NULL || f->path == NULL) {
        close(fd);
        return -1;
    }

    for (got = 0; got < f->len; got += (size_t) r) {
        r = read(fd, f->data + got, f->len - got);
        if (r <= 0) {
            fprintf(stderr, "pitctl serve: --console: %s: short read\n",
                    file);
            close(fd);
            return -1;
        }
    }

    close(fd);
    s->bytes += f->len;
    s->n++;
    return 0;
}


static int
static_walk(api_static_t *s, const char *dir, const char *url, int depth)
{
    DIR            *d;
    struct dirent  *de;
    struct stat     sb;
    char            file[STATIC_PATH_MAX], sub[STATIC_PATH_MAX];
    const char     *type;
    int             rc;

    d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "pitctl serve: --console: %s: %s\n", dir,
                strerror(errno));
        return -1;
    }

    rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;                   /* ".", "..", dot files */
        }

        if ((size_t) snprintf(file, sizeof(file), "%s/%s", dir, de->d_name)
                >= sizeof(file)
            || (size_t) snprintf(sub, sizeof(sub), "%s/%s", url, de->d_name)
                >= sizeof(sub))
        {
            continue;
        }

        if (lstat(file, &sb) != 0) {
            continue;
        }

        if (S_ISDIR(sb.st_mode)) {
            if (depth < STATIC_DEPTH_MAX) {
                rc = static_walk(s, file, sub, depth + 1);
            }
            continue;
        }

        type = static_type(de->d_name);
        if (!S_ISREG(sb.st_mode) || type == NULL) {
            continue;                   /* symbolic links, other kinds */
        }

        rc = static_add(s, file, sub, type);
    }

    closedir(d);
    return rc;
}


api_static_t *
api_static_load(const char *dir, int required)
{
    api_static_t  *s;
    struct stat    sb;

    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        if (required) {
            fprintf(stderr, "pitctl serve: --console %s: not a directory\n",
                    dir);
        }
        return NULL;
    }

    s = calloc(1, sizeof(api_static_t));
    if (s == NULL) {
        return NULL;
    }

    if (static_walk(s, dir, "", 0) != 0) {
        /* the process exits: what was read is left to it */
        return NULL;
    }

    return s;
}


size_t
api_static_count(const api_static_t *s)
{
    return s ? s->n : 0;
}


int
api_static_serve(const api_static_t *s, struct MHD_Connection *c,
    const char *method, const char *path, int *status,
    enum MHD_Result *ret)
{
    struct MHD_Response  *r;
    const static_file_t  *f;
    size_t                i;

    if (s == NULL
        || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
    {
        return 0;
    }

    if (strcmp(path, "/") == 0) {
        path = "/index.html";
    }

    f = NULL;
    for (i = 0; i < s->n; i++) {
        if (strcmp(s->files[i].path, path) == 0) {
            f = &s->files[i];
            break;
        }
    }

    if (f == NULL) {
        return 0;
    }

    r = MHD_create_response_from_buffer(f->len, f->data,
                                        MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        *ret = MHD_NO;
        return 1;
    }

    MHD_add_response_header(r, "Content-Type", f->type);
    for (i = 0; static_headers[i] != NULL; i += 2) {
        MHD_add_response_header(r, static_headers[i], static_headers[i + 1]);
    }

    *status = MHD_HTTP_OK;
    *ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return 1;
}
