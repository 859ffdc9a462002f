/* Property tests of the decision core over random observation sequences.
 *
 * A small world model (clouds that accept, refuse, lose or black-hole boots;
 * nodes that join late or never, run jobs, get preempted; a pool snapshot
 * that is sometimes partial, keeps ads of dead VMs or misses an ad; listings
 * that are sometimes stale or missing) is driven by a seeded PRNG. Two cores get the
 * same inputs in lockstep. After every step the test checks:
 *   - no node the world shows running a job is terminated, unless it has
 *     been draining for drain_timeout, its instance is in error, or the
 *     operator asked for a forced terminate of that very node;
 *   - operator requests (drain, terminate, terminate --force, for live,
 *     gone and unknown nodes) are honoured: a node asked out is never
 *     un-drained, never counted as capacity, and its marks survive a
 *     restart of both cores from their node tables (as from the ledger);
 *   - no max_nodes / max_cores / max_in_flight / max_boot_per_cycle or
 *     hour budget (per cloud and global) is exceeded;
 *   - capacity is never counted twice (each node at most once, never more
 *     cpus than the nodes have) and nothing is booted while paused;
 *   - every action, record and non-decision carries a reason; records name
 *     real actions and legal transitions; batch ids are [a-z0-9-], <= 48;
 *   - both cores produce byte-identical outputs (determinism);
 * and at the end, with the queue empty and complete observations, every VM
 * is given back (nothing leaks).
 */
#include "core/core.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1767225600) /* 2026-01-01 */
#define NCLOUD 3
#define MAXW 4096

/* xorshift64*: small, seeded, reproducible. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
    return n ? rnd(s) % n : 0;
}

static bool chance(uint64_t *s, unsigned percent)
{
    return below(s, 100) < percent;
}

enum wphase { W_PENDING, W_RUNNING, W_JOINED, W_DEAD };

struct wnode {
    char node_id[CB_NAME_MAX];
    char inst[CB_ID_MAX];
    char batch[CB_CORE_BATCH_ID_MAX];
    size_t cloud;
    unsigned flavor;
    enum wphase phase;
    int64_t run_at, join_at, busy_until, dead_at, first_term_at;
    bool blackhole, error, busy, draining, preempted, in_pool;
    bool op_force;              /* the operator asked for a forced terminate */
    uint32_t busy_cpus;
};

struct world {
    uint64_t seed;
    int64_t now;
    struct cb_core_flavor flavors[NCLOUD][3];
    struct cb_core_cloud clouds[NCLOUD];
    struct cb_core_config cfg;
    struct cb_core *a, *b;
    struct wnode nodes[MAXW];
    size_t n;
    struct cb_core_event ev[MAXW];
    size_t n_ev;
    struct cb_core_output out_a, out_b;
    uint64_t steps, actions, terminates, boots;
    uint64_t op_requests, op_actions, restarts, forced_busy;
};

