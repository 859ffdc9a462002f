/* ctl_commands: the read-only commands of cloudburstctl (status, nodes,
 * events), each printing a table or one JSON document. See ctl.h. */
#include "ctl.h"

#include "cb_text.h"
#include "ledger.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

int ctl_emit_json(struct ctl_run *r, json_object *doc)
{
    if (!doc)
        return ctl_fail(r, CTL_EXIT_ERROR, "out of memory");
    const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = CTL_EXIT_OK;
    if (!text)
        rc = ctl_fail(r, CTL_EXIT_ERROR, "out of memory");
    else
        fprintf(r->out, "%s\n", text);
    json_object_put(doc);
    return rc;
}

int ctl_emit_table(struct ctl_run *r, struct ctl_table *t, bool ok)
{
    if (!ok || !t) {
        ctl_table_free(t);
        return ctl_fail(r, CTL_EXIT_ERROR, "out of memory");
    }
    ctl_table_print(t, r->out);
    ctl_table_free(t);
    return CTL_EXIT_OK;
}

static int ledger_fail(struct ctl_run *r, const struct cb_err *err)
{
    return ctl_fail(r, CTL_EXIT_ERROR, "%s", err->msg);
}

static json_object *time_json(int64_t t)
{
    return t < 0 ? NULL : json_object_new_int64(t);
}

