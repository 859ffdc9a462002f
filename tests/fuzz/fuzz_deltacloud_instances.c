/* fuzz_deltacloud_instances: the Deltacloud instance(s) parser (dc_parse_instances)
 * and the name/tag split every listed instance goes through (dc_to_instance). */
#include "dc_parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dc_instance_list l = { 0 };
    struct cb_err err = CB_ERR_INIT;
    if (dc_parse_instances((const char *)data, size, &l, &err) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            struct cb_instance inst;
            if (dc_to_instance(&l.items[i], "pool", &inst) == 0 &&
                strncmp(inst.node_id, inst.batch_id, strlen(inst.batch_id)) != 0)
                __builtin_trap();
        }
    }
    dc_instance_list_free(&l);
    return 0;
}