static void setup_world(struct world *w, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    w->seed = seed * 2654435761u + 1;
    w->now = T0;
    static const struct { const char *n; uint32_t c; uint64_t m; double cost; } fl[3] = {
        { "s", 2, 4096, 0.1 }, { "m", 4, 8192, 0.25 }, { "l", 8, 16384, 0.4 },
    };
    for (size_t c = 0; c < NCLOUD; c++) {
        struct cb_core_cloud *cl = &w->clouds[c];
        snprintf(cl->name, sizeof cl->name, "cloud%zu", c);
        snprintf(cl->image, sizeof cl->image, "img%zu", c);
        cl->enabled = c != 2 || chance(&w->seed, 50);
        cl->priority = (int)below(&w->seed, 3);
        cl->max_nodes = (uint32_t)(5 + below(&w->seed, 20));
        cl->max_cores = chance(&w->seed, 50) ? (uint32_t)(16 + below(&w->seed, 100)) : 0;
        cl->max_in_flight = chance(&w->seed, 70) ? (uint32_t)(1 + below(&w->seed, 8)) : 0;
        cl->max_boot_per_cycle = chance(&w->seed, 50) ? (uint32_t)(1 + below(&w->seed, 4)) : 0;
        cl->budget_per_hour = chance(&w->seed, 40) ? 0.5 + (double)below(&w->seed, 40) / 10 : 0;
        cl->budget_per_month = chance(&w->seed, 20) ? 20 + (double)below(&w->seed, 200) : 0;
        cl->spot = chance(&w->seed, 40);
        cl->billing = chance(&w->seed, 30) ? CB_CORE_BILLING_PER_HOUR : CB_CORE_BILLING_PER_SECOND;
        cl->n_flavors = 1 + below(&w->seed, 3);
        for (size_t f = 0; f < cl->n_flavors; f++) {
            struct cb_core_flavor *x = &w->flavors[c][f];
            snprintf(x->name, sizeof x->name, "%s", fl[f].n);
            x->cpus = fl[f].c;
            x->memory_mb = fl[f].m;
            x->disk_gb = 50;
            x->cost_per_hour = fl[f].cost * (1 + (double)c / 10);
        }
        cl->flavors = w->flavors[c];
    }
    cb_core_config_defaults(&w->cfg);
    w->cfg.clouds = w->clouds;
    w->cfg.n_clouds = NCLOUD;
    w->cfg.ramp_fraction = chance(&w->seed, 50) ? 1.0 : 0.34;
    w->cfg.idle_timeout = chance(&w->seed, 50) ? 0 : 300;
    w->cfg.drain_timeout = 1800;
    w->cfg.max_lifetime = chance(&w->seed, 30) ? 7200 : 0;
    w->cfg.budget_per_hour = chance(&w->seed, 30) ? 2 + (double)below(&w->seed, 30) / 10 : 0;
    w->cfg.budget_per_month = chance(&w->seed, 20) ? 30 + (double)below(&w->seed, 100) : 0;
    w->cfg.bootstrap_ssh = chance(&w->seed, 80);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(cb_core_new(&w->a, &w->cfg, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cb_core_new(&w->b, &w->cfg, &err), 0);
}

static struct wnode *wfind(struct world *w, const char *node_id)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->nodes[i].node_id, node_id) == 0)
            return &w->nodes[i];
    return NULL;
}

static struct cb_core_event *push_event(struct world *w, enum cb_core_event_kind k,
                                        const char *node, enum cb_errcode e)
{
    ck_assert_uint_lt(w->n_ev, MAXW);
    struct cb_core_event *ev = &w->ev[w->n_ev++];
    memset(ev, 0, sizeof *ev);
    ev->kind = k;
    snprintf(ev->node_id, sizeof ev->node_id, "%s", node);
    ev->error = e;
    return ev;
}

