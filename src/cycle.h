/* cycle: one observe -> reconcile -> decide -> act pass, run on the daemon's loop.
 *
 * The cycle owns the per-configuration machinery (ledger, provider drivers and
 * their worker threads, pool adapter, bootstrapper, core). It is rebuilt when
 * a reloaded configuration replaces the old one. A cycle never blocks the loop:
 * it starts outside calls and continues in their completion callbacks, and it
 * always ends by calling `done` exactly once, whatever failed on the way.
 */
#ifndef CB_CYCLE_H
#define CB_CYCLE_H

#include "cb_error.h"

#include <stdbool.h>
#include <stdint.h>

struct cb_daemon;
struct cb_cycle;

typedef void (*cb_cycle_done_fn)(struct cb_daemon *d, int status);

/* Build the machinery for d->cfg (opens the ledger, loads drivers). */
int cb_cycle_new(struct cb_cycle **out, struct cb_daemon *d, struct cb_err *err);

/* Start one cycle; `done` runs on the loop when it has finished (status 0 ok,
 * -1 the cycle failed and logged why). Returns -1 if it could not start. */
int cb_cycle_start(struct cb_cycle *c, cb_cycle_done_fn done, struct cb_err *err);

/* Register the metric families the cycle reports (once per daemon). */
struct cb_metrics;
/* When the core next needs a decide without a new observation (a timeout,
 * an idle timeout, a drain's end): Unix seconds, or CB_CORE_NEVER. */
int64_t cb_cycle_next_deadline(const struct cb_cycle *c);

/* Whether cloud calls (boots, terminations, host keys) are still out:
 * results that a stop should wait for, so the ledger records them. */
bool cb_cycle_calls_pending(const struct cb_cycle *c);

int cb_cycle_register_metrics(struct cb_metrics *m, struct cb_err *err);

/* Stop worker threads and free everything; the loop must not be running a cycle. */
void cb_cycle_free(struct cb_cycle *c);

#endif
