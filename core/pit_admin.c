/*
 * pit-auth core: admin records and admin tokens (see pit_admin.h).
 *
 * An admin token has the shape of an integration token with "pat-" for
 * "pit-", so its checks, hint and masking are the integration token's,
 * applied to a copy spelled "pit-": one rule for the shape of a secret.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "pit_admin.h"

#define PIT_ADMIN_TOKEN_WORD  3          /* "pat" / "pit" */


/* =============================================================================
 * Names and the permission rule
 * ==========================================================================*/

pit_err_t pit_admin_name_validate(const char *s, size_t len) {
    size_t         i;
    unsigned char  c;

    if (s == NULL || len == 0 || len > PIT_ADMIN_NAME_MAX) {
        return PIT_ERR_FIELD;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@'
              || c == '+' || c == '-'))
        {
            return PIT_ERR_FIELD;
        }
    }

    return PIT_OK;
}


pit_err_t pit_admin_add_account(pit_admin_t *a, const char *acct) {
    size_t  i, len;
    int     cmp;

    len = strlen(acct);
    if (pit_account_validate(acct, len) != PIT_OK) {
        return PIT_ERR_ACCOUNT;
    }

    for (i = 0; i < a->naccounts; i++) {
        cmp = strcmp(a->accounts[i], acct);
        if (cmp == 0) {
            return PIT_OK;
        }
        if (cmp > 0) {
            break;
        }
    }

    if (a->naccounts == PIT_ADMIN_ACCOUNTS_MAX) {
        return PIT_ERR_TOO_LARGE;
    }

    memmove(a->accounts[i + 1], a->accounts[i],
            (a->naccounts - i) * sizeof(a->accounts[0]));
    memcpy(a->accounts[i], acct, len + 1);
    a->naccounts++;

    return PIT_OK;
}


pit_err_t pit_admin_may(const pit_admin_t *a, const char *acct) {
    size_t  i;

    if (a == NULL || acct == NULL || !a->pi_allowed) {
        return PIT_ERR_FORBIDDEN;
    }

    if (a->all) {
        return PIT_OK;
    }

    for (i = 0; i < a->naccounts; i++) {
        if (strcmp(a->accounts[i], acct) == 0) {
            return PIT_OK;
        }
    }

    return PIT_ERR_FORBIDDEN;
}


/* =============================================================================
 * JSON
 * ==========================================================================*/

