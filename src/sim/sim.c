/* sim: the discrete-event loop, pool model, cloud model and metrics.
 *
 * Events: job arrivals (the sorted trace), a heap of timed events (job end,
 * instance running, startd join, spot preemption), the negotiator cycle and
 * the policy's decide cycle. Between events nothing changes, so the clock
 * jumps from one to the next. */
#include "sim/sim.h"

#include "cb_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sim_model_defaults(struct sim_model *m)
{
    memset(m, 0, sizeof *m);
    struct sim_cloud *c = &m->clouds[0];
    cb_strlcpy(c->name, "cloud-a", sizeof c->name);
    /* one price per core-hour across sizes, as a typical public cloud's line */
    static const struct { const char *n; uint32_t cpus; double cost; } fl[] = {
        { "c4", 4, 0.17 }, { "c8", 8, 0.34 }, { "c16", 16, 0.68 }, { "c32", 32, 1.36 },
        { "c64", 64, 2.72 }, { "c128", 128, 5.44 },
    };
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        cb_strlcpy(c->flavors[i].name, fl[i].n, sizeof c->flavors[i].name);
        c->flavors[i].cpus = fl[i].cpus;
        c->flavors[i].memory_mb = (uint64_t)fl[i].cpus * 2048; /* 2 GiB per core, as compute-optimised lines and WLCG jobs */
        c->flavors[i].cost_per_hour = fl[i].cost;
    }
    c->n_flavors = sizeof fl / sizeof fl[0];
    c->quota_cores = 6000;
    c->api_latency = 5;
    c->boot_median = 180;   /* research doc §4.1 */
    c->boot_p90 = 420;
    c->blackhole = 0.02;
    c->api_error = 0.01;
    c->per_hour = false;
    c->spot_rate = 0;
    m->n_clouds = 1;
    m->static_nodes = 0;
    m->static_cpus = 16;
    m->static_mem_mb = 16 * 2048;
    m->exclusive = false;
    m->cloud_share = 1.0;
    m->negotiator_interval = 60;
    m->core_cycle = 60;
    m->seed = 1;
    m->horizon_after = 2 * 86400;
}

void sim_act_boot(struct sim_actions *a, unsigned cloud, unsigned flavor, uint32_t count,
                  const char *batch_id)
{
    if (count == 0)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct sim_action *v = realloc(a->v, cap * sizeof *v);
        if (v == NULL) {
            a->oom = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    struct sim_action *x = &a->v[a->n++];
    memset(x, 0, sizeof *x);
    x->kind = SIM_ACT_BOOT;
    x->cloud = cloud;
    x->flavor = flavor;
    x->count = count;
    if (batch_id != NULL)
        cb_strlcpy(x->batch_id, batch_id, sizeof x->batch_id);
}

void sim_act_node(struct sim_actions *a, enum sim_action_kind kind, uint32_t node)
{
    sim_act_boot(a, 0, 0, 1, NULL);
    if (a->oom)
        return;
    a->v[a->n - 1].kind = kind;
    a->v[a->n - 1].node = node;
}

void sim_result_free(struct sim_result *r)
{
    if (r == NULL)
        return;
    free(r->samples);
    r->samples = NULL;
    r->n_samples = r->cap_samples = 0;
}

/* ---- state ----------------------------------------------------------------- */

enum ev_kind { EV_JOB_END = 0, EV_RUNNING, EV_JOIN, EV_PREEMPT };

struct hev {
    int64_t t;
    uint64_t seq;       /* FIFO among equal times: deterministic */
    enum ev_kind kind;
    uint32_t idx;       /* job or node */
    uint32_t gen;       /* job: run attempt; stale events are ignored */
};

struct jstate {
    int64_t start;      /* -1 idle */
    uint32_t node;
    uint32_t gen;
    uint32_t slot;      /* position in the node's job list */
    uint32_t prev, next;/* idle list links */
    bool cloud_ok;
    bool done;
    uint32_t runs_done;
};

#define NIL UINT32_MAX

struct idle_list { uint32_t head, tail; uint64_t n; };

struct sim {
    const struct sim_trace *tr;
    const struct sim_model *m;
    struct sim_rng rng;
    int64_t now;
    struct jstate *js;
    struct hev *heap;
    size_t nh, caph;
    uint64_t seq;
    struct sim_node *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *live;             /* live cloud nodes */
    size_t n_live, cap_live;
    bool live_dirty;
    struct idle_list q_cloud, q_static; /* eligible / static-only idle jobs */
    struct sim_shape *shapes;
    size_t n_shapes, cap_shapes;
    struct sim_event *ev;
    size_t n_ev, cap_ev;
    uint32_t *fifo;
    size_t cap_fifo;
    uint64_t running_jobs_cloud, running_cores_cloud;
    uint64_t cloud_cores_live[SIM_MAX_CLOUDS];
    uint64_t batch_seq;
    /* metrics */
    double *waits;
    size_t n_waits;
    double cost, prov_core_s;
    double acct_boot, acct_idle, acct_partial, acct_drain, acct_busy; /* core-seconds */
    uint64_t boots, killed, preempted_jobs, completed;
    int64_t last_end;
    uint32_t max_prov;
    int oom;
};

static void live_append(struct sim *s, uint32_t ni);

static int heap_push(struct sim *s, int64_t t, enum ev_kind k, uint32_t idx, uint32_t gen)
{
    if (s->nh == s->caph) {
        size_t cap = s->caph ? s->caph * 2 : 4096;
        struct hev *v = realloc(s->heap, cap * sizeof *v);
        if (v == NULL)
            return s->oom = -1;
        s->heap = v;
        s->caph = cap;
    }
    struct hev e = { t, s->seq++, k, idx, gen };
    size_t i = s->nh++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        struct hev *pp = &s->heap[p];
        if (pp->t < e.t || (pp->t == e.t && pp->seq < e.seq))
            break;
        s->heap[i] = *pp;
        i = p;
    }
    s->heap[i] = e;
    return 0;
}

