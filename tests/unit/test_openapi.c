/*
 * Unit tests for core/pit_openapi.c: OpenAPI 3 route tables and the
 * segment trie.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pit_openapi.h"
#include "pit_scope.h"

#define HL  "tests/data/highlevel/"

/* malloc as a pit_alloc_pt; the tests free the block themselves. */
static void *test_alloc(void *ctx, size_t size) {
    (void) ctx;
    return malloc(size);
}

/* Wraps paths (a JSON object's members) into a minimal document. */
static char *doc(const char *extra, const char *paths) {
    static char buf[65536];

    snprintf(buf, sizeof(buf),
             "{\"openapi\":\"3.0.0\",%s\"paths\":{%s}}", extra, paths);
    return buf;
}

/* Loads text; returns the rc, err filled. */
static pit_err_t load(pit_routes_t *rt, const char *text, char *err) {
    return pit_openapi_load_buffer(rt, "t.json", text, strlen(text), err,
                                   PIT_OPENAPI_ERR_MAX);
}

/* -----------------------------------------------------------------------------
 * Security -> expression
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *what;
    const char  *op;            /* the operation object */
    const char  *expr;
} sec_case_t;

static const sec_case_t sec_cases[] = {
    { "one scope", "{\"security\":[{\"bearer\":[\"contacts.readonly\"]}]}",
      "contacts.readonly" },
    { "all of, one alternative",
      "{\"security\":[{\"bearer\":[\"b.write\",\"a.write\"]}]}",
      "a.write b.write" },
    { "two schemes in one alternative are all of",
      "{\"security\":[{\"bearer\":[\"a\"],\"key\":[\"b\"]}]}", "a b" },
    { "alternatives are any of",
      "{\"security\":[{\"bearer\":[\"a\"]},{\"key\":[\"b\"]}]}", "a|b" },
    { "same scope under two schemes",
      "{\"security\":[{\"bearer\":[\"c.readonly\"]},"
      "{\"Location-Access\":[\"c.readonly\"]}]}", "c.readonly" },
    { "distribution", "{\"security\":[{\"s\":[\"a\",\"b\"]},{\"s\":[\"c\"]}]}",
      "a|c b|c" },
    { "absorption: a or (a and b) is a",
      "{\"security\":[{\"s\":[\"a\",\"b\"]},{\"s\":[\"a\"]}]}", "a" },
    { "duplicates inside an alternative",
      "{\"security\":[{\"s\":[\"a\",\"a\"]}]}", "a" },
    { "no security", "{\"summary\":\"x\"}", "" },
    { "empty security", "{\"security\":[]}", "" },
    { "an empty alternative needs nothing",
      "{\"security\":[{\"bearer\":[\"a\"]},{}]}", "" },
    { "a scheme without scopes needs nothing",
      "{\"security\":[{\"bearer\":[]}]}", "" },
};

static void test_security_to_expression_table(void **state) {
    size_t  i;
    char    err[PIT_OPENAPI_ERR_MAX], paths[1024];

    (void) state;
    for (i = 0; i < sizeof(sec_cases) / sizeof(sec_cases[0]); i++) {
        const sec_case_t  *c = &sec_cases[i];
        pit_routes_t       rt;

        pit_routes_init(&rt);
        snprintf(paths, sizeof(paths), "\"/x\":{\"get\":%s}", c->op);
        if (load(&rt, doc("", paths), err) != PIT_OK)
            fail_msg("%s: %s", c->what, err);
        assert_int_equal(rt.n, 1);
        if (strcmp(rt.routes[0].expr, c->expr) != 0)
            fail_msg("%s: got \"%s\" want \"%s\"", c->what,
                     rt.routes[0].expr, c->expr);
        assert_int_equal(pit_scope_expr_validate(rt.routes[0].expr,
                                                 strlen(rt.routes[0].expr)),
                         PIT_OK);
        pit_routes_free(&rt);
    }
}

