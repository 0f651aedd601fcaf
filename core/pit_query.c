/*
 * pit-auth core: one query parameter read the way the most lenient
 * upstream would read it (see pit_query.h for the rules).
 *
 * A query is walked once, pair by pair.  Each pair's name is walked
 * twice: once to see that it decodes and where its last ']' is (a '['
 * that no ']' follows is PHP's '_'), once to compare it, decoded and
 * folded one character at a time, with the wanted name.  Nothing is
 * copied except the one value asked for.
 */

#include <string.h>

#include "pit_query.h"

#define PIT_Q_END   (-1)            /* no more bytes */
#define PIT_Q_BAD   (-2)            /* '%' without two hex digits */

/* A cursor over a percent-encoded name or value. */
typedef struct {
    const unsigned char  *p;        /* next raw byte */
    const unsigned char  *end;
    int                   raw;      /* 1: bytes as they are, no decoding */
    size_t                n;        /* decoded bytes produced so far */
    size_t                close;    /* 1 + index of the last ']'; 0 none */
} pit_qcur_t;

/* -----------------------------------------------------------------------------
 * Decoding
 * -------------------------------------------------------------------------- */

/* Returns the value of a hex digit of either case, or -1. */
static int pit_q_hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Sets c up to walk s[0..len); raw selects undecoded bytes. */
static void pit_qcur_init(pit_qcur_t *c, const char *s, size_t len, int raw) {
    c->p = (const unsigned char *) s;
    c->end = c->p + len;
    c->raw = raw;
    c->n = 0;
    c->close = 0;
}

/* Returns the next decoded byte (0-255), PIT_Q_END or PIT_Q_BAD. */
static int pit_qcur_next(pit_qcur_t *c) {
    int hi, lo;

    if (c->p == c->end) return PIT_Q_END;
    if (c->raw) {
        c->n++;
        return *c->p++;
    }
    if (*c->p == '+') {
        c->p++;
        c->n++;
        return ' ';
    }
    if (*c->p != '%') {
        c->n++;
        return *c->p++;
    }
    if (c->end - c->p < 3) return PIT_Q_BAD;
    hi = pit_q_hex(c->p[1]);
    lo = pit_q_hex(c->p[2]);
    if (hi < 0 || lo < 0) return PIT_Q_BAD;
    c->p += 3;
    c->n++;
    return hi << 4 | lo;
}

/*
 * Returns 1 if the string c walks decodes, recording in c->close where
 * its last ']' is, else 0.  c is rewound either way.
 */
static int pit_qcur_scan(pit_qcur_t *c) {
    pit_qcur_t  w = *c;
    int         b;

    while ((b = pit_qcur_next(&w)) >= 0) {
        if (b == ']') c->close = w.n;
    }
    return b == PIT_Q_END;
}

/* -----------------------------------------------------------------------------
 * Folding
 * -------------------------------------------------------------------------- */

/*
 * Returns the next character of c folded (see pit_query.h): a lower-case
 * ASCII letter for a letter of either case or for one of the four
 * non-ASCII letters that fold onto ASCII, '_' for ' ', '.', '_' and an
 * unclosed '[', else the byte; PIT_Q_END or PIT_Q_BAD.  *byte receives
 * the first decoded byte as it is.
 */
static int pit_q_fold_next(pit_qcur_t *c, int *byte) {
    pit_qcur_t  peek;
    int         b, b2, b3;

    b = pit_qcur_next(c);
    *byte = b;
    if (b < 0) return b;

    if (b >= 'A' && b <= 'Z') return b - 'A' + 'a';
    if (b == ' ' || b == '.') return '_';
    if (b == '[' && c->close < c->n) return '_';

    /* U+0130 U+0131 -> i, U+017F -> s (2 bytes); U+212A -> k (3) */
    if (b == 0xc4 || b == 0xc5 || b == 0xe2) {
        peek = *c;
        b2 = pit_qcur_next(&peek);
        if (b == 0xc4 && (b2 == 0xb0 || b2 == 0xb1)) {
            *c = peek;
            return 'i';
        }
        if (b == 0xc5 && b2 == 0xbf) {
            *c = peek;
            return 's';
        }
        if (b == 0xe2 && b2 == 0x84) {
            b3 = pit_qcur_next(&peek);
            if (b3 == 0xaa) {
                *c = peek;
                return 'k';
            }
        }
    }
    return b;
}

