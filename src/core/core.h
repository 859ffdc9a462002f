/* core: the decision core. Observations in, actions out; nothing else.
 *
 * Promises:
 * - Pure and deterministic: no I/O, no clock reads (time is in->now), no
 *   globals, no threads, no randomness. The same configuration, the same
 *   restore calls and the same sequence of inputs give byte-identical outputs.
 *   It links against libc only (the files of src/core).
 * - Safe: a node the latest complete pool snapshot shows running a job is never
 *   terminated unless it has been draining for drain_timeout (or the cloud has
 *   already taken it away: preempted, error, vanished from a fresh listing; or
 *   the operator asked for it: CB_EVENT_OPERATOR_TERMINATE with force).
 *   Incomplete observations (cb_demand.partial, cb_supply.partial, a cloud
 *   listing that is not fresh) never cause a drain, a termination or a node to
 *   be declared gone. Quotas, caps and budgets are never exceeded by a boot
 *   the core proposes.
 * - Explainable: every action, every ledger record and every non-decision
 *   carries a reason code (enum cb_core_reason, stable names).
 *
 * Ownership: struct cb_core is opaque, created by cb_core_new() and freed by
 * cb_core_free(). cb_core_new() COPIES everything it needs from the config
 * (the caller may free its arrays afterwards). Input containers are borrowed
 * for the duration of one cb_core_decide() call. A struct cb_core_output is
 * owned by the caller: initialise with CB_CORE_OUTPUT_INIT (or memset 0),
 * reuse it across calls (cb_core_decide clears it on entry and keeps the
 * allocations), free with cb_core_output_free().
 *
 * Threads: one struct cb_core is used by one thread at a time (the daemon's
 * loop thread); distinct cores are independent.
 *
 * The node state machine is core/lifecycle.h: the core only ever proposes
 * transitions cb_node_transition_allowed() accepts.
 */
#ifndef CB_CORE_CORE_H
#define CB_CORE_CORE_H

