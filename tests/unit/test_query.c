/*
 * Unit tests for core/pit_query.c: one query parameter read the way the
 * most lenient upstream would.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pit_query.h"

#define OUTCAP  64

/* -----------------------------------------------------------------------------
 * The table: query, name -> rc, value, count
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *query;
    const char  *name;
    pit_err_t    rc;
    const char  *value;         /* for PIT_OK */
    size_t       count;         /* pit_query_count() */
} q_case_t;

static const q_case_t q_cases[] = {
    /* one parameter */
    { "locationId=A", "locationId", PIT_OK, "A", 1 },
    { "a=1&locationId=A&b=2", "locationId", PIT_OK, "A", 1 },
    { "a=1&locationId=A%20B+C", "locationId", PIT_OK, "A B C", 1 },
    { "locationId=%C3%A9t%c3%a9", "locationId", PIT_OK, "\xc3\xa9t\xc3\xa9",
      1 },
    { "locationId=a=b", "locationId", PIT_OK, "a=b", 1 },
    { "locationId=", "locationId", PIT_OK, "", 1 },
    { "locationId", "locationId", PIT_OK, "", 1 },
    { "&&locationId=A&&", "locationId", PIT_OK, "A", 1 },
    { "locationIdx=A&xlocationId=B&locationI=C", "locationId",
      PIT_ERR_NOT_FOUND, NULL, 0 },

    /* absent */
    { "", "locationId", PIT_ERR_NOT_FOUND, NULL, 0 },
    { "a=1&b=2", "locationId", PIT_ERR_NOT_FOUND, NULL, 0 },
    { "=locationId", "locationId", PIT_ERR_NOT_FOUND, NULL, 0 },
    { "&;&", "locationId", PIT_ERR_NOT_FOUND, NULL, 0 },

    /* twice, under any spelling */
    { "locationId=A&locationId=B", "locationId", PIT_ERR_DUPLICATE, NULL, 2 },
    { "locationId=A&locationId=A", "locationId", PIT_ERR_DUPLICATE, NULL, 2 },
    { "locationid=A&locationId=B", "locationId", PIT_ERR_DUPLICATE, NULL, 2 },
    { "LOCATIONID=A&locationId=B", "locationId", PIT_ERR_DUPLICATE, NULL, 2 },
    { "location%49d=B&locationId=A", "locationId", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "location%69d=B&locationId=A", "locationId", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "locationId=A;locationId=B", "locationId", PIT_ERR_DUPLICATE, NULL, 2 },
    { "locationId[]=B&locationId=A", "locationId", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "locationId%5B%5D=B&locationId=A", "locationId", PIT_ERR_DUPLICATE,
      NULL, 2 },
    { "locationId[0]=B&locationId=A", "locationId", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "locationId=A&locationId", "locationId", PIT_ERR_DUPLICATE, NULL, 2 },
    { "locationId=&locationId=", "locationId", PIT_ERR_DUPLICATE, NULL, 2 },
    { "+locationId=B&locationId=A", "locationId", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "%20%20locationId=B&locationId=A", "locationId", PIT_ERR_DUPLICATE,
      NULL, 2 },
    { "locationId%00junk=B&locationId=A", "locationId", PIT_ERR_DUPLICATE,
      NULL, 2 },

    /* one parameter, spelled otherwise: still the one */
    { "LocationID=A", "locationId", PIT_OK, "A", 1 },
    { "location%49d=A", "locationId", PIT_OK, "A", 1 },
    { "locationId[]=A", "locationId", PIT_OK, "A", 1 },
    { "+locationId=A", "locationId", PIT_OK, "A", 1 },

    /* ' ', '.', '_' are one character; so is an unclosed '[' */
    { "location.id=B&location_id=A", "location_id", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "location.Id=B&location_id=A", "location_id", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "location+id=B&location_id=A", "location_id", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "location%20id=B&location_id=A", "location_id", PIT_ERR_DUPLICATE,
      NULL, 2 },
    { "location%2eid=B&location_id=A", "location_id", PIT_ERR_DUPLICATE,
      NULL, 2 },
    { "location[id=B&location_id=A", "location_id", PIT_ERR_DUPLICATE, NULL,
      2 },
    { "location.id=A", "location_id", PIT_OK, "A", 1 },
    { "location id=A", "location_id", PIT_OK, "A", 1 },
    { "location[id]=A", "location_id", PIT_ERR_NOT_FOUND, NULL, 0 },
    { "location-id=A", "location_id", PIT_ERR_NOT_FOUND, NULL, 0 },
    { "locationid=A", "location_id", PIT_ERR_NOT_FOUND, NULL, 0 },
    { "location+Id=A", "locationId", PIT_ERR_NOT_FOUND, NULL, 0 },

    /* non-ASCII letters that Unicode case folding maps onto ASCII */
    { "locat%C4%B1onId=B&locationId=A", "locationId", PIT_ERR_DUPLICATE,
      NULL, 2 },
    { "locat%C4%B0onId=B&locationId=A", "locationId", PIT_ERR_DUPLICATE,
      NULL, 2 },
    { "%C5%BFort=B&sort=A", "sort", PIT_ERR_DUPLICATE, NULL, 2 },
    { "%E2%84%AAey=B&key=A", "key", PIT_ERR_DUPLICATE, NULL, 2 },
    { "%E2%84%ABey=B&key=A", "key", PIT_OK, "A", 1 },
    { "locat%C3%AConId=B&locationId=A", "locationId", PIT_OK, "A", 1 },

    /* names that do not decode */
    { "%zz=1&locationId=A", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A&a%=1", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A&a%4=1", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "location%zzId=A", "locationId", PIT_ERR_ENCODING, NULL, 0 },
    { "locationId%=A", "locationId", PIT_ERR_ENCODING, NULL, 0 },
    { "%zz=1", "locationId", PIT_ERR_ENCODING, NULL, 0 },

    /* values that do not decode, or hold a control character */
    { "locationId=%zz", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A%", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A%4", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A%0d%0aX-Injected:1", "locationId", PIT_ERR_ENCODING, NULL,
      1 },
    { "locationId=A%0A", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A%00", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A%09", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A%7f", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=A%C3", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=%C0%AE", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=%ED%A0%80", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=%F4%90%80%80", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=%FF", "locationId", PIT_ERR_ENCODING, NULL, 1 },
    { "locationId=%F0%9F%98%80", "locationId", PIT_OK, "\xf0\x9f\x98\x80",
      1 },
    { "locationId=A&other=%zz", "locationId", PIT_OK, "A", 1 },
    { "locationId=A&other=%00", "locationId", PIT_OK, "A", 1 },

    /* a pair touching ';': an '&'-only upstream reads another value */
    { "locationId=A;x=1", "locationId", PIT_ERR_AMBIGUOUS, NULL, 1 },
    { "x=1;locationId=A", "locationId", PIT_ERR_AMBIGUOUS, NULL, 1 },
    { "locationId=A&x=1;y=2", "locationId", PIT_OK, "A", 1 },

    /* precedence: a bad name first, then how many, then the value */
    { "%zz=1&locationId=A&locationId=B", "locationId", PIT_ERR_ENCODING,
      NULL, 2 },
    { "locationId=%zz&locationId=B", "locationId", PIT_ERR_DUPLICATE, NULL,
      2 },
};

