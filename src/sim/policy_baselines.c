/* policy_baselines: faithful re-implementations of peer controllers, mapped
 * onto the simulator's HTCondor pool, with their upstream default parameters.
 * Each one cites the upstream file(s) it follows (the parameters were read
 * from those files; see the research notes behind issue 3, §4.2/§4.3). Where
 * an upstream's documentation and code disagree, the code wins and the
 * comment says so.
 *
 * Mapping rules common to all: one "node" is one VM of one flavor; a policy
 * that manages a fixed machine type uses the smallest flavor with at least 8
 * cores (a WLCG multicore pilot/VM) or the smallest that fits the largest idle
 * job; "terminate" is the cloud delete call, "drain" is HTCondor's graceful
 * drain (no new jobs; running ones finish). */
#include "sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------- */

static int pick_flavor(const struct sim_cloud *c, uint32_t min_cpus, uint64_t min_mem)
{
    int best = -1;
    for (size_t f = 0; f < c->n_flavors; f++)
        if (c->flavors[f].cpus >= min_cpus && c->flavors[f].memory_mb >= min_mem &&
            (best < 0 || c->flavors[f].cpus < c->flavors[best].cpus))
            best = (int)f;
    return best;
}

/* Fixed machine type of VM-per-pilot policies: >= 8 cores, or what the
 * largest idle job needs. Falls back to the largest flavor. */
static int machine_flavor(const struct sim_obs *o, unsigned cloud, uint32_t min_cpus)
{
    const struct sim_cloud *c = &o->model->clouds[cloud];
    uint32_t need = min_cpus;
    uint64_t mem = 0;
    for (size_t i = 0; i < o->n_shapes; i++) {
        if (o->shapes[i].cpus > need)
            need = o->shapes[i].cpus;
        if (o->shapes[i].memory_mb > mem)
            mem = o->shapes[i].memory_mb;
    }
    int f = pick_flavor(c, need, mem);
    if (f < 0)
        f = (int)c->n_flavors - 1;
    return f;
}

static uint64_t live_cores(const struct sim_obs *o, unsigned cloud)
{
    uint64_t c = 0;
    for (size_t i = 0; i < o->n_live; i++)
        if (o->nodes[o->live[i]].cloud == cloud)
            c += o->nodes[o->live[i]].cpus;
    return c;
}

/* Nodes a cloud's quota still allows of a flavor (UINT32_MAX: no quota). */
static uint32_t quota_room(const struct sim_obs *o, unsigned cloud, int flavor)
{
    const struct sim_cloud *c = &o->model->clouds[cloud];
    if (c->quota_cores == 0)
        return UINT32_MAX;
    uint64_t used = live_cores(o, cloud);
    if (used >= c->quota_cores)
        return 0;
    return (uint32_t)((c->quota_cores - used) / c->flavors[flavor].cpus);
}

static bool in_flight(const struct sim_node *n) { return n->state == SIM_NODE_BOOTING || n->state == SIM_NODE_RUNNING; }

/* Per-node scratch indexed by simulator node index. */
struct per_node {
    int64_t *v;
    size_t cap;
};

static int64_t *pn_at(struct per_node *p, uint32_t i, int64_t init)
{
    if (i >= p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap <= i)
            cap *= 2;
        int64_t *v = realloc(p->v, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        for (size_t k = p->cap; k < cap; k++)
            v[k] = init;
        p->v = v;
        p->cap = cap;
    }
    return &p->v[i];
}

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
}

#define OOM(err, who) cb_err_set((err), CB_ERR_INTERNAL, (who), "out of memory")

/* ==== B1 Kubernetes cluster-autoscaler ======================================
 * Follows kubernetes/autoscaler cluster-autoscaler/config/flags/flags.go and
 * config/const.go (defaults), core/scaleup (FFD estimator, least-waste
 * expander), core/scaledown (unneeded nodes). Defaults: scan-interval 10 s;
 * max-nodes-per-scaleup 1000; max-node-provision-time 15 min; initial backoff
 * 5 min doubling to 30 min, reset after 3 h; scale-down-unneeded-time 10 min;
 * scale-down-delay-after-add 10 min, -after-failure 3 min;
 * max-empty-bulk-delete 10; scale-down-utilization-threshold 0.5. Batch jobs
 * cannot move (no eviction of HTCondor jobs), so only empty nodes are unneeded
 * (for pods, CA would also consider under-utilised nodes whose pods fit
 * elsewhere; that never applies to running batch jobs). Empty nodes are
 * deleted directly, without a drain (as CA does for empty nodes). */
struct ca {
    struct per_node unneeded_since;
    int64_t last_scale_up;
    int64_t backoff_until, backoff_len, last_failure;
};

