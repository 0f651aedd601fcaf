/*
 * pit-auth core: token format, Authorization parsing, hashing, hints,
 * integration ids and the hash key file.
 *
 * Authorization header decisions (the header value as nginx hands it over,
 * leading and trailing whitespace normally stripped already):
 *
 *   ""  "   "  "\t"              PIT_ERR_AUTH_EMPTY   nothing but blanks
 *   "Bearer"  "bearer   "        PIT_ERR_AUTH_EMPTY   scheme, no credential
 *   "Bearer <token>"             PIT_OK   scheme case-insensitive, one or
 *   "BEARER   <token>"                    more SP (never HTAB) between
 *   "<token>"                    PIT_OK   the bare token
 *   "Basic dXNlcg=="             PIT_ERR_AUTH_SCHEME  any other scheme (an
 *   "Token abc"  "abc xyz"                RFC 7235 token) with something
 *                                         after it
 *   "Basic"  "Digest  "          PIT_ERR_AUTH_SCHEME  a registered scheme
 *                                         name alone (IANA HTTP auth scheme
 *                                         registry, case-insensitive)
 *   everything else              PIT_ERR_TOKEN_MALFORMED, in particular:
 *     any byte outside printable ASCII (HTAB, NUL, CR, LF, bytes >= 0x7f)
 *     once the value is not all blanks; a leading SP; a SP after a token
 *     ("Bearer <token> ", "<token> "); a Bearer credential that is not
 *     exactly a token; a bare word that is not a token and not a
 *     registered scheme ("abc", "dXNlcg==", uppercase hex); a first word
 *     starting with "pit-" followed by more ("<token> x").
 *
 * The checks run in that order, so the answer never depends on which part
 * of a hostile value is looked at first, and none of them touches Redis.
 *
 * Hints are "pit-" + the first 4 hex digits + "****-****-****-****" + the
 * last 4 hex digits: 31 characters, the seed's display form.  A malformed
 * input gives "pit-????****-****-****-****????" and leaks nothing.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/*
 * The reusable hasher keeps SHA256_CTX states (see there): the low-level
 * SHA-256 calls are deprecated in OpenSSL 3.0 but present, and the only
 * ones that do not allocate per digest.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "pit_token.h"

#define PIT_TOKEN_PREFIX_LEN  (sizeof(PIT_TOKEN_PREFIX) - 1)

static const char pit_hex_digits[] = "0123456789abcdef";

static const char pit_id_alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* -----------------------------------------------------------------------------
 * Character classes
 * -------------------------------------------------------------------------- */

/* Returns the value of a hex digit of either case, or -1. */
static int pit_hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Returns 1 if c is an ASCII letter or digit, else 0. */
static int pit_is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z');
}

/* Returns 1 if c may appear in an RFC 7230 token (tchar), else 0. */
static int pit_is_tchar(unsigned char c) {
    return pit_is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Returns 1 if c is SP or HTAB, else 0. */
static int pit_is_blank(unsigned char c) {
    return c == ' ' || c == '\t';
}

/* Returns 1 if s[0..len) equals the lowercase word w ignoring case. */
static int pit_word_equal_nocase(const char *s, size_t len, const char *w) {
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];

        if (w[i] == '\0') return 0;
        if (c >= 'A' && c <= 'Z') c = (unsigned char) (c - 'A' + 'a');
        if (c != (unsigned char) w[i]) return 0;
    }
    return w[len] == '\0';
}

/* -----------------------------------------------------------------------------
 * Token format
 * -------------------------------------------------------------------------- */

/* Returns 1 if offset i of a token holds a dash (8-4-4-4-12 shape). */
static int pit_token_dash_at(size_t i) {
    return i == 12 || i == 17 || i == 22 || i == 27;
}

/*
 * Returns PIT_OK if s[0..len) is exactly a well-formed token, else
 * PIT_ERR_TOKEN_MALFORMED.
 */
