/* policy_core: the adapter that puts the REAL decision core (src/core,
 * libcbcore.la, the code cloudburstd links) on the simulator's loop.
 *
 * Each decide translates the simulator's world into exactly what the daemon's
 * shell hands the core: demand (eligible idle jobs by shape), supply (the
 * pool's cloud startds), one fresh listing per cloud, and the results of the
 * previous actions as events. The core's actions go back to the simulator
 * unchanged (boot, drain, cancel drain, terminate). Policy knobs are the
 * core's documented defaults (cb_core_config_defaults); per-cloud limits map
 * the cloud model's quota onto max_cores and leave node caps open, as a site
 * bursting at trace scale would configure them. */
#include "sim/sim.h"

#include "cb_text.h"
#include "core/core.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The numeric knobs of struct cb_core_config a simulation may change, with
 * the range cb_core_config_check() and the configuration schema accept. */
static const struct knob_def {
    const char *name;
    double lo, hi;
    size_t off;
    bool is_double;
} knob_defs[] = {
#define K(n, lo, hi) { #n, lo, hi, offsetof(struct cb_core_config, n), false }
#define KD(n, lo, hi) { #n, lo, hi, offsetof(struct cb_core_config, n), true }
    KD(ramp_fraction, 0.001, 1), K(ramp_floor, 0, 100000), K(idle_timeout, 0, 604800),
    K(idle_timeout_min, 1, 604800), K(idle_timeout_max, 1, 604800),
    K(idle_timeout_prior, 0, 604800), KD(idle_learn_factor, 0.01, 100),
    K(drain_timeout, 1, 2592000), K(max_lifetime, 0, 31536000), K(billing_margin, 0, 3600),
    K(boot_timeout, 1, 86400), K(join_timeout, 1, 86400), K(lost_timeout, 1, 86400),
#undef K
#undef KD
};

int sim_model_set_knob(struct sim_model *m, const char *assignment, struct cb_err *err)
{
    char name[64];
    const char *eq = strchr(assignment, '=');
    size_t len = eq != NULL ? (size_t)(eq - assignment) : 0;
    if (eq == NULL || len == 0 || len >= sizeof name)
        return cb_err_set(err, CB_ERR_INVALID, "--set", "expected NAME=VALUE");
    memcpy(name, assignment, len);
    name[len] = '\0';
    char shown[64];
    cb_sanitize(shown, sizeof shown, name);
    for (size_t i = 0; i < sizeof knob_defs / sizeof knob_defs[0]; i++) {
        const struct knob_def *k = &knob_defs[i];
        if (strcmp(k->name, name) != 0)
            continue;
        char *end;
        double v = strtod(eq + 1, &end);
        if (eq[1] == '\0' || *end != '\0' || !(v >= k->lo && v <= k->hi))
            return cb_err_set(err, CB_ERR_INVALID, shown, "must be a number in [%g, %g]", k->lo,
                              k->hi);
        if (!k->is_double && v != (double)(uint32_t)v)
            return cb_err_set(err, CB_ERR_INVALID, shown, "must be a whole number");
        for (size_t j = 0; j < m->n_knobs; j++)
            if (strcmp(m->knobs[j].name, k->name) == 0) {
                m->knobs[j].value = v;
                return 0;
            }
        if (m->n_knobs == SIM_MAX_KNOBS)
            return cb_err_set(err, CB_ERR_INVALID, shown, "at most %d knobs", SIM_MAX_KNOBS);
        cb_strlcpy(m->knobs[m->n_knobs].name, k->name, sizeof m->knobs[m->n_knobs].name);
        m->knobs[m->n_knobs++].value = v;
        return 0;
    }
    return cb_err_set(err, CB_ERR_INVALID, shown, "not a knob cloudburst-sim can set "
                      "(docs/policy.md lists them)");
}

static void apply_knobs(struct cb_core_config *cfg, const struct sim_model *m)
{
    for (size_t j = 0; j < m->n_knobs; j++)
        for (size_t i = 0; i < sizeof knob_defs / sizeof knob_defs[0]; i++) {
            const struct knob_def *k = &knob_defs[i];
            if (strcmp(k->name, m->knobs[j].name) != 0)
                continue;
            char *p = (char *)cfg + k->off;
            if (k->is_double)
                memcpy(p, &m->knobs[j].value, sizeof(double));
            else {
                uint32_t u = (uint32_t)m->knobs[j].value;
                memcpy(p, &u, sizeof u);
            }
        }
}

struct pc {
    struct cb_core *core;
    struct cb_core_output out;
    struct cb_demand demand;
    struct cb_supply supply;
    struct cb_instance_list lists[SIM_MAX_CLOUDS];
    struct cb_core_listing listings[SIM_MAX_CLOUDS];
    struct cb_core_event *ev;
    size_t cap_ev;
    const struct sim_model *m;
    /* node id -> sim node index, for the core's actions (ids are "b<seq>-<i>") */
    const struct sim_node *nodes;
    size_t n_nodes_seen;
};

