/*
 * pitctl doctor: says whether a deployment is misconfigured, one line per
 * finding (OK / WARN / FAIL): Redis and its persistence, ACL users, the
 * store mark against --hash-key, counts, rotations due, a sample of
 * records decoded, orphan token keys, and, given nginx's configuration
 * (`nginx -T` output or a file), whether its pit_auth_* directives agree
 * with the store.  Exit 0 all OK, 3 warnings only, 4 a failure.
 *
 * The nginx configuration is read with a small tokenizer of its own
 * (words, quotes, comments, ';', '{', '}'), never nginx code; only the
 * directives below are understood, and values holding variables are
 * skipped.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pit_meta.h"
#include "pit_rotation.h"
#include "pit_schema.h"
#include "pit_scope.h"
#include "pit_token.h"
#include "pitctl.h"

#define DOCTOR_SAMPLE      20       /* token records decoded */
#define DOCTOR_ORPHAN_MAX  1000     /* token keys checked for an owner */
#define DOCTOR_ARGS_MAX    32       /* arguments of one directive kept */
#define DOCTOR_CONF_MAX    (16 * 1024 * 1024)
#define DOCTOR_TEXT_MAX    8192

typedef enum {
    DOCTOR_OK = 0,
    DOCTOR_WARN,
    DOCTOR_FAIL
} doctor_level_t;

static const char  *doctor_level_names[] = { "OK", "WARN", "FAIL" };

/* How often the configuration sets what has a default. */
typedef struct {
    int  prefixes, hash_keys;
} conf_seen_t;

typedef struct {
    pitctl_t            *p;
    doctor_level_t       worst;
    json_t              *findings;    /* --json */
    pit_meta_t           mine;        /* what pitctl's hash key writes */
    pit_meta_t           mark;        /* the store's, if have_mark */
    int                  have_mark;
    pit_redis_url_t      url;
    pit_catalog_list_t   cat;         /* the active catalogue */
    int                  cat_stored;
    int                  have_cat;
    conf_seen_t          seen;        /* in the nginx configuration */
} doctor_t;


/* ------------------------------------------------------------------------
 * Findings
 * --------------------------------------------------------------------- */

static void
finding(doctor_t *d, doctor_level_t level, const char *check,
    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
finding(doctor_t *d, doctor_level_t level, const char *check,
    const char *fmt, ...)
{
    va_list  ap;
    char     msg[1024];
    json_t  *o;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (level > d->worst) {
        d->worst = level;
    }

    if (d->findings != NULL) {
        o = json_object();
        json_object_set_new(o, "level", json_string(doctor_level_names[level]));
        json_object_set_new(o, "check", json_string(check));
        json_object_set_new(o, "message", json_string(msg));
        json_array_append_new(d->findings, o);
        return;
    }

    printf("%-4s  %-12s  %s\n", doctor_level_names[level], check, msg);
}


/* Returns the value of "field:" in INFO text, copied into buf, or NULL. */
static const char *
info_field(const char *info, const char *field, char *buf, size_t cap)
{
    const char  *s;
    size_t       n, fl;

    fl = strlen(field);
    for (s = info; s != NULL && *s; s = strchr(s, '\n'), s = s ? s + 1 : s) {
        if (strncmp(s, field, fl) == 0 && s[fl] == ':') {
            s += fl + 1;
            n = strcspn(s, "\r\n");
            n = n < cap - 1 ? n : cap - 1;
            memcpy(buf, s, n);
            buf[n] = '\0';
            return buf;
        }
    }

    return NULL;
}


static const char *
meta_text(const pit_meta_t *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "hash=%s%s%s", pit_hash_mode_name(m->hash),
             m->fingerprint[0] ? " key=" : "", m->fingerprint);
    return buf;
}


/* ------------------------------------------------------------------------
 * Redis
 * --------------------------------------------------------------------- */

static int
doctor_info(doctor_t *d, const char *section, char *buf, size_t cap)
{
    const char  *argv[2] = { "INFO", section };

    return pit_store_read_text(d->p->st, 2, argv, buf, cap) == PIT_OK ? 0
                                                                       : -1;
}


