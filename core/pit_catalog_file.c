/*
 * pit-auth core: scope catalogues read from files (see pit_catalog_file.h).
 *
 * The list is kept sorted as it grows (insertion by binary search), so a
 * lookup is a binary search and a file's order does not matter.  Every
 * string is the list's own copy; the caller frees the whole list at once.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pit_catalog_file.h"
#include "pit_record.h"
#include "pit_scope.h"

/* =============================================================================
 * The list
 * ==========================================================================*/

void pit_catalog_list_init(pit_catalog_list_t *cl) {
    cl->n = 0;
    cl->cap = 0;
    cl->entries = NULL;
}


void pit_catalog_list_free(pit_catalog_list_t *cl) {
    size_t  i;

    if (cl == NULL) {
        return;
    }

    for (i = 0; i < cl->n; i++) {
        free((char *) cl->entries[i].name);
        free((char *) cl->entries[i].label);
        free((char *) cl->entries[i].access);
    }

    free(cl->entries);
    pit_catalog_list_init(cl);
}


/* Returns the index where s[0..len) is or would be; *found says which. */
static size_t pit_catalog_list_slot(const pit_catalog_list_t *cl,
    const char *s, size_t len, int *found)
{
    size_t  lo, hi, mid, ml;
    int     c;

    lo = 0;
    hi = cl->n;
    *found = 0;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        ml = strlen(cl->entries[mid].name);
        c = memcmp(cl->entries[mid].name, s, ml < len ? ml : len);
        if (c == 0) {
            c = ml < len ? -1 : ml > len ? 1 : 0;
        }
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return lo;
}


/* Returns a malloc'ed copy of s[0..len) with a NUL, or NULL. */
static char *pit_catalog_strndup(const char *s, size_t len) {
    char  *p;

    p = malloc(len + 1);
    if (p != NULL) {
        if (len) {
            memcpy(p, s, len);
        }
        p[len] = '\0';
    }

    return p;
}


pit_err_t pit_catalog_list_add(pit_catalog_list_t *cl, const char *name,
    size_t nlen, const char *label, size_t llen, const char *access)
{
    pit_catalog_entry_t  *grown, e;
    size_t                at, cap;
    int                   found;

    if (cl == NULL || name == NULL) {
        return PIT_ERR_ARG;
    }

    if (!pit_scope_name_valid(name, nlen)) {
        return PIT_ERR_SCOPE_INVALID;
    }

    if (label == NULL) {
        label = "";
        llen = 0;
    }

    if (llen > PIT_CATALOG_LABEL_MAX
        || memchr(label, '\0', llen) != NULL
        || pit_description_validate(label, llen) != PIT_OK)
    {
        return PIT_ERR_TEXT;
    }

    at = pit_catalog_list_slot(cl, name, nlen, &found);
    if (found) {
        return PIT_ERR_DUPLICATE;
    }

    if (cl->n == PIT_CATALOG_SCOPES_MAX) {
        return PIT_ERR_TOO_LARGE;
    }

    if (cl->n == cl->cap) {
        cap = cl->cap ? 2 * cl->cap : 64;
        grown = realloc(cl->entries, cap * sizeof(pit_catalog_entry_t));
        if (grown == NULL) {
            return PIT_ERR_NOMEM;
        }
        cl->entries = grown;
        cl->cap = cap;
    }

    e.name = pit_catalog_strndup(name, nlen);
    e.label = pit_catalog_strndup(label, llen);
    e.access = pit_catalog_strndup(access ? access : "",
                                   access ? strlen(access) : 0);

    if (e.name == NULL || e.label == NULL || e.access == NULL) {
        free((char *) e.name);
        free((char *) e.label);
        free((char *) e.access);
        return PIT_ERR_NOMEM;
    }

    memmove(&cl->entries[at + 1], &cl->entries[at],
            (cl->n - at) * sizeof(pit_catalog_entry_t));
    cl->entries[at] = e;
    cl->n++;

    return PIT_OK;
}


pit_err_t pit_catalog_list_remove(pit_catalog_list_t *cl, const char *name,
    size_t nlen)
{
    size_t  at;
    int     found;

    at = pit_catalog_list_slot(cl, name, nlen, &found);
    if (!found) {
        return PIT_ERR_NOT_FOUND;
    }

    free((char *) cl->entries[at].name);
    free((char *) cl->entries[at].label);
    free((char *) cl->entries[at].access);

    memmove(&cl->entries[at], &cl->entries[at + 1],
            (cl->n - at - 1) * sizeof(pit_catalog_entry_t));
    cl->n--;

    return PIT_OK;
}


