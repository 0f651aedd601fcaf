/*
 * pit-auth core: descriptions of error codes.
 *
 * The strings are static, lower-case and never carry input: they end up in
 * nginx's error.log and in pitctl's messages, next to whatever context the
 * caller adds.
 */

#include "pit_error.h"

/* Returns a static, secret-free description of rc; never NULL. */
const char *pit_strerror(pit_err_t rc) {
    switch (rc) {
    case PIT_OK:                  return "success";

    case PIT_ERR_ARG:             return "invalid argument";
    case PIT_ERR_NOMEM:           return "out of memory";
    case PIT_ERR_RANDOM:          return "random number generator failed";
    case PIT_ERR_CRYPTO:          return "hash computation failed";
    case PIT_ERR_IO:              return "file could not be read";

    case PIT_ERR_AUTH_EMPTY:      return "no credentials in authorization";
    case PIT_ERR_AUTH_SCHEME:     return "authorization scheme is not bearer";
    case PIT_ERR_TOKEN_MALFORMED: return "malformed token";
    case PIT_ERR_HASH_KEY:        return "hash key must be 16 to 256 bytes";

    case PIT_ERR_SCOPE_INVALID:   return "invalid scope name";
    case PIT_ERR_SCOPE_TOO_MANY:  return "too many scopes";
    case PIT_ERR_SCOPE_UNKNOWN:   return "unknown scope";
    case PIT_ERR_SCOPE_MISSING:   return "insufficient scope";
    case PIT_ERR_EXPR_INVALID:    return "invalid scope expression";

    case PIT_ERR_JSON:            return "invalid json";
    case PIT_ERR_VERSION:         return "unknown record version";
    case PIT_ERR_FIELD:           return "missing or invalid field";
    case PIT_ERR_TOO_LARGE:       return "value too large";
    case PIT_ERR_NAME:            return "name must be 1 to 200 characters";
    case PIT_ERR_DESCRIPTION:
        return "description must be at most 500 characters";
    case PIT_ERR_ACCOUNT:         return "invalid account id";
    case PIT_ERR_TEXT:            return "invalid utf-8 or control character";

    case PIT_ERR_STATE:
        return "operation not allowed in this rotation state";
    case PIT_ERR_NOT_FOUND:       return "no such integration";
    case PIT_ERR_CONFLICT:        return "name already used in this account";
    case PIT_ERR_BUSY:            return "concurrent changes, try again";
    case PIT_ERR_REDIS:           return "redis unavailable or command failed";
    case PIT_ERR_CORRUPT:         return "corrupt data in redis";

    case PIT_ERR_URL:             return "invalid redis url";
    case PIT_ERR_DURATION:        return "invalid duration";
    case PIT_ERR_REPLICATION:     return "change applied, but not acknowledged by enough replicas";
    case PIT_ERR_NO_PRIMARY:
        return "no primary answered in time; the change was not applied";
    case PIT_ERR_MAYBE_APPLIED:
        return "primary lost after the change was sent; it may have been "
               "applied";
    case PIT_ERR_META:
        return "store is marked for another hash mode or key";
    case PIT_ERR_PREFIX:          return "invalid key prefix";

    case PIT_ERR_DUPLICATE:       return "query parameter given more than once";
    case PIT_ERR_ENCODING:
        return "bad percent-encoding or control character in query";
    case PIT_ERR_AMBIGUOUS:       return "request can be read two ways";

    case PIT_ERR_FORBIDDEN:
        return "admin may not manage this account's integrations";
    case PIT_ERR_STALE:
        return "integration changed since it was read";

    case PIT_ERR_LAST:            break;
    }

    return "unknown error";
}
