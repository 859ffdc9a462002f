/* core_decide: one decide cycle. The order is fixed and matters:
 *   1. spend accrual (the clock moved)        5. timeouts and failures
 *   2. events (results of earlier actions)    6. preemption, operator requests
 *   3. cloud listings (what exists)           7. scale-up (core_plan.c)
 *   4. pool snapshot (what has joined, busy)  8. scale-down, budgets
 *                                                (core_scale_down.c)
 * Everything that could end a job (drain, terminate of a joined node) needs a
 * complete pool snapshot; everything that declares an instance gone or
 * unknown needs a fresh listing of its cloud. The operator's own requests are
 * the exception: a drain ends no job, and a forced terminate is meant to.
 */
#include "core/core_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool listing_fresh(const struct ctx *x, size_t cloud)
{
    return cloud < x->in->n_listings && x->in->listings[cloud].instances != NULL &&
           x->in->listings[cloud].fresh;
}

int cbc_oom(struct ctx *x)
{
    return cbc_err(x->err, CB_ERR_INTERNAL, "core", "out of memory");
}

/* ---- 1. spend ---- */

/* Start of the UTC calendar month containing t. */
static int64_t month_start(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL)
        return t;
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (int64_t)timegm(&tm);
}

static void accrue(struct cb_core *core, int64_t now)
{
    int key = cbc_month_key(now);
    int64_t m0 = month_start(now); /* spend before it belongs to a closed month */
    for (size_t c = 0; c < core->n_clouds; c++) {
        struct core_cloud *cl = &core->clouds[c];
        if (cl->month_key != key) {
            cl->month_key = key;
            cl->spent_month = 0;
        }
    }
    bool first = core->last_now == INT64_MIN;
    for (size_t i = 0; i < core->n_nodes; i++) {
        struct core_node *n = &core->nodes[i];
        if (!cbc_node_costs(n) || n->i.booted_at < 0)
            continue;
        struct core_cloud *cl = &core->clouds[n->i.cloud];
        double cost = cbc_node_cost(core, n);
        if (cl->c.billing == CB_CORE_BILLING_PER_HOUR) {
            if (n->billed_until < 0) {
                n->billed_until = n->i.booted_at;
                if (first) /* the restored spend already holds the hours begun */
                    while (n->billed_until <= now)
                        n->billed_until += 3600;
            }
            while (n->billed_until <= now) {
                if (n->billed_until >= m0)
                    cl->spent_month += cost;
                n->billed_until += 3600;
            }
        } else if (!first) {
            int64_t from = core->last_now > n->i.booted_at ? core->last_now : n->i.booted_at;
            if (from < m0)
                from = m0;
            if (now > from)
                cl->spent_month += cost * (double)(now - from) / 3600.0;
        }
    }
}

/* ---- helpers that act on one node ---- */

/* Terminate n (not requested: it has no instance yet). A busy node passes
 * through failed, the only legal way out of busy that is not a drain; callers
 * only do this when the pool no longer shows the node or the cloud took it. */
int cbc_terminate_node(struct ctx *x, struct core_node *n, enum cb_core_reason reason)
{
    size_t idx = cbc_node_action(x->out, n, CB_ACTION_TERMINATE, reason);
    if (idx == CB_CORE_NONE)
        return cbc_oom(x);
    if (n->i.state == CB_NODE_BUSY &&
        cbc_transition(x->core, x->out, n, CB_NODE_FAILED, reason, idx, x->now, x->err) != 0)
        return -1;
    if (cbc_transition(x->core, x->out, n, CB_NODE_TERMINATING, reason, idx, x->now, x->err) != 0)
        return -1;
    n->terminate_pending = true;
    n->terminate_at = x->now;
    n->first_terminate_at = x->now;
    n->i.idle_since = -1;
    return 0;
}

/* A failure of a node that never became useful counts against its
 * (cloud, image, flavor) once. */
static void count_failure(struct ctx *x, struct core_node *n)
{
    if (n->failure_counted || n->i.joined_at >= 0 || n->i.adopted)
        return;
    n->failure_counted = true;
    cbc_breaker_failure(x->core, n->i.cloud, n->i.flavor, x->now);
}

int cbc_drain_node(struct ctx *x, struct core_node *n, enum cb_core_reason reason, bool fast)
{
    size_t idx = cbc_node_action(x->out, n, CB_ACTION_DRAIN, reason);
    if (idx == CB_CORE_NONE)
        return cbc_oom(x);
    x->out->actions[idx].fast = fast;
    if (cbc_transition(x->core, x->out, n, CB_NODE_DRAINING, reason, idx, x->now, x->err) != 0)
        return -1;
    n->i.drain_started_at = x->now;
    n->drain_reason = reason;
    n->drain_confirmed = false;
    return 0;
}

static int goto_gone(struct ctx *x, struct core_node *n, enum cb_core_reason reason)
{
    if (n->i.state == CB_NODE_GONE)
        return 0;
    n->terminate_done = true;
    return cbc_transition(x->core, x->out, n, CB_NODE_GONE, reason, CB_CORE_NONE, x->now, x->err);
}

static int to_booting(struct ctx *x, struct core_node *n, enum cb_core_reason reason, int64_t at)
{
    if (n->i.state != CB_NODE_REQUESTED)
        return 0;
    if (n->i.booted_at < 0)
        n->i.booted_at = at;
    return cbc_transition(x->core, x->out, n, CB_NODE_BOOTING, reason, CB_CORE_NONE, x->now,
                           x->err);
}

