/*
 * pitctl: what the command files share (pitctl.c holds main, the common
 * helpers and the integration commands; pitctl_ops.c the operations on
 * integrations that the commands and the admin API share;
 * pitctl_scopes.c the catalogue, pitctl_doctor.c the checks,
 * pitctl_backup.c export and import, pitctl_admin.c the admins of the
 * admin API, pitctl_serve.c and pitctl_api_*.c the admin API itself).
 */

#ifndef PITCTL_H
#define PITCTL_H

#include <stdint.h>

#include <jansson.h>

#include "pit_catalog_file.h"
#include "pit_config.h"
#include "pit_record.h"
#include "pit_store.h"

#define EXIT_USAGE      1
#define EXIT_NOT_FOUND  2
#define EXIT_CONFLICT   3
#define EXIT_REDIS      4

/* pitctl doctor: the worst finding */
#define EXIT_DOCTOR_WARN  3
#define EXIT_DOCTOR_FAIL  4

typedef struct {
    const char     *redis_url;
    const char     *prefix;
    const char     *hash_key_file;
    int             json;
    int             wait_replicas;    /* --wait N: WAIT after changes */
    int64_t         wait_timeout_ms;
    int64_t         failover_ms;      /* sentinel URLs: --failover-timeout */
    int             force_meta;       /* --force-meta */
    char            operator[PIT_CREATED_BY_MAX_BYTES + 1];  /* audit who */
    const char     *command;          /* the command's name */
    int             change;           /* 1: the command changes Redis */
    int64_t         now;
    pit_store_t    *st;
    int             argc;             /* the command's own arguments */
    char          **argv;
} pitctl_t;

typedef struct {
    const char     *name;
    int           (*run)(pitctl_t *p);
    const char     *usage;
} pitctl_command_t;

int pitctl_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int pitctl_fail_store(pitctl_t *p, pit_err_t rc, const char *what,
    const char *id);
int pitctl_usage_error(const pitctl_command_t *cmd, const char *fmt,
    const char *arg);
int pitctl_opt_value(int argc, char **argv, int *i, const char *name,
    const char **val);
int pitctl_open_store(pitctl_t *p);

/* Milliseconds since the epoch; $PIT_NOW_MS overrides the clock. */
int64_t pitctl_now_ms(void);
int pitctl_print_json(json_t *v);
void pitctl_format_time(int64_t ms, char *buf, size_t cap);

/* Reads the hash key as --hash-key / $PIT_HASH_KEY_FILE say (key_len 0:
 * none); returns 0 or an exit code after a message. */
int pitctl_hash_key(const pitctl_t *p, unsigned char *key, size_t *key_len);

/* The active catalogue (stored, or the built-in one); exit code or 0. */
int pitctl_catalog(pitctl_t *p, pit_catalog_list_t *cl, int *stored);

/* Scope names closest to s in cl (for "did you mean"), or "". */
void pitctl_suggest(const pit_catalog_list_t *cl, const char *s, char *buf,
    size_t cap);

/*
 * The outcome of an operation (pitctl_ops.c): the core's code, pitctl's
 * exit code for it, the field at fault ("" if none) and the message
 * pitctl prints after "pitctl: " (the API sends it as is).
 */
typedef struct {
    pit_err_t   rc;
    int         exit;
    char        field[48];
    char        msg[640];
} pitctl_result_t;

int pitctl_exit_code(pit_err_t rc);

/* Fills res with what store failure rc of what (on integration id, or
 * NULL) means for the admin; returns rc. */
pit_err_t pitctl_store_result(pit_store_t *st, pit_err_t rc,
    const char *what, const char *id, pitctl_result_t *res);

/* The operations: each checks what the admin gave, calls the store, and
 * fills res; returns res->rc (PIT_OK on success). */
pit_err_t pitctl_op_create(pit_store_t *st, pit_integration_t *in,
    int allow_unknown, char *token, int64_t now, pitctl_result_t *res);
pit_err_t pitctl_op_edit(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, const char *name, const char *desc,
    const pit_scope_set_t *scopes, int allow_unknown,
    pit_integration_t *out, int64_t now, pitctl_result_t *res);
pit_err_t pitctl_op_rotate(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, pit_rotation_op_t op, int64_t overlap_ms, char *token,
    pit_integration_t *out, int64_t now, pitctl_result_t *res);
pit_err_t pitctl_op_delete(pit_store_t *st, const pit_store_expect_t *ex,
    const char *iid, int64_t now, pitctl_result_t *res);

/* An integration as pitctl --json and the API show it (used[i]: last use
 * of token i, 0 = never); NULL when out of memory. */
json_t *pitctl_json_integration(const pit_integration_t *in,
    const int64_t *used, int64_t now);
json_t *pitctl_json_scopes(const pit_scope_set_t *set);
json_t *pitctl_json_time(int64_t ms);

/* An audit entry as pitctl audit --json and GET /api/v1/audit show it. */
json_t *pitctl_json_audit(const pit_audit_entry_t *e);

/* An admin as pitctl admin --json and GET /api/v1/me show it (no
 * hashes). */
json_t *pitctl_json_admin(const pit_admin_t *a);

int pitctl_cmd_scopes(pitctl_t *p);
int pitctl_cmd_doctor(pitctl_t *p);
int pitctl_cmd_export(pitctl_t *p);
int pitctl_cmd_import(pitctl_t *p);
int pitctl_cmd_admin(pitctl_t *p);
int pitctl_cmd_serve(pitctl_t *p);

#endif /* PITCTL_H */
