/*
 * pitctl: the admin's tool for pit-auth integrations, built on libpit.
 *
 *   pitctl [--redis URL] [--prefix P] [--hash-key FILE] [--json] COMMAND ...
 *
 * With a redis-sentinel:// URL the primary is found through the sentinels
 * and a change interrupted by a failover is run again on the new primary,
 * never twice (pit_store.c, "Failover"), for at most --failover-timeout.
 *
 * Exit codes: 0 ok, 1 usage or invalid input, 2 not found, 3 conflict
 * (also a store marked for another hash key), 4 Redis unreachable or
 * failed; doctor: 0 all OK, 3 warnings only, 4 a failure.  Errors go to stderr as "pitctl: ...".
 * Tokens are printed once, by create and rotate, and never logged.
 */

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "pit_catalog.h"
#include "pit_config.h"
#include "pit_openapi.h"
#include "pit_record.h"
#include "pit_rotation.h"
#include "pit_schema.h"
#include "pit_scope.h"
#include "pit_store.h"
#include "pit_token.h"
#include "pitctl.h"

#define PITCTL_TIMEOUT_MS  5000
#define PITCTL_FAILOVER_MAX_MS  (600 * 1000)

static const char  *usage_text =
"usage: pitctl [--redis URL] [--prefix P] [--hash-key FILE] [--json]\n"
"              [--wait N [--wait-timeout DURATION]] [--as WHO]\n"
"              [--failover-timeout DURATION] [--force-meta] COMMAND ...\n"
"  create --name N [--description D] --scope S [--scope S]... --account ID\n"
"         [--account-type location|company] [--created-by WHO]\n"
"         [--allow-unknown-scope]\n"
"  list [--account ID]\n"
"  show ID\n"
"  edit ID [--name N] [--description D] [--scope S]... "
"[--allow-unknown-scope]\n"
"  rotate ID --later [--overlap DURATION]\n"
"  rotate ID --now\n"
"  cancel-rotation ID\n"
"  expire-now ID\n"
"  delete ID\n"
"  audit [ID] [--account ID] [--since DURATION] [--limit N]\n"
"  scopes [--builtin]\n"
"  scopes import FILE | scopes import --openapi FILE... [--merge] [--force]\n"
"  scopes add NAME [--label L]\n"
"  scopes remove NAME [--force]\n"
"  scopes export | scopes reset [--force]\n"
"  check TOKEN|-\n"
"  routes --openapi FILE... [--match METHOD PATH]\n"
"  doctor [--nginx-conf FILE|-]\n"
"  export [--account ID]\n"
"  import FILE|- [--dry-run] [--replace]\n"
"  admin add USER (--account ID... | --all-accounts) [--deny]\n"
"  admin list | admin show USER | admin remove USER\n"
"  admin allow USER | admin deny USER\n"
"  admin token USER | admin token-revoke USER [HINT]\n"
"  serve [--listen 127.0.0.1:8089 | unix:PATH] [--redis URL] [--prefix P]\n"
"        [--hash-key FILE] [--trusted-proxy ADDR[/BITS]]...\n"
"        [--user-header NAME] [--origin URL] [--issue-rate N]\n"
"        [--threads N] [--access-log FILE|-] [--socket-mode MODE]\n"
"        [--console DIR|none]\n"
"URL: redis://[user:password@]host:port[/db] or unix:///path[?db=N] or\n"
"     redis-sentinel://[user:password@]host:port[,host:port...]/master[/db]\n"
"       [?sentinel_user=U&sentinel_password=P]\n"
"     (default $PIT_REDIS_URL, else redis://127.0.0.1:6379)\n"
"DURATION: 7d, 36h, 90m, 45s.  Hash key: --hash-key or "
"$PIT_HASH_KEY_FILE.\n"
"--wait N: after a change, require N replicas to acknowledge it (Redis "
"WAIT,\n          --wait-timeout, default 5s); fewer: exit 4, change "
"kept.\n"
"--failover-timeout: sentinel URLs, how long to look for a primary and\n"
"          run a change again after a failover (default 10s).\n"
"--as WHO: the operator in audit entries (default $PIT_ADMIN, $SUDO_USER,\n"
"          else the login name).\n"
"--force-meta: write into a store marked for another hash key (re-marks it).\n"
"Exit: 0 ok, 1 usage/invalid, 2 not found, 3 conflict (also: the store is\n"
"      marked for another hash key), 4 Redis failed.\n"
"      doctor: 0 all OK, 3 warnings, 4 a failure.\n";


/* ------------------------------------------------------------------------
 * Errors and exit codes
 * --------------------------------------------------------------------- */

int
pitctl_fail(int code, const char *fmt, ...)
{
    va_list  ap;

    fputs("pitctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);

    return code;
}


/* Reports a store failure with what it means for the admin. */
int
pitctl_fail_store(pitctl_t *p, pit_err_t rc, const char *what, const char *id)
{
    pitctl_result_t  res;

    pitctl_store_result(p->st, rc, what, id, &res);
    return pitctl_fail(res.exit, "%s", res.msg);
}


/* ------------------------------------------------------------------------
 * Argument parsing
 * --------------------------------------------------------------------- */

/*
 * If argv[*i] is option name (as "--name V" or "--name=V"), stores its
 * value in *val, advances *i and returns 1; returns 0 if it is another
 * argument, -1 if the value is missing.
 */
int
pitctl_opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t  n;

    n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0) {
        return 0;
    }

    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }

    if (argv[*i][n] != '\0') {
        return 0;
    }

    if (*i + 1 >= argc) {
        return -1;
    }

    *i += 1;
    *val = argv[*i];
    return 1;
}


/* Adds the scopes of one --scope value (a name, or a list); checks them
 * against the catalogue unless unknown scopes are allowed. */
static int
add_scopes(pit_scope_set_t *set, const char *val)
{
    pit_scope_set_t  more;
    pit_err_t        rc;
    size_t           i;

    rc = pit_scope_set_parse(&more, val, strlen(val));
    if (rc != PIT_OK) {
        return pitctl_fail(EXIT_USAGE, "invalid scope \"%s\": %s", val,
                    pit_strerror(rc));
    }

    for (i = 0; i < more.n; i++) {
        rc = pit_scope_set_add(set, more.names[i], strlen(more.names[i]));
        if (rc != PIT_OK) {
            return pitctl_fail(EXIT_USAGE, "scope %s: %s (at most %d scopes)",
                        more.names[i], pit_strerror(rc), PIT_SCOPES_MAX);
        }
    }

    return 0;
}


