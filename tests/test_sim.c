/* Tests of cloudburst-sim (issue 3 §3, §6): the trace parsers on the real
 * shipped traces and on malformed ones (line in the error, nothing
 * half-loaded); simulator invariants for every policy (every job runs to
 * completion exactly once, no job killed by scale-down, the oracle bounds);
 * reproducibility; the site's static workers; and an end-to-end --compare run
 * of the real program whose table and SVG are checked for structure. */
#include "sim/sim.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path_buf[4096];

static const char *src_path(const char *rel)
{
    const char *top = getenv("top_srcdir");
    snprintf(path_buf, sizeof path_buf, "%s/%s", top ? top : ".", rel);
    return path_buf;
}

static double core_hours(const struct sim_trace *t)
{
    double s = 0;
    for (size_t i = 0; i < t->n; i++)
        s += (double)t->jobs[i].runtime * t->jobs[i].cpus;
    return s / 3600;
}

/* ---- parsers on the real traces ------------------------------------------- */

START_TEST(test_lcg_real)
{
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    int rc = sim_trace_load(&t, src_path("tests/fixtures/traces/LCG-2005-1/LCG-2005-1.swf.gz"),
                            SIM_FMT_AUTO, &err);
    ck_assert_msg(rc == 0, "%s: %s", err.origin, err.msg);
    ck_assert_uint_eq(t.n + t.skipped, 188041);
    ck_assert_uint_eq(t.n, 188041);
    ck_assert_str_eq(t.name, "LCG-2005-1");
    /* the figure: 417,370 core-hours, all jobs serial */
    ck_assert_double_eq_tol(core_hours(&t), 417370, 1);
    for (size_t i = 0; i < t.n; i++) {
        ck_assert_uint_eq(t.jobs[i].cpus, 1);
        ck_assert_uint_eq(t.jobs[i].memory_mb, SIM_DEFAULT_MEM_PER_CORE);
        if (i > 0)
            ck_assert_int_le(t.jobs[i - 1].submit, t.jobs[i].submit);
    }
    ck_assert_int_eq(t.jobs[0].submit, 0);
    /* submits over 11 days */
    ck_assert_int_gt(t.jobs[t.n - 1].submit, 10 * 86400);
    ck_assert_int_lt(t.jobs[t.n - 1].submit, 12 * 86400);
    sim_trace_free(&t);
    ck_assert_ptr_null(t.jobs);
}
END_TEST

START_TEST(test_nasa_real)
{
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    int rc = sim_trace_load(&t, src_path("tests/fixtures/traces/NASA-iPSC-1993-3.1-cln/"
                                         "NASA-iPSC-1993-3.1-cln.swf.gz"),
                            SIM_FMT_AUTO, &err);
    ck_assert_msg(rc == 0, "%s: %s", err.origin, err.msg);
    ck_assert_uint_eq(t.n + t.skipped, 18239);
    uint32_t maxc = 0;
    for (size_t i = 0; i < t.n; i++)
        maxc = t.jobs[i].cpus > maxc ? t.jobs[i].cpus : maxc;
    ck_assert_uint_eq(maxc, 128);
    sim_trace_free(&t);
}
END_TEST

/* ---- parsers on small and malformed inputs --------------------------------- */

START_TEST(test_swf_good)
{
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_load(&t, src_path("tests/sim/data/good.swf"), SIM_FMT_AUTO, &err), 0);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.skipped, 1);
    ck_assert_int_eq(t.jobs[1].submit, 10);
    ck_assert_int_eq(t.jobs[1].runtime, 3600);
    ck_assert_uint_eq(t.jobs[1].cpus, 8);
    ck_assert_uint_eq(t.jobs[1].memory_mb, 8 * 1024); /* 1 GiB per processor, in KB */
    sim_trace_free(&t);
}
END_TEST

