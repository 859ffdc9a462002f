/* config: loading and validation of cloudburst.conf (see config.h).
 *
 * libconfig parses; everything after the parse is driven by the schema table
 * (config_schema.c): for each group of the file the loader first rejects keys
 * the table does not know (suggesting the closest known name), then walks the
 * table's rows for that group, converting and range-checking what is there and
 * filling defaults for what is not. Each cloud's provider group is checked
 * against the settings spec its driver exports (provider.h). Cross-setting
 * rules come last. The first error wins and names file:line and the setting
 * path; nothing is half-loaded (the partial struct is freed).
 */
#include "config.h"
#include "cb_text.h"
#include "config_loader.h"
#include "config_schema.h"
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- errors ------------------------------------------------------------ */

static int failv(struct loader *L, enum cb_errcode code, int line, const char *path,
                 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static int failv(struct loader *L, enum cb_errcode code, int line, const char *path,
                 const char *fmt, va_list ap)
{
    char origin[CB_ERR_ORIGIN_MAX], msg[CB_ERR_MSG_MAX];
    if (line <= 0)
        line = L->last_line > 0 ? L->last_line : 1;
    /* Keep the line number when the path is long: cut the path's head. */
    const char *file = L->cfg->file;
    size_t room = sizeof origin - 16;
    if (strlen(file) > room)
        snprintf(origin, sizeof origin, "...%s:%d", file + strlen(file) - (room - 3), line);
    else
        snprintf(origin, sizeof origin, "%s:%d", file, line);
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (path != NULL && path[0] != '\0')
        return cb_err_set(L->err, code, origin, "%s: %s", path, msg);
    return cb_err_set(L->err, code, origin, "%s", msg);
}

int cfgl_fail(struct loader *L, int line, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(L, CB_ERR_INVALID, line, path, fmt, ap);
    va_end(ap);
    return -1;
}

int cfgl_fail_code(struct loader *L, enum cb_errcode code, int line, const char *path,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(L, code, line, path, fmt, ap);
    va_end(ap);
    return -1;
}

int cfgl_line_of(const config_setting_t *s)
{
    return s ? (int)config_setting_source_line(s) : 0;
}

const char *cfgl_type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    default: return "nothing";
    }
}

/* Setting paths are bounded (PATH_BUF); an absurdly long one is cut, which
 * only shortens an error message. */
void cfgl_pathf(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

void cfgl_join_path(char *out, size_t len, const char *parent, const char *name)
{
    if (parent[0] == '\0')
        cfgl_pathf(out, len, "%s", name);
    else
        cfgl_pathf(out, len, "%s.%s", parent, name);
}

/* ---- "did you mean" ----------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

/* Closest of `names` to `word`, or NULL if none is close enough to be a typo. */
const char *cfgl_closest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    size_t limit = strlen(word) / 3;
    if (limit < 2)
        limit = 2;
    return best_d <= limit ? best : NULL;
}

static int fail_unknown(struct loader *L, const config_setting_t *s, const char *path,
                        const char *key, const char *const *known, size_t n_known)
{
    const char *name = config_setting_name(s);
    const char *near = cfgl_closest(name, known, n_known);
    if (near != NULL)
        return cfgl_fail(L, cfgl_line_of(s), path, "unknown setting (did you mean '%s'?)", near);
    /* Right name, wrong group: say where it belongs. */
    for (size_t i = 0; i < cb_config_schema_len; i++) {
        const struct cb_cfg_row *r = &cb_config_schema[i];
        if (strcmp(cb_cfg_row_name(r), name) == 0 && !cb_cfg_row_is_child(r, key))
            return cfgl_fail(L, cfgl_line_of(s), path, "unknown setting here (did you mean '%s'?)", r->path);
    }
    return cfgl_fail(L, cfgl_line_of(s), path, "unknown setting");
}

/* ---- value checks -------------------------------------------------------- */

bool cfgl_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool is_attr_name(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

static bool is_hostport(const char *s)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close == s + 1 || close[1] != ':')
            return false;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || colon == s || memchr(s, ':', (size_t)(colon - s)) != NULL)
            return false;
        for (const char *p = s; p < colon; p++)
            if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-'))
                return false;
    }
    const char *port = colon + 1;
    if (*port == '\0' || strlen(port) > 5)
        return false;
    for (const char *p = port; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    long v = strtol(port, NULL, 10);
    return v >= 1 && v <= 65535;
}