static void
check_redis(doctor_t *d)
{
    char        info[DOCTOR_TEXT_MAX], v[64], role[32], slaves[16], where[300];
    const char  *primary;

    primary = pit_store_primary(d->p->st);
    if (d->url.sentinel) {
        snprintf(where, sizeof(where), "primary %s of \"%s\" (via the "
                 "sentinels)", primary, d->url.master);
    } else if (d->url.unix_socket) {
        snprintf(where, sizeof(where), "%s", d->url.path);
    } else {
        snprintf(where, sizeof(where), "%s:%d", d->url.host, d->url.port);
    }

    if (doctor_info(d, "server", info, sizeof(info)) != 0) {
        finding(d, DOCTOR_WARN, "redis", "reachable at %s, db %d, but INFO "
                "is refused (%s): pit-admin needs +info", where, d->url.db,
                pit_store_error(d->p->st));
        return;
    }

    finding(d, DOCTOR_OK, "redis", "reachable at %s, db %d%s%s, Redis %s",
            where, d->url.db, d->url.user[0] ? ", as " : "", d->url.user,
            info_field(info, "redis_version", v, sizeof(v)) ? v : "?");

    if (doctor_info(d, "replication", info, sizeof(info)) != 0) {
        return;
    }

    if (!info_field(info, "role", role, sizeof(role))) {
        snprintf(role, sizeof(role), "?");
    }
    if (!info_field(info, "connected_slaves", slaves, sizeof(slaves))) {
        snprintf(slaves, sizeof(slaves), "0");
    }

    if (strcmp(role, "master") != 0) {
        finding(d, DOCTOR_FAIL, "replication", "role %s: changes would be "
                "refused (READONLY); point pitctl at the primary, or use a "
                "redis-sentinel:// URL", role);

    } else if (d->url.sentinel && atoi(slaves) == 0) {
        finding(d, DOCTOR_WARN, "replication", "role master, no replica "
                "connected: a failover has nowhere to go");

    } else {
        finding(d, DOCTOR_OK, "replication", "role %s, %s replica%s "
                "connected", role, slaves, strcmp(slaves, "1") ? "s" : "");
    }
}


static void
check_persistence(doctor_t *d)
{
    char  info[DOCTOR_TEXT_MAX], aof[16], st[16], last[32], when[32];
    char  changes[32];

    if (doctor_info(d, "persistence", info, sizeof(info)) != 0) {
        return;
    }

    if (info_field(info, "rdb_last_bgsave_status", st, sizeof(st))
        && strcmp(st, "ok") != 0)
    {
        finding(d, DOCTOR_FAIL, "persistence", "the last RDB save failed "
                "(rdb_last_bgsave_status:%s)", st);
    }

    if (!info_field(info, "aof_enabled", aof, sizeof(aof))) {
        return;
    }

    if (strcmp(aof, "1") == 0) {
        if (info_field(info, "aof_last_write_status", st, sizeof(st))
            && strcmp(st, "ok") != 0)
        {
            finding(d, DOCTOR_FAIL, "persistence", "AOF on, but its last "
                    "write failed (aof_last_write_status:%s)", st);
        } else {
            finding(d, DOCTOR_OK, "persistence", "AOF on (appendonly yes)");
        }
        return;
    }

    when[0] = '\0';
    if (info_field(info, "rdb_last_save_time", last, sizeof(last))) {
        pitctl_format_time((int64_t) atoll(last) * 1000, when, sizeof(when));
    }

    finding(d, DOCTOR_WARN, "persistence", "AOF off (appendonly no): a "
            "restart loses every change since the last RDB snapshot (%s, "
            "%s changes since); revoked tokens may come back; set "
            "appendonly yes", when[0] ? when : "never",
            info_field(info, "rdb_changes_since_last_save", changes,
                       sizeof(changes)) ? changes : "?");
}


