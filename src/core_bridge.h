/* core_bridge: translate between the shell's world (configuration, ledger)
 * and the pure core's plain data.
 *
 * - cb_bridge_core_config() maps struct cb_config onto struct cb_core_config:
 *   the core gets the clouds and flavors by index (its bit in cb_cloud_mask is
 *   the cloud's position in the configuration).
 * - cb_bridge_restore() rebuilds the core's node table, batch sequence, month
 *   spend and boot-to-join latencies from the ledger after a (re)start, so a
 *   crash loses nothing the ledger holds. A live node whose cloud or flavor is
 *   no longer configured is an error: its VM still costs money, and only a
 *   configuration that still names it lets the controller drain and terminate
 *   it (the admin disables the cloud instead of deleting it).
 * - cb_bridge_record() writes one core record (boot intent, node created,
 *   transition) to the ledger.
 */
#ifndef CB_CORE_BRIDGE_H
#define CB_CORE_BRIDGE_H

#include "cb_error.h"
#include "config.h"
#include "core/core.h"
#include "ledger.h"

/* Storage for the arrays cb_core_config points to (freed by _free). */
struct cb_bridge_config {
    struct cb_core_config core;
    struct cb_core_cloud *clouds;
    struct cb_core_flavor *flavors; /* all clouds' flavors, back to back */
};

int cb_bridge_core_config(const struct cb_config *cfg, struct cb_bridge_config *out,
                          struct cb_err *err);
void cb_bridge_core_config_free(struct cb_bridge_config *bc);

/* Restore core state from the ledger. now is the current time (for the month
 * whose spend is restored). */
int cb_bridge_restore(struct cb_core *core, const struct cb_config *cfg, struct ledger *l,
                      int64_t now, struct cb_err *err);

/* Make one record of a decide durable. */
int cb_bridge_record(struct ledger *l, const struct cb_config *cfg,
                     const struct cb_core_record *rec, struct cb_err *err);

/* The ledger's view of a node as the core's (cloud/flavor names to indexes).
 * -1 if its cloud or flavor is not configured. */
int cb_bridge_node_info(const struct cb_config *cfg, const struct ledger_node *n,
                        struct cb_core_node_info *out, struct cb_err *err);

#endif
