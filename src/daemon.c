/* daemon: see daemon.h. */
#include "cb_autoconf.h"
#include "daemon.h"
#include "cycle.h"
#include "core/core.h"
#include "ledger.h"
#include "metrics.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

/* The shortest allowed controller.cycle_interval (cloudburst.conf(5)). */
#define CB_CYCLE_MIN_INTERVAL_MS 5000u

static void schedule_next_cycle(struct cb_daemon *d, uint64_t delay_ms);

static void close_handles(struct cb_daemon *d)
{
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->sig_hup, NULL);
    uv_close((uv_handle_t *)&d->cycle_timer, NULL);
    uv_close((uv_handle_t *)&d->watchdog_timer, NULL);
}

/* Close everything that keeps the loop alive: our own handles and the
 * cycle's (driver threads' wake-ups, SSH sessions). uv_run then returns. */
static void begin_stop(struct cb_daemon *d)
{
    if (!uv_is_closing((uv_handle_t *)&d->cycle_timer)) {
        sd_notify(0, "STOPPING=1");
        close_handles(d);
        cb_cycle_free(d->cycle);
        d->cycle = NULL;
        cb_metrics_server_stop(d->metrics_server);
        d->metrics_server = NULL;
    }
}

/* A stop (or the end of --once) first lets the cloud calls already made
 * finish and report, within call_timeout: a boot whose intent the ledger
 * holds is then carried out and its instance recorded, instead of being
 * failed as "shutting down" and left for the next start to sort out. */
static void on_stop_wait(uv_timer_t *t)
{
    struct cb_daemon *d = t->data;
    if (d->cycle != NULL && cb_cycle_calls_pending(d->cycle) && uv_now(&d->loop) < d->stop_deadline_ms)
        return;
    uv_timer_stop(t);
    begin_stop(d);
}

static void stop_when_calls_done(struct cb_daemon *d)
{
    if (d->cycle == NULL || !cb_cycle_calls_pending(d->cycle)) {
        begin_stop(d);
        return;
    }
    cb_info("waiting for the cloud calls in flight before stopping");
    d->stop_deadline_ms = uv_now(&d->loop) + (uint64_t)d->cfg->controller.call_timeout * 1000u + 5000u;
    uv_timer_start(&d->cycle_timer, on_stop_wait, 50, 50);
}

/* The command line wins over the configuration for the settings both have. */
static void apply_command_line(struct cb_daemon *d)
{
    if (d->opts.dry_run)
        d->cfg->controller.dry_run = true;
    cb_log_set_level(d->opts.log_level >= 0 ? (enum cb_log_level)d->opts.log_level
                                            : d->cfg->log.level);
}

/* Replace the configuration with a freshly loaded one, if it is valid.
 * Called only between cycles, so no outside call holds the old one. */
static void reload_config(struct cb_daemon *d)
{
    struct cb_err err = CB_ERR_INIT;
    struct cb_config *cfg = NULL;
    struct cb_cycle *cycle = NULL;
    char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];

    d->reload_pending = false;
    sd_notify(0, "RELOADING=1");
    if (cb_config_load(&cfg, d->opts.config_path, d->opts.provider_dir, &err) != 0) {
        cb_error("reload: %s; keeping the running configuration", cb_err_format(&err, msg, sizeof msg));
        sd_notify(0, "READY=1");
        return;
    }
    if (strcmp(cfg->ledger.path, d->cfg->ledger.path) != 0)
        cb_warning("reload: ledger.path changed to %s; the ledger moves only with a restart "
                   "(still using %s)", cfg->ledger.path, d->cfg->ledger.path);
    struct cb_config *old_cfg = d->cfg;
    struct cb_cycle *old_cycle = d->cycle;
    d->cfg = cfg;
    d->cycle = NULL;
    apply_command_line(d);
    if (cb_cycle_new(&cycle, d, &err) != 0) {
        cb_error("reload: %s; keeping the running configuration", cb_err_format(&err, msg, sizeof msg));
        d->cfg = old_cfg;
        d->cycle = old_cycle;
        cb_config_free(cfg);
        sd_notify(0, "READY=1");
        return;
    }
    d->cycle = cycle;
    cb_cycle_free(old_cycle);
    cb_config_free(old_cfg);
    apply_command_line(d);
    cb_notice("configuration reloaded from %s", d->opts.config_path);
    sd_notify(0, "READY=1");
}

static void on_cycle_done(struct cb_daemon *d, int status)
{
    d->cycle_running = false;
    d->cycles++;
    if (status != 0 && d->opts.once)
        d->exit_code = 1;
    if (d->opts.once || d->stopping) {
        stop_when_calls_done(d);
        return;
    }
    /* Reload at a quiet point: the old drivers' calls must have reported. */
    if (d->reload_pending && !cb_cycle_calls_pending(d->cycle))
        reload_config(d);
    /* Every cycle_interval, or sooner when something the core waits for
     * falls due (a drained node to terminate, a timeout): a node that has
     * finished should not run, and cost, a whole interval more. Never more
     * often than the shortest allowed interval, to spare the clouds. */
    uint64_t delay = (uint64_t)d->cfg->controller.cycle_interval * 1000u;
    int64_t due = cb_cycle_next_deadline(d->cycle);
    int64_t now = (int64_t)time(NULL);
    if (due != CB_CORE_NEVER && due > now && (uint64_t)(due - now) * 1000u < delay)
        delay = (uint64_t)(due - now) * 1000u;
    else if (due != CB_CORE_NEVER && due <= now)
        delay = 0;
    if (delay < CB_CYCLE_MIN_INTERVAL_MS)
        delay = CB_CYCLE_MIN_INTERVAL_MS;
    schedule_next_cycle(d, delay);
}

