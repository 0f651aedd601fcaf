/*
 * pitctl admin: the admins of the admin API (pitctl serve).
 *
 * An admin is the user name the front proxy authenticates (or an admin
 * token names), with the accounts it may manage and the switch "private
 * integrations allowed" (pit_admin.h).  Every change goes through the
 * store like an integration's: read under WATCH, changed, written with
 * its audit entry in one MULTI/EXEC (pit_store_admin_update), the
 * operator as "who".
 *
 *   admin add USER (--account ID... | --all-accounts) [--deny]
 *   admin list | admin show USER | admin remove USER
 *   admin allow USER | admin deny USER   the seed's per-user switch
 *   admin token USER               a new admin token, shown once
 *   admin token-revoke USER [HINT] one token (by its hint), or all
 *
 * Aliases kept from before: --all (--all-accounts), and admin edit USER
 * [--account ID...] [--all-accounts] [--allow | --deny].
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pit_admin.h"
#include "pit_store.h"
#include "pitctl.h"

static const pitctl_command_t  admin_me = { "admin", NULL,
    "admin add USER (--account ID... | --all-accounts) [--deny] | "
    "admin list | admin show USER | admin remove USER | "
    "admin allow USER | admin deny USER | "
    "admin token USER | admin token-revoke USER [HINT]" };

/* What one admin command asks of the record. */
typedef struct {
    int                 create;       /* add: refuse an existing admin */
    int                 edit;         /* edit: refuse an absent admin */
    int                 remove;
    int                 all;          /* --all-accounts */
    int                 allow;        /* 1 --allow, 0 --deny, -1 neither */
    int                 naccounts;
    const char         *accounts[PIT_ADMIN_ACCOUNTS_MAX];
    pit_admin_token_t  *issue;        /* token to add */
    const char         *revoke;       /* hint, "" for all, NULL none */
    int                 revoked;      /* how many */
} admin_change_t;


/* ------------------------------------------------------------------------
 * Output
 * --------------------------------------------------------------------- */

/* The admin as pitctl --json and GET /api/v1/me show it (no token
 * hash). */
static json_t *
admin_json(const pit_admin_t *a)
{
    json_t  *o, *accts, *toks, *t;
    size_t   i;

    o = json_object();
    accts = json_array();
    toks = json_array();

    for (i = 0; i < a->naccounts; i++) {
        json_array_append_new(accts, json_string(a->accounts[i]));
    }

    for (i = 0; i < a->ntokens; i++) {
        t = json_object();
        json_object_set_new(t, "hint", json_string(a->tokens[i].hint));
        json_object_set_new(t, "created_at",
                            json_integer(a->tokens[i].created_at_ms));
        json_array_append_new(toks, t);
    }

    json_object_set_new(o, "name", json_string(a->name));
    json_object_set_new(o, "all", json_boolean(a->all));
    json_object_set_new(o, "accounts", accts);
    json_object_set_new(o, "pi_allowed", json_boolean(a->pi_allowed));
    json_object_set_new(o, "created_at", json_integer(a->created_at_ms));
    json_object_set_new(o, "updated_at", json_integer(a->updated_at_ms));
    json_object_set_new(o, "created_by", json_string(a->created_by));
    json_object_set_new(o, "tokens", toks);

    return o;
}


json_t *
pitctl_json_admin(const pit_admin_t *a)
{
    return admin_json(a);
}


static void
admin_print(const pit_admin_t *a)
{
    char    when[32];
    size_t  i;

    printf("Admin        %s\n", a->name);
    printf("Accounts     ");
    if (a->all) {
        printf("all");
    }
    for (i = 0; !a->all && i < a->naccounts; i++) {
        printf("%s%s", i ? ", " : "", a->accounts[i]);
    }
    printf("%s\n", !a->all && a->naccounts == 0 ? "-" : "");
    printf("Private integrations  %s\n",
           a->pi_allowed ? "allowed" : "not allowed");
    pitctl_format_time(a->created_at_ms, when, sizeof(when));
    printf("Created On   %s by %s\n", when, a->created_by);
    printf("Tokens\n");
    for (i = 0; i < a->ntokens; i++) {
        pitctl_format_time(a->tokens[i].created_at_ms, when, sizeof(when));
        printf("  %s  created %s\n", a->tokens[i].hint, when);
    }
}


