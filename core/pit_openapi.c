/*
 * pit-auth core: OpenAPI 3 route tables and their segment trie.
 *
 * Loading walks the document with jansson and turns every operation into
 * a route whose strings are malloc'ed; any problem stops the load with a
 * message that names the file and the JSON path of the offending value.
 * Nothing from the document is trusted: every type is checked, every size
 * bounded (PIT_OPENAPI_*_MAX).
 *
 * Security requirements are a disjunction of conjunctions ("bearer: [a,
 * b]" or "bearer: [c]"); requirement expressions are a conjunction of
 * disjunctions ("a|c b|c").  The conversion distributes one over the
 * other, then drops what is absorbed, which keeps real specs (one scope,
 * or the same scope under two schemes) down to one term.
 *
 * The trie is first built from malloc'ed nodes, which makes conflicts
 * easy to see, then flattened into one block from the caller's allocator:
 * nodes, edges sorted by label for a binary search, routes and strings.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pit_openapi.h"
#include "pit_scope.h"

#define PIT_OA_ALT_SCOPES_MAX   32      /* scopes in one alternative */
#define PIT_OA_PRODUCT_MAX      1024    /* terms before absorption */
#define PIT_OA_JPATH_MAX        1536    /* a JSON path in a message */

static const char *pit_method_names[PIT_METHODS] = {
    "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"
};

static const char *pit_method_keys[PIT_METHODS] = {
    "get", "put", "post", "delete", "options", "head", "patch", "trace"
};

/* -----------------------------------------------------------------------------
 * Methods
 * -------------------------------------------------------------------------- */

/* Returns the method for an upper-case name ("GET"), or -1. */
int pit_method_from_name(const char *s, size_t len) {
    int m;

    if (s == NULL || len == 0) return -1;   /* s[0] is not ours then */

    /* the first byte and the length tell the candidates apart */
    switch (s[0]) {
    case 'G': m = PIT_METHOD_GET; break;
    case 'P':
        m = len == 3 ? PIT_METHOD_PUT
            : len == 4 ? PIT_METHOD_POST : PIT_METHOD_PATCH;
        break;
    case 'D': m = PIT_METHOD_DELETE; break;
    case 'O': m = PIT_METHOD_OPTIONS; break;
    case 'H': m = PIT_METHOD_HEAD; break;
    case 'T': m = PIT_METHOD_TRACE; break;
    default: return -1;
    }

    if (strlen(pit_method_names[m]) != len
        || memcmp(pit_method_names[m], s, len) != 0)
    {
        return -1;
    }
    return m;
}

/* Returns the upper-case name of m, or "?" for no method. */
const char *pit_method_name(pit_method_t m) {
    if ((unsigned) m >= PIT_METHODS) return "?";
    return pit_method_names[m];
}

/* -----------------------------------------------------------------------------
 * Messages
 * -------------------------------------------------------------------------- */

/*
 * Appends s[0..len) to buf (of cap bytes, NUL-terminated, *n used) as a
 * quoted, printable JSON-like string: non-printable bytes become \xNN and
 * anything past 120 bytes becomes "...".
 */
static void pit_oa_quote(char *buf, size_t cap, size_t *n, const char *s,
    size_t len)
{
    size_t  i;
    int     w;

    for (i = 0; i <= len && i <= 120; i++) {
        unsigned char c;

        if (*n + 8 >= cap) break;
        if (i == 0) buf[(*n)++] = '"';
        if (i == len) {
            buf[(*n)++] = '"';
            break;
        }
        if (i == 120) {
            memcpy(buf + *n, "...\"", 4);
            *n += 4;
            break;
        }
        c = (unsigned char) s[i];
        if (c == '"' || c == '\\') {
            buf[(*n)++] = '\\';
            buf[(*n)++] = (char) c;
        } else if (c < 0x20 || c >= 0x7f) {
            w = snprintf(buf + *n, cap - *n, "\\x%02x", c);
            if (w > 0) *n += (size_t) w;
        } else {
            buf[(*n)++] = (char) c;
        }
    }
    buf[*n] = '\0';
}

/* Appends printf-formatted text to buf (cap bytes, *n used), truncating. */
static void pit_oa_append(char *buf, size_t cap, size_t *n,
    const char *fmt, ...)
{
    va_list  ap;
    int      w;

    if (*n + 1 >= cap) return;
    va_start(ap, fmt);
    w = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (w < 0) return;
    *n += (size_t) w < cap - *n ? (size_t) w : cap - *n - 1;
}

/* -----------------------------------------------------------------------------
 * Loading
 * -------------------------------------------------------------------------- */

/* What one load works with: where it is, for messages. */
typedef struct {
    const char  *name;                  /* file name, for messages */
    char        *err;                   /* caller's message buffer */
    size_t       errcap;
    char         jpath[PIT_OA_JPATH_MAX];   /* "$.paths[\"/x\"].get" */
    size_t       jlen;
} pit_oa_load_t;

