/*
 * pit-auth core: scope names, scope sets and requirement expressions.
 *
 * A set is a sorted array of NUL-terminated names inside the struct, so it
 * can be copied, kept in shared memory and searched without allocating.
 * Expressions are checked in place: a term or name is a slice of expr.
 *
 * An expression is validated as a whole before its answer is given, so a
 * malformed one is PIT_ERR_EXPR_INVALID whatever scopes a token holds: a
 * broken configuration never passes for "insufficient scope".
 */

#include <string.h>

#include "pit_scope.h"

/* -----------------------------------------------------------------------------
 * Names
 * -------------------------------------------------------------------------- */

/*
 * Character classes of scope names, one lookup per character:
 * PIT_SCOPE_FIRST may start a name, PIT_SCOPE_NEXT may follow the first.
 */
#define PIT_SCOPE_FIRST  1
#define PIT_SCOPE_NEXT   2

static const unsigned char pit_scope_class[256] = {
    ['a' ... 'z'] = PIT_SCOPE_FIRST | PIT_SCOPE_NEXT,
    ['0' ... '9'] = PIT_SCOPE_FIRST | PIT_SCOPE_NEXT,
    ['A' ... 'Z'] = PIT_SCOPE_NEXT,
    ['.'] = PIT_SCOPE_NEXT, ['_'] = PIT_SCOPE_NEXT, ['/'] = PIT_SCOPE_NEXT,
    ['-'] = PIT_SCOPE_NEXT
};

/* Returns 1 if s[0..len) is a valid scope name, else 0. */
int pit_scope_name_valid(const char *s, size_t len) {
    size_t    i;
    unsigned  ok;

    if (s == NULL || len == 0 || len > PIT_SCOPE_NAME_MAX) return 0;

    ok = pit_scope_class[(unsigned char) s[0]] & PIT_SCOPE_FIRST;
    for (i = 1; i < len; i++) {
        ok &= pit_scope_class[(unsigned char) s[i]] >> 1;
    }
    return ok != 0;
}

/* Returns 1 if c separates expression terms (SP or HTAB), else 0. */
static int pit_scope_blank(char c) {
    return c == ' ' || c == '\t';
}

/* -----------------------------------------------------------------------------
 * Sets
 * -------------------------------------------------------------------------- */

/*
 * Returns <0, 0 or >0 as the stored name compares bytewise below, equal to
 * or above s[0..len).
 */
static int pit_scope_cmp(const char *name, const char *s, size_t len) {
    size_t  nlen = strlen(name);
    int     r = memcmp(name, s, nlen < len ? nlen : len);

    if (r != 0) return r;
    return (nlen > len) - (nlen < len);
}

/*
 * Returns the index of s[0..len) in set if held (*found = 1), else the
 * index where it would be inserted (*found = 0).
 */
