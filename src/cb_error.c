/* cb_error: see cb_error.h. First cause wins; messages sanitised on entry. */
#include "cb_error.h"
#include "cb_text.h"

#include <stdio.h>
#include <string.h>

static const char *const code_names[CB_ERR__COUNT] = {
    [CB_OK] = "ok",
    [CB_ERR_AUTH] = "auth",
    [CB_ERR_QUOTA] = "quota",
    [CB_ERR_THROTTLED] = "throttled",
    [CB_ERR_NOT_FOUND] = "not_found",
    [CB_ERR_TRANSIENT] = "transient",
    [CB_ERR_TIMEOUT] = "timeout",
    [CB_ERR_PERMANENT] = "permanent",
    [CB_ERR_INVALID] = "invalid",
    [CB_ERR_VERSION] = "version",
    [CB_ERR_BUSY] = "busy",
    [CB_ERR_IO] = "io",
    [CB_ERR_INTERNAL] = "internal",
};

void cb_err_clear(struct cb_err *err)
{
    if (err == NULL)
        return;
    err->code = CB_OK;
    err->origin[0] = '\0';
    err->msg[0] = '\0';
}

int cb_err_setv(struct cb_err *err, enum cb_errcode code, const char *origin,
                const char *fmt, va_list ap)
{
    char raw[CB_ERR_MSG_MAX];

    if (err == NULL || err->code != CB_OK)
        return -1;
    if (code <= CB_OK || code >= CB_ERR__COUNT)
        code = CB_ERR_INTERNAL;
    err->code = code;
    cb_sanitize(err->origin, sizeof err->origin, origin ? origin : "");
    vsnprintf(raw, sizeof raw, fmt, ap);
    cb_sanitize(err->msg, sizeof err->msg, raw);
    return -1;
}

int cb_err_set(struct cb_err *err, enum cb_errcode code, const char *origin,
               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cb_err_setv(err, code, origin, fmt, ap);
    va_end(ap);
    return -1;
}

int cb_err_errno(struct cb_err *err, enum cb_errcode code, int errnum,
                 const char *origin, const char *fmt, ...)
{
    char head[CB_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    return cb_err_set(err, code, origin, "%s: %s", head, strerror(errnum));
}

int cb_err_isset(const struct cb_err *err)
{
    return err != NULL && err->code != CB_OK;
}

const char *cb_errcode_name(enum cb_errcode code)
{
    if (code < CB_OK || code >= CB_ERR__COUNT)
        return "unknown";
    return code_names[code];
}

const char *cb_err_format(const struct cb_err *err, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    if (err == NULL || err->code == CB_OK)
        snprintf(buf, len, "no error");
    else if (err->origin[0] != '\0')
        snprintf(buf, len, "%s: %s", err->origin, err->msg);
    else
        snprintf(buf, len, "%s", err->msg);
    return buf;
}

int cb_err_is_retryable(enum cb_errcode code)
{
    return code == CB_ERR_THROTTLED || code == CB_ERR_TRANSIENT || code == CB_ERR_TIMEOUT;
}
