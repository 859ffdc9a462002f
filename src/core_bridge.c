/* core_bridge: see core_bridge.h. */
#include "core_bridge.h"
#include "cb_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cb_bridge_core_config(const struct cb_config *cfg, struct cb_bridge_config *out,
                          struct cb_err *err)
{
    size_t n_flavors = 0;

    memset(out, 0, sizeof *out);
    cb_core_config_defaults(&out->core);
    for (size_t i = 0; i < cfg->n_clouds; i++)
        n_flavors += cfg->clouds[i].n_flavors;
    out->clouds = calloc(cfg->n_clouds ? cfg->n_clouds : 1, sizeof *out->clouds);
    out->flavors = calloc(n_flavors ? n_flavors : 1, sizeof *out->flavors);
    if (out->clouds == NULL || out->flavors == NULL) {
        cb_bridge_core_config_free(out);
        return cb_err_set(err, CB_ERR_INTERNAL, "core", "out of memory");
    }

    struct cb_core_flavor *fl = out->flavors;
    for (size_t i = 0; i < cfg->n_clouds; i++) {
        const struct cb_cloud *c = &cfg->clouds[i];
        struct cb_core_cloud *cc = &out->clouds[i];
        cb_strlcpy(cc->name, c->name, sizeof cc->name);
        cb_strlcpy(cc->image, c->image ? c->image : "", sizeof cc->image);
        cc->enabled = c->enabled;
        cc->priority = c->priority;
        cc->max_nodes = c->max_nodes;
        cc->max_cores = c->max_cores;
        cc->max_in_flight = c->max_in_flight;
        cc->max_boot_per_cycle = c->max_boot_per_cycle;
        cc->budget_per_hour = c->budget_per_hour;
        cc->budget_per_month = c->budget_per_month;
        cc->spot = c->spot;
        cc->billing = c->billing == CB_BILLING_PER_HOUR ? CB_CORE_BILLING_PER_HOUR
                                                        : CB_CORE_BILLING_PER_SECOND;
        cc->flavors = fl;
        cc->n_flavors = c->n_flavors;
        for (size_t f = 0; f < c->n_flavors; f++, fl++) {
            cb_strlcpy(fl->name, c->flavors[f].name, sizeof fl->name);
            fl->cpus = c->flavors[f].cpus;
            fl->memory_mb = c->flavors[f].memory_mb;
            fl->disk_gb = c->flavors[f].disk_gb;
            fl->cost_per_hour = c->flavors[f].cost_per_hour;
        }
    }
    struct cb_core_config *k = &out->core;
    k->clouds = out->clouds;
    k->n_clouds = cfg->n_clouds;
    k->ramp_fraction = cfg->controller.ramp_fraction;
    k->ramp_floor = cfg->controller.ramp_floor;
    k->idle_timeout = cfg->controller.idle_timeout;
    k->idle_timeout_min = cfg->controller.idle_timeout_min;
    k->idle_timeout_max = cfg->controller.idle_timeout_max;
    k->drain_timeout = cfg->controller.drain_timeout;
    k->idle_timeout_prior = cfg->controller.idle_timeout_prior;
    k->idle_learn_factor = cfg->controller.idle_learn_factor;
    k->billing_margin = cfg->controller.billing_margin;
    k->lost_timeout = cfg->controller.lost_timeout;
    k->listing_grace = cfg->controller.listing_grace;
    k->quota_backoff = cfg->controller.quota_backoff;
    k->throttle_backoff = cfg->controller.throttle_backoff;
    k->max_lifetime = cfg->controller.max_lifetime;
    k->boot_timeout = cfg->controller.boot_timeout;
    k->join_timeout = cfg->controller.join_timeout;
    k->breaker_failures = cfg->controller.breaker_failures;
    k->breaker_backoff_min = cfg->controller.breaker_backoff_min;
    k->breaker_backoff_max = cfg->controller.breaker_backoff_max;
    k->breaker_reset_after = cfg->controller.breaker_reset_after;
    k->budget_per_hour = cfg->controller.budget_per_hour;
    k->budget_per_month = cfg->controller.budget_per_month;
    k->bootstrap_ssh = cfg->bootstrap.method == CB_BOOTSTRAP_SSH;
    return cb_core_config_check(k, err);
}

void cb_bridge_core_config_free(struct cb_bridge_config *bc)
{
    free(bc->clouds);
    free(bc->flavors);
    memset(bc, 0, sizeof *bc);
}