static void test_document_security_applies_unless_the_operation_overrides(
    void **state)
{
    pit_routes_t  rt;
    char          err[PIT_OPENAPI_ERR_MAX];

    (void) state;
    pit_routes_init(&rt);
    assert_int_equal(load(&rt, doc("\"security\":[{\"b\":[\"root.x\"]}],",
                                   "\"/a\":{\"get\":{},"
                                   "\"post\":{\"security\":[]},"
                                   "\"put\":{\"security\":[{\"b\":[\"op.y\"]}]}}"),
                          err), PIT_OK);
    assert_int_equal(rt.n, 3);
    assert_string_equal(rt.routes[0].expr, "root.x");
    assert_string_equal(rt.routes[1].expr, "op.y");     /* put before post */
    assert_string_equal(rt.routes[2].expr, "");
    pit_routes_free(&rt);
}

static void test_non_method_keys_are_ignored(void **state) {
    pit_routes_t  rt;
    char          err[PIT_OPENAPI_ERR_MAX];

    (void) state;
    pit_routes_init(&rt);
    assert_int_equal(load(&rt, doc("",
        "\"/a/{id}\":{\"summary\":\"s\",\"description\":\"d\","
        "\"parameters\":[{\"name\":\"id\",\"in\":\"path\"}],"
        "\"servers\":[],\"x-internal\":true,"
        "\"delete\":{\"security\":[{\"b\":[\"a.write\"]}]}},"
        "\"x-ext\":{\"whatever\":1}"), err), PIT_OK);
    assert_int_equal(rt.n, 1);
    assert_int_equal(rt.routes[0].method, PIT_METHOD_DELETE);
    assert_string_equal(rt.routes[0].tmpl, "/a/{id}");
    assert_string_equal(rt.routes[0].source,
                        "t.json $.paths[\"/a/{id}\"].delete");
    pit_routes_free(&rt);
}

/* -----------------------------------------------------------------------------
 * Bad input
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *what;
    const char  *text;          /* NULL: paths in paths */
    const char  *paths;
    const char  *want;          /* substring of the message */
} bad_case_t;

static const bad_case_t bad_cases[] = {
    { "not JSON", "{\"openapi\":", NULL, "t.json: $: invalid JSON at line 1" },
    { "not an object", "[1,2]", NULL, "t.json: $: not a JSON object" },
    { "no openapi", "{\"paths\":{}}", NULL, "$.openapi: not an OpenAPI 3" },
    { "swagger 2", "{\"swagger\":\"2.0\",\"paths\":{}}", NULL,
      "not an OpenAPI 3" },
    { "paths not an object", "{\"openapi\":\"3.1.0\",\"paths\":[]}", NULL,
      "$.paths: paths must be an object" },
    { "duplicate path keys", "{\"openapi\":\"3.0.0\",\"paths\":"
      "{\"/a\":{},\"/a\":{}}}", NULL, "duplicate object key" },
    { "path item not an object", NULL, "\"/a\":1",
      "$.paths[\"/a\"]: a path item must be an object" },
    { "operation not an object", NULL, "\"/a\":{\"get\":\"x\"}",
      "$.paths[\"/a\"].get: an operation must be an object" },
    { "security not an array", NULL,
      "\"/a\":{\"get\":{\"security\":{}}}",
      "$.paths[\"/a\"].get.security: security must be an array" },
    { "requirement not an object", NULL,
      "\"/a\":{\"get\":{\"security\":[\"bearer\"]}}",
      "$.paths[\"/a\"].get.security[0]: a security requirement" },
    { "scopes not an array", NULL,
      "\"/a\":{\"get\":{\"security\":[{\"bearer\":\"a\"}]}}",
      "security[0][\"bearer\"]: scopes must be an array" },
    { "scope not a string", NULL,
      "\"/a\":{\"get\":{\"security\":[{\"bearer\":[\"a\",7]}]}}",
      "security[0][\"bearer\"][1]: a scope must be a string" },
    { "invalid scope name", NULL,
      "\"/a\":{\"post\":{\"security\":[{},{\"b\":[\"Contacts.Write\"]}]}}",
      "$.paths[\"/a\"].post.security[1][\"b\"][0]: invalid scope name "
      "\"Contacts.Write\"" },
    { "scope with a blank", NULL,
      "\"/a\":{\"get\":{\"security\":[{\"b\":[\"a b\"]}]}}",
      "invalid scope name \"a b\"" },
    { "scope with a NUL", NULL,
      "\"/a\":{\"get\":{\"security\":[{\"b\":[\"a\\u0000b\"]}]}}",
      "not allowed without JSON_ALLOW_NUL" },
    { "bad document security", "{\"openapi\":\"3.0.0\",\"security\":"
      "[{\"b\":[\"*\"]}],\"paths\":{}}", NULL,
      "$.security[0][\"b\"][0]: invalid scope name" },
    { "template without slash", NULL, "\"a\":{}",
      "$.paths[\"a\"]: a path template must start with '/'" },
    { "parameter not a whole segment", NULL, "\"/a/{id}.json\":{}",
      "a path parameter must be a whole segment" },
    { "two parameters in one segment", NULL, "\"/a/{x}-{y}\":{}",
      "a path parameter must be a whole segment" },
    { "empty parameter", NULL, "\"/a/{}\":{}",
      "a path parameter must be a whole segment" },
    { "empty segment", NULL, "\"/a//b\":{}", "empty segment" },
    { "dot segment", NULL, "\"/a/../b\":{}", "dot segment" },
    { "percent in template", NULL, "\"/a%2Fb\":{}", "'%'" },
    { "query in template", NULL, "\"/a?x=1\":{}", "'?'" },
    { "path item $ref", NULL, "\"/a\":{\"$ref\":\"#/x\"}",
      "\"$ref\" is not supported" },
    { "too many alternatives", NULL,
      "\"/a\":{\"get\":{\"security\":[{},{},{},{},{},{},{},{},{},{},{},{},"
      "{},{},{},{},{}]}}", "more than 16 security alternatives" },
    { "too complex", NULL,
      "\"/a\":{\"get\":{\"security\":["
      "{\"s\":[\"a1\",\"a2\",\"a3\",\"a4\"]},{\"s\":[\"b1\",\"b2\",\"b3\"]},"
      "{\"s\":[\"c1\",\"c2\",\"c3\"]},{\"s\":[\"d1\",\"d2\",\"d3\"]}]}}",
      "security too complex" },
};

