/*
 * Fuzz target: the OpenAPI route table (pit_openapi_load_buffer, the
 * trie built from it, and matching requests against it).
 *
 * The input is an OpenAPI 3 JSON document, then optionally a NUL and
 * request lines "METHOD /path" separated by '\n'.  Checked: a document
 * that loads gives routes whose method is known and whose expression is
 * well-formed; a trie that builds returns for each request either no
 * route or one of its own routes with the request's method (or GET for
 * HEAD); an error leaves the table as it was (empty here).  The folded
 * matcher finds a route whenever the exact one does, and only its own
 * routes, with the request's method read without case.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_openapi.h"
#include "pit_scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Checks pit_trie_match_folded() on "req sp path nl": a route of the
 * trie's own, with the method read in upper case; one whenever exact.
 */
static void folded(const pit_trie_t *trie, const pit_route_t *all, size_t n,
    const char *req, const char *sp, const char *nl, int exact)
{
    const pit_route_t  *r;
    char                up[8];
    size_t              i, mlen = (size_t) (sp - req);
    int                 m = -1;

    r = pit_trie_match_folded(trie, req, mlen, sp + 1,
                              (size_t) (nl - sp - 1));
    if (exact && r == NULL) abort();
    if (r == NULL) return;
    if (r < all || r >= all + n) abort();
    if (mlen < sizeof(up)) {
        for (i = 0; i < mlen; i++) {
            up[i] = (req[i] >= 'a' && req[i] <= 'z') ? req[i] - 'a' + 'A'
                                                     : req[i];
        }
        m = pit_method_from_name(up, mlen);
    }
    if (m < 0) abort();
    if ((int) r->method != m
        && !(m == PIT_METHOD_HEAD && r->method == PIT_METHOD_GET))
        abort();
}

typedef struct {
    void   *blocks[64];
    size_t  n;
} pit_fuzz_pool_t;

static void *pit_fuzz_alloc(void *ctx, size_t size) {
    pit_fuzz_pool_t *p = ctx;
    void            *b;

    if (p->n == sizeof(p->blocks) / sizeof(p->blocks[0])) return NULL;
    b = malloc(size);
    if (b != NULL) p->blocks[p->n++] = b;
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char         *s = (const char *) data, *req, *end, *nl, *sp;
    const uint8_t      *nul;
    size_t              doc_len, i, n;
    char                err[PIT_OPENAPI_ERR_MAX];
    pit_routes_t        rt;
    pit_trie_t         *trie = NULL;
    pit_fuzz_pool_t     pool;
    const pit_route_t  *r, *all;
    pit_err_t           rc;
    int                 m;

    nul = memchr(data, 0, size);
    doc_len = nul ? (size_t) (nul - data) : size;

    pit_routes_init(&rt);
    rc = pit_openapi_load_buffer(&rt, "fuzz.json", s, doc_len, err,
                                 sizeof(err));
    if (rc != PIT_OK) {
        if (rt.n != 0) abort();
        if (memchr(err, 0, sizeof(err)) == NULL) abort();
        pit_routes_free(&rt);
        return 0;
    }

    for (i = 0; i < rt.n; i++) {
        if ((int) rt.routes[i].method < 0
            || rt.routes[i].method >= PIT_METHODS)
            abort();
        if (pit_scope_expr_validate(rt.routes[i].expr,
                                    strlen(rt.routes[i].expr)) != PIT_OK)
            abort();
    }
    pit_routes_sort(&rt);

    memset(&pool, 0, sizeof(pool));
    rc = pit_trie_build(&rt, pit_fuzz_alloc, &pool, &trie, err, sizeof(err));
    pit_routes_free(&rt);

    if (rc == PIT_OK && nul != NULL) {
        all = pit_trie_routes(trie, &n);
        req = s + doc_len + 1;
        end = s + size;
        while (req < end) {
            nl = memchr(req, '\n', (size_t) (end - req));
            if (nl == NULL) nl = end;
            sp = memchr(req, ' ', (size_t) (nl - req));
            if (sp != NULL && sp + 1 < nl && sp[1] == '/') {
                r = pit_trie_match(trie, req, (size_t) (sp - req), sp + 1,
                                   (size_t) (nl - sp - 1));
                m = pit_method_from_name(req, (size_t) (sp - req));
                if (r != NULL) {
                    if (r < all || r >= all + n) abort();
                    if (m < 0) abort();
                    if ((int) r->method != m
                        && !(m == PIT_METHOD_HEAD
                             && r->method == PIT_METHOD_GET))
                        abort();
                }
                folded(trie, all, n, req, sp, nl, r != NULL);
            }
            req = nl + 1;
        }
    }

    for (i = 0; i < pool.n; i++) free(pool.blocks[i]);
    return 0;
}
