/*
 * pit-auth core: scope names, scope sets and requirement expressions.
 *
 * A scope name starts with [a-z0-9], continues with [a-zA-Z0-9._/-] and is
 * at most 64 characters ("locations/customFields.readonly").
 *
 * A requirement expression is a list of terms separated by blanks (space or
 * tab); every term must hold (all of).  A term is a list of names separated
 * by '|'; one of them must be held (any of).  "contacts.readonly
 * calendars.write|calendars/events.write".  An empty or all-blank
 * expression requires nothing.
 */

#ifndef PIT_SCOPE_H
#define PIT_SCOPE_H

#include <stddef.h>

#include "pit_error.h"

#define PIT_SCOPE_NAME_MAX   64
#define PIT_SCOPES_MAX       100

/* A set of scope names, kept sorted (bytewise) and free of duplicates. */
typedef struct {
    size_t  n;
    char    names[PIT_SCOPES_MAX][PIT_SCOPE_NAME_MAX + 1];
} pit_scope_set_t;

/* Returns 1 if s[0..len) is a valid scope name, else 0. */
int pit_scope_name_valid(const char *s, size_t len);

/* Empties set. */
void pit_scope_set_init(pit_scope_set_t *set);

/*
 * Adds s[0..len) to set; adding a name already held is a no-op.  Returns
 * PIT_OK, PIT_ERR_SCOPE_INVALID or PIT_ERR_SCOPE_TOO_MANY (set unchanged).
 */
pit_err_t pit_scope_set_add(pit_scope_set_t *set, const char *s, size_t len);

/* Returns 1 if set holds s[0..len), else 0 (binary search). */
int pit_scope_set_contains(const pit_scope_set_t *set, const char *s,
    size_t len);

/*
 * Fills set (emptied first) from a list separated by blanks and/or commas,
 * as in "contacts.readonly contacts.write".  Returns PIT_OK or the error of
 * the first bad name.
 */
pit_err_t pit_scope_set_parse(pit_scope_set_t *set, const char *s,
    size_t len);

/*
 * Writes the names joined by single spaces and a NUL into buf.  Returns
 * PIT_OK, or PIT_ERR_TOO_LARGE if cap is too small.  *len (if not NULL)
 * receives the length without the NUL.
 */
pit_err_t pit_scope_set_format(const pit_scope_set_t *set, char *buf,
    size_t cap, size_t *len);

/* Returns 1 if a and b hold the same names, else 0. */
int pit_scope_set_equal(const pit_scope_set_t *a, const pit_scope_set_t *b);

/*
 * Returns PIT_OK if expr[0..len) is a well-formed requirement expression,
 * else PIT_ERR_EXPR_INVALID (an empty alternative such as "a||b" or "|a",
 * or a bad name).
 */
pit_err_t pit_scope_expr_validate(const char *expr, size_t len);

/*
 * Checks a requirement expression against the scopes held, without
 * allocating.  Returns PIT_OK when every term is satisfied;
 * PIT_ERR_SCOPE_MISSING when one is not, with *missing / *missing_len (if
 * not NULL) set to the first unsatisfied term inside expr (e.g.
 * "contacts.write" or "a|b"); PIT_ERR_EXPR_INVALID when expr is malformed.
 */
pit_err_t pit_scope_expr_check(const char *expr, size_t len,
    const pit_scope_set_t *held, const char **missing, size_t *missing_len);

#endif /* PIT_SCOPE_H */
