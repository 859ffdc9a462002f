/* daemon: cloudburstd's top-level context and its event loop.
 *
 * One libuv loop runs everything that waits: the cycle timer, signals, the
 * pool adapter's child processes, SSH sessions, and completions posted by the
 * per-cloud driver threads. Nothing on the loop blocks. This struct is the
 * only mutable state the process has (plus the log sink main() configures).
 *
 * Signals: SIGTERM/SIGINT finish the cycle in progress and then stop (exit 0);
 * SIGHUP loads the configuration again at the next quiet point: a new valid
 * configuration replaces the old one, an invalid one is logged and the old
 * one kept.
 */
#ifndef CB_DAEMON_H
#define CB_DAEMON_H

#include "cb_error.h"
#include "config.h"

#include <stdbool.h>
#include <uv.h>

struct cb_daemon_options {
    const char *config_path;
    const char *provider_dir;   /* override of controller.provider_dir, NULL = config's */
    bool once;                  /* run a single cycle, then exit */
    bool dry_run;               /* decide and explain, never act (shadow mode) */
    int log_level;              /* enum cb_log_level from the command line, -1 = config's */
};

struct cb_cycle;                /* cycle.h */
struct ledger;                  /* ledger.h */
struct cb_metrics;              /* metrics.h */
struct cb_metrics_server;

struct cb_daemon {
    struct cb_daemon_options opts;
    struct cb_config *cfg;      /* current configuration (owned) */
    struct ledger *ledger;      /* opened once; a reload cannot move it (owned) */
    struct cb_metrics *metrics; /* survives reloads, so counters keep counting (owned) */
    struct cb_metrics_server *metrics_server; /* NULL unless metrics.listen is set */
    uv_loop_t loop;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t cycle_timer;
    uv_timer_t watchdog_timer;
    bool stopping;              /* a stop signal arrived */
    bool reload_pending;        /* SIGHUP arrived; reload at the next quiet point */
    bool cycle_running;
    uint64_t stop_deadline_ms;  /* uv_now() bound on waiting for cloud calls at a stop */
    unsigned long cycles;       /* completed cycles */
    int exit_code;
    struct cb_cycle *cycle;     /* per-cycle machinery (owned) */
};

/* Run until stopped with the loaded configuration `cfg` (ownership passes to
 * the daemon, also on failure). Returns the process exit code; err explains
 * a non-zero one. */
int cb_daemon_run(const struct cb_daemon_options *opts, struct cb_config *cfg, struct cb_err *err);

#endif
