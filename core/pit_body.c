/*
 * pit-auth core: strict decoding of the admin API's request bodies (see
 * pit_body.h).  jansson parses (it refuses invalid UTF-8, \u0000 and, with
 * JSON_REJECT_DUPLICATES, a key twice); this file names what it refused
 * and checks each field's type and size.
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pit_body.h"
#include "pit_config.h"


/* =============================================================================
 * Errors
 * ==========================================================================*/

/* Returns 1 if s[0..len) is a field name we may quote: [a-z0-9_], short. */
static int pit_body_quotable(const char *s, size_t len) {
    size_t  i;

    if (len == 0 || len >= PIT_BODY_FIELD_MAX - 8) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static pit_err_t pit_body_fail(pit_body_error_t *err, pit_err_t rc,
    const char *field, size_t field_len, const char *msg)
{
    if (field != NULL && pit_body_quotable(field, field_len)) {
        memcpy(err->field, field, field_len);
        err->field[field_len] = '\0';

    } else {
        err->field[0] = '\0';
    }

    snprintf(err->msg, sizeof(err->msg), "%s", msg);
    return rc;
}


/*
 * Finds the field whose value holds byte pos of body: the last "key":
 * before pos (a heuristic for messages only).  Writes it into err->field
 * when it is quotable.
 */
static void pit_body_field_near(const char *body, size_t len, size_t pos,
    pit_body_error_t *err)
{
    size_t  i, end, start;

    err->field[0] = '\0';
    i = pos < len ? pos : len;

    while (i > 0) {
        i--;
        if (body[i] != ':') {
            continue;
        }

        end = i;
        while (end > 0 && (body[end - 1] == ' ' || body[end - 1] == '\t'
                           || body[end - 1] == '\r' || body[end - 1] == '\n'))
        {
            end--;
        }
        if (end == 0 || body[end - 1] != '"') {
            continue;
        }
        end--;

        start = end;
        while (start > 0 && body[start - 1] != '"' && end - start < 40) {
            start--;
        }
        if (start == 0 || body[start - 1] != '"') {
            continue;
        }

        if (pit_body_quotable(body + start, end - start)) {
            memcpy(err->field, body + start, end - start);
            err->field[end - start] = '\0';
        }
        return;
    }
}


/* Parses body into an object; on failure fills err and returns the
 * error. */
static pit_err_t pit_body_parse(const char *body, size_t len, json_t **out,
    pit_body_error_t *err)
{
    json_error_t  je;
    const char   *near;
    json_t       *o;
    size_t        n;

    *out = NULL;
    memset(err, 0, sizeof(*err));

    if (body == NULL && len > 0) {
        return PIT_ERR_ARG;
    }

    if (len > PIT_BODY_MAX) {
        return pit_body_fail(err, PIT_ERR_TOO_LARGE, NULL, 0,
                             "the body is larger than 64 KiB");
    }

    o = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);

    if (o == NULL) {
        if (strncmp(je.text, "duplicate object key", 20) == 0) {
            near = strstr(je.text, "near '\"");
            n = 0;
            if (near != NULL) {
                near += 7;
                n = strcspn(near, "\"");
            }
            return pit_body_fail(err, PIT_ERR_JSON, near, n,
                                 "given more than once");
        }

        if (strncmp(je.text, "unable to decode byte", 21) == 0
            || strncmp(je.text, "invalid Unicode", 15) == 0
            || strstr(je.text, "\\u0000") != NULL)
        {
            pit_body_field_near(body, len,
                                je.position > 0 ? (size_t) je.position : 0,
                                err);
            snprintf(err->msg, sizeof(err->msg), "not valid UTF-8 text (or "
                     "a NUL character)");
            return PIT_ERR_JSON;
        }

        return pit_body_fail(err, PIT_ERR_JSON, NULL, 0,
                             "not JSON (a JSON object is expected)");
    }

    if (!json_is_object(o)) {
        json_decref(o);
        return pit_body_fail(err, PIT_ERR_JSON, NULL, 0,
                             "not a JSON object");
    }

    *out = o;
    return PIT_OK;
}


/* =============================================================================
 * Fields
 * ==========================================================================*/