static struct hev heap_pop(struct sim *s)
{
    struct hev top = s->heap[0], last = s->heap[--s->nh];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct hev *best = &last;
        if (l < s->nh && (s->heap[l].t < best->t || (s->heap[l].t == best->t && s->heap[l].seq < best->seq))) {
            m = l;
            best = &s->heap[l];
        }
        if (r < s->nh && (s->heap[r].t < best->t || (s->heap[r].t == best->t && s->heap[r].seq < best->seq)))
            m = r;
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->nh > 0)
        s->heap[i] = last;
    return top;
}

static void idle_append(struct sim *s, struct idle_list *q, uint32_t j)
{
    s->js[j].prev = q->tail;
    s->js[j].next = NIL;
    if (q->tail != NIL)
        s->js[q->tail].next = j;
    else
        q->head = j;
    q->tail = j;
    q->n++;
}

static void idle_remove(struct sim *s, struct idle_list *q, uint32_t j)
{
    struct jstate *x = &s->js[j];
    if (x->prev != NIL)
        s->js[x->prev].next = x->next;
    else
        q->head = x->next;
    if (x->next != NIL)
        s->js[x->next].prev = x->prev;
    else
        q->tail = x->prev;
    x->prev = x->next = NIL;
    q->n--;
}

static void shape_add(struct sim *s, const struct sim_job *j, int64_t delta)
{
    for (size_t i = 0; i < s->n_shapes; i++) {
        if (s->shapes[i].cpus == j->cpus && s->shapes[i].memory_mb == j->memory_mb) {
            s->shapes[i].count += (uint64_t)delta;
            return;
        }
    }
    if (delta < 0)
        return;
    if (s->n_shapes == s->cap_shapes) {
        size_t cap = s->cap_shapes ? s->cap_shapes * 2 : 16;
        struct sim_shape *v = realloc(s->shapes, cap * sizeof *v);
        if (v == NULL) {
            s->oom = -1;
            return;
        }
        s->shapes = v;
        s->cap_shapes = cap;
    }
    s->shapes[s->n_shapes++] = (struct sim_shape){ j->cpus, j->memory_mb, (uint64_t)delta, -1 };
}

static void enqueue(struct sim *s, uint32_t j)
{
    s->js[j].start = -1;
    if (s->js[j].cloud_ok) {
        idle_append(s, &s->q_cloud, j);
        shape_add(s, &s->tr->jobs[j], 1);
    } else {
        idle_append(s, &s->q_static, j);
    }
}

static void emit(struct sim *s, enum sim_event_kind k, uint32_t node, uint32_t count,
                 enum cb_errcode e, const char *batch)
{
    if (s->n_ev == s->cap_ev) {
        size_t cap = s->cap_ev ? s->cap_ev * 2 : 256;
        struct sim_event *v = realloc(s->ev, cap * sizeof *v);
        if (v == NULL) {
            s->oom = -1;
            return;
        }
        s->ev = v;
        s->cap_ev = cap;
    }
    struct sim_event *x = &s->ev[s->n_ev++];
    memset(x, 0, sizeof *x);
    x->kind = k;
    x->node = node;
    x->count = count;
    x->error = e;
    if (batch != NULL)
        cb_strlcpy(x->batch_id, batch, sizeof x->batch_id);
}

static struct sim_node *node_new(struct sim *s, uint32_t *idx)
{
    if (s->n_nodes == s->cap_nodes) {
        size_t cap = s->cap_nodes ? s->cap_nodes * 2 : 256;
        struct sim_node *v = realloc(s->nodes, cap * sizeof *v);
        if (v == NULL) {
            s->oom = -1;
            return NULL;
        }
        s->nodes = v;
        s->cap_nodes = cap;
    }
    *idx = (uint32_t)s->n_nodes;
    struct sim_node *n = &s->nodes[s->n_nodes++];
    memset(n, 0, sizeof *n);
    n->idle_since = -1;
    n->last_job_end = -1;
    n->running_at = n->join_at = n->gone_at = -1;
    return n;
}

/* Core-hour breakdown: charge node ni's cores from its last change to now
 * by what they were doing. Called before anything changes a node's state,
 * drain flag or jobs; node_gone closes the account. */
static void acct(struct sim *s, uint32_t ni)
{
    struct sim_node *n = &s->nodes[ni];
    if (n->is_static || n->state == SIM_NODE_GONE)
        return;
    double dt = (double)(s->now - n->acct_at);
    n->acct_at = s->now;
    if (dt <= 0)
        return;
    if (n->state != SIM_NODE_JOINED) {
        s->acct_boot += dt * n->cpus;
        return;
    }
    double busy = (double)(n->cpus - n->free_cpus), free_c = (double)n->free_cpus;
    s->acct_busy += dt * busy;
    if (n->draining)
        s->acct_drain += dt * free_c;
    else if (n->n_jobs == 0)
        s->acct_idle += dt * free_c;
    else
        s->acct_partial += dt * free_c;
}

