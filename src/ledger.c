/* ledger: opening (lock, pragmas, migrations) and every write. See ledger.h.
 *
 * Each write is one IMMEDIATE transaction: the write lock is taken at BEGIN,
 * so a reader (cloudburstctl) never sees half of it and the transition check
 * and the update cannot be separated by another writer. Reads live in
 * ledger_query.c, the schema in ledger_schema.c.
 */
#define CB_LEDGER_INTERNAL 1
#include "ledger.h"

#include "cb_text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAX_LEDGER 4000

/* ---- opening -------------------------------------------------------------- */

/* The directory part of path ("." when there is none) into buf. */
static void dir_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        cb_strlcpy(buf, ".", size);
    } else if (slash == path) {
        cb_strlcpy(buf, "/", size);
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= size)
            n = size - 1;
        memcpy(buf, path, n);
        buf[n] = '\0';
    }
}

/* The state directory must exist, be a directory and be usable (writable for
 * a writer): say which of these fails, not just "unable to open database". */
static int check_dir(const char *path, enum ledger_mode mode, struct cb_err *err)
{
    char dir[PATH_MAX_LEDGER + 1];
    struct stat sb;
    dir_of(path, dir, sizeof dir);
    if (stat(dir, &sb) != 0)
        return cb_err_errno(err, CB_ERR_IO, errno, "ledger", "state directory %s of ledger %s", dir,
                            path);
    if (!S_ISDIR(sb.st_mode))
        return cb_err_set(err, CB_ERR_IO, "ledger",
                          "state directory %s of ledger %s is not a directory", dir, path);
    int want = mode == LEDGER_READ_WRITE ? (R_OK | W_OK | X_OK) : X_OK;
    if (access(dir, want) != 0)
        return cb_err_errno(err, CB_ERR_IO, errno, "ledger",
                            "state directory %s of ledger %s is not %s", dir, path,
                            mode == LEDGER_READ_WRITE ? "writable" : "accessible");
    return 0;
}

/* The single-writer lock: flock(2) on "<path>.lock" (per open file, so a
 * second open in the same process conflicts too, and the kernel drops it
 * when the process dies however it dies), holding the owner's pid. */
static int take_lock(struct ledger *l, struct cb_err *err)
{
    char lockpath[PATH_MAX_LEDGER + 8];
    snprintf(lockpath, sizeof lockpath, "%s.lock", l->path);
    int fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return cb_err_errno(err, CB_ERR_IO, errno, "ledger", "cannot open lock file %s", lockpath);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e != EWOULDBLOCK) {
            close(fd);
            return cb_err_errno(err, CB_ERR_IO, e, "ledger", "cannot lock %s", lockpath);
        }
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        char *end = NULL;
        long pid = n > 0 ? strtol(buf, &end, 10) : 0;
        if (n > 0 && end != buf && pid > 0)
            return cb_err_set(err, CB_ERR_BUSY, "ledger", "ledger %s is in use by pid %ld", l->path,
                              pid);
        return cb_err_set(err, CB_ERR_BUSY, "ledger",
                          "ledger %s is in use by another process (pid not yet written)", l->path);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        return cb_err_errno(err, CB_ERR_IO, e, "ledger", "cannot write pid to %s", lockpath);
    }
    l->lock_fd = fd;
    return 0;
}

static int exec_sql(struct ledger *l, const char *sql, const char *what, struct cb_err *err)
{
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return ledger_sql_error(l->db, l->path, rc, what, err);
    return 0;
}

/* journal_mode answers with the mode it ended up in: WAL must stick. */
static int set_wal(struct ledger *l, struct cb_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        ledger_sql_error(l->db, l->path, rc, "setting WAL mode", err);
        sqlite3_finalize(st);
        return -1;
    }
    const unsigned char *mode = sqlite3_column_text(st, 0);
    int ok = mode && strcmp((const char *)mode, "wal") == 0;
    char got[16];
    cb_sanitize(got, sizeof got, mode ? (const char *)mode : "?");
    sqlite3_finalize(st);
    if (!ok)
        return cb_err_set(err, CB_ERR_IO, "ledger",
                          "ledger %s: WAL mode refused (journal mode is %s); is it on a network "
                          "file system?",
                          l->path, got);
    return 0;
}

