/* ledger_schema: the ledger's schema as a list of forward migrations.
 *
 * The schema is never written down twice: a ledger at version N is exactly
 * what steps 1..N produce, whether it was created today or migrated from an
 * older file. Each step runs in its own transaction together with the
 * user_version bump, so a crash mid-migration leaves the previous version
 * intact. Steps are append-only: a released step is never edited, a change is
 * a new step (and the migration test builds every earlier version).
 *
 * Step 1: nodes and the append-only events table (issue 2).
 * Step 2: what accounting needs from each node (cpus, memory, hourly cost at
 *         boot time); rows from step 1 get 0 = unknown.
 * Step 3: the control plane cloudburstctl and the daemon share: admin
 *         requests (drain, terminate, pause, resume), the cycles and decisions
 *         behind `explain`, and persistent controller flags.
 */
#define CB_LEDGER_INTERNAL 1
#include "ledger.h"

#include "cb_text.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define STATES \
    "'requested','booting','bootstrapping','idle','busy','draining','terminating','gone','failed'"
#define STR(x) STR_(x)
#define STR_(x) #x

static const char step1[] =
    "CREATE TABLE nodes ("
    " node_id TEXT PRIMARY KEY NOT NULL,"
    " batch_id TEXT NOT NULL,"
    " batch_index INTEGER NOT NULL CHECK (batch_index >= 0),"
    " cloud TEXT NOT NULL,"
    " flavor TEXT NOT NULL,"
    " image TEXT NOT NULL DEFAULT '',"
    " instance_id TEXT,"
    " state TEXT NOT NULL CHECK (state IN (" STATES ")),"
    " state_since INTEGER NOT NULL,"
    " requested_at INTEGER, booting_at INTEGER, bootstrapping_at INTEGER,"
    " idle_at INTEGER, busy_at INTEGER, draining_at INTEGER,"
    " terminating_at INTEGER, gone_at INTEGER, failed_at INTEGER,"
    " private_addr TEXT NOT NULL DEFAULT '',"
    " public_addr TEXT NOT NULL DEFAULT '',"
    " hostname TEXT NOT NULL DEFAULT '',"
    " failure_count INTEGER NOT NULL DEFAULT 0 CHECK (failure_count >= 0),"
    " last_error TEXT NOT NULL DEFAULT '',"
    " adopted INTEGER NOT NULL DEFAULT 0 CHECK (adopted IN (0, 1)),"
    " UNIQUE (batch_id, batch_index));"
    "CREATE UNIQUE INDEX nodes_instance ON nodes (cloud, instance_id)"
    " WHERE instance_id IS NOT NULL;"
    "CREATE INDEX nodes_cloud_state ON nodes (cloud, state);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time INTEGER NOT NULL,"
    " node_id TEXT REFERENCES nodes (node_id),"
    " kind TEXT NOT NULL,"
    " from_state TEXT CHECK (from_state IS NULL OR from_state IN (" STATES ")),"
    " to_state TEXT CHECK (to_state IS NULL OR to_state IN (" STATES ")),"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX events_node ON events (node_id, id);"
    "CREATE INDEX events_time ON events (time);"
    /* The history is evidence: nobody rewrites it, not even a bug. */
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "PRAGMA application_id = " STR(LEDGER_APPLICATION_ID) ";";

static const char step2[] =
    "ALTER TABLE nodes ADD COLUMN cpus INTEGER NOT NULL DEFAULT 0 CHECK (cpus >= 0);"
    "ALTER TABLE nodes ADD COLUMN memory_mb INTEGER NOT NULL DEFAULT 0 CHECK (memory_mb >= 0);"
    "ALTER TABLE nodes ADD COLUMN cost_per_hour REAL NOT NULL DEFAULT 0 CHECK (cost_per_hour >= "
    "0);";

static const char step3[] =
    /* cloudburstctl inserts (status pending); the daemon handles each once and
     * sets status, handled_at and result. Node requests name their node. */
    "CREATE TABLE admin_requests ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " created_at INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('drain', 'terminate', 'pause', 'resume')),"
    " node_id TEXT,"
    " force INTEGER NOT NULL DEFAULT 0 CHECK (force IN (0, 1)),"
    " requested_by TEXT NOT NULL DEFAULT '',"
    " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'rejected')),"
    " handled_at INTEGER,"
    " result TEXT NOT NULL DEFAULT '',"
    " CHECK ((kind IN ('drain', 'terminate')) = (node_id IS NOT NULL)));"
    "CREATE INDEX admin_requests_status ON admin_requests (status, id);"
    /* One row per cycle the daemon ran; decisions hold what it did and did
     * not do, with reasons (taken = 0: a non-decision, e.g. budget cap). */
    "CREATE TABLE cycles ("
    " id INTEGER PRIMARY KEY,"
    " started_at INTEGER NOT NULL,"
    " finished_at INTEGER,"
    " dry_run INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),"
    " idle_jobs INTEGER NOT NULL DEFAULT 0,"
    " summary TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE decisions ("
    " cycle_id INTEGER NOT NULL REFERENCES cycles (id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL,"
    " action TEXT NOT NULL,"
    " taken INTEGER NOT NULL DEFAULT 1 CHECK (taken IN (0, 1)),"
    " cloud TEXT NOT NULL DEFAULT '',"
    " flavor TEXT NOT NULL DEFAULT '',"
    " node_id TEXT NOT NULL DEFAULT '',"
    " count INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL,"
    " detail TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (cycle_id, seq));"
    /* Flags that must survive a restart ("paused" = "1"). */
    "CREATE TABLE controller_state ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL);";

