
/*
 * pit-auth: the headers the module edits.
 *
 * Client-sent X-Pit-* headers (and Authorization, with pit_auth_hide_token)
 * are unlinked from the request's header list, which every upstream module
 * walks, and the annotation headers are pushed in their place; the
 * Authorization headers of a request are counted here, and the headers
 * the module adds to a response (WWW-Authenticate, Retry-After, Sunset)
 * made.  nginx 1.22 keeps repeated request headers in arrays, 1.23 and
 * later chain them through ngx_table_elt_t.next: moving headers follows
 * whichever ngx_http_pit_auth_compat.h says this nginx has.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pit_auth_compat.h"
#include "ngx_http_pit_auth_headers.h"


static ngx_int_t ngx_http_pit_auth_move_run(ngx_http_request_t *r,
    ngx_list_part_t *run);
static ngx_int_t ngx_http_pit_auth_is_array(ngx_uint_t offset);
#if (NGX_HTTP_PIT_AUTH_HEADER_CHAINS)
static void ngx_http_pit_auth_relink(ngx_list_part_t *part,
    ngx_table_elt_t *from, ngx_table_elt_t *to, ngx_uint_t n);
#endif
static ngx_int_t ngx_http_pit_auth_header_matches(ngx_table_elt_t *h,
    ngx_uint_t authorization);


/* Constant names: no copy to lowercase, no hash per request. */

ngx_int_t
ngx_http_pit_auth_push_annotation(ngx_list_t *list,
    ngx_http_pit_auth_header_t *hd, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(list);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = hd->name;
    h->lowcase_key = hd->lowcase;
    h->hash = hd->hash;
    h->value = *value;
    ngx_http_pit_auth_header_unchained(h);

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_pit_auth_push_header(ngx_list_t *list, ngx_pool_t *pool, char *name,
    ngx_str_t *value)
{
    size_t            len;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);

    h = ngx_list_push(list);
    if (h == NULL) {
        return NULL;
    }

    h->lowcase_key = ngx_pnalloc(pool, len);
    if (h->lowcase_key == NULL) {
        return NULL;
    }

    h->key.data = (u_char *) name;
    h->key.len = len;
    h->value = *value;
    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, len);
    ngx_http_pit_auth_header_unchained(h);

    return h;
}


/*
 * Unlinks client-sent X-Pit-* headers (and Authorization if asked) from
 * the request's header list, which every upstream module walks.  Marking
 * them with hash 0 is not enough: proxy_pass sends such entries anyway.
 * The list is re-chained around the removed elements, which stay where
 * they are, so that headers_in pointers into it remain valid; only the
 * last run moves, into memory of its own that ngx_list_push() can extend.
 */

ngx_int_t
ngx_http_pit_auth_remove_headers(ngx_http_request_t *r,
    ngx_uint_t authorization)
{
    ngx_uint_t        i, start, found;
    ngx_list_t       *list;
    ngx_list_part_t   head, *part, *last, *p;
    ngx_table_elt_t  *h;
#if (NGX_HTTP_PIT_AUTH_HEADER_CHAINS)
    ngx_table_elt_t  *from;
#endif

    list = &r->headers_in.headers;

    /*
     * a subrequest's list is a copy of its parent's: its last part is
     * shared, and our annotations must not be pushed into the parent's
     */

    found = (r != r->main);

    for (part = &list->part; part && !found; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (ngx_http_pit_auth_header_matches(&h[i], authorization)) {
                found = 1;
                break;
            }
        }
    }

    if (!found) {
        return NGX_OK;
    }

    head.next = NULL;
    head.nelts = 0;
    last = &head;

    for (part = &list->part; part; part = part->next) {
        h = part->elts;
        start = 0;

        for (i = 0; i <= part->nelts; i++) {

            if (i < part->nelts
                && !ngx_http_pit_auth_header_matches(&h[i], authorization))
            {
                continue;
            }

            if (i > start) {
                p = ngx_palloc(r->pool, sizeof(ngx_list_part_t));
                if (p == NULL) {
                    return NGX_ERROR;
                }

                p->elts = &h[start];
                p->nelts = i - start;
                p->next = NULL;

                last->next = p;
                last = p;
            }

            start = i + 1;
        }
    }

#if (NGX_HTTP_PIT_AUTH_HEADER_CHAINS)
    from = last->elts;
#endif

    if (ngx_http_pit_auth_move_run(r, last) != NGX_OK) {
        return NGX_ERROR;
    }

