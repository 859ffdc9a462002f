/* fuzz_openstack_servers: the Nova GET /servers/detail page parser (os_parse_servers). */
#include "os_parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cb_instance_list list = { 0 };
    struct os_server_filter any = { .pool = "pool" }, one = { .pool = "pool", .batch = "b1" };
    char marker[128];
    size_t items;
    struct cb_err err = CB_ERR_INIT;

    if (os_parse_servers((const char *)data, size, &any, &list, &items, marker, sizeof marker,
                         &err) == 0 && list.n > items)
        __builtin_trap();
    cb_err_clear(&err);
    os_parse_servers((const char *)data, size, &one, &list, &items, marker, sizeof marker, &err);
    cb_instance_list_free(&list);
    return 0;
}