static int ca_init(void **st, const struct sim_model *m, struct cb_err *err)
{
    struct ca *c = calloc(1, sizeof *c);
    if (c == NULL)
        return OOM(err, "cluster-autoscaler");
    c->last_scale_up = -1000000;
    c->last_failure = -1000000;
    *st = c;
    return 0;
}

static void ca_fini(void *st)
{
    struct ca *c = st;
    free(c->unneeded_since.v);
    free(c);
}

/* Nodes of flavor f that first-fit-decreasing packing of the remaining jobs needs. */
static uint64_t ffd_nodes(const struct sim_flavor *f, const struct sim_shape *sh, const uint64_t *left,
                          size_t n, double *waste)
{
    uint64_t nodes = 0;
    double used = 0;
    /* shapes sorted by cpus desc via index order built by caller */
    uint64_t rem[64];
    size_t k = n < 64 ? n : 64;
    for (size_t i = 0; i < k; i++)
        rem[i] = left[i];
    for (;;) {
        bool any = false;
        uint32_t cpus = f->cpus;
        uint64_t mem = f->memory_mb;
        for (size_t i = 0; i < k; i++) {
            if (rem[i] == 0 || sh[i].cpus > f->cpus || sh[i].memory_mb > f->memory_mb)
                continue;
            uint64_t fit = cpus / sh[i].cpus;
            if (sh[i].memory_mb > 0 && mem / sh[i].memory_mb < fit)
                fit = mem / sh[i].memory_mb;
            if (fit > rem[i])
                fit = rem[i];
            if (fit == 0)
                continue;
            any = true;
            rem[i] -= fit;
            cpus -= (uint32_t)(fit * sh[i].cpus);
            mem -= fit * sh[i].memory_mb;
            used += (double)(fit * sh[i].cpus);
        }
        if (!any)
            break;
        /* a node full of jobs: count it; repeat whole nodes quickly */
        nodes++;
        if (nodes > 1000000)
            break;
    }
    *waste = nodes ? 1.0 - used / ((double)nodes * f->cpus) : 1.0;
    return nodes;
}

static int cmp_shape_desc(const void *a, const void *b)
{
    const struct sim_shape *x = a, *y = b;
    return (x->cpus < y->cpus) - (x->cpus > y->cpus);
}

static int ca_decide(void *st, const struct sim_obs *o, struct sim_actions *act, struct cb_err *err)
{
    struct ca *c = st;
    const struct sim_model *m = o->model;
    /* max-node-provision-time: not registered within 15 min -> delete, back off */
    bool failed = false;
    for (size_t i = 0; i < o->n_live; i++) {
        const struct sim_node *n = &o->nodes[o->live[i]];
        if (in_flight(n) && o->now - n->requested_at >= 15 * 60) {
            sim_act_node(act, SIM_ACT_TERMINATE, o->live[i]);
            failed = true;
        }
    }
    for (size_t i = 0; i < o->n_events; i++)
        if (o->events[i].kind == SIM_EV_BOOT_FAILED)
            failed = true;
    if (failed) {
        if (o->now - c->last_failure > 3 * 3600 || c->backoff_len == 0)
            c->backoff_len = 5 * 60;
        else if (c->backoff_len < 30 * 60)
            c->backoff_len = c->backoff_len * 2 > 30 * 60 ? 30 * 60 : c->backoff_len * 2;
        c->backoff_until = o->now + c->backoff_len;
        c->last_failure = o->now;
    }
    /* scale-up: pending jobs that do not fit existing free or upcoming capacity */
    if (o->n_shapes > 0 && o->now >= c->backoff_until) {
        struct sim_shape sh[64];
        size_t k = o->n_shapes < 64 ? o->n_shapes : 64;
        memcpy(sh, o->shapes, k * sizeof *sh);
        qsort(sh, k, sizeof *sh, cmp_shape_desc);
        uint64_t left[64];
        for (size_t i = 0; i < k; i++)
            left[i] = sh[i].count;
        /* existing holes: free cores of joined nodes and whole upcoming nodes */
        for (size_t i = 0; i < o->n_live; i++) {
            const struct sim_node *n = &o->nodes[o->live[i]];
            if (n->draining)
                continue;
            uint32_t cpus = n->state == SIM_NODE_JOINED ? n->free_cpus : n->cpus;
            uint64_t mem = n->state == SIM_NODE_JOINED ? n->free_mem : n->memory_mb;
            for (size_t s = 0; s < k && cpus > 0; s++) {
                if (left[s] == 0 || sh[s].cpus > cpus)
                    continue;
                uint64_t fit = cpus / sh[s].cpus;
                if (sh[s].memory_mb > 0 && mem / sh[s].memory_mb < fit)
                    fit = mem / sh[s].memory_mb;
                if (fit > left[s])
                    fit = left[s];
                left[s] -= fit;
                cpus -= (uint32_t)(fit * sh[s].cpus);
                mem -= fit * sh[s].memory_mb;
            }
        }
        /* least-waste expander over (cloud, flavor) groups; upstream breaks
         * ties at random, here the first group in configuration order wins
         * (deterministic runs; the default cloud lists flavors small to large) */
        int bc = -1, bf = -1;
        uint64_t bn = 0;
        double bw = 2;
        for (size_t cl = 0; cl < m->n_clouds; cl++)
            for (size_t f = 0; f < m->clouds[cl].n_flavors; f++) {
                double w;
                uint64_t need = ffd_nodes(&m->clouds[cl].flavors[f], sh, left, k, &w);
                if (need == 0)
                    continue;
                if (w < bw - 1e-9) {
                    bw = w;
                    bc = (int)cl;
                    bf = (int)f;
                    bn = need;
                }
            }
        if (bc >= 0) {
            uint32_t room = quota_room(o, (unsigned)bc, bf);
            if (bn > 1000)
                bn = 1000;
            if (bn > room)
                bn = room;
            if (bn > 0) {
                sim_act_boot(act, (unsigned)bc, (unsigned)bf, (uint32_t)bn, NULL);
                c->last_scale_up = o->now;
            }
        }
    }
    /* scale-down: empty nodes unneeded for 10 min; not within 10 min of a
     * scale-up or 3 min of a failure; at most 10 empty nodes at once */
    uint32_t deleted = 0;
    bool allowed = o->now - c->last_scale_up >= 600 && o->now - c->last_failure >= 180;
    for (size_t i = 0; i < o->n_live; i++) {
        uint32_t ni = o->live[i];
        const struct sim_node *n = &o->nodes[ni];
        int64_t *u = pn_at(&c->unneeded_since, ni, -1);
        if (u == NULL)
            return OOM(err, "cluster-autoscaler");
        bool unneeded = n->state == SIM_NODE_JOINED && n->n_jobs == 0;
        if (!unneeded) {
            *u = -1;
            continue;
        }
        if (*u < 0)
            *u = o->now;
        if (allowed && deleted < 10 && o->now - *u >= 600) {
            sim_act_node(act, SIM_ACT_TERMINATE, ni);
            deleted++;
        }
    }
    return 0;
}