int ledger_open(struct ledger **out, const char *path, enum ledger_mode mode,
                unsigned busy_timeout_ms, struct cb_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger path is empty");
    if (strlen(path) > PATH_MAX_LEDGER)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger path is longer than %d bytes",
                          PATH_MAX_LEDGER);
    if (mode != LEDGER_READ_WRITE && mode != LEDGER_READ_ONLY && mode != LEDGER_SUBMIT)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger %s: bad open mode %d", path,
                          (int)mode);
    if (busy_timeout_ms > LEDGER_BUSY_TIMEOUT_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "ledger busy timeout %u ms is above the limit %u ms", busy_timeout_ms,
                          LEDGER_BUSY_TIMEOUT_MAX);
    if (check_dir(path, mode, err) != 0)
        return -1;
    if (mode != LEDGER_READ_WRITE) { /* only the daemon creates the ledger */
        struct stat sb;
        if (stat(path, &sb) != 0) {
            if (errno == ENOENT)
                return cb_err_set(err, CB_ERR_NOT_FOUND, "ledger",
                                  "ledger %s does not exist (cloudburstd creates it on first "
                                  "start)",
                                  path);
            return cb_err_errno(err, CB_ERR_IO, errno, "ledger", "ledger %s", path);
        }
        if (access(path, R_OK) != 0)
            return cb_err_errno(err, CB_ERR_IO, errno, "ledger", "ledger %s is not readable", path);
    }

    struct ledger *l = calloc(1, sizeof *l);
    if (!l || !(l->path = cb_strdup(path))) {
        free(l);
        return cb_err_set(err, CB_ERR_INTERNAL, "ledger", "out of memory");
    }
    l->mode = mode;
    l->lock_fd = -1;

    if (mode == LEDGER_READ_WRITE && take_lock(l, err) != 0)
        goto fail;

    int flags = mode == LEDGER_READ_WRITE ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                : mode == LEDGER_SUBMIT   ? SQLITE_OPEN_READWRITE
                                          : SQLITE_OPEN_READONLY;
    int rc = sqlite3_open_v2(path, &l->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ledger_sql_error(l->db, path, rc, "opening", err);
        goto fail;
    }
    sqlite3_extended_result_codes(l->db, 1);
    sqlite3_busy_timeout(l->db, (int)busy_timeout_ms);

    /* Decide before touching anything: a newer or foreign file stays as it is. */
    if (ledger_schema_inspect(l->db, path, mode != LEDGER_READ_WRITE, &l->version, err) != 0)
        goto fail;

    if (mode == LEDGER_READ_WRITE) {
        if (set_wal(l, err) != 0 ||
            exec_sql(l, "PRAGMA synchronous = FULL", "setting synchronous", err) != 0 ||
            exec_sql(l, "PRAGMA foreign_keys = ON", "enabling foreign keys", err) != 0)
            goto fail;
        if (l->version < LEDGER_SCHEMA_VERSION) {
            if (ledger_schema_migrate(l->db, path, l->version, LEDGER_SCHEMA_VERSION, err) != 0)
                goto fail;
            l->version = LEDGER_SCHEMA_VERSION;
        }
    } else if (mode == LEDGER_SUBMIT) {
        /* the daemon made it WAL (persistent); a submitter only needs durability */
        if (exec_sql(l, "PRAGMA synchronous = FULL", "setting synchronous", err) != 0 ||
            exec_sql(l, "PRAGMA foreign_keys = ON", "enabling foreign keys", err) != 0)
            goto fail;
    } else if (exec_sql(l, "PRAGMA query_only = ON", "setting query_only", err) != 0) {
        goto fail;
    }
    *out = l;
    return 0;
fail:
    ledger_close(l);
    return -1;
}

void ledger_close(struct ledger *l)
{
    if (!l)
        return;
    sqlite3_close(l->db); /* statements are always finalised before return */
    if (l->lock_fd >= 0) {
        /* Clear the pid first: a stale pid must not be blamed later. */
        if (ftruncate(l->lock_fd, 0) != 0) {
            /* The lock itself still goes with close(); nothing else to do. */
        }
        close(l->lock_fd);
    }
    free(l->path);
    free(l);
}

const char *ledger_path(const struct ledger *l)
{
    return l->path;
}