static void expect_fail(const char *rel, enum sim_trace_format fmt, const char *origin_has,
                        const char *msg_has)
{
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_load(&t, src_path(rel), fmt, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_msg(strstr(err.origin, origin_has) != NULL, "origin '%s' lacks '%s'", err.origin, origin_has);
    ck_assert_msg(strstr(err.msg, msg_has) != NULL, "message '%s' lacks '%s'", err.msg, msg_has);
    /* nothing half-loaded */
    ck_assert_uint_eq(t.n, 0);
    ck_assert_ptr_null(t.jobs);
}

START_TEST(test_malformed)
{
    expect_fail("tests/sim/data/bad-fields.swf", SIM_FMT_AUTO, "bad-fields.swf:3", "9 fields, expected 18");
    expect_fail("tests/sim/data/bad-number.swf", SIM_FMT_AUTO, "bad-number.swf:4",
                "field 4 (run time): '1x0' is not a number");
    expect_fail("tests/sim/data/bad.gwf", SIM_FMT_AUTO, "bad.gwf:3", "field 4 (run time)");
    expect_fail("tests/sim/data/bad.json", SIM_FMT_AUTO, "bad.json:3", "condor_history -json");
    expect_fail("tests/sim/data/noqdate.json", SIM_FMT_AUTO, "noqdate.json:ad 1", "QDate");
    expect_fail("tests/sim/data/bad.af", SIM_FMT_AUTO, "bad.af:2", "4 columns");
    expect_fail("tests/sim/data/README.md", SIM_FMT_AUTO, "README.md", "format");
}
END_TEST

START_TEST(test_limits_in_memory)
{
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    size_t n = SIM_TRACE_LINE_MAX + 10;
    char *line = malloc(n);
    ck_assert_ptr_nonnull(line);
    memset(line, '1', n);
    ck_assert_int_eq(sim_trace_parse(&t, SIM_FMT_SWF, line, n, "mem", &err), -1);
    ck_assert_str_eq(err.origin, "mem:1");
    ck_assert_ptr_null(t.jobs);
    free(line);
    cb_err_clear(&err);
    ck_assert_int_eq(sim_trace_parse(&t, SIM_FMT_SWF, "; only comments\n", 16, "mem", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "no usable job"));
    cb_err_clear(&err);
    static const char nul[] = "1 0 5 100 1 -1 -1 1 200 -1 1 1\0 1 -1 1 -1 -1 -1\n";
    ck_assert_int_eq(sim_trace_parse(&t, SIM_FMT_SWF, nul, sizeof nul - 1, "mem", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
}
END_TEST

START_TEST(test_other_formats)
{
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_load(&t, src_path("tests/sim/data/good.gwf"), SIM_FMT_AUTO, &err), 0);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_int_eq(t.jobs[1].submit, 60);
    ck_assert_uint_eq(t.jobs[1].cpus, 2);
    sim_trace_free(&t);
    ck_assert_int_eq(sim_trace_load(&t, src_path("tests/sim/data/good.json"), SIM_FMT_AUTO, &err), 0);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_uint_eq(t.skipped, 1);
    ck_assert_int_eq(t.jobs[0].runtime, 3600);
    ck_assert_int_eq(t.jobs[1].runtime, 7200);
    ck_assert_uint_eq(t.jobs[1].memory_mb, 16000);
    ck_assert_int_eq(t.jobs[2].runtime, 300);
    ck_assert_uint_eq(t.jobs[2].cpus, 4);
    sim_trace_free(&t);
    ck_assert_int_eq(sim_trace_load(&t, src_path("tests/sim/data/good.af"), SIM_FMT_AUTO, &err), 0);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.skipped, 1);
    ck_assert_uint_eq(t.jobs[1].cpus, 8);
    sim_trace_free(&t);
}
END_TEST

START_TEST(test_generated)
{
    static const char *const kinds[] = { "burst", "diurnal", "long", "sparse" };
    for (size_t k = 0; k < 4; k++) {
        struct sim_trace t;
        struct cb_err err = CB_ERR_INIT;
        ck_assert_int_eq(sim_trace_generate(&t, kinds[k], 7, &err), 0);
        ck_assert_uint_gt(t.n, 10);
        if (k == 0) {
            ck_assert_uint_eq(t.n, 2000);
            for (size_t i = 0; i < t.n; i++) {
                ck_assert_int_eq(t.jobs[i].submit, 0);
                ck_assert_int_ge(t.jobs[i].runtime, 1800);
                ck_assert_int_le(t.jobs[i].runtime, 3600);
            }
        }
        if (k == 2)
            for (size_t i = 0; i < t.n; i++) {
                ck_assert_uint_eq(t.jobs[i].cpus, 8);
                ck_assert_int_eq(t.jobs[i].runtime, 86400);
            }
        if (k == 3)
            for (size_t i = 1; i < t.n; i++)
                ck_assert_int_ge(t.jobs[i].submit - t.jobs[i - 1].submit, 7200);
        sim_trace_free(&t);
    }
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_generate(&t, "nope", 1, &err), -1);
}
END_TEST