/* ==== B4 glideinWMS frontend ================================================
 * Follows glideinWMS frontend/glideinFrontendElement.py (request computation,
 * curbs), creation/lib/cvWParams.py (frontend defaults: max running 10000 per
 * entry, max idle 100 per entry, curb idle 5, total idle 1000/curb 200) and
 * creation/web_base/condor_startup.sh + cgWParams.py (glidein side: exits
 * unmatched after 1200 s, 400 s after its last job, stops accepting jobs
 * after 21600 s minus U(0, 7200 s) of retire spread). One entry per cloud with
 * the machine-type flavor; jobs are split evenly among entries. The frontend
 * never terminates VMs itself (removal type NO): VMs end when their glidein
 * exits. The documentation's "fraction 1/3 of the gap" is the code's
 * min(effective_idle, headroom) / 3 term; the old-idle boost is capped at 5. */
struct gw {
    struct per_node lifetime_end;
};

static int gw_init(void **st, const struct sim_model *m, struct cb_err *err)
{
    struct gw *g = calloc(1, sizeof *g);
    if (g == NULL)
        return OOM(err, "glideinwms");
    *st = g;
    return 0;
}

static void gw_fini(void *st)
{
    struct gw *g = st;
    free(g->lifetime_end.v);
    free(g);
}