int ledger_schema_version(const struct ledger *l)
{
    return l->version;
}

int ledger_check_integrity(struct ledger *l, struct cb_err *err)
{
    static const char *const checks[] = {"PRAGMA integrity_check", "PRAGMA foreign_key_check"};
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(l->db, checks[i], -1, &st, NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return ledger_sql_error(l->db, l->path, rc, checks[i], err);
        }
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            char what[LEDGER_TEXT_MAX];
            const unsigned char *t = sqlite3_column_text(st, 0);
            cb_sanitize(what, sizeof what, t ? (const char *)t : "");
            int ok = i == 0 && strcmp(what, "ok") == 0;
            sqlite3_finalize(st);
            if (!ok)
                return cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger %s: %s: %s", l->path,
                                  checks[i], what);
        } else {
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE)
                return ledger_sql_error(l->db, l->path, rc, checks[i], err);
        }
    }
    return 0;
}

/* ---- write helpers -------------------------------------------------------- */

int ledger_writable(struct ledger *l, struct cb_err *err)
{
    if (l->mode != LEDGER_READ_WRITE)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger %s is open %s", l->path,
                          l->mode == LEDGER_SUBMIT ? "for admin requests only" : "read-only");
    return 0;
}

int ledger_sql_fail(struct ledger *l, int rc, const char *what, struct cb_err *err)
{
    return ledger_sql_error(l->db, l->path, rc, what, err);
}

int ledger_begin(struct ledger *l, struct cb_err *err)
{
    return exec_sql(l, "BEGIN IMMEDIATE", "starting a transaction", err);
}

int ledger_commit(struct ledger *l, struct cb_err *err)
{
    if (exec_sql(l, "COMMIT", "committing", err) != 0) {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

void ledger_rollback(struct ledger *l)
{
    if (!sqlite3_get_autocommit(l->db))
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Prepare one statement; on failure the error names what was being done. */
sqlite3_stmt *ledger_prepare(struct ledger *l, const char *sql, const char *what,
                             struct cb_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        ledger_sql_error(l->db, l->path, rc, what, err);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Step a statement that returns no rows, then finalise it. */
int ledger_run(struct ledger *l, sqlite3_stmt *st, const char *what, struct cb_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return ledger_sql_error(l->db, l->path, rc, what, err);
    return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int ledger_check_now(struct ledger *l, int64_t now, struct cb_err *err)
{
    if (now < 0)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "ledger %s: time %" PRId64 " is before 1970", l->path, now);
    return 0;
}

static int check_node_id(const char *node_id, struct cb_err *err)
{
    if (!node_id || !cb_is_safe_name(node_id) || strlen(node_id) >= CB_NAME_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "node id must be 1..%d characters of [A-Za-z0-9._-]", CB_NAME_MAX - 1);
    return 0;
}

int ledger_append_event(struct ledger *l, int64_t now, const char *node_id, const char *kind,
                        const char *from, const char *to, const char *detail, struct cb_err *err)
{
    char clean[LEDGER_TEXT_MAX];
    cb_sanitize(clean, sizeof clean, detail ? detail : "");
    sqlite3_stmt *st =
        ledger_prepare(l,
                       "INSERT INTO events (time, node_id, kind, from_state, to_state,"
                       " detail) VALUES (?, ?, ?, ?, ?, ?)",
                       "appending an event", err);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    bind_text(st, 2, node_id);
    bind_text(st, 3, kind);
    bind_text(st, 4, from);
    bind_text(st, 5, to);
    bind_text(st, 6, clean);
    return ledger_run(l, st, "appending an event", err);
}

/* The node's current state, inside the caller's transaction. */
static int current_state(struct ledger *l, const char *node_id, enum cb_node_state *out,
                         struct cb_err *err)
{
    sqlite3_stmt *st =
        ledger_prepare(l, "SELECT state FROM nodes WHERE node_id = ?", "reading a node", err);
    if (!st)
        return -1;
    bind_text(st, 1, node_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return cb_err_set(err, CB_ERR_NOT_FOUND, "ledger", "ledger %s has no node %s", l->path,
                          node_id);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return ledger_sql_error(l->db, l->path, rc, "reading a node", err);
    }
    const unsigned char *t = sqlite3_column_text(st, 0);
    int bad = !t || cb_node_state_parse((const char *)t, out) != 0;
    sqlite3_finalize(st);
    if (bad)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger %s: node %s has an unknown state",
                          l->path, node_id);
    return 0;
}

/* ---- writes ----------------------------------------------------------------- */

static int check_intent(const struct ledger_intent *in, struct cb_err *err)
{
    if (!cb_is_safe_name(in->batch_id))
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "boot intent: batch id must be characters of [A-Za-z0-9._-]");
    if (in->count < 1 || in->count > LEDGER_BATCH_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "boot intent %s: count %" PRIu32 " is not in 1..%d", in->batch_id,
                          in->count, LEDGER_BATCH_MAX);
    char id[CB_NAME_MAX + 16];
    if ((size_t)snprintf(id, sizeof id, "%s-%" PRIu32, in->batch_id, in->count - 1) >= CB_NAME_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "boot intent %s: batch id too long for node ids of %d characters",
                          in->batch_id, CB_NAME_MAX - 1);
    if (!cb_is_safe_name(in->cloud) || !cb_is_safe_name(in->flavor))
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "boot intent %s: cloud and flavor must be names of [A-Za-z0-9._-]",
                          in->batch_id);
    if (!in->image[0])
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "boot intent %s: image is empty",
                          in->batch_id);
    if (!isfinite(in->cost_per_hour) || in->cost_per_hour < 0)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "boot intent %s: cost_per_hour must be a number >= 0", in->batch_id);
    if (in->memory_mb > (uint64_t)INT64_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "boot intent %s: memory_mb too large",
                          in->batch_id);
    return 0;
}

