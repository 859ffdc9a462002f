/* ledger_query: the read side of the ledger (nodes, counts, events). See ledger.h.
 *
 * Reads work on both READ_WRITE and READ_ONLY handles. Every text column is
 * sanitised again on the way out: the file may have been edited by hand with
 * sqlite3, and what comes out of here goes to terminals and JSON.
 */
#define CB_LEDGER_INTERNAL 1
#include "ledger.h"

#include "cb_text.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void col_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    cb_sanitize(out, size, t ? (const char *)t : "");
}

static int64_t col_time(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

static int col_state(sqlite3_stmt *st, int col, int *out)
{
    enum cb_node_state s;
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t) {
        *out = -1;
        return 0;
    }
    if (cb_node_state_parse((const char *)t, &s) != 0)
        return -1;
    *out = (int)s;
    return 0;
}

/* Grow a list by one element of `size` bytes; returns the new element. */
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

#define NODE_COLUMNS                                                                        \
    "node_id, batch_id, batch_index, cloud, flavor, image, cpus, memory_mb, cost_per_hour," \
    " COALESCE(instance_id, ''), state, state_since, requested_at, booting_at,"             \
    " bootstrapping_at, idle_at, busy_at, draining_at, terminating_at, gone_at, failed_at," \
    " private_addr, public_addr, hostname, failure_count, last_error, adopted, seen_busy"

/* The state_at columns follow the enum order (checked in the test). */
static int read_node(struct ledger *l, sqlite3_stmt *st, struct ledger_node *n, struct cb_err *err)
{
    col_text(st, 0, n->node_id, sizeof n->node_id);
    col_text(st, 1, n->batch_id, sizeof n->batch_id);
    n->batch_index = (uint32_t)sqlite3_column_int64(st, 2);
    col_text(st, 3, n->cloud, sizeof n->cloud);
    col_text(st, 4, n->flavor, sizeof n->flavor);
    col_text(st, 5, n->image, sizeof n->image);
    n->cpus = (uint32_t)sqlite3_column_int64(st, 6);
    n->memory_mb = (uint64_t)sqlite3_column_int64(st, 7);
    n->cost_per_hour = sqlite3_column_double(st, 8);
    col_text(st, 9, n->instance_id, sizeof n->instance_id);
    int state;
    if (col_state(st, 10, &state) != 0 || state < 0)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger %s: node %s has an unknown state",
                          l->path, n->node_id);
    n->state = (enum cb_node_state)state;
    n->state_since = col_time(st, 11);
    for (int i = 0; i < CB_NODE__COUNT; i++)
        n->state_at[i] = col_time(st, 12 + i);
    col_text(st, 21, n->private_addr, sizeof n->private_addr);
    col_text(st, 22, n->public_addr, sizeof n->public_addr);
    col_text(st, 23, n->hostname, sizeof n->hostname);
    n->failure_count = (uint32_t)sqlite3_column_int64(st, 24);
    col_text(st, 25, n->last_error, sizeof n->last_error);
    n->adopted = sqlite3_column_int(st, 26) != 0;
    n->seen_busy = sqlite3_column_type(st, 27) == SQLITE_NULL ? -1
                   : sqlite3_column_int(st, 27) != 0;
    return 0;
}

int ledger_list_nodes(struct ledger *l, const struct ledger_node_filter *filter,
                      struct ledger_node_list *out, struct cb_err *err)
{
    static const struct ledger_node_filter all = {0};
    memset(out, 0, sizeof *out);
    if (!filter)
        filter = &all;
    if (filter->by_state && (unsigned)filter->state >= CB_NODE__COUNT)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "unknown node state %d",
                          (int)filter->state);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db,
                                "SELECT " NODE_COLUMNS " FROM nodes"
                                " WHERE (?1 IS NULL OR cloud = ?1)"
                                " AND (?2 IS NULL OR node_id = ?2)"
                                " AND (?3 IS NULL OR batch_id = ?3)"
                                " AND (?4 IS NULL OR state = ?4)"
                                " AND (?5 = 0 OR state <> 'gone')"
                                " ORDER BY cloud, batch_id, batch_index",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return ledger_sql_error(l->db, l->path, rc, "listing nodes", err);
    }
    if (filter->cloud)
        sqlite3_bind_text(st, 1, filter->cloud, -1, SQLITE_TRANSIENT);
    if (filter->node_id)
        sqlite3_bind_text(st, 2, filter->node_id, -1, SQLITE_TRANSIENT);
    if (filter->batch_id)
        sqlite3_bind_text(st, 3, filter->batch_id, -1, SQLITE_TRANSIENT);
    if (filter->by_state)
        sqlite3_bind_text(st, 4, cb_node_state_name(filter->state), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, filter->live_only ? 1 : 0);
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_node *n = grow((void **)&out->items, &out->n, &cap, sizeof *n);
        if (!n) {
            cb_err_set(err, CB_ERR_INTERNAL, "ledger", "out of memory listing nodes");
            goto fail;
        }
        if (read_node(l, st, n, err) != 0)
            goto fail;
    }
    if (rc != SQLITE_DONE) {
        ledger_sql_error(l->db, l->path, rc, "listing nodes", err);
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    ledger_node_list_free(out);
    return -1;
}

