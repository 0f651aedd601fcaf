/*
 * pit_token_redact() on the lines it sees on every request: a typical
 * 200-byte debug line without a token (the common case: it must cost next
 * to nothing), an access-log request line with percent escapes and no
 * token, and lines with a token, whole and encoded.  Lines with a token
 * are copied back before each call (the copy is included in the time).
 *
 * Usage: build/redact_bench [ITERATIONS]   (default 1000000)
 * Build: cc -O2 -Icore -o build/redact_bench tests/bench/redact_bench.c \
 *            build/libpit.a -lcrypto
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pit_token.h"

typedef struct {
    const char  *what;
    const char  *line;
    int          copy;      /* the line is changed by a call: restore it */
} bench_line_t;

static const bench_line_t lines[] = {
    { "200-byte debug line, no token",
      "2024/05/01 12:00:00 [debug] 12345#12345: *67 http proxy header: "
      "\"X-Request-Id: 9f8e7d6c5b4a39281706f5e4d3c2b1a0\" while reading "
      "response header from upstream, client: 10.0.0.1, server: api.example"
      ".com", 0 },
    { "request line with escapes, no token",
      "GET /api/v1/contacts?q=caf%C3%A9%20bar&page=2&sort=-updated_at"
      "&fields=id%2Cname%2Cemail HTTP/1.1", 0 },
    { "header line with a token",
      "2024/05/01 12:00:00 [debug] 12345#12345: *67 http header: "
      "\"Authorization: Bearer pit-6490a1b2-c3d4-4e5f-8a9b-0c1d2e3fe762\"",
      1 },
    { "request line with an encoded token",
      "GET /api/v1/contacts?access_token=pit%2D6490a1b2%2Dc3d4%2D4e5f%2D"
      "8a9b%2D0c1d2e3fe762&page=2 HTTP/1.1", 1 },
};

static double now_ns(void) {
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

int main(int argc, char **argv) {
    char     buf[512];
    long     n = argc > 1 ? atol(argv[1]) : 1000000, k;
    size_t   i, len, masked = 0;
    double   t0, ns;

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        len = strlen(lines[i].line);
        memcpy(buf, lines[i].line, len + 1);
        t0 = now_ns();
        for (k = 0; k < n; k++) {
            if (lines[i].copy) memcpy(buf, lines[i].line, len);
            masked += pit_token_redact(buf, len);
        }
        ns = now_ns() - t0;
        printf("%-40s %3zu bytes  %8.1f ms / %ld calls  %6.1f ns/call\n",
               lines[i].what, len, ns / 1e6, n, ns / (double) n);
    }
    /* keeps the calls from being optimised away */
    printf("runs masked: %zu\n", masked);
    return 0;
}