/* ---- simulator invariants ----------------------------------------------------- */

static void check_invariants(const struct sim_trace *t, const struct sim_model *m)
{
    struct cb_err err = CB_ERR_INIT;
    struct sim_result o;
    ck_assert_int_eq(sim_oracle(t, m, &o, &err), 0);
    double used = core_hours(t);
    ck_assert_double_eq_tol(o.core_hours_used, used, 1e-6 * used + 1e-6);
    ck_assert_double_le(o.core_hours_fluid, o.core_hours_prov + 1e-9);
    /* the oracle's VMs never boot, idle or drain: busy plus free cores of busy VMs */
    ck_assert(o.ch_boot == 0 && o.ch_idle == 0 && o.ch_drain == 0);
    ck_assert_double_eq_tol(o.ch_busy + o.ch_partial, o.core_hours_prov,
                            1e-6 * o.core_hours_prov + 1e-6);
    for (size_t i = 0; i < sim_policy_count(); i++) {
        const struct sim_policy_ops *p = sim_policy_at(i);
        struct sim_result r;
        int rc = sim_run(t, m, p, &r, &err);
        ck_assert_msg(rc == 0, "%s: %s %s", p->name, err.origin, err.msg);
        /* conservation: every job ran to completion exactly once */
        ck_assert_msg(r.completed == t->n, "%s on %s: %zu of %zu jobs completed", p->name, t->name,
                      r.completed, t->n);
        ck_assert_uint_eq(r.job_runs, t->n);
        /* every policy here drains or removes only empty nodes */
        ck_assert_msg(r.killed == 0, "%s on %s killed %llu jobs", p->name, t->name,
                      (unsigned long long)r.killed);
        /* the used core-hours are the trace's, on cloud nodes (no static workers) */
        ck_assert_double_eq_tol(r.core_hours_used, used, 1e-6 * used + 1e-6);
        /* oracle bounds: nobody provisions less than the fluid bound or waits less than 0 */
        ck_assert_msg(r.core_hours_prov + 1e-6 >= o.core_hours_fluid, "%s below the fluid bound", p->name);
        ck_assert_double_ge(r.wait_p50, 0);
        ck_assert_double_le(r.wait_p50, r.wait_p95);
        ck_assert_double_le(r.wait_p95, r.wait_max);
        ck_assert_double_ge(r.efficiency, 0);
        ck_assert_double_le(r.efficiency, 1 + 1e-9);
        ck_assert_uint_gt(r.boots, 0);
        ck_assert_uint_gt(r.n_samples, 1);
        /* the breakdown accounts for every provisioned core-hour, once */
        double parts = r.ch_boot + r.ch_idle + r.ch_partial + r.ch_drain + r.ch_busy;
        ck_assert_msg(parts <= r.core_hours_prov * (1 + 1e-9) + 1e-6 &&
                          parts >= r.core_hours_prov * (1 - 1e-9) - 1e-6,
                      "%s on %s: breakdown %.6f != provisioned %.6f", p->name, t->name, parts,
                      r.core_hours_prov);
        ck_assert(r.ch_boot >= 0 && r.ch_idle >= 0 && r.ch_partial >= 0 && r.ch_drain >= 0);
        /* busy cores ran the trace's jobs (and runs later killed, none here) */
        ck_assert_double_eq_tol(r.ch_busy, used, 1e-6 * used + 1e-6);
        sim_result_free(&r);
    }
    sim_result_free(&o);
}

START_TEST(test_invariants_generated)
{
    struct sim_model m;
    sim_model_defaults(&m);
    static const char *const kinds[] = { "burst", "sparse", "long" };
    for (size_t k = 0; k < 3; k++) {
        struct sim_trace t;
        struct cb_err err = CB_ERR_INIT;
        ck_assert_int_eq(sim_trace_generate(&t, kinds[k], 3, &err), 0);
        check_invariants(&t, &m);
        sim_trace_free(&t);
    }
}
END_TEST

