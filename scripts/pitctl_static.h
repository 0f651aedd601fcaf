/*
 * pitctl serve --console DIR: the admin console's files (console/ in the
 * repository), served under / next to the API.  See pitctl_static.c.
 */

#ifndef PITCTL_STATIC_H
#define PITCTL_STATIC_H

#include <microhttpd.h>

#ifndef PITCTL_CONSOLE_DIR
#define PITCTL_CONSOLE_DIR  "/usr/share/pit-auth/console"
#endif

typedef struct api_static_s  api_static_t;

/*
 * Reads every regular file under dir (no symbolic links, no dot files,
 * known extensions only) into memory.  Returns the set, or NULL with a
 * message on stderr.  A missing dir is an error only if required.
 */
api_static_t *api_static_load(const char *dir, int required);

/* The number of files loaded. */
size_t api_static_count(const api_static_t *s);

/*
 * If method is GET or HEAD and path names a loaded file ("/" is
 * "/index.html"), queues it with its Content-Type and the console's
 * security headers, sets *status and returns 1 (*ret the MHD result);
 * else returns 0 and the request goes on to the API's routes.
 */
int api_static_serve(const api_static_t *s, struct MHD_Connection *c,
    const char *method, const char *path, int *status,
    enum MHD_Result *ret);

#endif /* PITCTL_STATIC_H */