#include "cb_error.h"
#include "core/lifecycle.h"
#include "core/observe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits checked by cb_core_config_check(). */
#define CB_CORE_MAX_FLAVORS 64       /* per cloud */
#define CB_CORE_PREFIX_MAX 24        /* batch id prefix, [a-z0-9-], without the NUL */
#define CB_CORE_BATCH_ID_MAX 49      /* "<prefix>-<seq>", <= 48 chars + NUL */
#define CB_CORE_LATENCY_SAMPLES 32   /* boot-to-join samples kept per cloud */
#define CB_CORE_LATENCY_PER_BATCH 4  /* ... taken from the nodes 0..3 of each batch */
#define CB_CORE_BOOT_LIMIT 1000      /* nodes per cloud per decide, whatever the config
                                      * says (cluster-autoscaler's cap per scale-up) */

/* Sentinel for "no deadline" (cb_core_next_deadline) and "no index". */
#define CB_CORE_NEVER INT64_MAX
#define CB_CORE_NONE ((size_t)-1)

/* ---- configuration ------------------------------------------------------ */

enum cb_core_billing { CB_CORE_BILLING_PER_SECOND = 0, CB_CORE_BILLING_PER_HOUR };

/* Mirrors struct cb_flavor (config.h). */
struct cb_core_flavor {
    char name[CB_NAME_MAX];
    uint32_t cpus;              /* > 0 */
    uint64_t memory_mb;         /* > 0, MiB */
    uint64_t disk_gb;           /* GiB; 0 = no local disk to offer */
    double cost_per_hour;       /* >= 0, site currency */
};

/* Mirrors struct cb_cloud (config.h). The cloud's index (its bit in
 * cb_cloud_mask) is its position in cb_core_config.clouds. */
struct cb_core_cloud {
    char name[CB_NAME_MAX];
    char image[CB_ID_MAX];      /* for the breaker key (cloud, image, flavor) and logs */
    bool enabled;               /* disabled: no boots; existing nodes run out normally */
    int priority;               /* lower is tried first; ties broken by cost per core-hour */
    uint32_t max_nodes;         /* 0 = unlimited */
    uint32_t max_cores;         /* 0 = unlimited */
    uint32_t max_in_flight;     /* nodes requested/booting/bootstrapping at once; 0 = unlimited */
    uint32_t max_boot_per_cycle;/* nodes per decide call; 0 = unlimited */
    double budget_per_hour;     /* burn-rate cap, currency/hour; 0 = none */
    double budget_per_month;    /* spend cap per calendar month (UTC); 0 = none */
    bool spot;                  /* preemptible instances */
    enum cb_core_billing billing;
    const struct cb_core_flavor *flavors; /* borrowed by cb_core_new, which copies them */
    size_t n_flavors;           /* 1..CB_CORE_MAX_FLAVORS */
};

/* Every policy knob, with its default from cb_core_config_defaults(). The names
 * follow struct cb_config.controller; docs/policy.md documents each one. */
struct cb_core_config {
    const struct cb_core_cloud *clouds; /* borrowed by cb_core_new, which copies them */
    size_t n_clouds;                    /* 0..CB_MAX_CLOUDS */

    char batch_prefix[CB_CORE_PREFIX_MAX + 1]; /* "cb"; [a-z0-9-], starts with [a-z0-9] */

    /* ramp-up */
    double ramp_fraction;       /* 0.5: share of the node gap requested per decide (0,1] */
    uint32_t ramp_floor;        /* 1: nodes requested at least when the gap is > 0 */

    /* scale-down */
    uint32_t idle_timeout;      /* 0 (learned): seconds idle before drain; >0 = fixed. Learned:
                                 * B = factor x median boot-to-join latency, within
                                 * [min, max]; each node then waits its own T in
                                 * [min, B] (randomised ski rental, docs/policy.md) */
    uint32_t idle_timeout_min;  /* 120: floor of the learned idle timeout (two
                                 * negotiator cycles) */
    uint32_t idle_timeout_max;  /* 1800: ceiling of the learned idle timeout */
    uint32_t idle_timeout_prior;/* 600: learned idle timeout before any latency sample */
    double idle_learn_factor;   /* 1.0: idle timeout = factor x median boot-to-join latency */
    uint32_t drain_timeout;     /* 86400: a draining node with jobs is terminated after this */
    uint32_t max_lifetime;      /* 0 = none: joined nodes older than this are drained */
    uint32_t billing_margin;    /* 300: per-hour billing: drain an idle node only within
                                 * this many seconds before its paid hour ends */

    /* failures */
    uint32_t boot_timeout;      /* 600: requested/booting -> instance running */
    uint32_t join_timeout;      /* 1200: running -> startd in the pool */
    uint32_t lost_timeout;      /* 600: a joined node missing from a complete pool
                                 * snapshot this long (VM still listed) is terminated */
    uint32_t listing_grace;     /* 300: a node whose boot was accepted less than this ago
                                 * is not declared gone for missing from a listing
                                 * (eventually consistent cloud APIs) */
    uint32_t breaker_failures;  /* 3: consecutive failures on (cloud, image, flavor) that
                                 * open its breaker */
    uint32_t breaker_backoff_min; /* 300: first open period */
    uint32_t breaker_backoff_max; /* 1800: open period doubles up to this */
    uint32_t breaker_reset_after; /* 10800: quiet period after which the backoff resets */
    uint32_t quota_backoff;     /* 600: a (cloud, flavor) that answered "quota" is skipped
                                 * this long; other flavors/clouds take over at once */
    uint32_t throttle_backoff;  /* 60: a cloud that answered "throttled" gets no boots
                                 * this long */

    /* global budgets, over all clouds; 0 = none */
    double budget_per_hour;
    double budget_per_month;

    /* bootstrap over SSH (BOOTSTRAP actions); false: cloud-init, the node joins
     * by itself once running and the core emits no BOOTSTRAP action. */
    bool bootstrap_ssh;
};

/* Fill every knob with its documented default; clouds = NULL, n_clouds = 0. */
void cb_core_config_defaults(struct cb_core_config *cfg);

/* Validate: returns 0, or -1 with err naming the field
 * ("clouds.[1].flavors.[0].cpus", "ramp_fraction") and what is wrong. */
int cb_core_config_check(const struct cb_core_config *cfg, struct cb_err *err);

/* ---- reason codes -------------------------------------------------------- */

/* Stable: names (cb_core_reason_name) appear in the ledger, metrics and
 * `cloudburstctl explain`; append new codes at the end only. */
enum cb_core_reason {
    CB_REASON_NONE = 0,
    /* actions */
    CB_REASON_DEMAND,               /* boot: idle jobs need capacity */
    CB_REASON_INSTANCE_RUNNING,     /* bootstrap: the instance runs */
    CB_REASON_IDLE_TIMEOUT,         /* drain: idle past its idle timeout */
    CB_REASON_MAX_LIFETIME,         /* drain: older than max_lifetime */
    CB_REASON_BUDGET_HOUR,          /* drain / non-decision: burn-rate cap */
    CB_REASON_BUDGET_MONTH,         /* drain / non-decision: monthly spend cap */
    CB_REASON_PREEMPTED,            /* drain/terminate/transition: spot interruption */
    CB_REASON_DEMAND_RETURNED,      /* cancel drain: reuse a draining node instead of booting */
    CB_REASON_DRAINED,              /* terminate: draining and empty */
    CB_REASON_DRAIN_TIMEOUT,        /* terminate: drained for drain_timeout, jobs or not */
    CB_REASON_BOOT_TIMEOUT,         /* terminate/transition: not running within boot_timeout */
    CB_REASON_JOIN_TIMEOUT,         /* terminate: not in the pool within join_timeout */
    CB_REASON_BOOTSTRAP_FAILED,     /* terminate: contextualisation failed */
    CB_REASON_INSTANCE_ERROR,       /* terminate: the cloud reports the instance in error */
    CB_REASON_LOST,                 /* terminate: startd left the pool, VM still there */
    CB_REASON_UNKNOWN_INSTANCE,     /* terminate: tagged instance nobody knows, not in the pool */
    CB_REASON_ADOPTED,              /* adopt: tagged instance unknown to the core, in the pool */
    CB_REASON_TERMINATE_RETRY,      /* terminate again: the earlier call failed */
    CB_REASON_CLOUD_DISABLED,       /* non-decision: cloud disabled */
    /* transitions observed or reported (records only) */
    CB_REASON_BOOT_ACCEPTED,        /* requested -> booting */
    CB_REASON_BOOT_REJECTED,        /* requested -> gone: the cloud refused the boot */
    CB_REASON_BOOT_FOUND,           /* requested -> booting: found in a listing (crash recovery) */
    CB_REASON_BOOT_NEVER_HAPPENED,  /* requested -> gone: not listed after boot_timeout */
    CB_REASON_JOINED,               /* -> idle/busy: the startd appeared */
    CB_REASON_CLAIMED,              /* idle -> busy */
    CB_REASON_RELEASED,             /* busy -> idle */
    CB_REASON_DRAIN_FAILED,         /* draining -> idle/busy: the drain call failed */
    CB_REASON_VANISHED,             /* -> gone: a fresh listing no longer has the instance */
    CB_REASON_TERMINATED,           /* terminating -> gone: terminate confirmed */
    /* non-decisions */
    CB_REASON_NOTHING_TO_DO,        /* no gap, nothing to scale down */
    CB_REASON_PAUSED,               /* scale-up suppressed by the operator */
    CB_REASON_PARTIAL_OBSERVATION,  /* scale-down suppressed: incomplete observation */
    CB_REASON_QUOTA,                /* (cloud, flavor) answered "quota" recently */
    CB_REASON_THROTTLED,            /* cloud rate-limited us recently */
    CB_REASON_MAX_NODES,            /* cloud max_nodes reached */
    CB_REASON_MAX_CORES,            /* cloud max_cores reached */
    CB_REASON_IN_FLIGHT_CAP,        /* cloud max_in_flight reached */
    CB_REASON_BOOT_PER_CYCLE,       /* cloud max_boot_per_cycle reached */
    CB_REASON_RAMP,                 /* damped ramp-up holds back part of the gap */
    CB_REASON_BREAKER_OPEN,         /* (cloud, image, flavor) in breaker backoff */
    CB_REASON_NO_FITTING_FLAVOR,    /* a job shape no flavor of any eligible cloud fits */
    CB_REASON_NO_ELIGIBLE_CLOUD,    /* a job shape whose clouds all cannot boot */
    CB_REASON_DRAIN_WAIT,           /* draining node still runs jobs (drain_timeout not reached) */
    CB_REASON_BILLING_HOUR,         /* idle node kept: its paid hour is not over */
    CB_REASON_LISTING_STALE,        /* cloud listing not fresh: no gone/unknown decisions */
    CB_REASON_UNKNOWN_NODE,         /* an event named a node the core does not know: ignored */
    /* actions, appended so that every earlier code keeps its value */
    CB_REASON_OPERATOR_DRAIN,       /* drain: the operator asked (cloudburstctl drain) */
    CB_REASON_OPERATOR_TERMINATE,   /* terminate: the operator asked (cloudburstctl terminate);
                                     * also the drain/terminate of a node asked out before it
                                     * joined */
    CB_REASON_INSTANCE_STOPPED,     /* terminate: the cloud shows the instance stopped or
                                     * shutting down (a guest poweroff, the lease): a stopped
                                     * VM still holds quota and often money */
    CB_REASON__COUNT
};

/* "demand", "idle-timeout", ...; "unknown" for out-of-range values.
 * parse returns -1 for an unknown word. */
const char *cb_core_reason_name(enum cb_core_reason r);
int cb_core_reason_parse(const char *word, enum cb_core_reason *out);

/* ---- node table (restore and inspection) --------------------------------- */

/* One node as the core knows it. The ledger keeps exactly these fields, so the
 * daemon can rebuild the core after a restart with cb_core_restore_node(). */
/* What the pool last showed of a node. UNKNOWN (zero) for a node restored
 * from a ledger that does not know: a restarted core then assumes the node
 * may run a job if it ever ran one. */
enum cb_core_seen {
    CB_SEEN_UNKNOWN = 0,
    CB_SEEN_EMPTY,
    CB_SEEN_BUSY,
};

struct cb_core_node_info {
    char node_id[CB_NAME_MAX];          /* "<batch_id>-<index>" */
    char batch_id[CB_CORE_BATCH_ID_MAX];
    char instance_id[CB_ID_MAX];        /* "" until the boot is accepted */
    unsigned cloud;                     /* index into the config's clouds */
    unsigned flavor;                    /* index into that cloud's flavors */
    enum cb_node_state state;
    int64_t requested_at;               /* boot intent written (or adopted) */
    int64_t booted_at;                  /* boot accepted, -1 not yet */
    int64_t running_at;                 /* instance seen running, -1 not yet */
    int64_t joined_at;                  /* startd first seen, -1 not yet */
    int64_t state_since;                /* entered the current state */
    int64_t idle_since;                 /* core's idle clock, -1 when busy/not joined */
    int64_t drain_started_at;           /* -1 unless draining */
    bool ever_busy;                     /* has run at least one job */
    enum cb_core_seen seen_busy;        /* what the pool last showed, as the records
                                         * said it (CB_RECORD_SEEN_BUSY, idle/busy) */
    bool preempted;                     /* spot interruption announced */
    bool adopted;                       /* not booted by this core */
    /* Operator requests (CB_EVENT_OPERATOR_*), kept by the ledger so they
     * survive a restart. operator_force implies operator_terminate, which
     * implies operator_drain (cb_core_restore_node completes the chain). */
    bool operator_drain;                /* asked out by the operator: no capacity, never
                                         * un-drained, terminated once empty */
    bool operator_terminate;            /* ... by a terminate request: the final terminate
                                         * says operator-terminate */
    bool operator_force;                /* ... with force: terminated at once, jobs or not */
};

/* ---- input --------------------------------------------------------------- */

/* Results of earlier actions and outside notices, in the order they happened. */
enum cb_core_event_kind {
    CB_EVENT_BOOT_ACCEPTED = 0, /* node_id got instance_id from the cloud */
    CB_EVENT_BOOT_FAILED,       /* the boot of batch_id failed with error; nodes of the
                                 * batch not yet accepted are affected (node_id "" = all) */
    CB_EVENT_BOOTSTRAP_OK,      /* node_id contextualised; it should join soon */
    CB_EVENT_BOOTSTRAP_FAILED,  /* node_id could not be contextualised */
    CB_EVENT_DRAIN_STARTED,     /* node_id drain command succeeded */
    CB_EVENT_DRAIN_FAILED,      /* node_id drain command failed: it stays in service */
    CB_EVENT_CANCEL_DRAIN_DONE, /* node_id accepts jobs again */
    CB_EVENT_TERMINATE_DONE,    /* node_id terminate call succeeded */
    CB_EVENT_TERMINATE_FAILED,  /* node_id terminate call failed: retried next decide */
    CB_EVENT_PREEMPTED,         /* node_id (or instance_id on cloud) announced as preempted */
    /* Operator requests (cloudburstctl drain/terminate NODE). Durable in the
     * node (cb_core_node_info.operator_*). A requested, booting or
     * bootstrapping node runs no job: it is terminated as soon as it has an
     * instance and a complete pool snapshot shows it has not joined (reason
     * operator-terminate). Unknown or gone node: non-decision unknown-node. */
    CB_EVENT_OPERATOR_DRAIN,    /* node_id: a joined node is drained (operator-drain), never
                                 * un-drained by returning demand, and terminated once empty
                                 * (drained) or after drain_timeout; a draining node is held so */
    CB_EVENT_OPERATOR_TERMINATE,/* node_id: without force, as OPERATOR_DRAIN but the final
                                 * terminate says operator-terminate; with force, TERMINATE
                                 * now whatever the state (running jobs are killed) */
    CB_EVENT__COUNT
};

struct cb_core_event {
    enum cb_core_event_kind kind;
    char node_id[CB_NAME_MAX];
    char batch_id[CB_CORE_BATCH_ID_MAX];
    char instance_id[CB_ID_MAX];
    unsigned cloud;             /* for PREEMPTED by instance id */
    enum cb_errcode error;      /* for *_FAILED: quota, throttled, timeout, auth, ... */
    bool force;                 /* OPERATOR_TERMINATE only: do not drain first */
};

/* One cloud's listing. fresh = listed during this cycle; a stale listing is
 * only used to learn (instance ids, running state), never to declare a node
 * gone, terminate an unknown instance or adopt. */
struct cb_core_listing {
    const struct cb_instance_list *instances; /* NULL = not listed */
    bool fresh;
};

struct cb_core_input {
    int64_t now;                        /* Unix seconds; must not go backwards */
    const struct cb_demand *demand;     /* NULL = not observed (treated as partial, empty) */
    const struct cb_supply *supply;     /* NULL = not observed (treated as partial) */
    const struct cb_core_listing *listings; /* indexed by cloud; NULL or fewer = not listed */
    size_t n_listings;
    const struct cb_core_event *events;
    size_t n_events;
    bool paused;                        /* operator pause: no scale-up */
};

/* ---- output -------------------------------------------------------------- */

enum cb_core_action_kind {
    CB_ACTION_BOOT = 0,         /* boot count x flavor on cloud, tag batch_id; node ids
                                 * "<batch_id>-0" .. "<batch_id>-<count-1>" */
    CB_ACTION_BOOTSTRAP,        /* contextualise node_id at address */
    CB_ACTION_DRAIN,            /* stop node_id accepting jobs; running ones finish. Also
                                 * sent (reason terminate-retry) for a terminating node
                                 * whose failed terminate is held because it now runs a job */
    CB_ACTION_CANCEL_DRAIN,     /* let node_id accept jobs again */
    CB_ACTION_TERMINATE,        /* terminate node_id's instance_id on cloud */
    CB_ACTION_ADOPT,            /* the core now owns instance_id as node_id (no cloud call) */
    CB_ACTION__COUNT
};

struct cb_core_action {
    enum cb_core_action_kind kind;
    enum cb_core_reason reason;
    unsigned cloud;
    unsigned flavor;                    /* BOOT, and the node's flavor otherwise */
    uint32_t count;                     /* BOOT: nodes in the batch; otherwise 1 */
    char batch_id[CB_CORE_BATCH_ID_MAX];/* BOOT: the idempotency token/tag */
    char node_id[CB_NAME_MAX];          /* BOOTSTRAP, DRAIN, CANCEL_DRAIN, TERMINATE, ADOPT */
    char instance_id[CB_ID_MAX];        /* TERMINATE, ADOPT, BOOTSTRAP */
    char address[CB_ADDR_MAX];          /* BOOTSTRAP: private, else public address */
    bool fast;                          /* DRAIN: preempted node, don't wait politely */
};

enum cb_core_record_kind {
    CB_RECORD_BOOT_INTENT = 0,  /* a batch is about to be booted: write before the call */
    CB_RECORD_NODE_CREATED,     /* a node enters the table in state `to` (own boot or adoption) */
    CB_RECORD_TRANSITION,       /* node from -> to */
    CB_RECORD_SEEN_BUSY,        /* a draining or terminating node was seen running a
                                 * job (busy) or empty (!busy); idle and busy
                                 * transitions say it for the other states */
};

/* What the ledger must hold durably. Records come in order; every record with
 * action == i must be durable before action i is carried out (the simplest
 * shell writes all records of one output in one transaction, then acts).
 * Records with action == CB_CORE_NONE describe what was observed. */
struct cb_core_record {
    enum cb_core_record_kind kind;
    enum cb_core_reason reason;
    size_t action;                      /* index into actions, or CB_CORE_NONE */
    int64_t at;                         /* in->now */
    unsigned cloud;
    unsigned flavor;
    char node_id[CB_NAME_MAX];
    char batch_id[CB_CORE_BATCH_ID_MAX];
    char instance_id[CB_ID_MAX];
    uint64_t batch_seq;                 /* BOOT_INTENT: the sequence number in batch_id */
    uint32_t count;                     /* BOOT_INTENT: nodes in the batch */
    enum cb_node_state from, to;        /* TRANSITION (from) / CREATED and TRANSITION (to) */
    bool busy;                          /* SEEN_BUSY */
};

/* Why something was NOT done, aggregated per decide:
 * - per shape (shape set): no-fitting-flavor, no-eligible-cloud; amount = jobs;
 * - per cloud (limits met while planning): quota, throttled, breaker-open,
 *   cloud-disabled, max-nodes, max-cores, budget-hour, budget-month;
 *   amount = jobs that cloud could not take (they may have spilled to another);
 * - per cloud (damping): ramp, in-flight-cap, boot-per-cycle, paused;
 *   amount = nodes not booted this decide;
 * - per node (node_id set): drain-wait, billing-hour, unknown-node,
 *   operator-terminate (asked out, waits for its instance or a complete snapshot);
 * - global: partial-observation, listing-stale (cloud set), nothing-to-do. */
struct cb_core_nondecision {
    enum cb_core_reason reason;
    size_t cloud;               /* cloud index, or CB_CORE_NONE when not cloud-specific */
    size_t flavor;              /* flavor index, or CB_CORE_NONE */
    size_t shape;               /* index into in->demand->shapes, or CB_CORE_NONE */
    char node_id[CB_NAME_MAX];  /* for node-level non-decisions, else "" */
    uint64_t amount;            /* nodes not booted / jobs not served / 0 */
};

/* Per-cloud figures of one decide, for metrics and the property tests. */
struct cb_core_cloud_stats {
    uint32_t nodes_live;        /* requested .. terminating, failed */
    uint32_t nodes_in_flight;   /* requested, booting, bootstrapping (not preempted, not
                                 * asked out by the operator) */
    uint32_t nodes_joined;      /* idle + busy, counted as capacity (same exclusions) */
    uint32_t nodes_draining;
    uint32_t cores_live;        /* flavor cpus of live nodes */
    uint64_t capacity_nodes;    /* nodes whose capacity was counted against demand (each once) */
    uint64_t free_cpus_counted; /* cpus of capacity counted: idle cpus of joined nodes
                                 * + flavor cpus of in-flight nodes */
    uint32_t boots;             /* nodes booted by this decide */
    uint64_t gap_nodes;         /* new nodes the demand asked for on this cloud */
    double burn_per_hour;       /* cost/hour of live nodes after this decide's boots */
    double spent_month;         /* accrued this calendar month */
    uint32_t idle_timeout;      /* effective idle timeout (fixed or learned) */
    bool breaker_open;          /* any flavor's breaker open */
};

struct cb_core_output {
    struct cb_core_action *actions;
    size_t n_actions, cap_actions;
    struct cb_core_record *records;
    size_t n_records, cap_records;
    struct cb_core_nondecision *nondecisions;
    size_t n_nondecisions, cap_nondecisions;
    struct cb_core_cloud_stats *clouds;  /* n_clouds entries */
    size_t n_clouds;
    uint64_t unserved_jobs;     /* idle jobs left without planned capacity */
};

#define CB_CORE_OUTPUT_INIT { 0 }

void cb_core_output_free(struct cb_core_output *out);

const char *cb_core_action_kind_name(enum cb_core_action_kind k);
const char *cb_core_event_kind_name(enum cb_core_event_kind k);

/* ---- lifecycle of the core ----------------------------------------------- */

struct cb_core;

/* Check and copy cfg. 0 and *out, or -1 (*out NULL) with err. */
int cb_core_new(struct cb_core **out, const struct cb_core_config *cfg, struct cb_err *err);

/* NULL is fine. */
void cb_core_free(struct cb_core *core);

/* Crash recovery, before the first decide: re-create a node from the ledger.
 * Nodes in state gone are ignored (0). A node id already known, an out-of-range
 * cloud/flavor or an unknown state is an error. A batch id of the form
 * "<prefix>-<n>" also advances the batch sequence past n. */
int cb_core_restore_node(struct cb_core *core, const struct cb_core_node_info *node,
                         struct cb_err *err);

/* The highest batch sequence number ever used (from the ledger's boot
 * intents): new batch ids are numbered above it, so they stay unique across
 * restarts even when the nodes of old batches are all gone. */
void cb_core_restore_batch_seq(struct cb_core *core, uint64_t highest_used);

/* Spend accrued on cloud during the UTC calendar month containing month_at,
 * and boot-to-join latency samples (seconds), from the ledger. */
int cb_core_restore_spend(struct cb_core *core, unsigned cloud, int64_t month_at, double spent,
                          struct cb_err *err);
int cb_core_restore_latency(struct cb_core *core, unsigned cloud, int64_t latency_s,
                            struct cb_err *err);

/* ---- deciding ------------------------------------------------------------ */

/* One cycle: apply events, reconcile with listings and the pool, then scale
 * up and down. out is cleared first. Returns 0, or -1 with err (invalid input:
 * now going backwards, a listing for a cloud that does not exist; or out of
 * memory); after -1 the core's state is unchanged only for the input checks,
 * which run first. */
int cb_core_decide(struct cb_core *core, const struct cb_core_input *in,
                   struct cb_core_output *out, struct cb_err *err);

/* The earliest time at which a decide could do something that no new
 * observation triggers (a timeout, idle timeout, breaker expiry, drain
 * timeout, billing boundary), or CB_CORE_NEVER. The daemon arms one timer. */
int64_t cb_core_next_deadline(const struct cb_core *core);

/* ---- inspection ---------------------------------------------------------- */

/* Live nodes (gone ones are dropped at the start of the next decide). */
size_t cb_core_node_count(const struct cb_core *core);
/* The i-th node (0 <= i < count, stable order: creation order). -1 if out of range. */
int cb_core_node_at(const struct cb_core *core, size_t i, struct cb_core_node_info *out);
/* By node id; -1 if unknown. */
int cb_core_node_find(const struct cb_core *core, const char *node_id,
                      struct cb_core_node_info *out);
/* The effective idle timeout of a cloud now (fixed, or learned within bounds). */
uint32_t cb_core_idle_timeout(const struct cb_core *core, unsigned cloud);
/* The highest batch sequence number used so far. */
uint64_t cb_core_batch_seq(const struct cb_core *core);

#endif
