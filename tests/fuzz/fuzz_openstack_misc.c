/* fuzz_openstack_misc: the small Nova/Keystone reply parsers: flavor/image
 * lookup (os_parse_find_ref), POST /servers (os_parse_create), fault bodies
 * (os_parse_fault), console host keys (os_parse_console_host_keys). */
#include "os_parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    char id[CB_ID_MAX], msg[300];
    struct cb_err err = CB_ERR_INIT;

    os_parse_find_ref(body, size, "flavors", "m1.small", id, sizeof id, &err);
    cb_err_clear(&err);
    os_parse_find_ref(body, size, "images", "fakeimage7", id, sizeof id, &err);
    cb_err_clear(&err);
    os_parse_create(body, size, id, sizeof id, &err);
    os_parse_fault(body, size, msg, sizeof msg);
    if (strlen(msg) >= sizeof msg)
        __builtin_trap();
    char keys[512];
    cb_err_clear(&err);
    if (os_parse_console_host_keys(body, size, keys, sizeof keys, &err) == 0 &&
        (strlen(keys) >= sizeof keys || keys[strlen(keys) - 1] != '\n'))
        __builtin_trap();
    return 0;
}