int
pitctl_usage_error(const pitctl_command_t *cmd, const char *fmt, const char *arg)
{
    fputs("pitctl: ", stderr);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: pitctl %s\n", cmd->usage);

    return EXIT_USAGE;
}


/* ------------------------------------------------------------------------
 * Output helpers
 * --------------------------------------------------------------------- */

/* Writes "Jul 10 2024, 04:59 PM" (UTC) or "-" for 0. */
void
pitctl_format_time(int64_t ms, char *buf, size_t cap)
{
    time_t     t;
    struct tm  tm;

    if (ms <= 0) {
        snprintf(buf, cap, "-");
        return;
    }

    t = (time_t) (ms / 1000);
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%b %d %Y, %I:%M %p", &tm);
}


/* Prints a JSON value on stdout and frees it. */
int
pitctl_print_json(json_t *v)
{
    char  *s;

    if (v == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    s = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(v);

    if (s == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    puts(s);
    free(s);
    return 0;
}


/* Writes the rotation column: "rotating: old token expires in ...",
 * "rotation due" or "-". */
static void
format_rotation(const pitctl_t *p, const pit_integration_t *in, char *buf,
    size_t cap)
{
    char  left[64];

    if (in->rotating) {
        pit_duration_format(in->rotation_deadline_ms - p->now, left,
                            sizeof(left));
        snprintf(buf, cap, "rotating: old token expires in %s", left);

    } else if (pit_rotation_due(in, p->now)) {
        snprintf(buf, cap, "rotation due");

    } else {
        snprintf(buf, cap, "-");
    }
}


/* Copies at most max characters of UTF-8 s into buf, marking a cut. */
static void
clip(const char *s, size_t max, char *buf, size_t cap)
{
    size_t  chars, i;

    chars = 0;
    for (i = 0; s[i] != '\0' && i + 4 < cap; i++) {
        if (((unsigned char) s[i] & 0xc0) != 0x80) {
            if (chars == max) {
                break;
            }
            chars++;
        }
        buf[i] = s[i];
    }

    buf[i] = '\0';

    if (s[i] != '\0' && i >= 3) {
        /* replace the tail with "..." on a character boundary */
        i -= 3;
        while (i > 0 && ((unsigned char) buf[i] & 0xc0) == 0x80) {
            i--;
        }
        strcpy(buf + i, "...");
    }
}


/* ------------------------------------------------------------------------
 * Commands
 * --------------------------------------------------------------------- */

int
pitctl_hash_key(const pitctl_t *p, unsigned char *key, size_t *key_len)
{
    pit_err_t  rc;

    *key_len = 0;
    if (p->hash_key_file == NULL || p->hash_key_file[0] == '\0') {
        return 0;
    }

    rc = pit_hash_key_load(p->hash_key_file, key, key_len);
    if (rc != PIT_OK) {
        return pitctl_fail(EXIT_USAGE, "hash key %s: %s", p->hash_key_file,
                           pit_strerror(rc));
    }

    return 0;
}


int
pitctl_catalog(pitctl_t *p, pit_catalog_list_t *cl, int *stored)
{
    pit_err_t  rc;

    rc = pit_store_catalog_get(p->st, cl, stored);
    return rc == PIT_OK ? 0 : pitctl_fail_store(p, rc, "scopes", NULL);
}


/* Returns the edit distance of a and b (bounded lengths, small). */
static size_t
edit_distance(const char *a, const char *b)
{
    size_t  la, lb, i, j, d[PIT_SCOPE_NAME_MAX + 2], prev, cur;

    la = strlen(a);
    lb = strlen(b);
    if (la > PIT_SCOPE_NAME_MAX || lb > PIT_SCOPE_NAME_MAX) {
        return (size_t) -1;
    }

    for (j = 0; j <= lb; j++) {
        d[j] = j;
    }

    for (i = 1; i <= la; i++) {
        prev = d[0];
        d[0] = i;
        for (j = 1; j <= lb; j++) {
            cur = d[j];
            d[j] = prev + (a[i - 1] != b[j - 1]);
            if (d[j - 1] + 1 < d[j]) {
                d[j] = d[j - 1] + 1;
            }
            if (cur + 1 < d[j]) {
                d[j] = cur + 1;
            }
            prev = cur;
        }
    }

    return d[lb];
}


void
pitctl_suggest(const pit_catalog_list_t *cl, const char *s, char *buf,
    size_t cap)
{
    size_t  i, best, d;

    buf[0] = '\0';
    best = 3;                       /* at most two edits away */

    for (i = 0; i < cl->n; i++) {
        d = edit_distance(s, cl->entries[i].name);
        if (d < best) {
            best = d;
            snprintf(buf, cap, "%s", cl->entries[i].name);
        }
    }
}


/* The pause between rounds of looking for a primary during a failover. */

static void
pitctl_wait(int ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long) (ms % 1000) * 1000000;

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
        /* the rest of the pause */
    }
}


int
pitctl_open_store(pitctl_t *p)
{
    pit_redis_url_t  url;
    unsigned char    key[PIT_HASH_KEY_MAX];
    size_t           key_len;
    pit_err_t        rc;

    rc = pit_redis_url_parse(p->redis_url, strlen(p->redis_url), &url);
    if (rc != PIT_OK) {
        return pitctl_fail(EXIT_USAGE, "invalid Redis URL (expected "
                    "redis://[user:password@]host:port[/db], "
                    "unix:///path[?db=N] or redis-sentinel://[user:password@]"
                    "host:port[,host:port...]/master[/db]"
                    "[?sentinel_user=U&sentinel_password=P])");
    }

    if (pit_prefix_validate(p->prefix, strlen(p->prefix)) != PIT_OK) {
        return pitctl_fail(EXIT_USAGE, "invalid key prefix \"%s\"", p->prefix);
    }

    if (pitctl_hash_key(p, key, &key_len) != 0) {
        return EXIT_USAGE;
    }

    rc = pit_store_open_failover(&p->st, &url, p->prefix, PITCTL_TIMEOUT_MS,
                                 (int) p->failover_ms, pitctl_wait);
    memset(&url, 0, sizeof(url));
    if (rc != PIT_OK) {
        if (rc == PIT_ERR_NO_PRIMARY && p->change) {
            pitctl_fail_store(p, rc, p->command, NULL);
        } else {
            pitctl_fail(EXIT_REDIS, "Redis unreachable: %s",
                 pit_store_error(p->st));
        }
        pit_store_close(p->st);
        p->st = NULL;
        memset(key, 0, sizeof(key));
        return EXIT_REDIS;
    }

    pit_store_set_hash_key(p->st, key_len ? key : NULL, key_len);
    pit_store_set_actor(p->st, p->operator);
    pit_store_set_force_meta(p->st, p->force_meta);
    pit_store_set_wait(p->st, p->wait_replicas, (int) p->wait_timeout_ms);
    memset(key, 0, sizeof(key));

    return 0;
}


