/*
 * pitctl: what the command files share (pitctl.c holds main, the common
 * helpers and the integration commands; pitctl_scopes.c the catalogue,
 * pitctl_doctor.c the checks, pitctl_backup.c export and import).
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

int pitctl_cmd_scopes(pitctl_t *p);
int pitctl_cmd_doctor(pitctl_t *p);
int pitctl_cmd_export(pitctl_t *p);
int pitctl_cmd_import(pitctl_t *p);

#endif /* PITCTL_H */
