/* pool: the HTCondor pool adapter. Reads demand (idle jobs) and supply (cloud
 * nodes) through the command-line tools every site has, and drains nodes.
 *
 * Promises:
 * - Never stalls the daemon: every tool runs as a child process on the
 *   caller's libuv loop (uv_spawn with pipes), its output is parsed as it
 *   arrives (pool_parse.h) in bounded memory whatever the queue size, and one
 *   uv_timer per operation kills the tools' process groups when the deadline
 *   passes (CB_ERR_TIMEOUT; the loop goes on).
 * - Never misreads: truncated or garbled output is an error naming the tool
 *   and the output line; a schedd that fails ("Failed to fetch ads", a non-zero
 *   exit after some output, one of several configured schedds down) makes the
 *   observation PARTIAL (cb_demand.partial / cb_supply.partial with a reason):
 *   the core may scale up on it but must not scale down. The pool being down
 *   (exit 1 and empty output: HTCondor 25 prints nothing on stdout then) is a
 *   clear CB_ERR_TRANSIENT error with the tool's first stderr line.
 * - HTCondor decides eligibility: the demand query has one evaluated column
 *   per cloud, `(<cloud's eligibility expression>) =?= true`.
 *
 * The queries, per cycle:
 *   condor_q -allusers (-global | -name <schedd>) [-pool <collector>]
 *            -constraint 'JobStatus == 1 && ((<expr0>) || (<expr1>) ...)'
 *            -af:t ClusterId ProcId RequestCpus RequestMemory RequestDisk QDate
 *                  Owner JobUniverse <runtime hint(s)> <one column per cloud>
 *     one run per configured schedd (all concurrently), or one -global run.
 *     With totals_first, a `... -totals` run with the same constraint goes
 *     first and the projection is skipped when it counts no idle job.
 *   condor_status [-pool <c>] -constraint '<cloud_attribute> =?= True'
 *            -json -attributes <slot attributes>          (slot ads)
 *   condor_status -startd [-pool <c>] -constraint '...' -json -attributes
 *            Name,Machine,Draining,DrainReason,DaemonStartTime (StartD ads)
 *
 * Why -af:t for demand and JSON for supply. Measured by bench/bench_pool
 * (1M idle jobs streamed in 64 KiB chunks, 2 clouds, -O2, this 2-core
 * machine): -af:t is 85 MB of output, parsed and aggregated into shapes in
 * 0.42 s at 1.3 MB peak RSS; the same jobs as `-json -attributes` are 220 MB
 * and take 7.5 s (json-c tokenizer and an object per ad) at 1.6 MB. HTCondor
 * itself needs 1.9 s for 80k jobs with -af (issue 4), so only -af:t keeps the
 * adapter a small fraction of condor_q's time. And above all -af
 * EVALUATES: a request written as an expression comes back as a number and
 * each cloud's eligibility becomes a true/false column, whereas
 * `-json -attributes` can only return raw attributes, as "\/Expr(...)\/"
 * strings when they are expressions, which would need a ClassAd evaluator
 * here. Supply is a few ads per node; JSON carries its free text
 * (DrainReason), lists (ChildState) and types unambiguously.
 *
 * Not used: `condor_q -autocluster` (0.01 s) counts every job of an
 * autocluster whatever its status and ignores -constraint, so it cannot tell
 * idle cloud-eligible jobs; it could only bound the projection from above.
 *
 * Supply details: a partitionable slot is idle only with Cpus ==
 * TotalSlotCpus and no Claimed entry in ChildState; a node is busy while any
 * slot is claimed; draining comes from the StartD ad's Draining, a slot in
 * State "Drained" or Activity "Retiring" (condor_off -peaceful); idle_since is
 * the latest EnteredCurrentActivity (for a p-slot also NumDynamicSlotsTime,
 * when its last child went away); expected_empty_at is the latest JobStart +
 * runtime hint of the claimed slots, known only when the site publishes the
 * runtime attribute in slot ads (STARTD_JOB_ATTRS), else -1.
 *
 * Drain: condor_drain [-pool <c>] -graceful <drain_args...> <target> and
 * condor_drain [-pool <c>] -cancel <target>. HTCondor 25's condor_drain cannot
 * resolve a bare host name without a domain ("unknown host vm"), so the target
 * is the slot name seen for that machine in the last observation
 * ("slot1@vm"), or the machine itself when it contains '.' or '@'.
 * (Draining over SSH with condor_off -peaceful belongs to the bootstrapper.)
 *
 * Ownership: cb_pool_new() copies the options; the pool must outlive every
 * operation started on it (free it only when no callback is pending). The
 * callbacks run on the loop thread. Not thread-safe: use a pool from the
 * loop's thread only.
 */
#ifndef CB_POOL_H
#define CB_POOL_H

#include "cb_error.h"
#include "core/observe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CB_POOL_DEFAULT_TIMEOUT_MS 60000
#define CB_POOL_EXPR_MAX 4096          /* bytes of one eligibility expression */
#define CB_POOL_MAX_SCHEDDS 64
#define CB_POOL_MAX_DRAIN_ARGS 16