static int
admin_row(const pit_admin_t *a, void *arg)
{
    json_t  *arr = arg;
    char     accts[256];
    size_t   i, n;

    if (arr != NULL) {
        json_array_append_new(arr, admin_json(a));
        return 0;
    }

    n = 0;
    accts[0] = '\0';
    for (i = 0; i < a->naccounts && n + 2 < sizeof(accts); i++) {
        n += (size_t) snprintf(accts + n, sizeof(accts) - n, "%s%s",
                               i ? "," : "", a->accounts[i]);
    }

    printf("%-24s  %-8s  %-6zu  %s\n", a->name,
           a->pi_allowed ? "allowed" : "denied", a->ntokens,
           a->all ? "*" : (accts[0] ? accts : "-"));
    return 0;
}


/* ------------------------------------------------------------------------
 * The change
 * --------------------------------------------------------------------- */

static pit_err_t
admin_apply(pit_admin_t *a, int *exists, void *arg)
{
    admin_change_t  *ch = arg;
    size_t           i, j;
    int              k;
    pit_err_t        rc;

    if (ch->create && *exists) {
        return PIT_ERR_CONFLICT;
    }

    if ((ch->edit || ch->remove || ch->issue || ch->revoke) && !*exists) {
        return PIT_ERR_NOT_FOUND;
    }

    if (ch->remove) {
        *exists = 0;
        return PIT_OK;
    }

    if (ch->create) {
        a->pi_allowed = 1;
    }

    if (ch->all) {
        a->all = 1;
    }

    if (ch->naccounts > 0) {
        a->naccounts = 0;
        if (!ch->all) {
            a->all = 0;
        }
        for (k = 0; k < ch->naccounts; k++) {
            rc = pit_admin_add_account(a, ch->accounts[k]);
            if (rc != PIT_OK) {
                return rc;
            }
        }
    }

    if (ch->allow >= 0) {
        a->pi_allowed = ch->allow;
    }

    if (ch->issue != NULL) {
        if (a->ntokens == PIT_ADMIN_TOKENS_MAX) {
            return PIT_ERR_TOO_LARGE;
        }
        a->tokens[a->ntokens++] = *ch->issue;
    }

    if (ch->revoke != NULL) {
        ch->revoked = 0;
        for (i = 0, j = 0; i < a->ntokens; i++) {
            if (ch->revoke[0] == '\0'
                || strcmp(a->tokens[i].hint, ch->revoke) == 0)
            {
                ch->revoked++;
                continue;
            }
            a->tokens[j++] = a->tokens[i];
        }
        a->ntokens = j;
        if (ch->revoked == 0 && ch->revoke[0] != '\0') {
            return PIT_ERR_NOT_FOUND;
        }
    }

    *exists = 1;
    return PIT_OK;
}


/* Reports a failed admin change. */
static int
admin_fail(pitctl_t *p, pit_err_t rc, const char *what, const char *user,
    const admin_change_t *ch)
{
    switch (rc) {
    case PIT_ERR_CONFLICT:
        return pitctl_fail(EXIT_CONFLICT, "admin %s: %s already exists",
                           what, user);
    case PIT_ERR_NOT_FOUND:
        if (ch != NULL && ch->revoke != NULL && ch->revoke[0] != '\0') {
            return pitctl_fail(EXIT_NOT_FOUND, "admin %s: %s has no token "
                               "%s", what, user, ch->revoke);
        }
        return pitctl_fail(EXIT_NOT_FOUND, "no admin %s", user);
    case PIT_ERR_TOO_LARGE:
        return pitctl_fail(EXIT_USAGE, "admin %s: at most %d accounts and "
                           "%d tokens (token-revoke one first)", what,
                           PIT_ADMIN_ACCOUNTS_MAX, PIT_ADMIN_TOKENS_MAX);
    case PIT_ERR_ACCOUNT:
        return pitctl_fail(EXIT_USAGE, "admin %s: invalid account id "
                           "(expected [A-Za-z0-9_-]{1,64})", what);
    case PIT_ERR_FIELD:
        return pitctl_fail(EXIT_USAGE, "admin %s: invalid user name "
                           "(expected 1-64 of A-Z a-z 0-9 . _ @ + -)", what);
    default:
        return pitctl_fail_store(p, rc, "admin", NULL);
    }
}


