/* cb_driver: small helpers every cloud driver needs besides HTTP: the
 * monotonic clock and deadlines of one logical call, an interruptible sleep,
 * naming a driver setting in an error the way the config loader does
 * ("file:line (name)"), and the error class of an HTTP status. Pure
 * functions, no state, linked statically into each driver with cb_http. */
#ifndef CB_DRIVER_H
#define CB_DRIVER_H

#include "provider.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t cb_mono_ms(void);

/* What is left of a deadline (cb_mono_ms() based), 0 once it passed. */
unsigned cb_remaining_ms(int64_t deadline);

/* Sleep ms milliseconds, resumed after signals. */
void cb_sleep_ms(unsigned ms);

/* Where setting `name` comes from, for an error origin: "FILE:LINE (name)"
 * when it was in the file, else "<settings path>.name", else
 * "<driver>.name". Returns buf. */
const char *cb_setting_origin(const struct cb_settings *s, const char *driver, const char *name,
                              char *buf, size_t len);

/* The error class of a non-2xx HTTP status of a REST cloud API, `quota`
 * telling whether the reply's message speaks of a quota or limit (REST
 * fronts report quota as 403, 413 or a passed-on 5xx): 401 auth; 403 quota
 * or auth; 404 not found; 409 transient (a conflict passes); 413 and 429
 * quota or throttled; 5xx quota or transient; anything else permanent. */
enum cb_errcode cb_http_status_errcode(long status, bool quota);

/* A string setting's value, NULL when unset or empty. */
const char *cb_setting_text(const struct cb_settings *s, const char *name);

#endif
