/*
 * pit-auth core: request paths that can be read two ways (see pit_path.h
 * for the rules and the phrases).
 *
 * One pass over the raw target: each byte, raw or percent-decoded, is
 * classified; a segment is checked for "." and ".." when its '/' (or the
 * end) is reached.  The first problem found is the one reported.
 */

#include <stddef.h>

#include "pit_path.h"

/* Returns the value of a hex digit of either case, or -1. */
static int pit_path_hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Returns 1 if c is a control character (< 0x20 or 0x7f), else 0. */
static int pit_path_is_ctl(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

/*
 * Returns the phrase for a UTF-8 overlong form that decoded byte b starts
 * or continues (prev is the byte before it in the decoded path, or -1),
 * else NULL.
 */
static const char *pit_path_overlong(int prev, unsigned char b) {
    if (b == 0xc0 || b == 0xc1) return "overlong UTF-8";
    if (prev == 0xe0 && b >= 0x80 && b <= 0x9f) return "overlong UTF-8";
    if (prev == 0xf0 && b >= 0x80 && b <= 0x8f) return "overlong UTF-8";
    return NULL;
}

/* Returns 1 if seg[0..len) is "." or "..", else 0. */
static int pit_path_is_dots(const char *seg, size_t len) {
    return (len == 1 && seg[0] == '.')
           || (len == 2 && seg[0] == '.' && seg[1] == '.');
}

/*
 * Returns PIT_OK, or PIT_ERR_AMBIGUOUS with *why the first problem of the
 * raw target raw[0..len) up to its '?'.
 */
pit_err_t pit_path_check_raw(const char *raw, size_t len, const char **why) {
    const unsigned char  *s = (const unsigned char *) raw;
    size_t                i, seg = 0;
    int                   prev = -1;
    const char           *w = NULL;

    if (why != NULL) *why = NULL;
    if (why == NULL || (raw == NULL && len > 0)) return PIT_ERR_ARG;

    for (i = 0; i < len && s[i] != '?'; i++) {
        unsigned char c = s[i];
        int hi, lo;

        if (c == '/') {
            if (pit_path_is_dots(raw + seg, i - seg)) {
                w = "dot segment";
                break;
            }
            if (i + 1 < len && s[i + 1] == '/') {
                w = "empty segment (//)";
                break;
            }
            seg = i + 1;
            prev = c;
            continue;
        }
        if (pit_path_is_ctl(c)) { w = "control character"; break; }
        if (c == '\\') { w = "backslash"; break; }
        if (c == ';') { w = "path parameter (;)"; break; }

        if (c == '%') {
            if (len - i < 3
                || (hi = pit_path_hex(s[i + 1])) < 0
                || (lo = pit_path_hex(s[i + 2])) < 0)
            {
                w = "bad percent-encoding";
                break;
            }
            c = (unsigned char) (hi << 4 | lo);
            i += 2;
            if (c == '/') { w = "encoded '/'"; break; }
            if (c == '.') { w = "encoded '.'"; break; }
            if (c == '\\') { w = "encoded '\\'"; break; }
            if (c == ';') { w = "encoded ';'"; break; }
            if (c == '%') { w = "encoded '%'"; break; }
            if (pit_path_is_ctl(c)) { w = "encoded control character"; break; }
        }

        if ((w = pit_path_overlong(prev, c)) != NULL) break;
        prev = c;
    }

    /* the last segment ends at '?' or at the end */
    if (w == NULL && pit_path_is_dots(raw + seg, i - seg)) w = "dot segment";

    if (w != NULL) {
        *why = w;
        return PIT_ERR_AMBIGUOUS;
    }
    return PIT_OK;
}

/*
 * Returns PIT_OK, or PIT_ERR_AMBIGUOUS if path[0..len) holds a control
 * character.
 */
pit_err_t pit_path_check_decoded(const char *path, size_t len,
    const char **why)
{
    size_t i;

    if (why != NULL) *why = NULL;
    if (why == NULL || (path == NULL && len > 0)) return PIT_ERR_ARG;

    for (i = 0; i < len; i++) {
        if (pit_path_is_ctl((unsigned char) path[i])) {
            *why = "control character in the decoded path";
            return PIT_ERR_AMBIGUOUS;
        }
    }
    return PIT_OK;
}