static int to_bootstrapping(struct ctx *x, struct core_node *n, const struct cb_instance *inst)
{
    if (n->i.state != CB_NODE_BOOTING)
        return 0;
    size_t idx = CB_CORE_NONE;
    if (x->core->cfg.bootstrap_ssh && inst != NULL) {
        idx = cbc_node_action(x->out, n, CB_ACTION_BOOTSTRAP, CB_REASON_INSTANCE_RUNNING);
        if (idx == CB_CORE_NONE)
            return cbc_oom(x);
        cbc_copy(x->out->actions[idx].address, sizeof x->out->actions[idx].address,
                  inst->private_ip[0] ? inst->private_ip : inst->public_ip);
    }
    if (n->i.running_at < 0)
        n->i.running_at = x->now;
    return cbc_transition(x->core, x->out, n, CB_NODE_BOOTSTRAPPING, CB_REASON_INSTANCE_RUNNING,
                           idx, x->now, x->err);
}

/* ---- 2. events ---- */

static struct core_node *event_node(struct ctx *x, const struct cb_core_event *ev)
{
    size_t i = cbc_find(x->core, ev->node_id);
    if (i == CB_CORE_NONE && ev->instance_id[0] != '\0') {
        for (size_t j = 0; j < x->core->n_nodes; j++) {
            struct core_node *n = &x->core->nodes[j];
            if (n->i.cloud == ev->cloud && strcmp(n->i.instance_id, ev->instance_id) == 0)
                return n;
        }
    }
    if (i == CB_CORE_NONE || x->core->nodes[i].i.state == CB_NODE_GONE)
        return NULL;
    return &x->core->nodes[i];
}

static int boot_failed(struct ctx *x, const struct cb_core_event *ev)
{
    struct cb_core *core = x->core;
    bool any = false, counted = false;
    for (size_t j = 0; j < core->n_nodes; j++) {
        struct core_node *n = &core->nodes[j];
        if (n->i.state != CB_NODE_REQUESTED || strcmp(n->i.batch_id, ev->batch_id) != 0)
            continue;
        if (ev->node_id[0] != '\0' && strcmp(ev->node_id, n->i.node_id) != 0)
            continue;
        any = true;
        struct core_cloud *cl = &core->clouds[n->i.cloud];
        switch (ev->error) {
        case CB_ERR_TIMEOUT:
            /* The cloud may have acted: the listing decides (boot-found or
             * boot-never-happened after boot_timeout). */
            continue;
        case CB_ERR_QUOTA:
            cl->br[n->i.flavor].quota_until = x->now + core->cfg.quota_backoff;
            break;
        case CB_ERR_THROTTLED:
            cl->throttled_until = x->now + core->cfg.throttle_backoff;
            break;
        default:
            if (!counted) {
                cbc_breaker_failure(core, n->i.cloud, n->i.flavor, x->now);
                counted = true;
            }
            break;
        }
        if (goto_gone(x, n, CB_REASON_BOOT_REJECTED) != 0)
            return -1;
    }
    if (!any && cbc_out_nondecision(x->out, CB_REASON_UNKNOWN_NODE, CB_CORE_NONE, CB_CORE_NONE,
                                     CB_CORE_NONE, ev->batch_id, 0) != 0)
        return cbc_oom(x);
    return 0;
}

static int apply_event(struct ctx *x, const struct cb_core_event *ev)
{
    if (ev->kind == CB_EVENT_BOOT_FAILED)
        return boot_failed(x, ev);
    struct core_node *n = event_node(x, ev);
    if (n == NULL) {
        if (cbc_out_nondecision(x->out, CB_REASON_UNKNOWN_NODE, CB_CORE_NONE, CB_CORE_NONE,
                                 CB_CORE_NONE, ev->node_id[0] ? ev->node_id : ev->instance_id,
                                 0) != 0)
            return cbc_oom(x);
        return 0;
    }
    enum cb_node_state s = n->i.state;
    switch (ev->kind) {
    case CB_EVENT_BOOT_ACCEPTED:
        if (n->i.instance_id[0] == '\0')
            cbc_copy(n->i.instance_id, sizeof n->i.instance_id, ev->instance_id);
        return to_booting(x, n, CB_REASON_BOOT_ACCEPTED, x->now);
    case CB_EVENT_BOOTSTRAP_OK:
        return s == CB_NODE_BOOTING ? to_bootstrapping(x, n, NULL) : 0;
    case CB_EVENT_BOOTSTRAP_FAILED:
        /* Decided after the pool is read: a node that joined anyway works. */
        if (s == CB_NODE_BOOTING || s == CB_NODE_BOOTSTRAPPING)
            n->bootstrap_failed = true;
        return 0;
    case CB_EVENT_DRAIN_STARTED:
        if (s == CB_NODE_DRAINING)
            n->drain_confirmed = true;
        return 0;
    case CB_EVENT_DRAIN_FAILED:
        if (s != CB_NODE_DRAINING)
            return 0;
        n->i.drain_started_at = -1;
        /* Events come before this decide's pool snapshot: as last seen. */
        return cbc_transition(x->core, x->out, n, n->last_seen_busy ? CB_NODE_BUSY : CB_NODE_IDLE,
                               CB_REASON_DRAIN_FAILED, CB_CORE_NONE, x->now, x->err);
    case CB_EVENT_CANCEL_DRAIN_DONE:
        return 0;
    case CB_EVENT_TERMINATE_DONE:
        if (s == CB_NODE_TERMINATING)
            n->terminate_done = true;
        return 0;
    case CB_EVENT_TERMINATE_FAILED:
        if (s != CB_NODE_TERMINATING)
            return 0;
        if (ev->error == CB_ERR_NOT_FOUND)
            return goto_gone(x, n, CB_REASON_VANISHED);
        n->terminate_pending = false;
        return 0;
    case CB_EVENT_PREEMPTED:
        n->i.preempted = true;
        return 0;
    case CB_EVENT_OPERATOR_TERMINATE:
        /* Marks only: operator_requests() acts once the listings and the
         * pool have said what state the node is really in. */
        n->i.operator_terminate = true;
        n->i.operator_force |= ev->force;
        /* fall through */
    case CB_EVENT_OPERATOR_DRAIN:
        n->i.operator_drain = true;
        if (s == CB_NODE_DRAINING)
            n->drain_reason = CB_REASON_OPERATOR_DRAIN; /* held: never cancelled */
        return 0;
    default:
        return cbc_err(x->err, CB_ERR_INVALID, "event", "unknown event kind %d", (int)ev->kind);
    }
}

