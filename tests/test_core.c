/* Unit tests of the decision core: one or more per policy rule (issue 3 §2).
 *
 * A fixture holds a small world (two clouds, their flavors, the queue, the
 * pool and the listings) that each test drives by hand: boot results, nodes
 * running, joining, becoming busy, time passing. Assertions look at the
 * actions, ledger records and non-decisions the core returns.
 */
#include "core/core.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1700000000) /* 2023-11-14, mid-month */

struct fx {
    struct cb_core_flavor flavors[3][4];
    struct cb_core_cloud clouds[3];
    struct cb_core_config cfg;
    struct cb_core *core;
    struct cb_demand demand;
    struct cb_supply supply;
    struct cb_instance_list lists[3];
    struct cb_core_listing listings[3];
    struct cb_core_event ev[256];
    size_t n_ev;
    struct cb_core_output out;
    int64_t now;
    bool paused;
    bool stale;   /* listings not fresh */
};

static struct fx F;

static void flavor(struct cb_core_flavor *f, const char *name, uint32_t cpus, uint64_t mem,
                   uint64_t disk, double cost)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->cpus = cpus;
    f->memory_mb = mem;
    f->disk_gb = disk;
    f->cost_per_hour = cost;
}

/* Cloud 0 "alpha" (priority 0): small 2c/4G 0.10, large 8c/16G 0.40.
 * Cloud 1 "beta" (priority 1): medium 4c/8G 0.30. Ramp 1 and a fixed idle
 * timeout of 600 s so tests see exact numbers; tests change what they need. */
static void setup(void)
{
    memset(&F, 0, sizeof F);
    flavor(&F.flavors[0][0], "small", 2, 4096, 20, 0.10);
    flavor(&F.flavors[0][1], "large", 8, 16384, 80, 0.40);
    flavor(&F.flavors[1][0], "medium", 4, 8192, 40, 0.30);
    snprintf(F.clouds[0].name, CB_NAME_MAX, "alpha");
    snprintf(F.clouds[1].name, CB_NAME_MAX, "beta");
    for (int c = 0; c < 2; c++) {
        F.clouds[c].enabled = true;
        F.clouds[c].priority = c;
        F.clouds[c].flavors = F.flavors[c];
        snprintf(F.clouds[c].image, CB_ID_MAX, "img-%d", c);
    }
    F.clouds[0].n_flavors = 2;
    F.clouds[1].n_flavors = 1;
    cb_core_config_defaults(&F.cfg);
    F.cfg.clouds = F.clouds;
    F.cfg.n_clouds = 2;
    F.cfg.ramp_fraction = 1.0;
    F.cfg.idle_timeout = 600;
    F.now = T0;
}

/* Small and large cost the same per core and hold one-core jobs with the
 * same waste, so the tie-break (the smaller node) would pick small. Tests
 * about something else that want one large node make large the cheaper per
 * core, so they do not depend on the tie-break. Call before start(). */
static void large_cheaper_per_core(void)
{
    F.flavors[0][0].cost_per_hour = 0.12; /* 0.06 per core vs large's 0.05 */
}

static void teardown(void)
{
    cb_core_free(F.core);
    cb_demand_free(&F.demand);
    cb_supply_free(&F.supply);
    for (int c = 0; c < 3; c++)
        cb_instance_list_free(&F.lists[c]);
    cb_core_output_free(&F.out);
    memset(&F, 0, sizeof F);
}

static void start(void)
{
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(cb_core_new(&F.core, &F.cfg, &err) == 0, "%s: %s", err.origin, err.msg);
}

static void jobs(uint32_t cpus, uint64_t mem, uint32_t count, cb_cloud_mask mask)
{
    struct cb_job_shape *s = cb_demand_add(&F.demand);
    ck_assert_ptr_nonnull(s);
    s->cpus = cpus;
    s->memory_mb = mem;
    s->disk_kb = 1024;
    s->count = count;
    s->clouds = mask;
    F.demand.idle_jobs += count;
}

static void no_jobs(void)
{
    cb_demand_free(&F.demand);
}

static void decide(void)
{
    for (size_t c = 0; c < F.cfg.n_clouds; c++) {
        F.listings[c].instances = &F.lists[c];
        F.listings[c].fresh = !F.stale;
    }
    struct cb_core_input in = {
        .now = F.now, .demand = &F.demand, .supply = &F.supply,
        .listings = F.listings, .n_listings = F.cfg.n_clouds,
        .events = F.ev, .n_events = F.n_ev, .paused = F.paused,
    };
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(cb_core_decide(F.core, &in, &F.out, &err) == 0, "%s: %s", err.origin, err.msg);
    F.n_ev = 0;
    /* Every output carries reasons and refers to real actions. */
    for (size_t i = 0; i < F.out.n_actions; i++)
        ck_assert_int_ne(F.out.actions[i].reason, CB_REASON_NONE);
    for (size_t i = 0; i < F.out.n_records; i++) {
        const struct cb_core_record *r = &F.out.records[i];
        ck_assert_int_ne(r->reason, CB_REASON_NONE);
        ck_assert(r->action == CB_CORE_NONE || r->action < F.out.n_actions);
        if (r->kind == CB_RECORD_TRANSITION)
            ck_assert(cb_node_transition_allowed(r->from, r->to));
    }
    for (size_t i = 0; i < F.out.n_nondecisions; i++)
        ck_assert_int_ne(F.out.nondecisions[i].reason, CB_REASON_NONE);
}

static size_t count_kind(enum cb_core_action_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < F.out.n_actions; i++)
        n += F.out.actions[i].kind == k;
    return n;
}

/* Nodes booted by this output, over all BOOT actions. */
static uint64_t booted(size_t cloud)
{
    uint64_t n = 0;
    for (size_t i = 0; i < F.out.n_actions; i++)
        if (F.out.actions[i].kind == CB_ACTION_BOOT && F.out.actions[i].cloud == cloud)
            n += F.out.actions[i].count;
    return n;
}

static const struct cb_core_action *action(enum cb_core_action_kind k, size_t nth)
{
    for (size_t i = 0; i < F.out.n_actions; i++)
        if (F.out.actions[i].kind == k && nth-- == 0)
            return &F.out.actions[i];
    return NULL;
}

static const struct cb_core_action *action_for(enum cb_core_action_kind k, const char *node)
{
    for (size_t i = 0; i < F.out.n_actions; i++)
        if (F.out.actions[i].kind == k && strcmp(F.out.actions[i].node_id, node) == 0)
            return &F.out.actions[i];
    return NULL;
}

static const struct cb_core_nondecision *nondecision(enum cb_core_reason r)
{
    for (size_t i = 0; i < F.out.n_nondecisions; i++)
        if (F.out.nondecisions[i].reason == r)
            return &F.out.nondecisions[i];
    return NULL;
}

static enum cb_node_state state_of(const char *node)
{
    struct cb_core_node_info ni;
    ck_assert_msg(cb_core_node_find(F.core, node, &ni) == 0, "node %s unknown", node);
    return ni.state;
}

static struct cb_instance *instance(size_t cloud, const char *node)
{
    for (size_t i = 0; i < F.lists[cloud].n; i++)
        if (strcmp(F.lists[cloud].items[i].node_id, node) == 0)
            return &F.lists[cloud].items[i];
    return NULL;
}

static struct cb_pool_node *pool_node(const char *node)
{
    for (size_t i = 0; i < F.supply.n; i++)
        if (strcmp(F.supply.nodes[i].node_id, node) == 0)
            return &F.supply.nodes[i];
    return NULL;
}

/* The cloud accepts every BOOT action of the last output: events + listing. */
static void accept_boots(void)
{
    for (size_t a = 0; a < F.out.n_actions; a++) {
        const struct cb_core_action *ac = &F.out.actions[a];
        if (ac->kind != CB_ACTION_BOOT)
            continue;
        for (uint32_t i = 0; i < ac->count; i++) {
            struct cb_core_event *e = &F.ev[F.n_ev++];
            memset(e, 0, sizeof *e);
            e->kind = CB_EVENT_BOOT_ACCEPTED;
            char id[CB_NAME_MAX];
            snprintf(id, sizeof id, "%s-%u", ac->batch_id, i);
            snprintf(e->node_id, sizeof e->node_id, "%s", id);
            snprintf(e->instance_id, sizeof e->instance_id, "i-%s", id);
            struct cb_instance *in = cb_instance_list_add(&F.lists[ac->cloud]);
            snprintf(in->id, sizeof in->id, "%s", e->instance_id);
            snprintf(in->node_id, sizeof in->node_id, "%s", e->node_id);
            snprintf(in->batch_id, sizeof in->batch_id, "%s", ac->batch_id);
            snprintf(in->flavor, sizeof in->flavor, "%s",
                     F.clouds[ac->cloud].flavors[ac->flavor].name);
            in->state = CB_INSTANCE_PENDING;
            in->launch_time = F.now;
        }
    }
}

static void run_all(void)
{
    for (size_t c = 0; c < F.cfg.n_clouds; c++)
        for (size_t i = 0; i < F.lists[c].n; i++) {
            struct cb_instance *in = &F.lists[c].items[i];
            if (in->state == CB_INSTANCE_PENDING) {
                in->state = CB_INSTANCE_RUNNING;
                snprintf(in->private_ip, sizeof in->private_ip, "127.0.0.%zu", i + 2);
            }
        }
}

static void join_node(const char *node, size_t cloud, unsigned flavor, bool busy)
{
    struct cb_pool_node *p = pool_node(node);
    if (p == NULL) {
        p = cb_supply_add(&F.supply);
        snprintf(p->node_id, sizeof p->node_id, "%s", node);
        snprintf(p->machine, sizeof p->machine, "%s.cloud", node);
        snprintf(p->cloud, sizeof p->cloud, "%s", F.clouds[cloud].name);
    }
    const struct cb_core_flavor *f = &F.clouds[cloud].flavors[flavor];
    p->total_cpus = f->cpus;
    p->total_memory_mb = f->memory_mb;
    p->idle_cpus = busy ? 0 : f->cpus;
    p->idle_memory_mb = busy ? 0 : f->memory_mb;
    p->idle_disk_kb = f->disk_gb * 1024 * 1024;
    p->busy = busy;
    p->claimed_slots = busy ? 1 : 0;
    p->idle_since = busy ? -1 : F.now;
}

static void join_all(bool busy)
{
    for (size_t c = 0; c < F.cfg.n_clouds; c++)
        for (size_t i = 0; i < F.lists[c].n; i++) {
            struct cb_instance *in = &F.lists[c].items[i];
            if (in->state != CB_INSTANCE_RUNNING)
                continue;
            unsigned fl = 0;
            for (unsigned f = 0; f < F.clouds[c].n_flavors; f++)
                if (strcmp(F.clouds[c].flavors[f].name, in->flavor) == 0)
                    fl = f;
            join_node(in->node_id, c, fl, busy);
        }
}

static void event(enum cb_core_event_kind k, const char *node, enum cb_errcode e)
{
    struct cb_core_event *ev = &F.ev[F.n_ev++];
    memset(ev, 0, sizeof *ev);
    ev->kind = k;
    snprintf(ev->node_id, sizeof ev->node_id, "%s", node);
    ev->error = e;
}

static void drop_instance(size_t cloud, const char *node)
{
    struct cb_instance_list *l = &F.lists[cloud];
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].node_id, node) == 0) {
            l->items[i] = l->items[--l->n];
            return;
        }
}

static void drop_pool_node(const char *node)
{
    for (size_t i = 0; i < F.supply.n; i++)
        if (strcmp(F.supply.nodes[i].node_id, node) == 0) {
            F.supply.nodes[i] = F.supply.nodes[--F.supply.n];
            return;
        }
}

static void operator_event(enum cb_core_event_kind k, const char *node, bool force)
{
    event(k, node, CB_OK);
    F.ev[F.n_ev - 1].force = force;
}

static const struct cb_core_record *transition_to(const char *node, enum cb_node_state to)
{
    for (size_t i = 0; i < F.out.n_records; i++) {
        const struct cb_core_record *r = &F.out.records[i];
        if (r->kind == CB_RECORD_TRANSITION && r->to == to && strcmp(r->node_id, node) == 0)
            return r;
    }
    return NULL;
}

static const struct cb_core_nondecision *nondecision_for(enum cb_core_reason r, const char *node)
{
    for (size_t i = 0; i < F.out.n_nondecisions; i++)
        if (F.out.nondecisions[i].reason == r && strcmp(F.out.nondecisions[i].node_id, node) == 0)
            return &F.out.nondecisions[i];
    return NULL;
}

static struct cb_core_node_info info_of(const char *node)
{
    struct cb_core_node_info ni;
    ck_assert_msg(cb_core_node_find(F.core, node, &ni) == 0, "node %s unknown", node);
    return ni;
}

/* Boot `jobs` one-core jobs on alpha and bring the nodes to idle in the pool. */
static void bring_up_idle(uint32_t n_jobs)
{
    jobs(1, 1024, n_jobs, 1);
    decide();
    accept_boots();
    F.now += 60;
    no_jobs();
    decide();
    run_all();
    F.now += 60;
    decide();
    join_all(false);
    F.now += 60;
    decide();
}

