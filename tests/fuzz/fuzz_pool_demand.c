/* fuzz_pool_demand: condor_q -af:t output through the line splitter and the
 * job-shape aggregator. The first byte picks the column layout (1..4 clouds,
 * 1..3 runtime columns) and the chunk size, so splits at every position are
 * exercised; the rest is the tool's output. */
#include "pool_parse.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cb_err err = CB_ERR_INIT;
    struct cb_demand d = {0};
    struct pool_demand_parser p;
    struct pool_lines l;
    unsigned clouds = 1, runtime = 3;
    size_t chunk = 4096;

    if (size > 0) {
        clouds = 1u + (data[0] & 3u);
        runtime = 1u + (unsigned)((data[0] >> 2) % 3u);
        chunk = 1u + (size_t)(data[0] >> 4) * 97u;
        data++;
        size--;
    }
    if (pool_demand_init(&p, &d, clouds, runtime, &err) != 0)
        return 0;
    if (pool_lines_init(&l, "condor_q", 4096, pool_demand_line, &p, &err) == 0) {
        int rc = 0;
        for (size_t o = 0; o < size && rc == 0; o += chunk) {
            size_t n = size - o < chunk ? size - o : chunk;
            rc = pool_lines_feed(&l, (const char *)data + o, n, &err);
        }
        if (rc == 0)
            pool_lines_finish(&l, &err);
        pool_demand_finish(&p);
        pool_demand_sort(&d);
        pool_lines_free(&l);
    }
    pool_demand_parser_free(&p);
    cb_demand_free(&d);
    return 0;
}