/* ---- 3. listings ---- */

static const struct cb_pool_node *supply_lookup(const struct ctx *x, const struct cb_instance *inst)
{
    const struct cb_supply *s = x->in->supply;
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct cb_pool_node *p = &s->nodes[i];
        if ((inst->node_id[0] && strcmp(p->node_id, inst->node_id) == 0) ||
            (inst->id[0] && strcmp(p->instance_id, inst->id) == 0))
            return p;
    }
    return NULL;
}

/* A tagged instance the core does not know: adopt it when its startd is in
 * the pool, else terminate it (DESIGN.md, reconciliation). */
static int unknown_instance(struct ctx *x, size_t cloud, const struct cb_instance *inst)
{
    /* Terminated ones are gone already; stopped ones still exist (and
     * count against quota): they are ended like running ones. */
    if (inst->state == CB_INSTANCE_TERMINATED)
        return 0;
    if (inst->id[0] == '\0')
        return 0;
    char id[CB_NAME_MAX];
    if (inst->node_id[0] != '\0')
        cbc_copy(id, sizeof id, inst->node_id);
    else
        snprintf(id, sizeof id, "adopted-%.50s", inst->id);
    if (cbc_find(x->core, id) != CB_CORE_NONE) /* same id on another cloud: leave it */
        return cbc_out_nondecision(x->out, CB_REASON_UNKNOWN_NODE, cloud, CB_CORE_NONE,
                                    CB_CORE_NONE, id, 0) == 0 ? 0 : cbc_oom(x);
    const struct cb_pool_node *p =
        inst->state == CB_INSTANCE_ERROR ? NULL : supply_lookup(x, inst);
    /* Not in a partial snapshot proves nothing: its startd may be running jobs. */
    if (p == NULL && inst->state != CB_INSTANCE_ERROR && !x->supply_ok)
        return cbc_out_nondecision(x->out, CB_REASON_PARTIAL_OBSERVATION, cloud, CB_CORE_NONE,
                                   CB_CORE_NONE, id, 0) == 0 ? 0 : cbc_oom(x);
    const struct core_cloud *cl = &x->core->clouds[cloud];
    unsigned flavor = 0;
    for (size_t f = 0; f < cl->c.n_flavors; f++)
        if (strcmp(cl->flavors[f].name, inst->flavor) == 0)
            flavor = (unsigned)f;
    struct core_node *n = cbc_node_add(x->core, id);
    if (n == NULL)
        return cbc_oom(x);
    n->i.cloud = (unsigned)cloud;
    n->i.flavor = flavor;
    n->i.adopted = true;
    n->listed = true;
    cbc_copy(n->i.instance_id, sizeof n->i.instance_id, inst->id);
    cbc_copy(n->i.batch_id, sizeof n->i.batch_id, inst->batch_id);
    n->i.requested_at = n->i.booted_at =
        inst->launch_time >= 0 && inst->launch_time <= x->now ? inst->launch_time : x->now;
    n->i.state_since = x->now;
    bool busy = p != NULL && (p->busy || p->claimed_slots > 0);
    n->i.state = p == NULL ? CB_NODE_BOOTING : busy ? CB_NODE_BUSY : CB_NODE_IDLE;
    n->i.seen_busy = p == NULL ? CB_SEEN_UNKNOWN : busy ? CB_SEEN_BUSY : CB_SEEN_EMPTY;
    size_t idx;
    struct cb_core_action *a = cbc_out_action(x->out, &idx);
    if (a == NULL)
        return cbc_oom(x);
    a->kind = p != NULL ? CB_ACTION_ADOPT : CB_ACTION_TERMINATE;
    a->reason = p != NULL ? CB_REASON_ADOPTED : CB_REASON_UNKNOWN_INSTANCE;
    a->cloud = (unsigned)cloud;
    a->flavor = flavor;
    cbc_copy(a->node_id, sizeof a->node_id, n->i.node_id);
    cbc_copy(a->batch_id, sizeof a->batch_id, n->i.batch_id);
    cbc_copy(a->instance_id, sizeof a->instance_id, n->i.instance_id);
    struct cb_core_record *r = cbc_out_record(x->out);
    if (r == NULL)
        return cbc_oom(x);
    r->kind = CB_RECORD_NODE_CREATED;
    r->reason = a->reason;
    r->action = idx;
    r->at = x->now;
    r->cloud = (unsigned)cloud;
    r->flavor = flavor;
    cbc_copy(r->node_id, sizeof r->node_id, n->i.node_id);
    cbc_copy(r->batch_id, sizeof r->batch_id, n->i.batch_id);
    cbc_copy(r->instance_id, sizeof r->instance_id, n->i.instance_id);
    r->from = r->to = n->i.state;
    if (p != NULL) {
        n->i.running_at = n->i.joined_at = x->now;
        n->i.ever_busy = busy;
        n->i.idle_since = busy ? -1 : x->now;
        return 0;
    }
    /* Not in the pool: terminate. It never ran a job here (no startd). */
    if (cbc_transition(x->core, x->out, n, CB_NODE_TERMINATING, CB_REASON_UNKNOWN_INSTANCE, idx,
                        x->now, x->err) != 0)
        return -1;
    n->terminate_pending = true;
    n->terminate_at = n->first_terminate_at = x->now;
    return 0;
}