pit_err_t pit_token_validate(const char *s, size_t len) {
    /* The class each position requires: 'x' a lowercase hex digit. */
    static const char pit_token_shape[PIT_TOKEN_LEN + 1] =
        "pit-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    static const char pit_token_class[256] = {
        ['0'] = 'x', ['1'] = 'x', ['2'] = 'x', ['3'] = 'x', ['4'] = 'x',
        ['5'] = 'x', ['6'] = 'x', ['7'] = 'x', ['8'] = 'x', ['9'] = 'x',
        ['a'] = 'x', ['b'] = 'x', ['c'] = 'x', ['d'] = 'x', ['e'] = 'x',
        ['f'] = 'x', ['-'] = '-'
    };
    size_t    i;
    unsigned  bad;

    if (s == NULL || len != PIT_TOKEN_LEN) return PIT_ERR_TOKEN_MALFORMED;
    if (memcmp(s, PIT_TOKEN_PREFIX, PIT_TOKEN_PREFIX_LEN) != 0)
        return PIT_ERR_TOKEN_MALFORMED;

    /* One pass without branches: the hot path is a valid token. */
    bad = 0;
    for (i = PIT_TOKEN_PREFIX_LEN; i < PIT_TOKEN_LEN; i++) {
        bad |= (unsigned) (pit_token_class[(unsigned char) s[i]]
                           ^ pit_token_shape[i]);
    }
    return bad ? PIT_ERR_TOKEN_MALFORMED : PIT_OK;
}

/*
 * Writes a fresh token and a NUL into out.  Returns PIT_OK or
 * PIT_ERR_RANDOM; all 128 bits come from RAND_bytes(), none are fixed as
 * in a v4 UUID.
 */
pit_err_t pit_token_generate(char *out) {
    unsigned char  raw[16];
    size_t         i, j;

    if (out == NULL) return PIT_ERR_ARG;
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        OPENSSL_cleanse(raw, sizeof(raw));
        return PIT_ERR_RANDOM;
    }

    memcpy(out, PIT_TOKEN_PREFIX, PIT_TOKEN_PREFIX_LEN);
    for (i = PIT_TOKEN_PREFIX_LEN, j = 0; i < PIT_TOKEN_LEN; i++) {
        if (pit_token_dash_at(i)) {
            out[i] = '-';
            continue;
        }
        /* Even positions of the 32 digits take the high nibble. */
        out[i] = pit_hex_digits[(j % 2 == 0) ? raw[j / 2] >> 4
                                             : raw[j / 2] & 0x0f];
        j++;
    }
    out[PIT_TOKEN_LEN] = '\0';

    OPENSSL_cleanse(raw, sizeof(raw));
    return PIT_OK;
}

/*
 * Writes the masked display form of a token and a NUL into out.  Nothing
 * of a malformed input is copied.
 */
void pit_token_hint(const char *token, size_t len, char *out) {
    static const char  mask[] = "****-****-****-****";
    const char        *first = "????", *last = "????";
    char              *p = out;

    if (out == NULL) return;

    if (pit_token_validate(token, len) == PIT_OK) {
        first = token + PIT_TOKEN_PREFIX_LEN;
        last = token + PIT_TOKEN_LEN - 4;
    }

    memcpy(p, PIT_TOKEN_PREFIX, PIT_TOKEN_PREFIX_LEN);
    p += PIT_TOKEN_PREFIX_LEN;
    memcpy(p, first, 4);
    p += 4;
    memcpy(p, mask, sizeof(mask) - 1);
    p += sizeof(mask) - 1;
    memcpy(p, last, 4);
    p += 4;
    *p = '\0';
}


/* -----------------------------------------------------------------------------
 * Redaction
 *
 * What nginx logs is not always the token as issued: a query string may
 * carry it percent-encoded ("pit%2D...", "%70it-", "%31" for '1'), and a
 * client may send it with '_', '.', ' ', '+' or nothing between its groups,
 * split by a space, or cut short.  The scan below reads "units": one byte,
 * or a %XX escape read as the byte it encodes, so every spelling of a
 * character is one thing to look at, and keeps to one pass over the line.
 * -------------------------------------------------------------------------- */

