/*
 * Unit tests of core/pit_rotation.c: the rotation state machine of the
 * private-integrations product (rotate later, cancel, expire now, rotate
 * now, the deadline passing with no job running) and effective roles.
 *
 * After every transition the integration is encoded and decoded again:
 * whatever the state machine produces must be a record that can be stored.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pit_rotation.h"

#define IID    "ocQHyuzHvysMo5N5VsXc"
#define H(c)   c c c c c c c c c c c c c c c c  \
               c c c c c c c c c c c c c c c c  \
               c c c c c c c c c c c c c c c c  \
               c c c c c c c c c c c c c c c c
#define HASH1  H("1")
#define HASH2  H("2")
#define HASH3  H("3")
#define HASH4  H("4")
#define HASH5  H("5")
#define HASH6  H("6")
#define HINT1  "pit-1111****-****-****-****1111"
#define HINT2  "pit-2222****-****-****-****2222"
#define HINT3  "pit-3333****-****-****-****3333"

#define SEC    1000LL
#define DAY    (24LL * 3600 * SEC)
#define T0     1720630740000LL        /* created */
#define WEEK   PIT_OVERLAP_DEFAULT_MS

/* =============================================================================
 * Helpers
 * ==========================================================================*/

/* Fills in with an active integration whose only token is HASH1. */
static void make_active(pit_integration_t *in) {
    memset(in, 0, sizeof(*in));
    strcpy(in->id, IID);
    strcpy(in->name, "My Make App1");
    strcpy(in->account, "loc1");
    in->acct_type = PIT_ACCT_LOCATION;
    pit_scope_set_init(&in->scopes);
    in->created_at_ms = T0;
    in->updated_at_ms = T0;
    in->ntokens = 1;
    strcpy(in->tokens[0].hash, HASH1);
    strcpy(in->tokens[0].hint, HINT1);
    in->tokens[0].role = PIT_ROLE_PRIMARY;
    in->tokens[0].created_at_ms = T0;
}

/* Fails unless in encodes and decodes back to the same tokens and state. */
static void assert_storable(const pit_integration_t *in) {
    pit_integration_t         out;
    char                      buf[PIT_JSON_MAX];
    size_t                    len, i;

    assert_int_equal(pit_integration_to_json(in, buf, sizeof(buf), &len),
                     PIT_OK);
    assert_int_equal(pit_integration_from_json(buf, len, &out), PIT_OK);
    assert_int_equal(out.ntokens, in->ntokens);
    for (i = 0; i < in->ntokens; i++) {
        assert_string_equal(out.tokens[i].hash, in->tokens[i].hash);
        assert_int_equal(out.tokens[i].role, in->tokens[i].role);
        assert_int_equal(out.tokens[i].until_ms, in->tokens[i].until_ms);
    }
    assert_int_equal(out.rotating, in->rotating);
    assert_int_equal(out.updated_at_ms, in->updated_at_ms);
}

/* Fails unless in has exactly one token, primary, with this hash. */
static void assert_active_with(const pit_integration_t *in, const char *hash,
    int64_t created, int64_t updated)
{
    assert_int_equal(in->ntokens, 1);
    assert_string_equal(in->tokens[0].hash, hash);
    assert_int_equal(in->tokens[0].role, PIT_ROLE_PRIMARY);
    assert_int_equal(in->tokens[0].until_ms, 0);
    assert_int_equal(in->tokens[0].created_at_ms, created);
    assert_int_equal(in->rotating, 0);
    assert_int_equal(in->rotation_started_ms, 0);
    assert_int_equal(in->rotation_deadline_ms, 0);
    assert_int_equal(in->updated_at_ms, updated);
    assert_int_equal(pit_rotation_state(in, updated), PIT_STATE_ACTIVE);
    assert_storable(in);
}

