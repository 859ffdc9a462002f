/* cycle: see cycle.h.
 *
 * One cycle runs in three phases on the loop thread:
 *   OBSERVE  the pool adapter's queries and, when due, every cloud's listing
 *            run concurrently; the phase ends when all have answered (each
 *            is bounded by its own timeout), or listing_wait after the pool
 *            answered: a cloud still listing then is decided on without a
 *            fresh listing, so a hung cloud API holds no cycle for long;
 *   DECIDE   the core turns the observations plus the results of earlier
 *            actions into actions and ledger records; the records are made
 *            durable, in order, before anything is acted on;
 *   ACT      boots and terminations go to the clouds' worker threads, drains
 *            and bootstraps to the pool adapter and the bootstrapper. The
 *            cycle does not wait for them: each reports when it is done (a
 *            cloud call within call_timeout, a bootstrap within minutes), as
 *            an event for the next decide. So a cloud whose API hangs delays
 *            nothing but its own calls: while its worker is still busy, the
 *            next cycles do not list it (its listing counts as not fresh) and
 *            go on with the other clouds and the pool.
 * Results of actions become core events for the next decide. In dry-run
 * (shadow) mode the decisions are logged but neither recorded nor acted on.
 */
#include "cycle.h"
#include "cb_text.h"
#include "cloud_worker.h"
#include "core_bridge.h"
#include "daemon.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum phase { PHASE_IDLE = 0, PHASE_OBSERVE, PHASE_ACT };

struct cloud_rt {
    struct cb_cycle *cycle;
    unsigned index;
    const struct cb_cloud *cfg;
    struct cb_provider_module module;
    struct cb_provider_init init;
    struct cb_cloud_worker *worker;
    struct cb_instance_list listing;    /* last listing */
    bool listing_fresh;                 /* listed during this cycle */
    bool listing_ok;
    bool listing_awaited;               /* the observe phase waits for its listing */
};

/* A BOOTSTRAP held until the cloud's console shows the instance's SSH host
 * keys (host_key_policy strict). cloud-init prints them late in the first
 * boot, so an empty console is asked again at the next cycles, until
 * join_timeout; then the bootstrap goes ahead and strict checking refuses the
 * unknown key with a clear error. */
struct key_wait {
    struct cb_cycle *cycle;
    struct cb_core_action action;
    int64_t first_try;
    bool in_flight;
    struct key_wait *next;
};

struct cb_cycle {
    struct cb_daemon *d;
    struct ledger *ledger;
    struct cloud_rt *clouds;
    size_t n_clouds;
    struct cb_bridge_config core_cfg;
    struct cb_core *core;
    struct cb_core_output out;
    struct cb_world *world;          /* pool and nodes: observe, drain, bootstrap */

    /* strict host keys: bootstraps waiting for the instance's console keys */
    struct key_wait *key_waits;
    bool freeing;

    /* results of actions, delivered to the next decide */
    struct cb_core_event *events;
    size_t n_events, cap_events;

    /* the observation of the cycle in progress */
    struct cb_demand demand;
    struct cb_supply supply;
    bool pool_ok;
    double pool_started;
    uv_timer_t *listing_timer;          /* listing_wait, from the pool's answer */
    bool list_due;                      /* list the clouds this cycle */
    unsigned cycles_since_list;

    enum phase phase;
    unsigned outstanding;               /* calls the current phase waits for */
    unsigned long number;               /* cycle counter */
    double started;                     /* monotonic seconds */
    bool failed;
    cb_cycle_done_fn done;
};

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_err(const char *what, const struct cb_err *err)
{
    char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];
    cb_error("%s: %s", what, cb_err_format(err, msg, sizeof msg));
}

static void push_event(struct cb_cycle *c, const struct cb_core_event *ev)
{
    if (c->n_events == c->cap_events) {
        size_t ncap = c->cap_events ? c->cap_events * 2 : 64;
        struct cb_core_event *p = realloc(c->events, ncap * sizeof *p);
        if (p == NULL) {
            /* Losing a result is safe (the core re-learns from listings and
             * timeouts) but must not be silent. */
            cb_error("out of memory: dropped a %s result for %s",
                     cb_core_event_kind_name(ev->kind), ev->node_id);
            return;
        }
        c->events = p;
        c->cap_events = ncap;
    }
    c->events[c->n_events++] = *ev;
}

/* ---------------------------------------------------------------- setup -- */

static void log_from_driver(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    const struct cloud_rt *rt = payload;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cb_log(level, "cloud %s: %s", rt->cfg->name, buf);
}

int cb_cycle_new(struct cb_cycle **out, struct cb_daemon *d, struct cb_err *err)
{
    const struct cb_config *cfg = d->cfg;
    struct cb_cycle *c = calloc(1, sizeof *c);

    *out = NULL;
    if (c == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "cycle", "out of memory");
    c->d = d;
    c->ledger = d->ledger;
    c->list_due = true; /* always list at start: reconciliation */
    /* Its own allocation: a closing handle must outlive the cycle until the
     * loop has closed it. */
    c->listing_timer = malloc(sizeof *c->listing_timer);
    if (c->listing_timer == NULL) {
        free(c);
        return cb_err_set(err, CB_ERR_INTERNAL, "cycle", "out of memory");
    }
    uv_timer_init(&d->loop, c->listing_timer);
    c->listing_timer->data = c;

    if (cb_bridge_core_config(cfg, &c->core_cfg, err) != 0 ||
        cb_core_new(&c->core, &c->core_cfg.core, err) != 0)
        goto fail;
    if (cb_bridge_restore(c->core, cfg, c->ledger, (int64_t)time(NULL), err) != 0)
        goto fail;
    /* Cycle numbers go on from the last recorded one: `cloudburstctl explain`
     * keys the history by them, across restarts. */
    struct ledger_cycle last;
    struct ledger_decision_list last_decisions = { 0 };
    struct cb_err probe = CB_ERR_INIT;
    if (ledger_last_cycle(c->ledger, &last, &last_decisions, &probe) == 0) {
        c->number = last.id > 0 ? (unsigned long)last.id : 0;
        ledger_decision_list_free(&last_decisions);
    } else if (probe.code != CB_ERR_NOT_FOUND) {
        cb_err_set(err, probe.code, probe.origin, "%s", probe.msg);
        goto fail;
    }

    c->clouds = calloc(cfg->n_clouds ? cfg->n_clouds : 1, sizeof *c->clouds);
    if (c->clouds == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, "cycle", "out of memory");
        goto fail;
    }
    c->n_clouds = cfg->n_clouds;
    for (size_t i = 0; i < cfg->n_clouds; i++) {
        struct cloud_rt *rt = &c->clouds[i];
        rt->cycle = c;
        rt->index = (unsigned)i;
        rt->cfg = &cfg->clouds[i];
        const char *dir = d->opts.provider_dir ? d->opts.provider_dir : cfg->controller.provider_dir;
        if (cb_provider_load(&rt->module, dir, rt->cfg->provider, err) != 0)
            goto fail;
        rt->init = (struct cb_provider_init){
            .version = CB_PROVIDER_ABI_VERSION,
            .cloud_name = rt->cfg->name,
            .pool_name = cfg->pool.name,
            .settings = &rt->cfg->settings,
            .connect_timeout_ms = cfg->controller.connect_timeout * 1000u,
            .call_timeout_ms = cfg->controller.call_timeout * 1000u,
            .log = log_from_driver,
            .log_payload = rt,
        };
        if (cb_cloud_worker_new(&rt->worker, &d->loop, &rt->module, &rt->init, err) != 0)
            goto fail;
    }
    if (cb_world_new(&c->world, &d->loop, cfg, err) != 0)
        goto fail;
    *out = c;
    return 0;