/* Runs one change of admin user and prints the result. */
static int
admin_change(pitctl_t *p, const char *what, const char *user,
    admin_change_t *ch, const char *token)
{
    pit_admin_t  *a;
    char          action[32];
    pit_err_t     rc;
    int           code;

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    snprintf(action, sizeof(action), "admin-%s", what);
    rc = pit_store_admin_update(p->st, user, admin_apply, ch, action, p->now);
    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION) {
        return admin_fail(p, rc, what, user, ch);
    }

    if (ch->remove) {
        if (p->json) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(user));
            json_object_set_new(o, "removed", json_true());
            code = pitctl_print_json(o);
        } else {
            printf("Removed admin %s (its tokens no longer work)\n", user);
        }
        return rc == PIT_OK ? code : pitctl_fail_store(p, rc, "admin", NULL);
    }

    a = malloc(sizeof(pit_admin_t));
    if (a == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    code = 0;
    if (pit_store_admin_get(p->st, user, a) == PIT_OK) {
        if (p->json) {
            json_t *o = admin_json(a);
            if (token != NULL) {
                json_object_set_new(o, "token", json_string(token));
            }
            if (ch->revoke != NULL) {
                json_object_set_new(o, "revoked", json_integer(ch->revoked));
            }
            code = pitctl_print_json(o);

        } else {
            admin_print(a);
            if (ch->revoke != NULL) {
                printf("Revoked %d token%s\n", ch->revoked,
                       ch->revoked == 1 ? "" : "s");
            }
            if (token != NULL) {
                printf("Copy this token now: it will not be shown again.\n"
                       "%s\n", token);
            }
        }
    }

    free(a);
    return rc == PIT_OK ? code : pitctl_fail_store(p, rc, "admin", NULL);
}


/* Reads --account ID, --all-accounts (--all), --allow, --deny from
 * argv[from..]. */
static int
admin_options(pitctl_t *p, int from, admin_change_t *ch)
{
    const char  *val;
    int          i, r;

    for (i = from; i < p->argc; i++) {
        r = pitctl_opt_value(p->argc, p->argv, &i, "--account", &val);
        if (r < 0) {
            return pitctl_usage_error(&admin_me, "%s", "--account needs a "
                                      "value");
        }
        if (r > 0) {
            if (ch->naccounts == PIT_ADMIN_ACCOUNTS_MAX) {
                return pitctl_fail(EXIT_USAGE, "at most %d accounts",
                                   PIT_ADMIN_ACCOUNTS_MAX);
            }
            ch->accounts[ch->naccounts++] = val;
            continue;
        }

        if (strcmp(p->argv[i], "--all-accounts") == 0
            || strcmp(p->argv[i], "--all") == 0)
        {
            ch->all = 1;
        } else if (strcmp(p->argv[i], "--allow") == 0) {
            ch->allow = 1;
        } else if (strcmp(p->argv[i], "--deny") == 0) {
            ch->allow = 0;
        } else {
            return pitctl_usage_error(&admin_me, "unexpected argument \"%s\"",
                                      p->argv[i]);
        }
    }

    return 0;
}


/* ------------------------------------------------------------------------
 * Commands
 * --------------------------------------------------------------------- */