static int listed_instance(struct ctx *x, struct core_node *n, const struct cb_instance *inst)
{
    if (n->i.state == CB_NODE_GONE)
        return 0;
    n->listed = true;
    if (n->i.instance_id[0] == '\0')
        cbc_copy(n->i.instance_id, sizeof n->i.instance_id, inst->id);
    if (inst->preempted)
        n->i.preempted = true;
    switch (inst->state) {
    case CB_INSTANCE_TERMINATED:
        return goto_gone(x, n, n->i.state == CB_NODE_TERMINATING ? CB_REASON_TERMINATED
                                                                 : CB_REASON_VANISHED);
    case CB_INSTANCE_STOPPING:
        /* Stopped or shutting down is not gone: a stopped VM still exists
         * (and costs). A terminating node waits for its termination to
         * show (terminate retries cover a stop instead); any other node's
         * VM has stopped serving, e.g. after its lease expired: end it. */
        if (n->i.state == CB_NODE_TERMINATING || n->i.state == CB_NODE_FAILED ||
            n->i.state == CB_NODE_DRAINING)
            return 0;
        /* The pool still shows jobs (a stale ad, or a stop that takes its
         * time): drain first, as for a preemption; a job is never killed
         * by us. */
        if (n->i.state == CB_NODE_BUSY)
            return cbc_drain_node(x, n, CB_REASON_INSTANCE_STOPPED, true);
        if (n->i.state == CB_NODE_REQUESTED && to_booting(x, n, CB_REASON_BOOT_FOUND, x->now) != 0)
            return -1;
        return cbc_terminate_node(x, n, CB_REASON_INSTANCE_STOPPED);
    case CB_INSTANCE_ERROR:
        if (n->i.state == CB_NODE_TERMINATING)
            return 0;
        if (to_booting(x, n, CB_REASON_BOOT_FOUND, x->now) != 0)
            return -1;
        count_failure(x, n);
        return cbc_terminate_node(x, n, CB_REASON_INSTANCE_ERROR);
    default:
        if (to_booting(x, n, CB_REASON_BOOT_FOUND,
                       inst->launch_time >= 0 && inst->launch_time <= x->now ? inst->launch_time
                                                                             : x->now) != 0)
            return -1;
        if (inst->state == CB_INSTANCE_RUNNING && n->i.state == CB_NODE_BOOTING)
            return to_bootstrapping(x, n, inst);
        return 0;
    }
}

static int reconcile_listings(struct ctx *x)
{
    struct cb_core *core = x->core;
    const struct cb_core_config *cfg = &core->cfg;
    for (size_t c = 0; c < core->n_clouds; c++) {
        if (c >= x->in->n_listings || x->in->listings[c].instances == NULL) {
            bool waits = false;
            for (size_t j = 0; j < core->n_nodes && !waits; j++) {
                const struct core_node *n = &core->nodes[j];
                waits = n->i.cloud == c &&
                        ((n->i.state == CB_NODE_REQUESTED &&
                          x->now - n->i.requested_at >= cfg->boot_timeout) ||
                         (n->i.state == CB_NODE_TERMINATING && n->terminate_done));
            }
            if (waits && cbc_out_nondecision(x->out, CB_REASON_LISTING_STALE, c, CB_CORE_NONE,
                                              CB_CORE_NONE, NULL, 0) != 0)
                return cbc_oom(x);
            continue;
        }
        const struct cb_instance_list *l = x->in->listings[c].instances;
        bool fresh = x->in->listings[c].fresh;
        for (size_t k = 0; k < l->n; k++) {
            const struct cb_instance *inst = &l->items[k];
            size_t i = cbc_find(core, inst->node_id);
            if (i == CB_CORE_NONE && inst->id[0] != '\0') {
                for (size_t j = 0; j < core->n_nodes; j++)
                    if (core->nodes[j].i.cloud == c &&
                        strcmp(core->nodes[j].i.instance_id, inst->id) == 0) {
                        i = j;
                        break;
                    }
            }
            if (i != CB_CORE_NONE && core->nodes[i].i.cloud == c) {
                if (listed_instance(x, &core->nodes[i], inst) != 0)
                    return -1;
            } else if (i == CB_CORE_NONE && fresh) {
                if (unknown_instance(x, c, inst) != 0)
                    return -1;
            }
        }
        bool stale_wait = false;
        for (size_t j = 0; j < core->n_nodes; j++) {
            struct core_node *n = &core->nodes[j];
            if (n->i.cloud != c || n->listed || n->i.state == CB_NODE_GONE)
                continue;
            if (!fresh) {
                stale_wait |= (n->i.state == CB_NODE_REQUESTED &&
                               x->now - n->i.requested_at >= cfg->boot_timeout);
                continue;
            }
            if (n->i.state == CB_NODE_REQUESTED) {
                if (x->now - n->i.requested_at >= cfg->boot_timeout &&
                    goto_gone(x, n, CB_REASON_BOOT_NEVER_HAPPENED) != 0)
                    return -1;
                continue;
            }
            /* The grace covers clouds slow to list a new instance; a node we
             * terminated and no longer see is gone (should it come back, the
             * listing shows an unknown tagged instance, which is terminated). */
            int64_t since = n->i.booted_at >= 0 ? n->i.booted_at : n->i.requested_at;
            if (n->i.state != CB_NODE_TERMINATING && x->now - since < cfg->listing_grace)
                continue;
            if (goto_gone(x, n, n->i.state == CB_NODE_TERMINATING ? CB_REASON_TERMINATED
                                                                  : CB_REASON_VANISHED) != 0)
                return -1;
        }
        if (stale_wait && cbc_out_nondecision(x->out, CB_REASON_LISTING_STALE, c, CB_CORE_NONE,
                                               CB_CORE_NONE, NULL, 0) != 0)
            return cbc_oom(x);
    }
    return 0;
}