static void
check_acl(doctor_t *d)
{
    static const char  *users_argv[] = { "ACL", "USERS" };
    static const char  *ping_argv[] = { "PING" };
    pit_redis_url_t     anon;
    pit_store_t        *st;
    char                buf[DOCTOR_TEXT_MAX];
    const char         *primary;
    int                 gw, adm, open_default;

    /* an unauthenticated connection answering PING: default is on,
     * without a password */
    anon = d->url;
    anon.user[0] = anon.password[0] = '\0';
    primary = pit_store_primary(d->p->st);
    if (anon.sentinel && strchr(primary, ':') != NULL) {
        anon.sentinel = 0;
        snprintf(anon.host, sizeof(anon.host), "%.*s",
                 (int) (strrchr(primary, ':') - primary), primary);
        anon.port = atoi(strrchr(primary, ':') + 1);
    }

    open_default = 0;
    if (pit_store_open(&st, &anon, d->p->prefix, 2000) == PIT_OK
        && pit_store_read_text(st, 1, ping_argv, buf, sizeof(buf)) == PIT_OK)
    {
        open_default = 1;
    }
    pit_store_close(st);
    memset(&anon, 0, sizeof(anon));

    if (open_default) {
        finding(d, DOCTOR_WARN, "acl", "the default user is on without a "
                "password: anyone who can connect can read and change every "
                "token (see scripts/redis-acl.conf)");
    } else {
        finding(d, DOCTOR_OK, "acl", "the default user refuses an "
                "unauthenticated client");
    }

    if (pit_store_read_text(d->p->st, 2, users_argv, buf, sizeof(buf))
        != PIT_OK)
    {
        finding(d, DOCTOR_WARN, "acl", "cannot list ACL users (%s): "
                "pit-admin needs +acl|users", pit_store_error(d->p->st));
        return;
    }

    gw = strstr(buf, "pit-gateway\n") != NULL;
    adm = strstr(buf, "pit-admin\n") != NULL;

    if (gw && adm) {
        finding(d, DOCTOR_OK, "acl", "users pit-gateway and pit-admin exist");
    } else {
        finding(d, DOCTOR_WARN, "acl", "no ACL user%s %s%s%s: nginx and "
                "pitctl should each have their own least-privilege user "
                "(scripts/redis-acl.conf)", gw || adm ? "" : "s",
                gw ? "" : "pit-gateway", !gw && !adm ? " or " : "",
                adm ? "" : "pit-admin");
    }
}


/* ------------------------------------------------------------------------
 * The store
 * --------------------------------------------------------------------- */

static int
count_key(const char *key, void *arg)
{
    (void) key;
    (*(size_t *) arg)++;
    return 0;
}


/* Other databases holding keys, from INFO keyspace ("db0 (12 keys)"). */
static void
other_databases(doctor_t *d, char *buf, size_t cap)
{
    char        info[DOCTOR_TEXT_MAX];
    const char *s;
    size_t      n;
    int         db;
    long        keys;

    buf[0] = '\0';
    if (doctor_info(d, "keyspace", info, sizeof(info)) != 0) {
        return;
    }

    n = 0;
    for (s = strstr(info, "\ndb"); s != NULL; s = strstr(s + 1, "\ndb")) {
        if (sscanf(s + 3, "%d:keys=%ld", &db, &keys) == 2
            && db != d->url.db && n + 40 < cap)
        {
            n += (size_t) snprintf(buf + n, cap - n, "%sdb %d holds %ld key%s",
                                   n ? ", " : "; ", db, keys,
                                   keys == 1 ? "" : "s");
        }
    }
}


static void
check_mark(doctor_t *d, size_t nints)
{
    char       a[64], b[64], others[256];
    pit_err_t  rc;

    rc = pit_store_meta_get(d->p->st, &d->mark);

    if (rc == PIT_ERR_NOT_FOUND) {
        if (nints == 0) {
            other_databases(d, others, sizeof(others));
            finding(d, DOCTOR_WARN, "store-mark", "no %smeta and no "
                    "integration under prefix \"%s\" in db %d: wrong prefix "
                    "or database, or an empty Redis%s", d->p->prefix,
                    d->p->prefix, d->url.db, others);
        } else {
            finding(d, DOCTOR_WARN, "store-mark", "no %smeta (written by "
                    "pitctl's next change)", d->p->prefix);
        }
        return;
    }

    if (rc != PIT_OK) {
        finding(d, DOCTOR_FAIL, "store-mark", "%smeta cannot be read: %s",
                d->p->prefix, pit_store_error(d->p->st));
        return;
    }

    d->have_mark = 1;

    if (!pit_meta_same_key(&d->mark, &d->mine)) {
        finding(d, DOCTOR_FAIL, "store-mark", "the store is marked %s, "
                "pitctl hashes with %s (%s): wrong --hash-key? pitctl "
                "refuses to change this store, and finds no token",
                meta_text(&d->mark, a, sizeof(a)),
                meta_text(&d->mine, b, sizeof(b)),
                d->p->hash_key_file && d->p->hash_key_file[0]
                ? d->p->hash_key_file : "no --hash-key");
        return;
    }

    pitctl_format_time(d->mark.created_at_ms, b, sizeof(b));
    finding(d, DOCTOR_OK, "store-mark", "%s, schema v%d, since %s; "
            "pitctl's hash key agrees", meta_text(&d->mark, a, sizeof(a)),
            d->mark.version, b);
}


typedef struct {
    doctor_t  *d;
    size_t     n, due, corrupt;
    char       due_ids[128];
} ints_state_t;


