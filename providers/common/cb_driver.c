/* cb_driver: see cb_driver.h. */
#include "cb_driver.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

int64_t cb_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned cb_remaining_ms(int64_t deadline)
{
    int64_t left = deadline - cb_mono_ms();
    return left > 0 ? (unsigned)left : 0;
}

void cb_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const char *cb_setting_origin(const struct cb_settings *s, const char *driver, const char *name,
                              char *buf, size_t len)
{
    const struct cb_setting *v = s != NULL ? cb_settings_find(s, name) : NULL;
    if (v != NULL && v->line > 0 && s->file != NULL)
        snprintf(buf, len, "%s:%d (%s)", s->file, v->line, name);
    else if (s != NULL && s->path != NULL)
        snprintf(buf, len, "%s.%s", s->path, name);
    else
        snprintf(buf, len, "%s.%s", driver, name);
    return buf;
}

const char *cb_setting_text(const struct cb_settings *s, const char *name)
{
    const char *v = cb_settings_str(s, name, NULL);
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

enum cb_errcode cb_http_status_errcode(long status, bool quota)
{
    switch (status) {
    case 401:
        return CB_ERR_AUTH;
    case 403:
        return quota ? CB_ERR_QUOTA : CB_ERR_AUTH;
    case 404:
        return CB_ERR_NOT_FOUND;
    case 409:
        return CB_ERR_TRANSIENT;
    case 413:
    case 429:
        return quota ? CB_ERR_QUOTA : CB_ERR_THROTTLED;
    default:
        if (status >= 500 && status <= 599)
            return quota ? CB_ERR_QUOTA : CB_ERR_TRANSIENT;
        return CB_ERR_PERMANENT;
    }
}