static void job_start(struct sim *s, uint32_t j, uint32_t ni)
{
    acct(s, ni);
    struct sim_node *n = &s->nodes[ni];
    const struct sim_job *job = &s->tr->jobs[j];
    if (n->n_jobs == n->cap_jobs) {
        uint32_t cap = n->cap_jobs ? n->cap_jobs * 2 : 4;
        uint32_t *v = realloc(n->jobs, cap * sizeof *v);
        if (v == NULL) {
            s->oom = -1;
            return;
        }
        n->jobs = v;
        n->cap_jobs = cap;
    }
    struct jstate *x = &s->js[j];
    x->slot = n->n_jobs;
    n->jobs[n->n_jobs++] = j;
    x->start = s->now;
    x->node = ni;
    x->gen++;
    n->free_cpus -= job->cpus;
    n->free_mem -= job->memory_mb;
    n->ever_used = true;
    n->idle_since = -1;
    if (!n->is_static) {
        s->running_jobs_cloud++;
        s->running_cores_cloud += job->cpus;
    }
    heap_push(s, s->now + job->runtime, EV_JOB_END, j, x->gen);
}

/* Take job j off node: finished (done) or killed (requeued). */
static void job_stop(struct sim *s, uint32_t j, bool done)
{
    struct jstate *x = &s->js[j];
    acct(s, x->node);
    struct sim_node *n = &s->nodes[x->node];
    const struct sim_job *job = &s->tr->jobs[j];
    uint32_t last = n->jobs[--n->n_jobs];
    if (x->slot < n->n_jobs) {
        n->jobs[x->slot] = last;
        s->js[last].slot = x->slot;
    }
    n->free_cpus += job->cpus;
    n->free_mem += job->memory_mb;
    if (n->n_jobs == 0) {
        n->idle_since = s->now;
        n->last_job_end = s->now;
    }
    if (!n->is_static) {
        s->running_jobs_cloud--;
        s->running_cores_cloud -= job->cpus;
    }
    x->gen++; /* invalidates its end event if killed */
    if (done) {
        x->done = true;
        x->runs_done++;
        s->completed++;
        s->waits[s->n_waits++] = (double)(x->start - job->submit);
        s->last_end = s->now;
    } else {
        enqueue(s, j);
    }
}

static void bill(struct sim *s, struct sim_node *n)
{
    const struct sim_cloud *c = &s->m->clouds[n->cloud];
    double dur = (double)(n->gone_at - n->requested_at);
    if (dur < 0)
        dur = 0;
    double price = c->flavors[n->flavor].cost_per_hour;
    s->cost += c->per_hour ? price * ceil(dur / 3600.0) : price * dur / 3600.0;
    if (c->per_hour && dur == 0)
        s->cost += price; /* a started hour is paid */
    s->prov_core_s += dur * n->cpus;
}

static void node_gone(struct sim *s, uint32_t ni, bool preempt)
{
    acct(s, ni);
    struct sim_node *n = &s->nodes[ni];
    while (n->n_jobs > 0) {
        uint32_t j = n->jobs[n->n_jobs - 1];
        if (preempt)
            s->preempted_jobs++;
        else
            s->killed++;
        job_stop(s, j, false);
        n = &s->nodes[ni];
    }
    n->state = SIM_NODE_GONE;
    n->gone_at = s->now;
    n->preempted = preempt;
    s->cloud_cores_live[n->cloud] -= n->cpus;
    bill(s, n);
    free(n->jobs);
    n->jobs = NULL;
    n->cap_jobs = 0;
    s->live_dirty = true;
}

static double lognormal(struct sim *s, double median, double p90)
{
    double mu = log(median > 1 ? median : 1);
    double sigma = p90 > median ? log(p90 / median) / 1.2815515655446004 : 0;
    return exp(mu + sigma * sim_rng_normal(&s->rng));
}

static void do_boot(struct sim *s, const struct sim_action *a)
{
    const struct sim_model *m = s->m;
    if (a->cloud >= m->n_clouds || a->flavor >= m->clouds[a->cloud].n_flavors || a->count == 0)
        return;
    const struct sim_cloud *c = &m->clouds[a->cloud];
    const struct sim_flavor *f = &c->flavors[a->flavor];
    char batch[49];
    if (a->batch_id[0] != '\0')
        cb_strlcpy(batch, a->batch_id, sizeof batch);
    else
        snprintf(batch, sizeof batch, "b%" PRIu64, ++s->batch_seq);
    uint32_t first = (uint32_t)s->n_nodes;
    /* the API call: error, quota, or accepted */
    enum cb_errcode e = CB_OK;
    if (sim_rng_uniform(&s->rng) < c->api_error)
        e = CB_ERR_TRANSIENT;
    else if (c->quota_cores > 0 &&
             s->cloud_cores_live[a->cloud] + (uint64_t)a->count * f->cpus > c->quota_cores)
        e = CB_ERR_QUOTA;
    if (e != CB_OK) {
        emit(s, SIM_EV_BOOT_FAILED, first, a->count, e, batch);
        return;
    }
    for (uint32_t i = 0; i < a->count; i++) {
        uint32_t ni;
        struct sim_node *n = node_new(s, &ni);
        if (n == NULL)
            return;
        snprintf(n->node_id, sizeof n->node_id, "%s-%u", batch, i);
        snprintf(n->instance_id, sizeof n->instance_id, "i-%08x", ni);
        cb_strlcpy(n->batch_id, batch, sizeof n->batch_id);
        n->cloud = a->cloud;
        n->flavor = a->flavor;
        n->cpus = f->cpus;
        n->memory_mb = f->memory_mb;
        n->free_cpus = f->cpus;
        n->free_mem = f->memory_mb;
        n->state = SIM_NODE_BOOTING;
        n->requested_at = s->now;
        n->acct_at = s->now;
        double lat = lognormal(s, c->boot_median, c->boot_p90);
        int64_t run = s->now + (int64_t)ceil(c->api_latency + 0.5 * lat);
        n->running_at = run;
        n->blackhole = sim_rng_uniform(&s->rng) < c->blackhole;
        n->join_at = n->blackhole ? -1 : s->now + (int64_t)ceil(c->api_latency + lat);
        s->cloud_cores_live[a->cloud] += f->cpus;
        s->boots++;
        heap_push(s, run, EV_RUNNING, ni, 0);
        if (!n->blackhole)
            heap_push(s, n->join_at, EV_JOIN, ni, 0);
        if (c->spot_rate > 0)
            heap_push(s, s->now + (int64_t)ceil(sim_rng_exp(&s->rng, c->spot_rate / 3600.0)),
                      EV_PREEMPT, ni, 0);
        emit(s, SIM_EV_BOOT_OK, ni, 1, CB_OK, batch);
        live_append(s, ni);
    }
}