static void test_bad_input_is_an_error_with_file_and_json_path(void **state)
{
    size_t  i;
    char    err[PIT_OPENAPI_ERR_MAX];

    (void) state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case_t  *c = &bad_cases[i];
        pit_routes_t       rt;
        const char        *text = c->text ? c->text : doc("", c->paths);

        pit_routes_init(&rt);
        if (load(&rt, text, err) == PIT_OK)
            fail_msg("%s: loaded", c->what);
        if (strstr(err, c->want) == NULL)
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->what, err,
                     c->want);
        assert_int_equal(rt.n, 0);
        pit_routes_free(&rt);
    }
}

static void test_failed_load_keeps_what_was_loaded(void **state) {
    pit_routes_t  rt;
    char          err[PIT_OPENAPI_ERR_MAX];

    (void) state;
    pit_routes_init(&rt);
    assert_int_equal(load(&rt, doc("", "\"/a\":{\"get\":{}}"), err), PIT_OK);
    assert_int_not_equal(load(&rt, doc("", "\"/b\":{\"get\":{}},"
                                       "\"/c\":{\"get\":7}"), err), PIT_OK);
    assert_int_equal(rt.n, 1);
    assert_string_equal(rt.routes[0].tmpl, "/a");
    pit_routes_free(&rt);
}

static void test_huge_and_deep_input_fails_cleanly(void **state) {
    pit_routes_t  rt;
    char          err[PIT_OPENAPI_ERR_MAX], *big;
    size_t        i, n;

    (void) state;
    pit_routes_init(&rt);

    /* nesting far past jansson's depth limit */
    n = 100000;
    big = malloc(2 * n + 1);
    assert_non_null(big);
    for (i = 0; i < n; i++) {
        big[i] = '[';
        big[n + i] = ']';
    }
    big[2 * n] = '\0';
    assert_int_equal(load(&rt, big, err), PIT_ERR_JSON);
    free(big);

    /* a template past PIT_OPENAPI_TMPL_MAX, and one too deep */
    big = malloc(8192);
    assert_non_null(big);
    strcpy(big, "\"/");
    memset(big + 2, 'a', 2000);
    strcpy(big + 2002, "\":{\"get\":{}}");
    assert_int_equal(load(&rt, doc("", big), err), PIT_ERR_FIELD);
    assert_non_null(strstr(err, "path template too long"));

    big[0] = '"';
    n = 1;
    for (i = 0; i < PIT_OPENAPI_DEPTH_MAX + 1; i++) {
        memcpy(big + n, "/s", 2);
        n += 2;
    }
    strcpy(big + n, "\":{\"get\":{}}");
    assert_int_equal(load(&rt, doc("", big), err), PIT_ERR_FIELD);
    assert_non_null(strstr(err, "too many segments"));
    free(big);

    /* a file over the size limit is refused before parsing */
    assert_int_equal(pit_openapi_load_buffer(&rt, "t.json", "{}",
                                             PIT_OPENAPI_FILE_MAX + 1, err,
                                             sizeof(err)),
                     PIT_ERR_TOO_LARGE);
    assert_int_equal(rt.n, 0);
    pit_routes_free(&rt);
}