/* Checks that every key of o is one of names (NULL-terminated). */
static pit_err_t pit_body_known(json_t *o, const char *const *names,
    pit_body_error_t *err)
{
    const char  *key;
    json_t      *v;
    size_t       i;

    json_object_foreach(o, key, v) {
        for (i = 0; names[i] != NULL; i++) {
            if (strcmp(key, names[i]) == 0) {
                break;
            }
        }

        if (names[i] == NULL) {
            return pit_body_fail(err, PIT_ERR_FIELD, key, strlen(key),
                                 "unknown field");
        }
    }

    (void) v;
    return PIT_OK;
}


/* Copies string field name of o into buf (cap with the NUL); *has is set
 * to 1 when present. */
static pit_err_t pit_body_string(json_t *o, const char *name, char *buf,
    size_t cap, size_t max_chars, int *has, pit_body_error_t *err)
{
    json_t  *v;
    size_t   n;
    char     msg[64];

    *has = 0;
    v = json_object_get(o, name);
    if (v == NULL) {
        return PIT_OK;
    }

    if (!json_is_string(v)) {
        return pit_body_fail(err, PIT_ERR_FIELD, name, strlen(name),
                             "must be a string");
    }

    n = json_string_length(v);
    if (n >= cap) {
        snprintf(msg, sizeof(msg), "must be at most %zu characters",
                 max_chars);
        return pit_body_fail(err, PIT_ERR_FIELD, name, strlen(name), msg);
    }

    memcpy(buf, json_string_value(v), n + 1);
    *has = 1;
    return PIT_OK;
}


static pit_err_t pit_body_scopes(json_t *o, pit_scope_set_t *set, int *has,
    pit_body_error_t *err)
{
    json_t     *a, *v;
    size_t      i;
    pit_err_t   rc;
    char        field[PIT_BODY_FIELD_MAX];

    *has = 0;
    pit_scope_set_init(set);

    a = json_object_get(o, "scopes");
    if (a == NULL) {
        return PIT_OK;
    }

    if (!json_is_array(a)) {
        return pit_body_fail(err, PIT_ERR_FIELD, "scopes", 6,
                             "must be an array of strings");
    }

    if (json_array_size(a) == 0) {
        return pit_body_fail(err, PIT_ERR_FIELD, "scopes", 6,
                             "must hold at least one scope");
    }

    if (json_array_size(a) > PIT_SCOPES_MAX) {
        return pit_body_fail(err, PIT_ERR_FIELD, "scopes", 6,
                             "must hold at most 100 scopes");
    }

    json_array_foreach(a, i, v) {
        snprintf(field, sizeof(field), "scopes[%zu]", i);

        if (!json_is_string(v)) {
            snprintf(err->field, sizeof(err->field), "%s", field);
            snprintf(err->msg, sizeof(err->msg), "must be a string");
            return PIT_ERR_FIELD;
        }

        rc = pit_scope_set_add(set, json_string_value(v),
                               json_string_length(v));
        if (rc != PIT_OK) {
            snprintf(err->field, sizeof(err->field), "%s", field);
            snprintf(err->msg, sizeof(err->msg), "%s", pit_strerror(rc));
            return PIT_ERR_FIELD;
        }
    }

    *has = 1;
    return PIT_OK;
}


/* =============================================================================
 * Bodies
 * ==========================================================================*/

/* Parses body into an object *out whose keys are all among names
 * (NULL-terminated); on failure fills err, leaves *out NULL and returns
 * the error. */
static pit_err_t pit_body_object(const char *body, size_t len,
    const char *const *names, json_t **out, pit_body_error_t *err)
{
    pit_err_t  rc;

    rc = pit_body_parse(body, len, out, err);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_body_known(*out, names, err);
    if (rc != PIT_OK) {
        json_decref(*out);
        *out = NULL;
    }

    return rc;
}


