/* fuzz_sim_condor: the condor_history -json and -af trace parsers
 * (cloudburst-sim) on arbitrary bytes. Any input may be rejected; none may
 * crash, leak or half-load. */
#include "sim/sim.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum sim_trace_format fmts[] = { SIM_FMT_CONDOR_JSON, SIM_FMT_CONDOR_AF };
    for (size_t i = 0; i < 2; i++) {
        struct sim_trace t;
        struct cb_err err = CB_ERR_INIT;
        if (sim_trace_parse(&t, fmts[i], (const char *)data, size, "fuzz", &err) == 0) {
            for (size_t k = 0; k < t.n; k++)
                if (t.jobs[k].cpus == 0 || t.jobs[k].runtime < 1 || t.jobs[k].submit < 0)
                    abort();
        } else if (t.n != 0 || t.jobs != NULL) {
            abort();
        }
        sim_trace_free(&t);
    }
    return 0;
}
