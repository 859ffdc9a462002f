/* core_scale_down: giving capacity back. Drained nodes are terminated once
 * empty (or after drain_timeout); idle nodes past their idle timeout (learned
 * or fixed, respecting a paid billing hour) and nodes past max_lifetime are
 * drained; budgets wind clouds down. Everything here needs complete pool and
 * queue snapshots: a partial observation holds it all back.
 */
#include "core/core_internal.h"

#include <stdlib.h>

int64_t cbc_paid_hour_end(const struct core_node *n, int64_t now)
{
    int64_t start = n->i.booted_at >= 0 ? n->i.booted_at : n->i.requested_at;
    if (start < 0 || now < start)
        return now;
    int64_t hours = (now - start) / 3600 + 1;
    return start + hours * 3600;
}

static int drain_down(struct ctx *x, struct core_node *n)
{
    const struct cb_core_config *cfg = &x->core->cfg;
    /* A peacefully drained startd leaves the pool when its last job ends, so
     * absence means empty: absence from two complete snapshots in a row (one
     * missing ad is a collector hiccup), or for lost_timeout when it was last
     * seen running a job. */
    bool empty = n->seen ? !n->seen_busy
                         : n->absent_since >= 0 && x->now > n->absent_since &&
                               (!n->last_seen_busy ||
                                x->now - n->absent_since >= cfg->lost_timeout);
    bool confirmed = n->drain_confirmed || n->seen_draining || !n->seen;
    if (empty && confirmed)
        return cbc_terminate_node(x, n, n->i.operator_terminate ? CB_REASON_OPERATOR_TERMINATE
                                                                : CB_REASON_DRAINED);
    if (n->i.drain_started_at >= 0 && x->now - n->i.drain_started_at >= cfg->drain_timeout)
        return cbc_terminate_node(x, n, CB_REASON_DRAIN_TIMEOUT);
    return cbc_out_nondecision(x->out, CB_REASON_DRAIN_WAIT, n->i.cloud, n->i.flavor,
                                CB_CORE_NONE, n->i.node_id, 0) == 0 ? 0 : cbc_oom(x);
}

/* Victim order for capacity that must go: idle nodes (longest idle first),
 * then nodes without jobs that are still starting, then busy nodes that
 * should empty soonest (unknown runtimes last), then creation order. */
static int victim_rank(const struct core_node *n)
{
    switch (n->i.state) {
    case CB_NODE_IDLE: return 0;
    case CB_NODE_BOOTING: case CB_NODE_BOOTSTRAPPING: return 1;
    case CB_NODE_BUSY: return 2;
    default: return 3;
    }
}

static bool victim_before(const struct core_node *a, const struct core_node *b)
{
    int ra = victim_rank(a), rb = victim_rank(b);
    if (ra != rb)
        return ra < rb;
    int64_t ka = ra == 0 ? a->i.idle_since : ra == 2 ? a->expected_empty_at : 0;
    int64_t kb = rb == 0 ? b->i.idle_since : rb == 2 ? b->expected_empty_at : 0;
    if (ka < 0)
        ka = INT64_MAX;
    if (kb < 0)
        kb = INT64_MAX;
    return ka < kb;
}

static int wind_down(struct ctx *x, struct core_node *n, enum cb_core_reason reason)
{
    if (n->i.state == CB_NODE_IDLE || n->i.state == CB_NODE_BUSY)
        return cbc_drain_node(x, n, reason, false);
    if (n->i.state == CB_NODE_BOOTING || n->i.state == CB_NODE_BOOTSTRAPPING)
        return cbc_terminate_node(x, n, reason);
    return 0;
}

static bool winds(const struct core_node *n)
{
    enum cb_node_state s = n->i.state;
    return s == CB_NODE_IDLE || s == CB_NODE_BUSY || s == CB_NODE_BOOTING ||
           s == CB_NODE_BOOTSTRAPPING;
}

/* Bring the burn rate of the nodes selected by `cloud` (CB_CORE_NONE = all)
 * under `cap` by winding down victims in order. */