static int
admin_read(pitctl_t *p, const char *sub, const char *user)
{
    pit_admin_t  *a;
    json_t       *arr;
    pit_err_t     rc;
    int           code;

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    if (strcmp(sub, "list") == 0) {
        arr = p->json ? json_array() : NULL;
        if (!p->json) {
            printf("%-24s  %-8s  %-6s  %s\n", "Admin", "PI", "Tokens",
                   "Accounts");
        }
        rc = pit_store_admin_list(p->st, admin_row, arr);
        if (rc != PIT_OK) {
            json_decref(arr);
            return pitctl_fail_store(p, rc, "admin", NULL);
        }
        return p->json ? pitctl_print_json(arr) : 0;
    }

    a = malloc(sizeof(pit_admin_t));
    if (a == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    rc = pit_store_admin_get(p->st, user, a);
    if (rc == PIT_ERR_NOT_FOUND) {
        code = pitctl_fail(EXIT_NOT_FOUND, "no admin %s", user);
    } else if (rc != PIT_OK) {
        code = pitctl_fail_store(p, rc, "admin", NULL);
    } else if (p->json) {
        code = pitctl_print_json(admin_json(a));
    } else {
        admin_print(a);
    }

    free(a);
    return code;
}


static int
admin_token(pitctl_t *p, const char *user, admin_change_t *ch)
{
    pit_admin_token_t  t;
    char               token[PIT_TOKEN_LEN + 1];
    pit_err_t          rc;
    int                code;

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    memset(&t, 0, sizeof(t));
    rc = pit_admin_token_generate(token);
    if (rc == PIT_OK) {
        rc = pit_store_hash_hex(p->st, token, PIT_TOKEN_LEN, t.hash);
    }
    if (rc != PIT_OK) {
        return pitctl_fail(EXIT_REDIS, "admin token: %s", pit_strerror(rc));
    }

    pit_admin_token_hint(token, PIT_TOKEN_LEN, t.hint);
    t.created_at_ms = p->now;
    ch->issue = &t;

    code = admin_change(p, "token", user, ch, token);
    memset(token, 0, sizeof(token));
    return code;
}


int
pitctl_cmd_admin(pitctl_t *p)
{
    admin_change_t  ch;
    const char     *sub, *user;
    int             code;

    memset(&ch, 0, sizeof(ch));
    ch.allow = -1;

    sub = p->argc > 0 ? p->argv[0] : "list";
    user = p->argc > 1 ? p->argv[1] : NULL;

    if (strcmp(sub, "list") == 0) {
        if (p->argc > 1) {
            return pitctl_usage_error(&admin_me, "unexpected argument \"%s\"",
                                      p->argv[1]);
        }
        return admin_read(p, sub, NULL);
    }

    if (user == NULL || user[0] == '-') {
        return pitctl_usage_error(&admin_me, "admin %s: expected a user name",
                                  sub);
    }

    if (pit_admin_name_validate(user, strlen(user)) != PIT_OK) {
        return admin_fail(p, PIT_ERR_FIELD, sub, user, NULL);
    }

    if (strcmp(sub, "allow") == 0 || strcmp(sub, "deny") == 0) {
        if (p->argc > 2) {
            return pitctl_usage_error(&admin_me, "unexpected argument \"%s\"",
                                      p->argv[2]);
        }
        ch.edit = 1;
        ch.allow = (sub[0] == 'a');
        return admin_change(p, sub, user, &ch, NULL);
    }

    if (strcmp(sub, "show") == 0 || strcmp(sub, "remove") == 0
        || strcmp(sub, "token") == 0)
    {
        if (p->argc > 2) {
            return pitctl_usage_error(&admin_me, "unexpected argument \"%s\"",
                                      p->argv[2]);
        }
        if (sub[0] == 's') {
            return admin_read(p, sub, user);
        }
        if (sub[0] == 'r') {
            ch.remove = 1;
            return admin_change(p, "remove", user, &ch, NULL);
        }
        return admin_token(p, user, &ch);
    }

    if (strcmp(sub, "token-revoke") == 0) {
        if (p->argc > 3) {
            return pitctl_usage_error(&admin_me, "unexpected argument \"%s\"",
                                      p->argv[3]);
        }
        ch.revoke = p->argc > 2 ? p->argv[2] : "";
        return admin_change(p, "token-revoke", user, &ch, NULL);
    }

    if (strcmp(sub, "add") == 0 || strcmp(sub, "edit") == 0) {
        code = admin_options(p, 2, &ch);
        if (code != 0) {
            return code;
        }

        if (sub[0] == 'a') {
            if (ch.all == (ch.naccounts > 0)) {
                return pitctl_usage_error(&admin_me, "%s", "admin add: give "
                                          "--account ID... or "
                                          "--all-accounts");
            }
            ch.create = 1;
            return admin_change(p, "add", user, &ch, NULL);
        }

        if (!ch.all && ch.naccounts == 0 && ch.allow < 0) {
            return pitctl_usage_error(&admin_me, "%s", "admin edit: nothing "
                                      "to change");
        }
        ch.edit = 1;
        return admin_change(p, "edit", user, &ch, NULL);
    }

    return pitctl_usage_error(&admin_me, "unknown admin command \"%s\"", sub);
}
