/* cbc_plan: scale-up. From the idle demand and the capacity already there,
 * how many nodes of which flavor on which cloud, within every hard limit,
 * damped by the ramp and the in-flight cap.
 *
 * 1. Capacity already counted: the free resources of joined nodes (idle
 *    cpus/memory/disk from the pool) and the whole flavor of every node still
 *    in flight. Each node contributes exactly one of the two; draining,
 *    preempted and operator-held nodes contribute nothing.
 * 2. Job shapes, largest first (cpus, memory, disk: first-fit decreasing),
 *    take existing capacity of their eligible clouds (a fluid approximation
 *    per cloud, guarded by the largest free hole so a shape never counts on
 *    capacity no single node has), then the free room left in nodes planned
 *    earlier in this decide, then new nodes: clouds in priority-then-cost
 *    order, on each the fitting flavor with the least waste (mean unused
 *    share of cpus and memory), then the lowest cost per core-hour. Hard
 *    limits (max_nodes, max_cores, budgets, quota answers, breakers,
 *    throttling, disabled clouds) cut a cloud's share and the rest spills to
 *    the next eligible cloud.
 * 3. Per cloud, the planned gap first reuses nodes draining for idleness
 *    (cancel drain), then is damped: ramp_fraction of the gap plus
 *    ramp_floor, at most max_in_flight in flight and max_boot_per_cycle per
 *    decide. What is held back becomes non-decisions with amounts.
 * The work is O(shapes x clouds x (flavors + open bins)), independent of the
 * number of jobs, and O(nodes) for capacity.
 */
#include "core/core_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KB_PER_GB (UINT64_C(1024) * 1024)
#define MAX_OPEN_BINS 64    /* free room of planned nodes remembered per cloud */

struct hole {               /* aggregated free capacity of one cloud */
    uint64_t cpus, mem, disk;
    uint64_t max_cpus, max_mem, max_disk;
};

struct bin {                /* `count` planned nodes with the same free room */
    uint64_t cpus, mem, disk;
    uint64_t count;
};

struct room {               /* hard head-room of one cloud for new nodes */
    uint64_t nodes, cores;
    double hour_money, month_money; /* currency per hour still allowed (<0: none left) */
    bool hour_capped, month_capped;
    uint64_t in_flight;
};

