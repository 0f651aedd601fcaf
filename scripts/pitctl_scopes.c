/*
 * pitctl scopes: the scope catalogue as data.
 *
 * The active catalogue is the one stored in <prefix>scopes (a hash, scope
 * name -> label), or HighLevel's built-in one when none is stored.  Every
 * change reads the active catalogue under WATCH, changes it and writes it
 * whole in one MULTI/EXEC with an audit entry (pit_store_catalog_update);
 * the first change to the built-in one stores a copy of it.  A scope that
 * an integration holds is not removed without --force.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pit_catalog.h"
#include "pit_openapi.h"
#include "pit_schema.h"
#include "pitctl.h"

#define SCOPES_LABEL_CUT  PIT_CATALOG_LABEL_MAX

static const pitctl_command_t  scopes_me = { "scopes", NULL,
    "scopes [--builtin] | scopes export | scopes import FILE [--merge] "
    "[--force] | scopes import --openapi FILE... [--merge] [--force] | "
    "scopes add NAME [--label L] | scopes remove NAME [--force] | "
    "scopes reset [--force]" };


/* ------------------------------------------------------------------------
 * Printing
 * --------------------------------------------------------------------- */

static int
scopes_print(pitctl_t *p, const pit_catalog_list_t *cl, int stored,
    int export)
{
    json_t  *a, *o;
    size_t   i;

    if (p->json || export) {
        a = json_array();
        for (i = 0; a != NULL && i < cl->n; i++) {
            o = json_object();
            json_object_set_new(o, "name", json_string(cl->entries[i].name));
            json_object_set_new(o, "label",
                                json_string(cl->entries[i].label));
            if (!export) {
                json_object_set_new(o, "access",
                                    json_string(cl->entries[i].access));
                json_object_set_new(o, "catalogue",
                                    json_string(stored ? "stored"
                                                       : "built-in"));
            }
            json_array_append_new(a, o);
        }
        return pitctl_print_json(a);
    }

    if (stored) {
        printf("Catalogue: stored in %sscopes, %zu scopes\n", p->prefix,
               cl->n);
    } else {
        printf("Catalogue: built-in (HighLevel's), %zu scopes; none stored "
               "in %sscopes\n", cl->n, p->prefix);
    }

    printf("%-40s  %-40s  %s\n", "Scope", "Label", "Access");
    for (i = 0; i < cl->n; i++) {
        printf("%-40s  %-40s  %s\n", cl->entries[i].name,
               cl->entries[i].label[0] ? cl->entries[i].label : "-",
               cl->entries[i].access[0] ? cl->entries[i].access : "-");
    }

    return 0;
}


/* ------------------------------------------------------------------------
 * Scopes in use
 * --------------------------------------------------------------------- */

/* Collects every scope an integration holds: name -> the first id. */
static int
in_use_row(const pit_integration_t *in, void *arg)
{
    pit_catalog_list_t  *used = arg;
    size_t               i;

    for (i = 0; i < in->scopes.n; i++) {
        (void) pit_catalog_list_add(used, in->scopes.names[i],
                                    strlen(in->scopes.names[i]), in->id,
                                    strlen(in->id), NULL);
    }

    return 0;
}


/*
 * Refuses (exit 3) when an integration holds a scope of the active
 * catalogue that the catalogue after the change (after) lacks, unless
 * force.  Scopes given with --allow-unknown-scope were never in it.
 */