static int gw_decide(void *st, const struct sim_obs *o, struct sim_actions *act, struct cb_err *err)
{
    struct gw *g = st;
    const struct sim_model *m = o->model;
    uint64_t idle_glideins = 0, running_glideins = 0, total = 0;
    /* glidein-side exits */
    for (size_t i = 0; i < o->n_live; i++) {
        uint32_t ni = o->live[i];
        const struct sim_node *n = &o->nodes[ni];
        int64_t *end = pn_at(&g->lifetime_end, ni, -1);
        if (end == NULL)
            return OOM(err, "glideinwms");
        if (*end < 0)
            *end = n->requested_at + 21600 - (int64_t)(hash64(ni ^ m->seed) % 7200);
        total++;
        if (n->state != SIM_NODE_JOINED) {
            /* the pilot never started: the VM is given up after 1200 s */
            if (o->now - n->requested_at >= 1200)
                sim_act_node(act, SIM_ACT_TERMINATE, ni);
            else
                idle_glideins++;
            continue;
        }
        if (n->n_jobs > 0) {
            running_glideins++;
            if (o->now >= *end && !n->draining)
                sim_act_node(act, SIM_ACT_DRAIN, ni); /* retire: no new jobs */
            continue;
        }
        bool exit_unmatched = !n->ever_used && o->now - n->join_at >= 1200;
        bool exit_tail = n->ever_used && n->last_job_end >= 0 && o->now - n->last_job_end >= 400;
        if (exit_unmatched || exit_tail || n->draining || o->now >= *end)
            sim_act_node(act, SIM_ACT_TERMINATE, ni); /* the glidein exits, the VM shuts down */
        else
            idle_glideins++;
    }
    /* frontend request per entry (one per cloud) */
    for (unsigned cl = 0; cl < m->n_clouds; cl++) {
        int f = machine_flavor(o, cl, 8);
        uint32_t fc = m->clouds[cl].flavors[f].cpus;
        double share = 1.0 / (double)m->n_clouds;
        uint64_t idle = (uint64_t)ceil((double)o->idle_cores * share / fc); /* in glideins */
        uint64_t old = 0;
        for (size_t i = 0; i < o->n_idle_fifo; i++)
            if (o->now - o->jobs[o->idle_fifo[i]].submit >= 600)
                old += o->jobs[o->idle_fifo[i]].cpus;
        old = (uint64_t)ceil((double)old * share / fc);
        uint64_t eff = idle > idle_glideins ? idle - idle_glideins : 0;
        if (eff == 0 || running_glideins >= 10000 || idle_glideins >= 100 || total >= 100000)
            continue;
        uint64_t headroom = 100 - idle_glideins;
        double req = (double)(eff < headroom ? eff : headroom) / 3.0 + fmin((double)old / 3.0, 5);
        if (req > 100)
            req = 100;
        if (idle_glideins >= 5)
            req /= 2;
        if (idle_glideins >= 200)
            req /= 2;
        if (running_glideins >= 90000)
            req /= 2;
        uint64_t r = (uint64_t)req;
        if (r < 1)
            r = 1;
        uint64_t max_running = (uint64_t)(((double)eff + (double)running_glideins) * 1.15 + 1);
        /* the factory keeps `r` idle glideins outstanding */
        uint64_t boot = r > idle_glideins ? r - idle_glideins : 0;
        if (total + boot > max_running)
            boot = max_running > total ? max_running - total : 0;
        uint32_t room = quota_room(o, cl, f);
        if (boot > room)
            boot = room;
        if (boot > 0)
            sim_act_boot(act, cl, (unsigned)f, (uint32_t)boot, NULL);
    }
    return 0;
}

/* ==== B2 cloudscheduler v2 (csv2) ============================================
 * Follows cloudscheduler cloudscheduler/csmain (the scheduling loop),
 * schema/views/view_active_resource_shortfall and view_idle_vms (shortfall
 * and idle VM counts), data_collectors/condor/condor_poller.py (retire /
 * peaceful off), schema_backup/stable-2.11.0.rc1/csv2_groups + csv2_clouds
 * (defaults: vm_keep_alive 300 s (floor 120), max starting 5 per cloud,
 * 5 VMs per boot request, error_delete 300 s, unregistered 7200 s, no job by
 * 1800 s). One group; the group's shape is its largest idle job. */
static int csv2_init(void **st, const struct sim_model *m, struct cb_err *err)
{
    *st = calloc(1, 1);
    return *st ? 0 : OOM(err, "csv2");
}

static void csv2_fini(void *st) { free(st); }

