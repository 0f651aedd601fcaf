/*
 * pit-auth core: the rotation state machine, as pure functions of an
 * integration's tokens at time now (milliseconds since the epoch).
 *
 *   active:   one token, role primary.
 *   rotating: a "previous" token (the old one) and a "next" token (the new
 *             one), both valid until the deadline; at the deadline "next"
 *             becomes primary and "previous" is invalid, with no job
 *             running: every reader applies pit_role_effective().
 *
 * Functions that issue a token take the new token's hash and hint from the
 * caller (who generated it), so they stay pure and testable.
 */

#ifndef PIT_ROTATION_H
#define PIT_ROTATION_H

#include <stdint.h>

#include "pit_error.h"
#include "pit_record.h"

#define PIT_OVERLAP_DEFAULT_MS  (7LL * 24 * 3600 * 1000)
#define PIT_ROTATION_DUE_MS     (90LL * 24 * 3600 * 1000)

typedef enum {
    PIT_STATE_ACTIVE = 0,
    PIT_STATE_ROTATING
} pit_state_t;

/*
 * Returns the role a token with stored role and deadline until_ms has at
 * now: "next" is "primary" from its deadline on, "previous" is
 * PIT_ROLE_INVALID from its deadline on, "primary" stays "primary".
 */
pit_role_t pit_role_effective(pit_role_t role, int64_t until_ms, int64_t now);

/*
 * Applies the transitions due at now to in (a rotation whose deadline has
 * passed is completed: previous dropped, next made primary).  Returns 1 if
 * in changed, else 0.
 */
int pit_rotation_settle(pit_integration_t *in, int64_t now);

/* Returns the state of in at now (after settling a copy). */
pit_state_t pit_rotation_state(const pit_integration_t *in, int64_t now);

/* Returns "active" or "rotating". */
const char *pit_state_name(pit_state_t s);

/*
 * Rotate later: the primary becomes "previous" until now + overlap_ms, a
 * new token (hash, hint) is "next" until the same deadline.  PIT_ERR_STATE
 * if a rotation is already in progress; PIT_ERR_ARG if overlap_ms <= 0.
 */
pit_err_t pit_rotation_rotate_later(pit_integration_t *in, int64_t now,
    int64_t overlap_ms, const char *hash, const char *hint);

/*
 * Rotate now: every token is dropped and the new one is the only primary.
 * Allowed in any state (a leak during a rotation is still a leak).
 */
pit_err_t pit_rotation_rotate_now(pit_integration_t *in, int64_t now,
    const char *hash, const char *hint);

/*
 * Cancel rotation: "next" is dropped and "previous" is primary again.
 * PIT_ERR_STATE if no rotation is in progress.
 */
pit_err_t pit_rotation_cancel(pit_integration_t *in, int64_t now);

/*
 * Expire now: "previous" is dropped and "next" is primary at once.
 * PIT_ERR_STATE if no rotation is in progress.
 */
pit_err_t pit_rotation_expire_now(pit_integration_t *in, int64_t now);

/*
 * Returns the index of in's token with this role (as stored), or -1.
 */
int pit_rotation_find(const pit_integration_t *in, pit_role_t role);

/* Returns 1 if in's primary token is PIT_ROTATION_DUE_MS old or more. */
int pit_rotation_due(const pit_integration_t *in, int64_t now);

#endif /* PIT_ROTATION_H */
