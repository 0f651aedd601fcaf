/*
 * pitctl export / import: a backup of integrations as JSON.
 *
 *   {"format": "pit-auth-backup", "version": 1, "exported_at": MS,
 *    "prefix": "pit:", "meta": {...} | null, "catalogue": [...] | null,
 *    "integrations": [{"record": {...}, "last_used": {HASH: MS}}, ...]}
 *
 * A record is the integration record exactly as Redis holds it (token
 * hashes and hints, roles, deadlines, scopes, created/updated/by): never
 * a token.  Import decodes every record with the core before writing
 * anything, refuses a backup made with another hash mode or key (its
 * hashes would match no token), looks for conflicts first, then writes
 * each integration in its own MULTI/EXEC (pit_store_import).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pit_meta.h"
#include "pit_record.h"
#include "pit_rotation.h"
#include "pitctl.h"

#define BACKUP_FORMAT   "pit-auth-backup"
#define BACKUP_VERSION  1


/* ------------------------------------------------------------------------
 * Export
 * --------------------------------------------------------------------- */

typedef struct {
    pitctl_t  *p;
    json_t    *array;
    char      *buf;                   /* PIT_JSON_MAX */
    pit_err_t  rc;
} export_state_t;


static int
export_row(const pit_integration_t *in, void *arg)
{
    export_state_t  *es = arg;
    int64_t          used[PIT_TOKENS_MAX];
    json_t          *o, *rec, *lu;
    size_t           len, i;

    es->rc = pit_integration_to_json(in, es->buf, PIT_JSON_MAX, &len);
    if (es->rc == PIT_OK) {
        es->rc = pit_store_last_used(es->p->st, in, used);
    }
    if (es->rc != PIT_OK) {
        return 1;
    }

    rec = json_loadb(es->buf, len, 0, NULL);
    lu = json_object();
    o = json_object();
    if (rec == NULL || lu == NULL || o == NULL) {
        json_decref(rec);
        json_decref(lu);
        json_decref(o);
        es->rc = PIT_ERR_NOMEM;
        return 1;
    }

    for (i = 0; i < in->ntokens; i++) {
        if (used[i] > 0) {
            json_object_set_new(lu, in->tokens[i].hash,
                                json_integer(used[i]));
        }
    }

    json_object_set_new(o, "record", rec);
    json_object_set_new(o, "last_used", lu);
    json_array_append_new(es->array, o);
    return 0;
}


