/* fuzz_openstack_token: the Keystone v3 token/catalog parser (os_parse_token). */
#include "os_parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct os_token_info info;
    struct cb_err err = CB_ERR_INIT;
    static const char *const regions[] = { NULL, "regionOne", "RegionOne" };
    for (size_t i = 0; i < 3; i++) {
        cb_err_clear(&err);
        if (os_parse_token((const char *)data, size, regions[i], "public", (int)(i != 0), &info,
                           &err) == 0 && strlen(info.compute_url) >= sizeof info.compute_url)
            __builtin_trap();
    }
    return 0;
}