fail:
    cb_cycle_free(c);
    return -1;
}

bool cb_cycle_calls_pending(const struct cb_cycle *c)
{
    for (size_t i = 0; i < c->n_clouds; i++)
        if (cb_cloud_worker_pending(c->clouds[i].worker) > 0)
            return true;
    return false;
}

int64_t cb_cycle_next_deadline(const struct cb_cycle *c)
{
    return cb_core_next_deadline(c->core);
}

static void on_listing_timer_closed(uv_handle_t *h)
{
    free(h);
}

void cb_cycle_free(struct cb_cycle *c)
{
    if (c == NULL)
        return;
    c->freeing = true; /* results delivered below only free their context */
    uv_close((uv_handle_t *)c->listing_timer, on_listing_timer_closed);
    for (size_t i = 0; i < c->n_clouds; i++) {
        struct cloud_rt *rt = &c->clouds[i];
        cb_cloud_worker_free(rt->worker); /* delivers pending results to their callbacks */
        cb_instance_list_free(&rt->listing);
    }
    /* Worker shutdown may have delivered results that reference the cycle;
     * they are recorded as events and dropped with it (the next start
     * reconciles from the ledger and the clouds). */
    for (size_t i = 0; i < c->n_clouds; i++)
        cb_provider_unload(&c->clouds[i].module);
    free(c->clouds);
    cb_world_free(c->world);
    cb_core_free(c->core);
    cb_bridge_core_config_free(&c->core_cfg);
    cb_core_output_free(&c->out);
    cb_demand_free(&c->demand);
    cb_supply_free(&c->supply);
    free(c->events);
    while (c->key_waits != NULL) {
        struct key_wait *k = c->key_waits;
        c->key_waits = k->next;
        free(k);
    }
    free(c);
}

/* ------------------------------------------------------------ metrics -- */

static const double duration_buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120 };
#define N_DURATION_BUCKETS (sizeof duration_buckets / sizeof duration_buckets[0])
/* A bootstrap waits for SSH and the startd: seconds to many minutes. */
static const double node_buckets[] = { 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200 };
#define N_NODE_BUCKETS (sizeof node_buckets / sizeof node_buckets[0])

int cb_cycle_register_metrics(struct cb_metrics *m, struct cb_err *err)
{
    static const struct {
        const char *name;
        enum cb_metric_type type;
        const char *help;
    } families[] = {
        { "cloudburst_nodes", CB_METRIC_GAUGE, "Nodes the controller owns, by cloud and lifecycle state." },
        { "cloudburst_idle_jobs", CB_METRIC_GAUGE, "Idle jobs eligible for cloud nodes, as last observed." },
        { "cloudburst_idle_demand_cores", CB_METRIC_GAUGE, "Cores requested by the eligible idle jobs." },
        { "cloudburst_observation_partial", CB_METRIC_GAUGE, "1 when the last pool observation was incomplete (no scale-down on it)." },
        { "cloudburst_boots_total", CB_METRIC_COUNTER, "Instances the clouds accepted to boot." },
        { "cloudburst_boot_failures_total", CB_METRIC_COUNTER, "Boot calls that failed, by cloud and error class." },
        { "cloudburst_terminations_total", CB_METRIC_COUNTER, "Instances whose termination the cloud accepted." },
        { "cloudburst_cloud_listings_late_total", CB_METRIC_COUNTER, "Cloud listings not back within listing_wait, so their cycle decided without them." },
        { "cloudburst_breaker_open", CB_METRIC_GAUGE, "1 while a (cloud, image, flavor) circuit breaker of the cloud is open." },
        { "cloudburst_cost_per_hour", CB_METRIC_GAUGE, "Hourly cost of the cloud's live nodes, in the site's currency." },
        { "cloudburst_month_spend", CB_METRIC_GAUGE, "Spend accrued on the cloud this calendar month (UTC)." },
        { "cloudburst_decisions_total", CB_METRIC_COUNTER, "Actions decided, by action and reason." },
        { "cloudburst_nondecisions_total", CB_METRIC_COUNTER, "Things not done, by reason (quota, in-flight cap, budget, ...)." },
        { "cloudburst_cycles_total", CB_METRIC_COUNTER, "Cycles run, by outcome." },
        { "cloudburst_last_cycle_timestamp_seconds", CB_METRIC_GAUGE, "Unix time the last cycle finished." },
    };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (cb_metrics_family(m, families[i].name, families[i].type, families[i].help, NULL, 0, err) != 0)
            return -1;
    if (cb_metrics_family(m, "cloudburst_cycle_duration_seconds", CB_METRIC_HISTOGRAM,
                          "Wall time of one observe-decide-act cycle.", duration_buckets,
                          N_DURATION_BUCKETS, err) != 0 ||
        cb_metrics_family(m, "cloudburst_cloud_call_duration_seconds", CB_METRIC_HISTOGRAM,
                          "Latency of cloud API calls, by cloud and call.", duration_buckets,
                          N_DURATION_BUCKETS, err) != 0 ||
        cb_metrics_family(m, "cloudburst_pool_query_duration_seconds", CB_METRIC_HISTOGRAM,
                          "Latency of the pool observation (condor_q and condor_status).",
                          duration_buckets, N_DURATION_BUCKETS, err) != 0 ||
        cb_metrics_family(m, "cloudburst_node_action_duration_seconds", CB_METRIC_HISTOGRAM,
                          "Wall time of actions on nodes (bootstrap over SSH, drain, cancel "
                          "drain), by action and outcome.",
                          node_buckets, N_NODE_BUCKETS, err) != 0)
        return -1;
    return 0;
}