/* Prints an integration after a change, with the new token if any. */
static int
print_integration(pitctl_t *p, const pit_integration_t *in, const char *token,
    const char *headline)
{
    int64_t   used[PIT_TOKENS_MAX] = { 0 };
    json_t   *o;
    char      scopes[PIT_SCOPES_MAX * (PIT_SCOPE_NAME_MAX + 1) + 1];

    if (p->json) {
        o = pitctl_json_integration(in, used, p->now);
        if (o != NULL && token != NULL) {
            json_object_set_new(o, "token", json_string(token));
        }
        return pitctl_print_json(o);
    }

    pit_scope_set_format(&in->scopes, scopes, sizeof(scopes), NULL);

    printf("%s \"%s\" (id %s, account %s)\n", headline, in->name, in->id,
           in->account);
    printf("Scopes: %s\n", scopes[0] ? scopes : "-");

    if (token != NULL) {
        printf("Copy this token now: it will not be shown again.\n%s\n",
               token);
    }

    return 0;
}


static int
cmd_create(pitctl_t *p)
{
    static const pitctl_command_t  me = { "create", NULL,
        "create --name N [--description D] --scope S [--scope S]... "
        "--account ID [--account-type location|company] [--created-by WHO] "
        "[--allow-unknown-scope]" };
    pit_integration_t  *in;
    pitctl_result_t     res;
    const char         *val, *name, *desc, *acct, *type, *who;
    char                token[PIT_TOKEN_LEN + 1];
    int                 i, r, allow_unknown, code;
    pit_err_t           rc;

    in = calloc(1, sizeof(pit_integration_t));
    if (in == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    name = desc = acct = type = who = NULL;
    allow_unknown = 0;
    pit_scope_set_init(&in->scopes);
    code = 0;

    for (i = 0; i < p->argc && code == 0; i++) {
        if ((r = pitctl_opt_value(p->argc, p->argv, &i, "--name", &name))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--description", &desc))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--account", &acct))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--account-type", &type))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--created-by", &who)))
        {
            if (r < 0) {
                code = pitctl_usage_error(&me, "%s needs a value", p->argv[i]);
            }
            continue;
        }

        r = pitctl_opt_value(p->argc, p->argv, &i, "--scope", &val);
        if (r > 0) {
            code = add_scopes(&in->scopes, val);
            continue;
        }

        if (strcmp(p->argv[i], "--allow-unknown-scope") == 0) {
            allow_unknown = 1;
            continue;
        }

        code = pitctl_usage_error(&me, "unexpected argument \"%s\"", p->argv[i]);
    }

    if (code == 0 && (name == NULL || acct == NULL || in->scopes.n == 0)) {
        code = pitctl_usage_error(&me, "%s", "--name, --account and at least one "
                           "--scope are required");
    }

    if (code == 0 && type != NULL
        && pit_acct_type_parse(type, strlen(type), &in->acct_type) != PIT_OK)
    {
        code = pitctl_fail(EXIT_USAGE, "--account-type must be location or company");
    }

    if (code == 0) {
        if (strlen(name) > PIT_NAME_MAX_BYTES
            || strlen(desc ? desc : "") > PIT_DESC_MAX_BYTES
            || strlen(acct) > PIT_ACCOUNT_MAX
            || strlen(who ? who : "") > PIT_CREATED_BY_MAX_BYTES)
        {
            code = pitctl_fail(EXIT_USAGE, "a value is too long (name 200, "
                        "description 500, account 64, created-by 128 "
                        "characters)");
        }
    }

    if (code == 0) {
        strcpy(in->name, name);
        strcpy(in->description, desc ? desc : "");
        strcpy(in->account, acct);
        strcpy(in->created_by, who ? who : p->operator);

        code = pitctl_open_store(p);
    }

    if (code == 0) {
        rc = pitctl_op_create(p->st, in, allow_unknown, token, p->now, &res);
        if (rc == PIT_OK || rc == PIT_ERR_REPLICATION) {
            code = print_integration(p, in, token, "Created integration");
        }

        if (rc != PIT_OK) {
            code = pitctl_fail(res.exit, "%s", res.msg);
        }
    }

    memset(token, 0, sizeof(token));
    free(in);
    return code;
}


typedef struct {
    pitctl_t  *p;
    json_t    *array;
    size_t     rows;
} list_state_t;


static int
list_row(const pit_integration_t *in, void *arg)
{
    list_state_t  *ls = arg;
    int64_t        used[PIT_TOKENS_MAX], last;
    char           name[128], desc[128], created[32], updated[32];
    char           lastbuf[32], rot[96];
    size_t         i;

    if (pit_store_last_used(ls->p->st, in, used) != PIT_OK) {
        memset(used, 0, sizeof(used));
    }

    ls->rows++;

    if (ls->array != NULL) {
        json_array_append_new(ls->array, pitctl_json_integration(in, used, ls->p->now));
        return 0;
    }

    last = 0;
    for (i = 0; i < in->ntokens; i++) {
        last = used[i] > last ? used[i] : last;
    }

    clip(in->name, 24, name, sizeof(name));
    clip(in->description[0] ? in->description : "-", 24, desc, sizeof(desc));
    pitctl_format_time(in->created_at_ms, created, sizeof(created));
    pitctl_format_time(in->updated_at_ms, updated, sizeof(updated));
    pitctl_format_time(last, lastbuf, sizeof(lastbuf));
    format_rotation(ls->p, in, rot, sizeof(rot));

    printf("%-20s  %-24s  %-24s  %-21s  %-21s  %-21s  %-16s  %s\n", in->id,
           name, desc, created, updated, lastbuf,
           in->created_by[0] ? in->created_by : "-", rot);

    return 0;
}