static int csv2_decide(void *st, const struct sim_obs *o, struct sim_actions *act, struct cb_err *err)
{
    const struct sim_model *m = o->model;
    uint64_t prov_c = 0, prov_m = 0, idle_vms = 0, running_vms = 0;
    uint32_t starting[SIM_MAX_CLOUDS] = { 0 };
    for (size_t i = 0; i < o->n_live; i++) {
        uint32_t ni = o->live[i];
        const struct sim_node *n = &o->nodes[ni];
        if (n->draining) {
            if (n->n_jobs == 0)
                sim_act_node(act, SIM_ACT_TERMINATE, ni); /* retired, no slots left */
            continue;
        }
        prov_c += n->cpus;
        prov_m += n->memory_mb;
        if (n->state != SIM_NODE_JOINED) {
            starting[n->cloud]++;
            if (o->now - n->requested_at >= 7200) /* registered never */
                sim_act_node(act, SIM_ACT_TERMINATE, ni);
            continue;
        }
        if (n->n_jobs > 0) {
            running_vms++;
            continue;
        }
        idle_vms++;
        bool never = !n->ever_used && o->now - n->join_at >= 1800;
        bool keep_alive = n->ever_used && n->last_job_end >= 0 && o->now - n->last_job_end >= 300;
        if (never || keep_alive)
            sim_act_node(act, SIM_ACT_DRAIN, ni); /* retire: peaceful off */
    }
    if (o->n_shapes == 0)
        return 0;
    uint64_t req_c = o->idle_cores + o->running_cores_cloud, req_m = 0;
    uint32_t big_c = 0;
    uint64_t big_m = 0;
    for (size_t i = 0; i < o->n_shapes; i++) {
        req_m += o->shapes[i].count * o->shapes[i].memory_mb;
        if (o->shapes[i].cpus > big_c)
            big_c = o->shapes[i].cpus;
        if (o->shapes[i].memory_mb > big_m)
            big_m = o->shapes[i].memory_mb;
    }
    /* running jobs' memory: approximate by their cores at the idle mix's ratio */
    if (o->idle_cores > 0)
        req_m += (uint64_t)((double)o->running_cores_cloud * (double)req_m / (double)o->idle_cores);
    int64_t short_c = (int64_t)req_c - (int64_t)prov_c, short_m = (int64_t)req_m - (int64_t)prov_m;
    if (short_c <= 0 && short_m <= 0)
        return 0;
    uint64_t idle_cap = running_vms / 10 > 10 ? running_vms / 10 : 10;
    if (idle_vms >= idle_cap)
        return 0;
    for (unsigned cl = 0; cl < m->n_clouds; cl++) {
        int f = pick_flavor(&m->clouds[cl], big_c, big_m);
        if (f < 0 || starting[cl] >= 5)
            continue;
        const struct sim_flavor *fl = &m->clouds[cl].flavors[f];
        uint64_t n1 = short_c > 0 ? (uint64_t)((short_c + fl->cpus - 1) / fl->cpus) : 0;
        uint64_t n2 = short_m > 0 ? (uint64_t)((uint64_t)short_m + fl->memory_mb - 1) / fl->memory_mb : 0;
        uint64_t n = n1 > n2 ? n1 : n2;
        if (n > 5)
            n = 5;
        uint32_t room = quota_room(o, cl, f);
        if (n > room)
            n = room;
        if (n > 0) {
            sim_act_boot(act, cl, (unsigned)f, (uint32_t)n, NULL);
            break; /* stop for this group this cycle */
        }
    }
    return 0;
}

/* ==== B3 COBalD/TARDIS ========================================================
 * Follows COBalD src/cobald/controller/linear.py (LinearController),
 * src/cobald/decorator/limiter.py, src/cobald/composite/factory.py and
 * TARDIS tardis/resources/poolfactory.py, drone.py, dronestates.py,
 * tardis/adapters/batchsystems/htcondor.py (allocation = max, utilisation =
 * min of the resource ratios; 60 s status cache). Parameters: the TARDIS
 * documented deployment (containers/cobald-tardis-htcondor/cobald.yml): low
 * utilisation 0.9, high allocation 0.9, rate 1 core per second; Limiter
 * minimum 1. The controller runs every 1 s on a status that changes only every
 * 60 s, so 30 controller steps on the same input are applied at once each
 * 30 s factory cycle (same result, 30x fewer calls). Queue-blind by design.
 * No integration timeout (a VM that never joins stays a Booting drone: the
 * code has none, although the docs discuss one). */
struct tardis {
    double demand;
    struct per_node released;
};

static int tardis_init(void **st, const struct sim_model *m, struct cb_err *err)
{
    struct tardis *t = calloc(1, sizeof *t);
    if (t == NULL)
        return OOM(err, "tardis");
    t->demand = 1;
    *st = t;
    return 0;
}

static void tardis_fini(void *st)
{
    struct tardis *t = st;
    free(t->released.v);
    free(t);
}

static double drone_util(const struct sim_node *n)
{
    double c = 1.0 - (double)n->free_cpus / n->cpus, mm = 1.0 - (double)n->free_mem / (double)n->memory_mb;
    return c < mm ? c : mm;
}

static double drone_alloc(const struct sim_node *n)
{
    double c = 1.0 - (double)n->free_cpus / n->cpus, mm = 1.0 - (double)n->free_mem / (double)n->memory_mb;
    return c > mm ? c : mm;
}