START_TEST(test_invariants_lcg_slice)
{
    struct sim_model m;
    sim_model_defaults(&m);
    /* harsher cloud: many black holes and API errors, spot preemption */
    m.clouds[0].blackhole = 0.2;
    m.clouds[0].api_error = 0.1;
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_load(&t, src_path("tests/fixtures/traces/LCG-2005-1/LCG-2005-1.swf.gz"),
                                    SIM_FMT_AUTO, &err), 0);
    ck_assert_int_eq(sim_trace_slice(&t, 4 * 3600, &err), 0);
    ck_assert_uint_gt(t.n, 1000);
    check_invariants(&t, &m);
    sim_trace_free(&t);
}
END_TEST

START_TEST(test_preemption_is_not_scale_down)
{
    struct sim_model m;
    sim_model_defaults(&m);
    m.clouds[0].spot_rate = 0.5;
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_generate(&t, "burst", 5, &err), 0);
    struct sim_result r;
    ck_assert_int_eq(sim_run(&t, &m, sim_policy_find("cloudburst"), &r, &err), 0);
    ck_assert_uint_eq(r.completed, t.n);
    ck_assert_uint_eq(r.job_runs, t.n);
    ck_assert_uint_gt(r.preempted_jobs, 0); /* the cloud took nodes away... */
    ck_assert_uint_eq(r.killed, 0);        /* ...the policy never killed a job */
    sim_result_free(&r);
    sim_trace_free(&t);
}
END_TEST

/* The research doc's black-hole scenario (50 % of VMs never join) plus a
 * flaky API and a tight quota: the real core still gets every job done,
 * kills none and stays within the quota. */
START_TEST(test_hostile_cloud)
{
    struct sim_model m;
    sim_model_defaults(&m);
    m.clouds[0].blackhole = 0.5;
    m.clouds[0].api_error = 0.3;
    m.clouds[0].quota_cores = 512;
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_generate(&t, "burst", 9, &err), 0);
    struct sim_result r;
    ck_assert_int_eq(sim_run(&t, &m, sim_policy_find("cloudburst"), &r, &err), 0);
    ck_assert_uint_eq(r.completed, t.n);
    ck_assert_uint_eq(r.killed, 0);
    ck_assert_uint_gt(r.cores_never_used, 0); /* the black holes */
    for (size_t i = 0; i < r.n_samples; i++)
        ck_assert_uint_le(r.samples[i].prov_cores, 512);
    ck_assert_double_ge(r.shrink_to_zero, 0);
    sim_result_free(&r);
    sim_trace_free(&t);
}
END_TEST

START_TEST(test_reproducible)
{
    struct sim_model m;
    sim_model_defaults(&m);
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_generate(&t, "burst", 1, &err), 0);
    struct sim_result a, b, c;
    const struct sim_policy_ops *p = sim_policy_find("cloudburst");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sim_run(&t, &m, p, &a, &err), 0);
    ck_assert_int_eq(sim_run(&t, &m, p, &b, &err), 0);
    ck_assert_double_eq(a.wait_p95, b.wait_p95);
    ck_assert_double_eq(a.core_hours_prov, b.core_hours_prov);
    ck_assert_double_eq(a.cost, b.cost);
    ck_assert_uint_eq(a.boots, b.boots);
    ck_assert_uint_eq(a.n_samples, b.n_samples);
    ck_assert_mem_eq(a.samples, b.samples, a.n_samples * sizeof *a.samples);
    m.seed = 99;
    ck_assert_int_eq(sim_run(&t, &m, p, &c, &err), 0);
    ck_assert_uint_eq(c.completed, t.n);
    sim_result_free(&a);
    sim_result_free(&b);
    sim_result_free(&c);
    sim_trace_free(&t);
}
END_TEST

