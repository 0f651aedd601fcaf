/*
 * pitctl: the operations on integrations that both front ends run, the
 * command line (pitctl.c) and the admin API (pitctl_api_*.c): the checks
 * of what an admin gives (lengths, the text rule's reasons, the scope
 * catalogue), the store call, and what a failure means, in words and as
 * pitctl's exit code.  The API maps the same result to an HTTP status:
 * a rule lives here once, and both front ends say the same thing.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pit_catalog.h"
#include "pit_record.h"
#include "pit_rotation.h"
#include "pit_store.h"
#include "pitctl.h"


/* ------------------------------------------------------------------------
 * Results
 * --------------------------------------------------------------------- */

/* Fills res (rc, exit code, field, message); returns rc. */
static pit_err_t
result_set(pitctl_result_t *res, pit_err_t rc, const char *field,
    const char *fmt, ...)
{
    va_list  ap;

    res->rc = rc;
    res->exit = pitctl_exit_code(rc);
    snprintf(res->field, sizeof(res->field), "%s", field ? field : "");

    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
    va_end(ap);

    return rc;
}


int
pitctl_exit_code(pit_err_t rc)
{
    switch (rc) {
    case PIT_OK:
        return 0;
    case PIT_ERR_NOT_FOUND:
        return EXIT_NOT_FOUND;
    case PIT_ERR_CONFLICT:
    case PIT_ERR_STATE:
    case PIT_ERR_META:
    case PIT_ERR_STALE:
        return EXIT_CONFLICT;
    case PIT_ERR_REDIS:
    case PIT_ERR_BUSY:
    case PIT_ERR_REPLICATION:
    case PIT_ERR_CORRUPT:
    case PIT_ERR_NOMEM:
    case PIT_ERR_RANDOM:
    case PIT_ERR_CRYPTO:
    case PIT_ERR_NO_PRIMARY:
    case PIT_ERR_MAYBE_APPLIED:
        return EXIT_REDIS;
    default:
        return EXIT_USAGE;
    }
}


pit_err_t
pitctl_store_result(pit_store_t *st, pit_err_t rc, const char *what,
    const char *id, pitctl_result_t *res)
{
    const char  *detail, *last;
    int          n;

    detail = pit_store_error(st);

    switch (rc) {
    case PIT_ERR_NOT_FOUND:
        return result_set(res, rc, NULL, "no integration %s", id ? id : "");
    case PIT_ERR_CONFLICT:
        return result_set(res, rc, "name", "%s: an integration of this "
                          "account already has that name", what);
    case PIT_ERR_STATE:
        return result_set(res, rc, NULL, "%s: %s", what,
                          strcmp(what, "rotate") == 0
                          ? "a rotation is already in progress "
                            "(cancel-rotation or expire-now first)"
                          : "no rotation in progress");
    case PIT_ERR_STALE:
        return result_set(res, rc, NULL, "%s: the integration changed since "
                          "it was read (another admin changed it): read it "
                          "again", what);
    case PIT_ERR_FORBIDDEN:
        return result_set(res, rc, NULL, "%s: %s", what, pit_strerror(rc));
    case PIT_ERR_REDIS:
        return result_set(res, rc, NULL, "%s: Redis failed: %s", what,
                          detail[0] ? detail : "unknown error");
    case PIT_ERR_BUSY:
        return result_set(res, rc, NULL, "%s: too many concurrent changes, "
                          "nothing was changed; try again", what);
    case PIT_ERR_REPLICATION:
        return result_set(res, rc, NULL, "%s: applied on the primary, but "
                          "%s; it may be lost if the primary fails now",
                          what, detail);
    case PIT_ERR_NO_PRIMARY:
        last = strstr(detail, " (last: ");
        n = (int) (last ? (size_t) (last - detail) : strlen(detail));
        return result_set(res, rc, NULL, "%s: %.*s: the change was not "
                          "applied%s", what, n, detail, last ? last : "");
    case PIT_ERR_MAYBE_APPLIED:
        last = strstr(detail, " (last: ");
        n = (int) (last ? (size_t) (last - detail) : strlen(detail));
        return result_set(res, rc, NULL, "%s: %.*s: the change may have "
                          "been applied: check with pitctl %s%s%s%s", what,
                          n, detail, id ? "show " : "list", id ? id : "",
                          strcmp(what, "create") == 0
                          || strcmp(what, "rotate") == 0
                          ? " (its new token is not shown: if it was "
                            "applied, rotate --now to get one)" : "",
                          last ? last : "");
    case PIT_ERR_META:
        return result_set(res, rc, NULL, "%s: refused: %s: wrong --hash-key, "
                          "--prefix or database? (pitctl doctor tells; "
                          "--force-meta re-marks the store with this hash "
                          "key, and tokens hashed with the other one stop "
                          "working)", what, detail);
    case PIT_ERR_CORRUPT:
        return result_set(res, rc, NULL, "%s: Redis holds a record that "
                          "does not decode%s%s", what, detail[0] ? ": " : "",
                          detail);
    default:
        return result_set(res, rc, NULL, "%s: %s", what, pit_strerror(rc));
    }
}