static int
ints_row(const pit_integration_t *in, void *arg)
{
    ints_state_t  *is = arg;
    size_t         n;

    is->n++;
    if (pit_rotation_due(in, is->d->p->now)) {
        is->due++;
        n = strlen(is->due_ids);
        if (n + PIT_ID_LEN + 8 < sizeof(is->due_ids)) {
            snprintf(is->due_ids + n, sizeof(is->due_ids) - n, "%s%s",
                     n ? ", " : "", in->id);
        } else if (n + 5 < sizeof(is->due_ids) && !strstr(is->due_ids, "...")) {
            strcat(is->due_ids, ", ...");
        }
    }

    return 0;
}


typedef struct {
    doctor_t  *d;
    size_t     seen, sampled, bad, checked, orphans;
    char       first_bad[PIT_HASH_HEX_LEN + 1];
    char       first_orphan[PIT_HASH_HEX_LEN + 1];
    pit_integration_t  *in;
} tok_state_t;


/* Decodes a token record (the first DOCTOR_SAMPLE) and checks that its
 * integration lists it (the first DOCTOR_ORPHAN_MAX). */
static int
tok_row(const char *key, void *arg)
{
    tok_state_t         *ts = arg;
    pit_token_record_t   rec;
    const char          *hash;
    pit_err_t            rc;
    size_t               i;
    int                  listed;

    ts->seen++;
    if (ts->checked >= DOCTOR_ORPHAN_MAX || strncmp(key, "tok:", 4) != 0) {
        return 0;
    }

    hash = key + 4;
    rc = pit_store_token_get(ts->d->p->st, hash, &rec);
    if (rc == PIT_ERR_NOT_FOUND) {
        return 0;               /* expired since the SCAN */
    }

    ts->checked++;
    if (ts->sampled < DOCTOR_SAMPLE) {
        ts->sampled++;
    }

    if (rc != PIT_OK) {
        ts->bad++;
        if (!ts->first_bad[0]) {
            snprintf(ts->first_bad, sizeof(ts->first_bad), "%.64s", hash);
        }
        return 0;
    }

    rc = pit_store_get(ts->d->p->st, rec.iid, ts->in, ts->d->p->now);
    listed = 0;
    for (i = 0; rc == PIT_OK && i < ts->in->ntokens; i++) {
        listed |= strcmp(ts->in->tokens[i].hash, hash) == 0;
    }

    if (!listed && rc != PIT_ERR_CORRUPT) {
        ts->orphans++;
        if (!ts->first_orphan[0]) {
            snprintf(ts->first_orphan, sizeof(ts->first_orphan), "%.64s",
                     hash);
        }
    }

    return 0;
}


static void
check_store(doctor_t *d)
{
    ints_state_t  is;
    tok_state_t   ts;
    size_t        nints;
    pit_err_t     rc;

    nints = 0;
    rc = pit_store_scan(d->p->st, "int:*", count_key, &nints);
    if (rc != PIT_OK) {
        finding(d, DOCTOR_FAIL, "store", "SCAN refused: %s",
                pit_store_error(d->p->st));
        return;
    }

    check_mark(d, nints);

    memset(&is, 0, sizeof(is));
    is.d = d;
    rc = pit_store_list(d->p->st, NULL, d->p->now, ints_row, &is);
    if (rc == PIT_ERR_CORRUPT) {
        finding(d, DOCTOR_FAIL, "records", "an integration record does not "
                "decode: %s", pit_store_error(d->p->st));
    } else if (rc != PIT_OK) {
        finding(d, DOCTOR_FAIL, "records", "listing failed: %s",
                pit_store_error(d->p->st));
    }

    memset(&ts, 0, sizeof(ts));
    ts.d = d;
    ts.in = malloc(sizeof(pit_integration_t));
    if (ts.in == NULL) {
        finding(d, DOCTOR_FAIL, "records", "out of memory");
        return;
    }

    rc = pit_store_scan(d->p->st, "tok:*", tok_row, &ts);
    free(ts.in);

    finding(d, DOCTOR_OK, "counts", "%zu integration%s, %zu token key%s "
            "under \"%s\"", nints, nints == 1 ? "" : "s", ts.seen,
            ts.seen == 1 ? "" : "s", d->p->prefix);

    if (is.due) {
        finding(d, DOCTOR_WARN, "rotation", "%zu integration%s due for "
                "rotation (primary token 90 days old or more): %s", is.due,
                is.due == 1 ? "" : "s", is.due_ids);
    } else {
        finding(d, DOCTOR_OK, "rotation", "no token is due for rotation");
    }

    if (ts.bad) {
        finding(d, DOCTOR_FAIL, "records", "%zu of %zu token records do not "
                "decode (first: %stok:%s): nginx answers 503 for them",
                ts.bad, ts.checked, d->p->prefix, ts.first_bad);
    } else if (ts.sampled) {
        finding(d, DOCTOR_OK, "records", "%zu token records decode (%zu "
                "sampled)", ts.checked, ts.sampled);
    }

    if (ts.orphans) {
        finding(d, DOCTOR_WARN, "orphans", "%zu token key%s that no "
                "integration lists (first: %stok:%s): such a token still "
                "works at the edge; delete the key", ts.orphans,
                ts.orphans == 1 ? "" : "s", d->p->prefix, ts.first_orphan);
    } else if (ts.checked) {
        finding(d, DOCTOR_OK, "orphans", "every token key checked (%zu) "
                "belongs to its integration", ts.checked);
    }
}


