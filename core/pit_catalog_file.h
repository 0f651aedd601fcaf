/*
 * pit-auth core: a scope catalogue read from a file or from Redis, for an
 * API that is not HighLevel's (pit_catalog.h holds HighLevel's, the
 * default).  The nginx module checks pit_auth_scope against one at
 * `nginx -t` (pit_auth_scope_catalog FILE); pitctl stores one in
 * <prefix>scopes and prints it in the file format.
 *
 * A catalogue file is one of:
 *
 *   JSON list     [{"name": "orders.read", "label": "View Orders"}, ...]
 *                 (an element may also be a bare "name"; "label" is
 *                 optional, other fields are ignored)
 *   JSON object   {"orders.read": "View Orders", ...}
 *   text          one scope per line: name, then a tab or spaces, then
 *                 the label (optional); blank lines and lines starting
 *                 with '#' are skipped
 *
 * Names follow the scope grammar (pit_scope.h); a name given twice is an
 * error.  Labels are text (valid UTF-8, no control or invisible
 * characters) of at most PIT_CATALOG_LABEL_MAX bytes.
 */

#ifndef PIT_CATALOG_FILE_H
#define PIT_CATALOG_FILE_H

#include <stddef.h>

#include "pit_catalog.h"
#include "pit_error.h"

#define PIT_CATALOG_FILE_MAX    (1024 * 1024)   /* bytes of a file */
#define PIT_CATALOG_SCOPES_MAX  1024            /* scopes of a catalogue */
#define PIT_CATALOG_LABEL_MAX   200             /* bytes of a label */
#define PIT_CATALOG_ERR_MAX     512             /* a useful error message */

/*
 * A catalogue owned by its caller: entries sorted bytewise by name, each
 * string malloc'ed ("" access for a loaded entry).  Zeroed (or
 * pit_catalog_list_init()) is empty; pit_catalog_list_free() releases it.
 */
typedef struct {
    size_t                n;
    size_t                cap;
    pit_catalog_entry_t  *entries;
} pit_catalog_list_t;

/* Empties cl without freeing (for a zeroed or fresh list). */
void pit_catalog_list_init(pit_catalog_list_t *cl);

/* Frees what cl holds and empties it. */
void pit_catalog_list_free(pit_catalog_list_t *cl);

/*
 * Adds a scope (label may be NULL: ""; access may be NULL: "").  Returns
 * PIT_OK, PIT_ERR_SCOPE_INVALID (name), PIT_ERR_TEXT (label: not text or
 * too long), PIT_ERR_DUPLICATE (name held), PIT_ERR_TOO_LARGE (over
 * PIT_CATALOG_SCOPES_MAX) or PIT_ERR_NOMEM; cl is unchanged on error.
 */
pit_err_t pit_catalog_list_add(pit_catalog_list_t *cl, const char *name,
    size_t nlen, const char *label, size_t llen, const char *access);

/* Removes a scope; PIT_OK or PIT_ERR_NOT_FOUND. */
pit_err_t pit_catalog_list_remove(pit_catalog_list_t *cl, const char *name,
    size_t nlen);

/* Returns the entry for s[0..len), or NULL (binary search). */
const pit_catalog_entry_t *pit_catalog_list_find(const pit_catalog_list_t *cl,
    const char *s, size_t len);

/* Fills cl (emptied first) with the built-in catalogue (pit_catalog()). */
pit_err_t pit_catalog_list_builtin(pit_catalog_list_t *cl);

/*
 * Fills cl (emptied first) from a catalogue file's contents buf[0..len),
 * in any of the three formats; name (a file name) starts the message
 * written into err on failure, which says where ("cat.json: entry 3:
 * invalid scope name \"Orders\"", "cat.txt:12: ...").  Returns PIT_OK,
 * PIT_ERR_JSON, PIT_ERR_FIELD, PIT_ERR_SCOPE_INVALID, PIT_ERR_TEXT,
 * PIT_ERR_DUPLICATE, PIT_ERR_TOO_LARGE or PIT_ERR_NOMEM; on error cl is
 * empty.
 */
pit_err_t pit_catalog_list_parse(pit_catalog_list_t *cl, const char *name,
    const char *buf, size_t len, char *err, size_t errcap);

/*
 * As pit_catalog_list_parse(), reading file (at most
 * PIT_CATALOG_FILE_MAX bytes, else PIT_ERR_TOO_LARGE; unreadable:
 * PIT_ERR_IO).
 */
pit_err_t pit_catalog_load_file(pit_catalog_list_t *cl, const char *file,
    char *err, size_t errcap);

#endif /* PIT_CATALOG_FILE_H */
