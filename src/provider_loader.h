/* provider_loader: find, dlopen and check a provider driver (see provider.h).
 *
 * The loader checks, in order: the file exists and is not writable by group or
 * others (a writable plugin directory is code injection), the module exports
 * CB_PROVIDER_SYMBOL, abi_version is in CB_PROVIDER_ABI_MIN..CB_PROVIDER_ABI_VERSION
 * (else CB_ERR_VERSION), its name equals the requested name, and the mandatory
 * entries (init, boot, list, terminate, fini) are present. Only then may init run.
 *
 * Search: "<dir>/<name>.so", then the libtool build-tree places
 * "<dir>/<name>/.libs/<name>.so" and "<dir>/.libs/<name>.so", so that a build
 * tree's providers/ directory works unchanged for tests.
 */
#ifndef CB_PROVIDER_LOADER_H
#define CB_PROVIDER_LOADER_H

#include "provider.h"

struct cb_provider_module {
    void *handle;                       /* dlopen handle */
    const struct cb_provider_ops *ops;  /* valid while loaded */
    char path[4096];
};

/* Load driver `name` from `dir`. On error returns -1 and leaves *out zeroed. */
int cb_provider_load(struct cb_provider_module *out, const char *dir, const char *name,
                     struct cb_err *err);
void cb_provider_unload(struct cb_provider_module *m);

/* Dispatch for optional entries: host_keys of a driver without it fails with
 * CB_ERR_PERMANENT ("not supported by <name>"). */
int cb_provider_host_keys(const struct cb_provider_module *m, void *state,
                          const char *instance_id, char *buf, size_t len, struct cb_err *err);

#endif