START_TEST(test_static_workers_first)
{
    struct sim_model m;
    sim_model_defaults(&m);
    m.static_nodes = 2; /* 2 x 16 cores: the sparse trace's single jobs never need a cloud */
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_generate(&t, "sparse", 2, &err), 0);
    for (size_t i = 0; i < sim_policy_count(); i++) {
        struct sim_result r;
        ck_assert_int_eq(sim_run(&t, &m, sim_policy_at(i), &r, &err), 0);
        ck_assert_uint_eq(r.completed, t.n);
        ck_assert_msg(r.core_hours_used == 0, "%s: cloud used although the site had room",
                      sim_policy_at(i)->name);
        ck_assert_double_le(r.wait_max, m.negotiator_interval);
        sim_result_free(&r);
    }
    /* exclusive mode, nobody asks: the cloud is never used, jobs still run */
    m.static_nodes = 1;
    m.exclusive = true;
    m.cloud_share = 0;
    struct sim_result r;
    ck_assert_int_eq(sim_run(&t, &m, sim_policy_find("cloudburst"), &r, &err), 0);
    ck_assert_uint_eq(r.completed, t.n);
    ck_assert_uint_eq(r.boots, 0);
    ck_assert_double_eq(r.core_hours_prov, 0);
    sim_result_free(&r);
    sim_trace_free(&t);
}
END_TEST

START_TEST(test_per_hour_billing)
{
    struct sim_model m;
    sim_model_defaults(&m);
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_generate(&t, "sparse", 4, &err), 0);
    struct sim_result a, b;
    ck_assert_int_eq(sim_run(&t, &m, sim_policy_find("csv2"), &a, &err), 0);
    m.clouds[0].per_hour = true;
    ck_assert_int_eq(sim_run(&t, &m, sim_policy_find("csv2"), &b, &err), 0);
    /* the same run (csv2 ignores billing) costs more when hours are rounded up */
    ck_assert_double_eq(a.core_hours_prov, b.core_hours_prov);
    ck_assert_double_gt(b.cost, a.cost);
    sim_result_free(&a);
    sim_result_free(&b);
    sim_trace_free(&t);
}
END_TEST

/* Each baseline shows its upstream's signature on the burst: how long an idle
 * pool lingers after the queue empties (its idle/removal timeout), and
 * StarCluster's one node per stabilisation period. */
START_TEST(test_policy_signatures)
{
    static const struct { const char *name; double min_to_zero, max_to_zero; } sig[] = {
        { "cloudburst", 120, 1800 },          /* learned idle timeout within [120, 1800] */
        { "cluster-autoscaler", 600, 1200 },  /* 10 min unneeded */
        { "glideinwms", 400, 1800 },          /* 400 s after the last job */
        { "csv2", 300, 900 },                 /* keep_alive 300 s, then retire */
        { "elastiq", 3600, 4500 },            /* idle 3600 s, checked every 45 s */
        { "clues", 1800, 2400 },              /* power off after 1800 s idle */
        { "slurm", 600, 1200 },               /* SuspendTime 600 s */
        { "tardis", -1, -1 },                 /* Limiter keeps one drone */
        { "starcluster", -1, -1 },            /* min_nodes 1 */
    };
    struct sim_model m;
    sim_model_defaults(&m);
    m.clouds[0].blackhole = 0; /* keep the tail clean */
    struct sim_trace t;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_trace_generate(&t, "burst", 11, &err), 0);
    ck_assert_uint_eq(sizeof sig / sizeof sig[0], sim_policy_count());
    for (size_t i = 0; i < sizeof sig / sizeof sig[0]; i++) {
        const struct sim_policy_ops *p = sim_policy_find(sig[i].name);
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_nonnull(p->follows);
        ck_assert(p->interval > 0 || strcmp(p->name, "cloudburst") == 0);
        struct sim_result r;
        ck_assert_int_eq(sim_run(&t, &m, p, &r, &err), 0);
        if (sig[i].min_to_zero < 0)
            ck_assert_msg(r.shrink_to_zero < 0, "%s shrank to zero", p->name);
        else
            ck_assert_msg(r.shrink_to_zero >= sig[i].min_to_zero && r.shrink_to_zero <= sig[i].max_to_zero,
                          "%s: shrink to zero %.0f s not in [%.0f, %.0f]", p->name, r.shrink_to_zero,
                          sig[i].min_to_zero, sig[i].max_to_zero);
        if (strcmp(p->name, "starcluster") == 0) /* 1 node per >= 180 s */
            ck_assert_uint_le(r.boots, (uint64_t)(r.makespan / 180) + 1);
        sim_result_free(&r);
    }
    sim_trace_free(&t);
}
END_TEST

