/*
 * Fuzz target: the admin API's request bodies (pit_body.c), as pitctl
 * serve hands them over from the network.
 *
 * Each decoder runs on the input.  What it accepts is bounded (names,
 * descriptions and scopes fit and are NUL-terminated; scopes pass the
 * grammar); what it refuses is named by a field of [A-Za-z0-9_[\]] only
 * and a message, never a byte of the input outside a field name.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const pit_body_error_t *err) {
    size_t  i, n;

    n = strnlen(err->field, sizeof(err->field));
    if (n == sizeof(err->field)) abort();
    for (i = 0; i < n; i++) {
        char c = err->field[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '[' || c == ']'))
            abort();
    }
    if (strnlen(err->msg, sizeof(err->msg)) == sizeof(err->msg)) abort();
    if (err->msg[0] == '\0') abort();
}

static void check_integration(const pit_body_integration_t *b) {
    size_t  i;

    if (strnlen(b->name, sizeof(b->name)) == sizeof(b->name)) abort();
    if (strnlen(b->description, sizeof(b->description))
        == sizeof(b->description))
        abort();
    if (b->scopes.n > PIT_SCOPES_MAX) abort();
    for (i = 0; i < b->scopes.n; i++) {
        if (!pit_scope_name_valid(b->scopes.names[i],
                                  strlen(b->scopes.names[i])))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static pit_body_integration_t  b;
    pit_body_rotate_t              r;
    pit_body_error_t               err;
    const char                    *s = (const char *) data;
    pit_err_t                      rc;

    rc = pit_body_integration(PIT_BODY_CREATE, s, size, &b, &err);
    if (rc == PIT_OK) {
        check_integration(&b);
        if (!b.has_name || !b.has_scopes || b.scopes.n == 0) abort();
    } else {
        check_err(&err);
    }

    rc = pit_body_integration(PIT_BODY_EDIT, s, size, &b, &err);
    if (rc == PIT_OK) check_integration(&b); else check_err(&err);

    rc = pit_body_rotate(s, size, &r, &err);
    if (rc == PIT_OK) {
        if (r.has_overlap && (r.now || r.overlap_ms <= 0)) abort();
    } else {
        check_err(&err);
    }

    rc = pit_body_empty(s, size, &err);
    if (rc != PIT_OK) check_err(&err);
    return 0;
}