static int
check_in_use(pitctl_t *p, const pit_catalog_list_t *after, int force)
{
    pit_catalog_list_t  used, before;
    pit_err_t           rc;
    size_t              i, missing;
    int                 code, stored;

    pit_catalog_list_init(&used);
    pit_catalog_list_init(&before);

    code = pitctl_catalog(p, &before, &stored);
    if (code != 0) {
        return code;
    }

    rc = pit_store_list(p->st, NULL, p->now, in_use_row, &used);
    if (rc != PIT_OK) {
        pit_catalog_list_free(&used);
        pit_catalog_list_free(&before);
        return pitctl_fail_store(p, rc, "scopes", NULL);
    }

    missing = 0;
    for (i = 0; i < used.n; i++) {
        if (pit_catalog_list_find(&before, used.entries[i].name,
                                  strlen(used.entries[i].name)) != NULL
            && pit_catalog_list_find(after, used.entries[i].name,
                                     strlen(used.entries[i].name)) == NULL)
        {
            if (!force) {
                fprintf(stderr, "pitctl: scope %s is used by integration %s"
                        "%s\n", used.entries[i].name, used.entries[i].label,
                        missing ? "" : " (and maybe others)");
            }
            missing++;
        }
    }

    code = 0;
    if (missing && !force) {
        code = pitctl_fail(EXIT_CONFLICT, "scopes: %zu scope%s in use would "
                           "leave the catalogue: refused (--force to do it "
                           "anyway; the integrations keep them)", missing,
                           missing == 1 ? "" : "s");
    }

    pit_catalog_list_free(&used);
    pit_catalog_list_free(&before);
    return code;
}


/* ------------------------------------------------------------------------
 * Changes
 * --------------------------------------------------------------------- */

typedef struct {
    const char                *name;      /* add, remove */
    const char                *label;     /* add */
    const pit_catalog_list_t  *with;      /* import */
    int                        merge;     /* import: add to the active */
    int                        reset;     /* back to the built-in one */
} scopes_change_t;


/* Copies src's entries into dst (emptied first unless merging). */
static pit_err_t
scopes_copy(pit_catalog_list_t *dst, const pit_catalog_list_t *src,
    int merge)
{
    size_t     i;
    pit_err_t  rc;

    if (!merge) {
        pit_catalog_list_free(dst);
    }

    for (i = 0; i < src->n; i++) {
        rc = pit_catalog_list_add(dst, src->entries[i].name,
                                  strlen(src->entries[i].name),
                                  src->entries[i].label,
                                  strlen(src->entries[i].label), NULL);
        if (rc != PIT_OK && rc != PIT_ERR_DUPLICATE) {
            return rc;
        }
    }

    return PIT_OK;
}


/* The change itself, applied to the active catalogue under WATCH. */
static pit_err_t
scopes_apply(pit_catalog_list_t *cl, int stored, void *arg)
{
    scopes_change_t  *ch = arg;
    pit_err_t         rc;
    size_t            i;

    (void) stored;

    if (ch->reset) {
        pit_catalog_list_free(cl);
        return PIT_OK;
    }

    if (ch->with != NULL) {
        return scopes_copy(cl, ch->with, ch->merge);
    }

    /* a stored catalogue holds no "access": the built-in one's goes */
    for (i = 0; i < cl->n; i++) {
        ((char *) cl->entries[i].access)[0] = '\0';
    }

    if (ch->label != NULL) {
        rc = pit_catalog_list_add(cl, ch->name, strlen(ch->name), ch->label,
                                  ch->label ? strlen(ch->label) : 0, NULL);
        return rc == PIT_ERR_DUPLICATE ? PIT_ERR_CONFLICT : rc;
    }

    rc = pit_catalog_list_remove(cl, ch->name, strlen(ch->name));
    if (rc == PIT_OK && cl->n == 0) {
        /* an empty stored catalogue would mean "the built-in one" */
        return PIT_ERR_STATE;
    }

    return rc;
}