/* The world carries out the actions of the last output. */
static void act(struct world *w, const struct cb_core_output *out, bool drain_phase)
{
    static const enum cb_errcode boot_errors[] = {
        CB_ERR_QUOTA, CB_ERR_THROTTLED, CB_ERR_TRANSIENT, CB_ERR_TIMEOUT, CB_ERR_AUTH,
    };
    for (size_t i = 0; i < out->n_actions; i++) {
        const struct cb_core_action *a = &out->actions[i];
        struct wnode *n = a->node_id[0] ? wfind(w, a->node_id) : NULL;
        switch (a->kind) {
        case CB_ACTION_BOOT:
            if (!drain_phase && chance(&w->seed, 10)) {
                struct cb_core_event *ev =
                    push_event(w, CB_EVENT_BOOT_FAILED, "", boot_errors[below(&w->seed, 5)]);
                snprintf(ev->batch_id, sizeof ev->batch_id, "%s", a->batch_id);
                if (ev->error != CB_ERR_TIMEOUT)
                    break;
                if (chance(&w->seed, 50))
                    break; /* the timed-out call never reached the cloud */
            }
            for (uint32_t k = 0; k < a->count && w->n < MAXW; k++) {
                struct wnode *x = &w->nodes[w->n++];
                memset(x, 0, sizeof *x);
                char id[CB_NAME_MAX];
                snprintf(id, sizeof id, "%s-%u", a->batch_id, k);
                snprintf(x->node_id, sizeof x->node_id, "%s", id);
                snprintf(x->inst, sizeof x->inst, "i-%s", id);
                snprintf(x->batch, sizeof x->batch, "%s", a->batch_id);
                x->cloud = a->cloud;
                x->flavor = a->flavor;
                x->phase = W_PENDING;
                x->run_at = w->now + 20 + (int64_t)below(&w->seed, drain_phase ? 100 : 700);
                x->join_at = x->run_at + 30 + (int64_t)below(&w->seed, 300);
                x->blackhole = !drain_phase && chance(&w->seed, 8);
                x->error = !drain_phase && chance(&w->seed, 3);
                if (chance(&w->seed, 85))
                    snprintf(push_event(w, CB_EVENT_BOOT_ACCEPTED, x->node_id, CB_OK)->instance_id,
                             CB_ID_MAX, "%s", x->inst);
            }
            break;
        case CB_ACTION_BOOTSTRAP:
            if (n != NULL)
                push_event(w, chance(&w->seed, 90) || drain_phase ? CB_EVENT_BOOTSTRAP_OK
                                                                   : CB_EVENT_BOOTSTRAP_FAILED,
                           a->node_id, CB_OK);
            break;
        case CB_ACTION_DRAIN:
            if (n != NULL && (drain_phase || chance(&w->seed, 95))) {
                n->draining = true;
                push_event(w, CB_EVENT_DRAIN_STARTED, a->node_id, CB_OK);
            } else {
                push_event(w, CB_EVENT_DRAIN_FAILED, a->node_id, CB_ERR_TRANSIENT);
            }
            break;
        case CB_ACTION_CANCEL_DRAIN:
            if (n != NULL)
                n->draining = false;
            push_event(w, CB_EVENT_CANCEL_DRAIN_DONE, a->node_id, CB_OK);
            break;
        case CB_ACTION_TERMINATE:
            if (n != NULL && n->first_term_at == 0)
                n->first_term_at = w->now;
            if (!drain_phase && chance(&w->seed, 5)) {
                push_event(w, CB_EVENT_TERMINATE_FAILED, a->node_id, CB_ERR_TRANSIENT);
                break;
            }
            if (n != NULL && n->phase != W_DEAD) {
                n->phase = W_DEAD;
                n->dead_at = w->now;
            }
            push_event(w, CB_EVENT_TERMINATE_DONE, a->node_id, CB_OK);
            break;
        case CB_ACTION_ADOPT:
        default:
            break;
        }
    }
}

/* Time passes in the world. */
static void evolve(struct world *w, bool drain_phase)
{
    for (size_t i = 0; i < w->n; i++) {
        struct wnode *x = &w->nodes[i];
        if (x->phase == W_PENDING && w->now >= x->run_at)
            x->phase = W_RUNNING;
        if (x->phase == W_RUNNING && !x->blackhole && !x->error && w->now >= x->join_at)
            x->phase = W_JOINED;
        if (x->phase != W_JOINED)
            continue;
        if (x->busy && w->now >= x->busy_until)
            x->busy = false;
        if (!x->busy && !x->draining && !drain_phase && chance(&w->seed, 30)) {
            x->busy = true;
            x->busy_until = w->now + 60 + (int64_t)below(&w->seed, 4000);
            x->busy_cpus = 1 + (uint32_t)below(&w->seed, w->flavors[x->cloud][x->flavor].cpus);
        }
        if (w->clouds[x->cloud].spot && !x->preempted && chance(&w->seed, 1))
            x->preempted = true;
    }
}

struct observed {
    struct cb_demand demand;
    struct cb_supply supply;
    struct cb_instance_list lists[NCLOUD];
    struct cb_core_listing listings[NCLOUD];
};

