/* lifecycle: the node state machine of DESIGN.md, enforced in one place.
 *
 *   requested -> booting -> bootstrapping -> idle <-> busy -> draining
 *             -> terminating -> gone,  and failed from every live state.
 *
 * idle and busy are the two halves of "joined". Pure data and pure functions:
 * the ledger refuses any transition this table does not allow, the core only
 * proposes allowed ones, and the test walks the whole table.
 */
#ifndef CB_CORE_LIFECYCLE_H
#define CB_CORE_LIFECYCLE_H

#include <stdbool.h>

enum cb_node_state {
    CB_NODE_REQUESTED = 0, /* boot intent durable; the cloud call may or may not have happened */
    CB_NODE_BOOTING,       /* the cloud accepted the boot; instance id known */
    CB_NODE_BOOTSTRAPPING, /* instance running; SSH contextualisation under way */
    CB_NODE_IDLE,          /* startd in the pool, no claimed slot */
    CB_NODE_BUSY,          /* startd in the pool, at least one claimed slot */
    CB_NODE_DRAINING,      /* no new jobs; running ones finish */
    CB_NODE_TERMINATING,   /* terminate requested from the cloud */
    CB_NODE_GONE,          /* the cloud no longer lists it: final */
    CB_NODE_FAILED,        /* something went wrong; must still be terminated (or is gone) */
    CB_NODE__COUNT
};

/* Whether from -> to is a legal transition. Staying in the same state is not a
 * transition and is not allowed (callers must not record no-ops). */
bool cb_node_transition_allowed(enum cb_node_state from, enum cb_node_state to);

/* A VM may exist in the cloud for this node (everything but gone). */
bool cb_node_state_is_live(enum cb_node_state s);

/* The node's capacity counts towards supply (booting .. busy; not draining). */
bool cb_node_state_counts_as_capacity(enum cb_node_state s);

/* States a node may be created in: requested (own boot) or, when an unknown
 * instance is adopted by reconciliation, booting/bootstrapping/idle/busy. */
bool cb_node_state_is_initial(enum cb_node_state s);

/* "requested", "booting", ...; parse returns -1 for an unknown word. */
const char *cb_node_state_name(enum cb_node_state s);
int cb_node_state_parse(const char *word, enum cb_node_state *out);

#endif
