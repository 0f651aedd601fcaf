/*
 * Unit tests for core/pit_catalog_file.c: catalogue files (JSON list,
 * JSON object, text) and the caller-owned list.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pit_catalog_file.h"

/* Parses a string literal; returns the core's answer. */
static pit_err_t parse(pit_catalog_list_t *cl, const char *s, char *err,
    size_t errcap)
{
    return pit_catalog_list_parse(cl, "cat", s, strlen(s), err, errcap);
}

static const char *label_of(const pit_catalog_list_t *cl, const char *name) {
    const pit_catalog_entry_t  *e;

    e = pit_catalog_list_find(cl, name, strlen(name));
    return e ? e->label : NULL;
}

/* -----------------------------------------------------------------------------
 * The three formats
 * -------------------------------------------------------------------------- */

static void test_parse_reads_json_list(void **state) {
    pit_catalog_list_t  cl = { 0 };
    char                err[PIT_CATALOG_ERR_MAX];

    (void) state;
    assert_int_equal(parse(&cl, " [{\"name\": \"orders.write\", \"label\": "
                     "\"Edit Orders\"}, {\"name\": \"orders.read\"}, "
                     "\"stock.read\", {\"name\": \"x.y\", \"label\": null, "
                     "\"access\": \"ignored\"}]", err, sizeof(err)), PIT_OK);
    assert_int_equal(cl.n, 4);
    /* sorted bytewise, whatever the file's order */
    assert_string_equal(cl.entries[0].name, "orders.read");
    assert_string_equal(cl.entries[1].name, "orders.write");
    assert_string_equal(cl.entries[3].name, "x.y");
    assert_string_equal(label_of(&cl, "orders.write"), "Edit Orders");
    assert_string_equal(label_of(&cl, "orders.read"), "");
    assert_string_equal(cl.entries[0].access, "");
    pit_catalog_list_free(&cl);
    assert_int_equal(cl.n, 0);
}

static void test_parse_reads_json_object(void **state) {
    pit_catalog_list_t  cl = { 0 };

    (void) state;
    assert_int_equal(parse(&cl, "{\"b.read\": \"View B\", \"a.read\": "
                     "\"View A\"}", NULL, 0), PIT_OK);
    assert_int_equal(cl.n, 2);
    assert_string_equal(cl.entries[0].name, "a.read");
    assert_string_equal(label_of(&cl, "b.read"), "View B");
    pit_catalog_list_free(&cl);
}

static void test_parse_reads_text_lines(void **state) {
    pit_catalog_list_t  cl = { 0 };

    (void) state;
    assert_int_equal(parse(&cl, "# my API\n\norders.read\tView Orders\r\n"
                     "  orders.write    Edit  Orders  \nstock.read\n",
                     NULL, 0), PIT_OK);
    assert_int_equal(cl.n, 3);
    assert_string_equal(label_of(&cl, "orders.read"), "View Orders");
    assert_string_equal(label_of(&cl, "orders.write"), "Edit  Orders");
    assert_string_equal(label_of(&cl, "stock.read"), "");
    pit_catalog_list_free(&cl);
}

/* -----------------------------------------------------------------------------
 * Refusals, with where
 * -------------------------------------------------------------------------- */

static void test_parse_refuses_bad_input_and_says_where(void **state) {
    static const struct {
        const char  *text;
        pit_err_t    rc;
        const char  *msg;
    } cases[] = {
        { "[\"ok.read\", \"Bad Name\"]", PIT_ERR_SCOPE_INVALID,
          "cat: entry 2: invalid scope name \"Bad Name\"" },
        { "ok.read\nok.read again\n", PIT_ERR_DUPLICATE,
          "cat:2: scope listed twice \"ok.read\"" },
        { "ok.read\n\nUPPER.read x\n", PIT_ERR_SCOPE_INVALID,
          "cat:3: invalid scope name \"UPPER.read\"" },
        { "{\"a.read\": 1}", PIT_ERR_FIELD, "cat: \"a.read\": the label" },
        { "[{\"label\": \"x\"}]", PIT_ERR_FIELD, "cat: entry 1: expected" },
        { "[{\"name\": \"a.read\", \"label\": \"bad\\u0007\"}]",
          PIT_ERR_TEXT, "cat: entry 1: label is not text" },
        { "[1", PIT_ERR_JSON, "cat:1:" },
        { "{\"a.b\": \"x\", \"a.b\": \"y\"}", PIT_ERR_JSON, "cat:1:" },
        { "[]", PIT_ERR_FIELD, "cat: lists no scope" },
        { "# nothing\n", PIT_ERR_FIELD, "cat: lists no scope" },
    };
    pit_catalog_list_t  cl = { 0 };
    char                err[PIT_CATALOG_ERR_MAX];
    size_t              i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        if (parse(&cl, cases[i].text, err, sizeof(err)) != cases[i].rc) {
            fail_msg("case %zu: wrong code (%s)", i, err);
        }
        if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0) {
            fail_msg("case %zu: message \"%s\"", i, err);
        }
        assert_int_equal(cl.n, 0);
        assert_null(cl.entries);
    }
}

