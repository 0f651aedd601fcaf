/*
 * pit-auth core: the rotation state machine.
 *
 *   active    tokens = [primary],          rotation = none
 *   rotating  tokens = [previous, next],   rotation = {started, deadline}
 *
 *   active   --rotate later-->  rotating   (old primary becomes previous)
 *   rotating --cancel-------->  active     (next dropped, previous primary)
 *   rotating --expire now---->  active     (previous dropped, next primary)
 *   rotating --deadline------>  active     (as expire now; see settle)
 *   any      --rotate now---->  active     (every old token dropped)
 *
 * Every function is pure: it reads and writes only the integration it is
 * given, takes the time as an argument and the new token's hash and hint
 * from the caller.  A failed operation leaves the integration unchanged.
 * A rotation whose deadline has passed counts as finished everywhere, even
 * before pit_rotation_settle() has rewritten the tokens.
 */

#include <string.h>

#include "pit_rotation.h"

/* =============================================================================
 * Roles and states
 * ==========================================================================*/

/*
 * Returns the role a token with stored role and deadline until_ms has at
 * now.  A "next" token without a deadline stays "next"; a "previous" token
 * without one is corrupt and therefore PIT_ROLE_INVALID.
 */
pit_role_t pit_role_effective(pit_role_t role, int64_t until_ms, int64_t now)
{
    switch (role) {
    case PIT_ROLE_PRIMARY:
        return PIT_ROLE_PRIMARY;

    case PIT_ROLE_NEXT:
        return (until_ms > 0 && now >= until_ms) ? PIT_ROLE_PRIMARY
                                                 : PIT_ROLE_NEXT;

    case PIT_ROLE_PREVIOUS:
        return (until_ms <= 0 || now >= until_ms) ? PIT_ROLE_INVALID
                                                  : PIT_ROLE_PREVIOUS;

    default:
        return PIT_ROLE_INVALID;
    }
}

/* Returns 1 if in is rotating at now (its deadline still ahead), else 0. */
static int pit_rotation_in_progress(const pit_integration_t *in, int64_t now)
{
    return in->rotating && now < in->rotation_deadline_ms;
}

/* Returns PIT_STATE_ROTATING while in's deadline is ahead of now. */
pit_state_t pit_rotation_state(const pit_integration_t *in, int64_t now) {
    if (in == NULL || !pit_rotation_in_progress(in, now)) {
        return PIT_STATE_ACTIVE;
    }
    return PIT_STATE_ROTATING;
}

/* Returns "active" or "rotating". */
const char *pit_state_name(pit_state_t s) {
    return s == PIT_STATE_ROTATING ? "rotating" : "active";
}

/* Returns the index of in's first token with this stored role, or -1. */
int pit_rotation_find(const pit_integration_t *in, pit_role_t role) {
    size_t  i;

    if (in == NULL) {
        return -1;
    }
    for (i = 0; i < in->ntokens && i < PIT_TOKENS_MAX; i++) {
        if (in->tokens[i].role == role) {
            return (int) i;
        }
    }
    return -1;
}

/* =============================================================================
 * Helpers
 * ==========================================================================*/

/*
 * Returns PIT_OK if hash is 64 lowercase hex digits and hint 1-36 bytes
 * and no token of in already has this hash, else PIT_ERR_ARG.
 */
static pit_err_t pit_rotation_check_new(const pit_integration_t *in,
    const char *hash, const char *hint)
{
    unsigned char  raw[PIT_HASH_LEN];
    size_t         i, n;

    if (hash == NULL || hint == NULL
        || strnlen(hash, PIT_HASH_HEX_LEN + 1) != PIT_HASH_HEX_LEN
        || pit_hex_decode(hash, PIT_HASH_LEN, raw) != PIT_OK)
    {
        return PIT_ERR_ARG;
    }
    for (i = 0; i < PIT_HASH_HEX_LEN; i++) {
        if (hash[i] >= 'A' && hash[i] <= 'F') {
            return PIT_ERR_ARG;
        }
    }
    n = strnlen(hint, PIT_HINT_LEN + 1);
    if (n == 0 || n > PIT_HINT_LEN) {
        return PIT_ERR_ARG;
    }
    for (i = 0; i < in->ntokens && i < PIT_TOKENS_MAX; i++) {
        if (strcmp(in->tokens[i].hash, hash) == 0) {
            return PIT_ERR_ARG;
        }
    }
    return PIT_OK;
}

/* Fills t as a token issued at now (hash and hint already checked). */
static void pit_rotation_token_set(pit_token_info_t *t, const char *hash,
    const char *hint, pit_role_t role, int64_t now, int64_t until_ms)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->hash, hash, PIT_HASH_HEX_LEN);
    memcpy(t->hint, hint, strnlen(hint, PIT_HINT_LEN));
    t->role = role;
    t->created_at_ms = now;
    t->until_ms = until_ms;
}

/*
 * Returns PIT_OK after ending the rotation of in: the token stored with
 * role keep becomes the only one, primary without deadline, and
 * updated_at becomes at.  PIT_ERR_STATE (in unchanged) if no token has
 * that role.
 */
static pit_err_t pit_rotation_finish(pit_integration_t *in, pit_role_t keep,
    int64_t at)
{
    int  i;

    i = pit_rotation_find(in, keep);
    if (i < 0) {
        return PIT_ERR_STATE;
    }
    if (i != 0) {
        in->tokens[0] = in->tokens[i];
    }
    memset(&in->tokens[1], 0, sizeof(in->tokens) - sizeof(in->tokens[0]));
    in->tokens[0].role = PIT_ROLE_PRIMARY;
    in->tokens[0].until_ms = 0;
    in->ntokens = 1;
    in->rotating = 0;
    in->rotation_started_ms = 0;
    in->rotation_deadline_ms = 0;
    in->updated_at_ms = at;
    return PIT_OK;
}

