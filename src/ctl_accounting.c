/* ctl_accounting: `cloudburstctl accounting`: VM-hours, core-hours and cost
 * per cloud, per cloud and flavor, or per UTC day, from the node rows of the
 * ledger (the cpus and cost_per_hour recorded from the flavor at boot time,
 * and the time the node entered each state). How time is counted is in
 * ctl.h (ctl_node_interval) and cloudburstctl(1), ACCOUNTING. */
#include "ctl.h"

#include "cb_text.h"
#include "ledger.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define SECONDS_PER_DAY INT64_C(86400)

bool ctl_node_interval(const struct ledger_node *n, int64_t since, int64_t until, int64_t *start,
                       int64_t *end)
{
    *start = *end = 0;
    int64_t begin = n->state_at[CB_NODE_BOOTING];
    if (begin < 0)
        begin = n->state_at[CB_NODE_REQUESTED];
    if (begin < 0) { /* adopted: counted from when the ledger first recorded it */
        for (int s = 0; s < CB_NODE__COUNT; s++)
            if (n->state_at[s] >= 0 && (begin < 0 || n->state_at[s] < begin))
                begin = n->state_at[s];
    }
    if (begin < 0)
        return false;
    int64_t stop = until;
    if (n->state == CB_NODE_GONE)
        stop = n->state_at[CB_NODE_GONE] >= 0 ? n->state_at[CB_NODE_GONE] : n->state_since;
    if (stop > until)
        stop = until;
    if (begin < since)
        begin = since;
    if (stop <= begin)
        return false;
    *start = begin;
    *end = stop;
    return true;
}

enum { ACC_SINCE, ACC_BY, ACC_CSV };
enum acc_by { BY_CLOUD, BY_FLAVOR, BY_DAY };

struct acc_group {
    char key[2][CB_NAME_MAX]; /* cloud [, flavor] or day */
    uint64_t nodes;
    uint64_t nodes_without_cpus; /* cpus unknown: no core-hours counted */
    int64_t vm_seconds;
    int64_t core_seconds;
    double cost;
};

struct acc {
    struct acc_group *g;
    size_t n, cap;
};

static struct acc_group *group_for(struct acc *a, const char *k0, const char *k1)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->g[i].key[0], k0) == 0 && strcmp(a->g[i].key[1], k1) == 0)
            return &a->g[i];
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        struct acc_group *g = realloc(a->g, cap * sizeof *g);
        if (!g)
            return NULL;
        a->g = g;
        a->cap = cap;
    }
    struct acc_group *g = &a->g[a->n++];
    memset(g, 0, sizeof *g);
    cb_strlcpy(g->key[0], k0, sizeof g->key[0]);
    cb_strlcpy(g->key[1], k1, sizeof g->key[1]);
    return g;
}

static void add_seconds(struct acc_group *g, const struct ledger_node *n, int64_t secs)
{
    g->nodes++;
    g->vm_seconds += secs;
    if (n->cpus)
        g->core_seconds += secs * (int64_t)n->cpus;
    else
        g->nodes_without_cpus++;
    g->cost += (double)secs * n->cost_per_hour / 3600.0;
}

static int cmp_group(const void *a, const void *b)
{
    const struct acc_group *x = a, *y = b;
    int c = strcmp(x->key[0], y->key[0]);
    return c ? c : strcmp(x->key[1], y->key[1]);
}

