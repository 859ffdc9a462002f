/* ctl_admin: the commands of cloudburstctl that look at the controller
 * rather than the nodes: explain (the last cycle's decisions), the requests
 * (pause, resume, drain, terminate) and pool (the pool adapter's view now).
 *
 * Requests only ADD an admin request row (ledger_submit_request on a
 * LEDGER_SUBMIT handle); cloudburstd carries them out at its next cycle and
 * marks them done or rejected (ledger_finish_request). What cloudburstd must
 * do with each kind is written in cloudburstctl(1), REQUESTS. See ctl.h. */
#include "ctl.h"

#include "cb_text.h"
#include "config.h"
#include "ledger.h"
#include "pool_config.h"
#include "pool_report.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_object *str_or_null(const char *s)
{
    return s && *s ? json_object_new_string(s) : NULL;
}

/* ---- explain ---------------------------------------------------------------- */

static json_object *request_json(const struct ledger_request *q)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(q->id));
    json_object_object_add(o, "kind", json_object_new_string(ledger_request_kind_name(q->kind)));
    json_object_object_add(o, "node_id", str_or_null(q->node_id));
    json_object_object_add(o, "force", json_object_new_boolean(q->force));
    json_object_object_add(o, "requested_by", json_object_new_string(q->requested_by));
    json_object_object_add(o, "created_at", json_object_new_int64(q->created_at));
    json_object_object_add(o, "status",
                           json_object_new_string(ledger_request_status_name(q->status)));
    json_object_object_add(o, "handled_at",
                           q->handled_at < 0 ? NULL : json_object_new_int64(q->handled_at));
    json_object_object_add(o, "result", str_or_null(q->result));
    return o;
}

/* The "paused" flag: true when set to "1". */
static int read_paused(struct ctl_run *r, bool *paused, int64_t *since)
{
    char value[LEDGER_TEXT_MAX];
    struct cb_err err = CB_ERR_INIT;
    *paused = false;
    *since = -1;
    if (ledger_get_flag(r->ledger, "paused", value, sizeof value, since, &err) != 0) {
        if (err.code == CB_ERR_NOT_FOUND)
            return CTL_EXIT_OK;
        return ctl_fail(r, CTL_EXIT_ERROR, "%s", err.msg);
    }
    *paused = strcmp(value, "1") == 0;
    return CTL_EXIT_OK;
}

static int explain_json(struct ctl_run *r, const struct ledger_cycle *cy,
                        const struct ledger_decision_list *ds, bool paused, int64_t paused_at,
                        const struct ledger_request_list *reqs)
{
    json_object *doc = json_object_new_object(), *c = json_object_new_object();
    json_object_object_add(c, "id", json_object_new_int64(cy->id));
    json_object_object_add(c, "started_at", json_object_new_int64(cy->started_at));
    json_object_object_add(c, "finished_at", json_object_new_int64(cy->finished_at));
    json_object_object_add(c, "dry_run", json_object_new_boolean(cy->dry_run));
    json_object_object_add(c, "idle_jobs", json_object_new_int64((int64_t)cy->idle_jobs));
    json_object_object_add(c, "summary", json_object_new_string(cy->summary));
    json_object_object_add(doc, "cycle", c);
    json_object_object_add(doc, "paused", json_object_new_boolean(paused));
    json_object_object_add(doc, "paused_changed_at",
                           paused_at < 0 ? NULL : json_object_new_int64(paused_at));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ds->n; i++) {
        const struct ledger_decision *d = &ds->items[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "action", json_object_new_string(d->action));
        json_object_object_add(o, "taken", json_object_new_boolean(d->taken));
        json_object_object_add(o, "cloud", str_or_null(d->cloud));
        json_object_object_add(o, "flavor", str_or_null(d->flavor));
        json_object_object_add(o, "node_id", str_or_null(d->node_id));
        json_object_object_add(o, "count", json_object_new_int64(d->count));
        json_object_object_add(o, "reason", str_or_null(d->reason));
        json_object_object_add(o, "detail", json_object_new_string(d->detail));
        json_object_array_add(arr, o);
    }
    json_object_object_add(doc, "decisions", arr);
    json_object *pending = json_object_new_array();
    for (size_t i = 0; i < reqs->n; i++)
        json_object_array_add(pending, request_json(&reqs->items[i]));
    json_object_object_add(doc, "pending_requests", pending);
    return ctl_emit_json(r, doc);
}

