/*
 * Fuzz target: scope requirement expressions and scope lists.
 *
 * The input is split at its first NUL: before it, a scope list for
 * pit_scope_set_parse (the held scopes); after it, a requirement
 * expression.  Checked:
 *   - pit_scope_expr_validate and pit_scope_expr_check agree on what is
 *     malformed;
 *   - a reported missing term lies inside the expression;
 *   - every held scope is a valid name, the set is sorted and unique, and
 *     formatting then parsing it gives the same set.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static pit_scope_set_t  held, again;
    static char             buf[PIT_SCOPES_MAX * (PIT_SCOPE_NAME_MAX + 1)];
    const char             *s = (const char *) data, *expr, *missing = NULL;
    const uint8_t          *nul;
    size_t                  list_len, expr_len, missing_len = 0, i, len;
    pit_err_t               v, c;

    nul = memchr(data, 0, size);
    list_len = nul ? (size_t) (nul - data) : 0;
    expr = nul ? s + list_len + 1 : s;
    expr_len = nul ? size - list_len - 1 : size;

    if (pit_scope_set_parse(&held, s, list_len) != PIT_OK)
        pit_scope_set_init(&held);

    for (i = 0; i < held.n; i++) {
        len = strlen(held.names[i]);
        if (!pit_scope_name_valid(held.names[i], len)) abort();
        if (i > 0 && strcmp(held.names[i - 1], held.names[i]) >= 0) abort();
        if (!pit_scope_set_contains(&held, held.names[i], len)) abort();
    }
    if (pit_scope_set_format(&held, buf, sizeof(buf), &len) != PIT_OK)
        abort();
    if (pit_scope_set_parse(&again, buf, len) != PIT_OK) abort();
    if (!pit_scope_set_equal(&held, &again)) abort();

    v = pit_scope_expr_validate(expr, expr_len);
    c = pit_scope_expr_check(expr, expr_len, &held, &missing, &missing_len);
    if (v != PIT_OK && v != PIT_ERR_EXPR_INVALID) abort();
    if ((v == PIT_ERR_EXPR_INVALID) != (c == PIT_ERR_EXPR_INVALID)) abort();
    if (c == PIT_ERR_SCOPE_MISSING) {
        if (missing == NULL || missing < expr
            || missing + missing_len > expr + expr_len || missing_len == 0)
            abort();
    } else if (c != PIT_OK && c != PIT_ERR_EXPR_INVALID) {
        abort();
    }
    return 0;
}