int ledger_record_boot_intent(struct ledger *l, const struct ledger_intent *intent, int64_t now,
                              char (*node_ids_out)[CB_NAME_MAX], size_t node_ids_cap,
                              struct cb_err *err)
{
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0 ||
        check_intent(intent, err) != 0)
        return -1;
    char image[CB_ID_MAX], detail[LEDGER_TEXT_MAX];
    cb_sanitize(image, sizeof image, intent->image);
    snprintf(detail, sizeof detail, "batch %s: %" PRIu32 " x %s on %s, image %s", intent->batch_id,
             intent->count, intent->flavor, intent->cloud, image);

    if (ledger_begin(l, err) != 0)
        return -1;
    sqlite3_stmt *exists = ledger_prepare(l, "SELECT 1 FROM nodes WHERE batch_id = ? LIMIT 1",
                                          "checking the batch id", err);
    if (!exists)
        goto fail;
    bind_text(exists, 1, intent->batch_id);
    int rc = sqlite3_step(exists);
    sqlite3_finalize(exists);
    if (rc == SQLITE_ROW) {
        cb_err_set(err, CB_ERR_INVALID, "ledger",
                   "boot intent: batch id %s is already in ledger %s", intent->batch_id, l->path);
        goto fail;
    }
    if (rc != SQLITE_DONE) {
        ledger_sql_error(l->db, l->path, rc, "checking the batch id", err);
        goto fail;
    }
    for (uint32_t i = 0; i < intent->count; i++) {
        char node_id[CB_NAME_MAX + 16]; /* check_intent() made sure it fits CB_NAME_MAX */
        snprintf(node_id, sizeof node_id, "%s-%" PRIu32, intent->batch_id, i);
        sqlite3_stmt *st =
            ledger_prepare(l,
                           "INSERT INTO nodes (node_id, batch_id, batch_index, cloud,"
                           " flavor, image, cpus, memory_mb, cost_per_hour, state,"
                           " state_since, requested_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?)",
                           "recording a boot intent", err);
        if (!st)
            goto fail;
        bind_text(st, 1, node_id);
        bind_text(st, 2, intent->batch_id);
        sqlite3_bind_int64(st, 3, i);
        bind_text(st, 4, intent->cloud);
        bind_text(st, 5, intent->flavor);
        bind_text(st, 6, image);
        sqlite3_bind_int64(st, 7, intent->cpus);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)intent->memory_mb);
        sqlite3_bind_double(st, 9, intent->cost_per_hour);
        sqlite3_bind_int64(st, 10, now);
        sqlite3_bind_int64(st, 11, now);
        if (ledger_run(l, st, "recording a boot intent", err) != 0 ||
            ledger_append_event(l, now, node_id, "intent", NULL, "requested", detail, err) != 0)
            goto fail;
    }
    if (ledger_commit(l, err) != 0)
        return -1;
    for (uint32_t i = 0; node_ids_out && i < intent->count && i < node_ids_cap; i++) {
        char node_id[CB_NAME_MAX + 16];
        snprintf(node_id, sizeof node_id, "%s-%" PRIu32, intent->batch_id, i);
        cb_strlcpy(node_ids_out[i], node_id, CB_NAME_MAX);
    }
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}