/* Fails unless in rotates from old to new between started and deadline. */
static void assert_rotating(const pit_integration_t *in, const char *old,
    const char *new_hash, int64_t started, int64_t deadline)
{
    int  p, n;

    assert_int_equal(in->ntokens, 2);
    p = pit_rotation_find(in, PIT_ROLE_PREVIOUS);
    n = pit_rotation_find(in, PIT_ROLE_NEXT);
    assert_true(p >= 0 && n >= 0);
    assert_int_equal(pit_rotation_find(in, PIT_ROLE_PRIMARY), -1);
    assert_string_equal(in->tokens[p].hash, old);
    assert_int_equal(in->tokens[p].until_ms, deadline);
    assert_string_equal(in->tokens[n].hash, new_hash);
    assert_int_equal(in->tokens[n].until_ms, deadline);
    assert_int_equal(in->tokens[n].created_at_ms, started);
    assert_int_equal(in->rotating, 1);
    assert_int_equal(in->rotation_started_ms, started);
    assert_int_equal(in->rotation_deadline_ms, deadline);
    assert_int_equal(in->updated_at_ms, started);
    assert_int_equal(pit_rotation_state(in, started), PIT_STATE_ROTATING);
    assert_int_equal(pit_rotation_state(in, deadline - 1),
                     PIT_STATE_ROTATING);
    assert_int_equal(pit_rotation_state(in, deadline), PIT_STATE_ACTIVE);
    assert_storable(in);
}

/* =============================================================================
 * The whole story, as the product describes it
 * ==========================================================================*/

static void test_rotation_story_later_cancel_expire_settle_now(void **state)
{
    pit_integration_t  in;
    int64_t            t, deadline;

    make_active(&in);
    assert_storable(&in);

    /* rotate later: both tokens work for a week */
    t = T0 + 80 * DAY;
    assert_int_equal(pit_rotation_rotate_later(&in, t, WEEK, HASH2, HINT2),
                     PIT_OK);
    assert_rotating(&in, HASH1, HASH2, t, t + WEEK);
    assert_string_equal(in.tokens[pit_rotation_find(&in, PIT_ROLE_NEXT)].hint,
                        HINT2);

    /* a second rotation while the first runs is refused, nothing changes */
    assert_int_equal(pit_rotation_rotate_later(&in, t + SEC, WEEK, HASH3,
                                               HINT3), PIT_ERR_STATE);
    assert_rotating(&in, HASH1, HASH2, t, t + WEEK);

    /* cancel: the old token is primary again, the new one is gone */
    t += DAY;
    assert_int_equal(pit_rotation_cancel(&in, t), PIT_OK);
    assert_active_with(&in, HASH1, T0, t);
    assert_int_equal(pit_rotation_cancel(&in, t + 1), PIT_ERR_STATE);
    assert_int_equal(pit_rotation_expire_now(&in, t + 1), PIT_ERR_STATE);
    assert_active_with(&in, HASH1, T0, t);

    /* rotate later again, then expire now: only the new token is left */
    t += DAY;
    assert_int_equal(pit_rotation_rotate_later(&in, t, WEEK, HASH3, HINT3),
                     PIT_OK);
    assert_rotating(&in, HASH1, HASH3, t, t + WEEK);
    assert_int_equal(pit_rotation_expire_now(&in, t + 2 * SEC), PIT_OK);
    assert_active_with(&in, HASH3, t, t + 2 * SEC);
    assert_string_equal(in.tokens[0].hint, HINT3);

    /* rotate later, and let the deadline pass with nobody acting */
    t += DAY;
    deadline = t + 3 * DAY;
    assert_int_equal(pit_rotation_rotate_later(&in, t, 3 * DAY, HASH4,
                                               HINT2), PIT_OK);
    assert_rotating(&in, HASH3, HASH4, t, deadline);
    assert_int_equal(pit_rotation_settle(&in, deadline - 1), 0);
    assert_rotating(&in, HASH3, HASH4, t, deadline);
    assert_int_equal(pit_rotation_settle(&in, deadline + 5 * DAY), 1);
    assert_active_with(&in, HASH4, t, deadline);
    assert_int_equal(pit_rotation_settle(&in, deadline + 6 * DAY), 0);
    assert_active_with(&in, HASH4, t, deadline);

    /* rotate now during a rotation: every old token dies at once */
    t = deadline + DAY;
    assert_int_equal(pit_rotation_rotate_later(&in, t, WEEK, HASH5, HINT1),
                     PIT_OK);
    assert_rotating(&in, HASH4, HASH5, t, t + WEEK);
    assert_int_equal(pit_rotation_rotate_now(&in, t + SEC, HASH6, HINT3),
                     PIT_OK);
    assert_active_with(&in, HASH6, t + SEC, t + SEC);
    assert_int_equal(pit_rotation_find(&in, PIT_ROLE_PREVIOUS), -1);
    assert_int_equal(pit_rotation_find(&in, PIT_ROLE_NEXT), -1);

    /* and rotate now when active */
    assert_int_equal(pit_rotation_rotate_now(&in, t + 2 * SEC, HASH1, HINT1),
                     PIT_OK);
    assert_active_with(&in, HASH1, t + 2 * SEC, t + 2 * SEC);
}