static int tardis_decide(void *st, const struct sim_obs *o, struct sim_actions *act, struct cb_err *err)
{
    struct tardis *t = st;
    const struct sim_model *m = o->model;
    double wu = 0, wa = 0, w = 0, supply = 0;
    for (size_t i = 0; i < o->n_live; i++) {
        uint32_t ni = o->live[i];
        const struct sim_node *n = &o->nodes[ni];
        int64_t *rel = pn_at(&t->released, ni, 0);
        if (rel == NULL)
            return OOM(err, "tardis");
        if (*rel) {
            if (n->state != SIM_NODE_JOINED || n->n_jobs == 0)
                sim_act_node(act, SIM_ACT_TERMINATE, ni); /* Drained -> stop -> delete */
            continue;
        }
        supply += n->cpus;
        if (n->state == SIM_NODE_JOINED) { /* Available */
            wu += drone_util(n) * n->cpus;
            wa += drone_alloc(n) * n->cpus;
            w += n->cpus;
        }
    }
    double util = w > 0 ? wu / w : 1.0, alloc = w > 0 ? wa / w : 1.0;
    double quota = m->clouds[0].quota_cores ? m->clouds[0].quota_cores : 1e9;
    for (int step = 0; step < 30; step++) {
        if (util < 0.9)
            t->demand -= 1;
        else if (alloc > 0.9)
            t->demand += 1;
        if (t->demand < 1)
            t->demand = 1;
        if (t->demand > quota)
            t->demand = quota;
    }
    int f = machine_flavor(o, 0, 8);
    double fc = m->clouds[0].flavors[f].cpus;
    if (supply < t->demand) { /* FactoryPool: spawn while supply < demand */
        uint32_t k = (uint32_t)ceil((t->demand - supply) / fc);
        uint32_t room = quota_room(o, 0, f);
        if (k > room)
            k = room;
        sim_act_boot(act, 0, (unsigned)f, k, NULL);
    } else if (supply > t->demand) {
        /* release drones in ascending supply x utilisation until the excess is covered */
        double excess = supply - t->demand;
        while (excess >= 1) {
            long best = -1;
            double bv = 1e18;
            for (size_t i = 0; i < o->n_live; i++) {
                uint32_t ni = o->live[i];
                const struct sim_node *n = &o->nodes[ni];
                if (t->released.v[ni])
                    continue;
                double v = n->cpus * (n->state == SIM_NODE_JOINED ? drone_util(n) : 0);
                if (v < bv) {
                    bv = v;
                    best = ni;
                }
            }
            if (best < 0 || o->nodes[best].cpus > excess + 1e-9)
                break;
            t->released.v[best] = 1;
            excess -= o->nodes[best].cpus;
            const struct sim_node *n = &o->nodes[best];
            if (n->state != SIM_NODE_JOINED)
                sim_act_node(act, SIM_ACT_TERMINATE, (uint32_t)best); /* released while Booting */
            else if (n->n_jobs == 0)
                sim_act_node(act, SIM_ACT_TERMINATE, (uint32_t)best);
            else
                sim_act_node(act, SIM_ACT_DRAIN, (uint32_t)best);
        }
    }
    return 0;
}

/* ==== B5 elastiq ==============================================================
 * Follows elastiq pylib/elastiq/__init__.py (check_queue every 15 s,
 * check_vms every 45 s, boot/registration timeouts) and
 * pylib/elastiq/plugins/htcondor.py; code defaults: waiting_jobs_threshold 0,
 * waiting_jobs_time_s 40, jobs_per_vm 4, idle_for_time_s 3600,
 * estimated_vm_deploy_time_s 600, min_vms 0. (etc/elastiq.conf ships
 * threshold 10 / 100 s; the code defaults are used here.) VMs idle long enough
 * are terminated without a drain (as upstream does). */
struct elq {
    int64_t over_since;
    uint64_t cycle;
};

static int elq_init(void **st, const struct sim_model *m, struct cb_err *err)
{
    struct elq *e = calloc(1, sizeof *e);
    if (e == NULL)
        return OOM(err, "elastiq");
    e->over_since = -1;
    *st = e;
    return 0;
}

static void elq_fini(void *st) { free(st); }

static int elq_decide(void *st, const struct sim_obs *o, struct sim_actions *act, struct cb_err *err)
{
    struct elq *e = st;
    const struct sim_model *m = o->model;
    int f = machine_flavor(o, 0, 4);
    const struct sim_flavor *fl = &m->clouds[0].flavors[f];
    uint64_t recent = 0, running = 0;
    for (size_t i = 0; i < o->n_live; i++) {
        const struct sim_node *n = &o->nodes[o->live[i]];
        if (o->now - n->requested_at < 600)
            recent++;
        else
            running++;
    }
    int64_t W = (int64_t)o->idle_jobs - 4 * (int64_t)recent;
    if (W >= 0 && o->idle_jobs > 0) {
        if (e->over_since < 0)
            e->over_since = o->now;
        if (o->now - e->over_since > 40) {
            uint64_t want = ((uint64_t)W + 3) / 4;
            uint64_t max_vms = m->clouds[0].quota_cores ? m->clouds[0].quota_cores / fl->cpus : 100000;
            uint64_t cap = max_vms > running + recent ? max_vms - running - recent : 0;
            if (want > cap)
                want = cap;
            if (want > 0)
                sim_act_boot(act, 0, (unsigned)f, (uint32_t)want, NULL);
            e->over_since = -1;
        }
    } else {
        e->over_since = -1;
    }
    if (e->cycle++ % 3 == 0) { /* check_vms every 45 s */
        for (size_t i = 0; i < o->n_live; i++) {
            uint32_t ni = o->live[i];
            const struct sim_node *n = &o->nodes[ni];
            if (n->state != SIM_NODE_JOINED) {
                if (o->now - n->requested_at >= 600)
                    sim_act_node(act, SIM_ACT_TERMINATE, ni);
            } else if (n->n_jobs == 0 && n->idle_since >= 0 && o->now - n->idle_since >= 3600) {
                sim_act_node(act, SIM_ACT_TERMINATE, ni);
            }
        }
    }
    return 0;
}