/* The controller side of the two-sided lease: one ad per cycle. */
static void advertise_controller(struct cb_cycle *c, bool paused)
{
    const struct cb_config *cfg = c->d->cfg;
    struct cb_controller_ad ad = {
        .heartbeat = (int64_t)time(NULL),
        .lease = cfg->controller.lease,
        .idle_jobs = c->pool_ok ? c->demand.idle_jobs : 0,
        .dry_run = cfg->controller.dry_run,
        .paused = paused,
    };
    size_t n = cb_core_node_count(c->core);
    for (size_t i = 0; i < n; i++) {
        struct cb_core_node_info info;
        if (cb_core_node_at(c->core, i, &info) != 0)
            continue;
        if (cb_node_state_is_live(info.state))
            ad.nodes_live++;
        if (info.state == CB_NODE_BUSY)
            ad.nodes_busy++;
        if (info.state == CB_NODE_REQUESTED || info.state == CB_NODE_BOOTING ||
            info.state == CB_NODE_BOOTSTRAPPING)
            ad.nodes_in_flight++;
    }
    for (size_t ci = 0; ci < c->out.n_clouds; ci++)
        ad.cost_per_hour += c->out.clouds[ci].burn_per_hour;
    struct cb_err err = CB_ERR_INIT;
    if (cb_world_advertise(c->world, cfg, &ad, &err) != 0)
        log_err("advertise", &err);
}

static void metrics_after_decide(struct cb_cycle *c)
{
    struct cb_metrics *m = c->d->metrics;
    const struct cb_config *cfg = c->d->cfg;

    if (m == NULL)
        return;
    cb_metrics_clear(m, "cloudburst_nodes");
    uint64_t *counts = calloc(c->n_clouds * CB_NODE__COUNT + 1, sizeof *counts);
    if (counts != NULL) {
        size_t n = cb_core_node_count(c->core);
        for (size_t i = 0; i < n; i++) {
            struct cb_core_node_info info;
            if (cb_core_node_at(c->core, i, &info) == 0 && info.cloud < c->n_clouds)
                counts[info.cloud * CB_NODE__COUNT + info.state]++;
        }
        for (size_t ci = 0; ci < c->n_clouds; ci++)
            for (unsigned st = 0; st < CB_NODE__COUNT; st++)
                cb_metrics_set(m, "cloudburst_nodes", (double)counts[ci * CB_NODE__COUNT + st],
                               "cloud", cfg->clouds[ci].name, "state", cb_node_state_name(st), NULL);
        free(counts);
    }
    if (c->pool_ok) {
        double cores = 0;
        for (size_t i = 0; i < c->demand.n; i++)
            cores += (double)c->demand.shapes[i].cpus * c->demand.shapes[i].count;
        cb_metrics_set(m, "cloudburst_idle_jobs", (double)c->demand.idle_jobs, NULL);
        cb_metrics_set(m, "cloudburst_idle_demand_cores", cores, NULL);
    }
    cb_metrics_set(m, "cloudburst_observation_partial",
                   (!c->pool_ok || c->demand.partial || c->supply.partial) ? 1 : 0, NULL);
    for (size_t ci = 0; ci < c->out.n_clouds && ci < c->n_clouds; ci++) {
        const struct cb_core_cloud_stats *st = &c->out.clouds[ci];
        const char *name = cfg->clouds[ci].name;
        cb_metrics_set(m, "cloudburst_breaker_open", st->breaker_open ? 1 : 0, "cloud", name, NULL);
        cb_metrics_set(m, "cloudburst_cost_per_hour", st->burn_per_hour, "cloud", name, NULL);
        cb_metrics_set(m, "cloudburst_month_spend", st->spent_month, "cloud", name, NULL);
    }
    for (size_t i = 0; i < c->out.n_actions; i++)
        cb_metrics_add(m, "cloudburst_decisions_total", 1, "action",
                       cb_core_action_kind_name(c->out.actions[i].kind), "reason",
                       cb_core_reason_name(c->out.actions[i].reason), NULL);
    for (size_t i = 0; i < c->out.n_nondecisions; i++)
        cb_metrics_add(m, "cloudburst_nondecisions_total", 1, "reason",
                       cb_core_reason_name(c->out.nondecisions[i].reason), NULL);
}

/* ------------------------------------------------------------- finish -- */

static void finish(struct cb_cycle *c)
{
    double took = monotonic_seconds() - c->started;
    cb_debug("cycle %lu finished in %.3f s%s", c->number, took, c->failed ? " (with errors)" : "");
    struct cb_metrics *m = c->d->metrics;
    if (m != NULL) {
        cb_metrics_observe(m, "cloudburst_cycle_duration_seconds", took, NULL);
        cb_metrics_add(m, "cloudburst_cycles_total", 1, "outcome", c->failed ? "error" : "ok", NULL);
        cb_metrics_set(m, "cloudburst_last_cycle_timestamp_seconds", (double)time(NULL), NULL);
        const char *textfile = c->d->cfg->metrics.textfile;
        struct cb_err err = CB_ERR_INIT;
        if (textfile != NULL && textfile[0] != '\0' && cb_metrics_write_textfile(m, textfile, &err) != 0)
            log_err("metrics", &err);
    }
    c->phase = PHASE_IDLE;
    cb_cycle_done_fn done = c->done;
    c->done = NULL;
    done(c->d, c->failed ? -1 : 0);
}

static void act_call_finished(struct cb_cycle *c)
{
    if (--c->outstanding == 0)
        finish(c);
}

/* Cloud calls carry their cloud's runtime as payload or inside one. */
static const char *call_cloud_name(const struct cb_cycle *c, const struct cb_cloud_call *call)
{
    return call->cloud < c->n_clouds ? c->clouds[call->cloud].cfg->name : "?";
}