static void observe(struct world *w, struct observed *o, bool drain_phase)
{
    memset(o, 0, sizeof *o);
    if (!drain_phase && !chance(&w->seed, 20)) {
        size_t shapes = below(&w->seed, 6);
        for (size_t s = 0; s < shapes; s++) {
            struct cb_job_shape *j = cb_demand_add(&o->demand);
            static const uint32_t cpus[] = { 1, 1, 2, 4, 8, 64 };
            j->cpus = cpus[below(&w->seed, 6)];
            j->memory_mb = 512 * (1 + below(&w->seed, 8)) * j->cpus;
            j->disk_kb = 1024 * 1024;
            j->count = (uint32_t)below(&w->seed, 40);
            j->clouds = below(&w->seed, 8);
            o->demand.idle_jobs += j->count;
        }
        o->demand.partial = chance(&w->seed, 10);
    }
    bool partial = !drain_phase && chance(&w->seed, 10);
    o->supply.partial = partial;
    for (size_t i = 0; i < w->n; i++) {
        const struct wnode *x = &w->nodes[i];
        bool stale_ad = x->phase == W_DEAD && x->dead_at + 900 > w->now && chance(&w->seed, 50);
        if (x->phase != W_JOINED && !stale_ad)
            continue;
        if (partial && chance(&w->seed, 30))
            continue;
        /* A collector glitch: the ad of a node already in the pool missing
         * from a snapshot that claims to be complete, for one cycle. (A
         * node's very first appearance cannot be told from "not joined yet".) */
        if (!drain_phase && x->in_pool && chance(&w->seed, 2))
            continue;
        struct cb_pool_node *p = cb_supply_add(&o->supply);
        const struct cb_core_flavor *f = &w->flavors[x->cloud][x->flavor];
        snprintf(p->node_id, sizeof p->node_id, "%s", x->node_id);
        snprintf(p->instance_id, sizeof p->instance_id, "%s", x->inst);
        snprintf(p->cloud, sizeof p->cloud, "%s", w->clouds[x->cloud].name);
        p->total_cpus = f->cpus;
        p->total_memory_mb = f->memory_mb;
        bool busy = x->busy && x->phase == W_JOINED;
        p->idle_cpus = busy ? f->cpus - x->busy_cpus : f->cpus;
        p->idle_memory_mb = busy ? f->memory_mb / 2 : f->memory_mb;
        p->idle_disk_kb = f->disk_gb * 1024 * 1024;
        p->busy = busy;
        p->claimed_slots = busy ? 1 : 0;
        p->draining = x->draining;
        p->idle_since = busy ? -1 : w->now - 30;
        p->expected_empty_at = busy ? x->busy_until : -1;
    }
    for (size_t c = 0; c < NCLOUD; c++) {
        unsigned r = (unsigned)below(&w->seed, 100);
        if (!drain_phase && r < 15)
            continue; /* not listed this cycle */
        o->listings[c].instances = &o->lists[c];
        o->listings[c].fresh = drain_phase || r >= 35;
        for (size_t i = 0; i < w->n; i++) {
            const struct wnode *x = &w->nodes[i];
            if (x->cloud != c || (x->phase == W_DEAD && x->dead_at + 120 < w->now))
                continue;
            struct cb_instance *in = cb_instance_list_add(&o->lists[c]);
            snprintf(in->id, sizeof in->id, "%s", x->inst);
            snprintf(in->node_id, sizeof in->node_id, "%s", x->node_id);
            snprintf(in->batch_id, sizeof in->batch_id, "%s", x->batch);
            snprintf(in->flavor, sizeof in->flavor, "%s", w->flavors[c][x->flavor].name);
            in->state = x->phase == W_DEAD      ? CB_INSTANCE_TERMINATED
                        : x->phase == W_PENDING ? CB_INSTANCE_PENDING
                        : x->error              ? CB_INSTANCE_ERROR
                                                : CB_INSTANCE_RUNNING;
            in->preempted = x->preempted;
            snprintf(in->private_ip, sizeof in->private_ip, "127.0.%zu.%zu", c, i % 250 + 1);
            in->launch_time = x->run_at - 20;
        }
    }
}

static void free_observed(struct observed *o)
{
    cb_demand_free(&o->demand);
    cb_supply_free(&o->supply);
    for (size_t c = 0; c < NCLOUD; c++)
        cb_instance_list_free(&o->lists[c]);
}

static bool batch_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 48)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