static size_t pit_scope_set_search(const pit_scope_set_t *set,
    const char *s, size_t len, int *found)
{
    size_t lo = 0, hi = set->n;

    while (lo < hi) {
        size_t  mid = lo + (hi - lo) / 2;
        int     r = pit_scope_cmp(set->names[mid], s, len);

        if (r == 0) {
            *found = 1;
            return mid;
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = 0;
    return lo;
}

/* Empties set. */
void pit_scope_set_init(pit_scope_set_t *set) {
    set->n = 0;
}

/*
 * Adds s[0..len) to set in order.  Returns PIT_OK (also when already
 * held), PIT_ERR_SCOPE_INVALID or PIT_ERR_SCOPE_TOO_MANY.
 */
pit_err_t pit_scope_set_add(pit_scope_set_t *set, const char *s, size_t len) {
    size_t  at;
    int     found;

    if (!pit_scope_name_valid(s, len)) return PIT_ERR_SCOPE_INVALID;

    at = pit_scope_set_search(set, s, len, &found);
    if (found) return PIT_OK;
    if (set->n >= PIT_SCOPES_MAX) return PIT_ERR_SCOPE_TOO_MANY;

    memmove(set->names[at + 1], set->names[at],
            (set->n - at) * sizeof(set->names[0]));
    memcpy(set->names[at], s, len);
    set->names[at][len] = '\0';
    set->n++;
    return PIT_OK;
}

/* Returns 1 if set holds s[0..len), else 0. */
int pit_scope_set_contains(const pit_scope_set_t *set, const char *s,
    size_t len)
{
    int found;

    if (len == 0 || len > PIT_SCOPE_NAME_MAX) return 0;
    (void) pit_scope_set_search(set, s, len, &found);
    return found;
}

/*
 * Fills set from names separated by runs of blanks and/or commas.  Returns
 * PIT_OK or the error of the first bad name.
 */
pit_err_t pit_scope_set_parse(pit_scope_set_t *set, const char *s,
    size_t len)
{
    size_t     i = 0, start;
    pit_err_t  rc;

    pit_scope_set_init(set);

    while (i < len) {
        if (pit_scope_blank(s[i]) || s[i] == ',') {
            i++;
            continue;
        }
        start = i;
        while (i < len && !pit_scope_blank(s[i]) && s[i] != ',') i++;

        rc = pit_scope_set_add(set, s + start, i - start);
        if (rc != PIT_OK) return rc;
    }
    return PIT_OK;
}

/*
 * Writes the names joined by single spaces and a NUL into buf.  Returns
 * PIT_OK or PIT_ERR_TOO_LARGE (buf then holds "" if cap > 0).
 */
pit_err_t pit_scope_set_format(const pit_scope_set_t *set, char *buf,
    size_t cap, size_t *len)
{
    size_t i, n = 0, l;

    if (cap == 0) return PIT_ERR_TOO_LARGE;

    /* n < cap holds throughout: the last byte is kept for the NUL. */
    for (i = 0; i < set->n; i++) {
        l = strlen(set->names[i]);
        if ((i > 0) + l > cap - 1 - n) {
            buf[0] = '\0';
            return PIT_ERR_TOO_LARGE;
        }
        if (i > 0) buf[n++] = ' ';
        memcpy(buf + n, set->names[i], l);
        n += l;
    }
    buf[n] = '\0';

    if (len != NULL) *len = n;
    return PIT_OK;
}


/* Returns 1 if a and b hold the same names, else 0. */
int pit_scope_set_equal(const pit_scope_set_t *a, const pit_scope_set_t *b) {
    size_t i;

    if (a->n != b->n) return 0;
    for (i = 0; i < a->n; i++) {
        if (strcmp(a->names[i], b->names[i]) != 0) return 0;
    }
    return 1;
}

/* -----------------------------------------------------------------------------
 * Requirement expressions
 * -------------------------------------------------------------------------- */

/*
 * Checks one term t[0..len) ("a|b|c").  Returns PIT_OK when well formed,
 * with *held set to 1 if set (when not NULL) holds one of its names; else
 * PIT_ERR_EXPR_INVALID.
 */
static pit_err_t pit_scope_term_check(const char *t, size_t len,
    const pit_scope_set_t *set, int *held)
{
    size_t i = 0, start;

    *held = 0;
    for (;;) {
        start = i;
        while (i < len && t[i] != '|') i++;

        if (!pit_scope_name_valid(t + start, i - start))
            return PIT_ERR_EXPR_INVALID;
        if (set != NULL && pit_scope_set_contains(set, t + start, i - start))
            *held = 1;

        if (i == len) return PIT_OK;
        i++;                                    /* past '|' */
    }
}

/*
 * Walks expr term by term.  Returns PIT_OK, PIT_ERR_EXPR_INVALID, or (only
 * when checking; a NULL held holds nothing) PIT_ERR_SCOPE_MISSING with the
 * first unsatisfied term in *missing / *missing_len.
 */
static pit_err_t pit_scope_expr_walk(const char *expr, size_t len,
    int checking, const pit_scope_set_t *held, const char **missing,
    size_t *missing_len)
{
    const char  *miss = NULL;
    size_t       i = 0, start, miss_len = 0;
    int          ok;

    if (len > 0 && expr == NULL) return PIT_ERR_EXPR_INVALID;

    while (i < len) {
        if (pit_scope_blank(expr[i])) {
            i++;
            continue;
        }
        start = i;
        while (i < len && !pit_scope_blank(expr[i])) i++;

        if (pit_scope_term_check(expr + start, i - start, held, &ok)
            != PIT_OK)
        {
            return PIT_ERR_EXPR_INVALID;
        }
        if (checking && !ok && miss == NULL) {
            miss = expr + start;
            miss_len = i - start;
        }
    }

    if (miss == NULL) return PIT_OK;
    if (missing != NULL) *missing = miss;
    if (missing_len != NULL) *missing_len = miss_len;
    return PIT_ERR_SCOPE_MISSING;
}

/*
 * Returns PIT_OK if expr[0..len) is a well-formed requirement expression,
 * else PIT_ERR_EXPR_INVALID.
 */
pit_err_t pit_scope_expr_validate(const char *expr, size_t len) {
    return pit_scope_expr_walk(expr, len, 0, NULL, NULL, NULL);
}

/*
 * Returns PIT_OK when held satisfies every term of expr,
 * PIT_ERR_SCOPE_MISSING (first unsatisfied term in *missing) or
 * PIT_ERR_EXPR_INVALID.
 */
pit_err_t pit_scope_expr_check(const char *expr, size_t len,
    const pit_scope_set_t *held, const char **missing, size_t *missing_len)
{
    return pit_scope_expr_walk(expr, len, 1, held, missing, missing_len);
}