static void test_unreadable_file_names_the_file(void **state) {
    pit_routes_t  rt;
    char          err[PIT_OPENAPI_ERR_MAX];

    (void) state;
    pit_routes_init(&rt);
    assert_int_equal(pit_openapi_load_file(&rt, "/nonexistent/x.json", err,
                                           sizeof(err)), PIT_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/x.json"));
    pit_routes_free(&rt);
}

/* -----------------------------------------------------------------------------
 * Matching
 * -------------------------------------------------------------------------- */

/* Builds a trie from paths; *rt keeps the table. */
static pit_trie_t *build(pit_routes_t *rt, const char *paths) {
    pit_trie_t  *t = NULL;
    char         err[PIT_OPENAPI_ERR_MAX];

    pit_routes_init(rt);
    if (load(rt, doc("", paths), err) != PIT_OK) fail_msg("load: %s", err);
    if (pit_trie_build(rt, test_alloc, NULL, &t, err, sizeof(err)) != PIT_OK)
        fail_msg("build: %s", err);
    return t;
}

/* Returns the template matched by "METHOD path", or "-" for none. */
static const char *match(const pit_trie_t *t, const char *method,
    const char *path)
{
    const pit_route_t *r = pit_trie_match(t, method, strlen(method), path,
                                          strlen(path));

    return r ? r->tmpl : "-";
}

#define S(x)  "{\"security\":[{\"b\":[\"" x "\"]}]}"

static const char *match_paths =
    "\"/\":{\"get\":" S("root") "},"
    "\"/contacts/\":{\"get\":" S("c.r") ",\"post\":" S("c.w") "},"
    "\"/contacts/search\":{\"post\":" S("c.r") "},"
    "\"/contacts/{contactId}\":{\"get\":" S("c.r") ",\"put\":" S("c.w") "},"
    "\"/contacts/{contactId}/tasks/{taskId}\":{\"get\":" S("t.r") "},"
    "\"/contacts/{contactId}/campaigns/removeAll\":{\"delete\":" S("w") "},"
    "\"/contacts/{contactId}/campaigns/{campaignId}\":"
        "{\"delete\":" S("w2") ",\"post\":" S("w2") "},"
    "\"/a/{x}/c\":{\"get\":" S("x") "},"
    "\"/a/b/d\":{\"get\":" S("y") "},"
    "\"/h\":{\"get\":" S("g") ",\"head\":" S("h") "}";

typedef struct {
    const char  *method;
    const char  *path;
    const char  *tmpl;
} match_case_t;

static const match_case_t match_cases[] = {
    { "GET",     "/",                          "/" },
    { "GET",     "",                           "/" },
    { "GET",     "/contacts",                  "/contacts/" },
    { "GET",     "/contacts/",                 "/contacts/" },
    { "POST",    "/contacts/",                 "/contacts/" },
    { "POST",    "/contacts/search",           "/contacts/search" },
    { "POST",    "/contacts/search/",          "/contacts/search" },
    /* literal first, then the parameter when the literal has no GET */
    { "GET",     "/contacts/search",           "/contacts/{contactId}" },
    { "GET",     "/contacts/abc",              "/contacts/{contactId}" },
    { "PUT",     "/contacts/abc",              "/contacts/{contactId}" },
    { "DELETE",  "/contacts/abc",              "-" },
    { "GET",     "/contacts/a b%2F",           "/contacts/{contactId}" },
    { "GET",     "/contacts/abc/tasks/t1",     "/contacts/{contactId}/tasks/{taskId}" },
    { "GET",     "/contacts/abc/tasks",        "-" },
    { "GET",     "/contacts/abc/tasks/",       "-" },
    { "GET",     "/contacts//tasks/t1",        "-" },
    { "GET",     "/contacts/abc//",            "-" },
    { "GET",     "//",                         "-" },
    { "GET",     "/contacts/abc/tasks/t1/x",   "-" },
    { "DELETE",  "/contacts/1/campaigns/removeAll",
                 "/contacts/{contactId}/campaigns/removeAll" },
    { "POST",    "/contacts/1/campaigns/removeAll",
                 "/contacts/{contactId}/campaigns/{campaignId}" },
    { "DELETE",  "/contacts/1/campaigns/c9",
                 "/contacts/{contactId}/campaigns/{campaignId}" },
    /* backtracking out of a literal branch */
    { "GET",     "/a/b/c",                     "/a/{x}/c" },
    { "GET",     "/a/b/d",                     "/a/b/d" },
    { "GET",     "/a/z/d",                     "-" },
    /* HEAD uses GET's route unless it has its own */
    { "HEAD",    "/contacts/abc",              "/contacts/{contactId}" },
    { "HEAD",    "/h",                         "/h" },
    { "OPTIONS", "/contacts/abc",              "-" },
    { "FOO",     "/contacts/abc",              "-" },
    { "get",     "/contacts/abc",              "-" },
    { "GET",     "contacts/abc",               "-" },
    { "GET",     "/Contacts/abc",              "-" },
};

static void test_match_table(void **state) {
    pit_routes_t  rt;
    pit_trie_t   *t = build(&rt, match_paths);
    size_t        i;

    (void) state;
    for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const match_case_t *c = &match_cases[i];
        const char         *got = match(t, c->method, c->path);

        if (strcmp(got, c->tmpl) != 0)
            fail_msg("%s %s: got %s want %s", c->method, c->path, got,
                     c->tmpl);
    }

    /* HEAD /h is its own route; GET /h keeps GET's expression */
    assert_string_equal(pit_trie_match(t, "HEAD", 4, "/h", 2)->expr, "h");
    assert_string_equal(pit_trie_match(t, "GET", 3, "/h", 2)->expr, "g");
    free(t);
    pit_routes_free(&rt);
}