static int pc_init(void **state, const struct sim_model *m, struct cb_err *err)
{
    struct pc *p = calloc(1, sizeof *p);
    if (p == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "cloudburst", "out of memory");
    p->m = m;
    struct cb_core_flavor fl[SIM_MAX_CLOUDS][SIM_MAX_FLAVORS];
    struct cb_core_cloud cl[SIM_MAX_CLOUDS];
    memset(fl, 0, sizeof fl);
    memset(cl, 0, sizeof cl);
    for (size_t c = 0; c < m->n_clouds; c++) {
        const struct sim_cloud *sc = &m->clouds[c];
        for (size_t f = 0; f < sc->n_flavors; f++) {
            cb_strlcpy(fl[c][f].name, sc->flavors[f].name, sizeof fl[c][f].name);
            fl[c][f].cpus = sc->flavors[f].cpus;
            fl[c][f].memory_mb = sc->flavors[f].memory_mb;
            fl[c][f].disk_gb = 0;
            fl[c][f].cost_per_hour = sc->flavors[f].cost_per_hour;
        }
        cb_strlcpy(cl[c].name, sc->name, sizeof cl[c].name);
        cb_strlcpy(cl[c].image, "sim-image", sizeof cl[c].image);
        cl[c].enabled = true;
        cl[c].priority = (int)c;
        cl[c].max_cores = sc->quota_cores;
        cl[c].spot = sc->spot_rate > 0;
        cl[c].billing = sc->per_hour ? CB_CORE_BILLING_PER_HOUR : CB_CORE_BILLING_PER_SECOND;
        cl[c].flavors = fl[c];
        cl[c].n_flavors = sc->n_flavors;
    }
    struct cb_core_config cfg;
    cb_core_config_defaults(&cfg);
    cfg.clouds = cl;
    cfg.n_clouds = m->n_clouds;
    cfg.bootstrap_ssh = false; /* cloud-init contextualisation: the node joins by itself */
    apply_knobs(&cfg, m);
    if (cb_core_new(&p->core, &cfg, err) != 0) {
        free(p);
        return -1;
    }
    *state = p;
    return 0;
}

static void pc_fini(void *state)
{
    struct pc *p = state;
    cb_core_free(p->core);
    cb_core_output_free(&p->out);
    cb_demand_free(&p->demand);
    cb_supply_free(&p->supply);
    for (size_t c = 0; c < SIM_MAX_CLOUDS; c++)
        cb_instance_list_free(&p->lists[c]);
    free(p->ev);
    free(p);
}

