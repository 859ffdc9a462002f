/* ledger: the durable record of every node and every event (SQLite, WAL).
 *
 * Promises:
 * - Durability: the database runs in WAL mode with synchronous=FULL, so a
 *   call that returned 0 survives kill -9 and power loss. Every write is ONE
 *   transaction: a boot intent (all nodes of the batch plus their events), a
 *   transition (node row plus its event), a failure. Nothing is ever half
 *   written.
 * - Boot intents are durable BEFORE the cloud call: the daemon calls
 *   ledger_record_boot_intent() and only then asks the cloud to boot, passing
 *   the batch id as idempotency token (provider.h). After a crash the intent
 *   rows (state requested) say what may exist in the cloud.
 * - The node state machine is enforced here through core/lifecycle.h (the one
 *   transition table): an illegal transition is CB_ERR_INVALID naming the
 *   node, the from and the to state, and changes nothing.
 * - The events table is append-only (triggers refuse UPDATE and DELETE).
 * - Outside text (error messages, details, addresses) is sanitised
 *   (cb_sanitize) and cut to LEDGER_TEXT_MAX bytes before it is stored.
 * - Single writer: a LEDGER_READ_WRITE open takes an exclusive flock(2) on
 *   "<path>.lock" and writes its pid there; a second READ_WRITE open fails
 *   with CB_ERR_BUSY "ledger PATH is in use by pid N". The lock goes with the
 *   handle (ledger_close) or the process. LEDGER_READ_ONLY opens
 *   (cloudburstctl) never take the lock, open SQLite read-only and are safe
 *   while the daemon writes (WAL readers see the last committed state).
 *   LEDGER_SUBMIT opens (cloudburstctl drain/terminate/pause/resume) take no
 *   lock either and may only add admin requests; SQLite serialises that one
 *   short transaction with the daemon's (busy_timeout).
 * - Schema: versioned with PRAGMA user_version and application_id. A
 *   READ_WRITE open applies the forward migrations still missing, each in its
 *   own transaction (ledger_schema.c keeps them as data, step 1 -> N). A
 *   ledger written by a NEWER schema, or a SQLite file that is not a ledger,
 *   is refused (CB_ERR_VERSION / CB_ERR_INVALID) before anything is modified.
 *   A READ_ONLY open needs the current version (it cannot migrate).
 * - Time: every writer takes `now` (Unix seconds) from the caller; the ledger
 *   never reads the clock.
 *
 * Ownership: struct ledger is opaque, one per thread at a time (SQLite
 * connections are not shared across threads here). Lists returned by the
 * ledger_list_* calls are owned by the caller and freed with their *_free().
 * Strings in the structs are fixed-size and NUL-terminated.
 *
 * Tables for issue 8 (present from schema 3, see ledger_schema.c):
 * admin_requests (cloudburstctl drain/terminate/pause/resume; the daemon
 * consumes them), cycles + decisions (the last cycles' explain output) and
 * controller_state (persistent flags such as "paused").
 */
#ifndef CB_LEDGER_H
#define CB_LEDGER_H

#include "cb_error.h"
#include "core/lifecycle.h"
#include "core/observe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The newest schema this build reads and writes. */
#define LEDGER_SCHEMA_VERSION 4
/* PRAGMA application_id of a cloudburst ledger ("CBLG"; decimal for the pragma). */
#define LEDGER_APPLICATION_ID 1128418375 /* 0x43424c47 */

#define LEDGER_TEXT_MAX 512      /* bytes of a detail or last_error (longer is cut) */
#define LEDGER_KIND_MAX 32       /* bytes of an event kind */
#define LEDGER_BATCH_MAX 1000    /* nodes in one boot intent */
#define LEDGER_BUSY_TIMEOUT_MAX 600000u /* ms */

/* Open modes. */
enum ledger_mode {
    LEDGER_READ_WRITE = 1, /* the daemon: lock, create, migrate, write */
    LEDGER_READ_ONLY = 2,  /* cloudburstctl: no lock, SQLite read-only */
    LEDGER_SUBMIT = 3,     /* cloudburstctl drain/terminate/pause/resume: no lock, current
                            * schema only, and the only write allowed is
                            * ledger_submit_request() (SQLite serialises it with the
                            * daemon's writes; busy_timeout applies) */
};