static void test_very_long_paths_do_not_match(void **state) {
    pit_routes_t  rt;
    pit_trie_t   *t = build(&rt, match_paths);
    char         *p;
    size_t        i, n = 200000;

    (void) state;
    p = malloc(n);
    assert_non_null(p);
    for (i = 0; i < n; i++) p[i] = (i % 2) ? 'x' : '/';
    assert_null(pit_trie_match(t, "GET", 3, p, n));
    memcpy(p, "/contacts/", 10);
    memset(p + 10, 'x', n - 10);
    assert_string_equal(pit_trie_match(t, "GET", 3, p, n)->tmpl,
                        "/contacts/{contactId}");
    free(p);
    free(t);
    pit_routes_free(&rt);
}

/* Returns the template matched by "METHOD path" ignoring case, or "-". */
static const char *match_folded(const pit_trie_t *t, const char *method,
    const char *path)
{
    const pit_route_t *r = pit_trie_match_folded(t, method, strlen(method),
                                                 path, strlen(path));

    return r ? r->tmpl : "-";
}

static const match_case_t folded_cases[] = {
    { "DELETE",  "/Contacts/1/campaigns/removeAll",
                 "/contacts/{contactId}/campaigns/removeAll" },
    { "delete",  "/contacts/1/CAMPAIGNS/REMOVEALL",
                 "/contacts/{contactId}/campaigns/removeAll" },
    { "Delete",  "/contacts/1/campaigns/c9",
                 "/contacts/{contactId}/campaigns/{campaignId}" },
    { "get",     "/contacts/abc",              "/contacts/{contactId}" },
    { "gEt",     "/CONTACTS/",                 "/contacts/" },
    { "GET",     "/Contacts",                  "/contacts/" },
    { "post",    "/contacts/SEARCH",           "/contacts/search" },
    /* a folded literal without the method falls back to the parameter */
    { "GET",     "/CONTACTS/SEARCH",           "/contacts/{contactId}" },
    { "GET",     "/A/B/D",                     "/a/b/d" },
    { "GET",     "/A/B/C",                     "/a/{x}/c" },
    { "GET",     "/a/B/c",                     "/a/{x}/c" },
    { "head",    "/H",                         "/h" },
    { "GET",     "/contacts/ABC/Tasks/T1",     "/contacts/{contactId}/tasks/{taskId}" },
    /* still no match */
    { "DELETE",  "/Contacts/abc",              "-" },
    { "options", "/contacts/abc",              "-" },
    { "foo",     "/contacts/abc",              "-" },
    { "getx",    "/contacts/abc",              "-" },
    { "",        "/contacts/abc",              "-" },
    { "G",       "/",                          "-" },
    { "GET",     "contacts/abc",               "-" },
    { "GET",     "/CONTACTS//tasks/t1",        "-" },
    { "GET",     "/contact/abc",               "-" },
    { "GET",     "/contacts/abc/tasks",        "-" },
    { "GET",     "/Contact\xc5\xbf/abc",       "-" },    /* only ASCII */
};