/* =============================================================================
 * Transitions
 * ==========================================================================*/

/*
 * Returns 1 if in held a rotation whose deadline is at or before now and
 * has been completed (previous dropped, next primary), else 0.  The
 * completion is dated at the deadline, not at now: updated_at becomes the
 * deadline (unless already later), so settling the same record at any two
 * times after the deadline gives the same result.
 */
int pit_rotation_settle(pit_integration_t *in, int64_t now) {
    int64_t  at;

    if (in == NULL || !in->rotating || now < in->rotation_deadline_ms) {
        return 0;
    }
    at = in->updated_at_ms > in->rotation_deadline_ms
         ? in->updated_at_ms : in->rotation_deadline_ms;
    return pit_rotation_finish(in, PIT_ROLE_NEXT, at) == PIT_OK;
}

/*
 * Returns PIT_OK after starting a rotation: the primary becomes "previous"
 * and a new "next" token is issued, both valid until now + overlap_ms.
 * PIT_ERR_STATE if a rotation is in progress or there is no primary;
 * PIT_ERR_ARG for a bad time, overlap, hash or hint.
 */
pit_err_t pit_rotation_rotate_later(pit_integration_t *in, int64_t now,
    int64_t overlap_ms, const char *hash, const char *hint)
{
    int64_t    deadline;
    int        p;
    pit_err_t  rc;

    if (in == NULL || now < 0 || overlap_ms <= 0
        || overlap_ms > INT64_MAX - now)
    {
        return PIT_ERR_ARG;
    }
    if (pit_rotation_in_progress(in, now)) {
        return PIT_ERR_STATE;
    }
    if (in->rotating) {
        p = pit_rotation_find(in, PIT_ROLE_NEXT);   /* will be the primary */
    } else {
        p = pit_rotation_find(in, PIT_ROLE_PRIMARY);
    }
    if (p < 0) {
        return PIT_ERR_STATE;
    }
    rc = pit_rotation_check_new(in, hash, hint);
    if (rc != PIT_OK) {
        return rc;
    }

    pit_rotation_settle(in, now);
    p = pit_rotation_find(in, PIT_ROLE_PRIMARY);
    if (p != 0) {
        in->tokens[0] = in->tokens[p];
    }

    deadline = now + overlap_ms;
    in->tokens[0].role = PIT_ROLE_PREVIOUS;
    in->tokens[0].until_ms = deadline;
    pit_rotation_token_set(&in->tokens[1], hash, hint, PIT_ROLE_NEXT, now,
                           deadline);
    memset(&in->tokens[2], 0, sizeof(in->tokens) - 2 * sizeof(in->tokens[0]));
    in->ntokens = 2;
    in->rotating = 1;
    in->rotation_started_ms = now;
    in->rotation_deadline_ms = deadline;
    in->updated_at_ms = now;
    return PIT_OK;
}

/*
 * Returns PIT_OK after replacing every token with a new primary; allowed
 * in any state.  PIT_ERR_ARG for a bad time, hash or hint.
 */
pit_err_t pit_rotation_rotate_now(pit_integration_t *in, int64_t now,
    const char *hash, const char *hint)
{
    pit_err_t  rc;

    if (in == NULL || now < 0) {
        return PIT_ERR_ARG;
    }
    rc = pit_rotation_check_new(in, hash, hint);
    if (rc != PIT_OK) {
        return rc;
    }

    memset(in->tokens, 0, sizeof(in->tokens));
    pit_rotation_token_set(&in->tokens[0], hash, hint, PIT_ROLE_PRIMARY, now,
                           0);
    in->ntokens = 1;
    in->rotating = 0;
    in->rotation_started_ms = 0;
    in->rotation_deadline_ms = 0;
    in->updated_at_ms = now;
    return PIT_OK;
}

/*
 * Returns PIT_OK after cancelling the rotation in progress ("next"
 * dropped, "previous" primary again), PIT_ERR_STATE if there is none (also
 * once its deadline has passed: the new token already took over).
 */
pit_err_t pit_rotation_cancel(pit_integration_t *in, int64_t now) {
    if (in == NULL || now < 0) {
        return PIT_ERR_ARG;
    }
    if (!pit_rotation_in_progress(in, now)) {
        return PIT_ERR_STATE;
    }
    return pit_rotation_finish(in, PIT_ROLE_PREVIOUS, now);
}

/*
 * Returns PIT_OK after ending the rotation in progress at once ("previous"
 * dropped, "next" primary), PIT_ERR_STATE if there is none.
 */
pit_err_t pit_rotation_expire_now(pit_integration_t *in, int64_t now) {
    if (in == NULL || now < 0) {
        return PIT_ERR_ARG;
    }
    if (!pit_rotation_in_progress(in, now)) {
        return PIT_ERR_STATE;
    }
    return pit_rotation_finish(in, PIT_ROLE_NEXT, now);
}

/*
 * Returns 1 if the token in effect as primary at now (the stored primary,
 * or "next" once the deadline has passed) was issued PIT_ROTATION_DUE_MS
 * or more before now, else 0.  During a rotation nothing is due: the
 * rotation is already under way.
 */
int pit_rotation_due(const pit_integration_t *in, int64_t now) {
    int  i;

    if (in == NULL || pit_rotation_in_progress(in, now)) {
        return 0;
    }
    i = pit_rotation_find(in, in->rotating ? PIT_ROLE_NEXT : PIT_ROLE_PRIMARY);
    if (i < 0) {
        return 0;
    }
    if (now < in->tokens[i].created_at_ms) {
        return 0;
    }
    return now - in->tokens[i].created_at_ms >= PIT_ROTATION_DUE_MS;
}