#define PIT_TOKEN_HEX         32      /* hex digits of a token's secret */
#define PIT_REDACT_MIN_HEX    8       /* fewer cannot show 8 in a row */
#define PIT_REDACT_SEP_RUN    2       /* separators in a row in a run */
#define PIT_REDACT_GAP        3       /* bytes bridged to a split tail */

/* A run of hex digits and separators, as pit_redact_run() reads it. */
typedef struct {
    size_t  end;        /* offset just past its last hex digit */
    size_t  stop;       /* offset of the unit that ended it, or len */
    size_t  hex;        /* hex digits in it, raw or encoded */
    int     lead;       /* the separator it starts with, or -1 */
} pit_redact_run_t;

/*
 * Returns the length of the unit at s[0..n) (n > 0): 3 for a %XX escape,
 * whose byte goes to *c, else 1 with *c = s[0].
 */
static size_t pit_redact_unit(const char *s, size_t n, int *c) {
    int  hi, lo;

    if (s[0] == '%' && n >= 3) {
        hi = pit_hex_value((unsigned char) s[1]);
        lo = pit_hex_value((unsigned char) s[2]);
        if (hi >= 0 && lo >= 0) {
            *c = hi << 4 | lo;
            return 3;
        }
    }
    *c = (unsigned char) s[0];
    return 1;
}

/*
 * Returns 1 if c may stand between the groups of a token: the dash, what
 * clients and forms put in its place, and blanks, which split a token
 * pasted across two words.
 */
static int pit_redact_is_sep(int c) {
    return c == '-' || c == '_' || c == '.' || c == ' ' || c == '+'
           || c == '\t';
}

/*
 * Returns 1 if c may sit between a masked partial token and the rest of
 * it (a blank or punctuation), else 0.  Not '%' (escapes are units), not
 * '*' (what masking leaves), never a line end.
 */
static int pit_redact_is_gap(unsigned char c) {
    return c == ' ' || c == '\t'
           || (c > ' ' && c < 0x7f && !pit_is_alnum(c) && c != '%'
               && c != '*');
}

/*
 * Returns the length of "pit" or "pat" (an admin token, pit_admin.h; any
 * case, any letter %XX-encoded) at s[0..n), or 0.  *raw is set to 1 when
 * it is spelled without escapes.
 */
static size_t pit_redact_prefix(const char *s, size_t n, int *raw) {
    static const char  word[] = "pit";
    size_t             k, pos = 0, ulen;
    int                c;

    *raw = 1;
    for (k = 0; k < 3; k++) {
        if (pos == n) return 0;
        ulen = pit_redact_unit(s + pos, n - pos, &c);
        if ((c | 0x20) != word[k] && !(k == 1 && (c | 0x20) == 'a')) {
            return 0;
        }
        if (ulen != 1) *raw = 0;
        pos += ulen;
    }
    return pos;
}

/*
 * Reads the run of hex digits and separators (at most PIT_REDACT_SEP_RUN
 * in a row) at s[0..n) into *r, up to max_hex hex digits: a token has no
 * more, so what follows one is not swallowed.
 */
static void pit_redact_run(const char *s, size_t n, size_t max_hex,
    pit_redact_run_t *r)
{
    size_t  pos = 0, ulen, seps = 0;
    int     c;

    r->end = 0;
    r->hex = 0;
    r->lead = -1;

    while (pos < n && r->hex < max_hex) {
        ulen = pit_redact_unit(s + pos, n - pos, &c);
        if (pit_hex_value((unsigned char) c) >= 0) {
            r->hex++;
            r->end = pos + ulen;
            seps = 0;
        } else if (pit_redact_is_sep(c) && seps < PIT_REDACT_SEP_RUN) {
            if (pos == 0) r->lead = c;
            seps++;
        } else {
            break;
        }
        pos += ulen;
    }
    r->stop = pos;
}

/*
 * Masks every hex digit of the run at s[0..end): a raw digit becomes '*',
 * and so do both digits of an escape that encodes one (an escape for a
 * separator is kept: it tells nothing).
 */
static void pit_redact_mask(char *s, size_t end) {
    size_t  pos = 0, ulen;
    int     c;

    while (pos < end) {
        ulen = pit_redact_unit(s + pos, end - pos, &c);
        if (pit_hex_value((unsigned char) c) >= 0) {
            memset(s + pos + (ulen == 3), '*', ulen == 3 ? 2 : 1);
        }
        pos += ulen;
    }
}

