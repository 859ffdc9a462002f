/* world: the cycle's hands and eyes outside the clouds — the pool and the nodes.
 *
 * Wraps the pool adapter (condor_q / condor_status / condor_drain as child
 * processes) and the SSH bootstrapper behind the few calls the cycle makes,
 * and maps struct cb_config onto their option structs, so the cycle speaks
 * only in core terms (observations, actions, events). Everything is
 * asynchronous on the daemon's libuv loop and bounded by its own timeouts.
 */
#ifndef CB_WORLD_H
#define CB_WORLD_H

#include "cb_error.h"
#include "config.h"
#include "core/core.h"

#include <uv.h>

struct cb_world;

int cb_world_new(struct cb_world **out, uv_loop_t *loop, const struct cb_config *cfg,
                 struct cb_err *err);
/* Cancels what is in flight (their callbacks are not called). */
void cb_world_free(struct cb_world *w);

/* Observe the pool into *demand and *supply (borrowed until done is called).
 * done(payload, 0, NULL) on success (which may be a partial observation),
 * done(payload, -1, err) when the pool could not be read. */
typedef void (*cb_world_observed_fn)(void *payload, int status, const struct cb_err *err);
int cb_world_observe(struct cb_world *w, struct cb_demand *demand, struct cb_supply *supply,
                     cb_world_observed_fn done, void *payload, struct cb_err *err);

/* The controller's own ClassAd, published every cycle (the controller side of
 * the two-sided lease: cloud nodes stop taking jobs and power off when the
 * heartbeat is older than controller.lease). */
struct cb_controller_ad {
    int64_t heartbeat;          /* Unix time of this cycle */
    unsigned lease;             /* seconds */
    unsigned nodes_live, nodes_busy, nodes_in_flight;
    uint64_t idle_jobs;
    bool paused, dry_run;
    double cost_per_hour;
};

/* Run `condor_advertise UPDATE_AD_GENERIC` with the ad, in the background
 * (bounded by pool.query_timeout). A failure is logged, never fatal: the
 * nodes then see an older heartbeat, which is what the lease is for. */
int cb_world_advertise(struct cb_world *w, const struct cb_config *cfg,
                       const struct cb_controller_ad *ad, struct cb_err *err);

/* Remember the addresses a cloud listing gives its nodes (SSH drain targets). */
void cb_world_learn_addresses(struct cb_world *w, const struct cb_instance_list *listing);

/* Carry out a BOOTSTRAP, DRAIN or CANCEL_DRAIN action. `done` reports the
 * outcome as the core event it is (BOOTSTRAP_OK / BOOTSTRAP_FAILED,
 * DRAIN_STARTED / DRAIN_FAILED, CANCEL_DRAIN_DONE / DRAIN_FAILED), possibly
 * much later, with the action's wall time in seconds; it is never called
 * after cb_world_free. host_keys: the SSH host
 * keys the cloud's console showed for the instance ("type base64" lines), which
 * strict host-key checking accepts; NULL when none were read. */
typedef void (*cb_world_node_done_fn)(void *payload, const char *node_id,
                                      enum cb_core_action_kind action,
                                      enum cb_core_event_kind kind, enum cb_errcode code,
                                      double seconds);
int cb_world_node_action(struct cb_world *w, const struct cb_config *cfg,
                         const struct cb_core_action *a, const char *host_keys,
                         cb_world_node_done_fn done, void *payload, struct cb_err *err);

/* Whether bootstrap host keys must be known beforehand (policy strict), so
 * the daemon reads them from the cloud's console before bootstrapping. */
bool cb_world_needs_console_keys(const struct cb_world *w);

/* The user-data a BOOT passes to the cloud: the #cloud-config that
 * contextualises the node when bootstrap.method is cloud-init, else a small
 * #cloud-config that only sets the node's identity. Caller frees *out. */
int cb_world_user_data(struct cb_world *w, const struct cb_config *cfg,
                       const struct cb_core_action *a, char **out, size_t *out_len,
                       struct cb_err *err);

#endif