/* ---- configuration and names ---- */

START_TEST(test_config_defaults_and_check)
{
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_core_config_check(&F.cfg, &err), 0);
    struct cb_core_config d;
    cb_core_config_defaults(&d);
    ck_assert_str_eq(d.batch_prefix, "cb");
    ck_assert_uint_eq(d.boot_timeout, 600);
    ck_assert_uint_eq(d.breaker_backoff_min, 300);
    ck_assert_uint_eq(d.breaker_backoff_max, 1800);
    ck_assert_uint_eq(d.idle_timeout, 0);
    ck_assert_int_eq(cb_core_config_check(&d, &err), 0);

    F.flavors[1][0].cpus = 0;
    ck_assert_int_eq(cb_core_config_check(&F.cfg, &err), -1);
    ck_assert_str_eq(err.origin, "clouds.[1].flavors.[0]");
    ck_assert_ptr_nonnull(strstr(err.msg, "cpus"));
    F.flavors[1][0].cpus = 4;

    cb_err_clear(&err);
    snprintf(F.clouds[1].name, CB_NAME_MAX, "alpha");
    ck_assert_int_eq(cb_core_config_check(&F.cfg, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate"));
    snprintf(F.clouds[1].name, CB_NAME_MAX, "beta");

    cb_err_clear(&err);
    snprintf(F.cfg.batch_prefix, sizeof F.cfg.batch_prefix, "Bad_Prefix");
    ck_assert_int_eq(cb_core_new(&F.core, &F.cfg, &err), -1);
    ck_assert_ptr_null(F.core);
    ck_assert_str_eq(err.origin, "batch_prefix");
    snprintf(F.cfg.batch_prefix, sizeof F.cfg.batch_prefix, "cb");

    cb_err_clear(&err);
    F.cfg.ramp_fraction = 0;
    ck_assert_int_eq(cb_core_config_check(&F.cfg, &err), -1);
    ck_assert_str_eq(err.origin, "ramp_fraction");
    F.cfg.ramp_fraction = 1;

    cb_err_clear(&err);
    F.cfg.idle_timeout_min = 5000;
    ck_assert_int_eq(cb_core_config_check(&F.cfg, &err), -1);
    ck_assert_str_eq(err.origin, "idle_timeout_min");
}
END_TEST

START_TEST(test_reason_names_stable_and_unique)
{
    for (unsigned i = 0; i < CB_REASON__COUNT; i++) {
        const char *n = cb_core_reason_name((enum cb_core_reason)i);
        ck_assert_str_ne(n, "unknown");
        enum cb_core_reason back;
        ck_assert_int_eq(cb_core_reason_parse(n, &back), 0);
        ck_assert_int_eq(back, i);
        for (const char *p = n; *p; p++)
            ck_assert((*p >= 'a' && *p <= 'z') || *p == '-');
    }
    ck_assert_str_eq(cb_core_reason_name(CB_REASON_NO_FITTING_FLAVOR), "no-fitting-flavor");
    ck_assert_str_eq(cb_core_reason_name(CB_REASON__COUNT), "unknown");
    enum cb_core_reason r;
    ck_assert_int_eq(cb_core_reason_parse("no-such-reason", &r), -1);
    ck_assert_str_eq(cb_core_action_kind_name(CB_ACTION_CANCEL_DRAIN), "cancel-drain");
    ck_assert_str_eq(cb_core_event_kind_name(CB_EVENT_BOOT_FAILED), "boot-failed");
}
END_TEST

/* ---- scale-up ---- */

START_TEST(test_scale_from_zero_least_waste)
{
    /* 6 one-core 2.5 GiB jobs: one large holds all 6 (waste: 2 cpus and
     * 1 GiB of 16), a small holds one (memory-bound, half its cpus and
     * 1.5 GiB of 4 unused): least waste picks large although it is the
     * bigger node at the same cost per core. */
    start();
    jobs(1, 2560, 6, 3);
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOT), 1);
    const struct cb_core_action *b = action(CB_ACTION_BOOT, 0);
    ck_assert_uint_eq(b->cloud, 0);
    ck_assert_str_eq(F.clouds[0].flavors[b->flavor].name, "large");
    ck_assert_uint_eq(b->count, 1);
    ck_assert_int_eq(b->reason, CB_REASON_DEMAND);
    ck_assert_str_eq(b->batch_id, "cb-1");
    /* Ledger: a boot intent and one created node, both before the action. */
    ck_assert_uint_eq(F.out.n_records, 2);
    ck_assert_int_eq(F.out.records[0].kind, CB_RECORD_BOOT_INTENT);
    ck_assert_uint_eq(F.out.records[0].batch_seq, 1);
    ck_assert_int_eq(F.out.records[1].kind, CB_RECORD_NODE_CREATED);
    ck_assert_str_eq(F.out.records[1].node_id, "cb-1-0");
    ck_assert_uint_eq(F.out.records[1].action, 0);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_REQUESTED);
}
END_TEST

START_TEST(test_least_waste_then_cost)
{
    /* 3 x 3-core jobs: small never fits, large takes 2 (waste 25 %), an
     * exact 3-core flavor wastes nothing and wins despite its price. */
    flavor(&F.flavors[0][2], "three", 3, 3072, 20, 0.90);
    F.clouds[0].n_flavors = 3;
    start();
    jobs(3, 1024, 3, 1);
    decide();
    const struct cb_core_action *b = action(CB_ACTION_BOOT, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(F.clouds[0].flavors[b->flavor].name, "three");
    ck_assert_uint_eq(b->count, 3);
}
END_TEST

START_TEST(test_equal_waste_picks_cheaper_per_core)
{
    /* 2-core jobs fit small (1 per node) and large (4 per node) with no
     * cpu waste; large costs 0.05/core-hour, small 0.05 too; make small
     * cheaper and it wins. */
    F.flavors[0][0].cost_per_hour = 0.06; /* 0.03 per core */
    F.flavors[0][0].memory_mb = 2048;
    F.flavors[0][1].memory_mb = 8192;
    start();
    jobs(2, 2048, 4, 1);
    decide();
    const struct cb_core_action *b = action(CB_ACTION_BOOT, 0);
    ck_assert_str_eq(F.clouds[0].flavors[b->flavor].name, "small");
    ck_assert_uint_eq(b->count, 4);
}
END_TEST

START_TEST(test_equal_waste_and_cost_picks_smaller_node)
{
    /* 8 one-core 1 GiB jobs: small (2 per node) and large (8 per node) waste
     * the same share and cost the same per core. The tie goes to the smaller
     * node: 4 small, not 1 large, whatever the configuration order. */
    start();
    jobs(1, 1024, 8, 1);
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOT), 1);
    const struct cb_core_action *b = action(CB_ACTION_BOOT, 0);
    ck_assert_str_eq(F.clouds[0].flavors[b->flavor].name, "small");
    ck_assert_uint_eq(b->count, 4);
    ck_assert_uint_eq(F.out.unserved_jobs, 0);
    cb_core_free(F.core);
    F.core = NULL;
    struct cb_core_flavor t = F.flavors[0][0];
    F.flavors[0][0] = F.flavors[0][1];
    F.flavors[0][1] = t;
    start();
    F.now += 10;
    decide();
    b = action(CB_ACTION_BOOT, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(F.clouds[0].flavors[b->flavor].name, "small");
    ck_assert_uint_eq(b->flavor, 1);
    ck_assert_uint_eq(b->count, 4);
    /* A strictly lower cost per core still beats the tie-break. */
    cb_core_free(F.core);
    F.core = NULL;
    F.flavors[0][1].cost_per_hour = 0.12;   /* small: 0.06 per core */
    start();
    F.now += 10;
    decide();
    b = action(CB_ACTION_BOOT, 0);
    ck_assert_str_eq(F.clouds[0].flavors[b->flavor].name, "large");
    ck_assert_uint_eq(b->count, 1);
}
END_TEST

START_TEST(test_ffd_mixes_shapes_in_planned_nodes)
{
    /* One 6-core job and two 1-core jobs fit one 8-core node together. */
    start();
    jobs(1, 1024, 2, 1);
    jobs(6, 4096, 1, 1);
    decide();
    ck_assert_uint_eq(booted(0), 1);
    ck_assert_str_eq(F.clouds[0].flavors[action(CB_ACTION_BOOT, 0)->flavor].name, "large");
    ck_assert_uint_eq(F.out.unserved_jobs, 0);
}
END_TEST

START_TEST(test_no_fitting_flavor_never_boots)
{
    start();
    jobs(64, 1024, 5, 3);
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOT), 0);
    const struct cb_core_nondecision *d = nondecision(CB_REASON_NO_FITTING_FLAVOR);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->shape, 0);
    ck_assert_uint_eq(d->amount, 5);
    ck_assert_uint_eq(F.out.unserved_jobs, 5);
    /* Memory too large for every flavor is the same. */
    no_jobs();
    jobs(1, 1 << 20, 1, 3);
    F.now += 10;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOT), 0);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_NO_FITTING_FLAVOR));
}
END_TEST

START_TEST(test_cloud_mask_respected)
{
    start();
    jobs(1, 1024, 4, 2);        /* only beta may run them */
    jobs(1, 1024, 0, 1);        /* empty shape: ignored */
    decide();
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_uint_eq(booted(1), 1);
    /* A mask naming no configured cloud. */
    no_jobs();
    jobs(1, 1024, 3, (cb_cloud_mask)1 << 40);
    F.now += 10;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOT), 0);
    ck_assert_uint_eq(nondecision(CB_REASON_NO_ELIGIBLE_CLOUD)->amount, 3);
}
END_TEST

START_TEST(test_priority_then_cost)
{
    F.clouds[1].priority = 0; /* same priority: cheaper per core first */
    F.flavors[1][0].cost_per_hour = 0.04; /* 0.01 per core beats alpha's 0.05 */
    start();
    jobs(1, 1024, 4, 3);
    decide();
    ck_assert_uint_eq(booted(1), 1);
    ck_assert_uint_eq(booted(0), 0);
}
END_TEST

START_TEST(test_max_nodes_spills_to_next_cloud)
{
    F.clouds[0].max_nodes = 2;
    start();
    jobs(8, 16384, 5, 3);       /* only large (alpha) or nothing on beta */
    jobs(4, 8192, 3, 3);
    decide();
    ck_assert_uint_eq(booted(0), 2);
    ck_assert_uint_eq(booted(1), 3);   /* the 4-core jobs spill to beta */
    const struct cb_core_nondecision *d = nondecision(CB_REASON_MAX_NODES);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->cloud, 0);
    ck_assert_uint_eq(F.out.clouds[0].nodes_live, 2);
}
END_TEST

START_TEST(test_max_cores_cap)
{
    F.clouds[0].max_cores = 10;
    F.clouds[1].enabled = false;
    start();
    jobs(2, 2048, 10, 3);
    decide();
    uint64_t cores = 0;
    for (size_t i = 0; i < F.out.n_actions; i++)
        cores += (uint64_t)F.out.actions[i].count *
                 F.clouds[0].flavors[F.out.actions[i].flavor].cpus;
    ck_assert_uint_le(cores, 10);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_MAX_CORES));
    ck_assert_uint_gt(F.out.unserved_jobs, 0);
}
END_TEST

START_TEST(test_ramp_fraction_and_floor)
{
    F.cfg.ramp_fraction = 0.34;
    F.cfg.ramp_floor = 1;
    start();
    jobs(8, 16384, 10, 1);
    decide();
    ck_assert_uint_eq(booted(0), 4);  /* ceil(0.34 * 10) */
    ck_assert_uint_eq(nondecision(CB_REASON_RAMP)->amount, 6);
    ck_assert_uint_eq(F.out.clouds[0].gap_nodes, 10);
    /* Next cycle: the 4 in flight count, the gap is 6, 3 more (ceil 2.04). */
    F.now += 30;
    decide();
    ck_assert_uint_eq(F.out.clouds[0].gap_nodes, 6);
    ck_assert_uint_eq(booted(0), 3);
}
END_TEST

START_TEST(test_in_flight_cap_and_per_cycle)
{
    F.clouds[0].max_in_flight = 3;
    F.clouds[0].max_boot_per_cycle = 2;
    start();
    jobs(8, 16384, 10, 1);
    decide();
    ck_assert_uint_eq(booted(0), 2);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_BOOT_PER_CYCLE));
    F.now += 30;
    decide();
    ck_assert_uint_eq(booted(0), 1);     /* 3 in flight at most */
    ck_assert_ptr_nonnull(nondecision(CB_REASON_IN_FLIGHT_CAP));
    F.now += 30;
    decide();
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_uint_eq(F.out.clouds[0].nodes_in_flight, 3);
    ck_assert_uint_eq(booted(1), 0);     /* the cap throttles; it does not spill */
}
END_TEST