/* ------------------------------------------------------------------------
 * The nginx configuration
 * --------------------------------------------------------------------- */

typedef struct {
    const char  *s, *end;
    char         file[256];
    size_t       line;
} conf_lexer_t;

typedef struct {
    char         file[256];
    size_t       line;
    size_t       argc;
    char        *argv[DOCTOR_ARGS_MAX];    /* argv[0]: the name */
} conf_directive_t;


/*
 * Reads the next word into buf (quotes removed, escapes kept as the
 * escaped byte); returns 1 for a word, ';' '{' '}' for those, 0 at the
 * end.  "# configuration file F:" comments (nginx -T) set the file.
 */
static int
conf_next(conf_lexer_t *lx, char *buf, size_t cap)
{
    const char  *e;
    size_t       n;
    char         q;

    for ( ;; ) {
        while (lx->s < lx->end && (*lx->s == ' ' || *lx->s == '\t'
                                   || *lx->s == '\r' || *lx->s == '\n'))
        {
            lx->line += *lx->s == '\n';
            lx->s++;
        }

        if (lx->s >= lx->end) {
            return 0;
        }

        if (*lx->s != '#') {
            break;
        }

        e = memchr(lx->s, '\n', (size_t) (lx->end - lx->s));
        e = e ? e : lx->end;
        if (e - lx->s > 22 && strncmp(lx->s, "# configuration file ", 21) == 0
            && e[-1] == ':')
        {
            n = (size_t) (e - lx->s) - 22;
            snprintf(lx->file, sizeof(lx->file), "%.*s", (int) n, lx->s + 21);
            lx->line = 0;
        }
        lx->s = e;
    }

    if (*lx->s == ';' || *lx->s == '{' || *lx->s == '}') {
        return *lx->s++;
    }

    n = 0;
    q = (*lx->s == '"' || *lx->s == '\'') ? *lx->s++ : 0;

    while (lx->s < lx->end) {
        if (q ? *lx->s == q
              : (*lx->s == ' ' || *lx->s == '\t' || *lx->s == '\r'
                 || *lx->s == '\n' || *lx->s == ';' || *lx->s == '{'
                 || *lx->s == '}'))
        {
            break;
        }

        if (*lx->s == '\\' && lx->s + 1 < lx->end) {
            lx->s++;
        }
        lx->line += *lx->s == '\n';
        if (n + 1 < cap) {
            buf[n++] = *lx->s;
        }
        lx->s++;
    }

    if (q && lx->s < lx->end) {
        lx->s++;
    }

    buf[n] = '\0';
    return 1;
}


/* Calls fn for each pit_auth_* directive of the text. */
static void
conf_directives(const char *text, size_t len, const char *name,
    void (*fn)(doctor_t *d, const conf_directive_t *cd), doctor_t *d,
    size_t *found)
{
    conf_lexer_t      lx;
    conf_directive_t  cd;
    char              word[4096];
    int               t;
    size_t            i;

    lx.s = text;
    lx.end = text + len;
    lx.line = 1;
    snprintf(lx.file, sizeof(lx.file), "%s", name);
    memset(&cd, 0, sizeof(cd));

    while ((t = conf_next(&lx, word, sizeof(word))) != 0) {
        if (t == 1) {
            if (cd.argc == 0) {
                snprintf(cd.file, sizeof(cd.file), "%s", lx.file);
                cd.line = lx.line;
            }
            if (cd.argc < DOCTOR_ARGS_MAX) {
                cd.argv[cd.argc++] = strdup(word);
            }
            continue;
        }

        /* ';' ends a directive, '{' a block's name and '}' a block */
        if (t == ';' && cd.argc > 0 && cd.argv[0] != NULL
            && strncmp(cd.argv[0], "pit_auth", 8) == 0)
        {
            (*found)++;
            fn(d, &cd);
        }

        for (i = 0; i < cd.argc; i++) {
            free(cd.argv[i]);
        }
        cd.argc = 0;
    }

    for (i = 0; i < cd.argc; i++) {
        free(cd.argv[i]);
    }
}