static void observe_call(struct cb_cycle *c, const struct cb_cloud_call *call, const char *what)
{
    if (c->d->metrics != NULL)
        cb_metrics_observe(c->d->metrics, "cloudburst_cloud_call_duration_seconds", call->seconds,
                           "cloud", call_cloud_name(c, call), "call", what, NULL);
    cb_debug("cloud %s: %s took %.3f s", call_cloud_name(c, call), what, call->seconds);
}

/* ---------------------------------------------------------------- act -- */

static void on_boot_done(struct cb_cloud_call *call, void *payload)
{
    struct cb_cycle *c = payload;
    int64_t now = (int64_t)time(NULL);

    if (call->rc == 0) {
        for (size_t i = 0; i < call->instances.n; i++) {
            const struct cb_instance *in = &call->instances.items[i];
            struct cb_core_event ev = { .kind = CB_EVENT_BOOT_ACCEPTED };
            cb_strlcpy(ev.node_id, in->node_id, sizeof ev.node_id);
            cb_strlcpy(ev.batch_id, call->boot.batch_id, sizeof ev.batch_id);
            cb_strlcpy(ev.instance_id, in->id, sizeof ev.instance_id);
            push_event(c, &ev);
            struct cb_err err = CB_ERR_INIT;
            if (ledger_set_instance(c->ledger, in->node_id, in->id, now, &err) != 0)
                log_err("ledger", &err);
        }
        cb_info("boot %s: %zu of %u instance(s) accepted in %.2f s", call->boot.batch_id,
                call->instances.n, call->boot.count, call->seconds);
        if (c->d->metrics)
            cb_metrics_add(c->d->metrics, "cloudburst_boots_total", (double)call->instances.n,
                           "cloud", call_cloud_name(c, call), NULL);
    } else {
        char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];
        cb_warning("boot %s failed (%s): %s", call->boot.batch_id,
                   cb_errcode_name(call->err.code), cb_err_format(&call->err, msg, sizeof msg));
        struct cb_core_event ev = { .kind = CB_EVENT_BOOT_FAILED, .error = call->err.code };
        cb_strlcpy(ev.batch_id, call->boot.batch_id, sizeof ev.batch_id);
        push_event(c, &ev);
        if (c->d->metrics)
            cb_metrics_add(c->d->metrics, "cloudburst_boot_failures_total", 1, "cloud",
                           call_cloud_name(c, call), "error", cb_errcode_name(call->err.code), NULL);
    }
    observe_call(c, call, "boot");
    cb_cloud_call_free(call);
}

struct terminate_ctx {
    struct cb_cycle *c;
    char (*node_ids)[CB_NAME_MAX];
};

static void on_terminate_done(struct cb_cloud_call *call, void *payload)
{
    struct terminate_ctx *t = payload;
    struct cb_cycle *c = t->c;

    for (size_t i = 0; i < call->n_ids; i++) {
        bool failed = call->rc != 0 && (call->failed == NULL || call->failed[i]);
        struct cb_core_event ev = { .kind = failed ? CB_EVENT_TERMINATE_FAILED
                                                   : CB_EVENT_TERMINATE_DONE,
                                    .error = failed ? call->err.code : CB_OK };
        cb_strlcpy(ev.node_id, t->node_ids[i], sizeof ev.node_id);
        cb_strlcpy(ev.instance_id, call->ids[i], sizeof ev.instance_id);
        push_event(c, &ev);
        if (failed) {
            char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];
            cb_warning("terminate %s (%s) failed: %s", t->node_ids[i], call->ids[i],
                       cb_err_format(&call->err, msg, sizeof msg));
        } else {
            cb_info("terminate %s (%s) accepted", t->node_ids[i], call->ids[i]);
            if (c->d->metrics)
                cb_metrics_add(c->d->metrics, "cloudburst_terminations_total", 1, "cloud",
                               call_cloud_name(c, call), NULL);
        }
    }
    observe_call(c, call, "terminate");
    free(t->node_ids);
    free(t);
    cb_cloud_call_free(call);
}

static void act_boot(struct cb_cycle *c, const struct cb_core_action *a)
{
    const struct cb_config *cfg = c->d->cfg;
    struct cloud_rt *rt = &c->clouds[a->cloud];
    struct cb_err err = CB_ERR_INIT;
    struct cb_boot_spec spec = {
        .batch_id = a->batch_id,
        .count = a->count,
        .flavor = rt->cfg->flavors[a->flavor].name,
        .image = rt->cfg->image,
        .spot = rt->cfg->spot,
        .terminate_on_shutdown = rt->cfg->terminate_on_shutdown,
    };
    char *user_data = NULL;
    size_t user_data_len = 0;
    if (cb_world_user_data(c->world, cfg, a, &user_data, &user_data_len, &err) != 0) {
        log_err("user-data", &err);
        c->failed = true;
        struct cb_core_event ev = { .kind = CB_EVENT_BOOT_FAILED, .error = err.code };
        cb_strlcpy(ev.batch_id, a->batch_id, sizeof ev.batch_id);
        push_event(c, &ev);
        return;
    }
    spec.user_data = user_data;
    spec.user_data_len = user_data_len;
    struct cb_cloud_call *call = cb_cloud_call_new_boot(&spec, on_boot_done, c);
    free(user_data);
    if (call != NULL)
        call->cloud = a->cloud;
    if (call == NULL || cb_cloud_worker_submit(rt->worker, call, &err) != 0) {
        if (call == NULL)
            cb_err_set(&err, CB_ERR_INTERNAL, "cycle", "out of memory");
        log_err("boot", &err);
        cb_cloud_call_free(call);
        struct cb_core_event ev = { .kind = CB_EVENT_BOOT_FAILED, .error = err.code };
        cb_strlcpy(ev.batch_id, a->batch_id, sizeof ev.batch_id);
        push_event(c, &ev);
    }
}