/* Returns 1 if s is 64 lowercase hex digits. */
static int pit_admin_hash_valid(const char *s, size_t len) {
    size_t  i;

    if (len != PIT_HASH_HEX_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


/* Returns PIT_OK if a holds what a record may hold. */
static pit_err_t pit_admin_check(const pit_admin_t *a) {
    size_t  i;

    if (pit_admin_name_validate(a->name, strnlen(a->name, sizeof(a->name)))
        != PIT_OK
        || a->naccounts > PIT_ADMIN_ACCOUNTS_MAX
        || a->ntokens > PIT_ADMIN_TOKENS_MAX
        || a->created_at_ms < 0 || a->updated_at_ms < 0
        || pit_created_by_validate(a->created_by,
                                   strnlen(a->created_by,
                                           sizeof(a->created_by))) != PIT_OK)
    {
        return PIT_ERR_FIELD;
    }

    for (i = 0; i < a->naccounts; i++) {
        if (pit_account_validate(a->accounts[i],
                                 strnlen(a->accounts[i], PIT_ACCOUNT_MAX + 1))
            != PIT_OK)
        {
            return PIT_ERR_FIELD;
        }
    }

    for (i = 0; i < a->ntokens; i++) {
        if (!pit_admin_hash_valid(a->tokens[i].hash,
                                  strnlen(a->tokens[i].hash,
                                          PIT_HASH_HEX_LEN + 1))
            || strnlen(a->tokens[i].hint, PIT_HINT_LEN + 1) > PIT_HINT_LEN)
        {
            return PIT_ERR_FIELD;
        }
    }

    return PIT_OK;
}


pit_err_t pit_admin_to_json(const pit_admin_t *a, char *buf, size_t cap,
    size_t *len)
{
    json_t  *o, *accts, *toks, *t;
    size_t   i, n;
    char    *s;

    if (a == NULL || buf == NULL || cap == 0) {
        return PIT_ERR_ARG;
    }

    buf[0] = '\0';
    if (pit_admin_check(a) != PIT_OK) {
        return PIT_ERR_FIELD;
    }

    o = json_object();
    accts = json_array();
    toks = json_array();
    if (o == NULL || accts == NULL || toks == NULL) {
        json_decref(o);
        json_decref(accts);
        json_decref(toks);
        return PIT_ERR_NOMEM;
    }

    for (i = 0; i < a->naccounts; i++) {
        json_array_append_new(accts, json_string(a->accounts[i]));
    }

    for (i = 0; i < a->ntokens; i++) {
        t = json_object();
        json_object_set_new(t, "hash", json_string(a->tokens[i].hash));
        json_object_set_new(t, "hint", json_string(a->tokens[i].hint));
        json_object_set_new(t, "created_at",
                            json_integer(a->tokens[i].created_at_ms));
        json_array_append_new(toks, t);
    }

    json_object_set_new(o, "v", json_integer(PIT_ADMIN_VERSION));
    json_object_set_new(o, "name", json_string(a->name));
    json_object_set_new(o, "all", json_boolean(a->all));
    json_object_set_new(o, "accounts", accts);
    json_object_set_new(o, "pi_allowed", json_boolean(a->pi_allowed));
    json_object_set_new(o, "created_at", json_integer(a->created_at_ms));
    json_object_set_new(o, "updated_at", json_integer(a->updated_at_ms));
    json_object_set_new(o, "created_by", json_string(a->created_by));
    json_object_set_new(o, "tokens", toks);

    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s == NULL) {
        return PIT_ERR_NOMEM;
    }

    n = strlen(s);
    if (n >= cap) {
        free(s);
        return PIT_ERR_TOO_LARGE;
    }

    memcpy(buf, s, n + 1);
    free(s);
    if (len != NULL) {
        *len = n;
    }

    return PIT_OK;
}


/* Copies the string v into buf (cap with the NUL); 0 if it does not fit
 * or is not a string. */
static int pit_admin_copy(json_t *v, char *buf, size_t cap) {
    size_t  n;

    if (!json_is_string(v)) {
        return 0;
    }

    n = json_string_length(v);
    if (n >= cap || memchr(json_string_value(v), '\0', n) != NULL) {
        return 0;
    }

    memcpy(buf, json_string_value(v), n + 1);
    return 1;
}


static pit_err_t pit_admin_decode(json_t *o, pit_admin_t *a) {
    json_t  *v, *accts, *toks, *t, *c;
    size_t   i;

    v = json_object_get(o, "v");
    if (!json_is_integer(v) || json_integer_value(v) != PIT_ADMIN_VERSION) {
        return PIT_ERR_VERSION;
    }

    accts = json_object_get(o, "accounts");
    toks = json_object_get(o, "tokens");

    if (!pit_admin_copy(json_object_get(o, "name"), a->name, sizeof(a->name))
        || !json_is_boolean(json_object_get(o, "all"))
        || !json_is_boolean(json_object_get(o, "pi_allowed"))
        || !json_is_integer(json_object_get(o, "created_at"))
        || !json_is_integer(json_object_get(o, "updated_at"))
        || !pit_admin_copy(json_object_get(o, "created_by"), a->created_by,
                           sizeof(a->created_by))
        || !json_is_array(accts) || !json_is_array(toks)
        || json_array_size(accts) > PIT_ADMIN_ACCOUNTS_MAX
        || json_array_size(toks) > PIT_ADMIN_TOKENS_MAX)
    {
        return PIT_ERR_FIELD;
    }

    a->all = json_is_true(json_object_get(o, "all"));
    a->pi_allowed = json_is_true(json_object_get(o, "pi_allowed"));
    a->created_at_ms = json_integer_value(json_object_get(o, "created_at"));
    a->updated_at_ms = json_integer_value(json_object_get(o, "updated_at"));

    for (i = 0; i < json_array_size(accts); i++) {
        if (!pit_admin_copy(json_array_get(accts, i), a->accounts[i],
                            sizeof(a->accounts[i])))
        {
            return PIT_ERR_FIELD;
        }
    }
    a->naccounts = json_array_size(accts);

    for (i = 0; i < json_array_size(toks); i++) {
        t = json_array_get(toks, i);
        c = json_object_get(t, "created_at");
        if (!json_is_object(t)
            || !pit_admin_copy(json_object_get(t, "hash"), a->tokens[i].hash,
                               sizeof(a->tokens[i].hash))
            || !pit_admin_copy(json_object_get(t, "hint"), a->tokens[i].hint,
                               sizeof(a->tokens[i].hint))
            || !json_is_integer(c))
        {
            return PIT_ERR_FIELD;
        }
        a->tokens[i].created_at_ms = json_integer_value(c);
    }
    a->ntokens = json_array_size(toks);

    return pit_admin_check(a);
}


pit_err_t pit_admin_from_json(const char *json, size_t len, pit_admin_t *a) {
    json_error_t  err;
    json_t       *o;
    pit_err_t     rc;

    if (json == NULL || a == NULL) {
        return PIT_ERR_ARG;
    }

    memset(a, 0, sizeof(*a));
    if (len > PIT_ADMIN_JSON_MAX) {
        return PIT_ERR_JSON;
    }

    o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return PIT_ERR_JSON;
    }

    rc = pit_admin_decode(o, a);
    json_decref(o);

    if (rc != PIT_OK) {
        memset(a, 0, sizeof(*a));
    }

    return rc;
}