START_TEST(test_in_flight_capacity_counted_once)
{
    large_cheaper_per_core();
    start();
    jobs(1, 1024, 8, 1);
    decide();
    ck_assert_uint_eq(booted(0), 1);
    accept_boots();
    F.now += 30;
    decide();   /* booting: counted as a whole flavor */
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_uint_eq(F.out.clouds[0].capacity_nodes, 1);
    ck_assert_uint_eq(F.out.clouds[0].free_cpus_counted, 8);
    run_all();
    F.now += 30;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOTSTRAP), 1);
    ck_assert_str_eq(action(CB_ACTION_BOOTSTRAP, 0)->address, "127.0.0.2");
    /* Joined and half busy: counted by its free cpus only, never also as in flight. */
    join_all(false);
    struct cb_pool_node *p = &F.supply.nodes[0];
    p->idle_cpus = 4;
    p->busy = true;
    p->claimed_slots = 4;
    F.now += 30;
    no_jobs();
    jobs(1, 1024, 4, 1);        /* 4 left idle: the free 4 cpus cover them */
    decide();
    ck_assert_uint_eq(F.out.clouds[0].capacity_nodes, 1);
    ck_assert_uint_eq(F.out.clouds[0].free_cpus_counted, 4);
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_BUSY);
    /* Five idle: one more node. */
    no_jobs();
    jobs(1, 1024, 5, 1);
    F.now += 30;
    decide();
    ck_assert_uint_eq(booted(0), 1);
}
END_TEST

START_TEST(test_demand_drop_while_booting)
{
    start();
    jobs(8, 16384, 3, 1);
    decide();
    ck_assert_uint_eq(booted(0), 3);
    accept_boots();
    no_jobs();                  /* the jobs ran elsewhere */
    F.now += 60;
    decide();
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0); /* in-flight nodes may join */
    run_all();
    F.now += 60;
    decide();
    join_all(false);
    F.now += 60;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_IDLE);
    F.now += 599;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 0);
    F.now += 1;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 3);
    ck_assert_int_eq(action(CB_ACTION_DRAIN, 0)->reason, CB_REASON_IDLE_TIMEOUT);
    for (size_t i = 0; i < F.supply.n; i++)
        F.supply.nodes[i].draining = true;
    F.now += 60;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 3);
    ck_assert_int_eq(action(CB_ACTION_TERMINATE, 0)->reason, CB_REASON_DRAINED);
    ck_assert_int_eq(state_of("cb-1-2"), CB_NODE_TERMINATING);
    /* Terminate confirmed, then the listing drops them: gone and forgotten. */
    event(CB_EVENT_TERMINATE_DONE, "cb-1-0", CB_OK);
    for (int i = 0; i < 3; i++) {
        char id[32];
        snprintf(id, sizeof id, "cb-1-%d", i);
        drop_instance(0, id);
    }
    F.now += 60;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_GONE);
    F.now += 60;
    decide();
    ck_assert_uint_eq(cb_core_node_count(F.core), 0);
}
END_TEST

START_TEST(test_quota_error_tries_next_flavor_same_cycle)
{
    large_cheaper_per_core();   /* large first, small the fallback */
    start();
    jobs(2, 2048, 4, 3);
    decide();
    const struct cb_core_action *b = action(CB_ACTION_BOOT, 0);
    ck_assert_str_eq(F.clouds[0].flavors[b->flavor].name, "large");
    char batch[CB_CORE_BATCH_ID_MAX];
    snprintf(batch, sizeof batch, "%s", b->batch_id);
    struct cb_core_event *e = &F.ev[F.n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = CB_EVENT_BOOT_FAILED;
    snprintf(e->batch_id, sizeof e->batch_id, "%s", batch);
    e->error = CB_ERR_QUOTA;
    F.now += 30;
    decide();
    /* Same cloud, the other flavor, at once. */
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOT), 1);
    b = action(CB_ACTION_BOOT, 0);
    ck_assert_uint_eq(b->cloud, 0);
    ck_assert_str_eq(F.clouds[0].flavors[b->flavor].name, "small");
    ck_assert_uint_eq(b->count, 4);
    /* The small flavor hits quota too: beta takes over. */
    snprintf(batch, sizeof batch, "%s", b->batch_id);
    e = &F.ev[F.n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = CB_EVENT_BOOT_FAILED;
    snprintf(e->batch_id, sizeof e->batch_id, "%s", batch);
    e->error = CB_ERR_QUOTA;
    F.now += 30;
    decide();
    ck_assert_uint_eq(booted(1), 2);
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_QUOTA));
    ck_assert_uint_eq(nondecision(CB_REASON_QUOTA)->cloud, 0);
    /* After quota_backoff, alpha is tried again for new demand. */
    F.now += 600;
    no_jobs();
    jobs(2, 2048, 12, 3);
    decide();
    ck_assert_uint_gt(booted(0), 0);
}
END_TEST

START_TEST(test_boot_timeout_breaker_backoff)
{
    F.clouds[1].enabled = false;
    start();
    jobs(8, 16384, 1, 1);
    decide();
    ck_assert_uint_eq(booted(0), 1);
    for (int round = 0; round < 3; round++) {
        accept_boots();
        F.now += 10;
        decide();
        ck_assert_uint_eq(booted(0), 0);
        F.now += 600;           /* never runs */
        decide();
        ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 1);
        const struct cb_core_action *t = action(CB_ACTION_TERMINATE, 0);
        ck_assert_int_eq(t->reason, CB_REASON_BOOT_TIMEOUT);
        event(CB_EVENT_TERMINATE_DONE, t->node_id, CB_OK);
        drop_instance(0, t->node_id);
        /* The replacement comes in the same decide until the breaker opens. */
        ck_assert_uint_eq(booted(0), round < 2 ? 1 : 0);
    }
    /* Three consecutive failures: breaker open, no boot, reason given. */
    ck_assert_ptr_nonnull(nondecision(CB_REASON_BREAKER_OPEN));
    ck_assert(F.out.clouds[0].breaker_open);
    int64_t opened = F.now;
    ck_assert_int_eq(cb_core_next_deadline(F.core) <= opened + 300, 1);
    F.now = opened + 299;
    decide();
    ck_assert_uint_eq(booted(0), 0);
    /* Half-open: exactly one probe. */
    F.now = opened + 300;
    no_jobs();
    jobs(8, 16384, 5, 1);
    decide();
    ck_assert_uint_eq(booted(0), 1);
    /* The probe fails too: open again for twice as long. */
    accept_boots();
    F.now += 10;
    decide();
    ck_assert_uint_eq(booted(0), 0);
    F.now += 600;
    decide();
    ck_assert_int_eq(action(CB_ACTION_TERMINATE, 0)->reason, CB_REASON_BOOT_TIMEOUT);
    event(CB_EVENT_TERMINATE_DONE, action(CB_ACTION_TERMINATE, 0)->node_id, CB_OK);
    drop_instance(0, action(CB_ACTION_TERMINATE, 0)->node_id);
    opened = F.now;
    F.now = opened + 599;
    decide();
    ck_assert_uint_eq(booted(0), 0);
    F.now = opened + 600;
    decide();
    ck_assert_uint_eq(booted(0), 1);
}
END_TEST

START_TEST(test_join_timeout_and_bootstrap_failure)
{
    F.clouds[1].enabled = false;
    start();
    jobs(8, 16384, 2, 1);
    decide();
    accept_boots();
    F.now += 30;
    decide();
    run_all();
    F.now += 30;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOTSTRAP), 2);
    event(CB_EVENT_BOOTSTRAP_FAILED, "cb-1-1", CB_ERR_TIMEOUT);
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-1")->reason,
                     CB_REASON_BOOTSTRAP_FAILED);
    event(CB_EVENT_BOOTSTRAP_OK, "cb-1-0", CB_OK);
    F.now += 1200 - 60;
    decide();
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    /* A partial pool snapshot never times a join out. */
    F.supply.partial = true;
    F.now += 60;
    decide();
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    F.supply.partial = false;
    F.now += 1;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_JOIN_TIMEOUT);
}
END_TEST

START_TEST(test_latency_sampled_by_batch_index)
{
    /* One batch of 8: nodes 0..3 join after 100 s, nodes 4..7 (the
     * stragglers) after 900 s. The learned break-even comes from the first
     * nodes of the batch by index, not from the last ones to join. */
    F.cfg.idle_timeout = 0;
    F.cfg.idle_timeout_min = 60;
    F.clouds[1].enabled = false;
    start();
    jobs(8, 16384, 8, 1);
    decide();
    ck_assert_uint_eq(booted(0), 8);
    accept_boots();
    run_all();
    F.now += 100;
    decide();
    for (int i = 0; i < 4; i++) {
        char id[32];
        snprintf(id, sizeof id, "cb-1-%d", i);
        join_node(id, 0, 1, true);
    }
    decide();
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 0), 100);
    F.now += 800;
    for (int i = 4; i < 8; i++) {
        char id[32];
        snprintf(id, sizeof id, "cb-1-%d", i);
        join_node(id, 0, 1, true);
    }
    decide();
    ck_assert_int_eq(state_of("cb-1-7"), CB_NODE_BUSY);
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 0), 100); /* not 900 */
}
END_TEST

START_TEST(test_randomised_idle_timeout)
{
    /* Learned break-even B = 1000 s: each idle node waits its own T in
     * [idle_timeout_min, B], drawn so that the mean is about B / (e - 1). */
    F.cfg.idle_timeout = 0;
    F.cfg.idle_timeout_min = 120;
    F.cfg.idle_timeout_max = 1800;
    F.clouds[1].enabled = false;
    F.flavors[0][0].cost_per_hour = 0.12;
    start();
    struct cb_err err = CB_ERR_INIT;
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(cb_core_restore_latency(F.core, 0, 1000, &err), 0);
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 0), 1000);
    enum { N = 200 };
    struct cb_core_node_info ni;
    for (int i = 0; i < N; i++) {
        memset(&ni, 0, sizeof ni);
        snprintf(ni.batch_id, sizeof ni.batch_id, "cb-%d", i + 1);
        snprintf(ni.node_id, sizeof ni.node_id, "cb-%d-0", i + 1);
        snprintf(ni.instance_id, sizeof ni.instance_id, "i-%d", i);
        ni.flavor = 1;
        ni.state = CB_NODE_IDLE;
        ni.requested_at = ni.booted_at = ni.running_at = ni.joined_at = T0 - 100;
        ni.state_since = ni.idle_since = T0;
        ni.drain_started_at = -1;
        ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), 0);
        struct cb_instance *in = cb_instance_list_add(&F.lists[0]);
        snprintf(in->id, sizeof in->id, "i-%d", i);
        snprintf(in->node_id, sizeof in->node_id, "cb-%d-0", i + 1);
        in->state = CB_INSTANCE_RUNNING;
        join_node(ni.node_id, 0, 1, false);
        F.supply.nodes[F.supply.n - 1].idle_since = T0;
    }
    int64_t at[N];
    for (int i = 0; i < N; i++)
        at[i] = -1;
    size_t drained = 0, cycles = 0;
    for (F.now = T0; F.now <= T0 + 1000 && drained < N; F.now += 10, cycles++) {
        decide();
        for (size_t a = 0; a < F.out.n_actions; a++) {
            const struct cb_core_action *d = &F.out.actions[a];
            if (d->kind != CB_ACTION_DRAIN)
                continue;
            ck_assert_int_eq(d->reason, CB_REASON_IDLE_TIMEOUT);
            int k = atoi(d->node_id + 3) - 1;
            ck_assert_int_eq(at[k], -1);
            at[k] = F.now - T0;
            drained++;
        }
    }
    ck_assert_uint_eq(drained, N);  /* nobody waits longer than B */
    double sum = 0;
    int64_t lo = INT64_MAX, hi = 0;
    size_t at_floor = 0;
    for (int i = 0; i < N; i++) {
        ck_assert_int_ge(at[i], 120);
        ck_assert_int_le(at[i], 1000);
        sum += (double)at[i];
        lo = at[i] < lo ? at[i] : lo;
        hi = at[i] > hi ? at[i] : hi;
        at_floor += at[i] == 120;
    }
    /* Mean B/(e-1) = 582 s, plus a little for draws below the floor and the
     * 10 s steps; draws spread over the whole range. */
    ck_assert_msg(sum / N > 520 && sum / N < 680, "mean idle timeout %.0f", sum / N);
    ck_assert_int_le(lo, 150);
    ck_assert_int_ge(hi, 950);
    ck_assert_uint_gt(at_floor, 0);
    ck_assert_uint_lt(at_floor, N / 4);
    /* The draw is the node's own: a second core restored alike agrees. */
    cb_core_free(F.core);
    F.core = NULL;
    start();
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(cb_core_restore_latency(F.core, 0, 1000, &err), 0);
    memset(&ni, 0, sizeof ni);
    snprintf(ni.batch_id, sizeof ni.batch_id, "cb-7");
    snprintf(ni.node_id, sizeof ni.node_id, "cb-7-0");
    ni.flavor = 1;
    ni.state = CB_NODE_IDLE;
    ni.requested_at = ni.booted_at = ni.running_at = ni.joined_at = T0 - 100;
    ni.state_since = ni.idle_since = T0;
    ni.drain_started_at = -1;
    ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), 0);
    F.now = T0 + at[6] - 10;
    decide();
    ck_assert_ptr_null(action_for(CB_ACTION_DRAIN, "cb-7-0"));
    ck_assert_int_eq(cb_core_next_deadline(F.core) <= T0 + at[6], 1);
    F.now = T0 + at[6];
    decide();
    ck_assert_ptr_nonnull(action_for(CB_ACTION_DRAIN, "cb-7-0"));
    (void)cycles;
}
END_TEST