static void
conf_redis(doctor_t *d, const conf_directive_t *cd)
{
    char        want[300];
    const char *addr;
    size_t      i;
    int         db;

    addr = cd->argv[1];
    db = 0;
    for (i = 2; i < cd->argc; i++) {
        if (strncmp(cd->argv[i], "db=", 3) == 0) {
            db = atoi(cd->argv[i] + 3);
        }
    }

    if (db != d->url.db) {
        finding(d, DOCTOR_FAIL, "nginx", "%s:%zu: pit_auth_redis %s reads "
                "db %d, pitctl writes db %d: nginx finds no token", cd->file,
                cd->line, addr, db, d->url.db);
    }

    if (d->url.sentinel) {
        return;
    }

    if (d->url.unix_socket) {
        snprintf(want, sizeof(want), "unix:%s", d->url.path);
    } else {
        snprintf(want, sizeof(want), "%s:%d", d->url.host, d->url.port);
    }

    if (strcmp(addr, want) != 0
        && !(strchr(addr, ':') == NULL && !d->url.unix_socket
             && d->url.port == 6379 && strcmp(addr, d->url.host) == 0))
    {
        finding(d, DOCTOR_WARN, "nginx", "%s:%zu: pit_auth_redis %s, pitctl "
                "talks to %s: the same Redis?", cd->file, cd->line, addr,
                want);
    } else if (db == d->url.db) {
        finding(d, DOCTOR_OK, "nginx", "%s:%zu: pit_auth_redis %s db %d: "
                "the store pitctl uses", cd->file, cd->line, addr, db);
    }
}


static void
conf_hash_key(doctor_t *d, const conf_directive_t *cd)
{
    unsigned char  key[PIT_HASH_KEY_MAX];
    size_t         key_len;
    pit_meta_t     theirs;
    char           a[64], b[64];
    pit_err_t      rc;

    rc = pit_hash_key_load(cd->argv[1], key, &key_len);
    if (rc != PIT_OK) {
        finding(d, DOCTOR_WARN, "nginx", "%s:%zu: pit_auth_hash_key %s: %s "
                "(run doctor where nginx's key file is readable)", cd->file,
                cd->line, cd->argv[1], pit_strerror(rc));
        return;
    }

    rc = pit_meta_init(&theirs, key, key_len, 1);
    memset(key, 0, sizeof(key));
    if (rc != PIT_OK) {
        return;
    }

    if (d->have_mark && !pit_meta_same_key(&theirs, &d->mark)) {
        finding(d, DOCTOR_FAIL, "nginx", "%s:%zu: pit_auth_hash_key %s is %s,"
                " the store is marked %s: every token is 401", cd->file,
                cd->line, cd->argv[1], meta_text(&theirs, a, sizeof(a)),
                meta_text(&d->mark, b, sizeof(b)));

    } else if (!pit_meta_same_key(&theirs, &d->mine)) {
        finding(d, DOCTOR_FAIL, "nginx", "%s:%zu: pit_auth_hash_key %s is %s,"
                " pitctl hashes with %s: tokens it issues are 401", cd->file,
                cd->line, cd->argv[1], meta_text(&theirs, a, sizeof(a)),
                meta_text(&d->mine, b, sizeof(b)));

    } else {
        finding(d, DOCTOR_OK, "nginx", "%s:%zu: pit_auth_hash_key %s: the "
                "store's key (%s)", cd->file, cd->line, cd->argv[1],
                meta_text(&theirs, a, sizeof(a)));
    }
}


