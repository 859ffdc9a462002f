/* config_provider: each cloud's "<provider> = { ... }" group, checked against
 * the settings spec its driver exports (provider.h) and copied into
 * cb_cloud.settings, which the config owns: names, strings and lists are
 * copies (the driver is unloaded after the check), secrets come from
 * secret.c and are wiped by cfgl_free_settings(). */
#include "cb_text.h"
#include "config_loader.h"
#include "secret.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct loaded_provider *get_provider(struct loader *L, const char *name, int line,
                                                  const char *path)
{
    for (size_t i = 0; i < L->n_mods; i++)
        if (strcmp(L->mods[i].name, name) == 0)
            return &L->mods[i];
    if (L->n_mods >= CB_MAX_CLOUDS) {
        cfgl_fail_code(L, CB_ERR_INTERNAL, line, path, "too many providers");
        return NULL;
    }
    struct loaded_provider *p = &L->mods[L->n_mods];
    struct cb_err e = CB_ERR_INIT;
    if (cb_provider_load(&p->mod, L->provider_dir, name, &e) != 0) {
        cfgl_fail_code(L, e.code == CB_ERR_VERSION ? CB_ERR_VERSION : CB_ERR_INVALID, line, path,
                  "cannot load provider '%s': %s: %s", name, e.origin, e.msg);
        return NULL;
    }
    cb_strlcpy(p->name, name, sizeof p->name);
    L->n_mods++;
    return p;
}

static void free_setting(struct cb_setting *v)
{
    free((void *)v->name);
    free((void *)v->str);
    if (v->list != NULL) {
        for (size_t i = 0; i < v->list_len; i++)
            free((void *)v->list[i]);
        free((void *)v->list);
    }
    if (v->secret != NULL) {
        struct cb_secret s = { (char *)v->secret, v->secret_len };
        cb_secret_wipe(&s);
    }
    memset(v, 0, sizeof *v);
}

void cfgl_free_settings(struct cb_settings *s)
{
    struct cb_setting *items = (struct cb_setting *)s->items;
    for (size_t i = 0; i < s->n; i++)
        free_setting(&items[i]);
    free(items);
    free((void *)s->path);
    memset(s, 0, sizeof *s);
}

static const char *setting_type_name(enum cb_setting_type t)
{
    switch (t) {
    case CB_SETTING_STRING: return "a string";
    case CB_SETTING_INT: return "an integer";
    case CB_SETTING_BOOL: return "a boolean";
    case CB_SETTING_STRING_LIST: return "a list of strings";
    case CB_SETTING_SECRET_FILE: return "a string (path of a secret file)";
    }
    return "?";
}

static int set_secret_path(struct loader *L, struct cb_setting *v, const char *text, int line,
                           const char *path)
{
    if (text[0] != '/')
        return cfgl_fail(L, line, path, "must be an absolute path (got '%s')", text);
    v->str = cb_strdup(text);
    if (v->str == NULL)
        return cfgl_oom(L, path);
    if (L->flags & CB_CONFIG_SKIP_SECRETS)
        return 0;
    struct cb_secret sec;
    struct cb_err e = CB_ERR_INIT;
    if (cb_secret_read(&sec, text, &e) != 0)
        return cfgl_fail_code(L, e.code, line, path, "%s", e.msg);
    v->secret = sec.data;
    v->secret_len = sec.len;
    return 0;
}

/* The driver's default, given as text in its spec. */
static int setting_default(struct loader *L, const char *provider,
                           const struct cb_setting_spec *sp, struct cb_setting *v, int line,
                           const char *path)
{
    const char *d = sp->default_value;
    v->is_default = true;
    switch (sp->type) {
    case CB_SETTING_STRING:
        v->str = cb_strdup(d);
        return v->str ? 0 : cfgl_oom(L, path);
    case CB_SETTING_SECRET_FILE:
        return set_secret_path(L, v, d, line, path);
    case CB_SETTING_INT: {
        char *end;
        errno = 0;
        v->num = strtoll(d, &end, 10);
        if (errno != 0 || *end != '\0' || end == d)
            return cfgl_fail_code(L, CB_ERR_PERMANENT, line, path,
                                  "provider '%s' declares an invalid default '%s'", provider, d);
        return 0;
    }
    case CB_SETTING_BOOL:
        v->boolean = strcmp(d, "true") == 0;
        return 0;
    case CB_SETTING_STRING_LIST: {
        /* Comma-separated in the spec. */
        size_t n = d[0] ? 1 : 0;
        for (const char *p = d; *p; p++)
            n += *p == ',';
        const char **list = calloc(n ? n : 1, sizeof *list);
        if (list == NULL)
            return cfgl_oom(L, path);
        v->list = list;
        const char *p = d;
        for (size_t i = 0; i < n; i++) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char *item = strndup(p, len);
            if (item == NULL)
                return cfgl_oom(L, path);
            list[i] = item;
            v->list_len++;
            p = comma ? comma + 1 : p + len;
        }
        return 0;
    }
    }
    return 0;
}