static void test_match_folded_ignores_case_in_method_and_literals(
    void **state)
{
    pit_routes_t  rt;
    pit_trie_t   *t = build(&rt, match_paths);
    size_t        i;

    (void) state;
    for (i = 0; i < sizeof(folded_cases) / sizeof(folded_cases[0]); i++) {
        const match_case_t *c = &folded_cases[i];
        const char         *got = match_folded(t, c->method, c->path);

        if (strcmp(got, c->tmpl) != 0)
            fail_msg("folded %s %s: got %s want %s", c->method, c->path,
                     got, c->tmpl);
    }

    /* whatever the exact matcher finds, the folded one finds a route too */
    for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const match_case_t *c = &match_cases[i];

        if (strcmp(match(t, c->method, c->path), "-") != 0
            && strcmp(match_folded(t, c->method, c->path), "-") == 0)
        {
            fail_msg("folded %s %s: no match", c->method, c->path);
        }
    }

    assert_null(pit_trie_match_folded(NULL, "GET", 3, "/", 1));
    assert_null(pit_trie_match_folded(t, NULL, 0, "/", 1));
    free(t);
    pit_routes_free(&rt);
}

static void test_match_folded_prefers_exact_case_literals(void **state) {
    pit_routes_t  rt;
    pit_trie_t   *t = build(&rt,
        "\"/Users/me\":{\"get\":" S("a") "},"
        "\"/users/{id}\":{\"get\":" S("b") "},"
        "\"/users/me/items\":{\"get\":" S("c") "},"
        "\"/USERS/x\":{\"delete\":" S("d") "}");

    (void) state;
    assert_string_equal(match(t, "GET", "/users/me"), "/users/{id}");
    assert_string_equal(match_folded(t, "GET", "/users/me"), "/users/{id}");
    assert_string_equal(match(t, "GET", "/Users/me"), "/Users/me");
    assert_string_equal(match_folded(t, "GET", "/Users/me"), "/Users/me");
    assert_string_equal(match(t, "GET", "/USERS/ME"), "-");
    assert_string_equal(match_folded(t, "GET", "/USERS/ME"), "/Users/me");
    assert_string_equal(match_folded(t, "get", "/uSeRs/Me/ITEMS"),
                        "/users/me/items");
    /* backtracking over every literal of the same length */
    assert_string_equal(match_folded(t, "DELETE", "/users/X"), "/USERS/x");
    assert_string_equal(match(t, "DELETE", "/users/X"), "-");
    free(t);
    pit_routes_free(&rt);
}

static void test_match_folded_long_paths(void **state) {
    pit_routes_t  rt;
    pit_trie_t   *t = build(&rt, match_paths);
    char         *p;
    size_t        i, n = 200000;

    (void) state;
    p = malloc(n);
    assert_non_null(p);
    for (i = 0; i < n; i++) p[i] = (i % 2) ? 'X' : '/';
    assert_null(pit_trie_match_folded(t, "GET", 3, p, n));
    memcpy(p, "/CONTACTS/", 10);
    memset(p + 10, 'x', n - 10);
    assert_string_equal(pit_trie_match_folded(t, "get", 3, p, n)->tmpl,
                        "/contacts/{contactId}");
    free(p);
    free(t);
    pit_routes_free(&rt);
}

typedef struct {
    const char  *what;
    const char  *paths;
    const char  *want;
} conflict_case_t;