static void on_cycle_timer(uv_timer_t *t)
{
    struct cb_daemon *d = t->data;
    struct cb_err err = CB_ERR_INIT;
    char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];

    if (d->stopping)
        return;
    /* Reload at a quiet point: the old drivers' calls must have reported. */
    if (d->reload_pending && !cb_cycle_calls_pending(d->cycle))
        reload_config(d);
    d->cycle_running = true;
    if (cb_cycle_start(d->cycle, on_cycle_done, &err) != 0) {
        cb_error("cycle could not start: %s", cb_err_format(&err, msg, sizeof msg));
        on_cycle_done(d, -1);
    }
}

static void schedule_next_cycle(struct cb_daemon *d, uint64_t delay_ms)
{
    uv_timer_start(&d->cycle_timer, on_cycle_timer, delay_ms, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct cb_daemon *d = s->data;

    if (signum == SIGHUP) {
        cb_notice("SIGHUP: configuration will be reloaded %s",
                  d->cycle_running ? "after the cycle in progress" : "now");
        d->reload_pending = true;
        if (!d->cycle_running && !d->stopping && !cb_cycle_calls_pending(d->cycle))
            reload_config(d);
        return;
    }
    if (d->stopping) {
        cb_notice("%s again: still finishing the cycle in progress", strsignal(signum));
        return;
    }
    d->stopping = true;
    cb_notice("%s: stopping%s", strsignal(signum),
              d->cycle_running ? " after the cycle in progress" : "");
    if (!d->cycle_running)
        stop_when_calls_done(d);
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

int cb_daemon_run(const struct cb_daemon_options *opts, struct cb_config *cfg, struct cb_err *err)
{
    struct cb_daemon *d = calloc(1, sizeof *d);
    int rc;

    if (d == NULL) {
        cb_config_free(cfg);
        cb_err_set(err, CB_ERR_INTERNAL, "daemon", "out of memory");
        return 1;
    }
    d->opts = *opts;
    d->cfg = cfg;
    apply_command_line(d);

    /* The ledger first: a second daemon on the same ledger stops here, before
     * it has touched a cloud. */
    if (ledger_open(&d->ledger, d->cfg->ledger.path, LEDGER_READ_WRITE,
                    d->cfg->ledger.busy_timeout_ms, err) != 0) {
        cb_config_free(d->cfg);
        free(d);
        return 1;
    }
    if ((rc = uv_loop_init(&d->loop)) != 0) {
        cb_err_set(err, CB_ERR_INTERNAL, "daemon", "uv_loop_init: %s", uv_strerror(rc));
        ledger_close(d->ledger);
        cb_config_free(d->cfg);
        free(d);
        return 1;
    }
    if (cb_metrics_new(&d->metrics, err) != 0 || cb_cycle_register_metrics(d->metrics, err) != 0 ||
        (d->cfg->metrics.listen[0] != '\0' &&
         cb_metrics_server_start(&d->metrics_server, &d->loop, d->metrics, d->cfg->metrics.listen,
                                 err) != 0) ||
        cb_cycle_new(&d->cycle, d, err) != 0) {
        cb_metrics_server_stop(d->metrics_server);
        uv_run(&d->loop, UV_RUN_DEFAULT); /* let half-built handles close */
        cb_metrics_free(d->metrics);
        uv_loop_close(&d->loop);
        ledger_close(d->ledger);
        cb_config_free(d->cfg);
        free(d);
        return 1;
    }

    uv_signal_init(&d->loop, &d->sig_term);
    uv_signal_init(&d->loop, &d->sig_int);
    uv_signal_init(&d->loop, &d->sig_hup);
    d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
    uv_signal_start(&d->sig_term, on_signal, SIGTERM);
    uv_signal_start(&d->sig_int, on_signal, SIGINT);
    uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
    uv_timer_init(&d->loop, &d->cycle_timer);
    d->cycle_timer.data = d;
    uv_timer_init(&d->loop, &d->watchdog_timer);
    d->watchdog_timer.data = d;

    /* systemd's watchdog: ping at half the interval it asked for. */
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0)
        uv_timer_start(&d->watchdog_timer, on_watchdog, wd_usec / 2000, wd_usec / 2000);
    else
        uv_unref((uv_handle_t *)&d->watchdog_timer);

    cb_notice("cloudburstd %s started: pool %s, %zu cloud(s), cycle every %us%s%s", PACKAGE_VERSION,
              d->cfg->pool.name, d->cfg->n_clouds, d->cfg->controller.cycle_interval,
              d->cfg->controller.dry_run ? ", dry run (shadow mode: no actions)" : "",
              opts->once ? ", single cycle" : "");
    sd_notify(0, "READY=1");
    schedule_next_cycle(d, 0);

    uv_run(&d->loop, UV_RUN_DEFAULT);

    cb_cycle_free(d->cycle);
    d->cycle = NULL;
    /* Handles the cycle closed need one more turn of the loop to finish. */
    uv_run(&d->loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&d->loop);
    if (rc != 0)
        cb_warning("event loop closed with handles still open: %s", uv_strerror(rc));
    int exit_code = d->exit_code;
    cb_notice("cloudburstd stopped after %lu cycle(s)", d->cycles);
    cb_metrics_free(d->metrics);
    ledger_close(d->ledger);
    cb_config_free(d->cfg);
    free(d);
    return exit_code;
}