static const char *const facilities[] = {
    "daemon", "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7", NULL };

static int check_string(struct loader *L, const struct cb_cfg_row *row, const char *v,
                        int line, const char *path)
{
    if (strlen(v) >= CB_CONFIG_STRING_MAX)
        return cfgl_fail(L, line, path, "longer than %d bytes", CB_CONFIG_STRING_MAX - 1);
    if (cfgl_has_control(v))
        return cfgl_fail(L, line, path, "must not contain control characters (newline, tab, ...)");
    if (row->type == CB_CFG_NAME && strlen(v) >= CB_NAME_MAX)
        return cfgl_fail(L, line, path, "longer than %d bytes (got '%s')", CB_NAME_MAX - 1, v);
    switch (row->check) {
    case CB_CHK_NONE:
        break;
    case CB_CHK_NONEMPTY:
        if (v[0] == '\0')
            return cfgl_fail(L, line, path, "must not be empty");
        break;
    case CB_CHK_SAFE_NAME:
        if (!cb_is_safe_name(v))
            return cfgl_fail(L, line, path,
                        "must be 1-%d characters of A-Z a-z 0-9 '.' '_' '-' (got '%s')",
                        CB_NAME_MAX - 1, v);
        break;
    case CB_CHK_PRINTABLE:
        if (v[0] == '\0')
            return cfgl_fail(L, line, path, "must not be empty");
        if (isspace((unsigned char)v[0]) || isspace((unsigned char)v[strlen(v) - 1]))
            return cfgl_fail(L, line, path, "must not begin or end with a space (got '%s')", v);
        break;
    case CB_CHK_ABS_PATH:
    case CB_CHK_ABS_PATH_OPT:
        if (v[0] == '\0' && row->check == CB_CHK_ABS_PATH_OPT)
            break;
        if (v[0] != '/')
            return cfgl_fail(L, line, path, "must be an absolute path (got '%s')", v);
        break;
    case CB_CHK_ATTR_NAME:
    case CB_CHK_ATTR_NAME_OPT:
        if (v[0] == '\0' && row->check == CB_CHK_ATTR_NAME_OPT)
            break;
        if (!is_attr_name(v))
            return cfgl_fail(L, line, path, "must be a ClassAd attribute name (got '%s')", v);
        break;
    case CB_CHK_HOSTPORT_OPT:
        if (v[0] != '\0' && !is_hostport(v))
            return cfgl_fail(L, line, path,
                        "must be host:port or [address]:port with port 1-65535 (got '%s')", v);
        break;
    case CB_CHK_FACILITY: {
        bool ok = false;
        for (size_t i = 0; facilities[i]; i++)
            ok = ok || strcmp(facilities[i], v) == 0;
        if (!ok)
            return cfgl_fail(L, line, path, "must be daemon, user or local0 to local7 (got '%s')", v);
        break;
    }
    }
    return 0;
}

static int check_range(struct loader *L, const struct cb_cfg_row *row, double v, int line,
                       const char *path, const char *text)
{
    if (v < row->min || v > row->max)
        return cfgl_fail(L, line, path, "must be between %.15g and %.15g%s%s (got %s)", row->min, row->max,
                    row->units ? " " : "", row->units ? row->units : "", text);
    return 0;
}

/* ---- storing values ------------------------------------------------------ */

#define AT(base, off, type) ((type *)((char *)(base) + (off)))

static char *expand_default(const char *def)
{
    static const struct { const char *var, *val; } vars[] = {
        { "${pkglibdir}", CB_PKGLIBDIR }, { "${pkgdatadir}", CB_PKGDATADIR },
        { "${localstatedir}", CB_LOCALSTATEDIR }, { "${sysconfdir}", CB_SYSCONFDIR } };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        size_t n = strlen(vars[i].var);
        if (strncmp(def, vars[i].var, n) == 0) {
            size_t len = strlen(vars[i].val) + strlen(def + n) + 1;
            char *s = malloc(len);
            if (s != NULL)
                snprintf(s, len, "%s%s", vars[i].val, def + n);
            return s;
        }
    }
    return cb_strdup(def);
}