static void check_output(struct world *w, const struct observed *o, bool paused,
                         const struct cb_core_node_info *before, size_t n_before)
{
    const struct cb_core_output *out = &w->out_a;
    const struct cb_core_config *cfg = &w->cfg;
    uint64_t boots[NCLOUD] = { 0 };
    for (size_t i = 0; i < out->n_actions; i++) {
        const struct cb_core_action *a = &out->actions[i];
        ck_assert_int_ne(a->reason, CB_REASON_NONE);
        ck_assert_str_ne(cb_core_reason_name(a->reason), "unknown");
        ck_assert_uint_lt(a->cloud, NCLOUD);
        w->actions++;
        if (a->kind == CB_ACTION_BOOT) {
            ck_assert(!paused);
            ck_assert(batch_id_ok(a->batch_id));
            ck_assert_uint_gt(a->count, 0);
            boots[a->cloud] += a->count;
            w->boots += a->count;
            size_t intents = 0, created = 0;
            for (size_t r = 0; r < out->n_records; r++) {
                if (out->records[r].action != i)
                    continue;
                intents += out->records[r].kind == CB_RECORD_BOOT_INTENT;
                created += out->records[r].kind == CB_RECORD_NODE_CREATED;
            }
            ck_assert_uint_eq(intents, 1);
            ck_assert_uint_eq(created, a->count);
        }
        if (a->reason == CB_REASON_OPERATOR_DRAIN || a->reason == CB_REASON_OPERATOR_TERMINATE)
            w->op_actions++;
        if (a->kind == CB_ACTION_CANCEL_DRAIN) {
            /* A node the operator asked out is never taken back into service. */
            for (size_t k = 0; k < n_before; k++)
                if (strcmp(before[k].node_id, a->node_id) == 0)
                    ck_assert_msg(!before[k].operator_drain, "operator-held %s un-drained",
                                  a->node_id);
        }
        if (a->kind != CB_ACTION_TERMINATE)
            continue;
        w->terminates++;
        /* THE safety property: a node running a job is not killed. */
        const struct wnode *x = NULL;
        for (size_t k = 0; k < w->n; k++)
            if (strcmp(w->nodes[k].node_id, a->node_id) == 0)
                x = &w->nodes[k];
        if (x == NULL || !(x->phase == W_JOINED && x->busy))
            continue;
        const struct cb_core_node_info *b = NULL;
        for (size_t k = 0; k < n_before; k++)
            if (strcmp(before[k].node_id, a->node_id) == 0)
                b = &before[k];
        /* A terminate that failed before the node joined and took a job
         * is retried only after drain_timeout. */
        bool late_retry = a->reason == CB_REASON_TERMINATE_RETRY && x->first_term_at > 0 &&
                          w->now - x->first_term_at >= cfg->drain_timeout;
        bool forced = a->reason == CB_REASON_OPERATOR_TERMINATE && x->op_force;
        w->forced_busy += forced;
        ck_assert_msg(a->reason == CB_REASON_DRAIN_TIMEOUT ||
                      a->reason == CB_REASON_INSTANCE_ERROR || late_retry || forced,
                      "busy node %s terminated for %s", a->node_id,
                      cb_core_reason_name(a->reason));
        if (a->reason == CB_REASON_DRAIN_TIMEOUT) {
            ck_assert_ptr_nonnull(b);
            ck_assert_int_eq(b->state, CB_NODE_DRAINING);
            ck_assert_int_ge(w->now - b->drain_started_at, cfg->drain_timeout);
        }
    }
    for (size_t r = 0; r < out->n_records; r++) {
        const struct cb_core_record *rec = &out->records[r];
        ck_assert_int_ne(rec->reason, CB_REASON_NONE);
        ck_assert(rec->action == CB_CORE_NONE || rec->action < out->n_actions);
        if (rec->kind == CB_RECORD_TRANSITION)
            ck_assert_msg(cb_node_transition_allowed(rec->from, rec->to), "%s: %s -> %s",
                          rec->node_id, cb_node_state_name(rec->from),
                          cb_node_state_name(rec->to));
    }
    for (size_t d = 0; d < out->n_nondecisions; d++) {
        ck_assert_int_ne(out->nondecisions[d].reason, CB_REASON_NONE);
        ck_assert_str_ne(cb_core_reason_name(out->nondecisions[d].reason), "unknown");
    }
    ck_assert(out->n_actions + out->n_nondecisions > 0);
    /* Caps and budgets. */
    double burn_all = 0;
    for (size_t c = 0; c < NCLOUD; c++) {
        const struct cb_core_cloud *cl = &w->clouds[c];
        const struct cb_core_cloud_stats *st = &out->clouds[c];
        if (cl->max_nodes)
            ck_assert_uint_le(st->nodes_live, cl->max_nodes);
        if (cl->max_cores)
            ck_assert_uint_le(st->cores_live, cl->max_cores);
        if (cl->max_in_flight)
            ck_assert_uint_le(st->nodes_in_flight, cl->max_in_flight);
        if (cl->max_boot_per_cycle)
            ck_assert_uint_le(boots[c], cl->max_boot_per_cycle);
        if (cl->budget_per_hour > 0 && boots[c] > 0)
            ck_assert(st->burn_per_hour <= cl->budget_per_hour + 1e-9);
        /* A boot leaves at least one more hour of the month's budget. */
        if (cl->budget_per_month > 0 && boots[c] > 0)
            ck_assert(st->spent_month + st->burn_per_hour <= cl->budget_per_month + 1e-9);
        if (!cl->enabled)
            ck_assert_uint_eq(boots[c], 0);
        burn_all += st->burn_per_hour;
        /* Capacity counted once per node, never more cpus than the nodes have. */
        uint64_t prior = 0, prior_cpus = 0;
        for (size_t k = 0; k < n_before; k++) {
            if (before[k].cloud != c || !cb_node_state_is_live(before[k].state))
                continue;
            prior++;
            prior_cpus += w->flavors[c][before[k].flavor].cpus;
        }
        ck_assert_uint_le(st->capacity_nodes, prior + st->nodes_live);
        ck_assert_uint_le(st->capacity_nodes, st->nodes_live + st->nodes_draining + prior);
        ck_assert_uint_le(st->free_cpus_counted, prior_cpus + (uint64_t)st->cores_live);
    }
    /* Exactly: the nodes counted as capacity are those in a counting state
     * (requested .. busy, not preempted) when the plan ran, each once. Derive
     * that set from the table after the decide and the actions that changed
     * it after the plan (boots, cancelled drains, scale-down). */
    int64_t expect[NCLOUD] = { 0 };
    size_t nn = cb_core_node_count(w->a);
    for (size_t i = 0; i < nn; i++) {
        struct cb_core_node_info ni;
        cb_core_node_at(w->a, i, &ni);
        enum cb_node_state st = ni.state;
        if (!ni.preempted && !ni.operator_drain &&
            (st == CB_NODE_REQUESTED || st == CB_NODE_BOOTING ||
                              st == CB_NODE_BOOTSTRAPPING || st == CB_NODE_IDLE ||
                              st == CB_NODE_BUSY))
            expect[ni.cloud]++;
    }
    for (size_t i = 0; i < out->n_actions; i++) {
        const struct cb_core_action *a = &out->actions[i];
        enum cb_core_reason r = a->reason;
        if (a->kind == CB_ACTION_BOOT)
            expect[a->cloud] -= a->count;
        else if (a->kind == CB_ACTION_CANCEL_DRAIN)
            expect[a->cloud]--;
        else if ((a->kind == CB_ACTION_DRAIN || a->kind == CB_ACTION_TERMINATE) &&
                 (r == CB_REASON_IDLE_TIMEOUT || r == CB_REASON_MAX_LIFETIME ||
                  r == CB_REASON_BUDGET_HOUR || r == CB_REASON_BUDGET_MONTH))
            expect[a->cloud]++;
    }
    for (size_t c = 0; c < NCLOUD; c++)
        ck_assert_int_eq((int64_t)out->clouds[c].capacity_nodes, expect[c]);
    uint64_t all_boots = boots[0] + boots[1] + boots[2];
    if (cfg->budget_per_hour > 0 && all_boots > 0)
        ck_assert(burn_all <= cfg->budget_per_hour + 1e-9);
    double spent_all = 0;
    for (size_t c = 0; c < NCLOUD; c++)
        spent_all += out->clouds[c].spent_month;
    if (cfg->budget_per_month > 0 && all_boots > 0)
        ck_assert(spent_all + burn_all <= cfg->budget_per_month + 1e-9);
    /* Node ids in the table are unique. */
    size_t n = cb_core_node_count(w->a);
    for (size_t i = 0; i < n; i++) {
        struct cb_core_node_info ni, nj;
        cb_core_node_at(w->a, i, &ni);
        ck_assert_int_eq(cb_core_node_find(w->a, ni.node_id, &nj), 0);
        ck_assert_str_eq(nj.node_id, ni.node_id);
        ck_assert_uint_eq(nj.cloud, ni.cloud);
    }
    (void)o;
}