/*
 * Returns how many characters of s[0..len) follow the token shape after
 * "pit-" (hex of either case where a token has hex, dashes where it has
 * dashes), at most PIT_TOKEN_LEN - 4.
 */
static size_t pit_token_shape_run(const char *s, size_t len) {
    size_t  i, max = PIT_TOKEN_LEN - PIT_TOKEN_PREFIX_LEN;

    for (i = 0; i < len && i < max; i++) {
        if (pit_token_dash_at(i + PIT_TOKEN_PREFIX_LEN)) {
            if (s[i] != '-') break;
        } else if (pit_hex_value((unsigned char) s[i]) < 0) {
            break;
        }
    }
    return i;
}

/*
 * Returns how many of the first n characters of s (n at most
 * PIT_TOKEN_LEN - 4) are what a token has at that place, or 0 if they
 * hold something that ends a word in a header, a query string or a path
 * (blanks, controls, quotes, ,;&=?/\), an escape, or another "pit" in any
 * spelling: then they are not one token with typos, and masking them
 * could hide the start of the next token from the scan.
 */
static size_t pit_token_shape_matches(const char *s, size_t n) {
    size_t         i, m = 0;
    unsigned char  c;

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (c <= ' ' || c >= 0x7f || strchr("\"',;&=?/\\%", c) != NULL) {
            return 0;
        }

        if (i + 2 < n && (c | 0x20) == 'p' && (s[i + 1] | 0x20) == 'i'
            && (s[i + 2] | 0x20) == 't')
        {
            return 0;
        }

        if (pit_token_dash_at(i + PIT_TOKEN_PREFIX_LEN)) {
            m += (c == '-');
        } else {
            m += (pit_hex_value(c) >= 0);
        }
    }
    return m;
}

/*
 * Masks the tail of a token split from its masked start, which ended just
 * before s: after up to PIT_REDACT_GAP blanks or punctuation (a space, a
 * comma, a slash), piece by piece until the token's 32 digits are
 * accounted for.  A piece is masked when it has 8 hex digits or more, or
 * ends a word: a short hex word ("a bad day") is left to the text it
 * belongs to.  Returns the offset past the last hex digit masked, or 0.
 */
static size_t pit_redact_tail(char *s, size_t n, size_t hex) {
    pit_redact_run_t  r;
    size_t            pos = 0, gap, stop, last = 0;
    int               word_end;

    while (hex < PIT_TOKEN_HEX) {
        gap = 0;
        while (gap < PIT_REDACT_GAP && pos + gap < n
               && pit_redact_is_gap((unsigned char) s[pos + gap]))
        {
            gap++;
        }
        if (gap == 0) break;

        pit_redact_run(s + pos + gap, n - pos - gap, PIT_TOKEN_HEX - hex, &r);
        if (r.hex == 0) break;

        stop = pos + gap + r.stop;
        word_end = (stop == n || !pit_is_alnum((unsigned char) s[stop])
                    || hex + r.hex == PIT_TOKEN_HEX);
        if (r.hex < PIT_REDACT_MIN_HEX && !word_end) break;

        pit_redact_mask(s + pos + gap, r.end);
        hex += r.hex;
        last = pos + gap + r.end;
        pos = stop;
    }
    return last;
}

/*
 * Masks tokens in log lines and request lines.  Kept to the shape (not
 * only whole tokens) because what nginx writes may be cut short, encoded
 * or mangled by a client, and part of a token is still part of a secret.
 * Once in a run the scan moves past it, so each byte is looked at a
 * bounded number of times: a run not masked holds fewer than 8 hex
 * digits.
 */