/* Spread every node's counted interval over the groups. -1 on out of memory. */
static int tally(const struct ledger_node_list *list, enum acc_by by, int64_t since,
                 int64_t until, struct acc *a, struct acc_group *total)
{
    memset(total, 0, sizeof *total);
    cb_strlcpy(total->key[0], "TOTAL", sizeof total->key[0]);
    for (size_t i = 0; i < list->n; i++) {
        const struct ledger_node *n = &list->items[i];
        int64_t start, end;
        if (!ctl_node_interval(n, since, until, &start, &end))
            continue;
        add_seconds(total, n, end - start);
        if (by != BY_DAY) {
            struct acc_group *g = group_for(a, n->cloud, by == BY_FLAVOR ? n->flavor : "");
            if (!g)
                return -1;
            add_seconds(g, n, end - start);
            continue;
        }
        /* Unix time has no leap seconds: UTC days are multiples of 86400. */
        for (int64_t day = start - start % SECONDS_PER_DAY; day < end; day += SECONDS_PER_DAY) {
            int64_t a0 = start > day ? start : day;
            int64_t a1 = end < day + SECONDS_PER_DAY ? end : day + SECONDS_PER_DAY;
            char key[32];
            ctl_format_time(day, key, sizeof key);
            key[10] = '\0'; /* "YYYY-MM-DD" */
            struct acc_group *g = group_for(a, key, "");
            if (!g)
                return -1;
            add_seconds(g, n, a1 - a0);
        }
    }
    if (a->n > 1)
        qsort(a->g, a->n, sizeof *a->g, cmp_group);
    return 0;
}

static const char *const by_names[] = {"cloud", "flavor", "day"};

static json_object *group_json(const struct acc_group *g, enum acc_by by, bool with_key)
{
    json_object *o = json_object_new_object();
    if (with_key) {
        json_object_object_add(o, by == BY_DAY ? "day" : "cloud",
                               json_object_new_string(g->key[0]));
        if (by == BY_FLAVOR)
            json_object_object_add(o, "flavor", json_object_new_string(g->key[1]));
    }
    json_object_object_add(o, "nodes", json_object_new_int64((int64_t)g->nodes));
    json_object_object_add(o, "vm_seconds", json_object_new_int64(g->vm_seconds));
    json_object_object_add(o, "vm_hours", json_object_new_double((double)g->vm_seconds / 3600.0));
    json_object_object_add(o, "core_seconds", json_object_new_int64(g->core_seconds));
    json_object_object_add(o, "core_hours",
                           json_object_new_double((double)g->core_seconds / 3600.0));
    json_object_object_add(o, "cost", json_object_new_double(g->cost));
    json_object_object_add(o, "nodes_without_cpus",
                           json_object_new_int64((int64_t)g->nodes_without_cpus));
    return o;
}