/* Sets the message "<file>: <json path>: <what>"; returns rc. */
static pit_err_t pit_oa_fail(pit_oa_load_t *ld, pit_err_t rc,
    const char *fmt, ...)
{
    va_list  ap;
    size_t   n = 0;
    int      w;

    if (ld->err == NULL || ld->errcap == 0) return rc;
    ld->err[0] = '\0';
    pit_oa_append(ld->err, ld->errcap, &n, "%s: %s: ", ld->name, ld->jpath);
    if (n + 1 < ld->errcap) {
        va_start(ap, fmt);
        w = vsnprintf(ld->err + n, ld->errcap - n, fmt, ap);
        va_end(ap);
        (void) w;
    }
    return rc;
}

/* Appends a quoted key to the JSON path; returns the length to restore. */
static size_t pit_oa_push_key(pit_oa_load_t *ld, const char *key,
    size_t len)
{
    size_t at = ld->jlen;

    pit_oa_append(ld->jpath, sizeof(ld->jpath), &ld->jlen, "[");
    pit_oa_quote(ld->jpath, sizeof(ld->jpath), &ld->jlen, key, len);
    pit_oa_append(ld->jpath, sizeof(ld->jpath), &ld->jlen, "]");
    return at;
}

/* Appends ".name" or "[i]" to the JSON path; returns the length to restore. */
static size_t pit_oa_push(pit_oa_load_t *ld, const char *name, size_t i) {
    size_t at = ld->jlen;

    if (name != NULL) {
        pit_oa_append(ld->jpath, sizeof(ld->jpath), &ld->jlen, ".%s", name);
    } else {
        pit_oa_append(ld->jpath, sizeof(ld->jpath), &ld->jlen, "[%zu]", i);
    }
    return at;
}

/* Cuts the JSON path back to length at. */
static void pit_oa_pop(pit_oa_load_t *ld, size_t at) {
    ld->jlen = at;
    ld->jpath[at] = '\0';
}

/*
 * Checks a path template t[0..len).  Returns PIT_OK, or PIT_ERR_FIELD with
 * the reason in *why: it must start with '/', hold at most
 * PIT_OPENAPI_DEPTH_MAX segments, none empty or a dot segment, and a
 * parameter must be a whole segment "{name}".
 */
static pit_err_t pit_oa_template_check(const char *t, size_t len,
    const char **why)
{
    size_t  i = 1, start, nseg = 0, j;

    if (len == 0 || t[0] != '/') {
        *why = "a path template must start with '/'";
        return PIT_ERR_FIELD;
    }
    if (len > PIT_OPENAPI_TMPL_MAX) {
        *why = "path template too long";
        return PIT_ERR_FIELD;
    }
    if (len > 1 && t[len - 1] == '/') len--;    /* not significant */

    while (i < len) {
        start = i;
        while (i < len && t[i] != '/') i++;

        if (i == start) {
            *why = "empty segment in path template";
            return PIT_ERR_FIELD;
        }
        if ((i - start == 1 && t[start] == '.')
            || (i - start == 2 && t[start] == '.' && t[start + 1] == '.'))
        {
            *why = "dot segment in path template";
            return PIT_ERR_FIELD;
        }
        if (++nseg > PIT_OPENAPI_DEPTH_MAX) {
            *why = "too many segments in path template";
            return PIT_ERR_FIELD;
        }

        for (j = start; j < i; j++) {
            unsigned char c = (unsigned char) t[j];

            if (c <= 0x20 || c == 0x7f || c == '%' || c == '?'
                || c == '#')
            {
                *why = "path template segments may not hold blanks, "
                       "control characters, '%', '?' or '#'";
                return PIT_ERR_FIELD;
            }
            if ((c == '{' && j != start) || (c == '}' && j != i - 1)
                || (c == '{' && (i - start < 3 || t[i - 1] != '}'))
                || (c == '}' && t[start] != '{'))
            {
                *why = "a path parameter must be a whole segment \"{name}\"";
                return PIT_ERR_FIELD;
            }
        }
        i++;                                    /* past '/' */
    }
    return PIT_OK;
}

/* One security alternative: its scopes, sorted and unique. */
typedef struct {
    size_t       n;
    const char  *names[PIT_OA_ALT_SCOPES_MAX];
} pit_oa_alt_t;

/* Returns 1 if a's names are all in b (both sorted), else 0. */
static int pit_oa_alt_subset(const pit_oa_alt_t *a, const pit_oa_alt_t *b) {
    size_t i = 0, j = 0;

    while (i < a->n && j < b->n) {
        int r = strcmp(a->names[i], b->names[j]);

        if (r == 0) {
            i++;
            j++;
        } else if (r > 0) {
            j++;
        } else {
            return 0;
        }
    }
    return i == a->n;
}