struct plan {
    struct cb_core *core;
    const struct cb_core_input *in;
    struct cb_core_output *out;
    int64_t now;
    size_t nf;                  /* stride: max flavors per cloud */
    uint64_t *planned;          /* [cloud * nf + flavor] */
    uint64_t *inflight_cf;      /* in-flight nodes per (cloud, flavor): breaker probes */
    struct hole *holes;
    struct room *rooms;
    double g_hour, g_month;     /* global head-room (currency per hour) */
    bool g_hour_capped, g_month_capped;
    struct bin *bins;           /* [cloud * MAX_OPEN_BINS + i] */
    size_t *n_bins;
    uint64_t *held;             /* [cloud * CB_REASON__COUNT + reason]: jobs held back */
    uint64_t min_cpus[CB_MAX_CLOUDS]; /* smallest flavor of each cloud */
    double min_cost[CB_MAX_CLOUDS];   /* cheapest flavor of each cloud */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Jobs of a shape one node of (cpus, mem, disk) takes; 0 if none. */
static uint64_t per_node(uint64_t cpus, uint64_t mem, uint64_t disk,
                         const struct cb_job_shape *s)
{
    uint64_t k = cpus / s->cpus;
    if (s->memory_mb > 0)
        k = min_u64(k, mem / s->memory_mb);
    if (s->disk_kb > 0)
        k = min_u64(k, disk / s->disk_kb);
    return k;
}

static void add_hole(struct hole *h, uint64_t cpus, uint64_t mem, uint64_t disk)
{
    h->cpus += cpus;
    h->mem += mem;
    h->disk += disk;
    if (cpus > h->max_cpus)
        h->max_cpus = cpus;
    if (mem > h->max_mem)
        h->max_mem = mem;
    if (disk > h->max_disk)
        h->max_disk = disk;
}

/* 1. capacity and head-room */
static void count_capacity(struct plan *p)
{
    struct cb_core *core = p->core;
    const struct cb_core_config *cfg = &core->cfg;
    double burn_all = 0, spent_all = 0;
    for (size_t c = 0; c < core->n_clouds; c++) {
        p->rooms[c].nodes = UINT64_MAX;
        p->rooms[c].cores = UINT64_MAX;
    }
    uint64_t *live_nodes = calloc(core->n_clouds ? core->n_clouds : 1, sizeof *live_nodes);
    uint64_t *live_cores = calloc(core->n_clouds ? core->n_clouds : 1, sizeof *live_cores);
    double *burn = calloc(core->n_clouds ? core->n_clouds : 1, sizeof *burn);
    if (live_nodes == NULL || live_cores == NULL || burn == NULL) {
        free(live_nodes), free(live_cores), free(burn);
        for (size_t c = 0; c < core->n_clouds; c++)
            p->rooms[c].nodes = 0; /* cannot account: boot nothing */
        return;
    }
    for (size_t i = 0; i < core->n_nodes; i++) {
        const struct core_node *n = &core->nodes[i];
        enum cb_node_state s = n->i.state;
        if (!cb_node_state_is_live(s))
            continue;
        const struct cb_core_flavor *f = &core->clouds[n->i.cloud].flavors[n->i.flavor];
        struct cb_core_cloud_stats *st = &p->out->clouds[n->i.cloud];
        live_nodes[n->i.cloud]++;
        live_cores[n->i.cloud] += f->cpus;
        if (cbc_node_costs(n))
            burn[n->i.cloud] += f->cost_per_hour;
        if (cbc_node_in_flight(n))
            p->inflight_cf[n->i.cloud * p->nf + n->i.flavor]++;
        if (n->i.preempted || n->i.operator_drain || !cb_node_state_counts_as_capacity(s))
            continue;
        if (cbc_node_in_flight(n)) {
            p->rooms[n->i.cloud].in_flight++;
            add_hole(&p->holes[n->i.cloud], f->cpus, f->memory_mb, f->disk_gb * KB_PER_GB);
            st->capacity_nodes++;
            st->free_cpus_counted += f->cpus;
        } else { /* joined: idle or busy */
            add_hole(&p->holes[n->i.cloud], n->idle_cpus, n->idle_memory_mb, n->idle_disk_kb);
            st->capacity_nodes++;
            st->free_cpus_counted += n->idle_cpus;
        }
    }
    for (size_t c = 0; c < core->n_clouds; c++) {
        const struct core_cloud *cl = &core->clouds[c];
        struct room *r = &p->rooms[c];
        if (cl->c.max_nodes > 0)
            r->nodes = cl->c.max_nodes > live_nodes[c] ? cl->c.max_nodes - live_nodes[c] : 0;
        if (cl->c.max_cores > 0)
            r->cores = cl->c.max_cores > live_cores[c] ? cl->c.max_cores - live_cores[c] : 0;
        r->hour_capped = cl->c.budget_per_hour > 0;
        r->hour_money = cl->c.budget_per_hour - burn[c];
        /* Monthly: boot only while the pool, new node included, could run
         * one more hour within what is left of the month's budget. */
        r->month_capped = cl->c.budget_per_month > 0;
        r->month_money = cl->c.budget_per_month - cl->spent_month - burn[c];
        burn_all += burn[c];
        spent_all += cl->spent_month;
    }
    p->g_hour_capped = cfg->budget_per_hour > 0;
    p->g_hour = cfg->budget_per_hour - burn_all;
    p->g_month_capped = cfg->budget_per_month > 0;
    p->g_month = cfg->budget_per_month - spent_all - burn_all;
    free(live_nodes);
    free(live_cores);
    free(burn);
}

/* 2a. existing capacity */
static uint64_t use_existing(struct plan *p, const struct cb_job_shape *s, uint64_t left)
{
    struct cb_core *core = p->core;
    for (size_t o = 0; o < core->n_clouds && left > 0; o++) {
        size_t c = core->cloud_order[o];
        if (!(s->clouds & ((cb_cloud_mask)1 << c)))
            continue;
        struct hole *h = &p->holes[c];
        if (h->max_cpus < s->cpus || h->max_mem < s->memory_mb || h->max_disk < s->disk_kb)
            continue;
        uint64_t k = min_u64(left, per_node(h->cpus, h->mem, h->disk, s));
        h->cpus -= k * s->cpus;
        h->mem -= k * s->memory_mb;
        h->disk -= k * s->disk_kb;
        left -= k;
    }
    return left;
}

static void push_bin(struct plan *p, size_t c, uint64_t cpus, uint64_t mem, uint64_t disk,
                     uint64_t count)
{
    if (count == 0 || cpus == 0)
        return;
    struct bin *b = &p->bins[c * MAX_OPEN_BINS];
    for (size_t i = 0; i < p->n_bins[c]; i++) {
        if (b[i].cpus == cpus && b[i].mem == mem && b[i].disk == disk) {
            b[i].count += count;
            return;
        }
    }
    if (p->n_bins[c] == MAX_OPEN_BINS) {
        for (size_t i = 0; i < MAX_OPEN_BINS; i++)
            if (b[i].count == 0) {
                b[i] = (struct bin){ cpus, mem, disk, count };
                return;
            }
        return; /* forgotten room: counted as waste, never as capacity */
    }
    b[p->n_bins[c]++] = (struct bin){ cpus, mem, disk, count };
}

/* 2b. room left in nodes planned earlier in this decide (first fit) */
static uint64_t use_bins(struct plan *p, const struct cb_job_shape *s, uint64_t left)
{
    struct cb_core *core = p->core;
    for (size_t o = 0; o < core->n_clouds && left > 0; o++) {
        size_t c = core->cloud_order[o];
        if (!(s->clouds & ((cb_cloud_mask)1 << c)))
            continue;
        struct bin *b = &p->bins[c * MAX_OPEN_BINS];
        size_t nb = p->n_bins[c];
        for (size_t i = 0; i < nb && left > 0; i++) {
            /* Cheap rejection first: with many distinct shapes most bins are
             * too small, and this loop is the planner's hot spot. */
            if (b[i].count == 0 || b[i].cpus < s->cpus || b[i].mem < s->memory_mb ||
                b[i].disk < s->disk_kb)
                continue;
            uint64_t q = per_node(b[i].cpus, b[i].mem, b[i].disk, s);
            struct bin was = b[i];
            uint64_t full = min_u64(was.count, left / q);
            left -= full * q;
            b[i].count -= full;
            push_bin(p, c, was.cpus - q * s->cpus, was.mem - q * s->memory_mb,
                     was.disk - q * s->disk_kb, full);
            if (left > 0 && left < q && b[i].count > 0) {
                b[i].count--;
                push_bin(p, c, was.cpus - left * s->cpus, was.mem - left * s->memory_mb,
                         was.disk - left * s->disk_kb, 1);
                left = 0;
            }
        }
    }
    return left;
}

static bool flavor_fits(const struct cb_core_flavor *f, const struct cb_job_shape *s)
{
    return f->cpus >= s->cpus && f->memory_mb >= s->memory_mb &&
           f->disk_gb * KB_PER_GB >= s->disk_kb;
}

/* Nodes the hard limits still allow on cloud c for flavor f; *why gets the
 * binding limit when that is fewer than `want`. */
static uint64_t hard_room(const struct plan *p, size_t c, const struct cb_core_flavor *f,
                          uint64_t want, enum cb_core_reason *why)
{
    const struct room *r = &p->rooms[c];
    uint64_t n = want;
    enum cb_core_reason w = CB_REASON_NONE;
    if (r->nodes < n) {
        n = r->nodes;
        w = CB_REASON_MAX_NODES;
    }
    if (r->cores / f->cpus < n) {
        n = r->cores / f->cpus;
        w = CB_REASON_MAX_CORES;
    }
    if (f->cost_per_hour > 0) {
        double m[4] = { r->hour_money, p->g_hour, r->month_money, p->g_month };
        bool capped[4] = { r->hour_capped, p->g_hour_capped, r->month_capped, p->g_month_capped };
        for (int i = 0; i < 4; i++) {
            if (!capped[i])
                continue;
            double k = m[i] > 0 ? m[i] / f->cost_per_hour + 1e-9 : 0;
            uint64_t ki = k >= (double)UINT64_MAX ? UINT64_MAX : (uint64_t)k;
            if (ki < n) {
                n = ki;
                w = i < 2 ? CB_REASON_BUDGET_HOUR : CB_REASON_BUDGET_MONTH;
            }
        }
    }
    if (n < want)
        *why = w;
    return n;
}

/* The limit that leaves cloud c no room for even one node, if any. */
static enum cb_core_reason cloud_blocked(const struct plan *p, size_t c)
{
    const struct core_cloud *cl = &p->core->clouds[c];
    const struct room *r = &p->rooms[c];
    if (!cl->c.enabled)
        return CB_REASON_CLOUD_DISABLED;
    if (p->now < cl->throttled_until)
        return CB_REASON_THROTTLED;
    if (r->nodes == 0)
        return CB_REASON_MAX_NODES;
    if (r->cores < p->min_cpus[c])
        return CB_REASON_MAX_CORES;
    if ((r->hour_capped && r->hour_money <= 0) || (p->g_hour_capped && p->g_hour <= 0))
        return p->min_cost[c] > 0 ? CB_REASON_BUDGET_HOUR : CB_REASON_NONE;
    if ((r->month_capped && r->month_money <= 0) || (p->g_month_capped && p->g_month <= 0))
        return p->min_cost[c] > 0 ? CB_REASON_BUDGET_MONTH : CB_REASON_NONE;
    return CB_REASON_NONE;
}

static void take_room(struct plan *p, size_t c, const struct cb_core_flavor *f, uint64_t n)
{
    struct room *r = &p->rooms[c];
    r->nodes -= n;
    if (r->cores != UINT64_MAX)
        r->cores -= n * f->cpus;
    double m = (double)n * f->cost_per_hour;
    r->hour_money -= m;
    r->month_money -= m;
    p->g_hour -= m;
    p->g_month -= m;
}

/* 2c. new nodes for what is left of one shape */
static int plan_new(struct plan *p, size_t shape, const struct cb_job_shape *s, uint64_t left)
{
    struct cb_core *core = p->core;
    bool any_fits = false;
    enum cb_core_reason block = CB_REASON_NONE;
    for (size_t o = 0; o < core->n_clouds && left > 0; o++) {
        size_t c = core->cloud_order[o];
        if (!(s->clouds & ((cb_cloud_mask)1 << c)))
            continue;
        const struct core_cloud *cl = &core->clouds[c];
        /* A cloud that can take nothing at all is settled without choosing
         * a flavor (the common case once a burst has filled it). */
        enum cb_core_reason stop = cloud_blocked(p, c);
        if (stop != CB_REASON_NONE) {
            bool fits = false;
            for (size_t f = 0; f < cl->c.n_flavors && !fits; f++)
                fits = flavor_fits(&cl->flavors[f], s);
            if (fits) {
                any_fits = true;
                block = stop;
                p->held[c * CB_REASON__COUNT + stop] += left;
            }
            continue;
        }
        size_t best = CB_CORE_NONE;
        double best_waste = 0, best_cpc = 0;
        uint64_t best_q = 0;
        enum cb_core_reason why = CB_REASON_NONE;
        for (size_t f = 0; f < cl->c.n_flavors; f++) {
            const struct cb_core_flavor *fl = &cl->flavors[f];
            if (!flavor_fits(fl, s))
                continue;
            any_fits = true;
            if (!cl->c.enabled) {
                why = CB_REASON_CLOUD_DISABLED;
                continue;
            }
            if (p->now < cl->throttled_until) {
                why = CB_REASON_THROTTLED;
                continue;
            }
            if (p->now < cl->br[f].quota_until) {
                why = CB_REASON_QUOTA;
                continue;
            }
            if (cbc_breaker_open(core, c, f, p->now) ||
                (cbc_breaker_half_open(core, c, f, p->now) &&
                 (p->inflight_cf[c * p->nf + f] > 0 || p->planned[c * p->nf + f] > 0))) {
                why = CB_REASON_BREAKER_OPEN;
                continue;
            }
            uint64_t q = per_node(fl->cpus, fl->memory_mb, fl->disk_gb * KB_PER_GB, s);
            uint64_t used = min_u64(q, left);
            double waste = ((double)(fl->cpus - used * s->cpus) / fl->cpus +
                            (double)(fl->memory_mb - used * s->memory_mb) / fl->memory_mb) / 2;
            double cpc = fl->cost_per_hour / fl->cpus;
            /* Least waste, then cost per core-hour, then the SMALLER node
             * (fewer jobs per node), then configuration order. A small node
             * empties as soon as its few jobs end, so it is given back
             * sooner, and the last node of a burst over-provisions less;
             * measured in docs/policy.md ("Flavor tie-break"). */
            bool tie_w = waste <= best_waste + 1e-9 && waste >= best_waste - 1e-9;
            bool tie_c = cpc <= best_cpc * (1 + 1e-9) && cpc >= best_cpc * (1 - 1e-9);
            if (best == CB_CORE_NONE || waste < best_waste - 1e-9 ||
                (tie_w && cpc < best_cpc && !tie_c) || (tie_w && tie_c && q < best_q)) {
                best = f;
                best_waste = waste;
                best_cpc = cpc;
                best_q = q;
            }
        }
        if (best == CB_CORE_NONE) {
            if (why != CB_REASON_NONE) {
                block = why;
                p->held[c * CB_REASON__COUNT + why] += left;
            }
            continue;
        }
        const struct cb_core_flavor *fl = &cl->flavors[best];
        uint64_t need = left / best_q + (left % best_q != 0);
        if (cbc_breaker_half_open(core, c, best, p->now))
            need = 1; /* one probe until a success closes the breaker */
        enum cb_core_reason lim = CB_REASON_NONE;
        uint64_t n = hard_room(p, c, fl, need, &lim);
        if (lim != CB_REASON_NONE) {
            /* Amount: the jobs this cloud could not take because of the limit. */
            uint64_t cut = left - min_u64(left, n * best_q);
            block = lim;
            p->held[c * CB_REASON__COUNT + lim] += cut;
        }
        if (n == 0)
            continue;
        p->planned[c * p->nf + best] += n;
        take_room(p, c, fl, n);
        uint64_t served = min_u64(left, n * best_q);
        uint64_t full = served / best_q, part = served % best_q;
        uint64_t disk = fl->disk_gb * KB_PER_GB;
        push_bin(p, c, fl->cpus - best_q * s->cpus, fl->memory_mb - best_q * s->memory_mb,
                 disk - best_q * s->disk_kb, full);
        if (part > 0)
            push_bin(p, c, fl->cpus - part * s->cpus, fl->memory_mb - part * s->memory_mb,
                     disk - part * s->disk_kb, 1);
        /* A probe serves its share; the rest waits for the breaker to close. */
        left -= served;
    }
    if (left == 0)
        return 0;
    p->out->unserved_jobs += left;
    if (any_fits && block != CB_REASON_NONE)
        return 0; /* the limits that held it back are reported above */
    return cbc_out_nondecision(p->out, any_fits ? CB_REASON_NO_ELIGIBLE_CLOUD
                                                 : CB_REASON_NO_FITTING_FLAVOR,
                                CB_CORE_NONE, CB_CORE_NONE, shape, NULL, left);
}

/* FFD order: cpus, memory, disk descending; index for a total order. The
 * keys are copied so the comparison needs no context (C11 qsort has none). */
struct skey {
    uint64_t mem, disk;
    uint32_t cpus;
    size_t idx;
};

static int cmp_shape(const void *a, const void *b)
{
    const struct skey *x = a, *y = b;
    if (x->cpus != y->cpus)
        return x->cpus > y->cpus ? -1 : 1;
    if (x->mem != y->mem)
        return x->mem > y->mem ? -1 : 1;
    if (x->disk != y->disk)
        return x->disk > y->disk ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int boot_batch(struct plan *p, size_t c, size_t f, uint64_t count, struct cb_err *err)
{
    struct cb_core *core = p->core;
    uint64_t seq = ++core->batch_seq;
    char batch[CB_CORE_BATCH_ID_MAX];
    snprintf(batch, sizeof batch, "%s-%llu", core->cfg.batch_prefix, (unsigned long long)seq);
    size_t idx;
    struct cb_core_action *a = cbc_out_action(p->out, &idx);
    if (a == NULL)
        return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
    a->kind = CB_ACTION_BOOT;
    a->reason = CB_REASON_DEMAND;
    a->cloud = (unsigned)c;
    a->flavor = (unsigned)f;
    a->count = (uint32_t)count;
    cbc_copy(a->batch_id, sizeof a->batch_id, batch);
    struct cb_core_record *r = cbc_out_record(p->out);
    if (r == NULL)
        return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
    r->kind = CB_RECORD_BOOT_INTENT;
    r->reason = CB_REASON_DEMAND;
    r->action = idx;
    r->at = p->now;
    r->cloud = (unsigned)c;
    r->flavor = (unsigned)f;
    r->batch_seq = seq;
    r->count = (uint32_t)count;
    cbc_copy(r->batch_id, sizeof r->batch_id, batch);
    for (uint64_t i = 0; i < count; i++) {
        char id[CB_NAME_MAX];
        snprintf(id, sizeof id, "%s-%llu", batch, (unsigned long long)i);
        struct core_node *n = cbc_node_add(core, id);
        if (n == NULL)
            return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
        n->i.cloud = (unsigned)c;
        n->i.flavor = (unsigned)f;
        n->i.state = CB_NODE_REQUESTED;
        n->i.requested_at = n->i.state_since = p->now;
        cbc_copy(n->i.batch_id, sizeof n->i.batch_id, batch);
        r = cbc_out_record(p->out);
        if (r == NULL)
            return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
        r->kind = CB_RECORD_NODE_CREATED;
        r->reason = CB_REASON_DEMAND;
        r->action = idx;
        r->at = p->now;
        r->cloud = (unsigned)c;
        r->flavor = (unsigned)f;
        r->from = r->to = CB_NODE_REQUESTED;
        cbc_copy(r->node_id, sizeof r->node_id, id);
        cbc_copy(r->batch_id, sizeof r->batch_id, batch);
    }
    p->out->clouds[c].boots += (uint32_t)count;
    return 0;
}

/* Reuse nodes drained for idleness before booting new ones. */
static int cancel_drains(struct plan *p, size_t c, uint64_t *gap, struct cb_err *err)
{
    struct cb_core *core = p->core;
    for (size_t i = 0; i < core->n_nodes && *gap > 0; i++) {
        struct core_node *n = &core->nodes[i];
        /* Only a node of a flavor the plan wants: its room fits those jobs. */
        if (n->i.cloud != c || n->i.state != CB_NODE_DRAINING || n->i.preempted ||
            n->i.operator_drain || n->drain_reason != CB_REASON_IDLE_TIMEOUT ||
            p->planned[c * p->nf + n->i.flavor] == 0)
            continue;
        size_t idx = cbc_node_action(p->out, n, CB_ACTION_CANCEL_DRAIN,
                                      CB_REASON_DEMAND_RETURNED);
        if (idx == CB_CORE_NONE)
            return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
        enum cb_node_state to = n->seen_busy ? CB_NODE_BUSY : CB_NODE_IDLE;
        if (cbc_transition(core, p->out, n, to, CB_REASON_DEMAND_RETURNED, idx, p->now, err) != 0)
            return -1;
        n->i.drain_started_at = -1;
        n->i.idle_since = to == CB_NODE_IDLE ? p->now : -1;
        n->drain_reason = CB_REASON_NONE;
        p->planned[c * p->nf + n->i.flavor]--;
        (*gap)--;
    }
    return 0;
}

/* 3. damp and boot, per cloud */
static int boot_cloud(struct plan *p, size_t c, struct cb_err *err)
{
    struct cb_core *core = p->core;
    const struct cb_core_config *cfg = &core->cfg;
    const struct core_cloud *cl = &core->clouds[c];
    uint64_t gap = 0;
    for (size_t f = 0; f < cl->c.n_flavors; f++)
        gap += p->planned[c * p->nf + f];
    p->out->clouds[c].gap_nodes = gap;
    if (gap == 0)
        return 0;
    if (p->in->paused)
        return cbc_out_nondecision(p->out, CB_REASON_PAUSED, c, CB_CORE_NONE, CB_CORE_NONE,
                                    NULL, gap) == 0 ? 0
               : cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
    if (cancel_drains(p, c, &gap, err) != 0)
        return -1;
    if (gap == 0)
        return 0;
    double r = cfg->ramp_fraction * (double)gap;
    uint64_t want = (uint64_t)r;
    if ((double)want < r)
        want++;
    if (want < cfg->ramp_floor)
        want = cfg->ramp_floor;
    if (want > gap)
        want = gap;
    int rc = 0;
    if (want < gap)
        rc |= cbc_out_nondecision(p->out, CB_REASON_RAMP, c, CB_CORE_NONE, CB_CORE_NONE, NULL,
                                   gap - want);
    if (cl->c.max_in_flight > 0) {
        uint64_t room = cl->c.max_in_flight > p->rooms[c].in_flight
                            ? cl->c.max_in_flight - p->rooms[c].in_flight : 0;
        if (want > room) {
            rc |= cbc_out_nondecision(p->out, CB_REASON_IN_FLIGHT_CAP, c, CB_CORE_NONE,
                                       CB_CORE_NONE, NULL, want - room);
            want = room;
        }
    }
    uint64_t per_cycle = cl->c.max_boot_per_cycle > 0 && cl->c.max_boot_per_cycle < CB_CORE_BOOT_LIMIT
                             ? cl->c.max_boot_per_cycle : CB_CORE_BOOT_LIMIT;
    if (want > per_cycle) {
        rc |= cbc_out_nondecision(p->out, CB_REASON_BOOT_PER_CYCLE, c, CB_CORE_NONE,
                                   CB_CORE_NONE, NULL, want - per_cycle);
        want = per_cycle;
    }
    if (rc != 0)
        return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
    /* Largest planned flavor first, then flavor order. */
    while (want > 0) {
        size_t best = CB_CORE_NONE;
        for (size_t f = 0; f < cl->c.n_flavors; f++) {
            uint64_t v = p->planned[c * p->nf + f];
            if (v > 0 && (best == CB_CORE_NONE || v > p->planned[c * p->nf + best]))
                best = f;
        }
        if (best == CB_CORE_NONE)
            break;
        uint64_t n = min_u64(want, p->planned[c * p->nf + best]);
        if (n > UINT32_MAX)
            n = UINT32_MAX;
        p->planned[c * p->nf + best] = 0;
        want -= n;
        if (boot_batch(p, c, best, n, err) != 0)
            return -1;
    }
    return 0;
}

int cbc_plan(struct cb_core *core, const struct cb_core_input *in, struct cb_core_output *out,
              struct cb_err *err)
{
    const struct cb_demand *d = in->demand;
    if (core->n_clouds == 0)
        return 0;
    size_t n_shapes = d != NULL ? d->n : 0;
    struct plan p = { .core = core, .in = in, .out = out, .now = in->now };
    for (size_t c = 0; c < core->n_clouds; c++)
        if (core->clouds[c].c.n_flavors > p.nf)
            p.nf = core->clouds[c].c.n_flavors;
    size_t nc = core->n_clouds;
    p.planned = calloc(nc * p.nf, sizeof *p.planned);
    p.inflight_cf = calloc(nc * p.nf, sizeof *p.inflight_cf);
    p.holes = calloc(nc, sizeof *p.holes);
    p.rooms = calloc(nc, sizeof *p.rooms);
    p.bins = calloc(nc * MAX_OPEN_BINS, sizeof *p.bins);
    p.n_bins = calloc(nc, sizeof *p.n_bins);
    p.held = calloc(nc * CB_REASON__COUNT, sizeof *p.held);
    struct skey *order = malloc((n_shapes ? n_shapes : 1) * sizeof *order);
    int rc = -1;
    if (!p.planned || !p.inflight_cf || !p.holes || !p.rooms || !p.bins || !p.n_bins || !p.held ||
        !order) {
        cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
        goto done;
    }
    count_capacity(&p);
    for (size_t c = 0; c < nc; c++) {
        const struct core_cloud *cl = &core->clouds[c];
        p.min_cpus[c] = UINT64_MAX;
        p.min_cost[c] = -1;
        for (size_t f = 0; f < cl->c.n_flavors; f++) {
            if (cl->flavors[f].cpus < p.min_cpus[c])
                p.min_cpus[c] = cl->flavors[f].cpus;
            if (p.min_cost[c] < 0 || cl->flavors[f].cost_per_hour < p.min_cost[c])
                p.min_cost[c] = cl->flavors[f].cost_per_hour;
        }
    }
    cb_cloud_mask known = nc >= 64 ? ~(cb_cloud_mask)0 : (((cb_cloud_mask)1 << nc) - 1);
    size_t n = 0;
    for (size_t i = 0; i < n_shapes; i++) {
        const struct cb_job_shape *s = &d->shapes[i];
        if (s->count == 0)
            continue;
        if (s->cpus == 0 || (s->clouds & known) == 0) {
            /* A shape asking for no cpus is malformed; one no configured cloud
             * may serve cannot be helped by booting. */
            out->unserved_jobs += s->count;
            if (cbc_out_nondecision(out, s->cpus == 0 ? CB_REASON_NO_FITTING_FLAVOR
                                                      : CB_REASON_NO_ELIGIBLE_CLOUD,
                                     CB_CORE_NONE, CB_CORE_NONE, i, NULL, s->count) != 0) {
                cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
                goto done;
            }
            continue;
        }
        order[n++] = (struct skey){ s->memory_mb, s->disk_kb, s->cpus, i };
    }
    qsort(order, n, sizeof *order, cmp_shape);
    for (size_t k = 0; k < n; k++) {
        const struct cb_job_shape *s = &d->shapes[order[k].idx];
        uint64_t left = use_existing(&p, s, s->count);
        if (left > 0)
            left = use_bins(&p, s, left);
        if (left > 0 && plan_new(&p, order[k].idx, s, left) != 0) {
            cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
            goto done;
        }
    }
    /* Limits that held jobs back, one entry per (cloud, reason): a queue of
     * a million distinct shapes must not become a million explanations. */
    for (size_t o = 0; o < nc; o++) {
        size_t c = core->cloud_order[o];
        for (unsigned r = 0; r < CB_REASON__COUNT; r++)
            if (p.held[c * CB_REASON__COUNT + r] > 0 &&
                cbc_out_nondecision(out, (enum cb_core_reason)r, c, CB_CORE_NONE, CB_CORE_NONE,
                                     NULL, p.held[c * CB_REASON__COUNT + r]) != 0) {
                cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
                goto done;
            }
    }
    for (size_t c = 0; c < nc; c++)
        if (boot_cloud(&p, c, err) != 0)
            goto done;
    rc = 0;
done:
    free(p.planned);
    free(p.inflight_cf);
    free(p.holes);
    free(p.rooms);
    free(p.bins);
    free(p.n_bins);
    free(p.held);
    free(order);
    return rc;
}