/* ---- 4. the pool ---- */

/* The node's index in its batch ("<batch_id>-<index>"), or UINT32_MAX. */
static uint32_t batch_index(const struct core_node *n)
{
    size_t bl = strlen(n->i.batch_id);
    const char *id = n->i.node_id;
    if (bl == 0 || strncmp(id, n->i.batch_id, bl) != 0 || id[bl] != '-' || id[bl + 1] == '\0')
        return UINT32_MAX;
    uint32_t v = 0;
    for (const char *p = id + bl + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > UINT32_MAX / 10 - 1)
            return UINT32_MAX;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    return v;
}

static int join(struct ctx *x, struct core_node *n, bool busy)
{
    if (n->i.state == CB_NODE_REQUESTED && to_booting(x, n, CB_REASON_BOOT_FOUND, x->now) != 0)
        return -1;
    if (n->i.running_at < 0)
        n->i.running_at = x->now;
    enum cb_node_state first =
        busy && n->i.state == CB_NODE_BOOTSTRAPPING ? CB_NODE_BUSY : CB_NODE_IDLE;
    if (cbc_transition(x->core, x->out, n, first, CB_REASON_JOINED, CB_CORE_NONE, x->now,
                        x->err) != 0)
        return -1;
    n->i.joined_at = x->now;
    n->i.idle_since = x->now;
    /* Boot-to-join latency samples: the first CB_CORE_LATENCY_PER_BATCH
     * nodes of each batch by index, not by the order they join. The last
     * nodes of a large batch to join are its stragglers; sampling them would
     * make the learned idle timeout the tail of the latency, not its median. */
    if (!n->i.adopted && n->i.requested_at >= 0 && batch_index(n) < CB_CORE_LATENCY_PER_BATCH) {
        struct core_cloud *cl = &x->core->clouds[n->i.cloud];
        cl->lat[cl->lat_pos] = x->now - n->i.requested_at;
        cl->lat_pos = (cl->lat_pos + 1) % CB_CORE_LATENCY_SAMPLES;
        if (cl->n_lat < CB_CORE_LATENCY_SAMPLES)
            cl->n_lat++;
    }
    cbc_breaker_success(x->core, n->i.cloud, n->i.flavor);
    return 0;
}

/* Idle and busy transitions tell the ledger what the pool shows; a draining
 * or terminating node needs its own record, so that a restarted core knows
 * whether its missing ad means "empty" or "running a job, ad late". */
static int record_seen_busy(struct ctx *x, struct core_node *n, bool busy)
{
    enum cb_core_seen seen = busy ? CB_SEEN_BUSY : CB_SEEN_EMPTY;
    if (n->i.seen_busy == seen)
        return 0;
    struct cb_core_record *r = cbc_out_record(x->out);
    if (r == NULL)
        return cbc_oom(x);
    r->kind = CB_RECORD_SEEN_BUSY;
    r->reason = busy ? CB_REASON_CLAIMED : CB_REASON_RELEASED;
    r->action = CB_CORE_NONE;
    r->at = x->now;
    r->cloud = n->i.cloud;
    r->flavor = n->i.flavor;
    cbc_copy(r->node_id, sizeof r->node_id, n->i.node_id);
    cbc_copy(r->batch_id, sizeof r->batch_id, n->i.batch_id);
    cbc_copy(r->instance_id, sizeof r->instance_id, n->i.instance_id);
    r->from = r->to = n->i.state;
    r->busy = busy;
    n->i.seen_busy = seen;
    return 0;
}