const pit_catalog_entry_t *pit_catalog_list_find(const pit_catalog_list_t *cl,
    const char *s, size_t len)
{
    size_t  at;
    int     found;

    if (cl == NULL || s == NULL) {
        return NULL;
    }

    at = pit_catalog_list_slot(cl, s, len, &found);
    return found ? &cl->entries[at] : NULL;
}


pit_err_t pit_catalog_list_builtin(pit_catalog_list_t *cl) {
    const pit_catalog_entry_t  *cat;
    size_t                      i, n;
    pit_err_t                   rc;

    pit_catalog_list_free(cl);
    cat = pit_catalog(&n);

    for (i = 0; i < n; i++) {
        rc = pit_catalog_list_add(cl, cat[i].name, strlen(cat[i].name),
                                  cat[i].label, strlen(cat[i].label),
                                  cat[i].access);
        if (rc != PIT_OK) {
            pit_catalog_list_free(cl);
            return rc;
        }
    }

    return PIT_OK;
}


/* =============================================================================
 * Parsing
 * ==========================================================================*/

static void pit_catalog_err(char *err, size_t errcap, const char *fmt, ...) {
    va_list  ap;

    if (err == NULL || errcap == 0) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}


/* Returns what went wrong adding an entry, for a message. */
static const char *pit_catalog_why(pit_err_t rc) {
    switch (rc) {
    case PIT_ERR_SCOPE_INVALID:
        return "invalid scope name";
    case PIT_ERR_TEXT:
        return "label is not text of at most 200 bytes";
    case PIT_ERR_DUPLICATE:
        return "scope listed twice";
    case PIT_ERR_TOO_LARGE:
        return "more than 1024 scopes";
    default:
        return pit_strerror(rc);
    }
}


/* Adds one entry, reporting a failure as "<name><where>: <why> "<scope>"". */
static pit_err_t pit_catalog_add_at(pit_catalog_list_t *cl, const char *name,
    const char *where, const char *s, size_t slen, const char *l, size_t llen,
    char *err, size_t errcap)
{
    pit_err_t  rc;

    rc = pit_catalog_list_add(cl, s, slen, l, llen, NULL);
    if (rc != PIT_OK) {
        pit_catalog_err(err, errcap, "%s%s: %s \"%.*s\"", name, where,
                        pit_catalog_why(rc),
                        (int) (slen > 80 ? 80 : slen), s);
    }

    return rc;
}


/* Reads the JSON forms: a list of entries or an object name -> label. */
static pit_err_t pit_catalog_parse_json(pit_catalog_list_t *cl,
    const char *name, const char *buf, size_t len, char *err, size_t errcap)
{
    json_error_t  jerr;
    json_t       *root, *v, *n, *l;
    const char   *key;
    char          where[64];
    size_t        i;
    pit_err_t     rc;

    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        pit_catalog_err(err, errcap, "%s:%d:%d: %s", name, jerr.line,
                        jerr.column, jerr.text);
        return PIT_ERR_JSON;
    }

    rc = PIT_OK;

    if (json_is_object(root)) {
        json_object_foreach(root, key, v) {
            if (!json_is_string(v)) {
                pit_catalog_err(err, errcap, "%s: \"%.80s\": the label is "
                                "not a string", name, key);
                rc = PIT_ERR_FIELD;
                break;
            }

            rc = pit_catalog_add_at(cl, name, "", key, strlen(key),
                                    json_string_value(v),
                                    json_string_length(v), err, errcap);
            if (rc != PIT_OK) {
                break;
            }
        }

    } else if (json_is_array(root)) {
        json_array_foreach(root, i, v) {
            snprintf(where, sizeof(where), ": entry %zu", i + 1);

            if (json_is_string(v)) {
                n = v;
                l = NULL;

            } else if (json_is_object(v)) {
                n = json_object_get(v, "name");
                l = json_object_get(v, "label");

            } else {
                n = l = NULL;
            }

            if (!json_is_string(n) || (l != NULL && !json_is_null(l)
                                       && !json_is_string(l)))
            {
                pit_catalog_err(err, errcap, "%s%s: expected \"name\" or "
                                "{\"name\": ..., \"label\": ...}", name,
                                where);
                rc = PIT_ERR_FIELD;
                break;
            }

            rc = pit_catalog_add_at(cl, name, where, json_string_value(n),
                                    json_string_length(n),
                                    json_is_string(l) ? json_string_value(l)
                                                      : NULL,
                                    json_is_string(l) ? json_string_length(l)
                                                      : 0,
                                    err, errcap);
            if (rc != PIT_OK) {
                break;
            }
        }

    } else {
        pit_catalog_err(err, errcap, "%s: expected a JSON list or object",
                        name);
        rc = PIT_ERR_JSON;
    }

    json_decref(root);
    return rc;
}


