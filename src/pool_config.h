/* pool_config: struct cb_config -> struct cb_pool_options, shared by the
 * daemon and `cloudburstctl pool` so both observe the pool the same way.
 * The options borrow strings from cfg (which must outlive them) and two
 * arrays held in `keep` (free with cb_pool_config_free). */
#ifndef CB_POOL_CONFIG_H
#define CB_POOL_CONFIG_H

#include "cb_error.h"
#include "config.h"
#include "pool.h"

struct cb_pool_config {
    struct cb_pool_options opts;
    const char **eligibility;
    const char **cloud_names;
};

int cb_pool_config_from(const struct cb_config *cfg, struct cb_pool_config *out, struct cb_err *err);
void cb_pool_config_free(struct cb_pool_config *pc);

#endif
