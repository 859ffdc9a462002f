/* pool_config: see pool_config.h. */
#include "pool_config.h"

#include <stdlib.h>
#include <string.h>

int cb_pool_config_from(const struct cb_config *cfg, struct cb_pool_config *out, struct cb_err *err)
{
    size_t n = cfg->n_clouds ? cfg->n_clouds : 1;

    memset(out, 0, sizeof *out);
    out->eligibility = calloc(n, sizeof *out->eligibility);
    out->cloud_names = calloc(n, sizeof *out->cloud_names);
    if (out->eligibility == NULL || out->cloud_names == NULL) {
        cb_pool_config_free(out);
        return cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
    }
    for (size_t i = 0; i < cfg->n_clouds; i++) {
        out->eligibility[i] = cfg->clouds[i].eligibility;
        out->cloud_names[i] = cfg->clouds[i].name;
    }
    out->opts = (struct cb_pool_options){
        .condor_q = cfg->pool.condor_q,
        .condor_status = cfg->pool.condor_status,
        .condor_drain = cfg->pool.condor_drain,
        .collector = cfg->pool.collector,
        .schedds = (const char *const *)cfg->pool.schedds.items,
        .n_schedds = cfg->pool.schedds.n,
        .timeout_ms = cfg->pool.query_timeout * 1000u,
        .cloud_attribute = cfg->pool.cloud_attribute,
        .eligibility = out->eligibility,
        .n_clouds = cfg->n_clouds,
        .cloud_names = out->cloud_names,
        .runtime_attribute = cfg->pool.runtime_attribute,
        .drain_args = (const char *const *)cfg->pool.drain_args.items,
        .n_drain_args = cfg->pool.drain_args.n,
        /* -totals first: 0.03 s when nothing is idle instead of the projection. */
        .totals_first = true,
    };
    return 0;
}

void cb_pool_config_free(struct cb_pool_config *pc)
{
    free(pc->eligibility);
    free(pc->cloud_names);
    memset(pc, 0, sizeof *pc);
}
