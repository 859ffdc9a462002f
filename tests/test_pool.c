/* test_pool: the HTCondor pool adapter against fake condor tools that check
 * their arguments and replay real recorded output (tests/pool/fake_condor.py,
 * cases in tests/data/pool/, data in tests/fixtures/htcondor/), plus the
 * parsers on their own. Every recorded case's observation is asserted field
 * by field. */
#include "pool.h"
#include "pool_parse.h"
#include "pool_report.h"

#include <check.h>
#include <json-c/json.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tool_q[PATH_MAX], tool_status[PATH_MAX], tool_drain[PATH_MAX];
static char log_path[PATH_MAX + 32];
static char tmp_dir[PATH_MAX];

/* Checked teardown: remove the call log and its directory. */
static void cleanup_tmp(void)
{
    if (tmp_dir[0] != '\0') {
        unlink(log_path);
        rmdir(tmp_dir);
        tmp_dir[0] = '\0';
    }
}

static const char *srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s != NULL ? s : ".";
}

/* Point the fakes at a case file; each Check test runs in its own process. */
static void use_case(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tests/data/pool/%s.case", srcdir(), name);
    ck_assert_msg(access(path, R_OK) == 0, "missing case %s", path);
    setenv("FAKE_CONDOR_CASE", path, 1);
    snprintf(tool_q, sizeof tool_q, "%s/tests/pool/condor_q", srcdir());
    snprintf(tool_status, sizeof tool_status, "%s/tests/pool/condor_status", srcdir());
    snprintf(tool_drain, sizeof tool_drain, "%s/tests/pool/condor_drain", srcdir());
    cleanup_tmp();
    const char *t = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/test_pool.XXXXXX", t != NULL && t[0] ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
    snprintf(log_path, sizeof log_path, "%s/calls.log", tmp_dir);
    setenv("FAKE_CONDOR_LOG", log_path, 1);
}