/* Returns a printable "query / name" for failure messages. */
static const char *q_what(const q_case_t *c) {
    static char buf[512];

    snprintf(buf, sizeof(buf), "query \"%s\" name \"%s\"", c->query,
             c->name);
    return buf;
}

static void test_query_table(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(q_cases) / sizeof(q_cases[0]); i++) {
        const q_case_t *c = &q_cases[i];
        char            out[OUTCAP];
        size_t          outlen = 99, count = 99;
        pit_err_t       rc;

        rc = pit_query_param(c->query, strlen(c->query), c->name,
                             strlen(c->name), out, sizeof(out), &outlen);
        if (rc != c->rc) {
            fail_msg("%s: rc %s, want %s", q_what(c), pit_strerror(rc),
                     pit_strerror(c->rc));
        }
        if (rc == PIT_OK) {
            if (outlen != strlen(c->value)
                || memcmp(out, c->value, outlen) != 0 || out[outlen] != '\0')
            {
                fail_msg("%s: value \"%.*s\"", q_what(c), (int) outlen, out);
            }
        } else if (outlen != 0 || out[0] != '\0') {
            fail_msg("%s: an error left outlen %zu", q_what(c), outlen);
        }

        assert_int_equal(pit_query_count(c->query, strlen(c->query),
                                         c->name, strlen(c->name), &count),
                         PIT_OK);
        if (count != c->count) {
            fail_msg("%s: count %zu, want %zu", q_what(c), count, c->count);
        }
    }
}

