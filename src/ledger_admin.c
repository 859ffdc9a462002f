/* ledger_admin: the control plane tables shared by cloudburstctl and the
 * daemon (schema step 3): admin requests, cycles with their decisions, and
 * persistent controller flags. See ledger.h. Each write is one transaction,
 * like every other ledger write. */
#define CB_LEDGER_INTERNAL 1
#include "ledger.h"

#include "cb_text.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[LEDGER_REQ__COUNT] = {
    [LEDGER_REQ_DRAIN] = "drain",
    [LEDGER_REQ_TERMINATE] = "terminate",
    [LEDGER_REQ_PAUSE] = "pause",
    [LEDGER_REQ_RESUME] = "resume",
};

static const char *const status_names[] = {
    [LEDGER_REQ_PENDING] = "pending",
    [LEDGER_REQ_DONE] = "done",
    [LEDGER_REQ_REJECTED] = "rejected",
};

const char *ledger_request_kind_name(enum ledger_request_kind kind)
{
    return (unsigned)kind < LEDGER_REQ__COUNT ? kind_names[kind] : "unknown";
}

int ledger_request_kind_parse(const char *word, enum ledger_request_kind *out)
{
    for (int i = 0; i < LEDGER_REQ__COUNT; i++) {
        if (word && strcmp(word, kind_names[i]) == 0) {
            *out = (enum ledger_request_kind)i;
            return 0;
        }
    }
    return -1;
}

const char *ledger_request_status_name(enum ledger_request_status status)
{
    return (unsigned)status <= LEDGER_REQ_REJECTED ? status_names[status] : "unknown";
}

static void col_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    cb_sanitize(out, size, t ? (const char *)t : "");
}

static void *grow(void **items, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *p = realloc(*items, ncap * size);
        if (!p)
            return NULL;
        *items = p;
        *cap = ncap;
    }
    void *e = (char *)*items + (*n)++ * size;
    memset(e, 0, size);
    return e;
}

/* ---- admin requests ------------------------------------------------------- */

int ledger_submit_request(struct ledger *l, enum ledger_request_kind kind, const char *node_id,
                          bool force, const char *requested_by, int64_t now, int64_t *id_out,
                          struct cb_err *err)
{
    if (id_out)
        *id_out = 0;
    if (l->mode != LEDGER_READ_WRITE && l->mode != LEDGER_SUBMIT)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger %s is open read-only", l->path);
    if (ledger_check_now(l, now, err) != 0)
        return -1;
    if ((unsigned)kind >= LEDGER_REQ__COUNT)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "unknown request kind %d", (int)kind);
    bool per_node = kind == LEDGER_REQ_DRAIN || kind == LEDGER_REQ_TERMINATE;
    if (per_node && (!node_id || !cb_is_safe_name(node_id) || strlen(node_id) >= CB_NAME_MAX))
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "%s needs a node id", kind_names[kind]);
    if (!per_node && node_id)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "%s takes no node id", kind_names[kind]);
    char who[CB_NAME_MAX];
    cb_sanitize(who, sizeof who, requested_by && *requested_by ? requested_by : "unknown");

    if (ledger_begin(l, err) != 0)
        return -1;
    if (per_node) {
        sqlite3_stmt *st =
            ledger_prepare(l, "SELECT state FROM nodes WHERE node_id = ?", "reading a node", err);
        if (!st)
            goto fail;
        sqlite3_bind_text(st, 1, node_id, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) {
            cb_err_set(err, CB_ERR_NOT_FOUND, "ledger", "ledger %s has no node %s", l->path,
                       node_id);
            goto fail;
        }
        if (rc != SQLITE_ROW) {
            ledger_sql_fail(l, rc, "reading a node", err);
            goto fail;
        }
    }
    sqlite3_stmt *st = ledger_prepare(l,
                                      "INSERT INTO admin_requests (created_at, kind, node_id,"
                                      " force, requested_by) VALUES (?, ?, ?, ?, ?)",
                                      "submitting a request", err);
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, kind_names[kind], -1, SQLITE_STATIC);
    if (per_node)
        sqlite3_bind_text(st, 3, node_id, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int(st, 4, force ? 1 : 0);
    sqlite3_bind_text(st, 5, who, -1, SQLITE_TRANSIENT);
    if (ledger_run(l, st, "submitting a request", err) != 0)
        goto fail;
    int64_t id = sqlite3_last_insert_rowid(l->db);
    char detail[LEDGER_TEXT_MAX];
    snprintf(detail, sizeof detail, "%s%s requested by %s (request %" PRId64 ")", kind_names[kind],
             force ? " --force" : "", who, id);
    if (ledger_append_event(l, now, per_node ? node_id : NULL, "request", NULL, NULL, detail,
                            err) != 0 ||
        ledger_commit(l, err) != 0)
        goto fail;
    if (id_out)
        *id_out = id;
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}

