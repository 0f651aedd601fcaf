/*
 * Fuzz target: the token record JSON (the value of <prefix>tok:<hash>,
 * read by the nginx module on every lookup).
 *
 * A record that decodes must encode again and decode to the same record
 * (nothing half-valid survives decoding), in the canonical form the scan
 * reads.  Differential: whatever the canonical scan accepts, the general
 * (jansson) decoder accepts with a byte-identical record, and
 * pit_token_record_from_json() always answers as the general decoder does.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pit_fuzz_same(const pit_token_record_t *a,
    const pit_token_record_t *b)
{
    return strcmp(a->iid, b->iid) == 0 && strcmp(a->acct, b->acct) == 0
           && a->acct_type == b->acct_type && a->role == b->role
           && a->until_ms == b->until_ms
           && pit_scope_set_equal(&a->scopes, &b->scopes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static pit_token_record_t  rec, again, ref, scan;
    static char                buf[PIT_JSON_MAX];
    const char                *json = (const char *) data;
    size_t                     len;
    pit_err_t                  rc, rc_ref;

    rc = pit_token_record_from_json(json, size, &rec);
    rc_ref = pit_token_record_from_general_json(json, size, &ref);
    if (rc != rc_ref || memcmp(&rec, &ref, sizeof(rec)) != 0) abort();
    if (pit_token_record_from_canonical_json(json, size, &scan) == PIT_OK
        && (rc_ref != PIT_OK || memcmp(&scan, &ref, sizeof(scan)) != 0))
    {
        abort();
    }

    if (rc != PIT_OK)
        return 0;
    if (pit_token_record_to_json(&rec, buf, sizeof(buf), &len) != PIT_OK)
        abort();
    if (pit_token_record_from_canonical_json(buf, len, &again) != PIT_OK)
        abort();
    if (!pit_fuzz_same(&rec, &again)) abort();
    return 0;
}
