/*
 * Fuzz target: pitctl's Redis URL (--redis, PIT_REDIS_URL), parsed by
 * pit_redis_url_parse.
 *
 * An accepted URL has NUL-terminated fields within their bounds, a port in
 * 1..65535 for TCP, and a unix path that starts with '/'.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static pit_redis_url_t  u;
    pit_err_t               rc;

    memset(&u, 0xa5, sizeof(u));
    rc = pit_redis_url_parse((const char *) data, size, &u);
    if (rc != PIT_OK) {
        if (rc != PIT_ERR_URL) abort();
        return 0;
    }
    if (memchr(u.host, 0, sizeof(u.host)) == NULL
        || memchr(u.path, 0, sizeof(u.path)) == NULL
        || memchr(u.user, 0, sizeof(u.user)) == NULL
        || memchr(u.password, 0, sizeof(u.password)) == NULL)
        abort();
    if (u.db < 0 || u.db > 999999) abort();
    if (u.unix_socket) {
        if (u.path[0] != '/') abort();
    } else {
        if (u.port < 1 || u.port > 65535 || u.host[0] == '\0') abort();
    }
    return 0;
}