/* ==== B7 CLUES =================================================================
 * Follows grycap/clues clueslib/schedulers.py (pending jobs FIFO, power on
 * the minimum set of nodes, MAX_BOOTING 2, re-raise after 60 s, idle power off
 * after 1800 s) and etc/conf.d/schedulers.cfg-example, etc/clues2.cfg-full-example
 * (PERIOD_LIFECYCLE 5 s, TIMEOUT_POWON 300 s, MAX_RETRIES 3). A node is one VM
 * of the machine-type flavor; a power-on that does not join within 300 s is
 * switched off and retried on the next cycle. */
static int clues_init(void **st, const struct sim_model *m, struct cb_err *err)
{
    *st = calloc(1, 1);
    return *st ? 0 : OOM(err, "clues");
}

static void clues_fini(void *st) { free(st); }

static int clues_decide(void *st, const struct sim_obs *o, struct sim_actions *act, struct cb_err *err)
{
    const struct sim_model *m = o->model;
    uint32_t booting = 0;
    int64_t cap = 0;
    for (size_t i = 0; i < o->n_live; i++) {
        uint32_t ni = o->live[i];
        const struct sim_node *n = &o->nodes[ni];
        if (n->state != SIM_NODE_JOINED) {
            if (o->now - n->requested_at >= 300) {
                sim_act_node(act, SIM_ACT_TERMINATE, ni); /* power-on timed out */
                continue;
            }
            booting++;
            cap += n->cpus;
        } else {
            cap += n->free_cpus;
            if (n->n_jobs == 0 && n->idle_since >= 0 && o->now - n->idle_since >= 1800)
                sim_act_node(act, SIM_ACT_TERMINATE, ni); /* power off idle */
        }
    }
    if (booting >= 2 || o->n_idle_fifo == 0)
        return 0;
    int f = machine_flavor(o, 0, 8);
    uint32_t fc = m->clouds[0].flavors[f].cpus;
    uint32_t room = quota_room(o, 0, f);
    uint32_t boot = 0;
    for (size_t i = 0; i < o->n_idle_fifo && booting + boot < 2 && boot < room; i++) {
        const struct sim_job *j = &o->jobs[o->idle_fifo[i]];
        while ((int64_t)j->cpus > cap && booting + boot < 2 && boot < room) {
            boot++;
            cap += fc;
        }
        cap -= j->cpus;
    }
    if (boot > 0)
        sim_act_boot(act, 0, (unsigned)f, boot, NULL);
    return 0;
}

/* ==== B8 Slurm power saving ====================================================
 * Follows SchedMD slurm doc/html/power_save.shtml and src/slurmctld/power_save.c:
 * the scheduler allocates pending jobs onto powered-down cloud nodes, which are
 * resumed (ResumeRate 300 nodes/min; power_save_interval 10 s); a node not
 * registered within ResumeTimeout is set DOWN (600 s for clouds; the 60 s
 * default is too short for VMs) and its VM removed; idle nodes are suspended
 * after SuspendTime 600 s (AWS ParallelCluster default) at SuspendRate 60
 * nodes/min. The doc's SuspendTime default is "disabled"; the cloud
 * deployments set it, so the ParallelCluster value is used. */
static int slurm_init(void **st, const struct sim_model *m, struct cb_err *err)
{
    *st = calloc(1, 1);
    return *st ? 0 : OOM(err, "slurm");
}

static void slurm_fini(void *st) { free(st); }

static int slurm_decide(void *st, const struct sim_obs *o, struct sim_actions *act, struct cb_err *err)
{
    const struct sim_model *m = o->model;
    int64_t cap = 0;
    uint32_t suspended = 0;
    for (size_t i = 0; i < o->n_live; i++) {
        uint32_t ni = o->live[i];
        const struct sim_node *n = &o->nodes[ni];
        if (n->state != SIM_NODE_JOINED) {
            if (o->now - n->requested_at >= 600) {
                sim_act_node(act, SIM_ACT_TERMINATE, ni); /* ResumeTimeout: DOWN */
                continue;
            }
            cap += n->cpus; /* jobs are already allocated to resuming nodes */
        } else {
            cap += n->free_cpus;
            if (n->n_jobs == 0 && n->idle_since >= 0 && o->now - n->idle_since >= 600 &&
                suspended < 10) { /* SuspendRate 60/min at 10 s */
                sim_act_node(act, SIM_ACT_TERMINATE, ni);
                suspended++;
                cap -= n->free_cpus;
            }
        }
    }
    int64_t need = (int64_t)o->idle_cores - cap;
    if (need <= 0)
        return 0;
    int f = machine_flavor(o, 0, 8);
    uint32_t fc = m->clouds[0].flavors[f].cpus;
    uint64_t k = ((uint64_t)need + fc - 1) / fc;
    if (k > 50) /* ResumeRate 300/min at 10 s */
        k = 50;
    uint32_t room = quota_room(o, 0, f);
    if (k > room)
        k = room;
    if (k > 0)
        sim_act_boot(act, 0, (unsigned)f, (uint32_t)k, NULL);
    return 0;
}

