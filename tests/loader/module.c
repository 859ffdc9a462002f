/* A provider module for the loader's tests, compiled once per flavour:
 * LOADER_GOOD, LOADER_BAD_ABI, LOADER_WRONG_NAME, LOADER_NO_SYMBOL, LOADER_NO_LIST. */
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The state is the cloud's name, so a test can pick one cloud to be slow. */
static int mod_init(void **out, const struct cb_provider_init *args, struct cb_err *err)
{
    (void)err;
    *out = strdup(args->cloud_name != NULL ? args->cloud_name : "");
    return *out ? 0 : -1;
}

static int mod_boot(void *st, const struct cb_boot_spec *spec, struct cb_instance_list *out,
                    struct cb_err *err)
{
    (void)st;
    if (spec->count == 999) {
        /* A slow call, so tests can catch a worker with calls in flight. */
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (spec->count == 1) {
        struct cb_instance *in = cb_instance_list_add(out);
        if (in == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "loadertest", "out of memory");
        snprintf(in->id, sizeof in->id, "i-%s", spec->batch_id);
        snprintf(in->node_id, sizeof in->node_id, "%s-0", spec->batch_id);
        in->state = CB_INSTANCE_PENDING;
        return 0;
    }
    return cb_err_set(err, CB_ERR_QUOTA, "loadertest", "no capacity for %u", spec->count);
}

#ifndef LOADER_NO_LIST
static int mod_list(void *st, struct cb_instance_list *out, struct cb_err *err)
{
    (void)err;
    /* CB_LOADERTEST_SLOW_LIST=CLOUD:SECONDS makes CLOUD's listing hang that
     * long, as a cloud API that stopped answering does. */
    const char *slow = getenv("CB_LOADERTEST_SLOW_LIST");
    const char *colon = slow != NULL ? strchr(slow, ':') : NULL;
    if (colon != NULL && strlen(st) == (size_t)(colon - slow) && strncmp(slow, st, strlen(st)) == 0) {
        struct timespec ts = { atoi(colon + 1), 0 };
        nanosleep(&ts, NULL);
    }
    struct cb_instance *in = cb_instance_list_add(out);
    if (in == NULL)
        return -1;
    in->state = CB_INSTANCE_RUNNING;
    return 0;
}
#endif

/* Ids starting with "stuck" cannot be terminated; everything else can. */
static int mod_terminate(void *st, const char *const *ids, size_t n, bool *failed,
                         struct cb_err *err)
{
    int rc = 0;
    (void)st;
    for (size_t i = 0; i < n; i++) {
        bool stuck = strncmp(ids[i], "stuck", 5) == 0;
        if (failed != NULL)
            failed[i] = stuck;
        if (stuck)
            rc = cb_err_set(err, CB_ERR_TRANSIENT, "loadertest", "%s did not terminate", ids[i]);
    }
    return rc;
}

static void mod_fini(void *st)
{
    free(st);
}

#ifdef LOADER_NO_SYMBOL
/* Exported under an older name only: the loader must not find it. */
#define OPS_SYMBOL cb_provider_ops_v0
#else
#define OPS_SYMBOL cb_provider_ops_v1
#endif
extern const struct cb_provider_ops OPS_SYMBOL;
const struct cb_provider_ops OPS_SYMBOL = {
#ifdef LOADER_BAD_ABI
    .abi_version = CB_PROVIDER_ABI_VERSION + 1,
#else
    .abi_version = CB_PROVIDER_ABI_VERSION,
#endif
#ifdef LOADER_WRONG_NAME
    .name = "somethingelse",
#else
    .name = LOADER_NAME,
#endif
    .description = "loader test module",
    .caps = CB_PROVIDER_CAP_BATCH_BOOT,
    .init = mod_init,
    .boot = mod_boot,
#ifndef LOADER_NO_LIST
    .list = mod_list,
#endif
    .terminate = mod_terminate,
    .fini = mod_fini,
};
