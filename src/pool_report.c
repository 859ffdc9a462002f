/* pool_report: see pool_report.h. */
#include "pool_report.h"

#include <json-c/json.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *cb_pool_node_state(const struct cb_pool_node *node)
{
    if (node->draining)
        return "draining";
    return node->busy ? "busy" : "idle";
}

struct cloud_sum {
    uint64_t jobs, cpus, memory_mb;
};

static void sum_by_cloud(const struct cb_demand *d, size_t n_clouds, struct cloud_sum *sums)
{
    memset(sums, 0, n_clouds * sizeof *sums);
    for (size_t i = 0; i < d->n; i++) {
        const struct cb_job_shape *s = &d->shapes[i];
        for (size_t c = 0; c < n_clouds; c++) {
            if (!(s->clouds & ((cb_cloud_mask)1 << c)))
                continue;
            sums[c].jobs += s->count;
            sums[c].cpus += (uint64_t)s->cpus * s->count;
            sums[c].memory_mb += s->memory_mb * s->count;
        }
    }
}

/* "-" for unknown, else the number. */
static const char *time_text(int64_t t, char *buf, size_t size)
{
    if (t < 0)
        return "-";
    snprintf(buf, size, "%" PRId64, t);
    return buf;
}

static void clouds_text(cb_cloud_mask m, const char *const *names, size_t n, char *buf,
                        size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t c = 0; c < n && o < size; c++)
        if (m & ((cb_cloud_mask)1 << c))
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o > 0 ? "," : "", names[c]);
}

static int write_table(const struct cb_demand *d, const struct cb_supply *s,
                       const struct cb_pool_stats *st, const char *const *names, size_t n_clouds,
                       const struct cloud_sum *sums, FILE *out)
{
    char b1[32], b2[32], b3[32], clouds[512];

    fprintf(out, "Demand: %" PRIu64 " idle job%s in %zu shape%s", d->idle_jobs,
            d->idle_jobs == 1 ? "" : "s", d->n, d->n == 1 ? "" : "s");
    if (st != NULL && st->jobs_skipped > 0)
        fprintf(out, " (%" PRIu64 " skipped: no cloud eligible or not runnable)",
                st->jobs_skipped);
    fprintf(out, "\n");
    if (d->partial)
        fprintf(out, "  PARTIAL: %s\n", d->partial_reason);
    if (d->n > 0) {
        fprintf(out, "  %8s %5s %10s %12s %9s %12s  %s\n", "JOBS", "CPUS", "MEMORY_MB",
                "DISK_KB", "RUNTIME", "OLDEST_QDATE", "CLOUDS");
        for (size_t i = 0; i < d->n; i++) {
            const struct cb_job_shape *sh = &d->shapes[i];
            clouds_text(sh->clouds, names, n_clouds, clouds, sizeof clouds);
            fprintf(out, "  %8" PRIu32 " %5" PRIu32 " %10" PRIu64 " %12" PRIu64 " %9s %12s  %s\n",
                    sh->count, sh->cpus, sh->memory_mb, sh->disk_kb,
                    time_text(sh->runtime_s, b1, sizeof b1),
                    time_text(sh->oldest_qdate, b2, sizeof b2), clouds);
        }
    }
    fprintf(out, "\nDemand by cloud:\n  %-24s %8s %8s %12s\n", "CLOUD", "JOBS", "CPUS",
            "MEMORY_MB");
    for (size_t c = 0; c < n_clouds; c++)
        fprintf(out, "  %-24s %8" PRIu64 " %8" PRIu64 " %12" PRIu64 "\n", names[c], sums[c].jobs,
                sums[c].cpus, sums[c].memory_mb);

    fprintf(out, "\nCloud nodes: %zu\n", s->n);
    if (s->partial)
        fprintf(out, "  PARTIAL: %s\n", s->partial_reason);
    if (s->n > 0) {
        fprintf(out, "  %-32s %-8s %-12s %-20s %9s %13s %6s %11s %11s %11s %11s\n", "MACHINE",
                "STATE", "CLOUD", "INSTANCE", "CPUS_IDLE", "MEM_IDLE_MB", "SLOTS",
                "CLAIMED", "IDLE_SINCE", "EMPTY_AT", "HEARD");
        for (size_t i = 0; i < s->n; i++) {
            const struct cb_pool_node *n = &s->nodes[i];
            char cpus[32], mem[48];
            snprintf(cpus, sizeof cpus, "%" PRIu32 "/%" PRIu32, n->idle_cpus, n->total_cpus);
            snprintf(mem, sizeof mem, "%" PRIu64 "/%" PRIu64, n->idle_memory_mb,
                     n->total_memory_mb);
            fprintf(out,
                    "  %-32s %-8s %-12s %-20s %9s %13s %6" PRIu32 " %11" PRIu32
                    " %11s %11s %11s\n",
                    n->machine, cb_pool_node_state(n), n->cloud[0] ? n->cloud : "-",
                    n->instance_id[0] ? n->instance_id : "-", cpus, mem, n->slots,
                    n->claimed_slots, time_text(n->idle_since, b1, sizeof b1),
                    time_text(n->expected_empty_at, b2, sizeof b2),
                    time_text(n->last_heard_from, b3, sizeof b3));
        }
    }
    return 0;
}

