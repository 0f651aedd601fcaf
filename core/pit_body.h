/*
 * pit-auth core: the request bodies of the admin API (pitctl serve),
 * decoded strictly, without any HTTP: the server hands over the bytes.
 *
 * A body is one JSON object of at most PIT_BODY_MAX bytes, valid UTF-8,
 * no key twice, no key the operation does not know, every value of its
 * type.  Whatever is refused is named: err->field holds the field at
 * fault ("" for the body as a whole, "scopes[2]" for an element) and
 * err->msg a short English reason that quotes no input.  The text rules
 * of names and descriptions (pit_name_check()) and the scope catalogue
 * are not applied here but where every tool applies them.
 *
 *   create:  {"name": S, "description": S?, "scopes": [S, ...],
 *             "account_type": "location"|"company"?}
 *   edit:    {"name": S?, "description": S?, "scopes": [S, ...]?}
 *            (at least one)
 *   rotate:  {"mode": "later"|"now", "overlap": DURATION?}
 *            (overlap with "later" only)
 *   empty:   {} or no body at all (cancel-rotation, expire-now)
 */

#ifndef PIT_BODY_H
#define PIT_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "pit_error.h"
#include "pit_record.h"
#include "pit_scope.h"

#define PIT_BODY_MAX        65536
#define PIT_BODY_FIELD_MAX  48

typedef struct {
    char  field[PIT_BODY_FIELD_MAX];      /* "" for the whole body */
    char  msg[160];
} pit_body_error_t;

typedef struct {
    int              has_name;
    int              has_description;
    int              has_scopes;
    int              has_account_type;
    char             name[PIT_NAME_MAX_BYTES + 1];
    char             description[PIT_DESC_MAX_BYTES + 1];
    pit_scope_set_t  scopes;
    pit_acct_type_t  account_type;
} pit_body_integration_t;

typedef struct {
    int              now;                 /* 1: "now", 0: "later" */
    int              has_overlap;
    int64_t          overlap_ms;
} pit_body_rotate_t;

typedef enum {
    PIT_BODY_CREATE = 0,
    PIT_BODY_EDIT
} pit_body_kind_t;

/*
 * Decodes a create or edit body into out.  Returns PIT_OK, PIT_ERR_JSON
 * (not a JSON object: syntax, invalid UTF-8, a key twice) or
 * PIT_ERR_FIELD (unknown, missing, of the wrong type, too long, an
 * invalid scope), PIT_ERR_TOO_LARGE (over PIT_BODY_MAX), with err filled.
 */
pit_err_t pit_body_integration(pit_body_kind_t kind, const char *body,
    size_t len, pit_body_integration_t *out, pit_body_error_t *err);

/* Decodes a rotate body; as pit_body_integration(). */
pit_err_t pit_body_rotate(const char *body, size_t len,
    pit_body_rotate_t *out, pit_body_error_t *err);

/* Accepts an empty body or {}; as pit_body_integration(). */
pit_err_t pit_body_empty(const char *body, size_t len,
    pit_body_error_t *err);

#endif /* PIT_BODY_H */
