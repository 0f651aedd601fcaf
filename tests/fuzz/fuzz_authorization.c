/*
 * Fuzz target: an Authorization header value -> token
 * (pit_token_from_authorization), and the hint of arbitrary bytes.
 *
 * Invariants checked beyond "no crash, no sanitizer report":
 *   - an accepted token is exactly PIT_TOKEN_LEN bytes inside the input and
 *     passes pit_token_validate();
 *   - a hint never holds input bytes of a malformed token and is always
 *     PIT_TOKEN_PREFIX + 4 + 19 + 4 characters.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char  *v = (const char *) data;
    const char  *tok = NULL;
    size_t       tok_len = 0;
    char         hint[PIT_HINT_LEN + 1];
    pit_err_t    rc;

    rc = pit_token_from_authorization(v, size, &tok, &tok_len);
    if (rc == PIT_OK) {
        if (tok_len != PIT_TOKEN_LEN || tok < v || tok + tok_len > v + size)
            abort();
        if (pit_token_validate(tok, tok_len) != PIT_OK) abort();
    } else if (rc != PIT_ERR_AUTH_EMPTY && rc != PIT_ERR_AUTH_SCHEME
               && rc != PIT_ERR_TOKEN_MALFORMED) {
        abort();
    }

    pit_token_hint(v, size, hint);
    if (strlen(hint) != 31 || memcmp(hint, "pit-", 4) != 0) abort();
    if (pit_token_validate(v, size) != PIT_OK
        && strcmp(hint, "pit-????****-****-****-****????") != 0)
        abort();
    return 0;
}
