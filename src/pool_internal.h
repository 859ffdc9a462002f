/* pool_internal: what src/pool.c (options, argument vectors, drain targets)
 * and src/pool_run.c (the tools on the libuv loop) share. Not an interface:
 * everything else uses pool.h. */
#ifndef CB_POOL_INTERNAL_H
#define CB_POOL_INTERNAL_H

#include "pool.h"
#include "pool_parse.h"

#include <stdbool.h>
#include <stddef.h>

struct drain_name {
    char machine[CB_HOST_MAX];
    char target[CB_HOST_MAX];
};

struct cb_pool {
    char *condor_q, *condor_status, *condor_drain, *collector, *cloud_attribute;
    char **schedds;
    size_t n_schedds;
    char **eligibility, **cloud_names;
    size_t n_clouds;
    char *runtime_attrs[POOL_MAX_RUNTIME_COLS + 1];
    size_t n_runtime;
    char **drain_args;
    size_t n_drain_args;
    unsigned timeout_ms;
    bool totals_first;
    bool query_running;
    struct drain_name *drain_names;     /* from the last successful query */
    size_t n_drain_names;
};

/* condor_drain [-pool c] (-cancel | -graceful <drain_args>) <target>;
 * NULL on ENOMEM. Free with cb_pool_argv_free(). */
char **pool_drain_argv(const struct cb_pool *p, const char *target, bool cancel);

#endif