/*
 * Fills res with why the core's text rule refused a name or a description
 * (the field, the character and where: an invisible one cannot be seen in
 * what was typed); returns 0 when neither is at fault.
 */
static int
text_result(pit_err_t rc, const char *what, const char *name,
    const char *desc, pitctl_result_t *res)
{
    pit_text_problem_t  why;
    char                msg[160];

    if (rc != PIT_ERR_NAME && rc != PIT_ERR_DESCRIPTION
        && rc != PIT_ERR_TEXT)
    {
        return 0;
    }

    if (name != NULL && pit_name_check(name, strlen(name), &why) != PIT_OK) {
        result_set(res, rc, "name", "%s: name: %s", what,
                   pit_text_problem_format(&why, msg, sizeof(msg)));
        return 1;
    }

    if (desc != NULL
        && pit_description_check(desc, strlen(desc), &why) != PIT_OK)
    {
        result_set(res, rc, "description", "%s: description: %s", what,
                   pit_text_problem_format(&why, msg, sizeof(msg)));
        return 1;
    }

    return 0;
}


/* Checks scopes against the active catalogue (stored or built-in). */
static pit_err_t
catalogue_check(pit_store_t *st, const pit_scope_set_t *set,
    pitctl_result_t *res)
{
    pit_catalog_list_t  cl;
    char                near[160], field[32];
    size_t              i;
    int                 stored;
    pit_err_t           rc;

    pit_catalog_list_init(&cl);
    rc = pit_store_catalog_get(st, &cl, &stored);
    if (rc != PIT_OK) {
        pit_catalog_list_free(&cl);
        return pitctl_store_result(st, rc, "scopes", NULL, res);
    }

    for (i = 0; i < set->n; i++) {
        if (pit_catalog_list_find(&cl, set->names[i], strlen(set->names[i]))
            == NULL)
        {
            pitctl_suggest(&cl, set->names[i], near, sizeof(near));
            snprintf(field, sizeof(field), "scopes[%zu]", i);
            rc = result_set(res, PIT_ERR_SCOPE_UNKNOWN, field,
                            "unknown scope \"%s\"%s%s%s (not in the %s "
                            "catalogue: see 'pitctl scopes', or pass "
                            "--allow-unknown-scope)", set->names[i],
                            near[0] ? " (did you mean " : "", near,
                            near[0] ? "?)" : "",
                            stored ? "stored" : "built-in");
            break;
        }
    }

    pit_catalog_list_free(&cl);
    return rc;
}


/* ------------------------------------------------------------------------
 * Operations
 * --------------------------------------------------------------------- */

pit_err_t
pitctl_op_create(pit_store_t *st, pit_integration_t *in, int allow_unknown,
    char *token, int64_t now, pitctl_result_t *res)
{
    pit_err_t  rc;

    memset(res, 0, sizeof(*res));

    if (in->scopes.n == 0) {
        return result_set(res, PIT_ERR_FIELD, "scopes", "create: at least "
                          "one scope is required");
    }

    if (!allow_unknown) {
        rc = catalogue_check(st, &in->scopes, res);
        if (rc != PIT_OK) {
            return rc;
        }
    }

    rc = pit_store_create(st, in, token, now);
    if (rc == PIT_OK) {
        return PIT_OK;
    }

    if (text_result(rc, "create", in->name, in->description, res)) {
        return rc;
    }

    return pitctl_store_result(st, rc, "create", NULL, res);
}


pit_err_t
pitctl_op_edit(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, const char *name, const char *desc,
    const pit_scope_set_t *scopes, int allow_unknown,
    pit_integration_t *out, int64_t now, pitctl_result_t *res)
{
    pit_err_t  rc;

    memset(res, 0, sizeof(*res));

    if (scopes != NULL && scopes->n == 0) {
        return result_set(res, PIT_ERR_FIELD, "scopes", "edit: at least "
                          "one scope is required");
    }

    if (scopes != NULL && !allow_unknown) {
        rc = catalogue_check(st, scopes, res);
        if (rc != PIT_OK) {
            return rc;
        }
    }

    rc = pit_store_edit_if(st, ex, iid, name, desc, scopes, out, now);
    if (rc == PIT_OK) {
        return PIT_OK;
    }

    if (text_result(rc, "edit", name, desc, res)) {
        return rc;
    }

    return pitctl_store_result(st, rc, "edit", iid, res);
}


