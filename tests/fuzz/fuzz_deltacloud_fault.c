/* fuzz_deltacloud_fault: the Deltacloud <error> document reader (dc_parse_fault). */
#include "dc_parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[200];
    dc_parse_fault((const char *)data, size, msg, sizeof msg);
    if (strlen(msg) >= sizeof msg || strchr(msg, '\n') != NULL)
        __builtin_trap();
    return 0;
}