/* Runs a change and reports it. */
static int
scopes_update(pitctl_t *p, scopes_change_t *ch, const char *action,
    const char *detail, const char *done)
{
    pit_catalog_list_t  cl;
    pit_err_t           rc;
    int                 code, stored;

    rc = pit_store_catalog_update(p->st, scopes_apply, ch, action, detail,
                                  p->now);
    switch (rc) {
    case PIT_OK:
    case PIT_ERR_REPLICATION:
        break;
    case PIT_ERR_NOT_FOUND:
        return pitctl_fail(EXIT_NOT_FOUND, "scopes: %s is not in the "
                           "catalogue", ch->name);
    case PIT_ERR_CONFLICT:
        return pitctl_fail(EXIT_CONFLICT, "scopes: %s is already in the "
                           "catalogue", ch->name);
    case PIT_ERR_STATE:
        return pitctl_fail(EXIT_CONFLICT, "scopes: %s is the last scope of "
                           "the stored catalogue (scopes reset returns to the "
                           "built-in one)", ch->name);
    case PIT_ERR_SCOPE_INVALID:
        return pitctl_fail(EXIT_USAGE, "scopes: invalid scope name \"%s\"",
                           ch->name);
    case PIT_ERR_TEXT:
        return pitctl_fail(EXIT_USAGE, "scopes: the label must be text of at "
                           "most %d bytes", PIT_CATALOG_LABEL_MAX);
    case PIT_ERR_TOO_LARGE:
        return pitctl_fail(EXIT_USAGE, "scopes: at most %d scopes",
                           PIT_CATALOG_SCOPES_MAX);
    default:
        return pitctl_fail_store(p, rc, "scopes", NULL);
    }

    if (rc == PIT_ERR_REPLICATION) {
        return pitctl_fail_store(p, rc, "scopes", NULL);
    }

    pit_catalog_list_init(&cl);
    code = pitctl_catalog(p, &cl, &stored);

    if (code == 0) {
        if (p->json) {
            code = scopes_print(p, &cl, stored, 0);
        } else {
            printf("%s: the %s catalogue has %zu scopes\n", done,
                   stored ? "stored" : "built-in", cl.n);
        }
    }

    pit_catalog_list_free(&cl);
    return code;
}


/* ------------------------------------------------------------------------
 * Import from OpenAPI specs
 * --------------------------------------------------------------------- */

/* Cuts a description to its first line and the label bound, on a
 * character boundary; leaves "" when it is not text. */
