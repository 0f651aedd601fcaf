/*
 * pit-auth core: route tables from OpenAPI 3 descriptions, and the segment
 * trie that matches a request's method and path against them.
 *
 * Every operation of a spec becomes a route: method + path template ->
 * requirement expression (pit_scope.h).  The operation's "security" (or,
 * when it has none, the document's) is a list of alternatives, any one of
 * which suffices; each alternative lists scopes, all of which are needed.
 * No security, an empty list, or an empty alternative requires nothing.
 *
 * Templates are cut at '/'.  A segment is a literal or a whole "{name}",
 * which matches exactly one non-empty segment.  A trailing slash is not
 * significant ("/contacts/" and "/contacts" are the same route).  When
 * several templates fit a request, the one with a literal at the leftmost
 * segment where they differ wins ("/contacts/search" before
 * "/contacts/{contactId}").  Two routes with the same method and the same
 * template (parameter names aside) conflict.
 *
 * The trie is built into one block from a caller-given allocator (nginx
 * passes its configuration pool) and matched without allocating.
 */

#ifndef PIT_OPENAPI_H
#define PIT_OPENAPI_H

#include <stddef.h>
#include <stdint.h>

#include "pit_error.h"

#define PIT_OPENAPI_FILE_MAX     (16 * 1024 * 1024)  /* bytes of a spec */
#define PIT_OPENAPI_ROUTES_MAX   10000        /* routes of one table */
#define PIT_OPENAPI_TMPL_MAX     1024         /* bytes of a template */
#define PIT_OPENAPI_DEPTH_MAX    32           /* segments of a template */
#define PIT_OPENAPI_ALTS_MAX     16           /* security alternatives */
#define PIT_OPENAPI_TERMS_MAX    64           /* terms of an expression */
#define PIT_OPENAPI_EXPR_MAX     2048         /* bytes of an expression */
#define PIT_OPENAPI_ERR_MAX      512          /* a useful error message */

/* The methods OpenAPI names, in its order. */
typedef enum {
    PIT_METHOD_GET = 0,
    PIT_METHOD_PUT,
    PIT_METHOD_POST,
    PIT_METHOD_DELETE,
    PIT_METHOD_OPTIONS,
    PIT_METHOD_HEAD,
    PIT_METHOD_PATCH,
    PIT_METHOD_TRACE,
    PIT_METHODS
} pit_method_t;

typedef struct {
    pit_method_t  method;
    char         *tmpl;       /* "/contacts/{contactId}", as written */
    char         *expr;       /* "contacts.readonly"; "" requires nothing */
    char         *source;     /* contacts.json $.paths["/contacts"].get */
} pit_route_t;

/* A growing list of routes; strings and array are malloc'ed. */
typedef struct {
    size_t        n;
    size_t        cap;
    pit_route_t  *routes;
} pit_routes_t;

typedef struct pit_trie_s  pit_trie_t;

/* An allocator: returns size bytes aligned for any type, or NULL. */
typedef void *(*pit_alloc_pt)(void *ctx, size_t size);

/* Returns the method for an upper-case name ("GET"), or -1. */
int pit_method_from_name(const char *s, size_t len);

/* Returns the upper-case name of m ("GET"). */
const char *pit_method_name(pit_method_t m);

/* Empties rt (no allocation). */
void pit_routes_init(pit_routes_t *rt);

/* Frees what rt holds and empties it. */
void pit_routes_free(pit_routes_t *rt);

/*
 * Adds the operations of the OpenAPI 3 JSON document buf[0..len) to rt;
 * name (a file name) starts each route's source.  Returns PIT_OK, or
 * PIT_ERR_JSON / PIT_ERR_FIELD / PIT_ERR_TOO_LARGE / PIT_ERR_NOMEM with
 * a message naming the file and the JSON path in err (rt then holds what
 * it held before).
 */
pit_err_t pit_openapi_load_buffer(pit_routes_t *rt, const char *name,
    const char *buf, size_t len, char *err, size_t errcap);

/* As pit_openapi_load_buffer(), reading file (PIT_ERR_IO if unreadable). */
pit_err_t pit_openapi_load_file(pit_routes_t *rt, const char *file,
    char *err, size_t errcap);

/* Sorts rt by template, then method: the order pitctl prints. */
void pit_routes_sort(pit_routes_t *rt);

/*
 * Builds the trie of rt into one block obtained from alloc (strings
 * copied; rt may be freed afterwards).  Returns PIT_OK with *out set;
 * PIT_ERR_CONFLICT with both sources in err; PIT_ERR_NOMEM.
 */
pit_err_t pit_trie_build(const pit_routes_t *rt, pit_alloc_pt alloc,
    void *alloc_ctx, pit_trie_t **out, char *err, size_t errcap);

/*
 * Returns the route for method[0..mlen) and the normalized path
 * path[0..plen) (it starts with '/'), or NULL when none fits.  HEAD
 * without a route of its own uses GET's.  Never allocates.
 */
const pit_route_t *pit_trie_match(const pit_trie_t *trie, const char *method,
    size_t mlen, const char *path, size_t plen);

/*
 * As pit_trie_match(), but ignoring ASCII case in the method ("delete")
 * and in the path's literal segments ("/Contacts/abc"): returns a route
 * that an upstream comparing without case could run, or NULL.  Where
 * several could, exact-case literals are tried first, then the others
 * in the trie's order, then the parameter child.  With unmatched=allow,
 * a request that pit_trie_match() misses but this finds is refused.
 * Never allocates; each trie node is visited at most once.
 */
const pit_route_t *pit_trie_match_folded(const pit_trie_t *trie,
    const char *method, size_t mlen, const char *path, size_t plen);

/* Returns the routes held by trie (in rt's order); *n receives how many. */
const pit_route_t *pit_trie_routes(const pit_trie_t *trie, size_t *n);

#endif /* PIT_OPENAPI_H */