/* Terminations of one cloud go out as one batch call. */
static void act_terminate_cloud(struct cb_cycle *c, unsigned cloud)
{
    struct cloud_rt *rt = &c->clouds[cloud];
    size_t n = 0;

    for (size_t i = 0; i < c->out.n_actions; i++)
        n += c->out.actions[i].kind == CB_ACTION_TERMINATE && c->out.actions[i].cloud == cloud;
    if (n == 0)
        return;
    const char **ids = calloc(n, sizeof *ids);
    struct terminate_ctx *t = calloc(1, sizeof *t);
    char (*node_ids)[CB_NAME_MAX] = calloc(n, sizeof *node_ids);
    if (ids == NULL || t == NULL || node_ids == NULL) {
        cb_error("out of memory: terminations on %s postponed to the next cycle", rt->cfg->name);
        free(ids);
        free(t);
        free(node_ids);
        c->failed = true;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < c->out.n_actions; i++) {
        const struct cb_core_action *a = &c->out.actions[i];
        if (a->kind == CB_ACTION_TERMINATE && a->cloud == cloud) {
            ids[k] = a->instance_id;
            cb_strlcpy(node_ids[k], a->node_id, sizeof node_ids[k]);
            k++;
        }
    }
    t->c = c;
    t->node_ids = node_ids;
    struct cb_err err = CB_ERR_INIT;
    struct cb_cloud_call *call = cb_cloud_call_new_terminate(ids, n, on_terminate_done, t);
    free(ids);
    if (call != NULL)
        call->cloud = cloud;
    if (call == NULL || cb_cloud_worker_submit(rt->worker, call, &err) != 0) {
        if (call == NULL)
            cb_err_set(&err, CB_ERR_INTERNAL, "cycle", "out of memory");
        log_err("terminate", &err);
        for (size_t i = 0; i < n; i++) {
            struct cb_core_event ev = { .kind = CB_EVENT_TERMINATE_FAILED, .error = err.code };
            cb_strlcpy(ev.node_id, node_ids[i], sizeof ev.node_id);
            push_event(c, &ev);
        }
        cb_cloud_call_free(call);
        free(node_ids);
        free(t);
    }
}

/* Node actions (bootstrap, drain, cancel drain) run asynchronously and report
 * through this callback, possibly cycles later. */
static void on_node_action_done(void *payload, const char *node_id,
                                enum cb_core_action_kind action, enum cb_core_event_kind kind,
                                enum cb_errcode code, double seconds)
{
    struct cb_cycle *c = payload;
    struct cb_core_event ev = { .kind = kind, .error = code };
    if (c->d->metrics != NULL && seconds >= 0)
        cb_metrics_observe(c->d->metrics, "cloudburst_node_action_duration_seconds", seconds,
                           "action", cb_core_action_kind_name(action), "outcome",
                           code == CB_OK ? "ok" : "error", NULL);
    cb_strlcpy(ev.node_id, node_id, sizeof ev.node_id);
    push_event(c, &ev);
}

static void start_node_action(struct cb_cycle *c, const struct cb_core_action *a,
                              const char *host_keys)
{
    struct cb_err err = CB_ERR_INIT;
    if (cb_world_node_action(c->world, c->d->cfg, a, host_keys, on_node_action_done, c, &err) != 0) {
        log_err(cb_core_action_kind_name(a->kind), &err);
        enum cb_core_event_kind k = a->kind == CB_ACTION_BOOTSTRAP ? CB_EVENT_BOOTSTRAP_FAILED
                                                                   : CB_EVENT_DRAIN_FAILED;
        on_node_action_done(c, a->node_id, a->kind, k, err.code, -1);
    }
}

static void key_wait_remove(struct cb_cycle *c, struct key_wait *k)
{
    for (struct key_wait **pp = &c->key_waits; *pp != NULL; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    free(k);
}

static void key_wait_submit(struct cb_cycle *c, struct key_wait *k);

static void on_host_keys_done(struct cb_cloud_call *call, void *payload)
{
    struct key_wait *k = payload;
    struct cb_cycle *c = k->cycle;
    const char *node = k->action.node_id;

    observe_call(c, call, "host-keys");
    k->in_flight = false;
    if (c->freeing) {
        cb_cloud_call_free(call);
        key_wait_remove(c, k);
        return;
    }
    if (call->rc == 0 && call->text != NULL && call->text[0] != '\0') {
        cb_debug("%s: host keys read from the console of %s", node, k->action.instance_id);
        start_node_action(c, &k->action, call->text);
        cb_cloud_call_free(call);
        key_wait_remove(c, k);
        return;
    }
    char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];
    /* "Not found" too is worth asking again: a console appears with delay. */
    bool permanent = call->rc != 0 &&
                     (call->err.code == CB_ERR_AUTH || call->err.code == CB_ERR_PERMANENT ||
                      call->err.code == CB_ERR_INVALID || call->err.code == CB_ERR_VERSION ||
                      call->err.code == CB_ERR_INTERNAL);
    int64_t waited = (int64_t)time(NULL) - k->first_try;
    if (!permanent && waited < (int64_t)c->d->cfg->controller.join_timeout) {
        cb_debug("%s: console shows no SSH host keys yet%s%s; asking again next cycle", node,
                 call->rc != 0 ? ": " : "",
                 call->rc != 0 ? cb_err_format(&call->err, msg, sizeof msg) : "");
        cb_cloud_call_free(call);
        return; /* key_wait_retry() submits it again */
    }
    cb_warning("%s: no SSH host keys from the console of %s (%s); strict host-key checking "
               "will refuse the node", node, k->action.instance_id,
               call->rc != 0 ? cb_err_format(&call->err, msg, sizeof msg) : "console empty");
    start_node_action(c, &k->action, NULL);
    cb_cloud_call_free(call);
    key_wait_remove(c, k);
}

static void key_wait_submit(struct cb_cycle *c, struct key_wait *k)
{
    struct cloud_rt *rt = &c->clouds[k->action.cloud];
    struct cb_err err = CB_ERR_INIT;
    struct cb_cloud_call *call = cb_cloud_call_new_host_keys(k->action.instance_id,
                                                             on_host_keys_done, k);
    if (call != NULL)
        call->cloud = rt->index;
    if (call == NULL || cb_cloud_worker_submit(rt->worker, call, &err) != 0) {
        if (call == NULL)
            cb_err_set(&err, CB_ERR_INTERNAL, "cycle", "out of memory");
        log_err(k->action.node_id, &err);
        cb_cloud_call_free(call);
        return; /* retried next cycle */
    }
    k->in_flight = true;
}

/* A BOOTSTRAP: directly, or after reading the console's host keys. */
static void act_bootstrap(struct cb_cycle *c, const struct cb_core_action *a)
{
    const struct cloud_rt *rt = &c->clouds[a->cloud];
    bool console = (rt->module.ops->caps & CB_PROVIDER_CAP_CONSOLE_HOST_KEYS) != 0;
    if (!cb_world_needs_console_keys(c->world) || !console || a->instance_id[0] == '\0') {
        start_node_action(c, a, NULL);
        return;
    }
    struct key_wait *k = calloc(1, sizeof *k);
    if (k == NULL) {
        start_node_action(c, a, NULL);
        return;
    }
    k->cycle = c;
    k->action = *a;
    k->first_try = (int64_t)time(NULL);
    k->next = c->key_waits;
    c->key_waits = k;
    key_wait_submit(c, k);
}