/* -----------------------------------------------------------------------------
 * Buffers, bounds and arguments
 * -------------------------------------------------------------------------- */

static void test_value_longer_than_outcap_is_too_large(void **state) {
    const char  *q = "locationId=abcd";
    char         out[8];
    size_t       outlen = 99;

    (void) state;
    memset(out, 'x', sizeof(out));
    assert_int_equal(pit_query_param(q, strlen(q), "locationId", 10, out, 3,
                                     &outlen), PIT_ERR_TOO_LARGE);
    assert_int_equal(outlen, 0);
    assert_int_equal(out[0], '\0');
    assert_int_equal(out[3], 'x');                  /* never past outcap */

    /* exactly outcap: OK, not NUL-terminated */
    memset(out, 'x', sizeof(out));
    assert_int_equal(pit_query_param(q, strlen(q), "locationId", 10, out, 4,
                                     &outlen), PIT_OK);
    assert_int_equal(outlen, 4);
    assert_memory_equal(out, "abcdx", 5);

    /* an encoding error wins over the size */
    q = "locationId=abcd%00";
    assert_int_equal(pit_query_param(q, strlen(q), "locationId", 10, out, 2,
                                     &outlen), PIT_ERR_ENCODING);

    /* empty value into no room at all */
    q = "locationId=";
    assert_int_equal(pit_query_param(q, strlen(q), "locationId", 10, out, 0,
                                     &outlen), PIT_OK);
    assert_int_equal(outlen, 0);
}

static void test_query_is_read_only_up_to_qlen(void **state) {
    const char  *q = "locationId=AB&locationId=C";
    char         out[OUTCAP];
    size_t       outlen, count;

    (void) state;
    /* "locationId=A": the rest is not ours */
    assert_int_equal(pit_query_param(q, 12, "locationId", 10, out,
                                     sizeof(out), &outlen), PIT_OK);
    assert_int_equal(outlen, 1);
    assert_string_equal(out, "A");
    assert_int_equal(pit_query_count(q, 12, "locationId", 10, &count),
                     PIT_OK);
    assert_int_equal(count, 1);

    /* a '%' cut by qlen is a bad escape */
    q = "locationId=%41";
    assert_int_equal(pit_query_param(q, 13, "locationId", 10, out,
                                     sizeof(out), &outlen), PIT_ERR_ENCODING);
    /* a name cut by nlen is another name */
    assert_int_equal(pit_query_param(q, strlen(q), "locationIdx", 8, out,
                                     sizeof(out), &outlen), PIT_ERR_NOT_FOUND);
}