static void apply(struct sim *s, const struct sim_actions *a)
{
    for (size_t i = 0; i < a->n; i++) {
        const struct sim_action *x = &a->v[i];
        if (x->kind == SIM_ACT_BOOT) {
            do_boot(s, x);
            continue;
        }
        if (x->node >= s->n_nodes)
            continue;
        struct sim_node *n = &s->nodes[x->node];
        if (n->state == SIM_NODE_GONE || n->is_static)
            continue;
        acct(s, x->node);
        switch (x->kind) {
        case SIM_ACT_DRAIN:
            n->draining = true;
            emit(s, SIM_EV_DRAIN_OK, x->node, 1, CB_OK, NULL);
            break;
        case SIM_ACT_UNDRAIN:
            n->draining = false;
            emit(s, SIM_EV_UNDRAIN_OK, x->node, 1, CB_OK, NULL);
            break;
        case SIM_ACT_TERMINATE:
            node_gone(s, x->node, false);
            emit(s, SIM_EV_TERMINATED, x->node, 1, CB_OK, NULL);
            break;
        default:
            break;
        }
    }
}

/* First fit of the idle queue onto nodes with free cores, in FIFO order. */
static size_t match_list(struct sim *s, struct idle_list *q, uint32_t *cand, size_t nc, bool cloud)
{
    uint32_t fail_cpus = UINT32_MAX;
    uint64_t fail_mem = UINT64_MAX;
    uint32_t j = q->head;
    while (j != NIL && nc > 0) {
        uint32_t next = s->js[j].next;
        const struct sim_job *job = &s->tr->jobs[j];
        if (!(job->cpus >= fail_cpus && job->memory_mb >= fail_mem)) {
            size_t k;
            for (k = 0; k < nc; k++) {
                struct sim_node *n = &s->nodes[cand[k]];
                if (n->free_cpus >= job->cpus && n->free_mem >= job->memory_mb)
                    break;
            }
            if (k < nc) {
                uint32_t ni = cand[k];
                idle_remove(s, q, j);
                if (cloud)
                    shape_add(s, job, -1);
                job_start(s, j, ni);
                if (s->nodes[ni].free_cpus == 0)
                    cand[k] = cand[--nc];
            } else if (job->cpus <= fail_cpus) {
                fail_cpus = job->cpus;
                fail_mem = job->memory_mb < fail_mem ? job->memory_mb : fail_mem;
            }
        }
        j = next;
    }
    return nc;
}

static int negotiate(struct sim *s)
{
    uint32_t *cand = malloc((s->n_nodes + 1) * sizeof *cand);
    if (cand == NULL)
        return s->oom = -1;
    size_t nc = 0;
    for (size_t i = 0; i < s->m->static_nodes && i < s->n_nodes; i++) /* created first */
        if (s->nodes[i].free_cpus > 0)
            cand[nc++] = (uint32_t)i;
    nc = match_list(s, &s->q_static, cand, nc, false);
    nc = match_list(s, &s->q_cloud, cand, nc, true);
    /* cloud nodes after the site's own (a Tier-2 bursts what it cannot run) */
    nc = 0;
    for (size_t i = 0; i < s->n_live; i++) {
        const struct sim_node *n = &s->nodes[s->live[i]];
        if (n->state == SIM_NODE_JOINED && !n->draining && n->free_cpus > 0)
            cand[nc++] = s->live[i];
    }
    match_list(s, &s->q_cloud, cand, nc, true);
    free(cand);
    return s->oom;
}

/* The live list: boots append, gone nodes are compacted away lazily. */
static void live_append(struct sim *s, uint32_t ni)
{
    if (s->n_live == s->cap_live) {
        size_t cap = s->cap_live ? s->cap_live * 2 : 256;
        uint32_t *v = realloc(s->live, cap * sizeof *v);
        if (v == NULL) {
            s->oom = -1;
            return;
        }
        s->live = v;
        s->cap_live = cap;
    }
    s->live[s->n_live++] = ni;
}

static void rebuild_live(struct sim *s)
{
    if (!s->live_dirty)
        return;
    size_t k = 0;
    for (size_t i = 0; i < s->n_live; i++)
        if (s->nodes[s->live[i]].state != SIM_NODE_GONE)
            s->live[k++] = s->live[i];
    s->n_live = k;
    s->live_dirty = false;
}

static uint32_t prov_cores(const struct sim *s)
{
    uint64_t c = 0;
    for (size_t i = 0; i < s->m->n_clouds; i++)
        c += s->cloud_cores_live[i];
    return (uint32_t)c;
}