static void key_wait_retry(struct cb_cycle *c)
{
    for (struct key_wait *k = c->key_waits; k != NULL; k = k->next)
        if (!k->in_flight)
            key_wait_submit(c, k);
}

static void log_decision(const struct cb_cycle *c, const struct cb_core_action *a, bool dry)
{
    const struct cb_cloud *cl = &c->d->cfg->clouds[a->cloud];
    const char *pre = dry ? "dry-run: would " : "";
    switch (a->kind) {
    case CB_ACTION_BOOT:
        cb_notice("%sboot %u x %s on %s as %s (%s)", pre, a->count, cl->flavors[a->flavor].name,
                  cl->name, a->batch_id, cb_core_reason_name(a->reason));
        break;
    default:
        cb_notice("%s%s %s%s%s on %s (%s)", pre, cb_core_action_kind_name(a->kind), a->node_id,
                  a->instance_id[0] ? " / " : "", a->instance_id, cl->name,
                  cb_core_reason_name(a->reason));
    }
}

static void act(struct cb_cycle *c)
{
    const struct cb_config *cfg = c->d->cfg;
    bool dry = cfg->controller.dry_run;

    c->phase = PHASE_ACT;
    c->outstanding = 1; /* held until every call is out, so finish() runs once */
    for (size_t i = 0; i < c->out.n_actions; i++) {
        const struct cb_core_action *a = &c->out.actions[i];
        log_decision(c, a, dry);
        if (a->kind == CB_ACTION_BOOT || a->kind == CB_ACTION_TERMINATE)
            c->list_due = true; /* confirm it in the next cycle's listing */
        if (dry)
            continue;
        switch (a->kind) {
        case CB_ACTION_BOOT:
            act_boot(c, a);
            break;
        case CB_ACTION_TERMINATE:
        case CB_ACTION_ADOPT:
            break; /* terminations go out per cloud below; adoption is a record only */
        case CB_ACTION_BOOTSTRAP:
            act_bootstrap(c, a);
            break;
        case CB_ACTION_DRAIN:
        case CB_ACTION_CANCEL_DRAIN:
            start_node_action(c, a, NULL);
            break;
        default:
            break;
        }
    }
    if (!dry) {
        for (unsigned ci = 0; ci < c->n_clouds; ci++)
            act_terminate_cloud(c, ci);
        key_wait_retry(c);
    }
    for (size_t i = 0; i < c->out.n_nondecisions; i++) {
        const struct cb_core_nondecision *nd = &c->out.nondecisions[i];
        cb_debug("not done (%s): cloud %s%s%s amount %llu", cb_core_reason_name(nd->reason),
                 nd->cloud < c->n_clouds ? cfg->clouds[nd->cloud].name : "-",
                 nd->node_id[0] ? " node " : "", nd->node_id, (unsigned long long)nd->amount);
    }
    act_call_finished(c);
}

/* ------------------------------------------------------------- admin -- */

/* Apply the operators' pending requests (cloudburstctl pause/resume/drain/
 * terminate). Pause and resume set the persistent "paused" flag the decide
 * reads. Requests the daemon cannot carry out are rejected with the reason,
 * never left pending or silently dropped. */
static void handle_admin_requests(struct cb_cycle *c, int64_t now)
{
    struct ledger_request_list reqs = { 0 };
    struct cb_err err = CB_ERR_INIT;

    if (ledger_list_requests(c->ledger, true, &reqs, &err) != 0) {
        log_err("admin requests", &err);
        return;
    }
    for (size_t i = 0; i < reqs.n; i++) {
        const struct ledger_request *r = &reqs.items[i];
        enum ledger_request_status st = LEDGER_REQ_DONE;
        char result[LEDGER_TEXT_MAX];
        cb_err_clear(&err);
        switch (r->kind) {
        case LEDGER_REQ_PAUSE:
        case LEDGER_REQ_RESUME: {
            bool pause = r->kind == LEDGER_REQ_PAUSE;
            if (ledger_set_flag(c->ledger, "paused", pause ? "1" : "0", now, &err) != 0) {
                log_err("admin requests", &err);
                continue; /* stays pending: retried next cycle */
            }
            snprintf(result, sizeof result, "%s by %s: %s", pause ? "paused" : "resumed",
                     r->requested_by, pause ? "no scale-up until resume" : "scale-up allowed");
            cb_notice("%s", result);
            break;
        }
        case LEDGER_REQ_DRAIN:
        case LEDGER_REQ_TERMINATE: {
            /* The core acts on it in this cycle's decide: the event goes in
             * with the results of earlier actions. */
            bool drain = r->kind == LEDGER_REQ_DRAIN;
            struct cb_core_node_info info;
            if (cb_core_node_find(c->core, r->node_id, &info) != 0 ||
                !cb_node_state_is_live(info.state)) {
                st = LEDGER_REQ_REJECTED;
                snprintf(result, sizeof result, "%s is not a live node of this controller",
                         r->node_id);
                cb_warning("request %lld (%s %s by %s) rejected: %s", (long long)r->id,
                           ledger_request_kind_name(r->kind), r->node_id, r->requested_by, result);
                break;
            }
            struct cb_core_event ev = {
                .kind = drain ? CB_EVENT_OPERATOR_DRAIN : CB_EVENT_OPERATOR_TERMINATE,
                .force = !drain && r->force,
            };
            cb_strlcpy(ev.node_id, r->node_id, sizeof ev.node_id);
            cb_strlcpy(ev.instance_id, info.instance_id, sizeof ev.instance_id);
            push_event(c, &ev);
            snprintf(result, sizeof result, "%s of %s (%s) by %s: %s", drain ? "drain" : "terminate",
                     r->node_id, cb_node_state_name(info.state), r->requested_by,
                     ev.force ? "terminated at once, running jobs are killed"
                              : "no new jobs; terminated once its jobs finish");
            cb_notice("%s", result);
            break;
        }
        default:
            st = LEDGER_REQ_REJECTED;
            snprintf(result, sizeof result, "unknown request kind %d", (int)r->kind);
            cb_warning("request %lld rejected: %s", (long long)r->id, result);
        }
        if (ledger_finish_request(c->ledger, r->id, st, result, now, &err) != 0)
            log_err("admin requests", &err);
    }
    ledger_request_list_free(&reqs);
}

