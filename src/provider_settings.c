/* provider_settings: lookups in a driver's validated settings (provider.h).
 * Linked into the daemon and, statically, into every driver module. */
#include "provider.h"

#include <string.h>

const struct cb_setting *cb_settings_find(const struct cb_settings *s, const char *name)
{
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].name, name) == 0)
            return &s->items[i];
    return NULL;
}

const char *cb_settings_str(const struct cb_settings *s, const char *name, const char *fallback)
{
    const struct cb_setting *v = cb_settings_find(s, name);
    if (v == NULL)
        return fallback;
    if (v->type == CB_SETTING_SECRET_FILE)
        return v->secret ? v->secret : fallback;
    return v->str ? v->str : fallback;
}

long long cb_settings_int(const struct cb_settings *s, const char *name, long long fallback)
{
    const struct cb_setting *v = cb_settings_find(s, name);
    return (v != NULL && v->type == CB_SETTING_INT) ? v->num : fallback;
}

bool cb_settings_bool(const struct cb_settings *s, const char *name, bool fallback)
{
    const struct cb_setting *v = cb_settings_find(s, name);
    return (v != NULL && v->type == CB_SETTING_BOOL) ? v->boolean : fallback;
}