#if (NGX_HTTP_PIT_AUTH_HEADER_CHAINS)
    ngx_http_pit_auth_relink(head.next ? head.next : last, from, last->elts,
                             last->nelts);
#endif

    if (head.next == NULL) {

        /* nothing kept: an empty first part is what ngx_list_init() makes */

        list->part = *last;
        list->last = &list->part;
        return NGX_OK;
    }

    list->part = *head.next;
    list->last = (head.next == last) ? &list->part : last;

    return NGX_OK;
}


/* Moves a run into fresh memory, re-pointing headers_in at the copies. */

static ngx_int_t
ngx_http_pit_auth_move_run(ngx_http_request_t *r, ngx_list_part_t *run)
{
    ngx_uint_t                  i, k;
    ngx_list_t                 *list;
    ngx_array_t                *a;
    ngx_table_elt_t            *elts, *from, **ph;
    ngx_http_header_t          *hh;
    ngx_http_core_main_conf_t  *cmcf;

    list = &r->headers_in.headers;

    elts = ngx_palloc(r->pool, list->nalloc * list->size);
    if (elts == NULL) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    from = run->elts;

    for (i = 0; i < run->nelts; i++) {
        elts[i] = from[i];

        /* only the header's own field can point to it, as nginx set it */

        hh = ngx_hash_find(&cmcf->headers_in_hash, from[i].hash,
                           from[i].lowcase_key, from[i].key.len);

        if (hh == NULL || hh->offset == 0) {
            continue;
        }

        if (ngx_http_pit_auth_is_array(hh->offset)) {
            a = (ngx_array_t *) ((u_char *) &r->headers_in + hh->offset);
            ph = a->elts;

            for (k = 0; k < a->nelts; k++) {
                if (ph[k] == &from[i]) {
                    ph[k] = &elts[i];
                }
            }

            continue;
        }

        ph = (ngx_table_elt_t **) ((u_char *) &r->headers_in + hh->offset);

        if (*ph == &from[i]) {
            *ph = &elts[i];
        }
    }

    run->elts = elts;

    return NGX_OK;
}


#if (NGX_HTTP_PIT_AUTH_HEADER_CHAINS)

/*
 * Headers of one name are chained through next (Cookie, X-Forwarded-For):
 * a link into the moved run, from the run itself or from a part before
 * it, must lead to the copy.
 */

static void
ngx_http_pit_auth_relink(ngx_list_part_t *part, ngx_table_elt_t *from,
    ngx_table_elt_t *to, ngx_uint_t n)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    for ( /* void */ ; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].next >= from && h[i].next < from + n) {
                h[i].next = to + (h[i].next - from);
            }
        }
    }
}


static ngx_int_t
ngx_http_pit_auth_is_array(ngx_uint_t offset)
{
    return 0;
}

#else

/* Returns 1 for the headers_in fields that are arrays of pointers. */

static ngx_int_t
ngx_http_pit_auth_is_array(ngx_uint_t offset)
{
#if (NGX_HTTP_X_FORWARDED_FOR)
    if (offset == offsetof(ngx_http_headers_in_t, x_forwarded_for)) {
        return 1;
    }
#endif

    return offset == offsetof(ngx_http_headers_in_t, cookies);
}

#endif


static ngx_int_t
ngx_http_pit_auth_header_matches(ngx_table_elt_t *h, ngx_uint_t authorization)
{
    u_char  *k;

    /*
     * lowercased by nginx; most headers differ at the first byte.  "_"
     * counts as "-": with underscores_in_headers (or ignore_invalid_headers
     * off) X_Pit_Account_Id arrives, and $http_x_pit_account_id, CGI and
     * WSGI read it as X-Pit-Account-Id.
     */

    k = h->lowcase_key;

    if (h->key.len >= 6
        && k[0] == 'x' && (k[1] == '-' || k[1] == '_')
        && k[2] == 'p' && k[3] == 'i' && k[4] == 't'
        && (k[5] == '-' || k[5] == '_'))
    {
        return 1;
    }

    return authorization
           && h->key.len == sizeof("authorization") - 1
           && ngx_memcmp(k, "authorization",
                         sizeof("authorization") - 1) == 0;
}


ngx_uint_t
ngx_http_pit_auth_count_authorization(ngx_http_request_t *r)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            n += ngx_http_pit_auth_header_matches(&h[i], 1)
                 && h[i].key.len == sizeof("Authorization") - 1;
        }
    }

    return n;
}