static bool is_paused(struct cb_cycle *c)
{
    char value[16];
    struct cb_err err = CB_ERR_INIT;
    if (ledger_get_flag(c->ledger, "paused", value, sizeof value, NULL, &err) != 0)
        return false; /* never set */
    return strcmp(value, "1") == 0;
}

/* The cycle's decisions, for `cloudburstctl explain`. */
static void record_cycle(struct cb_cycle *c, int64_t started_at, bool paused)
{
    const struct cb_config *cfg = c->d->cfg;
    size_t n = c->out.n_actions + c->out.n_nondecisions;
    struct ledger_decision *ds = calloc(n ? n : 1, sizeof *ds);
    struct cb_err err = CB_ERR_INIT;

    if (ds == NULL) {
        cb_error("out of memory recording cycle %lu", c->number);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < c->out.n_actions; i++, k++) {
        const struct cb_core_action *a = &c->out.actions[i];
        struct ledger_decision *d = &ds[k];
        const struct cb_cloud *cl = a->cloud < cfg->n_clouds ? &cfg->clouds[a->cloud] : NULL;
        cb_strlcpy(d->action, cb_core_action_kind_name(a->kind), sizeof d->action);
        d->taken = !cfg->controller.dry_run;
        cb_strlcpy(d->cloud, cl ? cl->name : "", sizeof d->cloud);
        if (cl != NULL && a->flavor < cl->n_flavors)
            cb_strlcpy(d->flavor, cl->flavors[a->flavor].name, sizeof d->flavor);
        cb_strlcpy(d->node_id, a->kind == CB_ACTION_BOOT ? a->batch_id : a->node_id, sizeof d->node_id);
        d->count = a->count;
        cb_strlcpy(d->reason, cb_core_reason_name(a->reason), sizeof d->reason);
        snprintf(d->detail, sizeof d->detail, "%s%s", a->instance_id[0] ? "instance " : "",
                 a->instance_id);
    }
    for (size_t i = 0; i < c->out.n_nondecisions; i++, k++) {
        const struct cb_core_nondecision *nd = &c->out.nondecisions[i];
        struct ledger_decision *d = &ds[k];
        const struct cb_cloud *cl = nd->cloud < cfg->n_clouds ? &cfg->clouds[nd->cloud] : NULL;
        cb_strlcpy(d->action, "none", sizeof d->action);
        d->taken = false;
        cb_strlcpy(d->cloud, cl ? cl->name : "", sizeof d->cloud);
        if (cl != NULL && nd->flavor < cl->n_flavors)
            cb_strlcpy(d->flavor, cl->flavors[nd->flavor].name, sizeof d->flavor);
        cb_strlcpy(d->node_id, nd->node_id, sizeof d->node_id);
        d->count = (uint32_t)(nd->amount > UINT32_MAX ? UINT32_MAX : nd->amount);
        cb_strlcpy(d->reason, cb_core_reason_name(nd->reason), sizeof d->reason);
        if (nd->shape < c->demand.n) {
            const struct cb_job_shape *sh = &c->demand.shapes[nd->shape];
            snprintf(d->detail, sizeof d->detail, "%u job(s) of %u cpu / %llu MiB", sh->count,
                     sh->cpus, (unsigned long long)sh->memory_mb);
        }
    }
    struct ledger_cycle cy = {
        .id = (int64_t)c->number,
        .started_at = started_at,
        .finished_at = (int64_t)time(NULL),
        .dry_run = cfg->controller.dry_run,
        .idle_jobs = c->pool_ok ? c->demand.idle_jobs : 0,
    };
    snprintf(cy.summary, sizeof cy.summary, "%zu action(s), %zu not done%s%s%s", c->out.n_actions,
             c->out.n_nondecisions, paused ? ", paused" : "",
             c->pool_ok ? "" : ", pool not observed",
             (c->pool_ok && (c->demand.partial || c->supply.partial)) ? ", partial observation" : "");
    if (ledger_record_cycle(c->ledger, &cy, ds, n, 100, &err) != 0)
        log_err("ledger", &err);
    free(ds);
}

/* ------------------------------------------------------------- decide -- */

static void decide(struct cb_cycle *c)
{
    const struct cb_config *cfg = c->d->cfg;
    bool dry = cfg->controller.dry_run;
    struct cb_err err = CB_ERR_INIT;
    struct cb_core_listing *listings = calloc(c->n_clouds ? c->n_clouds : 1, sizeof *listings);

    uv_timer_stop(c->listing_timer);
    if (listings == NULL) {
        cb_error("out of memory in decide");
        c->failed = true;
        finish(c);
        return;
    }
    for (size_t i = 0; i < c->n_clouds; i++) {
        listings[i].instances = c->clouds[i].listing_ok ? &c->clouds[i].listing : NULL;
        listings[i].fresh = c->clouds[i].listing_fresh && c->clouds[i].listing_ok;
    }
    int64_t now = (int64_t)time(NULL);
    bool paused = false;
    if (!dry) {
        handle_admin_requests(c, now);
        paused = is_paused(c);
    }
    struct cb_core_input in = {
        .now = now,
        .demand = c->pool_ok ? &c->demand : NULL,
        .supply = c->pool_ok ? &c->supply : NULL,
        .listings = listings,
        .n_listings = c->n_clouds,
        .events = c->events,
        .n_events = c->n_events,
        .paused = paused,
    };
    int rc = cb_core_decide(c->core, &in, &c->out, &err);
    free(listings);
    c->n_events = 0;
    if (rc != 0) {
        log_err("decide", &err);
        c->failed = true;
        finish(c);
        return;
    }
    metrics_after_decide(c);
    advertise_controller(c, paused);
    /* Durable before acted on: every record, in order, before any action. */
    if (!dry) {
        for (size_t i = 0; i < c->out.n_records; i++) {
            cb_err_clear(&err);
            if (cb_bridge_record(c->ledger, cfg, &c->out.records[i], &err) != 0) {
                log_err("ledger", &err);
                /* Acting on a decision the ledger does not hold could leak a
                 * VM after a crash: act on nothing this cycle. */
                c->failed = true;
                finish(c);
                return;
            }
        }
        record_cycle(c, now, paused);
    }
    act(c);
}

/* ------------------------------------------------------------ observe -- */

