/*
 * pit-auth core: admins of the admin API (pitctl serve), their record and
 * their tokens.
 *
 * An admin is a user name, as the front proxy authenticates it (or as an
 * admin token names it), with the accounts whose private integrations it
 * may manage (a list, or all) and the account owner's switch "private
 * integrations allowed".  The record, <prefix>admin:<name>:
 *
 *   {"v":1,"name":"alice","all":false,"accounts":["acct1"],
 *    "pi_allowed":true,"created_at":1720630740000,
 *    "updated_at":1720630740000,"created_by":"root",
 *    "tokens":[{"hash":"<64 hex>","hint":"pat-6490****-****-****-****e762",
 *               "created_at":1720630740000}]}
 *
 * An admin token is "pat-" and 32 lowercase hex digits in UUID shape, as
 * an integration token is "pit-": 128 bits from RAND_bytes, stored only
 * hashed (pit_token_hash(), the same hash key), masked by
 * pit_token_redact() like an integration token.
 */

#ifndef PIT_ADMIN_H
#define PIT_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "pit_error.h"
#include "pit_record.h"
#include "pit_token.h"

#define PIT_ADMIN_VERSION        1
#define PIT_ADMIN_NAME_MAX       64      /* [A-Za-z0-9._@+-]{1,64} */
#define PIT_ADMIN_ACCOUNTS_MAX   64
#define PIT_ADMIN_TOKENS_MAX     4
#define PIT_ADMIN_JSON_MAX       16384   /* no record is larger */
#define PIT_ADMIN_TOKEN_PREFIX   "pat-"

typedef struct {
    char     hash[PIT_HASH_HEX_LEN + 1];
    char     hint[PIT_HINT_LEN + 1];
    int64_t  created_at_ms;
} pit_admin_token_t;

typedef struct {
    char               name[PIT_ADMIN_NAME_MAX + 1];
    int                all;              /* 1: every account */
    size_t             naccounts;
    char               accounts[PIT_ADMIN_ACCOUNTS_MAX][PIT_ACCOUNT_MAX + 1];
    int                pi_allowed;       /* 0: may manage nothing */
    int64_t            created_at_ms;
    int64_t            updated_at_ms;
    char               created_by[PIT_CREATED_BY_MAX_BYTES + 1];
    size_t             ntokens;
    pit_admin_token_t  tokens[PIT_ADMIN_TOKENS_MAX];
} pit_admin_t;

/* Returns PIT_OK if s[0..len) is an admin name, else PIT_ERR_FIELD. */
pit_err_t pit_admin_name_validate(const char *s, size_t len);

/*
 * Adds an account to a's list (kept sorted, no duplicates).  Returns
 * PIT_OK, PIT_ERR_ACCOUNT or PIT_ERR_TOO_LARGE (PIT_ADMIN_ACCOUNTS_MAX).
 */
pit_err_t pit_admin_add_account(pit_admin_t *a, const char *acct);

/*
 * The rule of the admin API: returns PIT_OK if a may manage the private
 * integrations of account acct (pi_allowed, and acct in its list or all),
 * else PIT_ERR_FORBIDDEN.
 */
pit_err_t pit_admin_may(const pit_admin_t *a, const char *acct);

/* Encodes a (compact JSON plus a NUL); PIT_ERR_FIELD if a is invalid. */
pit_err_t pit_admin_to_json(const pit_admin_t *a, char *buf, size_t cap,
    size_t *len);

/*
 * Decodes an admin record strictly (as pit_integration_from_json():
 * PIT_ERR_JSON, PIT_ERR_VERSION, PIT_ERR_FIELD; unknown fields ignored).
 */
pit_err_t pit_admin_from_json(const char *json, size_t len, pit_admin_t *a);

/* Writes a fresh admin token and a NUL into out (PIT_TOKEN_LEN + 1). */
pit_err_t pit_admin_token_generate(char *out);

/* Returns PIT_OK if s[0..len) is an admin token, else
 * PIT_ERR_TOKEN_MALFORMED. */
pit_err_t pit_admin_token_validate(const char *s, size_t len);

/*
 * Extracts an admin token from an Authorization value: "Bearer pat-..."
 * (scheme case-insensitive).  PIT_ERR_AUTH_SCHEME when the value is not a
 * Bearer credential (e.g. the front proxy's Basic), PIT_ERR_AUTH_EMPTY,
 * PIT_ERR_TOKEN_MALFORMED.
 */
pit_err_t pit_admin_token_from_authorization(const char *value, size_t len,
    const char **token, size_t *token_len);

/* Writes the hint of an admin token ("pat-6490****-...-****e762"). */
void pit_admin_token_hint(const char *token, size_t len, char *out);

#endif /* PIT_ADMIN_H */
