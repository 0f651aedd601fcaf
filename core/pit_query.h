/*
 * pit-auth core: one query parameter read the way the most lenient
 * upstream would read it, for security decisions.
 *
 * The query is the raw string after '?' (no '?', no '#').  Pairs are
 * separated by '&' and by ';' (some frameworks split on ';'); a pair is
 * name[=value] and the value runs to the next separator ('=' inside it
 * is part of it).  Names and values are decoded: %XX (hex digits of
 * either case) is the byte XX, '+' is a space; a '%' not followed by two
 * hex digits is an encoding error.
 *
 * A pair "is named" name when its decoded name, with leading spaces
 * dropped (PHP), equals name under this folding, applied to both sides:
 *
 *   - ASCII letters compare without case (ASP.NET, Rails' indifferent
 *     access, case-insensitive proxies);
 *   - ' ', '.', '_' are one character (PHP turns ' ' and '.' into '_'),
 *     and so is a '[' that no ']' follows (PHP turns it into '_');
 *   - U+0130 and U+0131 (dotted and dotless I) are 'i', U+017F (long s)
 *     is 's', U+212A (Kelvin sign) is 'k': the non-ASCII letters that
 *     Unicode case folding (Java's equalsIgnoreCase, .NET's
 *     OrdinalIgnoreCase) maps onto ASCII letters.
 *
 * A decoded name that is name followed by '[' (PHP and Rails arrays:
 * "name[]", "name[0]") or by a NUL (C code that stops at it) is named
 * name as well.
 *
 * Both functions are linear in qlen + nlen, allocate nothing and keep no
 * state.
 */

#ifndef PIT_QUERY_H
#define PIT_QUERY_H

#include <stddef.h>

#include "pit_error.h"

/*
 * Exactly one parameter named name: its decoded value in out.
 *
 * Returns, in this order of precedence:
 *   PIT_ERR_ARG        query, name, out or outlen NULL (query may be NULL
 *                      when qlen is 0), or nlen 0;
 *   PIT_ERR_ENCODING   some pair's name does not decode (we cannot tell
 *                      whether it is the parameter);
 *   PIT_ERR_NOT_FOUND  no parameter is named name (pit_strerror() says
 *                      "no such integration": log your own phrase);
 *   PIT_ERR_DUPLICATE  two or more are, even with equal values;
 *   PIT_ERR_ENCODING   the value does not decode, is not valid UTF-8, or
 *                      holds a control character (a byte < 0x20, NUL
 *                      included, or 0x7f);
 *   PIT_ERR_AMBIGUOUS  the pair touches a ';' (";name=v" or "name=v;..."):
 *                      an upstream splitting on '&' alone reads another
 *                      value, or no such parameter at all;
 *   PIT_ERR_TOO_LARGE  the decoded value is longer than outcap;
 *   PIT_OK             out[0..*outlen) holds the decoded value, not
 *                      NUL-terminated; when *outlen < outcap, out[*outlen]
 *                      is also set to NUL.  "name=" and a bare "name" give
 *                      *outlen 0.
 * On any error *outlen is 0 and out[0] is NUL if outcap > 0.
 */
pit_err_t pit_query_param(const char *query, size_t qlen,
    const char *name, size_t nlen, char *out, size_t outcap, size_t *outlen);

/*
 * How many parameters are named name (any spelling, as above).  A name
 * with a bad escape is compared undecoded; never an encoding error.
 * Returns PIT_OK with *count set, or PIT_ERR_ARG (NULL query with qlen
 * > 0, NULL name or count, nlen 0).
 */
pit_err_t pit_query_count(const char *query, size_t qlen,
    const char *name, size_t nlen, size_t *count);

#endif /* PIT_QUERY_H */