static int explain_text(struct ctl_run *r, const struct ledger_cycle *cy,
                        const struct ledger_decision_list *ds, bool paused,
                        const struct ledger_request_list *reqs)
{
    char from[32], to[32];
    ctl_format_time(cy->started_at, from, sizeof from);
    ctl_format_time(cy->finished_at, to, sizeof to);
    fprintf(r->out, "cycle %" PRId64 ": %s .. %s%s, %" PRIu64 " idle job%s%s\n", cy->id, from, to,
            cy->dry_run ? " (dry run: nothing was acted on)" : "", cy->idle_jobs,
            cy->idle_jobs == 1 ? "" : "s", paused ? ", paused (no scale-up)" : "");
    if (cy->summary[0])
        fprintf(r->out, "summary: %s\n", cy->summary);
    fputc('\n', r->out);
    if (ds->n == 0) {
        fputs("no decisions recorded for this cycle\n", r->out);
    } else {
        static const char *const h[] = {"ACTION", "TAKEN",  "CLOUD",  "FLAVOR",
                                        "NODE",   "COUNT",  "REASON", "DETAIL"};
        struct ctl_table *t = ctl_table_new(8, h, 1u << 5);
        bool ok = t != NULL;
        for (size_t i = 0; ok && i < ds->n; i++) {
            const struct ledger_decision *d = &ds->items[i];
            char count[16];
            snprintf(count, sizeof count, "%" PRIu32, d->count);
            const char *row[] = {d->action,
                                 d->taken ? "yes" : "no",
                                 d->cloud[0] ? d->cloud : NULL,
                                 d->flavor[0] ? d->flavor : NULL,
                                 d->node_id[0] ? d->node_id : NULL,
                                 count,
                                 d->reason[0] ? d->reason : NULL,
                                 d->detail};
            ok = ctl_table_add(t, row) == 0;
        }
        int rc = ctl_emit_table(r, t, ok);
        if (rc != CTL_EXIT_OK)
            return rc;
    }
    if (reqs->n == 0)
        return CTL_EXIT_OK;
    fputs("\nrequests waiting for the next cycle:\n", r->out);
    static const char *const h[] = {"ID", "KIND", "NODE", "FORCE", "BY", "SUBMITTED"};
    struct ctl_table *t = ctl_table_new(6, h, 1u);
    bool ok = t != NULL;
    for (size_t i = 0; ok && i < reqs->n; i++) {
        const struct ledger_request *q = &reqs->items[i];
        char id[24], when[32];
        snprintf(id, sizeof id, "%" PRId64, q->id);
        ctl_format_time(q->created_at, when, sizeof when);
        const char *row[] = {id,
                             ledger_request_kind_name(q->kind),
                             q->node_id[0] ? q->node_id : NULL,
                             q->force ? "yes" : "no",
                             q->requested_by,
                             when};
        ok = ctl_table_add(t, row) == 0;
    }
    return ctl_emit_table(r, t, ok);
}

int ctl_cmd_explain(struct ctl_run *r)
{
    struct ledger_cycle cy;
    struct ledger_decision_list ds = {0};
    struct cb_err err = CB_ERR_INIT;
    if (ledger_last_cycle(r->ledger, &cy, &ds, &err) != 0) {
        if (err.code == CB_ERR_NOT_FOUND)
            return ctl_fail(r, CTL_EXIT_ERROR,
                            "no cycle recorded in %s yet: cloudburstd has not finished a cycle "
                            "on this ledger",
                            ledger_path(r->ledger));
        return ctl_fail(r, CTL_EXIT_ERROR, "%s", err.msg);
    }
    bool paused;
    int64_t paused_at;
    int rc = read_paused(r, &paused, &paused_at);
    struct ledger_request_list reqs = {0};
    if (rc == CTL_EXIT_OK && ledger_list_requests(r->ledger, true, &reqs, &err) != 0)
        rc = ctl_fail(r, CTL_EXIT_ERROR, "%s", err.msg);
    if (rc == CTL_EXIT_OK)
        rc = r->json ? explain_json(r, &cy, &ds, paused, paused_at, &reqs)
                     : explain_text(r, &cy, &ds, paused, &reqs);
    ledger_request_list_free(&reqs);
    ledger_decision_list_free(&ds);
    return rc;
}

/* ---- requests ---------------------------------------------------------------- */

/* Who asks: the user name of the effective uid, else "uid-N". */
static void requester(char *buf, size_t size)
{
    struct passwd pw, *res = NULL;
    char tmp[4096];
    uid_t uid = geteuid();
    if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res && res->pw_name[0])
        cb_sanitize(buf, size, res->pw_name);
    else
        snprintf(buf, size, "uid-%lu", (unsigned long)uid);
}