static void
conf_scope(doctor_t *d, const conf_directive_t *cd)
{
    const char  *s, *e;
    char         name[PIT_SCOPE_NAME_MAX + 1], near[PIT_SCOPE_NAME_MAX + 1];
    size_t       i, bad;

    bad = 0;
    for (i = 1; i < cd->argc && d->have_cat; i++) {
        if (strchr(cd->argv[i], '$') != NULL) {
            continue;               /* a variable: known at request time */
        }

        if (pit_scope_expr_validate(cd->argv[i], strlen(cd->argv[i]))
            != PIT_OK)
        {
            finding(d, DOCTOR_FAIL, "nginx", "%s:%zu: pit_auth_scope \"%s\" "
                    "is not a requirement expression (nginx -t refuses it)",
                    cd->file, cd->line, cd->argv[i]);
            bad++;
            continue;
        }

        for (s = cd->argv[i]; *s; s = e) {
            while (*s == ' ' || *s == '\t' || *s == '|') {
                s++;
            }
            e = s;
            while (*e && *e != ' ' && *e != '\t' && *e != '|') {
                e++;
            }
            if (e == s || (size_t) (e - s) > PIT_SCOPE_NAME_MAX) {
                continue;
            }

            if (pit_catalog_list_find(&d->cat, s, (size_t) (e - s)) == NULL) {
                memcpy(name, s, (size_t) (e - s));
                name[e - s] = '\0';
                pitctl_suggest(&d->cat, name, near, sizeof(near));
                finding(d, DOCTOR_FAIL, "nginx", "%s:%zu: pit_auth_scope %s "
                        "is not in the %s catalogue%s%s%s: no token can hold "
                        "it", cd->file, cd->line, name,
                        d->cat_stored ? "stored" : "built-in",
                        near[0] ? " (did you mean " : "", near,
                        near[0] ? "?)" : "");
                bad++;
            }
        }
    }

    if (bad == 0 && d->have_cat) {
        finding(d, DOCTOR_OK, "nginx", "%s:%zu: pit_auth_scope: every "
                "constant scope is in the %s catalogue", cd->file, cd->line,
                d->cat_stored ? "stored" : "built-in");
    }
}


static void
conf_catalog(doctor_t *d, const conf_directive_t *cd)
{
    pit_catalog_list_t  file;
    char                err[PIT_CATALOG_ERR_MAX];
    size_t              i, only_file, only_store;

    pit_catalog_list_init(&file);
    if (pit_catalog_load_file(&file, cd->argv[1], err, sizeof(err))
        != PIT_OK)
    {
        finding(d, DOCTOR_FAIL, "nginx", "%s:%zu: pit_auth_scope_catalog: "
                "%s", cd->file, cd->line, err);
        return;
    }

    only_file = only_store = 0;
    for (i = 0; i < file.n; i++) {
        only_file += pit_catalog_list_find(&d->cat, file.entries[i].name,
                          strlen(file.entries[i].name)) == NULL;
    }
    for (i = 0; i < d->cat.n; i++) {
        only_store += pit_catalog_list_find(&file, d->cat.entries[i].name,
                          strlen(d->cat.entries[i].name)) == NULL;
    }

    if (only_file || only_store) {
        finding(d, DOCTOR_WARN, "nginx", "%s:%zu: pit_auth_scope_catalog %s "
                "differs from the %s catalogue: %zu scope%s only in the file,"
                " %zu only in the store (pitctl scopes export > %s)",
                cd->file, cd->line, cd->argv[1],
                d->cat_stored ? "stored" : "built-in", only_file,
                only_file == 1 ? "" : "s", only_store, cd->argv[1]);
    } else {
        finding(d, DOCTOR_OK, "nginx", "%s:%zu: pit_auth_scope_catalog %s: "
                "the same %zu scopes as the store", cd->file, cd->line,
                cd->argv[1], file.n);
    }

    pit_catalog_list_free(&file);
}


static void
conf_directive(doctor_t *d, const conf_directive_t *cd)
{
    conf_seen_t  *seen = &d->seen;
    const char   *n = cd->argv[0];

    if (cd->argc < 2) {
        return;
    }

    if (strcmp(n, "pit_auth_redis") == 0) {
        conf_redis(d, cd);

    } else if (strcmp(n, "pit_auth_key_prefix") == 0) {
        seen->prefixes++;
        if (strcmp(cd->argv[1], d->p->prefix) != 0) {
            finding(d, DOCTOR_FAIL, "nginx", "%s:%zu: pit_auth_key_prefix %s,"
                    " pitctl uses --prefix %s: nginx finds no token",
                    cd->file, cd->line, cd->argv[1], d->p->prefix);
        } else {
            finding(d, DOCTOR_OK, "nginx", "%s:%zu: pit_auth_key_prefix %s",
                    cd->file, cd->line, cd->argv[1]);
        }

    } else if (strcmp(n, "pit_auth_hash_key") == 0) {
        seen->hash_keys++;
        conf_hash_key(d, cd);

    } else if (strcmp(n, "pit_auth_scope") == 0) {
        conf_scope(d, cd);

    } else if (strcmp(n, "pit_auth_scope_catalog") == 0) {
        conf_catalog(d, cd);
    }
}