/* Adds name to alt in order (no duplicates); returns 0, or -1 if full. */
static int pit_oa_alt_add(pit_oa_alt_t *alt, const char *name) {
    size_t i;

    for (i = 0; i < alt->n; i++) {
        int r = strcmp(alt->names[i], name);

        if (r == 0) return 0;
        if (r > 0) break;
    }
    if (alt->n == PIT_OA_ALT_SCOPES_MAX) return -1;
    memmove(&alt->names[i + 1], &alt->names[i],
            (alt->n - i) * sizeof(alt->names[0]));
    alt->names[i] = name;
    alt->n++;
    return 0;
}

/*
 * Drops every alternative that holds another one (the smaller suffices);
 * of equal ones the first stays.  Returns the new count.
 */
static size_t pit_oa_absorb(pit_oa_alt_t *alts, size_t n) {
    size_t i, j, k = 0;

    for (i = 0; i < n; i++) {
        int absorbed = 0;

        for (j = 0; j < n && !absorbed; j++) {
            if (j == i || !pit_oa_alt_subset(&alts[j], &alts[i])) continue;
            absorbed = alts[j].n < alts[i].n || j < i;
        }
        if (!absorbed) alts[k++] = alts[i];
    }
    return k;
}

/*
 * Writes the requirement expression equivalent to "any of alts, each all
 * of its names" into expr (PIT_OPENAPI_EXPR_MAX + 1 bytes).  Returns
 * PIT_OK, PIT_ERR_TOO_LARGE (too many terms) or PIT_ERR_NOMEM.
 */
static pit_err_t pit_oa_expr(pit_oa_alt_t *alts, size_t nalts, char *expr) {
    size_t         i, k, t, nterms = 1, n = 0;
    size_t         pick[PIT_OPENAPI_ALTS_MAX];
    pit_oa_alt_t  *terms;
    pit_err_t      rc = PIT_OK;

    expr[0] = '\0';
    for (i = 0; i < nalts; i++) {
        if (alts[i].n == 0) return PIT_OK;      /* one needs nothing */
    }
    if (nalts == 0) return PIT_OK;

    nalts = pit_oa_absorb(alts, nalts);
    for (i = 0; i < nalts; i++) {
        nterms *= alts[i].n;
        if (nterms > PIT_OA_PRODUCT_MAX) return PIT_ERR_TOO_LARGE;
    }

    terms = calloc(nterms, sizeof(*terms));
    if (terms == NULL) return PIT_ERR_NOMEM;

    /* every way of picking one name from each alternative is a term */
    memset(pick, 0, sizeof(pick));
    for (t = 0; t < nterms; t++) {
        for (i = 0; i < nalts; i++) {
            (void) pit_oa_alt_add(&terms[t], alts[i].names[pick[i]]);
        }
        for (i = 0; i < nalts; i++) {
            if (++pick[i] < alts[i].n) break;
            pick[i] = 0;
        }
    }

    nterms = pit_oa_absorb(terms, nterms);
    if (nterms > PIT_OPENAPI_TERMS_MAX) {
        rc = PIT_ERR_TOO_LARGE;
        goto done;
    }

    for (t = 0; t < nterms; t++) {
        for (k = 0; k < terms[t].n; k++) {
            size_t l = strlen(terms[t].names[k]);

            if (n + l + 1 > PIT_OPENAPI_EXPR_MAX) {
                rc = PIT_ERR_TOO_LARGE;
                goto done;
            }
            if (k > 0) expr[n++] = '|';
            else if (t > 0) expr[n++] = ' ';
            memcpy(expr + n, terms[t].names[k], l);
            n += l;
        }
    }
    expr[n] = '\0';

done:
    if (rc != PIT_OK) expr[0] = '\0';
    free(terms);
    return rc;
}

/*
 * Reads a security requirement list sec (at the current JSON path) into
 * expr.  Returns PIT_OK or a failure set with pit_oa_fail().
 */