static void test_settle_at_the_deadline_exactly(void **state) {
    pit_integration_t  in;
    int64_t            t = T0 + DAY;

    make_active(&in);
    assert_int_equal(pit_rotation_rotate_later(&in, t, WEEK, HASH2, HINT2),
                     PIT_OK);
    assert_int_equal(pit_rotation_settle(&in, t + WEEK), 1);
    assert_active_with(&in, HASH2, t, t + WEEK);
}

static void test_settle_without_rotation_changes_nothing(void **state) {
    pit_integration_t  in, before;

    make_active(&in);
    before = in;
    assert_int_equal(pit_rotation_settle(&in, T0 + 1000 * DAY), 0);
    assert_memory_equal(&in, &before, sizeof(in));
    assert_int_equal(pit_rotation_settle(NULL, T0), 0);
}

static void test_settle_is_the_same_whenever_it_runs(void **state) {
    pit_integration_t  a, b;
    int64_t            t = T0 + DAY;

    make_active(&a);
    assert_int_equal(pit_rotation_rotate_later(&a, t, WEEK, HASH2, HINT2),
                     PIT_OK);
    b = a;
    assert_int_equal(pit_rotation_settle(&a, t + WEEK), 1);
    assert_int_equal(pit_rotation_settle(&b, t + WEEK + 300 * DAY), 1);
    assert_memory_equal(&a, &b, sizeof(a));
}

/* =============================================================================
 * Once the deadline has passed, the rotation is over for every operation
 * ==========================================================================*/

static void test_cancel_and_expire_after_the_deadline_are_refused(void **state)
{
    pit_integration_t  in, before;
    int64_t            t = T0 + DAY;

    make_active(&in);
    assert_int_equal(pit_rotation_rotate_later(&in, t, WEEK, HASH2, HINT2),
                     PIT_OK);
    before = in;

    /* the new token took over at the deadline: nothing left to cancel */
    assert_int_equal(pit_rotation_cancel(&in, t + WEEK), PIT_ERR_STATE);
    assert_int_equal(pit_rotation_expire_now(&in, t + WEEK), PIT_ERR_STATE);
    assert_memory_equal(&in, &before, sizeof(in));

    /* one millisecond earlier both still apply */
    assert_int_equal(pit_rotation_cancel(&in, t + WEEK - 1), PIT_OK);
    assert_active_with(&in, HASH1, T0, t + WEEK - 1);
    in = before;
    assert_int_equal(pit_rotation_expire_now(&in, t + WEEK - 1), PIT_OK);
    assert_active_with(&in, HASH2, t, t + WEEK - 1);
}

static void test_rotate_later_after_the_deadline_starts_from_next(void **state)
{
    pit_integration_t  in;
    int64_t            t = T0 + DAY, t2 = T0 + DAY + WEEK;

    make_active(&in);
    assert_int_equal(pit_rotation_rotate_later(&in, t, WEEK, HASH2, HINT2),
                     PIT_OK);

    /* not settled: the old "next" is the primary that now rotates out */
    assert_int_equal(pit_rotation_rotate_later(&in, t2, WEEK, HASH3, HINT3),
                     PIT_OK);
    assert_rotating(&in, HASH2, HASH3, t2, t2 + WEEK);
    assert_int_equal(
        in.tokens[pit_rotation_find(&in, PIT_ROLE_PREVIOUS)].created_at_ms,
        t);
}

/* =============================================================================
 * Arguments
 * ==========================================================================*/

