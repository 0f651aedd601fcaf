/*
 * Unit tests for core/pit_catalog.c: HighLevel's scope catalogue.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pit_catalog.h"
#include "pit_scope.h"

/* Length of a string literal, embedded NULs included. */
#define LIT(s)   s, (sizeof(s) - 1)

/* -----------------------------------------------------------------------------
 * The table
 * -------------------------------------------------------------------------- */

static void test_catalog_lists_every_published_scope(void **state) {
    size_t n = 0;

    (void) state;
    assert_non_null(pit_catalog(&n));
    /* HighLevel's Scopes page lists 91 distinct scopes. */
    assert_int_equal(n, 91);
    assert_non_null(pit_catalog(NULL));
}

static void test_catalog_is_sorted_bytewise_without_duplicates(void **state) {
    const pit_catalog_entry_t  *c;
    size_t                      n, i;

    (void) state;
    c = pit_catalog(&n);
    for (i = 1; i < n; i++) {
        if (strcmp(c[i - 1].name, c[i].name) >= 0)
            fail_msg("catalog: \"%s\" before \"%s\"", c[i - 1].name,
                     c[i].name);
    }
}

static void test_catalog_names_are_valid_scope_names(void **state) {
    const pit_catalog_entry_t  *c;
    size_t                      n, i;

    (void) state;
    c = pit_catalog(&n);
    for (i = 0; i < n; i++) {
        if (!pit_scope_name_valid(c[i].name, strlen(c[i].name)))
            fail_msg("catalog: invalid name \"%s\"", c[i].name);
    }
}

static void test_catalog_labels_start_with_view_or_edit(void **state) {
    const pit_catalog_entry_t  *c;
    size_t                      n, i, len;

    (void) state;
    c = pit_catalog(&n);
    for (i = 0; i < n; i++) {
        const char *dot = strrchr(c[i].name, '.');

        assert_non_null(dot);
        assert_non_null(c[i].label);
        len = strlen(c[i].label);
        assert_true(len > 5 && len < 40);
        if (strcmp(dot, ".readonly") == 0 || strcmp(dot, ".read") == 0) {
            if (strncmp(c[i].label, "View ", 5) != 0)
                fail_msg("catalog: %s is \"%s\"", c[i].name, c[i].label);
        } else if (strcmp(dot, ".write") == 0) {
            /* blogs/post-update.write is the one "Update" */
            if (strncmp(c[i].label, "Edit ", 5) != 0
                && strcmp(c[i].name, "blogs/post-update.write") != 0)
            {
                fail_msg("catalog: %s is \"%s\"", c[i].name, c[i].label);
            }
        } else {
            fail_msg("catalog: %s has an unknown suffix", c[i].name);
        }
    }
}

static void test_catalog_labels_are_unique(void **state) {
    const pit_catalog_entry_t  *c;
    size_t                      n, i, j;

    (void) state;
    c = pit_catalog(&n);
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            if (strcmp(c[i].label, c[j].label) == 0)
                fail_msg("catalog: \"%s\" twice", c[i].label);
        }
    }
}

static void test_catalog_access_is_subaccount_agency_or_both(void **state) {
    const pit_catalog_entry_t  *c;
    size_t                      n, i;

    (void) state;
    c = pit_catalog(&n);
    for (i = 0; i < n; i++) {
        if (strcmp(c[i].access, "Sub-Account") != 0
            && strcmp(c[i].access, "Agency") != 0
            && strcmp(c[i].access, "Sub-Account, Agency") != 0)
        {
            fail_msg("catalog: %s access \"%s\"", c[i].name, c[i].access);
        }
    }
}

/* -----------------------------------------------------------------------------
 * Lookup
 * -------------------------------------------------------------------------- */

typedef struct {
    const char  *name;
    const char  *label;
    const char  *access;
} label_case_t;

/* The seed's labels, and rows whose access types had to be merged. */
static const label_case_t label_cases[] = {
    { "contacts.readonly",             "View Contacts",    "Sub-Account" },
    { "calendars/events.write",        "Edit Calendar Events",
      "Sub-Account" },
    { "conversations/message.write",   "Edit Conversation Messages",
      "Sub-Account" },
    { "conversations/message.readonly", "View Conversation Messages",
      "Sub-Account" },
    { "calendars/resources.readonly",  "View Calendar Resources",
      "Sub-Account" },
    { "calendars/resources.write",     "Edit Calendar Resources",
      "Sub-Account" },
    { "campaigns.readonly",            "View Campaigns",   "Sub-Account" },
    { "conversations.readonly",        "View Conversations", "Sub-Account" },
    { "conversations.write",           "Edit Conversations", "Sub-Account" },
    { "locations/customFields.readonly", "View Location Custom Fields",
      "Sub-Account" },
    { "locations.readonly",            "View Locations",
      "Sub-Account, Agency" },
    { "locations.write",               "Edit Locations",   "Agency" },
    { "saas/location.read",            "View SaaS Locations",
      "Sub-Account, Agency" },
    { "saas/location.write",           "Edit SaaS Locations",
      "Sub-Account, Agency" },
    { "oauth.write",                   "Edit OAuth",       "Agency" },
    { "blogs/author.readonly",         "View Blog Authors", "Sub-Account" },
    { "workflows.readonly",            "View Workflows",   "Sub-Account" },
};

static void test_find_returns_seed_labels(void **state) {
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(label_cases) / sizeof(label_cases[0]); i++) {
        const label_case_t         *c = &label_cases[i];
        const pit_catalog_entry_t  *e;

        e = pit_catalog_find(c->name, strlen(c->name));
        if (e == NULL) fail_msg("find: %s missing", c->name);
        assert_string_equal(e->name, c->name);
        assert_string_equal(e->label, c->label);
        assert_string_equal(e->access, c->access);
    }
}

static void test_find_locates_every_entry(void **state) {
    const pit_catalog_entry_t  *c;
    size_t                      n, i;

    (void) state;
    c = pit_catalog(&n);
    for (i = 0; i < n; i++) {
        assert_ptr_equal(pit_catalog_find(c[i].name, strlen(c[i].name)),
                         &c[i]);
    }
}

static void test_find_rejects_near_misses(void **state) {
    (void) state;
    assert_null(pit_catalog_find(LIT("")));
    assert_null(pit_catalog_find(LIT("contacts")));
    assert_null(pit_catalog_find(LIT("contacts.")));
    assert_null(pit_catalog_find(LIT("contacts.readonlyx")));
    assert_null(pit_catalog_find(LIT("Contacts.readonly")));
    assert_null(pit_catalog_find(LIT("contacts.readonly\0")));
    assert_null(pit_catalog_find(LIT("contacts.read")));
    assert_null(pit_catalog_find(LIT("aaa")));
    assert_null(pit_catalog_find(LIT("zzz")));
    assert_null(pit_catalog_find(LIT("\xff")));
    /* Only len bytes count. */
    assert_non_null(pit_catalog_find("users.writeXYZ", 11));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_lists_every_published_scope),
        cmocka_unit_test(test_catalog_is_sorted_bytewise_without_duplicates),
        cmocka_unit_test(test_catalog_names_are_valid_scope_names),
        cmocka_unit_test(test_catalog_labels_start_with_view_or_edit),
        cmocka_unit_test(test_catalog_labels_are_unique),
        cmocka_unit_test(test_catalog_access_is_subaccount_agency_or_both),
        cmocka_unit_test(test_find_returns_seed_labels),
        cmocka_unit_test(test_find_locates_every_entry),
        cmocka_unit_test(test_find_rejects_near_misses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
