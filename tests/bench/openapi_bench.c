/*
 * The cost of matching a request against pit_auth_openapi's route table,
 * and against the obvious alternative: an nginx map of regexes.
 *
 *   openapi_bench bench FILE...   ns per match: the trie, and the same
 *                                 regexes nginx's map would run (PCRE2
 *                                 JIT, tried in order until one matches)
 *   openapi_bench map FILE...     prints that nginx map block
 *   openapi_bench requests FILE...  prints the request mix, "METHOD PATH"
 *
 * The request mix: every route once with its parameters filled in
 * (20-character ids, like HighLevel's), and one unmatched request for
 * every ten routes.  Built by tests/bench/openapi.sh into build/.
 */

#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcre2.h>

#include "pit_openapi.h"

#define REQ_MAX  4096

typedef struct {
    const char  *method;
    char         path[1200];
    char         line[1300];        /* "METHOD PATH", what the map sees */
} req_t;

/* A route and its sort key, for the map's regex order. */
typedef struct {
    const pit_route_t  *r;
    char                key[1200];
} ordered_t;

static void *bench_alloc(void *ctx, size_t size) {
    (void) ctx;
    return malloc(size);
}

/* Returns the monotonic clock in ns. */
static double now_ns(void) {
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* Writes tmpl with every parameter as a 20-character id into buf. */
static void instantiate(const char *tmpl, char *buf) {
    while (*tmpl) {
        if (*tmpl == '{') {
            while (*tmpl && *tmpl != '}') tmpl++;
            if (*tmpl) tmpl++;
            memcpy(buf, "ocQHyuzHvysMo5N5VsXc", 20);
            buf += 20;
        } else {
            *buf++ = *tmpl++;
        }
    }
    *buf = '\0';
}

/*
 * Writes the sort key of a template: per segment "0label/" for a literal,
 * "1/" for a parameter.  In key order the first template that fits a
 * request is the trie's choice (literal first, leftmost wins).
 */
static void sort_key(const char *t, char *key) {
    size_t len = strlen(t);

    if (len > 1 && t[len - 1] == '/') len--;
    t++;
    len = len ? len - 1 : 0;
    while (len > 0) {
        size_t n = 0;

        while (n < len && t[n] != '/') n++;
        if (t[0] == '{') {
            *key++ = '1';
        } else {
            *key++ = '0';
            memcpy(key, t, n);
            key += n;
        }
        *key++ = '/';
        t += n;
        len -= n;
        if (len > 0) {
            t++;
            len--;
        }
    }
    *key = '\0';
}

static int ordered_cmp(const void *a, const void *b) {
    const ordered_t *x = a, *y = b;
    int r = strcmp(x->key, y->key);

    if (r != 0) return r;
    return (int) x->r->method - (int) y->r->method;
}

/* Writes the anchored regex for a route, over "$request_method $uri". */
static void route_regex(const pit_route_t *r, char *re) {
    const char  *t = r->tmpl;
    size_t       len = strlen(t);

    if (len > 1 && t[len - 1] == '/') len--;
    re += sprintf(re, "^%s ", r->method == PIT_METHOD_GET
                              ? "(?:GET|HEAD)" : pit_method_name(r->method));
    if (len == 1) len = 0;
    while (len > 0) {
        if (*t == '{') {
            while (len > 0 && *t != '}') {
                t++;
                len--;
            }
            t++;
            len--;
            re += sprintf(re, "[^/]+");
            continue;
        }
        if (strchr(".^$|()[]*+?\\", *t)) *re++ = '\\';
        *re++ = *t++;
        len--;
    }
    sprintf(re, "/?$");
}

int main(int argc, char **argv) {
    static req_t     reqs[REQ_MAX];
    static char      re[2600];
    pit_routes_t     rt;
    pit_trie_t      *trie = NULL;
    const pit_route_t *routes;
    ordered_t       *ord;
    pcre2_code     **codes;
    pcre2_match_data *md;
    char             err[PIT_OPENAPI_ERR_MAX];
    size_t           n, i, nreq = 0, hits = 0, iters, k;
    double           t0, t1, best;
    int              round;
    int              a, e;
    PCRE2_SIZE       eo;

    if (argc < 3) {
        fprintf(stderr, "usage: openapi_bench bench|map|requests FILE...\n");
        return 1;
    }

    pit_routes_init(&rt);
    for (a = 2; a < argc; a++) {
        if (pit_openapi_load_file(&rt, argv[a], err, sizeof(err)) != PIT_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    if (pit_trie_build(&rt, bench_alloc, NULL, &trie, err, sizeof(err))
        != PIT_OK)
    {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    pit_routes_free(&rt);
    routes = pit_trie_routes(trie, &n);

    ord = calloc(n, sizeof(*ord));
    for (i = 0; i < n; i++) {
        ord[i].r = &routes[i];
        sort_key(routes[i].tmpl, ord[i].key);
    }
    qsort(ord, n, sizeof(*ord), ordered_cmp);

    if (strcmp(argv[1], "map") == 0) {
        printf("map \"$request_method $uri\" $route_scope {\n"
               "    default  \"\";\n");
        for (i = 0; i < n; i++) {
            route_regex(ord[i].r, re);
            printf("    \"~%s\"  \"%s\";\n", re, ord[i].r->expr);
        }
        printf("}\n");
        return 0;
    }

    for (i = 0; i < n; i++) {
        reqs[nreq].method = pit_method_name(routes[i].method);
        instantiate(routes[i].tmpl, reqs[nreq].path);
        nreq++;
        if (i % 10 == 9) {
            reqs[nreq].method = "GET";
            instantiate(routes[i].tmpl, reqs[nreq].path);
            strcat(reqs[nreq].path, "/nonexistent");
            nreq++;
        }
    }
    for (i = 0; i < nreq; i++) {
        snprintf(reqs[i].line, sizeof(reqs[i].line), "%s %s",
                 reqs[i].method, reqs[i].path);
    }

    if (strcmp(argv[1], "requests") == 0) {
        for (i = 0; i < nreq; i++) printf("%s\n", reqs[i].line);
        return 0;
    }

    /* both must give every request the same route */
    codes = calloc(n, sizeof(*codes));
    for (i = 0; i < n; i++) {
        route_regex(ord[i].r, re);
        codes[i] = pcre2_compile((PCRE2_SPTR) re, PCRE2_ZERO_TERMINATED, 0,
                                 &e, &eo, NULL);
        if (codes[i] == NULL) {
            fprintf(stderr, "regex %s: error %d\n", re, e);
            return 1;
        }
        pcre2_jit_compile(codes[i], PCRE2_JIT_COMPLETE);
    }
    md = pcre2_match_data_create(1, NULL);

    for (i = 0; i < nreq; i++) {
        const pit_route_t *r = pit_trie_match(trie, reqs[i].method,
                                              strlen(reqs[i].method),
                                              reqs[i].path,
                                              strlen(reqs[i].path));
        size_t j;

        for (j = 0; j < n; j++) {
            if (pcre2_match(codes[j], (PCRE2_SPTR) reqs[i].line,
                            strlen(reqs[i].line), 0, 0, md, NULL) >= 0)
            {
                break;
            }
        }
        if ((j == n) != (r == NULL) || (r != NULL && ord[j].r != r)) {
            fprintf(stderr, "%s: the trie and the map disagree\n",
                    reqs[i].line);
            return 1;
        }
    }

    /* the trie; the best of five rounds, the machine may be shared */
    best = 1e18;
    iters = 20000;
    for (round = 0; round < 5; round++) {
        hits = 0;
        t0 = now_ns();
        for (k = 0; k < iters; k++) {
            for (i = 0; i < nreq; i++) {
                hits += pit_trie_match(trie, reqs[i].method,
                                       strlen(reqs[i].method), reqs[i].path,
                                       strlen(reqs[i].path)) != NULL;
            }
        }
        t1 = now_ns();
        if ((t1 - t0) / (double) (iters * nreq) < best)
            best = (t1 - t0) / (double) (iters * nreq);
    }
    printf("routes %zu, requests in the mix %zu (%zu unmatched)\n", n, nreq,
           nreq - n);
    printf("trie:      %7.1f ns per request  (%zu matched)\n", best,
           hits / iters);

    /* the map's regexes, in the map's order, PCRE2 with JIT like nginx */
    best = 1e18;
    iters = 1000;
    for (round = 0; round < 5; round++) {
        hits = 0;
        t0 = now_ns();
        for (k = 0; k < iters; k++) {
            for (i = 0; i < nreq; i++) {
                size_t j, len = strlen(reqs[i].line);

                for (j = 0; j < n; j++) {
                    if (pcre2_match(codes[j], (PCRE2_SPTR) reqs[i].line, len,
                                    0, 0, md, NULL) >= 0)
                    {
                        hits++;
                        break;
                    }
                }
            }
        }
        t1 = now_ns();
        if ((t1 - t0) / (double) (iters * nreq) < best)
            best = (t1 - t0) / (double) (iters * nreq);
    }
    printf("regex map: %7.1f ns per request  (%zu matched)\n", best,
           hits / iters);

    for (i = 0; i < n; i++) pcre2_code_free(codes[i]);
    pcre2_match_data_free(md);
    free(codes);
    free(ord);
    free(trie);
    return 0;
}