int cfgl_oom(struct loader *L, const char *path)
{
    return cfgl_fail_code(L, CB_ERR_INTERNAL, 0, path, "out of memory");
}

static int store_string(struct loader *L, const struct cb_cfg_row *row, void *base,
                        const char *v, int line, const char *path)
{
    if (check_string(L, row, v, line, path) != 0)
        return -1;
    if (row->type == CB_CFG_NAME) {
        cb_strlcpy(AT(base, row->off, char), v, CB_NAME_MAX);
        return 0;
    }
    char *copy = cb_strdup(v);
    if (copy == NULL)
        return cfgl_oom(L, path);
    free(*AT(base, row->off, char *));
    *AT(base, row->off, char *) = copy;
    return 0;
}

static int store_number(struct loader *L, const struct cb_cfg_row *row, void *base,
                        double v, long long iv, int line, const char *path, const char *text)
{
    if (check_range(L, row, v, line, path, text) != 0)
        return -1;
    switch (row->type) {
    case CB_CFG_UINT: *AT(base, row->off, unsigned) = (unsigned)iv; break;
    case CB_CFG_U32: *AT(base, row->off, uint32_t) = (uint32_t)iv; break;
    case CB_CFG_U64: *AT(base, row->off, uint64_t) = (uint64_t)iv; break;
    case CB_CFG_INT: *AT(base, row->off, int) = (int)iv; break;
    case CB_CFG_DOUBLE: *AT(base, row->off, double) = v; break;
    default: break;
    }
    return 0;
}

static int store_enum(struct loader *L, const struct cb_cfg_row *row, void *base,
                      const char *word, int line, const char *path)
{
    int v = cb_cfg_enum_value(row, word);
    if (v < 0) {
        char words[256] = "";
        size_t pos = 0;
        for (const struct cb_cfg_word *w = row->words; w->word && pos < sizeof words; w++) {
            int n = snprintf(words + pos, sizeof words - pos, "%s%s",
                             w == row->words ? "" : ", ", w->word);
            if (n > 0)
                pos += (size_t)n;
        }
        return cfgl_fail(L, line, path, "must be one of %s (got '%s')", words, word);
    }
    *AT(base, row->off, int) = v;
    return 0;
}

static int store_secret(struct loader *L, const struct cb_cfg_row *row, void *base,
                        const char *v, int line, const char *path)
{
    if (store_string(L, row, base, v, line, path) != 0)
        return -1;
    if (v[0] == '\0' || (L->flags & CB_CONFIG_SKIP_SECRETS))
        return 0;
    struct cb_secret sec;
    struct cb_err e = CB_ERR_INIT;
    if (cb_secret_read(&sec, v, &e) != 0)
        return cfgl_fail_code(L, e.code, line, path, "%s", e.msg);
    *AT(base, row->off_secret, char *) = sec.data;
    *AT(base, row->off_len, size_t) = sec.len;
    return 0;
}