START_TEST(test_learned_idle_timeout)
{
    F.cfg.idle_timeout = 0;
    F.cfg.idle_timeout_min = 300;
    F.cfg.idle_timeout_max = 1800;
    F.cfg.idle_timeout_prior = 600;
    start();
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 0), 600);
    struct cb_err err = CB_ERR_INIT;
    int64_t lat[] = { 400, 900, 1000, 700, 800 };
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(cb_core_restore_latency(F.core, 0, lat[i], &err), 0);
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 0), 800); /* median */
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 1), 600); /* no samples on beta */
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(cb_core_restore_latency(F.core, 1, 20, &err), 0);
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 1), 300); /* floor */
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(cb_core_restore_latency(F.core, 1, 5000, &err), 0);
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 1), 1800); /* ceiling */
    ck_assert_int_eq(cb_core_restore_latency(F.core, 9, 5, &err), -1);
    /* Observed: a node that joins 180 s after its request adds a sample. */
    cb_core_free(F.core);
    F.core = NULL;
    F.cfg.idle_timeout_min = 60;
    start();
    bring_up_idle(8);           /* requested at T0, joined at T0 + 180 */
    ck_assert_uint_eq(cb_core_idle_timeout(F.core, 0), 180);
}
END_TEST

START_TEST(test_busy_node_never_terminated_before_drain_timeout)
{
    F.cfg.max_lifetime = 3600;
    F.cfg.drain_timeout = 7200;
    start();
    bring_up_idle(8);
    join_all(true);
    F.now += 60;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_BUSY);
    F.now = T0 + 3600 + 60;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_MAX_LIFETIME);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    int64_t drained = F.now;
    for (int64_t t = drained + 600; t < drained + 7200; t += 600) {
        F.now = t;
        decide();
        ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
        ck_assert_ptr_nonnull(nondecision(CB_REASON_DRAIN_WAIT));
    }
    F.now = drained + 7200;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason,
                     CB_REASON_DRAIN_TIMEOUT);
}
END_TEST

START_TEST(test_partial_observation_blocks_scale_down)
{
    start();
    bring_up_idle(8);
    F.now += 3600;
    F.supply.partial = true;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 0);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_PARTIAL_OBSERVATION));
    F.supply.partial = false;
    F.demand.partial = true;
    F.now += 10;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 0);
    F.demand.partial = false;
    /* A node missing from a partial snapshot is not lost either. */
    drop_pool_node("cb-1-0");
    F.supply.partial = true;
    F.now += 3600;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    /* Nor does a listing that is not fresh make it vanish. */
    drop_instance(0, "cb-1-0");
    F.stale = true;
    F.now += 3600;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_IDLE);
    F.stale = false;
    F.supply.partial = false;
    F.now += 10;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_GONE);
}
END_TEST

START_TEST(test_collector_ad_outlives_vm)
{
    start();
    bring_up_idle(8);
    /* The VM disappears from a fresh listing; its stale ad stays. */
    drop_instance(0, "cb-1-0");
    F.now += 600;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_GONE);
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    /* The leftover ad does not count as capacity nor resurrect the node. */
    jobs(1, 1024, 8, 1);
    F.now += 10;
    decide();
    ck_assert_uint_eq(booted(0), 1);
}
END_TEST

START_TEST(test_lost_node_terminated)
{
    start();
    bring_up_idle(8);
    drop_pool_node("cb-1-0");
    F.now += 599;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    F.now += 600;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_LOST);
}
END_TEST

START_TEST(test_unknown_instances_adopted_or_terminated)
{
    start();
    struct cb_instance *in = cb_instance_list_add(&F.lists[0]);
    snprintf(in->id, sizeof in->id, "i-stray");
    snprintf(in->node_id, sizeof in->node_id, "old-7-0");
    snprintf(in->flavor, sizeof in->flavor, "large");
    in->state = CB_INSTANCE_RUNNING;
    in = cb_instance_list_add(&F.lists[0]);
    snprintf(in->id, sizeof in->id, "i-orphan");
    snprintf(in->node_id, sizeof in->node_id, "old-8-0");
    in->state = CB_INSTANCE_RUNNING;
    join_node("old-7-0", 0, 1, true);
    /* A stale listing decides nothing about unknown instances. */
    F.stale = true;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_ADOPT) + count_kind(CB_ACTION_TERMINATE), 0);
    F.stale = false;
    F.now += 10;
    decide();
    const struct cb_core_action *a = action_for(CB_ACTION_ADOPT, "old-7-0");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->instance_id, "i-stray");
    ck_assert_int_eq(state_of("old-7-0"), CB_NODE_BUSY);
    a = action_for(CB_ACTION_TERMINATE, "old-8-0");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->reason, CB_REASON_UNKNOWN_INSTANCE);
    ck_assert_str_eq(a->instance_id, "i-orphan");
    /* Each comes with its ledger record tied to the action. */
    size_t created = 0;
    for (size_t i = 0; i < F.out.n_records; i++)
        created += F.out.records[i].kind == CB_RECORD_NODE_CREATED;
    ck_assert_uint_eq(created, 2);
}
END_TEST

START_TEST(test_preempted_stops_counting_at_once)
{
    F.clouds[0].spot = true;
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    jobs(1, 1024, 8, 1);
    join_all(true);
    F.now += 60;
    decide();
    ck_assert_uint_eq(booted(0), 1);    /* the busy node has no room: one more */
    accept_boots();
    no_jobs();
    jobs(1, 1024, 8, 1);
    instance(0, "cb-1-0")->preempted = true;
    F.now += 10;
    decide();
    /* Busy: drained fast (not killed by us); its capacity no longer counts. */
    const struct cb_core_action *d = action_for(CB_ACTION_DRAIN, "cb-1-0");
    ck_assert_ptr_nonnull(d);
    ck_assert(d->fast);
    ck_assert_int_eq(d->reason, CB_REASON_PREEMPTED);
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    ck_assert_uint_eq(F.out.clouds[0].nodes_joined, 0);
    /* The booting node covers the demand: nothing more. */
    ck_assert_uint_eq(booted(0), 0);
    /* A preemption event for a booting node terminates it. */
    event(CB_EVENT_PREEMPTED, "cb-2-0", CB_OK);
    F.now += 10;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-2-0")->reason, CB_REASON_PREEMPTED);
    ck_assert_uint_eq(booted(0), 1);
}
END_TEST

START_TEST(test_budget_hour_caps_boots)
{
    F.clouds[0].budget_per_hour = 1.0;  /* 2 large at 0.40 */
    F.clouds[1].enabled = false;
    start();
    jobs(8, 16384, 5, 1);
    decide();
    ck_assert_uint_eq(booted(0), 2);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_BUDGET_HOUR));
    ck_assert(F.out.clouds[0].burn_per_hour <= 1.0);
    F.now += 30;
    decide();
    ck_assert_uint_eq(booted(0), 0);
}
END_TEST

START_TEST(test_global_budget_and_month_wind_down)
{
    F.cfg.budget_per_hour = 0.5;
    start();
    jobs(4, 8192, 4, 3);
    decide();
    uint64_t n = booted(0) + booted(1);
    ck_assert_uint_ge(n, 1);
    ck_assert(F.out.clouds[0].burn_per_hour + F.out.clouds[1].burn_per_hour <= 0.5 + 1e-9);
    cb_core_free(F.core);
    F.core = NULL;
    teardown();
    setup();
    F.clouds[0].budget_per_month = 100;
    F.clouds[0].billing = CB_CORE_BILLING_PER_HOUR;
    large_cheaper_per_core();
    start();
    bring_up_idle(16);           /* two large: 0.80 / hour */
    join_all(true);
    F.now += 60;
    decide();
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_core_restore_spend(F.core, 0, F.now, 98.5, &err), 0);
    /* Less than an hour of budget left: no boots. */
    jobs(8, 16384, 4, 1);
    F.now += 60;
    decide();
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_BUDGET_MONTH));
    /* The next billed hour crosses the cap: the cloud winds down, gracefully. */
    F.now = T0 + 60 + 3600;
    decide();
    ck_assert(F.out.clouds[0].spent_month >= 100);
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 2);
    ck_assert_int_eq(action(CB_ACTION_DRAIN, 0)->reason, CB_REASON_BUDGET_MONTH);
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    ck_assert_uint_eq(booted(0), 0);
}
END_TEST

START_TEST(test_cancel_drain_when_demand_returns)
{
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    F.now += 600;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 1);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    jobs(8, 16384, 1, 1);   /* new demand the draining node could serve */
    F.now += 10;
    decide();
    ck_assert_uint_eq(booted(0), 0);
    const struct cb_core_action *a = action_for(CB_ACTION_CANCEL_DRAIN, "cb-1-0");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->reason, CB_REASON_DEMAND_RETURNED);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_IDLE);
}
END_TEST

START_TEST(test_billing_hour_keeps_idle_node)
{
    F.clouds[0].billing = CB_CORE_BILLING_PER_HOUR;
    large_cheaper_per_core();
    start();
    bring_up_idle(8);       /* booted at T0 + 60 (accepted), idle since T0 + 180 */
    F.now = T0 + 180 + 600;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 0);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_BILLING_HOUR));
    int64_t dl = cb_core_next_deadline(F.core);
    ck_assert_int_eq(dl, T0 + 60 + 3600 - 300);
    F.now = dl;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 1);
}
END_TEST

START_TEST(test_paused_no_scale_up)
{
    start();
    F.paused = true;
    jobs(8, 16384, 3, 1);
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_BOOT), 0);
    ck_assert_uint_eq(nondecision(CB_REASON_PAUSED)->amount, 3);
    F.paused = false;
    no_jobs();
    F.now += 10;
    decide();
    ck_assert_ptr_nonnull(nondecision(CB_REASON_NOTHING_TO_DO));
    ck_assert_uint_eq(F.out.n_nondecisions, 1);
}
END_TEST

START_TEST(test_restore_and_batch_ids)
{
    start();
    struct cb_err err = CB_ERR_INIT;
    struct cb_core_node_info ni;
    memset(&ni, 0, sizeof ni);
    snprintf(ni.node_id, sizeof ni.node_id, "cb-41-0");
    snprintf(ni.batch_id, sizeof ni.batch_id, "cb-41");
    snprintf(ni.instance_id, sizeof ni.instance_id, "i-41");
    ni.cloud = 0;
    ni.flavor = 1;
    ni.state = CB_NODE_BUSY;
    ni.requested_at = ni.booted_at = ni.running_at = ni.joined_at = T0 - 1000;
    ni.state_since = T0 - 500;
    ni.idle_since = ni.drain_started_at = -1;
    ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), 0);
    ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    cb_err_clear(&err);
    ni.flavor = 7;
    snprintf(ni.node_id, sizeof ni.node_id, "cb-42-0");
    ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), -1);
    ck_assert_str_eq(err.origin, "node cb-42-0");
    cb_core_restore_batch_seq(F.core, 99);
    ck_assert_uint_eq(cb_core_batch_seq(F.core), 99);
    /* The restored node is in the listing and the pool: nothing happens to it. */
    struct cb_instance *in = cb_instance_list_add(&F.lists[0]);
    snprintf(in->id, sizeof in->id, "i-41");
    snprintf(in->node_id, sizeof in->node_id, "cb-41-0");
    in->state = CB_INSTANCE_RUNNING;
    join_node("cb-41-0", 0, 1, true);
    jobs(8, 16384, 1, 1);
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_ADOPT) + count_kind(CB_ACTION_TERMINATE), 0);
    const struct cb_core_action *b = action(CB_ACTION_BOOT, 0);
    ck_assert_str_eq(b->batch_id, "cb-100");
    for (const char *p = b->batch_id; *p; p++)
        ck_assert((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
    ck_assert_uint_le(strlen(b->batch_id), 48);
    /* A long prefix still gives ids of at most 48 characters. */
    cb_core_free(F.core);
    F.core = NULL;
    memset(F.cfg.batch_prefix, 'p', CB_CORE_PREFIX_MAX);
    F.cfg.batch_prefix[CB_CORE_PREFIX_MAX] = '\0';
    start();
    cb_core_restore_batch_seq(F.core, UINT64_MAX - 1);
    F.now += 10;
    decide();
    b = action(CB_ACTION_BOOT, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_le(strlen(b->batch_id), 48);
}
END_TEST

START_TEST(test_crash_recovery_requested_nodes)
{
    /* A boot intent written before a crash: the listing decides. */
    start();
    struct cb_err err = CB_ERR_INIT;
    struct cb_core_node_info ni;
    memset(&ni, 0, sizeof ni);
    ni.state = CB_NODE_REQUESTED;
    ni.requested_at = ni.state_since = T0;
    ni.booted_at = ni.running_at = ni.joined_at = ni.idle_since = ni.drain_started_at = -1;
    snprintf(ni.batch_id, sizeof ni.batch_id, "cb-5");
    snprintf(ni.node_id, sizeof ni.node_id, "cb-5-0");
    ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), 0);
    snprintf(ni.node_id, sizeof ni.node_id, "cb-5-1");
    ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), 0);
    ck_assert_uint_eq(cb_core_batch_seq(F.core), 5);
    struct cb_instance *in = cb_instance_list_add(&F.lists[0]);
    snprintf(in->id, sizeof in->id, "i-50");
    snprintf(in->node_id, sizeof in->node_id, "cb-5-0");
    in->state = CB_INSTANCE_RUNNING;
    F.now += 60;
    decide();
    ck_assert_int_eq(state_of("cb-5-0"), CB_NODE_BOOTSTRAPPING);
    ck_assert_ptr_nonnull(action_for(CB_ACTION_BOOTSTRAP, "cb-5-0"));
    ck_assert_int_eq(state_of("cb-5-1"), CB_NODE_REQUESTED);
    F.now = T0 + 600;
    decide();
    ck_assert_int_eq(state_of("cb-5-1"), CB_NODE_GONE);
    ck_assert_int_eq(cb_core_node_find(F.core, "nope", &ni), -1);
}
END_TEST