static void test_rotate_later_rejects_bad_arguments(void **state) {
    pit_integration_t  in, before;

    struct {
        int64_t      now;
        int64_t      overlap;
        const char  *hash;
        const char  *hint;
        pit_err_t    expect;
    } cases[] = {
        { T0, 0, HASH2, HINT2, PIT_ERR_ARG },
        { T0, -WEEK, HASH2, HINT2, PIT_ERR_ARG },
        { T0, INT64_MAX, HASH2, HINT2, PIT_ERR_ARG },
        { -1, WEEK, HASH2, HINT2, PIT_ERR_ARG },
        { T0, WEEK, NULL, HINT2, PIT_ERR_ARG },
        { T0, WEEK, HASH2, NULL, PIT_ERR_ARG },
        { T0, WEEK, "abc", HINT2, PIT_ERR_ARG },
        { T0, WEEK, H("A"), HINT2, PIT_ERR_ARG },
        { T0, WEEK, H("g"), HINT2, PIT_ERR_ARG },
        { T0, WEEK, HASH2 "0", HINT2, PIT_ERR_ARG },
        { T0, WEEK, HASH1, HINT2, PIT_ERR_ARG },     /* same as primary */
        { T0, WEEK, HASH2, "", PIT_ERR_ARG },
        { T0, WEEK, HASH2, HINT2 "123456", PIT_ERR_ARG },
        { T0, 1, HASH2, HINT2, PIT_OK },
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        make_active(&in);
        before = in;
        assert_int_equal(pit_rotation_rotate_later(&in, cases[i].now,
                             cases[i].overlap, cases[i].hash, cases[i].hint),
                         cases[i].expect);
        if (cases[i].expect != PIT_OK) {
            assert_memory_equal(&in, &before, sizeof(in));
        }
    }
    assert_int_equal(pit_rotation_rotate_later(NULL, T0, WEEK, HASH2, HINT2),
                     PIT_ERR_ARG);
}

static void test_rotate_now_rejects_bad_arguments(void **state) {
    pit_integration_t  in, before;

    make_active(&in);
    before = in;
    assert_int_equal(pit_rotation_rotate_now(&in, T0, "xyz", HINT2),
                     PIT_ERR_ARG);
    assert_int_equal(pit_rotation_rotate_now(&in, T0, HASH1, HINT2),
                     PIT_ERR_ARG);
    assert_int_equal(pit_rotation_rotate_now(&in, T0, HASH2, NULL),
                     PIT_ERR_ARG);
    assert_int_equal(pit_rotation_rotate_now(&in, -5, HASH2, HINT2),
                     PIT_ERR_ARG);
    assert_memory_equal(&in, &before, sizeof(in));
    assert_int_equal(pit_rotation_rotate_now(NULL, T0, HASH2, HINT2),
                     PIT_ERR_ARG);
}

static void test_default_overlap_is_seven_days(void **state) {
    pit_integration_t  in;

    make_active(&in);
    assert_int_equal(pit_rotation_rotate_later(&in, T0, PIT_OVERLAP_DEFAULT_MS,
                                               HASH2, HINT2), PIT_OK);
    assert_int_equal(in.rotation_deadline_ms, T0 + 604800000LL);
}

/* =============================================================================
 * Effective roles
 * ==========================================================================*/

static void test_effective_role_around_the_deadline(void **state) {
    const int64_t  d = T0 + WEEK;
    struct {
        pit_role_t  role;
        int64_t     until;
        int64_t     now;
        pit_role_t  expect;
    } cases[] = {
        { PIT_ROLE_NEXT, d, T0, PIT_ROLE_NEXT },
        { PIT_ROLE_NEXT, d, d - 1, PIT_ROLE_NEXT },
        { PIT_ROLE_NEXT, d, d, PIT_ROLE_PRIMARY },
        { PIT_ROLE_NEXT, d, d + 1, PIT_ROLE_PRIMARY },
        { PIT_ROLE_PREVIOUS, d, T0, PIT_ROLE_PREVIOUS },
        { PIT_ROLE_PREVIOUS, d, d - 1, PIT_ROLE_PREVIOUS },
        { PIT_ROLE_PREVIOUS, d, d, PIT_ROLE_INVALID },
        { PIT_ROLE_PREVIOUS, d, d + 1, PIT_ROLE_INVALID },
        { PIT_ROLE_PRIMARY, 0, d - 1, PIT_ROLE_PRIMARY },
        { PIT_ROLE_PRIMARY, 0, d + 1, PIT_ROLE_PRIMARY },
        { PIT_ROLE_PRIMARY, d, d + 1, PIT_ROLE_PRIMARY },
        /* corrupt data: no deadline */
        { PIT_ROLE_NEXT, 0, d, PIT_ROLE_NEXT },
        { PIT_ROLE_PREVIOUS, 0, T0, PIT_ROLE_INVALID },
        { PIT_ROLE_PREVIOUS, -1, T0, PIT_ROLE_INVALID },
        { PIT_ROLE_INVALID, 0, T0, PIT_ROLE_INVALID },
        { PIT_ROLE_INVALID, d, T0, PIT_ROLE_INVALID },
        { (pit_role_t) 17, d, T0, PIT_ROLE_INVALID },
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(pit_role_effective(cases[i].role, cases[i].until,
                                            cases[i].now), cases[i].expect);
    }
}