int ledger_transition(struct ledger *l, const char *node_id, enum cb_node_state to, int64_t now,
                      const char *detail, struct cb_err *err)
{
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0 ||
        check_node_id(node_id, err) != 0)
        return -1;
    if ((unsigned)to >= CB_NODE__COUNT)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "node %s: unknown target state %d",
                          node_id, (int)to);
    if (ledger_begin(l, err) != 0)
        return -1;
    enum cb_node_state from;
    if (current_state(l, node_id, &from, err) != 0)
        goto fail;
    if (!cb_node_transition_allowed(from, to)) {
        cb_err_set(err, CB_ERR_INVALID, "ledger", "node %s: illegal transition from %s to %s",
                   node_id, cb_node_state_name(from), cb_node_state_name(to));
        goto fail;
    }
    /* The column name comes from lifecycle's fixed state names, never from input. */
    /* Idle and busy say what the pool shows; later states keep the last
     * word (ledger_set_seen_busy). */
    char sql[200];
    snprintf(sql, sizeof sql,
             "UPDATE nodes SET state = ?, state_since = ?, %s_at = ?%s WHERE node_id = ?",
             cb_node_state_name(to),
             to == CB_NODE_IDLE ? ", seen_busy = 0" : to == CB_NODE_BUSY ? ", seen_busy = 1" : "");
    sqlite3_stmt *st = ledger_prepare(l, sql, "recording a transition", err);
    if (!st)
        goto fail;
    bind_text(st, 1, cb_node_state_name(to));
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now);
    bind_text(st, 4, node_id);
    if (ledger_run(l, st, "recording a transition", err) != 0 ||
        ledger_append_event(l, now, node_id, "transition", cb_node_state_name(from),
                            cb_node_state_name(to), detail, err) != 0 ||
        ledger_commit(l, err) != 0)
        goto fail;
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}

/* A value from outside that must be stored exactly (ids): refuse what the
 * sanitiser would change instead of storing a different id. */
static int clean_id(const char *what, const char *node_id, const char *in, char *out, size_t size,
                    struct cb_err *err)
{
    if (!in || !*in)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "node %s: %s is empty", node_id, what);
    if (strlen(in) >= size)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "node %s: %s longer than %zu bytes",
                          node_id, what, size - 1);
    cb_sanitize(out, size, in);
    if (strcmp(out, in) != 0 || strchr(in, ' '))
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "node %s: %s \"%s\" contains spaces or control characters", node_id, what,
                          out);
    return 0;
}

int ledger_set_instance(struct ledger *l, const char *node_id, const char *instance_id, int64_t now,
                        struct cb_err *err)
{
    char id[CB_ID_MAX];
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0 ||
        check_node_id(node_id, err) != 0 ||
        clean_id("instance id", node_id, instance_id, id, sizeof id, err) != 0)
        return -1;
    if (ledger_begin(l, err) != 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(
        l, "SELECT COALESCE(instance_id, '') FROM nodes WHERE node_id = ?", "reading a node", err);
    if (!st)
        goto fail;
    bind_text(st, 1, node_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            cb_err_set(err, CB_ERR_NOT_FOUND, "ledger", "ledger %s has no node %s", l->path,
                       node_id);
        else
            ledger_sql_error(l->db, l->path, rc, "reading a node", err);
        goto fail;
    }
    char old[CB_ID_MAX];
    const unsigned char *t = sqlite3_column_text(st, 0);
    cb_sanitize(old, sizeof old, t ? (const char *)t : "");
    sqlite3_finalize(st);
    if (strcmp(old, id) == 0) {
        ledger_rollback(l);
        return 0;
    }
    if (old[0]) {
        cb_err_set(err, CB_ERR_INVALID, "ledger",
                   "node %s already has instance %s, refusing to replace it with %s", node_id, old,
                   id);
        goto fail;
    }
    st = ledger_prepare(l, "UPDATE nodes SET instance_id = ? WHERE node_id = ?",
                        "setting an instance", err);
    if (!st)
        goto fail;
    bind_text(st, 1, id);
    bind_text(st, 2, node_id);
    char detail[LEDGER_TEXT_MAX];
    snprintf(detail, sizeof detail, "instance %s", id);
    if (ledger_run(l, st, "setting an instance", err) != 0 ||
        ledger_append_event(l, now, node_id, "instance", NULL, NULL, detail, err) != 0 ||
        ledger_commit(l, err) != 0)
        goto fail;
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}