size_t pit_token_redact(char *text, size_t len) {
    pit_redact_run_t  r;
    size_t            i, j, k, k2, n, count = 0;
    size_t            body_max = PIT_TOKEN_LEN - 4;
    char             *body;
    int               raw, dash, cut, near, masked;

    if (text == NULL) return 0;

    for (i = 0; i + 3 < len; i++) {
        if ((text[i] | 0x20) != 'p' && text[i] != '%') continue;

        k = pit_redact_prefix(text + i, len - i, &raw);
        if (k == 0) continue;

        body = text + i + k;
        n = len - i - k;

        /* The token as issued keeps what its hint shows. */
        if (raw && n > body_max && body[0] == '-'
            && pit_token_shape_run(body + 1, n - 1) == body_max)
        {
            for (j = 1; j <= body_max; j++) {
                if (j <= 4 || j > body_max - 4 || body[j] == '-') continue;
                body[j] = '*';
            }
            count++;
            i += k + body_max;
            continue;
        }

        /* A token but for a few typos: the whole word after "pit-". */
        near = (raw && body[0] == '-' && n > body_max
                && pit_token_shape_matches(body + 1, body_max)
                   >= body_max - 6);

        /*
         * Anything else: every hex digit of the run after "pit".  Fewer
         * than 8 cannot show 8 in a row, so they are left unless the run
         * after "pit-" is cut by the end of the text or of a line (nginx
         * truncates long lines): "pit-auth" is a word, "pit-64\n" is not.
         */
        pit_redact_run(body, n, PIT_TOKEN_HEX, &r);
        dash = (r.lead == '-');
        cut = (r.stop == n || body[r.stop] == '\n' || body[r.stop] == '\r');
        masked = (r.hex >= PIT_REDACT_MIN_HEX || (r.hex > 0 && dash && cut));

        if (near) {
            for (j = 1; j <= body_max; j++) {
                if (pit_hex_value((unsigned char) body[j]) >= 0)
                    body[j] = '*';
            }
        }

        if (!masked) {
            /* a near token's window holds no "pit": the scan goes on */
            count += near;
            continue;
        }

        pit_redact_mask(body, r.end);
        count++;
        j = r.end;
        if (r.hex < PIT_TOKEN_HEX) {
            /* from where the run stopped: it may end in separators */
            k2 = pit_redact_tail(body + r.stop, n - r.stop, r.hex);
            if (k2 > 0) j = r.stop + k2;
        }
        i += k + j - 1;
    }

    return count;
}


/* -----------------------------------------------------------------------------
 * Authorization header
 * -------------------------------------------------------------------------- */

/*
 * Returns 1 if s[0..len) names a registered HTTP authentication scheme
 * other than Bearer (IANA registry, case-insensitive), else 0.  Only used
 * to tell "Basic" alone (a scheme without credentials) from a bare word
 * that is a malformed token.
 */
static int pit_scheme_registered(const char *s, size_t len) {
    static const char *const schemes[] = {
        "basic", "concealed", "digest", "dpop", "gnap", "hoba", "mutual",
        "negotiate", "ntlm", "oauth", "privatetoken", "scram-sha-1",
        "scram-sha-256", "vapid", "token", "apikey", NULL
    };
    size_t i;

    for (i = 0; schemes[i] != NULL; i++) {
        if (pit_word_equal_nocase(s, len, schemes[i])) return 1;
    }
    return 0;
}

/*
 * Extracts the token from an Authorization header value.  Returns PIT_OK
 * with *token pointing into value, or the error described at the top of
 * this file.
 */