/* ---- the program, end to end ------------------------------------------------------ */

START_TEST(test_compare_end_to_end)
{
    const char *bld = getenv("top_builddir");
    char dir[] = "/tmp/cb-sim-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s/src/sim/cloudburst-sim' --compare cloudburst,csv2,starcluster --svg '%s/p.svg' "
             "gen:burst 2>/dev/null",
             bld ? bld : ".", dir);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int n = 0, rows = 0;
    bool header = false, plot = false, seen[4] = { false };
    static const char *const names[] = { "oracle", "cloudburst", "csv2", "starcluster" };
    size_t header_len = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        n++;
        if (strncmp(line, "policy ", 7) == 0) {
            header = true;
            header_len = strlen(line);
            ck_assert_ptr_nonnull(strstr(line, "wait-p95"));
            ck_assert_ptr_nonnull(strstr(line, "core-h-prov"));
            ck_assert_ptr_nonnull(strstr(line, "killed"));
            ck_assert_ptr_nonnull(strstr(line, "to-zero"));
            continue;
        }
        if (strncmp(line, "plot: ", 6) == 0) {
            plot = true;
            continue;
        }
        for (size_t k = 0; k < 4; k++) {
            size_t l = strlen(names[k]);
            if (strncmp(line, names[k], l) == 0 && line[l] == ' ') {
                seen[k] = true;
                rows++;
                ck_assert_uint_eq(strlen(line), header_len); /* aligned columns */
                /* 15 columns: policy and 14 figures */
                int cols = 0;
                for (char *save = NULL, *tok = strtok_r(line, " \n", &save); tok;
                     tok = strtok_r(NULL, " \n", &save))
                    cols++;
                ck_assert_int_eq(cols, 15);
            }
        }
    }
    int st = pclose(f);
    ck_assert_int_eq(st, 0);
    ck_assert(header);
    ck_assert(plot);
    ck_assert_int_eq(rows, 4);
    for (size_t k = 0; k < 4; k++)
        ck_assert_msg(seen[k], "no row for %s", names[k]);
    /* the SVG: well-formed enough for a browser, one panel per policy */
    char svg[4200];
    snprintf(svg, sizeof svg, "%s/p.svg", dir);
    FILE *s = fopen(svg, "r");
    ck_assert_ptr_nonnull(s);
    char *buf = calloc(1, 4 << 20);
    size_t got = fread(buf, 1, (4 << 20) - 1, s);
    fclose(s);
    ck_assert_uint_gt(got, 100);
    ck_assert_int_eq(strncmp(buf, "<?xml", 5), 0);
    ck_assert_ptr_nonnull(strstr(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert_ptr_nonnull(strstr(buf, "</svg>\n"));
    int panels = 0;
    for (char *p = buf; (p = strstr(p, "<g>")) != NULL; p += 3)
        panels++;
    ck_assert_int_eq(panels, 3); /* the oracle has no time series */
    ck_assert_ptr_nonnull(strstr(buf, ">cloudburst<"));
    free(buf);
    unlink(svg);
    /* --json parses as one object with a results array */
    snprintf(cmd, sizeof cmd, "'%s/src/sim/cloudburst-sim' --policy cloudburst --json gen:sparse",
             bld ? bld : ".");
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t tot = 0;
    char *js = calloc(1, 1 << 16);
    while ((got = fread(js + tot, 1, (1 << 16) - 1 - tot, f)) > 0)
        tot += got;
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_ptr_nonnull(strstr(js, "\"results\""));
    ck_assert_ptr_nonnull(strstr(js, "\"policy\": \"cloudburst\""));
    ck_assert_ptr_nonnull(strstr(js, "\"jobs_killed_by_scale_down\": 0"));
    free(js);
    /* --breakdown adds the table of where the core-hours went */
    snprintf(cmd, sizeof cmd,
             "'%s/src/sim/cloudburst-sim' --policy cloudburst --breakdown --set idle_timeout=900 "
             "gen:sparse 2>/dev/null",
             bld ? bld : ".");
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    bool bd_header = false, row = false;
    while (fgets(line, sizeof line, f) != NULL) {
        bd_header |= strstr(line, "booting") != NULL && strstr(line, "draining") != NULL;
        row |= bd_header && strncmp(line, "cloudburst ", 11) == 0 && strstr(line, "%") != NULL;
    }
    ck_assert_int_eq(pclose(f), 0);
    ck_assert(bd_header && row);
    /* bad usage and a malformed trace: exit 2 and 1, with the line in the message */
    snprintf(cmd, sizeof cmd, "'%s/src/sim/cloudburst-sim' --policy nosuch gen:burst 2>/dev/null",
             bld ? bld : ".");
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "'%s/src/sim/cloudburst-sim' --set nosuch=1 gen:burst 2>/dev/null",
             bld ? bld : ".");
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "'%s/src/sim/cloudburst-sim' '%s' 2>&1", bld ? bld : ".",
             src_path("tests/sim/data/bad-number.swf"));
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_int_eq(WEXITSTATUS(pclose(f)), 1);
    ck_assert_ptr_nonnull(strstr(line, "bad-number.swf:4"));
    rmdir(dir);
}
END_TEST