/* json-c objects: every add is checked; one failure path. */
struct jb {
    bool oom;
};

static void jadd(struct jb *b, json_object *o, const char *key, json_object *v)
{
    if (v == NULL || json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        b->oom = true;
    }
}

static void jpush(struct jb *b, json_object *a, json_object *v)
{
    if (v == NULL || json_object_array_add(a, v) != 0) {
        json_object_put(v);
        b->oom = true;
    }
}

static json_object *build_json(const struct cb_demand *d, const struct cb_supply *s,
                               const struct cb_pool_stats *st, const char *const *names,
                               size_t n_clouds, const struct cloud_sum *sums, struct jb *b)
{
    json_object *root = json_object_new_object();
    json_object *dem = json_object_new_object();
    json_object *shapes = json_object_new_array();
    json_object *byc = json_object_new_array();
    json_object *sup = json_object_new_object();
    json_object *nodes = json_object_new_array();
    if (root == NULL || dem == NULL || shapes == NULL || byc == NULL || sup == NULL ||
        nodes == NULL) {
        json_object_put(root);
        json_object_put(dem);
        json_object_put(shapes);
        json_object_put(byc);
        json_object_put(sup);
        json_object_put(nodes);
        b->oom = true;
        return NULL;
    }
    jadd(b, root, "demand", dem);
    jadd(b, root, "supply", sup);
    jadd(b, dem, "idle_jobs", json_object_new_uint64(d->idle_jobs));
    jadd(b, dem, "partial", json_object_new_boolean(d->partial));
    jadd(b, dem, "partial_reason", json_object_new_string(d->partial ? d->partial_reason : ""));
    jadd(b, dem, "skipped_jobs", json_object_new_uint64(st != NULL ? st->jobs_skipped : 0));
    for (size_t i = 0; i < d->n; i++) {
        const struct cb_job_shape *sh = &d->shapes[i];
        json_object *o = json_object_new_object();
        json_object *cl = json_object_new_array();
        if (o == NULL || cl == NULL) {
            json_object_put(o);
            json_object_put(cl);
            b->oom = true;
            break;
        }
        jadd(b, o, "jobs", json_object_new_int64(sh->count));
        jadd(b, o, "cpus", json_object_new_int64(sh->cpus));
        jadd(b, o, "memory_mb", json_object_new_uint64(sh->memory_mb));
        jadd(b, o, "disk_kb", json_object_new_uint64(sh->disk_kb));
        jadd(b, o, "runtime_s", json_object_new_int64(sh->runtime_s));
        jadd(b, o, "oldest_qdate", json_object_new_int64(sh->oldest_qdate));
        for (size_t c = 0; c < n_clouds; c++)
            if (sh->clouds & ((cb_cloud_mask)1 << c))
                jpush(b, cl, json_object_new_string(names[c]));
        jadd(b, o, "clouds", cl);
        jpush(b, shapes, o);
    }
    jadd(b, dem, "shapes", shapes);
    for (size_t c = 0; c < n_clouds; c++) {
        json_object *o = json_object_new_object();
        if (o == NULL) {
            b->oom = true;
            break;
        }
        jadd(b, o, "cloud", json_object_new_string(names[c]));
        jadd(b, o, "jobs", json_object_new_uint64(sums[c].jobs));
        jadd(b, o, "cpus", json_object_new_uint64(sums[c].cpus));
        jadd(b, o, "memory_mb", json_object_new_uint64(sums[c].memory_mb));
        jpush(b, byc, o);
    }
    jadd(b, dem, "by_cloud", byc);

    jadd(b, sup, "partial", json_object_new_boolean(s->partial));
    jadd(b, sup, "partial_reason", json_object_new_string(s->partial ? s->partial_reason : ""));
    for (size_t i = 0; i < s->n; i++) {
        const struct cb_pool_node *n = &s->nodes[i];
        json_object *o = json_object_new_object();
        if (o == NULL) {
            b->oom = true;
            break;
        }
        jadd(b, o, "machine", json_object_new_string(n->machine));
        jadd(b, o, "state", json_object_new_string(cb_pool_node_state(n)));
        jadd(b, o, "cloud", json_object_new_string(n->cloud));
        jadd(b, o, "node_id", json_object_new_string(n->node_id));
        jadd(b, o, "instance_id", json_object_new_string(n->instance_id));
        jadd(b, o, "cpus", json_object_new_int64(n->total_cpus));
        jadd(b, o, "idle_cpus", json_object_new_int64(n->idle_cpus));
        jadd(b, o, "memory_mb", json_object_new_uint64(n->total_memory_mb));
        jadd(b, o, "idle_memory_mb", json_object_new_uint64(n->idle_memory_mb));
        jadd(b, o, "disk_kb", json_object_new_uint64(n->total_disk_kb));
        jadd(b, o, "idle_disk_kb", json_object_new_uint64(n->idle_disk_kb));
        jadd(b, o, "slots", json_object_new_int64(n->slots));
        jadd(b, o, "claimed_slots", json_object_new_int64(n->claimed_slots));
        jadd(b, o, "busy", json_object_new_boolean(n->busy));
        jadd(b, o, "draining", json_object_new_boolean(n->draining));
        jadd(b, o, "last_heard_from", json_object_new_int64(n->last_heard_from));
        jadd(b, o, "daemon_start_time", json_object_new_int64(n->daemon_start_time));
        jadd(b, o, "idle_since", json_object_new_int64(n->idle_since));
        jadd(b, o, "expected_empty_at", json_object_new_int64(n->expected_empty_at));
        jpush(b, nodes, o);
    }
    jadd(b, sup, "nodes", nodes);
    return root;
}

