/* sim: cloudburst-sim, the decision policies on a discrete-event loop.
 *
 * Promises:
 * - A virtual clock (seconds); nothing reads the wall clock. All randomness
 *   comes from the seeded PRNG in struct sim (no globals): the same trace,
 *   model, policy and seed give the same result, bit for bit.
 * - One pool model for every policy: the site's static workers take jobs
 *   first, then cloud nodes; partitionable slots; a negotiator cycle with
 *   first-fit matching in FIFO order; graceful drain (no new jobs, running ones
 *   finish). A policy that terminates a node with running jobs gets those jobs
 *   counted as killed by scale-down (and requeued, so every job still runs to
 *   completion exactly once).
 * - One cloud model: flavors with price, a core quota, API latency, log-normal
 *   boot-to-join latency (median, p90), black holes (VMs that never join), API
 *   errors, per-second or per-hour billing, spot preemption.
 *
 * Ownership: struct sim_trace owns its jobs (sim_trace_free). sim_run() borrows
 * the trace, the model and the policy ops and fills a caller-owned struct
 * sim_result (sim_result_free releases its time series).
 */
#ifndef CB_SIM_SIM_H
#define CB_SIM_SIM_H

#include "cb_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- traces ---------------------------------------------------------------- */

/* Parser limits: longer lines, bigger files or more jobs are an error. */
#define SIM_TRACE_LINE_MAX 4096
#define SIM_TRACE_BYTES_MAX ((size_t)1 << 30)  /* decompressed */
#define SIM_TRACE_JOBS_MAX 20000000u
#define SIM_DEFAULT_MEM_PER_CORE 2048u          /* MiB, when a trace has none */

struct sim_job {
    int64_t submit;        /* seconds from the trace's start */
    int64_t runtime;       /* seconds, >= 1 */
    uint32_t cpus;         /* >= 1 */
    uint64_t memory_mb;    /* whole job */
    bool asks_cloud;       /* exclusive mode: the job opted in to cloud nodes */
};

enum sim_trace_format { SIM_FMT_AUTO = 0, SIM_FMT_SWF, SIM_FMT_GWF, SIM_FMT_CONDOR_JSON,
                        SIM_FMT_CONDOR_AF };

struct sim_trace {
    struct sim_job *jobs;  /* sorted by submit (stable) */
    size_t n, cap;
    size_t skipped;        /* records without a usable runtime/size (cancelled jobs) */
    char name[64];
};

/* Parse a whole trace held in memory. On error returns -1, err names
 * "<origin>:<line>" and the field, and *t is left empty (nothing half-loaded).
 * condor_history -af columns: QDate JobStartDate CompletionDate RequestCpus
 * RequestMemory [RequestDisk]. */
int sim_trace_parse(struct sim_trace *t, enum sim_trace_format fmt, const char *data,
                    size_t size, const char *origin, struct cb_err *err);
/* Read a file (.gz transparently via zlib) and parse it; the format comes from
 * the name (.swf, .gwf, .json, .af/.txt = condor -af) unless fmt is given. */
int sim_trace_load(struct sim_trace *t, const char *path, enum sim_trace_format fmt,
                   struct cb_err *err);
void sim_trace_free(struct sim_trace *t);
/* The first `seconds` of a trace (jobs submitted before start+seconds). */
int sim_trace_slice(struct sim_trace *t, int64_t seconds, struct cb_err *err);

/* Generated stress traces (issue 3 §3): "burst" (2,000 one-core jobs at once,
 * 30-60 min each), "diurnal" (sinusoidal arrivals over 3 days), "long" (8-core
 * 24 h jobs), "sparse" (single jobs hours apart: scale from zero). */
int sim_trace_generate(struct sim_trace *t, const char *kind, uint64_t seed, struct cb_err *err);

/* ---- models ---------------------------------------------------------------- */

#define SIM_MAX_CLOUDS 4
#define SIM_MAX_FLAVORS 8
#define SIM_MAX_KNOBS 16

struct sim_flavor {
    char name[32];
    uint32_t cpus;
    uint64_t memory_mb;
    double cost_per_hour;
};

struct sim_cloud {
    char name[32];
    struct sim_flavor flavors[SIM_MAX_FLAVORS];
    size_t n_flavors;
    uint32_t quota_cores;      /* 0 = unlimited */
    double api_latency;        /* seconds from the call to the instance existing */
    double boot_median;        /* boot-to-join, seconds */
    double boot_p90;
    double blackhole;          /* probability a VM never joins */
    double api_error;          /* probability a boot call fails */
    bool per_hour;             /* per-hour billing (else per-second) */
    double spot_rate;          /* preemptions per node-hour; 0 = on-demand */
};