static int sample(struct sim *s, struct sim_result *r, int64_t t)
{
    if (r->n_samples == r->cap_samples) {
        size_t cap = r->cap_samples ? r->cap_samples * 2 : 1024;
        struct sim_sample *v = realloc(r->samples, cap * sizeof *v);
        if (v == NULL)
            return s->oom = -1;
        r->samples = v;
        r->cap_samples = cap;
    }
    /* Zero the whole slot, padding included: results are compared (and
     * written) byte for byte, and uninitialised padding would differ. */
    struct sim_sample *smp = &r->samples[r->n_samples++];
    memset(smp, 0, sizeof *smp);
    smp->t = t;
    smp->queued = (uint32_t)(s->q_cloud.n + s->q_static.n);
    smp->busy_cores = (uint32_t)s->running_cores_cloud;
    smp->prov_cores = prov_cores(s);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)ceil(p * (double)n) - 1;
    if (k >= n)
        k = n - 1;
    return v[k];
}


/* ---- demand curve, oracle -------------------------------------------------- */

struct dpoint { int64_t t; int64_t d; };

static int cmp_dpoint(const void *a, const void *b)
{
    const struct dpoint *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->d > y->d) - (x->d < y->d); /* ends (negative) first */
}

/* Cores of cloud-eligible jobs running at each change point if every job
 * started when submitted. *out sorted by time; caller frees. */
static int demand_curve(const struct sim_trace *t, const bool *cloud_ok, struct dpoint **out,
                        size_t *n_out)
{
    struct dpoint *v = malloc((2 * t->n + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (cloud_ok != NULL && !cloud_ok[i])
            continue;
        v[k++] = (struct dpoint){ t->jobs[i].submit, t->jobs[i].cpus };
        v[k++] = (struct dpoint){ t->jobs[i].submit + t->jobs[i].runtime, -(int64_t)t->jobs[i].cpus };
    }
    qsort(v, k, sizeof *v, cmp_dpoint);
    *out = v;
    *n_out = k;
    return 0;
}

static void eligibility(const struct sim_trace *t, const struct sim_model *m, bool *ok)
{
    struct sim_rng r;
    sim_rng_seed(&r, m->seed ^ UINT64_C(0x5eed0e11)); /* the same draw for every policy */
    for (size_t i = 0; i < t->n; i++) {
        double u = sim_rng_uniform(&r);
        ok[i] = !m->exclusive || t->jobs[i].asks_cloud || u < m->cloud_share;
    }
}

static double peak_of(const struct dpoint *v, size_t n, double static_cores)
{
    int64_t d = 0;
    double peak = 0;
    for (size_t i = 0; i < n; i++) {
        d += v[i].d;
        double c = (double)d - static_cores;
        if (c > peak)
            peak = c;
    }
    return peak;
}

struct ovm { uint32_t cpus, free; uint64_t mem_free; int64_t start, planned_end; uint32_t njobs; };
struct oend { int64_t t; uint32_t vm, cpus; uint64_t mem; };

static void oend_push(struct oend *h, size_t *n, struct oend e)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2].t > e.t) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = e;
}

static struct oend oend_pop(struct oend *h, size_t *n)
{
    struct oend top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        int64_t bt = last.t;
        if (l < *n && h[l].t < bt) {
            m = l;
            bt = h[l].t;
        }
        if (l + 1 < *n && h[l + 1].t < bt)
            m = l + 1;
        if (m == i)
            break;
        h[i] = h[m];
        i = m;
    }
    if (*n > 0)
        h[i] = last;
    return top;
}

/* The offline oracle, with perfect knowledge of arrivals and runtimes: every
 * job starts when submitted; each VM exists exactly from its first job's start
 * to its last job's end (booted ahead by exactly its boot time, stopped when it
 * becomes idle). Jobs are packed onto running VMs best-fit on end time (the VM
 * whose planned end covers the job's end most tightly, else the one it extends
 * least); a new VM is the smallest of the cheapest-per-core flavors that fits.
 * The fluid bound (capacity = demand at every instant) is kept alongside. */