void ledger_node_list_free(struct ledger_node_list *list)
{
    if (!list)
        return;
    free(list->items);
    memset(list, 0, sizeof *list);
}

int ledger_get_node(struct ledger *l, const char *node_id, struct ledger_node *out,
                    struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    struct ledger_node_filter f = {.node_id = node_id};
    struct ledger_node_list list;
    if (!node_id)
        return cb_err_set(err, CB_ERR_INVALID, "ledger", "no node id given");
    if (ledger_list_nodes(l, &f, &list, err) != 0)
        return -1;
    if (list.n != 1) {
        ledger_node_list_free(&list);
        char clean[CB_NAME_MAX];
        cb_sanitize(clean, sizeof clean, node_id);
        return cb_err_set(err, CB_ERR_NOT_FOUND, "ledger", "ledger %s has no node %s", l->path,
                          clean);
    }
    *out = list.items[0];
    ledger_node_list_free(&list);
    return 0;
}

int ledger_count_nodes(struct ledger *l, struct ledger_counts *out, struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db,
                                "SELECT cloud, state, count(*),"
                                " total(CASE WHEN state <> 'gone' THEN cpus ELSE 0 END),"
                                " total(CASE WHEN state <> 'gone' THEN cost_per_hour ELSE 0 END)"
                                " FROM nodes GROUP BY cloud, state ORDER BY cloud",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return ledger_sql_error(l->db, l->path, rc, "counting nodes", err);
    }
    size_t cap = 0;
    struct ledger_cloud_counts *cur = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char cloud[CB_NAME_MAX];
        col_text(st, 0, cloud, sizeof cloud);
        if (!cur || strcmp(cur->cloud, cloud) != 0) {
            cur = grow((void **)&out->clouds, &out->n, &cap, sizeof *cur);
            if (!cur) {
                cb_err_set(err, CB_ERR_INTERNAL, "ledger", "out of memory counting nodes");
                goto fail;
            }
            memcpy(cur->cloud, cloud, sizeof cloud);
        }
        int state;
        if (col_state(st, 1, &state) != 0 || state < 0) {
            cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger %s: a node has an unknown state",
                       l->path);
            goto fail;
        }
        cur->by_state[state] = (uint64_t)sqlite3_column_int64(st, 2);
        cur->live_cpus += (uint64_t)sqlite3_column_double(st, 3);
        cur->live_cost_per_hour += sqlite3_column_double(st, 4);
    }
    if (rc != SQLITE_DONE) {
        ledger_sql_error(l->db, l->path, rc, "counting nodes", err);
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    ledger_counts_free(out);
    return -1;
}

void ledger_counts_free(struct ledger_counts *counts)
{
    if (!counts)
        return;
    free(counts->clouds);
    memset(counts, 0, sizeof *counts);
}

int ledger_list_events(struct ledger *l, const struct ledger_event_filter *filter,
                       struct ledger_event_list *out, struct cb_err *err)
{
    static const struct ledger_event_filter all = {0};
    memset(out, 0, sizeof *out);
    if (!filter)
        filter = &all;
    sqlite3_stmt *st = NULL;
    /* The newest `limit` rows, then back into time order. */
    int rc = sqlite3_prepare_v2(l->db,
                                "SELECT * FROM (SELECT id, time, COALESCE(node_id, ''), kind,"
                                " from_state, to_state, detail FROM events"
                                " WHERE (?1 IS NULL OR node_id = ?1) AND time >= ?2"
                                " ORDER BY id DESC LIMIT ?3) ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return ledger_sql_error(l->db, l->path, rc, "listing events", err);
    }
    if (filter->node_id)
        sqlite3_bind_text(st, 1, filter->node_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, filter->since);
    sqlite3_bind_int64(st, 3, filter->limit ? (sqlite3_int64)filter->limit : -1);
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_event *e = grow((void **)&out->items, &out->n, &cap, sizeof *e);
        if (!e) {
            cb_err_set(err, CB_ERR_INTERNAL, "ledger", "out of memory listing events");
            goto fail;
        }
        e->id = sqlite3_column_int64(st, 0);
        e->time = sqlite3_column_int64(st, 1);
        col_text(st, 2, e->node_id, sizeof e->node_id);
        col_text(st, 3, e->kind, sizeof e->kind);
        if (col_state(st, 4, &e->from_state) != 0 || col_state(st, 5, &e->to_state) != 0) {
            cb_err_set(err, CB_ERR_INVALID, "ledger", "ledger %s: event %lld has an unknown state",
                       l->path, (long long)e->id);
            goto fail;
        }
        col_text(st, 6, e->detail, sizeof e->detail);
    }
    if (rc != SQLITE_DONE) {
        ledger_sql_error(l->db, l->path, rc, "listing events", err);
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    ledger_event_list_free(out);
    return -1;
}

void ledger_event_list_free(struct ledger_event_list *list)
{
    if (!list)
        return;
    free(list->items);
    memset(list, 0, sizeof *list);
}