/* --set: cloudburst's knobs are parsed with their ranges and reach the core. */
START_TEST(test_policy_knobs)
{
    struct sim_model m;
    sim_model_defaults(&m);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(sim_model_set_knob(&m, "idle_timeout=3600", &err), 0);
    ck_assert_int_eq(sim_model_set_knob(&m, "ramp_fraction=0.25", &err), 0);
    ck_assert_int_eq(sim_model_set_knob(&m, "idle_timeout=2400", &err), 0); /* replaces */
    ck_assert_uint_eq(m.n_knobs, 2);
    static const char *const bad[] = {
        "nosuch=1", "idle_timeout", "=5", "idle_timeout=", "idle_timeout=abc",
        "idle_timeout=-1", "idle_timeout=1.5", "ramp_fraction=0", "ramp_fraction=2",
        "idle_timeout_min=1e9", "batch_prefix=x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cb_err_clear(&err);
        ck_assert_msg(sim_model_set_knob(&m, bad[i], &err) == -1, "%s accepted", bad[i]);
        ck_assert_int_eq(err.code, CB_ERR_INVALID);
        ck_assert_msg(err.msg[0] != '\0', "%s: no message", bad[i]);
    }
    ck_assert_uint_eq(m.n_knobs, 2);
    ck_assert_double_eq(m.knobs[0].value, 2400);
    /* The fixed idle timeout reaches the core: the last node waits 40 min. */
    struct sim_trace t;
    ck_assert_int_eq(sim_trace_generate(&t, "sparse", 1, &err), 0);
    struct sim_result r;
    ck_assert_int_eq(sim_run(&t, &m, sim_policy_find("cloudburst"), &r, &err), 0);
    ck_assert_double_ge(r.shrink_to_zero, 2400);
    ck_assert_double_lt(r.shrink_to_zero, 2400 + 3 * 60);
    sim_result_free(&r);
    /* ... and a bad combination is the core's configuration error, not a crash. */
    ck_assert_int_eq(sim_model_set_knob(&m, "idle_timeout_min=7200", &err), 0);
    cb_err_clear(&err);
    ck_assert_int_eq(sim_run(&t, &m, sim_policy_find("cloudburst"), &r, &err), -1);
    ck_assert_str_eq(err.origin, "idle_timeout_min");
    sim_trace_free(&t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("traces");
    tcase_add_test(tc, test_lcg_real);
    tcase_add_test(tc, test_nasa_real);
    tcase_add_test(tc, test_swf_good);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_limits_in_memory);
    tcase_add_test(tc, test_other_formats);
    tcase_add_test(tc, test_generated);
    suite_add_tcase(s, tc);
    tc = tcase_create("simulator");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_invariants_generated);
    tcase_add_test(tc, test_invariants_lcg_slice);
    tcase_add_test(tc, test_preemption_is_not_scale_down);
    tcase_add_test(tc, test_hostile_cloud);
    tcase_add_test(tc, test_reproducible);
    tcase_add_test(tc, test_static_workers_first);
    tcase_add_test(tc, test_per_hour_billing);
    tcase_add_test(tc, test_policy_signatures);
    tcase_add_test(tc, test_policy_knobs);
    tcase_add_test(tc, test_compare_end_to_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