struct sim_model {
    struct sim_cloud clouds[SIM_MAX_CLOUDS];
    size_t n_clouds;
    uint32_t static_nodes;     /* site's own workers (default 0) */
    uint32_t static_cpus;      /* per static node */
    uint64_t static_mem_mb;
    bool exclusive;            /* only jobs that ask may run on cloud nodes */
    double cloud_share;        /* exclusive mode: share of jobs that ask */
    uint32_t negotiator_interval; /* seconds, 60 */
    uint32_t core_cycle;       /* cloudburst's controller.cycle_interval, 60 */
    uint64_t seed;
    int64_t horizon_after;     /* stop this long after the last job ends (default 2 days) */
    /* cloudburst's policy knobs that differ from cb_core_config_defaults()
     * (docs/policy.md names), e.g. idle_timeout_min = 120 */
    struct sim_knob { char name[32]; double value; } knobs[SIM_MAX_KNOBS];
    size_t n_knobs;
};

void sim_model_defaults(struct sim_model *m);

/* ---- what policies see and do --------------------------------------------- */

enum sim_node_state { SIM_NODE_BOOTING = 0, SIM_NODE_RUNNING, SIM_NODE_JOINED, SIM_NODE_GONE };

struct sim_node {
    char node_id[64];
    char instance_id[32];
    char batch_id[49];
    unsigned cloud, flavor;
    uint32_t cpus;
    uint64_t memory_mb;
    enum sim_node_state state;
    bool is_static;
    bool draining;
    bool blackhole;
    bool preempted;
    bool ever_used;
    int64_t requested_at;      /* the boot call */
    int64_t running_at;        /* instance running */
    int64_t join_at;           /* startd in the pool (planned; never for a black hole) */
    int64_t gone_at;
    int64_t idle_since;        /* joined and no job since; -1 otherwise */
    int64_t last_job_end;      /* -1 none yet */
    uint32_t free_cpus;
    uint64_t free_mem;
    uint32_t *jobs;            /* running job indices */
    uint32_t n_jobs, cap_jobs;
    int64_t acct_at;           /* the simulator's core-hour breakdown: accounted up to here */
};

struct sim_shape {
    uint32_t cpus;
    uint64_t memory_mb;
    uint64_t count;
    int64_t oldest_submit;
};

enum sim_event_kind { SIM_EV_BOOT_OK = 0, SIM_EV_BOOT_FAILED, SIM_EV_DRAIN_OK,
                      SIM_EV_UNDRAIN_OK, SIM_EV_TERMINATED, SIM_EV_PREEMPTED };

struct sim_event {
    enum sim_event_kind kind;
    uint32_t node;             /* index into nodes (BOOT_FAILED: first node of the batch) */
    uint32_t count;            /* BOOT_FAILED: nodes in the batch */
    enum cb_errcode error;     /* BOOT_FAILED: quota or transient */
    char batch_id[49];
};

struct sim_obs {
    int64_t now;
    const struct sim_model *model;
    /* eligible idle jobs (may run on cloud nodes), by shape */
    const struct sim_shape *shapes;
    size_t n_shapes;
    uint64_t idle_jobs, idle_cores;
    int64_t oldest_idle_submit;  /* -1 when none */
    uint64_t running_jobs_cloud, running_cores_cloud;
    /* every node ever created; live cloud nodes listed in `live` */
    const struct sim_node *nodes;
    const uint32_t *live;
    size_t n_live;
    const struct sim_event *events;  /* since the previous decide */
    size_t n_events;
    /* jobs, for FIFO policies: idle eligible jobs in queue order */
    const struct sim_job *jobs;
    const uint32_t *idle_fifo;       /* first n_idle_fifo idle jobs (capped) */
    size_t n_idle_fifo;
};

enum sim_action_kind { SIM_ACT_BOOT = 0, SIM_ACT_DRAIN, SIM_ACT_UNDRAIN, SIM_ACT_TERMINATE };

struct sim_action {
    enum sim_action_kind kind;
    unsigned cloud, flavor;    /* BOOT */
    uint32_t count;            /* BOOT */
    uint32_t node;             /* DRAIN, UNDRAIN, TERMINATE */
    char batch_id[49];         /* BOOT: optional; node ids become "<batch>-<i>" */
};

