/* log: see log.h. */
#include "log.h"
#include "cb_text.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* The single process-wide sink (top-level context, set by main before threads start). */
static struct {
    const char *ident;
    enum cb_log_target target;
    enum cb_log_level max_level;
} sink = { "cloudburst", CB_LOG_STDERR, CB_LOG_INFO };

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

void cb_log_setup(const char *ident, enum cb_log_target target, int syslog_facility,
                  enum cb_log_level max_level)
{
    sink.ident = ident ? ident : "cloudburst";
    sink.target = target;
    sink.max_level = max_level;
    if (target == CB_LOG_SYSLOG)
        openlog(sink.ident, LOG_PID | LOG_NDELAY, syslog_facility);
}

void cb_log_set_level(enum cb_log_level max_level)
{
    sink.max_level = max_level;
}

bool cb_log_enabled(enum cb_log_level level)
{
    return level <= sink.max_level;
}

void cb_vlog(enum cb_log_level level, const char *fmt, va_list ap)
{
    char raw[2048], clean[2048];

    if (!cb_log_enabled(level))
        return;
    vsnprintf(raw, sizeof raw, fmt, ap);
    cb_sanitize(clean, sizeof clean, raw);
    if (sink.target == CB_LOG_SYSLOG) {
        syslog(syslog_prio[level], "%s", clean);
        return;
    }
    /* journald adds its own timestamps; stderr users (tests, foreground runs)
     * get an ISO time so interleaved logs can be ordered. */
    char line[2300];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s: %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, sink.ident, (long)getpid(),
                     level_names[level], clean);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w; /* nowhere left to report a failed log write */
}

void cb_log(enum cb_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cb_vlog(level, fmt, ap);
    va_end(ap);
}

void cb_log_forward(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    va_list ap;

    (void)payload;
    va_start(ap, fmt);
    cb_vlog(level, fmt, ap);
    va_end(ap);
}

const char *cb_log_level_name(enum cb_log_level level)
{
    if ((unsigned)level > CB_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

int cb_log_level_parse(const char *word, enum cb_log_level *out)
{
    for (unsigned i = 0; i <= CB_LOG_DEBUG; i++) {
        if (strcmp(word, level_names[i]) == 0) {
            *out = (enum cb_log_level)i;
            return 0;
        }
    }
    return -1;
}
