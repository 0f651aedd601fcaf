/*
 * Fuzz target: pitctl's Redis URL (--redis, PIT_REDIS_URL), parsed by
 * pit_redis_url_parse.
 *
 * An accepted URL has NUL-terminated fields within their bounds, a port in
 * 1..65535 for TCP, and a unix path that starts with '/'; a sentinel URL
 * has 1..PIT_URL_SENTINELS_MAX sentinels, each with a host and a port,
 * and a master name.
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
    if (memchr(u.master, 0, sizeof(u.master)) == NULL
        || memchr(u.sentinel_user, 0, sizeof(u.sentinel_user)) == NULL
        || memchr(u.sentinel_password, 0, sizeof(u.sentinel_password))
           == NULL)
        abort();
    if (u.sentinel) {
        size_t i;

        if (u.unix_socket || u.nsentinels < 1
            || u.nsentinels > PIT_URL_SENTINELS_MAX || u.master[0] == '\0')
            abort();
        for (i = 0; i < u.nsentinels; i++) {
            if (memchr(u.sentinels[i].host, 0, sizeof(u.sentinels[i].host))
                    == NULL
                || u.sentinels[i].host[0] == '\0'
                || u.sentinels[i].port < 1 || u.sentinels[i].port > 65535)
                abort();
        }
    } else if (u.unix_socket) {
        if (u.path[0] != '/') abort();
    } else {
        if (u.port < 1 || u.port > 65535 || u.host[0] == '\0') abort();
    }
    return 0;
}