/* ==== B9 StarCluster ============================================================
 * Follows jtriley/StarCluster starcluster/balancers/sge/__init__.py
 * (SGELoadBalancer defaults: polling_interval 60 s, wait_time 900 s,
 * add_nodes_per_iteration 1, stabilization_time 180 s, kill_after 45 minutes
 * past the hour, min_nodes 1). min_nodes 1 keeps one node up forever, so the
 * pool never shrinks to zero (as upstream). */
struct starc {
    int64_t last_change;
};

static int star_init(void **st, const struct sim_model *m, struct cb_err *err)
{
    struct starc *s = calloc(1, sizeof *s);
    if (s == NULL)
        return OOM(err, "starcluster");
    s->last_change = -1000000;
    *st = s;
    return 0;
}

static void star_fini(void *st) { free(st); }

static int star_decide(void *st, const struct sim_obs *o, struct sim_actions *act, struct cb_err *err)
{
    struct starc *s = st;
    uint64_t slots = 0;
    for (size_t i = 0; i < o->n_live; i++)
        slots += o->nodes[o->live[i]].cpus;
    if (o->now - s->last_change < 180)
        return 0;
    if (o->idle_jobs > slots && o->oldest_idle_submit >= 0 && o->now - o->oldest_idle_submit > 900) {
        int f = machine_flavor(o, 0, 8);
        if (quota_room(o, 0, f) > 0) {
            sim_act_boot(act, 0, (unsigned)f, 1, NULL);
            s->last_change = o->now;
        }
        return 0;
    }
    if (o->idle_jobs == 0) {
        size_t keep = o->n_live;
        for (size_t i = 0; i < o->n_live && keep > 1; i++) {
            uint32_t ni = o->live[i];
            const struct sim_node *n = &o->nodes[ni];
            if (n->state == SIM_NODE_JOINED && n->n_jobs == 0 &&
                (o->now - n->requested_at) % 3600 >= 45 * 60) {
                sim_act_node(act, SIM_ACT_TERMINATE, ni);
                keep--;
                s->last_change = o->now;
            }
        }
    }
    return 0;
}

/* ---- registry ------------------------------------------------------------------- */

extern const struct sim_policy_ops sim_policy_cloudburst;

static const struct sim_policy_ops pol_ca = {
    "cluster-autoscaler", "kubernetes/autoscaler cluster-autoscaler/config/flags/flags.go, config/const.go",
    10, ca_init, ca_decide, ca_fini };
static const struct sim_policy_ops pol_gw = {
    "glideinwms", "glideinWMS frontend/glideinFrontendElement.py, creation/lib/cvWParams.py",
    60, gw_init, gw_decide, gw_fini };
static const struct sim_policy_ops pol_csv2 = {
    "csv2", "cloudscheduler csmain, schema/views/view_active_resource_shortfall",
    10, csv2_init, csv2_decide, csv2_fini };
static const struct sim_policy_ops pol_tardis = {
    "tardis", "COBalD controller/linear.py; TARDIS resources/poolfactory.py, drone.py",
    30, tardis_init, tardis_decide, tardis_fini };
static const struct sim_policy_ops pol_elq = {
    "elastiq", "elastiq pylib/elastiq/__init__.py", 15, elq_init, elq_decide, elq_fini };
static const struct sim_policy_ops pol_clues = {
    "clues", "grycap/clues clueslib/schedulers.py", 5, clues_init, clues_decide, clues_fini };
static const struct sim_policy_ops pol_slurm = {
    "slurm", "slurm doc/html/power_save.shtml, src/slurmctld/power_save.c", 10, slurm_init,
    slurm_decide, slurm_fini };
static const struct sim_policy_ops pol_star = {
    "starcluster", "StarCluster starcluster/balancers/sge/__init__.py", 60, star_init, star_decide,
    star_fini };

static const struct sim_policy_ops *const all[] = {
    &sim_policy_cloudburst, &pol_ca, &pol_gw, &pol_csv2, &pol_tardis, &pol_elq, &pol_clues,
    &pol_slurm, &pol_star,
};

size_t sim_policy_count(void) { return sizeof all / sizeof all[0]; }

const struct sim_policy_ops *sim_policy_at(size_t i) { return i < sim_policy_count() ? all[i] : NULL; }

const struct sim_policy_ops *sim_policy_find(const char *name)
{
    for (size_t i = 0; i < sim_policy_count(); i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