static pit_err_t pit_oa_security(pit_oa_load_t *ld, json_t *sec, char *expr)
{
    pit_oa_alt_t  alts[PIT_OPENAPI_ALTS_MAX];
    size_t        i, j, at, at2, nalts;
    const char   *key;
    size_t        klen;
    json_t       *req, *list, *s;
    pit_err_t     rc;

    if (!json_is_array(sec))
        return pit_oa_fail(ld, PIT_ERR_FIELD, "security must be an array");

    nalts = json_array_size(sec);
    if (nalts > PIT_OPENAPI_ALTS_MAX)
        return pit_oa_fail(ld, PIT_ERR_TOO_LARGE,
                           "more than %d security alternatives",
                           PIT_OPENAPI_ALTS_MAX);

    json_array_foreach(sec, i, req) {
        at = pit_oa_push(ld, NULL, i);
        alts[i].n = 0;

        if (!json_is_object(req))
            return pit_oa_fail(ld, PIT_ERR_FIELD,
                               "a security requirement must be an object");

        json_object_keylen_foreach(req, key, klen, list) {
            at2 = pit_oa_push_key(ld, key, klen);

            if (!json_is_array(list))
                return pit_oa_fail(ld, PIT_ERR_FIELD,
                                   "scopes must be an array of strings");

            json_array_foreach(list, j, s) {
                size_t at3 = pit_oa_push(ld, NULL, j);

                if (!json_is_string(s))
                    return pit_oa_fail(ld, PIT_ERR_FIELD,
                                       "a scope must be a string");
                if (!pit_scope_name_valid(json_string_value(s),
                                          json_string_length(s)))
                {
                    char    q[160];
                    size_t  qn = 0;

                    pit_oa_quote(q, sizeof(q), &qn, json_string_value(s),
                                 json_string_length(s));
                    return pit_oa_fail(ld, PIT_ERR_FIELD,
                                       "invalid scope name %s", q);
                }
                if (pit_oa_alt_add(&alts[i], json_string_value(s)) != 0)
                    return pit_oa_fail(ld, PIT_ERR_TOO_LARGE,
                                       "more than %d scopes in one "
                                       "requirement", PIT_OA_ALT_SCOPES_MAX);
                pit_oa_pop(ld, at3);
            }
            pit_oa_pop(ld, at2);
        }
        pit_oa_pop(ld, at);
    }

    rc = pit_oa_expr(alts, nalts, expr);
    if (rc == PIT_ERR_NOMEM) return pit_oa_fail(ld, rc, "out of memory");
    if (rc != PIT_OK)
        return pit_oa_fail(ld, rc, "security too complex to express "
                           "(more than %d all-of terms or %d bytes)",
                           PIT_OPENAPI_TERMS_MAX, PIT_OPENAPI_EXPR_MAX);
    return PIT_OK;
}