pit_err_t pit_token_from_authorization(const char *value, size_t len,
    const char **token, size_t *token_len)
{
    const char  *word, *rest;
    size_t       i, word_len, rest_len;

    if (value == NULL || token == NULL || token_len == NULL)
        return PIT_ERR_ARG;

    /*
     * The common shapes first, "Bearer <token>" with one SP and the bare
     * token: the general path below gives the same answer for them.
     */
    if (len == 7 + PIT_TOKEN_LEN
        && (value[0] | 0x20) == 'b' && (value[1] | 0x20) == 'e'
        && (value[2] | 0x20) == 'a' && (value[3] | 0x20) == 'r'
        && (value[4] | 0x20) == 'e' && (value[5] | 0x20) == 'r'
        && value[6] == ' '
        && pit_token_validate(value + 7, PIT_TOKEN_LEN) == PIT_OK)
    {
        *token = value + 7;
        *token_len = PIT_TOKEN_LEN;
        return PIT_OK;
    }
    if (len == PIT_TOKEN_LEN && pit_token_validate(value, len) == PIT_OK) {
        *token = value;
        *token_len = len;
        return PIT_OK;
    }

    i = 0;
    while (i < len && pit_is_blank((unsigned char) value[i])) i++;
    if (i == len) return PIT_ERR_AUTH_EMPTY;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) value[i];

        if (c < 0x20 || c > 0x7e) return PIT_ERR_TOKEN_MALFORMED;
    }
    if (value[0] == ' ') return PIT_ERR_TOKEN_MALFORMED;

    /* First word, then the rest after one or more SP. */
    word = value;
    word_len = 0;
    while (word_len < len && value[word_len] != ' ') word_len++;
    rest = value + word_len;
    rest_len = len - word_len;
    while (rest_len > 0 && *rest == ' ') {
        rest++;
        rest_len--;
    }

    if (pit_word_equal_nocase(word, word_len, "bearer")) {
        if (rest_len == 0) return PIT_ERR_AUTH_EMPTY;
        if (pit_token_validate(rest, rest_len) != PIT_OK)
            return PIT_ERR_TOKEN_MALFORMED;
        *token = rest;
        *token_len = rest_len;
        return PIT_OK;
    }

    if (rest_len == 0) {
        if (word_len == len && pit_token_validate(word, word_len) == PIT_OK) {
            *token = word;
            *token_len = word_len;
            return PIT_OK;
        }
        return pit_scheme_registered(word, word_len)
               ? PIT_ERR_AUTH_SCHEME : PIT_ERR_TOKEN_MALFORMED;
    }

    /* "<word> <rest>": a token with trailing garbage, or another scheme. */
    if (word_len >= PIT_TOKEN_PREFIX_LEN
        && pit_word_equal_nocase(word, PIT_TOKEN_PREFIX_LEN, PIT_TOKEN_PREFIX))
        return PIT_ERR_TOKEN_MALFORMED;

    for (i = 0; i < word_len; i++) {
        if (!pit_is_tchar((unsigned char) word[i]))
            return PIT_ERR_TOKEN_MALFORMED;
    }
    return PIT_ERR_AUTH_SCHEME;
}

/* -----------------------------------------------------------------------------
 * Hashing, hex and comparison
 * -------------------------------------------------------------------------- */

/*
 * Hashes a token into out: SHA-256, or HMAC-SHA256 when a key is given.
 * Returns PIT_OK or PIT_ERR_CRYPTO.
 */
pit_err_t pit_token_hash(const char *token, size_t len,
    const unsigned char *key, size_t key_len, unsigned char *out)
{
    unsigned int outlen = 0;

    if (token == NULL || out == NULL) return PIT_ERR_ARG;

    if (key == NULL || key_len == 0) {
        if (EVP_Digest(token, len, out, &outlen, EVP_sha256(), NULL) != 1)
            return PIT_ERR_CRYPTO;
    } else {
        if (key_len > INT_MAX) return PIT_ERR_CRYPTO;
        if (HMAC(EVP_sha256(), key, (int) key_len,
                 (const unsigned char *) token, len, out, &outlen) == NULL)
            return PIT_ERR_CRYPTO;
    }

    return outlen == PIT_HASH_LEN ? PIT_OK : PIT_ERR_CRYPTO;
}

/* -----------------------------------------------------------------------------
 * Reusable hasher
 * -------------------------------------------------------------------------- */

#define PIT_SHA256_BLOCK  64

/*
 * The states are SHA256_CTX values, not EVP_MD_CTXs: OpenSSL 3.0 frees and
 * allocates a provider context on every EVP_DigestInit_ex() and
 * EVP_MD_CTX_copy_ex(), one malloc() per token; a struct copy costs none.
 */
struct pit_hasher_s {
    SHA256_CTX  inner;      /* plain: the initial state; HMAC: key ^ ipad */
    SHA256_CTX  outer;      /* HMAC: SHA-256 state after key ^ opad */
    int         keyed;
};

