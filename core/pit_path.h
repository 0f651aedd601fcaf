/*
 * pit-auth core: request paths that can be read two ways.
 *
 * nginx decodes and normalizes the path before it is matched; the
 * upstream may be handed the raw target and read it differently (decode
 * twice, split on ';', treat '\' as '/', resolve dot segments after
 * decoding, ...).  These checks refuse every target whose raw and decoded
 * readings could differ in anything that matters for routing.
 *
 * pit_path_check_raw(), on the target as the client sent it (nginx's
 * $request_uri, origin-form), up to the first '?'; a '#' is an ordinary
 * byte (a client never sends a fragment, and an upstream that does not
 * stop at it would read what follows), refuses:
 *
 *   "control character"            a raw byte < 0x20 or 0x7f
 *   "backslash"                    '\'
 *   "path parameter (;)"           ';'
 *   "empty segment (//)"           "//" anywhere
 *   "dot segment"                  a segment that is exactly "." or ".."
 *   "bad percent-encoding"         '%' not followed by two hex digits
 *   "encoded '/'"                  %2F   (any case)
 *   "encoded '.'"                  %2E
 *   "encoded '\\'"                 %5C
 *   "encoded ';'"                  %3B
 *   "encoded '%'"                  %25   (decoded twice: %252F -> '/')
 *   "encoded control character"    %00-%1F, %7F
 *   "overlong UTF-8"               a byte C0 or C1, E0 followed by 80-9F,
 *                                  F0 followed by 80-8F (raw or encoded):
 *                                  lenient decoders read %C0%AE as '.'
 *
 * Anything else is PIT_OK: other escapes ("%20", "%C3%A9"), raw UTF-8,
 * "..b" and "b.." segments, and a target not starting with '/' (checked
 * by the same rules).
 */

#ifndef PIT_PATH_H
#define PIT_PATH_H

#include <stddef.h>

#include "pit_error.h"

/*
 * Returns PIT_OK, or PIT_ERR_AMBIGUOUS with *why set to a static English
 * phrase (above), or PIT_ERR_ARG (raw NULL with len > 0, why NULL).  On
 * PIT_OK *why is NULL.
 */
pit_err_t pit_path_check_raw(const char *raw, size_t len, const char **why);

/*
 * Returns PIT_OK, or PIT_ERR_AMBIGUOUS if the decoded, normalized path
 * (nginx's $uri) holds a control character (CR, LF, NUL, any byte < 0x20,
 * 0x7f), with *why "control character in the decoded path";
 * PIT_ERR_ARG as above.
 */
pit_err_t pit_path_check_decoded(const char *path, size_t len,
    const char **why);

#endif /* PIT_PATH_H */