pit_err_t pit_body_integration(pit_body_kind_t kind, const char *body,
    size_t len, pit_body_integration_t *out, pit_body_error_t *err)
{
    static const char *const  create_fields[] = {
        "name", "description", "scopes", "account_type", NULL
    };
    static const char *const  edit_fields[] = {
        "name", "description", "scopes", NULL
    };
    char                      type[16];
    json_t                   *o;
    pit_err_t                 rc;

    if (out == NULL || err == NULL) {
        return PIT_ERR_ARG;
    }

    memset(out, 0, sizeof(*out));

    rc = pit_body_object(body, len, kind == PIT_BODY_CREATE ? create_fields
                                                            : edit_fields,
                         &o, err);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_body_string(o, "name", out->name, sizeof(out->name),
                         PIT_NAME_MAX_CHARS, &out->has_name, err);
    if (rc == PIT_OK) {
        rc = pit_body_string(o, "description", out->description,
                             sizeof(out->description), PIT_DESC_MAX_CHARS,
                             &out->has_description, err);
    }
    if (rc == PIT_OK) {
        rc = pit_body_scopes(o, &out->scopes, &out->has_scopes, err);
    }
    if (rc == PIT_OK && kind == PIT_BODY_CREATE) {
        rc = pit_body_string(o, "account_type", type, sizeof(type), 8,
                             &out->has_account_type, err);
        if (rc == PIT_OK && out->has_account_type
            && pit_acct_type_parse(type, strlen(type), &out->account_type)
               != PIT_OK)
        {
            rc = pit_body_fail(err, PIT_ERR_FIELD, "account_type", 12,
                               "must be \"location\" or \"company\"");
        }
    }

    json_decref(o);

    if (rc != PIT_OK) {
        return rc;
    }

    if (kind == PIT_BODY_CREATE && !out->has_name) {
        return pit_body_fail(err, PIT_ERR_FIELD, "name", 4, "is required");
    }

    if (kind == PIT_BODY_CREATE && !out->has_scopes) {
        return pit_body_fail(err, PIT_ERR_FIELD, "scopes", 6, "is required");
    }

    if (kind == PIT_BODY_EDIT && !out->has_name && !out->has_description
        && !out->has_scopes)
    {
        return pit_body_fail(err, PIT_ERR_FIELD, NULL, 0, "nothing to "
                             "change: give name, description or scopes");
    }

    return PIT_OK;
}


pit_err_t pit_body_rotate(const char *body, size_t len,
    pit_body_rotate_t *out, pit_body_error_t *err)
{
    static const char *const  fields[] = { "mode", "overlap", NULL };
    char                      mode[8], overlap[32];
    int                       has_mode;
    json_t                   *o;
    pit_err_t                 rc;

    if (out == NULL || err == NULL) {
        return PIT_ERR_ARG;
    }

    memset(out, 0, sizeof(*out));

    rc = pit_body_object(body, len, fields, &o, err);
    if (rc != PIT_OK) {
        return rc;
    }

    rc = pit_body_string(o, "mode", mode, sizeof(mode), 5, &has_mode, err);
    if (rc == PIT_OK) {
        rc = pit_body_string(o, "overlap", overlap, sizeof(overlap), 20,
                             &out->has_overlap, err);
    }

    json_decref(o);

    if (rc != PIT_OK) {
        return rc;
    }

    if (!has_mode) {
        return pit_body_fail(err, PIT_ERR_FIELD, "mode", 4, "is required");
    }

    if (strcmp(mode, "now") == 0) {
        out->now = 1;

    } else if (strcmp(mode, "later") != 0) {
        return pit_body_fail(err, PIT_ERR_FIELD, "mode", 4,
                             "must be \"later\" or \"now\"");
    }

    if (out->has_overlap && out->now) {
        return pit_body_fail(err, PIT_ERR_FIELD, "overlap", 7,
                             "goes with \"mode\": \"later\" only");
    }

    if (out->has_overlap
        && (pit_duration_parse(overlap, strlen(overlap), &out->overlap_ms)
            != PIT_OK || out->overlap_ms <= 0))
    {
        return pit_body_fail(err, PIT_ERR_FIELD, "overlap", 7,
                             "must be a duration such as 7d, 36h, 90m");
    }

    return PIT_OK;
}


pit_err_t pit_body_empty(const char *body, size_t len, pit_body_error_t *err)
{
    static const char *const  fields[] = { NULL };
    json_t                   *o;
    pit_err_t                 rc;

    if (err == NULL) {
        return PIT_ERR_ARG;
    }

    memset(err, 0, sizeof(*err));
    if (len == 0) {
        return PIT_OK;
    }

    rc = pit_body_object(body, len, fields, &o, err);
    json_decref(o);
    return rc;
}