int ledger_list_requests(struct ledger *l, bool pending_only, struct ledger_request_list *out,
                         struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db,
                                "SELECT id, created_at, kind, COALESCE(node_id, ''), force,"
                                " requested_by, status, handled_at, result FROM admin_requests"
                                " WHERE (?1 = 0 OR status = 'pending') ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return ledger_sql_fail(l, rc, "listing requests", err);
    }
    sqlite3_bind_int(st, 1, pending_only ? 1 : 0);
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_request *q = grow((void **)&out->items, &out->n, &cap, sizeof *q);
        if (!q) {
            cb_err_set(err, CB_ERR_INTERNAL, "ledger", "out of memory listing requests");
            goto fail;
        }
        char word[LEDGER_KIND_MAX];
        q->id = sqlite3_column_int64(st, 0);
        q->created_at = sqlite3_column_int64(st, 1);
        col_text(st, 2, word, sizeof word);
        int bad = ledger_request_kind_parse(word, &q->kind) != 0;
        col_text(st, 3, q->node_id, sizeof q->node_id);
        q->force = sqlite3_column_int(st, 4) != 0;
        col_text(st, 5, q->requested_by, sizeof q->requested_by);
        col_text(st, 6, word, sizeof word);
        q->status = strcmp(word, "done") == 0       ? LEDGER_REQ_DONE
                    : strcmp(word, "rejected") == 0 ? LEDGER_REQ_REJECTED
                                                    : LEDGER_REQ_PENDING;
        q->handled_at =
            sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 7);
        col_text(st, 8, q->result, sizeof q->result);
        if (bad) {
            cb_err_set(err, CB_ERR_INVALID, "ledger",
                       "ledger %s: request %" PRId64 " has an unknown kind", l->path, q->id);
            goto fail;
        }
    }
    if (rc != SQLITE_DONE) {
        ledger_sql_fail(l, rc, "listing requests", err);
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    ledger_request_list_free(out);
    return -1;
}

void ledger_request_list_free(struct ledger_request_list *list)
{
    if (!list)
        return;
    free(list->items);
    memset(list, 0, sizeof *list);
}

int ledger_finish_request(struct ledger *l, int64_t id, enum ledger_request_status status,
                          const char *result, int64_t now, struct cb_err *err)
{
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0)
        return -1;
    if (status != LEDGER_REQ_DONE && status != LEDGER_REQ_REJECTED)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "request %" PRId64 ": a request is finished as done or rejected", id);
    char clean[LEDGER_TEXT_MAX];
    cb_sanitize(clean, sizeof clean, result ? result : "");
    if (ledger_begin(l, err) != 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l,
                                      "UPDATE admin_requests SET status = ?, handled_at = ?,"
                                      " result = ? WHERE id = ? AND status = 'pending'",
                                      "finishing a request", err);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, status_names[status], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, clean, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, id);
    if (ledger_run(l, st, "finishing a request", err) != 0)
        goto fail;
    if (sqlite3_changes(l->db) != 1) {
        cb_err_set(err, CB_ERR_INVALID, "ledger",
                   "ledger %s: request %" PRId64 " does not exist or is not pending", l->path, id);
        goto fail;
    }
    if (ledger_commit(l, err) != 0)
        goto fail;
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}