/* Absorbs the key XOR pad into a fresh state; returns PIT_OK or
 * PIT_ERR_CRYPTO. */
static pit_err_t pit_hasher_pad(SHA256_CTX *ctx, const unsigned char *key,
    size_t key_len, unsigned char pad)
{
    unsigned char  block[PIT_SHA256_BLOCK];
    size_t         i;
    int            ok;

    memset(block, pad, sizeof(block));
    for (i = 0; i < key_len; i++) block[i] ^= key[i];

    ok = SHA256_Init(ctx) == 1
         && SHA256_Update(ctx, block, sizeof(block)) == 1;

    OPENSSL_cleanse(block, sizeof(block));
    return ok ? PIT_OK : PIT_ERR_CRYPTO;
}

pit_err_t pit_hasher_new(pit_hasher_t **out, const unsigned char *key,
    size_t key_len)
{
    pit_hasher_t   *h;
    unsigned char   kh[PIT_HASH_LEN];
    pit_err_t       rc;

    if (out == NULL || (key == NULL && key_len != 0)) return PIT_ERR_ARG;
    *out = NULL;

    h = OPENSSL_zalloc(sizeof(pit_hasher_t));
    if (h == NULL) return PIT_ERR_NOMEM;

    if (key_len == 0) {
        if (SHA256_Init(&h->inner) != 1) {
            pit_hasher_free(h);
            return PIT_ERR_CRYPTO;
        }
        *out = h;
        return PIT_OK;
    }

    h->keyed = 1;

    if (key_len > PIT_SHA256_BLOCK) {
        if (SHA256(key, key_len, kh) == NULL) {
            pit_hasher_free(h);
            return PIT_ERR_CRYPTO;
        }
        key = kh;
        key_len = sizeof(kh);
    }

    rc = pit_hasher_pad(&h->inner, key, key_len, 0x36);
    if (rc == PIT_OK) rc = pit_hasher_pad(&h->outer, key, key_len, 0x5c);

    OPENSSL_cleanse(kh, sizeof(kh));

    if (rc != PIT_OK) {
        pit_hasher_free(h);
        return rc;
    }

    *out = h;
    return PIT_OK;
}

pit_err_t pit_hasher_hash(pit_hasher_t *h, const char *token, size_t len,
    unsigned char *out)
{
    SHA256_CTX     c;
    unsigned char  inner[PIT_HASH_LEN];
    int            ok;

    if (h == NULL || token == NULL || out == NULL) return PIT_ERR_ARG;

    c = h->inner;

    if (!h->keyed) {
        ok = SHA256_Update(&c, token, len) == 1 && SHA256_Final(out, &c) == 1;
        OPENSSL_cleanse(&c, sizeof(c));
        return ok ? PIT_OK : PIT_ERR_CRYPTO;
    }

    ok = SHA256_Update(&c, token, len) == 1 && SHA256_Final(inner, &c) == 1;

    if (ok) {
        c = h->outer;
        ok = SHA256_Update(&c, inner, sizeof(inner)) == 1
             && SHA256_Final(out, &c) == 1;
    }

    OPENSSL_cleanse(inner, sizeof(inner));
    OPENSSL_cleanse(&c, sizeof(c));
    return ok ? PIT_OK : PIT_ERR_CRYPTO;
}

void pit_hasher_free(pit_hasher_t *h) {
    if (h == NULL) return;
    OPENSSL_clear_free(h, sizeof(*h));
}

/*
 * As pit_token_hash(), writing lowercase hex and a NUL into hex.  Returns
 * PIT_OK or PIT_ERR_CRYPTO.
 */
pit_err_t pit_token_hash_hex(const char *token, size_t len,
    const unsigned char *key, size_t key_len, char *hex)
{
    unsigned char  raw[PIT_HASH_LEN];
    pit_err_t      rc;

    if (hex == NULL) return PIT_ERR_ARG;

    rc = pit_token_hash(token, len, key, key_len, raw);
    if (rc != PIT_OK) return rc;

    pit_hex_encode(raw, sizeof(raw), hex);
    hex[PIT_HASH_HEX_LEN] = '\0';
    return PIT_OK;
}

