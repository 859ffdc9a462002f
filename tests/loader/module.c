/* A provider module for the loader's tests, compiled once per flavour:
 * LOADER_GOOD, LOADER_BAD_ABI, LOADER_WRONG_NAME, LOADER_NO_SYMBOL, LOADER_NO_LIST. */
#include "provider.h"

#include <stdlib.h>

static int mod_init(void **out, const struct cb_provider_init *args, struct cb_err *err)
{
    (void)args;
    (void)err;
    *out = malloc(1);
    return *out ? 0 : -1;
}

static int mod_boot(void *st, const struct cb_boot_spec *spec, struct cb_instance_list *out,
                    struct cb_err *err)
{
    (void)st;
    (void)out;
    return cb_err_set(err, CB_ERR_QUOTA, "loadertest", "no capacity for %u", spec->count);
}

#ifndef LOADER_NO_LIST
static int mod_list(void *st, struct cb_instance_list *out, struct cb_err *err)
{
    (void)st;
    (void)err;
    struct cb_instance *in = cb_instance_list_add(out);
    if (in == NULL)
        return -1;
    in->state = CB_INSTANCE_RUNNING;
    return 0;
}
#endif

static int mod_terminate(void *st, const char *const *ids, size_t n, bool *failed,
                         struct cb_err *err)
{
    (void)st;
    (void)ids;
    (void)n;
    (void)failed;
    (void)err;
    return 0;
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
