/*
 * Fuzz target: pit_path_check_raw() and pit_path_check_decoded() on
 * arbitrary request targets.
 *
 * Invariants checked beyond "no crash, no sanitizer report":
 *   - PIT_OK with no reason, or PIT_ERR_AMBIGUOUS with one of the
 *     documented phrases;
 *   - a target accepted raw reads one way: percent-decoding its path
 *     (up to '?') changes no '/', '.', ';', '\' and no '%' (decoding
 *     twice is decoding once), brings no control character (the decoded
 *     check agrees), and leaves no "//" and no "." or ".." segment;
 *   - the decoded check refuses exactly the paths with a byte < 0x20 or
 *     0x7f.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *reasons[] = {
    "dot segment", "path parameter (;)", "backslash", "empty segment (//)",
    "encoded '/'", "encoded '.'", "encoded '\\'", "encoded ';'",
    "encoded '%'", "encoded control character", "bad percent-encoding",
    "control character", "overlong UTF-8", NULL
};

/* Returns the value of a hex digit, or -1. */
static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Returns 1 if why is a documented reason. */
static int known(const char *why) {
    size_t i;

    for (i = 0; reasons[i] != NULL; i++) {
        if (why == reasons[i] || strcmp(why, reasons[i]) == 0) return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char  *in = (const char *) data, *why;
    char        *dec;
    size_t       i, n = 0, plen, seg = 0;
    int          ctl = 0;
    pit_err_t    rc;

    for (i = 0; i < size; i++) {
        if (data[i] < 0x20 || data[i] == 0x7f) ctl = 1;
    }
    rc = pit_path_check_decoded(in, size, &why);
    if (rc != (ctl ? PIT_ERR_AMBIGUOUS : PIT_OK)) abort();
    if ((rc == PIT_OK) != (why == NULL)) abort();

    rc = pit_path_check_raw(in, size, &why);
    if (rc == PIT_ERR_AMBIGUOUS) {
        if (why == NULL || !known(why)) abort();
        return 0;
    }
    if (rc != PIT_OK || why != NULL) abort();

    /* accepted: decode the path and compare */
    plen = 0;
    while (plen < size && in[plen] != '?') plen++;
    dec = malloc(plen + 1);
    if (dec == NULL) abort();
    for (i = 0; i < plen; i++) {
        unsigned char c = data[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= plen)
                abort();                        /* a cut escape passed */
            hi = hexval(data[i + 1]);
            lo = hexval(data[i + 2]);
            if (hi < 0 || lo < 0) abort();
            c = (unsigned char) (hi << 4 | lo);
            if (strchr("/.;\\%", c) != NULL && c != '\0') abort();
            i += 2;
        }
        dec[n++] = (char) c;
    }

    if (pit_path_check_decoded(dec, n, &why) != PIT_OK) abort();
    for (i = 0; i <= n; i++) {
        if (i == n || dec[i] == '/') {
            size_t l = i - seg;

            if (l == 1 && dec[seg] == '.') abort();
            if (l == 2 && dec[seg] == '.' && dec[seg + 1] == '.') abort();
            if (i < n && i + 1 < n && dec[i + 1] == '/') abort();
            seg = i + 1;
        }
    }
    free(dec);
    return 0;
}