static struct cb_core_event *pc_event(struct pc *p, size_t *n)
{
    if (*n == p->cap_ev) {
        size_t cap = p->cap_ev ? p->cap_ev * 2 : 256;
        struct cb_core_event *v = realloc(p->ev, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        p->ev = v;
        p->cap_ev = cap;
    }
    struct cb_core_event *e = &p->ev[(*n)++];
    memset(e, 0, sizeof *e);
    return e;
}

/* The simulator names node i "<batch>-<k>"; find it among live nodes. */
static long find_node(const struct sim_obs *o, const char *node_id)
{
    for (size_t i = 0; i < o->n_live; i++)
        if (strcmp(o->nodes[o->live[i]].node_id, node_id) == 0)
            return (long)o->live[i];
    return -1;
}

static int pc_decide(void *state, const struct sim_obs *o, struct sim_actions *act,
                     struct cb_err *err)
{
    struct pc *p = state;
    const struct sim_model *m = p->m;
    /* demand */
    cb_demand_free(&p->demand);
    for (size_t i = 0; i < o->n_shapes; i++) {
        struct cb_job_shape *s = cb_demand_add(&p->demand);
        if (s == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "cloudburst", "out of memory");
        s->cpus = o->shapes[i].cpus;
        s->memory_mb = o->shapes[i].memory_mb;
        s->disk_kb = 0;
        s->runtime_s = -1;
        s->clouds = m->n_clouds >= 64 ? ~(cb_cloud_mask)0 : (((cb_cloud_mask)1 << m->n_clouds) - 1);
        s->count = (uint32_t)(o->shapes[i].count > UINT32_MAX ? UINT32_MAX : o->shapes[i].count);
        s->oldest_qdate = o->shapes[i].oldest_submit;
    }
    p->demand.idle_jobs = o->idle_jobs;
    /* supply and listings */
    cb_supply_free(&p->supply);
    for (size_t c = 0; c < m->n_clouds; c++) {
        cb_instance_list_free(&p->lists[c]);
        p->listings[c].instances = &p->lists[c];
        p->listings[c].fresh = true;
    }
    for (size_t i = 0; i < o->n_live; i++) {
        const struct sim_node *n = &o->nodes[o->live[i]];
        struct cb_instance *in = cb_instance_list_add(&p->lists[n->cloud]);
        if (in == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "cloudburst", "out of memory");
        cb_strlcpy(in->id, n->instance_id, sizeof in->id);
        cb_strlcpy(in->node_id, n->node_id, sizeof in->node_id);
        cb_strlcpy(in->batch_id, n->batch_id, sizeof in->batch_id);
        cb_strlcpy(in->flavor, m->clouds[n->cloud].flavors[n->flavor].name, sizeof in->flavor);
        cb_strlcpy(in->image, "sim-image", sizeof in->image);
        in->state = n->state == SIM_NODE_BOOTING ? CB_INSTANCE_PENDING : CB_INSTANCE_RUNNING;
        cb_strlcpy(in->private_ip, "127.0.0.1", sizeof in->private_ip);
        in->launch_time = n->requested_at;
        if (n->state != SIM_NODE_JOINED)
            continue;
        struct cb_pool_node *pn = cb_supply_add(&p->supply);
        if (pn == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "cloudburst", "out of memory");
        cb_strlcpy(pn->machine, n->node_id, sizeof pn->machine);
        cb_strlcpy(pn->node_id, n->node_id, sizeof pn->node_id);
        cb_strlcpy(pn->instance_id, n->instance_id, sizeof pn->instance_id);
        cb_strlcpy(pn->cloud, m->clouds[n->cloud].name, sizeof pn->cloud);
        pn->total_cpus = n->cpus;
        pn->idle_cpus = n->free_cpus;
        pn->total_memory_mb = n->memory_mb;
        pn->idle_memory_mb = n->free_mem;
        pn->slots = 1 + n->n_jobs;
        pn->claimed_slots = n->n_jobs;
        pn->busy = n->n_jobs > 0;
        pn->draining = n->draining;
        pn->last_heard_from = o->now;
        pn->daemon_start_time = n->join_at;
        pn->idle_since = n->n_jobs == 0 ? n->idle_since : -1;
        pn->expected_empty_at = -1;
    }
    /* results of the previous actions */
    size_t ne = 0;
    for (size_t i = 0; i < o->n_events; i++) {
        const struct sim_event *se = &o->events[i];
        struct cb_core_event *e = pc_event(p, &ne);
        if (e == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, "cloudburst", "out of memory");
        const struct sim_node *n = se->kind == SIM_EV_BOOT_FAILED ? NULL : &o->nodes[se->node];
        if (n != NULL) {
            cb_strlcpy(e->node_id, n->node_id, sizeof e->node_id);
            cb_strlcpy(e->instance_id, n->instance_id, sizeof e->instance_id);
            cb_strlcpy(e->batch_id, n->batch_id, sizeof e->batch_id);
            e->cloud = n->cloud;
        }
        switch (se->kind) {
        case SIM_EV_BOOT_OK: e->kind = CB_EVENT_BOOT_ACCEPTED; break;
        case SIM_EV_BOOT_FAILED:
            e->kind = CB_EVENT_BOOT_FAILED;
            cb_strlcpy(e->batch_id, se->batch_id, sizeof e->batch_id);
            e->error = se->error;
            break;
        case SIM_EV_DRAIN_OK: e->kind = CB_EVENT_DRAIN_STARTED; break;
        case SIM_EV_UNDRAIN_OK: e->kind = CB_EVENT_CANCEL_DRAIN_DONE; break;
        case SIM_EV_TERMINATED: e->kind = CB_EVENT_TERMINATE_DONE; break;
        case SIM_EV_PREEMPTED: e->kind = CB_EVENT_PREEMPTED; break;
        }
    }
    struct cb_core_input in = {
        .now = o->now, .demand = &p->demand, .supply = &p->supply,
        .listings = p->listings, .n_listings = m->n_clouds,
        .events = p->ev, .n_events = ne, .paused = false,
    };
    if (cb_core_decide(p->core, &in, &p->out, err) != 0)
        return -1;
    for (size_t i = 0; i < p->out.n_actions; i++) {
        const struct cb_core_action *a = &p->out.actions[i];
        long ni;
        switch (a->kind) {
        case CB_ACTION_BOOT:
            sim_act_boot(act, a->cloud, a->flavor, a->count, a->batch_id);
            break;
        case CB_ACTION_DRAIN:
        case CB_ACTION_CANCEL_DRAIN:
        case CB_ACTION_TERMINATE:
            ni = find_node(o, a->node_id);
            if (ni >= 0)
                sim_act_node(act,
                             a->kind == CB_ACTION_DRAIN ? SIM_ACT_DRAIN
                             : a->kind == CB_ACTION_CANCEL_DRAIN ? SIM_ACT_UNDRAIN
                                                                 : SIM_ACT_TERMINATE,
                             (uint32_t)ni);
            break;
        default: /* BOOTSTRAP (off: cloud-init), ADOPT (no cloud call) */
            break;
        }
    }
    return 0;
}

const struct sim_policy_ops sim_policy_cloudburst = {
    .name = "cloudburst",
    .follows = "src/core (libcbcore.la), the daemon's own decision code, default knobs",
    .interval = 0, /* the model's core_cycle: controller.cycle_interval, default 60 */
    .init = pc_init,
    .decide = pc_decide,
    .fini = pc_fini,
};