static void test_parse_refuses_long_label_and_nul(void **state) {
    pit_catalog_list_t  cl = { 0 };
    char                buf[400];

    (void) state;
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "a.read ", 7);
    memset(buf + 7, 'x', PIT_CATALOG_LABEL_MAX + 1);
    assert_int_equal(parse(&cl, buf, NULL, 0), PIT_ERR_TEXT);
    buf[7 + PIT_CATALOG_LABEL_MAX] = '\0';
    assert_int_equal(parse(&cl, buf, NULL, 0), PIT_OK);
    pit_catalog_list_free(&cl);
    assert_int_equal(pit_catalog_list_parse(&cl, "cat", "a.read\0b", 8, NULL,
                                            0), PIT_ERR_TEXT);
}

static void test_list_is_bounded(void **state) {
    pit_catalog_list_t  cl = { 0 };
    char                name[32];
    size_t              i;

    (void) state;
    for (i = 0; i < PIT_CATALOG_SCOPES_MAX; i++) {
        snprintf(name, sizeof(name), "s%zu.read", i);
        assert_int_equal(pit_catalog_list_add(&cl, name, strlen(name), NULL,
                                              0, NULL), PIT_OK);
    }
    assert_int_equal(pit_catalog_list_add(&cl, "z.z", 3, NULL, 0, NULL),
                     PIT_ERR_TOO_LARGE);
    assert_int_equal(cl.n, PIT_CATALOG_SCOPES_MAX);
    pit_catalog_list_free(&cl);
}

/* -----------------------------------------------------------------------------
 * The list
 * -------------------------------------------------------------------------- */

static void test_list_add_remove_find(void **state) {
    pit_catalog_list_t  cl;

    (void) state;
    pit_catalog_list_init(&cl);
    assert_int_equal(pit_catalog_list_add(&cl, "b.b", 3, "B", 1, NULL),
                     PIT_OK);
    assert_int_equal(pit_catalog_list_add(&cl, "a.a", 3, "A", 1, NULL),
                     PIT_OK);
    assert_int_equal(pit_catalog_list_add(&cl, "a.a", 3, "A2", 2, NULL),
                     PIT_ERR_DUPLICATE);
    assert_int_equal(pit_catalog_list_add(&cl, "A", 1, NULL, 0, NULL),
                     PIT_ERR_SCOPE_INVALID);
    assert_non_null(pit_catalog_list_find(&cl, "a.aXYZ", 3));
    assert_null(pit_catalog_list_find(&cl, "a.", 2));
    assert_null(pit_catalog_list_find(&cl, "a.aa", 4));
    assert_int_equal(pit_catalog_list_remove(&cl, "a.a", 3), PIT_OK);
    assert_int_equal(pit_catalog_list_remove(&cl, "a.a", 3),
                     PIT_ERR_NOT_FOUND);
    assert_int_equal(cl.n, 1);
    assert_string_equal(cl.entries[0].label, "B");
    pit_catalog_list_free(&cl);
}

static void test_builtin_copies_the_default_catalogue(void **state) {
    pit_catalog_list_t  cl = { 0 };
    size_t              n;

    (void) state;
    assert_int_equal(pit_catalog_list_builtin(&cl), PIT_OK);
    pit_catalog(&n);
    assert_int_equal(cl.n, n);
    assert_string_equal(label_of(&cl, "contacts.readonly"), "View Contacts");
    assert_string_equal(pit_catalog_list_find(&cl, "locations.write", 15)
                        ->access, "Agency");
    pit_catalog_list_free(&cl);
}

static void test_load_file_reads_and_reports(void **state) {
    pit_catalog_list_t  cl = { 0 };
    char                path[] = "/tmp/pit-cat-XXXXXX", err[256];
    FILE               *f;
    int                 fd;

    (void) state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("[{\"name\": \"orders.read\", \"label\": \"View Orders\"}]\n", f);
    fclose(f);

    assert_int_equal(pit_catalog_load_file(&cl, path, err, sizeof(err)),
                     PIT_OK);
    assert_string_equal(label_of(&cl, "orders.read"), "View Orders");
    pit_catalog_list_free(&cl);
    unlink(path);

    assert_int_equal(pit_catalog_load_file(&cl, path, err, sizeof(err)),
                     PIT_ERR_IO);
    assert_non_null(strstr(err, path));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_reads_json_list),
        cmocka_unit_test(test_parse_reads_json_object),
        cmocka_unit_test(test_parse_reads_text_lines),
        cmocka_unit_test(test_parse_refuses_bad_input_and_says_where),
        cmocka_unit_test(test_parse_refuses_long_label_and_nul),
        cmocka_unit_test(test_list_is_bounded),
        cmocka_unit_test(test_list_add_remove_find),
        cmocka_unit_test(test_builtin_copies_the_default_catalogue),
        cmocka_unit_test(test_load_file_reads_and_reports),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