static int cloud_index(const struct cb_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_clouds; i++)
        if (strcmp(cfg->clouds[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int flavor_index(const struct cb_cloud *c, const char *name)
{
    for (size_t i = 0; i < c->n_flavors; i++)
        if (strcmp(c->flavors[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int64_t earliest(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

int cb_bridge_node_info(const struct cb_config *cfg, const struct ledger_node *n,
                        struct cb_core_node_info *out, struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    int ci = cloud_index(cfg, n->cloud);
    if (ci < 0)
        return cb_err_set(err, CB_ERR_INVALID, n->node_id,
                          "node is on cloud '%s', which the configuration no longer has; keep "
                          "the cloud (enabled = false) until its nodes are gone", n->cloud);
    int fi = flavor_index(&cfg->clouds[ci], n->flavor);
    if (fi < 0)
        return cb_err_set(err, CB_ERR_INVALID, n->node_id,
                          "node has flavor '%s', which cloud '%s' no longer lists; keep the "
                          "flavor until its nodes are gone", n->flavor, n->cloud);
    cb_strlcpy(out->node_id, n->node_id, sizeof out->node_id);
    cb_strlcpy(out->batch_id, n->batch_id, sizeof out->batch_id);
    cb_strlcpy(out->instance_id, n->instance_id, sizeof out->instance_id);
    out->cloud = (unsigned)ci;
    out->flavor = (unsigned)fi;
    out->state = n->state;
    const int64_t *at = n->state_at;
    out->requested_at = earliest(at[CB_NODE_REQUESTED], earliest(at[CB_NODE_BOOTING], n->state_since));
    out->booted_at = at[CB_NODE_BOOTING];
    out->running_at = at[CB_NODE_BOOTSTRAPPING];
    out->joined_at = earliest(at[CB_NODE_IDLE], at[CB_NODE_BUSY]);
    out->state_since = n->state_since;
    out->idle_since = n->state == CB_NODE_IDLE ? n->state_since : -1;
    out->drain_started_at = n->state == CB_NODE_DRAINING ? n->state_since : -1;
    out->ever_busy = at[CB_NODE_BUSY] >= 0;
    out->seen_busy = n->seen_busy < 0 ? CB_SEEN_UNKNOWN
                     : n->seen_busy ? CB_SEEN_BUSY : CB_SEEN_EMPTY;
    out->preempted = false;
    out->adopted = n->adopted;
    return 0;
}

/* Start of the UTC calendar month containing t. */
static int64_t month_start(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (int64_t)timegm(&tm);
}

/* "<prefix>-<digits>" -> digits, else 0. */
static uint64_t batch_seq_of(const char *batch_id, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (strncmp(batch_id, prefix, pl) != 0 || batch_id[pl] != '-')
        return 0;
    const char *p = batch_id + pl + 1;
    if (*p < '0' || *p > '9')
        return 0;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    return *end == '\0' ? (uint64_t)v : 0;
}

int cb_bridge_restore(struct cb_core *core, const struct cb_config *cfg, struct ledger *l,
                      int64_t now, struct cb_err *err)
{
    struct ledger_node_list nodes = { 0 };
    struct ledger_node_filter all = { 0 };
    struct cb_core_config defaults;
    int rc = -1;

    cb_core_config_defaults(&defaults);
    if (ledger_list_nodes(l, &all, &nodes, err) != 0)
        return -1;

    /* Operator drain/terminate requests the daemon accepted are the durable
     * form of the core's operator marks. */
    struct ledger_request_list reqs = { 0 };
    if (ledger_list_requests(l, false, &reqs, err) != 0) {
        ledger_node_list_free(&nodes);
        return -1;
    }

    int64_t m0 = month_start(now);
    double *spend = calloc(cfg->n_clouds ? cfg->n_clouds : 1, sizeof *spend);
    if (spend == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, "restore", "out of memory");
        goto out;
    }
    uint64_t highest = 0;
    for (size_t i = 0; i < nodes.n; i++) {
        const struct ledger_node *n = &nodes.items[i];
        uint64_t seq = batch_seq_of(n->batch_id, defaults.batch_prefix);
        if (seq > highest)
            highest = seq;
        int ci = cloud_index(cfg, n->cloud);

        /* Money spent this month: from the boot (or the request when the boot
         * time is unknown) to gone/now, clipped to the month. */
        if (ci >= 0) {
            int64_t start = n->state_at[CB_NODE_BOOTING] >= 0 ? n->state_at[CB_NODE_BOOTING]
                                                              : n->state_at[CB_NODE_REQUESTED];
            int64_t end = n->state == CB_NODE_GONE ? n->state_since : now;
            if (start >= 0 && n->instance_id[0] != '\0') {
                if (start < m0)
                    start = m0;
                if (end > start)
                    spend[ci] += (double)(end - start) / 3600.0 * n->cost_per_hour;
            }
            int64_t joined = earliest(n->state_at[CB_NODE_IDLE], n->state_at[CB_NODE_BUSY]);
            if (joined >= 0 && n->state_at[CB_NODE_REQUESTED] >= 0 && !n->adopted &&
                joined >= n->state_at[CB_NODE_REQUESTED] &&
                cb_core_restore_latency(core, (unsigned)ci, joined - n->state_at[CB_NODE_REQUESTED],
                                        err) != 0)
                goto out;
        }
        if (n->state == CB_NODE_GONE)
            continue;
        struct cb_core_node_info info;
        if (cb_bridge_node_info(cfg, n, &info, err) != 0)
            goto out;
        for (size_t r = 0; r < reqs.n; r++) {
            const struct ledger_request *q = &reqs.items[r];
            if (q->status != LEDGER_REQ_DONE || strcmp(q->node_id, n->node_id) != 0)
                continue;
            info.operator_drain = true;
            if (q->kind == LEDGER_REQ_TERMINATE) {
                info.operator_terminate = true;
                info.operator_force = info.operator_force || q->force;
            }
        }
        if (cb_core_restore_node(core, &info, err) != 0)
            goto out;
    }
    cb_core_restore_batch_seq(core, highest);
    for (size_t ci = 0; ci < cfg->n_clouds; ci++)
        if (spend[ci] > 0 && cb_core_restore_spend(core, (unsigned)ci, now, spend[ci], err) != 0)
            goto out;
    rc = 0;
out:
    free(spend);
    ledger_request_list_free(&reqs);
    ledger_node_list_free(&nodes);
    return rc;
}

int cb_bridge_record(struct ledger *l, const struct cb_config *cfg,
                     const struct cb_core_record *rec, struct cb_err *err)
{
    const char *why = cb_core_reason_name(rec->reason);

    if (rec->cloud >= cfg->n_clouds)
        return cb_err_set(err, CB_ERR_INTERNAL, "core", "record names cloud %u of %zu",
                          rec->cloud, cfg->n_clouds);
    const struct cb_cloud *c = &cfg->clouds[rec->cloud];
    const struct cb_flavor *f = rec->flavor < c->n_flavors ? &c->flavors[rec->flavor] : NULL;

    switch (rec->kind) {
    case CB_RECORD_BOOT_INTENT: {
        if (f == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "core", "boot intent with flavor %u",
                              rec->flavor);
        struct ledger_intent in = { .count = rec->count, .cpus = f->cpus,
                                    .memory_mb = f->memory_mb, .cost_per_hour = f->cost_per_hour };
        cb_strlcpy(in.batch_id, rec->batch_id, sizeof in.batch_id);
        cb_strlcpy(in.cloud, c->name, sizeof in.cloud);
        cb_strlcpy(in.flavor, f->name, sizeof in.flavor);
        cb_strlcpy(in.image, c->image ? c->image : "", sizeof in.image);
        return ledger_record_boot_intent(l, &in, rec->at, NULL, 0, err);
    }
    case CB_RECORD_NODE_CREATED: {
        struct ledger_node existing;
        struct cb_err probe = CB_ERR_INIT;
        /* Nodes of an own boot already exist: the boot intent created them. */
        if (ledger_get_node(l, rec->node_id, &existing, &probe) == 0)
            return 0;
        if (f == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "core", "adoption with flavor %u", rec->flavor);
        struct ledger_node n;
        memset(&n, 0, sizeof n);
        cb_strlcpy(n.node_id, rec->node_id, sizeof n.node_id);
        cb_strlcpy(n.batch_id, rec->batch_id, sizeof n.batch_id);
        const char *dash = strrchr(rec->node_id, '-');
        n.batch_index = dash ? (uint32_t)strtoul(dash + 1, NULL, 10) : 0;
        cb_strlcpy(n.cloud, c->name, sizeof n.cloud);
        cb_strlcpy(n.flavor, f->name, sizeof n.flavor);
        cb_strlcpy(n.image, c->image ? c->image : "", sizeof n.image);
        n.cpus = f->cpus;
        n.memory_mb = f->memory_mb;
        n.cost_per_hour = f->cost_per_hour;
        cb_strlcpy(n.instance_id, rec->instance_id, sizeof n.instance_id);
        n.state = rec->to;
        return ledger_record_adoption(l, &n, rec->at, err);
    }
    case CB_RECORD_TRANSITION:
        if (rec->instance_id[0] != '\0' &&
            ledger_set_instance(l, rec->node_id, rec->instance_id, rec->at, err) != 0)
            return -1;
        return ledger_transition(l, rec->node_id, rec->to, rec->at, why, err);
    case CB_RECORD_SEEN_BUSY:
        return ledger_set_seen_busy(l, rec->node_id, rec->busy, rec->at, err);
    }
    return cb_err_set(err, CB_ERR_INTERNAL, "core", "unknown record kind %d", rec->kind);
}
