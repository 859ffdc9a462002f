/* fuzz_pool_supply: condor_status -json output through the streaming ad
 * reader and the node aggregator, as slot ads and as StartD ads. The whole
 * input is fed twice: in one chunk, then in chunks of 7 bytes. */
#include "pool_parse.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const uint8_t *data, size_t size, size_t chunk, bool startd)
{
    static const char *const rt[] = {"MaxWallTime", "RequestRuntime", NULL};
    struct cb_err err = CB_ERR_INIT;
    struct cb_supply s = {0};
    struct pool_supply_builder b;
    struct pool_json_stream j;

    if (pool_supply_init(&b, &s, rt, &err) != 0)
        return;
    if (pool_json_init(&j, "condor_status", startd ? pool_supply_startd_ad : pool_supply_slot_ad,
                       &b, &err) == 0) {
        int rc = 0;
        for (size_t o = 0; o < size && rc == 0; o += chunk) {
            size_t n = size - o < chunk ? size - o : chunk;
            rc = pool_json_feed(&j, (const char *)data + o, n, &err);
        }
        if (rc == 0 && pool_json_finish(&j, &err) == 0)
            pool_supply_finish(&b);
        pool_json_free(&j);
    }
    pool_supply_builder_free(&b);
    cb_supply_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, size > 0 ? size : 1, false);
    run(data, size, 7, false);
    run(data, size, size > 0 ? size : 1, true);
    return 0;
}