static int submit(struct ctl_run *r, enum ledger_request_kind kind, const char *node_id,
                  bool force)
{
    char by[CB_NAME_MAX];
    requester(by, sizeof by);
    int64_t id = 0;
    struct cb_err err = CB_ERR_INIT;
    if (ledger_submit_request(r->ledger, kind, node_id, force, by, r->now, &id, &err) != 0) {
        if (err.code == CB_ERR_NOT_FOUND && node_id)
            return ctl_fail(r, CTL_EXIT_ERROR, "%s: no such node in %s", node_id,
                            ledger_path(r->ledger));
        return ctl_fail(r, CTL_EXIT_ERROR, "%s", err.msg);
    }
    const char *name = ledger_request_kind_name(kind);
    if (r->json) {
        struct ledger_request q = {.id = id,
                                   .created_at = r->now,
                                   .kind = kind,
                                   .force = force,
                                   .status = LEDGER_REQ_PENDING,
                                   .handled_at = -1};
        cb_strlcpy(q.node_id, node_id ? node_id : "", sizeof q.node_id);
        cb_strlcpy(q.requested_by, by, sizeof q.requested_by);
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "request", request_json(&q));
        json_object_object_add(doc, "acted_on", json_object_new_string("next cycle"));
        return ctl_emit_json(r, doc);
    }
    if (kind == LEDGER_REQ_TERMINATE)
        fprintf(r->out, "requested: terminate %s%s (request %" PRId64 " by %s)\n", node_id,
                force ? " at once, without draining" : " after draining it", id, by);
    else if (node_id)
        fprintf(r->out, "requested: %s %s (request %" PRId64 " by %s)\n", name, node_id, id, by);
    else
        fprintf(r->out, "requested: %s (request %" PRId64 " by %s)\n", name, id, by);
    fputs("cloudburstd acts on it at its next cycle; see `cloudburstctl events`\n", r->out);
    return CTL_EXIT_OK;
}

int ctl_cmd_pause(struct ctl_run *r)
{
    return submit(r, LEDGER_REQ_PAUSE, NULL, false);
}

int ctl_cmd_resume(struct ctl_run *r)
{
    return submit(r, LEDGER_REQ_RESUME, NULL, false);
}

/* NODE must name a node of this ledger that may still have a VM. */
static int check_live_node(struct ctl_run *r)
{
    if (!cb_is_safe_name(r->arg))
        return ctl_fail(r, CTL_EXIT_USAGE, "NODE: '%s' is not a node id", r->arg);
    struct ledger_node n;
    struct cb_err err = CB_ERR_INIT;
    if (ledger_get_node(r->ledger, r->arg, &n, &err) != 0) {
        if (err.code == CB_ERR_NOT_FOUND)
            return ctl_fail(r, CTL_EXIT_ERROR,
                            "%s: no such node in %s (see cloudburstctl nodes)", r->arg,
                            ledger_path(r->ledger));
        return ctl_fail(r, CTL_EXIT_ERROR, "%s", err.msg);
    }
    if (!cb_node_state_is_live(n.state))
        return ctl_fail(r, CTL_EXIT_ERROR, "%s: node is %s, nothing to %s", r->arg,
                        cb_node_state_name(n.state), r->cmd);
    return CTL_EXIT_OK;
}

int ctl_cmd_drain(struct ctl_run *r)
{
    int rc = check_live_node(r);
    return rc != CTL_EXIT_OK ? rc : submit(r, LEDGER_REQ_DRAIN, r->arg, false);
}

enum { TERMINATE_FORCE };

int ctl_cmd_terminate(struct ctl_run *r)
{
    int rc = check_live_node(r);
    return rc != CTL_EXIT_OK ? rc
                             : submit(r, LEDGER_REQ_TERMINATE, r->arg, r->opt[TERMINATE_FORCE]);
}

/* ---- pool -------------------------------------------------------------------- */

int ctl_cmd_pool(struct ctl_run *r)
{
    struct cb_config *cfg = NULL;
    struct cb_err err = CB_ERR_INIT;
    char buf[CB_ERR_ORIGIN_MAX + CB_ERR_MSG_MAX + 8];
    const char *file = r->config ? r->config : CB_DEFAULT_CONFIG_FILE;
    if (cb_config_load_flags(&cfg, file, NULL, CB_CONFIG_SKIP_PROVIDERS | CB_CONFIG_SKIP_SECRETS,
                             &err) != 0)
        return ctl_fail(r, CTL_EXIT_ERROR, "%s", cb_err_format(&err, buf, sizeof buf));
    struct cb_pool_config pc;
    int rc = CTL_EXIT_OK;
    if (cb_pool_config_from(cfg, &pc, &err) != 0) {
        rc = ctl_fail(r, CTL_EXIT_ERROR, "%s", cb_err_format(&err, buf, sizeof buf));
    } else {
        if (cb_pool_report(&pc.opts, r->out, r->json, &err) != 0)
            rc = ctl_fail(r, CTL_EXIT_ERROR, "%s", cb_err_format(&err, buf, sizeof buf));
        cb_pool_config_free(&pc);
    }
    cb_config_free(cfg);
    return rc;
}