static int setting_value(struct loader *L, const struct cb_setting_spec *sp,
                         const config_setting_t *s, struct cb_setting *v, const char *path)
{
    int line = cfgl_line_of(s), t = config_setting_type(s);
    v->line = line;
    switch (sp->type) {
    case CB_SETTING_STRING:
    case CB_SETTING_SECRET_FILE: {
        if (t != CONFIG_TYPE_STRING)
            return cfgl_fail(L, line, path, "expected %s, got %s", setting_type_name(sp->type),
                        cfgl_type_name(s));
        const char *text = config_setting_get_string(s);
        if (strlen(text) >= CB_CONFIG_STRING_MAX)
            return cfgl_fail(L, line, path, "longer than %d bytes", CB_CONFIG_STRING_MAX - 1);
        if (cfgl_has_control(text))
            return cfgl_fail(L, line, path, "must not contain control characters (newline, tab, ...)");
        if (sp->type == CB_SETTING_SECRET_FILE)
            return set_secret_path(L, v, text, line, path);
        v->str = cb_strdup(text);
        return v->str ? 0 : cfgl_oom(L, path);
    }
    case CB_SETTING_INT: {
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
            return cfgl_fail(L, line, path, "expected an integer, got %s", cfgl_type_name(s));
        long long n = config_setting_get_int64(s);
        if (sp->min <= sp->max && (n < sp->min || n > sp->max))
            return cfgl_fail(L, line, path, "must be between %lld and %lld (got %lld)", sp->min,
                        sp->max, n);
        v->num = n;
        return 0;
    }
    case CB_SETTING_BOOL:
        if (t != CONFIG_TYPE_BOOL)
            return cfgl_fail(L, line, path, "expected true or false, got %s", cfgl_type_name(s));
        v->boolean = config_setting_get_bool(s) != 0;
        return 0;
    case CB_SETTING_STRING_LIST: {
        if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
            return cfgl_fail(L, line, path, "expected a list of strings, got %s", cfgl_type_name(s));
        int n = config_setting_length(s);
        if (n > CB_CONFIG_LIST_MAX)
            return cfgl_fail(L, line, path, "at most %d items (got %d)", CB_CONFIG_LIST_MAX, n);
        const char **list = calloc(n ? (size_t)n : 1, sizeof *list);
        if (list == NULL)
            return cfgl_oom(L, path);
        v->list = list;
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            char epath[PATH_BUF];
            cfgl_pathf(epath, sizeof epath, "%s.[%d]", path, i);
            if (config_setting_type(e) != CONFIG_TYPE_STRING)
                return cfgl_fail(L, cfgl_line_of(e), epath, "expected a string, got %s", cfgl_type_name(e));
            const char *text = config_setting_get_string(e);
            if (text[0] == '\0' || cfgl_has_control(text) || strlen(text) >= CB_CONFIG_STRING_MAX)
                return cfgl_fail(L, cfgl_line_of(e), epath,
                            "must be a non-empty string without control characters");
            list[i] = cb_strdup(text);
            if (list[i] == NULL)
                return cfgl_oom(L, epath);
            v->list_len++;
        }
        return 0;
    }
    }
    return 0;
}