int sim_oracle(const struct sim_trace *t, const struct sim_model *m, struct sim_result *out,
               struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    cb_strlcpy(out->policy, "oracle", sizeof out->policy);
    out->oracle = true;
    if (m->n_clouds == 0)
        return cb_err_set(err, CB_ERR_INVALID, "model", "no cloud");
    double best_pc = 1e300;
    for (size_t c = 0; c < m->n_clouds; c++)
        for (size_t f = 0; f < m->clouds[c].n_flavors; f++) {
            const struct sim_flavor *x = &m->clouds[c].flavors[f];
            if (x->cost_per_hour / x->cpus < best_pc)
                best_pc = x->cost_per_hour / x->cpus;
        }
    bool *ok = malloc(t->n ? t->n : 1);
    struct dpoint *v = NULL;
    size_t nv = 0;
    struct ovm *vms = malloc((t->n + 1) * sizeof *vms);
    uint32_t *active = malloc((t->n + 1) * sizeof *active);
    struct oend *h = malloc((t->n + 1) * sizeof *h);
    if (ok == NULL || vms == NULL || active == NULL || h == NULL) {
        free(ok);
        free(vms);
        free(active);
        free(h);
        return cb_err_set(err, CB_ERR_INTERNAL, "oracle", "out of memory");
    }
    eligibility(t, m, ok);
    if (demand_curve(t, ok, &v, &nv) != 0) {
        free(ok);
        free(vms);
        free(active);
        free(h);
        return cb_err_set(err, CB_ERR_INTERNAL, "oracle", "out of memory");
    }
    double static_cores = (double)m->static_nodes * m->static_cpus;
    /* fluid bound */
    int64_t d = 0;
    double fluid = 0, used = 0;
    for (size_t i = 0; i < nv; i++) {
        if (i > 0) {
            double c = (double)d - static_cores;
            double dt = (double)(v[i].t - v[i - 1].t);
            fluid += dt * (c > 0 ? c : 0);
        }
        d += v[i].d;
    }
    used = fluid;
    /* packing: the site's own cores take jobs first, as in the simulation, by
     * treating them as always-on VMs that cost nothing and are not counted */
    size_t nvm = 0, nact = 0, nh = 0;
    uint32_t site = UINT32_MAX;
    if (m->static_nodes > 0) {
        site = 0;
        vms[nvm++] = (struct ovm){ (uint32_t)static_cores, (uint32_t)static_cores,
                                   (uint64_t)m->static_nodes * m->static_mem_mb, 0, INT64_MAX, 0 };
    }
    double prov = 0, cost = 0;
    int64_t last_end = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct sim_job *j = &t->jobs[i];
        while (nh > 0 && h[0].t <= j->submit) {
            struct oend e = oend_pop(h, &nh);
            struct ovm *x = &vms[e.vm];
            x->free += e.cpus;
            x->mem_free += e.mem;
            if (--x->njobs == 0 && e.vm != site) {
                double dur = (double)(e.t - x->start);
                prov += dur * x->cpus;
                cost += dur / 3600.0 * best_pc * x->cpus;
                for (size_t k = 0; k < nact; k++)
                    if (active[k] == e.vm) {
                        active[k] = active[--nact];
                        break;
                    }
            }
        }
        int64_t end = j->submit + j->runtime;
        if (end > last_end)
            last_end = end;
        uint32_t pick = UINT32_MAX;
        if (site != UINT32_MAX && vms[site].free >= j->cpus && vms[site].mem_free >= j->memory_mb)
            pick = site;
        else if (ok[i]) {
            int64_t best_cover = INT64_MAX, best_ext = INT64_MAX;
            uint32_t cover = UINT32_MAX, ext = UINT32_MAX;
            for (size_t k = 0; k < nact; k++) {
                struct ovm *x = &vms[active[k]];
                if (x->free < j->cpus || x->mem_free < j->memory_mb)
                    continue;
                if (x->planned_end >= end) {
                    if (x->planned_end - end < best_cover) {
                        best_cover = x->planned_end - end;
                        cover = active[k];
                    }
                } else if (end - x->planned_end < best_ext) {
                    best_ext = end - x->planned_end;
                    ext = active[k];
                }
            }
            pick = cover != UINT32_MAX ? cover : ext;
        }
        if (pick == UINT32_MAX) {
            if (!ok[i]) /* static-only job and the site is full: it waits in reality; the
                         * bound lets it run (it costs the cloud nothing) */
                continue;
            const struct sim_flavor *fl = NULL;
            for (size_t c = 0; c < m->n_clouds; c++)
                for (size_t f = 0; f < m->clouds[c].n_flavors; f++) {
                    const struct sim_flavor *x = &m->clouds[c].flavors[f];
                    if (x->cpus < j->cpus || x->memory_mb < j->memory_mb ||
                        x->cost_per_hour / x->cpus > best_pc * (1 + 1e-9))
                        continue;
                    if (fl == NULL || x->cpus < fl->cpus)
                        fl = x;
                }
            if (fl == NULL) /* nothing cheapest fits: the smallest that fits at all */
                for (size_t c = 0; c < m->n_clouds; c++)
                    for (size_t f = 0; f < m->clouds[c].n_flavors; f++) {
                        const struct sim_flavor *x = &m->clouds[c].flavors[f];
                        if (x->cpus >= j->cpus && x->memory_mb >= j->memory_mb &&
                            (fl == NULL || x->cpus < fl->cpus))
                            fl = x;
                    }
            if (fl == NULL)
                continue; /* fits no flavor: cannot run on a cloud at all */
            pick = (uint32_t)nvm;
            vms[nvm++] = (struct ovm){ fl->cpus, fl->cpus, fl->memory_mb, j->submit, end, 0 };
            active[nact++] = pick;
            out->boots++;
        }
        struct ovm *x = &vms[pick];
        x->free -= j->cpus;
        x->mem_free -= j->memory_mb;
        x->njobs++;
        if (end > x->planned_end)
            x->planned_end = end;
        oend_push(h, &nh, (struct oend){ end, pick, j->cpus, j->memory_mb });
    }
    while (nh > 0) {
        struct oend e = oend_pop(h, &nh);
        struct ovm *x = &vms[e.vm];
        if (--x->njobs == 0 && e.vm != site) {
            double dur = (double)(e.t - x->start);
            prov += dur * x->cpus;
            cost += dur / 3600.0 * best_pc * x->cpus;
        }
    }
    out->jobs = out->completed = out->job_runs = t->n;
    out->makespan = (double)last_end;
    out->core_hours_prov = prov / 3600;
    out->core_hours_used = used / 3600;
    out->core_hours_fluid = fluid / 3600;
    out->ch_busy = used / 3600;
    out->ch_partial = prov > used ? (prov - used) / 3600 : 0;
    out->efficiency = prov > 0 ? used / prov : 1;
    out->cost = cost;
    out->peak_demand = peak_of(v, nv, static_cores);
    out->shrink_to_zero = 0;
    free(v);
    free(ok);
    free(vms);
    free(active);
    free(h);
    return 0;
}

