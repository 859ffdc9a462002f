/* config_loader: what config.c (the schema walk) and config_provider.c (each
 * cloud's provider group) share while one configuration is being loaded.
 * Private to the config module.
 *
 * Errors: cfgl_fail*() record the first error in L->err with origin
 * "<file>:<line>" (line 0 means "not in the file": the last line is named)
 * and the message "<setting path>: <what is wrong>", and return -1.
 */
#ifndef CB_CONFIG_LOADER_H
#define CB_CONFIG_LOADER_H

#include "config.h"
#include "provider_loader.h"

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#define PATH_BUF 512 /* setting paths: "clouds.[63].flavors.[63].cost_per_hour" */

/* A driver dlopen'ed during one load (to read its settings spec); all are
 * unloaded when the load ends, the settings are copies. */
struct loaded_provider {
    char name[CB_NAME_MAX];
    struct cb_provider_module mod;
};

struct loader {
    struct cb_config *cfg;                 /* being built; freed on failure */
    config_t lc;                           /* libconfig's parse of the file */
    const char *provider_dir;              /* override, else controller.provider_dir */
    unsigned flags;                        /* CB_CONFIG_SKIP_* */
    int last_line;                         /* for errors about what is missing at the top */
    struct loaded_provider mods[CB_MAX_CLOUDS];
    size_t n_mods;
    struct cb_err *err;
};

int cfgl_fail(struct loader *L, int line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cfgl_fail_code(struct loader *L, enum cb_errcode code, int line, const char *path,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int cfgl_oom(struct loader *L, const char *path);

int cfgl_line_of(const config_setting_t *s);
const char *cfgl_type_name(const config_setting_t *s); /* "an integer", "a group", ... */

/* Setting paths, cut (never overflowing) at len. */
void cfgl_pathf(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cfgl_join_path(char *out, size_t len, const char *parent, const char *name);

/* The closest of names[] to word, or NULL if none is close enough to be a typo. */
const char *cfgl_closest(const char *word, const char *const *names, size_t n);
bool cfgl_has_control(const char *s);

/* Check the group named after cloud->provider (cgrp is the cloud's group,
 * cpath its path) against the driver's spec and fill cloud->settings. */
int cfgl_load_provider_settings(struct loader *L, struct cb_cloud *cloud,
                                const config_setting_t *cgrp, const char *cpath);
void cfgl_free_settings(struct cb_settings *s);

#endif