/* ---- cycles and decisions -------------------------------------------------- */

int ledger_record_cycle(struct ledger *l, const struct ledger_cycle *c,
                        const struct ledger_decision *d, size_t n, size_t keep_cycles,
                        struct cb_err *err)
{
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, c->started_at, err) != 0)
        return -1;
    if (keep_cycles < 1)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "keep at least one cycle");
    if (c->id < 0 || (n > 0 && !d) || c->idle_jobs > (uint64_t)INT64_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "cycle %" PRId64 ": bad arguments", c->id);
    char summary[LEDGER_TEXT_MAX];
    cb_sanitize(summary, sizeof summary, c->summary);
    if (ledger_begin(l, err) != 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l,
                                      "INSERT INTO cycles (id, started_at, finished_at, dry_run,"
                                      " idle_jobs, summary) VALUES (?, ?, ?, ?, ?, ?)",
                                      "recording a cycle", err);
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int64(st, 2, c->started_at);
    if (c->finished_at >= 0)
        sqlite3_bind_int64(st, 3, c->finished_at);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int(st, 4, c->dry_run ? 1 : 0);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->idle_jobs);
    sqlite3_bind_text(st, 6, summary, -1, SQLITE_TRANSIENT);
    if (ledger_run(l, st, "recording a cycle", err) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        char action[LEDGER_KIND_MAX], cloud[CB_NAME_MAX], flavor[CB_NAME_MAX], node[CB_NAME_MAX],
            reason[sizeof d[i].reason], detail[LEDGER_TEXT_MAX];
        cb_sanitize(action, sizeof action, d[i].action);
        cb_sanitize(cloud, sizeof cloud, d[i].cloud);
        cb_sanitize(flavor, sizeof flavor, d[i].flavor);
        cb_sanitize(node, sizeof node, d[i].node_id);
        cb_sanitize(reason, sizeof reason, d[i].reason);
        cb_sanitize(detail, sizeof detail, d[i].detail);
        if (!action[0] || !reason[0]) {
            cb_err_set(err, CB_ERR_INVALID, "ledger",
                       "cycle %" PRId64 ": decision %zu needs an action and a reason", c->id, i);
            goto fail;
        }
        st =
            ledger_prepare(l,
                           "INSERT INTO decisions (cycle_id, seq, action, taken, cloud, flavor,"
                           " node_id, count, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           "recording a decision", err);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, c->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_text(st, 3, action, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, d[i].taken ? 1 : 0);
        sqlite3_bind_text(st, 5, cloud, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, flavor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, node, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 8, d[i].count);
        sqlite3_bind_text(st, 9, reason, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 10, detail, -1, SQLITE_TRANSIENT);
        if (ledger_run(l, st, "recording a decision", err) != 0)
            goto fail;
    }
    /* Older cycles go; their decisions follow (ON DELETE CASCADE). */
    st = ledger_prepare(l,
                        "DELETE FROM cycles WHERE id NOT IN"
                        " (SELECT id FROM cycles ORDER BY id DESC LIMIT ?)",
                        "pruning cycles", err);
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1,
                       keep_cycles > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)keep_cycles);
    if (ledger_run(l, st, "pruning cycles", err) != 0 || ledger_commit(l, err) != 0)
        goto fail;
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}