int cfgl_load_provider_settings(struct loader *L, struct cb_cloud *cloud,
                                  const config_setting_t *cgrp, const char *cpath)
{
    char gpath[PATH_BUF], ppath[PATH_BUF];
    cfgl_join_path(gpath, sizeof gpath, cpath, cloud->provider);
    cfgl_join_path(ppath, sizeof ppath, cpath, "provider");
    const config_setting_t *pset = config_setting_get_member(cgrp, "provider");
    const config_setting_t *grp = config_setting_get_member(cgrp, cloud->provider);

    cloud->settings.file = L->cfg->file;
    cloud->settings.path = cb_strdup(gpath);
    if (cloud->settings.path == NULL)
        return cfgl_oom(L, gpath);
    if (grp != NULL && config_setting_type(grp) != CONFIG_TYPE_GROUP)
        return cfgl_fail(L, cfgl_line_of(grp), gpath, "expected a group { ... } of %s settings, got %s",
                    cloud->provider, cfgl_type_name(grp));
    if (L->flags & CB_CONFIG_SKIP_PROVIDERS)
        return 0;

    /* The table loads controller before clouds, so provider_dir is known. */
    if (L->provider_dir == NULL)
        L->provider_dir = L->cfg->controller.provider_dir;
    const struct loaded_provider *p = get_provider(L, cloud->provider, cfgl_line_of(pset), ppath);
    if (p == NULL)
        return -1;
    const struct cb_provider_ops *ops = p->mod.ops;
    if (cloud->spot && !(ops->caps & CB_PROVIDER_CAP_SPOT)) {
        char spath[PATH_BUF];
        cfgl_join_path(spath, sizeof spath, cpath, "spot");
        const config_setting_t *s = config_setting_get_member(cgrp, "spot");
        return cfgl_fail(L, cfgl_line_of(s), spath, "provider '%s' does not support spot instances",
                    cloud->provider);
    }

    const struct cb_setting_spec *spec = ops->settings;
    size_t n_spec = 0;
    while (spec != NULL && spec[n_spec].name != NULL)
        n_spec++;
    for (size_t i = 0; i < n_spec; i++)
        if (!cb_is_safe_name(spec[i].name) || (spec[i].type > CB_SETTING_SECRET_FILE))
            return cfgl_fail_code(L, CB_ERR_PERMANENT, cfgl_line_of(pset), ppath,
                             "provider '%s' declares a malformed setting (#%zu)",
                             cloud->provider, i);

    if (grp != NULL) {
        const char **known = calloc(n_spec ? n_spec : 1, sizeof *known);
        if (known == NULL)
            return cfgl_oom(L, gpath);
        for (size_t i = 0; i < n_spec; i++)
            known[i] = spec[i].name;
        int n = config_setting_length(grp), rc = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            const config_setting_t *c = config_setting_get_elem(grp, (unsigned)i);
            const char *name = config_setting_name(c);
            bool ok = false;
            for (size_t k = 0; k < n_spec && !ok; k++)
                ok = strcmp(known[k], name) == 0;
            if (!ok) {
                char kpath[PATH_BUF];
                cfgl_join_path(kpath, sizeof kpath, gpath, name);
                const char *near = cfgl_closest(name, known, n_spec);
                if (near != NULL)
                    rc = cfgl_fail(L, cfgl_line_of(c), kpath,
                              "unknown %s setting (did you mean '%s'?)", cloud->provider, near);
                else
                    rc = cfgl_fail(L, cfgl_line_of(c), kpath, "unknown %s setting", cloud->provider);
            }
        }
        free(known);
        if (rc != 0)
            return -1;
    }

    struct cb_setting *items = calloc(n_spec ? n_spec : 1, sizeof *items);
    if (items == NULL)
        return cfgl_oom(L, gpath);
    cloud->settings.items = items;
    for (size_t i = 0; i < n_spec; i++) {
        const struct cb_setting_spec *sp = &spec[i];
        char kpath[PATH_BUF];
        cfgl_join_path(kpath, sizeof kpath, gpath, sp->name);
        const config_setting_t *s = grp ? config_setting_get_member(grp, sp->name) : NULL;
        if (s == NULL && sp->required)
            return cfgl_fail(L, grp ? cfgl_line_of(grp) : cloud->line, kpath,
                        "missing required %s setting", cloud->provider);
        if (s == NULL && sp->default_value == NULL)
            continue;
        struct cb_setting *v = &items[cloud->settings.n];
        v->name = cb_strdup(sp->name);
        v->type = sp->type;
        if (v->name == NULL)
            return cfgl_oom(L, kpath);
        cloud->settings.n++;
        int rc = s ? setting_value(L, sp, s, v, kpath)
                   : setting_default(L, cloud->provider, sp, v, cloud->line, kpath);
        if (rc != 0)
            return -1;
    }
    return 0;
}