struct ledger;

/* Open (READ_WRITE: create if missing) the ledger at `path`. busy_timeout_ms
 * is how long a statement waits for another connection's lock (0..
 * LEDGER_BUSY_TIMEOUT_MAX). Errors: CB_ERR_BUSY (another writer holds the
 * lock; its pid is in the message), CB_ERR_IO (state directory or file
 * unreadable, named with the OS error), CB_ERR_NOT_FOUND (READ_ONLY and no
 * ledger there), CB_ERR_VERSION (newer schema; or an older one in READ_ONLY),
 * CB_ERR_INVALID (not a ledger, bad arguments). *out is NULL on failure. */
int ledger_open(struct ledger **out, const char *path, enum ledger_mode mode,
                unsigned busy_timeout_ms, struct cb_err *err);

/* Close and release the writer lock. NULL is fine. */
void ledger_close(struct ledger *l);

const char *ledger_path(const struct ledger *l);

/* PRAGMA integrity_check and foreign_key_check: 0 when both are clean, else
 * CB_ERR_INVALID with the first complaint. */
int ledger_check_integrity(struct ledger *l, struct cb_err *err);

/* ---- nodes ------------------------------------------------------------- */

/* A boot intent: `count` nodes of one flavor on one cloud, booted by one
 * cloud call whose idempotency token is batch_id. Node ids are
 * "<batch_id>-<index>", index 0..count-1 (provider.h). */
struct ledger_intent {
    char batch_id[CB_NAME_MAX]; /* a safe name (cb_is_safe_name), unique */
    char cloud[CB_NAME_MAX];
    char flavor[CB_NAME_MAX];
    char image[CB_ID_MAX];
    uint32_t cpus;              /* per node, from the flavor at boot time */
    uint64_t memory_mb;
    double cost_per_hour;       /* per node, site currency */
    uint32_t count;             /* 1..LEDGER_BATCH_MAX */
};

struct ledger_node {
    char node_id[CB_NAME_MAX];
    char batch_id[CB_NAME_MAX];
    uint32_t batch_index;
    char cloud[CB_NAME_MAX];
    char flavor[CB_NAME_MAX];
    char image[CB_ID_MAX];
    uint32_t cpus;              /* 0 = unknown (node recorded by schema 1) */
    uint64_t memory_mb;
    double cost_per_hour;
    char instance_id[CB_ID_MAX];/* "" until the cloud answered */
    enum cb_node_state state;
    int64_t state_since;        /* when it entered `state` */
    int64_t state_at[CB_NODE__COUNT]; /* last entry into each state, -1 never */
    char private_addr[CB_ADDR_MAX];
    char public_addr[CB_ADDR_MAX];
    char hostname[CB_HOST_MAX];
    uint32_t failure_count;
    char last_error[LEDGER_TEXT_MAX];
    bool adopted;               /* found in the cloud, not booted by this ledger */
    int seen_busy;              /* the pool last showed it running a job (1) or empty
                                 * (0); -1 unknown (never joined, or schema < 4) */
};

/* Record a boot intent: `count` rows in state requested plus one "intent"
 * event each, in one transaction. A batch id already used is CB_ERR_INVALID.
 * On success, if node_ids_out is not NULL it is filled with up to
 * node_ids_cap ids (the caller's array). */
int ledger_record_boot_intent(struct ledger *l, const struct ledger_intent *intent, int64_t now,
                              char (*node_ids_out)[CB_NAME_MAX], size_t node_ids_cap,
                              struct cb_err *err);

/* Move node_id to state `to` (lifecycle.h decides if it may), stamping
 * state_since and the state's timestamp, and append a "transition" event with
 * `detail` (may be NULL; sanitised). CB_ERR_NOT_FOUND for an unknown node,
 * CB_ERR_INVALID for an illegal transition; nothing changes then. */