static int
cmd_list(pitctl_t *p)
{
    static const pitctl_command_t  me = { "list", NULL,
                                          "list [--account ID]" };
    list_state_t  ls;
    const char   *acct;
    pit_err_t     rc;
    int           i, r, code;

    acct = NULL;

    for (i = 0; i < p->argc; i++) {
        r = pitctl_opt_value(p->argc, p->argv, &i, "--account", &acct);
        if (r <= 0) {
            return pitctl_usage_error(&me, "unexpected argument \"%s\"", p->argv[i]);
        }
    }

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    ls.p = p;
    ls.rows = 0;
    ls.array = p->json ? json_array() : NULL;

    if (!p->json) {
        printf("%-20s  %-24s  %-24s  %-21s  %-21s  %-21s  %-16s  %s\n",
               "ID", "Name", "Description", "Created On", "Updated At",
               "Last Used", "Created By", "Rotation");
    }

    rc = pit_store_list(p->st, acct, p->now, list_row, &ls);
    if (rc != PIT_OK) {
        json_decref(ls.array);
        return pitctl_fail_store(p, rc, "list", NULL);
    }

    if (p->json) {
        return pitctl_print_json(ls.array);
    }

    return 0;
}


/* Writes the countdown of token i: "expires in ...", "becomes primary in
 * ..." or "never expires". */
static void
format_token_deadline(const pitctl_t *p, const pit_token_info_t *t,
    char *buf, size_t cap)
{
    char  left[64];

    if (t->until_ms == 0) {
        snprintf(buf, cap, "never expires");
        return;
    }

    pit_duration_format(t->until_ms - p->now, left, sizeof(left));

    if (t->role == PIT_ROLE_PREVIOUS) {
        snprintf(buf, cap, "expires in %s", left);

    } else {
        snprintf(buf, cap, "becomes primary in %s", left);
    }
}


static int
show_human(pitctl_t *p, const pit_integration_t *in, const int64_t *used,
    const pit_catalog_list_t *cl)
{
    const pit_catalog_entry_t  *ce;
    char                        t1[32], t2[32], when[96], rot[96];
    size_t                      i;

    pitctl_format_time(in->created_at_ms, t1, sizeof(t1));
    pitctl_format_time(in->updated_at_ms, t2, sizeof(t2));

    /* "rotating: old token expires in ..." names the state itself */
    format_rotation(p, in, rot, sizeof(rot));
    if (strcmp(rot, "-") == 0) {
        snprintf(rot, sizeof(rot), "%s",
                 pit_state_name(pit_rotation_state(in, p->now)));

    } else if (!in->rotating) {
        snprintf(rot, sizeof(rot), "%s, rotation due",
                 pit_state_name(pit_rotation_state(in, p->now)));
    }

    printf("ID           %s\n", in->id);
    printf("Name         %s\n", in->name);
    printf("Description  %s\n", in->description[0] ? in->description : "-");
    printf("Account      %s (%s)\n", in->account,
           pit_acct_type_name(in->acct_type));
    printf("Created On   %s by %s\n", t1,
           in->created_by[0] ? in->created_by : "-");
    printf("Updated At   %s\n", t2);
    printf("State        %s\n", rot);
    printf("Scopes\n");

    for (i = 0; i < in->scopes.n; i++) {
        ce = pit_catalog_list_find(cl, in->scopes.names[i],
                                   strlen(in->scopes.names[i]));
        printf("  %-40s %s\n", in->scopes.names[i],
               ce != NULL ? ce->label : "(not in the catalogue)");
    }

    printf("Tokens\n");

    for (i = 0; i < in->ntokens; i++) {
        pitctl_format_time(in->tokens[i].created_at_ms, t1, sizeof(t1));
        pitctl_format_time(used[i], t2, sizeof(t2));
        format_token_deadline(p, &in->tokens[i], when, sizeof(when));
        printf("  %s  %-8s  created %s  %s  last used %s\n",
               in->tokens[i].hint, pit_role_name(in->tokens[i].role), t1,
               when, t2);
    }

    return 0;
}


/* Returns the single ID argument of a command, or NULL after a usage
 * error. */
static const char *
one_id(pitctl_t *p, const pitctl_command_t *me, int *code)
{
    if (p->argc != 1 || p->argv[0][0] == '-') {
        *code = pitctl_usage_error(me, "%s", "expected exactly one integration ID");
        return NULL;
    }

    *code = 0;
    return p->argv[0];
}


