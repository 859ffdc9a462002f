/* fuzz_config: the cloudburst.conf loader on arbitrary bytes.
 *
 * Loads the input as a configuration with providers and secret files
 * skipped (no dlopen, no file access: only the parser and the validation run)
 * and, when it loads, prints it and loads the printout again, which must
 * succeed: the effective configuration always reads back.
 *
 * With libFuzzer: LSAN_OPTIONS=suppressions=tests/fuzz/libconfig.supp, since
 * libconfig 1.5 leaks a lexer buffer on some syntax errors (its bug, not
 * ours); every other leak or crash is a finding. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned flags = CB_CONFIG_SKIP_PROVIDERS | CB_CONFIG_SKIP_SECRETS;
    struct cb_config *cfg = NULL;
    struct cb_err err = CB_ERR_INIT;

    if (cb_config_load_text(&cfg, "fuzz.conf", (const char *)data, size, NULL, flags, &err) != 0)
        return 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        abort();
    if (cb_config_print(cfg, f) != 0)
        abort();
    fclose(f);
    struct cb_config *again = NULL;
    struct cb_err err2 = CB_ERR_INIT;
    if (cb_config_load_text(&again, "printed.conf", buf, len, NULL, flags, &err2) != 0) {
        fprintf(stderr, "printed configuration does not load: %s: %s\n", err2.origin, err2.msg);
        abort();
    }
    cb_config_free(again);
    free(buf);
    cb_config_free(cfg);
    return 0;
}
