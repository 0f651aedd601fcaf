/*
 * Token record decoding, the cache-miss path's biggest cost, measured side
 * by side in one run: the canonical scan against the general (jansson)
 * decoder, on records as pitctl writes them (1 scope, 10 scopes with a
 * 20-character account, 100 scopes).  Both decode every record to the same
 * bytes first (checked), then each is timed over the same loop, rounds
 * interleaved; the ratio is the median of per-round ratios.
 *
 * Usage: build/record_bench [ITERATIONS]   (default 200000 per round)
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pit_record.h"

#define ROUNDS  5

typedef pit_err_t (*decoder_t)(const char *json, size_t len,
    pit_token_record_t *rec);

static double now_ns(void) {
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static double time_ns(decoder_t decode, const char *json, size_t len,
    long n)
{
    static pit_token_record_t  rec;
    double                     t0;
    long                       i;

    t0 = now_ns();
    for (i = 0; i < n; i++) {
        if (decode(json, len, &rec) != PIT_OK) {
            fprintf(stderr, "record_bench: decoding failed\n");
            exit(1);
        }
    }
    return (now_ns() - t0) / (double) n;
}

static int cmp_double(const void *a, const void *b) {
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

static void make_record(pit_token_record_t *rec, size_t nscopes,
    const char *acct)
{
    char    name[48];
    size_t  i;

    memset(rec, 0, sizeof(*rec));
    strcpy(rec->iid, "ocQHyuzHvysMo5N5VsXc");
    strcpy(rec->acct, acct);
    rec->acct_type = PIT_ACCT_LOCATION;
    pit_scope_set_init(&rec->scopes);
    for (i = 0; i < nscopes; i++) {
        snprintf(name, sizeof(name), "scope%zu.readonly", i);
        if (pit_scope_set_add(&rec->scopes, name, strlen(name)) != PIT_OK) {
            exit(1);
        }
    }
    rec->role = PIT_ROLE_PRIMARY;
}

int main(int argc, char **argv) {
    static const struct { size_t nscopes; const char *acct; } cases[] = {
        { 1, "acct1" }, { 10, "a0123456789012345678" },
        { 100, "a0123456789012345678" },
    };
    static pit_token_record_t  rec, a, b;
    static char                json[PIT_JSON_MAX];
    double                     scan[ROUNDS], gen[ROUNDS], ratio[ROUNDS];
    size_t                     len, c;
    long                       n = argc > 1 ? atol(argv[1]) : 200000;
    int                        r;

    printf("| record | bytes | canonical scan ns | jansson ns | "
           "jansson / scan |\n|---|---|---|---|---|\n");
    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        make_record(&rec, cases[c].nscopes, cases[c].acct);
        if (pit_token_record_to_json(&rec, json, sizeof(json), &len)
                != PIT_OK
            || pit_token_record_from_canonical_json(json, len, &a) != PIT_OK
            || pit_token_record_from_general_json(json, len, &b) != PIT_OK
            || memcmp(&a, &b, sizeof(a)) != 0)
        {
            fprintf(stderr, "record_bench: decoders disagree\n");
            return 1;
        }
        for (r = 0; r < ROUNDS; r++) {
            scan[r] = time_ns(pit_token_record_from_canonical_json, json,
                              len, n);
            gen[r] = time_ns(pit_token_record_from_general_json, json, len,
                             n / 10 + 1);
            ratio[r] = gen[r] / scan[r];
        }
        qsort(scan, ROUNDS, sizeof(double), cmp_double);
        qsort(gen, ROUNDS, sizeof(double), cmp_double);
        qsort(ratio, ROUNDS, sizeof(double), cmp_double);
        printf("| %zu scope(s), %zu-char account | %zu | %.0f | %.0f | "
               "%.1f |\n", cases[c].nscopes, strlen(cases[c].acct), len,
               scan[ROUNDS / 2], gen[ROUNDS / 2], ratio[ROUNDS / 2]);
    }
    return 0;
}
