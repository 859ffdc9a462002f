/* log: leveled logging to stderr or syslog, one line per message.
 *
 * The process has exactly one log sink, configured by main() (it is part of
 * the daemon's top-level context; nothing else writes it). Every message is
 * sanitised before it is written, so text from clouds, nodes or condor tools
 * cannot forge lines. Safe to call from any thread: each message is a single
 * write(2) (stderr) or syslog(3) call.
 *
 * Library-style modules (providers, the core) do not call this directly: they
 * receive a cb_log_fn from their caller.
 */
#ifndef CB_LOG_H
#define CB_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum cb_log_level { CB_LOG_ERROR = 0, CB_LOG_WARNING, CB_LOG_NOTICE, CB_LOG_INFO, CB_LOG_DEBUG };

enum cb_log_target { CB_LOG_STDERR = 0, CB_LOG_SYSLOG };

/* A log callback handed to modules that must not depend on the global sink. */
typedef void (*cb_log_fn)(void *payload, enum cb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Configure the sink. ident is the syslog ident / stderr prefix (kept by pointer). */
void cb_log_setup(const char *ident, enum cb_log_target target, int syslog_facility,
                  enum cb_log_level max_level);
void cb_log_set_level(enum cb_log_level max_level);
bool cb_log_enabled(enum cb_log_level level);

void cb_log(enum cb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb_vlog(enum cb_log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* A cb_log_fn that forwards to the global sink (payload unused). */
void cb_log_forward(void *payload, enum cb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "error", "warning", ... and back; parse returns -1 for an unknown word. */
const char *cb_log_level_name(enum cb_log_level level);
int cb_log_level_parse(const char *word, enum cb_log_level *out);

#define cb_error(...) cb_log(CB_LOG_ERROR, __VA_ARGS__)
#define cb_warning(...) cb_log(CB_LOG_WARNING, __VA_ARGS__)
#define cb_notice(...) cb_log(CB_LOG_NOTICE, __VA_ARGS__)
#define cb_info(...) cb_log(CB_LOG_INFO, __VA_ARGS__)
#define cb_debug(...) cb_log(CB_LOG_DEBUG, __VA_ARGS__)

#endif