static int
cmd_show(pitctl_t *p)
{
    static const pitctl_command_t  me = { "show", NULL, "show ID" };
    pit_integration_t  *in;
    pit_catalog_list_t  cl;
    int64_t             used[PIT_TOKENS_MAX];
    const char         *id;
    pit_err_t           rc;
    int                 code, stored;

    id = one_id(p, &me, &code);
    if (id == NULL || (code = pitctl_open_store(p)) != 0) {
        return code;
    }

    in = malloc(sizeof(pit_integration_t));
    if (in == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    rc = pit_store_get(p->st, id, in, p->now);
    if (rc == PIT_OK) {
        rc = pit_store_last_used(p->st, in, used);
    }

    if (rc != PIT_OK) {
        code = pitctl_fail_store(p, rc, "show", id);

    } else if (p->json) {
        code = pitctl_print_json(pitctl_json_integration(in, used, p->now));

    } else {
        pit_catalog_list_init(&cl);
        code = pitctl_catalog(p, &cl, &stored);
        if (code == 0) {
            code = show_human(p, in, used, &cl);
        }
        pit_catalog_list_free(&cl);
    }

    free(in);
    return code;
}


static int
cmd_edit(pitctl_t *p)
{
    static const pitctl_command_t  me = { "edit", NULL,
        "edit ID [--name N] [--description D] [--scope S]... "
        "[--allow-unknown-scope]" };
    pit_integration_t  *out;
    pit_scope_set_t    *scopes;
    pitctl_result_t     res;
    const char         *id, *name, *desc, *val;
    int                 i, r, code, have_scopes, allow_unknown;
    pit_err_t           rc;

    if (p->argc < 1 || p->argv[0][0] == '-') {
        return pitctl_usage_error(&me, "%s", "expected an integration ID");
    }

    id = p->argv[0];
    name = desc = NULL;
    have_scopes = allow_unknown = 0;
    code = 0;

    scopes = malloc(sizeof(pit_scope_set_t));
    out = malloc(sizeof(pit_integration_t));
    if (scopes == NULL || out == NULL) {
        free(scopes);
        free(out);
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    pit_scope_set_init(scopes);

    for (i = 1; i < p->argc && code == 0; i++) {
        if ((r = pitctl_opt_value(p->argc, p->argv, &i, "--name", &name))
            || (r = pitctl_opt_value(p->argc, p->argv, &i, "--description", &desc)))
        {
            if (r < 0) {
                code = pitctl_usage_error(&me, "%s needs a value", p->argv[i]);
            }
            continue;
        }

        r = pitctl_opt_value(p->argc, p->argv, &i, "--scope", &val);
        if (r > 0) {
            have_scopes = 1;
            code = add_scopes(scopes, val);
            continue;
        }

        if (strcmp(p->argv[i], "--allow-unknown-scope") == 0) {
            allow_unknown = 1;
            continue;
        }

        code = pitctl_usage_error(&me, "unexpected argument \"%s\"", p->argv[i]);
    }

    if (code == 0 && name == NULL && desc == NULL && !have_scopes) {
        code = pitctl_usage_error(&me, "%s", "nothing to change");
    }

    if (code == 0 && have_scopes && scopes->n == 0) {
        code = pitctl_usage_error(&me, "%s", "at least one scope is required");
    }

    if (code == 0) {
        code = pitctl_open_store(p);
    }

    if (code == 0) {
        rc = pitctl_op_edit(p->st, NULL, id, name, desc,
                            have_scopes ? scopes : NULL, allow_unknown, out,
                            p->now, &res);
        if (rc == PIT_OK || rc == PIT_ERR_REPLICATION) {
            code = print_integration(p, out, NULL, "Updated integration");
        }

        if (rc != PIT_OK) {
            code = pitctl_fail(res.exit, "%s", res.msg);
        }
    }

    free(scopes);
    free(out);
    return code;
}


/* Runs a rotation operation on the integration named by argv[0]. */
static int
run_rotation(pitctl_t *p, const char *id, pit_rotation_op_t op,
    int64_t overlap_ms, const char *headline)
{
    pit_integration_t  *out;
    pitctl_result_t     res;
    char                token[PIT_TOKEN_LEN + 1];
    int                 code, issues;
    pit_err_t           rc;

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    out = malloc(sizeof(pit_integration_t));
    if (out == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    issues = (op == PIT_OP_ROTATE_LATER || op == PIT_OP_ROTATE_NOW);

    rc = pitctl_op_rotate(p->st, NULL, id, op, overlap_ms,
                          issues ? token : NULL, out, p->now, &res);
    if (rc == PIT_OK || rc == PIT_ERR_REPLICATION) {
        code = print_integration(p, out, issues ? token : NULL, headline);
    }

    if (rc != PIT_OK) {
        code = pitctl_fail(res.exit, "%s", res.msg);
    }

    memset(token, 0, sizeof(token));
    free(out);
    return code;
}


static int
cmd_rotate(pitctl_t *p)
{
    static const pitctl_command_t  me = { "rotate", NULL,
        "rotate ID --later [--overlap DURATION] | rotate ID --now" };
    const char  *overlap;
    int64_t      overlap_ms;
    int          i, r, later, now;

    if (p->argc < 1 || p->argv[0][0] == '-') {
        return pitctl_usage_error(&me, "%s", "expected an integration ID");
    }

    later = now = 0;
    overlap = NULL;

    for (i = 1; i < p->argc; i++) {
        if (strcmp(p->argv[i], "--later") == 0) {
            later = 1;

        } else if (strcmp(p->argv[i], "--now") == 0) {
            now = 1;

        } else if ((r = pitctl_opt_value(p->argc, p->argv, &i, "--overlap",
                                  &overlap)) != 0)
        {
            if (r < 0) {
                return pitctl_usage_error(&me, "%s", "--overlap needs a value");
            }

        } else {
            return pitctl_usage_error(&me, "unexpected argument \"%s\"",
                               p->argv[i]);
        }
    }

    if (later == now) {
        return pitctl_usage_error(&me, "%s", "give exactly one of --later, --now");
    }

    if (overlap != NULL && !later) {
        return pitctl_usage_error(&me, "%s", "--overlap goes with --later");
    }

    overlap_ms = PIT_OVERLAP_DEFAULT_MS;
    if (overlap != NULL
        && pit_duration_parse(overlap, strlen(overlap), &overlap_ms) != PIT_OK)
    {
        return pitctl_fail(EXIT_USAGE, "invalid duration \"%s\" (e.g. 7d, 36h, "
                    "90m, 45s)", overlap);
    }

    if (later) {
        return run_rotation(p, p->argv[0], PIT_OP_ROTATE_LATER, overlap_ms,
                            "Rotation started for");
    }

    return run_rotation(p, p->argv[0], PIT_OP_ROTATE_NOW, 0,
                        "Rotated (old tokens revoked)");
}


static int
cmd_cancel_rotation(pitctl_t *p)
{
    static const pitctl_command_t  me = { "cancel-rotation", NULL,
                                          "cancel-rotation ID" };
    const char  *id;
    int          code;

    id = one_id(p, &me, &code);
    if (id == NULL) {
        return code;
    }

    return run_rotation(p, id, PIT_OP_CANCEL_ROTATION, 0,
                        "Rotation cancelled for");
}


static int
cmd_expire_now(pitctl_t *p)
{
    static const pitctl_command_t  me = { "expire-now", NULL,
                                          "expire-now ID" };
    const char  *id;
    int          code;

    id = one_id(p, &me, &code);
    if (id == NULL) {
        return code;
    }

    return run_rotation(p, id, PIT_OP_EXPIRE_NOW, 0,
                        "Old token expired for");
}


static int
cmd_delete(pitctl_t *p)
{
    static const pitctl_command_t  me = { "delete", NULL, "delete ID" };
    pitctl_result_t  res;
    const char  *id;
    json_t      *o;
    pit_err_t    rc;
    int          code;

    id = one_id(p, &me, &code);
    if (id == NULL || (code = pitctl_open_store(p)) != 0) {
        return code;
    }

    rc = pitctl_op_delete(p->st, NULL, id, p->now, &res);
    if (rc != PIT_OK && rc != PIT_ERR_REPLICATION) {
        return pitctl_fail(res.exit, "%s", res.msg);
    }

    if (p->json) {
        o = json_object();
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "deleted", json_true());
        code = pitctl_print_json(o);

    } else {
        printf("Deleted integration %s (its tokens no longer work)\n", id);
    }

    return rc == PIT_OK ? code : pitctl_fail(res.exit, "%s", res.msg);
}


typedef struct {
    json_t  *array;
} audit_state_t;


static int
audit_row(const pit_audit_entry_t *e, void *arg)
{
    audit_state_t  *as = arg;
    char            at[32], name[128];

    if (as->array != NULL) {
        json_array_append_new(as->array, pitctl_json_audit(e));
        return 0;
    }

    pitctl_format_time(e->at_ms, at, sizeof(at));
    clip(e->name[0] ? e->name : "-", 24, name, sizeof(name));
    printf("%-21s  %-16s  %-15s  %-20s  %-24s  %-16s  %s\n", at, e->who,
           e->action, e->iid[0] ? e->iid : "-", name,
           e->account[0] ? e->account : "-", e->detail);
    return 0;
}


static int
cmd_audit(pitctl_t *p)
{
    static const pitctl_command_t  me = { "audit", NULL,
        "audit [ID] [--account ID] [--since DURATION] [--limit N]" };
    pit_audit_filter_t  f;
    audit_state_t       as;
    const char         *limit_s, *since_s, *acct;
    char               *end;
    long                limit;
    int64_t             since;
    pit_err_t           rc;
    int                 i, r, code;

    memset(&f, 0, sizeof(f));
    limit = 50;
    since_s = acct = NULL;

    for (i = 0; i < p->argc; i++) {
        if ((r = pitctl_opt_value(p->argc, p->argv, &i, "--limit", &limit_s))
            > 0)
        {
            errno = 0;
            limit = strtol(limit_s, &end, 10);
            if (errno || *end != '\0' || limit < 1 || limit > 100000) {
                return pitctl_fail(EXIT_USAGE, "--limit must be 1-100000");
            }
            continue;
        }

        if (r == 0 && (r = pitctl_opt_value(p->argc, p->argv, &i, "--since",
                                            &since_s)) > 0)
        {
            continue;
        }

        if (r == 0 && (r = pitctl_opt_value(p->argc, p->argv, &i,
                                            "--account", &acct)) > 0)
        {
            continue;
        }

        if (r < 0) {
            return pitctl_usage_error(&me, "%s needs a value", p->argv[i]);
        }

        if (f.iid != NULL || p->argv[i][0] == '-') {
            return pitctl_usage_error(&me, "unexpected argument \"%s\"",
                                      p->argv[i]);
        }

        f.iid = p->argv[i];
    }

    if (since_s != NULL) {
        if (pit_duration_parse(since_s, strlen(since_s), &since) != PIT_OK) {
            return pitctl_fail(EXIT_USAGE, "invalid --since \"%s\" (e.g. 7d, "
                               "36h, 90m)", since_s);
        }
        f.since_ms = p->now - since > 0 ? p->now - since : 1;
    }

    f.account = acct;
    f.limit = (size_t) limit;

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    as.array = p->json ? json_array() : NULL;

    if (!p->json) {
        printf("%-21s  %-16s  %-15s  %-20s  %-24s  %-16s  %s\n", "When", "Who",
               "Action", "Integration", "Name", "Account", "Detail");
    }

    rc = pit_store_audit_query(p->st, &f, audit_row, &as);
    if (rc != PIT_OK) {
        json_decref(as.array);
        return pitctl_fail_store(p, rc, "audit", f.iid);
    }

    return p->json ? pitctl_print_json(as.array) : 0;
}


/* Reads one line from stdin into buf, without its line end. */
static int
read_token_line(char *buf, size_t cap)
{
    size_t  len;

    if (fgets(buf, (int) cap, stdin) == NULL) {
        buf[0] = '\0';
        return -1;
    }

    len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        buf[--len] = '\0';
    }

    return 0;
}


static int
check_print(pitctl_t *p, const pit_token_record_t *rec, pit_role_t role,
    const char *hint)
{
    json_t  *o;
    char     scopes[PIT_SCOPES_MAX * (PIT_SCOPE_NAME_MAX + 1) + 1];
    char     when[96], left[64];
    int      valid;

    valid = role != PIT_ROLE_INVALID;

    if (p->json) {
        o = json_object();
        json_object_set_new(o, "id", json_string(rec->iid));
        json_object_set_new(o, "hint", json_string(hint));
        json_object_set_new(o, "account", json_string(rec->acct));
        json_object_set_new(o, "account_type",
                            json_string(pit_acct_type_name(rec->acct_type)));
        json_object_set_new(o, "scopes", pitctl_json_scopes(&rec->scopes));
        json_object_set_new(o, "role", json_string(pit_role_name(role)));
        json_object_set_new(o, "stored_role",
                            json_string(pit_role_name(rec->role)));
        json_object_set_new(o, "until", pitctl_json_time(rec->until_ms));
        json_object_set_new(o, "valid", json_boolean(valid));
        return pitctl_print_json(o);
    }

    pit_scope_set_format(&rec->scopes, scopes, sizeof(scopes), NULL);

    if (rec->until_ms == 0) {
        snprintf(when, sizeof(when), "never expires");

    } else {
        pit_duration_format(rec->until_ms - p->now, left, sizeof(left));
        snprintf(when, sizeof(when), "%s in %s",
                 rec->role == PIT_ROLE_PREVIOUS ? "expires"
                                                : "becomes primary", left);
    }

    printf("Token        %s\n", hint);
    printf("Integration  %s\n", rec->iid);
    printf("Account      %s (%s)\n", rec->acct,
           pit_acct_type_name(rec->acct_type));
    printf("Role         %s\n", pit_role_name(role));
    printf("Scopes       %s\n", scopes[0] ? scopes : "-");
    printf("Expiry       %s\n", valid ? when : "expired");
    printf("Valid        %s\n", valid ? "yes" : "no");
    return 0;
}


static int
cmd_check(pitctl_t *p)
{
    static const pitctl_command_t  me = { "check", NULL, "check TOKEN|-" };
    pit_token_record_t  *rec;
    char                 line[512], hint[PIT_HINT_LEN + 1];
    const char          *tok;
    pit_role_t           role;
    pit_err_t            rc;
    int                  code;

    if (p->argc != 1) {
        return pitctl_usage_error(&me, "%s", "expected a token, or - for stdin");
    }

    tok = p->argv[0];
    if (strcmp(tok, "-") == 0) {
        read_token_line(line, sizeof(line));
        tok = line;
    }

    pit_token_hint(tok, strlen(tok), hint);

    if (pit_token_validate(tok, strlen(tok)) != PIT_OK) {
        memset(line, 0, sizeof(line));
        return pitctl_fail(EXIT_USAGE, "not a token (expected pit- and 32 hex "
                    "digits in UUID shape)");
    }

    code = pitctl_open_store(p);
    if (code != 0) {
        return code;
    }

    rec = malloc(sizeof(pit_token_record_t));
    if (rec == NULL) {
        return pitctl_fail(EXIT_REDIS, "out of memory");
    }

    rc = pit_store_check(p->st, tok, strlen(tok), rec, NULL);
    memset(line, 0, sizeof(line));

    if (rc == PIT_ERR_NOT_FOUND) {
        code = pitctl_fail(EXIT_NOT_FOUND, "token %s is unknown (never issued, "
                    "revoked or expired)", hint);

    } else if (rc != PIT_OK) {
        code = pitctl_fail_store(p, rc, "check", NULL);

    } else {
        role = pit_role_effective(rec->role, rec->until_ms, p->now);
        code = check_print(p, rec, role, hint);
        if (code == 0 && role == PIT_ROLE_INVALID) {
            code = EXIT_NOT_FOUND;
        }
    }

    free(rec);
    return code;
}


/* ------------------------------------------------------------------------
 * routes: the table pit_auth_openapi enforces
 * --------------------------------------------------------------------- */

static void *
routes_alloc(void *ctx, size_t size)
{
    (void) ctx;
    return malloc(size);
}


/* Prints routes as a table or a JSON array. */
static int
routes_print(pitctl_t *p, const pit_route_t *r, size_t n)
{
    json_t  *a, *o;
    size_t   i, wt = 8, we = 5;

    if (p->json) {
        a = json_array();
        for (i = 0; a != NULL && i < n; i++) {
            o = json_object();
            json_object_set_new(o, "method",
                                json_string(pit_method_name(r[i].method)));
            json_object_set_new(o, "template", json_string(r[i].tmpl));
            json_object_set_new(o, "scope", json_string(r[i].expr));
            json_object_set_new(o, "source", json_string(r[i].source));
            json_array_append_new(a, o);
        }
        return pitctl_print_json(a);
    }

    for (i = 0; i < n; i++) {
        if (strlen(r[i].tmpl) > wt) wt = strlen(r[i].tmpl);
        if (strlen(r[i].expr) > we) we = strlen(r[i].expr);
    }

    printf("%-7s  %-*s  %-*s  %s\n", "Method", (int) wt, "Template",
           (int) we, "Scope", "Source");
    for (i = 0; i < n; i++) {
        printf("%-7s  %-*s  %-*s  %s\n", pit_method_name(r[i].method),
               (int) wt, r[i].tmpl, (int) we, r[i].expr[0] ? r[i].expr : "-",
               r[i].source);
    }
    return 0;
}


/*
 * routes --openapi FILE... [--match METHOD PATH]: loads the files as
 * pit_auth_openapi does, refuses what nginx -t would refuse, and prints
 * the table, or the one route a request would get.
 */
static int
cmd_routes(pitctl_t *p)
{
    static const pitctl_command_t  me = { "routes", NULL,
        "routes --openapi FILE... [--match METHOD PATH]" };
    pit_routes_t        rt;
    pit_trie_t         *trie = NULL;
    const pit_route_t  *r;
    const char         *method = NULL, *path = NULL;
    char                err[PIT_OPENAPI_ERR_MAX];
    size_t              n;
    int                 i, files = 0, in_files = 0, code;
    pit_err_t           rc;

    pit_routes_init(&rt);

    for (i = 0; i < p->argc; i++) {
        const char *a = p->argv[i];

        if (strcmp(a, "--openapi") == 0) {
            in_files = 1;
            continue;
        }
        if (strncmp(a, "--openapi=", 10) == 0) {
            a += 10;
            in_files = 1;

        } else if (strcmp(a, "--match") == 0) {
            if (i + 2 >= p->argc) {
                pit_routes_free(&rt);
                return pitctl_usage_error(&me, "%s", "--match needs METHOD PATH");
            }
            method = p->argv[++i];
            path = p->argv[++i];
            in_files = 0;
            continue;

        } else if (a[0] == '-' || !in_files) {
            pit_routes_free(&rt);
            return pitctl_usage_error(&me, "unexpected argument \"%s\"", a);
        }

        rc = pit_openapi_load_file(&rt, a, err, sizeof(err));
        if (rc != PIT_OK) {
            pit_routes_free(&rt);
            return pitctl_fail(rc == PIT_ERR_NOMEM ? EXIT_REDIS : EXIT_USAGE, "%s",
                        err);
        }
        files++;
    }

    if (files == 0) {
        pit_routes_free(&rt);
        return pitctl_usage_error(&me, "%s", "no --openapi FILE given");
    }

    pit_routes_sort(&rt);
    rc = pit_trie_build(&rt, routes_alloc, NULL, &trie, err, sizeof(err));
    pit_routes_free(&rt);

    if (rc != PIT_OK) {
        return pitctl_fail(rc == PIT_ERR_CONFLICT ? EXIT_USAGE : EXIT_REDIS, "%s",
                    rc == PIT_ERR_CONFLICT ? err : pit_strerror(rc));
    }

    if (method == NULL) {
        r = pit_trie_routes(trie, &n);
        code = routes_print(p, r, n);

    } else {
        r = pit_trie_match(trie, method, strlen(method), path, strlen(path));
        code = r ? routes_print(p, r, 1)
                 : pitctl_fail(EXIT_NOT_FOUND, "no route for %s %s", method, path);
    }

    free(trie);
    return code;
}


/* ------------------------------------------------------------------------
 * main
 * --------------------------------------------------------------------- */

static const pitctl_command_t  commands[] = {
    { "create", cmd_create, NULL },
    { "list", cmd_list, NULL },
    { "show", cmd_show, NULL },
    { "edit", cmd_edit, NULL },
    { "rotate", cmd_rotate, NULL },
    { "cancel-rotation", cmd_cancel_rotation, NULL },
    { "expire-now", cmd_expire_now, NULL },
    { "delete", cmd_delete, NULL },
    { "audit", cmd_audit, NULL },
    { "scopes", pitctl_cmd_scopes, NULL },
    { "check", cmd_check, NULL },
    { "routes", cmd_routes, NULL },
    { "doctor", pitctl_cmd_doctor, NULL },
    { "export", pitctl_cmd_export, NULL },
    { "import", pitctl_cmd_import, NULL },
    { "admin", pitctl_cmd_admin, NULL },
    { "serve", pitctl_cmd_serve, NULL },
};


/* Returns 1 if the command changes Redis (its failures say whether the
 * change was applied). */
static int
is_change(const char *name)
{
    static const char  *changes[] = {
        "create", "edit", "rotate", "cancel-rotation", "expire-now", "delete",
        "import"
    };
    size_t              i;

    for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        if (strcmp(name, changes[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


/* Returns the current time in ms; PIT_NOW_MS overrides it (for tests of
 * time-dependent output such as "rotation due"). */
int64_t
pitctl_now_ms(void)
{
    struct timespec  ts;
    const char      *env;
    char            *end;
    long long        v;

    env = getenv("PIT_NOW_MS");
    if (env != NULL && env[0] != '\0') {
        v = strtoll(env, &end, 10);
        if (*end == '\0' && v > 0) {
            return v;
        }
    }

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * Sets p->operator, the "who" of audit entries: --as, else $PIT_ADMIN,
 * else $SUDO_USER (run through sudo), else the login name of the
 * effective user.
 */
static int
resolve_operator(pitctl_t *p, const char *as)
{
    struct passwd  *pw;
    const char     *who, *env;

    who = as;

    if (who == NULL) {
        env = getenv("PIT_ADMIN");
        who = (env != NULL && env[0] != '\0') ? env : NULL;
    }

    if (who == NULL) {
        env = getenv("SUDO_USER");
        who = (env != NULL && env[0] != '\0') ? env : NULL;
    }

    if (who == NULL) {
        pw = getpwuid(geteuid());
        if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0') {
            who = pw->pw_name;
        }
    }

    if (who == NULL) {
        snprintf(p->operator, sizeof(p->operator), "uid %ld",
                 (long) geteuid());
        return 0;
    }

    if (strlen(who) > PIT_CREATED_BY_MAX_BYTES
        || pit_created_by_validate(who, strlen(who)) != PIT_OK)
    {
        return pitctl_fail(EXIT_USAGE, "invalid operator name (--as, "
                           "$PIT_ADMIN or $SUDO_USER): at most 128 "
                           "characters of text");
    }

    snprintf(p->operator, sizeof(p->operator), "%s", who);
    return 0;
}


/* Reads --wait N and --wait-timeout DURATION into p. */
static int
parse_wait(pitctl_t *p, const char *wait, const char *timeout)
{
    char  *end;
    long   n;

    p->wait_timeout_ms = 5000;

    if (wait != NULL) {
        errno = 0;
        n = strtol(wait, &end, 10);
        if (errno || *end != '\0' || end == wait || n < 0 || n > 100) {
            return pitctl_fail(EXIT_USAGE, "--wait takes a number of replicas, "
                        "0-100");
        }
        p->wait_replicas = (int) n;
    }

    if (timeout != NULL
        && (pit_duration_parse(timeout, strlen(timeout), &p->wait_timeout_ms)
            != PIT_OK || p->wait_timeout_ms > 3600 * 1000))
    {
        return pitctl_fail(EXIT_USAGE, "invalid --wait-timeout \"%s\" (e.g. 500ms, "
                    "5s; at most 1h)", timeout);
    }

    return 0;
}


int
main(int argc, char **argv)
{
    pitctl_t     p;
    const char  *env, *wait, *wait_timeout, *failover, *as;
    size_t       c;
    int          i, r, code;

    memset(&p, 0, sizeof(p));
    env = getenv("PIT_REDIS_URL");
    p.redis_url = (env != NULL && env[0] != '\0') ? env
                                                  : "redis://127.0.0.1:6379";
    p.prefix = PIT_PREFIX_DEFAULT;
    p.hash_key_file = getenv("PIT_HASH_KEY_FILE");
    p.now = pitctl_now_ms();
    wait = wait_timeout = failover = as = NULL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            p.json = 1;
            continue;
        }

        if (strcmp(argv[i], "--force-meta") == 0) {
            p.force_meta = 1;
            continue;
        }

        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }

        if ((r = pitctl_opt_value(argc, argv, &i, "--wait", &wait)) != 0
            || (r = pitctl_opt_value(argc, argv, &i, "--wait-timeout",
                              &wait_timeout)) != 0
            || (r = pitctl_opt_value(argc, argv, &i, "--failover-timeout",
                              &failover)) != 0
            || (r = pitctl_opt_value(argc, argv, &i, "--as", &as)) != 0)
        {
            if (r < 0) {
                fprintf(stderr, "pitctl: %s needs a value\n%s", argv[i],
                        usage_text);
                return EXIT_USAGE;
            }
            continue;
        }

        if ((r = pitctl_opt_value(argc, argv, &i, "--redis", &p.redis_url))
            || (r = pitctl_opt_value(argc, argv, &i, "--prefix", &p.prefix))
            || (r = pitctl_opt_value(argc, argv, &i, "--hash-key",
                              &p.hash_key_file)))
        {
            if (r < 0) {
                fprintf(stderr, "pitctl: %s needs a value\n%s", argv[i],
                        usage_text);
                return EXIT_USAGE;
            }
            continue;
        }

        break;
    }

    if (parse_wait(&p, wait, wait_timeout) != 0
        || resolve_operator(&p, as) != 0)
    {
        return EXIT_USAGE;
    }

    p.failover_ms = PIT_STORE_FAILOVER_MS;
    if (failover != NULL
        && (pit_duration_parse(failover, strlen(failover), &p.failover_ms)
            != PIT_OK || p.failover_ms > PITCTL_FAILOVER_MAX_MS))
    {
        return pitctl_fail(EXIT_USAGE, "invalid --failover-timeout \"%s\" (e.g. "
                    "500ms, 10s; at most 10m)", failover);
    }

    if (i >= argc) {
        fprintf(stderr, "pitctl: no command given\n%s", usage_text);
        return EXIT_USAGE;
    }

    for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            break;
        }
    }

    if (c == sizeof(commands) / sizeof(commands[0])) {
        fprintf(stderr, "pitctl: unknown command \"%s\"\n%s", argv[i],
                usage_text);
        return EXIT_USAGE;
    }

    p.argc = argc - i - 1;
    p.argv = argv + i + 1;
    p.command = commands[c].name;
    p.change = is_change(p.command);

    /* --json and --force-meta may also follow the command */
    for (r = 0; r < p.argc; r++) {
        if (strcmp(p.argv[r], "--json") == 0
            || strcmp(p.argv[r], "--force-meta") == 0)
        {
            if (p.argv[r][2] == 'j') {
                p.json = 1;
            } else {
                p.force_meta = 1;
            }
            memmove(&p.argv[r], &p.argv[r + 1],
                    (size_t) (p.argc - r - 1) * sizeof(char *));
            p.argc--;
            r--;
        }
    }

    code = commands[c].run(&p);

    pit_store_close(p.st);
    return code;
}