/*
 * Returns 1 if the pair name pn (scanned) is named want (scanned), else
 * 0: leading spaces dropped, folded characters equal, and pn then ends,
 * or goes on with a '[' or a NUL.
 */
static int pit_q_name_matches(pit_qcur_t pn, pit_qcur_t want) {
    pit_qcur_t  peek;
    int         a, b, abyte, bbyte;

    for ( ;; ) {                               /* PHP drops leading SP */
        peek = pn;
        if (pit_qcur_next(&peek) != ' ') break;
        pn = peek;
    }

    for ( ;; ) {
        b = pit_q_fold_next(&want, &bbyte);
        a = pit_q_fold_next(&pn, &abyte);
        if (b == PIT_Q_END) return a == PIT_Q_END || abyte == '['
                                   || abyte == '\0';
        if (a != b || a < 0) return 0;
    }
}

/* -----------------------------------------------------------------------------
 * Pairs
 * -------------------------------------------------------------------------- */

/* A pair: name q[ns..ne), value q[vs..ve) (vs == ve: empty or bare). */
typedef struct {
    size_t  ns, ne, vs, ve;
} pit_qpair_t;

/*
 * Returns 1 and the pair starting at *pos of q[0..qlen), moving *pos past
 * its separator; 0 when the query is done.
 */
static int pit_q_next_pair(const char *q, size_t qlen, size_t *pos,
    pit_qpair_t *pr)
{
    size_t i = *pos;

    if (i >= qlen) return 0;
    pr->ns = i;
    while (i < qlen && q[i] != '&' && q[i] != ';' && q[i] != '=') i++;
    pr->ne = i;
    if (i < qlen && q[i] == '=') i++;
    pr->vs = i;
    while (i < qlen && q[i] != '&' && q[i] != ';') i++;
    pr->ve = i;
    *pos = i + 1;
    return 1;
}

/*
 * Returns PIT_OK with out[0..*outlen) the decoded value v[0..vlen), or
 * PIT_ERR_ENCODING (bad escape, invalid UTF-8, control character) or
 * PIT_ERR_TOO_LARGE (longer than outcap, but otherwise fine).
 */
static pit_err_t pit_q_decode_value(const char *v, size_t vlen, char *out,
    size_t outcap, size_t *outlen)
{
    pit_qcur_t  c;
    size_t      n = 0;
    int         b, need = 0, lo = 0x80, hi = 0xbf;

    pit_qcur_init(&c, v, vlen, 0);
    while ((b = pit_qcur_next(&c)) >= 0) {
        if (b < 0x20 || b == 0x7f) return PIT_ERR_ENCODING;

        /* UTF-8, the strict way: no overlongs, surrogates, > U+10FFFF */
        if (need > 0) {
            if (b < lo || b > hi) return PIT_ERR_ENCODING;
            need--;
            lo = 0x80;
            hi = 0xbf;
        } else if (b >= 0x80) {
            if (b >= 0xc2 && b <= 0xdf) need = 1;
            else if (b == 0xe0) { need = 2; lo = 0xa0; }
            else if (b == 0xed) { need = 2; hi = 0x9f; }
            else if (b >= 0xe1 && b <= 0xef) need = 2;
            else if (b == 0xf0) { need = 3; lo = 0x90; }
            else if (b >= 0xf1 && b <= 0xf3) need = 3;
            else if (b == 0xf4) { need = 3; hi = 0x8f; }
            else return PIT_ERR_ENCODING;
        }

        if (n < outcap) out[n] = (char) b;
        n++;
    }
    if (b == PIT_Q_BAD || need > 0) return PIT_ERR_ENCODING;
    if (n > outcap) return PIT_ERR_TOO_LARGE;
    *outlen = n;
    return PIT_OK;
}