static const conflict_case_t conflict_cases[] = {
    { "parameter names differ",
      "\"/a/{x}\":{\"get\":{}},\"/a/{y}\":{\"get\":{}}",
      "conflicting routes: GET /a/{x} (t.json $.paths[\"/a/{x}\"].get) and "
      "GET /a/{y} (t.json $.paths[\"/a/{y}\"].get)" },
    { "trailing slash",
      "\"/a\":{\"post\":{}},\"/a/\":{\"post\":{}}",
      "conflicting routes: POST /a (t.json $.paths[\"/a\"].post) and "
      "POST /a/ (t.json $.paths[\"/a/\"].post)" },
};

static void test_conflicts_name_both_sources(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(conflict_cases) / sizeof(conflict_cases[0]); i++)
    {
        const conflict_case_t  *c = &conflict_cases[i];
        pit_routes_t            rt;
        pit_trie_t             *t = NULL;
        char                    err[PIT_OPENAPI_ERR_MAX];

        pit_routes_init(&rt);
        assert_int_equal(load(&rt, doc("", c->paths), err), PIT_OK);
        assert_int_equal(pit_trie_build(&rt, test_alloc, NULL, &t, err,
                                        sizeof(err)), PIT_ERR_CONFLICT);
        if (strcmp(err, c->want) != 0)
            fail_msg("%s: got %s", c->what, err);
        pit_routes_free(&rt);
    }
}

static void test_same_template_other_method_is_no_conflict(void **state) {
    pit_routes_t  rt;
    pit_trie_t   *t = build(&rt, "\"/a/{x}\":{\"get\":{}},"
                                 "\"/a/{y}\":{\"put\":{}}");

    (void) state;
    assert_string_equal(match(t, "GET", "/a/1"), "/a/{x}");
    assert_string_equal(match(t, "PUT", "/a/1"), "/a/{y}");
    free(t);
    pit_routes_free(&rt);
}

static void test_empty_table_matches_nothing(void **state) {
    pit_routes_t  rt;
    pit_trie_t   *t = NULL;
    char          err[PIT_OPENAPI_ERR_MAX];

    (void) state;
    pit_routes_init(&rt);
    assert_int_equal(pit_trie_build(&rt, test_alloc, NULL, &t, err,
                                    sizeof(err)), PIT_OK);
    assert_null(pit_trie_match(t, "GET", 3, "/", 1));
    assert_null(pit_trie_match(NULL, "GET", 3, "/", 1));
    free(t);
}

static void *failing_alloc(void *ctx, size_t size) {
    (void) ctx;
    (void) size;
    return NULL;
}

static void test_allocation_failure_is_reported(void **state) {
    pit_routes_t  rt;
    pit_trie_t   *t = NULL;
    char          err[PIT_OPENAPI_ERR_MAX];

    (void) state;
    pit_routes_init(&rt);
    assert_int_equal(load(&rt, doc("", match_paths), err), PIT_OK);
    assert_int_equal(pit_trie_build(&rt, failing_alloc, NULL, &t, err,
                                    sizeof(err)), PIT_ERR_NOMEM);
    assert_null(t);
    pit_routes_free(&rt);
}

/* -----------------------------------------------------------------------------
 * The reference files
 * -------------------------------------------------------------------------- */

/* Writes tmpl with every parameter replaced by "p1" into buf. */
static void instantiate(const char *tmpl, char *buf) {
    while (*tmpl) {
        if (*tmpl == '{') {
            while (*tmpl && *tmpl != '}') tmpl++;
            if (*tmpl) tmpl++;
            *buf++ = 'p';
            *buf++ = '1';
        } else {
            *buf++ = *tmpl++;
        }
    }
    *buf = '\0';
}

