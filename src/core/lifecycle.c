/* lifecycle: see lifecycle.h. The table is the single source of truth. */
#include "core/lifecycle.h"

#include <string.h>

#define R CB_NODE_REQUESTED
#define B CB_NODE_BOOTING
#define S CB_NODE_BOOTSTRAPPING
#define I CB_NODE_IDLE
#define U CB_NODE_BUSY
#define D CB_NODE_DRAINING
#define T CB_NODE_TERMINATING
#define G CB_NODE_GONE
#define F CB_NODE_FAILED

/* allowed[from][to]. Why each edge exists:
 * - requested->gone: a boot intent the cloud never acted on (found by listing
 *   after a crash) closes without ever having had a VM.
 * - booting/bootstrapping->terminating: boot or join timeout, or demand vanished.
 * - idle<->busy: jobs come and go; busy->idle is a job finishing.
 * - draining->idle/busy: a drain cancelled because demand came back.
 * - idle->terminating: a node that never ran a job can go at once (no job to kill).
 * - *->gone: the cloud stopped listing the instance (preempted, deleted by hand).
 * - failed->terminating/gone: a failed node still costs money until terminated. */
static const bool allowed[CB_NODE__COUNT][CB_NODE__COUNT] = {
    [R] = { [B] = true, [G] = true, [F] = true },
    [B] = { [S] = true, [I] = true, [T] = true, [G] = true, [F] = true },
    [S] = { [I] = true, [U] = true, [T] = true, [G] = true, [F] = true },
    [I] = { [U] = true, [D] = true, [T] = true, [G] = true, [F] = true },
    [U] = { [I] = true, [D] = true, [G] = true, [F] = true },
    [D] = { [I] = true, [U] = true, [T] = true, [G] = true, [F] = true },
    [T] = { [G] = true, [F] = true },
    [G] = { 0 },
    [F] = { [T] = true, [G] = true },
};

static const char *const names[CB_NODE__COUNT] = {
    [R] = "requested", [B] = "booting", [S] = "bootstrapping", [I] = "idle", [U] = "busy",
    [D] = "draining", [T] = "terminating", [G] = "gone", [F] = "failed",
};

bool cb_node_transition_allowed(enum cb_node_state from, enum cb_node_state to)
{
    if ((unsigned)from >= CB_NODE__COUNT || (unsigned)to >= CB_NODE__COUNT)
        return false;
    return allowed[from][to];
}

bool cb_node_state_is_live(enum cb_node_state s)
{
    return (unsigned)s < CB_NODE__COUNT && s != G;
}

bool cb_node_state_counts_as_capacity(enum cb_node_state s)
{
    return s == R || s == B || s == S || s == I || s == U;
}

bool cb_node_state_is_initial(enum cb_node_state s)
{
    return s == R || s == B || s == S || s == I || s == U;
}

const char *cb_node_state_name(enum cb_node_state s)
{
    if ((unsigned)s >= CB_NODE__COUNT)
        return "unknown";
    return names[s];
}

int cb_node_state_parse(const char *word, enum cb_node_state *out)
{
    for (unsigned i = 0; i < CB_NODE__COUNT; i++) {
        if (strcmp(word, names[i]) == 0) {
            *out = (enum cb_node_state)i;
            return 0;
        }
    }
    return -1;
}