int ledger_transition(struct ledger *l, const char *node_id, enum cb_node_state to, int64_t now,
                      const char *detail, struct cb_err *err);

/* The cloud's instance id for a node (sanitised). Setting the same id again
 * is a no-op; a different id once one is set is CB_ERR_INVALID. */
int ledger_set_instance(struct ledger *l, const char *node_id, const char *instance_id,
                        int64_t now, struct cb_err *err);

/* Addresses and startd host name as learned from the cloud or the pool; NULL
 * leaves a field unchanged, "" clears it. Appends an "address" event. */
int ledger_set_addresses(struct ledger *l, const char *node_id, const char *private_addr,
                         const char *public_addr, const char *hostname, int64_t now,
                         struct cb_err *err);

/* What the pool last showed of a node that is past idle/busy (draining,
 * terminating): running a job or empty. Entering idle or busy sets it too
 * (ledger_transition). A restarted daemon reads it to tell a peacefully
 * drained node from one whose ad is briefly missing while it runs a job.
 * Appends a "seen" event. */
int ledger_set_seen_busy(struct ledger *l, const char *node_id, bool busy, int64_t now,
                         struct cb_err *err);

/* Count a failure against the node: failure_count + 1, last_error = the
 * sanitised text, a "failure" event. The state is not changed (the caller
 * decides whether the node goes to failed, with ledger_transition). */
int ledger_record_failure(struct ledger *l, const char *node_id, const char *error_text,
                          int64_t now, struct cb_err *err);

/* Create a node for an instance reconciliation found in the cloud (tags say
 * it is ours, the ledger does not know it). Uses node_id, batch_id,
 * batch_index, cloud, flavor, image, cpus, memory_mb, cost_per_hour,
 * instance_id, addresses and hostname from `node`; `node->state` must be an
 * initial state (cb_node_state_is_initial). Sets adopted; an "adopt" event. */
int ledger_record_adoption(struct ledger *l, const struct ledger_node *node, int64_t now,
                           struct cb_err *err);

/* Which nodes to list. Zeroed = all nodes. */
struct ledger_node_filter {
    const char *cloud;          /* NULL = any */
    const char *node_id;        /* NULL = any */
    const char *batch_id;       /* NULL = any */
    bool by_state;              /* only nodes in `state` */
    enum cb_node_state state;
    bool live_only;             /* only states that may have a VM (not gone) */
};

struct ledger_node_list {
    struct ledger_node *items;  /* ordered by cloud, batch id, batch index */
    size_t n;
};

int ledger_list_nodes(struct ledger *l, const struct ledger_node_filter *filter,
                      struct ledger_node_list *out, struct cb_err *err);
void ledger_node_list_free(struct ledger_node_list *list);

/* One node by id: CB_ERR_NOT_FOUND if unknown. */
int ledger_get_node(struct ledger *l, const char *node_id, struct ledger_node *out,
                    struct cb_err *err);

/* Nodes per cloud and state (gone included), for `cloudburstctl status`. */
struct ledger_cloud_counts {
    char cloud[CB_NAME_MAX];
    uint64_t by_state[CB_NODE__COUNT];
    uint64_t live_cpus;         /* sum of cpus over live nodes */
    double live_cost_per_hour;  /* sum of cost_per_hour over live nodes */
};

struct ledger_counts {
    struct ledger_cloud_counts *clouds; /* ordered by cloud name */
    size_t n;
};

int ledger_count_nodes(struct ledger *l, struct ledger_counts *out, struct cb_err *err);
void ledger_counts_free(struct ledger_counts *counts);

/* ---- events ------------------------------------------------------------- */

struct ledger_event {
    int64_t id;                 /* increasing, never reused */
    int64_t time;
    char node_id[CB_NAME_MAX];  /* "" for events about no node */
    /* intent, transition, instance, address, seen, failure, adopt, request, flag */
    char kind[LEDGER_KIND_MAX];
    int from_state;             /* enum cb_node_state, -1 none */
    int to_state;               /* enum cb_node_state, -1 none */
    char detail[LEDGER_TEXT_MAX];
};

