/*
 * Fuzz target: the token record JSON (the value of <prefix>tok:<hash>,
 * read by the nginx module on every lookup).
 *
 * A record that decodes must encode again and decode to the same record
 * (nothing half-valid survives decoding).
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
    static pit_token_record_t  rec, again;
    static char                buf[PIT_JSON_MAX];
    size_t                     len;

    if (pit_token_record_from_json((const char *) data, size, &rec) != PIT_OK)
        return 0;
    if (pit_token_record_to_json(&rec, buf, sizeof(buf), &len) != PIT_OK)
        abort();
    if (pit_token_record_from_json(buf, len, &again) != PIT_OK) abort();
    if (!pit_fuzz_same(&rec, &again)) abort();
    return 0;
}