START_TEST(test_boot_failure_classes)
{
    F.clouds[1].enabled = false;
    start();
    jobs(8, 16384, 2, 1);
    decide();
    const struct cb_core_action *b = action(CB_ACTION_BOOT, 0);
    char batch[CB_CORE_BATCH_ID_MAX];
    snprintf(batch, sizeof batch, "%s", b->batch_id);
    /* Timeout: the call may have worked, the nodes wait for the listing. */
    struct cb_core_event *e = &F.ev[F.n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = CB_EVENT_BOOT_FAILED;
    snprintf(e->batch_id, sizeof e->batch_id, "%s", batch);
    e->error = CB_ERR_TIMEOUT;
    F.now += 30;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_REQUESTED);
    ck_assert_uint_eq(booted(0), 0);
    /* Throttled: gone, and no boots on that cloud for throttle_backoff. */
    e = &F.ev[F.n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = CB_EVENT_BOOT_FAILED;
    snprintf(e->batch_id, sizeof e->batch_id, "%s", batch);
    e->error = CB_ERR_THROTTLED;
    F.now += 1;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_GONE);
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_THROTTLED));
    F.now += 60;
    decide();
    ck_assert_uint_eq(booted(0), 2);
    /* An event for a node nobody knows is reported, not fatal. */
    event(CB_EVENT_DRAIN_STARTED, "who-1-0", CB_OK);
    F.now += 1;
    decide();
    ck_assert_ptr_nonnull(nondecision(CB_REASON_UNKNOWN_NODE));
}
END_TEST

START_TEST(test_terminate_retry_and_not_found)
{
    start();
    bring_up_idle(8);
    drop_pool_node("cb-1-0");
    F.now += 10;
    decide();
    F.now += 600;
    decide();
    ck_assert_ptr_nonnull(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    event(CB_EVENT_TERMINATE_FAILED, "cb-1-0", CB_ERR_TRANSIENT);
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason,
                     CB_REASON_TERMINATE_RETRY);
    event(CB_EVENT_TERMINATE_FAILED, "cb-1-0", CB_ERR_NOT_FOUND);
    F.now += 30;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_GONE);
}
END_TEST

START_TEST(test_input_checks_and_deadline)
{
    start();
    ck_assert_int_eq(cb_core_next_deadline(F.core), CB_CORE_NEVER);
    jobs(8, 16384, 1, 1);
    decide();
    ck_assert_int_eq(cb_core_next_deadline(F.core), T0 + 600); /* boot timeout of the request */
    struct cb_core_input in = { .now = T0 - 1 };
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_core_decide(F.core, &in, &F.out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "backwards"));
    cb_err_clear(&err);
    in.now = T0;
    in.n_listings = 5;
    in.listings = F.listings;
    ck_assert_int_eq(cb_core_decide(F.core, &in, &F.out, &err), -1);
    /* No observations at all: nothing is decided from nothing. */
    cb_err_clear(&err);
    struct cb_core_input empty = { .now = T0 + 10 };
    ck_assert_int_eq(cb_core_decide(F.core, &empty, &F.out, &err), 0);
    ck_assert_uint_eq(F.out.n_actions, 0);
}
END_TEST


START_TEST(test_join_from_booting_counted_once)
{
    large_cheaper_per_core();
    start();
    jobs(1, 1024, 8, 1);
    decide();
    accept_boots();
    F.stale = true;             /* the listing still says pending */
    F.now += 30;
    decide();
    /* The startd shows up busy before any listing says running. */
    no_jobs();
    join_node("cb-1-0", 0, 1, true);
    F.supply.nodes[0].idle_cpus = 3;
    F.now += 30;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_BUSY);
    bool joined = false, claimed = false;
    for (size_t i = 0; i < F.out.n_records; i++) {
        joined |= F.out.records[i].reason == CB_REASON_JOINED;
        claimed |= F.out.records[i].reason == CB_REASON_CLAIMED;
    }
    ck_assert(joined && claimed);
    ck_assert_uint_eq(F.out.clouds[0].capacity_nodes, 1);
    ck_assert_uint_eq(F.out.clouds[0].free_cpus_counted, 3);
    ck_assert_uint_eq(F.out.clouds[0].nodes_in_flight, 0);
    ck_assert_uint_eq(F.out.clouds[0].nodes_joined, 1);
    /* Its boot-to-join latency was learned (60 s, clamped to the floor). */
    struct cb_core_node_info ni;
    ck_assert_int_eq(cb_core_node_find(F.core, "cb-1-0", &ni), 0);
    ck_assert_int_eq(ni.joined_at, T0 + 60);
    ck_assert(ni.ever_busy);
}
END_TEST

START_TEST(test_failed_terminate_of_node_that_took_a_job)
{
    F.cfg.drain_timeout = 3600;
    start();
    jobs(8, 16384, 1, 1);
    decide();
    accept_boots();
    F.now += 30;
    decide();
    run_all();
    F.now += 30;
    decide();
    F.now += 1200;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_JOIN_TIMEOUT);
    int64_t first = F.now;
    /* The terminate fails, and the late node joins and takes a job. */
    event(CB_EVENT_TERMINATE_FAILED, "cb-1-0", CB_ERR_TRANSIENT);
    no_jobs();
    join_node("cb-1-0", 0, 1, true);
    F.now += 30;
    decide();
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    const struct cb_core_action *d = action_for(CB_ACTION_DRAIN, "cb-1-0");
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->reason, CB_REASON_TERMINATE_RETRY);
    F.now += 600;
    decide();
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    ck_assert_ptr_null(action_for(CB_ACTION_DRAIN, "cb-1-0")); /* drained once */
    ck_assert_ptr_nonnull(nondecision(CB_REASON_DRAIN_WAIT));
    /* Empty: the retry goes out. */
    join_node("cb-1-0", 0, 1, false);
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason,
                     CB_REASON_TERMINATE_RETRY);
    ck_assert_int_lt(F.now - first, 3600);
}
END_TEST

START_TEST(test_month_rollover_and_accrual)
{
    F.clouds[0].budget_per_month = 100;
    F.clouds[1].enabled = false;
    start();
    bring_up_idle(8);           /* one large, 0.40/h, boot accepted at T0 + 60 */
    join_all(true);
    F.now = T0 + 60 + 3600;
    decide();
    ck_assert_double_eq_tol(F.out.clouds[0].spent_month, 0.40, 1e-6);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_core_restore_spend(F.core, 0, F.now, 99.0, &err), 0);
    ck_assert_int_eq(cb_core_restore_spend(F.core, 0, F.now, -1, &err), -1);
    jobs(8, 16384, 2, 1);
    F.now += 60;
    decide();
    ck_assert_uint_eq(booted(0), 0);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_BUDGET_MONTH));
    /* 2023-12-01 00:00 UTC: a new month, a new budget. */
    F.now = INT64_C(1701388800);
    decide();
    ck_assert(F.out.clouds[0].spent_month < 1.0);
    ck_assert_uint_gt(booted(0), 0);
}
END_TEST

START_TEST(test_global_month_budget_winds_all_clouds)
{
    F.cfg.budget_per_month = 50;
    start();
    jobs(8, 16384, 1, 1);
    jobs(4, 8192, 1, 2);
    decide();
    ck_assert_uint_eq(booted(0), 1);
    ck_assert_uint_eq(booted(1), 1);
    accept_boots();
    no_jobs();
    F.now += 30;
    decide();
    run_all();
    F.now += 30;
    decide();
    join_all(true);
    F.now += 30;
    decide();
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_core_restore_spend(F.core, 0, F.now, 30, &err), 0);
    ck_assert_int_eq(cb_core_restore_spend(F.core, 1, F.now, 20, &err), 0);
    F.now += 30;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 2);
    ck_assert_int_eq(action(CB_ACTION_DRAIN, 1)->reason, CB_REASON_BUDGET_MONTH);
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
}
END_TEST

START_TEST(test_restore_draining_terminating_failed)
{
    start();
    struct cb_err err = CB_ERR_INIT;
    struct cb_core_node_info ni;
    const enum cb_node_state st[3] = { CB_NODE_DRAINING, CB_NODE_TERMINATING, CB_NODE_FAILED };
    for (int k = 0; k < 3; k++) {
        memset(&ni, 0, sizeof ni);
        snprintf(ni.batch_id, sizeof ni.batch_id, "cb-%d", k + 1);
        snprintf(ni.node_id, sizeof ni.node_id, "cb-%d-0", k + 1);
        snprintf(ni.instance_id, sizeof ni.instance_id, "i-%d", k);
        ni.state = st[k];
        ni.flavor = 1;
        ni.requested_at = ni.booted_at = ni.running_at = ni.joined_at = T0 - 7200;
        ni.state_since = T0 - 60;
        ni.idle_since = -1;
        ni.drain_started_at = k == 0 ? T0 - 60 : -1;
        ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), 0);
        struct cb_instance *in = cb_instance_list_add(&F.lists[0]);
        snprintf(in->id, sizeof in->id, "i-%d", k);
        snprintf(in->node_id, sizeof in->node_id, "%s", ni.node_id);
        in->state = CB_INSTANCE_RUNNING;
    }
    ni.state = CB_NODE_GONE;    /* gone nodes are skipped */
    snprintf(ni.node_id, sizeof ni.node_id, "cb-9-0");
    ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), 0);
    ck_assert_uint_eq(cb_core_node_count(F.core), 3);
    ni.state = (enum cb_node_state)77;
    ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), -1);
    join_node("cb-1-0", 0, 1, false);
    F.supply.nodes[0].draining = true;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_DRAINED);
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-2-0")->reason,
                     CB_REASON_TERMINATE_RETRY);
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-3-0")->reason,
                     CB_REASON_TERMINATE_RETRY);
    ck_assert_uint_eq(cb_core_batch_seq(F.core), 3);
}
END_TEST

START_TEST(test_restored_terminating_node_missing_ad_not_killed)
{
    /* Restarted while two nodes were terminating (their terminate calls may
     * have been lost): one had run jobs, one never did. Neither is in the
     * first pool snapshot after the restart; a missing ad is not proof that
     * a node which ran jobs is empty now. */
    start();
    struct cb_err err = CB_ERR_INIT;
    for (int k = 0; k < 2; k++) {
        struct cb_core_node_info ni;
        memset(&ni, 0, sizeof ni);
        snprintf(ni.batch_id, sizeof ni.batch_id, "cb-%d", k + 1);
        snprintf(ni.node_id, sizeof ni.node_id, "cb-%d-0", k + 1);
        snprintf(ni.instance_id, sizeof ni.instance_id, "i-%d", k);
        ni.state = CB_NODE_TERMINATING;
        ni.flavor = 1;
        ni.requested_at = ni.booted_at = ni.running_at = ni.joined_at = T0 - 7200;
        ni.state_since = T0 - 60;
        ni.idle_since = ni.drain_started_at = -1;
        ni.ever_busy = k == 0;
        ck_assert_int_eq(cb_core_restore_node(F.core, &ni, &err), 0);
        struct cb_instance *in = cb_instance_list_add(&F.lists[0]);
        snprintf(in->id, sizeof in->id, "i-%d", k);
        snprintf(in->node_id, sizeof in->node_id, "cb-%d-0", k + 1);
        in->state = CB_INSTANCE_RUNNING;
    }
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-2-0")->reason,
                     CB_REASON_TERMINATE_RETRY);
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_TERMINATE_RETRY);
    ck_assert_ptr_nonnull(nondecision_for(CB_REASON_DRAIN_WAIT, "cb-1-0"));
    ck_assert_int_eq(cb_core_next_deadline(F.core), T0 + 600);
    /* Away from the pool for lost_timeout: it has no startd, let alone a job. */
    F.now = T0 + 599;
    decide();
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    F.now = T0 + 600;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason,
                     CB_REASON_TERMINATE_RETRY);
}
END_TEST