static int log_lines(void)
{
    FILE *f = fopen(log_path, "r");
    int n = 0, c;
    if (f == NULL)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static const char *const elig1[] = {"WantCloud =?= True"};
static const char *const elig2[] = {"WantCloud =?= True", "RequestDisk < 1000"};
static const char *const names2[] = {"ec2-east", "openstack-t2"};
static const char *const two_schedds[] = {"schedd-a", "schedd-b"};
static const char *const drain_args[] = {"-reason", "cloudburst scale-in"};

static struct cb_pool_options opts_1cloud(void)
{
    struct cb_pool_options o;
    memset(&o, 0, sizeof o);
    o.condor_q = tool_q;
    o.condor_status = tool_status;
    o.condor_drain = tool_drain;
    o.timeout_ms = 30000;
    o.eligibility = elig1;
    o.n_clouds = 1;
    o.drain_args = drain_args;
    o.n_drain_args = 2;
    return o;
}

static struct cb_pool_options opts_2schedds(void)
{
    struct cb_pool_options o = opts_1cloud();
    o.collector = "cm.example.org:9618";
    o.schedds = two_schedds;
    o.n_schedds = 2;
    o.eligibility = elig2;
    o.cloud_names = names2;
    o.n_clouds = 2;
    return o;
}

struct obs {
    struct cb_demand d;
    struct cb_supply s;
    struct cb_pool_stats st;
    struct cb_err err;
    int rc;
};

static struct obs observe(const char *case_name, struct cb_pool_options o)
{
    struct obs r;
    struct cb_pool *pool;
    memset(&r, 0, sizeof r);
    use_case(case_name);
    ck_assert_int_eq(cb_pool_new(&pool, &o, &r.err), 0);
    r.rc = cb_pool_query_sync(pool, &r.d, &r.s, &r.st, &r.err);
    cb_pool_free(pool);
    return r;
}

static void obs_free(struct obs *r)
{
    cb_demand_free(&r->d);
    cb_supply_free(&r->s);
}

static void assert_shape(const struct cb_job_shape *s, uint32_t count, uint32_t cpus,
                         uint64_t mem, uint64_t disk, int64_t runtime, cb_cloud_mask clouds,
                         int64_t oldest)
{
    ck_assert_uint_eq(s->count, count);
    ck_assert_uint_eq(s->cpus, cpus);
    ck_assert_uint_eq(s->memory_mb, mem);
    ck_assert_uint_eq(s->disk_kb, disk);
    ck_assert_int_eq(s->runtime_s, runtime);
    ck_assert_uint_eq(s->clouds, clouds);
    ck_assert_int_eq(s->oldest_qdate, oldest);
}

struct node_expect {
    const char *machine, *node_id, *instance_id, *cloud;
    uint32_t total_cpus, idle_cpus;
    uint64_t total_mem, idle_mem, total_disk, idle_disk;
    uint32_t slots, claimed;
    bool busy, draining;
    int64_t heard, started, idle_since, empty_at;
};

static void assert_node(const struct cb_pool_node *n, const struct node_expect *e)
{
    ck_assert_str_eq(n->machine, e->machine);
    ck_assert_str_eq(n->node_id, e->node_id);
    ck_assert_str_eq(n->instance_id, e->instance_id);
    ck_assert_str_eq(n->cloud, e->cloud);
    ck_assert_uint_eq(n->total_cpus, e->total_cpus);
    ck_assert_uint_eq(n->idle_cpus, e->idle_cpus);
    ck_assert_uint_eq(n->total_memory_mb, e->total_mem);
    ck_assert_uint_eq(n->idle_memory_mb, e->idle_mem);
    ck_assert_uint_eq(n->total_disk_kb, e->total_disk);
    ck_assert_uint_eq(n->idle_disk_kb, e->idle_disk);
    ck_assert_uint_eq(n->slots, e->slots);
    ck_assert_uint_eq(n->claimed_slots, e->claimed);
    ck_assert(n->busy == e->busy);
    ck_assert(n->draining == e->draining);
    ck_assert_int_eq(n->last_heard_from, e->heard);
    ck_assert_int_eq(n->daemon_start_time, e->started);
    ck_assert_int_eq(n->idle_since, e->idle_since);
    ck_assert_int_eq(n->expected_empty_at, e->empty_at);
}

/* The real pool's one startd while both cores run jobs (20_/21_ captures). */
static const struct node_expect vm_busy = {
    "vm", "", "i-localtest-0001", "", 2, 0, 24105, 23849, 81129928, 81107401, 3, 2, true,
    false, 1795320255, 1795320193, -1, -1};

/* ---- recorded cases, end to end ------------------------------------- */

START_TEST(case_main_snapshot)
{
    struct obs r = observe("main-snapshot", opts_1cloud());
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert_uint_eq(r.d.n, 1);
    ck_assert_uint_eq(r.d.idle_jobs, 2);
    ck_assert(!r.d.partial);
    assert_shape(&r.d.shapes[0], 2, 1, 64, 10240, -1, 1, 1795320227);
    ck_assert_uint_eq(r.s.n, 1);
    ck_assert(!r.s.partial);
    assert_node(&r.s.nodes[0], &vm_busy);
    ck_assert_uint_eq(r.st.jobs_seen, 2);
    ck_assert_uint_eq(r.st.jobs_skipped, 0);
    ck_assert_uint_eq(r.st.slot_ads, 3);
    ck_assert_uint_eq(r.st.startd_ads, 1);
    ck_assert_uint_eq(r.st.tools_run, 3);
    ck_assert(!r.st.projection_skipped);
    ck_assert_int_eq(log_lines(), 3);
    obs_free(&r);
}
END_TEST

static const struct node_expect ingwe_static = {
    "ingwe.cs.wisc.edu", "", "", "", 4, 2, 15940, 7970, 65738380, 32869120, 4, 2, true, false,
    1417808269, 1417808219, -1, -1};

START_TEST(case_two_schedds_two_clouds)
{
    struct obs r = observe("two-schedds-two-clouds", opts_2schedds());
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert_uint_eq(r.d.n, 2);
    ck_assert_uint_eq(r.d.idle_jobs, 4);
    ck_assert(!r.d.partial);
    /* 3.1 and 3.2 from schedd-a; 4.0 from both schedds merged into one shape. */
    assert_shape(&r.d.shapes[0], 2, 1, 64, 45, -1, 2, 1795320227);
    assert_shape(&r.d.shapes[1], 2, 1, 64, 10240, -1, 1, 1795320227);
    ck_assert_uint_eq(r.s.n, 1);
    ck_assert(!r.s.partial);
    assert_node(&r.s.nodes[0], &ingwe_static);
    ck_assert_uint_eq(r.st.startd_ads, 0);
    ck_assert_uint_eq(r.st.tools_run, 4);
    obs_free(&r);
}
END_TEST

static const struct node_expect ingwe_pslot8 = {
    "ingwe.cs.wisc.edu", "", "", "", 8, 4, 15940, 15428, 65737856, 63107953, 5, 4, true, false,
    1417808323, 1417808273, -1, -1};

START_TEST(case_schedd_down)
{
    struct obs r = observe("schedd-down", opts_2schedds());
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert(r.d.partial);
    ck_assert_msg(strstr(r.d.partial_reason, "condor_q -name schedd-b exited with status 1") !=
                      NULL && strstr(r.d.partial_reason, "Error: (null)") != NULL,
                  "%s", r.d.partial_reason);
    ck_assert_uint_eq(r.d.n, 2);
    ck_assert_uint_eq(r.d.idle_jobs, 3);
    assert_shape(&r.d.shapes[0], 2, 1, 64, 10240, -1, 1, 1795320227);
    assert_shape(&r.d.shapes[1], 1, 1, 64, 45, -1, 2, 1795320227);
    ck_assert(!r.s.partial);
    ck_assert_uint_eq(r.s.n, 1);
    assert_node(&r.s.nodes[0], &ingwe_pslot8);
    obs_free(&r);
}
END_TEST

START_TEST(case_global_fetch_failed)
{
    struct obs r = observe("global-fetch-failed", opts_1cloud());
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert(r.d.partial);
    ck_assert_msg(strstr(r.d.partial_reason, "Failed to fetch ads from") != NULL &&
                      strstr(r.d.partial_reason, "schedd-b") != NULL,
                  "%s", r.d.partial_reason);
    ck_assert_uint_eq(r.d.n, 1);
    assert_shape(&r.d.shapes[0], 2, 1, 64, 10240, -1, 1, 1795320227);
    /* Projected without Machine/TotalSlotCpus: Machine comes from the slot name,
     * totals default to what the slot has. */
    static const struct node_expect vm33 = {"vm", "", "", "", 0, 0, 0, 0, 0, 0, 3, 2, true,
                                            false, -1, 1795320193, -1, -1};
    ck_assert_uint_eq(r.s.n, 1);
    assert_node(&r.s.nodes[0], &vm33);
    obs_free(&r);
}
END_TEST

START_TEST(case_supply_failures)
{
    struct obs r = observe("supply-failures", opts_1cloud());
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert(!r.d.partial);
    assert_shape(&r.d.shapes[0], 2, 1, 64, 10240, -1, 1, 1795320227);
    ck_assert(r.s.partial);
    ck_assert_msg(strstr(r.s.partial_reason, "condor_status") != NULL &&
                      strstr(r.s.partial_reason, "exited with status 1") != NULL,
                  "%s", r.s.partial_reason);
    ck_assert_uint_eq(r.s.n, 1);
    assert_node(&r.s.nodes[0], &vm_busy);
    ck_assert_uint_eq(r.st.startd_ads, 0);
    obs_free(&r);
}
END_TEST

START_TEST(case_empty_queue)
{
    struct obs r = observe("empty-queue", opts_1cloud());
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert_uint_eq(r.d.n, 0);
    ck_assert_uint_eq(r.d.idle_jobs, 0);
    ck_assert(!r.d.partial);
    ck_assert_uint_eq(r.s.n, 0);
    ck_assert(!r.s.partial);
    ck_assert_uint_eq(r.st.jobs_seen, 0);
    obs_free(&r);
}
END_TEST

START_TEST(case_pool_down)
{
    struct obs r = observe("pool-down", opts_1cloud());
    ck_assert_int_eq(r.rc, -1);
    ck_assert_int_eq(r.err.code, CB_ERR_TRANSIENT);
    ck_assert_msg(strstr(r.err.msg, "exited with status 1") != NULL &&
                      strstr(r.err.msg, "down") != NULL,
                  "%s", r.err.msg);
    ck_assert_uint_eq(r.d.n, 0);
    ck_assert_uint_eq(r.s.n, 0);
    ck_assert_ptr_null(r.d.shapes);
    ck_assert_ptr_null(r.s.nodes);
    obs_free(&r);
}
END_TEST

START_TEST(case_draining)
{
    struct obs r = observe("draining", opts_1cloud());
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert_uint_eq(r.d.n, 0);
    static const struct node_expect vm34 = {"vm", "", "", "", 2, 2, 0, 0, 0, 0, 1, 0, false,
                                            true, -1, 1795320193, -1, -1};
    ck_assert_uint_eq(r.s.n, 1);
    assert_node(&r.s.nodes[0], &vm34);
    ck_assert_str_eq(cb_pool_node_state(&r.s.nodes[0]), "draining");
    obs_free(&r);
}
END_TEST

START_TEST(case_garbled)
{
    struct obs r = observe("garbled", opts_1cloud());
    ck_assert_int_eq(r.rc, -1);
    ck_assert_int_eq(r.err.code, CB_ERR_INVALID);
    ck_assert_str_eq(r.err.origin, "condor_q -global:2");
    ck_assert_msg(strstr(r.err.msg, "9 of 12") != NULL, "%s", r.err.msg);
    obs_free(&r);
}
END_TEST

START_TEST(case_truncated_af)
{
    struct obs r = observe("truncated-af", opts_1cloud());
    ck_assert_int_eq(r.rc, -1);
    ck_assert_int_eq(r.err.code, CB_ERR_INVALID);
    ck_assert_str_eq(r.err.origin, "condor_q -global:2");
    ck_assert_msg(strstr(r.err.msg, "truncated") != NULL, "%s", r.err.msg);
    obs_free(&r);
}
END_TEST

START_TEST(case_truncated_json)
{
    struct obs r = observe("truncated-json", opts_1cloud());
    ck_assert_int_eq(r.rc, -1);
    ck_assert_int_eq(r.err.code, CB_ERR_INVALID);
    ck_assert_msg(strncmp(r.err.origin, "condor_status:", 14) == 0, "%s", r.err.origin);
    ck_assert_msg(strstr(r.err.msg, "truncated") != NULL, "%s", r.err.msg);
    obs_free(&r);
}
END_TEST

START_TEST(case_hung_tool)
{
    struct cb_pool_options o = opts_1cloud();
    o.timeout_ms = 1500;
    struct obs r = observe("hung", o);
    ck_assert_int_eq(r.rc, -1);
    ck_assert_int_eq(r.err.code, CB_ERR_TIMEOUT);
    ck_assert_msg(strstr(r.err.msg, "condor_q -global did not finish within 1500 ms") != NULL,
                  "%s", r.err.msg);
    ck_assert_uint_eq(r.d.n, 0);
    obs_free(&r);
}
END_TEST

START_TEST(case_totals_empty)
{
    struct cb_pool_options o = opts_1cloud();
    o.totals_first = true;
    struct obs r = observe("totals-empty", o);
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert(r.st.projection_skipped);
    ck_assert_uint_eq(r.st.totals_idle, 0);
    ck_assert_uint_eq(r.d.n, 0);
    ck_assert(!r.d.partial);
    ck_assert_int_eq(log_lines(), 3); /* totals + 2 condor_status, no projection */
    ck_assert_uint_eq(r.s.n, 1);
    assert_node(&r.s.nodes[0], &vm_busy);
    obs_free(&r);
}
END_TEST

START_TEST(case_totals_idle)
{
    struct cb_pool_options o = opts_1cloud();
    o.totals_first = true;
    struct obs r = observe("totals-idle", o);
    ck_assert_msg(r.rc == 0, "%s: %s", r.err.origin, r.err.msg);
    ck_assert(!r.st.projection_skipped);
    ck_assert_uint_eq(r.st.totals_idle, 3);
    ck_assert_int_eq(log_lines(), 4);
    ck_assert_uint_eq(r.d.n, 1);
    assert_shape(&r.d.shapes[0], 2, 1, 64, 10240, -1, 1, 1795320227);
    assert_node(&r.s.nodes[0], &vm_busy);
    obs_free(&r);
}
END_TEST

START_TEST(case_drain)
{
    struct cb_pool *pool;
    struct cb_err err = CB_ERR_INIT;
    struct cb_pool_options o = opts_1cloud();
    struct cb_demand d;
    struct cb_supply s;
    char target[CB_HOST_MAX];

    use_case("drain");
    ck_assert_int_eq(cb_pool_new(&pool, &o, &err), 0);
    /* Before any observation, a bare host name cannot be drained (finding 6). */
    ck_assert_int_eq(cb_pool_drain_sync(pool, "vm", false, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "cannot resolve") != NULL, "%s", err.msg);
    ck_assert_int_eq(log_lines(), 0);
    cb_err_clear(&err);

    ck_assert_int_eq(cb_pool_query_sync(pool, &d, &s, NULL, &err), 0);
    ck_assert_int_eq(cb_pool_drain_target(pool, "vm", target, sizeof target, &err), 0);
    ck_assert_str_eq(target, "slot1@vm");
    ck_assert_msg(cb_pool_drain_sync(pool, "vm", false, &err) == 0, "%s", err.msg);
    ck_assert_msg(cb_pool_drain_sync(pool, "vm", true, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cb_pool_drain_sync(pool, "no-such-host.example", false, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_msg(strstr(err.msg, "Can't find address for startd no-such-host.example") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(log_lines(), 6);
    cb_demand_free(&d);
    cb_supply_free(&s);
    cb_pool_free(pool);
}
END_TEST

START_TEST(case_drain_pool_down)
{
    struct cb_pool *pool;
    struct cb_err err = CB_ERR_INIT;
    struct cb_pool_options o = opts_1cloud();
    use_case("drain-pool-down");
    ck_assert_int_eq(cb_pool_new(&pool, &o, &err), 0);
    ck_assert_int_eq(cb_pool_drain_sync(pool, "slot1@vm.example.org", false, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_TRANSIENT);
    ck_assert_msg(strstr(err.msg, "condor_drain exited with status 1: ERROR: (null)") != NULL,
                  "%s", err.msg);
    cb_pool_free(pool);
}
END_TEST

START_TEST(tool_missing)
{
    struct cb_pool_options o = opts_1cloud();
    use_case("main-snapshot");
    o.condor_q = "/nonexistent/condor_q";
    struct cb_pool *pool;
    struct obs r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(cb_pool_new(&pool, &o, &r.err), 0);
    ck_assert_int_eq(cb_pool_query_sync(pool, &r.d, &r.s, NULL, &r.err), -1);
    ck_assert_int_eq(r.err.code, CB_ERR_PERMANENT);
    ck_assert_msg(strstr(r.err.msg, "cannot run /nonexistent/condor_q") != NULL, "%s",
                  r.err.msg);
    cb_pool_free(pool);
}
END_TEST

/* The async API on the caller's loop: two pools at once, one hung, the other
 * answers; a second query on a busy pool is refused. */
struct async_res {
    int calls, status;
    enum cb_errcode code;
    size_t shapes, nodes;
};

static void async_cb(void *payload, int status, struct cb_demand *d, struct cb_supply *s,
                     const struct cb_pool_stats *st, const struct cb_err *err)
{
    struct async_res *r = payload;
    (void)st;
    r->calls++;
    r->status = status;
    r->code = err != NULL ? err->code : CB_OK;
    r->shapes = d->n;
    r->nodes = s->n;
    cb_demand_free(d);
    cb_supply_free(s);
}

START_TEST(async_two_pools_one_hung)
{
    uv_loop_t loop;
    struct cb_err err = CB_ERR_INIT;
    struct cb_pool *good, *hung;
    struct async_res rg = {0}, rh = {0};
    char q_hung[PATH_MAX];

    use_case("main-snapshot");
    struct cb_pool_options o = opts_1cloud();
    ck_assert_int_eq(cb_pool_new(&good, &o, &err), 0);
    /* The hung pool's condor_q is a shell that never answers. */
    snprintf(q_hung, sizeof q_hung, "%s/tests/pool/hang", srcdir());
    o.condor_q = q_hung;
    o.timeout_ms = 1000;
    ck_assert_int_eq(cb_pool_new(&hung, &o, &err), 0);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(cb_pool_query_start(hung, &loop, async_cb, &rh, &err), 0);
    ck_assert_int_eq(cb_pool_query_start(good, &loop, async_cb, &rg, &err), 0);
    ck_assert_int_eq(cb_pool_query_start(good, &loop, async_cb, &rg, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_BUSY);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    ck_assert_int_eq(rg.calls, 1);
    ck_assert_int_eq(rg.status, 0);
    ck_assert_uint_eq(rg.shapes, 1);
    ck_assert_uint_eq(rg.nodes, 1);
    ck_assert_int_eq(rh.calls, 1);
    ck_assert_int_eq(rh.status, -1);
    ck_assert_int_eq(rh.code, CB_ERR_TIMEOUT);
    cb_pool_free(good);
    cb_pool_free(hung);
}
END_TEST

/* ---- options and argument vectors ------------------------------------ */

START_TEST(argv_exact)
{
    struct cb_pool *pool;
    struct cb_err err = CB_ERR_INIT;
    use_case("main-snapshot");
    struct cb_pool_options o = opts_2schedds();
    o.runtime_attribute = "MyRuntime";
    o.cloud_attribute = "IsTestNode";
    ck_assert_int_eq(cb_pool_new(&pool, &o, &err), 0);
    char **v = cb_pool_argv(pool, "demand", 1, &err);
    ck_assert_ptr_nonnull(v);
    const char *want[] = {tool_q, "-allusers", "-name", "schedd-b", "-pool",
                          "cm.example.org:9618", "-constraint",
                          "JobStatus == 1 && ((WantCloud =?= True) || (RequestDisk < 1000))",
                          "-af:t", "ClusterId", "ProcId", "RequestCpus", "RequestMemory",
                          "RequestDisk", "QDate", "Owner", "JobUniverse", "MyRuntime",
                          "(WantCloud =?= True) =?= true", "(RequestDisk < 1000) =?= true", NULL};
    for (size_t i = 0; want[i] != NULL; i++) {
        ck_assert_ptr_nonnull(v[i]);
        ck_assert_str_eq(v[i], want[i]);
    }
    ck_assert_ptr_null(v[20]);
    cb_pool_argv_free(v);
    v = cb_pool_argv(pool, "startd", 0, &err);
    const char *want2[] = {tool_status, "-startd", "-pool", "cm.example.org:9618", "-constraint",
                           "IsTestNode =?= True", "-json", "-attributes",
                           "Name,Machine,Draining,DrainReason,DaemonStartTime", NULL};
    for (size_t i = 0; want2[i] != NULL; i++)
        ck_assert_str_eq(v[i], want2[i]);
    ck_assert_ptr_null(v[9]);
    cb_pool_argv_free(v);
    v = cb_pool_argv(pool, "slots", 0, &err);
    ck_assert_ptr_nonnull(strstr(v[7], ",JobStart,MyRuntime"));
    cb_pool_argv_free(v);
    ck_assert_ptr_null(cb_pool_argv(pool, "demand", 2, &err));
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_pool_free(pool);
}
END_TEST

START_TEST(options_rejected)
{
    struct cb_pool *pool;
    struct cb_err err = CB_ERR_INIT;
    struct cb_pool_options o = opts_1cloud();
    static const char *const bad[] = {"True) || (True", "(WantCloud", "\"unterminated",
                                      "a\nb", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *e[] = {bad[i]};
        o.eligibility = e;
        cb_err_clear(&err);
        ck_assert_int_eq(cb_pool_new(&pool, &o, &err), -1);
        ck_assert_int_eq(err.code, CB_ERR_INVALID);
        ck_assert_str_eq(err.origin, "pool.eligibility[0]");
        ck_assert_ptr_null(pool);
    }
    /* Parentheses inside a string literal do not count. */
    const char *ok[] = {"Owner == \"a)b\" && (X =?= True)"};
    o.eligibility = ok;
    ck_assert_int_eq(cb_pool_new(&pool, &o, &err), 0);
    cb_pool_free(pool);
    o = opts_1cloud();
    o.cloud_attribute = "Is Cloud";
    cb_err_clear(&err);
    ck_assert_int_eq(cb_pool_new(&pool, &o, &err), -1);
    ck_assert_str_eq(err.origin, "pool.cloud_attribute");
    o = opts_1cloud();
    o.runtime_attribute = "1abc";
    cb_err_clear(&err);
    ck_assert_int_eq(cb_pool_new(&pool, &o, &err), -1);
    ck_assert_str_eq(err.origin, "pool.runtime_attribute");
    o = opts_1cloud();
    const char *sch[] = {"-global"};
    o.schedds = sch;
    o.n_schedds = 1;
    cb_err_clear(&err);
    ck_assert_int_eq(cb_pool_new(&pool, &o, &err), -1);
    ck_assert_str_eq(err.origin, "pool.schedds");
    o = opts_1cloud();
    o.n_clouds = 0;
    cb_err_clear(&err);
    ck_assert_int_eq(cb_pool_new(&pool, &o, &err), -1);
}
END_TEST

/* ---- parsers on their own ------------------------------------------- */

static char *slurp(const char *rel, size_t *len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tests/fixtures/htcondor/%s", srcdir(), rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = malloc(1 << 20);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* Feeding one byte at a time gives the same observation as one chunk. */
START_TEST(stream_byte_by_byte)
{
    size_t len;
    char *text = slurp("real-pool-25.0/20_condor_status_json.out", &len);
    struct cb_err err = CB_ERR_INIT;
    struct cb_supply s1 = {0}, s2 = {0};
    struct pool_supply_builder b1, b2;
    struct pool_json_stream j1, j2;
    ck_assert_int_eq(pool_supply_init(&b1, &s1, NULL, &err), 0);
    ck_assert_int_eq(pool_supply_init(&b2, &s2, NULL, &err), 0);
    ck_assert_int_eq(pool_json_init(&j1, "condor_status", pool_supply_slot_ad, &b1, &err), 0);
    ck_assert_int_eq(pool_json_init(&j2, "condor_status", pool_supply_slot_ad, &b2, &err), 0);
    ck_assert_int_eq(pool_json_feed(&j1, text, len, &err), 0);
    for (size_t i = 0; i < len; i++)
        ck_assert_int_eq(pool_json_feed(&j2, text + i, 1, &err), 0);
    ck_assert_int_eq(pool_json_finish(&j1, &err), 0);
    ck_assert_int_eq(pool_json_finish(&j2, &err), 0);
    ck_assert_uint_eq(j1.ads, 3);
    ck_assert_uint_eq(j2.ads, 3);
    pool_supply_finish(&b1);
    pool_supply_finish(&b2);
    ck_assert_uint_eq(s1.n, 1);
    ck_assert_int_eq(memcmp(s1.nodes, s2.nodes, sizeof *s1.nodes), 0);
    ck_assert_str_eq(pool_supply_extra(&b1, 0)->drain_target, "slot1@vm");
    assert_node(&s1.nodes[0], &vm_busy);
    pool_json_free(&j1);
    pool_json_free(&j2);
    pool_supply_builder_free(&b1);
    pool_supply_builder_free(&b2);
    cb_supply_free(&s1);
    cb_supply_free(&s2);

    /* Demand lines split at every byte. */
    free(text);
    text = slurp("derived/main_condor_q_aft_2clouds.out", &len);
    struct cb_demand d = {0};
    struct pool_demand_parser dp;
    struct pool_lines l;
    ck_assert_int_eq(pool_demand_init(&dp, &d, 2, 3, &err), 0);
    ck_assert_int_eq(pool_lines_init(&l, "condor_q", 128, pool_demand_line, &dp, &err), 0);
    for (size_t i = 0; i < len; i++)
        ck_assert_int_eq(pool_lines_feed(&l, text + i, 1, &err), 0);
    ck_assert_int_eq(pool_lines_finish(&l, &err), 0);
    pool_demand_finish(&dp);
    pool_demand_sort(&d);
    ck_assert_uint_eq(d.n, 2);
    assert_shape(&d.shapes[0], 2, 1, 64, 10240, -1, 1, 1795320227);
    assert_shape(&d.shapes[1], 1, 1, 64, 45, -1, 2, 1795320227);
    /* A line over the limit is an error, not growth. */
    char longline[200];
    memset(longline, 'x', sizeof longline);
    ck_assert_int_eq(pool_lines_feed(&l, longline, sizeof longline, &err), -1);
    ck_assert_str_eq(err.origin, "condor_q:4");
    ck_assert_int_eq(pool_lines_feed(&l, "\n", 1, &err), -1); /* refuses after a failure */
    pool_lines_free(&l);
    pool_demand_parser_free(&dp);
    cb_demand_free(&d);
    free(text);
}
END_TEST

static int parse_demand_text(const char *text, unsigned clouds, struct cb_demand *d,
                             struct pool_demand_parser *dp, struct cb_err *err)
{
    struct pool_lines l;
    ck_assert_int_eq(pool_demand_init(dp, d, clouds, 1, err), 0);
    ck_assert_int_eq(pool_lines_init(&l, "q", POOL_MAX_LINE, pool_demand_line, dp, err), 0);
    int rc = pool_lines_feed(&l, text, strlen(text), err);
    if (rc == 0)
        rc = pool_lines_finish(&l, err);
    pool_demand_finish(dp);
    pool_demand_sort(d);
    pool_lines_free(&l);
    return rc;
}

START_TEST(demand_values)
{
    struct cb_err err = CB_ERR_INIT;
    struct cb_demand d = {0};
    struct pool_demand_parser dp;
    /* undefined requests take HTCondor's defaults; reals round up; runtime hints
     * round up to 10 minutes; scheduler/grid/local universes and requests that
     * evaluate to error are skipped; so are jobs no cloud may take. */
    const char *text = "1\t0\tundefined\t2048.5\tundefined\t100\tu\t5\t3000\ttrue\tfalse\n"
                       "1\t1\t1\t2049\t0\t50\tu\t5\t2401\ttrue\tfalse\n"
                       "2\t0\t8\t16000\t1000000\tundefined\tu\t5\tundefined\tfalse\ttrue\n"
                       "3\t0\t1\t1\t1\t1\tu\t7\t1\ttrue\ttrue\n"
                       "3\t1\t1\terror\t1\t1\tu\t5\t1\ttrue\ttrue\n"
                       "3\t2\t1\t1\t1\t1\tu\t5\t1\tfalse\tundefined\n"
                       "4\t0\t4\t1e3\t5\t7\tu\t5\t-5\ttrue\ttrue\n";
    ck_assert_int_eq(parse_demand_text(text, 2, &d, &dp, &err), 0);
    ck_assert_uint_eq(dp.jobs_seen, 7);
    ck_assert_uint_eq(dp.jobs_skipped, 3);
    ck_assert_uint_eq(d.idle_jobs, 4);
    ck_assert_uint_eq(d.n, 3);
    assert_shape(&d.shapes[0], 2, 1, 2049, 0, 3000, 1, 50);
    assert_shape(&d.shapes[1], 1, 4, 1000, 5, -1, 3, 7);
    assert_shape(&d.shapes[2], 1, 8, 16000, 1000000, -1, 2, -1);
    ck_assert(!d.partial);
    pool_demand_parser_free(&dp);
    cb_demand_free(&d);

    static const struct {
        const char *line, *origin, *msg;
    } bad[] = {
        {"1\t0\t1\t1\t1\t1\tu\t5\t1\ttrue\n", "q:1", "10 of 11"},
        {"1\t0\t1\t1\t1\t1\tu\t5\t1\ttrue\ttrue\tx\n", "q:1", "more than 11"},
        {"1\t0\tone\t1\t1\t1\tu\t5\t1\ttrue\ttrue\n", "q:1", "RequestCpus is not a number: 'one'"},
        {"x\t0\t1\t1\t1\t1\tu\t5\t1\ttrue\ttrue\n", "q:1", "ClusterId is not a number"},
        {"1\t0\t1\t1\t1\t1\t\t5\t1\ttrue\ttrue\n", "q:1", "empty Owner"},
        {"1\t0\t1\t1\t1\t1\tu\t5\t1\ttrue\tyes\n", "q:1", "not a boolean: 'yes'"},
        {"1\t0\t1\t-4\t1\t1\tu\t5\t1\ttrue\ttrue\n", "q:1", "negative"},
        {"1\t0\t1\t1\t1\t1\tu\t5\t1\ttrue\ttrue\n1\t1\t1\t1\t1\t1\tu\t5\t1\ttrue\x1b[2J\ttrue\n",
         "q:2", "'true?[2J'"},
        {"1\t0\t1\t1\t1\t1\tu\t5\t1\ttrue\ttrue", "q:1", "truncated"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cb_demand d2 = {0};
        cb_err_clear(&err);
        ck_assert_int_eq(parse_demand_text(bad[i].line, 2, &d2, &dp, &err), -1);
        ck_assert_int_eq(err.code, CB_ERR_INVALID);
        ck_assert_str_eq(err.origin, bad[i].origin);
        ck_assert_msg(strstr(err.msg, bad[i].msg) != NULL, "case %zu: %s", i, err.msg);
        pool_demand_parser_free(&dp);
        cb_demand_free(&d2);
    }
}
END_TEST

START_TEST(demand_shape_limit)
{
    struct cb_err err = CB_ERR_INIT;
    struct cb_demand d = {0};
    struct pool_demand_parser dp;
    struct pool_lines l;
    char line[128];
    ck_assert_int_eq(pool_demand_init(&dp, &d, 1, 1, &err), 0);
    ck_assert_int_eq(pool_lines_init(&l, "q", POOL_MAX_LINE, pool_demand_line, &dp, &err), 0);
    for (unsigned i = 0; i < POOL_MAX_SHAPES + 10; i++) {
        int n = snprintf(line, sizeof line, "1\t%u\t1\t%u\t1\t1\tu\t5\tundefined\ttrue\n", i,
                         i + 1);
        ck_assert_int_eq(pool_lines_feed(&l, line, (size_t)n, &err), 0);
    }
    /* Known shapes still count after the cap. */
    ck_assert_int_eq(pool_lines_feed(&l, "2\t0\t1\t1\t1\t1\tu\t5\tundefined\ttrue\n", 32, &err),
                     0);
    pool_demand_finish(&dp);
    ck_assert_uint_eq(d.n, POOL_MAX_SHAPES);
    ck_assert_uint_eq(dp.jobs_dropped, 10);
    ck_assert_uint_eq(d.idle_jobs, POOL_MAX_SHAPES + 1);
    ck_assert(d.partial);
    ck_assert_ptr_nonnull(strstr(d.partial_reason, "10 idle jobs not counted"));
    pool_lines_free(&l);
    pool_demand_parser_free(&dp);
    cb_demand_free(&d);
}
END_TEST

static int totals_of(const char *rel, struct pool_totals_parser *t, struct cb_err *err)
{
    size_t len;
    char *text = slurp(rel, &len);
    struct pool_lines l;
    memset(t, 0, sizeof *t);
    ck_assert_int_eq(pool_lines_init(&l, "condor_q -totals", POOL_MAX_LINE, pool_totals_line, t,
                                     err), 0);
    int rc = pool_lines_feed(&l, text, len, err);
    if (rc == 0)
        rc = pool_lines_finish(&l, err);
    pool_lines_free(&l);
    free(text);
    return rc;
}

START_TEST(totals_recorded)
{
    struct pool_totals_parser t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(totals_of("real-pool-25.0/13_condor_q_totals.out", &t, &err), 0);
    ck_assert_uint_eq(t.idle, 3);
    ck_assert_uint_eq(t.schedds, 1);
    ck_assert_int_eq(totals_of("real-pool-25.0/01_empty_condor_q_totals.out", &t, &err), 0);
    ck_assert_uint_eq(t.idle, 0);
    ck_assert_uint_eq(t.schedds, 1);
    ck_assert_int_eq(totals_of("real-pool-25.0/70_after_restart_condor_q_totals.out", &t, &err),
                     0);
    ck_assert_uint_eq(t.idle, 1);
    ck_assert_int_eq(totals_of("real-pool-25.0/13_condor_q_totals_user.out", &t, &err), 0);
    ck_assert_uint_eq(t.schedds, 1);
    ck_assert_int_eq(totals_of("real-pool-25.0/60_pool_down_condor_q_totals.out", &t, &err), 0);
    ck_assert_uint_eq(t.schedds, 0);
}
END_TEST

static int supply_text(const char *slots, const char *startd, struct cb_supply *s,
                       struct pool_supply_builder *b, struct cb_err *err)
{
    static const char *const rt[] = {"MaxWallTime", NULL};
    struct pool_json_stream j;
    int rc;
    ck_assert_int_eq(pool_supply_init(b, s, rt, err), 0);
    ck_assert_int_eq(pool_json_init(&j, "slots", pool_supply_slot_ad, b, err), 0);
    rc = pool_json_feed(&j, slots, strlen(slots), err);
    if (rc == 0)
        rc = pool_json_finish(&j, err);
    pool_json_free(&j);
    if (rc == 0 && startd != NULL) {
        ck_assert_int_eq(pool_json_init(&j, "startd", pool_supply_startd_ad, b, err), 0);
        rc = pool_json_feed(&j, startd, strlen(startd), err);
        if (rc == 0)
            rc = pool_json_finish(&j, err);
        pool_json_free(&j);
    }
    if (rc == 0)
        pool_supply_finish(b);
    return rc;
}

START_TEST(supply_rules)
{
    struct cb_err err = CB_ERR_INIT;
    struct cb_supply s = {0};
    struct pool_supply_builder b;
    /* After condor_off -peaceful (41_*_af: Claimed/Retiring dynamic slots) with
     * runtime hints, an idle static node, an idle p-slot node and an
     * expression where a number was expected. */
    const char *slots =
        "[\n"
        "{\"Name\":\"slot1@vm\",\"Machine\":\"vm\",\"SlotType\":\"Partitionable\","
        "\"State\":\"Unclaimed\",\"Activity\":\"Idle\",\"Cpus\":0,\"TotalSlotCpus\":2,"
        "\"Memory\":23849,\"TotalSlotMemory\":24105,\"CloudburstNodeId\":\"b1-0\","
        "\"CloudName\":\"ec2-east\",\"ChildState\":[\"Claimed\",\"Claimed\"]}\n,\n"
        "{\"Name\":\"slot1_1@vm\",\"Machine\":\"vm\",\"SlotType\":\"Dynamic\","
        "\"State\":\"Claimed\",\"Activity\":\"Retiring\",\"Cpus\":1,\"JobStart\":1000,"
        "\"MaxWallTime\":600}\n,\n"
        "{\"Name\":\"slot1_2@vm\",\"Machine\":\"vm\",\"SlotType\":\"Dynamic\","
        "\"State\":\"Claimed\",\"Activity\":\"Retiring\",\"Cpus\":1,\"JobStart\":1200,"
        "\"MaxWallTime\":900}\n,\n"
        "{\"Name\":\"slot1@idle.example\",\"Machine\":\"idle.example\",\"SlotType\":\"Static\","
        "\"State\":\"Unclaimed\",\"Activity\":\"Idle\",\"Cpus\":4,\"Memory\":\"\\/Expr(4 * 1024)\\/\","
        "\"EnteredCurrentActivity\":5000,\"LastHeardFrom\":5100}\n,\n"
        "{\"Name\":\"slot1@p.example\",\"Machine\":\"p.example\",\"PartitionableSlot\":true,"
        "\"State\":\"Unclaimed\",\"Activity\":\"Idle\",\"Cpus\":8,\"TotalSlotCpus\":8,"
        "\"EnteredCurrentActivity\":100,\"NumDynamicSlotsTime\":7000,\"ChildState\":[]}\n"
        "]\n";
    const char *startd = "[\n{\"Name\":\"vm\",\"Machine\":\"vm\",\"Draining\":false},\n"
                         "{\"Name\":\"p.example\",\"Draining\":true,\"DrainReason\":"
                         "\"scale-in\\u001b[31m\"}\n]\n";
    ck_assert_msg(supply_text(slots, startd, &s, &b, &err) == 0, "%s: %s", err.origin, err.msg);
    ck_assert_uint_eq(s.n, 3);
    static const struct node_expect idle = {"idle.example", "", "", "", 4, 4, 0, 0, 0, 0, 1, 0,
                                            false, false, 5100, -1, 5000, -1};
    static const struct node_expect p = {"p.example", "", "", "", 8, 8, 0, 0, 0, 0, 1, 0, false,
                                         true, -1, -1, 7000, -1};
    static const struct node_expect vm = {"vm", "b1-0", "", "ec2-east", 2, 0, 24105, 23849, 0, 0,
                                          3, 2, true, true, -1, -1, -1, 2100};
    assert_node(&s.nodes[0], &idle);
    assert_node(&s.nodes[1], &p);
    assert_node(&s.nodes[2], &vm);
    ck_assert_str_eq(pool_supply_extra(&b, 1)->drain_reason, "scale-in?[31m");
    ck_assert_str_eq(pool_supply_extra(&b, 2)->drain_target, "slot1@vm");
    pool_supply_builder_free(&b);
    cb_supply_free(&s);

    static const struct {
        const char *text, *origin, *msg;
    } bad[] = {
        {"[\n{\"Machine\":\"vm\",\"State\":\"Claimed\",\"Cpus\":1}\n]\n", "slots:2", "without Name"},
        {"[\n{\"Name\":\"s@vm\",\"State\":\"Claimed\",\"Cpus\":\"\\/Expr(1)\\/\"}\n]\n",
         "slots:2", "literal Cpus"},
        {"[\n{\"Name\":\"s@vm\",\"State\":\"Idle\",\"Cpus\":1}\n,\n\n{\"Name\":}\n]\n",
         "slots:5", "malformed JSON"},
        {"{\"Name\":\"a\"}", "slots:1", "expected '['"},
        {"[\n{\"Name\":\"s@vm\",\"State\":\"Idle\",\"Cpus\":1}\n{", "slots:3", "expected ','"},
        {"[\n[1]\n]", "slots:2", "expected an ad"},
        {"[\n]\n]\n", "slots:3", "after the end"},
        {"[\n", "slots:2", "truncated"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cb_supply s2 = {0};
        cb_err_clear(&err);
        ck_assert_int_eq(supply_text(bad[i].text, NULL, &s2, &b, &err), -1);
        ck_assert_int_eq(err.code, CB_ERR_INVALID);
        ck_assert_msg(strcmp(err.origin, bad[i].origin) == 0, "case %zu: %s", i, err.origin);
        ck_assert_msg(strstr(err.msg, bad[i].msg) != NULL, "case %zu: %s", i, err.msg);
        pool_supply_builder_free(&b);
        cb_supply_free(&s2);
    }
}
END_TEST

/* A collector that reports ever more machines cannot grow the supply without bound. */
START_TEST(supply_node_limit)
{
    struct cb_err err = CB_ERR_INIT;
    struct cb_supply s = {0};
    struct pool_supply_builder b;
    struct pool_json_stream j;
    char ad[160];
    int rc = 0;
    ck_assert_int_eq(pool_supply_init(&b, &s, NULL, &err), 0);
    ck_assert_int_eq(pool_json_init(&j, "slots", pool_supply_slot_ad, &b, &err), 0);
    ck_assert_int_eq(pool_json_feed(&j, "[\n", 2, &err), 0);
    for (unsigned i = 0; i <= POOL_MAX_NODES && rc == 0; i++) {
        int n = snprintf(ad, sizeof ad,
                         "%s{\"Name\":\"slot1@n%u\",\"State\":\"Unclaimed\",\"Cpus\":1}\n",
                         i > 0 ? ",\n" : "", i);
        rc = pool_json_feed(&j, ad, (size_t)n, &err);
    }
    ck_assert_int_eq(rc, -1);
    ck_assert_uint_eq(s.n, POOL_MAX_NODES);
    ck_assert_msg(strstr(err.msg, "more than 100000 cloud nodes") != NULL, "%s", err.msg);
    ck_assert_str_eq(err.origin, "slots:200002");
    pool_json_free(&j);
    pool_supply_builder_free(&b);
    cb_supply_free(&s);
}
END_TEST

/* ---- the report ------------------------------------------------------ */

static char *report_text(const char *case_name, bool json)
{
    struct cb_err err = CB_ERR_INIT;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    struct cb_pool_options o = opts_2schedds();
    use_case(case_name);
    ck_assert_msg(cb_pool_report(&o, f, json, &err) == 0, "%s", err.msg);
    fclose(f);
    return buf;
}

START_TEST(report_json)
{
    char *text = report_text("schedd-down", true);
    json_object *root = json_tokener_parse(text);
    ck_assert_ptr_nonnull(root);
    json_object *dem, *sup, *v, *a, *o;
    ck_assert(json_object_object_get_ex(root, "demand", &dem));
    ck_assert(json_object_object_get_ex(root, "supply", &sup));
    ck_assert(json_object_object_get_ex(dem, "idle_jobs", &v));
    ck_assert_int_eq(json_object_get_int(v), 3);
    ck_assert(json_object_object_get_ex(dem, "partial", &v));
    ck_assert(json_object_get_boolean(v));
    ck_assert(json_object_object_get_ex(dem, "shapes", &a));
    ck_assert_uint_eq(json_object_array_length(a), 2);
    o = json_object_array_get_idx(a, 1);
    ck_assert(json_object_object_get_ex(o, "disk_kb", &v));
    ck_assert_int_eq(json_object_get_int(v), 45);
    ck_assert(json_object_object_get_ex(o, "clouds", &v));
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "openstack-t2");
    ck_assert(json_object_object_get_ex(dem, "by_cloud", &a));
    ck_assert_uint_eq(json_object_array_length(a), 2);
    o = json_object_array_get_idx(a, 0);
    ck_assert(json_object_object_get_ex(o, "cloud", &v));
    ck_assert_str_eq(json_object_get_string(v), "ec2-east");
    ck_assert(json_object_object_get_ex(o, "jobs", &v));
    ck_assert_int_eq(json_object_get_int(v), 2);
    ck_assert(json_object_object_get_ex(sup, "nodes", &a));
    ck_assert_uint_eq(json_object_array_length(a), 1);
    o = json_object_array_get_idx(a, 0);
    ck_assert(json_object_object_get_ex(o, "machine", &v));
    ck_assert_str_eq(json_object_get_string(v), "ingwe.cs.wisc.edu");
    ck_assert(json_object_object_get_ex(o, "state", &v));
    ck_assert_str_eq(json_object_get_string(v), "busy");
    ck_assert(json_object_object_get_ex(o, "idle_cpus", &v));
    ck_assert_int_eq(json_object_get_int(v), 4);
    ck_assert(json_object_object_get_ex(o, "idle_since", &v));
    ck_assert_int_eq(json_object_get_int(v), -1);
    json_object_put(root);
    free(text);
}
END_TEST

START_TEST(report_table)
{
    char *text = report_text("schedd-down", false);
    ck_assert_msg(strstr(text, "Demand: 3 idle jobs in 2 shapes\n") != NULL, "%s", text);
    ck_assert_ptr_nonnull(strstr(text, "  PARTIAL: condor_q -name schedd-b exited with status 1"));
    ck_assert_ptr_nonnull(strstr(text, "         2     1         64        10240         -   "
                                       "1795320227  ec2-east\n"));
    ck_assert_ptr_nonnull(strstr(text, "         1     1         64           45         -   "
                                       "1795320227  openstack-t2\n"));
    ck_assert_ptr_nonnull(strstr(text, "  ec2-east                        2        2          128\n"));
    ck_assert_ptr_nonnull(strstr(text, "Cloud nodes: 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "  ingwe.cs.wisc.edu                busy     -            -  "));
    ck_assert_ptr_nonnull(strstr(text, "  4/8   15428/15940      5           4           -"));
    free(text);
}
END_TEST

START_TEST(report_error)
{
    struct cb_err err = CB_ERR_INIT;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cb_pool_options o = opts_1cloud();
    use_case("pool-down");
    ck_assert_int_eq(cb_pool_report(&o, f, true, &err), -1);
    fclose(f);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(err.code, CB_ERR_TRANSIENT);
    free(buf);
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("recorded");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, cleanup_tmp);
    tcase_add_test(tc, case_main_snapshot);
    tcase_add_test(tc, case_two_schedds_two_clouds);
    tcase_add_test(tc, case_schedd_down);
    tcase_add_test(tc, case_global_fetch_failed);
    tcase_add_test(tc, case_supply_failures);
    tcase_add_test(tc, case_empty_queue);
    tcase_add_test(tc, case_pool_down);
    tcase_add_test(tc, case_draining);
    tcase_add_test(tc, case_garbled);
    tcase_add_test(tc, case_truncated_af);
    tcase_add_test(tc, case_truncated_json);
    tcase_add_test(tc, case_hung_tool);
    tcase_add_test(tc, case_totals_empty);
    tcase_add_test(tc, case_totals_idle);
    tcase_add_test(tc, case_drain);
    tcase_add_test(tc, case_drain_pool_down);
    tcase_add_test(tc, tool_missing);
    tcase_add_test(tc, async_two_pools_one_hung);
    suite_add_tcase(s, tc);
    tc = tcase_create("units");
    tcase_add_checked_fixture(tc, NULL, cleanup_tmp);
    tcase_add_test(tc, argv_exact);
    tcase_add_test(tc, options_rejected);
    tcase_add_test(tc, stream_byte_by_byte);
    tcase_add_test(tc, demand_values);
    tcase_add_test(tc, demand_shape_limit);
    tcase_add_test(tc, totals_recorded);
    tcase_add_test(tc, supply_rules);
    tcase_add_test(tc, supply_node_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("report");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, cleanup_tmp);
    tcase_add_test(tc, report_json);
    tcase_add_test(tc, report_table);
    tcase_add_test(tc, report_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pool_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
