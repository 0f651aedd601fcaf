/*
 * pit-auth core: error codes shared by every core function.
 *
 * Every fallible core function returns a pit_err_t; PIT_OK is zero so that
 * "if (rc != PIT_OK)" reads naturally.  pit_strerror() gives a short,
 * lower-case, secret-free description suitable for logs and CLI messages.
 */

#ifndef PIT_ERROR_H
#define PIT_ERROR_H

typedef enum {
    PIT_OK = 0,

    /* generic */
    PIT_ERR_ARG,              /* impossible argument: NULL, buffer too small */
    PIT_ERR_NOMEM,            /* allocation failed */
    PIT_ERR_RANDOM,           /* RAND_bytes() failed */
    PIT_ERR_CRYPTO,           /* SHA-256 / HMAC failed */
    PIT_ERR_IO,               /* a file could not be read */

    /* Authorization header and token */
    PIT_ERR_AUTH_EMPTY,       /* empty value, or "Bearer" with no token */
    PIT_ERR_AUTH_SCHEME,      /* another scheme: "Basic ...", "Token ..." */
    PIT_ERR_TOKEN_MALFORMED,  /* not pit- + 8-4-4-4-12 lowercase hex */
    PIT_ERR_HASH_KEY,         /* hash key file empty, too short or too long */

    /* scopes */
    PIT_ERR_SCOPE_INVALID,    /* a scope name breaks the grammar */
    PIT_ERR_SCOPE_TOO_MANY,   /* more than PIT_SCOPES_MAX scopes */
    PIT_ERR_SCOPE_UNKNOWN,    /* not in the catalogue */
    PIT_ERR_SCOPE_MISSING,    /* a requirement expression is not satisfied */
    PIT_ERR_EXPR_INVALID,     /* a requirement expression breaks the grammar */

    /* records */
    PIT_ERR_JSON,             /* not JSON, or not an object */
    PIT_ERR_VERSION,          /* "v" is missing or unknown */
    PIT_ERR_FIELD,            /* a field is missing, of the wrong type or
                                 out of range */
    PIT_ERR_TOO_LARGE,        /* input or output exceeds its bound */
    PIT_ERR_NAME,             /* name is not 1-200 characters of text */
    PIT_ERR_DESCRIPTION,      /* description over 500 characters, or not text */
    PIT_ERR_ACCOUNT,          /* account id is not [A-Za-z0-9_-]{1,64} */
    PIT_ERR_TEXT,             /* invalid UTF-8 or a control character */

    /* rotation and store */
    PIT_ERR_STATE,            /* operation not allowed in this rotation state */
    PIT_ERR_NOT_FOUND,        /* no such integration; no such query
                                 parameter (pit_query.h) */
    PIT_ERR_CONFLICT,         /* name taken in the account */
    PIT_ERR_BUSY,             /* concurrent changes: WATCH retries exhausted */
    PIT_ERR_REDIS,            /* Redis unreachable, or a command failed */
    PIT_ERR_CORRUPT,          /* Redis holds data we cannot decode */
    PIT_ERR_REPLICATION,      /* change applied on the primary, but fewer
                                 replicas than asked acknowledged it */
    PIT_ERR_NO_PRIMARY,       /* no primary found through the sentinels
                                 in time; the change was not applied */
    PIT_ERR_MAYBE_APPLIED,    /* the primary was lost after the change was
                                 sent, and none was found in time to tell
                                 whether it was applied */
    PIT_ERR_META,             /* the store's mark (<prefix>meta) names
                                 another hash mode or key */

    /* configuration values */
    PIT_ERR_URL,              /* Redis URL does not parse */
    PIT_ERR_DURATION,         /* duration does not parse */
    PIT_ERR_PREFIX,           /* key prefix empty, too long or not printable */

    /* requests read two ways (pit_query.h, pit_path.h) */
    PIT_ERR_DUPLICATE,        /* a query parameter given more than once */
    PIT_ERR_ENCODING,         /* bad percent-encoding, invalid UTF-8 or a
                                 control character in a query parameter */
    PIT_ERR_AMBIGUOUS,        /* a request that upstreams may read two ways */

    /* admins (pit_admin.h) and guarded changes (pit_store.h) */
    PIT_ERR_FORBIDDEN,        /* the admin may not manage this account, or
                                 private integrations are not allowed */
    PIT_ERR_STALE,            /* the integration changed since the version
                                 the caller read (its etag) */

    PIT_ERR_LAST
} pit_err_t;

/* Returns a static, secret-free description of rc; never NULL. */
const char *pit_strerror(pit_err_t rc);

#endif /* PIT_ERROR_H */