int
pitctl_cmd_export(pitctl_t *p)
{
    static const pitctl_command_t  me = { "export", NULL,
                                          "export [--account ID]" };
    export_state_t      es;
    pit_catalog_list_t  cl;
    pit_meta_t          m;
    const char         *acct;
    json_t             *root, *cat, *meta, *o;
    char                mj[PIT_META_JSON_MAX];
    pit_err_t           rc;
    size_t              i;
    int                 r, code, stored;

    acct = NULL;
    for (r = 0; r < p->argc; r++) {
        if (pitctl_opt_value(p->argc, p->argv, &r, "--account", &acct) <= 0) {
            return pitctl_usage_error(&me, "unexpected argument \"%s\"",
                                      p->argv[r]);
        }
    }

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    meta = json_null();
    rc = pit_store_meta_get(p->st, &m);
    if (rc == PIT_OK && pit_meta_to_json(&m, mj, sizeof(mj), NULL) == PIT_OK) {
        json_decref(meta);
        meta = json_loads(mj, 0, NULL);
    } else if (rc != PIT_ERR_NOT_FOUND) {
        return pitctl_fail_store(p, rc, "export", NULL);
    }

    pit_catalog_list_init(&cl);
    code = pitctl_catalog(p, &cl, &stored);
    if (code != 0) {
        json_decref(meta);
        return code;
    }

    cat = json_null();
    if (stored) {
        cat = json_array();
        for (i = 0; i < cl.n; i++) {
            o = json_object();
            json_object_set_new(o, "name", json_string(cl.entries[i].name));
            json_object_set_new(o, "label", json_string(cl.entries[i].label));
            json_array_append_new(cat, o);
        }
    }
    pit_catalog_list_free(&cl);

    es.p = p;
    es.array = json_array();
    es.buf = malloc(PIT_JSON_MAX);
    es.rc = PIT_OK;

    root = json_object();
    if (es.buf == NULL || es.array == NULL || root == NULL) {
        free(es.buf);
        json_decref(es.array);
        json_decref(root);
        json_decref(meta);
        json_decref(cat);
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    rc = pit_store_list(p->st, acct, p->now, export_row, &es);
    free(es.buf);
    if (rc == PIT_OK) {
        rc = es.rc;
    }

    json_object_set_new(root, "format", json_string(BACKUP_FORMAT));
    json_object_set_new(root, "version", json_integer(BACKUP_VERSION));
    json_object_set_new(root, "exported_at", json_integer(p->now));
    json_object_set_new(root, "prefix", json_string(p->prefix));
    json_object_set_new(root, "account",
                        acct ? json_string(acct) : json_null());
    json_object_set_new(root, "meta", meta);
    json_object_set_new(root, "catalogue", cat);
    json_object_set_new(root, "integrations", es.array);

    if (rc != PIT_OK) {
        json_decref(root);
        return pitctl_fail_store(p, rc, "export", NULL);
    }

    if (!p->json) {
        fprintf(stderr, "pitctl: exported %zu integrations (token hashes, "
                "never tokens)\n", json_array_size(es.array));
    }

    return pitctl_print_json(root);
}


/* ------------------------------------------------------------------------
 * Import
 * --------------------------------------------------------------------- */

typedef struct {
    pit_integration_t  in;
    int64_t            used[PIT_TOKENS_MAX];
} backup_item_t;


/* Decodes element i of the backup's integrations; exit code or 0. */
static int
import_decode(const json_t *e, size_t i, backup_item_t *it)
{
    json_t      *rec, *lu, *v;
    char        *s;
    size_t       t;
    pit_err_t    rc;

    rec = json_object_get(e, "record");
    lu = json_object_get(e, "last_used");
    if (!json_is_object(rec) || (lu != NULL && !json_is_object(lu))) {
        return pitctl_fail(EXIT_USAGE, "import: integration %zu: expected "
                           "{\"record\": {...}, \"last_used\": {...}}", i + 1);
    }

    s = json_dumps(rec, JSON_COMPACT);
    if (s == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    rc = strlen(s) < PIT_JSON_MAX
         ? pit_integration_from_json(s, strlen(s), &it->in) : PIT_ERR_TOO_LARGE;
    free(s);

    if (rc != PIT_OK) {
        return pitctl_fail(EXIT_USAGE, "import: integration %zu: the record "
                           "does not decode: %s", i + 1, pit_strerror(rc));
    }

    for (t = 0; t < it->in.ntokens; t++) {
        v = json_object_get(lu, it->in.tokens[t].hash);
        it->used[t] = json_is_integer(v) && json_integer_value(v) > 0
                      ? (int64_t) json_integer_value(v) : 0;
    }

    return 0;
}


/* Refuses a backup made with another hash mode or key than pitctl's. */
static int
import_check_meta(pitctl_t *p, const json_t *meta)
{
    pit_meta_t  theirs, mine, target;
    char       *s;
    pit_err_t   rc;

    if (pit_store_meta_mine(p->st, &mine, p->now) != PIT_OK) {
        return pitctl_fail(EXIT_REDIS, "import: hashing failed");
    }

    if (meta != NULL && !json_is_null(meta)) {
        s = json_dumps(meta, JSON_COMPACT);
        rc = s ? pit_meta_from_json(s, strlen(s), &theirs) : PIT_ERR_NOMEM;
        free(s);

        if (rc != PIT_OK) {
            return pitctl_fail(EXIT_USAGE, "import: the backup's meta does "
                               "not decode: %s", pit_strerror(rc));
        }

        if (!pit_meta_same_key(&theirs, &mine)) {
            return pitctl_fail(EXIT_CONFLICT, "import: the backup was made "
                               "with hash=%s%s%s, pitctl hashes with hash=%s"
                               "%s%s: its token hashes would match no token "
                               "(give the --hash-key it was made with)",
                               pit_hash_mode_name(theirs.hash),
                               theirs.fingerprint[0] ? " key=" : "",
                               theirs.fingerprint,
                               pit_hash_mode_name(mine.hash),
                               mine.fingerprint[0] ? " key=" : "",
                               mine.fingerprint);
        }
    }

    rc = pit_store_meta_get(p->st, &target);
    if (rc == PIT_OK && !pit_meta_same_key(&target, &mine) && !p->force_meta) {
        return pitctl_fail(EXIT_CONFLICT, "import: the target store is marked "
                           "hash=%s%s%s, pitctl hashes with hash=%s%s%s "
                           "(--force-meta to re-mark it)",
                           pit_hash_mode_name(target.hash),
                           target.fingerprint[0] ? " key=" : "",
                           target.fingerprint, pit_hash_mode_name(mine.hash),
                           mine.fingerprint[0] ? " key=" : "",
                           mine.fingerprint);
    }

    if (rc != PIT_OK && rc != PIT_ERR_NOT_FOUND && rc != PIT_ERR_CORRUPT) {
        return pitctl_fail_store(p, rc, "import", NULL);
    }

    return 0;
}


/* Takes the backup's catalogue where the target has none (or replace). */
static pit_err_t
import_catalogue_apply(pit_catalog_list_t *cl, int stored, void *arg)
{
    const pit_catalog_list_t  *with = arg;
    size_t                     i;
    pit_err_t                  rc;

    (void) stored;
    pit_catalog_list_free(cl);

    for (i = 0; i < with->n; i++) {
        rc = pit_catalog_list_add(cl, with->entries[i].name,
                                  strlen(with->entries[i].name),
                                  with->entries[i].label,
                                  strlen(with->entries[i].label), NULL);
        if (rc != PIT_OK) {
            return rc;
        }
    }

    return PIT_OK;
}


static int
import_catalogue(pitctl_t *p, const json_t *cat, int replace, int dry_run)
{
    pit_catalog_list_t  with, now;
    char               *s, err[PIT_CATALOG_ERR_MAX];
    pit_err_t           rc;
    int                 code, stored;

    if (cat == NULL || json_is_null(cat)) {
        return 0;
    }

    s = json_dumps(cat, JSON_COMPACT);
    if (s == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    pit_catalog_list_init(&with);
    pit_catalog_list_init(&now);
    rc = pit_catalog_list_parse(&with, "backup catalogue", s, strlen(s), err,
                                sizeof(err));
    free(s);

    if (rc != PIT_OK) {
        return pitctl_fail(EXIT_USAGE, "import: %s", err);
    }

    code = pitctl_catalog(p, &now, &stored);

    if (code == 0 && stored && !replace) {
        fprintf(stderr, "pitctl: import: kept the target's stored scope "
                "catalogue (--replace takes the backup's)\n");

    } else if (code == 0 && !dry_run) {
        rc = pit_store_catalog_update(p->st, import_catalogue_apply, &with,
                                      "scopes-import", "from a backup",
                                      p->now);
        if (rc != PIT_OK) {
            code = pitctl_fail_store(p, rc, "import", NULL);
        }
    }

    pit_catalog_list_free(&with);
    pit_catalog_list_free(&now);
    return code;
}


static json_t *
import_load(const char *file)
{
    json_error_t  err;
    json_t       *root;

    root = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &err)
                                  : json_load_file(file, 0, &err);
    if (root == NULL) {
        pitctl_fail(EXIT_USAGE, "import: %s:%d:%d: %s", file, err.line,
                    err.column, err.text);
    }

    return root;
}


int
pitctl_cmd_import(pitctl_t *p)
{
    static const pitctl_command_t  me = { "import", NULL,
                                          "import FILE|- [--dry-run] "
                                          "[--replace]" };
    backup_item_t  *items;
    const char     *file;
    json_t         *root, *ints, *v, *out, *conf;
    size_t          n, i, conflicts, done;
    int             a, dry_run, replace, code;
    pit_err_t       rc;

    file = NULL;
    dry_run = replace = 0;

    for (a = 0; a < p->argc; a++) {
        if (strcmp(p->argv[a], "--dry-run") == 0) {
            dry_run = 1;
        } else if (strcmp(p->argv[a], "--replace") == 0) {
            replace = 1;
        } else if (file == NULL
                   && (p->argv[a][0] != '-' || p->argv[a][1] == '\0'))
        {
            file = p->argv[a];
        } else {
            return pitctl_usage_error(&me, "unexpected argument \"%s\"",
                                      p->argv[a]);
        }
    }

    if (file == NULL) {
        return pitctl_usage_error(&me, "%s", "expected a backup FILE (or -)");
    }

    root = import_load(file);
    if (root == NULL) {
        return EXIT_USAGE;
    }

    v = json_object_get(root, "format");
    ints = json_object_get(root, "integrations");
    if (!json_is_string(v) || strcmp(json_string_value(v), BACKUP_FORMAT) != 0
        || json_integer_value(json_object_get(root, "version"))
           != BACKUP_VERSION
        || !json_is_array(ints))
    {
        json_decref(root);
        return pitctl_fail(EXIT_USAGE, "import: %s is not a pit-auth backup "
                           "(format %s, version %d)", file, BACKUP_FORMAT,
                           BACKUP_VERSION);
    }

    n = json_array_size(ints);
    items = calloc(n ? n : 1, sizeof(backup_item_t));
    if (items == NULL) {
        json_decref(root);
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    /* every record decodes, or nothing is written */
    code = 0;
    for (i = 0; i < n && code == 0; i++) {
        code = import_decode(json_array_get(ints, i), i, &items[i]);
    }

    if (code == 0) {
        code = pitctl_open_store(p);
    }
    if (code == 0) {
        code = import_check_meta(p, json_object_get(root, "meta"));
    }

    /* conflicts first: none, or nothing is written (unless --replace) */
    conflicts = 0;
    conf = json_array();
    for (i = 0; i < n && code == 0; i++) {
        rc = pit_store_import(p->st, &items[i].in, items[i].used, replace, 1,
                              p->now);
        if (rc == PIT_ERR_CONFLICT) {
            conflicts++;
            if (!p->json) {
                fprintf(stderr, "pitctl: import: conflict: %s \"%s\" "
                        "(account %s): %s\n", items[i].in.id,
                        items[i].in.name, items[i].in.account,
                        pit_store_error(p->st));
            }
            json_array_append_new(conf, json_string(items[i].in.id));
        } else if (rc != PIT_OK) {
            code = pitctl_fail_store(p, rc, "import", items[i].in.id);
        }
    }

    if (code == 0 && conflicts) {
        code = pitctl_fail(EXIT_CONFLICT, "import: %zu conflict%s, nothing "
                           "was imported (--replace replaces them)",
                           conflicts, conflicts == 1 ? "" : "s");
    }

    if (code == 0) {
        code = import_catalogue(p, json_object_get(root, "catalogue"),
                                replace, dry_run);
    }

    done = 0;
    for (i = 0; i < n && code == 0 && !dry_run; i++) {
        rc = pit_store_import(p->st, &items[i].in, items[i].used, replace, 0,
                              p->now);
        if (rc != PIT_OK) {
            code = pitctl_fail_store(p, rc, "import", items[i].in.id);
            if (rc == PIT_ERR_CONFLICT) {
                fprintf(stderr, "pitctl: import: %s: %s\n", items[i].in.id,
                        pit_store_error(p->st));
            }
            break;
        }
        done++;
    }

    if (code == 0) {
        if (p->json) {
            out = json_object();
            json_object_set_new(out, "dry_run", json_boolean(dry_run));
            json_object_set_new(out, "integrations", json_integer((json_int_t) n));
            json_object_set_new(out, "imported", json_integer((json_int_t) done));
            json_object_set_new(out, "conflicts", json_incref(conf));
            code = pitctl_print_json(out);

        } else if (dry_run) {
            printf("Dry run: %zu integrations would be imported%s\n", n,
                   replace ? " (replacing what conflicts)" : "");

        } else {
            printf("Imported %zu integrations\n", done);
        }

    } else if (done > 0) {
        fprintf(stderr, "pitctl: import: %zu of %zu integrations were "
                "imported before the failure\n", done, n);
    }

    json_decref(conf);
    free(items);
    json_decref(root);
    return code;
}