/* ---- the loop ---------------------------------------------------------------- */

static void sim_free(struct sim *s)
{
    for (size_t i = 0; i < s->n_nodes; i++)
        free(s->nodes[i].jobs);
    free(s->nodes);
    free(s->js);
    free(s->heap);
    free(s->live);
    free(s->shapes);
    free(s->ev);
    free(s->fifo);
    free(s->waits);
}

static int build_obs(struct sim *s, struct sim_obs *o)
{
    rebuild_live(s);
    memset(o, 0, sizeof *o);
    o->now = s->now;
    o->model = s->m;
    /* compact empty shapes away */
    size_t k = 0;
    for (size_t i = 0; i < s->n_shapes; i++)
        if (s->shapes[i].count > 0) {
            s->shapes[k] = s->shapes[i];
            s->shapes[k++].oldest_submit = -1;
        }
    s->n_shapes = k;
    size_t cap = 4096, n = 0, seen = 0;
    if (s->fifo == NULL) {
        s->fifo = malloc(cap * sizeof *s->fifo);
        if (s->fifo == NULL)
            return s->oom = -1;
        s->cap_fifo = cap;
    }
    for (uint32_t j = s->q_cloud.head; j != NIL && n < s->cap_fifo; j = s->js[j].next) {
        s->fifo[n++] = j;
        if (seen < s->n_shapes) {
            const struct sim_job *job = &s->tr->jobs[j];
            for (size_t i = 0; i < s->n_shapes; i++)
                if (s->shapes[i].oldest_submit < 0 && s->shapes[i].cpus == job->cpus &&
                    s->shapes[i].memory_mb == job->memory_mb) {
                    s->shapes[i].oldest_submit = job->submit;
                    seen++;
                }
        }
    }
    int64_t head = s->q_cloud.head != NIL ? s->tr->jobs[s->q_cloud.head].submit : -1;
    uint64_t cores = 0;
    for (size_t i = 0; i < s->n_shapes; i++) {
        if (s->shapes[i].oldest_submit < 0)
            s->shapes[i].oldest_submit = head;
        cores += s->shapes[i].count * s->shapes[i].cpus;
    }
    o->shapes = s->shapes;
    o->n_shapes = s->n_shapes;
    o->idle_jobs = s->q_cloud.n;
    o->idle_cores = cores;
    o->oldest_idle_submit = head;
    o->running_jobs_cloud = s->running_jobs_cloud;
    o->running_cores_cloud = s->running_cores_cloud;
    o->nodes = s->nodes;
    o->live = s->live;
    o->n_live = s->n_live;
    o->events = s->ev;
    o->n_events = s->n_ev;
    o->jobs = s->tr->jobs;
    o->idle_fifo = s->fifo;
    o->n_idle_fifo = n;
    return 0;
}