/* Reads the text form: "name<blanks>label" per line. */
static pit_err_t pit_catalog_parse_text(pit_catalog_list_t *cl,
    const char *name, const char *buf, size_t len, char *err, size_t errcap)
{
    const char  *p, *end, *eol, *s, *ne, *l, *le;
    char         where[32];
    size_t       line;
    pit_err_t    rc;

    p = buf;
    end = buf + len;
    line = 0;

    while (p < end) {
        line++;
        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL) {
            eol = end;
        }

        /* the line without its end and trailing blanks */
        le = eol;
        while (le > p && (le[-1] == '\r' || le[-1] == ' '
                          || le[-1] == '\t'))
        {
            le--;
        }

        s = p;
        while (s < le && (*s == ' ' || *s == '\t')) {
            s++;
        }

        p = eol + 1;

        if (s == le || *s == '#') {
            continue;
        }

        ne = s;
        while (ne < le && *ne != ' ' && *ne != '\t') {
            ne++;
        }

        l = ne;
        while (l < le && (*l == ' ' || *l == '\t')) {
            l++;
        }

        snprintf(where, sizeof(where), ":%zu", line);

        rc = pit_catalog_add_at(cl, name, where, s, (size_t) (ne - s), l,
                                (size_t) (le - l), err, errcap);
        if (rc != PIT_OK) {
            return rc;
        }
    }

    return PIT_OK;
}


pit_err_t pit_catalog_list_parse(pit_catalog_list_t *cl, const char *name,
    const char *buf, size_t len, char *err, size_t errcap)
{
    size_t     i;
    pit_err_t  rc;

    if (cl == NULL || buf == NULL) {
        return PIT_ERR_ARG;
    }

    if (name == NULL) {
        name = "catalogue";
    }

    pit_catalog_list_free(cl);

    if (len > PIT_CATALOG_FILE_MAX) {
        pit_catalog_err(err, errcap, "%s: larger than %d bytes", name,
                        PIT_CATALOG_FILE_MAX);
        return PIT_ERR_TOO_LARGE;
    }

    if (memchr(buf, '\0', len) != NULL) {
        pit_catalog_err(err, errcap, "%s: holds a NUL byte", name);
        return PIT_ERR_TEXT;
    }

    i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'
                       || buf[i] == '\n'))
    {
        i++;
    }

    if (i < len && (buf[i] == '[' || buf[i] == '{')) {
        rc = pit_catalog_parse_json(cl, name, buf, len, err, errcap);

    } else {
        rc = pit_catalog_parse_text(cl, name, buf, len, err, errcap);
    }

    if (rc == PIT_OK && cl->n == 0) {
        pit_catalog_err(err, errcap, "%s: lists no scope", name);
        rc = PIT_ERR_FIELD;
    }

    if (rc != PIT_OK) {
        pit_catalog_list_free(cl);
    }

    return rc;
}


pit_err_t pit_catalog_load_file(pit_catalog_list_t *cl, const char *file,
    char *err, size_t errcap)
{
    FILE       *f;
    char       *buf;
    size_t      len;
    pit_err_t   rc;

    if (cl == NULL || file == NULL) {
        return PIT_ERR_ARG;
    }

    pit_catalog_list_free(cl);

    f = fopen(file, "rb");
    if (f == NULL) {
        pit_catalog_err(err, errcap, "%s: %s", file, strerror(errno));
        return PIT_ERR_IO;
    }

    /* one byte more than allowed tells a file that is too large */
    buf = malloc(PIT_CATALOG_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        pit_catalog_err(err, errcap, "%s: out of memory", file);
        return PIT_ERR_NOMEM;
    }

    len = fread(buf, 1, PIT_CATALOG_FILE_MAX + 1, f);

    if (ferror(f)) {
        pit_catalog_err(err, errcap, "%s: read error", file);
        rc = PIT_ERR_IO;

    } else {
        rc = pit_catalog_list_parse(cl, file, buf, len, err, errcap);
    }

    fclose(f);
    free(buf);
    return rc;
}
