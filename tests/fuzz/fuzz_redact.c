/*
 * Fuzz target: pit_token_redact() on arbitrary text, as the module runs it
 * on every error log line and on request lines carrying access_token.
 *
 * Invariants checked beyond "no crash, no sanitizer report":
 *   - nothing is written past len (a canary byte follows the text);
 *   - only hex digits change, and only into '*': the length and every
 *     other byte are kept;
 *   - no window of the result is a token, whatever the case of its
 *     letters;
 *   - a second pass masks nothing.
 */

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns 1 if s[0..PIT_TOKEN_LEN) is a token once lowercased. */
static int looks_like_token(const char *s) {
    char    low[PIT_TOKEN_LEN];
    size_t  i;

    if (s[3] != '-' || tolower((unsigned char) s[0]) != 'p') return 0;
    for (i = 0; i < PIT_TOKEN_LEN; i++)
        low[i] = (char) tolower((unsigned char) s[i]);
    return pit_token_validate(low, PIT_TOKEN_LEN) == PIT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char    *text;
    size_t   i;

    text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = 'Z';                       /* a canary past the end */

    (void) pit_token_redact(text, size);

    if (text[size] != 'Z') abort();
    for (i = 0; i < size; i++) {
        if (text[i] != (char) data[i]
            && (text[i] != '*' || !isxdigit(data[i])))
        {
            abort();
        }
    }
    for (i = 0; i + PIT_TOKEN_LEN <= size; i++) {
        if (looks_like_token(text + i)) abort();
    }
    if (pit_token_redact(text, size) != 0) abort();

    free(text);
    return 0;
}
