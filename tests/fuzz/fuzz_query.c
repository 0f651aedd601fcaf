/*
 * Fuzz target: pit_query_param() and pit_query_count() on arbitrary
 * queries.  The input is "name\nquery" when it holds a '\n' within its
 * first 33 bytes and the name is not empty, else a query for
 * "locationId".
 *
 * Invariants checked beyond "no crash, no sanitizer report":
 *   - the rc is one of pit_query.h's list, and agrees with the count:
 *     PIT_OK and PIT_ERR_AMBIGUOUS -> 1, PIT_ERR_NOT_FOUND -> 0,
 *     PIT_ERR_DUPLICATE -> 2 or more;
 *   - nothing is written past outcap (out is malloc'ed to exactly
 *     outcap); an OK value is NUL-terminated when there is room, holds
 *     no control character, and never depends on outcap: a smaller
 *     buffer gives PIT_ERR_TOO_LARGE, a larger one the same bytes;
 *   - the value, percent-encoded back as "name=%XX..." is read back the
 *     same, and given twice is PIT_ERR_DUPLICATE.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pit_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns rc of pit_query_param() into a buffer of exactly cap bytes. */
static pit_err_t param(const char *q, size_t qlen, const char *name,
    size_t nlen, size_t cap, char *copy, size_t *len)
{
    char       *out = malloc(cap ? cap : 1);
    pit_err_t   rc;

    if (out == NULL) abort();
    rc = pit_query_param(q, qlen, name, nlen, out, cap, len);
    if (rc == PIT_OK) {
        if (*len > cap) abort();
        if (*len < cap && out[*len] != '\0') abort();
        if (copy != NULL) memcpy(copy, out, *len);
    } else if (*len != 0 || (cap > 0 && out[0] != '\0')) {
        abort();
    }
    free(out);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char  *in = (const char *) data, *name = "locationId", *q = in;
    const char  *nl = memchr(in, '\n', size < 33 ? size : 33);
    size_t       nlen = 10, qlen = size, count, len, len2, i;
    char        *val, *val2, *enc;
    pit_err_t    rc;

    if (nl != NULL && nl > in) {
        name = in;
        nlen = (size_t) (nl - in);
        q = nl + 1;
        qlen = size - nlen - 1;
    }

    if (pit_query_count(q, qlen, name, nlen, &count) != PIT_OK) abort();

    val = malloc(qlen + 1);
    val2 = malloc(qlen + 1);
    if (val == NULL || val2 == NULL) abort();

    rc = param(q, qlen, name, nlen, qlen, val, &len);
    switch (rc) {
    case PIT_OK:
    case PIT_ERR_AMBIGUOUS:     if (count != 1) abort(); break;
    case PIT_ERR_NOT_FOUND:     if (count != 0) abort(); break;
    case PIT_ERR_DUPLICATE:     if (count < 2) abort(); break;
    case PIT_ERR_ENCODING:      break;
    default:                    abort();       /* TOO_LARGE: cap >= qlen */
    }

    if (rc == PIT_OK) {
        for (i = 0; i < len; i++) {
            unsigned char c = (unsigned char) val[i];

            if (c < 0x20 || c == 0x7f) abort();
        }

        /* outcap changes nothing but the room */
        if (len > 0 && param(q, qlen, name, nlen, len - 1, NULL, &len2)
                       != PIT_ERR_TOO_LARGE)
            abort();
        if (param(q, qlen, name, nlen, len, val2, &len2) != PIT_OK
            || len2 != len || memcmp(val, val2, len) != 0)
            abort();

        /* encoded back, read back: "name=%XX...&name=%XX..." */
        enc = malloc(2 * (nlen + 1 + 3 * len) + 1);
        if (enc == NULL) abort();
        memcpy(enc, name, nlen);
        enc[nlen] = '=';
        for (i = 0; i < len; i++) {
            snprintf(enc + nlen + 1 + 3 * i, 4, "%%%02X",
                     (unsigned char) val[i]);
        }
        len2 = nlen + 1 + 3 * len;
        /* a name spelled as itself: no leading SP, nothing that splits */
        if (name[0] != ' '
            && memchr(name, '%', nlen) == NULL && memchr(name, '&', nlen) == NULL
            && memchr(name, ';', nlen) == NULL
            && memchr(name, '=', nlen) == NULL
            && memchr(name, '+', nlen) == NULL)
        {
            size_t l3;

            if (param(enc, len2, name, nlen, len, val2, &l3) != PIT_OK
                || l3 != len || memcmp(val, val2, len) != 0)
                abort();
            enc[len2] = '&';
            memcpy(enc + len2 + 1, enc, len2);
            if (param(enc, 2 * len2 + 1, name, nlen, len, NULL, &l3)
                != PIT_ERR_DUPLICATE)
                abort();
        }
        free(enc);
    }

    free(val);
    free(val2);
    return 0;
}