static int print_json(struct ctl_run *r, const struct acc *a, const struct acc_group *total,
                      enum acc_by by, int64_t since)
{
    json_object *doc = json_object_new_object(), *arr = json_object_new_array();
    json_object_object_add(doc, "by", json_object_new_string(by_names[by]));
    json_object_object_add(doc, "since", since > 0 ? json_object_new_int64(since) : NULL);
    json_object_object_add(doc, "until", json_object_new_int64(r->now));
    for (size_t i = 0; i < a->n; i++)
        json_object_array_add(arr, group_json(&a->g[i], by, true));
    json_object_object_add(doc, "groups", arr);
    json_object_object_add(doc, "total", group_json(total, by, false));
    return ctl_emit_json(r, doc);
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int print_csv(struct ctl_run *r, const struct acc *a, enum acc_by by)
{
    FILE *f = r->out;
    fputs(by == BY_DAY ? "day" : by == BY_FLAVOR ? "cloud,flavor" : "cloud", f);
    fputs(",nodes,vm_seconds,vm_hours,core_seconds,core_hours,cost\n", f);
    for (size_t i = 0; i < a->n; i++) {
        const struct acc_group *g = &a->g[i];
        csv_field(f, g->key[0]);
        if (by == BY_FLAVOR) {
            fputc(',', f);
            csv_field(f, g->key[1]);
        }
        fprintf(f, ",%" PRIu64 ",%" PRId64 ",%.6f,%" PRId64 ",%.6f,%.6f\n", g->nodes,
                g->vm_seconds, (double)g->vm_seconds / 3600.0, g->core_seconds,
                (double)g->core_seconds / 3600.0, g->cost);
    }
    return CTL_EXIT_OK;
}

static bool table_row(struct ctl_table *t, const struct acc_group *g, enum acc_by by)
{
    char nodes[24], vmh[32], coreh[32], cost[32];
    snprintf(nodes, sizeof nodes, "%" PRIu64, g->nodes);
    snprintf(vmh, sizeof vmh, "%.2f", (double)g->vm_seconds / 3600.0);
    snprintf(coreh, sizeof coreh, "%.2f", (double)g->core_seconds / 3600.0);
    snprintf(cost, sizeof cost, "%.2f", g->cost);
    const char *row[6];
    size_t k = 0;
    row[k++] = g->key[0];
    if (by == BY_FLAVOR)
        row[k++] = g->key[1][0] ? g->key[1] : NULL;
    row[k++] = nodes;
    row[k++] = vmh;
    row[k++] = coreh;
    row[k++] = cost;
    return ctl_table_add(t, row) == 0;
}

static int print_table(struct ctl_run *r, const struct acc *a, const struct acc_group *total,
                       enum acc_by by, int64_t since)
{
    char from[32], to[32];
    ctl_format_time(since, from, sizeof from);
    ctl_format_time(r->now, to, sizeof to);
    fprintf(r->out, "from %s to %s (seconds counted exactly, not rounded to billing units)\n",
            since > 0 ? from : "the first record", to);
    const char *h[6];
    size_t k = 0;
    h[k++] = by == BY_DAY ? "DAY" : "CLOUD";
    if (by == BY_FLAVOR)
        h[k++] = "FLAVOR";
    h[k++] = "NODES";
    h[k++] = "VM-HOURS";
    h[k++] = "CORE-HOURS";
    h[k++] = "COST";
    unsigned right = by == BY_FLAVOR ? 0x3cu : 0x1eu;
    struct ctl_table *t = ctl_table_new(k, h, right);
    bool ok = t != NULL;
    for (size_t i = 0; ok && i < a->n; i++)
        ok = table_row(t, &a->g[i], by);
    ok = ok && table_row(t, total, by);
    int rc = ctl_emit_table(r, t, ok);
    if (rc == CTL_EXIT_OK && total->nodes_without_cpus)
        fprintf(r->out,
                "note: %" PRIu64 " node(s) recorded without a CPU count: no core-hours for them\n",
                total->nodes_without_cpus);
    return rc;
}

int ctl_cmd_accounting(struct ctl_run *r)
{
    struct cb_err err = CB_ERR_INIT;
    int64_t since = 0;
    if (r->opt[ACC_SINCE]) {
        if (ctl_parse_time(r->opt[ACC_SINCE], r->now, &since, &err) != 0)
            return ctl_fail(r, CTL_EXIT_USAGE, "%s", err.msg);
        if (since > r->now)
            return ctl_fail(r, CTL_EXIT_USAGE, "--since: '%s' is in the future",
                            r->opt[ACC_SINCE]);
    }
    enum acc_by by = BY_CLOUD;
    if (r->opt[ACC_BY]) {
        size_t i = 0;
        while (i < 3 && strcmp(r->opt[ACC_BY], by_names[i]) != 0)
            i++;
        if (i == 3)
            return ctl_fail(r, CTL_EXIT_USAGE, "--by: '%s' is not one of cloud, flavor, day",
                            r->opt[ACC_BY]);
        by = (enum acc_by)i;
    }
    bool csv = r->opt[ACC_CSV] != NULL;
    if (csv && r->json)
        return ctl_fail(r, CTL_EXIT_USAGE, "--csv and --json exclude each other");

    struct ledger_node_filter f = {0};
    struct ledger_node_list list;
    if (ledger_list_nodes(r->ledger, &f, &list, &err) != 0)
        return ctl_fail(r, CTL_EXIT_ERROR, "%s", err.msg);
    struct acc a = {0};
    struct acc_group total;
    int rc;
    if (tally(&list, by, since, r->now, &a, &total) != 0)
        rc = ctl_fail(r, CTL_EXIT_ERROR, "out of memory");
    else if (r->json)
        rc = print_json(r, &a, &total, by, since);
    else if (csv)
        rc = print_csv(r, &a, by);
    else
        rc = print_table(r, &a, &total, by, since);
    free(a.g);
    ledger_node_list_free(&list);
    return rc;
}