/* Returns a malloc'ed copy of s[0..len), or NULL. */
static char *pit_oa_strndup(const char *s, size_t len) {
    char *p = malloc(len + 1);

    if (p == NULL) return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* Appends a route; returns PIT_OK, PIT_ERR_TOO_LARGE or PIT_ERR_NOMEM. */
static pit_err_t pit_oa_add(pit_routes_t *rt, pit_method_t m,
    const char *tmpl, size_t tlen, const char *expr, const char *source)
{
    pit_route_t *r;

    if (rt->n >= PIT_OPENAPI_ROUTES_MAX) return PIT_ERR_TOO_LARGE;

    if (rt->n == rt->cap) {
        size_t       cap = rt->cap ? rt->cap * 2 : 64;
        pit_route_t *p = realloc(rt->routes, cap * sizeof(*p));

        if (p == NULL) return PIT_ERR_NOMEM;
        rt->routes = p;
        rt->cap = cap;
    }

    r = &rt->routes[rt->n];
    r->method = m;
    r->tmpl = pit_oa_strndup(tmpl, tlen);
    r->expr = pit_oa_strndup(expr, strlen(expr));
    r->source = pit_oa_strndup(source, strlen(source));

    if (r->tmpl == NULL || r->expr == NULL || r->source == NULL) {
        free(r->tmpl);
        free(r->expr);
        free(r->source);
        return PIT_ERR_NOMEM;
    }
    rt->n++;
    return PIT_OK;
}

/*
 * Adds the operations of one path item.  Returns PIT_OK or a failure set
 * with pit_oa_fail().
 */
static pit_err_t pit_oa_path_item(pit_oa_load_t *ld, pit_routes_t *rt,
    const char *tmpl, size_t tlen, json_t *item, json_t *root_sec)
{
    char        expr[PIT_OPENAPI_EXPR_MAX + 1];
    char        source[PIT_OA_JPATH_MAX + 256];
    const char *why;
    json_t     *op, *sec;
    size_t      at;
    pit_err_t   rc;
    int         m;

    if (pit_oa_template_check(tmpl, tlen, &why) != PIT_OK)
        return pit_oa_fail(ld, PIT_ERR_FIELD, "%s", why);
    if (!json_is_object(item))
        return pit_oa_fail(ld, PIT_ERR_FIELD, "a path item must be an object");

    /* operations there would be missed: refuse rather than deny them all */
    if (json_object_get(item, "$ref") != NULL)
        return pit_oa_fail(ld, PIT_ERR_FIELD,
                           "path item \"$ref\" is not supported");

    for (m = 0; m < PIT_METHODS; m++) {
        op = json_object_get(item, pit_method_keys[m]);
        if (op == NULL) continue;

        at = pit_oa_push(ld, pit_method_keys[m], 0);

        if (!json_is_object(op))
            return pit_oa_fail(ld, PIT_ERR_FIELD,
                               "an operation must be an object");

        sec = json_object_get(op, "security");
        expr[0] = '\0';

        if (sec != NULL) {
            size_t at2 = pit_oa_push(ld, "security", 0);

            rc = pit_oa_security(ld, sec, expr);
            if (rc != PIT_OK) return rc;
            pit_oa_pop(ld, at2);

        } else if (root_sec != NULL) {
            rc = pit_oa_security(ld, root_sec, expr);
            if (rc != PIT_OK) return rc;
        }

        snprintf(source, sizeof(source), "%s %s", ld->name, ld->jpath);

        rc = pit_oa_add(rt, (pit_method_t) m, tmpl, tlen, expr, source);
        if (rc == PIT_ERR_TOO_LARGE)
            return pit_oa_fail(ld, rc, "more than %d routes",
                               PIT_OPENAPI_ROUTES_MAX);
        if (rc != PIT_OK) return pit_oa_fail(ld, rc, "out of memory");

        pit_oa_pop(ld, at);
    }
    return PIT_OK;
}

/* Frees the routes of rt from index n0 on, and cuts it back to n0. */
static void pit_oa_truncate(pit_routes_t *rt, size_t n0) {
    size_t i;

    for (i = n0; i < rt->n; i++) {
        free(rt->routes[i].tmpl);
        free(rt->routes[i].expr);
        free(rt->routes[i].source);
    }
    rt->n = n0;
}

/* Walks a parsed document; returns PIT_OK or a failure. */
static pit_err_t pit_oa_document(pit_oa_load_t *ld, pit_routes_t *rt,
    json_t *doc)
{
    json_t      *v, *paths, *item, *root_sec;
    const char  *key;
    size_t       klen, at;
    pit_err_t    rc;

    if (!json_is_object(doc))
        return pit_oa_fail(ld, PIT_ERR_JSON, "not a JSON object");

    v = json_object_get(doc, "openapi");
    if (!json_is_string(v) || strncmp(json_string_value(v), "3.", 2) != 0) {
        at = pit_oa_push(ld, "openapi", 0);
        return pit_oa_fail(ld, PIT_ERR_FIELD,
                           "not an OpenAPI 3 document (\"openapi\": \"3.x\")");
    }

    root_sec = json_object_get(doc, "security");
    if (root_sec != NULL) {
        char expr[PIT_OPENAPI_EXPR_MAX + 1];

        at = pit_oa_push(ld, "security", 0);
        rc = pit_oa_security(ld, root_sec, expr);      /* checked once */
        if (rc != PIT_OK) return rc;
        pit_oa_pop(ld, at);
    }

    paths = json_object_get(doc, "paths");
    if (paths == NULL) return PIT_OK;

    at = pit_oa_push(ld, "paths", 0);
    if (!json_is_object(paths))
        return pit_oa_fail(ld, PIT_ERR_FIELD, "paths must be an object");

    json_object_keylen_foreach(paths, key, klen, item) {
        size_t at2;

        if (klen > 2 && key[0] == 'x' && key[1] == '-') continue;

        at2 = pit_oa_push_key(ld, key, klen);
        rc = pit_oa_path_item(ld, rt, key, klen, item, root_sec);
        if (rc != PIT_OK) return rc;
        pit_oa_pop(ld, at2);
    }
    pit_oa_pop(ld, at);
    return PIT_OK;
}

/*
 * Adds the operations of the OpenAPI 3 JSON document buf[0..len) to rt.
 * Returns PIT_OK or an error with a message in err; rt is unchanged then.
 */
pit_err_t pit_openapi_load_buffer(pit_routes_t *rt, const char *name,
    const char *buf, size_t len, char *err, size_t errcap)
{
    pit_oa_load_t  ld;
    json_error_t   jerr;
    json_t        *doc;
    size_t         n0 = rt->n;
    pit_err_t      rc;

    memset(&ld, 0, sizeof(ld));
    ld.name = name ? name : "-";
    ld.err = err;
    ld.errcap = errcap;
    ld.jpath[0] = '$';
    ld.jlen = 1;
    if (err != NULL && errcap > 0) err[0] = '\0';

    if (len > PIT_OPENAPI_FILE_MAX)
        return pit_oa_fail(&ld, PIT_ERR_TOO_LARGE, "larger than %d bytes",
                           PIT_OPENAPI_FILE_MAX);

    doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        return pit_oa_fail(&ld, PIT_ERR_JSON,
                           "invalid JSON at line %d, column %d: %s",
                           jerr.line, jerr.column, jerr.text);

    rc = pit_oa_document(&ld, rt, doc);
    json_decref(doc);

    if (rc != PIT_OK) pit_oa_truncate(rt, n0);
    return rc;
}

/* As pit_openapi_load_buffer(), reading file. */
pit_err_t pit_openapi_load_file(pit_routes_t *rt, const char *file,
    char *err, size_t errcap)
{
    FILE       *f;
    char       *buf;
    size_t      len = 0, cap = 65536, got;
    pit_err_t   rc;

    f = fopen(file, "rb");
    if (f == NULL) {
        if (err != NULL && errcap > 0)
            snprintf(err, errcap, "%s: %s", file, strerror(errno));
        return PIT_ERR_IO;
    }

    buf = malloc(cap);
    while (buf != NULL) {
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap) break;
        if (cap > PIT_OPENAPI_FILE_MAX) break;
        {
            char *p = realloc(buf, cap * 2);

            if (p == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }

    if (buf == NULL || ferror(f)) {
        if (err != NULL && errcap > 0)
            snprintf(err, errcap, "%s: %s", file,
                     buf == NULL ? "out of memory" : "read error");
        free(buf);
        fclose(f);
        return buf == NULL ? PIT_ERR_NOMEM : PIT_ERR_IO;
    }
    fclose(f);

    rc = pit_openapi_load_buffer(rt, file, buf, len, err, errcap);
    free(buf);
    return rc;
}

/* -----------------------------------------------------------------------------
 * Route lists
 * -------------------------------------------------------------------------- */

/* Empties rt. */
void pit_routes_init(pit_routes_t *rt) {
    rt->n = 0;
    rt->cap = 0;
    rt->routes = NULL;
}

/* Frees what rt holds and empties it. */
void pit_routes_free(pit_routes_t *rt) {
    pit_oa_truncate(rt, 0);
    free(rt->routes);
    pit_routes_init(rt);
}

/* Orders routes by template, then method. */
static int pit_oa_route_cmp(const void *a, const void *b) {
    const pit_route_t *x = a, *y = b;
    int r = strcmp(x->tmpl, y->tmpl);

    if (r != 0) return r;
    return (int) x->method - (int) y->method;
}

/* Sorts rt by template, then method. */
void pit_routes_sort(pit_routes_t *rt) {
    if (rt->n > 1)
        qsort(rt->routes, rt->n, sizeof(rt->routes[0]), pit_oa_route_cmp);
}

/* -----------------------------------------------------------------------------
 * The trie
 * -------------------------------------------------------------------------- */

/* A flattened node: literal children are edges[first .. first + nlit). */
typedef struct {
    uint32_t  first;
    uint32_t  nlit;
    uint32_t  param;                    /* parameter child; 0 = none */
    int32_t   ops[PIT_METHODS];         /* route index per method; -1 */
} pit_trie_node_t;

typedef struct {
    const char  *label;                 /* a literal segment */
    uint32_t     len;
    uint32_t     child;                 /* node index */
} pit_trie_edge_t;

struct pit_trie_s {
    size_t                  nroutes;
    const pit_route_t      *routes;
    const pit_trie_edge_t  *edges;
    const pit_trie_node_t  *nodes;      /* nodes[0] is the root */
};

/* A node while building, malloc'ed. */
typedef struct pit_tnode_s  pit_tnode_t;

struct pit_tnode_s {
    size_t        route;                /* the label is in routes[route] */
    size_t        off;                  /*   .tmpl + off */
    size_t        len;
    pit_tnode_t  *kids;                 /* literal children, sorted */
    pit_tnode_t  *next;                 /* next sibling */
    pit_tnode_t  *param;
    int32_t       ops[PIT_METHODS];
};

/* What a build works with. */
typedef struct {
    const pit_routes_t  *rt;
    size_t               nnodes;
    size_t               nedges;
    pit_trie_node_t     *nodes;         /* the flat arrays, when filling */
    pit_trie_edge_t     *edges;
    pit_route_t         *routes;
    size_t               next_node;
    size_t               next_edge;
} pit_tbuild_t;

/* Orders labels by length, then bytes: a cheap compare for a search. */
static int pit_trie_label_cmp(const char *a, size_t alen, const char *b,
    size_t blen)
{
    if (alen != blen) return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

/* Returns a new empty build node, or NULL. */
static pit_tnode_t *pit_tnode_new(size_t route, size_t off, size_t len) {
    pit_tnode_t *n = calloc(1, sizeof(*n));
    int m;

    if (n == NULL) return NULL;
    n->route = route;
    n->off = off;
    n->len = len;
    for (m = 0; m < PIT_METHODS; m++) n->ops[m] = -1;
    return n;
}

/* Frees a build node and everything under it. */
static void pit_tnode_free(pit_tnode_t *n) {
    while (n != NULL) {
        pit_tnode_t *next = n->next;

        pit_tnode_free(n->kids);
        pit_tnode_free(n->param);
        free(n);
        n = next;
    }
}

/* Returns the literal child labelled l[0..len), added if new, or NULL. */
static pit_tnode_t *pit_tnode_kid(pit_tbuild_t *b, pit_tnode_t *n,
    size_t route, size_t off, size_t len)
{
    const char   *l = b->rt->routes[route].tmpl + off;
    pit_tnode_t **pp, *k;

    for (pp = &n->kids; *pp != NULL; pp = &(*pp)->next) {
        int r = pit_trie_label_cmp(b->rt->routes[(*pp)->route].tmpl
                                   + (*pp)->off, (*pp)->len, l, len);

        if (r == 0) return *pp;
        if (r > 0) break;
    }

    k = pit_tnode_new(route, off, len);
    if (k == NULL) return NULL;
    k->next = *pp;
    *pp = k;
    b->nnodes++;
    b->nedges++;
    return k;
}

/*
 * Inserts route i under root.  Returns PIT_OK, PIT_ERR_NOMEM, or
 * PIT_ERR_CONFLICT with *other set to the route it collides with.
 */
static pit_err_t pit_trie_insert(pit_tbuild_t *b, pit_tnode_t *root,
    size_t i, size_t *other)
{
    const pit_route_t  *r = &b->rt->routes[i];
    const char         *t = r->tmpl;
    size_t              len = strlen(t), p = 1, start;
    pit_tnode_t        *n = root;

    if (len > 1 && t[len - 1] == '/') len--;

    while (p < len) {
        start = p;
        while (p < len && t[p] != '/') p++;

        if (t[start] == '{') {
            if (n->param == NULL) {
                n->param = pit_tnode_new(i, start, p - start);
                if (n->param == NULL) return PIT_ERR_NOMEM;
                b->nnodes++;
            }
            n = n->param;
        } else {
            n = pit_tnode_kid(b, n, i, start, p - start);
            if (n == NULL) return PIT_ERR_NOMEM;
        }
        p++;
    }

    if (n->ops[r->method] >= 0) {
        *other = (size_t) n->ops[r->method];
        return PIT_ERR_CONFLICT;
    }
    n->ops[r->method] = (int32_t) i;
    return PIT_OK;
}

/* Copies a build node and its subtree into the flat arrays; returns its id. */
static uint32_t pit_trie_fill(pit_tbuild_t *b, const pit_tnode_t *n) {
    uint32_t        id = (uint32_t) b->next_node++, first, j = 0;
    pit_tnode_t    *k;
    int             m;

    for (k = n->kids; k != NULL; k = k->next) j++;
    first = (uint32_t) b->next_edge;
    b->next_edge += j;

    b->nodes[id].first = first;
    b->nodes[id].nlit = j;
    for (m = 0; m < PIT_METHODS; m++) b->nodes[id].ops[m] = n->ops[m];

    for (j = 0, k = n->kids; k != NULL; k = k->next, j++) {
        pit_trie_edge_t *e = &b->edges[first + j];

        e->label = b->routes[k->route].tmpl + k->off;
        e->len = (uint32_t) k->len;
        e->child = pit_trie_fill(b, k);
    }

    b->nodes[id].param = n->param ? pit_trie_fill(b, n->param) : 0;
    return id;
}

/* Rounds n up to a multiple of 16. */
static size_t pit_oa_align(size_t n) {
    return (n + 15) & ~(size_t) 15;
}

/*
 * Builds the trie of rt into one block from alloc.  Returns PIT_OK with
 * *out set, PIT_ERR_CONFLICT (both sources in err) or PIT_ERR_NOMEM.
 */
pit_err_t pit_trie_build(const pit_routes_t *rt, pit_alloc_pt alloc,
    void *alloc_ctx, pit_trie_t **out, char *err, size_t errcap)
{
    pit_tbuild_t   b;
    pit_tnode_t   *root;
    pit_trie_t    *t;
    size_t         i, other = 0, strs = 0, size, n = 0;
    char          *block, *s;
    pit_err_t      rc = PIT_OK;

    if (err != NULL && errcap > 0) err[0] = '\0';

    memset(&b, 0, sizeof(b));
    b.rt = rt;
    b.nnodes = 1;

    root = pit_tnode_new(0, 0, 0);
    if (root == NULL) return PIT_ERR_NOMEM;

    for (i = 0; i < rt->n; i++) {
        rc = pit_trie_insert(&b, root, i, &other);
        if (rc == PIT_ERR_CONFLICT) {
            const pit_route_t *x = &rt->routes[other], *y = &rt->routes[i];

            if (err != NULL && errcap > 0) {
                pit_oa_append(err, errcap, &n, "conflicting routes: %s %s "
                              "(%s) and %s %s (%s)",
                              pit_method_name(x->method), x->tmpl, x->source,
                              pit_method_name(y->method), y->tmpl,
                              y->source);
            }
        }
        if (rc != PIT_OK) goto done;

        strs += strlen(rt->routes[i].tmpl) + strlen(rt->routes[i].expr)
                + strlen(rt->routes[i].source) + 3;
    }

    size = pit_oa_align(sizeof(pit_trie_t))
           + pit_oa_align(rt->n * sizeof(pit_route_t))
           + pit_oa_align(b.nedges * sizeof(pit_trie_edge_t))
           + pit_oa_align(b.nnodes * sizeof(pit_trie_node_t))
           + strs;

    block = alloc(alloc_ctx, size);
    if (block == NULL) {
        rc = PIT_ERR_NOMEM;
        goto done;
    }

    t = (pit_trie_t *) block;
    block += pit_oa_align(sizeof(pit_trie_t));
    b.routes = (pit_route_t *) block;
    block += pit_oa_align(rt->n * sizeof(pit_route_t));
    b.edges = (pit_trie_edge_t *) block;
    block += pit_oa_align(b.nedges * sizeof(pit_trie_edge_t));
    b.nodes = (pit_trie_node_t *) block;
    block += pit_oa_align(b.nnodes * sizeof(pit_trie_node_t));
    s = block;

    for (i = 0; i < rt->n; i++) {
        const pit_route_t *r = &rt->routes[i];
        size_t l;

        b.routes[i].method = r->method;

        l = strlen(r->tmpl) + 1;
        b.routes[i].tmpl = memcpy(s, r->tmpl, l);
        s += l;
        l = strlen(r->expr) + 1;
        b.routes[i].expr = memcpy(s, r->expr, l);
        s += l;
        l = strlen(r->source) + 1;
        b.routes[i].source = memcpy(s, r->source, l);
        s += l;
    }

    (void) pit_trie_fill(&b, root);

    t->nroutes = rt->n;
    t->routes = b.routes;
    t->edges = b.edges;
    t->nodes = b.nodes;
    *out = t;

done:
    pit_tnode_free(root);
    return rc;
}

/* Returns 1 if a[0..len) equals b[0..len) ignoring ASCII case, else 0. */
static int pit_trie_equal_nocase(const char *a, const char *b, size_t len) {
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char x = (unsigned char) a[i], y = (unsigned char) b[i];

        if (x >= 'A' && x <= 'Z') x = (unsigned char) (x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (unsigned char) (y - 'A' + 'a');
        if (x != y) return 0;
    }
    return 1;
}

/*
 * Returns the route index for the segments in p[0..end) (p is at a '/' or
 * at end) under node id, or -1.  Literal children are tried before the
 * parameter child: the exact-case one (binary search), then, when folded,
 * every other literal of the same length equal ignoring ASCII case.  The
 * trie is a tree, so every node is visited at most once per match.
 */
static int32_t pit_trie_walk(const pit_trie_t *t, uint32_t id,
    const char *p, const char *end, int m, int folded)
{
    const pit_trie_node_t  *n = &t->nodes[id];
    const char             *s, *q;
    size_t                  len, lo, hi, i, exact = SIZE_MAX;
    int32_t                 r;

    if (p == end) {
        r = n->ops[m];
        if (r < 0 && m == PIT_METHOD_HEAD) r = n->ops[PIT_METHOD_GET];
        return r;
    }

    s = p + 1;
    q = memchr(s, '/', (size_t) (end - s));
    if (q == NULL) q = end;
    len = (size_t) (q - s);
    if (len == 0) return -1;                    /* "//": no segment */

    lo = n->first;
    hi = (size_t) n->first + n->nlit;
    while (lo < hi) {
        size_t                  mid = lo + (hi - lo) / 2;
        const pit_trie_edge_t  *e = &t->edges[mid];
        int                     c = pit_trie_label_cmp(e->label, e->len, s,
                                                       len);

        if (c == 0) {
            exact = mid;
            r = pit_trie_walk(t, e->child, q, end, m, folded);
            if (r >= 0) return r;
            break;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }

    /* labels are sorted by length first: same-length ones are adjacent */
    for (i = n->first; folded && i < (size_t) n->first + n->nlit; i++) {
        const pit_trie_edge_t *e = &t->edges[i];

        if (e->len > len) break;
        if (i == exact || e->len != len
            || !pit_trie_equal_nocase(e->label, s, len))
        {
            continue;
        }
        r = pit_trie_walk(t, e->child, q, end, m, folded);
        if (r >= 0) return r;
    }

    if (n->param != 0) return pit_trie_walk(t, n->param, q, end, m, folded);
    return -1;
}

/*
 * Returns the route for method[0..mlen) and path[0..plen), or NULL;
 * folded ignores ASCII case in both.
 */
static const pit_route_t *pit_trie_find(const pit_trie_t *trie,
    const char *method, size_t mlen, const char *path, size_t plen,
    int folded)
{
    char     up[8];
    size_t   i;
    int      m;
    int32_t  r;

    if (trie == NULL) return NULL;
    if (folded && method != NULL && mlen < sizeof(up)) {
        for (i = 0; i < mlen; i++) {
            char c = method[i];

            up[i] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
        }
        method = up;
    }
    m = pit_method_from_name(method, mlen);
    if (m < 0) return NULL;

    /* one trailing slash is not significant: "/" is the root, "//" not */
    if (plen > 0 && path[plen - 1] == '/') plen--;
    if (plen > 0 && path[0] != '/') return NULL;

    r = pit_trie_walk(trie, 0, path, path + plen, m, folded);
    return r < 0 ? NULL : &trie->routes[r];
}

/* Returns the route for a method and a normalized path, or NULL. */
const pit_route_t *pit_trie_match(const pit_trie_t *trie, const char *method,
    size_t mlen, const char *path, size_t plen)
{
    return pit_trie_find(trie, method, mlen, path, plen, 0);
}

/* Returns the route for a method and a path ignoring ASCII case, or NULL. */
const pit_route_t *pit_trie_match_folded(const pit_trie_t *trie,
    const char *method, size_t mlen, const char *path, size_t plen)
{
    return pit_trie_find(trie, method, mlen, path, plen, 1);
}

/* Returns the routes held by trie; *n receives how many. */
const pit_route_t *pit_trie_routes(const pit_trie_t *trie, size_t *n) {
    *n = trie ? trie->nroutes : 0;
    return trie ? trie->routes : NULL;
}
