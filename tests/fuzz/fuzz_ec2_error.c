/* fuzz_ec2_error: the EC2 error-document parser (<Response><Errors><Error>)
 * on arbitrary bytes; a parsed code is never empty and never has a control byte. */
#include "ec2_xml.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ec2_error_doc doc;
    struct cb_err err = CB_ERR_INIT;
    ec2_xml_init();
    if (ec2_xml_parse_error((const char *)data, size, &doc, &err) == 0) {
        if (doc.code[0] == '\0')
            abort();
        for (const char *p = doc.message; *p; p++)
            if ((unsigned char)*p < 0x20)
                abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
