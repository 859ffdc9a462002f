/* fuzz_ec2_terminate: the TerminateInstancesResponse parser on arbitrary bytes. */
#include "ec2_xml.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cb_instance_list out = { 0 };
    struct cb_err err = CB_ERR_INIT;
    ec2_xml_init();
    if (ec2_xml_parse_terminate((const char *)data, size, &out, &err) == 0) {
        for (size_t i = 0; i < out.n; i++)
            if (out.items[i].id[0] == '\0')
                abort();
    } else if (err.msg[0] == '\0' || out.n != 0) {
        abort();
    }
    cb_instance_list_free(&out);
    return 0;
}
