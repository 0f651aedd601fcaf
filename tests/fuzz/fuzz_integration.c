/*
 * Fuzz target: the integration record JSON (the value of
 * <prefix>int:<iid>, read by pitctl).
 *
 * A record that decodes must encode, decode again, and encode to the same
 * bytes; every token record derived from it must encode too.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_record.h"
#include "pit_rotation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static pit_integration_t   in, again;
    static pit_token_record_t  rec;
    static char                buf[PIT_JSON_MAX], buf2[PIT_JSON_MAX];
    size_t                     len, len2, i;

    if (pit_integration_from_json((const char *) data, size, &in) != PIT_OK)
        return 0;
    if (pit_integration_to_json(&in, buf, sizeof(buf), &len) != PIT_OK)
        abort();
    if (pit_integration_from_json(buf, len, &again) != PIT_OK) abort();
    if (pit_integration_to_json(&again, buf2, sizeof(buf2), &len2) != PIT_OK)
        abort();
    if (len != len2 || memcmp(buf, buf2, len) != 0) abort();

    for (i = 0; i < in.ntokens; i++) {
        pit_token_record_of(&in, i, &rec);
        if (pit_token_record_to_json(&rec, buf2, sizeof(buf2), &len2)
            != PIT_OK)
            abort();
    }

    /* the pure rotation functions must accept whatever decoded */
    (void) pit_rotation_state(&in, in.updated_at_ms);
    (void) pit_rotation_due(&in, in.updated_at_ms);
    (void) pit_rotation_settle(&again, INT64_MAX / 2);
    return 0;
}
