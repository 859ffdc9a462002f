/* cb_error: the one error type every cloudburst module reports through.
 *
 * A failing function returns -1 and fills a caller-supplied struct cb_err with
 * a class (what the caller can branch on), an origin (where: "file:line",
 * "clouds.[1].flavors.[0].cpus", "ec2:RunInstances") and a message a human can
 * act on. The FIRST cause wins: once an error is set, later cb_err_set() calls
 * on the same struct are ignored, so the most specific message survives being
 * passed up through generic layers. Messages are sanitised on entry (no control
 * characters, no CR/LF), so outside text can never forge log lines.
 *
 * The struct is plain data, has no heap parts and needs no free. Thread-safe as
 * long as each thread uses its own struct cb_err.
 */
#ifndef CB_ERROR_H
#define CB_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum cb_errcode {
    CB_OK = 0,
    CB_ERR_AUTH,        /* credentials rejected: do not retry */
    CB_ERR_QUOTA,       /* quota or capacity exhausted: try another flavor/cloud */
    CB_ERR_THROTTLED,   /* rate limited: retry later, with backoff */
    CB_ERR_NOT_FOUND,   /* the thing does not exist (may be success for deletes) */
    CB_ERR_TRANSIENT,   /* network, 5xx, conflict: retry may succeed */
    CB_ERR_TIMEOUT,     /* an outside call exceeded its deadline */
    CB_ERR_PERMANENT,   /* the request itself is wrong for that cloud: no retry */
    CB_ERR_INVALID,     /* bad input: config, arguments, malformed data */
    CB_ERR_VERSION,     /* ABI or schema version we cannot handle */
    CB_ERR_BUSY,        /* resource held by someone else (ledger lock) */
    CB_ERR_IO,          /* local file or process I/O failed */
    CB_ERR_INTERNAL,    /* a bug or out of memory */
    CB_ERR__COUNT
};

#define CB_ERR_ORIGIN_MAX 160
#define CB_ERR_MSG_MAX 512

struct cb_err {
    enum cb_errcode code;
    char origin[CB_ERR_ORIGIN_MAX];
    char msg[CB_ERR_MSG_MAX];
};

#define CB_ERR_INIT { CB_OK, "", "" }

/* Reset to "no error". */
void cb_err_clear(struct cb_err *err);

/* Record an error unless one is already recorded. `err` may be NULL (the error
 * is then dropped: only for callers that truly cannot report). `origin` may be
 * NULL or "". Always returns -1 so callers can write `return cb_err_set(...)`. */
int cb_err_set(struct cb_err *err, enum cb_errcode code, const char *origin,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int cb_err_setv(struct cb_err *err, enum cb_errcode code, const char *origin,
                const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* Same, with errno's text appended (": No such file or directory"). */
int cb_err_errno(struct cb_err *err, enum cb_errcode code, int errnum,
                 const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* True when an error is recorded. */
int cb_err_isset(const struct cb_err *err);

/* Stable lower-case word for a code ("auth", "quota", ...), for logs and JSON. */
const char *cb_errcode_name(enum cb_errcode code);

/* "origin: message" (or just the message) into buf; returns buf. */
const char *cb_err_format(const struct cb_err *err, char *buf, size_t len);

/* Whether a retry of the same call may succeed (throttled, transient, timeout). */
int cb_err_is_retryable(enum cb_errcode code);

#endif