static int match_supply(struct ctx *x)
{
    struct cb_core *core = x->core;
    const struct cb_supply *s = x->in->supply;
    for (size_t k = 0; s != NULL && k < s->n; k++) {
        const struct cb_pool_node *p = &s->nodes[k];
        size_t i = cbc_find(core, p->node_id);
        if (i == CB_CORE_NONE)
            continue; /* not ours, or adopted through the listing */
        struct core_node *n = &core->nodes[i];
        enum cb_node_state st = n->i.state;
        bool busy = p->busy || p->claimed_slots > 0;
        /* A collector ad outlives its VM: for nodes on their way out, or
         * already failed, the listing and the terminate results decide; the
         * ad only tells whether a retried terminate would hit a job. */
        if (st == CB_NODE_TERMINATING || st == CB_NODE_GONE || st == CB_NODE_FAILED) {
            n->seen = true;
            n->seen_busy = busy;
            n->last_seen_busy = busy;
            n->absent_since = -1;
            if (st == CB_NODE_TERMINATING && record_seen_busy(x, n, busy) != 0)
                return -1;
            continue;
        }
        n->seen = true;
        n->seen_busy = busy;
        n->last_seen_busy = busy;
        n->seen_draining = p->draining;
        n->absent_since = -1;
        n->idle_cpus = p->idle_cpus;
        n->idle_memory_mb = p->idle_memory_mb;
        n->idle_disk_kb = p->idle_disk_kb;
        n->expected_empty_at = p->expected_empty_at;
        if (busy)
            n->i.ever_busy = true;
        if (st == CB_NODE_REQUESTED || st == CB_NODE_BOOTING || st == CB_NODE_BOOTSTRAPPING) {
            if (join(x, n, busy) != 0)
                return -1;
            st = n->i.state;
        }
        if (st == CB_NODE_IDLE && busy) {
            n->i.idle_since = -1;
            if (cbc_transition(core, x->out, n, CB_NODE_BUSY, CB_REASON_CLAIMED, CB_CORE_NONE,
                                x->now, x->err) != 0)
                return -1;
        } else if (st == CB_NODE_BUSY && !busy) {
            int64_t since = p->idle_since;
            if (since < n->i.state_since || since > x->now)
                since = x->now;
            n->i.idle_since = since;
            if (cbc_transition(core, x->out, n, CB_NODE_IDLE, CB_REASON_RELEASED, CB_CORE_NONE,
                                x->now, x->err) != 0)
                return -1;
        } else if (st == CB_NODE_DRAINING && p->draining) {
            n->drain_confirmed = true;
        }
        if (n->i.state == CB_NODE_DRAINING && record_seen_busy(x, n, busy) != 0)
            return -1;
    }
    if (!x->supply_ok)
        return 0;
    for (size_t i = 0; i < core->n_nodes; i++) {
        struct core_node *n = &core->nodes[i];
        enum cb_node_state st = n->i.state;
        if (!n->seen && (st == CB_NODE_IDLE || st == CB_NODE_BUSY || st == CB_NODE_DRAINING ||
                         st == CB_NODE_TERMINATING) &&
            n->absent_since < 0)
            n->absent_since = x->now;
    }
    return 0;
}

/* ---- 5./6. timeouts, failures, preemption ---- */