static void observe_finished(struct cb_cycle *c)
{
    if (--c->outstanding == 0)
        decide(c);
}

static void on_list_done(struct cb_cloud_call *call, void *payload)
{
    struct cloud_rt *rt = payload;
    struct cb_cycle *c = rt->cycle;

    if (c->freeing) {
        cb_cloud_call_free(call);
        return;
    }
    /* A listing that missed its cycle's decide is kept for its addresses but
     * is not fresh: actions of that decide may have changed the cloud since. */
    bool awaited = rt->listing_awaited;
    rt->listing_awaited = false;
    if (!awaited)
        cb_notice("cloud %s: listing came back after %.1f s, too late for its cycle; "
                  "listed again in the next cycle (controller.listing_wait is %u s)",
                  rt->cfg->name, call->seconds, c->d->cfg->controller.listing_wait);
    if (call->rc == 0) {
        cb_instance_list_free(&rt->listing);
        rt->listing = call->instances;       /* take the list over */
        memset(&call->instances, 0, sizeof call->instances);
        rt->listing_ok = true;
        rt->listing_fresh = awaited;
        cb_world_learn_addresses(c->world, &rt->listing);
        cb_debug("cloud %s: %zu instance(s) listed in %.2f s", rt->cfg->name, rt->listing.n,
                 call->seconds);
    } else {
        char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];
        /* The core treats an unlisted cloud as unknown: nothing is declared
         * gone or unknown on it until a listing succeeds again. */
        cb_warning("cloud %s: listing failed (%s): %s", rt->cfg->name,
                   cb_errcode_name(call->err.code), cb_err_format(&call->err, msg, sizeof msg));
        rt->listing_fresh = false;
    }
    observe_call(c, call, "list");
    cb_cloud_call_free(call);
    if (awaited)
        observe_finished(c);
}

/* listing_wait has passed since the pool answered: decide without the
 * listings still out. Their calls go on; on_list_done keeps what they bring. */
static void on_listing_wait_over(uv_timer_t *t)
{
    struct cb_cycle *c = t->data;
    unsigned late = 0;

    if (c->phase != PHASE_OBSERVE)
        return;
    for (size_t i = 0; i < c->n_clouds; i++) {
        struct cloud_rt *rt = &c->clouds[i];
        if (!rt->listing_awaited)
            continue;
        rt->listing_awaited = false;
        rt->listing_fresh = false;
        late++;
        cb_warning("cloud %s: no listing within listing_wait (%u s); deciding without it "
                   "(nothing on it is declared gone or adopted this cycle)",
                   rt->cfg->name, c->d->cfg->controller.listing_wait);
        if (c->d->metrics != NULL)
            cb_metrics_add(c->d->metrics, "cloudburst_cloud_listings_late_total", 1,
                           "cloud", rt->cfg->name, NULL);
    }
    if (late == 0)
        return;
    c->list_due = true;
    c->outstanding -= late;
    if (c->outstanding == 0)
        decide(c);
}

static void on_pool_observed(void *payload, int status, const struct cb_err *err)
{
    struct cb_cycle *c = payload;

    if (c->d->metrics != NULL)
        cb_metrics_observe(c->d->metrics, "cloudburst_pool_query_duration_seconds",
                           monotonic_seconds() - c->pool_started, NULL);
    c->pool_ok = status == 0;
    uv_timer_start(c->listing_timer, on_listing_wait_over,
                   (uint64_t)c->d->cfg->controller.listing_wait * 1000u, 0);
    if (status != 0) {
        log_err("pool", err);
    } else {
        cb_debug("pool: %llu idle job(s) in %zu shape(s)%s; %zu cloud node(s)%s",
                 (unsigned long long)c->demand.idle_jobs, c->demand.n,
                 c->demand.partial ? " (partial)" : "", c->supply.n,
                 c->supply.partial ? " (partial)" : "");
    }
    observe_finished(c);
}

int cb_cycle_start(struct cb_cycle *c, cb_cycle_done_fn done, struct cb_err *err)
{
    if (c->phase != PHASE_IDLE)
        return cb_err_set(err, CB_ERR_INTERNAL, "cycle", "a cycle is already running");
    c->number++;
    c->started = monotonic_seconds();
    c->failed = false;
    c->done = done;
    c->phase = PHASE_OBSERVE;
    c->outstanding = 1; /* held until every observation is started */
    c->pool_ok = false;
    cb_demand_free(&c->demand);
    cb_supply_free(&c->supply);

    /* List every few cycles, and in the cycle after any action: the core
     * needs fresh listings to confirm boots and terminations. */
    bool list = c->list_due || ++c->cycles_since_list >= c->d->cfg->controller.reconcile_every;
    bool deferred = false;
    for (size_t i = 0; i < c->n_clouds; i++) {
        struct cloud_rt *rt = &c->clouds[i];
        rt->listing_fresh = false;
        if (!list)
            continue;
        if (cb_cloud_worker_pending(rt->worker) > 0) {
            /* An earlier call still runs (a slow or hung API): a listing
             * would queue behind it and hold the whole cycle. */
            cb_notice("cloud %s: an earlier call is still running; not listed this cycle",
                      rt->cfg->name);
            deferred = true;
            continue;
        }
        struct cb_err e = CB_ERR_INIT;
        struct cb_cloud_call *call = cb_cloud_call_new_list(on_list_done, rt);
        if (call != NULL)
            call->cloud = rt->index;
        if (call == NULL || cb_cloud_worker_submit(rt->worker, call, &e) != 0) {
            if (call == NULL)
                cb_err_set(&e, CB_ERR_INTERNAL, "cycle", "out of memory");
            log_err(rt->cfg->name, &e);
            cb_cloud_call_free(call);
            continue;
        }
        rt->listing_awaited = true;
        c->outstanding++;
    }
    if (list) {
        c->cycles_since_list = 0;
        c->list_due = deferred;
    }
    struct cb_err e = CB_ERR_INIT;
    c->pool_started = monotonic_seconds();
    if (cb_world_observe(c->world, &c->demand, &c->supply, on_pool_observed, c, &e) == 0) {
        c->outstanding++;
    } else {
        log_err("pool", &e);
        uv_timer_start(c->listing_timer, on_listing_wait_over,
                       (uint64_t)c->d->cfg->controller.listing_wait * 1000u, 0);
    }
    cb_debug("cycle %lu: observing (%s)", c->number, list ? "pool and clouds" : "pool");
    observe_finished(c);
    return 0;
}