pit_err_t
pitctl_op_rotate(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, pit_rotation_op_t op, int64_t overlap_ms, char *token,
    pit_integration_t *out, int64_t now, pitctl_result_t *res)
{
    static const char  *what[] = {
        "rotate", "rotate", "cancel-rotation", "expire-now"
    };
    pit_err_t           rc;

    memset(res, 0, sizeof(*res));

    if ((unsigned) op > PIT_OP_EXPIRE_NOW) {
        return result_set(res, PIT_ERR_ARG, NULL, "rotate: invalid "
                          "operation");
    }

    rc = pit_store_rotate_if(st, ex, iid, op, overlap_ms, token, out, now);
    if (rc == PIT_OK) {
        return PIT_OK;
    }

    return pitctl_store_result(st, rc, what[op], iid, res);
}


pit_err_t
pitctl_op_delete(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, int64_t now, pitctl_result_t *res)
{
    pit_err_t  rc;

    memset(res, 0, sizeof(*res));

    rc = pit_store_delete_if(st, ex, iid, now);
    if (rc == PIT_OK) {
        return PIT_OK;
    }

    return pitctl_store_result(st, rc, "delete", iid, res);
}


/* ------------------------------------------------------------------------
 * JSON (pitctl --json and the API answer alike)
 * --------------------------------------------------------------------- */

json_t *
pitctl_json_time(int64_t ms)
{
    return ms > 0 ? json_integer(ms) : json_null();
}


json_t *
pitctl_json_scopes(const pit_scope_set_t *set)
{
    json_t  *a;
    size_t   i;

    a = json_array();
    for (i = 0; a != NULL && i < set->n; i++) {
        json_array_append_new(a, json_string(set->names[i]));
    }

    return a;
}


json_t *
pitctl_json_integration(const pit_integration_t *in, const int64_t *used,
    int64_t now)
{
    json_t   *o, *toks, *t, *rot;
    int64_t   last;
    size_t    i;

    o = json_object();
    toks = json_array();
    if (o == NULL || toks == NULL) {
        json_decref(o);
        json_decref(toks);
        return NULL;
    }

    last = 0;
    for (i = 0; i < in->ntokens; i++) {
        t = json_object();
        json_object_set_new(t, "hint", json_string(in->tokens[i].hint));
        json_object_set_new(t, "role",
                            json_string(pit_role_name(in->tokens[i].role)));
        json_object_set_new(t, "created_at",
                            json_integer(in->tokens[i].created_at_ms));
        json_object_set_new(t, "until",
                            pitctl_json_time(in->tokens[i].until_ms));
        json_object_set_new(t, "last_used", pitctl_json_time(used[i]));
        json_array_append_new(toks, t);

        if (used[i] > last) {
            last = used[i];
        }
    }

    rot = json_null();
    if (in->rotating) {
        rot = json_object();
        json_object_set_new(rot, "started_at",
                            json_integer(in->rotation_started_ms));
        json_object_set_new(rot, "deadline",
                            json_integer(in->rotation_deadline_ms));
    }

    json_object_set_new(o, "id", json_string(in->id));
    json_object_set_new(o, "name", json_string(in->name));
    json_object_set_new(o, "description", json_string(in->description));
    json_object_set_new(o, "account", json_string(in->account));
    json_object_set_new(o, "account_type",
                        json_string(pit_acct_type_name(in->acct_type)));
    json_object_set_new(o, "scopes", pitctl_json_scopes(&in->scopes));
    json_object_set_new(o, "created_at", json_integer(in->created_at_ms));
    json_object_set_new(o, "updated_at", json_integer(in->updated_at_ms));
    json_object_set_new(o, "created_by", json_string(in->created_by));
    json_object_set_new(o, "state",
                        json_string(pit_state_name(
                            pit_rotation_state(in, now))));
    json_object_set_new(o, "rotation", rot);
    json_object_set_new(o, "rotation_due",
                        json_boolean(pit_rotation_due(in, now)));
    json_object_set_new(o, "last_used", pitctl_json_time(last));
    json_object_set_new(o, "tokens", toks);

    return o;
}


json_t *
pitctl_json_audit(const pit_audit_entry_t *e)
{
    json_t  *o;

    o = json_object();
    json_object_set_new(o, "id", json_string(e->id));
    json_object_set_new(o, "at", json_integer(e->at_ms));
    json_object_set_new(o, "who", json_string(e->who));
    json_object_set_new(o, "action", json_string(e->action));
    json_object_set_new(o, "iid", json_string(e->iid));
    json_object_set_new(o, "name", json_string(e->name));
    json_object_set_new(o, "account", json_string(e->account));
    json_object_set_new(o, "detail", json_string(e->detail));
    json_object_set_new(o, "peer", json_string(e->peer));

    return o;
}