static void same_output(const struct cb_core_output *x, const struct cb_core_output *y)
{
    ck_assert_uint_eq(x->n_actions, y->n_actions);
    ck_assert_uint_eq(x->n_records, y->n_records);
    ck_assert_uint_eq(x->n_nondecisions, y->n_nondecisions);
    if (x->n_actions > 0)
        ck_assert_int_eq(memcmp(x->actions, y->actions, x->n_actions * sizeof *x->actions), 0);
    if (x->n_records > 0)
        ck_assert_int_eq(memcmp(x->records, y->records, x->n_records * sizeof *x->records), 0);
    if (x->n_nondecisions > 0)
        ck_assert_int_eq(memcmp(x->nondecisions, y->nondecisions,
                                x->n_nondecisions * sizeof *x->nondecisions), 0);
    ck_assert_int_eq(memcmp(x->clouds, y->clouds, x->n_clouds * sizeof *x->clouds), 0);
    ck_assert_uint_eq(x->unserved_jobs, y->unserved_jobs);
}

/* The operator asks a node out (cloudburstctl drain/terminate [--force]): a
 * node the world knows (live or long gone) or one nobody knows. */
static void operator_request(struct world *w)
{
    bool terminate = chance(&w->seed, 50);
    bool force = terminate && chance(&w->seed, 40);
    const char *id = "nobody-1-0";
    struct wnode *x = NULL;
    size_t live = cb_core_node_count(w->a);
    unsigned pick = (unsigned)below(&w->seed, 100);
    if (live > 0 && pick < 75) {            /* a node the core has */
        struct cb_core_node_info ni;
        cb_core_node_at(w->a, below(&w->seed, live), &ni);
        x = wfind(w, ni.node_id);
    } else if (w->n > 0 && pick < 92) {     /* any node ever booted, often long gone */
        x = &w->nodes[below(&w->seed, w->n)];
    }
    if (x != NULL)
        id = x->node_id;
    struct cb_core_event *ev =
        push_event(w, terminate ? CB_EVENT_OPERATOR_TERMINATE : CB_EVENT_OPERATOR_DRAIN, id, CB_OK);
    ev->force = force;
    if (x != NULL && force)
        x->op_force = true;
    w->op_requests++;
}