int ledger_last_cycle(struct ledger *l, struct ledger_cycle *c, struct ledger_decision_list *out,
                      struct cb_err *err)
{
    memset(c, 0, sizeof *c);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db,
                                "SELECT id, started_at, finished_at, dry_run, idle_jobs, summary"
                                " FROM cycles ORDER BY id DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return cb_err_set(err, CB_ERR_NOT_FOUND, "ledger", "ledger %s has no cycle recorded yet",
                          l->path);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return ledger_sql_fail(l, rc, "reading the last cycle", err);
    }
    c->id = sqlite3_column_int64(st, 0);
    c->started_at = sqlite3_column_int64(st, 1);
    c->finished_at = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
    c->dry_run = sqlite3_column_int(st, 3) != 0;
    c->idle_jobs = (uint64_t)sqlite3_column_int64(st, 4);
    col_text(st, 5, c->summary, sizeof c->summary);
    sqlite3_finalize(st);

    rc = sqlite3_prepare_v2(l->db,
                            "SELECT action, taken, cloud, flavor, node_id, count, reason, detail"
                            " FROM decisions WHERE cycle_id = ? ORDER BY seq",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return ledger_sql_fail(l, rc, "reading decisions", err);
    }
    sqlite3_bind_int64(st, 1, c->id);
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_decision *d = grow((void **)&out->items, &out->n, &cap, sizeof *d);
        if (!d) {
            cb_err_set(err, CB_ERR_INTERNAL, "ledger", "out of memory reading decisions");
            goto fail;
        }
        col_text(st, 0, d->action, sizeof d->action);
        d->taken = sqlite3_column_int(st, 1) != 0;
        col_text(st, 2, d->cloud, sizeof d->cloud);
        col_text(st, 3, d->flavor, sizeof d->flavor);
        col_text(st, 4, d->node_id, sizeof d->node_id);
        d->count = (uint32_t)sqlite3_column_int64(st, 5);
        col_text(st, 6, d->reason, sizeof d->reason);
        col_text(st, 7, d->detail, sizeof d->detail);
    }
    if (rc != SQLITE_DONE) {
        ledger_sql_fail(l, rc, "reading decisions", err);
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    ledger_decision_list_free(out);
    return -1;
}

void ledger_decision_list_free(struct ledger_decision_list *list)
{
    if (!list)
        return;
    free(list->items);
    memset(list, 0, sizeof *list);
}

/* ---- controller flags --------------------------------------------------------- */

int ledger_set_flag(struct ledger *l, const char *key, const char *value, int64_t now,
                    struct cb_err *err)
{
    if (ledger_writable(l, err) != 0 || ledger_check_now(l, now, err) != 0)
        return -1;
    if (!key || !cb_is_safe_name(key) || strlen(key) >= CB_NAME_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "ledger",
                          "flag name must be a name of [A-Za-z0-9._-]");
    char clean[LEDGER_TEXT_MAX];
    cb_sanitize(clean, sizeof clean, value ? value : "");
    if (ledger_begin(l, err) != 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l,
                                      "INSERT INTO controller_state (key, value, updated_at)"
                                      " VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET"
                                      " value = ?2, updated_at = ?3",
                                      "setting a flag", err);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, clean, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    char detail[LEDGER_TEXT_MAX + CB_NAME_MAX + 8];
    snprintf(detail, sizeof detail, "%s = %s", key, clean);
    if (ledger_run(l, st, "setting a flag", err) != 0 ||
        ledger_append_event(l, now, NULL, "flag", NULL, NULL, detail, err) != 0 ||
        ledger_commit(l, err) != 0)
        goto fail;
    return 0;
fail:
    ledger_rollback(l);
    return -1;
}

int ledger_get_flag(struct ledger *l, const char *key, char *value, size_t size,
                    int64_t *updated_at, struct cb_err *err)
{
    if (size)
        value[0] = '\0';
    if (updated_at)
        *updated_at = -1;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        l->db, "SELECT value, updated_at FROM controller_state WHERE key = ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        if (size)
            col_text(st, 0, value, size);
        if (updated_at)
            *updated_at = sqlite3_column_int64(st, 1);
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
        char clean[CB_NAME_MAX];
        cb_sanitize(clean, sizeof clean, key ? key : "");
        return cb_err_set(err, CB_ERR_NOT_FOUND, "ledger", "flag %s is not set", clean);
    }
    return ledger_sql_fail(l, rc, "reading a flag", err);
}