static int burn_cap(struct ctx *x, size_t cloud, double cap)
{
    struct cb_core *core = x->core;
    double burn = 0;
    size_t nv = 0;
    for (size_t i = 0; i < core->n_nodes; i++) {
        const struct core_node *n = &core->nodes[i];
        if (cloud != CB_CORE_NONE && n->i.cloud != cloud)
            continue;
        if (cbc_node_costs(n) && (winds(n) || n->i.state == CB_NODE_REQUESTED))
            burn += cbc_node_cost(core, n);
        nv += winds(n);
    }
    if (burn <= cap * (1 + 1e-9))
        return 0;
    size_t *v = malloc((nv ? nv : 1) * sizeof *v);
    if (v == NULL)
        return cbc_oom(x);
    size_t k = 0;
    for (size_t i = 0; i < core->n_nodes; i++)
        if ((cloud == CB_CORE_NONE || core->nodes[i].i.cloud == cloud) && winds(&core->nodes[i]))
            v[k++] = i;
    for (size_t a = 1; a < k; a++) { /* stable insertion sort: victims are few in practice */
        size_t t = v[a], b = a;
        while (b > 0 && victim_before(&core->nodes[t], &core->nodes[v[b - 1]])) {
            v[b] = v[b - 1];
            b--;
        }
        v[b] = t;
    }
    int rc = 0;
    for (size_t a = 0; a < k && burn > cap * (1 + 1e-9) && rc == 0; a++) {
        struct core_node *n = &core->nodes[v[a]];
        burn -= cbc_node_cost(core, n);
        rc = wind_down(x, n, CB_REASON_BUDGET_HOUR);
    }
    free(v);
    return rc;
}

int cbc_scale_down(struct ctx *x)
{
    struct cb_core *core = x->core;
    const struct cb_core_config *cfg = &core->cfg;
    bool ok = x->supply_ok && x->demand_ok;
    bool held = false;
    for (size_t i = 0; i < core->n_nodes; i++) {
        struct core_node *n = &core->nodes[i];
        enum cb_node_state st = n->i.state;
        if (st == CB_NODE_DRAINING) {
            if (!x->supply_ok) {
                held = true;
                continue;
            }
            if (drain_down(x, n) != 0)
                return -1;
            continue;
        }
        if (st != CB_NODE_IDLE && st != CB_NODE_BUSY)
            continue;
        if (!ok) {
            held = true;
            continue;
        }
        if (cfg->max_lifetime > 0 && n->i.booted_at >= 0 &&
            x->now - n->i.booted_at >= cfg->max_lifetime) {
            if (cbc_drain_node(x, n, CB_REASON_MAX_LIFETIME, false) != 0)
                return -1;
            continue;
        }
        /* Idle means idle in this snapshot: an absent ad says nothing. */
        if (st != CB_NODE_IDLE || n->i.idle_since < 0 || !n->seen)
            continue;
        uint32_t to = cbc_node_idle_timeout(core, n);
        if (x->now - n->i.idle_since < to)
            continue;
        if (core->clouds[n->i.cloud].c.billing == CB_CORE_BILLING_PER_HOUR &&
            cbc_paid_hour_end(n, x->now) - x->now > cfg->billing_margin) {
            if (cbc_out_nondecision(x->out, CB_REASON_BILLING_HOUR, n->i.cloud, n->i.flavor,
                                     CB_CORE_NONE, n->i.node_id, 0) != 0)
                return cbc_oom(x);
            continue;
        }
        if (cbc_drain_node(x, n, CB_REASON_IDLE_TIMEOUT, false) != 0)
            return -1;
    }
    if (held && cbc_out_nondecision(x->out, CB_REASON_PARTIAL_OBSERVATION, CB_CORE_NONE,
                                     CB_CORE_NONE, CB_CORE_NONE, NULL, 0) != 0)
        return cbc_oom(x);
    if (!ok)
        return 0;

    /* Budgets: a spent month winds its cloud (or everything) down; an
     * exceeded burn rate sheds the cheapest-to-lose capacity. */
    double spent_all = 0;
    for (size_t c = 0; c < core->n_clouds; c++)
        spent_all += core->clouds[c].spent_month;
    bool global_month = cfg->budget_per_month > 0 && spent_all >= cfg->budget_per_month;
    for (size_t c = 0; c < core->n_clouds; c++) {
        const struct core_cloud *cl = &core->clouds[c];
        bool month = global_month ||
                     (cl->c.budget_per_month > 0 && cl->spent_month >= cl->c.budget_per_month);
        if (month) {
            for (size_t i = 0; i < core->n_nodes; i++)
                if (core->nodes[i].i.cloud == c &&
                    wind_down(x, &core->nodes[i], CB_REASON_BUDGET_MONTH) != 0)
                    return -1;
        } else if (cl->c.budget_per_hour > 0 && burn_cap(x, c, cl->c.budget_per_hour) != 0) {
            return -1;
        }
    }
    if (!global_month && cfg->budget_per_hour > 0 &&
        burn_cap(x, CB_CORE_NONE, cfg->budget_per_hour) != 0)
        return -1;
    return 0;
}