/* The end of a one-node change begun with ledger_begin(): run its prepared
 * UPDATE (NULL when preparing failed; no row is CB_ERR_NOT_FOUND), append
 * its event, commit; roll back on any failure so the node and its history
 * never disagree. */
static int update_one_with_event(struct ledger *l, sqlite3_stmt *st, const char *node_id,
                                 const char *what, int64_t now, const char *kind,
                                 const char *detail, struct cb_err *err)
{
    if (st == NULL || ledger_run(l, st, what, err) != 0)
        goto fail;
    if (sqlite3_changes(l->db) != 1) {
        cb_err_set(err, CB_ERR_NOT_FOUND, "ledger", "ledger %s has no node %s", l->path, node_id);
        goto fail;
    }
    if (ledger_append_event(l, now, node_id, kind, NULL, NULL, detail, err) != 0 ||
        ledger_commit(l, err) != 0)
        goto fail;
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}

int ledger_set_addresses(struct ledger *l, const char *node_id, const char *private_addr,
                         const char *public_addr, const char *hostname, int64_t now,
                         struct cb_err *err)
{
    char priv[CB_ADDR_MAX], pub[CB_ADDR_MAX], host[CB_HOST_MAX];
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0 ||
        check_node_id(node_id, err) != 0)
        return -1;
    const char *vals[3] = {private_addr, public_addr, hostname};
    char *bufs[3] = {priv, pub, host};
    size_t sizes[3] = {sizeof priv, sizeof pub, sizeof host};
    static const char *const names[3] = {"private address", "public address", "host name"};
    for (int i = 0; i < 3; i++) {
        if (vals[i] && *vals[i] &&
            clean_id(names[i], node_id, vals[i], bufs[i], sizes[i], err) != 0)
            return -1;
        if (vals[i] && !*vals[i])
            bufs[i][0] = '\0';
    }
    if (ledger_begin(l, err) != 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l,
                                      "UPDATE nodes SET private_addr = COALESCE(?, private_addr),"
                                      " public_addr = COALESCE(?, public_addr),"
                                      " hostname = COALESCE(?, hostname) WHERE node_id = ?",
                                      "setting addresses", err);
    if (st) {
        bind_text(st, 1, private_addr ? priv : NULL);
        bind_text(st, 2, public_addr ? pub : NULL);
        bind_text(st, 3, hostname ? host : NULL);
        bind_text(st, 4, node_id);
    }
    char detail[LEDGER_TEXT_MAX];
    snprintf(detail, sizeof detail, "private %s public %s host %s",
             private_addr ? priv : "(unchanged)", public_addr ? pub : "(unchanged)",
             hostname ? host : "(unchanged)");
    return update_one_with_event(l, st, node_id, "setting addresses", now, "address", detail,
                                 err);
}

int ledger_set_seen_busy(struct ledger *l, const char *node_id, bool busy, int64_t now,
                         struct cb_err *err)
{
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0 ||
        check_node_id(node_id, err) != 0)
        return -1;
    if (ledger_begin(l, err) != 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l, "UPDATE nodes SET seen_busy = ? WHERE node_id = ?",
                                      "recording what the pool shows", err);
    if (st) {
        sqlite3_bind_int(st, 1, busy ? 1 : 0);
        bind_text(st, 2, node_id);
    }
    return update_one_with_event(l, st, node_id, "recording what the pool shows", now, "seen",
                                 busy ? "running a job" : "empty", err);
}