static void upper(char *dst, size_t size, const char *src)
{
    cb_strlcpy(dst, src, size);
    for (char *p = dst; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
}

/* ---- status --------------------------------------------------------------- */

/* Columns of the state counts, in lifecycle order with gone last. */
static const enum cb_node_state status_states[] = {
    CB_NODE_REQUESTED, CB_NODE_BOOTING,     CB_NODE_BOOTSTRAPPING, CB_NODE_IDLE, CB_NODE_BUSY,
    CB_NODE_DRAINING,  CB_NODE_TERMINATING, CB_NODE_FAILED,        CB_NODE_GONE,
};
#define N_STATUS_STATES (sizeof status_states / sizeof status_states[0])

static uint64_t live_of(const struct ledger_cloud_counts *c)
{
    uint64_t n = 0;
    for (int s = 0; s < CB_NODE__COUNT; s++)
        if (cb_node_state_is_live((enum cb_node_state)s))
            n += c->by_state[s];
    return n;
}

static json_object *counts_json(const struct ledger_cloud_counts *c, bool with_name)
{
    json_object *o = json_object_new_object(), *states = json_object_new_object();
    if (with_name)
        json_object_object_add(o, "cloud", json_object_new_string(c->cloud));
    for (size_t i = 0; i < N_STATUS_STATES; i++)
        json_object_object_add(states, cb_node_state_name(status_states[i]),
                               json_object_new_int64((int64_t)c->by_state[status_states[i]]));
    json_object_object_add(o, "states", states);
    json_object_object_add(o, "live", json_object_new_int64((int64_t)live_of(c)));
    json_object_object_add(o, "live_cpus", json_object_new_int64((int64_t)c->live_cpus));
    json_object_object_add(o, "live_cost_per_hour", json_object_new_double(c->live_cost_per_hour));
    return o;
}

static bool status_row(struct ctl_table *t, const char *name, const struct ledger_cloud_counts *c)
{
    char cells[N_STATUS_STATES + 4][32];
    const char *row[N_STATUS_STATES + 4];
    size_t k = 0;
    row[k++] = name;
    for (size_t i = 0; i < N_STATUS_STATES; i++, k++) {
        snprintf(cells[k], sizeof cells[k], "%" PRIu64, c->by_state[status_states[i]]);
        row[k] = cells[k];
    }
    snprintf(cells[k], sizeof cells[k], "%" PRIu64, live_of(c));
    row[k] = cells[k];
    k++;
    snprintf(cells[k], sizeof cells[k], "%" PRIu64, c->live_cpus);
    row[k] = cells[k];
    k++;
    snprintf(cells[k], sizeof cells[k], "%.2f", c->live_cost_per_hour);
    row[k] = cells[k];
    return ctl_table_add(t, row) == 0;
}

int ctl_cmd_status(struct ctl_run *r)
{
    struct ledger_counts counts;
    struct cb_err err = CB_ERR_INIT;
    if (ledger_count_nodes(r->ledger, &counts, &err) != 0)
        return ledger_fail(r, &err);
    struct ledger_cloud_counts total = {.cloud = "TOTAL"};
    for (size_t i = 0; i < counts.n; i++) {
        for (int s = 0; s < CB_NODE__COUNT; s++)
            total.by_state[s] += counts.clouds[i].by_state[s];
        total.live_cpus += counts.clouds[i].live_cpus;
        total.live_cost_per_hour += counts.clouds[i].live_cost_per_hour;
    }
    int rc;
    if (r->json) {
        json_object *doc = json_object_new_object(), *clouds = json_object_new_array();
        json_object_object_add(doc, "ledger", json_object_new_string(ledger_path(r->ledger)));
        json_object_object_add(doc, "schema_version",
                               json_object_new_int(ledger_schema_version(r->ledger)));
        for (size_t i = 0; i < counts.n; i++)
            json_object_array_add(clouds, counts_json(&counts.clouds[i], true));
        json_object_object_add(doc, "clouds", clouds);
        json_object_object_add(doc, "total", counts_json(&total, false));
        rc = ctl_emit_json(r, doc);
    } else {
        char heads[N_STATUS_STATES + 4][32];
        const char *h[N_STATUS_STATES + 4];
        size_t k = 0;
        h[k++] = "CLOUD";
        for (size_t i = 0; i < N_STATUS_STATES; i++, k++) {
            upper(heads[k], sizeof heads[k], cb_node_state_name(status_states[i]));
            h[k] = heads[k];
        }
        h[k++] = "LIVE";
        h[k++] = "CPUS";
        h[k++] = "COST/H";
        struct ctl_table *t = ctl_table_new(k, h, ~1u);
        bool ok = t != NULL;
        for (size_t i = 0; ok && i < counts.n; i++)
            ok = status_row(t, counts.clouds[i].cloud, &counts.clouds[i]);
        ok = ok && status_row(t, "TOTAL", &total);
        rc = ctl_emit_table(r, t, ok);
    }
    ledger_counts_free(&counts);
    return rc;
}

/* ---- nodes ---------------------------------------------------------------- */

enum { NODES_CLOUD, NODES_STATE, NODES_ALL };

static json_object *node_json(const struct ledger_node *n)
{
    json_object *o = json_object_new_object(), *at = json_object_new_object();
    json_object_object_add(o, "node_id", json_object_new_string(n->node_id));
    json_object_object_add(o, "batch_id", json_object_new_string(n->batch_id));
    json_object_object_add(o, "batch_index", json_object_new_int64(n->batch_index));
    json_object_object_add(o, "cloud", json_object_new_string(n->cloud));
    json_object_object_add(o, "flavor", json_object_new_string(n->flavor));
    json_object_object_add(o, "image", json_object_new_string(n->image));
    json_object_object_add(o, "cpus", json_object_new_int64(n->cpus));
    json_object_object_add(o, "memory_mb", json_object_new_int64((int64_t)n->memory_mb));
    json_object_object_add(o, "cost_per_hour", json_object_new_double(n->cost_per_hour));
    json_object_object_add(o, "instance_id",
                           n->instance_id[0] ? json_object_new_string(n->instance_id) : NULL);
    json_object_object_add(o, "state", json_object_new_string(cb_node_state_name(n->state)));
    json_object_object_add(o, "state_since", time_json(n->state_since));
    for (int s = 0; s < CB_NODE__COUNT; s++)
        json_object_object_add(at, cb_node_state_name((enum cb_node_state)s),
                               time_json(n->state_at[s]));
    json_object_object_add(o, "entered", at);
    json_object_object_add(o, "private_addr", json_object_new_string(n->private_addr));
    json_object_object_add(o, "public_addr", json_object_new_string(n->public_addr));
    json_object_object_add(o, "hostname", json_object_new_string(n->hostname));
    json_object_object_add(o, "failure_count", json_object_new_int64(n->failure_count));
    json_object_object_add(o, "last_error", json_object_new_string(n->last_error));
    json_object_object_add(o, "adopted", json_object_new_boolean(n->adopted));
    return o;
}

int ctl_cmd_nodes(struct ctl_run *r)
{
    struct ledger_node_filter f = {.cloud = r->opt[NODES_CLOUD], .live_only = !r->opt[NODES_ALL]};
    if (f.cloud && !cb_is_safe_name(f.cloud))
        return ctl_fail(r, CTL_EXIT_USAGE, "--cloud: '%s' is not a cloud name", f.cloud);
    if (r->opt[NODES_STATE]) {
        if (cb_node_state_parse(r->opt[NODES_STATE], &f.state) != 0) {
            char list[256] = "";
            for (int s = 0; s < CB_NODE__COUNT; s++) {
                strncat(list, s ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, cb_node_state_name((enum cb_node_state)s),
                        sizeof list - strlen(list) - 1);
            }
            return ctl_fail(r, CTL_EXIT_USAGE, "--state: unknown state '%s' (one of: %s)",
                            r->opt[NODES_STATE], list);
        }
        f.by_state = true;
        f.live_only = false;
    }
    struct ledger_node_list list;
    struct cb_err err = CB_ERR_INIT;
    if (ledger_list_nodes(r->ledger, &f, &list, &err) != 0)
        return ledger_fail(r, &err);
    int rc;
    if (r->json) {
        json_object *doc = json_object_new_object(), *arr = json_object_new_array();
        for (size_t i = 0; i < list.n; i++)
            json_object_array_add(arr, node_json(&list.items[i]));
        json_object_object_add(doc, "nodes", arr);
        rc = ctl_emit_json(r, doc);
    } else {
        static const char *const h[] = {"NODE",     "CLOUD",   "FLAVOR", "STATE",     "SINCE",
                                        "INSTANCE", "ADDRESS", "FAILS",  "LAST ERROR"};
        struct ctl_table *t = ctl_table_new(9, h, 1u << 7);
        bool ok = t != NULL;
        for (size_t i = 0; ok && i < list.n; i++) {
            const struct ledger_node *n = &list.items[i];
            char since[32], fails[16];
            ctl_format_time(n->state_since, since, sizeof since);
            snprintf(fails, sizeof fails, "%" PRIu32, n->failure_count);
            const char *row[] = {n->node_id,
                                 n->cloud,
                                 n->flavor,
                                 cb_node_state_name(n->state),
                                 since,
                                 n->instance_id,
                                 n->private_addr[0] ? n->private_addr : n->public_addr,
                                 fails,
                                 n->last_error};
            ok = ctl_table_add(t, row) == 0;
        }
        rc = ctl_emit_table(r, t, ok);
    }
    ledger_node_list_free(&list);
    return rc;
}

/* ---- events --------------------------------------------------------------- */

enum { EVENTS_NODE, EVENTS_SINCE, EVENTS_LIMIT };

#define EVENTS_DEFAULT_LIMIT 1000
#define EVENTS_MAX_LIMIT 10000000ull

int ctl_cmd_events(struct ctl_run *r)
{
    struct ledger_event_filter f = {.node_id = r->opt[EVENTS_NODE], .limit = EVENTS_DEFAULT_LIMIT};
    struct cb_err err = CB_ERR_INIT;
    if (f.node_id && !cb_is_safe_name(f.node_id))
        return ctl_fail(r, CTL_EXIT_USAGE, "--node: '%s' is not a node id", f.node_id);
    if (r->opt[EVENTS_SINCE] && ctl_parse_time(r->opt[EVENTS_SINCE], r->now, &f.since, &err) != 0)
        return ctl_fail(r, CTL_EXIT_USAGE, "%s", err.msg);
    if (r->opt[EVENTS_LIMIT]) {
        const char *s = r->opt[EVENTS_LIMIT];
        char *end = NULL;
        unsigned long long v = strtoull(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end || v > EVENTS_MAX_LIMIT)
            return ctl_fail(r, CTL_EXIT_USAGE, "--limit: '%s' is not a number 0..%llu", s,
                            EVENTS_MAX_LIMIT);
        f.limit = (size_t)v;
    }
    struct ledger_event_list list;
    if (ledger_list_events(r->ledger, &f, &list, &err) != 0)
        return ledger_fail(r, &err);
    int rc;
    if (r->json) {
        json_object *doc = json_object_new_object(), *arr = json_object_new_array();
        for (size_t i = 0; i < list.n; i++) {
            const struct ledger_event *e = &list.items[i];
            json_object *o = json_object_new_object();
            json_object_object_add(o, "id", json_object_new_int64(e->id));
            json_object_object_add(o, "time", json_object_new_int64(e->time));
            json_object_object_add(o, "node_id",
                                   e->node_id[0] ? json_object_new_string(e->node_id) : NULL);
            json_object_object_add(o, "kind", json_object_new_string(e->kind));
            json_object_object_add(o, "from",
                                   e->from_state < 0 ? NULL
                                                     : json_object_new_string(cb_node_state_name(
                                                           (enum cb_node_state)e->from_state)));
            json_object_object_add(o, "to",
                                   e->to_state < 0 ? NULL
                                                   : json_object_new_string(cb_node_state_name(
                                                         (enum cb_node_state)e->to_state)));
            json_object_object_add(o, "detail", json_object_new_string(e->detail));
            json_object_array_add(arr, o);
        }
        json_object_object_add(doc, "events", arr);
        rc = ctl_emit_json(r, doc);
    } else {
        static const char *const h[] = {"TIME", "NODE", "KIND", "FROM", "TO", "DETAIL"};
        struct ctl_table *t = ctl_table_new(6, h, 0);
        bool ok = t != NULL;
        for (size_t i = 0; ok && i < list.n; i++) {
            const struct ledger_event *e = &list.items[i];
            char when[32];
            ctl_format_time(e->time, when, sizeof when);
            const char *row[] = {
                when,
                e->node_id,
                e->kind,
                e->from_state < 0 ? NULL : cb_node_state_name((enum cb_node_state)e->from_state),
                e->to_state < 0 ? NULL : cb_node_state_name((enum cb_node_state)e->to_state),
                e->detail};
            ok = ctl_table_add(t, row) == 0;
        }
        rc = ctl_emit_table(r, t, ok);
    }
    ledger_event_list_free(&list);
    return rc;
}