/* Writes 2 * n lowercase hex digits (no NUL) for in[0..n) into out. */
void pit_hex_encode(const unsigned char *in, size_t n, char *out) {
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = pit_hex_digits[in[i] >> 4];
        out[2 * i + 1] = pit_hex_digits[in[i] & 0x0f];
    }
}

/*
 * Decodes 2 * n hex digits of either case into out.  Returns PIT_OK or
 * PIT_ERR_ARG on a non-hex digit (out is then partly written).
 */
pit_err_t pit_hex_decode(const char *hex, size_t n, unsigned char *out) {
    size_t i;

    for (i = 0; i < n; i++) {
        int hi = pit_hex_value((unsigned char) hex[2 * i]);
        int lo = pit_hex_value((unsigned char) hex[2 * i + 1]);

        if (hi < 0 || lo < 0) return PIT_ERR_ARG;
        out[i] = (unsigned char) (hi << 4 | lo);
    }
    return PIT_OK;
}

/* Returns 1 if a and b are equal, in time independent of their contents. */
int pit_ct_equal(const void *a, const void *b, size_t n) {
    return CRYPTO_memcmp(a, b, n) == 0;
}

/* -----------------------------------------------------------------------------
 * Integration ids
 * -------------------------------------------------------------------------- */

/*
 * Writes PIT_ID_LEN random alphanumerics and a NUL into out.  Returns
 * PIT_OK or PIT_ERR_RANDOM.  A byte is used only when below 248 (4 * 62),
 * so every character is equally likely.
 */
pit_err_t pit_id_generate(char *out) {
    unsigned char  raw[32];
    size_t         n = 0, i;

    if (out == NULL) return PIT_ERR_ARG;

    while (n < PIT_ID_LEN) {
        if (RAND_bytes(raw, sizeof(raw)) != 1) return PIT_ERR_RANDOM;
        for (i = 0; i < sizeof(raw) && n < PIT_ID_LEN; i++) {
            if (raw[i] >= 248) continue;
            out[n++] = pit_id_alphabet[raw[i] % 62];
        }
    }
    out[PIT_ID_LEN] = '\0';
    return PIT_OK;
}

/* Returns PIT_OK if s[0..len) is an integration id, else PIT_ERR_FIELD. */
pit_err_t pit_id_validate(const char *s, size_t len) {
    size_t i;

    if (s == NULL || len != PIT_ID_LEN) return PIT_ERR_FIELD;
    for (i = 0; i < len; i++) {
        if (!pit_is_alnum((unsigned char) s[i])) return PIT_ERR_FIELD;
    }
    return PIT_OK;
}

/* -----------------------------------------------------------------------------
 * Hash key file
 * -------------------------------------------------------------------------- */

/*
 * Reads a hash key file into key (PIT_HASH_KEY_MAX bytes), less one
 * trailing "\n" or "\r\n".  Returns PIT_OK, PIT_ERR_IO or PIT_ERR_HASH_KEY.
 */
pit_err_t pit_hash_key_load(const char *path, unsigned char *key,
    size_t *key_len)
{
    /* Room for the longest key, its "\r\n" and one byte to see excess. */
    unsigned char  buf[PIT_HASH_KEY_MAX + 3];
    size_t         n = 0;
    ssize_t        r;
    int            fd;
    pit_err_t      rc;

    if (path == NULL || key == NULL || key_len == NULL) return PIT_ERR_ARG;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) return PIT_ERR_IO;

    while (n < sizeof(buf)) {
        r = read(fd, buf + n, sizeof(buf) - n);
        if (r == -1 && errno == EINTR) continue;
        if (r == -1) {
            close(fd);
            OPENSSL_cleanse(buf, sizeof(buf));
            return PIT_ERR_IO;
        }
        if (r == 0) break;
        n += (size_t) r;
    }
    close(fd);

    if (n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r') n--;
    }

    if (n < PIT_HASH_KEY_MIN || n > PIT_HASH_KEY_MAX) {
        rc = PIT_ERR_HASH_KEY;
    } else {
        memcpy(key, buf, n);
        *key_len = n;
        rc = PIT_OK;
    }

    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}