int ledger_record_failure(struct ledger *l, const char *node_id, const char *error_text,
                          int64_t now, struct cb_err *err)
{
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0 ||
        check_node_id(node_id, err) != 0)
        return -1;
    char clean[LEDGER_TEXT_MAX];
    cb_sanitize(clean, sizeof clean, error_text && *error_text ? error_text : "unknown error");
    if (ledger_begin(l, err) != 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l,
                                      "UPDATE nodes SET failure_count = failure_count + 1,"
                                      " last_error = ? WHERE node_id = ?",
                                      "recording a failure", err);
    if (st) {
        bind_text(st, 1, clean);
        bind_text(st, 2, node_id);
    }
    return update_one_with_event(l, st, node_id, "recording a failure", now, "failure", clean,
                                 err);
}

int ledger_record_adoption(struct ledger *l, const struct ledger_node *n, int64_t now,
                           struct cb_err *err)
{
    char id[CB_ID_MAX], image[CB_ID_MAX], priv[CB_ADDR_MAX] = "", pub[CB_ADDR_MAX] = "",
                                          host[CB_HOST_MAX] = "";
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0 ||
        check_node_id(n->node_id, err) != 0 ||
        clean_id("instance id", n->node_id, n->instance_id, id, sizeof id, err) != 0 ||
        (n->private_addr[0] &&
         clean_id("private address", n->node_id, n->private_addr, priv, sizeof priv, err) != 0) ||
        (n->public_addr[0] &&
         clean_id("public address", n->node_id, n->public_addr, pub, sizeof pub, err) != 0) ||
        (n->hostname[0] &&
         clean_id("host name", n->node_id, n->hostname, host, sizeof host, err) != 0))
        return -1;
    if (!cb_node_state_is_initial(n->state) || n->state == CB_NODE_REQUESTED)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "node %s: an adopted node cannot start in state %s", n->node_id,
                          cb_node_state_name(n->state));
    if (!cb_is_safe_name(n->batch_id) || !cb_is_safe_name(n->cloud) || !cb_is_safe_name(n->flavor))
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "node %s: batch id, cloud and flavor must be names of [A-Za-z0-9._-]",
                          n->node_id);
    if (!isfinite(n->cost_per_hour) || n->cost_per_hour < 0 || n->memory_mb > (uint64_t)INT64_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "node %s: bad cost or memory", n->node_id);
    cb_sanitize(image, sizeof image, n->image);

    if (ledger_begin(l, err) != 0)
        return -1;
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT INTO nodes (node_id, batch_id, batch_index, cloud, flavor, image, cpus,"
             " memory_mb, cost_per_hour, instance_id, state, state_since, %s_at, private_addr,"
             " public_addr, hostname, adopted, seen_busy)"
             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, %s)",
             cb_node_state_name(n->state),
             n->state == CB_NODE_BUSY ? "1" : n->state == CB_NODE_IDLE ? "0" : "NULL");
    sqlite3_stmt *st = ledger_prepare(l, sql, "recording an adoption", err);
    if (!st)
        goto fail;
    bind_text(st, 1, n->node_id);
    bind_text(st, 2, n->batch_id);
    sqlite3_bind_int64(st, 3, n->batch_index);
    bind_text(st, 4, n->cloud);
    bind_text(st, 5, n->flavor);
    bind_text(st, 6, image);
    sqlite3_bind_int64(st, 7, n->cpus);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)n->memory_mb);
    sqlite3_bind_double(st, 9, n->cost_per_hour);
    bind_text(st, 10, id);
    bind_text(st, 11, cb_node_state_name(n->state));
    sqlite3_bind_int64(st, 12, now);
    sqlite3_bind_int64(st, 13, now);
    bind_text(st, 14, priv);
    bind_text(st, 15, pub);
    bind_text(st, 16, host);
    char detail[LEDGER_TEXT_MAX];
    snprintf(detail, sizeof detail, "adopted instance %s on %s", id, n->cloud);
    if (ledger_run(l, st, "recording an adoption", err) != 0 ||
        ledger_append_event(l, now, n->node_id, "adopt", NULL, cb_node_state_name(n->state), detail,
                            err) != 0 ||
        ledger_commit(l, err) != 0)
        goto fail;
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}