int sim_run(const struct sim_trace *tr, const struct sim_model *m, const struct sim_policy_ops *p,
            struct sim_result *out, struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    cb_strlcpy(out->policy, p->name, sizeof out->policy);
    if (tr->n == 0 || tr->n >= NIL)
        return cb_err_set(err, CB_ERR_INVALID, "trace", "empty or too large trace");
    if (m->n_clouds == 0 || m->n_clouds > SIM_MAX_CLOUDS)
        return cb_err_set(err, CB_ERR_INVALID, "model", "1..%d clouds", SIM_MAX_CLOUDS);
    struct sim s;
    memset(&s, 0, sizeof s);
    s.tr = tr;
    s.m = m;
    s.q_cloud = s.q_static = (struct idle_list){ NIL, NIL, 0 };
    sim_rng_seed(&s.rng, m->seed);
    s.js = calloc(tr->n, sizeof *s.js);
    s.waits = malloc(tr->n * sizeof *s.waits);
    bool *ok = malloc(tr->n);
    struct dpoint *curve = NULL;
    size_t ncurve = 0;
    void *pst = NULL;
    struct sim_actions act = { 0 };
    int rc = -1;
    if (s.js == NULL || s.waits == NULL || ok == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, "sim", "out of memory");
        goto out;
    }
    eligibility(tr, m, ok);
    for (size_t i = 0; i < tr->n; i++) {
        s.js[i].cloud_ok = ok[i];
        s.js[i].start = -1;
        s.js[i].prev = s.js[i].next = NIL;
    }
    if (demand_curve(tr, ok, &curve, &ncurve) != 0) {
        cb_err_set(err, CB_ERR_INTERNAL, "sim", "out of memory");
        goto out;
    }
    double static_cores = (double)m->static_nodes * m->static_cpus;
    out->peak_demand = peak_of(curve, ncurve, static_cores);
    for (uint32_t i = 0; i < m->static_nodes; i++) {
        uint32_t ni;
        struct sim_node *n = node_new(&s, &ni);
        if (n == NULL)
            break;
        snprintf(n->node_id, sizeof n->node_id, "site-%u", i);
        n->is_static = true;
        n->cpus = n->free_cpus = m->static_cpus;
        n->memory_mb = n->free_mem = m->static_mem_mb;
        n->state = SIM_NODE_JOINED;
        n->idle_since = 0;
    }
    if (p->init(&pst, m, err) != 0)
        goto out;
    int64_t last_submit = tr->jobs[tr->n - 1].submit;
    int64_t sint = (last_submit + 86400) / 1500;
    if (sint < 60)
        sint = 60;
    int64_t next_neg = 0, next_pol = 0, next_sample = 0, zero_at = -1;
    uint32_t interval = p->interval ? p->interval : m->core_cycle ? m->core_cycle : 60;
    size_t a = 0;
    int64_t hard_stop = last_submit + 60 * 86400;
    s.now = 0;
    for (;;) {
        int64_t next = next_neg;
        if (next_pol < next)
            next = next_pol;
        if (next_sample < next)
            next = next_sample;
        if (a < tr->n && tr->jobs[a].submit < next)
            next = tr->jobs[a].submit;
        if (s.nh > 0 && s.heap[0].t < next)
            next = s.heap[0].t;
        s.now = next;
        while (a < tr->n && tr->jobs[a].submit <= s.now)
            enqueue(&s, (uint32_t)a++);
        while (s.nh > 0 && s.heap[0].t <= s.now) {
            struct hev e = heap_pop(&s);
            if (e.kind == EV_JOB_END) {
                if (s.js[e.idx].start >= 0 && s.js[e.idx].gen == e.gen && !s.js[e.idx].done)
                    job_stop(&s, e.idx, true);
                continue;
            }
            struct sim_node *n = &s.nodes[e.idx];
            if (n->state == SIM_NODE_GONE)
                continue;
            if (e.kind == EV_RUNNING && n->state == SIM_NODE_BOOTING) {
                n->state = SIM_NODE_RUNNING;
            } else if (e.kind == EV_JOIN) {
                acct(&s, e.idx);
                n->state = SIM_NODE_JOINED;
                n->idle_since = s.now;
            } else if (e.kind == EV_PREEMPT) {
                node_gone(&s, e.idx, true);
                emit(&s, SIM_EV_PREEMPTED, e.idx, 1, CB_OK, NULL);
            }
        }
        if (s.now >= next_neg) {
            rebuild_live(&s);
            negotiate(&s);
            next_neg += m->negotiator_interval ? m->negotiator_interval : 60;
        }
        if (s.now >= next_pol) {
            struct sim_obs o;
            build_obs(&s, &o);
            act.n = 0;
            if (p->decide(pst, &o, &act, err) != 0)
                goto out;
            if (act.oom) {
                cb_err_set(err, CB_ERR_INTERNAL, p->name, "out of memory");
                goto out;
            }
            s.n_ev = 0;
            apply(&s, &act);
            next_pol += interval;
        }
        uint32_t pc = prov_cores(&s);
        if (pc > s.max_prov)
            s.max_prov = pc;
        if (s.now >= next_sample) {
            sample(&s, out, s.now);
            next_sample += sint;
        }
        if (s.oom) {
            cb_err_set(err, CB_ERR_INTERNAL, "sim", "out of memory");
            goto out;
        }
        if (s.completed == tr->n) {
            if (pc == 0) {
                zero_at = s.now;
                break;
            }
            if (s.now > s.last_end + m->horizon_after)
                break;
        }
        if (s.now > hard_stop)
            break;
    }
    sample(&s, out, s.now);
    /* bill what is still up at the end (not a scale-down: no jobs killed) */
    for (size_t i = 0; i < s.n_nodes; i++) {
        struct sim_node *n = &s.nodes[i];
        if (!n->is_static && n->state != SIM_NODE_GONE) {
            acct(&s, (uint32_t)i);
            n->gone_at = s.now;
            bill(&s, n);
        }
    }
    out->jobs = tr->n;
    out->completed = s.completed;
    out->job_runs = 0;
    for (size_t i = 0; i < tr->n; i++)
        out->job_runs += s.js[i].runs_done;
    qsort(s.waits, s.n_waits, sizeof *s.waits, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < s.n_waits; i++)
        sum += s.waits[i];
    out->wait_mean = s.n_waits ? sum / (double)s.n_waits : 0;
    out->wait_p50 = pct(s.waits, s.n_waits, 0.50);
    out->wait_p95 = pct(s.waits, s.n_waits, 0.95);
    out->wait_max = s.n_waits ? s.waits[s.n_waits - 1] : 0;
    out->makespan = (double)s.last_end;
    out->core_hours_prov = s.prov_core_s / 3600;
    out->ch_boot = s.acct_boot / 3600;
    out->ch_idle = s.acct_idle / 3600;
    out->ch_partial = s.acct_partial / 3600;
    out->ch_drain = s.acct_drain / 3600;
    out->ch_busy = s.acct_busy / 3600;
    double used = 0;
    for (size_t i = 0; i < tr->n; i++)
        if (s.js[i].done && !s.nodes[s.js[i].node].is_static)
            used += (double)tr->jobs[i].runtime * tr->jobs[i].cpus;
    out->core_hours_used = used / 3600;
    out->efficiency = s.prov_core_s > 0 ? used / s.prov_core_s : 1;
    out->cost = s.cost;
    out->boots = s.boots;
    for (size_t i = 0; i < s.n_nodes; i++)
        if (!s.nodes[i].is_static && !s.nodes[i].ever_used)
            out->cores_never_used += s.nodes[i].cpus;
    out->killed = s.killed;
    out->preempted_jobs = s.preempted_jobs;
    out->overshoot = (double)s.max_prov - out->peak_demand;
    if (out->overshoot < 0)
        out->overshoot = 0;
    out->shrink_to_zero = zero_at >= 0 && s.completed == tr->n ? (double)(zero_at - s.last_end) : -1;
    rc = 0;
out:
    if (pst != NULL)
        p->fini(pst);
    free(act.v);
    free(curve);
    free(ok);
    sim_free(&s);
    if (rc != 0)
        sim_result_free(out);
    return rc;
}