START_TEST(test_cancel_drain_only_for_fitting_flavor)
{
    large_cheaper_per_core();   /* the drained node is large ... */
    start();
    bring_up_idle(8);           /* one large */
    F.now += 600;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 1);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    jobs(1, 3072, 1, 1);        /* ... one 3 GiB job wastes less on a small node */
    F.now += 10;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_CANCEL_DRAIN), 0);
    ck_assert_str_eq(F.clouds[0].flavors[action(CB_ACTION_BOOT, 0)->flavor].name, "small");
}
END_TEST

START_TEST(test_instance_error_and_preempt_by_instance)
{
    F.clouds[1].enabled = false;
    start();
    jobs(8, 16384, 2, 1);
    decide();
    accept_boots();
    F.now += 30;
    decide();
    instance(0, "cb-1-0")->state = CB_INSTANCE_ERROR;
    struct cb_core_event *e = &F.ev[F.n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = CB_EVENT_PREEMPTED;
    e->cloud = 0;
    snprintf(e->instance_id, sizeof e->instance_id, "i-cb-1-1");
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_INSTANCE_ERROR);
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-1")->reason, CB_REASON_PREEMPTED);
    /* Both replaced at once: the demand is still there. */
    ck_assert_uint_eq(booted(0), 2);
}
END_TEST

/* Two nodes of cloud 0 booted, running and joined (busy or idle). */
static void two_nodes_joined(bool busy)
{
    F.clouds[1].enabled = false;
    start();
    jobs(8, 16384, 2, 1);
    decide();
    accept_boots();
    F.now += 30;
    decide();
    run_all();
    F.now += 30;
    decide();
    join_all(busy);
    F.now += 30;
    decide();
}

/* A guest poweroff (the node's lease expired) leaves the instance stopped,
 * not gone: it still holds quota and money, so it is terminated, and the
 * node stays terminating until the cloud stops listing it. A tagged stopped
 * instance nobody knows is ended too. */
START_TEST(test_stopped_instance_is_terminated_not_forgotten)
{
    two_nodes_joined(false);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_IDLE);
    instance(0, "cb-1-0")->state = CB_INSTANCE_STOPPING;
    pool_node("cb-1-0")->node_id[0] = '\0'; /* powered off: its startd left */
    struct cb_instance *orphan = cb_instance_list_add(&F.lists[0]);
    snprintf(orphan->id, sizeof orphan->id, "i-orphan");
    snprintf(orphan->node_id, sizeof orphan->node_id, "cb-77-0");
    snprintf(orphan->batch_id, sizeof orphan->batch_id, "cb-77");
    orphan->state = CB_INSTANCE_STOPPING;
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_INSTANCE_STOPPED);
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-77-0")->reason, CB_REASON_UNKNOWN_INSTANCE);
    ck_assert_str_eq(cb_core_reason_name(CB_REASON_INSTANCE_STOPPED), "instance-stopped");
    /* Still listed as stopped: not gone, not terminated again at once. */
    F.now += 30;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_TERMINATING);
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    drop_instance(0, "cb-1-0");
    F.now += 30;
    decide();
    struct cb_core_node_info info;
    ck_assert(cb_core_node_find(F.core, "cb-1-0", &info) != 0 || info.state == CB_NODE_GONE);
}
END_TEST

/* A busy node whose instance the cloud shows stopping is drained, not
 * terminated: the pool still shows its job. */
START_TEST(test_stopping_busy_node_is_drained_first)
{
    two_nodes_joined(true);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_BUSY);
    instance(0, "cb-1-0")->state = CB_INSTANCE_STOPPING;
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_INSTANCE_STOPPED);
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
}
END_TEST

START_TEST(test_bootstrap_failed_but_joined_is_kept)
{
    start();
    jobs(8, 16384, 1, 1);
    decide();
    accept_boots();
    F.now += 30;
    decide();
    run_all();
    F.now += 30;
    decide();
    event(CB_EVENT_BOOTSTRAP_FAILED, "cb-1-0", CB_ERR_TIMEOUT);
    join_all(false);            /* ... yet its startd is in the pool */
    F.now += 30;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_IDLE);
}
END_TEST


START_TEST(test_extreme_inputs)
{
    F.clouds[0].max_nodes = 50;
    F.clouds[1].max_nodes = 50;
    start();
    struct cb_job_shape *j = cb_demand_add(&F.demand);
    j->cpus = 1;
    j->memory_mb = 0;
    j->disk_kb = 0;
    j->count = UINT32_MAX;
    j->clouds = ~(cb_cloud_mask)0;
    j = cb_demand_add(&F.demand);
    j->cpus = UINT32_MAX;
    j->memory_mb = UINT64_MAX;
    j->disk_kb = UINT64_MAX;
    j->count = UINT32_MAX;
    j->clouds = 3;
    j = cb_demand_add(&F.demand);
    j->cpus = 0;                /* malformed: never planned */
    j->count = 7;
    j->clouds = 1;
    /* Pool ads and instances with ids nobody knows, or none at all. */
    struct cb_pool_node *p = cb_supply_add(&F.supply);
    snprintf(p->node_id, sizeof p->node_id, "someone-else-1");
    p->idle_cpus = UINT32_MAX;
    p = cb_supply_add(&F.supply);
    p->idle_cpus = 5;
    struct cb_instance *in = cb_instance_list_add(&F.lists[0]);
    in->state = CB_INSTANCE_RUNNING; /* no id, no node id: ignored */
    in = cb_instance_list_add(&F.lists[1]);
    snprintf(in->id, sizeof in->id, "i-noname");
    in->state = CB_INSTANCE_TERMINATED;
    decide();
    ck_assert_uint_eq(F.out.clouds[0].nodes_live, 50);
    ck_assert_uint_eq(F.out.clouds[1].nodes_live, 50);
    ck_assert_uint_gt(F.out.unserved_jobs, (uint64_t)UINT32_MAX);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_NO_FITTING_FLAVOR));
    ck_assert_ptr_nonnull(nondecision(CB_REASON_MAX_NODES));
    ck_assert_uint_eq(count_kind(CB_ACTION_ADOPT) + count_kind(CB_ACTION_TERMINATE), 0);
    /* Without max_nodes, a queue of four billion jobs still boots a bounded number. */
    cb_core_free(F.core);
    F.core = NULL;
    F.clouds[0].max_nodes = F.clouds[1].max_nodes = 0;
    start();
    F.now += 1;
    decide();
    ck_assert_uint_eq(booted(0), CB_CORE_BOOT_LIMIT);
    ck_assert_uint_eq(booted(1), 0); /* the limit damps; it does not spill */
    ck_assert_ptr_nonnull(nondecision(CB_REASON_BOOT_PER_CYCLE));
    /* A malformed event is refused before anything changes. */
    struct cb_core_event *e = &F.ev[F.n_ev++];
    memset(e, 'x', sizeof *e);
    e->kind = CB_EVENT_DRAIN_STARTED;
    struct cb_core_input bad = { .now = F.now + 1, .events = F.ev, .n_events = 1 };
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_core_decide(F.core, &bad, &F.out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "malformed"));
    F.n_ev = 0;
    F.now += 10;
    decide();
}
END_TEST

START_TEST(test_same_inputs_same_outputs)
{
    /* Two cores, same life: identical outputs byte for byte, every step. */
    start();
    struct cb_core *twin = NULL;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_core_new(&twin, &F.cfg, &err), 0);
    struct cb_core_output o2 = CB_CORE_OUTPUT_INIT;
    jobs(1, 1024, 20, 3);
    jobs(4, 8192, 3, 2);
    for (int i = 0; i < 6; i++) {
        struct cb_core_event ev[256];
        size_t nev = F.n_ev;
        memcpy(ev, F.ev, nev * sizeof ev[0]);
        decide();
        for (size_t c = 0; c < F.cfg.n_clouds; c++)
            F.listings[c].instances = &F.lists[c];
        struct cb_core_input in = {
            .now = F.now, .demand = &F.demand, .supply = &F.supply,
            .listings = F.listings, .n_listings = F.cfg.n_clouds, .events = ev, .n_events = nev,
        };
        ck_assert_int_eq(cb_core_decide(twin, &in, &o2, &err), 0);
        ck_assert_uint_eq(F.out.n_actions, o2.n_actions);
        ck_assert_uint_eq(F.out.n_records, o2.n_records);
        if (o2.n_actions)
            ck_assert_int_eq(memcmp(F.out.actions, o2.actions, o2.n_actions * sizeof *o2.actions), 0);
        if (o2.n_records)
            ck_assert_int_eq(memcmp(F.out.records, o2.records, o2.n_records * sizeof *o2.records), 0);
        ck_assert_int_eq(cb_core_next_deadline(F.core), cb_core_next_deadline(twin));
        accept_boots();
        run_all();
        join_all(i % 2 == 0);
        F.now += 60;
    }
    cb_core_output_free(&o2);
    cb_core_free(twin);
}
END_TEST



START_TEST(test_unknown_instance_kept_on_partial_pool)
{
    start();
    struct cb_instance *in = cb_instance_list_add(&F.lists[0]);
    snprintf(in->id, sizeof in->id, "i-maybe");
    snprintf(in->node_id, sizeof in->node_id, "old-3-0");
    in->state = CB_INSTANCE_RUNNING;
    F.supply.partial = true;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    ck_assert_ptr_nonnull(nondecision(CB_REASON_PARTIAL_OBSERVATION));
    ck_assert_int_eq(cb_core_node_find(F.core, "old-3-0", &(struct cb_core_node_info){ 0 }), -1);
    F.supply.partial = false;
    F.now += 10;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "old-3-0")->reason,
                     CB_REASON_UNKNOWN_INSTANCE);
}
END_TEST

START_TEST(test_draining_busy_node_missing_once_is_not_killed)
{
    F.cfg.max_lifetime = 600;
    start();
    bring_up_idle(8);
    join_all(true);
    F.now = T0 + 700;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_MAX_LIFETIME);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    F.now += 60;
    decide();
    ck_assert_ptr_nonnull(nondecision(CB_REASON_DRAIN_WAIT));
    /* Its ad is missing from one complete snapshot: last seen busy, so wait. */
    drop_pool_node("cb-1-0");
    F.now += 60;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    F.now += 599;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    F.now += 1;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_DRAINED);
}
END_TEST

/* Crash and restart: a new core rebuilt from what the ledger holds of each
 * node, the cb_core_node_info the records left. forget_seen: a ledger from
 * before schema 4, which does not know what the pool last showed. */
static void restart_core(bool forget_seen)
{
    size_t n = cb_core_node_count(F.core);
    struct cb_core_node_info *keep = calloc(n ? n : 1, sizeof *keep);
    ck_assert_ptr_nonnull(keep);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(cb_core_node_at(F.core, i, &keep[i]), 0);
        if (forget_seen)
            keep[i].seen_busy = CB_SEEN_UNKNOWN;
    }
    cb_core_free(F.core);
    F.core = NULL;
    start();
    struct cb_err err = CB_ERR_INIT;
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(cb_core_restore_node(F.core, &keep[i], &err) == 0, "%s", err.msg);
    free(keep);
}

static size_t seen_records(const char *node, bool busy)
{
    size_t k = 0;
    for (size_t i = 0; i < F.out.n_records; i++) {
        const struct cb_core_record *r = &F.out.records[i];
        if (r->kind == CB_RECORD_SEEN_BUSY && strcmp(r->node_id, node) == 0) {
            ck_assert_int_eq(r->action, CB_CORE_NONE);
            k += r->busy == busy;
        }
    }
    return k;
}

/* A node that ran a job, sat idle, was drained and left the pool at once
 * (condor_off -peaceful on an empty startd) while the daemon was down. */
static void drained_empty_then_crash(bool forget_seen)
{
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    join_all(true);
    F.now += 60;
    decide();
    join_all(false);
    F.now += 60;
    decide();
    ck_assert(info_of("cb-1-0").ever_busy);
    ck_assert_int_eq(info_of("cb-1-0").seen_busy, CB_SEEN_EMPTY);
    F.now += 600;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_IDLE_TIMEOUT);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    drop_pool_node("cb-1-0");
    restart_core(forget_seen);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_DRAINING);
}

/* A draining node whose ad is gone, that the core must think may still run a
 * job: two complete snapshots without it are not enough, lost_timeout of
 * absence is, and not a second less. */
static void assert_drained_after_lost_timeout(const char *node)
{
    F.now += 60;
    decide();
    int64_t absent = F.now;
    F.now += 60;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    F.now = absent + F.cfg.lost_timeout - 1;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    F.now = absent + F.cfg.lost_timeout;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, node)->reason, CB_REASON_DRAINED);
}

START_TEST(test_restart_knows_a_drained_node_was_empty)
{
    drained_empty_then_crash(false);
    /* Two complete snapshots without it: empty, as it was when last seen. */
    F.now += 60;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    F.now += 60;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_DRAINED);
}
END_TEST

