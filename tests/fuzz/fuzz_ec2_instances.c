/* fuzz_ec2_instances: the EC2 instance-list parser (providers/ec2/ec2_xml.c)
 * on arbitrary bytes, read both as a DescribeInstancesResponse and as a
 * RunInstancesResponse, and the streaming nextToken scan, which must agree
 * with the full parse. A parse either succeeds with sane, sanitised fields or
 * fails with an error message; anything else (crash, leak, overflow) is a bug. */
#include "ec2_xml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const roots[] = { "DescribeInstancesResponse", "RunInstancesResponse" };
    ec2_xml_init();
    for (size_t r = 0; r < 2; r++) {
        struct cb_instance_list out = { 0 };
        struct cb_err err = CB_ERR_INIT;
        char token[EC2_NEXT_TOKEN_MAX + 1];
        if (ec2_xml_parse_instances((const char *)data, size, roots[r], &out, token, sizeof token,
                                    &err) == 0) {
            for (size_t i = 0; i < out.n; i++)
                if (out.items[i].id[0] == '\0' || out.items[i].state >= CB_INSTANCE__COUNT)
                    abort();
        } else if (err.msg[0] == '\0' || out.n != 0) {
            abort(); /* a failure must say why and leave nothing behind */
        }
        cb_instance_list_free(&out);
        /* the streaming token scan and the full parse must agree */
        if (r == 0) {
            char scanned[EC2_NEXT_TOKEN_MAX + 1];
            struct cb_err serr = CB_ERR_INIT, ferr = CB_ERR_INIT;
            struct cb_instance_list tmp = { 0 };
            int a = ec2_xml_next_token((const char *)data, size, scanned, sizeof scanned, &serr);
            int b = ec2_xml_parse_instances((const char *)data, size, roots[0], &tmp, token,
                                            sizeof token, &ferr);
            if (a == 0 && b == 0 && strcmp(scanned, token) != 0)
                abort();
            if (a != 0 && serr.msg[0] == '\0')
                abort();
            cb_instance_list_free(&tmp);
        }
    }
    return 0;
}