static void
label_of_description(const char *d, char *buf, size_t cap)
{
    size_t  n;

    n = strcspn(d, "\r\n");
    if (n > SCOPES_LABEL_CUT) {
        n = SCOPES_LABEL_CUT;
        while (n > 0 && ((unsigned char) d[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    if (n >= cap) {
        n = cap - 1;
    }

    memcpy(buf, d, n);
    buf[n] = '\0';

    if (pit_description_validate(buf, n) != PIT_OK) {
        buf[0] = '\0';
    }
}


/* Adds the labels of components.securitySchemes.*.flows.*.scopes. */
static void
openapi_labels(const char *file, pit_catalog_list_t *labels)
{
    json_error_t  err;
    json_t       *root, *schemes, *scheme, *flows, *flow, *map, *v;
    const char   *k1, *k2, *name;
    char          label[SCOPES_LABEL_CUT + 1];

    root = json_load_file(file, 0, &err);
    if (root == NULL) {
        return;
    }

    schemes = json_object_get(json_object_get(root, "components"),
                              "securitySchemes");

    json_object_foreach(schemes, k1, scheme) {
        flows = json_object_get(scheme, "flows");
        json_object_foreach(flows, k2, flow) {
            map = json_object_get(flow, "scopes");
            json_object_foreach(map, name, v) {
                if (!json_is_string(v)) {
                    continue;
                }
                label_of_description(json_string_value(v), label,
                                     sizeof(label));
                (void) pit_catalog_list_add(labels, name, strlen(name),
                                            label, strlen(label), NULL);
            }
        }
    }

    json_decref(root);
}


/* Adds every scope named in an expression ("a b|c"). */
static pit_err_t
openapi_expr_scopes(const char *expr, const pit_catalog_list_t *labels,
    pit_catalog_list_t *cl)
{
    const pit_catalog_entry_t  *le;
    const char                 *s, *e;
    pit_err_t                   rc;

    for (s = expr; *s; s = e) {
        while (*s == ' ' || *s == '\t' || *s == '|') {
            s++;
        }
        e = s;
        while (*e && *e != ' ' && *e != '\t' && *e != '|') {
            e++;
        }
        if (e == s) {
            continue;
        }

        le = pit_catalog_list_find(labels, s, (size_t) (e - s));
        rc = pit_catalog_list_add(cl, s, (size_t) (e - s),
                                  le ? le->label : NULL,
                                  le ? strlen(le->label) : 0, NULL);
        if (rc != PIT_OK && rc != PIT_ERR_DUPLICATE) {
            return rc;
        }
    }

    return PIT_OK;
}


/* Fills cl with the scopes the specs require; exit code or 0. */
static int
openapi_catalogue(pitctl_t *p, int first, pit_catalog_list_t *cl)
{
    pit_catalog_list_t  labels;
    pit_routes_t        rt;
    char                err[PIT_OPENAPI_ERR_MAX];
    size_t              i;
    int                 a, code;
    pit_err_t           rc;

    pit_catalog_list_init(&labels);
    pit_routes_init(&rt);
    code = 0;

    for (a = first; a < p->argc && code == 0; a++) {
        if (p->argv[a][0] == '-') {
            continue;
        }

        rc = pit_openapi_load_file(&rt, p->argv[a], err, sizeof(err));
        if (rc != PIT_OK) {
            code = pitctl_fail(rc == PIT_ERR_NOMEM ? EXIT_REDIS : EXIT_USAGE,
                               "%s", err);
            break;
        }

        openapi_labels(p->argv[a], &labels);
    }

    for (i = 0; code == 0 && i < rt.n; i++) {
        rc = openapi_expr_scopes(rt.routes[i].expr, &labels, cl);
        if (rc != PIT_OK) {
            code = pitctl_fail(EXIT_USAGE, "scopes import: %s: %s",
                               rt.routes[i].source, pit_strerror(rc));
        }
    }

    if (code == 0 && cl->n == 0) {
        code = pitctl_fail(EXIT_USAGE, "scopes import: the specs require no "
                           "scope (no security requirement names one)");
    }

    pit_routes_free(&rt);
    pit_catalog_list_free(&labels);
    return code;
}


/* ------------------------------------------------------------------------
 * The command
 * --------------------------------------------------------------------- */

static int
scopes_import(pitctl_t *p)
{
    pit_catalog_list_t  in;
    scopes_change_t     ch;
    char                err[PIT_CATALOG_ERR_MAX], detail[PIT_AUDIT_FIELD_MAX];
    const char         *file;
    int                 i, openapi, merge, force, code, files;
    pit_err_t           rc;

    openapi = merge = force = files = 0;
    file = NULL;

    for (i = 1; i < p->argc; i++) {
        if (strcmp(p->argv[i], "--openapi") == 0) {
            openapi = 1;
        } else if (strcmp(p->argv[i], "--merge") == 0) {
            merge = 1;
        } else if (strcmp(p->argv[i], "--force") == 0) {
            force = 1;
        } else if (p->argv[i][0] == '-') {
            return pitctl_usage_error(&scopes_me, "unexpected argument "
                                      "\"%s\"", p->argv[i]);
        } else {
            file = file ? file : p->argv[i];
            files++;
        }
    }

    if (files == 0 || (!openapi && files > 1)) {
        return pitctl_usage_error(&scopes_me, "%s", "scopes import takes one "
                                  "catalogue FILE, or --openapi FILE...");
    }

    pit_catalog_list_init(&in);

    if (openapi) {
        code = openapi_catalogue(p, 1, &in);

    } else {
        rc = pit_catalog_load_file(&in, file, err, sizeof(err));
        code = rc == PIT_OK ? 0
               : pitctl_fail(rc == PIT_ERR_NOMEM ? EXIT_REDIS : EXIT_USAGE,
                             "%s", err);
    }

    if (code == 0) {
        code = pitctl_open_store(p);
    }

    if (code == 0 && !merge) {
        code = check_in_use(p, &in, force);
    }

    if (code == 0) {
        snprintf(detail, sizeof(detail), "%s%s%.150s%s: %zu scopes",
                 merge ? "merge " : "", openapi ? "openapi " : "", file,
                 files > 1 ? " ..." : "", in.n);
        memset(&ch, 0, sizeof(ch));
        ch.with = &in;
        ch.merge = merge;
        code = scopes_update(p, &ch, "scopes-import", detail, "Imported");
    }

    pit_catalog_list_free(&in);
    return code;
}


int
pitctl_cmd_scopes(pitctl_t *p)
{
    pit_catalog_list_t  cl;
    scopes_change_t     ch;
    const char         *sub, *label, *name;
    char                detail[PIT_AUDIT_FIELD_MAX];
    int                 i, r, code, stored, force, builtin;

    sub = p->argc > 0 ? p->argv[0] : "list";
    memset(&ch, 0, sizeof(ch));
    pit_catalog_list_init(&cl);

    if (strcmp(sub, "list") == 0 || strcmp(sub, "--builtin") == 0
        || strcmp(sub, "export") == 0)
    {
        builtin = strcmp(sub, "--builtin") == 0;
        if (p->argc > 1) {
            return pitctl_usage_error(&scopes_me, "unexpected argument "
                                      "\"%s\"", p->argv[1]);
        }

        if (builtin) {
            if (pit_catalog_list_builtin(&cl) != PIT_OK) {
                return pitctl_fail(EXIT_REDIS, "out of memory");
            }
            stored = 0;
            code = 0;

        } else {
            code = pitctl_open_store(p);
            if (code == 0) {
                code = pitctl_catalog(p, &cl, &stored);
            }
        }

        if (code == 0) {
            code = scopes_print(p, &cl, stored, sub[0] == 'e');
        }

        pit_catalog_list_free(&cl);
        return code;
    }

    p->change = 1;

    if (strcmp(sub, "import") == 0) {
        return scopes_import(p);
    }

    name = NULL;
    label = NULL;
    force = 0;

    for (i = 1; i < p->argc; i++) {
        if ((r = pitctl_opt_value(p->argc, p->argv, &i, "--label", &label))
            != 0)
        {
            if (r < 0) {
                return pitctl_usage_error(&scopes_me, "%s",
                                          "--label needs a value");
            }
        } else if (strcmp(p->argv[i], "--force") == 0) {
            force = 1;
        } else if (p->argv[i][0] != '-' && name == NULL) {
            name = p->argv[i];
        } else {
            return pitctl_usage_error(&scopes_me, "unexpected argument "
                                      "\"%s\"", p->argv[i]);
        }
    }

    if (strcmp(sub, "reset") == 0) {
        if (name != NULL || label != NULL) {
            return pitctl_usage_error(&scopes_me, "%s",
                                      "scopes reset takes no NAME");
        }

        code = pitctl_open_store(p);
        if (code == 0 && pit_catalog_list_builtin(&cl) != PIT_OK) {
            code = pitctl_fail(EXIT_REDIS, "out of memory");
        }
        if (code == 0) {
            code = check_in_use(p, &cl, force);
        }
        pit_catalog_list_free(&cl);

        if (code == 0) {
            ch.reset = 1;
            code = scopes_update(p, &ch, "scopes-reset", "built-in",
                                 "Reset");
        }
        return code;
    }

    if ((strcmp(sub, "add") != 0 && strcmp(sub, "remove") != 0)
        || name == NULL || (label != NULL && sub[0] == 'r')
        || (force && sub[0] == 'a'))
    {
        return pitctl_usage_error(&scopes_me, "%s", "expected scopes add "
                                  "NAME [--label L] or scopes remove NAME "
                                  "[--force]");
    }

    if (!pit_scope_name_valid(name, strlen(name))) {
        return pitctl_fail(EXIT_USAGE, "scopes: invalid scope name \"%s\"",
                           name);
    }

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    ch.name = name;

    if (sub[0] == 'a') {
        ch.label = label ? label : "";
        snprintf(detail, sizeof(detail), "add %s", name);
        return scopes_update(p, &ch, "scopes-add", detail, "Added");
    }

    /* remove: refused while an integration holds it, unless forced */
    code = pitctl_catalog(p, &cl, &stored);
    if (code == 0 && pit_catalog_list_remove(&cl, name, strlen(name))
                     != PIT_OK)
    {
        code = pitctl_fail(EXIT_NOT_FOUND, "scopes: %s is not in the "
                           "catalogue", name);
    }
    if (code == 0) {
        code = check_in_use(p, &cl, force);
    }
    pit_catalog_list_free(&cl);

    if (code == 0) {
        snprintf(detail, sizeof(detail), "remove %s%s", name,
                 force ? " (forced)" : "");
        code = scopes_update(p, &ch, "scopes-remove", detail, "Removed");
    }

    return code;
}