struct cb_pool_options {
    const char *condor_q;              /* tool paths; NULL or "" = looked up in PATH */
    const char *condor_status;
    const char *condor_drain;
    const char *collector;             /* -pool argument; NULL or "" = the local config's */
    const char *const *schedds;        /* n_schedds names; none = -global */
    size_t n_schedds;
    unsigned timeout_ms;               /* deadline of one query or command; 0 = default */
    const char *cloud_attribute;       /* NULL or "" = IsCloudNode */
    const char *const *eligibility;    /* n_clouds ClassAd expressions over the job, */
    size_t n_clouds;                   /*   index = the cloud's bit in cb_cloud_mask */
    const char *const *cloud_names;    /* n_clouds names for the report; NULL = "cloud<i>" */
    const char *runtime_attribute;     /* NULL or "" = MaxWallTime, RequestRuntime,
                                          JobDurationEstimate (first one defined) */
    const char *const *drain_args;     /* extra condor_drain arguments (e.g. -reason x) */
    size_t n_drain_args;
    bool totals_first;                 /* condor_q -totals before the projection */
};

struct cb_pool;

/* What one query saw besides the observations (for logs and the CLI). */
struct cb_pool_stats {
    uint64_t jobs_seen;                /* job lines parsed */
    uint64_t jobs_skipped;             /* no cloud eligible / scheduler, grid, local universe /
                                          a request that evaluates to error */
    uint64_t totals_idle;              /* idle count from -totals (totals_first only) */
    bool projection_skipped;           /* -totals said nothing is idle */
    size_t slot_ads, startd_ads;
    unsigned tools_run;
};

/* Validates and copies the options: attribute names must be ClassAd
 * identifiers, expressions non-empty, at most CB_POOL_EXPR_MAX bytes, without
 * control characters and with balanced parentheses outside string literals
 * (so one cannot close the constraint's parenthesis and inject a clause). */
int cb_pool_new(struct cb_pool **out, const struct cb_pool_options *opts, struct cb_err *err);
void cb_pool_free(struct cb_pool *pool);

/* Number of clouds and the report name of cloud i. */
size_t cb_pool_n_clouds(const struct cb_pool *pool);
const char *cb_pool_cloud_name(const struct cb_pool *pool, size_t i);

/* The argument vectors the pool runs (for logs, --dry-run and the tests):
 * which = "demand", "totals", "slots", "startd"; schedd_index picks the
 * -name run (ignored with -global). Returns a NULL-terminated vector to free
 * with cb_pool_argv_free(), or NULL with err set. */
char **cb_pool_argv(const struct cb_pool *pool, const char *which, size_t schedd_index,
                    struct cb_err *err);
void cb_pool_argv_free(char **argv);

/* Called once per query on the loop thread. status 0: *demand and *supply
 * hold the observation (possibly partial); -1: err says why and both are
 * empty. *demand and *supply are MOVED to the callee: keep them by copying
 * the structs (then free with cb_demand_free/cb_supply_free) or free them
 * now; the pointers are invalid after the callback returns. */
typedef void (*cb_pool_query_cb)(void *payload, int status, struct cb_demand *demand,
                                 struct cb_supply *supply, const struct cb_pool_stats *stats,
                                 const struct cb_err *err);

/* Start the demand and supply queries. -1 (and no callback) only when the
 * query could not start: another query of this pool is running (CB_ERR_BUSY)
 * or memory ran out. A tool that cannot be executed is reported through the
 * callback. */
int cb_pool_query_start(struct cb_pool *pool, uv_loop_t *loop, cb_pool_query_cb cb,
                        void *payload, struct cb_err *err);

/* The same on a private loop, blocking until done (cloudburstctl, tests).
 * On success the caller owns *demand and *supply; stats may be NULL. */
int cb_pool_query_sync(struct cb_pool *pool, struct cb_demand *demand, struct cb_supply *supply,
                       struct cb_pool_stats *stats, struct cb_err *err);

/* The condor_drain target for a machine: the slot name seen in the last
 * successful query, or the machine if it has '.' or '@'. -1 (CB_ERR_INVALID)
 * for a bare name never seen: condor_drain could not resolve it. */
int cb_pool_drain_target(const struct cb_pool *pool, const char *machine, char *out,
                         size_t size, struct cb_err *err);

typedef void (*cb_pool_cmd_cb)(void *payload, int status, const struct cb_err *err);

/* condor_drain -graceful / -cancel for the node `machine`, asynchronously.
 * status -1: the tool failed (CB_ERR_NOT_FOUND for an unknown host,
 * CB_ERR_TIMEOUT, CB_ERR_TRANSIENT otherwise, with the tool's message). */
int cb_pool_drain_start(struct cb_pool *pool, uv_loop_t *loop, const char *machine,
                        cb_pool_cmd_cb cb, void *payload, struct cb_err *err);
int cb_pool_drain_cancel(struct cb_pool *pool, uv_loop_t *loop, const char *machine,
                         cb_pool_cmd_cb cb, void *payload, struct cb_err *err);
/* Blocking versions on a private loop. */
int cb_pool_drain_sync(struct cb_pool *pool, const char *machine, bool cancel,
                       struct cb_err *err);

#endif
