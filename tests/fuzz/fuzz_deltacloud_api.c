/* fuzz_deltacloud_api: the Deltacloud entry point parser (dc_parse_api). */
#include "dc_parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dc_api api;
    struct cb_err err = CB_ERR_INIT;
    if (dc_parse_api((const char *)data, size, &api, &err) == 0 &&
        strlen(api.instances_href) >= sizeof api.instances_href)
        __builtin_trap();
    return 0;
}