struct ledger_event_filter {
    const char *node_id;        /* NULL = any */
    int64_t since;              /* time >= since; INT64_MIN or 0 = from the start */
    size_t limit;               /* the most recent `limit` events; 0 = all */
};

struct ledger_event_list {
    struct ledger_event *items; /* ordered by id (oldest first) */
    size_t n;
};

int ledger_list_events(struct ledger *l, const struct ledger_event_filter *filter,
                       struct ledger_event_list *out, struct cb_err *err);
void ledger_event_list_free(struct ledger_event_list *list);

/* ---- control plane (ledger_admin.c; used by issue 8) --------------------- */

/* An admin request: cloudburstctl submits it, the daemon handles it once at
 * its next cycle and records the outcome. */
enum ledger_request_kind {
    LEDGER_REQ_DRAIN = 0,       /* drain node_id (no new jobs; terminate when empty) */
    LEDGER_REQ_TERMINATE,       /* terminate node_id (drains first unless force) */
    LEDGER_REQ_PAUSE,           /* no scale-up until resumed */
    LEDGER_REQ_RESUME,
    LEDGER_REQ__COUNT
};

enum ledger_request_status { LEDGER_REQ_PENDING = 0, LEDGER_REQ_DONE, LEDGER_REQ_REJECTED };

struct ledger_request {
    int64_t id;
    int64_t created_at;
    enum ledger_request_kind kind;
    char node_id[CB_NAME_MAX];  /* "" for pause/resume */
    bool force;
    char requested_by[CB_NAME_MAX];
    enum ledger_request_status status;
    int64_t handled_at;         /* -1 while pending */
    char result[LEDGER_TEXT_MAX];
};

struct ledger_request_list {
    struct ledger_request *items; /* ordered by id */
    size_t n;
};

/* Submit a request (READ_WRITE or LEDGER_SUBMIT handle). drain and terminate
 * name an existing node (CB_ERR_NOT_FOUND otherwise), pause and resume none.
 * requested_by: who asked (a user name; sanitised). Also appends a "request"
 * event. *id_out (may be NULL) gets the request id. */
int ledger_submit_request(struct ledger *l, enum ledger_request_kind kind, const char *node_id,
                          bool force, const char *requested_by, int64_t now, int64_t *id_out,
                          struct cb_err *err);

int ledger_list_requests(struct ledger *l, bool pending_only, struct ledger_request_list *out,
                         struct cb_err *err);
void ledger_request_list_free(struct ledger_request_list *list);

/* The daemon's answer to a pending request (READ_WRITE only): done or
 * rejected, with a sanitised result text. A request that is not pending is
 * CB_ERR_INVALID. */
int ledger_finish_request(struct ledger *l, int64_t id, enum ledger_request_status status,
                          const char *result, int64_t now, struct cb_err *err);

/* "drain", "terminate", "pause", "resume" / "pending", "done", "rejected". */
const char *ledger_request_kind_name(enum ledger_request_kind kind);
int ledger_request_kind_parse(const char *word, enum ledger_request_kind *out);
const char *ledger_request_status_name(enum ledger_request_status status);

/* One cycle of the daemon and what it decided, for `cloudburstctl explain`. */
struct ledger_cycle {
    int64_t id;                 /* the daemon's cycle counter, increasing */
    int64_t started_at, finished_at;
    bool dry_run;
    uint64_t idle_jobs;
    char summary[LEDGER_TEXT_MAX];
};

struct ledger_decision {
    char action[LEDGER_KIND_MAX];   /* boot, drain, terminate, none, ... */
    bool taken;                     /* false: considered and not done (see reason) */
    char cloud[CB_NAME_MAX];
    char flavor[CB_NAME_MAX];
    char node_id[CB_NAME_MAX];
    uint32_t count;
    char reason[LEDGER_KIND_MAX * 2]; /* a stable word: budget_cap, breaker_open, ... */
    char detail[LEDGER_TEXT_MAX];
};