/* Crash and restart: both cores are rebuilt from their node tables, which is
 * what the ledger keeps (struct cb_core_node_info), and must come back with
 * the same nodes, operator marks included. */
static void restart(struct world *w)
{
    size_t n = cb_core_node_count(w->a);
    struct cb_core_node_info *keep = calloc(n ? n : 1, sizeof *keep);
    ck_assert_ptr_nonnull(keep);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(cb_core_node_at(w->a, i, &keep[i]), 0);
    uint64_t seq = cb_core_batch_seq(w->a);
    struct cb_err err = CB_ERR_INIT;
    for (int k = 0; k < 2; k++) {
        struct cb_core **c = k == 0 ? &w->a : &w->b;
        cb_core_free(*c);
        *c = NULL;
        ck_assert_int_eq(cb_core_new(c, &w->cfg, &err), 0);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(cb_core_restore_node(*c, &keep[i], &err) == 0, "%s: %s", err.origin,
                          err.msg);
        cb_core_restore_batch_seq(*c, seq);
    }
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i].state == CB_NODE_GONE)
            continue;
        live++;
        struct cb_core_node_info back;
        ck_assert_int_eq(cb_core_node_find(w->a, keep[i].node_id, &back), 0);
        ck_assert_int_eq(back.state, keep[i].state);
        ck_assert_int_eq(back.operator_drain, keep[i].operator_drain);
        ck_assert_int_eq(back.operator_terminate, keep[i].operator_terminate);
        ck_assert_int_eq(back.operator_force, keep[i].operator_force);
    }
    ck_assert_uint_eq(cb_core_node_count(w->a), live);
    free(keep);
    w->restarts++;
}

