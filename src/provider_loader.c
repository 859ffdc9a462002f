/* provider_loader: see provider_loader.h. */
#include "provider_loader.h"
#include "cb_text.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int find_module(char *path, size_t len, const char *dir, const char *name)
{
    struct stat st;

    snprintf(path, len, "%s/%s.so", dir, name);
    if (stat(path, &st) == 0)
        return 0;
    snprintf(path, len, "%s/%s/.libs/%s.so", dir, name, name);
    if (stat(path, &st) == 0)
        return 0;
    snprintf(path, len, "%s/.libs/%s.so", dir, name);
    if (stat(path, &st) == 0)
        return 0;
    snprintf(path, len, "%s/%s.so", dir, name);
    return -1;
}

int cb_provider_load(struct cb_provider_module *out, const char *dir, const char *name,
                     struct cb_err *err)
{
    struct stat st;

    memset(out, 0, sizeof *out);
    if (!cb_is_safe_name(name))
        return cb_err_set(err, CB_ERR_INVALID, "provider", "invalid provider name '%s'", name);
    if (find_module(out->path, sizeof out->path, dir, name) != 0)
        return cb_err_set(err, CB_ERR_NOT_FOUND, out->path,
                          "no provider driver '%s' in %s (is it installed?)", name, dir);
    if (stat(out->path, &st) != 0)
        return cb_err_errno(err, CB_ERR_IO, errno, out->path, "cannot stat provider");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return cb_err_set(err, CB_ERR_PERMANENT, out->path,
                          "provider module is writable by group or others (mode %04o): refused",
                          (unsigned)(st.st_mode & 07777));

    void *h = dlopen(out->path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return cb_err_set(err, CB_ERR_PERMANENT, out->path, "dlopen failed: %s", dlerror());

    const struct cb_provider_ops *ops = dlsym(h, CB_PROVIDER_SYMBOL);
    if (ops == NULL) {
        dlclose(h);
        return cb_err_set(err, CB_ERR_PERMANENT, out->path,
                          "not a cloudburst provider (no symbol %s)", CB_PROVIDER_SYMBOL);
    }
    if (ops->abi_version < CB_PROVIDER_ABI_MIN || ops->abi_version > CB_PROVIDER_ABI_VERSION) {
        int v = ops->abi_version;
        dlclose(h);
        return cb_err_set(err, CB_ERR_VERSION, out->path,
                          "provider ABI version %d not supported (this cloudburst accepts %d..%d)",
                          v, CB_PROVIDER_ABI_MIN, CB_PROVIDER_ABI_VERSION);
    }
    if (ops->name == NULL || strcmp(ops->name, name) != 0) {
        /* The message is built before dlclose: ops->name lives in the module. */
        cb_err_set(err, CB_ERR_PERMANENT, out->path, "module calls itself '%s', expected '%s'",
                   ops->name ? ops->name : "(null)", name);
        dlclose(h);
        return -1;
    }
    if (ops->init == NULL || ops->boot == NULL || ops->list == NULL || ops->terminate == NULL ||
        ops->fini == NULL) {
        dlclose(h);
        return cb_err_set(err, CB_ERR_PERMANENT, out->path,
                          "provider '%s' lacks a mandatory entry (init/boot/list/terminate/fini)",
                          name);
    }
    out->handle = h;
    out->ops = ops;
    return 0;
}

void cb_provider_unload(struct cb_provider_module *m)
{
    if (m->handle != NULL)
        dlclose(m->handle);
    memset(m, 0, sizeof *m);
}

int cb_provider_host_keys(const struct cb_provider_module *m, void *state,
                          const char *instance_id, char *buf, size_t len, struct cb_err *err)
{
    if (m->ops->host_keys == NULL)
        return cb_err_set(err, CB_ERR_PERMANENT, m->ops->name,
                          "reading host keys from the console is not supported by %s",
                          m->ops->name);
    return m->ops->host_keys(state, instance_id, buf, len, err);
}