/* -----------------------------------------------------------------------------
 * API
 * -------------------------------------------------------------------------- */

/*
 * Returns PIT_OK with the decoded value of the one parameter named name
 * in out[0..*outlen), or the first error of pit_query.h's list.
 */
pit_err_t pit_query_param(const char *query, size_t qlen,
    const char *name, size_t nlen, char *out, size_t outcap, size_t *outlen)
{
    pit_qcur_t   want, pn;
    pit_qpair_t  pr, hit;
    size_t       pos = 0, found = 0;
    int          bad_name = 0;
    pit_err_t    rc;

    if (outlen != NULL) *outlen = 0;
    if (out != NULL && outcap > 0) out[0] = '\0';
    if ((query == NULL && qlen > 0) || name == NULL || nlen == 0
        || out == NULL || outlen == NULL)
    {
        return PIT_ERR_ARG;
    }

    pit_qcur_init(&want, name, nlen, 1);
    (void) pit_qcur_scan(&want);
    memset(&hit, 0, sizeof(hit));

    /* every pair, even after a bad one: the answer never depends on order */
    while (pit_q_next_pair(query, qlen, &pos, &pr)) {
        if (pr.ns == pr.ve) continue;                   /* "&&" */
        pit_qcur_init(&pn, query + pr.ns, pr.ne - pr.ns, 0);
        if (!pit_qcur_scan(&pn)) {
            bad_name = 1;
            continue;
        }
        if (pit_q_name_matches(pn, want)) {
            if (found++ == 0) hit = pr;
        }
    }

    if (bad_name) return PIT_ERR_ENCODING;
    if (found == 0) return PIT_ERR_NOT_FOUND;
    if (found > 1) return PIT_ERR_DUPLICATE;

    rc = pit_q_decode_value(query + hit.vs, hit.ve - hit.vs, out, outcap,
                            outlen);
    if (rc == PIT_OK
        && ((hit.ns > 0 && query[hit.ns - 1] == ';')
            || (hit.ve < qlen && query[hit.ve] == ';')))
    {
        rc = PIT_ERR_AMBIGUOUS;                         /* '&'-only split */
    }
    if (rc != PIT_OK) {
        *outlen = 0;
        if (outcap > 0) out[0] = '\0';
        return rc;
    }
    if (*outlen < outcap) out[*outlen] = '\0';
    return PIT_OK;
}

/* Returns PIT_OK with *count the parameters named name, or PIT_ERR_ARG. */
pit_err_t pit_query_count(const char *query, size_t qlen,
    const char *name, size_t nlen, size_t *count)
{
    pit_qcur_t   want, pn;
    pit_qpair_t  pr;
    size_t       pos = 0, found = 0;

    if (count != NULL) *count = 0;
    if ((query == NULL && qlen > 0) || name == NULL || nlen == 0
        || count == NULL)
    {
        return PIT_ERR_ARG;
    }

    pit_qcur_init(&want, name, nlen, 1);
    (void) pit_qcur_scan(&want);

    while (pit_q_next_pair(query, qlen, &pos, &pr)) {
        if (pr.ns == pr.ve) continue;
        pit_qcur_init(&pn, query + pr.ns, pr.ne - pr.ns, 0);
        if (!pit_qcur_scan(&pn)) {                      /* compare as is */
            pit_qcur_init(&pn, query + pr.ns, pr.ne - pr.ns, 1);
            (void) pit_qcur_scan(&pn);
        }
        if (pit_q_name_matches(pn, want)) found++;
    }

    *count = found;
    return PIT_OK;
}