static void free_list(struct cb_string_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int store_list(struct loader *L, const struct cb_cfg_row *row, void *base,
                      const config_setting_t *s, const char *path)
{
    struct cb_string_list *l = AT(base, row->off, struct cb_string_list);
    int line = cfgl_line_of(s);
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return cfgl_fail(L, line, path, "expected a list of strings, got %s", cfgl_type_name(s));
    int n = config_setting_length(s);
    if (n > row->max)
        return cfgl_fail(L, line, path, "at most %.0f items (got %d)", row->max, n);
    free_list(l);
    if (n == 0)
        return 0;
    l->items = calloc((size_t)n, sizeof *l->items);
    if (l->items == NULL)
        return cfgl_oom(L, path);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char epath[PATH_BUF];
        cfgl_pathf(epath, sizeof epath, "%s.[%d]", path, i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return cfgl_fail(L, cfgl_line_of(e), epath, "expected a string, got %s", cfgl_type_name(e));
        const char *v = config_setting_get_string(e);
        if (check_string(L, row, v, cfgl_line_of(e) ? cfgl_line_of(e) : line, epath) != 0)
            return -1;
        if (v[0] == '\0')
            return cfgl_fail(L, cfgl_line_of(e) ? cfgl_line_of(e) : line, epath, "must not be empty");
        l->items[i] = cb_strdup(v);
        if (l->items[i] == NULL)
            return cfgl_oom(L, epath);
        l->n++;
    }
    return 0;
}

/* Apply a row's default (the value it has when the file does not set it). */
static int apply_default(struct loader *L, const struct cb_cfg_row *row, void *base,
                         int line, const char *path)
{
    if (row->def == NULL)
        return 0;
    switch (row->type) {
    case CB_CFG_STRING:
    case CB_CFG_SECRET_PATH: {
        char *v;
        if (row->def[0] == '@') {
            const struct cb_cfg_row *src = cb_cfg_row_find(row->def + 1);
            const char *cur = src ? *AT(L->cfg, src->off, char *) : NULL;
            v = cb_strdup(cur ? cur : "");
        } else {
            v = expand_default(row->def);
        }
        if (v == NULL)
            return cfgl_oom(L, path);
        int rc = row->type == CB_CFG_SECRET_PATH ? store_secret(L, row, base, v, line, path)
                                                 : store_string(L, row, base, v, line, path);
        free(v);
        return rc;
    }
    case CB_CFG_NAME:
        return store_string(L, row, base, row->def, line, path);
    case CB_CFG_UINT:
    case CB_CFG_U32:
    case CB_CFG_U64:
    case CB_CFG_INT:
    case CB_CFG_DOUBLE: {
        double v = strtod(row->def, NULL);
        return store_number(L, row, base, v, (long long)v, line, path, row->def);
    }
    case CB_CFG_BOOL:
        *AT(base, row->off, bool) = strcmp(row->def, "true") == 0;
        return 0;
    case CB_CFG_ENUM:
        return store_enum(L, row, base, row->def, line, path);
    case CB_CFG_STRLIST:
    case CB_CFG_GROUP:
    case CB_CFG_LIST:
        return 0;
    }
    return 0;
}

/* ---- walking the table ------------------------------------------------------- */

static int load_group(struct loader *L, const config_setting_t *grp, const char *key,
                      const char *path, void *base, int line);
static int load_list(struct loader *L, const struct cb_cfg_row *row, const config_setting_t *s,
                     const char *path, void *base);

static int load_value(struct loader *L, const struct cb_cfg_row *row, const config_setting_t *s,
                      const char *path, void *base)
{
    int line = cfgl_line_of(s);
    int t = config_setting_type(s);
    switch (row->type) {
    case CB_CFG_GROUP:
        if (t != CONFIG_TYPE_GROUP)
            return cfgl_fail(L, line, path, "expected a group { ... }, got %s", cfgl_type_name(s));
        return load_group(L, s, row->path, path, base, line);
    case CB_CFG_LIST:
        return load_list(L, row, s, path, base);
    case CB_CFG_STRING:
    case CB_CFG_NAME:
    case CB_CFG_ENUM:
    case CB_CFG_SECRET_PATH:
        if (t != CONFIG_TYPE_STRING)
            return cfgl_fail(L, line, path, "expected a string, got %s", cfgl_type_name(s));
        if (row->type == CB_CFG_ENUM)
            return store_enum(L, row, base, config_setting_get_string(s), line, path);
        if (row->type == CB_CFG_SECRET_PATH)
            return store_secret(L, row, base, config_setting_get_string(s), line, path);
        return store_string(L, row, base, config_setting_get_string(s), line, path);
    case CB_CFG_UINT:
    case CB_CFG_U32:
    case CB_CFG_U64:
    case CB_CFG_INT: {
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
            return cfgl_fail(L, line, path, "expected an integer, got %s", cfgl_type_name(s));
        long long v = config_setting_get_int64(s);
        char text[32];
        snprintf(text, sizeof text, "%lld", v);
        return store_number(L, row, base, (double)v, v, line, path, text);
    }
    case CB_CFG_DOUBLE: {
        double v;
        if (t == CONFIG_TYPE_FLOAT)
            v = config_setting_get_float(s);
        else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
            v = (double)config_setting_get_int64(s);
        else
            return cfgl_fail(L, line, path, "expected a number, got %s", cfgl_type_name(s));
        char text[64];
        snprintf(text, sizeof text, "%.15g", v);
        if (v != v)
            return cfgl_fail(L, line, path, "must be a number (got %s)", text);
        return store_number(L, row, base, v, 0, line, path, text);
    }
    case CB_CFG_BOOL:
        if (t != CONFIG_TYPE_BOOL)
            return cfgl_fail(L, line, path, "expected true or false, got %s", cfgl_type_name(s));
        *AT(base, row->off, bool) = config_setting_get_bool(s) != 0;
        return 0;
    case CB_CFG_STRLIST:
        return store_list(L, row, base, s, path);
    }
    return 0;
}

static int check_unknown(struct loader *L, const config_setting_t *grp, const char *key,
                         const char *path, const char *extra_ok)
{
    const char *known[96];
    size_t n_known = 0;
    for (size_t i = 0; i < cb_config_schema_len && n_known < 96; i++)
        if (cb_cfg_row_is_child(&cb_config_schema[i], key))
            known[n_known++] = cb_cfg_row_name(&cb_config_schema[i]);
    int n = config_setting_length(grp);
    for (int i = 0; i < n; i++) {
        const config_setting_t *c = config_setting_get_elem(grp, (unsigned)i);
        const char *name = config_setting_name(c);
        bool ok = extra_ok != NULL && strcmp(name, extra_ok) == 0;
        for (size_t k = 0; k < n_known && !ok; k++)
            ok = strcmp(known[k], name) == 0;
        if (!ok) {
            char cpath[PATH_BUF];
            cfgl_join_path(cpath, sizeof cpath, path, name);
            return fail_unknown(L, c, cpath, key, known, n_known);
        }
    }
    return 0;
}

static int load_group(struct loader *L, const config_setting_t *grp, const char *key,
                      const char *path, void *base, int line)
{
    if (grp != NULL) {
        /* In a cloud, the group named after its provider is the driver's. */
        const char *provider = NULL;
        if (strcmp(key, "clouds.[]") == 0) {
            /* A provider that is not a string is reported as such, not as
             * its group being unknown. */
            const config_setting_t *p = config_setting_get_member(grp, "provider");
            if (p != NULL && config_setting_type(p) != CONFIG_TYPE_STRING) {
                char ppath[PATH_BUF];
                cfgl_join_path(ppath, sizeof ppath, path, "provider");
                return cfgl_fail(L, cfgl_line_of(p), ppath, "expected a string, got %s",
                                 cfgl_type_name(p));
            }
            config_setting_lookup_string(grp, "provider", &provider);
        }
        if (check_unknown(L, grp, key, path, provider) != 0)
            return -1;
    }
    for (size_t i = 0; i < cb_config_schema_len; i++) {
        const struct cb_cfg_row *row = &cb_config_schema[i];
        if (!cb_cfg_row_is_child(row, key))
            continue;
        char cpath[PATH_BUF];
        cfgl_join_path(cpath, sizeof cpath, path, cb_cfg_row_name(row));
        const config_setting_t *s = grp ? config_setting_get_member(grp, cb_cfg_row_name(row)) : NULL;
        int rc;
        if (s != NULL) {
            rc = load_value(L, row, s, cpath, base);
        } else if (row->required) {
            rc = cfgl_fail(L, line, cpath, "missing required %s",
                      row->type == CB_CFG_GROUP  ? "group"
                      : row->type == CB_CFG_LIST ? "list"
                                                 : "setting");
        } else if (row->type == CB_CFG_GROUP) {
            rc = load_group(L, NULL, row->path, cpath, base, line);
        } else {
            rc = apply_default(L, row, base, line, cpath);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- lists of groups: clouds and flavors ------------------------------------- */

static int load_list(struct loader *L, const struct cb_cfg_row *row, const config_setting_t *s,
                     const char *path, void *base)
{
    int line = cfgl_line_of(s), t = config_setting_type(s);
    bool is_clouds = strcmp(row->path, "clouds") == 0;
    if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
        return cfgl_fail(L, line, path, "expected a list ( { ... }, ... ), got %s", cfgl_type_name(s));
    int n = config_setting_length(s);
    if (n < row->min)
        return cfgl_fail(L, line, path, "needs at least %.0f %s", row->min,
                    is_clouds ? "cloud" : "flavor");
    if (n > row->max)
        return cfgl_fail(L, line, path, "at most %.0f %s (got %d)", row->max,
                    is_clouds ? "clouds" : "flavors per cloud", n);

    char key[64];
    snprintf(key, sizeof key, "%s.[]", row->path);
    void *arr = calloc((size_t)n, is_clouds ? sizeof(struct cb_cloud) : sizeof(struct cb_flavor));
    if (arr == NULL)
        return cfgl_oom(L, path);
    if (is_clouds) {
        L->cfg->clouds = arr;
    } else {
        struct cb_cloud *c = base;
        c->flavors = arr;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char epath[PATH_BUF];
        cfgl_pathf(epath, sizeof epath, "%s.[%d]", path, i);
        if (config_setting_type(e) != CONFIG_TYPE_GROUP)
            return cfgl_fail(L, cfgl_line_of(e), epath, "expected a group { ... }, got %s", cfgl_type_name(e));
        int eline = cfgl_line_of(e) ? cfgl_line_of(e) : line;
        char npath[PATH_BUF];
        cfgl_join_path(npath, sizeof npath, epath, "name");
        const config_setting_t *nset = config_setting_get_member(e, "name");
        if (is_clouds) {
            struct cb_cloud *c = &L->cfg->clouds[i];
            c->index = (unsigned)i;
            c->line = eline;
            L->cfg->n_clouds++;
            if (load_group(L, e, key, epath, c, eline) != 0)
                return -1;
            for (int j = 0; j < i; j++)
                if (strcmp(L->cfg->clouds[j].name, c->name) == 0)
                    return cfgl_fail(L, cfgl_line_of(nset), npath,
                                "duplicate cloud name '%s' (first defined at line %d)", c->name,
                                L->cfg->clouds[j].line);
            if (cfgl_load_provider_settings(L, c, e, epath) != 0)
                return -1;
        } else {
            struct cb_cloud *c = base;
            struct cb_flavor *f = &c->flavors[i];
            f->line = eline;
            c->n_flavors++;
            if (load_group(L, e, key, epath, f, eline) != 0)
                return -1;
            for (int j = 0; j < i; j++)
                if (strcmp(c->flavors[j].name, f->name) == 0)
                    return cfgl_fail(L, cfgl_line_of(nset), npath,
                                "duplicate flavor name '%s' in cloud '%s' (first defined at "
                                "line %d)", f->name, c->name, c->flavors[j].line);
        }
    }
    return 0;
}

/* ---- rules across settings ----------------------------------------------------- */

static int line_at(struct loader *L, const char *path)
{
    const config_setting_t *s = config_lookup(&L->lc, path);
    if (s == NULL) {
        /* Not set: point at its group, if that is in the file. */
        char parent[PATH_BUF];
        cb_strlcpy(parent, path, sizeof parent);
        char *dot = strrchr(parent, '.');
        if (dot != NULL) {
            *dot = '\0';
            s = config_lookup(&L->lc, parent);
        }
    }
    return cfgl_line_of(s);
}

static int cross_checks(struct loader *L)
{
    const struct cb_config *c = L->cfg;
    if (c->controller.idle_timeout_min > c->controller.idle_timeout_max)
        return cfgl_fail(L, line_at(L, "controller.idle_timeout_max"), "controller.idle_timeout_max",
                    "must not be below controller.idle_timeout_min (%u < %u)",
                    c->controller.idle_timeout_max, c->controller.idle_timeout_min);
    if (c->controller.breaker_backoff_min > c->controller.breaker_backoff_max)
        return cfgl_fail(L, line_at(L, "controller.breaker_backoff_max"),
                    "controller.breaker_backoff_max",
                    "must not be below controller.breaker_backoff_min (%u < %u)",
                    c->controller.breaker_backoff_max, c->controller.breaker_backoff_min);
    if (c->controller.connect_timeout > c->controller.call_timeout)
        return cfgl_fail(L, line_at(L, "controller.connect_timeout"), "controller.connect_timeout",
                    "must not exceed controller.call_timeout (%u > %u)",
                    c->controller.connect_timeout, c->controller.call_timeout);
    if (c->bootstrap.ssh.key_file[0] == '\0' &&
        (c->bootstrap.method == CB_BOOTSTRAP_SSH || c->pool.drain_method == CB_DRAIN_SSH))
        return cfgl_fail(L, line_at(L, "bootstrap.ssh.key_file"), "bootstrap.ssh.key_file",
                    "missing: required when bootstrap.method or pool.drain_method is \"ssh\"");
    if (c->bootstrap.cvmfs.repositories.n > 0 && c->bootstrap.cvmfs.http_proxy[0] == '\0')
        return cfgl_fail(L, line_at(L, "bootstrap.cvmfs.http_proxy"), "bootstrap.cvmfs.http_proxy",
                    "missing: required when bootstrap.cvmfs.repositories is not empty "
                    "(a squid list, or \"DIRECT\")");
    return 0;
}

/* ---- the file ------------------------------------------------------------------ */

/* Reject what libconfig would accept but cloudburst must not, before it
 * parses: NUL bytes (the parser would silently stop there), @include (the
 * configuration is one file, so its size limit, line numbers and printed form
 * stay meaningful), and a string literal that runs past its line (no value
 * may hold a newline anyway, and libconfig 1.5 leaks its string buffer when
 * such a string ends in a syntax error; the fuzz target found it). Comments
 * are skipped so that quotes inside them do not count. */
static int prescan(struct loader *L, const char *text, size_t len)
{
    enum { CODE, STRING, LINE_COMMENT, BLOCK_COMMENT } st = CODE;
    int line = 1, string_line = 0;
    bool at_line_start = true;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i], next = i + 1 < len ? text[i + 1] : '\0';
        if (ch == '\0')
            return cfgl_fail(L, line, NULL, "contains a NUL byte: not a text file");
        if (ch == '\n') {
            if (st == STRING)
                return cfgl_fail(L, string_line, NULL,
                                 "string not closed on its line (a value cannot hold a newline)");
            if (st == LINE_COMMENT)
                st = CODE;
            line++;
            at_line_start = true;
            continue;
        }
        switch (st) {
        case CODE:
            if (at_line_start && (ch == ' ' || ch == '\t' || ch == '\r'))
                continue;
            if (at_line_start && ch == '@' && len - i >= 8 && strncmp(text + i, "@include", 8) == 0)
                return cfgl_fail(L, line, NULL,
                                 "@include is not supported: keep the configuration in one file");
            at_line_start = false;
            if (ch == '"') {
                st = STRING;
                string_line = line;
            } else if (ch == '#' || (ch == '/' && next == '/')) {
                st = LINE_COMMENT;
            } else if (ch == '/' && next == '*') {
                st = BLOCK_COMMENT;
                i++;
            }
            break;
        case STRING:
            if (ch == '\\' && next != '\n' && next != '\0')
                i++;
            else if (ch == '"')
                st = CODE;
            break;
        case LINE_COMMENT:
            break;
        case BLOCK_COMMENT:
            if (ch == '*' && next == '/') {
                st = CODE;
                i++;
            }
            break;
        }
    }
    if (st == STRING)
        return cfgl_fail(L, string_line, NULL, "string not closed before the end of the file");
    L->last_line = (len > 0 && text[len - 1] == '\n') ? line - 1 : line;
    return 0;
}

static int load_text(struct loader *L, const char *text, size_t len)
{
    if (len > CB_CONFIG_FILE_MAX)
        return cb_err_set(L->err, CB_ERR_INVALID, L->cfg->file,
                          "%zu bytes: a configuration file may hold at most %d bytes", len,
                          CB_CONFIG_FILE_MAX);
    if (prescan(L, text, len) != 0)
        return -1;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return cb_err_set(L->err, CB_ERR_INTERNAL, L->cfg->file, "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    int ok = config_read_string(&L->lc, copy);
    free(copy);
    if (ok != CONFIG_TRUE) {
        const char *why = config_error_text(&L->lc);
        if (why == NULL || strcmp(why, "syntax error") == 0)
            return cfgl_fail(L, config_error_line(&L->lc), NULL, "syntax error");
        return cfgl_fail(L, config_error_line(&L->lc), NULL, "syntax error: %s", why);
    }

    const config_setting_t *root = config_root_setting(&L->lc);
    if (load_group(L, root, "", "", L->cfg, 0) != 0)
        return -1;
    return cross_checks(L);
}

static int read_file(const char *path, char **text, size_t *len, struct cb_err *err)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return cb_err_errno(err, errno == ENOENT ? CB_ERR_NOT_FOUND : CB_ERR_IO, errno, path,
                            "cannot open configuration file");
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cb_err_set(err, CB_ERR_INVALID, path, "not a regular file");
    }
    if (st.st_size > CB_CONFIG_FILE_MAX) {
        close(fd);
        return cb_err_set(err, CB_ERR_INVALID, path,
                          "%lld bytes: a configuration file may hold at most %d bytes",
                          (long long)st.st_size, CB_CONFIG_FILE_MAX);
    }
    char *buf = malloc(CB_CONFIG_FILE_MAX + 2);
    if (buf == NULL) {
        close(fd);
        return cb_err_set(err, CB_ERR_INTERNAL, path, "out of memory");
    }
    size_t n = 0;
    while (n <= CB_CONFIG_FILE_MAX) {
        ssize_t r = read(fd, buf + n, CB_CONFIG_FILE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return cb_err_errno(err, CB_ERR_IO, e, path, "cannot read configuration file");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *text = buf;
    *len = n;
    return 0;
}

int cb_config_load_text(struct cb_config **out, const char *name, const char *text, size_t len,
                        const char *provider_dir_override, unsigned flags, struct cb_err *err)
{
    *out = NULL;
    struct loader *L = calloc(1, sizeof *L);
    struct cb_config *cfg = calloc(1, sizeof *cfg);
    if (L == NULL || cfg == NULL || (cfg->file = cb_strdup(name ? name : "")) == NULL) {
        free(L);
        cb_config_free(cfg);
        return cb_err_set(err, CB_ERR_INTERNAL, name, "out of memory");
    }
    L->cfg = cfg;
    L->flags = flags;
    L->err = err;
    config_init(&L->lc);
    L->provider_dir = provider_dir_override;
    int rc = load_text(L, text, len);
    config_destroy(&L->lc);
    for (size_t i = 0; i < L->n_mods; i++)
        cb_provider_unload(&L->mods[i].mod);
    free(L);
    if (rc != 0) {
        cb_config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

int cb_config_load_flags(struct cb_config **out, const char *path,
                         const char *provider_dir_override, unsigned flags, struct cb_err *err)
{
    char *text;
    size_t len;
    *out = NULL;
    if (path == NULL)
        path = CB_DEFAULT_CONFIG_FILE;
    if (read_file(path, &text, &len, err) != 0)
        return -1;
    int rc = cb_config_load_text(out, path, text, len, provider_dir_override, flags, err);
    free(text);
    return rc;
}

int cb_config_load(struct cb_config **out, const char *path, const char *provider_dir_override,
                   struct cb_err *err)
{
    return cb_config_load_flags(out, path, provider_dir_override, 0, err);
}

static void wipe_str(char **s, size_t len)
{
    if (*s != NULL) {
        explicit_bzero(*s, len);
        free(*s);
        *s = NULL;
    }
}

void cb_config_free(struct cb_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_clouds; i++) {
        struct cb_cloud *c = &cfg->clouds[i];
        cfgl_free_settings(&c->settings);
        free(c->flavors);
    }
    /* Every char * and list the table names, in the config and each cloud. */
    for (size_t r = 0; r < cb_config_schema_len; r++) {
        const struct cb_cfg_row *row = &cb_config_schema[r];
        bool in_cloud = strncmp(row->path, "clouds.[].", 10) == 0;
        if (strncmp(row->path, "clouds.[].flavors.[].", 21) == 0)
            continue; /* flavors hold no heap fields */
        size_t n = in_cloud ? cfg->n_clouds : 1;
        for (size_t i = 0; i < n; i++) {
            void *base = in_cloud ? (void *)&cfg->clouds[i] : (void *)cfg;
            if (row->type == CB_CFG_STRING || row->type == CB_CFG_SECRET_PATH) {
                free(*AT(base, row->off, char *));
                *AT(base, row->off, char *) = NULL;
            }
            if (row->type == CB_CFG_SECRET_PATH)
                wipe_str(AT(base, row->off_secret, char *), *AT(base, row->off_len, size_t));
            if (row->type == CB_CFG_STRLIST)
                free_list(AT(base, row->off, struct cb_string_list));
        }
    }
    free(cfg->clouds);
    free(cfg->file);
    free(cfg);
}

const struct cb_cloud *cb_config_cloud(const struct cb_config *cfg, const char *name)
{
    if (cfg == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_clouds; i++)
        if (strcmp(cfg->clouds[i].name, name) == 0)
            return &cfg->clouds[i];
    return NULL;
}