static void test_highlevel_files_give_every_operation_its_scope(void **state)
{
    static const char *files[] = {
        HL "contacts.json", HL "calendars.json", HL "conversations.json"
    };
    pit_routes_t        rt;
    pit_trie_t         *t = NULL;
    const pit_route_t  *r, *all;
    char                err[PIT_OPENAPI_ERR_MAX], path[1100];
    size_t              i, n, unsecured = 0;

    (void) state;
    pit_routes_init(&rt);
    for (i = 0; i < 3; i++) {
        if (pit_openapi_load_file(&rt, files[i], err, sizeof(err)) != PIT_OK)
            fail_msg("%s", err);
    }
    assert_int_equal(rt.n, 32 + 41 + 29);
    assert_int_equal(pit_trie_build(&rt, test_alloc, NULL, &t, err,
                                    sizeof(err)), PIT_OK);

    all = pit_trie_routes(t, &n);
    assert_int_equal(n, rt.n);
    for (i = 0; i < n; i++) {
        instantiate(all[i].tmpl, path);
        r = pit_trie_match(t, pit_method_name(all[i].method),
                           strlen(pit_method_name(all[i].method)), path,
                           strlen(path));
        if (r != &all[i])
            fail_msg("%s %s matched %s", pit_method_name(all[i].method),
                     path, r ? r->tmpl : "nothing");
        unsecured += all[i].expr[0] == '\0';
    }
    assert_int_equal(unsecured, 2 + 7);

    r = pit_trie_match(t, "POST", 4, "/contacts/abc/tasks", 19);
    assert_string_equal(r->expr, "contacts.write");
    r = pit_trie_match(t, "GET", 3, "/contacts/abc/tasks", 19);
    assert_string_equal(r->expr, "contacts.readonly");
    r = pit_trie_match(t, "GET", 3,
                       "/conversations/locations/l1/messages/m1/transcription",
                       53);
    assert_string_equal(r->expr, "conversations/message.readonly");
    r = pit_trie_match(t, "GET", 3, "/calendars/resources/rooms/r1", 29);
    assert_string_equal(r->expr, "calendars/resources.readonly");
    assert_string_equal(r->source, HL "calendars.json $.paths[\"/calendars/"
                        "resources/{resourceType}/{id}\"].get");

    free(t);
    pit_routes_free(&rt);
}

static void test_sort_orders_by_template_then_method(void **state) {
    pit_routes_t  rt;
    char          err[PIT_OPENAPI_ERR_MAX];

    (void) state;
    pit_routes_init(&rt);
    assert_int_equal(load(&rt, doc("", "\"/b\":{\"post\":{},\"get\":{}},"
                                   "\"/a\":{\"delete\":{}}"), err), PIT_OK);
    pit_routes_sort(&rt);
    assert_string_equal(rt.routes[0].tmpl, "/a");
    assert_int_equal(rt.routes[1].method, PIT_METHOD_GET);
    assert_int_equal(rt.routes[2].method, PIT_METHOD_POST);
    pit_routes_free(&rt);
}

static void test_method_names(void **state) {
    int m;

    (void) state;
    for (m = 0; m < PIT_METHODS; m++) {
        const char *s = pit_method_name((pit_method_t) m);

        assert_int_equal(pit_method_from_name(s, strlen(s)), m);
    }
    assert_int_equal(pit_method_from_name("GE", 2), -1);
    assert_int_equal(pit_method_from_name("GETS", 4), -1);
    assert_int_equal(pit_method_from_name("PROPFIND", 8), -1);
    assert_int_equal(pit_method_from_name(NULL, 3), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_security_to_expression_table),
        cmocka_unit_test(
            test_document_security_applies_unless_the_operation_overrides),
        cmocka_unit_test(test_non_method_keys_are_ignored),
        cmocka_unit_test(test_bad_input_is_an_error_with_file_and_json_path),
        cmocka_unit_test(test_failed_load_keeps_what_was_loaded),
        cmocka_unit_test(test_huge_and_deep_input_fails_cleanly),
        cmocka_unit_test(test_unreadable_file_names_the_file),
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_very_long_paths_do_not_match),
        cmocka_unit_test(test_conflicts_name_both_sources),
        cmocka_unit_test(test_same_template_other_method_is_no_conflict),
        cmocka_unit_test(test_match_folded_ignores_case_in_method_and_literals),
        cmocka_unit_test(test_match_folded_prefers_exact_case_literals),
        cmocka_unit_test(test_match_folded_long_paths),
        cmocka_unit_test(test_empty_table_matches_nothing),
        cmocka_unit_test(test_allocation_failure_is_reported),
        cmocka_unit_test(test_highlevel_files_give_every_operation_its_scope),
        cmocka_unit_test(test_sort_orders_by_template_then_method),
        cmocka_unit_test(test_method_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
