/* fuzz_pool_totals: condor_q -totals output through the line splitter and
 * the "Total for query" parser. */
#include "pool_parse.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cb_err err = CB_ERR_INIT;
    struct pool_totals_parser t = {0};
    struct pool_lines l;

    if (pool_lines_init(&l, "condor_q -totals", 4096, pool_totals_line, &t, &err) != 0)
        return 0;
    if (pool_lines_feed(&l, (const char *)data, size, &err) == 0)
        pool_lines_finish(&l, &err);
    pool_lines_free(&l);
    return 0;
}