static const char step4[] =
    /* What the pool last showed of the node: 1 running a job, 0 empty, NULL
     * unknown. Kept for draining nodes, whose state no longer says it. */
    "ALTER TABLE nodes ADD COLUMN seen_busy INTEGER"
    " CHECK (seen_busy IS NULL OR seen_busy IN (0, 1));";

static const struct {
    int version;
    const char *sql;
} steps[] = {
    {1, step1},
    {2, step2},
    {3, step3},
    {4, step4},
};

_Static_assert(sizeof steps / sizeof steps[0] == LEDGER_SCHEMA_VERSION,
               "one migration step per schema version");

int ledger_sql_error(sqlite3 *db, const char *path, int rc, const char *what, struct cb_err *err)
{
    enum cb_errcode code;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = CB_ERR_BUSY; break;
    case SQLITE_ERROR: /* SQL the file's schema does not fit (a tampered ledger) */
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_RANGE: code = CB_ERR_INVALID; break;
    case SQLITE_NOMEM:
    case SQLITE_MISUSE:
    case SQLITE_INTERNAL: code = CB_ERR_INTERNAL; break;
    default: code = CB_ERR_IO; break;
    }
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return cb_err_set(err, code, "ledger", "ledger %s: %s: %s", path, what, msg);
}

/* One integer from a pragma or query. */
static int query_int(sqlite3 *db, const char *path, const char *sql, sqlite3_int64 *out,
                     struct cb_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
            return 0;
        }
    }
    if ((rc & 0xff) == SQLITE_NOTADB) {
        sqlite3_finalize(st);
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "%s is not a cloudburst ledger (not a SQLite database)", path);
    }
    ledger_sql_error(db, path, rc, "reading the schema version", err);
    sqlite3_finalize(st);
    return -1;
}

int ledger_schema_inspect(sqlite3 *db, const char *path, bool read_only, int *version,
                          struct cb_err *err)
{
    sqlite3_int64 app = 0, ver = 0, objects = 0;
    *version = 0;
    if (query_int(db, path, "PRAGMA application_id", &app, err) != 0 ||
        query_int(db, path, "PRAGMA user_version", &ver, err) != 0 ||
        query_int(db, path, "SELECT count(*) FROM sqlite_master", &objects, err) != 0)
        return -1;
    if (app == 0 && ver == 0 && objects == 0) {
        if (read_only)
            return cb_err_set(err, CB_ERR_VERSION, "ledger",
                              "ledger %s is empty (cloudburstd creates it on first start)", path);
        return 0;
    }
    if (app != LEDGER_APPLICATION_ID)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "%s is not a cloudburst ledger (application_id 0x%llx): refusing to "
                          "touch it",
                          path, (unsigned long long)app);
    if (ver > LEDGER_SCHEMA_VERSION)
        return cb_err_set(err, CB_ERR_VERSION, "ledger",
                          "ledger %s has schema version %lld, newer than this cloudburst "
                          "understands (%d): refusing to touch it (upgrade cloudburst)",
                          path, (long long)ver, LEDGER_SCHEMA_VERSION);
    if (ver < 1)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "ledger %s has an invalid schema version %lld", path, (long long)ver);
    if (read_only && ver != LEDGER_SCHEMA_VERSION)
        return cb_err_set(err, CB_ERR_VERSION, "ledger",
                          "ledger %s has schema version %lld, older than this cloudburst (%d): "
                          "start cloudburstd once to migrate it",
                          path, (long long)ver, LEDGER_SCHEMA_VERSION);
    *version = (int)ver;
    return 0;
}

static int exec(sqlite3 *db, const char *path, const char *sql, const char *what,
                struct cb_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return ledger_sql_error(db, path, rc, what, err);
    return 0;
}

int ledger_schema_migrate(sqlite3 *db, const char *path, int from, int to, struct cb_err *err)
{
    if (from < 0 || to > LEDGER_SCHEMA_VERSION || from > to)
        return cb_err_set(err, CB_ERR_INTERNAL, "ledger", "bad migration %d -> %d", from, to);
    for (int v = from + 1; v <= to; v++) {
        char what[64], bump[64];
        snprintf(what, sizeof what, "migrating to schema %d", v);
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v);
        if (exec(db, path, "BEGIN IMMEDIATE", what, err) != 0)
            return -1;
        if (exec(db, path, steps[v - 1].sql, what, err) != 0 ||
            exec(db, path, bump, what, err) != 0 || exec(db, path, "COMMIT", what, err) != 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}

int ledger_create_at_version(const char *path, int version, struct cb_err *err)
{
    struct stat sb;
    if (version < 1 || version > LEDGER_SCHEMA_VERSION)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "no ledger schema version %d", version);
    if (stat(path, &sb) == 0)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "%s already exists", path);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        ledger_sql_error(db, path, rc, "creating", err);
        sqlite3_close(db);
        return -1;
    }
    int ret = 0;
    if (exec(db, path, "PRAGMA journal_mode = WAL", "setting WAL mode", err) != 0 ||
        ledger_schema_migrate(db, path, 0, version, err) != 0)
        ret = -1;
    sqlite3_close(db);
    return ret;
}