static char *
read_all(const char *file, size_t *len)
{
    FILE    *f;
    char    *buf, *grown;
    size_t   cap, n;

    f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (f == NULL) {
        return NULL;
    }

    cap = 65536;
    n = 0;
    buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= DOCTOR_CONF_MAX) {
            break;
        }
        grown = realloc(buf, cap * 2);
        if (grown == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }

    if (f != stdin) {
        fclose(f);
    }

    *len = n;
    return buf;
}


static void
check_nginx(doctor_t *d, const char *file)
{
    conf_seen_t  *seen;
    char         *text;
    size_t        len, found;

    text = read_all(file, &len);
    if (text == NULL) {
        finding(d, DOCTOR_FAIL, "nginx", "%s: cannot be read", file);
        return;
    }

    seen = &d->seen;
    memset(seen, 0, sizeof(*seen));
    found = 0;

    conf_directives(text, len, strcmp(file, "-") ? file : "(stdin)",
                    conf_directive, d, &found);
    free(text);

    if (found == 0) {
        finding(d, DOCTOR_WARN, "nginx", "%s: no pit_auth_* directive (is "
                "this the output of nginx -T?)", file);
        return;
    }

    if (seen->prefixes == 0 && strcmp(d->p->prefix, PIT_PREFIX_DEFAULT)) {
        finding(d, DOCTOR_FAIL, "nginx", "no pit_auth_key_prefix: nginx "
                "reads \"%s\", pitctl uses --prefix %s", PIT_PREFIX_DEFAULT,
                d->p->prefix);
    }

    if (seen->hash_keys == 0 && d->have_mark
        && d->mark.hash == PIT_HASH_HMAC_SHA256)
    {
        finding(d, DOCTOR_FAIL, "nginx", "no pit_auth_hash_key, and the "
                "store is hmac-sha256: every token is 401");
    }
}


/* ------------------------------------------------------------------------
 * The command
 * --------------------------------------------------------------------- */

int
pitctl_cmd_doctor(pitctl_t *p)
{
    static const pitctl_command_t  me = { "doctor", NULL,
                                          "doctor [--nginx-conf FILE|-]" };
    doctor_t        d;
    unsigned char   key[PIT_HASH_KEY_MAX];
    size_t          key_len;
    const char     *conf;
    json_t         *o;
    int             i, r, code;

    conf = NULL;
    for (i = 0; i < p->argc; i++) {
        r = pitctl_opt_value(p->argc, p->argv, &i, "--nginx-conf", &conf);
        if (r <= 0) {
            return pitctl_usage_error(&me, r < 0 ? "%s needs a value"
                                      : "unexpected argument \"%s\"",
                                      p->argv[i]);
        }
    }

    memset(&d, 0, sizeof(d));
    d.p = p;
    d.findings = p->json ? json_array() : NULL;
    pit_catalog_list_init(&d.cat);

    code = pitctl_hash_key(p, key, &key_len);
    if (code != 0) {
        json_decref(d.findings);
        return code;
    }
    (void) pit_meta_init(&d.mine, key_len ? key : NULL, key_len, p->now);
    memset(key, 0, sizeof(key));

    if (pit_redis_url_parse(p->redis_url, strlen(p->redis_url), &d.url)
        != PIT_OK || pitctl_open_store(p) != 0)
    {
        finding(&d, DOCTOR_FAIL, "redis", "unreachable or refused (see "
                "above): nothing else can be checked");

    } else {
        check_redis(&d);
        check_persistence(&d);
        check_acl(&d);
        check_store(&d);

        if (pit_store_catalog_get(p->st, &d.cat, &d.cat_stored) == PIT_OK) {
            d.have_cat = 1;
            finding(&d, DOCTOR_OK, "catalogue", "%s, %zu scopes",
                    d.cat_stored ? "stored" : "built-in (HighLevel's)",
                    d.cat.n);
        } else {
            finding(&d, DOCTOR_FAIL, "catalogue", "%sscopes does not decode:"
                    " %s", p->prefix, pit_store_error(p->st));
        }

        if (conf != NULL) {
            check_nginx(&d, conf);
        }
    }

    memset(&d.url, 0, sizeof(d.url));
    pit_catalog_list_free(&d.cat);

    if (d.findings != NULL) {
        o = json_object();
        json_object_set_new(o, "status",
                            json_string(doctor_level_names[d.worst]));
        json_object_set_new(o, "findings", d.findings);
        pitctl_print_json(o);
    }

    return d.worst == DOCTOR_FAIL ? EXIT_DOCTOR_FAIL
           : d.worst == DOCTOR_WARN ? EXIT_DOCTOR_WARN : 0;
}