/* =============================================================================
 * Admin tokens
 * ==========================================================================*/

pit_err_t pit_admin_token_generate(char *out) {
    pit_err_t  rc;

    rc = pit_token_generate(out);
    if (rc == PIT_OK) {
        memcpy(out, PIT_ADMIN_TOKEN_PREFIX, PIT_ADMIN_TOKEN_WORD);
    }

    return rc;
}


pit_err_t pit_admin_token_validate(const char *s, size_t len) {
    char       copy[PIT_TOKEN_LEN];
    pit_err_t  rc;

    if (s == NULL || len != PIT_TOKEN_LEN
        || memcmp(s, PIT_ADMIN_TOKEN_PREFIX, 4) != 0)
    {
        return PIT_ERR_TOKEN_MALFORMED;
    }

    memcpy(copy, s, len);
    memcpy(copy, PIT_TOKEN_PREFIX, PIT_ADMIN_TOKEN_WORD);
    rc = pit_token_validate(copy, len);
    memset(copy, 0, sizeof(copy));

    return rc;
}


pit_err_t pit_admin_token_from_authorization(const char *value, size_t len,
    const char **token, size_t *token_len)
{
    size_t  i, end;

    if (value == NULL || token == NULL || token_len == NULL) {
        return PIT_ERR_ARG;
    }

    for (i = 0; i < len && (value[i] == ' ' || value[i] == '\t'); i++) {
        /* void */
    }

    if (i == len) {
        return PIT_ERR_AUTH_EMPTY;
    }

    if (len - i < 6 || strncasecmp(value + i, "bearer", 6) != 0
        || (len - i > 6 && value[i + 6] != ' ' && value[i + 6] != '\t'))
    {
        return PIT_ERR_AUTH_SCHEME;
    }

    for (i += 6; i < len && (value[i] == ' ' || value[i] == '\t'); i++) {
        /* void */
    }

    for (end = len; end > i && (value[end - 1] == ' '
                                || value[end - 1] == '\t'); end--)
    {
        /* void */
    }

    if (i == end) {
        return PIT_ERR_AUTH_EMPTY;
    }

    if (pit_admin_token_validate(value + i, end - i) != PIT_OK) {
        return PIT_ERR_TOKEN_MALFORMED;
    }

    *token = value + i;
    *token_len = end - i;
    return PIT_OK;
}


void pit_admin_token_hint(const char *token, size_t len, char *out) {
    char  copy[PIT_TOKEN_LEN];

    if (pit_admin_token_validate(token, len) != PIT_OK) {
        pit_token_hint("", 0, out);
        memcpy(out, PIT_ADMIN_TOKEN_PREFIX, PIT_ADMIN_TOKEN_WORD);
        return;
    }

    memcpy(copy, token, len);
    memcpy(copy, PIT_TOKEN_PREFIX, PIT_ADMIN_TOKEN_WORD);
    pit_token_hint(copy, len, out);
    memcpy(out, PIT_ADMIN_TOKEN_PREFIX, PIT_ADMIN_TOKEN_WORD);
    memset(copy, 0, sizeof(copy));
}