static void test_effective_roles_of_a_rotation_match_settle(void **state) {
    pit_integration_t  in, settled;
    int64_t            d, now;
    size_t             i;

    make_active(&in);
    assert_int_equal(pit_rotation_rotate_later(&in, T0, WEEK, HASH2, HINT2),
                     PIT_OK);
    d = in.rotation_deadline_ms;

    /* what an edge computes on the fly is what settle writes down */
    for (now = d - 1; now <= d + 1; now++) {
        settled = in;
        pit_rotation_settle(&settled, now);
        for (i = 0; i < in.ntokens; i++) {
            pit_role_t  eff = pit_role_effective(in.tokens[i].role,
                                                 in.tokens[i].until_ms, now);
            int         j = -1;
            size_t      k;

            for (k = 0; k < settled.ntokens; k++) {
                if (strcmp(settled.tokens[k].hash, in.tokens[i].hash) == 0) {
                    j = (int) k;
                }
            }
            if (j < 0) {
                assert_int_equal(eff, PIT_ROLE_INVALID);
            } else {
                assert_int_equal(eff, pit_role_effective(
                    settled.tokens[j].role, settled.tokens[j].until_ms, now));
            }
        }
    }
}

/* =============================================================================
 * States, lookups, rotation due
 * ==========================================================================*/

static void test_state_names_and_find(void **state) {
    pit_integration_t  in;

    assert_string_equal(pit_state_name(PIT_STATE_ACTIVE), "active");
    assert_string_equal(pit_state_name(PIT_STATE_ROTATING), "rotating");

    make_active(&in);
    assert_int_equal(pit_rotation_find(&in, PIT_ROLE_PRIMARY), 0);
    assert_int_equal(pit_rotation_find(&in, PIT_ROLE_NEXT), -1);
    assert_int_equal(pit_rotation_find(&in, PIT_ROLE_INVALID), -1);
    assert_int_equal(pit_rotation_state(&in, T0), PIT_STATE_ACTIVE);
}

static void test_rotation_due_after_ninety_days(void **state) {
    pit_integration_t  in;
    int64_t            t;

    make_active(&in);
    assert_int_equal(pit_rotation_due(&in, T0), 0);
    assert_int_equal(pit_rotation_due(&in, T0 + 90 * DAY - 1), 0);
    assert_int_equal(pit_rotation_due(&in, T0 + 90 * DAY), 1);
    assert_int_equal(pit_rotation_due(&in, T0 + 400 * DAY), 1);
    assert_int_equal(pit_rotation_due(&in, T0 - DAY), 0);

    /* rotating: already under way, not flagged */
    t = T0 + 100 * DAY;
    assert_int_equal(pit_rotation_rotate_later(&in, t, WEEK, HASH2, HINT2),
                     PIT_OK);
    assert_int_equal(pit_rotation_due(&in, t + 1), 0);

    /* after the deadline, unsettled: the new token's age counts */
    assert_int_equal(pit_rotation_due(&in, t + WEEK), 0);
    assert_int_equal(pit_rotation_due(&in, t + 90 * DAY - 1), 0);
    assert_int_equal(pit_rotation_due(&in, t + 90 * DAY), 1);

    /* cancelling brings the old token back, and its age */
    assert_int_equal(pit_rotation_cancel(&in, t + DAY), PIT_OK);
    assert_int_equal(pit_rotation_due(&in, t + DAY), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_story_later_cancel_expire_settle_now),
        cmocka_unit_test(test_settle_at_the_deadline_exactly),
        cmocka_unit_test(test_settle_without_rotation_changes_nothing),
        cmocka_unit_test(test_settle_is_the_same_whenever_it_runs),
        cmocka_unit_test(test_cancel_and_expire_after_the_deadline_are_refused),
        cmocka_unit_test(test_rotate_later_after_the_deadline_starts_from_next),
        cmocka_unit_test(test_rotate_later_rejects_bad_arguments),
        cmocka_unit_test(test_rotate_now_rejects_bad_arguments),
        cmocka_unit_test(test_default_overlap_is_seven_days),
        cmocka_unit_test(test_effective_role_around_the_deadline),
        cmocka_unit_test(test_effective_roles_of_a_rotation_match_settle),
        cmocka_unit_test(test_state_names_and_find),
        cmocka_unit_test(test_rotation_due_after_ninety_days),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
