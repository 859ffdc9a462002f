/* pool_report: what the pool adapter observes right now, for an admin.
 *
 * Behind `cloudburstctl pool [--json]`: runs the same queries the daemon runs
 * (cb_pool_query_sync over the same options) and prints demand by job shape
 * and by eligible cloud, and each cloud node with its state. It changes
 * nothing in the pool. Human output is an aligned table; JSON output (json-c)
 * is one object:
 *   {"demand": {"idle_jobs", "partial", "partial_reason", "skipped_jobs",
 *               "shapes": [{"jobs","cpus","memory_mb","disk_kb","runtime_s",
 *                           "oldest_qdate","clouds": [names]}],
 *               "by_cloud": [{"cloud","jobs","cpus","memory_mb"}]},
 *    "supply": {"partial", "partial_reason",
 *               "nodes": [{"machine","state","cloud","node_id","instance_id",
 *                          "cpus","idle_cpus","memory_mb","idle_memory_mb",
 *                          "disk_kb","idle_disk_kb","slots","claimed_slots",
 *                          "busy","draining","last_heard_from",
 *                          "daemon_start_time","idle_since",
 *                          "expected_empty_at"}]}}
 * A node's state is "draining", "busy" or "idle" (in that order of
 * precedence). Unknown times are -1 in JSON and "-" in the table. All strings
 * were sanitised by the adapter; the table prints them as they are.
 */
#ifndef CB_POOL_REPORT_H
#define CB_POOL_REPORT_H

#include "cb_error.h"
#include "core/observe.h"
#include "pool.h"

#include <stdbool.h>
#include <stdio.h>

/* Observe the pool now (cb_pool_query_sync) and print the report to out.
 * -1 with err set when the query fails (nothing is printed then) or out
 * cannot be written (CB_ERR_IO). */
int cb_pool_report(const struct cb_pool_options *opts, FILE *out, bool json, struct cb_err *err);

/* Print an observation already made (the formatting half, for tests and for
 * the daemon's status page). cloud_names has n_clouds entries. */
int cb_pool_report_write(const struct cb_demand *demand, const struct cb_supply *supply,
                         const struct cb_pool_stats *stats, const char *const *cloud_names,
                         size_t n_clouds, FILE *out, bool json, struct cb_err *err);

/* "draining", "busy" or "idle". */
const char *cb_pool_node_state(const struct cb_pool_node *node);

#endif
