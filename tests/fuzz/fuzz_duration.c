/*
 * Fuzz target: pitctl's durations ("7d", "36h", "--overlap"), parsed by
 * pit_duration_parse, and pit_duration_format of the result and of the
 * raw input bytes read as a number.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pit_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t    ms = -1, any = 0;
    char       buf[64];
    pit_err_t  rc;

    rc = pit_duration_parse((const char *) data, size, &ms);
    if (rc == PIT_OK) {
        if (ms <= 0 || ms > 3650LL * 24 * 3600 * 1000) abort();
        pit_duration_format(ms, buf, sizeof(buf));
        if (memchr(buf, 0, sizeof(buf)) == NULL) abort();
    } else if (rc != PIT_ERR_DURATION) {
        abort();
    }

    memcpy(&any, data, size < sizeof(any) ? size : sizeof(any));
    pit_duration_format(any, buf, sizeof(buf));
    if (memchr(buf, 0, sizeof(buf)) == NULL) abort();
    pit_duration_format(any, buf, size % sizeof(buf));
    return 0;
}