struct ledger_decision_list {
    struct ledger_decision *items;  /* in the order recorded */
    size_t n;
};

/* Record a cycle and its decisions in one transaction (READ_WRITE), keeping
 * only the newest keep_cycles cycles (>= 1) and their decisions. A cycle id
 * already recorded is CB_ERR_INVALID. Texts are sanitised. */
int ledger_record_cycle(struct ledger *l, const struct ledger_cycle *cycle,
                        const struct ledger_decision *decisions, size_t n_decisions,
                        size_t keep_cycles, struct cb_err *err);

/* The newest cycle and its decisions; CB_ERR_NOT_FOUND when none. */
int ledger_last_cycle(struct ledger *l, struct ledger_cycle *cycle,
                      struct ledger_decision_list *decisions, struct cb_err *err);
void ledger_decision_list_free(struct ledger_decision_list *list);

/* Persistent controller flags ("paused" = "1"). Keys are safe names, values
 * sanitised text < LEDGER_TEXT_MAX. get: CB_ERR_NOT_FOUND when unset. */
int ledger_set_flag(struct ledger *l, const char *key, const char *value, int64_t now,
                    struct cb_err *err);
int ledger_get_flag(struct ledger *l, const char *key, char *value, size_t size,
                    int64_t *updated_at, struct cb_err *err);

/* ---- schema (ledger_schema.c) -------------------------------------------- */

/* Create a NEW ledger file at `path` with the schema of `version`
 * (1..LEDGER_SCHEMA_VERSION), without taking the lock: used by the
 * migration tests to build every earlier schema, and by nothing else. The
 * file must not exist. */
int ledger_create_at_version(const char *path, int version, struct cb_err *err);

/* The schema version of the open ledger. */
int ledger_schema_version(const struct ledger *l);

#ifdef CB_LEDGER_INTERNAL
/* Between ledger.c, ledger_query.c and ledger_schema.c only (not API). */
struct sqlite3;

struct ledger {
    struct sqlite3 *db;
    char *path;
    enum ledger_mode mode;
    int lock_fd;                /* -1 for READ_ONLY */
    int version;
};

/* Read application_id and user_version of an open connection without
 * modifying anything and decide whether this build may use it: a fresh
 * (empty) file gives *version 0; a foreign database, a newer schema, or (when
 * read_only) anything but the current schema is an error naming `path`. */
int ledger_schema_inspect(struct sqlite3 *db, const char *path, bool read_only, int *version,
                          struct cb_err *err);

/* Apply the migrations from `from` + 1 to `to`, one transaction each. */
int ledger_schema_migrate(struct sqlite3 *db, const char *path, int from, int to,
                          struct cb_err *err);

/* Write helpers of ledger.c for the other ledger*.c files. */
struct sqlite3_stmt;
int ledger_writable(struct ledger *l, struct cb_err *err);      /* READ_WRITE handle? */
int ledger_check_now(struct ledger *l, int64_t now, struct cb_err *err);
int ledger_begin(struct ledger *l, struct cb_err *err);         /* BEGIN IMMEDIATE */
int ledger_commit(struct ledger *l, struct cb_err *err);        /* rolls back on failure */
void ledger_rollback(struct ledger *l);                         /* if a transaction is open */
struct sqlite3_stmt *ledger_prepare(struct ledger *l, const char *sql, const char *what,
                                    struct cb_err *err);
int ledger_run(struct ledger *l, struct sqlite3_stmt *st, const char *what,
               struct cb_err *err);                             /* step to DONE, finalise */
int ledger_append_event(struct ledger *l, int64_t now, const char *node_id, const char *kind,
                        const char *from, const char *to, const char *detail,
                        struct cb_err *err);
int ledger_sql_fail(struct ledger *l, int rc, const char *what, struct cb_err *err);

/* Turn a failed SQLite call into an error: class from the result code,
 * message "ledger PATH: WHAT: sqlite's message". Returns -1. */
int ledger_sql_error(struct sqlite3 *db, const char *path, int rc, const char *what,
                     struct cb_err *err);
#endif

#endif
