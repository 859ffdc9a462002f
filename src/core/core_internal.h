/* core_internal: the core's private state, shared by core.c (set-up, restore,
 * inspection), core_decide.c (one cycle: events, listings, pool, timeouts),
 * core_plan.c (scale-up planning) and core_scale_down.c. Nothing outside
 * src/core includes this file.
 */
#ifndef CB_CORE_INTERNAL_H
#define CB_CORE_INTERNAL_H

#include "core/core.h"

/* Per (cloud, flavor): breaker and quota state. */
struct core_breaker {
    uint32_t consecutive;       /* failures since the last success */
    uint32_t backoff;           /* next open period, seconds */
    int64_t open_until;         /* no boots before this (0 = never opened) */
    int64_t last_failure;       /* -1 = none */
    int64_t quota_until;        /* "quota" answer: skip until this */
};

struct core_cloud {
    struct cb_core_cloud c;             /* flavors points at `flavors` below */
    struct cb_core_flavor *flavors;
    struct core_breaker *br;            /* n_flavors entries */
    int64_t throttled_until;
    int64_t lat[CB_CORE_LATENCY_SAMPLES]; /* boot-to-join latencies, ring */
    size_t n_lat, lat_pos;
    double spent_month;
    int month_key;                      /* year*12 + month of spent_month, -1 unset */
    double min_cost_per_core;           /* cheapest flavor per core-hour: cloud ordering */
};

/* A node and the per-decide facts the core keeps about it. */
struct core_node {
    struct cb_core_node_info i;
    enum cb_core_reason drain_reason;   /* why it drains (cancel only idle-timeout drains) */
    bool drain_confirmed;               /* DRAIN_STARTED seen, or the pool shows it draining */
    bool terminate_pending;             /* terminate asked, no failure reported */
    bool terminate_done;                /* the cloud accepted the terminate: no more cost */
    int64_t terminate_at;               /* last terminate action */
    int64_t absent_since;               /* joined, missing from complete pool snapshots */
    bool seen;                          /* in this decide's pool snapshot */
    bool listed;                        /* in this decide's listing of its cloud */
    bool seen_busy;                     /* ... with a claimed slot */
    bool seen_draining;
    bool last_seen_busy;                /* busy the last time any snapshot showed it */
    bool failure_counted;               /* counted against the breaker once */
    bool bootstrap_failed;              /* BOOTSTRAP_FAILED seen: terminate unless it joined */
    bool retry_drain_sent;              /* a terminating node turned up busy: drained first */
    int64_t first_terminate_at;         /* first terminate action, for the busy hold */
    uint32_t idle_cpus;                 /* last seen free resources (joined nodes) */
    uint64_t idle_memory_mb, idle_disk_kb;
    int64_t expected_empty_at;
    int64_t billed_until;               /* per-hour billing: hours paid up to here */
};

struct cb_core {
    struct cb_core_config cfg;          /* clouds = NULL: see `clouds` */
    struct core_cloud *clouds;
    size_t n_clouds;
    size_t *cloud_order;                /* by priority, then cost per core, then index */
    struct core_node *nodes;
    size_t n_nodes, cap_nodes;
    size_t *hash;                       /* node_id -> index + 1, open addressing */
    size_t hash_cap;
    uint64_t batch_seq;                 /* highest used */
    int64_t last_now;                   /* INT64_MIN before the first decide */
    int64_t next_deadline;
    double global_spent_month;
    int global_month_key;
};

/* ---- helpers (core.c); cbc_ = cloudburst core, internal linkage by convention ---- */
int cbc_err(struct cb_err *err, enum cb_errcode code, const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cbc_copy(char *dst, size_t cap, const char *src);
size_t cbc_find(const struct cb_core *core, const char *node_id); /* CB_CORE_NONE if unknown */
int cbc_hash_rebuild(struct cb_core *core);
struct core_node *cbc_node_add(struct cb_core *core, const char *node_id); /* NULL on ENOMEM */
void cbc_compact(struct cb_core *core);
int cbc_month_key(int64_t t);
uint32_t cbc_idle_timeout(const struct cb_core *core, size_t cloud); /* B: fixed or learned */
/* The node's own idle timeout: fixed, or drawn in [idle_timeout_min, B]. */
uint32_t cbc_node_idle_timeout(const struct cb_core *core, const struct core_node *n);
void cbc_breaker_failure(struct cb_core *core, size_t cloud, size_t flavor, int64_t now);
void cbc_breaker_success(struct cb_core *core, size_t cloud, size_t flavor);
bool cbc_breaker_open(const struct cb_core *core, size_t cloud, size_t flavor, int64_t now);
bool cbc_breaker_half_open(const struct cb_core *core, size_t cloud, size_t flavor, int64_t now);

/* ---- output helpers (core.c) ---- */
struct cb_core_action *cbc_out_action(struct cb_core_output *out, size_t *index);
struct cb_core_record *cbc_out_record(struct cb_core_output *out);
int cbc_out_nondecision(struct cb_core_output *out, enum cb_core_reason reason, size_t cloud,
                         size_t flavor, size_t shape, const char *node_id, uint64_t amount);
/* Move node to `to`, appending the transition record (tied to `action`).
 * Refuses (-1, internal error) a transition lifecycle.c does not allow. */
int cbc_transition(struct cb_core *core, struct cb_core_output *out, struct core_node *n,
                    enum cb_node_state to, enum cb_core_reason reason, size_t action,
                    int64_t now, struct cb_err *err);
/* Append a node action (DRAIN, TERMINATE, ...) for n; returns its index or CB_CORE_NONE. */
size_t cbc_node_action(struct cb_core_output *out, const struct core_node *n,
                        enum cb_core_action_kind kind, enum cb_core_reason reason);

/* ---- one decide (core_decide.c) ---- */
struct ctx {
    struct cb_core *core;
    const struct cb_core_input *in;
    struct cb_core_output *out;
    struct cb_err *err;
    int64_t now;
    bool supply_ok;     /* complete pool snapshot */
    bool demand_ok;     /* complete queue snapshot */
};
int cbc_oom(struct ctx *x);
/* Terminate n (never a requested node: it has no instance yet). */
int cbc_terminate_node(struct ctx *x, struct core_node *n, enum cb_core_reason reason);
int cbc_drain_node(struct ctx *x, struct core_node *n, enum cb_core_reason reason, bool fast);

/* ---- scale-down (core_scale_down.c) ---- */
int cbc_scale_down(struct ctx *x);
/* End of the billing hour n is in at `now` (per-hour billing). */
int64_t cbc_paid_hour_end(const struct core_node *n, int64_t now);

/* ---- scale-up (core_plan.c) ---- */
int cbc_plan(struct cb_core *core, const struct cb_core_input *in, struct cb_core_output *out,
              struct cb_err *err);

/* Cost per hour of a node of that cloud/flavor. */
double cbc_node_cost(const struct cb_core *core, const struct core_node *n);
bool cbc_node_in_flight(const struct core_node *n);
bool cbc_node_costs(const struct core_node *n);

#endif