static int timeouts(struct ctx *x)
{
    struct cb_core *core = x->core;
    const struct cb_core_config *cfg = &core->cfg;
    for (size_t i = 0; i < core->n_nodes; i++) {
        struct core_node *n = &core->nodes[i];
        int64_t now = x->now;
        switch (n->i.state) {
        case CB_NODE_TERMINATING:
            if (n->terminate_done)
                break;
            if (!n->terminate_pending || now - n->terminate_at >= cfg->boot_timeout) {
                bool forced = n->i.operator_force;
                if (!x->supply_ok && !forced)
                    break; /* a retry waits for a pool snapshot that can show a job */
                /* The first terminate failed and the node has since taken a
                 * job (it joined late): drain it and hold the retry until it
                 * is empty or drain_timeout has passed. */
                /* Not in this snapshot: as last seen, until it has been
                 * away for lost_timeout (a missing ad is not an empty node). */
                bool busy = n->seen ? n->seen_busy
                                    : n->last_seen_busy &&
                                          !(n->absent_since >= 0 &&
                                            now - n->absent_since >= cfg->lost_timeout);
                if (busy && !forced && now - n->first_terminate_at < cfg->drain_timeout) {
                    if (!n->retry_drain_sent) {
                        if (cbc_node_action(x->out, n, CB_ACTION_DRAIN,
                                             CB_REASON_TERMINATE_RETRY) == CB_CORE_NONE)
                            return cbc_oom(x);
                        n->retry_drain_sent = true;
                    }
                    if (cbc_out_nondecision(x->out, CB_REASON_DRAIN_WAIT, n->i.cloud,
                                             n->i.flavor, CB_CORE_NONE, n->i.node_id, 0) != 0)
                        return cbc_oom(x);
                    break;
                }
                if (cbc_node_action(x->out, n, CB_ACTION_TERMINATE,
                                     forced ? CB_REASON_OPERATOR_TERMINATE
                                            : CB_REASON_TERMINATE_RETRY) == CB_CORE_NONE)
                    return cbc_oom(x);
                n->terminate_pending = true;
                n->terminate_at = now;
            }
            break;
        case CB_NODE_FAILED:
            if (cbc_terminate_node(x, n, CB_REASON_TERMINATE_RETRY) != 0)
                return -1;
            break;
        case CB_NODE_BOOTING:
            /* Only a complete pool snapshot proves it has not joined (and
             * taken a job) in the meantime. */
            if (!x->supply_ok)
                break;
            if (n->bootstrap_failed) {
                count_failure(x, n);
                if (cbc_terminate_node(x, n, CB_REASON_BOOTSTRAP_FAILED) != 0)
                    return -1;
            } else if (n->i.preempted) {
                if (cbc_terminate_node(x, n, CB_REASON_PREEMPTED) != 0)
                    return -1;
            } else if (listing_fresh(x, n->i.cloud) && n->i.booted_at >= 0 &&
                       now - n->i.booted_at >= cfg->boot_timeout) {
                count_failure(x, n);
                if (cbc_terminate_node(x, n, CB_REASON_BOOT_TIMEOUT) != 0)
                    return -1;
            }
            break;
        case CB_NODE_BOOTSTRAPPING:
            /* Only a complete pool snapshot proves it has not joined (and
             * taken a job) in the meantime. */
            if (!x->supply_ok)
                break;
            if (n->bootstrap_failed) {
                count_failure(x, n);
                if (cbc_terminate_node(x, n, CB_REASON_BOOTSTRAP_FAILED) != 0)
                    return -1;
            } else if (n->i.preempted) {
                if (cbc_terminate_node(x, n, CB_REASON_PREEMPTED) != 0)
                    return -1;
            } else if (x->supply_ok && !n->seen && n->i.running_at >= 0 &&
                       now - n->i.running_at >= cfg->join_timeout) {
                count_failure(x, n);
                if (cbc_terminate_node(x, n, CB_REASON_JOIN_TIMEOUT) != 0)
                    return -1;
            }
            break;
        case CB_NODE_IDLE:
        case CB_NODE_BUSY:
            if (x->supply_ok && !n->seen && n->absent_since >= 0 &&
                now - n->absent_since >= cfg->lost_timeout) {
                if (cbc_terminate_node(x, n, CB_REASON_LOST) != 0)
                    return -1;
            } else if (n->i.preempted && n->i.state == CB_NODE_IDLE && x->supply_ok && n->seen) {
                /* Idle and about to be taken away: no job to save. */
                if (cbc_terminate_node(x, n, CB_REASON_PREEMPTED) != 0)
                    return -1;
            } else if (n->i.preempted) {
                /* Stops counting as capacity now; jobs get the notice period. */
                if (cbc_drain_node(x, n, CB_REASON_PREEMPTED, true) != 0)
                    return -1;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ---- 6b. operator requests ---- */

/* Nodes the operator asked out (drain, terminate, terminate --force). Runs
 * after the listings, the pool and the timeouts, so it sees each node's real
 * state, and before planning, so their capacity is replaced in this decide. */
static int operator_requests(struct ctx *x)
{
    struct cb_core *core = x->core;
    for (size_t i = 0; i < core->n_nodes; i++) {
        struct core_node *n = &core->nodes[i];
        if (!n->i.operator_drain)
            continue;
        bool force = n->i.operator_force;
        switch (n->i.state) {
        case CB_NODE_REQUESTED:
            /* No instance to terminate yet: the boot's answer or the listing
             * gives it one (or closes it). Capacity: none (core_plan.c). */
            if (cbc_out_nondecision(x->out, CB_REASON_OPERATOR_TERMINATE, n->i.cloud, n->i.flavor,
                                     CB_CORE_NONE, n->i.node_id, 0) != 0)
                return cbc_oom(x);
            break;
        case CB_NODE_BOOTING:
        case CB_NODE_BOOTSTRAPPING:
            /* It runs no job, unless it joined and took one since the last
             * complete snapshot: without force, wait for one. */
            if (force || x->supply_ok) {
                if (cbc_terminate_node(x, n, CB_REASON_OPERATOR_TERMINATE) != 0)
                    return -1;
            } else if (cbc_out_nondecision(x->out, CB_REASON_OPERATOR_TERMINATE, n->i.cloud,
                                            n->i.flavor, CB_CORE_NONE, n->i.node_id, 0) != 0) {
                return cbc_oom(x);
            }
            break;
        case CB_NODE_IDLE:
        case CB_NODE_BUSY:
            if (force) {
                if (cbc_terminate_node(x, n, CB_REASON_OPERATOR_TERMINATE) != 0)
                    return -1;
            } else if (cbc_drain_node(x, n, CB_REASON_OPERATOR_DRAIN, false) != 0) {
                return -1;
            }
            break;
        case CB_NODE_DRAINING:
            n->drain_reason = CB_REASON_OPERATOR_DRAIN;
            if (force && cbc_terminate_node(x, n, CB_REASON_OPERATOR_TERMINATE) != 0)
                return -1;
            break;
        default:
            break; /* terminating (timeouts() honours force), failed, gone */
        }
    }
    return 0;
}

/* ---- stats and the next deadline ---- */

static void stats(struct ctx *x)
{
    struct cb_core *core = x->core;
    for (size_t i = 0; i < core->n_nodes; i++) {
        const struct core_node *n = &core->nodes[i];
        struct cb_core_cloud_stats *st = &x->out->clouds[n->i.cloud];
        enum cb_node_state s = n->i.state;
        if (!cb_node_state_is_live(s))
            continue;
        st->nodes_live++;
        st->cores_live += core->clouds[n->i.cloud].flavors[n->i.flavor].cpus;
        if (cbc_node_in_flight(n) && !n->i.preempted && !n->i.operator_drain)
            st->nodes_in_flight++;
        if ((s == CB_NODE_IDLE || s == CB_NODE_BUSY) && !n->i.preempted && !n->i.operator_drain)
            st->nodes_joined++;
        if (s == CB_NODE_DRAINING)
            st->nodes_draining++;
        if (cbc_node_costs(n))
            st->burn_per_hour += cbc_node_cost(core, n);
    }
    for (size_t c = 0; c < core->n_clouds; c++) {
        struct cb_core_cloud_stats *st = &x->out->clouds[c];
        st->spent_month = core->clouds[c].spent_month;
        st->idle_timeout = cbc_idle_timeout(core, c);
        for (size_t f = 0; f < core->clouds[c].c.n_flavors; f++)
            st->breaker_open |= cbc_breaker_open(core, c, f, x->now);
    }
}

static void soonest(int64_t *best, int64_t t, int64_t now)
{
    if (t > now && t < *best)
        *best = t;
}

static int64_t deadline(const struct cb_core *core, int64_t now)
{
    const struct cb_core_config *cfg = &core->cfg;
    int64_t d = CB_CORE_NEVER;
    for (size_t i = 0; i < core->n_nodes; i++) {
        const struct core_node *n = &core->nodes[i];
        switch (n->i.state) {
        case CB_NODE_REQUESTED:
            soonest(&d, n->i.requested_at + cfg->boot_timeout, now);
            break;
        case CB_NODE_BOOTING:
            soonest(&d, n->i.booted_at + cfg->boot_timeout, now);
            break;
        case CB_NODE_BOOTSTRAPPING:
            soonest(&d, n->i.running_at + cfg->join_timeout, now);
            break;
        case CB_NODE_IDLE:
        case CB_NODE_BUSY:
            if (n->i.state == CB_NODE_IDLE && n->i.idle_since >= 0) {
                int64_t t = n->i.idle_since + cbc_node_idle_timeout(core, n);
                if (core->clouds[n->i.cloud].c.billing == CB_CORE_BILLING_PER_HOUR && t <= now)
                    t = cbc_paid_hour_end(n, now) - cfg->billing_margin;
                soonest(&d, t, now);
            }
            if (n->absent_since >= 0)
                soonest(&d, n->absent_since + cfg->lost_timeout, now);
            if (cfg->max_lifetime > 0 && n->i.booted_at >= 0)
                soonest(&d, n->i.booted_at + cfg->max_lifetime, now);
            break;
        case CB_NODE_DRAINING:
            soonest(&d, n->i.drain_started_at + cfg->drain_timeout, now);
            break;
        case CB_NODE_TERMINATING:
            if (!n->terminate_done)
                soonest(&d, n->terminate_at + cfg->boot_timeout, now);
            if (!n->terminate_done && n->absent_since >= 0)
                soonest(&d, n->absent_since + cfg->lost_timeout, now);
            break;
        default:
            break;
        }
    }
    for (size_t c = 0; c < core->n_clouds; c++) {
        const struct core_cloud *cl = &core->clouds[c];
        soonest(&d, cl->throttled_until, now);
        for (size_t f = 0; f < cl->c.n_flavors; f++) {
            soonest(&d, cl->br[f].open_until, now);
            soonest(&d, cl->br[f].quota_until, now);
        }
    }
    return d;
}

/* ---- the cycle ---- */

static int check_input(const struct cb_core *core, const struct cb_core_input *in,
                       struct cb_err *err)
{
    if (in == NULL)
        return cbc_err(err, CB_ERR_INVALID, "core input", "no input");
    if (core->last_now != INT64_MIN && in->now < core->last_now)
        return cbc_err(err, CB_ERR_INVALID, "core input",
                        "time went backwards (%lld < %lld)", (long long)in->now,
                        (long long)core->last_now);
    if (in->now < 0 || cbc_month_key(in->now) < 0)
        return cbc_err(err, CB_ERR_INVALID, "core input", "time %lld out of range",
                        (long long)in->now);
    if (in->n_listings > core->n_clouds)
        return cbc_err(err, CB_ERR_INVALID, "core input",
                        "%zu listings for %zu clouds", in->n_listings, core->n_clouds);
    if (in->n_listings > 0 && in->listings == NULL)
        return cbc_err(err, CB_ERR_INVALID, "core input", "n_listings > 0 but no array");
    if (in->n_events > 0 && in->events == NULL)
        return cbc_err(err, CB_ERR_INVALID, "core input", "n_events > 0 but no array");
    for (size_t e = 0; e < in->n_events; e++) {
        const struct cb_core_event *ev = &in->events[e];
        if ((unsigned)ev->kind >= CB_EVENT__COUNT ||
            memchr(ev->node_id, '\0', sizeof ev->node_id) == NULL ||
            memchr(ev->batch_id, '\0', sizeof ev->batch_id) == NULL ||
            memchr(ev->instance_id, '\0', sizeof ev->instance_id) == NULL)
            return cbc_err(err, CB_ERR_INVALID, "core input", "event %zu malformed", e);
    }
    return 0;
}

int cb_core_decide(struct cb_core *core, const struct cb_core_input *in,
                   struct cb_core_output *out, struct cb_err *err)
{
    out->n_actions = out->n_records = out->n_nondecisions = 0;
    out->unserved_jobs = 0;
    if (check_input(core, in, err) != 0)
        return -1;
    if (out->n_clouds != core->n_clouds) {
        struct cb_core_cloud_stats *p =
            realloc(out->clouds, (core->n_clouds ? core->n_clouds : 1) * sizeof *p);
        if (p == NULL)
            return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
        out->clouds = p;
        out->n_clouds = core->n_clouds;
    }
    if (core->n_clouds > 0)
        memset(out->clouds, 0, core->n_clouds * sizeof *out->clouds);

    struct ctx x = {
        .core = core, .in = in, .out = out, .err = err, .now = in->now,
        .supply_ok = in->supply != NULL && !in->supply->partial,
        .demand_ok = in->demand != NULL && !in->demand->partial,
    };
    cbc_compact(core);
    accrue(core, in->now);
    for (size_t i = 0; i < core->n_nodes; i++) {
        core->nodes[i].seen = core->nodes[i].seen_busy = core->nodes[i].seen_draining = false;
        core->nodes[i].listed = false;
    }
    int rc = 0;
    for (size_t e = 0; e < in->n_events && rc == 0; e++)
        rc = apply_event(&x, &in->events[e]);
    if (rc == 0)
        rc = reconcile_listings(&x);
    if (rc == 0)
        rc = match_supply(&x);
    if (rc == 0)
        rc = timeouts(&x);
    if (rc == 0)
        rc = operator_requests(&x);
    if (rc == 0)
        rc = cbc_plan(core, in, out, err);
    if (rc == 0)
        rc = cbc_scale_down(&x);
    if (rc != 0)
        return -1;
    stats(&x);
    if (out->n_actions == 0 && out->n_nondecisions == 0 &&
        cbc_out_nondecision(out, CB_REASON_NOTHING_TO_DO, CB_CORE_NONE, CB_CORE_NONE,
                             CB_CORE_NONE, NULL, 0) != 0)
        return cbc_oom(&x);
    core->last_now = in->now;
    core->next_deadline = deadline(core, in->now);
    return 0;
}
