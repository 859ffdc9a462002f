/* fuzz_ec2_credentials: the credential parsers on arbitrary bytes: the IMDS
 * role-credentials JSON and the credentials_file (INI or plain lines). */
#include "ec2_cred.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ec2_credentials c;
    struct cb_err err = CB_ERR_INIT;
    if (ec2_cred_parse_imds((const char *)data, size, &c, &err) == 0) {
        if (c.access_key_id == NULL || c.secret_access_key == NULL || c.expires < 0)
            abort();
        ec2_cred_wipe(&c);
    }
    cb_err_clear(&err);
    if (ec2_cred_parse_file((const char *)data, size, "default", "fuzz", &c, &err) == 0) {
        if (c.access_key_id == NULL || c.secret_access_key == NULL)
            abort();
        ec2_cred_wipe(&c);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