START_TEST(test_restart_without_seen_waits_lost_timeout)
{
    /* The ledger does not know: it ran a job once, so it may run one now. */
    drained_empty_then_crash(true);
    assert_drained_after_lost_timeout("cb-1-0");
}
END_TEST

START_TEST(test_draining_node_seen_busy_is_recorded)
{
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    F.now += 600;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_IDLE_TIMEOUT);
    ck_assert_uint_eq(seen_records("cb-1-0", false) + seen_records("cb-1-0", true), 0);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    join_node("cb-1-0", 0, 1, true);    /* a job matched before the drain took */
    pool_node("cb-1-0")->draining = true;
    F.now += 10;
    decide();
    ck_assert_uint_eq(seen_records("cb-1-0", true), 1);
    F.now += 10;
    decide();                           /* said once, not every cycle */
    ck_assert_uint_eq(seen_records("cb-1-0", true), 0);
    /* Its job ends, the startd exits, and the daemon crashes before it
     * sees that: restarted, it knows the node was running a job and gives
     * a missing ad lost_timeout, as the old process would have. */
    drop_pool_node("cb-1-0");
    restart_core(false);
    ck_assert_int_eq(info_of("cb-1-0").seen_busy, CB_SEEN_BUSY);
    assert_drained_after_lost_timeout("cb-1-0");
}
END_TEST

START_TEST(test_draining_node_seen_empty_is_recorded)
{
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    F.now += 600;
    decide();
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    join_node("cb-1-0", 0, 1, true);
    pool_node("cb-1-0")->draining = true;
    F.now += 10;
    decide();
    ck_assert_uint_eq(seen_records("cb-1-0", true), 1);
    /* Empty and still draining: recorded, and terminated in the same output. */
    join_node("cb-1-0", 0, 1, false);
    pool_node("cb-1-0")->draining = true;
    F.now += 10;
    decide();
    ck_assert_uint_eq(seen_records("cb-1-0", false), 1);
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_DRAINED);
    ck_assert_int_eq(info_of("cb-1-0").seen_busy, CB_SEEN_EMPTY);
}
END_TEST

START_TEST(test_next_deadline_follows_the_nodes)
{
    F.cfg.drain_timeout = 5000;
    large_cheaper_per_core();
    start();
    bring_up_idle(8);           /* joined and idle at T0 + 180 */
    ck_assert_int_eq(cb_core_next_deadline(F.core), T0 + 180 + 600);
    join_all(true);
    F.now += 10;
    decide();                   /* busy: no idle clock, nothing timed */
    ck_assert_int_eq(cb_core_next_deadline(F.core), CB_CORE_NEVER);
    join_all(false);            /* the pool says idle since now ... */
    F.now += 10;
    decide();                   /* ... which the core takes over */
    ck_assert_int_eq(cb_core_next_deadline(F.core), F.now - 10 + 600);
    F.now += 590;
    decide();                   /* drained */
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 1);
    ck_assert_int_eq(cb_core_next_deadline(F.core), F.now + 5000);
    struct cb_core_node_info ni;
    ck_assert_int_eq(cb_core_node_at(F.core, 0, &ni), 0);
    ck_assert_str_eq(ni.node_id, "cb-1-0");
    ck_assert_int_eq(ni.drain_started_at, F.now);
    ck_assert_int_eq(cb_core_node_at(F.core, 1, &ni), -1);
    ck_assert_str_eq(ni.node_id, "");
}
END_TEST

/* ---- operator requests (cloudburstctl drain / terminate) ---- */

START_TEST(test_operator_drain_joined_nodes)
{
    F.cfg.drain_timeout = 7200;
    large_cheaper_per_core();
    start();
    bring_up_idle(16);                  /* cb-1-0 and cb-1-1, large, idle */
    join_node("cb-1-0", 0, 1, true);    /* one runs a job */
    F.now += 30;
    decide();
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_BUSY);
    operator_event(CB_EVENT_OPERATOR_DRAIN, "cb-1-0", false);
    operator_event(CB_EVENT_OPERATOR_DRAIN, "cb-1-1", false);
    F.now += 30;
    decide();
    /* Both drained at once, busy or not, with the operator's reason on the
     * action and on the ledger record tied to it; nothing terminated. */
    for (int k = 0; k < 2; k++) {
        const char *id = k == 0 ? "cb-1-0" : "cb-1-1";
        const struct cb_core_action *d = action_for(CB_ACTION_DRAIN, id);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(d->reason, CB_REASON_OPERATOR_DRAIN);
        ck_assert(!d->fast);
        const struct cb_core_record *r = transition_to(id, CB_NODE_DRAINING);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->reason, CB_REASON_OPERATOR_DRAIN);
        ck_assert_uint_eq(r->action, (size_t)(d - F.out.actions));
        ck_assert(info_of(id).operator_drain);
        ck_assert(!info_of(id).operator_terminate);
    }
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-1", CB_OK);
    pool_node("cb-1-0")->draining = true;
    pool_node("cb-1-1")->draining = true;
    /* Demand returns that the drained nodes could serve: they are not
     * un-drained; new nodes are booted instead. */
    jobs(8, 16384, 2, 1);
    F.now += 30;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_CANCEL_DRAIN), 0);
    ck_assert_uint_eq(booted(0), 2);
    ck_assert_uint_eq(F.out.clouds[0].nodes_joined, 0);
    /* The idle one is empty and confirmed: terminated as drained. The busy
     * one waits for its job. */
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-1")->reason, CB_REASON_DRAINED);
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    ck_assert_ptr_nonnull(nondecision_for(CB_REASON_DRAIN_WAIT, "cb-1-0"));
    int64_t drained = F.now - 30;
    /* Still busy later on: only drain_timeout ends it. */
    no_jobs();
    F.now = drained + 7199;
    decide();
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    ck_assert_uint_eq(count_kind(CB_ACTION_CANCEL_DRAIN), 0);
    F.now = drained + 7200;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_DRAIN_TIMEOUT);
}
END_TEST

START_TEST(test_operator_drain_holds_a_draining_node)
{
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    F.now += 600;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_IDLE_TIMEOUT);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    join_node("cb-1-0", 0, 1, true);    /* a job matched before the drain took */
    pool_node("cb-1-0")->draining = true;
    operator_event(CB_EVENT_OPERATOR_DRAIN, "cb-1-0", false);
    jobs(8, 16384, 1, 1);               /* would cancel an idle-timeout drain */
    F.now += 10;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_CANCEL_DRAIN), 0);
    ck_assert_uint_eq(count_kind(CB_ACTION_DRAIN), 0);  /* already draining */
    ck_assert_uint_eq(booted(0), 1);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_DRAINING);
    ck_assert(info_of("cb-1-0").operator_drain);
    /* Empty: terminated as drained. */
    join_node("cb-1-0", 0, 1, false);
    pool_node("cb-1-0")->draining = true;
    F.now += 10;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason, CB_REASON_DRAINED);
}
END_TEST

START_TEST(test_operator_terminate_drains_first)
{
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    join_all(true);
    F.now += 30;
    decide();
    operator_event(CB_EVENT_OPERATOR_TERMINATE, "cb-1-0", false);
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_OPERATOR_DRAIN);
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-0"));
    struct cb_core_node_info ni = info_of("cb-1-0");
    ck_assert(ni.operator_drain && ni.operator_terminate && !ni.operator_force);
    event(CB_EVENT_DRAIN_STARTED, "cb-1-0", CB_OK);
    pool_node("cb-1-0")->draining = true;
    F.now += 600;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0); /* its job still runs */
    ck_assert_ptr_nonnull(nondecision_for(CB_REASON_DRAIN_WAIT, "cb-1-0"));
    join_node("cb-1-0", 0, 1, false);
    pool_node("cb-1-0")->draining = true;
    F.now += 30;
    decide();
    const struct cb_core_action *t = action_for(CB_ACTION_TERMINATE, "cb-1-0");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->reason, CB_REASON_OPERATOR_TERMINATE);
    ck_assert_int_eq(transition_to("cb-1-0", CB_NODE_TERMINATING)->reason,
                     CB_REASON_OPERATOR_TERMINATE);
}
END_TEST

START_TEST(test_operator_terminate_force_kills_at_once)
{
    large_cheaper_per_core();
    start();
    bring_up_idle(24);                  /* cb-1-0 .. cb-1-2 */
    join_all(true);
    F.now += 30;
    decide();
    /* A draining busy node too. */
    operator_event(CB_EVENT_OPERATOR_DRAIN, "cb-1-2", false);
    F.now += 30;
    decide();
    ck_assert_int_eq(state_of("cb-1-2"), CB_NODE_DRAINING);
    /* Forced, even on a partial pool snapshot: the operator asked. */
    F.supply.partial = true;
    operator_event(CB_EVENT_OPERATOR_TERMINATE, "cb-1-0", true);
    operator_event(CB_EVENT_OPERATOR_TERMINATE, "cb-1-2", true);
    operator_event(CB_EVENT_OPERATOR_DRAIN, "cb-1-1", true); /* force means nothing here */
    F.now += 30;
    decide();
    const struct cb_core_action *t = action_for(CB_ACTION_TERMINATE, "cb-1-0");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->reason, CB_REASON_OPERATOR_TERMINATE);
    ck_assert_str_eq(t->instance_id, "i-cb-1-0");
    /* busy -> failed -> terminating, both recorded with the operator's reason */
    ck_assert_int_eq(transition_to("cb-1-0", CB_NODE_FAILED)->reason,
                     CB_REASON_OPERATOR_TERMINATE);
    ck_assert_int_eq(transition_to("cb-1-0", CB_NODE_TERMINATING)->reason,
                     CB_REASON_OPERATOR_TERMINATE);
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-2")->reason,
                     CB_REASON_OPERATOR_TERMINATE);
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-1")->reason, CB_REASON_OPERATOR_DRAIN);
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-1"));
    ck_assert(info_of("cb-1-0").operator_force);
    ck_assert(!info_of("cb-1-1").operator_force);
    /* The terminate fails; the retry needs no snapshot and holds for no job. */
    event(CB_EVENT_TERMINATE_FAILED, "cb-1-0", CB_ERR_TRANSIENT);
    F.now += 30;
    decide();
    t = action_for(CB_ACTION_TERMINATE, "cb-1-0");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->reason, CB_REASON_OPERATOR_TERMINATE);
    ck_assert_ptr_null(action_for(CB_ACTION_DRAIN, "cb-1-0"));
}
END_TEST

START_TEST(test_operator_request_for_starting_nodes)
{
    F.clouds[1].enabled = false;
    large_cheaper_per_core();
    start();
    jobs(8, 16384, 3, 1);
    decide();
    ck_assert_uint_eq(booted(0), 3);    /* cb-1-0 .. cb-1-2, requested */
    /* Asked out while still requested: no instance to terminate yet, and
     * no capacity either: the demand boots a replacement at once. */
    operator_event(CB_EVENT_OPERATOR_DRAIN, "cb-1-0", false);
    F.now += 10;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_TERMINATE), 0);
    ck_assert_ptr_nonnull(nondecision_for(CB_REASON_OPERATOR_TERMINATE, "cb-1-0"));
    ck_assert_uint_eq(booted(0), 1);
    ck_assert_uint_eq(F.out.clouds[0].nodes_in_flight, 3);
    /* Its boot is accepted: terminated (it runs no job). */
    struct cb_core_event *e = &F.ev[F.n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = CB_EVENT_BOOT_ACCEPTED;
    snprintf(e->node_id, sizeof e->node_id, "cb-1-0");
    snprintf(e->instance_id, sizeof e->instance_id, "i-cb-1-0");
    F.now += 10;
    decide();
    const struct cb_core_action *t = action_for(CB_ACTION_TERMINATE, "cb-1-0");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->reason, CB_REASON_OPERATOR_TERMINATE);
    ck_assert_str_eq(t->instance_id, "i-cb-1-0");
    /* Booting/bootstrapping nodes: without force, a partial snapshot could
     * hide that one joined and took a job, so they wait for a complete one. */
    e = &F.ev[F.n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = CB_EVENT_BOOT_ACCEPTED;
    snprintf(e->node_id, sizeof e->node_id, "cb-1-1");
    snprintf(e->instance_id, sizeof e->instance_id, "i-cb-1-1");
    e = &F.ev[F.n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = CB_EVENT_BOOT_ACCEPTED;
    snprintf(e->node_id, sizeof e->node_id, "cb-1-2");
    snprintf(e->instance_id, sizeof e->instance_id, "i-cb-1-2");
    operator_event(CB_EVENT_OPERATOR_TERMINATE, "cb-1-1", false);
    operator_event(CB_EVENT_OPERATOR_TERMINATE, "cb-1-2", false);
    F.supply.partial = true;
    no_jobs();
    F.now += 10;
    decide();
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-1"));
    ck_assert_ptr_nonnull(nondecision_for(CB_REASON_OPERATOR_TERMINATE, "cb-1-1"));
    /* Complete snapshot: cb-1-2 joined meanwhile and runs a job, so it is
     * drained, not killed; cb-1-1 has not joined and goes. */
    F.supply.partial = false;
    join_node("cb-1-2", 0, 1, true);
    F.now += 10;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-1")->reason,
                     CB_REASON_OPERATOR_TERMINATE);
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-1-2"));
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-2")->reason, CB_REASON_OPERATOR_DRAIN);
    ck_assert_int_eq(state_of("cb-1-2"), CB_NODE_DRAINING);
}
END_TEST