static void step(struct world *w, bool drain_phase)
{
    w->now += 10 + (int64_t)below(&w->seed, drain_phase ? 120 : 170);
    evolve(w, drain_phase);
    if (!drain_phase && chance(&w->seed, 4))
        operator_request(w);
    if (!drain_phase && chance(&w->seed, 1))
        restart(w);
    struct observed o;
    observe(w, &o, drain_phase);
    bool paused = !drain_phase && chance(&w->seed, 5);
    struct cb_core_input in = {
        .now = w->now, .demand = &o.demand, .supply = &o.supply,
        .listings = o.listings, .n_listings = NCLOUD,
        .events = w->ev, .n_events = w->n_ev, .paused = paused,
    };
    if (!drain_phase && chance(&w->seed, 3))
        in.supply = NULL;
    size_t nb = cb_core_node_count(w->a);
    struct cb_core_node_info *before = calloc(nb ? nb : 1, sizeof *before);
    ck_assert_ptr_nonnull(before);
    for (size_t i = 0; i < nb; i++)
        cb_core_node_at(w->a, i, &before[i]);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(cb_core_decide(w->a, &in, &w->out_a, &err) == 0, "%s: %s", err.origin, err.msg);
    ck_assert_int_eq(cb_core_decide(w->b, &in, &w->out_b, &err), 0);
    same_output(&w->out_a, &w->out_b);
    ck_assert_int_eq(cb_core_next_deadline(w->a), cb_core_next_deadline(w->b));
    ck_assert(cb_core_next_deadline(w->a) > w->now);
    /* Only a snapshot the core received can have shown it a node. */
    for (size_t k = 0; in.supply != NULL && k < o.supply.n; k++) {
        struct wnode *x = wfind(w, o.supply.nodes[k].node_id);
        if (x != NULL)
            x->in_pool = true;
    }
    check_output(w, &o, paused, before, nb);
    free(before);
    w->n_ev = 0;
    act(w, &w->out_a, drain_phase);
    free_observed(&o);
    w->steps++;
}

static void run_seed(uint64_t seed, int steps)
{
    struct world *w = calloc(1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    setup_world(w, seed);
    for (int i = 0; i < steps; i++)
        step(w, false);
    /* Queue empty, complete observations: everything must be given back. */
    for (int i = 0; i < 400 && cb_core_node_count(w->a) > 0; i++)
        step(w, true);
    ck_assert_msg(cb_core_node_count(w->a) == 0, "seed %llu: %zu nodes left",
                  (unsigned long long)seed, cb_core_node_count(w->a));
    for (size_t i = 0; i < w->n; i++)
        ck_assert_msg(w->nodes[i].phase == W_DEAD, "seed %llu: VM %s leaked",
                      (unsigned long long)seed, w->nodes[i].node_id);
    /* The sequence exercised the core, not just an idle loop. */
    ck_assert_uint_gt(w->boots, 0);
    ck_assert_uint_gt(w->terminates, 0);
    ck_assert_uint_ge(w->steps, (uint64_t)steps);
    if (getenv("CB_PROPS_VERBOSE") != NULL)
        fprintf(stderr, "seed %llu: %llu steps, %llu actions, %llu boots, %llu terminates, "
                "%llu operator requests -> %llu actions (%llu forced kills), %llu restarts\n",
                (unsigned long long)seed, (unsigned long long)w->steps,
                (unsigned long long)w->actions, (unsigned long long)w->boots,
                (unsigned long long)w->terminates, (unsigned long long)w->op_requests,
                (unsigned long long)w->op_actions, (unsigned long long)w->forced_busy,
                (unsigned long long)w->restarts);
    cb_core_free(w->a);
    cb_core_free(w->b);
    cb_core_output_free(&w->out_a);
    cb_core_output_free(&w->out_b);
    free(w);
}

START_TEST(test_random_sequences)
{
    /* _i is the loop index: each seed is its own Check test. */
    run_seed((uint64_t)_i + 1, 300);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core-properties");
    TCase *tc = tcase_create("random");
    tcase_set_timeout(tc, 600);
    /* 24 seeds (about 9,000 steps) in `make check`; CB_PROPS_SEEDS=N for a longer soak. */
    /* CB_PROPS_FIRST=K starts at seed K+1 (replays one failing seed quickly). */
    int seeds = 24, first = 0;
    const char *env = getenv("CB_PROPS_SEEDS");
    if (env != NULL && atoi(env) > 0)
        seeds = atoi(env);
    env = getenv("CB_PROPS_FIRST");
    if (env != NULL && atoi(env) > 0)
        first = atoi(env);
    tcase_add_loop_test(tc, test_random_sequences, first, first + seeds);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
