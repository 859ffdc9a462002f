/* fuzz_hostkeys: the console host-key parser on arbitrary bytes.
 *
 * Console output comes from the cloud (outside data). Whatever the input,
 * the parser must stay in bounds; when it accepts keys, every normalised
 * line must parse again to the same number of keys and match itself. */
#include "bootstrap.h"
#include "ssh_hostkey.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[CB_HOSTKEY_TEXT_MAX + 1], again[CB_HOSTKEY_TEXT_MAX + 1];
    struct cb_err err = CB_ERR_INIT;
    int n = cb_ssh_host_keys_parse((const char *)data, size, out, sizeof out, &err);
    if (n < 0) {
        if (!cb_err_isset(&err) || out[0] != '\0')
            abort();
        return 0;
    }
    if (n > CB_HOSTKEY_MAX_KEYS)
        abort();
    int m = cb_ssh_host_keys_parse(out, strlen(out), again, sizeof again, &err);
    if (m != n || strcmp(out, again) != 0)
        abort();
    enum cb_hostkey_verdict v;
    if (cb_host_keys_check_lines(out, "x", 1, &v, &err) != 0)
        abort();
    /* "x" is no key blob, so nothing matches it, except a fingerprint that
     * is that of "x" (a fingerprint is a hash of whatever blob it names). */
    char fp[64];
    cb_hostkey_fingerprint("x", 1, fp, sizeof fp);
    if (n > 0 && v == CB_HOSTKEY_MATCH && strstr(out, fp) == NULL)
        abort();
    return 0;
}