START_TEST(test_operator_drain_retried_and_force_skips_terminate_hold)
{
    F.cfg.drain_timeout = 3600;
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    join_all(true);
    F.now += 30;
    decide();
    /* The drain command fails: the node stays in service, and the request,
     * which is durable, is carried out again in the next decide. */
    operator_event(CB_EVENT_OPERATOR_DRAIN, "cb-1-0", false);
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_OPERATOR_DRAIN);
    event(CB_EVENT_DRAIN_FAILED, "cb-1-0", CB_ERR_TRANSIENT);
    F.now += 30;
    decide();
    ck_assert_int_eq(transition_to("cb-1-0", CB_NODE_BUSY)->reason, CB_REASON_DRAIN_FAILED);
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-1-0")->reason, CB_REASON_OPERATOR_DRAIN);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_DRAINING);
    /* A second node: its terminate failed and it has taken a job since, so
     * the retry is held (drained first) ... */
    jobs(8, 16384, 1, 1);
    F.now += 30;
    decide();
    ck_assert_uint_eq(booted(0), 1);
    accept_boots();
    no_jobs();
    F.now += 30;
    decide();
    run_all();
    F.now += 30;
    decide();
    F.now += 1200;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-2-0")->reason, CB_REASON_JOIN_TIMEOUT);
    event(CB_EVENT_TERMINATE_FAILED, "cb-2-0", CB_ERR_TRANSIENT);
    join_node("cb-2-0", 0, 1, true);
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_DRAIN, "cb-2-0")->reason, CB_REASON_TERMINATE_RETRY);
    ck_assert_ptr_null(action_for(CB_ACTION_TERMINATE, "cb-2-0"));
    /* ... until the operator forces it: terminated now, job or not. */
    operator_event(CB_EVENT_OPERATOR_TERMINATE, "cb-2-0", true);
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-2-0")->reason,
                     CB_REASON_OPERATOR_TERMINATE);
    ck_assert_ptr_null(nondecision_for(CB_REASON_DRAIN_WAIT, "cb-2-0"));
}
END_TEST

START_TEST(test_operator_request_for_unknown_node)
{
    start();
    bring_up_idle(8);
    operator_event(CB_EVENT_OPERATOR_DRAIN, "cb-9-0", false);
    operator_event(CB_EVENT_OPERATOR_TERMINATE, "nobody", true);
    F.now += 10;
    decide();
    ck_assert_ptr_nonnull(nondecision_for(CB_REASON_UNKNOWN_NODE, "cb-9-0"));
    ck_assert_ptr_nonnull(nondecision_for(CB_REASON_UNKNOWN_NODE, "nobody"));
    ck_assert_uint_eq(F.out.n_actions, 0);
    ck_assert_int_eq(state_of("cb-1-0"), CB_NODE_IDLE);
    ck_assert_str_eq(cb_core_event_kind_name(CB_EVENT_OPERATOR_TERMINATE), "operator-terminate");
    ck_assert_str_eq(cb_core_reason_name(CB_REASON_OPERATOR_DRAIN), "operator-drain");
}
END_TEST

START_TEST(test_operator_hold_survives_restart)
{
    large_cheaper_per_core();
    start();
    bring_up_idle(8);
    join_all(true);
    F.now += 30;
    decide();
    operator_event(CB_EVENT_OPERATOR_TERMINATE, "cb-1-0", false);
    F.now += 30;
    decide();
    struct cb_core_node_info saved = info_of("cb-1-0");
    ck_assert_int_eq(saved.state, CB_NODE_DRAINING);
    /* What the ledger keeps: the node's fields, operator marks included. */
    cb_core_free(F.core);
    F.core = NULL;
    start();
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(cb_core_restore_node(F.core, &saved, &err), 0);
    /* A requested node restored with only the force mark gets the chain. */
    struct cb_core_node_info req;
    memset(&req, 0, sizeof req);
    snprintf(req.node_id, sizeof req.node_id, "cb-7-0");
    snprintf(req.batch_id, sizeof req.batch_id, "cb-7");
    req.flavor = 1;
    req.state = CB_NODE_REQUESTED;
    req.requested_at = req.state_since = F.now - 10;
    req.booted_at = req.running_at = req.joined_at = req.idle_since = req.drain_started_at = -1;
    req.operator_force = true;
    ck_assert_int_eq(cb_core_restore_node(F.core, &req, &err), 0);
    struct cb_core_node_info back = info_of("cb-7-0");
    ck_assert(back.operator_drain && back.operator_terminate && back.operator_force);
    /* Demand returns: the held node is not un-drained. */
    jobs(8, 16384, 1, 1);
    F.now += 30;
    decide();
    ck_assert_uint_eq(count_kind(CB_ACTION_CANCEL_DRAIN), 0);
    ck_assert_uint_eq(booted(0), 1);
    /* Empty: the final terminate says why. */
    join_node("cb-1-0", 0, 1, false);
    pool_node("cb-1-0")->draining = true;
    no_jobs();
    F.now += 30;
    decide();
    ck_assert_int_eq(action_for(CB_ACTION_TERMINATE, "cb-1-0")->reason,
                     CB_REASON_OPERATOR_TERMINATE);
}
END_TEST

/* docs/policy.md documents every knob with its default: keep them in step. */
START_TEST(test_policy_doc_matches_defaults)
{
    struct cb_core_config d;
    cb_core_config_defaults(&d);
    const struct { const char *name; double value; bool seen; } knobs0[] = {
        { "ramp_fraction", d.ramp_fraction, false }, { "ramp_floor", d.ramp_floor, false },
        { "idle_timeout", d.idle_timeout, false }, { "idle_timeout_min", d.idle_timeout_min, false },
        { "idle_timeout_max", d.idle_timeout_max, false },
        { "idle_timeout_prior", d.idle_timeout_prior, false },
        { "idle_learn_factor", d.idle_learn_factor, false },
        { "drain_timeout", d.drain_timeout, false }, { "max_lifetime", d.max_lifetime, false },
        { "billing_margin", d.billing_margin, false }, { "boot_timeout", d.boot_timeout, false },
        { "join_timeout", d.join_timeout, false }, { "lost_timeout", d.lost_timeout, false },
        { "listing_grace", d.listing_grace, false },
        { "breaker_failures", d.breaker_failures, false },
        { "breaker_backoff_min", d.breaker_backoff_min, false },
        { "breaker_backoff_max", d.breaker_backoff_max, false },
        { "breaker_reset_after", d.breaker_reset_after, false },
        { "quota_backoff", d.quota_backoff, false },
        { "throttle_backoff", d.throttle_backoff, false },
    };
    enum { NK = sizeof knobs0 / sizeof knobs0[0] };
    struct { const char *name; double value; bool seen; } knobs[NK];
    memcpy(knobs, knobs0, sizeof knobs);
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/policy.md", top ? top : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[1024];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "| `", 3) != 0)
            continue;
        char *name = line + 3, *end = strchr(name, '`');
        if (end == NULL)
            continue;
        *end = '\0';
        char *cell = strchr(end + 1, '|');
        if (cell == NULL)
            continue;
        cell++;
        while (*cell == ' ')
            cell++;
        for (size_t k = 0; k < NK; k++) {
            if (strcmp(knobs[k].name, name) != 0)
                continue;
            char *num_end;
            double v = strtod(cell, &num_end);
            ck_assert_msg(num_end != cell, "%s: no default in docs/policy.md", name);
            ck_assert_msg(v == knobs[k].value, "%s: docs say %g, code says %g", name, v,
                          knobs[k].value);
            knobs[k].seen = true;
        }
    }
    fclose(f);
    for (size_t k = 0; k < NK; k++)
        ck_assert_msg(knobs[k].seen, "%s is not documented in docs/policy.md", knobs[k].name);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_config_defaults_and_check);
    tcase_add_test(tc, test_reason_names_stable_and_unique);
    tcase_add_test(tc, test_scale_from_zero_least_waste);
    tcase_add_test(tc, test_least_waste_then_cost);
    tcase_add_test(tc, test_equal_waste_picks_cheaper_per_core);
    tcase_add_test(tc, test_equal_waste_and_cost_picks_smaller_node);
    tcase_add_test(tc, test_ffd_mixes_shapes_in_planned_nodes);
    tcase_add_test(tc, test_no_fitting_flavor_never_boots);
    tcase_add_test(tc, test_cloud_mask_respected);
    tcase_add_test(tc, test_priority_then_cost);
    tcase_add_test(tc, test_max_nodes_spills_to_next_cloud);
    tcase_add_test(tc, test_max_cores_cap);
    tcase_add_test(tc, test_ramp_fraction_and_floor);
    tcase_add_test(tc, test_in_flight_cap_and_per_cycle);
    tcase_add_test(tc, test_in_flight_capacity_counted_once);
    tcase_add_test(tc, test_demand_drop_while_booting);
    tcase_add_test(tc, test_quota_error_tries_next_flavor_same_cycle);
    tcase_add_test(tc, test_boot_timeout_breaker_backoff);
    tcase_add_test(tc, test_join_timeout_and_bootstrap_failure);
    tcase_add_test(tc, test_learned_idle_timeout);
    tcase_add_test(tc, test_latency_sampled_by_batch_index);
    tcase_add_test(tc, test_randomised_idle_timeout);
    tcase_add_test(tc, test_busy_node_never_terminated_before_drain_timeout);
    tcase_add_test(tc, test_partial_observation_blocks_scale_down);
    tcase_add_test(tc, test_collector_ad_outlives_vm);
    tcase_add_test(tc, test_lost_node_terminated);
    tcase_add_test(tc, test_unknown_instances_adopted_or_terminated);
    tcase_add_test(tc, test_preempted_stops_counting_at_once);
    tcase_add_test(tc, test_budget_hour_caps_boots);
    tcase_add_test(tc, test_global_budget_and_month_wind_down);
    tcase_add_test(tc, test_cancel_drain_when_demand_returns);
    tcase_add_test(tc, test_billing_hour_keeps_idle_node);
    tcase_add_test(tc, test_paused_no_scale_up);
    tcase_add_test(tc, test_restore_and_batch_ids);
    tcase_add_test(tc, test_crash_recovery_requested_nodes);
    tcase_add_test(tc, test_boot_failure_classes);
    tcase_add_test(tc, test_terminate_retry_and_not_found);
    tcase_add_test(tc, test_input_checks_and_deadline);
    tcase_add_test(tc, test_join_from_booting_counted_once);
    tcase_add_test(tc, test_failed_terminate_of_node_that_took_a_job);
    tcase_add_test(tc, test_month_rollover_and_accrual);
    tcase_add_test(tc, test_global_month_budget_winds_all_clouds);
    tcase_add_test(tc, test_restore_draining_terminating_failed);
    tcase_add_test(tc, test_cancel_drain_only_for_fitting_flavor);
    tcase_add_test(tc, test_restored_terminating_node_missing_ad_not_killed);
    tcase_add_test(tc, test_instance_error_and_preempt_by_instance);
    tcase_add_test(tc, test_stopped_instance_is_terminated_not_forgotten);
    tcase_add_test(tc, test_stopping_busy_node_is_drained_first);
    tcase_add_test(tc, test_bootstrap_failed_but_joined_is_kept);
    tcase_add_test(tc, test_extreme_inputs);
    tcase_add_test(tc, test_same_inputs_same_outputs);
    tcase_add_test(tc, test_policy_doc_matches_defaults);
    tcase_add_test(tc, test_unknown_instance_kept_on_partial_pool);
    tcase_add_test(tc, test_draining_busy_node_missing_once_is_not_killed);
    tcase_add_test(tc, test_restart_knows_a_drained_node_was_empty);
    tcase_add_test(tc, test_restart_without_seen_waits_lost_timeout);
    tcase_add_test(tc, test_draining_node_seen_busy_is_recorded);
    tcase_add_test(tc, test_draining_node_seen_empty_is_recorded);
    tcase_add_test(tc, test_next_deadline_follows_the_nodes);
    tcase_add_test(tc, test_operator_drain_joined_nodes);
    tcase_add_test(tc, test_operator_drain_holds_a_draining_node);
    tcase_add_test(tc, test_operator_terminate_drains_first);
    tcase_add_test(tc, test_operator_terminate_force_kills_at_once);
    tcase_add_test(tc, test_operator_request_for_starting_nodes);
    tcase_add_test(tc, test_operator_request_for_unknown_node);
    tcase_add_test(tc, test_operator_drain_retried_and_force_skips_terminate_hold);
    tcase_add_test(tc, test_operator_hold_survives_restart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(core_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
