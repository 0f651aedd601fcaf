/*
 * Fuzz target: pit_token_redact() on arbitrary text, as the module runs it
 * on every error log line and on request lines carrying access_token.
 *
 * Invariants checked beyond "no crash, no sanitizer report", on the input
 * as it is and on the input with a token planted in it:
 *   - nothing is written past len (a canary byte follows the text);
 *   - only hex digits change, and only into '*': the length and every
 *     other byte are kept;
 *   - no window of the result is a token, whatever the case of its
 *     letters;
 *   - a second pass masks nothing.
 * The planted token is spelled as clients and logs spell it (finding 7):
 * "pit" in any case, letters and digits %XX-encoded at random, any of
 * - _ . + SP %20 %2D %5F %2E or nothing between its groups, split at
 * random places by separators or (after 8 digits) punctuation, sometimes
 * cut short.  Then no 8 digits in a row of its secret may be left
 * readable; none at all unless it is the token as issued (which keeps
 * its hint) or a split with punctuation left a short last piece.
 */

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEX_DIGITS  32

typedef struct {
    uint64_t  s;                /* xorshift state */
} rng_t;

static unsigned rng_next(rng_t *r, unsigned n) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (unsigned) (r->s % n);
}

/* Returns 1 if s[0..PIT_TOKEN_LEN) is a token once lowercased. */
static int looks_like_token(const char *s) {
    char    low[PIT_TOKEN_LEN];
    size_t  i;

    if (s[3] != '-' || tolower((unsigned char) s[0]) != 'p') return 0;
    for (i = 0; i < PIT_TOKEN_LEN; i++)
        low[i] = (char) tolower((unsigned char) s[i]);
    return pit_token_validate(low, PIT_TOKEN_LEN) == PIT_OK;
}

/* Redacts text[0..size) (a copy of orig) and checks the invariants. */
static void check_redact(char *text, const char *orig, size_t size) {
    size_t  i;

    text[size] = 'Z';                       /* a canary past the end */

    (void) pit_token_redact(text, size);

    if (text[size] != 'Z') abort();
    for (i = 0; i < size; i++) {
        if (text[i] != orig[i]
            && (text[i] != '*' || !isxdigit((unsigned char) orig[i])))
        {
            abort();
        }
    }
    for (i = 0; i + PIT_TOKEN_LEN <= size; i++) {
        if (looks_like_token(text + i)) abort();
    }
    if (pit_token_redact(text, size) != 0) abort();
}

/* Appends c to out at *n, %XX-encoded (hex of random case) one time in 4. */
static void put_char(rng_t *r, char *out, size_t *n, char c, int *coded) {
    static const char  up[] = "0123456789ABCDEF", low[] = "0123456789abcdef";
    const char        *hex;

    if (rng_next(r, 4) != 0) {
        out[(*n)++] = c;
        return;
    }
    hex = rng_next(r, 2) ? up : low;
    out[(*n)++] = '%';
    out[(*n)++] = hex[(unsigned char) c >> 4];
    out[(*n)++] = hex[(unsigned char) c & 0x0f];
    *coded = 1;
}

/*
 * Writes a token spelled some way into out; at[i] gets the offset of its
 * i-th digit and enc[i] whether it is encoded.  Returns the length; *digits
 * is how many digits were written (fewer than 32 when cut), *plain 1 if it
 * is the token as issued, *punct 1 if punctuation splits it.
 */
static size_t plant_token(rng_t *r, char *out, size_t *at, int *enc,
    size_t *digits, int *plain, int *punct)
{
    static const char *const seps[] = {
        "", "-", "_", ".", " ", "+", "%20", "%2D", "%5F", "%2E",
        "%2d", "%5f", "%2e"
    };
    static const char  splits[] = " -_.+\t";
    static const char  puncts[] = ",/;:|";
    const char        *sep;
    size_t             n = 0, i, cut;
    int                coded = 0, odd = 0, c;

    for (i = 0; i < 3; i++) {
        c = "pit"[i];
        if (rng_next(r, 2)) c = toupper(c);
        put_char(r, out, &n, (char) c, &coded);
    }

    cut = rng_next(r, 8) == 0 ? rng_next(r, HEX_DIGITS) + 1 : HEX_DIGITS;

    for (i = 0; i < cut; i++) {
        if (i == 0 || i == 8 || i == 12 || i == 16 || i == 20) {
            sep = rng_next(r, 2) ? "-"
                  : seps[rng_next(r, sizeof(seps) / sizeof(seps[0]))];
            if (strcmp(sep, "-") != 0) odd = 1;
            memcpy(out + n, sep, strlen(sep));
            n += strlen(sep);
        }
        if (i > 0 && rng_next(r, 12) == 0) {
            odd = 1;
            if (i >= 8 && rng_next(r, 3) == 0) {
                out[n++] = puncts[rng_next(r, sizeof(puncts) - 1)];
                *punct = 1;
            } else {
                out[n++] = splits[rng_next(r, sizeof(splits) - 1)];
            }
        }
        c = "0123456789abcdef"[rng_next(r, 16)];
        if (rng_next(r, 4) == 0) c = toupper(c);
        at[i] = n;
        enc[i] = 0;
        if (rng_next(r, 4) == 0) {
            put_char(r, out, &n, (char) c, &enc[i]);
        } else {
            out[n++] = (char) c;
        }
        coded |= enc[i];
    }

    *digits = cut;
    *plain = (!coded && !odd && cut == HEX_DIGITS);
    return n;
}

/* Returns 1 if the digit at out[at] (%XX-encoded when enc) can be read. */
static int digit_visible(const char *out, size_t at, int enc) {
    if (!enc) return isxdigit((unsigned char) out[at]) != 0;
    return isxdigit((unsigned char) out[at + 1])
           || isxdigit((unsigned char) out[at + 2]);
}

static void check_planted(const uint8_t *data, size_t size) {
    char      tok[256], *orig, *text;
    size_t    at[HEX_DIGITS], digits, tlen, split, i, run = 0, longest = 0;
    size_t    seen = 0, len;
    int       enc[HEX_DIGITS], plain = 0, punct = 0;
    uint64_t  h = 1469598103934665603ULL;
    rng_t     r;

    for (i = 0; i < size; i++) h = (h ^ data[i]) * 1099511628211ULL;
    r.s = h | 1;

    tlen = plant_token(&r, tok, at, enc, &digits, &plain, &punct);
    split = size ? rng_next(&r, (unsigned) size + 1) : 0;
    len = size + tlen;

    orig = malloc(len + 1);
    text = malloc(len + 1);
    if (orig == NULL || text == NULL) abort();
    memcpy(orig, data, split);
    memcpy(orig + split, tok, tlen);
    memcpy(orig + split + tlen, data + split, size - split);
    memcpy(text, orig, len);

    check_redact(text, orig, len);

    for (i = 0; i < digits; i++) {
        if (digit_visible(text, split + at[i], enc[i])) {
            seen++;
            run++;
            if (run > longest) longest = run;
        } else {
            run = 0;
        }
    }

    if (longest >= 8) abort();
    if (plain && longest > 4) abort();
    if (!plain && !punct && digits == HEX_DIGITS && seen != 0) abort();

    free(orig);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char  *text;

    text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    check_redact(text, (const char *) data, size);
    free(text);

    check_planted(data, size);
    return 0;
}