struct sim_actions {
    struct sim_action *v;
    size_t n, cap;
    bool oom;
};

void sim_act_boot(struct sim_actions *a, unsigned cloud, unsigned flavor, uint32_t count,
                  const char *batch_id);
void sim_act_node(struct sim_actions *a, enum sim_action_kind kind, uint32_t node);

struct sim_policy_ops {
    const char *name;
    const char *follows;       /* upstream file(s) the re-implementation follows */
    uint32_t interval;         /* seconds between decides; 0 = model's core_cycle */
    int (*init)(void **state, const struct sim_model *model, struct cb_err *err);
    int (*decide)(void *state, const struct sim_obs *obs, struct sim_actions *act,
                  struct cb_err *err);
    void (*fini)(void *state);
};

/* Parse "NAME=VALUE" for one of cloudburst's numeric policy knobs into m;
 * -1 with err naming the knob (unknown name, value out of its range). */
int sim_model_set_knob(struct sim_model *m, const char *assignment, struct cb_err *err);

/* Every policy in comparison order: "cloudburst" first, then the baselines. */
size_t sim_policy_count(void);
const struct sim_policy_ops *sim_policy_at(size_t i);
const struct sim_policy_ops *sim_policy_find(const char *name);

/* ---- results ---------------------------------------------------------------- */

struct sim_sample {
    int64_t t;
    uint32_t queued;           /* idle jobs (all) */
    uint32_t busy_cores;       /* cores running jobs on cloud nodes */
    uint32_t prov_cores;       /* cores of live cloud nodes */
};

struct sim_result {
    char policy[32];
    size_t jobs, completed;
    double wait_p50, wait_p95, wait_max, wait_mean;
    double makespan;
    double core_hours_prov, core_hours_used, efficiency;
    double core_hours_fluid;       /* oracle: capacity = demand at every instant */
    /* Where the provisioned core-hours went (they add up to core_hours_prov):
     * booting (request to join, black holes included), idle (joined, no job,
     * not draining), partial (free cores of nodes running jobs), drain (free
     * cores of draining nodes until they are gone) and busy (cores running
     * jobs, killed runs included). The oracle has no boot, idle or drain. */
    double ch_boot, ch_idle, ch_partial, ch_drain, ch_busy;
    double cost;
    uint64_t boots;
    uint64_t cores_never_used;
    uint64_t killed;               /* running jobs killed by scale-down */
    uint64_t preempted_jobs;       /* killed by spot preemption (cloud's doing) */
    uint64_t job_runs;             /* job starts that ran to completion */
    double overshoot;              /* max provisioned cores - peak demand (cores) */
    double peak_demand;
    double shrink_to_zero;         /* seconds after the last job ended; -1: not within horizon */
    bool oracle;
    struct sim_sample *samples;
    size_t n_samples, cap_samples;
};

void sim_result_free(struct sim_result *r);

/* Run one policy over the trace. */
int sim_run(const struct sim_trace *t, const struct sim_model *m, const struct sim_policy_ops *p,
            struct sim_result *out, struct cb_err *err);

/* The offline oracle: every job starts when submitted; each VM exists exactly
 * from its first job's start to its last job's end (jobs packed with perfect
 * knowledge of runtimes); core_hours_fluid is the fluid lower bound. */
int sim_oracle(const struct sim_trace *t, const struct sim_model *m, struct sim_result *out,
               struct cb_err *err);

/* ---- output ------------------------------------------------------------------ */

void sim_print_table(FILE *f, const char *trace_name, const struct sim_result *r, size_t n);
/* Where each policy's provisioned core-hours went (struct sim_result ch_*). */
void sim_print_breakdown(FILE *f, const struct sim_result *r, size_t n);
void sim_print_json(FILE *f, const char *trace_name, const struct sim_model *m,
                    const struct sim_result *r, size_t n);
int sim_write_svg(const char *path, const char *trace_name, const struct sim_result *r, size_t n,
                  struct cb_err *err);

/* ---- PRNG (xoshiro256**, state in the caller) -------------------------------- */
struct sim_rng { uint64_t s[4]; };
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
double sim_rng_uniform(struct sim_rng *r);      /* [0,1) */
double sim_rng_normal(struct sim_rng *r);
double sim_rng_exp(struct sim_rng *r, double rate);

#endif