static void test_bad_arguments_are_refused(void **state) {
    char    out[8];
    size_t  outlen, count;

    (void) state;
    assert_int_equal(pit_query_param(NULL, 1, "a", 1, out, 8, &outlen),
                     PIT_ERR_ARG);
    assert_int_equal(pit_query_param("a=1", 3, NULL, 1, out, 8, &outlen),
                     PIT_ERR_ARG);
    assert_int_equal(pit_query_param("a=1", 3, "a", 0, out, 8, &outlen),
                     PIT_ERR_ARG);
    assert_int_equal(pit_query_param("a=1", 3, "a", 1, NULL, 8, &outlen),
                     PIT_ERR_ARG);
    assert_int_equal(pit_query_param("a=1", 3, "a", 1, out, 8, NULL),
                     PIT_ERR_ARG);
    assert_int_equal(pit_query_param(NULL, 0, "a", 1, out, 8, &outlen),
                     PIT_ERR_NOT_FOUND);
    assert_int_equal(pit_query_count(NULL, 1, "a", 1, &count), PIT_ERR_ARG);
    assert_int_equal(pit_query_count("a", 1, "a", 0, &count), PIT_ERR_ARG);
    assert_int_equal(pit_query_count("a", 1, "a", 1, NULL), PIT_ERR_ARG);
    assert_int_equal(pit_query_count(NULL, 0, "a", 1, &count), PIT_OK);
    assert_int_equal(count, 0);
}

static void test_count_compares_a_bad_name_undecoded(void **state) {
    const char  *q = "a%zz=1&a%zz=2&a%25zz=3&a+%zz=4";
    size_t       count;

    (void) state;
    assert_int_equal(pit_query_count(q, strlen(q), "a%zz", 4, &count),
                     PIT_OK);
    assert_int_equal(count, 3);      /* raw twice, decoded %25 once */
    assert_int_equal(pit_query_count(q, strlen(q), "a+%zz", 5, &count),
                     PIT_OK);
    assert_int_equal(count, 1);
}

/* -----------------------------------------------------------------------------
 * Long inputs: linear, exact at the edges
 * -------------------------------------------------------------------------- */

static void test_long_inputs(void **state) {
    size_t   n = 1 << 20, i, outlen, count;
    char    *q = malloc(n + 64), *out = malloc(n);

    (void) state;
    assert_non_null(q);
    assert_non_null(out);

    /* a megabyte of "&" and ";" then the parameter */
    for (i = 0; i < n; i++) q[i] = (i & 1) ? '&' : ';';
    memcpy(q + n, "locationId=A", 12);
    assert_int_equal(pit_query_param(q, n + 12, "locationId", 10, out, n,
                                     &outlen), PIT_OK);
    assert_int_equal(outlen, 1);

    /* a megabyte of pairs that almost match */
    for (i = 0; i + 12 <= n; i += 12) memcpy(q + i, "locationI=1&", 12);
    assert_int_equal(pit_query_count(q, i, "locationId", 10, &count),
                     PIT_OK);
    assert_int_equal(count, 0);

    /* a megabyte-long value: decoded whole, or too large by one */
    memcpy(q, "locationId=", 11);
    for (i = 11; i < n; i++) q[i] = (i % 3 == 2) ? '+' : 'v';
    assert_int_equal(pit_query_param(q, n, "locationId", 10, out, n - 11,
                                     &outlen), PIT_OK);
    assert_int_equal(outlen, n - 11);
    assert_int_equal(out[0], ' ');
    assert_int_equal(pit_query_param(q, n, "locationId", 10, out, n - 12,
                                     &outlen), PIT_ERR_TOO_LARGE);

    /* a megabyte-long name of spaces, then the name */
    for (i = 0; i < n; i++) q[i] = '+';
    memcpy(q + n, "locationId=A", 12);
    assert_int_equal(pit_query_param(q, n + 12, "locationId", 10, out, n,
                                     &outlen), PIT_OK);
    assert_int_equal(outlen, 1);

    free(q);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_table),
        cmocka_unit_test(test_value_longer_than_outcap_is_too_large),
        cmocka_unit_test(test_query_is_read_only_up_to_qlen),
        cmocka_unit_test(test_bad_arguments_are_refused),
        cmocka_unit_test(test_count_compares_a_bad_name_undecoded),
        cmocka_unit_test(test_long_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