int cb_pool_report_write(const struct cb_demand *d, const struct cb_supply *s,
                         const struct cb_pool_stats *st, const char *const *names,
                         size_t n_clouds, FILE *out, bool json, struct cb_err *err)
{
    if (n_clouds > CB_MAX_CLOUDS)
        return cb_err_set(err, CB_ERR_INVALID, "pool", "more than %d clouds", CB_MAX_CLOUDS);
    struct cloud_sum sums[CB_MAX_CLOUDS];
    sum_by_cloud(d, n_clouds, sums);
    if (json) {
        struct jb b = {false};
        json_object *root = build_json(d, s, st, names, n_clouds, sums, &b);
        if (root == NULL || b.oom) {
            json_object_put(root);
            return cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
        }
        const char *text =
            json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
        if (text == NULL) {
            json_object_put(root);
            return cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
        }
        fputs(text, out);
        fputc('\n', out);
        json_object_put(root);
    } else {
        write_table(d, s, st, names, n_clouds, sums, out);
    }
    if (fflush(out) != 0 || ferror(out))
        return cb_err_set(err, CB_ERR_IO, "pool", "cannot write the report");
    return 0;
}

int cb_pool_report(const struct cb_pool_options *opts, FILE *out, bool json, struct cb_err *err)
{
    struct cb_pool *pool;
    if (cb_pool_new(&pool, opts, err) != 0)
        return -1;
    struct cb_demand d;
    struct cb_supply s;
    struct cb_pool_stats st;
    int rc = cb_pool_query_sync(pool, &d, &s, &st, err);
    if (rc == 0) {
        size_t n = cb_pool_n_clouds(pool);
        const char *names[CB_MAX_CLOUDS];
        for (size_t i = 0; i < n; i++)
            names[i] = cb_pool_cloud_name(pool, i);
        rc = cb_pool_report_write(&d, &s, &st, names, n, out, json, err);
        cb_demand_free(&d);
        cb_supply_free(&s);
    }
    cb_pool_free(pool);
    return rc;
}
